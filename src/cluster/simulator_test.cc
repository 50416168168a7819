#include "cluster/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "cluster/membership.h"

namespace starling::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

SimulatorConfig TestConfig(std::uint64_t seed, double loss = 0) {
  SimulatorConfig c;
  c.seed = seed;
  c.network.latency = milliseconds(1);
  c.network.jitter = milliseconds(1);
  c.network.loss = loss;
  return c;
}

// Starts n nodes 10 ms apart, each joining through up to two that are already up, all
// participants.
void StartNodes(Simulator& sim, int n) {
  const Duration base = sim.now();
  for (int i = 0; i < n; ++i) {
    sim.RunUntil(base + milliseconds(10) * i);
    const NodeId id = sim.AddNode();
    if (sim.size() > 1) sim.JoinRandom(id, 2);
    ASSERT_TRUE(sim.SetState(id, NodeState::kParticipant).ok());
  }
}

// StartNodes, then runs until every node sees every other alive. Joins in quick succession
// may reach some nodes only through push/pull, hence a deadline above its interval.
void StartConverged(Simulator& sim, int n) {
  StartNodes(sim, n);
  ASSERT_TRUE(sim.RunUntilConverged(sim.now() + seconds(40), milliseconds(50)).has_value())
      << "cluster of " << n << " did not converge";
}

// How `observer` sees `member` according to its Members(), without the simulator's tracking.
const Member* FindMember(const std::vector<Member>& members, const std::string& name) {
  for (const Member& m : members) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

TEST(SimulatorTest, NodesGetSyntheticNamesAndAddresses) {
  SimulatorConfig config = TestConfig(1);
  config.port = 8000;
  Simulator sim(config);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sim.AddNode(), i);
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const std::string name = "node-" + std::to_string(i);
    EXPECT_EQ(sim.name(i), name);
    EXPECT_EQ(sim.addr(i), name + ":8000");
    EXPECT_EQ(sim.membership(i).config().node_name, name);
    EXPECT_EQ(sim.membership(i).config().advertise_addr, name + ":8000");
    EXPECT_EQ(sim.membership(i).config().cluster_name, "sim");
    EXPECT_EQ(sim.status(i), NodeStatus::kRunning);
  }
  EXPECT_EQ(sim.running_count(), 3);
}

TEST(SimulatorTest, ScriptedActionsRunInTimeOrder) {
  Simulator sim(TestConfig(1));
  for (int i = 0; i < 4; ++i) sim.AddNode();
  std::vector<std::string> log;
  sim.At(seconds(2), [&] {
    log.push_back("kill 1 at " + std::to_string(sim.now().count()));
    sim.Kill(1);
  });
  sim.At(seconds(1), [&] {
    log.push_back("pause 2");
    sim.Pause(2);
  });
  sim.At(seconds(1), [&] {
    log.push_back("partition");
    sim.Partition({{0}});
  });
  sim.At(seconds(3), [&] {
    log.push_back("resume 2");
    sim.Resume(2);
  });
  sim.RunUntil(milliseconds(2500));
  EXPECT_EQ(sim.now(), milliseconds(2500));
  EXPECT_EQ(sim.status(1), NodeStatus::kKilled);
  EXPECT_EQ(sim.status(2), NodeStatus::kPaused);
  EXPECT_EQ(sim.running_count(), 2);
  EXPECT_FALSE(sim.Reachable(0, 3));
  EXPECT_TRUE(sim.Reachable(2, 3));
  sim.RunUntil(seconds(4));
  EXPECT_EQ(sim.status(2), NodeStatus::kRunning);
  const std::vector<std::string> want = {
      "pause 2", "partition", "kill 1 at " + std::to_string(Duration(seconds(2)).count()),
      "resume 2"};
  EXPECT_EQ(log, want);
  sim.Heal();
  EXPECT_TRUE(sim.Reachable(0, 3));
}

