#pragma once

// Go's text conventions that Prometheus's output depends on: strconv.Quote (used for %q in
// error messages and for label values in Labels::String) and UTF-8 decoding where an invalid
// byte reads as U+FFFD.

#include <cstddef>
#include <string>
#include <string_view>

namespace starling::model::internal {

inline constexpr char32_t kRuneError = 0xFFFD;

// Decodes the rune at the start of s (non-empty); an invalid or truncated sequence gives
// kRuneError with *width 1, as Go's utf8.DecodeRuneInString.
char32_t DecodeRune(std::string_view s, std::size_t* width);
void AppendRune(char32_t r, std::string* out);

// Double-quoted with Go's escapes; valid UTF-8 is kept except non-printable code points
// (controls, spaces other than U+0020, format characters, private use), which are escaped;
// invalid bytes become \xNN.
std::string GoQuote(std::string_view s);
void AppendGoQuote(std::string_view s, std::string* out);

}  // namespace starling::model::internal
