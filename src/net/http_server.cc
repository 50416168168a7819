#include "net/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <utility>
#include <vector>

// After <utility>, which Boost 1.74's Asio needs first (see net/asio.h).
#include <boost/asio/ssl.hpp>

#include "base/logging.h"
#include "net/asio.h"

namespace starling::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using base::Result;
using base::Status;

namespace {

using TlsStream = asio::ssl::stream<beast::tcp_stream>;

// How long a client may take over the TLS handshake (at most the idle timeout).
constexpr std::chrono::seconds kHandshakeTimeout(10);
// How long a closing TLS connection waits for the client's close_notify.
constexpr std::chrono::seconds kTlsShutdownTimeout(1);
// What Go's servers answer a plain HTTP request on an HTTPS port, which tells whoever is
// debugging the client to use https.
constexpr std::string_view kPlainHttpToHttps =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

struct Route {
  std::string method;  // "" for any
  Handler handler;
};

struct PrefixRoute {
  std::string prefix;
  std::string method;
  Handler handler;
};

// How well a route's method fits the request's: exact beats any-method beats GET-for-HEAD.
int MethodScore(std::string_view route_method, std::string_view request_method) {
  if (route_method == request_method) return 3;
  if (route_method.empty()) return 2;
  if (route_method == "GET" && request_method == "HEAD") return 1;
  return 0;
}

// One accepted connection: a plain stream, or a TLS stream when the server has a TLS context.
// Its executor is a strand; busy is only touched on it.
struct Connection {
  Connection(tcp::socket socket, asio::ssl::context* tls) {
    if (tls != nullptr) {
      tls_stream.emplace(std::move(socket), *tls);
    } else {
      plain.emplace(std::move(socket));
    }
  }
  // The TCP layer under either stream: timeouts and closing.
  beast::tcp_stream& transport() {
    return tls_stream.has_value() ? tls_stream->next_layer() : *plain;
  }

  std::optional<beast::tcp_stream> plain;
  std::optional<TlsStream> tls_stream;
  bool busy = false;  // between reading a request and finishing its response
};

void Close(Connection& c) {
  boost::system::error_code ec;
  c.transport().socket().shutdown(tcp::socket::shutdown_send, ec);
  c.transport().socket().close(ec);
}

std::string FormatEndpoint(const tcp::endpoint& ep) {
  if (ep.address().is_v6())
    return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

}  // namespace

namespace internal {

struct ServerState {
  ServerState(asio::io_context& io, HttpServer::Options opts)
      : ioc(io),
        options(std::move(opts)),
        accept_strand(asio::make_strand(io)),
        acceptor(accept_strand) {}

  asio::io_context& ioc;
  const HttpServer::Options options;
  asio::strand<asio::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;  // after Start(), used only on accept_strand
  // Set by Start() before accepting begins (when options.tls is set), then only read.
  std::unique_ptr<asio::ssl::context> tls;

  std::shared_mutex routes_mu;
  std::map<std::string, std::vector<Route>, std::less<>> exact_routes;  // guarded by routes_mu
  std::vector<PrefixRoute> prefix_routes;  // longest first; guarded by routes_mu

  std::mutex mu;
  std::condition_variable cv;      // signalled when accepting or conns change
  bool started = false;            // guarded by mu
  bool stopped = false;            // guarded by mu
  bool accepting = false;          // guarded by mu
  std::uint64_t next_conn_id = 0;  // guarded by mu
  std::map<std::uint64_t, std::shared_ptr<Connection>> conns;  // guarded by mu
  tcp::endpoint bound;                                         // guarded by mu
  // Read without the lock by sessions deciding whether to keep a connection open.
  std::atomic<bool> stopping{false};
};

}  // namespace internal

using internal::ServerState;

Result<HostPort> ParseHostPort(std::string_view address) {
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) {
    return Status::InvalidArgument("address " + std::string(address) + ": missing port");
  }
  std::string_view host = address.substr(0, colon);
  std::string_view port = address.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']')) {
      return Status::InvalidArgument("address " + std::string(address) + ": missing ']'");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Status::InvalidArgument("address " + std::string(address) +
                                   ": too many colons (bracket IPv6 addresses: [::1]:80)");
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return Status::InvalidArgument("address " + std::string(address) + ": invalid port \"" +
                                   std::string(port) + "\"");
  }
  return HostPort{std::string(host), static_cast<std::uint16_t>(value)};
}

