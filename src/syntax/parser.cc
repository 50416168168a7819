#include "syntax/parser.h"

#include <iterator>
#include <optional>
#include <utility>
#include <vector>

#include "syntax/scanner.h"

namespace starling::syntax {
namespace {

// Deeper nesting than this is refused so that parsing (and everything that later walks the
// tree recursively) cannot exhaust the stack. Real configurations stay far below it.
constexpr int kMaxDepth = 500;

std::string Concat(std::string_view a, std::string_view b, std::string_view c, std::string_view d) {
  std::string s;
  s.reserve(a.size() + b.size() + c.size() + d.size());
  s += a;
  s += b;
  s += c;
  s += d;
  return s;
}

// Moves (*stack)[base:] into a new vector and shrinks the stack back to base.
template <typename T>
std::vector<T> TakeFrom(std::vector<T>* stack, size_t base) {
  std::vector<T> out(std::make_move_iterator(stack->begin() + static_cast<std::ptrdiff_t>(base)),
                     std::make_move_iterator(stack->end()));
  stack->erase(stack->begin() + static_cast<std::ptrdiff_t>(base), stack->end());
  return out;
}

// The name part of a statement: `a.b.c "label"`.
struct BlockName {
  std::vector<std::string_view> fragments;  // views into the source
  std::string label;
  Pos start;
  Pos label_pos;
};

// A recursive-descent parser over River's grammar. Its structure (where it reports what, and
// how it skips ahead after an error) follows River's parser so that the same input yields the
// same diagnostics at the same positions. Only the first syntax error of a line is kept, as
// River does. One Parser parses one input; it is not thread-safe.
class Parser {
 public:
  Parser(std::string_view src, Diagnostics* diags)
      : scanner_(
            src, [diags](Pos pos, std::string_view msg) { diags->Add(pos, std::string(msg)); },
            Scanner::kIncludeComments),
        diags_(diags) {
    Next();
  }

  Body ParseBody(Token until);
  ExprPtr ParseExpression();
  // After a lone expression: its terminator (a newline or the end), then nothing more.
  void ExpectEnd() {
    Expect(Token::kTerminator);
    if (cur_.tok != Token::kEof) {
      AddError("expected EOF, got " + std::string(TokenString(cur_.tok)));
    }
  }

  std::vector<CommentGroup> TakeComments() { return std::move(comments_); }

 private:
  struct Expected {
    Pos pos;
    Token tok;
    std::string_view lit;
  };

  void Next0() { scanner_.Scan(&cur_); }

  void Next() {
    Next0();
    while (cur_.tok == Token::kComment) ConsumeCommentGroup();
  }

  void ConsumeCommentGroup() {
    CommentGroup group;
    int end_line = cur_.pos.line;
    while (cur_.tok == Token::kComment && cur_.pos.line <= end_line + 1) {
      end_line = cur_.pos.line;
      if (cur_.text.size() > 1 && cur_.text[1] == '*') {
        for (char c : cur_.text) {
          if (c == '\n') ++end_line;
        }
      }
      group.push_back(Comment{cur_.pos, std::string(cur_.text)});
      Next0();
    }
    comments_.push_back(std::move(group));
  }

  void Advance(Token to) {
    while (cur_.tok != Token::kEof) {
      if (cur_.tok == to) return;
      Next();
    }
  }

  // Skips to the end of the current statement or list element.
  void AdvanceToStatementEnd() {
    while (cur_.tok != Token::kEof) {
      switch (cur_.tok) {
        case Token::kTerminator:
        case Token::kRParen:
        case Token::kRCurly:
        case Token::kRBrack:
        case Token::kComma:
          return;
        default:
          Next();
      }
    }
  }

  Expected Expect(Token t) {
    Expected e{cur_.pos, cur_.tok, cur_.text};
    if (cur_.tok != t)
      AddError(Concat("expected ", TokenString(t), ", got ", TokenString(cur_.tok)));
    Next();
    return e;
  }

  void AddError(std::string message) {
    // Keep only the first error of each line; later ones are usually follow-on noise.
    if (last_error_line_ == cur_.pos.line) return;
    last_error_line_ = cur_.pos.line;
    diags_->Add(cur_.pos, std::move(message));
  }

