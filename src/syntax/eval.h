#pragma once

// The evaluator: computes the Value of an expression in a Scope, with River's semantics and
// River's positioned error messages. It knows nothing of components: callers hand it a scope.

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "syntax/ast.h"
#include "syntax/diag.h"
#include "syntax/value.h"

namespace starling::syntax {

// Names visible to an expression; lookups fall back to the parent, and past the outermost
// scope to the standard library, as River's do. Not owning the parent.
class Scope {
 public:
  explicit Scope(ValueObject vars, const Scope* parent = nullptr)
      : vars_(std::move(vars)), parent_(parent) {}
  const Value* Lookup(std::string_view name) const;

 private:
  ValueObject vars_;
  const Scope* parent_;
};

// The value, or the diagnostic River would report.
std::variant<Value, Diagnostic> Evaluate(const Expr& expr, const Scope& scope);

// One statement of an evaluated body: an attribute and its value, or a block and its body.
struct EvaluatedStmt {
  bool is_block = false;
  std::string name;  // attribute name, or dotted block name
  std::string label;
  bool has_label = false;
  Value value;                      // attributes only
  std::vector<EvaluatedStmt> body;  // blocks only
};

// Evaluates every attribute of a body, recursing into blocks, in source order. Reports every
// error found, including an attribute repeated within one body (at the repeat).
std::variant<std::vector<EvaluatedStmt>, Diagnostics> EvaluateBody(const Body& body,
                                                                   const Scope& scope);

}  // namespace starling::syntax
