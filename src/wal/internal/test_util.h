#pragma once

// Helpers for the WAL tests: a temporary directory and whole-log reads.

#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/check.h"
#include "base/status.h"
#include "wal/reader.h"

namespace starling::wal::internal {

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "wal_test.XXXXXX").string();
    CHECK(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

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

}  // namespace starling::wal::internal
