#include "base/testing.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace starling::base::testing {
namespace {

std::optional<std::string> Get(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::nullopt : std::optional<std::string>(v);
}

// A variable unset and then set in one ScopedEnv (a list of defaults, then a test's values)
// gets back its value from before.
TEST(ScopedEnvTest, RestoresVariablesGivenTwice) {
  ::setenv("STARLING_SCOPED_ENV_TEST", "before", 1);
  {
    ScopedEnv env({{"STARLING_SCOPED_ENV_TEST", std::nullopt},
                   {"STARLING_SCOPED_ENV_TEST", std::string("during")},
                   {"STARLING_SCOPED_ENV_UNSET", std::string("x")}});
    EXPECT_EQ(Get("STARLING_SCOPED_ENV_TEST"), "during");
    EXPECT_EQ(Get("STARLING_SCOPED_ENV_UNSET"), "x");
  }
  EXPECT_EQ(Get("STARLING_SCOPED_ENV_TEST"), "before");
  EXPECT_EQ(Get("STARLING_SCOPED_ENV_UNSET"), std::nullopt);
  ::unsetenv("STARLING_SCOPED_ENV_TEST");
}

}  // namespace
}  // namespace starling::base::testing
