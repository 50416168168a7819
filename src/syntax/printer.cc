#include "syntax/printer.h"

// How the formatter works. It mirrors the layout River's printer produces, in three stages:
//
//  1. A walker visits the AST and hands the printer tokens, positions and whitespace
//     *commands* (blank, vertical tab, newline, formfeed, indent, unindent). Whitespace is
//     buffered and only emitted before the next token, so that comments found between two
//     tokens can be placed first and the pending whitespace adjusted around them.
//  2. The printed text uses '\t' for indentation, '\v' in front of `=` (an alignment column)
//     and '\f' for line breaks that end an alignment section. It is fed through an elastic
//     tabstop aligner with the semantics of Go's text/tabwriter (minwidth 0, tabwidth 8,
//     padding 1, pad with spaces, discard empty columns, tabs for leading empty cells).
//     Comment text is bracketed by 0xff escape bytes so the aligner treats it as opaque.
//  3. A trimmer drops the escape bytes and all trailing blanks and tabs of every line
//     (outside escaped text), and turns '\f' into '\n'.
//
// Positions in the printer are approximate by design: tokens the walker writes without an
// explicit position are assumed to follow the previous token directly. Comment placement
// depends on those approximations, so they are kept exactly as the reference computes them.
//
// Quirks kept for byte-for-byte compatibility with `alloy fmt`: literals are not escaped, so
// tabs and line breaks inside raw strings take part in alignment and lose trailing blanks; a
// quoted object key is printed as the Go-quoted form of its source text between the quotes.

#include <algorithm>
#include <climits>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "syntax/scanner.h"

namespace starling::syntax {
namespace {

constexpr char kEscape = '\xff';

// ---------------------------------------------------------------------------------------
// Trimmer: removes escape bytes and trailing blanks/tabs, converts '\f' to '\n' and '\v' to
// '\t'. Escaped text passes through untouched. State carries across Write calls exactly as
// the reference's does (it resets to "in space" at the end of each call).

class Trimmer {
 public:
  explicit Trimmer(std::string* out) : out_(out) {}

  void Write(std::string_view data) {
    size_t text_start = 0;
    for (size_t off = 0; off < data.size(); ++off) {
      char b = data[off];
      if (b == '\v') b = '\t';
      switch (state_) {
        case State::kSpace:
          if (b == '\t' || b == ' ') {
            space_.push_back(b);
          } else if (b == '\n' || b == '\f') {
            DiscardSpace();
            out_->push_back('\n');
          } else if (b == kEscape) {
            out_->append(space_);
            state_ = State::kEscape;
            text_start = off + 1;
          } else {
            out_->append(space_);
            state_ = State::kText;
            text_start = off;
          }
          break;
        case State::kText:
          if (b == '\t' || b == ' ') {
            out_->append(data.substr(text_start, off - text_start));
            DiscardSpace();
            space_.push_back(b);
          } else if (b == '\n' || b == '\f') {
            out_->append(data.substr(text_start, off - text_start));
            DiscardSpace();
            out_->push_back('\n');
          } else if (b == kEscape) {
            out_->append(data.substr(text_start, off - text_start));
            state_ = State::kEscape;
            text_start = off + 1;
          }
          break;
        case State::kEscape:
          if (b == kEscape) {
            out_->append(data.substr(text_start, off - text_start));
            DiscardSpace();
          }
          break;
      }
    }
    if (state_ == State::kEscape || state_ == State::kText) {
      out_->append(data.substr(text_start));
      DiscardSpace();
    }
  }

 private:
  enum class State { kSpace, kEscape, kText };

  void DiscardSpace() {
    state_ = State::kSpace;
    space_.clear();
  }

