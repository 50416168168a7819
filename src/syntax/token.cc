#include "syntax/token.h"

namespace starling::syntax {

std::string_view TokenString(Token t) {
  switch (t) {
    case Token::kIllegal:
      return "ILLEGAL";
    case Token::kEof:
      return "EOF";
    case Token::kComment:
      return "COMMENT";
    case Token::kIdent:
      return "IDENT";
    case Token::kNumber:
      return "NUMBER";
    case Token::kFloat:
      return "FLOAT";
    case Token::kString:
      return "STRING";
    case Token::kBool:
      return "BOOL";
    case Token::kNull:
      return "NULL";
    case Token::kOr:
      return "||";
    case Token::kAnd:
      return "&&";
    case Token::kNot:
      return "!";
    case Token::kAssign:
      return "=";
    case Token::kEq:
      return "==";
    case Token::kNeq:
      return "!=";
    case Token::kLt:
      return "<";
    case Token::kLte:
      return "<=";
    case Token::kGt:
      return ">";
    case Token::kGte:
      return ">=";
    case Token::kAdd:
      return "+";
    case Token::kSub:
      return "-";
    case Token::kMul:
      return "*";
    case Token::kDiv:
      return "/";
    case Token::kMod:
      return "%";
    case Token::kPow:
      return "^";
    case Token::kLCurly:
      return "{";
    case Token::kRCurly:
      return "}";
    case Token::kLParen:
      return "(";
    case Token::kRParen:
      return ")";
    case Token::kLBrack:
      return "[";
    case Token::kRBrack:
      return "]";
    case Token::kComma:
      return ",";
    case Token::kDot:
      return ".";
    case Token::kTerminator:
      return "TERMINATOR";
  }
  return "ILLEGAL";
}

int BinaryPrecedence(Token t) {
  switch (t) {
    case Token::kOr:
      return 1;
    case Token::kAnd:
      return 2;
    case Token::kEq:
    case Token::kNeq:
    case Token::kLt:
    case Token::kLte:
    case Token::kGt:
    case Token::kGte:
      return 3;
    case Token::kAdd:
    case Token::kSub:
      return 4;
    case Token::kMul:
    case Token::kDiv:
    case Token::kMod:
      return 5;
    case Token::kPow:
      return 6;
    default:
      return 0;
  }
}

}  // namespace starling::syntax
