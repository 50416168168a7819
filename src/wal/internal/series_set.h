#pragma once

// The in-memory series of wal::Storage, built to be small: label names and values are interned
// once in a SymbolTable, and so is each distinct set of label names (a schema). A series keeps
// its schema id and its values' symbol ids, varint-packed, in a per-stripe arena, plus a
// 16-byte entry in ref-indexed pages; the labels -> ref index is an open-addressing table of
// (hash, ref) pairs.
//
// Locking: 32 hash stripes (by the top bits of the labels hash) guard the index, 32 ref stripes
// (by ref modulo 32) guard the entries and label blobs. A thread holding a hash stripe may take a
// ref stripe, never the other way round; tables_mu_ comes between the two. The symbol tables have
// their own mutexes for interning; reading a symbol needs no lock (see SymbolTable::Get).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/labels.h"
#include "storage/storage.h"
#include "wal/record.h"

namespace starling::wal::storage_internal {

// xxhash64 of the labels as Prometheus's labels.Hash computes it (name, 0xff, value, 0xff, ...).
std::uint64_t HashLabels(const model::Labels& labels);

// Strings interned as dense uint32 ids. Thread-safe.
class SymbolTable {
 public:
  SymbolTable();
  ~SymbolTable();
  SymbolTable(const SymbolTable&) = delete;
  SymbolTable& operator=(const SymbolTable&) = delete;

  std::uint32_t Intern(std::string_view s);
  // Lock-free. `id` must have been returned by Intern and reached the caller through a
  // synchronizing path (a mutex, as the series stripes are), which publishes the string too.
  std::string_view Get(std::uint32_t id) const;
  std::size_t size() const;

 private:
  static constexpr int kPageBits = 14;
  static constexpr std::uint32_t kPageSize = 1U << kPageBits;
  static constexpr std::size_t kMaxPages = 1U << 14;
  static constexpr std::size_t kChunkSize = 64 * 1024;

  // A symbol in 16 bytes: a string of up to 15 bytes inline (byte 0 its length), so reading it
  // is one load; a longer one as its length (bytes 4..7) and a pointer (bytes 8..15), byte 0
  // kLongSymbol.
  struct alignas(16) Slot {
    unsigned char b[16];
  };
  static constexpr unsigned char kLongSymbol = 0xFF;

  const char* Store(std::string_view s);  // needs mu_
  void Grow();                            // needs mu_

  mutable std::mutex mu_;
  // id -> its slot. Pages never move.
  std::unique_ptr<std::atomic<Slot*>[]> pages_;
  std::uint32_t next_id_ = 0;                    // GUARDED_BY(mu_)
  std::vector<std::uint32_t> index_;             // GUARDED_BY(mu_) id+1 per slot, 0 = empty
  std::vector<std::unique_ptr<char[]>> chunks_;  // GUARDED_BY(mu_)
  char* chunk_pos_ = nullptr;                    // GUARDED_BY(mu_)
  std::size_t chunk_left_ = 0;                   // GUARDED_BY(mu_)
};

// What acquiring a series for a new sample found.
enum class Acquire : std::uint8_t {
  kUnknown,     // no such ref
  kOutOfOrder,  // older than the series' newest sample: drop it
  kAccepted,    // pending sample registered: Commit or Release it later
};

class SeriesSet {
 public:
  static constexpr int kStripeBits = 5;
  static constexpr int kStripes = 1 << kStripeBits;

  SeriesSet();
  ~SeriesSet();
  SeriesSet(const SeriesSet&) = delete;
  SeriesSet& operator=(const SeriesSet&) = delete;

  // For a sample at time t of series `ref`: checks the ref and the order and registers a pending
  // sample. *unlogged is set when no series record of it is known to be in the WAL; then *labels
  // (if not null) receives its labels.
  Acquire AcquireByRef(storage::SeriesRef ref, std::int64_t t, bool* unlogged,
                       model::Labels* labels);
  // The same by labels (non-empty, no empty values), creating the series if needed (then
  // *unlogged is true). *ref receives the series' ref.
  Acquire AcquireByLabels(const model::Labels& labels, std::uint64_t hash, std::int64_t t,
                          storage::SeriesRef* ref, bool* unlogged);
  // Finds an existing series by labels; 0 if there is none.
  storage::SeriesRef Find(const model::Labels& labels, std::uint64_t hash);
  bool Exists(storage::SeriesRef ref) const;