  std::string* out_;
  State state_ = State::kSpace;
  std::string space_;
};

// Number of UTF-8 characters in s, counting each byte of an invalid sequence as one (Go's
// utf8.RuneCount).
int RuneCount(std::string_view s) {
  int count = 0;
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    if (b0 >= 0xC2 && b0 <= 0xF4) {
      size_t need = b0 < 0xE0 ? 2 : (b0 < 0xF0 ? 3 : 4);
      unsigned char lo = 0x80;
      unsigned char hi = 0xBF;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
      bool ok = i + need <= s.size();
      for (size_t k = 1; ok && k < need; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        const unsigned char klo = k == 1 ? lo : 0x80;
        const unsigned char khi = k == 1 ? hi : 0xBF;
        if (b < klo || b > khi) ok = false;
      }
      if (ok) len = need;
    }
    i += len;
    ++count;
  }
  return count;
}

// ---------------------------------------------------------------------------------------
// TabWriter: elastic tabstops with the semantics of Go's text/tabwriter, fixed to the
// configuration River uses. Cells are terminated by '\t' (hard) or '\v' (soft); '\n' and
// '\f' end lines, and '\f' (or a line with a single cell) flushes everything buffered.
// Text between escape bytes is opaque; the escape bytes pass through and count zero width.

class TabWriter {
 public:
  explicit TabWriter(Trimmer* out) : out_(out) { Reset(); }

  void Write(std::string_view buf) {
    size_t n = 0;
    for (size_t i = 0; i < buf.size(); ++i) {
      const char ch = buf[i];
      if (!in_escape_) {
        if (ch == '\t' || ch == '\v' || ch == '\n' || ch == '\f') {
          Append(buf.substr(n, i - n));
          UpdateWidth();
          n = i + 1;
          const size_t ncells = TerminateCell(ch == '\t');
          if (ch == '\n' || ch == '\f') {
            lines_.emplace_back();
            if (ch == '\f' || ncells == 1) Flush();
          }
        } else if (ch == kEscape) {
          Append(buf.substr(n, i - n));
          UpdateWidth();
          n = i;
          in_escape_ = true;
        }
      } else if (ch == kEscape) {
        Append(buf.substr(n, i + 1 - n));
        n = i + 1;
        EndEscape();
      }
    }
    Append(buf.substr(n));
  }

  void Flush() {
    if (cell_.size > 0) {
      if (in_escape_) EndEscape();
      TerminateCell(false);
    }
    Format(0, 0, lines_.size());
    Reset();
  }

 private:
  static constexpr int kTabWidth = 8;
  static constexpr int kPadding = 1;

  struct Cell {
    size_t size = 0;  // bytes
    int width = 0;    // characters, escape bytes excluded
    bool htab = false;
  };

  void Reset() {
    buf_.clear();
    pos_ = 0;
    cell_ = Cell{};
    in_escape_ = false;
    lines_.clear();
    widths_.clear();
    lines_.emplace_back();
  }

  void Append(std::string_view text) {
    buf_.append(text);
    cell_.size += text.size();
  }

  void UpdateWidth() {
    cell_.width += RuneCount(std::string_view(buf_).substr(pos_));
    pos_ = buf_.size();
  }

  void EndEscape() {
    UpdateWidth();
    cell_.width -= 2;  // the escape bytes themselves
    pos_ = buf_.size();
    in_escape_ = false;
  }

  size_t TerminateCell(bool htab) {
    cell_.htab = htab;
    lines_.back().push_back(cell_);
    cell_ = Cell{};
    return lines_.back().size();
  }

  void WritePadding(int textw, int cellw, bool use_tabs) {
    if (use_tabs) {
      cellw = (cellw + kTabWidth - 1) / kTabWidth * kTabWidth;
      const int n = cellw - textw;
      if (n > 0) out_->Write(std::string((n + kTabWidth - 1) / kTabWidth, '\t'));
      return;
    }
    if (cellw > textw) out_->Write(std::string(cellw - textw, ' '));
  }

