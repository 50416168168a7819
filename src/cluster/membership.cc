#include "cluster/membership.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <unordered_set>
#include <utility>

#include "cluster/membership_queue.h"
#include "cluster/message.h"
#include "cluster/suspicion.h"

namespace starling::cluster {

std::string_view NodeStateName(NodeState state) {
  switch (state) {
    case NodeState::kViewer:
      return "viewer";
    case NodeState::kParticipant:
      return "participant";
    case NodeState::kTerminating:
      return "terminating";
  }
  return "unknown";
}

std::string_view LivenessName(Liveness liveness) {
  switch (liveness) {
    case Liveness::kAlive:
      return "alive";
    case Liveness::kSuspect:
      return "suspect";
    case Liveness::kDead:
      return "dead";
    case Liveness::kLeft:
      return "left";
  }
  return "unknown";
}

namespace {

constexpr Duration kNever = Duration::max();
// Above this many members the push/pull interval grows with log2(N), as memberlist does, so
// that full-state exchanges do not load large clusters linearly.
constexpr std::size_t kPushPullScaleThreshold = 32;
// How long, in gossip intervals, a member declared dead still receives gossip, so that one
// that was only slow or cut off learns it has to refute.
constexpr int kGossipToTheDeadRounds = 10;
// Bound on the suspects waiting for an early probe (after a mass failure the round-robin
// must go on).
constexpr std::size_t kMaxPriorityProbes = 4;
// Push/pulls soon after a Join(), at growing delays.
constexpr int kJoinFollowUps = 3;
// Bound on the state updates kept for members not known yet, and how long (in gossip
// intervals) they stay good.
constexpr std::size_t kMaxPendingStates = 1024;
constexpr int kPendingStateRounds = 50;

bool IsLive(Liveness l) { return l == Liveness::kAlive || l == Liveness::kSuspect; }

// Broadcast queue keys: liveness news and state news about a member replace older news of the
// same kind only.
std::string LivenessKey(const std::string& name) { return name + std::string("\0L", 2); }
std::string StateKey(const std::string& name) { return name + std::string("\0S", 2); }

Duration After(Duration now, Duration interval) {
  return interval > Duration::zero() ? now + interval : kNever;
}

}  // namespace

struct Membership::Impl {
  // A member other than self.
  struct Entry {
    Member m;
    std::uint64_t instance_id = 0;
    Duration liveness_change{};       // when m.liveness last changed
    std::uint64_t acked_lamport = 0;  // our state Lamport time it has shown it knows
    std::size_t node_index = 0;       // position in `nodes`
    // The suspicion, while m.liveness is kSuspect.
    Duration suspicion_start{};
    Duration suspicion_deadline{};
    Duration suspicion_min{};
    Duration suspicion_max{};
    int confirmations = 0;
    int expected_confirmations = 0;
    std::vector<std::string> accusers;  // at most expected_confirmations + 1
  };

  // The probe in flight (at most one: a new one starts when the last one's interval ends).
  struct Probe {
    bool active = false;
    std::uint64_t seq = 0;
    std::string target;
    std::uint64_t incarnation = 0;  // of the target when the probe started
    Duration timeout_at{};          // direct ack deadline; then indirect pings go out
    Duration deadline{};            // end of the probe interval; then suspect
    bool indirect_sent = false;
    bool acked = false;
    int expected_nacks = 0;
    int nacks = 0;
  };

  // A ping made on another member's behalf.
  struct Relay {
    std::uint64_t their_seq = 0;
    std::string addr;
    std::string name;
    Duration nack_at{};
  };

  Impl(MembershipConfig c, base::Random& r, Duration now) : config(std::move(c)), random(r) {
    instance_id = random.Next();
    self.name = config.node_name;
    self.addr = config.advertise_addr;
    self.is_self = true;
    self.last_heard = now;
    // Announce ourselves: once we know some members this spreads our arrival among those the
    // member we joined through has not told yet.
    Broadcast(SelfAlive());
    // Random phases, so that nodes started together do not probe and gossip in lockstep.
    next_probe_at = After(now, Stagger(config.probe_interval));
    next_gossip_at = After(now, Stagger(config.gossip_interval));
    next_push_pull_at =
        config.push_pull_interval > Duration::zero()
            ? now + config.push_pull_interval / 2 + Stagger(config.push_pull_interval / 2)
            : kNever;
  }

  Duration Stagger(Duration interval) {
    if (interval <= Duration::zero()) return Duration::zero();
    return Duration(
        static_cast<Duration::rep>(random.Uniform(static_cast<std::uint64_t>(interval.count()))));
  }

  // --- bookkeeping ---

  Entry* Find(std::string_view name) {
    auto it = members.find(name);
    return it == members.end() ? nullptr : &it->second;
  }

  Duration Scaled(Duration d) const { return d * (health + 1); }

  void ApplyHealth(int delta) {
    const int max_score = std::max(0, config.awareness_max_multiplier - 1);
    health = std::clamp(health + delta, 0, max_score);
  }

  int RetransmitLimit() const {
    const double scale = std::ceil(std::log10(static_cast<double>(num_live) + 1.0));
    return std::max(1, config.retransmit_mult * static_cast<int>(scale));
  }

  Duration PushPullInterval() const {
    if (num_live <= kPushPullScaleThreshold) return config.push_pull_interval;
    const double mult = std::ceil(std::log2(static_cast<double>(num_live)) -
                                  std::log2(static_cast<double>(kPushPullScaleThreshold))) +
                        1.0;
    return config.push_pull_interval * static_cast<int>(mult);
  }

