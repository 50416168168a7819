#include "net/aws_keys.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/testing.h"
#include "net/aws_testing.h"
#include "net/sigv4_testing.h"

namespace starling::net {
namespace {

using namespace std::chrono_literals;
using Clock = TokenSource::Clock;
using testing::FakeSts;
using testing::StsAnswer;

TEST(StsCredentialsTest, Parses) {
  const Clock::time_point now = Clock::now();
  const std::chrono::system_clock::time_point wall{std::chrono::seconds(1414191623)};  // 23:00:23
  auto c = ParseStsCredentials(StsAnswer("1", "2014-10-24T23:10:23Z"), now, wall);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->keys.access_key, "ASIA1");
  EXPECT_EQ(c->keys.secret_key, "secret/1+x");
  EXPECT_EQ(c->keys.session_token, "token-1");
  EXPECT_EQ(c->expiry, now + 600s);
  auto fraction =
      ParseStsCredentials(StsAnswer("&amp;&lt;", "2014-10-24T23:00:53.250Z"), now, wall);
  ASSERT_TRUE(fraction.ok()) << fraction.error().ToString();
  EXPECT_EQ(fraction->keys.access_key, "ASIA&<");
  EXPECT_EQ(fraction->expiry, now + 30s);

  for (const auto& [xml, want] : std::vector<std::pair<std::string, std::string>>{
           {"<ErrorResponse/>", "the answer has no Credentials"},
           {"<Credentials><AccessKeyId>A</AccessKeyId></Credentials>",
            "the answer's Credentials lack a key"},
           {StsAnswer("1", "yesterday"), "the answer's Credentials have no valid Expiration"},
           {StsAnswer("1", "2014-13-24T23:00:23Z"),
            "the answer's Credentials have no valid Expiration"},
           {StsAnswer("1\n2", "2014-10-24T23:00:23Z"), "the answer's keys hold a line break"},
       }) {
    auto got = ParseStsCredentials(xml, now, wall);
    ASSERT_FALSE(got.ok()) << xml;
    EXPECT_EQ(got.error().message(), "sts: cannot fetch token: " + want);
  }
}

std::shared_ptr<const ClientConfig> SignedWith(const FakeSts& sts, const std::string& token_file) {
  AwsStsRole::Options o;
  o.role_arn = "arn:aws:iam::123456789012:role/writer";
  o.token_file = token_file;
  o.session_name = "starling-1";
  o.sts_url = sts.Url("/sts/");
  auto cfg = std::make_shared<ClientConfig>();
  cfg->sigv4 = ClientConfig::SigV4{.region = "us-east-2"};
  cfg->token_source = std::make_shared<AwsStsRole>(std::move(o));
  return cfg;
}

ClientRequest Post(const FakeSts& sts, std::shared_ptr<const ClientConfig> cfg) {
  ClientRequest r;
  r.method = "POST";
  r.url = sts.Url("/data");
  r.headers = {{"Content-Type", "application/x-protobuf"}};
  r.body = "payload";
  r.config = std::move(cfg);
  return r;
}

// Requests are signed with the role's keys, fetched once for the client and its sessions.
TEST(AwsStsRoleTest, SignsWithTheRolesKeys) {
  FakeSts sts;
  base::testing::TempDir dir;
  const std::string token_file = dir.Write("token", "jwt-a\n");
  const auto cfg = SignedWith(sts, token_file);
  HttpClient client;
  HttpClient::Session session(client);
  for (int i = 0; i < 4; ++i) {
    auto r = i % 2 == 0 ? client.DoSync(Post(sts, cfg)) : session.Do(Post(sts, cfg));
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
  ASSERT_EQ(sts.Forms().size(), 1U);
  EXPECT_EQ(sts.Forms()[0],
            "Action=AssumeRoleWithWebIdentity&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"
            "writer&RoleSessionName=starling-1&Version=2011-06-15&WebIdentityToken=jwt-a");
  const std::vector<Request> data = sts.Data();
  ASSERT_EQ(data.size(), 4U);
  for (const Request& seen : data) {
    EXPECT_EQ(testing::SignedBy(seen), "ASIA1");
    EXPECT_EQ(testing::CheckSigV4(seen, "").region, "us-east-2");
  }
}

// Keys within 5 minutes of expiring are fetched again, with the token file as it is then.
TEST(AwsStsRoleTest, RefreshesWithTheRotatedToken) {
  FakeSts sts;
  sts.set_lifetime(200s);
  base::testing::TempDir dir;
  const std::string token_file = dir.Write("token", "jwt-a");
  const auto cfg = SignedWith(sts, token_file);
  HttpClient client;
  ASSERT_TRUE(client.DoSync(Post(sts, cfg)).ok());
  dir.Write("token", "jwt-b");
  ASSERT_TRUE(client.DoSync(Post(sts, cfg)).ok());
  const std::vector<std::string> forms = sts.Forms();
  ASSERT_EQ(forms.size(), 2U);
  EXPECT_NE(forms[0].find("WebIdentityToken=jwt-a"), std::string::npos);
  EXPECT_NE(forms[1].find("WebIdentityToken=jwt-b"), std::string::npos);
  const std::vector<Request> data = sts.Data();
  ASSERT_EQ(data.size(), 2U);
  EXPECT_EQ(testing::SignedBy(data[1]), "ASIA2");
}

// AssumeRole is signed for STS with the other keys; the role's keys sign the requests.
TEST(AwsStsRoleTest, AssumesARoleWithOtherKeys) {
  FakeSts sts;
  AwsStsRole::Options o;
  o.role_arn = "arn:aws:iam::123456789012:role/writer";
  o.session_name = "s";
  o.sts_url = sts.Url("/sts/");
  o.keys = {"AKBASE", "base-secret", ""};
  o.region = "eu-north-1";
  auto cfg = std::make_shared<ClientConfig>();
  cfg->sigv4 = ClientConfig::SigV4{.region = "eu-north-1"};
  cfg->token_source = std::make_shared<AwsStsRole>(o);
  HttpClient client;
  auto r = client.DoSync(Post(sts, cfg));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(sts.Forms().size(), 1U);
  EXPECT_EQ(sts.Forms()[0],
            "Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fwriter"
            "&RoleSessionName=s&Version=2011-06-15");
  ASSERT_EQ(sts.Data().size(), 1U);
  EXPECT_EQ(testing::SignedBy(sts.Data()[0]), "ASIA1");
  EXPECT_EQ(testing::CheckSigV4(sts.Data()[0], "").service, "aps");

  o.keys.secret_key = "wrong";
  cfg = std::make_shared<ClientConfig>(*cfg);
  cfg->token_source = std::make_shared<AwsStsRole>(o);
  auto refused = client.DoSync(Post(sts, cfg));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message(),
            "Post \"" + sts.Url("/data") +
                "\": sts: cannot fetch token: 403 Forbidden\n"
                "Response: <ErrorResponse>SignatureDoesNotMatch</ErrorResponse>");
}

TEST(AwsStsRoleTest, FailuresFailTheRequest) {
  FakeSts sts;
  base::testing::TempDir dir;
  HttpClient client;
  auto missing = client.DoSync(Post(sts, SignedWith(sts, dir.Path("missing"))));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(),
            "Post \"" + sts.Url("/data") +
                "\": sts: cannot fetch token: unable to read web identity token file " +
                dir.Path("missing") + ": No such file or directory");
  auto refused = client.DoSync(Post(sts, SignedWith(sts, dir.Write("token", "not-a-jwt"))));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message(),
            "Post \"" + sts.Url("/data") +
                "\": sts: cannot fetch token: 400 Bad Request\n"
                "Response: <ErrorResponse>InvalidIdentityToken</ErrorResponse>");
  EXPECT_TRUE(sts.Data().empty());
}

