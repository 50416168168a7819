// Arbitrary bytes through both parsers, every accessor and the OpenMetrics validator: no input
// may crash, hang or read out of bounds. The text parser's NextKnown, vouched for the series
// texts Next accepted, must read exactly what Next reads.

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// What a parser reads from a body, entry by entry, series with their labels.
struct Reading {
  std::vector<std::string> series;  // text, value bits, timestamp, labels or their error
  bool failed = false;

  bool operator==(const Reading&) const = default;
};

bool Known(void* ctx, std::string_view text) {
  const auto* texts = static_cast<const std::vector<std::string>*>(ctx);
  return std::find(texts->begin(), texts->end(), text) != texts->end();
}

// Reads body with Next(), or with NextKnown() expecting the series texts in *known in order.
Reading Read(std::string_view body, std::vector<std::string>* known) {
  starling::model::textparse::PromParser p(body);
  Reading r;
  std::size_t next = 0;
  for (;;) {
    auto e = known != nullptr && next < known->size()
                 ? p.NextKnown((*known)[next].size(), &Known, known)
                 : p.Next();
    if (!e.ok()) {
      r.failed = true;
      return r;
    }
    if (*e == Entry::kEof) return r;
    if (*e != Entry::kSeries) continue;
    ++next;
    const auto s = p.Series();
    starling::model::Labels labels;
    const starling::base::Status st = p.Metric(&labels);
    r.series.push_back(std::string(s.series) + " " +
                       std::to_string(std::bit_cast<std::uint64_t>(s.value)) + " " +
                       (s.timestamp ? std::to_string(*s.timestamp) : "-") + " " +
                       (st.ok() ? labels.String() : st.message()));
  }
}

void CheckNextKnown(std::string_view body) {
  const Reading plain = Read(body, nullptr);
  std::vector<std::string> texts;
  starling::model::textparse::PromParser p(body);
  for (auto e = p.Next(); e.ok() && *e != Entry::kEof; e = p.Next()) {
    if (*e == Entry::kSeries) texts.emplace_back(p.Series().series);
  }
  if (!(Read(body, &texts) == plain)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  starling::model::textparse::PromParser prom(body);
  Drain(prom);
  CheckNextKnown(body);
  starling::model::textparse::OpenMetricsParser om(body, /*skip_created_series=*/size % 2 == 0);
  Drain(om);
  (void)starling::model::textparse::ValidateOpenMetrics(body);
  return 0;
}
