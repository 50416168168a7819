#include "syntax/stdlib.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "syntax/parser.h"
#include "syntax/value_json.h"

namespace starling::syntax {
namespace {

// The environment variable the env tests own.
constexpr char kEnvVar[] = "STARLING_STDLIB_TEST_VAR";

Scope TestScope() {
  return Scope(ValueObject{
      {"secret", Value::Secret("s3cr3t")},
      {"empty_secret", Value::Secret("")},
      {"opt_plain", Value::OptionalSecret("user", false)},
      {"opt_secret", Value::OptionalSecret("hidden", true)},
      {"fn", Value::Func("fn",
                         [](std::span<const Value>, int*) -> base::Result<Value> {
                           return Value::Null();
                         })},
  });
}

// The result of evaluating src: its JSON, or "line:col: message".
std::string EvalToText(const std::string& src) {
  static const Scope* scope = new Scope(TestScope());
  Diagnostics diags;
  ExprPtr expr = ParseExpression(src, &diags);
  if (expr == nullptr || diags.HasErrors()) return "parse error: " + diags.Format("");
  std::variant<Value, Diagnostic> r = Evaluate(*expr, *scope);
  if (const auto* d = std::get_if<Diagnostic>(&r)) {
    return std::to_string(d->start.line) + ":" + std::to_string(d->start.col) + ": " + d->message;
  }
  return ValueToJsonString(std::get<Value>(r));
}

struct Case {
  std::string src;
  std::string want;  // JSON of the value, or "line:col: message"
};

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.src);
    EXPECT_EQ(EvalToText(c.src), c.want);
  }
}

// A JSON string literal, for building expected outputs of format().
std::string Json(const std::string& s) { return ValueToJsonString(Value::String(s)); }

TEST(StdlibTest, StringFunctions) {
  RunCases({
      // River names and Alloy's string namespace are the same functions.
      {R"(to_lower("String"))", R"("string")"},
      {R"(string.to_lower("ÀÉÎ ΣΑΣ ДОМ"))", R"("àéî σασ дом")"},
      {R"(to_upper("string"))", R"("STRING")"},
      {R"(string.to_upper("straße ÿ ı ﬀ"))", R"("STRAßE Ÿ I ﬀ")"},
      {R"(trim_space("   string \n\n"))", R"("string")"},
      {R"(string.trim_space("\u00a0\u2003x\u3000"))", R"("x")"},
      {R"(to_lower(to_upper(trim_space("   String   "))))", R"("string")"},
      {R"(split("/aaa/bbb/ccc/ddd", "/"))", R"(["","aaa","bbb","ccc","ddd"])"},
      {R"(string.split("/aaa/bbb", "/")[0])", R"("")"},
      {R"(string.split("", ","))", R"([""])"},
      {R"(string.split("héllo", ""))", R"(["h","é","l","l","o"])"},
      {R"(join(split("/aaa/bbb/ccc/ddd", "/"), "/"))", R"("/aaa/bbb/ccc/ddd")"},
      {R"(string.join(["foo", "bar", "baz"], ", "))", R"("foo, bar, baz")"},
      {R"(join([0, 0, 1], ", "))", R"("0, 0, 1")"},
      {R"(join([1.5, opt_plain], "-"))", R"("1.5-user")"},
      {R"(join([], ","))", R"("")"},
      {R"(replace("Hello World", " World", "!"))", R"("Hello!")"},
      {R"(string.replace("1 + 2 + 3", "+", "-"))", R"("1 - 2 - 3")"},
      {R"(string.replace("abc", "", "-"))", R"("-a-b-c-")"},
      {R"(trim("?!hello?!", "!?"))", R"("hello")"},
      {R"(string.trim("   hello! world.!  ", "! "))", R"("hello! world.")"},
      {R"(string.trim("foobar", "far"))", R"("oob")"},
      {R"(string.trim("ééaéé", "é"))", R"("a")"},
      {R"(trim_prefix("helloworld", "hello"))", R"("world")"},
      {R"(string.trim_prefix("helloworld", "world"))", R"("helloworld")"},
      {R"(trim_suffix("helloworld", "world"))", R"("hello")"},
      // Arguments convert as River converts into a Go string.
      {R"(to_upper(12))", R"("12")"},
      {R"(to_upper(null))", R"("")"},
      {R"(to_upper(opt_plain))", R"("USER")"},
      // Errors.
      {R"(to_upper(true))", "1:10: true should be string, got bool"},
      {R"(to_upper("a", "b"))", "1:1: to_upper expected 1 args, got 2"},
      {R"(string.split("a"))", "1:1: string.split expected 2 args, got 1"},
      {R"(join(["a", true], ","))", "1:6: [\"a\", true][1] should be string, got bool"},
      {R"(join("a", ","))", "1:6: \"a\" should be array, got string"},
      {R"(to_lower(secret))", "1:10: secret secrets may not be converted into strings"},
      {R"(to_lower(opt_secret))", "1:10: opt_secret secrets may not be converted into strings"},
  });
}

