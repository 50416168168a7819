#include "model/internal/go_text.h"

#include <cstdint>

namespace starling::model::internal {

namespace {

// Non-ASCII code points Go's unicode.IsPrint rejects that occur in practice: C1 controls,
// Unicode spaces, format characters, separators and private use. Unassigned code points are
// not tracked.
bool IsPrintNonAscii(char32_t r) {
  if (r <= 0xA0 || r == 0xAD) return false;
  if (r == 0x1680 || (r >= 0x2000 && r <= 0x200F) || (r >= 0x2028 && r <= 0x202F)) return false;
  if ((r >= 0x205F && r <= 0x206F) || r == 0x3000 || r == 0xFEFF) return false;
  if ((r >= 0xFFF9 && r <= 0xFFFB) || (r >= 0xE000 && r <= 0xF8FF)) return false;
  if (r >= 0xF0000) return false;
  if ((r & 0xFFFE) == 0xFFFE) return false;
  return true;
}

void AppendHex(std::uint32_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out->push_back(kHex[(v >> (4 * i)) & 0xF]);
}

}  // namespace

void AppendGoQuote(std::string_view s, std::string* out) {
  out->push_back('"');
  std::size_t i = 0;
  while (i < s.size()) {
    int width;
    const char32_t r = DecodeRune(s.substr(i), &width);
    if (width == 1 && r == kRuneError) {
      out->append("\\x");
      AppendHex(static_cast<std::uint8_t>(s[i]), 2, out);
      i += 1;
      continue;
    }
    if (r < 0x80) {
      switch (r) {
        case '"':
          out->append("\\\"");
          break;
        case '\\':
          out->append("\\\\");
          break;
        case '\a':
          out->append("\\a");
          break;
        case '\b':
          out->append("\\b");
          break;
        case '\f':
          out->append("\\f");
          break;
        case '\n':
          out->append("\\n");
          break;
        case '\r':
          out->append("\\r");
          break;
        case '\t':
          out->append("\\t");
          break;
        case '\v':
          out->append("\\v");
          break;
        default:
          if (r < 0x20 || r == 0x7F) {
            out->append("\\x");
            AppendHex(r, 2, out);
          } else {
            out->push_back(static_cast<char>(r));
          }
      }
    } else if (IsPrintNonAscii(r)) {
      out->append(s.substr(i, width));
    } else if (r < 0x10000) {
      out->append("\\u");
      AppendHex(r, 4, out);
    } else {
      out->append("\\U");
      AppendHex(r, 8, out);
    }
    i += static_cast<std::size_t>(width);
  }
  out->push_back('"');
}

std::string GoQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendGoQuote(s, &out);
  return out;
}

}  // namespace starling::model::internal
