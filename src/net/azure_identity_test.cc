#include "net/azure_identity.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/http_client.h"
#include "net/oauth2_testing.h"

namespace starling::net {
namespace {

using namespace std::chrono_literals;
using Clock = TokenSource::Clock;

TEST(ManagedIdentityTokenTest, ParsesBothEndpointsAnswers) {
  const Clock::time_point now = Clock::now();
  const std::chrono::system_clock::time_point wall{std::chrono::seconds(1700000000)};
  // The metadata service: numbers as strings.
  auto imds = ParseManagedIdentityToken(
      R"({"access_token":"a","expires_in":"3599","expires_on":"1700003599",)"
      R"("resource":"https://monitor.azure.com/","token_type":"Bearer"})",
      now, wall);
  ASSERT_TRUE(imds.ok()) << imds.error().ToString();
  EXPECT_EQ(imds->access_token, "a");
  EXPECT_EQ(imds->type, "Bearer");
  EXPECT_EQ(imds->expiry, now + 3599s);
  // expires_on wins over expires_in; numbers are taken too.
  auto on = ParseManagedIdentityToken(
      R"({"access_token":"b","expires_on":1700000600,"expires_in":5})", now, wall);
  ASSERT_TRUE(on.ok()) << on.error().ToString();
  EXPECT_EQ(on->expiry, now + 600s);
  EXPECT_EQ(on->type, "Bearer");
  auto in = ParseManagedIdentityToken(R"({"access_token":"c","expires_in":60})", now, wall);
  ASSERT_TRUE(in.ok()) << in.error().ToString();
  EXPECT_EQ(in->expiry, now + 60s);

  for (const auto& [body, want] : std::vector<std::pair<std::string, std::string>>{
           {"nope", "azuread: cannot fetch token: the response is not a JSON object"},
           {R"({"expires_in":60})",
            "azuread: cannot fetch token: the response has no access_token"},
           {R"({"access_token":"x","expires_on":"soon"})",
            "azuread: cannot fetch token: the response has no expires_on or expires_in"},
       }) {
    auto got = ParseManagedIdentityToken(body, now, wall);
    ASSERT_FALSE(got.ok()) << body;
    EXPECT_EQ(got.error().message(), want);
  }
}

// A metadata service and an App Service identity endpoint on 127.0.0.1 that record the token
// requests and issue "tok-1", "tok-2"..., and a /data route that answers with the
// Authorization header it got.
class IdentityEndpoints {
 public:
  IdentityEndpoints()
      : server_([this](HttpServer& s) {
          s.Handle("GET", "/metadata/identity/oauth2/token",
                   [this](const Request& r) { return Token(r); });
          s.Handle("GET", "/msi/token", [this](const Request& r) { return Token(r); });
          s.Handle("GET", "/data", [](const Request& r) {
            return Response::Text(200, std::string(r.HeaderValue("Authorization").value_or("")));
          });
        }) {}

  std::string Url(const std::string& path) const { return server_.Url(path); }
  void set_expires_in(int s) { expires_in_ = s; }
  void set_fail(bool fail) { fail_ = fail; }
  std::vector<Request> TokenRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  Response Token(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(r);
    if (fail_) return Response::Json(400, R"({"error":"invalid_request"})");
    return Response::Json(200, R"({"access_token":"tok-)" + std::to_string(requests_.size()) +
                                   R"(","expires_in":")" + std::to_string(expires_in_.load()) +
                                   R"(","token_type":"Bearer"})");
  }

  std::mutex mu_;
  std::vector<Request> requests_;
  std::atomic<int> expires_in_{86399};
  std::atomic<bool> fail_{false};
  testing::TokenEndpoint server_;  // last: its handlers use the members above
};

std::shared_ptr<const ClientConfig> ConfigFor(AzureManagedIdentity::Options o) {
  auto cfg = std::make_shared<ClientConfig>();
  cfg->token_source = std::make_shared<AzureManagedIdentity>(std::move(o));
  return cfg;
}

base::Result<ClientResponse> GetData(HttpClient& client, const IdentityEndpoints& ids,
                                     std::shared_ptr<const ClientConfig> cfg) {
  ClientRequest r;
  r.url = ids.Url("/data");
  r.config = std::move(cfg);
  return client.DoSync(std::move(r));
}

TEST(AzureManagedIdentityTest, TokensFromTheMetadataService) {
  IdentityEndpoints ids;
  HttpClient client;
  AzureManagedIdentity::Options o;
  o.client_id = "00000000-0000-0000-0000-000000000001";
  o.resource = "https://monitor.azure.com/";
  o.metadata_url = ids.Url("/metadata/identity/oauth2/token");
  const auto cfg = ConfigFor(o);
  for (int i = 0; i < 3; ++i) {
    auto r = GetData(client, ids, cfg);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->body, "Bearer tok-1");
  }
  const std::vector<Request> got = ids.TokenRequests();
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].query,
            "api-version=2018-02-01&client_id=00000000-0000-0000-0000-000000000001"
            "&resource=https%3A%2F%2Fmonitor.azure.com%2F");
  EXPECT_EQ(got[0].HeaderValue("Metadata"), "true");
  EXPECT_FALSE(got[0].HeaderValue("X-IDENTITY-HEADER").has_value());

  // A session fetches on its own thread, with the same cache.
  HttpClient::Session session(client);
  ClientRequest r;
  r.url = ids.Url("/data");
  r.config = cfg;
  auto in_session = session.Do(r);
  ASSERT_TRUE(in_session.ok()) << in_session.error().ToString();
  EXPECT_EQ(in_session->body, "Bearer tok-1");
  EXPECT_EQ(ids.TokenRequests().size(), 1U);
}

TEST(AzureManagedIdentityTest, AppServiceEndpointAndRefresh) {
  IdentityEndpoints ids;
  HttpClient client;
  AzureManagedIdentity::Options o;
  o.resource = "https://monitor.azure.us/";
  o.metadata_url = ids.Url("/metadata/identity/oauth2/token");
  o.identity_endpoint = ids.Url("/msi/token");
  o.identity_header = "secret-header";
  // Tokens within 5 minutes of expiring are used once, then fetched again.
  ids.set_expires_in(200);
  const auto cfg = ConfigFor(o);
  for (int i = 1; i <= 2; ++i) {
    auto r = GetData(client, ids, cfg);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->body, "Bearer tok-" + std::to_string(i));
  }
  const std::vector<Request> got = ids.TokenRequests();
  ASSERT_EQ(got.size(), 2U);
  EXPECT_EQ(got[0].path, "/msi/token");
  EXPECT_EQ(got[0].query, "api-version=2019-08-01&resource=https%3A%2F%2Fmonitor.azure.us%2F");
  EXPECT_EQ(got[0].HeaderValue("X-IDENTITY-HEADER"), "secret-header");
  EXPECT_FALSE(got[0].HeaderValue("Metadata").has_value());
}

TEST(AzureManagedIdentityTest, AFailedFetchFailsTheRequest) {
  IdentityEndpoints ids;
  ids.set_fail(true);
  HttpClient client;
  AzureManagedIdentity::Options o;
  o.resource = "https://monitor.azure.com/";
  o.metadata_url = ids.Url("/metadata/identity/oauth2/token");
  auto r = GetData(client, ids, ConfigFor(o));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "Get \"" + ids.Url("/data") +
                                     "\": azuread: cannot fetch token: 400 Bad Request\n"
                                     "Response: {\"error\":\"invalid_request\"}");
}

}  // namespace
}  // namespace starling::net
