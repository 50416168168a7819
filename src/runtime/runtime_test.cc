#include "runtime/runtime.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/metrics.h"
#include "base/testing.h"

namespace starling::runtime {
namespace {

using namespace std::chrono_literals;
using component::ArgDecoder;
using component::Arguments;
using component::Component;
using component::HealthState;
using component::Options;
using syntax::Value;

constexpr auto kDeadline = 10s;

// What the test components did, shared between them and the test.
class Events {
 public:
  void Built(const std::string& id, const void* instance) {
    std::lock_guard l(mu_);
    ++builds_[id];
    instances_[id] = instance;
  }
  void RunStarted(const std::string& id) {
    std::lock_guard l(mu_);
    ++runs_[id];
  }
  void RunFinished(const std::string& id) {
    std::lock_guard l(mu_);
    ++finished_[id];
  }
  int builds(const std::string& id) const { return Get(builds_, id); }
  int finished(const std::string& id) const { return Get(finished_, id); }
  const void* instance(const std::string& id) const {
    std::lock_guard l(mu_);
    auto it = instances_.find(id);
    return it == instances_.end() ? nullptr : it->second;
  }
  // Waits until `id`'s Run has started `n` times in total.
  bool WaitRuns(const std::string& id, int n) {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, kDeadline, [&] { return runs_[id] >= n; });
  }
  void Notify() { cv_.notify_all(); }

  // Counters, so tests can poke them.
  std::mutex counters_mu;
  std::map<std::string, std::function<void()>> pokes;

 private:
  int Get(const std::map<std::string, int>& m, const std::string& id) const {
    std::lock_guard l(mu_);
    auto it = m.find(id);
    return it == m.end() ? 0 : it->second;
  }
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> builds_, runs_, finished_;
  std::map<std::string, const void*> instances_;
};

// Base for the test components: Run waits for stop and records it.
class TestComponent : public Component {
 public:
  TestComponent(const Options& o, std::shared_ptr<Events> events)
      : opts_(o), events_(std::move(events)) {
    events_->Built(o.id, this);
  }
  base::Status Run(std::stop_token stop) override {
    events_->RunStarted(opts_.id);
    events_->Notify();
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock l(m);
    cv.wait(l, stop, [] { return false; });
    events_->RunFinished(opts_.id);
    return base::Status::Ok();
  }

 protected:
  Options opts_;
  std::shared_ptr<Events> events_;
};

// testcomponents.passthrough: exports `output = input`.
struct PassthroughArgs {
  Value input;
};

class Passthrough final : public TestComponent {
 public:
  Passthrough(const Options& o, const PassthroughArgs& a, std::shared_ptr<Events> e)
      : TestComponent(o, std::move(e)) {
    Publish(a);
  }
  base::Status Update(const Arguments& args) override {
    Publish(component::ArgsAs<PassthroughArgs>(args));
    return base::Status::Ok();
  }
  syntax::Value DebugInfo() const override { return Value::String("passthrough"); }

 private:
  void Publish(const PassthroughArgs& a) {
    opts_.on_state_change(Value::Object({{"output", a.input}}));
  }
};

// testcomponents.counter: exports `count`, incremented by `increment` on each poke.
struct CounterArgs {
  std::int64_t increment = 1;
};

class Counter final : public TestComponent {
 public:
  Counter(const Options& o, const CounterArgs& a, std::shared_ptr<Events> e)
      : TestComponent(o, std::move(e)), increment_(a.increment) {
    std::lock_guard l(events_->counters_mu);
    events_->pokes[o.id] = [this] { Poke(); };
  }
  ~Counter() override {
    std::lock_guard l(events_->counters_mu);
    events_->pokes.erase(opts_.id);
  }
  base::Status Update(const Arguments& args) override {
    std::lock_guard l(mu_);
    increment_ = component::ArgsAs<CounterArgs>(args).increment;
    return base::Status::Ok();
  }
  // Unhealthy while its count is negative.
  component::Health CurrentHealth() const override {
    std::lock_guard l(mu_);
    if (count_ < 0) return {HealthState::kUnhealthy, "negative count", opts_.clock->Now()};
    return {HealthState::kHealthy, "counting", opts_.clock->Now()};
  }
  void Poke() {
    std::int64_t c;
    {
      std::lock_guard l(mu_);
      count_ += increment_;
      c = count_;
    }
    opts_.on_state_change(Value::Object({{"count", Value::Int(c)}}));
  }

