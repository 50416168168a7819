#pragma once

// Membership: one node's view of the cluster, as a pure state machine. It does no I/O and reads
// no clock: the caller feeds it the monotonic time, the bytes that arrived and the timer ticks,
// and takes out the bytes to send. The agent drives it with a real transport and clock; the
// simulator drives thousands of instances over a simulated network. Same inputs, same seed:
// same outputs.
//
// The protocol is SWIM with Lifeguard's refinements:
// - probing: every probe interval one member (round-robin over a shuffled list) gets a ping;
//   without an ack within the probe timeout, `indirect_checks` other members ping it on our
//   behalf and answer with an ack or a nack;
// - suspicion: an unanswered probe makes the member suspect; it is declared dead when the
//   suspicion timeout runs out. The timeout starts at max_suspicion_timeout and shrinks towards
//   min_suspicion_timeout as other members independently confirm the suspicion;
// - local health awareness: a health score (0 = healthy) rises on missed acks and nacks and on
//   having to refute, and stretches the local probe interval and timeout, so a slow node does
//   not accuse others;
// - incarnation numbers: a member that hears it is suspected or dead refutes by announcing
//   itself alive with a higher incarnation;
// - dissemination: membership changes ride piggybacked on pings and acks, and on gossip
//   messages sent every gossip interval to a few random members; each change is retransmitted
//   about retransmit_mult * log(N + 1) times;
// - push/pull: every push_pull_interval the full state is exchanged with one random member
//   (this is also how a node joins), which heals partitions and lost updates.
//
// On top of liveness each member has an application state: viewer (not yet owning work),
// participant (owns work), terminating (leaving; owns nothing). A node sets only its own state;
// a Lamport clock orders state changes across the cluster.
//
// Every message carries the cluster name and the sender's name and instance id; messages of
// another cluster, or that do not decode, are dropped and counted, never trusted. A node that
// joins under the name of a live member at another address is refused; it learns why through
// join_error().
//
// Thread-safety: none. The owner serialises all calls (the agent holds a mutex; the simulator
// is single-threaded).

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"

namespace starling::cluster {

using Duration = std::chrono::nanoseconds;

// What a member does in the cluster (the application state, set by the member itself).
enum class NodeState : std::uint8_t {
  kViewer = 0,       // sees the cluster, owns no work
  kParticipant = 1,  // owns work
  kTerminating = 2,  // leaving; owns no work
};
std::string_view NodeStateName(NodeState state);  // "viewer", "participant", "terminating"

// Whether a member is reachable, as failure detection sees it.
enum class Liveness : std::uint8_t {
  kAlive = 0,
  kSuspect = 1,  // missed a probe; still a member until its suspicion times out
  kDead = 2,     // failed; removed from peers
  kLeft = 3,     // left on purpose; removed from peers
};
std::string_view LivenessName(Liveness liveness);  // "alive", "suspect", "dead", "left"

struct Member {
  std::string name;
  std::string addr;  // advertised "host:port"; messages to this member are sent here
  std::uint64_t incarnation = 0;
  Liveness liveness = Liveness::kAlive;
  NodeState state = NodeState::kViewer;
  std::uint64_t state_lamport = 0;  // Lamport time of the member's last state change
  Duration last_heard{};  // local monotonic time of the last message from or about it alive
  bool is_self = false;
  friend bool operator==(const Member&, const Member&) = default;
};

struct MembershipConfig {
  std::string cluster_name;    // messages of another cluster name are refused
  std::string node_name;       // unique in the cluster
  std::string advertise_addr;  // "host:port" others send to

