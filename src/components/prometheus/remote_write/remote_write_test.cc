#include "components/prometheus/remote_write/remote_write.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "components/common/receiver.h"
#include "components/common/testing.h"
#include "net/aws_testing.h"
#include "net/oauth2_testing.h"
#include "net/sigv4_testing.h"
#include "remote/fake_receiver.h"

namespace starling::components {
namespace {

using namespace std::chrono_literals;
using base::testing::HasLines;
using base::testing::MetricValue;
using base::testing::WaitForLines;
using remote::testing::FakeReceiver;
using remote::testing::ReceivedRequest;

TEST(PrometheusRemoteWriteTest, DecodeDefaults) {
  auto reg = PrometheusRemoteWriteRegistration();
  std::unique_ptr<component::Arguments> args;
  ASSERT_EQ(testing::DecodeBody(reg, "endpoint {\n  url = \"http://h/api/v1/write\"\n}\n", &args),
            "");
  const auto& a = component::ArgsAs<RemoteWriteArgs>(*args);
  ASSERT_EQ(a.endpoints.size(), 1U);
  const RemoteWriteEndpoint& e = a.endpoints[0];
  EXPECT_EQ(e.remote_timeout, 30s);
  EXPECT_TRUE(e.send_exemplars);
  EXPECT_FALSE(e.send_native_histograms);
  EXPECT_EQ(e.queue.capacity, 10000);
  EXPECT_EQ(e.queue.max_shards, 50);
  EXPECT_EQ(e.queue.min_shards, 1);
  EXPECT_EQ(e.queue.max_samples_per_send, 2000);
  EXPECT_EQ(e.queue.batch_send_deadline, 5s);
  EXPECT_EQ(e.queue.min_backoff, 30ms);
  EXPECT_EQ(e.queue.max_backoff, 5s);
  EXPECT_TRUE(e.queue.retry_on_http_429);
  EXPECT_EQ(e.queue.sample_age_limit, 0s);
  EXPECT_TRUE(e.metadata.send);
  EXPECT_EQ(e.metadata.send_interval, 1min);
  EXPECT_EQ(e.metadata.max_samples_per_send, 2000);
  EXPECT_EQ(a.wal.truncate_frequency, 2h);
  EXPECT_EQ(a.wal.min_keepalive_time, 5min);
  EXPECT_EQ(a.wal.max_keepalive_time, 8h);
  EXPECT_EQ(RemoteName(e).size(), 6U);

  ASSERT_EQ(testing::DecodeBody(reg,
                                "external_labels = {cluster = \"c\"}\n"
                                "endpoint {\n"
                                "  name = \"primary\"\n"
                                "  url = \"http://h/w\"\n"
                                "  headers = {\"X-Scope-OrgID\" = \"t\"}\n"
                                "  bearer_token = \"tok\"\n"
                                "  queue_config {\n    max_shards = 3\n    min_backoff = \"1s\"\n"
                                "    sample_age_limit = \"10m\"\n  }\n"
                                "  metadata_config {\n    send = false\n  }\n"
                                "  write_relabel_config {\n    source_labels = [\"__name__\"]\n"
                                "    regex = \"go_.*\"\n    action = \"drop\"\n  }\n"
                                "}\n"
                                "wal {\n  truncate_frequency = \"1m\"\n}\n",
                                &args),
            "");
  const auto& b = component::ArgsAs<RemoteWriteArgs>(*args);
  EXPECT_EQ(b.external_labels.at("cluster"), "c");
  ASSERT_EQ(b.endpoints.size(), 1U);
  EXPECT_EQ(RemoteName(b.endpoints[0]), "primary");
  EXPECT_EQ(b.endpoints[0].headers.at("X-Scope-OrgID"), "t");
  EXPECT_EQ(b.endpoints[0].client.bearer_token.text, "tok");
  EXPECT_EQ(b.endpoints[0].queue.max_shards, 3);
  EXPECT_EQ(b.endpoints[0].queue.min_backoff, 1s);
  EXPECT_EQ(b.endpoints[0].queue.sample_age_limit, 10min);
  EXPECT_EQ(b.endpoints[0].queue.capacity, 10000);
  EXPECT_FALSE(b.endpoints[0].metadata.send);
  ASSERT_EQ(b.endpoints[0].write_relabel_configs.size(), 1U);
  EXPECT_EQ(b.wal.truncate_frequency, 1min);
}

TEST(PrometheusRemoteWriteTest, DecodeErrors) {
  struct Case {
    std::string name;
    std::string src;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"missing url", "endpoint {\n}", "t:1:1: missing required attribute \"url\"\n"},
      {"bad url", "endpoint {\n  url = \"nourl\"\n}",
       "t:2:9: cannot parse remote_write url \"nourl\"\n"},
      {"zero truncate frequency", "wal {\n  truncate_frequency = \"0s\"\n}",
       "t:1:1: truncate_frequency must not be 0\n"},
      {"keepalive order", "wal {\n  min_keepalive_time = \"9h\"\n}",
       "t:1:1: min_keepalive_time must be smaller than max_keepalive_time\n"},
      {"unknown attribute", "endpoint {\n  url = \"http://h\"\n  bogus = 1\n}",
       "t:3:3: unrecognized attribute name \"bogus\"\n"},
      {"duplicate url", "endpoint {\n  url = \"http://h\"\n}\nendpoint {\n  url = \"http://h\"\n}",
       "t:1:1: duplicate remote write configs are not allowed, found duplicate for URL: "
       "http://h\n"},
  };
  auto reg = PrometheusRemoteWriteRegistration();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<component::Arguments> args;
    EXPECT_EQ(testing::DecodeBody(reg, c.src, &args), c.want);
  }
}

