#include "base/go_duration.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace starling::base {
namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Go's unit table for time.ParseDuration, in nanoseconds.
std::optional<std::uint64_t> UnitNanos(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us" || u == "\xc2\xb5s" || u == "\xce\xbcs") return 1000;
  if (u == "ms") return 1000 * 1000;
  if (u == "s") return 1000ULL * 1000 * 1000;
  if (u == "m") return 60ULL * 1000 * 1000 * 1000;
  if (u == "h") return 3600ULL * 1000 * 1000 * 1000;
  return std::nullopt;
}

}  // namespace

Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view orig) {
  auto invalid = [&] { return Status::InvalidArgument("time: invalid duration " + Quote(orig)); };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return std::chrono::nanoseconds(0);
  if (s.empty()) return invalid();
  // Accumulate in long double per component, then check the int64 range, as Go rejects
  // overflow.
  long double total = 0;
  while (!s.empty()) {
    if (!(IsDigit(s[0]) || s[0] == '.')) return invalid();
    std::size_t i = 0;
    long double whole = 0;
    bool have_digits = false;
    while (i < s.size() && IsDigit(s[i])) {
      whole = whole * 10 + (s[i] - '0');
      have_digits = true;
      ++i;
    }
    long double frac = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && IsDigit(s[i])) {
        frac += scale * (s[i] - '0');
        scale /= 10;
        have_digits = true;
        ++i;
      }
    }
    if (!have_digits) return invalid();
    std::size_t u = i;
    while (u < s.size() && !IsDigit(s[u]) && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty()) {
      return Status::InvalidArgument("time: missing unit in duration " + Quote(orig));
    }
    std::optional<std::uint64_t> mult = UnitNanos(unit);
    if (!mult) {
      return Status::InvalidArgument("time: unknown unit " + Quote(unit) + " in duration " +
                                     Quote(orig));
    }
    total += (whole + frac) * static_cast<long double>(*mult);
    if (total > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
      return invalid();
    }
    s.remove_prefix(u);
  }
  auto n = static_cast<std::int64_t>(std::floor(total));
  return std::chrono::nanoseconds(neg ? -n : n);
}

std::string FormatGoDuration(std::chrono::nanoseconds d) {
  std::int64_t n = d.count();
  if (n == 0) return "0s";
  bool neg = n < 0;
  std::uint64_t u = neg ? static_cast<std::uint64_t>(-(n + 1)) + 1 : static_cast<std::uint64_t>(n);
  std::string out;
  // Fractional digits of value/unit with trailing zeros trimmed.
  auto frac = [](std::uint64_t v, std::uint64_t unit, int digits) {
    std::string f;
    std::uint64_t rem = v % unit;
    for (int i = 0; i < digits; ++i) {
      unit /= 10;
      f.push_back(static_cast<char>('0' + rem / unit));
      rem %= unit;
    }
    while (!f.empty() && f.back() == '0') f.pop_back();
    return f.empty() ? f : "." + f;
  };
  constexpr std::uint64_t kSec = 1000ULL * 1000 * 1000;
  if (u < kSec) {
    if (u < 1000) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000 * 1000) {
      out = std::to_string(u / 1000) + frac(u, 1000, 3) + "\xc2\xb5s";
    } else {
      out = std::to_string(u / 1000000) + frac(u, 1000000, 6) + "ms";
    }
  } else {
    std::uint64_t h = u / (3600 * kSec);
    std::uint64_t m = (u / (60 * kSec)) % 60;
    std::uint64_t rest = u % (60 * kSec);
    std::string secs = std::to_string(rest / kSec) + frac(rest, kSec, 9) + "s";
    if (h > 0) {
      out = std::to_string(h) + "h" + std::to_string(m) + "m" + secs;
    } else if (m > 0) {
      out = std::to_string(m) + "m" + secs;
    } else {
      out = secs;
    }
  }
  return neg ? "-" + out : out;
}

}  // namespace starling::base
