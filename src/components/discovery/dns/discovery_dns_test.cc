#include "components/discovery/dns/discovery_dns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "components/common/testing.h"

namespace starling::components {
namespace {

using namespace std::chrono_literals;
using syntax::Value;

struct DecodeCase {
  std::string name;
  std::string src;
  std::string want_diags;
};

TEST(DiscoveryDnsTest, Decode) {
  auto reg = DiscoveryDnsRegistration();
  std::unique_ptr<component::Arguments> args;
  ASSERT_EQ(testing::DecodeBody(reg, "names = [\"_x._tcp.example\"]", &args), "");
  const auto& a = component::ArgsAs<DiscoveryDnsArgs>(*args);
  EXPECT_EQ(a.names, std::vector<std::string>{"_x._tcp.example"});
  EXPECT_EQ(a.type, "SRV");
  EXPECT_EQ(a.port, 0);
  EXPECT_EQ(a.refresh_interval, 30s);

  const std::vector<DecodeCase> cases = {
      {"srv without port", "names = [\"a\"]\ntype = \"SRV\"", ""},
      {"lower case type", "names = [\"a\"]\ntype = \"srv\"", ""},
      {"a with port", "names = [\"a\"]\ntype = \"A\"\nport = 80", ""},
      {"mx with port", "names = [\"a\"]\ntype = \"MX\"\nport = 25\nrefresh_interval = \"1m\"", ""},
      {"missing names", "", "t:1:1: missing required attribute \"names\"\n"},
      {"a without port", "names = [\"a\"]\ntype = \"A\"",
       "t:1:1: a port is required in DNS-SD configs for all record types except SRV\n"},
      {"aaaa port zero", "names = [\"a\"]\ntype = \"AAAA\"\nport = 0",
       "t:3:8: a port is required in DNS-SD configs for all record types except SRV\n"},
      {"bad type", "names = [\"a\"]\ntype = \"TXT\"", "t:2:8: invalid DNS-SD records type TXT\n"},
      {"zero interval", "names = [\"a\"]\nrefresh_interval = \"0s\"",
       "t:2:20: refresh_interval must be greater than 0\n"},
      {"names not a list", "names = \"a\"", "t:1:9: \"a\" should be array, got string\n"},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(testing::DecodeBody(reg, c.src, &args), c.want_diags);
  }
}

TEST(DiscoveryDnsTest, RecordsToTargets) {
  using K = net::DnsRecord::Kind;
  struct Case {
    std::string name;
    std::vector<net::DnsRecord> records;
    int port;
    std::vector<Target> want;
  };
  auto target = [](std::string addr, std::string name, std::string srv_target, std::string srv_port,
                   std::string mx_target) {
    return Target{{"__address__", std::move(addr)},
                  {"__meta_dns_name", std::move(name)},
                  {"__meta_dns_srv_record_target", std::move(srv_target)},
                  {"__meta_dns_srv_record_port", std::move(srv_port)},
                  {"__meta_dns_mx_record_target", std::move(mx_target)}};
  };
  const std::vector<Case> cases = {
      {"srv uses the record's port and trims the final dot",
       {{K::kSrv, "n1.example.", 9100}, {K::kSrv, "n2.example.", 9200}},
       0,
       {target("n1.example:9100", "_m._tcp", "n1.example.", "9100", ""),
        target("n2.example:9200", "_m._tcp", "n2.example.", "9200", "")}},
      {"mx uses the configured port",
       {{K::kMx, "mail.example.", 0}},
       25,
       {target("mail.example:25", "_m._tcp", "", "", "mail.example.")}},
      {"a", {{K::kA, "127.0.0.1", 0}}, 80, {target("127.0.0.1:80", "_m._tcp", "", "", "")}},
      {"aaaa is bracketed",
       {{K::kAaaa, "::1", 0}},
       80,
       {target("[::1]:80", "_m._tcp", "", "", "")}},
      {"no records", {}, 80, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(DnsRecordsToTargets("_m._tcp", c.records, c.port), c.want);
  }
}

std::vector<std::string> Addresses(const Value& exports) {
  std::vector<std::string> out;
  if (exports.kind() != syntax::ValueKind::kObject) return out;
  auto targets = TargetsFromValue(exports.AsObject().at("targets"));
  if (!targets.ok()) return out;
  for (const Target& t : *targets) out.push_back(t.at("__address__"));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DiscoveryDnsTest, ComponentResolvesAndFollowsUpdates) {
  testing::ExportSink sink;
  base::FakeClock clock;
  component::Options opts;
  opts.id = "discovery.dns.t";
  opts.clock = &clock;
  opts.on_state_change = sink.Callback();
  DiscoveryDnsArgs args;
  args.names = {"localhost"};
  args.type = "A";
  args.port = 9100;
  auto c =
      DiscoveryDnsRegistration().build(opts, component::TypedArguments<DiscoveryDnsArgs>(args));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(Addresses(sink.Latest()).empty());
  testing::Runner run(c->get());
  EXPECT_TRUE(sink.Wait([](const Value& v) {
    auto a = Addresses(v);
    return std::find(a.begin(), a.end(), "127.0.0.1:9100") != a.end();
  }));
  auto targets = TargetsFromValue(sink.Latest().AsObject().at("targets"));
  ASSERT_TRUE(targets.ok());
  ASSERT_FALSE(targets->empty());
  EXPECT_EQ((*targets)[0].at("__meta_dns_name"), "localhost");

  args.port = 9200;
  ASSERT_TRUE((*c)->Update(component::TypedArguments<DiscoveryDnsArgs>(args)).ok());
  EXPECT_TRUE(sink.Wait([](const Value& v) {
    auto a = Addresses(v);
    return std::find(a.begin(), a.end(), "127.0.0.1:9200") != a.end();
  }));
  EXPECT_EQ((*c)->CurrentHealth().state, component::HealthState::kHealthy);
  EXPECT_TRUE(run.Stop().ok());
}

}  // namespace
}  // namespace starling::components
