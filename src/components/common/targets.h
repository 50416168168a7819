#pragma once

// Discovery targets as components exchange them: a target is a map of label name to value,
// and a list of targets is the River value list(map(string)) (an array of objects of
// strings). Plain values; thread-compatible.

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/labels.h"
#include "syntax/value.h"

namespace starling::components {

using Target = std::map<std::string, std::string>;

// An array of objects of strings.
syntax::Value TargetsToValue(const std::vector<Target>& targets);
// The inverse; errors read as the decoder's ("[1][\"a\"] should be string, got bool").
base::Result<std::vector<Target>> TargetsFromValue(const syntax::Value& v);

model::Labels TargetToLabels(const Target& t);
Target LabelsToTarget(const model::Labels& l);

}  // namespace starling::components
