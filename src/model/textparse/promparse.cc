#include "model/textparse/promparse.h"

#include <charconv>
#include <string>
#include <system_error>

#include "model/internal/go_text.h"

namespace starling::model::textparse {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

PromParser::PromParser(std::string_view body) : ParserBase(body, /*help_quote_escapes=*/false) {}

void PromParser::SkipBlanks() {
  while (pos_ < body_.size() && IsBlank(body_[pos_])) ++pos_;
}

Result<Entry> PromParser::Next() { return NextKnown(0, nullptr, nullptr); }

Result<Entry> PromParser::NextKnown(std::size_t len, KnownSeries known, void* ctx) {
  if (!error_.ok()) return error_;
  labels_.clear();
  labels_unscanned_ = false;
  ts_.reset();
  for (;;) {
    line_start_ = pos_;
    SkipBlanks();
    if (AtEnd()) return Entry::kEof;
    if (Peek() == '\n') {  // blank lines are allowed
      ++pos_;
      continue;
    }
    break;
  }
  if (Peek() == '#') return ParseComment();
  if (internal::IsMetricNameStart(Peek())) {
    const std::size_t start = pos_;
    if (known != nullptr && len > 0 && len < body_.size() - start && IsBlank(body_[start + len]) &&
        known(ctx, body_.substr(start, len))) {
      series_ = body_.substr(start, len);
      pos_ = start + len;
      if (Result<Entry> e = ParseSample(); e.ok()) {
        labels_unscanned_ = true;
        return e;
      }
      // Not that series after all: `foo {a="b"} 1` starts with the known `foo`. Parse the line.
      error_ = Status::Ok();
      ts_.reset();
      pos_ = start;
    }
    if (Status s = ScanSeries(); !s.ok()) return Fail(std::move(s));
    return ParseSample();
  }
  std::size_t end = body_.find('\n', pos_);
  std::string_view got = body_.substr(pos_, end == std::string_view::npos ? end : end - pos_);
  ++pos_;
  return Fail(internal::ParseError("expected a valid start token", got, LineSoFar()));
}

Result<Entry> PromParser::ParseComment() {
  std::size_t hash = pos_;
  ++pos_;
  SkipBlanks();
  std::string_view rest = body_.substr(pos_);
  bool help = rest.substr(0, 4) == "HELP";
  bool type = rest.substr(0, 4) == "TYPE";
  if ((help || type) && rest.size() > 4 && IsBlank(rest[4])) {
    pos_ += 4;
    SkipBlanks();
    meta_name_ = ScanMetricName();
    if (meta_name_.empty()) {
      return Fail(internal::ParseError(
          help ? "expected metric name after HELP" : "expected metric name after TYPE",
          body_.substr(pos_, AtEnd() ? 0 : 1), LineSoFar()));
    }
    if (!AtEnd() && Peek() != '\n' && !IsBlank(Peek())) {
      return Fail(internal::ParseError("expected text after metric name", body_.substr(pos_, 1),
                                       LineSoFar()));
    }
    if (!AtEnd() && IsBlank(Peek())) ++pos_;
    std::size_t end = body_.find('\n', pos_);
    if (end == std::string_view::npos) end = body_.size();
    text_ = body_.substr(pos_, end - pos_);
    pos_ = end < body_.size() ? end + 1 : end;
    if (type) {
      if (text_ == "counter") {
        type_ = MetricType::kCounter;
      } else if (text_ == "gauge") {
        type_ = MetricType::kGauge;
      } else if (text_ == "histogram") {
        type_ = MetricType::kHistogram;
      } else if (text_ == "summary") {
        type_ = MetricType::kSummary;
      } else if (text_ == "untyped") {
        type_ = MetricType::kUnknown;
      } else {
        return Fail(
            Status::InvalidArgument("invalid metric type " + model::internal::GoQuote(text_)));
      }
      return Entry::kType;
    }
    if (!internal::ValidUtf8(text_)) {
      return Fail(Status::InvalidArgument("help text " + model::internal::GoQuote(text_) +
                                          " is not a valid utf8 string"));
    }
    return Entry::kHelp;
  }
  std::size_t end = body_.find('\n', hash);
  if (end == std::string_view::npos) end = body_.size();
  text_ = body_.substr(hash, end - hash);
  pos_ = end < body_.size() ? end + 1 : end;
  return Entry::kComment;
}

Status PromParser::ScanSeries() {
  std::size_t start = pos_;
  name_ = ScanMetricName();
  SkipBlanks();
  if (Peek() == '{') {
    ++pos_;
    RETURN_IF_ERROR(ScanLabels(/*allow_blanks=*/true, /*trailing_comma=*/true, &labels_));
  }
  series_ = body_.substr(start, pos_ - start);
  while (!series_.empty() && IsBlank(series_.back())) series_.remove_suffix(1);
  return Status::Ok();
}

Result<Entry> PromParser::ParseSample() {
  SkipBlanks();
  std::size_t value_start = pos_;
  while (pos_ < body_.size() && !IsBlank(body_[pos_]) && body_[pos_] != '\n') ++pos_;
  std::string_view value = body_.substr(value_start, pos_ - value_start);
  RETURN_IF_ERROR(ParseValue(value));
  SkipBlanks();
  if (!AtEnd() && Peek() != '\n') {
    std::size_t ts_start = pos_;
    while (pos_ < body_.size() && !IsBlank(body_[pos_]) && body_[pos_] != '\n') ++pos_;
    std::string_view ts = body_.substr(ts_start, pos_ - ts_start);
    std::int64_t v = 0;
    bool digits = !ts.empty();
    for (char c : ts) digits = digits && internal::IsDigit(c);
    auto [ptr, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), v);
    if (!digits || ec != std::errc() || ptr != ts.data() + ts.size()) {
      return Fail(internal::ParseError("expected timestamp or new record", ts, LineSoFar()));
    }
    ts_ = v;
    SkipBlanks();
    if (!AtEnd() && Peek() != '\n') {
      return Fail(internal::ParseError("expected next entry after timestamp", body_.substr(pos_, 1),
                                       LineSoFar()));
    }
  }
  if (!AtEnd()) ++pos_;
  return Entry::kSeries;
}

PromParser PromParser::Rescanned() const {
  PromParser p(series_);
  // The text was accepted as a series before (see NextKnown), so the scan succeeds.
  (void)p.ScanSeries();
  return p;
}

void PromParser::Labels(model::LabelsBuilder* b) const {
  if (labels_unscanned_) {
    Rescanned().ParserBase::Labels(b);
  } else {
    ParserBase::Labels(b);
  }
}

base::Status PromParser::Metric(model::Labels* out) const {
  if (labels_unscanned_) return Rescanned().ParserBase::Metric(out);
  return ParserBase::Metric(out);
}

}  // namespace starling::model::textparse