namespace {

Response Dispatch(ServerState& st, Request& req) {
  Handler handler;
  bool path_known = false;
  {
    std::shared_lock lock(st.routes_mu);
    int best = 0;
    auto it = st.exact_routes.find(req.path);
    if (it != st.exact_routes.end()) {
      path_known = true;
      for (const Route& r : it->second) {
        int score = MethodScore(r.method, req.method);
        if (score > best) {
          best = score;
          handler = r.handler;
        }
      }
    }
    if (!handler) {
      const PrefixRoute* match = nullptr;
      for (const PrefixRoute& r : st.prefix_routes) {
        if (match != nullptr && r.prefix.size() < match->prefix.size()) break;
        if (!req.path.starts_with(r.prefix)) continue;
        path_known = true;
        int score = MethodScore(r.method, req.method);
        if (score > best) {
          best = score;
          match = &r;
        }
      }
      if (match != nullptr) {
        handler = match->handler;
        req.path_suffix = req.path.substr(match->prefix.size());
      }
    }
  }
  if (!handler) {
    // The bodies Go's net/http gives, which tools written for the Agent may look for.
    return path_known ? Response::Text(405, "Method Not Allowed\n")
                      : Response::Text(404, "404 page not found\n");
  }
  try {
    return handler(req);
  } catch (const std::exception& e) {
    spdlog::error("http handler for {} {} threw: {}", req.method, req.path, e.what());
  } catch (...) {
    spdlog::error("http handler for {} {} threw", req.method, req.path);
  }
  return Response::Text(500, "Internal Server Error\n");
}

Request ToRequest(http::request<http::string_body>&& msg, const std::string& remote) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  std::size_t q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& field : msg) {
    req.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  req.body = std::move(msg.body());
  req.remote_address = remote;
  return req;
}

http::response<http::string_body> ToMessage(Response&& resp, unsigned version, bool keep_alive,
                                            bool head) {
  int status = resp.status >= 100 && resp.status <= 999 ? resp.status : 500;
  http::response<http::string_body> res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, resp.content_type);
  for (const Header& h : resp.headers) res.insert(h.name, h.value);
  res.body() = std::move(resp.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  // A HEAD response announces the GET body's length but carries no body.
  if (head) res.body().clear();
  return res;
}

// Shuts our sending side down and reads until the client closes or a short deadline passes.
// Closing with unread data would reset the connection and could destroy what we just sent
// before the client reads it.
template <class Stream>
asio::awaitable<void> ShutdownSendAndDrain(Stream& stream) {
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_send, ec);
  std::array<char, 4096> sink;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(1));
  while (!ec) {
    co_await stream.async_read_some(asio::buffer(sink),
                                    asio::redirect_error(asio::use_awaitable, ec));
  }
}

// Answers a request we will not serve; the caller closes the connection. The client may still
// be sending its body, hence the drain.
template <class Stream>
asio::awaitable<void> Reject(Stream& stream, http::status status, std::string_view text) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::string(text);
  res.keep_alive(false);
  res.prepare_payload();
  boost::system::error_code ec;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) co_return;
  co_await ShutdownSendAndDrain(stream);
}

// Serves requests on an established stream, plain or TLS, until either side ends the
// connection. Returns whether it ended cleanly by our choice (after a response, or between
// requests when stopping): then a TLS connection deserves a close_notify.
template <class Stream>
asio::awaitable<bool> ServeRequests(ServerState& st, Connection& c, Stream& stream,
                                    const std::string& remote) {
  const HttpServer::Options& opts = st.options;
  boost::system::error_code ec;
  beast::flat_buffer buffer;
  for (;;) {
    c.busy = false;
    // Stop() sets stopping before it closes idle connections on this strand, so either we see
    // the flag here or the close reaches the read below.
    if (st.stopping.load()) co_return true;
    http::request_parser<http::string_body> parser;
    parser.body_limit(opts.max_body_bytes);
    c.transport().expires_after(opts.idle_timeout);
    co_await http::async_read(stream, buffer, parser,
                              asio::redirect_error(asio::use_awaitable, ec));
    if (ec == http::error::body_limit) {
      co_await Reject(stream, http::status::payload_too_large, "Request Entity Too Large\n");
      co_return false;
    }
    if (ec) {
      // Peer closed, idle timeout, or our own shutdown: nothing to answer. A malformed request
      // gets a 400 first, as a courtesy to whoever is debugging the client.
      if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
          ec != http::error::end_of_stream && ec != http::error::partial_message) {
        co_await Reject(stream, http::status::bad_request, "Bad Request\n");
      }
      co_return false;
    }
    c.busy = true;
    http::request<http::string_body> msg = parser.release();
    const bool keep_alive = msg.keep_alive() && !st.stopping.load();
    const unsigned version = msg.version();
    Request req = ToRequest(std::move(msg), remote);
    const bool head = req.method == "HEAD";
    http::response<http::string_body> res = ToMessage(Dispatch(st, req), version, keep_alive, head);
    c.transport().expires_after(opts.idle_timeout);
    co_await http::async_write(stream, res, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return false;
    if (!keep_alive) co_return true;
  }
}

