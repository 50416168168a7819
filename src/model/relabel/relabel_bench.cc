// Relabeling of a Kubernetes-like target (rules after Prometheus's own relabel benchmark).

#include <benchmark/benchmark.h>

#include <vector>

#include "base/check.h"
#include "model/relabel/relabel.h"

namespace starling::model::relabel {
namespace {

Regex Re(std::string_view pattern) {
  auto r = Regex::Compile(pattern);
  CHECK(r.ok()) << r.error().ToString();
  return *r;
}

Config Rule(std::vector<std::string> sources, std::string_view regex, std::string target,
            std::string replacement, Action action) {
  Config c;
  c.source_labels = std::move(sources);
  if (!regex.empty()) c.regex = Re(regex);
  c.target_label = std::move(target);
  c.replacement = std::move(replacement);
  c.action = action;
  return c;
}

std::vector<Config> KubernetesRules() {
  std::vector<Config> rules = {
      Rule({"__meta_kubernetes_pod_container_port_name"}, ".*-metrics", "", "$1", Action::kKeep),
      Rule({"__meta_kubernetes_pod_phase"}, "Succeeded|Failed", "", "$1", Action::kDrop),
      Rule({"__meta_kubernetes_pod_annotation_prometheus_io_scheme"}, "(https?)", "__scheme__",
           "$1", Action::kReplace),
      Rule({"__address__", "__meta_kubernetes_pod_annotation_prometheus_io_port"},
           R"((.+?)(\:\d+)?;(\d+))", "__address__", "$1:$3", Action::kReplace),
      Rule({}, "__meta_kubernetes_pod_annotation_prometheus_io_param_(.+)", "", "__param_$1",
           Action::kLabelMap),
      Rule({}, "__meta_kubernetes_pod_label_prometheus_io_label_(.+)", "", "$1", Action::kLabelMap),
      Rule({"__meta_kubernetes_namespace"}, "", "namespace", "$1", Action::kReplace),
      Rule({"__meta_kubernetes_pod_name"}, "", "pod", "$1", Action::kReplace),
      Rule({"__meta_kubernetes_pod_container_name"}, "", "container", "$1", Action::kReplace),
      Rule({}, "", "cluster", "dev-us-central-0", Action::kReplace),
  };
  Config hash = Rule({"__address__"}, "", "__tmp_hash", "$1", Action::kHashMod);
  hash.modulus = 3;
  rules.push_back(hash);
  rules.push_back(Rule({"__tmp_hash"}, "^1$", "", "$1", Action::kKeep));
  rules.push_back(Rule({}, "__tmp_hash", "", "$1", Action::kLabelDrop));
  return rules;
}

const Labels& Target() {
  static const Labels kTarget{
      {"__address__", "10.132.183.40:80"},
      {"__meta_kubernetes_namespace", "loki-boltdb-shipper"},
      {"__meta_kubernetes_pod_container_name", "promtail"},
      {"__meta_kubernetes_pod_container_port_name", "http-metrics"},
      {"__meta_kubernetes_pod_container_port_number", "80"},
      {"__meta_kubernetes_pod_controller_kind", "DaemonSet"},
      {"__meta_kubernetes_pod_ip", "10.132.183.40"},
      {"__meta_kubernetes_pod_label_name", "promtail-loki-boltdb-shipper"},
      {"__meta_kubernetes_pod_name", "promtail-loki-boltdb-shipper-jgtr7"},
      {"__meta_kubernetes_pod_node_name", "gke-dev-us-central-0-main-n2s8-2-14d53341-9hkr"},
      {"__meta_kubernetes_pod_phase", "Running"},
      {"__metrics_path__", "/metrics"},
      {"__scheme__", "http"},
      {"job", "kubernetes-pods"},
  };
  return kTarget;
}

void BM_Process(benchmark::State& state) {
  const std::vector<Config> rules = KubernetesRules();
  for (auto _ : state) {
    auto out = Process(Target(), rules);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_Process);

void BM_ProcessBuilderReused(benchmark::State& state) {
  const std::vector<Config> rules = KubernetesRules();
  LabelsBuilder builder;
  Labels out;
  for (auto _ : state) {
    builder.Reset(Target());
    if (ProcessBuilder(builder, rules)) builder.Build(&out);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ProcessBuilderReused);

void BM_HashMod(benchmark::State& state) {
  Config c = Rule({"__address__"}, "", "h", "$1", Action::kHashMod);
  c.modulus = 1000;
  const std::vector<Config> rules = {c};
  for (auto _ : state) benchmark::DoNotOptimize(Process(Target(), rules));
}
BENCHMARK(BM_HashMod);

}  // namespace
}  // namespace starling::model::relabel

BENCHMARK_MAIN();
