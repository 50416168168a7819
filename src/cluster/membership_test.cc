#include "cluster/membership.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/random.h"
#include "cluster/membership_queue.h"
#include "cluster/message.h"
#include "cluster/suspicion.h"

namespace starling::cluster {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Duration kLatency = milliseconds(1);

// Many Membership instances wired by an in-memory network with a fake clock: no threads, no
// sleeps. Messages arrive kLatency after they are sent unless `drop` says otherwise; nodes are
// ticked exactly at their NextTimer().
class TestCluster {
 public:
  explicit TestCluster(MembershipConfig base = {}, std::uint64_t seed = 1)
      : base_(std::move(base)), seed_(seed) {
    if (base_.cluster_name.empty()) base_.cluster_name = "test";
  }

  static std::string NameOf(int i) { return "node-" + std::to_string(i); }
  static std::string AddrOf(int i) { return NameOf(i) + ":7946"; }

  int AddNode() {
    const int i = static_cast<int>(nodes_.size());
    return AddNode(NameOf(i), AddrOf(i));
  }
  int AddNode(const std::string& name, const std::string& addr) {
    const int i = static_cast<int>(nodes_.size());
    nodes_.emplace_back();
    nodes_[i].name = name;
    nodes_[i].addr = addr;
    by_addr_[addr] = i;
    Start(i, 0);
    return i;
  }

  // (Re)starts node i as a new process: a new instance id, incarnation 0.
  void Start(int i, std::uint64_t run) {
    Node& n = nodes_[i];
    n.m.reset();
    n.random = std::make_unique<base::SeededRandom>(seed_ * 1000003 + i * 7919 + run * 104729);
    MembershipConfig c = base_;
    c.node_name = n.name;
    c.advertise_addr = n.addr;
    n.m = std::make_unique<Membership>(std::move(c), *n.random, now_);
    n.paused = false;
  }

  Membership& m(int i) { return *nodes_[i].m; }
  bool running(int i) const { return nodes_[i].m != nullptr && !nodes_[i].paused; }
  int size() const { return static_cast<int>(nodes_.size()); }
  Duration now() const { return now_; }

  void Join(int i, const std::vector<int>& via, int max_peers = 0) {
    std::vector<std::string> addrs;
    for (int v : via) addrs.push_back(nodes_[v].addr);
    m(i).Join(now_, addrs, max_peers);
    Collect(i);
  }
  void Kill(int i) { nodes_[i].m.reset(); }
  void Pause(int i) { nodes_[i].paused = true; }
  void Resume(int i) { nodes_[i].paused = false; }

  // Delivers bytes to node i now, as if from the network.
  base::Status Inject(int i, const std::vector<std::uint8_t>& bytes) {
    base::Status s = m(i).Receive(now_, bytes);
    Collect(i);
    return s;
  }
  // Sends what node i has queued (after a direct call on its Membership).
  void Flush(int i) { Collect(i); }

  // Advances time to `now() + d`, calling `each_step` after every event.
  void RunFor(Duration d, const std::function<void()>& each_step = nullptr) {
    const Duration until = now_ + d;
    while (Step(until)) {
      if (each_step) each_step();
    }
  }

  // Runs until `done()` holds (checked after every event) or `limit` passes; how long it took.
  std::optional<Duration> RunUntil(const std::function<bool()>& done, Duration limit,
                                   const std::function<void()>& each_step = nullptr) {
    const Duration start = now_;
    const Duration until = now_ + limit;
    if (done()) return Duration::zero();
    while (Step(until)) {
      if (each_step) each_step();
      if (done()) return now_ - start;
    }
    return std::nullopt;
  }

  std::optional<Member> View(int observer, int subject) const {
    for (const Member& mem : nodes_[observer].m->Members()) {
      if (mem.name == nodes_[subject].name) return mem;
    }
    return std::nullopt;
  }

  // Every running node sees every running node (itself included) alive.
  bool Converged() const {
    for (int o = 0; o < size(); ++o) {
      if (!running(o)) continue;
      for (int s = 0; s < size(); ++s) {
        if (!running(s)) continue;
        std::optional<Member> v = View(o, s);
        if (!v || v->liveness != Liveness::kAlive || v->addr != nodes_[s].addr) return false;
      }
    }
    return true;
  }

  // Every running node other than `subject` sees it with `liveness`.
  bool AllSee(int subject, Liveness liveness) const {
    for (int o = 0; o < size(); ++o) {
      if (o == subject || !running(o)) continue;
      std::optional<Member> v = View(o, subject);
      if (!v || v->liveness != liveness) return false;
    }
    return true;
  }

  struct Sent {
    Duration at;
    int from;
    std::string to_addr;
    std::vector<std::uint8_t> bytes;
    bool operator==(const Sent&) const = default;
  };
  const std::vector<Sent>& log() const { return log_; }
  // Decoded messages sent by node `from` (-1: any) in [since, now].
  std::vector<Message> SentBy(int from, Duration since = Duration::zero()) const {
    std::vector<Message> out;
    for (const Sent& s : log_) {
      if (s.at < since || (from >= 0 && s.from != from)) continue;
      base::Result<Message> m = DecodeMessage(s.bytes);
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      if (m.ok()) out.push_back(std::move(*m));
    }
    return out;
  }

  std::function<bool(int from, int to)> drop;

 private:
  struct Node {
    std::string name;
    std::string addr;
    std::unique_ptr<base::SeededRandom> random;
    std::unique_ptr<Membership> m;
    bool paused = false;
  };
  struct InFlight {
    int from;
    int to;
    std::vector<std::uint8_t> bytes;
  };

