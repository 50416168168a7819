#pragma once

// Where the HttpClient gets credentials that expire: bearer tokens for a request's
// Authorization header (OAuth 2.0 client credentials, an Azure managed identity) or temporary
// AWS keys to sign it with. The source caches its credential and builds the requests that
// fetch a new one and reads their answers; the client runs them, one fetch per source at a
// time, and has the source apply the credential to each request (see http_client.h).
// Implementations are thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace starling::net {

struct ClientConfig;
struct ClientRequest;
struct ClientResponse;

class TokenSource {
 public:
  using Clock = std::chrono::steady_clock;

  virtual ~TokenSource() = default;

  // The cached credential while it is valid at `now`.
  virtual std::optional<std::string> Cached(Clock::time_point now) const = 0;
  // Puts a credential (from Cached or Accept) on a request: by default as its Authorization
  // header.
  virtual void Apply(const std::string& credential, ClientRequest* request) const;
  // The request of step `step` (from 0) of fetching a new credential, within `timeout` (that
  // of the request waiting for it), or why it cannot be made; either goes to Accept.
  virtual base::Result<ClientRequest> TokenRequest(int step,
                                                   std::chrono::milliseconds timeout) const = 0;
  // Reads the answer to TokenRequest(step) (its error when it gave one). At the last step:
  // caches the credential and returns it, or the error to fail the waiting requests with.
  virtual base::Result<std::string> Accept(int step, const base::Result<ClientResponse>& response,
                                           Clock::time_point now) = 0;
  // Whether the fetch goes on with step + 1 after Accept(step) gave `accepted`: for sources
  // that fetch in several requests, or try again in another way.
  virtual bool NextStep(int /*step*/, const base::Result<std::string>& /*accepted*/) const {
    return false;
  }
};

// A POST of `fields` form-encoded in their order (keys and values escaped as Go's
// url.Values.Encode does), as token endpoints take them.
ClientRequest FormPost(std::string url,
                       const std::vector<std::pair<std::string, std::string>>& fields,
                       std::chrono::milliseconds timeout,
                       std::shared_ptr<const ClientConfig> config);

// Cloud providers' SDKs fetch credentials again this long before they expire.
inline constexpr std::chrono::minutes kCloudRefreshMargin{5};

// When credentials a server issued expire, on the steady clock (`now` there): after `seconds`
// (ExpiryIn) or at the Unix time `unix_seconds` (ExpiryAt; `system_now` on the wall clock).
// Bounded to a year either way, so that no answer overflows the clock.
TokenSource::Clock::time_point ExpiryIn(std::int64_t seconds, TokenSource::Clock::time_point now);
TokenSource::Clock::time_point ExpiryAt(std::int64_t unix_seconds,
                                        TokenSource::Clock::time_point now,
                                        std::chrono::system_clock::time_point system_now);

// For Accept: the error of a token request that failed in transport or got no 2xx answer,
// "<who>: cannot fetch token: <why>" (a cancellation as it is), else Ok.
base::Status FailedTokenFetch(std::string_view who, const base::Result<ClientResponse>& response);

}  // namespace starling::net
