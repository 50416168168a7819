#include "net/dns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "net/dns_testing.h"

namespace starling::net {
namespace {

using K = DnsRecord::Kind;

// Appends a DNS name in uncompressed wire form.
void PutName(std::vector<unsigned char>* m, const std::vector<std::string>& labels) {
  for (const std::string& l : labels) {
    m->push_back(static_cast<unsigned char>(l.size()));
    m->insert(m->end(), l.begin(), l.end());
  }
  m->push_back(0);
}

void Put16(std::vector<unsigned char>* m, int v) {
  m->push_back(static_cast<unsigned char>(v >> 8));
  m->push_back(static_cast<unsigned char>(v & 0xff));
}

// An answer record named by a pointer to the question, with rdata built by `rdata`.
void PutAnswer(std::vector<unsigned char>* m, int type, const std::vector<unsigned char>& rdata) {
  m->push_back(0xc0);
  m->push_back(12);
  Put16(m, type);
  Put16(m, 1);  // IN
  Put16(m, 0);
  Put16(m, 60);  // TTL
  Put16(m, static_cast<int>(rdata.size()));
  m->insert(m->end(), rdata.begin(), rdata.end());
}

// A response header and the question "_m._tcp.ex", with `answers` answer records to follow.
std::vector<unsigned char> ResponseHeader(int answers) {
  std::vector<unsigned char> m;
  Put16(&m, 0x1234);  // id
  Put16(&m, 0x8180);  // response, recursion
  Put16(&m, 1);       // questions
  Put16(&m, answers);
  Put16(&m, 0);
  Put16(&m, 0);
  PutName(&m, {"_m", "_tcp", "ex"});
  Put16(&m, 33);
  Put16(&m, 1);
  return m;
}

TEST(DnsTest, ParseDnsAnswer) {
  std::vector<unsigned char> m = ResponseHeader(6);
  std::vector<unsigned char> srv;
  Put16(&srv, 10);    // priority
  Put16(&srv, 5);     // weight
  Put16(&srv, 9100);  // port
  PutName(&srv, {"n1", "ex"});
  PutAnswer(&m, 33, srv);
  std::vector<unsigned char> cname;
  PutName(&cname, {"other", "ex"});
  PutAnswer(&m, 5, cname);
  std::vector<unsigned char> mx;
  Put16(&mx, 10);
  PutName(&mx, {"mail", "ex"});
  PutAnswer(&m, 15, mx);
  // A target name compressed as a pointer to "ex" in the question (offset 12 + 3 + 5).
  std::vector<unsigned char> srv2;
  Put16(&srv2, 0);
  Put16(&srv2, 0);
  Put16(&srv2, 80);
  srv2.push_back(0xc0);
  srv2.push_back(20);
  PutAnswer(&m, 33, srv2);
  PutAnswer(&m, 1, {10, 0, 0, 7});
  PutAnswer(&m, 28, {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});

  auto r = ParseDnsAnswer(m.data(), m.size());
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(*r, (std::vector<DnsRecord>{{K::kSrv, "n1.ex.", 9100},
                                        {K::kMx, "mail.ex.", 0},
                                        {K::kSrv, "ex.", 80},
                                        {K::kA, "10.0.0.7", 0},
                                        {K::kAaaa, "fd00::1", 0}}));

  // Truncated messages are errors, not empty answers.
  for (std::size_t len : {std::size_t{5}, m.size() - 3}) {
    SCOPED_TRACE(len);
    EXPECT_FALSE(ParseDnsAnswer(m.data(), len).ok());
  }
}

TEST(DnsTest, ParseDnsAnswerRejectsMalformedAddresses) {
  struct Case {
    std::string name;
    int type;
    std::vector<unsigned char> rdata;
  };
  const std::vector<Case> cases = {
      {"short A", 1, {10, 0, 0}},
      {"long A", 1, {10, 0, 0, 1, 2}},
      {"short AAAA", 28, {0xfd, 0, 0, 1}},
      {"SRV without target", 33, {0, 0, 0, 0, 0, 80}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<unsigned char> m = ResponseHeader(1);
    PutAnswer(&m, c.type, c.rdata);
    auto r = ParseDnsAnswer(m.data(), m.size());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), base::StatusCode::kDataLoss);
  }
}

TEST(DnsTest, LookupLocalhost) {
  auto r = LookupDns("localhost", "a");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_NE(std::find(r->begin(), r->end(), DnsRecord{K::kA, "127.0.0.1", 0}), r->end());
  auto bad = LookupDns("localhost", "TXT");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message(), "invalid DNS-SD records type TXT");
}

TEST(DnsTest, QueryDnsAgainstNameserver) {
  testing::FakeDnsServer server;
  server.AddA("peers.test", "10.0.0.1");
  server.AddA("peers.test", "10.0.0.2");
  server.AddA("peers.test", "10.0.0.1");  // answered twice, returned once
  server.AddAaaa("peers.test", "fd00::1");
  server.AddSrv("_http._tcp.peers.test", "n1.peers.test", 12345, 10, 5);
  server.AddSrv("_http._tcp.peers.test", "n2.peers.test.", 12346);
  server.AddA("v4only.test", "10.0.0.9");
  server.Fail("broken.test");

  struct Case {
    std::string name;
    K kind;
    std::vector<DnsRecord> want;
  };
  const std::vector<Case> cases = {
      {"peers.test", K::kA, {{K::kA, "10.0.0.1", 0}, {K::kA, "10.0.0.2", 0}}},
      {"PEERS.test.", K::kA, {{K::kA, "10.0.0.1", 0}, {K::kA, "10.0.0.2", 0}}},
      {"peers.test", K::kAaaa, {{K::kAaaa, "fd00::1", 0}}},
      {"_http._tcp.peers.test",
       K::kSrv,
       {{K::kSrv, "n1.peers.test.", 12345}, {K::kSrv, "n2.peers.test.", 12346}}},
      {"v4only.test", K::kAaaa, {}},  // the name exists, without AAAA records
      {"missing.test", K::kA, {}},    // NXDOMAIN
      {"peers.test", K::kSrv, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = QueryDns(c.name, c.kind, {.nameserver = server.nameserver()});
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(*r, c.want);
  }
  EXPECT_EQ(server.queries(), static_cast<int>(cases.size()));

  auto failed = QueryDns("broken.test", K::kA, {.nameserver = server.nameserver()});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), base::StatusCode::kUnavailable);
  EXPECT_NE(failed.error().message().find("could not resolve A records of \"broken.test\""),
            std::string::npos)
      << failed.error().message();
}

TEST(DnsTest, QueryDnsRejectsNonIpv4Nameserver) {
  for (const char* address : {"::1", "localhost", ""}) {
    SCOPED_TRACE(address);
    auto r = QueryDns("x.test", K::kA, {.nameserver = Nameserver{address, 53}});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), base::StatusCode::kInvalidArgument);
  }
}

TEST(DnsTest, JoinHostPort) {
  struct Case {
    std::string host;
    int port;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"10.0.0.1", 80, "10.0.0.1:80"},
      {"node.example", 12345, "node.example:12345"},
      {"::1", 80, "[::1]:80"},
      {"fe80::1%eth0", 7946, "[fe80::1%eth0]:7946"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.host);
    EXPECT_EQ(JoinHostPort(c.host, c.port), c.want);
  }
}

}  // namespace
}  // namespace starling::net
