#include "remote/queue.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <shared_mutex>
#include <sstream>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/owned_series.h"
#include "base/thread.h"
#include "remote/encoder.h"
#include "wal/checkpoint.h"
#include "wal/reader.h"
#include "wal/record.h"

#ifndef STARLING_VERSION
#define STARLING_VERSION "dev"
#endif

namespace starling::remote {

void LabelSource::VisitBatch(std::span<const storage::SeriesRef> refs,
                             const storage::LabelBatchVisitor& v) const {
  for (std::size_t i = 0; i < refs.size(); ++i) {
    v.begin(v.ctx, i);
    v.end(v.ctx, i, Visit(refs[i], v.label, v.ctx));
  }
}
namespace {

using Steady = std::chrono::steady_clock;
using std::chrono::nanoseconds;

constexpr char kProgressFile[] = "progress";
constexpr std::uint64_t kNoSeq = std::numeric_limits<std::uint64_t>::max();
// Error bodies are cut to this many bytes in messages, as Prometheus does.
constexpr std::size_t kMaxErrorBody = 1024;

bool Before(const wal::Position& a, const wal::Position& b) {
  return a.segment != b.segment ? a.segment < b.segment : a.offset < b.offset;
}

// A queued sample. seq: the WAL record it came from (see Impl::AckedPosition).
struct Entry {
  storage::SeriesRef ref;
  std::int64_t t;
  double v;
  std::uint64_t seq;
};

struct ExemplarEntry {
  storage::SeriesRef ref = 0;
  std::int64_t t = 0;
  double v = 0;
  std::uint64_t seq = 0;
  std::string labels;  // encoded with AppendEncodedLabel
};

// A FIFO of entries that grows (by doubling) up to a bound, so idle shards stay small.
class Ring {
 public:
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Entry& operator[](std::size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }
  void Push(const Entry& e) {
    if (size_ == buf_.size()) Grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = e;
    ++size_;
  }
  void Pop(std::size_t n) {
    head_ = (head_ + n) & (buf_.size() - 1);
    size_ -= n;
    if (size_ == 0) head_ = 0;
  }

 private:
  void Grow() {
    std::vector<Entry> next(std::max<std::size_t>(64, buf_.size() * 2));
    for (std::size_t i = 0; i < size_; ++i) next[i] = (*this)[i];
    buf_ = std::move(next);
    head_ = 0;
  }
  std::vector<Entry> buf_;  // size is a power of two
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

// The self metrics of one queue: Prometheus's names, with the Agent's labels component_id,
// remote_name and url (so that the queues of two components writing to one URL stay apart).
// They leave the registry with the queue, as Prometheus unregisters a stopped queue's metrics.
struct QueueMetrics {
  QueueMetrics(base::MetricsRegistry& r, const QueueOptions& o)
      : series(r),
        values{o.component_id, o.name, o.url},
        samples(Counter("prometheus_remote_storage_samples_total",
                        "Total number of samples sent to remote storage.")),
        failed(Counter("prometheus_remote_storage_samples_failed_total",
                       "Total number of samples which failed on send to remote storage, "
                       "non-recoverable errors.")),
        retried(Counter("prometheus_remote_storage_samples_retried_total",
                        "Total number of samples which failed on send to remote storage but were "
                        "retried because the send error was recoverable.")),
        dropped(Counter("prometheus_remote_storage_samples_dropped_total",
                        "Total number of samples which were dropped after being read from the "
                        "WAL before being sent via remote write, either via relabelling, due to "
                        "being too old or unintentionally because of an unknown reference ID.")),
        exemplars(Counter("prometheus_remote_storage_exemplars_total",
                          "Total number of exemplars sent to remote storage.")),
        exemplars_failed(Counter("prometheus_remote_storage_exemplars_failed_total",
                                 "Total number of exemplars which failed on send to remote "
                                 "storage, non-recoverable errors.")),
        exemplars_retried(Counter("prometheus_remote_storage_exemplars_retried_total",
                                  "Total number of exemplars which failed on send to remote "
                                  "storage but were retried because the send error was "
                                  "recoverable.")),
        exemplars_dropped(Counter(
            "prometheus_remote_storage_exemplars_dropped_total",
            "Total number of exemplars which were dropped after being read from the WAL before "
            "being sent via remote write, either via relabelling, due to being too old or "
            "unintentionally because of an unknown reference ID.")),
        bytes(Counter("prometheus_remote_storage_bytes_total",
                      "The total number of bytes of data (not metadata) sent by the queue after "
                      "compression.")),
        // Metadata is not sent yet; the series is there at 0 for queries that add it to bytes.
        metadata_bytes(Counter("prometheus_remote_storage_metadata_bytes_total",
                               "The total number of bytes of metadata sent by the queue after "
                               "compression.")),
        // Prometheus's buckets: client_golang's defaults and four for slow receivers.
        batch_duration(series.AddHistogram(
            "prometheus_remote_storage_sent_batch_duration_seconds",
            "Duration of send calls to the remote storage.", LabelNames(),
            {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60, 120, 300}, values)),
        pending(Gauge("prometheus_remote_storage_samples_pending",
                      "The number of samples pending in the queues shards to be sent to the "
                      "remote storage.")),
        exemplars_pending(Gauge("prometheus_remote_storage_exemplars_pending",
                                "The number of exemplars pending in the queues shards to be sent "
                                "to the remote storage.")),
        max_samples_per_send(Gauge("prometheus_remote_storage_max_samples_per_send",
                                   "The maximum number of samples to be sent, in a single "
                                   "request, to the remote storage. Note that, when sending of "
                                   "exemplars over remote write is enabled, exemplars count "
                                   "towards this limt.")),
        shard_capacity(Gauge("prometheus_remote_storage_shard_capacity",
                             "The capacity of each shard of the queue used for parallel sending "
                             "to the remote storage.")),
        shards(Gauge("prometheus_remote_storage_shards",
                     "The number of shards used for parallel sending to the remote storage.")),
        shards_desired(Gauge("prometheus_remote_storage_shards_desired",
                             "The number of shards that the queues shard calculation wants to "
                             "run based on the rate of samples in vs. samples out.")),
        shards_max(Gauge("prometheus_remote_storage_shards_max",
                         "The maximum number of shards that the queue is allowed to run.")),
        shards_min(Gauge("prometheus_remote_storage_shards_min",
                         "The minimum number of shards that the queue is allowed to run.")),
        highest_timestamp(Gauge("prometheus_remote_storage_highest_timestamp_in_seconds",
                                "Highest timestamp that has come into the remote storage via the "
                                "Appender interface, in seconds since epoch.")),
        highest_sent(Gauge("prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
                           "Timestamp from a WAL sample, the highest timestamp successfully sent "
                           "by this queue, in seconds since epoch.")),
        enqueue_retries(Counter("prometheus_remote_storage_enqueue_retries_total",
                                "Total number of times enqueue has failed because a shards queue "
                                "was full.")),
        watcher_values{o.component_id, o.name},
        records_read{RecordsRead("series"), RecordsRead("samples"), RecordsRead("tombstones"),
                     RecordsRead("exemplars"), RecordsRead("unknown")},
        decode_failures(series.AddCounter("prometheus_wal_watcher_record_decode_failures_total",
                                          "Number of records read by the WAL watcher that "
                                          "resulted in an error when decoding.",
                                          WatcherLabelNames(), watcher_values)),
        current_segment(series.AddGauge("prometheus_wal_watcher_current_segment",
                                        "Current segment the WAL watcher is reading records "
                                        "from.",
                                        WatcherLabelNames(), watcher_values)) {}

