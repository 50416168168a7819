#pragma once

// wal::Storage: the sample store behind prometheus.remote_write, which is what Prometheus's
// agent-mode DB is. Appenders log series, samples and exemplars to a WAL; the remote-write queue
// reads them back from the WAL's segments and resolves series refs to labels with VisitLabels.
//
// Memory is the main design constraint (about 70 bytes per typical series): the store keeps, per
// series, only its labels as ids into a shared symbol table, the timestamp of its newest sample
// and the segment that sample was logged in. Lookups by labels go through an open-addressing
// hash index (xxhash64 of the labels), lookups by ref through ref-indexed pages. Interned
// strings are never freed while the store is open, so label values that churn without end grow
// the symbol table until the next restart.
//
// Truncation: the WAL's older segments are deleted once a checkpoint holds every series the
// remaining segments and appenders still need; series idle for long enough are forgotten then.
//
// Thread-safety: Storage is thread-safe. Appenders from NewAppender may commit concurrently,
// and VisitLabels may be called from any thread at any time. Series live in 32 stripes with a
// lock each (by hash for the index, by ref for the series), so concurrent appenders and readers
// rarely contend; logging is serialized inside the Wal.

#include <atomic>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "storage/storage.h"
#include "wal/segment.h"
#include "wal/wal.h"

namespace starling::wal {

namespace storage_internal {
class SeriesSet;
}  // namespace storage_internal

class Storage final : public storage::Appendable {
 public:
  struct Options {
    // The WAL directory (created if missing).
    std::string dir;
    std::int64_t segment_size = kDefaultSegmentSize;
    base::Clock* clock = &base::Clock::Real();
  };

  // Counters since Open, for metrics.
  struct Stats {
    std::uint64_t samples_appended = 0;
    std::uint64_t out_of_order_samples = 0;
    std::uint64_t exemplars_appended = 0;
    std::uint64_t series_removed = 0;
    std::uint64_t symbols_reclaimed = 0;  // interned label strings no series used any more
    // Damage repaired at Open: a torn tail of the last segment, or a damaged earlier segment
    // (the segments after it are dropped).
    std::uint64_t corruptions = 0;
    // Truncate's steps, attempted and failed: writing the checkpoint, deleting the segments
    // below it, deleting the older checkpoints.
    std::uint64_t checkpoint_creations = 0;
    std::uint64_t checkpoint_creations_failed = 0;
    std::uint64_t segment_truncations = 0;
    std::uint64_t segment_truncations_failed = 0;
    std::uint64_t checkpoint_deletions = 0;
    std::uint64_t checkpoint_deletions_failed = 0;
    // How long Open took to replay the checkpoint and the segments.
    double replay_seconds = 0;
    // The WAL's own counters: commits whose write failed, page writes, pages finished.
    Wal::Stats wal;
    // The newest timestamp of a committed sample; INT64_MIN before the first.
    std::int64_t highest_timestamp_ms = std::numeric_limits<std::int64_t>::min();
  };

  // Opens the WAL in options.dir, repairing a torn tail, and replays the last checkpoint and the
  // segments after it: series keep the refs they had, with their newest timestamps, and new
  // series get refs above every ref seen.
  static base::Result<std::unique_ptr<Storage>> Open(Options options);

  ~Storage() override;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  // An appender that buffers series, samples and exemplars and logs them on Commit in one
  // Wal::Log call (a series record, then samples, then exemplars). Samples older than their
  // series' newest sample are dropped and counted (Stats::out_of_order_samples); Append still
  // returns the ref. Append with a ref this store does not know (a series forgotten by
  // Truncate) falls back to the labels, and fails with kNotFound if they are empty. Labels with
  // empty values are dropped, as Prometheus does. Exemplars without a timestamp get the clock's
  // time. An appender must not outlive the store.
  std::unique_ptr<storage::Appender> NewAppender() override;

