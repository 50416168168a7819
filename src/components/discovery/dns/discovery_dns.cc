#include "components/discovery/dns/discovery_dns.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <utility>

#include "components/common/refresh.h"

namespace starling::components {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string TrimFinalDots(std::string s) {
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// Looks up every name each refresh; a name whose lookup fails keeps its previous targets.
class DiscoveryDns final : public RefreshingDiscovery<DiscoveryDnsArgs> {
 public:
  using RefreshingDiscovery::RefreshingDiscovery;

 private:
  void Refresh(const DiscoveryDnsArgs& args, const std::stop_token& stop) override {
    std::map<std::string, std::vector<Target>> next;
    std::string errors;
    for (const std::string& name : args.names) {
      if (stop.stop_requested()) return;
      base::Result<std::vector<net::DnsRecord>> records = net::LookupDns(name, args.type);
      if (records.ok()) {
        next[name] = DnsRecordsToTargets(name, *records, args.port);
        continue;
      }
      opts_.logger.Error("Error refreshing DNS targets: {}", records.error().message());
      if (!errors.empty()) errors += "; ";
      errors += records.error().message();
      // As Prometheus: a name whose lookup failed keeps its previous targets.
      if (auto it = by_name_.find(name); it != by_name_.end()) next[name] = it->second;
    }
    by_name_ = std::move(next);
    std::vector<Target> all;
    for (const std::string& name : args.names) {
      auto it = by_name_.find(name);
      if (it != by_name_.end()) all.insert(all.end(), it->second.begin(), it->second.end());
    }
    Publish(all, errors);
  }

  std::map<std::string, std::vector<Target>> by_name_;  // only touched by Refresh
};

}  // namespace

void DecodeDiscoveryDnsArgs(component::ArgDecoder& d, DiscoveryDnsArgs* args) {
  d.Required("names", &args->names);
  if (d.Optional("refresh_interval", &args->refresh_interval) &&
      args->refresh_interval <= std::chrono::nanoseconds::zero()) {
    d.AddError("refresh_interval", "refresh_interval must be greater than 0");
  }
  bool has_type = d.Optional("type", &args->type);
  d.Optional("port", &args->port);
  std::string type = Upper(args->type);
  if (type == "SRV") return;
  if (type == "A" || type == "AAAA" || type == "MX") {
    if (args->port == 0) {
      d.AddError("port", "a port is required in DNS-SD configs for all record types except SRV");
    }
    return;
  }
  d.AddError(has_type ? "type" : "", "invalid DNS-SD records type " + args->type);
}

std::vector<Target> DnsRecordsToTargets(const std::string& name,
                                        const std::vector<net::DnsRecord>& records, int port) {
  using net::DnsRecord;
  using net::JoinHostPort;
  std::vector<Target> out;
  for (const DnsRecord& r : records) {
    Target t{{"__meta_dns_name", name},
             {"__meta_dns_srv_record_target", ""},
             {"__meta_dns_srv_record_port", ""},
             {"__meta_dns_mx_record_target", ""}};
    switch (r.kind) {
      case DnsRecord::Kind::kSrv:
        t["__meta_dns_srv_record_target"] = r.host;
        t["__meta_dns_srv_record_port"] = std::to_string(r.port);
        t["__address__"] = JoinHostPort(TrimFinalDots(r.host), r.port);
        break;
      case DnsRecord::Kind::kMx:
        t["__meta_dns_mx_record_target"] = r.host;
        t["__address__"] = JoinHostPort(TrimFinalDots(r.host), port);
        break;
      case DnsRecord::Kind::kA:
      case DnsRecord::Kind::kAaaa:
        t["__address__"] = JoinHostPort(r.host, port);
        break;
    }
    out.push_back(std::move(t));
  }
  return out;
}

component::Registration DiscoveryDnsRegistration() {
  component::Registration r = component::MakeRegistration<DiscoveryDnsArgs>(
      "discovery.dns", DecodeDiscoveryDnsArgs,
      [](const component::Options& o,
         const DiscoveryDnsArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        return std::unique_ptr<component::Component>(std::make_unique<DiscoveryDns>(o, a));
      });
  r.exports = {{"targets", "list(map(string)): the targets the DNS lookups found"}};
  return r;
}

}  // namespace starling::components
