#pragma once

// local.file: reads a file and exports its content, re-reading it when it changes
// (inotify, "fsnotify" detector, with a fallback re-read every poll_frequency) or every
// poll_frequency ("poll" detector).

#include <chrono>
#include <string>

#include "component/component.h"

namespace starling::components {

struct LocalFileArgs {
  std::string filename;
  std::string detector = "fsnotify";
  std::chrono::nanoseconds poll_frequency = std::chrono::minutes(1);
  bool is_secret = false;
};

void DecodeLocalFileArgs(component::ArgDecoder& d, LocalFileArgs* args);

// The registration of "local.file".
component::Registration LocalFileRegistration();

}  // namespace starling::components
