#include "components/discovery/relabel/discovery_relabel.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "components/common/relabel_rules.h"
#include "components/common/testing.h"

namespace starling::components {
namespace {

using syntax::Value;

struct Case {
  std::string name;
  std::string body;  // rule blocks
  std::vector<Target> in;
  std::vector<Target> want;
};

TEST(DiscoveryRelabelTest, RelabelsTargets) {
  const std::vector<Case> cases = {
      {"no rules keep everything", "", {{{"a", "1"}}, {{"b", "2"}}}, {{{"a", "1"}}, {{"b", "2"}}}},
      {"keep",
       "rule {\n source_labels = [\"env\"]\n regex = \"prod\"\n action = \"keep\"\n}",
       {{{"env", "prod"}, {"x", "1"}}, {{"env", "dev"}}},
       {{{"env", "prod"}, {"x", "1"}}}},
      {"replace with capture",
       "rule {\n source_labels = [\"__address__\"]\n regex = \"(.*):\\\\d+\"\n"
       " target_label = \"host\"\n}",
       {{{"__address__", "db:9100"}}},
       {{{"__address__", "db:9100"}, {"host", "db"}}}},
      {"labeldrop to empty drops the target",
       "rule {\n regex = \".*\"\n action = \"labeldrop\"\n}",
       {{{"a", "1"}}},
       {}},
      {"rules apply in order",
       "rule {\n target_label = \"a\"\n replacement = \"x\"\n}\n"
       "rule {\n source_labels = [\"a\"]\n regex = \"x\"\n action = \"drop\"\n}",
       {{{"b", "1"}}},
       {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<component::Arguments> args;
    syntax::ValueObject vars{{"in", TargetsToValue(c.in)}};
    ASSERT_EQ(
        testing::DecodeBody(DiscoveryRelabelRegistration(), "targets = in\n" + c.body, &args, vars),
        "");
    testing::ExportSink sink;
    component::Options opts;
    opts.on_state_change = sink.Callback();
    auto comp = DiscoveryRelabelRegistration().build(opts, *args);
    ASSERT_TRUE(comp.ok());
    Value exports = sink.Latest();
    ASSERT_EQ(exports.kind(), syntax::ValueKind::kObject);
    EXPECT_EQ(exports.AsObject().at("output"), TargetsToValue(c.want));
    auto rules = RelabelRulesFromValue(exports.AsObject().at("rules"));
    ASSERT_NE(rules, nullptr);
    EXPECT_EQ(rules->rules.size(), component::ArgsAs<DiscoveryRelabelArgs>(*args).rules.size());
  }
}

TEST(DiscoveryRelabelTest, UpdateRepublishesAndRunStops) {
  testing::ExportSink sink;
  component::Options opts;
  opts.on_state_change = sink.Callback();
  DiscoveryRelabelArgs a;
  a.targets = {{{"a", "1"}}};
  auto comp = DiscoveryRelabelRegistration().build(
      opts, component::TypedArguments<DiscoveryRelabelArgs>(a));
  ASSERT_TRUE(comp.ok());
  testing::Runner run(comp->get());
  a.targets.push_back({{"b", "2"}});
  ASSERT_TRUE((*comp)->Update(component::TypedArguments<DiscoveryRelabelArgs>(a)).ok());
  EXPECT_EQ(sink.Latest().AsObject().at("output"), TargetsToValue(a.targets));
  EXPECT_EQ(sink.Count(), 2);
  EXPECT_TRUE(run.Stop().ok());
}

TEST(DiscoveryRelabelTest, DecodeErrors) {
  std::unique_ptr<component::Arguments> args;
  EXPECT_EQ(testing::DecodeBody(DiscoveryRelabelRegistration(), "", &args),
            "t:1:1: missing required attribute \"targets\"\n");
  EXPECT_EQ(testing::DecodeBody(DiscoveryRelabelRegistration(), "targets = [{a = true}]", &args),
            "t:1:11: [{a = true}][0][\"a\"] should be string, got bool\n");
  EXPECT_EQ(testing::DecodeBody(DiscoveryRelabelRegistration(), "targets = []\nrule {\n}\n", &args),
            "t:2:1: relabel configuration for replace action requires 'target_label' value\n");
}

}  // namespace
}  // namespace starling::components
