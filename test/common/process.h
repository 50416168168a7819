#pragma once

// Test helpers that run the starling binary (or another server a test needs) as a child
// process and talk HTTP to it over loopback. Not thread-safe; one Process per thread.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace starling::test {

// The starling binary under test: $STARLING_BINARY if set, else the one this test was built
// with.
std::string StarlingBinary();

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  std::string out;
  std::string err;
};

// Runs the binary with args, feeding it stdin_data, and waits for it (killing it after
// timeout).
RunResult RunStarling(const std::vector<std::string>& args, const std::string& stdin_data = "",
                      std::chrono::seconds timeout = std::chrono::seconds(60));

// A long-running child whose stderr is read line by line.
class Process {
 public:
  // Runs the starling binary with args.
  explicit Process(const std::vector<std::string>& args);
  // Runs `binary` (a path) with args; `env` ("NAME=value") is added to the environment.
  Process(const std::string& binary, const std::vector<std::string>& args,
          const std::vector<std::string>& env = {});
  ~Process();  // kills the child if it still runs
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Reads stderr until a line contains `needle` and returns that line, or nullopt at EOF or
  // when the deadline passes.
  std::optional<std::string> WaitForStderrLine(const std::string& needle,
                                               std::chrono::milliseconds timeout);
  // Waits for the agent's "listening for http traffic on 127.0.0.1:PORT" line and returns its
  // port; 0 at EOF or when the deadline passes.
  int WaitForHttpPort(std::chrono::milliseconds timeout);
  // Reads what stderr holds now without waiting, so a chatty child never blocks on the pipe.
  void DrainStderr();
  // Everything read from stderr so far.
  const std::string& stderr_text() const { return err_; }

  void Signal(int signo);
  pid_t pid() const { return pid_; }
  // The exit code, or -1 when killed by a signal; nullopt if still running at the deadline.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  void ReadAvailable(int timeout_ms);

  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
  std::size_t scanned_ = 0;  // err_ is searched for lines from here
  bool eof_ = false;
  std::optional<int> exit_code_;
};

struct HttpReply {
  int status = 0;  // 0 when the request failed
  std::string headers;
  std::string body;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
int FreePort();

// A one-shot HTTP/1.1 GET to 127.0.0.1:port (Connection: close); a chunked body is decoded.
HttpReply HttpGet(int port, const std::string& path);
// The same to an IPv4 address.
HttpReply HttpGet(const std::string& host, int port, const std::string& path);
// One request with any method and an optional body (sent as text/plain).
HttpReply HttpRequest(int port, const std::string& method, const std::string& path,
                      const std::string& body = "");
HttpReply HttpRequest(const std::string& host, int port, const std::string& method,
                      const std::string& path, const std::string& body = "");

}  // namespace starling::test
