#include "syntax/scanner.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace starling::syntax {
namespace {

struct ScanError {
  Pos pos;
  std::string message;
};

// Scans all of src; returns the tokens as "KIND" or "KIND(text)" joined by spaces.
std::string Tokens(std::string_view src, unsigned mode = Scanner::kDefault,
                   std::vector<ScanError>* errors = nullptr) {
  Scanner s(
      src,
      [&](Pos p, std::string_view m) {
        if (errors != nullptr) errors->push_back({p, std::string(m)});
      },
      mode);
  std::string out;
  for (int guard = 0; guard < 10000; ++guard) {
    ScannedToken t = s.Scan();
    if (!out.empty()) out += ' ';
    switch (t.tok) {
      case Token::kIdent:
      case Token::kNumber:
      case Token::kFloat:
      case Token::kString:
      case Token::kBool:
      case Token::kNull:
      case Token::kComment:
      case Token::kIllegal:
        out += std::string(TokenString(t.tok)) + "(" + std::string(t.text) + ")";
        break;
      case Token::kTerminator:
        out += ";";
        break;
      default:
        out += TokenString(t.tok);
    }
    if (t.tok == Token::kEof) break;
  }
  return out;
}

TEST(ScannerTest, EveryTokenWithPosition) {
  struct Case {
    Token tok;
    std::string lit;
  };
  const std::vector<Case> cases = {
      {Token::kComment, "/* a comment */"},
      {Token::kComment, "// a comment \n"},
      {Token::kComment, "/*\r*/"},
      {Token::kComment, "/**\r/*/"},
      {Token::kComment, "//\r\n"},
      {Token::kIdent, "foobar"},
      {Token::kIdent, "a\xDB\xB0\xDB\xB1\xDB\xB8"},    // a۰۱۸
      {Token::kIdent, "foo\xE0\xA5\xAC\xE0\xA5\xAA"},  // foo६४
      {Token::kIdent, "\xC5\x9D"},                     // ŝ
      {Token::kIdent,
       "\xC5\x9D"
       "foo"},
      {Token::kIdent, "_x9"},
      {Token::kNumber, "0"},
      {Token::kNumber, "1"},
      {Token::kNumber, "123456789012345678890"},
      {Token::kNumber, "01234567"},
      {Token::kFloat, "0."},
      {Token::kFloat, ".0"},
      {Token::kFloat, "3.14159265"},
      {Token::kFloat, "1e0"},
      {Token::kFloat, "1e+100"},
      {Token::kFloat, "1E-100"},
      {Token::kFloat, "2.71828e-1000"},
      {Token::kString, "\"Hello, world!\""},
      {Token::kString, "`Hello, world!\\\\`"},
      {Token::kString, "`multi\nline`"},
      {Token::kAdd, "+"},
      {Token::kSub, "-"},
      {Token::kMul, "*"},
      {Token::kDiv, "/"},
      {Token::kMod, "%"},
      {Token::kPow, "^"},
      {Token::kAnd, "&&"},
      {Token::kOr, "||"},
      {Token::kEq, "=="},
      {Token::kLt, "<"},
      {Token::kGt, ">"},
      {Token::kAssign, "="},
      {Token::kNot, "!"},
      {Token::kNeq, "!="},
      {Token::kLte, "<="},
      {Token::kGte, ">="},
      {Token::kLParen, "("},
      {Token::kLBrack, "["},
      {Token::kLCurly, "{"},
      {Token::kComma, ","},
      {Token::kDot, "."},
      {Token::kRParen, ")"},
      {Token::kRBrack, "]"},
      {Token::kRCurly, "}"},
      {Token::kNull, "null"},
      {Token::kBool, "true"},
      {Token::kBool, "false"},
  };
  const std::string whitespace = "  \t  \n\n\n";
  std::string src;
  for (const Case& c : cases) src += c.lit + whitespace;

  int errors = 0;
  Scanner s(
      src, [&](Pos, std::string_view) { ++errors; },
      Scanner::kIncludeComments | Scanner::kNoTerminators);
  int offset = 0;
  int line = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.lit);
    ScannedToken t = s.Scan();
    EXPECT_EQ(t.tok, c.tok);
    EXPECT_EQ(t.pos.offset, offset);
    EXPECT_EQ(t.pos.line, line);
    EXPECT_EQ(t.pos.col, 1);
    std::string want_text;
    switch (c.tok) {
      case Token::kComment: {
        for (char ch : c.lit) {
          if (ch != '\r') want_text += ch;
        }
        if (c.lit == "/**\r/*/") want_text = c.lit;     // "*\r/" keeps its '\r'
        if (want_text[1] == '/') want_text.pop_back();  // not the final newline
        break;
      }
      case Token::kIdent:
      case Token::kNumber:
      case Token::kFloat:
      case Token::kString:
      case Token::kNull:
      case Token::kBool:
        want_text = c.lit;
        break;
      default:
        break;
    }
    EXPECT_EQ(t.text, want_text);
    offset += static_cast<int>(c.lit.size() + whitespace.size());
    for (char ch : c.lit + whitespace) {
      if (ch == '\n') ++line;
    }
  }
  ScannedToken eof = s.Scan();
  EXPECT_EQ(eof.tok, Token::kEof);
  EXPECT_EQ(eof.pos.line, line);
  EXPECT_EQ(errors, 0);
}

