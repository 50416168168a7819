#pragma once

// discovery.http: targets from a Prometheus HTTP SD endpoint. Every refresh_interval the URL
// is fetched (GET, libcurl); the response must be 200 with a JSON content type and hold a list
// of {targets: [addresses], labels: {name: value}}. Each target gets __address__ and
// __meta_url. A failed fetch marks the component unhealthy and keeps the last targets.

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "component/component.h"
#include "components/common/targets.h"

namespace starling::components {

// The HTTP client options discovery.http supports (a subset of Alloy's http client block).
struct HttpClientArgs {
  struct BasicAuth {
    std::string username;
    component::Secret password;
    std::string password_file;
  };
  struct Authorization {
    std::string type = "Bearer";
    component::Secret credentials;
    std::string credentials_file;
  };
  struct Tls {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    bool insecure_skip_verify = false;
  };
  component::Secret bearer_token;
  std::string bearer_token_file;
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  std::optional<Tls> tls_config;
  bool follow_redirects = true;
  bool enable_http2 = true;
  std::string proxy_url;
};

struct DiscoveryHttpArgs {
  std::string url;
  std::chrono::nanoseconds refresh_interval = std::chrono::seconds(60);
  HttpClientArgs client;
};

void DecodeDiscoveryHttpArgs(component::ArgDecoder& d, DiscoveryHttpArgs* args);

// The targets of an HTTP SD response body with the given Content-Type header value; `url`
// becomes __meta_url.
base::Result<std::vector<Target>> ParseHttpSd(const std::string& url,
                                              const std::string& content_type,
                                              const std::string& body);

// One fetch of args.url (timeout: refresh_interval), parsed. Returns early (Cancelled) once
// `stop` is requested.
base::Result<std::vector<Target>> FetchHttpSd(const DiscoveryHttpArgs& args,
                                              std::stop_token stop = {});

component::Registration DiscoveryHttpRegistration();

}  // namespace starling::components
