#pragma once

// Node: the agent's member of the cluster. It drives a Membership state machine with the real
// clock and transport: gossip messages travel as HTTP POSTs to /api/v0/cluster/message on the
// agent's own HTTP port (Beast on the server side, the keep-alive libcurl client on the other),
// one message per request. It joins at start, rejoins every rejoin_interval (which heals a
// split brain), and serves the ClusterView that cluster-aware components read. While it has
// peers to join but hears from none (nodes started together, or it came up first), it asks
// again every 250 ms during the initial join wait and every 5 s after it.
//
// With TLS (NodeOptions::scheme "https"), the port serves HTTPS that requires a client
// certificate of the cluster's CA, and the node sends with such a certificate, so only its
// holders take part.
//
// Lifecycle: Start() -> SetParticipant() once the first config loaded -> Shutdown() on SIGTERM
// (terminating is broadcast, peers take over at once, then the node leaves).
//
// Thread-safety: all methods are thread-safe.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "base/status.h"
#include "cluster/cluster.h"
#include "cluster/membership.h"

namespace starling::net {
class HttpClient;
class HttpServer;
struct ClientConfig;
}  // namespace starling::net

namespace starling::cluster {

struct NodeMetrics;

// The path of the gossip transport on the HTTP port.
inline constexpr char kMessagePath[] = "/api/v0/cluster/message";

struct NodeOptions {
  MembershipConfig membership;
  // Returns the current join addresses ("host:port"), resolving names again on each call;
  // called at start and on every rejoin. Errors are logged; an empty list starts a new cluster.
  std::function<std::vector<std::string>()> resolve_join;
  int max_join_peers = 5;                                               // 0: all
  std::chrono::nanoseconds rejoin_interval = std::chrono::seconds(60);  // 0: never
  // Cluster-aware components own nothing until this many participants are known, or until
  // wait_timeout passes (0: wait as long as it takes). 0: no wait.
  int wait_for_size = 0;
  std::chrono::nanoseconds wait_timeout{0};
  // How long Shutdown() waits for peers to learn that this node is terminating.
  std::chrono::nanoseconds leave_timeout = std::chrono::seconds(5);
  base::Clock* clock = &base::Clock::Real();
  base::MetricsRegistry* metrics = nullptr;  // required
  // Called once, from the node's thread, when a peer refused this node (a duplicate name).
  std::function<void(const base::Status&)> on_fatal;
  // How gossip reaches peers: "http", or "https" when their HTTP servers serve TLS. The client
  // configuration carries the CA that peers' certificates are verified against, this node's
  // certificate and key, and the server name to verify (null: defaults).
  std::string scheme = "http";
  std::shared_ptr<const net::ClientConfig> client_config;
};

class Node final : public Cluster {
 public:
  explicit Node(NodeOptions options);
  ~Node() override;  // stops without leaving (as a crash would)
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Adds the transport route to `server` (which may already be running).
  void RegisterRoutes(net::HttpServer& server);
  // Starts the node's thread and joins the cluster; waits (at most a few seconds) until a
  // peer answered, when there are peers to join.
  void Start();
  // The node takes part in placement from now on (after the first successful config load).
  void SetParticipant();
  // Goes terminating, waits until every peer knows it (at most leave_timeout), leaves and
  // stops. Idempotent.
  void Shutdown();

  ClusterView View() const override;
  std::vector<Member> Members() const override;
  const std::string& name() const { return options_.membership.node_name; }

 private:
  void Loop(const std::stop_token& stop);
  void OnMessage(const std::string& body);
  // Sends what the state machine produced and updates the event counters. mu_ held.
  void FlushLocked();
  // Recomputes the view (participants, readiness) and the gauges; returns whether the view
  // changed. mu_ held.
  bool RefreshViewLocked(std::chrono::nanoseconds now);
  void RegisterCallbacks();
  void FinishInitialJoinLocked();
  std::chrono::nanoseconds Now() const;

  const NodeOptions options_;
  std::unique_ptr<base::Random> own_random_;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<NodeMetrics> metrics_;
  std::shared_ptr<std::atomic<int>> inflight_;  // sends not yet answered

  mutable std::mutex mu_;
  std::condition_variable_any wake_;
  std::unique_ptr<Membership> membership_;             // guarded by mu_
  ClusterView view_;                                   // guarded by mu_
  std::uint64_t seen_version_ = ~std::uint64_t{0};     // guarded by mu_
  std::chrono::nanoseconds not_ready_since_{0};        // guarded by mu_
  std::chrono::nanoseconds ready_deadline_{0};         // guarded by mu_; 0: none
  std::chrono::nanoseconds next_rejoin_{0};            // guarded by mu_
  bool fatal_reported_ = false;                        // guarded by mu_
  bool left_ = false;                                  // guarded by mu_
  bool initial_join_done_ = false;                     // guarded by mu_
  std::chrono::nanoseconds initial_join_deadline_{0};  // guarded by mu_
  std::condition_variable_any joined_;

  std::jthread thread_;
};

}  // namespace starling::cluster
