#include "storage/storage.h"

#include <bit>
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
  explicit FanoutAppender(std::vector<std::unique_ptr<Appender>> children)
      : children_(std::move(children)) {}

  base::Result<SeriesRef> Append(SeriesRef ref, const model::Labels& labels,
                                 std::int64_t timestamp_ms, double value) override {
    if (children_.size() == 1) return children_[0]->Append(ref, labels, timestamp_ms, value);
    for (auto& c : children_) {
      base::Result<SeriesRef> r = c->Append(0, labels, timestamp_ms, value);
      if (!r.ok()) return r;
    }
    return SeriesRef{0};
  }

  base::Result<SeriesRef> AppendExemplar(SeriesRef ref, const model::Labels& labels,
                                         const Exemplar& exemplar) override {
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
    return first;
  }

  void Rollback() override {
    for (auto& c : children_) c->Rollback();
  }

 private:
  std::vector<std::unique_ptr<Appender>> children_;
};

}  // namespace

Fanout::Fanout(std::vector<std::shared_ptr<Appendable>> children)
    : children_(std::move(children)) {}

std::unique_ptr<Appender> Fanout::NewAppender() {
  if (children_.empty()) return std::make_unique<DiscardAppender>();
  std::vector<std::unique_ptr<Appender>> apps;
  apps.reserve(children_.size());
  for (auto& c : children_) apps.push_back(c->NewAppender());
  return std::make_unique<FanoutAppender>(std::move(apps));
}

std::unique_ptr<Appender> Discard::NewAppender() { return std::make_unique<DiscardAppender>(); }

}  // namespace starling::storage
