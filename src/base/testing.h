#pragma once

// Helpers for tests only: where the shared conformance suites are and reading test files.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace starling::base::testing {

// STARLING_SHARED_DIR, or else the `shared` folder beside the repository (CTest sets
// STARLING_SOURCE_DIR). Empty when neither is set: conformance tests then fail, not skip.
inline std::filesystem::path SharedDir() {
  if (const char* env = std::getenv("STARLING_SHARED_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  if (const char* src = std::getenv("STARLING_SOURCE_DIR"); src != nullptr && *src != '\0') {
    return std::filesystem::path(src) / ".." / "shared";
  }
  return {};
}

// The whole file; empty when it cannot be read.
inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace starling::base::testing
