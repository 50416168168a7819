#include "base/varint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace starling::base {
namespace {

TEST(VarintTest, Size) {
  const std::vector<std::pair<std::uint64_t, std::size_t>> cases = {
      {0, 1}, {127, 1}, {128, 2}, {16383, 2}, {16384, 3}, {~0ULL, 10}};
  for (const auto& [v, want] : cases) {
    SCOPED_TRACE(v);
    EXPECT_EQ(VarintSize(v), want);
    char buf[10];
    EXPECT_EQ(static_cast<std::size_t>(PutUvarint(buf, v) - buf), want);
  }
}

TEST(VarintTest, Bytes) {
  std::string s = "x";
  AppendUvarint(300, &s);
  EXPECT_EQ(s, "x\xAC\x02");
  std::vector<std::uint8_t> v;
  AppendUvarint(1, &v);
  AppendUvarint(~0ULL, &v);
  EXPECT_EQ(v, (std::vector<std::uint8_t>{1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                          0x01}));
}

}  // namespace
}  // namespace starling::base
