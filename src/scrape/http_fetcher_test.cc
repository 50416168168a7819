#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "net/http_client.h"
#include "scrape/scheduler.h"
#include "scrape/scrape_pool.h"

namespace starling::scrape {
namespace {

// Many keep-alive HTTP/1.1 targets on 127.0.0.1, one port each, served by one thread; counts
// the connections accepted.
class ManyTargets {
 public:
  explicit ManyTargets(int n) {
    for (int i = 0; i < n; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
      EXPECT_EQ(listen(fd, 16), 0);
      socklen_t len = sizeof(addr);
      EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
      listeners_.push_back(fd);
      ports_.push_back(ntohs(addr.sin_port));
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~ManyTargets() {
    const std::uint64_t one = 1;
    EXPECT_EQ(write(stop_, &one, sizeof(one)), static_cast<ssize_t>(sizeof(one)));
    thread_.join();
    for (int fd : listeners_) close(fd);
    close(stop_);
  }
  ManyTargets(const ManyTargets&) = delete;
  ManyTargets& operator=(const ManyTargets&) = delete;

  std::string Url(std::size_t i) const {
    return "http://127.0.0.1:" + std::to_string(ports_[i]) + "/metrics";
  }
  int accepted() const { return accepted_.load(); }

 private:
  void Serve() {
    std::map<int, std::string> conns;  // connection -> request bytes not answered yet
    std::vector<pollfd> fds;
    while (true) {
      fds.clear();
      fds.push_back({stop_, POLLIN, 0});
      for (int fd : listeners_) fds.push_back({fd, POLLIN, 0});
      for (const auto& [fd, pending] : conns) fds.push_back({fd, POLLIN, 0});
      if (poll(fds.data(), fds.size(), -1) < 0) return;
      if (fds[0].revents != 0) break;
      for (const pollfd& p : fds) {
        if (p.revents == 0 || p.fd == stop_) continue;
        if (conns.count(p.fd) == 0) {
          const int c = accept4(p.fd, nullptr, nullptr, 0);
          if (c < 0) continue;
          ++accepted_;
          conns[c];
          continue;
        }
        char buf[4096];
        const ssize_t n = read(p.fd, buf, sizeof(buf));
        if (n <= 0) {
          close(p.fd);
          conns.erase(p.fd);
          continue;
        }
        std::string& pending = conns[p.fd];
        pending.append(buf, static_cast<std::size_t>(n));
        if (pending.find("\r\n\r\n") == std::string::npos) continue;
        pending.clear();
        static constexpr std::string_view kResponse =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n"
            "Content-Length: 5\r\n\r\nup 1\n";
        EXPECT_EQ(write(p.fd, kResponse.data(), kResponse.size()),
                  static_cast<ssize_t>(kResponse.size()));
      }
    }
    for (const auto& [fd, pending] : conns) close(fd);
  }

  std::vector<int> listeners_;
  std::vector<int> ports_;
  int stop_ = eventfd(0, 0);
  std::atomic<int> accepted_{0};
  std::thread thread_;  // last: it uses the rest
};

// Scrapes reuse their target's connection however many targets there are. Targets are scraped
// in turn, so a connection cache smaller than the target count would always have closed the
// connection of the next target due.
TEST(HttpFetcherTest, EveryTargetKeepsItsConnection) {
  // As `starling run` does: each target holds a descriptor here and one in the client.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &files), 0);
  }
  constexpr int kTargets = 300;  // more than the 256 idle connections curl was once given
  ManyTargets targets(kTargets);
  std::shared_ptr<Fetcher> fetcher = NewHttpFetcher();
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < kTargets; ++i) {
      net::ClientRequest request;
      request.url = targets.Url(i);
      std::promise<base::Result<net::ClientResponse>> done;
      fetcher->Fetch(request, i,
                     [&](base::Result<net::ClientResponse> r) { done.set_value(std::move(r)); });
      base::Result<net::ClientResponse> r = done.get_future().get();
      ASSERT_TRUE(r.ok()) << r.error().ToString();
      ASSERT_EQ(r->body, "up 1\n");
    }
  }
  EXPECT_EQ(targets.accepted(), kTargets);
}

// A loop's timers and its fetch's callback run on the same thread, its lane's: the scrape is
// parsed where its response arrived. Different lanes run on different threads.
TEST(HttpFetcherTest, AFetchCompletesOnTheThreadOfItsLanesTimers) {
  ManyTargets targets(1);
  std::shared_ptr<Fetcher> fetcher = NewHttpFetcher();
  std::vector<std::thread::id> lane_threads;
  for (std::size_t lane = 0; lane < ScrapeLanes(); ++lane) {
    std::promise<std::thread::id> timer_thread;
    Scheduler::Shared()->At(
        base::Clock::Real().Monotonic(),
        [&] { timer_thread.set_value(std::this_thread::get_id()); }, lane);
    const std::thread::id on_timer = timer_thread.get_future().get();

    net::ClientRequest request;
    request.url = targets.Url(0);
    std::promise<std::thread::id> done_thread;
    fetcher->Fetch(request, lane, [&](const base::Result<net::ClientResponse>& r) {
      EXPECT_TRUE(r.ok()) << r.error().ToString();
      done_thread.set_value(std::this_thread::get_id());
    });
    const std::thread::id on_done = done_thread.get_future().get();
    EXPECT_EQ(on_done, on_timer) << "lane " << lane;
    EXPECT_NE(on_done, std::this_thread::get_id());
    for (std::thread::id other : lane_threads) EXPECT_NE(on_done, other) << "lane " << lane;
    lane_threads.push_back(on_done);
  }
}

}  // namespace
}  // namespace starling::scrape
