#pragma once

// The component model: what a component is (Component), what it is given when built
// (Options), how its River block becomes typed arguments (ArgDecoder), and how the runtime
// finds it by name (Registry).
//
// Lifecycle, driven by the runtime (src/runtime):
//   1. The block body is evaluated (EvaluateArgs) and decoded by the registration's decoder.
//   2. The factory builds the component with its Options and first Arguments. It may publish
//      exports (Options::on_state_change) already from the factory, so dependants see them.
//   3. Run(stop) is called on a thread of its own and must return once stop is requested.
//   4. Update(args) is called, from another thread than Run's, whenever the evaluated
//      arguments change. A component must make Update safe to call while Run runs.
//   5. On removal or shutdown, stop is requested and the thread joined; then it is destroyed.
//
// A component that fails Update keeps running with its previous arguments; the runtime
// reports it unhealthy.

#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "base/status.h"
#include "syntax/ast.h"
#include "syntax/diag.h"
#include "syntax/eval.h"
#include "syntax/value.h"

namespace starling::component {

// ---------------------------------------------------------------------------------------------
// Health and the component interface.

enum class HealthState { kUnknown, kHealthy, kUnhealthy, kExited };
// "unknown", "healthy", "unhealthy", "exited" (as Alloy's API spells them).
std::string_view HealthStateName(HealthState s);

struct Health {
  HealthState state = HealthState::kUnknown;
  std::string message;
  base::Clock::TimePoint updated{};
};

// A component's decoded arguments, type-erased. Components receive the TypedArguments<Args>
// their registration's decoder produced; ArgsAs<Args>() gets it back.
class Arguments {
 public:
  virtual ~Arguments() = default;
};

template <typename Args>
class TypedArguments final : public Arguments {
 public:
  explicit TypedArguments(Args v) : value(std::move(v)) {}
  Args value;
};

// The Args inside `a`; `a` must have been produced for this Args type (the runtime
// guarantees it for arguments coming from the component's own registration).
template <typename Args>
const Args& ArgsAs(const Arguments& a) {
  return static_cast<const TypedArguments<Args>&>(a).value;
}

// A running piece of the pipeline. Run and Update are called from different threads;
// CurrentHealth and DebugInfo may be called from any thread at any time.
class Component {
 public:
  virtual ~Component() = default;

  // Does the component's work until `stop` is requested, then returns. An error return (or
  // an early OK return) marks the component exited/unhealthy; it is not restarted.
  virtual base::Status Run(std::stop_token stop) = 0;

  // New arguments (of the component's own Args type). An error keeps the old arguments.
  virtual base::Status Update(const Arguments& args) = 0;

  // The component's own view of its health; kUnknown means "no opinion", and the runtime
  // then reports its own view (healthy when built, run and updated without error).
  virtual Health CurrentHealth() const { return {}; }

  // Anything useful for the UI's debug panel; null when there is nothing.
  virtual syntax::Value DebugInfo() const { return {}; }
};

// ---------------------------------------------------------------------------------------------
// Options given to a component.

// Logs through the process's default logger with the component's id attached, so a later
// logging reconfiguration applies to components too. Thread-safe.
class Logger {
 public:
  Logger() = default;
  explicit Logger(std::string component_id) : id_(std::move(component_id)) {}

  void Log(spdlog::level::level_enum level, std::string_view msg) const;
  template <typename... A>
  void Debug(spdlog::format_string_t<A...> f, A&&... a) const {
    Log(spdlog::level::debug, fmt::format(f, std::forward<A>(a)...));
  }
  template <typename... A>
  void Info(spdlog::format_string_t<A...> f, A&&... a) const {
    Log(spdlog::level::info, fmt::format(f, std::forward<A>(a)...));
  }
  template <typename... A>
  void Warn(spdlog::format_string_t<A...> f, A&&... a) const {
    Log(spdlog::level::warn, fmt::format(f, std::forward<A>(a)...));
  }
  template <typename... A>
  void Error(spdlog::format_string_t<A...> f, A&&... a) const {
    Log(spdlog::level::err, fmt::format(f, std::forward<A>(a)...));
  }

