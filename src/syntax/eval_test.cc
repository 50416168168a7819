#include "syntax/eval.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "syntax/parser.h"
#include "syntax/value_json.h"

namespace starling::syntax {
namespace {

// add(a, b): two numbers; reports a wrong count on the call and a wrong type on the argument.
base::Result<Value> Add(std::span<const Value> args, int* bad_arg) {
  if (args.size() != 2) {
    return base::Status::InvalidArgument("expected 2 args, got " + std::to_string(args.size()));
  }
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].kind() != ValueKind::kNumber) {
      *bad_arg = static_cast<int>(i);
      return base::Status::InvalidArgument("should be number, got " +
                                           std::string(ValueKindName(args[i].kind())));
    }
  }
  return Value::Float(args[0].AsFloat() + args[1].AsFloat());
}

Scope TestScope() {
  Value add = Value::Func("add", Add);
  return Scope(ValueObject{
      {"num", Value::Int(42)},
      {"obj",
       Value::Object({{"inner", Value::Object({{"list", Value::Array({Value::Int(1), Value::Int(2),
                                                                      Value::Int(3)})}})}})},
      {"add", add},
      {"fns", Value::Object({{"add", add}})},
      {"secret", Value::Secret("pw")},
      {"opt_plain", Value::OptionalSecret("user", false)},
      {"opt_secret", Value::OptionalSecret("hidden", true)},
  });
}

// The result of evaluating src: its JSON, or "line:col: message".
std::string EvalToText(const std::string& src, const Scope& scope) {
  Diagnostics diags;
  ExprPtr expr = ParseExpression(src, &diags);
  if (expr == nullptr || diags.HasErrors()) return "parse error: " + diags.Format("");
  std::variant<Value, Diagnostic> r = Evaluate(*expr, scope);
  if (const auto* d = std::get_if<Diagnostic>(&r)) {
    return std::to_string(d->start.line) + ":" + std::to_string(d->start.col) + ": " + d->message;
  }
  return ValueToJsonString(std::get<Value>(r));
}

struct Case {
  std::string src;
  std::string want;  // JSON of the value, or "line:col: message"
};

