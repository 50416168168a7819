#pragma once

// Placement: which members own a key. Rendezvous (highest-random-weight) hashing: every peer
// gets a score for the key, and the `count` highest scores own it. It is a pure function of the
// peer set and the key, so every node that sees the same peers computes the same owners without
// talking to anyone. When a peer joins it takes about 1/N of the keys, from every other peer
// alike; when a peer leaves only its own keys move.
//
// Thread-safety: immutable after construction; safe to share between threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace starling::cluster {

class Placement {
 public:
  Placement() = default;
  // `peers` are the names of the members that own work (Membership::Participants()); order
  // and duplicates do not matter.
  explicit Placement(std::vector<std::string> peers);

  // The owners of `key`, highest score first; min(count, peers) names.
  std::vector<std::string_view> Owners(std::uint64_t key, int count) const;
  // The first owner of `key`; empty when there are no peers.
  std::string_view Owner(std::uint64_t key) const;
  // Whether `peer` is among the `count` owners of `key`.
  bool Owns(std::uint64_t key, std::string_view peer, int count = 1) const;

  const std::vector<std::string>& peers() const { return peers_; }
  bool empty() const { return peers_.empty(); }

 private:
  std::vector<std::string> peers_;    // sorted, unique
  std::vector<std::uint64_t> seeds_;  // hash of each peer's name, same order
};

}  // namespace starling::cluster
