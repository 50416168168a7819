#include "base/timer_queue.h"

#include <gtest/gtest.h>

#include <vector>

namespace starling::base {
namespace {

TEST(TimerQueueTest, EarliestFirstAndAddOrderAtTheSameTime) {
  TimerQueue<int> q;
  std::vector<int> ran;
  EXPECT_TRUE(q.Add(30, [&] { ran.push_back(4); }));
  EXPECT_TRUE(q.Add(20, [&] { ran.push_back(2); }));
  EXPECT_FALSE(q.Add(20, [&] { ran.push_back(3); }));  // not earlier than the other at 20
  EXPECT_TRUE(q.Add(10, [&] { ran.push_back(1); }));
  EXPECT_EQ(q.size(), 4U);
  EXPECT_EQ(q.earliest(), 10);
  while (auto fn = q.PopDue(30)) fn();
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(q.empty());
}

TEST(TimerQueueTest, OnlyDueTimersPop) {
  TimerQueue<int> q;
  int ran = 0;
  q.Add(10, [&] { ++ran; });
  q.Add(20, [&] { ran += 10; });
  EXPECT_FALSE(q.PopDue(9));
  while (auto fn = q.PopDue(10)) fn();
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(q.size(), 1U);
  EXPECT_EQ(q.earliest(), 20);
  EXPECT_FALSE(TimerQueue<int>().PopDue(100));
}

}  // namespace
}  // namespace starling::base