TEST(PrometheusRemoteWriteTest, TruncateKeepFrom) {
  struct Case {
    std::string name;
    std::vector<int> lows;
    int current;
    int max_keepalive;
    int want;
  };
  const std::vector<Case> cases = {
      {"no queues: everything delivered", {}, 7, 0, 7},
      {"slowest queue wins", {5, 3, 6}, 7, 0, 3},
      {"max keepalive overrides a stuck queue", {1}, 7, 4, 4},
      {"caught up", {7}, 7, 2, 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(TruncateKeepFrom(c.lows, c.current, c.max_keepalive), c.want);
  }
}

// Waits until no endpoint has samples queued or in flight (so a stop abandons nothing).
bool WaitIdle(const component::Component& c) {
  for (int i = 0; i < 4000; ++i) {
    bool idle = true;
    const syntax::Value info = c.DebugInfo();
    for (const auto& e : info.AsObject().at("endpoints").AsArray()) {
      idle = idle && e.AsObject().at("pending_samples").AsInt() == 0;
    }
    if (idle) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

class ComponentFixture {
 public:
  // metrics: the registry to report to (the fixture's own when null).
  explicit ComponentFixture(std::string id = "prometheus.remote_write.default",
                            base::MetricsRegistry* metrics = nullptr)
      : metrics_(metrics != nullptr ? metrics : &own_metrics_) {
    opts_.id = std::move(id);
  }

  std::string Build(const std::string& src) {
    auto reg = PrometheusRemoteWriteRegistration();
    std::unique_ptr<component::Arguments> args;
    std::string diags = testing::DecodeBody(reg, src, &args);
    if (!diags.empty()) return diags;
    opts_.data_path = dir_.Path("data");
    opts_.metrics = metrics_;
    opts_.on_state_change = sink_.Callback();
    auto built = reg.build(opts_, *args);
    if (!built.ok()) return built.error().message();
    component_ = std::move(*built);
    runner_ = std::make_unique<testing::Runner>(component_.get());
    return "";
  }
  std::string Update(const std::string& src) {
    auto reg = PrometheusRemoteWriteRegistration();
    std::unique_ptr<component::Arguments> args;
    std::string diags = testing::DecodeBody(reg, src, &args);
    if (!diags.empty()) return diags;
    base::Status s = component_->Update(*args);
    return s.ok() ? "" : s.message();
  }
  std::shared_ptr<storage::Appendable> Receiver() {
    return ReceiverFromValue(sink_.Latest().AsObject().at("receiver"));
  }
  component::Component& component() { return *component_; }
  base::MetricsRegistry& metrics() { return *metrics_; }
  void Stop() { runner_.reset(); }

 private:
  testing::TempDir dir_;
  base::MetricsRegistry own_metrics_;
  base::MetricsRegistry* metrics_;
  testing::ExportSink sink_;
  component::Options opts_;
  std::unique_ptr<component::Component> component_;
  std::unique_ptr<testing::Runner> runner_;
};

std::string Config(const std::string& url, const std::string& extra = "") {
  return "external_labels = {cluster = \"c1\"}\n"
         "endpoint {\n  url = \"" +
         url +
         "\"\n  queue_config {\n    batch_send_deadline = \"5ms\"\n    min_backoff = \"1ms\"\n"
         "  }\n" +
         extra + "}\n";
}

void AppendSamples(storage::Appendable& app, int n, std::int64_t t0) {
  auto a = app.NewAppender();
  for (int i = 0; i < n; ++i) {
    model::Labels l{{"__name__", "m"}, {"i", std::to_string(i)}};
    ASSERT_TRUE(a->Append(0, l, t0, static_cast<double>(i)).ok());
  }
  ASSERT_TRUE(a->Commit().ok());
}

// Appends 3 samples, waits for them at rx, then 3 more: two sends at least, which the
// authentication tests check (the second one with what the first one cached).
std::vector<ReceivedRequest> SendTwice(ComponentFixture& f, FakeReceiver& rx) {
  AppendSamples(*f.Receiver(), 3, 1000);
  EXPECT_TRUE(rx.WaitForSamples(3));
  AppendSamples(*f.Receiver(), 3, 2000);
  EXPECT_TRUE(rx.WaitForSamples(6));
  std::vector<ReceivedRequest> requests = rx.Requests();
  EXPECT_GE(requests.size(), 2U);
  return requests;
}

// The signature check of a send, as the receiver got it.
net::testing::SigV4Check CheckSigned(const ReceivedRequest& r, std::string_view secret_key) {
  net::Request seen;
  seen.method = "POST";
  seen.path = "/api/v1/write";
  seen.headers = r.headers;
  seen.body = r.body;
  return net::testing::CheckSigV4(seen, secret_key);
}

TEST(PrometheusRemoteWriteTest, AppendedSamplesArriveAtTheEndpoint) {
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  ASSERT_EQ(f.Build(Config(rx.url())), "");
  auto app = f.Receiver();
  ASSERT_NE(app, nullptr);
  AppendSamples(*app, 10, 1000);
  AppendSamples(*app, 10, 2000);
  ASSERT_TRUE(rx.WaitForSamples(20));
  auto got = rx.Accepted();
  std::map<std::string, std::vector<std::int64_t>> by;
  for (const auto& s : got) by[s.series].push_back(s.t);
  EXPECT_EQ(by.size(), 10U);
  EXPECT_EQ(by["{__name__=\"m\", cluster=\"c1\", i=\"3\"}"],
            (std::vector<std::int64_t>{1000, 2000}));

  syntax::Value info = f.component().DebugInfo();
  const auto& eps = info.AsObject().at("endpoints").AsArray();
  ASSERT_EQ(eps.size(), 1U);
  EXPECT_EQ(eps[0].AsObject().at("url").AsString(), rx.url());
  EXPECT_EQ(eps[0].AsObject().at("shards").AsInt(), 1);

  // Older than its series' newest sample: dropped and counted.
  AppendSamples(*app, 1, 1500);
  {
    auto a = app->NewAppender();
    model::Labels l{{"__name__", "m"}, {"i", "0"}};
    base::Result<storage::SeriesRef> ref = a->Append(0, l, 3000, 1);
    ASSERT_TRUE(ref.ok());
    storage::Exemplar ex;
    ex.labels = model::Labels{{"trace_id", "abc"}};
    ex.value = 1;
    ex.timestamp_ms = 3000;
    ex.has_timestamp = true;
    ASSERT_TRUE(a->AppendExemplar(*ref, l, ex).ok());
    ASSERT_TRUE(a->Commit().ok());
  }
  // The store's metrics, under Prometheus agent mode's names and the Agent's, are refreshed
  // every second.
  const std::string id = "{component_id=\"prometheus.remote_write.default\"}";
  EXPECT_TRUE(WaitForLines(
      f.metrics(),
      {"prometheus_agent_active_series" + id + " 10",
       "agent_wal_storage_active_series" + id + " 10",
       "prometheus_agent_samples_appended_total{component_id=\"prometheus.remote_write.default\","
       "type=\"float\"} 21",
       "agent_wal_samples_appended_total" + id + " 21",
       "prometheus_remote_storage_samples_in_total" + id + " 21",
       "prometheus_agent_out_of_order_samples_total" + id + " 1",
       "agent_wal_out_of_order_samples_total" + id + " 1",
       "prometheus_agent_exemplars_appended_total" + id + " 1",
       "agent_wal_exemplars_appended_total" + id + " 1",
       "prometheus_remote_storage_exemplars_in_total" + id + " 1",
       "agent_wal_storage_removed_series_total" + id + " 0"}))
      << f.metrics().Render();
  f.Stop();
}

// With an oauth2 block, every send carries the token, fetched once from the token URL.
TEST(PrometheusRemoteWriteTest, SendsWithAnOAuth2Token) {
  net::testing::TokenEndpoint tokens;
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  ASSERT_EQ(f.Build(Config(rx.url(),
                           "  oauth2 {\n    client_id = \"id\"\n"
                           "    client_secret = \"secret\"\n    token_url = \"" +
                               tokens.Url("/token") + "\"\n  }\n")),
            "");
  for (const auto& r : SendTwice(f, rx)) {
    EXPECT_EQ(net::FindHeader(r.headers, "Authorization"), "Bearer tok-1");
  }
  EXPECT_EQ(tokens.TokensIssued(), 1);
  f.Stop();
}

// Every send is signed with the sigv4 block's keys, for Amazon Managed Service for Prometheus
// ("aps") in its region, over the body as sent.
TEST(PrometheusRemoteWriteTest, SignsWithSigV4) {
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  ASSERT_EQ(f.Build(Config(rx.url(),
                           "  sigv4 {\n    region = \"eu-west-1\"\n    access_key = \"AKID\"\n"
                           "    secret_key = \"SECRET\"\n  }\n")),
            "");
  for (const auto& r : SendTwice(f, rx)) {
    const net::testing::SigV4Check c = CheckSigned(r, "SECRET");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "AKID");
    EXPECT_EQ(c.region, "eu-west-1");
    EXPECT_EQ(c.service, "aps");
    EXPECT_EQ(c.signed_headers,
              "content-encoding;content-type;host;x-amz-date;x-prometheus-remote-write-version");
  }
  f.Stop();
}

// With role_arn, the block's keys sign STS's AssumeRole, and the role's keys every send.
TEST(PrometheusRemoteWriteTest, SignsWithTheKeysOfAnAssumedRole) {
  net::testing::FakeSts sts;
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  {
    base::testing::ScopedEnv env({{"AWS_ENDPOINT_URL_STS", sts.Url("/sts/")}});
    ASSERT_EQ(f.Build(Config(rx.url(),
                             "  sigv4 {\n    region = \"us-east-2\"\n    access_key = \"AKBASE\"\n"
                             "    secret_key = \"base-secret\"\n"
                             "    role_arn = \"arn:aws:iam::123456789012:role/writer\"\n  }\n")),
              "");
  }
  for (const auto& r : SendTwice(f, rx)) {
    const net::testing::SigV4Check c = CheckSigned(r, "secret/1+x");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "ASIA1");
  }
  ASSERT_EQ(sts.Forms().size(), 1U);
  EXPECT_EQ(
      sts.Forms()[0].rfind("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3A", 0),
      0U);
  f.Stop();
}

// Without keys in the block, a role with a web identity (EKS's IAM roles for service
// accounts) signs: its keys come from STS (here a fake one the SDK's endpoint variable names),
// once, for every send.
TEST(PrometheusRemoteWriteTest, SignsWithTheKeysOfAWebIdentityRole) {
  net::testing::FakeSts sts;
  base::testing::TempDir dir;
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  {
    base::testing::ScopedEnv env({{"AWS_ACCESS_KEY_ID", std::nullopt},
                                  {"AWS_ACCESS_KEY", std::nullopt},
                                  {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/writer"},
                                  {"AWS_WEB_IDENTITY_TOKEN_FILE", dir.Write("token", "jwt-sa")},
                                  {"AWS_ROLE_SESSION_NAME", "starling"},
                                  {"AWS_ENDPOINT_URL_STS", sts.Url("/sts/")}});
    ASSERT_EQ(f.Build(Config(rx.url(), "  sigv4 {\n    region = \"us-east-2\"\n  }\n")), "");
  }
  for (const auto& r : SendTwice(f, rx)) {
    const net::testing::SigV4Check c = CheckSigned(r, "secret/1+x");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "ASIA1");
    EXPECT_EQ(c.region, "us-east-2");
    EXPECT_EQ(net::FindHeader(r.headers, "X-Amz-Security-Token"), "token-1");
  }
  ASSERT_EQ(sts.Forms().size(), 1U);
  EXPECT_NE(sts.Forms()[0].find("RoleSessionName=starling&"), std::string::npos);
  f.Stop();
}

// The environment with HOME at `home` and no AWS keys, role, profile, container endpoint or
// instance metadata service setting; then `vars`.
std::vector<base::testing::ScopedEnv::Var> WithoutAwsKeys(
    const base::testing::TempDir& home, std::vector<base::testing::ScopedEnv::Var> vars) {
  std::vector<base::testing::ScopedEnv::Var> all = {{"HOME", home.path()}};
  for (const char* name :
       {"AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY", "AWS_ROLE_ARN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
        "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_DISABLED",
        "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"}) {
    all.emplace_back(name, std::nullopt);
  }
  all.insert(all.end(), vars.begin(), vars.end());
  return all;
}

// Without keys anywhere else, a container's credentials endpoint (EKS Pod Identity, ECS)
// gives the keys, asked once with the container's authorization token.
TEST(PrometheusRemoteWriteTest, SignsWithTheKeysOfTheContainer) {
  std::atomic<int> fetches{0};
  net::testing::TokenEndpoint endpoint([&](net::HttpServer& s) {
    s.Handle("GET", "/v1/credentials", [&](const net::Request& r) {
      if (r.HeaderValue("Authorization") != "pod-token") return net::Response::Text(401, "no");
      ++fetches;
      return net::Response::Json(200,
                                 R"({"AccessKeyId":"ASIAPOD","SecretAccessKey":"pod/secret",)"
                                 R"("Token":"pod-session","Expiration":"2099-01-01T00:00:00Z"})");
    });
  });
  base::testing::TempDir home;
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  {
    base::testing::ScopedEnv env(WithoutAwsKeys(
        home, {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", endpoint.Url("/v1/credentials")},
               {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-token"}}));
    ASSERT_EQ(f.Build(Config(rx.url(), "  sigv4 {\n    region = \"eu-west-3\"\n  }\n")), "");
  }
  for (const auto& r : SendTwice(f, rx)) {
    const net::testing::SigV4Check c = CheckSigned(r, "pod/secret");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "ASIAPOD");
    EXPECT_EQ(net::FindHeader(r.headers, "X-Amz-Security-Token"), "pod-session");
  }
  EXPECT_EQ(fetches.load(), 1);
  f.Stop();
}

// On an EC2 instance without other keys, the instance metadata service gives its role's keys,
// fetched once (a session token, the role's name, its keys).
TEST(PrometheusRemoteWriteTest, SignsWithTheKeysOfTheInstance) {
  net::testing::FakeImds imds;
  base::testing::TempDir home;
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  {
    base::testing::ScopedEnv env(
        WithoutAwsKeys(home, {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.Endpoint()}}));
    ASSERT_EQ(f.Build(Config(rx.url(), "  sigv4 {\n    region = \"eu-north-1\"\n  }\n")), "");
  }
  for (const auto& r : SendTwice(f, rx)) {
    const net::testing::SigV4Check c = CheckSigned(r, "ec2/1");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "ASIAEC21");
    EXPECT_EQ(net::FindHeader(r.headers, "X-Amz-Security-Token"), "ec2-token-1");
  }
  EXPECT_EQ(imds.Asked().size(), 3U);
  f.Stop();
}

// On an EC2 instance, a role_arn (say, of another account) is assumed with the instance's
// keys, and the role's keys sign the sends, as the SDK's stscreds over the default chain.
TEST(PrometheusRemoteWriteTest, SignsWithARoleAssumedWithTheInstancesKeys) {
  net::testing::FakeImds imds;
  net::testing::FakeSts sts;
  base::testing::TempDir home;
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  {
    base::testing::ScopedEnv env(
        WithoutAwsKeys(home, {{"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.Endpoint()},
                              {"AWS_ENDPOINT_URL_STS", sts.Url("/sts/")}}));
    ASSERT_EQ(f.Build(Config(rx.url(),
                             "  sigv4 {\n    region = \"eu-north-1\"\n"
                             "    role_arn = \"arn:aws:iam::210987654321:role/writer\"\n  }\n")),
              "");
  }
  for (const auto& r : SendTwice(f, rx)) {
    const net::testing::SigV4Check c = CheckSigned(r, "secret/1+x");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "ASIA1");
    EXPECT_EQ(net::FindHeader(r.headers, "X-Amz-Security-Token"), "token-1");
  }
  EXPECT_EQ(sts.Signers(), (std::vector<std::string>{"ASIAEC21"}));
  EXPECT_EQ(imds.Asked().size(), 3U);
  f.Stop();
}

// A profile's role (over its source profile's keys) and then the block's role_arn are assumed
// in turn, each with the keys before it.
TEST(PrometheusRemoteWriteTest, SignsWithRolesOfAProfileAndTheBlock) {
  net::testing::FakeSts sts;
  base::testing::TempDir home;
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/credentials",
             "[default]\naws_access_key_id = AKBASE\naws_secret_access_key = base-secret\n");
  home.Write(".aws/config",
             "[profile writer]\nrole_arn = arn:aws:iam::1:role/hop\nsource_profile = default\n"
             "external_id = ext-1\n");
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  {
    base::testing::ScopedEnv env(
        WithoutAwsKeys(home, {{"AWS_ENDPOINT_URL_STS", sts.Url("/sts/")}}));
    ASSERT_EQ(f.Build(Config(rx.url(),
                             "  sigv4 {\n    region = \"eu-north-1\"\n    profile = \"writer\"\n"
                             "    role_arn = \"arn:aws:iam::2:role/writer\"\n  }\n")),
              "");
  }
  for (const auto& r : SendTwice(f, rx)) {
    const net::testing::SigV4Check c = CheckSigned(r, "secret/2+x");
    EXPECT_EQ(c.error, "");
    EXPECT_EQ(c.access_key, "ASIA2");
  }
  EXPECT_EQ(sts.Signers(), (std::vector<std::string>{"AKBASE", "ASIA1"}));
  ASSERT_EQ(sts.Forms().size(), 2U);
  EXPECT_EQ(sts.Forms()[0].rfind(
                "Action=AssumeRole&ExternalId=ext-1&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3A", 0),
            0U);
  EXPECT_EQ(sts.Forms()[1].rfind("Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A2%3A", 0), 0U);
  f.Stop();
}

// With an azuread block, every send carries a token of the managed identity, here from an
// App Service identity endpoint named by the environment, fetched once.
TEST(PrometheusRemoteWriteTest, SendsWithAnAzureManagedIdentityToken) {
  std::atomic<int> fetches{0};
  std::mutex mu;
  std::string query;
  net::testing::TokenEndpoint identity([&](net::HttpServer& s) {
    s.Handle("GET", "/msi/token", [&](const net::Request& r) {
      if (r.HeaderValue("X-IDENTITY-HEADER") != "h") return net::Response::Text(401, "who?");
      {
        std::lock_guard<std::mutex> lock(mu);
        query = r.query;
      }
      return net::Response::Json(200, R"({"access_token":"mi-)" + std::to_string(++fetches) +
                                          R"(","expires_on":"4102444800","token_type":"Bearer"})");
    });
  });
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  {
    base::testing::ScopedEnv env(
        {{"IDENTITY_ENDPOINT", identity.Url("/msi/token")}, {"IDENTITY_HEADER", "h"}});
    ASSERT_EQ(f.Build(Config(rx.url(),
                             "  azuread {\n    cloud = \"AzureChina\"\n"
                             "    managed_identity {\n"
                             "      client_id = \"00000000-0000-0000-0000-0000000000c1\"\n"
                             "    }\n  }\n")),
              "");
  }
  for (const auto& r : SendTwice(f, rx)) {
    EXPECT_EQ(net::FindHeader(r.headers, "Authorization"), "Bearer mi-1");
  }
  EXPECT_EQ(fetches.load(), 1);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(query,
            "api-version=2019-08-01&client_id=00000000-0000-0000-0000-0000000000c1"
            "&resource=https%3A%2F%2Fmonitor.azure.cn%2F");
  f.Stop();
}

