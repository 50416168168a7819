#include "runtime/runtime.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "base/logging.h"
#include "syntax/parser.h"
#include "syntax/stdlib.h"

namespace starling::runtime {
namespace {

using component::ArgBody;
using component::ArgDecoder;
using component::HealthState;
using syntax::Diagnostics;
using syntax::Pos;
using syntax::Value;

constexpr std::string_view kLoggingBlock = "logging";

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

Pos AfterPos(Pos p) {
  if (!p.valid()) return p;
  return Pos{p.offset + 1, p.line, p.col + 1};
}

std::string FormatPos(const std::string& filename, Pos p) {
  return filename + ":" + std::to_string(p.line) + ":" + std::to_string(p.col);
}

// Exports a component has before it publishes any: every documented field as null, so that
// references to them evaluate (as Alloy's zero-valued exports do).
Value InitialExports(const component::Registration& reg) {
  syntax::ValueObject obj;
  for (const auto& [field, doc] : reg.exports) obj[field] = Value();
  return Value::Object(std::move(obj));
}

// An identifier followed by field accesses: `a.b.c`.
struct Chain {
  std::vector<std::string> parts;
  Pos pos;
};

// The chain `e` is, if it is one.
bool AsChain(const syntax::Expr& e, Chain* out) {
  if (e.kind == syntax::ExprKind::kIdentifier) {
    const auto& id = static_cast<const syntax::IdentifierExpr&>(e);
    out->parts = {id.ident.name};
    out->pos = id.ident.pos;
    return true;
  }
  if (e.kind == syntax::ExprKind::kAccess) {
    const auto& a = static_cast<const syntax::AccessExpr&>(e);
    if (!AsChain(*a.value, out)) return false;
    out->parts.push_back(a.name.name);
    return true;
  }
  return false;
}

void CollectChains(const syntax::Expr& e, std::vector<Chain>* out) {
  Chain c;
  if (AsChain(e, &c)) {
    out->push_back(std::move(c));
    return;
  }
  switch (e.kind) {
    case syntax::ExprKind::kLiteral:
    case syntax::ExprKind::kIdentifier:
      return;
    case syntax::ExprKind::kArray:
      for (const auto& el : static_cast<const syntax::ArrayExpr&>(e).elements) {
        CollectChains(*el, out);
      }
      return;
    case syntax::ExprKind::kObject:
      for (const auto& f : static_cast<const syntax::ObjectExpr&>(e).fields) {
        CollectChains(*f.value, out);
      }
      return;
    case syntax::ExprKind::kAccess:
      CollectChains(*static_cast<const syntax::AccessExpr&>(e).value, out);
      return;
    case syntax::ExprKind::kIndex: {
      const auto& i = static_cast<const syntax::IndexExpr&>(e);
      CollectChains(*i.value, out);
      CollectChains(*i.index, out);
      return;
    }
    case syntax::ExprKind::kCall: {
      const auto& c2 = static_cast<const syntax::CallExpr&>(e);
      CollectChains(*c2.value, out);
      for (const auto& a : c2.args) CollectChains(*a, out);
      return;
    }
    case syntax::ExprKind::kUnary:
      CollectChains(*static_cast<const syntax::UnaryExpr&>(e).value, out);
      return;
    case syntax::ExprKind::kBinary: {
      const auto& b = static_cast<const syntax::BinaryExpr&>(e);
      CollectChains(*b.left, out);
      CollectChains(*b.right, out);
      return;
    }
    case syntax::ExprKind::kParen:
      CollectChains(*static_cast<const syntax::ParenExpr&>(e).inner, out);
      return;
  }
}

void CollectBodyChains(const syntax::Body& body, std::vector<Chain>* out) {
  for (const syntax::StmtPtr& s : body) {
    if (s->kind == syntax::StmtKind::kAttribute) {
      CollectChains(*static_cast<const syntax::AttributeStmt&>(*s).value, out);
    } else {
      CollectBodyChains(static_cast<const syntax::BlockStmt&>(*s).body, out);
    }
  }
}

// The scope a component body sees: each referenced component's exports at its dotted id.
syntax::Scope BuildScope(const std::vector<std::string>& refs,
                         const std::function<Value(const std::string&)>& exports_of) {
  struct Tree {
    std::map<std::string, Tree> children;
    std::optional<Value> leaf;
    Value ToValue() const {
      if (leaf) return *leaf;
      syntax::ValueObject obj;
      for (const auto& [k, t] : children) obj[k] = t.ToValue();
      return Value::Object(std::move(obj));
    }
  };
  Tree root;
  for (const std::string& id : refs) {
    Tree* t = &root;
    std::size_t start = 0;
    while (true) {
      std::size_t dot = id.find('.', start);
      t = &t->children[id.substr(start,
                                 dot == std::string::npos ? std::string::npos : dot - start)];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    t->leaf = exports_of(id);
  }
  syntax::ValueObject vars;
  for (const auto& [k, t] : root.children) vars[k] = t.ToValue();
  return syntax::Scope(std::move(vars));
}

// Evaluates and decodes a component block.
Diagnostics EvaluateBlock(const syntax::BlockStmt& block, const component::Registration& reg,
                          std::string_view source, const std::vector<std::string>& refs,
                          const std::function<Value(const std::string&)>& exports_of,
                          std::unique_ptr<component::Arguments>* args, Value* args_value,
                          bool tolerate_eval_errors = false) {
  syntax::Scope scope = BuildScope(refs, exports_of);
  auto evaluated = component::EvaluateArgs(block.body, scope, source);
  if (auto* d = std::get_if<Diagnostics>(&evaluated)) {
    return tolerate_eval_errors ? Diagnostics{} : *d;
  }
  const ArgBody& body = std::get<ArgBody>(evaluated);
  Diagnostics diags;
  ArgDecoder decoder(body, block.name_pos, AfterPos(block.rcurly), &diags);
  std::unique_ptr<component::Arguments> decoded = reg.decode(decoder);
  bool ok = decoder.Finish();
  if (ok && decoded == nullptr) {
    diags.Add(block.name_pos, "invalid arguments for component " + Quote(reg.name),
              AfterPos(block.rcurly));
  }
  if (diags.HasErrors()) return diags;
  *args = std::move(decoded);
  *args_value = component::ArgBodyToValue(body);
  return diags;
}

struct LoggingConfig {
  std::string level = "info";
  std::string format = "logfmt";
};

Diagnostics DecodeLogging(const syntax::BlockStmt& block, std::string_view source,
                          LoggingConfig* out) {
  syntax::Scope scope{syntax::ValueObject{}};
  auto evaluated = component::EvaluateArgs(block.body, scope, source);
  if (auto* d = std::get_if<Diagnostics>(&evaluated)) return *d;
  Diagnostics diags;
  ArgDecoder d(std::get<ArgBody>(evaluated), block.name_pos, AfterPos(block.rcurly), &diags);
  d.Optional("level", &out->level);
  d.Optional("format", &out->format);
  if (out->level != "debug" && out->level != "info" && out->level != "warn" &&
      out->level != "error") {
    d.AddError("level", "unrecognized log level " + Quote(out->level));
  }
  if (out->format != "logfmt" && out->format != "json") {
    d.AddError("format", "unrecognized log format " + Quote(out->format));
  }
  d.Finish();
  return diags;
}

std::string DataPath(const std::string& storage, const std::string& id) {
  if (storage.empty()) return id;
  if (storage.back() == '/') return storage + id;
  return storage + "/" + id;
}

// The health shown for a component: the runtime's when that is bad (it failed to build, update
// or run) or the component reports none, else the component's own.
component::Health MergedHealth(component::Health runtime, const component::Component* comp) {
  if (comp == nullptr || runtime.state == HealthState::kUnhealthy ||
      runtime.state == HealthState::kExited) {
    return runtime;
  }
  component::Health own = comp->CurrentHealth();
  return own.state != HealthState::kUnknown ? own : runtime;
}

}  // namespace

struct Runtime::Source {
  std::string filename;
  std::string text;
  std::unique_ptr<syntax::File> file;
};

struct Runtime::Node {
  std::string id, name, label;
  const component::Registration* reg = nullptr;
  // Written only under load_mu_; the edge lists also under graph_mu_.
  std::shared_ptr<const Source> src;
  const syntax::BlockStmt* block = nullptr;
  std::vector<std::string> references, referenced_by;
  std::jthread thread;

