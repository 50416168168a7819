#include "component/component.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <set>

#include "base/go_duration.h"

namespace starling::component {
namespace {

using syntax::Pos;
using syntax::Value;
using syntax::ValueKind;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The position just past the closing brace of a block.
Pos AfterPos(Pos p) {
  if (!p.valid()) return p;
  return Pos{p.offset + 1, p.line, p.col + 1};
}

std::string SourceText(std::string_view source, Pos start, Pos end) {
  if (source.empty() || start.offset < 0 || end.offset < start.offset ||
      static_cast<std::size_t>(end.offset) > source.size()) {
    return "";
  }
  return std::string(
      source.substr(static_cast<std::size_t>(start.offset),
                    static_cast<std::size_t>(end.offset) - static_cast<std::size_t>(start.offset)));
}

void EvaluateInto(const syntax::Body& body, const syntax::Scope& scope, std::string_view source,
                  ArgBody* out, syntax::Diagnostics* diags) {
  std::set<std::string, std::less<>> seen_attrs;
  for (const syntax::StmtPtr& stmt : body) {
    if (stmt->kind == syntax::StmtKind::kAttribute) {
      const auto& a = static_cast<const syntax::AttributeStmt&>(*stmt);
      ArgStmt s;
      s.name = a.name.name;
      s.start = a.name.pos;
      s.value_start = syntax::StartPos(*a.value);
      s.value_end = syntax::EndPos(*a.value);
      s.end = s.value_end;
      if (!seen_attrs.insert(a.name.name).second) {
        diags->Add(s.start, "attribute " + Quote(s.name) + " may only be provided once", s.end);
        continue;
      }
      auto v = syntax::Evaluate(*a.value, scope);
      if (auto* d = std::get_if<syntax::Diagnostic>(&v)) {
        diags->Add(d->start, d->message, d->end);
        continue;
      }
      s.value = std::move(std::get<Value>(v));
      s.value_text = SourceText(source, s.value_start, s.value_end);
      out->push_back(std::move(s));
    } else {
      const auto& b = static_cast<const syntax::BlockStmt&>(*stmt);
      ArgStmt s;
      s.is_block = true;
      s.name = b.FullName();
      s.label = b.label;
      s.has_label = b.has_label;
      s.start = b.name_pos;
      s.end = AfterPos(b.rcurly);
      EvaluateInto(b.body, scope, source, &s.body, diags);
      out->push_back(std::move(s));
    }
  }
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view HealthStateName(HealthState s) {
  switch (s) {
    case HealthState::kUnknown:
      return "unknown";
    case HealthState::kHealthy:
      return "healthy";
    case HealthState::kUnhealthy:
      return "unhealthy";
    case HealthState::kExited:
      return "exited";
  }
  return "unknown";
}

void Logger::Log(spdlog::level::level_enum level, std::string_view msg) const {
  if (id_.empty()) {
    spdlog::log(level, "{}", msg);
  } else {
    spdlog::log(level, "{}: {}", id_, msg);
  }
}

std::variant<ArgBody, syntax::Diagnostics> EvaluateArgs(const syntax::Body& body,
                                                        const syntax::Scope& scope,
                                                        std::string_view source) {
  ArgBody out;
  syntax::Diagnostics diags;
  EvaluateInto(body, scope, source, &out, &diags);
  if (diags.HasErrors()) return diags;
  return out;
}

Value ArgBodyToValue(const ArgBody& body) {
  syntax::ValueObject obj;
  std::map<std::string, syntax::ValueArray> blocks;
  for (const ArgStmt& s : body) {
    if (!s.is_block) {
      obj[s.name] = s.sensitive && s.value.kind() == syntax::ValueKind::kString
                        ? Value::Secret(s.value.AsString())
                        : s.value;
      continue;
    }
    Value inner = ArgBodyToValue(s.body);
    if (s.has_label) {
      syntax::ValueObject o = inner.AsObject();
      o["label"] = Value::String(s.label);
      inner = Value::Object(std::move(o));
    }
    blocks[s.name].push_back(std::move(inner));
  }
  for (auto& [name, arr] : blocks) obj[name] = Value::Array(std::move(arr));
  return Value::Object(std::move(obj));
}

namespace internal {

base::Status KindError(const Value& v, std::string_view want) {
  return base::Status::InvalidArgument("should be " + std::string(want) + ", got " + v.TypeName());
}

base::Status PrefixError(const base::Status& s, std::string_view part) {
  const std::string& m = s.message();
  bool join = !m.empty() && (m[0] == '[' || m[0] == '.');
  return {s.code(), std::string(part) + (join ? "" : " ") + m};
}

base::Status DecodeScalar(const Value& v, std::string* out) {
  ASSIGN_OR_RETURN(Value s, syntax::ConvertTo(v, ValueKind::kString));
  *out = s.AsString();
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, bool* out) {
  ASSIGN_OR_RETURN(Value b, syntax::ConvertTo(v, ValueKind::kBool));
  *out = b.AsBool();
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, std::int64_t* out) {
  ASSIGN_OR_RETURN(Value n, syntax::ConvertTo(v, ValueKind::kNumber));
  switch (n.number_kind()) {
    case syntax::NumberKind::kInt:
      *out = n.AsInt();
      return base::Status::Ok();
    case syntax::NumberKind::kUint:
      if (n.AsUint() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return base::Status::InvalidArgument("number " + syntax::NumberToString(n) +
                                             " overflows int");
      }
      *out = static_cast<std::int64_t>(n.AsUint());
      return base::Status::Ok();
    case syntax::NumberKind::kFloat: {
      double f = n.AsFloat();
      if (std::trunc(f) != f || f < -9.2233720368547758e18 || f >= 9.2233720368547758e18) {
        return base::Status::InvalidArgument("cannot convert float " + syntax::NumberToString(n) +
                                             " to an integer");
      }
      *out = static_cast<std::int64_t>(f);
      return base::Status::Ok();
    }
  }
  return base::Status::Internal("unreachable");
}

base::Status DecodeScalar(const Value& v, std::uint64_t* out) {
  ASSIGN_OR_RETURN(Value n, syntax::ConvertTo(v, ValueKind::kNumber));
  if (n.number_kind() == syntax::NumberKind::kUint) {
    *out = n.AsUint();
    return base::Status::Ok();
  }
  std::int64_t i = 0;
  RETURN_IF_ERROR(DecodeScalar(n, &i));
  if (i < 0) {
    return base::Status::InvalidArgument("number " + syntax::NumberToString(n) +
                                         " is negative, want an unsigned integer");
  }
  *out = static_cast<std::uint64_t>(i);
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, int* out) {
  std::int64_t i = 0;
  RETURN_IF_ERROR(DecodeScalar(v, &i));
  if (i < std::numeric_limits<int>::min() || i > std::numeric_limits<int>::max()) {
    return base::Status::InvalidArgument("number " + std::to_string(i) + " overflows int32");
  }
  *out = static_cast<int>(i);
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, double* out) {
  ASSIGN_OR_RETURN(Value n, syntax::ConvertTo(v, ValueKind::kNumber));
  *out = n.AsFloat();
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, std::chrono::nanoseconds* out) {
  ASSIGN_OR_RETURN(Value s, syntax::ConvertTo(v, ValueKind::kString));
  ASSIGN_OR_RETURN(*out, base::ParseGoDuration(s.AsString()));
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, Secret* out) {
  ASSIGN_OR_RETURN(Value s, syntax::ConvertToSecret(v));
  out->text = s.SecretText();
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, OptionalSecret* out) {
  ASSIGN_OR_RETURN(Value s, syntax::ConvertToOptionalSecret(v));
  out->text = s.SecretText();
  out->is_secret = s.IsSecret();
  return base::Status::Ok();
}

base::Status DecodeScalar(const Value& v, Value* out) {
  *out = v;
  return base::Status::Ok();
}

}  // namespace internal

ArgDecoder::ArgDecoder(const ArgBody& body, Pos block_start, Pos block_end,
                       syntax::Diagnostics* diags)
    : body_(body),
      block_start_(block_start),
      block_end_(block_end),
      diags_(diags),
      used_(body.size(), false),
      first_diag_(diags->list().size()) {}

const ArgStmt* ArgDecoder::TakeAttr(std::string_view name, bool required) {
  known_attrs_.emplace_back(name);
  const ArgStmt* found = nullptr;
  for (std::size_t i = 0; i < body_.size(); ++i) {
    const ArgStmt& s = body_[i];
    if (s.name != name || used_[i]) continue;
    used_[i] = true;
    if (s.is_block) {
      diags_->Add(s.start, Quote(name) + " must be an attribute, but is used as a block", s.end);
      return nullptr;
    }
    if (found == nullptr) found = &s;
  }
  if (found == nullptr && required) {
    diags_->Add(block_start_, "missing required attribute " + Quote(name), block_end_);
  }
  return found;
}

std::vector<const ArgStmt*> ArgDecoder::TakeBlocks(std::string_view name, bool at_most_once,
                                                   bool required) {
  known_blocks_.emplace_back(name);
  std::vector<const ArgStmt*> found;
  bool misused = false;
  for (std::size_t i = 0; i < body_.size(); ++i) {
    const ArgStmt& s = body_[i];
    if (s.name != name || used_[i]) continue;
    used_[i] = true;
    if (!s.is_block) {
      diags_->Add(s.start, Quote(name) + " must be a block, but is used as an attribute", s.end);
      misused = true;
      continue;
    }
    if (at_most_once && !found.empty()) {
      diags_->Add(s.start, "block " + Quote(name) + " may only be specified once", s.end);
      continue;
    }
    found.push_back(&s);
  }
  if (found.empty() && required && !misused) {
    diags_->Add(block_start_, "missing required block " + Quote(name), block_end_);
  }
  return found;
}

void ArgDecoder::TypeError(const ArgStmt& a, const base::Status& s) {
  const std::string& m = s.message();
  std::string subject = a.value_text.empty() ? a.name : a.value_text;
  bool join = !m.empty() && (m[0] == '[' || m[0] == '.');
  diags_->Add(a.value_start, subject + (join ? "" : " ") + m, a.value_end);
}

void ArgDecoder::AddError(std::string_view name, std::string message) {
  for (const ArgStmt& s : body_) {
    if (s.name == name) {
      if (s.is_block) {
        diags_->Add(s.start, std::move(message), s.end);
      } else {
        diags_->Add(s.value_start, std::move(message), s.value_end);
      }
      return;
    }
  }
  diags_->Add(block_start_, std::move(message), block_end_);
}

bool ArgDecoder::Finish() {
  if (!finished_) {
    finished_ = true;
    for (std::size_t i = 0; i < body_.size(); ++i) {
      if (used_[i]) continue;
      const ArgStmt& s = body_[i];
      diags_->Add(s.start,
                  (s.is_block ? "unrecognized block name " : "unrecognized attribute name ") +
                      Quote(s.name),
                  s.end);
    }
  }
  const auto& list = diags_->list();
  for (std::size_t i = first_diag_; i < list.size(); ++i) {
    if (list[i].severity == syntax::Severity::kError) return false;
  }
  return true;
}

base::Status Registry::Register(Registration r) {
  auto valid_ident = [](std::string_view part) {
    if (part.empty()) return false;
    for (std::size_t i = 0; i < part.size(); ++i) {
      char c = part[i];
      bool ok =
          (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && IsDigit(c));
      if (!ok) return false;
    }
    return true;
  };
  std::string_view rest = r.name;
  while (true) {
    std::size_t dot = rest.find('.');
    if (!valid_ident(rest.substr(0, dot))) {
      return base::Status::InvalidArgument("invalid component name " + Quote(r.name));
    }
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (!r.decode || !r.build) {
    return base::Status::InvalidArgument("component " + Quote(r.name) +
                                         " needs a decode and a build function");
  }
  if (regs_.contains(r.name)) {
    return base::Status::AlreadyExists("component " + Quote(r.name) + " is already registered");
  }
  std::string name = r.name;
  regs_.emplace(std::move(name), std::move(r));
  return base::Status::Ok();
}

const Registration* Registry::Find(std::string_view name) const {
  auto it = regs_.find(name);
  return it == regs_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::Names() const {
  std::vector<std::string> out;
  out.reserve(regs_.size());
  for (const auto& [name, r] : regs_) out.push_back(name);
  return out;
}

}  // namespace starling::component
