#include "base/logging.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <string>

namespace starling::base {

Status ConfigureLogging(std::string_view level, std::string_view format) {
  spdlog::level::level_enum lvl;
  if (level == "debug") {
    lvl = spdlog::level::debug;
  } else if (level == "info") {
    lvl = spdlog::level::info;
  } else if (level == "warn") {
    lvl = spdlog::level::warn;
  } else if (level == "error") {
    lvl = spdlog::level::err;
  } else {
    return Status::InvalidArgument("unrecognized log level \"" + std::string(level) + "\"");
  }
  std::string pattern;
  if (format == "logfmt") {
    pattern = "ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l msg=\"%v\"";
  } else if (format == "json") {
    pattern = R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":"%v"})";
  } else {
    return Status::InvalidArgument("unrecognized log format \"" + std::string(format) + "\"");
  }
  static auto logger = [] {
    auto l = std::make_shared<spdlog::logger>("starling",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    spdlog::set_default_logger(l);
    return l;
  }();
  logger->set_level(lvl);
  logger->set_pattern(pattern, spdlog::pattern_time_type::utc);
  return Status::Ok();
}

}  // namespace starling::base
