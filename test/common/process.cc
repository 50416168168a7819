#include "common/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace starling::test {
namespace {

using Clock = std::chrono::steady_clock;

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Spawns the binary with the given pipe ends as its stdin/stdout/stderr (-1: inherit).
pid_t Spawn(std::string bin, const std::vector<std::string>& args, int in_fd, int out_fd,
            int err_fd, const std::vector<std::string>& extra_env = {}) {
  std::vector<char*> argv;
  argv.push_back(bin.data());
  std::vector<std::string> copy = args;
  for (std::string& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in_fd >= 0) posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
  if (out_fd >= 0) posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
  if (err_fd >= 0) posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  // The child starts with default signal dispositions and nothing blocked, whatever the test
  // runner set.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  std::vector<std::string> env_copy = extra_env;
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (std::string& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  int rc = posix_spawn(&pid, bin.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("spawn " + bin + ": " + std::strerror(rc));
  return pid;
}

void MakePipe(int fds[2]) {
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
}

int DecodeStatus(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

// The payload of a chunked body (chunk extensions and trailers ignored); what is malformed or
// cut short ends it.
std::string Dechunk(const std::string& in) {
  std::string out;
  std::size_t pos = 0;
  while (pos < in.size()) {
    std::size_t eol = in.find("\r\n", pos);
    if (eol == std::string::npos) break;
    std::size_t size = std::strtoul(in.c_str() + pos, nullptr, 16);
    if (size == 0 || eol + 2 + size > in.size()) break;
    out.append(in, eol + 2, size);
    pos = eol + 2 + size + 2;
  }
  return out;
}

}  // namespace

std::string StarlingBinary() {
  if (const char* env = std::getenv("STARLING_BINARY"); env != nullptr && *env != '\0') return env;
  return STARLING_BINARY_PATH;
}

RunResult RunStarling(const std::vector<std::string>& args, const std::string& stdin_data,
                      std::chrono::seconds timeout) {
  int in[2], out[2], err[2];
  MakePipe(in);
  MakePipe(out);
  MakePipe(err);
  pid_t pid = Spawn(StarlingBinary(), args, in[0], out[1], err[1]);
  close(in[0]);
  close(out[1]);
  close(err[1]);
  // A child that exits without reading stdin must not kill us with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);

  RunResult result;
  std::size_t written = 0;
  int in_fd = in[1];
  if (stdin_data.empty()) {
    close(in_fd);
    in_fd = -1;
  }
  int out_fd = out[0];
  int err_fd = err[0];
  const auto deadline = Clock::now() + timeout;
  char buf[65536];
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    int ready = poll(fds, static_cast<nfds_t>(n), RemainingMs(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      kill(pid, SIGKILL);
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w = write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
        if (w > 0) written += static_cast<std::size_t>(w);
        if (w < 0 || written == stdin_data.size()) {
          close(in_fd);
          in_fd = -1;
        }
        continue;
      }
      ssize_t r = read(fds[i].fd, buf, sizeof(buf));
      std::string& sink = fds[i].fd == out_fd ? result.out : result.err;
      if (r > 0) {
        sink.append(buf, static_cast<std::size_t>(r));
      } else {
        close(fds[i].fd);
        (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
      }
    }
  }
  if (in_fd >= 0) close(in_fd);
  if (out_fd >= 0) close(out_fd);
  if (err_fd >= 0) close(err_fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = DecodeStatus(status);
  return result;
}

Process::Process(const std::vector<std::string>& args) : Process(StarlingBinary(), args) {}

Process::Process(const std::string& binary, const std::vector<std::string>& args,
                 const std::vector<std::string>& env) {
  int err[2];
  MakePipe(err);
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  pid_ = Spawn(binary, args, devnull, devnull, err[1], env);
  close(devnull);
  close(err[1]);
  err_fd_ = err[0];
}

Process::~Process() {
  if (!exit_code_.has_value() && pid_ > 0) {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  if (err_fd_ >= 0) close(err_fd_);
}

void Process::ReadAvailable(int timeout_ms) {
  if (eof_) return;
  pollfd fd{err_fd_, POLLIN, 0};
  int ready = poll(&fd, 1, timeout_ms);
  if (ready <= 0) return;
  char buf[4096];
  ssize_t r = read(err_fd_, buf, sizeof(buf));
  if (r > 0) {
    err_.append(buf, static_cast<std::size_t>(r));
  } else if (r == 0 || errno != EINTR) {
    eof_ = true;
  }
}

std::optional<std::string> Process::WaitForStderrLine(const std::string& needle,
                                                      std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    std::size_t nl;
    while ((nl = err_.find('\n', scanned_)) != std::string::npos) {
      std::string line = err_.substr(scanned_, nl - scanned_);
      scanned_ = nl + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    if (eof_ || Clock::now() >= deadline) return std::nullopt;
    ReadAvailable(RemainingMs(deadline));
  }
}

int Process::WaitForHttpPort(std::chrono::milliseconds timeout) {
  const std::string marker = "listening for http traffic on 127.0.0.1:";
  std::optional<std::string> line = WaitForStderrLine(marker, timeout);
  if (!line.has_value()) return 0;
  return std::atoi(line->c_str() + line->find(marker) + marker.size());
}

void Process::DrainStderr() {
  std::size_t before = 0;
  do {
    before = err_.size();
    ReadAvailable(0);
  } while (!eof_ && err_.size() != before);
}

void Process::Signal(int signo) {
  if (!exit_code_.has_value()) kill(pid_, signo);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (exit_code_.has_value()) return exit_code_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    // Keep draining stderr so the child never blocks writing its last log lines.
    ReadAvailable(10);
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      while (!eof_) ReadAvailable(1000);
      exit_code_ = DecodeStatus(status);
      return exit_code_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    if (eof_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

HttpReply HttpGet(int port, const std::string& path) { return HttpRequest(port, "GET", path); }

HttpReply HttpGet(const std::string& host, int port, const std::string& path) {
  return HttpRequest(host, port, "GET", path);
}

HttpReply HttpRequest(int port, const std::string& method, const std::string& path,
                      const std::string& body) {
  return HttpRequest("127.0.0.1", port, method, path, body);
}

HttpReply HttpRequest(const std::string& host, int port, const std::string& method,
                      const std::string& path, const std::string& body) {
  HttpReply reply;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) return reply;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return reply;
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return reply;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                    std::to_string(port) + "\r\nConnection: close\r\nContent-Type: text/plain\r\n" +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return reply;
  }
  std::string raw;
  char buf[65536];
  ssize_t r;
  while ((r = recv(fd, buf, sizeof(buf), 0)) > 0) raw.append(buf, static_cast<std::size_t>(r));
  close(fd);
  std::size_t header_end = raw.find("\r\n\r\n");
  if (!raw.starts_with("HTTP/1.1 ") || header_end == std::string::npos) return reply;
  reply.status = std::atoi(raw.c_str() + 9);
  reply.headers = raw.substr(0, header_end);
  reply.body = raw.substr(header_end + 4);
  std::string lower = reply.headers;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    reply.body = Dechunk(reply.body);
  }
  return reply;
}

}  // namespace starling::test
