#include "cluster/join.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/utsname.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "net/dns_testing.h"

namespace starling::cluster {
namespace {

using ::testing::HasSubstr;
using K = net::DnsRecord::Kind;

// Answers from tables; a name listed in `fail_*` fails that lookup. Counts lookups.
class FakeResolver final : public JoinResolver {
 public:
  std::map<std::string, std::vector<std::string>> a, aaaa;
  std::map<std::string, std::vector<net::DnsRecord>> srv;
  std::vector<std::string> fail_a, fail_aaaa, fail_srv;
  int lookups = 0;

  base::Result<std::vector<std::string>> LookupA(const std::string& host) override {
    return Find(a, fail_a, host, "A");
  }
  base::Result<std::vector<std::string>> LookupAaaa(const std::string& host) override {
    return Find(aaaa, fail_aaaa, host, "AAAA");
  }
  base::Result<std::vector<net::DnsRecord>> LookupSrv(const std::string& name) override {
    return Find(srv, fail_srv, name, "SRV");
  }

 private:
  template <typename T>
  base::Result<std::vector<T>> Find(const std::map<std::string, std::vector<T>>& table,
                                    const std::vector<std::string>& fail, const std::string& name,
                                    const std::string& type) {
    ++lookups;
    if (std::find(fail.begin(), fail.end(), name) != fail.end()) {
      return base::Status::Unavailable(type + " lookup of " + name + " failed");
    }
    auto it = table.find(name);
    if (it == table.end()) return std::vector<T>{};
    return it->second;
  }
};

FakeResolver MakeFake() {
  FakeResolver r;
  r.a = {{"peers.test", {"10.0.0.1", "10.0.0.2"}},
         {"n1.peers.test", {"10.0.1.1"}},
         {"n2.peers.test", {"10.0.1.2"}},
         {"dup.test", {"10.0.0.1"}}};
  r.aaaa = {{"peers.test", {"fd00::1"}}, {"v6.test", {"fd00::6"}}, {"n2.peers.test", {"fd00::12"}}};
  r.srv = {
      {"_peers._tcp.test", {{K::kSrv, "n1.peers.test.", 7001}, {K::kSrv, "n2.peers.test.", 7002}}},
      {"_ips._tcp.test", {{K::kSrv, "10.10.10.10", 12345}, {K::kSrv, "10.10.10.11", 12346}}},
      {"_dangling._tcp.test", {{K::kSrv, "gone.test.", 7000}}},
      {"_none._tcp.test", {{K::kSrv, ".", 0}}}};
  r.fail_a = {"broken.test", "halfbroken.test"};
  r.fail_aaaa = {"broken.test"};
  r.aaaa["halfbroken.test"] = {"fd00::99"};
  r.fail_srv = {"broken.test", "_broken._tcp.test"};
  return r;
}

TEST(JoinTest, SplitCommaList) {
  struct Case {
    std::string in;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"", {}}, {" , ,", {}}, {"a", {"a"}}, {"a,b", {"a", "b"}}, {" a , b ,, c ", {"a", "b", "c"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(SplitCommaList(c.in), c.want);
  }
}

TEST(JoinTest, ParseJoinAddress) {
  using M = JoinAddress::Mode;
  struct Case {
    std::string in;
    JoinAddress want;
  };
  const std::vector<Case> cases = {
      {"10.0.0.1", {M::kAuto, "10.0.0.1", 0}},
      {" 10.0.0.1:8888 ", {M::kAuto, "10.0.0.1", 8888}},
      {"node-1.example", {M::kAuto, "node-1.example", 0}},
      {"node-1.example:12345", {M::kAuto, "node-1.example", 12345}},
      {"fd00::1", {M::kAuto, "fd00::1", 0}},
      {"[fd00::1]", {M::kAuto, "fd00::1", 0}},
      {"[fd00::1]:80", {M::kAuto, "fd00::1", 80}},
      {"dns+peers.example:11211", {M::kA, "peers.example", 11211}},
      {"dnssrv+_alloy._tcp.ns.svc", {M::kSrv, "_alloy._tcp.ns.svc", 0}},
      {"dnssrvnoa+_m._tcp.service.consul", {M::kSrvNoA, "_m._tcp.service.consul", 0}},
      {"dnssrvnoa+_m._tcp.consul:9", {M::kSrvNoA, "_m._tcp.consul", 9}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = ParseJoinAddress(c.in);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(*r, c.want);
  }

  struct ErrorCase {
    std::string in;
    std::string want;
  };
  const std::vector<ErrorCase> errors = {
      {"", "join address \"\": missing host"},
      {":8080", "join address \":8080\": missing host"},
      {"dns+", "join address \"dns+\": missing host"},
      {"host:", "join address \"host:\": invalid port \"\" (want a number from 1 to 65535)"},
      {"host:http",
       "join address \"host:http\": invalid port \"http\" (want a number from 1 to "
       "65535)"},
      {"host:0", "join address \"host:0\": invalid port \"0\" (want a number from 1 to 65535)"},
      {"host:65536",
       "join address \"host:65536\": invalid port \"65536\" (want a number from 1 to 65535)"},
      {"[fd00::1", "join address \"[fd00::1\": missing ']'"},
      {"[fd00::1]80", "join address \"[fd00::1]80\": unexpected \"80\" after ']'"},
  };
  for (const ErrorCase& c : errors) {
    SCOPED_TRACE(c.in);
    auto r = ParseJoinAddress(c.in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), base::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message(), c.want);
  }
}

TEST(JoinTest, ResolveJoinAddresses) {
  struct Case {
    std::string name;
    std::vector<std::string> entries;
    std::vector<std::string> want;
    std::vector<std::string> want_errors;  // substrings, one per reported entry
  };
  const std::vector<Case> cases = {
      {"no entries", {}, {}, {}},
      {"ip with the listen port", {"10.10.10.10"}, {"10.10.10.10:12345"}, {}},
      {"ip with its own port", {"10.10.10.10:8888"}, {"10.10.10.10:8888"}, {}},
      {"several ips",
       {"10.10.10.10", "11.11.11.11"},
       {"10.10.10.10:12345", "11.11.11.11:12345"},
       {}},
      {"ipv6 bracketed and normalised",
       {"FD00:0::1", "[fd00::2]:80"},
       {"[fd00::1]:12345", "[fd00::2]:80"},
       {}},
      {"name with A and AAAA records",
       {"peers.test"},
       {"10.0.0.1:12345", "10.0.0.2:12345", "[fd00::1]:12345"},
       {}},
      {"name with a port", {"v6.test:9000"}, {"[fd00::6]:9000"}, {}},
      {"duplicates are dropped",
       {"10.0.0.1", "10.0.0.1:12345", "dup.test", " peers.test "},
       {"10.0.0.1:12345", "10.0.0.2:12345", "[fd00::1]:12345"},
       {}},
      {"name with SRV records only: targets at the listen port, as Alloy",
       {"_peers._tcp.test"},
       {"10.0.1.1:12345", "10.0.1.2:12345", "[fd00::12]:12345"},
       {}},
      {"name with SRV records naming IPs",
       {"_ips._tcp.test:8888"},
       {"10.10.10.10:8888", "10.10.10.11:8888"},
       {}},
      {"dns+ uses A and AAAA only",
       {"dns+peers.test:7000", "dns+_peers._tcp.test"},
       {"10.0.0.1:7000", "10.0.0.2:7000", "[fd00::1]:7000"},
       {"join address \"dns+_peers._tcp.test\": no A or AAAA records found"}},
      {"dnssrv+ uses the records' ports",
       {"dnssrv+_peers._tcp.test"},
       {"10.0.1.1:7001", "10.0.1.2:7002", "[fd00::12]:7002"},
       {}},
      {"dnssrv+ with a port overrides them",
       {"dnssrv+_peers._tcp.test:9000"},
       {"10.0.1.1:9000", "10.0.1.2:9000", "[fd00::12]:9000"},
       {}},
      {"dnssrvnoa+ keeps the target names",
       {"dnssrvnoa+_peers._tcp.test"},
       {"n1.peers.test:7001", "n2.peers.test:7002"},
       {}},
      {"one AAAA answer is enough when A fails", {"halfbroken.test"}, {"[fd00::99]:12345"}, {}},
      {"failing entries are reported beside the ones that resolve",
       {"missing.test", "10.0.0.9", "broken.test", "host:bad", "dnssrv+_dangling._tcp.test",
        "dnssrv+_none._tcp.test"},
       {"10.0.0.9:12345"},
       {"join address \"missing.test\": no A, AAAA or SRV records found",
        "join address \"broken.test\": A lookup of broken.test failed; AAAA lookup of "
        "broken.test failed; SRV lookup of broken.test failed",
        "join address \"host:bad\": invalid port \"bad\"",
        "join address \"dnssrv+_dangling._tcp.test\": no SRV target resolved: gone.test (no A "
        "or AAAA records)",
        "join address \"dnssrv+_none._tcp.test\": no SRV records found"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeResolver resolver = MakeFake();
    auto r = ResolveJoinAddresses(c.entries, 12345, resolver);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->addresses, c.want);
    ASSERT_EQ(r->errors.size(), c.want_errors.size());
    for (std::size_t i = 0; i < c.want_errors.size(); ++i) {
      EXPECT_THAT(r->errors[i].message(), HasSubstr(c.want_errors[i]));
    }
  }
}

TEST(JoinTest, IpLiteralsNeedNoLookups) {
  FakeResolver resolver = MakeFake();
  auto r = ResolveJoinAddresses({"10.0.0.1", "[fd00::1]:80", "dns+10.0.0.2"}, 80, resolver);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->addresses, (std::vector<std::string>{"10.0.0.1:80", "[fd00::1]:80", "10.0.0.2:80"}));
  EXPECT_EQ(resolver.lookups, 0);
}

TEST(JoinTest, ResolveJoinAddressesFailsWhenNothingResolves) {
  struct Case {
    std::string name;
    std::vector<std::string> entries;
    base::StatusCode code;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"lookups",
       {"missing.test", "dnssrv+_broken._tcp.test"},
       base::StatusCode::kUnavailable,
       "failed to find any valid join addresses: join address \"missing.test\": no A, AAAA or "
       "SRV records found; join address \"dnssrv+_broken._tcp.test\": SRV lookup of "
       "_broken._tcp.test failed"},
      {"all malformed",
       {"a:b", "[::1"},
       base::StatusCode::kInvalidArgument,
       "failed to find any valid join addresses: join address \"a:b\": invalid port \"b\" (want "
       "a number from 1 to 65535); join address \"[::1\": missing ']'"},
      {"malformed and unresolvable",
       {"a:b", "missing.test"},
       base::StatusCode::kUnavailable,
       "failed to find any valid join addresses: join address \"a:b\": invalid port"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeResolver resolver = MakeFake();
    auto r = ResolveJoinAddresses(c.entries, 12345, resolver);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), c.code);
    EXPECT_THAT(r.error().message(), HasSubstr(c.want));
  }
}

// The real resolver against a DNS server on loopback.
TEST(JoinTest, ResolveJoinAddressesOverDns) {
  net::testing::FakeDnsServer server;
  server.AddA("peers.test", "10.1.0.1");
  server.AddA("peers.test", "10.1.0.2");
  server.AddAaaa("peers.test", "fd01::1");
  server.AddSrv("_cluster._tcp.peers.test", "n1.peers.test", 7001);
  server.AddSrv("_cluster._tcp.peers.test", "n2.peers.test", 7002);
  server.AddA("n1.peers.test", "10.1.1.1");
  server.AddAaaa("n2.peers.test", "fd01::12");
  server.Fail("broken.test");

  struct Case {
    std::string name;
    std::vector<std::string> entries;
    std::vector<std::string> want;
    std::size_t want_errors;
  };
  const std::vector<Case> cases = {
      {"plain name", {"peers.test"}, {"10.1.0.1:80", "10.1.0.2:80", "[fd01::1]:80"}, 0},
      {"plain name with SRV only",
       {"_cluster._tcp.peers.test"},
       {"10.1.1.1:80", "[fd01::12]:80"},
       0},
      {"dns+", {"dns+peers.test:90"}, {"10.1.0.1:90", "10.1.0.2:90", "[fd01::1]:90"}, 0},
      {"dnssrv+", {"dnssrv+_cluster._tcp.peers.test"}, {"10.1.1.1:7001", "[fd01::12]:7002"}, 0},
      {"dnssrvnoa+",
       {"dnssrvnoa+_cluster._tcp.peers.test"},
       {"n1.peers.test:7001", "n2.peers.test:7002"},
       0},
      {"a failing server and a missing name beside a good one",
       {"broken.test", "nobody.test", "n1.peers.test"},
       {"10.1.1.1:80"},
       2},
  };
  net::Nameserver ns = server.nameserver();
  DnsJoinResolver resolver(ns);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = ResolveJoinAddresses(c.entries, 80, resolver);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->addresses, c.want);
    EXPECT_EQ(r->errors.size(), c.want_errors);
  }
  EXPECT_GT(server.queries(), 0);

  auto none = ResolveJoinAddresses({"broken.test"}, 80, resolver);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), base::StatusCode::kUnavailable);
  EXPECT_THAT(none.error().message(), HasSubstr("join address \"broken.test\""));
}

