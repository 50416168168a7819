#include "cluster/placement.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace starling::cluster {
namespace {

std::vector<std::string> Names(int n, int first = 0) {
  std::vector<std::string> out;
  for (int i = first; i < first + n; ++i) out.push_back("node-" + std::to_string(i));
  return out;
}

// Keys as the scrape component makes them: hashes, so well spread. Use a simple generator
// that is not the placement's own mixer.
std::vector<std::uint64_t> Keys(int n) {
  std::vector<std::uint64_t> out;
  std::uint64_t x = 0x243f6a8885a308d3ULL;
  for (int i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    out.push_back(x ^ (x >> 29));
  }
  return out;
}

std::map<std::string, int> Loads(const Placement& p, const std::vector<std::uint64_t>& keys) {
  std::map<std::string, int> load;
  for (std::uint64_t k : keys) ++load[std::string(p.Owner(k))];
  return load;
}

TEST(PlacementTest, EmptyHasNoOwners) {
  Placement p;
  EXPECT_EQ(p.Owner(42), "");
  EXPECT_TRUE(p.Owners(42, 3).empty());
  EXPECT_FALSE(p.Owns(42, "a"));
}

TEST(PlacementTest, OneNodeOwnsEverything) {
  Placement p({"solo"});
  for (std::uint64_t k : Keys(1000)) EXPECT_TRUE(p.Owns(k, "solo"));
}

TEST(PlacementTest, SameOwnersWhateverThePeerOrder) {
  std::vector<std::string> names = Names(7);
  Placement a(names);
  std::reverse(names.begin(), names.end());
  names.push_back("node-3");  // duplicates do not matter either
  Placement b(names);
  for (std::uint64_t k : Keys(5000)) {
    EXPECT_EQ(a.Owner(k), b.Owner(k));
    EXPECT_EQ(a.Owners(k, 3), b.Owners(k, 3));
  }
}

TEST(PlacementTest, OwnersAreDistinctAndStartWithOwner) {
  Placement p(Names(5));
  for (std::uint64_t k : Keys(2000)) {
    std::vector<std::string_view> owners = p.Owners(k, 3);
    ASSERT_EQ(owners.size(), 3u);
    EXPECT_EQ(owners[0], p.Owner(k));
    EXPECT_EQ(std::set<std::string_view>(owners.begin(), owners.end()).size(), 3u);
    for (std::string_view o : owners) EXPECT_TRUE(p.Owns(k, o, 3));
  }
  EXPECT_EQ(p.Owners(1, 9).size(), 5u);  // never more owners than peers
}

// 10 nodes x 100,000 keys: the busiest node has at most 5% more keys than the mean.
TEST(PlacementTest, BalancedAcrossTenNodes) {
  const std::vector<std::uint64_t> keys = Keys(100000);
  Placement p(Names(10));
  std::map<std::string, int> load = Loads(p, keys);
  ASSERT_EQ(load.size(), 10u);
  int max = 0;
  for (const auto& [name, n] : load) max = std::max(max, n);
  const double mean = static_cast<double>(keys.size()) / 10;
  std::printf("10 nodes x 100000 keys: max/mean load %.4f\n", max / mean);
  EXPECT_LE(max / mean, 1.05) << "max " << max << " mean " << mean;
}

// Counts keys whose owner differs between two placements.
int Moved(const Placement& a, const Placement& b, const std::vector<std::uint64_t>& keys) {
  int moved = 0;
  for (std::uint64_t k : keys) moved += a.Owner(k) != b.Owner(k) ? 1 : 0;
  return moved;
}

// When one of 10 nodes leaves, or an 11th joins, at most 1.1x the ideal share of keys moves,
// and only to or from the node that changed.
TEST(PlacementTest, JoinAndLeaveMoveAboutOneNth) {
  const std::vector<std::uint64_t> keys = Keys(100000);
  const Placement ten(Names(10));

  std::vector<std::string> nine = Names(10);
  nine.erase(nine.begin() + 4);
  const Placement leave(nine);
  int moved = Moved(ten, leave, keys);
  std::printf("10 -> 9 nodes: %.4f of the keys moved (ideal 0.1)\n",
              moved / static_cast<double>(keys.size()));
  EXPECT_LE(moved, 1.1 * static_cast<double>(keys.size()) / 10) << moved;
  for (std::uint64_t k : keys) {
    if (ten.Owner(k) != leave.Owner(k)) {
      EXPECT_EQ(ten.Owner(k), "node-4");
    }
  }

  const Placement eleven(Names(11));
  moved = Moved(ten, eleven, keys);
  std::printf("10 -> 11 nodes: %.4f of the keys moved (ideal %.4f)\n",
              moved / static_cast<double>(keys.size()), 1.0 / 11);
  EXPECT_LE(moved, 1.1 * static_cast<double>(keys.size()) / 11) << moved;
  EXPECT_GT(moved, 0);
  for (std::uint64_t k : keys) {
    if (ten.Owner(k) != eleven.Owner(k)) {
      EXPECT_EQ(eleven.Owner(k), "node-10");
    }
  }
}

// With replicas, a leaving node's place in each key's owner list is taken by one other node:
// the remaining owners keep the key.
TEST(PlacementTest, ReplicasSurviveALeave) {
  const std::vector<std::uint64_t> keys = Keys(10000);
  const Placement five(Names(5));
  std::vector<std::string> four = Names(5);
  four.erase(four.begin());
  const Placement after(four);
  for (std::uint64_t k : keys) {
    std::vector<std::string_view> before = five.Owners(k, 2);
    std::vector<std::string_view> now = after.Owners(k, 2);
    for (std::string_view o : before) {
      if (o != "node-0") {
        EXPECT_TRUE(after.Owns(k, o, 2));
      }
    }
    EXPECT_EQ(now.size(), 2u);
  }
}

}  // namespace
}  // namespace starling::cluster
