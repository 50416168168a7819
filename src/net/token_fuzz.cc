// Arbitrary token endpoint responses (the server is not trusted), as OAuth 2.0 JSON and form
// answers, Azure managed identity answers, and AWS STS, container and instance credentials
// answers: parsing must never crash, and what it accepts must have an access token or keys.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/aws_keys.h"
#include "net/azure_identity.h"
#include "net/oauth2.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const auto now = std::chrono::steady_clock::now();
  for (std::string_view type : {"application/json", "application/x-www-form-urlencoded"}) {
    auto token = starling::net::ParseOAuth2TokenResponse(type, body, now);
    if (token.ok() && token->access_token.empty()) std::abort();
  }
  auto identity =
      starling::net::ParseManagedIdentityToken(body, now, std::chrono::system_clock::now());
  if (identity.ok() && identity->access_token.empty()) std::abort();
  for (auto parse : {starling::net::ParseStsCredentials, starling::net::ParseContainerCredentials,
                     starling::net::ParseInstanceCredentials}) {
    auto keys = parse(body, now, std::chrono::system_clock::now());
    if (keys.ok() && (keys->keys.access_key.empty() || keys->keys.secret_key.empty())) {
      std::abort();
    }
  }
  return 0;
}
