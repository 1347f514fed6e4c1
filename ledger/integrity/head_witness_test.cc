// The head witness: round trip, atomic replacement, malformed files, and the
// check that finds a rolled-back, truncated or rewritten log.
#include "ledger/integrity/head_witness.h"

#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/testing/temp_dir.h"

namespace ledger {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

// Roots of a log of events "e0", "e1", ... at every size.
std::vector<std::string> Roots(int count, int rewritten = -1) {
  merkle::MerkleFrontier frontier;
  std::vector<std::string> roots = {frontier.Root()};
  for (int i = 0; i < count; ++i) {
    frontier.Append(merkle::LeafHash(i == rewritten ? "forged" : "e" + std::to_string(i)));
    roots.push_back(frontier.Root());
  }
  return roots;
}

SignedTreeHead Witness(const HeadSigner& signer, uint64_t size, const std::string& root) {
  return signer.Sign(TreeHead{size, 1720569600000000, root});
}

TEST(HeadWitnessTest, RoundTripsAndReplacesAtomically) {
  TempDir dir;
  auto signer = HeadSigner::LoadOrCreate(dir.Sub("key"));
  ASSERT_TRUE(signer.ok());
  const std::string path = dir.Sub("head.witness");
  auto missing = ReadHeadWitness(path);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  std::vector<std::string> roots = Roots(10);
  SignedTreeHead first = Witness(**signer, 5, roots[5]);
  ASSERT_THAT(WriteHeadWitness(path, first), IsOk());
  SignedTreeHead second = Witness(**signer, 10, roots[10]);
  ASSERT_THAT(WriteHeadWitness(path, second), IsOk());
  auto read = ReadHeadWitness(path);
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, second);
  EXPECT_TRUE(VerifyTreeHead(**read, (*signer)->public_key()));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(HeadWitnessTest, AMalformedFileIsDataLoss) {
  TempDir dir;
  const std::string path = dir.Sub("head.witness");
  std::ofstream(path) << "sakip-ledger head witness v1\ntree_size twelve\n";
  EXPECT_THAT(ReadHeadWitness(path).status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tree_size")));
  std::ofstream(path) << "something else\n";
  EXPECT_THAT(ReadHeadWitness(path).status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("first line")));
}

TEST(HeadWitnessTest, FindsARolledBackTruncatedOrRewrittenLog) {
  TempDir dir;
  auto signer = HeadSigner::LoadOrCreate(dir.Sub("key"));
  ASSERT_TRUE(signer.ok());
  const std::vector<std::string> honest = Roots(20);
  const SignedTreeHead witness = Witness(**signer, 12, honest[12]);
  auto roots_of = [](const std::vector<std::string>& roots) {
    return [&roots](uint64_t size) -> absl::StatusOr<std::string> { return roots.at(size); };
  };
  EXPECT_THAT(CheckAgainstWitness(witness, 12, roots_of(honest)), IsOk());
  EXPECT_THAT(CheckAgainstWitness(witness, 20, roots_of(honest)), IsOk());
  EXPECT_THAT(CheckAgainstWitness(witness, 11, roots_of(honest)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("restored from an older copy")));
  const std::vector<std::string> forked = Roots(20, /*rewritten=*/7);
  EXPECT_THAT(CheckAgainstWitness(witness, 20, roots_of(forked)),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("rewritten")));
}

}  // namespace
}  // namespace ledger