 private:
  std::string id_;
};

// Services the runtime hosts for components, found by name (as Grafana Agent's
// GetServiceData). Each name has one type, documented here:
//   "cluster": std::shared_ptr<cluster::Cluster> (a one-node cluster when clustering is off)
// Immutable once built; safe to share between threads.
class Services {
 public:
  template <typename T>
  void Set(std::string name, std::shared_ptr<T> value) {
    values_[std::move(name)] = std::move(value);
  }
  // The service, or null when it is not there or is of another type.
  template <typename T>
  std::shared_ptr<T> Get(std::string_view name) const {
    auto it = values_.find(name);
    if (it == values_.end()) return nullptr;
    const auto* p = std::any_cast<std::shared_ptr<T>>(&it->second);
    return p != nullptr ? *p : nullptr;
  }

 private:
  std::map<std::string, std::any, std::less<>> values_;
};

struct Options {
  std::string id;         // "discovery.file.local"
  std::string data_path;  // <--storage.path>/<id>; created by the component when needed
  Logger logger;
  base::Clock* clock = &base::Clock::Real();
  // The process's self metrics (served at /metrics). Components register their metrics here
  // under the names Prometheus uses; families are shared between instances, so series carry
  // the component id in a label where several instances could collide. Never null.
  base::MetricsRegistry* metrics = nullptr;
  // Services of the runtime; null in tests that need none.
  std::shared_ptr<const Services> services;
  // Publishes new exports: an object value (immutable once published) whose fields are what
  // other components read as `<id>.<field>`. Thread-safe; may be called from the factory,
  // Run or Update. Dependants are re-evaluated asynchronously; bursts are coalesced.
  std::function<void(syntax::Value exports)> on_state_change;
};

// ---------------------------------------------------------------------------------------------
// Evaluated arguments with positions.

// One statement of an evaluated block body. Attributes have a value; blocks have a body.
// Positions are of the whole statement (start, end) and, for attributes, of the value
// expression (value_start, value_end), whose source text is value_text (for messages).
struct ArgStmt {
  bool is_block = false;
  std::string name;  // attribute name, or dotted block name
  std::string label;
  bool has_label = false;
  syntax::Pos start, end;
  syntax::Value value;  // attributes
  syntax::Pos value_start, value_end;
  std::string value_text;
  std::vector<ArgStmt> body;  // blocks
  // Set by ArgDecoder when the attribute was decoded into a Secret: ArgBodyToValue then
  // shows it as a secret, even when it was written as a plain string.
  mutable bool sensitive = false;
};
using ArgBody = std::vector<ArgStmt>;

// Evaluates every attribute of `body` (recursing into blocks) in `scope`. `source` is the
// text the body was parsed from (for value_text; may be empty). Reports every error found,
// including a repeated attribute: "attribute \"x\" may only be provided once".
std::variant<ArgBody, syntax::Diagnostics> EvaluateArgs(const syntax::Body& body,
                                                        const syntax::Scope& scope,
                                                        std::string_view source);

// The body as one object value: attributes as fields, blocks as arrays of objects under their
// name (a label, when present, as the field "label"). What the runtime compares on reload to
// decide whether a component's arguments changed, and what the debug API shows; attributes
// decoded as secrets are secret values here, so the API never shows their text.
syntax::Value ArgBodyToValue(const ArgBody& body);

// ---------------------------------------------------------------------------------------------
// Typed decoding of values.

// Secret-typed fields. Secret: River's `secret`; accepts strings and secrets. OptionalSecret:
// accepts strings (not secret) and secrets (secret).
struct Secret {
  std::string text;
  friend bool operator==(const Secret&, const Secret&) = default;
};
struct OptionalSecret {
  std::string text;
  bool is_secret = false;
  friend bool operator==(const OptionalSecret&, const OptionalSecret&) = default;
};

// A shared handle (a receiver, a client) wrapped as a River capsule value. Two capsules are
// == when they hold the same handle.
template <typename T>
class HandleCapsule final : public syntax::Capsule {
 public:
  HandleCapsule(std::string type_name, std::shared_ptr<T> handle)
      : type_name_(std::move(type_name)), handle_(std::move(handle)) {}
  std::string_view type_name() const override { return type_name_; }
  bool Equals(const syntax::Capsule& other) const override {
    auto* o = dynamic_cast<const HandleCapsule<T>*>(&other);
    return o != nullptr && o->handle_ == handle_;
  }
  const std::shared_ptr<T>& handle() const { return handle_; }

