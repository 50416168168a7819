#include "cluster/node.h"

#include <algorithm>
#include <atomic>
#include <utility>

#include "base/logging.h"
#include "base/thread.h"
#include "net/http_client.h"
#include "net/http_server.h"

namespace starling::cluster {
namespace {

using namespace std::chrono_literals;

// How long Start() waits for the first join to be answered.
constexpr std::chrono::seconds kInitialJoinWait(2);
// A node with peers to join that hears from none of them (they may be starting at the same
// moment) asks again this often during the initial wait, and then while it stays alone.
constexpr std::chrono::milliseconds kInitialJoinRetry(250);
constexpr std::chrono::seconds kLoneRejoin(5);

constexpr NodeState kStates[] = {NodeState::kViewer, NodeState::kParticipant,
                                 NodeState::kTerminating};

}  // namespace

// Counters and gauges of the node, registered once; the references stay valid.
struct NodeMetrics {
  explicit NodeMetrics(base::MetricsRegistry& r) {
    auto& info =
        r.AddGaugeFamily("cluster_node_info", "Info about the local node, by state.", {"state"});
    auto& peers = r.AddGaugeFamily("cluster_node_peers",
                                   "Number of members (alive or suspect) in the cluster, by state.",
                                   {"state"});
    for (NodeState s : kStates) {
      std::string name(NodeStateName(s));
      node_info[static_cast<int>(s)] = &info.WithLabels({name});
      node_peers[static_cast<int>(s)] = &peers.WithLabels({name});
    }
    auto& events =
        r.AddCounterFamily("cluster_node_gossip_received_events_total",
                           "Membership events learnt through gossip, by kind.", {"event"});
    events_join = &events.WithLabels({"node_join"});
    events_leave = &events.WithLabels({"node_leave"});
    events_update = &events.WithLabels({"node_update"});
    events_conflict = &events.WithLabels({"node_conflict"});
    ready = &r.AddGauge("cluster_ready_for_traffic",
                        "1 when cluster-aware components own work (the cluster has reached "
                        "--cluster.wait-for-size or the wait timed out), else 0.");
    rx_packets = &r.AddCounter("cluster_transport_rx_packets_total", "Gossip messages received.");
    rx_bytes = &r.AddCounter("cluster_transport_rx_bytes_total", "Bytes of gossip received.");
    tx_packets = &r.AddCounter("cluster_transport_tx_packets_total", "Gossip messages sent.");
    tx_bytes = &r.AddCounter("cluster_transport_tx_bytes_total", "Bytes of gossip sent.");
    tx_failures = &r.AddCounter("cluster_transport_tx_packets_failed_total",
                                "Gossip messages whose delivery failed.");
    rx_refused = &r.AddCounter("cluster_transport_rx_packets_refused_total",
                               "Gossip messages dropped: malformed, or of another cluster.");
  }

  base::Gauge* node_info[3] = {};
  base::Gauge* node_peers[3] = {};
  base::Counter* events_join;
  base::Counter* events_leave;
  base::Counter* events_update;
  base::Counter* events_conflict;
  base::Gauge* ready;
  base::Counter* rx_packets;
  base::Counter* rx_bytes;
  base::Counter* tx_packets;
  base::Counter* tx_bytes;
  base::Counter* tx_failures;
  base::Counter* rx_refused;
  MembershipStats last;  // stats already added to the counters
};

Node::Node(NodeOptions options)
    : options_(std::move(options)),
      own_random_(std::make_unique<base::SeededRandom>(base::MakeRandomFromDevice())),
      client_(std::make_unique<net::HttpClient>()),
      metrics_(std::make_unique<NodeMetrics>(*options_.metrics)),
      inflight_(std::make_shared<std::atomic<int>>(0)) {
  membership_ = std::make_unique<Membership>(options_.membership, *own_random_, Now());
  view_.placement = std::make_shared<const Placement>();
  view_.self = options_.membership.node_name;
  view_.ready = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    RefreshViewLocked(Now());
  }
  // Not under mu_: rendering the registry calls these callbacks, which take mu_.
  RegisterCallbacks();
}

Node::~Node() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  client_.reset();  // fails sends in flight before the state they touch goes
}

std::chrono::nanoseconds Node::Now() const { return options_.clock->Monotonic(); }

void Node::RegisterCallbacks() {
  base::MetricsRegistry& r = *options_.metrics;
  r.AddCallback("cluster_node_lamport_time", "The node's Lamport clock.", base::MetricType::kGauge,
                [this] {
                  std::lock_guard<std::mutex> lock(mu_);
                  return static_cast<double>(membership_->lamport_time());
                });
  r.AddCallback("cluster_node_gossip_health_score",
                "Local health score (Lifeguard): 0 is healthy; higher slows local probing.",
                base::MetricType::kGauge, [this] {
                  std::lock_guard<std::mutex> lock(mu_);
                  return static_cast<double>(membership_->health_score());
                });
}