// Two components writing to the same URL (and so with the same remote_name) keep apart
// metrics, told apart by component_id as in the Agent; a component that goes takes its series
// with it.
TEST(PrometheusRemoteWriteTest, MetricsOfTwoComponentsToOneUrlStayApart) {
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  base::MetricsRegistry metrics;
  ComponentFixture a("prometheus.remote_write.a", &metrics);
  auto b = std::make_unique<ComponentFixture>("prometheus.remote_write.b", &metrics);
  ASSERT_EQ(a.Build(Config(rx.url())), "");
  ASSERT_EQ(b->Build(Config(rx.url())), "");
  AppendSamples(*a.Receiver(), 3, 1000);
  AppendSamples(*b->Receiver(), 5, 1000);
  ASSERT_TRUE(rx.WaitForSamples(8));
  RemoteWriteEndpoint e;
  e.url = rx.url();
  const std::string labels = "\",remote_name=\"" + RemoteName(e) + "\",url=\"" + rx.url() + "\"}";
  const std::string a_sent =
      "prometheus_remote_storage_samples_total{component_id=\"prometheus.remote_write.a" + labels +
      " 3";
  EXPECT_TRUE(WaitForLines(
      metrics, {a_sent,
                "prometheus_remote_storage_samples_total{component_id=\"prometheus.remote_"
                "write.b" +
                    labels + " 5"}))
      << metrics.Render();

  b.reset();
  const std::string text = metrics.Render();
  EXPECT_EQ(text.find("prometheus.remote_write.b"), std::string::npos) << text;
  EXPECT_NE(text.find(a_sent + "\n"), std::string::npos) << text;
  EXPECT_NE(
      text.find("agent_wal_storage_active_series{component_id=\"prometheus.remote_write.a\"}"),
      std::string::npos)
      << text;
  a.Stop();
}