TEST(JoinTest, SystemResolverReadsHostsFile) {
  DnsJoinResolver resolver;
  auto r = ResolveJoinAddresses({"localhost:7946"}, 80, resolver);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_THAT(r->addresses, ::testing::Contains("127.0.0.1:7946"));
}

TEST(JoinTest, ParseDiscoverPeers) {
  using T = DiscoverPeersConfig::RecordType;
  struct Case {
    std::string in;
    DiscoverPeersConfig want;
  };
  const std::vector<Case> cases = {
      {"provider=dns name=peers.test", {{"peers.test"}, T::kAddress, 0}},
      {"  provider = dns   name = a.test,b.test  ", {{"a.test", "b.test"}, T::kAddress, 0}},
      {"name=a.test provider=dns type=srv", {{"a.test"}, T::kSrv, 0}},
      {"provider=dns name=a.test type=A port=7946", {{"a.test"}, T::kA, 7946}},
      {"provider=dns name=a.test type=AAAA", {{"a.test"}, T::kAaaa, 0}},
      {"\"provider\"=\"dns\" name=\"a.test, b.test\"", {{"a.test", "b.test"}, T::kAddress, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    auto r = ParseDiscoverPeers(c.in);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(*r, c.want);
  }

  struct ErrorCase {
    std::string in;
    std::string want;
  };
  const std::string p = "--cluster.discover-peers: ";
  const std::vector<ErrorCase> errors = {
      {"provider=aws region=us-west-2 tag_key=consul",
       p + "provider \"aws\" is not supported; only provider=dns is supported"},
      {"provider=k8s label_selector=\"app=agent\"",
       p + "provider \"k8s\" is not supported; only provider=dns is supported"},
      {"provider=gce", p + "provider \"gce\" is not supported; only provider=dns is supported"},
      {"provider=azure", p + "provider \"azure\" is not supported; only provider=dns is supported"},
      {"provider=DNS name=a",
       p + "provider \"DNS\" is not supported; only provider=dns is supported"},
      {"", p + "no provider; expected \"provider=dns name=<name>[,<name>...]\""},
      {"name=a.test", p + "no provider; expected \"provider=dns name=<name>[,<name>...]\""},
      {"provider=dns", p + "provider=dns needs name=<name>[,<name>...]"},
      {"provider=dns name=,", p + "provider=dns needs name=<name>[,<name>...]"},
      {"provider=dns name=a region=x",
       p + "unknown key \"region\" for provider=dns; known keys: name, port, type"},
      {"provider=dns name=a type=TXT",
       p + "invalid type \"TXT\" for provider=dns; want A, AAAA or SRV"},
      {"provider=dns name=a port=http", p + "invalid port \"http\"; want a number from 1 to 65535"},
      {"provider=dns name=a port=0", p + "invalid port \"0\"; want a number from 1 to 65535"},
      {"provider=dns foo", p + "foo: missing '='"},
      {"provider", p + "provider: missing '='"},
      {"provider=", p + "provider: missing value"},
      {"provider=dns name=\"a", p + "name: unbalanced quotes"},
      {"provider=dns name=\"a\\", p + "name: unbalanced quotes"},
      {"provider=dns name=\"a\\q\"", p + "name: invalid escape sequence \\q in quotes"},
      {"provider=dns provider=dns", p + "provider: duplicate key"},
      {"provider=dns name=a=b", p + "'=' in a value must be quoted, as in key=\"a=b\""},
      {"=dns", p + "missing key before '='"},
  };
  for (const ErrorCase& c : errors) {
    SCOPED_TRACE(c.in);
    auto r = ParseDiscoverPeers(c.in);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), base::StatusCode::kInvalidArgument);
    EXPECT_EQ(r.error().message(), c.want);
  }
}

