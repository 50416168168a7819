#pragma once

// A test OAuth 2.0 token endpoint on 127.0.0.1 for the client credentials "id" and "secret"
// (in a Basic Authorization header or in the form body). It issues "tok-1", "tok-2"... valid
// for an hour, and serves the routes a test adds next to /token.

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <string>

#include "net/http_server.h"
#include "net/io_pool.h"

namespace starling::net::testing {

class TokenEndpoint {
 public:
  explicit TokenEndpoint(const std::function<void(HttpServer&)>& routes = {})
      : server_(pool_.context(), HttpServer::Options{}) {
    server_.Handle("POST", "/token", [this](const Request& r) {
      const bool in_header = r.HeaderValue("Authorization") == "Basic aWQ6c2VjcmV0";  // id:secret
      const bool in_body = r.body.find("client_id=id&client_secret=secret&") == 0;
      if ((!in_header && !in_body) ||
          r.body.find("grant_type=client_credentials") == std::string::npos) {
        return Response::Json(401, R"({"error":"invalid_client"})");
      }
      const int n = ++issued_;
      return Response::Json(
          200, R"({"access_token":"tok-)" + std::to_string(n) + R"(","expires_in":3600})");
    });
    if (routes) routes(server_);
    EXPECT_TRUE(server_.Start().ok());
  }
  ~TokenEndpoint() {
    server_.Stop();
    pool_.Stop();
  }
  TokenEndpoint(const TokenEndpoint&) = delete;
  TokenEndpoint& operator=(const TokenEndpoint&) = delete;

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(server_.port()); }
  int TokensIssued() const { return issued_.load(); }

 private:
  IoThreadPool pool_{2};
  HttpServer server_;
  std::atomic<int> issued_{0};
};

}  // namespace starling::net::testing