 private:
  mutable std::mutex mu_;
  std::int64_t increment_;
  std::int64_t count_ = 0;
};

// testcomponents.fail: its factory fails when `fail` is true.
struct FailArgs {
  bool fail = true;
};

class Fail final : public TestComponent {
 public:
  using TestComponent::TestComponent;
  base::Status Update(const Arguments&) override { return base::Status::Ok(); }
};

class RuntimeTest : public ::testing::Test {
 protected:
  RuntimeTest() {
    auto ev = events_;
    EXPECT_TRUE(
        registry_
            .Register([&] {
              auto r = component::MakeRegistration<PassthroughArgs>(
                  "testcomponents.passthrough",
                  [](ArgDecoder& d, PassthroughArgs* a) { d.Required("input", &a->input); },
                  [ev](const Options& o,
                       const PassthroughArgs& a) -> base::Result<std::unique_ptr<Component>> {
                    return std::unique_ptr<Component>(std::make_unique<Passthrough>(o, a, ev));
                  });
              r.exports = {{"output", "any: the input"}};
              return r;
            }())
            .ok());
    EXPECT_TRUE(
        registry_
            .Register([&] {
              auto r = component::MakeRegistration<CounterArgs>(
                  "testcomponents.counter",
                  [](ArgDecoder& d, CounterArgs* a) { d.Optional("increment", &a->increment); },
                  [ev](const Options& o,
                       const CounterArgs& a) -> base::Result<std::unique_ptr<Component>> {
                    return std::unique_ptr<Component>(std::make_unique<Counter>(o, a, ev));
                  });
              r.exports = {{"count", "number: pokes times increment"}};
              return r;
            }())
            .ok());
    EXPECT_TRUE(registry_
                    .Register(component::MakeRegistration<FailArgs>(
                        "testcomponents.fail",
                        [](ArgDecoder& d, FailArgs* a) { d.Optional("fail", &a->fail); },
                        [ev](const Options& o,
                             const FailArgs& a) -> base::Result<std::unique_ptr<Component>> {
                          if (a.fail) return base::Status::Internal("boom");
                          return std::unique_ptr<Component>(std::make_unique<Fail>(o, ev));
                        }))
                    .ok());
  }

  std::unique_ptr<Runtime> NewRuntime(base::MetricsRegistry* metrics = nullptr) {
    Runtime::Options o;
    o.registry = &registry_;
    o.metrics = metrics;
    o.storage_path = ::testing::TempDir();
    o.apply_logging = false;
    return std::make_unique<Runtime>(o);
  }

  void Poke(const std::string& id) {
    std::function<void()> poke;
    {
      std::lock_guard l(events_->counters_mu);
      auto it = events_->pokes.find(id);
      ASSERT_NE(it, events_->pokes.end()) << id;
      poke = it->second;
    }
    poke();
  }

  static std::vector<std::string> Ids(const std::vector<ComponentInfo>& infos) {
    std::vector<std::string> ids;
    for (const auto& i : infos) ids.push_back(i.id);
    return ids;
  }

  static Value Export(Runtime& rt, const std::string& id, const std::string& field) {
    std::optional<ComponentInfo> info = rt.Component(id);
    if (!info || info->exports.kind() != syntax::ValueKind::kObject) return Value::String("<none>");
    auto it = info->exports.AsObject().find(field);
    return it == info->exports.AsObject().end() ? Value::String("<none>") : it->second;
  }

