#include "wal/segment.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "wal/internal/format.h"

namespace starling::wal {

std::string SegmentPath(std::string_view dir, int index) {
  char name[16];
  std::snprintf(name, sizeof(name), "%08d", index);
  std::string path(dir);
  if (!path.empty() && path.back() != '/') path.push_back('/');
  return path + name;
}

base::Result<std::vector<int>> ListSegments(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return internal::ErrnoStatus("open directory", dir, errno);
  std::vector<int> indexes;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    // Index 99999999 and below; longer runs of digits are not ours.
    if (name.empty() || name.size() > 9 ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    int index = 0;
    for (char c : name) index = index * 10 + (c - '0');
    indexes.push_back(index);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return internal::ErrnoStatus("read directory", dir, err);
  std::sort(indexes.begin(), indexes.end());
  for (std::size_t i = 1; i < indexes.size(); ++i) {
    if (indexes[i] != indexes[i - 1] + 1) {
      return base::Status::DataLoss("segments in " + dir +
                                    " are not sequential: " + std::to_string(indexes[i - 1]) +
                                    " is followed by " + std::to_string(indexes[i]));
    }
  }
  return indexes;
}

base::Result<SegmentRange> Segments(const std::string& dir) {
  ASSIGN_OR_RETURN(std::vector<int> indexes, ListSegments(dir));
  if (indexes.empty()) return SegmentRange{};
  return SegmentRange{indexes.front(), indexes.back()};
}

}  // namespace starling::wal
