#include <algorithm>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "net/http_client.h"
#include "scrape/scrape_pool.h"

namespace starling::scrape {
namespace {

constexpr int kMaxIdleConnections = 20000;  // Prometheus's MaxIdleConns

// Every scrape of the process goes through the client of its lane (see ScrapeClient).
class HttpFetcher final : public Fetcher {
 public:
  void Fetch(net::ClientRequest request, std::size_t lane, Callback done) override {
    ScrapeClient(lane).Do(std::move(request), std::move(done));
  }
};

}  // namespace

std::size_t ScrapeLanes() {
  static const std::size_t kLanes = std::clamp(std::thread::hardware_concurrency(), 1U, 8U);
  return kLanes;
}

net::HttpClient& ScrapeClient(std::size_t lane) {
  // Never destroyed: callbacks may still be running while the process exits.
  // One idle connection per target is kept, however many targets there are, as Prometheus's
  // client keeps up to 20000. With fewer than targets, the least recently used connection is
  // closed each time one is returned, and that is the next target due: every scrape would
  // connect anew.
  static auto* clients = [] {
    auto* v = new std::vector<std::unique_ptr<net::HttpClient>>;
    for (std::size_t i = 0; i < ScrapeLanes(); ++i) {
      v->push_back(std::make_unique<net::HttpClient>(
          net::HttpClient::Options{.max_idle_connections = kMaxIdleConnections,
                                   .thread_name = "scrape-" + std::to_string(i)}));
    }
    return v;
  }();
  return *(*clients)[lane % clients->size()];
}

std::shared_ptr<Fetcher> NewHttpFetcher() { return std::make_shared<HttpFetcher>(); }

}  // namespace starling::scrape