  std::shared_ptr<Events> events_ = std::make_shared<Events>();
  component::Registry registry_;
};

TEST_F(RuntimeTest, EvaluatesInDependencyOrder) {
  auto rt = NewRuntime();
  syntax::Diagnostics d = rt->Load("t", R"(
testcomponents.passthrough "c" {
  input = testcomponents.passthrough.b.output + 1
}
testcomponents.passthrough "b" {
  input = testcomponents.passthrough.a.output * 10
}
testcomponents.passthrough "a" {
  input = 4
}
testcomponents.passthrough "free" {
  input = string.format("%d", 7)
}
)");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  std::vector<ComponentInfo> infos = rt->Components();
  EXPECT_EQ(Ids(infos), (std::vector<std::string>{
                            "testcomponents.passthrough.a", "testcomponents.passthrough.b",
                            "testcomponents.passthrough.c", "testcomponents.passthrough.free"}));
  EXPECT_EQ(Export(*rt, "testcomponents.passthrough.c", "output"), Value::Int(41));
  EXPECT_EQ(Export(*rt, "testcomponents.passthrough.free", "output"), Value::String("7"));
  const ComponentInfo& b = infos[1];
  EXPECT_EQ(b.name, "testcomponents.passthrough");
  EXPECT_EQ(b.label, "b");
  EXPECT_EQ(b.references, std::vector<std::string>{"testcomponents.passthrough.a"});
  EXPECT_EQ(b.referenced_by, std::vector<std::string>{"testcomponents.passthrough.c"});
  EXPECT_EQ(b.arguments, Value::Object({{"input", Value::Int(40)}}));
  EXPECT_EQ(b.health.state, HealthState::kHealthy);
  EXPECT_EQ(b.debug_info, Value::String("passthrough"));
  // Every component runs on its own thread.
  for (const auto& i : infos) EXPECT_TRUE(events_->WaitRuns(i.id, 1)) << i.id;
}

TEST_F(RuntimeTest, LoadErrorsAreDiagnostics) {
  struct Case {
    std::string name;
    std::string src;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"unknown component", "foo.bar \"x\" {}\n",
       "t:1:1: cannot find the definition of component name \"foo.bar\"\n"},
      {"missing label", "testcomponents.passthrough {\n  input = 1\n}\n",
       "t:1:1: component \"testcomponents.passthrough\" must have a label\n"},
      {"duplicate label",
       "testcomponents.passthrough \"a\" { input = 1 }\ntestcomponents.passthrough \"a\" { input = "
       "2 }\n",
       "t:2:1: block testcomponents.passthrough.a already declared at t:1:1\n"},
      {"duplicate logging", "logging {}\nlogging {}\n",
       "t:2:1: block logging already declared at t:1:1\n"},
      {"unknown reference",
       "testcomponents.passthrough \"a\" {\n  input = testcomponents.passthrough.nope.output\n}\n",
       "t:2:11: component \"testcomponents.passthrough.nope.output\" does not exist or is out of "
       "scope\n"},
      {"cycle",
       "testcomponents.passthrough \"a\" { input = testcomponents.passthrough.b.output }\n"
       "testcomponents.passthrough \"b\" { input = testcomponents.passthrough.c.output }\n"
       "testcomponents.passthrough \"c\" { input = testcomponents.passthrough.a.output }\n"
       "testcomponents.passthrough \"d\" { input = testcomponents.passthrough.a.output }\n",
       "t:1:1: cycle detected: testcomponents.passthrough.a, testcomponents.passthrough.b, "
       "testcomponents.passthrough.c\n"},
      {"self reference",
       "testcomponents.passthrough \"a\" { input = testcomponents.passthrough.a.output }\n",
       "t:1:1: cycle detected: testcomponents.passthrough.a\n"},
      {"argument errors",
       "testcomponents.passthrough \"a\" {\n  inptu = 1\n}\ntestcomponents.counter \"c\" {\n  "
       "increment = \"x\"\n}\n",
       "t:1:1: missing required attribute \"input\"\nt:2:3: unrecognized attribute name "
       "\"inptu\"\nt:5:15: \"x\" should be number, got string\n"},
      {"missing export field",
       "testcomponents.counter \"c\" {}\ntestcomponents.passthrough \"a\" {\n  input = "
       "testcomponents.counter.c.nope\n}\n",
       "t:3:36: field \"nope\" does not exist\n"},
      {"bad logging level", "logging {\n  level = \"loud\"\n}\n",
       "t:2:11: unrecognized log level \"loud\"\n"},
      {"top-level attribute", "x = 1\n", "t:1:1: unrecognized attribute name \"x\"\n"},
      {"syntax error", "testcomponents.passthrough \"a\" {\n", ""},
      {"every kind of error at once, in file order",
       "testcomponents.passthrough \"a\" { inptu = 1 }\nfoo.bar \"x\" {}\n"
       "testcomponents.passthrough \"b\" { input = testcomponents.passthrough.b.output }\n"
       "testcomponents.passthrough \"c\" { input = testcomponents.passthrough.b.output }\n",
       "t:1:1: missing required attribute \"input\"\n"
       "t:1:34: unrecognized attribute name \"inptu\"\n"
       "t:2:1: cannot find the definition of component name \"foo.bar\"\n"
       "t:3:1: cycle detected: testcomponents.passthrough.b\n"},
      {"build failure", "testcomponents.fail \"f\" {}\n",
       "t:1:1: failed to build component: boom\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto rt = NewRuntime();
    syntax::Diagnostics d = rt->Load("t", c.src);
    EXPECT_TRUE(d.HasErrors());
    if (!c.want.empty()) {
      EXPECT_EQ(d.Format("t"), c.want);
    }
  }
}

TEST_F(RuntimeTest, LoggingBlockSeesTheStandardLibrary) {
  auto rt = NewRuntime();
  syntax::Diagnostics d =
      rt->Load("t", "logging {\n  level  = coalesce(\"\", \"debug\")\n  format = \"json\"\n}\n");
  EXPECT_FALSE(d.HasErrors()) << d.Format("t");
  EXPECT_TRUE(rt->Components().empty());
}

TEST_F(RuntimeTest, BuildFailureLeavesComponentUnhealthy) {
  auto rt = NewRuntime();
  syntax::Diagnostics d = rt->Load("t", "testcomponents.fail \"f\" {}\n");
  ASSERT_TRUE(d.HasErrors());
  std::optional<ComponentInfo> info = rt->Component("testcomponents.fail.f");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->health.state, HealthState::kUnhealthy);
  EXPECT_EQ(info->health.message, "failed to build component: boom");
  // Fixing the arguments on reload builds it.
  d = rt->Load("t", "testcomponents.fail \"f\" { fail = false }\n");
  EXPECT_FALSE(d.HasErrors()) << d.Format("t");
  EXPECT_EQ(rt->Component("testcomponents.fail.f")->health.state, HealthState::kHealthy);
  EXPECT_EQ(events_->builds("testcomponents.fail.f"), 1);
}

