#include "net/io_pool.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/logging.h"

namespace starling::net {

namespace asio = boost::asio;

struct IoThreadPool::Impl {
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::mutex stop_mu;
};

IoThreadPool::IoThreadPool(int threads) : impl_(std::make_unique<Impl>()) {
  impl_->work.emplace(impl_->ioc.get_executor());
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i) {
    impl_->threads.emplace_back([ioc = &impl_->ioc] {
      // A handler that throws must not take the process down with it; log and keep serving.
      for (;;) {
        try {
          ioc->run();
          return;
        } catch (const std::exception& e) {
          spdlog::error("uncaught exception in I/O thread: {}", e.what());
        }
      }
    });
  }
}

IoThreadPool::~IoThreadPool() { Stop(); }

asio::io_context& IoThreadPool::context() { return impl_->ioc; }

void IoThreadPool::Stop() {
  std::lock_guard lock(impl_->stop_mu);
  impl_->work.reset();
  impl_->ioc.stop();
  for (std::thread& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace starling::net
