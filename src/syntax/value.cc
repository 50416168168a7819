#include "syntax/value.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

#include "base/check.h"
#include "syntax/go_strconv.h"

namespace starling::syntax {
namespace {

constexpr std::string_view kSecretTypeName = "secret";
constexpr std::string_view kOptionalSecretTypeName = "optional secret";

// The two built-in capsule types behind River's `secret` and `optional secret`.
class SecretCapsule final : public Capsule {
 public:
  explicit SecretCapsule(std::string text) : text_(std::move(text)) {}
  std::string_view type_name() const override { return kSecretTypeName; }
  bool Equals(const Capsule& other) const override {
    const auto* o = dynamic_cast<const SecretCapsule*>(&other);
    return o != nullptr && o->text_ == text_;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

class OptionalSecretCapsule final : public Capsule {
 public:
  OptionalSecretCapsule(std::string text, bool is_secret)
      : text_(std::move(text)), is_secret_(is_secret) {}
  std::string_view type_name() const override { return kOptionalSecretTypeName; }
  bool Equals(const Capsule& other) const override {
    const auto* o = dynamic_cast<const OptionalSecretCapsule*>(&other);
    return o != nullptr && o->text_ == text_ && o->is_secret_ == is_secret_;
  }
  const std::string& text() const { return text_; }
  bool is_secret() const { return is_secret_; }

 private:
  std::string text_;
  bool is_secret_;
};

const SecretCapsule* AsSecretCapsule(const Value& v) {
  if (v.kind() != ValueKind::kCapsule) return nullptr;
  return dynamic_cast<const SecretCapsule*>(&v.AsCapsule());
}

const OptionalSecretCapsule* AsOptionalSecretCapsule(const Value& v) {
  if (v.kind() != ValueKind::kCapsule) return nullptr;
  return dynamic_cast<const OptionalSecretCapsule*>(&v.AsCapsule());
}

base::Status TypeError(const Value& v, ValueKind want) {
  return base::Status::InvalidArgument("should be " + std::string(ValueKindName(want)) + ", got " +
                                       std::string(ValueKindName(v.kind())));
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// River's string -> number rules: a leading '-' means a signed integer; a '.', 'e' or 'E'
// means a float; anything else is an unsigned integer.
base::Result<Value> StringToNumber(const Value& v) {
  const std::string& s = v.AsString();
  if (s.empty()) return TypeError(v, ValueKind::kNumber);
  if (s[0] == '-') {
    std::int64_t i = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
    if (ec != std::errc() || ptr != s.data() + s.size() ||
        !AllDigits(std::string_view(s).substr(1))) {
      return TypeError(v, ValueKind::kNumber);
    }
    return Value::Int(i);
  }
  if (s.find_first_of(".eE") != std::string::npos) {
    double d = 0;
    // Hex floats (which Go would also accept here) do not occur in River configs.
    if (!ParseGoFloat(s, &d)) return TypeError(v, ValueKind::kNumber);
    return Value::Float(d);
  }
  if (!AllDigits(s)) return TypeError(v, ValueKind::kNumber);
  std::uint64_t u = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), u);
  if (ec != std::errc() || ptr != s.data() + s.size()) return TypeError(v, ValueKind::kNumber);
  return Value::Uint(u);
}

// Formats as Go's strconv.FormatFloat(f, 'f', -1, 64): the shortest digits that round-trip,
// never in exponent form.
std::string FormatRiverFloat(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f > 0 ? "+Inf" : "-Inf";
  char buf[512];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::fixed);
  CHECK(ec == std::errc());
  return std::string(buf, ptr);
}

}  // namespace

std::string NumberToString(const Value& v) {
  switch (v.number_kind()) {
    case NumberKind::kInt:
      return std::to_string(v.AsInt());
    case NumberKind::kUint:
      return std::to_string(v.AsUint());
    case NumberKind::kFloat:
      return FormatRiverFloat(v.AsFloat());
  }
  return "";
}

std::string_view ValueKindName(ValueKind k) {
  switch (k) {
    case ValueKind::kNull:
      return "null";
    case ValueKind::kNumber:
      return "number";
    case ValueKind::kString:
      return "string";
    case ValueKind::kBool:
      return "bool";
    case ValueKind::kArray:
      return "array";
    case ValueKind::kObject:
      return "object";
    case ValueKind::kFunction:
      return "function";
    case ValueKind::kCapsule:
      return "capsule";
  }
  return "unknown";
}

Value Value::Int(std::int64_t v) {
  NumberRep n;
  n.kind = NumberKind::kInt;
  n.i = v;
  return Value(Rep(n));
}

Value Value::Uint(std::uint64_t v) {
  NumberRep n;
  n.kind = NumberKind::kUint;
  n.u = v;
  return Value(Rep(n));
}

Value Value::Float(double v) {
  NumberRep n;
  n.kind = NumberKind::kFloat;
  n.f = v;
  return Value(Rep(n));
}

Value Value::String(std::string v) {
  return Value(Rep(std::make_shared<const std::string>(std::move(v))));
}

Value Value::Bool(bool v) { return Value(Rep(v)); }

Value Value::Array(ValueArray v) {
  return Value(Rep(std::make_shared<const ValueArray>(std::move(v))));
}

Value Value::Object(ValueObject v) {
  return Value(Rep(std::make_shared<const ValueObject>(std::move(v))));
}

Value Value::Func(std::string name,
                  std::function<base::Result<Value>(std::span<const Value>, int*)> call) {
  return Value(Rep(std::make_shared<const Function>(Function{std::move(name), std::move(call)})));
}

Value Value::FromCapsule(std::shared_ptr<const Capsule> c) {
  CHECK(c != nullptr);
  return Value(Rep(std::move(c)));
}

Value Value::Secret(std::string v) {
  return FromCapsule(std::make_shared<const SecretCapsule>(std::move(v)));
}

Value Value::OptionalSecret(std::string v, bool is_secret) {
  return FromCapsule(std::make_shared<const OptionalSecretCapsule>(std::move(v), is_secret));
}

ValueKind Value::kind() const {
  switch (rep_.index()) {
    case 0:
      return ValueKind::kNull;
    case 1:
      return ValueKind::kNumber;
    case 2:
      return ValueKind::kString;
    case 3:
      return ValueKind::kBool;
    case 4:
      return ValueKind::kArray;
    case 5:
      return ValueKind::kObject;
    case 6:
      return ValueKind::kFunction;
    default:
      return ValueKind::kCapsule;
  }
}

NumberKind Value::number_kind() const {
  CHECK(kind() == ValueKind::kNumber) << "number_kind of a " << ValueKindName(kind());
  return std::get<NumberRep>(rep_).kind;
}

bool Value::IsSecret() const {
  if (AsSecretCapsule(*this) != nullptr) return true;
  const auto* o = AsOptionalSecretCapsule(*this);
  return o != nullptr && o->is_secret();
}

bool Value::IsOptionalSecret() const { return AsOptionalSecretCapsule(*this) != nullptr; }

std::int64_t Value::AsInt() const {
  CHECK(kind() == ValueKind::kNumber && number_kind() == NumberKind::kInt) << "AsInt";
  return std::get<NumberRep>(rep_).i;
}

std::uint64_t Value::AsUint() const {
  CHECK(kind() == ValueKind::kNumber && number_kind() == NumberKind::kUint) << "AsUint";
  return std::get<NumberRep>(rep_).u;
}

double Value::AsFloat() const {
  CHECK(kind() == ValueKind::kNumber) << "AsFloat of a " << ValueKindName(kind());
  const auto& n = std::get<NumberRep>(rep_);
  switch (n.kind) {
    case NumberKind::kInt:
      return static_cast<double>(n.i);
    case NumberKind::kUint:
      return static_cast<double>(n.u);
    case NumberKind::kFloat:
      return n.f;
  }
  return 0;
}

const std::string& Value::AsString() const {
  CHECK(kind() == ValueKind::kString) << "AsString of a " << ValueKindName(kind());
  return *std::get<2>(rep_);
}

bool Value::AsBool() const {
  CHECK(kind() == ValueKind::kBool) << "AsBool of a " << ValueKindName(kind());
  return std::get<bool>(rep_);
}

const ValueArray& Value::AsArray() const {
  CHECK(kind() == ValueKind::kArray) << "AsArray of a " << ValueKindName(kind());
  return *std::get<4>(rep_);
}

const ValueObject& Value::AsObject() const {
  CHECK(kind() == ValueKind::kObject) << "AsObject of a " << ValueKindName(kind());
  return *std::get<5>(rep_);
}

const Function& Value::AsFunction() const {
  CHECK(kind() == ValueKind::kFunction) << "AsFunction of a " << ValueKindName(kind());
  return *std::get<6>(rep_);
}

const Capsule& Value::AsCapsule() const {
  CHECK(kind() == ValueKind::kCapsule) << "AsCapsule of a " << ValueKindName(kind());
  return *std::get<7>(rep_);
}

std::shared_ptr<const Capsule> Value::CapsulePtr() const {
  CHECK(kind() == ValueKind::kCapsule) << "CapsulePtr of a " << ValueKindName(kind());
  return std::get<7>(rep_);
}

const std::string& Value::SecretText() const {
  if (const auto* s = AsSecretCapsule(*this)) return s->text();
  const auto* o = AsOptionalSecretCapsule(*this);
  CHECK(o != nullptr) << "SecretText of a non-secret " << TypeName();
  return o->text();
}

std::string Value::TypeName() const {
  if (kind() == ValueKind::kCapsule) return std::string(AsCapsule().type_name());
  return std::string(ValueKindName(kind()));
}

namespace {

// River's number comparison: both sides are brought to the wider of the two kinds
// (uint < int < float) before comparing.
bool NumbersEqual(const Value& a, const Value& b) {
  NumberKind ka = a.number_kind(), kb = b.number_kind();
  if (ka == NumberKind::kFloat || kb == NumberKind::kFloat) return a.AsFloat() == b.AsFloat();
  auto as_int = [](const Value& v) {
    return v.number_kind() == NumberKind::kInt ? v.AsInt() : static_cast<std::int64_t>(v.AsUint());
  };
  if (ka == NumberKind::kInt || kb == NumberKind::kInt) return as_int(a) == as_int(b);
  return a.AsUint() == b.AsUint();
}

}  // namespace

bool operator==(const Value& a, const Value& b) {
  ValueKind k = a.kind();
  if (k != b.kind()) return false;
  switch (k) {
    case ValueKind::kNull:
      return true;
    case ValueKind::kNumber:
      return NumbersEqual(a, b);
    case ValueKind::kString:
      return a.AsString() == b.AsString();
    case ValueKind::kBool:
      return a.AsBool() == b.AsBool();
    case ValueKind::kArray: {
      const ValueArray& x = a.AsArray();
      const ValueArray& y = b.AsArray();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!(x[i] == y[i])) return false;
      }
      return true;
    }
    case ValueKind::kObject: {
      const ValueObject& x = a.AsObject();
      const ValueObject& y = b.AsObject();
      if (x.size() != y.size()) return false;
      for (const auto& [key, val] : x) {
        auto it = y.find(key);
        if (it == y.end() || !(val == it->second)) return false;
      }
      return true;
    }
    case ValueKind::kFunction:
      return false;  // River never considers two functions equal.
    case ValueKind::kCapsule:
      return a.AsCapsule().Equals(b.AsCapsule());
  }
  return false;
}

