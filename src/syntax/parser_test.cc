#include "syntax/parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "syntax/scanner.h"

namespace starling::syntax {
namespace {

// A compact rendering of the tree: binary and unary operations in parentheses, ParenExpr as
// p(...), arrays [..], objects {k=v, "quoted"=v}, blocks `name "label" { stmt; stmt }`.
std::string Dump(const Expr& e);

std::string DumpList(const std::vector<ExprPtr>& list) {
  std::string out;
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ", ";
    out += list[i] ? Dump(*list[i]) : "<nil>";
  }
  return out;
}

std::string Dump(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return static_cast<const LiteralExpr&>(e).value;
    case ExprKind::kIdentifier:
      return static_cast<const IdentifierExpr&>(e).ident.name;
    case ExprKind::kAccess: {
      const auto& a = static_cast<const AccessExpr&>(e);
      return Dump(*a.value) + "." + a.name.name;
    }
    case ExprKind::kIndex: {
      const auto& x = static_cast<const IndexExpr&>(e);
      return Dump(*x.value) + "[" + Dump(*x.index) + "]";
    }
    case ExprKind::kCall: {
      const auto& c = static_cast<const CallExpr&>(e);
      return Dump(*c.value) + "(" + DumpList(c.args) + ")";
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      return "(" + std::string(TokenString(u.op)) + Dump(*u.value) + ")";
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      return "(" + Dump(*b.left) + " " + std::string(TokenString(b.op)) + " " + Dump(*b.right) +
             ")";
    }
    case ExprKind::kParen:
      return "p(" + Dump(*static_cast<const ParenExpr&>(e).inner) + ")";
    case ExprKind::kArray:
      return "[" + DumpList(static_cast<const ArrayExpr&>(e).elements) + "]";
    case ExprKind::kObject: {
      const auto& o = static_cast<const ObjectExpr&>(e);
      std::string out = "{";
      for (size_t i = 0; i < o.fields.size(); ++i) {
        if (i > 0) out += ", ";
        const ObjectField& f = o.fields[i];
        out += f.quoted ? "\"" + f.name.name + "\"" : f.name.name;
        out += "=" + (f.value ? Dump(*f.value) : "<nil>");
      }
      return out + "}";
    }
  }
  return "?";
}

std::string DumpBody(const Body& body) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (i > 0) out += "; ";
    const Stmt& s = *body[i];
    if (s.kind == StmtKind::kAttribute) {
      const auto& a = static_cast<const AttributeStmt&>(s);
      out += a.name.name + " = " + Dump(*a.value);
    } else {
      const auto& b = static_cast<const BlockStmt&>(s);
      out += b.FullName();
      if (b.has_label) out += " \"" + b.label + "\"";
      out += b.body.empty() ? " {}" : " { " + DumpBody(b.body) + " }";
    }
  }
  return out;
}

struct Case {
  std::string src;
  std::string ast;     // DumpBody of the result
  std::string errors;  // "line:col: message\n" for each diagnostic
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    ParseResult r = ParseFile("", c.src);
    ASSERT_NE(r.file, nullptr);
    EXPECT_EQ(r.diags.Format(""), c.errors);
    EXPECT_EQ(DumpBody(r.file->body), c.ast);
  }
}

TEST(ParserTest, Literals) {
  RunCases({
      {"", "", ""},
      {"\n\n  \n", "", ""},
      {"a = 1", "a = 1", ""},
      {"a = 1\n", "a = 1", ""},
      {"a = 1\nb = 2", "a = 1; b = 2", ""},
      {"a = 010", "a = 010", ""},  // kept as written; the evaluator reads it as octal
      {"a = 1.5", "a = 1.5", ""},
      {"a = .5", "a = .5", ""},
      {"a = 1.", "a = 1.", ""},
      {"a = 1e3", "a = 1e3", ""},
      {"a = 2.5E-3", "a = 2.5E-3", ""},
      {"a = \"str\"", "a = \"str\"", ""},
      {"a = \"a\\nb\\u00e9\"", "a = \"a\\nb\\u00e9\"", ""},
      {"a = `raw\nstring`", "a = `raw\nstring`", ""},
      {"a = true", "a = true", ""},
      {"a = false", "a = false", ""},
      {"a = null", "a = null", ""},
      {"a = b", "a = b", ""},
      {"\xC3\xA9t\xC3\xA9 = 1", "\xC3\xA9t\xC3\xA9 = 1", ""},
      {"a = 1\r\nb = 2\r\n", "a = 1; b = 2", ""},
      {"\xEF\xBB\xBF"
       "a = 1",
       "a = 1", ""},
  });
}

