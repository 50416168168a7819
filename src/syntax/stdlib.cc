#include "syntax/stdlib.h"

// The standard library. Each function mirrors the Go function River binds to the same name
// (strings.*, fmt.Sprintf, encoding/json, gopkg.in/yaml.v3, encoding/base64, net/url,
// path/filepath, os.Getenv, github.com/ohler55/ojg/jp), including how River decodes call
// arguments into Go parameters: a string parameter accepts a string, a number (converted as
// River converts numbers to strings), an `optional secret` not marked secret, or null (the
// empty string).
//
// Error convention: a function returns InvalidArgument with the bare message (for example
// "expected 2 args, got 1" or "should be string, got bool"); when one argument is at fault it
// also sets *bad_arg to that argument's index, and the message is relative to that argument
// ("[2] should be string, got bool" names element 2 of it). The evaluator adds the position
// and the source text of the call or argument.
//
// Deliberate differences from the Go implementation, where it leaks secrets or is not
// deterministic:
//   - format and encoding.to_json refuse secrets ("secrets may not be converted into
//     strings"); Go prints the secret's text. An `optional secret` not marked secret formats
//     as its string.
//   - format rejects functions and capsules, and %p of arrays and objects (Go prints memory
//     addresses).
//   - encoding.from_yaml turns non-string mapping keys into strings (Go produces an
//     unusable capsule).
//   - array.group_by returns the groups in order of first appearance (Go: map order).
//   - array.combine_maps with passthrough keeps an unmatched left item once (Go repeats it
//     once per non-matching right item).
//   - json_path visits object members in key order (Go: map order).
//   - JSON and YAML documents nested deeper than 1000 levels are refused (Go: 10000 for JSON),
//     which bounds every recursive walk over them.
//   - Case mapping (to_lower, to_upper) covers ASCII, Latin-1, Latin Extended-A, Latin
//     Extended Additional, Greek, Cyrillic, Armenian and fullwidth Latin; other scripts are
//     left unchanged.

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/env.h"
#include "syntax/go_strconv.h"
#include "syntax/scanner.h"

// The release version; the build may define it (e.g. -DSTARLING_VERSION="v1.2.3").
#ifndef STARLING_VERSION
#define STARLING_VERSION "v0.1.0"
#endif

namespace starling::syntax {
namespace {

using base::Result;
using base::Status;
using Args = std::span<const Value>;
using Body = std::function<Result<Value>(Args, int*)>;

Status Error(std::string message) { return Status::InvalidArgument(std::move(message)); }

Status ArgError(int* bad_arg, size_t index, std::string message) {
  if (bad_arg != nullptr) *bad_arg = static_cast<int>(index);
  return Error(std::move(message));
}

Status TypeMismatch(std::string_view want, const Value& got) {
  return Error("should be " + std::string(want) + ", got " +
               std::string(ValueKindName(got.kind())));
}

Status ArityError(size_t want, size_t got) {
  return Error("expected " + std::to_string(want) + " args, got " + std::to_string(got));
}

// ---------------------------------------------------------------------------------------------
// UTF-8, as Go's unicode/utf8.

struct Rune {
  char32_t r;
  size_t size;
};

// utf8.DecodeRuneInString: invalid input decodes as (U+FFFD, 1), empty input as (U+FFFD, 0).
Rune DecodeRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  int width = 1;
  char32_t r = syntax::DecodeRune(s, &width);
  return {r, static_cast<size_t>(width)};
}

// utf8.DecodeLastRuneInString.
Rune DecodeLastRune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  size_t end = s.size();
  auto last = static_cast<unsigned char>(s[end - 1]);
  if (last < 0x80) return {last, 1};
  size_t lim = end >= 4 ? end - 4 : 0;
  size_t start = end - 1;
  while (start > lim && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  Rune r = DecodeRune(s.substr(start, end - start));
  if (start + r.size != end) return {kRuneError, 1};
  return r;
}

bool ValidRune(char32_t r) { return r <= kMaxRune && !(r >= 0xD800 && r <= 0xDFFF); }

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); i += DecodeRune(s.substr(i)).size) ++n;
  return n;
}

// Replaces invalid UTF-8 with U+FFFD, as Go does when it decodes JSON strings.
std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = DecodeRune(s.substr(i));
    if (r.r == kRuneError && r.size == 1) {
      AppendUtf8(&out, kRuneError);
    } else {
      out.append(s.substr(i, r.size));
    }
    i += r.size;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Simple case mapping (unicode.ToUpper / unicode.ToLower) for the scripts listed at the top.

bool InRange(char32_t r, char32_t lo, char32_t hi) { return r >= lo && r <= hi; }

char32_t ToLowerRune(char32_t r) {
  if (r < 0x80) return (r >= 'A' && r <= 'Z') ? r + 32 : r;
  if (InRange(r, 0xC0, 0xDE) && r != 0xD7) return r + 32;
  if (InRange(r, 0x100, 0x12F) || InRange(r, 0x132, 0x137) || InRange(r, 0x14A, 0x177)) {
    return (r % 2 == 0) ? r + 1 : r;
  }
  if (r == 0x130) return 'i';
  if (InRange(r, 0x139, 0x148) || InRange(r, 0x179, 0x17E)) return (r % 2 == 1) ? r + 1 : r;
  if (r == 0x178) return 0xFF;
  if (InRange(r, 0x391, 0x3A9) && r != 0x3A2) return r + 32;
  if (r == 0x386) return 0x3AC;
  if (InRange(r, 0x388, 0x38A)) return r + 37;
  if (r == 0x38C) return 0x3CC;
  if (InRange(r, 0x38E, 0x38F)) return r + 63;
  if (InRange(r, 0x400, 0x40F)) return r + 80;
  if (InRange(r, 0x410, 0x42F)) return r + 32;
  if (InRange(r, 0x460, 0x481) || InRange(r, 0x48A, 0x4BF) || InRange(r, 0x4D0, 0x52F)) {
    return (r % 2 == 0) ? r + 1 : r;
  }
  if (r == 0x4C0) return 0x4CF;
  if (InRange(r, 0x4C1, 0x4CE)) return (r % 2 == 1) ? r + 1 : r;
  if (InRange(r, 0x531, 0x556)) return r + 48;
  if (InRange(r, 0x1E00, 0x1E95) || InRange(r, 0x1EA0, 0x1EFF)) return (r % 2 == 0) ? r + 1 : r;
  if (r == 0x1E9E) return 0xDF;
  if (InRange(r, 0xFF21, 0xFF3A)) return r + 32;
  return r;
}

char32_t ToUpperRune(char32_t r) {
  if (r < 0x80) return (r >= 'a' && r <= 'z') ? r - 32 : r;
  if (r == 0xB5) return 0x39C;
  if (InRange(r, 0xE0, 0xFE) && r != 0xF7) return r - 32;
  if (r == 0xFF) return 0x178;
  if (InRange(r, 0x100, 0x12F) || InRange(r, 0x132, 0x137) || InRange(r, 0x14A, 0x177)) {
    return (r % 2 == 1) ? r - 1 : r;
  }
  if (r == 0x131) return 'I';
  if (InRange(r, 0x139, 0x148) || InRange(r, 0x179, 0x17E)) return (r % 2 == 0) ? r - 1 : r;
  if (r == 0x17F) return 'S';
  if (InRange(r, 0x3B1, 0x3C9) && r != 0x3C2) return r - 32;
  if (r == 0x3C2) return 0x3A3;
  if (r == 0x3AC) return 0x386;
  if (InRange(r, 0x3AD, 0x3AF)) return r - 37;
  if (r == 0x3CC) return 0x38C;
  if (InRange(r, 0x3CD, 0x3CE)) return r - 63;
  if (InRange(r, 0x430, 0x44F)) return r - 32;
  if (InRange(r, 0x450, 0x45F)) return r - 80;
  if (InRange(r, 0x460, 0x481) || InRange(r, 0x48A, 0x4BF) || InRange(r, 0x4D0, 0x52F)) {
    return (r % 2 == 1) ? r - 1 : r;
  }
  if (r == 0x4CF) return 0x4C0;
  if (InRange(r, 0x4C1, 0x4CE)) return (r % 2 == 0) ? r - 1 : r;
  if (InRange(r, 0x561, 0x586)) return r - 48;
  if (InRange(r, 0x1E00, 0x1E95) || InRange(r, 0x1EA0, 0x1EFF)) return (r % 2 == 1) ? r - 1 : r;
  if (InRange(r, 0xFF41, 0xFF5A)) return r - 32;
  return r;
}

// strings.Map: every rune mapped; invalid bytes become U+FFFD.
std::string MapRunes(std::string_view s, char32_t (*mapping)(char32_t)) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    Rune r = DecodeRune(s.substr(i));
    AppendUtf8(&out, mapping(r.r));
    i += r.size;
  }
  return out;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string GoToLower(std::string_view s) {
  if (IsAscii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    }
    return out;
  }
  return MapRunes(s, ToLowerRune);
}

std::string GoToUpper(std::string_view s) {
  if (IsAscii(s)) {
    std::string out(s);
    for (char& c : out) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    }
    return out;
  }
  return MapRunes(s, ToUpperRune);
}

// unicode.IsSpace.
bool IsSpaceRune(char32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return InRange(r, 0x2000, 0x200A);
  }
}

std::string GoTrimSpace(std::string_view s) {
  size_t start = 0;
  while (start < s.size()) {
    Rune r = DecodeRune(s.substr(start));
    if (!IsSpaceRune(r.r)) break;
    start += r.size;
  }
  size_t end = s.size();
  while (end > start) {
    Rune r = DecodeLastRune(s.substr(start, end - start));
    if (!IsSpaceRune(r.r)) break;
    end -= r.size;
  }
  return std::string(s.substr(start, end - start));
}

// strings.Trim: removes leading and trailing runes contained in cutset. An invalid byte in s
// counts as U+FFFD, which cutset contains when it has U+FFFD or an invalid byte itself.
std::string GoTrim(std::string_view s, std::string_view cutset) {
  if (s.empty() || cutset.empty()) return std::string(s);
  std::set<char32_t> set;
  for (size_t i = 0; i < cutset.size();) {
    Rune r = DecodeRune(cutset.substr(i));
    set.insert(r.r);
    i += r.size;
  }
  size_t start = 0;
  while (start < s.size()) {
    Rune r = DecodeRune(s.substr(start));
    if (set.count(r.r) == 0) break;
    start += r.size;
  }
  size_t end = s.size();
  while (end > start) {
    Rune r = DecodeLastRune(s.substr(start, end - start));
    if (set.count(r.r) == 0) break;
    end -= r.size;
  }
  return std::string(s.substr(start, end - start));
}

// strings.Split(s, sep) with no limit.
ValueArray GoSplit(std::string_view s, std::string_view sep) {
  ValueArray out;
  if (sep.empty()) {
    for (size_t i = 0; i < s.size();) {
      size_t n = DecodeRune(s.substr(i)).size;
      out.push_back(Value::String(std::string(s.substr(i, n))));
      i += n;
    }
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    if (at == std::string_view::npos) break;
    out.push_back(Value::String(std::string(s.substr(start, at - start))));
    start = at + sep.size();
  }
  out.push_back(Value::String(std::string(s.substr(start))));
  return out;
}

// strings.ReplaceAll: an empty `old` matches at the start and after each rune.
std::string GoReplaceAll(std::string_view s, std::string_view old_s, std::string_view new_s) {
  if (old_s == new_s) return std::string(s);
  std::string out;
  if (old_s.empty()) {
    out.append(new_s);
    for (size_t i = 0; i < s.size();) {
      size_t n = DecodeRune(s.substr(i)).size;
      out.append(s.substr(i, n));
      out.append(new_s);
      i += n;
    }
    return out;
  }
  size_t start = 0;
  while (true) {
    size_t at = s.find(old_s, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start));
    out.append(new_s);
    start = at + old_s.size();
  }
  out.append(s.substr(start));
  return out;
}

// path.Clean, for '/' separated paths.
std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  bool rooted = path[0] == '/';
  size_t n = path.size();
  std::string out;
  size_t r = 0;
  size_t dotdot = 0;
  if (rooted) {
    out += '/';
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/') {
      ++r;
    } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
      ++r;
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
      r += 2;
      if (out.size() > dotdot) {
        out.pop_back();
        while (out.size() > dotdot && out.back() != '/') out.pop_back();
        if (out.size() > dotdot && out.back() == '/') out.pop_back();
      } else if (!rooted) {
        if (!out.empty()) out += '/';
        out += "..";
        dotdot = out.size();
      }
    } else {
      if ((rooted && out.size() != 1) || (!rooted && !out.empty())) out += '/';
      for (; r < n && path[r] != '/'; ++r) out += path[r];
    }
  }
  if (out.empty()) return ".";
  return out;
}

