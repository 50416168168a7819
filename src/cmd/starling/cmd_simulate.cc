// `starling tools simulate`: builds a cluster of membership state machines over a simulated
// network (cluster/simulator.h), then times how fast a join, a failure and a partition spread,
// and prints a report. Everything is simulated time; the same flags and seed print the same
// report.

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/go_duration.h"
#include "base/random.h"
#include "cluster/membership.h"
#include "cluster/simulator.h"
#include "cmd/starling/commands.h"
#include "component/component.h"

namespace starling::cmd {
namespace {

using cluster::Duration;
using cluster::NodeId;
using cluster::SpreadCondition;

struct SimulateOptions {
  int nodes = 100;
  std::uint64_t seed = 1;
  double loss = 0;
  std::string latency = "1ms";
  std::string jitter = "1ms";
  std::string gossip_interval = "200ms";
  std::string probe_interval;  // empty: the membership default
  std::string probe_timeout;
  std::string push_pull_interval;
  int gossip_nodes = 0;  // 0: the membership default
  int indirect_checks = -1;
  int retransmit_mult = 0;
  int suspicion_mult = 0;
  int suspicion_max_timeout_mult = 0;
  std::string duration = "10s";
  std::string bootstrap_timeout = "30s";
  std::string start_interval = "10ms";
  std::string settle = "5s";
  int runs = 1;
  std::vector<std::string> scenarios = {"all"};
  double partition = 0.3;
  std::string partition_duration = "10s";
  int join_peers = 3;
  bool viewers = false;
  std::string format = "text";
};

// The parsed flags.
struct Plan {
  int nodes = 0;
  cluster::SimulatorConfig config;
  Duration duration{};
  Duration bootstrap_timeout{};
  Duration start_interval{};
  Duration settle{};
  int runs = 1;
  Duration partition_duration{};
  double partition = 0;
  int join_peers = 0;
  bool participants = true;
  bool join = false, failure = false, split = false;
  bool json = false;
};

base::Result<Duration> ParseFlagDuration(const std::string& flag, const std::string& text,
                                         bool allow_zero) {
  base::Result<std::chrono::nanoseconds> d = base::ParseGoDuration(text);
  if (!d.ok()) return base::Status::InvalidArgument("--" + flag + ": " + d.error().message());
  if (*d < Duration::zero() || (!allow_zero && *d == Duration::zero())) {
    return base::Status::InvalidArgument(
        "--" + flag + " must be " + (allow_zero ? "zero or more" : "positive") + ", got " + text);
  }
  return *d;
}

base::Result<Plan> MakePlan(const SimulateOptions& o) {
  Plan p;
  p.nodes = o.nodes;
  if (p.nodes < 2) return base::Status::InvalidArgument("--nodes must be at least 2");
  if (o.loss < 0 || o.loss >= 1) return base::Status::InvalidArgument("--loss must be in [0, 1)");
  if (o.partition <= 0 || o.partition >= 1) {
    return base::Status::InvalidArgument("--partition must be in (0, 1)");
  }
  p.config.seed = o.seed;
  p.config.network.loss = o.loss;
  cluster::MembershipConfig& m = p.config.membership;
  m.cluster_name = "sim";
  ASSIGN_OR_RETURN(p.config.network.latency, ParseFlagDuration("latency", o.latency, true));
  ASSIGN_OR_RETURN(p.config.network.jitter, ParseFlagDuration("jitter", o.jitter, true));
  ASSIGN_OR_RETURN(m.gossip_interval,
                   ParseFlagDuration("gossip-interval", o.gossip_interval, false));
  if (!o.probe_interval.empty()) {
    ASSIGN_OR_RETURN(m.probe_interval,
                     ParseFlagDuration("probe-interval", o.probe_interval, false));
  }
  if (!o.probe_timeout.empty()) {
    ASSIGN_OR_RETURN(m.probe_timeout, ParseFlagDuration("probe-timeout", o.probe_timeout, false));
  }
  if (!o.push_pull_interval.empty()) {
    ASSIGN_OR_RETURN(m.push_pull_interval,
                     ParseFlagDuration("push-pull-interval", o.push_pull_interval, false));
  }
  if (o.gossip_nodes > 0) m.gossip_nodes = o.gossip_nodes;
  if (o.indirect_checks >= 0) m.indirect_checks = o.indirect_checks;
  if (o.retransmit_mult > 0) m.retransmit_mult = o.retransmit_mult;
  if (o.suspicion_mult > 0) m.suspicion_mult = o.suspicion_mult;
  if (o.suspicion_max_timeout_mult > 0) {
    m.suspicion_max_timeout_mult = o.suspicion_max_timeout_mult;
  }
  ASSIGN_OR_RETURN(p.duration, ParseFlagDuration("duration", o.duration, false));
  ASSIGN_OR_RETURN(p.bootstrap_timeout,
                   ParseFlagDuration("bootstrap-timeout", o.bootstrap_timeout, false));
  ASSIGN_OR_RETURN(p.start_interval, ParseFlagDuration("start-interval", o.start_interval, true));
  ASSIGN_OR_RETURN(p.settle, ParseFlagDuration("settle", o.settle, true));
  if (o.runs < 1) return base::Status::InvalidArgument("--runs must be at least 1");
  p.runs = o.runs;
  ASSIGN_OR_RETURN(p.partition_duration,
                   ParseFlagDuration("partition-duration", o.partition_duration, false));
  p.partition = o.partition;
  p.join_peers = o.join_peers;
  p.participants = !o.viewers;
  for (const std::string& s : o.scenarios) {
    if (s == "join") {
      p.join = true;
    } else if (s == "failure") {
      p.failure = true;
    } else if (s == "partition") {
      p.split = true;
    } else if (s == "all") {
      p.join = p.failure = p.split = true;
    } else {
      return base::Status::InvalidArgument("--scenario: unknown scenario \"" + s +
                                           "\" (want join, failure, partition or all)");
    }
  }
  if (o.format != "text" && o.format != "json") {
    return base::Status::InvalidArgument("--format must be text or json");
  }
  p.json = o.format == "json";
  return p;
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

std::string FormatSeconds(std::optional<Duration> d) {
  if (!d) return "not reached";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", Seconds(*d));
  return buf;
}

std::string FormatGap(const cluster::ConvergenceGap& g) {
  return "(" + std::to_string(g.missing) + " views missing a member, " + std::to_string(g.dead) +
         " seeing a live member dead, " + std::to_string(g.stale) + " seeing a gone member alive)";
}

nlohmann::json GapJson(const std::optional<cluster::ConvergenceGap>& g) {
  if (!g) return nullptr;
  return {{"missing", g->missing}, {"dead", g->dead}, {"stale", g->stale}};
}

nlohmann::json SecondsJson(std::optional<Duration> d) {
  if (!d) return nullptr;
  return Seconds(*d);
}

// One timing of a scenario: either the time until 99.9% and until 100% of the running nodes saw
// something, or (percentiles false) a single time until the whole cluster did.
struct Metric {
  std::string label;  // for the text report
  std::string key;    // for the JSON report
  bool percentiles = true;
  std::optional<Duration> p999, all;
  std::optional<cluster::ConvergenceGap> gap;  // single times not reached: what was missing
};

// Traffic of one scenario, per running node per simulated second.
struct Traffic {
  double messages = 0;
  double bytes = 0;
};

struct PhaseReport {
  std::string name;     // "join", "failure", "partition"
  std::string subject;  // "node-17", "30 of 100 nodes"
  Duration start{};
  Duration length{};
  int nodes = 0;  // running, counted in the percentages
  std::vector<Metric> metrics;
  std::uint64_t false_positives = 0;
  std::uint64_t dead_declarations = 0;
  // partition: the part of the two above counted before the heal.
  std::optional<std::uint64_t> false_positives_before_heal, dead_declarations_before_heal;
  Traffic traffic;
};

// How the initial cluster formed.
struct Bootstrap {
  int nodes = 0;
  std::optional<Duration> converged;           // simulated time since the first node started
  std::optional<cluster::ConvergenceGap> gap;  // when it did not converge
};

struct RunReport {
  std::uint64_t seed = 0;
  Bootstrap bootstrap;
  std::vector<PhaseReport> phases;
  cluster::NetworkStats network;
  Duration simulated{};
  std::uint64_t events = 0;
};

// Measures the counters' change over one scenario.
class PhaseMeter {
 public:
  explicit PhaseMeter(const cluster::Simulator& sim)
      : sim_(sim), start_(sim.now()), net_(sim.network_stats()), obs_(sim.observation_stats()) {}

  void Finish(PhaseReport& r) const {
    r.start = start_;
    r.length = sim_.now() - start_;
    r.false_positives = sim_.observation_stats().false_positives - obs_.false_positives;
    r.dead_declarations = sim_.observation_stats().dead_declarations - obs_.dead_declarations;
    // Joins and kills happen at the start of a scenario, so the running count is the same
    // through it.
    const double node_seconds = sim_.running_count() * Seconds(r.length);
    if (node_seconds > 0) {
      r.traffic.messages =
          static_cast<double>(sim_.network_stats().messages_sent - net_.messages_sent) /
          node_seconds;
      r.traffic.bytes =
          static_cast<double>(sim_.network_stats().bytes_sent - net_.bytes_sent) / node_seconds;
    }
  }

  const cluster::ObservationStats& start_stats() const { return obs_; }

 private:
  const cluster::Simulator& sim_;
  Duration start_;
  cluster::NetworkStats net_;
  cluster::ObservationStats obs_;
};

Metric WatchMetric(const cluster::Simulator& sim, int watch, std::string label, std::string key) {
  Metric m;
  m.label = std::move(label);
  m.key = std::move(key);
  m.p999 = sim.watch(watch).p999;
  m.all = sim.watch(watch).all;
  return m;
}

PhaseReport RunJoin(cluster::Simulator& sim, const Plan& plan) {
  PhaseMeter meter(sim);
  PhaseReport r;
  r.name = "join";
  const NodeId x = sim.AddNode();
  r.subject = sim.name(x);
  const int alive = sim.Watch(x, SpreadCondition::kKnownAlive);
  const int participant = plan.participants ? sim.Watch(x, SpreadCondition::kParticipant) : -1;
  sim.JoinRandom(x, plan.join_peers);
  if (plan.participants) (void)sim.SetState(x, cluster::NodeState::kParticipant);
  sim.RunFor(plan.duration);
  r.nodes = sim.watch(alive).nodes;
  r.metrics.push_back(WatchMetric(sim, alive, "alive in Members()", "alive"));
  if (participant >= 0) {
    r.metrics.push_back(WatchMetric(sim, participant, "in Participants()", "participant"));
  }
  meter.Finish(r);
  return r;
}

PhaseReport RunFailure(cluster::Simulator& sim, const Plan& plan, base::Random& random) {
  PhaseMeter meter(sim);
  PhaseReport r;
  r.name = "failure";
  const std::vector<NodeId> running = sim.RunningNodes();
  const NodeId x = running[random.Uniform(running.size())];
  r.subject = sim.name(x);
  sim.Kill(x);
  const int gone = sim.Watch(x, SpreadCondition::kGone);
  sim.RunFor(plan.duration);
  r.nodes = sim.watch(gone).nodes;
  r.metrics.push_back(WatchMetric(sim, gone, "dead or removed", "dead"));
  meter.Finish(r);
  return r;
}

PhaseReport RunPartition(cluster::Simulator& sim, const Plan& plan, base::Random& random) {
  PhaseMeter meter(sim);
  PhaseReport r;
  r.name = "partition";
  std::vector<NodeId> running = sim.RunningNodes();
  const auto k = std::clamp<std::size_t>(
      static_cast<std::size_t>(std::lround(plan.partition * static_cast<double>(running.size()))),
      1, running.size() - 1);
  for (std::size_t i = 0; i < k; ++i) {
    std::swap(running[i], running[i + random.Uniform(running.size() - i)]);
  }
  running.resize(k);
  std::sort(running.begin(), running.end());
  r.subject = std::to_string(k) + " of " + std::to_string(sim.running_count()) + " nodes";
  r.nodes = sim.running_count();
  const Duration start = sim.now();
  sim.Partition({running});
  // Convergence is checked every 10 ms: fine enough next to gossip rounds of 100s of ms.
  constexpr Duration kStep = std::chrono::milliseconds(10);
  Metric split;
  split.label = "each side sees the other dead";
  split.key = "split";
  split.percentiles = false;
  split.all = sim.RunUntilConverged(start + plan.partition_duration, kStep);
  sim.RunUntil(start + plan.partition_duration);
  if (!split.all) split.gap = sim.Gap();
  r.false_positives_before_heal =
      sim.observation_stats().false_positives - meter.start_stats().false_positives;
  r.dead_declarations_before_heal =
      sim.observation_stats().dead_declarations - meter.start_stats().dead_declarations;
  sim.Heal();
  Metric healed;
  healed.label = "reconverged after heal";
  healed.key = "healed";
  healed.percentiles = false;
  healed.all = sim.RunUntilConverged(sim.now() + plan.duration, kStep);
  sim.RunUntil(start + plan.partition_duration + plan.duration);
  if (!healed.all) healed.gap = sim.Gap();
  r.metrics.push_back(std::move(split));
  r.metrics.push_back(std::move(healed));
  meter.Finish(r);
  return r;
}

RunReport RunOnce(const Plan& plan, std::uint64_t seed) {
  RunReport report;
  report.seed = seed;
  cluster::SimulatorConfig config = plan.config;
  config.seed = seed;
  cluster::Simulator sim(config);
  // Choices of victims and partitions, apart from the simulator's own streams.
  base::SeededRandom random(seed ^ 0x5eed5eed5eed5eedULL);

  // Bootstrap: nodes start --start-interval apart, each joining through a few that are
  // already up. Beliefs are not tracked until then: every node learning every other is the
  // expensive part.
  Bootstrap& boot = report.bootstrap;
  boot.nodes = plan.join ? plan.nodes - 1 : plan.nodes;
  for (int i = 0; i < boot.nodes; ++i) {
    sim.RunUntil(plan.start_interval * i);
    const NodeId id = sim.AddNode();
    if (id > 0) sim.JoinRandom(id, plan.join_peers);
    if (plan.participants) (void)sim.SetState(id, cluster::NodeState::kParticipant);
  }
  if (sim.RunUntilConverged(sim.now() + plan.bootstrap_timeout, std::chrono::milliseconds(250))) {
    boot.converged = sim.now();
  } else {
    // A few views missing a member do not change what the scenarios measure (each watches
    // one subject); push/pull, slow in large clusters, fills them in eventually.
    boot.gap = sim.Gap();
  }
  sim.RunFor(plan.settle);
  sim.SetObserving(true);
  if (plan.join) report.phases.push_back(RunJoin(sim, plan));
  if (plan.failure) report.phases.push_back(RunFailure(sim, plan, random));
  if (plan.split) report.phases.push_back(RunPartition(sim, plan, random));
  report.network = sim.network_stats();
  report.simulated = sim.now();
  report.events = sim.events_processed();
  return report;
}

void PrintHeader(const Plan& plan) {
  const cluster::MembershipConfig& m = plan.config.membership;
  const cluster::NetworkModel& net = plan.config.network;
  if (plan.runs == 1) {
    std::printf("membership simulation: %d nodes, seed %llu\n", plan.nodes,
                static_cast<unsigned long long>(plan.config.seed));
  } else {
    std::printf("membership simulation: %d nodes, %d runs, seeds %llu to %llu\n", plan.nodes,
                plan.runs, static_cast<unsigned long long>(plan.config.seed),
                static_cast<unsigned long long>(plan.config.seed + plan.runs - 1));
  }
  std::printf("  network: latency %s + jitter [0, %s), loss %.2f%%\n",
              base::FormatGoDuration(net.latency).c_str(),
              base::FormatGoDuration(net.jitter).c_str(), net.loss * 100);
  std::printf(
      "  membership: gossip %s to %d nodes, probe %s (timeout %s, %d indirect), push/pull %s, "
      "suspicion mult %d (max x%d), retransmit mult %d\n",
      base::FormatGoDuration(m.gossip_interval).c_str(), m.gossip_nodes,
      base::FormatGoDuration(m.probe_interval).c_str(),
      base::FormatGoDuration(m.probe_timeout).c_str(), m.indirect_checks,
      base::FormatGoDuration(m.push_pull_interval).c_str(), m.suspicion_mult,
      m.suspicion_max_timeout_mult, m.retransmit_mult);
}

void PrintRun(const Plan& plan, const RunReport& run) {
  const Bootstrap& boot = run.bootstrap;
  if (boot.converged) {
    std::printf("\nbootstrap: %d nodes started %s apart; converged at %s\n", boot.nodes,
                base::FormatGoDuration(plan.start_interval).c_str(),
                FormatSeconds(boot.converged).c_str());
  } else {
    std::printf("\nbootstrap: %d nodes started %s apart; not converged after %s %s\n", boot.nodes,
                base::FormatGoDuration(plan.start_interval).c_str(),
                base::FormatGoDuration(plan.bootstrap_timeout).c_str(),
                FormatGap(*boot.gap).c_str());
  }
  for (const PhaseReport& r : run.phases) {
    std::printf("\n%s of %s at %.3fs (window %.3fs, %d running nodes)\n", r.name.c_str(),
                r.subject.c_str(), Seconds(r.start), Seconds(r.length), r.nodes);
    for (const Metric& m : r.metrics) {
      if (m.percentiles) {
        std::printf("  %-30s 99.9%% in %-12s 100%% in %s\n", (m.label + ":").c_str(),
                    FormatSeconds(m.p999).c_str(), FormatSeconds(m.all).c_str());
      } else {
        std::printf("  %-30s %s%s\n", (m.label + ":").c_str(), FormatSeconds(m.all).c_str(),
                    m.gap ? (" " + FormatGap(*m.gap)).c_str() : "");
      }
    }
    std::printf("  %-30s %llu (dead declarations of running nodes: %llu)\n",
                "false positives:", static_cast<unsigned long long>(r.false_positives),
                static_cast<unsigned long long>(r.dead_declarations));
    if (r.false_positives_before_heal) {
      std::printf("  %-30s %llu (dead declarations of running nodes: %llu)\n",
                  "  of which before the heal:",
                  static_cast<unsigned long long>(*r.false_positives_before_heal),
                  static_cast<unsigned long long>(*r.dead_declarations_before_heal));
    }
    std::printf("  %-30s %.1f messages, %.0f bytes\n",
                "sent per node per second:", r.traffic.messages, r.traffic.bytes);
  }
  const cluster::NetworkStats& ns = run.network;
  std::printf(
      "\nnetwork: %llu messages sent, %llu delivered, dropped %llu by loss, %llu by partition, "
      "%llu to stopped nodes\n",
      static_cast<unsigned long long>(ns.messages_sent),
      static_cast<unsigned long long>(ns.messages_delivered),
      static_cast<unsigned long long>(ns.dropped_loss),
      static_cast<unsigned long long>(ns.dropped_partition),
      static_cast<unsigned long long>(ns.dropped_down));
}

// "min 1.2s, median 1.5s, p90 1.9s, max 2.0s" over runs; a time not reached ranks above all.
std::string Distribution(std::vector<std::optional<Duration>> values) {
  std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) {
    if (!a || !b) return a.has_value() && !b.has_value();
    return *a < *b;
  });
  const auto rank = [&](double q) {
    const auto n = values.size();
    auto i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
    return values[std::clamp<std::size_t>(i, 1, n) - 1];
  };
  std::string out = "min " + FormatSeconds(values.front()) + ", median " +
                    FormatSeconds(rank(0.5)) + ", p90 " + FormatSeconds(rank(0.9)) + ", max " +
                    FormatSeconds(values.back());
  const auto missed = std::count_if(values.begin(), values.end(), [](const auto& v) { return !v; });
  if (missed > 0) {
    out += " (not reached in " + std::to_string(missed) + " of " + std::to_string(values.size()) +
           " runs)";
  }
  return out;
}

void PrintSummary(const std::vector<RunReport>& runs) {
  const auto n = static_cast<double>(runs.size());
  std::vector<std::optional<Duration>> boot;
  std::vector<std::int64_t> missing;
  for (const RunReport& r : runs) {
    boot.push_back(r.bootstrap.converged);
    if (r.bootstrap.gap) missing.push_back(r.bootstrap.gap->missing + r.bootstrap.gap->dead);
  }
  std::printf("\nbootstrap of %d nodes converged at: %s\n", runs[0].bootstrap.nodes,
              Distribution(boot).c_str());
  if (!missing.empty()) {
    std::sort(missing.begin(), missing.end());
    std::printf("  views missing a live member when the scenarios started: median %lld, max %lld\n",
                static_cast<long long>(missing[(missing.size() - 1) / 2]),
                static_cast<long long>(missing.back()));
  }
  for (std::size_t p = 0; p < runs[0].phases.size(); ++p) {
    const PhaseReport& first = runs[0].phases[p];
    std::printf("\n%s, %zu runs (%d running nodes)\n", first.name.c_str(), runs.size(),
                first.nodes);
    for (std::size_t k = 0; k < first.metrics.size(); ++k) {
      std::vector<std::optional<Duration>> p999, all;
      for (const RunReport& r : runs) {
        p999.push_back(r.phases[p].metrics[k].p999);
        all.push_back(r.phases[p].metrics[k].all);
      }
      const Metric& m = first.metrics[k];
      if (m.percentiles) {
        std::printf("  %-36s %s\n", (m.label + ", 99.9%:").c_str(), Distribution(p999).c_str());
        std::printf("  %-36s %s\n", (m.label + ", 100%:").c_str(), Distribution(all).c_str());
      } else {
        std::printf("  %-36s %s\n", (m.label + ":").c_str(), Distribution(all).c_str());
      }
    }
    std::uint64_t fp = 0, dd = 0;
    int runs_with_fp = 0;
    Traffic t;
    for (const RunReport& r : runs) {
      const PhaseReport& ph = r.phases[p];
      fp += ph.false_positives;
      dd += ph.dead_declarations;
      runs_with_fp += ph.false_positives > 0 ? 1 : 0;
      t.messages += ph.traffic.messages / n;
      t.bytes += ph.traffic.bytes / n;
    }
    std::printf("  %-36s %llu in %d of %zu runs (dead declarations of running nodes: %llu)\n",
                "false positives:", static_cast<unsigned long long>(fp), runs_with_fp, runs.size(),
                static_cast<unsigned long long>(dd));
    std::printf("  %-36s %.1f messages, %.0f bytes (mean)\n",
                "sent per node per second:", t.messages, t.bytes);
  }
}

nlohmann::json RunJson(const RunReport& run) {
  nlohmann::json j;
  j["seed"] = run.seed;
  j["bootstrap"] = {{"nodes", run.bootstrap.nodes},
                    {"converged_seconds", SecondsJson(run.bootstrap.converged)},
                    {"gap", GapJson(run.bootstrap.gap)}};
  nlohmann::json list = nlohmann::json::array();
  for (const PhaseReport& r : run.phases) {
    nlohmann::json p;
    p["scenario"] = r.name;
    p["subject"] = r.subject;
    p["start_seconds"] = Seconds(r.start);
    p["window_seconds"] = Seconds(r.length);
    p["nodes"] = r.nodes;
    for (const Metric& m : r.metrics) {
      if (m.percentiles) {
        p[m.key + "_p999_seconds"] = SecondsJson(m.p999);
        p[m.key + "_all_seconds"] = SecondsJson(m.all);
      } else {
        p[m.key + "_seconds"] = SecondsJson(m.all);
        p[m.key + "_gap"] = GapJson(m.gap);
      }
    }
    p["false_positives"] = r.false_positives;
    p["dead_declarations"] = r.dead_declarations;
    if (r.false_positives_before_heal) {
      p["false_positives_before_heal"] = *r.false_positives_before_heal;
      p["dead_declarations_before_heal"] = *r.dead_declarations_before_heal;
    }
    p["messages_per_node_per_second"] = r.traffic.messages;
    p["bytes_per_node_per_second"] = r.traffic.bytes;
    list.push_back(std::move(p));
  }
  j["scenarios"] = std::move(list);
  j["messages_sent"] = run.network.messages_sent;
  j["bytes_sent"] = run.network.bytes_sent;
  j["simulated_seconds"] = Seconds(run.simulated);
  return j;
}

nlohmann::json PlanJson(const Plan& plan) {
  const cluster::MembershipConfig& m = plan.config.membership;
  return {
      {"nodes", plan.nodes},
      {"seed", plan.config.seed},
      {"runs", plan.runs},
      {"loss", plan.config.network.loss},
      {"latency_seconds", Seconds(plan.config.network.latency)},
      {"jitter_seconds", Seconds(plan.config.network.jitter)},
      {"gossip_interval_seconds", Seconds(m.gossip_interval)},
      {"gossip_nodes", m.gossip_nodes},
      {"probe_interval_seconds", Seconds(m.probe_interval)},
      {"probe_timeout_seconds", Seconds(m.probe_timeout)},
      {"indirect_checks", m.indirect_checks},
      {"push_pull_interval_seconds", Seconds(m.push_pull_interval)},
      {"suspicion_mult", m.suspicion_mult},
      {"suspicion_max_timeout_mult", m.suspicion_max_timeout_mult},
      {"retransmit_mult", m.retransmit_mult},
  };
}

int RunSimulate(const SimulateOptions& opts) {
  base::Result<Plan> plan_or = MakePlan(opts);
  if (!plan_or.ok()) {
    PrintError(plan_or.error().message());
    return 1;
  }
  const Plan& plan = *plan_or;
  const auto wall_start = std::chrono::steady_clock::now();
  std::vector<RunReport> runs;
  std::uint64_t events = 0;
  Duration simulated{};
  for (int i = 0; i < plan.runs; ++i) {
    runs.push_back(RunOnce(plan, plan.config.seed + static_cast<std::uint64_t>(i)));
    events += runs.back().events;
    simulated += runs.back().simulated;
  }
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (plan.json) {
    nlohmann::json j;
    j["config"] = PlanJson(plan);
    j["runs"] = nlohmann::json::array();
    for (const RunReport& r : runs) j["runs"].push_back(RunJson(r));
    j["wall_seconds"] = wall_seconds;
    std::string text = j.dump(2);
    text.push_back('\n');
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    PrintHeader(plan);
    if (runs.size() == 1) {
      PrintRun(plan, runs[0]);
    } else {
      PrintSummary(runs);
    }
    std::printf("\nsimulated %.3fs in %.2fs (%llu events)\n", Seconds(simulated), wall_seconds,
                static_cast<unsigned long long>(events));
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

void AddSimulateCommand(CLI::App& tools, int* exit_code) {
  auto opts = std::make_shared<SimulateOptions>();
  CLI::App* sim = tools.add_subcommand(
      "simulate",
      "Simulate a gossip cluster in one process and report how fast joins, failures and "
      "partitions spread.");
  sim->add_option("--nodes", opts->nodes, "Cluster size")->capture_default_str();
  sim->add_option("--seed", opts->seed, "Seed of every random choice")->capture_default_str();
  sim->add_option("--loss", opts->loss, "Probability that a message is lost, in [0, 1)")
      ->capture_default_str();
  sim->add_option("--latency", opts->latency, "One-way network latency")->capture_default_str();
  sim->add_option("--jitter", opts->jitter, "Extra latency, uniform in [0, jitter)")
      ->capture_default_str();
  sim->add_option("--gossip-interval", opts->gossip_interval, "Gossip round length")
      ->capture_default_str();
  sim->add_option("--gossip-nodes", opts->gossip_nodes,
                  "Members gossiped to per round (0: the default)");
  sim->add_option("--probe-interval", opts->probe_interval,
                  "Failure detection probe interval (default: the membership default)");
  sim->add_option("--probe-timeout", opts->probe_timeout,
                  "Wait for a direct probe's ack (default: the membership default)");
  sim->add_option("--push-pull-interval", opts->push_pull_interval,
                  "Full state sync interval (default: the membership default)");
  sim->add_option("--indirect-checks", opts->indirect_checks,
                  "Members asked to probe indirectly (default: the membership default)");
  sim->add_option("--retransmit-mult", opts->retransmit_mult,
                  "Transmissions of each update: mult * ceil(log10(N+1)) (default: membership "
                  "default)");
  sim->add_option("--suspicion-mult", opts->suspicion_mult,
                  "Suspicion timeout multiplier (default: the membership default)");
  sim->add_option("--suspicion-max-timeout-mult", opts->suspicion_max_timeout_mult,
                  "Maximum suspicion timeout, as a multiple of the minimum (default: membership "
                  "default)");
  sim->add_option("--duration", opts->duration,
                  "Length of each scenario's measurement window (after healing, for partition)")
      ->capture_default_str();
  sim->add_option("--bootstrap-timeout", opts->bootstrap_timeout,
                  "After the last initial node started, wait at most this long for the cluster "
                  "to converge before the scenarios start")
      ->capture_default_str();
  sim->add_option("--start-interval", opts->start_interval,
                  "Time between the starts of the initial nodes")
      ->capture_default_str();
  sim->add_option("--settle", opts->settle,
                  "Run this long after the bootstrap before the first scenario")
      ->capture_default_str();
  sim->add_option("--runs", opts->runs,
                  "Repeat everything with seeds seed, seed+1, ...; the report gives the "
                  "distribution over runs")
      ->capture_default_str();
  sim->add_option("--scenario", opts->scenarios,
                  "join, failure, partition or all; repeat or separate with commas")
      ->delimiter(',')
      ->capture_default_str();
  sim->add_option("--partition", opts->partition,
                  "Fraction of the nodes that the partition scenario cuts off, in (0, 1)")
      ->capture_default_str();
  sim->add_option("--partition-duration", opts->partition_duration,
                  "How long the partition lasts before it heals")
      ->capture_default_str();
  sim->add_option("--join-peers", opts->join_peers,
                  "Existing nodes a joining node contacts, as --cluster.join-addresses")
      ->capture_default_str();
  sim->add_flag("--viewers", opts->viewers,
                "Leave nodes as viewers instead of making every node a participant");
  sim->add_option("--format", opts->format, "Report format: text or json")->capture_default_str();
  sim->callback([opts, exit_code] { *exit_code = RunSimulate(*opts); });
}

}  // namespace starling::cmd
