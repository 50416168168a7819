#pragma once

// Metrics: counters, gauges, histograms and summaries, optionally split by label values,
// rendered in the Prometheus text exposition format 0.0.4 for /metrics.
//
// A MetricsRegistry owns metric families, each a name, a help text, a type and a list of label
// names. A family holds one series per distinct list of label values; a series is a Counter, a
// Gauge, a Histogram or a Summary. Registering returns a reference that stays valid until the
// family is removed from the registry, so hot paths look a series up once and keep the
// reference: updating a counter, gauge or histogram is a single atomic operation, no lock and no
// allocation (a summary takes a lock).
//
// Callback metrics compute their value when the registry is rendered, for numbers owned
// elsewhere (process statistics, queue lengths).
//
// Thread-safety: every class here is thread-safe. Callbacks run while the registry's lock is
// held and must not call back into the same registry.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/check.h"
#include "base/clock.h"

namespace starling::base {

enum class MetricType { kCounter, kGauge, kHistogram, kSummary };

// "counter", "gauge" or "histogram", as the # TYPE line spells it.
std::string_view MetricTypeName(MetricType type);

// A value that only goes up (until the process restarts).
class Counter {
 public:
  static constexpr MetricType kType = MetricType::kCounter;

  void Inc() { Add(1); }
  // Negative and NaN increments are ignored: a counter never goes down.
  void Add(double v) {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class Gauge {
 public:
  static constexpr MetricType kType = MetricType::kGauge;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Sub(double v) { Add(-v); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into buckets by upper bound, with their sum and count: a Prometheus
// histogram, rendered as name_bucket{le="..."} (cumulative, ending with +Inf), name_sum and
// name_count. The bounds are the family's, which outlives its series.
class Histogram {
 public:
  static constexpr MetricType kType = MetricType::kHistogram;

  // bounds: increasing and finite, kept by reference; the +Inf bucket is implied.
  explicit Histogram(std::span<const double> bounds);

  void Observe(double v);

  std::span<const double> bounds() const { return bounds_; }
  // Observations in bucket i alone (not cumulative); i == bounds().size() is the +Inf bucket.
  std::uint64_t BucketCount(std::size_t i) const {
    return counts_[i].load(std::memory_order_relaxed);
  }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::span<const double> bounds_;
  const std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0};
};

// Observations summarized by quantiles over a sliding window, their sum and their count: a
// Prometheus summary, rendered as name{quantile="q"} for each quantile, name_sum and name_count,
// as client_golang's summaries with objectives are. Sum and count cover every observation; the
// quantiles cover about the last 10 minutes, as client_golang's (MaxAge 10m in 5 age buckets),
// and are NaN while that window is empty. Each age bucket keeps a uniform random sample of at
// most kSampleCap observations, so memory stays bounded however often it is observed; the
// quantiles are exact until a bucket overflows. The quantiles are the family's, which outlives
// its series; so does the clock.
class Summary {
 public:
  static constexpr MetricType kType = MetricType::kSummary;
  static constexpr int kAgeBuckets = 5;
  static constexpr Clock::Duration kMaxAge = std::chrono::minutes(10);
  static constexpr std::size_t kSampleCap = 1024;

  // quantiles: ascending, in [0, 1], kept by reference.
  Summary(std::span<const double> quantiles, const Clock& clock);

  void Observe(double v);

  std::span<const double> quantiles() const { return quantiles_; }
  // The value of each of quantiles() over the window, in their order.
  std::vector<double> QuantileValues() const;
  double Sum() const;
  std::uint64_t Count() const;

 private:
  struct AgeBucket {
    std::vector<double> sample;
    std::uint64_t seen = 0;  // observations the sample stands for
  };
  // Moves to the age bucket of `now`, clearing those that aged out. Needs mu_.
  void Rotate(Clock::Duration now) const;

  const std::span<const double> quantiles_;
  const Clock& clock_;
  mutable std::mutex mu_;
  mutable AgeBucket buckets_[kAgeBuckets];  // guarded by mu_; a ring, current at head_
  mutable int head_ = 0;                    // guarded by mu_
  mutable Clock::Duration head_start_;      // guarded by mu_: when the current bucket began
  std::uint64_t random_;                    // guarded by mu_: the sampling's generator state
  double sum_ = 0;                          // guarded by mu_
  std::uint64_t count_ = 0;                 // guarded by mu_
};

namespace internal {

// Common part of every family, so the registry can hold and render them uniformly.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, MetricType type,
             std::vector<std::string> label_names);
  virtual ~FamilyBase() = default;
  FamilyBase(const FamilyBase&) = delete;
  FamilyBase& operator=(const FamilyBase&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // Appends the family's sample lines (not the # HELP and # TYPE lines) to *out. Returns the
  // number of samples written.
  virtual int RenderSamples(std::string* out) const = 0;

 protected:
  // Appends `name{l1="v1",...} value\n`.
  void AppendSample(std::span<const std::string> label_values, double value,
                    std::string* out) const;
  // Appends a histogram's _bucket, _sum and _count samples.
  void AppendHistogram(std::span<const std::string> label_values, const Histogram& h,
                       std::string* out) const;
  // Appends a summary's quantile, _sum and _count samples.
  void AppendSummary(std::span<const std::string> label_values, const Summary& s,
                     std::string* out) const;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

// Orders label value lists; transparent so lookups by string_view lists do not allocate.
struct LabelValuesLess {
  using is_transparent = void;
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return std::lexicographical_compare(
        a.begin(), a.end(), b.begin(), b.end(),
        [](std::string_view x, std::string_view y) { return x < y; });
  }
};

}  // namespace internal

// One metric name with its series, one per list of label values. M is Counter, Gauge,
// Histogram or Summary; bounds are a histogram family's bucket bounds or a summary family's
// quantiles, and clock is a summary family's.
template <typename M>
class Family final : public internal::FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {}, const Clock* clock = nullptr)
      : FamilyBase(std::move(name), std::move(help), M::kType, std::move(label_names)),
        bounds_(std::move(bounds)),
        clock_(clock) {}

