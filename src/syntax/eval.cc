#include "syntax/eval.h"

#include <cmath>
#include <exception>
#include <limits>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>

#include "syntax/go_strconv.h"
#include "syntax/scanner.h"
#include "syntax/stdlib.h"

namespace starling::syntax {

const Value* Scope::Lookup(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent_) {
    auto it = s->vars_.find(name);
    if (it != s->vars_.end()) return &it->second;
  }
  // As River: names not bound by any scope fall back to the standard library.
  const ValueObject& std_values = StdlibValues();
  auto it = std_values.find(name);
  if (it != std_values.end()) return &it->second;
  return nullptr;
}

namespace {

// Deeper nesting than this (through arrays, objects, arguments, right operands) is reported
// as an error instead of risking the stack. Chains along the left (a.b.c, 1 + 2 + 3, f()()),
// unary operators and parentheses are walked in a loop and do not count.
constexpr int kMaxDepth = 1000;

// ---------------------------------------------------------------------------------------
// Printing an expression as River's printer does, for the "<expr> <problem>" messages. Every
// expression is printed on one line; River keeps the line breaks of multi-line arrays,
// objects and calls.

void PrintExpr(const Expr& e, std::string* out, int depth = 0);

void PrintList(const std::vector<ExprPtr>& items, std::string* out, int depth) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) *out += ", ";
    if (items[i]) PrintExpr(*items[i], out, depth + 1);
  }
}

