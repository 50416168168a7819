#include "model/textparse/openmetricsparse.h"

#include <cmath>
#include <string>

#include "model/internal/go_text.h"

namespace starling::model::textparse {
namespace {

// The OpenMetrics limit on an exemplar's label names and values together, in code points.
constexpr std::size_t kMaxExemplarRunes = 128;

bool HasCreatedSeries(MetricType t) {
  return t == MetricType::kCounter || t == MetricType::kHistogram ||
         t == MetricType::kGaugeHistogram || t == MetricType::kSummary;
}

bool IsGroupingLabel(std::string_view name) { return name == "le" || name == "quantile"; }

// Whether a and b hold the same labels, ignoring le and quantile.
bool SameMetric(const std::vector<internal::LabelSpan>& a,
                const std::vector<internal::LabelSpan>& b) {
  std::size_t na = 0;
  for (const auto& l : a) {
    if (IsGroupingLabel(l.name)) continue;
    ++na;
    bool found = false;
    for (const auto& m : b) {
      if (m.name == l.name) {
        found = m.raw_value == l.raw_value;
        break;
      }
    }
    if (!found) return false;
  }
  std::size_t nb = 0;
  for (const auto& m : b) nb += IsGroupingLabel(m.name) ? 0 : 1;
  return na == nb;
}

}  // namespace

OpenMetricsParser::OpenMetricsParser(std::string_view body, bool skip_created_series)
    : ParserBase(body, /*help_quote_escapes=*/true), skip_created_series_(skip_created_series) {}

Result<Entry> OpenMetricsParser::Next() {
  for (;;) {
    Result<Entry> e = NextEntry();
    if (e.ok() && *e == Entry::kSeries && skip_created_series_ && IsCreatedSeries()) continue;
    return e;
  }
}

bool OpenMetricsParser::IsCreatedSeries() const {
  constexpr std::string_view kSuffix = "_created";
  return HasCreatedSeries(family_type_) && name_.size() == family_.size() + kSuffix.size() &&
         name_.starts_with(family_) && name_.ends_with(kSuffix);
}

Result<Entry> OpenMetricsParser::NextEntry() {
  if (!error_.ok()) return error_;
  if (saw_eof_) return Entry::kEof;
  labels_.clear();
  ts_.reset();
  has_exemplar_ = false;
  line_start_ = pos_;
  if (AtEnd()) return Fail(Status::InvalidArgument("data does not end with # EOF"));
  if (Peek() == '#') return ParseMetadata();
  if (internal::IsMetricNameStart(Peek())) return ParseSeries();
  return Fail(internal::ParseError("expected a valid start token", body_.substr(pos_, 1),
                                   body_.substr(pos_, 1)));
}

Result<Entry> OpenMetricsParser::ParseMetadata() {
  std::string_view rest = body_.substr(pos_);
  if (rest.starts_with("# EOF")) {
    std::string_view after = rest.substr(5);
    if (after.empty() || after == "\n") {
      saw_eof_ = true;
      pos_ = body_.size();
      return Entry::kEof;
    }
    if (after.front() == '\n') {
      return Fail(Status::InvalidArgument("unexpected data after # EOF"));
    }
  }
  Entry kind;
  if (rest.starts_with("# HELP ")) {
    kind = Entry::kHelp;
  } else if (rest.starts_with("# TYPE ")) {
    kind = Entry::kType;
  } else if (rest.starts_with("# UNIT ")) {
    kind = Entry::kUnit;
  } else {
    std::size_t end = rest.find('\n');
    return Fail(internal::ParseError("expected HELP, TYPE, UNIT or EOF after #",
                                     rest.substr(0, end), rest.substr(0, end)));
  }
  pos_ += 7;
  meta_name_ = ScanMetricName();
  if (meta_name_.empty()) {
    return Fail(internal::ParseError("expected metric name", body_.substr(pos_, AtEnd() ? 0 : 1),
                                     LineSoFar()));
  }
  if (Peek() != ' ') {
    return Fail(internal::ParseError("expected a space and text after the metric name",
                                     body_.substr(pos_, AtEnd() ? 0 : 1), LineSoFar()));
  }
  ++pos_;
  std::size_t end = body_.find('\n', pos_);
  if (end == std::string_view::npos) {
    return Fail(Status::InvalidArgument("line does not end with a newline: " +
                                        model::internal::GoQuote(body_.substr(line_start_))));
  }
  text_ = body_.substr(pos_, end - pos_);
  pos_ = end + 1;
  switch (kind) {
    case Entry::kType: {
      static constexpr MetricType kTypes[] = {
          MetricType::kUnknown,   MetricType::kCounter,        MetricType::kGauge,
          MetricType::kHistogram, MetricType::kGaugeHistogram, MetricType::kSummary,
          MetricType::kInfo,      MetricType::kStateset,
      };
      bool found = false;
      for (MetricType t : kTypes) {
        if (text_ == MetricTypeName(t)) {
          type_ = t;
          found = true;
        }
      }
      if (!found) {
        return Fail(
            Status::InvalidArgument("invalid metric type " + model::internal::GoQuote(text_)));
      }
      family_ = meta_name_;
      family_type_ = type_;
      return Entry::kType;
    }
    case Entry::kUnit:
      if (!text_.empty() && !(meta_name_.size() > text_.size() && meta_name_.ends_with(text_) &&
                              meta_name_[meta_name_.size() - text_.size() - 1] == '_')) {
        return Fail(Status::InvalidArgument("unit " + model::internal::GoQuote(text_) +
                                            " not a suffix of metric " +
                                            model::internal::GoQuote(meta_name_)));
      }
      return Entry::kUnit;
    default:
      if (!internal::ValidUtf8(text_)) {
        return Fail(Status::InvalidArgument("help text " + model::internal::GoQuote(text_) +
                                            " is not a valid utf8 string"));
      }
      return Entry::kHelp;
  }
}

Result<Entry> OpenMetricsParser::ParseSeries() {
  std::size_t start = pos_;
  name_ = ScanMetricName();
  if (Peek() == '{') {
    ++pos_;
    if (Status s = ScanLabels(/*allow_blanks=*/false, /*trailing_comma=*/false, &labels_);
        !s.ok()) {
      return Fail(std::move(s));
    }
  }
  series_ = body_.substr(start, pos_ - start);
  RETURN_IF_ERROR(ParseValue(Token()));
  if (Peek() == ' ' && body_.substr(pos_).starts_with(" # ")) {
    RETURN_IF_ERROR(ParseExemplar());
  } else if (Peek() == ' ') {
    std::string_view ts = Token();
    double seconds = 0;
    if (ts.empty() || !ParseGoFloat(ts, &seconds)) {
      return Fail(internal::ParseError("expected timestamp", ts, LineSoFar()));
    }
    if (std::isnan(seconds) || std::isinf(seconds)) {
      return Fail(Status::InvalidArgument("invalid timestamp " + std::string(ts)));
    }
    ts_ = internal::SecondsToMillis(seconds);
    if (body_.substr(pos_).starts_with(" # ")) RETURN_IF_ERROR(ParseExemplar());
  }
  if (Peek() != '\n' || AtEnd()) {
    return Fail(internal::ParseError("expected a newline after the sample",
                                     body_.substr(pos_, AtEnd() ? 0 : 1), LineSoFar()));
  }
  ++pos_;
  return Entry::kSeries;
}

std::string_view OpenMetricsParser::Token() {
  if (Peek() != ' ') return {};
  std::size_t s = ++pos_;
  while (pos_ < body_.size() && body_[pos_] != ' ' && body_[pos_] != '\n') ++pos_;
  return body_.substr(s, pos_ - s);
}

Status OpenMetricsParser::ParseExemplar() {
  pos_ += 3;  // " # "
  if (Peek() != '{') {
    return Fail(internal::ParseError("expected { to start an exemplar",
                                     body_.substr(pos_, AtEnd() ? 0 : 1), LineSoFar()));
  }
  ++pos_;
  exemplar_labels_.clear();
  if (Status s = ScanLabels(/*allow_blanks=*/false, /*trailing_comma=*/false, &exemplar_labels_);
      !s.ok()) {
    return Fail(std::move(s));
  }
  std::size_t runes = 0;
  for (const auto& l : exemplar_labels_) {
    runes += internal::CountRunes(l.name) + internal::CountRunes(l.raw_value);
  }
  if (runes > kMaxExemplarRunes) {
    return Fail(Status::InvalidArgument("exemplar labels have " + std::to_string(runes) +
                                        " UTF-8 characters, exceeding the limit of 128"));
  }
  std::string_view value = Token();
  if (value.empty() || !ParseGoFloat(value, &exemplar_value_)) {
    return Fail(internal::ParseError("expected exemplar value", value, LineSoFar()));
  }
  exemplar_ts_.reset();
  if (Peek() == ' ') {
    std::string_view ts = Token();
    double seconds = 0;
    if (ts.empty() || !ParseGoFloat(ts, &seconds)) {
      return Fail(internal::ParseError("expected exemplar timestamp", ts, LineSoFar()));
    }
    if (std::isnan(seconds) || std::isinf(seconds)) {
      return Fail(Status::InvalidArgument("invalid exemplar timestamp " + std::string(ts)));
    }
    exemplar_ts_ = internal::SecondsToMillis(seconds);
  }
  has_exemplar_ = true;
  return Status::Ok();
}

bool OpenMetricsParser::Exemplar(textparse::Exemplar* e) const {
  if (!has_exemplar_) return false;
  std::vector<model::Label> v;
  v.reserve(exemplar_labels_.size());
  for (const auto& l : exemplar_labels_) {
    v.emplace_back(std::string(l.name), internal::UnescapeLabelValue(l.raw_value));
  }
  e->labels = model::Labels(std::move(v));
  e->value = exemplar_value_;
  e->timestamp = exemplar_ts_;
  return true;
}

std::optional<std::int64_t> OpenMetricsParser::CreatedTimestamp() const {
  if (!HasCreatedSeries(family_type_) || !name_.starts_with(family_) || IsCreatedSeries()) {
    return std::nullopt;
  }
  OpenMetricsParser peek(*this);
  peek.skip_created_series_ = false;
  for (;;) {
    Result<Entry> e = peek.NextEntry();
    if (!e.ok() || *e != Entry::kSeries) return std::nullopt;
    if (!peek.name_.starts_with(family_)) return std::nullopt;
    if (peek.IsCreatedSeries() && SameMetric(labels_, peek.labels_)) {
      return internal::SecondsToMillis(peek.value_);
    }
  }
}

}  // namespace starling::model::textparse
