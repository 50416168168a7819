#include "cluster/simulator.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>

#include "base/check.h"
#include "base/random.h"

namespace starling::cluster {
namespace {

// Beliefs are stored one byte per (observer, member): the low three bits hold 0 for "not in
// Members()" or liveness + 1 (suspect folded into alive, see the header), the bits above the
// member's NodeState.
constexpr std::uint8_t kUnknownCode = 0;
constexpr std::uint8_t kAliveCode = 1;
constexpr std::uint8_t kDeadCode = 3;
constexpr std::uint8_t kLeftCode = 4;

std::uint8_t Encode(const Member& m) {
  const Liveness lv = m.liveness == Liveness::kSuspect ? Liveness::kAlive : m.liveness;
  return static_cast<std::uint8_t>((static_cast<unsigned>(lv) + 1) |
                                   (static_cast<unsigned>(m.state) << 3));
}
std::uint8_t LivenessCode(std::uint8_t code) { return code & 7; }
bool IsParticipantCode(std::uint8_t code) {
  return LivenessCode(code) == kAliveCode &&
         static_cast<NodeState>(code >> 3) == NodeState::kParticipant;
}

bool Satisfies(std::uint8_t code, SpreadCondition condition) {
  switch (condition) {
    case SpreadCondition::kKnownAlive:
      return LivenessCode(code) == kAliveCode;
    case SpreadCondition::kGone:
      return LivenessCode(code) != kAliveCode;
    case SpreadCondition::kParticipant:
      return IsParticipantCode(code);
    case SpreadCondition::kNotParticipant:
      return !IsParticipantCode(code);
  }
  return false;
}

// SplitMix64's finaliser: turns related inputs (seed, stream, index) into unrelated seeds.
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Independent random streams derived from the one seed.
enum class Stream : std::uint64_t { kNetwork = 1, kScenario = 2, kNode = 3 };

std::uint64_t DeriveSeed(std::uint64_t seed, Stream stream, std::uint64_t index = 0,
                         std::uint64_t generation = 0) {
  return Mix(Mix(Mix(seed ^ Mix(static_cast<std::uint64_t>(stream))) + index) + generation);
}

constexpr std::string_view kNamePrefix = "node-";

// The index in "node-<i>" or "node-<i>:<anything>", or -1.
int ParseIndex(std::string_view s) {
  if (s.substr(0, kNamePrefix.size()) != kNamePrefix) return -1;
  s.remove_prefix(kNamePrefix.size());
  int index = -1;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), index);
  if (ec != std::errc() || index < 0) return -1;
  if (ptr != s.data() + s.size() && *ptr != ':') return -1;
  return index;
}

}  // namespace

std::string_view NodeStatusName(NodeStatus status) {
  switch (status) {
    case NodeStatus::kRunning:
      return "running";
    case NodeStatus::kPaused:
      return "paused";
    case NodeStatus::kKilled:
      return "killed";
    case NodeStatus::kLeft:
      return "left";
  }
  return "unknown";
}

enum class Simulator::EventKind : std::uint8_t { kDeliver, kTick, kAction };

struct Simulator::Event {
  Duration time;
  std::uint64_t seq;
  NodeId node;        // receiver, or ticking node
  NodeId from;        // sender of a delivery
  std::uint32_t aux;  // payload index, tick generation or action index
  EventKind kind;
};

bool Simulator::EventLater::operator()(const Event& a, const Event& b) const {
  if (a.time != b.time) return a.time > b.time;
  return a.seq > b.seq;
}

struct Simulator::Node {
  NodeId id = 0;
  std::string name;
  std::string addr;
  NodeStatus status = NodeStatus::kRunning;
  int restarts = 0;
  int island = 0;  // nodes reach each other only on the same island
  // Declared before the membership, which holds a reference to it.
  std::unique_ptr<base::SeededRandom> random;
  std::unique_ptr<Membership> membership;
  std::uint32_t tick_generation = 0;  // a tick event of another generation is stale
  bool tick_pending = false;
  Duration tick_at = Duration::max();
  std::uint64_t seen_version = ~std::uint64_t{0};
  std::vector<std::uint8_t> beliefs;  // per member, while observing
  std::vector<std::uint32_t> inbox;   // payloads that arrived while paused
  NodeTraffic traffic;
};