  // Long enough for the join answer and the first gossip, short next to push_pull_interval.
  Duration JoinFollowUpDelay() const {
    return std::min(std::max(config.gossip_interval * 5, config.probe_interval * 2),
                    config.push_pull_interval);
  }

  Entry& AddEntry(const std::string& name, const std::string& addr, std::uint64_t incarnation,
                  std::uint64_t instance, Duration now) {
    Entry& e = members[name];
    e.m.name = name;
    e.m.addr = addr;
    e.m.incarnation = incarnation;
    e.m.liveness = Liveness::kAlive;
    e.m.last_heard = now;
    e.instance_id = instance;
    e.liveness_change = now;
    e.node_index = nodes.size();
    nodes.push_back(&e);
    ++num_live;
    // A random place in the probe order keeps the detection bound low on average.
    probe_list.push_back(name);
    std::swap(probe_list[random.Uniform(probe_list.size())], probe_list.back());
    ++stats.events_join;
    ++version;
    return e;
  }

  void RemoveEntry(Entry& e) {
    CancelSuspicion(e);
    if (IsLive(e.m.liveness)) --num_live;
    if (e.m.liveness == Liveness::kDead) --num_dead;
    const std::size_t i = e.node_index;
    nodes[i] = nodes.back();
    nodes[i]->node_index = i;
    nodes.pop_back();
    members.erase(members.find(e.m.name));  // destroys e
  }

  void SetLiveness(Entry& e, Liveness to, Duration now) {
    const Liveness from = e.m.liveness;
    if (from == to) return;
    if (IsLive(from)) --num_live;
    if (from == Liveness::kDead) --num_dead;
    if (IsLive(to)) ++num_live;
    if (to == Liveness::kDead) ++num_dead;
    e.m.liveness = to;
    e.liveness_change = now;
    if (IsLive(from) && !IsLive(to)) {
      ++stats.events_leave;
      ++version;
      reclaims.emplace_back(now + config.dead_reclaim_time, e.m.name);
    } else if (!IsLive(from) && IsLive(to)) {
      ++stats.events_join;
      ++version;
    }
  }

  // Up to k distinct random members accepted by `filter`.
  template <typename Filter>
  std::vector<Entry*> RandomNodes(std::size_t k, Filter filter) {
    std::vector<Entry*> out;
    const std::size_t n = nodes.size();
    if (k == 0 || n == 0) return out;
    if (2 * k >= n) {
      // Most of a small cluster: take all that match in a random order.
      for (Entry* e : nodes) {
        if (filter(*e)) out.push_back(e);
      }
      for (std::size_t i = out.size(); i > 1; --i) {
        std::swap(out[i - 1], out[random.Uniform(i)]);
      }
      if (out.size() > k) out.resize(k);
      return out;
    }
    // Random picks, as memberlist does: O(k) when most members match.
    for (std::size_t i = 0; i < 3 * n && out.size() < k; ++i) {
      Entry* e = nodes[random.Uniform(n)];
      if (!filter(*e) || std::find(out.begin(), out.end(), e) != out.end()) continue;
      out.push_back(e);
    }
    return out;
  }

  // --- sending ---

  // Encodes `msg` (its own updates first, then queued ones while they fit when `piggyback`)
  // and queues it for `addr`. With `only_with_updates`, sends nothing if no update would go.
  bool Send(const std::string& addr, const std::string& name, std::uint64_t peer_lamport,
            Message& msg, bool piggyback, bool only_with_updates = false) {
    Envelope& env = msg.envelope;
    env.cluster = config.cluster_name;
    env.sender_name = self.name;
    env.sender_instance = instance_id;
    env.sender_addr = self.addr;
    env.sender_incarnation = self.incarnation;
    env.lamport = lamport;
    env.peer_state_lamport = peer_lamport;
    std::vector<std::uint8_t> bytes;
    bytes.reserve(128);
    EncodeMessageHead(msg, &bytes);
    std::vector<std::uint8_t> updates;
    std::size_t count = msg.updates.size();
    for (const Update& u : msg.updates) EncodeUpdate(u, &updates);
    if (piggyback && !queue.empty()) {
      const std::size_t used = bytes.size() + updates.size() + 3;  // 3: the count varint
      if (used < config.max_message_bytes) {
        count += queue.Take(config.max_message_bytes - used, RetransmitLimit(), &updates);
      }
    }
    if (only_with_updates && count == 0) return false;
    PutVarint(count, &bytes);
    bytes.insert(bytes.end(), updates.begin(), updates.end());
    ++stats.messages_sent;
    stats.bytes_sent += bytes.size();
    outgoing.push_back(Outgoing{addr, name, std::move(bytes)});
    return true;
  }

  bool SendTo(const Entry& e, Message& msg, bool piggyback, bool only_with_updates = false) {
    return Send(e.m.addr, e.m.name, e.m.state_lamport, msg, piggyback, only_with_updates);
  }

  static Message NewMessage(MessageKind kind) {
    Message m;
    m.kind = kind;
    return m;
  }

  void Broadcast(const Update& u) {
    std::vector<std::uint8_t> bytes;
    EncodeUpdate(u, &bytes);
    queue.Enqueue(u.kind == UpdateKind::kState ? StateKey(u.name) : LivenessKey(u.name),
                  std::move(bytes));
  }

