#include "net/http_client.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/testing.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "net/sigv4_testing.h"
#include "net/testing.h"

namespace starling::net {
namespace {

using namespace std::chrono_literals;

// A gate handlers wait on, so that tests can hold requests in flight without sleeping.
class Gate {
 public:
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  int Waiting() {
    std::lock_guard<std::mutex> lock(mu_);
    return waiting_;
  }
  // Blocks until `n` handlers are waiting at the gate.
  void AwaitWaiting(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return waiting_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

using testing::Gzip;

// A Beast server on 127.0.0.1 with the routes the tests use. Handlers that hold requests wait
// on gate_, which the destructor opens before stopping the server.
class TestServer {
 public:
  TestServer() : server_(pool_.context(), HttpServer::Options{}) {
    server_.Handle("", "/echo", [this](const Request& r) {
      Record(r);
      Response resp = Response::Text(200, r.method + " " + r.body);
      for (const Header& h : r.headers) {
        if (h.name.rfind("X-", 0) == 0)
          resp.headers.push_back({"X-Echo-" + h.name.substr(2), h.value});
      }
      return resp;
    });
    server_.Handle("GET", "/gzip", [this](const Request& r) {
      Record(r);
      Response resp = Response::Text(200, Gzip(GzipPlain()));
      resp.headers.push_back({"Content-Encoding", "gzip"});
      return resp;
    });
    server_.Handle("GET", "/big",
                   [](const Request&) { return Response::Text(200, std::string(100000, 'x')); });
    server_.Handle("GET", "/slow", [this](const Request&) {
      gate_.Wait();
      return Response::Text(200, "late");
    });
    server_.Handle("GET", "/redirect", [](const Request&) {
      Response resp = Response::Text(302, "");
      resp.headers.push_back({"Location", "/echo"});
      return resp;
    });
    server_.HandlePrefix(
        "GET", "/n/", [](const Request& r) { return Response::Text(200, "n=" + r.path_suffix); });
    EXPECT_TRUE(server_.Start().ok());
  }
  ~TestServer() {
    gate_.Open();
    server_.Stop();
    pool_.Stop();
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  static std::string GzipPlain() {
    std::string s;
    for (int i = 0; i < 1000; ++i) s += "metric_" + std::to_string(i) + " 1\n";
    return s;
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server_.port()) + path;
  }
  Request Last() {
    std::lock_guard<std::mutex> lock(mu_);
    return last_;
  }
  std::set<std::string> RemoteAddresses() {
    std::lock_guard<std::mutex> lock(mu_);
    return remotes_;
  }
  Gate& gate() { return gate_; }

 private:
  void Record(const Request& r) {
    std::lock_guard<std::mutex> lock(mu_);
    last_ = r;
    remotes_.insert(r.remote_address);
  }

  IoThreadPool pool_{8};  // room for handlers held at the gate
  HttpServer server_;
  Gate gate_;
  std::mutex mu_;
  Request last_;
  std::set<std::string> remotes_;
};

std::string Header(const Request& r, const std::string& name) {
  auto v = r.HeaderValue(name);
  return v ? std::string(*v) : "<none>";
}

TEST(HttpClientTest, GetAndPostRoundTrip) {
  TestServer server;
  HttpClient client(HttpClient::Options{.max_idle_connections = 8, .user_agent = "Test/1.0"});

  ClientRequest get;
  get.url = server.Url("/echo");
  get.headers = {{"X-One", "1"}};
  auto r = client.DoSync(get);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->status_text, "200 OK");
  EXPECT_EQ(r->body, "GET ");
  EXPECT_EQ(r->HeaderValue("x-echo-one").value_or("<none>"), "1");
  EXPECT_EQ(r->HeaderValue("Content-Type").value_or("<none>"), "text/plain; charset=utf-8");
  EXPECT_FALSE(r->HeaderValue("X-Missing").has_value());
  EXPECT_EQ(Header(server.Last(), "User-Agent"), "Test/1.0");
  EXPECT_EQ(Header(server.Last(), "Accept-Encoding"), "<none>");

  ClientRequest post;
  post.method = "POST";
  post.url = server.Url("/echo");
  post.headers = {{"Content-Type", "application/x-protobuf"}, {"User-Agent", "Mine"}};
  post.body = std::string(5000, 'b');  // large enough that curl would otherwise ask to continue
  r = client.DoSync(post);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "POST " + post.body);
  Request seen = server.Last();
  EXPECT_EQ(Header(seen, "Content-Type"), "application/x-protobuf");
  EXPECT_EQ(Header(seen, "User-Agent"), "Mine");
  EXPECT_EQ(Header(seen, "Expect"), "<none>");

