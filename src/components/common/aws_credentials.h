#pragma once

// AWS credentials and region for SigV4 signing, found where the AWS SDK for Go looks for them
// without calling AWS: the environment and the shared credentials and config files. Roles
// (STS), instance and container credentials and web identity tokens need AWS's services and
// are not looked for.

#include <string>

#include "base/status.h"

namespace starling::components {

struct AwsCredentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty for long-term keys
};

// For an empty `profile`: AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) with AWS_SECRET_ACCESS_KEY (or
// AWS_SECRET_KEY) and AWS_SESSION_TOKEN, else the profile named by AWS_PROFILE (or "default").
// A named profile is looked for first (the SDK's order when a profile is configured). A
// profile's keys come from the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials), else from its section of the config file (AWS_CONFIG_FILE, else
// ~/.aws/config). The error says where it looked.
base::Result<AwsCredentials> FindAwsCredentials(const std::string& profile);

// AWS_REGION, else AWS_DEFAULT_REGION, else the region of the profile (as above) in the config
// file; empty when none is set.
std::string FindAwsRegion(const std::string& profile);

}  // namespace starling::components
