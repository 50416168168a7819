// Helpers shared by the commands: input, atomic file writes, diagnostics and build info.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include "cmd/starling/commands.h"

#ifndef STARLING_VERSION
#define STARLING_VERSION "0.0.0"
#endif
#ifndef STARLING_BRANCH
#define STARLING_BRANCH "unknown"
#endif
#ifndef STARLING_REVISION
#define STARLING_REVISION "unknown"
#endif
#ifndef STARLING_BUILD_USER
#define STARLING_BUILD_USER "unknown"
#endif
#ifndef STARLING_BUILD_DATE
#define STARLING_BUILD_DATE "unknown"
#endif
#ifndef STARLING_COMPILER
#define STARLING_COMPILER "unknown"
#endif
#ifndef STARLING_TAGS
#define STARLING_TAGS ""
#endif

namespace starling::cmd {
namespace {

constexpr const char* Arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#else
  return "unknown";
#endif
}

std::string ErrnoMessage(std::string_view op, const std::string& path, int err) {
  return std::string(op) + " " + path + ": " + std::strerror(err);
}

}  // namespace

const BuildInfo& GetBuildInfo() {
  static const BuildInfo kInfo = {
      .version = std::string("v") + STARLING_VERSION,
      .branch = STARLING_BRANCH,
      .revision = STARLING_REVISION,
      .build_user = STARLING_BUILD_USER,
      .build_date = STARLING_BUILD_DATE,
      .compiler = STARLING_COMPILER,
      .platform = std::string("linux/") + Arch(),
      .tags = STARLING_TAGS,
  };
  return kInfo;
}

std::string VersionText() {
  const BuildInfo& b = GetBuildInfo();
  return "starling, version " + b.version + " (branch: " + b.branch + ", revision: " + b.revision +
         ")\n" + "  build user:       " + b.build_user + "\n" +
         "  build date:       " + b.build_date + "\n" + "  compiler:         " + b.compiler + "\n" +
         "  platform:         " + b.platform + "\n" + "  tags:             " + b.tags;
}

base::Result<std::string> ReadInput(const std::string& path) {
  if (path == "-") {
    std::string data(std::istreambuf_iterator<char>(std::cin), {});
    if (std::cin.bad()) return base::Status::Unavailable("read standard input failed");
    return data;
  }
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return base::Status::NotFound(ErrnoMessage("open", path, errno));
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return base::Status::Unavailable(ErrnoMessage("read", path, err));
    }
    if (n == 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return data;
}

base::Status WriteFileAtomically(const std::string& path, std::string_view data) {
  struct stat st {};
  mode_t mode = 0644;
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return base::Status::Unavailable(ErrnoMessage("create temporary file for", path, errno));
  auto fail = [&](std::string_view op) {
    int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return base::Status::Unavailable(ErrnoMessage(op, tmp, err));
  };
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("write");
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, mode) != 0) return fail("chmod");
  if (::fsync(fd) != 0) return fail("sync");
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return base::Status::Unavailable(ErrnoMessage("close", tmp, err));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return base::Status::Unavailable(ErrnoMessage("rename", tmp, err));
  }
  return base::Status::Ok();
}

void PrintDiagnostics(const syntax::Diagnostics& diags, const std::string& filename) {
  std::string text = diags.Format(filename);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

void PrintError(std::string_view message) {
  std::fprintf(stderr, "Error: %.*s\n", static_cast<int>(message.size()), message.data());
}

}  // namespace starling::cmd
