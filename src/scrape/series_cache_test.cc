#include "scrape/series_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace starling::scrape {
namespace {

std::vector<SeriesKey> Keys(int n) {
  std::vector<SeriesKey> keys;
  keys.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    keys.push_back(SeriesCache::Key("m{i=\"" + std::to_string(i) + "\"}"));
  return keys;
}

// Fills a cache with keys[i] -> ref i + 1.
void Fill(SeriesCache& c, const std::vector<SeriesKey>& keys) {
  for (std::size_t i = 0; i < keys.size(); ++i) c.Insert(keys[i])->set_ref(i + 1);
}

TEST(SeriesCacheTest, FindsEveryKeyInAnyOrder) {
  const std::vector<SeriesKey> keys = Keys(1000);
  SeriesCache c;
  Fill(c, keys);
  ASSERT_EQ(c.size(), keys.size());
  // The order they were inserted in, reversed, and a stride that skips around.
  for (std::size_t i = 0; i < keys.size(); ++i) {
    ASSERT_NE(c.Find(keys[i]), nullptr) << i;
    EXPECT_EQ(c.Find(keys[i])->ref(), i + 1);
  }
  for (std::size_t i = keys.size(); i-- > 0;) EXPECT_EQ(c.Find(keys[i])->ref(), i + 1) << i;
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const std::size_t i = (k * 37) % keys.size();
    EXPECT_EQ(c.Find(keys[i])->ref(), i + 1) << i;
  }
  EXPECT_EQ(c.Find(SeriesCache::Key("absent")), nullptr);
}

TEST(SeriesCacheTest, AKeyCarriesItsTextsLength) {
  EXPECT_EQ(SeriesCache::Key("up").length(), 2u);
  EXPECT_EQ(SeriesCache::Key("m{i=\"1\"}").length(), 8u);
  EXPECT_EQ(SeriesCache::Key(std::string(70000, 'a')).length(), SeriesKey::kLongText);
  EXPECT_NE(SeriesCache::Key("m{i=\"1\"}"), SeriesCache::Key("m{i=\"2\"}"));
}

TEST(SeriesCacheTest, ExpectsTheEntryAfterTheLastOneFound) {
  const std::vector<SeriesKey> keys = Keys(3);
  SeriesCache c;
  EXPECT_EQ(c.Expected(), nullptr);
  Fill(c, keys);
  EXPECT_EQ(c.Expected(), nullptr);  // past the last inserted
  c.Find(keys[0]);
  ASSERT_NE(c.Expected(), nullptr);
  EXPECT_EQ(c.Expected()->key, keys[1]);
  c.Find(keys[2]);
  EXPECT_EQ(c.Expected(), nullptr);
  c.Find(keys[1]);
  EXPECT_EQ(c.Expected()->key, keys[2]);
}

TEST(SeriesCacheTest, AnAbsentKeyAfterAHitIsNotFound) {
  const std::vector<SeriesKey> keys = Keys(10);
  SeriesCache c;
  Fill(c, keys);
  ASSERT_NE(c.Find(keys[3]), nullptr);
  // The entry after the hit is keys[4]; a key that is not cached must not match it.
  EXPECT_EQ(c.Find(SeriesCache::Key("m{i=\"10\"}")), nullptr);
  EXPECT_EQ(c.Find(keys[4])->ref(), 5U);
  // After the last entry there is nothing to guess.
  EXPECT_EQ(c.Find(keys[9])->ref(), 10U);
  EXPECT_EQ(c.Find(SeriesCache::Key("x")), nullptr);
  EXPECT_EQ(c.Find(keys[0])->ref(), 1U);
}

TEST(SeriesCacheTest, RemoveIfKeepsTheRestFindable) {
  const std::vector<SeriesKey> keys = Keys(100);
  SeriesCache c;
  Fill(c, keys);
  ASSERT_EQ(c.Find(keys[98])->ref(), 99U);  // the guess now points at the last entry
  c.RemoveIf([](const SeriesCache::Entry& e) { return e.ref() % 2 == 0; });
  EXPECT_EQ(c.size(), 50U);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    SeriesCache::Entry* e = c.Find(keys[i]);
    if (i % 2 == 1) {
      EXPECT_EQ(e, nullptr) << i;
    } else {
      ASSERT_NE(e, nullptr) << i;
      EXPECT_EQ(e->ref(), i + 1);
    }
  }
  // New entries after a removal are found too, in and out of order.
  c.Insert(SeriesCache::Key("new"))->set_ref(1000);
  EXPECT_EQ(c.Find(keys[0])->ref(), 1U);
  EXPECT_EQ(c.Find(SeriesCache::Key("new"))->ref(), 1000U);
  c.Clear();
  EXPECT_EQ(c.Find(keys[0]), nullptr);
  EXPECT_EQ(c.Find(SeriesCache::Key("new")), nullptr);
}

