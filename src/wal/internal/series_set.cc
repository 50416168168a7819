#include "wal/internal/series_set.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "base/check.h"
#include "base/varint.h"
#include "wal/record.h"

namespace starling::wal::storage_internal {
namespace {

void PutPacked(std::uint32_t v, std::string* out) { base::AppendUvarint(v, out); }

std::uint64_t HashString(std::string_view s) { return XXH3_64bits(s.data(), s.size()); }

}  // namespace

std::uint64_t HashLabels(const model::Labels& labels) {
  // Hashed as one buffer, as Prometheus does; a stack buffer covers almost every series.
  char stack[1024];
  std::size_t need = 0;
  for (const model::Label& l : labels) need += l.first.size() + l.second.size() + 2;
  std::string heap;
  char* buf = stack;
  if (need > sizeof(stack)) {
    heap.resize(need);
    buf = heap.data();
  }
  char* p = buf;
  for (const model::Label& l : labels) {
    p = std::copy(l.first.begin(), l.first.end(), p);
    *p++ = '\xff';
    p = std::copy(l.second.begin(), l.second.end(), p);
    *p++ = '\xff';
  }
  return XXH64(buf, need, 0);
}

// ---- SymbolTable ----

SymbolTable::SymbolTable() : pages_(std::make_unique<std::atomic<Slot*>[]>(kMaxPages)) {}

SymbolTable::~SymbolTable() {
  for (std::size_t i = 0; i < kMaxPages; ++i) {
    delete[] pages_[i].load(std::memory_order_relaxed);
  }
}

std::size_t SymbolTable::size() const {
  std::lock_guard lock(mu_);
  return next_id_;
}

std::string_view SymbolTable::Get(std::uint32_t id) const {
  const Slot& slot = pages_[id >> kPageBits].load(std::memory_order_acquire)[id & (kPageSize - 1)];
  if (slot.b[0] != kLongSymbol) return {reinterpret_cast<const char*>(slot.b + 1), slot.b[0]};
  std::uint32_t len = 0;
  const char* p = nullptr;
  std::memcpy(&len, slot.b + 4, sizeof(len));
  std::memcpy(&p, slot.b + 8, sizeof(p));
  return {p, len};
}

const char* SymbolTable::Store(std::string_view s) {
  char* dst = nullptr;
  if (s.size() > kChunkSize / 4) {
    chunks_.push_back(std::make_unique<char[]>(s.size()));
    dst = chunks_.back().get();
  } else {
    if (s.size() > chunk_left_) {
      chunks_.push_back(std::make_unique<char[]>(kChunkSize));
      chunk_pos_ = chunks_.back().get();
      chunk_left_ = kChunkSize;
    }
    dst = chunk_pos_;
    chunk_pos_ += s.size();
    chunk_left_ -= s.size();
  }
  std::copy(s.begin(), s.end(), dst);
  return dst;
}

void SymbolTable::Grow() {
  const std::size_t size = index_.empty() ? 256 : index_.size() * 2;
  std::vector<std::uint32_t> index(size, 0);
  const std::size_t mask = size - 1;
  for (std::uint32_t id = 0; id < next_id_; ++id) {
    std::size_t i = HashString(Get(id)) & mask;
    while (index[i] != 0) i = (i + 1) & mask;
    index[i] = id + 1;
  }
  index_ = std::move(index);
}

std::uint32_t SymbolTable::Intern(std::string_view s) {
  std::lock_guard lock(mu_);
  if (index_.empty()) Grow();
  const std::uint64_t h = HashString(s);
  std::size_t mask = index_.size() - 1;
  std::size_t i = h & mask;
  while (index_[i] != 0) {
    if (Get(index_[i] - 1) == s) return index_[i] - 1;
    i = (i + 1) & mask;
  }
  const std::uint32_t id = next_id_;
  CHECK(id < kMaxPages * kPageSize) << "symbol table full";
  CHECK(s.size() <= std::numeric_limits<std::uint32_t>::max()) << "symbol too long";
  std::atomic<Slot*>& page = pages_[id >> kPageBits];
  Slot* slots = page.load(std::memory_order_relaxed);
  if (slots == nullptr) {
    slots = new Slot[kPageSize];
    page.store(slots, std::memory_order_release);
  }
  Slot& slot = slots[id & (kPageSize - 1)];
  if (s.size() < sizeof(slot.b)) {
    slot.b[0] = static_cast<unsigned char>(s.size());
    std::copy(s.begin(), s.end(), slot.b + 1);
  } else {
    const auto len = static_cast<std::uint32_t>(s.size());
    const char* p = Store(s);
    slot.b[0] = kLongSymbol;
    std::memcpy(slot.b + 4, &len, sizeof(len));
    std::memcpy(slot.b + 8, &p, sizeof(p));
  }
  ++next_id_;
  index_[i] = id + 1;
  if (std::size_t{next_id_} * 4 > index_.size() * 3) Grow();
  return id;
}

// ---- SeriesSet ----

SeriesSet::SeriesSet() = default;
SeriesSet::~SeriesSet() = default;

SeriesSet::Entry* SeriesSet::EntrySlot(RefStripe& rs, storage::SeriesRef ref) const {
  const storage::SeriesRef idx = ref >> kStripeBits;
  const storage::SeriesRef page = idx >> kPageBits;
  if (page >= rs.pages.size() || rs.pages[page] == nullptr) return nullptr;
  return &rs.pages[page][idx & (kPageEntries - 1)];
}

SeriesSet::Entry* SeriesSet::FindEntry(RefStripe& rs, storage::SeriesRef ref) const {
  Entry* e = EntrySlot(rs, ref);
  return e == nullptr || e->blob == 0 ? nullptr : e;
}

namespace {
// ForEachByStripe's visiting order: indices sorted by stripe.
thread_local std::vector<std::uint32_t> stripe_order;
}  // namespace

template <typename RefOf, typename F>
void SeriesSet::ForEachByStripe(std::size_t n, RefOf&& ref_of, F&& f) const {
  // A counting sort of the indices by stripe keeps equal refs in order.
  std::vector<std::uint32_t>& order = stripe_order;
  std::uint32_t start[kStripes + 1] = {};
  for (std::size_t i = 0; i < n; ++i) ++start[(ref_of(i) & (kStripes - 1)) + 1];
  for (int s = 0; s < kStripes; ++s) start[s + 1] += start[s];
  order.resize(n);
  std::uint32_t next[kStripes];
  std::copy(start, start + kStripes, next);
  for (std::size_t i = 0; i < n; ++i) {
    order[next[ref_of(i) & (kStripes - 1)]++] = static_cast<std::uint32_t>(i);
  }
  for (int s = 0; s < kStripes; ++s) {
    if (start[s] == start[s + 1]) continue;
    RefStripe& rs = ref_stripes_[s];
    std::lock_guard lock(rs.mu);
    for (std::uint32_t k = start[s]; k < start[s + 1]; ++k) f(rs, k, order[k]);
  }
}

namespace {
// VisitBatch's label blob of each index; null for an unknown ref.
thread_local std::vector<const std::uint8_t*> visit_blobs;
}  // namespace

void SeriesSet::VisitBatch(std::span<const storage::SeriesRef> refs,
                           const storage::LabelBatchVisitor& v) const {
  // The blobs are found stripe by stripe, each locked once, and then visited in the order of
  // refs: that is the order the samples were scraped in, where neighbours share most labels,
  // and a remote-write request built in it compresses faster and smaller than one in stripe
  // order. Blobs do not change once stored, and holding tables_mu_ keeps the compactions from
  // freeing them or replacing the symbol tables until they are visited; the stripe locks
  // published the blobs and the symbols they refer to.
  std::shared_lock tables_lock(tables_mu_);
  std::vector<const std::uint8_t*>& blobs = visit_blobs;
  blobs.assign(refs.size(), nullptr);
  // Two stages of prefetching, as a series' blob is behind its entry: the entry of the
  // series found 2 * kAhead steps later, and the blob of the one kAhead steps later, whose
  // entry was prefetched kAhead steps ago. Only series of the stripe being visited qualify.
  constexpr std::uint32_t kAhead = 8;
  ForEachByStripe(
      refs.size(), [&](std::size_t i) { return refs[i]; },
      [&](RefStripe& rs, std::uint32_t k, std::size_t i) {
        const storage::SeriesRef stripe = refs[i] & (kStripes - 1);
        if (const std::uint32_t ahead = k + 2 * kAhead; ahead < refs.size()) {
          const storage::SeriesRef r = refs[stripe_order[ahead]];
          if ((r & (kStripes - 1)) == stripe) {
            if (const Entry* e = EntrySlot(rs, r); e != nullptr) __builtin_prefetch(e);
          }
        }
        if (const std::uint32_t ahead = k + kAhead; ahead < refs.size()) {
          const storage::SeriesRef r = refs[stripe_order[ahead]];
          if ((r & (kStripes - 1)) == stripe) {
            if (const Entry* e = FindEntry(rs, r); e != nullptr) {
              __builtin_prefetch(rs.arena.Get(e->blob));
            }
          }
        }
        if (const Entry* e = FindEntry(rs, refs[i]); e != nullptr) blobs[i] = rs.arena.Get(e->blob);
      });
  for (std::size_t i = 0; i < refs.size(); ++i) {
    v.begin(v.ctx, i);
    if (blobs[i] != nullptr) {
      ForEachPacked(blobs[i], [&](std::uint32_t name, std::uint32_t value) {
        v.label(v.ctx, symbols_->Get(name), symbols_->Get(value));
      });
    }
    v.end(v.ctx, i, blobs[i] != nullptr);
  }
}

SeriesSet::Entry* SeriesSet::MakeEntry(RefStripe& rs, storage::SeriesRef ref) {
  const storage::SeriesRef idx = ref >> kStripeBits;
  const storage::SeriesRef page = idx >> kPageBits;
  if (page >= rs.pages.size()) {
    rs.pages.resize(page + 1);
    rs.page_live.resize(page + 1, 0);
  }
  if (rs.pages[page] == nullptr) rs.pages[page] = std::make_unique<Entry[]>(kPageEntries);
  ++rs.page_live[page];
  live_.fetch_add(1, std::memory_order_relaxed);
  return &rs.pages[page][idx & (kPageEntries - 1)];
}

void SeriesSet::FreeEntry(RefStripe& rs, storage::SeriesRef ref, Entry* e) {
  const std::size_t size = BlobSize(rs.arena.Get(e->blob));
  rs.arena.live_bytes -= size;
  rs.arena.dead_bytes += size;
  *e = Entry{};
  const storage::SeriesRef page = (ref >> kStripeBits) >> kPageBits;
  if (--rs.page_live[page] == 0) rs.pages[page].reset();
  live_.fetch_sub(1, std::memory_order_relaxed);
}

std::uint32_t SeriesSet::StoreBlob(Arena& arena, std::string_view blob) {
  CHECK(arena.chunks.size() + 1 < (std::size_t{1} << (32 - kChunkBits))) << "label arena full";
  std::size_t chunk = 0;
  std::size_t offset = 0;
  if (blob.size() > kChunkSize / 8) {
    arena.chunks.push_back(std::make_unique<std::uint8_t[]>(blob.size()));
    chunk = arena.chunks.size();
  } else {
    if (arena.current == 0 || blob.size() > kChunkSize - arena.pos) {
      arena.chunks.push_back(std::make_unique<std::uint8_t[]>(kChunkSize));
      arena.current = arena.chunks.size();
      arena.pos = 0;
    }
    chunk = arena.current;
    offset = arena.pos;
    arena.pos += blob.size();
  }
  std::memcpy(arena.chunks[chunk - 1].get() + offset, blob.data(), blob.size());
  arena.live_bytes += blob.size();
  return static_cast<std::uint32_t>(chunk << kChunkBits | offset);
}

std::uint32_t SeriesSet::BlobLabels(const std::uint8_t* blob, const std::uint8_t** values) const {
  std::uint32_t schema = 0;
  const std::uint8_t* p = detail::ReadPacked(blob, &schema);
  if (values != nullptr) *values = p;
  std::uint32_t n = 0;
  detail::ReadPacked(reinterpret_cast<const std::uint8_t*>(schemas_->Get(schema).data()), &n);
  return n;
}

std::size_t SeriesSet::BlobSize(const std::uint8_t* blob) const {
  const std::uint8_t* p = nullptr;
  const std::uint32_t n = BlobLabels(blob, &p);
  std::uint32_t ignored = 0;
  for (std::uint32_t i = 0; i < n; ++i) p = detail::ReadPacked(p, &ignored);
  return static_cast<std::size_t>(p - blob);
}

template <typename EachLabel>
void SeriesSet::Pack(SymbolTable& symbols, SymbolTable& schemas, std::size_t n,
                     EachLabel&& each_label, std::string* out) {
  thread_local std::string names;
  names.clear();
  PutPacked(static_cast<std::uint32_t>(n), &names);
  each_label(
      [&](std::string_view name, std::string_view) { PutPacked(symbols.Intern(name), &names); });
  out->clear();
  PutPacked(schemas.Intern(names), out);
  each_label(
      [&](std::string_view, std::string_view value) { PutPacked(symbols.Intern(value), out); });
}

void SeriesSet::PackLabels(const model::Labels& labels, std::string* out) {
  Pack(
      *symbols_, *schemas_, labels.Size(),
      [&](auto&& g) {
        for (const model::Label& l : labels) g(l.first, l.second);
      },
      out);
}

bool SeriesSet::BlobEquals(const std::uint8_t* blob, const model::Labels& labels) const {
  if (BlobLabels(blob) != labels.Size()) return false;
  auto it = labels.begin();
  bool equal = true;
  ForEachPacked(blob, [&](std::uint32_t name, std::uint32_t value) {
    equal = equal && symbols_->Get(name) == it->first && symbols_->Get(value) == it->second;
    ++it;
  });
  return equal;
}

model::Labels SeriesSet::Unpack(const std::uint8_t* blob) const {
  std::vector<model::Label> labels;
  ForEachPacked(blob, [&](std::uint32_t name, std::uint32_t value) {
    labels.emplace_back(symbols_->Get(name), symbols_->Get(value));
  });
  return model::Labels(std::move(labels));
}

Acquire SeriesSet::Register(RefStripe& rs, storage::SeriesRef ref, Entry* e, std::int64_t t,
                            bool* unlogged) {
  if (t < e->last_ts) return Acquire::kOutOfOrder;
  if ((e->word & kPendingInline) != kPendingInline) [[likely]] {
    ++e->word;
  } else {
    CountOverflow(rs, ref, +1);
  }
  *unlogged = (e->word & kLogged) == 0;
  return Acquire::kAccepted;
}

void SeriesSet::Unpend(RefStripe& rs, storage::SeriesRef ref, Entry* e) {
  if ((e->word & kPendingInline) == kPendingInline && CountOverflow(rs, ref, -1)) [[unlikely]] {
    return;
  }
  if ((e->word & kPendingInline) != 0) --e->word;
}

bool SeriesSet::CountOverflow(RefStripe& rs, storage::SeriesRef ref, int delta) {
  if (delta > 0) {
    std::uint32_t& more = rs.pending_overflow[ref];
    CHECK(more != std::numeric_limits<std::uint32_t>::max()) << "too many pending samples";
    ++more;
    return true;
  }
  auto it = rs.pending_overflow.find(ref);
  if (it == rs.pending_overflow.end()) return false;
  if (--it->second == 0) rs.pending_overflow.erase(it);
  return true;
}

int SeriesSet::SegmentOf(const RefStripe& rs, const Entry& e) {
  return rs.segment_base + static_cast<int>(e.word >> kSegmentShift);
}

void SeriesSet::RaiseSegment(RefStripe& rs, Entry* e, int segment) {
  std::int64_t delta = std::int64_t{segment} - rs.segment_base;
  if (delta <= e->word >> kSegmentShift) return;
  if (delta > kMaxSegmentDelta) [[unlikely]] {
    Rebase(rs, segment - static_cast<int>(kMaxSegmentDelta / 2));
    delta = std::int64_t{segment} - rs.segment_base;
  }
  e->word = (e->word & kWordLowBits) | static_cast<std::uint32_t>(delta) << kSegmentShift;
}

template <typename F>
void SeriesSet::ForEachEntry(RefStripe& rs, F&& f) {
  for (auto& page : rs.pages) {
    if (page == nullptr) continue;
    for (std::size_t i = 0; i < kPageEntries; ++i) {
      if (page[i].blob != 0) f(page[i]);
    }
  }
}

void SeriesSet::Rebase(RefStripe& rs, int base) {
  // An entry whose segment is below the new base reads as the base: that can only delay its
  // Gc, never hasten it.
  ForEachEntry(rs, [&](Entry& x) {
    const auto delta = static_cast<std::uint32_t>(std::max(SegmentOf(rs, x), base) - base);
    x.word = (x.word & kWordLowBits) | delta << kSegmentShift;
  });
  rs.segment_base = base;
}

void SeriesSet::ResizeSlots(HashStripe& hs, std::size_t size) {
  CHECK(size <= kTagMask + 1) << "hash stripe full";
  std::vector<Slot> old = std::move(hs.slots);
  hs.slots.assign(size, Slot{0});
  hs.used = 0;
  for (const Slot& s : old) {
    if (s.ref() != 0) InsertSlot(hs, s.tag(), s.ref());
  }
}

void SeriesSet::InsertSlot(HashStripe& hs, std::uint64_t hash, storage::SeriesRef ref) {
  // Filled to 85%, grown by a quarter: a table between 68% and 85% full wastes less than
  // doubling at three quarters (38% to 75%). The tag check keeps the longer probes cheap, and
  // only a new series walks a probe to its end.
  if ((hs.used + 1) * 20 > hs.slots.size() * 17) {
    ResizeSlots(hs, std::max<std::size_t>(16, hs.slots.size() * 5 / 4));
  }
  const std::size_t size = hs.slots.size();
  std::size_t i = Home(hash, size);
  while (hs.slots[i].ref() != 0) i = NextSlot(i, size);
  hs.slots[i] = MakeSlot(hash, ref);
  ++hs.used;
}

void SeriesSet::EraseSlot(HashStripe& hs, std::uint64_t hash, storage::SeriesRef ref) {
  if (hs.slots.empty()) return;
  const std::size_t size = hs.slots.size();
  std::size_t i = Home(hash, size);
  while (hs.slots[i].ref() != ref) {
    if (hs.slots[i].ref() == 0) return;
    i = NextSlot(i, size);
  }
  // Backward-shift deletion keeps every probe chain unbroken without tombstones.
  std::size_t j = i;
  for (;;) {
    j = NextSlot(j, size);
    if (hs.slots[j].ref() == 0) break;
    const std::size_t home = Home(hs.slots[j].tag(), size);
    // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
    const bool home_in_range = i <= j ? (i < home && home <= j) : (i < home || home <= j);
    if (!home_in_range) {
      hs.slots[i] = hs.slots[j];
      i = j;
    }
  }
  hs.slots[i] = Slot{0};
  --hs.used;
}

storage::SeriesRef SeriesSet::FindLocked(HashStripe& hs, const model::Labels& labels,
                                         std::uint64_t hash) {
  if (hs.slots.empty()) return 0;
  const std::size_t size = hs.slots.size();
  for (std::size_t i = Home(hash, size); hs.slots[i].ref() != 0; i = NextSlot(i, size)) {
    if (hs.slots[i].tag() != (hash & kTagMask)) continue;
    const storage::SeriesRef ref = hs.slots[i].ref();
    RefStripe& rs = RefStripeOf(ref);
    std::lock_guard lock(rs.mu);
    const Entry* e = FindEntry(rs, ref);
    if (e != nullptr && BlobEquals(rs.arena.Get(e->blob), labels)) return ref;
  }
  return 0;
}

Acquire SeriesSet::AcquireByRef(storage::SeriesRef ref, std::int64_t t, bool* unlogged,
                                model::Labels* labels) {
  RefStripe& rs = RefStripeOf(ref);
  std::lock_guard lock(rs.mu);
  Entry* e = FindEntry(rs, ref);
  if (e == nullptr) return Acquire::kUnknown;
  const Acquire a = Register(rs, ref, e, t, unlogged);
  if (a == Acquire::kAccepted && *unlogged && labels != nullptr) {
    *labels = Unpack(rs.arena.Get(e->blob));
  }
  return a;
}

Acquire SeriesSet::AcquireByLabels(const model::Labels& labels, std::uint64_t hash, std::int64_t t,
                                   storage::SeriesRef* ref, bool* unlogged) {
  HashStripe& hs = HashStripeOf(hash);
  std::lock_guard hash_lock(hs.mu);
  if (const storage::SeriesRef found = FindLocked(hs, labels, hash); found != 0) {
    RefStripe& rs = RefStripeOf(found);
    std::lock_guard lock(rs.mu);
    *ref = found;
    return Register(rs, found, FindEntry(rs, found), t, unlogged);
  }
  thread_local std::string blob;
  // Held until the blob is stored, so that CompactSymbols sees it.
  std::shared_lock tables_lock(tables_mu_);
  PackLabels(labels, &blob);
  const storage::SeriesRef created = last_ref_.fetch_add(1, std::memory_order_relaxed) + 1;
  CHECK(created <= kRefMask) << "series refs exhausted";
  {
    RefStripe& rs = RefStripeOf(created);
    std::lock_guard lock(rs.mu);
    Entry* e = MakeEntry(rs, created);
    *e = Entry{.last_ts = std::numeric_limits<std::int64_t>::min(),
               .blob = StoreBlob(rs.arena, blob),
               .word = 1};  // one pending sample
  }
  InsertSlot(hs, hash, created);
  *ref = created;
  *unlogged = true;
  return Acquire::kAccepted;
}

storage::SeriesRef SeriesSet::Find(const model::Labels& labels, std::uint64_t hash) {
  HashStripe& hs = HashStripeOf(hash);
  std::lock_guard hash_lock(hs.mu);
  return FindLocked(hs, labels, hash);
}

bool SeriesSet::Exists(storage::SeriesRef ref) const {
  RefStripe& rs = RefStripeOf(ref);
  std::lock_guard lock(rs.mu);
  return FindEntry(rs, ref) != nullptr;
}

void SeriesSet::Commit(std::span<const record::RefSample> samples, int segment) {
  ForEachByStripe(
      samples.size(), [&](std::size_t i) { return samples[i].ref; },
      [&](RefStripe& rs, std::uint32_t, std::size_t i) {
        Entry* e = FindEntry(rs, samples[i].ref);
        if (e == nullptr) return;  // Cannot happen while the sample is pending.
        e->last_ts = std::max(e->last_ts, samples[i].t);
        RaiseSegment(rs, e, segment);
        Unpend(rs, samples[i].ref, e);
        e->word |= kLogged;
      });
}

void SeriesSet::Release(std::span<const record::RefSample> samples) {
  ForEachByStripe(
      samples.size(), [&](std::size_t i) { return samples[i].ref; },
      [&](RefStripe& rs, std::uint32_t, std::size_t i) {
        Entry* e = FindEntry(rs, samples[i].ref);
        if (e != nullptr) Unpend(rs, samples[i].ref, e);
      });
}

void SeriesSet::SeeRef(storage::SeriesRef ref) {
  if (ref > kRefMask) return;
  std::uint64_t cur = last_ref_.load(std::memory_order_relaxed);
  while (cur < ref && !last_ref_.compare_exchange_weak(cur, ref, std::memory_order_relaxed)) {
  }
}

void SeriesSet::ReplaySeries(storage::SeriesRef ref, const model::Labels& labels, int segment) {
  // Refs this store cannot hold (from a foreign or damaged log) are skipped.
  if (ref == 0 || ref > kRefMask || labels.Empty()) return;
  SeeRef(ref);
  const std::uint64_t hash = HashLabels(labels);
  HashStripe& hs = HashStripeOf(hash);
  std::lock_guard hash_lock(hs.mu);
  thread_local std::string blob;
  std::shared_lock tables_lock(tables_mu_);
  PackLabels(labels, &blob);
  RefStripe& rs = RefStripeOf(ref);
  {
    std::lock_guard lock(rs.mu);
    if (Entry* e = FindEntry(rs, ref); e != nullptr) {
      // The same series logged again (or a ref reused after it was forgotten): the newest wins.
      if (!BlobEquals(rs.arena.Get(e->blob), labels)) return;
      RaiseSegment(rs, e, segment);
      return;
    }
    Entry* e = MakeEntry(rs, ref);
    *e = Entry{.last_ts = std::numeric_limits<std::int64_t>::min(),
               .blob = StoreBlob(rs.arena, blob),
               .word = kLogged};
    RaiseSegment(rs, e, segment);
  }
  InsertSlot(hs, hash, ref);
}

bool SeriesSet::ReplaySample(storage::SeriesRef ref, std::int64_t t, int segment) {
  RefStripe& rs = RefStripeOf(ref);
  std::lock_guard lock(rs.mu);
  Entry* e = FindEntry(rs, ref);
  if (e == nullptr) return false;
  e->last_ts = std::max(e->last_ts, t);
  RaiseSegment(rs, e, segment);
  return true;
}

std::size_t SeriesSet::Gc(int before_segment, std::int64_t min_time_ms) {
  std::size_t removed = 0;
  std::vector<Slot> victims;
  for (HashStripe& hs : hash_stripes_) {
    std::lock_guard hash_lock(hs.mu);
    victims.clear();
    for (const Slot& s : hs.slots) {
      if (s.ref() == 0) continue;
      RefStripe& rs = RefStripeOf(s.ref());
      std::lock_guard lock(rs.mu);
      Entry* e = FindEntry(rs, s.ref());
      if (e == nullptr) {
        victims.push_back(s);
        continue;
      }
      if ((e->word & kPendingInline) == 0 && SegmentOf(rs, *e) < before_segment &&
          e->last_ts < min_time_ms) {
        FreeEntry(rs, s.ref(), e);
        victims.push_back(s);
        ++removed;
      }
    }
    for (const Slot& s : victims) EraseSlot(hs, s.tag(), s.ref());
    // Shrink a mostly empty table.
    if (hs.slots.size() > 16 && hs.used * 8 < hs.slots.size()) {
      std::size_t size = 16;
      while (hs.used * 2 > size) size = size * 3 / 2;
      ResizeSlots(hs, size);
    }
  }
  removed_since_compaction_ += removed;
  return removed;
}

bool SeriesSet::EncodeAll(std::size_t max_bytes,
                          const std::function<bool(std::string_view)>& sink) const {
  std::string buf;
  for (int stripe = 0; stripe < kStripes; ++stripe) {
    RefStripe& rs = ref_stripes_[stripe];
    // Position of the next entry; the lock is dropped while a full record is handed on.
    std::size_t page = 0;
    std::size_t slot = 0;
    for (;;) {
      bool full = false;
      {
        std::lock_guard lock(rs.mu);
        for (; page < rs.pages.size() && !full; slot = 0, ++page) {
          if (rs.pages[page] == nullptr) continue;
          for (; slot < kPageEntries && !full; ++slot) {
            const Entry& e = rs.pages[page][slot];
            if (e.blob == 0) continue;
            if (buf.empty()) record::BeginSeries(&buf);
            const storage::SeriesRef ref =
                ((page << kPageBits | slot) << kStripeBits) | static_cast<std::size_t>(stripe);
            const std::uint8_t* blob = rs.arena.Get(e.blob);
            record::AppendSeriesHeader(ref, BlobLabels(blob), &buf);
            ForEachPacked(blob, [&](std::uint32_t name, std::uint32_t value) {
              record::AppendLabel(symbols_->Get(name), symbols_->Get(value), &buf);
            });
            full = buf.size() >= max_bytes;
          }
          if (full) break;
        }
      }
      if (!full) break;
      if (!sink(buf)) return false;
      buf.clear();
    }
  }
  return buf.empty() || sink(buf);
}

void SeriesSet::CompactArenas() {
  for (RefStripe& rs : ref_stripes_) {
    // A stripe at a time, as this frees blobs VisitBatch may be reading outside stripe locks.
    std::unique_lock tables_lock(tables_mu_);
    std::lock_guard lock(rs.mu);
    if (rs.arena.dead_bytes < 64 * 1024 || rs.arena.dead_bytes < rs.arena.live_bytes) continue;
    Arena fresh;
    ForEachEntry(rs, [&](Entry& e) {
      const std::uint8_t* blob = rs.arena.Get(e.blob);
      e.blob =
          StoreBlob(fresh, std::string_view(reinterpret_cast<const char*>(blob), BlobSize(blob)));
    });
    rs.arena = std::move(fresh);
  }
}

std::size_t SeriesSet::NumSymbols() const { return symbols_->size() + schemas_->size(); }

std::size_t SeriesSet::MaybeCompactSymbols(std::size_t min_removed) {
  if (removed_since_compaction_ < std::max(min_removed, live_after_compaction_ / 2)) return 0;
  // Only CompactSymbols replaces the tables, so reading their sizes needs no stripe lock.
  const std::size_t before = NumSymbols();
  CompactSymbols();
  return before - NumSymbols();
}

void SeriesSet::CompactSymbols() {
  // Every reader of symbols holds a ref stripe lock, and every writer tables_mu_ until its
  // blob is stored: with all of those held, nothing else touches a table.
  std::unique_lock tables_lock(tables_mu_);
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(kStripes);
  for (RefStripe& rs : ref_stripes_) locks.emplace_back(rs.mu);
  auto symbols = std::make_unique<SymbolTable>();
  auto schemas = std::make_unique<SymbolTable>();
  std::vector<std::pair<std::string_view, std::string_view>> labels;
  std::string blob;
  for (RefStripe& rs : ref_stripes_) {
    Arena fresh;
    ForEachEntry(rs, [&](Entry& e) {
      labels.clear();
      ForEachPacked(rs.arena.Get(e.blob), [&](std::uint32_t name, std::uint32_t value) {
        labels.emplace_back(symbols_->Get(name), symbols_->Get(value));
      });
      Pack(
          *symbols, *schemas, labels.size(),
          [&](auto&& g) {
            for (const auto& [name, value] : labels) g(name, value);
          },
          &blob);
      e.blob = StoreBlob(fresh, blob);
    });
    rs.arena = std::move(fresh);
  }
  symbols_.swap(symbols);
  schemas_.swap(schemas);
  removed_since_compaction_ = 0;
  live_after_compaction_ = size();
}

}  // namespace starling::wal::storage_internal