  void Collect(int i) {
    if (nodes_[i].m == nullptr) return;
    for (Outgoing& out : nodes_[i].m->TakeOutgoing()) {
      EXPECT_FALSE(out.bytes.empty());
      EXPECT_LE(out.bytes.size(), std::size_t{1} << 20);
      log_.push_back(Sent{now_, i, out.to_addr, out.bytes});
      auto it = by_addr_.find(out.to_addr);
      if (it == by_addr_.end()) continue;
      if (drop && drop(i, it->second)) continue;
      inflight_.emplace(std::make_pair(now_ + kLatency, seq_++),
                        InFlight{i, it->second, std::move(out.bytes)});
    }
  }

  bool Step(Duration until) {
    Duration next = Duration::max();
    if (!inflight_.empty()) next = inflight_.begin()->first.first;
    for (int i = 0; i < size(); ++i) {
      if (running(i)) next = std::min(next, nodes_[i].m->NextTimer());
    }
    if (next > until) {
      now_ = until;
      return false;
    }
    now_ = std::max(now_, next);
    while (!inflight_.empty() && inflight_.begin()->first.first <= now_) {
      InFlight f = std::move(inflight_.begin()->second);
      inflight_.erase(inflight_.begin());
      if (!running(f.to) || (drop && drop(f.from, f.to))) continue;
      (void)nodes_[f.to].m->Receive(now_, f.bytes);
      Collect(f.to);
    }
    for (int i = 0; i < size(); ++i) {
      if (!running(i) || nodes_[i].m->NextTimer() > now_) continue;
      nodes_[i].m->Tick(now_);
      Collect(i);
      EXPECT_GT(nodes_[i].m->NextTimer(), now_) << "Tick left a timer due";
      if (nodes_[i].m->NextTimer() <= now_) return false;
    }
    return true;
  }

  MembershipConfig base_;
  std::uint64_t seed_;
  Duration now_ = seconds(1000);
  std::vector<Node> nodes_;
  std::map<std::string, int> by_addr_;
  std::multimap<std::pair<Duration, std::uint64_t>, InFlight> inflight_;
  std::uint64_t seq_ = 0;
  std::vector<Sent> log_;
};

// A cluster of n nodes that all joined through node 0 and converged.
void Bootstrap(TestCluster& c, int n) {
  for (int i = 0; i < n; ++i) c.AddNode();
  for (int i = 1; i < n; ++i) c.Join(i, {0});
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, seconds(10))) << "no convergence";
}

std::vector<std::uint8_t> Craft(MessageKind kind, std::vector<Update> updates,
                                const std::string& cluster = "test") {
  Message m;
  m.envelope.cluster = cluster;
  m.envelope.sender_name = "outsider";
  m.envelope.sender_instance = 42;
  m.envelope.sender_addr = "outsider:1";
  m.kind = kind;
  m.updates = std::move(updates);
  std::vector<std::uint8_t> out;
  EncodeMessage(m, &out);
  return out;
}

Update Accusation(UpdateKind kind, const std::string& name, std::uint64_t inc,
                  const std::string& from) {
  Update u;
  u.kind = kind;
  u.name = name;
  u.incarnation = inc;
  u.from = from;
  return u;
}

Update StateUpdate(const std::string& name, NodeState state, std::uint64_t lamport) {
  Update u;
  u.kind = UpdateKind::kState;
  u.name = name;
  u.state = state;
  u.lamport = lamport;
  return u;
}

// Independent of the implementation: the time the protocol allows to declare a stopped
// member dead, from the config. Worst case: every prober reaches it last in its round
// ((N-1) probe intervals), one more interval for the probe itself, then the suspicion
// timeout without any confirmation, plus time for the verdict to spread.
Duration DetectionBound(const MembershipConfig& c, int n) {
  const double min_scale = std::max(1.0, c.suspicion_mult * std::log10(static_cast<double>(n)));
  const auto min_timeout = std::chrono::duration_cast<Duration>(c.probe_interval * min_scale);
  const Duration max_timeout = min_timeout * c.suspicion_max_timeout_mult;
  return c.probe_interval * n + max_timeout + seconds(1);
}

// --- join ---

TEST(MembershipTest, JoinConvergesAndSkipsOwnAddress) {
  for (int n : {3, 10}) {
    SCOPED_TRACE(n);
    TestCluster c;
    for (int i = 0; i < n; ++i) c.AddNode();
    // Node 1's join list holds its own address; it contacts only the others.
    c.m(1).Join(c.now(), {TestCluster::AddrOf(1), TestCluster::AddrOf(0), TestCluster::AddrOf(0)},
                0);
    std::vector<Outgoing> out = c.m(1).TakeOutgoing();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].to_addr, TestCluster::AddrOf(0));
    base::Result<Message> join = DecodeMessage(out[0].bytes);
    ASSERT_TRUE(join.ok());
    EXPECT_EQ(join->kind, MessageKind::kPushPullRequest);
    EXPECT_TRUE(join->join);
    c.Join(1, {0});
    for (int i = 2; i < n; ++i) c.Join(i, {0, i});
    std::optional<Duration> took = c.RunUntil([&] { return c.Converged(); }, seconds(10));
    ASSERT_TRUE(took.has_value());
    EXPECT_LT(*took, seconds(3));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(c.m(i).Members().size(), static_cast<std::size_t>(n));
      EXPECT_EQ(c.m(i).stats().events_join, static_cast<std::uint64_t>(n - 1));
      EXPECT_TRUE(c.m(i).join_error().ok());
    }
  }
}

TEST(MembershipTest, JoinWithMaxPeersContactsThatMany) {
  TestCluster c;
  for (int i = 0; i < 6; ++i) c.AddNode();
  c.m(5).Join(c.now(),
              {TestCluster::AddrOf(0), TestCluster::AddrOf(1), TestCluster::AddrOf(2),
               TestCluster::AddrOf(3), TestCluster::AddrOf(5)},
              2);
  EXPECT_EQ(c.m(5).TakeOutgoing().size(), 2u);
}

