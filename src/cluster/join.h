#pragma once

// Join helpers behind `starling run --cluster.*`: what this node is called
// (--cluster.node-name), the address other nodes reach it at (--cluster.advertise-address,
// --cluster.advertise-interfaces) and the peers it contacts to join (--cluster.join-addresses
// or --cluster.discover-peers, resolved through DNS). They run at startup and again on every
// rejoin; name lookups block, so callers keep them off the I/O threads.
//
// Join addresses, as Grafana Alloy reads them. Each comma-separated entry is a host with an
// optional port ("10.0.0.1", "node-1:12345", "[fd00::1]:12345", "peers.example"); without a
// port, the HTTP listen port is used. A host is resolved by its prefix:
//   (none)       an IP literal is used as is; otherwise A and AAAA records, and when the name
//                has none, its SRV records' targets (resolved with A/AAAA) at the entry's or the
//                listen port, as Alloy does;
//   dns+         A and AAAA records;
//   dnssrv+      SRV records, each target resolved with A/AAAA, at the record's port;
//   dnssrvnoa+   SRV records, the target names used as they are, at the record's port.
// An explicit port in the entry overrides the SRV records' ports.
//
// Peer discovery (--cluster.discover-peers) uses go-discover's "provider=NAME key=value ..."
// syntax; Starling supports only provider=dns:
//   provider=dns name=<name>[,<name>...] [type=A|AAAA|SRV] [port=<port>]
// Without type, both A and AAAA records are used; with type=SRV the targets are resolved with
// A/AAAA and the records' ports are used unless port= is given.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "net/dns.h"

namespace starling::cluster {

// The name lookups a join needs. DnsJoinResolver is the real one; tests inject fakes. The join
// functions call it from the calling thread only.
class JoinResolver {
 public:
  virtual ~JoinResolver() = default;
  // The IPv4 addresses (A records) of `host`, as text. A name without any: an empty list.
  virtual base::Result<std::vector<std::string>> LookupA(const std::string& host) = 0;
  // The IPv6 addresses (AAAA records) of `host`, as text.
  virtual base::Result<std::vector<std::string>> LookupAaaa(const std::string& host) = 0;
  // The SRV records of `name` (kind kSrv, with the target name and port).
  virtual base::Result<std::vector<net::DnsRecord>> LookupSrv(const std::string& name) = 0;
};

// Lookups over net/dns. With the system configuration, addresses come from getaddrinfo (so
// /etc/hosts applies, as in Go's resolver) and SRV records from DNS with resolv.conf's search
// domains. Given a nameserver, every lookup is a DNS query to that server alone. Thread-safe.
class DnsJoinResolver final : public JoinResolver {
 public:
  DnsJoinResolver() = default;
  explicit DnsJoinResolver(net::Nameserver nameserver) : nameserver_(std::move(nameserver)) {}

  base::Result<std::vector<std::string>> LookupA(const std::string& host) override;
  base::Result<std::vector<std::string>> LookupAaaa(const std::string& host) override;
  base::Result<std::vector<net::DnsRecord>> LookupSrv(const std::string& name) override;

 private:
  std::optional<net::Nameserver> nameserver_;
};

// One entry of --cluster.join-addresses.
struct JoinAddress {
  enum class Mode {
    kAuto,    // no prefix
    kA,       // dns+
    kSrv,     // dnssrv+
    kSrvNoA,  // dnssrvnoa+
  };
  Mode mode = Mode::kAuto;
  std::string host;  // without brackets or prefix
  int port = 0;      // 0 when the entry has none
  friend bool operator==(const JoinAddress&, const JoinAddress&) = default;
};

// Parses one entry (surrounding spaces ignored). kInvalidArgument for an empty host or a port
// that is not a number in 1..65535. Does no lookups, so the flag can be checked at startup.
base::Result<JoinAddress> ParseJoinAddress(std::string_view entry);

// The entries of a comma-separated flag value, trimmed, without empty ones.
std::vector<std::string> SplitCommaList(std::string_view value);

// What a resolution found.
struct ResolvedPeers {
  // "host:port" (IPv6 bracketed), without duplicates, in the order found.
  std::vector<std::string> addresses;
  // One per entry (or discovered name) that gave no address, saying why; for the caller to log.
  std::vector<base::Status> errors;
};

// Resolves join address entries (see the top of this file); `default_port` is the HTTP listen
// port. An entry that yields nothing is reported in `errors`; only when every entry fails is
// the result an error (kInvalidArgument when every entry is malformed, else kUnavailable),
// naming each failure. No entries: no addresses, no error (a seed node).
base::Result<ResolvedPeers> ResolveJoinAddresses(const std::vector<std::string>& entries,
                                                 int default_port, JoinResolver& resolver);

// --cluster.discover-peers with provider=dns.
struct DiscoverPeersConfig {
  enum class RecordType {
    kAddress,  // A and AAAA (the default)
    kA,
    kAaaa,
    kSrv,
  };
  std::vector<std::string> names;
  RecordType type = RecordType::kAddress;
  int port = 0;  // 0: the listen port, or for SRV the records' ports
  friend bool operator==(const DiscoverPeersConfig&, const DiscoverPeersConfig&) = default;
};

// Parses the flag value (go-discover's syntax: space-separated key=value pairs, a key or value
// with spaces, '=', backslashes or double quotes written in double quotes with backslash
// escapes). A provider other than dns is kInvalidArgument naming it; so are unknown keys and
// malformed values.
base::Result<DiscoverPeersConfig> ParseDiscoverPeers(std::string_view value);

// Looks up every name of `config`; error reporting as ResolveJoinAddresses.
base::Result<ResolvedPeers> DiscoverPeers(const DiscoverPeersConfig& config, int default_port,
                                          JoinResolver& resolver);

// An IP address of a network interface, as getifaddrs reports it.
struct InterfaceAddress {
  std::string interface;  // "eth0"
  std::string address;    // "10.0.0.5", "fd00::5" (IPv6 without zone)
  bool loopback = false;  // the interface is a loopback one
  bool up = true;
};

// The IPv4 and IPv6 addresses of this machine's interfaces, in the system's order.
base::Result<std::vector<InterfaceAddress>> ListInterfaceAddresses();

struct AdvertiseAddress {
  std::string address;  // "host:port", IPv6 bracketed
  std::string warning;  // set when no interface had a usable address and 127.0.0.1 is used
};

// The address this node advertises to its peers:
// - `flag_value` (--cluster.advertise-address) when not empty: "host[:port]", the port
//   defaulting to `listen_port`; a malformed value is kInvalidArgument;
// - else an address of the interfaces named in `interfaces_csv` (--cluster.advertise-
//   interfaces; "all" alone means every interface), preferring, in turn: IPv4, IPv6, IPv4
//   link-local, IPv6 link-local; within a kind, the first in the order the interfaces are
//   named. Loopback addresses and interfaces that are down are never chosen;
// - else 127.0.0.1:`listen_port`, with a warning for the caller to log.
// The second form takes the interface addresses instead of asking the system.
base::Result<AdvertiseAddress> DetermineAdvertiseAddress(std::string_view flag_value,
                                                         std::string_view interfaces_csv,
                                                         int listen_port);
base::Result<AdvertiseAddress> DetermineAdvertiseAddress(
    std::string_view flag_value, std::string_view interfaces_csv, int listen_port,
    const std::vector<InterfaceAddress>& interfaces);

// The default --cluster.node-name: this machine's hostname.
base::Result<std::string> DefaultNodeName();

}  // namespace starling::cluster