TEST(ScannerTest, Errors) {
  struct Case {
    std::string src;
    Token tok;
    int offset;  // of the last error (an escape's: the character after the backslash)
    std::string lit;
    std::string error;  // the last error; empty for none
    int count;          // number of errors
  };
  const std::vector<Case> cases = {
      {"\a", Token::kIllegal, 0, "\a", "illegal character U+0007", 1},
      {"\xE2\x80\xA6", Token::kIllegal, 0, "\xE2\x80\xA6",
       "illegal character U+2026 '\xE2\x80\xA6'", 1},
      {"#", Token::kIllegal, 0, "#", "illegal character U+0023 '#'", 1},
      {";", Token::kIllegal, 0, ";", "illegal character U+003B ';'", 1},
      {":", Token::kIllegal, 0, ":", "illegal character U+003A ':'", 1},
      {"?", Token::kIllegal, 0, "?", "illegal character U+003F '?'", 1},
      {"\xC2\xA0", Token::kIllegal, 0, "\xC2\xA0", "illegal character U+00A0", 1},
      {"..", Token::kDot, 0, "", "", 0},
      {"'illegal string'", Token::kIllegal, 0, "'illegal string'",
       "illegal single-quoted string; use double quotes", 1},
      {"\"\"", Token::kString, 0, "\"\"", "", 0},
      {"\"abc", Token::kString, 0, "\"abc", "string literal not terminated", 1},
      {"\"abc\n", Token::kString, 0, "\"abc", "string literal not terminated", 1},
      {"\"abc\n   ", Token::kString, 0, "\"abc", "string literal not terminated", 1},
      {"`abc\n", Token::kString, 0, "`abc\n", "string literal not terminated", 1},
      {std::string("\"abc\0def\"", 9), Token::kString, 4, std::string("\"abc\0def\"", 9),
       "illegal character NUL", 1},
      {"\"abc\x80"
       "def\"",
       Token::kString, 4,
       "\"abc\x80"
       "def\"",
       "illegal UTF-8 encoding", 1},
      {"\xEF\xBB\xBF\xEF\xBB\xBF", Token::kIllegal, 3, "\xEF\xBB\xBF", "illegal byte order mark",
       1},
      {"//\xEF\xBB\xBF", Token::kComment, 2, "//\xEF\xBB\xBF", "illegal byte order mark", 1},
      {"\"abc\xEF\xBB\xBF"
       "def\"",
       Token::kString, 4,
       "\"abc\xEF\xBB\xBF"
       "def\"",
       "illegal byte order mark", 1},
      {std::string("abc\0def", 7), Token::kIdent, 3, "abc", "illegal character NUL", 1},
      {std::string("abc\0", 4), Token::kIdent, 3, "abc", "illegal character NUL", 1},
      {"10E", Token::kFloat, 0, "10E", "exponent has no digits", 1},
      {"1e+", Token::kFloat, 0, "1e+", "exponent has no digits", 1},
      {"\"\\'\"", Token::kString, 2, "\"\\'\"", "unknown escape sequence", 1},
      {"\"\\q\"", Token::kString, 2, "\"\\q\"", "unknown escape sequence", 1},
      {"\"\\", Token::kString, 0, "\"\\", "string literal not terminated", 2},
      {"\"\\x4g\"", Token::kString, 2, "\"\\x4g\"",
       "illegal character U+0067 'g' in escape sequence", 1},
      {"\"\\8\"", Token::kString, 2, "\"\\8\"", "unknown escape sequence", 1},
      {"\"\\400\"", Token::kString, 2, "\"\\400\"", "escape sequence is invalid Unicode code point",
       1},
      {"\"\\uD800\"", Token::kString, 2, "\"\\uD800\"",
       "escape sequence is invalid Unicode code point", 1},
      {"\"\\U00110000\"", Token::kString, 2, "\"\\U00110000\"",
       "escape sequence is invalid Unicode code point", 1},
      {"\"\\u12", Token::kString, 0, "\"\\u12", "string literal not terminated", 2},
      {"\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\\101\\x41\\u00e9\\U0001F600\"", Token::kString, 0,
       "\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\\101\\x41\\u00e9\\U0001F600\"", "", 0},
      {"/* open", Token::kComment, 0, "/* open", "block comment not terminated", 1},
      {"|", Token::kOr, 1, "", "missing second | in ||", 1},
      {"&x", Token::kAnd, 1, "", "missing second & in &&", 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    std::vector<ScanError> errors;
    Scanner s(
        c.src,
        [&](Pos p, std::string_view m) {
          errors.push_back({p, std::string(m)});
        },
        Scanner::kIncludeComments | Scanner::kNoTerminators);
    ScannedToken t = s.Scan();
    EXPECT_EQ(t.tok, c.tok);
    EXPECT_EQ(t.text, c.lit);
    EXPECT_EQ(static_cast<int>(errors.size()), c.count);
    EXPECT_EQ(s.num_errors(), c.count);
    if (c.error.empty()) {
      EXPECT_TRUE(errors.empty());
    } else if (!errors.empty()) {
      EXPECT_EQ(errors.back().message, c.error);
      EXPECT_EQ(errors.back().pos.offset, c.offset);
    }
  }
}

TEST(ScannerTest, Terminators) {
  struct Case {
    std::string src;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"a\nb", "IDENT(a) ; IDENT(b) ; EOF"},
      {"a = 1\n", "IDENT(a) = NUMBER(1) ; EOF"},
      {"a = 1", "IDENT(a) = NUMBER(1) ; EOF"},
      {"x = [\n1,\n2,\n]\n", "IDENT(x) = [ NUMBER(1) , NUMBER(2) , ] ; EOF"},
      {"x = [\n1,\n2\n]", "IDENT(x) = [ NUMBER(1) , NUMBER(2) ; ] ; EOF"},
      {"f(\n)\n", "IDENT(f) ( ) ; EOF"},
      {"a +\nb", "IDENT(a) + IDENT(b) ; EOF"},
      {"a.\nb", "IDENT(a) . IDENT(b) ; EOF"},
      {"b {\n}\n", "IDENT(b) { } ; EOF"},
      {"\"s\"\n`r`\n1.5\ntrue\nnull\n",
       "STRING(\"s\") ; STRING(`r`) ; FLOAT(1.5) ; BOOL(true) ; NULL(null) ; EOF"},
      {"a // c\nb", "IDENT(a) ; COMMENT(// c) IDENT(b) ; EOF"},
      {"a /* c */\nb", "IDENT(a) ; COMMENT(/* c */) IDENT(b) ; EOF"},
      {"a /* c */ b", "IDENT(a) COMMENT(/* c */) IDENT(b) ; EOF"},
      {"a /* c\n */ b", "IDENT(a) ; COMMENT(/* c\n */) IDENT(b) ; EOF"},
      {"a /* c */ // d\nb", "IDENT(a) ; COMMENT(/* c */) COMMENT(// d) IDENT(b) ; EOF"},
      {"a /* c */ / b", "IDENT(a) COMMENT(/* c */) / IDENT(b) ; EOF"},
      {"a // c", "IDENT(a) ; COMMENT(// c) EOF"},
      {"= // c\n", "= COMMENT(// c) EOF"},
      {"a\r\nb", "IDENT(a) ; IDENT(b) ; EOF"},
      {"a # x\n", "IDENT(a) ILLEGAL(#) IDENT(x) ; EOF"},
      {"a #\n", "IDENT(a) ILLEGAL(#) ; EOF"},
      {"\xEF\xBB\xBF"
       "a",
       "IDENT(a) ; EOF"},
      {"", "EOF"},
      {"\n\n", "EOF"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    EXPECT_EQ(Tokens(c.src, Scanner::kIncludeComments), c.want);
  }
  // Without comments in the output, a comment ending a line still yields its terminator.
  EXPECT_EQ(Tokens("a // c\nb"), "IDENT(a) ; IDENT(b) ; EOF");
  EXPECT_EQ(Tokens("a /* c */ b"), "IDENT(a) IDENT(b) ; EOF");
}

TEST(ScannerTest, TerminatorPositions) {
  Scanner s("ab // c\nd", nullptr);
  ScannedToken t = s.Scan();
  EXPECT_EQ(t.tok, Token::kIdent);
  t = s.Scan();
  EXPECT_EQ(t.tok, Token::kTerminator);
  EXPECT_EQ(t.text, "\n");
  EXPECT_EQ(t.pos.line, 1);
  EXPECT_EQ(t.pos.col, 4);  // at the comment
  t = s.Scan();
  EXPECT_EQ(t.tok, Token::kIdent);
  EXPECT_EQ(t.pos.line, 2);
  EXPECT_EQ(t.pos.col, 1);

  Scanner s2("x = 1\n", nullptr);
  for (int i = 0; i < 3; ++i) (void)s2.Scan();
  t = s2.Scan();
  EXPECT_EQ(t.tok, Token::kTerminator);
  EXPECT_EQ(t.pos.line, 1);
  EXPECT_EQ(t.pos.col, 6);  // at the newline
  t = s2.Scan();
  EXPECT_EQ(t.tok, Token::kEof);
  EXPECT_EQ(t.pos.line, 2);
  EXPECT_EQ(t.pos.col, 1);
}

TEST(ScannerTest, PositionsAfterMultilineTokens) {
  Scanner s("a = `x\ny\nz` + /* 1\n2 */ b", nullptr, Scanner::kIncludeComments);
  std::vector<ScannedToken> toks;
  for (;;) {
    ScannedToken t = s.Scan();
    toks.push_back(t);
    if (t.tok == Token::kEof) break;
  }
  ASSERT_GE(toks.size(), 6u);
  EXPECT_EQ(toks[2].tok, Token::kString);
  EXPECT_EQ(toks[2].pos.line, 1);
  EXPECT_EQ(toks[2].pos.col, 5);
  EXPECT_EQ(toks[3].tok, Token::kAdd);
  EXPECT_EQ(toks[3].pos.line, 3);
  EXPECT_EQ(toks[3].pos.col, 4);
  EXPECT_EQ(toks[4].tok, Token::kComment);
  EXPECT_EQ(toks[5].tok, Token::kIdent);
  EXPECT_EQ(toks[5].pos.line, 4);
  EXPECT_EQ(toks[5].pos.col, 6);
  EXPECT_EQ(toks[5].pos.offset, 24);
  // PosFor answers for offsets on earlier lines too.
  Pos p = s.PosFor(7);
  EXPECT_EQ(p.line, 2);
  EXPECT_EQ(p.col, 1);
}

TEST(ScannerTest, ErrorPositionsAreLineAndByteColumn) {
  std::vector<ScanError> errors;
  Tokens("a = 1\n  b = \"\xC3\xA9\\q\"\n", Scanner::kDefault, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "unknown escape sequence");
  EXPECT_EQ(errors[0].pos.line, 2);
  EXPECT_EQ(errors[0].pos.col, 11);  // bytes, not characters
}

TEST(ScannerTest, NulOutsideStringsIsReportedTwice) {
  // As River: once while reading the byte, once as an illegal character.
  std::vector<ScanError> errors;
  Tokens(std::string("\0", 1), Scanner::kDefault, &errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].message, "illegal character NUL");
  EXPECT_EQ(errors[1].message, "illegal character U+0000");
}

