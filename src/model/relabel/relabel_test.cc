#include "model/relabel/relabel.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace starling::model::relabel {
namespace {

// A rule as written in a test table; the regex is compiled when the case runs. An unset regex
// is the default one.
struct Rule {
  std::vector<std::string> source_labels;
  std::string separator = ";";
  std::optional<std::string> regex;
  std::uint64_t modulus = 0;
  std::string target_label;
  std::string replacement = "$1";
  Action action = Action::kReplace;
};

Config ToConfig(const Rule& r) {
  Config c;
  c.source_labels = r.source_labels;
  c.separator = r.separator;
  if (r.regex) {
    auto re = Regex::Compile(*r.regex);
    EXPECT_TRUE(re.ok()) << *r.regex << ": " << re.error().ToString();
    if (re.ok()) c.regex = *re;
  }
  c.modulus = r.modulus;
  c.target_label = r.target_label;
  c.replacement = r.replacement;
  c.action = r.action;
  return c;
}

struct Case {
  std::string name;
  Labels input;
  std::vector<Rule> rules;
  std::optional<Labels> want;  // nullopt: dropped
};

constexpr auto kReplace = Action::kReplace;
constexpr auto kKeep = Action::kKeep;
constexpr auto kDrop = Action::kDrop;
constexpr auto kKeepEqual = Action::kKeepEqual;
constexpr auto kDropEqual = Action::kDropEqual;
constexpr auto kHashMod = Action::kHashMod;
constexpr auto kLabelMap = Action::kLabelMap;
constexpr auto kLabelDrop = Action::kLabelDrop;
constexpr auto kLabelKeep = Action::kLabelKeep;
constexpr auto kLowercase = Action::kLowercase;
constexpr auto kUppercase = Action::kUppercase;

const std::optional<Labels> kDropped = std::nullopt;

std::vector<Case> Cases() {
  const Labels abc{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}};
  const Labels ports{{"__tmp_port", "1234"}, {"__port1", "1234"}, {"__port2", "5678"}};
  const Labels nl{{"a", "line1\nline2"}, {"b", "bar"}, {"c", "baz"}};
  return {
      // Cases from Prometheus's relabel_test.go.
      {"replace with ${1}",
       abc,
       {{.source_labels = {"a"},
         .regex = "f(.*)",
         .target_label = "d",
         .replacement = "ch${1}-ch${1}"}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "choo-choo"}}},
      {"two replaces, the second sees the first",
       abc,
       {{.source_labels = {"a", "b"},
         .regex = "f(.*);(.*)r",
         .target_label = "a",
         .replacement = "b${1}${2}m"},
        {.source_labels = {"c", "a"},
         .regex = "(b).*b(.*)ba(.*)",
         .target_label = "d",
         .replacement = "$1$2$2$3"}},
       Labels{{"a", "boobam"}, {"b", "bar"}, {"c", "baz"}, {"d", "boooom"}}},
      {"drop stops processing",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = ".*o.*", .action = kDrop},
        {.source_labels = {"a"},
         .regex = "f(.*)",
         .target_label = "d",
         .replacement = "ch$1-ch$1"}},
       kDropped},
      {"drop on match",
       Labels{{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a"}, .regex = ".*o.*", .action = kDrop}},
       kDropped},
      {"replace with $1 of a middle group",
       Labels{{"a", "abc"}},
       {{.source_labels = {"a"}, .regex = ".*(b).*", .target_label = "d"}},
       Labels{{"a", "abc"}, {"d", "b"}}},
      {"drop without match keeps",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "no-match", .action = kDrop}},
       Labels{{"a", "foo"}}},
      {"drop regex is anchored around alternation",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "f|o", .action = kDrop}},
       Labels{{"a", "foo"}}},
      {"keep without match drops",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "no-match", .action = kKeep}},
       kDropped},
      {"keep on match",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "f.*", .action = kKeep}},
       Labels{{"a", "foo"}}},
      {"replace without match changes nothing",
       Labels{{"a", "boo"}},
       {{.source_labels = {"a"}, .regex = "f", .target_label = "b", .replacement = "bar"}},
       Labels{{"a", "boo"}}},
      {"blank replacement deletes the target",
       Labels{{"a", "foo"}, {"f", "baz"}},
       {{.source_labels = {"a"}, .regex = "(f).*", .target_label = "$1", .replacement = "$2"}},
       Labels{{"a", "foo"}}},
      {"hashmod 1000 of baz",
       abc,
       {{.source_labels = {"c"}, .modulus = 1000, .target_label = "d", .action = kHashMod}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "baz"}, {"d", "976"}}},
      {"hashmod 1000 of a value with a newline",
       Labels{{"a", "foo\nbar"}},
       {{.source_labels = {"a"}, .modulus = 1000, .target_label = "b", .action = kHashMod}},
       Labels{{"a", "foo\nbar"}, {"b", "734"}}},
      {"labelmap with a prefix",
       Labels{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
       {{.regex = "(b.*)", .replacement = "bar_${1}", .action = kLabelMap}},
       Labels{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}, {"bar_b1", "bar"}, {"bar_b2", "baz"}}},
      {"labelmap of meta labels",
       Labels{{"a", "foo"},
              {"__meta_my_bar", "aaa"},
              {"__meta_my_baz", "bbb"},
              {"__meta_other", "ccc"}},
       {{.regex = "__meta_(my.*)", .replacement = "${1}", .action = kLabelMap}},
       Labels{{"a", "foo"},
              {"__meta_my_bar", "aaa"},
              {"__meta_my_baz", "bbb"},
              {"__meta_other", "ccc"},
              {"my_bar", "aaa"},
              {"my_baz", "bbb"}}},
      {"target_label from a group",
       Labels{{"a", "some-name-value"}},
       {{.source_labels = {"a"},
         .regex = "some-([^-]+)-([^,]+)",
         .target_label = "${1}",
         .replacement = "${2}"}},
       Labels{{"a", "some-name-value"}, {"name", "value"}}},
      {"replacement from a missing group is empty",
       Labels{{"a", "some-name-value"}},
       {{.source_labels = {"a"},
         .regex = "some-([^-]+)-([^,]+)",
         .target_label = "${1}",
         .replacement = "${3}"}},
       Labels{{"a", "some-name-value"}}},
      {"target_label from missing groups is invalid",
       Labels{{"a", "some-name-0"}},
       {{.source_labels = {"a"},
         .regex = "some-([^-]+)-([^,]+)",
         .target_label = "${3}",
         .replacement = "${1}"},
        {.source_labels = {"a"},
         .regex = "some-([^-]+)-([^,]+)",
         .target_label = "${3}",
         .replacement = "${1}"},
        {.source_labels = {"a"},
         .regex = "some-([^-]+)(-[^,]+)",
         .target_label = "${3}",
         .replacement = "${1}"}},
       Labels{{"a", "some-name-0"}}},
      {"tags parsed into several labels",
       Labels{{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"}},
       {{.source_labels = {"__meta_sd_tags"},
         .regex = "(?:.+,|^)path:(/[^,]+).*",
         .target_label = "__metrics_path__",
         .replacement = "${1}"},
        {.source_labels = {"__meta_sd_tags"},
         .regex = "(?:.+,|^)job:([^,]+).*",
         .target_label = "job",
         .replacement = "${1}"},
        {.source_labels = {"__meta_sd_tags"},
         .regex = "(?:.+,|^)label:([^=]+)=([^,]+).*",
         .target_label = "${1}",
         .replacement = "${2}"}},
       Labels{{"__meta_sd_tags", "path:/secret,job:some-job,label:foo=bar"},
              {"__metrics_path__", "/secret"},
              {"job", "some-job"},
              {"foo", "bar"}}},
      {"labeldrop then replace recreates the label",
       Labels{{"__meta_kubernetes_pod_container_port_name", "foo"},
              {"__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"}},
       {{.regex = "^__meta_kubernetes_pod_container_port_name$", .action = kLabelDrop},
        {.source_labels = {"__meta_kubernetes_pod_annotation_XXX_metrics_port"},
         .regex = "(.+)",
         .target_label = "__meta_kubernetes_pod_container_port_name",
         .replacement = "metrics"},
        {.source_labels = {"__meta_kubernetes_pod_container_port_name"},
         .regex = "^metrics$",
         .action = kKeep}},
       Labels{{"__meta_kubernetes_pod_annotation_XXX_metrics_port", "9091"},
              {"__meta_kubernetes_pod_container_port_name", "metrics"}}},
      {"labelkeep",
       Labels{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
       {{.regex = "(b.*)", .action = kLabelKeep}},
       Labels{{"b1", "bar"}, {"b2", "baz"}}},
      {"labeldrop",
       Labels{{"a", "foo"}, {"b1", "bar"}, {"b2", "baz"}},
       {{.regex = "(b.*)", .action = kLabelDrop}},
       Labels{{"a", "foo"}}},
      {"uppercase and lowercase",
       Labels{{"foo", "bAr123Foo"}},
       {{.source_labels = {"foo"}, .target_label = "foo_uppercase", .action = kUppercase},
        {.source_labels = {"foo"}, .target_label = "foo_lowercase", .action = kLowercase}},
       Labels{
           {"foo", "bAr123Foo"}, {"foo_lowercase", "bar123foo"}, {"foo_uppercase", "BAR123FOO"}}},
      {"keepequal with equal values keeps",
       ports,
       {{.source_labels = {"__tmp_port"}, .target_label = "__port1", .action = kKeepEqual}},
       ports},
      {"dropequal with equal values drops",
       ports,
       {{.source_labels = {"__tmp_port"}, .target_label = "__port1", .action = kDropEqual}},
       kDropped},
      {"dropequal with different values keeps",
       ports,
       {{.source_labels = {"__tmp_port"}, .target_label = "__port2", .action = kDropEqual}},
       ports},
      {"keepequal with different values drops",
       ports,
       {{.source_labels = {"__tmp_port"}, .target_label = "__port2", .action = kKeepEqual}},
       kDropped},
      {"named group forms in target and replacement",
       Labels{{"a", "line1-line2"}},
       {{.source_labels = {"a"},
         .regex = "(line1).*(?P<second>line2)",
         .target_label = "label1_${1}",
         .replacement = "val_${second}"},
        {.source_labels = {"a"},
         .regex = "(line1).*(?P<second>line2)",
         .target_label = "label2_$1",
         .replacement = "val_$second"}},
       Labels{{"a", "line1-line2"}, {"label1_line1", "val_line2"}, {"label2_line1", "val_line2"}}},
      {"static value on a metric name match",
       Labels{{"__name__", "http_requests_total"}},
       {{.source_labels = {"__name__"},
         .regex = ".*_total$",
         .target_label = "__type__",
         .replacement = "counter"}},
       Labels{{"__name__", "http_requests_total"}, {"__type__", "counter"}}},

      // Defaults and separators.
      {"default rule copies the source value",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .target_label = "b"}},
       Labels{{"a", "foo"}, {"b", "foo"}}},
      {"static value without source labels",
       Labels{{"a", "foo"}},
       {{.target_label = "cluster", .replacement = "dev"}},
       Labels{{"a", "foo"}, {"cluster", "dev"}}},
      {"only target_label deletes that label",
       Labels{{"a", "foo"}, {"x", "1"}},
       {{.target_label = "x"}},
       Labels{{"a", "foo"}}},
      {"static empty replacement deletes the target",
       Labels{{"a", "foo"}, {"x", "1"}},
       {{.target_label = "x", .replacement = ""}},
       Labels{{"a", "foo"}}},
      {"replace overwrites an existing label",
       Labels{{"a", "foo"}, {"b", "old"}},
       {{.source_labels = {"a"}, .target_label = "b"}},
       Labels{{"a", "foo"}, {"b", "foo"}}},
      {"missing source label reads as empty",
       Labels{{"a", "foo"}},
       {{.source_labels = {"missing"}, .regex = "(.+)", .target_label = "x"}},
       Labels{{"a", "foo"}}},
      {"missing labels keep their separators",
       Labels{{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a", "missing", "b"}, .regex = "foo;;bar", .action = kKeep}},
       Labels{{"a", "foo"}, {"b", "bar"}}},
      {"custom separator",
       Labels{{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a", "b"}, .separator = "/", .target_label = "c"}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "foo/bar"}}},
      {"empty separator",
       Labels{{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a", "b"}, .separator = "", .target_label = "c"}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"c", "foobar"}}},
      {"drop with the default regex and no sources drops everything",
       Labels{{"a", "foo"}},
       {{.action = kDrop}},
       kDropped},
      {"keep with an empty regex keeps an absent label",
       Labels{{"a", "foo"}},
       {{.source_labels = {"missing"}, .regex = "", .action = kKeep}},
       Labels{{"a", "foo"}}},

      // Anchoring.
      {"keep needs a whole match",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "oo", .action = kKeep}},
       kDropped},
      {"alternation is grouped before anchoring",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "fo|foo", .action = kKeep}},
       Labels{{"a", "foo"}}},
      {"explicit anchors are harmless",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "^foo$", .action = kKeep}},
       Labels{{"a", "foo"}}},
      {"dot does not match a newline",
       nl,
       {{.source_labels = {"a"},
         .regex = "line1.*line2",
         .target_label = "d",
         .replacement = "match${1}"}},
       nl},
      {"flags inside the regex",
       Labels{{"a", "FOO"}},
       {{.source_labels = {"a"}, .regex = "(?i)foo", .action = kKeep}},
       Labels{{"a", "FOO"}}},
      {"(?s) lets dot match a newline",
       nl,
       {{.source_labels = {"a"},
         .regex = "(?s)line1.*line2",
         .target_label = "d",
         .replacement = "match"}},
       Labels{{"a", "line1\nline2"}, {"b", "bar"}, {"c", "baz"}, {"d", "match"}}},

      // Expansion forms.
      {"$$ is a literal dollar",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "(f)oo", .target_label = "b", .replacement = "$$1"}},
       Labels{{"a", "foo"}, {"b", "$1"}}},
      {"$1x names the group 1x",
       Labels{{"a", "foo"}, {"b", "old"}},
       {{.source_labels = {"a"}, .regex = "(f)oo", .target_label = "b", .replacement = "$1x"}},
       Labels{{"a", "foo"}}},
      {"${1}x is group 1 then x",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "(f)oo", .target_label = "b", .replacement = "${1}x"}},
       Labels{{"a", "foo"}, {"b", "fx"}}},
      {"$name stops at a non-word character",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"},
         .regex = "(?P<first>f)(?P<rest>.*)",
         .target_label = "b",
         .replacement = "$rest-$first"}},
       Labels{{"a", "foo"}, {"b", "oo-f"}}},
      {"$name_x is one name",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"},
         .regex = "(?P<rest>.*)",
         .target_label = "b",
         .replacement = "[$rest_x][${rest}_x]"}},
       Labels{{"a", "foo"}, {"b", "[][foo_x]"}}},
      {"unclosed brace is literal",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "(f)oo", .target_label = "b", .replacement = "${1"}},
       Labels{{"a", "foo"}, {"b", "${1"}}},
      {"dollar without a name is literal",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "(f)oo", .target_label = "b", .replacement = "$-${}-$"}},
       Labels{{"a", "foo"}, {"b", "$-${}-$"}}},
      {"group beyond the count is empty",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"},
         .regex = "(f)oo",
         .target_label = "b",
         .replacement = "x${5}y|$5y|"}},
       Labels{{"a", "foo"}, {"b", "xy||"}}},
      {"leading zero is a name, not a number",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "(f)oo", .target_label = "b", .replacement = "[$01]"}},
       Labels{{"a", "foo"}, {"b", "[]"}}},
      {"$0 is the whole match",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "f(o)o", .target_label = "b", .replacement = "<$0>"}},
       Labels{{"a", "foo"}, {"b", "<foo>"}}},
      {"group that did not take part is empty",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"},
         .regex = "(a)|(f)oo",
         .target_label = "b",
         .replacement = "[$1][$2]"}},
       Labels{{"a", "foo"}, {"b", "[][f]"}}},

      // Invalid label names.
      {"expanded target starting with a digit is ignored",
       Labels{{"a", "1abc"}},
       {{.source_labels = {"a"}, .regex = "(.*)", .target_label = "${1}", .replacement = "x"}},
       Labels{{"a", "1abc"}}},
      {"expanded target with a dash is ignored",
       Labels{{"a", "foo-bar"}},
       {{.source_labels = {"a"}, .regex = "(.*)", .target_label = "x_$1", .replacement = "x"}},
       Labels{{"a", "foo-bar"}}},
      {"expanded empty target is ignored",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "(a)?foo", .target_label = "$1", .replacement = "x"}},
       Labels{{"a", "foo"}}},
      {"labelmap keeps a name that is not valid, as Prometheus does",
       Labels{{"a1", "v"}},
       {{.regex = "a(.*)", .replacement = "$1", .action = kLabelMap}},
       Labels{{"1", "v"}, {"a1", "v"}}},

      // hashmod (expected values: MD5 of the joined values, last 8 bytes big-endian, mod n).
      {"hashmod joins with the separator",
       Labels{{"a", "foo"}, {"b", "bar"}},
       {{.source_labels = {"a", "b"},
         .separator = "/",
         .modulus = 1000,
         .target_label = "h",
         .action = kHashMod}},
       Labels{{"a", "foo"}, {"b", "bar"}, {"h", "857"}}},
      {"hashmod of an empty value",
       Labels{{"a", "foo"}},
       {{.source_labels = {"missing"}, .modulus = 7, .target_label = "h", .action = kHashMod}},
       Labels{{"a", "foo"}, {"h", "1"}}},
      {"hashmod of an address, then keep shard",
       Labels{{"__address__", "10.132.183.40:80"}},
       {{.source_labels = {"__address__"},
         .modulus = 3,
         .target_label = "__tmp_hash",
         .action = kHashMod},
        {.source_labels = {"__tmp_hash"}, .regex = "^1$", .action = kKeep},
        {.regex = "__tmp_hash", .action = kLabelDrop}},
       Labels{{"__address__", "10.132.183.40:80"}}},
      {"hashmod modulus 1",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .modulus = 1, .target_label = "h", .action = kHashMod}},
       Labels{{"a", "foo"}, {"h", "0"}}},

      // labelmap, labeldrop, labelkeep.
      {"labelmap without match changes nothing",
       Labels{{"a", "foo"}},
       {{.regex = "__meta_(.*)", .action = kLabelMap}},
       Labels{{"a", "foo"}}},
      {"labelmap overwrites an existing label",
       Labels{{"__meta_x", "1"}, {"x", "old"}},
       {{.regex = "__meta_(.*)", .action = kLabelMap}},
       Labels{{"__meta_x", "1"}, {"x", "1"}}},
      {"labelmap visits base labels before added ones",
       Labels{{"b_x", "base"}},
       {{.target_label = "a_x", .replacement = "added"},
        {.regex = "[ab]_(x)", .replacement = "$1", .action = kLabelMap}},
       Labels{{"a_x", "added"}, {"b_x", "base"}, {"x", "added"}}},
      {"labeldrop regex is anchored",
       Labels{{"b", "1"}, {"b1", "2"}},
       {{.regex = "b", .action = kLabelDrop}},
       Labels{{"b1", "2"}}},
      {"labelkeep matching nothing leaves an empty set",
       Labels{{"a", "1"}},
       {{.regex = "zzz", .action = kLabelKeep}},
       Labels{}},
      {"a dropped label reads as empty later",
       Labels{{"a", "foo"}, {"b", "bar"}},
       {{.regex = "a", .action = kLabelDrop},
        {.source_labels = {"a"}, .regex = "", .action = kKeep}},
       Labels{{"b", "bar"}}},

      // lowercase, uppercase, keepequal, dropequal.
      {"lowercase in place",
       Labels{{"foo", "MiXeD"}},
       {{.source_labels = {"foo"}, .target_label = "foo", .action = kLowercase}},
       Labels{{"foo", "mixed"}}},
      {"case mapping beyond ASCII",
       Labels{{"a", "\xC3\xA9t\xC3\xA9"}},
       {{.source_labels = {"a"}, .target_label = "u", .action = kUppercase}},
       Labels{{"a", "\xC3\xA9t\xC3\xA9"}, {"u", "\xC3\x89T\xC3\x89"}}},
      {"invalid UTF-8 becomes U+FFFD when case mapping",
       Labels{{"a", "\xC3\xA9\xFF"}},
       {{.source_labels = {"a"}, .target_label = "l", .action = kLowercase}},
       Labels{{"a", "\xC3\xA9\xFF"}, {"l", "\xC3\xA9\xEF\xBF\xBD"}}},
      {"lowercase of an empty value deletes the target",
       Labels{{"t", "x"}},
       {{.source_labels = {"missing"}, .target_label = "t", .action = kLowercase}},
       Labels{}},
      {"keepequal with both absent keeps",
       Labels{{"a", "1"}},
       {{.source_labels = {"missing"}, .target_label = "other", .action = kKeepEqual}},
       Labels{{"a", "1"}}},
      {"dropequal with both absent drops",
       Labels{{"a", "1"}},
       {{.source_labels = {"missing"}, .target_label = "other", .action = kDropEqual}},
       kDropped},
      {"keepequal compares the joined value",
       Labels{{"a", "x"}, {"b", "y"}, {"c", "x;y"}},
       {{.source_labels = {"a", "b"}, .target_label = "c", .action = kKeepEqual}},
       Labels{{"a", "x"}, {"b", "y"}, {"c", "x;y"}}},
      {"keep sees an earlier replace",
       Labels{{"a", "foo"}},
       {{.source_labels = {"a"}, .regex = "f(.*)", .target_label = "b", .replacement = "$1"},
        {.source_labels = {"b"}, .regex = "oo", .action = kKeep}},
       Labels{{"a", "foo"}, {"b", "oo"}}},
  };
}

