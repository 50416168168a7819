#include "model/textparse/textparse.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "base/testing.h"
#include "model/textparse/openmetricsparse.h"
#include "model/textparse/promparse.h"
#include "model/textparse/validate.h"

namespace starling::model::textparse {
namespace {

std::string FormatFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string FormatTs(const std::optional<std::int64_t>& ts) {
  return ts ? std::to_string(*ts) : "-";
}

// Series texts a caller of NextKnown vouches for, expected in the order they were seen.
struct KnownTexts {
  std::vector<std::string> texts;
  std::size_t next = 0;  // the index of the series expected next
  int vouched = 0;       // how often `known` held

  static bool Known(void* ctx, std::string_view text) {
    auto* k = static_cast<KnownTexts*>(ctx);
    const bool ok = std::find(k->texts.begin(), k->texts.end(), text) != k->texts.end();
    k->vouched += ok ? 1 : 0;
    return ok;
  }
  Result<Entry> Next(Parser& p) {
    if (next >= texts.size()) return p.Next();
    Result<Entry> e = p.NextKnown(texts[next].size(), &Known, this);
    if (e.ok() && *e == Entry::kSeries) ++next;
    return e;
  }
};

// Runs p to the end and describes each entry in one line; an error ends the transcript. With
// `known`, entries come from NextKnown.
std::vector<std::string> Transcript(Parser& p, KnownTexts* known = nullptr) {
  std::vector<std::string> out;
  for (int i = 0; i < 100000; ++i) {
    Result<Entry> e = known != nullptr ? known->Next(p) : p.Next();
    if (!e.ok()) {
      out.push_back("error: " + e.error().message());
      return out;
    }
    switch (*e) {
      case Entry::kEof:
        out.push_back("eof");
        return out;
      case Entry::kSeries: {
        SeriesView s = p.Series();
        Labels l;
        Status labels_ok = p.Metric(&l);
        std::string line = "series " + std::string(s.series) + " " + FormatFloat(s.value) + " " +
                           FormatTs(s.timestamp) + " " + l.String();
        if (!labels_ok.ok()) line += " error: " + labels_ok.message();
        Exemplar ex;
        if (p.Exemplar(&ex)) {
          line += " ex " + ex.labels.String() + " " + FormatFloat(ex.value) + " " +
                  FormatTs(ex.timestamp);
        }
        out.push_back(line);
        break;
      }
      case Entry::kHelp: {
        MetadataView m = p.Help();
        out.push_back("help " + std::string(m.metric) + " [" + std::string(m.text) + "]");
        break;
      }
      case Entry::kType: {
        TypeView t = p.Type();
        out.push_back("type " + std::string(t.metric) + " " + std::string(MetricTypeName(t.type)));
        break;
      }
      case Entry::kUnit: {
        MetadataView m = p.Unit();
        out.push_back("unit " + std::string(m.metric) + " [" + std::string(m.text) + "]");
        break;
      }
      case Entry::kComment:
        out.push_back("comment [" + std::string(p.Comment()) + "]");
        break;
      case Entry::kInvalid:
        out.push_back("invalid");
        return out;
    }
  }
  out.push_back("too many entries");
  return out;
}

struct Case {
  const char* name;
  bool openmetrics;
  std::string input;
  std::vector<std::string> want;  // an "error: " line matches by substring
};

void ExpectTranscript(const Case& c, const std::vector<std::string>& got) {
  ASSERT_EQ(got.size(), c.want.size()) << ::testing::PrintToString(got);
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (c.want[i].starts_with("error: ")) {
      EXPECT_THAT(got[i], ::testing::HasSubstr(c.want[i].substr(7))) << "entry " << i;
    } else {
      EXPECT_EQ(got[i], c.want[i]) << "entry " << i;
    }
  }
}

TEST(TextparseTest, Table) {
  const std::vector<Case> cases = {
      // Prometheus text 0.0.4.
      {"prom simple", false, "a 1\n", {"series a 1 - {__name__=\"a\"}", "eof"}},
      {"prom no final newline", false, "a 1", {"series a 1 - {__name__=\"a\"}", "eof"}},
      {"prom empty body", false, "", {"eof"}},
      {"prom blank lines", false, "\n\na 1\n\n", {"series a 1 - {__name__=\"a\"}", "eof"}},
      // The grammar allows a repeated label name; the series' labels cannot hold it.
      {"prom repeated label",
       false,
       "a{b=\"1\",c=\"2\",b=\"3\"} 1\n",
       {"series a{b=\"1\",c=\"2\",b=\"3\"} 1 - {__name__=\"a\", b=\"3\", c=\"2\"} error: label "
        "name \"b\" is not unique: invalid sample",
        "eof"}},
      {"prom label named __name__",
       false,
       "a{__name__=\"b\"} 1\n",
       {"series a{__name__=\"b\"} 1 - {__name__=\"b\"} error: label name \"__name__\" is not "
        "unique: invalid sample",
        "eof"}},
      {"prom timestamp",
       false,
       "a 1.5 1700000000000\n",
       {"series a 1.5 1700000000000 {__name__=\"a\"}", "eof"}},
      {"prom labels",
       false,
       "a{b=\"c\",d=\"e\"} 2\n",
       {"series a{b=\"c\",d=\"e\"} 2 - {__name__=\"a\", b=\"c\", d=\"e\"}", "eof"}},
      {"prom empty label set", false, "a{} 2\n", {"series a{} 2 - {__name__=\"a\"}", "eof"}},
      {"prom blanks and trailing comma",
       false,
       "a { b = \"c\" , } \t 3 \n",
       {"series a { b = \"c\" , } 3 - {__name__=\"a\", b=\"c\"}", "eof"}},
      {"prom escapes in label values",
       false,
       R"(a{b="x\"y\\z\nw\q"} 1)"
       "\n",
       {R"(series a{b="x\"y\\z\nw\q"} 1 - {__name__="a", b="x\"y\\z\nw\\q"})", "eof"}},
      {"prom NaN and infinities",
       false,
       "a NaN\nb +Inf\nc -Inf\nd inf\n",
       {"series a NaN - {__name__=\"a\"}", "series b +Inf - {__name__=\"b\"}",
        "series c -Inf - {__name__=\"c\"}", "series d +Inf - {__name__=\"d\"}", "eof"}},
      {"prom exponents",
       false,
       "a 1e3\nb -2.5E-2\nc .5\n",
       {"series a 1000 - {__name__=\"a\"}", "series b -0.025 - {__name__=\"b\"}",
        "series c 0.5 - {__name__=\"c\"}", "eof"}},
      {"prom help and type",
       false,
       "# HELP a Some \\\\ help\\nmore\n# TYPE a counter\na 1\n",
       {"help a [Some \\ help\nmore]", "type a counter", "series a 1 - {__name__=\"a\"}", "eof"}},
      {"prom untyped", false, "# TYPE a untyped\n", {"type a unknown", "eof"}},
      {"prom comments",
       false,
       "# just a comment\n#\na 1\n",
       {"comment [# just a comment]", "comment [#]", "series a 1 - {__name__=\"a\"}", "eof"}},
      {"prom bad type",
       false,
       "# TYPE a gaugehistogram\n",
       {"error: invalid metric type \"gaugehistogram\""}},
      {"prom bad value",
       false,
       "a x\n",
       {"error: strconv.ParseFloat: parsing \"x\": invalid syntax while parsing: \"a x\""}},
      {"prom hex value", false, "a 0x1p3\n", {"error: invalid syntax"}},
      {"prom underscore value", false, "a 1_000\n", {"error: invalid syntax"}},
      {"prom float timestamp", false, "a 1 1.5\n", {"error: expected timestamp or new record"}},
      {"prom missing value", false, "a\n", {"error: expected value after metric"}},
      {"prom unterminated label value", false, "a{b=\"c} 1\n", {"error: unterminated label value"}},
      {"prom bad label name", false, "a{1=\"c\"} 1\n", {"error: expected label name"}},
      {"prom bad start", false, "{a=\"b\"} 1\n", {"error: expected a valid start token"}},
      {"prom junk after timestamp",
       false,
       "a 1 2 3\n",
       {"error: expected next entry after timestamp"}},
      {"prom invalid utf8 label", false, "a{b=\"\xff\"} 1\n", {"error: invalid UTF-8 label value"}},
      // Values of 16 bytes and more are scanned a block at a time: the escapes, quotes, line
      // ends and non-ASCII bytes must be found at every offset in a block, and past one.
      {"prom long values",
       false,
       "a{b=\"0123456789abcdefghij\",c=\"0123456789abcde\\\"fgh\\\\\"} 1\n",
       {R"(series a{b="0123456789abcdefghij",c="0123456789abcde\"fgh\\"} 1 - )"
        R"({__name__="a", b="0123456789abcdefghij", c="0123456789abcde\"fgh\\"})",
        "eof"}},
      {"prom long value unterminated at the line end",
       false,
       "a{b=\"0123456789abcdefghijklmnop\nb 1\n",
       {"error: unterminated label value"}},
      {"prom invalid utf8 deep in a long value",
       false,
       "a{b=\"0123456789abcdefghijklmnopq\xffrs\"} 1\n",
       {"error: invalid UTF-8 label value"}},
      {"prom invalid utf8 in the block before the quote",
       false,
       "a{b=\"0123456789abcdefghijklmnopqrstu\xff\"} 1\n",
       {"error: invalid UTF-8 label value"}},
      {"prom valid utf8 in a long value",
       false,
       "a{b=\"0123456789abcdef caf\xc3\xa9\"} 1\n",
       {"series a{b=\"0123456789abcdef caf\xc3\xa9\"} 1 - {__name__=\"a\", b=\"0123456789abcdef "
        "caf\xc3\xa9\"}",
        "eof"}},
      {"prom invalid utf8 after an escape",
       false,
       "a{b=\"x\\\xff\"} 1\n",
       {"error: invalid UTF-8 label value"}},
      {"prom valid utf8 label",
       false,
       "a{b=\"caf\xc3\xa9 \xe2\x82\xac\"} 1\n",
       {"series a{b=\"caf\xc3\xa9 \xe2\x82\xac\"} 1 - {__name__=\"a\", b=\"caf\xc3\xa9 "
        "\xe2\x82\xac\"}",
        "eof"}},
      // Invalid bytes past the first eight-byte word and in the tail.
      {"prom invalid utf8 help late",
       false,
       "# HELP a 0123456789abcdef\xff\n",
       {"error: help text"}},
      {"prom invalid utf8 help tail", false, "# HELP a 0123456\xc3\n", {"error: help text"}},
      // OpenMetrics 1.0.
      {"om simple", true, "a 1\n# EOF\n", {"series a 1 - {__name__=\"a\"}", "eof"}},
      {"om eof without newline", true, "# EOF", {"eof"}},
      {"om float seconds timestamp",
       true,
       "a 1 1.5\n# EOF\n",
       {"series a 1 1500 {__name__=\"a\"}", "eof"}},
      {"om metadata",
       true,
       "# TYPE a_seconds counter\n# UNIT a_seconds seconds\n# HELP a_seconds x \\\"q\\\"\n"
       "a_seconds_total 3\n# EOF\n",
       {"type a_seconds counter", "unit a_seconds [seconds]", "help a_seconds [x \"q\"]",
        "series a_seconds_total 3 - {__name__=\"a_seconds_total\"}", "eof"}},
      {"om all types",
       true,
       "# TYPE a gaugehistogram\n# TYPE b info\n# TYPE c stateset\n# TYPE d unknown\n# EOF\n",
       {"type a gaugehistogram", "type b info", "type c stateset", "type d unknown", "eof"}},
      {"om exemplar",
       true,
       "a_total{x=\"y\"} 1 # {trace_id=\"abc\"} 0.5 12.5\n# EOF\n",
       {"series a_total{x=\"y\"} 1 - {__name__=\"a_total\", x=\"y\"} ex {trace_id=\"abc\"} 0.5 "
        "12500",
        "eof"}},
      {"om exemplar after timestamp",
       true,
       "a_total 1 2 # {} 3\n# EOF\n",
       {"series a_total 1 2000 {__name__=\"a_total\"} ex {} 3 -", "eof"}},
      {"om hash in label value",
       true,
       "a{b=\"c # {d} 1\"} 1\n# EOF\n",
       {"series a{b=\"c # {d} 1\"} 1 - {__name__=\"a\", b=\"c # {d} 1\"}", "eof"}},
      {"om missing eof",
       true,
       "a 1\n",
       {"series a 1 - {__name__=\"a\"}", "error: data does not end with # EOF"}},
      {"om text after eof", true, "# EOF\na 1\n", {"error: unexpected data after # EOF"}},
      {"om blank line",
       true,
       "a 1\n\n# EOF\n",
       {"series a 1 - {__name__=\"a\"}", "error: expected a valid start token"}},
      {"om free comment",
       true,
       "# hello\n# EOF\n",
       {"error: expected HELP, TYPE, UNIT or EOF after #"}},
      {"om double space", true, "a  1\n# EOF\n", {"error: expected value after metric"}},
      {"om trailing comma", true, "a{b=\"c\",} 1\n# EOF\n", {"error: expected label name"}},
      {"om untyped is not a type",
       true,
       "# TYPE a untyped\n# EOF\n",
       {"error: invalid metric type \"untyped\""}},
      {"om unit not a suffix",
       true,
       "# UNIT a seconds\n# EOF\n",
       {"error: unit \"seconds\" not a suffix of metric \"a\""}},
      {"om NaN timestamp", true, "a 1 NaN\n# EOF\n", {"error: invalid timestamp NaN"}},
      {"om exemplar too long",
       true,
       "a_total 1 # {a=\"" + std::string(128, 'x') + "\"} 1\n# EOF\n",
       {"error: exceeding the limit of 128"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<Parser> p;
    if (c.openmetrics) {
      p = std::make_unique<OpenMetricsParser>(c.input);
    } else {
      p = std::make_unique<PromParser>(c.input);
    }
    ExpectTranscript(c, Transcript(*p));
  }
}

