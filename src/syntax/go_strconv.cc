#include "syntax/go_strconv.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "syntax/scanner.h"

namespace starling::syntax {
namespace {

constexpr char kLowerHex[] = "0123456789abcdef";

struct SimpleEscape {
  char letter;
  char value;
};
constexpr SimpleEscape kSimpleEscapes[] = {
    {'a', '\a'}, {'b', '\b'}, {'f', '\f'}, {'n', '\n'}, {'r', '\r'}, {'t', '\t'}, {'v', '\v'},
};

bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

// Appends the low `digits` hex digits of v, most significant first.
void AppendHex(std::string* out, char32_t v, int digits) {
  for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) *out += kLowerHex[(v >> shift) & 0xF];
}

}  // namespace

int HexDigitValue(char32_t c) {
  if (c >= '0' && c <= '9') return static_cast<int>(c - '0');
  char32_t l = c | 0x20;
  if (l >= 'a' && l <= 'f') return static_cast<int>(l - 'a' + 10);
  return 16;
}

char GoEscapedChar(char letter) {
  for (const SimpleEscape& e : kSimpleEscapes) {
    if (e.letter == letter) return e.value;
  }
  return 0;
}

char GoEscapeLetter(char32_t c) {
  for (const SimpleEscape& e : kSimpleEscapes) {
    if (static_cast<char32_t>(e.value) == c) return e.letter;
  }
  return 0;
}

std::optional<std::uint64_t> ParseGoUint(std::string_view s) {
  std::uint64_t base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    char p = s[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      s.remove_prefix(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      s.remove_prefix(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  bool any = false;
  char prev = '_';
  for (char c : s) {
    if (c == '_') {
      if (prev == '_' && any) return std::nullopt;
      prev = c;
      continue;
    }
    auto d = static_cast<std::uint64_t>(HexDigitValue(static_cast<unsigned char>(c)));
    if (d >= base) return std::nullopt;
    if (v > (std::numeric_limits<std::uint64_t>::max() - d) / base) return std::nullopt;
    v = v * base + d;
    any = true;
    prev = c;
  }
  if (prev == '_') return std::nullopt;
  return v;
}

bool IsGoDecimalFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && IsAsciiDigit(s[i])) ++i;
    return i - start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t mantissa_digits = digits();
  if (i < s.size() && s[i] == '.') {
    ++i;
    mantissa_digits += digits();
  }
  if (mantissa_digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

bool ParseGoFloat(std::string_view s, double* out, bool* range_error) {
  if (range_error != nullptr) *range_error = false;
  if (!IsGoDecimalFloat(s)) return false;
  std::string copy(s);
  char* end = nullptr;
  double d = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) return false;
  if (std::isinf(d)) {
    if (range_error != nullptr) *range_error = true;
    return false;
  }
  *out = d;
  return true;
}

void AppendGoEscapedRune(std::string* out, char32_t r, char quote, bool ascii_only,
                         bool (*is_print)(char32_t)) {
  if (r == static_cast<char32_t>(quote) || r == '\\') {
    *out += '\\';
    *out += static_cast<char>(r);
    return;
  }
  if (ascii_only) {
    if (r < 0x80 && is_print(r)) {
      *out += static_cast<char>(r);
      return;
    }
  } else if (is_print(r)) {
    AppendUtf8(out, r);
    return;
  }
  if (char letter = GoEscapeLetter(r); letter != 0) {
    *out += '\\';
    *out += letter;
    return;
  }
  if (r < ' ' || r == 0x7F) {
    *out += "\\x";
    AppendHex(out, r, 2);
    return;
  }
  if (r > kMaxRune || (r >= 0xD800 && r < 0xE000)) r = kRuneError;
  if (r < 0x10000) {
    *out += "\\u";
    AppendHex(out, r, 4);
  } else {
    *out += "\\U";
    AppendHex(out, r, 8);
  }
}

std::string GoQuoteWith(std::string_view s, bool ascii_only, bool (*is_print)(char32_t)) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (size_t i = 0; i < s.size();) {
    int width = 1;
    char32_t r = DecodeRune(s.substr(i), &width);
    if (width == 1 && r == kRuneError) {
      out += "\\x";
      AppendHex(&out, static_cast<unsigned char>(s[i]), 2);
    } else {
      AppendGoEscapedRune(&out, r, '"', ascii_only, is_print);
    }
    i += static_cast<size_t>(width);
  }
  out += '"';
  return out;
}

}  // namespace starling::syntax
