#include "wal/storage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "wal/checkpoint.h"
#include "wal/internal/series_set.h"
#include "wal/reader.h"
#include "wal/record.h"

namespace starling::wal {

using storage_internal::Acquire;
using storage_internal::HashLabels;

namespace {

// Series records in a checkpoint are cut at about this size.
constexpr std::size_t kCheckpointRecordBytes = 256 * 1024;

// Prometheus drops labels with empty values: they are the same as absent labels.
const model::Labels& WithoutEmpty(const model::Labels& labels, model::Labels* scratch) {
  const bool any_empty = std::any_of(labels.begin(), labels.end(),
                                     [](const model::Label& l) { return l.second.empty(); });
  if (!any_empty) return labels;
  std::vector<model::Label> kept;
  for (const model::Label& l : labels) {
    if (!l.second.empty()) kept.push_back(l);
  }
  *scratch = model::Labels(std::move(kept));
  return *scratch;
}

}  // namespace

// Buffers one batch; see Storage::NewAppender.
class Storage::AppenderImpl final : public storage::Appender {
 public:
  explicit AppenderImpl(Storage* storage) : s_(storage) {}
  ~AppenderImpl() override {
    if (!done_) Rollback();
  }
  AppenderImpl(const AppenderImpl&) = delete;
  AppenderImpl& operator=(const AppenderImpl&) = delete;

  base::Result<storage::SeriesRef> Append(storage::SeriesRef ref, const model::Labels& labels,
                                          std::int64_t timestamp_ms, double value) override {
    if (done_) return base::Status::FailedPrecondition("appender already committed");
    bool unlogged = false;
    if (ref != 0) {
      model::Labels series_labels;
      switch (s_->series_->AcquireByRef(ref, timestamp_ms, &unlogged, &series_labels)) {
        case Acquire::kOutOfOrder:
          s_->out_of_order_samples_.fetch_add(1, std::memory_order_relaxed);
          return ref;
        case Acquire::kAccepted:
          if (unlogged && logging_.insert(ref).second) LogSeries(ref, series_labels);
          samples_.push_back({ref, timestamp_ms, value});
          return ref;
        case Acquire::kUnknown:
          break;
      }
      if (labels.Empty()) {
        return base::Status::NotFound("unknown series ref " + std::to_string(ref) +
                                      " appended without labels");
      }
    }
    model::Labels scratch;
    const model::Labels& l = WithoutEmpty(labels, &scratch);
    if (l.Empty()) return base::Status::InvalidArgument("empty labelset");
    storage::SeriesRef got = 0;
    const Acquire a = s_->series_->AcquireByLabels(l, HashLabels(l), timestamp_ms, &got, &unlogged);
    if (a == Acquire::kOutOfOrder) {
      s_->out_of_order_samples_.fetch_add(1, std::memory_order_relaxed);
      return got;
    }
    if (unlogged && logging_.insert(got).second) LogSeries(got, l);
    samples_.push_back({got, timestamp_ms, value});
    return got;
  }

  base::Result<storage::SeriesRef> AppendExemplar(storage::SeriesRef ref,
                                                  const model::Labels& labels,
                                                  const storage::Exemplar& exemplar) override {
    if (done_) return base::Status::FailedPrecondition("appender already committed");
    storage::SeriesRef found = ref != 0 && s_->series_->Exists(ref) ? ref : 0;
    if (found == 0 && !labels.Empty()) {
      model::Labels scratch;
      const model::Labels& l = WithoutEmpty(labels, &scratch);
      if (!l.Empty()) found = s_->series_->Find(l, HashLabels(l));
    }
    if (found == 0) {
      return base::Status::NotFound("unknown series ref when trying to add exemplar: " +
                                    std::to_string(ref));
    }
    std::int64_t t = exemplar.timestamp_ms;
    if (!exemplar.has_timestamp) {
      t = std::chrono::duration_cast<std::chrono::milliseconds>(
              s_->options_.clock->Now().time_since_epoch())
              .count();
    }
    model::Labels scratch;
    exemplars_.push_back({found, t, exemplar.value, WithoutEmpty(exemplar.labels, &scratch)});
    return found;
  }

