#include "service/peers_api.h"

#include <gtest/gtest.h>

#include <chrono>

#include "service/web_api.h"

namespace starling::service {
namespace {

TEST(PeersApiTest, ListsLiveMembersInTheAgentsShape) {
  std::vector<cluster::Member> members(3);
  members[0].name = "a";
  members[0].addr = "127.0.0.1:1";
  members[0].state = cluster::NodeState::kParticipant;
  members[0].is_self = true;
  members[1].name = "b";
  members[1].addr = "127.0.0.1:2";
  members[1].liveness = cluster::Liveness::kSuspect;
  members[1].state = cluster::NodeState::kTerminating;
  members[1].state_lamport = 7;
  members[2].name = "c";
  members[2].liveness = cluster::Liveness::kDead;

  base::FakeClock clock;
  members[1].last_heard = clock.Monotonic();
  clock.Advance(std::chrono::seconds(3));
  nlohmann::json j = PeersToJson(members, {{"a", 7}, {"c", 2}}, clock);
  ASSERT_EQ(j.size(), 2U);
  EXPECT_EQ(j[0]["name"], "a");
  EXPECT_EQ(j[0]["addr"], "127.0.0.1:1");
  EXPECT_EQ(j[0]["isSelf"], true);
  EXPECT_EQ(j[0]["state"], "participant");
  EXPECT_EQ(j[1]["name"], "b");
  EXPECT_EQ(j[1]["isSelf"], false);
  EXPECT_EQ(j[1]["state"], "terminating");
  EXPECT_EQ(j[1]["liveness"], "suspect");
  EXPECT_EQ(j[1]["lamport"], 7);
  EXPECT_EQ(j[0]["targets"], 7);
  EXPECT_EQ(j[1]["targets"], 0);
  EXPECT_EQ(j[0]["lastHeard"], FormatUpdatedTime(clock.Now()));
  EXPECT_EQ(j[1]["lastHeard"], FormatUpdatedTime(clock.Now() - std::chrono::seconds(3)));
}

TEST(PeersApiTest, StandaloneAgentIsOneParticipant) {
  cluster::StandaloneCluster solo("solo", "127.0.0.1:12345");
  base::FakeClock clock;
  nlohmann::json j = PeersToJson(solo.Members(), {}, clock);
  ASSERT_EQ(j.size(), 1U);
  EXPECT_EQ(j[0]["name"], "solo");
  EXPECT_EQ(j[0]["isSelf"], true);
  EXPECT_EQ(j[0]["state"], "participant");
}

}  // namespace
}  // namespace starling::service
