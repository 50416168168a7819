// Encoding and compressing remote write batches: the per-sample CPU of the send path without
// the WAL and HTTP. Series look like a node exporter's (5-7 labels, ~90 bytes of label text).

#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/testing.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "remote/encoder.h"
#include "remote/queue.h"
#include "wal/record.h"
#include "wal/wal.h"

namespace starling::remote {
namespace {

using LabelList = std::vector<std::pair<std::string, std::string>>;

std::vector<LabelList> MakeSeries(int n) {
  const char* modes[] = {"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"};
  std::vector<LabelList> out;
  for (int i = 0; i < n; ++i) {
    LabelList l = {
        {"__name__", i % 3 == 0 ? "node_cpu_seconds_total" : "node_network_receive_bytes_total"},
        {"cpu", std::to_string(i % 64)},
        {"instance", "host-" + std::to_string(i / 512) + ".example.internal:9100"},
        {"job", "node"},
        {"mode", modes[i % 8]}};
    if (i % 2 == 0) l.emplace_back("region", "eu-west-1");
    out.push_back(std::move(l));
  }
  return out;
}

void EncodeCompressBatch(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  std::vector<LabelList> series = MakeSeries(batch);
  const LabelList external = {{"cluster", "prod"}};
  WriteRequestEncoder enc;
  ByteBuffer compressed;
  std::int64_t t = 1700000000000;
  std::size_t bytes = 0;
  for (auto _ : state) {
    enc.Reset();
    for (int i = 0; i < batch; ++i) {
      enc.BeginSeries();
      // External labels merged in name order, as the queue does.
      std::size_t e = 0;
      for (const auto& [n, v] : series[static_cast<std::size_t>(i)]) {
        while (e < external.size() && external[e].first < n) {
          enc.AddLabel(external[e].first, external[e].second);
          ++e;
        }
        enc.AddLabel(n, v);
      }
      for (; e < external.size(); ++e) enc.AddLabel(external[e].first, external[e].second);
      enc.AddSample(t, static_cast<double>(i) * 1.5 + static_cast<double>(t % 1000));
      enc.EndSeries();
    }
    SnappyCompress(enc.data(), &compressed);
    bytes = compressed.size();
    benchmark::DoNotOptimize(compressed.data());
    t += 15000;
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["compressed_bytes_per_sample"] =
      static_cast<double>(bytes) / static_cast<double>(batch);
  state.counters["raw_bytes_per_sample"] =
      static_cast<double>(enc.size()) / static_cast<double>(batch);
}
BENCHMARK(EncodeCompressBatch)->Arg(500)->Arg(2000);

void EncodeOnly(benchmark::State& state) {
  std::vector<LabelList> series = MakeSeries(2000);
  WriteRequestEncoder enc;
  for (auto _ : state) {
    enc.Reset();
    for (const LabelList& s : series) {
      enc.BeginSeries();
      for (const auto& [n, v] : s) enc.AddLabel(n, v);
      enc.AddSample(1700000000000, 1.5);
      enc.EndSeries();
    }
    benchmark::DoNotOptimize(enc.data().data());
  }
  state.SetItemsProcessed(state.iterations() * 2000);
}
BENCHMARK(EncodeOnly);

// Labels from memory, as wal::Storage serves them.
class VectorLabels final : public LabelSource {
 public:
  explicit VectorLabels(const std::vector<LabelList>* series) : series_(series) {}
  bool Visit(storage::SeriesRef ref, Visitor f, void* ctx) const override {
    if (ref == 0 || ref > series_->size()) return false;
    for (const auto& [n, v] : (*series_)[ref - 1]) f(ctx, n, v);
    return true;
  }

 private:
  const std::vector<LabelList>* series_;
};

// A receiver that accepts POST /w without decoding, in a child process so that its CPU is not
// counted; port 0 when it did not start.
struct Receiver {
  pid_t child = -1;
  std::uint16_t port = 0;

  Receiver() {
    int fds[2];
    if (::pipe(fds) != 0) return;
    child = ::fork();
    if (child == 0) {
      net::IoThreadPool pool(1);
      net::HttpServer server(pool.context(), {});
      server.Handle("POST", "/w", [](const net::Request&) { return net::Response::Text(200, ""); });
      std::uint16_t p = server.Start().ok() ? server.port() : 0;
      (void)!::write(fds[1], &p, sizeof(p));
      for (;;) ::pause();
    }
    if (child < 0 || ::read(fds[0], &port, sizeof(port)) != sizeof(port)) port = 0;
    ::close(fds[0]);
    ::close(fds[1]);
  }
  ~Receiver() {
    if (child <= 0) return;
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;
};

double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The whole queue: read the WAL, decode, look labels up, encode, compress and POST to a local
// receiver that accepts without decoding. Reports process CPU per sample (the receiver's share
// included, so an upper bound).
void QueueEndToEnd(benchmark::State& state) {
  const int series = 2000;
  const int scrapes = 100;
  std::vector<LabelList> labels = MakeSeries(series);
  VectorLabels source(&labels);
  Receiver receiver;
  if (receiver.port == 0) {
    state.SkipWithError("cannot start the receiver");
    return;
  }
  const std::uint16_t port = receiver.port;
  net::HttpClient client;
  double cpu_total = 0;
  std::int64_t samples_total = 0;
  for (auto _ : state) {
    state.PauseTiming();
    base::testing::TempDir dir;
    const std::string wal_dir = dir.Path("wal");
    {
      auto w = wal::Wal::Open(wal_dir);
      std::string rec;
      std::vector<wal::record::RefSeries> rs;
      for (int i = 0; i < series; ++i) {
        std::vector<model::Label> l(labels[static_cast<std::size_t>(i)].begin(),
                                    labels[static_cast<std::size_t>(i)].end());
        rs.push_back({static_cast<storage::SeriesRef>(i + 1), model::Labels(std::move(l))});
      }
      wal::record::EncodeSeries(rs, &rec);
      (void)(*w)->Log(rec);
      std::vector<wal::record::RefSample> ss(static_cast<std::size_t>(series));
      for (int s = 0; s < scrapes; ++s) {
        for (int i = 0; i < series; ++i) {
          ss[static_cast<std::size_t>(i)] = {static_cast<storage::SeriesRef>(i + 1),
                                             1700000000000 + s * 15000, i * 0.5 + s};
        }
        rec.clear();
        wal::record::EncodeSamples(ss, &rec);
        (void)(*w)->Log(rec);
      }
      (void)(*w)->Close();
    }
    base::MetricsRegistry metrics;
    QueueOptions o;
    o.name = "bench";
    o.url = "http://127.0.0.1:" + std::to_string(port) + "/w";
    o.queue.batch_send_deadline = std::chrono::milliseconds(5);
    o.queue.max_shards = 1;
    o.queue.max_samples_per_send = static_cast<int>(state.range(0));
    o.queue.capacity = 10000;
    o.wal_poll_interval = std::chrono::milliseconds(1);
    Queue q(o, wal_dir, dir.Path("state"), &source, &client, &metrics);
    state.ResumeTiming();
    const double cpu0 = ProcessCpuSeconds();
    (void)q.Start();
    const double want = static_cast<double>(series) * scrapes;
    auto sent = [&] {
      const std::string text = metrics.Render();
      const std::string key = "prometheus_remote_storage_samples_total{";
      std::size_t at = text.find(key);
      if (at == std::string::npos) return 0.0;
      std::size_t eol = text.find('\n', at);
      std::string line = text.substr(at, eol - at);
      return std::stod(line.substr(line.rfind(' ') + 1));
    };
    while (sent() < want) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    cpu_total += ProcessCpuSeconds() - cpu0;
    samples_total += series * scrapes;
    q.Stop();
  }
  state.counters["cpu_ns_per_sample"] =
      cpu_total * 1e9 / static_cast<double>(std::max<std::int64_t>(1, samples_total));
  state.SetItemsProcessed(samples_total);
}
// One remote-write POST over a session's keep-alive connection, as a shard sends it: the
// per-send cost that a bigger max_samples_per_send spreads over more samples. The body is the
// size of a compressed batch of 2,000 samples.
void SessionPost(benchmark::State& state) {
  Receiver receiver;
  if (receiver.port == 0) {
    state.SkipWithError("cannot start the receiver");
    return;
  }
  net::HttpClient client;
  net::HttpClient::Session session(client);
  net::ClientRequest request;
  request.method = "POST";
  request.url = "http://127.0.0.1:" + std::to_string(receiver.port) + "/w";
  request.headers = {{"Content-Encoding", "snappy"},
                     {"Content-Type", "application/x-protobuf"},
                     {"User-Agent", "bench"},
                     {"X-Prometheus-Remote-Write-Version", "0.1.0"}};
  request.body.assign(static_cast<std::size_t>(state.range(0)), 'x');
  const double cpu0 = ProcessCpuSeconds();
  for (auto _ : state) {
    base::Result<net::ClientResponse> r = session.Do(request);
    if (!r.ok() || r->status != 200) {
      state.SkipWithError("the POST failed");
      return;
    }
  }
  state.counters["cpu_us_per_post"] =
      (ProcessCpuSeconds() - cpu0) * 1e6 /
      static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
}
BENCHMARK(SessionPost)->Arg(33 * 1024);

BENCHMARK(QueueEndToEnd)->Unit(benchmark::kMillisecond)->Iterations(5)->Arg(2000)->Arg(10000);

}  // namespace
}  // namespace starling::remote

BENCHMARK_MAIN();
