#pragma once

// SeriesCache: what a scrape loop remembers about each series of its target between scrapes,
// keyed by a hash of the series text as exposed (metric name and labels as written), so a
// series seen before costs one hash and one probe: no label parsing, no allocation.
//
// An entry holds the series' ref from the appendable and a few flags: whether the current
// attempt appended it and whether the last successful scrape had it (for staleness). The
// series' labels are kept only when the appendable gave no ref (see storage.h: a nonzero ref
// may be passed back with empty labels), so a cached series costs about 19 bytes.
//
// Entries live in one dense vector, trimmed to their number after each scrape; an
// open-addressing table of indices finds them, 16 bits wide while the target has fewer than
// 65535 series (almost all do). Pointers to entries are valid until the next Insert, RemoveIf,
// ShrinkToFit or Clear. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/labels.h"
#include "storage/storage.h"

namespace starling::scrape {

// A series text's hash (48 bits) and length (16 bits, kLongText from there on): a cache holds
// one target's series (thousands), so a collision, which needs equal lengths too, is
// vanishingly rare. The length lets the parser take the next series' text on trust
// (textparse::Parser::NextKnown).
struct SeriesKey {
  static constexpr std::uint64_t kLongText = 0xFFFF;
  std::uint64_t lo = 0;
  // The text's length; kLongText when it is that long or longer.
  std::size_t length() const { return lo & kLongText; }
  friend bool operator==(const SeriesKey&, const SeriesKey&) = default;
};

class SeriesCache {
 public:
  // One cached series in 16 bytes: the key, and the ref (56 bits, see storage.h) with flags.
  class Entry {
   public:
    enum Flag : std::uint64_t {
      kSeen = std::uint64_t{1} << 56,          // appended by the current attempt
      kInLastScrape = std::uint64_t{1} << 57,  // part of the last successful scrape
      kEverScraped = std::uint64_t{1} << 58,   // part of some successful scrape
      // No explicit timestamps: gets staleness markers, as in Prometheus.
      kTrackStaleness = std::uint64_t{1} << 59,
      kHasLabels = std::uint64_t{1} << 60,  // Labels() has the series' labels
    };

    SeriesKey key;

    storage::SeriesRef ref() const { return bits_ & kRefMask; }
    void set_ref(storage::SeriesRef ref);
    bool Has(Flag f) const { return (bits_ & f) != 0; }
    void Set(Flag f, bool on) { bits_ = on ? bits_ | f : bits_ & ~std::uint64_t{f}; }

   private:
    static constexpr std::uint64_t kRefMask = (std::uint64_t{1} << 56) - 1;
    std::uint64_t bits_ = kTrackStaleness;
  };
  static_assert(sizeof(Entry) == 16);

  static SeriesKey Key(std::string_view series_text);

  // The entry Find checks first: the one after the last found, which targets that expose their
  // series in the same order every scrape want next. Null past the last.
  const Entry* Expected() const { return next_ < entries_.size() ? &entries_[next_] : nullptr; }
  Entry* Find(const SeriesKey& key) {
    // Targets expose their series in the same order every scrape, and entries are kept in the
    // order they were first seen: the entry after the last one found is usually the one wanted,
    // and checking it first spares a random probe of the index.
    if (next_ < entries_.size() && entries_[next_].key == key) return &entries_[next_++];
    return Probe(key);
  }
  // The labels kept for an entry (see kHasLabels), or null.
  const model::Labels* Labels(const Entry& e) const;
  void SetLabels(Entry& e, model::Labels labels);
  void DropLabels(Entry& e);
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
      if (pred(static_cast<const Entry&>(entries_[i]))) {
        if (entries_[i].Has(Entry::kHasLabels)) labels_.erase(entries_[i].key.lo);
        continue;
      }
      if (out != i) entries_[out] = entries_[i];
      ++out;
    }
    if (out == entries_.size()) return;
    entries_.resize(out);
    next_ = 0;
    if (entries_.capacity() > 4 * entries_.size() + 64) entries_.shrink_to_fit();
    Rehash(IndexSizeFor(entries_.size()));
  }
  // Gives back the room kept for more entries: call when a scrape is done, since targets
  // mostly expose the same series every time.
  void ShrinkToFit();
  void Clear();

  std::size_t size() const { return entries_.size(); }
  // Approximate heap bytes held (entries, index; kept labels not counted).
  std::size_t MemoryBytes() const {
    return entries_.capacity() * sizeof(Entry) + index16_.capacity() * sizeof(std::uint16_t) +
           index32_.capacity() * sizeof(std::uint32_t);
  }

 private:
  // The index holds entry index + 1 (0: an empty slot) in 16-bit slots below this many
  // entries, in 32-bit slots from there on.
  static constexpr std::size_t kMax16 = 0xFFFF;

  Entry* Probe(const SeriesKey& key);
  template <typename Slot>
  Entry* ProbeIn(const std::vector<Slot>& index, const SeriesKey& key);
  template <typename Slot>
  static void Place(std::vector<Slot>& index, const SeriesKey& key, std::size_t n);
  std::size_t IndexSize() const { return index16_.size() + index32_.size(); }
  static std::size_t IndexSizeFor(std::size_t n);
  void Rehash(std::size_t size);

  std::vector<Entry> entries_;
  std::vector<std::uint16_t> index16_;  // the index while entries_.size() < kMax16
  std::vector<std::uint32_t> index32_;  // the index from then on
  std::size_t next_ = 0;                // the entry after the last one found or inserted
  // Labels of the entries that have them, by key: few, so kept out of the entries.
  std::unordered_map<std::uint64_t, model::Labels> labels_;
};

}  // namespace starling::scrape
