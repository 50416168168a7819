#include "common/prometheus.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

namespace starling::test {

using namespace std::chrono_literals;

bool Eventually(const std::function<bool()>& pred, std::chrono::seconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(250ms);
  }
  return pred();
}

std::string UrlEncode(const std::string& s) {
  std::ostringstream out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out << c;
    } else {
      out << '%' << std::uppercase << std::hex << static_cast<int>(c >> 4)
          << static_cast<int>(c & 15) << std::nouppercase << std::dec;
    }
  }
  return out.str();
}

PrometheusServer::PrometheusServer(std::string dir, std::string listen_host)
    : dir_(std::move(dir)), listen_host_(std::move(listen_host)), port_(FreePort()) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ + "/prometheus.yml") << "global:\n  scrape_interval: 1m\n";
}

void PrometheusServer::SetConfig(const std::string& yaml) {
  std::ofstream(dir_ + "/prometheus.yml") << yaml;
}

void PrometheusServer::AddFlag(std::string flag) { flags_.push_back(std::move(flag)); }

void PrometheusServer::Start() {
  std::vector<std::string> args = {
      "--config.file=" + dir_ + "/prometheus.yml", "--storage.tsdb.path=" + dir_ + "/data",
      "--web.listen-address=" + listen_host_ + ":" + std::to_string(port_),
      "--web.enable-remote-write-receiver"};
  args.insert(args.end(), flags_.begin(), flags_.end());
  process_ = std::make_unique<Process>(kPrometheusBinary, std::move(args));
  ASSERT_TRUE(Eventually([&] { return HttpGet(port_, "/-/ready").status == 200; }, 60s))
      << process_->stderr_text();
}

void PrometheusServer::Stop() {
  if (process_ == nullptr) return;
  process_->Signal(SIGTERM);
  EXPECT_TRUE(process_->Wait(60s).has_value());
  process_.reset();
}

namespace {

// The data of an API reply, or nullopt when the request failed.
std::optional<nlohmann::json> ApiData(int port, const std::string& path) {
  HttpReply r = HttpGet(port, path);
  if (r.status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || j.value("status", "") != "success") return std::nullopt;
  return j["data"];
}

}  // namespace

std::optional<nlohmann::json> PrometheusServer::Query(const std::string& promql) const {
  auto data = ApiData(port_, "/api/v1/query?query=" + UrlEncode(promql));
  if (!data) return std::nullopt;
  return (*data)["result"];
}

std::optional<nlohmann::json> PrometheusServer::QueryExemplars(const std::string& promql) const {
  return ApiData(port_,
                 "/api/v1/query_exemplars?start=0&end=4000000000&query=" + UrlEncode(promql));
}

std::string PrometheusServer::write_url(const std::string& host) const {
  return "http://" + host + ":" + std::to_string(port_) + "/api/v1/write";
}

}  // namespace starling::test
