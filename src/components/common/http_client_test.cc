#include "components/common/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "components/common/testing.h"
#include "net/aws_keys.h"
#include "net/http_client.h"
#include "net/token_source.h"

namespace starling::components {
namespace {

// A registration whose body is only the client arguments, to decode them from source.
component::Registration ClientRegistration() {
  return component::MakeRegistration<HttpClientArgs>(
      "test.client", DecodeHttpClientArgs,
      [](const component::Options&,
         const HttpClientArgs&) -> base::Result<std::unique_ptr<component::Component>> {
        return base::Status::Unimplemented("decode only");
      });
}

TEST(HttpClientArgsTest, DecodeDefaultsAndValues) {
  auto reg = ClientRegistration();
  std::unique_ptr<component::Arguments> args;
  ASSERT_EQ(testing::DecodeBody(reg, "", &args), "");
  const auto& d = component::ArgsAs<HttpClientArgs>(*args);
  EXPECT_TRUE(d.follow_redirects);
  EXPECT_TRUE(d.enable_http2);
  EXPECT_FALSE(d.basic_auth.has_value());
  EXPECT_FALSE(d.authorization.has_value());
  EXPECT_FALSE(d.tls_config.has_value());

  ASSERT_EQ(testing::DecodeBody(reg,
                                "proxy_url = \"http://proxy:3128\"\n"
                                "follow_redirects = false\n"
                                "enable_http2 = false\n"
                                "authorization {\n  type = \"  \"\n  credentials = \"c\"\n}\n"
                                "tls_config {\n  ca_file = \"/ca\"\n  cert_pem = \"C\"\n"
                                "  key_file = \"/k\"\n  server_name = \"s\"\n"
                                "  insecure_skip_verify = true\n  min_version = \"TLS13\"\n}\n",
                                &args),
            "");
  const auto& v = component::ArgsAs<HttpClientArgs>(*args);
  EXPECT_EQ(v.proxy_url, "http://proxy:3128");
  EXPECT_FALSE(v.follow_redirects);
  EXPECT_FALSE(v.enable_http2);
  ASSERT_TRUE(v.authorization.has_value());
  EXPECT_EQ(v.authorization->type, "Bearer");
  EXPECT_EQ(v.authorization->credentials.text, "c");
  ASSERT_TRUE(v.tls_config.has_value());
  EXPECT_EQ(v.tls_config->ca_file, "/ca");
  EXPECT_EQ(v.tls_config->cert_pem, "C");
  EXPECT_EQ(v.tls_config->key_file, "/k");
  EXPECT_EQ(v.tls_config->server_name, "s");
  EXPECT_TRUE(v.tls_config->insecure_skip_verify);
  EXPECT_EQ(v.tls_config->min_version, "TLS13");
}

TEST(HttpClientArgsTest, DecodeOAuth2) {
  auto reg = ClientRegistration();
  std::unique_ptr<component::Arguments> args;
  ASSERT_EQ(testing::DecodeBody(reg,
                                "oauth2 {\n  client_id = \"id\"\n  client_secret = \"s\"\n"
                                "  scopes = [\"a\", \"b\"]\n  token_url = \"http://t/token\"\n"
                                "  endpoint_params = {\"audience\" = \"x\"}\n"
                                "  proxy_url = \"http://p:1\"\n"
                                "  tls_config {\n    insecure_skip_verify = true\n  }\n}\n",
                                &args),
            "");
  const auto& v = component::ArgsAs<HttpClientArgs>(*args);
  ASSERT_TRUE(v.oauth2.has_value());
  EXPECT_EQ(v.oauth2->client_id, "id");
  EXPECT_EQ(v.oauth2->client_secret.text, "s");
  EXPECT_EQ(v.oauth2->scopes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(v.oauth2->token_url, "http://t/token");
  EXPECT_EQ(v.oauth2->endpoint_params, (std::map<std::string, std::string>{{"audience", "x"}}));
  EXPECT_EQ(v.oauth2->proxy_url, "http://p:1");
  ASSERT_TRUE(v.oauth2->tls_config.has_value());
  EXPECT_TRUE(v.oauth2->tls_config->insecure_skip_verify);
}

// The proxy settings, and the environment's proxies read when the config is built.
TEST(HttpClientArgsTest, Proxies) {
  auto reg = ClientRegistration();
  std::unique_ptr<component::Arguments> args;
  ASSERT_EQ(
      testing::DecodeBody(reg,
                          "proxy_url = \"http://p:1\"\nno_proxy = \"10.0.0.0/8,example.com\"\n"
                          "proxy_connect_header = {\"X-A\" = [\"1\", \"2\"]}\n",
                          &args),
      "");
  auto cfg = BuildClientConfig(component::ArgsAs<HttpClientArgs>(*args));
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_EQ((*cfg)->proxy_url, "http://p:1");
  EXPECT_EQ((*cfg)->no_proxy, "10.0.0.0/8,example.com");
  EXPECT_FALSE((*cfg)->environment_proxy.has_value());
  ASSERT_EQ((*cfg)->proxy_connect_headers.size(), 2U);
  EXPECT_EQ((*cfg)->proxy_connect_headers[1].name, "X-A");
  EXPECT_EQ((*cfg)->proxy_connect_headers[1].value, "2");

  {
    base::testing::ScopedEnv env({{"HTTP_PROXY", std::nullopt},
                                  {"http_proxy", "http://lower:1"},
                                  {"HTTPS_PROXY", "http://upper:2"},
                                  {"https_proxy", "http://ignored:3"},
                                  {"NO_PROXY", std::nullopt},
                                  {"no_proxy", "example.com"}});
    HttpClientArgs from_env;
    from_env.proxy_from_environment = true;
    cfg = BuildClientConfig(from_env);
  }
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  ASSERT_TRUE((*cfg)->environment_proxy.has_value());
  EXPECT_EQ((*cfg)->environment_proxy->http, "http://lower:1");
  EXPECT_EQ((*cfg)->environment_proxy->https, "http://upper:2");
  EXPECT_EQ((*cfg)->environment_proxy->no_proxy, "example.com");
}

struct DecodeCase {
  std::string name;
  std::string src;
  std::string want_diags;
};

TEST(HttpClientArgsTest, DecodeErrors) {
  auto reg = ClientRegistration();
  const std::string two_auth =
      "t:1:1: at most one of basic_auth, authorization, oauth2, bearer_token & "
      "bearer_token_file must be configured\n";
  const std::vector<DecodeCase> cases = {
      {"bearer token and file", "bearer_token = \"a\"\nbearer_token_file = \"/f\"", two_auth},
      {"basic and bearer", "bearer_token = \"t\"\nbasic_auth {\n}", two_auth},
      {"basic and authorization", "basic_auth {\n}\nauthorization {\n}", two_auth},
      {"authorization and bearer file", "bearer_token_file = \"/f\"\nauthorization {\n}", two_auth},
      {"password twice", "basic_auth {\n  password = \"p\"\n  password_file = \"/f\"\n}",
       "t:3:19: at most one of basic_auth password & password_file must be configured\n"},
      {"credentials twice",
       "authorization {\n  credentials = \"c\"\n  credentials_file = \"/f\"\n}",
       "t:3:22: at most one of authorization credentials & credentials_file must be "
       "configured\n"},
      {"basic authorization type", "authorization {\n  type = \" Basic \"\n}",
       "t:2:10: authorization type cannot be set to \"basic\", use \"basic_auth\" block "
       "instead\n"},
      {"ca twice", "tls_config {\n  ca_pem = \"x\"\n  ca_file = \"/ca\"\n}",
       "t:3:13: at most one of ca_pem and ca_file must be configured\n"},
      {"cert twice",
       "tls_config {\n  cert_pem = \"x\"\n  cert_file = \"/c\"\n  key_file = \"/k\"\n}",
       "t:3:15: at most one of cert_pem and cert_file must be configured\n"},
      {"key twice", "tls_config {\n  cert_file = \"/c\"\n  key_pem = \"x\"\n  key_file = \"/k\"\n}",
       "t:4:14: at most one of key_pem and key_file must be configured\n"},
      {"cert without key", "tls_config {\n  cert_file = \"/c\"\n}",
       "t:2:15: exactly one of key_pem or key_file must be configured when a client "
       "certificate is configured\n"},
      {"key without cert", "tls_config {\n  key_pem = \"k\"\n}",
       "t:2:13: exactly one of cert_pem or cert_file must be configured when a client key is "
       "configured\n"},
      {"wrong type", "follow_redirects = \"yes\"", "t:1:20: \"yes\" should be bool, got string\n"},
      {"two tls blocks", "tls_config {\n}\ntls_config {\n}",
       "t:3:1: block \"tls_config\" may only be specified once\n"},
      {"oauth2 and basic",
       "basic_auth {\n}\noauth2 {\n  client_id = \"i\"\n"
       "  client_secret = \"s\"\n  token_url = \"http://t\"\n}",
       two_auth},
      {"oauth2 without client_id", "oauth2 {\n  client_secret = \"s\"\n}",
       "t:1:1: oauth2 client_id must be configured\n"},
      {"oauth2 without secret", "oauth2 {\n  client_id = \"i\"\n}",
       "t:1:1: either oauth2 client_secret or client_secret_file must be configured\n"},
      {"oauth2 without token_url", "oauth2 {\n  client_id = \"i\"\n  client_secret = \"s\"\n}",
       "t:1:1: oauth2 token_url must be configured\n"},
      {"oauth2 secret twice",
       "oauth2 {\n  client_id = \"i\"\n  client_secret = \"s\"\n"
       "  client_secret_file = \"/f\"\n  token_url = \"http://t\"\n}",
       "t:4:24: at most one of oauth2 client_secret & client_secret_file must be configured\n"},
      {"oauth2 tls checked", "oauth2 {\n  tls_config {\n    min_version = \"x\"\n  }\n}",
       "t:3:19: unknown TLS version: x\nt:1:1: oauth2 client_id must be configured\n"},
      {"no_proxy without proxy_url", "no_proxy = \"a\"",
       "t:1:12: if no_proxy is configured, proxy_url must also be configured\n"},
      {"proxy_url from environment", "proxy_url = \"http://p\"\nproxy_from_environment = true",
       "t:1:13: if proxy_from_environment is configured, proxy_url must not be configured\n"},
      {"no_proxy from environment", "no_proxy = \"a\"\nproxy_from_environment = true",
       "t:1:12: if proxy_from_environment is configured, no_proxy must not be configured\n"},
      {"connect header without proxy", "proxy_connect_header = {\"A\" = [\"b\"]}",
       "t:1:24: if proxy_connect_header is configured, proxy_url or proxy_from_environment "
       "must also be configured\n"},
      {"oauth2 proxy checked",
       "oauth2 {\n  client_id = \"i\"\n  client_secret = \"s\"\n  token_url = \"http://t\"\n"
       "  no_proxy = \"a\"\n}",
       "t:5:14: if no_proxy is configured, proxy_url must also be configured\n"},
      {"unknown tls version", "tls_config {\n  min_version = \"TLS14\"\n}",
       "t:2:17: unknown TLS version: TLS14\n"},
      {"unknown tls attribute", "tls_config {\n  bogus = 1\n}",
       "t:2:3: unrecognized attribute name \"bogus\"\n"},
  };
  for (const DecodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<component::Arguments> args;
    EXPECT_EQ(testing::DecodeBody(reg, c.src, &args), c.want_diags);
  }
}

TEST(HttpClientArgsTest, BuildClientConfig) {
  base::testing::TempDir dir;
  const std::string password_file = dir.Write("password", "  s3cret\n");
  const std::string token_file = dir.Write("token", "tok\n");
  const std::string ca_file = dir.Write("ca.pem", "CA");
  const std::string missing = dir.Path("missing");

  HttpClientArgs none;
  auto cfg = BuildClientConfig(none);
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_FALSE((*cfg)->basic_auth.has_value());
  EXPECT_EQ((*cfg)->authorization, "");
  EXPECT_TRUE((*cfg)->follow_redirects);
  EXPECT_TRUE((*cfg)->enable_http2);
  EXPECT_EQ((*cfg)->proxy_url, "");

  HttpClientArgs basic;
  basic.basic_auth = HttpClientArgs::BasicAuth{"u", {}, password_file};
  basic.follow_redirects = false;
  basic.enable_http2 = false;
  basic.proxy_url = "http://p:1";
  cfg = BuildClientConfig(basic);
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  ASSERT_TRUE((*cfg)->basic_auth.has_value());
  EXPECT_EQ((*cfg)->basic_auth->username, "u");
  EXPECT_EQ((*cfg)->basic_auth->password, "s3cret");
  EXPECT_FALSE((*cfg)->follow_redirects);
  EXPECT_FALSE((*cfg)->enable_http2);
  EXPECT_EQ((*cfg)->proxy_url, "http://p:1");

  struct AuthCase {
    std::string name;
    HttpClientArgs args;
    std::string want;
  };
  HttpClientArgs bearer;
  bearer.bearer_token.text = "abc";
  HttpClientArgs bearer_file;
  bearer_file.bearer_token_file = token_file;
  HttpClientArgs custom;
  custom.authorization = HttpClientArgs::Authorization{"Token", {"xyz"}, ""};
  HttpClientArgs custom_file;
  custom_file.authorization = HttpClientArgs::Authorization{"Bearer", {}, token_file};
  for (const AuthCase& c : std::vector<AuthCase>{{"bearer", bearer, "Bearer abc"},
                                                 {"bearer file", bearer_file, "Bearer tok"},
                                                 {"authorization", custom, "Token xyz"},
                                                 {"credentials file", custom_file, "Bearer tok"}}) {
    SCOPED_TRACE(c.name);
    cfg = BuildClientConfig(c.args);
    ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
    EXPECT_EQ((*cfg)->authorization, c.want);
  }

  HttpClientArgs tls;
  tls.tls_config = HttpClientArgs::Tls{ca_file, "", "", "name", true, "", "", {}, ""};
  cfg = BuildClientConfig(tls);
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_EQ((*cfg)->tls.ca_file, ca_file);
  EXPECT_EQ((*cfg)->tls.server_name, "name");
  EXPECT_TRUE((*cfg)->tls.insecure_skip_verify);
  EXPECT_EQ((*cfg)->tls.min_version, net::ClientConfig::TlsVersion::kTls12);
  for (const auto& [name, want] :
       std::vector<std::pair<std::string, net::ClientConfig::TlsVersion>>{
           {"TLS10", net::ClientConfig::TlsVersion::kTls10},
           {"TLS11", net::ClientConfig::TlsVersion::kTls11},
           {"TLS12", net::ClientConfig::TlsVersion::kTls12},
           {"TLS13", net::ClientConfig::TlsVersion::kTls13}}) {
    tls.tls_config->min_version = name;
    cfg = BuildClientConfig(tls);
    ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
    EXPECT_EQ((*cfg)->tls.min_version, want) << name;
  }
}

// prometheus.remote_write's endpoint client: the shared arguments, sigv4 and azuread.
TEST(HttpClientArgsTest, CloudAuthBlocks) {
  const component::Registration reg = component::MakeRegistration<HttpClientArgs>(
      "test.endpoint",
      [](component::ArgDecoder& d, HttpClientArgs* a) {
        DecodeHttpClientArgs(d, a);
        DecodeCloudAuthBlocks(d, a);
      },
      [](const component::Options&,
         const HttpClientArgs&) -> base::Result<std::unique_ptr<component::Component>> {
        return base::Status::Unimplemented("decode only");
      });
  std::unique_ptr<component::Arguments> args;
  ASSERT_EQ(testing::DecodeBody(reg,
                                "sigv4 {\n  region = \"eu-west-1\"\n  access_key = \"AK\"\n"
                                "  secret_key = \"SK\"\n  profile = \"p\"\n}\n",
                                &args),
            "");
  auto cfg = BuildClientConfig(component::ArgsAs<HttpClientArgs>(*args));
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  ASSERT_TRUE((*cfg)->sigv4.has_value());
  EXPECT_EQ((*cfg)->sigv4->region, "eu-west-1");
  EXPECT_EQ((*cfg)->sigv4->service, "aps");
  EXPECT_EQ((*cfg)->sigv4->keys.access_key, "AK");
  EXPECT_EQ((*cfg)->sigv4->keys.secret_key, "SK");
  EXPECT_EQ((*cfg)->sigv4->keys.session_token, "");

  const std::string identity =
      "  managed_identity {\n    client_id = \"00000000-0000-0000-0000-00000000000a\"\n  }\n";
  const std::string azuread = "azuread {\n" + identity + "}\n";
  for (const std::string cloud : {"AzurePublic", "AzureChina", "AzureGovernment"}) {
    ASSERT_EQ(testing::DecodeBody(reg, "azuread {\n  cloud = \"" + cloud + "\"\n" + identity + "}",
                                  &args),
              "");
    EXPECT_EQ(component::ArgsAs<HttpClientArgs>(*args).azuread->cloud, cloud);
  }
  ASSERT_EQ(testing::DecodeBody(reg, azuread, &args), "");
  const HttpClientArgs& with_azuread = component::ArgsAs<HttpClientArgs>(*args);
  ASSERT_TRUE(with_azuread.azuread.has_value());
  EXPECT_EQ(with_azuread.azuread->cloud, "AzurePublic");
  EXPECT_EQ(with_azuread.azuread->client_id, "00000000-0000-0000-0000-00000000000a");
  cfg = BuildClientConfig(with_azuread);
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_NE((*cfg)->token_source, nullptr);

  const std::string two_auth =
      "t:1:1: at most one of sigv4, azuread, basic_auth, oauth2, bearer_token & "
      "bearer_token_file must be configured\n";
  for (const DecodeCase& c : std::vector<DecodeCase>{
           {"key without secret", "sigv4 {\n  access_key = \"AK\"\n}",
            "t:1:1: must provide an AWS SigV4 access key and secret key if credentials are "
            "specified in the SigV4 config\n"},
           {"secret without key", "sigv4 {\n  secret_key = \"SK\"\n}",
            "t:1:1: must provide an AWS SigV4 access key and secret key if credentials are "
            "specified in the SigV4 config\n"},
           {"with bearer token", "bearer_token = \"t\"\nsigv4 {\n}", two_auth},
           {"with basic_auth", "basic_auth {\n}\nsigv4 {\n}", two_auth},
           {"with authorization", "authorization {\n}\nsigv4 {\n}", two_auth},
           {"sigv4 and azuread", "sigv4 {\n}\n" + azuread, two_auth},
           {"azuread and bearer token", "bearer_token = \"t\"\n" + azuread, two_auth},
           {"azuread without identity", "azuread {\n}",
            "t:1:1: missing required block \"managed_identity\"\n"},
           {"azuread in another cloud", "azuread {\n  cloud = \"Mars\"\n" + identity + "}",
            "t:2:11: must provide a cloud in the Azure AD config\n"},
           {"azuread client_id not a UUID",
            "azuread {\n  managed_identity {\n    client_id = \"me\"\n  }\n}",
            "t:1:1: the provided Azure Managed Identity client_id provided is invalid\n"},
       }) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(testing::DecodeBody(reg, c.src, &args), c.want_diags);
  }

  // Keys and region found in the environment; errors when they are not.
  base::testing::TempDir home;
  HttpClientArgs found;
  found.sigv4.emplace();
  {
    base::testing::ScopedEnv env({{"HOME", home.path()},
                                  {"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                  {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                  {"AWS_SESSION_TOKEN", "env-token"},
                                  {"AWS_REGION", "us-west-2"}});
    cfg = BuildClientConfig(found);
  }
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_EQ((*cfg)->sigv4->region, "us-west-2");
  EXPECT_EQ((*cfg)->sigv4->keys.access_key, "ENVKEY");
  EXPECT_EQ((*cfg)->sigv4->keys.secret_key, "env-secret");
  EXPECT_EQ((*cfg)->sigv4->keys.session_token, "env-token");
  {
    base::testing::ScopedEnv env({{"HOME", home.path()},
                                  {"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                  {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                  {"AWS_REGION", std::nullopt},
                                  {"AWS_DEFAULT_REGION", std::nullopt},
                                  {"AWS_CONFIG_FILE", std::nullopt}});
    cfg = BuildClientConfig(found);
  }
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message(),
            "region not configured in sigv4 or in default credentials chain");
  {
    base::testing::ScopedEnv env({{"HOME", home.path()},
                                  {"AWS_REGION", "us-east-1"},
                                  {"AWS_ACCESS_KEY_ID", std::nullopt},
                                  {"AWS_ACCESS_KEY", std::nullopt},
                                  {"AWS_ROLE_ARN", std::nullopt},
                                  {"AWS_WEB_IDENTITY_TOKEN_FILE", std::nullopt},
                                  {"AWS_PROFILE", std::nullopt},
                                  {"AWS_DEFAULT_PROFILE", std::nullopt},
                                  {"AWS_SHARED_CREDENTIALS_FILE", std::nullopt},
                                  {"AWS_CONFIG_FILE", std::nullopt},
                                  {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", std::nullopt},
                                  {"AWS_CONTAINER_CREDENTIALS_FULL_URI", std::nullopt},
                                  {"AWS_EC2_METADATA_SERVICE_ENDPOINT", std::nullopt},
                                  {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", std::nullopt},
                                  {"AWS_EC2_METADATA_DISABLED", std::nullopt}});
    // Nothing but the instance metadata service: its keys, asked for each request.
    cfg = BuildClientConfig(found);
    ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
    EXPECT_NE(dynamic_cast<net::AwsInstanceCredentials*>((*cfg)->token_source.get()), nullptr);
    base::testing::ScopedEnv disabled({{"AWS_EC2_METADATA_DISABLED", std::string("TRUE")}});
    cfg = BuildClientConfig(found);
  }
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message().rfind("could not get SigV4 credentials: no AWS credentials: ", 0),
            0U)
      << cfg.error().message();
  // A role with a web identity: keys from STS, for each request.
  const std::vector<base::testing::ScopedEnv::Var> web_identity = {
      {"HOME", home.path()},
      {"AWS_REGION", "us-east-1"},
      {"AWS_ACCESS_KEY_ID", std::nullopt},
      {"AWS_ACCESS_KEY", std::nullopt},
      {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
      {"AWS_WEB_IDENTITY_TOKEN_FILE", "/token"}};
  {
    base::testing::ScopedEnv env(web_identity);
    cfg = BuildClientConfig(found);
  }
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_NE((*cfg)->token_source, nullptr);
  EXPECT_EQ((*cfg)->sigv4->keys.access_key, "");
  // The block's role, assumed with the web identity role's keys.
  found.sigv4->role_arn = "arn:aws:iam::1:role/other";
  {
    base::testing::ScopedEnv env(web_identity);
    cfg = BuildClientConfig(found);
  }
  ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
  EXPECT_NE(dynamic_cast<net::AwsStsRole*>((*cfg)->token_source.get()), nullptr);
  EXPECT_EQ((*cfg)->sigv4->keys.access_key, "");
}

// Without an endpoint variable, a role's keys come from STS's regional endpoint, in the
// region's partition.
TEST(HttpClientArgsTest, StsEndpointOfTheRegion) {
  for (const auto& [region, url] : std::vector<std::pair<std::string, std::string>>{
           {"eu-west-1", "https://sts.eu-west-1.amazonaws.com/"},
           {"us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com/"},
           {"cn-northwest-1", "https://sts.cn-northwest-1.amazonaws.com.cn/"},
       }) {
    HttpClientArgs args;
    args.sigv4 = HttpClientArgs::SigV4{region, "AK", {}, "", "arn:aws:iam::1:role/r"};
    args.sigv4->secret_key.text = "SK";
    base::testing::ScopedEnv env(
        {{"AWS_ENDPOINT_URL_STS", std::nullopt}, {"AWS_ENDPOINT_URL", std::nullopt}});
    auto cfg = BuildClientConfig(args);
    ASSERT_TRUE(cfg.ok()) << cfg.error().ToString();
    ASSERT_NE((*cfg)->token_source, nullptr);
    auto request = (*cfg)->token_source->TokenRequest(0, std::chrono::seconds(1));
    ASSERT_TRUE(request.ok()) << request.error().ToString();
    EXPECT_EQ(request->url, url);
  }
}

TEST(HttpClientArgsTest, BuildClientConfigNamesUnreadableFiles) {
  base::testing::TempDir dir;
  const std::string missing = dir.Path("missing");
  HttpClientArgs password;
  password.basic_auth = HttpClientArgs::BasicAuth{"u", {}, missing};
  HttpClientArgs token;
  token.bearer_token_file = missing;
  HttpClientArgs credentials;
  credentials.authorization = HttpClientArgs::Authorization{"Bearer", {}, missing};
  HttpClientArgs ca;
  ca.tls_config = HttpClientArgs::Tls{missing, "", "", "", false, "", "", {}};
  HttpClientArgs key;
  key.tls_config = HttpClientArgs::Tls{"", "", missing, "", false, "", "C", {}};
  HttpClientArgs oauth2_secret;
  oauth2_secret.oauth2 = HttpClientArgs::OAuth2{
      .client_id = "id", .client_secret_file = missing, .token_url = "http://t"};
  HttpClientArgs oauth2_ca;
  oauth2_ca.oauth2 = HttpClientArgs::OAuth2{.client_id = "id",
                                            .client_secret = {"s"},
                                            .token_url = "http://t",
                                            .tls_config = ca.tls_config};
  struct Case {
    std::string name;
    HttpClientArgs args;
    std::string want_prefix;
  };
  const std::vector<Case> cases = {
      {"oauth2 secret", oauth2_secret,
       "unable to read oauth2 client secret file " + missing + ": open "},
      {"oauth2 ca", oauth2_ca, "unable to load specified CA cert " + missing + ": open "},
      {"password", password, "unable to read basic auth password file " + missing + ": open "},
      {"token", token, "unable to read authorization credentials file " + missing + ": open "},
      {"credentials", credentials,
       "unable to read authorization credentials file " + missing + ": open "},
      {"ca", ca, "unable to load specified CA cert " + missing + ": open "},
      {"key", key, "unable to read specified client cert () & key (" + missing + "): open "},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto cfg = BuildClientConfig(c.args);
    ASSERT_FALSE(cfg.ok());
    EXPECT_EQ(cfg.error().message().rfind(c.want_prefix, 0), 0u) << cfg.error().message();
    EXPECT_NE(cfg.error().message().find("No such file or directory"), std::string::npos);
  }
}

}  // namespace
}  // namespace starling::components