// AssumeRole signed with temporary keys (an instance's, a web identity role's): those are
// fetched first, for the client's own requests and for a session's.
TEST(AwsStsRoleTest, AssumesARoleWithTemporaryKeys) {
  FakeSts sts;
  testing::FakeImds imds;
  base::testing::TempDir dir;
  AwsStsRole::Options web;
  web.role_arn = "arn:aws:iam::123456789012:role/web";
  web.token_file = dir.Write("token", "jwt-a");
  web.session_name = "w";
  web.sts_url = sts.Url("/sts/");
  for (const bool instance : {true, false}) {
    SCOPED_TRACE(instance ? "an instance's keys, by the client" : "a role's keys, by a session");
    AwsStsRole::Options o;
    o.role_arn = "arn:aws:iam::210987654321:role/writer";
    o.session_name = "s";
    o.sts_url = sts.Url("/sts/");
    o.region = "eu-north-1";
    o.base = instance ? std::shared_ptr<TokenSource>(
                            std::make_shared<AwsInstanceCredentials>(imds.Endpoint()))
                      : std::make_shared<AwsStsRole>(web);
    auto cfg = std::make_shared<ClientConfig>();
    cfg->sigv4 = ClientConfig::SigV4{.region = "eu-north-1"};
    cfg->token_source = std::make_shared<AwsStsRole>(o);
    HttpClient client;
    HttpClient::Session session(client);
    for (int i = 0; i < 2; ++i) {
      auto r = instance ? client.DoSync(Post(sts, cfg)) : session.Do(Post(sts, cfg));
      ASSERT_TRUE(r.ok()) << r.error().ToString();
    }
  }
  // Without the temporary keys, the request fails with why they could not be had.
  AwsStsRole::Options o;
  o.role_arn = "arn:aws:iam::210987654321:role/writer";
  o.session_name = "s";
  o.sts_url = sts.Url("/sts/");
  o.region = "eu-north-1";
  const std::string nowhere = sts.Url("/nowhere");  // answers 404 to everything
  o.base = std::make_shared<AwsInstanceCredentials>(nowhere);
  auto cfg = std::make_shared<ClientConfig>();
  cfg->sigv4 = ClientConfig::SigV4{.region = "eu-north-1"};
  cfg->token_source = std::make_shared<AwsStsRole>(o);
  HttpClient client;
  auto failed = client.DoSync(Post(sts, cfg));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message(),
            "Post \"" + sts.Url("/data") + "\": sts: cannot fetch token: Post \"" +
                sts.Url("/sts/") +
                "\": ec2 instance credentials: cannot fetch token: 404 Not "
                "Found\nResponse: 404 page not found\n");

  // The instance's keys signed the first AssumeRole; the web identity role's (ASIA2, as STS
  // answered the first AssumeRole with ASIA1) the second, whose keys (ASIA3) signed the data.
  EXPECT_EQ(sts.Signers(), (std::vector<std::string>{"ASIAEC21", "ASIA2"}));
  ASSERT_EQ(sts.Forms().size(), 3U);
  EXPECT_EQ(sts.Forms()[1].rfind("Action=AssumeRoleWithWebIdentity&", 0), 0U);
  const std::vector<Request> data = sts.Data();
  ASSERT_EQ(data.size(), 4U);
  for (std::size_t i = 0; i < data.size(); ++i) {
    EXPECT_EQ(testing::SignedBy(data[i]), i < 2 ? "ASIA1" : "ASIA3");
  }
}

