#pragma once

// Positioned diagnostics: what the parser and evaluator report. A Diagnostics list prints as
// River prints errors: "FILE:LINE:COL: message", one per line.

#include <string>
#include <vector>

#include "syntax/token.h"

namespace starling::syntax {

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  Pos start;  // where the problem is
  Pos end;    // just past it, when known
  std::string message;
};

class Diagnostics {
 public:
  void Add(Pos start, std::string message, Pos end = {});
  void Append(const Diagnostics& other);

  bool HasErrors() const;
  bool empty() const { return list_.empty(); }
  const std::vector<Diagnostic>& list() const { return list_; }

  // "file:line:col: message\n" for each diagnostic in order.
  std::string Format(const std::string& filename) const;

 private:
  std::vector<Diagnostic> list_;
};

}  // namespace starling::syntax
