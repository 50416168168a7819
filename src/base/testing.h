#pragma once

// Helpers for tests only: where the shared conformance suites are, temporary directories,
// reading test files and reading a metric back from a registry.

#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/check.h"
#include "base/metrics.h"

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

// The value of the first series of family `name` ("name{...} value", or "name value" without
// labels) in the registry's text; -1 when it has none.
inline double MetricValue(const MetricsRegistry& metrics, const std::string& name) {
  const std::string text = "\n" + metrics.Render();
  std::size_t at = text.find("\n" + name + "{");
  if (at == std::string::npos) at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  const std::size_t eol = text.find('\n', at + 1);
  const std::string line = text.substr(at + 1, eol - at - 1);
  return std::stod(line.substr(line.rfind(' ') + 1));
}

// Whether the registry's text has every one of these lines, whole ("name{...} value").
inline bool HasLines(const MetricsRegistry& metrics, const std::vector<std::string>& lines) {
  const std::string text = "\n" + metrics.Render();
  for (const std::string& l : lines) {
    if (text.find("\n" + l + "\n") == std::string::npos) return false;
  }
  return true;
}

// Polls HasLines until it holds or the timeout passes (for metrics refreshed in the background).
inline bool WaitForLines(const MetricsRegistry& metrics, const std::vector<std::string>& lines,
                         std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!HasLines(metrics, lines)) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Sets environment variables (or unsets those given nullopt) for its lifetime, then restores
// them. Not for tests that run threads reading the environment meanwhile.
class ScopedEnv {
 public:
  using Var = std::pair<std::string, std::optional<std::string>>;
  explicit ScopedEnv(const std::vector<Var>& vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
      Set(name, value);
    }
  }
  ~ScopedEnv() {
    // Last first: a variable given twice gets back the value it had before the first.
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) Set(it->first, it->second);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  static void Set(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  std::vector<Var> saved_;
};

// A fresh directory under the system temp dir, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "starling_test_XXXXXX").string();
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
  // The path of `name` inside the directory.
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  // Writes `name` atomically (a temporary file, then rename), so a watcher never sees half a
  // file; returns its path.
  std::string Write(const std::string& name, const std::string& content) const {
    const std::string final_path = Path(name);
    const std::string tmp = final_path + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << content;
    }
    std::filesystem::rename(tmp, final_path);
    return final_path;
  }

 private:
  std::string path_;
};

}  // namespace starling::base::testing
