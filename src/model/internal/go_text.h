#pragma once

// Go's text conventions that Prometheus's output depends on: strconv.Quote (used for %q in
// error messages and for label values in Labels::String) and UTF-8 decoding where an invalid
// byte reads as U+FFFD.

#include <cstddef>
#include <string>
#include <string_view>

#include "base/utf8.h"

namespace starling::model::internal {

using base::AppendUtf8;
using base::DecodeRune;
using base::kRuneError;

// Double-quoted with Go's escapes; valid UTF-8 is kept except non-printable code points
// (controls, spaces other than U+0020, format characters, private use), which are escaped;
// invalid bytes become \xNN.
std::string GoQuote(std::string_view s);
void AppendGoQuote(std::string_view s, std::string* out);

}  // namespace starling::model::internal