  // Both requests went over one kept-alive connection.
  EXPECT_EQ(server.RemoteAddresses().size(), 1u);

  ClientRequest missing;
  missing.url = server.Url("/nothing");
  r = client.DoSync(missing);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(r->status_text, "404 Not Found");
}

TEST(HttpClientTest, GzipResponseDecoded) {
  TestServer server;
  HttpClient client;
  ClientRequest req;
  req.url = server.Url("/gzip");
  req.accept_gzip = true;
  auto r = client.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, TestServer::GzipPlain());
  EXPECT_EQ(Header(server.Last(), "Accept-Encoding"), "gzip");

  // The decoded size counts against the limit.
  req.body_size_limit = static_cast<std::int64_t>(TestServer::GzipPlain().size()) - 1;
  r = client.DoSync(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kResourceExhausted);
}

TEST(HttpClientTest, BodySizeLimit) {
  TestServer server;
  HttpClient client;
  struct Case {
    std::int64_t limit;
    bool want_ok;
  };
  for (const Case& c : std::vector<Case>{{0, true}, {100000, true}, {99999, false}, {10, false}}) {
    SCOPED_TRACE(c.limit);
    ClientRequest req;
    req.url = server.Url("/big");
    req.body_size_limit = c.limit;
    auto r = client.DoSync(req);
    if (c.want_ok) {
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      EXPECT_EQ(r->body.size(), 100000u);
    } else {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), base::StatusCode::kResourceExhausted);
      EXPECT_EQ(r.error().message(), "body size limit exceeded");
    }
  }
}

using Send = std::function<base::Result<ClientResponse>(ClientRequest, std::stop_token)>;

// A request to a handler that never answers, through `send`, times out as Go reports it.
void ExpectTimeout(TestServer& server, const Send& send) {
  ClientRequest req;
  req.url = server.Url("/slow");
  req.timeout = 50ms;
  auto r = send(req, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(r.error().message(), "Get \"" + req.url + "\": context deadline exceeded");
}

TEST(HttpClientTest, ConnectionRefused) {
  // A bound socket that does not listen: connecting to its port is refused.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  HttpClient client;
  ClientRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  auto r = client.DoSync(req);
  close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kUnavailable);
  EXPECT_EQ(r.error().message().rfind("Get \"" + req.url + "\": ", 0), 0u) << r.error().message();

  req.url = "ftp://127.0.0.1/";
  r = client.DoSync(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kInvalidArgument) << r.error().ToString();
}

TEST(HttpClientTest, ConfigCredentials) {
  TestServer server;
  HttpClient client;
  auto basic = std::make_shared<ClientConfig>();
  basic->basic_auth = ClientConfig::BasicAuth{"user", "pass"};
  auto bearer = std::make_shared<ClientConfig>();
  bearer->authorization = "Bearer tok";
  struct Case {
    std::string name;
    std::shared_ptr<const ClientConfig> config;
    std::vector<net::Header> headers;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"none", nullptr, {}, "<none>"},
      {"basic", basic, {}, "Basic dXNlcjpwYXNz"},
      {"authorization", bearer, {}, "Bearer tok"},
      {"request header wins", bearer, {{"Authorization", "Custom x"}}, "Custom x"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ClientRequest req;
    req.url = server.Url("/echo");
    req.config = c.config;
    req.headers = c.headers;
    auto r = client.DoSync(req);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(Header(server.Last(), "Authorization"), c.want);
  }
}