Simulator::Simulator(SimulatorConfig config) : config_(std::move(config)) {
  if (config_.membership.cluster_name.empty()) config_.membership.cluster_name = "sim";
  net_random_ = std::make_unique<base::SeededRandom>(DeriveSeed(config_.seed, Stream::kNetwork));
  scenario_random_ =
      std::make_unique<base::SeededRandom>(DeriveSeed(config_.seed, Stream::kScenario));
}

Simulator::~Simulator() = default;

Simulator::Node& Simulator::node(NodeId id) {
  CHECK(id >= 0 && id < size()) << "no node " << id;
  return *nodes_[static_cast<std::size_t>(id)];
}

const Simulator::Node& Simulator::node(NodeId id) const {
  CHECK(id >= 0 && id < size()) << "no node " << id;
  return *nodes_[static_cast<std::size_t>(id)];
}

const std::string& Simulator::name(NodeId id) const { return node(id).name; }
const std::string& Simulator::addr(NodeId id) const { return node(id).addr; }
NodeStatus Simulator::status(NodeId id) const { return node(id).status; }
const Membership& Simulator::membership(NodeId id) const { return *node(id).membership; }
const NodeTraffic& Simulator::traffic(NodeId id) const { return node(id).traffic; }

std::vector<NodeId> Simulator::RunningNodes() const {
  std::vector<NodeId> out;
  out.reserve(static_cast<std::size_t>(running_count_));
  for (const auto& n : nodes_) {
    if (n->status == NodeStatus::kRunning) out.push_back(n->id);
  }
  return out;
}

std::unique_ptr<Membership> Simulator::NewMembership(Node& n) {
  MembershipConfig mc = config_.membership;
  mc.node_name = n.name;
  mc.advertise_addr = n.addr;
  n.membership.reset();  // before the random it refers to
  n.random = std::make_unique<base::SeededRandom>(
      DeriveSeed(config_.seed, Stream::kNode, static_cast<std::uint64_t>(n.id),
                 static_cast<std::uint64_t>(n.restarts)));
  return std::make_unique<Membership>(std::move(mc), *n.random, now_);
}

NodeId Simulator::AddNode() {
  auto n = std::make_unique<Node>();
  n->id = size();
  n->name = std::string(kNamePrefix) + std::to_string(n->id);
  n->addr = n->name + ":" + std::to_string(config_.port);
  n->membership = NewMembership(*n);
  Node& ref = *n;
  nodes_.push_back(std::move(n));
  running_count_++;
  n_alive_.push_back(0);
  n_dead_.push_back(0);
  n_participant_.push_back(0);
  watches_dirty_ = true;
  Settle(ref, /*after_tick=*/false);
  if (watches_dirty_) EvaluateWatches();
  return ref.id;
}

void Simulator::Join(NodeId id, const std::vector<NodeId>& via, int max_peers) {
  Node& n = node(id);
  if (n.status != NodeStatus::kRunning) return;
  std::vector<std::string> addrs;
  addrs.reserve(via.size());
  for (NodeId v : via) addrs.push_back(node(v).addr);
  n.membership->Join(now_, addrs, max_peers);
  Settle(n, false);
  if (watches_dirty_) EvaluateWatches();
}

void Simulator::JoinRandom(NodeId id, int peers) {
  std::vector<NodeId> candidates;
  candidates.reserve(static_cast<std::size_t>(running_count_));
  for (const auto& n : nodes_) {
    if (n->status == NodeStatus::kRunning && n->id != id) candidates.push_back(n->id);
  }
  const std::size_t k = std::min(candidates.size(), static_cast<std::size_t>(std::max(peers, 0)));
  // A partial Fisher-Yates shuffle: the first k are a uniform sample.
  for (std::size_t i = 0; i < k; ++i) {
    const std::size_t j = i + scenario_random_->Uniform(candidates.size() - i);
    std::swap(candidates[i], candidates[j]);
  }
  candidates.resize(k);
  Join(id, candidates, 0);
}

base::Status Simulator::SetState(NodeId id, NodeState state) {
  Node& n = node(id);
  if (n.status != NodeStatus::kRunning) {
    return base::Status::FailedPrecondition(n.name + " is " +
                                            std::string(NodeStatusName(n.status)));
  }
  base::Status s = n.membership->SetState(now_, state);
  Settle(n, false);
  if (watches_dirty_) EvaluateWatches();
  return s;
}

void Simulator::Leave(NodeId id) {
  Node& n = node(id);
  if (n.status != NodeStatus::kRunning) return;
  n.membership->Leave(now_);
  Settle(n, false);
  SetStatus(n, NodeStatus::kLeft);
  if (watches_dirty_) EvaluateWatches();
}