TEST(ParserTest, Operators) {
  RunCases({
      {"a = 1 + 2 * 3", "a = (1 + (2 * 3))", ""},
      {"a = 1 * 2 + 3", "a = ((1 * 2) + 3)", ""},
      {"a = 1 - 2 - 3", "a = ((1 - 2) - 3)", ""},
      {"a = 1 % 2 / 3", "a = ((1 % 2) / 3)", ""},
      {"a = 2 ^ 3 ^ 2", "a = (2 ^ (3 ^ 2))", ""},
      {"a = -2 ^ 2", "a = ((-2) ^ 2)", ""},
      {"a = 2 * 3 ^ 2", "a = (2 * (3 ^ 2))", ""},
      {"a = !a || b && c", "a = ((!a) || (b && c))", ""},
      {"a = a || b || c", "a = ((a || b) || c)", ""},
      {"a = a == b != c", "a = ((a == b) != c)", ""},
      {"a = 1 < 2 == true", "a = ((1 < 2) == true)", ""},
      {"a = a <= b || c >= d", "a = ((a <= b) || (c >= d))", ""},
      {"a = a > b && c < d", "a = ((a > b) && (c < d))", ""},
      {"a = 1 + 2 < 3 * 4", "a = ((1 + 2) < (3 * 4))", ""},
      {"a = (1 + 2) * 3", "a = (p((1 + 2)) * 3)", ""},
      {"a = - - 1", "a = (-(-1))", ""},
      {"a = !!true", "a = (!(!true))", ""},
      {"a = -x.y[0]", "a = (-x.y[0])", ""},
      {"a = x.y ^ 2 * -z[0]", "a = ((x.y ^ 2) * (-z[0]))", ""},
      {"a = 1 +\n2", "a = (1 + 2)", ""},
      {"a = 1 /* c */ + 2", "a = (1 + 2)", ""},
  });
}

TEST(ParserTest, PostfixAndCollections) {
  RunCases({
      {"a = x.y.z", "a = x.y.z", ""},
      {"a = x.\ny", "a = x.y", ""},
      {"a = x[0][1]", "a = x[0][1]", ""},
      {"a = x[\"k\"]", "a = x[\"k\"]", ""},
      {"a = f()", "a = f()", ""},
      {"a = f(1, 2,)", "a = f(1, 2)", ""},
      {"a = f(\n  1,\n  2,\n)", "a = f(1, 2)", ""},
      {"a = env(\"HOME\").x[1](2)", "a = env(\"HOME\").x[1](2)", ""},
      {"a = x.y.z(1).w", "a = x.y.z(1).w", ""},
      {"a = [1, 2, 3]", "a = [1, 2, 3]", ""},
      {"a = []", "a = []", ""},
      {"a = [\n  1,\n  2,\n]", "a = [1, 2]", ""},
      {"a = [f(1)[0], -1.5e-3]", "a = [f(1)[0], (-1.5e-3)]", ""},
      {"a = {}", "a = {}", ""},
      {"a = { x = 1, \"y z\" = 2 }", "a = {x=1, \"y z\"=2}", ""},
      {"a = {\n  x = 1,\n}", "a = {x=1}", ""},
      {"a = {\"\" = 1}", "a = {\"\"=1}", ""},  // River keeps an empty key's quotes, unflagged
      {"a = {\"a\\\"b\" = 1}", "a = {\"a\\\"b\"=1}", ""},  // the key is not unescaped
      {"a = [{a = 1}, {b = [2]}]", "a = [{a=1}, {b=[2]}]", ""},
      {"a = {a = {b = {c = 1}}}", "a = {a={b={c=1}}}", ""},
  });
}

TEST(ParserTest, Blocks) {
  RunCases({
      {"b {}", "b {}", ""},
      {"b {\n}", "b {}", ""},
      {"b { x = 1 }", "b { x = 1 }", ""},
      {"a.b.c \"l\" {\n  x = 1\n}", "a.b.c \"l\" { x = 1 }", ""},
      {"b {\n  c {\n    d = 1\n  }\n  e = 2\n}\n", "b { c { d = 1 }; e = 2 }", ""},
      {"b \"\" {}", "b \"\" {}", ""},
      {"b \"_x1\" {}", "b \"_x1\" {}", ""},
      {"prometheus.scrape \"default\" {\n  targets = [{\"__address__\" = \"x:80\"}]\n"
       "  forward_to = [prometheus.remote_write.default.receiver]\n}\n",
       "prometheus.scrape \"default\" { targets = [{\"__address__\"=\"x:80\"}]; "
       "forward_to = [prometheus.remote_write.default.receiver] }",
       ""},
      {"// c\na = 1 // d\n/* e */", "a = 1", ""},
  });
}

