#include "base/utf8.h"

#include <cstdint>

namespace starling::base {

char32_t DecodeRune(std::string_view s, int* width) {
  *width = 1;
  if (s.empty()) return kRuneError;
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  const std::uint8_t c0 = b(0);
  if (c0 < 0x80) return c0;
  std::size_t n;
  char32_t r;
  char32_t min;
  if (c0 >= 0xC2 && c0 <= 0xDF) {
    n = 2, r = c0 & 0x1F, min = 0x80;
  } else if (c0 >= 0xE0 && c0 <= 0xEF) {
    n = 3, r = c0 & 0x0F, min = 0x800;
  } else if (c0 >= 0xF0 && c0 <= 0xF4) {
    n = 4, r = c0 & 0x07, min = 0x10000;
  } else {
    return kRuneError;
  }
  if (s.size() < n) return kRuneError;
  for (std::size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return kRuneError;
    r = (r << 6) | (b(i) & 0x3F);
  }
  // Overlong forms, surrogates and code points past the last one are invalid.
  if (r < min || r > kMaxRune || (r >= 0xD800 && r <= 0xDFFF)) return kRuneError;
  *width = static_cast<int>(n);
  return r;
}

void AppendUtf8(std::string* out, char32_t r) {
  if (r > kMaxRune || (r >= 0xD800 && r <= 0xDFFF)) r = kRuneError;
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}

}  // namespace starling::base
