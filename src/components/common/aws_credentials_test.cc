#include "components/common/aws_credentials.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/testing.h"

namespace starling::components {
namespace {

using base::testing::ScopedEnv;
using base::testing::TempDir;

// Every variable the lookup reads, unset, with HOME at `home`; then `vars`.
std::vector<ScopedEnv::Var> Env(const std::string& home, std::vector<ScopedEnv::Var> vars = {}) {
  std::vector<ScopedEnv::Var> all = {{"HOME", home},
                                     {"AWS_ACCESS_KEY_ID", std::nullopt},
                                     {"AWS_ACCESS_KEY", std::nullopt},
                                     {"AWS_SECRET_ACCESS_KEY", std::nullopt},
                                     {"AWS_SECRET_KEY", std::nullopt},
                                     {"AWS_SESSION_TOKEN", std::nullopt},
                                     {"AWS_ROLE_ARN", std::nullopt},
                                     {"AWS_WEB_IDENTITY_TOKEN_FILE", std::nullopt},
                                     {"AWS_ROLE_SESSION_NAME", std::nullopt},
                                     {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", std::nullopt},
                                     {"AWS_CONTAINER_CREDENTIALS_FULL_URI", std::nullopt},
                                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", std::nullopt},
                                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", std::nullopt},
                                     {"AWS_PROFILE", std::nullopt},
                                     {"AWS_DEFAULT_PROFILE", std::nullopt},
                                     {"AWS_SHARED_CREDENTIALS_FILE", std::nullopt},
                                     {"AWS_CONFIG_FILE", std::nullopt},
                                     {"AWS_REGION", std::nullopt},
                                     {"AWS_DEFAULT_REGION", std::nullopt},
                                     {"AWS_EC2_METADATA_DISABLED", std::nullopt},
                                     {"AWS_EC2_METADATA_SERVICE_ENDPOINT", std::nullopt},
                                     {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", std::nullopt}};
  all.insert(all.end(), vars.begin(), vars.end());
  return all;
}

// The keys found; fails the test when there are none.
net::AwsKeys Keys(const base::Result<AwsCredentialChain>& found) {
  EXPECT_TRUE(found.ok()) << found.error().ToString();
  if (!found.ok()) return {};
  EXPECT_TRUE(found->roles.empty());
  const net::AwsKeys* keys = std::get_if<net::AwsKeys>(&found->source);
  EXPECT_NE(keys, nullptr);
  return keys != nullptr ? *keys : net::AwsKeys{};
}

const char kCredentials[] =
    "# keys\n"
    "[default]\n"
    "aws_access_key_id = DEFAULTKEY\n"
    "aws_secret_access_key = default/secret\n"
    "\n"
    "[prod]\n"
    "  aws_access_key_id=PRODKEY  \n"
    "; a comment\n"
    "aws_secret_access_key=prod+secret\n"
    "aws_session_token = prod-token\n"
    "[empty]\n"
    "region = eu-west-1\n";

const char kConfig[] =
    "[default]\n"
    "region = us-east-2\n"
    "[profile prod]\n"
    "region = eu-central-1\n"
    "[profile cfg]\n"
    "aws_access_key_id = CFGKEY\n"
    "aws_secret_access_key = cfg-secret\n";

TEST(AwsCredentialsTest, EnvironmentKeys) {
  TempDir home;
  {
    ScopedEnv env(Env(home.path(), {{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                    {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                    {"AWS_SESSION_TOKEN", "env-token"}}));
    const net::AwsKeys c = Keys(FindAwsCredentials(""));
    EXPECT_EQ(c.access_key, "ENVKEY");
    EXPECT_EQ(c.secret_key, "env-secret");
    EXPECT_EQ(c.session_token, "env-token");
  }
  ScopedEnv env(Env(home.path(), {{"AWS_ACCESS_KEY", "OLDKEY"}, {"AWS_SECRET_KEY", "old-secret"}}));
  const net::AwsKeys c = Keys(FindAwsCredentials(""));
  EXPECT_EQ(c.access_key, "OLDKEY");
  EXPECT_EQ(c.secret_key, "old-secret");
  EXPECT_EQ(c.session_token, "");
}

TEST(AwsCredentialsTest, SharedFileProfiles) {
  TempDir home;
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/credentials", kCredentials);
  home.Write(".aws/config", kConfig);
  {
    // Without keys in the environment: the default profile.
    ScopedEnv env(Env(home.path(), {{"AWS_ACCESS_KEY_ID", "ENVKEY"}}));
    const net::AwsKeys c = Keys(FindAwsCredentials(""));
    EXPECT_EQ(c.access_key, "DEFAULTKEY");
    EXPECT_EQ(c.secret_key, "default/secret");
  }
  {
    // A configured profile comes before the environment's keys.
    ScopedEnv env(Env(home.path(),
                      {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}}));
    const net::AwsKeys c = Keys(FindAwsCredentials("prod"));
    EXPECT_EQ(c.access_key, "PRODKEY");
    EXPECT_EQ(c.secret_key, "prod+secret");
    EXPECT_EQ(c.session_token, "prod-token");
  }
  {
    ScopedEnv env(Env(home.path(), {{"AWS_PROFILE", "prod"}}));
    const net::AwsKeys c = Keys(FindAwsCredentials(""));
    EXPECT_EQ(c.access_key, "PRODKEY");
  }
  {
    // Keys in the config file's "profile <name>" section.
    ScopedEnv env(Env(home.path()));
    const net::AwsKeys c = Keys(FindAwsCredentials("cfg"));
    EXPECT_EQ(c.access_key, "CFGKEY");
    EXPECT_EQ(c.secret_key, "cfg-secret");
  }
  {
    // Files named by the environment.
    TempDir elsewhere;
    const std::string file =
        elsewhere.Write("creds", "[default]\naws_access_key_id = K\naws_secret_access_key = S\n");
    ScopedEnv env(Env(home.path(), {{"AWS_SHARED_CREDENTIALS_FILE", file}}));
    const net::AwsKeys c = Keys(FindAwsCredentials(""));
    EXPECT_EQ(c.access_key, "K");
  }
}

// After the environment's keys and before the shared files, as the SDK orders them.
TEST(AwsCredentialsTest, WebIdentityOfTheEnvironment) {
  TempDir home;
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/credentials", kCredentials);
  const std::vector<ScopedEnv::Var> role = {{"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
                                            {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"}};
  {
    ScopedEnv env(Env(home.path(), role));
    auto found = FindAwsCredentials("");
    ASSERT_TRUE(found.ok()) << found.error().ToString();
    const auto* r = std::get_if<AwsRoleWithWebIdentity>(&found->source);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->role_arn, "arn:aws:iam::1:role/r");
    EXPECT_EQ(r->token_file, "/var/run/token");
    EXPECT_FALSE(r->session_name.empty());
  }
  std::vector<ScopedEnv::Var> named = role;
  named.emplace_back("AWS_ROLE_SESSION_NAME", "me");
  {
    ScopedEnv env(Env(home.path(), named));
    auto found = FindAwsCredentials("");
    ASSERT_TRUE(found.ok()) << found.error().ToString();
    EXPECT_EQ(std::get<AwsRoleWithWebIdentity>(found->source).session_name, "me");
  }
  named.emplace_back("AWS_ACCESS_KEY_ID", "ENVKEY");
  named.emplace_back("AWS_SECRET_ACCESS_KEY", "env-secret");
  {
    ScopedEnv env(Env(home.path(), named));
    EXPECT_EQ(Keys(FindAwsCredentials("")).access_key, "ENVKEY");
  }
  ScopedEnv env(Env(home.path(), role));
  EXPECT_EQ(Keys(FindAwsCredentials("prod")).access_key, "PRODKEY");
}

// Last, when no profile has keys; http only to loopback and the platforms' endpoints.
TEST(AwsCredentialsTest, ContainerEndpointOfTheEnvironment) {
  TempDir home;
  {
    ScopedEnv env(Env(home.path(), {{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds/x"},
                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "tok"}}));
    auto found = FindAwsCredentials("");
    ASSERT_TRUE(found.ok()) << found.error().ToString();
    const auto& e = std::get<AwsContainerEndpoint>(found->source);
    EXPECT_EQ(e.url, "http://169.254.170.2/v2/creds/x");
    EXPECT_EQ(e.authorization, "tok");
    EXPECT_EQ(e.authorization_file, "");
  }
  for (const std::string url :
       {"http://169.254.170.23/v1/credentials", "http://127.0.0.1:8080/c", "http://[::1]:9/c",
        "http://localhost/c", "https://creds.example/c", "http://[fd00:ec2::23]/v1/credentials"}) {
    ScopedEnv env(Env(home.path(), {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url},
                                    {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/t"}}));
    auto found = FindAwsCredentials("");
    ASSERT_TRUE(found.ok()) << url << ": " << found.error().ToString();
    EXPECT_EQ(std::get<AwsContainerEndpoint>(found->source).url, url);
    EXPECT_EQ(std::get<AwsContainerEndpoint>(found->source).authorization_file, "/var/run/t");
  }
  for (const std::string url : {"http://creds.example/c", "http://127.0.0.1@evil.example/c",
                                "http://169.254.169.254/latest"}) {
    ScopedEnv env(Env(home.path(), {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", url}}));
    auto found = FindAwsCredentials("");
    ASSERT_FALSE(found.ok()) << url;
    EXPECT_EQ(found.error().message(),
              "AWS_CONTAINER_CREDENTIALS_FULL_URI " + url +
                  " must use https, or name a loopback address or 169.254.170.2, "
                  "169.254.170.23 or fd00:ec2::23");
  }
  // Keys of the default profile come first.
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/credentials", kCredentials);
  ScopedEnv env(Env(home.path(), {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/c"}}));
  EXPECT_EQ(Keys(FindAwsCredentials("")).access_key, "DEFAULTKEY");
}

TEST(AwsCredentialsTest, ErrorsSayWhereTheyLooked) {
  TempDir home;
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/credentials", kCredentials);
  ScopedEnv env(Env(home.path()));
  auto missing = FindAwsCredentials("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message(), "no AWS credentials: profile \"nope\" is in neither " +
                                           home.Path(".aws/credentials") + " nor " +
                                           home.Path(".aws/config"));
  auto keyless = FindAwsCredentials("empty");
  ASSERT_FALSE(keyless.ok());
  EXPECT_EQ(keyless.error().message(),
            "profile \"empty\" has no aws_access_key_id and aws_secret_access_key in " +
                home.Path(".aws/credentials") + " or " + home.Path(".aws/config"));

  TempDir bare;
  ScopedEnv bare_env(
      Env(bare.path(), {{"AWS_ACCESS_KEY_ID", "ONLYKEY"}, {"AWS_EC2_METADATA_DISABLED", "true"}}));
  auto none = FindAwsCredentials("");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(),
            "no AWS credentials: neither AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY nor "
            "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE are set, nor a container's endpoint, "
            "AWS_EC2_METADATA_DISABLED turns off the instance metadata service, "
            "and profile \"default\" is in neither " +
                bare.Path(".aws/credentials") + " nor " + bare.Path(".aws/config"));
}

// Last, an EC2 instance's metadata service, where the SDK would look for it; never for a
// named profile.
TEST(AwsCredentialsTest, InstanceMetadata) {
  TempDir home;
  auto endpoint = [](const base::Result<AwsCredentialChain>& found) -> std::string {
    if (!found.ok()) return found.error().message();
    const auto* imds = std::get_if<AwsInstanceMetadata>(&found->source);
    return imds != nullptr ? imds->endpoint : "not the instance metadata service";
  };
  {
    ScopedEnv env(Env(home.path()));
    EXPECT_EQ(endpoint(FindAwsCredentials("")), "http://169.254.169.254");
    EXPECT_FALSE(FindAwsCredentials("named").ok());
  }
  for (const auto& [vars, want] : std::vector<std::pair<std::vector<ScopedEnv::Var>, std::string>>{
           {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "ipv6"}}, "http://[fd00:ec2::254]"},
           {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv4"}}, "http://169.254.169.254"},
           {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8/"},
             {"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}},
            "http://127.0.0.1:8"},
           {{{"AWS_EC2_METADATA_DISABLED", "false"}}, "http://169.254.169.254"},
           {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "169.254.169.254"}},
            "AWS_EC2_METADATA_SERVICE_ENDPOINT 169.254.169.254 is not an http or https URL"},
           {{{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "dual"}},
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE dual is neither IPv4 nor IPv6"},
       }) {
    ScopedEnv env(Env(home.path(), vars));
    EXPECT_EQ(endpoint(FindAwsCredentials("")), want) << vars[0].first;
  }
  // The container's endpoint comes first.
  ScopedEnv env(Env(home.path(), {{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/c"}}));
  EXPECT_EQ(endpoint(FindAwsCredentials("")), "not the instance metadata service");
}

const char kRoleConfig[] =
    "[profile chain]\n"
    "role_arn = arn:aws:iam::2:role/second\n"
    "source_profile = first\n"
    "external_id = ext-2\n"
    "[profile first]\n"
    "role_arn = arn:aws:iam::1:role/first\n"
    "source_profile = default\n"
    "role_session_name = me\n"
    "[profile self]\n"
    "role_arn = arn:aws:iam::3:role/self\n"
    "source_profile = self\n"
    "aws_access_key_id = SELFKEY\n"
    "aws_secret_access_key = self-secret\n"
    "[profile keys-and-role]\n"
    "aws_access_key_id = KRKEY\n"
    "aws_secret_access_key = kr-secret\n"
    "role_arn = arn:aws:iam::4:role/kr\n"
    "[profile on-ec2]\n"
    "role_arn = arn:aws:iam::5:role/ec2\n"
    "credential_source = Ec2InstanceMetadata\n"
    "[profile from-env]\n"
    "role_arn = arn:aws:iam::6:role/env\n"
    "credential_source = Environment\n"
    "[profile in-ecs]\n"
    "role_arn = arn:aws:iam::7:role/ecs\n"
    "credential_source = EcsContainer\n"
    "[profile web]\n"
    "role_arn = arn:aws:iam::8:role/web\n"
    "web_identity_token_file = /var/run/token\n"
    "role_session_name = w\n"
    "[profile loop-a]\n"
    "role_arn = arn:aws:iam::9:role/a\n"
    "source_profile = loop-b\n"
    "[profile loop-b]\n"
    "role_arn = arn:aws:iam::9:role/b\n"
    "source_profile = loop-a\n"
    "[profile both]\n"
    "role_arn = arn:aws:iam::9:role/both\n"
    "source_profile = default\n"
    "credential_source = Environment\n"
    "[profile odd-source]\n"
    "role_arn = arn:aws:iam::9:role/odd\n"
    "credential_source = Somewhere\n"
    "[profile lost]\n"
    "role_arn = arn:aws:iam::9:role/lost\n"
    "source_profile = missing\n"
    "[profile bare-role]\n"
    "role_arn = arn:aws:iam::9:role/bare\n";

// A profile's role_arn is assumed over its source_profile (followed through other roles), its
// own keys, its credential_source, or with its web identity token, as the SDK does.
TEST(AwsCredentialsTest, ProfileRoles) {
  TempDir home;
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/credentials", kCredentials);
  home.Write(".aws/config", kRoleConfig);
  // What a profile leads to: where the first keys come from, then the roles assumed.
  auto chain = [](const std::string& profile) {
    const base::Result<AwsCredentialChain> found = FindAwsCredentials(profile);
    if (!found.ok()) return found.error().message();
    std::string out;
    if (const auto* keys = std::get_if<net::AwsKeys>(&found->source)) {
      out = "keys " + keys->access_key;
    } else if (const auto* imds = std::get_if<AwsInstanceMetadata>(&found->source)) {
      out = "instance " + imds->endpoint;
    } else if (const auto* container = std::get_if<AwsContainerEndpoint>(&found->source)) {
      out = "container " + container->url;
    } else {
      const auto& web = std::get<AwsRoleWithWebIdentity>(found->source);
      out = "web identity " + web.role_arn + " with " + web.token_file + " as " + web.session_name;
    }
    for (const AwsAssumedRole& r : found->roles) {
      // Generated session names (the time) show as *.
      out += "; " + r.role_arn + " as " + (r.session_name.size() > 2 ? "*" : r.session_name) +
             (r.external_id.empty() ? "" : " for " + r.external_id);
    }
    return out;
  };
  {
    ScopedEnv env(Env(home.path()));
    for (const auto& [profile, want] : std::vector<std::pair<std::string, std::string>>{
             {"chain",
              "keys DEFAULTKEY; arn:aws:iam::1:role/first as me; arn:aws:iam::2:role/second as "
              "* for ext-2"},
             {"self", "keys SELFKEY; arn:aws:iam::3:role/self as *"},
             {"keys-and-role", "keys KRKEY; arn:aws:iam::4:role/kr as *"},
             {"on-ec2", "instance http://169.254.169.254; arn:aws:iam::5:role/ec2 as *"},
             {"web", "web identity arn:aws:iam::8:role/web with /var/run/token as w"},
         }) {
      EXPECT_EQ(chain(profile), want) << profile;
    }
    const std::string credentials = home.Path(".aws/credentials");
    const std::string config = home.Path(".aws/config");
    for (const auto& [profile, want] : std::vector<std::pair<std::string, std::string>>{
             {"from-env",
              "\"from-env\" has credential_source Environment, but AWS_ACCESS_KEY_ID and "
              "AWS_SECRET_ACCESS_KEY are not set"},
             {"in-ecs",
              "\"in-ecs\" has credential_source EcsContainer, but no container's endpoint is "
              "set"},
             {"loop-a", "\"loop-b\" has source_profile \"loop-a\", which leads back to it"},
             {"both", "\"both\" has both source_profile and credential_source"},
             {"odd-source",
              "\"odd-source\" has credential_source \"Somewhere\", which is neither "
              "Environment, Ec2InstanceMetadata nor EcsContainer"},
             {"lost", "\"lost\" has source_profile \"missing\", which is in neither " +
                          credentials + " nor " + config},
             {"bare-role",
              "\"bare-role\" has no aws_access_key_id and aws_secret_access_key in " + credentials +
                  " or " + config +
                  ", nor a source_profile, credential_source or web_identity_token_file for "
                  "its role_arn"},
         }) {
      EXPECT_EQ(chain(profile), "profile " + want);
    }
  }
  ScopedEnv env(Env(home.path(), {{"AWS_ACCESS_KEY_ID", "ENVKEY"},
                                  {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                  {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1/c"}}));
  EXPECT_EQ(chain("from-env"), "keys ENVKEY; arn:aws:iam::6:role/env as *");
  EXPECT_EQ(chain("in-ecs"), "container http://127.0.0.1/c; arn:aws:iam::7:role/ecs as *");
}

TEST(AwsCredentialsTest, Region) {
  TempDir home;
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/config", kConfig);
  {
    ScopedEnv env(Env(home.path()));
    EXPECT_EQ(FindAwsRegion(""), "us-east-2");
    EXPECT_EQ(FindAwsRegion("prod"), "eu-central-1");
    EXPECT_EQ(FindAwsRegion("cfg"), "");
  }
  {
    ScopedEnv env(Env(home.path(), {{"AWS_DEFAULT_REGION", "ap-south-1"}}));
    EXPECT_EQ(FindAwsRegion("prod"), "ap-south-1");
  }
  ScopedEnv env(
      Env(home.path(), {{"AWS_DEFAULT_REGION", "ap-south-1"}, {"AWS_REGION", "sa-east-1"}}));
  EXPECT_EQ(FindAwsRegion(""), "sa-east-1");
}

}  // namespace
}  // namespace starling::components
