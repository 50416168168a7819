#include "wal/wal.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "base/thread.h"
#include "wal/internal/crc32c.h"
#include "wal/internal/format.h"
#include "wal/reader.h"

namespace starling::wal {
namespace {

static_assert(internal::kRecordHeaderSize == 7);

base::Status Closed() { return base::Status::FailedPrecondition("wal is closed"); }

// Cuts the last segment at the first damaged record and zero-fills the rest of that page, which
// leaves exactly the intact records followed by page padding, as the writer would have left it.
// Returns whether there was damage to cut.
base::Result<bool> RepairLastSegment(const std::string& dir, int last) {
  Reader reader(dir, ReaderOptions{.first_segment = last, .offset = 0, .last_segment = last});
  for (;;) {
    base::Result<bool> more = reader.Next();
    if (more.ok()) {
      if (!*more) return false;
      continue;
    }
    if (!reader.corruption().has_value()) return more.status();
    break;
  }
  const std::int64_t cut = reader.corruption()->offset;
  const std::int64_t padded = (cut + kPageSize - 1) / kPageSize * kPageSize;
  const std::string path = SegmentPath(dir, last);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return internal::ErrnoStatus("open segment", path, errno);
  base::Status status;
  if (::ftruncate(fd, cut) != 0 || ::ftruncate(fd, padded) != 0) {
    status = internal::ErrnoStatus("truncate", path, errno);
  } else if (::fsync(fd) != 0) {
    status = internal::ErrnoStatus("fsync", path, errno);
  }
  ::close(fd);
  if (!status.ok()) return status;
  return true;
}

}  // namespace

Wal::Wal(std::string dir, std::int64_t segment_size, SyncPolicy sync)
    : dir_(std::move(dir)), segment_size_(segment_size), sync_(sync), page_(new char[kPageSize]) {
  std::memset(page_.get(), 0, kPageSize);
}

Wal::~Wal() { static_cast<void>(Close()); }

base::Result<std::unique_ptr<Wal>> Wal::Open(std::string dir, std::int64_t segment_size,
                                             SyncPolicy sync) {
  if (segment_size <= 0 || segment_size % kPageSize != 0) {
    return base::Status::InvalidArgument("invalid segment size " + std::to_string(segment_size) +
                                         ": must be a positive multiple of " +
                                         std::to_string(kPageSize));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return internal::ErrnoStatus("create directory", dir, ec.value());
  ASSIGN_OR_RETURN(SegmentRange range, wal::Segments(dir));
  bool repaired = false;
  if (range.last >= 0) {
    ASSIGN_OR_RETURN(repaired, RepairLastSegment(dir, range.last));
  }
  std::unique_ptr<Wal> wal(new Wal(std::move(dir), segment_size, sync));
  wal->repaired_ = repaired;
  std::lock_guard lock(wal->mu_);
  RETURN_IF_ERROR(wal->CreateSegment(range.last + 1, false));
  return wal;
}

base::Status Wal::CreateSegment(int index, bool sync_previous) {
  std::string path = SegmentPath(dir_, index);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return internal::ErrnoStatus("create segment", path, errno);
  if (fd_ >= 0 && sync_previous) {
    SyncInBackground(fd_, std::move(path_));
  } else if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
  segment_ = index;
  path_ = std::move(path);
  done_pages_ = 0;
  if (sync_ == SyncPolicy::kOnSegmentRoll) return internal::SyncDir(dir_);
  return base::Status::Ok();
}

base::Status Wal::FlushPage(bool clear) {
  // Padding is already zero: the page is zeroed whenever it is started anew.
  if (clear || PageFull()) page_alloc_ = kPageSize;
  std::size_t written = 0;
  base::Status status =
      internal::WriteAll(fd_, page_.get() + page_flushed_,
                         static_cast<std::size_t>(page_alloc_ - page_flushed_), path_, &written);
  page_flushed_ += static_cast<std::int64_t>(written);
  RETURN_IF_ERROR(status);
  ++stats_.page_flushes;
  if (page_alloc_ == kPageSize) {
    std::memset(page_.get(), 0, kPageSize);
    page_alloc_ = 0;
    page_flushed_ = 0;
    ++done_pages_;
    ++stats_.completed_pages;
  }
  return base::Status::Ok();
}

base::Status Wal::SyncSegment(bool data_only) {
  const auto start = std::chrono::steady_clock::now();
  if ((data_only ? ::fdatasync(fd_) : ::fsync(fd_)) != 0) {
    return internal::ErrnoStatus("fsync", path_, errno);
  }
  ObserveFsync(start);
  return base::Status::Ok();
}

void Wal::ObserveFsync(std::chrono::steady_clock::time_point start) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard lock(sync_mu_);
  if (fsync_observer_) fsync_observer_(seconds);
}

void Wal::SyncInBackground(int fd, std::string path) {
  {
    std::lock_guard lock(sync_mu_);
    to_sync_.push_back({fd, std::move(path)});
  }
  sync_cv_.notify_one();
  if (!syncer_.joinable()) {
    syncer_ = std::thread([this] {
      base::SetThreadName("wal-sync");
      SyncLoop();
    });
  }
}

void Wal::SyncLoop() {
  std::unique_lock lock(sync_mu_);
  while (true) {
    sync_cv_.wait(lock, [this] { return stop_syncing_ || !to_sync_.empty(); });
    if (to_sync_.empty()) return;  // stopping, with nothing left to sync
    PendingSync p = std::move(to_sync_.front());
    to_sync_.pop_front();
    lock.unlock();
    const auto start = std::chrono::steady_clock::now();
    const int rc = ::fsync(p.fd);
    const int err = errno;
    ::close(p.fd);
    if (rc == 0) {
      ObserveFsync(start);
    } else {
      spdlog::error("wal: {}", internal::ErrnoStatus("fsync", p.path, err).message());
    }
    lock.lock();
  }
}

void Wal::StopSyncing() {
  {
    std::lock_guard lock(sync_mu_);
    stop_syncing_ = true;
  }
  sync_cv_.notify_one();
  if (syncer_.joinable()) syncer_.join();
}

base::Result<int> Wal::NextSegmentLocked() {
  if (closed_) return Closed();
  if (cut_.has_value()) {
    RETURN_IF_ERROR(Cut(*cut_));
    return segment_;
  }
  if (page_alloc_ > 0) RETURN_IF_ERROR(FlushPage(true));
  RETURN_IF_ERROR(CreateSegment(segment_ + 1, sync_ == SyncPolicy::kOnSegmentRoll));
  return segment_;
}

base::Status Wal::LogOne(std::string_view record, bool final) {
  if (PageFull()) RETURN_IF_ERROR(FlushPage(true));
  // Room left in this segment for fragment data: the rest of this page and the untouched pages.
  const std::int64_t pages_per_segment = segment_size_ / kPageSize;
  const std::int64_t left = (kPageSize - page_alloc_ - kHeaderSize) +
                            (kPageSize - kHeaderSize) * (pages_per_segment - done_pages_ - 1);
  const bool segment_empty = done_pages_ == 0 && page_alloc_ == 0;
  // Keep records within one segment. One larger than a whole segment gets a segment of its own.
  if (static_cast<std::int64_t>(record.size()) > left && !segment_empty) {
    RETURN_IF_ERROR(NextSegmentLocked().status());
  }
  bool first = true;
  while (first || !record.empty()) {
    const auto room = static_cast<std::size_t>(kPageSize - page_alloc_ - kHeaderSize);
    const std::size_t n = std::min(record.size(), room);
    const bool last = n == record.size();
    internal::RecordType type = first && last ? internal::kFull
                                : last        ? internal::kLast
                                : first       ? internal::kFirst
                                              : internal::kMiddle;
    const std::uint32_t crc = internal::Crc32c(record.data(), n);
    auto* h = reinterpret_cast<unsigned char*>(page_.get() + page_alloc_);
    h[0] = type;
    h[1] = static_cast<unsigned char>(n >> 8);
    h[2] = static_cast<unsigned char>(n);
    h[3] = static_cast<unsigned char>(crc >> 24);
    h[4] = static_cast<unsigned char>(crc >> 16);
    h[5] = static_cast<unsigned char>(crc >> 8);
    h[6] = static_cast<unsigned char>(crc);
    if (n > 0) std::memcpy(h + kHeaderSize, record.data(), n);
    page_alloc_ += kHeaderSize + static_cast<std::int64_t>(n);
    record.remove_prefix(n);
    first = false;
    if (PageFull()) RETURN_IF_ERROR(FlushPage(true));
  }
  if (final && page_alloc_ > page_flushed_) RETURN_IF_ERROR(FlushPage(false));
  return base::Status::Ok();
}

base::Status Wal::Log(std::span<const std::string_view> records) {
  std::lock_guard lock(mu_);
  if (closed_) return Closed();
  if (cut_.has_value()) RETURN_IF_ERROR(Cut(*cut_));
  // Everything before here is on disk: each successful call ends by flushing its last page.
  const Position start{segment_, done_pages_ * kPageSize + page_alloc_};
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (base::Status s = LogOne(records[i], i + 1 == records.size()); !s.ok()) {
      ++stats_.writes_failed;
      // A cut that fails now is retried by the next call, before it writes.
      static_cast<void>(Cut(start));
      return s;
    }
  }
  return base::Status::Ok();
}

