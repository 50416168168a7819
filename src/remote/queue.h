#pragma once

// The remote module: Prometheus remote write 1.0 from a WAL. A Queue follows the WAL that a
// wal::Storage writes (as Prometheus's WAL watcher does) and sends every sample in it to one
// endpoint, in order per series.
//
//   WAL segments ──Reader (live)──► watcher thread ──by ref % N──► shard 0..N-1 ──► HTTP POST
//                                    series records: relabel          batch, encode (protobuf,
//                                    cache; samples: route            by hand), snappy, retry
//
// Delivery guarantee: a sample leaves a shard only once the receiver accepted it (2xx) or
// rejected it for good (4xx other than a retried 429). The queue persists the WAL position up to
// which every sample record is done (the "acked position") in <state_dir>/progress after every
// batch sent (synced every progress_interval and on Stop). On start it reads the newest
// checkpoint's series and every segment from the first, and skips the samples of records before
// the acked position, so after a crash only what was in flight, or sent by a shard ahead of
// the others, is sent again (at-least-once delivery). With several shards the acked position is
// that of the last record before the oldest one some shard still holds. LowestUnackedSegment()
// tells the owner which segments may be deleted.
//
// Sent again: the receiver may hold some of those samples already, and Prometheus refuses a
// whole request for one sample older than what it has (out of order), which would drop the new
// samples in it too. So the progress file also holds the "frontier", written before each send:
// the end of the newest record any batch sent held. Samples of records between the acked
// position and the frontier found at start may have been delivered; a batch holding any of them
// that the receiver refuses for good is split in halves, each sent on its own, down to single
// samples, and only what the receiver refuses alone is dropped.
//
// Shards: a series always goes to shard ref % N, so its samples stay in order. Every
// shard_update_interval the queue recomputes the shard count from the rates of samples in and
// out, the time a send takes and the backlog (DesiredShards), within [min_shards, max_shards].
// To change it, the batches in flight finish and the queued samples are dealt out to the new
// shards in WAL order, so order per series is kept.
//
// Labels are not copied per series: the queue asks a LabelSource (the wal::Storage) for them
// when it encodes a sample, merging external labels in. Only series changed by
// write_relabel_configs, or unknown to the source, are kept by the queue (encoded).

#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "model/labels.h"
#include "model/relabel/relabel.h"
#include "net/http_client.h"
#include "storage/storage.h"
#include "wal/segment.h"

namespace starling::remote {

// Resolves series refs to labels. Implementations must be thread-safe.
class LabelSource {
 public:
  using Visitor = void (*)(void* ctx, std::string_view name, std::string_view value);
  virtual ~LabelSource() = default;
  // Calls f(ctx, name, value) for each label of `ref` in name order; false if ref is unknown.
  virtual bool Visit(storage::SeriesRef ref, Visitor f, void* ctx) const = 0;
  // The labels of many series (see storage::LabelBatchVisitor). The default visits them one
  // by one with Visit; sources that can do better override it.
  virtual void VisitBatch(std::span<const storage::SeriesRef> refs,
                          const storage::LabelBatchVisitor& v) const;
};

// An endpoint's queue_config, with Prometheus's defaults.
struct QueueConfig {
  int capacity = 10000;  // samples buffered per shard
  int max_shards = 50;
  int min_shards = 1;
  int max_samples_per_send = 2000;
  std::chrono::nanoseconds batch_send_deadline = std::chrono::seconds(5);
  std::chrono::nanoseconds min_backoff = std::chrono::milliseconds(30);
  std::chrono::nanoseconds max_backoff = std::chrono::seconds(5);
  bool retry_on_http_429 = true;
  // Samples older than this are dropped instead of sent; 0: no limit.
  std::chrono::nanoseconds sample_age_limit{0};
};

struct QueueOptions {
  // The endpoint's name (the remote_name metric label) and URL.
  std::string name;
  std::string url;
  // The component_id metric label: the id of the component that owns the queue.
  std::string component_id;
  std::chrono::nanoseconds remote_timeout = std::chrono::seconds(30);
  // Extra request headers (the protocol's own headers cannot be overridden).
  std::vector<net::Header> headers;
  std::shared_ptr<const net::ClientConfig> client_config;
  bool send_exemplars = true;

  QueueConfig queue;

  model::Labels external_labels;
  std::vector<model::relabel::Config> write_relabel_configs;