  // Enters one level of nesting; false (after reporting once and skipping the rest of the
  // input) when the limit is exceeded.
  bool Enter() {
    ++depth_;
    if (depth_ <= kMaxDepth) return true;
    if (!too_deep_) {
      too_deep_ = true;
      diags_->Add(cur_.pos, "maximum nesting depth of " + std::to_string(kMaxDepth) + " exceeded");
      while (cur_.tok != Token::kEof) Next();
    }
    return false;
  }

  class DepthScope {
   public:
    explicit DepthScope(Parser* p) : p_(p), saved_(p->depth_), ok_(p->Enter()) {}
    ~DepthScope() { p_->depth_ = saved_; }
    DepthScope(const DepthScope&) = delete;
    DepthScope& operator=(const DepthScope&) = delete;
    bool ok() const { return ok_; }

   private:
    Parser* p_;
    int saved_;
    bool ok_;
  };

  ExprPtr NullLiteral(Pos pos) {
    auto lit = std::make_unique<LiteralExpr>();
    lit->token = Token::kNull;
    lit->value = "null";
    lit->pos = pos;
    return lit;
  }

  void ConsumeStatement();
  StmtPtr ParseStatement();
  std::optional<BlockName> ParseBlockName();
  ExprPtr ParseBinOp(int in_prec);
  ExprPtr ParsePowExpr();
  ExprPtr ParseUnaryExpr();
  ExprPtr ParsePrimaryExpr();
  std::vector<ExprPtr> ParseExpressionList(Token until);
  std::vector<ObjectField> ParseFieldList(Token until);
  ObjectField ParseField();

  Scanner scanner_;
  Diagnostics* diags_;
  std::vector<CommentGroup> comments_;

  // Lists are collected on these stacks and then moved into a vector of the exact size: one
  // allocation per list instead of one per doubling. Nested lists use the part above the
  // enclosing list's elements.
  std::vector<ExprPtr> expr_stack_;
  std::vector<ObjectField> field_stack_;
  std::vector<StmtPtr> stmt_stack_;

  ScannedToken cur_;  // the current token

