#include "wal/internal/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace starling::wal::internal {
namespace {

std::string Bytes(int n, int (*f)(int)) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(f(i)));
  return s;
}

TEST(Crc32cTest, KnownVectors) {
  // The check value of the CRC catalogue and the vectors of RFC 3720 (iSCSI), appendix B.4.
  struct Case {
    std::string name;
    std::string data;
    std::uint32_t want;
  };
  const Case cases[] = {
      {"empty", "", 0x00000000},
      {"check", "123456789", 0xE3069283},
      {"zeros", std::string(32, '\0'), 0x8A9136AA},
      {"ones", std::string(32, '\xFF'), 0x62A8AB43},
      {"ascending", Bytes(32, [](int i) { return i; }), 0x46DD794E},
      {"descending", Bytes(32, [](int i) { return 31 - i; }), 0x113FDB5C},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Crc32c(c.data), c.want);
    EXPECT_EQ(Crc32cExtendPortable(0, c.data.data(), c.data.size()), c.want);
  }
}

TEST(Crc32cTest, HardwareAndPortableAgreeOnEveryLengthAndAlignment) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 131 + 7));
  for (std::size_t start = 0; start < 9; ++start) {
    for (std::size_t len = 0; start + len <= data.size(); len += 1 + len / 8) {
      SCOPED_TRACE(testing::Message() << start << "+" << len);
      EXPECT_EQ(Crc32cExtend(0x12345678, data.data() + start, len),
                Crc32cExtendPortable(0x12345678, data.data() + start, len));
    }
  }
}

TEST(Crc32cTest, ExtendMatchesOneShotAtEverySplit) {
  std::string data;
  for (int i = 0; i < 100; ++i) data.push_back(static_cast<char>(i * 37 + 11));
  const std::uint32_t whole = Crc32c(data);
  // Compare against a bytewise reference so the slicing path is checked too.
  std::uint32_t bytewise = 0;
  for (char ch : data) bytewise = Crc32cExtend(bytewise, &ch, 1);
  EXPECT_EQ(whole, bytewise);
  for (std::size_t split = 0; split <= data.size(); ++split) {
    SCOPED_TRACE(split);
    const std::uint32_t a = Crc32c(data.data(), split);
    EXPECT_EQ(Crc32cExtend(a, data.data() + split, data.size() - split), whole);
  }
}

}  // namespace
}  // namespace starling::wal::internal
