#pragma once

// Simulator: runs many Membership state machines in one process over a simulated network, to
// measure how fast joins and failures spread and how often live members are wrongly declared
// dead.
//
// It is a discrete-event simulation. Events (message deliveries, timer ticks, scripted actions)
// are ordered by (time, sequence number), and every random choice comes from generators seeded
// from SimulatorConfig::seed: the network has its own, the scenario helpers have their own, and
// each node gets a base::SeededRandom derived from the seed and its index. The same config,
// seed and calls give the same run, event for event.
//
// Nodes are named "node-<i>" and reachable at "node-<i>:<port>", i counting from 0 in the order
// of AddNode(). The network delivers each message after latency + uniform[0, jitter), drops it
// with probability `loss`, and drops it when sender and receiver are on different sides of a
// partition (checked when it is sent and again when it arrives). A killed node neither sends,
// receives nor ticks; a paused node (like SIGSTOP) does not tick, and messages sent to it wait
// in its inbox until it resumes.
//
// Observation: while observing() is on, after every event that touched a node whose
// Membership::version() changed, the simulator diffs that node's Members() against what it
// last saw and keeps, per member, how many running nodes see it alive, dead, or as a
// participant. Watches built on those counts time how long a change takes to reach 99.9% and
// 100% of the running nodes. Observing costs one Members() call per version change, so turn it
// off while bootstrapping large clusters (every node learning every other node).
//
// Definitions used in the counts and reports:
// - observers of a member: the running (not killed, left or paused) nodes other than itself;
// - a node "knows X alive" when X is in its Members() and alive or suspect; it considers X
//   "gone" when X is dead or left there, or absent. Suspect counts as alive because a suspect
//   is still a member (and in Participants()), and because version() does not change when
//   suspicion starts or ends, so it could not be tracked reliably;
// - a false positive: an observer's view of X turning to dead while X is running (not killed,
//   left or paused) and the observer and X are on the same side of every partition, whether
//   the observer concluded it itself or learnt it from others (after a partition heals, stale
//   news of deaths counts). Each such transition counts once (a pair declared dead twice
//   counts twice). dead_declarations counts
//   every transition to dead of a member that was not killed or left, whatever the network did
//   (so it includes paused and partitioned-away members).
//
// Thread-safety: none; one thread drives a Simulator. Membership instances are owned by it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/membership.h"

