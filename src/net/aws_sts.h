#pragma once

// Temporary AWS keys of a role, from AWS STS, as the AWS SDKs assume roles: with
// AssumeRoleWithWebIdentity for a Kubernetes service account (EKS's IAM roles for service
// accounts), whose token is read from its file at each fetch as Kubernetes rotates it, or with
// AssumeRole signed with other keys. The role's keys are cached and fetched again 5 minutes
// before they expire. A token source (see token_source.h) for SigV4 configs: its credential
// is the three keys, one per line, and it puts them on each request as ClientRequest::aws_keys.

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/http_client.h"
#include "net/token_source.h"

namespace starling::net {

struct StsCredentials {
  AwsKeys keys;
  TokenSource::Clock::time_point expiry;
};

// Reads the Credentials of an STS answer (XML): AccessKeyId, SecretAccessKey, SessionToken and
// Expiration (ISO 8601, UTC). The expiry is on the steady clock: `now` there, `system_now` on
// the wall clock.
base::Result<StsCredentials> ParseStsCredentials(std::string_view xml,
                                                 TokenSource::Clock::time_point now,
                                                 std::chrono::system_clock::time_point system_now);

class AwsStsRole final : public TokenSource {
 public:
  struct Options {
    std::string role_arn;
    std::string session_name;
    std::string sts_url;  // "https://sts.<region>.amazonaws.com/"
    // A web identity: the file of its token. Empty: AssumeRole, signed with `keys` for STS in
    // `region`.
    std::string token_file;
    AwsKeys keys;
    std::string region;
    // How to reach STS: TLS and proxy settings.
    std::shared_ptr<const ClientConfig> config;
  };

  explicit AwsStsRole(Options options);

  std::optional<std::string> Cached(Clock::time_point now) const override;
  void Apply(const std::string& credential, ClientRequest* request) const override;
  // Fails when a web identity's token file cannot be read.
  base::Result<ClientRequest> TokenRequest(bool retry,
                                           std::chrono::milliseconds timeout) const override;
  // Errors read "sts: cannot fetch token: ...".
  base::Result<std::string> Accept(bool retry, const base::Result<ClientResponse>& response,
                                   Clock::time_point now) override;

 private:
  const Options options_;
  // options_.config, signing with options_.keys for AssumeRole.
  std::shared_ptr<const ClientConfig> request_config_;
  mutable std::mutex mu_;
  std::optional<StsCredentials> credentials_;  // guarded by mu_
};

}  // namespace starling::net