TEST(StdlibTest, Format) {
  RunCases({
      {R"(format("Hello %s", "World"))", Json("Hello World")},
      {R"(string.format("There are %d lights", 4))", Json("There are 4 lights")},
      {R"(format("%#v", 1))", Json("1")},
      {R"(format("%#v", true))", Json("true")},
      {R"(format("%q", "hello"))", Json("\"hello\"")},
      {R"(format("%5d|%-5d|%05d|%+d|% d", 42, 42, 42, 42, 42))", Json("   42|42   |00042|+42| 42")},
      {R"(format("%x %X %o %O %b %#x %#o", 255, 255, 8, 8, 5, 255, 8))",
       Json("ff FF 10 0o10 101 0xff 010")},
      {R"(format("%x", -255))", Json("-ff")},
      {R"(format("%f|%.2f|%8.3f|%08.3f", 3.14159, 3.14159, 3.14159, -3.14159))",
       Json("3.141590|3.14|   3.142|-003.142")},
      {R"(format("%e|%E|%+.2e", 1234.5678, 1234.5678, 12345.678))",
       Json("1.234568e+03|1.234568E+03|+1.23e+04")},
      {R"(format("%g|%g|%v|%v|%v|%v", 1234.5678, 1e21, 0.000012, 100000.0, 1000000.0, 1.5))",
       Json("1234.5678|1e+21|1.2e-05|100000|1e+06|1.5")},
      {R"(format("%v %.2v %#g", 123456789.0, 3.14159, 1.0))", Json("1.23456789e+08 3.1 1.00000")},
      {R"(format("%.0f %.0f", 2.5, 3.5))", Json("2 4")},
      {R"(format("%b %x", 1.0, 1.0))", Json("4503599627370496p-52 0x1p+00")},
      {R"(format("%t|%5t|", true, false))", Json("true|false|")},
      {R"(format("%-8s|%8s|%08s|%.3s", "ab", "ab", "ab", "abcdef"))",
       Json("ab      |      ab|000000ab|abc")},
      {R"(format("%x|% x|%#x|%X", "hi", "hi", "hi", "hi"))", Json("6869|68 69|0x6869|6869")},
      {R"(format("%q|%+q|%#q", "a\"b\n", "é", "x"))", Json(R"("a\"b\n"|"\u00e9"|`x`)")},
      {R"(format("%c%c %U %#U %q", 72, 105, 128512, 65, 65))", Json("Hi U+1F600 U+0041 'A' 'A'")},
      {R"(format("%6.2f%%", 99.5))", Json(" 99.50%")},
      {R"(format("%[2]s %[1]s", "a", "b"))", Json("b a")},
      {R"(format("%*d|%-*d|", 5, 42, 4, 7))", Json("   42|7   |")},
      {R"(format("%T %T %T %T %T %T", 1, 1.5, "s", [1], {}, null))",
       Json("int float64 string []interface {} map[string]interface {} <nil>")},
      {R"(format("%v|%#v", [1, "a", null], [1, "a", null]))",
       Json("[1 a <nil>]|[]interface {}{1, \"a\", interface {}(nil)}")},
      {R"(format("%v|%#v", {"b" = "x", "a" = 1}, {"a" = 1}))",
       Json("map[a:1 b:x]|map[string]interface {}{\"a\":1}")},
      {R"(format("%d|%d", [1, "a"], {"a" = 1}))", Json("[1 %!d(string=a)]|map[%!d(string=a):1]")},
      {R"(format("%d %T %#v", 18446744073709551615, 18446744073709551615, 18446744073709551615))",
       Json("18446744073709551615 uint64 0xffffffffffffffff")},
      // Go's in-band errors.
      {R"(format("%s|%d|%d|%z", 1, "x", 1.5, 1))",
       Json("%!s(int=1)|%!d(string=x)|%!d(float64=1.5)|%!z(int=1)")},
      {R"(format("%d|%v", null, null))", Json("%!d(<nil>)|<nil>")},
      {R"(format("%d %d", 1))", Json("1 %!d(MISSING)")},
      {R"(format("%d", 1, "a"))", Json("1%!(EXTRA string=a)")},
      {R"(format("abc%"))", Json("abc%!(NOVERB)")},
      {R"(format("%[3]d", 1))", Json("%!d(BADINDEX)")},
      {R"(format("%*d", "x", 1))", Json("%!(BADWIDTH)1")},
      {R"(format(5))", Json("5")},
      {R"(format("%s", opt_plain))", Json("user")},
      // What Starling refuses instead of leaking or printing addresses.
      {R"(format("%s", secret))", "1:14: secret secrets may not be converted into strings"},
      {R"(format("%v", [opt_secret]))",
       "1:14: [opt_secret] secrets may not be converted into strings"},
      {R"(format("%v", fn))", "1:14: fn cannot format a function"},
      {R"(format("%p", [1]))", "1:1: format %p (a memory address) is not supported"},
      {R"(format())", "1:1: format expected at least 1 args, got 0"},
  });
}

TEST(StdlibTest, Encoding) {
  RunCases({
      {R"(json_decode("{\"foo\": \"bar\"}"))", R"({"foo":"bar"})"},
      // encoding/json decodes every number as a float64.
      {R"(encoding.from_json("[0, 1, 2.5, -3e2]"))", "[0.0,1.0,2.5,-300.0]"},
      {R"(encoding.from_json("{\"foo\": null, \"a\": [true, \"\\u00e9\"]}"))",
       R"({"a":[true,"é"],"foo":null})"},
      {R"(encoding.from_json("15"))", "15.0"},
      {R"(encoding.from_json("null"))", "null"},
      {R"(encoding.from_json(15))", "15.0"},
      {R"(encoding.from_json("{\"a\": 1, \"a\": 2}"))", R"({"a":2.0})"},
      {R"(encoding.from_json("{"))", "1:1: encoding.from_json unexpected end of JSON input"},
      {R"(json_decode("[1, 2] x"))",
       "1:1: json_decode invalid character 'x' after top-level value"},
      {R"(json_decode("nope"))", "1:1: json_decode invalid character 'o' in literal"},
      // yaml.v3 keeps integers as integers.
      {"yaml_decode(`foo: bar`)", R"({"foo":"bar"})"},
      {"encoding.from_yaml(`[0, 1, 2]`)", "[0,1,2]"},
      {"encoding.from_yaml(`[0.0, 1.0, 2.0]`)", "[0.0,1.0,2.0]"},
      {"encoding.from_yaml(`foo: null`)", R"({"foo":null})"},
      {R"(encoding.from_yaml("[0, null]"))", "[0,null]"},
      {"encoding.from_yaml(`[0x1F, 0o17, 017, 1_000, -5, 1e3, .5, 08, yes, ~, '12', True]`)",
       R"([31,15,15,1000,-5,1000.0,0.5,8.0,"yes",null,"12",true])"},
      {"encoding.from_yaml(`[2001-12-14, !!str 12, !!float 3, 18446744073709551615]`)",
       R"(["2001-12-14","12",3.0,18446744073709551615])"},
      {"encoding.from_yaml(`{200: ok, base: &b {x: 1, y: 2}, derived: {<<: *b, y: 3}}`)",
       R"({"200":"ok","base":{"x":1,"y":2},"derived":{"x":1,"y":3}})"},
      {"encoding.from_yaml(``)", "null"},
      {"encoding.from_yaml(`a: [1, 2`)",
       "1:1: encoding.from_yaml yaml: line 1: end of sequence flow not found"},
      {"encoding.from_yaml(\"a: 1\\na: 2\")",
       "1:1: encoding.from_yaml yaml: unmarshal errors:\n  line 2: mapping key \"a\" already "
       "defined at line 1"},
      // Base64.
      {R"(base64_decode("Zm9vYmFyMTIzIT8kKiYoKSctPUB+"))", Json("foobar123!?$*&()'-=@~")},
      {R"(encoding.from_base64("dGFuZ2VyaW5l"))", Json("tangerine")},
      {R"(encoding.from_URLbase64("c3RyaW5nMTIzIT8kKiYoKSctPUB-"))", Json("string123!?$*&()'-=@~")},
      {R"(encoding.to_base64("string123!?$*&()'-=@~"))", Json("c3RyaW5nMTIzIT8kKiYoKSctPUB+")},
      {R"(encoding.to_URLbase64("string123!?$*&()'-=@~"))", Json("c3RyaW5nMTIzIT8kKiYoKSctPUB-")},
      {R"(encoding.to_base64("a"))", Json("YQ==")},
      {R"(encoding.from_base64("YQ==\nYg=="))",
       "1:1: encoding.from_base64 illegal base64 data at input byte 5"},
      {R"(encoding.from_base64("YQ"))",
       "1:1: encoding.from_base64 illegal base64 data at input byte 0"},
      {R"(encoding.from_base64("Y*=="))",
       "1:1: encoding.from_base64 illegal base64 data at input byte 1"},
      {R"(encoding.from_base64(""))", Json("")},
      // URL escaping.
      {R"(encoding.url_encode("string123!?$*&()'-=@~ x"))",
       Json("string123%21%3F%24%2A%26%28%29%27-%3D%40~+x")},
      {R"(encoding.url_decode("string123%21%3F%24%2A%26%28%29%27-%3D%40~+x"))",
       Json("string123!?$*&()'-=@~ x")},
      {R"(encoding.url_decode("100%"))", "1:1: encoding.url_decode invalid URL escape \"%\""},
      {R"(encoding.url_decode("%zz1"))", "1:1: encoding.url_decode invalid URL escape \"%zz\""},
      // JSON encoding: objects only, keys sorted, HTML characters escaped.
      {R"(encoding.to_json({"modules"={"http_2xx"={"prober"="http","timeout"="5s"}}}))",
       Json(R"({"modules":{"http_2xx":{"prober":"http","timeout":"5s"}}})")},
      {R"(encoding.to_json({"b" = [1, 2.5, 1e21, 0.0000001, null, true], "a" = "<&>"}))",
       Json(R"({"a":"\u003c\u0026\u003e","b":[1,2.5,1e+21,1e-7,null,true]})")},
      {R"(encoding.to_json({"u" = opt_plain}))", Json(R"({"u":"user"})")},
      {R"(encoding.to_json(12))", "1:1: encoding.to_json jsonEncode only supports map"},
      {R"(encoding.to_json({"s" = secret}))",
       "1:1: encoding.to_json secrets may not be converted into strings"},
  });
}

TEST(StdlibTest, JsonPath) {
  const std::string doc =
      R"("{\"a\": [{\"name\": \"x\", \"v\": 1}, {\"name\": \"y\", \"v\": 2.5}, {\"name\": \"z\", \"v\": 3}], \"b\": {\"c\": {\"d\": 4}, \"d\": 5}}")";
  RunCases({
      {R"(json_path("{\"key\": \"value\"}", ".key"))", R"(["value"])"},
      {R"(json_path("{\"key\": \"value\"}", ".nonexists"))", "[]"},
      {R"(json_path("{\"key\": \"value\"}", ".key")[0])", R"("value")"},
      {R"(json_path("[{\"name\": \"Department\",\"value\": \"IT\"},{\"name\":\"TestStatus\",\"value\":\"Pending\"}]", "[?(@.name == \"Department\")].value"))",
       R"(["IT"])"},
      {"json_path(" + doc + ", \"$.a[*].v\")", "[1,2.5,3]"},
      {"json_path(" + doc + ", \"a[-1].name\")", R"(["z"])"},
      {"json_path(" + doc + ", \"$.a[0,2].name\")", R"(["x","z"])"},
      {"json_path(" + doc + ", \"$.a[1:].name\")", R"(["y","z"])"},
      {"json_path(" + doc + ", \"$.a[-1:0:-1].name\")", R"(["z","y"])"},
      {"json_path(" + doc + ", \"$.a[::0]\")", "[]"},
      {"json_path(" + doc + ", \"$['b']['c','d']\")", R"([{"d":4},5])"},
      {"json_path(" + doc + ", \"$..d\")", "[4,5]"},
      {"json_path(" + doc + ", \"$.b..\")", R"([{"d":4},5,4,{"c":{"d":4},"d":5}])"},
      {"json_path(" + doc + ", \"$.a[?(@.v > 1 && @.name != 'z')].name\")", R"(["y"])"},
      {"json_path(" + doc + ", \"$.a[?@.v >= 2.5].name\")", R"(["y","z"])"},
      {"json_path(" + doc + ", \"$.a[?(@.name in ['x', 'z'])].v\")", "[1,3]"},
      {"json_path(" + doc + ", \"$.a[?(@.name =~ /^[xy]$/)].name\")", R"(["x","y"])"},
      {"json_path(" + doc + ", \"$.a[?(!(@.v == 1))].name\")", R"(["y","z"])"},
      {"json_path(" + doc + ", \"$.a[?(@.v * 2 == 6)].name\")", R"(["z"])"},
      {"json_path(" + doc + ", \"$\")",
       R"([{"a":[{"name":"x","v":1},{"name":"y","v":2.5},{"name":"z","v":3}],"b":{"c":{"d":4},"d":5}}])"},
      {"json_path(" + doc + ", \"\")", "[]"},
      {"json_path(" + doc + ", \"a-b\")", "1:1: json_path parse error at 2 in a-b"},
      {"json_path(" + doc + ", \"$.a[\")", "1:1: json_path not terminated at 5 in $.a["},
      // Slice edge cases, as ojg evaluates them.
      {R"(json_path("[1,2,3,4,5,6]", "$[:-10:-1]"))", "[1]"},
      {R"(json_path("[1,2,3,4,5,6]", "$[-4:2]"))", "[]"},
      {R"(json_path("[1,2,3,4,5,6]", "[-1:1:-2]"))", "[6,4]"},
      {R"(json_path("[1,2,3]", "[4:0:-2]"))", "[]"},
      {R"(json_path("[1,2,3]", "$[-10:]"))", "[1,2,3]"},
      {R"(json_path("[{\"x\":1},{\"x\":null},{\"y\":2}]", "[?(@.x == null)]"))",
       R"([{"x":null},{"y":2}])"},
      {R"(json_path("{", "$"))", "1:1: json_path unexpected end of JSON input"},
  });
}

TEST(StdlibTest, Arrays) {
  RunCases({
      {R"(concat([true, "foo"], [], [false, 1]))", R"([true,"foo",false,1])"},
      {R"(array.concat([]))", "[]"},
      {R"(array.concat())", "[]"},
      {R"(array.concat([[1, 2], [3, 4]], [[5, 6]]))", "[[1,2],[3,4],[5,6]]"},
      {R"(array.concat([1], 2))", "1:19: 2 should be array, got number"},
      {R"(array.concat(null))", "1:14: null should be array, got null"},
      {R"(array.combine_maps([{"a" = "a1", "b" = "b1"}], [{"a" = "a1", "c" = "c1"}], ["a"]))",
       R"([{"a":"a1","b":"b1","c":"c1"}])"},
      {R"(array.combine_maps([{"a" = 1, "b" = 2.2}], [{"a" = 1, "b" = "3.3"}], ["a"]))",
       R"([{"a":1,"b":"3.3"}])"},
      {R"(array.combine_maps([{"a" = 1}], [{"a" = "1"}], ["a"]))", "[]"},
      {R"(array.combine_maps([{"pod" = "a", "lbl" = "q"}, {"pod" = "b", "lbl" = "q"}], [{"pod" = "c", "lbl" = "q"}, {"pod" = "d", "lbl" = "q"}], ["lbl"]))",
       R"([{"lbl":"q","pod":"c"},{"lbl":"q","pod":"d"},{"lbl":"q","pod":"c"},{"lbl":"q","pod":"d"}])"},
      {R"(array.combine_maps([{"a" = 1, "n" = 1.1}, {"a" = 1, "b" = 3, "n" = 1.1}, {"b" = 3, "n" = 1.1}], [{"a" = 1, "n" = 2.3}, {"b" = 1, "n" = 2.3}, {"a" = 1, "b" = 3, "n" = 2.1}], ["a", "b"]))",
       R"([{"a":1,"b":3,"n":2.1}])"},
      {R"(array.combine_maps([{"i" = "1", "t" = "A"}, {"i" = "2"}], [{"i" = "1", "c" = "p"}, {"i" = "3"}], ["i"], true))",
       R"([{"c":"p","i":"1","t":"A"},{"i":"2"}])"},
      {R"(array.combine_maps([{"a" = "a1"}], "a", ["a"]))",
       "1:36: \"a\" should be array, got string"},
      {R"(array.combine_maps([{"a" = "a1"}], ["a"], ["a"]))",
       "1:36: [\"a\"][0] should be object, got string"},
      {R"(array.combine_maps([{"a" = "a1"}], [{"a" = "a1"}], []))",
       "1:52: [] combine_maps: merge conditions must not be empty"},
      {R"(array.combine_maps([], []))",
       "1:1: array.combine_maps combine_maps: expected 3 or 4 arguments, got 2"},
      {R"(array.group_by([{"type" = "fruit", "name" = "apple"}, {"type" = "fruit", "name" = "banana"}, {"type" = "vegetable", "name" = "carrot"}, {"name" = "rock"}], "type", false))",
       R"([{"items":[{"name":"apple","type":"fruit"},{"name":"banana","type":"fruit"}],"type":"fruit"},{"items":[{"name":"carrot","type":"vegetable"}],"type":"vegetable"},{"items":[{"name":"rock"}],"type":""}])"},
      {R"(array.group_by([{"t" = "a"}, {"n" = 1}], "t", true))",
       R"([{"items":[{"t":"a"}],"t":"a"}])"},
      {R"(array.group_by([{"t" = 1}], "t", true))",
       "1:16: [{\"t\" = 1}][0].t should be string, got number"},
      {R"(array.group_by([1], "t", true))", "1:16: [1][0] should be object, got number"},
      {R"(array.group_by([], "t"))", "1:1: array.group_by group_by: expected 3 arguments, got 2"},
  });
}

TEST(StdlibTest, Misc) {
  RunCases({
      {"coalesce()", "null"},
      {R"(coalesce("a", "b"))", R"("a")"},
      {R"(coalesce("", "b"))", R"("b")"},
      {R"(coalesce(0, 1, 2))", "1"},
      {R"(coalesce(false, true))", "true"},
      {R"(coalesce([], ["fallback"]))", R"(["fallback"])"},
      {R"(coalesce(encoding.from_json("{}"), false))", "false"},
      {R"(coalesce([], null))", "null"},
      {R"(coalesce(empty_secret, secret))", "\"(secret)\""},
      {R"(nonsensitive(secret))", R"("s3cr3t")"},
      {R"(convert.nonsensitive(opt_secret))", R"("hidden")"},
      {R"(convert.nonsensitive("plain"))", R"("plain")"},
      {R"(convert.nonsensitive(1))", "1:22: 1 should be capsule, got number"},
      {R"(file.path_join("this/is", "a/path"))", R"("this/is/a/path")"},
      {R"(file.path_join())", R"("")"},
      {R"(file.path_join("", "/a/./b/../c/", "", "d"))", R"("/a/c/d")"},
      {R"(file.path_join("a", "../../b"))", R"("../b")"},
      {R"(constants.os)", R"("linux")"},
      {R"(sys.env())", "1:1: sys.env expected 1 args, got 0"},
  });
}

TEST(StdlibTest, Env) {
  ASSERT_EQ(setenv(kEnvVar, "Hello!", 1), 0);
  RunCases({
      {std::string("env(\"") + kEnvVar + "\")", R"("Hello!")"},
      {std::string("sys.env(\"") + kEnvVar + "\")", R"("Hello!")"},
      {std::string("coalesce(sys.env(\"") + kEnvVar + "_UNSET\"), \"fallback\")", R"("fallback")"},
  });
  ASSERT_EQ(unsetenv(kEnvVar), 0);
  RunCases({{std::string("sys.env(\"") + kEnvVar + "\")", R"("")"}});
}

// Direct calls through the Value API, as a component would make them.
const Value& Lookup(const std::string& dotted) {
  const ValueObject* scope = &StdlibValues();
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    auto it = scope->find(dotted.substr(start, dot == std::string::npos ? dot : dot - start));
    EXPECT_NE(it, scope->end()) << dotted;
    if (dot == std::string::npos) return it->second;
    scope = &it->second.AsObject();
    start = dot + 1;
  }
}

TEST(StdlibTest, EveryNameIsAFunction) {
  const std::vector<std::string> names = {"env",
                                          "nonsensitive",
                                          "concat",
                                          "json_decode",
                                          "yaml_decode",
                                          "base64_decode",
                                          "json_path",
                                          "coalesce",
                                          "format",
                                          "join",
                                          "replace",
                                          "split",
                                          "to_lower",
                                          "to_upper",
                                          "trim",
                                          "trim_prefix",
                                          "trim_suffix",
                                          "trim_space",
                                          "sys.env",
                                          "convert.nonsensitive",
                                          "array.concat",
                                          "array.combine_maps",
                                          "array.group_by",
                                          "encoding.from_json",
                                          "encoding.from_yaml",
                                          "encoding.from_base64",
                                          "encoding.from_URLbase64",
                                          "encoding.to_json",
                                          "encoding.to_base64",
                                          "encoding.to_URLbase64",
                                          "encoding.url_encode",
                                          "encoding.url_decode",
                                          "string.format",
                                          "string.join",
                                          "string.replace",
                                          "string.split",
                                          "string.to_lower",
                                          "string.to_upper",
                                          "string.trim",
                                          "string.trim_prefix",
                                          "string.trim_suffix",
                                          "string.trim_space",
                                          "file.path_join"};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    const Value& v = Lookup(name);
    ASSERT_EQ(v.kind(), ValueKind::kFunction);
    EXPECT_EQ(v.AsFunction().name, name);
  }
}

TEST(StdlibTest, Constants) {
  const ValueObject& c = Lookup("constants").AsObject();
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(c.at("hostname").AsString(), host);
  EXPECT_EQ(c.at("os").AsString(), "linux");
  const std::string& arch = c.at("arch").AsString();
  EXPECT_TRUE(arch == "amd64" || arch == "arm64") << arch;
  EXPECT_EQ(c.at("version").AsString().substr(0, 1), "v");
}

struct CallCase {
  std::string fn;
  std::vector<Value> args;
  int want_bad_arg;  // -1: none
  std::string want;  // JSON of the result, or the error message
};

TEST(StdlibTest, DirectCalls) {
  const std::vector<CallCase> cases = {
      {"concat", {Value::Array({Value::Int(1)}), Value::Int(2)}, 1, "should be array, got number"},
      {"string.join",
       {Value::Array({Value::Bool(true)}), Value::String(",")},
       0,
       "[0] should be string, got bool"},
      {"string.format",
       {Value::String("%s-%d"), Value::String("a"), Value::Uint(7)},
       -1,
       R"("a-7")"},
      {"string.format",
       {Value::String("%s"), Value::Secret("x")},
       1,
       "secrets may not be converted into strings"},
      {"convert.nonsensitive", {Value::OptionalSecret("x", true)}, -1, R"("x")"},
      {"convert.nonsensitive", {Value::Bool(true)}, 0, "should be capsule, got bool"},
      {"encoding.from_json", {Value::String("[1,")}, -1, "unexpected end of JSON input"},
      {"encoding.to_json", {Value::Object({{"k", Value::Float(0.5)}})}, -1, R"("{\"k\":0.5}")"},
      {"array.group_by",
       {Value::Array({}), Value::Int(1), Value::Bool(true)},
       1,
       "should be string, got number"},
      {"array.combine_maps",
       {Value::Array({}), Value::Array({}), Value::Array({Value::String("a")}), Value::Int(1)},
       3,
       "should be bool, got number"},
      {"coalesce", {Value::Float(-0.0), Value::Int(1)}, -1, "-0.0"},
      {"file.path_join", {Value::String("a"), Value::Bool(false)}, 1, "should be string, got bool"},
  };
  for (const CallCase& c : cases) {
    SCOPED_TRACE(c.fn);
    int bad_arg = -1;
    base::Result<Value> r = Lookup(c.fn).AsFunction().call(c.args, &bad_arg);
    EXPECT_EQ(bad_arg, c.want_bad_arg);
    EXPECT_EQ(r.ok() ? ValueToJsonString(*r) : r.error().message(), c.want);
  }
}

// Vectors from Go's fmt tests, for the Go types River hands Sprintf (int, uint64, float64,
// string, nil, []interface{}), called directly so that Inf and NaN can be passed.
TEST(StdlibTest, FormatMatchesGoFmt) {
  struct FmtCase {
    std::string format;
    Value arg;
    std::string want;
  };
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<FmtCase> cases = {
      {"%x", Value::String("\xff\xf0\x0f\xff"), "fff00fff"},
      {"%# X", Value::String("xyz"), "0X78 0X79 0X7A"},
      {"%#q", Value::String("`"), "\"`\""},
      {"%+q", Value::String("\u263a"), "\"\\u263a\""},
      {"%+-10q", Value::String("\u2318"), "\"\\u2318\"  "},
      {"%010q", Value::String("\u2318"), "0000000\"\u2318\""},
      {"%q",
       Value::String("abc\xff"
                     "def"),
       "\"abc\\xffdef\""},
      {"%.5s", Value::String("\u65e5\u672c\u8a9e\u65e5\u672c\u8a9e"),
       "\u65e5\u672c\u8a9e\u65e5\u672c"},
      {"%10.1q", Value::String("\u65e5\u672c\u8a9e"), "       \"\u65e5\""},
      {"%c", Value::Int(0xDC80), "\ufffd"},
      {"%q", Value::Int(0xff), "'\u00ff'"},
      {"%+q", Value::Int(0xff), "'\\u00ff'"},
      {"%06.0d", Value::Int(0), "      "},
      {"%#b", Value::Int(-6), "-0b110"},
      {"%O", Value::Int(-01234), "-0o1234"},
      {"%o", Value::Uint(18446744073709551615ULL), "1777777777777777777777"},
      {"%020.8d", Value::Int(-1234), "           -00001234"},
      {"%-#20.8x", Value::Int(0x1234abc), "0x01234abc          "},
      {"%U", Value::Int(-1), "U+FFFFFFFFFFFFFFFF"},
      {"%#14.6U", Value::Int(0x2318), "  U+002318 '\u2318'"},
      {"%+.3x", Value::Float(1.0), "+0x1.000p+00"},
      {"%-07.2f", Value::Float(-1.0), "-1.00  "},
      {"% .3X", Value::Float(-1.0), "-0X1.000P+00"},
      {"%+.3g", Value::Float(0.0), "+0"},
      {"%#g", Value::Float(1e-323), "1.00000e-323"},
      {"%#g", Value::Float(123456.0), "123456."},
      {"%#.0e", Value::Float(1.0), "1.e+00"},
      {"%#.4x", Value::Float(123.0), "0x1.ec00p+06"},
      {"%#.4g", Value::Float(0.012), "0.01200"},
      {"%f", Value::Float(-1e-9), "-0.000000"},
      {"%g", Value::Float(1234.5678e-8), "1.2345678e-05"},
      {"%G", Value::Float(-1e-9), "-1E-09"},
      {"%20f", Value::Float(12345678901.23456789), "  12345678901.234568"},
      {"%20.8f", Value::Float(1.23456789e-3), "          0.00123457"},
      {"% 20F", Value::Float(inf), "                 Inf"},
      {"%+020e", Value::Float(inf), "                +Inf"},
      {"% -20g", Value::Float(nan), " NaN                "},
      {"%#v", Value::Float(1000000.0), "1e+06"},
      {"%#x", Value::Array({Value::Int(1), Value::Int(2), Value::Int(15)}), "[0x1 0x2 0xf]"},
      {"%q", Value::Array({Value::String("a"), Value::String("b")}), "[\"a\" \"b\"]"},
      {"%# -010X", Value::String("\xab\xcd"), "0XAB 0XCD "},
      {"%-10T", Value::Null(), "<nil>     "},
      {"%p", Value::Int(27), "%!p(int=27)"},
      {"%017091901790959340919092959340919017929593813360", Value::Int(0),
       "%!(NOVERB)%!(EXTRA int=0)"},
      {"%010.2", Value::String("12345"), "%!(NOVERB)%!(EXTRA string=12345)"},
      {"% +07.2f", Value::Float(-1.0), "-001.00"},
  };
  const Function& format = Lookup("format").AsFunction();
  for (const FmtCase& c : cases) {
    SCOPED_TRACE(c.format);
    int bad_arg = -1;
    base::Result<Value> r =
        format.call(std::vector<Value>{Value::String(c.format), c.arg}, &bad_arg);
    ASSERT_TRUE(r.ok()) << r.error().message();
    EXPECT_EQ(r->AsString(), c.want);
  }
}

// The same object is returned every time and can be read from many threads.
TEST(StdlibTest, SingleInstance) { EXPECT_EQ(&StdlibValues(), &StdlibValues()); }

}  // namespace
}  // namespace starling::syntax
