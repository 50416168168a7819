#pragma once

// The write-ahead log: an append-only sequence of opaque records in numbered segment files,
// laid out as Prometheus's WAL (which reuses LevelDB's log framing): 32 KiB pages, records split
// into FULL / FIRST / MIDDLE / LAST fragments with a 7-byte header and a CRC-32C each (see
// internal/format.h), zero padding at page ends, and segments of 128 MiB by default. A record
// never spans segments, so older segments can be deleted once their contents are checkpointed
// (Truncate). Reading is done by wal::Reader, possibly while the log is being written.
//
// Opening a WAL repairs a torn tail in its last segment (records cut short by a crash, or a bad
// checksum) by cutting the segment at the first damaged record, then starts a new segment.
// Logged records reach the operating system before Log returns; they are durable after Sync(),
// Close(), or (with SyncPolicy::kOnSegmentRoll) soon after their segment is complete: as in
// Prometheus, a finished segment is fsynced by a thread of the WAL's own, so that logging does not
// wait for the disk. Close waits for those fsyncs.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"
#include "wal/segment.h"

namespace starling::wal {

enum class SyncPolicy {
  // fsync a segment (and the directory) when the writer moves on to the next one.
  kOnSegmentRoll,
  // Only Sync() and Close() fsync.
  kExplicitOnly,
};

// Wal is thread-safe: all methods may be called concurrently; Log calls are serialized.
class Wal {
 public:
  // Opens or creates the WAL in `dir` (created if missing). segment_size must be a positive
  // multiple of kPageSize.
  static base::Result<std::unique_ptr<Wal>> Open(std::string dir,
                                                 std::int64_t segment_size = kDefaultSegmentSize,
                                                 SyncPolicy sync = SyncPolicy::kOnSegmentRoll);
  // Closes the WAL if Close() was not called, ignoring errors.
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends the records in order and writes them out in as few writes as the pages allow.
  // When a write fails (a full disk), the segment is cut back to where this call began and
  // logging continues in a new segment, so that no torn record is left for readers; records of
  // the failed call that reached disk whole before the failure may remain in earlier segments.
  base::Status Log(std::span<const std::string_view> records);
  base::Status Log(std::string_view record) { return Log(std::span(&record, 1)); }

  // Pads the current page, finishes the current segment and starts the next; returns its index.
  base::Result<int> NextSegment();

  // The range of segment files present.
  base::Result<SegmentRange> Segments() const;

  // Deletes the segments below `index`. The segment being written cannot be deleted.
  base::Status Truncate(int index);

  // fsyncs the segment being written.
  base::Status Sync();

  // Pads and syncs the current segment and closes it; later calls fail.
  base::Status Close();

  // Where the next record will start (segment being written, bytes in it).
  Position End() const;

  const std::string& dir() const { return dir_; }
  // Whether Open cut a damaged tail off the last segment.
  bool repaired() const { return repaired_; }
  // Counters since Open, for metrics (Prometheus counts the same in its WAL).
  struct Stats {
    std::uint64_t writes_failed = 0;    // Log calls that failed to write
    std::uint64_t page_flushes = 0;     // writes of the page being filled, whole or in part
    std::uint64_t completed_pages = 0;  // pages finished: full, or padded at a segment's end
  };
  Stats stats() const;
  // Called with the seconds each fsync of a segment took (at a segment's end, Sync and Close),
  // on the calling thread or the WAL's own, under a lock: it must be quick and must not call the
  // WAL. No call runs after SetFsyncObserver returns, except to the observer it set. Null: none.
  void SetFsyncObserver(std::function<void(double)> observer);
  std::int64_t segment_size() const { return segment_size_; }

 private:
  Wal(std::string dir, std::int64_t segment_size, SyncPolicy sync);

  // All below need mu_ held.
  // Opens segment `index` for writing. The previous segment is fsynced in the background if
  // sync_previous, else just closed.
  base::Status CreateSegment(int index, bool sync_previous);
  base::Status LogOne(std::string_view record, bool final);
  base::Status FlushPage(bool clear);
  // fsync or fdatasync (data_only) of the segment being written, timed for the observer.
  base::Status SyncSegment(bool data_only);
  base::Result<int> NextSegmentLocked();
  bool PageFull() const { return kPageSize - page_alloc_ < kHeaderSize; }
  // After a failed write: cuts the current segment back to at.offset (to empty if `at` is in an
  // earlier segment) and starts the next one. Until that succeeds, cut_ holds what is left.
  base::Status Cut(Position at);
  // What a cut back to `at` keeps of the current segment: a segment begun after `at` (by the
  // failed call) holds nothing older, and goes back to empty.
  std::int64_t KeptBytes(Position at) const { return at.segment == segment_ ? at.offset : 0; }
  // Hands a finished segment's file to the syncing thread (started on first use), which
  // fsyncs, times and closes it.
  void SyncInBackground(int fd, std::string path);
  // Returns once the pending fsyncs are done.
  void StopSyncing();

  // The syncing thread's loop.
  void SyncLoop();
  // Reports an fsync begun at `start` to the observer; takes sync_mu_.
  void ObserveFsync(std::chrono::steady_clock::time_point start);

  static constexpr std::int64_t kHeaderSize = 7;

  const std::string dir_;
  const std::int64_t segment_size_;
  const SyncPolicy sync_;

  mutable std::mutex mu_;
  int fd_ = -1;                    // GUARDED_BY(mu_)
  int segment_ = -1;               // GUARDED_BY(mu_)
  std::string path_;               // GUARDED_BY(mu_)
  std::int64_t done_pages_ = 0;    // GUARDED_BY(mu_) complete pages in the segment
  std::unique_ptr<char[]> page_;   // GUARDED_BY(mu_) the page being filled
  std::int64_t page_alloc_ = 0;    // GUARDED_BY(mu_) bytes of page_ in use
  std::int64_t page_flushed_ = 0;  // GUARDED_BY(mu_) bytes of page_ written out
  bool closed_ = false;            // GUARDED_BY(mu_)
  std::optional<Position> cut_;    // GUARDED_BY(mu_) a Cut still to be done
  Stats stats_;                    // GUARDED_BY(mu_)
  bool repaired_ = false;          // set by Open only
  std::thread syncer_;             // GUARDED_BY(mu_) started by the first background fsync

  // Taken after mu_ when both are: the syncing thread never takes mu_.
  struct PendingSync {
    int fd;
    std::string path;
  };
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  std::deque<PendingSync> to_sync_;             // GUARDED_BY(sync_mu_)
  bool stop_syncing_ = false;                   // GUARDED_BY(sync_mu_)
  std::function<void(double)> fsync_observer_;  // GUARDED_BY(sync_mu_)
};

}  // namespace starling::wal
