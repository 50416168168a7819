#include <memory>
#include <utility>

#include "net/http_client.h"
#include "scrape/scrape_pool.h"

namespace starling::scrape {
namespace {

constexpr int kMaxIdleConnections = 20000;  // Prometheus's MaxIdleConns

// Every scrape of the process shares one client (see SharedHttpClient).
class HttpFetcher final : public Fetcher {
 public:
  explicit HttpFetcher(std::shared_ptr<net::HttpClient> client) : client_(std::move(client)) {}
  void Fetch(net::ClientRequest request, Callback done) override {
    client_->Do(std::move(request), std::move(done));
  }

 private:
  std::shared_ptr<net::HttpClient> client_;
};

}  // namespace

std::shared_ptr<net::HttpClient> SharedHttpClient() {
  // Never destroyed: callbacks may still be running while the process exits.
  // One idle connection per target is kept, however many targets there are, as Prometheus's
  // client keeps up to 20000. With fewer than targets, the least recently used connection is
  // closed each time one is returned, and that is the next target due: every scrape would
  // connect anew.
  static auto* client = new std::shared_ptr<net::HttpClient>(std::make_shared<net::HttpClient>(
      net::HttpClient::Options{.max_idle_connections = kMaxIdleConnections}));
  return *client;
}

std::shared_ptr<Fetcher> NewHttpFetcher() {
  return std::make_shared<HttpFetcher>(SharedHttpClient());
}

}  // namespace starling::scrape
