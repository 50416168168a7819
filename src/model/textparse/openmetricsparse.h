#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "model/textparse/internal/base.h"

namespace starling::model::textparse {

// The OpenMetrics 1.0 text parser: single spaces between tokens, no blank lines or free
// comments, exemplars, float-second timestamps, a final `# EOF` line with nothing after it.
// With skip_created_series, `_created` samples of counters, histograms, gauge histograms and
// summaries are not returned (their values reach callers through CreatedTimestamp), as
// Prometheus does when created timestamps are ingested. Not thread-safe.
class OpenMetricsParser final : public internal::ParserBase {
 public:
  explicit OpenMetricsParser(std::string_view body, bool skip_created_series = false);
  Result<Entry> Next() override;
  bool Exemplar(textparse::Exemplar* e) const override;
  std::optional<std::int64_t> CreatedTimestamp() const override;

 private:
  Result<Entry> NextEntry();
  Result<Entry> ParseMetadata();
  Result<Entry> ParseSeries();
  Status ParseExemplar();
  // " token" at pos_, the token having no spaces or newlines; an empty view when absent.
  std::string_view Token();
  bool IsCreatedSeries() const;

  bool skip_created_series_;
  bool saw_eof_ = false;
  // The family named by the last TYPE line.
  std::string_view family_;
  MetricType family_type_ = MetricType::kUnknown;
  // The exemplar of the current sample.
  bool has_exemplar_ = false;
  std::vector<internal::LabelSpan> exemplar_labels_;
  double exemplar_value_ = 0;
  std::optional<std::int64_t> exemplar_ts_;
};

}  // namespace starling::model::textparse