  base::Status Commit() override {
    if (done_) return base::Status::FailedPrecondition("appender already committed");
    done_ = true;
    if (samples_.empty() && exemplars_.empty() && series_rec_.empty()) return base::Status::Ok();
    std::string samples_rec;
    std::string exemplars_rec;
    std::string_view recs[3];
    std::size_t n = 0;
    if (!series_rec_.empty()) recs[n++] = series_rec_;
    if (!samples_.empty()) {
      record::EncodeSamples(samples_, &samples_rec);
      recs[n++] = samples_rec;
    }
    if (!exemplars_.empty()) {
      record::EncodeExemplars(exemplars_, &exemplars_rec);
      recs[n++] = exemplars_rec;
    }
    Position before;
    Position after;
    base::Status status;
    {
      std::lock_guard lock(s_->log_mu_);
      before = s_->wal_->End();
      status = s_->wal_->Log(std::span<const std::string_view>(recs, n));
      after = s_->wal_->End();
    }
    if (!status.ok()) {
      s_->series_->Release(samples_);
      Clear();
      return status;
    }
    std::int64_t max_t = std::numeric_limits<std::int64_t>::min();
    s_->series_->Commit(samples_, after.segment);
    for (const record::RefSample& s : samples_) max_t = std::max(max_t, s.t);
    if (!samples_.empty()) s_->NoteSegmentTime(before.segment, after.segment, max_t);
    std::int64_t highest = s_->highest_timestamp_ms_.load(std::memory_order_relaxed);
    while (max_t > highest && !s_->highest_timestamp_ms_.compare_exchange_weak(highest, max_t)) {
    }
    s_->samples_appended_.fetch_add(samples_.size(), std::memory_order_relaxed);
    s_->exemplars_appended_.fetch_add(exemplars_.size(), std::memory_order_relaxed);
    Clear();
    return base::Status::Ok();
  }

  void Rollback() override {
    if (done_) return;
    done_ = true;
    s_->series_->Release(samples_);
    Clear();
  }

 private:
  // Encodes the series record as series come: a batch of new series costs their encoded size,
  // not copies of their labels.
  void LogSeries(storage::SeriesRef ref, const model::Labels& labels) {
    if (series_rec_.empty()) record::BeginSeries(&series_rec_);
    record::AppendSeries(ref, labels, &series_rec_);
  }

  void Clear() {
    series_rec_.clear();
    logging_.clear();
    samples_.clear();
    exemplars_.clear();
  }