  size_t WriteLines(size_t pos, size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const std::vector<Cell>& line = lines_[i];
      bool use_tabs = true;  // leading empty cells are indentation
      for (size_t j = 0; j < line.size(); ++j) {
        const Cell& c = line[j];
        if (c.size == 0) {
          if (j < widths_.size()) WritePadding(c.width, widths_[j], use_tabs);
        } else {
          use_tabs = false;
          out_->Write(std::string_view(buf_).substr(pos, c.size));
          pos += c.size;
          if (j < widths_.size()) WritePadding(c.width, widths_[j], false);
        }
      }
      if (i + 1 == lines_.size()) {
        out_->Write(std::string_view(buf_).substr(pos, cell_.size));
        pos += cell_.size;
      } else {
        out_->Write("\n");
      }
    }
    return pos;
  }

  // Formats lines [line0, line1) given the widths of the columns to the left; a column is a
  // run of consecutive lines that all have a terminated cell at that index.
  size_t Format(size_t pos, size_t line0, size_t line1) {
    const size_t column = widths_.size();
    for (size_t row = line0; row < line1; ++row) {
      if (column + 1 >= lines_[row].size()) continue;
      pos = WriteLines(pos, line0, row);
      line0 = row;
      int width = 0;
      bool discardable = true;
      for (; row < line1; ++row) {
        const std::vector<Cell>& line = lines_[row];
        if (column + 1 >= line.size()) break;
        const Cell& c = line[column];
        width = std::max(width, c.width + kPadding);
        if (c.width > 0 || c.htab) discardable = false;
      }
      if (discardable) width = 0;
      widths_.push_back(width);
      pos = Format(pos, line0, row);
      widths_.pop_back();
      line0 = row;
      // The line that ended the block lacks this column, so the increment may skip it.
    }
    return WriteLines(pos, line0, line1);
  }

  Trimmer* out_;
  std::string buf_;
  size_t pos_ = 0;
  Cell cell_;
  bool in_escape_ = false;
  std::vector<std::vector<Cell>> lines_;
  std::vector<int> widths_;
};

// ---------------------------------------------------------------------------------------
// Printer: turns tokens and whitespace commands into tabwriter input.

struct Position {
  int offset = 0;
  int line = 0;
  int column = 0;
  bool valid() const { return line > 0; }
};

Position ToPosition(const Pos& p) { return Position{p.offset, p.line, p.col}; }

// Whitespace commands; the character values of the printable ones are what gets written.
enum Ws : char {
  kWsIgnore = 0,
  kWsBlank = ' ',
  kWsVTab = '\v',
  kWsNewline = '\n',
  kWsFormfeed = '\f',
  kWsIndent = '>',
  kWsUnindent = '<',
};

constexpr size_t kMaxPendingWhitespace = 16;
constexpr int kMaxNewlines = 2;

// The text of an operator or punctuation token; empty for the others.
std::string_view TokenText(Token t) {
  return t >= Token::kOr && t <= Token::kDot ? TokenString(t) : std::string_view();
}