  mutable std::mutex mu;  // guards the fields below
  std::shared_ptr<component::Component> comp;
  Value exports;
  Value args_value;
  component::Health health;
  std::int64_t evaluations = 0;
  std::int64_t updates = 0;
  bool eval_failed = false;  // the last evaluation failed
};

Runtime::Runtime(Options options) : options_(std::move(options)) {
  CHECK(options_.registry != nullptr) << "Runtime needs a component registry";
  if (options_.metrics == nullptr) {
    own_metrics_ = std::make_unique<base::MetricsRegistry>();
    options_.metrics = own_metrics_.get();
  }
  auto& running =
      options_.metrics->AddGaugeFamily("agent_component_controller_running_components",
                                       "Total number of running components.", {"health_type"});
  for (HealthState h : {HealthState::kUnknown, HealthState::kHealthy, HealthState::kUnhealthy,
                        HealthState::kExited}) {
    running_by_health_.push_back(&running.WithLabels({component::HealthStateName(h)}));
  }
  base::MetricsRegistry& m = *options_.metrics;
  evaluating_ = &m.AddGauge("agent_component_controller_evaluating",
                            "Tracks if the controller is currently in the middle of a graph "
                            "evaluation");
  queue_size_ = &m.AddGauge("agent_component_evaluation_queue_size",
                            "Tracks the number of components waiting to be evaluated in the "
                            "worker pool");
  const std::vector<double> buckets = base::DefaultBuckets();
  evaluation_seconds_ =
      &m.AddHistogramFamily("agent_component_evaluation_seconds",
                            "Time spent performing component evaluation", {}, buckets)
           .WithLabels({});
  dependencies_wait_seconds_ =
      &m.AddHistogramFamily("agent_component_dependencies_wait_seconds",
                            "Time spent by components waiting to be evaluated after their "
                            "dependency is updated.",
                            {}, buckets)
           .WithLabels({});
  worker_ = std::jthread([this](const std::stop_token& st) { WorkerLoop(st); });
}

Runtime::~Runtime() { Stop(); }

void Runtime::SetRuntimeHealth(Node& node, HealthState s, std::string message) {
  std::lock_guard l(node.mu);
  node.health = {s, std::move(message), options_.clock->Now()};
}

Value Runtime::ExportsOf(std::string_view id) const {
  std::shared_ptr<Node> n;
  {
    std::lock_guard g(graph_mu_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return Value();
    n = it->second;
  }
  std::lock_guard l(n->mu);
  return n->exports;
}

Diagnostics Runtime::EvaluateNode(Node& node, std::unique_ptr<component::Arguments>* args,
                                  Value* args_value) {
  {
    std::lock_guard l(node.mu);
    ++node.evaluations;
  }
  return EvaluateBlock(
      *node.block, *node.reg, node.src->text, node.references,
      [this](const std::string& id) { return ExportsOf(id); }, args, args_value);
}

void Runtime::OnExports(const std::shared_ptr<Node>& node, Value exports) {
  if (exports.kind() != syntax::ValueKind::kObject) {
    spdlog::warn("{}: ignoring exports that are not an object ({})", node->id, exports.TypeName());
    return;
  }
  {
    std::lock_guard l(node->mu);
    if (node->exports == exports) return;
    node->exports = std::move(exports);
  }
  {
    std::lock_guard q(queue_mu_);
    if (pending_.empty()) pending_since_ = std::chrono::steady_clock::now();
    pending_.insert(node->id);
    queue_size_->Set(static_cast<double>(pending_.size()));
  }
  queue_cv_.notify_all();
}

void Runtime::StartComponent(const std::shared_ptr<Node>& node,
                             std::unique_ptr<component::Arguments> args, Value args_value,
                             Diagnostics* diags) {
  component::Options o;
  o.id = node->id;
  o.data_path = DataPath(options_.storage_path, node->id);
  o.logger = component::Logger(node->id);
  o.clock = options_.clock;
  o.metrics = options_.metrics;
  o.services = options_.services;
  std::weak_ptr<Node> weak = node;
  o.on_state_change = [this, weak](Value v) {
    if (auto n = weak.lock()) OnExports(n, std::move(v));
  };
  base::Result<std::unique_ptr<component::Component>> built = node->reg->build(o, *args);
  if (!built.ok()) {
    std::string msg = "failed to build component: " + built.error().message();
    diags->Add(node->block->name_pos, msg, AfterPos(node->block->rcurly));
    SetRuntimeHealth(*node, HealthState::kUnhealthy, msg);
    return;
  }
  std::shared_ptr<component::Component> comp = std::move(*built);
  {
    std::lock_guard l(node->mu);
    node->comp = comp;
    node->args_value = std::move(args_value);
    node->health = {HealthState::kHealthy, "started component", options_.clock->Now()};
  }
  node->thread = std::jthread([this, comp, weak](const std::stop_token& st) {
    base::Status s = comp->Run(st);
    std::shared_ptr<Node> n = weak.lock();
    if (n == nullptr) return;
    if (!s.ok()) {
      SetRuntimeHealth(*n, HealthState::kUnhealthy,
                       "component shut down with error: " + s.message());
      spdlog::error("{}: component shut down with error: {}", n->id, s.message());
    } else if (!st.stop_requested()) {
      SetRuntimeHealth(*n, HealthState::kExited, "component shut down normally");
    }
  });
}

void Runtime::StopNode(Node& node) {
  if (node.thread.joinable()) {
    node.thread.request_stop();
    node.thread.join();
  }
  std::shared_ptr<component::Component> comp;
  {
    std::lock_guard l(node.mu);
    comp = std::move(node.comp);
    node.health = {HealthState::kExited, "component stopped", options_.clock->Now()};
  }
  comp.reset();  // outside the lock: a destructor may still publish exports
}

Diagnostics Runtime::Load(const std::string& filename, std::string source) {
  Diagnostics unsorted = LoadLocked(filename, std::move(source));
  UpdateHealthMetrics();
  // Sorted by position, as the file reads. Diagnostics can only be rebuilt as errors, so a
  // list holding warnings is returned as found.
  std::vector<syntax::Diagnostic> list = unsorted.list();
  if (std::any_of(list.begin(), list.end(),
                  [](const auto& d) { return d.severity != syntax::Severity::kError; })) {
    return unsorted;
  }
  std::stable_sort(list.begin(), list.end(),
                   [](const auto& a, const auto& b) { return a.start.offset < b.start.offset; });
  Diagnostics sorted;
  for (const syntax::Diagnostic& d : list) sorted.Add(d.start, d.message, d.end);
  return sorted;
}

Diagnostics Runtime::LoadLocked(const std::string& filename, std::string source) {
  std::lock_guard load(load_mu_);
  evaluating_->Set(1);
  struct Done {
    base::Gauge* evaluating;
    ~Done() { evaluating->Set(0); }
  } done{evaluating_};
  Diagnostics diags;
  if (stopped_) {
    diags.Add(Pos{}, "the component runtime is stopped");
    return diags;
  }
  auto src = std::make_shared<Source>();
  src->filename = filename;
  src->text = std::move(source);
  syntax::ParseResult parsed = syntax::ParseFile(filename, src->text);
  src->file = std::move(parsed.file);
  if (parsed.diags.HasErrors()) return parsed.diags;
  diags.Append(parsed.diags);

  // 1. Top-level blocks: components and config blocks.
  struct Entry {
    std::string id, name, label;
    const component::Registration* reg;
    const syntax::BlockStmt* block;
    std::vector<std::string> refs;
    bool broken = false;  // in a cycle, or reads an unknown or broken component
  };
  std::vector<Entry> entries;
  std::map<std::string, Pos, std::less<>> declared;
  const syntax::BlockStmt* logging_block = nullptr;
  for (const syntax::StmtPtr& stmt : src->file->body) {
    if (stmt->kind == syntax::StmtKind::kAttribute) {
      const auto& a = static_cast<const syntax::AttributeStmt&>(*stmt);
      diags.Add(a.name.pos, "unrecognized attribute name " + Quote(a.name.name),
                syntax::EndPos(*a.value));
      continue;
    }
    const auto& b = static_cast<const syntax::BlockStmt&>(*stmt);
    std::string full = b.FullName();
    Pos end = AfterPos(b.rcurly);
    std::string id = full;
    const component::Registration* reg = nullptr;
    if (full != kLoggingBlock) {
      reg = options_.registry->Find(full);
      if (reg == nullptr) {
        diags.Add(b.name_pos, "cannot find the definition of component name " + Quote(full), end);
        continue;
      }
      if (!b.has_label || b.label.empty()) {
        diags.Add(b.name_pos, "component " + Quote(full) + " must have a label", end);
        continue;
      }
      id = full + "." + b.label;
    } else if (b.has_label) {
      diags.Add(b.label_pos, "block " + full + " does not support labels", end);
      continue;
    }
    auto [it, inserted] = declared.emplace(id, b.name_pos);
    if (!inserted) {
      diags.Add(b.name_pos,
                "block " + id + " already declared at " + FormatPos(filename, it->second), end);
      continue;
    }
    if (reg == nullptr) {
      logging_block = &b;
    } else {
      entries.push_back({id, full, b.label, reg, &b, {}});
    }
  }

  // 2. References between components.
  std::map<std::string, std::size_t, std::less<>> index;
  for (std::size_t i = 0; i < entries.size(); ++i) index[entries[i].id] = i;
  std::set<std::string, std::less<>> roots;
  for (const Entry& e : entries) roots.insert(e.id.substr(0, e.id.find('.')));
  for (const std::string& n : options_.registry->Names()) roots.insert(n.substr(0, n.find('.')));
  for (Entry& e : entries) {
    std::vector<Chain> chains;
    CollectBodyChains(e.block->body, &chains);
    std::set<std::string> refs;
    for (const Chain& c : chains) {
      if (!roots.contains(c.parts[0])) continue;
      std::string prefix = c.parts[0];
      std::string found;
      for (std::size_t k = 1; k < c.parts.size(); ++k) {
        prefix += "." + c.parts[k];
        if (index.contains(prefix)) found = prefix;
      }
      if (found.empty()) {
        std::string text = c.parts[0];
        for (std::size_t k = 1; k < c.parts.size(); ++k) text += "." + c.parts[k];
        diags.Add(c.pos, "component " + Quote(text) + " does not exist or is out of scope");
        e.broken = true;
        continue;
      }
      refs.insert(found);
    }
    e.refs.assign(refs.begin(), refs.end());
  }

  // 3. Cycles (Tarjan's strongly connected components), then a stable topological order.
  {
    std::vector<int> idx(entries.size(), -1), low(entries.size(), 0);
    std::vector<bool> on_stack(entries.size(), false);
    std::vector<std::size_t> stack;
    int counter = 0;
    std::function<void(std::size_t)> visit = [&](std::size_t v) {
      idx[v] = low[v] = counter++;
      stack.push_back(v);
      on_stack[v] = true;
      for (const std::string& r : entries[v].refs) {
        std::size_t w = index.find(r)->second;
        if (idx[w] < 0) {
          visit(w);
          low[v] = std::min(low[v], low[w]);
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], idx[w]);
        }
      }
      if (low[v] != idx[v]) return;
      std::vector<std::size_t> scc;
      std::size_t w;
      do {
        w = stack.back();
        stack.pop_back();
        on_stack[w] = false;
        scc.push_back(w);
      } while (w != v);
      bool self = std::find(entries[v].refs.begin(), entries[v].refs.end(), entries[v].id) !=
                  entries[v].refs.end();
      if (scc.size() < 2 && !self) return;
      std::sort(scc.begin(), scc.end());
      std::string ids;
      for (std::size_t m : scc) ids += (ids.empty() ? "" : ", ") + entries[m].id;
      for (std::size_t m : scc) entries[m].broken = true;
      const syntax::BlockStmt& first = *entries[scc[0]].block;
      diags.Add(first.name_pos, "cycle detected: " + ids, AfterPos(first.rcurly));
    };
    for (std::size_t v = 0; v < entries.size(); ++v) {
      if (idx[v] < 0) visit(v);
    }
  }
  // A component reading a broken one is broken too; broken components are left out of the
  // order (the load fails anyway) so that the others' arguments can still be checked.
  for (bool again = true; again;) {
    again = false;
    for (Entry& e : entries) {
      if (e.broken) continue;
      for (const std::string& r : e.refs) {
        if (entries[index[r]].broken) {
          e.broken = again = true;
          break;
        }
      }
    }
  }

