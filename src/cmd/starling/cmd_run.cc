// `starling run [flags] CONFIG`: loads a configuration file into the component runtime and
// serves the agent's HTTP endpoints until SIGINT or SIGTERM. SIGHUP and `POST /-/reload`
// re-read the file; a file with errors is rejected and the running graph is kept. Flag names
// follow Grafana Agent Flow's `run` command. With --cluster.enable-tls the HTTP port serves
// HTTPS with mutual TLS, since cluster peers gossip over it (as in Alloy, where cluster TLS
// needs the HTTP server's TLS).

#include <malloc.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/go_duration.h"
#include "base/logging.h"
#include "base/metrics.h"
#include "cluster/cluster.h"
#include "cluster/join.h"
#include "cluster/node.h"
#include "cmd/starling/commands.h"
#include "cmd/starling/register_components.h"
#include "component/component.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "runtime/runtime.h"
#include "service/peers_api.h"
#include "service/targets_api.h"
#include "service/ui.h"
#include "service/web_api.h"

namespace starling::cmd {
namespace {

struct RunOptions {
  std::string config;
  std::string listen_addr = "127.0.0.1:12345";
  std::string ui_prefix = "/";
  std::string storage_path = "data-agent/";
  bool disable_reporting = false;

  // --cluster.*, with Grafana Agent v0.40's names and defaults (and Alloy's later flags).
  bool cluster_enabled = false;
  std::string node_name;  // default: the hostname
  std::string advertise_address;
  std::string advertise_interfaces = "eth0,en0";
  std::string join_addresses;
  std::string discover_peers;
  std::string rejoin_interval = "60s";
  int max_join_peers = 5;
  std::string cluster_name;
  bool enable_tls = false;
  std::string tls_ca_path;
  std::string tls_cert_path;
  std::string tls_key_path;
  std::string tls_server_name;
  int wait_for_size = 0;
  std::string wait_timeout = "0s";
};

// Two threads serve HTTP and signals; components run on threads of their own.
constexpr int kIoThreads = 2;

// What /-/ready reports: ready once the first configuration is loaded and the cluster (with
// --cluster.wait-for-size) is ready for traffic. `cluster` is set before `loaded`.
struct Readiness {
  std::shared_ptr<cluster::Cluster> cluster;
  std::atomic<bool> loaded{false};

