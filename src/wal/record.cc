#include "wal/record.h"

#include <bit>
#include <cstring>
#include <utility>

#include "base/varint.h"

namespace starling::wal::record {
namespace {

void PutByte(std::uint8_t b, std::string* out) { out->push_back(static_cast<char>(b)); }

// Writes v big-endian into memory the caller sized; returns the byte after it.
char* WriteBe64(std::uint64_t v, char* p) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, sizeof(v));
  return p + sizeof(v);
}

void PutBe64(std::uint64_t v, std::string* out) {
  char buf[8];
  out->append(buf, WriteBe64(v, buf));
}

void PutUvarint(std::uint64_t v, std::string* out) { base::AppendUvarint(v, out); }

// Zigzag, as Go's binary.PutVarint.
std::uint64_t Zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0);
}

void PutVarint(std::int64_t v, std::string* out) { PutUvarint(Zigzag(v), out); }

void PutString(std::string_view s, std::string* out) {
  PutUvarint(s.size(), out);
  out->append(s);
}

void PutLabels(const model::Labels& labels, std::string* out) {
  PutUvarint(labels.Size(), out);
  for (const model::Label& l : labels) {
    PutString(l.first, out);
    PutString(l.second, out);
  }
}

// Differences wrap around as in Go, where the encoder's int64 subtraction wraps.
std::int64_t WrapSub(std::uint64_t a, std::uint64_t b) { return static_cast<std::int64_t>(a - b); }

// A cursor over a record that fails with a message instead of reading past the end.
class Decoder {
 public:
  explicit Decoder(std::string_view rec) : rest_(rec) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t left() const { return rest_.size(); }

  std::uint8_t Byte() {
    if (!Need(1, "type byte")) return 0;
    const auto b = static_cast<std::uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return b;
  }

  std::uint64_t Be64(const char* what) {
    if (!Need(8, what)) return 0;
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<std::uint8_t>(rest_[i]);
    rest_.remove_prefix(8);
    return v;
  }

  // Go's binary.Uvarint rules: at most 10 bytes, and no bits beyond 64.
  std::uint64_t Uvarint(const char* what) {
    if (!ok()) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < rest_.size() && i < 10; ++i) {
      const auto b = static_cast<std::uint8_t>(rest_[i]);
      if (i == 9 && b > 1) break;
      v |= static_cast<std::uint64_t>(b & 0x7f) << (7 * i);
      if (b < 0x80) {
        rest_.remove_prefix(i + 1);
        return v;
      }
    }
    Fail(std::string("invalid varint for ") + what);
    return 0;
  }

  std::int64_t Varint(const char* what) {
    const std::uint64_t u = Uvarint(what);
    return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }

  std::string_view String(const char* what) {
    const std::uint64_t n = Uvarint(what);
    if (!ok()) return {};
    if (n > rest_.size()) {
      Fail(std::string(what) + " of " + std::to_string(n) + " bytes exceeds the " +
           std::to_string(rest_.size()) + " bytes left");
      return {};
    }
    std::string_view s = rest_.substr(0, n);
    rest_.remove_prefix(n);
    return s;
  }

  model::Labels Labels() {
    const std::uint64_t n = Uvarint("label count");
    if (!ok()) return {};
    // Each label takes at least two bytes: a bound that keeps a corrupt count from allocating.
    if (n > rest_.size() / 2) {
      Fail("label count " + std::to_string(n) + " exceeds the " + std::to_string(rest_.size()) +
           " bytes left");
      return {};
    }
    std::vector<model::Label> labels;
    labels.reserve(n);
    for (std::uint64_t i = 0; i < n && ok(); ++i) {
      std::string_view name = String("label name");
      std::string_view value = String("label value");
      labels.emplace_back(name, value);
    }
    if (!ok()) return {};
    return model::Labels(std::move(labels));
  }

  void Fail(std::string what) {
    if (error_.empty()) error_ = std::move(what);
  }

 private:
  bool Need(std::size_t n, const char* what) {
    if (!ok()) return false;
    if (rest_.size() < n) {
      Fail(std::string("truncated ") + what + ": need " + std::to_string(n) + " bytes, have " +
           std::to_string(rest_.size()));
      return false;
    }
    return true;
  }

  std::string_view rest_;
  std::string error_;
};

base::Status Loss(std::string_view kind, std::size_t decoded, const std::string& what) {
  return base::Status::DataLoss("corrupt " + std::string(kind) + " record after " +
                                std::to_string(decoded) + " entries: " + what);
}

base::Status CheckType(Decoder& dec, Type want, std::string_view kind) {
  const std::uint8_t t = dec.Byte();
  if (!dec.ok()) return base::Status::DataLoss("empty " + std::string(kind) + " record");
  if (t != static_cast<std::uint8_t>(want)) {
    return base::Status::DataLoss("invalid record type " + std::to_string(t) + ", expected " +
                                  std::string(kind) + " (" +
                                  std::to_string(static_cast<int>(want)) + ")");
  }
  return base::Status::Ok();
}

}  // namespace

Type TypeOf(std::string_view rec) {
  if (rec.empty()) return Type::kUnknown;
  switch (static_cast<Type>(rec[0])) {
    case Type::kSeries:
    case Type::kSamples:
    case Type::kTombstones:
    case Type::kExemplars:
      return static_cast<Type>(rec[0]);
    default:
      return Type::kUnknown;
  }
}

void BeginSeries(std::string* out) { PutByte(static_cast<std::uint8_t>(Type::kSeries), out); }