  Storage* const s_;
  // The record of the series this batch logs: created by it, or not known to be logged.
  std::string series_rec_;
  // Refs in series_rec_, so a series appended twice in the batch is logged once.
  std::unordered_set<storage::SeriesRef> logging_;
  // Each holds a pending registration of its series until Commit or Rollback.
  std::vector<record::RefSample> samples_;
  std::vector<record::RefExemplar> exemplars_;
  bool done_ = false;
};

Storage::Storage(Options options)
    : options_(std::move(options)), series_(std::make_unique<storage_internal::SeriesSet>()) {}

Storage::~Storage() {
  if (!closed_.load()) static_cast<void>(Close());
}

base::Result<std::unique_ptr<Storage>> Storage::Open(Options options) {
  if (options.dir.empty()) return base::Status::InvalidArgument("empty WAL directory");
  if (options.clock == nullptr) options.clock = &base::Clock::Real();
  std::unique_ptr<Storage> s(new Storage(std::move(options)));
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(s->wal_, Wal::Open(s->options_.dir, s->options_.segment_size));
  if (s->wal_->repaired()) ++s->corruptions_;
  RETURN_IF_ERROR(s->Replay());
  s->replay_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return s;
}

base::Status Storage::Replay() {
  const std::string& dir = options_.dir;
  std::vector<record::RefSeries> series;
  std::vector<record::RefSample> samples;
  // Applies one record read from `segment` (the checkpoint's index for checkpoint records).
  auto apply = [&](std::string_view rec, int segment) {
    switch (record::TypeOf(rec)) {
      case record::Type::kSeries: {
        series.clear();
        if (base::Status st = record::DecodeSeries(rec, &series); !st.ok()) {
          spdlog::warn("wal: skipping a series record in segment {}: {}", segment, st.message());
          return;
        }
        for (const record::RefSeries& s : series) {
          series_->ReplaySeries(s.ref, s.labels, segment);
        }
        return;
      }
      case record::Type::kSamples: {
        samples.clear();
        if (base::Status st = record::DecodeSamples(rec, &samples); !st.ok()) {
          spdlog::warn("wal: skipping a samples record in segment {}: {}", segment, st.message());
          return;
        }
        std::int64_t max_t = std::numeric_limits<std::int64_t>::min();
        for (const record::RefSample& s : samples) {
          series_->SeeRef(s.ref);
          series_->ReplaySample(s.ref, s.t, segment);
          max_t = std::max(max_t, s.t);
        }
        if (!samples.empty()) NoteSegmentTime(segment, segment, max_t);
        return;
      }
      default:
        return;
    }
  };

  ASSIGN_OR_RETURN(auto checkpoint, LastCheckpoint(dir));
  int start = 0;
  if (checkpoint.has_value()) {
    Reader reader(checkpoint->first);
    for (;;) {
      base::Result<bool> more = reader.Next();
      if (!more.ok()) {
        return base::Status::DataLoss("read checkpoint " + checkpoint->first + ": " +
                                      more.status().message());
      }
      if (!*more) break;
      apply(reader.record(), checkpoint->second);
    }
    start = checkpoint->second + 1;
  }
  const int current = wal_->End().segment;
  ASSIGN_OR_RETURN(SegmentRange range, wal_->Segments());
  start = std::max(start, range.first);
  {
    std::lock_guard lock(segments_mu_);
    first_tracked_segment_ = std::min(start, current);
  }
  if (start >= current) return base::Status::Ok();
  Reader reader(dir,
                ReaderOptions{.first_segment = start, .offset = 0, .last_segment = current - 1});
  for (;;) {
    base::Result<bool> more = reader.Next();
    if (more.ok()) {
      if (!*more) return base::Status::Ok();
      apply(reader.record(), reader.position().segment);
      continue;
    }
    if (!reader.corruption().has_value()) return more.status();
    break;
  }
  // A damaged segment before the last: as Prometheus does, keep what precedes the damage and
  // drop everything after it, so that the log is whole again.
  const Position bad = *reader.corruption();
  // Reopening below cuts the damaged segment's tail again: one corruption, counted here.
  ++corruptions_;
  spdlog::warn("wal: {}; deleting the segments after {} and repairing it",
               reader.Next().status().message(), bad.segment);
  RETURN_IF_ERROR(wal_->Close());
  wal_.reset();
  for (int i = current; i > bad.segment; --i) {
    const std::string path = SegmentPath(dir, i);
    std::error_code ec;
    std::filesystem::remove(path, ec);
    if (ec) return base::Status::Internal("delete segment " + path + ": " + ec.message());
  }
  ASSIGN_OR_RETURN(wal_, Wal::Open(dir, options_.segment_size));
  return base::Status::Ok();
}

std::unique_ptr<storage::Appender> Storage::NewAppender() {
  return std::make_unique<AppenderImpl>(this);
}

bool Storage::VisitLabels(storage::SeriesRef ref,
                          const std::function<void(std::string_view, std::string_view)>& f) const {
  return series_->VisitLabels(ref, f);
}

bool Storage::VisitLabelsImpl(storage::SeriesRef ref,
                              void (*f)(void*, std::string_view, std::string_view),
                              void* ctx) const {
  return series_->VisitLabels(
      ref, [&](std::string_view name, std::string_view value) { f(ctx, name, value); });
}

void Storage::VisitLabelsBatch(std::span<const storage::SeriesRef> refs,
                               const storage::LabelBatchVisitor& v) const {
  series_->VisitBatch(refs, v);
}

Position Storage::End() const { return wal_->End(); }

std::string Storage::wal_dir() const { return options_.dir; }

std::size_t Storage::NumSeries() const { return series_->size(); }

void Storage::SetFsyncObserver(std::function<void(double)> observer) {
  wal_->SetFsyncObserver(std::move(observer));
}

Storage::Stats Storage::stats() const {
  return Stats{.samples_appended = samples_appended_.load(),
               .out_of_order_samples = out_of_order_samples_.load(),
               .exemplars_appended = exemplars_appended_.load(),
               .series_removed = series_removed_.load(),
               .symbols_reclaimed = symbols_reclaimed_.load(),
               .corruptions = corruptions_,
               .checkpoint_creations = checkpoint_creations_.load(),
               .checkpoint_creations_failed = checkpoint_creations_failed_.load(),
               .segment_truncations = segment_truncations_.load(),
               .segment_truncations_failed = segment_truncations_failed_.load(),
               .checkpoint_deletions = checkpoint_deletions_.load(),
               .checkpoint_deletions_failed = checkpoint_deletions_failed_.load(),
               .replay_seconds = replay_seconds_,
               .wal = wal_->stats(),
               .highest_timestamp_ms = highest_timestamp_ms_.load()};
}

void Storage::NoteSegmentTime(int from, int to, std::int64_t t) {
  std::lock_guard lock(segments_mu_);
  from = std::max(from, first_tracked_segment_);
  if (to < from) return;
  const int count = to - first_tracked_segment_ + 1;
  const auto need = static_cast<std::size_t>(count);
  if (segment_max_time_.size() < need) {
    segment_max_time_.resize(need, std::numeric_limits<std::int64_t>::min());
  }
  for (int s = from; s <= to; ++s) {
    std::int64_t& m = segment_max_time_[static_cast<std::size_t>(s - first_tracked_segment_)];
    m = std::max(m, t);
  }
}

int Storage::OldestSegmentAfter(std::int64_t min_time_ms) const {
  {
    std::lock_guard lock(segments_mu_);
    for (std::size_t i = 0; i < segment_max_time_.size(); ++i) {
      if (segment_max_time_[i] != std::numeric_limits<std::int64_t>::min() &&
          segment_max_time_[i] >= min_time_ms) {
        return first_tracked_segment_ + static_cast<int>(i);
      }
    }
  }
  return wal_->End().segment;
}

base::Status Storage::Truncate(int keep_from, std::int64_t series_min_time_ms) {
  std::lock_guard truncate_lock(truncate_mu_);
  if (closed_.load()) return base::Status::FailedPrecondition("storage is closed");
  int current = wal_->End().segment;
  if (current <= keep_from) {
    ASSIGN_OR_RETURN(current, wal_->NextSegment());
  }
  keep_from = std::min(keep_from, current);
  ASSIGN_OR_RETURN(SegmentRange range, wal_->Segments());
  if (range.first < 0 || range.first >= keep_from) return base::Status::Ok();

  series_removed_.fetch_add(series_->Gc(keep_from, series_min_time_ms));
  // As Prometheus's agent: checkpoint, then delete the segments it replaces, then the older
  // checkpoints. A failed step leaves what the earlier ones need; the next call redoes it.
  ++checkpoint_creations_;
  base::Result<std::string> checkpoint =
      CreateCheckpoint(options_.dir, keep_from - 1, [&](Wal& cp) {
        base::Status status;
        series_->EncodeAll(kCheckpointRecordBytes, [&](std::string_view rec) {
          status = cp.Log(rec);
          return status.ok();
        });
        return status;
      });
  if (!checkpoint.ok()) {
    ++checkpoint_creations_failed_;
    return checkpoint.status();
  }
  ++segment_truncations_;
  if (base::Status s = wal_->Truncate(keep_from); !s.ok()) {
    ++segment_truncations_failed_;
    return s;
  }
  ++checkpoint_deletions_;
  if (base::Status s = DeleteCheckpoints(options_.dir, keep_from - 1); !s.ok()) {
    // Harmless but for disk space: replay reads only the newest checkpoint.
    ++checkpoint_deletions_failed_;
    spdlog::warn("wal: cannot delete old checkpoints in {}: {}", options_.dir, s.message());
  }
  {
    std::lock_guard lock(segments_mu_);
    const int drop =
        std::min(keep_from - first_tracked_segment_, static_cast<int>(segment_max_time_.size()));
    if (drop > 0)
      segment_max_time_.erase(segment_max_time_.begin(), segment_max_time_.begin() + drop);
    first_tracked_segment_ = std::max(first_tracked_segment_, keep_from);
  }
  // Symbol compaction rewrites every arena; after it, arena compaction finds nothing to do.
  symbols_reclaimed_.fetch_add(series_->MaybeCompactSymbols());
  series_->CompactArenas();
  spdlog::debug("wal: truncated {} below segment {}, checkpoint {}", options_.dir, keep_from,
                *checkpoint);
  return base::Status::Ok();
}

base::Status Storage::Close() {
  if (closed_.exchange(true)) return base::Status::FailedPrecondition("storage is closed");
  std::lock_guard truncate_lock(truncate_mu_);
  return wal_->Close();
}

}  // namespace starling::wal
