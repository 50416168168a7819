#include "syntax/diag.h"

#include <fmt/format.h>

#include <algorithm>

namespace starling::syntax {

void Diagnostics::Add(Pos start, std::string message, Pos end) {
  list_.push_back(Diagnostic{Severity::kError, start, end, std::move(message)});
}

void Diagnostics::Append(const Diagnostics& other) {
  list_.insert(list_.end(), other.list_.begin(), other.list_.end());
}

bool Diagnostics::HasErrors() const {
  return std::any_of(list_.begin(), list_.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

std::string Diagnostics::Format(const std::string& filename) const {
  std::string out;
  for (const Diagnostic& d : list_) {
    // Same shape as River's positions: "file:line:col", "line:col" without a file name, "-"
    // when there is neither.
    std::string where = filename;
    if (d.start.valid()) {
      if (!where.empty()) where += ':';
      where += fmt::format("{}:{}", d.start.line, d.start.col);
    }
    if (where.empty()) where = "-";
    out += where;
    out += ": ";
    out += d.message;
    out += '\n';
  }
  return out;
}

}  // namespace starling::syntax
