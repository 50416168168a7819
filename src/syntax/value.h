#pragma once

// River values. A Value is one of: null, number (int64, uint64 or float64), string, bool,
// array, object, function, capsule. Secrets are capsules of two built-in capsule types:
// `secret` (never readable as a string) and `optional secret` (a string that may be marked
// secret); River's conversion rules between them and strings are in Convert().
//
// Values are immutable and cheap to copy (arrays, objects, functions and capsules share their
// storage), so the same Value may be read from many threads.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/status.h"

namespace starling::syntax {

enum class ValueKind { kNull, kNumber, kString, kBool, kArray, kObject, kFunction, kCapsule };
enum class NumberKind { kInt, kUint, kFloat };

// "null", "number", "string", "bool", "array", "object", "function", "capsule".
std::string_view ValueKindName(ValueKind k);

class Value;
using ValueArray = std::vector<Value>;
using ValueObject = std::map<std::string, Value, std::less<>>;  // sorted keys, as River

// A native function. On failure it returns an error and, when one argument is at fault, sets
// *bad_arg to its index so the evaluator can point at that argument.
// As River, the evaluator's diagnostic is the source text of that argument (or of the called
// expression when *bad_arg is left at -1) followed by the message: a function returns
// "should be string, got number" and the user sees `1:8: 5 should be string, got number`.
// A message starting with '[' or '.' names a part of the value and is joined without a
// space (`x[2] should be ...`).
struct Function {
  std::string name;
  std::function<base::Result<Value>(std::span<const Value> args, int* bad_arg)> call;
};

// An opaque handle passed between components (a receiver, a secret). type_name is what
// errors print; Equals decides ==.
class Capsule {
 public:
  virtual ~Capsule() = default;
  virtual std::string_view type_name() const = 0;
  virtual bool Equals(const Capsule& other) const { return this == &other; }
};

class Value {
 public:
  Value() = default;  // null
  static Value Null() { return {}; }
  static Value Int(std::int64_t v);
  static Value Uint(std::uint64_t v);
  static Value Float(double v);
  static Value String(std::string v);
  static Value Bool(bool v);
  static Value Array(ValueArray v);
  static Value Object(ValueObject v);
  static Value Func(std::string name,
                    std::function<base::Result<Value>(std::span<const Value>, int*)> call);
  static Value FromCapsule(std::shared_ptr<const Capsule> c);
  static Value Secret(std::string v);                          // `secret`
  static Value OptionalSecret(std::string v, bool is_secret);  // `optional secret`

  ValueKind kind() const;
  NumberKind number_kind() const;  // only for kNumber
  bool is_null() const { return kind() == ValueKind::kNull; }
  bool IsSecret() const;          // a `secret`, or an `optional secret` marked secret
  bool IsOptionalSecret() const;  // an `optional secret` capsule (secret or not)

  // Accessors; each CHECKs the kind.
  std::int64_t AsInt() const;    // kNumber of kind kInt
  std::uint64_t AsUint() const;  // kNumber of kind kUint
  double AsFloat() const;        // any number, converted
  const std::string& AsString() const;
  bool AsBool() const;
  const ValueArray& AsArray() const;
  const ValueObject& AsObject() const;
  const Function& AsFunction() const;
  const Capsule& AsCapsule() const;
  std::shared_ptr<const Capsule> CapsulePtr() const;
  // The text of a `secret` or `optional secret`.
  const std::string& SecretText() const;

  // Deep equality as River's == : different kinds are unequal; numbers compare by value
  // across int/uint/float.
  friend bool operator==(const Value& a, const Value& b);

  // Type name for errors: ValueKindName, or the capsule's type_name for capsules.
  std::string TypeName() const;

 private:
  struct NumberRep {
    NumberKind kind;
    union {
      std::int64_t i;
      std::uint64_t u;
      double f;
    };
  };
  using Rep = std::variant<std::monostate, NumberRep, std::shared_ptr<const std::string>, bool,
                           std::shared_ptr<const ValueArray>, std::shared_ptr<const ValueObject>,
                           std::shared_ptr<const Function>, std::shared_ptr<const Capsule>>;
  explicit Value(Rep rep) : rep_(std::move(rep)) {}
  Rep rep_;
};

// River's conversion rules: a value of the wanted kind is returned unchanged; a number
// becomes a string (NumberToString); a string becomes a number ("-12" an int, "1.5" or "1e3"
// a float, "12" a uint, anything else an error); an `optional secret` not marked secret acts
// as its string. A `secret` (or marked `optional secret`) never becomes a string: "secrets may
// not be converted into strings". Nothing else converts (not bools, not null: River decodes
// null as the target's zero value, which is the caller's decision). Other errors read as
// River's "should be number, got string". See ConvertToSecret for the secret capsules.
base::Result<Value> ConvertTo(const Value& v, ValueKind want);

// Conversions into the secret capsules: a string, `optional secret` or `secret` becomes a
// `secret`; a string (not secret) or `secret` (secret) becomes an `optional secret`. Anything
// else fails with "should be capsule, got number" style messages, as River.
base::Result<Value> ConvertToSecret(const Value& v);
base::Result<Value> ConvertToOptionalSecret(const Value& v);

// A number as River prints it when converting to a string: integers in decimal, floats as
// Go's strconv.FormatFloat(f, 'f', -1, 64) (shortest round-trip digits, no exponent).
std::string NumberToString(const Value& v);

}  // namespace starling::syntax