void PrintExpr(const Expr& e, std::string* out, int depth) {
  if (depth > kMaxDepth) {
    *out += "...";
    return;
  }
  switch (e.kind) {
    case ExprKind::kLiteral:
      *out += static_cast<const LiteralExpr&>(e).value;
      return;
    case ExprKind::kIdentifier:
      *out += static_cast<const IdentifierExpr&>(e).ident.name;
      return;
    case ExprKind::kArray:
      *out += '[';
      PrintList(static_cast<const ArrayExpr&>(e).elements, out, depth);
      *out += ']';
      return;
    case ExprKind::kObject: {
      const auto& o = static_cast<const ObjectExpr&>(e);
      *out += '{';
      for (size_t i = 0; i < o.fields.size(); ++i) {
        if (i > 0) *out += ", ";
        const ObjectField& f = o.fields[i];
        *out += f.quoted ? QuoteString(f.name.name) : f.name.name;
        *out += " = ";
        if (f.value) PrintExpr(*f.value, out, depth + 1);
      }
      *out += '}';
      return;
    }
    case ExprKind::kAccess: {
      const auto& a = static_cast<const AccessExpr&>(e);
      if (a.value) PrintExpr(*a.value, out, depth + 1);
      *out += '.';
      *out += a.name.name;
      return;
    }
    case ExprKind::kIndex: {
      const auto& x = static_cast<const IndexExpr&>(e);
      if (x.value) PrintExpr(*x.value, out, depth + 1);
      *out += '[';
      if (x.index) PrintExpr(*x.index, out, depth + 1);
      *out += ']';
      return;
    }
    case ExprKind::kCall: {
      const auto& c = static_cast<const CallExpr&>(e);
      if (c.value) PrintExpr(*c.value, out, depth + 1);
      *out += '(';
      PrintList(c.args, out, depth);
      *out += ')';
      return;
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      *out += TokenString(u.op);
      if (u.value) PrintExpr(*u.value, out, depth + 1);
      return;
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      if (b.left) PrintExpr(*b.left, out, depth + 1);
      *out += ' ';
      *out += TokenString(b.op);
      *out += ' ';
      if (b.right) PrintExpr(*b.right, out, depth + 1);
      return;
    }
    case ExprKind::kParen: {
      const auto& p = static_cast<const ParenExpr&>(e);
      *out += '(';
      if (p.inner) PrintExpr(*p.inner, out, depth + 1);
      *out += ')';
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Literals.

std::string ParseFloatError(std::string_view lit, bool range_error) {
  return "strconv.ParseFloat: parsing " + QuoteString(lit) +
         (range_error ? ": value out of range" : ": invalid syntax");
}

// ---------------------------------------------------------------------------------------
// Number arithmetic with River's (Go's) kinds and wrap-around.

enum class Fit { kUint, kInt, kFloat };

// The wider of the two kinds: uint < int < float.
Fit FitKinds(const Value& a, const Value& b) {
  NumberKind ka = a.number_kind(), kb = b.number_kind();
  if (ka == NumberKind::kFloat || kb == NumberKind::kFloat) return Fit::kFloat;
  if (ka == NumberKind::kInt || kb == NumberKind::kInt) return Fit::kInt;
  return Fit::kUint;
}

// Go's float64 -> int64 conversion on amd64: out of range and NaN give the minimum int64.
std::int64_t FloatToInt(double f) {
  if (std::isnan(f) || f >= 9223372036854775808.0 || f < -9223372036854775808.0) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return static_cast<std::int64_t>(f);
}

std::uint64_t FloatToUint(double f) {
  if (std::isnan(f)) return 0x8000000000000000ULL;
  if (f >= 0 && f < 18446744073709551616.0) return static_cast<std::uint64_t>(f);
  if (f < 0 && f >= -9223372036854775808.0) {
    return static_cast<std::uint64_t>(static_cast<std::int64_t>(f));
  }
  return 0x8000000000000000ULL;
}

std::int64_t NumInt(const Value& v) {
  switch (v.number_kind()) {
    case NumberKind::kInt:
      return v.AsInt();
    case NumberKind::kUint:
      return static_cast<std::int64_t>(v.AsUint());
    case NumberKind::kFloat:
      return FloatToInt(v.AsFloat());
  }
  return 0;
}

std::uint64_t NumUint(const Value& v) {
  switch (v.number_kind()) {
    case NumberKind::kInt:
      return static_cast<std::uint64_t>(v.AsInt());
    case NumberKind::kUint:
      return v.AsUint();
    case NumberKind::kFloat:
      return FloatToUint(v.AsFloat());
  }
  return 0;
}

std::int64_t WrapInt(std::uint64_t u) { return static_cast<std::int64_t>(u); }

// n^m with Go's wrapping multiplication, as River's loop computes it (m <= 0 keeps the
// documented quirks: m == 0 gives 1, a negative m gives n), but in O(log m) steps.
std::uint64_t PowBits(std::uint64_t n, std::uint64_t m) {
  std::uint64_t result = 1;
  while (m > 0) {
    if (m & 1) result *= n;
    n *= n;
    m >>= 1;
  }
  return result;
}

std::int64_t IntPow(std::int64_t n, std::int64_t m) {
  if (m == 0) return 1;
  if (m < 0) return n;
  return WrapInt(PowBits(static_cast<std::uint64_t>(n), static_cast<std::uint64_t>(m)));
}

std::uint64_t UintPow(std::uint64_t n, std::uint64_t m) {
  if (m == 0) return 1;
  return PowBits(n, m);
}

std::string_view OpName(Token op) { return TokenString(op); }

// River's binopAllowedTypes, printed as Go prints a []value.Type.
const char* AllowedTypes(Token op) {
  switch (op) {
    case Token::kOr:
    case Token::kAnd:
      return "[bool]";
    case Token::kAdd:
    case Token::kLt:
    case Token::kGt:
    case Token::kLte:
    case Token::kGte:
      return "[number string]";
    default:
      return "[number]";
  }
}

bool Acceptable(const Value& v, Token op) {
  ValueKind k = v.kind();
  switch (op) {
    case Token::kOr:
    case Token::kAnd:
      return k == ValueKind::kBool;
    case Token::kAdd:
    case Token::kLt:
    case Token::kGt:
    case Token::kLte:
    case Token::kGte:
      return k == ValueKind::kNumber || k == ValueKind::kString;
    default:
      return k == ValueKind::kNumber;
  }
}

// An `optional secret` not marked secret takes part in operators as its string.
Value UnwrapOptionalSecret(const Value& v) {
  if (v.kind() == ValueKind::kCapsule && v.IsOptionalSecret() && !v.IsSecret()) {
    return Value::String(v.SecretText());
  }
  return v;
}

bool IsZero(const Value& v) {
  switch (v.number_kind()) {
    case NumberKind::kInt:
      return v.AsInt() == 0;
    case NumberKind::kUint:
      return v.AsUint() == 0;
    case NumberKind::kFloat:
      return v.AsFloat() == 0;
  }
  return false;
}

template <typename Cmp>
Value Compare(const Value& l, const Value& r, Cmp cmp) {
  if (l.kind() == ValueKind::kString) return Value::Bool(cmp(l.AsString(), r.AsString()));
  switch (FitKinds(l, r)) {
    case Fit::kUint:
      return Value::Bool(cmp(NumUint(l), NumUint(r)));
    case Fit::kInt:
      return Value::Bool(cmp(NumInt(l), NumInt(r)));
    case Fit::kFloat:
      return Value::Bool(cmp(l.AsFloat(), r.AsFloat()));
  }
  return Value::Bool(false);
}

// ---------------------------------------------------------------------------------------

class Evaluator {
 public:
  explicit Evaluator(const Scope& scope) : scope_(scope) {}

  // Evaluates e into *out; on failure fills diag() and returns false.
  bool Eval(const Expr& e, Value* out);

  Diagnostic& diag() { return diag_; }

 private:
  struct DepthGuard {
    explicit DepthGuard(int* d) : depth(d) { ++*depth; }
    ~DepthGuard() { --*depth; }
    int* depth;
  };

  bool EvalLeaf(const Expr& e, Value* out);
  bool Apply(const Expr& e, Value* v);
  bool EvalLiteral(const LiteralExpr& e, Value* out);
  bool EvalBinary(const BinaryExpr& e, Value* v);
  bool EvalUnary(const UnaryExpr& e, Value* v);
  bool EvalAccess(const AccessExpr& e, Value* v);
  bool EvalIndex(const IndexExpr& e, Value* v);
  bool EvalCall(const CallExpr& e, Value* v);

  // River's message for a problem with the value of `blame`: the expression as printed,
  // then the problem, positioned at the expression.
  bool Fail(const Expr* blame, std::string_view problem) {
    if (blame == nullptr) return FailAt({}, {}, std::string(problem));
    std::string msg;
    PrintExpr(*blame, &msg);
    // A problem deeper inside the value ("[2] should be ...", ".a should be ...") continues
    // the expression text; anything else is a separate phrase.
    if (problem.empty() || (problem[0] != '[' && problem[0] != '.')) msg += ' ';
    msg += problem;
    return FailAt(StartPos(*blame), EndPos(*blame), std::move(msg));
  }
  bool FailAt(Pos start, Pos end, std::string message) {
    diag_ = Diagnostic{Severity::kError, start, end, std::move(message)};
    return false;
  }
  bool TypeError(const Expr* blame, const Value& got, ValueKind want) {
    return Fail(blame, "should be " + std::string(ValueKindName(want)) + ", got " +
                           std::string(ValueKindName(got.kind())));
  }

  const Scope& scope_;
  Diagnostic diag_;
  int depth_ = 0;
  std::vector<const Expr*> spine_;  // shared stack of pending operators, see Eval
};

bool Evaluator::Eval(const Expr& e, Value* out) {
  DepthGuard guard(&depth_);
  if (depth_ > kMaxDepth) {
    return FailAt(StartPos(e), EndPos(e), "expression is nested too deeply");
  }
  // Walk down the left spine (operators whose first operand is evaluated first), evaluate
  // the leaf, then apply the pending operators innermost first. Nested calls to Eval push
  // above `base` and pop back to it before returning.
  const size_t base = spine_.size();
  const Expr* cur = &e;
  for (;;) {
    const Expr* next = nullptr;
    switch (cur->kind) {
      case ExprKind::kBinary:
        next = static_cast<const BinaryExpr*>(cur)->left.get();
        break;
      case ExprKind::kAccess:
        next = static_cast<const AccessExpr*>(cur)->value.get();
        break;
      case ExprKind::kIndex:
        next = static_cast<const IndexExpr*>(cur)->value.get();
        break;
      case ExprKind::kCall:
        next = static_cast<const CallExpr*>(cur)->value.get();
        break;
      case ExprKind::kUnary:
        next = static_cast<const UnaryExpr*>(cur)->value.get();
        break;
      case ExprKind::kParen:
        next = static_cast<const ParenExpr*>(cur)->inner.get();
        break;
      default:
        break;
    }
    if (next == nullptr) break;
    spine_.push_back(cur);
    cur = next;
  }

  // A node left on `cur` with a missing child (only in hand-built trees) fails in EvalLeaf.
  Value v;
  bool ok = EvalLeaf(*cur, &v);
  while (ok && spine_.size() > base) {
    const Expr* op = spine_.back();
    spine_.pop_back();
    ok = Apply(*op, &v);
  }
  spine_.resize(base);
  if (!ok) return false;
  *out = std::move(v);
  return true;
}

bool Evaluator::EvalLeaf(const Expr& e, Value* out) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return EvalLiteral(static_cast<const LiteralExpr&>(e), out);
    case ExprKind::kIdentifier: {
      const auto& id = static_cast<const IdentifierExpr&>(e).ident;
      const Value* v = scope_.Lookup(id.name);
      if (v == nullptr) {
        return FailAt(StartPos(e), EndPos(e),
                      "identifier " + QuoteString(id.name) + " does not exist");
      }
      *out = *v;
      return true;
    }
    case ExprKind::kArray: {
      const auto& a = static_cast<const ArrayExpr&>(e);
      ValueArray items;
      items.reserve(a.elements.size());
      for (const ExprPtr& el : a.elements) {
        Value v;
        if (!el) return FailAt(a.lbrack, a.rbrack, "incomplete expression");
        if (!Eval(*el, &v)) return false;
        items.push_back(std::move(v));
      }
      *out = Value::Array(std::move(items));
      return true;
    }
    case ExprKind::kObject: {
      const auto& o = static_cast<const ObjectExpr&>(e);
      ValueObject fields;
      for (const ObjectField& f : o.fields) {
        Value v;
        if (!f.value) return FailAt(f.name.pos, f.name.pos, "incomplete expression");
        if (!Eval(*f.value, &v)) return false;
        // As River: a repeated key keeps the last value.
        fields.insert_or_assign(f.name.name, std::move(v));
      }
      *out = Value::Object(std::move(fields));
      return true;
    }
    default:
      return FailAt(StartPos(e), EndPos(e), "incomplete expression");
  }
}

bool Evaluator::Apply(const Expr& e, Value* v) {
  switch (e.kind) {
    case ExprKind::kBinary:
      return EvalBinary(static_cast<const BinaryExpr&>(e), v);
    case ExprKind::kUnary:
      return EvalUnary(static_cast<const UnaryExpr&>(e), v);
    case ExprKind::kAccess:
      return EvalAccess(static_cast<const AccessExpr&>(e), v);
    case ExprKind::kIndex:
      return EvalIndex(static_cast<const IndexExpr&>(e), v);
    case ExprKind::kCall:
      return EvalCall(static_cast<const CallExpr&>(e), v);
    case ExprKind::kParen:
      return true;
    default:
      return FailAt(StartPos(e), EndPos(e), "incomplete expression");
  }
}

bool Evaluator::EvalLiteral(const LiteralExpr& e, Value* out) {
  const std::string& lit = e.value;
  switch (e.token) {
    case Token::kNull:
      *out = Value::Null();
      return true;
    case Token::kBool:
      if (lit == "true" || lit == "false") {
        *out = Value::Bool(lit == "true");
        return true;
      }
      return FailAt(e.pos, EndPos(e), "invalid boolean literal " + QuoteString(lit));
    case Token::kNumber: {
      // As River: int64 when it fits, else uint64, else float64 (so `08` is the float 8).
      if (std::optional<std::uint64_t> u = ParseGoUint(lit)) {
        if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          *out = Value::Int(static_cast<std::int64_t>(*u));
        } else {
          *out = Value::Uint(*u);
        }
        return true;
      }
      [[fallthrough]];
    }
    case Token::kFloat: {
      double d = 0;
      bool range_error = false;
      if (!ParseGoFloat(lit, &d, &range_error)) {
        return FailAt(e.pos, EndPos(e), ParseFloatError(lit, range_error));
      }
      *out = Value::Float(d);
      return true;
    }
    case Token::kString: {
      base::Result<std::string> s = UnquoteString(lit);
      if (!s.ok()) return FailAt(e.pos, EndPos(e), s.error().message());
      *out = Value::String(std::move(s).value());
      return true;
    }
    default:
      return FailAt(e.pos, EndPos(e), "invalid literal " + QuoteString(lit));
  }
}

