#include "scrape/series_cache.h"

#include <xxhash.h>

#include <algorithm>

#include "base/check.h"

namespace starling::scrape {

SeriesKey SeriesCache::Key(std::string_view series_text) {
  const std::uint64_t hash = XXH3_64bits(series_text.data(), series_text.size());
  return {(hash & ~SeriesKey::kLongText) |
          std::min<std::uint64_t>(series_text.size(), SeriesKey::kLongText)};
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

namespace {

// Where a key's probe starts in a table of `size` slots: its high bits scaled to the size, so
// the table need not be a power of two.
std::size_t Home(const SeriesKey& key, std::size_t size) {
  return static_cast<std::size_t>(((key.lo >> 32) * size) >> 32);
}

}  // namespace

std::size_t SeriesCache::IndexSizeFor(std::size_t n) {
  // Sized to two thirds full and regrown past three quarters: most finds take the order hint
  // and never probe, so a fuller table costs little.
  return std::max<std::size_t>(16, n + n / 2 + 1);
}

template <typename Slot>
SeriesCache::Entry* SeriesCache::ProbeIn(const std::vector<Slot>& index, const SeriesKey& key) {
  const std::size_t size = index.size();
  for (std::size_t i = Home(key, size);; i = i + 1 == size ? 0 : i + 1) {
    const Slot slot = index[i];
    if (slot == 0) return nullptr;
    if (entries_[slot - 1].key == key) {
      next_ = slot;
      return &entries_[slot - 1];
    }
  }
}

SeriesCache::Entry* SeriesCache::Probe(const SeriesKey& key) {
  if (!index16_.empty()) return ProbeIn(index16_, key);
  if (!index32_.empty()) return ProbeIn(index32_, key);
  return nullptr;
}

template <typename Slot>
void SeriesCache::Place(std::vector<Slot>& index, const SeriesKey& key, std::size_t n) {
  const std::size_t size = index.size();
  std::size_t i = Home(key, size);
  while (index[i] != 0) i = i + 1 == size ? 0 : i + 1;
  index[i] = static_cast<Slot>(n + 1);
}

SeriesCache::Entry* SeriesCache::Insert(const SeriesKey& key) {
  if (4 * (entries_.size() + 1) > 3 * IndexSize()) Rehash(IndexSizeFor(entries_.size() + 1));
  // Grow by a quarter rather than doubling: caches are long-lived and sized by the target.
  if (entries_.size() == entries_.capacity()) entries_.reserve(entries_.size() * 5 / 4 + 16);
  entries_.emplace_back();
  entries_.back().key = key;
  const std::size_t n = entries_.size() - 1;
  if (!index16_.empty()) {
    Place(index16_, key, n);
  } else {
    Place(index32_, key, n);
  }
  next_ = entries_.size();
  return &entries_.back();
}

void SeriesCache::Rehash(std::size_t size) {
  index16_.clear();
  index32_.clear();
  // The entries the index will hold before it is rehashed again (see Insert) decide its width.
  if (3 * size / 4 < kMax16) {
    index16_.assign(size, 0);
    for (std::size_t n = 0; n < entries_.size(); ++n) Place(index16_, entries_[n].key, n);
    index32_.shrink_to_fit();
  } else {
    index32_.assign(size, 0);
    for (std::size_t n = 0; n < entries_.size(); ++n) Place(index32_, entries_[n].key, n);
    index16_.shrink_to_fit();
  }
}

void SeriesCache::ShrinkToFit() {
  if (entries_.capacity() > entries_.size() + entries_.size() / 32 + 8) entries_.shrink_to_fit();
}

void SeriesCache::Clear() {
  labels_.clear();
  entries_.clear();
  next_ = 0;
  entries_.shrink_to_fit();
  index16_.clear();
  index16_.shrink_to_fit();
  index32_.clear();
  index32_.shrink_to_fit();
}

}  // namespace starling::scrape