TEST(RelabelTest, Table) {
  const std::vector<Case> cases = Cases();
  EXPECT_GE(cases.size(), 60u);
  LabelsBuilder reused;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Config> configs;
    for (const Rule& r : c.rules) {
      configs.push_back(ToConfig(r));
      // Prometheus validates every rule of its own table; so do we, except for the rule that
      // is only reachable by constructing a Config directly.
      if (c.name.find("only target_label") == std::string::npos) {
        EXPECT_TRUE(Validate(configs.back()).ok()) << Validate(configs.back()).ToString();
      }
    }
    const std::optional<Labels> got = Process(c.input, configs);
    ASSERT_EQ(got.has_value(), c.want.has_value()) << (got ? got->String() : "dropped");
    if (got) {
      EXPECT_EQ(*got, *c.want) << got->String() << " want " << c.want->String();
    }

    // The builder variant, with a builder reused across cases, agrees.
    reused.Reset(c.input);
    const bool keep = ProcessBuilder(reused, configs);
    ASSERT_EQ(keep, c.want.has_value());
    if (keep) {
      Labels built;
      reused.Build(&built);
      EXPECT_EQ(built, *c.want);
    }
  }
}

TEST(RelabelTest, ProcessLeavesInputUntouched) {
  const Labels in{{"a", "foo"}};
  const std::vector<Config> configs = {ToConfig({.target_label = "a", .replacement = "bar"})};
  auto out = Process(in, configs);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->Get("a"), "bar");
  EXPECT_EQ(in.Get("a"), "foo");
}