  Update SelfAlive() const {
    Update u;
    u.kind = UpdateKind::kAlive;
    u.name = self.name;
    u.addr = self.addr;
    u.incarnation = self.incarnation;
    u.instance_id = instance_id;
    return u;
  }

  Update SelfState() const {
    Update u;
    u.kind = UpdateKind::kState;
    u.name = self.name;
    u.state = self.state;
    u.lamport = self.state_lamport;
    return u;
  }

  static Update Accusation(UpdateKind kind, const std::string& name, std::uint64_t incarnation,
                           const std::string& from) {
    Update u;
    u.kind = kind;
    u.name = name;
    u.incarnation = incarnation;
    u.from = from;
    return u;
  }

  std::vector<MemberRecord> LocalState() const {
    std::vector<MemberRecord> out;
    out.reserve(members.size() + 1);
    out.push_back(MemberRecord{self.name, self.addr, self.incarnation, instance_id, self.liveness,
                               self.state, self.state_lamport});
    for (const auto& [name, e] : members) {
      out.push_back(MemberRecord{name, e.m.addr, e.m.incarnation, e.instance_id, e.m.liveness,
                                 e.m.state, e.m.state_lamport});
    }
    return out;
  }

  void SendPushPull(const std::string& addr, const std::string& name, std::uint64_t peer_lamport,
                    bool join) {
    Message m = NewMessage(MessageKind::kPushPullRequest);
    m.join = join;
    m.members = LocalState();
    Send(addr, name, peer_lamport, m, false);
  }

  void SendRefusal(const std::string& to_addr, const std::string& name,
                   const std::string& existing_addr) {
    Message m = NewMessage(MessageKind::kJoinRefusal);
    m.target_name = name;
    m.target_addr = to_addr;
    m.existing_addr = existing_addr;
    Send(to_addr, name, 0, m, false);
  }

  // --- suspicion ---

  void StartSuspicion(Entry& e, const std::string& from, Duration now) {
    // k confirmations drive the timeout to its minimum; too small a cluster cannot give them.
    int k = std::max(0, config.suspicion_mult - 2);
    if (static_cast<int>(num_live) - 2 < k) k = 0;
    e.suspicion_min = SuspicionMinTimeout(config.suspicion_mult, num_live, config.probe_interval);
    e.suspicion_max = e.suspicion_min * std::max(1, config.suspicion_max_timeout_mult);
    e.suspicion_start = now;
    e.confirmations = 0;
    e.expected_confirmations = k;
    e.accusers.assign(1, from);
    e.suspicion_deadline = now + e.suspicion_max;
    suspicion_timers.emplace(e.suspicion_deadline, e.m.name);
  }

  // Counts an independent confirmation; true when it was new (and so worth passing on).
  bool Confirm(Entry& e, const std::string& from) {
    if (e.confirmations >= e.expected_confirmations) return false;
    if (std::find(e.accusers.begin(), e.accusers.end(), from) != e.accusers.end()) return false;
    e.accusers.push_back(from);
    ++e.confirmations;
    suspicion_timers.erase({e.suspicion_deadline, e.m.name});
    e.suspicion_deadline =
        e.suspicion_start + SuspicionTimeout(e.confirmations, e.expected_confirmations,
                                             e.suspicion_min, e.suspicion_max);
    suspicion_timers.emplace(e.suspicion_deadline, e.m.name);
    return true;
  }

  void CancelSuspicion(Entry& e) {
    if (e.m.liveness != Liveness::kSuspect) return;
    suspicion_timers.erase({e.suspicion_deadline, e.m.name});
    e.accusers.clear();
  }

  // --- applying news ---

  void Refute(std::uint64_t seen_incarnation) {
    self.incarnation = std::max(self.incarnation, seen_incarnation) + 1;
    Broadcast(SelfAlive());
    ApplyHealth(1);  // being suspected is a hint that we are the slow one
  }

  void AliveAboutSelf(const Update& u) {
    if (left) return;
    if (u.addr != self.addr) {
      if (u.instance_id != instance_id) {
        // Another process claims our name at another address: refuse it.
        ++stats.events_conflict;
        SendRefusal(u.addr, self.name, self.addr);
      }
      return;
    }
    // Either a rumour of a previous run of this node (same address, other instance id), or
    // someone thinks we are further along than we are: announce a higher incarnation.
    if (u.incarnation > self.incarnation ||
        (u.incarnation == self.incarnation && u.instance_id != instance_id)) {
      Refute(u.incarnation);
    }
  }

  // `broadcast_new`: whether a member not known before is news worth passing on (not when it
  // only comes from someone's full state, which every other member already has).
  void ApplyAlive(Duration now, const Update& u, bool broadcast_new = true) {
    if (u.name == self.name) return AliveAboutSelf(u);
    Entry* e = Find(u.name);
    if (e == nullptr) {
      AddEntry(u.name, u.addr, u.incarnation, u.instance_id, now);
      if (broadcast_new) Broadcast(u);
      if (auto it = pending_states.find(u.name); it != pending_states.end()) {
        const PendingState pending = std::move(it->second);
        pending_states.erase(it);
        // Only if recent: an old one may be of a previous run of this member.
        if (now - pending.received <= config.gossip_interval * kPendingStateRounds) {
          ApplyState(now, pending.update, true, true);
        }
      }
      return;
    }
    if (e->m.addr != u.addr) {
      if (IsLive(e->m.liveness)) {
        // A second node under a live member's name: refuse it, keep the member.
        if (u.instance_id != e->instance_id) {
          ++stats.events_conflict;
          SendRefusal(u.addr, u.name, e->m.addr);
        }
        return;
      }
      // A dead member back at another address; it must out-number its old incarnation.
      if (u.incarnation <= e->m.incarnation) return;
      e->m.addr = u.addr;
      ++version;
    } else if (u.incarnation <= e->m.incarnation) {
      return;
    }
    e->m.incarnation = u.incarnation;
    e->instance_id = u.instance_id;
    e->m.last_heard = now;
    CancelSuspicion(*e);
    SetLiveness(*e, Liveness::kAlive, now);
    Broadcast(u);
  }