int CountNewlines(std::string_view s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

// Line of the last character of a comment.
int CommentEndLine(const Comment& c) {
  if (!c.pos.valid()) return 0;
  return c.pos.line + CountNewlines(c.text);
}

class Printer {
 public:
  explicit Printer(const std::vector<CommentGroup>* comments) : comments_(comments) {
    whitespace_.reserve(kMaxPendingWhitespace);
    NextComment();
  }

  // Buffers a whitespace command until the next token.
  void Space(Ws ws) {
    if (ws == kWsIgnore) return;
    if (whitespace_.size() == kMaxPendingWhitespace) WriteWhitespace(whitespace_.size());
    whitespace_.push_back(ws);
    last_tok_ = Token::kIllegal;
  }

  // Sets the printer's idea of where the next token is in the source.
  void At(const Pos& p) {
    if (p.valid()) pos_ = ToPosition(p);
  }

  // Writes an identifier or literal.
  void Text(std::string_view data, Token kind) {
    last_tok_ = kind;
    Emit(data);
  }

  // Writes an operator or punctuation token.
  void Punct(Token t) {
    const std::string_view s = TokenText(t);
    if (!s.empty() && MayCombine(last_tok_, s[0])) {
      // Keep `1` `.` or `/` `*` from re-scanning as a different token.
      whitespace_.assign(1, kWsBlank);
    }
    last_tok_ = t;
    Emit(s);
  }

  // Writes every comment still pending (they trail the last statement).
  void FinishComments() {
    const Position end{INT_MAX, INT_MAX, INT_MAX};
    Flush(end, /*eof=*/true);
  }

  const std::string& output() const { return output_; }

 private:
  static bool MayCombine(Token prev, char next) {
    if (prev == Token::kNumber) return next == '.';
    if (prev == Token::kDiv) return next == '*';
    return false;
  }

  void Emit(std::string_view data) {
    const Position next = pos_;
    Flush(next, /*eof=*/false);
    WriteString(next, data, /*is_lit=*/false);
  }

  void NextComment() {
    while (comment_idx_ < comments_->size()) {
      const CommentGroup& group = (*comments_)[comment_idx_++];
      if (!group.empty()) {
        cur_comment_ = &group;
        comment_offset_ = group.front().pos.offset;
        has_comment_ = group.front().pos.valid();
        return;
      }
    }
    has_comment_ = false;
  }

  bool CommentBefore(const Position& next) const {
    return has_comment_ && comment_offset_ <= next.offset;
  }

  void Flush(const Position& next, bool eof) {
    if (CommentBefore(next)) {
      InjectComments(next, eof);
    } else if (!eof) {
      WriteWhitespace(whitespace_.size());
    }
  }

  void InjectComments(const Position& next, bool eof) {
    const Comment* last = nullptr;
    while (CommentBefore(next)) {
      for (const Comment& c : *cur_comment_) {
        WriteCommentPrefix(next, c);
        WriteString(ToPosition(c.pos), c.text, /*is_lit=*/true);
        last = &c;
      }
      NextComment();
    }
    WriteCommentSuffix(next, eof, last);
  }

  void WriteCommentPrefix(const Position& next, const Comment& c) {
    if (output_.empty()) return;  // nothing goes before the very first comment

    const Position cpos = ToPosition(c.pos);
    if (cpos.line == last_.line) {
      // Same line as the previous token: a tab lets trailing comments align; a block
      // comment followed by more code on its line gets a plain space.
      WriteByte(cpos.line == next.line ? ' ' : '\t', 1);
      return;
    }

    // The comment starts a new line: apply pending indentation changes up to the first
    // real whitespace, which is dropped because the line breaks are written here.
    size_t count = 0;
    for (size_t i = 0; i < whitespace_.size(); ++i) {
      const char ws = whitespace_[i];
      if (ws == kWsIndent || ws == kWsUnindent) continue;
      if (ws == kWsBlank || ws == kWsVTab || ws == kWsNewline || ws == kWsFormfeed) {
        whitespace_[i] = kWsIgnore;
      }
      count = i;
      break;
    }
    WriteWhitespace(count);

    int newlines = 0;
    if (cpos.valid() && last_.valid()) newlines = cpos.line - last_.line;
    if (newlines > 0) WriteByte('\f', std::min(newlines, kMaxNewlines));
  }

  void WriteCommentSuffix(const Position& next, bool eof, const Comment* last) {
    if (eof || last == nullptr) return;  // no blank lines at the end of the file

    if (last->text.size() > 1 && last->text[1] == '*' && next.line == CommentEndLine(*last)) {
      WriteByte(' ', 1);
    }

    const int newlines = next.line - last_.line;
    bool dropped_formfeed = false;
    for (char& ws : whitespace_) {
      switch (ws) {
        case kWsBlank:
        case kWsVTab:
          ws = kWsIgnore;
          break;
        case kWsNewline:
        case kWsFormfeed:
          if (ws == kWsFormfeed) dropped_formfeed = true;
          ws = kWsIgnore;
          break;
        default:
          break;
      }
    }
    WriteWhitespace(whitespace_.size());

    if (newlines > 0) {
      WriteByte(dropped_formfeed ? '\f' : '\n', std::min(newlines, kMaxNewlines));
    }
  }

  void WriteString(const Position& pos, std::string_view s, bool is_lit) {
    if (out_.column == 1) WriteIndent();
    if (pos.valid()) pos_ = pos;

    if (is_lit) output_.push_back(kEscape);
    output_.append(s);
    if (is_lit) output_.push_back(kEscape);

    int newlines = 0;
    size_t last_newline = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\n' || s[i] == '\f') {
        ++newlines;
        last_newline = i;
      }
    }

    const int len = static_cast<int>(s.size());
    pos_.offset += len;
    if (newlines > 0) {
      pos_.line += newlines;
      out_.line += newlines;
      const int column = len - static_cast<int>(last_newline);
      pos_.column = column;
      out_.column = column;
    } else {
      pos_.column += len;
      out_.column += len;
    }
    last_ = pos_;
  }

  void WriteIndent() {
    output_.append(static_cast<size_t>(indent_), '\t');
    pos_.offset += indent_;
    pos_.column += indent_;
    out_.column += indent_;
  }

  // Writes whitespace character ch n times.
  void WriteByte(char ch, int n) {
    if (out_.column == 1) WriteIndent();
    output_.append(static_cast<size_t>(n), ch);
    pos_.offset += n;
    if (ch == '\n' || ch == '\f') {
      pos_.line += n;
      out_.line += n;
      pos_.column = 1;
      out_.column = 1;
      return;
    }
    pos_.column += n;
    out_.column += n;
  }

  // Executes the first n pending whitespace commands.
  void WriteWhitespace(size_t n) {
    for (size_t i = 0; i < n; ++i) {
      switch (const char ch = whitespace_[i]) {
        case kWsIgnore:
          break;
        case kWsIndent:
          ++indent_;
          break;
        case kWsUnindent:
          if (indent_ > 0) --indent_;
          break;
        default:
          WriteByte(ch, 1);
          break;
      }
    }
    whitespace_.erase(whitespace_.begin(), whitespace_.begin() + static_cast<std::ptrdiff_t>(n));
  }

  std::string output_;
  int indent_ = 0;
  Token last_tok_ = Token::kIllegal;  // kIllegal: whitespace was written last
  std::vector<char> whitespace_;

  const std::vector<CommentGroup>* comments_;
  size_t comment_idx_ = 0;
  const CommentGroup* cur_comment_ = nullptr;
  bool has_comment_ = false;
  int comment_offset_ = 0;

  Position pos_{0, 1, 1};  // approximate source position of the next token
  Position last_;          // source position just after the last text written
  Position out_{0, 1, 1};  // position in the output
};

