// HttpClient's cost per scrape-like GET over a kept-alive loopback connection, counted on the
// client's own thread only (the server runs on threads of its own).

#include <benchmark/benchmark.h>
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <string>
#include <thread>

#include "net/http.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/io_pool.h"

namespace starling::net {
namespace {

double ThreadCpuSeconds(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Arguments: the body size, and a pause between requests in ms. Scrapes come tens of ms
// apart, and after such a pause the same request costs several times its back-to-back cost
// (the loopback send that wakes the server, cold caches); the pause makes that visible.
void ScrapeGet(benchmark::State& state) {
  IoThreadPool pool(1);
  HttpServer server(pool.context(), HttpServer::Options{});
  const std::string body(static_cast<std::size_t>(state.range(0)), 'x');
  server.Handle("GET", "/metrics", [&body](const Request&) { return Response::Text(200, body); });
  if (!server.Start().ok()) {
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