struct ValidateCase {
  std::string name;
  Rule rule;
  std::string want_error;  // empty: valid
};

TEST(RelabelTest, Validate) {
  const std::vector<ValidateCase> cases = {
      {"hashmod needs a modulus",
       {.target_label = "h", .action = kHashMod},
       "relabel configuration for hashmod requires non-zero modulus"},
      {"replace needs a target",
       {.action = kReplace},
       "relabel configuration for replace action requires 'target_label' value"},
      {"lowercase needs a target",
       {.action = kLowercase},
       "relabel configuration for lowercase action requires 'target_label' value"},
      {"hashmod needs a target",
       {.modulus = 3, .action = kHashMod},
       "relabel configuration for hashmod action requires 'target_label' value"},
      {"keepequal needs a target",
       {.action = kKeepEqual},
       "relabel configuration for keepequal action requires 'target_label' value"},
      {"lowercase target is not a template",
       {.target_label = "${3}", .action = kLowercase},
       "\"${3}\" is invalid 'target_label' for lowercase action"},
      {"replace target template", {.regex = "some-([^-]+)-([^,]+)", .target_label = "${3}"}, ""},
      {"replace target template starting with a digit",
       {.regex = "some-([^-]+)-([^,]+)", .target_label = "0${3}"},
       "\"0${3}\" is invalid 'target_label' for replace action"},
      {"replace target template starting with a dash",
       {.regex = "some-([^-]+)-([^,]+)", .target_label = "-${3}"},
       "\"-${3}\" is invalid 'target_label' for replace action"},
      {"replace plain target with a dash",
       {.target_label = "foo-bar"},
       "\"foo-bar\" is invalid 'target_label' for replace action"},
      {"replace target with a quote is quoted as Go does",
       {.target_label = "a\"b\n"},
       "\"a\\\"b\\n\" is invalid 'target_label' for replace action"},
      {"uppercase with a replacement",
       {.target_label = "u", .replacement = "x", .action = kUppercase},
       "'replacement' can not be set for uppercase action"},
      {"labelmap replacement must look like a name",
       {.regex = "(.*)", .replacement = "foo-$1", .action = kLabelMap},
       "\"foo-$1\" is invalid 'replacement' for labelmap action"},
      {"labelmap $1",
       {.regex = "__meta_kubernetes_pod_label_(strimzi_io_.+)",
        .replacement = "$1",
        .action = kLabelMap},
       ""},
      {"labelmap ${1}", {.regex = "__meta_(.+)", .replacement = "${1}", .action = kLabelMap}, ""},
      {"hashmod target must be a name",
       {.modulus = 2, .target_label = "1abc", .action = kHashMod},
       "\"1abc\" is invalid 'target_label' for hashmod action"},
      {"keepequal with a regex",
       {.regex = "x", .target_label = "t", .action = kKeepEqual},
       "keepequal action requires only 'source_labels' and `target_label`, and no other fields"},
      {"keepequal with the default pattern written out",
       {.regex = "(.*)", .target_label = "t", .action = kKeepEqual},
       "keepequal action requires only 'source_labels' and `target_label`, and no other fields"},
      {"dropequal with a separator",
       {.separator = ",", .target_label = "t", .action = kDropEqual},
       "dropequal action requires only 'source_labels' and `target_label`, and no other fields"},
      {"dropequal with a modulus",
       {.modulus = 3, .target_label = "t", .action = kDropEqual},
       "dropequal action requires only 'source_labels' and `target_label`, and no other fields"},
      {"dropequal alone", {.source_labels = {"a"}, .target_label = "t", .action = kDropEqual}, ""},
      {"labeldrop with source labels",
       {.source_labels = {"a"}, .regex = "a", .action = kLabelDrop},
       "labeldrop action requires only 'regex', and no other fields"},
      {"labelkeep with a target",
       {.regex = "a", .target_label = "t", .action = kLabelKeep},
       "labelkeep action requires only 'regex', and no other fields"},
      {"labelkeep with a modulus",
       {.regex = "a", .modulus = 1, .action = kLabelKeep},
       "labelkeep action requires only 'regex', and no other fields"},
      {"labeldrop with a replacement",
       {.regex = "a", .replacement = "x", .action = kLabelDrop},
       "labeldrop action requires only 'regex', and no other fields"},
      {"labeldrop alone", {.regex = "a", .action = kLabelDrop}, ""},
      {"keep alone", {.source_labels = {"a"}, .action = kKeep}, ""},
      {"drop alone", {.action = kDrop}, ""},
  };
  for (const ValidateCase& c : cases) {
    SCOPED_TRACE(c.name);
    const base::Status s = Validate(ToConfig(c.rule));
    if (c.want_error.empty()) {
      EXPECT_TRUE(s.ok()) << s.ToString();
    } else {
      EXPECT_EQ(s.code(), base::StatusCode::kInvalidArgument);
      EXPECT_EQ(s.message(), c.want_error);
    }
  }
}