// The checker of the tests below against get-vanilla-query-order-key-case of AWS's SigV4 test
// suite, so that it is known to check what AWS checks.
TEST(SigV4CheckTest, AcceptsTheAwsTestSuiteRequestOnly) {
  Request r;
  r.method = "GET";
  r.path = "/";
  r.query = "Param2=value2&Param1=value1";
  r.headers = {{"Host", "example.amazonaws.com"},
               {"X-Amz-Date", "20150830T123600Z"},
               {"Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                "aws4_request, SignedHeaders=host;x-amz-date, "
                "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"}};
  const std::string secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  testing::SigV4Check c = testing::CheckSigV4(r, secret);
  EXPECT_EQ(c.error, "");
  EXPECT_EQ(c.access_key, "AKIDEXAMPLE");
  EXPECT_EQ(c.region, "us-east-1");
  EXPECT_EQ(c.service, "service");
  EXPECT_NE(testing::CheckSigV4(r, "another secret").error, "");
  Request changed = r;
  changed.query = "Param2=value2&Param1=value0";
  EXPECT_NE(testing::CheckSigV4(changed, secret).error, "");
  changed = r;
  changed.body = "x";
  EXPECT_NE(testing::CheckSigV4(changed, secret).error, "");
  changed = r;
  changed.headers.erase(changed.headers.begin());
  EXPECT_EQ(testing::CheckSigV4(changed, secret).error, "signed header host was not received");
}

// Requests of a SigV4 config are signed with its credentials, by the client and by sessions;
// every header they sign reaches the server, and their query is in canonical order.
TEST(HttpClientTest, SignsWithSigV4) {
  TestServer server;
  HttpClient client;
  HttpClient::Session session(client);
  ClientConfig::SigV4 sigv4;
  sigv4.region = "eu-west-1";
  sigv4.keys = {"AKID", "SECRET", ""};
  auto plain = std::make_shared<ClientConfig>();
  plain->sigv4 = sigv4;
  sigv4.keys.session_token = "TOKEN";
  auto temporary = std::make_shared<ClientConfig>();
  temporary->sigv4 = sigv4;

  ClientRequest post;
  post.method = "POST";
  post.url = server.Url("/echo?b=2&a=1&a=0");
  post.headers = {{"Content-Type", "application/x-protobuf"},
                  {"Content-Encoding", "snappy"},
                  {"X-Prometheus-Remote-Write-Version", "0.1.0"},
                  {"User-Agent", "Signer/1.0"}};
  post.body = std::string("\x00\x01snappy\xff", 9);
  for (const auto& config : {plain, temporary}) {
    for (bool in_session : {false, true}) {
      SCOPED_TRACE(std::string(config == plain ? "static" : "temporary") +
                   (in_session ? ", session" : ", client"));
      ClientRequest req = post;
      req.config = config;
      auto r = in_session ? session.Do(req) : client.DoSync(req);
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      const Request seen = server.Last();
      ASSERT_EQ(seen.body, post.body);
      EXPECT_EQ(seen.query, "a=0&a=1&b=2");  // libcurl signs the query in the order sent
      const testing::SigV4Check c = testing::CheckSigV4(seen, "SECRET");
      EXPECT_EQ(c.error, "");
      EXPECT_EQ(c.access_key, "AKID");
      EXPECT_EQ(c.region, "eu-west-1");
      EXPECT_EQ(c.service, "aps");
      EXPECT_NE(c.signed_headers.find("content-encoding;content-type;host;x-amz-date"),
                std::string::npos)
          << c.signed_headers;
      EXPECT_NE(c.signed_headers.find("x-prometheus-remote-write-version"), std::string::npos);
      EXPECT_EQ(c.signed_headers.find("user-agent"), std::string::npos);
      EXPECT_EQ(Header(seen, "User-Agent"), "Signer/1.0");
      EXPECT_EQ(Header(seen, "X-Amz-Security-Token"), config == plain ? "<none>" : "TOKEN");
      EXPECT_NE(testing::CheckSigV4(seen, "OTHER").error, "");
    }
  }
}

