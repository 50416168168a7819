// Parsing real exporter output (testdata/*.prom: node exporter and Prometheus itself) with both
// parsers.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "base/check.h"
#include "model/labels.h"
#include "model/textparse/openmetricsparse.h"
#include "model/textparse/promparse.h"

namespace starling::model::textparse {
namespace {

// Real exposition captured from an exporter (node_exporter.prom) or from Prometheus's own
// /metrics (prometheus.prom); read once.
const std::string& PromBody(const std::string& file) {
  static std::map<std::string, std::string> bodies;
  auto it = bodies.find(file);
  if (it != bodies.end()) return it->second;
  std::ifstream in(STARLING_TEXTPARSE_TESTDATA "/" + file, std::ios::binary);
  CHECK(in.good()) << "cannot open " << file;
  std::ostringstream ss;
  ss << in.rdbuf();
  return bodies.emplace(file, ss.str()).first->second;
}

// The same exposition as OpenMetrics: `untyped` is `unknown` there, and # EOF ends it.
std::string OpenMetricsBody(const std::string& file) {
  std::string s = PromBody(file);
  for (std::size_t i = 0; (i = s.find(" untyped\n", i)) != std::string::npos;) {
    s.replace(i, 9, " unknown\n");
  }
  return s + "# EOF\n";
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

void BM_PromParse(benchmark::State& state, const char* file, bool labels) {
  Iterate<PromParser>(state, PromBody(file), labels);
}
void BM_OpenMetricsParse(benchmark::State& state, const char* file, bool labels) {
  Iterate<OpenMetricsParser>(state, OpenMetricsBody(file), labels);
}

BENCHMARK_CAPTURE(BM_PromParse, node_exporter, "node_exporter.prom", false);
BENCHMARK_CAPTURE(BM_PromParse, node_exporter_labels, "node_exporter.prom", true);
BENCHMARK_CAPTURE(BM_PromParse, prometheus, "prometheus.prom", false);
BENCHMARK_CAPTURE(BM_PromParse, prometheus_labels, "prometheus.prom", true);
BENCHMARK_CAPTURE(BM_OpenMetricsParse, node_exporter, "node_exporter.prom", false);
BENCHMARK_CAPTURE(BM_OpenMetricsParse, node_exporter_labels, "node_exporter.prom", true);
BENCHMARK_CAPTURE(BM_OpenMetricsParse, prometheus, "prometheus.prom", false);

}  // namespace
}  // namespace starling::model::textparse

BENCHMARK_MAIN();
