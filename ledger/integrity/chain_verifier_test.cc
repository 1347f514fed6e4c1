#include "ledger/integrity/chain_verifier.h"

#include <vector>

#include "gtest/gtest.h"
#include "ledger/integrity/sha256.h"

namespace ledger {
namespace {

// A well-formed chain of `count` stored records.
std::vector<std::string> Chain(size_t count) {
  std::vector<std::string> values;
  std::string prev = GenesisHash();
  for (uint64_t position = 1; position <= count; ++position) {
    v1::EventEnvelope envelope;
    envelope.set_position(position);
    envelope.set_stream_id("s");
    envelope.set_stream_version(position);
    envelope.set_event_id("e" + std::to_string(position));
    envelope.set_event_type("Happened");
    envelope.set_recorded_at_micros(1000 + static_cast<int64_t>(position));
    envelope.set_prev_hash(prev);
    std::string value = EncodeRecord(envelope.SerializeAsString());
    prev = value.substr(1, kHashBytes);
    values.push_back(value);
  }
  return values;
}

ChainVerifier FromStart() { return ChainVerifier(1, GenesisHash(), 0); }

TEST(ChainVerifierTest, AcceptsAWellFormedChain) {
  std::vector<std::string> chain = Chain(20);
  ChainVerifier verifier = FromStart();
  for (size_t i = 0; i < chain.size(); ++i) ASSERT_TRUE(verifier.Feed(i + 1, chain[i]));
  EXPECT_FALSE(verifier.finding().has_value());
  EXPECT_EQ(verifier.verified_count(), 20u);
  EXPECT_EQ(verifier.last_hash(), chain.back().substr(1, kHashBytes));
}

TEST(ChainVerifierTest, NamesAFlippedPayloadByteAsHashMismatch) {
  std::vector<std::string> chain = Chain(10);
  chain[6].back() ^= 0x40;
  ChainVerifier verifier = FromStart();
  for (size_t i = 0; i < chain.size() && verifier.Feed(i + 1, chain[i]); ++i) {
  }
  ASSERT_TRUE(verifier.finding().has_value());
  EXPECT_EQ(verifier.finding()->position, 7u);
  EXPECT_EQ(verifier.finding()->problem, ChainProblem::kHashMismatch);
  EXPECT_EQ(verifier.verified_count(), 6u);
}

TEST(ChainVerifierTest, NamesAMissingPositionAsGap) {
  std::vector<std::string> chain = Chain(5);
  ChainVerifier verifier = FromStart();
  ASSERT_TRUE(verifier.Feed(1, chain[0]));
  ASSERT_TRUE(verifier.Feed(2, chain[1]));
  EXPECT_FALSE(verifier.Feed(4, chain[3]));
  EXPECT_EQ(verifier.finding()->position, 3u);
  EXPECT_EQ(verifier.finding()->problem, ChainProblem::kGap);
}

TEST(ChainVerifierTest, NamesARecordThatSkipsItsPredecessorAsChainBroken) {
  // A record removed and the rest kept as is: positions renumbered by an
  // attacker still fail on prev_hash... here: record 3 fed where 2 belongs.
  std::vector<std::string> chain = Chain(5);
  ChainVerifier verifier(2, chain[0].substr(1, kHashBytes), 0);
  // Re-encode record 3 under position 2 with a valid own hash but its old prev_hash.
  auto record = DecodeRecord(chain[2]);
  ASSERT_TRUE(record.ok());
  record->envelope.set_position(2);
  EXPECT_FALSE(verifier.Feed(2, EncodeRecord(record->envelope.SerializeAsString())));
  EXPECT_EQ(verifier.finding()->position, 2u);
  EXPECT_EQ(verifier.finding()->problem, ChainProblem::kChainBroken);
}

TEST(ChainVerifierTest, NamesPositionMismatchUndecodableAndTimeDecreased) {
  std::vector<std::string> chain = Chain(3);
  {
    ChainVerifier verifier(2, chain[0].substr(1, kHashBytes), 0);
    EXPECT_FALSE(verifier.Feed(2, chain[2]));  // names position 3
    EXPECT_EQ(verifier.finding()->problem, ChainProblem::kPositionMismatch);
  }
  {
    ChainVerifier verifier = FromStart();
    EXPECT_FALSE(verifier.Feed(1, "\x01short"));
    EXPECT_EQ(verifier.finding()->problem, ChainProblem::kUndecodable);
  }
  {
    ChainVerifier verifier(1, GenesisHash(), 999999);
    EXPECT_FALSE(verifier.Feed(1, chain[0]));
    EXPECT_EQ(verifier.finding()->problem, ChainProblem::kTimeDecreased);
  }
}

TEST(ChainVerifierTest, StopsAtTheFirstProblem) {
  std::vector<std::string> chain = Chain(5);
  ChainVerifier verifier = FromStart();
  verifier.Fail(1, ChainProblem::kIndexMismatch, "first");
  EXPECT_FALSE(verifier.Feed(1, chain[0]));
  verifier.Fail(2, ChainProblem::kGap, "second");
  EXPECT_EQ(verifier.finding()->detail, "first");
  EXPECT_STREQ(ChainProblemName(verifier.finding()->problem), "INDEX_MISMATCH");
}

}  // namespace
}  // namespace ledger