// The server side of the TLS handshake. A failure is the client's problem (an unknown CA, no
// certificate, not TLS at all), so it is logged at debug level only.
asio::awaitable<bool> Handshake(ServerState& st, Connection& c, const std::string& remote) {
  boost::system::error_code ec;
  c.transport().expires_after(
      std::min<std::chrono::milliseconds>(st.options.idle_timeout, kHandshakeTimeout));
  co_await c.tls_stream->async_handshake(asio::ssl::stream_base::server,
                                         asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_return true;
  spdlog::debug("http server: TLS handshake with {} failed: {}", remote, ec.message());
  if (ec.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(static_cast<unsigned>(ec.value()))) ==
          SSL_R_HTTP_REQUEST) {
    // The request was not TLS, so neither is the answer.
    c.transport().expires_after(std::chrono::seconds(5));
    co_await asio::async_write(c.transport(), asio::buffer(kPlainHttpToHttps),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) co_await ShutdownSendAndDrain(c.transport());
  }
  co_return false;
}

asio::awaitable<void> ServeConnection(std::shared_ptr<ServerState> st,
                                      std::shared_ptr<Connection> c) {
  boost::system::error_code ec;
  const std::string remote = FormatEndpoint(c->transport().socket().remote_endpoint(ec));
  if (!c->tls_stream.has_value()) {
    co_await ServeRequests(*st, *c, *c->plain, remote);
  } else if (co_await Handshake(*st, *c, remote)) {
    if (co_await ServeRequests(*st, *c, *c->tls_stream, remote)) {
      c->transport().expires_after(kTlsShutdownTimeout);
      co_await c->tls_stream->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  Close(*c);
}

Status TlsLoadError(std::string_view what, const std::string& file,
                    const boost::system::error_code& ec) {
  return Status::InvalidArgument("tls: loading " + std::string(what) + " \"" + file +
                                 "\": " + ec.message());
}

// The server's TLS context: its certificate and key, TLS 1.2 or later, and client
// verification as the options ask.
Result<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const HttpServer::Options::Tls& tls) {
  if (tls.cert_file.empty() || tls.key_file.empty()) {
    return Status::InvalidArgument("tls: a certificate file and a key file are required");
  }
  if (tls.require_client_cert && tls.client_ca_file.empty()) {
    return Status::InvalidArgument(
        "tls: client certificates are required but no client CA file is set");
  }
  std::unique_ptr<asio::ssl::context> ctx;
  try {
    ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  } catch (const boost::system::system_error& e) {
    return Status::Internal(std::string("tls: creating a context: ") + e.what());
  }
  boost::system::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::single_dh_use, ec);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->use_certificate_chain_file(tls.cert_file, ec);
  if (ec) return TlsLoadError("certificate", tls.cert_file, ec);
  ctx->use_private_key_file(tls.key_file, asio::ssl::context::pem, ec);
  if (ec) return TlsLoadError("key", tls.key_file, ec);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("tls: the key in \"" + tls.key_file +
                                   "\" does not match the certificate in \"" + tls.cert_file +
                                   "\"");
  }
  if (!tls.client_ca_file.empty()) {
    ctx->load_verify_file(tls.client_ca_file, ec);
    if (ec) return TlsLoadError("client CA file", tls.client_ca_file, ec);
    // Name the CAs in the certificate request, so that a client holding several certificates
    // can pick the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    }
    ERR_clear_error();
    asio::ssl::verify_mode mode = asio::ssl::verify_peer;
    if (tls.require_client_cert) mode |= asio::ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode, ec);
  }
  return ctx;
}

asio::awaitable<void> RunConnection(std::shared_ptr<ServerState> st, std::shared_ptr<Connection> c,
                                    std::uint64_t id) {
  co_await ServeConnection(st, c);
  std::lock_guard lock(st->mu);
  st->conns.erase(id);
  st->cv.notify_all();
}

asio::awaitable<void> AcceptLoop(std::shared_ptr<ServerState> st) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket(co_await st->acceptor.async_accept(
        asio::make_strand(st->ioc), asio::redirect_error(asio::use_awaitable, ec)));
    if (ec == asio::error::operation_aborted || !st->acceptor.is_open()) break;
    if (ec) {
      // Out of file descriptors and the like: back off instead of spinning.
      spdlog::warn("http server: accept failed: {}", ec.message());
      asio::steady_timer timer(st->accept_strand, std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket), st->tls.get());
    std::uint64_t id = 0;
    {
      std::lock_guard lock(st->mu);
      if (st->stopping.load()) {
        Close(*conn);
        continue;
      }
      id = st->next_conn_id++;
      st->conns.emplace(id, conn);
    }
    asio::co_spawn(conn->transport().get_executor(), RunConnection(st, conn, id), asio::detached);
  }
  std::lock_guard lock(st->mu);
  st->accepting = false;
  st->cv.notify_all();
}

}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, Options options)
    : state_(std::make_shared<ServerState>(ioc, std::move(options))) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Handle(std::string method, std::string path, Handler handler) {
  std::unique_lock lock(state_->routes_mu);
  std::vector<Route>& routes = state_->exact_routes[std::move(path)];
  for (Route& r : routes) {
    if (r.method == method) {
      r.handler = std::move(handler);
      return;
    }
  }
  routes.push_back({std::move(method), std::move(handler)});
}