bool WaitForMetric(base::MetricsRegistry& metrics, const std::string& name, double want) {
  for (int i = 0; i < 1000; ++i) {
    if (MetricValue(metrics, name) == want) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

// Each truncation checkpoints, deletes the segments below the checkpoint and the older
// checkpoint, and is counted and timed under Prometheus agent mode's names.
TEST(PrometheusRemoteWriteTest, WalTruncationsAreCountedAndTimed) {
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  ComponentFixture f;
  ASSERT_EQ(f.Build(Config(rx.url()) + "wal {\n  truncate_frequency = \"50ms\"\n}\n"), "");
  AppendSamples(*f.Receiver(), 10, 1000);
  ASSERT_TRUE(rx.WaitForSamples(10));
  const std::string created = "prometheus_agent_checkpoint_creations_total";
  const std::string timed = "prometheus_agent_truncate_duration_seconds_count";
  const std::string truncations = "prometheus_tsdb_wal_truncations_total";
  const std::string deletions = "prometheus_agent_checkpoint_deletions_total";
  // The counters move together; a render may fall between two of them, so poll for a steady
  // view with at least three truncations.
  bool steady = false;
  for (int i = 0; i < 1000 && !steady; ++i) {
    const double n = MetricValue(f.metrics(), created);
    steady = n >= 3 && MetricValue(f.metrics(), timed) == n &&
             MetricValue(f.metrics(), truncations) == n && MetricValue(f.metrics(), deletions) == n;
    if (!steady) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(steady) << f.metrics().Render();
  const std::string id = "{component_id=\"prometheus.remote_write.default\"}";
  EXPECT_TRUE(
      HasLines(f.metrics(), {"prometheus_agent_checkpoint_creations_failed_total" + id + " 0",
                             "prometheus_agent_checkpoint_deletions_failed_total" + id + " 0",
                             "prometheus_tsdb_wal_truncations_failed_total" + id + " 0",
                             "prometheus_tsdb_wal_writes_failed_total" + id + " 0",
                             "prometheus_agent_corruptions_total" + id + " 0"}))
      << f.metrics().Render();
  EXPECT_GT(MetricValue(f.metrics(), "prometheus_agent_truncate_duration_seconds_sum"), 0);
  EXPECT_GT(MetricValue(f.metrics(), "prometheus_agent_data_replay_duration_seconds"), 0);
  // Every truncation starts a segment, fsyncing and timing the one before it.
  EXPECT_GE(MetricValue(f.metrics(), "prometheus_tsdb_wal_segment_current"), 3);
  EXPECT_GE(MetricValue(f.metrics(), "prometheus_tsdb_wal_fsync_duration_seconds_count"), 3);
  EXPECT_NE(f.metrics().Render().find("prometheus_tsdb_wal_fsync_duration_seconds{component_id="
                                      "\"prometheus.remote_write.default\",quantile=\"0.99\"}"),
            std::string::npos);
  // The samples' page was written, and completed when its segment ended.
  EXPECT_GE(MetricValue(f.metrics(), "prometheus_tsdb_wal_page_flushes_total"), 1);
  EXPECT_GE(MetricValue(f.metrics(), "prometheus_tsdb_wal_completed_pages_total"), 1);
  f.Stop();
}

TEST(PrometheusRemoteWriteTest, HighestTimestampFollowsAppendsWhileSendingIsStuck) {
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  rx.Hold();
  ComponentFixture f;
  // One sample per request and room for one more: the held request stops the WAL watcher.
  ASSERT_EQ(f.Build("endpoint {\n  url = \"" + rx.url() +
                    "\"\n  queue_config {\n    capacity = 1\n    max_samples_per_send = 1\n"
                    "    max_shards = 1\n  }\n}\n"),
            "");
  auto app = f.Receiver();
  AppendSamples(*app, 10, 1000);
  AppendSamples(*app, 10, 9000);
  const std::string highest = "prometheus_remote_storage_highest_timestamp_in_seconds";
  const std::string sent = "prometheus_remote_storage_queue_highest_sent_timestamp_seconds";
  EXPECT_TRUE(WaitForMetric(f.metrics(), highest, 9)) << MetricValue(f.metrics(), highest);
  EXPECT_EQ(MetricValue(f.metrics(), sent), 0);
  rx.Release();
  ASSERT_TRUE(rx.WaitForSamples(20));
  EXPECT_TRUE(WaitForMetric(f.metrics(), sent, 9)) << MetricValue(f.metrics(), sent);
  f.Stop();
}

TEST(PrometheusRemoteWriteTest, UpdateRestartsOnlyChangedEndpoints) {
  FakeReceiver rx1, rx2, rx3;
  ASSERT_TRUE(rx1.Start().ok());
  ASSERT_TRUE(rx2.Start().ok());
  ASSERT_TRUE(rx3.Start().ok());
  auto endpoint = [](const FakeReceiver& rx, const std::string& name, const std::string& extra) {
    return "endpoint {\n  name = \"" + name + "\"\n  url = \"" + rx.url() +
           "\"\n  queue_config {\n    batch_send_deadline = \"5ms\"\n  }\n" + extra + "}\n";
  };
  ComponentFixture f;
  ASSERT_EQ(f.Build(endpoint(rx1, "one", "") + endpoint(rx2, "two", "")), "");
  auto app = f.Receiver();
  AppendSamples(*app, 5, 1000);
  ASSERT_TRUE(rx1.WaitForSamples(5));
  ASSERT_TRUE(rx2.WaitForSamples(5));
  ASSERT_TRUE(WaitIdle(f.component()));
  const std::size_t rx1_requests = rx1.RequestCount();

  // "two" gains a header (restarted, resumes from its persisted position); "one" is untouched;
  // "three" is new and sends the WAL from its start.
  ASSERT_EQ(f.Update(endpoint(rx1, "one", "") +
                     endpoint(rx2, "two", "  headers = {\"X-Test\" = \"1\"}\n") +
                     endpoint(rx3, "three", "")),
            "");
  AppendSamples(*app, 5, 2000);
  ASSERT_TRUE(rx1.WaitForSamples(10));
  ASSERT_TRUE(rx2.WaitForSamples(10));
  ASSERT_TRUE(rx3.WaitForSamples(10));
  // A change of the HTTP client settings alone restarts the queue too.
  ASSERT_EQ(f.Update(endpoint(rx1, "one", "") +
                     endpoint(rx2, "two",
                              "  headers = {\"X-Test\" = \"1\"}\n  bearer_token = \"tok\"\n") +
                     endpoint(rx3, "three", "")),
            "");
  AppendSamples(*app, 5, 3000);
  ASSERT_TRUE(rx1.WaitForSamples(15));
  ASSERT_TRUE(rx2.WaitForSamples(15));
  ASSERT_TRUE(rx3.WaitForSamples(15));
  f.Stop();
  EXPECT_EQ(net::FindHeader(rx2.Requests().back().headers, "Authorization"), "Bearer tok");
  EXPECT_EQ(rx1.Accepted().size(), 15U);
  EXPECT_EQ(rx2.Accepted().size(), 15U);  // nothing sent twice across the restarts
  EXPECT_EQ(rx3.Accepted().size(), 15U);
  EXPECT_GT(rx1.RequestCount(), rx1_requests);
  bool saw_header = false;
  for (const auto& r : rx2.Requests()) {
    for (const auto& h : r.headers) saw_header = saw_header || h.name == "X-Test";
  }
  EXPECT_TRUE(saw_header);
}

// As Prometheus unregisters a stopped queue's metrics, a removed endpoint leaves no series.
TEST(PrometheusRemoteWriteTest, RemovedEndpointLeavesNoQueueSeries) {
  FakeReceiver rx1, rx2;
  ASSERT_TRUE(rx1.Start().ok());
  ASSERT_TRUE(rx2.Start().ok());
  auto endpoint = [](const FakeReceiver& rx, const std::string& name) {
    return "endpoint {\n  name = \"" + name + "\"\n  url = \"" + rx.url() + "\"\n}\n";
  };
  ComponentFixture f;
  ASSERT_EQ(f.Build(endpoint(rx1, "one") + endpoint(rx2, "two")), "");
  EXPECT_NE(f.metrics().Render().find("remote_name=\"two\""), std::string::npos);
  EXPECT_NE(f.metrics().Render().find("consumer=\"two\""), std::string::npos);
  ASSERT_EQ(f.Update(endpoint(rx1, "one")), "");
  const std::string text = f.metrics().Render();
  EXPECT_EQ(text.find("remote_name=\"two\""), std::string::npos) << text;
  EXPECT_EQ(text.find("consumer=\"two\""), std::string::npos) << text;
  EXPECT_NE(text.find("prometheus_remote_storage_shards{component_id=\"prometheus.remote_write."
                      "default\",remote_name=\"one\""),
            std::string::npos)
      << text;
  f.Stop();
}

TEST(PrometheusRemoteWriteTest, RestartOfTheComponentDoesNotResend) {
  FakeReceiver rx;
  ASSERT_TRUE(rx.Start().ok());
  testing::TempDir dir;
  // Two components over the same data path, one after the other (an agent restart).
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    auto reg = PrometheusRemoteWriteRegistration();
    std::unique_ptr<component::Arguments> args;
    ASSERT_EQ(testing::DecodeBody(reg, Config(rx.url()), &args), "");
    base::MetricsRegistry metrics;
    testing::ExportSink sink;
    component::Options o;
    o.id = "prometheus.remote_write.default";
    o.data_path = dir.Path("data");
    o.metrics = &metrics;
    o.on_state_change = sink.Callback();
    auto built = reg.build(o, *args);
    ASSERT_TRUE(built.ok()) << built.error().message();
    {
      testing::Runner runner(built->get());
      auto app = ReceiverFromValue(sink.Latest().AsObject().at("receiver"));
      AppendSamples(*app, 3, 1000 * (round + 1));
      ASSERT_TRUE(rx.WaitForSamples(static_cast<std::size_t>(3 * (round + 1))));
      ASSERT_TRUE(WaitIdle(**built));
    }
  }
  auto got = rx.Accepted();
  ASSERT_EQ(got.size(), 6U);
  for (std::size_t i = 3; i < 6; ++i) EXPECT_EQ(got[i].t, 2000);
}

}  // namespace
}  // namespace starling::components
