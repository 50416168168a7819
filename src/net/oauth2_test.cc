#include "net/oauth2.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/io_pool.h"

namespace starling::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(OAuth2Test, ParsesTokenResponses) {
  const Clock::time_point now = Clock::now();
  auto json = ParseOAuth2TokenResponse(
      "application/json; charset=utf-8",
      R"({"access_token":"abc","token_type":"bearer","expires_in":3600,"scope":"x"})", now);
  ASSERT_TRUE(json.ok()) << json.error().ToString();
  EXPECT_EQ(json->access_token, "abc");
  EXPECT_EQ(json->type, "bearer");
  ASSERT_TRUE(json->expiry.has_value());
  EXPECT_EQ(*json->expiry, now + 3600s);

  auto no_expiry = ParseOAuth2TokenResponse("application/json", R"({"access_token":"a"})", now);
  ASSERT_TRUE(no_expiry.ok());
  EXPECT_FALSE(no_expiry->expiry.has_value());

  auto form = ParseOAuth2TokenResponse(
      "application/x-www-form-urlencoded",
      "access_token=a%2Fb+c&token_type=mac&expires_in=60&access_token=second", now);
  ASSERT_TRUE(form.ok()) << form.error().ToString();
  EXPECT_EQ(form->access_token, "a/b c");
  EXPECT_EQ(form->type, "mac");
  EXPECT_EQ(*form->expiry, now + 60s);

  auto text = ParseOAuth2TokenResponse("text/plain", "access_token=t&expires_in=soon", now);
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(text->expiry.has_value());

  // Lifetimes past a year are cut to one, where the arithmetic would overflow.
  auto far =
      ParseOAuth2TokenResponse("text/plain", "access_token=t&expires_in=11111111111111111", now);
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(*far->expiry, now + std::chrono::hours(366 * 24));

  struct Bad {
    std::string content_type;
    std::string body;
    std::string want;
  };
  for (const Bad& b : std::vector<Bad>{
           {"application/json", R"({"token_type":"bearer"})",
            "oauth2: server response missing access_token"},
           {"application/json", "[1]",
            "oauth2: cannot parse json: the token response is not a JSON object"},
           {"", "not json", "oauth2: cannot parse json: the token response is not a JSON object"},
           {"application/json", R"({"access_token":1})",
            "oauth2: cannot parse json: access_token is not a string"},
           {"application/json", R"({"access_token":"a","expires_in":"60"})",
            "oauth2: cannot parse json: expires_in is not an integer"},
           {"text/plain", "token_type=bearer", "oauth2: server response missing access_token"},
       }) {
    SCOPED_TRACE(b.body);
    auto got = ParseOAuth2TokenResponse(b.content_type, b.body, now);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code(), base::StatusCode::kUnavailable);
    EXPECT_EQ(got.error().message(), b.want);
  }
}

TEST(OAuth2Test, TokenRequestsCarryTheCredentialsInTheHeaderThenInTheBody) {
  OAuth2TokenSource::Options o;
  o.client_id = "my id";
  o.client_secret = "s&cret";
  o.scopes = {"read", "write"};
  o.token_url = "http://127.0.0.1:1/token";
  o.endpoint_params = {{"audience", "https://x"}};
  auto tls = std::make_shared<ClientConfig>();
  tls->proxy_url = "http://127.0.0.1:2";
  o.config = tls;
  OAuth2TokenSource source(o);

  ClientRequest first = source.TokenRequest(/*step=*/0, 3s).value();
  EXPECT_EQ(first.method, "POST");
  EXPECT_EQ(first.url, o.token_url);
  EXPECT_EQ(first.timeout, 3s);
  EXPECT_EQ(first.body, "audience=https%3A%2F%2Fx&grant_type=client_credentials&scope=read+write");
  ASSERT_NE(first.config, nullptr);
  ASSERT_TRUE(first.config->basic_auth.has_value());
  EXPECT_EQ(first.config->basic_auth->username, "my+id");
  EXPECT_EQ(first.config->basic_auth->password, "s%26cret");
  EXPECT_EQ(first.config->proxy_url, tls->proxy_url);

  ClientRequest retry = source.TokenRequest(/*step=*/1, 3s).value();
  EXPECT_EQ(retry.body,
            "audience=https%3A%2F%2Fx&client_id=my+id&client_secret=s%26cret&"
            "grant_type=client_credentials&scope=read+write");
  EXPECT_EQ(retry.config, tls);

  // A refused first style asks for the other one; once one worked, it is the only one used.
  ClientResponse refused;
  refused.status = 401;
  refused.status_text = "401 Unauthorized";
  refused.body = "no";
  base::Result<std::string> got = source.Accept(0, refused, Clock::now());
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(), "oauth2: cannot fetch token: 401 Unauthorized\nResponse: no");
  EXPECT_TRUE(source.NextStep(0, got));
  ClientResponse ok;
  ok.status = 200;
  ok.headers.push_back({"Content-Type", "application/json"});
  ok.body = R"({"access_token":"tok","token_type":"MAC"})";
  got = source.Accept(1, ok, Clock::now());
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  EXPECT_EQ(*got, "MAC tok");
  EXPECT_EQ(source.Cached(Clock::now()), "MAC tok");
  EXPECT_NE(source.TokenRequest(0, 3s)->body.find("client_secret="), std::string::npos);
  EXPECT_FALSE(source.NextStep(0, base::Status::Unavailable("down")));
}

