#pragma once

// Outbound HTTP: an asynchronous client over libcurl's multi interface, driven by one thread of
// its own. Scrapes of many targets, remote-write sends and discovery fetches share the same
// machinery: connections are kept alive and reused per host, responses may be gzip-encoded
// (decoded transparently when asked for), and every request has a timeout and an optional body
// size limit.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "net/http.h"

namespace starling::net {

class TokenSource;

// AWS credentials: long-term keys, or temporary ones with their session token.
struct AwsKeys {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // sent as X-Amz-Security-Token
};

// How to reach and authenticate to a server: Prometheus's HTTP client config with secrets
// already resolved (files read by the caller). Immutable once built; share it between requests.
struct ClientConfig {
  // The lowest TLS version a connection may use. Go's clients (Prometheus's) default to 1.2.
  enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };
  struct Tls {
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string server_name;
    bool insecure_skip_verify = false;
    // PEM text given inline, used in place of the matching file when not empty.
    std::string ca_pem;
    std::string cert_pem;
    std::string key_pem;
    TlsVersion min_version = TlsVersion::kTls12;
  };
  struct BasicAuth {
    std::string username;
    std::string password;
  };
  std::optional<BasicAuth> basic_auth;
  // The whole Authorization header value ("Bearer <token>"), empty for none.
  std::string authorization;
  Tls tls;
  bool follow_redirects = true;
  bool enable_http2 = true;
  std::string proxy_url;  // empty: no proxy (environment proxies are ignored)
  // With proxy_url: hosts, domains (with their subdomains) and CIDR ranges reached directly,
  // comma-separated.
  std::string no_proxy;
  // In place of proxy_url and no_proxy: the proxies of the environment, as Go's clients take
  // them (HTTP_PROXY or http_proxy for http URLs, HTTPS_PROXY or https_proxy for https ones,
  // NO_PROXY or no_proxy), read by whoever builds the config. Loopback hosts never use them.
  struct EnvironmentProxy {
    std::string http;
    std::string https;
    std::string no_proxy;
  };
  std::optional<EnvironmentProxy> environment_proxy;
  // Sent to the proxy with the CONNECT of an https request through it.
  std::vector<Header> proxy_connect_headers;
  // A source of expiring credentials (see token_source.h): OAuth 2.0 client credentials
  // (oauth2.h) or an Azure managed identity (azure_identity.h) in place of the other
  // authentication, or temporary AWS keys for sigv4 (aws_keys.h); null: none. The source
  // caches its credential for every request made with this config.
  std::shared_ptr<TokenSource> token_source;
  // AWS Signature Version 4, in place of the other authentication: each request is signed
  // for `service` in `region` (libcurl's signer: the request's headers but User-Agent, Host,
  // X-Amz-Date and a hash of the body are signed), with `keys` or, when token_source is set,
  // with the temporary keys it puts on the request.
  struct SigV4 {
    std::string region;
    std::string service = "aps";  // Amazon Managed Service for Prometheus
    AwsKeys keys;
  };
  std::optional<SigV4> sigv4;
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<Header> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};
  // Fail with kResourceExhausted once the (decoded) body exceeds this many bytes; 0: no limit.
  std::int64_t body_size_limit = 0;
  // Send Accept-Encoding: gzip and decode a gzip response body.
  bool accept_gzip = false;
  std::shared_ptr<const ClientConfig> config;  // null: defaults
  // Temporary keys a token source put here, for the config's SigV4 to sign with.
  std::optional<AwsKeys> aws_keys;
};

struct ClientResponse {
  int status = 0;
  // As Go's http.Response.Status: "404 Not Found" (the server's reason phrase; the standard
  // text for the code when it sent none, as with HTTP/2).
  std::string status_text;
  std::vector<Header> headers;
  std::string body;
  // The first header with this name (case-insensitive), if any.
  std::optional<std::string_view> HeaderValue(std::string_view name) const;
};

// Thread-safe. Callbacks run on the client's thread and hold up its other requests while they
// run: they must be quick, unless every request of the client can wait for them (as on a
// scrape lane's client, whose callbacks parse). They must not block on other requests of the
// same client.
class HttpClient {
 public:
  struct Options {
    // Idle connections kept for reuse by each group of up to 32 hosts (curl's
    // CURLMOPT_MAXCONNECTS; the least recently used is closed when the cache is full).
    // Connections per host are not limited.
    int max_idle_connections = 256;
    std::string user_agent = "Starling";
    // The name of the client's thread, as ps and /proc show it (up to 15 bytes).
    std::string thread_name = "http-client";
  };
  using Callback = std::function<void(base::Result<ClientResponse>)>;

  HttpClient();
  explicit HttpClient(Options options);
  // Fails outstanding requests with kCancelled (their callbacks run) and joins the thread.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts the request; `done` runs exactly once, on the client's thread. Transport errors
  // (connect, TLS, timeout: kDeadlineExceeded, body too large: kResourceExhausted) are errors;
  // any HTTP status is a response.
  void Do(ClientRequest request, Callback done);

  using Steady = std::chrono::steady_clock;
  // Runs fn on the client's thread at `when` or soon after; fn must be quick. Timers due at the
  // same time run in the order they were added; those pending when the client is destroyed
  // never run. For timers that start requests (scrapes): the thread wakes once for the timer
  // and the request it starts, where a timer thread would wake and then wake this one.
  void RunAt(Steady::time_point when, std::function<void()> fn);

  // Do, waiting for the result. Returns kCancelled early once `stop` is requested.
  base::Result<ClientResponse> DoSync(ClientRequest request, const std::stop_token& stop = {});

  // Requests run on the calling thread, over connections of the session's own, with the
  // client's options. For a thread that waits for each response anyway (a remote-write shard):
  // it then sleeps once per request, where DoSync wakes the client's thread and is woken back,
  // and a thread wakeup costs more than a small request. One caller at a time.
  class Session {
   public:
    explicit Session(const HttpClient& client);
    ~Session();
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;

    // As DoSync.
    base::Result<ClientResponse> Do(ClientRequest request, const std::stop_token& stop = {});

   private:
    class Impl;
    std::unique_ptr<Impl> impl_;
  };

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace starling::net