TEST(HttpClientTest, Redirects) {
  TestServer server;
  HttpClient client;
  auto no_follow = std::make_shared<ClientConfig>();
  no_follow->follow_redirects = false;
  ClientRequest req;
  req.url = server.Url("/redirect");
  auto r = client.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "GET ");
  EXPECT_FALSE(r->HeaderValue("Location").has_value());

  req.config = no_follow;
  r = client.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(r->HeaderValue("Location").value_or("<none>"), "/echo");
}

TEST(HttpClientTest, EnvironmentProxyIgnored) {
  TestServer server;
  base::testing::ScopedEnv env({{"http_proxy", std::string("http://127.0.0.1:1")}});
  HttpClient client;
  ClientRequest req;
  req.url = server.Url("/echo");
  auto r = client.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 200);
}

// A socket listening on 127.0.0.1; `serve` gets it on a thread of its own and accepts until
// accept fails, which the destructor causes.
class LoopbackListener {
 public:
  explicit LoopbackListener(std::function<void(int listen_fd)> serve) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(listen(fd_, 16), 0);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, serve = std::move(serve)] { serve(fd_); });
  }
  ~LoopbackListener() {
    shutdown(fd_, SHUT_RDWR);  // wakes the blocked accept
    thread_.join();
    close(fd_);
  }
  LoopbackListener(const LoopbackListener&) = delete;
  LoopbackListener& operator=(const LoopbackListener&) = delete;

  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

// A forward proxy on 127.0.0.1 that answers every request itself ("proxied") and refuses
// CONNECT, recording the request heads it got.
class FakeProxy {
 public:
  FakeProxy() {
    listener_ = std::make_unique<LoopbackListener>([this](int fd) { Serve(fd); });
  }
  ~FakeProxy() { listener_.reset(); }
  FakeProxy(const FakeProxy&) = delete;
  FakeProxy& operator=(const FakeProxy&) = delete;

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(listener_->port()); }
  std::vector<std::string> Heads() {
    std::lock_guard<std::mutex> lock(mu_);
    return heads_;
  }

 private:
  void Serve(int listen_fd) {
    while (true) {
      const int fd = accept(listen_fd, nullptr, nullptr);
      if (fd < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        heads_.push_back(head);
      }
      const std::string resp =
          head.rfind("CONNECT ", 0) == 0
              ? "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
              : "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied";
      EXPECT_EQ(write(fd, resp.data(), resp.size()), static_cast<ssize_t>(resp.size()));
      close(fd);
    }
  }

  std::unique_ptr<LoopbackListener> listener_;  // made last, reset first: its thread uses the rest
  std::mutex mu_;
  std::vector<std::string> heads_;
};

