// Runs River's own parser test data (../shared/conformance/river/parser/testdata) against our
// parser: every expected error must be reported at exactly its position with a matching
// message, no other error may appear, valid files must parse cleanly, and the fuzz corpus
// must parse without crashing.
//
// Expected errors are comments `/* ERROR "rx" */` (the error is at the start of the token
// before the comment) and `/* ERROR HERE "rx" */` (the error is just after that token, where
// "just after" is computed as River's harness does: the token's text length for identifiers,
// numbers and strings, the length of the token's name otherwise). The source is tokenized
// here with a small independent lexer, not with the scanner under test.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing.h"
#include "syntax/parser.h"

namespace starling::syntax {
namespace {

namespace fs = std::filesystem;

using base::testing::ReadFile;

using base::testing::SharedDir;

fs::path ParserTestdata() { return SharedDir() / "conformance" / "river" / "parser" / "testdata"; }

struct LineCol {
  int line;
  int col;
  friend bool operator<(const LineCol& a, const LineCol& b) {
    return a.line != b.line ? a.line < b.line : a.col < b.col;
  }
};

LineCol LineColAt(const std::string& src, size_t offset) {
  LineCol lc{1, 1};
  for (size_t i = 0; i < offset && i < src.size(); ++i) {
    if (src[i] == '\n') {
      ++lc.line;
      lc.col = 1;
    } else {
      ++lc.col;
    }
  }
  return lc;
}

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigitChar(char c) { return c >= '0' && c <= '9'; }

// Collects the expected errors of a test file, keyed by position.
std::map<LineCol, std::string> ExpectedErrors(const std::string& src) {
  static const std::regex kErrorRx(R"rx(^/\* *ERROR *(HERE)? *"([^"]*)" *\*/$)rx");
  std::map<LineCol, std::string> out;
  size_t prev = 0;  // start of the last token
  size_t here = 0;  // just after it, as River's harness measures it
  size_t i = 0;
  const size_t n = src.size();
  while (i < n) {
    char c = src[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    size_t start = i;
    if (c == '/' && i + 1 < n && (src[i + 1] == '/' || src[i + 1] == '*')) {
      size_t end;
      if (src[i + 1] == '/') {
        end = src.find('\n', i);
        if (end == std::string::npos) end = n;
      } else {
        end = src.find("*/", i + 2);
        end = end == std::string::npos ? n : end + 2;
      }
      std::smatch m;
      std::string text = src.substr(start, end - start);
      if (std::regex_match(text, m, kErrorRx)) {
        size_t at = m[1].matched ? here : prev;
        out[LineColAt(src, at)] = m[2].str();
      }
      i = end;
      continue;
    }
    size_t len;  // the length River's harness attributes to the token
    if (c == '"') {
      ++i;
      while (i < n && src[i] != '"' && src[i] != '\n') i += src[i] == '\\' ? 2 : 1;
      if (i < n && src[i] == '"') ++i;
      len = i - start;
    } else if (c == '`') {
      size_t end = src.find('`', i + 1);
      i = end == std::string::npos ? n : end + 1;
      len = i - start;
    } else if (IsIdentStart(c)) {
      while (i < n && IsIdentChar(src[i])) ++i;
      std::string word = src.substr(start, i - start);
      len = (word == "true" || word == "false" || word == "null") ? 4 : word.size();
    } else if (IsDigitChar(c) || (c == '.' && i + 1 < n && IsDigitChar(src[i + 1]))) {
      while (i < n && IsDigitChar(src[i])) ++i;
      if (i < n && src[i] == '.') {
        ++i;
        while (i < n && IsDigitChar(src[i])) ++i;
      }
      if (i < n && (src[i] == 'e' || src[i] == 'E')) {
        ++i;
        if (i < n && (src[i] == '+' || src[i] == '-')) ++i;
        while (i < n && IsDigitChar(src[i])) ++i;
      }
      len = i - start;
    } else {
      static const char* kTwo[] = {"||", "&&", "==", "!=", "<=", ">="};
      len = 1;
      for (const char* op : kTwo) {
        if (src.compare(i, 2, op) == 0) len = 2;
      }
      i += len;
    }
    prev = start;
    here = start + len;
  }
  return out;
}

// RE2 (the reference harness's regex engine) reads a brace that does not start a repetition
// as a literal; ECMAScript rejects it, so escape such braces.
std::regex GoRegex(const std::string& rx) {
  static const std::regex kRepeat(R"(^\{[0-9]+(,[0-9]*)?\})");
  std::string out;
  for (size_t i = 0; i < rx.size(); ++i) {
    char c = rx[i];
    if (c == '\\' && i + 1 < rx.size()) {
      out += c;
      out += rx[++i];
      continue;
    }
    if (c == '{') {
      std::smatch m;
      std::string rest = rx.substr(i);
      if (std::regex_search(rest, m, kRepeat)) {
        out += m.str();
        i += m.length() - 1;
        continue;
      }
      out += "\\{";
      continue;
    }
    if (c == '}') {
      out += "\\}";
      continue;
    }
    out += c;
  }
  return std::regex(out);
}

std::vector<fs::path> FilesIn(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    if (!ext.empty() && entry.path().extension() != ext) continue;
    files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ParserConformanceTest, TestdataPresent) {
  ASSERT_FALSE(SharedDir().empty()) << "neither STARLING_SHARED_DIR nor STARLING_SOURCE_DIR is set";
  ASSERT_TRUE(fs::is_directory(ParserTestdata())) << ParserTestdata();
  EXPECT_GE(FilesIn(ParserTestdata(), ".river").size(), 6u);
  EXPECT_GE(FilesIn(ParserTestdata() / "valid", ".river").size(), 5u);
  EXPECT_GE(FilesIn(ParserTestdata() / "fuzz" / "FuzzParser", "").size(), 3u);
}

TEST(ParserConformanceTest, ErrorFiles) {
  ASSERT_TRUE(fs::is_directory(ParserTestdata())) << ParserTestdata();
  int checked = 0;
  for (const fs::path& path : FilesIn(ParserTestdata(), ".river")) {
    SCOPED_TRACE(path.filename().string());
    std::string src = ReadFile(path);
    std::map<LineCol, std::string> expected = ExpectedErrors(src);
    EXPECT_FALSE(expected.empty()) << "no ERROR comments found";
    ParseResult r = ParseFile(path.filename().string(), src);
    for (const Diagnostic& d : r.diags.list()) {
      LineCol at{d.start.line, d.start.col};
      auto it = expected.find(at);
      if (it == expected.end()) {
        ADD_FAILURE() << "unexpected error: " << at.line << ":" << at.col << ": " << d.message;
        continue;
      }
      EXPECT_TRUE(std::regex_search(d.message, GoRegex(it->second)))
          << at.line << ":" << at.col << ": " << d.message << " does not match " << it->second;
      expected.erase(it);
      ++checked;
    }
    for (const auto& [at, rx] : expected) {
      ADD_FAILURE() << "error not reported: " << at.line << ":" << at.col << ": " << rx;
    }
  }
  EXPECT_GE(checked, 13);
}

TEST(ParserConformanceTest, ValidFiles) {
  ASSERT_TRUE(fs::is_directory(ParserTestdata() / "valid"));
  for (const fs::path& path : FilesIn(ParserTestdata() / "valid", ".river")) {
    SCOPED_TRACE(path.filename().string());
    std::string src = ReadFile(path);
    ParseResult r = ParseFile(path.filename().string(), src);
    EXPECT_TRUE(r.diags.empty()) << r.diags.Format(path.filename().string());
    ASSERT_NE(r.file, nullptr);
    if (src.find_first_not_of(" \t\r\n") != std::string::npos &&
        src.find('=') != std::string::npos) {
      EXPECT_FALSE(r.file->body.empty());
    }
  }
}

// Decodes the body of a Go interpreted string literal (the test's own decoder, independent
// of the scanner's).
std::string DecodeGoString(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char e = s[++i];
    auto hex = [&](size_t count) {
      unsigned v = std::stoul(s.substr(i + 1, count), nullptr, 16);
      i += count;
      return v;
    };
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case 'x':
        out += static_cast<char>(hex(2));
        break;
      case 'u':
      case 'U': {
        unsigned v = hex(e == 'u' ? 4 : 8);
        if (v < 0x80) {
          out += static_cast<char>(v);
        } else if (v < 0x800) {
          out += static_cast<char>(0xC0 | (v >> 6));
          out += static_cast<char>(0x80 | (v & 0x3F));
        } else if (v < 0x10000) {
          out += static_cast<char>(0xE0 | (v >> 12));
          out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (v & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (v >> 18));
          out += static_cast<char>(0x80 | ((v >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (v & 0x3F));
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          out += static_cast<char>(std::stoul(s.substr(i, 3), nullptr, 8));
          i += 2;
        } else {
          out += e;  // \\ \" \'
        }
    }
  }
  return out;
}

TEST(ParserConformanceTest, FuzzCorpus) {
  fs::path dir = ParserTestdata() / "fuzz" / "FuzzParser";
  ASSERT_TRUE(fs::is_directory(dir));
  int count = 0;
  for (const fs::path& path : FilesIn(dir, "")) {
    SCOPED_TRACE(path.filename().string());
    std::string text = ReadFile(path);
    ASSERT_EQ(text.rfind("go test fuzz v1\n", 0), 0u);
    size_t open = text.find("[]byte(\"");
    size_t close = text.rfind("\")");
    ASSERT_NE(open, std::string::npos);
    ASSERT_NE(close, std::string::npos);
    std::string input = DecodeGoString(text.substr(open + 8, close - open - 8));
    ParseResult r = ParseFile("fuzz", input);
    ASSERT_NE(r.file, nullptr);
    ++count;
  }
  EXPECT_GE(count, 3);
}

TEST(ParserConformanceTest, GoRegexBraces) {
  EXPECT_TRUE(std::regex_search("expected {, got STRING", GoRegex("expected {, got STRING")));
  EXPECT_TRUE(std::regex_search("aaa", GoRegex("^a{3}$")));
  EXPECT_FALSE(std::regex_search("aa", GoRegex("^a{3}$")));
  EXPECT_TRUE(std::regex_search("x}", GoRegex("x}")));
}

TEST(ParserConformanceTest, FuzzCorpusDecodesAsExpected) {
  // The corpus entries hold these inputs; decoding them right is part of the test.
  EXPECT_EQ(DecodeGoString(R"(A={A!0A\")"), "A={A!0A\"");
  EXPECT_EQ(DecodeGoString(R"(a\x00\n\u00e9\101)"), std::string("a\0\n\xC3\xA9"
                                                                "A",
                                                                6));
}

TEST(ParserConformanceTest, RawStringLabelError) {
  fs::path dir = SharedDir() / "conformance" / "river" / "printer" / "testdata";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::string src = ReadFile(dir / "raw_string_label_error.in");
  std::string want = ReadFile(dir / "raw_string_label_error.error");
  while (!want.empty() && (want.back() == '\n' || want.back() == '\r')) want.pop_back();
  ParseResult r = ParseFile("raw_string_label_error.in", src);
  ASSERT_FALSE(r.diags.empty());
  bool found = false;
  for (const Diagnostic& d : r.diags.list()) {
    if (d.message == want) {
      found = true;
      EXPECT_EQ(d.start.line, 5);
      EXPECT_EQ(d.start.col, 7);
    }
  }
  EXPECT_TRUE(found) << r.diags.Format("raw_string_label_error.in") << "want: " << want;
}

}  // namespace
}  // namespace starling::syntax