  void ApplySuspect(Duration now, const Update& u) {
    if (u.name == self.name) {
      if (!left && u.incarnation >= self.incarnation) Refute(u.incarnation);
      return;
    }
    Entry* e = Find(u.name);
    if (e == nullptr || u.incarnation < e->m.incarnation) return;
    if (e->m.liveness == Liveness::kSuspect) {
      // Already suspected: an independent accuser shortens the timeout; pass it on so that
      // others can count it too.
      if (Confirm(*e, u.from)) Broadcast(u);
      return;
    }
    if (e->m.liveness != Liveness::kAlive) return;
    Broadcast(u);
    e->m.incarnation = u.incarnation;
    SetLiveness(*e, Liveness::kSuspect, now);
    StartSuspicion(*e, u.from, now);
    // Someone else's suspicion: check it ourselves at the next probe rather than when the
    // round-robin comes to it, so that confirmations (or the refutation) come early.
    if (u.from != self.name && priority_probes.size() < kMaxPriorityProbes) {
      priority_probes.push_back(u.name);
    }
  }

  void ApplyDead(Duration now, const Update& u) {
    if (u.name == self.name) {
      if (!left && u.incarnation >= self.incarnation) Refute(u.incarnation);
      return;
    }
    Entry* e = Find(u.name);
    if (e == nullptr || u.incarnation < e->m.incarnation) return;
    const Liveness to = u.from == u.name ? Liveness::kLeft : Liveness::kDead;
    if (e->m.liveness == Liveness::kLeft) return;
    if (e->m.liveness == Liveness::kDead && to == Liveness::kDead) return;
    CancelSuspicion(*e);
    Broadcast(u);
    e->m.incarnation = u.incarnation;
    SetLiveness(*e, to, now);
  }

  // `from_gossip`: the update was pushed to us as news (not pulled in a full state), so we
  // tell its member that we know its state. `broadcast`: pass it on.
  void ApplyState(Duration now, const Update& u, bool from_gossip, bool broadcast) {
    lamport = std::max(lamport, u.lamport) + 1;
    if (u.name == self.name) {
      // Only we set our state. A newer or different one is a rumour from a previous run of
      // this node: announce ours again, later than it.
      if (!left && (u.lamport > self.state_lamport ||
                    (u.lamport == self.state_lamport && u.state != self.state))) {
        self.state_lamport = ++lamport;
        Broadcast(SelfState());
      }
      return;
    }
    Entry* e = Find(u.name);
    if (e == nullptr) {
      // News of a member whose alive update has not arrived yet (they travel separately):
      // keep it for when it does, rather than wait for a push/pull.
      auto [it, inserted] = pending_states.try_emplace(u.name, PendingState{u, now});
      if (!inserted && it->second.update.lamport < u.lamport) it->second = PendingState{u, now};
      if (pending_states.size() > kMaxPendingStates) pending_states.erase(pending_states.begin());
      return;
    }
    if (u.lamport <= e->m.state_lamport) return;
    const bool changed = e->m.state != u.state;
    e->m.state = u.state;
    e->m.state_lamport = u.lamport;
    if (broadcast) Broadcast(u);
    if (changed) {
      ++stats.events_update;
      ++version;
    }
    if (from_gossip && !left && e->m.liveness == Liveness::kAlive) {
      Message m = NewMessage(MessageKind::kGossip);
      SendTo(*e, m, true);
    }
  }

  void ApplyUpdate(Duration now, const Update& u) {
    switch (u.kind) {
      case UpdateKind::kAlive:
        return ApplyAlive(now, u);
      case UpdateKind::kSuspect:
        return ApplySuspect(now, u);
      case UpdateKind::kDead:
        return ApplyDead(now, u);
      case UpdateKind::kState:
        return ApplyState(now, u, true, true);
    }
  }

  void Merge(Duration now, const std::vector<MemberRecord>& records,
             const std::string& sender_name) {
    for (const MemberRecord& r : records) {
      const bool known = r.name == self.name || Find(r.name) != nullptr;
      const bool news = known || r.name == sender_name;
      switch (r.liveness) {
        case Liveness::kAlive: {
          Update u;
          u.kind = UpdateKind::kAlive;
          u.name = r.name;
          u.addr = r.addr;
          u.incarnation = r.incarnation;
          u.instance_id = r.instance_id;
          ApplyAlive(now, u, news);
          break;
        }
        case Liveness::kSuspect:
        case Liveness::kDead:
          // Someone else's verdict of death becomes only a suspicion here: the member gets
          // the chance to refute.
          ApplySuspect(now, Accusation(UpdateKind::kSuspect, r.name, r.incarnation, self.name));
          break;
        case Liveness::kLeft:
          ApplyDead(now, Accusation(UpdateKind::kDead, r.name, r.incarnation, r.name));
          break;
      }
      if (r.state_lamport > 0) {
        Update s;
        s.kind = UpdateKind::kState;
        s.name = r.name;
        s.state = r.state;
        s.lamport = r.state_lamport;
        ApplyState(now, s, false, news);
      }
    }
  }