void Simulator::SetStatus(Node& n, NodeStatus status) {
  if (n.status == status) return;
  const bool was_counted = CountsAsObserver(n);
  if (observing_ && was_counted) CountRow(n, -1);
  if (n.status == NodeStatus::kRunning) running_count_--;
  n.status = status;
  if (n.status == NodeStatus::kRunning) running_count_++;
  if (observing_ && CountsAsObserver(n)) CountRow(n, +1);
  if (n.status != NodeStatus::kRunning) {
    n.tick_generation++;
    n.tick_pending = false;
  }
  if (n.status == NodeStatus::kKilled || n.status == NodeStatus::kLeft) {
    for (std::uint32_t p : n.inbox) FreePayload(p);
    n.inbox.clear();
  }
  watches_dirty_ = true;
}

void Simulator::Kill(NodeId id) {
  Node& n = node(id);
  if (n.status == NodeStatus::kKilled || n.status == NodeStatus::kLeft) return;
  SetStatus(n, NodeStatus::kKilled);
  if (watches_dirty_) EvaluateWatches();
}

void Simulator::Restart(NodeId id) {
  Node& n = node(id);
  if (n.status != NodeStatus::kKilled) return;
  n.restarts++;
  n.membership = NewMembership(n);
  n.seen_version = ~std::uint64_t{0};
  SetStatus(n, NodeStatus::kRunning);
  Settle(n, false);
  if (watches_dirty_) EvaluateWatches();
}

void Simulator::Pause(NodeId id) {
  Node& n = node(id);
  if (n.status != NodeStatus::kRunning) return;
  SetStatus(n, NodeStatus::kPaused);
  if (watches_dirty_) EvaluateWatches();
}

void Simulator::Resume(NodeId id) {
  Node& n = node(id);
  if (n.status != NodeStatus::kPaused) return;
  SetStatus(n, NodeStatus::kRunning);
  std::vector<std::uint32_t> inbox = std::move(n.inbox);
  n.inbox.clear();
  for (std::uint32_t p : inbox) {
    // A delivery may have stopped the node again (through an action); drop the rest then.
    if (n.status != NodeStatus::kRunning) {
      FreePayload(p);
      continue;
    }
    Deliver(n, p);
  }
  Settle(n, false);
  if (watches_dirty_) EvaluateWatches();
}

void Simulator::Partition(const std::vector<std::vector<NodeId>>& islands) {
  for (auto& n : nodes_) n->island = 0;
  int island = 0;
  for (const auto& group : islands) {
    ++island;
    for (NodeId id : group) node(id).island = island;
  }
}

void Simulator::Heal() {
  for (auto& n : nodes_) n->island = 0;
}

bool Simulator::Reachable(NodeId a, NodeId b) const { return node(a).island == node(b).island; }

void Simulator::At(Duration when, std::function<void()> action) {
  std::uint32_t index;
  if (!free_actions_.empty()) {
    index = free_actions_.back();
    free_actions_.pop_back();
    actions_[index] = std::move(action);
  } else {
    index = static_cast<std::uint32_t>(actions_.size());
    actions_.push_back(std::move(action));
  }
  Push(std::max(when, now_), EventKind::kAction, -1, -1, index);
}

void Simulator::Push(Duration time, EventKind kind, NodeId node, NodeId from, std::uint32_t aux) {
  queue_.push_back(Event{time, next_seq_++, node, from, aux, kind});
  std::push_heap(queue_.begin(), queue_.end(), EventLater());
}

std::uint32_t Simulator::StorePayload(std::vector<std::uint8_t> bytes) {
  if (!free_payloads_.empty()) {
    const std::uint32_t index = free_payloads_.back();
    free_payloads_.pop_back();
    payloads_[index] = std::move(bytes);
    return index;
  }
  payloads_.push_back(std::move(bytes));
  return static_cast<std::uint32_t>(payloads_.size() - 1);
}

void Simulator::FreePayload(std::uint32_t index) {
  payloads_[index] = {};
  free_payloads_.push_back(index);
}

void Simulator::RunUntil(Duration until) {
  while (!queue_.empty() && queue_.front().time <= until) {
    std::pop_heap(queue_.begin(), queue_.end(), EventLater());
    const Event ev = queue_.back();
    queue_.pop_back();
    now_ = ev.time;
    Process(ev);
  }
  now_ = std::max(now_, until);
}