void Node::RegisterRoutes(net::HttpServer& server) {
  server.Handle("POST", kMessagePath, [this](const net::Request& req) {
    OnMessage(req.body);
    return net::Response::Text(200, "");
  });
}

void Node::Start() {
  thread_ = std::jthread([this](const std::stop_token& stop) { Loop(stop); });
  // Give the first join a moment to find the cluster, so that this node does not own every
  // target on its own before it knows its peers.
  std::unique_lock<std::mutex> lock(mu_);
  joined_.wait_for(lock, kInitialJoinWait + std::chrono::seconds(1),
                   [this] { return initial_join_done_; });
}

void Node::SetParticipant() {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (base::Status s = membership_->SetState(Now(), NodeState::kParticipant); !s.ok()) {
      spdlog::warn("cluster: {}", s.message());
    }
    changed = RefreshViewLocked(Now());
    FlushLocked();
  }
  wake_.notify_all();
  if (changed) NotifySubscribers();
}

void Node::Shutdown() {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (left_) return;
    (void)membership_->SetState(Now(), NodeState::kTerminating);
    changed = RefreshViewLocked(Now());
    FlushLocked();
  }
  wake_.notify_all();
  if (changed) NotifySubscribers();
  spdlog::info("cluster: node {} is terminating", name());

  const auto deadline = Now() + options_.leave_timeout;
  while (Now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (membership_->AllPeersKnowState()) break;
    }
    std::this_thread::sleep_for(20ms);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    membership_->Leave(Now());
    FlushLocked();
    left_ = true;
  }
  thread_.request_stop();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Let the leave messages go out before the process exits.
  const auto flush_deadline = Now() + std::chrono::nanoseconds(1s);
  while (inflight_->load() > 0 && Now() < flush_deadline) std::this_thread::sleep_for(10ms);
  spdlog::info("cluster: node {} left the cluster", name());
}

ClusterView Node::View() const {
  std::lock_guard<std::mutex> lock(mu_);
  return view_;
}

std::vector<Member> Node::Members() const {
  std::lock_guard<std::mutex> lock(mu_);
  return membership_->Members();
}

void Node::Loop(const std::stop_token& stop) {
  base::SetThreadName("cluster");
  std::vector<std::string> join_addrs;
  bool join_due = true;
  bool has_peers = false;  // join_addrs names another node
  std::chrono::nanoseconds last_join{0};
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop.stop_requested()) {
    if (join_due) {
      // Name resolution may block: never with the lock held.
      lock.unlock();
      join_addrs = options_.resolve_join ? options_.resolve_join() : std::vector<std::string>{};
      lock.lock();
      if (join_addrs.empty() && next_rejoin_ == std::chrono::nanoseconds{0}) {
        spdlog::info("cluster: no peers to join; starting a new cluster as {}", name());
      }
      last_join = Now();
      membership_->Join(last_join, join_addrs, options_.max_join_peers);
      has_peers = std::any_of(join_addrs.begin(), join_addrs.end(), [this](const std::string& a) {
        return a != options_.membership.advertise_addr;
      });
      if (!initial_join_done_ && initial_join_deadline_ == std::chrono::nanoseconds{0}) {
        if (!has_peers) {
          FinishInitialJoinLocked();
        } else {
          initial_join_deadline_ = Now() + kInitialJoinWait;
        }
      }
      next_rejoin_ = options_.rejoin_interval > std::chrono::nanoseconds{0}
                         ? Now() + options_.rejoin_interval
                         : std::chrono::nanoseconds::max();
      join_due = false;
    }
    const auto now = Now();
    membership_->Tick(now);
    const bool changed = RefreshViewLocked(now);
    FlushLocked();
    if (!membership_->join_error().ok() && !fatal_reported_) {
      fatal_reported_ = true;
      base::Status err = membership_->join_error();
      lock.unlock();
      spdlog::error("cluster: {}", err.message());
      if (options_.on_fatal) options_.on_fatal(err);
      lock.lock();
    }
    if (changed) {
      lock.unlock();
      NotifySubscribers();
      lock.lock();
    }
    auto next = std::min(membership_->NextTimer(), next_rejoin_);
    if (ready_deadline_ > std::chrono::nanoseconds{0}) next = std::min(next, ready_deadline_);
    if (!initial_join_done_) {
      if (membership_->Members().size() > 1) {
        FinishInitialJoinLocked();
      } else if (Now() >= initial_join_deadline_) {
        spdlog::warn(
            "cluster: no peer answered the join; running as a new cluster until a "
            "rejoin reaches one");
        FinishInitialJoinLocked();
      } else {
        next = std::min(next, initial_join_deadline_);
      }
    }
    auto retry = std::chrono::nanoseconds::max();
    if (has_peers && membership_->Members().size() <= 1) {
      retry = last_join + (initial_join_done_ ? std::chrono::nanoseconds(kLoneRejoin)
                                              : std::chrono::nanoseconds(kInitialJoinRetry));
      next = std::min(next, retry);
    }
    const auto wait = next - Now();
    if (wait > std::chrono::nanoseconds{0}) {
      wake_.wait_for(lock, stop, wait, [] { return false; });
    }
    if (Now() >= next_rejoin_ || Now() >= retry) join_due = true;
  }
}