// Prometheus's relabelTarget rule for templated target labels, seen through Validate.
TEST(RelabelTest, TargetLabelTemplates) {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"-label", false},   {"label", true},        {"label${1}", true},
      {"${1}label", true}, {"${1}", true},         {"${", false},
      {"$", false},        {"${}", false},         {"foo${", false},
      {"$1", true},        {"asd$2asd", true},     {"-foo${1}bar-", false},
      {"_${1}_", true},    {"foo${bar}foo", true}, {"bar.foo${1}bar", false},
  };
  for (const auto& [target, valid] : cases) {
    SCOPED_TRACE(target);
    EXPECT_EQ(Validate(ToConfig({.target_label = target})).ok(), valid);
  }
}

TEST(RelabelTest, ParseAction) {
  const std::vector<std::pair<std::string, Action>> ok = {
      {"replace", kReplace},     {"Replace", kReplace},     {"KEEP", kKeep},
      {"drop", kDrop},           {"keepequal", kKeepEqual}, {"DropEqual", kDropEqual},
      {"HashMod", kHashMod},     {"labelMap", kLabelMap},   {"labeldrop", kLabelDrop},
      {"labelkeep", kLabelKeep}, {"lowercase", kLowercase}, {"UPPERCASE", kUppercase},
  };
  for (const auto& [name, action] : ok) {
    SCOPED_TRACE(name);
    auto got = ParseAction(name);
    ASSERT_TRUE(got.ok()) << got.error().ToString();
    EXPECT_EQ(*got, action);
    EXPECT_EQ(ParseAction(ActionName(action)).value(), action);
  }
  for (std::string bad : {"", "foo", "replace "}) {
    SCOPED_TRACE(bad);
    auto got = ParseAction(bad);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().message(), "unknown relabel action \"" + bad + "\"");
  }
}

