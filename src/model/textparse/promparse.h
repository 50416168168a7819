#pragma once

#include <string_view>

#include "model/textparse/internal/base.h"

namespace starling::model::textparse {

// The Prometheus text format 0.0.4 parser (what Prometheus's promparse accepts): free comments,
// optional integer millisecond timestamps, blanks between tokens and blank lines allowed.
// Not thread-safe.
class PromParser final : public internal::ParserBase {
 public:
  explicit PromParser(std::string_view body);
  Result<Entry> Next() override;
  Result<Entry> NextKnown(std::size_t len, KnownSeries known, void* ctx) override;
  void Labels(model::LabelsBuilder* b) const override;
  base::Status Metric(model::Labels* out) const override;

 private:
  // The metric name and label set at pos_ into name_, labels_ and series_.
  Status ScanSeries();
  // The rest of a sample line after its series text: value, timestamp, end of line.
  Result<Entry> ParseSample();
  Result<Entry> ParseComment();
  void SkipBlanks();
  // A parser whose name_ and labels_ are those of series_, taken by NextKnown unscanned.
  PromParser Rescanned() const;

  bool labels_unscanned_ = false;  // the current series came by NextKnown's fast path
};

}  // namespace starling::model::textparse
