#pragma once

// Scrape targets: how a discovered label set becomes a target with its final labels and URL,
// following Prometheus 2.x's PopulateLabels (no target relabeling: in the agent that is
// discovery.relabel's job). Targets are immutable values once built; share them freely.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/labels.h"

namespace starling::scrape {

// The settings of one scrape job, as prometheus.scrape's arguments give them.
struct JobConfig {
  std::string job_name;
  bool honor_labels = false;
  bool honor_timestamps = true;
  bool track_timestamps_staleness = false;
  std::map<std::string, std::vector<std::string>> params;
  std::chrono::nanoseconds interval = std::chrono::minutes(1);
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::int64_t body_size_limit = 0;  // bytes; 0: none
  std::uint64_t sample_limit = 0;    // 0: none
  std::uint64_t target_limit = 0;
  std::uint64_t label_limit = 0;
  std::uint64_t label_name_length_limit = 0;
  std::uint64_t label_value_length_limit = 0;
  bool extra_metrics = false;

  friend bool operator==(const JobConfig&, const JobConfig&) = default;
};

// Prometheus's model.Duration format: "1m", "1m30s", "1h", "500ms", "0s".
std::string FormatPromDuration(std::chrono::nanoseconds d);
// The inverse (units y w d h m s ms, each at most once, in that order; "0" is zero).
base::Result<std::chrono::nanoseconds> ParsePromDuration(std::string_view s);

// Applies the job's defaults to a discovered label set (job, __scheme__, __metrics_path__,
// __scrape_interval__, __scrape_timeout__, __param_<name> for the first value of each param),
// adds the scheme's default port to __address__, checks the address, interval and timeout,
// drops __meta_* labels and defaults `instance` to the address. Returns the full label set
// (internal "__" labels included); an error means the target is dropped, with the reason.
base::Result<model::Labels> PopulateLabels(const model::Labels& discovered, const JobConfig& cfg);

// One scrape target: its labels (all, internal ones included), the labels it attaches to the
// samples scraped from it (those not starting with "__"), its URL, identity hash, interval and
// timeout.
class Target {
 public:
  // `labels` must come from PopulateLabels; `params` are the job's.
  Target(model::Labels labels, model::Labels discovered,
         const std::map<std::string, std::vector<std::string>>& params);

  const model::Labels& labels() const { return labels_; }
  const model::Labels& discovered_labels() const { return discovered_; }
  // The labels added to every scraped series.
  const model::Labels& target_labels() const { return target_labels_; }
  const std::string& url() const { return url_; }
  // Identity: equal labels and URL mean the same target.
  std::uint64_t hash() const { return hash_; }
  // From __scrape_interval__ / __scrape_timeout__ (validated by PopulateLabels).
  std::chrono::nanoseconds interval() const { return interval_; }
  std::chrono::nanoseconds timeout() const { return timeout_; }

  // How far after `now_unix_ns` (wall clock) this target's next scrape slot is: a fixed phase
  // within the interval derived from the target hash and a per-process seed, as Prometheus
  // spreads targets. In [0, interval].
  std::chrono::nanoseconds Offset(std::int64_t now_unix_ns, std::uint64_t seed) const;

 private:
  model::Labels labels_;
  model::Labels discovered_;
  model::Labels target_labels_;
  std::string url_;
  std::uint64_t hash_ = 0;
  std::chrono::nanoseconds interval_{};
  std::chrono::nanoseconds timeout_{};
};

// Go's strconv.FormatFloat(seconds, 'f', -1, 64) of a duration: "10", "0.5", "1.25".
std::string FormatSeconds(std::chrono::nanoseconds d);

// The shortest form of x that parses back to x ('f' format, no exponent): as Go's
// strconv.FormatFloat(x, 'f', -1, 64).
std::string FormatFloatF(double x);

}  // namespace starling::scrape