TEST(JoinTest, DiscoverPeers) {
  using T = DiscoverPeersConfig::RecordType;
  struct Case {
    std::string name;
    DiscoverPeersConfig config;
    std::vector<std::string> want;
    std::vector<std::string> want_errors;
  };
  const std::vector<Case> cases = {
      {"A and AAAA at the listen port",
       {{"peers.test", "v6.test"}, T::kAddress, 0},
       {"10.0.0.1:12345", "10.0.0.2:12345", "[fd00::1]:12345", "[fd00::6]:12345"},
       {}},
      {"A only", {{"peers.test"}, T::kA, 7946}, {"10.0.0.1:7946", "10.0.0.2:7946"}, {}},
      {"AAAA only",
       {{"peers.test", "dup.test"}, T::kAaaa, 0},
       {"[fd00::1]:12345"},
       {"peer name \"dup.test\": no AAAA records found"}},
      {"SRV at the records' ports",
       {{"_peers._tcp.test"}, T::kSrv, 0},
       {"10.0.1.1:7001", "10.0.1.2:7002", "[fd00::12]:7002"},
       {}},
      {"SRV with port=",
       {{"_ips._tcp.test"}, T::kSrv, 80},
       {"10.10.10.10:80", "10.10.10.11:80"},
       {}},
      {"failures beside a success",
       {{"broken.test", "peers.test", "missing.test"}, T::kA, 0},
       {"10.0.0.1:12345", "10.0.0.2:12345"},
       {"peer name \"broken.test\": A lookup of broken.test failed",
        "peer name \"missing.test\": no A records found"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    FakeResolver resolver = MakeFake();
    auto r = DiscoverPeers(c.config, 12345, resolver);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->addresses, c.want);
    ASSERT_EQ(r->errors.size(), c.want_errors.size());
    for (std::size_t i = 0; i < c.want_errors.size(); ++i) {
      EXPECT_EQ(r->errors[i].message(), c.want_errors[i]);
    }
  }

  FakeResolver resolver = MakeFake();
  auto none = DiscoverPeers({{"missing.test", "_none._tcp.test"}, T::kSrv, 0}, 80, resolver);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), base::StatusCode::kUnavailable);
  EXPECT_EQ(none.error().message(),
            "failed to discover any peers: peer name \"missing.test\": no SRV records found; peer "
            "name \"_none._tcp.test\": no SRV records found");
}

