#pragma once

// Helpers for the WAL tests: a temporary directory, whole-log reads, failing writes.

#include <stdlib.h>
#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <string>
#include <vector>

#include "base/check.h"
#include "base/status.h"
#include "base/testing.h"
#include "wal/reader.h"

namespace starling::wal::internal {

using base::testing::TempDir;

// Every record a non-live reader returns, or its error.
inline base::Result<std::vector<std::string>> ReadAll(const std::string& dir,
                                                      ReaderOptions options = {}) {
  Reader reader(dir, options);
  std::vector<std::string> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next());
    if (!more) return out;
    out.emplace_back(reader.record());
  }
}

// A record of `size` bytes whose contents depend on `seed`, so misplaced bytes are noticed.
inline std::string MakeRecord(std::size_t size, unsigned seed) {
  std::string s(size, '\0');
  unsigned x = seed * 2654435761u + 1;
  for (char& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 16);
  }
  return s;
}

// While it lives, writes past `bytes` into any file fail with EFBIG, as a full disk fails
// them (RLIMIT_FSIZE, with SIGXFSZ ignored).
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    ::getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lim = old_;
    lim.rlim_cur = bytes;
    ::setrlimit(RLIMIT_FSIZE, &lim);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  FileSizeLimit(const FileSizeLimit&) = delete;
  FileSizeLimit& operator=(const FileSizeLimit&) = delete;

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
};

}  // namespace starling::wal::internal
