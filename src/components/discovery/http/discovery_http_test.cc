#include "components/discovery/http/discovery_http.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "components/common/testing.h"
#include "net/http_server.h"
#include "net/io_pool.h"

namespace starling::components {
namespace {

using namespace std::chrono_literals;
using syntax::Value;

struct ParseCase {
  std::string name;
  std::string content_type;
  std::string body;
  std::vector<Target> want;
  std::string want_error;
};

TEST(DiscoveryHttpTest, ParseHttpSd) {
  const std::string u = "http://sd/x";
  const std::vector<ParseCase> cases = {
      {"targets and labels",
       "application/json",
       R"([{"targets": ["h1:80", "h2:80"], "labels": {"job": "web"}}, {"targets": ["h3:1"]}])",
       {{{"__address__", "h1:80"}, {"__meta_url", u}, {"job", "web"}},
        {{"__address__", "h2:80"}, {"__meta_url", u}, {"job", "web"}},
        {{"__address__", "h3:1"}, {"__meta_url", u}}},
       ""},
      {"charset parameter",
       " application/json; charset=utf-8 ",
       R"([{"targets": ["a"]}])",
       {{{"__address__", "a"}, {"__meta_url", u}}},
       ""},
      {"empty list", "application/json", "[]", {}, ""},
      {"wrong content type", "text/plain", "[]", {}, "unsupported content type \"text/plain\""},
      {"missing content type", "", "[]", {}, "unsupported content type \"\""},
      {"bad json", "application/json", "[{", {}, "invalid JSON"},
      {"not a list", "application/json", "{}", {}, "expected a list of target groups"},
      {"null group", "application/json", "[null]", {}, "nil target group item found"},
      {"bad label name",
       "application/json",
       R"([{"targets": ["a"], "labels": {"1x": "v"}}])",
       {},
       "\"1x\" is not a valid label name"},
      {"non-string target",
       "application/json",
       R"([{"targets": [1]}])",
       {},
       "a target must be a string"},
  };
  for (const ParseCase& c : cases) {
    SCOPED_TRACE(c.name);
    auto r = ParseHttpSd(u, c.content_type, c.body);
    if (!c.want_error.empty()) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().message(), c.want_error);
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(*r, c.want);
  }
}

struct DecodeCase {
  std::string name;
  std::string src;
  std::string want_diags;
};

TEST(DiscoveryHttpTest, Decode) {
  auto reg = DiscoveryHttpRegistration();
  std::unique_ptr<component::Arguments> args;
  ASSERT_EQ(testing::DecodeBody(reg, "url = \"http://h/sd\"", &args), "");
  const auto& a = component::ArgsAs<DiscoveryHttpArgs>(*args);
  EXPECT_EQ(a.refresh_interval, 60s);
  EXPECT_TRUE(a.client.follow_redirects);
  EXPECT_FALSE(a.client.basic_auth.has_value());

  ASSERT_EQ(testing::DecodeBody(reg,
                                "url = \"https://h/sd\"\nrefresh_interval = \"5s\"\n"
                                "authorization {\n  credentials = \"c\"\n}\n"
                                "tls_config {\n  insecure_skip_verify = true\n}\n",
                                &args),
            "");
  const auto& b = component::ArgsAs<DiscoveryHttpArgs>(*args);
  EXPECT_EQ(b.refresh_interval, 5s);
  ASSERT_TRUE(b.client.authorization.has_value());
  EXPECT_EQ(b.client.authorization->type, "Bearer");
  EXPECT_EQ(b.client.authorization->credentials.text, "c");
  ASSERT_TRUE(b.client.tls_config.has_value());
  EXPECT_TRUE(b.client.tls_config->insecure_skip_verify);

  const std::vector<DecodeCase> cases = {
      {"missing url", "", "t:1:1: missing required attribute \"url\"\n"},
      {"bad scheme", "url = \"ftp://h\"", "t:1:7: URL scheme must be 'http' or 'https'\n"},
      {"no host", "url = \"http:///x\"", "t:1:7: host is missing in URL\n"},
      {"zero interval", "url = \"http://h\"\nrefresh_interval = \"0s\"",
       "t:2:20: refresh_interval must be greater than 0\n"},
      {"two auth methods", "url = \"http://h\"\nbearer_token = \"t\"\nbasic_auth {\n}",
       "t:1:1: at most one of basic_auth, authorization, oauth2, bearer_token & "
       "bearer_token_file must be configured\n"},
      {"password twice",
       "url = \"http://h\"\nbasic_auth {\n  password = \"p\"\n  password_file = \"/f\"\n}",
       "t:4:19: at most one of basic_auth password & password_file must be configured\n"},
      {"basic authorization type", "url = \"http://h\"\nauthorization {\n  type = \"Basic\"\n}",
       "t:3:10: authorization type cannot be set to \"basic\", use \"basic_auth\" block "
       "instead\n"},
      {"unknown attribute", "url = \"http://h\"\nbogus = 1",
       "t:2:1: unrecognized attribute name \"bogus\"\n"},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(testing::DecodeBody(reg, c.src, &args), c.want_diags);
  }
}

// An HTTP SD endpoint on 127.0.0.1 whose answer tests can change.
class FakeEndpoint {
 public:
  FakeEndpoint() : server_(pool_.context(), net::HttpServer::Options{}) {
    server_.Handle("GET", "/sd", [this](const net::Request& r) {
      std::lock_guard<std::mutex> lock(mu_);
      ++requests_;
      last_ = r;
      return response_;
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~FakeEndpoint() {
    server_.Stop();
    pool_.Stop();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server_.port()) + "/sd"; }
  void Set(net::Response r) {
    std::lock_guard<std::mutex> lock(mu_);
    response_ = std::move(r);
  }
  int Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  std::string LastHeader(const std::string& name) {
    std::lock_guard<std::mutex> lock(mu_);
    auto v = last_.HeaderValue(name);
    return v ? std::string(*v) : "<none>";
  }

 private:
  net::IoThreadPool pool_{1};
  net::HttpServer server_;
  std::mutex mu_;
  net::Response response_ = net::Response::Json(200, "[]");
  net::Request last_;
  int requests_ = 0;
};

std::vector<std::string> Addresses(const Value& exports) {
  std::vector<std::string> out;
  if (exports.kind() != syntax::ValueKind::kObject) return out;
  auto targets = TargetsFromValue(exports.AsObject().at("targets"));
  if (!targets.ok()) return out;
  for (const Target& t : *targets) out.push_back(t.at("__address__"));
  std::sort(out.begin(), out.end());
  return out;
}

// Polls `pred` until it holds or a generous deadline passes.
bool Eventually(const std::function<bool()>& pred) {
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::yield();
  }
  return pred();
}

TEST(DiscoveryHttpTest, FetchSendsHeadersAndAuth) {
  FakeEndpoint ep;
  ep.Set(net::Response::Json(200, R"([{"targets": ["a:1"], "labels": {"l": "v"}}])"));
  net::HttpClient client;
  DiscoveryHttpArgs args;
  args.url = ep.Url();
  args.client.basic_auth = HttpClientArgs::BasicAuth{"user", {"pass"}, ""};
  auto r = FetchHttpSd(client, args);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], (Target{{"__address__", "a:1"}, {"__meta_url", args.url}, {"l", "v"}}));
  EXPECT_EQ(ep.LastHeader("Authorization"), "Basic dXNlcjpwYXNz");
  EXPECT_EQ(ep.LastHeader("Accept"), "application/json");
  EXPECT_EQ(ep.LastHeader("X-Prometheus-Refresh-Interval-Seconds"), "60");

