// Clusters of real starling processes on 127.0.0.1 sharing one config: a fixture server in the
// test serves many scrape targets, every node scrapes only the targets it owns, and a real
// Prometheus receives what they write (each node adds its own `node` external label, read from
// its environment). The tests check ownership from each node's API and from the receiver, and
// how ownership moves when nodes crash, leave, pause and join, and that a cluster with mutual
// TLS keeps out a node of another CA. Timings are printed (for the docs and benchmarks), never
// asserted beyond generous deadlines.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "base/testing.h"
#include "common/process.h"
#include "common/prometheus.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "net/tls_testing.h"

namespace starling::test {
namespace {

using namespace std::chrono_literals;
using base::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr int kTargets = 300;

// Serves /t/<id> for any id: one gauge per target.
class FixtureServer {
 public:
  explicit FixtureServer(const std::string& host)
      : pool_(1), server_(pool_.context(), {.host = host}) {
    server_.HandlePrefix("GET", "/t/", [](const net::Request& req) {
      return net::Response::Text(
          200, "# TYPE fixture_value gauge\nfixture_value{id=\"" + req.path_suffix + "\"} 1\n");
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  int port() const { return server_.port(); }

 private:
  net::IoThreadPool pool_;
  net::HttpServer server_;
};

// `service_host`: where the nodes reach the fixture server.
std::string ClusterConfig(const std::string& service_host, int fixture_port,
                          const std::string& write_url) {
  std::string targets;
  for (int i = 0; i < kTargets; ++i) {
    targets += "    {\"__address__\" = \"" + service_host + ":" + std::to_string(fixture_port) +
               "\", \"__metrics_path__\" = \"/t/" + std::to_string(i) + "\", \"tid\" = \"" +
               std::to_string(i) + "\"},\n";
  }
  return "prometheus.scrape \"fixture\" {\n  targets = [\n" + targets +
         "  ]\n  job_name = \"fixture\"\n  scrape_interval = \"1s\"\n  scrape_timeout = \"1s\"\n"
         "  clustering {\n    enabled = true\n  }\n"
         "  forward_to = [prometheus.remote_write.default.receiver]\n}\n"
         "prometheus.remote_write \"default\" {\n"
         "  external_labels = {node = sys.env(\"NODE\")}\n"
         "  endpoint {\n    url = \"" +
         write_url +
         "\"\n    queue_config {\n      batch_send_deadline = \"1s\"\n"
         "      max_backoff = \"1s\"\n    }\n  }\n}\n";
}

// One starling node of the cluster under test.
struct Node {
  std::string name;
  std::string host = "127.0.0.1";
  int port = 0;
  std::unique_ptr<Process> process;
};

class ClusterHarness {
 public:
  // `service_host` is the address at which the nodes reach the fixture server and Prometheus
  // (both listen on all addresses when it is not loopback).
  explicit ClusterHarness(const std::string& service_host = "127.0.0.1")
      : fixture_(service_host == "127.0.0.1" ? service_host : "0.0.0.0"),
        prometheus_(dir_.Path("prometheus"),
                    service_host == "127.0.0.1" ? service_host : "0.0.0.0") {
    prometheus_.Start();
    std::ofstream(dir_.Path("config.river"))
        << ClusterConfig(service_host, fixture_.port(), prometheus_.write_url(service_host));
  }

  // Talks HTTPS to the nodes from now on, with this client configuration (for nodes started
  // with --cluster.enable-tls).
  void UseTls(std::shared_ptr<const net::ClientConfig> config) {
    tls_ = std::move(config);
    client_ = std::make_unique<net::HttpClient>();
  }

  // Starts node `name` at host (on a free port for loopback; in network namespace `netns`
  // if given), joining the first node's address (itself included: normal). `extra_args` are
  // added to its flags.
  Node& Start(const std::string& name, const std::string& host = "127.0.0.1",
              const std::string& netns = "", const std::vector<std::string>& extra_args = {}) {
    Node& n = nodes_[name];
    n.name = name;
    n.host = host;
    if (n.port == 0) n.port = host == "127.0.0.1" ? FreePort() : 12345;
    const std::string addr = host + ":" + std::to_string(n.port);
    if (seed_.empty()) seed_ = addr;
    std::vector<std::string> args = {"run",
                                     dir_.Path("config.river"),
                                     "--server.http.listen-addr=" + addr,
                                     "--storage.path=" + dir_.Path("data-" + name),
                                     "--cluster.enabled",
                                     "--cluster.node-name=" + name,
                                     "--cluster.advertise-address=" + addr,
                                     "--cluster.join-addresses=" + seed_,
                                     "--cluster.rejoin-interval=5s",
                                     "--cluster.name=test"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::string binary = StarlingBinary();
    if (!netns.empty()) {
      args.insert(args.begin(), {"netns", "exec", netns, binary});
      binary = "/usr/sbin/ip";
    }
    n.process = std::make_unique<Process>(binary, args, std::vector<std::string>{"NODE=" + name});
    EXPECT_TRUE(n.process->WaitForStderrLine("now listening for http traffic", 60s).has_value())
        << n.process->stderr_text();
    return n;
  }

  Node& node(const std::string& name) { return nodes_.at(name); }
  void Forget(const std::string& name) { nodes_[name].process.reset(); }

  // GET `path` from node `n`, over HTTPS after UseTls(); status 0 when the request failed.
  HttpReply Get(const Node& n, const std::string& path) {
    if (tls_ == nullptr) return HttpGet(n.host, n.port, path);
    net::ClientRequest req;
    req.url = "https://" + n.host + ":" + std::to_string(n.port) + path;
    req.timeout = 10s;
    req.config = tls_;
    base::Result<net::ClientResponse> r = client_->DoSync(std::move(req));
    if (!r.ok()) return {};
    return {.status = r->status, .body = r->body};
  }

  // The ids of the targets `n` scrapes, from its component API; nullopt when it does not
  // answer.
  std::optional<std::set<int>> Owned(const Node& n) {
    HttpReply r = Get(n, "/api/v0/web/components/prometheus.scrape.fixture");
    if (r.status != 200) return std::nullopt;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    std::set<int> out;
    for (const auto& t : j["debugInfo"]["target"]) {
      out.insert(std::stoi(t["labels"]["tid"].get<std::string>()));
    }
    return out;
  }

  // Owner of each target id among the running nodes; nullopt while ownership is not a
  // partition of all targets (a target owned twice or not at all). A node that does not
  // answer (crashed, stopped, exiting) owns nothing.
  std::optional<std::map<int, std::string>> Owners(const std::set<std::string>& among = {}) {
    std::map<int, std::string> owners;
    for (auto& [name, n] : nodes_) {
      if (n.process == nullptr || (!among.empty() && !among.contains(name))) continue;
      std::optional<std::set<int>> owned = Owned(n);
      if (!owned.has_value()) continue;
      for (int id : *owned) {
        if (!owners.emplace(id, name).second) return std::nullopt;
      }
    }
    if (static_cast<int>(owners.size()) != kTargets) return std::nullopt;
    return owners;
  }

  // Peers as node `n` lists them: name -> state.
  std::map<std::string, std::string> Peers(const Node& n) {
    std::map<std::string, std::string> out;
    HttpReply r = Get(n, "/api/v0/web/peers");
    if (r.status != 200) return out;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded()) return out;
    for (const auto& p : j) out[p["name"].get<std::string>()] = p["state"].get<std::string>();
    return out;
  }

  // Whether every running node (of `among`, if given) lists exactly those nodes, all
  // participants.
  bool Converged(const std::set<std::string>& among = {}) {
    std::map<std::string, std::string> want;
    for (auto& [name, n] : nodes_) {
      if (n.process != nullptr && (among.empty() || among.contains(name))) {
        want[name] = "participant";
      }
    }
    for (auto& [name, n] : nodes_) {
      if (want.contains(name) && Peers(n) != want) return false;
    }
    return true;
  }

  // Polls until ownership is a partition of the targets; returns it and how long that took.
  std::pair<std::optional<std::map<int, std::string>>, double> WaitForOwners(
      const std::function<bool(const std::map<int, std::string>&)>& accept, Clock::time_point since,
      std::chrono::seconds deadline = 60s) {
    const auto end = Clock::now() + deadline;
    while (Clock::now() < end) {
      std::optional<std::map<int, std::string>> owners = Owners();
      if (owners.has_value() && accept(*owners)) {
        return {owners, std::chrono::duration<double>(Clock::now() - since).count()};
      }
      std::this_thread::sleep_for(50ms);
    }
    return {std::nullopt, 0};
  }

  const PrometheusServer& prometheus() const { return prometheus_; }

 private:
  TempDir dir_;
  FixtureServer fixture_;
  PrometheusServer prometheus_;
  std::map<std::string, Node> nodes_;
  std::string seed_;  // the first node's address, which every node joins
  std::shared_ptr<const net::ClientConfig> tls_;  // set by UseTls()
  std::unique_ptr<net::HttpClient> client_;       // for HTTPS
};

std::set<std::string> OwnerNames(const std::map<int, std::string>& owners) {
  std::set<std::string> out;
  for (const auto& [id, name] : owners) out.insert(name);
  return out;
}

int Changed(const std::map<int, std::string>& a, const std::map<int, std::string>& b) {
  int n = 0;
  for (const auto& [id, name] : a) n += b.at(id) != name ? 1 : 0;
  return n;
}

// Each target's recent samples at the receiver come from exactly one node, and every target
// has some.
bool ReceiverSeesEachTargetFromOneNode(const PrometheusServer& prometheus) {
  std::optional<nlohmann::json> per_target =
      prometheus.Query("count by (tid) (timestamp(up{job=\"fixture\"}) > time() - 5)");
  if (!per_target.has_value()) return false;
  int once = 0;
  for (const auto& s : *per_target) {
    if (s["value"][1].get<std::string>() == "1") ++once;
  }
  std::printf("receiver: %zu targets with recent samples, %d of them from one node\n",
              per_target->size(), once);
  return once == kTargets;
}

// Targets per node of three, printed; each node has a fair share (a loose bound: 300 keys
// over 3 nodes).
std::map<std::string, int> CheckLoad(const std::map<int, std::string>& owners,
                                     const std::string& tag) {
  std::map<std::string, int> load;
  for (const auto& [id, name] : owners) ++load[name];
  for (const auto& [name, n] : load) {
    std::printf("%snode %s owns %d of %d targets\n", tag.c_str(), name.c_str(), n, kTargets);
    EXPECT_GT(n, kTargets / 6);
  }
  return load;
}

TEST(Cluster, ThreeNodesShareTargetsAndTheReceiverSeesEachOnce) {
  ClusterHarness h;
  for (const char* name : {"a", "b", "c"}) h.Start(name);
  ASSERT_TRUE(Eventually([&] { return h.Converged(); }, 60s));
  auto [owners, secs] =
      h.WaitForOwners([](const auto& o) { return OwnerNames(o).size() == 3; }, Clock::now());
  ASSERT_TRUE(owners.has_value());
  const std::map<std::string, int> load = CheckLoad(*owners, "");
  // Any node's targets API names, for every target, the node that really scrapes it, and its
  // peers API counts them.
  HttpReply r = h.Get(h.node("b"), "/api/v0/web/targets");
  ASSERT_EQ(r.status, 200);
  auto targets = nlohmann::json::parse(r.body);
  ASSERT_EQ(static_cast<int>(targets.size()), kTargets);
  for (const auto& t : targets) {
    const int tid = std::stoi(t["labels"]["tid"].get<std::string>());
    EXPECT_EQ(t["owner"], owners->at(tid)) << tid;
  }
  // Each node reports the scrape state of exactly the targets it scrapes. Any one scrape may
  // time out on a loaded machine, so a scrape that happened counts whatever its health.
  EXPECT_TRUE(Eventually(
      [&] {
        HttpReply own = h.Get(h.node("b"), "/api/v0/web/targets");
        if (own.status != 200) return false;
        int scraped = 0;
        for (const auto& t : nlohmann::json::parse(own.body)) {
          if (t["isSelf"] != t.contains("scrape")) return false;
          if (t.contains("scrape") && t["scrape"]["health"] != "unknown") ++scraped;
        }
        return scraped == load.at("b");
      },
      60s));
  r = h.Get(h.node("c"), "/api/v0/web/peers");
  for (const auto& p : nlohmann::json::parse(r.body)) {
    EXPECT_EQ(p["targets"], load.at(p["name"].get<std::string>())) << p.dump();
  }
  EXPECT_TRUE(Eventually([&] { return ReceiverSeesEachTargetFromOneNode(h.prometheus()); }, 60s));
}

TEST(Cluster, FiveNodesTakeOverOnCrashLeavePauseAndJoin) {
  ClusterHarness h;
  const std::vector<std::string> names = {"n1", "n2", "n3", "n4", "n5"};
  for (const std::string& name : names) h.Start(name);
  ASSERT_TRUE(Eventually([&] { return h.Converged(); }, 60s));
  auto [before, unused] =
      h.WaitForOwners([](const auto& o) { return OwnerNames(o).size() == 5; }, Clock::now());
  ASSERT_TRUE(before.has_value());

  // kill -9: the survivors take the dead node's targets over.
  auto t0 = Clock::now();
  h.node("n5").process->Signal(SIGKILL);
  h.Forget("n5");
  auto [after_kill, kill_secs] =
      h.WaitForOwners([](const auto& o) { return !OwnerNames(o).contains("n5"); }, t0);
  ASSERT_TRUE(after_kill.has_value());
  std::printf("kill -9 at N=5: survivors own every target after %.2f s\n", kill_secs);
  // Only the dead node's targets moved.
  for (const auto& [id, name] : *before) {
    if (name != "n5") {
      EXPECT_EQ(after_kill->at(id), name) << id;
    }
  }

  // SIGTERM: the node goes terminating and its targets move before it exits.
  t0 = Clock::now();
  h.node("n4").process->Signal(SIGTERM);
  auto [after_term, term_secs] =
      h.WaitForOwners([](const auto& o) { return !OwnerNames(o).contains("n4"); }, t0);
  ASSERT_TRUE(after_term.has_value());
  std::printf("graceful leave at N=4: survivors own every target after %.2f s\n", term_secs);
  ASSERT_TRUE(h.node("n4").process->Wait(30s).has_value());
  h.Forget("n4");
  EXPECT_TRUE(Eventually([&] { return h.Converged(); }, 60s));

  // A node joins (3 -> 4): about a quarter of the targets move, all to it.
  h.Start("n6");
  auto [after_join, join_secs] =
      h.WaitForOwners([](const auto& o) { return OwnerNames(o).contains("n6"); }, Clock::now());
  ASSERT_TRUE(after_join.has_value());
  ASSERT_TRUE(Eventually([&] { return h.Converged(); }, 60s));
  std::tie(after_join, join_secs) = h.WaitForOwners([](const auto&) { return true; }, Clock::now());
  ASSERT_TRUE(after_join.has_value());
  const int moved = Changed(*after_term, *after_join);
  std::printf("join 3 -> 4: %d of %d targets moved (ideal %d)\n", moved, kTargets, kTargets / 4);
  EXPECT_GT(moved, 0);
  EXPECT_LE(moved, kTargets / 4 * 3 / 2);
  for (const auto& [id, name] : *after_join) {
    if (name != after_term->at(id)) {
      EXPECT_EQ(name, "n6") << id;
    }
  }

  // SIGSTOP for a few seconds, then SIGCONT: the node refutes any suspicion and is a
  // participant again, and ownership is a partition once more.
  h.node("n2").process->Signal(SIGSTOP);
  std::this_thread::sleep_for(4s);
  h.node("n2").process->Signal(SIGCONT);
  EXPECT_TRUE(Eventually([&] { return h.Converged(); }, 60s));
  auto [after_pause, pause_secs] =
      h.WaitForOwners([](const auto& o) { return OwnerNames(o).contains("n2"); }, Clock::now());
  EXPECT_TRUE(after_pause.has_value());
  EXPECT_TRUE(Eventually([&] { return ReceiverSeesEachTargetFromOneNode(h.prometheus()); }, 60s));
}

// Three nodes with mutual TLS form a cluster and split the targets. A node whose certificate
// another CA signed cannot join: its peers' servers refuse its certificate, and it does not
// trust theirs. The certificates name no address, only a DNS name, so peers verify each other
// through --cluster.tls-server-name.
TEST(Cluster, TlsNodesShareTargetsAndKeepOutAnotherCa) {
  TempDir pki;
  net::testing::TestCa ca(pki.path(), "ca");
  net::testing::TestCa other_ca(pki.path(), "other");
  const std::vector<std::string> names = {"DNS:starling.test"};
  auto tls_args = [&ca](const net::testing::CertFiles& cert) {
    return std::vector<std::string>{
        "--cluster.enable-tls", "--cluster.tls-ca-path=" + ca.cert_file(),
        "--cluster.tls-cert-path=" + cert.cert, "--cluster.tls-key-path=" + cert.key,
        "--cluster.tls-server-name=starling.test"};
  };
  const net::testing::CertFiles operator_cert = ca.Issue("operator", names);
  auto config = std::make_shared<net::ClientConfig>();
  config->tls = {.ca_file = ca.cert_file(),
                 .cert_file = operator_cert.cert,
                 .key_file = operator_cert.key,
                 .server_name = "starling.test"};

  ClusterHarness h;
  h.UseTls(config);
  for (const char* name : {"a", "b", "c"})
    h.Start(name, "127.0.0.1", "", tls_args(ca.Issue(name, names)));
  ASSERT_TRUE(Eventually([&] { return h.Converged(); }, 60s));
  auto [owners, secs] =
      h.WaitForOwners([](const auto& o) { return OwnerNames(o).size() == 3; }, Clock::now());
  ASSERT_TRUE(owners.has_value());
  CheckLoad(*owners, "TLS: ");

  // The port serves HTTPS only: a plain HTTP client is told so, and a client without a
  // certificate of the CA is refused.
  net::HttpClient client;
  const std::string address = "127.0.0.1:" + std::to_string(h.node("a").port);
  base::Result<net::ClientResponse> plain =
      client.DoSync({.url = "http://" + address + "/metrics"});
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_EQ(plain->status, 400);
  auto no_cert = std::make_shared<net::ClientConfig>();
  no_cert->tls = {.ca_file = ca.cert_file(), .server_name = "starling.test"};
  EXPECT_FALSE(client.DoSync({.url = "https://" + address + "/metrics", .config = no_cert}).ok());

  const std::set<std::string> members = {"a", "b", "c"};
  Node& x = h.Start("x", "127.0.0.1", "", tls_args(other_ca.Issue("x", names)));
  EXPECT_NE(x.process->stderr_text().find("no peer answered the join"), std::string::npos)
      << x.process->stderr_text();
  // Past x's first rejoin (--cluster.rejoin-interval=5s), the members never list it.
  const auto until = Clock::now() + 7s;
  while (Clock::now() < until) {
    for (const std::string& name : members) {
      EXPECT_FALSE(h.Peers(h.node(name)).contains("x")) << name;
    }
    std::this_thread::sleep_for(250ms);
  }
  EXPECT_TRUE(h.Converged(members));
}

// Network namespaces for a partition: a "router" namespace with two bridges (side A on
// 10.77.1.0/24, side B on 10.77.2.0/24) and one namespace per node, wired to one bridge by a
// veth pair. The router forwards between the sides; turning its forwarding off splits them,
// while both keep reaching the router's own addresses, where the fixture server and
// Prometheus listen. Everything lives in namespaces this test creates and deletes.
class NetnsLab {
 public:
  NetnsLab(int nodes, int side_b)
      : prefix_("st" + std::to_string(getpid() % 100000)), side_b_(side_b) {
    router_ = prefix_ + "r";
    ok_ = Run("ip netns add " + router_) && Run("ip -n " + router_ + " link set lo up");
    for (const char* side : {"1", "2"}) {
      const std::string br = std::string("br") + side;
      ok_ = ok_ && Run("ip -n " + router_ + " link add " + br + " type bridge") &&
            Run("ip -n " + router_ + " addr add 10.77." + side + ".1/24 dev " + br) &&
            Run("ip -n " + router_ + " link set " + br + " up");
    }
    ok_ = ok_ && SetForwarding(true);
    for (int i = 1; ok_ && i <= nodes; ++i) {
      const std::string ns = Namespace(i);
      const std::string side = Side(i);
      const std::string veth = "v" + std::to_string(i);
      namespaces_.push_back(ns);
      ok_ = Run(Join("ip netns add ", ns)) && Run(Join("ip -n ", ns, " link set lo up")) &&
            Run(Join("ip -n ", router_, " link add ", veth, " type veth peer name eth0 netns ",
                     ns)) &&
            Run(Join("ip -n ", router_, " link set ", veth, " master br", side)) &&
            Run(Join("ip -n ", router_, " link set ", veth, " up")) &&
            Run(Join("ip -n ", ns, " addr add ", Address(i), "/24 dev eth0")) &&
            Run(Join("ip -n ", ns, " link set eth0 up")) &&
            Run(Join("ip -n ", ns, " route add default via 10.77.", side, ".1"));
    }
  }
  ~NetnsLab() {
    for (const std::string& ns : namespaces_) Run("ip netns del " + ns);
    Run("ip netns del " + router_);
  }

  bool ok() const { return ok_; }
  std::string Namespace(int i) const { return prefix_ + "n" + std::to_string(i); }
  std::string Address(int i) const { return "10.77." + Side(i) + "." + std::to_string(10 + i); }
  // Moves this thread (and the threads and processes it starts later) into the router.
  bool EnterRouter() const {
    int fd = open(("/var/run/netns/" + router_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool entered = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    return entered;
  }
  bool SetForwarding(bool on) const {
    return Run("ip netns exec " + router_ + " sysctl -qw net.ipv4.ip_forward=" + (on ? "1" : "0"));
  }

 private:
  // Nodes 1..side_b are on side B (bridge 2), the others on side A (bridge 1).
  std::string Side(int i) const { return i <= side_b_ ? "2" : "1"; }
  template <class... Parts>
  static std::string Join(const Parts&... parts) {
    std::string out;
    (out += ... += parts);
    return out;
  }
  static bool Run(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
  }

  std::string prefix_;
  int side_b_;
  std::string router_;
  bool ok_ = false;
  std::vector<std::string> namespaces_;
};

// Two of five nodes are cut off for 30 s: both sides keep scraping every target during the
// split (each side owns them all), and after the heal the cluster is one again, with every
// target owned once.
TEST(Cluster, PartitionedSidesEachScrapeEverythingAndMergeAfter) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to create network namespaces";
  NetnsLab lab(5, /*side_b=*/2);
  if (!lab.ok()) GTEST_SKIP() << "could not create network namespaces with ip netns";
  ASSERT_TRUE(lab.EnterRouter());
  ClusterHarness h("10.77.1.1");
  std::vector<std::string> names;
  for (int i = 1; i <= 5; ++i) {
    names.push_back("p" + std::to_string(i));
    h.Start(names.back(), lab.Address(i), lab.Namespace(i));
  }
  ASSERT_TRUE(Eventually([&] { return h.Converged(); }, 60s));
  ASSERT_TRUE(h.WaitForOwners([](const auto& o) { return OwnerNames(o).size() == 5; }, Clock::now())
                  .first.has_value());

  const std::set<std::string> side_b = {"p1", "p2"};
  const std::set<std::string> side_a = {"p3", "p4", "p5"};
  ASSERT_TRUE(lab.SetForwarding(false));
  const auto split = Clock::now();
  // Each side declares the other dead and takes every target.
  EXPECT_TRUE(Eventually([&] { return h.Converged(side_a) && h.Converged(side_b); }, 60s));
  EXPECT_TRUE(Eventually([&] { return h.Owners(side_a).has_value(); }, 60s));
  EXPECT_TRUE(Eventually([&] { return h.Owners(side_b).has_value(); }, 60s));
  std::printf("partition: each side owns every target after %.2f s\n",
              std::chrono::duration<double>(Clock::now() - split).count());
  std::this_thread::sleep_until(split + 30s);
  EXPECT_TRUE(h.Owners(side_a).has_value());
  EXPECT_TRUE(h.Owners(side_b).has_value());

  ASSERT_TRUE(lab.SetForwarding(true));
  const auto heal = Clock::now();
  EXPECT_TRUE(Eventually([&] { return h.Converged() && h.Owners().has_value(); }, 120s));
  std::printf("partition healed: one cluster, every target owned once after %.2f s\n",
              std::chrono::duration<double>(Clock::now() - heal).count());
}

}  // namespace
}  // namespace starling::test
