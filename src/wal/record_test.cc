#include "wal/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "storage/storage.h"

namespace starling::wal::record {
namespace {

using ::testing::HasSubstr;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

TEST(RecordTest, TypeOf) {
  struct Case {
    std::string rec;
    Type want;
  };
  const Case cases[] = {
      {"", Type::kUnknown},
      {Bytes({1}), Type::kSeries},
      {Bytes({2, 0}), Type::kSamples},
      {Bytes({3}), Type::kTombstones},
      {Bytes({4}), Type::kExemplars},
      {Bytes({0}), Type::kUnknown},
      {Bytes({5}), Type::kUnknown},
      {Bytes({255}), Type::kUnknown},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.rec));
    EXPECT_EQ(TypeOf(c.rec), c.want);
  }
}

// Byte for byte what Prometheus's record.Encoder writes for the same input.
TEST(RecordTest, SeriesBytesMatchPrometheus) {
  const RefSeries series[] = {{1, model::Labels{{"__name__", "up"}, {"job", "x"}}},
                              {300, model::Labels{}}};
  std::string got = "prefix";
  EncodeSeries(series, &got);
  const std::string want = "prefix" + Bytes({1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 8}) + "__name__" +
                           Bytes({2}) + "up" + Bytes({3}) + "job" + Bytes({1}) + "x" +
                           Bytes({0, 0, 0, 0, 0, 0, 1, 0x2c, 0});
  EXPECT_EQ(got, want);

  std::vector<RefSeries> decoded;
  ASSERT_TRUE(DecodeSeries(std::string_view(got).substr(6), &decoded).ok());
  EXPECT_EQ(decoded, std::vector<RefSeries>(std::begin(series), std::end(series)));
}

TEST(RecordTest, SamplesBytesMatchPrometheus) {
  const RefSample samples[] = {{10, 1000, 1.5}, {12, 990, -2}};
  std::string got;
  EncodeSamples(samples, &got);
  const std::string want = Bytes({2,                                   // type
                                  0,    0,    0, 0, 0, 0, 0,    10,    // base ref
                                  0,    0,    0, 0, 0, 0, 0x03, 0xe8,  // base time 1000
                                  0,    0,                             // deltas 0, 0
                                  0x3f, 0xf8, 0, 0, 0, 0, 0,    0,     // 1.5
                                  4,    0x13,                          // +2, -10 (zigzag)
                                  0xc0, 0,    0, 0, 0, 0, 0,    0});   // -2
  EXPECT_EQ(got, want);

  std::vector<RefSample> decoded = {{7, 7, 7}};
  ASSERT_TRUE(DecodeSamples(got, &decoded).ok());
  ASSERT_EQ(decoded.size(), 3u);
  EXPECT_EQ(decoded[0].ref, 7u);  // Appended, not replaced.
  EXPECT_EQ(decoded[1].ref, 10u);
  EXPECT_EQ(decoded[1].t, 1000);
  EXPECT_EQ(decoded[1].v, 1.5);
  EXPECT_EQ(decoded[2].ref, 12u);
  EXPECT_EQ(decoded[2].t, 990);
  EXPECT_EQ(decoded[2].v, -2);

  std::string empty;
  EncodeSamples({}, &empty);
  EXPECT_EQ(empty, Bytes({2}));
}

TEST(RecordTest, ExemplarsBytesMatchPrometheus) {
  const RefExemplar exemplars[] = {{5, 100, 1, model::Labels{{"trace_id", "ab"}}}};
  std::string got;
  EncodeExemplars(exemplars, &got);
  const std::string want = Bytes({4, 0,   0, 0, 0,    0,    0, 0, 5, 0, 0, 0, 0, 0, 0,
                                  0, 100, 0, 0, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0, 1, 8}) +
                           "trace_id" + Bytes({2}) + "ab";
  EXPECT_EQ(got, want);
  std::vector<RefExemplar> decoded;
  ASSERT_TRUE(DecodeExemplars(got, &decoded).ok());
  ASSERT_EQ(decoded.size(), 1u);
  EXPECT_EQ(decoded[0].ref, 5u);
  EXPECT_EQ(decoded[0].t, 100);
  EXPECT_EQ(decoded[0].v, 1);
  EXPECT_EQ(decoded[0].labels, exemplars[0].labels);
}