  bool Ready() const { return loaded.load(std::memory_order_acquire) && cluster->View().ready; }
};

void AddHealthRoutes(net::HttpServer& server, const base::MetricsRegistry& registry,
                     const Readiness& readiness) {
  server.Handle("GET", "/-/ready", [&readiness](const net::Request&) {
    if (!readiness.Ready()) return net::Response::Text(503, "Starling is not ready.\n");
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

// Stops the agent once: on a signal, or on a fatal error (kFatalStop).
constexpr int kFatalStop = -1;
class Stopper {
 public:
  void Stop(int code) {
    std::call_once(once_, [&] { promise_.set_value(code); });
  }
  int Wait() { return future_.get(); }

 private:
  std::once_flag once_;
  std::promise<int> promise_;
  std::future<int> future_ = promise_.get_future();
};

// The cluster flags, checked.
struct ClusterFlags {
  std::vector<std::string> join_entries;
  std::optional<cluster::DiscoverPeersConfig> discover;
  std::chrono::nanoseconds rejoin_interval{0};
  std::chrono::nanoseconds wait_timeout{0};
  // With --cluster.enabled and --cluster.enable-tls: how the HTTP server serves TLS, and how
  // gossip is sent to peers.
  std::optional<net::HttpServer::Options::Tls> server_tls;
  std::shared_ptr<const net::ClientConfig> client_tls;
};

// Fails, naming the flag, unless `path` is a file this process can read.
base::Status CheckReadable(const std::string& flag, const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return base::Status::InvalidArgument("cannot read " + flag + " \"" + path +
                                         "\": is a directory");
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return base::Status::InvalidArgument("cannot read " + flag + " \"" + path +
                                         "\": " + std::strerror(errno));
  }
  std::fclose(f);
  return base::Status::Ok();
}

// --cluster.enable-tls needs the CA, certificate and key flags, naming readable files; the
// server checks what they contain when it starts.
base::Status CheckClusterTls(const RunOptions& opts, ClusterFlags& f) {
  const std::pair<const char*, const std::string*> files[] = {
      {"--cluster.tls-ca-path", &opts.tls_ca_path},
      {"--cluster.tls-cert-path", &opts.tls_cert_path},
      {"--cluster.tls-key-path", &opts.tls_key_path},
  };
  std::vector<std::string> missing;
  for (const auto& [flag, path] : files) {
    if (path->empty()) missing.emplace_back(flag);
  }
  if (!missing.empty()) {
    std::string names;
    for (std::size_t i = 0; i < missing.size(); ++i) {
      if (i > 0) names += i + 1 == missing.size() ? " and " : ", ";
      names += missing[i];
    }
    return base::Status::InvalidArgument("--cluster.enable-tls requires " + names);
  }
  for (const auto& [flag, path] : files) RETURN_IF_ERROR(CheckReadable(flag, *path));
  f.server_tls = net::HttpServer::Options::Tls{.cert_file = opts.tls_cert_path,
                                               .key_file = opts.tls_key_path,
                                               .client_ca_file = opts.tls_ca_path,
                                               .require_client_cert = true};
  auto client = std::make_shared<net::ClientConfig>();
  client->tls.ca_file = opts.tls_ca_path;
  client->tls.cert_file = opts.tls_cert_path;
  client->tls.key_file = opts.tls_key_path;
  client->tls.server_name = opts.tls_server_name;
  f.client_tls = std::move(client);
  return base::Status::Ok();
}

base::Result<ClusterFlags> CheckClusterFlags(const RunOptions& opts) {
  ClusterFlags f;
  if (opts.enable_tls && opts.cluster_enabled) {
    RETURN_IF_ERROR(CheckClusterTls(opts, f));
  } else if (opts.enable_tls) {
    spdlog::warn("--cluster.enable-tls has no effect without --cluster.enabled");
  }
  f.join_entries = cluster::SplitCommaList(opts.join_addresses);
  for (const std::string& e : f.join_entries) {
    base::Result<cluster::JoinAddress> a = cluster::ParseJoinAddress(e);
    if (!a.ok())
      return base::Status::InvalidArgument("invalid --cluster.join-addresses entry \"" + e +
                                           "\": " + a.error().message());
  }
  if (!opts.discover_peers.empty()) {
    if (!f.join_entries.empty()) {
      return base::Status::InvalidArgument(
          "at most one of --cluster.join-addresses and --cluster.discover-peers may be set");
    }
    base::Result<cluster::DiscoverPeersConfig> d = cluster::ParseDiscoverPeers(opts.discover_peers);
    if (!d.ok())
      return base::Status::InvalidArgument("invalid --cluster.discover-peers: " +
                                           d.error().message());
    f.discover = std::move(*d);
  }
  base::Result<std::chrono::nanoseconds> rejoin = base::ParseGoDuration(opts.rejoin_interval);
  if (!rejoin.ok() || *rejoin < std::chrono::nanoseconds{0}) {
    return base::Status::InvalidArgument("invalid --cluster.rejoin-interval \"" +
                                         opts.rejoin_interval + "\"");
  }
  f.rejoin_interval = *rejoin;
  base::Result<std::chrono::nanoseconds> wait = base::ParseGoDuration(opts.wait_timeout);
  if (!wait.ok() || *wait < std::chrono::nanoseconds{0}) {
    return base::Status::InvalidArgument("invalid --cluster.wait-timeout \"" + opts.wait_timeout +
                                         "\"");
  }
  f.wait_timeout = *wait;
  if (opts.max_join_peers < 0)
    return base::Status::InvalidArgument("--cluster.max-join-peers must not be negative");
  if (opts.wait_for_size < 0)
    return base::Status::InvalidArgument("--cluster.wait-for-size must not be negative");
  return f;
}

// Without --cluster.enabled, a one-node cluster; with it, a started gossip node.
base::Result<std::shared_ptr<cluster::Cluster>> StartCluster(
    const RunOptions& opts, const ClusterFlags& flags, net::HttpServer& server,
    base::MetricsRegistry& registry, const std::shared_ptr<Stopper>& stopper) {
  std::string name = opts.node_name;
  if (name.empty()) {
    base::Result<std::string> host = cluster::DefaultNodeName();
    if (!host.ok())
      return base::Status::Unavailable("could not determine the node name: " +
                                       host.error().message() + "; set --cluster.node-name");
    name = *host;
  }
  const int port = server.port();
  if (!opts.cluster_enabled) {
    return std::shared_ptr<cluster::Cluster>(
        std::make_shared<cluster::StandaloneCluster>(name, server.address()));
  }
  base::Result<cluster::AdvertiseAddress> advertise =
      cluster::DetermineAdvertiseAddress(opts.advertise_address, opts.advertise_interfaces, port);
  if (!advertise.ok())
    return base::Status::InvalidArgument("invalid --cluster.advertise-address: " +
                                         advertise.error().message());
  if (!advertise->warning.empty()) spdlog::warn("cluster: {}", advertise->warning);

  cluster::NodeOptions no;
  no.membership.cluster_name = opts.cluster_name;
  no.membership.node_name = name;
  no.membership.advertise_addr = advertise->address;
  no.max_join_peers = opts.max_join_peers;
  no.rejoin_interval = flags.rejoin_interval;
  no.wait_for_size = opts.wait_for_size;
  no.wait_timeout = flags.wait_timeout;
  no.metrics = &registry;
  no.resolve_join = [flags, port]() -> std::vector<std::string> {
    cluster::DnsJoinResolver resolver;
    base::Result<cluster::ResolvedPeers> peers =
        flags.discover.has_value()
            ? cluster::DiscoverPeers(*flags.discover, port, resolver)
            : cluster::ResolveJoinAddresses(flags.join_entries, port, resolver);
    if (!peers.ok()) {
      spdlog::warn("cluster: could not resolve any peer to join: {}", peers.error().message());
      return {};
    }
    for (const base::Status& e : peers->errors) spdlog::warn("cluster: {}", e.message());
    return peers->addresses;
  };
  no.on_fatal = [stopper](const base::Status&) { stopper->Stop(kFatalStop); };
  if (flags.client_tls != nullptr) {
    no.scheme = "https";
    no.client_config = flags.client_tls;
  }
  auto node = std::make_shared<cluster::Node>(std::move(no));
  node->RegisterRoutes(server);
  node->Start();
  spdlog::info("cluster: node {} advertises {}", name, advertise->address);
  return std::shared_ptr<cluster::Cluster>(node);
}

int RunRun(const RunOptions& opts) {
  // A dozen threads allocate; glibc would give most an arena of their own, each keeping its
  // freed blocks apart from the others'. Two arenas hold RSS down at no measurable CPU cost.
  // MALLOC_ARENA_MAX in the environment still wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  // Every target keeps a connection open between scrapes, so thousands of targets need more
  // descriptors than the usual soft limit of 1024: raise it to the hard limit, as Go programs
  // (Prometheus, vmagent) do at start.
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    static_cast<void>(setrlimit(RLIMIT_NOFILE, &files));
  }
  if (base::Status s = base::ConfigureLogging("info", "logfmt"); !s.ok()) {
    PrintError(s.message());
    return 1;
  }
  base::Result<net::HostPort> listen = net::ParseHostPort(opts.listen_addr);
  if (!listen.ok()) {
    PrintError("invalid --server.http.listen-addr: " + listen.error().message());
    return 1;
  }
  base::Result<std::string> ui_prefix = service::NormalizeUiPrefix(opts.ui_prefix);
  if (!ui_prefix.ok()) {
    PrintError("invalid --server.http.ui-path-prefix: " + ui_prefix.error().message());
    return 1;
  }

  // Cluster flags are checked before anything starts, so a typo fails fast.
  base::Result<ClusterFlags> cluster_flags = CheckClusterFlags(opts);
  if (!cluster_flags.ok()) {
    PrintError(cluster_flags.error().message());
    return 1;
  }

  // The file is read before anything starts, so a missing file fails fast.
  base::Result<std::string> src = ReadInput(opts.config);
  if (!src.ok()) {
    PrintError("could not read config: " + src.error().message());
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
  base::RegisterAgentResourceMetrics(registry);

  net::IoThreadPool pool(kIoThreads);
  // Watch for signals before announcing the address, so whoever waits for the announcement
  // can always stop us cleanly. A fatal cluster error stops the agent the same way.
  auto stopper = std::make_shared<Stopper>();
  boost::asio::signal_set signals(pool.context(), SIGINT, SIGTERM);
  signals.async_wait(
      [stopper](const boost::system::error_code& ec, int signo) { stopper->Stop(ec ? 0 : signo); });

  // The server starts first: the cluster advertises its port, which may be chosen now.
  net::HttpServer::Options server_opts;
  server_opts.host = listen->host;
  server_opts.port = listen->port;
  server_opts.tls = cluster_flags->server_tls;
  Readiness readiness;  // outlives the server, whose /-/ready handler reads it
  net::HttpServer server(pool.context(), server_opts);
  AddHealthRoutes(server, registry, readiness);
  if (base::Status s = server.Start(); !s.ok()) {
    spdlog::error("failed to start the http server: {}", s.message());
    return 1;
  }
  if (server_opts.tls.has_value()) {
    spdlog::info(
        "cluster TLS: the http server serves https only, to clients with a certificate "
        "of --cluster.tls-ca-path");
  }

  base::Result<std::shared_ptr<cluster::Cluster>> cluster =
      StartCluster(opts, *cluster_flags, server, registry, stopper);
  if (!cluster.ok()) {
    PrintError(cluster.error().message());
    return 1;
  }
  readiness.cluster = *cluster;
  auto* node = dynamic_cast<cluster::Node*>(cluster->get());
  auto services = std::make_shared<component::Services>();
  services->Set<cluster::Cluster>("cluster", *cluster);

  runtime::Runtime::Options runtime_opts;
  runtime_opts.registry = &components;
  runtime_opts.storage_path = opts.storage_path;
  runtime_opts.metrics = &registry;
  runtime_opts.services = services;
  runtime::Runtime graph(runtime_opts);

  syntax::Diagnostics diags = graph.Load(opts.config, *src);
  if (!diags.empty()) PrintDiagnostics(diags, opts.config);
  if (diags.HasErrors()) {
    PrintError("could not perform the initial load successfully");
    return 1;
  }
  spdlog::info("loaded config file {} ({} components)", opts.config, graph.Components().size());
  // A node owns work only once it runs a configuration.
  if (node != nullptr) node->SetParticipant();
  readiness.loaded.store(true, std::memory_order_release);

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
  // Series tables and vectors grow by steps and free the blocks they outgrow; glibc keeps freed
  // memory inside its arenas until asked, so hand it back to the system now and then.
  boost::asio::steady_timer trim(pool.context());
  std::function<void()> schedule_trim = [&trim, &schedule_trim] {
    trim.expires_after(std::chrono::seconds(30));
    trim.async_wait([&schedule_trim](const boost::system::error_code& ec) {
      if (ec) return;
      malloc_trim(0);
      schedule_trim();
    });
  };
  schedule_trim();

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

  service::RegisterWebApi(server, graph, *ui_prefix);
  service::RegisterPeersApi(server, **cluster, graph, *ui_prefix);
  service::RegisterTargetsApi(server, graph, **cluster, *ui_prefix);
  service::RegisterUi(server, service::EmbeddedUiAssets(), *ui_prefix);
  server.Handle("POST", "/-/reload", [&reload](const net::Request&) {
    if (std::optional<std::string> err = reload()) return net::Response::Text(400, *err);
    return net::Response::Text(200, "config reloaded\n");
  });
  spdlog::info("now listening for http traffic on {}", server.address());
  spdlog::info("web UI at {}://{}{}", server.scheme(), server.address(), *ui_prefix);

  int signo = stopper->Wait();
  int exit_code = 0;
  if (signo == kFatalStop) {
    spdlog::error("stopping after a fatal cluster error");
    exit_code = 1;
  } else {
    spdlog::info("received {}, shutting down", signo == SIGINT ? "SIGINT" : "SIGTERM");
    // Peers take this node's work over before its components stop.
    if (node != nullptr) node->Shutdown();
  }
  server.Stop();
  boost::system::error_code ignored;
  hangup.cancel(ignored);
  trim.cancel();
  pool.Stop();
  graph.Stop();
  spdlog::info("shutdown complete");
  return exit_code;
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
  run->add_option("--server.http.ui-path-prefix", opts->ui_prefix,
                  "Path prefix to serve the web UI and its API (/api/v0/web/...) under")
      ->capture_default_str();
  run->add_option("--storage.path", opts->storage_path,
                  "Base directory where components can store data (created when first needed)")
      ->capture_default_str();
  run->add_flag("--disable-reporting", opts->disable_reporting,
                "Accepted for compatibility; Starling never sends usage reports");
  run->add_flag("--cluster.enabled", opts->cluster_enabled,
                "Start in clustered mode: share the work of cluster-aware components with peers");
  run->add_option("--cluster.node-name", opts->node_name,
                  "The name of this node in the cluster (default: the hostname); must be unique");
  run->add_option("--cluster.advertise-address", opts->advertise_address,
                  "Address (host[:port]) peers reach this node at; the port defaults to the "
                  "HTTP listen port");
  run->add_option("--cluster.advertise-interfaces", opts->advertise_interfaces,
                  "Interfaces whose address is advertised when --cluster.advertise-address is "
                  "not set (\"all\" for any)")
      ->capture_default_str();
  run->add_option("--cluster.join-addresses", opts->join_addresses,
                  "Comma-separated peers to join (host[:port]; dns+, dnssrv+, dnssrvnoa+ "
                  "prefixes)");
  run->add_option("--cluster.discover-peers", opts->discover_peers,
                  "Peers to join, found by provider (\"provider=dns name=...\")");
  run->add_option("--cluster.rejoin-interval", opts->rejoin_interval,
                  "How often to join the peers again (heals split brains); 0s disables")
      ->capture_default_str();
  run->add_option("--cluster.max-join-peers", opts->max_join_peers,
                  "Number of peers contacted when joining; 0 contacts all")
      ->capture_default_str();
  run->add_option("--cluster.name", opts->cluster_name,
                  "Name of the cluster; peers of another name are refused");
  run->add_flag("--cluster.enable-tls", opts->enable_tls,
                "Use mutual TLS between cluster peers; the HTTP server then serves HTTPS only");
  run->add_option("--cluster.tls-ca-path", opts->tls_ca_path,
                  "CA certificate file (PEM) that peers' certificates are verified against");
  run->add_option("--cluster.tls-cert-path", opts->tls_cert_path,
                  "Certificate file (PEM) this node presents, as server and as client");
  run->add_option("--cluster.tls-key-path", opts->tls_key_path,
                  "Private key file (PEM) of --cluster.tls-cert-path");
  run->add_option("--cluster.tls-server-name", opts->tls_server_name,
                  "Name to verify peers' certificates against (default: the peer's address)");
  run->add_option("--cluster.wait-for-size", opts->wait_for_size,
                  "Cluster-aware components wait for this many participants; 0 disables")
      ->capture_default_str();
  run->add_option("--cluster.wait-timeout", opts->wait_timeout,
                  "How long to wait for --cluster.wait-for-size before going ahead; 0s waits "
                  "forever")
      ->capture_default_str();
  run->callback([opts, exit_code] { *exit_code = RunRun(*opts); });
}

}  // namespace starling::cmd
