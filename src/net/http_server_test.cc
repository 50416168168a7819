#include "net/http_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "net/http_client.h"
#include "net/io_pool.h"
#include "net/tls_testing.h"

namespace starling::net {
namespace {

struct CurlReply {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-cased names
  long new_connections = 0;
};

// A blocking libcurl client. One Client reuses its connection across requests, as a
// keep-alive client would.
class Client {
 public:
  Client() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    handle_ = curl_easy_init();
  }
  ~Client() { curl_easy_cleanup(handle_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  CurlReply Do(const std::string& method, const std::string& url, const std::string& body = "",
               bool http10 = false) {
    CurlReply out;
    CURL* h = handle_;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                     http10 ? CURL_HTTP_VERSION_1_0 : CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);  // resets what the previous request set
    curl_easy_setopt(h, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, nullptr);
    if (method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (method == "POST" || method == "PUT") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Client::Append);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Client::AppendHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &out.headers);
    out.code = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &out.new_connections);
    return out;
  }

 private:
  static size_t Append(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  static size_t AppendHeader(char* data, size_t size, size_t n, void* out) {
    std::string line(data, size * n);
    std::size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      value.erase(value.find_last_not_of("\r\n") + 1);
      (*static_cast<std::map<std::string, std::string>*>(out))[name] = value;
    }
    return size * n;
  }

  CURL* handle_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { server_ = std::make_unique<HttpServer>(pool_.context(), options_); }
  void TearDown() override {
    server_.reset();
    pool_.Stop();
  }

  void StartServer() {
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::string Url(const std::string& target) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + target;
  }

  using Status = base::Status;
  HttpServer::Options options_;
  IoThreadPool pool_{2};
  std::unique_ptr<HttpServer> server_;
};

Response Echo(const Request& r) {
  std::string text =
      r.method + " " + r.path + " q=" + r.query + " suffix=" + r.path_suffix + " body=" + r.body;
  return Response::Text(200, text);
}

TEST_F(HttpServerTest, BindsAFreePortAndReportsIt) {
  EXPECT_EQ(server_->port(), 0);
  EXPECT_EQ(server_->address(), "");
  StartServer();
  EXPECT_NE(server_->port(), 0);
  EXPECT_EQ(server_->address(), "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(server_->Start().code(), base::StatusCode::kFailedPrecondition);
}

TEST_F(HttpServerTest, Routing) {
  server_->Handle("GET", "/-/ready",
                  [](const Request&) { return Response::Text(200, "Agent is Ready.\n"); });
  server_->Handle("POST", "/echo", Echo);
  server_->Handle("", "/any", Echo);
  server_->HandlePrefix("GET", "/ui/", Echo);
  server_->HandlePrefix("GET", "/ui/assets/", [](const Request& r) {
    return Response::Text(200, "asset " + r.path_suffix);
  });
  server_->Handle("GET", "/ui/exact", [](const Request&) { return Response::Text(200, "exact"); });
  server_->Handle("GET", "/throws",
                  [](const Request&) -> Response { throw std::runtime_error("boom"); });
  server_->Handle("GET", "/custom", [](const Request& r) {
    Response resp = Response::Json(201, "{\"ok\":true}");
    resp.headers.push_back({"X-Remote-Known", r.remote_address.empty() ? "no" : "yes"});
    resp.headers.push_back({"X-Query-Name", r.QueryParam("name").value_or("")});
    return resp;
  });
  StartServer();

  struct Case {
    std::string method;
    std::string target;
    std::string body;
    long want_status;
    std::string want_body;
  };
  const Case cases[] = {
      {"GET", "/-/ready", "", 200, "Agent is Ready.\n"},
      {"HEAD", "/-/ready", "", 200, ""},
      {"POST", "/-/ready", "x", 405, "Method Not Allowed\n"},
      {"GET", "/nope", "", 404, "404 page not found\n"},
      {"POST", "/echo?x=1", "payload", 200, "POST /echo q=x=1 suffix= body=payload"},
      {"DELETE", "/any", "", 200, "DELETE /any q= suffix= body="},
      {"GET", "/ui/index.html", "", 200, "GET /ui/index.html q= suffix=index.html body="},
      {"GET", "/ui/assets/app.js", "", 200, "asset app.js"},
      {"GET", "/ui/exact", "", 200, "exact"},
      {"GET", "/ui", "", 404, "404 page not found\n"},
      {"POST", "/ui/x", "", 405, "Method Not Allowed\n"},
      {"GET", "/throws", "", 500, "Internal Server Error\n"},
      {"GET", "/custom?name=a%20b", "", 201, "{\"ok\":true}"},
  };
  Client client;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target);
    CurlReply r = client.Do(c.method, Url(c.target), c.body);
    ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
    EXPECT_EQ(r.status, c.want_status);
    EXPECT_EQ(r.body, c.want_body);
  }

  CurlReply head = client.Do("HEAD", Url("/-/ready"));
  EXPECT_EQ(head.headers["content-length"], "16");
  CurlReply custom = client.Do("GET", Url("/custom?name=a+b"));
  EXPECT_EQ(custom.headers["content-type"], "application/json");
  EXPECT_EQ(custom.headers["x-remote-known"], "yes");
  EXPECT_EQ(custom.headers["x-query-name"], "a b");
}

