#include "net/oauth2.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "net/http_client.h"

namespace starling::net {
namespace {

// Tokens count as expired this long before they do, so that none expires in flight (Go's
// oauth2 expiryDelta).
constexpr std::chrono::seconds kExpiryDelta{10};

std::string QueryEscaped(std::string_view s) {
  std::string out;
  QueryEscape(s, &out);
  return out;
}

// Go's Token.Type(): the scheme of the Authorization header.
std::string HeaderScheme(std::string_view type) {
  if (EqualsIgnoreCase(type, "bearer") || type.empty()) return "Bearer";
  if (EqualsIgnoreCase(type, "mac")) return "MAC";
  if (EqualsIgnoreCase(type, "basic")) return "Basic";
  return std::string(type);
}

// No expiry for 0, as in Go; bounded (see ExpiryIn), where Go's arithmetic would overflow.
std::optional<std::chrono::steady_clock::time_point> ExpiryAfter(
    std::int64_t seconds, std::chrono::steady_clock::time_point now) {
  if (seconds == 0) return std::nullopt;
  return ExpiryIn(seconds, now);
}

base::Status TokenError(std::string message) {
  return base::Status::Unavailable("oauth2: " + std::move(message));
}

}  // namespace

base::Result<OAuth2Token> ParseOAuth2TokenResponse(std::string_view content_type,
                                                   std::string_view body,
                                                   std::chrono::steady_clock::time_point now) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  OAuth2Token token;
  if (EqualsIgnoreCase(media, "application/x-www-form-urlencoded") ||
      EqualsIgnoreCase(media, "text/plain")) {
    token.access_token = FormValue(body, "access_token").value_or("");
    token.type = FormValue(body, "token_type").value_or("");
    // Go ignores an expires_in that is not a number.
    const std::string expires = FormValue(body, "expires_in").value_or("");
    std::int64_t expires_in = 0;
    std::from_chars(expires.data(), expires.data() + expires.size(), expires_in);
    token.expiry = ExpiryAfter(expires_in, now);
  } else {
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return TokenError("cannot parse json: the token response is not a JSON object");
    }
    auto text = [&](const char* key, std::string* out) -> base::Status {
      const auto it = j.find(key);
      if (it == j.end() || it->is_null()) return base::Status::Ok();
      if (!it->is_string()) {
        return TokenError(std::string("cannot parse json: ") + key + " is not a string");
      }
      *out = it->get<std::string>();
      return base::Status::Ok();
    };
    RETURN_IF_ERROR(text("access_token", &token.access_token));
    RETURN_IF_ERROR(text("token_type", &token.type));
    std::int64_t expires_in = 0;
    if (const auto it = j.find("expires_in"); it != j.end() && !it->is_null()) {
      if (it->is_number_integer()) {
        // Go reads it as an int32, saturating.
        expires_in = it->is_number_unsigned()
                         ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                               it->get<std::uint64_t>(), std::numeric_limits<std::int32_t>::max()))
                         : std::clamp<std::int64_t>(it->get<std::int64_t>(),
                                                    std::numeric_limits<std::int32_t>::min(),
                                                    std::numeric_limits<std::int32_t>::max());
      } else {
        return TokenError("cannot parse json: expires_in is not an integer");
      }
    }
    // A token that expired already (a negative expires_in) is used once, as in Go.
    token.expiry = ExpiryAfter(expires_in, now);
  }
  if (token.access_token.empty()) return TokenError("server response missing access_token");
  return token;
}

OAuth2TokenSource::OAuth2TokenSource(Options options) : options_(std::move(options)) {
  auto header = options_.config != nullptr ? std::make_shared<ClientConfig>(*options_.config)
                                           : std::make_shared<ClientConfig>();
  header->basic_auth = ClientConfig::BasicAuth{QueryEscaped(options_.client_id),
                                               QueryEscaped(options_.client_secret)};
  header_config_ = std::move(header);
}

std::optional<std::string> OAuth2TokenSource::Cached(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.has_value()) return std::nullopt;
  if (token_->expiry.has_value() && *token_->expiry - kExpiryDelta < now) return std::nullopt;
  return HeaderScheme(token_->type) + " " + token_->access_token;
}

base::Result<ClientRequest> OAuth2TokenSource::TokenRequest(
    int step, std::chrono::milliseconds timeout) const {
  bool in_params = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_params = step > 0 || style_ == Style::kParams;
  }
  // Go's url.Values.Encode: keys sorted, endpoint parameters added to (or replacing) these.
  std::map<std::string, std::string> form = {{"grant_type", "client_credentials"}};
  if (!options_.scopes.empty()) {
    std::string scope;
    for (const std::string& s : options_.scopes) scope += (scope.empty() ? "" : " ") + s;
    form["scope"] = std::move(scope);
  }
  for (const auto& [k, v] : options_.endpoint_params) form[k] = v;
  if (in_params) {
    form["client_id"] = options_.client_id;
    if (!options_.client_secret.empty()) form["client_secret"] = options_.client_secret;
  }
  return FormPost(options_.token_url, {form.begin(), form.end()}, timeout,
                  in_params ? options_.config : header_config_);
}

base::Result<std::string> OAuth2TokenSource::Accept(int step,
                                                    const base::Result<ClientResponse>& response,
                                                    Clock::time_point now) {
  base::Result<OAuth2Token> token = [&]() -> base::Result<OAuth2Token> {
    RETURN_IF_ERROR(FailedTokenFetch("oauth2", response));
    return ParseOAuth2TokenResponse(response->HeaderValue("Content-Type").value_or(""),
                                    response->body, now);
  }();
  std::lock_guard<std::mutex> lock(mu_);
  if (!token.ok()) return token.error();
  if (style_ == Style::kUnknown) style_ = step > 0 ? Style::kParams : Style::kHeader;
  token_ = std::move(*token);
  return HeaderScheme(token_->type) + " " + token_->access_token;
}

bool OAuth2TokenSource::NextStep(int step, const base::Result<std::string>& accepted) const {
  if (step > 0 || accepted.ok() || accepted.error().code() == base::StatusCode::kCancelled) {
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return style_ == Style::kUnknown;
}

}  // namespace starling::net
