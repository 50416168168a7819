#include "scrape/scrape_pool.h"

#include <algorithm>
#include <set>
#include <utility>

#include "model/textparse/textparse.h"

namespace starling::scrape {
namespace {

LoopOptions LoopOptionsFor(const JobConfig& c, const Target& t) {
  LoopOptions o;
  o.honor_labels = c.honor_labels;
  o.honor_timestamps = c.honor_timestamps;
  o.track_timestamps_staleness = c.track_timestamps_staleness;
  o.extra_metrics = c.extra_metrics;
  o.sample_limit = c.sample_limit;
  o.label_limit = c.label_limit;
  o.label_name_length_limit = c.label_name_length_limit;
  o.label_value_length_limit = c.label_value_length_limit;
  o.timeout = t.timeout();
  return o;
}

}  // namespace

// State the loops share with the pool; loops hold it, so it outlives the pool while a fetch
// is in flight.
struct ScrapePool::Shared {
  base::Clock* clock = nullptr;
  std::shared_ptr<Scheduler> scheduler;
  std::shared_ptr<Fetcher> fetcher;
  ScrapeMetrics* metrics = nullptr;

  std::mutex mu;
  std::shared_ptr<storage::Appendable> appendable;  // guarded by mu
  std::shared_ptr<const net::ClientConfig> client;  // guarded by mu
  std::int64_t body_size_limit = 0;                 // guarded by mu
};

// One target's loop with its schedule. Timers and fetch callbacks hold it by weak or shared
// pointer; run_mu serialises the loop's processing with removal and stop.
class ScrapePool::LoopRunner : public std::enable_shared_from_this<LoopRunner> {
 public:
  LoopRunner(std::shared_ptr<Shared> shared, std::shared_ptr<const Target> target,
             const LoopOptions& options)
      : shared_(std::move(shared)),
        lane_(target->hash() % shared_->scheduler->lanes()),
        loop_(std::move(target), options, shared_->metrics) {}

  ScrapeLoop& loop() { return loop_; }
  const Target& target() const { return *loop_.target(); }

  // Schedules the next scrape at monotonic time `due`.
  void ScheduleAt(base::Clock::Duration due) {
    std::lock_guard<std::mutex> lock(run_mu_);
    ScheduleLocked(due);
  }

  // The target went away: no more scrapes; staleness markers after two more intervals.
  void Remove() {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (dead_ || removed_) return;
    removed_ = true;
    const std::uint64_t gen = ++gen_;
    if (!loop_.HasScraped()) return;
    const auto interval = target().interval();
    const base::Clock::Duration now = shared_->clock->Monotonic();
    base::Clock::Duration tick = next_due_;
    while (tick <= now) tick += interval;
    const base::Clock::TimePoint stale_time = shared_->clock->Now() + (tick - now);
    std::weak_ptr<LoopRunner> weak = weak_from_this();
    shared_->scheduler->At(
        tick + interval + interval / 10,
        [weak, gen, stale_time] {
          if (auto self = weak.lock()) self->EndOfRun(gen, stale_time);
        },
        lane_);
  }

  // The target came back before its end-of-run markers: scrape again from the next slot.
  bool Revive() {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (dead_ || !removed_) return false;
    removed_ = false;
    base::Clock::Duration tick = next_due_;
    const base::Clock::Duration now = shared_->clock->Monotonic();
    while (tick <= now) tick += target().interval();
    ScheduleLocked(tick);
    return true;
  }

  bool Ending() {
    std::lock_guard<std::mutex> lock(run_mu_);
    return removed_ && !dead_;
  }

  // No more appends; with `stale_markers`, the end-of-run markers now.
  void Kill(bool stale_markers) {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (dead_) return;
    dead_ = true;
    ++gen_;
    if (!stale_markers) return;
    std::shared_ptr<storage::Appendable> app = CurrentAppendable();
    if (app != nullptr) loop_.EndOfRun(app, shared_->clock->Now());
  }

 private:
  void ScheduleLocked(base::Clock::Duration due) {
    next_due_ = due;
    const std::uint64_t gen = ++gen_;
    std::weak_ptr<LoopRunner> weak = weak_from_this();
    shared_->scheduler->At(
        due,
        [weak, gen] {
          if (auto self = weak.lock()) self->Fire(gen);
        },
        lane_);
  }

  std::shared_ptr<storage::Appendable> CurrentAppendable() {
    std::lock_guard<std::mutex> lock(shared_->mu);
    return shared_->appendable;
  }