bool Evaluator::EvalBinary(const BinaryExpr& e, Value* v) {
  Value orig_lhs = std::move(*v);
  Value orig_rhs;
  if (!e.right) return FailAt(e.op_pos, EndPos(e), "incomplete expression");
  if (!Eval(*e.right, &orig_rhs)) return false;
  const Expr* lexpr = e.left.get();
  const Expr* rexpr = e.right.get();

  Value lhs = UnwrapOptionalSecret(orig_lhs);
  Value rhs = UnwrapOptionalSecret(orig_rhs);

  const Token op = e.op;
  if (op == Token::kEq) {
    *v = Value::Bool(lhs == rhs);
    return true;
  }
  if (op == Token::kNeq) {
    *v = Value::Bool(!(lhs == rhs));
    return true;
  }
  switch (op) {
    case Token::kOr:
    case Token::kAnd:
    case Token::kAdd:
    case Token::kSub:
    case Token::kMul:
    case Token::kDiv:
    case Token::kMod:
    case Token::kPow:
    case Token::kLt:
    case Token::kGt:
    case Token::kLte:
    case Token::kGte:
      break;
    default:
      return FailAt(e.op_pos, EndPos(e), "invalid binary operator " + std::string(OpName(op)));
  }

  auto not_acceptable = [&](const Expr* blame, const Value& val) {
    return Fail(blame, "should be one of " + std::string(AllowedTypes(op)) + " for binop " +
                           std::string(OpName(op)) + ", got " +
                           std::string(ValueKindName(val.kind())));
  };
  if (!Acceptable(lhs, op)) return not_acceptable(lexpr, lhs);
  if (!Acceptable(rhs, op)) return not_acceptable(rexpr, rhs);
  if (lhs.kind() != rhs.kind()) return TypeError(rexpr, rhs, lhs.kind());

  switch (op) {
    case Token::kOr:
      *v = Value::Bool(lhs.AsBool() || rhs.AsBool());
      return true;
    case Token::kAnd:
      *v = Value::Bool(lhs.AsBool() && rhs.AsBool());
      return true;
    case Token::kLt:
      *v = Compare(lhs, rhs, [](const auto& a, const auto& b) { return a < b; });
      return true;
    case Token::kGt:
      *v = Compare(lhs, rhs, [](const auto& a, const auto& b) { return a > b; });
      return true;
    case Token::kLte:
      *v = Compare(lhs, rhs, [](const auto& a, const auto& b) { return a <= b; });
      return true;
    case Token::kGte:
      *v = Compare(lhs, rhs, [](const auto& a, const auto& b) { return a >= b; });
      return true;
    case Token::kAdd:
      if (lhs.kind() == ValueKind::kString) {
        std::string s;
        s.reserve(lhs.AsString().size() + rhs.AsString().size());
        s += lhs.AsString();
        s += rhs.AsString();
        *v = Value::String(std::move(s));
        return true;
      }
      break;
    default:
      break;
  }

  // Arithmetic on two numbers.
  if ((op == Token::kDiv || op == Token::kMod) && IsZero(rhs)) {
    return Fail(rexpr, "divide by zero error");
  }
  const Fit fit = FitKinds(lhs, rhs);
  if (fit == Fit::kFloat) {
    double a = lhs.AsFloat(), b = rhs.AsFloat(), r = 0;
    switch (op) {
      case Token::kAdd:
        r = a + b;
        break;
      case Token::kSub:
        r = a - b;
        break;
      case Token::kMul:
        r = a * b;
        break;
      case Token::kDiv:
        r = a / b;
        break;
      case Token::kMod:
        r = std::fmod(a, b);
        break;
      case Token::kPow:
        r = std::pow(a, b);
        break;
      default:
        break;
    }
    *v = Value::Float(r);
    return true;
  }
  if (fit == Fit::kUint) {
    std::uint64_t a = NumUint(lhs), b = NumUint(rhs), r = 0;
    switch (op) {
      case Token::kAdd:
        r = a + b;
        break;
      case Token::kSub:
        r = a - b;
        break;
      case Token::kMul:
        r = a * b;
        break;
      case Token::kDiv:
        r = a / b;
        break;
      case Token::kMod:
        r = a % b;
        break;
      case Token::kPow:
        r = UintPow(a, b);
        break;
      default:
        break;
    }
    *v = Value::Uint(r);
    return true;
  }
  // Signed: wrap around as Go does, through unsigned arithmetic.
  std::int64_t a = NumInt(lhs), b = NumInt(rhs), r = 0;
  const auto ua = static_cast<std::uint64_t>(a), ub = static_cast<std::uint64_t>(b);
  switch (op) {
    case Token::kAdd:
      r = WrapInt(ua + ub);
      break;
    case Token::kSub:
      r = WrapInt(ua - ub);
      break;
    case Token::kMul:
      r = WrapInt(ua * ub);
      break;
    case Token::kDiv:
      // Go defines MinInt64 / -1 as MinInt64 (and the remainder as 0).
      r = (b == -1) ? WrapInt(0 - ua) : a / b;
      break;
    case Token::kMod:
      r = (b == -1) ? 0 : a % b;
      break;
    case Token::kPow:
      r = IntPow(a, b);
      break;
    default:
      break;
  }
  *v = Value::Int(r);
  return true;
}