TEST(RelabelTest, RegexCompile) {
  auto bad = Regex::Compile("(abc");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error().message().find("error parsing regexp: missing closing )"),
            std::string::npos)
      << bad.error().message();

  auto re = Regex::Compile("a(b)(?P<c>c)?");
  ASSERT_TRUE(re.ok());
  EXPECT_EQ(re->pattern(), "a(b)(?P<c>c)?");
  EXPECT_EQ(re->NumGroups(), 2);
  EXPECT_FALSE(re->IsDefault());
  EXPECT_TRUE(Regex().IsDefault());
  EXPECT_EQ(Regex().pattern(), "(.*)");
  EXPECT_TRUE(re->Matches("ab"));
  EXPECT_FALSE(re->Matches("xab"));
  std::vector<std::string_view> groups;
  ASSERT_TRUE(re->Match("abc", &groups));
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0], "abc");
  EXPECT_EQ(groups[1], "b");
  EXPECT_EQ(groups[2], "c");
  std::string out;
  re->Expand("$c-${1}-$$-$9", groups, &out);
  EXPECT_EQ(out, "c-b-$-");
}

TEST(RelabelTest, ManyGroups) {
  // More groups than the matcher's inline buffer holds.
  std::string pattern;
  for (int i = 0; i < 20; ++i) pattern += "(.)";
  auto re = Regex::Compile(pattern);
  ASSERT_TRUE(re.ok());
  const std::vector<Config> configs = {ToConfig(
      {.source_labels = {"a"}, .regex = pattern, .target_label = "b", .replacement = "${20}${1}"})};
  auto out = Process(Labels{{"a", "abcdefghijklmnopqrst"}}, configs);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->Get("b"), "ta");
}

}  // namespace
}  // namespace starling::model::relabel