TEST_F(RuntimeTest, OnlyDependantsAreReevaluated) {
  auto rt = NewRuntime();
  syntax::Diagnostics d = rt->Load("t", R"(
testcomponents.counter "c" {}
testcomponents.passthrough "dep" {
  input = testcomponents.counter.c.count
}
testcomponents.passthrough "dep2" {
  input = [testcomponents.passthrough.dep.output]
}
testcomponents.passthrough "other" {
  input = 1
}
)");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  auto before = rt->Components();
  std::map<std::string, ComponentInfo> b;
  for (auto& i : before) b[i.id] = i;
  EXPECT_EQ(b["testcomponents.passthrough.dep"].updates, 0);
  EXPECT_EQ(b["testcomponents.counter.c"].health.message, "counting");  // its own health

  for (int i = 0; i < 3; ++i) {
    Poke("testcomponents.counter.c");
    ASSERT_TRUE(rt->WaitIdle(kDeadline));
  }
  EXPECT_EQ(Export(*rt, "testcomponents.passthrough.dep2", "output"),
            Value::Array({Value::Int(3)}));
  auto dep = *rt->Component("testcomponents.passthrough.dep");
  auto dep2 = *rt->Component("testcomponents.passthrough.dep2");
  auto other = *rt->Component("testcomponents.passthrough.other");
  auto counter = *rt->Component("testcomponents.counter.c");
  EXPECT_EQ(dep.updates, 3);
  EXPECT_EQ(dep2.updates, 3);
  EXPECT_EQ(other.updates, 0);
  EXPECT_EQ(other.evaluations, b["testcomponents.passthrough.other"].evaluations);
  EXPECT_EQ(counter.evaluations, b["testcomponents.counter.c"].evaluations);
  EXPECT_GT(dep.evaluations, b["testcomponents.passthrough.dep"].evaluations);
}

