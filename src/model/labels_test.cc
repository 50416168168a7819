#include "model/labels.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "model/internal/go_text.h"

namespace starling::model {
namespace {

TEST(LabelsTest, SortsAndKeepsTheLastDuplicate) {
  const Labels ls{{"c", "3"}, {"a", "1"}, {"b", "2"}, {"a", "9"}};
  ASSERT_EQ(ls.Size(), 3u);
  EXPECT_EQ(ls[0], Label("a", "9"));
  EXPECT_EQ(ls[1], Label("b", "2"));
  EXPECT_EQ(ls[2], Label("c", "3"));
  EXPECT_EQ(Labels(std::vector<Label>{{"b", "2"}, {"a", "1"}}), (Labels{{"a", "1"}, {"b", "2"}}));
}

TEST(LabelsTest, NonMetaHashIgnoresMetaLabelsOnly) {
  const Labels base = {{"__address__", "a:1"}, {"env", "prod"}};
  const Labels with_meta = {
      {"__address__", "a:1"}, {"__meta_kubernetes_pod_name", "p"}, {"env", "prod"}};
  EXPECT_EQ(base.NonMetaHash(), with_meta.NonMetaHash());
  EXPECT_NE(base.NonMetaHash(), Labels({{"__address__", "a:2"}, {"env", "prod"}}).NonMetaHash());
  EXPECT_NE(base.NonMetaHash(), Labels({{"__address__", "a:1"}, {"env", "dev"}}).NonMetaHash());
  // Name and value boundaries count: {ab="c"} is not {a="bc"}.
  EXPECT_NE(Labels({{"ab", "c"}}).NonMetaHash(), Labels({{"a", "bc"}}).NonMetaHash());
  // Not the same function as Hash(), which covers every label.
  EXPECT_NE(with_meta.NonMetaHash(), with_meta.Hash());
}

TEST(LabelsTest, GetHasSize) {
  const Labels ls{{"job", "node"}, {"instance", "h:1"}, {"empty", ""}};
  EXPECT_EQ(ls.Get("job"), "node");
  EXPECT_EQ(ls.Get("instance"), "h:1");
  EXPECT_EQ(ls.Get("missing"), "");
  EXPECT_TRUE(ls.Has("empty"));
  EXPECT_FALSE(ls.Has("missing"));
  EXPECT_FALSE(ls.Empty());
  EXPECT_TRUE(Labels().Empty());
  std::vector<std::string> names;
  for (const auto& [name, value] : ls) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"empty", "instance", "job"}));
}

TEST(LabelsTest, String) {
  const std::vector<std::pair<Labels, std::string>> cases = {
      {Labels{}, "{}"},
      {Labels{{"a", "b"}}, R"({a="b"})"},
      {Labels{{"c", "d"}, {"a", "b"}}, R"({a="b", c="d"})"},
      {Labels{{"a", "q\"\\\n\t"}}, R"({a="q\"\\\n\t"})"},
      {Labels{{"a", "\x01\x7f"}}, R"({a="\x01\x7f"})"},
      {Labels{{"a", "h\xC3\xA9"}}, "{a=\"h\xC3\xA9\"}"},
      {Labels{{"a", "\xFF"}}, R"({a="\xff"})"},
      {Labels{{"a", "\xC2\xA0\xE2\x80\xA8"}}, R"({a="\u00a0\u2028"})"},
  };
  for (const auto& [ls, want] : cases) {
    SCOPED_TRACE(want);
    EXPECT_EQ(ls.String(), want);
  }
}

TEST(LabelsTest, EqualityAndOrder) {
  const Labels a{{"a", "1"}};
  const Labels ab{{"a", "1"}, {"b", "1"}};
  const Labels a2{{"a", "2"}};
  const Labels b{{"b", "0"}};
  EXPECT_EQ(a, (Labels{{"a", "1"}}));
  EXPECT_NE(a, ab);
  EXPECT_LT(a, ab);  // a prefix sorts first
  EXPECT_LT(ab, a2);
  EXPECT_LT(a2, b);
}

TEST(LabelsTest, NameValidity) {
  const std::vector<std::pair<std::string, bool>> label_names = {
      {"a", true},    {"_", true},         {"__name__", true}, {"A_b9", true},
      {"", false},    {"9a", false},       {"a-b", false},     {"a:b", false},
      {"a.b", false}, {"\xC3\xA9", false}, {" a", false},      {"a b", false},
  };
  for (const auto& [name, valid] : label_names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(IsValidLabelName(name), valid);
  }
  const std::vector<std::pair<std::string, bool>> metric_names = {
      {"up", true}, {"a:b_c", true}, {":x", true},   {"_x9", true},
      {"", false},  {"9x", false},   {"a-b", false}, {"a.b", false},
  };
  for (const auto& [name, valid] : metric_names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(IsValidMetricName(name), valid);
  }
}