  const std::vector<double>& bounds() const { return bounds_; }

  // The series with these label values (as many as the family has label names), created at
  // zero on first use. The reference is valid until this family is removed from its registry
  // or Remove() is called with the same values.
  M& WithLabels(std::initializer_list<std::string_view> values) {
    return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  M& WithLabels(std::span<const std::string_view> values) {
    CheckArity(values.size());
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    if (it == series_.end()) {
      std::unique_ptr<M> m;
      if constexpr (std::is_same_v<M, Histogram>) {
        m = std::make_unique<M>(bounds_);
      } else if constexpr (std::is_same_v<M, Summary>) {
        m = std::make_unique<M>(bounds_, *clock_);
      } else {
        m = std::make_unique<M>();
      }
      it = series_.emplace(std::vector<std::string>(values.begin(), values.end()), std::move(m))
               .first;
    }
    return *it->second;
  }

  // Drops one series (for example when a scrape target goes away). Returns whether it existed.
  bool Remove(std::initializer_list<std::string_view> values) {
    return Remove(std::span<const std::string_view>(values.begin(), values.size()));
  }
  bool Remove(std::span<const std::string_view> values) {
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    if (it == series_.end()) return false;
    series_.erase(it);
    return true;
  }

  int RenderSamples(std::string* out) const override {
    std::lock_guard lock(mu_);
    for (const auto& [values, metric] : series_) {
      if constexpr (std::is_same_v<M, Histogram>) {
        AppendHistogram(values, *metric, out);
      } else if constexpr (std::is_same_v<M, Summary>) {
        AppendSummary(values, *metric, out);
      } else {
        AppendSample(values, metric->Value(), out);
      }
    }
    return static_cast<int>(series_.size());
  }

 private:
  void CheckArity(std::size_t n) const {
    CHECK(n == label_names().size()) << "metric " << name() << " has " << label_names().size()
                                     << " labels, got " << n << " values";
  }

  const std::vector<double> bounds_;
  const Clock* const clock_;
  mutable std::mutex mu_;
  // Guarded by mu_. Values are heap-allocated so references survive rehashing and inserts.
  std::map<std::vector<std::string>, std::unique_ptr<M>, internal::LabelValuesLess> series_;
};

// Owns metric families and renders them. See the file comment.
class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Register a family, or return the existing one when a family of this name, type and label
  // names is already registered (so two users of one metric share it). A name registered with
  // another type or other label names is a programming error and aborts, as do invalid metric
  // or label names.
  Family<Counter>& AddCounterFamily(std::string name, std::string help,
                                    std::vector<std::string> label_names);
  Family<Gauge>& AddGaugeFamily(std::string name, std::string help,
                                std::vector<std::string> label_names);
  // bounds: increasing, finite bucket bounds; label_names must not include "le". Registering
  // the name again needs the same bounds.
  Family<Histogram>& AddHistogramFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds);
  // quantiles: ascending, in [0, 1]; label_names must not include "quantile". The clock ages
  // the quantiles' window. Registering the name again needs the same quantiles.
  Family<Summary>& AddSummaryFamily(std::string name, std::string help,
                                    std::vector<std::string> label_names,
                                    std::vector<double> quantiles,
                                    const Clock& clock = Clock::Real());
  // A family without labels, and its only series.
  Counter& AddCounter(std::string name, std::string help);
  Gauge& AddGauge(std::string name, std::string help);

  // A metric without labels whose value fn computes at render time. Registering a name again
  // with the same type replaces the function.
  void AddCallback(std::string name, std::string help, MetricType type, std::function<double()> fn);

  // Removes a family; references into it become invalid. Returns whether it existed.
  bool Remove(std::string_view name);

  // The Prometheus text format 0.0.4: families sorted by name, series by label values.
  // Families without series are left out.
  std::string Render() const;

  // The Content-Type that goes with Render()'s output.
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  template <typename M>
  Family<M>& AddFamily(std::string name, std::string help, std::vector<std::string> label_names,
                       std::vector<double> bounds = {}, const Clock* clock = nullptr);

  mutable std::mutex mu_;
  // Guarded by mu_.
  std::map<std::string, std::unique_ptr<internal::FamilyBase>, std::less<>> families_;
};

// client_golang's default histogram buckets (prometheus.DefBuckets), 5 ms to 10 s, which the
// Agent's own histograms use.
inline std::vector<double> DefaultBuckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

// Registers the standard process_* metrics of Prometheus client libraries, read from /proc at
// render time: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds, process_open_fds and
// process_max_fds. Metrics whose source cannot be read render as NaN. Linux only.
void RegisterProcessMetrics(MetricsRegistry& registry);
// Registers what the Grafana Agent exports as agent_resources_*, which its Resources dashboard
// plots: the process's start time, CPU time and resident and virtual memory, and the bytes
// received and sent over every network interface (of the process's network namespace).
void RegisterAgentResourceMetrics(MetricsRegistry& registry);

// Whether name is a valid Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*).
bool IsValidMetricName(std::string_view name);
// Whether name is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
bool IsValidLabelName(std::string_view name);

}  // namespace starling::base