TEST(EvalTest, Expressions) {
  const std::vector<Case> cases = {
      // Number literals: int64, else uint64, else float64; a leading 0 is octal.
      {"12", "12"},
      {"010", "8"},
      {"08", "8.0"},  // not octal, not decimal int: River falls back to a float
      {".5", "0.5"},
      {"1.", "1.0"},
      {"1e3", "1000.0"},
      {"2.5e-1", "0.25"},
      {"9223372036854775807", "9223372036854775807"},
      {"9223372036854775808", "9223372036854775808"},
      {"18446744073709551616", "1.8446744073709552e+19"},
      {"-9223372036854775808", "-9223372036854775808"},
      {"1e400", "1:1: strconv.ParseFloat: parsing \"1e400\": value out of range"},
      // Arithmetic.
      {"3 + 5", "8"},
      {"3 - 5", "-2"},
      {"3 * 5", "15"},
      {"7 / 2", "3"},
      {"-7 / 2", "-3"},
      {"7 % 3", "1"},
      {"-7 % 3", "-1"},
      {"7.0 / 2", "3.5"},
      {"7 / 2.0", "3.5"},
      {"5.5 % 2", "1.5"},
      {"3.0 / 5.0", "0.6"},
      {"3 ^ 5", "243"},
      {"2 ^ 0", "1"},
      {"2 ^ -1", "2"},  // River's integer power returns the base for a negative exponent
      {"2.0 ^ 0.5", "1.4142135623730951"},
      {"42.0^-2", "0.0005668934240362812"},
      {"2 ^ 64", "0"},  // wraps like Go's int64 multiplication
      {"3 ^ 9223372036854775807", "-6148914691236517205"},
      {"9223372036854775807 + 1", "-9223372036854775808"},
      {"18446744073709551615 + 1", "0"},
      {"18446744073709551615 - 1", "-2"},  // uint with int computes as int64
      {"-9223372036854775807 - 1 / -1", "-9223372036854775806"},
      {"(-9223372036854775807 - 1) / -1", "-9223372036854775808"},
      {"(-9223372036854775807 - 1) % -1", "0"},
      // Precedence and associativity.
      {"1 + 2 * 3", "7"},
      {"(1 + 2) * 3", "9"},
      {"10 - 2 - 3", "5"},
      {"2 * 3 % 4", "2"},
      {"-2 ^ 2", "4"},
      {"2 ^ 3 ^ 2", "512"},
      {"- -3", "3"},
      {"1 + 2 == 3 && 2 > 1", "true"},
      {"!true || true", "true"},
      {"1 < 2 == true", "true"},
      // Strings.
      {R"("a" + "b")", R"("ab")"},
      {R"("a\tb\"c\\")", R"("a\tb\"c\\")"},
      {R"("\u00e9\x41\101")", R"("éAA")"},
      {"`raw\\n`", R"("raw\\n")"},
      {R"("a" < "b")", "true"},
      {R"("b" <= "a")", "false"},
      {R"("abc" > "abd")", "false"},
      {R"("ab" >= "ab")", "true"},
      // Bools: both sides are evaluated and checked, no short circuit.
      {"true && false", "false"},
      {"true || false", "true"},
      {"!true", "false"},
      {"!false && true", "true"},
      {"true || 1", "1:9: 1 should be one of [bool] for binop ||, got number"},
      {R"(false && "x")", R"(1:10: "x" should be one of [bool] for binop &&, got string)"},
      {"1 && true", "1:1: 1 should be one of [bool] for binop &&, got number"},
      {"true || nope", "1:9: identifier \"nope\" does not exist"},
      // Equality between any kinds; ordering on numbers and strings.
      {"3 == 3.0", "true"},
      {R"(1 == "1")", "false"},
      {R"(1 != "1")", "true"},
      {"null == null", "true"},
      {"null != 0", "true"},
      {"[1, [2]] == [1, [2.0]]", "true"},
      {"{a = 1, b = [true]} == {b = [true], a = 1}", "true"},
      {"{a = 1} == {a = 1, b = 2}", "false"},
      {"[1, 2] != [1, 2, 3]", "true"},
      {"[] == []", "true"},
      {"add == add", "false"},  // functions are never equal
      {"3 < 5", "true"},
      {"5 <= 5", "true"},
      {"3 > 5", "false"},
      {"3 >= 3.5", "false"},
      {"18446744073709551615 > 1", "false"},  // compared as int64 (-1)
      {R"(1 < "a")", R"(1:5: "a" should be number, got string)"},
      {R"("a" < 1)", "1:7: 1 should be string, got number"},
      {"true < false", "1:1: true should be one of [number string] for binop <, got bool"},
      // Arrays, objects, access and index.
      {"[]", "[]"},
      {R"([1, "two", [3.5]])", R"([1,"two",[3.5]])"},
      {"{ a = 5, b = 10 }", R"({"a":5,"b":10})"},
      {R"({ "quoted key" = 1 })", R"({"quoted key":1})"},
      {"{ a = 1, a = 2 }", R"({"a":2})"},
      {"{ a = 15 }.a", "15"},
      {"{ a = { b = 12 } }.a.b", "12"},
      {R"({}["foo"])", "null"},
      {R"({ a = 1 }["a"])", "1"},
      {"[0, 1, 2][1]", "1"},
      {"[[1,2,3]][0][2]", "3"},
      {"[1, 2][1.9]", "2"},
      {"obj.inner.list[2]", "3"},
      {R"(obj["inner"].list[0])", "1"},
      {"[1, 2][2]", "1:8: 2 index 2 is out of range of array with length 2"},
      {"[1, 2][-1]", "1:8: -1 index -1 is out of range of array with length 2"},
      {R"([1]["a"])", R"(1:5: "a" should be number, got string)"},
      {"{a = 1}[0]", "1:9: 0 should be string, got number"},
      {"{ a = 15 }.b", "1:12: field \"b\" does not exist"},
      {"obj.inner.nope", "1:11: field \"nope\" does not exist"},
      {"num.a", "1:1: num cannot access field \"a\" on value of type number"},
      {R"("abc"[0])", R"(1:1: "abc" expected object or array, got string)"},
      {"(1 + 2)[0]", "1:1: (1 + 2) expected object or array, got number"},
      {"[1, nope]", "1:5: identifier \"nope\" does not exist"},
      {"{ a = [1, -true] }", "1:12: true should be number, got bool"},
      // Unary operators.
      {"-15", "-15"},
      {"-1.5", "-1.5"},
      {"-9223372036854775808 - 1", "9223372036854775807"},
      {R"(-"a")", R"(1:2: "a" should be number, got string)"},
      {"!1", "1:2: 1 should be bool, got number"},
      {"!(1 + 1)", "1:2: (1 + 1) should be bool, got number"},
      // Binary type errors point at the operand at fault.
      {R"(1 + "a")", R"(1:5: "a" should be number, got string)"},
      {R"("a" + 1)", "1:7: 1 should be string, got number"},
      {"true + 1", "1:1: true should be one of [number string] for binop +, got bool"},
      {R"(1 - "a")", R"(1:5: "a" should be one of [number] for binop -, got string)"},
      {"[1] * 2", "1:1: [1] should be one of [number] for binop *, got array"},
      {"null ^ 2", "1:1: null should be one of [number] for binop ^, got null"},
      {"1 + add", "1:5: add should be one of [number string] for binop +, got function"},
      {"1 / 0", "1:5: 0 divide by zero error"},
      {"1 % 0", "1:5: 0 divide by zero error"},
      {"1.5 / 0.0", "1:7: 0.0 divide by zero error"},
      {"1 / (2 - 2)", "1:5: (2 - 2) divide by zero error"},
      {"18446744073709551615 / 0", "1:24: 0 divide by zero error"},
      // Identifiers and calls.
      {"num", "42"},
      {"foobar", "1:1: identifier \"foobar\" does not exist"},
      {"num()", "1:1: num should be function, got number"},
      {"add(1, 2)", "3.0"},
      {"fns.add(2, 3)", "5.0"},
      {"add(1)", "1:1: add expected 2 args, got 1"},
      {"fns.add()", "1:1: fns.add expected 2 args, got 0"},
      {R"(add(1, "x"))", R"(1:8: "x" should be number, got string)"},
      {"add(1, nope)", "1:8: identifier \"nope\" does not exist"},
      {"add", R"j("(function)")j"},
      // Secrets from the scope.
      {"secret", R"j("(secret)")j"},
      {"opt_secret", R"j("(secret)")j"},
      {"opt_plain", R"("user")"},
      {R"(opt_plain + "!")", R"("user!")"},
      {R"("x" + opt_plain)", R"("xuser")"},
      {R"(opt_plain == "user")", "true"},
      {R"(opt_plain < "z")", "true"},
      {"secret == secret", "true"},
      {R"(secret == "pw")", "false"},
      {R"(secret + "x")", "1:1: secret should be one of [number string] for binop +, got capsule"},
      {R"("x" + opt_secret)",
       "1:7: opt_secret should be one of [number string] for binop +, got capsule"},
      {"[secret][0]", R"j("(secret)")j"},
      // Positions across lines.
      {"[\n  1,\n  \"a\" + 1,\n]", "3:9: 1 should be string, got number"},
      {"{\n  a = 1,\n  b = a,\n}", "3:7: identifier \"a\" does not exist"},
  };
  const Scope scope = TestScope();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    EXPECT_EQ(EvalToText(c.src, scope), c.want);
  }
}

