#pragma once

// Lifeguard's suspicion timeout. A suspect member is declared dead after a timeout that starts
// at `max` and shrinks logarithmically towards `min` as independent confirmations arrive, so
// that a failure many members see is declared quickly while a lone (possibly unhealthy)
// accuser waits long enough for the suspect to refute.

#include <chrono>
#include <cstddef>

namespace starling::cluster {

// min = suspicion_mult * log10(max(n, 1)) * probe_interval, but at least one probe interval.
std::chrono::nanoseconds SuspicionMinTimeout(int suspicion_mult, std::size_t cluster_size,
                                             std::chrono::nanoseconds probe_interval);

// The whole timeout (from the start of the suspicion) after `confirmations` of the `expected`
// ones: max - (max - min) * log(c + 1) / log(expected + 1), never below min. With no expected
// confirmations it stays at max.
std::chrono::nanoseconds SuspicionTimeout(int confirmations, int expected,
                                          std::chrono::nanoseconds min,
                                          std::chrono::nanoseconds max);

}  // namespace starling::cluster