TEST(SimulatorTest, SmallClustersConverge) {
  struct Case {
    int nodes;
    double loss;
  };
  for (const Case& c : {Case{5, 0}, Case{12, 0}, Case{20, 0}, Case{20, 0.05}}) {
    SCOPED_TRACE("nodes " + std::to_string(c.nodes) + " loss " + std::to_string(c.loss));
    Simulator sim(TestConfig(42, c.loss));
    StartConverged(sim, c.nodes);
    // Liveness has converged; the participant states may still be on their way.
    const auto all_participants = [&] {
      for (NodeId o = 0; o < c.nodes; ++o) {
        if (sim.membership(o).Participants().size() != static_cast<std::size_t>(c.nodes)) {
          return false;
        }
      }
      return true;
    };
    ASSERT_TRUE(sim.RunUntil(sim.now() + seconds(10), all_participants));
    for (NodeId o = 0; o < c.nodes; ++o) {
      const std::vector<Member> members = sim.membership(o).Members();
      ASSERT_EQ(members.size(), static_cast<std::size_t>(c.nodes)) << sim.name(o);
      for (const Member& m : members) EXPECT_EQ(m.liveness, Liveness::kAlive) << m.name;
      EXPECT_EQ(sim.membership(o).Participants().size(), static_cast<std::size_t>(c.nodes));
    }
    EXPECT_GT(sim.network_stats().messages_delivered, 0u);
    if (c.loss > 0) {
      EXPECT_GT(sim.network_stats().dropped_loss, 0u);
    } else {
      EXPECT_EQ(sim.network_stats().dropped_loss, 0u);
    }
  }
}

TEST(SimulatorTest, JoinSpreadsToEveryNode) {
  Simulator sim(TestConfig(7));
  StartConverged(sim, 15);
  const Duration t0 = sim.now();
  const NodeId x = sim.AddNode();
  const int alive = sim.Watch(x, SpreadCondition::kKnownAlive);
  const int participant = sim.Watch(x, SpreadCondition::kParticipant);
  EXPECT_FALSE(sim.WatchDone(alive));
  sim.JoinRandom(x, 3);
  ASSERT_TRUE(sim.SetState(x, NodeState::kParticipant).ok());
  ASSERT_TRUE(sim.RunUntil(t0 + seconds(10),
                           [&] { return sim.WatchDone(alive) && sim.WatchDone(participant); }));
  const SpreadResult& r = sim.watch(alive);
  EXPECT_EQ(r.subject, x);
  EXPECT_EQ(r.start, t0);
  EXPECT_EQ(r.nodes, 16);  // the joining node counts, and knows itself from the start
  EXPECT_EQ(r.reached, 16);
  ASSERT_TRUE(r.p999.has_value());
  EXPECT_GT(*r.all, Duration::zero());
  EXPECT_EQ(*r.p999, *r.all);  // with fewer than 1,000 nodes 99.9% means all of them
  // RunUntil stops at the event that completed the last watch.
  EXPECT_EQ(sim.now() - t0, std::max(*r.all, *sim.watch(participant).all));
  for (NodeId o = 0; o < 15; ++o) {
    const std::vector<Member> members = sim.membership(o).Members();
    const Member* m = FindMember(members, sim.name(x));
    ASSERT_NE(m, nullptr) << sim.name(o);
    EXPECT_EQ(m->liveness, Liveness::kAlive);
  }
}