TEST(MembershipTest, MembersSortedWithSelf) {
  TestCluster c;
  Bootstrap(c, 4);
  const std::vector<Member> members = c.m(2).Members();
  ASSERT_EQ(members.size(), 4u);
  for (std::size_t i = 0; i < members.size(); ++i) {
    EXPECT_EQ(members[i].name, TestCluster::NameOf(static_cast<int>(i)));
    EXPECT_EQ(members[i].is_self, i == 2);
  }
}

// --- probing ---

TEST(MembershipTest, PingsAreAcked) {
  TestCluster c;
  Bootstrap(c, 2);
  const Duration since = c.now();
  c.RunFor(seconds(10));
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE(i);
    int pings = 0;
    int acks = 0;
    for (const Message& m : c.SentBy(i, since)) {
      if (m.kind == MessageKind::kPing) ++pings;
      if (m.kind == MessageKind::kAck) ++acks;
      EXPECT_NE(m.kind, MessageKind::kIndirectPing);
    }
    // One probe per probe interval, each answered.
    const int rounds = static_cast<int>(seconds(10) / c.m(i).config().probe_interval);
    EXPECT_GE(pings, rounds - 1);
    EXPECT_LE(pings, rounds + 1);
    EXPECT_GE(acks, rounds - 1);
    EXPECT_EQ(c.m(i).health_score(), 0);
    EXPECT_TRUE(c.AllSee(i, Liveness::kAlive));
  }
}

TEST(MembershipTest, PingForAnotherNameIsIgnored) {
  TestCluster c;
  c.AddNode();
  Message ping;
  ping.envelope = {"test", "outsider", 1, "outsider:1", 0, 0, 0};
  ping.kind = MessageKind::kPing;
  ping.seq = 5;
  for (const std::string target : {"someone-else", "node-0", ""}) {
    SCOPED_TRACE(target);
    ping.target_name = target;
    std::vector<std::uint8_t> bytes;
    EncodeMessage(ping, &bytes);
    EXPECT_TRUE(c.m(0).Receive(c.now(), bytes).ok());
    const std::vector<Outgoing> out = c.m(0).TakeOutgoing();
    if (target == "someone-else") {
      EXPECT_TRUE(out.empty());
    } else {
      ASSERT_EQ(out.size(), 1u);
      EXPECT_EQ(out[0].to_addr, "outsider:1");
      base::Result<Message> ack = DecodeMessage(out[0].bytes);
      ASSERT_TRUE(ack.ok());
      EXPECT_EQ(ack->kind, MessageKind::kAck);
      EXPECT_EQ(ack->seq, 5u);
    }
  }
}

TEST(MembershipTest, StoppedNodeBecomesSuspectThenDeadWithinBound) {
  for (int n : {5, 10}) {
    for (std::uint64_t seed : {1, 2, 3}) {
      SCOPED_TRACE("n=" + std::to_string(n) + " seed=" + std::to_string(seed));
      TestCluster c({}, seed);
      Bootstrap(c, n);
      c.RunFor(seconds(5));
      const int victim = n - 1;
      c.Kill(victim);
      bool suspect_seen = false;
      bool dead_before_suspect = false;
      std::optional<Duration> took =
          c.RunUntil([&] { return c.AllSee(victim, Liveness::kDead); }, seconds(60),
                     [&] {
                       for (int o = 0; o < victim; ++o) {
                         std::optional<Member> v = c.View(o, victim);
                         if (v && v->liveness == Liveness::kSuspect) suspect_seen = true;
                         if (v && v->liveness == Liveness::kDead && !suspect_seen)
                           dead_before_suspect = true;
                       }
                     });
      ASSERT_TRUE(took.has_value());
      EXPECT_TRUE(suspect_seen);
      EXPECT_FALSE(dead_before_suspect);
      EXPECT_LE(*took, DetectionBound(c.m(0).config(), n));
      // Nobody else was hurt, and every survivor stayed healthy: the relays' nacks show the
      // fault is the victim's.
      for (int i = 0; i < victim; ++i) {
        EXPECT_TRUE(c.AllSee(i, Liveness::kAlive));
        EXPECT_EQ(c.m(i).health_score(), 0);
      }
    }
  }
}

TEST(MembershipTest, IndirectProbesPreventFalsePositive) {
  TestCluster c;
  Bootstrap(c, 5);
  // Nodes 0 and 1 cannot reach each other directly; everyone else reaches both.
  c.drop = [](int from, int to) { return (from == 0 && to == 1) || (from == 1 && to == 0); };
  const Duration since = c.now();
  bool false_positive = false;
  c.RunFor(seconds(60), [&] {
    for (int o = 0; o < c.size(); ++o) {
      for (const Member& m : c.m(o).Members()) {
        if (m.liveness != Liveness::kAlive) false_positive = true;
      }
    }
  });
  EXPECT_FALSE(false_positive);
  int indirect = 0;
  for (const Message& m : c.SentBy(0, since)) {
    if (m.kind == MessageKind::kIndirectPing) ++indirect;
  }
  EXPECT_GT(indirect, 0);
}

TEST(MembershipTest, NoFalsePositivesAtOnePercentLoss) {
  TestCluster c({}, 7);
  Bootstrap(c, 10);
  base::SeededRandom loss(99);
  c.drop = [&](int, int) { return loss.Uniform(100) == 0; };
  int dead = 0;
  c.RunFor(seconds(120), [&] {
    for (int o = 0; o < c.size(); ++o) {
      for (const Member& m : c.m(o).Members()) {
        if (m.liveness == Liveness::kDead) ++dead;
      }
    }
  });
  EXPECT_EQ(dead, 0);
  EXPECT_TRUE(c.Converged());
}