TEST(ParserTest, Errors) {
  RunCases({
      {"a = 1 + + 2", "a = (1 + null)", "1:9: expected expression, got +\n"},
      {"a = ", "a = null", "1:5: expected expression, got EOF\n"},
      {"a = [1\n2]", "a = [1, 2]", "1:7: missing ',' in expression list\n"},
      {"a = [\n1,\n2\n]", "a = [1, 2]", "3:2: missing ',' in expression list\n"},
      {"a = {x = 1\n}", "a = {x=1}", "1:11: missing ',' in field list\n"},
      {"a = f(1\n)", "a = f(1)", "1:8: missing ',' in expression list\n"},
      {"a = {x = 1 y = 2}", "a = {x=1, =2}", "1:12: missing ',' in field list\n"},
      {"a.b = 1", "a = 1",
       "1:1: attribute names may only consist of a single identifier with no \".\"\n"},
      {"a \"l\" = 1", "a = 1", "1:3: attribute names may not have labels\n"},
      {"b l {}", "b {}", "1:3: expected block label, got IDENT\n"},
      {"b \"x y\" {}", "b \"x y\" {}",
       "1:3: expected block label to be a valid identifier, but got \"x y\"\n"},
      {"b `l` {}", "b \"l\" {}",
       "1:3: expected block label to be a double quoted string, but got \"`l`\"\n"},
      {"a = 1 2", "a = 1", "1:7: expected TERMINATOR, got NUMBER\n"},
      {"1 = 2", "", "1:1: expected identifier, got NUMBER\n"},
      {"}", "", "1:1: expected identifier, got }\n"},
      // A name followed by anything but `=`, `{` or a string wants a label first.
      {"a", "", "1:2: expected block label, got TERMINATOR\n"},
      {"a = 1\n\n\nb", "a = 1", "4:2: expected block label, got TERMINATOR\n"},
      {"a.b", "", "1:4: expected block label, got TERMINATOR\n"},
      {"a \"\" 1", "", "1:6: expected attribute assignment or block body, got NUMBER\n"},
      {"a \"l\"", "", "1:6: expected block body, got TERMINATOR\n"},
      {"a = x.true", "a = x.true", "1:7: expected IDENT, got BOOL\n"},
      {"a = f(()", "a = f(p(null))", "1:8: expected expression, got )\n"},
      {"a = prom.x \"l\" {\n}", "a = prom.x", "1:5: cannot use a block as an expression\n"},
      {"a = x {\n y = 1\n}\nb = 2", "a = x; b = 2", "1:5: cannot use a block as an expression\n"},
      {"a = x \"l\" 1", "a = x", "1:11: expected {, got NUMBER\n"},
      {"a = {1 = 2}", "a = {=2}", "1:6: expected field name (string or identifier), got NUMBER\n"},
      {"a = 'x'", "a = null",
       "1:5: illegal single-quoted string; use double quotes\n"
       "1:5: expected expression, got ILLEGAL\n"},
      {"a = 1 # c", "a = 1",
       "1:7: illegal character U+0023 '#'\n1:7: expected TERMINATOR, got ILLEGAL\n"},
      {"a = 1; b = 2", "a = 1",
       "1:6: illegal character U+003B ';'\n1:6: expected TERMINATOR, got ILLEGAL\n"},
      {"a = \"\\q\"", "a = \"\\q\"", "1:7: unknown escape sequence\n"},
      {"a = \"\\'\"", "a = \"\\'\"", "1:7: unknown escape sequence\n"},
      {"a = \"abc", "a = \"abc", "1:5: string literal not terminated\n"},
      {"a = 1e", "a = 1e", "1:5: exponent has no digits\n"},
      {"a = 1 /* open", "a = 1", "1:7: block comment not terminated\n"},
      {"b {\n a = 1\n", "b { a = 1 }", "3:1: expected }, got EOF\n"},
      {"b {\n  c = 1 +\n}", "b { c = (1 + null) }", "3:1: expected expression, got }\n"},
      {"a = (1", "a = p(1)", "1:7: expected ), got TERMINATOR\n"},
      {"a = [1,,2]", "a = [1, null, 2]", "1:8: expected expression, got ,\n"},
      {"a = x[]", "a = x[null]", "1:7: expected expression, got ]\n"},
  });
}

