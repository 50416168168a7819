#pragma once

// The records a sample store writes into the WAL, byte for byte as Prometheus's tsdb/record
// encodes them, so a WAL written here can be read by Prometheus tools and the other way round.
// Every record starts with its Type byte:
//   series:    type, then per series: ref (8 bytes big-endian), label count (uvarint), and per
//              label name and value (uvarint length + bytes).
//   samples:   type, then (if any) the first sample's ref and timestamp (8 bytes big-endian
//              each), then per sample: ref and timestamp as signed varint deltas from the first,
//              and the value's IEEE-754 bits (8 bytes big-endian).
//   exemplars: as samples, each followed by its labels encoded as in a series record.
// Decoding never trusts its input: any malformed record is a kDataLoss Status saying what is
// wrong, and nothing is appended to the output then. All functions are thread-safe.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/labels.h"
#include "storage/storage.h"

namespace starling::wal::record {

enum class Type : std::uint8_t {
  kUnknown = 255,
  kSeries = 1,
  kSamples = 2,
  kTombstones = 3,
  kExemplars = 4,
};

struct RefSeries {
  storage::SeriesRef ref = 0;
  model::Labels labels;
  friend bool operator==(const RefSeries&, const RefSeries&) = default;
};

struct RefSample {
  storage::SeriesRef ref = 0;
  std::int64_t t = 0;
  double v = 0;
};

struct RefExemplar {
  storage::SeriesRef ref = 0;
  std::int64_t t = 0;
  double v = 0;
  model::Labels labels;
};

// The type of a record: its first byte if it is one of the types above, else kUnknown (also for
// an empty record). Types Prometheus knows but this store never writes are kUnknown.
Type TypeOf(std::string_view rec);

// Encoders append one whole record to *out.
void EncodeSeries(std::span<const RefSeries> series, std::string* out);
void EncodeSamples(std::span<const RefSample> samples, std::string* out);
void EncodeExemplars(std::span<const RefExemplar> exemplars, std::string* out);

// The series encoder in pieces, for writers that keep labels in a form of their own: the type
// byte, then per series its header followed by exactly `label_count` AppendLabel calls.
void BeginSeries(std::string* out);
void AppendSeriesHeader(storage::SeriesRef ref, std::size_t label_count, std::string* out);
void AppendLabel(std::string_view name, std::string_view value, std::string* out);
// A whole series after BeginSeries: its header and its labels.
void AppendSeries(storage::SeriesRef ref, const model::Labels& labels, std::string* out);

// Decoders append what `rec` holds to *out (nothing on error).
base::Status DecodeSeries(std::string_view rec, std::vector<RefSeries>* out);
base::Status DecodeSamples(std::string_view rec, std::vector<RefSample>* out);
base::Status DecodeExemplars(std::string_view rec, std::vector<RefExemplar>* out);

}  // namespace starling::wal::record
