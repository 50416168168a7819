#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "wal/internal/format.h"

namespace starling::wal::internal {

base::Status ErrnoStatus(std::string_view op, const std::string& path, int err) {
  std::string msg = std::string(op) + " " + path + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
      return base::Status::NotFound(std::move(msg));
    case ENOSPC:
    case EDQUOT:
      return base::Status::ResourceExhausted(std::move(msg));
    case EACCES:
    case EPERM:
    case EROFS:
      return base::Status::FailedPrecondition(std::move(msg));
    default:
      return base::Status::Internal(std::move(msg));
  }
}

base::Status WriteAll(int fd, const char* data, std::size_t size, const std::string& path,
                      std::size_t* written) {
  *written = 0;
  while (*written < size) {
    const ssize_t n = ::write(fd, data + *written, size - *written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("write", path, errno);
    }
    *written += static_cast<std::size_t>(n);
  }
  return base::Status::Ok();
}

base::Result<std::size_t> ReadAt(int fd, char* data, std::size_t size, std::int64_t offset,
                                 const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, data + done, size - done, static_cast<off_t>(offset) + done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

base::Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open", dir, errno);
  base::Status status;
  if (::fsync(fd) != 0) status = ErrnoStatus("fsync", dir, errno);
  ::close(fd);
  return status;
}

}  // namespace starling::wal::internal
