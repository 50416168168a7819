// Arbitrary HTTP SD response bodies (the endpoint is not trusted): parsing must never crash, and
// every target it returns must be one the scrape can use.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "components/discovery/http/discovery_http.h"
#include "model/labels.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(reinterpret_cast<const char*>(data), size);
  auto targets = starling::components::ParseHttpSd("http://127.0.0.1/sd", "application/json", body);
  if (!targets.ok()) return 0;
  for (const auto& t : *targets) {
    if (!t.contains("__address__") || t.at("__meta_url") != "http://127.0.0.1/sd") std::abort();
    for (const auto& [name, value] : t) {
      if (!starling::model::IsValidLabelName(name)) std::abort();
    }
  }
  return 0;
}