TEST(ContainerCredentialsTest, Parses) {
  const Clock::time_point now = Clock::now();
  const std::chrono::system_clock::time_point wall{std::chrono::seconds(1414191623)};  // 23:00:23
  auto c =
      ParseContainerCredentials(R"({"AccessKeyId":"ASIAC","SecretAccessKey":"s+/","Token":"t",)"
                                R"("Expiration":"2014-10-24T23:10:23Z","AccountId":"1"})",
                                now, wall);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->keys.access_key, "ASIAC");
  EXPECT_EQ(c->keys.secret_key, "s+/");
  EXPECT_EQ(c->keys.session_token, "t");
  EXPECT_EQ(c->expiry, now + 600s);
  for (const auto& [json, want] : std::vector<std::pair<std::string, std::string>>{
           {"[]", "the answer is not a JSON object"},
           {R"({"AccessKeyId":"A","Token":"t","Expiration":"2014-10-24T23:10:23Z"})",
            "the answer's Credentials lack a key"},
           {R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"t"})",
            "the answer's Credentials have no valid Expiration"},
       }) {
    auto got = ParseContainerCredentials(json, now, wall);
    ASSERT_FALSE(got.ok()) << json;
    EXPECT_EQ(got.error().message(), "container credentials: cannot fetch token: " + want);
  }
}