// ---------------------------------------------------------------------------------------
// Walker: AST to printer calls. Line arithmetic uses the source positions in the tree.

// The lines of e's first and last characters; 0 for a missing expression.
int StartLine(const Expr* e) { return e == nullptr ? 0 : StartPos(*e).line; }
int EndLine(const Expr* e) { return e == nullptr ? 0 : EndPos(*e).line; }

int NodeLines(const Expr* e) { return EndLine(e) - StartLine(e) + 1; }

int StartLine(const Stmt& s) {
  if (s.kind == StmtKind::kAttribute) return static_cast<const AttributeStmt&>(s).name.pos.line;
  return static_cast<const BlockStmt&>(s).name_pos.line;
}

int EndLine(const Stmt& s) {
  if (s.kind == StmtKind::kAttribute) {
    return EndLine(static_cast<const AttributeStmt&>(s).value.get());
  }
  return static_cast<const BlockStmt&>(s).rcurly.line;
}

int NodeLines(const Stmt& s) { return EndLine(s) - StartLine(s) + 1; }

class Walker {
 public:
  explicit Walker(Printer* p) : p_(p) {}

  void Stmts(const Body& body) {
    for (size_t i = 0; i < body.size(); ++i) {
      const Stmt* s = body[i].get();
      if (s == nullptr) continue;
      bool spaced = false;
      // Blocks are always set apart by a blank line.
      if (i > 0 && s->kind == StmtKind::kBlock) {
        p_->Space(kWsFormfeed);
        spaced = true;
      }
      // Otherwise a blank line in the source is kept (several collapse into one).
      if (i > 0 && !spaced && body[i - 1] != nullptr) {
        if (StartLine(*s) - EndLine(*body[i - 1]) > 1) p_->Space(kWsFormfeed);
      }

      if (s->kind == StmtKind::kAttribute) {
        Attribute(static_cast<const AttributeStmt&>(*s));
      } else {
        Block(static_cast<const BlockStmt&>(*s));
      }

      // A statement spanning several lines ends the alignment section.
      p_->Space(NodeLines(*s) > 1 ? kWsFormfeed : kWsNewline);
    }
  }

