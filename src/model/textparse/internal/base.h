#pragma once

// State and scanning helpers shared by the two text parsers.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/labels.h"
#include "model/textparse/textparse.h"

namespace starling::model::textparse::internal {

// A label as written: its name and its value without the quotes, escapes still in place.
struct LabelSpan {
  std::string_view name;
  std::string_view raw_value;
};

// Character classes as bits of one table, so that a name scan tests one load per byte.
enum CharClass : std::uint8_t { kLetter = 1, kDigit = 2, kColon = 4 };
inline constexpr auto kCharClass = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kLetter;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kLetter;
  t['_'] = kLetter;
  for (int c = '0'; c <= '9'; ++c) t[c] = kDigit;
  t[':'] = kColon;
  return t;
}();
inline bool InClass(char c, unsigned classes) {
  return (kCharClass[static_cast<unsigned char>(c)] & classes) != 0;
}

inline bool IsNameStart(char c) { return InClass(c, kLetter); }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsNameChar(char c) { return InClass(c, kLetter | kDigit); }
inline bool IsMetricNameStart(char c) { return InClass(c, kLetter | kColon); }
inline bool IsMetricNameChar(char c) { return InClass(c, kLetter | kDigit | kColon); }

// A label value with \\, \" and \n replaced; other escapes are kept as written.
std::string UnescapeLabelValue(std::string_view raw);
// Help text with \\ and \n replaced, and \" too when quote_escapes.
void UnescapeHelp(std::string_view raw, bool quote_escapes, std::string* out);
bool ValidUtf8(std::string_view s);
// Unicode code points in valid UTF-8 s.
std::size_t CountRunes(std::string_view s);
// A timestamp in float seconds as milliseconds, clamped to int64's range.
std::int64_t SecondsToMillis(double seconds);
// "msg, got "tok" while parsing: "line"" with Go quoting, as an InvalidArgument.
Status ParseError(std::string_view msg, std::string_view got, std::string_view line);

// The current-entry state and accessors common to both parsers.
class ParserBase : public Parser {
 public:
  SeriesView Series() const override;
  MetadataView Help() override;
  TypeView Type() const override;
  MetadataView Unit() const override;
  std::string_view Comment() const override;
  void Labels(model::LabelsBuilder* b) const override;
  base::Status Metric(model::Labels* out) const override;
  bool Exemplar(textparse::Exemplar* e) const override;
  std::optional<std::int64_t> CreatedTimestamp() const override;

  // The metric name of the current series.
  std::string_view MetricName() const { return name_; }
  const std::vector<LabelSpan>& LabelSpans() const { return labels_; }

 protected:
  ParserBase(std::string_view body, bool help_quote_escapes)
      : body_(body), help_quote_escapes_(help_quote_escapes) {}

  // Remembers the error so that later calls return it too.
  Status Fail(Status s);
  // The text of the current line from its start to pos_ (for error messages).
  std::string_view LineSoFar() const { return body_.substr(line_start_, pos_ - line_start_); }
  bool AtEnd() const { return pos_ >= body_.size(); }
  char Peek() const { return pos_ < body_.size() ? body_[pos_] : '\0'; }
  // A metric name at pos_ (possibly empty).
  std::string_view ScanMetricName();
  // A label set starting after '{' at pos_, up to and including '}', into *out. With
  // allow_blanks, spaces and tabs may separate tokens; trailing_comma allows `a="b",}`.
  Status ScanLabels(bool allow_blanks, bool trailing_comma, std::vector<LabelSpan>* out);
  // The sample value `text`, which ends at pos_, into value_ (NaNs made Prometheus's normal
  // NaN); the errors are Prometheus's.
  Status ParseValue(std::string_view text);

  std::string_view body_;
  std::size_t pos_ = 0;
  std::size_t line_start_ = 0;
  Status error_;

  // Current entry.
  std::string_view series_;
  std::string_view name_;
  std::vector<LabelSpan> labels_;
  double value_ = 0;
  std::optional<std::int64_t> ts_;
  std::string_view meta_name_;
  std::string_view text_;
  MetricType type_ = MetricType::kUnknown;

 private:
  bool help_quote_escapes_;
  std::string help_buf_;
};

}  // namespace starling::model::textparse::internal