  // SWIM and Lifeguard parameters; the defaults suit a LAN with 200 ms gossip rounds.
  Duration probe_interval = std::chrono::milliseconds(400);
  Duration probe_timeout = std::chrono::milliseconds(200);
  int indirect_checks = 3;
  Duration gossip_interval = std::chrono::milliseconds(200);
  int gossip_nodes = 3;
  int retransmit_mult = 4;
  // Suspicion timeout bounds: min = suspicion_mult * log10(max(N, 1)) * probe_interval (but at
  // least one probe interval); max = suspicion_max_timeout_mult * min.
  int suspicion_mult = 4;
  int suspicion_max_timeout_mult = 6;
  int awareness_max_multiplier = 8;  // cap of the health score + 1
  Duration push_pull_interval = std::chrono::seconds(30);
  // How long dead or left members are remembered (to refuse stale rumours of them).
  Duration dead_reclaim_time = std::chrono::minutes(1);
  // Upper bound on one outgoing message (piggybacked updates are packed up to this size).
  std::size_t max_message_bytes = 1400;
};

// Bytes to send to a member's address.
struct Outgoing {
  std::string to_addr;
  std::string to_name;  // empty when not known (a join address)
  std::vector<std::uint8_t> bytes;
};

// Counters for metrics and the simulator.
struct MembershipStats {
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t bytes_sent = 0;
  std::uint64_t messages_refused_cluster = 0;    // another cluster's name
  std::uint64_t messages_refused_malformed = 0;  // failed to decode
  // Events learnt by gossip, by kind: "node_join", "node_leave", "node_conflict",
  // "node_update" (a state change), as cluster_node_gossip_received_events_total counts them.
  std::uint64_t events_join = 0;
  std::uint64_t events_leave = 0;
  std::uint64_t events_update = 0;
  std::uint64_t events_conflict = 0;
};

class Membership {
 public:
  // The node starts alive, as a viewer, alone. `random` must outlive the Membership.
  Membership(MembershipConfig config, base::Random& random, Duration now);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // --- inputs ---

  // Contacts up to `max_peers` of `addrs` (chosen at random; 0 = all) with a push/pull join.
  // The node's own address may be among them and is skipped. Joining is asynchronous:
  // Members() grows as answers arrive. Calling it again (rejoin) is harmless.
  void Join(Duration now, const std::vector<std::string>& addrs, int max_peers);

  // Bytes that arrived from the network. Malformed messages and messages of another cluster
  // are counted and dropped (the Status says why, for logging at debug level).
  base::Status Receive(Duration now, std::span<const std::uint8_t> bytes);

  // Fires due timers (probes, probe timeouts, suspicion timeouts, gossip, push/pull). Call it
  // at NextTimer() or later; calling it early is harmless.
  void Tick(Duration now);

  // Changes this node's application state (ticking the Lamport clock) and broadcasts it.
  // Transitions only go forward: viewer -> participant -> terminating.
  base::Status SetState(Duration now, NodeState state);

  // Leaves the cluster: broadcasts that this node left. Callers first SetState(kTerminating)
  // and wait for AllPeersKnowState() (or a deadline), then Leave(), then send what
  // TakeOutgoing() returns before shutting down.
  void Leave(Duration now);

  // --- outputs ---

  // Messages produced since the last call, in order.
  std::vector<Outgoing> TakeOutgoing();

  // The monotonic time at which Tick() should next be called.
  Duration NextTimer() const;

  // --- queries ---

  // Every known member, self included, dead and left ones until they are reclaimed; sorted by
  // name.
  std::vector<Member> Members() const;
  // Names of the members that own work: alive or suspect participants, self included when
  // participating; sorted. Placement is computed from this list.
  std::vector<std::string> Participants() const;
  // Bumped whenever Members() changes in a way that matters to users: a member appears,
  // disappears (dead/left), or changes state or address.
  std::uint64_t version() const;

  // True when every alive member other than self has acknowledged (by sending its own state
  // digest) this node's current state. Used to bound the wait before Leave().
  bool AllPeersKnowState() const;

  std::uint64_t lamport_time() const;
  int health_score() const;  // Lifeguard's local health multiplier minus one; 0 is healthy
  const MembershipStats& stats() const;
  // Set when a member refused this node's join (duplicate name at another address); the node
  // should stop with this error.
  const base::Status& join_error() const;

  const MembershipConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace starling::cluster
