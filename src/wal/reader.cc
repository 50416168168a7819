#include "wal/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "wal/internal/crc32c.h"
#include "wal/internal/format.h"

namespace starling::wal {

using internal::kRecordHeaderSize;

Reader::Reader(std::string dir, ReaderOptions options)
    : dir_(std::move(dir)), options_(options), page_(new char[kPageSize]) {
  offset_ = options_.offset;
}

Reader::~Reader() {
  if (fd_ >= 0) ::close(fd_);
}

base::Status Reader::OpenSegment(int index) {
  std::string path = SegmentPath(dir_, index);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoStatus("open segment", path, errno);
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  segment_ = index;
  path_ = std::move(path);
  page_index_ = -1;
  page_len_ = 0;
  return base::Status::Ok();
}

base::Result<std::optional<int>> Reader::FindNextSegment() const {
  if (options_.live && segment_ >= 0) {
    // A writer creates segments in sequence, so when following one, a stat of the next name
    // answers without listing the directory on every poll.
    if (options_.last_segment >= 0 && segment_ + 1 > options_.last_segment) {
      return std::optional<int>();
    }
    struct stat st {};
    if (::stat(SegmentPath(dir_, segment_ + 1).c_str(), &st) == 0) {
      return std::optional<int>(segment_ + 1);
    }
    if (errno == ENOENT) return std::optional<int>();
    return base::Status::Internal("cannot stat the next segment in " + dir_ + ": " +
                                  std::strerror(errno));
  }
  ASSIGN_OR_RETURN(std::vector<int> indexes, ListSegments(dir_));
  for (int index : indexes) {
    if (options_.last_segment >= 0 && index > options_.last_segment) break;
    if (index > segment_) return std::optional<int>(index);
  }
  return std::optional<int>();
}

base::Status Reader::Corrupt(std::int64_t offset, std::string_view what) {
  corruption_ = Position{segment_, offset};
  error_ = base::Status::DataLoss("corruption in segment " + path_ + " at " +
                                  std::to_string(offset) + ": " + std::string(what));
  return error_;
}

base::Result<std::size_t> Reader::Load(std::size_t need) {
  const std::int64_t index = offset_ / kPageSize;
  const auto pos = static_cast<std::size_t>(offset_ % kPageSize);
  const bool stale = index != page_index_ ||
                     (page_len_ < pos + need && page_len_ < static_cast<std::size_t>(kPageSize));
  if (stale) {
    ASSIGN_OR_RETURN(page_len_,
                     internal::ReadAt(fd_, page_.get(), kPageSize, index * kPageSize, path_));
    page_index_ = index;
  }
  return page_len_ > pos ? page_len_ - pos : 0;
}

base::Result<Reader::Step> Reader::ReadInSegment() {
  const std::int64_t start = offset_;
  int fragments = 0;
  for (;;) {
    const auto pos = static_cast<std::size_t>(offset_ % kPageSize);
    ASSIGN_OR_RETURN(std::size_t avail, Load(1));
    if (avail == 0) return fragments == 0 ? Step::kEnd : Step::kPartial;
    const auto* p = reinterpret_cast<const unsigned char*>(page_.get()) + pos;
    if (p[0] == internal::kPageTerm) {
      const std::size_t rest = kPageSize - pos;
      ASSIGN_OR_RETURN(avail, Load(rest));
      if (avail < rest) return Step::kPartial;
      if (std::any_of(p + 1, p + rest, [](unsigned char c) { return c != 0; })) {
        return Corrupt(start, "unexpected non-zero byte in padded page");
      }
      offset_ += static_cast<std::int64_t>(rest);
      continue;
    }
    if (kPageSize - pos < kRecordHeaderSize) {
      return Corrupt(start, "record header crosses a page boundary");
    }
    ASSIGN_OR_RETURN(avail, Load(kRecordHeaderSize));
    if (avail < kRecordHeaderSize) return Step::kPartial;

    const std::uint8_t type_byte = p[0];
    const auto type = static_cast<std::uint8_t>(type_byte & internal::kTypeMask);
    const std::size_t length = static_cast<std::size_t>(p[1]) << 8 | p[2];
    const std::uint32_t crc = static_cast<std::uint32_t>(p[3]) << 24 |
                              static_cast<std::uint32_t>(p[4]) << 16 |
                              static_cast<std::uint32_t>(p[5]) << 8 | p[6];
    char buf[64];
    if ((type_byte & ~(internal::kTypeMask | internal::kSnappyMask | internal::kZstdMask)) != 0) {
      std::snprintf(buf, sizeof(buf), "invalid record header byte 0x%02x", type_byte);
      return Corrupt(start, buf);
    }
    if (length > kPageSize - kRecordHeaderSize) {
      return Corrupt(start, "invalid record size " + std::to_string(length));
    }
    if (pos + kRecordHeaderSize + length > kPageSize) {
      return Corrupt(
          start, "record fragment of " + std::to_string(length) + " bytes crosses a page boundary");
    }
    ASSIGN_OR_RETURN(avail, Load(kRecordHeaderSize + length));
    if (avail < kRecordHeaderSize + length) return Step::kPartial;
    const char* data = page_.get() + pos + kRecordHeaderSize;
    if (const std::uint32_t got = internal::Crc32c(data, length); got != crc) {
      std::snprintf(buf, sizeof(buf), "unexpected checksum %x, expected %x", got, crc);
      return Corrupt(start, buf);
    }
    if ((type_byte & (internal::kSnappyMask | internal::kZstdMask)) != 0) {
      return Corrupt(start, "compressed records are not supported");
    }
    switch (type) {
      case internal::kFull:
        if (fragments != 0) return Corrupt(start, "unexpected full record");
        break;
      case internal::kFirst:
        if (fragments != 0) return Corrupt(start, "unexpected first record");
        break;
      case internal::kMiddle:
        if (fragments == 0) return Corrupt(start, "unexpected middle record");
        break;
      case internal::kLast:
        if (fragments == 0) return Corrupt(start, "unexpected last record");
        break;
      default:
        return Corrupt(start, "unexpected record type " + std::to_string(type));
    }
    record_.append(data, length);
    offset_ += static_cast<std::int64_t>(kRecordHeaderSize + length);
    if (type == internal::kFull || type == internal::kLast) return Step::kRecord;
    ++fragments;
  }
}

base::Result<bool> Reader::Next() {
  if (!error_.ok()) return error_;
  record_.clear();
  if (segment_ < 0) {
    int first = options_.first_segment;
    if (first < 0) {
      ASSIGN_OR_RETURN(std::vector<int> indexes, ListSegments(dir_));
      if (indexes.empty()) return false;
      first = indexes.front();
    }
    if (base::Status s = OpenSegment(first); !s.ok()) {
      // A live reader may be waiting for a segment the writer has not created yet.
      if (options_.live && s.code() == base::StatusCode::kNotFound) return false;
      error_ = s;
      return s;
    }
  }
  int next = -1;  // Set once a later segment is known to exist.
  for (;;) {
    const std::int64_t start = offset_;
    base::Result<Step> step = ReadInSegment();
    if (!step.ok()) {
      error_ = step.status();
      return error_;
    }
    if (*step == Step::kRecord) return true;
    offset_ = start;
    record_.clear();
    if (next < 0) {
      ASSIGN_OR_RETURN(std::optional<int> found, FindNextSegment());
      if (!found.has_value()) {
        if (*step == Step::kPartial && !options_.live) {
          return Corrupt(start, "unexpected end of segment inside a record");
        }
        return false;
      }
      next = *found;
      // The writer finishes a segment before it creates the next one, but it may have appended
      // after our read above; read once more before moving on.
      continue;
    }
    if (*step == Step::kPartial) return Corrupt(start, "last record is torn");
    if (base::Status s = OpenSegment(next); !s.ok()) {
      error_ = s;
      return s;
    }
    offset_ = 0;
    next = -1;
  }
}

}  // namespace starling::wal
