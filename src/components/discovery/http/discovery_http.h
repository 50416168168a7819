#pragma once

// discovery.http: targets from a Prometheus HTTP SD endpoint. Every refresh_interval the URL
// is fetched (GET, net::HttpClient); the response must be 200 with a JSON content type and hold a
// list of {targets: [addresses], labels: {name: value}}. Each target gets __address__ and
// __meta_url. A failed fetch marks the component unhealthy and keeps the last targets.

#include <chrono>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "component/component.h"
#include "components/common/http_client.h"
#include "components/common/targets.h"
#include "net/http_client.h"

namespace starling::components {

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

// One fetch of args.url through `client` (timeout: refresh_interval), parsed. Returns early
// (Cancelled) once `stop` is requested.
base::Result<std::vector<Target>> FetchHttpSd(net::HttpClient& client,
                                              const DiscoveryHttpArgs& args,
                                              const std::stop_token& stop = {});

component::Registration DiscoveryHttpRegistration();

}  // namespace starling::components
