#pragma once

// The parts of Go's strconv that River's scanner, evaluator, values and standard library all
// need: Go's number syntax and Go's quoting. Internal to the syntax module. All functions are
// pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace starling::syntax {

// The value of an ASCII hex digit of either case, or 16 for anything else (so `< base` tests
// for a digit of any base up to 16).
int HexDigitValue(char32_t c);

// Go's one-letter escapes (\a \b \f \n \r \t \v): the character a letter stands for, and
// the letter that stands for a character; 0 when there is none.
char GoEscapedChar(char letter);
char GoEscapeLetter(char32_t c);

// strconv.ParseUint(s, 0, 64): a 0x/0o/0b prefix or a leading 0 (octal) picks the base, and
// single underscores may separate digits. nullopt for bad syntax or a value out of range.
std::optional<std::uint64_t> ParseGoUint(std::string_view s);

// Whether s has strconv.ParseFloat's decimal syntax: [+-] digits [. digits] [(e|E) [+-]
// digits] with at least one mantissa digit (either side of the point). Hex floats,
// underscores and the inf/nan words are not included.
bool IsGoDecimalFloat(std::string_view s);

// strconv.ParseFloat(s, 64) for IsGoDecimalFloat text. Returns false for bad syntax, and also
// when the value overflows, then setting *range_error (when given) to true.
bool ParseGoFloat(std::string_view s, double* out, bool* range_error = nullptr);

// strconv's appendEscapedRune: appends r as it stands inside a literal delimited by quote.
// is_print decides which characters may stand for themselves; with ascii_only, only printable
// ASCII does. Invalid code points are written as U+FFFD.
void AppendGoEscapedRune(std::string* out, char32_t r, char quote, bool ascii_only,
                         bool (*is_print)(char32_t));

// strconv.Quote (ascii_only: QuoteToASCII) with the given printability test; bytes that are
// not valid UTF-8 are written as \x escapes.
std::string GoQuoteWith(std::string_view s, bool ascii_only, bool (*is_print)(char32_t));

}  // namespace starling::syntax
