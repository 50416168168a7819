#include "service/targets_api.h"

#include <string>
#include <utility>

#include "model/labels.h"

namespace starling::service {
namespace {

// The `enabled` attribute of the first `clustering` block, if the arguments have one.
std::optional<bool> ClusteringEnabled(const syntax::ValueObject& args) {
  auto it = args.find("clustering");
  if (it == args.end() || it->second.kind() != syntax::ValueKind::kArray ||
      it->second.AsArray().empty()) {
    return std::nullopt;
  }
  const syntax::Value& block = it->second.AsArray().front();
  if (block.kind() != syntax::ValueKind::kObject) return false;
  auto enabled = block.AsObject().find("enabled");
  return enabled != block.AsObject().end() && enabled->second.kind() == syntax::ValueKind::kBool &&
         enabled->second.AsBool();
}

}  // namespace

nlohmann::json TargetsToJson(const std::vector<runtime::ComponentInfo>& components,
                             const cluster::ClusterView& view) {
  nlohmann::json out = nlohmann::json::array();
  for (const runtime::ComponentInfo& c : components) {
    if (c.arguments.kind() != syntax::ValueKind::kObject) continue;
    const syntax::ValueObject& args = c.arguments.AsObject();
    const std::optional<bool> clustered = ClusteringEnabled(args);
    auto targets = args.find("targets");
    if (!clustered.has_value() || targets == args.end() ||
        targets->second.kind() != syntax::ValueKind::kArray) {
      continue;
    }
    for (const syntax::Value& t : targets->second.AsArray()) {
      if (t.kind() != syntax::ValueKind::kObject) continue;
      std::vector<model::Label> pairs;
      nlohmann::json labels = nlohmann::json::object();
      for (const auto& [name, value] : t.AsObject()) {
        if (value.kind() != syntax::ValueKind::kString) continue;
        pairs.emplace_back(name, value.AsString());
        labels[name] = value.AsString();
      }
      std::string owner = view.self;
      if (*clustered) {
        owner =
            view.ready
                ? std::string(view.placement->Owner(model::Labels(std::move(pairs)).NonMetaHash()))
                : "";
      }
      out.push_back({{"component", c.id},
                     {"labels", std::move(labels)},
                     {"owner", owner},
                     {"isSelf", owner == view.self},
                     {"clustered", *clustered}});
    }
  }
  return out;
}

void RegisterTargetsApi(net::HttpServer& server, const runtime::Runtime& runtime,
                        const cluster::Cluster& cluster) {
  server.Handle("GET", kTargetsPath, [&runtime, &cluster](const net::Request&) {
    return net::Response::Json(200, TargetsToJson(runtime.Components(), cluster.View()).dump());
  });
}

}  // namespace starling::service
