#include "net/azure_identity.h"

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>

#include "net/http_client.h"

namespace starling::net {
namespace {

base::Status TokenError(const std::string& message) {
  return base::Status::Unavailable("azuread: cannot fetch token: " + message);
}

// A JSON number or a string of digits, as the endpoints send either.
std::optional<std::int64_t> Seconds(const nlohmann::json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (!it->is_string()) return std::nullopt;
  const std::string& s = it->get_ref<const std::string&>();
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

base::Result<ManagedIdentityToken> ParseManagedIdentityToken(
    std::string_view body, TokenSource::Clock::time_point now,
    std::chrono::system_clock::time_point system_now) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return TokenError("the response is not a JSON object");
  ManagedIdentityToken t;
  if (const auto it = j.find("access_token"); it != j.end() && it->is_string()) {
    t.access_token = it->get<std::string>();
  }
  if (t.access_token.empty()) return TokenError("the response has no access_token");
  t.type = "Bearer";
  if (const auto it = j.find("token_type");
      it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
    t.type = it->get<std::string>();
  }
  if (std::optional<std::int64_t> on = Seconds(j, "expires_on")) {
    t.expiry = ExpiryAt(*on, now, system_now);
  } else if (std::optional<std::int64_t> in = Seconds(j, "expires_in")) {
    t.expiry = ExpiryIn(*in, now);
  } else {
    return TokenError("the response has no expires_on or expires_in");
  }
  return t;
}

std::optional<std::string> AzureManagedIdentity::Cached(Clock::time_point now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (!token_.has_value() || token_->expiry - kCloudRefreshMargin < now) return std::nullopt;
  return token_->type + " " + token_->access_token;
}

base::Result<ClientRequest> AzureManagedIdentity::TokenRequest(
    int /*step*/, std::chrono::milliseconds timeout) const {
  const bool app_service = !options_.identity_endpoint.empty();
  ClientRequest r;
  r.url = app_service ? options_.identity_endpoint : options_.metadata_url;
  r.url += r.url.find('?') == std::string::npos ? '?' : '&';
  r.url += app_service ? "api-version=2019-08-01" : "api-version=2018-02-01";
  if (!options_.client_id.empty()) {
    r.url += "&client_id=";
    QueryEscape(options_.client_id, &r.url);
  }
  r.url += "&resource=";
  QueryEscape(options_.resource, &r.url);
  if (app_service) {
    r.headers.push_back({"X-IDENTITY-HEADER", options_.identity_header});
  } else {
    r.headers.push_back({"Metadata", "true"});
  }
  r.timeout = timeout;
  return r;  // default config: the identity endpoints are local and never proxied
}

base::Result<std::string> AzureManagedIdentity::Accept(int /*step*/,
                                                       const base::Result<ClientResponse>& response,
                                                       Clock::time_point now) {
  RETURN_IF_ERROR(FailedTokenFetch("azuread", response));
  ASSIGN_OR_RETURN(
      ManagedIdentityToken token,
      ParseManagedIdentityToken(response->body, now, std::chrono::system_clock::now()));
  std::lock_guard<std::mutex> lock(mu_);
  token_ = std::move(token);
  return token_->type + " " + token_->access_token;
}

}  // namespace starling::net
