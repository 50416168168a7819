#include "service/web_api.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "component/component.h"

namespace starling::service {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

TEST(FormatUpdatedTimeTest, MatchesGoTimeJson) {
  struct Case {
    std::string name;
    base::Clock::TimePoint t;
    std::string want;
  };
  const base::Clock::TimePoint t0{std::chrono::seconds(1700000000)};
  const Case cases[] = {
      {"never set is Go's zero time", base::Clock::TimePoint{}, "0001-01-01T00:00:00Z"},
      {"whole seconds", t0, "2023-11-14T22:13:20Z"},
      {"fraction trimmed", t0 + 120ms, "2023-11-14T22:13:20.12Z"},
      {"nanoseconds", t0 + 1ns, "2023-11-14T22:13:20.000000001Z"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(FormatUpdatedTime(c.t), c.want);
  }
}

TEST(ComponentToJsonTest, FieldsFollowAlloysShape) {
  runtime::ComponentInfo info;
  info.id = "discovery.file.local";
  info.name = "discovery.file";
  info.label = "local";
  info.health = {component::HealthState::kHealthy, "started component",
                 base::Clock::TimePoint{std::chrono::seconds(1700000000)}};
  info.references = {"local.file.a"};
  info.arguments = syntax::Value::Object(
      {{"password", syntax::Value::Secret("hunter2")}, {"n", syntax::Value::Int(3)}});
  info.exports = syntax::Value::Object({{"targets", syntax::Value::Array({})}});

  json summary = ComponentToJson(info, false);
  EXPECT_EQ(summary, json::parse(R"({
    "name": "discovery.file", "type": "block", "localID": "discovery.file.local",
    "moduleID": "", "label": "local", "referencesTo": ["local.file.a"], "referencedBy": [],
    "health": {"state": "healthy", "message": "started component",
               "updatedTime": "2023-11-14T22:13:20Z"}})"))
      << summary.dump();

  json full = ComponentToJson(info, true);
  EXPECT_EQ(full["arguments"], json::parse(R"j({"n": 3, "password": "(secret)"})j"));
  EXPECT_EQ(full["exports"], json::parse(R"({"targets": []})"));
  EXPECT_TRUE(full["debugInfo"].is_null());
  EXPECT_EQ(full.dump().find("hunter2"), std::string::npos);
}

// A component that exports its `input` as `output` and reports its token in DebugInfo.
struct EchoArgs {
  syntax::Value input;
  component::Secret token;
};

class Echo final : public component::Component {
 public:
  Echo(const component::Options& o, const EchoArgs& a) : token_(a.token.text) {
    o.on_state_change(syntax::Value::Object({{"output", a.input}}));
  }
  base::Status Run(std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock l(mu);
    cv.wait(l, stop, [] { return false; });
    return base::Status::Ok();
  }
  base::Status Update(const component::Arguments&) override { return base::Status::Ok(); }
  syntax::Value DebugInfo() const override {
    return syntax::Value::Object({{"token", syntax::Value::Secret(token_)}});
  }

 private:
  std::string token_;
};

TEST(WebApiTest, ListsAndGetsComponentsOfARuntime) {
  component::Registry registry;
  ASSERT_TRUE(registry
                  .Register(component::MakeRegistration<EchoArgs>(
                      "test.echo",
                      [](component::ArgDecoder& d, EchoArgs* a) {
                        d.Required("input", &a->input);
                        d.Optional("token", &a->token);
                      },
                      [](const component::Options& o,
                         const EchoArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
                        return std::unique_ptr<component::Component>(std::make_unique<Echo>(o, a));
                      }))
                  .ok());
  runtime::Runtime::Options opts;
  opts.registry = &registry;
  opts.apply_logging = false;
  runtime::Runtime rt(opts);
  syntax::Diagnostics diags = rt.Load("test.river", R"(
test.echo "b" {
  input = test.echo.a.output + 1
}
test.echo "a" {
  input = 41
  token = "s3cret"
}
)");
  ASSERT_FALSE(diags.HasErrors()) << diags.Format("test.river");
  ASSERT_TRUE(rt.WaitIdle(10s));

  net::Response list = ListComponents(rt);
  EXPECT_EQ(list.status, 200);
  EXPECT_EQ(list.content_type, "application/json");
  json l = json::parse(list.body);
  ASSERT_TRUE(l.is_array());
  ASSERT_EQ(l.size(), 2u) << l.dump();
  EXPECT_EQ(l[0]["localID"], "test.echo.a");
  EXPECT_EQ(l[0]["referencedBy"], json::parse(R"(["test.echo.b"])"));
  EXPECT_EQ(l[1]["localID"], "test.echo.b");
  EXPECT_EQ(l[1]["referencesTo"], json::parse(R"(["test.echo.a"])"));
  for (const json& c : l) {
    EXPECT_FALSE(c.contains("exports")) << c.dump();
    EXPECT_EQ(c["health"]["state"], "healthy") << c.dump();
  }

  struct Case {
    std::string id;
    int status;
    std::string pointer;  // into the reply
    json want;
  };
  const Case cases[] = {
      {"test.echo.a", 200, "/exports", json::parse(R"({"output": 41})")},
      {"test.echo.b", 200, "/exports", json::parse(R"({"output": 42})")},
      {"test.echo.b", 200, "/arguments/input", 42},
      {"test.echo.a", 200, "/debugInfo", json::parse(R"j({"token": "(secret)"})j")},
      {"test.echo.a", 200, "/health/state", "healthy"},
      {"test.echo", 404, "", nullptr},
      {"", 404, "", nullptr},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id + " " + c.pointer);
    net::Response r = GetComponent(rt, c.id);
    EXPECT_EQ(r.status, c.status);
    if (c.status != 200) continue;
    json j = json::parse(r.body);
    EXPECT_EQ(j["localID"], c.id);
    EXPECT_EQ(j.value(json::json_pointer(c.pointer), json()), c.want) << j.dump();
  }
  rt.Stop();
}

}  // namespace
}  // namespace starling::service
