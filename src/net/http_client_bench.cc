// HttpClient's cost per scrape-like GET over a kept-alive loopback connection, counted on the
// client's own thread only (the server here is a plain socket loop on a thread of its own).

#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <string>
#include <thread>

#include "net/http_client.h"

namespace starling::net {
namespace {

// Answers every request on each accepted connection with the same response.
class FixedServer {
 public:
  explicit FixedServer(std::size_t body_size) {
    response_ = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: " +
                std::to_string(body_size) + "\r\n\r\n" + std::string(body_size, 'x');
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      return;
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FixedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  FixedServer(const FixedServer&) = delete;
  FixedServer& operator=(const FixedServer&) = delete;
  int port() const { return port_; }

 private:
  void Serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string in;
      char buf[4096];
      for (;;) {
        const ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        while (in.find("\r\n\r\n") != std::string::npos) {
          in.erase(0, in.find("\r\n\r\n") + 4);
          for (std::size_t off = 0; off < response_.size();) {
            const ssize_t w = ::send(c, response_.data() + off, response_.size() - off, 0);
            if (w <= 0) break;
            off += static_cast<std::size_t>(w);
          }
        }
      }
      ::close(c);
    }
  }

  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

double ThreadCpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Arguments: the body size, and a pause between requests in ms. Scrapes come tens of ms
// apart, and after such a pause the same request costs several times its back-to-back cost
// (the loopback send that wakes the server, cold caches); the pause makes that visible.
void ScrapeGet(benchmark::State& state) {
  FixedServer server(static_cast<std::size_t>(state.range(0)));
  if (server.port() == 0) {
    state.SkipWithError("cannot start the server");
    return;
  }
  ClientRequest request;
  request.method = "GET";
  request.url = "http://127.0.0.1:" + std::to_string(server.port()) + "/metrics";
  request.headers = {{"Accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1"}};
  request.accept_gzip = true;
  request.timeout = std::chrono::seconds(10);
  HttpClient client;
  std::promise<clockid_t> clock_promise;
  client.RunAt(std::chrono::steady_clock::now(), [&] {
    clockid_t c{};
    pthread_getcpuclockid(pthread_self(), &c);
    clock_promise.set_value(c);
  });
  const clockid_t clock = clock_promise.get_future().get();
  const auto pause = std::chrono::milliseconds(state.range(1));
  const double cpu0 = ThreadCpuSeconds(clock);
  for (auto _ : state) {
    base::Result<ClientResponse> r = client.DoSync(request);
    if (!r.ok() || r->status != 200) {
      state.SkipWithError("the GET failed");
      return;
    }
    benchmark::DoNotOptimize(r->body.data());
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
  state.counters["client_cpu_us_per_get"] =
      (ThreadCpuSeconds(clock) - cpu0) * 1e6 /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}
BENCHMARK(ScrapeGet)->ArgsProduct({{100 * 1024, 480 * 1024}, {0, 20}})->UseRealTime();

}  // namespace
}  // namespace starling::net

BENCHMARK_MAIN();