TEST(RecordTest, SamplesRoundTripExtremes) {
  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  const std::vector<RefSample> samples = {
      {1, 0, 0},
      {~std::uint64_t{0}, kMax, std::numeric_limits<double>::infinity()},
      {1ULL << 63, kMin, storage::StaleNaN()},
      {2, -5, -0.0},
  };
  std::string rec;
  EncodeSamples(samples, &rec);
  std::vector<RefSample> got;
  ASSERT_TRUE(DecodeSamples(rec, &got).ok());
  ASSERT_EQ(got.size(), samples.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(got[i].ref, samples[i].ref);
    EXPECT_EQ(got[i].t, samples[i].t);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(got[i].v), std::bit_cast<std::uint64_t>(samples[i].v));
  }
  EXPECT_TRUE(storage::IsStaleNaN(got[2].v));
}

TEST(RecordTest, UnsortedLabelsAreSortedOnDecode) {
  const std::string rec = Bytes({1, 0, 0, 0, 0, 0, 0, 0, 9, 2, 1}) + "b" + Bytes({1}) + "2" +
                          Bytes({1}) + "a" + Bytes({1}) + "1";
  std::vector<RefSeries> got;
  ASSERT_TRUE(DecodeSeries(rec, &got).ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].labels, (model::Labels{{"a", "1"}, {"b", "2"}}));
}

TEST(RecordTest, DecodeErrors) {
  struct Case {
    std::string name;
    std::string rec;
    int kind;  // 0 series, 1 samples, 2 exemplars
    std::string error;
  };
  const std::string series_head = Bytes({1, 0, 0, 0, 0, 0, 0, 0, 1});
  const std::string samples_head = Bytes({2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1});
  const Case cases[] = {
      {"empty series", "", 0, "empty series record"},
      {"wrong type", Bytes({2}), 0, "invalid record type 2, expected series (1)"},
      {"short ref", Bytes({1, 0, 0, 0}), 0, "truncated series ref: need 8 bytes, have 3"},
      {"no label count", series_head, 0, "invalid varint for label count"},
      {"huge label count", series_head + Bytes({0xff, 0xff, 0x03, 1, 1}), 0,
       "label count 65535 exceeds the 2 bytes left"},
      {"long name", series_head + Bytes({1, 5}) + "ab" + Bytes({0}), 0,
       "label name of 5 bytes exceeds the 3 bytes left"},
      {"missing value", series_head + Bytes({1, 1}) + "a", 0, "invalid varint for label value"},
      {"varint overflow",
       series_head + Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02}), 0,
       "invalid varint for label count"},
      {"samples wrong type", Bytes({1}), 1, "invalid record type 1, expected samples (2)"},
      {"samples short base", Bytes({2, 0, 0, 0, 0, 0, 0, 0, 1, 0}), 1, "truncated base timestamp"},
      {"samples trailing byte", samples_head + Bytes({0}), 1,
       "after 0 entries: invalid varint for timestamp delta"},
      {"samples short value",
       samples_head + Bytes({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 1,
       "after 1 entries: truncated value: need 8 bytes, have 7"},
      {"exemplars no labels",
       Bytes({4, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}), 2,
       "invalid varint for label count"},
      {"exemplars wrong type", Bytes({2}), 2, "expected exemplars (4)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    base::Status st;
    std::size_t n = 0;
    if (c.kind == 0) {
      std::vector<RefSeries> out;
      st = DecodeSeries(c.rec, &out);
      n = out.size();
    } else if (c.kind == 1) {
      std::vector<RefSample> out;
      st = DecodeSamples(c.rec, &out);
      n = out.size();
    } else {
      std::vector<RefExemplar> out;
      st = DecodeExemplars(c.rec, &out);
      n = out.size();
    }
    EXPECT_EQ(st.code(), base::StatusCode::kDataLoss);
    EXPECT_THAT(st.message(), HasSubstr(c.error));
    EXPECT_EQ(n, 0u);
  }
}

}  // namespace
}  // namespace starling::wal::record
