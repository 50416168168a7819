#include "service/targets_api.h"

#include <map>
#include <string>
#include <utility>

#include "model/labels.h"
#include "service/web_api.h"
#include "syntax/value.h"
#include "syntax/value_json.h"

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

// A discovered label set as one string, to match a target of the `targets` argument with the
// one the component reports in its debug info.
std::string LabelKey(const syntax::ValueObject& labels) {
  std::string key;
  for (const auto& [name, value] : labels) {
    if (value.kind() != syntax::ValueKind::kString) continue;
    key.append(name).push_back('\0');
    key.append(value.AsString()).push_back('\0');
  }
  return key;
}

const syntax::Value* Field(const syntax::ValueObject& o, const char* name, syntax::ValueKind kind) {
  auto it = o.find(name);
  return it != o.end() && it->second.kind() == kind ? &it->second : nullptr;
}

std::string StringField(const syntax::ValueObject& o, const char* name) {
  const syntax::Value* v = Field(o, name, syntax::ValueKind::kString);
  return v != nullptr ? v->AsString() : "";
}

// The scrape state of each target the component scrapes here, by LabelKey of its discovered
// labels, from the debug info's `target` list.
std::map<std::string, nlohmann::json> ScrapeStates(const syntax::Value& debug_info) {
  std::map<std::string, nlohmann::json> out;
  if (debug_info.kind() != syntax::ValueKind::kObject) return out;
  const syntax::Value* list = Field(debug_info.AsObject(), "target", syntax::ValueKind::kArray);
  if (list == nullptr) return out;
  for (const syntax::Value& t : list->AsArray()) {
    if (t.kind() != syntax::ValueKind::kObject) continue;
    const syntax::ValueObject& o = t.AsObject();
    const syntax::Value* discovered = Field(o, "discovered_labels", syntax::ValueKind::kObject);
    if (discovered == nullptr) continue;
    nlohmann::json state = {{"health", StringField(o, "health")},
                            {"lastError", StringField(o, "last_error")},
                            {"lastScrape", StringField(o, "last_scrape")},
                            {"lastScrapeDuration", StringField(o, "last_scrape_duration")},
                            {"url", StringField(o, "url")}};
    if (const syntax::Value* labels = Field(o, "labels", syntax::ValueKind::kObject)) {
      state["labels"] = syntax::ValueToJson(*labels);
    }
    auto series = o.find("series");
    if (series != o.end()) state["series"] = syntax::ValueToJson(series->second);
    out.emplace(LabelKey(discovered->AsObject()), std::move(state));
  }
  return out;
}

// Calls f(component, target, owner, clustered) for every target (an object of labels) of every
// cluster-aware component, with the node that owns it under `view`.
template <typename F>
void ForEachTarget(const std::vector<runtime::ComponentInfo>& components,
                   const cluster::ClusterView& view, F&& f) {
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
      std::string owner = view.self;
      if (*clustered) {
        std::vector<model::Label> pairs;
        for (const auto& [name, value] : t.AsObject()) {
          if (value.kind() == syntax::ValueKind::kString)
            pairs.emplace_back(name, value.AsString());
        }
        owner =
            view.ready
                ? std::string(view.placement->Owner(model::Labels(std::move(pairs)).NonMetaHash()))
                : "";
      }
      f(c, t.AsObject(), owner, *clustered);
    }
  }
}

}  // namespace

nlohmann::json TargetsToJson(const std::vector<runtime::ComponentInfo>& components,
                             const cluster::ClusterView& view) {
  nlohmann::json out = nlohmann::json::array();
  // The scrape states of the component being visited (targets come grouped by component).
  const runtime::ComponentInfo* states_of = nullptr;
  std::map<std::string, nlohmann::json> states;
  ForEachTarget(components, view,
                [&](const runtime::ComponentInfo& c, const syntax::ValueObject& target,
                    const std::string& owner, bool clustered) {
                  nlohmann::json labels = nlohmann::json::object();
                  for (const auto& [name, value] : target) {
                    if (value.kind() == syntax::ValueKind::kString) labels[name] = value.AsString();
                  }
                  nlohmann::json entry = {{"component", c.id},
                                          {"labels", std::move(labels)},
                                          {"owner", owner},
                                          {"isSelf", owner == view.self},
                                          {"clustered", clustered}};
                  if (owner == view.self) {
                    if (states_of != &c) {
                      states = ScrapeStates(c.debug_info);
                      states_of = &c;
                    }
                    auto state = states.find(LabelKey(target));
                    entry["scrape"] = state != states.end() ? state->second
                                                            : nlohmann::json{{"health", "unknown"},
                                                                             {"lastError", ""}};
                  }
                  out.push_back(std::move(entry));
                });
  return out;
}

std::map<std::string, int> OwnedTargetCounts(const std::vector<runtime::ComponentInfo>& components,
                                             const cluster::ClusterView& view) {
  std::map<std::string, int> owned;
  ForEachTarget(components, view,
                [&owned](const runtime::ComponentInfo&, const syntax::ValueObject&,
                         const std::string& owner, bool) { ++owned[owner]; });
  return owned;
}

void RegisterTargetsApi(net::HttpServer& server, const runtime::Runtime& runtime,
                        const cluster::Cluster& cluster, std::string_view prefix) {
  server.Handle("GET", WebApiPath(prefix, "targets"), [&runtime, &cluster](const net::Request&) {
    return AllowAnyOrigin(
        net::Response::Json(200, TargetsToJson(runtime.Components(), cluster.View()).dump()));
  });
}

}  // namespace starling::service
