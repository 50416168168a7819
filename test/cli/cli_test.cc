// End-to-end tests of the starling binary: each test runs the real executable.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "base/testing.h"
#include "common/process.h"

namespace starling::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using std::chrono::seconds;

using base::testing::TempDir;

using base::testing::ReadFile;

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(CliTest, Version) {
  RunResult r = RunStarling({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 2u) << r.out;
  EXPECT_TRUE(lines[0].starts_with("starling, version v")) << lines[0];
  EXPECT_NE(lines[0].find("(branch: "), std::string::npos);
  EXPECT_NE(lines[0].find(", revision: "), std::string::npos);
  EXPECT_NE(r.out.find("\n  platform:         linux/"), std::string::npos) << r.out;
}

TEST(CliTest, UsageErrorsFail) {
  const std::vector<std::vector<std::string>> cases = {
      {}, {"no-such-command"}, {"run"}, {"run", "--no-such-flag", "x.river"}, {"tools"},
  };
  for (const auto& args : cases) {
    SCOPED_TRACE(::testing::PrintToString(args));
    RunResult r = RunStarling(args);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err, "");
  }
}

struct FmtCase {
  std::string name;
  std::string in;
  std::string want;
};

const std::vector<FmtCase>& FmtCases() {
  static const std::vector<FmtCase> kCases = {
      {"aligns attributes", "a = 1\nlonger_name = \"x\"\n",
       "a           = 1\nlonger_name = \"x\"\n"},
      {"indents blocks with tabs", "b \"l\" {\n  x = [1,2]\n}\n", "b \"l\" {\n\tx = [1, 2]\n}\n"},
      {"already canonical", "c {\n\td = true\n}\n", "c {\n\td = true\n}\n"},
  };
  return kCases;
}

TEST(CliFmtTest, FileAndStdinGiveCanonicalForm) {
  TempDir dir;
  for (const FmtCase& c : FmtCases()) {
    SCOPED_TRACE(c.name);
    std::string path = dir.Write("in.river", c.in);
    RunResult from_file = RunStarling({"fmt", path});
    EXPECT_EQ(from_file.exit_code, 0) << from_file.err;
    EXPECT_EQ(from_file.out, c.want);
    EXPECT_EQ(from_file.err, "");
    EXPECT_EQ(ReadFile(path), c.in) << "fmt without -w changed the file";

    RunResult from_stdin = RunStarling({"fmt", "-"}, c.in);
    EXPECT_EQ(from_stdin.exit_code, 0) << from_stdin.err;
    EXPECT_EQ(from_stdin.out, c.want);
    RunResult implicit_stdin = RunStarling({"fmt"}, c.in);
    EXPECT_EQ(implicit_stdin.out, c.want);

    // Formatting is idempotent.
    RunResult again = RunStarling({"fmt"}, from_file.out);
    EXPECT_EQ(again.out, c.want);
  }
}

