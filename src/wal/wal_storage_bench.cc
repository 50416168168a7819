// wal::Storage hot paths: appending by ref (the steady state of a scrape), appending new series,
// and resolving refs to labels (the remote-write queue). Reports heap bytes per series too.

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/check.h"
#include "wal/storage.h"

namespace starling::wal {
namespace {

class Dir {
 public:
  Dir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "wal_storage_bench_XXXXXX").string();
    CHECK(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~Dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

model::Labels Series(int i) {
  constexpr const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                                 "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  constexpr const char* kHandlers[] = {"/api/v1/items", "/api/v1/users", "/healthz", "/metrics"};
  const int j = i % 2000;
  return model::Labels{
      {"__name__", "app_http_request_duration_seconds_bucket_" + std::to_string(j / 96)},
      {"handler", kHandlers[j / 12 % 4]},
      {"method", j / 48 % 2 == 0 ? "POST" : "GET"},
      {"pod", "pod-" + std::to_string(i / 2000)},
      {"le", kLe[j % 12]},
      {"job", "bench"},
      {"instance", "127.0.0.1:" + std::to_string(20000 + i / 2000)},
  };
}

std::size_t HeapInUse() {
  const struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::unique_ptr<Storage> Open(const Dir& dir) {
  auto s = Storage::Open({.dir = dir.path()});
  CHECK(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

// One scrape of `n` known series per iteration: Append by ref, then Commit.
void BmAppendByRefAndCommit(benchmark::State& state) {
  Dir dir;
  auto s = Open(dir);
  const int n = static_cast<int>(state.range(0));
  std::vector<storage::SeriesRef> refs;
  {
    auto app = s->NewAppender();
    for (int i = 0; i < n; ++i) refs.push_back(*app->Append(0, Series(i), 0, 0));
    CHECK(app->Commit().ok());
  }
  std::int64_t t = 1;
  const model::Labels empty;
  for (auto _ : state) {
    auto app = s->NewAppender();
    for (storage::SeriesRef ref : refs) benchmark::DoNotOptimize(app->Append(ref, empty, t, 1.0));
    CHECK(app->Commit().ok());
    ++t;
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BmAppendByRefAndCommit)->Arg(1000)->Arg(10000);

// Append by ref alone (rolled back, so nothing is logged).
void BmAppendByRef(benchmark::State& state) {
  Dir dir;
  auto s = Open(dir);
  constexpr int kN = 10000;
  std::vector<storage::SeriesRef> refs;
  {
    auto app = s->NewAppender();
    for (int i = 0; i < kN; ++i) refs.push_back(*app->Append(0, Series(i), 0, 0));
    CHECK(app->Commit().ok());
  }
  const model::Labels empty;
  for (auto _ : state) {
    auto app = s->NewAppender();
    for (storage::SeriesRef ref : refs) benchmark::DoNotOptimize(app->Append(ref, empty, 1, 1.0));
    app->Rollback();
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BmAppendByRef);

// Append by labels of known series (a producer without refs).
void BmAppendByLabels(benchmark::State& state) {
  Dir dir;
  auto s = Open(dir);
  constexpr int kN = 10000;
  std::vector<model::Labels> labels;
  labels.reserve(kN);
  for (int i = 0; i < kN; ++i) labels.push_back(Series(i));
  {
    auto app = s->NewAppender();
    for (const auto& l : labels) CHECK(app->Append(0, l, 0, 0).ok());
    CHECK(app->Commit().ok());
  }
  for (auto _ : state) {
    auto app = s->NewAppender();
    for (const auto& l : labels) benchmark::DoNotOptimize(app->Append(0, l, 1, 1.0));
    app->Rollback();
  }
  state.SetItemsProcessed(state.iterations() * kN);
}
BENCHMARK(BmAppendByLabels);

// Creating series; reports the heap each one costs.
void BmNewSeries(benchmark::State& state) {
  constexpr int kN = 100000;
  std::vector<model::Labels> labels;
  labels.reserve(kN);
  for (int i = 0; i < kN; ++i) labels.push_back(Series(i));
  double bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Dir dir;
    auto s = Open(dir);
    const std::size_t before = HeapInUse();
    state.ResumeTiming();
    for (int b = 0; b < kN; b += 1000) {
      auto app = s->NewAppender();
      for (int i = b; i < b + 1000; ++i) CHECK(app->Append(0, labels[i], 0, 0).ok());
      CHECK(app->Commit().ok());
    }
    state.PauseTiming();
    bytes = static_cast<double>(HeapInUse() - before) / kN;
    s.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kN);
  state.counters["bytes_per_series"] = bytes;
}
BENCHMARK(BmNewSeries)->Unit(benchmark::kMillisecond);

// Resolving the refs of a 2000-sample batch (as a queue shard sends) out of Arg series, one
// ref at a time or in one batch. With a million series the lookups miss the caches.
struct VisitFixture {
  explicit VisitFixture(int n) : s(Open(dir)) {
    auto app = s->NewAppender();
    for (int i = 0; i < n; ++i) all.push_back(*app->Append(0, Series(i), 0, 0));
    CHECK(app->Commit().ok());
  }
  // The next batch: every `stride`th of consecutive series, as a queue with `stride` shards
  // hands one shard the series that scrapes append.
  std::span<const storage::SeriesRef> NextBatch(std::size_t stride = 1) {
    constexpr std::size_t kBatch = 2000;
    const std::size_t span = std::min(kBatch * stride, all.size());
    if (pos + span > all.size()) pos = 0;
    batch.clear();
    for (std::size_t i = pos; i < pos + span; i += stride) batch.push_back(all[i]);
    pos += span;
    return batch;
  }
  Dir dir;
  std::unique_ptr<Storage> s;
  std::vector<storage::SeriesRef> all;
  std::vector<storage::SeriesRef> batch;
  std::size_t pos = 0;
};

void BmVisitLabels(benchmark::State& state) {
  VisitFixture f(static_cast<int>(state.range(0)));
  std::size_t total = 0;
  std::size_t items = 0;
  for (auto _ : state) {
    for (storage::SeriesRef ref : f.NextBatch()) {
      f.s->ForEachLabel(
          ref, [&](std::string_view n, std::string_view v) { total += n.size() + v.size(); });
      ++items;
    }
  }
  benchmark::DoNotOptimize(total);
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
}
BENCHMARK(BmVisitLabels)->Arg(10000)->Arg(1000000);

void BmVisitLabelsBatch(benchmark::State& state) {
  VisitFixture f(static_cast<int>(state.range(0)));
  std::size_t total = 0;
  std::size_t items = 0;
  storage::LabelBatchVisitor v;
  v.ctx = &total;
  v.begin = [](void*, std::size_t) {};
  v.label = [](void* ctx, std::string_view n, std::string_view val) {
    *static_cast<std::size_t*>(ctx) += n.size() + val.size();
  };
  v.end = [](void*, std::size_t, bool) {};
  for (auto _ : state) {
    std::span<const storage::SeriesRef> batch =
        f.NextBatch(static_cast<std::size_t>(state.range(1)));
    f.s->VisitLabelsBatch(batch, v);
    items += batch.size();
  }
  benchmark::DoNotOptimize(total);
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
}
// Second argument: the number of queue shards the batch's series are spread over.
BENCHMARK(BmVisitLabelsBatch)->ArgsProduct({{10000, 1000000}, {1, 4}});

}  // namespace
}  // namespace starling::wal

BENCHMARK_MAIN();