TEST(ParserTest, ReportsEveryErrorAndRecovers) {
  RunCases({
      // One error per line; each statement after an error is still parsed.
      {"a = (1 + )\nb = [ , ]\nc = 3", "a = p((1 + null)); b = [null]; c = 3",
       "1:10: expected expression, got )\n2:7: expected expression, got ,\n"},
      // No terminator follows an operator, so skipping after `+` runs on to the next one.
      {"a = +\nb = 2\nc = 3", "a = null; c = 3", "1:5: expected expression, got +\n"},
      {"a = 1 + + 2 + + 3", "a = (1 + null)", "1:9: expected expression, got +\n"},
      {"b {\n x = [1 2]\n y = 2\n}\nc = 3",
       "b { x = [1]; y = 2 }; c = 3",  // the token missing its comma is dropped
       "2:9: missing ',' in expression list\n"},
      // As River: a stray `}` skips to the next identifier, and the statement it starts is
      // then skipped as well.
      {"a = 1\n}\nb = 2\nc = 3", "a = 1; c = 3",
       "2:1: expected identifier, got }\n3:1: expected TERMINATOR, got IDENT\n"},
      {"a.b = 1\nc \"l\" = 2\nd e {}\n", "a = 1; c = 2; d {}",
       "1:1: attribute names may only consist of a single identifier with no \".\"\n"
       "2:3: attribute names may not have labels\n"
       "3:3: expected block label, got IDENT\n"},
      {"x = [\n  1,\n  2\n]\ny = {\n  a = 1\n}\n", "x = [1, 2]; y = {a=1}",
       "3:4: missing ',' in expression list\n6:8: missing ',' in field list\n"},
  });
}

TEST(ParserTest, ErrorEndPositions) {
  ParseResult r = ParseFile("f.river", "a.bc = 1\nd \"lbl\" = 2\ne = f.g {\n}\n");
  ASSERT_EQ(r.diags.list().size(), 3u);
  const Diagnostic& d0 = r.diags.list()[0];
  EXPECT_EQ(d0.end.line, 1);
  EXPECT_EQ(d0.end.col, 5);  // just past "a.bc"
  const Diagnostic& d1 = r.diags.list()[1];
  EXPECT_EQ(d1.start.col, 3);
  EXPECT_EQ(d1.end.col, 8);  // just past "\"lbl\""
  const Diagnostic& d2 = r.diags.list()[2];
  EXPECT_EQ(d2.message, "cannot use a block as an expression");
  EXPECT_EQ(d2.start.line, 3);
  EXPECT_EQ(d2.start.col, 5);
  EXPECT_EQ(d2.end.line, 4);
  EXPECT_EQ(d2.end.col, 2);
  EXPECT_EQ(r.diags.Format("f.river"),
            "f.river:1:1: attribute names may only consist of a single identifier with no \".\"\n"
            "f.river:2:3: attribute names may not have labels\n"
            "f.river:3:5: cannot use a block as an expression\n");
}

