#pragma once

// DNS lookups for discovery and cluster joining. Names are resolved either with the system
// resolver configuration (/etc/resolv.conf, search domains; getaddrinfo for plain address
// lookups, so /etc/hosts applies) or by querying one given nameserver directly, which is what
// tests use to run against a DNS server on loopback.
//
// Every function here blocks until the lookup finishes or times out (resolv.conf's timeout and
// attempts). All are thread-safe: each query uses its own resolver state.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace starling::net {

// One answer record. For SRV and MX, `host` is the record's target name as the DNS has it
// (usually rooted, with a final dot); for A and AAAA, the address text ("10.0.0.1", "fd00::1").
struct DnsRecord {
  enum class Kind { kA, kAaaa, kSrv, kMx };
  Kind kind = Kind::kA;
  std::string host;
  std::uint16_t port = 0;  // SRV only
  friend bool operator==(const DnsRecord&, const DnsRecord&) = default;
};

// A DNS server to query instead of the ones resolv.conf names. IPv4 only.
struct Nameserver {
  std::string address = "127.0.0.1";
  std::uint16_t port = 53;
};

struct DnsQueryOptions {
  // When set, queries go to this server only, and `name` is looked up as given: resolv.conf's
  // search domains do not apply, so the result does not depend on the machine's setup.
  std::optional<Nameserver> nameserver;
};

// The A, AAAA, SRV and MX answer records of a DNS response message (wire format); other
// records (CNAMEs, for one) are skipped. A truncated or malformed message is an error.
base::Result<std::vector<DnsRecord>> ParseDnsAnswer(const unsigned char* msg, std::size_t len);

// Sends a DNS query for the records of `kind` and returns the answers of that kind. A name that
// does not exist, or has no such records, yields no records; a server failure or a timeout is
// kUnavailable.
base::Result<std::vector<DnsRecord>> QueryDns(const std::string& name, DnsRecord::Kind kind,
                                              const DnsQueryOptions& options = {});

// Looks `name` up with `type` ("SRV", "A", "AAAA", "MX"; any case) as Prometheus' DNS service
// discovery does: A and AAAA through getaddrinfo (so /etc/hosts applies), SRV and MX as DNS
// queries with resolv.conf's search domains. A name that does not exist yields no records; an
// unknown type is kInvalidArgument.
base::Result<std::vector<DnsRecord>> LookupDns(const std::string& name, const std::string& type);

// Go's net.JoinHostPort: "host:port", with IPv6 literals (anything with a colon) bracketed.
std::string JoinHostPort(const std::string& host, int port);

}  // namespace starling::net
