#include "components/prometheus/remote_write/remote_write.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "base/owned_series.h"
#include "components/common/receiver.h"
#include "components/common/relabel_rules.h"
#include "remote/queue.h"
#include "wal/storage.h"

namespace starling::components {
namespace {

using std::chrono::nanoseconds;

std::int64_t UnixMillis(base::Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Series labels straight from the store: the queues keep no copy.
class StorageLabels final : public remote::LabelSource {
 public:
  explicit StorageLabels(const wal::Storage* s) : s_(s) {}
  bool Visit(storage::SeriesRef ref, Visitor f, void* ctx) const override {
    return s_->ForEachLabel(ref,
                            [f, ctx](std::string_view n, std::string_view v) { f(ctx, n, v); });
  }
  void VisitBatch(std::span<const storage::SeriesRef> refs,
                  const storage::LabelBatchVisitor& v) const override {
    s_->VisitLabelsBatch(refs, v);
  }

 private:
  const wal::Storage* s_;
};

// Everything about an endpoint that a running queue depends on but its HTTP client settings
// (compared as they are): a queue is restarted when either changes.
std::string Fingerprint(const RemoteWriteEndpoint& e,
                        const std::map<std::string, std::string>& external_labels) {
  std::string f;
  auto add = [&f](std::string_view s) {
    f += std::to_string(s.size());
    f += ':';
    f += s;
  };
  auto num = [&add](auto v) { add(std::to_string(v)); };
  add(e.name);
  add(e.url);
  num(e.remote_timeout.count());
  for (const auto& [k, v] : e.headers) add(k), add(v);
  num(e.send_exemplars);
  const remote::QueueConfig& q = e.queue;
  num(q.capacity), num(q.max_shards), num(q.min_shards), num(q.max_samples_per_send);
  num(q.batch_send_deadline.count()), num(q.min_backoff.count()), num(q.max_backoff.count());
  num(q.retry_on_http_429), num(q.sample_age_limit.count());
  for (const model::relabel::Config& r : e.write_relabel_configs) {
    for (const std::string& s : r.source_labels) add(s);
    add(r.separator), add(r.regex.pattern()), num(r.modulus), add(r.target_label);
    add(r.replacement), add(model::relabel::ActionName(r.action));
  }
  for (const auto& [k, v] : external_labels) add(k), add(v);
  return f;
}

void DecodeQueueConfig(component::ArgDecoder& d, remote::QueueConfig* q) {
  d.Optional("capacity", &q->capacity);
  d.Optional("max_shards", &q->max_shards);
  d.Optional("min_shards", &q->min_shards);
  d.Optional("max_samples_per_send", &q->max_samples_per_send);
  d.Optional("batch_send_deadline", &q->batch_send_deadline);
  d.Optional("min_backoff", &q->min_backoff);
  d.Optional("max_backoff", &q->max_backoff);
  d.Optional("retry_on_http_429", &q->retry_on_http_429);
  d.Optional("sample_age_limit", &q->sample_age_limit);
}

void DecodeMetadataConfig(component::ArgDecoder& d, RemoteWriteMetadataConfig* m) {
  d.Optional("send", &m->send);
  d.Optional("send_interval", &m->send_interval);
  d.Optional("max_samples_per_send", &m->max_samples_per_send);
}

void DecodeEndpoint(component::ArgDecoder& d, RemoteWriteEndpoint* e) {
  d.Optional("name", &e->name);
  if (d.Required("url", &e->url)) {
    const std::size_t sep = e->url.find("://");
    if (sep == std::string::npos || sep == 0) {
      d.AddError("url", "cannot parse remote_write url \"" + e->url + "\"");
    }
  }
  d.Optional("remote_timeout", &e->remote_timeout);
  d.Optional("headers", &e->headers);
  d.Optional("send_exemplars", &e->send_exemplars);
  d.Optional("send_native_histograms", &e->send_native_histograms);
  DecodeHttpClientArgs(d, &e->client);
  DecodeCloudAuthBlocks(d, &e->client);
  d.Block<remote::QueueConfig>("queue_config", &e->queue, DecodeQueueConfig);
  d.Block<RemoteWriteMetadataConfig>("metadata_config", &e->metadata, DecodeMetadataConfig);
  d.Blocks<model::relabel::Config>("write_relabel_config", &e->write_relabel_configs,
                                   DecodeRelabelRule);
}

void DecodeWal(component::ArgDecoder& d, RemoteWriteWalOptions* w) {
  d.Optional("truncate_frequency", &w->truncate_frequency);
  d.Optional("min_keepalive_time", &w->min_keepalive_time);
  d.Optional("max_keepalive_time", &w->max_keepalive_time);
  if (w->truncate_frequency == nanoseconds::zero()) {
    d.AddError("", "truncate_frequency must not be 0");
  } else if (w->max_keepalive_time <= w->min_keepalive_time) {
    d.AddError("", "min_keepalive_time must be smaller than max_keepalive_time");
  }
}

// The WAL store's metrics, labelled component_id, under Prometheus agent mode's names and under
// the Agent's agent_wal_* names, which the Agent Flow dashboards query, and the WAL's own under
// Prometheus's prometheus_tsdb_wal_* names. The store counts; Update copies its totals here.
// They leave the registry with the component.
class WalMetrics {
 public:
  WalMetrics(base::MetricsRegistry& r, const std::string& id)
      : series_(r),
        id_(id),
        active_series_(Gauge("prometheus_agent_active_series",
                             "Number of active series being tracked by the WAL storage")),
        agent_active_series_(
            Gauge("agent_wal_storage_active_series",
                  "Current number of active series being tracked by the WAL storage")),
        corruptions_(
            Counter("prometheus_agent_corruptions_total", "Total number of WAL corruptions.")),
        replay_seconds_(Gauge("prometheus_agent_data_replay_duration_seconds",
                              "Time taken to replay the data on disk.")),
        // Prometheus's agent declares no quantiles: only the sum and count.
        truncate_duration_(series_.AddSummary("prometheus_agent_truncate_duration_seconds",
                                              "Duration of WAL truncation.", {"component_id"}, {},
                                              {id})),
        segment_current_(Gauge("prometheus_tsdb_wal_segment_current",
                               "Write log segment index that TSDB is currently writing to.")),
        repaired_{{&corruptions_}},
        checkpoint_creations_(Only("prometheus_agent_checkpoint_creations_total",
                                   "Total number of checkpoint creations attempted.")),
        checkpoint_creations_failed_(Only("prometheus_agent_checkpoint_creations_failed_total",
                                          "Total number of checkpoint creations that failed.")),
        checkpoint_deletions_(Only("prometheus_agent_checkpoint_deletions_total",
                                   "Total number of checkpoint deletions attempted.")),
        checkpoint_deletions_failed_(Only("prometheus_agent_checkpoint_deletions_failed_total",
                                          "Total number of checkpoint deletions that failed.")),
        truncations_(Only("prometheus_tsdb_wal_truncations_total",
                          "Total number of write log truncations attempted.")),
        truncations_failed_(Only("prometheus_tsdb_wal_truncations_failed_total",
                                 "Total number of write log truncations that failed.")),
        writes_failed_(Only("prometheus_tsdb_wal_writes_failed_total",
                            "Total number of write log writes that failed.")),
        page_flushes_(
            Only("prometheus_tsdb_wal_page_flushes_total", "Total number of page flushes.")),
        completed_pages_(
            Only("prometheus_tsdb_wal_completed_pages_total", "Total number of completed pages.")),
        fsync_duration_(series_.AddSummary("prometheus_tsdb_wal_fsync_duration_seconds",
                                           "Duration of write log fsync.", {"component_id"},
                                           {0.5, 0.9, 0.99}, {id})),
        samples_{{&series_.AddCounter("prometheus_agent_samples_appended_total",
                                      "Total number of samples appended to the storage",
                                      {"component_id", "type"}, {id, "float"}),
                  &Counter("agent_wal_samples_appended_total",
                           "Total number of samples appended to the WAL"),
                  &Counter("prometheus_remote_storage_samples_in_total",
                           "Samples in to remote storage, compare to samples out for queue "
                           "managers.")}},
        exemplars_{{&Counter("prometheus_agent_exemplars_appended_total",
                             "Total number of exemplars appended to the storage"),
                    &Counter("agent_wal_exemplars_appended_total",
                             "Total number of exemplars appended to the WAL"),
                    &Counter("prometheus_remote_storage_exemplars_in_total",
                             "Exemplars in to remote storage, compare to exemplars out for queue "
                             "managers.")}},
        out_of_order_{
            {&Counter("prometheus_agent_out_of_order_samples_total",
                      "Total number of out of order samples ingestion failed attempts."),
             &Counter("agent_wal_out_of_order_samples_total",
                      "Total number of out of order samples ingestion failed attempts.")}},
        removed_series_(Only("agent_wal_storage_removed_series_total",
                             "Total number of created series removed from the WAL")) {}

  void Update(const wal::Storage& s) {
    const double series = static_cast<double>(s.NumSeries());
    active_series_.Set(series);
    agent_active_series_.Set(series);
    const wal::Storage::Stats st = s.stats();
    samples_.Update(st.samples_appended);
    exemplars_.Update(st.exemplars_appended);
    out_of_order_.Update(st.out_of_order_samples);
    removed_series_.Update(st.series_removed);
    repaired_.Update(st.corruptions);
    replay_seconds_.Set(st.replay_seconds);
    segment_current_.Set(s.End().segment);
    checkpoint_creations_.Update(st.checkpoint_creations);
    checkpoint_creations_failed_.Update(st.checkpoint_creations_failed);
    checkpoint_deletions_.Update(st.checkpoint_deletions);
    checkpoint_deletions_failed_.Update(st.checkpoint_deletions_failed);
    truncations_.Update(st.segment_truncations);
    truncations_failed_.Update(st.segment_truncations_failed);
    writes_failed_.Update(st.wal.writes_failed);
    page_flushes_.Update(st.wal.page_flushes);
    completed_pages_.Update(st.wal.completed_pages);
  }
  // Where the store reports each fsync of a segment.
  base::Summary& fsync_duration() { return fsync_duration_; }
  void Corruption() { corruptions_.Inc(); }
  // A truncation that got as far as a checkpoint, timed as Prometheus's agent times it.
  void Checkpointed(double seconds) { truncate_duration_.Observe(seconds); }

 private:
  // Counters that follow a total counted by the store, under up to three names.
  struct Mirror {
    std::array<base::Counter*, 3> to{};  // unused entries are null
    std::uint64_t seen = 0;
    void Update(std::uint64_t total) {
      if (total <= seen) return;
      const auto delta = static_cast<double>(total - seen);
      for (base::Counter* c : to) {
        if (c != nullptr) c->Add(delta);
      }
      seen = total;
    }
  };
  base::Counter& Counter(const char* name, const char* help) {
    return series_.AddCounter(name, help, {"component_id"}, {id_});
  }
  // A mirror under one name only.
  Mirror Only(const char* name, const char* help) { return {{&Counter(name, help)}}; }
  base::Gauge& Gauge(const char* name, const char* help) {
    return series_.AddGauge(name, help, {"component_id"}, {id_});
  }

  base::OwnedSeries series_;  // first: the references below point into what it registers
  const std::string id_;
  base::Gauge& active_series_;
  base::Gauge& agent_active_series_;
  base::Counter& corruptions_;
  base::Gauge& replay_seconds_;
  base::Summary& truncate_duration_;
  base::Gauge& segment_current_;
  Mirror repaired_;  // into corruptions_, which also counts damage found by Truncate
  Mirror checkpoint_creations_;
  Mirror checkpoint_creations_failed_;
  Mirror checkpoint_deletions_;
  Mirror checkpoint_deletions_failed_;
  Mirror truncations_;
  Mirror truncations_failed_;
  Mirror writes_failed_;
  Mirror page_flushes_;
  Mirror completed_pages_;
  base::Summary& fsync_duration_;
  Mirror samples_;
  Mirror exemplars_;
  Mirror out_of_order_;
  Mirror removed_series_;
};

class RemoteWrite final : public component::Component {
 public:
  RemoteWrite(const component::Options& opts, std::shared_ptr<wal::Storage> storage)
      : opts_(opts),
        storage_(std::move(storage)),
        labels_(storage_.get()),
        client_(net::HttpClient::Options{.user_agent = "Starling"}),
        wal_metrics_(*opts.metrics, opts.id) {
    storage_->SetFsyncObserver(
        [summary = &wal_metrics_.fsync_duration()](double seconds) { summary->Observe(seconds); });
  }

  // The store may outlive the component (the receiver is shared): it must stop reporting into
  // the component's metrics first.
  ~RemoteWrite() override {
    storage_->SetFsyncObserver(nullptr);
    StopQueues();
  }

  base::Status Init(const RemoteWriteArgs& args) {
    RETURN_IF_ERROR(Apply(args));
    if (opts_.on_state_change) {
      opts_.on_state_change(syntax::Value::Object(
          {{"receiver", ReceiverToValue(std::shared_ptr<storage::Appendable>(storage_))}}));
    }
    return base::Status::Ok();
  }

  base::Status Run(std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any cv;
    auto next_truncate = std::chrono::steady_clock::now() + TruncateFrequency();
    while (!stop.stop_requested()) {
      UpdateGauges();
      const auto now = std::chrono::steady_clock::now();
      if (now >= next_truncate) {
        Truncate();
        next_truncate = std::chrono::steady_clock::now() + TruncateFrequency();
      }
      const auto wake =
          std::min(next_truncate, std::chrono::steady_clock::now() + std::chrono::seconds(1));
      std::unique_lock lock(mu);
      cv.wait_until(lock, stop, wake, [] { return false; });
    }
    StopQueues();
    return base::Status::Ok();
  }

  base::Status Update(const component::Arguments& args) override {
    return Apply(component::ArgsAs<RemoteWriteArgs>(args));
  }

  syntax::Value DebugInfo() const override {
    syntax::ValueArray endpoints;
    std::lock_guard lock(mu_);
    for (const Running& r : queues_) {
      const remote::QueueStatus st = r.queue->Status();
      endpoints.push_back(syntax::Value::Object({
          {"name", syntax::Value::String(st.name)},
          {"url", syntax::Value::String(st.url)},
          {"shards", syntax::Value::Int(st.shards)},
          {"desired_shards", syntax::Value::Int(st.desired_shards)},
          {"pending_samples", syntax::Value::Int(st.pending_samples)},
          {"last_error", syntax::Value::String(st.last_error)},
          {"lowest_unacked_segment", syntax::Value::Int(st.acked.segment)},
      }));
    }
    return syntax::Value::Object({{"endpoints", syntax::Value::Array(std::move(endpoints))}});
  }

 private:
  struct Running {
    std::string fingerprint;
    HttpClientArgs client;
    std::unique_ptr<remote::Queue> queue;
  };

  nanoseconds TruncateFrequency() const {
    std::lock_guard lock(mu_);
    return args_.wal.truncate_frequency;
  }

  // Starts queues for new or changed endpoints and stops the others; unchanged endpoints keep
  // their running queue. On error nothing changes.
  base::Status Apply(const RemoteWriteArgs& args) {
    std::vector<model::Label> ext(args.external_labels.begin(), args.external_labels.end());
    const model::Labels external(std::move(ext));
    struct Planned {
      std::string fingerprint;
      HttpClientArgs client;
      remote::QueueOptions options;
    };
    std::vector<Planned> planned;
    for (const RemoteWriteEndpoint& e : args.endpoints) {
      Planned p;
      p.fingerprint = Fingerprint(e, args.external_labels);
      p.client = e.client;
      remote::QueueOptions& o = p.options;
      o.name = RemoteName(e);
      o.url = e.url;
      o.component_id = opts_.id;
      o.remote_timeout = e.remote_timeout;
      for (const auto& [k, v] : e.headers) o.headers.push_back({k, v});
      ASSIGN_OR_RETURN(o.client_config, BuildClientConfig(e.client));
      o.send_exemplars = e.send_exemplars;
      o.queue = e.queue;
      o.external_labels = external;
      o.write_relabel_configs = e.write_relabel_configs;
      planned.push_back(std::move(p));
    }

    std::lock_guard lock(mu_);
    std::vector<Running> keep;
    std::vector<Running> old = std::move(queues_);
    queues_.clear();
    std::vector<std::unique_ptr<remote::Queue>> to_start;
    std::vector<std::size_t> new_index;
    keep.resize(planned.size());
    for (std::size_t i = 0; i < planned.size(); ++i) {
      auto it = std::find_if(old.begin(), old.end(), [&](const Running& r) {
        return r.queue != nullptr && r.fingerprint == planned[i].fingerprint &&
               r.client == planned[i].client;
      });
      if (it != old.end()) {
        keep[i] = std::move(*it);
        continue;
      }
      keep[i].fingerprint = planned[i].fingerprint;
      keep[i].client = planned[i].client;
      new_index.push_back(i);
    }
    // Queues of removed or changed endpoints stop (persisting their progress) before their
    // replacements read it.
    for (Running& r : old) {
      if (r.queue != nullptr) r.queue->Stop();
    }
    old.clear();
    for (std::size_t i : new_index) {
      const std::string state = opts_.data_path + "/queues/" + planned[i].options.name;
      keep[i].queue = std::make_unique<remote::Queue>(
          std::move(planned[i].options), storage_->wal_dir(), state, &labels_, &client_,
          opts_.metrics, opts_.clock,
          [logger = opts_.logger](spdlog::level::level_enum l, std::string_view m) {
            logger.Log(l, m);
          });
      base::Status s = keep[i].queue->Start();
      if (!s.ok()) {
        opts_.logger.Error("cannot start the queue for {}: {}", keep[i].queue->options().url,
                           s.message());
      }
    }
    queues_ = std::move(keep);
    args_ = args;
    return base::Status::Ok();
  }

  void StopQueues() {
    std::lock_guard lock(mu_);
    for (Running& r : queues_) r.queue->Stop();
  }

  void Truncate() {
    std::vector<int> lows;
    nanoseconds min_keep, max_keep;
    {
      std::lock_guard lock(mu_);
      for (const Running& r : queues_) lows.push_back(r.queue->LowestUnackedSegment());
      min_keep = args_.wal.min_keepalive_time;
      max_keep = args_.wal.max_keepalive_time;
    }
    const base::Clock::TimePoint now = opts_.clock->Now();
    const int keep_from = TruncateKeepFrom(
        lows, storage_->End().segment, storage_->OldestSegmentAfter(UnixMillis(now - max_keep)));
    const std::uint64_t checkpoints = storage_->stats().checkpoint_creations;
    const auto start = std::chrono::steady_clock::now();
    base::Status s = storage_->Truncate(keep_from, UnixMillis(now - min_keep));
    if (storage_->stats().checkpoint_creations > checkpoints) {
      wal_metrics_.Checkpointed(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    if (!s.ok()) {
      opts_.logger.Error("could not truncate the WAL: {}", s.message());
      if (s.code() == base::StatusCode::kDataLoss) wal_metrics_.Corruption();
    }
    UpdateGauges();
  }

  void UpdateGauges() {
    std::lock_guard lock(mu_);
    wal_metrics_.Update(*storage_);
    const std::int64_t highest = storage_->stats().highest_timestamp_ms;
    if (highest == std::numeric_limits<std::int64_t>::min()) return;
    for (const Running& r : queues_) r.queue->SetHighestAppended(highest);
  }

  const component::Options opts_;
  const std::shared_ptr<wal::Storage> storage_;
  const StorageLabels labels_;
  net::HttpClient client_;

  mutable std::mutex mu_;
  RemoteWriteArgs args_;         // guarded by mu_
  std::vector<Running> queues_;  // guarded by mu_
  WalMetrics wal_metrics_;       // Update runs under mu_; the rest is thread-safe
};

}  // namespace

std::string RemoteName(const RemoteWriteEndpoint& e) {
  if (!e.name.empty()) return e.name;
  // FNV-1a: stable across runs and builds, so the state folder is found again.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : e.url) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 6; ++i) out += kHex[(h >> (60 - 4 * i)) & 0xF];
  return out;
}

int TruncateKeepFrom(const std::vector<int>& lowest_unacked, int current_segment,
                     int oldest_within_max_keepalive) {
  int keep = current_segment;
  for (int l : lowest_unacked) keep = std::min(keep, l);
  return std::max(keep, oldest_within_max_keepalive);
}

void DecodeRemoteWriteArgs(component::ArgDecoder& d, RemoteWriteArgs* args) {
  d.Optional("external_labels", &args->external_labels);
  for (const auto& [name, value] : args->external_labels) {
    if (!model::IsValidLabelName(name)) {
      d.AddError("external_labels", "\"" + name + "\" is not a valid label name");
    }
    (void)value;
  }
  d.Blocks<RemoteWriteEndpoint>("endpoint", &args->endpoints, DecodeEndpoint);
  std::set<std::string> names;
  for (const RemoteWriteEndpoint& e : args->endpoints) {
    if (e.url.empty()) continue;
    if (!names.insert(RemoteName(e)).second) {
      d.AddError("", e.name.empty()
                         ? "duplicate remote write configs are not allowed, found duplicate "
                           "for URL: " +
                               e.url
                         : "found duplicate remote write configs for name " + e.name);
    }
  }
  d.Block<RemoteWriteWalOptions>("wal", &args->wal, DecodeWal);
}

component::Registration PrometheusRemoteWriteRegistration() {
  component::Registration r = component::MakeRegistration<RemoteWriteArgs>(
      "prometheus.remote_write", DecodeRemoteWriteArgs,
      [](const component::Options& o,
         const RemoteWriteArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        wal::Storage::Options so;
        so.dir = o.data_path + "/wal";
        so.clock = o.clock;
        ASSIGN_OR_RETURN(std::unique_ptr<wal::Storage> storage, wal::Storage::Open(so));
        auto c =
            std::make_unique<RemoteWrite>(o, std::shared_ptr<wal::Storage>(std::move(storage)));
        RETURN_IF_ERROR(c->Init(a));
        return std::unique_ptr<component::Component>(std::move(c));
      });
  r.exports = {{"receiver",
                "capsule(storage.Appendable): where samples to send are appended (into the WAL)"}};
  return r;
}

}  // namespace starling::components