TEST_F(RuntimeTest, BurstsOfExportsAreCoalesced) {
  auto rt = NewRuntime();
  syntax::Diagnostics d = rt->Load("t", R"(
testcomponents.counter "c" {}
testcomponents.passthrough "dep" {
  input = testcomponents.counter.c.count
}
)");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  for (int i = 0; i < 50; ++i) Poke("testcomponents.counter.c");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  auto dep = *rt->Component("testcomponents.passthrough.dep");
  EXPECT_EQ(Export(*rt, "testcomponents.passthrough.dep", "output"), Value::Int(50));
  EXPECT_GE(dep.updates, 1);
  EXPECT_LE(dep.updates, 50);
}

TEST_F(RuntimeTest, ReloadKeepsUnchangedComponents) {
  auto rt = NewRuntime();
  syntax::Diagnostics d = rt->Load("t", R"(
testcomponents.passthrough "same" { input = 1 }
testcomponents.passthrough "changed" { input = 1 }
testcomponents.passthrough "removed" { input = 1 }
)");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  const std::string same = "testcomponents.passthrough.same";
  const std::string changed = "testcomponents.passthrough.changed";
  const std::string removed = "testcomponents.passthrough.removed";
  const std::string added = "testcomponents.passthrough.added";
  ASSERT_TRUE(events_->WaitRuns(same, 1));
  ASSERT_TRUE(events_->WaitRuns(changed, 1));
  const void* same_instance = events_->instance(same);
  const void* changed_instance = events_->instance(changed);

  d = rt->Load("t", R"(
// comments and layout do not matter
testcomponents.passthrough "same" {
  input = 0 + 1
}
testcomponents.passthrough "changed" { input = 2 }
testcomponents.passthrough "added" { input = testcomponents.passthrough.changed.output }
)");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  EXPECT_EQ(Ids(rt->Components()), (std::vector<std::string>{same, changed, added}));
  EXPECT_EQ(events_->builds(same), 1);
  EXPECT_EQ(events_->instance(same), same_instance);
  EXPECT_EQ(events_->finished(same), 0);
  EXPECT_EQ(rt->Component(same)->updates, 0);
  EXPECT_EQ(events_->builds(changed), 1);
  EXPECT_EQ(events_->instance(changed), changed_instance);
  EXPECT_EQ(events_->finished(changed), 0);
  EXPECT_EQ(rt->Component(changed)->updates, 1);
  EXPECT_EQ(events_->builds(added), 1);
  EXPECT_EQ(Export(*rt, added, "output"), Value::Int(2));
  EXPECT_EQ(events_->finished(removed), 1);  // stopped and joined during Load
  EXPECT_FALSE(rt->Component(removed).has_value());
}

TEST_F(RuntimeTest, ReloadWithErrorsKeepsTheOldGraph) {
  auto rt = NewRuntime();
  const std::string a = "testcomponents.passthrough.a";
  syntax::Diagnostics d = rt->Load("t", "testcomponents.passthrough \"a\" { input = 1 }\n");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  const void* instance = events_->instance(a);
  const std::vector<std::string> bad = {
      "testcomponents.passthrough \"a\" { input = 2 }\ntestcomponents.passthrough \"b\" { bogus = "
      "1 "
      "}\n",
      "testcomponents.passthrough \"a\" { input = 2 }\nunknown.block \"x\" {}\n",
      "testcomponents.passthrough \"a\" { input = \n",
      "testcomponents.passthrough \"a\" { input = testcomponents.passthrough.a.output }\n",
  };
  for (const std::string& src : bad) {
    SCOPED_TRACE(src);
    d = rt->Load("t", src);
    EXPECT_TRUE(d.HasErrors());
    ASSERT_TRUE(rt->WaitIdle(kDeadline));
    EXPECT_EQ(Ids(rt->Components()), std::vector<std::string>{a});
    EXPECT_EQ(Export(*rt, a, "output"), Value::Int(1));
    EXPECT_EQ(rt->Component(a)->updates, 0);
    EXPECT_EQ(events_->instance(a), instance);
    EXPECT_EQ(events_->finished(a), 0);
  }
}