// A container's keys come from its endpoint, asked with the token of the authorization file
// as it is at each fetch, and sign the requests.
TEST(AwsContainerCredentialsTest, SignsWithTheContainersKeys) {
  std::mutex mu;
  std::vector<std::string> authorizations;
  std::vector<Request> data;
  testing::TokenEndpoint server([&](HttpServer& s) {
    s.Handle("GET", "/v1/credentials", [&](const Request& r) {
      std::lock_guard<std::mutex> lock(mu);
      authorizations.emplace_back(r.HeaderValue("Authorization").value_or(""));
      if (authorizations.back().rfind("pod-token", 0) != 0) return Response::Text(401, "no");
      // Expires within the refresh margin: fetched again for every request.
      const std::string expiration = testing::AwsTimeIn(120s);
      const std::string n = std::to_string(authorizations.size());
      return Response::Json(200, R"({"AccessKeyId":"ASIAC)" + n + R"(","SecretAccessKey":"c)" + n +
                                     R"(","Token":"t)" + n + R"(","Expiration":")" + expiration +
                                     R"("})");
    });
    s.Handle("POST", "/data", [&](const Request& r) {
      std::lock_guard<std::mutex> lock(mu);
      data.push_back(r);
      return Response::Text(200, "ok");
    });
  });
  base::testing::TempDir dir;
  AwsContainerCredentials::Options o;
  o.url = server.Url("/v1/credentials");
  o.authorization_file = dir.Write("token", "pod-token-1\n");
  auto cfg = std::make_shared<ClientConfig>();
  cfg->sigv4 = ClientConfig::SigV4{.region = "ap-south-1"};
  cfg->token_source = std::make_shared<AwsContainerCredentials>(o);
  HttpClient client;
  ClientRequest post;
  post.method = "POST";
  post.url = server.Url("/data");
  post.body = "payload";
  post.config = cfg;
  ASSERT_TRUE(client.DoSync(post).ok());
  dir.Write("token", "pod-token-2");
  ASSERT_TRUE(client.DoSync(post).ok());
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(authorizations, (std::vector<std::string>{"pod-token-1", "pod-token-2"}));
  ASSERT_EQ(data.size(), 2U);
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(i + 1);
    const testing::SigV4Check c = testing::CheckSigV4(data[i], "c" + n);
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "ASIAC" + n);
    EXPECT_EQ(data[i].HeaderValue("X-Amz-Security-Token"), "t" + n);
  }
}

TEST(InstanceCredentialsTest, Parses) {
  const Clock::time_point now = Clock::now();
  const std::chrono::system_clock::time_point wall{std::chrono::seconds(1414191623)};  // 23:00:23
  auto c = ParseInstanceCredentials(
      R"({"Code":"Success","LastUpdated":"2014-10-24T22:00:00Z","Type":"AWS-HMAC",)"
      R"("AccessKeyId":"ASIAI","SecretAccessKey":"s","Token":"t",)"
      R"("Expiration":"2014-10-24T23:10:23Z"})",
      now, wall);
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->keys.access_key, "ASIAI");
  EXPECT_EQ(c->keys.session_token, "t");
  EXPECT_EQ(c->expiry, now + 600s);
  const std::string keys =
      R"("AccessKeyId":"A","SecretAccessKey":"s","Token":"t","Expiration":"2014-10-24T23:10:23Z")";
  for (const auto& [json, want] : std::vector<std::pair<std::string, std::string>>{
           {R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"not allowed",)" + keys + "}",
            R"(the answer's Code is "AssumeRoleUnauthorizedAccess": not allowed)"},
           {"{" + keys + "}", "the answer's Code is missing: "},
           {R"({"Code":"Success"})", "the answer's Credentials lack a key"},
           {"null", "the answer is not a JSON object"},
       }) {
    auto got = ParseInstanceCredentials(json, now, wall);
    ASSERT_FALSE(got.ok()) << json;
    EXPECT_EQ(got.error().message(), "ec2 instance credentials: cannot fetch token: " + want);
  }
}

std::shared_ptr<ClientConfig> SignedWithInstanceKeys(const testing::FakeImds& imds) {
  auto cfg = std::make_shared<ClientConfig>();
  cfg->sigv4 = ClientConfig::SigV4{.region = "eu-north-1"};
  cfg->token_source = std::make_shared<AwsInstanceCredentials>(imds.Endpoint());
  return cfg;
}

ClientRequest PostData(const testing::FakeImds& imds, std::shared_ptr<ClientConfig> cfg) {
  ClientRequest post;
  post.method = "POST";
  post.url = imds.Url("/data");
  post.body = "payload";
  post.config = std::move(cfg);
  return post;
}

