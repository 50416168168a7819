#pragma once

// Temporary AWS keys as token sources (see token_source.h) for SigV4 configs, fetched as the
// AWS SDKs fetch them: a role's from AWS STS (AwsStsRole), a container's from its
// credentials endpoint (AwsContainerCredentials: ECS tasks, EKS Pod Identity), or an EC2
// instance's from its instance metadata service (AwsInstanceCredentials). The keys are
// cached and fetched again 5 minutes before they expire; the credential is the three keys,
// one per line, and the source puts them on each request as ClientRequest::aws_keys.

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

struct ExpiringAwsKeys {
  AwsKeys keys;
  TokenSource::Clock::time_point expiry;
};

// Reads the Credentials of an STS answer (XML): AccessKeyId, SecretAccessKey, SessionToken and
// Expiration (ISO 8601, UTC). The expiry is on the steady clock: `now` there, `system_now` on
// the wall clock.
base::Result<ExpiringAwsKeys> ParseStsCredentials(std::string_view xml,
                                                  TokenSource::Clock::time_point now,
                                                  std::chrono::system_clock::time_point system_now);
// Reads a container credentials endpoint's answer (JSON): AccessKeyId, SecretAccessKey, Token
// and Expiration, as ParseStsCredentials.
base::Result<ExpiringAwsKeys> ParseContainerCredentials(
    std::string_view json, TokenSource::Clock::time_point now,
    std::chrono::system_clock::time_point system_now);
// Reads an instance role's keys from the instance metadata service (JSON): as
// ParseContainerCredentials, and its Code must be "Success" (else its Message is the error).
base::Result<ExpiringAwsKeys> ParseInstanceCredentials(
    std::string_view json, TokenSource::Clock::time_point now,
    std::chrono::system_clock::time_point system_now);

// What the sources share: the cache, and putting keys on requests.
class AwsTemporaryKeys : public TokenSource {
 public:
  std::optional<std::string> Cached(Clock::time_point now) const final;
  void Apply(const std::string& credential, ClientRequest* request) const final;

 protected:
  // For Accept: caches the keys an answer gave and returns the credential.
  base::Result<std::string> Keep(base::Result<ExpiringAwsKeys> keys);

 private:
  mutable std::mutex mu_;
  std::optional<ExpiringAwsKeys> keys_;  // guarded by mu_
};

// A role's keys: with AssumeRoleWithWebIdentity for a Kubernetes service account (EKS's IAM
// roles for service accounts), whose token is read from its file at each fetch as Kubernetes
// rotates it, or with AssumeRole signed with other keys, fixed or temporary.
class AwsStsRole final : public AwsTemporaryKeys {
 public:
  struct Options {
    std::string role_arn;
    std::string session_name;
    std::string external_id;  // AssumeRole's ExternalId, when set
    std::string sts_url;      // "https://sts.<region>.amazonaws.com/" (".com.cn" in China)
    // A web identity: the file of its token. Empty: AssumeRole, signed for STS in `region`
    // with `keys`, or with the temporary keys of `base` when set (another role's, a
    // container's, an instance's).
    std::string token_file;
    AwsKeys keys;
    std::shared_ptr<TokenSource> base;
    std::string region;
    // How to reach STS: TLS and proxy settings.
    std::shared_ptr<const ClientConfig> config;
  };

  explicit AwsStsRole(Options options);

  // Fails when a web identity's token file cannot be read.
  base::Result<ClientRequest> TokenRequest(int step,
                                           std::chrono::milliseconds timeout) const override;
  // Errors read "sts: cannot fetch token: ...".
  base::Result<std::string> Accept(int step, const base::Result<ClientResponse>& response,
                                   Clock::time_point now) override;

 private:
  const Options options_;
  // options_.config, signing with options_.keys for AssumeRole.
  std::shared_ptr<const ClientConfig> request_config_;
};

// A container's keys from the credentials endpoint its platform runs (ECS tasks, EKS Pod
// Identity), asked with the authorization token the platform gives it.
class AwsContainerCredentials final : public AwsTemporaryKeys {
 public:
  struct Options {
    std::string url;
    // The Authorization header: the content of authorization_file, read at each fetch (it is
    // rotated), else `authorization`; none when both are empty.
    std::string authorization;
    std::string authorization_file;
  };

  explicit AwsContainerCredentials(Options options) : options_(std::move(options)) {}

  // Fails when the authorization file cannot be read.
  base::Result<ClientRequest> TokenRequest(int step,
                                           std::chrono::milliseconds timeout) const override;
  // Errors read "container credentials: cannot fetch token: ...".
  base::Result<std::string> Accept(int step, const base::Result<ClientResponse>& response,
                                   Clock::time_point now) override;

 private:
  const Options options_;
};

// An EC2 instance's keys, those of its IAM role, from the instance metadata service (IMDS)
// in three requests as the SDK makes them: a session token (IMDSv2; skipped when the service
// refuses it with 403, 404 or 405, as where only IMDSv1 is on), the role's name, then its
// keys. Each request gives up after at most 5 s: the service is local, or absent off EC2.
class AwsInstanceCredentials final : public AwsTemporaryKeys {
 public:
  // `endpoint`: "http://169.254.169.254", or "http://[fd00:ec2::254]" over IPv6.
  explicit AwsInstanceCredentials(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  base::Result<ClientRequest> TokenRequest(int step,
                                           std::chrono::milliseconds timeout) const override;
  // Errors read "ec2 instance credentials: cannot fetch token: ...".
  base::Result<std::string> Accept(int step, const base::Result<ClientResponse>& response,
                                   Clock::time_point now) override;
  bool NextStep(int step, const base::Result<std::string>& accepted) const override;

 private:
  enum Step { kSessionToken, kRoleName, kKeys };

  const std::string endpoint_;
  mutable std::mutex fetch_mu_;
  // What the earlier steps of a fetch found; guarded by fetch_mu_. Fetches that overlap
  // (one per HttpClient::Session) find the same role, and either session token works.
  std::string session_token_;
  std::string role_;
};

}  // namespace starling::net