  // On the loop's lane: starts the fetch.
  void Fire(std::uint64_t gen) {
    {
      std::lock_guard<std::mutex> lock(run_mu_);
      if (dead_ || removed_ || gen != gen_) return;
    }
    net::ClientRequest req;
    req.url = target().url();
    const auto timeout = target().timeout();
    req.headers.push_back({"Accept", std::string(model::textparse::kScrapeAcceptHeader)});
    req.headers.push_back({"X-Prometheus-Scrape-Timeout-Seconds", FormatSeconds(timeout)});
    req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
    req.accept_gzip = true;
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      req.body_size_limit = shared_->body_size_limit;
      req.config = shared_->client;
    }
    const base::Clock::TimePoint start = shared_->clock->Now();
    const base::Clock::Duration start_mono = shared_->clock->Monotonic();
    std::shared_ptr<LoopRunner> self = shared_from_this();
    shared_->fetcher->Fetch(
        std::move(req), lane_,
        [self, gen, start, start_mono](const base::Result<net::ClientResponse>& r) {
          self->Complete(gen, start, start_mono, r);
        });
  }

  // Where the fetch completes (the loop's lane in production): processes the fetched scrape
  // and schedules the next one.
  void Complete(std::uint64_t gen, base::Clock::TimePoint start, base::Clock::Duration start_mono,
                const base::Result<net::ClientResponse>& r) {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (dead_) return;
    std::shared_ptr<storage::Appendable> app = CurrentAppendable();
    if (app == nullptr) return;
    FetchResult fr;
    if (!r.ok()) {
      if (r.error().code() == base::StatusCode::kResourceExhausted) {
        fr.error = base::Status::ResourceExhausted("body size limit exceeded");
        fr.body_too_large = true;
        if (shared_->metrics != nullptr) shared_->metrics->exceeded_body_size_limit.Inc();
      } else {
        fr.error = r.error();
      }
    } else if (r->status != 200) {
      // The client fills status_text ("404 Not Found"); a fake may leave it empty.
      const std::string text = r->status_text.empty() ? std::to_string(r->status) : r->status_text;
      fr.error = base::Status::Unavailable("server returned HTTP status " + text);
    } else {
      fr.body = r->body;
      fr.content_type = r->HeaderValue("Content-Type").value_or("");
    }
    loop_.Process(app, *shared_->clock, start, start_mono, fr);
    if (removed_ || gen != gen_) return;
    const auto interval = target().interval();
    const base::Clock::Duration now = shared_->clock->Monotonic();
    base::Clock::Duration next = next_due_ + interval;
    while (next <= now) next += interval;  // skip slots a slow scrape missed
    ScheduleLocked(next);
  }

  void EndOfRun(std::uint64_t gen, base::Clock::TimePoint stale_time) {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (dead_ || !removed_ || gen != gen_) return;
    dead_ = true;
    std::shared_ptr<storage::Appendable> app = CurrentAppendable();
    if (app != nullptr) loop_.EndOfRun(app, stale_time);
  }

  const std::shared_ptr<Shared> shared_;
  const std::size_t lane_;
  std::mutex run_mu_;
  ScrapeLoop loop_;                   // used under run_mu_
  bool dead_ = false;                 // guarded by run_mu_
  bool removed_ = false;              // guarded by run_mu_
  std::uint64_t gen_ = 0;             // guarded by run_mu_; invalidates older timers
  base::Clock::Duration next_due_{};  // guarded by run_mu_
};

ScrapePool::ScrapePool(Options options) : opts_(std::move(options)) {
  shared_ = std::make_shared<Shared>();
  shared_->clock = opts_.clock;
  shared_->scheduler = opts_.scheduler != nullptr ? opts_.scheduler : Scheduler::Shared();
  shared_->fetcher = opts_.fetcher != nullptr ? opts_.fetcher : NewHttpFetcher();
  shared_->metrics = opts_.metrics;
}

ScrapePool::~ScrapePool() { Stop(false); }

void ScrapePool::ScheduleFirst(const std::shared_ptr<LoopRunner>& runner) {
  const auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(opts_.clock->Now().time_since_epoch())
          .count();
  runner->ScheduleAt(opts_.clock->Monotonic() + runner->target().Offset(now_ns, opts_.offset_seed));
}

