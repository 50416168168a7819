#pragma once

// AWS credentials and region for SigV4 signing, found where the AWS SDK for Go looks for them:
// the environment (keys, a role to assume with a web identity token, a container's
// credentials endpoint), the shared credentials and config files, and an EC2 instance's
// metadata service.

#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "net/http_client.h"

namespace starling::components {

// A role to assume with a web identity token (EKS's IAM roles for service accounts), from
// AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_SESSION_NAME (else AwsSessionName).
struct AwsRoleWithWebIdentity {
  std::string role_arn;
  std::string token_file;
  std::string session_name;
};
// A container's credentials endpoint (ECS tasks, EKS Pod Identity): the URL of
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
// AWS_CONTAINER_CREDENTIALS_FULL_URI, and AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
// AWS_CONTAINER_AUTHORIZATION_TOKEN.
struct AwsContainerEndpoint {
  std::string url;
  std::string authorization;
  std::string authorization_file;
};
// An EC2 instance's metadata service: AWS_EC2_METADATA_SERVICE_ENDPOINT, else
// http://169.254.169.254, or http://[fd00:ec2::254] when AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
// is IPv6.
struct AwsInstanceMetadata {
  std::string endpoint;  // without a trailing slash
};
using AwsCredentials =
    std::variant<net::AwsKeys, AwsRoleWithWebIdentity, AwsContainerEndpoint, AwsInstanceMetadata>;

// A role a profile names (role_arn, role_session_name, external_id), to assume with AssumeRole.
struct AwsAssumedRole {
  std::string role_arn;
  std::string session_name;
  std::string external_id;
};
// What FindAwsCredentials finds: credentials, and the roles to assume in turn starting with
// them (each with the keys of the one before).
struct AwsCredentialChain {
  AwsCredentials source;
  std::vector<AwsAssumedRole> roles;
};

// For an empty `profile`: AWS_ACCESS_KEY_ID (or AWS_ACCESS_KEY) with AWS_SECRET_ACCESS_KEY (or
// AWS_SECRET_KEY) and AWS_SESSION_TOKEN, else the environment's web identity, else the
// profile named by AWS_PROFILE (or "default"), else the container's endpoint, else the
// instance metadata service unless AWS_EC2_METADATA_DISABLED is true. As the SDK, a FULL_URI
// over http must name a loopback address or the container endpoints' addresses.
// A named profile is looked for first (the SDK's order when a profile is configured). A
// profile's settings come from the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
// ~/.aws/credentials), else from its section of the config file (AWS_CONFIG_FILE, else
// ~/.aws/config): keys, or a role_arn to assume over its source_profile, its
// credential_source (Environment, Ec2InstanceMetadata, EcsContainer) or its own keys, or with
// its web_identity_token_file. The error says where it looked.
base::Result<AwsCredentialChain> FindAwsCredentials(const std::string& profile);

// A session name for an assumed role: the time in nanoseconds, as the SDK makes it.
std::string AwsSessionName();

// AWS_REGION, else AWS_DEFAULT_REGION, else the region of the profile (as above) in the config
// file; empty when none is set.
std::string FindAwsRegion(const std::string& profile);

}  // namespace starling::components