  // A member that has not shown it knows our state gets it directly, so that it does not
  // depend on gossip that may have been lost (AllPeersKnowState waits for it).
  void AddOwnStateIfUnknown(const Entry& peer, Message* m) const {
    if (self.state_lamport > 0 && peer.acked_lamport < self.state_lamport) {
      m->updates.push_back(SelfState());
    }
  }

  // --- message handlers ---

  void OnPing(const Message& msg, Entry* sender) {
    // A ping for another name: a node that used to live at this address.
    if (!msg.target_name.empty() && msg.target_name != self.name) return;
    Message ack = NewMessage(MessageKind::kAck);
    ack.seq = msg.seq;
    if (sender != nullptr) {
      // Tell a member we think badly of, so that it refutes now rather than after gossip finds
      // it.
      if (sender->m.liveness == Liveness::kSuspect) {
        ack.updates.push_back(
            Accusation(UpdateKind::kSuspect, sender->m.name, sender->m.incarnation, self.name));
      } else if (sender->m.liveness == Liveness::kDead) {
        ack.updates.push_back(
            Accusation(UpdateKind::kDead, sender->m.name, sender->m.incarnation, self.name));
      }
    }
    if (sender != nullptr) AddOwnStateIfUnknown(*sender, &ack);
    Send(msg.envelope.sender_addr, msg.envelope.sender_name,
         sender != nullptr ? sender->m.state_lamport : 0, ack, true);
  }

  void OnIndirectPing(Duration now, const Message& msg) {
    const std::uint64_t seq = ++next_seq;
    // The nack must reach the requester before its probe ends, which is one probe timeout
    // after it sent this request (at the earliest): leave room for the way back.
    relays.emplace(seq, Relay{msg.seq, msg.envelope.sender_addr, msg.envelope.sender_name,
                              now + config.probe_timeout * 4 / 5});
    Message ping = NewMessage(MessageKind::kPing);
    ping.seq = seq;
    ping.target_name = msg.target_name;
    const Entry* target = Find(msg.target_name);
    Send(msg.target_addr, msg.target_name, target != nullptr ? target->m.state_lamport : 0, ping,
         true);
  }

  void OnAck(Duration now, const Message& msg) {
    if (auto it = relays.find(msg.seq); it != relays.end()) {
      Relay r = std::move(it->second);
      relays.erase(it);
      Message ack = NewMessage(MessageKind::kAck);
      ack.seq = r.their_seq;
      const Entry* requester = Find(r.name);
      Send(r.addr, r.name, requester != nullptr ? requester->m.state_lamport : 0, ack, true);
      return;
    }
    if (!probe.active || msg.seq != probe.seq || probe.acked) return;
    probe.acked = true;
    probe.active = false;
    if (!probe.indirect_sent) ApplyHealth(-1);
    if (Entry* t = Find(probe.target)) t->m.last_heard = now;
  }

  void OnNack(const Message& msg) {
    if (probe.active && msg.seq == probe.seq) ++probe.nacks;
  }

  void OnJoinRefusal(const Message& msg) {
    if (left || !join_error.ok()) return;
    if (msg.target_name != self.name || msg.target_addr != self.addr) return;
    join_error = base::Status::AlreadyExists(
        "node name \"" + self.name + "\" is already used by a live member at " + msg.existing_addr +
        " (this node advertises " + self.addr + "); every node of the cluster needs a unique name");
  }

