#pragma once

// Logging through spdlog. Everything logs through the default logger; Configure() sets its
// level and format ("logfmt" or "json") once at startup and again on reload.

#include <spdlog/spdlog.h>

#include <string_view>

#include "base/status.h"

namespace starling::base {

// level: debug, info, warn, error; format: logfmt or json. Writes to stderr.
Status ConfigureLogging(std::string_view level, std::string_view format);

}  // namespace starling::base
