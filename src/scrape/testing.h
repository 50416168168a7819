#pragma once

// Test support for scraping: an Appendable that records what is committed, and a Fetcher with
// canned responses. Only for tests.

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "scrape/scrape_pool.h"
#include "storage/storage.h"

namespace starling::scrape::testing {

// Records committed samples. With issue_refs it hands out refs and checks that a ref passed
// back (with empty labels) is one it issued. Thread-safe.
class RecordingAppendable final : public storage::Appendable {
 public:
  struct Sample {
    model::Labels labels;
    std::int64_t ts = 0;
    double value = 0;
  };

  explicit RecordingAppendable(bool issue_refs = true) : issue_refs_(issue_refs) {}

  std::unique_ptr<storage::Appender> NewAppender() override { return std::make_unique<App>(this); }

  std::vector<Sample> Samples() {
    std::lock_guard<std::mutex> lock(mu_);
    return samples_;
  }
  // Samples committed since the last call.
  std::vector<Sample> TakeSamples() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(samples_, {});
  }
  int commits() {
    std::lock_guard<std::mutex> lock(mu_);
    return commits_;
  }
  int rollbacks() {
    std::lock_guard<std::mutex> lock(mu_);
    return rollbacks_;
  }
  // Appends that came with labels (not only a ref).
  int appends_with_labels() {
    std::lock_guard<std::mutex> lock(mu_);
    return with_labels_;
  }
  // Forgets every series, as a WAL does with idle ones: their refs appended without labels
  // get NotFound, and appending their labels issues new refs.
  void ForgetAll() {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [ref, labels] : by_ref_) forgotten_.insert(ref);
    by_ref_.clear();
    refs_.clear();
    next_ref_base_ += 1000;
  }
  // Commits fail with `s` (and keep nothing) until it is Ok again.
  void FailCommits(base::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    commit_error_ = std::move(s);
  }
  // Appends of a ref this appendable never issued, or without labels and ref.
  int bad_appends() {
    std::lock_guard<std::mutex> lock(mu_);
    return bad_;
  }

 private:
  class App final : public storage::Appender {
   public:
    explicit App(RecordingAppendable* a) : a_(a) {}
    base::Result<storage::SeriesRef> Append(storage::SeriesRef ref, const model::Labels& labels,
                                            std::int64_t ts, double v) override {
      std::lock_guard<std::mutex> lock(a_->mu_);
      model::Labels l = labels;
      if (!labels.Empty()) ++a_->with_labels_;
      if (ref != 0 && labels.Empty() && a_->forgotten_.contains(ref)) {
        return base::Status::NotFound("unknown series ref " + std::to_string(ref) +
                                      " appended without labels");
      }
      if (ref != 0) {
        auto it = a_->by_ref_.find(ref);
        if (it == a_->by_ref_.end() || (!labels.Empty() && labels != it->second)) {
          ++a_->bad_;
        } else {
          l = it->second;
        }
      } else if (labels.Empty()) {
        ++a_->bad_;
      }
      pending_.push_back({l, ts, v});
      if (!a_->issue_refs_) return storage::SeriesRef{0};
      if (ref != 0) return ref;
      auto [it, inserted] = a_->refs_.emplace(l, a_->next_ref_base_ + a_->refs_.size() + 1);
      a_->by_ref_.emplace(it->second, l);
      return it->second;
    }
    base::Result<storage::SeriesRef> AppendExemplar(storage::SeriesRef ref, const model::Labels&,
                                                    const storage::Exemplar&) override {
      return ref;
    }
    base::Status Commit() override {
      std::lock_guard<std::mutex> lock(a_->mu_);
      if (!a_->commit_error_.ok()) return a_->commit_error_;
      ++a_->commits_;
      for (auto& s : pending_) a_->samples_.push_back(std::move(s));
      return base::Status::Ok();
    }
    void Rollback() override {
      std::lock_guard<std::mutex> lock(a_->mu_);
      ++a_->rollbacks_;
    }

   private:
    RecordingAppendable* a_;
    std::vector<Sample> pending_;
  };

  const bool issue_refs_;
  std::mutex mu_;
  std::vector<Sample> samples_;                         // guarded by mu_
  std::map<model::Labels, storage::SeriesRef> refs_;    // guarded by mu_
  std::map<storage::SeriesRef, model::Labels> by_ref_;  // guarded by mu_
  std::set<storage::SeriesRef> forgotten_;              // guarded by mu_
  storage::SeriesRef next_ref_base_ = 0;                // guarded by mu_
  int commits_ = 0;                                     // guarded by mu_
  base::Status commit_error_;                           // guarded by mu_
  int rollbacks_ = 0;                                   // guarded by mu_
  int with_labels_ = 0;                                 // guarded by mu_
  int bad_ = 0;                                         // guarded by mu_
};

// Answers each URL with a canned response (404 for unknown ones), synchronously.
class FakeFetcher final : public Fetcher {
 public:
  void Set(const std::string& url, base::Result<net::ClientResponse> r) {
    std::lock_guard<std::mutex> lock(mu_);
    responses_.insert_or_assign(url, std::move(r));
  }
  void Fetch(net::ClientRequest request, std::size_t /*lane*/, Callback done) override {
    base::Result<net::ClientResponse> r = net::ClientResponse{404, "404 Not Found", {}, ""};
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      if (auto it = responses_.find(request.url); it != responses_.end()) r = it->second;
    }
    done(std::move(r));
  }
  std::vector<net::ClientRequest> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, base::Result<net::ClientResponse>> responses_;  // guarded by mu_
  std::vector<net::ClientRequest> requests_;                            // guarded by mu_
};

inline net::ClientResponse TextResponse(std::string body) {
  return net::ClientResponse{
      200, "200 OK", {{"Content-Type", "text/plain; version=0.0.4"}}, std::move(body)};
}

// The value of the sample of `labels` (as a string, e.g. {__name__="up", job="x"}) in
// `samples`, the last one if several; NaN-safe: returns false when absent.
inline bool FindSample(const std::vector<RecordingAppendable::Sample>& samples,
                       const std::string& labels, RecordingAppendable::Sample* out) {
  bool found = false;
  for (const auto& s : samples) {
    if (s.labels.String() == labels) {
      *out = s;
      found = true;
    }
  }
  return found;
}

}  // namespace starling::scrape::testing
