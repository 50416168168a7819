#include "cluster/join.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>

namespace starling::cluster {
namespace {

using net::DnsRecord;

constexpr std::string_view kDnsPrefix = "dns+";
constexpr std::string_view kDnsSrvPrefix = "dnssrv+";
constexpr std::string_view kDnsSrvNoAPrefix = "dnssrvnoa+";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

base::Status DiscoverPeersError(const std::string& message) {
  return base::Status::InvalidArgument("--cluster.discover-peers: " + message);
}

std::string TrimFinalDots(std::string s) {
  while (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

// A port number in 1..65535, or nullopt.
std::optional<int> ParsePort(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port < 1 || port > 65535) return std::nullopt;
  return port;
}

struct HostPort {
  std::string host;
  int port = 0;  // 0: none given
};

// "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal (more than one colon, no
// brackets, so no port). `what` names the value in errors.
base::Result<HostPort> SplitHostPort(std::string_view s, const std::string& what) {
  HostPort out;
  std::string_view port;
  bool has_port = false;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos) {
      return base::Status::InvalidArgument(what + ": missing ']'");
    }
    out.host = std::string(s.substr(1, close - 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return base::Status::InvalidArgument(what + ": unexpected " + Quote(rest) + " after ']'");
      }
      port = rest.substr(1);
      has_port = true;
    }
  } else {
    std::size_t colons = std::count(s.begin(), s.end(), ':');
    if (colons == 1) {
      std::size_t colon = s.find(':');
      out.host = std::string(s.substr(0, colon));
      port = s.substr(colon + 1);
      has_port = true;
    } else {
      out.host = std::string(s);
    }
  }
  if (out.host.empty()) return base::Status::InvalidArgument(what + ": missing host");
  if (has_port) {
    std::optional<int> p = ParsePort(port);
    if (!p.has_value()) {
      return base::Status::InvalidArgument(what + ": invalid port " + Quote(port) +
                                           " (want a number from 1 to 65535)");
    }
    out.port = *p;
  }
  return out;
}

// The canonical text of an IP literal (with an IPv6 zone kept as given); nullopt for names.
std::optional<std::string> IpLiteral(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_pton(AF_INET, host.c_str(), buf) == 1) {
    if (inet_ntop(AF_INET, buf, text, sizeof(text)) != nullptr) return std::string(text);
  }
  std::string bare = host;
  std::string zone;
  if (std::size_t pct = host.find('%'); pct != std::string::npos) {
    bare = host.substr(0, pct);
    zone = host.substr(pct);
  }
  if (inet_pton(AF_INET6, bare.c_str(), buf) == 1) {
    if (inet_ntop(AF_INET6, buf, text, sizeof(text)) != nullptr) return std::string(text) + zone;
  }
  return std::nullopt;
}

bool IsIpv4(const std::string& address) {
  in_addr a;
  return inet_pton(AF_INET, address.c_str(), &a) == 1;
}

std::string JoinErrors(const std::vector<base::Status>& errors) {
  std::string out;
  for (const base::Status& e : errors) {
    if (!out.empty()) out += "; ";
    out += e.message();
  }
  return out;
}

// Which address records to ask for.
struct Families {
  bool v4 = true;
  bool v6 = true;
};

// The addresses of `host`: itself when it is an IP literal, else its A and/or AAAA records.
// A failed lookup of one family is ignored when the other found addresses.
base::Result<std::vector<std::string>> ResolveHost(const std::string& host, Families families,
                                                   JoinResolver& resolver) {
  if (std::optional<std::string> ip = IpLiteral(host); ip.has_value()) return std::vector{*ip};
  std::vector<std::string> out;
  std::vector<base::Status> errors;
  auto add = [&](base::Result<std::vector<std::string>> r) {
    if (!r.ok()) {
      errors.push_back(r.error());
      return;
    }
    for (std::string& a : *r) {
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(std::move(a));
    }
  };
  if (families.v4) add(resolver.LookupA(host));
  if (families.v6) add(resolver.LookupAaaa(host));
  if (out.empty() && !errors.empty()) return base::Status::Unavailable(JoinErrors(errors));
  return out;
}

