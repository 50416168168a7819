#include "components/common/targets.h"

#include <utility>

#include "component/component.h"

namespace starling::components {

syntax::Value TargetsToValue(const std::vector<Target>& targets) {
  syntax::ValueArray arr;
  arr.reserve(targets.size());
  for (const Target& t : targets) {
    syntax::ValueObject obj;
    for (const auto& [k, v] : t) obj.emplace(k, syntax::Value::String(v));
    arr.push_back(syntax::Value::Object(std::move(obj)));
  }
  return syntax::Value::Array(std::move(arr));
}

base::Result<std::vector<Target>> TargetsFromValue(const syntax::Value& v) {
  std::vector<Target> out;
  RETURN_IF_ERROR(component::DecodeValue(v, &out));
  return out;
}

model::Labels TargetToLabels(const Target& t) {
  return model::Labels(std::vector<model::Label>(t.begin(), t.end()));
}

Target LabelsToTarget(const model::Labels& l) { return Target(l.begin(), l.end()); }

}  // namespace starling::components
