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

 private:
  Result<Entry> ParseSeries();
  Result<Entry> ParseComment();
  void SkipBlanks();
};

}  // namespace starling::model::textparse
