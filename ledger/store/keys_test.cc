#include "ledger/store/keys.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace ledger::keys {
namespace {

TEST(KeysTest, EventKeyRoundTripsAndSortsNumerically) {
  std::vector<uint64_t> positions = {0, 1, 2, 255, 256, 65535, 65536, 1ull << 32,
                                     (1ull << 56) + 7, ~0ull};
  for (uint64_t position : positions) {
    EXPECT_EQ(ParseEventKey(EventKey(position)), position);
  }
  std::mt19937_64 random(42);
  for (int i = 0; i < 10000; ++i) {
    uint64_t a = random(), b = random() >> (random() % 64);
    EXPECT_EQ(a < b, EventKey(a) < EventKey(b)) << a << " vs " << b;
  }
  EXPECT_FALSE(ParseEventKey("short").has_value());
}

TEST(KeysTest, StreamKeyRoundTrips) {
  std::string key = StreamKey("35.08.19/2024", 42);
  auto parts = ParseStreamKey(key);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->stream_id, "35.08.19/2024");
  EXPECT_EQ(parts->version, 42u);
  EXPECT_FALSE(ParseStreamKey("x").has_value());
}

TEST(KeysTest, KeysWrittenIntoABufferEqualTheReturnedOnes) {
  std::string buffer = "left over from an earlier, longer key of another stream";
  StreamKeyTo(&buffer, "35.08.19/2024", 42);
  EXPECT_EQ(buffer, StreamKey("35.08.19/2024", 42));
  const std::string digest(32, '\x7f');
  IdValueTo(&buffer, 7, 3, digest);
  EXPECT_EQ(buffer, IdValue(IdEntry{7, 3, digest}));
}

TEST(KeysTest, StreamKeysKeepEachStreamContiguousAndSorted) {
  // "a" and "a.b": a prefix must not interleave with a longer id.
  std::vector<std::string> keys = {StreamKey("a", 1), StreamKey("a", 300), StreamKey("a.b", 1),
                                   StreamKey("a.b", 2), StreamKey("ab", 1), StreamKey("b", 0)};
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(keys, sorted);
  // Every key of "a" lies below the upper bound of "a" and above the bounds
  // of every other stream that "a" is a prefix of.
  EXPECT_LT(StreamKey("a", ~0ull), StreamUpperBound("a"));
  EXPECT_LT(StreamUpperBound("a"), StreamKey("a.b", 0));
  EXPECT_LT(StreamKey("35.08.19/2024", 9), StreamKey("35.08.19/2025", 1));
}

TEST(KeysTest, PrefixUpperBoundIsAboveEveryKeyWithThePrefix) {
  ASSERT_TRUE(PrefixUpperBound("35.08").has_value());
  EXPECT_EQ(*PrefixUpperBound("35.08"), "35.09");
  EXPECT_LT(StreamKey("35.08.19/2024", ~0ull), *PrefixUpperBound("35.08"));
  EXPECT_LT(StreamKey("35.08", ~0ull), *PrefixUpperBound("35.08"));
  EXPECT_GT(StreamKey("35.09/2024", 1), *PrefixUpperBound("35.08") + std::string(1, '\0'));
  EXPECT_EQ(*PrefixUpperBound(std::string("a\xff\xff", 3)), "b");
  EXPECT_FALSE(PrefixUpperBound("").has_value());
  EXPECT_FALSE(PrefixUpperBound(std::string(2, '\xff')).has_value());
}

TEST(KeysTest, MerkleNodeKeysRoundTripAndSortByLevelThenIndex) {
  auto parts = ParseMerkleNodeKey(MerkleNodeKey(5, 1234567));
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->level, 5);
  EXPECT_EQ(parts->index, 1234567u);
  EXPECT_LT(MerkleNodeKey(4, 255), MerkleNodeKey(4, 256));
  EXPECT_LT(MerkleNodeKey(4, ~0ull), MerkleNodeKey(5, 0));
  EXPECT_FALSE(ParseMerkleNodeKey("short").has_value());
  EXPECT_FALSE(ParseMerkleNodeKey(std::string(1, '\x40') + std::string(8, '\0')).has_value());
}

TEST(KeysTest, IdValueRoundTrips) {
  IdEntry entry{17, 3, std::string(32, 'x')};
  auto parsed = ParseIdValue(IdValue(entry));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->position, 17u);
  EXPECT_EQ(parsed->version, 3u);
  EXPECT_EQ(parsed->digest, entry.digest);
  EXPECT_FALSE(ParseIdValue("too short").has_value());
}

TEST(KeysTest, ByTimeKeyRoundTripsAndSortsByTime) {
  EXPECT_EQ(ParseByTimeKey(ByTimeKey(1719792000000000)), 1719792000000000u);
  EXPECT_LT(ByTimeKey(5), ByTimeKey(6));
  EXPECT_LT(ByTimeKey(255), ByTimeKey(256));
  EXPECT_FALSE(ParseByTimeKey("x").has_value());
}

TEST(KeysTest, HeadRoundTrips) {
  HeadValue head{12, 99, std::string(32, '\x7f')};
  auto parsed = ParseHead(EncodeHead(head));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->position, 12u);
  EXPECT_EQ(parsed->recorded_at_micros, 99u);
  EXPECT_EQ(parsed->hash, head.hash);
  EXPECT_FALSE(ParseHead("").has_value());
}

}  // namespace
}  // namespace ledger::keys
