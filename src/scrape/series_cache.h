#pragma once

// SeriesCache: what a scrape loop remembers about each series of its target between scrapes,
// keyed by a 128-bit hash of the series text as exposed (metric name and labels as written),
// so a series seen before costs one hash and one probe: no label parsing, no allocation.
//
// An entry holds the series' ref from the appendable and two iteration numbers: the scrape
// attempt that last saw it and the last successful scrape it was part of (for staleness). The
// series' labels are kept only when the appendable gave no ref (see storage.h: a nonzero ref
// may be passed back with empty labels), so a cached series costs about 50 bytes.
//
// Entries live in one dense vector; an open-addressing table of indices finds them. Pointers
// to entries are valid until the next Insert, RemoveIf or Clear. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "model/labels.h"
#include "storage/storage.h"

namespace starling::scrape {

struct SeriesKey {
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
};

class SeriesCache {
 public:
  struct Entry {
    SeriesKey key;
    storage::SeriesRef ref = 0;
    std::uint32_t seen = 0;  // the attempt that last appended a sample of it
    std::uint32_t ok = 0;    // the last successful scrape it was part of; 0: none
    // Set only when ref is 0.
    std::unique_ptr<model::Labels> labels;
    // Series with explicit timestamps get no staleness markers, as in Prometheus.
    bool track_staleness = true;
  };

  static SeriesKey Key(std::string_view series_text);

  Entry* Find(const SeriesKey& key);
  // Adds an entry for a key that is not present.
  Entry* Insert(const SeriesKey& key);
  // Calls f(Entry&) for every entry.
  template <typename F>
  void ForEach(F&& f) {
    for (Entry& e : entries_) f(e);
  }
  // Drops the entries for which pred(const Entry&) holds.
  template <typename P>
  void RemoveIf(P&& pred) {
    std::size_t out = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      if (pred(static_cast<const Entry&>(entries_[i]))) continue;
      if (out != i) entries_[out] = std::move(entries_[i]);
      ++out;
    }
    if (out == entries_.size()) return;
    entries_.resize(out);
    if (entries_.capacity() > 4 * entries_.size() + 64) entries_.shrink_to_fit();
    Rehash(IndexSizeFor(entries_.size()));
  }
  void Clear();

  std::size_t size() const { return entries_.size(); }
  // Approximate heap bytes held (entries, index, kept labels not counted).
  std::size_t MemoryBytes() const {
    return entries_.capacity() * sizeof(Entry) + index_.capacity() * sizeof(std::uint32_t);
  }

 private:
  static std::size_t IndexSizeFor(std::size_t n);
  void Rehash(std::size_t size);

  std::vector<Entry> entries_;
  std::vector<std::uint32_t> index_;  // entry index + 1; 0: empty slot
};

}  // namespace starling::scrape
