#include "model/textparse/textparse.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <system_error>

#include "model/textparse/openmetricsparse.h"
#include "model/textparse/promparse.h"

namespace starling::model::textparse {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

}  // namespace

std::string_view MetricTypeName(MetricType t) {
  switch (t) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateset:
      return "stateset";
  }
  return "unknown";
}

std::unique_ptr<Parser> New(std::string_view body, std::string_view content_type) {
  // The media type is what precedes the parameters, compared case-insensitively as
  // mime.ParseMediaType lowercases it.
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  if (EqualFold(media, "application/openmetrics-text")) {
    return std::make_unique<OpenMetricsParser>(body);
  }
  return std::make_unique<PromParser>(body);
}

namespace {

// Decimals such as "1234" or "0.25" with at most 15 digits, exactly as from_chars would read
// them, but several times faster: such a mantissa and a power of ten up to 1e22 are exact
// doubles, so one division rounds correctly (Clinger's fast path). Most sample values qualify.
bool ParseShortDecimal(std::string_view s, double* out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  constexpr std::size_t kMaxDigits = 15;
  if (s.empty() || s.size() > kMaxDigits + 1) return false;
  std::uint64_t mantissa = 0;
  std::size_t digits = 0;
  std::size_t dot = std::string_view::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      ++digits;
    } else if (c == '.' && dot == std::string_view::npos) {
      dot = i;
    } else {
      return false;
    }
  }
  if (digits == 0 || digits > kMaxDigits) return false;
  const std::size_t fraction = dot == std::string_view::npos ? 0 : s.size() - dot - 1;
  *out = static_cast<double>(mantissa) / kPow10[fraction];
  return true;
}

}  // namespace

bool ParseGoFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string_view rest = s;
  bool negative = false;
  if (rest.front() == '+' || rest.front() == '-') {
    negative = rest.front() == '-';
    rest.remove_prefix(1);
  }
  if (rest.empty()) return false;
  char first = Lower(rest.front());
  if (first == 'i' || first == 'n') {
    if (EqualFold(rest, "inf") || EqualFold(rest, "infinity")) {
      *out = negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
      return true;
    }
    // Go accepts a sign before Inf but not before NaN.
    if (rest.size() == s.size() && EqualFold(rest, "nan")) {
      *out = std::numeric_limits<double>::quiet_NaN();
      return true;
    }
    return false;
  }
  if (double v = 0; ParseShortDecimal(rest, &v)) {
    *out = negative ? -v : v;
    return true;
  }
  // Only digits, one '.', and an exponent reach from_chars: it must not see hex or a sign.
  for (char c : rest) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return false;
    }
  }
  if (!((first >= '0' && first <= '9') || first == '.')) return false;
  double v = 0;
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (ptr != rest.data() + rest.size()) return false;
  if (ec == std::errc::result_out_of_range) {
    // Underflow is not an error for Go (the result rounds to zero or a subnormal); overflow is.
    std::string copy(rest);
    errno = 0;
    v = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(v)) return false;
  } else if (ec != std::errc()) {
    return false;
  }
  *out = negative ? -v : v;
  return true;
}

}  // namespace starling::model::textparse