TEST_F(HttpServerTest, RoutesCanBeReplacedWhileRunning) {
  server_->Handle("GET", "/v", [](const Request&) { return Response::Text(200, "one"); });
  StartServer();
  Client client;
  EXPECT_EQ(client.Do("GET", Url("/v")).body, "one");
  server_->Handle("GET", "/v", [](const Request&) { return Response::Text(200, "two"); });
  server_->Handle("GET", "/w", [](const Request&) { return Response::Text(200, "new"); });
  EXPECT_EQ(client.Do("GET", Url("/v")).body, "two");
  EXPECT_EQ(client.Do("GET", Url("/w")).body, "new");
}

TEST_F(HttpServerTest, KeepsConnectionsAlive) {
  server_->Handle("GET", "/", [](const Request&) { return Response::Text(200, "hi"); });
  StartServer();
  Client client;
  CurlReply first = client.Do("GET", Url("/"));
  ASSERT_EQ(first.code, CURLE_OK);
  EXPECT_EQ(first.new_connections, 1);
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    CurlReply again = client.Do("GET", Url("/"));
    ASSERT_EQ(again.code, CURLE_OK);
    EXPECT_EQ(again.body, "hi");
    EXPECT_EQ(again.new_connections, 0) << "connection was not reused";
  }
  // An HTTP/1.0 client without keep-alive gets its connection closed.
  CurlReply old = client.Do("GET", Url("/"), "", /*http10=*/true);
  EXPECT_EQ(old.status, 200);
  CurlReply after = client.Do("GET", Url("/"));
  EXPECT_EQ(after.new_connections, 1);
}

TEST_F(HttpServerTest, RejectsOversizedBodies) {
  options_.max_body_bytes = 1024;
  server_ = std::make_unique<HttpServer>(pool_.context(), options_);
  server_->Handle("POST", "/in", [](const Request& r) {
    return Response::Text(200, std::to_string(r.body.size()));
  });
  StartServer();
  Client client;
  EXPECT_EQ(client.Do("POST", Url("/in"), std::string(1024, 'a')).body, "1024");
  Client other;
  EXPECT_EQ(other.Do("POST", Url("/in"), std::string(1025, 'a')).status, 413);
}

