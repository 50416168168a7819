#include "remote/encoder.h"

#include <snappy.h>

#include <algorithm>
#include <bit>

namespace starling::remote {

void ByteBuffer::Grow(std::size_t cap) {
  auto data = std::make_unique<char[]>(cap);
  if (size_ > 0) std::memcpy(data.get(), data_.get(), size_);
  data_ = std::move(data);
  cap_ = cap;
}

void AppendEncodedLabel(std::string* out, std::string_view name, std::string_view value) {
  const std::size_t old = out->size();
  out->resize(old + EncodedLabelSize(name, value));
  PutLabel(out->data() + old, name, value);
}

void WriteRequestEncoder::BeginSeries() {
  char* p = buf_.Reserve(1 + kReservedLength);
  *p = 0x0A;  // WriteRequest.timeseries
  buf_.Commit(1 + kReservedLength);
  series_start_ = buf_.size();
}

void WriteRequestEncoder::AddSample(std::int64_t timestamp_ms, double value) {
  const std::uint64_t ts = static_cast<std::uint64_t>(timestamp_ms);
  const std::size_t inner = 1 + 8 + 1 + base::VarintSize(ts);
  char* p = buf_.Reserve(2 + inner);
  char* start = p;
  *p++ = 0x12;  // TimeSeries.samples
  *p++ = static_cast<char>(inner);
  *p++ = 0x09;  // Sample.value, fixed64
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(value);
  std::memcpy(p, &bits, 8);  // little-endian hosts only (x86-64, arm64)
  p += 8;
  *p++ = 0x10;  // Sample.timestamp, varint
  p = base::PutUvarint(p, ts);
  buf_.Commit(static_cast<std::size_t>(p - start));
}

void WriteRequestEncoder::AddExemplar(std::string_view encoded_labels, std::int64_t timestamp_ms,
                                      double value) {
  const std::uint64_t ts = static_cast<std::uint64_t>(timestamp_ms);
  const std::size_t inner = encoded_labels.size() + 1 + 8 + 1 + base::VarintSize(ts);
  char* p = buf_.Reserve(1 + 10 + inner);
  char* start = p;
  *p++ = 0x1A;  // TimeSeries.exemplars
  p = base::PutUvarint(p, inner);
  std::memcpy(p, encoded_labels.data(), encoded_labels.size());
  p += encoded_labels.size();
  *p++ = 0x11;  // Exemplar.value, fixed64
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(value);
  std::memcpy(p, &bits, 8);
  p += 8;
  *p++ = 0x18;  // Exemplar.timestamp, varint
  p = base::PutUvarint(p, ts);
  buf_.Commit(static_cast<std::size_t>(p - start));
}

void WriteRequestEncoder::EndSeries() {
  const std::size_t len = buf_.size() - series_start_;
  const std::size_t need = base::VarintSize(len);
  if (need != kReservedLength) {
    // Shift the contents so the length varint ends where they start.
    const std::size_t new_start = series_start_ - kReservedLength + need;
    buf_.Reserve(need);  // may move the buffer; positions stay valid
    std::memmove(buf_.data() + new_start, buf_.data() + series_start_, len);
    buf_.Resize(new_start + len);
  }
  base::PutUvarint(buf_.data() + series_start_ - kReservedLength, len);
}

void SnappyCompress(std::string_view in, ByteBuffer* out) {
  out->Resize(snappy::MaxCompressedLength(in.size()));
  std::size_t n = 0;
  snappy::RawCompress(in.data(), in.size(), out->data(), &n);
  out->Resize(n);
}

bool SnappyUncompress(std::string_view in, std::string* out) {
  return snappy::Uncompress(in.data(), in.size(), out);
}

}  // namespace starling::remote
