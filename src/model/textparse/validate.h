#pragma once

// The metric-family rules of OpenMetrics 1.0 that go beyond syntax and that Prometheus does not
// check while scraping. OpenMetricsParser checks syntax: tokens and spacing, label and value
// syntax, Go float values, finite timestamps, the exemplar size limit, UNIT being a suffix of
// its metric name, and the final # EOF. This validator checks, over the parsed entries:
// - metadata: at most one TYPE, HELP and UNIT per family, all before the family's samples; no
//   UNIT on info or stateset families;
// - names: each family's sample names (by type: _total, _bucket, _gsum, _info, ...) belong to
//   one family only, and a family does not reappear once another has started;
// - grouping: a family's metrics (label sets without le/quantile) are not interleaved; the same
//   series does not mix samples with and without timestamps, nor go back in time, nor repeat
//   without timestamps; no label name repeats;
// - values: counters, histogram and summary counts, sums and buckets are not NaN or negative;
//   info is 1; stateset is 0 or 1;
// - histograms: buckets have a canonical le, sorted, cumulative, ending at +Inf; _sum and
//   _count (_gsum and _gcount) come together, _count equals the +Inf bucket; no _sum with
//   negative buckets, a negative _gsum only with them;
// - summaries: quantile labels are numbers in [0, 1]; stateset samples carry their state label;
// - exemplars only on counter _total and histogram / gauge histogram _bucket samples.

#include <string_view>

#include "base/status.h"

namespace starling::model::textparse {

// Parses body as OpenMetrics 1.0 and applies the rules above. OK when the body conforms.
base::Status ValidateOpenMetrics(std::string_view body);

}  // namespace starling::model::textparse
