#pragma once

// Pull parsers for the two text exposition formats a scrape receives: Prometheus text 0.0.4
// and OpenMetrics 1.0. A parser walks a body one entry (series, metadata, comment) at a time;
// accessors return views into the body or into the parser's own buffers, valid until the next
// call to Next(). Labels are only materialized when asked for, so iterating samples does not
// allocate. Parsers are not thread-safe; the body must outlive the parser.
//
// Checks split in two layers: the parsers check syntax (and the few semantic rules Prometheus's
// parsers check, such as a UNIT being a suffix of its metric name); OpenMetricsValidator
// (validate.h) adds the metric-family rules of the OpenMetrics specification that Prometheus
// does not enforce while scraping.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "base/status.h"
#include "model/labels.h"

namespace starling::model::textparse {

using base::Result;
using base::Status;

enum class Entry : std::uint8_t { kInvalid, kType, kHelp, kSeries, kComment, kUnit, kEof };

enum class MetricType : std::uint8_t {
  kUnknown,
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateset,
};

// The OpenMetrics name of a type ("unknown", "counter", ...).
std::string_view MetricTypeName(MetricType t);

// A sample line: the series text (metric name and label set as written), value, timestamp in
// milliseconds.
struct SeriesView {
  std::string_view series;
  std::optional<std::int64_t> timestamp;
  double value = 0;
};

// A # HELP or # UNIT line: the metric name and the (unescaped) text.
struct MetadataView {
  std::string_view metric;
  std::string_view text;
};

// A # TYPE line.
struct TypeView {
  std::string_view metric;
  MetricType type = MetricType::kUnknown;
};

// An OpenMetrics exemplar attached to the current sample.
struct Exemplar {
  model::Labels labels;
  double value = 0;
  std::optional<std::int64_t> timestamp;  // milliseconds
};

// The Accept header Prometheus sends with a scrape: OpenMetrics preferred, text 0.0.4 next.
inline constexpr std::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// A pull parser over one exposition body. See the file comment for lifetimes.
class Parser {
 public:
  virtual ~Parser() = default;

  // The next entry: kEof at the end of the input, or an InvalidArgument error for malformed
  // input (after which the parser keeps returning that error).
  virtual Result<Entry> Next() = 0;
  // Whether `text` is a series text the caller vouches for (see NextKnown).
  using KnownSeries = bool (*)(void* ctx, std::string_view text);
  // Next(), for a caller that expects the next entry to be a sample line whose series text (as
  // Series() gives it) is `len` bytes long. When the line starts with such a text and
  // known(ctx, text) holds, the text is taken as it is, without scanning its labels again;
  // Labels() and Metric() scan them when asked. `known` must hold only for a text a parser of
  // this package accepted as a series before: a scrape cache keyed by the text vouches for the
  // series it has seen, sparing each the label scan on every scrape. (The OpenMetrics series
  // syntax is a subset of the text format's.) Parsers without the fast path call Next().
  virtual Result<Entry> NextKnown(std::size_t /*len*/, KnownSeries /*known*/, void* /*ctx*/) {
    return Next();
  }

  // Accessors for the current entry; each is only meaningful for its entry kind.
  virtual SeriesView Series() const = 0;
  virtual MetadataView Help() = 0;
  virtual TypeView Type() const = 0;
  virtual MetadataView Unit() const = 0;
  virtual std::string_view Comment() const = 0;

  // Resets *b and sets the current series' labels, __name__ included (a builder drops labels
  // whose value is empty).
  virtual void Labels(model::LabelsBuilder* b) const = 0;
  // The current series' labels, __name__ included, empty values kept. Fails when a label name
  // repeats (the text format's grammar allows it), as Prometheus's storage refuses the series.
  virtual base::Status Metric(model::Labels* out) const = 0;
  // Fills *e and returns true when the current sample carries an exemplar.
  virtual bool Exemplar(textparse::Exemplar* e) const = 0;
  // For an OpenMetrics counter, histogram, gauge histogram or summary sample, the value of the
  // matching `_created` sample of the same metric family, in milliseconds; looks ahead in the
  // body, so it costs a scan of the rest of the family. nullopt otherwise.
  virtual std::optional<std::int64_t> CreatedTimestamp() const = 0;
};

// Picks the parser as Prometheus does: OpenMetrics for the media type
// application/openmetrics-text, the text 0.0.4 parser for anything else (including an empty or
// malformed Content-Type).
std::unique_ptr<Parser> New(std::string_view body, std::string_view content_type);

// strconv.ParseFloat(s, 64) as Prometheus's text parsers use it: decimal numbers with optional
// sign and exponent, case-insensitive (signed) Inf and Infinity, and unsigned NaN; hex floats and
// underscores are rejected, as is a value out of float64's range.
bool ParseGoFloat(std::string_view s, double* out);

}  // namespace starling::model::textparse
