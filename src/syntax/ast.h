#pragma once

// The River abstract syntax tree. A File is a Body: a list of attribute and block statements.
// Expressions form a tree of Expr subclasses distinguished by Expr::kind; every node keeps the
// positions the printer and diagnostics need. Nodes own their children (unique_ptr) and are
// immutable after parsing; a tree is safe to read from many threads.

#include <memory>
#include <string>
#include <vector>

#include "syntax/token.h"

namespace starling::syntax {

struct Ident {
  std::string name;
  Pos pos;
};

enum class ExprKind {
  kLiteral,
  kArray,
  kObject,
  kIdentifier,
  kAccess,
  kIndex,
  kCall,
  kUnary,
  kBinary,
  kParen,
};

struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  Expr(const Expr&) = delete;
  Expr& operator=(const Expr&) = delete;

  const ExprKind kind;
};
using ExprPtr = std::unique_ptr<Expr>;

// A number, float, string, bool or null literal. value is the source text exactly as written
// (strings keep their quotes or backticks; evaluation unquotes them).
struct LiteralExpr : Expr {
  LiteralExpr() : Expr(ExprKind::kLiteral) {}
  Token token = Token::kIllegal;  // kNumber, kFloat, kString, kBool or kNull
  std::string value;
  Pos pos;
};

struct ArrayExpr : Expr {
  ArrayExpr() : Expr(ExprKind::kArray) {}
  std::vector<ExprPtr> elements;
  Pos lbrack, rbrack;
};

struct ObjectField {
  Ident name;           // the key, unquoted
  bool quoted = false;  // written as "key" rather than key
  ExprPtr value;
};

struct ObjectExpr : Expr {
  ObjectExpr() : Expr(ExprKind::kObject) {}
  std::vector<ObjectField> fields;
  Pos lcurly, rcurly;
};

struct IdentifierExpr : Expr {
  IdentifierExpr() : Expr(ExprKind::kIdentifier) {}
  Ident ident;
};

// value.name
struct AccessExpr : Expr {
  AccessExpr() : Expr(ExprKind::kAccess) {}
  ExprPtr value;
  Ident name;
};

// value[index]
struct IndexExpr : Expr {
  IndexExpr() : Expr(ExprKind::kIndex) {}
  ExprPtr value;
  ExprPtr index;
  Pos lbrack, rbrack;
};

// value(args...)
struct CallExpr : Expr {
  CallExpr() : Expr(ExprKind::kCall) {}
  ExprPtr value;
  std::vector<ExprPtr> args;
  Pos lparen, rparen;
};

// op value, op one of kNot, kSub
struct UnaryExpr : Expr {
  UnaryExpr() : Expr(ExprKind::kUnary) {}
  Token op = Token::kIllegal;
  Pos op_pos;
  ExprPtr value;
};

struct BinaryExpr : Expr {
  BinaryExpr() : Expr(ExprKind::kBinary) {}
  Token op = Token::kIllegal;
  Pos op_pos;
  ExprPtr left, right;
};

struct ParenExpr : Expr {
  ParenExpr() : Expr(ExprKind::kParen) {}
  ExprPtr inner;
  Pos lparen, rparen;
};

enum class StmtKind { kAttribute, kBlock };

struct Stmt {
  explicit Stmt(StmtKind k) : kind(k) {}
  virtual ~Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  const StmtKind kind;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

// name = value
struct AttributeStmt : Stmt {
  AttributeStmt() : Stmt(StmtKind::kAttribute) {}
  Ident name;
  ExprPtr value;
};

// a.b.c "label" { body }
struct BlockStmt : Stmt {
  BlockStmt() : Stmt(StmtKind::kBlock) {}
  std::vector<std::string> name;  // dotted parts: {"prometheus", "scrape"}
  Pos name_pos;
  std::string label;  // unquoted; empty when there is none
  bool has_label = false;
  Pos label_pos;
  Body body;
  Pos lcurly, rcurly;

  std::string FullName() const;  // "prometheus.scrape"
};

// A // or /* */ comment. text is exactly as written, including the comment markers.
struct Comment {
  Pos pos;
  std::string text;
};

// Comments with no blank line or token between them.
using CommentGroup = std::vector<Comment>;

struct File {
  std::string name;  // as given to the parser, used in diagnostics
  Body body;
  std::vector<CommentGroup> comments;  // every comment in source order
};

// The position where an expression starts and the position just after it ends.
Pos StartPos(const Expr& e);
Pos EndPos(const Expr& e);

}  // namespace starling::syntax