// A capture of testdata/ (CTest sets STARLING_SOURCE_DIR); fails the test when unreadable.
std::string ReadTestdata(const char* name) {
  const char* src = std::getenv("STARLING_SOURCE_DIR");
  const std::string body = base::testing::ReadFile(
      std::filesystem::path(src != nullptr ? src : ".") / "src/model/textparse/testdata" / name);
  EXPECT_FALSE(body.empty()) << name << " not found: is STARLING_SOURCE_DIR set?";
  return body;
}

// The series texts PromParser accepts in body, in order.
std::vector<std::string> AcceptedSeries(std::string_view body) {
  std::vector<std::string> out;
  PromParser p(body);
  for (Result<Entry> e = p.Next(); e.ok() && *e != Entry::kEof; e = p.Next()) {
    if (*e == Entry::kSeries) out.emplace_back(p.Series().series);
  }
  return out;
}

TEST(TextparseTest, NextKnownReadsWhatNextReads) {
  const std::string bodies[] = {
      "a 1\nb{c=\"d\"} 2 123\n",
      "# HELP a x\n# TYPE a counter\na{b=\"1\",c=\"2\",b=\"3\"} 1\n",
      "  a  {  b = \"x\\\"y\" , }   3\n\n a 4\n",
      "a{b=\"\\n\"} 1\na{b=\"1\"} x\n",
      "a 1\na 2\na{} 3\n",
      ReadTestdata("node_exporter.prom"),
      ReadTestdata("prometheus.prom"),
  };
  for (const std::string& body : bodies) {
    SCOPED_TRACE(body.substr(0, 80));
    PromParser plain(body);
    const std::vector<std::string> want = Transcript(plain);
    KnownTexts known{AcceptedSeries(body)};
    PromParser fast(body);
    EXPECT_EQ(Transcript(fast, &known), want);
    EXPECT_EQ(known.vouched, static_cast<int>(known.texts.size()));
  }
}