  std::vector<std::size_t> topo;
  {
    std::vector<bool> done(entries.size(), false);
    std::size_t want = 0;
    for (const Entry& e : entries) want += e.broken ? 0 : 1;
    while (topo.size() < want) {
      for (std::size_t v = 0; v < entries.size(); ++v) {
        if (done[v] || entries[v].broken) continue;
        bool ready = std::all_of(entries[v].refs.begin(), entries[v].refs.end(),
                                 [&](const std::string& r) { return done[index[r]]; });
        if (!ready) continue;
        done[v] = true;
        topo.push_back(v);
        break;
      }
    }
  }

  // 4. Validate every body against the exports its references have now. A component that
  // reads a component not built yet only sees placeholder (null) exports, so its evaluation
  // errors are left for step 5, which evaluates with the real ones.
  LoggingConfig logging;
  if (logging_block != nullptr) diags.Append(DecodeLogging(*logging_block, src->text, &logging));
  for (std::size_t v : topo) {
    const Entry& e = entries[v];
    auto planned_exports = [&](const std::string& id) {
      std::shared_ptr<Node> n;
      {
        std::lock_guard g(graph_mu_);
        auto it = nodes_.find(id);
        if (it != nodes_.end()) n = it->second;
      }
      if (n != nullptr) {
        std::lock_guard l(n->mu);
        return n->exports;
      }
      return InitialExports(*entries[index[id]].reg);
    };
    bool reads_new = false;
    {
      std::lock_guard g(graph_mu_);
      for (const std::string& r : e.refs) reads_new = reads_new || !nodes_.contains(r);
    }
    std::unique_ptr<component::Arguments> args;
    Value args_value;
    diags.Append(EvaluateBlock(*e.block, *e.reg, src->text, e.refs, planned_exports, &args,
                               &args_value, reads_new));
  }
  if (diags.HasErrors()) return diags;

