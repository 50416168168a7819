#pragma once

// Helpers for the WAL tests: a temporary directory and whole-log reads.

#include <stdlib.h>

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

}  // namespace starling::wal::internal