// An instance's keys: asked with a session token (where the service issues them) for the
// first role the service lists, shared by the client and its sessions.
TEST(AwsInstanceCredentialsTest, SignsWithTheInstanceRolesKeys) {
  for (const bool v1_only : {false, true}) {
    SCOPED_TRACE(v1_only ? "IMDSv1" : "IMDSv2");
    testing::FakeImds imds(v1_only);
    const auto cfg = SignedWithInstanceKeys(imds);
    HttpClient client;
    HttpClient::Session session(client);
    // Keys within the refresh margin are fetched again for each request; the next ones last.
    imds.set_lifetime(120s);
    for (int i = 0; i < 5; ++i) {
      if (i == 3) imds.set_lifetime(3600s);
      auto r = i % 2 == 0 ? client.DoSync(PostData(imds, cfg)) : session.Do(PostData(imds, cfg));
      ASSERT_TRUE(r.ok()) << r.error().ToString();
    }
    const std::string list = testing::FakeImds::kCredentialsPath;
    std::vector<std::string> fetch = {"/latest/api/token", list, list + "writer"};
    std::vector<std::string> want;
    for (int i = 0; i < 4; ++i) want.insert(want.end(), fetch.begin(), fetch.end());
    EXPECT_EQ(imds.Asked(), want);
    const std::vector<Request> data = imds.Data();
    ASSERT_EQ(data.size(), 5U);
    for (std::size_t i = 0; i < data.size(); ++i) {
      EXPECT_EQ(testing::SignedBy(data[i]),
                "ASIAEC2" + std::to_string(std::min<std::size_t>(i + 1, 4)));
      EXPECT_EQ(testing::CheckSigV4(data[i], "").region, "eu-north-1");
    }
  }
}

// Sessions on several threads that fetch keys at once each get a set that works.
TEST(AwsInstanceCredentialsTest, OverlappingFetchesEachGetKeys) {
  testing::FakeImds imds;
  imds.set_lifetime(120s);  // within the refresh margin: every request fetches
  const auto cfg = SignedWithInstanceKeys(imds);
  HttpClient client;
  std::atomic<int> failures{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        HttpClient::Session session(client);
        for (int i = 0; i < 5; ++i) {
          if (!session.Do(PostData(imds, cfg)).ok()) ++failures;
        }
      });
    }
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(imds.Asked().size(), 60U);
  const std::vector<Request> data = imds.Data();
  EXPECT_EQ(data.size(), 20U);
  for (const Request& seen : data) {
    EXPECT_EQ(testing::SignedBy(seen).rfind("ASIAEC2", 0), 0U) << testing::SignedBy(seen);
  }
}

// The answers that give no keys fail the request with what went wrong.
TEST(AwsInstanceCredentialsTest, FailuresFailTheRequest) {
  const std::string prefix = "ec2 instance credentials: cannot fetch token: ";
  struct Case {
    int token_status;
    std::string roles;
    std::string want;
    std::string token = "imds-1";
  };
  for (const Case& c : std::vector<Case>{
           {400, "writer", "400 Bad Request\nResponse: refused"},
           {500, "writer", "500 Internal Server Error\nResponse: refused"},
           {200, "", "the instance has no IAM role"},
           {200, "\nwriter", "the instance has no IAM role"},
           {200, "../keys", "the instance's role name \"../keys\" is not valid"},
           {200, "reader", "404 Not Found\nResponse: 404 page not found\n"},
           {200, "writer", "the session token holds a line break", "imds\r\nX-Injected: 1"},
       }) {
    testing::TokenEndpoint imds([&](HttpServer& s) {
      s.Handle("PUT", "/latest/api/token", [&](const Request&) {
        return Response::Text(c.token_status, c.token_status == 200 ? c.token : "refused");
      });
      s.Handle("GET", testing::FakeImds::kCredentialsPath,
               [&](const Request&) { return Response::Text(200, c.roles); });
    });
    auto cfg = std::make_shared<ClientConfig>();
    cfg->sigv4 = ClientConfig::SigV4{.region = "eu-north-1"};
    const std::string root = imds.Url("/");
    cfg->token_source = std::make_shared<AwsInstanceCredentials>(root.substr(0, root.size() - 1));
    ClientRequest post;
    post.method = "POST";
    post.url = imds.Url("/data");
    post.config = cfg;
    HttpClient client;
    auto r = client.DoSync(post);
    ASSERT_FALSE(r.ok()) << c.roles;
    EXPECT_EQ(r.error().message(), "Post \"" + post.url + "\": " + prefix + c.want);
  }
}

}  // namespace
}  // namespace starling::net
