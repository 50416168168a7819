#include "components/common/targets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace starling::components {
namespace {

using syntax::Value;

TEST(TargetsTest, RoundTrip) {
  std::vector<Target> targets = {{{"__address__", "a:1"}, {"job", "x"}}, {}};
  Value v = TargetsToValue(targets);
  ASSERT_EQ(v.kind(), syntax::ValueKind::kArray);
  ASSERT_EQ(v.AsArray().size(), 2u);
  EXPECT_EQ(v.AsArray()[0].AsObject().at("job"), Value::String("x"));
  auto back = TargetsFromValue(v);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, targets);
}

TEST(TargetsTest, FromValueErrors) {
  struct Case {
    std::string name;
    Value v;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"not an array", Value::String("x"), "should be array, got string"},
      {"element not an object", Value::Array({Value::Int(1)}), "[0] should be object, got number"},
      {"value not a string", Value::Array({Value::Object({{"a", Value::Bool(true)}})}),
       "[0][\"a\"] should be string, got bool"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = TargetsFromValue(c.v);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message(), c.want);
  }
}

TEST(TargetsTest, Labels) {
  Target t = {{"b", "2"}, {"a", "1"}};
  model::Labels l = TargetToLabels(t);
  EXPECT_EQ(l.String(), "{a=\"1\", b=\"2\"}");
  EXPECT_EQ(LabelsToTarget(l), t);
}

}  // namespace
}  // namespace starling::components