TEST(LabelsBuilderTest, SetDelGet) {
  const Labels base{{"a", "1"}, {"b", "2"}};
  LabelsBuilder b(base);
  b.Set("c", "3").Set("a", "10").Del("b");
  EXPECT_EQ(b.Get("a"), "10");
  EXPECT_EQ(b.Get("b"), "");
  EXPECT_FALSE(b.Has("b"));
  EXPECT_EQ(b.Get("c"), "3");
  EXPECT_EQ(b.Labels(), (Labels{{"a", "10"}, {"c", "3"}}));
  // The base is not modified.
  EXPECT_EQ(base, (Labels{{"a", "1"}, {"b", "2"}}));

  // Setting a deleted label brings it back; an empty value deletes.
  b.Set("b", "20").Set("c", "");
  EXPECT_EQ(b.Labels(), (Labels{{"a", "10"}, {"b", "20"}}));
  b.Del("b");
  EXPECT_EQ(b.Labels(), (Labels{{"a", "10"}}));
}

TEST(LabelsBuilderTest, UntouchedBuilderReturnsTheBase) {
  const Labels base{{"a", "1"}};
  LabelsBuilder b(base);
  EXPECT_EQ(b.Labels(), base);
  EXPECT_EQ(LabelsBuilder().Labels(), Labels());
}

TEST(LabelsBuilderTest, SetFromItsOwnViews) {
  LabelsBuilder b(Labels{{"a", "base"}});
  b.Set("x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  // Values that point into the builder survive the builder growing.
  for (int i = 0; i < 20; ++i) b.Set("y" + std::to_string(i), b.Get("x"));
  b.Del(b.Get("a").empty() ? "none" : "a");
  EXPECT_EQ(b.Get("y19"), "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  EXPECT_EQ(b.Labels().Size(), 21u);
}

TEST(LabelsBuilderTest, RangeVisitsBaseThenAddedOverASnapshot) {
  LabelsBuilder b(Labels{{"b", "1"}, {"c", "2"}, {"d", "3"}});
  b.Set("z", "9").Set("a", "0").Set("c", "20").Del("d");
  std::vector<std::pair<std::string, std::string>> seen;
  b.Range([&](std::string_view n, std::string_view v) {
    seen.emplace_back(n, v);
    b.Set(std::string(n) + "_copy", v);  // not visited: Range works on a snapshot
    b.Del(n);
  });
  const std::vector<std::pair<std::string, std::string>> want = {
      {"b", "1"}, {"z", "9"}, {"a", "0"}, {"c", "20"}};
  EXPECT_EQ(seen, want);
  EXPECT_EQ(b.Labels(),
            (Labels{{"a_copy", "0"}, {"b_copy", "1"}, {"c_copy", "20"}, {"z_copy", "9"}}));
}

TEST(LabelsBuilderTest, ResetAndBuildReuse) {
  LabelsBuilder b(Labels{{"a", "1"}});
  b.Set("b", "2");
  Labels out{{"old", "x"}, {"older", "y"}, {"oldest", "z"}};
  b.Build(&out);
  EXPECT_EQ(out, (Labels{{"a", "1"}, {"b", "2"}}));
  b.Reset(Labels{{"c", "3"}});
  EXPECT_EQ(b.Get("b"), "");
  b.Build(&out);
  EXPECT_EQ(out, (Labels{{"c", "3"}}));
  Labels moved{{"m", "1"}};
  b.Reset(std::move(moved));
  EXPECT_EQ(b.Labels(), (Labels{{"m", "1"}}));
}

}  // namespace
}  // namespace starling::model

namespace starling::model {
namespace {

TEST(LabelsTest, HashSeparatesNamesAndValues) {
  EXPECT_EQ((Labels{{"a", "1"}, {"b", "2"}}).Hash(), (Labels{{"b", "2"}, {"a", "1"}}).Hash());
  EXPECT_NE((Labels{{"a", "1"}}).Hash(), (Labels{{"a", "2"}}).Hash());
  EXPECT_NE((Labels{{"ab", "c"}}).Hash(), (Labels{{"a", "bc"}}).Hash());
  EXPECT_NE((Labels{{"a", ""}, {"b", "c"}}).Hash(), (Labels{{"a", "b"}, {"c", ""}}).Hash());
  EXPECT_NE(Labels().Hash(), (Labels{{"a", "1"}}).Hash());
}

}  // namespace
}  // namespace starling::model
