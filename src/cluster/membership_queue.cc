#include "cluster/membership_queue.h"

#include <utility>

namespace starling::cluster {

void BroadcastQueue::Enqueue(std::string key, std::vector<std::uint8_t> bytes) {
  auto it = items_.find(key);
  if (it != items_.end()) {
    order_.erase(it->second.get());
    it->second->bytes = std::move(bytes);
    it->second->transmits = 0;
    it->second->id = next_id_++;
    order_.insert(it->second.get());
    return;
  }
  auto item = std::make_unique<Item>();
  item->key = key;
  item->bytes = std::move(bytes);
  item->id = next_id_++;
  order_.insert(item.get());
  items_.emplace(std::move(key), std::move(item));
}

std::size_t BroadcastQueue::Take(std::size_t budget, int transmit_limit,
                                 std::vector<std::uint8_t>* out) {
  // After a few updates that do not fit, stop looking rather than walk the whole queue: they
  // are all about the same size.
  constexpr int kMaxMisses = 8;
  std::vector<Item*> taken;
  int misses = 0;
  for (Item* item : order_) {
    if (budget == 0 || misses >= kMaxMisses) break;
    if (item->bytes.size() > budget) {
      ++misses;
      continue;
    }
    budget -= item->bytes.size();
    out->insert(out->end(), item->bytes.begin(), item->bytes.end());
    taken.push_back(item);
  }
  for (Item* item : taken) {
    order_.erase(item);
    if (++item->transmits >= transmit_limit) {
      items_.erase(items_.find(item->key));  // destroys item
    } else {
      order_.insert(item);
    }
  }
  return taken.size();
}

int BroadcastQueue::transmits(const std::string& key) const {
  auto it = items_.find(key);
  return it == items_.end() ? -1 : it->second->transmits;
}

}  // namespace starling::cluster