TEST(CliFmtTest, WriteRewritesTheFileInPlace) {
  TempDir dir;
  for (const FmtCase& c : FmtCases()) {
    SCOPED_TRACE(c.name);
    std::string path = dir.Write("w.river", c.in);
    ASSERT_EQ(chmod(path.c_str(), 0640), 0);
    for (const char* flag : {"-w", "--write"}) {
      SCOPED_TRACE(flag);
      RunResult r = RunStarling({"fmt", flag, path});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out, "");
      EXPECT_EQ(ReadFile(path), c.want);
      struct stat st {};
      ASSERT_EQ(stat(path.c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 0777, 0640u);
    }
  }
  // Nothing but the file itself is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

TEST(CliFmtTest, ExampleConfigsAreCanonical) {
  const char* root = std::getenv("STARLING_SOURCE_DIR");
  if (root == nullptr) GTEST_SKIP() << "STARLING_SOURCE_DIR is not set";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(root) / "examples")) {
    if (entry.path().extension() != ".river") continue;
    SCOPED_TRACE(entry.path().string());
    RunResult r = RunStarling({"fmt", entry.path().string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, ReadFile(entry.path().string()));
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST(CliFmtTest, WriteRefusesStdin) {
  RunResult r = RunStarling({"fmt", "-w", "-"}, "a = 1\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "Error: cannot use -w with standard input\n");
}

TEST(CliFmtTest, SyntaxErrorsArePositioned) {
  TempDir dir;
  const std::string src = "a = 1\nx bad {\n}\ny.z = 2\n";
  std::string path = dir.Write("bad.river", src);
  struct Case {
    std::vector<std::string> args;
    std::string shown_name;
  };
  const Case cases[] = {
      {{"fmt", path}, path},
      {{"fmt", "-w", path}, path},
      {{"fmt", "-"}, "-"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::PrintToString(c.args));
    RunResult r = RunStarling(c.args, src);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 2u) << r.err;
    EXPECT_EQ(lines[0], c.shown_name + ":2:3: expected block label, got IDENT");
    EXPECT_TRUE(lines[1].starts_with(
        c.shown_name + ":4:1: attribute names may only consist of a single identifier"))
        << lines[1];
  }
  EXPECT_EQ(ReadFile(path), src) << "fmt -w rewrote a file with errors";
}

TEST(CliFmtTest, MissingFile) {
  RunResult r = RunStarling({"fmt", "/nonexistent/dir/x.river"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with("Error: open /nonexistent/dir/x.river: ")) << r.err;
}

TEST(CliEvalTest, Expressions) {
  struct Case {
    std::string expr;
    std::string want;  // JSON
  };
  const Case cases[] = {
      {"1 + 2 * 3", "7"},
      {"7.0 / 2", "3.5"},
      {"2 ^ 10", "1024"},
      {"-5 % 3", "-2"},
      {"\"a\" == \"a\" && !false", "true"},
      {"null", "null"},
      {"[1, \"two\", [3.5], {k = null}]", R"([1, "two", [3.5], {"k": null}])"},
      {"{ b = 1, a = { c = \"x\" } }", R"({"a": {"c": "x"}, "b": 1})"},
      {"{ \"quoted key\" = true }.\"quoted key\"", "error"},
      {"[10, 20, 30][1]", "20"},
      {"{ a = [1, 2] }.a[0]", "1"},
      {"concat([1], [2, 3])", "[1, 2, 3]"},
      {"array.concat([\"a\"], [\"b\"])", R"(["a", "b"])"},
      {"coalesce(\"\", \"demo\")", R"("demo")"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.expr);
    RunResult r = RunStarling({"tools", "eval", "--expr", "-"}, c.expr);
    if (c.want == "error") {
      EXPECT_EQ(r.exit_code, 1);
      EXPECT_TRUE(r.err.starts_with("-:1:")) << r.err;
      continue;
    }
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    json got = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(got.is_discarded()) << r.out;
    EXPECT_EQ(got, json::parse(c.want)) << r.out;
  }
}

TEST(CliEvalTest, BodyFromFileAndStdin) {
  const std::string src =
      "a = 1 + 1\n"
      "b \"lbl\" {\n"
      "  c = [true]\n"
      "  nested { d = \"x\" }\n"
      "}\n"
      "e.f {\n"
      "}\n"
      "g = { h = null }\n";
  const json want = json::parse(R"([
    {"attr": "a", "value": 2},
    {"block": "b", "label": "lbl", "body": [
      {"attr": "c", "value": [true]},
      {"block": "nested", "body": [{"attr": "d", "value": "x"}]}
    ]},
    {"block": "e.f", "body": []},
    {"attr": "g", "value": {"h": null}}
  ])");
  TempDir dir;
  std::string path = dir.Write("body.river", src);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"tools", "eval", path}, {"tools", "eval", "-"}, {"tools", "eval"}}) {
    SCOPED_TRACE(::testing::PrintToString(args));
    RunResult r = RunStarling(args, src);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    json got = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_EQ(got, want) << r.out;
  }
}