  // 5. Apply: stop removed components (dependants first), then update or start the rest.
  if (options_.apply_logging) {
    if (base::Status s = base::ConfigureLogging(logging.level, logging.format); !s.ok()) {
      spdlog::error("could not configure logging: {}", s.message());
    }
  }
  std::vector<std::shared_ptr<Node>> removed;
  {
    std::lock_guard g(graph_mu_);
    for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
      if (!index.contains(*it)) removed.push_back(nodes_[*it]);
    }
    for (const auto& n : removed) nodes_.erase(n->id);
  }
  for (const auto& n : removed) StopNode(*n);

  std::vector<std::shared_ptr<Node>> ordered;
  for (std::size_t v : topo) {
    Entry& e = entries[v];
    std::shared_ptr<Node> node;
    {
      std::lock_guard g(graph_mu_);
      auto it = nodes_.find(e.id);
      if (it != nodes_.end()) {
        node = it->second;
      } else {
        node = std::make_shared<Node>();
        node->id = e.id;
        node->name = e.name;
        node->label = e.label;
        node->reg = e.reg;
        node->exports = InitialExports(*e.reg);
        node->health = {HealthState::kUnknown, "", options_.clock->Now()};
        nodes_.emplace(e.id, node);
      }
      node->src = src;
      node->block = e.block;
      node->references = e.refs;
    }
    ordered.push_back(node);

    std::unique_ptr<component::Arguments> args;
    Value args_value;
    Diagnostics d = EvaluateNode(*node, &args, &args_value);
    if (d.HasErrors()) {
      diags.Append(d);
      SetRuntimeHealth(*node, HealthState::kUnhealthy, d.Format(filename));
      continue;
    }
    std::shared_ptr<component::Component> comp;
    bool unchanged;
    {
      std::lock_guard l(node->mu);
      comp = node->comp;
      unchanged = comp != nullptr && node->args_value == args_value;
    }
    if (comp == nullptr) {
      StartComponent(node, std::move(args), std::move(args_value), &diags);
    } else if (!unchanged) {
      base::Status s = comp->Update(*args);
      std::lock_guard l(node->mu);
      ++node->updates;
      if (s.ok()) {
        node->args_value = std::move(args_value);
        node->health = {HealthState::kHealthy, "updated component", options_.clock->Now()};
      } else {
        node->health = {HealthState::kUnhealthy, "failed to update component: " + s.message(),
                        options_.clock->Now()};
        diags.Add(e.block->name_pos, node->health.message, AfterPos(e.block->rcurly));
      }
    }
  }
  {
    std::lock_guard g(graph_mu_);
    order_.clear();
    for (const auto& n : ordered) {
      order_.push_back(n->id);
      n->referenced_by.clear();
    }
    for (const auto& n : ordered) {
      for (const std::string& r : n->references) nodes_[r]->referenced_by.push_back(n->id);
    }
    for (const auto& n : ordered) std::sort(n->referenced_by.begin(), n->referenced_by.end());
  }
  return diags;
}