TEST(TextparseTest, NextKnownTakesTheTextOnTrust) {
  // `a{b=1}` is not valid: taken on trust, it is not scanned again (which is why `known` must
  // vouch only for texts accepted before).
  PromParser p("a{b=1} 5\n");
  KnownTexts known{{"a{b=1}"}};
  Result<Entry> e = known.Next(p);
  ASSERT_TRUE(e.ok()) << e.error().message();
  EXPECT_EQ(p.Series().series, "a{b=1}");
  EXPECT_EQ(p.Series().value, 5);
}

TEST(TextparseTest, NextKnownFallsBackWhenTheLineOnlyStartsWithTheText) {
  // `a` is known, and the line starts with `a ` but has a label set after the blank.
  PromParser p("a {b=\"c\"} 1\na 2\n");
  KnownTexts known{{"a", "a"}};
  EXPECT_EQ(Transcript(p, &known),
            (std::vector<std::string>{"series a {b=\"c\"} 1 - {__name__=\"a\", b=\"c\"}",
                                      "series a 2 - {__name__=\"a\"}", "eof"}));
  // The first line was vouched for but parsed in full; the second took the fast path.
  EXPECT_EQ(known.vouched, 2);
}

TEST(TextparseTest, NextKnownLabelsOfAFastSeries) {
  PromParser p("x{a=\"1\",b=\"two\\\\\"} 1\n");
  KnownTexts known{{"x{a=\"1\",b=\"two\\\\\"}"}};
  ASSERT_TRUE(known.Next(p).ok());
  ASSERT_EQ(known.vouched, 1);
  Labels l;
  ASSERT_TRUE(p.Metric(&l).ok());
  EXPECT_EQ(l.String(), "{__name__=\"x\", a=\"1\", b=\"two\\\\\"}");
  LabelsBuilder b;
  p.Labels(&b);
  EXPECT_EQ(b.Get("b"), "two\\");
}

