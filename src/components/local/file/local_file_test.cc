#include "components/local/file/local_file.h"

#include <gtest/gtest.h>

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
using testing::DecodeBody;
using testing::ExportSink;
using testing::Runner;
using testing::TempDir;

struct DecodeCase {
  std::string name;
  std::string src;
  std::string want_diags;
  LocalFileArgs want;
};

TEST(LocalFileTest, Decode) {
  const std::vector<DecodeCase> cases = {
      {"defaults", "filename = \"/a\"", "", {"/a", "fsnotify", 1min, false}},
      {"all set",
       "filename = \"/a\"\ndetector = \"poll\"\npoll_frequency = \"30s\"\nis_secret = true",
       "",
       {"/a", "poll", 30s, true}},
      {"missing filename", "", "t:1:1: missing required attribute \"filename\"\n", {}},
      {"bad detector",
       "filename = \"/a\"\ndetector = \"inotify\"",
       "t:2:12: unrecognized detector \"inotify\", expected fsnotify or poll\n",
       {}},
      {"bad duration",
       "filename = \"/a\"\npoll_frequency = \"soon\"",
       "t:2:18: \"soon\" time: invalid duration \"soon\"\n",
       {}},
      {"unknown attribute",
       "filename = \"/a\"\ntype = \"poll\"",
       "t:2:1: unrecognized attribute name \"type\"\n",
       {}},
  };
  component::Registration reg = LocalFileRegistration();
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<component::Arguments> args;
    EXPECT_EQ(DecodeBody(reg, c.src, &args), c.want_diags);
    if (!c.want_diags.empty()) continue;
    ASSERT_NE(args, nullptr);
    const auto& a = component::ArgsAs<LocalFileArgs>(*args);
    EXPECT_EQ(a.filename, c.want.filename);
    EXPECT_EQ(a.detector, c.want.detector);
    EXPECT_EQ(a.poll_frequency, c.want.poll_frequency);
    EXPECT_EQ(a.is_secret, c.want.is_secret);
  }
}

struct Fixture {
  TempDir dir;
  ExportSink sink;
  base::FakeClock clock;
  component::Options opts;
  Fixture() {
    opts.id = "local.file.t";
    opts.clock = &clock;
    opts.on_state_change = sink.Callback();
  }
  base::Result<std::unique_ptr<component::Component>> Build(const LocalFileArgs& a) {
    return LocalFileRegistration().build(opts, component::TypedArguments<LocalFileArgs>(a));
  }
};

bool ContentIs(const Value& v, const std::string& want) {
  if (v.kind() != syntax::ValueKind::kObject) return false;
  auto it = v.AsObject().find("content");
  return it != v.AsObject().end() && it->second.kind() == syntax::ValueKind::kString &&
         it->second.AsString() == want;
}

TEST(LocalFileTest, ExportsContentFromTheFactory) {
  Fixture f;
  f.dir.Write("f.txt", "hello");
  auto c = f.Build({f.dir.Path("f.txt")});
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_TRUE(ContentIs(f.sink.Latest(), "hello"));
  EXPECT_EQ((*c)->CurrentHealth().state, component::HealthState::kHealthy);
}

TEST(LocalFileTest, SecretContent) {
  Fixture f;
  f.dir.Write("f.txt", "pw");
  auto c = f.Build({f.dir.Path("f.txt"), "fsnotify", 1min, true});
  ASSERT_TRUE(c.ok());
  Value content = f.sink.Latest().AsObject().at("content");
  EXPECT_TRUE(content.IsSecret());
  EXPECT_EQ(content.SecretText(), "pw");
}

TEST(LocalFileTest, MissingFileFailsBuild) {
  Fixture f;
  std::string path = f.dir.Path("nope");
  auto c = f.Build({path});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(),
            "failed to read file: open " + path + ": no such file or directory");
}

TEST(LocalFileTest, ZeroPollFrequencyFails) {
  Fixture f;
  f.dir.Write("f.txt", "x");
  auto c = f.Build({f.dir.Path("f.txt"), "poll", 0s});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().message(), "poll_frequency must be greater than 0");
}

TEST(LocalFileTest, InotifyDetectsChanges) {
  Fixture f;
  f.dir.Write("f.txt", "one");
  auto c = f.Build({f.dir.Path("f.txt")});
  ASSERT_TRUE(c.ok());
  Runner run(c->get());
  // The watch is in place once the component is built.
  f.dir.Write("f.txt", "two");
  ASSERT_TRUE(f.sink.Wait([](const Value& v) { return ContentIs(v, "two"); }));
  // A change of another file in the directory does not matter; the file's does.
  f.dir.Write("other.txt", "x");
  f.dir.Write("f.txt", "three");
  EXPECT_TRUE(f.sink.Wait([](const Value& v) { return ContentIs(v, "three"); }));
  EXPECT_TRUE(run.Stop().ok());
}

TEST(LocalFileTest, PollUsesTheClock) {
  Fixture f;
  f.dir.Write("f.txt", "one");
  auto c = f.Build({f.dir.Path("f.txt"), "poll", 1min});
  ASSERT_TRUE(c.ok());
  Runner run(c->get());
  f.dir.Write("f.txt", "two");
  // Before the poll period elapses nothing is re-read (no inotify for "poll").
  EXPECT_FALSE(f.sink.Wait([](const Value& v) { return ContentIs(v, "two"); }, 1s));
  f.clock.Advance(61s);
  EXPECT_TRUE(f.sink.Wait([](const Value& v) { return ContentIs(v, "two"); }));
}

TEST(LocalFileTest, UnreadableFileIsUnhealthyAndKeepsContent) {
  Fixture f;
  f.dir.Write("f.txt", "keep");
  auto c = f.Build({f.dir.Path("f.txt"), "poll", 1min});
  ASSERT_TRUE(c.ok());
  Runner run(c->get());
  std::filesystem::remove(f.dir.Path("f.txt"));
  f.clock.Advance(61s);
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while ((*c)->CurrentHealth().state != component::HealthState::kUnhealthy &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  component::Health h = (*c)->CurrentHealth();
  EXPECT_EQ(h.state, component::HealthState::kUnhealthy);
  EXPECT_NE(h.message.find("failed to read file: open "), std::string::npos) << h.message;
  EXPECT_TRUE(ContentIs(f.sink.Latest(), "keep"));
  // Recovery.
  f.dir.Write("f.txt", "back");
  f.clock.Advance(61s);
  EXPECT_TRUE(f.sink.Wait([](const Value& v) { return ContentIs(v, "back"); }));
  EXPECT_EQ((*c)->CurrentHealth().state, component::HealthState::kHealthy);
}

TEST(LocalFileTest, UpdateSwitchesFiles) {
  Fixture f;
  f.dir.Write("a.txt", "a");
  f.dir.Write("b.txt", "b");
  auto c = f.Build({f.dir.Path("a.txt")});
  ASSERT_TRUE(c.ok());
  Runner run(c->get());
  ASSERT_TRUE((*c)->Update(component::TypedArguments<LocalFileArgs>({f.dir.Path("b.txt")})).ok());
  EXPECT_TRUE(ContentIs(f.sink.Latest(), "b"));
  base::Status bad =
      (*c)->Update(component::TypedArguments<LocalFileArgs>({f.dir.Path("missing")}));
  EXPECT_FALSE(bad.ok());
  EXPECT_TRUE(ContentIs(f.sink.Latest(), "b"));
}

}  // namespace
}  // namespace starling::components
