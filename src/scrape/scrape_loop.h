#pragma once

// ScrapeLoop: what happens to one target's scrape once its body has been fetched, with
// Prometheus's semantics: parse (textparse), attach the target labels (honor_labels), enforce
// the label and sample limits, append to the appendable, write staleness markers for series
// that disappeared, and append the report series (up, scrape_duration_seconds, ...). A parse
// error, a limit or a failed fetch rolls the samples back; the report then says up=0 and
// every series of the previous successful scrape gets a staleness marker.
//
// The loop does no I/O and keeps no schedule: ScrapePool (scrape_pool.h) fetches and calls
// Process. Process and EndOfRun must not run concurrently (the pool serialises them); the
// status and the setters are thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "model/labels.h"
#include "model/textparse/textparse.h"
#include "scrape/series_cache.h"
#include "scrape/target.h"
#include "storage/storage.h"

namespace starling::scrape {

// The process's scrape metrics, shared by every loop (registered once per registry).
struct ScrapeMetrics {
  explicit ScrapeMetrics(base::MetricsRegistry& registry);

  base::Counter& exceeded_sample_limit;
  base::Counter& exceeded_body_size_limit;
  base::Counter& exceeded_label_limits;
  base::Counter& exceeded_target_limit;
  base::Counter& sample_out_of_order;
  base::Counter& sample_duplicate;
  base::Counter& samples_scraped;  // starling_scrape_samples_scraped_total
  // Pools created and reloaded with a changed scrape config (attempts, and those that failed),
  // counted by their owner, which builds what can fail (the HTTP client's settings).
  base::Counter& pools_created;
  base::Counter& pools_failed;
  base::Counter& pool_reloads;
  base::Counter& pool_reloads_failed;
  base::Family<base::Gauge>& pool_targets;
  // Each Update of a scrape pool: how many, and how long they took (the targets' rebuild).
  base::Family<base::Counter>& pool_syncs;
  base::Family<base::Summary>& sync_length;
  // Targets of a sync that could not be created (no address, a bad interval...).
  base::Family<base::Counter>& sync_failed;
  // Time between the starts of consecutive scrapes of a target, by its interval as Go prints
  // it ("15s", "1m0s"), as Prometheus's prometheus_target_interval_length_seconds.
  base::Family<base::Summary>& interval_length;
};

// Per-loop settings that may change between scrapes.
struct LoopOptions {
  bool honor_labels = false;
  bool honor_timestamps = true;
  // Also mark series with explicit timestamps stale when they vanish or the target goes down.
  bool track_timestamps_staleness = false;
  bool extra_metrics = false;
  std::uint64_t sample_limit = 0;
  std::uint64_t label_limit = 0;
  std::uint64_t label_name_length_limit = 0;
  std::uint64_t label_value_length_limit = 0;
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);

  friend bool operator==(const LoopOptions&, const LoopOptions&) = default;
};

// What the fetch of one scrape produced: an error (transport, HTTP status, body too large) or
// a body with its Content-Type.
struct FetchResult {
  base::Status error;
  bool body_too_large = false;
  std::string_view body;
  std::string_view content_type;
};

enum class TargetHealth { kUnknown, kUp, kDown };
// "unknown", "up", "down", as Prometheus spells them.
std::string_view TargetHealthName(TargetHealth h);

struct TargetStatus {
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  base::Clock::TimePoint last_scrape{};
  std::chrono::nanoseconds last_scrape_duration{};
  std::size_t cached_series = 0;
};

class ScrapeLoop {
 public:
  // `metrics` may be null (no self metrics).
  ScrapeLoop(std::shared_ptr<const Target> target, LoopOptions options, ScrapeMetrics* metrics);

  // Processes one scrape that started at `start` (wall clock, the samples' default timestamp)
  // and `start_mono` (monotonic; the duration is measured to the report on `clock`). Appends
  // through one appender of `appendable` and commits it. A changed appendable drops the cache
  // (refs belong to the appendable that issued them).
  void Process(const std::shared_ptr<storage::Appendable>& appendable, const base::Clock& clock,
               base::Clock::TimePoint start, base::Clock::Duration start_mono,
               const FetchResult& fetched);

  // The end of the target: staleness markers at `stale_time` for every series of the last
  // successful scrape and for the report series. No-op when the loop never scraped.
  void EndOfRun(const std::shared_ptr<storage::Appendable>& appendable,
                base::Clock::TimePoint stale_time);

  // Takes effect at the next Process. A change of honor_labels or honor_timestamps clears
  // the cache (it holds labels built under the old settings).
  void SetOptions(const LoopOptions& options);
  // Every scrape fails with this error (target_limit); OK clears it.
  void SetForcedError(base::Status error);

  const std::shared_ptr<const Target>& target() const { return target_; }
  TargetStatus Status() const;
  bool HasScraped() const { return last_success_ != 0 || attempt_ != 0; }

 private:
  struct Counts {
    std::uint64_t total = 0;
    std::uint64_t added = 0;
    std::uint64_t series_added = 0;
  };
  struct ReportSeries {
    model::Labels labels;
    storage::SeriesRef ref = 0;
  };

  // Appends the body's samples. On error the caller rolls back.
  base::Status AppendBody(storage::Appender& app, std::string_view body,
                          std::string_view content_type, std::int64_t ts, Counts* counts);
  // Staleness markers for the series of the last successful scrape not seen in this attempt.
  base::Status AppendStale(storage::Appender& app, std::int64_t ts);
  // A failed attempt: the cache forgets what it saw, so the series of the last successful
  // scrape all count as gone.
  void ForgetAttempt();
  // A successful attempt: records what it saw; `flush` drops the series it did not see.
  void CommitAttempt(bool flush);
  void UseAppendable(const std::shared_ptr<storage::Appendable>& appendable);
  void BuildSeriesLabels(const model::Labels& metric, model::Labels* out);
  base::Status CheckLabelLimits(const model::Labels& lset) const;
  base::Status Report(storage::Appender& app, std::int64_t ts, double duration_s,
                      const Counts& counts, std::int64_t bytes, bool up);
  base::Status ReportStale(storage::Appender& app, std::int64_t ts);
  base::Status AddReportSample(storage::Appender& app, std::size_t i, std::int64_t ts, double v);

  const std::shared_ptr<const Target> target_;
  ScrapeMetrics* const metrics_;

  // Owned by the thread calling Process / EndOfRun.
  LoopOptions options_;
  SeriesCache cache_;
  std::uint32_t attempt_ = 0;       // the current (or last) attempt
  std::uint32_t last_success_ = 0;  // the last attempt that counted as a scrape (0: none)
  std::optional<base::Clock::Duration> last_start_;  // of the previous scrape, monotonic
  base::Summary* interval_length_ = nullptr;         // this target's series, once it has one
  std::weak_ptr<storage::Appendable> last_appendable_;
  bool had_appendable_ = false;
  std::vector<ReportSeries> report_;
  model::Labels scratch_;
  std::vector<model::Label> merge_;
  std::vector<model::Label> conflicts_;
  model::textparse::Exemplar exemplar_;

  mutable std::mutex mu_;
  std::optional<LoopOptions> pending_options_;  // guarded by mu_
  base::Status forced_error_;                   // guarded by mu_
  TargetStatus status_;                         // guarded by mu_
};

}  // namespace starling::scrape