TEST(TextparseTest, ErrorsAreSticky) {
  PromParser p("a x\nb 1\n");
  EXPECT_FALSE(p.Next().ok());
  Result<Entry> again = p.Next();
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message(), ::testing::HasSubstr("\"a x\""));
}

TEST(TextparseTest, ParseGoFloat) {
  struct FloatCase {
    const char* in;
    bool ok;
    double want;
  };
  const double inf = std::numeric_limits<double>::infinity();
  const FloatCase cases[] = {
      {"1", true, 1},        {"-1.5", true, -1.5},    {"+2", true, 2},     {"1e3", true, 1000},
      {"1E-3", true, 0.001}, {".5", true, 0.5},       {"5.", true, 5},     {"+Inf", true, inf},
      {"-inf", true, -inf},  {"Infinity", true, inf}, {"1e-400", true, 0}, {"007", true, 7},
      {"", false, 0},        {".", false, 0},         {"1e", false, 0},    {"1e400", false, 0},
      {"0x10", false, 0},    {"0x1p3", false, 0},     {"1_0", false, 0},   {"nan(1)", false, 0},
      {"++1", false, 0},     {" 1", false, 0},        {"1 ", false, 0},    {"infx", false, 0},
      {"-nan", false, 0},    {"+NaN", false, 0},
  };
  for (const FloatCase& c : cases) {
    SCOPED_TRACE(c.in);
    double v = -42;
    EXPECT_EQ(ParseGoFloat(c.in, &v), c.ok);
    if (c.ok) {
      EXPECT_EQ(v, c.want);
    }
  }
  double v = 0;
  ASSERT_TRUE(ParseGoFloat("NaN", &v));
  EXPECT_TRUE(std::isnan(v));
}