// filepath.Join: joins from the first non-empty element, then cleans.
std::string PathJoin(const std::vector<std::string>& elems) {
  for (size_t i = 0; i < elems.size(); ++i) {
    if (elems[i].empty()) continue;
    std::string joined;
    for (size_t j = i; j < elems.size(); ++j) {
      if (j > i) joined += '/';
      joined += elems[j];
    }
    return CleanPath(joined);
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Argument decoding, as River decodes a value into a Go parameter.

// Into a Go string: null is "", numbers and non-secret optional secrets convert.
Result<std::string> DecodeString(const Value& v) {
  if (v.is_null()) return std::string();
  if (v.kind() == ValueKind::kString) return v.AsString();
  ASSIGN_OR_RETURN(Value s, ConvertTo(v, ValueKind::kString));
  return s.AsString();
}

// Into a Go []string: null is empty; an element error names the element.
Result<std::vector<std::string>> DecodeStringList(const Value& v) {
  std::vector<std::string> out;
  if (v.is_null()) return out;
  if (v.kind() != ValueKind::kArray) return TypeMismatch("array", v);
  const ValueArray& arr = v.AsArray();
  out.reserve(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    Result<std::string> s = DecodeString(arr[i]);
    if (!s.ok()) return Error("[" + std::to_string(i) + "] " + s.error().message());
    out.push_back(std::move(*s));
  }
  return out;
}

// Into an alloytypes.Secret: strings and both secret capsules; null is "".
Result<std::string> DecodeSecretText(const Value& v) {
  if (v.is_null()) return std::string();
  ASSIGN_OR_RETURN(Value s, ConvertToSecret(v));
  return s.SecretText();
}

// A function of a fixed number of string parameters.
Body StringFunction(size_t arity, std::function<Result<Value>(std::vector<std::string>&)> f) {
  return [arity, f = std::move(f)](Args args, int* bad_arg) -> Result<Value> {
    if (args.size() != arity) return ArityError(arity, args.size());
    std::vector<std::string> strs;
    strs.reserve(arity);
    for (size_t i = 0; i < args.size(); ++i) {
      Result<std::string> s = DecodeString(args[i]);
      if (!s.ok()) return ArgError(bad_arg, i, s.error().message());
      strs.push_back(std::move(*s));
    }
    return f(strs);
  };
}

// ---------------------------------------------------------------------------------------------
// strconv: quoting and float formatting.

constexpr char kLowerHex[] = "0123456789abcdef";
constexpr char kUpperHex[] = "0123456789ABCDEF";
// fmt's digit strings; index 16 is the letter of the 0x prefix.
constexpr char kLowerDigits[] = "0123456789abcdefx";
constexpr char kUpperDigits[] = "0123456789ABCDEFX";

// strconv.Quote (ascii_only: QuoteToASCII).
std::string GoQuote(std::string_view s, bool ascii_only) {
  return GoQuoteWith(s, ascii_only, IsPrintRune);
}

// strconv.QuoteRune (ascii_only: QuoteRuneToASCII).
std::string GoQuoteRune(char32_t r, bool ascii_only) {
  if (!ValidRune(r)) r = kRuneError;
  std::string out = "'";
  AppendGoEscapedRune(&out, r, '\'', ascii_only, IsPrintRune);
  out += '\'';
  return out;
}

bool CanBackquote(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    Rune r = DecodeRune(s.substr(i));
    i += r.size;
    if (r.size > 1) {
      if (r.r == 0xFEFF) return false;
      continue;
    }
    if (r.r == kRuneError) return false;
    if ((r.r < ' ' && r.r != '\t') || r.r == '`' || r.r == 0x7F) return false;
  }
  return true;
}

// Decimal digits of a non-negative finite double: value = 0.d1d2d3... x 10^dp, with no
// trailing zeros (zero has no digits).
struct Digits {
  std::string d;
  int dp = 0;
};

Digits ParseScientific(std::string_view sci) {
  Digits out;
  size_t e = sci.find('e');
  for (char c : sci.substr(0, e)) {
    if (c != '.') out.d += c;
  }
  int exp = 0;
  std::string_view es = sci.substr(e + 1);
  if (!es.empty() && es[0] == '+') es.remove_prefix(1);
  std::from_chars(es.data(), es.data() + es.size(), exp);
  out.dp = exp + 1;
  while (!out.d.empty() && out.d.back() == '0') out.d.pop_back();
  if (out.d.empty()) out.dp = 0;
  return out;
}

// The shortest digits that read back as a (Go's precision -1).
Digits ShortestDigits(double a) {
  if (a == 0) return {};
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::scientific);
  return ParseScientific(std::string_view(buf, static_cast<size_t>(res.ptr - buf)));
}

// a correctly rounded (ties to even) to n >= 1 significant digits.
Digits RoundedDigits(double a, int n) {
  if (a == 0) return {};
  std::string buf(static_cast<size_t>(n) + 32, '\0');
  auto res =
      std::to_chars(buf.data(), buf.data() + buf.size(), a, std::chars_format::scientific, n - 1);
  return ParseScientific(std::string_view(buf.data(), static_cast<size_t>(res.ptr - buf.data())));
}

// strconv's fmtE.
std::string FormatE(bool neg, const Digits& d, int prec, char fmt) {
  std::string out;
  if (neg) out += '-';
  int nd = static_cast<int>(d.d.size());
  out += nd != 0 ? d.d[0] : '0';
  if (prec > 0) {
    out += '.';
    int i = 1;
    int m = std::min(nd, prec + 1);
    if (i < m) {
      out.append(d.d, static_cast<size_t>(i), static_cast<size_t>(m - i));
      i = m;
    }
    for (; i <= prec; ++i) out += '0';
  }
  out += fmt;
  int exp = nd == 0 ? 0 : d.dp - 1;
  out += exp < 0 ? '-' : '+';
  exp = std::abs(exp);
  if (exp < 10) out += '0';
  out += std::to_string(exp);
  return out;
}

// strconv's fmtF.
std::string FormatF(bool neg, const Digits& d, int prec) {
  std::string out;
  if (neg) out += '-';
  int nd = static_cast<int>(d.d.size());
  if (d.dp > 0) {
    int m = std::min(nd, d.dp);
    out.append(d.d, 0, static_cast<size_t>(m));
    for (; m < d.dp; ++m) out += '0';
  } else {
    out += '0';
  }
  if (prec > 0) {
    out += '.';
    for (int i = 1; i <= prec; ++i) {
      int j = d.dp + i - 1;
      out += (j >= 0 && j < nd) ? d.d[static_cast<size_t>(j)] : '0';
    }
  }
  return out;
}

// strconv's fmtX for float64.
std::string FormatX(int prec, char fmt, bool neg, std::uint64_t mant, int exp) {
  if (mant == 0) exp = 0;
  mant <<= 60 - 52;
  while (mant != 0 && (mant & (std::uint64_t{1} << 60)) == 0) {
    mant <<= 1;
    --exp;
  }
  if (prec >= 0 && prec < 15) {
    unsigned shift = static_cast<unsigned>(prec) * 4;
    std::uint64_t extra = (mant << shift) & ((std::uint64_t{1} << 60) - 1);
    mant >>= 60 - shift;
    if ((extra | (mant & 1)) > (std::uint64_t{1} << 59)) ++mant;
    mant <<= 60 - shift;
    if ((mant & (std::uint64_t{1} << 61)) != 0) {
      mant >>= 1;
      ++exp;
    }
  }
  const char* hex = fmt == 'X' ? kUpperHex : kLowerHex;
  std::string out;
  if (neg) out += '-';
  out += '0';
  out += fmt;
  out += static_cast<char>('0' + ((mant >> 60) & 1));
  mant <<= 4;
  if (prec < 0 && mant != 0) {
    out += '.';
    while (mant != 0) {
      out += hex[(mant >> 60) & 15];
      mant <<= 4;
    }
  } else if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) {
      out += hex[(mant >> 60) & 15];
      mant <<= 4;
    }
  }
  out += fmt == 'X' ? 'P' : 'p';
  out += exp < 0 ? '-' : '+';
  exp = std::abs(exp);
  if (exp < 10) out += '0';
  out += std::to_string(exp);
  return out;
}

// strconv.FormatFloat(v, fmt, prec, 64) for fmt in b e E f g G x X.
std::string FormatFloat(double v, char fmt, int prec) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  bool neg = std::signbit(v);
  auto bits = std::bit_cast<std::uint64_t>(v);
  int exp = static_cast<int>((bits >> 52) & 0x7FF);
  std::uint64_t mant = bits & ((std::uint64_t{1} << 52) - 1);
  if (exp == 0) {
    ++exp;
  } else {
    mant |= std::uint64_t{1} << 52;
  }
  exp -= 1023;
  if (fmt == 'b') {
    std::string out = neg ? "-" : "";
    out += std::to_string(mant);
    out += 'p';
    exp -= 52;
    if (exp >= 0) out += '+';
    out += std::to_string(exp);
    return out;
  }
  if (fmt == 'x' || fmt == 'X') return FormatX(prec, fmt, neg, mant, exp);

  double a = std::fabs(v);
  bool shortest = prec < 0;
  Digits digs;
  if (shortest) {
    digs = ShortestDigits(a);
    int nd = static_cast<int>(digs.d.size());
    switch (fmt) {
      case 'e':
      case 'E':
        prec = std::max(nd - 1, 0);
        break;
      case 'f':
        prec = std::max(nd - digs.dp, 0);
        break;
      default:
        prec = nd;
        break;
    }
  } else if (fmt == 'f') {
    std::string buf(static_cast<size_t>(prec) + 400, '\0');
    auto res =
        std::to_chars(buf.data(), buf.data() + buf.size(), a, std::chars_format::fixed, prec);
    std::string out = neg ? "-" : "";
    out.append(buf.data(), static_cast<size_t>(res.ptr - buf.data()));
    return out;
  } else if (fmt == 'e' || fmt == 'E') {
    digs = RoundedDigits(a, prec + 1);
  } else {
    if (prec == 0) prec = 1;
    digs = RoundedDigits(a, prec);
  }

  int nd = static_cast<int>(digs.d.size());
  switch (fmt) {
    case 'e':
    case 'E':
      return FormatE(neg, digs, prec, fmt);
    case 'f':
      return FormatF(neg, digs, prec);
    default: {  // g, G
      int eprec = prec;
      if (eprec > nd && nd >= digs.dp) eprec = nd;
      if (shortest) eprec = 6;
      int e = digs.dp - 1;
      if (e < -4 || e >= eprec) {
        if (prec > nd) prec = nd;
        return FormatE(neg, digs, prec - 1, fmt == 'G' ? 'E' : 'e');
      }
      if (prec > digs.dp) prec = nd;
      return FormatF(neg, digs, std::max(prec - digs.dp, 0));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// format: Go's fmt.Sprintf over River values. River hands Sprintf its arguments decoded into
// interface{}: null is nil, integers are int (uint64 above the int range), other numbers
// float64, arrays []interface{} and objects map[string]interface{}.

std::string GoTypeName(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kString:
      return "string";
    case ValueKind::kArray:
      return "[]interface {}";
    case ValueKind::kObject:
      return "map[string]interface {}";
    case ValueKind::kNumber:
      switch (v.number_kind()) {
        case NumberKind::kInt:
          return "int";
        case NumberKind::kUint:
          return v.AsUint() > static_cast<std::uint64_t>(INT64_MAX) ? "uint64" : "int";
        case NumberKind::kFloat:
          return "float64";
      }
      break;
    default:
      break;
  }
  return "<nil>";
}

// Replaces optional secrets not marked secret by their strings; refuses what Sprintf cannot
// show (secrets, functions, other capsules).
Result<Value> PrepareFormatArg(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kArray: {
      ValueArray out;
      out.reserve(v.AsArray().size());
      for (const Value& e : v.AsArray()) {
        ASSIGN_OR_RETURN(Value p, PrepareFormatArg(e));
        out.push_back(std::move(p));
      }
      return Value::Array(std::move(out));
    }
    case ValueKind::kObject: {
      ValueObject out;
      for (const auto& [k, e] : v.AsObject()) {
        ASSIGN_OR_RETURN(Value p, PrepareFormatArg(e));
        out.emplace(k, std::move(p));
      }
      return Value::Object(std::move(out));
    }
    case ValueKind::kCapsule:
      if (v.IsSecret()) return Error("secrets may not be converted into strings");
      if (v.IsOptionalSecret()) return Value::String(v.SecretText());
      return Error("cannot format a capsule(\"" + v.TypeName() + "\")");
    case ValueKind::kFunction:
      return Error("cannot format a function");
    default:
      return v;
  }
}

class GoFormatter {
 public:
  // Sprintf; fails only for what the notes above list as unsupported.
  Result<std::string> Sprintf(std::string_view format, std::span<const Value> args);

 private:
  struct Flags {
    bool wid_present = false;
    bool prec_present = false;
    bool minus = false;
    bool plus = false;
    bool sharp = false;
    bool space = false;
    bool zero = false;
    bool plus_v = false;
    bool sharp_v = false;
  };

  void ClearFlags() {
    f_ = Flags{};
    wid_ = 0;
    prec_ = 0;
  }
  void WriteRune(char32_t r) { AppendUtf8(&buf_, r); }
  void WritePadding(long n);
  void Pad(std::string_view s);
  void FmtBoolean(bool v) { Pad(v ? "true" : "false"); }
  void FmtUnicode(std::uint64_t u);
  void FmtInteger(std::uint64_t u, int base, bool is_signed, char32_t verb, const char* digits);
  std::string_view Truncate(std::string_view s) const;
  void FmtS(std::string_view s) { Pad(Truncate(s)); }
  void FmtSx(std::string_view s, const char* digits);
  void FmtQ(std::string_view s);
  void FmtC(std::uint64_t c);
  void FmtQc(std::uint64_t c);
  void FmtFloatNum(double v, char verb, int prec);

  void BadVerb(char32_t verb, const Value& v);
  void PrintBool(bool b, char32_t verb, const Value& v);
  void PrintInteger(std::uint64_t u, bool is_signed, char32_t verb, const Value& v);
  void PrintFloat(double f, char32_t verb, const Value& v);
  void PrintString(const std::string& s, char32_t verb, const Value& v);
  void PrintArg(const Value& v, char32_t verb);
  void PrintValue(const Value& v, char32_t verb, int depth);
  void PrintElement(const Value& v, char32_t verb, int depth);

  std::string buf_;
  Flags f_;
  long wid_ = 0;
  long prec_ = 0;
  bool reordered_ = false;
  bool good_arg_num_ = true;
  std::optional<std::string> unsupported_;
};

