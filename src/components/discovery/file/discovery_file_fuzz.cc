// Arbitrary file_sd contents, as JSON or YAML by the first byte: parsing must never crash, and
// every target it returns must be one the scrape can use.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "components/discovery/file/discovery_file.h"
#include "model/labels.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string path = (data[0] & 1) != 0 ? "/sd/targets.json" : "/sd/targets.yml";
  const std::string content(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto targets = starling::components::ParseFileSd(path, content);
  if (!targets.ok()) return 0;
  for (const auto& t : *targets) {
    if (!t.contains("__address__") || t.at("__meta_filepath") != path) std::abort();
    for (const auto& [name, value] : t) {
      if (!starling::model::IsValidLabelName(name)) std::abort();
    }
  }
  return 0;
}