std::vector<DroppedTarget> ScrapePool::Update(const JobConfig& config,
                                              std::shared_ptr<const net::ClientConfig> client,
                                              std::shared_ptr<storage::Appendable> appendable,
                                              const std::vector<model::Labels>& discovered,
                                              const OwnsTarget& owns, std::size_t* moved_away) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<DroppedTarget> dropped;
  if (stopped_) return dropped;
  const base::Clock::Duration start = opts_.clock->Monotonic();
  {
    std::lock_guard<std::mutex> slock(shared_->mu);
    shared_->appendable = std::move(appendable);
    shared_->client = std::move(client);
    shared_->body_size_limit = config.body_size_limit;
  }
  if (opts_.metrics != nullptr && config.job_name != config_.job_name) RemoveJobSeries();
  config_ = config;
  // Forget removed targets whose end-of-run markers are written.
  std::erase_if(ending_, [](const std::shared_ptr<LoopRunner>& r) { return !r->Ending(); });

  std::map<std::uint64_t, std::shared_ptr<const Target>> targets;
  std::set<std::uint64_t> elsewhere;  // discovered, but owned by another node
  for (const model::Labels& d : discovered) {
    base::Result<model::Labels> labels = PopulateLabels(d, config);
    if (!labels.ok()) {
      dropped.push_back({d, labels.error().message()});
      if (opts_.log_error) {
        opts_.log_error("Creating target failed: " + labels.error().message() + " (target " +
                        d.String() + ")");
      }
      continue;
    }
    auto t = std::make_shared<const Target>(std::move(*labels), d, config.params);
    if (owns && !owns(d)) {
      elsewhere.insert(t->hash());
      continue;
    }
    targets.emplace(t->hash(), std::move(t));  // duplicates: the first wins
  }

  std::map<std::uint64_t, std::shared_ptr<LoopRunner>> loops;
  for (auto& [hash, target] : targets) {
    if (auto it = loops_.find(hash); it != loops_.end()) {
      it->second->loop().SetOptions(LoopOptionsFor(config, *it->second->loop().target()));
      loops.emplace(hash, it->second);
      loops_.erase(it);
      continue;
    }
    std::shared_ptr<LoopRunner> revived;
    for (auto it = ending_.begin(); it != ending_.end();) {
      const std::shared_ptr<LoopRunner>& r = *it;
      if (!r->Ending()) {
        it = ending_.erase(it);
        continue;
      }
      if (r->target().hash() == hash && started_ && r->Revive()) {
        revived = r;
        ending_.erase(it);
        break;
      }
      ++it;
    }
    if (revived != nullptr) {
      revived->loop().SetOptions(LoopOptionsFor(config, revived->target()));
      loops.emplace(hash, std::move(revived));
      continue;
    }
    auto runner = std::make_shared<LoopRunner>(shared_, target, LoopOptionsFor(config, *target));
    if (started_) ScheduleFirst(runner);
    loops.emplace(hash, std::move(runner));
  }
  for (auto& [hash, runner] : loops_) {
    if (elsewhere.contains(hash)) {
      runner->Kill(/*stale_markers=*/false);
      if (moved_away != nullptr) ++*moved_away;
      continue;
    }
    runner->Remove();
    ending_.push_back(runner);
  }
  loops_ = std::move(loops);

  base::Status forced;
  if (config.target_limit > 0 && loops_.size() > config.target_limit) {
    forced = base::Status::ResourceExhausted(
        "target_limit exceeded (number of targets: " + std::to_string(loops_.size()) +
        ", limit: " + std::to_string(config.target_limit) + ")");
    if (opts_.metrics != nullptr) opts_.metrics->exceeded_target_limit.Inc();
  }
  for (auto& [hash, runner] : loops_) runner->loop().SetForcedError(forced);
  if (opts_.metrics != nullptr) {
    opts_.metrics->pool_targets.WithLabels({config.job_name})
        .Set(static_cast<double>(loops_.size()));
    opts_.metrics->pool_syncs.WithLabels({config.job_name}).Inc();
    // Every dropped target is a failure: prometheus.scrape has no relabeling that drops.
    opts_.metrics->sync_failed.WithLabels({config.job_name})
        .Add(static_cast<double>(dropped.size()));
    opts_.metrics->sync_length.WithLabels({config.job_name})
        .Observe(std::chrono::duration<double>(opts_.clock->Monotonic() - start).count());
  }
  return dropped;
}

void ScrapePool::RemoveJobSeries() {
  opts_.metrics->pool_targets.Remove({config_.job_name});
  opts_.metrics->pool_syncs.Remove({config_.job_name});
  opts_.metrics->sync_length.Remove({config_.job_name});
  opts_.metrics->sync_failed.Remove({config_.job_name});
}

void ScrapePool::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopped_) return;
  started_ = true;
  for (auto& [hash, runner] : loops_) ScheduleFirst(runner);
}

void ScrapePool::Stop(bool stale_markers) {
  std::vector<std::shared_ptr<LoopRunner>> runners;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (auto& [hash, runner] : loops_) runners.push_back(runner);
    for (auto& r : ending_) runners.push_back(r);
    loops_.clear();
    ending_.clear();
    if (opts_.metrics != nullptr) RemoveJobSeries();
  }
  for (auto& r : runners) r->Kill(stale_markers);
  std::lock_guard<std::mutex> slock(shared_->mu);
  shared_->appendable.reset();
}

std::vector<ActiveTarget> ScrapePool::ActiveTargets() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ActiveTarget> out;
  out.reserve(loops_.size());
  for (const auto& [hash, runner] : loops_) {
    const Target& t = runner->target();
    out.push_back({config_.job_name, t.url(), t.target_labels(), t.discovered_labels(),
                   runner->loop().Status()});
  }
  std::sort(out.begin(), out.end(),
            [](const ActiveTarget& a, const ActiveTarget& b) { return a.url < b.url; });
  return out;
}

}  // namespace starling::scrape