  // Internal cadences (tests shorten them).
  std::chrono::nanoseconds shard_update_interval = std::chrono::seconds(10);
  std::chrono::nanoseconds progress_interval = std::chrono::seconds(1);
  // How often the WAL is checked for new records; sends are batched for batch_send_deadline
  // anyway, so this adds little latency and saves wakeups.
  std::chrono::nanoseconds wal_poll_interval = std::chrono::milliseconds(250);
  // How long Stop lets requests in flight finish before cancelling them.
  std::chrono::nanoseconds stop_grace = std::chrono::seconds(5);
};

// What the queue is doing, for the debug panel.
struct QueueStatus {
  std::string name;
  std::string url;
  int shards = 0;
  int desired_shards = 0;
  std::int64_t pending_samples = 0;
  std::string last_error;
  wal::Position acked;
};

// Inputs of the shard count calculation, measured over the last interval.
struct ShardInputs {
  int current = 1;
  int min_shards = 1;
  int max_shards = 50;
  double samples_in_per_second = 0;    // read from the WAL
  double samples_out_per_second = 0;   // sent (accepted or rejected)
  double send_seconds_per_second = 0;  // time spent in sends, summed over shards
  double pending_samples = 0;          // queued in shards
  double blocked_fraction = 0;         // of the time, reading the WAL waited for room in shards
  int batch_size = 2000;               // max_samples_per_send
  bool recent_send_succeeded = true;   // a send succeeded within 2 x batch_send_deadline
};

// Prometheus's calculation, simplified: time per sample x (rate in + a twentieth of the
// backlog per second), kept when within 30% of the current count, clamped to [min, max]. When
// reading the WAL stalled on full shards, at least 1.5 x current; no shrinking while more than
// a batch per shard is queued. An idle queue goes to min_shards; a failing endpoint keeps the
// current count (more shards would not help).
int DesiredShards(const ShardInputs& in);

// Parses a Retry-After header value: delay-seconds or an HTTP date (relative to now). Zero for
// anything else or a time in the past.
std::chrono::nanoseconds ParseRetryAfter(std::string_view value, base::Clock::TimePoint now);

// What a queue persists of its progress.
struct Progress {
  wal::Position acked;     // every sample of the records before it is done
  wal::Position frontier;  // no sample of a record ending after it was ever sent
  friend bool operator==(const Progress&, const Progress&) = default;
};

// <dir>/progress: one line of fixed size, rewritten in place, so that a write is a single
// pwrite (cheap enough to follow every batch sent) and a crash leaves the old line or the new.
// Writes must not overlap one another; a Sync may overlap a Write once one has opened the file.
class ProgressFile {
 public:
  explicit ProgressFile(std::string dir);
  ~ProgressFile();
  ProgressFile(const ProgressFile&) = delete;
  ProgressFile& operator=(const ProgressFile&) = delete;

  // nullopt when the file does not exist. A file of the first format ("v1 <acked>") has its
  // frontier at the acked position.
  static base::Result<std::optional<Progress>> Read(const std::string& dir);
  // Overwrites the file (not synced).
  base::Status Write(const Progress& p);
  // Makes what was written durable.
  base::Status Sync();

 private:
  std::string path_;
  int fd_ = -1;
};

// One endpoint's sending. Start, Stop and the accessors are thread-safe.
class Queue {
 public:
  using LogFn = std::function<void(spdlog::level::level_enum, std::string_view)>;

  // wal_dir: the WAL to follow. state_dir: where progress is persisted (created when missing).
  // labels may be null: then the queue keeps every series' labels itself. client, metrics and
  // clock must outlive the queue.
  Queue(QueueOptions options, std::string wal_dir, std::string state_dir, const LabelSource* labels,
        net::HttpClient* client, base::MetricsRegistry* metrics,
        base::Clock* clock = &base::Clock::Real(), LogFn log = nullptr);
  ~Queue();  // Stop()s
  Queue(const Queue&) = delete;
  Queue& operator=(const Queue&) = delete;

  // Reads the persisted progress and starts the watcher and the shards.
  base::Status Start();
  // Stops sending (requests in flight are abandoned and will be sent again after a restart)
  // and persists progress. Idempotent.
  void Stop();

  // Segments below this one hold only samples that are done; the WAL may drop them.
  int LowestUnackedSegment() const;
  // The acked position as computed now.
  wal::Position AckedPosition() const;
  QueueStatus Status() const;
  const QueueOptions& options() const;

  // The newest sample timestamp appended to the WAL, for
  // prometheus_remote_storage_highest_timestamp_in_seconds. It comes from whoever appends,
  // not from the watcher, which stops reading while the shards are full: minus the highest
  // timestamp sent, it is how far behind sending is, outages included.
  void SetHighestAppended(std::int64_t timestamp_ms);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace starling::remote