TEST(CliEvalTest, ErrorsArePositioned) {
  struct Case {
    std::vector<std::string> args;
    std::string in;
    std::string want_err;
  };
  const Case cases[] = {
      // River prints the offending expression before the message: "0 divide by zero error".
      {{"tools", "eval", "--expr"}, "1 / 0", "-:1:5: 0 divide by zero error\n"},
      {{"tools", "eval", "--expr", "-"}, "nope", "-:1:1: "},
      {{"tools", "eval"}, "a = 1\nb = 1 / 0\n", "-:2:9: 0 divide by zero error\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.in);
    RunResult r = RunStarling(c.args, c.in);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.out, "");
    if (c.want_err.ends_with('\n')) {
      EXPECT_EQ(r.err, c.want_err);
    } else {
      EXPECT_TRUE(r.err.starts_with(c.want_err)) << r.err;
      EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    }
  }

  TempDir dir;
  std::string path = dir.Write("e.river", "x = [1, 2\n");
  RunResult r = RunStarling({"tools", "eval", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.starts_with(path + ":1:")) << r.err;
}

// A config the run command accepts: only config blocks, as no component is built in yet.
constexpr char kGoodConfig[] = R"(logging {
	level  = "info"
	format = "logfmt"
}
)";

TEST(CliRunTest, ServesHealthAndMetricsUntilSignalled) {
  TempDir dir;
  std::string config = dir.Write("config.river", kGoodConfig);
  struct Case {
    std::string name;
    std::string listen_flag;
    int signo;
  };
  const Case cases[] = {
      {"SIGTERM", "--server.http.listen-addr=127.0.0.1:0", SIGTERM},
      {"SIGINT, Go-style single-dash flag", "-server.http.listen-addr=127.0.0.1:0", SIGINT},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string storage = dir.Path("data");
    Process p({"run", c.listen_flag, "--storage.path", storage, config});
    int port = p.WaitForHttpPort(std::chrono::seconds(60));
    ASSERT_GT(port, 0) << p.stderr_text();

    HttpReply ready;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while ((ready = HttpGet(port, "/-/ready")).status != 200 &&
           std::chrono::steady_clock::now() < deadline) {
    }
    EXPECT_EQ(ready.status, 200);
    EXPECT_EQ(ready.body, "Starling is Ready.\n");
    HttpReply healthy = HttpGet(port, "/-/healthy");
    EXPECT_EQ(healthy.status, 200);
    EXPECT_EQ(healthy.body, "Starling is Healthy.\n");
    HttpReply metrics = HttpGet(port, "/metrics");
    EXPECT_EQ(metrics.status, 200);
    EXPECT_NE(metrics.headers.find("text/plain; version=0.0.4"), std::string::npos)
        << metrics.headers;
    EXPECT_NE(metrics.body.find("\nstarling_build_info{"), std::string::npos) << metrics.body;
    EXPECT_NE(metrics.body.find("version=\"v"), std::string::npos);
    for (const char* name : {"process_start_time_seconds ", "process_resident_memory_bytes ",
                             "process_cpu_seconds_total "}) {
      EXPECT_NE(metrics.body.find(std::string("\n") + name), std::string::npos) << name;
    }
    // The web UI answers every other page; only unknown API paths are 404.
    HttpReply ui = HttpGet(port, "/no/such/page");
    EXPECT_EQ(ui.status, 200);
    EXPECT_NE(ui.body.find("<base href=\"/\">"), std::string::npos) << ui.body;
    EXPECT_EQ(HttpGet(port, "/api/v0/web/no/such/endpoint").status, 404);
    EXPECT_TRUE(p.WaitForStderrLine("web UI at http://127.0.0.1:" + std::to_string(port) + "/",
                                    std::chrono::seconds(30))
                    .has_value())
        << p.stderr_text();
    EXPECT_FALSE(fs::exists(storage)) << "storage.path is created only when needed";

    p.Signal(c.signo);
    std::optional<int> code = p.Wait(std::chrono::seconds(30));
    ASSERT_TRUE(code.has_value()) << "did not exit after signal";
    EXPECT_EQ(*code, 0) << p.stderr_text();
    EXPECT_EQ(HttpGet(port, "/-/ready").status, 0) << "still serving after exit";
  }
}

