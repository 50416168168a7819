#pragma once

// How samples travel between components: a producer (a scrape loop, prometheus.relabel) asks an
// Appendable for an Appender, appends a batch of samples, and commits it. This is Prometheus's
// storage.Appendable/Appender contract, trimmed to what an agent needs.
//
// Series references: Append returns a SeriesRef that the caller may pass back on later appends
// of the same labels, so the appendable can skip hashing and looking up the labels. A ref is
// only meaningful to the appendable that returned it. 0 means "no ref": the appendable finds
// the series by its labels. An appendable that keeps no refs returns 0. Refs fit in 56 bits,
// so producers that cache many of them may pack flags into the rest of the word.
//
// Memory: an appendable that returns a nonzero ref must accept that ref later with EMPTY labels,
// so a producer that got a ref can drop its own copy of the series' labels. A producer must pass
// the labels whenever it has no ref (ref 0). An appendable may forget a series (a WAL drops
// idle ones) and never reuses its ref: appended later without labels, that ref gets NotFound,
// and the producer appends the labels again.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/metrics.h"
#include "base/status.h"
#include "model/labels.h"

namespace starling::storage {

using SeriesRef = std::uint64_t;

// The NaN Prometheus writes as a staleness marker (value 0x7ff0000000000002).
// Callbacks for looking up the labels of many series at once (wal::Storage::VisitLabelsBatch,
// remote::LabelSource::VisitBatch). For each index i of the refs: begin(ctx, i), then
// label(ctx, name, value) for each label in name order, then end(ctx, i, found), where found
// is false for an unknown ref (no labels then), for i = 0, 1, ... in order: a remote-write
// request is built in that order, and scrape order keeps series with common labels together.
struct LabelBatchVisitor {
  void* ctx = nullptr;
  void (*begin)(void* ctx, std::size_t i) = nullptr;
  void (*label)(void* ctx, std::string_view name, std::string_view value) = nullptr;
  void (*end)(void* ctx, std::size_t i, bool found) = nullptr;
};

inline constexpr std::uint64_t kStaleNaNBits = 0x7ff0000000000002ULL;
double StaleNaN();
// Bit-exact: true only for the staleness marker, not for other NaNs.
bool IsStaleNaN(double v);

struct Exemplar {
  model::Labels labels;
  double value = 0;
  std::int64_t timestamp_ms = 0;
  bool has_timestamp = false;
};

// One batch of appends. Not thread-safe: one producer uses it, then commits or rolls back.
// Samples of one series must be appended in timestamp order.
class Appender {
 public:
  virtual ~Appender() = default;

  // Adds a sample of the series `labels` (sorted, as model::Labels always is). `ref` is 0 or a
  // ref this appendable returned for the same labels; with a nonzero ref, labels may be empty.
  // Returns the series' ref (or 0).
  virtual base::Result<SeriesRef> Append(SeriesRef ref, const model::Labels& labels,
                                         std::int64_t timestamp_ms, double value) = 0;
  // Adds an exemplar to the series (appended with Append before in this batch or earlier).
  virtual base::Result<SeriesRef> AppendExemplar(SeriesRef ref, const model::Labels& labels,
                                                 const Exemplar& exemplar) = 0;
  // Makes the batch visible downstream. The appender cannot be used afterwards.
  virtual base::Status Commit() = 0;
  // Discards the batch. The appender cannot be used afterwards.
  virtual void Rollback() = 0;
};

// Something samples can be appended to. Thread-safe: NewAppender may be called concurrently,
// and the appenders it returns may be used from different threads at once.
class Appendable {
 public:
  virtual ~Appendable() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
};

// What a component sends through its fanout, as Grafana Agent counts it. Either may be null;
// both must outlive the fanout's appenders.
struct FanoutMetrics {
  // Samples appended to the children (agent_prometheus_forwarded_samples_total).
  base::Counter* forwarded = nullptr;
  // From an appender's first append to its commit or rollback (agent_prometheus_fanout_latency).
  base::Histogram* latency = nullptr;
};

// Appends to every child. With exactly one child, refs pass through unchanged; with several,
// each child finds series by labels (the refs of different children are unrelated) and Append
// returns 0. Commit commits every child even if one fails, and returns the first error.
class Fanout final : public Appendable {
 public:
  explicit Fanout(std::vector<std::shared_ptr<Appendable>> children, FanoutMetrics metrics = {});
  std::unique_ptr<Appender> NewAppender() override;
  std::size_t size() const { return children_.size(); }
  const std::vector<std::shared_ptr<Appendable>>& children() const { return children_; }

 private:
  std::vector<std::shared_ptr<Appendable>> children_;
  FanoutMetrics metrics_;
};

// An appendable that drops everything (a scrape with an empty forward_to).
class Discard final : public Appendable {
 public:
  std::unique_ptr<Appender> NewAppender() override;
};

}  // namespace starling::storage
