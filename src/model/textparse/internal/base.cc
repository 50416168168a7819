#include "model/textparse/internal/base.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "base/utf8.h"
#include "model/internal/go_text.h"

namespace starling::model::textparse::internal {

std::string UnescapeLabelValue(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char n = raw[i + 1];
      if (n == '\\' || n == '"') {
        out.push_back(n);
        ++i;
        continue;
      }
      if (n == 'n') {
        out.push_back('\n');
        ++i;
        continue;
      }
    }
    out.push_back(c);
  }
  return out;
}

void UnescapeHelp(std::string_view raw, bool quote_escapes, std::string* out) {
  out->clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      char n = raw[i + 1];
      if (n == '\\' || (quote_escapes && n == '"')) {
        out->push_back(n);
        ++i;
        continue;
      }
      if (n == 'n') {
        out->push_back('\n');
        ++i;
        continue;
      }
    }
    out->push_back(c);
  }
}

bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  // Exposition text is nearly all ASCII: skip it eight bytes at a time.
  constexpr std::uint64_t kHighBits = 0x8080808080808080ULL;
  for (std::uint64_t word = 0; i + sizeof(word) <= s.size(); i += sizeof(word)) {
    std::memcpy(&word, s.data() + i, sizeof(word));
    if ((word & kHighBits) != 0) break;
  }
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    int width = 0;
    char32_t rune = base::DecodeRune(s.substr(i), &width);
    if (rune == base::kRuneError && width <= 1) return false;
    i += static_cast<std::size_t>(width);
  }
  return true;
}

std::size_t CountRunes(std::string_view s) {
  std::size_t n = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
    } else {
      int width = 0;
      base::DecodeRune(s.substr(i), &width);
      i += width <= 0 ? 1 : static_cast<std::size_t>(width);
    }
    ++n;
  }
  return n;
}

std::int64_t SecondsToMillis(double seconds) {
  double ms = seconds * 1000;
  // int64 conversion of an out-of-range double is undefined in C++; Go saturates in practice.
  if (ms >= 9.2233720368547758e18) return std::numeric_limits<std::int64_t>::max();
  if (ms <= -9.2233720368547758e18) return std::numeric_limits<std::int64_t>::min();
  return static_cast<std::int64_t>(ms);
}

Status ParseError(std::string_view msg, std::string_view got, std::string_view line) {
  std::string m(msg);
  m += ", got ";
  model::internal::AppendGoQuote(got, &m);
  m += " while parsing: ";
  model::internal::AppendGoQuote(line, &m);
  return Status::InvalidArgument(std::move(m));
}

Status ParserBase::Fail(Status s) {
  error_ = s;
  return s;
}

SeriesView ParserBase::Series() const { return SeriesView{series_, ts_, value_}; }

MetadataView ParserBase::Help() {
  if (text_.find('\\') == std::string_view::npos) return MetadataView{meta_name_, text_};
  UnescapeHelp(text_, help_quote_escapes_, &help_buf_);
  return MetadataView{meta_name_, help_buf_};
}

TypeView ParserBase::Type() const { return TypeView{meta_name_, type_}; }

MetadataView ParserBase::Unit() const { return MetadataView{meta_name_, text_}; }

std::string_view ParserBase::Comment() const { return text_; }

void ParserBase::Labels(model::LabelsBuilder* b) const {
  b->Reset(model::Labels());
  b->Set("__name__", name_);
  for (const LabelSpan& l : labels_) {
    if (l.raw_value.find('\\') == std::string_view::npos) {
      b->Set(l.name, l.raw_value);
    } else {
      b->Set(l.name, UnescapeLabelValue(l.raw_value));
    }
  }
}

base::Status ParserBase::Metric(model::Labels* out) const {
  std::vector<model::Label> v;
  v.reserve(labels_.size() + 1);
  v.emplace_back("__name__", std::string(name_));
  for (const LabelSpan& l : labels_) {
    v.emplace_back(std::string(l.name), UnescapeLabelValue(l.raw_value));
  }
  *out = model::Labels(std::move(v));
  if (out->Size() == labels_.size() + 1) return base::Status::Ok();
  // Labels keeps one label of each name: some name repeats.
  std::string_view repeated = "__name__";
  for (std::size_t i = 0; i < labels_.size() && repeated == "__name__"; ++i) {
    for (std::size_t j = i + 1; j < labels_.size(); ++j) {
      if (labels_[i].name == labels_[j].name) {
        repeated = labels_[i].name;
        break;
      }
    }
  }
  return base::Status::InvalidArgument("label name \"" + std::string(repeated) +
                                       "\" is not unique: invalid sample");
}

bool ParserBase::Exemplar(textparse::Exemplar* /*e*/) const { return false; }

std::optional<std::int64_t> ParserBase::CreatedTimestamp() const { return std::nullopt; }