TEST_F(HttpServerTest, ServesConcurrentClients) {
  std::atomic<int> calls{0};
  server_->Handle("GET", "/n", [&calls](const Request& r) {
    calls.fetch_add(1);
    return Response::Text(200, r.QueryParam("i").value_or("?"));
  });
  StartServer();
  constexpr int kClients = 6;
  constexpr int kRequests = 25;
  std::vector<std::future<int>> done;
  done.reserve(kClients);
  for (int c = 0; c < kClients; ++c) {
    done.push_back(std::async(std::launch::async, [this, c] {
      Client client;
      int ok = 0;
      for (int i = 0; i < kRequests; ++i) {
        std::string want = std::to_string(c * 1000 + i);
        CurlReply r = client.Do("GET", Url("/n?i=" + want));
        if (r.code == CURLE_OK && r.status == 200 && r.body == want) ++ok;
      }
      return ok;
    }));
  }
  for (auto& f : done) EXPECT_EQ(f.get(), kRequests);
  EXPECT_EQ(calls.load(), kClients * kRequests);
}

TEST_F(HttpServerTest, BindFailureIsReported) {
  StartServer();
  HttpServer::Options same;
  same.port = server_->port();
  HttpServer second(pool_.context(), same);
  base::Status s = second.Start();
  EXPECT_EQ(s.code(), base::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("bind"), std::string::npos) << s.message();
  EXPECT_EQ(second.port(), 0);
}

// Connecting with a raw socket tells "refused" apart from any HTTP-level answer.
bool CanConnect(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

// Sends raw bytes and returns everything the server answers before closing.
std::string RawExchange(std::uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

TEST_F(HttpServerTest, MalformedRequestsGet400AndAreClosed) {
  server_->Handle("GET", "/", [](const Request&) { return Response::Text(200, "ok"); });
  StartServer();
  const std::string cases[] = {
      "GET / HTTP/1.1\r\nHost x\r\n\r\n",   // header without a colon
      "GET / HTTP/9.9\r\nHost: x\r\n\r\n",  // unknown version
      "G@T / HTTP/1.1\r\nHost: x\r\n\r\n",  // invalid method token
  };
  for (const std::string& c : cases) {
    SCOPED_TRACE(c);
    std::string reply = RawExchange(server_->port(), c);
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 400 Bad Request\r\n")) << reply;
  }
  // Pipelined requests on one connection are answered in order.
  std::string two = RawExchange(server_->port(),
                                "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::size_t first = two.find("HTTP/1.1 200 OK");
  std::size_t second = two.find("HTTP/1.1 404 Not Found");
  EXPECT_NE(first, std::string::npos) << two;
  EXPECT_NE(second, std::string::npos) << two;
  EXPECT_LT(first, second);
}

TEST_F(HttpServerTest, StopFinishesRequestsInFlightAndClosesIdleConnections) {
  // A long grace period: Stop() must not need it, since nothing stays busy.
  options_.shutdown_grace = std::chrono::seconds(60);
  server_ = std::make_unique<HttpServer>(pool_.context(), options_);
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  server_->Handle("GET", "/slow", [&entered, released](const Request&) {
    entered.set_value();
    released.wait();
    return Response::Text(200, "finished");
  });
  server_->Handle("GET", "/fast", [](const Request&) { return Response::Text(200, "fast"); });
  StartServer();
  const std::uint16_t port = server_->port();

  Client idle;  // holds a keep-alive connection open without a request
  ASSERT_EQ(idle.Do("GET", Url("/fast")).status, 200);

  auto slow = std::async(std::launch::async, [this] {
    Client client;
    return client.Do("GET", Url("/slow"));
  });
  entered.get_future().wait();

  auto start = std::chrono::steady_clock::now();
  auto stopped = std::async(std::launch::async, [this] { server_->Stop(); });
  release.set_value();
  CurlReply r = slow.get();
  stopped.get();
  auto took = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "finished");
  EXPECT_LT(took, std::chrono::seconds(30)) << "Stop() waited for an idle connection";
  EXPECT_FALSE(CanConnect(port));
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, StopBeforeStartIsHarmless) {
  server_->Stop();
  EXPECT_EQ(server_->Start().code(), base::StatusCode::kFailedPrecondition);
}

// A CA with a server and a client certificate, and a second CA with a client certificate of
// its own, which the server does not trust.
struct Pki {
  base::testing::TempDir dir;
  testing::TestCa ca{dir.path(), "ca"};
  testing::TestCa other_ca{dir.path(), "other"};
  testing::CertFiles server = ca.Issue("server", {"IP:127.0.0.1", "DNS:server.test"});
  testing::CertFiles client = ca.Issue("client");
  testing::CertFiles stranger = other_ca.Issue("stranger");
};

class HttpServerTlsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& s : servers_) s->Stop();
    servers_.clear();
    pool_.Stop();
  }

  // A started HTTPS server answering GET /hello.
  HttpServer& StartTlsServer(HttpServer::Options::Tls tls) {
    HttpServer::Options opts;
    opts.shutdown_grace = std::chrono::seconds(60);
    opts.tls = std::move(tls);
    servers_.push_back(std::make_unique<HttpServer>(pool_.context(), opts));
    HttpServer& server = *servers_.back();
    server.Handle("GET", "/hello", [](const Request& r) {
      return Response::Text(200, "hello " + r.remote_address.substr(0, 10));
    });
    base::Status s = server.Start();
    EXPECT_TRUE(s.ok()) << s.ToString();
    return server;
  }
  HttpServer::Options::Tls MutualTls() const {
    return {.cert_file = pki_.server.cert,
            .key_file = pki_.server.key,
            .client_ca_file = pki_.ca.cert_file(),
            .require_client_cert = true};
  }

  base::Result<ClientResponse> Get(const std::string& url,
                                   std::shared_ptr<const ClientConfig> config) {
    ClientRequest req;
    req.url = url;
    req.timeout = std::chrono::seconds(20);
    req.config = std::move(config);
    return client_.DoSync(std::move(req));
  }

  Pki pki_;
  IoThreadPool pool_{2};
  std::vector<std::unique_ptr<HttpServer>> servers_;
  HttpClient client_;
};