TEST(ScannerTest, UnquoteString) {
  struct Case {
    std::string lit;
    bool ok;
    std::string want;
  };
  const std::vector<Case> cases = {
      {R"("")", true, ""},
      {R"("hello")", true, "hello"},
      {R"("a\tb\nc")", true, "a\tb\nc"},
      {R"("\a\b\f\n\r\t\v\\\"")", true, "\a\b\f\n\r\t\v\\\""},
      {R"("\101\x42\u0043")", true, "ABC"},
      {R"("\u00e9")", true, "\xC3\xA9"},
      {R"("\U0001F600")", true, "\xF0\x9F\x98\x80"},
      {R"("\xff")", true, "\xff"},
      {R"("\377")", true, "\xff"},
      {R"("\000")", true, std::string("\0", 1)},
      {"\"\xC3\xA9\"", true, "\xC3\xA9"},
      {"\"\xFF\"", true, "\xEF\xBF\xBD"},
      {"`raw \\n`", true, "raw \\n"},
      {"`a\r\nb`", true, "a\nb"},
      {"`multi\nline`", true, "multi\nline"},
      {"``", true, ""},
      {R"("\'")", false, ""},
      {R"("\q")", false, ""},
      {R"("\400")", false, ""},
      {R"("\uD800")", false, ""},
      {R"("\U00110000")", false, ""},
      {R"("\x4")", false, ""},
      {R"("\")", false, ""},
      {"\"a\nb\"", false, ""},
      {R"("a"b")", false, ""},
      {R"("abc)", false, ""},
      {"'a'", false, ""},
      {"\"", false, ""},
      {"", false, ""},
      {"`a`b`", false, ""},
      {"abc", false, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.lit);
    base::Result<std::string> r = UnquoteString(c.lit);
    EXPECT_EQ(r.ok(), c.ok);
    if (c.ok && r.ok()) {
      EXPECT_EQ(*r, c.want);
    }
    if (!r.ok()) {
      EXPECT_EQ(r.error().message(), "invalid syntax");
    }
  }
}