TEST(EvalTest, NumberKinds) {
  struct KindCase {
    std::string src;
    NumberKind kind;
  };
  const std::vector<KindCase> cases = {
      {"1", NumberKind::kInt},
      {"9223372036854775808", NumberKind::kUint},
      {"18446744073709551615 + 1", NumberKind::kInt},  // uint with int is int
      {"9223372036854775808 + 9223372036854775808", NumberKind::kUint},
      {"18446744073709551615 + -1", NumberKind::kInt},
      {"-9223372036854775808", NumberKind::kInt},
      {"1 + 1.0", NumberKind::kFloat},
      {"7 / 2", NumberKind::kInt},
      {"2 ^ 2", NumberKind::kInt},
      {"2 ^ 2.0", NumberKind::kFloat},
      {"08", NumberKind::kFloat},
      {".5", NumberKind::kFloat},
  };
  const Scope scope({});
  for (const KindCase& c : cases) {
    SCOPED_TRACE(c.src);
    Diagnostics diags;
    ExprPtr expr = ParseExpression(c.src, &diags);
    ASSERT_NE(expr, nullptr) << diags.Format("");
    auto r = Evaluate(*expr, scope);
    ASSERT_TRUE(std::holds_alternative<Value>(r)) << std::get<Diagnostic>(r).message;
    const Value& v = std::get<Value>(r);
    ASSERT_EQ(v.kind(), ValueKind::kNumber);
    EXPECT_EQ(v.number_kind(), c.kind);
  }
}

TEST(EvalTest, ScopeLookupFallsBackToParent) {
  Scope parent(ValueObject{{"a", Value::Int(1)}, {"b", Value::Int(2)}});
  Scope child(ValueObject{{"b", Value::Int(20)}}, &parent);
  ASSERT_NE(child.Lookup("a"), nullptr);
  EXPECT_EQ(*child.Lookup("a"), Value::Int(1));
  EXPECT_EQ(*child.Lookup("b"), Value::Int(20));
  EXPECT_EQ(child.Lookup("c"), nullptr);
  EXPECT_EQ(EvalToText("a + b", child), "21");
}