TEST_F(HttpServerTlsTest, ServesHttpsAndVerifiesClientCertificates) {
  HttpServer::Options::Tls optional = MutualTls();
  optional.require_client_cert = false;
  HttpServer& required_server = StartTlsServer(MutualTls());
  HttpServer& optional_server = StartTlsServer(optional);
  EXPECT_STREQ(required_server.scheme(), "https");

  auto config = [this](const std::string& cert, const std::string& key, bool with_ca) {
    auto c = std::make_shared<ClientConfig>();
    if (with_ca) c->tls.ca_file = pki_.ca.cert_file();
    c->tls.cert_file = cert;
    c->tls.key_file = key;
    return c;
  };
  auto named = config(pki_.client.cert, pki_.client.key, true);
  named->tls.server_name = "server.test";
  struct Case {
    std::string name;
    bool require_client_cert;
    std::shared_ptr<const ClientConfig> config;
    bool want_ok;
  };
  const Case cases[] = {
      {"client certificate of the CA", true, config(pki_.client.cert, pki_.client.key, true), true},
      {"verified by server name", true, named, true},
      {"no client certificate", true, config("", "", true), false},
      {"client certificate of another CA", true,
       config(pki_.stranger.cert, pki_.stranger.key, true), false},
      {"server not trusted by the client", true, config(pki_.client.cert, pki_.client.key, false),
       false},
      {"optional: no client certificate", false, config("", "", true), true},
      {"optional: client certificate of the CA", false,
       config(pki_.client.cert, pki_.client.key, true), true},
      {"optional: client certificate of another CA", false,
       config(pki_.stranger.cert, pki_.stranger.key, true), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpServer& server = c.require_client_cert ? required_server : optional_server;
    base::Result<ClientResponse> r =
        Get("https://127.0.0.1:" + std::to_string(server.port()) + "/hello", c.config);
    if (c.want_ok) {
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      EXPECT_EQ(r->status, 200);
      EXPECT_EQ(r->body, "hello 127.0.0.1:");
    } else {
      EXPECT_FALSE(r.ok()) << "status " << r->status;
    }
  }
}

TEST_F(HttpServerTlsTest, PlainHttpToTheTlsPortFailsCleanly) {
  HttpServer& server = StartTlsServer(MutualTls());
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  // A plain HTTP client gets Go's hint and a closed connection.
  base::Result<ClientResponse> plain = Get("http://" + address + "/hello", nullptr);
  ASSERT_TRUE(plain.ok()) << plain.error().ToString();
  EXPECT_EQ(plain->status, 400);
  EXPECT_EQ(plain->body, "Client sent an HTTP request to an HTTPS server.\n");
  // A broken TLS record gets a fatal alert, anything else no answer; both are closed.
  const std::string broken_record("\x16\x03\x01\x00\x01\x00garbage", 12);
  EXPECT_EQ(RawExchange(server.port(), broken_record).substr(0, 1), "\x15");
  EXPECT_EQ(RawExchange(server.port(), "hello?\r\n\r\n"), "");
  // The server goes on serving HTTPS.
  auto config = std::make_shared<ClientConfig>();
  config->tls = {
      .ca_file = pki_.ca.cert_file(), .cert_file = pki_.client.cert, .key_file = pki_.client.key};
  base::Result<ClientResponse> tls = Get("https://" + address + "/hello", config);
  ASSERT_TRUE(tls.ok()) << tls.error().ToString();
  EXPECT_EQ(tls->status, 200);
}

TEST_F(HttpServerTlsTest, StopClosesIdleAndHandshakingConnections) {
  HttpServer& server = StartTlsServer(MutualTls());
  const std::uint16_t port = server.port();
  // A client that connects and never starts the handshake.
  int silent = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(silent, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  auto config = std::make_shared<ClientConfig>();
  config->tls = {
      .ca_file = pki_.ca.cert_file(), .cert_file = pki_.client.cert, .key_file = pki_.client.key};
  // Connections are accepted in order, so once this request is answered the silent one is
  // accepted too. The client keeps this connection alive, idle, after the request.
  base::Result<ClientResponse> r =
      Get("https://127.0.0.1:" + std::to_string(port) + "/hello", config);
  ASSERT_TRUE(r.ok()) << r.error().ToString();

  const auto start = std::chrono::steady_clock::now();
  server.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30))
      << "Stop() waited for an idle connection";
  EXPECT_FALSE(CanConnect(port));
  char byte = 0;
  EXPECT_EQ(::recv(silent, &byte, 1, 0), 0);  // closed by the server
  ::close(silent);
}

