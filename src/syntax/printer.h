#pragma once

// The formatter: prints a parsed File in the canonical form `alloy fmt` gives (tabs, aligned
// `=` in runs of attributes, comments kept where they were).

#include <string>

#include "syntax/ast.h"

namespace starling::syntax {

std::string Format(const File& file);

}  // namespace starling::syntax
