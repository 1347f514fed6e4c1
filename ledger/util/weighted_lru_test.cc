#include "ledger/util/weighted_lru.h"

#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace ledger {
namespace {

std::shared_ptr<const int> Value(int v) { return std::make_shared<const int>(v); }

TEST(WeightedLruTest, EvictsTheLeastRecentlyUsedPastTheEntryBound) {
  WeightedLru<int> cache(/*max_entries=*/2, /*max_weight=*/100);
  cache.Put("a", Value(1), 1);
  cache.Put("b", Value(2), 1);
  ASSERT_NE(cache.Get("a"), nullptr);  // "b" is now the oldest
  cache.Put("c", Value(3), 1);
  EXPECT_EQ(cache.Get("b"), nullptr);
  EXPECT_EQ(*cache.Get("a"), 1);
  EXPECT_EQ(*cache.Get("c"), 3);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(WeightedLruTest, EvictsUntilTheWeightBoundHolds) {
  WeightedLru<int> cache(/*max_entries=*/100, /*max_weight=*/10);
  cache.Put("a", Value(1), 4);
  cache.Put("b", Value(2), 4);
  cache.Put("c", Value(3), 4);  // 12 > 10: "a" goes
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(cache.total_weight(), 8u);
  cache.Put("d", Value(4), 9);  // only "d" fits
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(*cache.Get("d"), 4);
  EXPECT_EQ(cache.total_weight(), 9u);
}

TEST(WeightedLruTest, ReplacingAKeyReplacesItsWeight) {
  WeightedLru<int> cache(10, 10);
  cache.Put("a", Value(1), 3);
  cache.Put("a", Value(2), 5);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.total_weight(), 5u);
  EXPECT_EQ(*cache.Get("a"), 2);
}

TEST(WeightedLruTest, AValueHeavierThanTheBoundIsNotKeptAndEvictsNothing) {
  WeightedLru<int> cache(10, 10);
  cache.Put("a", Value(1), 5);
  cache.Put("huge", Value(2), 11);
  EXPECT_EQ(cache.Get("huge"), nullptr);
  EXPECT_EQ(*cache.Get("a"), 1);
}

TEST(WeightedLruTest, AHolderKeepsItsValueAfterEviction) {
  WeightedLru<int> cache(1, 10);
  cache.Put("a", Value(1), 1);
  std::shared_ptr<const int> held = cache.Get("a");
  cache.Put("b", Value(2), 1);
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_EQ(*held, 1);
}

}  // namespace
}  // namespace ledger
