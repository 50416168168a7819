#pragma once

// discovery.dns: targets from DNS lookups of `names`, every refresh_interval. SRV (the
// default) and MX records are queried with the system resolver (res_query); A and AAAA with
// getaddrinfo. Each target has __address__, __meta_dns_name, __meta_dns_srv_record_target,
// __meta_dns_srv_record_port and __meta_dns_mx_record_target (empty when not applicable), as
// Prometheus' DNS SD. A name whose lookup fails keeps its previous targets and marks the
// component unhealthy; a name that does not exist has no targets.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "component/component.h"
#include "components/common/targets.h"

namespace starling::components {

struct DiscoveryDnsArgs {
  std::vector<std::string> names;
  std::chrono::nanoseconds refresh_interval = std::chrono::seconds(30);
  std::string type = "SRV";
  int port = 0;
};

void DecodeDiscoveryDnsArgs(component::ArgDecoder& d, DiscoveryDnsArgs* args);

// One answer record of a lookup. For SRV and MX, `host` is the record's target name as the
// DNS has it (usually rooted, with a final dot); for A and AAAA, the address text.
struct DnsRecord {
  enum class Kind { kA, kAaaa, kSrv, kMx };
  Kind kind = Kind::kA;
  std::string host;
  std::uint16_t port = 0;  // SRV only
  friend bool operator==(const DnsRecord&, const DnsRecord&) = default;
};

// The targets of the records found for `name`; `port` is the configured port (used for A,
// AAAA and MX).
std::vector<Target> DnsRecordsToTargets(const std::string& name,
                                        const std::vector<DnsRecord>& records, int port);

// The SRV or MX answer records of a DNS response message (wire format); other records
// (CNAMEs, for one) are skipped.
base::Result<std::vector<DnsRecord>> ParseDnsAnswer(const unsigned char* msg, std::size_t len);

// Looks `name` up with `type` ("SRV", "A", "AAAA", "MX"; any case). A name that does not
// exist yields no records.
base::Result<std::vector<DnsRecord>> LookupDns(const std::string& name, const std::string& type);

component::Registration DiscoveryDnsRegistration();

}  // namespace starling::components