bool Simulator::RunUntil(Duration deadline, const std::function<bool()>& done) {
  if (done()) return true;
  while (!queue_.empty() && queue_.front().time <= deadline) {
    std::pop_heap(queue_.begin(), queue_.end(), EventLater());
    const Event ev = queue_.back();
    queue_.pop_back();
    now_ = ev.time;
    Process(ev);
    if (done()) return true;
  }
  now_ = std::max(now_, deadline);
  return done();
}

std::optional<Duration> Simulator::RunUntilConverged(Duration deadline, Duration step) {
  CHECK(step > Duration::zero());
  const Duration start = now_;
  while (true) {
    if (Converged()) return now_ - start;
    if (now_ >= deadline) return std::nullopt;
    RunUntil(std::min(deadline, now_ + step));
  }
}

void Simulator::Process(const Event& ev) {
  events_processed_++;
  switch (ev.kind) {
    case EventKind::kDeliver: {
      Node& to = node(ev.node);
      if (to.status == NodeStatus::kKilled || to.status == NodeStatus::kLeft) {
        net_stats_.dropped_down++;
        FreePayload(ev.aux);
      } else if (node(ev.from).island != to.island) {
        net_stats_.dropped_partition++;
        FreePayload(ev.aux);
      } else if (to.status == NodeStatus::kPaused) {
        to.inbox.push_back(ev.aux);
      } else {
        Deliver(to, ev.aux);
      }
      break;
    }
    case EventKind::kTick: {
      Node& n = node(ev.node);
      if (n.status != NodeStatus::kRunning || ev.aux != n.tick_generation) break;
      n.tick_pending = false;
      n.membership->Tick(now_);
      Settle(n, /*after_tick=*/true);
      break;
    }
    case EventKind::kAction: {
      std::function<void()> action = std::move(actions_[ev.aux]);
      actions_[ev.aux] = nullptr;
      free_actions_.push_back(ev.aux);
      action();
      break;
    }
  }
  if (watches_dirty_) EvaluateWatches();
}

void Simulator::Deliver(Node& to, std::uint32_t payload) {
  const std::vector<std::uint8_t>& bytes = payloads_[payload];
  to.traffic.messages_received++;
  to.traffic.bytes_received += bytes.size();
  net_stats_.messages_delivered++;
  net_stats_.bytes_delivered += bytes.size();
  const base::Status s = to.membership->Receive(now_, bytes);
  if (!s.ok()) net_stats_.rejected++;
  FreePayload(payload);
  Settle(to, false);
}

void Simulator::Settle(Node& n, bool after_tick) {
  std::vector<Outgoing> out = n.membership->TakeOutgoing();
  for (Outgoing& o : out) Send(n, o);
  ScheduleTick(n, after_tick);
  if (observing_ && n.membership->version() != n.seen_version) Observe(n);
}

void Simulator::Send(Node& from, Outgoing& out) {
  const std::size_t bytes = out.bytes.size();
  from.traffic.messages_sent++;
  from.traffic.bytes_sent += bytes;
  net_stats_.messages_sent++;
  net_stats_.bytes_sent += bytes;
  // Two draws per message whatever its fate, so that one message's fate does not shift the
  // random numbers of every later one.
  const double draw = net_random_->UniformDouble();
  Duration delay = config_.network.latency;
  const auto jitter = config_.network.jitter.count();
  const std::uint64_t jitter_draw = net_random_->Next();
  if (jitter > 0) delay += Duration(static_cast<Duration::rep>(jitter_draw % jitter));
  const NodeId to = ResolveAddr(out.to_addr);
  if (to < 0) {
    net_stats_.dropped_unknown++;
    return;
  }
  if (draw < config_.network.loss) {
    net_stats_.dropped_loss++;
    return;
  }
  if (node(to).island != from.island) {
    net_stats_.dropped_partition++;
    return;
  }
  Push(now_ + delay, EventKind::kDeliver, to, from.id, StorePayload(std::move(out.bytes)));
}