std::string FamiliesName(Families f) {
  if (f.v4 && f.v6) return "A or AAAA";
  return f.v4 ? "A" : "AAAA";
}

// Collects addresses without duplicates.
class AddressSet {
 public:
  void Add(const std::string& host, int port) {
    std::string a = net::JoinHostPort(host, port);
    if (std::find(addresses_.begin(), addresses_.end(), a) == addresses_.end()) {
      addresses_.push_back(std::move(a));
    }
  }
  std::vector<std::string>& addresses() { return addresses_; }

 private:
  std::vector<std::string> addresses_;
};

// Adds the addresses of the SRV records of `name`. `port` overrides the records' ports when
// not 0; `resolve_targets` turns target names into addresses (dnssrv+) instead of using them as
// they are (dnssrvnoa+). Returns how many addresses were found, or why there are none.
base::Result<int> AddSrv(const std::string& name, int port, bool resolve_targets,
                         JoinResolver& resolver, AddressSet* out) {
  base::Result<std::vector<DnsRecord>> records = resolver.LookupSrv(name);
  if (!records.ok()) return records.error();
  int found = 0;
  std::vector<std::string> failed;
  for (const DnsRecord& r : *records) {
    if (r.kind != DnsRecord::Kind::kSrv) continue;
    const std::string target = TrimFinalDots(r.host);
    const int p = port != 0 ? port : r.port;
    if (target.empty() || p == 0) continue;  // "." means "no such service"
    if (!resolve_targets) {
      out->Add(target, p);
      ++found;
      continue;
    }
    base::Result<std::vector<std::string>> addresses = ResolveHost(target, {}, resolver);
    if (!addresses.ok() || addresses->empty()) {
      failed.push_back(target + (addresses.ok() ? " (no A or AAAA records)"
                                                : " (" + addresses.error().message() + ")"));
      continue;
    }
    for (const std::string& a : *addresses) out->Add(a, p);
    found += static_cast<int>(addresses->size());
  }
  if (found == 0 && !failed.empty()) {
    std::string list;
    for (const std::string& f : failed) list += (list.empty() ? "" : ", ") + f;
    return base::Status::Unavailable("no SRV target resolved: " + list);
  }
  return found;
}

// Adds the addresses of one parsed join entry, or says why there are none.
base::Status AddJoinAddress(const JoinAddress& entry, int default_port, JoinResolver& resolver,
                            AddressSet* out) {
  const int port = entry.port != 0 ? entry.port : default_port;
  switch (entry.mode) {
    case JoinAddress::Mode::kAuto:
    case JoinAddress::Mode::kA: {
      base::Result<std::vector<std::string>> addresses = ResolveHost(entry.host, {}, resolver);
      if (addresses.ok() && !addresses->empty()) {
        for (const std::string& a : *addresses) out->Add(a, port);
        return base::Status::Ok();
      }
      if (entry.mode == JoinAddress::Mode::kA) {
        if (!addresses.ok()) return addresses.error();
        return base::Status::Unavailable("no A or AAAA records found");
      }
      // As Alloy: a name without addresses may name SRV records; their targets join at the
      // entry's (or the listen) port.
      base::Result<int> srv = AddSrv(entry.host, port, /*resolve_targets=*/true, resolver, out);
      if (srv.ok() && *srv > 0) return base::Status::Ok();
      std::vector<base::Status> errors;
      if (!addresses.ok()) errors.push_back(addresses.error());
      if (!srv.ok()) errors.push_back(srv.error());
      if (errors.empty()) return base::Status::Unavailable("no A, AAAA or SRV records found");
      return base::Status::Unavailable(JoinErrors(errors));
    }
    case JoinAddress::Mode::kSrv:
    case JoinAddress::Mode::kSrvNoA: {
      base::Result<int> srv =
          AddSrv(entry.host, entry.port, entry.mode == JoinAddress::Mode::kSrv, resolver, out);
      if (!srv.ok()) return srv.error();
      if (*srv == 0) return base::Status::Unavailable("no SRV records found");
      return base::Status::Ok();
    }
  }
  return base::Status::Internal("unknown join address mode");
}