TEST(SimulatorTest, KilledNodeIsDetectedByAll) {
  Simulator sim(TestConfig(3));
  StartConverged(sim, 10);
  sim.SetObserving(true);
  const Duration t0 = sim.now();
  sim.Kill(4);
  EXPECT_EQ(sim.running_count(), 9);
  const int gone = sim.Watch(4, SpreadCondition::kGone);
  const int out = sim.Watch(4, SpreadCondition::kNotParticipant);
  EXPECT_EQ(sim.CountSatisfying(4, SpreadCondition::kKnownAlive), 9);
  ASSERT_TRUE(sim.RunUntil(t0 + seconds(30), [&] { return sim.WatchDone(gone); }));
  EXPECT_TRUE(sim.WatchDone(out));
  EXPECT_EQ(sim.watch(gone).nodes, 9);
  for (NodeId o : sim.RunningNodes()) {
    SCOPED_TRACE(sim.name(o));
    const Belief b = sim.BeliefOf(o, 4);
    EXPECT_TRUE(!b.known || b.liveness == Liveness::kDead) << LivenessName(b.liveness);
    const std::vector<std::string> participants = sim.membership(o).Participants();
    EXPECT_EQ(std::count(participants.begin(), participants.end(), sim.name(4)), 0);
  }
  EXPECT_EQ(sim.observation_stats().false_positives, 0u);
  EXPECT_EQ(sim.observation_stats().dead_declarations, 0u);
  EXPECT_GT(sim.network_stats().dropped_down, 0u);
  EXPECT_TRUE(sim.Converged());
}

TEST(SimulatorTest, GracefulLeaveIsNotAFailure) {
  Simulator sim(TestConfig(5));
  StartConverged(sim, 8);
  sim.SetObserving(true);
  ASSERT_TRUE(sim.SetState(2, NodeState::kTerminating).ok());
  const int out = sim.Watch(2, SpreadCondition::kNotParticipant);
  ASSERT_TRUE(sim.RunUntil(sim.now() + seconds(10), [&] { return sim.WatchDone(out); }));
  sim.Leave(2);
  EXPECT_EQ(sim.status(2), NodeStatus::kLeft);
  const int gone = sim.Watch(2, SpreadCondition::kGone);
  ASSERT_TRUE(sim.RunUntil(sim.now() + seconds(10), [&] { return sim.WatchDone(gone); }));
  for (NodeId o : sim.RunningNodes()) {
    const Belief b = sim.BeliefOf(o, 2);
    EXPECT_TRUE(!b.known || b.liveness == Liveness::kLeft) << sim.name(o);
  }
  EXPECT_EQ(sim.observation_stats().dead_declarations, 0u);
}

TEST(SimulatorTest, PartitionSplitsAndHealingReconverges) {
  SimulatorConfig config = TestConfig(11);
  config.membership.push_pull_interval = seconds(3);
  Simulator sim(config);
  StartConverged(sim, 10);
  sim.SetObserving(true);
  const std::vector<NodeId> island = {0, 1, 2};
  sim.Partition({island});
  // Converged() honours reachability: each side has to see the other dead.
  ASSERT_TRUE(sim.RunUntilConverged(sim.now() + seconds(30), milliseconds(50)).has_value());
  EXPECT_TRUE(sim.BeliefOf(0, 1).known);
  EXPECT_EQ(sim.BeliefOf(0, 1).liveness, Liveness::kAlive);
  EXPECT_NE(sim.BeliefOf(0, 5).liveness, Liveness::kAlive);
  EXPECT_NE(sim.BeliefOf(5, 0).liveness, Liveness::kAlive);
  EXPECT_GT(sim.network_stats().dropped_partition, 0u);
  // Members cut off are declared dead, but that is not a false positive.
  EXPECT_GT(sim.observation_stats().dead_declarations, 0u);
  EXPECT_EQ(sim.observation_stats().false_positives, 0u);

  sim.Heal();
  ASSERT_TRUE(sim.RunUntilConverged(sim.now() + seconds(30), milliseconds(50)).has_value());
  for (NodeId o = 0; o < 10; ++o) {
    for (NodeId m = 0; m < 10; ++m) {
      EXPECT_EQ(sim.BeliefOf(o, m).liveness, Liveness::kAlive) << o << " sees " << m;
    }
  }
}