// proxy_url with no_proxy, the environment's proxies (never for loopback hosts), and the
// headers for the proxy's CONNECT, which carry none of the request's own.
TEST(HttpClientTest, Proxies) {
  TestServer server;
  FakeProxy proxy;
  HttpClient client;
  auto get = [&](const std::string& url, auto&& fill) {
    auto c = std::make_shared<ClientConfig>();
    fill(*c);
    ClientRequest req;
    req.url = url;
    req.config = std::move(c);
    return client.DoSync(req);
  };
  const std::string direct_url = server.Url("/echo");

  auto r = get(direct_url, [&](ClientConfig& c) { c.proxy_url = proxy.Url(); });
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "proxied");
  ASSERT_EQ(proxy.Heads().size(), 1U);
  EXPECT_EQ(proxy.Heads()[0].rfind("GET " + direct_url + " HTTP/1.1\r\n", 0), 0U)
      << proxy.Heads()[0];

  for (const char* no_proxy : {"127.0.0.1", "10.0.0.0/8,127.0.0.0/8"}) {
    r = get(direct_url, [&](ClientConfig& c) {
      c.proxy_url = proxy.Url();
      c.no_proxy = no_proxy;
    });
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->body, "GET ") << no_proxy;
  }

  // A configured proxy_url goes with the configured no_proxy alone, as in Prometheus.
  {
    base::testing::ScopedEnv env({{"no_proxy", "127.0.0.1"}, {"NO_PROXY", "127.0.0.1"}});
    r = get(direct_url, [&](ClientConfig& c) { c.proxy_url = proxy.Url(); });
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->body, "proxied");
    ASSERT_EQ(proxy.Heads().size(), 2U);
  }

  auto from_env = [&](ClientConfig& c) {
    c.environment_proxy = ClientConfig::EnvironmentProxy{proxy.Url(), "", "other.invalid"};
  };
  r = get(direct_url, from_env);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "GET ");
  // The proxy resolves the name: nothing is looked up here.
  r = get("http://example.invalid/x", from_env);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "proxied");
  ASSERT_EQ(proxy.Heads().size(), 3U);
  EXPECT_EQ(proxy.Heads()[2].rfind("GET http://example.invalid/x HTTP/1.1\r\n", 0), 0U);

  r = get("https://example.invalid/x", [&](ClientConfig& c) {
    c.proxy_url = proxy.Url();
    c.proxy_connect_headers = {{"X-Proxy-Token", "s"}};
    c.authorization = "Bearer for-the-host";
  });
  EXPECT_FALSE(r.ok());
  ASSERT_EQ(proxy.Heads().size(), 4U);
  const std::string connect = proxy.Heads()[3];
  EXPECT_EQ(connect.rfind("CONNECT example.invalid:443 HTTP/1.1\r\n", 0), 0U) << connect;
  EXPECT_NE(connect.find("\r\nX-Proxy-Token: s\r\n"), std::string::npos) << connect;
  EXPECT_EQ(connect.find("for-the-host"), std::string::npos) << connect;
}

