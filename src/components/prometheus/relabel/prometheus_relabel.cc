#include "components/prometheus/relabel/prometheus_relabel.h"

#include <condition_variable>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>
#include <utility>

#include "components/common/receiver.h"
#include "components/common/relabel_rules.h"

namespace starling::components {
namespace {

using storage::SeriesRef;

// The rules and destination in force; replaced as a whole on Update.
struct Config {
  std::shared_ptr<storage::Fanout> forward_to;
  std::shared_ptr<const RelabelRules> rules;
  std::size_t max_cache_size = 0;
};

// What relabeling made of one input series. `output` is empty when the series is dropped.
struct CacheEntry {
  std::uint64_t key = 0;  // input.Hash()
  model::Labels input;
  // Shared with appenders in flight, so a cache hit copies a pointer, not the labels.
  std::shared_ptr<const model::Labels> output;
  bool dropped = false;
  // The downstream ref for `output`; only meaningful while downstream() is unchanged.
  SeriesRef downstream_ref = 0;
};

struct Metrics {
  base::Counter* processed;
  base::Counter* written;
  base::Counter* cache_hits;
  base::Counter* cache_misses;
  base::Gauge* cache_size;
  storage::FanoutMetrics fanout;
};

// Left in the registry when the component goes: its exported receiver updates them, and
// upstream components may hold on to it for a while (base::OwnedSeries would not be safe).
Metrics RegisterMetrics(base::MetricsRegistry& r, const std::string& id) {
  auto counter = [&](const char* name, const char* help) {
    return &r.AddCounterFamily(name, help, {"component_id"}).WithLabels({id});
  };
  return Metrics{
      counter("agent_prometheus_relabel_metrics_processed", "Total number of metrics processed."),
      counter("agent_prometheus_relabel_metrics_written", "Total number of metrics written."),
      counter("agent_prometheus_relabel_cache_hits", "Total number of cache hits."),
      counter("agent_prometheus_relabel_cache_misses", "Total number of cache misses."),
      &r.AddGaugeFamily("agent_prometheus_relabel_cache_size", "Total size of relabel cache.",
                        {"component_id"})
           .WithLabels({id}),
      FanoutMetricsOf(r, nullptr, id),
  };
}

// The exported receiver. It keeps no refs of its own (it returns 0), so producers always pass
// labels; its cache maps input label sets to their relabeled form and downstream ref.
// Thread-safe.
class Relabeler final : public storage::Appendable {
 public:
  explicit Relabeler(Metrics metrics) : metrics_(metrics) {}

  void Configure(Config c) {
    std::lock_guard l(mu_);
    config_ = std::move(c);
    // New rules or destinations invalidate every cached result and ref.
    cache_.clear();
    lru_.clear();
    metrics_.cache_size->Set(0);
  }

  std::unique_ptr<storage::Appender> NewAppender() override;

  // The relabeled form of `labels`, from the cache or computed; copies out what the appender
  // needs so the cache lock is not held while appending downstream.
  struct Resolved {
    bool dropped = false;
    std::shared_ptr<const model::Labels> output;
    SeriesRef downstream_ref = 0;
    std::uint64_t key = 0;
  };
  Resolved Resolve(const model::Labels& labels) {
    std::uint64_t key = labels.Hash();
    std::lock_guard l(mu_);
    metrics_.processed->Inc();
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second->input == labels) {
      metrics_.cache_hits->Inc();
      lru_.splice(lru_.begin(), lru_, it->second);
      const CacheEntry& e = *it->second;
      return {e.dropped, e.output, e.downstream_ref, key};
    }
    metrics_.cache_misses->Inc();
    CacheEntry e;
    e.key = key;
    e.input = labels;
    builder_.Reset(labels);
    model::Labels out;
    if (config_.rules == nullptr ||
        model::relabel::ProcessBuilder(builder_, config_.rules->rules)) {
      builder_.Build(&out);
    }
    e.dropped = out.Empty();
    e.output = std::make_shared<const model::Labels>(std::move(out));
    Resolved r{e.dropped, e.output, 0, key};
    Insert(key, std::move(e));
    return r;
  }

  void RememberDownstreamRef(std::uint64_t key, const model::Labels& input, SeriesRef ref) {
    std::lock_guard l(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second->input == input) it->second->downstream_ref = ref;
  }

  std::shared_ptr<storage::Fanout> downstream() {
    std::lock_guard l(mu_);
    return config_.forward_to;
  }

  Metrics& metrics() { return metrics_; }

 private:
  void Insert(std::uint64_t key, CacheEntry e) {
    if (config_.max_cache_size == 0) return;
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      // A hash collision: the newer series takes the slot.
      *it->second = std::move(e);
      lru_.splice(lru_.begin(), lru_, it->second);
      return;
    }
    lru_.push_front(std::move(e));
    cache_.emplace(key, lru_.begin());
    while (cache_.size() > config_.max_cache_size) {
      cache_.erase(lru_.back().key);
      lru_.pop_back();
    }
    metrics_.cache_size->Set(static_cast<double>(cache_.size()));
  }