TEST(MembershipTest, SuspectedNodeRefutesAndStaysAlive) {
  TestCluster c;
  Bootstrap(c, 5);
  const int x = 4;
  // Like kill -STOP: it neither ticks nor receives.
  c.Pause(x);
  auto suspected = [&] {
    for (int o = 0; o < x; ++o) {
      std::optional<Member> v = c.View(o, x);
      if (v && v->liveness == Liveness::kSuspect) return true;
    }
    return false;
  };
  ASSERT_TRUE(c.RunUntil(suspected, seconds(30)));
  c.Resume(x);  // kill -CONT
  bool declared_dead = false;
  c.RunFor(seconds(10), [&] {
    for (int o = 0; o < x; ++o) {
      std::optional<Member> v = c.View(o, x);
      if (v && v->liveness == Liveness::kDead) declared_dead = true;
    }
  });
  EXPECT_FALSE(declared_dead);
  EXPECT_TRUE(c.Converged());
  std::optional<Member> self = c.View(x, x);
  ASSERT_TRUE(self.has_value());
  EXPECT_GE(self->incarnation, 1u);
  for (int o = 0; o < x; ++o) EXPECT_EQ(c.View(o, x)->incarnation, self->incarnation);
}

TEST(MembershipTest, NodeDeclaredDeadComesBackAfterStall) {
  TestCluster c;
  Bootstrap(c, 5);
  const int x = 2;
  c.Pause(x);
  ASSERT_TRUE(c.RunUntil([&] { return c.AllSee(x, Liveness::kDead); }, seconds(30)));
  const std::uint64_t dead_inc = c.View(0, x)->incarnation;
  c.Resume(x);
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, seconds(10)));
  EXPECT_GT(c.View(0, x)->incarnation, dead_inc);
}

TEST(MembershipTest, RumourAboutSelfIsRefutedWithHigherIncarnation) {
  struct Case {
    std::string name;
    UpdateKind kind;
    std::uint64_t incarnation;
    std::uint64_t want;  // own incarnation afterwards
  };
  const std::vector<Case> cases = {
      {"suspect", UpdateKind::kSuspect, 0, 1},
      {"dead", UpdateKind::kDead, 0, 1},
      {"suspect at a higher incarnation", UpdateKind::kSuspect, 7, 8},
      {"dead at a higher incarnation", UpdateKind::kDead, 3, 4},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    TestCluster c;
    Bootstrap(c, 3);
    EXPECT_TRUE(c.Inject(0, Craft(MessageKind::kGossip,
                                  {Accusation(tc.kind, "node-0", tc.incarnation, "node-1")}))
                    .ok());
    EXPECT_EQ(c.View(0, 0)->incarnation, tc.want);
    EXPECT_EQ(c.View(0, 0)->liveness, Liveness::kAlive);
    EXPECT_EQ(c.m(0).health_score(), 1);  // refuting is a hint of our own trouble
    ASSERT_TRUE(c.RunUntil(
        [&] {
          return c.View(1, 0)->incarnation == tc.want && c.View(2, 0)->incarnation == tc.want;
        },
        seconds(5)));
    EXPECT_TRUE(c.Converged());
    // An old rumour changes nothing any more.
    EXPECT_TRUE(c.Inject(1, Craft(MessageKind::kGossip,
                                  {Accusation(UpdateKind::kDead, "node-0", 0, "node-2")}))
                    .ok());
    EXPECT_EQ(c.View(1, 0)->liveness, Liveness::kAlive);
  }
}

TEST(MembershipTest, HealthRisesWhenNothingArrives) {
  // Long suspicions, so that node 0 keeps probing the members it suspects.
  MembershipConfig config;
  config.suspicion_mult = 20;
  TestCluster c(config);
  Bootstrap(c, 5);
  // Node 0 can send but receives nothing: no acks, no nacks.
  c.drop = [](int, int to) { return to == 0; };
  c.RunFor(seconds(20));
  EXPECT_EQ(c.m(0).health_score(), c.m(0).config().awareness_max_multiplier - 1);
  // Its probing slowed down accordingly.
  const Duration since = c.now();
  c.RunFor(seconds(20));
  int pings = 0;
  for (const Message& m : c.SentBy(0, since)) {
    if (m.kind == MessageKind::kPing) ++pings;
  }
  const int healthy_pings = static_cast<int>(seconds(20) / c.m(0).config().probe_interval);
  EXPECT_LE(pings, healthy_pings / c.m(0).config().awareness_max_multiplier + 1);
  EXPECT_GT(pings, 0);
}

// --- application state ---

TEST(MembershipTest, StateChangesPropagateInLamportOrder) {
  TestCluster c;
  Bootstrap(c, 3);
  const std::uint64_t v0 = c.m(1).version();
  ASSERT_TRUE(c.m(0).SetState(c.now(), NodeState::kParticipant).ok());
  c.Flush(0);
  EXPECT_EQ(c.m(0).Participants(), std::vector<std::string>{"node-0"});
  const std::uint64_t l0 = c.View(0, 0)->state_lamport;
  EXPECT_EQ(l0, c.m(0).lamport_time());
  ASSERT_TRUE(c.RunUntil(
      [&] {
        return c.View(1, 0)->state == NodeState::kParticipant &&
               c.View(2, 0)->state == NodeState::kParticipant;
      },
      seconds(3)));
  EXPECT_GT(c.m(1).version(), v0);
  EXPECT_GE(c.m(1).stats().events_update, 1u);
  EXPECT_EQ(c.View(1, 0)->state_lamport, l0);
  // Node 1 has seen node 0's change, so its own change is ordered after it.
  EXPECT_GT(c.m(1).lamport_time(), l0);
  ASSERT_TRUE(c.m(1).SetState(c.now(), NodeState::kParticipant).ok());
  c.Flush(1);
  EXPECT_GT(c.View(1, 1)->state_lamport, l0);
  ASSERT_TRUE(c.RunUntil(
      [&] {
        for (int o = 0; o < 3; ++o) {
          if (c.m(o).Participants() != std::vector<std::string>{"node-0", "node-1"}) return false;
        }
        return true;
      },
      seconds(3)));

  ASSERT_TRUE(c.m(0).SetState(c.now(), NodeState::kTerminating).ok());
  c.Flush(0);
  ASSERT_TRUE(
      c.RunUntil([&] { return c.View(2, 0)->state == NodeState::kTerminating; }, seconds(3)));
  EXPECT_EQ(c.m(2).Participants(), std::vector<std::string>{"node-1"});
  EXPECT_EQ(c.m(0).Participants(), std::vector<std::string>{"node-1"});

  // An older state of node 0 is ignored.
  const std::uint64_t term_lamport = c.View(2, 0)->state_lamport;
  EXPECT_TRUE(
      c.Inject(2, Craft(MessageKind::kGossip, {StateUpdate("node-0", NodeState::kParticipant, l0)}))
          .ok());
  EXPECT_EQ(c.View(2, 0)->state, NodeState::kTerminating);
  EXPECT_EQ(c.View(2, 0)->state_lamport, term_lamport);
  // Receiving a state update moves the clock past it.
  const std::uint64_t before = c.m(2).lamport_time();
  EXPECT_TRUE(c.Inject(2, Craft(MessageKind::kGossip,
                                {StateUpdate("node-9", NodeState::kParticipant, before + 50)}))
                  .ok());
  EXPECT_EQ(c.m(2).lamport_time(), before + 51);
}