  // Pending samples (ref and time of each) were logged in a segment <= `segment`: updates the
  // series' newest timestamps and marks them logged. Each ref stripe is locked once.
  void Commit(std::span<const record::RefSample> samples, int segment);
  // Pending samples were dropped.
  void Release(std::span<const record::RefSample> samples);

  // Replay: a series record. Refs continue above the highest seen.
  void ReplaySeries(storage::SeriesRef ref, const model::Labels& labels, int segment);
  // Replay: a sample; false when the ref is unknown.
  bool ReplaySample(storage::SeriesRef ref, std::int64_t t, int segment);
  void SeeRef(storage::SeriesRef ref);

  template <typename F>
  bool VisitLabels(storage::SeriesRef ref, F&& f) const;
  // Visits the labels of many series (see storage::LabelBatchVisitor) in the order of refs,
  // having found their label blobs stripe by stripe, so that each stripe is locked once and
  // its entries, laid out by ref, are read in order.
  void VisitBatch(std::span<const storage::SeriesRef> refs,
                  const storage::LabelBatchVisitor& v) const;

  // Removes the series with no pending samples whose newest sample is in a segment below
  // `before_segment` and older than min_time_ms. Returns how many were removed.
  std::size_t Gc(int before_segment, std::int64_t min_time_ms);

  // Encodes series records of every series, handing each (up to about max_bytes) to `sink`.
  // Stops at the first error of sink.
  bool EncodeAll(std::size_t max_bytes, const std::function<bool(std::string_view)>& sink) const;

  std::size_t size() const { return live_.load(std::memory_order_relaxed); }
  std::uint64_t last_ref() const { return last_ref_.load(std::memory_order_relaxed); }

  // Reclaims arena space of removed series where much of it is dead. Call occasionally.
  void CompactArenas();

  // Interned strings are never freed one by one, so label values of series long gone (pods
  // that came and went) would pile up. This re-interns the labels of every series into fresh
  // tables, holding every lock meanwhile. Not concurrently with itself.
  void CompactSymbols();
  // CompactSymbols once Gc removed, since the last compaction, half as many series as there
  // were after it, and at least min_removed: only removed series leave unused symbols behind,
  // and so the work is paid for by the removals. Returns how many symbols it dropped. Not
  // concurrently with Gc.
  static constexpr std::size_t kMinRemovedForCompaction = 1 << 16;
  std::size_t MaybeCompactSymbols(std::size_t min_removed = kMinRemovedForCompaction);
  // Strings interned: label names and values, and sets of label names.
  std::size_t NumSymbols() const;

 private:
  // A series in 16 bytes: its newest sample's time, its label blob's handle in the stripe's
  // arena (0 for a free slot), and a word holding the segment of its newest sample (relative to
  // the stripe's segment_base), whether a series record of it is logged, and its pending
  // samples (past kPendingInline, the rest are counted in the stripe's pending_overflow).
  struct Entry {
    std::int64_t last_ts;
    std::uint32_t blob;
    std::uint32_t word;
  };
  static_assert(sizeof(Entry) == 16);
  static constexpr int kPendingBits = 7;
  static constexpr std::uint32_t kPendingInline = (1U << kPendingBits) - 1;
  static constexpr std::uint32_t kLogged = 1U << kPendingBits;
  static constexpr int kSegmentShift = kPendingBits + 1;
  static constexpr std::uint32_t kWordLowBits = (1U << kSegmentShift) - 1;
  static constexpr std::uint32_t kMaxSegmentDelta = (1U << (32 - kSegmentShift)) - 1;
  // 4 KiB pages: a stripe's last page is partly empty, and small pages keep that waste small.
  static constexpr int kPageBits = 8;
  static constexpr std::size_t kPageEntries = std::size_t{1} << kPageBits;

  // Blobs are packed into chunks; a handle is (chunk index + 1) << kChunkBits | offset, and a
  // blob too big for a chunk gets a chunk of its own.
  static constexpr int kChunkBits = 14;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  struct Arena {
    std::vector<std::unique_ptr<std::uint8_t[]>> chunks;
    std::size_t current = 0;  // index + 1 of the chunk being filled; 0: none
    std::size_t pos = 0;      // bytes used of it
    std::size_t live_bytes = 0;
    std::size_t dead_bytes = 0;
    const std::uint8_t* Get(std::uint32_t handle) const {
      return chunks[(handle >> kChunkBits) - 1].get() + (handle & (kChunkSize - 1));
    }
  };

