#pragma once

// Hand-written protobuf encoding of a remote write 1.0 WriteRequest (prompb, see remote.proto)
// and its snappy block compression. The queue builds each request straight from WAL data into
// a reused buffer: labels are written as they are visited, so encoding a sample allocates
// nothing once the buffers have grown to the batch size.
//
// Wire format reminder: a field is a tag varint ((number << 3) | wire type) followed by a
// varint (type 0), 8 little-endian bytes (type 1) or a length varint and that many bytes
// (type 2). Nested messages are type 2, so a TimeSeries' length must precede its contents:
// EndSeries writes it into space reserved by BeginSeries and shifts the contents when the
// length needs fewer or more bytes than reserved.
//
// Thread-compatible: one encoder per thread.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "base/varint.h"

namespace starling::remote {

// A growable byte buffer that does not zero what it grows into (std::string::resize would).
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;

  void Clear() { size_ = 0; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return cap_; }
  char* data() { return data_.get(); }
  const char* data() const { return data_.get(); }
  std::string_view view() const { return {data_.get(), size_}; }

  // Makes room for n more bytes and returns where they go; Commit says how many were written.
  // Growth adds a quarter, not double: shards keep their buffers from batch to batch, so it is
  // rare once they fit a batch, and slack would be held for good.
  char* Reserve(std::size_t n) {
    if (size_ + n > cap_) Grow(std::max<std::size_t>(4096, (size_ + n) * 5 / 4));
    return data_.get() + size_;
  }
  void Commit(std::size_t n) { size_ += n; }
  // Grows to exactly n if needed.
  void Resize(std::size_t n) {
    if (n > cap_) Grow(n);
    size_ = n;
  }
  void Append(std::string_view s) {
    std::memcpy(Reserve(s.size()), s.data(), s.size());
    size_ += s.size();
  }

 private:
  // Moves the data to a buffer of `cap` bytes, more than it holds.
  void Grow(std::size_t cap);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t cap_ = 0;
};

// Copies n bytes, sizeof(W) <= n <= 2 * sizeof(W), as two moves of a W that may overlap.
template <typename W>
inline void CopyAsTwoWords(char* p, const char* src, std::size_t n) {
  W head = 0;
  W tail = 0;
  std::memcpy(&head, src, sizeof(W));
  std::memcpy(&tail, src + n - sizeof(W), sizeof(W));
  std::memcpy(p, &head, sizeof(W));
  std::memcpy(p + n - sizeof(W), &tail, sizeof(W));
}

// Copies s to p; returns the byte after it. Label names and values are mostly short, and
// copying them with fixed-size moves saves a call to memcpy for each.
inline char* PutBytes(char* p, std::string_view s) {
  const std::size_t n = s.size();
  if (n >= 8 && n <= 16) {
    CopyAsTwoWords<std::uint64_t>(p, s.data(), n);
  } else if (n >= 4 && n < 8) {
    CopyAsTwoWords<std::uint32_t>(p, s.data(), n);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i) p[i] = s[i];
  } else {
    std::memcpy(p, s.data(), n);
  }
  return p + n;
}

// The bytes of one Label entry of a TimeSeries or Exemplar (field 1), as PutLabel writes it.
inline std::size_t EncodedLabelSize(std::string_view name, std::string_view value) {
  const std::size_t inner = 2 + base::VarintSize(name.size()) + name.size() +
                            base::VarintSize(value.size()) + value.size();
  return 1 + base::VarintSize(inner) + inner;
}

// Writes one TimeSeries.labels field (a Label with name and value) at p, which must have
// EncodedLabelSize(name, value) bytes of room; returns the end.
inline char* PutLabel(char* p, std::string_view name, std::string_view value) {
  const std::size_t inner = 2 + base::VarintSize(name.size()) + name.size() +
                            base::VarintSize(value.size()) + value.size();
  *p++ = 0x0A;  // TimeSeries.labels
  p = base::PutUvarint(p, inner);
  *p++ = 0x0A;  // Label.name
  p = base::PutUvarint(p, name.size());
  p = PutBytes(p, name);
  *p++ = 0x12;  // Label.value
  p = base::PutUvarint(p, value.size());
  return PutBytes(p, value);
}

// Appends one Label entry (field 1 of TimeSeries and Exemplar) to *out. Used to pre-encode
// label sets (relabeled series, exemplar labels) that are then copied with AddEncodedLabels.
void AppendEncodedLabel(std::string* out, std::string_view name, std::string_view value);

// Builds one WriteRequest in a reused buffer:
//   enc.Reset();
//   enc.BeginSeries(); enc.AddLabel(...)...; enc.AddSample(t, v); enc.EndSeries();
//   ...
//   std::string_view request = enc.data();
class WriteRequestEncoder {
 public:
  void Reset() { buf_.Clear(); }

  // Starts a TimeSeries (WriteRequest field 1).
  void BeginSeries();
  // Adds a label of the current series. Labels must come sorted by name.
  void AddLabel(std::string_view name, std::string_view value) {
    char* p = buf_.Reserve(EncodedLabelSize(name, value));
    buf_.Commit(static_cast<std::size_t>(PutLabel(p, name, value) - p));
  }
  // Adds label entries encoded by AppendEncodedLabel.
  void AddEncodedLabels(std::string_view encoded) { buf_.Append(encoded); }
  // Adds a sample (TimeSeries field 2).
  void AddSample(std::int64_t timestamp_ms, double value);
  // Adds an exemplar (TimeSeries field 3) whose labels were encoded by AppendEncodedLabel.
  void AddExemplar(std::string_view encoded_labels, std::int64_t timestamp_ms, double value);
  // Finishes the current TimeSeries.
  void EndSeries();
  // Drops the current TimeSeries (begun but not ended) from the request.
  void AbortSeries() { buf_.Resize(series_start_ - kReservedLength - 1); }

  std::string_view data() const { return buf_.view(); }
  std::size_t size() const { return buf_.size(); }

 private:
  static constexpr std::size_t kReservedLength = 2;  // a series under 16 KiB: no shifting

  ByteBuffer buf_;
  std::size_t series_start_ = 0;  // where the current series' contents begin
};

// snappy block compression of `in` into *out (replacing its contents).
void SnappyCompress(std::string_view in, ByteBuffer* out);
// snappy block decompression; false when `in` is not valid snappy data.
bool SnappyUncompress(std::string_view in, std::string* out);

}  // namespace starling::remote
