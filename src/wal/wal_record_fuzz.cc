// Arbitrary bytes as a record: decoding must fail cleanly or yield entries that encode to a
// record decoding to the same entries, and that record must re-encode to itself.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "wal/record.h"

namespace record = starling::wal::record;

namespace {

bool Same(const record::RefSample& a, const record::RefSample& b) {
  return a.ref == b.ref && a.t == b.t &&
         std::bit_cast<std::uint64_t>(a.v) == std::bit_cast<std::uint64_t>(b.v);
}

bool Same(const record::RefExemplar& a, const record::RefExemplar& b) {
  return a.ref == b.ref && a.t == b.t &&
         std::bit_cast<std::uint64_t>(a.v) == std::bit_cast<std::uint64_t>(b.v) &&
         a.labels == b.labels;
}

bool Same(const record::RefSeries& a, const record::RefSeries& b) { return a == b; }

template <typename T, typename Decode, typename Encode>
void RoundTrip(std::string_view data, Decode decode, Encode encode) {
  std::vector<T> first;
  if (!decode(data, &first).ok()) {
    if (!first.empty()) std::abort();  // Nothing is appended on error.
    return;
  }
  std::string once;
  encode(first, &once);
  std::vector<T> second;
  if (!decode(once, &second).ok() || second.size() != first.size()) std::abort();
  for (std::size_t i = 0; i < first.size(); ++i) {
    if (!Same(first[i], second[i])) std::abort();
  }
  std::string twice;
  encode(second, &twice);
  if (twice != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view rec(reinterpret_cast<const char*>(data), size);
  static_cast<void>(record::TypeOf(rec));
  RoundTrip<record::RefSeries>(
      rec, [](std::string_view r, auto* out) { return record::DecodeSeries(r, out); },
      [](const auto& v, std::string* out) { record::EncodeSeries(v, out); });
  RoundTrip<record::RefSample>(
      rec, [](std::string_view r, auto* out) { return record::DecodeSamples(r, out); },
      [](const auto& v, std::string* out) { record::EncodeSamples(v, out); });
  RoundTrip<record::RefExemplar>(
      rec, [](std::string_view r, auto* out) { return record::DecodeExemplars(r, out); },
      [](const auto& v, std::string* out) { record::EncodeExemplars(v, out); });
  return 0;
}
