#pragma once

// BroadcastQueue: the updates waiting to be piggybacked, as memberlist's transmit-limited
// queue. Each update has a key (the member and the kind of news); a newer update with the same
// key replaces the older one, which is then never sent again. Take() packs the updates sent the
// fewest times first (newest first among equals) and drops an update once it has been sent
// `transmit_limit` times. Enqueue and Take are O(log n) per update handled.
//
// Thread-safety: none; owned by one Membership.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace starling::cluster {

class BroadcastQueue {
 public:
  // `bytes` is the encoded update (EncodeUpdate).
  void Enqueue(std::string key, std::vector<std::uint8_t> bytes);
  // Appends to `out` queued updates whose total size is at most `budget` bytes; returns how
  // many. Each one taken counts as one transmission.
  std::size_t Take(std::size_t budget, int transmit_limit, std::vector<std::uint8_t>* out);

  std::size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }
  // How many times the update under `key` was sent; -1 when it is not queued.
  int transmits(const std::string& key) const;

 private:
  struct Item {
    std::string key;
    std::vector<std::uint8_t> bytes;
    int transmits = 0;
    std::uint64_t id = 0;  // larger = newer
  };
  struct Order {
    bool operator()(const Item* a, const Item* b) const {
      if (a->transmits != b->transmits) return a->transmits < b->transmits;
      return a->id > b->id;
    }
  };

  std::unordered_map<std::string, std::unique_ptr<Item>> items_;
  std::set<Item*, Order> order_;
  std::uint64_t next_id_ = 1;
};

}  // namespace starling::cluster