namespace starling::cluster {

// A node's index in the simulator: 0, 1, ... in the order of AddNode().
using NodeId = int;

struct NetworkModel {
  Duration latency = std::chrono::milliseconds(1);  // one-way, before jitter
  Duration jitter = std::chrono::milliseconds(1);   // plus uniform [0, jitter)
  double loss = 0;                                  // independent drop probability per message
};

struct SimulatorConfig {
  std::uint64_t seed = 1;
  // Template for every node; node_name and advertise_addr are replaced per node, and an empty
  // cluster_name becomes "sim".
  MembershipConfig membership;
  NetworkModel network;
  int port = 7946;  // of the synthetic addresses "node-<i>:<port>"
};

enum class NodeStatus : std::uint8_t {
  kRunning = 0,
  kPaused = 1,  // stopped like SIGSTOP; resumes with its inbox
  kKilled = 2,  // gone without a word; Restart() brings it back
  kLeft = 3,    // left gracefully (Leave()); gone
};
std::string_view NodeStatusName(NodeStatus status);

// What one observer last saw of one member (from its Members(), at its last version change).
struct Belief {
  bool known = false;                    // the member is in the observer's Members()
  Liveness liveness = Liveness::kAlive;  // kAlive (also for suspect), kDead or kLeft
  NodeState state = NodeState::kViewer;
  friend bool operator==(const Belief&, const Belief&) = default;
};

// What a watch waits for every running node to see of its subject.
enum class SpreadCondition : std::uint8_t {
  kKnownAlive = 0,      // subject in Members(), alive or suspect (a join has spread)
  kGone = 1,            // subject dead, left or absent (a failure has been detected)
  kParticipant = 2,     // subject in Participants() (alive or suspect participant)
  kNotParticipant = 3,  // subject not in Participants()
};

// The spread of one condition over the running nodes. The subject, while it runs, is one of
// them and is judged by its own view of itself (it knows itself alive, so a join starts with
// one node reached; it never sees itself gone).
struct SpreadResult {
  NodeId subject = -1;
  SpreadCondition condition = SpreadCondition::kKnownAlive;
  Duration start{};  // simulated time the watch began
  int nodes = 0;     // running nodes, at the last evaluation
  int reached = 0;   // of them, how many satisfied the condition then
  // Time from start until at least 99.9% (rounded up to a whole node: 999 of 1,000, all of
  // 999) and until all of the nodes satisfied the condition at once; unset until then.
  std::optional<Duration> p999;
  std::optional<Duration> all;
};

// Counted at the network: every message a node hands over is "sent", whatever becomes of it.
struct NetworkStats {
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_delivered = 0;  // passed to Receive()
  std::uint64_t bytes_delivered = 0;
  std::uint64_t dropped_loss = 0;       // random packet loss
  std::uint64_t dropped_partition = 0;  // sender and receiver on different sides
  std::uint64_t dropped_down = 0;       // receiver killed or left when it arrived
  std::uint64_t dropped_unknown = 0;    // to an address no node has
  std::uint64_t rejected = 0;           // Receive() returned an error
};

struct NodeTraffic {
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
};

// (observer, member) pairs of running observers that keep the cluster from converging.
struct ConvergenceGap {
  std::int64_t missing = 0;  // a reachable running member absent from the observer's view
  std::int64_t dead = 0;     // a reachable running member seen dead or left
  std::int64_t stale = 0;    // a killed, left or unreachable member still seen alive
  bool any() const { return missing + dead + stale > 0; }
};

struct ObservationStats {
  std::uint64_t false_positives = 0;    // see the header comment
  std::uint64_t dead_declarations = 0;  // of members not killed or left
  std::uint64_t observations = 0;       // Members() calls made to track beliefs
};

class Simulator {
 public:
  explicit Simulator(SimulatorConfig config);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  Duration now() const { return now_; }
  const SimulatorConfig& config() const { return config_; }

  // --- nodes ---

  // A new node, running and alone (call Join), created at now().
  NodeId AddNode();
  int size() const { return static_cast<int>(nodes_.size()); }
  const std::string& name(NodeId id) const;
  const std::string& addr(NodeId id) const;
  NodeStatus status(NodeId id) const;
  int running_count() const { return running_count_; }
  std::vector<NodeId> RunningNodes() const;
  // The node's state machine, for queries. Inputs must go through the simulator, which sends
  // what they produce.
  const Membership& membership(NodeId id) const;

  // --- inputs (at now()) ---

  // Joins through the addresses of `via` (max_peers as in Membership::Join).
  void Join(NodeId id, const std::vector<NodeId>& via, int max_peers = 0);
  // Joins through up to `peers` running nodes other than `id`, chosen at random.
  void JoinRandom(NodeId id, int peers);
  base::Status SetState(NodeId id, NodeState state);
  // Leaves gracefully: the node broadcasts that it leaves, then stops.
  void Leave(NodeId id);
  // Stops the node at once; messages already sent are still delivered.
  void Kill(NodeId id);
  // A killed node starts again under the same name and address, as a new instance, alone.
  void Restart(NodeId id);
  void Pause(NodeId id);
  // Delivers what arrived while paused, then ticks.
  void Resume(NodeId id);
  // Cuts the network into islands: each listed group can reach only itself; the nodes not
  // listed form one more island. Replaces any earlier partition.
  void Partition(const std::vector<std::vector<NodeId>>& islands);
  void Heal();
  bool Reachable(NodeId a, NodeId b) const;
  void SetNetwork(const NetworkModel& network) { config_.network = network; }
  // Runs `action` when the clock reaches `when` (or now, if it is in the past), in order with
  // the other events; actions may call any input above.
  void At(Duration when, std::function<void()> action);

  // --- running ---

