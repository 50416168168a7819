#include "net/http_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/thread.h"
#include "base/timer_queue.h"
#include "net/token_source.h"

namespace starling::net {
namespace {

std::string_view Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  std::size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool HasHeader(const std::vector<Header>& headers, std::string_view name) {
  return FindHeader(headers, name).has_value();
}

// The URL with its query parameters sorted by name, then value, as SigV4's canonical request
// lists them: libcurl 7.88 signs the query as it stands.
std::string WithSortedQuery(const std::string& url) {
  const std::size_t q = url.find('?');
  if (q == std::string::npos) return url;
  const std::size_t end = std::min(url.find('#', q), url.size());
  std::vector<std::pair<std::string_view, std::string_view>> params;
  std::string_view query = std::string_view(url).substr(q + 1, end - q - 1);
  while (!query.empty()) {
    const std::string_view p = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), p.size() + 1));
    const std::size_t eq = p.find('=');
    params.emplace_back(p.substr(0, eq), eq == std::string_view::npos ? "" : p.substr(eq + 1));
  }
  std::sort(params.begin(), params.end());
  std::string out = url.substr(0, q + 1);
  for (const auto& [name, value] : params) {
    if (out.back() != '?') out += '&';
    out.append(name).append("=").append(value);
  }
  return out + url.substr(end);
}

// Go's http.StatusText for the codes a server is likely to send.
std::string_view StandardStatusText(int code) {
  switch (code) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "Request Entity Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "";
  }
}

// "Get", "Post": the method as Go's url.Error prints it.
std::string GoOp(std::string_view method) {
  std::string op;
  op.reserve(method.size());
  for (std::size_t i = 0; i < method.size(); ++i) {
    op.push_back(i == 0 ? method[i] : AsciiLower(method[i]));
  }
  return op;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void Append(Slist& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown != nullptr) {
    static_cast<void>(list.release());
    list.reset(grown);
  }
}

long CurlTlsVersion(ClientConfig::TlsVersion v) {
  switch (v) {
    case ClientConfig::TlsVersion::kTls10:
      return CURL_SSLVERSION_TLSv1_0;
    case ClientConfig::TlsVersion::kTls11:
      return CURL_SSLVERSION_TLSv1_1;
    case ClientConfig::TlsVersion::kTls12:
      break;
    case ClientConfig::TlsVersion::kTls13:
      return CURL_SSLVERSION_TLSv1_3;
  }
  return CURL_SSLVERSION_TLSv1_2;
}

// Largest body buffer reserved up front from a Content-Length header.
constexpr std::int64_t kMaxReserve = std::int64_t{16} << 20;

}  // namespace

std::optional<std::string_view> ClientResponse::HeaderValue(std::string_view name) const {
  return FindHeader(headers, name);
}