void AppendSeriesHeader(storage::SeriesRef ref, std::size_t label_count, std::string* out) {
  PutBe64(ref, out);
  PutUvarint(label_count, out);
}

void AppendLabel(std::string_view name, std::string_view value, std::string* out) {
  PutString(name, out);
  PutString(value, out);
}

void AppendSeries(storage::SeriesRef ref, const model::Labels& labels, std::string* out) {
  PutBe64(ref, out);
  PutLabels(labels, out);
}

void EncodeSeries(std::span<const RefSeries> series, std::string* out) {
  BeginSeries(out);
  for (const RefSeries& s : series) AppendSeries(s.ref, s.labels, out);
}

void EncodeSamples(std::span<const RefSample> samples, std::string* out) {
  PutByte(static_cast<std::uint8_t>(Type::kSamples), out);
  if (samples.empty()) return;
  const RefSample& first = samples.front();
  constexpr std::size_t kMaxSample = 10 + 10 + 8;  // two varints and a value
  const std::size_t start = out->size();
  out->resize(start + 16 + samples.size() * kMaxSample);
  char* p = out->data() + start;
  p = WriteBe64(first.ref, p);
  p = WriteBe64(static_cast<std::uint64_t>(first.t), p);
  for (const RefSample& s : samples) {
    p = base::PutUvarint(p, Zigzag(WrapSub(s.ref, first.ref)));
    p = base::PutUvarint(
        p, Zigzag(WrapSub(static_cast<std::uint64_t>(s.t), static_cast<std::uint64_t>(first.t))));
    p = WriteBe64(std::bit_cast<std::uint64_t>(s.v), p);
  }
  out->resize(static_cast<std::size_t>(p - out->data()));
}

void EncodeExemplars(std::span<const RefExemplar> exemplars, std::string* out) {
  PutByte(static_cast<std::uint8_t>(Type::kExemplars), out);
  if (exemplars.empty()) return;
  const RefExemplar& first = exemplars.front();
  PutBe64(first.ref, out);
  PutBe64(static_cast<std::uint64_t>(first.t), out);
  for (const RefExemplar& e : exemplars) {
    PutVarint(WrapSub(e.ref, first.ref), out);
    PutVarint(WrapSub(static_cast<std::uint64_t>(e.t), static_cast<std::uint64_t>(first.t)), out);
    PutBe64(std::bit_cast<std::uint64_t>(e.v), out);
    PutLabels(e.labels, out);
  }
}

base::Status DecodeSeries(std::string_view rec, std::vector<RefSeries>* out) {
  Decoder dec(rec);
  RETURN_IF_ERROR(CheckType(dec, Type::kSeries, "series"));
  std::vector<RefSeries> series;
  while (dec.left() > 0 && dec.ok()) {
    RefSeries s;
    s.ref = dec.Be64("series ref");
    s.labels = dec.Labels();
    if (dec.ok()) series.push_back(std::move(s));
  }
  if (!dec.ok()) return Loss("series", series.size(), dec.error());
  out->insert(out->end(), std::make_move_iterator(series.begin()),
              std::make_move_iterator(series.end()));
  return base::Status::Ok();
}

base::Status DecodeSamples(std::string_view rec, std::vector<RefSample>* out) {
  Decoder dec(rec);
  RETURN_IF_ERROR(CheckType(dec, Type::kSamples, "samples"));
  if (dec.left() == 0) return base::Status::Ok();
  const std::uint64_t base_ref = dec.Be64("base ref");
  const std::uint64_t base_time = dec.Be64("base timestamp");
  const std::size_t old_size = out->size();
  // A sample takes at least 10 bytes.
  if (dec.ok()) out->reserve(old_size + dec.left() / 10);
  std::size_t n = 0;
  while (dec.left() > 0 && dec.ok()) {
    const auto dref = static_cast<std::uint64_t>(dec.Varint("ref delta"));
    const auto dtime = static_cast<std::uint64_t>(dec.Varint("timestamp delta"));
    const std::uint64_t bits = dec.Be64("value");
    if (!dec.ok()) break;
    out->push_back(RefSample{.ref = base_ref + dref,
                             .t = static_cast<std::int64_t>(base_time + dtime),
                             .v = std::bit_cast<double>(bits)});
    ++n;
  }
  if (!dec.ok()) {
    out->resize(old_size);
    return Loss("samples", n, dec.error());
  }
  return base::Status::Ok();
}

base::Status DecodeExemplars(std::string_view rec, std::vector<RefExemplar>* out) {
  Decoder dec(rec);
  RETURN_IF_ERROR(CheckType(dec, Type::kExemplars, "exemplars"));
  if (dec.left() == 0) return base::Status::Ok();
  const std::uint64_t base_ref = dec.Be64("base ref");
  const std::uint64_t base_time = dec.Be64("base timestamp");
  std::vector<RefExemplar> exemplars;
  while (dec.left() > 0 && dec.ok()) {
    RefExemplar e;
    e.ref = base_ref + static_cast<std::uint64_t>(dec.Varint("ref delta"));
    e.t = static_cast<std::int64_t>(base_time +
                                    static_cast<std::uint64_t>(dec.Varint("timestamp delta")));
    e.v = std::bit_cast<double>(dec.Be64("value"));
    e.labels = dec.Labels();
    if (dec.ok()) exemplars.push_back(std::move(e));
  }
  if (!dec.ok()) return Loss("exemplars", exemplars.size(), dec.error());
  out->insert(out->end(), std::make_move_iterator(exemplars.begin()),
              std::make_move_iterator(exemplars.end()));
  return base::Status::Ok();
}

}  // namespace starling::wal::record