  static std::vector<std::string> LabelNames() { return {"component_id", "remote_name", "url"}; }
  base::Counter& Counter(const char* name, const char* help) {
    return series.AddCounter(name, help, LabelNames(), values);
  }
  base::Gauge& Gauge(const char* name, const char* help) {
    return series.AddGauge(name, help, LabelNames(), values);
  }
  // The WAL watcher's series are labelled by consumer (the queue's remote_name), as in
  // Prometheus.
  static std::vector<std::string> WatcherLabelNames() { return {"component_id", "consumer"}; }
  base::Counter* RecordsRead(const char* type) {
    std::vector<std::string> v = watcher_values;
    v.emplace_back(type);
    return &series.AddCounter("prometheus_wal_watcher_records_read_total",
                              "Number of records read by the WAL watcher from the WAL.",
                              {"component_id", "consumer", "type"}, std::move(v));
  }
  // A record read from the WAL or its checkpoint, by type.
  void RecordRead(wal::record::Type type) {
    switch (type) {
      case wal::record::Type::kSeries:
        records_read[0]->Inc();
        return;
      case wal::record::Type::kSamples:
        records_read[1]->Inc();
        return;
      case wal::record::Type::kTombstones:
        records_read[2]->Inc();
        return;
      case wal::record::Type::kExemplars:
        records_read[3]->Inc();
        return;
      case wal::record::Type::kUnknown:
        break;
    }
    records_read[4]->Inc();
  }

  base::OwnedSeries series;  // first: the references below point into what it registers
  const std::vector<std::string> values;
  base::Counter& samples;
  base::Counter& failed;
  base::Counter& retried;
  base::Counter& dropped;
  base::Counter& exemplars;
  base::Counter& exemplars_failed;
  base::Counter& exemplars_retried;
  base::Counter& exemplars_dropped;
  base::Counter& bytes;
  base::Counter& metadata_bytes;
  base::Histogram& batch_duration;
  base::Gauge& pending;
  base::Gauge& exemplars_pending;
  base::Gauge& max_samples_per_send;
  base::Gauge& shard_capacity;
  base::Gauge& shards;
  base::Gauge& shards_desired;
  base::Gauge& shards_max;
  base::Gauge& shards_min;
  base::Gauge& highest_timestamp;
  base::Gauge& highest_sent;
  base::Counter& enqueue_retries;
  const std::vector<std::string> watcher_values;
  base::Counter* const records_read[5];  // series, samples, tombstones, exemplars, unknown
  base::Counter& decode_failures;
  base::Gauge& current_segment;
};

// How a series' labels are sent when the label source cannot be used as is.
struct Override {
  bool dropped = false;
  std::string labels;  // encoded with AppendEncodedLabel (external labels and relabeling applied)
};

void NoopVisitor(void* /*ctx*/, std::string_view /*name*/, std::string_view /*value*/) {}

}  // namespace

// ---------------------------------------------------------------------------------------------

int DesiredShards(const ShardInputs& in) {
  const int lo = std::max(1, in.min_shards);
  const int hi = std::max(lo, in.max_shards);
  const int current = std::clamp(in.current, lo, hi);
  if (in.samples_in_per_second <= 0 && in.pending_samples <= 0) return lo;
  if (!in.recent_send_succeeded || in.samples_out_per_second <= 0) return current;
  const double time_per_sample = in.send_seconds_per_second / in.samples_out_per_second;
  double desired = time_per_sample * (in.samples_in_per_second + 0.05 * in.pending_samples);
  // Reading from the WAL stalled on full shards: the rate in understates the work waiting.
  if (in.blocked_fraction > 0.1) desired = std::max(desired, current * 1.5);
  // More than a batch per shard queued: sending is the bottleneck, do not shrink.
  if (desired < current && in.pending_samples > static_cast<double>(current) * in.batch_size) {
    return current;
  }
  constexpr double kTolerance = 0.3;
  if (desired >= current * (1 - kTolerance) && desired <= current * (1 + kTolerance)) {
    return current;
  }
  const double n = std::ceil(desired);
  if (n >= hi) return hi;
  return std::clamp(static_cast<int>(n), lo, hi);
}

std::chrono::nanoseconds ParseRetryAfter(std::string_view value, base::Clock::TimePoint now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return nanoseconds::zero();
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::chrono::hours(24 * 365);  // absurdly long: cap it
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  // An HTTP date: "Sun, 06 Nov 1994 08:49:37 GMT".
  std::tm tm{};
  const std::string s(value);
  const char* end = ::strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return nanoseconds::zero();
  const std::time_t at = ::timegm(&tm);
  const auto when = std::chrono::system_clock::from_time_t(at);
  const auto delta = std::chrono::duration_cast<nanoseconds>(when - now);
  return delta > nanoseconds::zero() ? delta : nanoseconds::zero();
}

ProgressFile::ProgressFile(std::string dir) : path_(std::move(dir) + "/" + kProgressFile) {}

ProgressFile::~ProgressFile() {
  if (fd_ >= 0) ::close(fd_);
}

base::Result<std::optional<Progress>> ProgressFile::Read(const std::string& dir) {
  const std::string path = dir + "/" + kProgressFile;
  std::ifstream in(path);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<Progress>();
    return base::Status::Internal("cannot read " + path);
  }
  Progress p;
  std::string magic;
  bool ok = static_cast<bool>(in >> magic >> p.acked.segment >> p.acked.offset);
  if (ok && magic == "v2") {
    ok = static_cast<bool>(in >> p.frontier.segment >> p.frontier.offset);
  } else if (ok && magic == "v1") {
    p.frontier = p.acked;
  } else {
    ok = false;
  }
  if (!ok || p.acked.segment < 0 || p.acked.offset < 0 || p.frontier.segment < 0 ||
      p.frontier.offset < 0) {
    return base::Status::DataLoss("malformed progress file " + path);
  }
  return std::optional<Progress>(p);
}

base::Status ProgressFile::Write(const Progress& p) {
  // Padded to a fixed size, so that a line never leaves the tail of a longer one behind.
  constexpr std::size_t kLine = 96;
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return base::Status::Internal("cannot open " + path_);
    if (::ftruncate(fd_, kLine) != 0) return base::Status::Internal("cannot resize " + path_);
  }
  std::string line = "v2 " + std::to_string(p.acked.segment) + " " +
                     std::to_string(p.acked.offset) + " " + std::to_string(p.frontier.segment) +
                     " " + std::to_string(p.frontier.offset);
  line.resize(kLine - 1, ' ');
  line += '\n';
  if (::pwrite(fd_, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size())) {
    return base::Status::Internal("cannot write " + path_);
  }
  return base::Status::Ok();
}

base::Status ProgressFile::Sync() {
  if (fd_ >= 0 && ::fdatasync(fd_) != 0) return base::Status::Internal("cannot sync " + path_);
  return base::Status::Ok();
}

// ---------------------------------------------------------------------------------------------