TEST(SeriesCacheTest, KeepsLabelsOnlyForEntriesThatHaveThem) {
  SeriesCache c;
  SeriesCache::Entry* e = c.Insert(SeriesCache::Key("a"));
  EXPECT_EQ(c.Labels(*e), nullptr);
  c.SetLabels(*e, model::Labels{{"__name__", "a"}});
  ASSERT_NE(c.Labels(*e), nullptr);
  EXPECT_EQ(c.Labels(*e)->String(), "{__name__=\"a\"}");
  c.DropLabels(*e);
  EXPECT_EQ(c.Labels(*e), nullptr);
}

TEST(SeriesCacheTest, FlagsAndRefShareAWordWithoutDisturbingEachOther) {
  using E = SeriesCache::Entry;
  SeriesCache c;
  E* e = c.Insert(SeriesCache::Key("a"));
  EXPECT_EQ(e->ref(), 0U);
  EXPECT_TRUE(e->Has(E::kTrackStaleness));
  for (E::Flag f : {E::kSeen, E::kInLastScrape, E::kEverScraped, E::kHasLabels}) {
    EXPECT_FALSE(e->Has(f));
  }
  constexpr storage::SeriesRef kBig = (storage::SeriesRef{1} << 56) - 1;
  e->set_ref(kBig);
  e->Set(E::kSeen, true);
  e->Set(E::kEverScraped, true);
  EXPECT_EQ(e->ref(), kBig);
  e->Set(E::kTrackStaleness, false);
  e->set_ref(7);
  EXPECT_EQ(e->ref(), 7U);
  EXPECT_TRUE(e->Has(E::kSeen));
  EXPECT_TRUE(e->Has(E::kEverScraped));
  EXPECT_FALSE(e->Has(E::kTrackStaleness));
  EXPECT_FALSE(e->Has(E::kInLastScrape));
  e->Set(E::kSeen, false);
  EXPECT_FALSE(e->Has(E::kSeen));
  EXPECT_EQ(e->ref(), 7U);
}

TEST(SeriesCacheDeathTest, ARefBeyond56BitsIsAProgrammingError) {
  SeriesCache c;
  SeriesCache::Entry* e = c.Insert(SeriesCache::Key("a"));
  EXPECT_DEATH(e->set_ref(storage::SeriesRef{1} << 56), "does not fit in 56 bits");
}

TEST(SeriesCacheTest, FindsEveryKeyOfATargetWithMoreSeriesThanSixteenBitsCount) {
  // Past 65535 entries the index widens; the keys from before and after must all be found.
  const std::vector<SeriesKey> keys = Keys(70'000);
  SeriesCache c;
  Fill(c, keys);
  for (std::size_t i = keys.size(); i-- > 0;) {
    const SeriesCache::Entry* e = c.Find(keys[i]);
    ASSERT_NE(e, nullptr) << i;
    ASSERT_EQ(e->ref(), i + 1);
  }
  // And narrows again when most are removed.
  c.RemoveIf([](const SeriesCache::Entry& e) { return e.ref() > 1000; });
  EXPECT_EQ(c.size(), 1000U);
  EXPECT_LT(c.MemoryBytes(), 1000 * (sizeof(SeriesCache::Entry) + 2 * sizeof(std::uint16_t)));
  for (std::size_t i = keys.size(); i-- > 0;) {
    const SeriesCache::Entry* e = c.Find(keys[i]);
    if (i >= 1000) {
      ASSERT_EQ(e, nullptr) << i;
    } else {
      ASSERT_NE(e, nullptr) << i;
      ASSERT_EQ(e->ref(), i + 1);
    }
  }
}

TEST(SeriesCacheTest, ShrinkToFitKeepsEveryEntryAndFreesTheSpareRoom) {
  const std::vector<SeriesKey> keys = Keys(5000);
  SeriesCache c;
  Fill(c, keys);
  const std::size_t before = c.MemoryBytes();
  c.ShrinkToFit();
  // Entries at 16 bytes and a 16-bit index filled to at least two thirds.
  EXPECT_LE(c.MemoryBytes(),
            5000 * (sizeof(SeriesCache::Entry) + 3 * sizeof(std::uint16_t) / 2 + 1));
  EXPECT_LE(c.MemoryBytes(), before);
  for (std::size_t i = 0; i < keys.size(); ++i) ASSERT_EQ(c.Find(keys[i])->ref(), i + 1) << i;
  c.Insert(SeriesCache::Key("new"))->set_ref(9999);
  EXPECT_EQ(c.Find(SeriesCache::Key("new"))->ref(), 9999U);
  EXPECT_EQ(c.Find(keys[0])->ref(), 1U);
}

}  // namespace
}  // namespace starling::scrape
