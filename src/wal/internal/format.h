#pragma once

// The on-disk framing of record fragments, shared by the writer and the reader. Prometheus's
// WAL layout, itself derived from LevelDB's log format: a 7-byte header per fragment,
//   byte 0     type: bits 0-2 fragment type, bit 3 snappy flag, bit 4 zstd flag, bits 5-7 zero
//   bytes 1-2  length of the fragment's data, big-endian
//   bytes 3-6  CRC-32C of the fragment's data only (not of the header), big-endian
// followed by the data. A fragment never crosses a page; a zero type byte means the rest of the
// page is zero padding.

#include <cstdint>
#include <string>

#include "base/status.h"

namespace starling::wal::internal {

inline constexpr int kRecordHeaderSize = 7;

enum RecordType : std::uint8_t {
  kPageTerm = 0,
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};
inline constexpr std::uint8_t kTypeMask = 0x07;
inline constexpr std::uint8_t kSnappyMask = 1 << 3;
inline constexpr std::uint8_t kZstdMask = 1 << 4;

// A Status for a failed system call: "<op> <path>: <strerror(err)>", with a code from errno.
base::Status ErrnoStatus(std::string_view op, const std::string& path, int err);

// write(2) until everything is written, retrying on EINTR. *written counts what made it out.
base::Status WriteAll(int fd, const char* data, std::size_t size, const std::string& path,
                      std::size_t* written);

// pread(2) up to `size` bytes at `offset`, stopping early only at end of file.
base::Result<std::size_t> ReadAt(int fd, char* data, std::size_t size, std::int64_t offset,
                                 const std::string& path);

// fsync(2) of a directory, so that created and removed entries are durable.
base::Status SyncDir(const std::string& dir);

}  // namespace starling::wal::internal
