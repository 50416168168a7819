// Parsing real node exporter output (testdata/node_exporter.prom) with both parsers.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

#include "base/check.h"
#include "model/labels.h"
#include "model/textparse/openmetricsparse.h"
#include "model/textparse/promparse.h"

namespace starling::model::textparse {
namespace {

const std::string& PromBody() {
  static const std::string kBody = [] {
    std::ifstream in(STARLING_TEXTPARSE_TESTDATA "/node_exporter.prom", std::ios::binary);
    CHECK(in.good()) << "cannot open node_exporter.prom";
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  return kBody;
}

// The same exposition as OpenMetrics: `untyped` is `unknown` there, and # EOF ends it.
const std::string& OpenMetricsBody() {
  static const std::string kBody = [] {
    std::string s = PromBody();
    for (std::size_t i = 0; (i = s.find(" untyped\n", i)) != std::string::npos;) {
      s.replace(i, 9, " unknown\n");
    }
    return s + "# EOF\n";
  }();
  return kBody;
}

template <typename P>
void Iterate(benchmark::State& state, const std::string& body, bool labels) {
  LabelsBuilder builder;
  std::int64_t series = 0;
  for (auto _ : state) {
    P p(body);
    double sum = 0;
    std::int64_t ts = 0;
    for (;;) {
      Result<Entry> e = p.Next();
      CHECK(e.ok()) << e.error().ToString();
      if (*e == Entry::kEof) break;
      if (*e != Entry::kSeries) continue;
      SeriesView s = p.Series();
      sum += s.value;
      ts += s.timestamp.value_or(0);
      if (labels) p.Labels(&builder);
      ++series;
    }
    benchmark::DoNotOptimize(sum);
    benchmark::DoNotOptimize(ts);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(body.size()));
  state.counters["series/s"] =
      benchmark::Counter(static_cast<double>(series), benchmark::Counter::kIsRate);
}

void BM_PromParse(benchmark::State& state) { Iterate<PromParser>(state, PromBody(), false); }
void BM_PromParseLabels(benchmark::State& state) { Iterate<PromParser>(state, PromBody(), true); }
void BM_OpenMetricsParse(benchmark::State& state) {
  Iterate<OpenMetricsParser>(state, OpenMetricsBody(), false);
}
void BM_OpenMetricsParseLabels(benchmark::State& state) {
  Iterate<OpenMetricsParser>(state, OpenMetricsBody(), true);
}

BENCHMARK(BM_PromParse);
BENCHMARK(BM_PromParseLabels);
BENCHMARK(BM_OpenMetricsParse);
BENCHMARK(BM_OpenMetricsParseLabels);

}  // namespace
}  // namespace starling::model::textparse

BENCHMARK_MAIN();