TEST(JoinTest, DiscoverPeersOverDns) {
  net::testing::FakeDnsServer server;
  server.AddA("agents.test", "10.2.0.1");
  server.AddAaaa("agents.test", "fd02::1");
  server.AddSrv("_agents._tcp.test", "agents.test.", 7946);
  DnsJoinResolver resolver(server.nameserver());
  struct Case {
    std::string flag;
    std::vector<std::string> want;
  };
  const std::vector<Case> cases = {
      {"provider=dns name=agents.test", {"10.2.0.1:12345", "[fd02::1]:12345"}},
      {"provider=dns name=agents.test type=A port=80", {"10.2.0.1:80"}},
      {"provider=dns name=_agents._tcp.test type=SRV", {"10.2.0.1:7946", "[fd02::1]:7946"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.flag);
    auto config = ParseDiscoverPeers(c.flag);
    ASSERT_TRUE(config.ok()) << config.error().ToString();
    auto r = DiscoverPeers(*config, 12345, resolver);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->addresses, c.want);
  }
}

TEST(JoinTest, DetermineAdvertiseAddress) {
  const std::vector<InterfaceAddress> machine = {
      {"lo", "127.0.0.1", true, true},       {"lo", "::1", true, true},
      {"eth0", "fe80::1", false, true},      {"eth0", "fd00::5", false, true},
      {"eth0", "192.0.2.5", false, true},    {"eth0", "192.0.2.6", false, true},
      {"en0", "10.0.0.5", false, true},      {"v6only", "fe80::7", false, true},
      {"v6only", "fd00::7", false, true},    {"linklocal", "169.254.0.9", false, true},
      {"linklocal", "fe80::9", false, true}, {"llv6", "fe80::10", false, true},
      {"down0", "10.9.9.9", false, false},   {"fakelo", "127.0.0.2", false, true},
  };
  struct Case {
    std::string name;
    std::string flag;
    std::string interfaces;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"flag with a port", "node.example:9000", "eth0,en0", "node.example:9000"},
      {"flag without a port", "10.1.2.3", "eth0,en0", "10.1.2.3:12345"},
      {"flag with a bare IPv6 literal", "fd00::42", "", "[fd00::42]:12345"},
      {"flag with a bracketed IPv6 literal", "[fd00::42]", "", "[fd00::42]:12345"},
      {"flag with a bracketed IPv6 literal and port", "[fd00::42]:7", "", "[fd00::42]:7"},
      {"first IPv4 of the first interface", "", "eth0,en0", "192.0.2.5:12345"},
      {"interfaces in the order named", "", "en0,eth0", "10.0.0.5:12345"},
      {"IPv4 on a later interface beats IPv6", "", "v6only,en0", "10.0.0.5:12345"},
      {"IPv6 when there is no IPv4", "", "v6only", "[fd00::7]:12345"},
      {"IPv4 link-local after IPv6", "", "linklocal,v6only", "[fd00::7]:12345"},
      {"IPv4 link-local before IPv6 link-local", "", "llv6,linklocal", "169.254.0.9:12345"},
      {"IPv6 link-local last", "", "llv6", "[fe80::10]:12345"},
      {"spaces in the list", "", " nothere , en0 ", "10.0.0.5:12345"},
      {"all", "", "all", "192.0.2.5:12345"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = DetermineAdvertiseAddress(c.flag, c.interfaces, 12345, machine);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->address, c.want);
    EXPECT_EQ(r->warning, "");
  }

  // Nothing usable: loopback, down or missing interfaces.
  for (std::string interfaces : {"lo", "down0", "fakelo", "eth1,en1", ""}) {
    SCOPED_TRACE(interfaces);
    auto r = DetermineAdvertiseAddress("", interfaces, 12345, machine);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->address, "127.0.0.1:12345");
    EXPECT_THAT(r->warning, HasSubstr("could not find an address to advertise on network "
                                      "interfaces \"" +
                                      interfaces + "\"; falling back to 127.0.0.1:12345"));
  }
  auto none = DetermineAdvertiseAddress("", "all", 80, {{"lo", "127.0.0.1", true, true}});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->address, "127.0.0.1:80");
  EXPECT_NE(none->warning, "");

  for (std::string flag : {":9000", "host:http", "host:0", "[fd00::1", "[fd00::1]x"}) {
    SCOPED_TRACE(flag);
    auto r = DetermineAdvertiseAddress(flag, "eth0", 12345, machine);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), base::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr("--cluster.advertise-address \"" + flag + "\""));
  }
}