// Short decimals take a faster path than from_chars; both must give the same double.
TEST(TextparseTest, ParseGoFloatShortDecimalsMatchFromChars) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200000; ++i) {
    const int digits = 1 + static_cast<int>(rng() % 17);
    std::string s;
    for (int d = 0; d < digits; ++d) s += static_cast<char>('0' + rng() % 10);
    if (rng() % 4 != 0) s.insert(rng() % (s.size() + 1), ".");
    if (rng() % 3 == 0) s.insert(0, "-");
    SCOPED_TRACE(s);
    double want = 0;
    const std::string_view digits_part = std::string_view(s).substr(s[0] == '-' ? 1 : 0);
    ASSERT_EQ(std::from_chars(digits_part.data(), digits_part.data() + digits_part.size(), want).ec,
              std::errc());
    if (s[0] == '-') want = -want;
    double got = 0;
    ASSERT_TRUE(ParseGoFloat(s, &got));
    ASSERT_EQ(std::bit_cast<std::uint64_t>(got), std::bit_cast<std::uint64_t>(want));
  }
}

TEST(TextparseTest, NaNIsCanonical) {
  PromParser p("a nan\n");
  ASSERT_EQ(p.Next().value(), Entry::kSeries);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(p.Series().value), 0x7ff8000000000001ULL);
}

