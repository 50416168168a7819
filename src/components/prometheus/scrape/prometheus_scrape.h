#pragma once

// prometheus.scrape: scrapes the given targets over HTTP every scrape_interval and forwards the
// samples to the receivers in forward_to, as Grafana Agent's prometheus.scrape (which is
// Prometheus's scrape manager for one job). All scrape components of the process share the
// scrape module's scheduler threads and HTTP client. Exports nothing. DebugInfo lists each
// active target with its URL, labels (final and as discovered), health, last error, last scrape
// time and duration, and series count.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "component/component.h"
#include "components/common/http_client.h"
#include "components/common/targets.h"
#include "storage/storage.h"

namespace starling::components {

struct PrometheusScrapeArgs {
  std::vector<Target> targets;
  std::vector<std::shared_ptr<storage::Appendable>> forward_to;
  std::string job_name;  // empty: the component id
  bool extra_metrics = false;
  bool enable_protobuf_negotiation = false;  // accepted; the text formats are always used
  bool honor_labels = false;
  bool honor_timestamps = true;
  bool track_timestamps_staleness = false;
  std::map<std::string, std::vector<std::string>> params;
  bool scrape_classic_histograms = false;  // accepted; no native histograms are scraped
  std::chrono::nanoseconds scrape_interval = std::chrono::minutes(1);
  std::chrono::nanoseconds scrape_timeout = std::chrono::seconds(10);
  std::string metrics_path = "/metrics";
  std::string scheme = "http";
  std::int64_t body_size_limit = 0;
  std::uint64_t sample_limit = 0;
  std::uint64_t target_limit = 0;
  std::uint64_t label_limit = 0;
  std::uint64_t label_name_length_limit = 0;
  std::uint64_t label_value_length_limit = 0;
  HttpClientArgs client;
  struct Clustering {
    bool enabled = false;
  };
  Clustering clustering;  // enabled: scrape only the targets this cluster node owns
};

void DecodePrometheusScrapeArgs(component::ArgDecoder& d, PrometheusScrapeArgs* args);

// alecthomas/units' ParseBase2Bytes, as body_size_limit is written: "10MB", "1GiB", "512KB".
base::Result<std::int64_t> ParseBase2Bytes(std::string_view s);

component::Registration PrometheusScrapeRegistration();

}  // namespace starling::components