void GoFormatter::WritePadding(long n) {
  if (n <= 0) return;
  buf_.append(static_cast<size_t>(n), (f_.zero && !f_.minus) ? '0' : ' ');
}

void GoFormatter::Pad(std::string_view s) {
  if (!f_.wid_present || wid_ == 0) {
    buf_.append(s);
    return;
  }
  long width = wid_ - static_cast<long>(RuneCount(s));
  if (!f_.minus) {
    WritePadding(width);
    buf_.append(s);
  } else {
    buf_.append(s);
    WritePadding(width);
  }
}

void GoFormatter::FmtUnicode(std::uint64_t u) {
  std::string tail;
  if (f_.sharp && u <= kMaxRune && IsPrintRune(static_cast<char32_t>(u))) {
    tail = " '";
    AppendUtf8(&tail, static_cast<char32_t>(u));
    tail += '\'';
  }
  long prec = 4;
  if (f_.prec_present && prec_ > 4) prec = prec_;
  std::string hex;
  do {
    hex.insert(hex.begin(), kUpperHex[u & 0xF]);
    u >>= 4;
  } while (u != 0);
  while (static_cast<long>(hex.size()) < prec) hex.insert(hex.begin(), '0');
  bool old_zero = f_.zero;
  f_.zero = false;
  Pad("U+" + hex + tail);
  f_.zero = old_zero;
}

void GoFormatter::FmtInteger(std::uint64_t u, int base, bool is_signed, char32_t verb,
                             const char* digits) {
  bool negative = is_signed && static_cast<std::int64_t>(u) < 0;
  if (negative) u = ~u + 1;
  long prec = 0;
  if (f_.prec_present) {
    prec = prec_;
    if (prec == 0 && u == 0) {
      bool old_zero = f_.zero;
      f_.zero = false;
      WritePadding(wid_);
      f_.zero = old_zero;
      return;
    }
  } else if (f_.zero && !f_.minus && f_.wid_present) {
    prec = wid_;
    if (negative || f_.plus || f_.space) --prec;
  }
  std::string num;
  do {
    num.insert(num.begin(), digits[u % static_cast<std::uint64_t>(base)]);
    u /= static_cast<std::uint64_t>(base);
  } while (u != 0);
  while (static_cast<long>(num.size()) < prec) num.insert(num.begin(), '0');
  if (f_.sharp) {
    switch (base) {
      case 2:
        num.insert(0, "0b");
        break;
      case 8:
        if (num[0] != '0') num.insert(num.begin(), '0');
        break;
      case 16:
        num.insert(0, std::string("0") + digits[16]);
        break;
      default:
        break;
    }
  }
  if (verb == 'O') num.insert(0, "0o");
  if (negative) {
    num.insert(num.begin(), '-');
  } else if (f_.plus) {
    num.insert(num.begin(), '+');
  } else if (f_.space) {
    num.insert(num.begin(), ' ');
  }
  bool old_zero = f_.zero;
  f_.zero = false;
  Pad(num);
  f_.zero = old_zero;
}

std::string_view GoFormatter::Truncate(std::string_view s) const {
  if (f_.prec_present) {
    long n = prec_;
    for (size_t i = 0; i < s.size(); i += DecodeRune(s.substr(i)).size) {
      if (--n < 0) return s.substr(0, i);
    }
  }
  return s;
}

void GoFormatter::FmtSx(std::string_view s, const char* digits) {
  long length = static_cast<long>(s.size());
  if (f_.prec_present && prec_ < length) length = prec_;
  long width = 2 * length;
  if (width > 0) {
    if (f_.space) {
      if (f_.sharp) width *= 2;
      width += length - 1;
    } else if (f_.sharp) {
      width += 2;
    }
  } else {
    if (f_.wid_present) WritePadding(wid_);
    return;
  }
  if (f_.wid_present && wid_ > width && !f_.minus) WritePadding(wid_ - width);
  if (f_.sharp) {
    buf_ += '0';
    buf_ += digits[16];
  }
  for (long i = 0; i < length; ++i) {
    if (f_.space && i > 0) {
      buf_ += ' ';
      if (f_.sharp) {
        buf_ += '0';
        buf_ += digits[16];
      }
    }
    auto c = static_cast<unsigned char>(s[static_cast<size_t>(i)]);
    buf_ += digits[c >> 4];
    buf_ += digits[c & 0xF];
  }
  if (f_.wid_present && wid_ > width && f_.minus) WritePadding(wid_ - width);
}

void GoFormatter::FmtQ(std::string_view s) {
  s = Truncate(s);
  if (f_.sharp && CanBackquote(s)) {
    Pad("`" + std::string(s) + "`");
    return;
  }
  Pad(GoQuote(s, f_.plus));
}

void GoFormatter::FmtC(std::uint64_t c) {
  char32_t r = c > kMaxRune ? kRuneError : static_cast<char32_t>(c);
  std::string s;
  AppendUtf8(&s, r);
  Pad(s);
}

void GoFormatter::FmtQc(std::uint64_t c) {
  char32_t r = c > kMaxRune ? kRuneError : static_cast<char32_t>(c);
  Pad(GoQuoteRune(r, f_.plus));
}

// fmt's fmtFloat.
void GoFormatter::FmtFloatNum(double v, char verb, int prec) {
  if (f_.prec_present) prec = static_cast<int>(prec_);
  std::string num = FormatFloat(v, verb, prec);
  if (num[0] != '-' && num[0] != '+') num.insert(num.begin(), '+');
  if (f_.space && num[0] == '+' && !f_.plus) num[0] = ' ';
  if (num[1] == 'I' || num[1] == 'N') {
    bool old_zero = f_.zero;
    f_.zero = false;
    if (num[1] == 'N' && !f_.space && !f_.plus) num.erase(0, 1);
    Pad(num);
    f_.zero = old_zero;
    return;
  }
  if (f_.sharp && verb != 'b') {
    int digits = 0;
    if (verb == 'v' || verb == 'g' || verb == 'G' || verb == 'x') {
      digits = prec;
      if (digits == -1) digits = 6;
    }
    std::string tail;
    bool has_decimal_point = false;
    bool saw_nonzero_digit = false;
    for (size_t i = 1; i < num.size(); ++i) {
      char c = num[i];
      if (c == '.') {
        has_decimal_point = true;
        continue;
      }
      if (c == 'p' || c == 'P' || ((c == 'e' || c == 'E') && verb != 'x' && verb != 'X')) {
        tail = num.substr(i);
        num.resize(i);
        break;
      }
      if (c != '0') saw_nonzero_digit = true;
      if (saw_nonzero_digit) --digits;
    }
    if (!has_decimal_point) {
      if (num.size() == 2 && num[1] == '0') --digits;
      num += '.';
    }
    for (; digits > 0; --digits) num += '0';
    num += tail;
  }
  if (f_.plus || num[0] != '+') {
    if (f_.zero && !f_.minus && f_.wid_present && wid_ > static_cast<long>(num.size())) {
      buf_ += num[0];
      WritePadding(wid_ - static_cast<long>(num.size()));
      buf_.append(num, 1);
      return;
    }
    Pad(num);
    return;
  }
  Pad(std::string_view(num).substr(1));
}

void GoFormatter::BadVerb(char32_t verb, const Value& v) {
  buf_ += "%!";
  WriteRune(verb);
  buf_ += '(';
  if (v.is_null()) {
    buf_ += "<nil>";
  } else {
    buf_ += GoTypeName(v);
    buf_ += '=';
    PrintArg(v, 'v');
  }
  buf_ += ')';
}

void GoFormatter::PrintBool(bool b, char32_t verb, const Value& v) {
  if (verb == 't' || verb == 'v') {
    FmtBoolean(b);
  } else {
    BadVerb(verb, v);
  }
}

void GoFormatter::PrintInteger(std::uint64_t u, bool is_signed, char32_t verb, const Value& v) {
  switch (verb) {
    case 'v':
      if (f_.sharp_v && !is_signed) {
        bool sharp = f_.sharp;
        f_.sharp = true;
        FmtInteger(u, 16, false, 'v', kLowerDigits);
        f_.sharp = sharp;
      } else {
        FmtInteger(u, 10, is_signed, verb, kLowerDigits);
      }
      break;
    case 'd':
      FmtInteger(u, 10, is_signed, verb, kLowerDigits);
      break;
    case 'b':
      FmtInteger(u, 2, is_signed, verb, kLowerDigits);
      break;
    case 'o':
    case 'O':
      FmtInteger(u, 8, is_signed, verb, kLowerDigits);
      break;
    case 'x':
      FmtInteger(u, 16, is_signed, verb, kLowerDigits);
      break;
    case 'X':
      FmtInteger(u, 16, is_signed, verb, kUpperDigits);
      break;
    case 'c':
      FmtC(u);
      break;
    case 'q':
      FmtQc(u);
      break;
    case 'U':
      FmtUnicode(u);
      break;
    default:
      BadVerb(verb, v);
      break;
  }
}

void GoFormatter::PrintFloat(double f, char32_t verb, const Value& v) {
  switch (verb) {
    case 'v':
      FmtFloatNum(f, 'g', -1);
      break;
    case 'b':
    case 'g':
    case 'G':
    case 'x':
    case 'X':
      FmtFloatNum(f, static_cast<char>(verb), -1);
      break;
    case 'f':
    case 'e':
    case 'E':
      FmtFloatNum(f, static_cast<char>(verb), 6);
      break;
    case 'F':
      FmtFloatNum(f, 'f', 6);
      break;
    default:
      BadVerb(verb, v);
      break;
  }
}

void GoFormatter::PrintString(const std::string& s, char32_t verb, const Value& v) {
  switch (verb) {
    case 'v':
      if (f_.sharp_v) {
        FmtQ(s);
      } else {
        FmtS(s);
      }
      break;
    case 's':
      FmtS(s);
      break;
    case 'x':
      FmtSx(s, kLowerDigits);
      break;
    case 'X':
      FmtSx(s, kUpperDigits);
      break;
    case 'q':
      FmtQ(s);
      break;
    default:
      BadVerb(verb, v);
      break;
  }
}

// printArg: the top level of one operand.
void GoFormatter::PrintArg(const Value& v, char32_t verb) {
  if (v.is_null()) {
    if (verb == 'T' || verb == 'v') {
      Pad("<nil>");
    } else {
      BadVerb(verb, v);
    }
    return;
  }
  if (verb == 'T') {
    FmtS(GoTypeName(v));
    return;
  }
  if (verb == 'p') {
    if (v.kind() == ValueKind::kArray || v.kind() == ValueKind::kObject) {
      unsupported_ = "%p (a memory address) is not supported";
      return;
    }
    BadVerb(verb, v);
    return;
  }
  PrintValue(v, verb, 0);
}

// An interface{} element of an array or object: nil prints without the verb.
void GoFormatter::PrintElement(const Value& v, char32_t verb, int depth) {
  if (v.is_null()) {
    buf_ += f_.sharp_v ? "interface {}(nil)" : "<nil>";
    return;
  }
  PrintValue(v, verb, depth + 1);
}

void GoFormatter::PrintValue(const Value& v, char32_t verb, int depth) {
  switch (v.kind()) {
    case ValueKind::kBool:
      PrintBool(v.AsBool(), verb, v);
      return;
    case ValueKind::kNumber:
      switch (v.number_kind()) {
        case NumberKind::kInt:
          PrintInteger(static_cast<std::uint64_t>(v.AsInt()), true, verb, v);
          return;
        case NumberKind::kUint:
          PrintInteger(v.AsUint(), v.AsUint() <= static_cast<std::uint64_t>(INT64_MAX), verb, v);
          return;
        case NumberKind::kFloat:
          PrintFloat(v.AsFloat(), verb, v);
          return;
      }
      return;
    case ValueKind::kString:
      PrintString(v.AsString(), verb, v);
      return;
    case ValueKind::kArray: {
      const ValueArray& arr = v.AsArray();
      if (f_.sharp_v) {
        buf_ += "[]interface {}{";
        for (size_t i = 0; i < arr.size(); ++i) {
          if (i > 0) buf_ += ", ";
          PrintElement(arr[i], verb, depth + 1);
        }
        buf_ += '}';
      } else {
        buf_ += '[';
        for (size_t i = 0; i < arr.size(); ++i) {
          if (i > 0) buf_ += ' ';
          PrintElement(arr[i], verb, depth + 1);
        }
        buf_ += ']';
      }
      return;
    }
    case ValueKind::kObject: {
      buf_ += f_.sharp_v ? "map[string]interface {}{" : "map[";
      bool first = true;
      for (const auto& [key, elem] : v.AsObject()) {
        if (!first) buf_ += f_.sharp_v ? ", " : " ";
        first = false;
        Value key_value = Value::String(key);
        PrintString(key, verb, key_value);
        buf_ += ':';
        PrintElement(elem, verb, depth + 1);
      }
      buf_ += f_.sharp_v ? '}' : ']';
      return;
    }
    default:
      // Arguments were checked by PrepareFormatArg; nothing else reaches here.
      buf_ += "<nil>";
      return;
  }
}

// Go's tooLarge: widths and precisions are limited to 1e6.
bool TooLarge(long x) { return x > 1000000 || x < -1000000; }

struct ParsedNum {
  long num = 0;
  bool is_num = false;
  size_t next = 0;
};

ParsedNum ParseNum(std::string_view s, size_t start, size_t end) {
  ParsedNum p;
  if (start >= end) return {0, false, end};
  for (p.next = start; p.next < end && s[p.next] >= '0' && s[p.next] <= '9'; ++p.next) {
    if (TooLarge(p.num)) return {0, false, end};
    p.num = p.num * 10 + (s[p.next] - '0');
    p.is_num = true;
  }
  return p;
}