  // Calls f(name, value) for each label of series `ref` in order; false if ref is unknown. The
  // views are valid during the call only. f must not call back into this Storage.
  bool VisitLabels(storage::SeriesRef ref,
                   const std::function<void(std::string_view, std::string_view)>& f) const;
  // The same without the std::function.
  template <typename F>
  bool ForEachLabel(storage::SeriesRef ref, F&& f) const {
    return VisitLabelsImpl(
        ref,
        [](void* ctx, std::string_view name, std::string_view value) {
          (*static_cast<std::remove_reference_t<F>*>(ctx))(name, value);
        },
        &f);
  }

  // The labels of many series at once (see storage::LabelBatchVisitor): cheaper per series than
  // VisitLabels, as each lock is taken once per batch. The callbacks must not call back into
  // this Storage.
  void VisitLabelsBatch(std::span<const storage::SeriesRef> refs,
                        const storage::LabelBatchVisitor& v) const;

  // Where the next record goes; its segment is the one being written.
  Position End() const;
  std::string wal_dir() const;

  // Called periodically: finishes the current segment if it is at or below keep_from (so that
  // it can be deleted later), writes checkpoint keep_from-1 with every series that survives,
  // deletes the segments below keep_from and the older checkpoints, and forgets the series whose
  // newest sample is in a deleted segment and older than series_min_time_ms. Series with
  // samples in kept segments, or in an uncommitted appender, are never forgotten. A keep_from
  // beyond the segment being written is lowered to it. Calls are serialized.
  base::Status Truncate(int keep_from, std::int64_t series_min_time_ms);

  // The first segment whose newest sample is at or after min_time_ms (segments without samples
  // do not count); the segment being written if there is none.
  int OldestSegmentAfter(std::int64_t min_time_ms) const;

  std::size_t NumSeries() const;
  Stats stats() const;
  // Times the WAL's fsyncs from now on; see Wal::SetFsyncObserver.
  void SetFsyncObserver(std::function<void(double)> observer);

  // Closes the WAL; later appends fail. Also done by the destructor.
  base::Status Close();

 private:
  class AppenderImpl;
  friend class AppenderImpl;

  explicit Storage(Options options);
  base::Status Replay();
  bool VisitLabelsImpl(storage::SeriesRef ref, void (*f)(void*, std::string_view, std::string_view),
                       void* ctx) const;
  // Records that one of the segments [from, to] holds a sample with timestamp t.
  void NoteSegmentTime(int from, int to, std::int64_t t);

  const Options options_;
  std::unique_ptr<Wal> wal_;
  std::unique_ptr<storage_internal::SeriesSet> series_;

  mutable std::mutex segments_mu_;
  // Newest sample timestamp per segment, from first_tracked_segment_ on.
  std::vector<std::int64_t> segment_max_time_;  // GUARDED_BY(segments_mu_)
  int first_tracked_segment_ = 0;               // GUARDED_BY(segments_mu_)

  std::mutex truncate_mu_;  // Serializes Truncate.
  // Held around each Commit's Log so that the segments before and after it bound where its
  // records went.
  std::mutex log_mu_;
  std::atomic<bool> closed_{false};

  std::atomic<std::uint64_t> samples_appended_{0};
  std::atomic<std::uint64_t> out_of_order_samples_{0};
  std::atomic<std::uint64_t> exemplars_appended_{0};
  std::atomic<std::uint64_t> series_removed_{0};
  std::atomic<std::uint64_t> symbols_reclaimed_{0};
  // Set by Open only.
  std::uint64_t corruptions_ = 0;
  double replay_seconds_ = 0;
  // Written under truncate_mu_.
  std::atomic<std::uint64_t> checkpoint_creations_{0};
  std::atomic<std::uint64_t> checkpoint_creations_failed_{0};
  std::atomic<std::uint64_t> segment_truncations_{0};
  std::atomic<std::uint64_t> segment_truncations_failed_{0};
  std::atomic<std::uint64_t> checkpoint_deletions_{0};
  std::atomic<std::uint64_t> checkpoint_deletions_failed_{0};
  std::atomic<std::int64_t> highest_timestamp_ms_{std::numeric_limits<std::int64_t>::min()};
};

}  // namespace starling::wal