TEST(OAuth2Test, TokensAreValidUntilTenSecondsBeforeTheyExpire) {
  OAuth2TokenSource source({});
  const Clock::time_point now = Clock::now();
  ClientResponse r;
  r.status = 200;
  r.body = R"({"access_token":"t","expires_in":60})";
  ASSERT_TRUE(source.Accept(0, r, now).ok());
  EXPECT_EQ(source.Cached(now + 49s), "Bearer t");
  EXPECT_EQ(source.Cached(now + 51s), std::nullopt);
  // Used once all the same, as Go does, when it is that short-lived from the start.
  r.body = R"({"access_token":"short","expires_in":5})";
  EXPECT_EQ(source.Accept(0, r, now).value_or(""), "Bearer short");
  EXPECT_EQ(source.Cached(now), std::nullopt);
}

// A token endpoint and a resource that answers with the Authorization header it got, on
// 127.0.0.1. The token endpoint can refuse Basic credentials, fail, or hold its answers.
class AuthServer {
 public:
  enum class Mode { kAny, kParamsOnly, kFail };

  AuthServer() : server_(pool_.context(), HttpServer::Options{}) {
    server_.Handle("POST", "/token", [this](const Request& r) { return Token(r); });
    server_.Handle("GET", "/data", [this](const Request& r) {
      data_requests_.fetch_add(1);
      auto auth = r.HeaderValue("Authorization");
      if (!auth) return Response::Text(401, "no token");
      return Response::Text(200, std::string(*auth));
    });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~AuthServer() {
    Release();
    server_.Stop();
    pool_.Stop();
  }
  AuthServer(const AuthServer&) = delete;
  AuthServer& operator=(const AuthServer&) = delete;

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  void SetMode(Mode m, int expires_in = 3600) {
    std::lock_guard<std::mutex> lock(mu_);
    mode_ = m;
    expires_in_ = expires_in;
  }
  void Hold() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // Blocks until a token request is held.
  void AwaitHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return holding_ > 0; });
  }
  // The token requests so far, as "header" or "params" by where the credentials were.
  std::vector<std::string> TokenRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    return token_requests_;
  }
  int DataRequests() const { return data_requests_.load(); }

  std::shared_ptr<const ClientConfig> Config() const {
    OAuth2TokenSource::Options o;
    o.client_id = "id";
    o.client_secret = "secret";
    o.token_url = Url("/token");
    auto cfg = std::make_shared<ClientConfig>();
    cfg->token_source = std::make_shared<OAuth2TokenSource>(o);
    return cfg;
  }

 private:
  Response Token(const Request& r) {
    std::unique_lock<std::mutex> lock(mu_);
    ++holding_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    --holding_;
    const bool in_header = r.HeaderValue("Authorization") == "Basic aWQ6c2VjcmV0";  // id:secret
    const bool in_params = r.body.find("client_id=id&client_secret=secret&") == 0;
    token_requests_.push_back(in_header ? "header" : in_params ? "params" : "none");
    if (mode_ == Mode::kFail) return Response::Text(500, "nope");
    if ((mode_ == Mode::kParamsOnly && !in_params) || (!in_header && !in_params) ||
        r.body.find("grant_type=client_credentials") == std::string::npos) {
      return Response::Json(401, R"({"error":"invalid_client"})");
    }
    return Response::Json(200, R"({"access_token":"t)" + std::to_string(token_requests_.size()) +
                                   R"(","token_type":"bearer","expires_in":)" +
                                   std::to_string(expires_in_) + "}");
  }

  IoThreadPool pool_{4};
  HttpServer server_;
  std::atomic<int> data_requests_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  Mode mode_ = Mode::kAny;
  int expires_in_ = 3600;
  bool held_ = false;
  int holding_ = 0;
  std::vector<std::string> token_requests_;
};

