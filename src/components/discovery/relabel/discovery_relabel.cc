#include "components/discovery/relabel/discovery_relabel.h"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <utility>

#include "base/check.h"
#include "components/common/relabel_rules.h"

namespace starling::components {
namespace {

// Publishes exports synchronously from the factory and Update; Run only waits for stop.
// Thread-safe.
class DiscoveryRelabel final : public component::Component {
 public:
  explicit DiscoveryRelabel(component::Options opts) : opts_(std::move(opts)) {}

  base::Status Run(std::stop_token stop) override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, stop, [] { return false; });
    return base::Status::Ok();
  }

  base::Status Update(const component::Arguments& args) override {
    Apply(component::ArgsAs<DiscoveryRelabelArgs>(args));
    return base::Status::Ok();
  }

  void Apply(const DiscoveryRelabelArgs& a) {
    auto rules = std::make_shared<const RelabelRules>(RelabelRules{a.rules});
    std::vector<Target> out = RelabelTargets(a.targets, a.rules);
    syntax::Value exports = syntax::Value::Object(
        {{"output", TargetsToValue(out)}, {"rules", RelabelRulesToValue(rules)}});
    std::lock_guard<std::mutex> lock(mu_);
    if (opts_.on_state_change) opts_.on_state_change(std::move(exports));
  }

 private:
  const component::Options opts_;
  std::mutex mu_;
  std::condition_variable_any cv_;
};

}  // namespace

void DecodeDiscoveryRelabelArgs(component::ArgDecoder& d, DiscoveryRelabelArgs* args) {
  d.Required("targets", &args->targets);
  DecodeRelabelRuleBlocks(d, &args->rules);
}

std::vector<Target> RelabelTargets(const std::vector<Target>& targets,
                                   const std::vector<model::relabel::Config>& rules) {
  std::vector<Target> out;
  out.reserve(targets.size());
  model::LabelsBuilder builder;
  model::Labels result;
  for (const Target& t : targets) {
    builder.Reset(TargetToLabels(t));
    if (!model::relabel::ProcessBuilder(builder, rules)) continue;
    builder.Build(&result);
    if (result.Empty()) continue;
    out.push_back(LabelsToTarget(result));
  }
  return out;
}

component::Registration DiscoveryRelabelRegistration() {
  component::Registration r = component::MakeRegistration<DiscoveryRelabelArgs>(
      "discovery.relabel", DecodeDiscoveryRelabelArgs,
      [](const component::Options& o,
         const DiscoveryRelabelArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        auto c = std::make_unique<DiscoveryRelabel>(o);
        c->Apply(a);
        return std::unique_ptr<component::Component>(std::move(c));
      });
  r.exports = {{"output", "list(map(string)): the targets after relabeling"},
               {"rules", "capsule: the relabel rules, for components that take `rules`"}};
  return r;
}

}  // namespace starling::components