 private:
  std::string type_name_;
  std::shared_ptr<T> handle_;
};

// capsule("<type_name>") holding `handle`, e.g. MakeHandle<Receiver>("receiver", r).
template <typename T>
syntax::Value MakeHandle(std::string type_name, std::shared_ptr<T> handle) {
  return syntax::Value::FromCapsule(
      std::make_shared<const HandleCapsule<T>>(std::move(type_name), std::move(handle)));
}

// The handle of a capsule made by MakeHandle<T>, or null when v is something else.
template <typename T>
std::shared_ptr<T> HandleFromValue(const syntax::Value& v) {
  if (v.kind() != syntax::ValueKind::kCapsule) return nullptr;
  auto* c = dynamic_cast<const HandleCapsule<T>*>(&v.AsCapsule());
  return c == nullptr ? nullptr : c->handle();
}

namespace internal {
template <typename T>
struct IsVector : std::false_type {};
template <typename T>
struct IsVector<std::vector<T>> : std::true_type {};
template <typename T>
struct IsMap : std::false_type {};
template <typename T>
struct IsMap<std::map<std::string, T, std::less<>>> : std::true_type {};
template <typename T>
struct IsMap<std::map<std::string, T>> : std::true_type {};
template <typename T>
struct IsOptional : std::false_type {};
template <typename T>
struct IsOptional<std::optional<T>> : std::true_type {};
template <typename T>
struct IsSharedPtr : std::false_type {};
template <typename T>
struct IsSharedPtr<std::shared_ptr<T>> : std::true_type {};

// Error messages follow the evaluator's convention (value.h): "should be string, got
// number", or a path part first: "[2] should be ...", "[\"k\"] should be ...".
base::Status DecodeScalar(const syntax::Value& v, std::string* out);
base::Status DecodeScalar(const syntax::Value& v, bool* out);
base::Status DecodeScalar(const syntax::Value& v, std::int64_t* out);
base::Status DecodeScalar(const syntax::Value& v, std::uint64_t* out);
base::Status DecodeScalar(const syntax::Value& v, int* out);
base::Status DecodeScalar(const syntax::Value& v, double* out);
base::Status DecodeScalar(const syntax::Value& v, std::chrono::nanoseconds* out);
base::Status DecodeScalar(const syntax::Value& v, Secret* out);
base::Status DecodeScalar(const syntax::Value& v, OptionalSecret* out);
base::Status DecodeScalar(const syntax::Value& v, syntax::Value* out);
base::Status PrefixError(const base::Status& s, std::string_view part);
base::Status KindError(const syntax::Value& v, std::string_view want);
}  // namespace internal

// Decodes a River value into a C++ field. Supported: std::string, bool, int64_t, uint64_t,
// int, double, std::chrono::nanoseconds (a duration string, "1m30s"), Secret,
// OptionalSecret, syntax::Value (as is), std::optional<T> (null stays empty),
// std::vector<T> (an array), std::map<std::string, T> (an object) and std::shared_ptr<T>
// (a MakeHandle<T> capsule). Null decodes to the zero value, as River's.
template <typename T>
base::Status DecodeValue(const syntax::Value& v, T* out) {
  if constexpr (internal::IsOptional<T>::value) {
    if (v.is_null()) {
      out->reset();
      return base::Status::Ok();
    }
    typename T::value_type inner{};
    RETURN_IF_ERROR(DecodeValue(v, &inner));
    *out = std::move(inner);
    return base::Status::Ok();
  } else if constexpr (std::is_same_v<T, syntax::Value>) {
    *out = v;
    return base::Status::Ok();
  } else if constexpr (internal::IsVector<T>::value) {
    out->clear();
    if (v.is_null()) return base::Status::Ok();
    if (v.kind() != syntax::ValueKind::kArray) return internal::KindError(v, "array");
    const auto& arr = v.AsArray();
    for (std::size_t i = 0; i < arr.size(); ++i) {
      typename T::value_type elem{};
      base::Status s = DecodeValue(arr[i], &elem);
      if (!s.ok()) return internal::PrefixError(s, "[" + std::to_string(i) + "]");
      out->push_back(std::move(elem));
    }
    return base::Status::Ok();
  } else if constexpr (internal::IsMap<T>::value) {
    out->clear();
    if (v.is_null()) return base::Status::Ok();
    if (v.kind() != syntax::ValueKind::kObject) return internal::KindError(v, "object");
    for (const auto& [k, elem_v] : v.AsObject()) {
      typename T::mapped_type elem{};
      base::Status s = DecodeValue(elem_v, &elem);
      if (!s.ok()) return internal::PrefixError(s, "[\"" + k + "\"]");
      out->emplace(k, std::move(elem));
    }
    return base::Status::Ok();
  } else if constexpr (internal::IsSharedPtr<T>::value) {
    if (v.is_null()) {
      out->reset();
      return base::Status::Ok();
    }
    auto h = HandleFromValue<typename T::element_type>(v);
    if (h == nullptr) return internal::KindError(v, "capsule");
    *out = std::move(h);
    return base::Status::Ok();
  } else {
    if (v.is_null()) {
      *out = T{};
      return base::Status::Ok();
    }
    return internal::DecodeScalar(v, out);
  }
}

// ---------------------------------------------------------------------------------------------
// ArgDecoder: typed, positioned decoding of one block's evaluated body.
//
//   MyArgs args;  // defaults set by the constructor or member initializers
//   d.Required("filename", &args.filename);
//   d.Optional("poll_frequency", &args.poll_frequency);
//   d.Blocks<Rule>("rule", &args.rules, [](ArgDecoder& rd, Rule* r) { rd.Required(...); });
//   d.Block<Tls>("tls_config", &args.tls, DecodeTls);
//   d.Finish();
//
// Every problem becomes a positioned diagnostic in the Diagnostics given at construction,
// with Alloy's wording: `missing required attribute "x"` (at the block), `unrecognized
// attribute name "x"`, `unrecognized block name "x"`, `block "x" may only be specified once`,
// `missing required block "x"`, `"x" must be an attribute, but is used as a block` (and the
// reverse), and type errors as `<value text> should be string, got number` at the value.
// Not thread-safe; one decoder per body.
class ArgDecoder {
 public:
  // block_start/block_end: the block being decoded (for "missing" diagnostics).
  ArgDecoder(const ArgBody& body, syntax::Pos block_start, syntax::Pos block_end,
             syntax::Diagnostics* diags);
  // The decoder keeps a reference to the body: a temporary would dangle.
  ArgDecoder(ArgBody&&, syntax::Pos, syntax::Pos, syntax::Diagnostics*) = delete;

