#include "components/discovery/http/discovery_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <utility>

#include "components/common/refresh.h"
#include "model/labels.h"

namespace starling::components {
namespace {

// Reads a credentials file, trimming surrounding whitespace as Prometheus does.
base::Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::Status::NotFound("unable to read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  const char* ws = " \t\r\n";
  std::size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return std::string();
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Go's seconds formatting of a duration ('f', -1): "60", "0.5".
std::string FormatSeconds(std::chrono::nanoseconds d) {
  std::ostringstream ss;
  ss.precision(15);
  ss << std::chrono::duration<double>(d).count();
  return ss.str();
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  std::string body;
  std::string status_line;  // of the last response
  std::stop_token stop;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<Transfer*>(user)->body.append(data, size * n);
  return size * n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
  std::string_view line(data, size * n);
  if (line.substr(0, 5) == "HTTP/") {
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
    static_cast<Transfer*>(user)->status_line = std::string(line);
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<Transfer*>(user)->stop.stop_requested() ? 1 : 0;
}

// "404 Not Found" from "HTTP/1.1 404 Not Found", as Go's resp.Status reads.
std::string StatusText(const std::string& status_line, long code) {
  std::size_t sp = status_line.find(' ');
  if (sp == std::string::npos) return std::to_string(code);
  return status_line.substr(sp + 1);
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Fetches the endpoint each refresh; a failed fetch keeps the last targets.
class DiscoveryHttp final : public RefreshingDiscovery<DiscoveryHttpArgs> {
 public:
  using RefreshingDiscovery::RefreshingDiscovery;

 private:
  void Refresh(const DiscoveryHttpArgs& args, const std::stop_token& stop) override {
    base::Result<std::vector<Target>> got = FetchHttpSd(args, stop);
    if (stop.stop_requested()) return;
    if (!got.ok()) {
      opts_.logger.Error("Unable to refresh targets from {}: {}", args.url, got.error().message());
      Publish(std::nullopt, got.error().message());
      return;
    }
    Publish(*got, "");
  }
};

void DecodeClient(component::ArgDecoder& d, HttpClientArgs* c) {
  d.Optional("bearer_token", &c->bearer_token);
  d.Optional("bearer_token_file", &c->bearer_token_file);
  d.Optional("follow_redirects", &c->follow_redirects);
  d.Optional("enable_http2", &c->enable_http2);
  d.Optional("proxy_url", &c->proxy_url);
  bool has_basic = false, has_authz = false, has_tls = false;
  HttpClientArgs::BasicAuth basic;
  d.Block<HttpClientArgs::BasicAuth>(
      "basic_auth", &basic,
      [](component::ArgDecoder& bd, HttpClientArgs::BasicAuth* b) {
        bd.Optional("username", &b->username);
        bd.Optional("password", &b->password);
        bd.Optional("password_file", &b->password_file);
        if (!b->password.text.empty() && !b->password_file.empty()) {
          bd.AddError("password_file",
                      "at most one of basic_auth password & password_file must be configured");
        }
      },
      false, &has_basic);
  if (has_basic) c->basic_auth = basic;
  HttpClientArgs::Authorization authz;
  d.Block<HttpClientArgs::Authorization>(
      "authorization", &authz,
      [](component::ArgDecoder& ad, HttpClientArgs::Authorization* a) {
        ad.Optional("type", &a->type);
        ad.Optional("credentials", &a->credentials);
        ad.Optional("credentials_file", &a->credentials_file);
        std::string lower = a->type;
        std::transform(lower.begin(), lower.end(), lower.begin(),
                       [](unsigned char ch) { return std::tolower(ch); });
        if (lower == "basic") {
          ad.AddError("type",
                      "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
        }
        if (!a->credentials.text.empty() && !a->credentials_file.empty()) {
          ad.AddError("credentials_file",
                      "at most one of authorization credentials & credentials_file must be "
                      "configured");
        }
        if (a->type.empty()) a->type = "Bearer";
      },
      false, &has_authz);
  if (has_authz) c->authorization = authz;
  HttpClientArgs::Tls tls;
  d.Block<HttpClientArgs::Tls>(
      "tls_config", &tls,
      [](component::ArgDecoder& td, HttpClientArgs::Tls* t) {
        td.Optional("ca_file", &t->ca_file);
        td.Optional("cert_file", &t->cert_file);
        td.Optional("key_file", &t->key_file);
        td.Optional("insecure_skip_verify", &t->insecure_skip_verify);
        if (t->cert_file.empty() != t->key_file.empty()) {
          td.AddError(t->cert_file.empty() ? "key_file" : "cert_file",
                      "exactly one of key_file or cert_file must be configured when a client "
                      "certificate is configured");
        }
      },
      false, &has_tls);
  if (has_tls) c->tls_config = tls;
  int auth_methods = (has_basic ? 1 : 0) + (has_authz ? 1 : 0) +
                     (!c->bearer_token.text.empty() ? 1 : 0) +
                     (!c->bearer_token_file.empty() ? 1 : 0);
  if (auth_methods > 1) {
    d.AddError("",
               "at most one of basic_auth, authorization, oauth2, bearer_token & "
               "bearer_token_file must be configured");
  }
}

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
  DecodeClient(d, &args->client);
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

base::Result<std::vector<Target>> FetchHttpSd(const DiscoveryHttpArgs& args, std::stop_token stop) {
  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) return base::Status::Internal("cannot create an HTTP client");
  CURL* h = curl.get();
  Transfer xfer;
  xfer.stop = std::move(stop);
  const HttpClientArgs& c = args.client;

  curl_slist* raw_headers = nullptr;
  raw_headers = curl_slist_append(raw_headers, "Accept: application/json");
  raw_headers = curl_slist_append(
      raw_headers,
      ("X-Prometheus-Refresh-Interval-Seconds: " + FormatSeconds(args.refresh_interval)).c_str());
  std::unique_ptr<curl_slist, SlistDeleter> headers(raw_headers);
  auto add_authorization = [&](const std::string& type, const std::string& credentials) {
    headers.reset(curl_slist_append(headers.release(),
                                    ("Authorization: " + type + " " + credentials).c_str()));
  };
  if (!c.bearer_token.text.empty()) add_authorization("Bearer", c.bearer_token.text);
  if (!c.bearer_token_file.empty()) {
    ASSIGN_OR_RETURN(std::string token, ReadSecretFile(c.bearer_token_file));
    add_authorization("Bearer", token);
  }
  if (c.authorization) {
    std::string credentials = c.authorization->credentials.text;
    if (!c.authorization->credentials_file.empty()) {
      ASSIGN_OR_RETURN(credentials, ReadSecretFile(c.authorization->credentials_file));
    }
    add_authorization(c.authorization->type, credentials);
  }
  std::string password;
  if (c.basic_auth) {
    password = c.basic_auth->password.text;
    if (!c.basic_auth->password_file.empty()) {
      ASSIGN_OR_RETURN(password, ReadSecretFile(c.basic_auth->password_file));
    }
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
    curl_easy_setopt(h, CURLOPT_USERNAME, c.basic_auth->username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, password.c_str());
  }

  curl_easy_setopt(h, CURLOPT_URL, args.url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, "Starling");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(
      h, CURLOPT_TIMEOUT_MS,
      static_cast<long>(std::max<std::int64_t>(
          1,
          std::chrono::duration_cast<std::chrono::milliseconds>(args.refresh_interval).count())));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, c.follow_redirects ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                   c.enable_http2 ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                  : static_cast<long>(CURL_HTTP_VERSION_1_1));
  // An empty proxy disables environment proxies, as an unset proxy_url does in Alloy.
  curl_easy_setopt(h, CURLOPT_PROXY, c.proxy_url.c_str());
  if (c.tls_config) {
    if (!c.tls_config->ca_file.empty()) {
      curl_easy_setopt(h, CURLOPT_CAINFO, c.tls_config->ca_file.c_str());
    }
    if (!c.tls_config->cert_file.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT, c.tls_config->cert_file.c_str());
      curl_easy_setopt(h, CURLOPT_SSLKEY, c.tls_config->key_file.c_str());
    }
    if (c.tls_config->insecure_skip_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &xfer);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &xfer);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &xfer);

  CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_ABORTED_BY_CALLBACK) return base::Status::Cancelled("stopped");
  if (rc != CURLE_OK) {
    return base::Status::Unavailable("Get \"" + args.url + "\": " + curl_easy_strerror(rc));
  }
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) {
    return base::Status::Unavailable("server returned HTTP status " +
                                     StatusText(xfer.status_line, code));
  }
  char* ct = nullptr;
  curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
  return ParseHttpSd(args.url, ct == nullptr ? "" : ct, xfer.body);
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