// The overall result once every entry was tried: an error only when nothing was found.
base::Result<ResolvedPeers> Finish(std::vector<std::string> addresses,
                                   std::vector<base::Status> errors, std::string_view what) {
  if (addresses.empty() && !errors.empty()) {
    const bool all_invalid = std::all_of(errors.begin(), errors.end(), [](const base::Status& s) {
      return s.code() == base::StatusCode::kInvalidArgument;
    });
    std::string message = std::string(what) + ": " + JoinErrors(errors);
    return all_invalid ? base::Status::InvalidArgument(std::move(message))
                       : base::Status::Unavailable(std::move(message));
  }
  return ResolvedPeers{std::move(addresses), std::move(errors)};
}

// go-discover's key=value syntax.
base::Result<std::map<std::string, std::string>> ParseKeyValues(std::string_view s) {
  std::map<std::string, std::string> out;
  std::size_t i = 0;
  // The next token: a key or value (quoted or bare), or "=" (is_equal).
  struct Token {
    std::string text;
    bool is_equal = false;
  };
  auto next = [&](const std::string& key) -> base::Result<std::optional<Token>> {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) return std::optional<Token>();
    if (s[i] == '=') {
      ++i;
      return std::optional<Token>(Token{"", true});
    }
    Token t;
    if (s[i] != '"') {
      while (i < s.size() && s[i] != ' ' && s[i] != '=') t.text += s[i++];
      return std::optional<Token>(std::move(t));
    }
    const std::string where = key.empty() ? "" : key + ": ";
    for (++i; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        ++i;
        return std::optional<Token>(std::move(t));
      }
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (++i == s.size()) break;
      switch (s[i]) {
        case '"':
        case '\\':
          t.text += s[i];
          break;
        case 'n':
          t.text += '\n';
          break;
        case 't':
          t.text += '\t';
          break;
        default:
          return base::Status::InvalidArgument(where + "invalid escape sequence \\" +
                                               std::string(1, s[i]) + " in quotes");
      }
    }
    return base::Status::InvalidArgument(where + "unbalanced quotes");
  };
  while (true) {
    ASSIGN_OR_RETURN(std::optional<Token> key, next(""));
    if (!key.has_value()) break;
    if (key->is_equal) {
      if (out.empty()) return base::Status::InvalidArgument("missing key before '='");
      return base::Status::InvalidArgument("'=' in a value must be quoted, as in key=\"a=b\"");
    }
    if (out.count(key->text) != 0) {
      return base::Status::InvalidArgument(key->text + ": duplicate key");
    }
    ASSIGN_OR_RETURN(std::optional<Token> equal, next(key->text));
    if (!equal.has_value() || !equal->is_equal) {
      return base::Status::InvalidArgument(key->text + ": missing '='");
    }
    ASSIGN_OR_RETURN(std::optional<Token> value, next(key->text));
    if (!value.has_value() || value->is_equal) {
      return base::Status::InvalidArgument(key->text + ": missing value");
    }
    out[key->text] = std::move(value->text);
  }
  return out;
}

bool IsLinkLocal(const std::string& address) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) return buf[0] == 169 && buf[1] == 254;
  if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    return buf[0] == 0xfe && (buf[1] & 0xc0) == 0x80;
  }
  return false;
}