TEST(JoinTest, DetermineAdvertiseAddressOnThisMachine) {
  auto interfaces = ListInterfaceAddresses();
  ASSERT_TRUE(interfaces.ok()) << interfaces.error().ToString();
  bool has_loopback = false;
  for (const InterfaceAddress& ia : *interfaces) {
    if (ia.address == "127.0.0.1") has_loopback = ia.loopback;
  }
  EXPECT_TRUE(has_loopback);

  auto r = DetermineAdvertiseAddress("", "all", 4321);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  if (r->warning.empty()) {
    // The chosen address is one of this machine's, and not a loopback one.
    bool found = false;
    for (const InterfaceAddress& ia : *interfaces) {
      if (!ia.loopback && net::JoinHostPort(ia.address, 4321) == r->address) found = true;
    }
    EXPECT_TRUE(found) << r->address;
  } else {
    EXPECT_EQ(r->address, "127.0.0.1:4321");
  }

  auto flag = DetermineAdvertiseAddress("node.example", "eth0", 4321);
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->address, "node.example:4321");
}

TEST(JoinTest, DefaultNodeNameIsTheHostname) {
  utsname u{};
  ASSERT_EQ(uname(&u), 0);
  auto name = DefaultNodeName();
  ASSERT_TRUE(name.ok()) << name.error().ToString();
  EXPECT_EQ(*name, u.nodename);
}

}  // namespace
}  // namespace starling::cluster
