#include "net/token_source.h"

#include <algorithm>

#include "net/http.h"
#include "net/http_client.h"

namespace starling::net {

void TokenSource::Apply(const std::string& credential, ClientRequest* request) const {
  request->headers.push_back({"Authorization", credential});
}

ClientRequest FormPost(std::string url,
                       const std::vector<std::pair<std::string, std::string>>& fields,
                       std::chrono::milliseconds timeout,
                       std::shared_ptr<const ClientConfig> config) {
  ClientRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  for (const auto& [k, v] : fields) {
    if (!r.body.empty()) r.body += '&';
    QueryEscape(k, &r.body);
    r.body += '=';
    QueryEscape(v, &r.body);
  }
  r.timeout = timeout;
  r.config = std::move(config);
  return r;
}

namespace {
constexpr std::int64_t kMaxLifetime = 366LL * 24 * 3600;  // seconds
}  // namespace

TokenSource::Clock::time_point ExpiryIn(std::int64_t seconds, TokenSource::Clock::time_point now) {
  return now + std::chrono::seconds(std::clamp(seconds, -kMaxLifetime, kMaxLifetime));
}

TokenSource::Clock::time_point ExpiryAt(std::int64_t unix_seconds,
                                        TokenSource::Clock::time_point now,
                                        std::chrono::system_clock::time_point system_now) {
  const std::int64_t wall =
      std::chrono::duration_cast<std::chrono::seconds>(system_now.time_since_epoch()).count();
  // Far past times first: subtracting them could overflow.
  if (unix_seconds < wall - kMaxLifetime) return ExpiryIn(-kMaxLifetime, now);
  return ExpiryIn(unix_seconds - wall, now);
}

base::Status FailedTokenFetch(std::string_view who, const base::Result<ClientResponse>& response) {
  const std::string prefix = std::string(who) + ": cannot fetch token: ";
  if (!response.ok()) {
    const base::Status& e = response.error();
    if (e.code() == base::StatusCode::kCancelled) return e;
    // A timeout stays one; whatever else failed may work on a later try.
    return {
        e.code() == base::StatusCode::kDeadlineExceeded ? e.code() : base::StatusCode::kUnavailable,
        prefix + e.message()};
  }
  if (response->status < 200 || response->status > 299) {
    return base::Status::Unavailable(prefix + response->status_text +
                                     "\nResponse: " + response->body);
  }
  return base::Status::Ok();
}

}  // namespace starling::net