TEST(MembershipTest, StateTransitionsOnlyGoForward) {
  struct Case {
    NodeState from;
    NodeState to;
    bool ok;
  };
  const std::vector<Case> cases = {
      {NodeState::kViewer, NodeState::kViewer, true},
      {NodeState::kViewer, NodeState::kParticipant, true},
      {NodeState::kViewer, NodeState::kTerminating, true},
      {NodeState::kParticipant, NodeState::kTerminating, true},
      {NodeState::kParticipant, NodeState::kViewer, false},
      {NodeState::kTerminating, NodeState::kParticipant, false},
      {NodeState::kTerminating, NodeState::kViewer, false},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(std::string(NodeStateName(tc.from)) + " -> " + std::string(NodeStateName(tc.to)));
    TestCluster c;
    c.AddNode();
    ASSERT_TRUE(c.m(0).SetState(c.now(), tc.from).ok());
    const std::uint64_t lamport = c.m(0).lamport_time();
    const std::uint64_t version = c.m(0).version();
    const base::Status s = c.m(0).SetState(c.now(), tc.to);
    EXPECT_EQ(s.ok(), tc.ok) << s.ToString();
    EXPECT_EQ(c.View(0, 0)->state, tc.ok ? tc.to : tc.from);
    const bool changed = tc.ok && tc.from != tc.to;
    EXPECT_EQ(c.m(0).lamport_time(), lamport + (changed ? 1 : 0));
    EXPECT_EQ(c.m(0).version(), version + (changed ? 1 : 0));
    if (!tc.ok) {
      EXPECT_EQ(s.code(), base::StatusCode::kFailedPrecondition);
    }
  }
}

TEST(MembershipTest, AllPeersKnowState) {
  TestCluster c;
  Bootstrap(c, 4);
  EXPECT_TRUE(c.m(0).AllPeersKnowState());  // nothing to know yet
  ASSERT_TRUE(c.m(0).SetState(c.now(), NodeState::kTerminating).ok());
  c.Flush(0);
  EXPECT_FALSE(c.m(0).AllPeersKnowState());
  std::optional<Duration> took = c.RunUntil([&] { return c.m(0).AllPeersKnowState(); }, seconds(5));
  ASSERT_TRUE(took.has_value());
  EXPECT_LT(*took, seconds(2));
  for (int o = 1; o < 4; ++o) EXPECT_EQ(c.View(o, 0)->state, NodeState::kTerminating);
}

TEST(MembershipTest, AllPeersKnowStateWaitsForUnreachablePeer) {
  TestCluster c;
  Bootstrap(c, 3);
  c.drop = [](int from, int to) { return to == 2 || from == 2; };
  ASSERT_TRUE(c.m(0).SetState(c.now(), NodeState::kTerminating).ok());
  c.Flush(0);
  c.RunFor(milliseconds(300));  // not long enough for node 2 to be suspected
  ASSERT_EQ(c.View(0, 2)->liveness, Liveness::kAlive);
  EXPECT_FALSE(c.m(0).AllPeersKnowState());
  c.drop = nullptr;
  EXPECT_TRUE(c.RunUntil([&] { return c.m(0).AllPeersKnowState(); }, seconds(5)));
}

// --- leaving ---

TEST(MembershipTest, LeaveMarksLeftAndDropsFromParticipants) {
  MembershipConfig config;
  config.dead_reclaim_time = seconds(30);
  TestCluster c(config);
  Bootstrap(c, 4);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(c.m(i).SetState(c.now(), NodeState::kParticipant).ok());
  for (int i = 0; i < 4; ++i) c.Flush(i);
  ASSERT_TRUE(c.RunUntil([&] { return c.m(3).Participants().size() == 4; }, seconds(3)));
  ASSERT_TRUE(c.m(0).SetState(c.now(), NodeState::kTerminating).ok());
  c.Flush(0);
  ASSERT_TRUE(c.RunUntil([&] { return c.m(0).AllPeersKnowState(); }, seconds(5)));
  const std::uint64_t v = c.m(1).version();
  c.m(0).Leave(c.now());
  EXPECT_EQ(c.View(0, 0)->liveness, Liveness::kLeft);
  EXPECT_FALSE(c.m(0).SetState(c.now(), NodeState::kTerminating).ok());
  c.Flush(0);
  c.Kill(0);  // shuts down right after sending
  ASSERT_TRUE(c.RunUntil([&] { return c.AllSee(0, Liveness::kLeft); }, seconds(2)));
  EXPECT_GT(c.m(1).version(), v);
  for (int o = 1; o < 4; ++o) {
    EXPECT_EQ(c.m(o).Participants(), (std::vector<std::string>{"node-1", "node-2", "node-3"}));
    EXPECT_GE(c.m(o).stats().events_leave, 1u);
  }
  // Nobody ever thought it failed, and it is forgotten after dead_reclaim_time.
  c.RunFor(seconds(20));
  EXPECT_TRUE(c.AllSee(0, Liveness::kLeft));
  c.RunFor(seconds(15));
  for (int o = 1; o < 4; ++o) EXPECT_FALSE(c.View(o, 0).has_value());
}