TEST_F(HttpServerTlsTest, StartFailsOnUnusableTlsFiles) {
  struct Case {
    std::string name;
    HttpServer::Options::Tls tls;
    std::string want_in_error;
  };
  const Case cases[] = {
      {"missing certificate",
       {.cert_file = pki_.dir.Path("missing.crt"), .key_file = pki_.server.key},
       "tls: loading certificate \"" + pki_.dir.Path("missing.crt") + "\""},
      {"key is not a key",
       {.cert_file = pki_.server.cert, .key_file = pki_.server.cert},
       "tls: loading key \"" + pki_.server.cert + "\""},
      {"key of another certificate",
       {.cert_file = pki_.server.cert, .key_file = pki_.client.key},
       "tls: loading key"},
      {"CA file is not a certificate",
       {.cert_file = pki_.server.cert,
        .key_file = pki_.server.key,
        .client_ca_file = pki_.server.key,
        .require_client_cert = true},
       "tls: loading client CA file"},
      {"client certificates required without a CA",
       {.cert_file = pki_.server.cert, .key_file = pki_.server.key, .require_client_cert = true},
       "no client CA file"},
      {"no key", {.cert_file = pki_.server.cert}, "a certificate file and a key file"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    HttpServer::Options opts;
    opts.tls = c.tls;
    HttpServer server(pool_.context(), opts);
    base::Status s = server.Start();
    EXPECT_EQ(s.code(), base::StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(c.want_in_error), std::string::npos) << s.message();
    EXPECT_EQ(server.port(), 0);
  }
}

}  // namespace
}  // namespace starling::net