TEST(ParserTest, Positions) {
  ParseResult r = ParseFile("", "a = [1, {b = 2}]\nc.d \"e\" {\n  f = x.y(1)[2]\n}\n");
  ASSERT_TRUE(r.diags.empty()) << r.diags.Format("");
  ASSERT_EQ(r.file->body.size(), 2u);

  const auto& attr = static_cast<const AttributeStmt&>(*r.file->body[0]);
  EXPECT_EQ(attr.name.pos, (Pos{0, 1, 1}));
  const auto& arr = static_cast<const ArrayExpr&>(*attr.value);
  EXPECT_EQ(arr.lbrack, (Pos{4, 1, 5}));
  EXPECT_EQ(arr.rbrack, (Pos{15, 1, 16}));
  const auto& one = static_cast<const LiteralExpr&>(*arr.elements[0]);
  EXPECT_EQ(one.pos, (Pos{5, 1, 6}));
  EXPECT_EQ(one.token, Token::kNumber);
  const auto& obj = static_cast<const ObjectExpr&>(*arr.elements[1]);
  EXPECT_EQ(obj.lcurly, (Pos{8, 1, 9}));
  EXPECT_EQ(obj.rcurly, (Pos{14, 1, 15}));
  EXPECT_EQ(obj.fields[0].name.pos, (Pos{9, 1, 10}));
  EXPECT_FALSE(obj.fields[0].quoted);
  EXPECT_EQ(StartPos(arr), (Pos{4, 1, 5}));
  EXPECT_EQ(EndPos(arr), (Pos{16, 1, 17}));

  const auto& block = static_cast<const BlockStmt&>(*r.file->body[1]);
  EXPECT_EQ(block.FullName(), "c.d");
  EXPECT_EQ(block.name_pos, (Pos{17, 2, 1}));
  EXPECT_TRUE(block.has_label);
  EXPECT_EQ(block.label, "e");
  EXPECT_EQ(block.label_pos, (Pos{21, 2, 5}));
  EXPECT_EQ(block.lcurly, (Pos{25, 2, 9}));
  EXPECT_EQ(block.rcurly, (Pos{43, 4, 1}));

  const auto& f = static_cast<const AttributeStmt&>(*block.body[0]);
  const auto& index = static_cast<const IndexExpr&>(*f.value);
  EXPECT_EQ(f.name.pos, (Pos{29, 3, 3}));
  EXPECT_EQ(index.lbrack, (Pos{39, 3, 13}));
  EXPECT_EQ(index.rbrack, (Pos{41, 3, 15}));
  const auto& call = static_cast<const CallExpr&>(*index.value);
  EXPECT_EQ(call.lparen, (Pos{36, 3, 10}));
  EXPECT_EQ(call.rparen, (Pos{38, 3, 12}));
  const auto& access = static_cast<const AccessExpr&>(*call.value);
  EXPECT_EQ(access.name.pos, (Pos{35, 3, 9}));
  EXPECT_EQ(StartPos(index), (Pos{33, 3, 7}));
  EXPECT_EQ(EndPos(index), (Pos{42, 3, 16}));
  EXPECT_EQ(EndPos(access), (Pos{36, 3, 10}));
}

TEST(ParserTest, StartAndEndOfExpressions) {
  struct PosCase {
    std::string expr;
    int start_col;
    int end_line;
    int end_col;
  };
  const std::vector<PosCase> cases = {
      {"abc", 1, 1, 4},  {"12.5", 1, 1, 5},    {"\"x\"", 1, 1, 4},   {"-x", 1, 1, 3},
      {"!(a)", 1, 1, 5}, {"a + bc", 1, 1, 7},  {"a.bcd", 1, 1, 6},   {"f(1, 2)", 1, 1, 8},
      {"[1]", 1, 1, 4},  {"{a = 1}", 1, 1, 8}, {"`a\nbc`", 1, 2, 4}, {"x[0]", 1, 1, 5},
  };
  for (const PosCase& c : cases) {
    SCOPED_TRACE(c.expr);
    Diagnostics diags;
    ExprPtr e = ParseExpression(c.expr, &diags);
    ASSERT_NE(e, nullptr) << diags.Format("");
    EXPECT_EQ(StartPos(*e).col, c.start_col);
    EXPECT_EQ(StartPos(*e).line, 1);
    EXPECT_EQ(EndPos(*e).line, c.end_line);
    EXPECT_EQ(EndPos(*e).col, c.end_col);
    EXPECT_EQ(EndPos(*e).offset, static_cast<int>(c.expr.size()));
  }
}

TEST(ParserTest, Comments) {
  ParseResult r =
      ParseFile("", "// a\n// b\n\n// c\nx = 1 /* d */\n/* e\n f */ // g\ny = 2 // h\n");
  ASSERT_TRUE(r.diags.empty()) << r.diags.Format("");
  EXPECT_EQ(DumpBody(r.file->body), "x = 1; y = 2");
  std::vector<std::vector<std::string>> groups;
  for (const CommentGroup& g : r.file->comments) {
    groups.emplace_back();
    for (const Comment& c : g) groups.back().push_back(c.text);
  }
  // Comments on consecutive lines form one group; a blank line or a token ends it.
  std::vector<std::vector<std::string>> want = {
      {"// a", "// b"}, {"// c"}, {"/* d */", "/* e\n f */", "// g"}, {"// h"}};
  EXPECT_EQ(groups, want);
  ASSERT_EQ(r.file->comments.size(), 4u);
  EXPECT_EQ(r.file->comments[0][1].pos, (Pos{5, 2, 1}));
  EXPECT_EQ(r.file->comments[2][0].pos, (Pos{22, 5, 7}));
  EXPECT_EQ(r.file->comments[3][0].pos.line, 8);

  ParseResult same_line = ParseFile("", "/* a */ /* b */ x = 1");
  ASSERT_EQ(same_line.file->comments.size(), 1u);
  EXPECT_EQ(same_line.file->comments[0].size(), 2u);

  ParseResult crlf = ParseFile("", "x = 1 // c\r\n");
  ASSERT_EQ(crlf.file->comments.size(), 1u);
  EXPECT_EQ(crlf.file->comments[0][0].text, "// c");
}

