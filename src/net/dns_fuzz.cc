// Arbitrary DNS response messages (the server is not trusted): parsing must never crash, and
// every record it returns must be usable as a target address.

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "net/dns.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto records = starling::net::ParseDnsAnswer(data, size);
  if (!records.ok()) return 0;
  for (const starling::net::DnsRecord& r : *records) {
    if (r.host.empty()) std::abort();
    const bool named = r.kind == starling::net::DnsRecord::Kind::kSrv ||
                       r.kind == starling::net::DnsRecord::Kind::kMx;
    // Names come back rooted, as DNS libraries print them.
    if (named && r.host.back() != '.') std::abort();
    if (!named && r.port != 0) std::abort();
  }
  return 0;
}