  base::Status Receive(Duration now, std::span<const std::uint8_t> bytes) {
    ++stats.messages_received;
    stats.bytes_received += bytes.size();
    base::Result<Message> decoded = DecodeMessage(bytes);
    if (!decoded.ok()) {
      ++stats.messages_refused_malformed;
      return decoded.status();
    }
    const Message& msg = *decoded;
    const Envelope& env = msg.envelope;
    if (env.cluster != config.cluster_name) {
      ++stats.messages_refused_cluster;
      return base::Status::InvalidArgument("message of cluster \"" + env.cluster +
                                           "\" refused; this node is in cluster \"" +
                                           config.cluster_name + "\"");
    }
    if (!join_error.ok()) return base::Status::Ok();  // refused: we are on our way out
    if (msg.kind == MessageKind::kJoinRefusal) {
      // Checked before the sender: the refuser may well carry our own name.
      OnJoinRefusal(msg);
      return base::Status::Ok();
    }
    if (env.sender_name == self.name) {
      if (env.sender_instance == instance_id) return base::Status::Ok();  // our own, looped
      if (env.sender_addr != self.addr && !left) {
        ++stats.events_conflict;
        SendRefusal(env.sender_addr, self.name, self.addr);
        return base::Status::AlreadyExists("node " + self.name + " at " + env.sender_addr +
                                           " uses this node's name; refused");
      }
      return base::Status::Ok();  // a late message of a previous run of this node
    }
    Entry* sender = Find(env.sender_name);
    if (sender != nullptr && sender->m.addr != env.sender_addr && IsLive(sender->m.liveness)) {
      ++stats.events_conflict;
      SendRefusal(env.sender_addr, env.sender_name, sender->m.addr);
      return base::Status::AlreadyExists("node " + env.sender_name + " at " + env.sender_addr +
                                         " conflicts with the member at " + sender->m.addr +
                                         "; refused");
    }
    if (sender != nullptr && sender->m.addr == env.sender_addr &&
        sender->instance_id != env.sender_instance) {
      // The member restarted at the same address. The new run learns its old incarnation from
      // our state and refutes it with a higher one.
      sender->instance_id = env.sender_instance;
      sender->acked_lamport = 0;
    }
    // The sender vouches for itself, under the same rules as its alive update (so a late packet
    // of a member since declared dead changes nothing).
    Update alive;
    alive.kind = UpdateKind::kAlive;
    alive.name = env.sender_name;
    alive.addr = env.sender_addr;
    alive.incarnation = env.sender_incarnation;
    alive.instance_id = env.sender_instance;
    ApplyAlive(now, alive);
    sender = Find(env.sender_name);
    if (sender != nullptr && sender->m.addr != env.sender_addr) sender = nullptr;
    if (sender != nullptr) {
      sender->acked_lamport = std::max(sender->acked_lamport, env.peer_state_lamport);
      if (IsLive(sender->m.liveness)) sender->m.last_heard = now;
    }
    switch (msg.kind) {
      case MessageKind::kPing:
        OnPing(msg, sender);
        break;
      case MessageKind::kIndirectPing:
        OnIndirectPing(now, msg);
        break;
      case MessageKind::kAck:
        OnAck(now, msg);
        break;
      case MessageKind::kNack:
        OnNack(msg);
        break;
      case MessageKind::kPushPullRequest: {
        Merge(now, msg.members, env.sender_name);
        Message resp = NewMessage(MessageKind::kPushPullResponse);
        resp.members = LocalState();
        const Entry* peer = Find(env.sender_name);
        Send(env.sender_addr, env.sender_name,
             peer != nullptr && peer->m.addr == env.sender_addr ? peer->m.state_lamport : 0, resp,
             false);
        break;
      }
      case MessageKind::kPushPullResponse:
        Merge(now, msg.members, env.sender_name);
        break;
      case MessageKind::kJoinRefusal:  // handled above
      case MessageKind::kGossip:
        break;
    }
    for (const Update& u : msg.updates) ApplyUpdate(now, u);
    return base::Status::Ok();
  }

  // --- timers ---

  Entry* NextProbeTarget() {
    while (!priority_probes.empty()) {
      Entry* e = Find(priority_probes.front());
      priority_probes.pop_front();
      if (e != nullptr && e->m.liveness == Liveness::kSuspect) return e;
    }
    bool rebuilt = false;
    while (true) {
      if (probe_index >= probe_list.size()) {
        if (rebuilt) return nullptr;
        // A full round: drop the gone, reshuffle.
        probe_list.clear();
        for (Entry* e : nodes) {
          if (IsLive(e->m.liveness)) probe_list.push_back(e->m.name);
        }
        std::sort(probe_list.begin(), probe_list.end());  // independent of `nodes` order
        for (std::size_t i = probe_list.size(); i > 1; --i) {
          std::swap(probe_list[i - 1], probe_list[random.Uniform(i)]);
        }
        probe_index = 0;
        rebuilt = true;
        if (probe_list.empty()) return nullptr;
      }
      Entry* e = Find(probe_list[probe_index++]);
      if (e != nullptr && IsLive(e->m.liveness)) return e;
    }
  }

  void StartProbe(Duration now) {
    const Duration interval = Scaled(config.probe_interval);
    next_probe_at = now + interval;
    Entry* target = NextProbeTarget();
    if (target == nullptr) return;
    probe = Probe{};
    probe.active = true;
    probe.seq = ++next_seq;
    probe.target = target->m.name;
    probe.incarnation = target->m.incarnation;
    probe.timeout_at = now + Scaled(config.probe_timeout);
    probe.deadline = now + interval;
    Message ping = NewMessage(MessageKind::kPing);
    ping.seq = probe.seq;
    ping.target_name = target->m.name;
    AddOwnStateIfUnknown(*target, &ping);
    SendTo(*target, ping, true);
  }

  void StartIndirect() {
    probe.indirect_sent = true;
    const Entry* target = Find(probe.target);
    if (target == nullptr) return;
    const std::string& target_name = probe.target;
    std::vector<Entry*> peers = RandomNodes(
        static_cast<std::size_t>(std::max(0, config.indirect_checks)), [&](const Entry& e) {
          return e.m.liveness == Liveness::kAlive && e.m.name != target_name;
        });
    for (Entry* p : peers) {
      Message m = NewMessage(MessageKind::kIndirectPing);
      m.seq = probe.seq;
      m.target_name = target->m.name;
      m.target_addr = target->m.addr;
      SendTo(*p, m, true);
    }
    probe.expected_nacks = static_cast<int>(peers.size());
  }

  void FinishProbe(Duration now) {
    probe.active = false;
    if (probe.acked) return;
    // Tick came so late that the probe could not run its course (this node was stalled):
    // blame ourselves, not the target.
    if (!probe.indirect_sent || now - probe.deadline > Scaled(config.probe_interval)) {
      ApplyHealth(1);
      return;
    }
    // Nacks prove the relays could be reached: only missing ones hint at our own trouble.
    ApplyHealth(probe.expected_nacks > 0 ? std::max(0, probe.expected_nacks - probe.nacks) : 1);
    Entry* target = Find(probe.target);
    if (target != nullptr && IsLive(target->m.liveness)) {
      ApplySuspect(now,
                   Accusation(UpdateKind::kSuspect, probe.target, probe.incarnation, self.name));
    }
  }