TEST(TextparseTest, NewPicksParserByContentType) {
  struct CtCase {
    const char* content_type;
    bool openmetrics;
  };
  const CtCase cases[] = {
      {"application/openmetrics-text; version=1.0.0; charset=utf-8", true},
      {"Application/OpenMetrics-Text", true},
      {"text/plain; version=0.0.4", false},
      {"", false},
      {"garbage;;", false},
  };
  for (const CtCase& c : cases) {
    SCOPED_TRACE(c.content_type);
    // Only an OpenMetrics parser insists on # EOF.
    std::unique_ptr<Parser> p = New("a 1\n", c.content_type);
    ASSERT_EQ(p->Next().value(), Entry::kSeries);
    EXPECT_EQ(p->Next().ok(), !c.openmetrics);
  }
  EXPECT_THAT(std::string(kScrapeAcceptHeader),
              ::testing::StartsWith("application/openmetrics-text;version=1.0.0"));
}

TEST(TextparseTest, LabelsBuilder) {
  PromParser p("a{b=\"1\",c=\"\",d=\"x\\ny\"} 1\n");
  ASSERT_EQ(p.Next().value(), Entry::kSeries);
  LabelsBuilder b;
  b.Set("stale", "x");
  p.Labels(&b);
  EXPECT_EQ(b.Labels().String(), "{__name__=\"a\", b=\"1\", d=\"x\\ny\"}");
}

TEST(TextparseTest, CreatedTimestamp) {
  const std::string body =
      "# TYPE a counter\n"
      "a_total{x=\"1\"} 3\n"
      "a_created{x=\"1\"} 1700000000.5\n"
      "a_total{x=\"2\"} 4\n"
      "# TYPE h histogram\n"
      "h_bucket{le=\"+Inf\"} 1\n"
      "h_count 1\n"
      "h_sum 2\n"
      "h_created 12\n"
      "# TYPE g gauge\n"
      "g 1\n"
      "# EOF\n";
  for (bool skip : {false, true}) {
    SCOPED_TRACE(skip ? "skipping _created" : "keeping _created");
    OpenMetricsParser p(body, skip);
    std::vector<std::string> got;
    for (;;) {
      Result<Entry> e = p.Next();
      ASSERT_TRUE(e.ok()) << e.error().ToString();
      if (*e == Entry::kEof) break;
      if (*e != Entry::kSeries) continue;
      std::optional<std::int64_t> ct = p.CreatedTimestamp();
      got.push_back(std::string(p.Series().series) + "=" + FormatTs(ct));
    }
    std::vector<std::string> want = {"a_total{x=\"1\"}=1700000000500"};
    if (!skip) want.push_back("a_created{x=\"1\"}=-");
    want.push_back("a_total{x=\"2\"}=-");
    want.push_back("h_bucket{le=\"+Inf\"}=12000");
    want.push_back("h_count=12000");
    want.push_back("h_sum=12000");
    if (!skip) want.push_back("h_created=-");
    want.push_back("g=-");
    EXPECT_EQ(got, want);
  }
}

TEST(TextparseTest, PromParserHasNoCreatedTimestampOrExemplar) {
  PromParser p("a_total 1\na_created 5\n");
  ASSERT_EQ(p.Next().value(), Entry::kSeries);
  EXPECT_FALSE(p.CreatedTimestamp().has_value());
  Exemplar e;
  EXPECT_FALSE(p.Exemplar(&e));
}

TEST(TextparseTest, ValidatorMessages) {
  struct VCase {
    const char* input;
    const char* error;  // empty when valid
  };
  const VCase cases[] = {
      {"# TYPE a counter\na_total 1\n# EOF\n", ""},
      {"# TYPE a counter\na_total -1\n# EOF\n", "must not be NaN or negative"},
      {"# TYPE a gauge\na 1 # {} 1\n# EOF\n", "exemplar not allowed"},
      {"# TYPE a histogram\na_bucket{le=\"1\"} 1\n# EOF\n", "no +Inf bucket"},
      {"a{b=\"1\",b=\"2\"} 1\n# EOF\n", "duplicate label"},
      {"a 1\nb 1\na 2\n# EOF\n", "clashing name \"a\""},
  };
  for (const VCase& c : cases) {
    SCOPED_TRACE(c.input);
    Status s = ValidateOpenMetrics(c.input);
    if (*c.error == '\0') {
      EXPECT_TRUE(s.ok()) << s.ToString();
    } else {
      EXPECT_THAT(s.message(), ::testing::HasSubstr(c.error));
    }
  }
}

}  // namespace
}  // namespace starling::model::textparse