TEST(ScannerTest, QuoteString) {
  struct Case {
    std::string in;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"abc", "\"abc\""},
      {"`multi_line`", "\"`multi_line`\""},
      {"with space", "\"with space\""},
      {"a\"b\\c", R"("a\"b\\c")"},
      {"\n\t\a\x01\x7f", R"("\n\t\a\x01\x7f")"},
      {"\xC3\xA9", "\"\xC3\xA9\""},
      {"\xFF", R"("\xff")"},
      {"\xC2\xA0", R"("\u00a0")"},
      {"\xF3\xA0\x80\x81", R"("\U000e0001")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    EXPECT_EQ(QuoteString(c.in), c.want);
  }
}

TEST(ScannerTest, FormatRune) {
  EXPECT_EQ(FormatRune('#'), "U+0023 '#'");
  EXPECT_EQ(FormatRune(7), "U+0007");
  EXPECT_EQ(FormatRune(0x2026), "U+2026 '\xE2\x80\xA6'");
  EXPECT_EQ(FormatRune(0x1F600), "U+1F600 '\xF0\x9F\x98\x80'");
  EXPECT_EQ(FormatRune(0xFEFF), "U+FEFF");
}

TEST(ScannerTest, IsValidIdentifier) {
  struct Case {
    std::string s;
    bool want;
  };
  const std::vector<Case> cases = {
      {"abc", true},
      {"_", true},
      {"a1_b2", true},
      {"\xC5\x9D"
       "foo",
       true},
      {"", false},
      {"1abc", false},
      {"with space", false},
      {"a-b", false},
      {"a.b", false},
      {"true", false},
      {"false", false},
      {"null", false},
      {"nullable", true},
      {"\xEF\xBB\xBF"
       "a",
       false},
      {"a\xFF", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.s);
    EXPECT_EQ(IsValidIdentifier(c.s), c.want);
  }
}