  args.client.basic_auth.reset();
  args.client.bearer_token.text = "tok";
  ASSERT_TRUE(FetchHttpSd(client, args).ok());
  EXPECT_EQ(ep.LastHeader("Authorization"), "Bearer tok");

  ep.Set(net::Response::Text(404, "nope"));
  r = FetchHttpSd(client, args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "server returned HTTP status 404 Not Found");
  ep.Set(net::Response::Text(200, "[]"));
  r = FetchHttpSd(client, args);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "unsupported content type \"text/plain; charset=utf-8\"");
}

TEST(DiscoveryHttpTest, RefreshesOnClockAndKeepsTargetsOnFailure) {
  FakeEndpoint ep;
  ep.Set(net::Response::Json(200, R"([{"targets": ["a:1", "b:1"]}])"));
  testing::ExportSink sink;
  base::FakeClock clock;
  component::Options opts;
  opts.id = "discovery.http.t";
  opts.clock = &clock;
  opts.on_state_change = sink.Callback();
  DiscoveryHttpArgs args;
  args.url = ep.Url();
  auto c =
      DiscoveryHttpRegistration().build(opts, component::TypedArguments<DiscoveryHttpArgs>(args));
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(Addresses(sink.Latest()).empty());
  testing::Runner run(c->get());
  EXPECT_TRUE(sink.Wait([](const Value& v) {
    return Addresses(v) == std::vector<std::string>{"a:1", "b:1"};
  }));
  EXPECT_TRUE(
      Eventually([&] { return (*c)->CurrentHealth().state == component::HealthState::kHealthy; }));

  // Nothing new before the interval passes on the clock.
  ep.Set(net::Response::Json(200, R"([{"targets": ["c:1"]}])"));
  EXPECT_EQ(ep.Requests(), 1);
  clock.Advance(61s);
  EXPECT_TRUE(
      sink.Wait([](const Value& v) { return Addresses(v) == std::vector<std::string>{"c:1"}; }));

  // A failing endpoint: unhealthy, and the last targets stay.
  ep.Set(net::Response::Text(500, "boom"));
  clock.Advance(61s);
  EXPECT_TRUE(Eventually(
      [&] { return (*c)->CurrentHealth().state == component::HealthState::kUnhealthy; }));
  EXPECT_EQ((*c)->CurrentHealth().message, "server returned HTTP status 500 Internal Server Error");
  EXPECT_EQ(Addresses(sink.Latest()), std::vector<std::string>{"c:1"});

  // Update refreshes at once, without the clock.
  ep.Set(net::Response::Json(200, R"([{"targets": ["d:1"]}])"));
  ASSERT_TRUE((*c)->Update(component::TypedArguments<DiscoveryHttpArgs>(args)).ok());
  EXPECT_TRUE(
      sink.Wait([](const Value& v) { return Addresses(v) == std::vector<std::string>{"d:1"}; }));
  EXPECT_TRUE(run.Stop().ok());
}

}  // namespace
}  // namespace starling::components
