#include "syntax/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "syntax/value_json.h"

namespace starling::syntax {
namespace {

constexpr std::uint64_t kMaxUint = std::numeric_limits<std::uint64_t>::max();

Value Fn() {
  return Value::Func(
      "f", [](std::span<const Value>, int*) -> base::Result<Value> { return Value::Null(); });
}

class OtherCapsule : public Capsule {
 public:
  std::string_view type_name() const override { return "other"; }
};

struct ConvertCase {
  std::string name;
  Value in;
  ValueKind want;
  std::string expect_json;   // ValueToJsonString of the result, when it converts
  std::string expect_error;  // the error message, when it does not
  NumberKind expect_number_kind = NumberKind::kInt;  // checked for number results
};

TEST(ValueTest, ConvertTo) {
  const std::vector<ConvertCase> cases = {
      {"same kind is unchanged", Value::String("x"), ValueKind::kString, R"("x")", ""},
      {"int to string", Value::Int(-42), ValueKind::kString, R"("-42")", ""},
      {"uint to string", Value::Uint(kMaxUint), ValueKind::kString, R"("18446744073709551615")",
       ""},
      {"float to string", Value::Float(0.5), ValueKind::kString, R"("0.5")", ""},
      {"whole float to string", Value::Float(3), ValueKind::kString, R"("3")", ""},
      {"large float to string has no exponent", Value::Float(1e21), ValueKind::kString,
       R"("1000000000000000000000")", ""},
      {"small float to string has no exponent", Value::Float(1e-7), ValueKind::kString,
       R"("0.0000001")", ""},
      {"float to string is shortest", Value::Float(0.1 + 0.2), ValueKind::kString,
       R"("0.30000000000000004")", ""},
      {"nan to string", Value::Float(std::nan("")), ValueKind::kString, R"("NaN")", ""},
      {"inf to string", Value::Float(HUGE_VAL), ValueKind::kString, R"("+Inf")", ""},
      {"string to uint", Value::String("12"), ValueKind::kNumber, "12", "", NumberKind::kUint},
      {"string to int", Value::String("-12"), ValueKind::kNumber, "-12", "", NumberKind::kInt},
      {"string to float", Value::String("1.5"), ValueKind::kNumber, "1.5", "", NumberKind::kFloat},
      {"string with exponent to float", Value::String("1e3"), ValueKind::kNumber, "1000.0", "",
       NumberKind::kFloat},
      {"string with dot first to float", Value::String(".5"), ValueKind::kNumber, "0.5", "",
       NumberKind::kFloat},
      {"string with dot last to float", Value::String("5."), ValueKind::kNumber, "5.0", "",
       NumberKind::kFloat},
      {"max uint string", Value::String("18446744073709551615"), ValueKind::kNumber,
       "18446744073709551615", "", NumberKind::kUint},
      {"min int string", Value::String("-9223372036854775808"), ValueKind::kNumber,
       "-9223372036854775808", "", NumberKind::kInt},
      {"empty string to number", Value::String(""), ValueKind::kNumber, "",
       "should be number, got string"},
      {"word to number", Value::String("abc"), ValueKind::kNumber, "",
       "should be number, got string"},
      {"lone minus to number", Value::String("-"), ValueKind::kNumber, "",
       "should be number, got string"},
      {"plus sign is not accepted", Value::String("+5"), ValueKind::kNumber, "",
       "should be number, got string"},
      {"leading space is not accepted", Value::String(" 1"), ValueKind::kNumber, "",
       "should be number, got string"},
      {"uint overflow", Value::String("18446744073709551616"), ValueKind::kNumber, "",
       "should be number, got string"},
      {"int overflow", Value::String("-9223372036854775809"), ValueKind::kNumber, "",
       "should be number, got string"},
      {"float overflow", Value::String("1e400"), ValueKind::kNumber, "",
       "should be number, got string"},
      {"negative float is parsed as an int and fails", Value::String("-1.5"), ValueKind::kNumber,
       "", "should be number, got string"},
      {"bool to string", Value::Bool(true), ValueKind::kString, "", "should be string, got bool"},
      {"string to bool", Value::String("true"), ValueKind::kBool, "", "should be bool, got string"},
      {"null to string", Value::Null(), ValueKind::kString, "", "should be string, got null"},
      {"array to object", Value::Array({}), ValueKind::kObject, "", "should be object, got array"},
      {"number to bool", Value::Int(1), ValueKind::kBool, "", "should be bool, got number"},
      {"function to string", Fn(), ValueKind::kString, "", "should be string, got function"},
      {"secret to string", Value::Secret("pw"), ValueKind::kString, "",
       "secrets may not be converted into strings"},
      {"secret to number", Value::Secret("1"), ValueKind::kNumber, "",
       "should be number, got capsule"},
      {"marked optional secret to string", Value::OptionalSecret("pw", true), ValueKind::kString,
       "", "secrets may not be converted into strings"},
      {"plain optional secret to string", Value::OptionalSecret("pw", false), ValueKind::kString,
       R"("pw")", ""},
      {"plain optional secret to number", Value::OptionalSecret("12", false), ValueKind::kNumber,
       "12", "", NumberKind::kUint},
      {"other capsule to string", Value::FromCapsule(std::make_shared<OtherCapsule>()),
       ValueKind::kString, "", "should be string, got capsule"},
  };
  for (const ConvertCase& c : cases) {
    SCOPED_TRACE(c.name);
    base::Result<Value> got = ConvertTo(c.in, c.want);
    if (!c.expect_error.empty()) {
      ASSERT_FALSE(got.ok()) << ValueToJsonString(*got);
      EXPECT_EQ(got.error().message(), c.expect_error);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(got->kind(), c.want);
    EXPECT_EQ(ValueToJsonString(*got), c.expect_json);
    if (got->kind() == ValueKind::kNumber) {
      EXPECT_EQ(got->number_kind(), c.expect_number_kind);
    }
  }
}

TEST(ValueTest, SecretConversions) {
  struct Case {
    std::string name;
    Value in;
    bool to_secret;  // else to optional secret
    std::string expect_error;
    bool expect_marked = true;
  };
  const std::vector<Case> cases = {
      {"string to secret", Value::String("pw"), true, ""},
      {"optional secret to secret", Value::OptionalSecret("pw", false), true, ""},
      {"secret to secret", Value::Secret("pw"), true, ""},
      {"number to secret", Value::Int(1), true, "should be capsule, got number"},
      {"string to optional secret is not marked", Value::String("pw"), false, "", false},
      {"secret to optional secret is marked", Value::Secret("pw"), false, "", true},
      {"optional secret stays as it is", Value::OptionalSecret("pw", false), false, "", false},
      {"bool to optional secret", Value::Bool(false), false, "should be capsule, got bool"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    base::Result<Value> got = c.to_secret ? ConvertToSecret(c.in) : ConvertToOptionalSecret(c.in);
    if (!c.expect_error.empty()) {
      ASSERT_FALSE(got.ok());
      EXPECT_EQ(got.error().message(), c.expect_error);
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.error().message();
    EXPECT_EQ(got->SecretText(), "pw");
    EXPECT_EQ(got->IsOptionalSecret(), !c.to_secret);
    EXPECT_EQ(got->IsSecret(), c.expect_marked);
  }
}

TEST(ValueTest, Equality) {
  const Value fn = Fn();
  struct Case {
    std::string name;
    Value a, b;
    bool equal;
  };
  const std::vector<Case> cases = {
      {"null", Value::Null(), Value::Null(), true},
      {"int and float", Value::Int(3), Value::Float(3.0), true},
      {"int and float differ", Value::Int(3), Value::Float(3.5), false},
      {"uint and int", Value::Uint(7), Value::Int(7), true},
      // River compares a uint with an int as int64, so the largest uint equals -1.
      {"max uint and -1 compare as int64", Value::Uint(kMaxUint), Value::Int(-1), true},
      {"number and string", Value::Int(1), Value::String("1"), false},
      {"null and bool", Value::Null(), Value::Bool(false), false},
      {"strings", Value::String("a"), Value::String("a"), true},
      {"bools", Value::Bool(true), Value::Bool(false), false},
      {"arrays deep", Value::Array({Value::Int(1), Value::Array({Value::String("x")})}),
       Value::Array({Value::Float(1), Value::Array({Value::String("x")})}), true},
      {"arrays of different length", Value::Array({Value::Int(1)}),
       Value::Array({Value::Int(1), Value::Int(1)}), false},
      {"objects deep", Value::Object({{"a", Value::Object({{"b", Value::Int(1)}})}}),
       Value::Object({{"a", Value::Object({{"b", Value::Uint(1)}})}}), true},
      {"objects with other keys", Value::Object({{"a", Value::Null()}}),
       Value::Object({{"b", Value::Null()}}), false},
      {"objects with other values", Value::Object({{"a", Value::Int(1)}}),
       Value::Object({{"a", Value::Int(2)}}), false},
      {"a function never equals itself", fn, fn, false},
      {"secrets with the same text", Value::Secret("a"), Value::Secret("a"), true},
      {"secrets with other text", Value::Secret("a"), Value::Secret("b"), false},
      {"secret and marked optional secret", Value::Secret("a"), Value::OptionalSecret("a", true),
       false},
      {"optional secrets differ in marking", Value::OptionalSecret("a", true),
       Value::OptionalSecret("a", false), false},
      {"optional secret and string", Value::OptionalSecret("a", false), Value::String("a"), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.a == c.b, c.equal);
    EXPECT_EQ(c.b == c.a, c.equal);
  }
  // A capsule without its own Equals is equal only to itself.
  auto cap = std::make_shared<OtherCapsule>();
  EXPECT_TRUE(Value::FromCapsule(cap) == Value::FromCapsule(cap));
  EXPECT_FALSE(Value::FromCapsule(cap) == Value::FromCapsule(std::make_shared<OtherCapsule>()));
}

TEST(ValueTest, KindsAndAccessors) {
  EXPECT_EQ(Value().kind(), ValueKind::kNull);
  EXPECT_TRUE(Value::Null().is_null());
  EXPECT_EQ(Value::Int(-5).AsInt(), -5);
  EXPECT_EQ(Value::Uint(kMaxUint).AsUint(), kMaxUint);
  EXPECT_EQ(Value::Int(-5).AsFloat(), -5.0);
  EXPECT_EQ(Value::Uint(5).number_kind(), NumberKind::kUint);
  EXPECT_EQ(Value::Float(1).number_kind(), NumberKind::kFloat);
  EXPECT_EQ(Value::String("s").AsString(), "s");
  EXPECT_TRUE(Value::Bool(true).AsBool());
  EXPECT_EQ(Value::Array({Value::Int(1)}).AsArray().size(), 1u);
  EXPECT_EQ(Value::Object({{"k", Value::Int(1)}}).AsObject().count("k"), 1u);
  EXPECT_EQ(Fn().AsFunction().name, "f");
  EXPECT_EQ(Fn().kind(), ValueKind::kFunction);

  EXPECT_TRUE(Value::Secret("x").IsSecret());
  EXPECT_FALSE(Value::Secret("x").IsOptionalSecret());
  EXPECT_TRUE(Value::OptionalSecret("x", true).IsSecret());
  EXPECT_FALSE(Value::OptionalSecret("x", false).IsSecret());
  EXPECT_TRUE(Value::OptionalSecret("x", false).IsOptionalSecret());
  EXPECT_FALSE(Value::String("x").IsSecret());
  EXPECT_EQ(Value::Secret("x").kind(), ValueKind::kCapsule);
  EXPECT_EQ(Value::Secret("x").TypeName(), "secret");
  EXPECT_EQ(Value::OptionalSecret("x", false).TypeName(), "optional secret");
  EXPECT_EQ(Value::Int(1).TypeName(), "number");

  // Copies share storage: values are immutable.
  Value a = Value::Array({Value::String("shared")});
  Value b = a;
  EXPECT_EQ(&a.AsArray(), &b.AsArray());

  const std::vector<std::pair<ValueKind, std::string>> names = {
      {ValueKind::kNull, "null"},         {ValueKind::kNumber, "number"},
      {ValueKind::kString, "string"},     {ValueKind::kBool, "bool"},
      {ValueKind::kArray, "array"},       {ValueKind::kObject, "object"},
      {ValueKind::kFunction, "function"}, {ValueKind::kCapsule, "capsule"},
  };
  for (const auto& [k, name] : names) EXPECT_EQ(ValueKindName(k), name);
}

TEST(ValueTest, Json) {
  struct Case {
    std::string name;
    Value in;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {"null", Value::Null(), "null"},
      {"int", Value::Int(-9223372036854775807 - 1), "-9223372036854775808"},
      {"uint stays exact", Value::Uint(kMaxUint), "18446744073709551615"},
      {"float", Value::Float(2.5), "2.5"},
      {"string escapes", Value::String("a\"b\n"), R"("a\"b\n")"},
      {"bool", Value::Bool(false), "false"},
      {"object keys sorted", Value::Object({{"b", Value::Int(1)}, {"a", Value::Array({})}}),
       R"({"a":[],"b":1})"},
      {"secret hidden", Value::Secret("pw"), R"j("(secret)")j"},
      {"marked optional secret hidden", Value::OptionalSecret("pw", true), R"j("(secret)")j"},
      {"plain optional secret shown", Value::OptionalSecret("user", false), R"("user")"},
      {"function", Fn(), R"j("(function)")j"},
      {"other capsule", Value::FromCapsule(std::make_shared<OtherCapsule>()), R"j("(capsule)")j"},
      {"nested", Value::Array({Value::Object({{"k", Value::Secret("s")}})}),
       R"j([{"k":"(secret)"}])j"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ValueToJsonString(c.in), c.expect);
  }
  EXPECT_EQ(ValueToJson(Value::Uint(kMaxUint)).get<std::uint64_t>(), kMaxUint);
  EXPECT_EQ(ValueToJsonString(Value::Array({Value::Int(1)}), 2), "[\n  1\n]");
}

}  // namespace
}  // namespace starling::syntax
