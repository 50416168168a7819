#include "scrape/series_cache.h"

#include <xxhash.h>

#include "base/check.h"

namespace starling::scrape {

SeriesKey SeriesCache::Key(std::string_view series_text) {
  return {XXH3_64bits(series_text.data(), series_text.size())};
}

void SeriesCache::Entry::set_ref(storage::SeriesRef ref) {
  CHECK(ref <= kRefMask) << "series ref " << ref << " does not fit in 56 bits";
  bits_ = (bits_ & ~kRefMask) | ref;
}

const model::Labels* SeriesCache::Labels(const Entry& e) const {
  if (!e.Has(Entry::kHasLabels)) return nullptr;
  auto it = labels_.find(e.key.lo);
  return it == labels_.end() ? nullptr : &it->second;
}

void SeriesCache::SetLabels(Entry& e, model::Labels labels) {
  labels_[e.key.lo] = std::move(labels);
  e.Set(Entry::kHasLabels, true);
}

void SeriesCache::DropLabels(Entry& e) {
  if (!e.Has(Entry::kHasLabels)) return;
  labels_.erase(e.key.lo);
  e.Set(Entry::kHasLabels, false);
}

std::size_t SeriesCache::IndexSizeFor(std::size_t n) {
  // Load at most three quarters: most finds take the order hint and never probe.
  std::size_t size = 16;
  while (3 * size < 4 * (n + 1)) size *= 2;
  return size;
}

SeriesCache::Entry* SeriesCache::Probe(const SeriesKey& key) {
  if (index_.empty()) return nullptr;
  const std::size_t mask = index_.size() - 1;
  for (std::size_t i = key.lo & mask;; i = (i + 1) & mask) {
    std::uint32_t slot = index_[i];
    if (slot == 0) return nullptr;
    if (entries_[slot - 1].key == key) {
      next_ = slot;
      return &entries_[slot - 1];
    }
  }
}

SeriesCache::Entry* SeriesCache::Insert(const SeriesKey& key) {
  if (4 * (entries_.size() + 2) > 3 * index_.size()) Rehash(IndexSizeFor(entries_.size() + 1));
  // Grow by a quarter rather than doubling: caches are long-lived and sized by the target.
  if (entries_.size() == entries_.capacity()) entries_.reserve(entries_.size() * 5 / 4 + 16);
  entries_.emplace_back();
  entries_.back().key = key;
  const std::size_t mask = index_.size() - 1;
  std::size_t i = key.lo & mask;
  while (index_[i] != 0) i = (i + 1) & mask;
  index_[i] = static_cast<std::uint32_t>(entries_.size());
  next_ = entries_.size();
  return &entries_.back();
}

void SeriesCache::Rehash(std::size_t size) {
  index_.assign(size, 0);
  const std::size_t mask = size - 1;
  for (std::size_t n = 0; n < entries_.size(); ++n) {
    std::size_t i = entries_[n].key.lo & mask;
    while (index_[i] != 0) i = (i + 1) & mask;
    index_[i] = static_cast<std::uint32_t>(n + 1);
  }
}

void SeriesCache::Clear() {
  labels_.clear();
  entries_.clear();
  next_ = 0;
  entries_.shrink_to_fit();
  index_.clear();
  index_.shrink_to_fit();
}

}  // namespace starling::scrape
