#pragma once

// Segment files of the write-ahead log and positions inside them. A WAL directory holds segment
// files named by their index as eight decimal digits (00000000, 00000001, ...). Each segment is a
// sequence of 32 KiB pages of record fragments (see wal.h); a record never spans two segments.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace starling::wal {

inline constexpr std::int64_t kPageSize = 32 * 1024;
inline constexpr std::int64_t kDefaultSegmentSize = 128 * 1024 * 1024;

// A byte offset inside a segment.
struct Position {
  int segment = 0;
  std::int64_t offset = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

// The range [first, last] of segments in a directory; both -1 when there are none.
struct SegmentRange {
  int first = -1;
  int last = -1;
  friend bool operator==(const SegmentRange&, const SegmentRange&) = default;
};

// "<dir>/00000042".
std::string SegmentPath(std::string_view dir, int index);

// Indexes of the segment files in `dir`, ascending. Files whose names are not all digits are
// ignored; a gap in the sequence is an error, as it means segments were lost.
base::Result<std::vector<int>> ListSegments(const std::string& dir);

base::Result<SegmentRange> Segments(const std::string& dir);

}  // namespace starling::wal