void Node::FinishInitialJoinLocked() {
  initial_join_done_ = true;
  joined_.notify_all();
}

void Node::OnMessage(const std::string& body) {
  metrics_->rx_packets->Inc();
  metrics_->rx_bytes->Add(static_cast<double>(body.size()));
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto* data = reinterpret_cast<const std::uint8_t*>(body.data());
    if (base::Status s = membership_->Receive(Now(), {data, body.size()}); !s.ok()) {
      metrics_->rx_refused->Inc();
      spdlog::debug("cluster: dropped a message: {}", s.message());
    }
    changed = RefreshViewLocked(Now());
    FlushLocked();
  }
  // The message may have moved a timer earlier (a new probe target, a suspicion).
  wake_.notify_all();
  if (changed) NotifySubscribers();
}

void Node::FlushLocked() {
  for (Outgoing& out : membership_->TakeOutgoing()) {
    net::ClientRequest req;
    req.method = "POST";
    req.url = options_.scheme + "://" + out.to_addr + kMessagePath;
    req.config = options_.client_config;
    req.headers.push_back({"Content-Type", "application/octet-stream"});
    req.body.assign(out.bytes.begin(), out.bytes.end());
    // A message that cannot arrive within a few probe timeouts is useless to SWIM.
    req.timeout = std::chrono::milliseconds(2000);
    metrics_->tx_packets->Inc();
    metrics_->tx_bytes->Add(static_cast<double>(req.body.size()));
    inflight_->fetch_add(1);
    client_->Do(std::move(req), [inflight = inflight_, failures = metrics_->tx_failures,
                                 to = std::move(out.to_addr)](base::Result<net::ClientResponse> r) {
      if (!r.ok() || r->status != 200) {
        failures->Inc();
        // Failures are normal while a peer is down; a TLS misconfiguration shows here too.
        spdlog::debug("cluster: sending to {} failed: {}", to,
                      r.ok() ? "status " + std::to_string(r->status) : r.error().message());
      }
      inflight->fetch_sub(1);
    });
  }
  // Event counters follow the state machine's.
  const MembershipStats& s = membership_->stats();
  MembershipStats& last = metrics_->last;
  metrics_->events_join->Add(static_cast<double>(s.events_join - last.events_join));
  metrics_->events_leave->Add(static_cast<double>(s.events_leave - last.events_leave));
  metrics_->events_update->Add(static_cast<double>(s.events_update - last.events_update));
  metrics_->events_conflict->Add(static_cast<double>(s.events_conflict - last.events_conflict));
  last = s;
}

bool Node::RefreshViewLocked(std::chrono::nanoseconds now) {
  std::vector<std::string> participants = membership_->Participants();
  const int size = static_cast<int>(participants.size());
  bool ready = true;
  ready_deadline_ = std::chrono::nanoseconds{0};
  if (options_.wait_for_size > 0 && size < options_.wait_for_size) {
    if (not_ready_since_ == std::chrono::nanoseconds{0}) not_ready_since_ = now;
    if (options_.wait_timeout > std::chrono::nanoseconds{0}) {
      const auto deadline = not_ready_since_ + options_.wait_timeout;
      ready = now >= deadline;
      if (!ready) ready_deadline_ = deadline;
    } else {
      ready = false;
    }
  } else {
    not_ready_since_ = std::chrono::nanoseconds{0};
  }

  const std::uint64_t version = membership_->version();
  if (version == seen_version_ && ready == view_.ready) return false;
  seen_version_ = version;

  int by_state[3] = {};
  NodeState self_state = NodeState::kViewer;
  for (const Member& m : membership_->Members()) {
    if (m.is_self) self_state = m.state;
    if (m.liveness == Liveness::kAlive || m.liveness == Liveness::kSuspect) {
      ++by_state[static_cast<int>(m.state)];
    }
  }
  for (NodeState st : kStates) {
    const int i = static_cast<int>(st);
    metrics_->node_info[i]->Set(st == self_state ? 1 : 0);
    metrics_->node_peers[i]->Set(by_state[i]);
  }
  metrics_->ready->Set(ready ? 1 : 0);

  if (ready != view_.ready) {
    spdlog::info("cluster: {} ({} of {} participants)",
                 ready ? "ready for traffic" : "waiting for the cluster to reach its size", size,
                 options_.wait_for_size);
  }
  const bool same_peers = participants == view_.placement->peers();
  if (same_peers && ready == view_.ready) return false;
  view_.placement = std::make_shared<const Placement>(std::move(participants));
  view_.ready = ready;
  ++view_.version;
  return true;
}

}  // namespace starling::cluster