  int last_error_line_ = 0;
  int depth_ = 0;
  bool too_deep_ = false;
};

// Body = [ Statement { terminator Statement } ], up to (not including) `until`.
Body Parser::ParseBody(Token until) {
  DepthScope scope(this);
  if (!scope.ok()) return {};
  const size_t base = stmt_stack_.size();
  while (cur_.tok != until && cur_.tok != Token::kEof) {
    StmtPtr stmt = ParseStatement();
    if (stmt) stmt_stack_.push_back(std::move(stmt));
    if (cur_.tok == until) break;
    if (cur_.tok != Token::kTerminator) {
      AddError(
          Concat("expected ", TokenString(Token::kTerminator), ", got ", TokenString(cur_.tok)));
      ConsumeStatement();
    }
    Next();
  }
  return TakeFrom(&stmt_stack_, base);
}

// Skips the rest of a statement: up to a terminator outside any (), [] or {} opened here.
void Parser::ConsumeStatement() {
  int curly = 0;
  int brack = 0;
  int paren = 0;
  while (cur_.tok != Token::kEof) {
    switch (cur_.tok) {
      case Token::kLCurly:
        ++curly;
        break;
      case Token::kRCurly:
        --curly;
        break;
      case Token::kLBrack:
        ++brack;
        break;
      case Token::kRBrack:
        --brack;
        break;
      case Token::kLParen:
        ++paren;
        break;
      case Token::kRParen:
        --paren;
        break;
      default:
        break;
    }
    // The counts may go negative when the statement began inside a pair.
    if (cur_.tok == Token::kTerminator && curly <= 0 && brack <= 0 && paren <= 0) return;
    Next();
  }
}

// Statement = Attribute | Block
// Attribute = identifier "=" Expression
// Block     = BlockName "{" Body "}"
StmtPtr Parser::ParseStatement() {
  std::optional<BlockName> name = ParseBlockName();
  if (!name) {
    Advance(Token::kIdent);
    return nullptr;
  }

  switch (cur_.tok) {
    case Token::kAssign: {
      Next();
      if (name->fragments.size() != 1) {
        size_t joined = name->fragments.size() - 1;  // the length of the dotted name
        for (std::string_view f : name->fragments) joined += f.size();
        Pos end = name->start;
        end.offset += static_cast<int>(joined);
        end.col += static_cast<int>(joined);
        diags_->Add(name->start,
                    "attribute names may only consist of a single identifier with no \".\"", end);
      } else if (name->label_pos.valid()) {
        Pos end = name->label_pos;
        end.offset += static_cast<int>(name->label.size()) + 2;
        end.col += static_cast<int>(name->label.size()) + 2;
        diags_->Add(name->label_pos, "attribute names may not have labels", end);
      }
      auto attr = std::make_unique<AttributeStmt>();
      attr->name.name = std::string(name->fragments[0]);
      attr->name.pos = name->start;
      attr->value = ParseExpression();
      return attr;
    }

    case Token::kLCurly: {
      auto block = std::make_unique<BlockStmt>();
      block->name.assign(name->fragments.begin(), name->fragments.end());
      block->name_pos = name->start;
      block->has_label = name->label_pos.valid();
      block->label = std::move(name->label);
      block->label_pos = name->label_pos;
      block->lcurly = Expect(Token::kLCurly).pos;
      block->body = ParseBody(Token::kRCurly);
      block->rcurly = Expect(Token::kRCurly).pos;
      return block;
    }

    default:
      if (name->fragments.size() == 1 && name->label.empty()) {
        // The name could start either an attribute or a block.
        AddError("expected attribute assignment or block body, got " +
                 std::string(TokenString(cur_.tok)));
      } else {
        AddError("expected block body, got " + std::string(TokenString(cur_.tok)));
      }
      Advance(Token::kIdent);
      return nullptr;
  }
}

// BlockName = identifier { "." identifier } [ string ]
std::optional<BlockName> Parser::ParseBlockName() {
  if (cur_.tok != Token::kIdent) {
    AddError("expected identifier, got " + std::string(TokenString(cur_.tok)));
    return std::nullopt;
  }
  BlockName bn;
  bn.fragments.reserve(4);
  bn.fragments.emplace_back(cur_.text);
  bn.start = cur_.pos;
  Next();

  while (cur_.tok == Token::kDot) {
    Next();
    // Keep going with a malformed name to find as much as possible.
    if (cur_.tok != Token::kIdent)
      AddError("expected identifier, got " + std::string(TokenString(cur_.tok)));
    bn.fragments.emplace_back(cur_.text);
    Next();
  }

  if (cur_.tok != Token::kAssign && cur_.tok != Token::kLCurly) {
    if (cur_.tok == Token::kString) {
      if (cur_.text.empty() || cur_.text[0] != '"') {
        AddError("expected block label to be a double quoted string, but got " +
                 QuoteString(cur_.text));
      }
      // A non-empty label must be a valid identifier; it is taken without its quotes (no
      // escapes are interpreted).
      if (cur_.text.size() > 2) {
        bn.label = std::string(cur_.text.substr(1, cur_.text.size() - 2));
        if (!IsValidIdentifier(bn.label)) {
          AddError("expected block label to be a valid identifier, but got " +
                   QuoteString(bn.label));
        }
      }
      bn.label_pos = cur_.pos;
    } else {
      AddError("expected block label, got " + std::string(TokenString(cur_.tok)));
    }
    Next();
  }
  return bn;
}

// Expression = BinOpExpr
ExprPtr Parser::ParseExpression() {
  DepthScope scope(this);
  if (!scope.ok()) return NullLiteral(cur_.pos);
  return ParseBinOp(1);
}

// BinOpExpr with precedence climbing for the left-associative operators:
//   OrExpr = AndExpr { "||" AndExpr }, AndExpr = CmpExpr { "&&" CmpExpr }, ...,
//   MulExpr = PowExpr { mul_op PowExpr }
ExprPtr Parser::ParseBinOp(int in_prec) {
  ExprPtr lhs = ParsePowExpr();
  DepthScope chain(this);  // every operator applied below makes the tree one level deeper
  for (;;) {
    Token op = cur_.tok;
    Pos op_pos = cur_.pos;
    int prec = BinaryPrecedence(op);
    if (prec < in_prec || prec == 0) return lhs;
    if (!Enter()) return lhs;
    Next();
    ExprPtr rhs = ParseBinOp(prec + 1);
    auto bin = std::make_unique<BinaryExpr>();
    bin->op = op;
    bin->op_pos = op_pos;
    bin->left = std::move(lhs);
    bin->right = std::move(rhs);
    lhs = std::move(bin);
  }
}

// PowExpr = UnaryExpr [ "^" PowExpr ]  (right-associative)
ExprPtr Parser::ParsePowExpr() {
  ExprPtr lhs = ParseUnaryExpr();
  if (cur_.tok != Token::kPow) return lhs;
  DepthScope scope(this);
  if (!scope.ok()) return lhs;
  Pos op_pos = cur_.pos;
  Next();
  auto bin = std::make_unique<BinaryExpr>();
  bin->op = Token::kPow;
  bin->op_pos = op_pos;
  bin->left = std::move(lhs);
  bin->right = ParsePowExpr();
  return bin;
}

// UnaryExpr  = OperExpr | unary_op UnaryExpr
// OperExpr   = PrimaryExpr { AccessExpr | IndexExpr | CallExpr }
// AccessExpr = "." identifier
// IndexExpr  = "[" Expression "]"
// CallExpr   = "(" [ ExpressionList ] ")"
ExprPtr Parser::ParseUnaryExpr() {
  if (cur_.tok == Token::kNot || cur_.tok == Token::kSub) {
    DepthScope scope(this);
    if (!scope.ok()) return NullLiteral(cur_.pos);
    auto un = std::make_unique<UnaryExpr>();
    un->op = cur_.tok;
    un->op_pos = cur_.pos;
    Next();
    un->value = ParseUnaryExpr();
    return un;
  }

  ExprPtr primary = ParsePrimaryExpr();
  DepthScope chain(this);  // each postfix operation nests the tree one level deeper
  for (;;) {
    switch (cur_.tok) {
      case Token::kDot: {
        if (!Enter()) return primary;
        Next();
        Expected name = Expect(Token::kIdent);
        auto access = std::make_unique<AccessExpr>();
        access->value = std::move(primary);
        access->name.name = std::string(name.lit);
        access->name.pos = name.pos;
        primary = std::move(access);
        break;
      }
      case Token::kLBrack: {
        if (!Enter()) return primary;
        auto index = std::make_unique<IndexExpr>();
        index->lbrack = Expect(Token::kLBrack).pos;
        index->index = ParseExpression();
        index->rbrack = Expect(Token::kRBrack).pos;
        index->value = std::move(primary);
        primary = std::move(index);
        break;
      }
      case Token::kLParen: {
        if (!Enter()) return primary;
        auto call = std::make_unique<CallExpr>();
        call->lparen = Expect(Token::kLParen).pos;
        if (cur_.tok != Token::kRParen) call->args = ParseExpressionList(Token::kRParen);
        call->rparen = Expect(Token::kRParen).pos;
        call->value = std::move(primary);
        primary = std::move(call);
        break;
      }
      case Token::kString:
      case Token::kLCurly: {
        // Probably a block written where a value belongs (`x = foo.bar "label" { ... }`).
        // Parse it as a block to say so; if it is not one, skip the rest of the statement.
        if (cur_.tok == Token::kString) Next();
        if (Expect(Token::kLCurly).tok != Token::kLCurly) {
          ConsumeStatement();
          return primary;
        }
        ParseBody(Token::kRCurly);
        Expected end = Expect(Token::kRCurly);
        if (end.tok != Token::kRCurly) {
          ConsumeStatement();
          return primary;
        }
        Pos end_pos = end.pos;
        end_pos.offset += 1;
        end_pos.col += 1;
        diags_->Add(StartPos(*primary), "cannot use a block as an expression", end_pos);
        break;
      }
      default:
        return primary;
    }
  }
}

// PrimaryExpr  = LiteralValue | ArrayExpr | ObjectExpr
// LiteralValue = identifier | string | number | float | bool | null | "(" Expression ")"
// ArrayExpr    = "[" [ ExpressionList ] "]"
// ObjectExpr   = "{" [ FieldList ] "}"
ExprPtr Parser::ParsePrimaryExpr() {
  switch (cur_.tok) {
    case Token::kIdent: {
      auto id = std::make_unique<IdentifierExpr>();
      id->ident.name = std::string(cur_.text);
      id->ident.pos = cur_.pos;
      Next();
      return id;
    }
    case Token::kString:
    case Token::kNumber:
    case Token::kFloat:
    case Token::kBool:
    case Token::kNull: {
      auto lit = std::make_unique<LiteralExpr>();
      lit->token = cur_.tok;
      lit->value = std::string(cur_.text);
      lit->pos = cur_.pos;
      Next();
      return lit;
    }
    case Token::kLParen: {
      auto paren = std::make_unique<ParenExpr>();
      paren->lparen = Expect(Token::kLParen).pos;
      paren->inner = ParseExpression();
      paren->rparen = Expect(Token::kRParen).pos;
      return paren;
    }
    case Token::kLBrack: {
      auto arr = std::make_unique<ArrayExpr>();
      arr->lbrack = Expect(Token::kLBrack).pos;
      if (cur_.tok != Token::kRBrack) arr->elements = ParseExpressionList(Token::kRBrack);
      arr->rbrack = Expect(Token::kRBrack).pos;
      return arr;
    }
    case Token::kLCurly: {
      auto obj = std::make_unique<ObjectExpr>();
      obj->lcurly = Expect(Token::kLCurly).pos;
      if (cur_.tok != Token::kRCurly) obj->fields = ParseFieldList(Token::kRCurly);
      obj->rcurly = Expect(Token::kRCurly).pos;
      return obj;
    }
    default:
      break;
  }
  AddError("expected expression, got " + std::string(TokenString(cur_.tok)));
  ExprPtr res = NullLiteral(cur_.pos);
  AdvanceToStatementEnd();
  return res;
}

// ExpressionList = Expression { "," Expression } [ "," ]
std::vector<ExprPtr> Parser::ParseExpressionList(Token until) {
  const size_t base = expr_stack_.size();
  while (cur_.tok != until && cur_.tok != Token::kEof) {
    expr_stack_.push_back(ParseExpression());
    if (cur_.tok == until) break;
    if (cur_.tok != Token::kComma) AddError("missing ',' in expression list");
    Next();
  }
  return TakeFrom(&expr_stack_, base);
}

// FieldList = Field { "," Field } [ "," ]
std::vector<ObjectField> Parser::ParseFieldList(Token until) {
  const size_t base = field_stack_.size();
  while (cur_.tok != until && cur_.tok != Token::kEof) {
    field_stack_.push_back(ParseField());
    if (cur_.tok == until) break;
    if (cur_.tok != Token::kComma) AddError("missing ',' in field list");
    Next();
  }
  return TakeFrom(&field_stack_, base);
}

// Field = ( string | identifier ) "=" Expression
ObjectField Parser::ParseField() {
  ObjectField field;
  if (cur_.tok == Token::kString || cur_.tok == Token::kIdent) {
    field.name.name = std::string(cur_.text);
    field.name.pos = cur_.pos;
    if (cur_.tok == Token::kString && cur_.text.size() > 2) {
      // The key keeps its text between the quotes as written.
      field.name.name = std::string(cur_.text.substr(1, cur_.text.size() - 2));
      field.quoted = true;
    }
    Next();
  } else {
    AddError("expected field name (string or identifier), got " +
             std::string(TokenString(cur_.tok)));
    Advance(Token::kAssign);
  }
  Expect(Token::kAssign);
  field.value = ParseExpression();
  return field;
}

}  // namespace

ParseResult ParseFile(std::string filename, std::string_view src) {
  ParseResult result;
  result.file = std::make_unique<File>();
  result.file->name = std::move(filename);
  Parser p(src, &result.diags);
  result.file->body = p.ParseBody(Token::kEof);
  result.file->comments = p.TakeComments();
  return result;
}

ExprPtr ParseExpression(std::string_view src, Diagnostics* diags) {
  Diagnostics local;
  Parser p(src, &local);
  ExprPtr e = p.ParseExpression();
  p.ExpectEnd();
  if (!local.empty()) {
    if (diags != nullptr) diags->Append(local);
    return nullptr;
  }
  return e;
}

}  // namespace starling::syntax