  struct RefStripe {
    mutable std::mutex mu;
    std::vector<std::unique_ptr<Entry[]>> pages;  // GUARDED_BY(mu)
    std::vector<std::uint32_t> page_live;         // GUARDED_BY(mu)
    Arena arena;                                  // GUARDED_BY(mu)
    // Entries store segments as an offset from this; it only rises (see RaiseSegment).
    int segment_base = -1;  // GUARDED_BY(mu)
    // Pending samples beyond kPendingInline, by ref: rare, so kept out of the entries.
    std::unordered_map<storage::SeriesRef, std::uint32_t> pending_overflow;  // GUARDED_BY(mu)
  };

  // A hash index slot in 8 bytes: the low 24 bits of the labels hash (enough to find the slot's
  // home in a table of up to 2^24 slots and to skip most mismatches) and a 40-bit ref.
  static constexpr int kRefBits = 40;
  static constexpr std::uint64_t kRefMask = (std::uint64_t{1} << kRefBits) - 1;
  static constexpr std::uint64_t kTagMask = (std::uint64_t{1} << (64 - kRefBits)) - 1;
  struct Slot {
    std::uint64_t bits;  // 0: empty
    storage::SeriesRef ref() const { return bits & kRefMask; }
    std::uint64_t tag() const { return bits >> kRefBits; }
  };
  static Slot MakeSlot(std::uint64_t hash, storage::SeriesRef ref) {
    return Slot{(hash & kTagMask) << kRefBits | ref};
  }
  // Where a hash's probe starts in a table of `size` slots (any size up to 2^24): the tag
  // scaled to the size, so tables need not be powers of two.
  static std::size_t Home(std::uint64_t hash, std::size_t size) {
    return static_cast<std::size_t>(((hash & kTagMask) * size) >> (64 - kRefBits));
  }
  static std::size_t NextSlot(std::size_t i, std::size_t size) { return i + 1 == size ? 0 : i + 1; }
  struct HashStripe {
    std::mutex mu;
    std::vector<Slot> slots;  // GUARDED_BY(mu) empty or at least 16
    std::size_t used = 0;     // GUARDED_BY(mu)
  };

  RefStripe& RefStripeOf(storage::SeriesRef ref) const {
    return ref_stripes_[ref & (kStripes - 1)];
  }
  HashStripe& HashStripeOf(std::uint64_t hash) { return hash_stripes_[hash >> (64 - kStripeBits)]; }
  // Calls f(stripe, index) for the indices 0..n-1 grouped by the stripe of ref_of(index), each
  // stripe's lock held for its group; indices keep their order within a stripe.
  template <typename RefOf, typename F>
  void ForEachByStripe(std::size_t n, RefOf&& ref_of, F&& f) const;
  // Needs the ref stripe's lock. Where the entry of `ref` is, used or free; nullptr when its
  // page is absent.
  Entry* EntrySlot(RefStripe& rs, storage::SeriesRef ref) const;
  // Needs the ref stripe's lock. nullptr when absent.
  Entry* FindEntry(RefStripe& rs, storage::SeriesRef ref) const;
  // Needs the ref stripe's lock; the slot must be free.
  Entry* MakeEntry(RefStripe& rs, storage::SeriesRef ref);
  void FreeEntry(RefStripe& rs, storage::SeriesRef ref, Entry* e);
  // Stores a blob; returns its handle.
  static std::uint32_t StoreBlob(Arena& arena, std::string_view blob);
  // A blob is the varint id of its schema (the label count and the names' symbol ids, packed
  // as varints and interned in schemas_: series share a few sets of names), then the values'
  // symbol ids. Names cost a series nothing beyond its schema id.
  std::size_t BlobSize(const std::uint8_t* blob) const;
  // The number of labels in a blob; *values (if not null) receives where its value ids start.
  std::uint32_t BlobLabels(const std::uint8_t* blob, const std::uint8_t** values = nullptr) const;
  void PackLabels(const model::Labels& labels, std::string* out);
  // Packs n labels into a blob interned in the given tables; each_label(g) calls
  // g(name, value) for each label in order.
  template <typename EachLabel>
  static void Pack(SymbolTable& symbols, SymbolTable& schemas, std::size_t n,
                   EachLabel&& each_label, std::string* out);
  bool BlobEquals(const std::uint8_t* blob, const model::Labels& labels) const;
  model::Labels Unpack(const std::uint8_t* blob) const;
  static Acquire Register(RefStripe& rs, storage::SeriesRef ref, Entry* e, std::int64_t t,
                          bool* unlogged);
  // Needs the stripe's lock: one pending sample of the entry is done.
  static void Unpend(RefStripe& rs, storage::SeriesRef ref, Entry* e);
  // Adds (delta +1) or takes (-1) a pending sample beyond the inline count; false when there
  // was none to take.
  [[gnu::noinline]] static bool CountOverflow(RefStripe& rs, storage::SeriesRef ref, int delta);
  static int SegmentOf(const RefStripe& rs, const Entry& e);
  // Needs the stripe's lock: the entry's segment becomes at least `segment`.
  static void RaiseSegment(RefStripe& rs, Entry* e, int segment);
  // Needs the stripe's lock: calls f(Entry&) for each of its series.
  template <typename F>
  static void ForEachEntry(RefStripe& rs, F&& f);
  // Needs the stripe's lock: moves its segment base up to `base`.
  static void Rebase(RefStripe& rs, int base);
  // Needs the hash stripe's lock.
  static void InsertSlot(HashStripe& hs, std::uint64_t hash, storage::SeriesRef ref);
  static void ResizeSlots(HashStripe& hs, std::size_t size);
  static void EraseSlot(HashStripe& hs, std::uint64_t hash, storage::SeriesRef ref);
  // Needs hs's lock: the ref of series `labels` in it, or 0; also takes ref stripe locks.
  storage::SeriesRef FindLocked(HashStripe& hs, const model::Labels& labels, std::uint64_t hash);