base::Status Wal::Cut(Position at) {
  cut_ = at;
  if (::ftruncate(fd_, KeptBytes(at)) != 0) {
    return internal::ErrnoStatus("truncate", path_, errno);
  }
  // Readers of this segment find its end before the next segment exists (see Reader::Next).
  if (sync_ == SyncPolicy::kOnSegmentRoll) RETURN_IF_ERROR(SyncSegment(false));
  std::memset(page_.get(), 0, kPageSize);
  page_alloc_ = 0;
  page_flushed_ = 0;
  RETURN_IF_ERROR(CreateSegment(segment_ + 1, false));
  cut_.reset();
  return base::Status::Ok();
}

Wal::Stats Wal::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void Wal::SetFsyncObserver(std::function<void(double)> observer) {
  std::lock_guard lock(sync_mu_);
  fsync_observer_ = std::move(observer);
}

base::Result<int> Wal::NextSegment() {
  std::lock_guard lock(mu_);
  return NextSegmentLocked();
}

base::Result<SegmentRange> Wal::Segments() const { return wal::Segments(dir_); }

base::Status Wal::Truncate(int index) {
  {
    std::lock_guard lock(mu_);
    if (!closed_ && index > segment_) {
      return base::Status::InvalidArgument("cannot truncate segment " + std::to_string(segment_) +
                                           " while it is being written");
    }
  }
  ASSIGN_OR_RETURN(std::vector<int> indexes, ListSegments(dir_));
  bool removed = false;
  // Oldest first, so a failure part way leaves a contiguous range.
  for (int i : indexes) {
    if (i >= index) break;
    const std::string path = SegmentPath(dir_, i);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return internal::ErrnoStatus("delete segment", path, errno);
    }
    removed = true;
  }
  if (removed && sync_ == SyncPolicy::kOnSegmentRoll) return internal::SyncDir(dir_);
  return base::Status::Ok();
}

base::Status Wal::Sync() {
  std::lock_guard lock(mu_);
  if (closed_) return Closed();
  return SyncSegment(true);
}

base::Status Wal::Close() {
  std::lock_guard lock(mu_);
  if (closed_) return Closed();
  closed_ = true;
  // The finished segments' fsyncs are done before Close returns.
  StopSyncing();
  if (fd_ < 0) return base::Status::Ok();
  base::Status status;
  if (cut_.has_value()) {
    // The page holds part of a failed call: cut it off instead of writing it out.
    if (::ftruncate(fd_, KeptBytes(*cut_)) != 0) {
      status = internal::ErrnoStatus("truncate", path_, errno);
    }
  } else if (page_alloc_ > 0) {
    // An empty page is not padded: a reader must not mistake the segment for a finished page.
    status = FlushPage(true);
  }
  if (base::Status synced = SyncSegment(false); !synced.ok() && status.ok()) status = synced;
  ::close(fd_);
  fd_ = -1;
  return status;
}

Position Wal::End() const {
  std::lock_guard lock(mu_);
  return {segment_, done_pages_ * kPageSize + page_alloc_};
}

}  // namespace starling::wal