// The multi handles and everything attached to them belong to the client's thread; other
// threads only touch the command queue (under mu_) and wake the thread through wake_fd_.
//
// Hosts are spread over several multi handles ("groups") of at most kHostsPerGroup hosts each,
// driven together through one epoll set: libcurl 7.88 walks the whole connection cache of a
// multi handle each time a transfer is removed from it, which with one handle for hundreds of
// targets cost more than the transfer itself.
class HttpClient::Impl {
 public:
  explicit Impl(Options options) : options_(std::move(options)) {
    GlobalInit();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeKey;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    thread_ = std::thread([this] {
      base::SetThreadName(options_.thread_name);
      Loop();
    });
    thread_id_ = thread_.get_id();
  }

  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    Wake();
    thread_.join();
    for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
    for (std::unique_ptr<Group>& g : groups_) curl_multi_cleanup(g->multi);
    close(wake_fd_);
    close(epoll_fd_);
  }

  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Queues the request; returns its id for Cancel.
  std::uint64_t Submit(ClientRequest request, Callback done) {
    std::uint64_t id = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      id = ++last_id_;
      queue_.push_back(Command{id, std::move(request), std::move(done), false});
    }
    // The thread itself (a timer or callback) takes the queue before it next sleeps.
    if (!OnClientThread()) Wake();
    return id;
  }

  void RunAt(Steady::time_point when, std::function<void()> fn) {
    bool earliest = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      earliest = timers_.Add(when, std::move(fn));
    }
    // The thread sleeps until the earliest timer at the latest, and computes that just before
    // it sleeps: only an earlier timer from another thread needs it woken.
    if (earliest && !OnClientThread()) Wake();
  }

  // Fails the request with kCancelled unless it has already finished.
  void Cancel(std::uint64_t id) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(Command{id, {}, nullptr, true});
    }
    Wake();
  }

 private:
  // Runs its transfers with Configure and Finish.
  friend class HttpClient::Session;

  struct Command {
    std::uint64_t id = 0;
    ClientRequest request;
    Callback done;
    bool cancel = false;
  };

  // A multi handle, its connection cache and the hosts whose requests it runs.
  struct Group {
    CURLM* multi = nullptr;
    std::uint32_t index = 0;  // in groups_, and in the epoll keys of its sockets
    std::size_t hosts = 0;
    Steady::time_point timeout = Steady::time_point::max();  // curl's timer
    Impl* client = nullptr;
  };
  struct HostGroup {
    Group* group = nullptr;
    Steady::time_point last_used;
  };
  static constexpr std::size_t kHostsPerGroup = 32;
  // A host unused for this long leaves its group (curl has closed its connections by then:
  // they live 118 s idle).
  static constexpr std::chrono::minutes kHostIdle{5};
  static constexpr std::uint64_t kWakeKey = ~std::uint64_t{0};

  // One request in flight; its address is the easy handle's CURLOPT_PRIVATE.
  struct Transfer {
    std::uint64_t id = 0;
    CURL* easy = nullptr;
    Group* group = nullptr;
    ClientRequest request;
    Callback done;
    Slist headers;
    Slist proxy_headers;
    Slist connect_to;
    std::string rewritten_url;  // the URL naming the TLS server name, if it differs
    ClientResponse response;
    std::string reason;  // of the last status line
    bool too_large = false;
    std::array<char, CURL_ERROR_SIZE> error{};
  };

  static std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t bytes = size * n;
    std::int64_t limit = t->request.body_size_limit;
    if (limit > 0 && static_cast<std::int64_t>(t->response.body.size() + bytes) > limit) {
      t->too_large = true;
      return 0;  // anything but `bytes` aborts the transfer
    }
    if (t->response.body.empty()) {
      // Size the body once from Content-Length (when sent and the body is not compressed)
      // instead of growing it chunk by chunk: scrape bodies are often megabytes.
      curl_off_t length = -1;
      if (curl_easy_getinfo(t->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK &&
          length > 0 && (limit <= 0 || length <= limit) &&
          !t->response.HeaderValue("Content-Encoding").has_value()) {
        t->response.body.reserve(static_cast<std::size_t>(length));
      }
    }
    t->response.body.append(data, bytes);
    return bytes;
  }

  static std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::size_t bytes = size * n;
    std::string_view line(data, bytes);
    if (line.substr(0, 5) == "HTTP/") {
      // A new response (after a redirect or an interim 1xx): forget the previous one's headers.
      t->response.headers.clear();
      t->reason.clear();
      std::size_t sp = line.find(' ');
      if (sp != std::string_view::npos) {
        std::string_view rest = line.substr(sp + 1);
        std::size_t sp2 = rest.find(' ');
        t->reason = sp2 == std::string_view::npos ? "" : std::string(Trim(rest.substr(sp2 + 1)));
      }
      return bytes;
    }
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return bytes;  // the blank line ending the headers
    Header h{std::string(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1)))};
    if (EqualsIgnoreCase(h.name, "Content-Length")) {
      std::int64_t length = 0;
      auto [ptr, ec] = std::from_chars(h.value.data(), h.value.data() + h.value.size(), length);
      if (ec == std::errc() && length > 0) {
        std::int64_t cap = kMaxReserve;
        if (t->request.body_size_limit > 0) cap = std::min(cap, t->request.body_size_limit);
        t->response.body.reserve(static_cast<std::size_t>(std::min(length, cap)));
      }
    }
    t->response.headers.push_back(std::move(h));
    return bytes;
  }

  void Loop() {
    std::vector<std::function<void()>> due;
    std::array<epoll_event, 64> events{};
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
        const Steady::time_point now = Steady::now();
        while (std::function<void()> fn = timers_.PopDue(now)) due.push_back(std::move(fn));
      }
      for (std::function<void()>& fn : due) fn();
      due.clear();
      std::deque<Command> commands;
      {
        std::lock_guard<std::mutex> lock(mu_);
        commands.swap(queue_);
      }
      for (Command& c : commands) {
        if (c.cancel) {
          CancelTransfer(c.id);
        } else {
          Start(std::move(c));
        }
      }
      // curl's timers, which starting a transfer sets to now.
      Steady::time_point next = Steady::now();
      for (std::unique_ptr<Group>& g : groups_) {
        if (g->timeout > next) continue;
        g->timeout = Steady::time_point::max();
        int running = 0;
        curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        ReapFinished(*g);
      }
      SweepHosts(next);
      // Sleeps until the next timer of ours or curl's (1 s without one).
      next += std::chrono::seconds(1);
      bool queued = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        queued = !queue_.empty();
        if (!timers_.empty()) next = std::min(next, timers_.earliest());
      }
      for (const std::unique_ptr<Group>& g : groups_) next = std::min(next, g->timeout);
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - Steady::now());
      const int wait_ms = queued ? 0 : static_cast<int>(std::max<std::int64_t>(wait.count(), 0));
      const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), wait_ms);
      for (int i = 0; i < n; ++i) {
        const epoll_event& ev = events[static_cast<std::size_t>(i)];
        if (ev.data.u64 == kWakeKey) {
          std::uint64_t count = 0;
          static_cast<void>(read(wake_fd_, &count, sizeof(count)));
          continue;
        }
        Group& g = *groups_[ev.data.u64 >> 32];
        int flags = 0;
        if ((ev.events & EPOLLIN) != 0) flags |= CURL_CSELECT_IN;
        if ((ev.events & EPOLLOUT) != 0) flags |= CURL_CSELECT_OUT;
        if ((ev.events & (EPOLLERR | EPOLLHUP)) != 0) flags |= CURL_CSELECT_ERR;
        int running = 0;
        curl_multi_socket_action(g.multi, static_cast<curl_socket_t>(ev.data.u64 & 0xffffffff),
                                 flags, &running);
        ReapFinished(g);
      }
    }
    Shutdown();
  }

  void Wake() {
    const std::uint64_t one = 1;
    static_cast<void>(write(wake_fd_, &one, sizeof(one)));
  }

  // curl's socket callback: keeps the epoll set in step with the sockets curl waits on.
  static int OnSocket(CURL* /*easy*/, curl_socket_t fd, int what, void* user, void* socket_data) {
    auto* g = static_cast<Group*>(user);
    const int epoll_fd = g->client->epoll_fd_;
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      return 0;
    }
    epoll_event ev{};
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev.events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev.events |= EPOLLOUT;
    ev.data.u64 = (std::uint64_t{g->index} << 32) | static_cast<std::uint32_t>(fd);
    if (socket_data == nullptr) {
      // A descriptor number curl closed without telling (it does for sockets it never
      // waited on) may still be in the set.
      if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST) {
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
      }
      curl_multi_assign(g->multi, fd, g);  // marks the socket as known
    } else {
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
  }

  // curl's timer callback: when curl wants CURL_SOCKET_TIMEOUT (-1: never).
  static int OnTimer(CURLM* /*multi*/, long timeout_ms, void* user) {
    auto* g = static_cast<Group*>(user);
    g->timeout = timeout_ms < 0 ? Steady::time_point::max()
                                : Steady::now() + std::chrono::milliseconds(timeout_ms);
    return 0;
  }

  // The group that runs the requests to url's scheme://host:port, so that they find its
  // connections; a new host joins the group with the fewest hosts, or a new group.
  Group* GroupFor(const std::string& url) {
    const std::size_t scheme_end = url.find("://");
    const std::size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
    const std::string key = url.substr(0, url.find_first_of("/?#", host_start));
    HostGroup& h = hosts_[key];
    h.last_used = Steady::now();
    if (h.group != nullptr) return h.group;
    Group* best = nullptr;
    for (std::unique_ptr<Group>& g : groups_) {
      if (best == nullptr || g->hosts < best->hosts) best = g.get();
    }
    if (best == nullptr || best->hosts >= kHostsPerGroup) best = NewGroup();
    if (best == nullptr) {
      hosts_.erase(key);
      return nullptr;
    }
    ++best->hosts;
    h.group = best;
    return best;
  }

  Group* NewGroup() {
    CURLM* multi = curl_multi_init();
    if (multi == nullptr) return nullptr;
    auto g = std::make_unique<Group>();
    g->multi = multi;
    g->index = static_cast<std::uint32_t>(groups_.size());
    g->client = this;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, &Impl::OnSocket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, g.get());
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, &Impl::OnTimer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, g.get());
    if (options_.max_idle_connections > 0) {
      curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS,
                        static_cast<long>(options_.max_idle_connections));
    }
    groups_.push_back(std::move(g));
    return groups_.back().get();
  }

  // Forgets hosts not used for kHostIdle, once a minute, so that their groups take new ones.
  void SweepHosts(Steady::time_point now) {
    if (now < next_sweep_) return;
    next_sweep_ = now + std::chrono::minutes(1);
    std::erase_if(hosts_, [&](const auto& entry) {
      if (now - entry.second.last_used < kHostIdle) return false;
      --entry.second.group->hosts;
      return true;
    });
  }

  bool OnClientThread() const { return std::this_thread::get_id() == thread_id_; }

  void Shutdown() {
    std::vector<std::unique_ptr<Transfer>> active;
    active.reserve(active_.size());
    for (auto& [id, t] : active_) active.push_back(std::move(t));
    active_.clear();
    for (std::unique_ptr<Transfer>& t : active) {
      curl_multi_remove_handle(t->group->multi, t->easy);
      curl_easy_cleanup(t->easy);
      t->easy = nullptr;
      Callback done = std::move(t->done);
      t.reset();
      done(base::Status::Cancelled("HTTP client shut down"));
    }
    // The token fetches were among them: their waiting requests are failed, but any left over
    // (the fetch had not started) are failed here.
    std::vector<Command> waiting;
    for (auto& [source, w] : token_waits_) {
      for (Command& c : w.commands) waiting.push_back(std::move(c));
    }
    token_waits_.clear();
    for (Command& c : waiting) c.done(base::Status::Cancelled("HTTP client shut down"));
    // Callbacks may have queued more requests: fail those too, until none are left.
    while (true) {
      std::deque<Command> commands;
      {
        std::lock_guard<std::mutex> lock(mu_);
        commands.swap(queue_);
      }
      if (commands.empty()) break;
      for (Command& c : commands) {
        if (!c.cancel) c.done(base::Status::Cancelled("HTTP client shut down"));
      }
    }
  }

  CURL* TakeEasy() {
    if (idle_easy_.empty()) return curl_easy_init();
    CURL* easy = idle_easy_.back();
    idle_easy_.pop_back();
    return easy;
  }

  void ReturnEasy(CURL* easy) {
    if (static_cast<int>(idle_easy_.size()) < std::max(options_.max_idle_connections, 1)) {
      curl_easy_reset(easy);
      idle_easy_.push_back(easy);
    } else {
      curl_easy_cleanup(easy);
    }
  }

  // Starts c, first fetching a token for it if its config has a token source and no valid token.
  void Start(Command c) {
    const ClientConfig* cfg = c.request.config.get();
    if (cfg != nullptr && cfg->token_source != nullptr) {
      std::optional<std::string> auth = cfg->token_source->Cached(Steady::now());
      if (!auth) {
        WaitForToken(std::move(c));
        return;
      }
      cfg->token_source->Apply(*auth, &c.request);
    }
    StartTransfer(std::move(c));
  }

  // Requests wait for a token together: one fetch per token source at a time.
  struct TokenWait {
    std::shared_ptr<TokenSource> source;
    std::vector<Command> commands;
    bool fetching = false;  // stays set when the requests that started it are cancelled
  };

  void WaitForToken(Command c) {
    std::shared_ptr<TokenSource> source = c.request.config->token_source;
    const std::chrono::milliseconds timeout = c.request.timeout;
    TokenWait& w = token_waits_[source.get()];
    w.source = source;
    w.commands.push_back(std::move(c));
    if (!w.fetching) {
      w.fetching = true;
      FetchToken(source, /*step=*/0, timeout);
    }
  }

  void FetchToken(const std::shared_ptr<TokenSource>& source, int step,
                  std::chrono::milliseconds timeout) {
    Command fetch;
    {
      std::lock_guard<std::mutex> lock(mu_);
      fetch.id = ++last_id_;
    }
    base::Result<ClientRequest> request = source->TokenRequest(step, timeout);
    fetch.done = [this, source, step, timeout](const base::Result<ClientResponse>& r) {
      base::Result<std::string> auth = source->Accept(step, r, Steady::now());
      if (source->NextStep(step, auth)) {
        FetchToken(source, step + 1, timeout);
        return;
      }
      auto node = token_waits_.extract(source.get());
      if (node.empty()) return;
      for (Command& c : node.mapped().commands) {
        if (!auth.ok()) {
          c.done(TokenFailure(c.request, auth.error()));
          continue;
        }
        source->Apply(*auth, &c.request);
        StartTransfer(std::move(c));
      }
    };
    if (!request.ok()) {
      fetch.done(request.error());
      return;
    }
    fetch.request = std::move(*request);
    Start(std::move(fetch));  // the token request may need a token of its own (a role's base)
  }

  void StartTransfer(Command c) {
    auto t = std::make_unique<Transfer>();
    t->id = c.id;
    t->request = std::move(c.request);
    t->done = std::move(c.done);
    t->easy = TakeEasy();
    if (t->easy == nullptr) {
      t->done(base::Status::Internal("cannot create an HTTP transfer"));
      return;
    }
    base::Status st = Configure(*t, options_);
    if (st.ok()) {
      t->group = GroupFor(t->request.url);
      if (t->group == nullptr) st = base::Status::Internal("cannot start an HTTP transfer");
    }
    if (st.ok() && curl_multi_add_handle(t->group->multi, t->easy) != CURLM_OK) {
      st = base::Status::Internal("cannot start an HTTP transfer");
    }
    if (!st.ok()) {
      ReturnEasy(t->easy);
      t->done(std::move(st));
      return;
    }
    active_.emplace(t->id, std::move(t));
  }

  static base::Status Configure(Transfer& t, const Options& options) {
    static const ClientConfig kDefaultConfig;
    const ClientConfig& cfg = t.request.config ? *t.request.config : kDefaultConfig;
    if (cfg.sigv4) t.request.url = WithSortedQuery(t.request.url);
    const ClientRequest& r = t.request;
    CURL* h = t.easy;
    const std::string op = GoOp(r.method);

    curl_easy_setopt(h, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t.error.data());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    // Bigger reads than the 16 KiB default: scrape bodies are often hundreds of KiB, and each
    // read is a poll wakeup and a syscall.
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
    // No DNS cache: curl walks all of it before each transfer to drop expired entries, which
    // with hundreds of targets costs more than the rare lookups (only for new connections,
    // as in Go's client) that it saves.
    curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    if (curl_easy_setopt(h, CURLOPT_URL, r.url.c_str()) != CURLE_OK) {
      return base::Status::InvalidArgument(op + " \"" + r.url + "\": invalid URL");
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Impl::OnBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Impl::OnHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
    if (r.timeout.count() > 0) {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
    }
    if (r.accept_gzip) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "gzip");

    if (r.method == "GET" && r.body.empty()) {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
      if (r.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    }

    // Headers: the request's own, the configured credentials unless the request carries an
    // Authorization header, and no headers curl would add on its own initiative.
    for (const Header& hd : r.headers) {
      if (cfg.sigv4 && EqualsIgnoreCase(hd.name, "User-Agent")) {
        // Left unsigned, as AWS's SDKs do: proxies may rewrite it.
        curl_easy_setopt(h, CURLOPT_USERAGENT, hd.value.c_str());
        continue;
      }
      Append(t.headers, hd.value.empty() ? hd.name + ";" : hd.name + ": " + hd.value);
    }
    if (cfg.sigv4) {
      // curl's signer signs every line of the list, removals too, and the server would look
      // for headers it never got; so curl's own Accept and Expect stay, unsigned.
      const ClientConfig::SigV4& s = *cfg.sigv4;
      const AwsKeys& keys = r.aws_keys ? *r.aws_keys : s.keys;
      if (!keys.session_token.empty()) {
        Append(t.headers, "X-Amz-Security-Token: " + keys.session_token);
      }
      const std::string provider = "aws:amz:" + s.region + ":" + s.service;  // curl copies it
      curl_easy_setopt(h, CURLOPT_AWS_SIGV4, provider.c_str());
      curl_easy_setopt(h, CURLOPT_USERNAME, keys.access_key.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, keys.secret_key.c_str());
    } else {
      if (!HasHeader(r.headers, "Accept")) Append(t.headers, "Accept:");
      if (!HasHeader(r.headers, "Expect")) Append(t.headers, "Expect:");
      if (!HasHeader(r.headers, "Content-Type")) Append(t.headers, "Content-Type:");
    }
    if (!cfg.sigv4 && !HasHeader(r.headers, "Authorization")) {
      if (!cfg.authorization.empty()) {
        Append(t.headers, "Authorization: " + cfg.authorization);
      } else if (cfg.basic_auth) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        curl_easy_setopt(h, CURLOPT_USERNAME, cfg.basic_auth->username.c_str());
        curl_easy_setopt(h, CURLOPT_PASSWORD, cfg.basic_auth->password.c_str());
      }
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, t.headers.get());

    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, cfg.follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);  // Go's limit
    // Without HTTP/2 support in libcurl the option fails and HTTP/1.1 is used.
    static_cast<void>(curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                                       cfg.enable_http2
                                           ? static_cast<long>(CURL_HTTP_VERSION_2TLS)
                                           : static_cast<long>(CURL_HTTP_VERSION_1_1)));
    // An empty proxy also keeps curl from reading proxies from the environment itself.
    const std::string* proxy = &cfg.proxy_url;
    const std::string* no_proxy = &cfg.no_proxy;
    std::string environment_no_proxy;
    if (cfg.environment_proxy) {
      const bool https = r.url.size() >= 6 && EqualsIgnoreCase(r.url.substr(0, 6), "https:");
      proxy = https ? &cfg.environment_proxy->https : &cfg.environment_proxy->http;
      environment_no_proxy = "localhost,127.0.0.0/8,::1";  // as Go: loopback is never proxied
      if (!cfg.environment_proxy->no_proxy.empty()) {
        environment_no_proxy += "," + cfg.environment_proxy->no_proxy;
      }
      no_proxy = &environment_no_proxy;
    }
    curl_easy_setopt(h, CURLOPT_PROXY, proxy->c_str());
    // Set even when empty: curl would otherwise take the environment's no_proxy, reading it on
    // every request.
    curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy->c_str());
    if (!cfg.proxy_connect_headers.empty()) {
      for (const Header& hd : cfg.proxy_connect_headers) {
        Append(t.proxy_headers, hd.name + ": " + hd.value);
      }
      curl_easy_setopt(h, CURLOPT_HEADEROPT, CURLHEADER_SEPARATE);
      curl_easy_setopt(h, CURLOPT_PROXYHEADER, t.proxy_headers.get());
    }

    const ClientConfig::Tls& tls = cfg.tls;
    if (!tls.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
    if (!tls.cert_file.empty()) curl_easy_setopt(h, CURLOPT_SSLCERT, tls.cert_file.c_str());
    if (!tls.key_file.empty()) curl_easy_setopt(h, CURLOPT_SSLKEY, tls.key_file.c_str());
    auto blob = [&](CURLoption option, const std::string& pem) {
      curl_blob b{const_cast<char*>(pem.data()), pem.size(), CURL_BLOB_COPY};
      curl_easy_setopt(h, option, &b);
    };
    if (!tls.ca_pem.empty()) blob(CURLOPT_CAINFO_BLOB, tls.ca_pem);
    if (!tls.cert_pem.empty()) blob(CURLOPT_SSLCERT_BLOB, tls.cert_pem);
    if (!tls.key_pem.empty()) blob(CURLOPT_SSLKEY_BLOB, tls.key_pem);
    curl_easy_setopt(h, CURLOPT_SSLVERSION, CurlTlsVersion(tls.min_version));
    if (tls.insecure_skip_verify) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!tls.server_name.empty()) return ApplyServerName(t, tls.server_name);
    return base::Status::Ok();
  }

  // curl takes the TLS server name from the URL, so for another name the URL names it and
  // CURLOPT_CONNECT_TO sends the connection to the real host, whose name stays in Host.
  static base::Status ApplyServerName(Transfer& t, const std::string& server_name) {
    struct UrlDeleter {
      void operator()(CURLU* u) const { curl_url_cleanup(u); }
    };
    struct CharDeleter {
      void operator()(char* p) const { curl_free(p); }
    };
    std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
    if (!url || curl_url_set(url.get(), CURLUPART_URL, t.request.url.c_str(), 0) != CURLUE_OK) {
      return base::Status::InvalidArgument(GoOp(t.request.method) + " \"" + t.request.url +
                                           "\": invalid URL");
    }
    auto get = [&](CURLUPart part, unsigned flags) {
      char* raw = nullptr;
      if (curl_url_get(url.get(), part, &raw, flags) != CURLUE_OK) return std::string();
      std::unique_ptr<char, CharDeleter> owned(raw);
      return std::string(raw);
    };
    std::string scheme = get(CURLUPART_SCHEME, 0);
    std::string host = get(CURLUPART_HOST, 0);
    std::string port = get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
    std::string explicit_port = get(CURLUPART_PORT, 0);
    if (!EqualsIgnoreCase(scheme, "https") || EqualsIgnoreCase(host, server_name)) {
      return base::Status::Ok();
    }
    if (curl_url_set(url.get(), CURLUPART_HOST, server_name.c_str(), 0) != CURLUE_OK) {
      return base::Status::InvalidArgument("invalid TLS server name \"" + server_name + "\"");
    }
    std::string rewritten = get(CURLUPART_URL, 0);
    Append(t.connect_to, server_name + ":" + port + ":" + host + ":" + port);
    if (!HasHeader(t.request.headers, "Host")) {
      Append(t.headers, "Host: " + (explicit_port.empty() ? host : host + ":" + explicit_port));
    }
    t.rewritten_url = std::move(rewritten);
    curl_easy_setopt(t.easy, CURLOPT_URL, t.rewritten_url.c_str());
    curl_easy_setopt(t.easy, CURLOPT_CONNECT_TO, t.connect_to.get());
    curl_easy_setopt(t.easy, CURLOPT_HTTPHEADER, t.headers.get());
    return base::Status::Ok();
  }

  void CancelTransfer(std::uint64_t id) {
    for (auto& [source, w] : token_waits_) {
      auto c = std::find_if(w.commands.begin(), w.commands.end(),
                            [id](const Command& waiting) { return waiting.id == id; });
      if (c == w.commands.end()) continue;
      Callback done = std::move(c->done);
      w.commands.erase(c);  // the token fetch goes on; its result is cached
      done(base::Status::Cancelled("request cancelled"));
      return;
    }
    auto it = active_.find(id);
    if (it == active_.end()) return;  // finished already
    std::unique_ptr<Transfer> t = std::move(it->second);
    active_.erase(it);
    curl_multi_remove_handle(t->group->multi, t->easy);
    // A transfer stopped midway leaves its connection unusable; curl closes it.
    ReturnEasy(t->easy);
    Callback done = std::move(t->done);
    t.reset();
    done(base::Status::Cancelled("request cancelled"));
  }

  void ReapFinished(Group& g) {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(g.multi, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* easy = msg->easy_handle;
      CURLcode code = msg->data.result;
      char* priv = nullptr;
      curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
      if (priv == nullptr) continue;
      auto it = active_.find(reinterpret_cast<Transfer*>(priv)->id);
      if (it == active_.end()) continue;
      std::unique_ptr<Transfer> t = std::move(it->second);
      active_.erase(it);
      curl_multi_remove_handle(g.multi, easy);
      base::Result<ClientResponse> result = Finish(*t, code);
      ReturnEasy(easy);
      Callback done = std::move(t->done);
      t.reset();
      done(std::move(result));
    }
  }

  // A request that could not get its token fails as Go's client does: `Get "url": <error>`.
  static base::Status TokenFailure(const ClientRequest& r, const base::Status& error) {
    if (error.code() == base::StatusCode::kCancelled) return error;
    return {error.code(), GoOp(r.method) + " \"" + r.url + "\": " + error.message()};
  }

  static base::Result<ClientResponse> Finish(Transfer& t, CURLcode code) {
    const std::string prefix = GoOp(t.request.method) + " \"" + t.request.url + "\": ";
    if (t.too_large) return base::Status::ResourceExhausted("body size limit exceeded");
    switch (code) {
      case CURLE_OK:
        break;
      case CURLE_OPERATION_TIMEDOUT:
        return base::Status::DeadlineExceeded(prefix + "context deadline exceeded");
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        return base::Status::InvalidArgument(
            prefix + (t.error[0] != '\0' ? t.error.data() : curl_easy_strerror(code)));
      default:
        return base::Status::Unavailable(
            prefix + (t.error[0] != '\0' ? t.error.data() : curl_easy_strerror(code)));
    }
    long status = 0;
    curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
    ClientResponse response = std::move(t.response);
    response.status = static_cast<int>(status);
    std::string reason =
        t.reason.empty() ? std::string(StandardStatusText(response.status)) : std::move(t.reason);
    response.status_text =
        reason.empty() ? std::to_string(response.status) : std::to_string(status) + " " + reason;
    return response;
  }

  const Options options_;
  const int epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  const int wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  std::thread thread_;

  std::thread::id thread_id_;

  std::mutex mu_;
  std::deque<Command> queue_;                    // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  std::uint64_t last_id_ = 0;                    // guarded by mu_
  base::TimerQueue<Steady::time_point> timers_;  // guarded by mu_

  // The client thread's own.
  std::unordered_map<std::uint64_t, std::unique_ptr<Transfer>> active_;
  std::unordered_map<const TokenSource*, TokenWait> token_waits_;
  std::vector<CURL*> idle_easy_;
  std::vector<std::unique_ptr<Group>> groups_;  // never shrinks: epoll keys hold indexes
  std::unordered_map<std::string, HostGroup> hosts_;
  Steady::time_point next_sweep_;
};