TEST_F(RuntimeTest, StopStopsEveryComponent) {
  auto rt = NewRuntime();
  syntax::Diagnostics d = rt->Load("t", R"(
testcomponents.passthrough "a" { input = 1 }
testcomponents.passthrough "b" { input = testcomponents.passthrough.a.output }
)");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  ASSERT_TRUE(events_->WaitRuns("testcomponents.passthrough.a", 1));
  ASSERT_TRUE(events_->WaitRuns("testcomponents.passthrough.b", 1));
  rt->Stop();
  EXPECT_EQ(events_->finished("testcomponents.passthrough.a"), 1);
  EXPECT_EQ(events_->finished("testcomponents.passthrough.b"), 1);
  EXPECT_TRUE(rt->Load("t", "").HasErrors());
  rt->Stop();  // idempotent
}

// Components by health, as Grafana Agent's agent_component_controller_running_components
// counts them: right after a load, and later as components change their own health.
TEST_F(RuntimeTest, MetricsCountComponentsByHealth) {
  base::MetricsRegistry metrics;
  auto rt = NewRuntime(&metrics);
  // The gauge's lines for these health types and counts.
  auto lines = [](const std::map<std::string, int>& want) {
    std::vector<std::string> out;
    for (const auto& [health, n] : want) {
      out.push_back("agent_component_controller_running_components{health_type=\"" + health +
                    "\"} " + std::to_string(n));
    }
    return out;
  };
  syntax::Diagnostics d = rt->Load("t",
                                   "testcomponents.passthrough \"a\" { input = 1 }\n"
                                   "testcomponents.counter \"c\" { increment = -1 }\n"
                                   "testcomponents.fail \"f\" {}\n");
  ASSERT_TRUE(d.HasErrors());  // f fails to build; the others run
  EXPECT_TRUE(base::testing::HasLines(
      metrics, lines({{"healthy", 2}, {"unhealthy", 1}, {"unknown", 0}, {"exited", 0}})))
      << metrics.Render();

  // The counter turns itself unhealthy without the runtime being told.
  Poke("testcomponents.counter.c");
  EXPECT_TRUE(base::testing::WaitForLines(metrics, lines({{"healthy", 1}, {"unhealthy", 2}})))
      << metrics.Render();

  // Removed components are not counted.
  d = rt->Load("t", "testcomponents.counter \"c\" { increment = -1 }\n");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  EXPECT_TRUE(base::testing::HasLines(metrics, lines({{"healthy", 0}, {"unhealthy", 1}})))
      << metrics.Render();
}

// The controller's evaluation metrics, as the Agent names them: a counter's poke re-evaluates
// its one dependant, which is timed, and so is how long the poke waited for that.
TEST_F(RuntimeTest, MetricsTimeTheEvaluationOfDependants) {
  base::MetricsRegistry metrics;
  auto rt = NewRuntime(&metrics);
  syntax::Diagnostics d = rt->Load("t",
                                   "testcomponents.counter \"c\" {}\n"
                                   "testcomponents.passthrough \"p\" {\n"
                                   "  input = testcomponents.counter.c.count\n"
                                   "}\n");
  ASSERT_FALSE(d.HasErrors()) << d.Format("t");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  const double evaluations =
      base::testing::MetricValue(metrics, "agent_component_evaluation_seconds_count");
  Poke("testcomponents.counter.c");
  ASSERT_TRUE(rt->WaitIdle(kDeadline));
  EXPECT_EQ(Export(*rt, "testcomponents.passthrough.p", "output"), Value::Int(1));
  EXPECT_EQ(base::testing::MetricValue(metrics, "agent_component_evaluation_seconds_count"),
            evaluations + 1);
  EXPECT_EQ(base::testing::MetricValue(metrics, "agent_component_dependencies_wait_seconds_count"),
            evaluations + 1);
  EXPECT_GT(base::testing::MetricValue(metrics, "agent_component_evaluation_seconds_sum"), 0);
  const std::string text = metrics.Render();
  EXPECT_NE(text.find("\nagent_component_controller_evaluating 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nagent_component_evaluation_queue_size 0\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace starling::runtime
