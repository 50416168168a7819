#pragma once

// Unsigned varints (LEB128, as protobuf and Go's encoding/binary write them), shared by the WAL,
// the remote-write encoder and the cluster's messages.

#include <cstddef>
#include <cstdint>

namespace starling::base {

// Bytes of the varint encoding of v (1 to 10).
inline std::size_t VarintSize(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Writes v as a varint at p, which must have VarintSize(v) bytes of room; returns the byte
// after it.
inline char* PutUvarint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// Appends v as a varint to *out, a std::string or a vector of bytes.
template <typename Bytes>
void AppendUvarint(std::uint64_t v, Bytes* out) {
  char buf[10];
  out->insert(out->end(), buf, PutUvarint(buf, v));
}

}  // namespace starling::base
