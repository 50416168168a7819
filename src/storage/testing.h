#pragma once

// Test double for the Appendable contract: records committed samples and exemplars and hands
// out refs like a real store (nonzero, stable per label set), so producers can be tested for
// ref reuse and for passing empty labels with a ref.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "storage/storage.h"

namespace starling::storage::testing {

struct RecordedSample {
  model::Labels labels;
  std::int64_t timestamp_ms = 0;
  double value = 0;
};

// Thread-safe.
class RecordingAppendable final : public Appendable {
 public:
  // With hand_out_refs false, Append always returns 0 (a store without refs).
  explicit RecordingAppendable(bool hand_out_refs = true) : hand_out_refs_(hand_out_refs) {}

  std::unique_ptr<Appender> NewAppender() override { return std::make_unique<App>(this); }

  std::vector<RecordedSample> Samples() const {
    std::lock_guard l(mu_);
    return samples_;
  }
  std::vector<std::pair<model::Labels, Exemplar>> Exemplars() const {
    std::lock_guard l(mu_);
    return exemplars_;
  }
  int Commits() const {
    std::lock_guard l(mu_);
    return commits_;
  }
  int Rollbacks() const {
    std::lock_guard l(mu_);
    return rollbacks_;
  }
  // Appends that passed a ref this store had handed out.
  int AppendsWithRef() const {
    std::lock_guard l(mu_);
    return appends_with_ref_;
  }
  // Waits (generously) until pred holds over the committed samples.
  bool WaitFor(const std::function<bool(const std::vector<RecordedSample>&)>& pred,
               std::chrono::seconds deadline = std::chrono::seconds(20)) const {
    std::unique_lock l(mu_);
    return cv_.wait_for(l, deadline, [&] { return pred(samples_); });
  }

 private:
  class App final : public Appender {
   public:
    explicit App(RecordingAppendable* s) : s_(s) {}
    base::Result<SeriesRef> Append(SeriesRef ref, const model::Labels& labels, std::int64_t t,
                                   double v) override {
      ASSIGN_OR_RETURN(auto resolved, s_->Resolve(ref, labels));
      samples_.push_back({resolved.second, t, v});
      return resolved.first;
    }
    base::Result<SeriesRef> AppendExemplar(SeriesRef ref, const model::Labels& labels,
                                           const Exemplar& e) override {
      ASSIGN_OR_RETURN(auto resolved, s_->Resolve(ref, labels));
      exemplars_.emplace_back(resolved.second, e);
      return resolved.first;
    }
    base::Status Commit() override {
      std::lock_guard l(s_->mu_);
      for (auto& s : samples_) s_->samples_.push_back(std::move(s));
      for (auto& e : exemplars_) s_->exemplars_.push_back(std::move(e));
      ++s_->commits_;
      s_->cv_.notify_all();
      return base::Status::Ok();
    }
    void Rollback() override {
      std::lock_guard l(s_->mu_);
      ++s_->rollbacks_;
    }

   private:
    RecordingAppendable* s_;
    std::vector<RecordedSample> samples_;
    std::vector<std::pair<model::Labels, Exemplar>> exemplars_;
  };

  // The ref to return and the series' labels.
  base::Result<std::pair<SeriesRef, model::Labels>> Resolve(SeriesRef ref,
                                                            const model::Labels& labels) {
    std::lock_guard l(mu_);
    if (ref != 0 && hand_out_refs_) {
      auto it = by_ref_.find(ref);
      if (it == by_ref_.end()) return base::Status::NotFound("unknown series ref");
      ++appends_with_ref_;
      return std::make_pair(ref, it->second);
    }
    if (labels.Empty()) return base::Status::InvalidArgument("no labels and no ref");
    if (!hand_out_refs_) return std::make_pair(SeriesRef{0}, labels);
    auto [it, added] = by_labels_.try_emplace(labels, by_labels_.size() + 1);
    if (added) by_ref_.emplace(it->second, labels);
    return std::make_pair(it->second, labels);
  }

  const bool hand_out_refs_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<model::Labels, SeriesRef> by_labels_;
  std::map<SeriesRef, model::Labels> by_ref_;
  std::vector<RecordedSample> samples_;
  std::vector<std::pair<model::Labels, Exemplar>> exemplars_;
  int commits_ = 0;
  int rollbacks_ = 0;
  int appends_with_ref_ = 0;
};

}  // namespace starling::storage::testing
