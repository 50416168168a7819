#pragma once

// Sequential reading of WAL records across segments. A Reader is a cursor: Next() yields one
// record at a time, in the order they were logged, starting at a (segment, offset) where a
// record begins. Damaged data is reported as a kDataLoss Status naming the segment and the offset
// of the record it hit; the reader never trusts lengths or types read from disk.
//
// In live mode the reader follows a WAL that a Wal in this or another process is still writing:
// running out of data, even in the middle of a record on a partially written page, means "nothing
// more yet" and a later Next() picks up where the last complete record ended.
//
// A Reader is thread-compatible: use one from one thread at a time. It reads files with pread and
// needs no coordination with the writer.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "wal/segment.h"

namespace starling::wal {

struct ReaderOptions {
  // Segment to start in; -1 for the first one present when reading begins.
  int first_segment = -1;
  // Offset in that segment; must be where a record (or page padding) begins.
  std::int64_t offset = 0;
  // Stop after this segment; -1 for no bound.
  int last_segment = -1;
  // Follow a WAL that is being written (see above).
  bool live = false;
};

class Reader {
 public:
  explicit Reader(std::string dir, ReaderOptions options = {});
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // true: record() holds the next record. false: no more records (in live mode: none yet; call
  // again later). An error is sticky: after one, Next() keeps returning it.
  base::Result<bool> Next();

  // The record found by the last successful Next(); valid until the next call.
  std::string_view record() const { return record_; }

  // Where reading continues: just after the last record returned (or the start position).
  Position position() const { return {segment_ < 0 ? options_.first_segment : segment_, offset_}; }

  // The segment and record offset of the corruption Next() reported, if it reported one.
  const std::optional<Position>& corruption() const { return corruption_; }

 private:
  enum class Step { kRecord, kEnd, kPartial };

  base::Result<Step> ReadInSegment();
  // Makes sure the cached page holds `need` bytes from offset_ if the file has them; returns how
  // many bytes from offset_ to the end of the page are available.
  base::Result<std::size_t> Load(std::size_t need);
  base::Status OpenSegment(int index);
  base::Result<std::optional<int>> FindNextSegment() const;
  base::Status Corrupt(std::int64_t offset, std::string_view what);

  const std::string dir_;
  const ReaderOptions options_;
  int segment_ = -1;  // The open segment; -1 before the first one is found.
  std::string path_;
  int fd_ = -1;
  std::int64_t offset_ = 0;
  std::unique_ptr<char[]> page_;
  std::int64_t page_index_ = -1;  // Which page of the segment page_ caches.
  std::size_t page_len_ = 0;      // How many bytes of it the file had when read.
  std::string record_;
  base::Status error_;
  std::optional<Position> corruption_;
};

}  // namespace starling::wal