bool Evaluator::EvalUnary(const UnaryExpr& e, Value* v) {
  const Expr* blame = e.value.get();
  switch (e.op) {
    case Token::kNot:
      if (v->kind() != ValueKind::kBool) return TypeError(blame, *v, ValueKind::kBool);
      *v = Value::Bool(!v->AsBool());
      return true;
    case Token::kSub:
      if (v->kind() != ValueKind::kNumber) return TypeError(blame, *v, ValueKind::kNumber);
      if (v->number_kind() == NumberKind::kFloat) {
        *v = Value::Float(-v->AsFloat());
      } else {
        // As River: negating an unsigned number gives a signed one.
        *v = Value::Int(WrapInt(0 - static_cast<std::uint64_t>(NumInt(*v))));
      }
      return true;
    default:
      return FailAt(e.op_pos, EndPos(e), "invalid unary operator " + std::string(OpName(e.op)));
  }
}

bool Evaluator::EvalAccess(const AccessExpr& e, Value* v) {
  if (v->kind() != ValueKind::kObject) {
    return Fail(e.value.get(), "cannot access field " + QuoteString(e.name.name) +
                                   " on value of type " + std::string(ValueKindName(v->kind())));
  }
  const ValueObject& obj = v->AsObject();
  auto it = obj.find(e.name.name);
  if (it == obj.end()) {
    Pos end = e.name.pos;
    end.offset += static_cast<int>(e.name.name.size());
    end.col += static_cast<int>(e.name.name.size());
    return FailAt(e.name.pos, end, "field " + QuoteString(e.name.name) + " does not exist");
  }
  Value field = it->second;
  *v = std::move(field);
  return true;
}

