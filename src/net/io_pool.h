#pragma once

// IoThreadPool: one Boost.Asio io_context run by a small fixed set of threads. Servers, timers
// and signal handlers share it; nothing that runs on it may block for long.
//
// Thread-safety: context() may be used from any thread. Stop() must not be called from one of
// the pool's own threads (it joins them).

#include <memory>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace starling::net {

class IoThreadPool {
 public:
  // Starts `threads` threads (at least one) running the context until Stop().
  explicit IoThreadPool(int threads);
  ~IoThreadPool();  // Stop()s
  IoThreadPool(const IoThreadPool&) = delete;
  IoThreadPool& operator=(const IoThreadPool&) = delete;

  boost::asio::io_context& context();

  // Stops the context and joins the threads; handlers not yet run are dropped. Shut servers
  // down gracefully before this. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace starling::net
