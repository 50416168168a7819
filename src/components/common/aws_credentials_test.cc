#include "components/common/aws_credentials.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
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
                                     {"AWS_PROFILE", std::nullopt},
                                     {"AWS_DEFAULT_PROFILE", std::nullopt},
                                     {"AWS_SHARED_CREDENTIALS_FILE", std::nullopt},
                                     {"AWS_CONFIG_FILE", std::nullopt},
                                     {"AWS_REGION", std::nullopt},
                                     {"AWS_DEFAULT_REGION", std::nullopt}};
  all.insert(all.end(), vars.begin(), vars.end());
  return all;
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
    auto c = FindAwsCredentials("");
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    EXPECT_EQ(c->access_key, "ENVKEY");
    EXPECT_EQ(c->secret_key, "env-secret");
    EXPECT_EQ(c->session_token, "env-token");
  }
  ScopedEnv env(Env(home.path(), {{"AWS_ACCESS_KEY", "OLDKEY"}, {"AWS_SECRET_KEY", "old-secret"}}));
  auto c = FindAwsCredentials("");
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->access_key, "OLDKEY");
  EXPECT_EQ(c->secret_key, "old-secret");
  EXPECT_EQ(c->session_token, "");
}

TEST(AwsCredentialsTest, SharedFileProfiles) {
  TempDir home;
  std::filesystem::create_directories(home.Path(".aws"));
  home.Write(".aws/credentials", kCredentials);
  home.Write(".aws/config", kConfig);
  {
    // Without keys in the environment: the default profile.
    ScopedEnv env(Env(home.path(), {{"AWS_ACCESS_KEY_ID", "ENVKEY"}}));
    auto c = FindAwsCredentials("");
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    EXPECT_EQ(c->access_key, "DEFAULTKEY");
    EXPECT_EQ(c->secret_key, "default/secret");
  }
  {
    // A configured profile comes before the environment's keys.
    ScopedEnv env(Env(home.path(),
                      {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}}));
    auto c = FindAwsCredentials("prod");
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    EXPECT_EQ(c->access_key, "PRODKEY");
    EXPECT_EQ(c->secret_key, "prod+secret");
    EXPECT_EQ(c->session_token, "prod-token");
  }
  {
    ScopedEnv env(Env(home.path(), {{"AWS_PROFILE", "prod"}}));
    auto c = FindAwsCredentials("");
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    EXPECT_EQ(c->access_key, "PRODKEY");
  }
  {
    // Keys in the config file's "profile <name>" section.
    ScopedEnv env(Env(home.path()));
    auto c = FindAwsCredentials("cfg");
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    EXPECT_EQ(c->access_key, "CFGKEY");
    EXPECT_EQ(c->secret_key, "cfg-secret");
  }
  {
    // Files named by the environment.
    TempDir elsewhere;
    const std::string file =
        elsewhere.Write("creds", "[default]\naws_access_key_id = K\naws_secret_access_key = S\n");
    ScopedEnv env(Env(home.path(), {{"AWS_SHARED_CREDENTIALS_FILE", file}}));
    auto c = FindAwsCredentials("");
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    EXPECT_EQ(c->access_key, "K");
  }
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
  ScopedEnv bare_env(Env(bare.path(), {{"AWS_ACCESS_KEY_ID", "ONLYKEY"}}));
  auto none = FindAwsCredentials("");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().message(),
            "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and "
            "profile \"default\" is in neither " +
                bare.Path(".aws/credentials") + " nor " + bare.Path(".aws/config"));
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
