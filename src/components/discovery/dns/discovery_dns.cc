#include "components/discovery/dns/discovery_dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <utility>

#include "components/common/refresh.h"

namespace starling::components {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// Go's net.JoinHostPort: IPv6 literals (anything with a colon) are bracketed.
std::string JoinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string TrimFinalDots(std::string s) {
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

base::Result<std::vector<DnsRecord>> LookupAddresses(const std::string& name, bool v6) {
  addrinfo hints{};
  hints.ai_family = v6 ? AF_INET6 : AF_INET;
  hints.ai_socktype = SOCK_STREAM;  // one entry per address
  addrinfo* res = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &res);
  if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY) return std::vector<DnsRecord>{};
  if (rc != 0) {
    return base::Status::Unavailable("could not resolve \"" + name + "\": " + gai_strerror(rc));
  }
  std::vector<DnsRecord> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* addr = ai->ai_family == AF_INET6
                           ? static_cast<const void*>(
                                 &reinterpret_cast<const sockaddr_in6*>(ai->ai_addr)->sin6_addr)
                           : static_cast<const void*>(
                                 &reinterpret_cast<const sockaddr_in*>(ai->ai_addr)->sin_addr);
    if (inet_ntop(ai->ai_family, addr, buf, sizeof(buf)) == nullptr) continue;
    DnsRecord r{v6 ? DnsRecord::Kind::kAaaa : DnsRecord::Kind::kA, buf, 0};
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
  }
  freeaddrinfo(res);
  return out;
}

base::Result<std::vector<DnsRecord>> QueryRecords(const std::string& name, int qtype) {
  struct __res_state state {};
  if (res_ninit(&state) != 0) return base::Status::Unavailable("could not load resolv.conf");
  std::vector<unsigned char> buf(65536);
  // res_nsearch applies the configured search domains, as Prometheus does.
  int n =
      res_nsearch(&state, name.c_str(), ns_c_in, qtype, buf.data(), static_cast<int>(buf.size()));
  int herr = state.res_h_errno;
  res_nclose(&state);
  if (n < 0) {
    // The name does not exist, or has no records of this type: no targets, no error.
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) return std::vector<DnsRecord>{};
    return base::Status::Unavailable("could not resolve \"" + name +
                                     "\": all servers responded with errors to at least one "
                                     "search domain");
  }
  return ParseDnsAnswer(buf.data(), static_cast<std::size_t>(n));
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
      base::Result<std::vector<DnsRecord>> records = LookupDns(name, args.type);
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
                                        const std::vector<DnsRecord>& records, int port) {
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

base::Result<std::vector<DnsRecord>> ParseDnsAnswer(const unsigned char* msg, std::size_t len) {
  ns_msg handle;
  if (ns_initparse(msg, static_cast<int>(len), &handle) != 0) {
    return base::Status::DataLoss("malformed DNS response");
  }
  std::vector<DnsRecord> out;
  int count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) != 0) {
      return base::Status::DataLoss("malformed DNS answer record");
    }
    int type = ns_rr_type(rr);
    std::size_t fixed = type == ns_t_srv ? 6 : type == ns_t_mx ? 2 : 0;
    if (fixed == 0) continue;  // CNAMEs and anything else
    const unsigned char* rdata = ns_rr_rdata(rr);
    if (ns_rr_rdlen(rr) <= fixed) return base::Status::DataLoss("malformed DNS answer record");
    char host[NS_MAXDNAME];
    if (dn_expand(ns_msg_base(handle), ns_msg_end(handle), rdata + fixed, host, sizeof(host)) < 0) {
      return base::Status::DataLoss("malformed DNS answer record");
    }
    DnsRecord r;
    // Rooted, as DNS libraries print names.
    r.host = std::string(host) + ".";
    if (r.host == "..") r.host = ".";
    if (type == ns_t_srv) {
      r.kind = DnsRecord::Kind::kSrv;
      r.port = static_cast<std::uint16_t>((rdata[4] << 8) | rdata[5]);
    } else {
      r.kind = DnsRecord::Kind::kMx;
    }
    out.push_back(std::move(r));
  }
  return out;
}

base::Result<std::vector<DnsRecord>> LookupDns(const std::string& name, const std::string& type) {
  std::string t = Upper(type);
  if (t == "A") return LookupAddresses(name, /*v6=*/false);
  if (t == "AAAA") return LookupAddresses(name, /*v6=*/true);
  if (t == "MX") return QueryRecords(name, ns_t_mx);
  if (t == "SRV") return QueryRecords(name, ns_t_srv);
  return base::Status::InvalidArgument("invalid DNS-SD records type " + type);
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
