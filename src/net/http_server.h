#pragma once

// HttpServer: an HTTP/1.1 server on Boost.Beast. It binds one address and routes each request
// by method and path to a Handler. Every HTTP feature of the agent shares this one listener:
// /metrics and the /-/ endpoints, and later the UI assets (a prefix route), the /api/v0/web/*
// API, /-/reload and the cluster transport (its own routes on the same port).
//
// Connections are kept alive between requests (HTTP/1.1 default, or on request for 1.0).
// Each connection is served by a coroutine on a strand of the caller's io_context, so one
// connection's requests are handled in order while connections proceed in parallel.
//
// Stop() is graceful: it stops accepting, closes idle connections, lets requests in flight
// finish and answers them with "Connection: close", and waits for that up to a grace period.
//
// With Options::tls the port speaks HTTPS only: each connection starts with a TLS handshake
// (optionally verifying a client certificate against a CA) and then runs the same HTTP code. A
// failed handshake closes the connection; a plain HTTP request gets a 400 first, as Go's
// servers answer it.
//
// Thread-safety: all methods are thread-safe. Routes may be added or replaced while the
// server runs. Stop() must not be called from the io_context's threads.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/http.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace starling::net {

namespace internal {
struct ServerState;
}  // namespace internal

// "host:port" split into its parts. The host may be a name, an IPv4 address, a bracketed IPv6
// address ("[::1]:80"), or empty (":80", all interfaces). The port must be 0-65535; 0 asks the
// system for a free port.
struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};
base::Result<HostPort> ParseHostPort(std::string_view address);

class HttpServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";  // empty: all IPv4 interfaces
    std::uint16_t port = 0;          // 0: any free port; see port()
    // Requests with larger bodies get 413.
    std::size_t max_body_bytes = std::size_t{32} << 20;
    // An idle keep-alive connection, or one sending a request this slowly, is closed.
    std::chrono::milliseconds idle_timeout = std::chrono::minutes(2);
    // How long Stop() lets requests in flight finish before closing their connections.
    std::chrono::milliseconds shutdown_grace = std::chrono::seconds(5);

    // HTTPS: PEM files, read by Start() (which fails when they cannot be loaded).
    struct Tls {
      std::string cert_file;  // the server's certificate, then any intermediates
      std::string key_file;
      // CAs that client certificates are verified against; empty: none is asked for.
      std::string client_ca_file;
      // Refuse clients without a certificate signed by client_ca_file (mutual TLS). Without
      // it, a client certificate is optional but verified when presented.
      bool require_client_cert = false;
    };
    std::optional<Tls> tls;  // set: this port serves HTTPS only
  };

  // The server runs on ioc, which the caller runs (see IoThreadPool) and keeps alive for the
  // server's lifetime.
  HttpServer(boost::asio::io_context& ioc, Options options);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes requests whose path is exactly `path`. method "" matches any method; a GET route
  // also answers HEAD. A later registration for the same method and path replaces the earlier.
  void Handle(std::string method, std::string path, Handler handler);
  // Routes requests whose path starts with `prefix` (longest prefix wins; exact routes win
  // over prefix routes). Request::path_suffix holds the rest of the path.
  void HandlePrefix(std::string method, std::string prefix, Handler handler);

  // Binds and listens, then accepts in the background. Fails if the address cannot be
  // resolved or bound, or if already started.
  base::Status Start();

  // The bound port (the real one when Options::port was 0); 0 before Start().
  std::uint16_t port() const;
  // The bound address as "host:port" ("[::1]:8080" for IPv6); empty before Start().
  std::string address() const;
  // "https" with Options::tls, else "http".
  const char* scheme() const;

  // Graceful shutdown, see the class comment. Idempotent.
  void Stop();

 private:
  // Shared with the server's coroutines, which may outlive this object briefly.
  std::shared_ptr<internal::ServerState> state_;
};

}  // namespace starling::net