  template <typename T>
  bool Required(std::string_view name, T* out) {
    return Attr(name, out, /*required=*/true);
  }
  // Leaves *out (its default) untouched when the attribute is absent.
  template <typename T>
  bool Optional(std::string_view name, T* out) {
    return Attr(name, out, /*required=*/false);
  }

  // A block that may appear at most once; *present (optional) says whether it did.
  template <typename T>
  void Block(std::string_view name, T* out,
             const std::type_identity_t<std::function<void(ArgDecoder&, T*)>>& decode,
             bool required = false, bool* present = nullptr) {
    std::vector<const ArgStmt*> found = TakeBlocks(name, /*at_most_once=*/true, required);
    if (present != nullptr) *present = !found.empty();
    if (!found.empty()) {
      ArgDecoder sub(found[0]->body, found[0]->start, found[0]->end, diags_);
      decode(sub, out);
      sub.Finish();
    }
  }
  // A block that may appear at most once, decoded into *out when it does.
  template <typename T>
  void OptionalBlock(std::string_view name, std::optional<T>* out,
                     const std::type_identity_t<std::function<void(ArgDecoder&, T*)>>& decode) {
    bool present = false;
    T value{};
    Block<T>(name, &value, decode, /*required=*/false, &present);
    if (present) *out = std::move(value);
  }
  // A block that may appear any number of times; each appends a default-constructed T.
  template <typename T>
  void Blocks(std::string_view name, std::vector<T>* out,
              const std::type_identity_t<std::function<void(ArgDecoder&, T*)>>& decode) {
    for (const ArgStmt* b : TakeBlocks(name, /*at_most_once=*/false, /*required=*/false)) {
      T item{};
      ArgDecoder sub(b->body, b->start, b->end, diags_);
      decode(sub, &item);
      sub.Finish();
      out->push_back(std::move(item));
    }
  }