  // Processes every event up to and including `until`, then sets now() to it.
  void RunUntil(Duration until);
  void RunFor(Duration d) { RunUntil(now_ + d); }
  // Processes events until done() holds (checked first and after every event: keep it cheap)
  // or the clock reaches `deadline`; returns whether done() held.
  bool RunUntil(Duration deadline, const std::function<bool()>& done);
  // Runs until Converged(), checked every `step`, or `deadline`; returns when it first saw
  // convergence (a multiple of step after now()), or nothing.
  std::optional<Duration> RunUntilConverged(Duration deadline, Duration step);

  // --- observation ---

  // Turning it on takes a snapshot of every running node; turning it off forgets the beliefs.
  void SetObserving(bool on);
  bool observing() const { return observing_; }
  // What `observer` last reported about `member` (observing must be on).
  Belief BeliefOf(NodeId observer, NodeId member) const;
  // How many observers of `member` satisfy `condition` now (observing must be on).
  int CountSatisfying(NodeId member, SpreadCondition condition) const;
  // True when every running node sees every running node it can reach as alive (or suspect),
  // and every killed, left or unreachable node as dead, left or absent. Paused nodes are
  // ignored on both sides. Uses the tracked beliefs when
  // observing, else asks every node for Members().
  bool Converged() const;
  // How far from Converged(), counted over every (observer, member) pair.
  ConvergenceGap Gap() const;

  // Starts timing how long `subject`'s `condition` takes to spread to the running nodes, from
  // now(). Turns observing on.
  int Watch(NodeId subject, SpreadCondition condition);
  const SpreadResult& watch(int id) const;
  bool WatchDone(int id) const { return watch(id).all.has_value(); }

  const NetworkStats& network_stats() const { return net_stats_; }
  const NodeTraffic& traffic(NodeId id) const;
  const ObservationStats& observation_stats() const { return obs_stats_; }
  // Events processed so far (deliveries, ticks and actions).
  std::uint64_t events_processed() const { return events_processed_; }

 private:
  struct Node;
  struct Event;
  struct EventLater {
    bool operator()(const Event& a, const Event& b) const;
  };
  enum class EventKind : std::uint8_t;

  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  std::unique_ptr<Membership> NewMembership(Node& n);
  void Push(Duration time, EventKind kind, NodeId node, NodeId from, std::uint32_t aux);
  void Process(const Event& ev);
  void Deliver(Node& to, std::uint32_t payload);
  // After any call into a node: sends its output, reschedules its timer, observes it.
  void Settle(Node& n, bool after_tick);
  void Send(Node& from, Outgoing& out);
  void ScheduleTick(Node& n, bool after_tick);
  NodeId ResolveAddr(const std::string& addr) const;
  NodeId ResolveName(const std::string& name) const;
  void Observe(Node& n);
  void CountRow(const Node& n, int sign);
  void CountBelief(NodeId member, std::uint8_t code, int sign);
  void SetStatus(Node& n, NodeStatus status);
  void EvaluateWatches();
  ConvergenceGap MeasureGap(bool stop_at_first) const;
  bool CountsAsObserver(const Node& n) const;
  std::uint32_t StorePayload(std::vector<std::uint8_t> bytes);
  void FreePayload(std::uint32_t index);

  SimulatorConfig config_;
  Duration now_{};
  std::uint64_t next_seq_ = 0;
  std::vector<Event> queue_;  // a binary heap ordered by EventLater
  std::vector<std::unique_ptr<Node>> nodes_;
  int running_count_ = 0;
  std::unique_ptr<base::Random> net_random_;
  std::unique_ptr<base::Random> scenario_random_;
  std::vector<std::vector<std::uint8_t>> payloads_;
  std::vector<std::uint32_t> free_payloads_;
  std::vector<std::function<void()>> actions_;
  std::vector<std::uint32_t> free_actions_;
  bool partitioned_ = false;

  bool observing_ = false;
  // Per member: how many observers see it alive (or suspect), dead or left, participating.
  std::vector<int> n_alive_, n_dead_, n_participant_;
  std::vector<std::uint8_t> scratch_row_;
  std::vector<SpreadResult> watches_;
  std::vector<int> active_watches_;
  bool watches_dirty_ = false;

  NetworkStats net_stats_;
  ObservationStats obs_stats_;
  std::uint64_t events_processed_ = 0;
};

}  // namespace starling::cluster
