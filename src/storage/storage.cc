#include "storage/storage.h"

#include <bit>
#include <chrono>
#include <utility>

namespace starling::storage {

double StaleNaN() { return std::bit_cast<double>(kStaleNaNBits); }

bool IsStaleNaN(double v) { return std::bit_cast<std::uint64_t>(v) == kStaleNaNBits; }

namespace {

class DiscardAppender final : public Appender {
 public:
  base::Result<SeriesRef> Append(SeriesRef, const model::Labels&, std::int64_t, double) override {
    return SeriesRef{0};
  }
  base::Result<SeriesRef> AppendExemplar(SeriesRef, const model::Labels&,
                                         const Exemplar&) override {
    return SeriesRef{0};
  }
  base::Status Commit() override { return base::Status::Ok(); }
  void Rollback() override {}
};

class FanoutAppender final : public Appender {
 public:
  FanoutAppender(std::vector<std::unique_ptr<Appender>> children, FanoutMetrics metrics)
      : children_(std::move(children)), metrics_(metrics) {}

  base::Result<SeriesRef> Append(SeriesRef ref, const model::Labels& labels,
                                 std::int64_t timestamp_ms, double value) override {
    Started();
    if (children_.size() == 1) {
      base::Result<SeriesRef> r = children_[0]->Append(ref, labels, timestamp_ms, value);
      if (r.ok()) ++forwarded_;
      return r;
    }
    for (auto& c : children_) {
      base::Result<SeriesRef> r = c->Append(0, labels, timestamp_ms, value);
      if (!r.ok()) return r;
    }
    ++forwarded_;
    return SeriesRef{0};
  }

  base::Result<SeriesRef> AppendExemplar(SeriesRef ref, const model::Labels& labels,
                                         const Exemplar& exemplar) override {
    Started();
    if (children_.size() == 1) return children_[0]->AppendExemplar(ref, labels, exemplar);
    for (auto& c : children_) {
      base::Result<SeriesRef> r = c->AppendExemplar(0, labels, exemplar);
      if (!r.ok()) return r;
    }
    return SeriesRef{0};
  }

  base::Status Commit() override {
    base::Status first = base::Status::Ok();
    for (auto& c : children_) {
      base::Status s = c->Commit();
      if (!s.ok() && first.ok()) first = std::move(s);
    }
    Finished();
    return first;
  }

  void Rollback() override {
    for (auto& c : children_) c->Rollback();
    Finished();
  }

 private:
  using Steady = std::chrono::steady_clock;

  void Started() {
    if (!started_) {
      started_ = true;
      start_ = Steady::now();
    }
  }
  // Counts once per appender rather than per sample, to keep atomics off the sample path.
  void Finished() {
    if (metrics_.forwarded != nullptr) metrics_.forwarded->Add(static_cast<double>(forwarded_));
    if (metrics_.latency != nullptr && started_) {
      metrics_.latency->Observe(std::chrono::duration<double>(Steady::now() - start_).count());
    }
    forwarded_ = 0;
    started_ = false;
  }

  std::vector<std::unique_ptr<Appender>> children_;
  const FanoutMetrics metrics_;
  std::uint64_t forwarded_ = 0;
  bool started_ = false;
  Steady::time_point start_;
};

}  // namespace

Fanout::Fanout(std::vector<std::shared_ptr<Appendable>> children, FanoutMetrics metrics)
    : children_(std::move(children)), metrics_(metrics) {}

std::unique_ptr<Appender> Fanout::NewAppender() {
  if (children_.empty()) return std::make_unique<DiscardAppender>();
  std::vector<std::unique_ptr<Appender>> apps;
  apps.reserve(children_.size());
  for (auto& c : children_) apps.push_back(c->NewAppender());
  return std::make_unique<FanoutAppender>(std::move(apps), metrics_);
}

std::unique_ptr<Appender> Discard::NewAppender() { return std::make_unique<DiscardAppender>(); }

}  // namespace starling::storage