bool IsLoopbackAddress(const std::string& address) {
  unsigned char buf[sizeof(in6_addr)];
  if (inet_pton(AF_INET, address.c_str(), buf) == 1) return buf[0] == 127;
  if (inet_pton(AF_INET6, address.c_str(), buf) == 1) {
    static const unsigned char kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(buf, kLoopback, sizeof(kLoopback)) == 0;
  }
  return false;
}

// Lower is better: IPv4, IPv6, IPv4 link-local, IPv6 link-local.
int AddressRank(const std::string& address) {
  const bool v4 = IsIpv4(address);
  return (IsLinkLocal(address) ? 2 : 0) + (v4 ? 0 : 1);
}

}  // namespace

base::Result<std::vector<std::string>> DnsJoinResolver::LookupA(const std::string& host) {
  base::Result<std::vector<DnsRecord>> records =
      nameserver_.has_value()
          ? net::QueryDns(host, DnsRecord::Kind::kA, {.nameserver = nameserver_})
          : net::LookupDns(host, "A");
  if (!records.ok()) return records.error();
  std::vector<std::string> out;
  for (DnsRecord& r : *records) out.push_back(std::move(r.host));
  return out;
}

base::Result<std::vector<std::string>> DnsJoinResolver::LookupAaaa(const std::string& host) {
  base::Result<std::vector<DnsRecord>> records =
      nameserver_.has_value()
          ? net::QueryDns(host, DnsRecord::Kind::kAaaa, {.nameserver = nameserver_})
          : net::LookupDns(host, "AAAA");
  if (!records.ok()) return records.error();
  std::vector<std::string> out;
  for (DnsRecord& r : *records) out.push_back(std::move(r.host));
  return out;
}

base::Result<std::vector<DnsRecord>> DnsJoinResolver::LookupSrv(const std::string& name) {
  return net::QueryDns(name, DnsRecord::Kind::kSrv, {.nameserver = nameserver_});
}

