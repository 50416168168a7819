#pragma once

// RefreshingDiscovery: the loop every polling discovery shares (discovery.http, discovery.dns).
// A subclass implements Refresh(); this class calls it on Run's thread every
// `refresh_interval` of the injected clock and at once after each Update, and publishes
// `targets` exports only when they change. Thread-safe: Update and CurrentHealth may be called
// from any thread while Run runs.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "component/component.h"
#include "components/common/file_watcher.h"
#include "components/common/targets.h"

namespace starling::components {

// Args must have a `refresh_interval` (std::chrono::nanoseconds) member.
template <typename Args>
class RefreshingDiscovery : public component::Component {
 public:
  RefreshingDiscovery(component::Options opts, Args args)
      : opts_(std::move(opts)), args_(std::move(args)) {
    PublishExports({});
  }

  base::Status Run(std::stop_token stop) final {
    std::stop_callback on_stop(stop, [this] {
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    });
    while (true) {
      Args args;
      {
        std::unique_lock<std::mutex> lock(mu_);
        while (!stop.stop_requested() && !refresh_now_ &&
               opts_.clock->Monotonic() < next_refresh_) {
          cv_.wait_for(lock, WaitBudget(*opts_.clock, next_refresh_));
        }
        if (stop.stop_requested()) break;
        refresh_now_ = false;
        next_refresh_ = opts_.clock->Monotonic() + args_.refresh_interval;
        args = args_;
      }
      Refresh(args, stop);
      if (stop.stop_requested()) break;
    }
    return base::Status::Ok();
  }

  base::Status Update(const component::Arguments& args) final {
    std::lock_guard<std::mutex> lock(mu_);
    args_ = component::ArgsAs<Args>(args);
    refresh_now_ = true;
    cv_.notify_all();
    return base::Status::Ok();
  }

  component::Health CurrentHealth() const final {
    std::lock_guard<std::mutex> lock(mu_);
    return health_;
  }

 protected:
  // One refresh with a snapshot of the arguments; called on Run's thread without the lock.
  // It reports through Publish (targets, and health: an empty error means healthy).
  virtual void Refresh(const Args& args, const std::stop_token& stop) = 0;

  // Records the health and, when they differ from the last published ones, publishes targets.
  // An unset targets keeps the previous ones (a failed refresh).
  void Publish(const std::optional<std::vector<Target>>& targets, const std::string& error) {
    std::lock_guard<std::mutex> lock(mu_);
    health_ = {
        error.empty() ? component::HealthState::kHealthy : component::HealthState::kUnhealthy,
        error, opts_.clock->Now()};
    if (!targets || (published_ && *published_ == *targets)) return;
    published_ = *targets;
    PublishExports(*targets);
  }

  const component::Options opts_;

 private:
  void PublishExports(const std::vector<Target>& targets) {
    if (opts_.on_state_change) {
      opts_.on_state_change(syntax::Value::Object({{"targets", TargetsToValue(targets)}}));
    }
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  Args args_;                                     // guarded by mu_
  bool refresh_now_ = true;                       // guarded by mu_
  base::Clock::Duration next_refresh_{};          // guarded by mu_
  component::Health health_;                      // guarded by mu_
  std::optional<std::vector<Target>> published_;  // guarded by mu_
};

}  // namespace starling::components
