#pragma once

// A remote write receiver for tests only: an HTTP server on 127.0.0.1 (port 0 unless given)
// that decodes snappy + protobuf requests with the generated prompb classes, records what it
// got, and answers with scripted responses.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "net/http_server.h"
#include "net/io_pool.h"
#include "remote/encoder.h"
#include "remote/remote.pb.h"

namespace starling::remote::testing {

struct ReceivedSample {
  std::string series;  // labels as {a="b", ...}
  std::int64_t t = 0;
  double v = 0;
};

struct ReceivedRequest {
  std::vector<net::Header> headers;
  std::string body;  // as sent: snappy-compressed
  prompb::WriteRequest request;
  std::chrono::steady_clock::time_point at;
};

// Thread-safe.
class FakeReceiver {
 public:
  // A scripted answer; when the script is empty the receiver answers 200.
  struct Answer {
    int status = 200;
    std::vector<net::Header> headers;
    std::string body;
  };

  // threads: how many requests may be handled at once.
  explicit FakeReceiver(std::uint16_t port = 0, int threads = 2) : pool_(threads) {
    net::HttpServer::Options o;
    o.port = port;
    o.shutdown_grace = std::chrono::milliseconds(100);
    server_ = std::make_unique<net::HttpServer>(pool_.context(), o);
    server_->Handle("POST", "/api/v1/write", [this](const net::Request& r) { return Handle(r); });
  }
  ~FakeReceiver() { Stop(); }

  base::Status Start() { return server_->Start(); }
  void Stop() {
    Release();  // a held request would keep the server from stopping
    server_->Stop();
  }
  std::uint16_t port() const { return server_->port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()) + "/api/v1/write"; }

  // Every request takes at least this long (a slow receiver).
  void SetDelay(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    delay_ = d;
  }

  // Requests wait, undecided, from Hold until Release.
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }

  // From now on, like Prometheus: a request with a sample older than the newest the receiver
  // holds of its series is refused whole (400, out of order); a sample at that newest
  // timestamp is a duplicate, accepted but not recorded again. `newest`: what the receiver
  // holds already, by series ({a="b", ...}).
  void RejectOutOfOrder(std::map<std::string, std::int64_t> newest = {}) {
    std::lock_guard lock(mu_);
    in_order_ = true;
    newest_ = std::move(newest);
  }

  void Script(std::vector<Answer> answers) {
    std::lock_guard lock(mu_);
    for (Answer& a : answers) script_.push_back(std::move(a));
  }

  // Waits (up to 20 s) until pred holds over the accepted samples.
  bool WaitFor(const std::function<bool(const std::vector<ReceivedSample>&)>& pred,
               std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return pred(accepted_); });
  }
  bool WaitForSamples(std::size_t n) {
    return WaitFor([n](const std::vector<ReceivedSample>& s) { return s.size() >= n; });
  }

  std::vector<ReceivedSample> Accepted() {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  std::vector<ReceivedRequest> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Waits (up to 20 s) until n requests have arrived, held ones included.
  bool WaitForArrivals(std::size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return arrived_ >= n; });
  }
  std::size_t RequestCount() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  std::size_t ExemplarCount() {
    std::lock_guard lock(mu_);
    return exemplars_;
  }

  static std::string SeriesString(const prompb::TimeSeries& ts) {
    std::string s = "{";
    for (int i = 0; i < ts.labels_size(); ++i) {
      if (i > 0) s += ", ";
      s += ts.labels(i).name() + "=\"" + ts.labels(i).value() + "\"";
    }
    return s + "}";
  }

 private:
  net::Response Handle(const net::Request& r) {
    std::string raw;
    ReceivedRequest rr;
    rr.headers = r.headers;
    rr.body = r.body;
    rr.at = std::chrono::steady_clock::now();
    if (!SnappyUncompress(r.body, &raw) || !rr.request.ParseFromString(raw)) {
      return net::Response::Text(400, "cannot decode the request");
    }
    std::chrono::milliseconds delay;
    {
      std::unique_lock lock(mu_);
      ++arrived_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !held_; });
      delay = delay_;
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu_);
    requests_.push_back(rr);
    Answer a;
    if (!script_.empty()) {
      a = std::move(script_.front());
      script_.pop_front();
    }
    if (a.status / 100 == 2 && in_order_ && OutOfOrder(rr.request)) {
      a = Answer{400, {}, "out of order sample"};
    }
    if (a.status / 100 == 2) {
      for (const prompb::TimeSeries& ts : rr.request.timeseries()) {
        const std::string series = SeriesString(ts);
        for (const prompb::Sample& s : ts.samples()) {
          if (in_order_) {
            auto [it, added] = newest_.emplace(series, s.timestamp());
            if (!added && s.timestamp() == it->second) continue;  // a duplicate
            it->second = s.timestamp();
          }
          accepted_.push_back({series, s.timestamp(), s.value()});
        }
        exemplars_ += static_cast<std::size_t>(ts.exemplars_size());
      }
    }
    cv_.notify_all();
    net::Response resp = net::Response::Text(a.status, a.body);
    resp.headers = a.headers;
    return resp;
  }

  // Whether a sample of req is older than the newest of its series (counting req's own).
  bool OutOfOrder(const prompb::WriteRequest& req) const {
    std::map<std::string, std::int64_t> newest = newest_;
    for (const prompb::TimeSeries& ts : req.timeseries()) {
      const std::string series = SeriesString(ts);
      for (const prompb::Sample& s : ts.samples()) {
        auto [it, added] = newest.emplace(series, s.timestamp());
        if (added) continue;
        if (s.timestamp() < it->second) return true;
        it->second = s.timestamp();
      }
    }
    return false;
  }

  net::IoThreadPool pool_;
  std::unique_ptr<net::HttpServer> server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Answer> script_;                   // guarded by mu_
  std::vector<ReceivedRequest> requests_;       // guarded by mu_
  std::vector<ReceivedSample> accepted_;        // guarded by mu_
  std::size_t exemplars_ = 0;                   // guarded by mu_
  std::size_t arrived_ = 0;                     // guarded by mu_: requests, held ones too
  std::chrono::milliseconds delay_{0};          // guarded by mu_
  bool held_ = false;                           // guarded by mu_
  bool in_order_ = false;                       // guarded by mu_
  std::map<std::string, std::int64_t> newest_;  // guarded by mu_; with in_order_
};

}  // namespace starling::remote::testing