TEST(ParserTest, FileName) {
  ParseResult r = ParseFile("config.river", "a = 1");
  EXPECT_EQ(r.file->name, "config.river");
}

TEST(ParserTest, ParseExpression) {
  struct ExprCase {
    std::string src;
    std::string ast;
    std::string errors;
  };
  const std::vector<ExprCase> cases = {
      {"1 + 2", "(1 + 2)", ""},
      {"a.b[0]", "a.b[0]", ""},
      {"x // c", "x", ""},
      {"1\n", "1", ""},
      {"  [\n1,\n]  ", "[1]", ""},
      {"1 2", "", "1:3: expected TERMINATOR, got NUMBER\n"},
      {"1,", "", "1:2: expected TERMINATOR, got ,\n"},
      {"1\n2", "", "2:1: expected EOF, got NUMBER\n"},
      {"", "", "1:1: expected expression, got EOF\n"},
      {"(1", "", "1:3: expected ), got TERMINATOR\n"},
      {"a = 1", "", "1:3: expected TERMINATOR, got =\n"},
      {"\"\\z\"", "", "1:3: unknown escape sequence\n"},
  };
  for (const ExprCase& c : cases) {
    SCOPED_TRACE(c.src);
    Diagnostics diags;
    ExprPtr e = ParseExpression(c.src, &diags);
    EXPECT_EQ(diags.Format(""), c.errors);
    EXPECT_EQ(e == nullptr, !c.errors.empty());
    if (e != nullptr) {
      EXPECT_EQ(Dump(*e), c.ast);
    }
  }
}

TEST(ParserTest, DeepNestingIsRefusedNotFatal) {
  const std::vector<std::string> inputs = {
      "a = " + std::string(100000, '['),
      "a = " + std::string(100000, '('),
      "a = " + std::string(100000, '-') + "1",
      "a = " + std::string(100000, '!') + "1",
      [] {
        std::string s = "a = 1";
        for (int i = 0; i < 100000; ++i) s += " + 1";
        return s;
      }(),
      [] {
        std::string s = "a = 1";
        for (int i = 0; i < 100000; ++i) s += " ^ 1";
        return s;
      }(),
      [] {
        std::string s = "a = x";
        for (int i = 0; i < 100000; ++i) s += ".y";
        return s;
      }(),
      [] {
        std::string s = "a = f";
        for (int i = 0; i < 100000; ++i) s += "()";
        return s;
      }(),
      [] {
        std::string s;
        for (int i = 0; i < 100000; ++i) s += "b {\n";
        return s;
      }(),
      [] {
        std::string s = "a = ";
        for (int i = 0; i < 100000; ++i) s += "{x = ";
        return s;
      }(),
  };
  for (const std::string& in : inputs) {
    SCOPED_TRACE(in.substr(0, 12));
    ParseResult r = ParseFile("", in);
    ASSERT_NE(r.file, nullptr);
    bool found = false;
    for (const Diagnostic& d : r.diags.list()) {
      if (d.message == "maximum nesting depth of 500 exceeded") found = true;
    }
    EXPECT_TRUE(found) << r.diags.Format("").substr(0, 500);
  }
  // Nesting well within the limit is fine.
  std::string ok = "a = " + std::string(200, '[') + std::string(200, ']');
  ParseResult r = ParseFile("", ok);
  EXPECT_TRUE(r.diags.empty()) << r.diags.Format("");
}

TEST(ParserTest, ArbitraryBytesDoNotCrash) {
  // A cheap, deterministic stand-in for the fuzz target: every prefix of a tricky input.
  const std::string tricky =
      "a.b \"c\" {\n x = [1, {y = f(\"\\u00e9\", `r`)}, -2 ^ 3]\n z = a.b.c \"d\" { } #\n"
      "}\n/* open \x00\xff\xef\xbb\xbf 'q' \"\\x4";
  for (size_t n = 0; n <= tricky.size(); ++n) {
    ParseResult r = ParseFile("", std::string_view(tricky).substr(0, n));
    ASSERT_NE(r.file, nullptr);
    Diagnostics diags;
    (void)ParseExpression(std::string_view(tricky).substr(0, n), &diags);
  }
}

}  // namespace
}  // namespace starling::syntax
