// Arbitrary bytes as the only segment of a WAL: reading it, plainly and live, must end in records,
// "no more", or a corruption Status, and never crash or loop. Repairing it on open must succeed.

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "wal/reader.h"
#include "wal/wal.h"

namespace {

const std::string& Dir() {
  static const std::string* dir = [] {
    char tmpl[] = "/tmp/wal_reader_fuzz.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) ::abort();
    return new std::string(tmpl);
  }();
  return *dir;
}

void ReadAll(const std::string& dir, bool live) {
  starling::wal::Reader reader(dir, {.live = live});
  for (int i = 0; i < 1 << 16; ++i) {
    auto more = reader.Next();
    if (!more.ok() || !*more) return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& dir = Dir();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string path = starling::wal::SegmentPath(dir, 0);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) ::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) ::abort();
  std::fclose(f);
  ReadAll(dir, false);
  ReadAll(dir, true);
  // Repair must leave a segment that reads without error.
  {
    auto wal = starling::wal::Wal::Open(dir, starling::wal::kPageSize * 4);
    if (!wal.ok()) ::abort();
  }
  starling::wal::Reader reader(dir);
  for (;;) {
    auto more = reader.Next();
    if (!more.ok()) ::abort();
    if (!*more) break;
  }
  return 0;
}