// With most messages lost, live members get declared dead: the count has to see it.
TEST(SimulatorTest, HeavyLossCausesFalsePositives) {
  Simulator sim(TestConfig(29, 0.4));
  sim.SetObserving(true);
  StartNodes(sim, 10);
  sim.RunFor(seconds(60));
  EXPECT_GT(sim.observation_stats().false_positives, 0u);
  // Every false positive is a dead declaration of a running node; nothing was killed here.
  EXPECT_EQ(sim.observation_stats().dead_declarations, sim.observation_stats().false_positives);
}

TEST(SimulatorTest, PausedNodeIsDeclaredDeadAndComesBack) {
  SimulatorConfig config = TestConfig(13);
  config.membership.push_pull_interval = seconds(3);
  Simulator sim(config);
  StartConverged(sim, 8);
  sim.SetObserving(true);
  sim.Pause(6);
  EXPECT_EQ(sim.running_count(), 7);
  const int gone = sim.Watch(6, SpreadCondition::kGone);
  ASSERT_TRUE(sim.RunUntil(sim.now() + seconds(30), [&] { return sim.WatchDone(gone); }));
  EXPECT_GT(sim.observation_stats().dead_declarations, 0u);
  EXPECT_EQ(sim.observation_stats().false_positives, 0u);
  sim.Resume(6);
  const int back = sim.Watch(6, SpreadCondition::kKnownAlive);
  ASSERT_TRUE(sim.RunUntil(sim.now() + seconds(30), [&] { return sim.WatchDone(back); }));
  ASSERT_TRUE(sim.RunUntilConverged(sim.now() + seconds(30), milliseconds(50)).has_value());
}

TEST(SimulatorTest, RestartedNodeRejoins) {
  SimulatorConfig config = TestConfig(17);
  config.membership.push_pull_interval = seconds(3);
  Simulator sim(config);
  StartConverged(sim, 6);
  sim.Kill(3);
  ASSERT_TRUE(sim.RunUntilConverged(sim.now() + seconds(30), milliseconds(50)).has_value());
  sim.Restart(3);
  EXPECT_EQ(sim.status(3), NodeStatus::kRunning);
  sim.JoinRandom(3, 2);
  ASSERT_TRUE(sim.RunUntilConverged(sim.now() + seconds(30), milliseconds(50)).has_value());
  EXPECT_EQ(sim.membership(3).Members().size(), 6u);
}

// The incremental bookkeeping must agree with asking every node for Members().
TEST(SimulatorTest, TrackedBeliefsMatchMembers) {
  Simulator sim(TestConfig(19, 0.02));
  sim.SetObserving(true);
  StartNodes(sim, 12);
  sim.At(sim.now() + seconds(3), [&] { sim.Kill(5); });
  sim.At(sim.now() + seconds(4), [&] { sim.Pause(7); });
  sim.At(sim.now() + seconds(5), [&] {
    const NodeId x = sim.AddNode();
    sim.JoinRandom(x, 2);
  });
  for (int step = 0; step < 10; ++step) {
    sim.RunFor(milliseconds(700));
    SCOPED_TRACE("at " + std::to_string(sim.now().count()));
    for (NodeId o = 0; o < sim.size(); ++o) {
      if (sim.status(o) == NodeStatus::kKilled) continue;
      const std::vector<Member> members = sim.membership(o).Members();
      for (NodeId m = 0; m < sim.size(); ++m) {
        const Member* want = FindMember(members, sim.name(m));
        const Belief got = sim.BeliefOf(o, m);
        ASSERT_EQ(got.known, want != nullptr) << o << " sees " << m;
        if (want != nullptr) {
          // Suspicion does not change version(), so the tracking folds suspect into alive.
          const Liveness lv =
              want->liveness == Liveness::kSuspect ? Liveness::kAlive : want->liveness;
          EXPECT_EQ(got.liveness, lv) << o << " sees " << m;
          EXPECT_EQ(got.state, want->state) << o << " sees " << m;
        }
      }
    }
    for (NodeId m = 0; m < sim.size(); ++m) {
      int alive = 0;
      int participant = 0;
      for (NodeId o : sim.RunningNodes()) {
        if (o == m) continue;
        const std::vector<Member> members = sim.membership(o).Members();
        const Member* mm = FindMember(members, sim.name(m));
        if (mm != nullptr &&
            (mm->liveness == Liveness::kAlive || mm->liveness == Liveness::kSuspect)) {
          alive++;
        }
        const std::vector<std::string> p = sim.membership(o).Participants();
        participant += static_cast<int>(std::count(p.begin(), p.end(), sim.name(m)));
      }
      EXPECT_EQ(sim.CountSatisfying(m, SpreadCondition::kKnownAlive), alive) << m;
      EXPECT_EQ(sim.CountSatisfying(m, SpreadCondition::kParticipant), participant) << m;
    }
    const bool tracked = sim.Converged();
    sim.SetObserving(false);
    EXPECT_EQ(sim.Converged(), tracked);
    sim.SetObserving(true);
  }
  EXPECT_GT(sim.observation_stats().observations, 0u);
}