Result<std::string> GoFormatter::Sprintf(std::string_view format, std::span<const Value> args) {
  size_t end = format.size();
  size_t arg_num = 0;
  bool after_index = false;
  reordered_ = false;

  // argNumber: an explicit [n] index at format[i].
  auto arg_number = [&](size_t arg, size_t i, size_t num_args, size_t* new_arg, size_t* new_i,
                        bool* found) {
    *new_arg = arg;
    *new_i = i;
    *found = false;
    if (format.size() <= i || format[i] != '[') return;
    reordered_ = true;
    // parseArgNumber.
    long index = 0;
    size_t wid = 1;
    bool ok = false;
    std::string_view rest = format.substr(i);
    if (rest.size() >= 3) {
      for (size_t k = 1; k < rest.size(); ++k) {
        if (rest[k] == ']') {
          ParsedNum pn = ParseNum(rest, 1, k);
          if (!pn.is_num || pn.next != k) {
            index = 0, wid = k + 1, ok = false;
          } else {
            index = pn.num - 1, wid = k + 1, ok = true;
          }
          break;
        }
      }
    }
    if (ok && index >= 0 && static_cast<size_t>(index) < num_args) {
      *new_arg = static_cast<size_t>(index);
      *new_i = i + wid;
      *found = true;
      return;
    }
    good_arg_num_ = false;
    *new_i = i + wid;
    *found = ok;
  };

  // intFromArg: a * width or precision.
  auto int_from_arg = [&](size_t arg, long* num, bool* is_int) -> size_t {
    *num = 0;
    *is_int = false;
    if (arg >= args.size()) return arg;
    const Value& a = args[arg];
    if (a.kind() == ValueKind::kNumber) {
      if (a.number_kind() == NumberKind::kInt) {
        *num = static_cast<long>(a.AsInt());
        *is_int = true;
      } else if (a.number_kind() == NumberKind::kUint &&
                 a.AsUint() <= static_cast<std::uint64_t>(LONG_MAX)) {
        *num = static_cast<long>(a.AsUint());
        *is_int = true;
      }
    }
    if (TooLarge(*num)) {
      *num = 0;
      *is_int = false;
    }
    return arg + 1;
  };

  for (size_t i = 0; i < end;) {
    good_arg_num_ = true;
    size_t lasti = i;
    while (i < end && format[i] != '%') ++i;
    if (i > lasti) buf_.append(format.substr(lasti, i - lasti));
    if (i >= end) break;
    ++i;  // the '%'

    ClearFlags();
    for (; i < end; ++i) {
      char c = format[i];
      if (c == '#') {
        f_.sharp = true;
      } else if (c == '0') {
        f_.zero = true;
      } else if (c == '+') {
        f_.plus = true;
      } else if (c == '-') {
        f_.minus = true;
      } else if (c == ' ') {
        f_.space = true;
      } else {
        break;
      }
    }

    arg_number(arg_num, i, args.size(), &arg_num, &i, &after_index);

    if (i < end && format[i] == '*') {
      ++i;
      arg_num = int_from_arg(arg_num, &wid_, &f_.wid_present);
      if (!f_.wid_present) buf_ += "%!(BADWIDTH)";
      if (wid_ < 0) {
        wid_ = -wid_;
        f_.minus = true;
        f_.zero = false;
      }
      after_index = false;
    } else {
      ParsedNum pn = ParseNum(format, i, end);
      wid_ = pn.num;
      f_.wid_present = pn.is_num;
      i = pn.next;
      if (after_index && f_.wid_present) good_arg_num_ = false;
    }

    if (i + 1 < end && format[i] == '.') {
      ++i;
      if (after_index) good_arg_num_ = false;
      arg_number(arg_num, i, args.size(), &arg_num, &i, &after_index);
      if (i < end && format[i] == '*') {
        ++i;
        arg_num = int_from_arg(arg_num, &prec_, &f_.prec_present);
        if (prec_ < 0) {
          prec_ = 0;
          f_.prec_present = false;
        }
        if (!f_.prec_present) buf_ += "%!(BADPREC)";
        after_index = false;
      } else {
        ParsedNum pn = ParseNum(format, i, end);
        prec_ = pn.num;
        f_.prec_present = pn.is_num;
        i = pn.next;
        if (!f_.prec_present) {
          prec_ = 0;
          f_.prec_present = true;
        }
      }
    }

    if (!after_index) arg_number(arg_num, i, args.size(), &arg_num, &i, &after_index);

    if (i >= end) {
      buf_ += "%!(NOVERB)";
      break;
    }

    Rune verb = DecodeRune(format.substr(i));
    i += verb.size;

    if (verb.r == '%') {
      buf_ += '%';
    } else if (!good_arg_num_) {
      buf_ += "%!";
      WriteRune(verb.r);
      buf_ += "(BADINDEX)";
    } else if (arg_num >= args.size()) {
      buf_ += "%!";
      WriteRune(verb.r);
      buf_ += "(MISSING)";
    } else {
      if (verb.r == 'v' || verb.r == 'w') {
        f_.sharp_v = f_.sharp;
        f_.sharp = false;
        f_.plus_v = f_.plus;
        f_.plus = false;
      }
      if (verb.r == 'w') {
        // %w wraps errors, and River values are never errors.
        BadVerb('w', args[arg_num]);
      } else {
        PrintArg(args[arg_num], verb.r);
      }
      ++arg_num;
    }
    if (unsupported_) return Error(*unsupported_);
  }

  if (!reordered_ && arg_num < args.size()) {
    ClearFlags();
    buf_ += "%!(EXTRA ";
    for (size_t k = arg_num; k < args.size(); ++k) {
      if (k > arg_num) buf_ += ", ";
      if (args[k].is_null()) {
        buf_ += "<nil>";
      } else {
        buf_ += GoTypeName(args[k]);
        buf_ += '=';
        PrintArg(args[k], 'v');
      }
    }
    buf_ += ')';
    if (unsupported_) return Error(*unsupported_);
  }
  return std::move(buf_);
}

Result<Value> Format(Args args, int* bad_arg) {
  if (args.empty()) return Error("expected at least 1 args, got 0");
  Result<std::string> spec = DecodeString(args[0]);
  if (!spec.ok()) return ArgError(bad_arg, 0, spec.error().message());
  ValueArray rest;
  rest.reserve(args.size() - 1);
  for (size_t i = 1; i < args.size(); ++i) {
    Result<Value> p = PrepareFormatArg(args[i]);
    if (!p.ok()) return ArgError(bad_arg, i, p.error().message());
    rest.push_back(std::move(*p));
  }
  GoFormatter formatter;
  ASSIGN_OR_RETURN(std::string out, formatter.Sprintf(*spec, rest));
  return Value::String(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// JSON.

// Nesting deeper than this is refused (Go allows 10000 for JSON); it bounds the recursion
// of every walk over decoded documents, matching the evaluator's own nesting limit.
constexpr int kMaxJsonDepth = 1000;

// Thrown from the parser callback to stop at the nesting limit.
struct JsonTooDeep {};

// Go's quoteChar for "invalid character" messages.
std::string QuoteChar(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  std::string s;
  AppendUtf8(&s, c);
  std::string q = GoQuote(s, false);
  return "'" + q.substr(1, q.size() - 2) + "'";
}

// Rephrases an nlohmann parse error in the words of Go's encoding/json.
std::string JsonErrorMessage(std::string_view input, const nlohmann::json::parse_error& e) {
  std::string what = e.what();
  if (e.byte == 0 || e.byte > input.size() ||
      what.find("unexpected end of input") != std::string::npos) {
    return "unexpected end of JSON input";
  }
  auto c = static_cast<unsigned char>(input[e.byte - 1]);
  std::string context = "looking for beginning of value";
  if (what.find("expected end of input") != std::string::npos) {
    context = "after top-level value";
  } else if (what.find("while parsing object key") != std::string::npos) {
    context = "looking for beginning of object key string";
  } else if (what.find("while parsing object separator") != std::string::npos) {
    context = "after object key";
  } else if (what.find("while parsing object") != std::string::npos) {
    context = "after object key:value pair";
  } else if (what.find("while parsing array") != std::string::npos) {
    context = "after array element";
  } else if (what.find("invalid string") != std::string::npos) {
    context = "in string literal";
  } else if (what.find("invalid number") != std::string::npos) {
    context = "in numeric literal";
  } else if (what.find("invalid literal") != std::string::npos) {
    context = "in literal";
  }
  return "invalid character " + QuoteChar(c) + " " + context;
}

Result<nlohmann::json> ParseJson(std::string_view input) {
  std::string text = SanitizeUtf8(input);
  try {
    return nlohmann::json::parse(text,
                                 [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
                                   if (depth > kMaxJsonDepth) throw JsonTooDeep{};
                                   return true;
                                 });
  } catch (const JsonTooDeep&) {
    return Error("exceeded max depth");
  } catch (const nlohmann::json::parse_error& e) {
    return Error(JsonErrorMessage(text, e));
  } catch (const std::exception& e) {
    return Error(e.what());
  }
}

// encoding/json into interface{}: every number becomes a float64 (keep_ints false), or, as
// ojg parses for json_path, integers stay integers (keep_ints true).
Result<Value> JsonToValue(const nlohmann::json& j, bool keep_ints, int depth = 0) {
  if (depth > kMaxJsonDepth) return Error("exceeded max depth");
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::Null();
    case nlohmann::json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case nlohmann::json::value_t::number_integer:
      if (keep_ints) return Value::Int(j.get<std::int64_t>());
      return Value::Float(static_cast<double>(j.get<std::int64_t>()));
    case nlohmann::json::value_t::number_unsigned:
      if (keep_ints) return Value::Uint(j.get<std::uint64_t>());
      return Value::Float(static_cast<double>(j.get<std::uint64_t>()));
    case nlohmann::json::value_t::number_float: {
      double d = j.get<double>();
      if (!std::isfinite(d)) {
        return Error("json: cannot unmarshal number into Go value of type float64");
      }
      return Value::Float(d);
    }
    case nlohmann::json::value_t::string:
      return Value::String(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      ValueArray out;
      out.reserve(j.size());
      for (const auto& e : j) {
        ASSIGN_OR_RETURN(Value v, JsonToValue(e, keep_ints, depth + 1));
        out.push_back(std::move(v));
      }
      return Value::Array(std::move(out));
    }
    case nlohmann::json::value_t::object: {
      ValueObject out;
      for (const auto& [k, e] : j.items()) {
        ASSIGN_OR_RETURN(Value v, JsonToValue(e, keep_ints, depth + 1));
        out.insert_or_assign(k, std::move(v));
      }
      return Value::Object(std::move(out));
    }
    default:
      return Error("unsupported JSON value");
  }
}

// encoding/json's string encoding, with HTML escaping as json.Marshal does.
void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      switch (b) {
        case '\\':
          out += "\\\\";
          break;
        case '"':
          out += "\\\"";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (b < 0x20 || b == '<' || b == '>' || b == '&') {
            out += "\\u00";
            out += kLowerHex[b >> 4];
            out += kLowerHex[b & 0xF];
          } else {
            out += static_cast<char>(b);
          }
          break;
      }
      ++i;
      continue;
    }
    Rune r = DecodeRune(s.substr(i));
    if (r.r == kRuneError && r.size == 1) {
      out += "\\ufffd";
    } else if (r.r == 0x2028 || r.r == 0x2029) {
      out += "\\u202";
      out += kLowerHex[r.r & 0xF];
    } else {
      out.append(s.substr(i, r.size));
    }
    i += r.size;
  }
  out += '"';
}

// encoding/json's float encoding: like ES6, 'f' or 'e' by magnitude, e-07 written e-7.
std::string JsonFloat(double f) {
  double a = std::fabs(f);
  char fmt = 'f';
  if (a != 0 && (a < 1e-6 || a >= 1e21)) fmt = 'e';
  std::string s = FormatFloat(f, fmt, -1);
  if (fmt == 'e') {
    size_t n = s.size();
    if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
      s[n - 2] = s[n - 1];
      s.pop_back();
    }
  }
  return s;
}

Status AppendJson(std::string& out, const Value& v, int depth = 0) {
  if (depth > kMaxJsonDepth) return Error("json: exceeded max depth");
  switch (v.kind()) {
    case ValueKind::kNull:
      out += "null";
      return Status::Ok();
    case ValueKind::kBool:
      out += v.AsBool() ? "true" : "false";
      return Status::Ok();
    case ValueKind::kNumber:
      switch (v.number_kind()) {
        case NumberKind::kInt:
          out += std::to_string(v.AsInt());
          break;
        case NumberKind::kUint:
          out += std::to_string(v.AsUint());
          break;
        case NumberKind::kFloat: {
          double f = v.AsFloat();
          if (!std::isfinite(f))
            return Error("json: unsupported value: " + FormatFloat(f, 'g', -1));
          out += JsonFloat(f);
          break;
        }
      }
      return Status::Ok();
    case ValueKind::kString:
      AppendJsonString(out, v.AsString());
      return Status::Ok();
    case ValueKind::kArray: {
      out += '[';
      bool first = true;
      for (const Value& e : v.AsArray()) {
        if (!first) out += ',';
        first = false;
        RETURN_IF_ERROR(AppendJson(out, e, depth + 1));
      }
      out += ']';
      return Status::Ok();
    }
    case ValueKind::kObject: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.AsObject()) {
        if (!first) out += ',';
        first = false;
        AppendJsonString(out, k);
        out += ':';
        RETURN_IF_ERROR(AppendJson(out, e, depth + 1));
      }
      out += '}';
      return Status::Ok();
    }
    case ValueKind::kFunction:
      return Error("json: unsupported type: function");
    case ValueKind::kCapsule:
      if (v.IsSecret()) return Error("secrets may not be converted into strings");
      if (v.IsOptionalSecret()) {
        AppendJsonString(out, v.SecretText());
        return Status::Ok();
      }
      return Error("json: unsupported type: capsule(\"" + v.TypeName() + "\")");
  }
  return Status::Ok();
}

