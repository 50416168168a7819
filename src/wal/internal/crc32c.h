#pragma once

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of WAL record fragments.
// The SSE4.2 crc32 instruction where the CPU has it, else software slicing-by-8; pure
// functions, safe from any thread.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace starling::wal::internal {

// Continues a CRC-32C over `size` more bytes: Crc32cExtend(Crc32c(a), b) == Crc32c(a + b).
std::uint32_t Crc32cExtend(std::uint32_t crc, const void* data, std::size_t size);

// The software implementation alone, so tests can check both against each other.
std::uint32_t Crc32cExtendPortable(std::uint32_t crc, const void* data, std::size_t size);

inline std::uint32_t Crc32c(const void* data, std::size_t size) {
  return Crc32cExtend(0, data, size);
}
inline std::uint32_t Crc32c(std::string_view data) { return Crc32c(data.data(), data.size()); }

}  // namespace starling::wal::internal