// Everything that can be observed of a run, to compare two runs.
std::tuple<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
           std::vector<std::vector<Member>>, std::optional<Duration>, std::optional<Duration>>
RunScenario(std::uint64_t seed) {
  Simulator sim(TestConfig(seed, 0.05));
  StartNodes(sim, 8);
  sim.RunFor(seconds(3));
  const NodeId x = sim.AddNode();
  const int join = sim.Watch(x, SpreadCondition::kKnownAlive);
  sim.JoinRandom(x, 2);
  sim.RunFor(seconds(2));
  sim.Kill(2);
  const int gone = sim.Watch(2, SpreadCondition::kGone);
  sim.RunFor(seconds(8));
  std::vector<std::vector<Member>> views;
  for (NodeId o = 0; o < sim.size(); ++o) views.push_back(sim.membership(o).Members());
  const NetworkStats& ns = sim.network_stats();
  return {ns.messages_sent,       ns.bytes_sent,    ns.dropped_loss,     ns.dropped_down,
          sim.events_processed(), std::move(views), sim.watch(join).all, sim.watch(gone).all};
}

TEST(SimulatorTest, SameSeedSameRun) {
  const auto a = RunScenario(99);
  const auto b = RunScenario(99);
  EXPECT_TRUE(a == b);
  EXPECT_GT(std::get<0>(a), 0u);
  const auto c = RunScenario(100);
  // Another seed draws other latencies and losses.
  EXPECT_NE(std::make_tuple(std::get<0>(a), std::get<1>(a), std::get<2>(a), std::get<4>(a)),
            std::make_tuple(std::get<0>(c), std::get<1>(c), std::get<2>(c), std::get<4>(c)));
}

TEST(SimulatorTest, LossDropsThatFractionOfMessages) {
  for (double loss : {0.0, 0.1, 0.3}) {
    SCOPED_TRACE(loss);
    Simulator sim(TestConfig(23, loss));
    StartNodes(sim, 10);
    sim.RunFor(seconds(30));
    const NetworkStats& ns = sim.network_stats();
    ASSERT_GT(ns.messages_sent, 1000u);
    const double dropped =
        static_cast<double>(ns.dropped_loss) / static_cast<double>(ns.messages_sent);
    EXPECT_NEAR(dropped, loss, 0.04);
    // Whatever was neither delivered nor dropped is still in flight: a millisecond or two of
    // traffic.
    const std::uint64_t settled = ns.messages_delivered + ns.dropped_loss + ns.dropped_partition +
                                  ns.dropped_down + ns.dropped_unknown;
    ASSERT_LE(settled, ns.messages_sent);
    EXPECT_LT(ns.messages_sent - settled, 100u);
  }
}

}  // namespace
}  // namespace starling::cluster
