// libFuzzer target: the scanner and parser must accept any bytes without crashing, hanging
// or failing an internal check, and what they return must be self-consistent.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "syntax/parser.h"
#include "syntax/scanner.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace starling::syntax;
  std::string_view src(reinterpret_cast<const char*>(data), size);

  ParseResult r = ParseFile("fuzz", src);
  if (r.file == nullptr) std::abort();
  for (const Diagnostic& d : r.diags.list()) {
    if (!d.start.valid() || d.start.offset < 0 || d.start.offset > static_cast<int>(size)) {
      std::abort();
    }
  }

  Diagnostics diags;
  ExprPtr e = ParseExpression(src, &diags);
  if ((e == nullptr) != diags.HasErrors()) std::abort();
  if (e != nullptr) {
    Pos start = StartPos(*e);
    Pos end = EndPos(*e);
    if (start.offset > end.offset) std::abort();
  }

  // A literal the scanner accepted without errors must unquote.
  Scanner s(src, nullptr);
  for (;;) {
    ScannedToken t = s.Scan();
    if (t.tok == Token::kEof) break;
    if (t.tok == Token::kString && s.num_errors() == 0 && !UnquoteString(t.text).ok()) {
      std::abort();
    }
  }
  return 0;
}
