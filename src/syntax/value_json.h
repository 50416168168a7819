#pragma once

// JSON rendering of River values, for `tools eval`, the UI and tests. Numbers stay exact
// (int64 and uint64 as JSON integers, floats as doubles), object keys are sorted, and secrets
// never leak: a `secret` or an `optional secret` marked secret prints as "(secret)", an
// `optional secret` not marked secret as its string, a function as "(function)" and any
// other capsule as "(capsule)". Stateless; safe from any thread.

#include <nlohmann/json.hpp>
#include <string>

#include "syntax/value.h"

namespace starling::syntax {

nlohmann::json ValueToJson(const Value& v);

// ValueToJson(v).dump(indent): compact when indent < 0.
std::string ValueToJsonString(const Value& v, int indent = -1);

}  // namespace starling::syntax