namespace {

// The first byte at or after pos that a quoted label value must look at ('"', '\\' or '\n'),
// or a position less than 16 bytes from the end, past which the caller goes byte by byte.
// Sets the top bit of *any_high if a byte skipped has it. Label values are the bulk of an
// exposition, so they are scanned 16 bytes at a time.
inline std::size_t SkipPlainValueBytes(std::string_view body, std::size_t pos,
                                       unsigned char* any_high) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i newline = _mm_set1_epi8('\n');
  while (pos + 16 <= body.size()) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(body.data() + pos));
    const auto special = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                     _mm_cmpeq_epi8(v, newline))));
    const auto high = static_cast<unsigned>(_mm_movemask_epi8(v));
    if (special == 0) {
      if (high != 0) *any_high |= 0x80;
      pos += 16;
      continue;
    }
    const int k = std::countr_zero(special);
    if ((high & ((1U << k) - 1)) != 0) *any_high |= 0x80;
    return pos + static_cast<std::size_t>(k);
  }
#else
  static_cast<void>(body);
  static_cast<void>(any_high);
#endif
  return pos;
}

}  // namespace

std::string_view ParserBase::ScanMetricName() {
  std::size_t start = pos_;
  if (pos_ < body_.size() && IsMetricNameStart(body_[pos_])) {
    ++pos_;
    while (pos_ < body_.size() && IsMetricNameChar(body_[pos_])) ++pos_;
  }
  return body_.substr(start, pos_ - start);
}

Status ParserBase::ParseValue(std::string_view text) {
  if (text.empty()) {
    return Fail(ParseError("expected value after metric", body_.substr(pos_, AtEnd() ? 0 : 1),
                           LineSoFar()));
  }
  if (!ParseGoFloat(text, &value_)) {
    return Fail(Status::InvalidArgument(
        "strconv.ParseFloat: parsing " + model::internal::GoQuote(text) +
        ": invalid syntax while parsing: " + model::internal::GoQuote(LineSoFar())));
  }
  // Prometheus stores every NaN sample as one bit pattern (value.NormalNaN), so that a scraped
  // NaN never reads as a stale marker.
  constexpr std::uint64_t kNormalNaN = 0x7ff8000000000001ULL;
  if (std::isnan(value_)) value_ = std::bit_cast<double>(kNormalNaN);
  return Status::Ok();
}

Status ParserBase::ScanLabels(bool allow_blanks, bool trailing_comma, std::vector<LabelSpan>* out) {
  auto skip = [&] {
    if (!allow_blanks) return;
    while (pos_ < body_.size() && (body_[pos_] == ' ' || body_[pos_] == '\t')) ++pos_;
  };
  auto got = [&] { return body_.substr(pos_, pos_ < body_.size() ? 1 : 0); };
  bool first = true;
  for (;;) {
    skip();
    if (Peek() == '}' && (first || trailing_comma)) {
      ++pos_;
      return Status::Ok();
    }
    std::size_t name_start = pos_;
    if (!IsNameStart(Peek())) return ParseError("expected label name", got(), LineSoFar());
    ++pos_;
    while (pos_ < body_.size() && IsNameChar(body_[pos_])) ++pos_;
    std::string_view name = body_.substr(name_start, pos_ - name_start);
    skip();
    if (Peek() != '=') return ParseError("expected equal", got(), LineSoFar());
    ++pos_;
    skip();
    if (Peek() != '"') return ParseError("expected label value", got(), LineSoFar());
    ++pos_;
    std::size_t value_start = pos_;
    unsigned char any_high = 0;  // only values with non-ASCII bytes need a UTF-8 check
    for (;;) {
      pos_ = SkipPlainValueBytes(body_, pos_, &any_high);
      if (pos_ >= body_.size() || body_[pos_] == '\n') {
        return ParseError("unterminated label value",
                          body_.substr(value_start - 1, pos_ - value_start + 1), LineSoFar());
      }
      char c = body_[pos_];
      if (c == '\\') {
        if (pos_ + 1 >= body_.size() || body_[pos_ + 1] == '\n') {
          pos_ = pos_ + 1;
          continue;
        }
        any_high |= static_cast<unsigned char>(body_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (c == '"') break;
      any_high |= static_cast<unsigned char>(c);
      ++pos_;
    }
    std::string_view raw = body_.substr(value_start, pos_ - value_start);
    ++pos_;  // closing quote
    if ((any_high & 0x80) != 0 && !ValidUtf8(raw)) {
      std::string m = "invalid UTF-8 label value: ";
      model::internal::AppendGoQuote(raw, &m);
      return Status::InvalidArgument(std::move(m));
    }
    out->push_back(LabelSpan{name, raw});
    first = false;
    skip();
    if (Peek() == ',') {
      ++pos_;
      skip();
      if (Peek() == '}' && !trailing_comma) {
        return ParseError("expected label name", got(), LineSoFar());
      }
      continue;
    }
    if (Peek() == '}') {
      ++pos_;
      return Status::Ok();
    }
    return ParseError("expected comma or brace close", got(), LineSoFar());
  }
}

}  // namespace starling::model::textparse::internal