  // As Blocks, keeping each block's label.
  template <typename T>
  void LabeledBlocks(std::string_view name, std::vector<std::pair<std::string, T>>* out,
                     const std::type_identity_t<std::function<void(ArgDecoder&, T*)>>& decode) {
    for (const ArgStmt* b : TakeBlocks(name, /*at_most_once=*/false, /*required=*/false)) {
      T item{};
      ArgDecoder sub(b->body, b->start, b->end, diags_);
      decode(sub, &item);
      sub.Finish();
      out->emplace_back(b->label, std::move(item));
    }
  }

  // A custom check's error, at the attribute `name` when present, else at the block.
  void AddError(std::string_view name, std::string message);

  // Reports every statement no call above asked for. Returns whether this decoder (and the
  // decoders of its sub-blocks) reported no error. Idempotent.
  bool Finish();

  syntax::Diagnostics* diagnostics() { return diags_; }

 private:
  template <typename T>
  bool Attr(std::string_view name, T* out, bool required) {
    const ArgStmt* a = TakeAttr(name, required);
    if (a == nullptr) return false;
    base::Status s = DecodeValue(a->value, out);
    if (!s.ok()) {
      TypeError(*a, s);
      return false;
    }
    if constexpr (std::is_same_v<T, Secret> || std::is_same_v<T, std::optional<Secret>> ||
                  std::is_same_v<T, std::map<std::string, std::vector<Secret>>>) {
      a->sensitive = true;
    }
    return true;
  }
  const ArgStmt* TakeAttr(std::string_view name, bool required);
  std::vector<const ArgStmt*> TakeBlocks(std::string_view name, bool at_most_once, bool required);
  void TypeError(const ArgStmt& a, const base::Status& s);

  const ArgBody& body_;
  syntax::Pos block_start_, block_end_;
  syntax::Diagnostics* diags_;
  std::vector<bool> used_;
  std::vector<std::string> known_attrs_, known_blocks_;
  std::size_t first_diag_;  // diags_->list().size() at construction
  bool finished_ = false;
};

// ---------------------------------------------------------------------------------------------
// Registry.

// How the runtime builds a component by its block name.
struct Registration {
  std::string name;  // "discovery.file"
  bool supports_clustering = false;
  // Documentation of the exported fields: field name -> description (type and meaning).
  std::map<std::string, std::string> exports;
  // Decodes an evaluated body into Arguments; reports problems into the decoder's
  // diagnostics and may return null then.
  std::function<std::unique_ptr<Arguments>(ArgDecoder&)> decode;
  // Builds the component. An error is reported at the block and rejects the load.
  std::function<base::Result<std::unique_ptr<Component>>(const Options&, const Arguments&)> build;
};

// A Registration for a component with argument type Args (default-constructible, its
// defaults set by member initializers) and a decode function filling it:
//   MakeRegistration<FileArgs>("discovery.file", DecodeFileArgs,
//       [](const Options& o, const FileArgs& a) -> base::Result<std::unique_ptr<Component>> {
//         return std::unique_ptr<Component>(std::make_unique<FileDiscovery>(o, a)); });
template <typename Args>
Registration MakeRegistration(
    std::string name, std::function<void(ArgDecoder&, Args*)> decode,
    std::function<base::Result<std::unique_ptr<Component>>(const Options&, const Args&)> build) {
  Registration r;
  r.name = std::move(name);
  r.decode = [decode = std::move(decode)](ArgDecoder& d) -> std::unique_ptr<Arguments> {
    Args args{};
    decode(d, &args);
    if (!d.Finish()) return nullptr;
    return std::make_unique<TypedArguments<Args>>(std::move(args));
  };
  r.build = [build = std::move(build)](const Options& o, const Arguments& a) {
    return build(o, ArgsAs<Args>(a));
  };
  return r;
}

// Name -> Registration. Filled once at startup (RegisterAllComponents in src/cmd/starling),
// then only read: reads are thread-safe once registration is over.
class Registry {
 public:
  // Fails (AlreadyExists) when the name is taken, InvalidArgument when it is not a dotted
  // list of identifiers or decode/build are missing.
  base::Status Register(Registration r);
  const Registration* Find(std::string_view name) const;
  std::vector<std::string> Names() const;  // sorted

 private:
  std::map<std::string, Registration, std::less<>> regs_;
};

}  // namespace starling::component
