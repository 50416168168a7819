#pragma once

// The River parser: source text to an AST plus every syntax error found (it recovers at
// statement boundaries and keeps going).

#include <memory>
#include <string>
#include <string_view>

#include "syntax/ast.h"
#include "syntax/diag.h"

namespace starling::syntax {

struct ParseResult {
  std::unique_ptr<File> file;  // always set; partial when diags has errors
  Diagnostics diags;
};

ParseResult ParseFile(std::string filename, std::string_view src);

// Parses src as one expression (for `tools eval --expr`). Returns null when diags has errors.
ExprPtr ParseExpression(std::string_view src, Diagnostics* diags);

}  // namespace starling::syntax
