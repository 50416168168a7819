#pragma once

// The HTTP client arguments components share (prometheus.scrape, prometheus.remote_write's
// `endpoint`, discovery.http): Alloy's http client config as it appears directly in a
// component body, its decoder with Alloy's checks, and the conversion to a net::ClientConfig.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "component/component.h"
#include "net/http_client.h"

namespace starling::components {

// Decoded, not yet resolved: secret files are named here and read by BuildClientConfig.
struct HttpClientArgs {
  struct BasicAuth {
    std::string username;
    component::Secret password;
    std::string password_file;
    friend bool operator==(const BasicAuth&, const BasicAuth&) = default;
  };
  struct Authorization {
    std::string type = "Bearer";
    component::Secret credentials;
    std::string credentials_file;
    friend bool operator==(const Authorization&, const Authorization&) = default;
  };
  struct Tls {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string server_name;
    bool insecure_skip_verify = false;
    std::string ca_pem;
    std::string cert_pem;
    component::Secret key_pem;
    std::string min_version;  // "TLS10" to "TLS13"; empty: TLS 1.2, as Go's default
    friend bool operator==(const Tls&, const Tls&) = default;
  };
  // OAuth 2.0 client credentials: a token from token_url for every request.
  struct OAuth2 {
    std::string client_id;
    component::Secret client_secret;
    std::string client_secret_file;
    std::vector<std::string> scopes;
    std::string token_url;
    std::map<std::string, std::string> endpoint_params;
    // For the token URL.
    std::string proxy_url;
    std::string no_proxy;
    bool proxy_from_environment = false;
    std::map<std::string, std::vector<component::Secret>> proxy_connect_header;
    std::optional<Tls> tls_config;
    friend bool operator==(const OAuth2&, const OAuth2&) = default;
  };
  // AWS Signature Version 4 (prometheus.remote_write's endpoints only): empty keys are looked
  // up as the AWS SDK does (see aws_credentials.h).
  struct SigV4 {
    std::string region;
    std::string access_key;
    component::Secret secret_key;
    std::string profile;
    std::string role_arn;
    friend bool operator==(const SigV4&, const SigV4&) = default;
  };
  // Azure AD through a managed identity (prometheus.remote_write's endpoints only).
  struct AzureAd {
    std::string client_id;  // of the managed identity
    std::string cloud = "AzurePublic";
    friend bool operator==(const AzureAd&, const AzureAd&) = default;
  };
  component::Secret bearer_token;
  std::string bearer_token_file;
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  std::optional<OAuth2> oauth2;
  std::optional<SigV4> sigv4;
  std::optional<AzureAd> azuread;
  std::optional<Tls> tls_config;
  bool follow_redirects = true;
  bool enable_http2 = true;
  std::string proxy_url;
  std::string no_proxy;
  bool proxy_from_environment = false;
  std::map<std::string, std::vector<component::Secret>> proxy_connect_header;
  friend bool operator==(const HttpClientArgs&, const HttpClientArgs&) = default;
};

// Decodes the client attributes and blocks (bearer_token, bearer_token_file, basic_auth,
// authorization, oauth2, tls_config, proxy_url, no_proxy, proxy_from_environment,
// proxy_connect_header, follow_redirects, enable_http2) from `d`, leaving
// the others to the caller, and reports Alloy's validation errors at the offending attribute or
// block. Fields not present keep their values in *args.
void DecodeHttpClientArgs(component::ArgDecoder& d, HttpClientArgs* args);

// Decodes the `sigv4` and `azuread` blocks of a remote_write endpoint into args, with the
// Agent's checks; after DecodeHttpClientArgs, whose authentication they exclude.
void DecodeCloudAuthBlocks(component::ArgDecoder& d, HttpClientArgs* args);

// The client config for `args`, with password, credential and token files read now (their
// content trimmed of surrounding whitespace), TLS files checked for readability, SigV4
// credentials and region found, and an Azure managed identity's endpoint taken from the
// environment. An error names the file that could not be read.
base::Result<std::shared_ptr<const net::ClientConfig>> BuildClientConfig(
    const HttpClientArgs& args);

}  // namespace starling::components
