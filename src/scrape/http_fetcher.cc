#include <memory>
#include <utility>

#include "net/http_client.h"
#include "scrape/scrape_pool.h"

namespace starling::scrape {
namespace {

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
  static auto* client = new std::shared_ptr<net::HttpClient>(std::make_shared<net::HttpClient>());
  return *client;
}

std::shared_ptr<Fetcher> NewHttpFetcher() {
  return std::make_shared<HttpFetcher>(SharedHttpClient());
}

}  // namespace starling::scrape