TEST(CliRunTest, RejectsBadConfigWithPositionedDiagnostics) {
  TempDir dir;
  std::string config = dir.Write("bad.river", "logging {\n  level = \n}\nx bad {\n}\n");
  RunResult r = RunStarling({"run", "--server.http.listen-addr=127.0.0.1:0", config});
  EXPECT_EQ(r.exit_code, 1);
  std::vector<std::string> lines = Lines(r.err);
  ASSERT_GE(lines.size(), 2u) << r.err;
  EXPECT_TRUE(lines[0].starts_with(config + ":3:1: ")) << r.err;
  bool saw_label_error = false;
  for (const std::string& l : lines) {
    if (l == config + ":4:3: expected block label, got IDENT") saw_label_error = true;
  }
  EXPECT_TRUE(saw_label_error) << r.err;
  EXPECT_EQ(r.err.find("listening"), std::string::npos) << r.err;
}

TEST(CliRunTest, RejectsUnknownBlocks) {
  TempDir dir;
  std::string config = dir.Write(
      "unknown.river", "logging {}\n\nprometheus.scrapez \"demo\" {\n  targets = []\n}\n");
  RunResult r = RunStarling({"run", "--server.http.listen-addr=127.0.0.1:0", config});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(config +
                       ":3:1: cannot find the definition of component name \"prometheus.scrapez\""),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("could not perform the initial load successfully"), std::string::npos);
  EXPECT_EQ(r.err.find("listening"), std::string::npos) << r.err;
}

TEST(CliRunTest, ReloadsOnRequestAndOnSighup) {
  TempDir dir;
  std::string config = dir.Write("config.river", kGoodConfig);
  Process p({"run", "--server.http.listen-addr=127.0.0.1:0", config});
  int port = p.WaitForHttpPort(std::chrono::seconds(60));
  ASSERT_GT(port, 0) << p.stderr_text();

  HttpReply ok = HttpRequest(port, "POST", "/-/reload");
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body, "config reloaded\n");

  dir.Write("config.river", "logging {\n  level = \"loud\"\n}\nnope.nope \"x\" {}\n");
  HttpReply bad = HttpRequest(port, "POST", "/-/reload");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, config + ":2:11: unrecognized log level \"loud\"\n" + config +
                          ":4:1: cannot find the definition of component name \"nope.nope\"\n");
  // The old config keeps running.
  EXPECT_EQ(HttpGet(port, "/-/ready").status, 200);

  p.Signal(SIGHUP);
  EXPECT_TRUE(p.WaitForStderrLine("failed to reload config", std::chrono::seconds(30)))
      << p.stderr_text();
  dir.Write("config.river", kGoodConfig);
  p.Signal(SIGHUP);
  EXPECT_TRUE(p.WaitForStderrLine("config reloaded", std::chrono::seconds(30))) << p.stderr_text();

  p.Signal(SIGTERM);
  std::optional<int> code = p.Wait(std::chrono::seconds(30));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0) << p.stderr_text();
}

// With --server.http.ui-path-prefix the UI and its API move under the prefix, as the Agent's do.
TEST(CliRunTest, ServesTheUiUnderItsPrefix) {
  TempDir dir;
  std::string config = dir.Write("ok.river", kGoodConfig);
  Process p({"run", "--server.http.listen-addr=127.0.0.1:0", "--storage.path=" + dir.Path("data"),
             "--server.http.ui-path-prefix=/agent", config});
  int port = p.WaitForHttpPort(std::chrono::seconds(60));
  ASSERT_GT(port, 0) << p.stderr_text();

  HttpReply bare = HttpGet(port, "/agent");
  EXPECT_EQ(bare.status, 302);
  EXPECT_NE(bare.headers.find("Location: /agent/"), std::string::npos) << bare.headers;
  for (const std::string page : {"/agent/", "/agent/clustering", "/agent/component/x.y"}) {
    SCOPED_TRACE(page);
    HttpReply r = HttpGet(port, page);
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("<base href=\"/agent/\">"), std::string::npos) << r.body;
  }
  HttpReply api = HttpGet(port, "/agent/api/v0/web/components");
  EXPECT_EQ(api.status, 200);
  EXPECT_EQ(api.body.front(), '[');
  // Any origin may read the API: one node's UI reads its peers'.
  EXPECT_NE(api.headers.find("Access-Control-Allow-Origin: *"), std::string::npos) << api.headers;
  EXPECT_EQ(HttpGet(port, "/agent/api/v0/web/peers").status, 200);
  EXPECT_EQ(HttpGet(port, "/agent/api/v0/web/targets").status, 200);
  // Nothing of the UI is left at the root; the agent's own endpoints stay there.
  EXPECT_EQ(HttpGet(port, "/").status, 404);
  EXPECT_EQ(HttpGet(port, "/api/v0/web/components").status, 404);
  EXPECT_EQ(HttpGet(port, "/-/healthy").status, 200);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(std::chrono::seconds(30)), 0) << p.stderr_text();
}