bool Evaluator::EvalIndex(const IndexExpr& e, Value* v) {
  if (!e.index) return FailAt(e.lbrack, e.rbrack, "incomplete expression");
  Value idx;
  if (!Eval(*e.index, &idx)) return false;
  const Expr* idx_expr = e.index.get();
  switch (v->kind()) {
    case ValueKind::kArray: {
      if (idx.kind() != ValueKind::kNumber) return TypeError(idx_expr, idx, ValueKind::kNumber);
      const ValueArray& arr = v->AsArray();
      const std::int64_t i = NumInt(idx);
      if (i < 0 || static_cast<std::uint64_t>(i) >= arr.size()) {
        return Fail(idx_expr, "index " + std::to_string(i) +
                                  " is out of range of array with length " +
                                  std::to_string(arr.size()));
      }
      Value el = arr[static_cast<size_t>(i)];
      *v = std::move(el);
      return true;
    }
    case ValueKind::kObject: {
      if (idx.kind() != ValueKind::kString) return TypeError(idx_expr, idx, ValueKind::kString);
      const ValueObject& obj = v->AsObject();
      auto it = obj.find(idx.AsString());
      // As River: a missing key read with [] is null, not an error.
      Value field = it == obj.end() ? Value::Null() : it->second;
      *v = std::move(field);
      return true;
    }
    default:
      return Fail(e.value.get(),
                  "expected object or array, got " + std::string(ValueKindName(v->kind())));
  }
}

