#include "components/common/file_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace starling::components {

base::Result<std::unique_ptr<FileWatcher>> FileWatcher::Create() {
  int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ifd < 0) return base::Status::Internal(std::string("inotify_init1: ") + strerror(errno));
  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    int err = errno;
    close(ifd);
    return base::Status::Internal(std::string("eventfd: ") + strerror(err));
  }
  return std::unique_ptr<FileWatcher>(new FileWatcher(ifd, efd));
}

FileWatcher::~FileWatcher() {
  close(inotify_fd_);
  close(event_fd_);
}

void FileWatcher::SetDirs(const std::vector<std::string>& dirs) {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> want(dirs.begin(), dirs.end());
  for (auto it = wd_to_dir_.begin(); it != wd_to_dir_.end();) {
    if (want.count(it->second) == 0) {
      inotify_rm_watch(inotify_fd_, it->first);
      it = wd_to_dir_.erase(it);
    } else {
      want.erase(it->second);
      ++it;
    }
  }
  constexpr std::uint32_t kMask = IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY |
                                  IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF |
                                  IN_MOVE_SELF;
  for (const std::string& dir : want) {
    int wd = inotify_add_watch(inotify_fd_, dir.c_str(), kMask | IN_ONLYDIR);
    if (wd >= 0) wd_to_dir_[wd] = dir;
  }
}

FileWatcher::Event FileWatcher::Wait(std::chrono::milliseconds timeout) {
  Event ev;
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
  int n = poll(fds, 2, static_cast<int>(std::max<std::int64_t>(0, timeout.count())));
  if (n <= 0) return ev;
  if (fds[1].revents & POLLIN) {
    std::uint64_t v;
    if (read(event_fd_, &v, sizeof v) == sizeof v) ev.woken = true;
  }
  if (fds[0].revents & POLLIN) {
    alignas(inotify_event) char buf[8192];
    std::lock_guard<std::mutex> lock(mu_);
    for (;;) {
      ssize_t len = read(inotify_fd_, buf, sizeof buf);
      if (len <= 0) break;
      for (ssize_t off = 0; off < len;) {
        const auto* e = reinterpret_cast<const inotify_event*>(buf + off);
        auto it = wd_to_dir_.find(e->wd);
        if (it != wd_to_dir_.end()) {
          std::string path = it->second;
          if (e->len > 0) path += "/" + std::string(e->name);
          ev.changed.push_back(std::move(path));
        }
        if (e->mask & IN_IGNORED) wd_to_dir_.erase(e->wd);
        off += static_cast<ssize_t>(sizeof(inotify_event) + e->len);
      }
    }
  }
  return ev;
}

void FileWatcher::Wake() {
  std::uint64_t one = 1;
  // A full counter already means a pending wake-up; nothing to do on failure.
  [[maybe_unused]] ssize_t n = write(event_fd_, &one, sizeof one);
}

std::chrono::milliseconds WaitBudget(const base::Clock& clock, base::Clock::Duration deadline) {
  base::Clock::Duration left = deadline - clock.Monotonic();
  if (left <= base::Clock::Duration::zero()) return std::chrono::milliseconds(0);
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left);
  return std::min(ms, kClockCheckInterval);
}

}  // namespace starling::components