TEST(MembershipTest, LeaveRumourIsNotRefuted) {
  TestCluster c;
  Bootstrap(c, 3);
  c.m(0).Leave(c.now());
  c.Flush(0);
  ASSERT_TRUE(c.RunUntil([&] { return c.AllSee(0, Liveness::kLeft); }, seconds(2)));
  // It keeps running (but has left): a dead rumour about it does not make it come back.
  EXPECT_TRUE(c.Inject(0, Craft(MessageKind::kGossip,
                                {Accusation(UpdateKind::kDead, "node-0", 0, "node-1")}))
                  .ok());
  c.RunFor(seconds(10));
  EXPECT_TRUE(c.AllSee(0, Liveness::kLeft));
  EXPECT_EQ(c.View(0, 0)->incarnation, 0u);
  EXPECT_TRUE(c.m(0).Participants().empty());
}

// --- restarts and conflicts ---

TEST(MembershipTest, RestartedNodeRejoinsAlive) {
  for (bool wait_for_dead : {false, true}) {
    SCOPED_TRACE(wait_for_dead ? "restart after declared dead" : "restart while still alive");
    TestCluster c;
    Bootstrap(c, 4);
    const int x = 3;
    // Give it a non-zero incarnation first, so that the restart has something to catch up on.
    ASSERT_TRUE(c.Inject(x, Craft(MessageKind::kGossip,
                                  {Accusation(UpdateKind::kSuspect, "node-3", 0, "node-0")}))
                    .ok());
    ASSERT_TRUE(c.m(x).SetState(c.now(), NodeState::kParticipant).ok());
    c.Flush(x);
    ASSERT_TRUE(c.RunUntil(
        [&] {
          return c.View(0, x)->incarnation == 1 && c.View(1, x)->incarnation == 1 &&
                 c.View(2, x)->state == NodeState::kParticipant;
        },
        seconds(5)));
    c.Kill(x);
    if (wait_for_dead) {
      ASSERT_TRUE(c.RunUntil([&] { return c.AllSee(x, Liveness::kDead); }, seconds(30)));
    } else {
      c.RunFor(milliseconds(100));
    }
    const std::uint64_t version = c.m(0).version();
    c.Start(x, 1);  // same name and address, new instance id, incarnation 0, viewer
    EXPECT_EQ(c.View(x, x)->incarnation, 0u);
    c.Join(x, {0});
    ASSERT_TRUE(c.RunUntil(
        [&] {
          if (!c.Converged()) return false;
          for (int o = 0; o < 3; ++o) {
            if (c.View(o, x)->state != NodeState::kViewer ||
                c.View(o, x)->incarnation != c.View(x, x)->incarnation) {
              return false;
            }
          }
          return true;
        },
        seconds(10)));
    EXPECT_GT(c.View(x, x)->incarnation, 1u);
    for (int o = 0; o < 3; ++o) {
      EXPECT_EQ(c.View(o, x)->incarnation, c.View(x, x)->incarnation);
      EXPECT_EQ(c.m(o).stats().events_conflict, 0u);
      // The new run is a viewer until it says otherwise.
      EXPECT_EQ(c.m(o).Participants(), std::vector<std::string>{});
    }
    EXPECT_GT(c.m(0).version(), version);
    EXPECT_TRUE(c.m(x).join_error().ok());
    c.RunFor(seconds(10));
    EXPECT_TRUE(c.Converged());
  }
}

TEST(MembershipTest, DuplicateNameAtAnotherAddressIsRefused) {
  for (int via : {0, 1}) {
    SCOPED_TRACE(via == 1 ? "joins through the member it duplicates" : "joins through another");
    TestCluster c;
    Bootstrap(c, 3);
    const int dup = c.AddNode("node-1", "elsewhere:7946");
    c.Join(dup, {via});
    ASSERT_TRUE(c.RunUntil([&] { return !c.m(dup).join_error().ok(); }, seconds(2)));
    const base::Status& err = c.m(dup).join_error();
    EXPECT_EQ(err.code(), base::StatusCode::kAlreadyExists);
    EXPECT_NE(err.message().find("\"node-1\""), std::string::npos) << err.message();
    EXPECT_NE(err.message().find("node-1:7946"), std::string::npos) << err.message();
    EXPECT_NE(err.message().find("elsewhere:7946"), std::string::npos) << err.message();
    EXPECT_EQ(c.m(via).stats().events_conflict, 1u);
    EXPECT_EQ(c.m(dup).NextTimer(), Duration::max());  // it stops
    c.RunFor(seconds(10));
    for (int o = 0; o < 3; ++o) {
      std::optional<Member> v = c.View(o, 1);
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(v->addr, "node-1:7946");
      EXPECT_EQ(v->liveness, Liveness::kAlive);
      EXPECT_EQ(c.m(o).Members().size(), 3u);
    }
  }
}

TEST(MembershipTest, OwnMessagesAreIgnored) {
  TestCluster c;
  Bootstrap(c, 2);
  c.RunFor(seconds(2));
  // A ping node 0 sent, delivered back to node 0: it must not answer itself.
  std::vector<std::uint8_t> own;
  for (const TestCluster::Sent& s : c.log()) {
    base::Result<Message> m = DecodeMessage(s.bytes);
    if (s.from == 0 && m.ok() && m->kind == MessageKind::kPing) own = s.bytes;
  }
  ASSERT_FALSE(own.empty());
  const std::uint64_t version = c.m(0).version();
  EXPECT_TRUE(c.m(0).Receive(c.now(), own).ok());
  EXPECT_TRUE(c.m(0).TakeOutgoing().empty());
  EXPECT_EQ(c.m(0).version(), version);
}

