#pragma once

// The scrape module: Prometheus's scrape manager for one job (a prometheus.scrape component).
//
//   discovered label sets --Update--> ScrapePool --PopulateLabels--> Targets (deduplicated)
//                                         |  one ScrapeLoop per target, driven by a Scheduler
//                                         v      lane (one thread) chosen by the target's hash
//                     Fetcher (HTTP GET, async) --> ScrapeLoop::Process --> Appendable
//
// Each target is scraped every interval at a fixed phase derived from its hash (so targets of
// a job do not all fire at once). A removed target gets staleness markers for all its series
// about two intervals later (Prometheus's end-of-run staleness, in case it comes back), at
// the time its next scrape would have been. Stop can write them at once.
//
// Thread-safety: all ScrapePool methods are thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "model/labels.h"
#include "net/http_client.h"
#include "scrape/scheduler.h"
#include "scrape/scrape_loop.h"
#include "scrape/target.h"
#include "storage/storage.h"

namespace starling::scrape {

// Fetches a scrape's body: the HTTP client in production (NewHttpFetcher), a fake in tests.
// Thread-safe; `done` runs exactly once, on any thread, and may process the scrape: it holds up
// only other scrapes of the same lane.
class Fetcher {
 public:
  using Callback = std::function<void(base::Result<net::ClientResponse>)>;
  virtual ~Fetcher() = default;
  // `lane`: the scheduler lane of the target's loop.
  virtual void Fetch(net::ClientRequest request, std::size_t lane, Callback done) = 0;
};

// A Fetcher over the process-wide scheduler's clients: a fetch for a lane runs on that lane's
// client (ScrapeClient), whose thread then runs `done`.
std::shared_ptr<Fetcher> NewHttpFetcher();

// A discovered target that was dropped, and why.
struct DroppedTarget {
  model::Labels discovered;
  std::string reason;
};

// What DebugInfo shows for an active target.
struct ActiveTarget {
  std::string job;
  std::string url;
  model::Labels labels;  // the labels its series get
  model::Labels discovered_labels;
  TargetStatus status;
};

class ScrapePool {
 public:
  struct Options {
    base::Clock* clock = &base::Clock::Real();
    std::shared_ptr<Scheduler> scheduler;  // null: Scheduler::Shared()
    std::shared_ptr<Fetcher> fetcher;      // null: NewHttpFetcher()
    ScrapeMetrics* metrics = nullptr;      // may be null
    std::uint64_t offset_seed = 0;
    std::function<void(const std::string&)> log_error;  // may be empty
  };

  explicit ScrapePool(Options options);
  // Stops without staleness markers.
  ~ScrapePool();
  ScrapePool(const ScrapePool&) = delete;
  ScrapePool& operator=(const ScrapePool&) = delete;

  // Applies a job configuration, HTTP client settings, the appendable and the discovered
  // targets at once. Targets whose labels and URL are unchanged keep their loop (and cache);
  // new ones start at their next slot; vanished ones get end-of-run staleness markers.
  // Returns the targets dropped (no address, bad interval, ...).
  //
  // With clustering, `owns` says which discovered targets this node scrapes. A target that
  // is still discovered but now owned by another node stops at once without staleness
  // markers (its new owner continues the series); their number is added to *moved_away.
  using OwnsTarget = std::function<bool(const model::Labels& discovered)>;
  std::vector<DroppedTarget> Update(const JobConfig& config,
                                    std::shared_ptr<const net::ClientConfig> client,
                                    std::shared_ptr<storage::Appendable> appendable,
                                    const std::vector<model::Labels>& discovered,
                                    const OwnsTarget& owns = {}, std::size_t* moved_away = nullptr);

  // Starts scraping (loops created before wait for this).
  void Start();
  // Stops every loop; an in-flight scrape's result is dropped. With `stale_markers`, the
  // series of every target that was scraped get staleness markers now. Idempotent.
  void Stop(bool stale_markers);

  std::vector<ActiveTarget> ActiveTargets() const;

 private:
  class LoopRunner;
  struct Shared;

  void ScheduleFirst(const std::shared_ptr<LoopRunner>& runner);
  void RemoveRunner(const std::shared_ptr<LoopRunner>& runner);
  // Drops the series of config_.job_name from the pool metrics (opts_.metrics set). Needs mu_.
  void RemoveJobSeries();

  const Options opts_;
  std::shared_ptr<Shared> shared_;

  mutable std::mutex mu_;
  JobConfig config_;                                            // guarded by mu_
  bool started_ = false;                                        // guarded by mu_
  bool stopped_ = false;                                        // guarded by mu_
  std::map<std::uint64_t, std::shared_ptr<LoopRunner>> loops_;  // guarded by mu_
  // Removed targets waiting for their end-of-run staleness markers.
  std::vector<std::shared_ptr<LoopRunner>> ending_;  // guarded by mu_
};

}  // namespace starling::scrape
