// End-to-end tests of component pipelines in the starling binary, observed through the
// component web API: discovery.file feeding discovery.relabel while files and the config
// change, and prometheus.scrape into a WAL that forgets idle series between scrapes.

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/testing.h"
#include "common/process.h"

namespace starling::test {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace std::chrono_literals;

using base::testing::TempDir;

using Pairs = std::vector<std::pair<std::string, std::string>>;  // (__address__, environment)

// The (address, environment) of each target in discovery.relabel.r's `output`, sorted; nullopt
// when the component cannot be read.
std::optional<Pairs> RelabelOutput(int port) {
  HttpReply r = HttpGet(port, "/api/v0/web/components/discovery.relabel.r");
  if (r.status != 200) return std::nullopt;
  json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("exports") || !j["exports"].is_object()) return std::nullopt;
  const json& out = j["exports"]["output"];
  if (!out.is_array()) return std::nullopt;
  Pairs pairs;
  for (const json& t : out) {
    if (!t.is_object()) return std::nullopt;
    pairs.emplace_back(t.value("__address__", ""), t.value("environment", ""));
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

// Polls the relabel output until it equals `want` or 20 s pass; returns the last output seen.
std::optional<Pairs> WaitForOutput(int port, const Pairs& want) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::optional<Pairs> got;
  while (true) {
    got = RelabelOutput(port);
    if (got == want || std::chrono::steady_clock::now() >= deadline) return got;
    std::this_thread::sleep_for(100ms);
  }
}

std::string Printed(const std::optional<Pairs>& p) {
  if (!p) return "(unreadable)";
  std::string s;
  for (const auto& [a, e] : *p) s += a + "=" + e + " ";
  return s;
}

std::string Config(const std::string& targets_path, const std::string& extra) {
  return "discovery.file \"f\" {\n"
         "  files            = [\"" +
         targets_path +
         "\"]\n"
         "  refresh_interval = \"1s\"\n"
         "}\n"
         "\n"
         "discovery.relabel \"r\" {\n"
         "  targets = discovery.file.f.targets\n" +
         extra +
         "  rule {\n"
         "    source_labels = [\"env\"]\n"
         "    target_label  = \"environment\"\n"
         "  }\n"
         "  rule {\n"
         "    source_labels = [\"env\"]\n"
         "    regex         = \"dev\"\n"
         "    action        = \"drop\"\n"
         "  }\n"
         "}\n";
}

std::string TargetsJson(const std::vector<std::pair<std::string, std::string>>& groups) {
  json out = json::array();
  for (const auto& [address, env] : groups) {
    out.push_back({{"targets", {address}}, {"labels", {{"env", env}}}});
  }
  return out.dump();
}

TEST(PipelineTest, DiscoveryFileThroughRelabelFollowsFilesAndSurvivesBadReloads) {
  TempDir dir;
  std::string targets = dir.Write("targets.json", TargetsJson({{"a:1", "prod"}, {"b:2", "dev"}}));
  std::string config = dir.Write("config.river", Config(targets, ""));
  Process p(
      {"run", "--server.http.listen-addr=127.0.0.1:0", "--storage.path", dir.Path("data"), config});
  int port = p.WaitForHttpPort(60s);
  ASSERT_GT(port, 0) << p.stderr_text();

  // The list endpoint shows both components and the edge between them.
  HttpReply list = HttpGet(port, "/api/v0/web/components");
  ASSERT_EQ(list.status, 200) << list.body;
  json components = json::parse(list.body);
  ASSERT_TRUE(components.is_array()) << list.body;
  ASSERT_EQ(components.size(), 2u) << list.body;
  EXPECT_EQ(components[0]["localID"], "discovery.file.f");
  EXPECT_EQ(components[0]["referencedBy"], json::parse(R"(["discovery.relabel.r"])"));
  EXPECT_EQ(components[1]["localID"], "discovery.relabel.r");
  EXPECT_EQ(components[1]["name"], "discovery.relabel");
  EXPECT_EQ(components[1]["label"], "r");
  EXPECT_EQ(components[1]["referencesTo"], json::parse(R"(["discovery.file.f"])"));
  EXPECT_EQ(HttpGet(port, "/api/v0/web/components/discovery.relabel.nope").status, 404);

  std::optional<Pairs> got = WaitForOutput(port, {{"a:1", "prod"}});
  EXPECT_EQ(got, (Pairs{{"a:1", "prod"}})) << Printed(got);

  dir.Write("targets.json", TargetsJson({{"c:3", "staging"}, {"d:4", "dev"}, {"e:5", "prod"}}));
  got = WaitForOutput(port, {{"c:3", "staging"}, {"e:5", "prod"}});
  EXPECT_EQ(got, (Pairs{{"c:3", "staging"}, {"e:5", "prod"}})) << Printed(got);

  struct BadConfig {
    std::string name;
    std::string text;
    std::string want;  // a line of the reply
  };
  const BadConfig bad_configs[] = {
      {"syntax error", Config(targets, "  bogus = = 1\n"),
       config + ":8:11: expected expression, got ="},
      {"unknown attribute", Config(targets, "  bogus = 1\n"),
       config + ":8:3: unrecognized attribute name \"bogus\""},
  };
  int generation = 0;
  for (const BadConfig& b : bad_configs) {
    SCOPED_TRACE(b.name);
    dir.Write("config.river", b.text);
    HttpReply reply = HttpRequest(port, "POST", "/-/reload");
    EXPECT_EQ(reply.status, 400);
    EXPECT_NE(reply.body.find(b.want), std::string::npos) << reply.body;

    // The old graph keeps running and following its files.
    EXPECT_EQ(HttpGet(port, "/api/v0/web/components/discovery.relabel.r").status, 200);
    std::string address = "f:" + std::to_string(++generation);
    dir.Write("targets.json", TargetsJson({{address, "qa"}, {"g:1", "dev"}}));
    got = WaitForOutput(port, {{address, "qa"}});
    EXPECT_EQ(got, (Pairs{{address, "qa"}})) << Printed(got);
  }

  p.Signal(SIGTERM);
  std::optional<int> code = p.Wait(30s);
  ASSERT_TRUE(code.has_value()) << "did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << p.stderr_text();
}

// Whether `dir` holds a WAL checkpoint (written by each truncation that drops segments).
bool HasCheckpoint(const fs::path& dir) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory() && it->path().filename().string().starts_with("checkpoint.")) {
      return true;
    }
  }
  return false;
}

