// Arbitrary bytes through both parsers, every accessor and the OpenMetrics validator: no input
// may crash, hang or read out of bounds.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/labels.h"
#include "model/textparse/openmetricsparse.h"
#include "model/textparse/promparse.h"
#include "model/textparse/validate.h"

namespace {

using starling::model::textparse::Entry;

void Drain(starling::model::textparse::Parser& p) {
  starling::model::LabelsBuilder builder;
  starling::model::Labels labels;
  starling::model::textparse::Exemplar exemplar;
  for (;;) {
    auto e = p.Next();
    if (!e.ok() || *e == Entry::kEof) return;
    switch (*e) {
      case Entry::kSeries:
        (void)p.Series();
        p.Labels(&builder);
        (void)p.Metric(&labels);
        (void)p.Exemplar(&exemplar);
        (void)p.CreatedTimestamp();
        break;
      case Entry::kHelp:
        (void)p.Help();
        break;
      case Entry::kType:
        (void)p.Type();
        break;
      case Entry::kUnit:
        (void)p.Unit();
        break;
      default:
        (void)p.Comment();
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  starling::model::textparse::PromParser prom(body);
  Drain(prom);
  starling::model::textparse::OpenMetricsParser om(body, /*skip_created_series=*/size % 2 == 0);
  Drain(om);
  (void)starling::model::textparse::ValidateOpenMetrics(body);
  return 0;
}
