// Throughput of the River front end on a realistic large config: parsing alone, and parsing
// plus evaluating every attribute. The config is generated in memory: about 10,000 lines of
// typical Agent components (discovery, relabel rules, scrape jobs, remote write endpoints,
// local files) with strings, arrays, objects, arithmetic, references and function calls.

#include <benchmark/benchmark.h>

#include <string>
#include <variant>

#include "syntax/eval.h"
#include "syntax/parser.h"

namespace starling::syntax {
namespace {

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

void AppendComponents(std::string* out, int i) {
  const std::string n = std::to_string(i);
  const std::string octet3 = std::to_string(i % 256), octet4 = std::to_string(i / 256 % 256);
  *out += "// Kubernetes pods of team " + n + ".\n";
  *out += "discovery.kubernetes \"pods_" + n + "\" {\n";
  *out += "\trole = \"pod\"\n";
  *out += "\tnamespaces {\n";
  *out += "\t\tnames = [\"default\", \"kube-system\", \"team-" + n + "\"]\n";
  *out += "\t}\n";
  *out += "\tselectors {\n";
  *out += "\t\trole  = \"pod\"\n";
  *out += "\t\tlabel = \"app.kubernetes.io/name=web-" + n + "\"\n";
  *out += "\t}\n";
  *out += "}\n\n";

  *out += "discovery.relabel \"pods_" + n + "\" {\n";
  *out += "\ttargets = discovery.kubernetes.pods.targets\n\n";
  *out += "\trule {\n";
  *out += "\t\tsource_labels = [\"__meta_kubernetes_pod_label_app\"]\n";
  *out += "\t\tregex         = \"web-(.*)\"\n";
  *out += "\t\ttarget_label  = \"app\"\n";
  *out += "\t\taction        = \"replace\"\n";
  *out += "\t}\n\n";
  *out += "\trule {\n";
  *out += "\t\tsource_labels = [\"__meta_kubernetes_namespace\", \"__meta_kubernetes_pod_name\"]\n";
  *out += "\t\tseparator     = \"/\"\n";
  *out += "\t\ttarget_label  = \"job\"\n";
  *out += "\t}\n";
  *out += "}\n\n";

  *out += "prometheus.scrape \"job_" + n + "\" {\n";
  *out += "\ttargets = concat(discovery.relabel.pods.output, [{\n";
  *out += "\t\t\"__address__\" = \"10.0." + octet3 + "." + octet4 + ":9100\",\n";
  *out += "\t\t\"env\"         = \"prod\",\n";
  *out += "\t}])\n";
  *out += "\tforward_to      = [prometheus.remote_write.default.receiver]\n";
  *out += "\tjob_name        = \"job-\" + \"" + n + "\"\n";
  *out += "\tscrape_interval = \"15s\"\n";
  *out += "\tscrape_timeout  = \"10s\"\n";
  *out += "\thonor_labels    = true\n";
  *out += "\tsample_limit    = 1000 * " + std::to_string(i % 7 + 1) + "\n";
  *out += "\tparams          = {\"format\" = [\"prometheus\"]}\n\n";
  *out += "\tbasic_auth {\n";
  *out += "\t\tusername = env(\"SCRAPE_USER\")\n";
  *out += "\t\tpassword = \"s3cr3t-" + n + "\"\n";
  *out += "\t}\n";
  *out += "}\n\n";

  *out += "prometheus.remote_write \"rw_" + n + "\" {\n";
  *out += "\tendpoint {\n";
  *out += "\t\turl = \"https://prom-" + n + ".example.com/api/v1/write\"\n\n";
  *out += "\t\tqueue_config {\n";
  *out += "\t\t\tcapacity            = 10000\n";
  *out += "\t\t\tmax_shards          = 50\n";
  *out += "\t\t\tmin_backoff         = \"30ms\"\n";
  *out += "\t\t\tmax_samples_per_send = 2000\n";
  *out += "\t\t}\n\n";
  *out += "\t\theaders = {\n";
  *out += "\t\t\t\"X-Scope-OrgID\" = \"tenant-" + n + "\",\n";
  *out += "\t\t}\n";
  *out += "\t}\n";
  *out += "\texternal_labels = {cluster = \"prod\", replica = \"r\" + \"" + n + "\"}\n";
  *out += "}\n\n";

  *out += "local.file \"token_" + n + "\" {\n";
  *out += "\tfilename       = \"/etc/agent/token-" + n + ".txt\"\n";
  *out += "\tis_secret      = " + n + " % 2 == 0\n";
  *out += "\tpoll_frequency = \"1m\"\n";
  *out += "}\n\n";
}

const std::string& BigConfig() {
  static const std::string* config = [] {
    auto* s = new std::string;
    for (int i = 0; CountLines(*s) < 10000; ++i) AppendComponents(s, i);
    return s;
  }();
  return *config;
}

// The exports the generated config refers to, as a runtime would hand them over.
const Scope& ComponentScope() {
  static const Scope* scope = [] {
    Value target = Value::Object(
        {{"__address__", Value::String("10.1.2.3:8080")}, {"namespace", Value::String("default")}});
    Value targets = Value::Array({target, target, target});
    ValueObject vars{
        {"discovery",
         Value::Object(
             {{"kubernetes", Value::Object({{"pods", Value::Object({{"targets", targets}})}})},
              {"relabel", Value::Object({{"pods", Value::Object({{"output", targets}})}})}})},
        {"prometheus",
         Value::Object(
             {{"remote_write",
               Value::Object({{"default", Value::Object({{"receiver", Value::String("rw")}})}})}})},
    };
    return new Scope(std::move(vars));
  }();
  return *scope;
}

void BM_ParseFile(benchmark::State& state) {
  const std::string& src = BigConfig();
  for (auto _ : state) {
    ParseResult r = ParseFile("bench.river", src);
    if (r.diags.HasErrors()) {
      state.SkipWithError(r.diags.Format("bench.river").c_str());
      return;
    }
    benchmark::DoNotOptimize(r.file.get());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(src.size()));
  state.counters["lines"] = CountLines(src);
}
BENCHMARK(BM_ParseFile)->Unit(benchmark::kMillisecond);

void BM_ParseAndEvaluate(benchmark::State& state) {
  const std::string& src = BigConfig();
  const Scope& scope = ComponentScope();
  for (auto _ : state) {
    ParseResult r = ParseFile("bench.river", src);
    if (r.diags.HasErrors()) {
      state.SkipWithError(r.diags.Format("bench.river").c_str());
      return;
    }
    auto body = EvaluateBody(r.file->body, scope);
    if (const auto* diags = std::get_if<Diagnostics>(&body)) {
      state.SkipWithError(diags->Format("bench.river").substr(0, 500).c_str());
      return;
    }
    benchmark::DoNotOptimize(body);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(src.size()));
}
BENCHMARK(BM_ParseAndEvaluate)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace starling::syntax

BENCHMARK_MAIN();
