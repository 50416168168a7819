#pragma once

// Tokens and source positions of the River language.

#include <cstdint>
#include <string>
#include <string_view>

namespace starling::syntax {

// A position in a source file. line and col are 1-based; col counts bytes. An invalid
// position (line 0) means "no position".
struct Pos {
  int offset = -1;
  int line = 0;
  int col = 0;

  bool valid() const { return line > 0; }
  friend bool operator==(const Pos&, const Pos&) = default;
  friend auto operator<=>(const Pos& a, const Pos& b) { return a.offset <=> b.offset; }
};

enum class Token : std::uint8_t {
  kIllegal,
  kEof,
  kComment,
  kIdent,
  kNumber,  // integer literal
  kFloat,
  kString,
  kBool,
  kNull,

  kOr,      // ||
  kAnd,     // &&
  kNot,     // !
  kAssign,  // =
  kEq,      // ==
  kNeq,     // !=
  kLt,      // <
  kLte,     // <=
  kGt,      // >
  kGte,     // >=
  kAdd,     // +
  kSub,     // -
  kMul,     // *
  kDiv,     // /
  kMod,     // %
  kPow,     // ^

  kLCurly,  // {
  kRCurly,  // }
  kLParen,  // (
  kRParen,  // )
  kLBrack,  // [
  kRBrack,  // ]
  kComma,   // ,
  kDot,     // .

  kTerminator,  // a newline ending a statement (River has no ';')
};

// How River prints a token in messages: "IDENT", "NUMBER", "STRING", "+", "{", ...
std::string_view TokenString(Token t);

// Binary operator precedence (0 for non-operators): || 1, && 2, comparisons 3, + - 4,
// * / % 5, ^ 6.
int BinaryPrecedence(Token t);

}  // namespace starling::syntax
