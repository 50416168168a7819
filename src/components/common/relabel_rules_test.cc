#include "components/common/relabel_rules.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "components/common/testing.h"

namespace starling::components {
namespace {

namespace relabel = model::relabel;

struct Args {
  std::vector<relabel::Config> rules;
};

component::Registration TestRegistration() {
  return component::MakeRegistration<Args>(
      "test.rules",
      [](component::ArgDecoder& d, Args* a) { DecodeRelabelRuleBlocks(d, &a->rules); },
      [](const component::Options&,
         const Args&) -> base::Result<std::unique_ptr<component::Component>> {
        return base::Status::Unimplemented("not built in tests");
      });
}

struct Case {
  std::string name;
  std::string src;
  std::string want_diags;
  int want_rules = 0;
  std::function<void(const std::vector<relabel::Config>&)> check;
};

TEST(RelabelRulesTest, DecodeTable) {
  const std::vector<Case> cases = {
      {"defaults", "rule {\n  target_label = \"x\"\n}", "", 1,
       [](const std::vector<relabel::Config>& r) {
         EXPECT_EQ(r[0].separator, ";");
         EXPECT_TRUE(r[0].regex.IsDefault());
         EXPECT_EQ(r[0].replacement, "$1");
         EXPECT_EQ(r[0].action, relabel::Action::kReplace);
         EXPECT_EQ(r[0].modulus, 0u);
         EXPECT_TRUE(r[0].source_labels.empty());
       }},
      {"every field",
       "rule {\n  source_labels = [\"a\", \"b\"]\n  separator = \"-\"\n  regex = \"(.+)\"\n"
       "  modulus = 4\n  target_label = \"t\"\n  replacement = \"$1x\"\n  action = \"hashmod\"\n}",
       "", 1,
       [](const std::vector<relabel::Config>& r) {
         EXPECT_EQ(r[0].source_labels, (std::vector<std::string>{"a", "b"}));
         EXPECT_EQ(r[0].separator, "-");
         EXPECT_EQ(r[0].regex.pattern(), "(.+)");
         EXPECT_EQ(r[0].modulus, 4u);
         EXPECT_EQ(r[0].target_label, "t");
         EXPECT_EQ(r[0].replacement, "$1x");
         EXPECT_EQ(r[0].action, relabel::Action::kHashMod);
       }},
      {"several rules", "rule {\n  action = \"keep\"\n}\nrule {\n  action = \"drop\"\n}", "", 2},
      {"keepequal",
       "rule {\n  action = \"keepequal\"\n  source_labels = [\"a\"]\n"
       "  target_label = \"b\"\n}",
       "", 1},
      {"unknown action", "rule {\n  action = \"explode\"\n}",
       "t:2:12: unrecognized action type \"explode\"\n"},
      {"action is case-sensitive", "rule {\n  action = \"Keep\"\n}",
       "t:2:12: unrecognized action type \"Keep\"\n"},
      {"bad regex", "rule {\n  regex = \"(\"\n  action = \"keep\"\n}",
       "t:2:11: error parsing regexp: missing closing ): `(`\n"},
      {"replace needs target_label", "rule {\n  source_labels = [\"a\"]\n}",
       "t:1:1: relabel configuration for replace action requires 'target_label' value\n"},
      {"hashmod needs modulus", "rule {\n  action = \"hashmod\"\n  target_label = \"x\"\n}",
       "t:1:1: relabel configuration for hashmod requires non-zero modulus\n"},
      {"second rule positioned",
       "rule {\n  action = \"keep\"\n}\nrule {\n  action = \"lowercase\"\n}",
       "t:4:1: relabel configuration for lowercase action requires 'target_label' value\n"},
      {"labeldrop only regex", "rule {\n  action = \"labeldrop\"\n  target_label = \"x\"\n}",
       "t:1:1: labeldrop action requires only 'regex', and no other fields\n"},
      {"wrong type", "rule {\n  modulus = \"x\"\n  action = \"keep\"\n}",
       "t:2:13: \"x\" should be number, got string\n"},
      {"unknown attribute", "rule {\n  sources = []\n  action = \"keep\"\n}",
       "t:2:3: unrecognized attribute name \"sources\"\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<component::Arguments> args;
    std::string diags = testing::DecodeBody(TestRegistration(), c.src, &args);
    if (c.name == "bad regex") {
      // RE2's wording of the error after the position is its own; check the prefix.
      EXPECT_EQ(diags.rfind("t:2:11: error parsing regexp: ", 0), 0u) << diags;
      continue;
    }
    if (c.name == "wrong type") {
      EXPECT_EQ(diags.rfind("t:2:13: \"x\" ", 0), 0u) << diags;
      continue;
    }
    EXPECT_EQ(diags, c.want_diags);
    if (!c.want_diags.empty()) continue;
    ASSERT_NE(args, nullptr);
    const auto& rules = component::ArgsAs<Args>(*args).rules;
    ASSERT_EQ(rules.size(), static_cast<std::size_t>(c.want_rules));
    if (c.check) c.check(rules);
  }
}

TEST(RelabelRulesTest, CapsuleRoundTrip) {
  auto rules = std::make_shared<const RelabelRules>(RelabelRules{{relabel::Config{}}});
  syntax::Value v = RelabelRulesToValue(rules);
  EXPECT_EQ(v.kind(), syntax::ValueKind::kCapsule);
  EXPECT_EQ(v.TypeName(), kRelabelRulesType);
  EXPECT_EQ(RelabelRulesFromValue(v), rules);
  EXPECT_EQ(v, RelabelRulesToValue(rules));
  EXPECT_EQ(RelabelRulesFromValue(syntax::Value::String("x")), nullptr);
}

}  // namespace
}  // namespace starling::components