TEST(HttpClientTest, ManyConcurrentRequests) {
  TestServer server;
  HttpClient client;
  constexpr int kRequests = 200;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  std::vector<std::string> bodies(kRequests);
  std::vector<int> statuses(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    ClientRequest req;
    req.url = server.Url("/n/" + std::to_string(i));
    client.Do(std::move(req), [&, i](base::Result<ClientResponse> r) {
      std::lock_guard<std::mutex> lock(mu);
      if (r.ok()) {
        statuses[i] = r->status;
        bodies[i] = r->body;
      } else {
        bodies[i] = r.error().ToString();
      }
      ++done;
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done == kRequests; });
  for (int i = 0; i < kRequests; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(statuses[i], 200);
    EXPECT_EQ(bodies[i], "n=" + std::to_string(i));
  }
}

TEST(HttpClientTest, DestructorCancelsOutstanding) {
  TestServer server;
  constexpr int kRequests = 5;
  std::atomic<int> cancelled{0};
  std::atomic<int> other{0};
  {
    HttpClient client;
    for (int i = 0; i < kRequests; ++i) {
      ClientRequest req;
      req.url = server.Url("/slow");
      req.timeout = 0ms;  // none
      client.Do(std::move(req), [&](const base::Result<ClientResponse>& r) {
        if (!r.ok() && r.error().code() == base::StatusCode::kCancelled) {
          ++cancelled;
        } else {
          ++other;
        }
      });
    }
    server.gate().AwaitWaiting(kRequests);
  }
  EXPECT_EQ(cancelled.load(), kRequests);
  EXPECT_EQ(other.load(), 0);
}

// What timers of a test recorded, and on which thread, with a wait for a count of them.
class TimerLog {
 public:
  void Add(int v) {
    std::lock_guard<std::mutex> lock(mu_);
    got_.push_back(v);
    threads_.insert(std::this_thread::get_id());
    cv_.notify_all();
  }
  // The values once there are n, or what there is after a generous deadline.
  std::vector<int> WaitFor(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, 30s, [&] { return got_.size() >= n; });
    return got_;
  }
  std::set<std::thread::id> Threads() {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> got_;
  std::set<std::thread::id> threads_;
};

HttpClient::Steady::time_point In(std::chrono::milliseconds d) {
  return HttpClient::Steady::now() + d;
}

TEST(HttpClientTimerTest, TimersRunInDueOrderOnTheClientThread) {
  TimerLog log;
  HttpClient client;
  const auto same = In(40ms);
  client.RunAt(In(80ms), [&] { log.Add(4); });
  client.RunAt(same, [&] { log.Add(2); });
  client.RunAt(In(10ms), [&] { log.Add(1); });
  client.RunAt(same, [&] { log.Add(3); });  // after the other one due then
  EXPECT_EQ(log.WaitFor(4), (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(log.Threads().size(), 1U);
  EXPECT_EQ(log.Threads().count(std::this_thread::get_id()), 0U);
}

TEST(HttpClientTimerTest, AnEarlierTimerWakesTheSleepingClient) {
  TimerLog log;
  HttpClient client;
  client.RunAt(In(1h), [&] { log.Add(2); });
  // Give the client's thread time to go to sleep until the hour is up.
  std::this_thread::sleep_for(50ms);
  client.RunAt(In(10ms), [&] { log.Add(1); });
  EXPECT_EQ(log.WaitFor(1), (std::vector<int>{1}));
}

TEST(HttpClientTimerTest, TimersStartRequestsAndAddTimers) {
  TestServer server;
  TimerLog log;
  HttpClient client;
  client.RunAt(In(5ms), [&] {
    ClientRequest req;
    req.url = server.Url("/n/7");
    client.Do(std::move(req), [&](base::Result<ClientResponse> r) {
      log.Add(r.ok() && r->body == "n=7" ? 1 : -1);
      client.RunAt(In(5ms), [&] { log.Add(2); });
    });
  });
  EXPECT_EQ(log.WaitFor(2), (std::vector<int>{1, 2}));
}

TEST(HttpClientTimerTest, PendingTimersNeverRunAfterDestruction) {
  std::atomic<int> ran{0};
  {
    HttpClient client;
    client.RunAt(In(1h), [&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 0);
}

// Runs requests to a handler that never answers through `send`, with a stop requested before
// the request and while it waits: both fail with kCancelled.
void ExpectStops(TestServer& server, const Send& send) {
  ClientRequest req;
  req.url = server.Url("/slow");
  req.timeout = 0ms;

  std::stop_source already;
  already.request_stop();
  auto r = send(req, already.get_token());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kCancelled);

  // Stopped once the server holds the request (the gate may hold earlier ones).
  std::stop_source stop;
  const int held = server.gate().Waiting();
  std::thread stopper([&] {
    server.gate().AwaitWaiting(held + 1);
    stop.request_stop();
  });
  r = send(req, stop.get_token());
  stopper.join();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kCancelled);
}

TEST(HttpClientTest, DoSyncTimesOutAndStops) {
  TestServer server;
  HttpClient client;
  const Send send = [&](ClientRequest req, std::stop_token stop) {
    return client.DoSync(std::move(req), stop);
  };
  ExpectTimeout(server, send);
  ExpectStops(server, send);
}

TEST(HttpClientSessionTest, RequestsOnTheCallingThreadKeepTheirConnection) {
  TestServer server;
  HttpClient client(HttpClient::Options{.user_agent = "Session/1.0"});
  HttpClient::Session session(client);

  ClientRequest post;
  post.method = "POST";
  post.url = server.Url("/echo");
  post.headers = {{"Content-Type", "application/x-protobuf"}, {"X-One", "1"}};
  post.body = std::string(5000, 'b');
  for (int i = 0; i < 3; ++i) {
    auto r = session.Do(post);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->status_text, "200 OK");
    EXPECT_EQ(r->body, "POST " + post.body);
    EXPECT_EQ(r->HeaderValue("x-echo-one").value_or("<none>"), "1");
  }
  const Request seen = server.Last();
  EXPECT_EQ(Header(seen, "User-Agent"), "Session/1.0");
  EXPECT_EQ(Header(seen, "Content-Type"), "application/x-protobuf");
  EXPECT_EQ(Header(seen, "Expect"), "<none>");

  ClientRequest missing;
  missing.url = server.Url("/nothing");
  auto r = session.Do(missing);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status_text, "404 Not Found");
  // One connection for all four requests.
  EXPECT_EQ(server.RemoteAddresses().size(), 1u);
}

TEST(HttpClientSessionTest, FailsAsTheClientDoes) {
  TestServer server;
  HttpClient client;
  HttpClient::Session session(client);
  const Send send = [&](ClientRequest req, std::stop_token stop) {
    return session.Do(std::move(req), stop);
  };
  ExpectTimeout(server, send);
  ExpectStops(server, send);

  ClientRequest big;
  big.url = server.Url("/big");
  big.body_size_limit = 10;
  auto r = session.Do(big);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kResourceExhausted);

  ClientRequest bad;
  bad.url = "nope://x";
  r = session.Do(bad);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kInvalidArgument);

  // The session still works after failed and cancelled requests.
  big.body_size_limit = 0;
  r = session.Do(big);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body.size(), 100000u);
}

