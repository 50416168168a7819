#pragma once

// The River scanner: turns source bytes into tokens, the way River's reference scanner does
// (same tokens, same error messages at the same positions, same automatic terminators).
//
// A newline becomes a kTerminator token only when the token before it was an identifier,
// literal, `)`, `]` or `}`; bracket depth is not tracked, so a multi-line list needs a
// trailing comma. A comment that runs to the end of such a line yields the terminator first
// (positioned at the comment) and then the comment itself. River has no `;` token (it is an
// illegal character, as are `#`, `:` and `?`), so kTerminator only ever stands for a newline
// or the end of the input.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/utf8.h"
#include "syntax/token.h"

namespace starling::syntax {

// One token. text views into the source (or into the scanner, for comments that had carriage
// returns removed) and stays valid until the next Scan(). Like River, text is the literal for
// identifiers, literals, comments and illegal characters, "\n" for terminators, and empty for
// operators and EOF.
struct ScannedToken {
  Token tok = Token::kEof;
  Pos pos;
  std::string_view text;
};

// Scanner reads tokens from a source buffer it does not own (the buffer must outlive it). Not
// thread-safe; each thread uses its own scanner.
class Scanner {
 public:
  // Receives each lexical error: where it is and River's message for it.
  using ErrorHandler = std::function<void(Pos pos, std::string_view message)>;

  enum Mode : unsigned {
    kDefault = 0,
    kIncludeComments = 1,  // return comments as kComment tokens instead of skipping them
    kNoTerminators = 2,    // never insert terminators (for tests)
  };

  Scanner(std::string_view src, ErrorHandler on_error, unsigned mode = kDefault);

  // Scans the next token into *out (filling it in place is measurably faster on the
  // parser's hot path than returning it).
  void Scan(ScannedToken* out);
  ScannedToken Scan() {
    ScannedToken t;
    Scan(&t);
    return t;
  }

  // The line and column of a byte offset already reached by the scanner.
  Pos PosFor(int offset) const;

  int num_errors() const { return num_errors_; }

 private:
  void Next();
  void AddLine(int offset);
  void Error(int offset, std::string_view message);
  void SkipWhitespace();
  std::string_view ScanIdentifier();
  Token ScanNumber();
  void ScanString(char32_t until, bool escape, bool multiline);
  void ScanEscape();
  std::string_view ScanComment();
  bool FindLineEnd();
  void ResetTo(int offset);
  Token Switch2(Token one, Token two);
  int Digits();

  std::string_view src_;
  ErrorHandler on_error_;
  unsigned mode_;

  char32_t ch_ = 0;      // current character; kEof past the end
  int offset_ = 0;       // byte offset of ch_
  int read_offset_ = 0;  // byte offset just after ch_
  bool insert_term_ = false;
  int num_errors_ = 0;
  std::vector<int> line_starts_;  // byte offset of each line's first byte, ascending
  int line_ = 1;                  // line_starts_.size(), the line of ch_
  int line_start_ = 0;            // line_starts_.back()
  std::string scratch_;           // comment text with carriage returns removed
};

// Whether s is exactly one River identifier (a letter or '_' and then letters, digits and
// '_'; not `true`, `false` or `null`).
bool IsValidIdentifier(std::string_view s);

// The value of a STRING literal's text as the scanner returns it: a double-quoted string
// with escapes, or a backtick raw string (carriage returns removed). Fails with
// "invalid syntax" on anything else.
base::Result<std::string> UnquoteString(std::string_view literal);

// s in double quotes with Go's escaping rules (what River's %q prints in messages).
std::string QuoteString(std::string_view s);

// River's "%#U" form of a character: "U+0023 '#'", or "U+0007" when not printable.
std::string FormatRune(char32_t r);

using base::AppendUtf8;
using base::DecodeRune;
using base::kMaxRune;
using base::kRuneError;

bool IsUnicodeLetter(char32_t r);
bool IsUnicodeDigit(char32_t r);
bool IsPrintRune(char32_t r);

}  // namespace starling::syntax