// With --cluster.wait-for-size, /-/ready says 503 until the cluster is big enough.
TEST(CliRunTest, NotReadyWhileWaitingForTheCluster) {
  TempDir dir;
  std::string config = dir.Write("ok.river", kGoodConfig);
  Process p({"run", "--server.http.listen-addr=127.0.0.1:0", "--storage.path=" + dir.Path("data"),
             "--cluster.enabled", "--cluster.node-name=solo",
             "--cluster.advertise-address=127.0.0.1:1", "--cluster.wait-for-size=2", config});
  int port = p.WaitForHttpPort(std::chrono::seconds(60));
  ASSERT_GT(port, 0) << p.stderr_text();
  HttpReply r = HttpGet(port, "/-/ready");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "Starling is not ready.\n");
  EXPECT_NE(HttpGet(port, "/metrics").body.find("cluster_ready_for_traffic 0"), std::string::npos);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(std::chrono::seconds(30)), 0) << p.stderr_text();
}

TEST(CliRunTest, StartupFailures) {
  TempDir dir;
  std::string config = dir.Write("ok.river", kGoodConfig);
  struct Case {
    std::string name;
    std::vector<std::string> args;
    std::string want_in_err;
  };
  const Case cases[] = {
      {"missing config", {"run", dir.Path("missing.river")}, "could not read config"},
      {"bad listen address",
       {"run", "--server.http.listen-addr=localhost", config},
       "invalid --server.http.listen-addr"},
      {"cluster TLS without files",
       {"run", "--server.http.listen-addr=127.0.0.1:0", "--cluster.enabled", "--cluster.enable-tls",
        config},
       "--cluster.enable-tls requires --cluster.tls-ca-path"},
      {"bad join address",
       {"run", "--server.http.listen-addr=127.0.0.1:0", "--cluster.enabled",
        "--cluster.join-addresses=a:1,b:99999", config},
       "invalid --cluster.join-addresses entry \"b:99999\""},
      {"unsupported discovery provider",
       {"run", "--server.http.listen-addr=127.0.0.1:0", "--cluster.enabled",
        "--cluster.discover-peers=provider=aws tag_key=x", config},
       "provider \"aws\" is not supported"},
      {"join and discover together",
       {"run", "--server.http.listen-addr=127.0.0.1:0", "--cluster.enabled",
        "--cluster.join-addresses=a:1", "--cluster.discover-peers=provider=dns name=x", config},
       "at most one of --cluster.join-addresses and --cluster.discover-peers"},
      {"bad UI path prefix",
       {"run", "--server.http.listen-addr=127.0.0.1:0", "--server.http.ui-path-prefix=/a b",
        config},
       "invalid --server.http.ui-path-prefix"},
      {"bad rejoin interval",
       {"run", "--server.http.listen-addr=127.0.0.1:0", "--cluster.rejoin-interval=soon", config},
       "invalid --cluster.rejoin-interval"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    RunResult r = RunStarling(c.args);
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find(c.want_in_err), std::string::npos) << r.err;
  }
}

TEST(CliRunTest, PortInUseFails) {
  TempDir dir;
  std::string config = dir.Write("ok.river", kGoodConfig);
  Process first({"run", "--server.http.listen-addr=127.0.0.1:0", config});
  int port = first.WaitForHttpPort(std::chrono::seconds(60));
  ASSERT_GT(port, 0) << first.stderr_text();
  RunResult second =
      RunStarling({"run", "--server.http.listen-addr=127.0.0.1:" + std::to_string(port), config});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("already in use"), std::string::npos) << second.err;
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(std::chrono::seconds(30)), 0);
}

}  // namespace
}  // namespace starling::test