  void Gossip(Duration now) {
    if (queue.empty()) return;
    const Duration dead_window = config.gossip_interval * kGossipToTheDeadRounds;
    std::vector<Entry*> targets = RandomNodes(
        static_cast<std::size_t>(std::max(0, config.gossip_nodes)), [&](const Entry& e) {
          if (IsLive(e.m.liveness)) return true;
          return e.m.liveness == Liveness::kDead && now - e.liveness_change <= dead_window;
        });
    for (Entry* t : targets) {
      Message m = NewMessage(MessageKind::kGossip);
      if (!SendTo(*t, m, true, true)) break;
    }
  }

  void PushPull() {
    std::vector<Entry*> alive =
        RandomNodes(1, [](const Entry& e) { return e.m.liveness == Liveness::kAlive; });
    if (!alive.empty())
      SendPushPull(alive[0]->m.addr, alive[0]->m.name, alive[0]->m.state_lamport, false);
    // Now and then try a dead member too: after a partition heals this is how the sides find
    // each other again.
    const std::size_t others = (num_live > 0 ? num_live - 1 : 0) + num_dead;
    if (num_dead > 0 && random.Uniform(others) < num_dead) {
      std::vector<Entry*> dead =
          RandomNodes(1, [](const Entry& e) { return e.m.liveness == Liveness::kDead; });
      if (!dead.empty())
        SendPushPull(dead[0]->m.addr, dead[0]->m.name, dead[0]->m.state_lamport, false);
    }
  }

  void Tick(Duration now) {
    if (!join_error.ok()) return;
    while (!relays.empty() && relays.begin()->second.nack_at <= now) {
      Relay r = std::move(relays.begin()->second);
      relays.erase(relays.begin());
      Message nack = NewMessage(MessageKind::kNack);
      nack.seq = r.their_seq;
      const Entry* requester = Find(r.name);
      Send(r.addr, r.name, requester != nullptr ? requester->m.state_lamport : 0, nack, true);
    }
    if (probe.active) {
      if (!probe.indirect_sent && now >= probe.timeout_at && now < probe.deadline) {
        StartIndirect();
      }
      if (now >= probe.deadline) FinishProbe(now);
    }
    if (!left && now >= next_probe_at) StartProbe(now);
    while (!suspicion_timers.empty() && suspicion_timers.begin()->first <= now) {
      const std::string name = suspicion_timers.begin()->second;
      suspicion_timers.erase(suspicion_timers.begin());
      Entry* e = Find(name);
      if (e != nullptr && e->m.liveness == Liveness::kSuspect) {
        ApplyDead(now, Accusation(UpdateKind::kDead, name, e->m.incarnation, self.name));
      }
    }
    if (now >= next_gossip_at) {
      Gossip(now);
      next_gossip_at = After(now, config.gossip_interval);
    }
    if (!left && now >= next_push_pull_at) {
      PushPull();
      next_push_pull_at = After(now, PushPullInterval());
      if (join_follow_ups > 0 && --join_follow_ups > 0) {
        follow_up_delay *= 3;
        next_push_pull_at = std::min(next_push_pull_at, now + follow_up_delay);
      }
    }
    while (!reclaims.empty() && reclaims.front().first <= now) {
      const std::string name = std::move(reclaims.front().second);
      reclaims.pop_front();
      Entry* e = Find(name);
      if (e != nullptr && !IsLive(e->m.liveness) &&
          e->liveness_change + config.dead_reclaim_time <= now) {
        RemoveEntry(*e);
      }
    }
  }

  Duration NextTimer() const {
    if (!join_error.ok()) return kNever;
    Duration t = next_gossip_at;
    if (!left) t = std::min({t, next_probe_at, next_push_pull_at});
    if (probe.active) {
      if (!probe.indirect_sent) t = std::min(t, probe.timeout_at);
      t = std::min(t, probe.deadline);
    }
    if (!relays.empty()) t = std::min(t, relays.begin()->second.nack_at);
    if (!suspicion_timers.empty()) t = std::min(t, suspicion_timers.begin()->first);
    if (!reclaims.empty()) t = std::min(t, reclaims.front().first);
    return t;
  }

  // --- state ---

  MembershipConfig config;
  base::Random& random;
  std::uint64_t instance_id = 0;
  Member self;
  bool left = false;

  std::map<std::string, Entry, std::less<>> members;  // everyone but self
  std::vector<Entry*> nodes;                          // the same, for random picks
  std::size_t num_live = 1;                           // alive or suspect, self included
  std::size_t num_dead = 0;                           // dead (not left) members

  std::vector<std::string> probe_list;
  std::size_t probe_index = 0;
  std::deque<std::string> priority_probes;  // suspects to probe before the round-robin
  Probe probe;
  std::map<std::uint64_t, Relay> relays;  // by our seq; same delay, so ordered by nack_at
  std::set<std::pair<Duration, std::string>> suspicion_timers;
  std::deque<std::pair<Duration, std::string>> reclaims;  // ordered: same delay for all

  Duration next_probe_at{};
  Duration next_gossip_at{};
  Duration next_push_pull_at{};
  int join_follow_ups = 0;  // quick push/pulls left after a Join()
  Duration follow_up_delay{};

  struct PendingState {
    Update update;
    Duration received{};
  };
  std::map<std::string, PendingState, std::less<>> pending_states;  // of members not known yet