void Simulator::ScheduleTick(Node& n, bool after_tick) {
  if (n.status != NodeStatus::kRunning) return;
  Duration at = n.membership->NextTimer();
  if (at == Duration::max()) {
    if (n.tick_pending) {
      n.tick_generation++;
      n.tick_pending = false;
    }
    return;
  }
  at = std::max(at, now_);
  // A Tick that leaves its timer due would otherwise be called again and again at the same
  // instant; calling it late is allowed, so wait a millisecond.
  if (after_tick && at <= now_) at = now_ + std::chrono::milliseconds(1);
  if (n.tick_pending && at == n.tick_at) return;
  n.tick_generation++;
  n.tick_pending = true;
  n.tick_at = at;
  Push(at, EventKind::kTick, n.id, n.id, n.tick_generation);
}

NodeId Simulator::ResolveAddr(const std::string& addr) const {
  const int index = ParseIndex(addr);
  if (index < 0 || index >= size() || nodes_[static_cast<std::size_t>(index)]->addr != addr) {
    return -1;
  }
  return index;
}

NodeId Simulator::ResolveName(const std::string& name) const {
  const int index = ParseIndex(name);
  if (index < 0 || index >= size() || nodes_[static_cast<std::size_t>(index)]->name != name) {
    return -1;
  }
  return index;
}

bool Simulator::CountsAsObserver(const Node& n) const { return n.status == NodeStatus::kRunning; }

void Simulator::CountBelief(NodeId member, std::uint8_t code, int sign) {
  const auto m = static_cast<std::size_t>(member);
  switch (LivenessCode(code)) {
    case kAliveCode:
      n_alive_[m] += sign;
      break;
    case kDeadCode:
    case kLeftCode:
      n_dead_[m] += sign;
      break;
    default:
      break;
  }
  if (IsParticipantCode(code)) n_participant_[m] += sign;
}

void Simulator::CountRow(const Node& n, int sign) {
  for (std::size_t m = 0; m < n.beliefs.size(); ++m) {
    if (static_cast<NodeId>(m) != n.id) CountBelief(static_cast<NodeId>(m), n.beliefs[m], sign);
  }
  watches_dirty_ = true;
}

void Simulator::Observe(Node& n) {
  n.seen_version = n.membership->version();
  obs_stats_.observations++;
  const std::vector<Member> members = n.membership->Members();
  scratch_row_.assign(nodes_.size(), kUnknownCode);
  for (const Member& m : members) {
    const NodeId id = ResolveName(m.name);
    if (id >= 0) scratch_row_[static_cast<std::size_t>(id)] = Encode(m);
  }
  n.beliefs.resize(nodes_.size(), kUnknownCode);
  const bool counted = CountsAsObserver(n);
  for (std::size_t m = 0; m < nodes_.size(); ++m) {
    const std::uint8_t before = n.beliefs[m];
    const std::uint8_t after = scratch_row_[m];
    if (before == after) continue;
    n.beliefs[m] = after;
    const auto id = static_cast<NodeId>(m);
    if (id == n.id) continue;
    if (counted) {
      CountBelief(id, before, -1);
      CountBelief(id, after, +1);
      watches_dirty_ = true;
    }
    if (LivenessCode(after) == kDeadCode && LivenessCode(before) != kDeadCode) {
      const Node& target = *nodes_[m];
      if (target.status != NodeStatus::kKilled && target.status != NodeStatus::kLeft) {
        obs_stats_.dead_declarations++;
        if (target.status == NodeStatus::kRunning && target.island == n.island) {
          obs_stats_.false_positives++;
        }
      }
    }
  }
}

void Simulator::SetObserving(bool on) {
  if (on == observing_) return;
  observing_ = on;
  std::fill(n_alive_.begin(), n_alive_.end(), 0);
  std::fill(n_dead_.begin(), n_dead_.end(), 0);
  std::fill(n_participant_.begin(), n_participant_.end(), 0);
  for (auto& n : nodes_) {
    n->beliefs.clear();
    n->seen_version = ~std::uint64_t{0};
  }
  if (!on) return;
  // The first look at each node is a snapshot, not news: take it without counting false
  // positives, then count the rows of the observers.
  const ObservationStats saved = obs_stats_;
  for (auto& n : nodes_) {
    if (n->status == NodeStatus::kRunning || n->status == NodeStatus::kPaused) Observe(*n);
  }
  obs_stats_.false_positives = saved.false_positives;
  obs_stats_.dead_declarations = saved.dead_declarations;
  watches_dirty_ = true;
  EvaluateWatches();
}