std::vector<std::string> SplitCommaList(std::string_view value) {
  std::vector<std::string> out;
  while (true) {
    std::size_t comma = value.find(',');
    std::string_view item = Trim(value.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

base::Result<JoinAddress> ParseJoinAddress(std::string_view entry) {
  const std::string what = "join address " + Quote(Trim(entry));
  std::string_view s = Trim(entry);
  JoinAddress out;
  // dnssrvnoa+ before dnssrv+ is not needed ("dnssrv+" is not a prefix of "dnssrvnoa+"), but
  // keeps the intent plain.
  if (s.substr(0, kDnsSrvNoAPrefix.size()) == kDnsSrvNoAPrefix) {
    out.mode = JoinAddress::Mode::kSrvNoA;
    s.remove_prefix(kDnsSrvNoAPrefix.size());
  } else if (s.substr(0, kDnsSrvPrefix.size()) == kDnsSrvPrefix) {
    out.mode = JoinAddress::Mode::kSrv;
    s.remove_prefix(kDnsSrvPrefix.size());
  } else if (s.substr(0, kDnsPrefix.size()) == kDnsPrefix) {
    out.mode = JoinAddress::Mode::kA;
    s.remove_prefix(kDnsPrefix.size());
  }
  ASSIGN_OR_RETURN(HostPort hp, SplitHostPort(s, what));
  out.host = std::move(hp.host);
  out.port = hp.port;
  return out;
}

base::Result<ResolvedPeers> ResolveJoinAddresses(const std::vector<std::string>& entries,
                                                 int default_port, JoinResolver& resolver) {
  AddressSet found;
  std::vector<base::Status> errors;
  for (const std::string& raw : entries) {
    if (Trim(raw).empty()) continue;
    base::Result<JoinAddress> entry = ParseJoinAddress(raw);
    if (!entry.ok()) {
      errors.push_back(entry.error());
      continue;
    }
    base::Status st = AddJoinAddress(*entry, default_port, resolver, &found);
    if (!st.ok()) {
      errors.emplace_back(st.code(), "join address " + Quote(Trim(raw)) + ": " + st.message());
    }
  }
  return Finish(std::move(found.addresses()), std::move(errors),
                "failed to find any valid join addresses");
}

base::Result<DiscoverPeersConfig> ParseDiscoverPeers(std::string_view value) {
  base::Result<std::map<std::string, std::string>> kv = ParseKeyValues(value);
  if (!kv.ok()) return DiscoverPeersError(kv.error().message());
  auto provider = kv->find("provider");
  if (provider == kv->end()) {
    return DiscoverPeersError("no provider; expected \"provider=dns name=<name>[,<name>...]\"");
  }
  if (provider->second != "dns") {
    return DiscoverPeersError("provider " + Quote(provider->second) +
                              " is not supported; only provider=dns is supported");
  }
  DiscoverPeersConfig out;
  for (const auto& [key, v] : *kv) {
    if (key == "provider") continue;
    if (key == "name") {
      out.names = SplitCommaList(v);
    } else if (key == "type") {
      std::string t = v;
      std::transform(t.begin(), t.end(), t.begin(),
                     [](unsigned char c) { return std::toupper(c); });
      if (t == "A") {
        out.type = DiscoverPeersConfig::RecordType::kA;
      } else if (t == "AAAA") {
        out.type = DiscoverPeersConfig::RecordType::kAaaa;
      } else if (t == "SRV") {
        out.type = DiscoverPeersConfig::RecordType::kSrv;
      } else {
        return DiscoverPeersError("invalid type " + Quote(v) +
                                  " for provider=dns; want A, AAAA or SRV");
      }
    } else if (key == "port") {
      std::optional<int> port = ParsePort(v);
      if (!port.has_value()) {
        return DiscoverPeersError("invalid port " + Quote(v) + "; want a number from 1 to 65535");
      }
      out.port = *port;
    } else {
      return DiscoverPeersError("unknown key " + Quote(key) +
                                " for provider=dns; known keys: name, port, type");
    }
  }
  if (out.names.empty()) {
    return DiscoverPeersError("provider=dns needs name=<name>[,<name>...]");
  }
  return out;
}

base::Result<ResolvedPeers> DiscoverPeers(const DiscoverPeersConfig& config, int default_port,
                                          JoinResolver& resolver) {
  using Type = DiscoverPeersConfig::RecordType;
  AddressSet found;
  std::vector<base::Status> errors;
  for (const std::string& name : config.names) {
    base::Status st;
    if (config.type == Type::kSrv) {
      base::Result<int> srv = AddSrv(name, config.port, /*resolve_targets=*/true, resolver, &found);
      if (!srv.ok()) {
        st = srv.error();
      } else if (*srv == 0) {
        st = base::Status::Unavailable("no SRV records found");
      }
    } else {
      Families families{config.type != Type::kAaaa, config.type != Type::kA};
      base::Result<std::vector<std::string>> addresses = ResolveHost(name, families, resolver);
      if (!addresses.ok()) {
        st = addresses.error();
      } else if (addresses->empty()) {
        st = base::Status::Unavailable("no " + FamiliesName(families) + " records found");
      } else {
        for (const std::string& a : *addresses) {
          found.Add(a, config.port != 0 ? config.port : default_port);
        }
      }
    }
    if (!st.ok()) errors.emplace_back(st.code(), "peer name " + Quote(name) + ": " + st.message());
  }
  return Finish(std::move(found.addresses()), std::move(errors), "failed to discover any peers");
}

base::Result<std::vector<InterfaceAddress>> ListInterfaceAddresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) {
    return base::Status::Unavailable(std::string("could not list network interfaces: ") +
                                     std::strerror(errno));
  }
  std::vector<InterfaceAddress> out;
  for (ifaddrs* ifa = list; ifa != nullptr; ifa = ifa->ifa_next) {
    if (ifa->ifa_addr == nullptr || ifa->ifa_name == nullptr) continue;
    const int family = ifa->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    const void* addr = family == AF_INET
                           ? static_cast<const void*>(
                                 &reinterpret_cast<const sockaddr_in*>(ifa->ifa_addr)->sin_addr)
                           : static_cast<const void*>(
                                 &reinterpret_cast<const sockaddr_in6*>(ifa->ifa_addr)->sin6_addr);
    char text[INET6_ADDRSTRLEN] = {};
    if (inet_ntop(family, addr, text, sizeof(text)) == nullptr) continue;
    out.push_back({ifa->ifa_name, text, (ifa->ifa_flags & IFF_LOOPBACK) != 0,
                   (ifa->ifa_flags & IFF_UP) != 0});
  }
  freeifaddrs(list);
  return out;
}

base::Result<AdvertiseAddress> DetermineAdvertiseAddress(std::string_view flag_value,
                                                         std::string_view interfaces_csv,
                                                         int listen_port) {
  if (!Trim(flag_value).empty()) {
    return DetermineAdvertiseAddress(flag_value, interfaces_csv, listen_port, {});
  }
  base::Result<std::vector<InterfaceAddress>> interfaces = ListInterfaceAddresses();
  if (!interfaces.ok()) {
    return AdvertiseAddress{net::JoinHostPort("127.0.0.1", listen_port),
                            interfaces.error().message() + "; advertising 127.0.0.1, which " +
                                "other nodes cannot reach: set --cluster.advertise-address"};
  }
  return DetermineAdvertiseAddress(flag_value, interfaces_csv, listen_port, *interfaces);
}

base::Result<AdvertiseAddress> DetermineAdvertiseAddress(
    std::string_view flag_value, std::string_view interfaces_csv, int listen_port,
    const std::vector<InterfaceAddress>& interfaces) {
  if (std::string_view flag = Trim(flag_value); !flag.empty()) {
    ASSIGN_OR_RETURN(HostPort hp,
                     SplitHostPort(flag, "--cluster.advertise-address " + Quote(flag)));
    return AdvertiseAddress{net::JoinHostPort(hp.host, hp.port != 0 ? hp.port : listen_port), ""};
  }
  const std::vector<std::string> names = SplitCommaList(interfaces_csv);
  const bool all = names.size() == 1 && names[0] == "all";
  const InterfaceAddress* best = nullptr;
  int best_rank = 0;
  int best_order = 0;
  for (const InterfaceAddress& ia : interfaces) {
    if (ia.loopback || !ia.up || IsLoopbackAddress(ia.address)) continue;
    if (!IsIpv4(ia.address) && !IpLiteral(ia.address).has_value()) continue;
    int order = 0;
    if (!all) {
      auto it = std::find(names.begin(), names.end(), ia.interface);
      if (it == names.end()) continue;
      order = static_cast<int>(it - names.begin());
    }
    const int rank = AddressRank(ia.address);
    // Interfaces in the order named, then addresses in the system's order.
    if (best == nullptr || rank < best_rank || (rank == best_rank && order < best_order)) {
      best = &ia;
      best_rank = rank;
      best_order = order;
    }
  }
  if (best != nullptr) return AdvertiseAddress{net::JoinHostPort(best->address, listen_port), ""};
  std::string listed;
  for (const std::string& n : names) listed += (listed.empty() ? "" : ",") + n;
  const std::string fallback = net::JoinHostPort("127.0.0.1", listen_port);
  return AdvertiseAddress{fallback,
                          "could not find an address to advertise on network "
                          "interfaces " +
                              Quote(listed) + "; falling back to " + fallback +
                              ", which other nodes cannot reach: set "
                              "--cluster.advertise-address or "
                              "--cluster.advertise-interfaces"};
}

base::Result<std::string> DefaultNodeName() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) {
    return base::Status::Unavailable(std::string("generating node name: ") + std::strerror(errno));
  }
  std::string name(buf);
  if (name.empty()) return base::Status::Unavailable("generating node name: empty hostname");
  return name;
}

}  // namespace starling::cluster
