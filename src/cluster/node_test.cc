#include "cluster/node.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "base/testing.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "net/tls_testing.h"

namespace starling::cluster {
namespace {

using namespace std::chrono_literals;

bool Eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return pred();
}

// A node with its own HTTP server on a free loopback port, in this process. `customize`
// adjusts its options before it starts.
struct TestNode {
  TestNode(const std::string& name, const std::string& join_addr,
           const std::function<void(NodeOptions&)>& customize = {},
           const net::HttpServer::Options& server_options = {})
      : server(pool.context(), server_options) {
    EXPECT_TRUE(server.Start().ok());
    NodeOptions o;
    o.membership.cluster_name = "test";
    o.membership.node_name = name;
    o.membership.advertise_addr = server.address();
    o.metrics = &registry;
    o.resolve_join = [join_addr] {
      return join_addr.empty() ? std::vector<std::string>{} : std::vector<std::string>{join_addr};
    };
    if (customize) customize(o);
    node = std::make_unique<Node>(std::move(o));
    node->RegisterRoutes(server);
    subscription = node->Subscribe([this] { ++notifications; });
    node->Start();
  }
  ~TestNode() {
    node->Unsubscribe(subscription);
    server.Stop();
    node.reset();
    pool.Stop();
  }

  net::IoThreadPool pool{1};
  net::HttpServer server;
  base::MetricsRegistry registry;
  std::unique_ptr<Node> node;
  std::uint64_t subscription = 0;
  std::atomic<int> notifications{0};
};

std::vector<std::string> Peers(const TestNode& n) { return n.node->View().placement->peers(); }

TEST(NodeTest, NodesJoinOverHttpAndAgreeOnPlacement) {
  TestNode a("a", "");
  TestNode b("b", a.server.address());
  TestNode c("c", a.server.address());
  // Viewers own nothing.
  EXPECT_TRUE(Peers(a).empty());
  for (TestNode* n : {&a, &b, &c}) n->node->SetParticipant();
  const std::vector<std::string> all = {"a", "b", "c"};
  ASSERT_TRUE(Eventually([&] { return Peers(a) == all && Peers(b) == all && Peers(c) == all; }));
  EXPECT_GT(a.notifications.load(), 0);
  // Every node computes the same owner for every key.
  for (std::uint64_t key = 0; key < 1000; ++key) {
    const ClusterView va = a.node->View();
    const ClusterView vb = b.node->View();
    EXPECT_EQ(va.placement->Owner(key), vb.placement->Owner(key));
    EXPECT_EQ(va.Owns(key) + vb.Owns(key) + c.node->View().Owns(key), 1);
  }
  EXPECT_NE(a.registry.Render().find("cluster_node_peers{state=\"participant\"} 3"),
            std::string::npos);

  // A graceful leave: the others drop it from placement.
  c.node->Shutdown();
  const std::vector<std::string> two = {"a", "b"};
  EXPECT_TRUE(Eventually([&] { return Peers(a) == two && Peers(b) == two; }));
}

// A node whose peer starts after it does not wait for the rejoin interval to find it.
TEST(NodeTest, ALoneNodeKeepsAskingItsPeers) {
  std::uint16_t port = 0;
  {
    net::IoThreadPool pool(1);
    net::HttpServer probe(pool.context(), {});
    ASSERT_TRUE(probe.Start().ok());
    port = probe.port();
  }
  const std::string a_addr = "127.0.0.1:" + std::to_string(port);
  auto no_rejoin = [](NodeOptions& o) { o.rejoin_interval = std::chrono::hours(1); };
  TestNode b("b", a_addr, no_rejoin);  // returns after the initial join wait, alone
  b.node->SetParticipant();
  ASSERT_EQ(Peers(b), std::vector<std::string>{"b"});
  net::HttpServer::Options at_port;
  at_port.port = port;
  TestNode a("a", "", no_rejoin, at_port);
  a.node->SetParticipant();
  const std::vector<std::string> both = {"a", "b"};
  EXPECT_TRUE(Eventually([&] { return Peers(a) == both && Peers(b) == both; }));
}

TEST(NodeTest, WaitForSizeHoldsOwnershipBack) {
  auto wait_for_two = [](NodeOptions& o) { o.wait_for_size = 2; };
  TestNode a("a", "", wait_for_two);
  a.node->SetParticipant();
  EXPECT_FALSE(a.node->View().ready);
  EXPECT_FALSE(a.node->View().Owns(42));
  EXPECT_NE(a.registry.Render().find("cluster_ready_for_traffic 0"), std::string::npos);
  TestNode b("b", a.server.address(), wait_for_two);
  b.node->SetParticipant();
  EXPECT_TRUE(Eventually([&] { return a.node->View().ready && b.node->View().ready; }));
  EXPECT_NE(a.registry.Render().find("cluster_ready_for_traffic 1"), std::string::npos);
}

TEST(NodeTest, DuplicateNameIsFatalForTheNewcomer) {
  TestNode a("a", "");
  a.node->SetParticipant();
  std::atomic<bool> fatal{false};
  // Same name, another address.
  TestNode dup("a", a.server.address(), [&fatal](NodeOptions& o) {
    o.on_fatal = [&fatal](const base::Status&) { fatal = true; };
  });
  EXPECT_TRUE(Eventually([&] { return fatal.load(); }));
}

TEST(NodeTest, MessagesOfAnotherClusterAreRefused) {
  TestNode a("a", "");
  TestNode x("x", a.server.address(), [](NodeOptions& o) { o.membership.cluster_name = "other"; });
  EXPECT_TRUE(Eventually([&] {
    return a.registry.Render().find("cluster_transport_rx_packets_refused_total 0") ==
           std::string::npos;
  }));
  EXPECT_EQ(a.node->Members().size(), 1U);
}

// Nodes with certificates of the cluster's CA form a cluster over HTTPS; a node whose
// certificate another CA signed is refused by their servers (and does not trust theirs), so
// it never becomes a member.
TEST(NodeTest, TlsNodesFormAClusterAndRefuseOtherCas) {
  base::testing::TempDir dir;
  net::testing::TestCa ca(dir.path(), "ca");
  net::testing::TestCa other_ca(dir.path(), "other");
  auto tls_node = [&ca](const std::string& name, const net::testing::CertFiles& cert,
                        const std::string& join_addr) {
    net::HttpServer::Options server;
    server.tls = {.cert_file = cert.cert,
                  .key_file = cert.key,
                  .client_ca_file = ca.cert_file(),
                  .require_client_cert = true};
    auto client = std::make_shared<net::ClientConfig>();
    client->tls = {.ca_file = ca.cert_file(), .cert_file = cert.cert, .key_file = cert.key};
    return std::make_unique<TestNode>(
        name, join_addr,
        [client](NodeOptions& o) {
          o.scheme = "https";
          o.client_config = client;
        },
        server);
  };
  auto a = tls_node("a", ca.Issue("a"), "");
  auto b = tls_node("b", ca.Issue("b"), a->server.address());
  for (TestNode* n : {a.get(), b.get()}) n->node->SetParticipant();
  const std::vector<std::string> both = {"a", "b"};
  ASSERT_TRUE(Eventually([&] { return Peers(*a) == both && Peers(*b) == both; }));

  auto x = tls_node("x", other_ca.Issue("x"), a->server.address());
  x->node->SetParticipant();
  // x's join fails at the TLS handshake.
  ASSERT_TRUE(Eventually([&] {
    return x->registry.Render().find("cluster_transport_tx_packets_failed_total 0") ==
           std::string::npos;
  }));
  EXPECT_EQ(x->node->Members().size(), 1U);
  EXPECT_EQ(a->node->Members().size(), 2U);
  EXPECT_EQ(b->node->Members().size(), 2U);
  EXPECT_EQ(Peers(*a), both);
  EXPECT_EQ(Peers(*x), std::vector<std::string>{"x"});
}

}  // namespace
}  // namespace starling::cluster