void Runtime::ReevaluateDependants(const std::set<std::string>& changed,
                                   std::chrono::steady_clock::time_point since) {
  // Everything reachable from a changed component through at least one reference.
  std::set<std::string> dirty;
  std::vector<std::string> work(changed.begin(), changed.end());
  while (!work.empty()) {
    std::string id = std::move(work.back());
    work.pop_back();
    auto it = nodes_.find(id);
    if (it == nodes_.end()) continue;
    for (const std::string& dep : it->second->referenced_by) {
      if (dirty.insert(dep).second) work.push_back(dep);
    }
  }
  for (const std::string& id : order_) {
    if (!dirty.contains(id)) continue;
    const auto start = std::chrono::steady_clock::now();
    dependencies_wait_seconds_->Observe(std::chrono::duration<double>(start - since).count());
    struct Timed {
      base::Histogram* h;
      std::chrono::steady_clock::time_point start;
      ~Timed() {
        h->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
    } timed{evaluation_seconds_, start};
    std::shared_ptr<Node> node = nodes_[id];
    std::unique_ptr<component::Arguments> args;
    Value args_value;
    Diagnostics d = EvaluateNode(*node, &args, &args_value);
    if (d.HasErrors()) {
      std::string text = d.Format(node->src->filename);
      spdlog::error("{}: failed to evaluate arguments: {}", id, text);
      std::lock_guard l(node->mu);
      node->eval_failed = true;
      node->health = {HealthState::kUnhealthy, text, options_.clock->Now()};
      continue;
    }
    std::shared_ptr<component::Component> comp;
    {
      std::lock_guard l(node->mu);
      comp = node->comp;
      if (comp != nullptr && node->args_value == args_value) {
        // A previous evaluation error no longer applies.
        if (node->eval_failed) {
          node->eval_failed = false;
          node->health = {HealthState::kHealthy, "arguments evaluated", options_.clock->Now()};
        }
        continue;
      }
      node->eval_failed = false;
    }
    if (comp == nullptr) {
      Diagnostics build_diags;
      StartComponent(node, std::move(args), std::move(args_value), &build_diags);
      if (build_diags.HasErrors()) {
        spdlog::error("{}: {}", id, build_diags.Format(node->src->filename));
      }
      continue;
    }
    base::Status s = comp->Update(*args);
    std::lock_guard l(node->mu);
    ++node->updates;
    if (s.ok()) {
      node->args_value = std::move(args_value);
      node->health = {HealthState::kHealthy, "updated component", options_.clock->Now()};
    } else {
      node->health = {HealthState::kUnhealthy, "failed to update component: " + s.message(),
                      options_.clock->Now()};
    }
  }
}

void Runtime::WorkerLoop(const std::stop_token& stop) {
  while (true) {
    std::set<std::string> changed;
    std::chrono::steady_clock::time_point since;
    {
      std::unique_lock q(queue_mu_);
      // Components change their own health without telling the runtime, so the health
      // metrics are also refreshed when nothing happens.
      if (!queue_cv_.wait_for(q, stop, std::chrono::seconds(1),
                              [this] { return !pending_.empty(); })) {
        if (stop.stop_requested()) return;
        q.unlock();
        UpdateHealthMetrics();
        continue;
      }
      changed = std::move(pending_);
      pending_.clear();
      queue_size_->Set(0);
      since = pending_since_;
      busy_ = true;
    }
    {
      std::lock_guard load(load_mu_);
      if (!stopped_) {
        evaluating_->Set(1);
        ReevaluateDependants(changed, since);
        evaluating_->Set(0);
      }
    }
    {
      std::lock_guard q(queue_mu_);
      busy_ = false;
    }
    queue_cv_.notify_all();
  }
}

bool Runtime::WaitIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock q(queue_mu_);
  return queue_cv_.wait_for(q, timeout, [this] { return pending_.empty() && !busy_; });
}

