#include "components/prometheus/scrape/prometheus_scrape.h"

#include <condition_variable>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <utility>

#include "base/go_duration.h"
#include "base/owned_series.h"
#include "cluster/cluster.h"
#include "components/common/receiver.h"
#include "scrape/scrape_pool.h"

namespace starling::components {
namespace {

using namespace std::chrono_literals;

// A per-process seed for the scrape offsets, as Prometheus derives one per process.
std::uint64_t OffsetSeed() {
  static const std::uint64_t kSeed = [] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }();
  return kSeed;
}

// Where metrics go when the options carry no registry (only in tests).
base::MetricsRegistry& FallbackRegistry() {
  static auto* registry = new base::MetricsRegistry();
  return *registry;
}

// Go's time.Time.MarshalText (RFC 3339 with nanoseconds, trailing zeros trimmed), in UTC.
std::string FormatTime(base::Clock::TimePoint t) {
  if (t == base::Clock::TimePoint{}) return "0001-01-01T00:00:00Z";
  const auto ns = t.time_since_epoch().count();
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (frac != 0) {
    char fbuf[16];
    std::snprintf(fbuf, sizeof fbuf, ".%09ld", frac);
    std::string f = fbuf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

syntax::Value LabelsToObject(const model::Labels& l) {
  syntax::ValueObject o;
  for (const auto& [name, value] : l) o.emplace(name, syntax::Value::String(value));
  return syntax::Value::Object(std::move(o));
}

class PrometheusScrape final : public component::Component {
 public:
  explicit PrometheusScrape(const component::Options& opts)
      : opts_(opts), metrics_(opts.metrics != nullptr ? *opts.metrics : FallbackRegistry()) {
    scrape::ScrapePool::Options po;
    po.clock = opts.clock;
    po.metrics = &metrics_;
    po.offset_seed = OffsetSeed();
    po.log_error = [logger = opts.logger](const std::string& msg) { logger.Warn("{}", msg); };
    pool_ = std::make_unique<scrape::ScrapePool>(std::move(po));
    targets_gauge_ = &owned_series_.AddGauge("prometheus_scrape_targets_gauge",
                                             "Number of targets this component scrapes (with "
                                             "clustering, the ones this node owns).",
                                             {"component_id"}, {opts.id});
    // The Agent's name for the same gauge (Alloy dropped the prefix).
    agent_targets_gauge_ = &owned_series_.AddGauge(
        "agent_prometheus_scrape_targets_gauge",
        "Number of targets this component is configured to scrape", {"component_id"}, {opts.id});
    fanout_metrics_ = FanoutMetricsOf(metrics_registry(), &owned_series_, opts.id);
    targets_moved_ = &owned_series_.AddCounter("prometheus_scrape_targets_moved_total",
                                               "Targets that stopped being scraped here because "
                                               "another cluster node owns them now.",
                                               {"component_id"}, {opts.id});
    if (opts.services != nullptr) cluster_ = opts.services->Get<cluster::Cluster>("cluster");
    if (cluster_ != nullptr) {
      // Only a wake-up here: the re-filtering runs on the component's own thread.
      subscription_ = cluster_->Subscribe([this] {
        std::lock_guard<std::mutex> lock(mu_);
        refilter_ = true;
        cv_.notify_all();
      });
    }
  }

  ~PrometheusScrape() override {
    if (cluster_ != nullptr) cluster_->Unsubscribe(subscription_);
    pool_->Stop(false);
  }

  base::Status Apply(const PrometheusScrapeArgs& args) {
    std::lock_guard<std::mutex> apply_lock(apply_mu_);
    last_args_ = args;
    scrape::JobConfig cfg;
    cfg.job_name = args.job_name.empty() ? opts_.id : args.job_name;
    cfg.honor_labels = args.honor_labels;
    cfg.honor_timestamps = args.honor_timestamps;
    cfg.track_timestamps_staleness = args.track_timestamps_staleness;
    cfg.params = args.params;
    cfg.interval = args.scrape_interval;
    cfg.timeout = args.scrape_timeout;
    cfg.metrics_path = args.metrics_path;
    cfg.scheme = args.scheme;
    cfg.body_size_limit = args.body_size_limit;
    cfg.sample_limit = args.sample_limit;
    cfg.target_limit = args.target_limit;
    cfg.label_limit = args.label_limit;
    cfg.label_name_length_limit = args.label_name_length_limit;
    cfg.label_value_length_limit = args.label_value_length_limit;
    cfg.extra_metrics = args.extra_metrics;

    // As Prometheus counts its scrape pools: a new job name is a new pool, a changed scrape
    // config (not targets or receivers) a reload; one that failed is tried again next time.
    const bool create = !applied_.has_value() || applied_->job.job_name != cfg.job_name;
    const bool reload = !create && (applied_->job != cfg || applied_->client != args.client);
    if (create) metrics_.pools_created.Inc();
    if (reload) metrics_.pool_reloads.Inc();
    base::Result<std::shared_ptr<const net::ClientConfig>> client = BuildClientConfig(args.client);
    if (!client.ok()) {
      if (create) metrics_.pools_failed.Inc();
      if (reload) metrics_.pool_reloads_failed.Inc();
      SetHealth(client.error().message());
      return client.error();
    }
    applied_ = AppliedConfig{cfg, args.client};

    std::vector<model::Labels> discovered;
    discovered.reserve(args.targets.size());
    for (const Target& t : args.targets) discovered.push_back(TargetToLabels(t));

    std::shared_ptr<storage::Appendable> appendable;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // The same receivers keep the same fanout, so the refs the loops cached stay valid.
      if (fanout_ == nullptr || receivers_ != args.forward_to) {
        receivers_ = args.forward_to;
        fanout_ = std::make_shared<storage::Fanout>(receivers_, fanout_metrics_);
      }
      appendable = fanout_;
    }
    scrape::ScrapePool::OwnsTarget owns;
    if (args.clustering.enabled && cluster_ != nullptr) {
      owns = [view = cluster_->View()](const model::Labels& d) {
        return view.Owns(d.NonMetaHash());
      };
    }
    std::size_t moved = 0;
    std::vector<scrape::DroppedTarget> dropped =
        pool_->Update(cfg, std::move(*client), std::move(appendable), discovered, owns, &moved);
    targets_moved_->Add(static_cast<double>(moved));
    const auto active = static_cast<double>(pool_->ActiveTargets().size());
    targets_gauge_->Set(active);
    agent_targets_gauge_->Set(active);
    SetHealth("");
    return base::Status::Ok();
  }

  base::Status Run(std::stop_token stop) override {
    pool_->Start();
    {
      std::unique_lock<std::mutex> lock(mu_);
      std::stop_callback on_stop(stop, [this] {
        std::lock_guard<std::mutex> l(mu_);
        cv_.notify_all();
      });
      while (!stop.stop_requested()) {
        cv_.wait(lock, [&] { return stop.stop_requested() || refilter_; });
        if (!refilter_ || stop.stop_requested()) continue;
        refilter_ = false;
        lock.unlock();
        Refilter();
        lock.lock();
      }
    }
    // Targets that moved to other nodes (this one is leaving the cluster) must not get
    // staleness markers: hand them over first, then mark what is really gone.
    Refilter();
    pool_->Stop(/*stale_markers=*/true);
    return base::Status::Ok();
  }

  base::Status Update(const component::Arguments& args) override {
    return Apply(component::ArgsAs<PrometheusScrapeArgs>(args));
  }

  component::Health CurrentHealth() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return health_;
  }

  syntax::Value DebugInfo() const override {
    syntax::ValueArray targets;
    for (const scrape::ActiveTarget& t : pool_->ActiveTargets()) {
      syntax::ValueObject o;
      o.emplace("job", syntax::Value::String(t.job));
      o.emplace("url", syntax::Value::String(t.url));
      o.emplace("health",
                syntax::Value::String(std::string(scrape::TargetHealthName(t.status.health))));
      o.emplace("labels", LabelsToObject(t.labels));
      o.emplace("discovered_labels", LabelsToObject(t.discovered_labels));
      o.emplace("last_error", syntax::Value::String(t.status.last_error));
      o.emplace("last_scrape", syntax::Value::String(FormatTime(t.status.last_scrape)));
      o.emplace("last_scrape_duration",
                syntax::Value::String(base::FormatGoDuration(t.status.last_scrape_duration)));
      o.emplace("series", syntax::Value::Uint(t.status.cached_series));
      targets.push_back(syntax::Value::Object(std::move(o)));
    }
    return syntax::Value::Object({{"target", syntax::Value::Array(std::move(targets))}});
  }

 private:
  void SetHealth(const std::string& error) {
    std::lock_guard<std::mutex> lock(mu_);
    health_ = {
        error.empty() ? component::HealthState::kHealthy : component::HealthState::kUnhealthy,
        error, opts_.clock->Now()};
  }

  base::MetricsRegistry& metrics_registry() const {
    return opts_.metrics != nullptr ? *opts_.metrics : FallbackRegistry();
  }

  // The cluster's peers changed: apply the last arguments again with the new ownership.
  void Refilter() {
    std::optional<PrometheusScrapeArgs> args;
    {
      std::lock_guard<std::mutex> apply_lock(apply_mu_);
      if (!last_args_.has_value() || !last_args_->clustering.enabled) return;
      args = last_args_;
    }
    (void)Apply(*args);
  }

  const component::Options opts_;
  scrape::ScrapeMetrics metrics_;
  std::shared_ptr<cluster::Cluster> cluster_;  // null in tests without services
  std::uint64_t subscription_ = 0;
  // This component's own series, which leave the registry with it.
  base::OwnedSeries owned_series_{metrics_registry()};
  base::Gauge* targets_gauge_ = nullptr;
  base::Gauge* agent_targets_gauge_ = nullptr;
  storage::FanoutMetrics fanout_metrics_;
  base::Counter* targets_moved_ = nullptr;

  std::mutex apply_mu_;  // serialises Apply (Update's thread and Run's thread)
  std::optional<PrometheusScrapeArgs> last_args_;  // guarded by apply_mu_
  // The scrape config last applied without error. Guarded by apply_mu_.
  struct AppliedConfig {
    scrape::JobConfig job;
    HttpClientArgs client;
  };
  std::optional<AppliedConfig> applied_;
  std::unique_ptr<scrape::ScrapePool> pool_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  component::Health health_;                                     // guarded by mu_
  bool refilter_ = false;                                        // guarded by mu_
  std::vector<std::shared_ptr<storage::Appendable>> receivers_;  // guarded by mu_
  std::shared_ptr<storage::Appendable> fanout_;                  // guarded by mu_
};

void DecodeBodySizeLimit(component::ArgDecoder& d, std::int64_t* out) {
  syntax::Value v;
  if (!d.Optional("body_size_limit", &v) || v.is_null()) return;
  if (v.kind() == syntax::ValueKind::kString) {
    base::Result<std::int64_t> n = ParseBase2Bytes(v.AsString());
    if (!n.ok()) {
      d.AddError("body_size_limit", n.error().message());
      return;
    }
    *out = *n;
    return;
  }
  std::int64_t n = 0;
  base::Status s = component::DecodeValue(v, &n);
  if (!s.ok()) {
    d.AddError("body_size_limit", "should be string, got " + v.TypeName());
    return;
  }
  *out = n;
}

}  // namespace

