#pragma once

// An Azure managed identity as a token source (see token_source.h), as Prometheus's azuread
// remote-write authentication gets its tokens: from the App Service identity endpoint when
// IDENTITY_ENDPOINT and IDENTITY_HEADER are set (App Service, Functions, Container Apps),
// else from the instance metadata service of the VM. Tokens are cached and fetched again
// 5 minutes before they expire.

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/token_source.h"

namespace starling::net {

// Reads a managed identity endpoint's JSON answer: access_token, and expires_on (Unix
// seconds) or else expires_in (seconds), each a number or a string of digits. The expiry is
// on the steady clock: `now` there, `system_now` on the wall clock.
struct ManagedIdentityToken {
  std::string access_token;
  std::string type;
  TokenSource::Clock::time_point expiry;
};
base::Result<ManagedIdentityToken> ParseManagedIdentityToken(
    std::string_view body, TokenSource::Clock::time_point now,
    std::chrono::system_clock::time_point system_now);

class AzureManagedIdentity final : public TokenSource {
 public:
  static constexpr std::string_view kInstanceMetadataUrl =
      "http://169.254.169.254/metadata/identity/oauth2/token";

  struct Options {
    // A user-assigned identity's client id; empty: the system-assigned identity.
    std::string client_id;
    // What the token is for: "https://monitor.azure.com/" for Azure Monitor.
    std::string resource;
    // The instance metadata endpoint (tests name another).
    std::string metadata_url = std::string(kInstanceMetadataUrl);
    // App Service's endpoint and secret header, from IDENTITY_ENDPOINT and IDENTITY_HEADER.
    std::string identity_endpoint;
    std::string identity_header;
  };

  explicit AzureManagedIdentity(Options options) : options_(std::move(options)) {}

  std::optional<std::string> Cached(Clock::time_point now) const override;
  base::Result<ClientRequest> TokenRequest(int step,
                                           std::chrono::milliseconds timeout) const override;
  // Errors read "azuread: cannot fetch token: ...".
  base::Result<std::string> Accept(int step, const base::Result<ClientResponse>& response,
                                   Clock::time_point now) override;

 private:
  const Options options_;
  mutable std::mutex mu_;
  std::optional<ManagedIdentityToken> token_;  // guarded by mu_
};

}  // namespace starling::net
