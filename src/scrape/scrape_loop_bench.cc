// ScrapeLoop::Process over a 10,000-series body into an appendable that hands out refs: the
// per-sample cost of a scrape once the cache is warm (parse, hash, probe, append).

#include <benchmark/benchmark.h>

#include <memory>
#include <string>

#include "scrape/scrape_loop.h"

namespace starling::scrape {
namespace {

// Hands out refs and drops samples, as a cheap downstream would.
class RefAppendable final : public storage::Appendable {
 public:
  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }

 private:
  class App final : public storage::Appender {
   public:
    explicit App(RefAppendable* a) : a_(a) {}
    base::Result<storage::SeriesRef> Append(storage::SeriesRef ref, const model::Labels&,
                                            std::int64_t, double) override {
      return ref != 0 ? ref : ++a_->next_;
    }
    base::Result<storage::SeriesRef> AppendExemplar(storage::SeriesRef ref, const model::Labels&,
                                                    const storage::Exemplar&) override {
      return ref;
    }
    base::Status Commit() override { return base::Status::Ok(); }
    void Rollback() override {}

   private:
    RefAppendable* a_;
  };
  storage::SeriesRef next_ = 0;
};

std::string Body(int series) {
  std::string body;
  for (int i = 0; i < series; ++i) {
    body += "node_cpu_seconds_total{cpu=\"" + std::to_string(i % 64) + "\",mode=\"m" +
            std::to_string(i / 64) + "\"} " + std::to_string(i * 1.5) + "\n";
  }
  return body;
}

void ProcessWarmCache(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::string body = Body(n);
  JobConfig cfg;
  cfg.job_name = "bench";
  auto labels = PopulateLabels({{"__address__", "h:9100"}}, cfg);
  auto target = std::make_shared<const Target>(*labels, model::Labels{}, cfg.params);
  ScrapeLoop loop(target, LoopOptions{}, nullptr);
  auto app = std::make_shared<RefAppendable>();
  base::FakeClock clock;
  FetchResult f;
  f.body = body;
  f.content_type = "text/plain; version=0.0.4";
  loop.Process(app, clock, clock.Now(), clock.Monotonic(), f);
  for (auto _ : state) {
    clock.Advance(std::chrono::seconds(15));
    loop.Process(app, clock, clock.Now(), clock.Monotonic(), f);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(ProcessWarmCache)->Arg(10000)->Arg(100000);

}  // namespace
}  // namespace starling::scrape

BENCHMARK_MAIN();
