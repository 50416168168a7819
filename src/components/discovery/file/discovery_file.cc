#include "components/discovery/file/discovery_file.h"

#include <glob.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "base/check.h"
#include "components/common/file_watcher.h"
#include "model/labels.h"

namespace starling::components {
namespace {

struct Group {
  std::vector<std::string> targets;
  std::map<std::string, std::string> labels;
};

base::Result<std::vector<Group>> ParseJson(const std::string& content) {
  std::vector<Group> out;
  nlohmann::json j = nlohmann::json::parse(content, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return base::Status::InvalidArgument("invalid JSON");
  if (!j.is_array()) return base::Status::InvalidArgument("expected a list of target groups");
  for (const auto& g : j) {
    if (g.is_null()) return base::Status::InvalidArgument("nil target group item found");
    if (!g.is_object()) return base::Status::InvalidArgument("a target group must be an object");
    Group grp;
    if (auto it = g.find("targets"); it != g.end() && !it->is_null()) {
      if (!it->is_array()) return base::Status::InvalidArgument("\"targets\" must be a list");
      for (const auto& t : *it) {
        if (!t.is_string()) return base::Status::InvalidArgument("a target must be a string");
        grp.targets.push_back(t.get<std::string>());
      }
    }
    if (auto it = g.find("labels"); it != g.end() && !it->is_null()) {
      if (!it->is_object()) return base::Status::InvalidArgument("\"labels\" must be a map");
      for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) {
          return base::Status::InvalidArgument("label \"" + k + "\" must be a string");
        }
        grp.labels[k] = v.get<std::string>();
      }
    }
    out.push_back(std::move(grp));
  }
  return out;
}

base::Result<std::vector<Group>> ParseYaml(const std::string& content) {
  std::vector<Group> out;
  try {
    YAML::Node root = YAML::Load(content);
    if (root.IsNull()) return out;
    if (!root.IsSequence())
      return base::Status::InvalidArgument("expected a list of target groups");
    for (const YAML::Node& g : root) {
      if (g.IsNull()) return base::Status::InvalidArgument("nil target group item found");
      if (!g.IsMap()) return base::Status::InvalidArgument("a target group must be a map");
      Group grp;
      for (const auto& kv : g) {
        std::string key = kv.first.as<std::string>();
        if (key == "targets") {
          if (kv.second.IsNull()) continue;
          if (!kv.second.IsSequence()) {
            return base::Status::InvalidArgument("\"targets\" must be a list");
          }
          for (const YAML::Node& t : kv.second) {
            if (!t.IsScalar()) return base::Status::InvalidArgument("a target must be a string");
            grp.targets.push_back(t.as<std::string>());
          }
        } else if (key == "labels") {
          if (kv.second.IsNull()) continue;
          if (!kv.second.IsMap()) return base::Status::InvalidArgument("\"labels\" must be a map");
          for (const auto& l : kv.second) {
            if (!l.second.IsScalar()) {
              return base::Status::InvalidArgument("label \"" + l.first.as<std::string>() +
                                                   "\" must be a string");
            }
            grp.labels[l.first.as<std::string>()] = l.second.as<std::string>();
          }
        } else {
          // Prometheus decodes YAML strictly.
          return base::Status::InvalidArgument("field " + key + " not found in type struct");
        }
      }
      out.push_back(std::move(grp));
    }
  } catch (const YAML::Exception& e) {
    return base::Status::InvalidArgument(std::string("invalid YAML: ") + e.what());
  }
  return out;
}

base::Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::Status::NotFound("open " + path + ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The files matching `pattern` (glob(3)); a pattern without matches yields nothing.
std::vector<std::string> Expand(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

std::string DirOf(const std::string& pattern) {
  std::filesystem::path p = std::filesystem::absolute(pattern).parent_path();
  return p.empty() ? "/" : p.string();
}

// Re-reads on inotify events and on a clock-driven timer. Thread-safe: Update, Run and the
// accessors synchronise on mu_.
class DiscoveryFile final : public component::Component {
 public:
  DiscoveryFile(component::Options opts, DiscoveryFileArgs args,
                std::unique_ptr<FileWatcher> watcher)
      : opts_(std::move(opts)), watcher_(std::move(watcher)), args_(std::move(args)) {}

  void Init() {
    std::lock_guard<std::mutex> lock(mu_);
    ConfigureLocked();
    RefreshLocked();
  }

  base::Status Run(std::stop_token stop) override {
    std::stop_callback on_stop(stop, [this] { watcher_->Wake(); });
    while (!stop.stop_requested()) {
      base::Clock::Duration deadline;
      {
        std::lock_guard<std::mutex> lock(mu_);
        deadline = next_refresh_;
      }
      FileWatcher::Event ev = watcher_->Wait(WaitBudget(*opts_.clock, deadline));
      if (stop.stop_requested()) break;
      std::lock_guard<std::mutex> lock(mu_);
      bool refresh = !ev.changed.empty();
      base::Clock::Duration now = opts_.clock->Monotonic();
      if (now >= next_refresh_) {
        refresh = true;
        ConfigureLocked();  // picks up directories created since
      }
      if (refresh) RefreshLocked();
    }
    return base::Status::Ok();
  }

  base::Status Update(const component::Arguments& args) override {
    std::lock_guard<std::mutex> lock(mu_);
    args_ = component::ArgsAs<DiscoveryFileArgs>(args);
    ConfigureLocked();
    RefreshLocked();
    watcher_->Wake();
    return base::Status::Ok();
  }

  component::Health CurrentHealth() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return health_;
  }

 private:
  void ConfigureLocked() {
    std::set<std::string> dirs;
    for (const std::string& f : args_.files) dirs.insert(DirOf(f));
    watcher_->SetDirs(std::vector<std::string>(dirs.begin(), dirs.end()));
    next_refresh_ = opts_.clock->Monotonic() + args_.refresh_interval;
  }

  void RefreshLocked() {
    std::set<std::string> paths;
    for (const std::string& pattern : args_.files) {
      for (std::string& p : Expand(pattern)) paths.insert(std::move(p));
    }
    std::map<std::string, std::vector<Target>> next;
    std::string errors;
    for (const std::string& path : paths) {
      base::Result<std::string> content = ReadAll(path);
      // Removed since the glob: it is simply gone.
      if (!content.ok() && !std::filesystem::exists(path)) continue;
      base::Result<std::vector<Target>> parsed =
          content.ok() ? ParseFileSd(path, *content)
                       : base::Result<std::vector<Target>>(content.error());
      if (parsed.ok()) {
        next[path] = std::move(*parsed);
        continue;
      }
      opts_.logger.Error("Error reading file {}: {}", path, parsed.error().message());
      if (!errors.empty()) errors += "; ";
      errors += path + ": " + parsed.error().message();
      // As Prometheus: a file that fails to read keeps its previous targets.
      if (auto it = by_file_.find(path); it != by_file_.end()) next[path] = it->second;
    }
    by_file_ = std::move(next);
    health_ = errors.empty()
                  ? component::Health{component::HealthState::kHealthy, "", opts_.clock->Now()}
                  : component::Health{component::HealthState::kUnhealthy,
                                      "error reading files: " + errors, opts_.clock->Now()};
    std::vector<Target> all;
    for (const auto& [path, ts] : by_file_) all.insert(all.end(), ts.begin(), ts.end());
    if (published_ && *published_ == all) return;
    published_ = all;
    if (opts_.on_state_change) {
      opts_.on_state_change(syntax::Value::Object({{"targets", TargetsToValue(all)}}));
    }
  }

  const component::Options opts_;
  const std::unique_ptr<FileWatcher> watcher_;
  mutable std::mutex mu_;
  DiscoveryFileArgs args_;                              // guarded by mu_
  base::Clock::Duration next_refresh_{};                // guarded by mu_
  std::map<std::string, std::vector<Target>> by_file_;  // guarded by mu_
  component::Health health_;                            // guarded by mu_
  std::optional<std::vector<Target>> published_;        // guarded by mu_
};

}  // namespace

base::Result<std::vector<Target>> ParseFileSd(const std::string& path, const std::string& content) {
  base::Result<std::vector<Group>> groups = base::Status::Internal("unparsed");
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (ext == ".json") {
    groups = ParseJson(content);
  } else if (ext == ".yml" || ext == ".yaml") {
    groups = ParseYaml(content);
  } else {
    return base::Status::InvalidArgument("unhandled file extension \"" + ext + "\"");
  }
  if (!groups.ok()) return groups.error();
  std::vector<Target> out;
  for (const Group& g : *groups) {
    for (const auto& [k, v] : g.labels) {
      if (!model::IsValidLabelName(k)) {
        return base::Status::InvalidArgument("\"" + k + "\" is not a valid label name");
      }
    }
    for (const std::string& addr : g.targets) {
      Target t(g.labels.begin(), g.labels.end());
      t["__address__"] = addr;
      t["__meta_filepath"] = path;
      out.push_back(std::move(t));
    }
  }
  return out;
}

void DecodeDiscoveryFileArgs(component::ArgDecoder& d, DiscoveryFileArgs* args) {
  d.Required("files", &args->files);
  if (d.Optional("refresh_interval", &args->refresh_interval) &&
      args->refresh_interval <= std::chrono::nanoseconds::zero()) {
    d.AddError("refresh_interval", "refresh_interval must be greater than 0");
  }
}

component::Registration DiscoveryFileRegistration() {
  component::Registration r = component::MakeRegistration<DiscoveryFileArgs>(
      "discovery.file", DecodeDiscoveryFileArgs,
      [](const component::Options& o,
         const DiscoveryFileArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        ASSIGN_OR_RETURN(std::unique_ptr<FileWatcher> w, FileWatcher::Create());
        auto c = std::make_unique<DiscoveryFile>(o, a, std::move(w));
        c->Init();
        return std::unique_ptr<component::Component>(std::move(c));
      });
  r.exports = {{"targets", "list(map(string)): the targets found in the files"}};
  return r;
}

}  // namespace starling::components
