#include "cluster/suspicion.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace starling::cluster {

std::chrono::nanoseconds SuspicionMinTimeout(int suspicion_mult, std::size_t cluster_size,
                                             std::chrono::nanoseconds probe_interval) {
  const double scale =
      suspicion_mult * std::log10(static_cast<double>(std::max<std::size_t>(cluster_size, 1)));
  const auto timeout = std::chrono::nanoseconds(
      static_cast<std::int64_t>(static_cast<double>(probe_interval.count()) * scale));
  return std::max(timeout, probe_interval);
}

std::chrono::nanoseconds SuspicionTimeout(int confirmations, int expected,
                                          std::chrono::nanoseconds min,
                                          std::chrono::nanoseconds max) {
  if (expected <= 0 || confirmations <= 0) return max;
  const double frac = std::log(confirmations + 1.0) / std::log(expected + 1.0);
  const double raw =
      static_cast<double>(max.count()) - frac * static_cast<double>((max - min).count());
  return std::max(min, std::chrono::nanoseconds(static_cast<std::int64_t>(raw)));
}

}  // namespace starling::cluster
