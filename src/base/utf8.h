#pragma once

// UTF-8 decoding and encoding with Go's conventions (an invalid byte reads as U+FFFD of width
// one), shared by the configuration language and Prometheus label handling.

#include <string>
#include <string_view>

namespace starling::base {

// What an invalid UTF-8 encoding decodes to, and the largest Unicode code point.
inline constexpr char32_t kRuneError = 0xFFFD;
inline constexpr char32_t kMaxRune = 0x10FFFF;

// Decodes one UTF-8 character from the start of s. An invalid or truncated encoding (or an
// empty s) yields U+FFFD with *width 1, as Go's utf8.DecodeRuneInString.
char32_t DecodeRune(std::string_view s, int* width);

// Appends the UTF-8 encoding of r (U+FFFD for surrogates and code points past kMaxRune).
void AppendUtf8(std::string* out, char32_t r);

}  // namespace starling::base