// A self-signed certificate for the DNS name "tls.test" only, with its key, as PEM text.
struct TestCert {
  std::string cert_pem;
  std::string key_pem;
};

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

TestCert MakeCert() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("tls.test"), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_set_pubkey(x, key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* san =
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, const_cast<char*>("DNS:tls.test"));
  X509_add_ext(x, san, -1);
  X509_EXTENSION_free(san);
  X509_sign(x, key, EVP_sha256());
  TestCert out;
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  out.cert_pem = BioText(bio);
  BIO_free(bio);
  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key_pem = BioText(bio);
  BIO_free(bio);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// A minimal HTTPS/1.1 server on 127.0.0.1: one connection at a time, one request each,
// answered "200 ok". It records the SNI name and Host header it saw, and may require a client
// certificate signed by (equal to) its own.
class TlsServer {
 public:
  // max_version: the highest TLS version it speaks (TLS1_2_VERSION...), 0 for OpenSSL's.
  TlsServer(const TestCert& cert, bool require_client_cert, int max_version = 0) {
    // OpenSSL writes to sockets the client may have closed after rejecting the handshake.
    std::signal(SIGPIPE, SIG_IGN);
    ctx_ = SSL_CTX_new(TLS_server_method());
    if (max_version != 0) {
      EXPECT_EQ(SSL_CTX_set_max_proto_version(ctx_, max_version), 1);
    }
    BIO* bio = BIO_new_mem_buf(cert.cert_pem.data(), static_cast<int>(cert.cert_pem.size()));
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    bio = BIO_new_mem_buf(cert.key_pem.data(), static_cast<int>(cert.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    EXPECT_EQ(SSL_CTX_use_certificate(ctx_, x), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(ctx_, key), 1);
    if (require_client_cert) {
      X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx_), x);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    X509_free(x);
    EVP_PKEY_free(key);

    listener_ = std::make_unique<LoopbackListener>([this](int fd) { Serve(fd); });
  }
  ~TlsServer() {
    listener_.reset();
    SSL_CTX_free(ctx_);
  }
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  int port() const { return listener_->port(); }
  std::string LastSni() {
    std::lock_guard<std::mutex> lock(mu_);
    return sni_;
  }
  std::string LastRequest() {
    std::lock_guard<std::mutex> lock(mu_);
    return request_;
  }
  // The TLS version of the last connection served ("TLSv1.2").
  std::string LastVersion() {
    std::lock_guard<std::mutex> lock(mu_);
    return version_;
  }

 private:
  void Serve(int listen_fd) {
    while (true) {
      int fd = accept(listen_fd, nullptr, nullptr);
      if (fd < 0) return;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) == 1) {
        std::string request;
        char buf[4096];
        while (request.find("\r\n\r\n") == std::string::npos) {
          int n = SSL_read(ssl, buf, sizeof(buf));
          if (n <= 0) break;
          request.append(buf, static_cast<std::size_t>(n));
        }
        const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        {
          std::lock_guard<std::mutex> lock(mu_);
          sni_ = sni == nullptr ? "" : sni;
          request_ = request;
          version_ = SSL_get_version(ssl);
        }
        const std::string resp =
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
        SSL_write(ssl, resp.data(), static_cast<int>(resp.size()));
        SSL_shutdown(ssl);
      }
      ERR_clear_error();
      SSL_free(ssl);
      close(fd);
    }
  }

  SSL_CTX* ctx_ = nullptr;
  std::unique_ptr<LoopbackListener> listener_;  // made last, reset first: its thread uses the rest
  std::mutex mu_;
  std::string sni_;
  std::string request_;
  std::string version_;
};

