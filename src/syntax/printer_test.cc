#include "syntax/printer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "syntax/parser.h"

namespace starling::syntax {
namespace {

struct FormatCase {
  const char* name;
  const char* input;
  const char* want;
};

// Expected outputs follow River's printer: tabs for indentation, `=` aligned (with spaces)
// across consecutive one-line attributes, trailing comments aligned, one blank line at most.
const FormatCase kCases[] = {
    {"empty_file", "", "\n"},
    {"blank_lines_only", "\n\n  \n\t\n", "\n"},
    {"only_comments", "// a\n// b\n", "// a\n// b\n"},
    {"only_comments_blank_lines_collapse", "// a\n\n\n\n// b\n/* c */\n",
     "// a\n\n// b\n/* c */\n"},
    {"attribute_spacing", "a=1\n", "a = 1\n"},
    {"alignment_counts_characters_not_bytes", "\u00e9 = 1\nab = 2\n", "\u00e9  = 1\nab = 2\n"},
    {"alignment_run", "a = 1\nbbb = 2\ncc = 3\n", "a   = 1\nbbb = 2\ncc  = 3\n"},
    {"alignment_broken_by_blank_line", "a = 1\nbbb = 2\n\ncc = 3\nd = 4\n",
     "a   = 1\nbbb = 2\n\ncc = 3\nd  = 4\n"},
    {"blank_lines_collapse", "a = 1\n\n\n\nb = 2\n", "a = 1\n\nb = 2\n"},
    {"alignment_broken_by_block", "a = 1\nb { }\nccc = 3\ndd = 4\n",
     "a = 1\n\nb { }\nccc = 3\ndd  = 4\n"},
    {"alignment_broken_by_multiline_attribute", "a = [\n1,\n]\nbb = 2\nc = 3\n",
     "a = [\n\t1,\n]\nbb = 2\nc  = 3\n"},
    {"empty_blocks", "a {}\nb \"l\" {\n\n}\n", "a { }\n\nb \"l\" { }\n"},
    {"blocks_always_separated", "a { }\nb { }\n", "a { }\n\nb { }\n"},
    {"attribute_after_block", "a {\nx = 1\n}\ny = 2\n", "a {\n\tx = 1\n}\ny = 2\n"},
    {"nested_blocks", "a {\nb {\nc = 1\nddd = 2\n}\n}\n",
     "a {\n\tb {\n\t\tc   = 1\n\t\tddd = 2\n\t}\n}\n"},
    {"labeled_block", "foo.bar \"lbl\" {\nx = 1\n}\n", "foo.bar \"lbl\" {\n\tx = 1\n}\n"},
    {"quoted_key", "x = {\"a.b\" = 1, \"c\" = 2}\n", "x = {\"a.b\" = 1, \"c\" = 2}\n"},
    {"block_body_blank_lines", "a {\n\n\nx = 1\n\n\n\ny = 2\n\n}\n",
     "a {\n\tx = 1\n\n\ty = 2\n}\n"},
    {"literals", "a = 1.5\nb = null\nc = true\nd = \"x\\ty\"\n",
     "a = 1.5\nb = null\nc = true\nd = \"x\\ty\"\n"},
    {"raw_string_multiline", "a {\nx = `one\n  two\nthree`\n}\n",
     "a {\n\tx = `one\n  two\nthree`\n}\n"},
    {"unary_binary_paren", "a=!b\nc=-1+2*(3-4)\nd = x||y&&z\ne = 2^3%4/5\n",
     "a = !b\nc = -1 + 2 * (3 - 4)\nd = x || y && z\ne = 2 ^ 3 % 4 / 5\n"},
    {"comparisons", "a = x==1\nb = x!=1\nc = x<=y\n", "a = x == 1\nb = x != 1\nc = x <= y\n"},
    {"access_index_call", "a = b.c[0].d(1,2)\n", "a = b.c[0].d(1, 2)\n"},
    {"empty_collections", "a = []\nb = {}\nc = f()\n", "a = []\nb = {}\nc = f()\n"},
    {"nested_arrays", "a = [[1,2],[3]]\n", "a = [[1, 2], [3]]\n"},
    {"array_spacing_normalized", "a = [ 1 ,2,\n3 ,\n]\n", "a = [1, 2,\n\t3,\n]\n"},
    {"object_one_line", "x = {\"a b\" = 1, c = 2}\n", "x = {\"a b\" = 1, c = 2}\n"},
    {"object_alignment_broken_by_multiline_value",
     "x = {\na = 1,\nbbb = {\nc = 1,\n},\nd = 2,\nee = 3,\n}\n",
     "x = {\n\ta   = 1,\n\tbbb = {\n\t\tc = 1,\n\t},\n\td  = 2,\n\tee = 3,\n}\n"},
    {"object_spacing_normalized", "x = { a = 1 ,b = 2,\n}\n", "x = {a = 1, b = 2,\n}\n"},
    {"call_multiline_args", "a = f(1,\n2, 3,\n4)\n", "a = f(1,\n\t2, 3,\n\t4)\n"},
    {"call_one_arg_per_line", "a = f(\n1,\n\"x\",\n)\n", "a = f(\n\t1,\n\t\"x\",\n)\n"},
    {"call_with_multiline_object", "a = f({\nk = 1,\n})\n", "a = f({\n\tk = 1,\n})\n"},
    {"call_in_multiline_array", "a = [\nf(1),\ng(\n2,\n),\n]\n",
     "a = [\n\tf(1),\n\tg(\n\t\t2,\n\t),\n]\n"},
    {"trailing_comments_aligned", "a = 1 // x\nbbb = 22 // y\n", "a   = 1  // x\nbbb = 22 // y\n"},
    {"trailing_comment_unaligned_after_blank", "a = 1 // x\n\nbbb = 22 // y\n",
     "a = 1 // x\n\nbbb = 22 // y\n"},
    {"comment_before_block", "// c\nblock {\n}\n", "// c\nblock { }\n"},
    {"comment_between_statements", "a = 1\n// c\nb = 2\n", "a = 1\n// c\nb = 2\n"},
    {"comment_after_blank_line", "a = 1\n\n\n// c\nb = 2\n", "a = 1\n\n// c\nb = 2\n"},
    {"comment_inside_block_reindented", "b {\nx = 1\n    // c\ny = 2\n}\n",
     "b {\n\tx = 1\n\t// c\n\ty = 2\n}\n"},
    {"comment_on_block_header", "b { // c\nx = 1\n}\n", "b { // c\n\tx = 1\n}\n"},
    {"inline_block_comment", "a = /* c */ 1\n", "a = /* c */ 1\n"},
    {"multiline_block_comment", "a = 1\n/* one\n   two */\nb = 2\n",
     "a = 1\n/* one\n   two */\nb = 2\n"},
    {"comment_at_end_of_file", "a = 1\n\n\n// end\n", "a = 1\n\n// end\n"},
    {"comment_at_end_of_block", "b {\nx = 1\n\n// end\n}\n", "b {\n\tx = 1\n\n\t// end\n}\n"},
    {"comment_in_object", "x = {\n// c\na = 1,\n}\n", "x = {\n\t// c\n\ta = 1,\n}\n"},
    {"trailing_comment_in_object", "x = {\na = 1, // c\n}\n", "x = {\n\ta = 1, // c\n}\n"},
    {"comments_in_array", "a = [ // head\n1, // one\n// before two\n2,\n// tail\n]\n",
     "a = [ // head\n\t1, // one\n\t// before two\n\t2,\n\t// tail\n]\n"},
    {"object_columns_align_across_lines", "x = {a = 1}\nyy = {bbbb = 2}\n",
     "x  = {a    = 1}\nyy = {bbbb = 2}\n"},
};

TEST(PrinterTest, FormatsLikeRiver) {
  for (const FormatCase& c : kCases) {
    SCOPED_TRACE(c.name);
    ParseResult parsed = ParseFile("test.river", c.input);
    if (parsed.file == nullptr || parsed.diags.HasErrors()) {
      ADD_FAILURE() << "input does not parse: " << parsed.diags.Format("test.river");
      continue;
    }
    EXPECT_EQ(c.want, Format(*parsed.file));

    // The expected output is itself formatted.
    ParseResult again = ParseFile("test.river", c.want);
    if (again.file == nullptr || again.diags.HasErrors()) {
      ADD_FAILURE() << "output does not parse: " << again.diags.Format("test.river");
      continue;
    }
    EXPECT_EQ(c.want, Format(*again.file));
  }
}

// River keeps a quoted key's source text between the quotes and the printer quotes that
// text again, so escapes in keys are doubled on every run. Kept for byte-for-byte output.
TEST(PrinterTest, QuotedKeyEscapesAreQuotedAgain) {
  ParseResult parsed = ParseFile("test.river", "x = {\"a\\\"q\\t\" = 1}\n");
  ASSERT_NE(parsed.file, nullptr);
  ASSERT_FALSE(parsed.diags.HasErrors()) << parsed.diags.Format("test.river");
  EXPECT_EQ("x = {\"a\\\\\\\"q\\\\t\" = 1}\n", Format(*parsed.file));
}

// The printer needs only positions and comments, not a parser: hand-built trees.
TEST(PrinterTest, HandBuiltTrees) {
  {
    File empty;
    EXPECT_EQ("\n", Format(empty));
  }
  {
    File comments_only;
    comments_only.comments.push_back({Comment{Pos{0, 1, 1}, "// one"}});
    comments_only.comments.push_back({Comment{Pos{8, 3, 1}, "/* two */"}});
    EXPECT_EQ("// one\n\n/* two */\n", Format(comments_only));
  }
  {
    // name = 1 // note
    File f;
    auto attr = std::make_unique<AttributeStmt>();
    attr->name = Ident{"name", Pos{0, 1, 1}};
    auto lit = std::make_unique<LiteralExpr>();
    lit->token = Token::kNumber;
    lit->value = "1";
    lit->pos = Pos{7, 1, 8};
    attr->value = std::move(lit);
    f.body.push_back(std::move(attr));
    f.comments.push_back({Comment{Pos{9, 1, 10}, "// note"}});
    EXPECT_EQ("name = 1 // note\n", Format(f));
  }
}

}  // namespace
}  // namespace starling::syntax
