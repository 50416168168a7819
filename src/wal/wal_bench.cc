// Log throughput without fsync: records of several sizes appended in batches; and the
// record checksum alone.

#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/check.h"
#include "wal/internal/crc32c.h"
#include "wal/wal.h"

namespace starling::wal {
namespace {

void BM_Log(benchmark::State& state) {
  const auto record_size = static_cast<std::size_t>(state.range(0));
  const auto batch = static_cast<std::size_t>(state.range(1));
  char tmpl[] = "/tmp/wal_bench.XXXXXX";
  CHECK(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  std::vector<std::string> storage(batch);
  std::vector<std::string_view> records;
  for (std::size_t i = 0; i < batch; ++i) {
    storage[i].assign(record_size, static_cast<char>('a' + i % 26));
    records.push_back(storage[i]);
  }
  {
    auto wal = Wal::Open(dir, kDefaultSegmentSize, SyncPolicy::kExplicitOnly);
    CHECK(wal.ok()) << wal.status().ToString();
    std::int64_t bytes = 0;
    int kept = (*wal)->End().segment;
    for (auto _ : state) {
      base::Status s = (*wal)->Log(records);
      CHECK(s.ok()) << s.ToString();
      bytes += static_cast<std::int64_t>(record_size * batch);
      // Keep the disk footprint bounded on long runs.
      if (const int current = (*wal)->End().segment; current != kept) {
        CHECK((*wal)->Truncate(current).ok());
        kept = current;
      }
    }
    state.SetBytesProcessed(bytes);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * batch));
  }
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Log)
    ->ArgNames({"size", "batch"})
    ->Args({64, 1})
    ->Args({64, 100})
    ->Args({1024, 10})
    ->Args({16 * 1024, 1})
    ->Args({100 * 1024, 1});

// CRC-32C of a 32 KiB page (a segment page), as the writer and every reader compute it.
void BM_Crc32c(benchmark::State& state) {
  const std::string page(32 * 1024, 'x');
  const bool portable = state.range(0) == 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(portable ? internal::Crc32cExtendPortable(0, page.data(), page.size())
                                      : internal::Crc32cExtend(0, page.data(), page.size()));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * page.size()));
}
BENCHMARK(BM_Crc32c)->ArgName("portable")->Arg(0)->Arg(1);

}  // namespace
}  // namespace starling::wal

BENCHMARK_MAIN();
