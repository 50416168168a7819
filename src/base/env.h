#pragma once

// Reading the environment, where unset and empty mean the same (as Go's os.Getenv).

#include <cstdlib>
#include <string>

namespace starling::base {

// The variable's value; empty when it is unset.
inline std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The first non-empty of two variables: a name and its other spelling (http_proxy for
// HTTP_PROXY, an older name an SDK still reads).
inline std::string GetenvFirst(const char* name, const char* other) {
  std::string v = Getenv(name);
  return v.empty() ? Getenv(other) : v;
}

}  // namespace starling::base
