#include "net/dns.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <utility>

namespace starling::net {
namespace {

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string KindName(DnsRecord::Kind kind) {
  switch (kind) {
    case DnsRecord::Kind::kA:
      return "A";
    case DnsRecord::Kind::kAaaa:
      return "AAAA";
    case DnsRecord::Kind::kSrv:
      return "SRV";
    case DnsRecord::Kind::kMx:
      return "MX";
  }
  return "?";
}

int QueryType(DnsRecord::Kind kind) {
  switch (kind) {
    case DnsRecord::Kind::kA:
      return ns_t_a;
    case DnsRecord::Kind::kAaaa:
      return ns_t_aaaa;
    case DnsRecord::Kind::kSrv:
      return ns_t_srv;
    case DnsRecord::Kind::kMx:
      return ns_t_mx;
  }
  return ns_t_a;
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

// Releases a resolver state on every path out of QueryDns.
class ResolverState {
 public:
  ResolverState() = default;
  ~ResolverState() {
    if (initialized_) res_nclose(&state_);
  }
  ResolverState(const ResolverState&) = delete;
  ResolverState& operator=(const ResolverState&) = delete;

  bool Init() {
    initialized_ = res_ninit(&state_) == 0;
    return initialized_;
  }
  res_state get() { return &state_; }

 private:
  struct __res_state state_ {};
  bool initialized_ = false;
};

}  // namespace

std::string JoinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
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
    const int type = ns_rr_type(rr);
    const unsigned char* rdata = ns_rr_rdata(rr);
    const std::size_t rdlen = ns_rr_rdlen(rr);
    if (type == ns_t_a || type == ns_t_aaaa) {
      const bool v6 = type == ns_t_aaaa;
      if (rdlen != (v6 ? 16u : 4u)) return base::Status::DataLoss("malformed DNS answer record");
      char buf[INET6_ADDRSTRLEN] = {};
      if (inet_ntop(v6 ? AF_INET6 : AF_INET, rdata, buf, sizeof(buf)) == nullptr) {
        return base::Status::DataLoss("malformed DNS answer record");
      }
      out.push_back({v6 ? DnsRecord::Kind::kAaaa : DnsRecord::Kind::kA, buf, 0});
      continue;
    }
    std::size_t fixed = type == ns_t_srv ? 6 : type == ns_t_mx ? 2 : 0;
    if (fixed == 0) continue;  // CNAMEs and anything else
    if (rdlen <= fixed) return base::Status::DataLoss("malformed DNS answer record");
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

base::Result<std::vector<DnsRecord>> QueryDns(const std::string& name, DnsRecord::Kind kind,
                                              const DnsQueryOptions& options) {
  ResolverState state;
  if (!state.Init()) return base::Status::Unavailable("could not load resolv.conf");
  res_state res = state.get();
  if (options.nameserver.has_value()) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(options.nameserver->port);
    if (inet_pton(AF_INET, options.nameserver->address.c_str(), &addr.sin_addr) != 1) {
      return base::Status::InvalidArgument("nameserver \"" + options.nameserver->address +
                                           "\" is not an IPv4 address");
    }
    // glibc copies the list into its private per-state copy on the next send, replacing any
    // server resolv.conf named (IPv6 ones included).
    res->nsaddr_list[0] = addr;
    res->nscount = 1;
    res->options &= ~static_cast<decltype(res->options)>(RES_USEVC);
  }
  std::vector<unsigned char> buf(65536);
  const int qtype = QueryType(kind);
  const int n =
      options.nameserver.has_value()
          ? res_nquery(res, name.c_str(), ns_c_in, qtype, buf.data(), static_cast<int>(buf.size()))
          // res_nsearch applies the configured search domains, as Prometheus does.
          : res_nsearch(res, name.c_str(), ns_c_in, qtype, buf.data(),
                        static_cast<int>(buf.size()));
  const int herr = res->res_h_errno;
  if (n < 0) {
    // The name does not exist, or has no records of this type: no records, no error.
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) return std::vector<DnsRecord>{};
    if (!options.nameserver.has_value()) {
      // Prometheus' wording, which discovery.dns reports.
      return base::Status::Unavailable("could not resolve \"" + name +
                                       "\": all servers responded with errors to at least one "
                                       "search domain");
    }
    return base::Status::Unavailable("could not resolve " + KindName(kind) + " records of \"" +
                                     name + "\": the nameserver " + options.nameserver->address +
                                     ":" + std::to_string(options.nameserver->port) +
                                     " failed or did not answer");
  }
  ASSIGN_OR_RETURN(std::vector<DnsRecord> all,
                   ParseDnsAnswer(buf.data(), static_cast<std::size_t>(n)));
  std::vector<DnsRecord> out;
  for (DnsRecord& r : all) {
    if (r.kind == kind && std::find(out.begin(), out.end(), r) == out.end()) {
      out.push_back(std::move(r));
    }
  }
  return out;
}

base::Result<std::vector<DnsRecord>> LookupDns(const std::string& name, const std::string& type) {
  std::string t = Upper(type);
  if (t == "A") return LookupAddresses(name, /*v6=*/false);
  if (t == "AAAA") return LookupAddresses(name, /*v6=*/true);
  if (t == "MX") return QueryDns(name, DnsRecord::Kind::kMx);
  if (t == "SRV") return QueryDns(name, DnsRecord::Kind::kSrv);
  return base::Status::InvalidArgument("invalid DNS-SD records type " + type);
}

}  // namespace starling::net
