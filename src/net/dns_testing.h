#pragma once

// Test helper: a small authoritative DNS server on 127.0.0.1, so lookups can be tested with
// QueryDns(..., {.nameserver = server.nameserver()}) without the machine's DNS.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/check.h"
#include "net/dns.h"

namespace starling::net::testing {

// Answers UDP queries for A, AAAA and SRV records from the records added to it: NXDOMAIN for a
// name it knows nothing of, an empty answer for a known name without records of the asked type,
// SERVFAIL for names passed to Fail. Names compare case-insensitively, final dot ignored.
// Thread-safe; records may be changed while it serves.
class FakeDnsServer {
 public:
  FakeDnsServer() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    CHECK(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    CHECK(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~FakeDnsServer() {
    stop_ = true;
    // Wake the blocked recvfrom with a datagram of our own.
    int s = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    char byte = 0;
    (void)::sendto(s, &byte, 1, 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::close(s);
    thread_.join();
    ::close(fd_);
  }

  FakeDnsServer(const FakeDnsServer&) = delete;
  FakeDnsServer& operator=(const FakeDnsServer&) = delete;

  void AddA(const std::string& name, const std::string& ipv4) {
    std::vector<unsigned char> rdata(4);
    CHECK(inet_pton(AF_INET, ipv4.c_str(), rdata.data()) == 1) << ipv4;
    Add(name, kTypeA, std::move(rdata));
  }
  void AddAaaa(const std::string& name, const std::string& ipv6) {
    std::vector<unsigned char> rdata(16);
    CHECK(inet_pton(AF_INET6, ipv6.c_str(), rdata.data()) == 1) << ipv6;
    Add(name, kTypeAaaa, std::move(rdata));
  }
  void AddSrv(const std::string& name, const std::string& target, std::uint16_t port,
              std::uint16_t priority = 0, std::uint16_t weight = 0) {
    std::vector<unsigned char> rdata;
    Put16(&rdata, priority);
    Put16(&rdata, weight);
    Put16(&rdata, port);
    PutName(&rdata, target);
    Add(name, kTypeSrv, std::move(rdata));
  }
  // Queries for `name` (any type) get SERVFAIL.
  void Fail(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    failing_.insert(Canonical(name));
  }

  Nameserver nameserver() const { return {"127.0.0.1", port_}; }
  // Queries answered so far.
  int queries() const { return queries_.load(); }

 private:
  static constexpr int kTypeA = 1;
  static constexpr int kTypeSrv = 33;
  static constexpr int kTypeAaaa = 28;

  static std::string Canonical(std::string name) {
    while (!name.empty() && name.back() == '.') name.pop_back();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return name;
  }
  static void Put16(std::vector<unsigned char>* m, int v) {
    m->push_back(static_cast<unsigned char>((v >> 8) & 0xff));
    m->push_back(static_cast<unsigned char>(v & 0xff));
  }
  static void PutName(std::vector<unsigned char>* m, const std::string& name) {
    std::string n = Canonical(name);
    std::size_t start = 0;
    while (start < n.size()) {
      std::size_t dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      m->push_back(static_cast<unsigned char>(dot - start));
      m->insert(m->end(), n.begin() + static_cast<std::ptrdiff_t>(start),
                n.begin() + static_cast<std::ptrdiff_t>(dot));
      start = dot + 1;
    }
    m->push_back(0);
  }

  void Add(const std::string& name, int type, std::vector<unsigned char> rdata) {
    std::lock_guard<std::mutex> lock(mu_);
    records_[Canonical(name)].push_back({type, std::move(rdata)});
  }

  void Serve() {
    std::vector<unsigned char> in(4096);
    while (true) {
      sockaddr_in peer{};
      socklen_t peer_len = sizeof(peer);
      ssize_t n =
          ::recvfrom(fd_, in.data(), in.size(), 0, reinterpret_cast<sockaddr*>(&peer), &peer_len);
      if (stop_) return;
      if (n < 12) continue;
      std::vector<unsigned char> out;
      if (!Answer(in.data(), static_cast<std::size_t>(n), &out)) continue;
      ++queries_;
      (void)::sendto(fd_, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&peer), peer_len);
    }
  }

  // Builds the response to the query in `q`; false when it is not a query we can parse.
  bool Answer(const unsigned char* q, std::size_t len, std::vector<unsigned char>* out) {
    if (((q[4] << 8) | q[5]) < 1) return false;
    std::size_t pos = 12;
    std::string name;
    while (pos < len && q[pos] != 0) {
      std::size_t l = q[pos];
      if (l > 63 || pos + 1 + l > len) return false;
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(q + pos + 1), l);
      pos += 1 + l;
    }
    if (pos + 5 > len) return false;
    const int qtype = (q[pos + 1] << 8) | q[pos + 2];
    const std::size_t question_end = pos + 5;

    int rcode = 0;
    std::vector<const std::vector<unsigned char>*> answers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string key = Canonical(name);
      auto it = records_.find(key);
      if (failing_.count(key) != 0) {
        rcode = 2;  // SERVFAIL
      } else if (it == records_.end()) {
        rcode = 3;  // NXDOMAIN
      } else {
        for (const Record& r : it->second) {
          if (r.type == qtype) answers.push_back(&r.rdata);
        }
      }
      out->assign(q, q + 4);                                         // id, then flags below
      (*out)[2] = static_cast<unsigned char>(0x84 | (q[2] & 0x01));  // QR, AA, RD as asked
      (*out)[3] = static_cast<unsigned char>(0x80 | rcode);          // RA, rcode
      Put16(out, 1);
      Put16(out, static_cast<int>(answers.size()));
      Put16(out, 0);
      Put16(out, 0);
      out->insert(out->end(), q + 12, q + question_end);
      for (const std::vector<unsigned char>* rdata : answers) {
        out->push_back(0xc0);  // the name: a pointer to the question's
        out->push_back(12);
        Put16(out, qtype);
        Put16(out, 1);  // IN
        Put16(out, 0);
        Put16(out, 60);  // TTL
        Put16(out, static_cast<int>(rdata->size()));
        out->insert(out->end(), rdata->begin(), rdata->end());
      }
    }
    return true;
  }

  struct Record {
    int type;
    std::vector<unsigned char> rdata;
  };

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::mutex mu_;
  std::map<std::string, std::vector<Record>> records_;  // guarded by mu_
  std::set<std::string> failing_;                       // guarded by mu_
  std::thread thread_;
};

}  // namespace starling::net::testing