TEST(EvalTest, HandBuiltTreesWithMissingChildrenFail) {
  auto bin = std::make_unique<BinaryExpr>();
  bin->op = Token::kAdd;
  bin->op_pos = Pos{2, 1, 3};
  auto lit = std::make_unique<LiteralExpr>();
  lit->token = Token::kNumber;
  lit->value = "1";
  lit->pos = Pos{0, 1, 1};
  bin->left = std::move(lit);
  auto r = Evaluate(*bin, Scope({}));
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(r));
  EXPECT_EQ(std::get<Diagnostic>(r).message, "incomplete expression");

  auto call = std::make_unique<CallExpr>();
  auto r2 = Evaluate(*call, Scope({}));
  ASSERT_TRUE(std::holds_alternative<Diagnostic>(r2));
}

std::string FormatStmts(const std::vector<EvaluatedStmt>& stmts) {
  std::string out;
  for (const EvaluatedStmt& s : stmts) {
    if (s.is_block) {
      out += s.name;
      if (s.has_label) out += " \"" + s.label + "\"";
      out += " {" + FormatStmts(s.body) + "} ";
    } else {
      out += s.name + "=" + ValueToJsonString(s.value) + " ";
    }
  }
  return out;
}

TEST(EvalTest, Body) {
  const std::string src =
      "a = 1\n"
      "prometheus.scrape \"default\" {\n"
      "  targets = [{\"__address__\" = \"localhost:\" + \"9090\"}]\n"
      "  inner {\n"
      "    a = num * 2\n"
      "  }\n"
      "}\n"
      "b = { x = a_value }\n";
  ParseResult parsed = ParseFile("test.river", src);
  ASSERT_FALSE(parsed.diags.HasErrors()) << parsed.diags.Format("test.river");
  Scope scope(ValueObject{{"num", Value::Int(21)}, {"a_value", Value::String("v")}});
  auto r = EvaluateBody(parsed.file->body, scope);
  ASSERT_TRUE(std::holds_alternative<std::vector<EvaluatedStmt>>(r))
      << std::get<Diagnostics>(r).Format("test.river");
  EXPECT_EQ(FormatStmts(std::get<std::vector<EvaluatedStmt>>(r)),
            "a=1 prometheus.scrape \"default\" {targets=[{\"__address__\":\"localhost:9090\"}] "
            "inner {a=42 } } b={\"x\":\"v\"} ");
}

TEST(EvalTest, BodyReportsEveryError) {
  const std::string src =
      "a = 1\n"
      "b = \"x\" + 1\n"
      "a = 2\n"
      "blk \"lbl\" {\n"
      "  a = 3\n"
      "  c = nope\n"
      "  c = 1 / 0\n"
      "}\n"
      "b = 1\n";
  ParseResult parsed = ParseFile("test.river", src);
  ASSERT_FALSE(parsed.diags.HasErrors()) << parsed.diags.Format("test.river");
  auto r = EvaluateBody(parsed.file->body, Scope({}));
  ASSERT_TRUE(std::holds_alternative<Diagnostics>(r));
  EXPECT_EQ(std::get<Diagnostics>(r).Format("test.river"),
            "test.river:2:11: 1 should be string, got number\n"
            "test.river:3:1: attribute \"a\" may only be provided once\n"
            "test.river:6:7: identifier \"nope\" does not exist\n"
            "test.river:7:3: attribute \"c\" may only be provided once\n"
            "test.river:9:1: attribute \"b\" may only be provided once\n");
  // The repeat's diagnostic spans the whole attribute.
  const Diagnostic& dup = std::get<Diagnostics>(r).list()[1];
  EXPECT_EQ(dup.end.line, 3);
  EXPECT_EQ(dup.end.col, 6);
}

// The standard library is in scope without being passed in, as in River, and its errors are
// positioned at the argument at fault or at the called expression.
TEST(EvalTest, WithStandardLibrary) {
  const std::vector<Case> cases = {
      {"concat([1], [2, 3])", "[1,2,3]"},
      {"array.concat([1], [2])", "[1,2]"},
      {"concat([1], 2)", "1:13: 2 should be array, got number"},
      {"env()", "1:1: env expected 1 args, got 0"},
      {R"(json_decode("{"))", "1:1: json_decode unexpected end of JSON input"},
      {"nonsensitive(secret)", R"("pw")"},
      {"nonsensitive(1)", "1:14: 1 should be capsule, got number"},
      {R"(1 + env("STARLING_EVAL_TEST_UNSET"))",
       R"(1:5: env("STARLING_EVAL_TEST_UNSET") should be number, got string)"},
  };
  const Scope scope = TestScope();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    EXPECT_EQ(EvalToText(c.src, scope), c.want);
  }
}

}  // namespace
}  // namespace starling::syntax
