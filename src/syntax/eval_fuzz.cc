// Parses an expression from arbitrary bytes and evaluates it with the standard library in
// scope. Must never crash or hang, whatever the input.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "syntax/eval.h"
#include "syntax/parser.h"
#include "syntax/stdlib.h"
#include "syntax/value_json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace starling::syntax;
  std::string_view src(reinterpret_cast<const char*>(data), size);
  Diagnostics diags;
  ExprPtr expr = ParseExpression(src, &diags);
  if (expr == nullptr) return 0;
  static const Scope* scope = new Scope(StdlibValues());
  std::variant<Value, Diagnostic> result = Evaluate(*expr, *scope);
  if (const Value* v = std::get_if<Value>(&result)) {
    (void)ValueToJsonString(*v);
  }
  return 0;
}