Result<Value> ToJson(Args args, int* bad_arg) {
  (void)bad_arg;
  if (args.size() != 1) return ArityError(1, args.size());
  if (args[0].kind() != ValueKind::kObject) return Error("jsonEncode only supports map");
  std::string out;
  RETURN_IF_ERROR(AppendJson(out, args[0]));
  return Value::String(std::move(out));
}

constexpr char kStdAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
Result<std::string> Base64Decode(std::string_view src, const char* alphabet);

// ---------------------------------------------------------------------------------------------
// YAML, resolved as gopkg.in/yaml.v3 resolves plain scalars when decoding into interface{}.

// strconv.ParseInt(s, 0, 64), or ParseUint(s, 0, 64) when the value only fits that.
std::optional<Value> ParseGoIntValue(std::string_view s) {
  bool neg = false;
  std::string_view digits = s;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (s == "0") return Value::Int(0);
  std::optional<std::uint64_t> u = ParseGoUint(digits);
  if (!u) return std::nullopt;
  if (neg) {
    if (*u > static_cast<std::uint64_t>(INT64_MAX) + 1) return std::nullopt;
    return Value::Int(static_cast<std::int64_t>(~*u + 1));
  }
  if (*u <= static_cast<std::uint64_t>(INT64_MAX)) return Value::Int(static_cast<std::int64_t>(*u));
  if (s[0] == '+') return std::nullopt;  // ParseUint takes no sign.
  return Value::Uint(*u);
}

std::optional<double> ParseDouble(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return d;
}

Value ResolvePlainScalar(const std::string& in) {
  static const std::set<std::string, std::less<>> kNull = {"", "~", "null", "Null", "NULL"};
  static const std::set<std::string, std::less<>> kTrue = {"true", "True", "TRUE"};
  static const std::set<std::string, std::less<>> kFalse = {"false", "False", "FALSE"};
  static const std::set<std::string, std::less<>> kNan = {".nan", ".NaN", ".NAN"};
  static const std::set<std::string, std::less<>> kInf = {".inf",  ".Inf",  ".INF",
                                                          "+.inf", "+.Inf", "+.INF"};
  static const std::set<std::string, std::less<>> kNegInf = {"-.inf", "-.Inf", "-.INF"};
  if (kNull.count(in) != 0) return Value::Null();
  if (kTrue.count(in) != 0) return Value::Bool(true);
  if (kFalse.count(in) != 0) return Value::Bool(false);
  if (kNan.count(in) != 0) return Value::Float(std::numeric_limits<double>::quiet_NaN());
  if (kInf.count(in) != 0) return Value::Float(std::numeric_limits<double>::infinity());
  if (kNegInf.count(in) != 0) return Value::Float(-std::numeric_limits<double>::infinity());
  char c = in[0];
  if (c == '.') {
    if (std::optional<double> d = ParseDouble(in); d && IsGoDecimalFloat(in))
      return Value::Float(*d);
    return Value::String(in);
  }
  if (c != '+' && c != '-' && !(c >= '0' && c <= '9')) return Value::String(in);
  std::string plain;
  for (char ch : in) {
    if (ch != '_') plain += ch;
  }
  if (std::optional<Value> i = ParseGoIntValue(plain)) return *i;
  if (IsGoDecimalFloat(plain)) {
    if (std::optional<double> d = ParseDouble(plain)) return Value::Float(*d);
  }
  return Value::String(in);
}

struct YamlDecoder {
  size_t budget;  // decoded nodes allowed; aliases can otherwise expand exponentially

  Result<Value> Decode(const YAML::Node& n, int depth = 0) {
    if (budget == 0) return Error("yaml: document contains excessive aliasing");
    if (depth > kMaxJsonDepth) return Error("yaml: exceeded max depth");
    --budget;
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return Value::Null();
      case YAML::NodeType::Scalar:
        return Scalar(n);
      case YAML::NodeType::Sequence: {
        ValueArray out;
        out.reserve(n.size());
        for (const auto& e : n) {
          ASSIGN_OR_RETURN(Value v, Decode(e, depth + 1));
          out.push_back(std::move(v));
        }
        return Value::Array(std::move(out));
      }
      case YAML::NodeType::Map:
        return Mapping(n, depth);
    }
    return Value::Null();
  }

  static Result<Value> Scalar(const YAML::Node& n) {
    const std::string& tag = n.Tag();
    const std::string& text = n.Scalar();
    if (tag == "?") return ResolvePlainScalar(text);
    if (tag == "!" || tag == "tag:yaml.org,2002:str" || tag == "tag:yaml.org,2002:timestamp") {
      return Value::String(text);
    }
    if (tag == "tag:yaml.org,2002:binary") {
      std::string clean;
      for (char c : text) {
        if (c != ' ' && c != '\t') clean += c;
      }
      Result<std::string> decoded = Base64Decode(clean, kStdAlphabet);
      if (!decoded.ok()) {
        return Error("yaml: line " + std::to_string(n.Mark().line + 1) +
                     ": !!binary value contains invalid base64 data");
      }
      return Value::String(std::move(*decoded));
    }
    Value resolved = ResolvePlainScalar(text);
    auto line = [&] { return std::to_string(n.Mark().line + 1); };
    if (tag == "tag:yaml.org,2002:int") {
      if (resolved.kind() != ValueKind::kNumber || resolved.number_kind() == NumberKind::kFloat) {
        return Error("yaml: line " + line() + ": cannot decode !!str `" + text + "` as a !!int");
      }
      return resolved;
    }
    if (tag == "tag:yaml.org,2002:float") {
      if (resolved.kind() != ValueKind::kNumber) {
        return Error("yaml: line " + line() + ": cannot decode !!str `" + text + "` as a !!float");
      }
      return Value::Float(resolved.AsFloat());
    }
    if (tag == "tag:yaml.org,2002:bool") {
      if (resolved.kind() != ValueKind::kBool) {
        return Error("yaml: line " + line() + ": cannot decode !!str `" + text + "` as a !!bool");
      }
      return resolved;
    }
    if (tag == "tag:yaml.org,2002:null") return Value::Null();
    // Unknown tags keep the scalar's text.
    return Value::String(text);
  }

  static Result<std::string> KeyString(const YAML::Node& k) {
    if (k.IsNull()) return std::string("null");
    if (k.IsScalar()) return k.Scalar();
    return Error("yaml: line " + std::to_string(k.Mark().line + 1) +
                 ": mapping keys must be scalars");
  }

  static bool IsMergeKey(const YAML::Node& k) {
    return k.IsScalar() && k.Tag() == "?" && k.Scalar() == "<<";
  }

  Result<Value> Mapping(const YAML::Node& n, int depth) {
    ValueObject out;
    std::map<std::string, int, std::less<>> lines;
    std::vector<YAML::Node> merges;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (IsMergeKey(it->first)) {
        merges.push_back(it->second);
        continue;
      }
      ASSIGN_OR_RETURN(std::string key, KeyString(it->first));
      int line = it->first.Mark().line + 1;
      if (auto prev = lines.find(key); prev != lines.end()) {
        return Error("yaml: unmarshal errors:\n  line " + std::to_string(line) +
                     ": mapping key \"" + key + "\" already defined at line " +
                     std::to_string(prev->second));
      }
      lines.emplace(key, line);
      ASSIGN_OR_RETURN(Value v, Decode(it->second, depth + 1));
      out.emplace(std::move(key), std::move(v));
    }
    // Merged keys never override explicit ones; earlier merge sources win over later ones.
    for (const YAML::Node& m : merges) {
      std::vector<YAML::Node> sources;
      if (m.IsMap()) {
        sources.push_back(m);
      } else if (m.IsSequence()) {
        for (const auto& s : m) sources.push_back(s);
      }
      for (const YAML::Node& src : sources) {
        if (!src.IsMap()) {
          return Error("yaml: line " + std::to_string(src.Mark().line + 1) +
                       ": map merge requires map or sequence of maps as the value");
        }
        ASSIGN_OR_RETURN(Value merged, Mapping(src, depth + 1));
        for (const auto& [k, v] : merged.AsObject()) out.emplace(k, v);
      }
      if (!m.IsMap() && !m.IsSequence()) {
        return Error("yaml: line " + std::to_string(m.Mark().line + 1) +
                     ": map merge requires map or sequence of maps as the value");
      }
    }
    return Value::Object(std::move(out));
  }
};