// --- untrusted input ---

TEST(MembershipTest, ForeignAndMalformedMessagesAreCountedAndDropped) {
  TestCluster c;
  Bootstrap(c, 2);
  Update alive;
  alive.kind = UpdateKind::kAlive;
  alive.name = "intruder";
  alive.addr = "intruder:1";
  struct Case {
    std::string name;
    std::vector<std::uint8_t> bytes;
    bool malformed;
  };
  std::vector<std::uint8_t> truncated = Craft(MessageKind::kGossip, {alive});
  truncated.pop_back();
  const std::vector<Case> cases = {
      {"another cluster", Craft(MessageKind::kGossip, {alive}, "other"), false},
      {"garbage", {'G', 'E', 'T', ' ', '/'}, true},
      {"empty", {}, true},
      {"truncated", truncated, true},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    const MembershipStats before = c.m(0).stats();
    const std::uint64_t version = c.m(0).version();
    const base::Status s = c.m(0).Receive(c.now(), tc.bytes);
    EXPECT_FALSE(s.ok());
    const MembershipStats& after = c.m(0).stats();
    EXPECT_EQ(after.messages_received, before.messages_received + 1);
    EXPECT_EQ(after.bytes_received, before.bytes_received + tc.bytes.size());
    EXPECT_EQ(after.messages_refused_malformed,
              before.messages_refused_malformed + (tc.malformed ? 1 : 0));
    EXPECT_EQ(after.messages_refused_cluster,
              before.messages_refused_cluster + (tc.malformed ? 0 : 1));
    EXPECT_EQ(c.m(0).version(), version);
    EXPECT_EQ(c.m(0).Members().size(), 2u);
    EXPECT_TRUE(c.m(0).TakeOutgoing().empty());
  }
  // The same message from our own cluster is accepted: the update and its sender.
  EXPECT_TRUE(c.Inject(0, Craft(MessageKind::kGossip, {alive})).ok());
  std::vector<std::string> names;
  for (const Member& m : c.m(0).Members()) names.push_back(m.name);
  EXPECT_EQ(names, (std::vector<std::string>{"intruder", "node-0", "node-1", "outsider"}));
}

// --- versions, dissemination, healing, determinism ---

TEST(MembershipTest, VersionBumpsOnlyOnVisibleChanges) {
  TestCluster c;
  c.AddNode();
  c.AddNode();
  const std::uint64_t v0 = c.m(0).version();
  c.Join(1, {0});
  ASSERT_TRUE(c.RunUntil([&] { return c.Converged(); }, seconds(3)));
  const std::uint64_t v1 = c.m(0).version();
  EXPECT_GT(v1, v0);  // a member appeared
  c.RunFor(seconds(10));
  EXPECT_EQ(c.m(0).version(), v1);  // probes and gossip alone change nothing
  ASSERT_TRUE(c.m(1).SetState(c.now(), NodeState::kParticipant).ok());
  c.Flush(1);
  ASSERT_TRUE(c.RunUntil([&] { return c.m(0).version() > v1; }, seconds(3)));
  EXPECT_EQ(c.View(0, 1)->state, NodeState::kParticipant);
  const std::uint64_t before_outsider = c.m(0).version();
  EXPECT_TRUE(c.Inject(0, Craft(MessageKind::kGossip, {})).ok());  // a new member: its sender
  EXPECT_GT(c.m(0).version(), before_outsider);
  const std::uint64_t v2 = c.m(0).version();
  // A suspicion alone is not visible to users (the member still owns work).
  ASSERT_TRUE(c.Inject(0, Craft(MessageKind::kGossip,
                                {Accusation(UpdateKind::kSuspect, "node-1", 0, "outsider")}))
                  .ok());
  EXPECT_EQ(c.View(0, 1)->liveness, Liveness::kSuspect);
  EXPECT_EQ(c.m(0).version(), v2);
  EXPECT_EQ(c.m(0).Participants(), std::vector<std::string>{"node-1"});
  c.Kill(1);
  ASSERT_TRUE(c.RunUntil([&] { return c.View(0, 1)->liveness == Liveness::kDead; }, seconds(30)));
  EXPECT_GT(c.m(0).version(), v2);  // it disappeared
  EXPECT_TRUE(c.m(0).Participants().empty());
}

TEST(MembershipTest, UpdatesStopAfterTheRetransmitLimit) {
  TestCluster c;
  Bootstrap(c, 3);
  c.RunFor(seconds(10));
  const Duration since = c.now();
  ASSERT_TRUE(c.m(0).SetState(c.now(), NodeState::kParticipant).ok());
  c.Flush(0);
  c.RunFor(seconds(10));
  // retransmit_mult * ceil(log10(N + 1)) with N = 3.
  const int limit = c.m(0).config().retransmit_mult * 1;
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    int carried = 0;
    for (const Message& m : c.SentBy(i, since)) {
      for (const Update& u : m.updates) {
        if (u.kind == UpdateKind::kState && u.name == "node-0") ++carried;
      }
    }
    EXPECT_GE(carried, i == 0 ? limit : 0);
    // Node 0 also hands its state directly to each peer in pings and acks until the peer
    // shows it knows it.
    EXPECT_LE(carried, limit + (i == 0 ? 4 : 0));
  }
  // Once everything is spread, gossip goes quiet.
  const Duration quiet = c.now();
  c.RunFor(seconds(10));
  for (const Message& m : c.SentBy(-1, quiet)) {
    EXPECT_NE(m.kind, MessageKind::kGossip);
    EXPECT_TRUE(m.updates.empty());
  }
}

