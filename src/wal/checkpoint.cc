#include "wal/checkpoint.h"

#include <dirent.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <vector>

#include "wal/internal/format.h"

namespace starling::wal {
namespace {

constexpr std::string_view kPrefix = "checkpoint.";
constexpr std::string_view kTmpSuffix = ".tmp";

struct Found {
  std::string name;
  int index = 0;
  bool tmp = false;
};

// Parses "checkpoint.NNNNNNNN" or "checkpoint.NNNNNNNN.tmp".
bool Parse(std::string_view name, Found* out) {
  if (name.substr(0, kPrefix.size()) != kPrefix) return false;
  name.remove_prefix(kPrefix.size());
  out->tmp = false;
  if (name.size() > kTmpSuffix.size() &&
      name.substr(name.size() - kTmpSuffix.size()) == kTmpSuffix) {
    out->tmp = true;
    name.remove_suffix(kTmpSuffix.size());
  }
  if (name.empty() || name.size() > 9) return false;
  int index = 0;
  for (char c : name) {
    if (c < '0' || c > '9') return false;
    index = index * 10 + (c - '0');
  }
  out->index = index;
  return true;
}

base::Result<std::vector<Found>> List(const std::string& wal_dir) {
  std::vector<Found> found;
  DIR* d = ::opendir(wal_dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return found;
    return internal::ErrnoStatus("open directory", wal_dir, errno);
  }
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    Found f;
    if (Parse(e->d_name, &f)) {
      f.name = e->d_name;
      found.push_back(std::move(f));
    }
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return internal::ErrnoStatus("read directory", wal_dir, err);
  return found;
}

base::Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return internal::ErrnoStatus("delete", path, ec.value());
  return base::Status::Ok();
}

}  // namespace

std::string CheckpointPath(std::string_view wal_dir, int index) {
  char name[32];
  std::snprintf(name, sizeof(name), "checkpoint.%08d", index);
  std::string path(wal_dir);
  if (!path.empty() && path.back() != '/') path.push_back('/');
  return path + name;
}

base::Result<std::optional<std::pair<std::string, int>>> LastCheckpoint(
    const std::string& wal_dir) {
  ASSIGN_OR_RETURN(std::vector<Found> found, List(wal_dir));
  std::optional<std::pair<std::string, int>> last;
  for (const Found& f : found) {
    if (f.tmp || (last.has_value() && last->second >= f.index)) continue;
    std::error_code ec;
    const std::string path = wal_dir + "/" + f.name;
    if (!std::filesystem::is_directory(path, ec)) {
      return base::Status::DataLoss("checkpoint " + path + " is not a directory");
    }
    last.emplace(path, f.index);
  }
  return last;
}

base::Status DeleteCheckpoints(const std::string& wal_dir, int index) {
  ASSIGN_OR_RETURN(std::vector<Found> found, List(wal_dir));
  for (const Found& f : found) {
    if (f.index < index) RETURN_IF_ERROR(RemoveAll(wal_dir + "/" + f.name));
  }
  return base::Status::Ok();
}

base::Result<std::string> CreateCheckpoint(const std::string& wal_dir, int index,
                                           const std::function<base::Status(Wal&)>& write) {
  if (index < 0) return base::Status::InvalidArgument("negative checkpoint index");
  std::string path = CheckpointPath(wal_dir, index);
  const std::string tmp = path + std::string(kTmpSuffix);
  RETURN_IF_ERROR(RemoveAll(tmp));
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Wal> wal,
                     Wal::Open(tmp, kDefaultSegmentSize, SyncPolicy::kExplicitOnly));
    base::Status status = write(*wal);
    // Close pads and fsyncs the segment.
    base::Status closed = wal->Close();
    if (status.ok()) status = closed;
    if (!status.ok()) {
      static_cast<void>(RemoveAll(tmp));
      return status;
    }
  }
  RETURN_IF_ERROR(internal::SyncDir(tmp));
  // Replacing a checkpoint of the same index (a retry) needs the old one out of the way.
  RETURN_IF_ERROR(RemoveAll(path));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return internal::ErrnoStatus("rename " + tmp + " to", path, errno);
  }
  RETURN_IF_ERROR(internal::SyncDir(wal_dir));
  return path;
}

}  // namespace starling::wal
