#pragma once

// Durations as Go's time package reads and prints them. Configurations carry durations in Go's
// syntax ("15s", "1m30s"), and metrics label them as Go prints them (Prometheus's
// prometheus_target_interval_length_seconds{interval="1m0s"}).

#include <chrono>
#include <string>
#include <string_view>

#include "base/status.h"

namespace starling::base {

// Go's time.ParseDuration: "300ms", "-1.5h", "2h45m", "1m30s", units ns us µs ms s m h; "0".
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view s);
// Go's Duration.String(): "1h2m3s", "1.5s", "300ms", "0s".
std::string FormatGoDuration(std::chrono::nanoseconds d);

}  // namespace starling::base
