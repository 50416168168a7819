#pragma once

// The standard library: River's names (env, concat, json_decode, ...) and Alloy 1.x's
// namespaced names (sys.env, array.concat, encoding.from_json, string.*, ...), as one scope.

#include "syntax/eval.h"

namespace starling::syntax {

// The identifiers of the standard library: functions and namespace objects.
const ValueObject& StdlibValues();

}  // namespace starling::syntax
