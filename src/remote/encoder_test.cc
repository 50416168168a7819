#include "remote/encoder.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "remote/remote.pb.h"

namespace starling::remote {
namespace {

struct TestExemplar {
  std::vector<std::pair<std::string, std::string>> labels;
  std::int64_t t = 0;
  double v = 0;
};

struct TestSeries {
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<std::pair<std::int64_t, double>> samples;
  std::vector<TestExemplar> exemplars;
  bool pre_encoded = false;  // labels through AppendEncodedLabel + AddEncodedLabels
};

struct EncodeCase {
  std::string name;
  std::vector<TestSeries> series;
};

TEST(EncoderTest, DecodesAsPrompb) {
  const std::string big(20000, 'x');  // a series over 16 KiB: its length needs 3 bytes
  const std::vector<EncodeCase> cases = {
      {"empty request", {}},
      {"one small series", {{{{"a", "b"}}, {{1, 2.5}}, {}, false}}},
      {"no labels", {{{}, {{0, 0}}, {}, false}}},
      {"typical",
       {{{{"__name__", "node_cpu_seconds_total"},
          {"cpu", "0"},
          {"instance", "localhost:9100"},
          {"job", "node"},
          {"mode", "idle"}},
         {{1700000000123, 12345.67}},
         {},
         false},
        {{{"__name__", "up"}, {"job", "node"}},
         {{1700000000123, 1}, {1700000015123, 0}},
         {},
         true}}},
      {"negative timestamp and special values",
       {{{{"a", "b"}},
         {{-5, std::numeric_limits<double>::infinity()}, {7, -0.0}, {9, 1e-300}},
         {},
         false}}},
      {"empty label value", {{{{"a", ""}, {"b", "c"}}, {{1, 1}}, {}, false}}},
      {"big series", {{{{"a", big}}, {{1, 1}}, {}, false}, {{{"b", "c"}}, {{2, 2}}, {}, true}}},
      {"medium series",  // 128..16383 bytes: length in exactly the reserved 2 bytes
       {{{{"a", std::string(300, 'y')}}, {{1, 1}}, {}, false}}},
      {"exemplars",
       {{{{"__name__", "req_total"}},
         {{10, 3}},
         {{{{"trace_id", "abc"}}, 9, 0.5}, {{}, 10, 2}},
         false}}},
  };
  WriteRequestEncoder enc;
  for (const EncodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    enc.Reset();
    for (const TestSeries& s : c.series) {
      enc.BeginSeries();
      if (s.pre_encoded) {
        std::string encoded;
        for (const auto& [n, v] : s.labels) AppendEncodedLabel(&encoded, n, v);
        enc.AddEncodedLabels(encoded);
      } else {
        for (const auto& [n, v] : s.labels) enc.AddLabel(n, v);
      }
      for (const auto& [t, v] : s.samples) enc.AddSample(t, v);
      for (const TestExemplar& e : s.exemplars) {
        std::string encoded;
        for (const auto& [n, v] : e.labels) AppendEncodedLabel(&encoded, n, v);
        enc.AddExemplar(encoded, e.t, e.v);
      }
      enc.EndSeries();
    }
    prompb::WriteRequest req;
    ASSERT_TRUE(req.ParseFromArray(enc.data().data(), static_cast<int>(enc.size())));
    ASSERT_EQ(req.timeseries_size(), static_cast<int>(c.series.size()));
    for (std::size_t i = 0; i < c.series.size(); ++i) {
      const TestSeries& want = c.series[i];
      const prompb::TimeSeries& got = req.timeseries(static_cast<int>(i));
      ASSERT_EQ(got.labels_size(), static_cast<int>(want.labels.size()));
      for (std::size_t j = 0; j < want.labels.size(); ++j) {
        EXPECT_EQ(got.labels(static_cast<int>(j)).name(), want.labels[j].first);
        EXPECT_EQ(got.labels(static_cast<int>(j)).value(), want.labels[j].second);
      }
      ASSERT_EQ(got.samples_size(), static_cast<int>(want.samples.size()));
      for (std::size_t j = 0; j < want.samples.size(); ++j) {
        EXPECT_EQ(got.samples(static_cast<int>(j)).timestamp(), want.samples[j].first);
        EXPECT_EQ(std::signbit(got.samples(static_cast<int>(j)).value()),
                  std::signbit(want.samples[j].second));
        EXPECT_EQ(got.samples(static_cast<int>(j)).value(), want.samples[j].second);
      }
      ASSERT_EQ(got.exemplars_size(), static_cast<int>(want.exemplars.size()));
      for (std::size_t j = 0; j < want.exemplars.size(); ++j) {
        const auto& ge = got.exemplars(static_cast<int>(j));
        EXPECT_EQ(ge.timestamp(), want.exemplars[j].t);
        EXPECT_EQ(ge.value(), want.exemplars[j].v);
        ASSERT_EQ(ge.labels_size(), static_cast<int>(want.exemplars[j].labels.size()));
        for (std::size_t k = 0; k < want.exemplars[j].labels.size(); ++k) {
          EXPECT_EQ(ge.labels(static_cast<int>(k)).name(), want.exemplars[j].labels[k].first);
          EXPECT_EQ(ge.labels(static_cast<int>(k)).value(), want.exemplars[j].labels[k].second);
        }
      }
    }
    // The same message through the generated encoder is the same size: both write every
    // field, except that the generated one omits zero and empty values.
    std::string reencoded;
    ASSERT_TRUE(req.SerializeToString(&reencoded));
    EXPECT_LE(reencoded.size(), enc.size());

    ByteBuffer compressed;
    SnappyCompress(enc.data(), &compressed);
    std::string round;
    ASSERT_TRUE(SnappyUncompress(compressed.view(), &round));
    EXPECT_EQ(round, enc.data());
  }
}

TEST(EncoderTest, SnappyRejectsGarbage) {
  std::string out;
  EXPECT_FALSE(SnappyUncompress("\xff\xff\xff\xff\xff garbage", &out));
}

}  // namespace
}  // namespace starling::remote
