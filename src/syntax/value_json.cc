#include "syntax/value_json.h"

namespace starling::syntax {

nlohmann::json ValueToJson(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kNull:
      return nullptr;
    case ValueKind::kNumber:
      switch (v.number_kind()) {
        case NumberKind::kInt:
          return v.AsInt();
        case NumberKind::kUint:
          return v.AsUint();
        case NumberKind::kFloat:
          return v.AsFloat();
      }
      return nullptr;
    case ValueKind::kString:
      return v.AsString();
    case ValueKind::kBool:
      return v.AsBool();
    case ValueKind::kArray: {
      nlohmann::json out = nlohmann::json::array();
      for (const Value& e : v.AsArray()) out.push_back(ValueToJson(e));
      return out;
    }
    case ValueKind::kObject: {
      nlohmann::json out = nlohmann::json::object();  // std::map: keys come out sorted
      for (const auto& [key, e] : v.AsObject()) out[key] = ValueToJson(e);
      return out;
    }
    case ValueKind::kFunction:
      return "(function)";
    case ValueKind::kCapsule:
      if (v.IsSecret()) return "(secret)";
      if (v.IsOptionalSecret()) return v.SecretText();
      return "(capsule)";
  }
  return nullptr;
}

std::string ValueToJsonString(const Value& v, int indent) {
  // Replace invalid UTF-8 rather than throw: River strings may hold any bytes.
  return ValueToJson(v).dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace starling::syntax
