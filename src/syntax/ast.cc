#include "syntax/ast.h"

#include <string_view>

namespace starling::syntax {
namespace {

// The position just past text written at p (text may span lines).
Pos Advance(Pos p, std::string_view text) {
  if (!p.valid()) return p;
  p.offset += static_cast<int>(text.size());
  size_t nl = text.rfind('\n');
  if (nl == std::string_view::npos) {
    p.col += static_cast<int>(text.size());
    return p;
  }
  for (char c : text) {
    if (c == '\n') ++p.line;
  }
  p.col = static_cast<int>(text.size() - nl);
  return p;
}

Pos After(Pos p) { return Advance(p, "x"); }

}  // namespace

// Both walk down a single chain of children, so they loop rather than recurse: a long
// a.b.c... or 1 + 2 + ... chain cannot exhaust the stack.
Pos StartPos(const Expr& e) {
  const Expr* cur = &e;
  for (;;) {
    switch (cur->kind) {
      case ExprKind::kLiteral:
        return static_cast<const LiteralExpr*>(cur)->pos;
      case ExprKind::kArray:
        return static_cast<const ArrayExpr*>(cur)->lbrack;
      case ExprKind::kObject:
        return static_cast<const ObjectExpr*>(cur)->lcurly;
      case ExprKind::kIdentifier:
        return static_cast<const IdentifierExpr*>(cur)->ident.pos;
      case ExprKind::kUnary:
        return static_cast<const UnaryExpr*>(cur)->op_pos;
      case ExprKind::kParen:
        return static_cast<const ParenExpr*>(cur)->lparen;
      case ExprKind::kAccess: {
        const auto* a = static_cast<const AccessExpr*>(cur);
        if (!a->value) return a->name.pos;
        cur = a->value.get();
        break;
      }
      case ExprKind::kIndex: {
        const auto* x = static_cast<const IndexExpr*>(cur);
        if (!x->value) return x->lbrack;
        cur = x->value.get();
        break;
      }
      case ExprKind::kCall: {
        const auto* c = static_cast<const CallExpr*>(cur);
        if (!c->value) return c->lparen;
        cur = c->value.get();
        break;
      }
      case ExprKind::kBinary: {
        const auto* b = static_cast<const BinaryExpr*>(cur);
        if (!b->left) return b->op_pos;
        cur = b->left.get();
        break;
      }
    }
  }
}

Pos EndPos(const Expr& e) {
  const Expr* cur = &e;
  for (;;) {
    switch (cur->kind) {
      case ExprKind::kLiteral: {
        const auto* l = static_cast<const LiteralExpr*>(cur);
        return Advance(l->pos, l->value);
      }
      case ExprKind::kArray:
        return After(static_cast<const ArrayExpr*>(cur)->rbrack);
      case ExprKind::kObject:
        return After(static_cast<const ObjectExpr*>(cur)->rcurly);
      case ExprKind::kIdentifier: {
        const auto& id = static_cast<const IdentifierExpr*>(cur)->ident;
        return Advance(id.pos, id.name);
      }
      case ExprKind::kAccess: {
        const auto& id = static_cast<const AccessExpr*>(cur)->name;
        return Advance(id.pos, id.name);
      }
      case ExprKind::kIndex:
        return After(static_cast<const IndexExpr*>(cur)->rbrack);
      case ExprKind::kCall:
        return After(static_cast<const CallExpr*>(cur)->rparen);
      case ExprKind::kParen:
        return After(static_cast<const ParenExpr*>(cur)->rparen);
      case ExprKind::kUnary: {
        const auto* u = static_cast<const UnaryExpr*>(cur);
        if (!u->value) return After(u->op_pos);
        cur = u->value.get();
        break;
      }
      case ExprKind::kBinary: {
        const auto* b = static_cast<const BinaryExpr*>(cur);
        if (!b->right) return After(b->op_pos);
        cur = b->right.get();
        break;
      }
    }
  }
}

std::string BlockStmt::FullName() const {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (i > 0) out += '.';
    out += name[i];
  }
  return out;
}

}  // namespace starling::syntax