Belief Simulator::BeliefOf(NodeId observer, NodeId member) const {
  CHECK(observing_) << "BeliefOf needs observing on";
  const Node& o = node(observer);
  (void)node(member);
  const auto m = static_cast<std::size_t>(member);
  const std::uint8_t code = m < o.beliefs.size() ? o.beliefs[m] : kUnknownCode;
  Belief b;
  if (LivenessCode(code) == kUnknownCode) return b;
  b.known = true;
  b.liveness = static_cast<Liveness>(LivenessCode(code) - 1);
  b.state = static_cast<NodeState>(code >> 3);
  return b;
}

int Simulator::CountSatisfying(NodeId member, SpreadCondition condition) const {
  CHECK(observing_) << "CountSatisfying needs observing on";
  const Node& s = node(member);
  const auto m = static_cast<std::size_t>(member);
  const int observers = running_count_ - (s.status == NodeStatus::kRunning ? 1 : 0);
  switch (condition) {
    case SpreadCondition::kKnownAlive:
      return n_alive_[m];
    case SpreadCondition::kGone:
      return observers - n_alive_[m];
    case SpreadCondition::kParticipant:
      return n_participant_[m];
    case SpreadCondition::kNotParticipant:
      return observers - n_participant_[m];
  }
  return 0;
}

int Simulator::Watch(NodeId subject, SpreadCondition condition) {
  (void)node(subject);
  SetObserving(true);
  SpreadResult w;
  w.subject = subject;
  w.condition = condition;
  w.start = now_;
  watches_.push_back(w);
  active_watches_.push_back(static_cast<int>(watches_.size() - 1));
  watches_dirty_ = true;
  EvaluateWatches();
  return static_cast<int>(watches_.size() - 1);
}

const SpreadResult& Simulator::watch(int id) const {
  CHECK(id >= 0 && static_cast<std::size_t>(id) < watches_.size()) << "no watch " << id;
  return watches_[static_cast<std::size_t>(id)];
}

void Simulator::EvaluateWatches() {
  watches_dirty_ = false;
  if (!observing_) return;
  for (int index : active_watches_) {
    SpreadResult& w = watches_[static_cast<std::size_t>(index)];
    const Node& s = node(w.subject);
    w.nodes = running_count_;
    w.reached = CountSatisfying(w.subject, w.condition);
    if (s.status == NodeStatus::kRunning) {
      const auto m = static_cast<std::size_t>(w.subject);
      const std::uint8_t self = m < s.beliefs.size() ? s.beliefs[m] : kUnknownCode;
      if (Satisfies(self, w.condition)) w.reached++;
    }
    // 99.9% rounded up to whole nodes.
    const std::int64_t need = (std::int64_t{w.nodes} * 999 + 999) / 1000;
    if (!w.p999 && w.reached >= need) w.p999 = now_ - w.start;
    if (!w.all && w.reached >= w.nodes) w.all = now_ - w.start;
  }
  std::erase_if(active_watches_, [this](int index) {
    return watches_[static_cast<std::size_t>(index)].all.has_value();
  });
}

bool Simulator::Converged() const { return !MeasureGap(/*stop_at_first=*/true).any(); }

ConvergenceGap Simulator::Gap() const { return MeasureGap(/*stop_at_first=*/false); }

ConvergenceGap Simulator::MeasureGap(bool stop_at_first) const {
  ConvergenceGap gap;
  std::vector<std::uint8_t> scanned;
  for (const auto& n : nodes_) {
    if (n->status != NodeStatus::kRunning) continue;
    const std::vector<std::uint8_t>* row = &n->beliefs;
    if (!observing_) {
      scanned.assign(nodes_.size(), kUnknownCode);
      for (const Member& m : n->membership->Members()) {
        const NodeId id = ResolveName(m.name);
        if (id >= 0) scanned[static_cast<std::size_t>(id)] = Encode(m);
      }
      row = &scanned;
    }
    for (std::size_t m = 0; m < nodes_.size(); ++m) {
      if (static_cast<NodeId>(m) == n->id) continue;
      const Node& target = *nodes_[m];
      if (target.status == NodeStatus::kPaused) continue;
      const std::uint8_t code = m < row->size() ? (*row)[m] : kUnknownCode;
      if (target.status == NodeStatus::kRunning && target.island == n->island) {
        if (LivenessCode(code) == kUnknownCode) {
          gap.missing++;
        } else if (LivenessCode(code) != kAliveCode) {
          gap.dead++;
        }
      } else if (LivenessCode(code) == kAliveCode) {
        gap.stale++;
      }
      if (stop_at_first && gap.any()) return gap;
    }
  }
  return gap;
}

}  // namespace starling::cluster