// The session's multi handle keeps its connections between requests; its one easy handle is
// reused for each.
class HttpClient::Session::Impl {
 public:
  explicit Impl(Options options)
      : options_(std::move(options)), multi_(curl_multi_init()), easy_(curl_easy_init()) {}
  ~Impl() {
    if (easy_ != nullptr) curl_easy_cleanup(easy_);
    if (multi_ != nullptr) curl_multi_cleanup(multi_);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  base::Result<ClientResponse> Do(ClientRequest request, const std::stop_token& stop) {
    if (multi_ == nullptr || easy_ == nullptr) {
      return base::Status::Internal("cannot create an HTTP transfer");
    }
    if (stop.stop_requested()) return base::Status::Cancelled("request cancelled");
    const ClientConfig* cfg = request.config.get();
    if (cfg != nullptr && cfg->token_source != nullptr) {
      base::Result<std::string> auth = Token(*cfg->token_source, request.timeout, stop);
      if (!auth.ok()) return HttpClient::Impl::TokenFailure(request, auth.error());
      cfg->token_source->Apply(*auth, &request);
    }
    HttpClient::Impl::Transfer t;
    t.request = std::move(request);
    t.easy = easy_;
    base::Status st = HttpClient::Impl::Configure(t, options_);
    if (st.ok() && curl_multi_add_handle(multi_, easy_) != CURLM_OK) {
      st = base::Status::Internal("cannot start an HTTP transfer");
    }
    if (!st.ok()) {
      curl_easy_reset(easy_);
      return st;
    }
    std::atomic<bool> cancelled{false};
    std::stop_callback on_stop(stop, [&] {
      cancelled = true;
      curl_multi_wakeup(multi_);
    });
    std::optional<CURLcode> code;
    while (!code && !cancelled) {
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy_) code = msg->data.result;
      }
      // curl shortens the wait to its own timeouts (the request's among them).
      if (!code) curl_multi_poll(multi_, nullptr, 0, 1000, nullptr);
    }
    // A transfer removed midway leaves its connection unusable; curl closes it.
    curl_multi_remove_handle(multi_, easy_);
    base::Result<ClientResponse> result =
        code ? HttpClient::Impl::Finish(t, *code) : base::Status::Cancelled("request cancelled");
    curl_easy_reset(easy_);
    return result;
  }

 private:
  // The cached token, or one fetched now over the session's connections.
  base::Result<std::string> Token(TokenSource& source, std::chrono::milliseconds timeout,
                                  const std::stop_token& stop) {
    if (std::optional<std::string> auth = source.Cached(Steady::now())) return std::move(*auth);
    for (int step = 0;; ++step) {
      base::Result<ClientRequest> request = source.TokenRequest(step, timeout);
      base::Result<std::string> auth = source.Accept(
          step, request.ok() ? Do(std::move(*request), stop) : request.error(), Steady::now());
      if (!source.NextStep(step, auth)) return auth;
    }
  }

  const Options options_;
  CURLM* const multi_;
  CURL* const easy_;
};