bool Evaluator::EvalCall(const CallExpr& e, Value* v) {
  const Expr* callee = e.value.get();
  if (v->kind() != ValueKind::kFunction) return TypeError(callee, *v, ValueKind::kFunction);
  Value fn = std::move(*v);
  ValueArray args;
  args.reserve(e.args.size());
  for (const ExprPtr& a : e.args) {
    if (!a) return FailAt(e.lparen, e.rparen, "incomplete expression");
    Value arg;
    if (!Eval(*a, &arg)) return false;
    args.push_back(std::move(arg));
  }
  const Function& f = fn.AsFunction();
  if (!f.call) return Fail(callee, "is not callable");
  int bad_arg = -1;
  std::optional<base::Result<Value>> result;
  try {
    result.emplace(f.call(std::span<const Value>(args), &bad_arg));
  } catch (const std::exception& ex) {
    return Fail(callee, std::string("failed: ") + ex.what());
  } catch (...) {
    return Fail(callee, "failed");
  }
  if (!result->ok()) {
    const Expr* blame = callee;
    if (bad_arg >= 0 && static_cast<size_t>(bad_arg) < e.args.size()) {
      blame = e.args[static_cast<size_t>(bad_arg)].get();
    }
    return Fail(blame, result->error().message());
  }
  *v = std::move(*result).value();
  return true;
}

