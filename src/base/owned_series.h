#pragma once

// Series that one owner (a component, a remote-write queue) registers and that leave the
// registry with it, as a Prometheus collector is unregistered when what it measures goes away:
// a removed component or endpoint leaves no stale series behind.
//
// The owner must be the only user of these series (its label values tell them apart, e.g. by
// component_id) and must stop updating them before it is destroyed. Registering is not
// thread-safe; the returned series are.

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/metrics.h"

namespace starling::base {

class OwnedSeries {
 public:
  explicit OwnedSeries(MetricsRegistry& registry) : registry_(registry) {}
  ~OwnedSeries() {
    for (const auto& remove : removers_) remove();
  }
  OwnedSeries(const OwnedSeries&) = delete;
  OwnedSeries& operator=(const OwnedSeries&) = delete;

  // The series with these label values in the family (registered as by MetricsRegistry's
  // Add*Family with the same arguments).
  Counter& AddCounter(std::string name, std::string help, std::vector<std::string> label_names,
                      std::vector<std::string> label_values) {
    return Track(
        registry_.AddCounterFamily(std::move(name), std::move(help), std::move(label_names)),
        std::move(label_values));
  }
  Gauge& AddGauge(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<std::string> label_values) {
    return Track(registry_.AddGaugeFamily(std::move(name), std::move(help), std::move(label_names)),
                 std::move(label_values));
  }
  Histogram& AddHistogram(std::string name, std::string help, std::vector<std::string> label_names,
                          std::vector<double> bounds, std::vector<std::string> label_values) {
    return Track(registry_.AddHistogramFamily(std::move(name), std::move(help),
                                              std::move(label_names), std::move(bounds)),
                 std::move(label_values));
  }

  Summary& AddSummary(std::string name, std::string help, std::vector<std::string> label_names,
                      std::vector<double> quantiles, std::vector<std::string> label_values,
                      const Clock& clock = Clock::Real()) {
    return Track(registry_.AddSummaryFamily(std::move(name), std::move(help),
                                            std::move(label_names), std::move(quantiles), clock),
                 std::move(label_values));
  }

 private:
  template <typename M>
  M& Track(Family<M>& family, std::vector<std::string> values) {
    auto view = [](const std::vector<std::string>& v) {
      return std::vector<std::string_view>(v.begin(), v.end());
    };
    M& series = family.WithLabels(view(values));
    removers_.emplace_back(
        [&family, values = std::move(values), view] { family.Remove(view(values)); });
    return series;
  }

  MetricsRegistry& registry_;
  std::vector<std::function<void()>> removers_;
};

}  // namespace starling::base
