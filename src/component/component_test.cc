#include "component/component.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "syntax/parser.h"

namespace starling::component {
namespace {

using namespace std::chrono_literals;
using syntax::Value;

struct Receiver {
  std::string name;
};

struct Rule {
  std::string action = "keep";
  std::vector<std::string> labels;
};

struct Tls {
  std::string ca;
  bool insecure = false;
};

struct TestArgs {
  std::string filename;
  std::chrono::nanoseconds poll_frequency = 1min;
  bool enabled = true;
  std::int64_t count = 0;
  std::uint64_t ucount = 0;
  int small = 0;
  double ratio = 0;
  std::vector<std::string> names;
  std::map<std::string, std::string> labels;
  Secret password;
  OptionalSecret user;
  std::optional<std::int64_t> limit;
  Value raw;
  std::vector<std::shared_ptr<Receiver>> forward_to;
  std::vector<Rule> rules;
  Tls tls;
  bool has_tls = false;
};

void DecodeTestArgs(ArgDecoder& d, TestArgs* a) {
  d.Required("filename", &a->filename);
  d.Optional("poll_frequency", &a->poll_frequency);
  d.Optional("enabled", &a->enabled);
  d.Optional("count", &a->count);
  d.Optional("ucount", &a->ucount);
  d.Optional("small", &a->small);
  d.Optional("ratio", &a->ratio);
  d.Optional("names", &a->names);
  d.Optional("labels", &a->labels);
  d.Optional("password", &a->password);
  d.Optional("user", &a->user);
  d.Optional("limit", &a->limit);
  d.Optional("raw", &a->raw);
  d.Optional("forward_to", &a->forward_to);
  d.Blocks<Rule>("rule", &a->rules, [](ArgDecoder& rd, Rule* r) {
    rd.Optional("action", &r->action);
    rd.Optional("labels", &r->labels);
  });
  d.Block<Tls>(
      "tls", &a->tls,
      [](ArgDecoder& td, Tls* t) {
        td.Required("ca", &t->ca);
        td.Optional("insecure", &t->insecure);
      },
      /*required=*/false, &a->has_tls);
}

// Parses `src` as the body of a block that starts at 1:1 and decodes it with DecodeTestArgs.
// Returns the formatted diagnostics ("" when none).
std::string Decode(const std::string& src, TestArgs* out) {
  syntax::ParseResult parsed = syntax::ParseFile("t", src);
  EXPECT_FALSE(parsed.diags.HasErrors()) << parsed.diags.Format("t");
  auto receiver = std::make_shared<Receiver>(Receiver{"r1"});
  syntax::Scope scope(syntax::ValueObject{{"recv", MakeHandle<Receiver>("receiver", receiver)}});
  auto evaluated = EvaluateArgs(parsed.file->body, scope, src);
  if (auto* d = std::get_if<syntax::Diagnostics>(&evaluated)) return d->Format("t");
  syntax::Diagnostics diags;
  ArgDecoder decoder(std::get<ArgBody>(evaluated), syntax::Pos{0, 1, 1}, syntax::Pos{}, &diags);
  DecodeTestArgs(decoder, out);
  bool ok = decoder.Finish();
  EXPECT_EQ(ok, !diags.HasErrors());
  return diags.Format("t");
}

struct DecodeCase {
  std::string name;
  std::string src;
  std::string want_diags;  // exact formatted diagnostics; "" for success
  std::function<void(const TestArgs&)> check;
};

TEST(ArgDecoderTest, Table) {
  const std::vector<DecodeCase> cases = {
      {"minimal", "filename = \"a\"", "",
       [](const TestArgs& a) {
         EXPECT_EQ(a.filename, "a");
         EXPECT_EQ(a.poll_frequency, 1min);  // default kept
         EXPECT_TRUE(a.enabled);
         EXPECT_FALSE(a.has_tls);
         EXPECT_TRUE(a.rules.empty());
       }},
      {"missing required", "", "t:1:1: missing required attribute \"filename\"\n"},
      {"unknown attribute", "filename = \"a\"\nfoo = 1",
       "t:2:1: unrecognized attribute name \"foo\"\n"},
      {"unknown block", "filename = \"a\"\nbar {}", "t:2:1: unrecognized block name \"bar\"\n"},
      {"bool from string", "filename = \"a\"\nenabled = \"yes\"",
       "t:2:11: \"yes\" should be bool, got string\n"},
      {"number converts to string", "filename = 5", "",
       [](const TestArgs& a) { EXPECT_EQ(a.filename, "5"); }},
      {"bool does not convert to string", "filename = true",
       "t:1:12: true should be string, got bool\n"},
      {"duration", "filename = \"a\"\npoll_frequency = \"1m30s\"", "",
       [](const TestArgs& a) { EXPECT_EQ(a.poll_frequency, 90s); }},
      {"bad duration", "filename = \"a\"\npoll_frequency = \"abc\"",
       "t:2:18: \"abc\" time: invalid duration \"abc\"\n"},
      {"duration without unit", "filename = \"a\"\npoll_frequency = \"10\"",
       "t:2:18: \"10\" time: missing unit in duration \"10\"\n"},
      {"int", "filename = \"a\"\ncount = -42", "",
       [](const TestArgs& a) { EXPECT_EQ(a.count, -42); }},
      {"int from numeric string", "filename = \"a\"\ncount = \"12\"", "",
       [](const TestArgs& a) { EXPECT_EQ(a.count, 12); }},
      {"int from fractional float", "filename = \"a\"\ncount = 1.5",
       "t:2:9: 1.5 cannot convert float 1.5 to an integer\n"},
      {"uint rejects negative", "filename = \"a\"\nucount = -1",
       "t:2:10: -1 number -1 is negative, want an unsigned integer\n"},
      {"int32 overflow", "filename = \"a\"\nsmall = 3000000000",
       "t:2:9: 3000000000 number 3000000000 overflows int32\n"},
      {"double", "filename = \"a\"\nratio = 0.5 / 2", "",
       [](const TestArgs& a) { EXPECT_DOUBLE_EQ(a.ratio, 0.25); }},
      {"array of strings", "filename = \"a\"\nnames = [\"x\", 2]", "",
       [](const TestArgs& a) {
         EXPECT_EQ(a.names, (std::vector<std::string>{"x", "2"}));
       }},
      {"array element of wrong type", "filename = \"a\"\nnames = [\"x\", true]",
       "t:2:9: [\"x\", true][1] should be string, got bool\n"},
      {"array of wrong type", "filename = \"a\"\nnames = \"x\"",
       "t:2:9: \"x\" should be array, got string\n"},
      {"map", "filename = \"a\"\nlabels = {b = \"2\", a = \"1\"}", "",
       [](const TestArgs& a) {
         EXPECT_EQ(a.labels, (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
       }},
      {"map value of wrong type", "filename = \"a\"\nlabels = {a = []}",
       "t:2:10: {a = []}[\"a\"] should be string, got array\n"},
      {"secret from string", "filename = \"a\"\npassword = \"pw\"\nuser = \"bob\"", "",
       [](const TestArgs& a) {
         EXPECT_EQ(a.password.text, "pw");
         EXPECT_EQ(a.user.text, "bob");
         EXPECT_FALSE(a.user.is_secret);
       }},
      {"secret from number", "filename = \"a\"\npassword = 5",
       "t:2:12: 5 should be capsule, got number\n"},
      {"optional absent", "filename = \"a\"", "",
       [](const TestArgs& a) { EXPECT_FALSE(a.limit.has_value()); }},
      {"optional present", "filename = \"a\"\nlimit = 3", "",
       [](const TestArgs& a) { EXPECT_EQ(a.limit, 3); }},
      {"null is the zero value", "filename = null\nlimit = null", "",
       [](const TestArgs& a) {
         EXPECT_EQ(a.filename, "");
         EXPECT_FALSE(a.limit.has_value());
       }},
      {"value passthrough", "filename = \"a\"\nraw = {x = [1, \"y\"]}", "",
       [](const TestArgs& a) {
         EXPECT_EQ(a.raw,
                   Value::Object({{"x", Value::Array({Value::Int(1), Value::String("y")})}}));
       }},
      {"capsule handles", "filename = \"a\"\nforward_to = [recv, recv]", "",
       [](const TestArgs& a) {
         ASSERT_EQ(a.forward_to.size(), 2u);
         EXPECT_EQ(a.forward_to[0]->name, "r1");
         EXPECT_EQ(a.forward_to[0], a.forward_to[1]);
       }},
      {"capsule of wrong type", "filename = \"a\"\nforward_to = [1]",
       "t:2:14: [1][0] should be capsule, got number\n"},
      {"repeated blocks", "filename = \"a\"\nrule { action = \"drop\" }\nrule { labels = [\"x\"] }",
       "",
       [](const TestArgs& a) {
         ASSERT_EQ(a.rules.size(), 2u);
         EXPECT_EQ(a.rules[0].action, "drop");
         EXPECT_EQ(a.rules[1].action, "keep");
         EXPECT_EQ(a.rules[1].labels, std::vector<std::string>{"x"});
       }},
      {"unknown attribute inside a block", "filename = \"a\"\nrule {\n  bogus = 1\n}",
       "t:3:3: unrecognized attribute name \"bogus\"\n"},
      {"single block", "filename = \"a\"\ntls {\n  ca = \"x\"\n}", "",
       [](const TestArgs& a) {
         EXPECT_TRUE(a.has_tls);
         EXPECT_EQ(a.tls.ca, "x");
         EXPECT_FALSE(a.tls.insecure);
       }},
      {"block given twice", "filename = \"a\"\ntls { ca = \"x\" }\ntls { ca = \"y\" }",
       "t:3:1: block \"tls\" may only be specified once\n"},
      {"required attribute inside a block", "filename = \"a\"\ntls {}",
       "t:2:1: missing required attribute \"ca\"\n"},
      {"block used as attribute", "filename = \"a\"\ntls = 1",
       "t:2:1: \"tls\" must be a block, but is used as an attribute\n"},
      {"attribute used as block", "filename {}",
       "t:1:1: \"filename\" must be an attribute, but is used as a block\n"},
      {"repeated attribute", "filename = \"a\"\nfilename = \"b\"",
       "t:2:1: attribute \"filename\" may only be provided once\n"},
      {"evaluation error", "filename = nope", "t:1:12: identifier \"nope\" does not exist\n"},
      {"every error reported", "foo = 1\nbar {}\nenabled = 1",
       "t:1:1: missing required attribute \"filename\"\n"
       "t:3:11: 1 should be bool, got number\n"
       "t:1:1: unrecognized attribute name \"foo\"\n"
       "t:2:1: unrecognized block name \"bar\"\n"},
  };
  ASSERT_GE(cases.size(), 25u);
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    TestArgs args;
    EXPECT_EQ(Decode(c.src, &args), c.want_diags);
    if (c.want_diags.empty() && c.check) c.check(args);
  }
}

TEST(ArgDecoderTest, AddErrorPointsAtTheValue) {
  syntax::ParseResult parsed = syntax::ParseFile("t", "port = 70000\n");
  auto evaluated = EvaluateArgs(parsed.file->body, syntax::Scope(syntax::ValueObject{}), "");
  syntax::Diagnostics diags;
  ArgDecoder d(std::get<ArgBody>(evaluated), syntax::Pos{0, 1, 1}, syntax::Pos{}, &diags);
  std::int64_t port = 0;
  EXPECT_TRUE(d.Optional("port", &port));
  if (port > 65535) d.AddError("port", "port out of range");
  EXPECT_FALSE(d.Finish());
  EXPECT_EQ(diags.Format("t"), "t:1:8: port out of range\n");
}

TEST(ArgBodyToValueTest, BlocksBecomeArraysOfObjects) {
  std::string src = "a = 1\nrule \"x\" { b = 2 }\nrule { b = 3 }\n";
  syntax::ParseResult parsed = syntax::ParseFile("t", src);
  auto evaluated = EvaluateArgs(parsed.file->body, syntax::Scope(syntax::ValueObject{}), src);
  Value v = ArgBodyToValue(std::get<ArgBody>(evaluated));
  Value want = Value::Object(
      {{"a", Value::Int(1)},
       {"rule", Value::Array({Value::Object({{"b", Value::Int(2)}, {"label", Value::String("x")}}),
                              Value::Object({{"b", Value::Int(3)}})})}});
  EXPECT_EQ(v, want);
}

TEST(ArgBodyToValueTest, SecretAttributesAreSecretValues) {
  std::string src = "token = \"s3cret\"\nuser = \"admin\"\n";
  syntax::ParseResult parsed = syntax::ParseFile("t", src);
  auto evaluated = EvaluateArgs(parsed.file->body, syntax::Scope(syntax::ValueObject{}), src);
  const ArgBody& body = std::get<ArgBody>(evaluated);
  syntax::Diagnostics diags;
  ArgDecoder d(body, syntax::Pos{0, 1, 1}, syntax::Pos{}, &diags);
  Secret token;
  std::string user;
  EXPECT_TRUE(d.Required("token", &token));
  EXPECT_TRUE(d.Required("user", &user));
  EXPECT_TRUE(d.Finish());
  EXPECT_EQ(token.text, "s3cret");
  Value v = ArgBodyToValue(body);
  const Value& shown = v.AsObject().at("token");
  EXPECT_TRUE(shown.IsSecret());
  EXPECT_EQ(shown, Value::Secret("s3cret"));  // reloads still compare by text
  EXPECT_EQ(v.AsObject().at("user"), Value::String("admin"));
}

class NopComponent : public Component {
 public:
  base::Status Run(std::stop_token) override { return base::Status::Ok(); }
  base::Status Update(const Arguments&) override { return base::Status::Ok(); }
};

Registration NopRegistration(std::string name) {
  return MakeRegistration<TestArgs>(
      std::move(name), DecodeTestArgs,
      [](const Options&, const TestArgs&) -> base::Result<std::unique_ptr<Component>> {
        return std::unique_ptr<Component>(std::make_unique<NopComponent>());
      });
}

TEST(RegistryTest, RegisterFindAndReject) {
  Registry reg;
  EXPECT_TRUE(reg.Register(NopRegistration("test.nop")).ok());
  EXPECT_TRUE(reg.Register(NopRegistration("local")).ok());
  EXPECT_EQ(reg.Register(NopRegistration("test.nop")).code(), base::StatusCode::kAlreadyExists);
  for (const char* bad : {"", "a..b", "1a", "a.b-c", ".a"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(reg.Register(NopRegistration(bad)).code(), base::StatusCode::kInvalidArgument);
  }
  Registration incomplete;
  incomplete.name = "x.y";
  EXPECT_EQ(reg.Register(incomplete).code(), base::StatusCode::kInvalidArgument);
  ASSERT_NE(reg.Find("test.nop"), nullptr);
  EXPECT_EQ(reg.Find("test.nop")->name, "test.nop");
  EXPECT_EQ(reg.Find("test"), nullptr);
  EXPECT_EQ(reg.Names(), (std::vector<std::string>{"local", "test.nop"}));
}

TEST(RegistryTest, TypedDecodeRoundTrip) {
  Registration r = NopRegistration("test.nop");
  std::string src = "filename = \"f\"\ncount = 7\n";
  syntax::ParseResult parsed = syntax::ParseFile("t", src);
  auto evaluated = EvaluateArgs(parsed.file->body, syntax::Scope(syntax::ValueObject{}), src);
  syntax::Diagnostics diags;
  ArgDecoder d(std::get<ArgBody>(evaluated), syntax::Pos{0, 1, 1}, syntax::Pos{}, &diags);
  std::unique_ptr<Arguments> args = r.decode(d);
  ASSERT_NE(args, nullptr);
  EXPECT_EQ(ArgsAs<TestArgs>(*args).filename, "f");
  EXPECT_EQ(ArgsAs<TestArgs>(*args).count, 7);

  syntax::Diagnostics bad_diags;
  const ArgBody empty;
  ArgDecoder bad(empty, syntax::Pos{0, 1, 1}, syntax::Pos{}, &bad_diags);
  EXPECT_EQ(r.decode(bad), nullptr);
  EXPECT_TRUE(bad_diags.HasErrors());
}

TEST(HandleTest, CapsuleEquality) {
  auto a = std::make_shared<Receiver>(Receiver{"a"});
  auto b = std::make_shared<Receiver>(Receiver{"a"});
  Value va = MakeHandle<Receiver>("receiver", a);
  EXPECT_EQ(va, MakeHandle<Receiver>("receiver", a));
  EXPECT_FALSE(va == MakeHandle<Receiver>("receiver", b));
  EXPECT_EQ(va.TypeName(), "receiver");
  EXPECT_EQ(HandleFromValue<Receiver>(va), a);
  EXPECT_EQ(HandleFromValue<Tls>(MakeHandle<Tls>("tls", std::make_shared<Tls>())) != nullptr, true);
  EXPECT_EQ(HandleFromValue<Receiver>(Value::Int(1)), nullptr);
}

TEST(HealthStateNameTest, Names) {
  EXPECT_EQ(HealthStateName(HealthState::kUnknown), "unknown");
  EXPECT_EQ(HealthStateName(HealthState::kHealthy), "healthy");
  EXPECT_EQ(HealthStateName(HealthState::kUnhealthy), "unhealthy");
  EXPECT_EQ(HealthStateName(HealthState::kExited), "exited");
}

}  // namespace
}  // namespace starling::component
