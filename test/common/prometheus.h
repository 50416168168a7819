#pragma once

// A real Prometheus (Debian's package) as a remote-write receiver for tests, on a free
// loopback port with its data in a directory of the test's, queried through its HTTP API.

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/process.h"

namespace starling::test {

inline constexpr char kPrometheusBinary[] = "/usr/bin/prometheus";

// Polls pred every 250 ms until it holds or `deadline` passes; returns whether it held.
bool Eventually(const std::function<bool()>& pred,
                std::chrono::seconds deadline = std::chrono::seconds(90));

// Percent-encodes everything but RFC 3986's unreserved characters.
std::string UrlEncode(const std::string& s);

class PrometheusServer {
 public:
  // `listen_host` is the address it listens on ("0.0.0.0" to be reachable from network
  // namespaces); the test reaches it at 127.0.0.1 either way.
  explicit PrometheusServer(std::string dir, std::string listen_host = "127.0.0.1");

  // Before Start: replaces its configuration file (by default one with no scrape jobs).
  void SetConfig(const std::string& yaml);
  // Before Start: one more command-line flag, e.g. "--enable-feature=exemplar-storage".
  void AddFlag(std::string flag);

  // Starts it with --web.enable-remote-write-receiver and waits until it is ready.
  void Start();
  // SIGTERM, and waits for it to exit.
  void Stop();

  // The result of an instant query, or nullopt when the query fails.
  std::optional<nlohmann::json> Query(const std::string& promql) const;
  // The exemplars of the series `promql` selects, whatever their time; nullopt on failure.
  std::optional<nlohmann::json> QueryExemplars(const std::string& promql) const;

  // The remote-write URL at `host` (an address of this machine the writer can reach).
  std::string write_url(const std::string& host = "127.0.0.1") const;
  int port() const { return port_; }

 private:
  std::string dir_;
  std::string listen_host_;
  int port_;
  std::vector<std::string> flags_;
  std::unique_ptr<Process> process_;
};

}  // namespace starling::test