  // Calls f(name id, value id) for each label of a blob.
  template <typename F>
  void ForEachPacked(const std::uint8_t* blob, F&& f) const;

  // Replaced only by CompactSymbols, holding tables_mu_ and every ref stripe lock. Read under
  // a ref stripe lock or tables_mu_ shared; interned into under tables_mu_ shared (taken after
  // a hash stripe lock and before a ref stripe lock), until the blob is stored. Label blobs
  // are freed only under tables_mu_ (CompactSymbols, CompactArenas), so VisitBatch can read
  // them holding it shared.
  mutable std::shared_mutex tables_mu_;
  std::unique_ptr<SymbolTable> symbols_ = std::make_unique<SymbolTable>();
  std::unique_ptr<SymbolTable> schemas_ = std::make_unique<SymbolTable>();
  // For MaybeCompactSymbols: series removed by Gc since the last compaction, and live after it.
  std::size_t removed_since_compaction_ = 0;
  std::size_t live_after_compaction_ = 0;
  mutable RefStripe ref_stripes_[kStripes];
  HashStripe hash_stripes_[kStripes];
  std::atomic<std::uint64_t> last_ref_{0};
  std::atomic<std::size_t> live_{0};
};

namespace detail {
// Reads a uvarint the packer wrote (trusted input).
inline const std::uint8_t* ReadPacked(const std::uint8_t* p, std::uint32_t* v) {
  std::uint32_t x = 0;
  int shift = 0;
  while (*p & 0x80) {
    x |= static_cast<std::uint32_t>(*p++ & 0x7f) << shift;
    shift += 7;
  }
  *v = x | static_cast<std::uint32_t>(*p++) << shift;
  return p;
}
}  // namespace detail

template <typename F>
void SeriesSet::ForEachPacked(const std::uint8_t* blob, F&& f) const {
  std::uint32_t schema = 0;
  const std::uint8_t* p = detail::ReadPacked(blob, &schema);
  const auto* q = reinterpret_cast<const std::uint8_t*>(schemas_->Get(schema).data());
  std::uint32_t n = 0;
  q = detail::ReadPacked(q, &n);
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t name = 0;
    std::uint32_t value = 0;
    q = detail::ReadPacked(q, &name);
    p = detail::ReadPacked(p, &value);
    f(name, value);
  }
}

template <typename F>
bool SeriesSet::VisitLabels(storage::SeriesRef ref, F&& f) const {
  RefStripe& rs = RefStripeOf(ref);
  std::lock_guard lock(rs.mu);
  const Entry* e = FindEntry(rs, ref);
  if (e == nullptr) return false;
  ForEachPacked(rs.arena.Get(e->blob), [&](std::uint32_t name, std::uint32_t value) {
    f(symbols_->Get(name), symbols_->Get(value));
  });
  return true;
}

}  // namespace starling::wal::storage_internal