void HttpServer::HandlePrefix(std::string method, std::string prefix, Handler handler) {
  std::unique_lock lock(state_->routes_mu);
  auto& routes = state_->prefix_routes;
  for (PrefixRoute& r : routes) {
    if (r.prefix == prefix && r.method == method) {
      r.handler = std::move(handler);
      return;
    }
  }
  routes.push_back({std::move(prefix), std::move(method), std::move(handler)});
  std::stable_sort(routes.begin(), routes.end(), [](const PrefixRoute& a, const PrefixRoute& b) {
    return a.prefix.size() > b.prefix.size();
  });
}

Status HttpServer::Start() {
  ServerState& st = *state_;
  std::lock_guard lock(st.mu);
  if (st.started || st.stopped) return Status::FailedPrecondition("http server already started");
  if (st.options.tls.has_value()) {
    Result<std::unique_ptr<asio::ssl::context>> ctx = MakeTlsContext(*st.options.tls);
    if (!ctx.ok()) return ctx.error();
    st.tls = std::move(*ctx);
  }
  const std::string shown = st.options.host.find(':') != std::string::npos
                                ? "[" + st.options.host + "]:" + std::to_string(st.options.port)
                                : st.options.host + ":" + std::to_string(st.options.port);
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  if (st.options.host.empty()) {
    endpoint = tcp::endpoint(asio::ip::address_v4::any(), st.options.port);
  } else {
    asio::ip::address addr = asio::ip::make_address(st.options.host, ec);
    if (!ec) {
      endpoint = tcp::endpoint(addr, st.options.port);
    } else {
      tcp::resolver resolver(st.ioc);
      auto results = resolver.resolve(st.options.host, std::to_string(st.options.port), ec);
      if (ec || results.empty()) {
        return Status::InvalidArgument("listen tcp " + shown + ": lookup " + st.options.host +
                                       ": " + (ec ? ec.message() : "no addresses"));
      }
      endpoint = results.begin()->endpoint();
    }
  }
  auto fail = [&](std::string_view what) {
    boost::system::error_code ignored;
    st.acceptor.close(ignored);
    return Status::Unavailable("listen tcp " + shown + ": " + std::string(what) + ": " +
                               ec.message());
  };
  st.acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail("socket");
  st.acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return fail("setsockopt");
  st.acceptor.bind(endpoint, ec);
  if (ec) return fail("bind");
  st.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail("listen");
  st.bound = st.acceptor.local_endpoint(ec);
  if (ec) return fail("getsockname");
  st.started = true;
  st.accepting = true;
  asio::co_spawn(st.accept_strand, AcceptLoop(state_), asio::detached);
  return Status::Ok();
}

std::uint16_t HttpServer::port() const {
  std::lock_guard lock(state_->mu);
  return state_->started ? state_->bound.port() : 0;
}

std::string HttpServer::address() const {
  std::lock_guard lock(state_->mu);
  return state_->started ? FormatEndpoint(state_->bound) : std::string();
}

const char* HttpServer::scheme() const {
  return state_->options.tls.has_value() ? "https" : "http";
}

void HttpServer::Stop() {
  ServerState& st = *state_;
  std::unique_lock lock(st.mu);
  if (st.stopped) return;
  st.stopped = true;
  if (!st.started) return;
  st.stopping.store(true);
  asio::post(st.accept_strand, [s = state_] {
    boost::system::error_code ec;
    s->acceptor.close(ec);
  });
  for (auto& [id, conn] : st.conns) {
    asio::post(conn->transport().get_executor(), [c = conn] {
      if (!c->busy) Close(*c);
    });
  }
  auto done = [&st] { return !st.accepting && st.conns.empty(); };
  // Without running threads nothing can finish; don't wait for it.
  if (st.ioc.stopped()) return;
  if (st.cv.wait_for(lock, st.options.shutdown_grace, done)) return;
  spdlog::warn("http server: {} connections still busy after {}ms; closing them", st.conns.size(),
               st.options.shutdown_grace.count());
  for (auto& [id, conn] : st.conns) {
    asio::post(conn->transport().get_executor(), [c = conn] { Close(*c); });
  }
  st.cv.wait_for(lock, std::chrono::seconds(1), done);
}

}  // namespace starling::net