base::Result<Value> ConvertTo(const Value& v, ValueKind want) {
  ValueKind have = v.kind();
  if (have == want) return v;
  switch (have) {
    case ValueKind::kNumber:
      if (want == ValueKind::kString) return Value::String(NumberToString(v));
      break;
    case ValueKind::kString:
      if (want == ValueKind::kNumber) return StringToNumber(v);
      break;
    case ValueKind::kCapsule:
      if (AsSecretCapsule(v) != nullptr && want == ValueKind::kString) {
        return base::Status::InvalidArgument("secrets may not be converted into strings");
      }
      if (const auto* o = AsOptionalSecretCapsule(v)) {
        if (o->is_secret()) {
          if (want == ValueKind::kString) {
            return base::Status::InvalidArgument("secrets may not be converted into strings");
          }
          break;
        }
        // An optional secret that is not secret behaves as its string.
        Value s = Value::String(o->text());
        if (want == ValueKind::kString) return s;
        auto converted = ConvertTo(s, want);
        if (converted.ok()) return converted;
      }
      break;
    default:
      break;
  }
  return TypeError(v, want);
}

base::Result<Value> ConvertToSecret(const Value& v) {
  if (AsSecretCapsule(v) != nullptr) return v;
  if (const auto* o = AsOptionalSecretCapsule(v)) return Value::Secret(o->text());
  if (v.kind() == ValueKind::kString) return Value::Secret(v.AsString());
  return TypeError(v, ValueKind::kCapsule);
}

base::Result<Value> ConvertToOptionalSecret(const Value& v) {
  if (AsOptionalSecretCapsule(v) != nullptr) return v;
  if (const auto* s = AsSecretCapsule(v)) return Value::OptionalSecret(s->text(), true);
  if (v.kind() == ValueKind::kString) return Value::OptionalSecret(v.AsString(), false);
  return TypeError(v, ValueKind::kCapsule);
}

}  // namespace starling::syntax