ClientRequest Get(const AuthServer& server, std::shared_ptr<const ClientConfig> config) {
  ClientRequest r;
  r.url = server.Url("/data");
  r.config = std::move(config);
  return r;
}

// Requests waiting for a token share one fetch, and later ones use the cached token.
TEST(OAuth2ClientTest, RequestsShareOneTokenFetch) {
  AuthServer server;
  HttpClient client;
  auto config = server.Config();
  server.Hold();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<base::Result<ClientResponse>> results;
  for (int i = 0; i < 3; ++i) {
    client.Do(Get(server, config), [&](base::Result<ClientResponse> r) {
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(std::move(r));
      cv.notify_all();
    });
  }
  server.AwaitHeld();
  server.Release();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return results.size() == 3; }));
  }
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "Bearer t1");
  }
  auto again = client.DoSync(Get(server, config));
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->body, "Bearer t1");
  EXPECT_EQ(server.TokenRequests(), (std::vector<std::string>{"header"}));
}

// A token that expires within 10 s is fetched again for every request.
TEST(OAuth2ClientTest, ShortLivedTokensAreFetchedAgain) {
  AuthServer server;
  server.SetMode(AuthServer::Mode::kAny, /*expires_in=*/5);
  HttpClient client;
  auto config = server.Config();
  for (const char* want : {"Bearer t1", "Bearer t2"}) {
    auto r = client.DoSync(Get(server, config));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->body, want);
  }
}

// A server that refuses Basic credentials gets them in the body, from then on directly; the
// session (a remote-write shard's way of sending) does the same on its own thread.
TEST(OAuth2ClientTest, CredentialsMoveToTheBodyWhenTheHeaderIsRefused) {
  AuthServer server;
  server.SetMode(AuthServer::Mode::kParamsOnly, /*expires_in=*/5);
  HttpClient client;
  auto config = server.Config();
  auto r = client.DoSync(Get(server, config));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "Bearer t2");
  HttpClient::Session session(client);
  r = session.Do(Get(server, config));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "Bearer t3");
  EXPECT_EQ(server.TokenRequests(), (std::vector<std::string>{"header", "params", "params"}));

  AuthServer fresh;
  fresh.SetMode(AuthServer::Mode::kParamsOnly);
  auto fresh_config = fresh.Config();
  r = session.Do(Get(fresh, fresh_config));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "Bearer t2");
  r = session.Do(Get(fresh, fresh_config));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(fresh.TokenRequests(), (std::vector<std::string>{"header", "params"}));
}

// Without a token the request is not sent, and fails with the token endpoint's answer.
TEST(OAuth2ClientTest, FailedTokenFetchFailsTheRequest) {
  AuthServer server;
  server.SetMode(AuthServer::Mode::kFail);
  HttpClient client;
  auto config = server.Config();
  const std::string want = "Get \"" + server.Url("/data") +
                           "\": oauth2: cannot fetch token: 500 Internal Server Error\n"
                           "Response: nope";
  auto r = client.DoSync(Get(server, config));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kUnavailable);
  EXPECT_EQ(r.error().message(), want);
  HttpClient::Session session(client);
  r = session.Do(Get(server, config));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), want);
  EXPECT_EQ(server.DataRequests(), 0);
  // Both styles were tried each time.
  EXPECT_EQ(server.TokenRequests().size(), 4U);
}

// A request waiting for its token can be cancelled; the client shuts down with a fetch held.
TEST(OAuth2ClientTest, WaitingRequestsCanBeCancelled) {
  AuthServer server;
  auto config = server.Config();
  server.Hold();
  auto client = std::make_unique<HttpClient>();
  std::stop_source stop;
  std::thread canceller([&] {
    server.AwaitHeld();
    stop.request_stop();
  });
  auto r = client->DoSync(Get(server, config), stop.get_token());
  canceller.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kCancelled);

  std::atomic<bool> done{false};
  client->Do(Get(server, config), [&](base::Result<ClientResponse> got) {
    EXPECT_FALSE(got.ok());
    done = true;
  });
  client.reset();  // the token fetch is still held: the waiting request fails
  EXPECT_TRUE(done.load());
  EXPECT_EQ(server.DataRequests(), 0);
}

}  // namespace
}  // namespace starling::net