Result<Value> DecodeYaml(const std::string& in) {
  YAML::Node root;
  try {
    root = YAML::Load(in);
  } catch (const YAML::Exception& e) {
    return Error("yaml: line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  } catch (const std::exception& e) {
    return Error(std::string("yaml: ") + e.what());
  }
  YamlDecoder decoder{1000 + 100 * in.size()};
  try {
    return decoder.Decode(root);
  } catch (const std::exception& e) {
    return Error(std::string("yaml: ") + e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Base64 (encoding/base64 StdEncoding and URLEncoding, padded, newlines ignored) and URL
// query escaping (net/url QueryEscape / QueryUnescape).

std::string Base64Encode(std::string_view in, const char* alphabet) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                      (static_cast<unsigned char>(in[i + 1]) << 8) |
                      static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest > 0) {
    std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += rest == 2 ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Status CorruptInput(size_t offset) {
  return Error("illegal base64 data at input byte " + std::to_string(offset));
}

// base64.Encoding.DecodeString, quantum by quantum as Go decodes (same error offsets).
Result<std::string> Base64Decode(std::string_view src, const char* alphabet) {
  int decode_map[256];
  std::fill(std::begin(decode_map), std::end(decode_map), -1);
  for (int k = 0; k < 64; ++k) decode_map[static_cast<unsigned char>(alphabet[k])] = k;
  std::string out;
  size_t si = 0;
  auto is_newline = [&](size_t k) { return src[k] == '\n' || src[k] == '\r'; };
  while (si < src.size()) {
    std::uint32_t dbuf[4] = {0, 0, 0, 0};
    int dlen = 4;
    bool trailing_error = false;
    size_t trailing_offset = 0;
    int j = 0;
    for (; j < 4; ++j) {
      if (si == src.size()) {
        if (j == 0) return out;
        return CorruptInput(si - static_cast<size_t>(j));
      }
      auto in = static_cast<unsigned char>(src[si]);
      ++si;
      if (decode_map[in] >= 0) {
        dbuf[j] = static_cast<std::uint32_t>(decode_map[in]);
        continue;
      }
      if (in == '\n' || in == '\r') {
        --j;
        continue;
      }
      if (in != '=') return CorruptInput(si - 1);
      // Padding.
      if (j == 0 || j == 1) return CorruptInput(si - 1);
      if (j == 2) {
        while (si < src.size() && is_newline(si)) ++si;
        if (si == src.size()) return CorruptInput(src.size());
        if (src[si] != '=') return CorruptInput(si - 1);
        ++si;
      }
      while (si < src.size() && is_newline(si)) ++si;
      if (si < src.size()) {
        trailing_error = true;
        trailing_offset = si;
      }
      dlen = j;
      break;
    }
    std::uint32_t val = (dbuf[0] << 18) | (dbuf[1] << 12) | (dbuf[2] << 6) | dbuf[3];
    if (dlen >= 2) out += static_cast<char>((val >> 16) & 0xFF);
    if (dlen >= 3) out += static_cast<char>((val >> 8) & 0xFF);
    if (dlen >= 4) out += static_cast<char>(val & 0xFF);
    if (trailing_error) return CorruptInput(trailing_offset);
    if (dlen < 4) break;
  }
  return out;
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += ch;
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kUpperHex[c >> 4];
      out += kUpperHex[c & 0xF];
    }
  }
  return out;
}

Result<std::string> QueryUnescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || HexDigitValue(s[i + 1]) >= 16 || HexDigitValue(s[i + 2]) >= 16) {
        std::string_view bad = s.substr(i, 3);
        return Error("invalid URL escape " + GoQuote(bad, false));
      }
      out += static_cast<char>(HexDigitValue(s[i + 1]) * 16 + HexDigitValue(s[i + 2]));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// json_path: the JSONPath dialect of github.com/ohler55/ojg/jp, as River uses it
// (jp.ParseString(path).Get(oj.ParseString(json))). Supported:
//   $ (root) and @ (current) at the start; a path may also start with a bare name or '.';
//   .name and bare names (letters, digits, _ # % : ; ? ^ { | } ~ and non-ASCII);
//   ['name'] and ["name"] with \b \t \n \f \r \" \' \\ \xHH \uHHHH escapes;
//   [n] with negative n counting from the end; [a,'b',...] unions;
//   [start:end:step] slices (step may be negative; a start past the end selects nothing);
//   * and [*] wildcards; .. recursive descent (a trailing .. selects every descendant);
//   [?(expr)] and [?expr] filters over array elements and object members, where expr uses
//     @ and $ paths (first match, else null), numbers, 'strings', "strings", true, false,
//     null, [lists], /regex/ (ECMAScript syntax), parentheses, ! && || == != < <= > >=
//     + - * / in empty =~, with && and || at the same precedence, left to right.
// Results are a list; nothing matched is an empty list. Object members are visited in key
// order.

struct JpFilter;

struct JpFrag {
  enum Kind { kRoot, kAt, kChild, kNth, kWildcard, kDescent, kUnion, kSlice, kFilter } kind;
  std::string name;                                      // kChild
  long index = 0;                                        // kNth
  std::vector<std::variant<std::string, long>> members;  // kUnion
  std::vector<long> slice;                               // kSlice: 1 to 3 numbers
  std::shared_ptr<const JpFilter> filter;                // kFilter
};

using JpExpr = std::vector<JpFrag>;

// A filter expression node.
struct JpEq {
  enum Kind { kValue, kPath, kList, kRegex, kUnary, kBinary } kind = kValue;
  nlohmann::json value;                     // kValue
  JpExpr path;                              // kPath
  bool path_from_root = false;              // kPath
  std::vector<std::shared_ptr<JpEq>> list;  // kList
  std::shared_ptr<std::regex> regex;        // kRegex
  std::string op;                           // kUnary ("!") or kBinary
  std::shared_ptr<JpEq> left;
  std::shared_ptr<JpEq> right;
};

struct JpFilter {
  std::shared_ptr<JpEq> eq;
};

// Characters that may appear in a bare name (ojg's tokenMap).
bool IsJpNameChar(unsigned char c) {
  if (c >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '#':
    case '%':
    case ':':
    case ';':
    case '?':
    case '^':
    case '_':
    case '{':
    case '|':
    case '}':
    case '~':
      return true;
    default:
      return false;
  }
}

class JpParser {
 public:
  explicit JpParser(std::string_view buf) : buf_(buf) {}

  Result<JpExpr> Parse() {
    JpExpr x = ReadExpr();
    if (!error_ && pos_ < buf_.size()) Raise("parse error");
    if (error_) return Error(*error_);
    return x;
  }

 private:
  void Raise(const std::string& msg) {
    if (!error_) error_ = msg + " at " + std::to_string(pos_ + 1) + " in " + std::string(buf_);
  }
  bool AtEnd() const { return pos_ >= buf_.size(); }
  unsigned char Peek() const { return static_cast<unsigned char>(buf_[pos_]); }

  JpExpr ReadExpr() {
    JpExpr x;
    bool first = true;
    bool last_descent = false;
    while (!error_) {
      std::optional<JpFrag> f = NextFrag(first, last_descent);
      if (!f) break;
      first = false;
      last_descent = f->kind == JpFrag::kDescent;
      x.push_back(std::move(*f));
    }
    return x;
  }

  std::optional<JpFrag> NextFrag(bool first, bool last_descent) {
    if (AtEnd()) return std::nullopt;
    unsigned char b = Peek();
    ++pos_;
    switch (b) {
      case '$':
        if (first) return JpFrag{JpFrag::kRoot};
        break;
      case '@':
        if (first) return JpFrag{JpFrag::kAt};
        break;
      case '.':
        return AfterDot();
      case '*':
        return JpFrag{JpFrag::kWildcard};
      case '[':
        return AfterBracket();
      default:
        --pos_;
        if (IsJpNameChar(b) && (first || last_descent)) return ReadName();
        return std::nullopt;
    }
    // '$' or '@' not at the start ends the expression.
    --pos_;
    return std::nullopt;
  }

  std::optional<JpFrag> ReadName() {
    JpFrag f{JpFrag::kChild};
    while (!AtEnd() && IsJpNameChar(Peek())) f.name += static_cast<char>(buf_[pos_++]);
    return f;
  }

  std::optional<JpFrag> AfterDot() {
    if (AtEnd()) {
      Raise("not terminated");
      return std::nullopt;
    }
    unsigned char b = Peek();
    if (b == '*') {
      ++pos_;
      return JpFrag{JpFrag::kWildcard};
    }
    if (b == '.') {
      ++pos_;
      return JpFrag{JpFrag::kDescent};
    }
    if (!IsJpNameChar(b)) {
      ++pos_;
      Raise(std::string("an expression fragment can not start with a '") + static_cast<char>(b) +
            "'");
      return std::nullopt;
    }
    return ReadName();
  }

  unsigned char SkipSpace() {
    unsigned char b = 0;
    while (!AtEnd()) {
      b = Peek();
      ++pos_;
      if (b != ' ') break;
    }
    return b;
  }

  unsigned char NextNonSpace() {
    while (!AtEnd() && Peek() == ' ') ++pos_;
    return AtEnd() ? 0 : Peek();
  }

  // readInt: *b is the first character, already consumed; on return *b is the character
  // after the number (or its last digit at the end of the input, which callers reject).
  long ReadInt(unsigned char* b) {
    bool neg = *b == '-';
    if (neg) {
      if (AtEnd()) {
        Raise("expected a number");
        return 0;
      }
      *b = Peek();
      ++pos_;
    }
    size_t start = pos_;
    long i = 0;
    while (*b >= '0' && *b <= '9') {
      if (i < 100000000000L) i = i * 10 + (*b - '0');  // larger indexes match nothing anyway
      if (AtEnd()) break;
      *b = Peek();
      ++pos_;
    }
    if (pos_ == start) Raise("expected a number");
    return neg ? -i : i;
  }

  std::string ReadStr(unsigned char term) {
    std::string out;
    while (!AtEnd()) {
      unsigned char b = Peek();
      ++pos_;
      if (b == term) return out;
      if (b != '\\') {
        out += static_cast<char>(b);
        continue;
      }
      if (AtEnd()) break;
      b = Peek();
      ++pos_;
      switch (b) {
        case 'b':
          out += '\b';
          break;
        case 't':
          out += '\t';
          break;
        case 'n':
          out += '\n';
          break;
        case 'f':
          out += '\f';
          break;
        case 'r':
          out += '\r';
          break;
        case '"':
          out += '"';
          break;
        case '\'':
          out += '\'';
          break;
        case '\\':
          out += '\\';
          break;
        case 'x': {
          if (pos_ + 2 > buf_.size() || HexDigitValue(buf_[pos_]) >= 16 ||
              HexDigitValue(buf_[pos_ + 1]) >= 16) {
            Raise("invalid \\x escape");
            return out;
          }
          out += static_cast<char>(HexDigitValue(buf_[pos_]) * 16 + HexDigitValue(buf_[pos_ + 1]));
          pos_ += 2;
          break;
        }
        case 'u':
        case 'U': {
          char32_t r = 0;
          for (int k = 0; k < 4; ++k) {
            if (AtEnd() || HexDigitValue(buf_[pos_]) >= 16) {
              Raise("invalid \\u escape");
              return out;
            }
            r = (r << 4) | static_cast<char32_t>(HexDigitValue(buf_[pos_++]));
          }
          AppendUtf8(&out, r);
          break;
        }
        default:
          Raise(std::string("0x") + kLowerHex[b >> 4] + kLowerHex[b & 0xF] +
                " is not a valid escaped character");
          return out;
      }
    }
    return out;
  }

  std::optional<JpFrag> AfterBracket() {
    if (AtEnd()) {
      Raise("not terminated");
      return std::nullopt;
    }
    unsigned char b = SkipSpace();
    switch (b) {
      case '*':
        if (SkipSpace() != ']') {
          Raise("not terminated");
          return std::nullopt;
        }
        return JpFrag{JpFrag::kWildcard};
      case '\'':
      case '"': {
        std::string s = ReadStr(b);
        b = SkipSpace();
        if (b == ']') {
          JpFrag f{JpFrag::kChild};
          f.name = std::move(s);
          return f;
        }
        if (b == ',') return ReadUnion(std::move(s), b);
        Raise("invalid bracket fragment");
        return std::nullopt;
      }
      case ':':
        return ReadSlice(0);
      case '?':
        return ReadFilter();
      case '(':
        Raise("scripts not implemented yet");
        return std::nullopt;
      default:
        break;
    }
    if (b == '-' || (b >= '0' && b <= '9')) {
      long i = ReadInt(&b);
      if (error_) return std::nullopt;
      while (b == ' ') b = SkipSpace();
      switch (b) {
        case ']': {
          JpFrag f{JpFrag::kNth};
          f.index = i;
          return f;
        }
        case ',':
          return ReadUnion(i, b);
        case ':':
          return ReadSlice(i);
        default:
          Raise("invalid bracket fragment");
          return std::nullopt;
      }
    }
    Raise("parse error");
    return std::nullopt;
  }

  std::optional<JpFrag> ReadSlice(long start) {
    if (AtEnd()) {
      Raise("not terminated");
      return std::nullopt;
    }
    JpFrag f{JpFrag::kSlice};
    f.slice.push_back(start);
    constexpr long kMaxEnd = 2147483647;
    unsigned char b = Peek();
    if (b == ']') {
      ++pos_;
      f.slice.push_back(kMaxEnd);
      return f;
    }
    b = SkipSpace();
    if (b == ':') {
      f.slice.push_back(kMaxEnd);
      if (AtEnd()) {
        Raise("not terminated");
        return std::nullopt;
      }
      b = Peek();
      ++pos_;
      if (b != ']') f.slice.push_back(ReadInt(&b));
    } else {
      f.slice.push_back(ReadInt(&b));
      if (b == ':') {
        if (AtEnd()) {
          Raise("not terminated");
          return std::nullopt;
        }
        b = Peek();
        ++pos_;
        if (b != ']') f.slice.push_back(ReadInt(&b));
      }
    }
    if (error_) return std::nullopt;
    if (b != ']') {
      Raise("invalid slice syntax");
      return std::nullopt;
    }
    return f;
  }

  std::optional<JpFrag> ReadUnion(std::variant<std::string, long> first, unsigned char b) {
    JpFrag f{JpFrag::kUnion};
    f.members.push_back(std::move(first));
    while (!error_) {
      if (b == ']') return f;
      if (b != ',') break;
      b = SkipSpace();
      if (b == '\'' || b == '"') {
        f.members.emplace_back(ReadStr(b));
        b = SkipSpace();
      } else if (b == '-' || (b >= '0' && b <= '9')) {
        f.members.emplace_back(ReadInt(&b));
        if (b == ' ') b = SkipSpace();
      } else {
        break;
      }
    }
    Raise("invalid union syntax");
    return std::nullopt;
  }

  std::optional<JpFrag> ReadFilter() {
    if (AtEnd()) {
      Raise("not terminated");
      return std::nullopt;
    }
    std::shared_ptr<JpEq> eq = ReadOr();
    if (error_) return std::nullopt;
    if (NextNonSpace() != ']') {
      Raise("not terminated");
      return std::nullopt;
    }
    ++pos_;
    JpFrag f{JpFrag::kFilter};
    auto filter = std::make_shared<JpFilter>();
    filter->eq = std::move(eq);
    f.filter = std::move(filter);
    return f;
  }

  // Operators by precedence, loosest first: && || ; comparisons, in, empty, =~ ; + - ; * /.
  static int Precedence(const std::string& op) {
    if (op == "&&" || op == "||") return 1;
    if (op == "+" || op == "-") return 3;
    if (op == "*" || op == "/") return 4;
    return 2;
  }

  std::optional<std::string> PeekOp() {
    NextNonSpace();
    if (AtEnd()) return std::nullopt;
    // Longer operators first, so that "<=" is not read as "<".
    static constexpr std::string_view kOps[] = {"==", "!=", "<=", ">=", "&&", "||", "=~",   "<",
                                                ">",  "+",  "-",  "*",  "/",  "in", "empty"};
    std::string_view rest = buf_.substr(pos_);
    for (std::string_view o : kOps) {
      if (rest.substr(0, o.size()) == o) {
        // Word operators need a delimiter after them.
        if ((o == "in" || o == "empty") && rest.size() > o.size() &&
            IsJpNameChar(static_cast<unsigned char>(rest[o.size()]))) {
          continue;
        }
        return std::string(o);
      }
    }
    return std::nullopt;
  }

  std::shared_ptr<JpEq> ReadOr() { return ReadBinary(1); }

  std::shared_ptr<JpEq> ReadBinary(int min_prec) {
    std::shared_ptr<JpEq> left = ReadUnary();
    while (!error_) {
      std::optional<std::string> op = PeekOp();
      if (!op || Precedence(*op) < min_prec) break;
      pos_ += op->size();
      std::shared_ptr<JpEq> right = ReadBinary(Precedence(*op) + 1);
      auto eq = std::make_shared<JpEq>();
      eq->kind = JpEq::kBinary;
      eq->op = *op;
      eq->left = std::move(left);
      eq->right = std::move(right);
      left = std::move(eq);
    }
    return left;
  }

  std::shared_ptr<JpEq> ReadUnary() {
    auto eq = std::make_shared<JpEq>();
    unsigned char b = NextNonSpace();
    if (AtEnd()) {
      Raise("expected a value");
      return eq;
    }
    if (b == '!') {
      ++pos_;
      eq->kind = JpEq::kUnary;
      eq->op = "!";
      eq->left = ReadUnary();
      return eq;
    }
    if (b == '-' || (b >= '0' && b <= '9')) {
      eq->value = ReadNum();
      return eq;
    }
    if (b == '\'' || b == '"') {
      ++pos_;
      eq->value = ReadStr(b);
      return eq;
    }
    auto token = [&](std::string_view t, nlohmann::json v) {
      if (buf_.substr(pos_, t.size()) != t) {
        Raise("expected " + std::string(t));
        return;
      }
      pos_ += t.size();
      eq->value = std::move(v);
    };
    switch (b) {
      case 'n':
        token("null", nullptr);
        return eq;
      case 't':
        token("true", true);
        return eq;
      case 'f':
        token("false", false);
        return eq;
      case '@':
      case '$':
        eq->kind = JpEq::kPath;
        eq->path_from_root = b == '$';
        eq->path = ReadExpr();
        return eq;
      case '(': {
        ++pos_;
        std::shared_ptr<JpEq> inner = ReadOr();
        if (NextNonSpace() != ')') {
          Raise("not terminated");
          return eq;
        }
        ++pos_;
        return inner;
      }
      case '[': {
        ++pos_;
        eq->kind = JpEq::kList;
        if (NextNonSpace() == ']') {
          ++pos_;
          return eq;
        }
        while (!error_) {
          eq->list.push_back(ReadOr());
          unsigned char c = SkipSpace();
          if (c == ']') break;
          if (c != ',') {
            Raise("expected a comma or an array close");
            break;
          }
        }
        return eq;
      }
      case '/': {
        ++pos_;
        size_t start = pos_;
        while (!AtEnd() && Peek() != '/') pos_ += (Peek() == '\\') ? 2 : 1;
        if (pos_ > buf_.size()) pos_ = buf_.size();
        std::string pattern(buf_.substr(start, pos_ - start));
        if (!AtEnd()) ++pos_;
        eq->kind = JpEq::kRegex;
        try {
          eq->regex = std::make_shared<std::regex>(pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          Raise(std::string("invalid regular expression: ") + e.what());
        }
        return eq;
      }
      default:
        Raise("expected a value");
        return eq;
    }
  }

  nlohmann::json ReadNum() {
    size_t start = pos_;
    if (Peek() == '-') ++pos_;
    bool is_float = false;
    while (!AtEnd() && std::isdigit(Peek())) ++pos_;
    if (!AtEnd() && Peek() == '.') {
      is_float = true;
      ++pos_;
      while (!AtEnd() && std::isdigit(Peek())) ++pos_;
    }
    if (!AtEnd() && (Peek() == 'e' || Peek() == 'E')) {
      is_float = true;
      ++pos_;
      if (!AtEnd() && (Peek() == '+' || Peek() == '-')) ++pos_;
      while (!AtEnd() && std::isdigit(Peek())) ++pos_;
    }
    std::string_view text = buf_.substr(start, pos_ - start);
    if (is_float) {
      std::optional<double> d = ParseDouble(text);
      if (!d) Raise("expected a number");
      return d.value_or(0.0);
    }
    std::int64_t i = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (ec != std::errc() || ptr != text.data() + text.size()) Raise("expected a number");
    return i;
  }

  std::string_view buf_;
  size_t pos_ = 0;
  std::optional<std::string> error_;
};

class JpEvaluator {
 public:
  explicit JpEvaluator(const nlohmann::json& root) : root_(root) {}

  std::vector<const nlohmann::json*> Get(const JpExpr& x, const nlohmann::json& data) {
    std::vector<const nlohmann::json*> out;
    if (x.empty()) return out;
    Apply(x, 0, &data, out);
    return out;
  }

 private:
  static bool IsContainer(const nlohmann::json* v) { return v->is_object() || v->is_array(); }

  void Next(const JpExpr& x, size_t fi, const nlohmann::json* v,
            std::vector<const nlohmann::json*>& out) {
    if (fi + 1 == x.size()) {
      out.push_back(v);
    } else if (IsContainer(v)) {
      Apply(x, fi + 1, v, out);
    }
  }

  // Children of a container in document (arrays) or key (objects) order.
  static std::vector<const nlohmann::json*> Children(const nlohmann::json* v) {
    std::vector<const nlohmann::json*> out;
    if (v->is_array() || v->is_object()) {
      for (const auto& e : *v) out.push_back(&e);
    }
    return out;
  }

  static const nlohmann::json* Nth(const nlohmann::json* v, long i) {
    if (!v->is_array()) return nullptr;
    long n = static_cast<long>(v->size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return nullptr;
    return &(*v)[static_cast<size_t>(i)];
  }

  static const nlohmann::json* Child(const nlohmann::json* v, const std::string& name) {
    if (!v->is_object()) return nullptr;
    auto it = v->find(name);
    return it == v->end() ? nullptr : &*it;
  }

  // A trailing descent: every descendant, container by container, then the node itself.
  void TrailingDescent(const nlohmann::json* v, std::vector<const nlohmann::json*>& out) {
    std::vector<const nlohmann::json*> kids = Children(v);
    out.insert(out.end(), kids.begin(), kids.end());
    for (const nlohmann::json* k : kids) {
      if (IsContainer(k)) TrailingDescent(k, out);
    }
  }

  // A descent followed by more fragments: the rest applies to each descendant container,
  // deepest first, then to the node.
  void Descent(const JpExpr& x, size_t fi, const nlohmann::json* v,
               std::vector<const nlohmann::json*>& out) {
    for (const nlohmann::json* k : Children(v)) {
      if (IsContainer(k)) Descent(x, fi, k, out);
    }
    Apply(x, fi + 1, v, out);
  }

  void Apply(const JpExpr& x, size_t fi, const nlohmann::json* v,
             std::vector<const nlohmann::json*>& out) {
    const JpFrag& f = x[fi];
    switch (f.kind) {
      case JpFrag::kRoot:
        Next(x, fi, &root_, out);
        return;
      case JpFrag::kAt:
        Next(x, fi, v, out);
        return;
      case JpFrag::kChild:
        if (const nlohmann::json* c = Child(v, f.name)) Next(x, fi, c, out);
        return;
      case JpFrag::kNth:
        if (const nlohmann::json* c = Nth(v, f.index)) Next(x, fi, c, out);
        return;
      case JpFrag::kWildcard:
        for (const nlohmann::json* c : Children(v)) Next(x, fi, c, out);
        return;
      case JpFrag::kDescent:
        if (!IsContainer(v)) return;
        if (fi + 1 == x.size()) {
          TrailingDescent(v, out);
          out.push_back(v);
        } else {
          Descent(x, fi, v, out);
        }
        return;
      case JpFrag::kUnion:
        for (const auto& m : f.members) {
          const nlohmann::json* c = std::holds_alternative<std::string>(m)
                                        ? Child(v, std::get<std::string>(m))
                                        : Nth(v, std::get<long>(m));
          if (c != nullptr) Next(x, fi, c, out);
        }
        return;
      case JpFrag::kSlice: {
        if (!v->is_array()) return;
        long n = static_cast<long>(v->size());
        long start = f.slice.size() > 0 ? f.slice[0] : 0;
        long end = f.slice.size() > 1 ? f.slice[1] : 2147483647;
        long step = f.slice.size() > 2 ? f.slice[2] : 1;
        if (step == 0) return;
        if (start < 0) start = std::max(n + start, 0L);
        if (end < 0) end = n + end;
        if (n <= start) return;
        if (n < end) end = n;
        if (step > 0) {
          for (long i = start; i < end; i += step) Next(x, fi, &(*v)[static_cast<size_t>(i)], out);
        } else {
          if (end < -1) end = -1;
          for (long i = start; end < i; i += step) Next(x, fi, &(*v)[static_cast<size_t>(i)], out);
        }
        return;
      }
      case JpFrag::kFilter:
        for (const nlohmann::json* c : Children(v)) {
          nlohmann::json result = Eval(*f.filter->eq, *c);
          if (result.is_boolean() && result.get<bool>()) Next(x, fi, c, out);
        }
        return;
    }
  }

  static bool IsNum(const nlohmann::json& j) { return j.is_number(); }

  static bool Equal(const nlohmann::json& a, const nlohmann::json& b) {
    if (a.is_number() && b.is_number()) {
      if (a.is_number_float() || b.is_number_float()) return a.get<double>() == b.get<double>();
      return a == b;
    }
    if (a.is_structured() || b.is_structured()) return false;
    return a == b;
  }

  // <: numbers with numbers, strings with strings; anything else is false.
  static std::optional<int> Compare(const nlohmann::json& a, const nlohmann::json& b) {
    if (IsNum(a) && IsNum(b)) {
      if (!a.is_number_float() && !b.is_number_float()) {
        auto ai = a.get<std::int64_t>();
        auto bi = b.get<std::int64_t>();
        return ai < bi ? -1 : (ai > bi ? 1 : 0);
      }
      double ad = a.get<double>();
      double bd = b.get<double>();
      if (std::isnan(ad) || std::isnan(bd)) return std::nullopt;
      return ad < bd ? -1 : (ad > bd ? 1 : 0);
    }
    if (a.is_string() && b.is_string()) {
      int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    return std::nullopt;
  }

  static nlohmann::json Arith(const std::string& op, const nlohmann::json& a,
                              const nlohmann::json& b) {
    if (op == "+" && a.is_string() && b.is_string()) {
      return a.get<std::string>() + b.get<std::string>();
    }
    if (!IsNum(a) || !IsNum(b)) return nullptr;
    if (!a.is_number_float() && !b.is_number_float()) {
      auto ai = static_cast<std::uint64_t>(a.get<std::int64_t>());
      auto bi = static_cast<std::uint64_t>(b.get<std::int64_t>());
      if (op == "+") return static_cast<std::int64_t>(ai + bi);
      if (op == "-") return static_cast<std::int64_t>(ai - bi);
      if (op == "*") return static_cast<std::int64_t>(ai * bi);
      auto sa = a.get<std::int64_t>();
      auto sb = b.get<std::int64_t>();
      if (sb == 0 || (sa == INT64_MIN && sb == -1)) return nullptr;
      return sa / sb;
    }
    double ad = a.get<double>();
    double bd = b.get<double>();
    if (op == "+") return ad + bd;
    if (op == "-") return ad - bd;
    if (op == "*") return ad * bd;
    if (bd == 0) return nullptr;
    return ad / bd;
  }

  nlohmann::json Eval(const JpEq& eq, const nlohmann::json& current) {
    switch (eq.kind) {
      case JpEq::kValue:
        return eq.value;
      case JpEq::kPath: {
        std::vector<const nlohmann::json*> r = Get(eq.path, eq.path_from_root ? root_ : current);
        return r.empty() ? nlohmann::json(nullptr) : *r.front();
      }
      case JpEq::kList: {
        nlohmann::json arr = nlohmann::json::array();
        for (const auto& e : eq.list) arr.push_back(Eval(*e, current));
        return arr;
      }
      case JpEq::kRegex:
        return nullptr;  // only meaningful on the right of =~
      case JpEq::kUnary: {
        nlohmann::json v = Eval(*eq.left, current);
        return !(v.is_boolean() && v.get<bool>());
      }
      case JpEq::kBinary:
        break;
    }
    const std::string& op = eq.op;
    nlohmann::json l = Eval(*eq.left, current);
    if (op == "=~") {
      if (!l.is_string()) return false;
      const std::string& s = l.get_ref<const std::string&>();
      if (eq.right->kind == JpEq::kRegex) return std::regex_search(s, *eq.right->regex);
      nlohmann::json r = Eval(*eq.right, current);
      if (!r.is_string()) return false;
      try {
        return std::regex_search(s, std::regex(r.get<std::string>(), std::regex::ECMAScript));
      } catch (const std::regex_error&) {
        return false;
      }
    }
    nlohmann::json r = Eval(*eq.right, current);
    if (op == "&&") return l.is_boolean() && l.get<bool>() && r.is_boolean() && r.get<bool>();
    if (op == "||") {
      return (l.is_boolean() && l.get<bool>()) || (r.is_boolean() && r.get<bool>());
    }
    if (op == "==") return Equal(l, r);
    if (op == "!=") return !Equal(l, r);
    if (op == "<" || op == "<=" || op == ">" || op == ">=") {
      std::optional<int> c = Compare(l, r);
      if (!c) return false;
      if (op == "<") return *c < 0;
      if (op == "<=") return *c <= 0;
      if (op == ">") return *c > 0;
      return *c >= 0;
    }
    if (op == "in") {
      if (!r.is_array()) return false;
      return std::any_of(r.begin(), r.end(), [&](const nlohmann::json& e) { return Equal(l, e); });
    }
    if (op == "empty") {
      if (!r.is_boolean()) return false;
      bool want = r.get<bool>();
      if (l.is_string()) return want == l.get_ref<const std::string&>().empty();
      if (l.is_array() || l.is_object()) return want == l.empty();
      return false;
    }
    return Arith(op, l, r);
  }

  const nlohmann::json& root_;
};

Result<Value> JsonPath(const std::string& json, const std::string& path) {
  JpParser parser(path);
  ASSIGN_OR_RETURN(JpExpr expr, parser.Parse());
  ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(json));
  JpEvaluator eval(doc);
  ValueArray out;
  for (const nlohmann::json* j : eval.Get(expr, doc)) {
    ASSIGN_OR_RETURN(Value v, JsonToValue(*j, /*keep_ints=*/true));
    out.push_back(std::move(v));
  }
  return Value::Array(std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Arrays and the rest.

Result<Value> Concat(Args args, int* bad_arg) {
  size_t total = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind() != ValueKind::kArray) {
      return ArgError(bad_arg, i, TypeMismatch("array", args[i]).message());
    }
    total += args[i].AsArray().size();
  }
  if (args.empty()) return Value::Array({});
  if (args.size() == 1) return args[0];
  ValueArray out;
  out.reserve(total);
  for (const Value& a : args) out.insert(out.end(), a.AsArray().begin(), a.AsArray().end());
  return Value::Array(std::move(out));
}

// Checks that v is an array of objects.
Status CheckObjectArray(const Value& v, size_t index, int* bad_arg) {
  if (v.kind() != ValueKind::kArray)
    return ArgError(bad_arg, index, TypeMismatch("array", v).message());
  const ValueArray& arr = v.AsArray();
  for (size_t j = 0; j < arr.size(); ++j) {
    if (arr[j].kind() != ValueKind::kObject) {
      return ArgError(bad_arg, index,
                      "[" + std::to_string(j) + "] " + TypeMismatch("object", arr[j]).message());
    }
  }
  return Status::Ok();
}

Result<Value> CombineMaps(Args args, int* bad_arg) {
  if (args.size() != 3 && args.size() != 4) {
    return Error("combine_maps: expected 3 or 4 arguments, got " + std::to_string(args.size()));
  }
  RETURN_IF_ERROR(CheckObjectArray(args[0], 0, bad_arg));
  RETURN_IF_ERROR(CheckObjectArray(args[1], 1, bad_arg));
  if (args[2].kind() != ValueKind::kArray) {
    return ArgError(bad_arg, 2, TypeMismatch("array", args[2]).message());
  }
  if (args[2].AsArray().empty()) {
    return ArgError(bad_arg, 2, "combine_maps: merge conditions must not be empty");
  }
  std::vector<std::string> conditions;
  for (size_t k = 0; k < args[2].AsArray().size(); ++k) {
    const Value& c = args[2].AsArray()[k];
    if (c.kind() != ValueKind::kString) {
      return ArgError(bad_arg, 2,
                      "[" + std::to_string(k) + "] " + TypeMismatch("string", c).message());
    }
    conditions.push_back(c.AsString());
  }
  bool passthrough = false;
  if (args.size() == 4) {
    if (args[3].kind() != ValueKind::kBool) {
      return ArgError(bad_arg, 3, TypeMismatch("bool", args[3]).message());
    }
    passthrough = args[3].AsBool();
  }
  ValueArray out;
  for (const Value& left : args[0].AsArray()) {
    const ValueObject& l = left.AsObject();
    bool matched = false;
    for (const Value& right : args[1].AsArray()) {
      const ValueObject& r = right.AsObject();
      bool join = std::all_of(conditions.begin(), conditions.end(), [&](const std::string& c) {
        auto li = l.find(c);
        auto ri = r.find(c);
        return li != l.end() && ri != r.end() && li->second == ri->second;
      });
      if (!join) continue;
      matched = true;
      ValueObject merged = l;
      for (const auto& [k, v] : r) merged.insert_or_assign(k, v);
      out.push_back(Value::Object(std::move(merged)));
    }
    if (passthrough && !matched) out.push_back(left);
  }
  return Value::Array(std::move(out));
}

Result<Value> GroupBy(Args args, int* bad_arg) {
  if (args.size() != 3) {
    return Error("group_by: expected 3 arguments, got " + std::to_string(args.size()));
  }
  if (args[0].kind() != ValueKind::kArray) {
    return ArgError(bad_arg, 0, TypeMismatch("array", args[0]).message());
  }
  if (args[1].kind() != ValueKind::kString) {
    return ArgError(bad_arg, 1, TypeMismatch("string", args[1]).message());
  }
  if (args[2].kind() != ValueKind::kBool) {
    return ArgError(bad_arg, 2, TypeMismatch("bool", args[2]).message());
  }
  const std::string& key = args[1].AsString();
  bool drop_missing = args[2].AsBool();
  std::vector<std::string> order;
  std::map<std::string, ValueArray, std::less<>> groups;
  const ValueArray& items = args[0].AsArray();
  for (size_t i = 0; i < items.size(); ++i) {
    const Value& item = items[i];
    if (item.kind() != ValueKind::kObject) {
      return ArgError(bad_arg, 0,
                      "[" + std::to_string(i) + "] " + TypeMismatch("object", item).message());
    }
    std::string group;
    auto it = item.AsObject().find(key);
    if (it == item.AsObject().end()) {
      if (drop_missing) continue;
    } else if (it->second.kind() != ValueKind::kString) {
      return ArgError(bad_arg, 0,
                      "[" + std::to_string(i) + "]." + key + " " +
                          TypeMismatch("string", it->second).message());
    } else {
      group = it->second.AsString();
    }
    auto [g, inserted] = groups.try_emplace(group);
    if (inserted) order.push_back(group);
    g->second.push_back(item);
  }
  ValueArray out;
  out.reserve(order.size());
  for (const std::string& g : order) {
    ValueObject obj;
    obj.insert_or_assign(key, Value::String(g));
    obj.insert_or_assign("items", Value::Array(std::move(groups[g])));
    out.push_back(Value::Object(std::move(obj)));
  }
  return Value::Array(std::move(out));
}

// reflect.Value.IsZero for what River hands coalesce, plus River's "empty array or object".
bool IsEmptyForCoalesce(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return true;
    case ValueKind::kBool:
      return !v.AsBool();
    case ValueKind::kString:
      return v.AsString().empty();
    case ValueKind::kArray:
      return v.AsArray().empty();
    case ValueKind::kObject:
      return v.AsObject().empty();
    case ValueKind::kNumber:
      switch (v.number_kind()) {
        case NumberKind::kInt:
          return v.AsInt() == 0;
        case NumberKind::kUint:
          return v.AsUint() == 0;
        case NumberKind::kFloat:
          return std::bit_cast<std::uint64_t>(v.AsFloat()) == 0;
      }
      return false;
    case ValueKind::kCapsule:
      if (v.IsSecret() || v.IsOptionalSecret()) return v.SecretText().empty();
      return false;
    case ValueKind::kFunction:
      return false;
  }
  return false;
}

Result<Value> Coalesce(Args args, int* /*bad_arg*/) {
  if (args.empty()) return Value::Null();
  for (const Value& a : args) {
    if (!IsEmptyForCoalesce(a)) return a;
  }
  return args.back();
}

Result<Value> Nonsensitive(Args args, int* bad_arg) {
  if (args.size() != 1) return ArityError(1, args.size());
  Result<std::string> s = DecodeSecretText(args[0]);
  if (!s.ok()) return ArgError(bad_arg, 0, s.error().message());
  return Value::String(std::move(*s));
}

Result<Value> PathJoinFn(Args args, int* bad_arg) {
  std::vector<std::string> elems;
  for (size_t i = 0; i < args.size(); ++i) {
    Result<std::string> s = DecodeString(args[i]);
    if (!s.ok()) return ArgError(bad_arg, i, s.error().message());
    elems.push_back(std::move(*s));
  }
  return Value::String(PathJoin(elems));
}

Result<Value> Join(Args args, int* bad_arg) {
  if (args.size() != 2) return ArityError(2, args.size());
  Result<std::vector<std::string>> elems = DecodeStringList(args[0]);
  if (!elems.ok()) return ArgError(bad_arg, 0, elems.error().message());
  Result<std::string> sep = DecodeString(args[1]);
  if (!sep.ok()) return ArgError(bad_arg, 1, sep.error().message());
  std::string out;
  for (size_t i = 0; i < elems->size(); ++i) {
    if (i > 0) out += *sep;
    out += (*elems)[i];
  }
  return Value::String(std::move(out));
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "";
  return buf;
}

constexpr std::string_view GoOs() {
#if defined(__APPLE__)
  return "darwin";
#elif defined(__FreeBSD__)
  return "freebsd";
#elif defined(_WIN32)
  return "windows";
#else
  return "linux";
#endif
}

constexpr std::string_view GoArch() {
#if defined(__x86_64__) || defined(_M_X64)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

// As Alloy's normalizeVersion: a "v" prefix on semantic versions; empty is v0.0.0.
std::string NormalizedVersion() {
  std::string v = GoTrimSpace(STARLING_VERSION);
  if (v.empty()) return "v0.0.0";
  if (v[0] >= '0' && v[0] <= '9') return "v" + v;
  return v;
}

ValueObject BuildStdlib() {
  auto fn = [](std::string name, Body body) {
    return Value::Func(std::move(name), std::move(body));
  };
  auto str1 = [](std::function<std::string(const std::string&)> f) {
    return StringFunction(1, [f = std::move(f)](std::vector<std::string>& a) -> Result<Value> {
      return Value::String(f(a[0]));
    });
  };
  auto str2 = [](std::function<std::string(const std::string&, const std::string&)> f) {
    return StringFunction(2, [f = std::move(f)](std::vector<std::string>& a) -> Result<Value> {
      return Value::String(f(a[0], a[1]));
    });
  };

  Body env = str1([](const std::string& name) { return base::Getenv(name.c_str()); });
  Body from_json = StringFunction(1, [](std::vector<std::string>& a) -> Result<Value> {
    ASSIGN_OR_RETURN(nlohmann::json j, ParseJson(a[0]));
    return JsonToValue(j, /*keep_ints=*/false);
  });
  Body from_yaml = StringFunction(1, [](std::vector<std::string>& a) { return DecodeYaml(a[0]); });
  Body from_base64 = StringFunction(1, [](std::vector<std::string>& a) -> Result<Value> {
    ASSIGN_OR_RETURN(std::string s, Base64Decode(a[0], kStdAlphabet));
    return Value::String(std::move(s));
  });
  Body from_url_base64 = StringFunction(1, [](std::vector<std::string>& a) -> Result<Value> {
    ASSIGN_OR_RETURN(std::string s, Base64Decode(a[0], kUrlAlphabet));
    return Value::String(std::move(s));
  });
  Body to_base64 = str1([](const std::string& s) { return Base64Encode(s, kStdAlphabet); });
  Body to_url_base64 = str1([](const std::string& s) { return Base64Encode(s, kUrlAlphabet); });
  Body url_encode = str1([](const std::string& s) { return QueryEscape(s); });
  Body url_decode = StringFunction(1, [](std::vector<std::string>& a) -> Result<Value> {
    ASSIGN_OR_RETURN(std::string s, QueryUnescape(a[0]));
    return Value::String(std::move(s));
  });
  Body json_path =
      StringFunction(2, [](std::vector<std::string>& a) { return JsonPath(a[0], a[1]); });
  Body replace = StringFunction(3, [](std::vector<std::string>& a) -> Result<Value> {
    return Value::String(GoReplaceAll(a[0], a[1], a[2]));
  });
  Body split = StringFunction(2, [](std::vector<std::string>& a) -> Result<Value> {
    return Value::Array(GoSplit(a[0], a[1]));
  });
  Body to_lower = str1([](const std::string& s) { return GoToLower(s); });
  Body to_upper = str1([](const std::string& s) { return GoToUpper(s); });
  Body trim = str2([](const std::string& s, const std::string& cut) { return GoTrim(s, cut); });
  Body trim_prefix = str2([](const std::string& s, const std::string& p) {
    return s.compare(0, p.size(), p) == 0 ? s.substr(p.size()) : s;
  });
  Body trim_suffix = str2([](const std::string& s, const std::string& p) {
    return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0
               ? s.substr(0, s.size() - p.size())
               : s;
  });
  Body trim_space = str1([](const std::string& s) { return GoTrimSpace(s); });

  // The string functions shared by River's top-level names and Alloy's string namespace.
  const std::vector<std::pair<std::string, Body>> string_fns = {
      {"format", Format},
      {"join", Join},
      {"replace", replace},
      {"split", split},
      {"to_lower", to_lower},
      {"to_upper", to_upper},
      {"trim", trim},
      {"trim_prefix", trim_prefix},
      {"trim_suffix", trim_suffix},
      {"trim_space", trim_space},
  };

  ValueObject lib;
  // River (Agent v0.40) names, kept in Alloy as deprecated aliases.
  lib.emplace("env", fn("env", env));
  lib.emplace("nonsensitive", fn("nonsensitive", Nonsensitive));
  lib.emplace("concat", fn("concat", Concat));
  lib.emplace("json_decode", fn("json_decode", from_json));
  lib.emplace("yaml_decode", fn("yaml_decode", from_yaml));
  lib.emplace("base64_decode", fn("base64_decode", from_base64));
  lib.emplace("json_path", fn("json_path", json_path));
  lib.emplace("coalesce", fn("coalesce", Coalesce));
  for (const auto& [name, body] : string_fns) lib.emplace(name, fn(name, body));

  // Alloy 1.x namespaces.
  ValueObject string_ns;
  for (const auto& [name, body] : string_fns) string_ns.emplace(name, fn("string." + name, body));
  lib.emplace("string", Value::Object(std::move(string_ns)));
  lib.emplace("sys", Value::Object({{"env", fn("sys.env", env)}}));
  lib.emplace("convert",
              Value::Object({{"nonsensitive", fn("convert.nonsensitive", Nonsensitive)}}));
  lib.emplace("array", Value::Object({
                           {"concat", fn("array.concat", Concat)},
                           {"combine_maps", fn("array.combine_maps", CombineMaps)},
                           {"group_by", fn("array.group_by", GroupBy)},
                       }));
  lib.emplace("encoding", Value::Object({
                              {"from_json", fn("encoding.from_json", from_json)},
                              {"from_yaml", fn("encoding.from_yaml", from_yaml)},
                              {"from_base64", fn("encoding.from_base64", from_base64)},
                              {"from_URLbase64", fn("encoding.from_URLbase64", from_url_base64)},
                              {"to_json", fn("encoding.to_json", ToJson)},
                              {"to_base64", fn("encoding.to_base64", to_base64)},
                              {"to_URLbase64", fn("encoding.to_URLbase64", to_url_base64)},
                              {"url_encode", fn("encoding.url_encode", url_encode)},
                              {"url_decode", fn("encoding.url_decode", url_decode)},
                          }));
  lib.emplace("file", Value::Object({{"path_join", fn("file.path_join", PathJoinFn)}}));
  lib.emplace("constants", Value::Object({
                               {"hostname", Value::String(Hostname())},
                               {"os", Value::String(std::string(GoOs()))},
                               {"arch", Value::String(std::string(GoArch()))},
                               {"version", Value::String(NormalizedVersion())},
                           }));
  return lib;
}

}  // namespace

const ValueObject& StdlibValues() {
  // Built once; Values are immutable, so the same object serves every thread.
  static const ValueObject* const kValues = new ValueObject(BuildStdlib());
  return *kValues;
}

}  // namespace starling::syntax
