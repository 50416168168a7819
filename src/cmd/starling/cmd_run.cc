// `starling run [flags] CONFIG`: loads a configuration file into the component runtime and
// serves the agent's HTTP endpoints until SIGINT or SIGTERM. SIGHUP and `POST /-/reload`
// re-read the file; a file with errors is rejected and the running graph is kept. Flag names
// follow Grafana Agent Flow's `run` command.

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>

#include "base/logging.h"
#include "base/metrics.h"
#include "cmd/starling/commands.h"
#include "cmd/starling/register_components.h"
#include "component/component.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "runtime/runtime.h"
#include "service/web_api.h"

namespace starling::cmd {
namespace {

struct RunOptions {
  std::string config;
  std::string listen_addr = "127.0.0.1:12345";
  std::string storage_path = "data-agent/";
  bool disable_reporting = false;
};

// Two threads serve HTTP and signals; components run on threads of their own.
constexpr int kIoThreads = 2;

void AddHealthRoutes(net::HttpServer& server, const base::MetricsRegistry& registry) {
  server.Handle("GET", "/-/ready", [](const net::Request&) {
    return net::Response::Text(200, "Starling is Ready.\n");
  });
  server.Handle("GET", "/-/healthy", [](const net::Request&) {
    return net::Response::Text(200, "Starling is Healthy.\n");
  });
  server.Handle("GET", "/metrics", [&registry](const net::Request&) {
    net::Response r = net::Response::Text(200, registry.Render());
    r.content_type = std::string(base::MetricsRegistry::kContentType);
    return r;
  });
}

void RegisterBuildInfo(base::MetricsRegistry& registry) {
  const BuildInfo& b = GetBuildInfo();
  registry
      .AddGaugeFamily("starling_build_info",
                      "A metric with a constant '1' value labeled by version, revision, branch, "
                      "compiler, platform and tags from which starling was built.",
                      {"branch", "compiler", "platform", "revision", "tags", "version"})
      .WithLabels({b.branch, b.compiler, b.platform, b.revision, b.tags, b.version})
      .Set(1);
}

int RunRun(const RunOptions& opts) {
  if (base::Status s = base::ConfigureLogging("info", "logfmt"); !s.ok()) {
    PrintError(s.message());
    return 1;
  }
  base::Result<net::HostPort> listen = net::ParseHostPort(opts.listen_addr);
  if (!listen.ok()) {
    PrintError("invalid --server.http.listen-addr: " + listen.error().message());
    return 1;
  }

  component::Registry components;
  if (base::Status s = RegisterAllComponents(components); !s.ok()) {
    PrintError("registering components: " + s.message());
    return 1;
  }
  base::MetricsRegistry registry;
  RegisterBuildInfo(registry);
  base::RegisterProcessMetrics(registry);

  runtime::Runtime::Options runtime_opts;
  runtime_opts.registry = &components;
  runtime_opts.storage_path = opts.storage_path;
  runtime_opts.metrics = &registry;
  runtime::Runtime graph(runtime_opts);

  base::Result<std::string> src = ReadInput(opts.config);
  if (!src.ok()) {
    PrintError("could not read config: " + src.error().message());
    return 1;
  }
  syntax::Diagnostics diags = graph.Load(opts.config, *src);
  if (!diags.empty()) PrintDiagnostics(diags, opts.config);
  if (diags.HasErrors()) {
    PrintError("could not perform the initial load successfully");
    return 1;
  }
  spdlog::info("loaded config file {} ({} components)", opts.config, graph.Components().size());

  // Re-reads the config file; the error text (file read failure or diagnostics) when the new
  // config was not applied cleanly.
  auto reload = [&graph, &opts]() -> std::optional<std::string> {
    base::Result<std::string> text = ReadInput(opts.config);
    if (!text.ok()) return "could not read config: " + text.error().message();
    syntax::Diagnostics d = graph.Load(opts.config, *text);
    if (d.HasErrors()) {
      std::string msg = d.Format(opts.config);
      spdlog::error("failed to reload config: {}", msg);
      return msg;
    }
    spdlog::info("config reloaded");
    return std::nullopt;
  };

  net::IoThreadPool pool(kIoThreads);
  // Watch for signals before announcing the address, so whoever waits for the announcement
  // can always stop us cleanly.
  auto signalled = std::make_shared<std::promise<int>>();
  std::future<int> stop_requested = signalled->get_future();
  boost::asio::signal_set signals(pool.context(), SIGINT, SIGTERM);
  signals.async_wait([signalled](const boost::system::error_code& ec, int signo) {
    signalled->set_value(ec ? 0 : signo);
  });
  boost::asio::signal_set hangup(pool.context(), SIGHUP);
  std::function<void()> wait_hangup = [&hangup, &reload, &wait_hangup] {
    hangup.async_wait([&reload, &wait_hangup](const boost::system::error_code& ec, int) {
      if (ec) return;
      spdlog::info("received SIGHUP, reloading config");
      (void)reload();
      wait_hangup();
    });
  };
  wait_hangup();

  net::HttpServer::Options server_opts;
  server_opts.host = listen->host;
  server_opts.port = listen->port;
  net::HttpServer server(pool.context(), server_opts);
  AddHealthRoutes(server, registry);
  service::RegisterWebApi(server, graph);
  server.Handle("POST", "/-/reload", [&reload](const net::Request&) {
    if (std::optional<std::string> err = reload()) return net::Response::Text(400, *err);
    return net::Response::Text(200, "config reloaded\n");
  });
  if (base::Status s = server.Start(); !s.ok()) {
    spdlog::error("failed to start the http server: {}", s.message());
    return 1;
  }
  spdlog::info("now listening for http traffic on {}", server.address());

  int signo = stop_requested.get();
  spdlog::info("received {}, shutting down", signo == SIGINT ? "SIGINT" : "SIGTERM");
  server.Stop();
  boost::system::error_code ignored;
  hangup.cancel(ignored);
  pool.Stop();
  graph.Stop();
  spdlog::info("shutdown complete");
  return 0;
}

}  // namespace

void AddRunCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand(
      "run", "Run the agent with a River configuration file, serving its HTTP endpoints.");
  run->add_option("config", opts->config, "Configuration file to load")->required();
  run->add_option("--server.http.listen-addr", opts->listen_addr,
                  "Address (host:port) to listen on for HTTP traffic; port 0 picks a free port")
      ->capture_default_str();
  run->add_option("--storage.path", opts->storage_path,
                  "Base directory where components can store data (created when first needed)")
      ->capture_default_str();
  run->add_flag("--disable-reporting", opts->disable_reporting,
                "Accepted for compatibility; Starling never sends usage reports");
  run->callback([opts, exit_code] { *exit_code = RunRun(*opts); });
}

}  // namespace starling::cmd