class Queue::Impl {
 public:
  Impl(QueueOptions options, std::string wal_dir, std::string state_dir, const LabelSource* labels,
       net::HttpClient* client, base::MetricsRegistry* metrics, base::Clock* clock, LogFn log)
      : opts_(std::move(options)),
        wal_dir_(std::move(wal_dir)),
        state_dir_(std::move(state_dir)),
        labels_(labels),
        client_(client),
        clock_(clock),
        log_(std::move(log)),
        metrics_(*metrics, opts_) {
    opts_.queue.min_shards = std::max(1, opts_.queue.min_shards);
    opts_.queue.max_shards = std::max(opts_.queue.min_shards, opts_.queue.max_shards);
    opts_.queue.max_samples_per_send = std::max(1, opts_.queue.max_samples_per_send);
    opts_.queue.capacity = std::max(opts_.queue.capacity, opts_.queue.max_samples_per_send);
    ext_.assign(opts_.external_labels.begin(), opts_.external_labels.end());
    headers_ = {{"Content-Encoding", "snappy"},
                {"Content-Type", "application/x-protobuf"},
                {"User-Agent", std::string("Starling/") + STARLING_VERSION},
                {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
    for (const net::Header& h : opts_.headers) {
      bool reserved = false;
      for (const net::Header& own : headers_) {
        reserved = reserved || strcasecmp(own.name.c_str(), h.name.c_str()) == 0;
      }
      if (!reserved) headers_.push_back(h);
    }
  }

  ~Impl() { Stop(); }

  base::Status Start() {
    std::lock_guard lock(lifecycle_mu_);
    if (started_) return base::Status::FailedPrecondition("queue already started");
    std::error_code ec;
    std::filesystem::create_directories(state_dir_, ec);
    if (ec) return base::Status::Internal("cannot create " + state_dir_ + ": " + ec.message());
    base::Result<std::optional<Progress>> read = ProgressFile::Read(state_dir_);
    std::optional<Progress> progress;
    if (read.ok()) {
      progress = *read;
    } else {
      // Sending everything again is better than skipping what was never sent.
      Log(spdlog::level::warn, read.error().message() + ", sending the whole WAL");
    }
    if (progress) {
      // Progress beyond the end of the WAL belongs to a WAL that is gone: start over rather
      // than skip what the new one holds.
      base::Result<wal::SegmentRange> segs = wal::Segments(wal_dir_);
      std::error_code size_ec;
      const auto size =
          std::filesystem::file_size(wal::SegmentPath(wal_dir_, progress->acked.segment), size_ec);
      const bool beyond = !segs.ok() || segs->last < progress->acked.segment ||
                          (!size_ec && static_cast<std::int64_t>(size) < progress->acked.offset);
      if (beyond) {
        Log(spdlog::level::warn, "progress file points beyond the WAL, ignoring it");
      } else {
        start_acked_ = progress->acked;
        start_frontier_ = progress->frontier;
      }
    }
    {
      std::lock_guard plock(progress_mu_);
      persisted_ = Progress{start_acked_, start_frontier_};
      frontier_ = start_frontier_;
    }
    {
      std::lock_guard alock(ack_mu_);
      acked_base_ = start_acked_;
      watcher_pos_ = start_acked_;
    }
    metrics_.shards_max.Set(opts_.queue.max_shards);
    metrics_.shards_min.Set(opts_.queue.min_shards);
    metrics_.max_samples_per_send.Set(opts_.queue.max_samples_per_send);
    metrics_.shard_capacity.Set(opts_.queue.capacity);
    StartShards(opts_.queue.min_shards);
    desired_shards_ = opts_.queue.min_shards;
    metrics_.shards_desired.Set(opts_.queue.min_shards);
    started_ = true;
    watcher_ = std::jthread([this](const std::stop_token& st) {
      base::SetThreadName("rw-watcher");
      WatchLoop(st);
    });
    return base::Status::Ok();
  }

  void Stop() {
    std::lock_guard lock(lifecycle_mu_);
    if (!started_ || stopped_) return;
    stopped_ = true;
    if (watcher_.joinable()) {
      watcher_.request_stop();
      watcher_.join();
    }
    // Stop the shards but keep their entries until progress is persisted: abandoned entries
    // are unacked and will be read from the WAL again after a restart. Requests in flight get
    // stop_grace to finish, all shards' at once.
    {
      std::shared_lock slock(shards_mu_);
      for (auto& s : shards_) s->RequestStop();
      const Steady::time_point deadline = Steady::now() + opts_.stop_grace;
      for (auto& s : shards_) s->WaitStopped(deadline);
      for (auto& s : shards_) s->Stop();
    }
    PersistProgress(true);
    StopShards();
  }

  int LowestUnackedSegment() const { return AckedPosition().segment; }

  wal::Position AckedPosition() const {
    std::uint64_t busy = 0;
    std::uint64_t last_done = 0;
    wal::Position watcher_pos;
    {
      std::lock_guard lock(ack_mu_);
      busy = busy_seq_;
      last_done = last_done_seq_;
      watcher_pos = watcher_pos_;
    }
    std::uint64_t low = busy != 0 ? busy : kNoSeq;
    {
      std::shared_lock slock(shards_mu_);
      for (const auto& s : shards_) low = std::min(low, s->HeadSeq());
    }
    std::lock_guard lock(ack_mu_);
    if (low > last_done) {
      // Every record handled so far is done.
      while (!records_.empty() && records_.front().first <= last_done) records_.pop_front();
      if (Before(acked_base_, watcher_pos)) acked_base_ = watcher_pos;
      return acked_base_;
    }
    while (!records_.empty() && records_.front().first < low) {
      acked_base_ = records_.front().second;
      records_.pop_front();
    }
    return acked_base_;
  }

  QueueStatus Status() const {
    QueueStatus st;
    st.name = opts_.name;
    st.url = opts_.url;
    {
      std::shared_lock slock(shards_mu_);
      st.shards = static_cast<int>(shards_.size());
      for (const auto& s : shards_) st.pending_samples += static_cast<std::int64_t>(s->Size());
    }
    st.desired_shards = desired_shards_.load();
    {
      std::lock_guard lock(error_mu_);
      st.last_error = last_error_;
    }
    st.acked = AckedPosition();
    return st;
  }

  const QueueOptions& options() const { return opts_; }
  void SetHighestAppended(std::int64_t timestamp_ms) {
    metrics_.highest_timestamp.Set(static_cast<double>(timestamp_ms) / 1000);
  }

 private:
  // One shard: a FIFO of samples and exemplars and the thread that sends them in batches.
  // Entries leave the FIFO only once their batch is done, so HeadSeq() bounds what is unacked.
  // Writes a series' labels into an encoder with the external labels merged in, in name
  // order; the series' own label wins over an external label of the same name.
  struct LabelMerger {
    WriteRequestEncoder* enc;
    const std::vector<model::Label>* ext;
    std::size_t next;  // the first external label not written yet

    static void Add(void* p, std::string_view name, std::string_view value) {
      auto* m = static_cast<LabelMerger*>(p);
      const auto& ext = *m->ext;
      while (m->next < ext.size() && std::string_view(ext[m->next].first) < name) {
        m->enc->AddLabel(ext[m->next].first, ext[m->next].second);
        ++m->next;
      }
      if (m->next < ext.size() && ext[m->next].first == name) ++m->next;
      m->enc->AddLabel(name, value);
    }
    void Finish() {
      for (; next < ext->size(); ++next) enc->AddLabel((*ext)[next].first, (*ext)[next].second);
    }
  };
  class Shard {
   public:
    explicit Shard(Impl* q) : q_(q) {}
    ~Shard() { Stop(); }
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    void Start() {
      thread_ = std::jthread([this](const std::stop_token& st) {
        base::SetThreadName("rw-shard");
        Run(st);
        {
          std::lock_guard lock(exit_mu_);
          exited_ = true;
        }
        exit_cv_.notify_all();
      });
    }
    // Stops starting sends and retries, but lets a request in flight finish: cancelled, its
    // samples would be unacked and sent again after a restart, though the receiver has them.
    void RequestStop() { thread_.request_stop(); }
    // Waits until the thread has ended or the deadline passed; then Stop joins it at once.
    void WaitStopped(Steady::time_point deadline) {
      if (!thread_.joinable()) return;
      std::unique_lock lock(exit_mu_);
      exit_cv_.wait_until(lock, deadline, [&] { return exited_; });
    }
    // Stops at once, cancelling a request in flight.
    void Stop() {
      if (thread_.joinable()) {
        thread_.request_stop();
        http_stop_.request_stop();
        thread_.join();
      }
    }

    std::uint64_t HeadSeq() const {
      std::lock_guard lock(mu_);
      std::uint64_t s = samples_.empty() ? kNoSeq : samples_[0].seq;
      if (!exemplars_.empty()) s = std::min(s, exemplars_.front().seq);
      return s;
    }
    std::size_t Size() const {
      std::lock_guard lock(mu_);
      return samples_.size() + exemplars_.size();
    }
    std::pair<std::size_t, std::size_t> SamplesAndExemplars() const {
      std::lock_guard lock(mu_);
      return {samples_.size(), exemplars_.size()};
    }

    // Appends entries, waiting for room; false when stopped first. Called by the watcher only.
    // Time spent waiting for room is added to *blocked. The batch being sent does not count
    // against the capacity (as in Prometheus): with capacity = max_samples_per_send the watcher
    // would otherwise stall for every send, and the stalls would drive the shard count up.
    bool Push(const std::vector<Entry>& entries, const std::stop_token& stop,
              nanoseconds* blocked) {
      std::size_t i = 0;
      const std::size_t cap = static_cast<std::size_t>(q_->opts_.queue.capacity);
      const std::size_t batch = static_cast<std::size_t>(q_->opts_.queue.max_samples_per_send);
      // The shard is notified once the lock is released, so that it does not wake only to
      // block on mu_; but before waiting for room, which only the shard can make.
      bool notify = false;
      std::unique_lock lock(mu_);
      while (i < entries.size()) {
        if (Queued() >= cap) {
          if (notify) cv_.notify_all();
          notify = false;
          q_->metrics_.enqueue_retries.Inc();
          const Steady::time_point t0 = Steady::now();
          if (!space_cv_.wait(lock, stop, [&] { return Queued() < cap; })) return false;
          *blocked += Steady::now() - t0;
        }
        const bool was_empty = samples_.empty() && exemplars_.empty();
        if (was_empty) batch_start_ = Steady::now();
        const std::size_t before = samples_.size();
        while (i < entries.size() && Queued() < cap) samples_.Push(entries[i++]);
        notify = notify || was_empty || (before < batch && samples_.size() >= batch);
      }
      lock.unlock();
      if (notify) cv_.notify_all();
      return true;
    }
    bool PushExemplar(ExemplarEntry e, const std::stop_token& stop) {
      const std::size_t cap = static_cast<std::size_t>(q_->opts_.queue.capacity);
      std::unique_lock lock(mu_);
      if (!space_cv_.wait(lock, stop, [&] { return exemplars_.size() < cap; })) return false;
      if (samples_.empty() && exemplars_.empty()) batch_start_ = Steady::now();
      exemplars_.push_back(std::move(e));
      cv_.notify_all();
      return true;
    }

    // Lets the batch being sent finish and starts no other; false when stopped first.
    bool Pause(const std::stop_token& stop) {
      std::unique_lock lock(mu_);
      paused_ = true;
      cv_.notify_all();
      return space_cv_.wait(lock, stop, [&] { return !sending_; });
    }
    // Moves the queued entries out (of a paused shard), oldest first.
    void TakeAll(std::vector<Entry>* samples, std::vector<ExemplarEntry>* exemplars) {
      std::lock_guard lock(mu_);
      for (std::size_t i = 0; i < samples_.size(); ++i) samples->push_back(samples_[i]);
      samples_.Pop(samples_.size());
      for (ExemplarEntry& e : exemplars_) exemplars->push_back(std::move(e));
      exemplars_.clear();
    }
    // Adds entries taken from other shards, ignoring the capacity (a shard count going down
    // may concentrate more than one shard holds). Before Start only.
    void Adopt(const Entry& e) {
      std::lock_guard lock(mu_);
      if (samples_.empty() && exemplars_.empty()) batch_start_ = Steady::now();
      samples_.Push(e);
    }
    void Adopt(ExemplarEntry e) {
      std::lock_guard lock(mu_);
      if (samples_.empty() && exemplars_.empty()) batch_start_ = Steady::now();
      exemplars_.push_back(std::move(e));
    }

   private:
    // Encodes kept_[i] when the label source visits refs_[i].
    struct BatchEncoder {
      Shard* shard;
      LabelMerger merger;
      std::size_t* samples;
      std::size_t* dropped;
      std::int64_t* highest;

      storage::LabelBatchVisitor Visitor() { return {this, &Begin, &Label, &End}; }
      static void Begin(void* p, std::size_t) {
        auto* b = static_cast<BatchEncoder*>(p);
        b->shard->enc_.BeginSeries();
        b->merger.next = 0;
      }
      static void Label(void* p, std::string_view name, std::string_view value) {
        LabelMerger::Add(&static_cast<BatchEncoder*>(p)->merger, name, value);
      }
      static void End(void* p, std::size_t i, bool found) {
        auto* b = static_cast<BatchEncoder*>(p);
        WriteRequestEncoder& enc = b->shard->enc_;
        if (!found) {
          enc.AbortSeries();
          ++*b->dropped;
          return;
        }
        b->merger.Finish();
        const Entry& e = *b->shard->kept_[i];
        enc.AddSample(e.t, e.v);
        enc.EndSeries();
        ++*b->samples;
        *b->highest = std::max(*b->highest, e.t);
      }
    };

    void Run(const std::stop_token& stop);
    // Samples waiting behind the batch being sent. Needs mu_.
    std::size_t Queued() const { return samples_.size() - in_flight_; }
    // Sends the batch with retries. False when stopped before it was done.
    bool SendBatch(const std::stop_token& stop);
    struct Counts {
      std::size_t samples = 0;
      std::size_t exemplars = 0;
    };
    enum class Outcome { kAccepted, kRefused, kStopped };
    // Sends entries in one request, retrying what may succeed later. *sent: what the request
    // held (entries too old or of unknown series are dropped, and counted when count_dropped).
    // kRefused: the receiver refused them for good, for the reason in *refusal.
    Outcome Send(std::span<const Entry> batch, std::span<const ExemplarEntry> exemplar_batch,
                 bool count_dropped, const std::stop_token& stop, Counts* sent,
                 std::string* refusal);
    // Sends each half of entries the receiver refused together on its own, halving again
    // what it refuses, and drops single samples it refuses (added to *refused).
    bool SendHalves(std::span<const Entry> samples, std::span<const ExemplarEntry> exemplars,
                    const std::stop_token& stop, Counts* refused);
    // Counts entries the receiver refused for good.
    void Refused(const Counts& c, const std::string& error, bool log);

    Impl* const q_;
    mutable std::mutex mu_;
    std::condition_variable_any cv_;        // the shard waits for entries
    std::condition_variable_any space_cv_;  // the watcher waits for room or a drain
    Ring samples_;                          // guarded by mu_
    std::deque<ExemplarEntry> exemplars_;   // guarded by mu_
    Steady::time_point batch_start_;        // guarded by mu_: when the oldest entry arrived
    bool paused_ = false;                   // guarded by mu_: no new batches (resharding)
    bool sending_ = false;                  // guarded by mu_: a batch is out
    std::size_t in_flight_ = 0;             // guarded by mu_: its samples, at samples_' head
    // The batch being sent (copied out under mu_, used by the shard thread only).
    std::vector<Entry> batch_;
    std::vector<ExemplarEntry> batch_exemplars_;
    // The refs of the batch's samples and the samples, for a batched label lookup.
    std::vector<storage::SeriesRef> refs_;
    std::vector<const Entry*> kept_;
    WriteRequestEncoder enc_;
    ByteBuffer compressed_;
    // The shard's own connection, used on its thread (created with the first batch).
    std::unique_ptr<net::HttpClient::Session> session_;
    std::stop_source http_stop_;  // cancels the request in flight (Stop)
    std::mutex exit_mu_;
    std::condition_variable exit_cv_;
    bool exited_ = false;  // guarded by exit_mu_: the thread has ended
    std::jthread thread_;
  };

  void Log(spdlog::level::level_enum level, const std::string& msg) const {
    const std::string full = "remote_name=" + opts_.name + " url=" + opts_.url + " " + msg;
    if (log_) {
      log_(level, full);
    } else {
      spdlog::log(level, "{}", full);
    }
  }
  void SetError(std::string e) {
    std::lock_guard lock(error_mu_);
    last_error_ = std::move(e);
  }

  void StartShards(int n) {
    std::vector<std::unique_ptr<Shard>> shards;
    shards.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) shards.push_back(std::make_unique<Shard>(this));
    for (auto& s : shards) s->Start();
    staging_.assign(static_cast<std::size_t>(n), {});
    std::unique_lock lock(shards_mu_);
    shards_ = std::move(shards);
    metrics_.shards.Set(n);
  }
  void StopShards() {
    std::vector<std::unique_ptr<Shard>> old;
    {
      std::unique_lock lock(shards_mu_);
      old.swap(shards_);
    }
    for (auto& s : old) s->Stop();
  }

  // Writes the acked position and the frontier when they moved; with sync, makes them durable.
  void PersistProgress(bool sync) {
    {
      std::lock_guard lock(progress_mu_);
      WriteProgressLocked(Progress{AckedPosition(), frontier_});
      sync = sync && unsynced_;
      if (sync) unsynced_ = false;
    }
    // Unlocked, so that the shards' writes need not wait for the disk.
    if (!sync) return;
    if (base::Status s = progress_file_.Sync(); !s.ok()) {
      Log(spdlog::level::err, "cannot persist progress: " + s.message());
      std::lock_guard lock(progress_mu_);
      unsynced_ = true;
    }
  }
  // Moves the frontier to the end of record `seq`, whose samples are about to be sent.
  void AdvanceFrontier(std::uint64_t seq) {
    const wal::Position end = RecordEnd(seq);
    std::lock_guard lock(progress_mu_);
    if (!Before(frontier_, end)) return;
    frontier_ = end;
    WriteProgressLocked(Progress{persisted_.acked, frontier_});
  }
  // Whether samples of record `seq` may have reached the receiver before this start.
  bool MaybeSentBefore(std::uint64_t seq) const {
    return seq <= uncertain_seq_.load(std::memory_order_relaxed);
  }

  void WatchLoop(const std::stop_token& stop);
  base::Status ReadCheckpoint(const std::stop_token& stop);
  void HandleSeries(std::string_view rec);
  bool HandleSamples(std::string_view rec, wal::Position end, const std::stop_token& stop);
  bool HandleExemplars(std::string_view rec, wal::Position end, const std::stop_token& stop);
  void Periodic(const std::stop_token& stop);
  void Reshard(const std::stop_token& stop);
  void PurgeOverrides();

  // Begins the record `seq`, which ends at `end`: its entries are on their way into the shards.
  void BeginRecord(std::uint64_t seq, wal::Position end) {
    std::lock_guard lock(ack_mu_);
    busy_seq_ = seq;
    busy_end_ = end;
  }
  void EndRecord(std::uint64_t seq, wal::Position end, bool has_entries) {
    std::lock_guard lock(ack_mu_);
    busy_seq_ = 0;
    if (has_entries) {
      records_.emplace_back(seq, end);
      last_done_seq_ = seq;
    }
    if (Before(watcher_pos_, end)) watcher_pos_ = end;
  }

  // Where the record `seq` ends. The record is being enqueued or not yet acked (a shard holds
  // entries of it).
  wal::Position RecordEnd(std::uint64_t seq) const {
    std::lock_guard lock(ack_mu_);
    if (seq == busy_seq_) return busy_end_;
    auto it = std::lower_bound(records_.begin(), records_.end(), seq,
                               [](const auto& r, std::uint64_t s) { return r.first < s; });
    return it != records_.end() && it->first == seq ? it->second : watcher_pos_;
  }
  void WriteProgressLocked(const Progress& p) {
    if (p == persisted_) return;
    if (base::Status s = progress_file_.Write(p); !s.ok()) {
      Log(spdlog::level::err, "cannot persist progress: " + s.message());
      return;
    }
    persisted_ = p;
    unsynced_ = true;
  }

  // Writes the labels of `ref` into enc (external labels merged in). Needs overrides_mu_
  // held shared. False when the series is unknown or dropped.
  bool EncodeLabels(storage::SeriesRef ref, WriteRequestEncoder& enc) const {
    if (!overrides_.empty()) {
      auto it = overrides_.find(ref);
      if (it != overrides_.end()) {
        if (it->second.dropped) return false;
        enc.AddEncodedLabels(it->second.labels);
        return true;
      }
    }
    if (labels_ == nullptr) return false;
    LabelMerger m{&enc, &ext_, 0};
    if (!labels_->Visit(ref, &LabelMerger::Add, &m)) return false;
    m.Finish();
    return true;
  }

  QueueOptions opts_;
  const std::string wal_dir_;
  const std::string state_dir_;
  const LabelSource* const labels_;
  net::HttpClient* const client_;
  base::Clock* const clock_;
  const LogFn log_;
  QueueMetrics metrics_;
  std::vector<model::Label> ext_;  // external labels, sorted
  std::vector<net::Header> headers_;

  std::mutex lifecycle_mu_;
  bool started_ = false;          // guarded by lifecycle_mu_
  bool stopped_ = false;          // guarded by lifecycle_mu_
  wal::Position start_acked_;     // set by Start before the watcher runs
  wal::Position start_frontier_;  // likewise
  // The highest seq of a record that ends before start_frontier_ (set by the watcher).
  std::atomic<std::uint64_t> uncertain_seq_{0};

  // The progress file, written by the shards after each send and by the watcher.
  std::mutex progress_mu_;
  ProgressFile progress_file_{state_dir_};  // guarded by progress_mu_
  Progress persisted_;                      // guarded by progress_mu_
  wal::Position frontier_;                  // guarded by progress_mu_
  bool unsynced_ = false;                   // guarded by progress_mu_

  // Series whose labels are not sent as the source has them. Written by the watcher.
  mutable std::shared_mutex overrides_mu_;
  std::unordered_map<storage::SeriesRef, Override> overrides_;  // guarded by overrides_mu_

  // The shards. Replaced by the watcher when resharding; read by the accessors.
  mutable std::shared_mutex shards_mu_;
  std::vector<std::unique_ptr<Shard>> shards_;  // guarded by shards_mu_
  std::atomic<int> desired_shards_{1};

  // Acknowledgement bookkeeping; see AckedPosition.
  mutable std::mutex ack_mu_;
  std::uint64_t busy_seq_ = 0;       // guarded by ack_mu_; the record being enqueued, or 0
  wal::Position busy_end_;           // guarded by ack_mu_; where it ends
  std::uint64_t last_done_seq_ = 0;  // guarded by ack_mu_; the last record fully enqueued
  wal::Position watcher_pos_;        // guarded by ack_mu_; after the last record handled
  // Records fully enqueued and not known to be acked: (seq, end position).
  mutable std::deque<std::pair<std::uint64_t, wal::Position>> records_;  // guarded by ack_mu_
  mutable wal::Position acked_base_;  // guarded by ack_mu_; end of the last acked record

  mutable std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_

  // Rates for resharding.
  std::atomic<std::uint64_t> samples_out_{0};
  std::atomic<std::uint64_t> send_nanos_{0};
  std::atomic<std::int64_t> last_success_ns_{0};  // Steady time of the last good send
  std::atomic<std::int64_t> highest_sent_ms_{std::numeric_limits<std::int64_t>::min()};

  // Watcher thread state.
  std::jthread watcher_;
  std::uint64_t next_seq_ = 0;
  std::uint64_t samples_in_ = 0;
  std::vector<wal::record::RefSeries> series_buf_;
  std::vector<wal::record::RefSample> samples_buf_;
  std::vector<wal::record::RefExemplar> exemplars_buf_;
  std::vector<std::vector<Entry>> staging_;  // per shard
  model::LabelsBuilder builder_;
  Steady::time_point last_progress_, last_reshard_, last_purge_;
  std::uint64_t reshard_in_ = 0, reshard_out_ = 0, reshard_nanos_ = 0;
  nanoseconds blocked_{0};  // waiting for room in shards since the last reshard check
};

// ---------------------------------------------------------------------------------------------
// Watcher.

void Queue::Impl::WatchLoop(const std::stop_token& stop) {
  last_progress_ = last_reshard_ = last_purge_ = Steady::now();
  last_success_ns_ = Steady::now().time_since_epoch().count();
  base::Status cp = ReadCheckpoint(stop);
  if (!cp.ok()) {
    Log(spdlog::level::warn, "cannot read checkpoint: " + cp.message());
    SetError(cp.message());
  }
  std::unique_ptr<wal::Reader> reader =
      std::make_unique<wal::Reader>(wal_dir_, wal::ReaderOptions{.live = true});
  std::mutex sleep_mu;
  std::condition_variable_any sleep_cv;
  auto nap = [&](nanoseconds d) {
    std::unique_lock lock(sleep_mu);
    sleep_cv.wait_for(lock, stop, d, [] { return false; });
  };
  std::string last_read_error;
  while (!stop.stop_requested()) {
    base::Result<bool> next = reader->Next();
    if (const int segment = reader->position().segment; segment >= 0) {
      metrics_.current_segment.Set(segment);
    }
    if (!next.ok()) {
      const std::string msg = next.error().message();
      if (msg != last_read_error) {
        Log(spdlog::level::err, "error reading the WAL: " + msg);
        SetError(msg);
        last_read_error = msg;
      }
      // Skip a damaged segment once a later one exists; otherwise wait and try again.
      const wal::Position at = reader->position();
      auto segs = wal::Segments(wal_dir_);
      if (segs.ok() && segs->last > at.segment && at.segment >= 0) {
        Log(spdlog::level::warn, "skipping the rest of segment " + std::to_string(at.segment));
        reader = std::make_unique<wal::Reader>(
            wal_dir_, wal::ReaderOptions{.first_segment = at.segment + 1, .live = true});
      } else if (at.segment < 0 || !segs.ok() || segs->first < 0) {
        reader = std::make_unique<wal::Reader>(wal_dir_, wal::ReaderOptions{.live = true});
      }
      Periodic(stop);
      nap(opts_.wal_poll_interval);
      continue;
    }
    if (!*next) {
      Periodic(stop);
      nap(opts_.wal_poll_interval);
      continue;
    }
    const std::string_view rec = reader->record();
    const wal::Position end = reader->position();
    bool ok = true;
    metrics_.RecordRead(wal::record::TypeOf(rec));
    switch (wal::record::TypeOf(rec)) {
      case wal::record::Type::kSeries:
        HandleSeries(rec);
        EndRecord(0, end, false);
        break;
      case wal::record::Type::kSamples:
        ok = HandleSamples(rec, end, stop);
        break;
      case wal::record::Type::kExemplars:
        ok = HandleExemplars(rec, end, stop);
        break;
      default:
        EndRecord(0, end, false);
        break;
    }
    if (!ok) return;  // stopped while waiting for room
    Periodic(stop);
  }
}

base::Status Queue::Impl::ReadCheckpoint(const std::stop_token& stop) {
  ASSIGN_OR_RETURN(auto cp, wal::LastCheckpoint(wal_dir_));
  if (!cp) return base::Status::Ok();
  wal::Reader reader(cp->first);
  while (!stop.stop_requested()) {
    ASSIGN_OR_RETURN(bool more, reader.Next());
    if (!more) break;
    metrics_.RecordRead(wal::record::TypeOf(reader.record()));
    if (wal::record::TypeOf(reader.record()) == wal::record::Type::kSeries) {
      HandleSeries(reader.record());
    }
  }
  return base::Status::Ok();
}

void Queue::Impl::HandleSeries(std::string_view rec) {
  series_buf_.clear();
  base::Status s = wal::record::DecodeSeries(rec, &series_buf_);
  if (!s.ok()) {
    Log(spdlog::level::err, "cannot decode a series record: " + s.message());
    metrics_.decode_failures.Inc();
    return;
  }
  const bool has_rules = !opts_.write_relabel_configs.empty();
  for (wal::record::RefSeries& series : series_buf_) {
    const bool known = labels_ != nullptr && labels_->Visit(series.ref, &NoopVisitor, nullptr);
    if (!has_rules && known) {
      // The common case: labels come from the source (external labels merged when encoding).
      if (!overrides_.empty()) {
        std::unique_lock lock(overrides_mu_);
        overrides_.erase(series.ref);
      }
      continue;
    }
    builder_.Reset(series.labels);
    for (const model::Label& l : ext_) {
      if (!series.labels.Has(l.first)) builder_.Set(l.first, l.second);
    }
    model::Labels merged = builder_.Labels();
    Override o;
    if (has_rules) {
      builder_.Reset(merged);
      if (!model::relabel::ProcessBuilder(builder_, opts_.write_relabel_configs)) {
        o.dropped = true;
      } else {
        model::Labels relabeled = builder_.Labels();
        if (relabeled.Empty()) {
          o.dropped = true;
        } else if (relabeled == merged && known) {
          std::unique_lock lock(overrides_mu_);
          overrides_.erase(series.ref);
          continue;
        } else {
          merged = std::move(relabeled);
        }
      }
    }
    if (!o.dropped) {
      for (const model::Label& l : merged) AppendEncodedLabel(&o.labels, l.first, l.second);
    }
    std::unique_lock lock(overrides_mu_);
    overrides_[series.ref] = std::move(o);
  }
  // Decoded labels are not needed past this record; a big one would hold megabytes.
  series_buf_.clear();
}

bool Queue::Impl::HandleSamples(std::string_view rec, wal::Position end,
                                const std::stop_token& stop) {
  if (!Before(start_acked_, end)) {  // sent before the last restart
    EndRecord(0, end, false);
    return true;
  }
  samples_buf_.clear();
  base::Status s = wal::record::DecodeSamples(rec, &samples_buf_);
  if (!s.ok()) {
    Log(spdlog::level::err, "cannot decode a samples record: " + s.message());
    metrics_.decode_failures.Inc();
    EndRecord(0, end, false);
    return true;
  }
  if (samples_buf_.empty()) {
    EndRecord(0, end, false);
    return true;
  }
  const std::uint64_t seq = ++next_seq_;
  BeginRecord(seq, end);
  if (!Before(start_frontier_, end)) uncertain_seq_.store(seq, std::memory_order_relaxed);
  const std::size_t n = staging_.size();
  for (auto& st : staging_) st.clear();
  for (const wal::record::RefSample& rs : samples_buf_) {
    staging_[rs.ref % n].push_back(Entry{rs.ref, rs.t, rs.v, seq});
  }
  samples_in_ += samples_buf_.size();
  {
    std::shared_lock lock(shards_mu_);  // only this thread replaces shards_; cheap
    for (std::size_t i = 0; i < n; ++i) {
      if (!staging_[i].empty() && !shards_[i]->Push(staging_[i], stop, &blocked_)) {
        return false;
      }
    }
  }
  EndRecord(seq, end, true);
  return true;
}

bool Queue::Impl::HandleExemplars(std::string_view rec, wal::Position end,
                                  const std::stop_token& stop) {
  if (!opts_.send_exemplars || !Before(start_acked_, end)) {
    EndRecord(0, end, false);
    return true;
  }
  exemplars_buf_.clear();
  base::Status s = wal::record::DecodeExemplars(rec, &exemplars_buf_);
  if (!s.ok() || exemplars_buf_.empty()) {
    if (!s.ok()) {
      Log(spdlog::level::err, "cannot decode an exemplars record: " + s.message());
      metrics_.decode_failures.Inc();
    }
    EndRecord(0, end, false);
    return true;
  }
  const std::uint64_t seq = ++next_seq_;
  BeginRecord(seq, end);
  if (!Before(start_frontier_, end)) uncertain_seq_.store(seq, std::memory_order_relaxed);
  {
    std::shared_lock lock(shards_mu_);
    for (wal::record::RefExemplar& re : exemplars_buf_) {
      ExemplarEntry e{re.ref, re.t, re.v, seq, {}};
      for (const model::Label& l : re.labels) AppendEncodedLabel(&e.labels, l.first, l.second);
      if (!shards_[re.ref % shards_.size()]->PushExemplar(std::move(e), stop)) return false;
    }
  }
  EndRecord(seq, end, true);
  return true;
}

void Queue::Impl::Periodic(const std::stop_token& stop) {
  const Steady::time_point now = Steady::now();
  if (now - last_progress_ >= opts_.progress_interval) {
    last_progress_ = now;
    PersistProgress(true);
    std::size_t samples = 0;
    std::size_t exemplars = 0;
    {
      std::shared_lock lock(shards_mu_);
      for (const auto& s : shards_) {
        const auto [n, e] = s->SamplesAndExemplars();
        samples += n;
        exemplars += e;
      }
    }
    metrics_.pending.Set(static_cast<double>(samples));
    metrics_.exemplars_pending.Set(static_cast<double>(exemplars));
  }
  if (now - last_reshard_ >= opts_.shard_update_interval) {
    Reshard(stop);
    last_reshard_ = Steady::now();
  }
  if (now - last_purge_ >= std::chrono::minutes(1)) {
    last_purge_ = now;
    PurgeOverrides();
  }
}

void Queue::Impl::Reshard(const std::stop_token& stop) {
  const double secs = std::chrono::duration<double>(Steady::now() - last_reshard_).count();
  if (secs <= 0) return;
  const std::uint64_t out = samples_out_.load();
  const std::uint64_t nanos = send_nanos_.load();
  ShardInputs in;
  in.min_shards = opts_.queue.min_shards;
  in.max_shards = opts_.queue.max_shards;
  std::int64_t pending = 0;
  {
    std::shared_lock lock(shards_mu_);
    in.current = static_cast<int>(shards_.size());
    for (const auto& s : shards_) pending += static_cast<std::int64_t>(s->Size());
  }
  in.pending_samples = static_cast<double>(pending);
  in.samples_in_per_second = static_cast<double>(samples_in_ - reshard_in_) / secs;
  in.samples_out_per_second = static_cast<double>(out - reshard_out_) / secs;
  in.send_seconds_per_second = static_cast<double>(nanos - reshard_nanos_) / 1e9 / secs;
  const auto since_success =
      Steady::now().time_since_epoch() - nanoseconds(last_success_ns_.load());
  in.batch_size = opts_.queue.max_samples_per_send;
  in.blocked_fraction = std::chrono::duration<double>(blocked_).count() / secs;
  blocked_ = nanoseconds::zero();
  in.recent_send_succeeded =
      since_success <= 2 * opts_.queue.batch_send_deadline + opts_.shard_update_interval;
  reshard_in_ = samples_in_;
  reshard_out_ = out;
  reshard_nanos_ = nanos;
  const int desired = DesiredShards(in);
  desired_shards_ = desired;
  metrics_.shards_desired.Set(desired);
  if (desired == in.current) return;
  Log(spdlog::level::info, "resharding from " + std::to_string(in.current) + " to " +
                               std::to_string(desired) + " shards");
  // Let the batches in flight finish, then deal the queued entries out again in record order:
  // each series' entries come from one old shard in order, so they stay in order, and each new
  // shard's entries are in record order as AckedPosition needs.
  {
    std::shared_lock lock(shards_mu_);
    for (const auto& s : shards_) {
      if (!s->Pause(stop)) return;
    }
  }
  std::vector<std::unique_ptr<Shard>> old;
  {
    // Exclusive: AckedPosition must not see the entries in neither set of shards.
    std::unique_lock lock(shards_mu_);
    std::vector<Entry> samples;
    std::vector<ExemplarEntry> exemplars;
    for (const auto& s : shards_) s->TakeAll(&samples, &exemplars);
    std::stable_sort(samples.begin(), samples.end(),
                     [](const Entry& a, const Entry& b) { return a.seq < b.seq; });
    std::stable_sort(exemplars.begin(), exemplars.end(),
                     [](const ExemplarEntry& a, const ExemplarEntry& b) { return a.seq < b.seq; });
    std::vector<std::unique_ptr<Shard>> next;
    next.reserve(static_cast<std::size_t>(desired));
    for (int i = 0; i < desired; ++i) next.push_back(std::make_unique<Shard>(this));
    for (const Entry& e : samples) next[e.ref % next.size()]->Adopt(e);
    for (ExemplarEntry& e : exemplars) {
      Shard& shard = *next[e.ref % next.size()];
      shard.Adopt(std::move(e));
    }
    for (auto& s : next) s->Start();
    old.swap(shards_);
    shards_ = std::move(next);
  }
  staging_.assign(static_cast<std::size_t>(desired), {});
  metrics_.shards.Set(desired);
  for (auto& s : old) s->Stop();
}

void Queue::Impl::PurgeOverrides() {
  // Series the source forgot (their samples are all sent) need no override any more.
  if (labels_ == nullptr) return;
  std::unique_lock lock(overrides_mu_);
  for (auto it = overrides_.begin(); it != overrides_.end();) {
    if (!labels_->Visit(it->first, &NoopVisitor, nullptr)) {
      it = overrides_.erase(it);
    } else {
      ++it;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Shards.

void Queue::Impl::Shard::Run(const std::stop_token& stop) {
  const std::size_t max = static_cast<std::size_t>(q_->opts_.queue.max_samples_per_send);
  const auto deadline = q_->opts_.queue.batch_send_deadline;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      for (;;) {
        const std::size_t n = samples_.size() + exemplars_.size();
        if (paused_) {
          cv_.wait(lock, stop, [] { return false; });
          return;
        }
        if (n >= max || (n > 0 && Steady::now() >= batch_start_ + deadline)) break;
        if (n == 0) {
          if (!cv_.wait(lock, stop,
                        [&] { return paused_ || !samples_.empty() || !exemplars_.empty(); })) {
            return;
          }
        } else {
          cv_.wait_until(lock, stop, batch_start_ + deadline,
                         [&] { return paused_ || samples_.size() + exemplars_.size() >= max; });
          if (stop.stop_requested()) return;
        }
      }
      sending_ = true;
      const std::size_t ns = std::min(samples_.size(), max);
      in_flight_ = ns;
      space_cv_.notify_all();
      batch_.clear();
      for (std::size_t i = 0; i < ns; ++i) batch_.push_back(samples_[i]);
      batch_exemplars_.clear();
      for (std::size_t i = 0; i < exemplars_.size() && ns + i < max; ++i) {
        batch_exemplars_.push_back(exemplars_[i]);
      }
    }
    const bool done = SendBatch(stop);
    std::unique_lock lock(mu_);
    sending_ = false;
    in_flight_ = 0;
    space_cv_.notify_all();
    if (!done) return;
    samples_.Pop(batch_.size());
    exemplars_.erase(exemplars_.begin(),
                     exemplars_.begin() + static_cast<std::ptrdiff_t>(batch_exemplars_.size()));
    batch_start_ = Steady::now();
    space_cv_.notify_all();
    lock.unlock();
    q_->PersistProgress(false);
  }
}

bool Queue::Impl::Shard::SendBatch(const std::stop_token& stop) {
  std::uint64_t last = batch_.empty() ? 0 : batch_.back().seq;
  if (!batch_exemplars_.empty()) last = std::max(last, batch_exemplars_.back().seq);
  q_->AdvanceFrontier(last);
  Counts sent;
  std::string refusal;
  switch (Send(batch_, batch_exemplars_, true, stop, &sent, &refusal)) {
    case Outcome::kStopped:
      return false;
    case Outcome::kAccepted:
      return true;
    case Outcome::kRefused:
      break;
  }
  std::uint64_t first = batch_.empty() ? kNoSeq : batch_.front().seq;
  if (!batch_exemplars_.empty()) first = std::min(first, batch_exemplars_.front().seq);
  if (!q_->MaybeSentBefore(first) || sent.samples + sent.exemplars <= 1) {
    Refused(sent, refusal, true);
    return true;
  }
  Counts refused;
  if (!SendHalves(batch_, batch_exemplars_, stop, &refused)) return false;
  if (refused.samples + refused.exemplars > 0) {
    q_->Log(
        spdlog::level::warn,
        "the receiver refused " + std::to_string(refused.samples + refused.exemplars) + " of " +
            std::to_string(sent.samples + sent.exemplars) +
            " samples sent again after a restart, most likely as it has them already: " + refusal);
  }
  return true;
}

bool Queue::Impl::Shard::SendHalves(std::span<const Entry> samples,
                                    std::span<const ExemplarEntry> exemplars,
                                    const std::stop_token& stop, Counts* refused) {
  // Samples first, then exemplars; both halves are non-empty as there are at least two.
  const std::size_t half = (samples.size() + exemplars.size()) / 2;
  const std::size_t s = std::min(half, samples.size());
  const std::size_t e = half - s;
  const std::pair<std::span<const Entry>, std::span<const ExemplarEntry>> parts[] = {
      {samples.first(s), exemplars.first(e)}, {samples.subspan(s), exemplars.subspan(e)}};
  for (const auto& [part_samples, part_exemplars] : parts) {
    Counts sent;
    std::string refusal;
    const Outcome o = Send(part_samples, part_exemplars, false, stop, &sent, &refusal);
    if (o == Outcome::kStopped) return false;
    if (o == Outcome::kAccepted) continue;
    if (sent.samples + sent.exemplars <= 1) {
      Refused(sent, refusal, false);
      refused->samples += sent.samples;
      refused->exemplars += sent.exemplars;
      continue;
    }
    if (!SendHalves(part_samples, part_exemplars, stop, refused)) return false;
  }
  return true;
}

void Queue::Impl::Shard::Refused(const Counts& c, const std::string& error, bool log) {
  Impl& q = *q_;
  q.SetError(error);
  if (log) {
    q.Log(spdlog::level::err, "non-recoverable error, dropping " +
                                  std::to_string(c.samples + c.exemplars) + " samples: " + error);
  }
  q.metrics_.failed.Add(static_cast<double>(c.samples));
  q.metrics_.exemplars_failed.Add(static_cast<double>(c.exemplars));
  q.samples_out_ += c.samples + c.exemplars;
}

Queue::Impl::Shard::Outcome Queue::Impl::Shard::Send(std::span<const Entry> batch,
                                                     std::span<const ExemplarEntry> exemplar_batch,
                                                     bool count_dropped,
                                                     const std::stop_token& stop, Counts* sent,
                                                     std::string* refusal) {
  Impl& q = *q_;
  enc_.Reset();
  std::size_t samples = 0;
  std::size_t exemplars = 0;
  std::size_t dropped = 0;
  std::size_t dropped_exemplars = 0;
  std::int64_t highest = std::numeric_limits<std::int64_t>::min();
  const bool age_limit = q.opts_.queue.sample_age_limit > nanoseconds::zero();
  const std::int64_t min_t =
      age_limit ? std::chrono::duration_cast<std::chrono::milliseconds>(
                      (q.clock_->Now() - q.opts_.queue.sample_age_limit).time_since_epoch())
                      .count()
                : std::numeric_limits<std::int64_t>::min();
  {
    std::shared_lock lock(q.overrides_mu_);
    if (q.overrides_.empty() && q.labels_ != nullptr) {
      // The common case: every series' labels come from the source, looked up in one batch.
      refs_.clear();
      for (const Entry& e : batch) {
        if (e.t < min_t) {
          ++dropped;
          continue;
        }
        refs_.push_back(e.ref);
        kept_.push_back(&e);
      }
      BatchEncoder be{this, {&enc_, &q.ext_, 0}, &samples, &dropped, &highest};
      q.labels_->VisitBatch(refs_, be.Visitor());
      kept_.clear();
    } else {
      for (const Entry& e : batch) {
        if (e.t < min_t) {
          ++dropped;
          continue;
        }
        enc_.BeginSeries();
        if (!q.EncodeLabels(e.ref, enc_)) {
          enc_.AbortSeries();
          ++dropped;
          continue;
        }
        enc_.AddSample(e.t, e.v);
        enc_.EndSeries();
        ++samples;
        highest = std::max(highest, e.t);
      }
    }
    for (const ExemplarEntry& e : exemplar_batch) {
      enc_.BeginSeries();
      if (!q.EncodeLabels(e.ref, enc_)) {
        enc_.AbortSeries();
        ++dropped_exemplars;
        continue;
      }
      enc_.AddExemplar(e.labels, e.t, e.v);
      enc_.EndSeries();
      ++exemplars;
    }
  }
  if (count_dropped && dropped > 0) q.metrics_.dropped.Add(static_cast<double>(dropped));
  if (count_dropped && dropped_exemplars > 0) {
    q.metrics_.exemplars_dropped.Add(static_cast<double>(dropped_exemplars));
  }
  *sent = Counts{samples, exemplars};
  if (samples + exemplars == 0) return Outcome::kAccepted;
  SnappyCompress(enc_.data(), &compressed_);

  nanoseconds backoff = q.opts_.queue.min_backoff;
  std::mutex sleep_mu;
  std::condition_variable_any sleep_cv;
  for (;;) {
    if (stop.stop_requested()) return Outcome::kStopped;  // no new request once stopping
    net::ClientRequest req;
    req.method = "POST";
    req.url = q.opts_.url;
    req.headers = q.headers_;
    req.body.assign(compressed_.data(), compressed_.size());
    req.timeout =
        std::max(std::chrono::milliseconds(1),
                 std::chrono::duration_cast<std::chrono::milliseconds>(q.opts_.remote_timeout));
    req.config = q.opts_.client_config;
    const Steady::time_point begin = Steady::now();
    if (!session_) session_ = std::make_unique<net::HttpClient::Session>(*q.client_);
    base::Result<net::ClientResponse> resp = session_->Do(std::move(req), http_stop_.get_token());
    const nanoseconds took = Steady::now() - begin;
    // A response that arrived counts even when stopping: the receiver has the samples, and
    // leaving them unacked would send them again after a restart.
    if (!resp.ok() && stop.stop_requested()) return Outcome::kStopped;
    q.metrics_.batch_duration.Observe(std::chrono::duration<double>(took).count());
    q.send_nanos_ += static_cast<std::uint64_t>(took.count());

    nanoseconds retry_after{0};
    std::string error;
    bool recoverable = true;
    if (!resp.ok()) {
      error = resp.error().message();
    } else if (resp->status / 100 == 2) {
      q.metrics_.samples.Add(static_cast<double>(samples));
      q.metrics_.exemplars.Add(static_cast<double>(exemplars));
      q.metrics_.bytes.Add(static_cast<double>(compressed_.size()));
      q.samples_out_ += samples + exemplars;
      q.last_success_ns_ = Steady::now().time_since_epoch().count();
      if (samples > 0) {
        std::int64_t prev = q.highest_sent_ms_.load();
        while (highest > prev && !q.highest_sent_ms_.compare_exchange_weak(prev, highest)) {
        }
        // Whole seconds, as Prometheus reports it.
        const std::int64_t secs = q.highest_sent_ms_.load() / 1000;
        q.metrics_.highest_sent.Set(static_cast<double>(secs));
      }
      return Outcome::kAccepted;
    } else {
      std::string body = resp->body.substr(0, kMaxErrorBody);
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
      error = "server returned HTTP status " + std::to_string(resp->status) + ": " + body;
      recoverable =
          resp->status / 100 == 5 || (resp->status == 429 && q.opts_.queue.retry_on_http_429);
      if (recoverable) {
        if (auto ra = resp->HeaderValue("Retry-After")) {
          retry_after = ParseRetryAfter(*ra, q.clock_->Now());
        }
      }
    }
    if (!recoverable) {
      *refusal = std::move(error);
      return Outcome::kRefused;
    }
    if (stop.stop_requested()) return Outcome::kStopped;  // no retry once stopping
    q.SetError(error);
    q.metrics_.retried.Add(static_cast<double>(samples));
    q.metrics_.exemplars_retried.Add(static_cast<double>(exemplars));
    q.Log(spdlog::level::warn, "failed to send batch, retrying: " + error);
    const nanoseconds sleep = retry_after > nanoseconds::zero() ? retry_after : backoff;
    {
      std::unique_lock lock(sleep_mu);
      sleep_cv.wait_for(lock, stop, sleep, [] { return false; });
    }
    backoff = std::min(backoff * 2, q.opts_.queue.max_backoff);
  }
}

// ---------------------------------------------------------------------------------------------

Queue::Queue(QueueOptions options, std::string wal_dir, std::string state_dir,
             const LabelSource* labels, net::HttpClient* client, base::MetricsRegistry* metrics,
             base::Clock* clock, LogFn log)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(wal_dir), std::move(state_dir),
                                   labels, client, metrics, clock, std::move(log))) {}

Queue::~Queue() = default;

base::Status Queue::Start() { return impl_->Start(); }
void Queue::Stop() { impl_->Stop(); }
int Queue::LowestUnackedSegment() const { return impl_->LowestUnackedSegment(); }
wal::Position Queue::AckedPosition() const { return impl_->AckedPosition(); }
QueueStatus Queue::Status() const { return impl_->Status(); }
const QueueOptions& Queue::options() const { return impl_->options(); }
void Queue::SetHighestAppended(std::int64_t timestamp_ms) {
  impl_->SetHighestAppended(timestamp_ms);
}

}  // namespace starling::remote
