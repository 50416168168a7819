#include "components/discovery/http/discovery_http.h"

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <utility>

#include "components/common/refresh.h"
#include "model/labels.h"

namespace starling::components {
namespace {

// Go's seconds formatting of a duration ('f', -1): "60", "0.5".
std::string FormatSeconds(std::chrono::nanoseconds d) {
  std::ostringstream ss;
  ss.precision(15);
  ss << std::chrono::duration<double>(d).count();
  return ss.str();
}

// Fetches the endpoint each refresh; a failed fetch keeps the last targets.
class DiscoveryHttp final : public RefreshingDiscovery<DiscoveryHttpArgs> {
 public:
  using RefreshingDiscovery::RefreshingDiscovery;

 private:
  void Refresh(const DiscoveryHttpArgs& args, const std::stop_token& stop) override {
    base::Result<std::vector<Target>> got = FetchHttpSd(client_, args, stop);
    if (stop.stop_requested()) return;
    if (!got.ok()) {
      opts_.logger.Error("Unable to refresh targets from {}: {}", args.url, got.error().message());
      Publish(std::nullopt, got.error().message());
      return;
    }
    Publish(*got, "");
  }

  net::HttpClient client_;
};

}  // namespace

void DecodeDiscoveryHttpArgs(component::ArgDecoder& d, DiscoveryHttpArgs* args) {
  if (d.Required("url", &args->url)) {
    std::size_t sep = args->url.find("://");
    std::string scheme = sep == std::string::npos ? "" : args->url.substr(0, sep);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    if (scheme != "http" && scheme != "https") {
      d.AddError("url", "URL scheme must be 'http' or 'https'");
    } else {
      std::string rest = args->url.substr(sep + 3);
      std::string host = rest.substr(0, rest.find_first_of("/?#"));
      if (host.empty()) d.AddError("url", "host is missing in URL");
    }
  }
  if (d.Optional("refresh_interval", &args->refresh_interval) &&
      args->refresh_interval <= std::chrono::nanoseconds::zero()) {
    d.AddError("refresh_interval", "refresh_interval must be greater than 0");
  }
  DecodeHttpClientArgs(d, &args->client);
}

base::Result<std::vector<Target>> ParseHttpSd(const std::string& url,
                                              const std::string& content_type,
                                              const std::string& body) {
  static const std::regex kJson("^application/json(;.*)?$");
  std::string ct = content_type;
  const char* ws = " \t\r\n";
  std::size_t b = ct.find_first_not_of(ws);
  ct = b == std::string::npos ? "" : ct.substr(b, ct.find_last_not_of(ws) - b + 1);
  if (!std::regex_match(ct, kJson)) {
    return base::Status::InvalidArgument("unsupported content type \"" + content_type + "\"");
  }
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return base::Status::InvalidArgument("invalid JSON");
  if (!j.is_array()) return base::Status::InvalidArgument("expected a list of target groups");
  std::vector<Target> out;
  for (const auto& g : j) {
    if (g.is_null()) return base::Status::InvalidArgument("nil target group item found");
    if (!g.is_object()) return base::Status::InvalidArgument("a target group must be an object");
    Target labels;
    if (auto it = g.find("labels"); it != g.end() && !it->is_null()) {
      if (!it->is_object()) return base::Status::InvalidArgument("\"labels\" must be a map");
      for (const auto& [k, v] : it->items()) {
        if (!v.is_string()) {
          return base::Status::InvalidArgument("label \"" + k + "\" must be a string");
        }
        if (!model::IsValidLabelName(k)) {
          return base::Status::InvalidArgument("\"" + k + "\" is not a valid label name");
        }
        labels[k] = v.get<std::string>();
      }
    }
    labels["__meta_url"] = url;
    if (auto it = g.find("targets"); it != g.end() && !it->is_null()) {
      if (!it->is_array()) return base::Status::InvalidArgument("\"targets\" must be a list");
      for (const auto& t : *it) {
        if (!t.is_string()) return base::Status::InvalidArgument("a target must be a string");
        Target target = labels;
        target["__address__"] = t.get<std::string>();
        out.push_back(std::move(target));
      }
    }
  }
  return out;
}

base::Result<std::vector<Target>> FetchHttpSd(net::HttpClient& client,
                                              const DiscoveryHttpArgs& args,
                                              const std::stop_token& stop) {
  net::ClientRequest req;
  req.url = args.url;
  req.headers = {{"Accept", "application/json"},
                 {"X-Prometheus-Refresh-Interval-Seconds", FormatSeconds(args.refresh_interval)}};
  req.timeout =
      std::max(std::chrono::milliseconds(1),
               std::chrono::duration_cast<std::chrono::milliseconds>(args.refresh_interval));
  ASSIGN_OR_RETURN(req.config, BuildClientConfig(args.client));
  ASSIGN_OR_RETURN(net::ClientResponse resp, client.DoSync(std::move(req), stop));
  if (resp.status != 200) {
    return base::Status::Unavailable("server returned HTTP status " + resp.status_text);
  }
  return ParseHttpSd(args.url, std::string(resp.HeaderValue("Content-Type").value_or("")),
                     resp.body);
}

component::Registration DiscoveryHttpRegistration() {
  component::Registration r = component::MakeRegistration<DiscoveryHttpArgs>(
      "discovery.http", DecodeDiscoveryHttpArgs,
      [](const component::Options& o,
         const DiscoveryHttpArgs& a) -> base::Result<std::unique_ptr<component::Component>> {
        return std::unique_ptr<component::Component>(std::make_unique<DiscoveryHttp>(o, a));
      });
  r.exports = {{"targets", "list(map(string)): the targets the HTTP endpoint returned"}};
  return r;
}

}  // namespace starling::components