void EvaluateBodyInto(const Body& body, Evaluator& ev, std::vector<EvaluatedStmt>* out,
                      Diagnostics* diags) {
  std::set<std::string, std::less<>> seen_attrs;
  for (const StmtPtr& stmt : body) {
    if (!stmt) continue;
    if (stmt->kind == StmtKind::kAttribute) {
      const auto& attr = static_cast<const AttributeStmt&>(*stmt);
      if (!seen_attrs.insert(attr.name.name).second) {
        Pos end = attr.value ? EndPos(*attr.value) : attr.name.pos;
        diags->Add(attr.name.pos,
                   "attribute " + QuoteString(attr.name.name) + " may only be provided once", end);
        continue;
      }
      if (!attr.value) {
        diags->Add(attr.name.pos, "incomplete expression");
        continue;
      }
      EvaluatedStmt es;
      if (!ev.Eval(*attr.value, &es.value)) {
        Diagnostic& d = ev.diag();
        diags->Add(d.start, std::move(d.message), d.end);
        continue;
      }
      es.name = attr.name.name;
      out->push_back(std::move(es));
    } else {
      const auto& block = static_cast<const BlockStmt&>(*stmt);
      EvaluatedStmt es;
      es.is_block = true;
      es.name = block.FullName();
      es.label = block.label;
      es.has_label = block.has_label;
      EvaluateBodyInto(block.body, ev, &es.body, diags);
      out->push_back(std::move(es));
    }
  }
}

}  // namespace

std::variant<Value, Diagnostic> Evaluate(const Expr& expr, const Scope& scope) {
  Evaluator ev(scope);
  Value v;
  if (!ev.Eval(expr, &v)) return std::move(ev.diag());
  return v;
}

std::variant<std::vector<EvaluatedStmt>, Diagnostics> EvaluateBody(const Body& body,
                                                                   const Scope& scope) {
  std::vector<EvaluatedStmt> out;
  Diagnostics diags;
  Evaluator ev(scope);
  EvaluateBodyInto(body, ev, &out, &diags);
  if (diags.HasErrors()) return diags;
  return out;
}

}  // namespace starling::syntax
