#pragma once

// Names the calling thread (as shown by top -H, perf and /proc/PID/task/*/comm), so the cost of
// each part of the agent can be told apart. Linux truncates names to 15 characters.

#include <pthread.h>

#include <string>
#include <string_view>

namespace starling::base {

inline void SetThreadName(std::string_view name) {
  std::string n(name.substr(0, 15));
  pthread_setname_np(pthread_self(), n.c_str());
}

}  // namespace starling::base
