#pragma once

// The evaluator: computes the Value of an expression in a Scope, with River's semantics and
// River's positioned error messages. It knows nothing of components: callers hand it a scope.

#include <string>
#include <string_view>
#include <variant>

#include "syntax/ast.h"
#include "syntax/diag.h"
#include "syntax/value.h"

namespace starling::syntax {

// Names visible to an expression; lookups fall back to the parent. Not owning the parent.
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

}  // namespace starling::syntax
