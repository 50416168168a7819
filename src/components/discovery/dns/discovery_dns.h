#pragma once

// discovery.dns: targets from DNS lookups of `names` (net/dns.h), every refresh_interval. SRV
// (the default) and MX records are queried with the system resolver (res_query); A and AAAA
// with getaddrinfo. Each target has __address__, __meta_dns_name, __meta_dns_srv_record_target,
// __meta_dns_srv_record_port and __meta_dns_mx_record_target (empty when not applicable), as
// Prometheus' DNS SD. A name whose lookup fails keeps its previous targets and marks the
// component unhealthy; a name that does not exist has no targets.

#include <chrono>
#include <string>
#include <vector>

#include "component/component.h"
#include "components/common/targets.h"
#include "net/dns.h"

namespace starling::components {

struct DiscoveryDnsArgs {
  std::vector<std::string> names;
  std::chrono::nanoseconds refresh_interval = std::chrono::seconds(30);
  std::string type = "SRV";
  int port = 0;
};

void DecodeDiscoveryDnsArgs(component::ArgDecoder& d, DiscoveryDnsArgs* args);

// The targets of the records found for `name`; `port` is the configured port (used for A,
// AAAA and MX).
std::vector<Target> DnsRecordsToTargets(const std::string& name,
                                        const std::vector<net::DnsRecord>& records, int port);

component::Registration DiscoveryDnsRegistration();

}  // namespace starling::components