TEST(MembershipTest, PartitionHealsThroughPushPull) {
  MembershipConfig config;
  config.push_pull_interval = seconds(5);
  config.dead_reclaim_time = std::chrono::minutes(10);
  TestCluster c(config);
  Bootstrap(c, 6);
  auto side = [](int i) { return i < 3; };
  c.drop = [&](int from, int to) { return side(from) != side(to); };
  ASSERT_TRUE(c.RunUntil(
      [&] {
        for (int o = 0; o < 6; ++o) {
          for (int s = 0; s < 6; ++s) {
            if (side(o) == side(s)) continue;
            if (c.View(o, s)->liveness != Liveness::kDead) return false;
          }
        }
        return true;
      },
      seconds(60)));
  for (int o = 0; o < 6; ++o) EXPECT_EQ(c.m(o).Members().size(), 6u);
  c.drop = nullptr;
  std::optional<Duration> took = c.RunUntil([&] { return c.Converged(); }, seconds(120));
  ASSERT_TRUE(took.has_value());
  EXPECT_LT(*took, seconds(30));
}

TEST(MembershipTest, SameSeedSameBytes) {
  auto run = [](std::uint64_t seed) {
    TestCluster c({}, seed);
    for (int i = 0; i < 5; ++i) c.AddNode();
    for (int i = 1; i < 5; ++i) c.Join(i, {0});
    c.RunFor(seconds(5));
    EXPECT_TRUE(c.m(2).SetState(c.now(), NodeState::kParticipant).ok());
    c.Flush(2);
    c.Kill(4);
    c.RunFor(seconds(20));
    return c.log();
  };
  const std::vector<TestCluster::Sent> a = run(5);
  const std::vector<TestCluster::Sent> b = run(5);
  ASSERT_GT(a.size(), 100u);
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == run(6));
}

// --- helpers ---

TEST(BroadcastQueueTest, FewestTransmitsFirstNewestAmongEquals) {
  BroadcastQueue q;
  q.Enqueue("a", {'a'});
  q.Enqueue("b", {'b'});
  std::vector<std::uint8_t> out;
  EXPECT_EQ(q.Take(1, 10, &out), 1u);
  EXPECT_EQ(out, std::vector<std::uint8_t>{'b'});  // newest first
  out.clear();
  EXPECT_EQ(q.Take(1, 10, &out), 1u);
  EXPECT_EQ(out, std::vector<std::uint8_t>{'a'});  // then the one sent fewer times
  q.Enqueue("c", {'c'});
  out.clear();
  EXPECT_EQ(q.Take(100, 10, &out), 3u);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{'c', 'b', 'a'}));
  EXPECT_EQ(q.transmits("a"), 2);
  EXPECT_EQ(q.transmits("c"), 1);
}

TEST(BroadcastQueueTest, SameKeyReplacesAndLimitDrops) {
  BroadcastQueue q;
  q.Enqueue("x", {'1'});
  std::vector<std::uint8_t> out;
  q.Take(100, 3, &out);
  q.Enqueue("x", {'2'});  // newer news: the old one is never sent again
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.transmits("x"), 0);
  out.clear();
  for (int i = 0; i < 5; ++i) q.Take(100, 3, &out);
  EXPECT_EQ(out, (std::vector<std::uint8_t>{'2', '2', '2'}));
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.transmits("x"), -1);
}

TEST(BroadcastQueueTest, RespectsBudget) {
  BroadcastQueue q;
  for (int i = 0; i < 10; ++i) {
    q.Enqueue("k" + std::to_string(i), std::vector<std::uint8_t>(10, static_cast<std::uint8_t>(i)));
  }
  std::vector<std::uint8_t> out;
  EXPECT_EQ(q.Take(35, 5, &out), 3u);
  EXPECT_EQ(out.size(), 30u);
  EXPECT_EQ(q.Take(5, 5, &out), 0u);
}

TEST(SuspicionTest, Timeouts) {
  const Duration pi = milliseconds(500);
  struct MinCase {
    std::size_t n;
    Duration want;
  };
  for (const MinCase& tc : std::vector<MinCase>{{0, pi},
                                                {1, pi},
                                                {2, milliseconds(602)},
                                                {5, milliseconds(1397)},
                                                {10, seconds(2)},
                                                {100, seconds(4)},
                                                {1000, seconds(6)}}) {
    SCOPED_TRACE(tc.n);
    const Duration got = SuspicionMinTimeout(4, tc.n, pi);
    EXPECT_LE(std::chrono::abs(got - tc.want), milliseconds(1));
  }
  const Duration min = seconds(2);
  const Duration max = seconds(12);
  EXPECT_EQ(SuspicionTimeout(0, 2, min, max), max);
  EXPECT_EQ(SuspicionTimeout(2, 2, min, max), min);
  EXPECT_EQ(SuspicionTimeout(5, 2, min, max), min);
  EXPECT_EQ(SuspicionTimeout(3, 0, min, max), max);  // none expected: stays at max
  // One of two: max - (max - min) * log(2) / log(3).
  const Duration one = SuspicionTimeout(1, 2, min, max);
  const double want = 12.0 - 10.0 * std::log(2.0) / std::log(3.0);
  EXPECT_NEAR(std::chrono::duration<double>(one).count(), want, 1e-6);
}

TEST(MembershipTest, NamesOfEnums) {
  EXPECT_EQ(NodeStateName(NodeState::kViewer), "viewer");
  EXPECT_EQ(NodeStateName(NodeState::kParticipant), "participant");
  EXPECT_EQ(NodeStateName(NodeState::kTerminating), "terminating");
  EXPECT_EQ(LivenessName(Liveness::kAlive), "alive");
  EXPECT_EQ(LivenessName(Liveness::kSuspect), "suspect");
  EXPECT_EQ(LivenessName(Liveness::kDead), "dead");
  EXPECT_EQ(LivenessName(Liveness::kLeft), "left");
}

}  // namespace
}  // namespace starling::cluster
