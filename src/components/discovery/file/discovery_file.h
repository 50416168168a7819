#pragma once

// discovery.file: targets from Prometheus file_sd files (JSON, or YAML for .yml/.yaml): lists
// of {targets: [addresses], labels: {name: value}}. Each target gets __address__ and
// __meta_filepath. Files are re-read when they change (inotify on their directories) and
// every refresh_interval. The last segment of a path may hold `*` globs.

#include <chrono>
#include <string>
#include <vector>

#include "base/status.h"
#include "component/component.h"
#include "components/common/targets.h"

namespace starling::components {

struct DiscoveryFileArgs {
  std::vector<std::string> files;
  std::chrono::nanoseconds refresh_interval = std::chrono::minutes(5);
};

void DecodeDiscoveryFileArgs(component::ArgDecoder& d, DiscoveryFileArgs* args);

// The targets of one file_sd file's content; `path` becomes __meta_filepath and picks the
// format by extension.
base::Result<std::vector<Target>> ParseFileSd(const std::string& path, const std::string& content);

component::Registration DiscoveryFileRegistration();

}  // namespace starling::components