 private:
  void Attribute(const AttributeStmt& s) {
    p_->At(s.name.pos);
    p_->Text(s.name.name, Token::kIdent);
    p_->Space(kWsVTab);
    p_->Punct(Token::kAssign);
    p_->Space(kWsBlank);
    Expression(s.value.get());
  }

  void Block(const BlockStmt& s) {
    std::string name;
    for (size_t i = 0; i < s.name.size(); ++i) {
      if (i > 0) name.push_back('.');
      name += s.name[i];
    }
    p_->At(s.name_pos);
    p_->Text(name, Token::kIdent);

    if (!s.label.empty()) {
      p_->Space(kWsBlank);
      p_->At(s.label_pos);
      p_->Text(QuoteString(s.label), Token::kString);
    }

    p_->Space(kWsBlank);
    p_->At(s.lcurly);
    p_->Punct(Token::kLCurly);
    p_->Space(kWsIndent);

    if (!s.body.empty()) {
      p_->Space(kWsFormfeed);
      Stmts(s.body);
    } else {
      p_->Space(kWsBlank);  // `name { }`
    }

    p_->Space(kWsUnindent);
    p_->At(s.rcurly);
    p_->Punct(Token::kRCurly);
  }

  void Expression(const Expr* e) {
    if (e == nullptr) return;
    switch (e->kind) {
      case ExprKind::kLiteral: {
        const auto& lit = static_cast<const LiteralExpr&>(*e);
        p_->At(lit.pos);
        p_->Text(lit.value, lit.token);
        break;
      }
      case ExprKind::kArray:
        Array(static_cast<const ArrayExpr&>(*e));
        break;
      case ExprKind::kObject:
        Object(static_cast<const ObjectExpr&>(*e));
        break;
      case ExprKind::kIdentifier: {
        const auto& id = static_cast<const IdentifierExpr&>(*e);
        p_->At(id.ident.pos);
        p_->Text(id.ident.name, Token::kIdent);
        break;
      }
      case ExprKind::kAccess: {
        const auto& acc = static_cast<const AccessExpr&>(*e);
        Expression(acc.value.get());
        p_->Punct(Token::kDot);
        p_->Text(acc.name.name, Token::kIdent);
        break;
      }
      case ExprKind::kIndex: {
        const auto& idx = static_cast<const IndexExpr&>(*e);
        Expression(idx.value.get());
        p_->At(idx.lbrack);
        p_->Punct(Token::kLBrack);
        Expression(idx.index.get());
        p_->At(idx.rbrack);
        p_->Punct(Token::kRBrack);
        break;
      }
      case ExprKind::kCall:
        Call(static_cast<const CallExpr&>(*e));
        break;
      case ExprKind::kUnary: {
        const auto& un = static_cast<const UnaryExpr&>(*e);
        p_->At(un.op_pos);
        p_->Punct(un.op);
        Expression(un.value.get());
        break;
      }
      case ExprKind::kBinary: {
        const auto& bin = static_cast<const BinaryExpr&>(*e);
        Expression(bin.left.get());
        p_->Space(kWsBlank);
        p_->At(bin.op_pos);
        p_->Punct(bin.op);
        p_->Space(kWsBlank);
        Expression(bin.right.get());
        break;
      }
      case ExprKind::kParen: {
        const auto& par = static_cast<const ParenExpr&>(*e);
        p_->Punct(Token::kLParen);
        Expression(par.inner.get());
        p_->Punct(Token::kRParen);
        break;
      }
    }
  }

