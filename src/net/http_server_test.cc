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
#include <string>
#include <thread>
#include <vector>

#include "net/io_pool.h"

namespace starling::net {
namespace {

struct ClientResponse {
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

  ClientResponse Do(const std::string& method, const std::string& url, const std::string& body = "",
                    bool http10 = false) {
    ClientResponse out;
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
    ClientResponse r = client.Do(c.method, Url(c.target), c.body);
    ASSERT_EQ(r.code, CURLE_OK) << curl_easy_strerror(r.code);
    EXPECT_EQ(r.status, c.want_status);
    EXPECT_EQ(r.body, c.want_body);
  }

  ClientResponse head = client.Do("HEAD", Url("/-/ready"));
  EXPECT_EQ(head.headers["content-length"], "16");
  ClientResponse custom = client.Do("GET", Url("/custom?name=a+b"));
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
  ClientResponse first = client.Do("GET", Url("/"));
  ASSERT_EQ(first.code, CURLE_OK);
  EXPECT_EQ(first.new_connections, 1);
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    ClientResponse again = client.Do("GET", Url("/"));
    ASSERT_EQ(again.code, CURLE_OK);
    EXPECT_EQ(again.body, "hi");
    EXPECT_EQ(again.new_connections, 0) << "connection was not reused";
  }
  // An HTTP/1.0 client without keep-alive gets its connection closed.
  ClientResponse old = client.Do("GET", Url("/"), "", /*http10=*/true);
  EXPECT_EQ(old.status, 200);
  ClientResponse after = client.Do("GET", Url("/"));
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
        ClientResponse r = client.Do("GET", Url("/n?i=" + want));
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
  ClientResponse r = slow.get();
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

}  // namespace
}  // namespace starling::net
