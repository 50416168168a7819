#include "components/discovery/file/discovery_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "components/common/testing.h"

namespace starling::components {
namespace {

using namespace std::chrono_literals;
using syntax::Value;

struct ParseCase {
  std::string name;
  std::string path;
  std::string content;
  std::vector<Target> want;
  std::string want_error;
};

TEST(DiscoveryFileTest, ParseFileSd) {
  const std::vector<ParseCase> cases = {
      {"json",
       "/sd/a.json",
       R"([{"targets": ["h1:80", "h2:80"], "labels": {"job": "web"}}, {"targets": ["h3:1"]}])",
       {{{"__address__", "h1:80"}, {"__meta_filepath", "/sd/a.json"}, {"job", "web"}},
        {{"__address__", "h2:80"}, {"__meta_filepath", "/sd/a.json"}, {"job", "web"}},
        {{"__address__", "h3:1"}, {"__meta_filepath", "/sd/a.json"}}},
       ""},
      {"yaml",
       "/sd/b.yml",
       "- targets: ['h1:80']\n  labels:\n    env: prod\n",
       {{{"__address__", "h1:80"}, {"__meta_filepath", "/sd/b.yml"}, {"env", "prod"}}},
       ""},
      {"yaml extension",
       "/sd/b.yaml",
       "- targets: [x]\n",
       {{{"__address__", "x"}, {"__meta_filepath", "/sd/b.yaml"}}},
       ""},
      {"empty list", "/sd/c.json", "[]", {}, ""},
      {"bad json", "/sd/d.json", "[{", {}, "invalid JSON"},
      {"not a list", "/sd/d.json", "{}", {}, "expected a list of target groups"},
      {"null group", "/sd/d.json", "[null]", {}, "nil target group item found"},
      {"bad label name",
       "/sd/d.json",
       R"([{"targets": ["a"], "labels": {"1x": "v"}}])",
       {},
       "\"1x\" is not a valid label name"},
      {"unknown yaml field",
       "/sd/e.yml",
       "- targets: [a]\n  extra: 1\n",
       {},
       "field extra not found in type struct"},
      {"unknown extension", "/sd/f.txt", "[]", {}, "unhandled file extension \".txt\""},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = ParseFileSd(c.path, c.content);
    if (!c.want_error.empty()) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().message(), c.want_error);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(*r, c.want);
  }
}

TEST(DiscoveryFileTest, Decode) {
  std::unique_ptr<component::Arguments> args;
  auto reg = DiscoveryFileRegistration();
  EXPECT_EQ(testing::DecodeBody(reg, "files = [\"/a/*.json\"]", &args), "");
  ASSERT_NE(args, nullptr);
  EXPECT_EQ(component::ArgsAs<DiscoveryFileArgs>(*args).refresh_interval, 5min);
  EXPECT_EQ(testing::DecodeBody(reg, "files = [\"/a\"]\nrefresh_interval = \"30s\"", &args), "");
  EXPECT_EQ(component::ArgsAs<DiscoveryFileArgs>(*args).refresh_interval, 30s);
  EXPECT_EQ(testing::DecodeBody(reg, "", &args), "t:1:1: missing required attribute \"files\"\n");
  EXPECT_EQ(testing::DecodeBody(reg, "files = [\"/a\"]\nrefresh_interval = \"0s\"", &args),
            "t:2:20: refresh_interval must be greater than 0\n");
}

struct Fixture {
  testing::TempDir dir;
  testing::ExportSink sink;
  base::FakeClock clock;
  component::Options opts;
  Fixture() {
    opts.id = "discovery.file.t";
    opts.clock = &clock;
    opts.on_state_change = sink.Callback();
  }
  base::Result<std::unique_ptr<component::Component>> Build(const DiscoveryFileArgs& a) {
    return DiscoveryFileRegistration().build(opts, component::TypedArguments<DiscoveryFileArgs>(a));
  }
};

// The sorted __address__ values of the exported targets.
std::vector<std::string> Addresses(const Value& exports) {
  std::vector<std::string> out;
  if (exports.kind() != syntax::ValueKind::kObject) return out;
  auto targets = TargetsFromValue(exports.AsObject().at("targets"));
  if (!targets.ok()) return out;
  for (const Target& t : *targets) out.push_back(t.at("__address__"));
  std::sort(out.begin(), out.end());
  return out;
}

TEST(DiscoveryFileTest, GlobsAndWatches) {
  Fixture f;
  f.dir.Write("a.json", R"([{"targets": ["a:1"]}])");
  f.dir.Write("b.yml", "- targets: ['b:1']\n");
  f.dir.Write("ignored.txt", "x");
  auto c = f.Build({{f.dir.Path("*.json"), f.dir.Path("*.yml")}});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(Addresses(f.sink.Latest()), (std::vector<std::string>{"a:1", "b:1"}));
  auto targets = TargetsFromValue(f.sink.Latest().AsObject().at("targets"));
  ASSERT_TRUE(targets.ok());
  EXPECT_EQ((*targets)[0].at("__meta_filepath"), f.dir.Path("a.json"));

  testing::Runner run(c->get());
  f.dir.Write("c.json", R"([{"targets": ["c:1"]}])");
  EXPECT_TRUE(f.sink.Wait([](const Value& v) {
    return Addresses(v) == std::vector<std::string>{"a:1", "b:1", "c:1"};
  }));
  std::filesystem::remove(f.dir.Path("b.yml"));
  EXPECT_TRUE(f.sink.Wait([](const Value& v) {
    return Addresses(v) == std::vector<std::string>{"a:1", "c:1"};
  }));
  EXPECT_EQ((*c)->CurrentHealth().state, component::HealthState::kHealthy);
}

TEST(DiscoveryFileTest, BadFileKeepsOthersAndIsUnhealthy) {
  Fixture f;
  f.dir.Write("a.json", R"([{"targets": ["a:1"]}])");
  f.dir.Write("b.json", R"([{"targets": ["b:1"]}])");
  auto c = f.Build({{f.dir.Path("*.json")}});
  ASSERT_TRUE(c.ok());
  testing::Runner run(c->get());
  f.dir.Write("b.json", "[{");
  f.dir.Write("new.json", R"([{"targets": ["n:1"]}])");
  // b.json keeps its last good targets.
  EXPECT_TRUE(f.sink.Wait([](const Value& v) {
    return Addresses(v) == std::vector<std::string>{"a:1", "b:1", "n:1"};
  }));
  component::Health h = (*c)->CurrentHealth();
  EXPECT_EQ(h.state, component::HealthState::kUnhealthy);
  EXPECT_NE(h.message.find("b.json: invalid JSON"), std::string::npos) << h.message;
}

TEST(DiscoveryFileTest, RefreshIntervalUsesTheClock) {
  Fixture f;
  std::string sub = f.dir.Path("later");
  // The directory does not exist yet, so only the timer can find its files.
  auto c = f.Build({{sub + "/*.json"}, 1min});
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(Addresses(f.sink.Latest()).empty());
  testing::Runner run(c->get());
  std::filesystem::create_directories(sub);
  f.dir.Write("later/x.json", R"([{"targets": ["x:1"]}])");
  f.clock.Advance(61s);
  EXPECT_TRUE(
      f.sink.Wait([](const Value& v) { return Addresses(v) == std::vector<std::string>{"x:1"}; }));
  // Now the directory is watched: a new file shows up without the timer.
  f.dir.Write("later/y.json", R"([{"targets": ["y:1"]}])");
  EXPECT_TRUE(f.sink.Wait([](const Value& v) {
    return Addresses(v) == std::vector<std::string>{"x:1", "y:1"};
  }));
}

}  // namespace
}  // namespace starling::components