HttpClient::HttpClient() : HttpClient(Options{}) {}

HttpClient::HttpClient(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpClient::~HttpClient() = default;

void HttpClient::RunAt(Steady::time_point when, std::function<void()> fn) {
  impl_->RunAt(when, std::move(fn));
}

void HttpClient::Do(ClientRequest request, Callback done) {
  impl_->Submit(std::move(request), std::move(done));
}

base::Result<ClientResponse> HttpClient::DoSync(ClientRequest request,
                                                const std::stop_token& stop) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<base::Result<ClientResponse>> result;
  };
  auto state = std::make_shared<State>();
  std::uint64_t id = impl_->Submit(std::move(request), [state](base::Result<ClientResponse> r) {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->result.emplace(std::move(r));
    }
    // Notified unlocked, or the woken caller would block on the mutex and be woken twice.
    state->cv.notify_all();
  });
  // Cancelling makes the client thread answer promptly with kCancelled.
  std::stop_callback on_stop(stop, [this, id] { impl_->Cancel(id); });
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->result.has_value(); });
  return std::move(*state->result);
}

HttpClient::Session::Session(const HttpClient& client)
    : impl_(std::make_unique<Impl>(client.impl_->options_)) {}

HttpClient::Session::~Session() = default;

base::Result<ClientResponse> HttpClient::Session::Do(ClientRequest request,
                                                     const std::stop_token& stop) {
  return impl_->Do(std::move(request), stop);
}

}  // namespace starling::net