base::Result<std::int64_t> ParseBase2Bytes(std::string_view s) {
  const std::string orig(s);
  std::string_view rest = s;
  bool neg = false;
  if (!rest.empty() && (rest[0] == '-' || rest[0] == '+')) {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (rest == "0") return std::int64_t{0};
  if (rest.empty()) return base::Status::InvalidArgument("units: invalid " + orig);
  static const std::map<std::string, std::int64_t, std::less<>> kUnits = {
      {"B", 1},           {"KB", 1LL << 10}, {"KiB", 1LL << 10}, {"MB", 1LL << 20},
      {"MiB", 1LL << 20}, {"GB", 1LL << 30}, {"GiB", 1LL << 30}, {"TB", 1LL << 40},
      {"TiB", 1LL << 40}, {"PB", 1LL << 50}, {"PiB", 1LL << 50}, {"EB", 1LL << 60},
      {"EiB", 1LL << 60},
  };
  double total = 0;
  while (!rest.empty()) {
    std::size_t n = 0;
    while (n < rest.size() && ((rest[n] >= '0' && rest[n] <= '9') || rest[n] == '.')) ++n;
    if (n == 0) return base::Status::InvalidArgument("units: invalid " + orig);
    double v = 0;
    try {
      v = std::stod(std::string(rest.substr(0, n)));
    } catch (...) {
      return base::Status::InvalidArgument("units: invalid " + orig);
    }
    rest.remove_prefix(n);
    std::size_t u = 0;
    while (u < rest.size() && !((rest[u] >= '0' && rest[u] <= '9') || rest[u] == '.')) ++u;
    if (u == 0) return base::Status::InvalidArgument("units: missing unit in " + orig);
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    auto it = kUnits.find(unit);
    if (it == kUnits.end()) {
      return base::Status::InvalidArgument("units: unknown unit " + std::string(unit) + " in " +
                                           orig);
    }
    total += v * static_cast<double>(it->second);
  }
  if (total > 9.2e18) return base::Status::InvalidArgument("units: overflow in " + orig);
  auto n = static_cast<std::int64_t>(total);
  return neg ? -n : n;
}

void DecodePrometheusScrapeArgs(component::ArgDecoder& d, PrometheusScrapeArgs* args) {
  d.Required("targets", &args->targets);
  d.Required("forward_to", &args->forward_to);
  d.Optional("job_name", &args->job_name);
  d.Optional("extra_metrics", &args->extra_metrics);
  d.Optional("enable_protobuf_negotiation", &args->enable_protobuf_negotiation);
  d.Optional("honor_labels", &args->honor_labels);
  d.Optional("honor_timestamps", &args->honor_timestamps);
  d.Optional("track_timestamps_staleness", &args->track_timestamps_staleness);
  d.Optional("params", &args->params);
  d.Optional("scrape_classic_histograms", &args->scrape_classic_histograms);
  d.Optional("scrape_interval", &args->scrape_interval);
  d.Optional("scrape_timeout", &args->scrape_timeout);
  d.Optional("metrics_path", &args->metrics_path);
  d.Optional("scheme", &args->scheme);
  DecodeBodySizeLimit(d, &args->body_size_limit);
  d.Optional("sample_limit", &args->sample_limit);
  d.Optional("target_limit", &args->target_limit);
  d.Optional("label_limit", &args->label_limit);
  d.Optional("label_name_length_limit", &args->label_name_length_limit);
  d.Optional("label_value_length_limit", &args->label_value_length_limit);
  DecodeHttpClientArgs(d, &args->client);
  d.Block<PrometheusScrapeArgs::Clustering>(
      "clustering", &args->clustering,
      [](component::ArgDecoder& cd, PrometheusScrapeArgs::Clustering* c) {
        cd.Optional("enabled", &c->enabled);
      });
  if (args->scrape_timeout > args->scrape_interval) {
    d.AddError("scrape_timeout", "scrape_timeout (" + base::FormatGoDuration(args->scrape_timeout) +
                                     ") greater than scrape_interval (" +
                                     base::FormatGoDuration(args->scrape_interval) +
                                     ") for scrape config with job name \"" + args->job_name +
                                     "\"");
  }
}

component::Registration PrometheusScrapeRegistration() {
  component::Registration r = component::MakeRegistration<PrometheusScrapeArgs>(
      "prometheus.scrape", DecodePrometheusScrapeArgs,
      [](const component::Options& o,
         const PrometheusScrapeArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        auto c = std::make_unique<PrometheusScrape>(o);
        RETURN_IF_ERROR(c->Apply(a));
        return std::unique_ptr<component::Component>(std::move(c));
      });
  r.supports_clustering = true;
  return r;
}

}  // namespace starling::components