  void Array(const ArrayExpr& e) {
    p_->At(e.lbrack);
    p_->Punct(Token::kLBrack);
    int prev_line = e.lbrack.line;

    for (size_t i = 0; i < e.elements.size(); ++i) {
      const Expr* el = e.elements[i].get();
      bool own_line = false;
      if (prev_line != StartLine(el)) {
        // Indent before the line break so comments in between are indented too.
        p_->Space(kWsIndent);
        p_->Space(kWsFormfeed);
        own_line = true;
      } else if (i > 0) {
        p_->Space(kWsBlank);
      }
      prev_line = EndLine(el);

      Expression(el);
      if (i + 1 < e.elements.size()) p_->Punct(Token::kComma);
      if (own_line) p_->Space(kWsUnindent);
    }

    if (!e.elements.empty() && prev_line != e.rbrack.line) {
      p_->Punct(Token::kComma);
      p_->Space(kWsIndent);
      p_->Space(kWsFormfeed);
      p_->Space(kWsUnindent);
    }
    p_->At(e.rbrack);
    p_->Punct(Token::kRBrack);
  }

  void Object(const ObjectExpr& e) {
    p_->At(e.lcurly);
    p_->Punct(Token::kLCurly);
    p_->Space(kWsIndent);
    int prev_line = e.lcurly.line;

    for (size_t i = 0; i < e.fields.size(); ++i) {
      const ObjectField& field = e.fields[i];
      if (prev_line != field.name.pos.line) {
        // Keys align with the previous one only when its value fitted on one line.
        if (i > 0 && NodeLines(e.fields[i - 1].value.get()) == 1) {
          p_->Space(kWsNewline);
        } else {
          p_->Space(kWsFormfeed);
        }
      } else if (i > 0) {
        p_->Space(kWsBlank);
      }
      prev_line = field.name.pos.line;

      p_->At(field.name.pos);
      if (field.quoted) {
        p_->Text(QuoteString(field.name.name), Token::kString);
      } else {
        p_->Text(field.name.name, Token::kIdent);
      }
      p_->Space(kWsVTab);
      p_->Punct(Token::kAssign);
      p_->Space(kWsBlank);
      Expression(field.value.get());

      if (i + 1 < e.fields.size()) p_->Punct(Token::kComma);
    }

    if (!e.fields.empty() && prev_line != e.rcurly.line) {
      p_->Punct(Token::kComma);
      p_->Space(kWsFormfeed);
    }
    p_->Space(kWsUnindent);
    p_->At(e.rcurly);
    p_->Punct(Token::kRCurly);
  }

  void Call(const CallExpr& e) {
    Expression(e.value.get());
    p_->Punct(Token::kLParen);
    int prev_line = e.lparen.line;

    for (size_t i = 0; i < e.args.size(); ++i) {
      const Expr* arg = e.args[i].get();
      bool own_line = false;
      if (prev_line != StartLine(arg)) {
        p_->Space(kWsFormfeed);
        p_->Space(kWsIndent);
        own_line = true;
      }
      Expression(arg);
      prev_line = EndLine(arg);
      if (i + 1 < e.args.size()) {
        p_->Punct(Token::kComma);
        p_->Space(kWsBlank);
      }
      if (own_line) p_->Space(kWsUnindent);
    }

    if (prev_line != e.rparen.line) {
      p_->Punct(Token::kComma);
      p_->Space(kWsFormfeed);
    }
    p_->Punct(Token::kRParen);
  }

  Printer* p_;
};

}  // namespace

std::string Format(const File& file) {
  Printer printer(&file.comments);
  Walker(&printer).Stmts(file.body);
  printer.FinishComments();

  std::string result;
  Trimmer trimmer(&result);
  TabWriter tabwriter(&trimmer);
  tabwriter.Write(printer.output());
  tabwriter.Flush();

  // `alloy fmt` ends the file with exactly one newline.
  result.push_back('\n');
  return result;
}

}  // namespace starling::syntax
