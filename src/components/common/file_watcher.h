#pragma once

// FileWatcher: waits for changes in a set of directories (Linux inotify), for a wake-up
// (Wake, e.g. on stop or new arguments), or for a timeout, whichever comes first. Components
// that re-read files on change and on a timer loop around Wait.
//
// Thread-safety: SetDirs, Wait and Wake may be called from any thread; Wait should have one
// caller at a time.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace starling::components {

class FileWatcher {
 public:
  static base::Result<std::unique_ptr<FileWatcher>> Create();
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  // Watches exactly `dirs` from now on (created, deleted, written, moved and attribute-changed
  // entries). Directories that do not exist are skipped; call again to pick them up later.
  void SetDirs(const std::vector<std::string>& dirs);

  struct Event {
    bool woken = false;                // Wake was called
    std::vector<std::string> changed;  // "dir/name" of each changed entry
  };
  // Blocks up to `timeout` (real time) for events.
  Event Wait(std::chrono::milliseconds timeout);

  void Wake();

 private:
  FileWatcher(int inotify_fd, int event_fd) : inotify_fd_(inotify_fd), event_fd_(event_fd) {}

  const int inotify_fd_;
  const int event_fd_;
  std::mutex mu_;
  std::map<int, std::string> wd_to_dir_;  // guarded by mu_
};

// How long a loop driven by an injected clock may wait for real time before looking at the
// clock again: bounds how late a fake clock's Advance is noticed.
inline constexpr std::chrono::milliseconds kClockCheckInterval{200};

// The real-time wait until `deadline` on `clock`, at most kClockCheckInterval (at least 0).
std::chrono::milliseconds WaitBudget(const base::Clock& clock, base::Clock::Duration deadline);

}  // namespace starling::components