  Metrics metrics_;
  std::mutex mu_;
  Config config_;              // guarded by mu_
  std::list<CacheEntry> lru_;  // guarded by mu_; most recently used first
  std::unordered_map<std::uint64_t, std::list<CacheEntry>::iterator> cache_;  // guarded by mu_
  model::LabelsBuilder builder_;                                              // guarded by mu_
};

class RelabelAppender final : public storage::Appender {
 public:
  RelabelAppender(Relabeler* r, std::shared_ptr<storage::Fanout> downstream)
      : r_(r), downstream_(std::move(downstream)), app_(downstream_->NewAppender()) {}

  base::Result<SeriesRef> Append(SeriesRef, const model::Labels& labels, std::int64_t t,
                                 double v) override {
    if (labels.Empty()) return base::Status::InvalidArgument("prometheus.relabel needs labels");
    Relabeler::Resolved res = r_->Resolve(labels);
    if (res.dropped) return SeriesRef{0};
    base::Result<SeriesRef> ref = app_->Append(res.downstream_ref, *res.output, t, v);
    if (!ref.ok()) return ref.error();
    if (*ref != res.downstream_ref) r_->RememberDownstreamRef(res.key, labels, *ref);
    r_->metrics().written->Inc();
    return SeriesRef{0};
  }

  base::Result<SeriesRef> AppendExemplar(SeriesRef, const model::Labels& labels,
                                         const storage::Exemplar& e) override {
    if (labels.Empty()) return base::Status::InvalidArgument("prometheus.relabel needs labels");
    Relabeler::Resolved res = r_->Resolve(labels);
    if (res.dropped) return SeriesRef{0};
    base::Result<SeriesRef> ref = app_->AppendExemplar(res.downstream_ref, *res.output, e);
    if (!ref.ok()) return ref.error();
    return SeriesRef{0};
  }

  base::Status Commit() override { return app_->Commit(); }
  void Rollback() override { app_->Rollback(); }

 private:
  Relabeler* r_;
  std::shared_ptr<storage::Fanout> downstream_;  // keeps the appender's targets alive
  std::unique_ptr<storage::Appender> app_;
};

std::unique_ptr<storage::Appender> Relabeler::NewAppender() {
  std::shared_ptr<storage::Fanout> d = downstream();
  if (d == nullptr)
    d = std::make_shared<storage::Fanout>(std::vector<std::shared_ptr<storage::Appendable>>{});
  return std::make_unique<RelabelAppender>(this, std::move(d));
}

class PrometheusRelabel final : public component::Component {
 public:
  PrometheusRelabel(component::Options opts, const PrometheusRelabelArgs& args)
      : opts_(std::move(opts)),
        relabeler_(std::make_shared<Relabeler>(RegisterMetrics(*opts_.metrics, opts_.id))) {
    Apply(args);
  }

  base::Status Run(std::stop_token stop) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, stop, [] { return false; });
    return base::Status::Ok();
  }

  base::Status Update(const component::Arguments& args) override {
    Apply(component::ArgsAs<PrometheusRelabelArgs>(args));
    return base::Status::Ok();
  }

 private:
  void Apply(const PrometheusRelabelArgs& a) {
    auto rules = std::make_shared<const RelabelRules>(RelabelRules{a.rules});
    // The decoded fanout again, counted as this component's.
    std::shared_ptr<storage::Fanout> forward_to;
    if (a.forward_to != nullptr) {
      forward_to =
          std::make_shared<storage::Fanout>(a.forward_to->children(), relabeler_->metrics().fanout);
    }
    relabeler_->Configure(Config{std::move(forward_to), rules,
                                 static_cast<std::size_t>(std::max(a.max_cache_size, 0))});
    if (opts_.on_state_change) {
      opts_.on_state_change(syntax::Value::Object(
          {{"receiver", ReceiverToValue(relabeler_)}, {"rules", RelabelRulesToValue(rules)}}));
    }
  }

  const component::Options opts_;
  const std::shared_ptr<Relabeler> relabeler_;
  std::mutex mu_;
  std::condition_variable_any cv_;
};

}  // namespace

void DecodePrometheusRelabelArgs(component::ArgDecoder& d, PrometheusRelabelArgs* args) {
  DecodeForwardTo(d, &args->forward_to);
  DecodeRelabelRuleBlocks(d, &args->rules);
  if (d.Optional("max_cache_size", &args->max_cache_size) && args->max_cache_size <= 0) {
    d.AddError("max_cache_size", "max_cache_size must be greater than 0");
  }
}

component::Registration PrometheusRelabelRegistration() {
  component::Registration r = component::MakeRegistration<PrometheusRelabelArgs>(
      "prometheus.relabel", DecodePrometheusRelabelArgs,
      [](const component::Options& o,
         const PrometheusRelabelArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        return std::unique_ptr<component::Component>(std::make_unique<PrometheusRelabel>(o, a));
      });
  r.exports = {{"receiver", "capsule: where to send samples to be relabeled"},
               {"rules", "capsule: the relabel rules, for components that take `rules`"}};
  return r;
}

}  // namespace starling::components