TEST(ScannerTest, DecodeRuneRejectsInvalidForms) {
  struct Case {
    std::string s;
    char32_t want;
    int width;
  };
  const std::vector<Case> cases = {
      {"a", 'a', 1},
      {"\xC3\xA9", 0xE9, 2},
      {"\xE2\x80\xA6", 0x2026, 3},
      {"\xF0\x9F\x98\x80", 0x1F600, 4},
      {"\xC0\x80", 0xFFFD, 1},          // overlong
      {"\xE0\x80\x80", 0xFFFD, 1},      // overlong
      {"\xED\xA0\x80", 0xFFFD, 1},      // surrogate
      {"\xF4\x90\x80\x80", 0xFFFD, 1},  // beyond U+10FFFF
      {"\xC3", 0xFFFD, 1},              // truncated
      {"\x80", 0xFFFD, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.s);
    int width = 0;
    EXPECT_EQ(DecodeRune(c.s, &width), c.want);
    EXPECT_EQ(width, c.width);
  }
}

TEST(ScannerTest, TokenStringAndPrecedence) {
  EXPECT_EQ(TokenString(Token::kIdent), "IDENT");
  EXPECT_EQ(TokenString(Token::kTerminator), "TERMINATOR");
  EXPECT_EQ(TokenString(Token::kLCurly), "{");
  EXPECT_EQ(TokenString(Token::kBool), "BOOL");
  EXPECT_EQ(BinaryPrecedence(Token::kOr), 1);
  EXPECT_EQ(BinaryPrecedence(Token::kAnd), 2);
  EXPECT_EQ(BinaryPrecedence(Token::kLte), 3);
  EXPECT_EQ(BinaryPrecedence(Token::kSub), 4);
  EXPECT_EQ(BinaryPrecedence(Token::kMod), 5);
  EXPECT_EQ(BinaryPrecedence(Token::kPow), 6);
  EXPECT_EQ(BinaryPrecedence(Token::kNot), 0);
  EXPECT_EQ(BinaryPrecedence(Token::kAssign), 0);
}

}  // namespace
}  // namespace starling::syntax
