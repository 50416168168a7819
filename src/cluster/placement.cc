#include "cluster/placement.h"

#include <xxhash.h>

#include <algorithm>
#include <utility>

namespace starling::cluster {
namespace {

// A strong 64-bit finaliser (Stafford's mix13): scores of one key under different seeds must
// look independent, or some peers would win more keys than others.
std::uint64_t Mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

std::uint64_t Score(std::uint64_t key, std::uint64_t seed) { return Mix(key ^ seed); }

}  // namespace

Placement::Placement(std::vector<std::string> peers) : peers_(std::move(peers)) {
  std::sort(peers_.begin(), peers_.end());
  peers_.erase(std::unique(peers_.begin(), peers_.end()), peers_.end());
  seeds_.reserve(peers_.size());
  for (const std::string& p : peers_) seeds_.push_back(XXH3_64bits(p.data(), p.size()));
}

std::vector<std::string_view> Placement::Owners(std::uint64_t key, int count) const {
  std::vector<std::string_view> out;
  if (count <= 0 || peers_.empty()) return out;
  if (count == 1) {
    out.push_back(Owner(key));
    return out;
  }
  std::vector<std::pair<std::uint64_t, std::size_t>> scored;
  scored.reserve(peers_.size());
  for (std::size_t i = 0; i < peers_.size(); ++i) scored.emplace_back(Score(key, seeds_[i]), i);
  std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(count), scored.size());
  // Ties (equal scores) go to the smaller name, so that every node breaks them alike.
  std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(n), scored.end(),
                    [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first : a.second < b.second;
                    });
  for (std::size_t i = 0; i < n; ++i) out.push_back(peers_[scored[i].second]);
  return out;
}

std::string_view Placement::Owner(std::uint64_t key) const {
  if (peers_.empty()) return {};
  std::size_t best = 0;
  std::uint64_t best_score = Score(key, seeds_[0]);
  for (std::size_t i = 1; i < peers_.size(); ++i) {
    std::uint64_t s = Score(key, seeds_[i]);
    if (s > best_score) {
      best_score = s;
      best = i;
    }
  }
  return peers_[best];
}

bool Placement::Owns(std::uint64_t key, std::string_view peer, int count) const {
  if (count == 1) return Owner(key) == peer;
  for (std::string_view owner : Owners(key, count)) {
    if (owner == peer) return true;
  }
  return false;
}

}  // namespace starling::cluster