  BroadcastQueue queue;
  std::uint64_t next_seq = 0;
  std::uint64_t lamport = 0;
  std::uint64_t version = 1;
  int health = 0;
  MembershipStats stats;
  base::Status join_error;
  std::vector<Outgoing> outgoing;
};

Membership::Membership(MembershipConfig config, base::Random& random, Duration now)
    : impl_(std::make_unique<Impl>(std::move(config), random, now)) {}

Membership::~Membership() = default;

void Membership::Join(Duration now, const std::vector<std::string>& addrs, int max_peers) {
  Impl& d = *impl_;
  if (d.left || !d.join_error.ok()) return;
  std::vector<std::string> candidates;
  std::unordered_set<std::string> seen;
  for (const std::string& a : addrs) {
    if (a.empty() || a == d.self.addr || !seen.insert(a).second) continue;
    candidates.push_back(a);
  }
  for (std::size_t i = candidates.size(); i > 1; --i) {
    std::swap(candidates[i - 1], candidates[d.random.Uniform(i)]);
  }
  if (max_peers > 0 && candidates.size() > static_cast<std::size_t>(max_peers)) {
    candidates.resize(static_cast<std::size_t>(max_peers));
  }
  for (const std::string& a : candidates) d.SendPushPull(a, "", 0, true);
  // A few more exchanges soon (after 1, 3 and 9 follow-up delays), with whichever members we
  // know by then: members that join at the same time as this node are in nobody's join answer
  // to it, and their gossip may miss it.
  if (!candidates.empty() && d.config.push_pull_interval > Duration::zero()) {
    d.join_follow_ups = kJoinFollowUps;
    d.follow_up_delay = d.JoinFollowUpDelay();
    d.next_push_pull_at = std::min(d.next_push_pull_at, now + d.follow_up_delay);
  }
}

base::Status Membership::Receive(Duration now, std::span<const std::uint8_t> bytes) {
  return impl_->Receive(now, bytes);
}

void Membership::Tick(Duration now) { impl_->Tick(now); }

base::Status Membership::SetState(Duration now, NodeState state) {
  (void)now;
  Impl& d = *impl_;
  if (d.left) return base::Status::FailedPrecondition("this node has left the cluster");
  if (state < d.self.state) {
    return base::Status::FailedPrecondition(
        "node state can only move forward (viewer -> participant -> terminating); " +
        std::string(NodeStateName(d.self.state)) + " -> " + std::string(NodeStateName(state)) +
        " refused");
  }
  if (state == d.self.state) return base::Status::Ok();
  d.self.state = state;
  d.self.state_lamport = ++d.lamport;
  ++d.version;
  d.Broadcast(d.SelfState());
  return base::Status::Ok();
}

void Membership::Leave(Duration now) {
  (void)now;
  Impl& d = *impl_;
  if (d.left) return;
  d.left = true;
  d.self.liveness = Liveness::kLeft;
  --d.num_live;
  ++d.version;
  d.probe.active = false;
  const Update leave =
      Impl::Accusation(UpdateKind::kDead, d.self.name, d.self.incarnation, d.self.name);
  d.Broadcast(leave);
  // Tell enough members directly for the news to spread even if this node stops right after.
  const std::size_t fanout = static_cast<std::size_t>(std::max(1, d.config.gossip_nodes)) *
                             static_cast<std::size_t>(d.RetransmitLimit());
  const auto live = [](const Impl::Entry& e) { return IsLive(e.m.liveness); };
  for (Impl::Entry* peer : d.RandomNodes(fanout, live)) {
    Message m = Impl::NewMessage(MessageKind::kGossip);
    m.updates.push_back(leave);
    d.SendTo(*peer, m, true);
  }
}

std::vector<Outgoing> Membership::TakeOutgoing() {
  std::vector<Outgoing> out;
  out.swap(impl_->outgoing);
  return out;
}

Duration Membership::NextTimer() const { return impl_->NextTimer(); }

std::vector<Member> Membership::Members() const {
  const Impl& d = *impl_;
  std::vector<Member> out;
  out.reserve(d.members.size() + 1);
  bool self_added = false;
  for (const auto& [name, e] : d.members) {
    if (!self_added && d.self.name < name) {
      out.push_back(d.self);
      self_added = true;
    }
    out.push_back(e.m);
  }
  if (!self_added) out.push_back(d.self);
  return out;
}

std::vector<std::string> Membership::Participants() const {
  const Impl& d = *impl_;
  std::vector<std::string> out;
  const bool self_participates = !d.left && d.self.state == NodeState::kParticipant;
  bool self_added = !self_participates;
  for (const auto& [name, e] : d.members) {
    if (!self_added && d.self.name < name) {
      out.push_back(d.self.name);
      self_added = true;
    }
    if (IsLive(e.m.liveness) && e.m.state == NodeState::kParticipant) out.push_back(name);
  }
  if (!self_added) out.push_back(d.self.name);
  return out;
}

std::uint64_t Membership::version() const { return impl_->version; }

bool Membership::AllPeersKnowState() const {
  const Impl& d = *impl_;
  for (const auto& [name, e] : d.members) {
    if (e.m.liveness == Liveness::kAlive && e.acked_lamport < d.self.state_lamport) return false;
  }
  return true;
}

std::uint64_t Membership::lamport_time() const { return impl_->lamport; }

int Membership::health_score() const { return impl_->health; }

const MembershipStats& Membership::stats() const { return impl_->stats; }

const base::Status& Membership::join_error() const { return impl_->join_error; }

const MembershipConfig& Membership::config() const { return impl_->config; }

}  // namespace starling::cluster