TEST(PipelineTest, ScrapesKeepWorkingWhenTheWalForgetsSeriesBetweenScrapes) {
  // Truncations every second forget series idle for over a second, and each scrape comes three
  // seconds after the last: every scrape finds its cached series gone from the WAL.
  TempDir dir;
  const int port = FreePort();
  const int closed = FreePort();  // nothing listens: samples stay in the WAL until max keepalive
  const std::string config =
      dir.Write("config.river",
                "prometheus.scrape \"self\" {\n"
                "  targets         = [{\"__address__\" = \"127.0.0.1:" +
                    std::to_string(port) +
                    "\"}]\n"
                    "  scrape_interval = \"3s\"\n"
                    "  scrape_timeout  = \"2s\"\n"
                    "  forward_to      = [prometheus.remote_write.rw.receiver]\n"
                    "}\n"
                    "prometheus.remote_write \"rw\" {\n"
                    "  endpoint {\n"
                    "    url = \"http://127.0.0.1:" +
                    std::to_string(closed) +
                    "/api/v1/write\"\n"
                    "  }\n"
                    "  wal {\n"
                    "    truncate_frequency = \"1s\"\n"
                    "    min_keepalive_time = \"1s\"\n"
                    "    max_keepalive_time = \"2s\"\n"
                    "  }\n"
                    "}\n");
  Process p({"run", "--server.http.listen-addr=127.0.0.1:" + std::to_string(port), "--storage.path",
             dir.Path("data"), config});
  ASSERT_EQ(p.WaitForHttpPort(60s), port) << p.stderr_text();

  // The target's state, polled until three scrapes have come after the first checkpoint.
  std::vector<std::string> scrapes;  // last_scrape values after the checkpoint, distinct
  std::string last_health;
  std::string last_error;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (scrapes.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    p.DrainStderr();
    if (!HasCheckpoint(dir.Path("data"))) continue;
    HttpReply r = HttpGet(port, "/api/v0/web/components/prometheus.scrape.self");
    if (r.status != 200) continue;
    json j = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("debugInfo")) continue;
    const json& targets = j["debugInfo"]["target"];
    if (!targets.is_array() || targets.size() != 1) continue;
    const std::string when = targets[0].value("last_scrape", "");
    if (targets[0].value("health", "") == "unknown") continue;  // not scraped yet
    if (when.empty() || (!scrapes.empty() && scrapes.back() == when)) continue;
    scrapes.push_back(when);
    last_health = targets[0].value("health", "");
    last_error = targets[0].value("last_error", "");
    EXPECT_EQ(last_health, "up") << "scrape at " << when << ": " << last_error;
  }
  ASSERT_EQ(scrapes.size(), 3U) << "scrapes seen after the first checkpoint\n" << p.stderr_text();
  EXPECT_EQ(last_error, "");

  p.Signal(SIGTERM);
  std::optional<int> code = p.Wait(30s);
  ASSERT_TRUE(code.has_value()) << "did not exit after SIGTERM";
  EXPECT_EQ(*code, 0) << p.stderr_text();
}

}  // namespace
}  // namespace starling::test