void Runtime::Stop() {
  {
    std::lock_guard load(load_mu_);
    if (!stopped_) {
      stopped_ = true;
      std::vector<std::shared_ptr<Node>> nodes;
      {
        std::lock_guard g(graph_mu_);
        for (auto it = order_.rbegin(); it != order_.rend(); ++it) nodes.push_back(nodes_[*it]);
      }
      for (const auto& n : nodes) StopNode(*n);
    }
  }
  if (worker_.joinable()) {
    worker_.request_stop();
    worker_.join();
  }
}

ComponentInfo Runtime::Snapshot(const Node& node) const {
  ComponentInfo info;
  info.id = node.id;
  info.name = node.name;
  info.label = node.label;
  std::shared_ptr<component::Component> comp;
  component::Health runtime_health;
  {
    std::lock_guard l(node.mu);
    comp = node.comp;
    runtime_health = node.health;
    info.arguments = node.args_value;
    info.exports = node.exports;
    info.evaluations = node.evaluations;
    info.updates = node.updates;
  }
  info.health = MergedHealth(std::move(runtime_health), comp.get());
  if (comp != nullptr) info.debug_info = comp->DebugInfo();
  return info;
}

void Runtime::UpdateHealthMetrics() {
  std::vector<std::shared_ptr<Node>> nodes;
  {
    std::lock_guard g(graph_mu_);
    for (const auto& [id, n] : nodes_) nodes.push_back(n);
  }
  std::vector<int> counts(running_by_health_.size());
  for (const auto& n : nodes) {
    std::shared_ptr<component::Component> comp;
    component::Health health;
    {
      std::lock_guard l(n->mu);
      comp = n->comp;
      health = n->health;
    }
    ++counts[static_cast<std::size_t>(MergedHealth(std::move(health), comp.get()).state)];
  }
  for (std::size_t i = 0; i < counts.size(); ++i) running_by_health_[i]->Set(counts[i]);
}

std::vector<ComponentInfo> Runtime::Components() const {
  std::vector<std::pair<std::shared_ptr<Node>,
                        std::pair<std::vector<std::string>, std::vector<std::string>>>>
      nodes;
  {
    std::lock_guard g(graph_mu_);
    for (const std::string& id : order_) {
      const auto& n = nodes_.at(id);
      nodes.push_back({n, {n->references, n->referenced_by}});
    }
  }
  std::vector<ComponentInfo> out;
  out.reserve(nodes.size());
  for (auto& [n, edges] : nodes) {
    ComponentInfo info = Snapshot(*n);
    info.references = std::move(edges.first);
    info.referenced_by = std::move(edges.second);
    out.push_back(std::move(info));
  }
  return out;
}

std::optional<ComponentInfo> Runtime::Component(std::string_view id) const {
  std::shared_ptr<Node> n;
  std::vector<std::string> refs, by;
  {
    std::lock_guard g(graph_mu_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return std::nullopt;
    n = it->second;
    refs = n->references;
    by = n->referenced_by;
  }
  ComponentInfo info = Snapshot(*n);
  info.references = std::move(refs);
  info.referenced_by = std::move(by);
  return info;
}

}  // namespace starling::runtime