TEST(HttpClientTest, Tls) {
  const TestCert cert = MakeCert();
  TlsServer server(cert, /*require_client_cert=*/false);
  HttpClient client;
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x";
  auto config = [&](auto&& fill) {
    auto c = std::make_shared<ClientConfig>();
    c->tls.ca_pem = cert.cert_pem;
    fill(*c);
    return std::shared_ptr<const ClientConfig>(std::move(c));
  };
  struct Case {
    std::string name;
    std::shared_ptr<const ClientConfig> config;
    bool want_ok;
    std::string want_sni;
  };
  const std::vector<Case> cases = {
      // The certificate is for tls.test, not 127.0.0.1.
      {"name mismatch", config([](ClientConfig&) {}), false, ""},
      {"server name", config([](ClientConfig& c) { c.tls.server_name = "tls.test"; }), true,
       "tls.test"},
      {"server name over HTTP/1.1", config([](ClientConfig& c) {
         c.tls.server_name = "tls.test";
         c.enable_http2 = false;
       }),
       true, "tls.test"},
      {"insecure", config([](ClientConfig& c) { c.tls.insecure_skip_verify = true; }), true, ""},
      {"unknown CA", std::make_shared<ClientConfig>(), false, ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ClientRequest req;
    req.url = url;
    req.config = c.config;
    auto r = client.DoSync(req);
    if (!c.want_ok) {
      ASSERT_FALSE(r.ok());
      EXPECT_EQ(r.error().code(), base::StatusCode::kUnavailable) << r.error().ToString();
      continue;
    }
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    EXPECT_EQ(r->body, "ok");
    EXPECT_EQ(server.LastSni(), c.want_sni);
    // The Host header still names the address of the URL.
    EXPECT_NE(
        server.LastRequest().find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"),
        std::string::npos)
        << server.LastRequest();
  }
}

// min_version is the lowest version the client accepts: TLS 1.2 unless set, as in Go.
TEST(HttpClientTest, TlsMinVersion) {
  const TestCert cert = MakeCert();
  TlsServer tls12(cert, /*require_client_cert=*/false, TLS1_2_VERSION);
  TlsServer tls13(cert, /*require_client_cert=*/false);
  HttpClient client;
  auto get = [&](TlsServer& server, std::optional<ClientConfig::TlsVersion> min) {
    auto c = std::make_shared<ClientConfig>();
    c->tls.ca_pem = cert.cert_pem;
    c->tls.server_name = "tls.test";
    if (min) c->tls.min_version = *min;
    ClientRequest req;
    req.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x";
    req.config = std::move(c);
    return client.DoSync(req);
  };
  auto r = get(tls12, std::nullopt);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(tls12.LastVersion(), "TLSv1.2");
  r = get(tls12, ClientConfig::TlsVersion::kTls13);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), base::StatusCode::kUnavailable) << r.error().ToString();
  r = get(tls13, ClientConfig::TlsVersion::kTls13);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(tls13.LastVersion(), "TLSv1.3");
}

TEST(HttpClientTest, TlsClientCertificate) {
  const TestCert cert = MakeCert();
  TlsServer server(cert, /*require_client_cert=*/true);
  HttpClient client;
  ClientRequest req;
  req.url = "https://127.0.0.1:" + std::to_string(server.port()) + "/x";
  auto without = std::make_shared<ClientConfig>();
  without->tls.ca_pem = cert.cert_pem;
  without->tls.server_name = "tls.test";
  req.config = without;
  auto r = client.DoSync(req);
  EXPECT_FALSE(r.ok());

  auto with = std::make_shared<ClientConfig>(*without);
  with->tls.cert_pem = cert.cert_pem;
  with->tls.key_pem = cert.key_pem;
  req.config = with;
  r = client.DoSync(req);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->body, "ok");
}

}  // namespace
}  // namespace starling::net
