#include "cluster/cluster.h"

#include <algorithm>

namespace starling::cluster {

std::uint64_t Cluster::Subscribe(Callback fn) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  std::uint64_t id = next_id_++;
  subscribers_.emplace_back(id, std::move(fn));
  return id;
}

void Cluster::Unsubscribe(std::uint64_t id) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  std::erase_if(subscribers_, [id](const auto& s) { return s.first == id; });
}

void Cluster::NotifySubscribers() {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  for (const auto& [id, fn] : subscribers_) fn();
}

StandaloneCluster::StandaloneCluster(std::string self, std::string addr) {
  view_.placement = std::make_shared<const Placement>(std::vector<std::string>{self});
  view_.self = self;
  self_.name = std::move(self);
  self_.addr = std::move(addr);
  self_.state = NodeState::kParticipant;
  self_.is_self = true;
}

}  // namespace starling::cluster
