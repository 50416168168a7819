#pragma once

// The component runtime: loads a River file into a graph of components, runs each component
// on a thread of its own, and keeps every component's arguments up to date as the exports it
// reads change.
//
// Loading: every top-level block whose name is registered becomes a component with ID
// `name.label`; `logging { level, format }` configures logging. Expressions in a component's
// body may read other components' exports as `<id>.<field>`; those references form a DAG
// (cycles and unknown components are load errors). Components are evaluated and built in
// topological order.
//
// Propagation: when a component publishes new exports, its transitive dependants are
// re-evaluated, in topological order, on the runtime's worker thread; bursts of exports are
// coalesced. A component whose evaluated arguments did not change is not updated.
//
// Reload: Load() on a running graph validates the whole new file first; on any error it
// returns every diagnostic and changes nothing. Otherwise components that disappeared stop,
// new ones start, changed ones get Update(), and unchanged ones keep running untouched.
//
// Metrics, as Grafana Agent's component controller names them:
// agent_component_controller_running_components{health_type} (components by health, refreshed
// after each load and every second), agent_component_controller_evaluating (1 while loading or
// propagating), agent_component_evaluation_queue_size (components whose exports wait to
// propagate), agent_component_evaluation_seconds (evaluating and updating one dependant after
// a dependency's exports changed) and agent_component_dependencies_wait_seconds (how long those
// exports waited for that).
//
// Thread-safety: all public methods are thread-safe. Load() calls are serialized.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "component/component.h"
#include "syntax/diag.h"
#include "syntax/value.h"

namespace starling::runtime {

// A snapshot of one component, for the HTTP API and tests.
struct ComponentInfo {
  std::string id;     // "discovery.file.local"
  std::string name;   // "discovery.file"
  std::string label;  // "local"
  component::Health health;
  std::vector<std::string> references;     // ids this component reads, sorted
  std::vector<std::string> referenced_by;  // ids reading this component, sorted
  syntax::Value arguments;                 // component::ArgBodyToValue of the last arguments
  syntax::Value exports;                   // last published exports (an object)
  syntax::Value debug_info;                // Component::DebugInfo()
  std::int64_t evaluations = 0;            // times its body was evaluated
  std::int64_t updates = 0;                // times Update() was called
};

class Runtime {
 public:
  struct Options {
    const component::Registry* registry = nullptr;  // required; outlives the runtime
    std::string storage_path = "data-agent/";       // components get <storage_path>/<id>
    base::Clock* clock = &base::Clock::Real();
    // Where components register self metrics; null: a registry of the runtime's own.
    base::MetricsRegistry* metrics = nullptr;
    // Services handed to every component (see component::Services); may be null.
    std::shared_ptr<const component::Services> services;
    // Whether a `logging` block reconfigures the process's logging (off in tests).
    bool apply_logging = true;
  };

  explicit Runtime(Options options);
  ~Runtime();  // Stop()s
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Parses and loads (or reloads) `source`. Returns the diagnostics; when they hold errors
  // found before anything was applied (parse, unknown names, references, cycles, argument
  // evaluation and decoding), the previous graph keeps running unchanged. Errors found while
  // applying (a component's factory failing) are returned too; that component is then
  // unhealthy and the rest of the graph runs.
  syntax::Diagnostics Load(const std::string& filename, std::string source);

  // Every component, in topological order (dependencies first).
  std::vector<ComponentInfo> Components() const;
  std::optional<ComponentInfo> Component(std::string_view id) const;

  // Blocks until no exports are waiting to propagate (or the timeout passes); for tests and
  // orderly shutdown. Returns whether it became idle.
  bool WaitIdle(std::chrono::milliseconds timeout) const;

  // Stops the worker and every component (dependants first). Idempotent; Load fails after.
  void Stop();

 private:
  struct Node;
  struct Source;

  syntax::Diagnostics LoadLocked(const std::string& filename, std::string source);
  void OnExports(const std::shared_ptr<Node>& node, syntax::Value exports);
  void WorkerLoop(const std::stop_token& stop);
  // Evaluates and decodes node's body with the exports currently published. On success
  // stores *args and *args_value.
  syntax::Diagnostics EvaluateNode(Node& node, std::unique_ptr<component::Arguments>* args,
                                   syntax::Value* args_value);
  syntax::Value ExportsOf(std::string_view id) const;
  void StartComponent(const std::shared_ptr<Node>& node, std::unique_ptr<component::Arguments> a,
                      syntax::Value args_value, syntax::Diagnostics* diags);
  void StopNode(Node& node);
  // `since`: when the oldest of `changed` changed.
  void ReevaluateDependants(const std::set<std::string>& changed,
                            std::chrono::steady_clock::time_point since);
  void SetRuntimeHealth(Node& node, component::HealthState s, std::string message);
  ComponentInfo Snapshot(const Node& node) const;
  // Counts the components by health into running_by_health_.
  void UpdateHealthMetrics();

  Options options_;
  std::unique_ptr<base::MetricsRegistry> own_metrics_;  // when options_.metrics was null
  // One gauge per component::HealthState, in the enum's order.
  std::vector<base::Gauge*> running_by_health_;
  base::Gauge* evaluating_ = nullptr;
  base::Gauge* queue_size_ = nullptr;
  base::Histogram* evaluation_seconds_ = nullptr;
  base::Histogram* dependencies_wait_seconds_ = nullptr;

  std::mutex load_mu_;  // serializes Load, propagation and Stop (the "graph writer" lock)

  mutable std::mutex graph_mu_;  // guards nodes_, order_ and the nodes' edge lists
  std::map<std::string, std::shared_ptr<Node>, std::less<>> nodes_;
  std::vector<std::string> order_;  // topological
  bool stopped_ = false;

  mutable std::mutex queue_mu_;
  mutable std::condition_variable_any queue_cv_;
  std::set<std::string> pending_;  // ids whose exports changed, guarded by queue_mu_
  // When the oldest of pending_ changed (for dependencies_wait_seconds), guarded by queue_mu_.
  std::chrono::steady_clock::time_point pending_since_;
  bool busy_ = false;  // guarded by queue_mu_

  std::jthread worker_;
};

}  // namespace starling::runtime
