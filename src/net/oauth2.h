#pragma once

// OAuth 2.0 client credentials (RFC 6749 section 4.4) for the HTTP client, as Prometheus's
// HTTP client config does it with Go's clientcredentials package: a token is fetched from the
// token URL with the client's id and secret, cached, and sent as the Authorization header of
// every request until 10 s before it expires.
//
// The client id and secret go in a Basic Authorization header first; if the token server
// refuses that, in the form body instead, and the style that worked is kept (Go's
// AuthStyleAutoDetect).
//
// The source only builds token requests and reads their responses; the HttpClient runs them
// (see token_source.h). Thread-safe.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/http.h"
#include "net/token_source.h"

namespace starling::net {

struct ClientConfig;

// A token as the server issued it.
struct OAuth2Token {
  std::string access_token;
  std::string type;  // "Bearer" unless the server said otherwise
  // When the token expires; none: it does not.
  std::optional<std::chrono::steady_clock::time_point> expiry;
};

// Reads a token endpoint's successful response: JSON, or a form-encoded body when the
// Content-Type says application/x-www-form-urlencoded or text/plain (as Go's oauth2 package).
base::Result<OAuth2Token> ParseOAuth2TokenResponse(std::string_view content_type,
                                                   std::string_view body,
                                                   std::chrono::steady_clock::time_point now);

class OAuth2TokenSource final : public TokenSource {
 public:
  struct Options {
    std::string client_id;
    std::string client_secret;
    std::vector<std::string> scopes;
    std::string token_url;
    std::map<std::string, std::string> endpoint_params;
    // How to reach the token URL: TLS and proxy settings (no authentication of its own).
    std::shared_ptr<const ClientConfig> config;
  };
  explicit OAuth2TokenSource(Options options);

  std::optional<std::string> Cached(Clock::time_point now) const override;
  // The client id and secret go in a Basic header, or at step 1 (the retry) in the form body.
  base::Result<ClientRequest> TokenRequest(int step,
                                           std::chrono::milliseconds timeout) const override;
  // Also returns a token that expires within 10 s (it is used once). Errors read "oauth2:
  // cannot fetch token: ...".
  base::Result<std::string> Accept(int step, const base::Result<ClientResponse>& response,
                                   Clock::time_point now) override;
  // True after the first style failed while no style is known to work.
  bool NextStep(int step, const base::Result<std::string>& accepted) const override;

 private:
  enum class Style { kUnknown, kHeader, kParams };

  const Options options_;
  // options_.config with the client's id and secret as Basic credentials.
  std::shared_ptr<const ClientConfig> header_config_;
  mutable std::mutex mu_;
  Style style_ = Style::kUnknown;     // guarded by mu_
  std::optional<OAuth2Token> token_;  // guarded by mu_
};

}  // namespace starling::net
