// Unit tests of the client's trust store and head check (trusted_heads.h),
// with a fake server: real Ed25519 heads (a HeadSigner on a temporary key),
// real RFC 9162 trees and consistency proofs, and a fetcher that answers
// whatever head and proof a test gives it. Each refusal must name its kind
// and leave the store byte for byte as it was.
#include "clients/ledgerctl/trusted_heads.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/testing/temp_dir.h"

namespace ledgerctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string FileBytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// A log of `size` events whose leaves are "event 1", "event 2", ... with
// every perfect node kept, so that it can prove consistency between sizes.
// `variant` changes every leaf's content: two logs with different variants
// are two different histories.
class FakeLog : public ledger::merkle::NodeSource {
 public:
  explicit FakeLog(uint64_t size, const std::string& variant = "") {
    for (uint64_t i = 1; i <= size; ++i) {
      const std::string leaf = ledger::merkle::LeafHash(absl::StrCat(variant, "event ", i));
      for (ledger::merkle::Node& node : frontier_.Append(leaf)) nodes_[{node.level, node.index}] = node.hash;
    }
  }
  absl::StatusOr<std::string> PerfectNode(int level, uint64_t index) override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return absl::NotFoundError("no node");
    return it->second;
  }
  std::string Root() const { return frontier_.Root(); }
  uint64_t size() const { return frontier_.size(); }

 private:
  ledger::merkle::MerkleFrontier frontier_;
  std::map<std::pair<int, uint64_t>, std::string> nodes_;
};

// A server that answers a given signed head and proves consistency from a
// given log (or answers a given proof instead).
class FakeFetcher : public HeadFetcher {
 public:
  FetchedHead SignedHead(bool sign_now) override {
    last_sign_now = sign_now;
    return FetchedHead{head, head.head.tree_size + 1};
  }
  std::vector<std::string> ConsistencyProof(uint64_t old_size, uint64_t new_size) override {
    ++proofs_asked;
    asked_sizes = {old_size, new_size};
    if (forced_proof) return *forced_proof;
    absl::StatusOr<std::vector<std::string>> proof = ledger::merkle::ConsistencyProof(*log, old_size, new_size);
    EXPECT_TRUE(proof.ok()) << proof.status();
    return proof.ok() ? *proof : std::vector<std::string>{};
  }

  ledger::SignedTreeHead head;
  FakeLog* log = nullptr;
  std::optional<std::vector<std::string>> forced_proof;
  bool last_sign_now = false;
  int proofs_asked = 0;
  std::pair<uint64_t, uint64_t> asked_sizes;
};

class TrustedHeadsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto signer = ledger::HeadSigner::LoadOrCreate(dir_.path() + "/server.key");
    ASSERT_TRUE(signer.ok()) << signer.status();
    signer_ = *std::move(signer);
    store_ = std::make_unique<TrustStore>(dir_.path() + "/home/.sakip-ledger/trusted-heads");
  }

  // The server signs the head of `log` and answers it (with proofs from it).
  void Serve(FakeLog& log, int64_t timestamp_micros = 1'720'000'000'000'000) {
    fetcher_.log = &log;
    fetcher_.forced_proof.reset();
    fetcher_.head = signer_->Sign(ledger::TreeHead{log.size(), timestamp_micros, log.Root()});
  }

  HeadCheck Check(bool sign_now = false) {
    absl::StatusOr<HeadCheck> check = CheckSignedHead(fetcher_, signer_->public_key(), *store_, sign_now);
    EXPECT_TRUE(check.ok()) << check.status();
    return check.ok() ? *std::move(check) : HeadCheck{};
  }

  std::string TrustFile() const { return store_->PathFor(signer_->key_id()); }

  // Checks the head the fetcher answers, expects `refusal`, and that the
  // store is unchanged.
  HeadCheck ExpectRefused(Refusal refusal) {
    const std::string before = FileBytes(TrustFile());
    HeadCheck check = Check();
    EXPECT_FALSE(check.accepted());
    EXPECT_EQ(check.refusal, refusal) << check.message;
    EXPECT_EQ(FileBytes(TrustFile()), before) << "a refused head changed the store";
    return check;
  }

  ledger::testing::TempDir dir_;
  std::unique_ptr<ledger::HeadSigner> signer_;
  std::unique_ptr<TrustStore> store_;
  FakeFetcher fetcher_;
};

TEST_F(TrustedHeadsTest, TheFirstHeadIsStoredInAPrivateDirectoryInTheWitnessFormat) {
  FakeLog log(10);
  Serve(log);
  HeadCheck check = Check(/*sign_now=*/true);
  ASSERT_TRUE(check.accepted()) << check.message;
  EXPECT_TRUE(fetcher_.last_sign_now);
  EXPECT_EQ(check.relation, HeadRelation::kFirst);
  EXPECT_FALSE(check.previous.has_value());
  EXPECT_EQ(check.trust_file, TrustFile());
  EXPECT_EQ(fetcher_.proofs_asked, 0);
  auto witness = ledger::ReadHeadWitness(TrustFile());
  ASSERT_TRUE(witness.ok() && witness->has_value()) << witness.status();
  EXPECT_EQ(**witness, fetcher_.head);
  EXPECT_THAT(FileBytes(TrustFile()), StartsWith("sakip-ledger head witness v1\ntree_size 10\n"));
  struct stat info {};
  ASSERT_EQ(::stat(store_->dir().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((dir_.path() + "/home/.sakip-ledger").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
}

TEST_F(TrustedHeadsTest, ALargerTreeThatExtendsTheStoredOneIsAcceptedAndReplacesIt) {
  FakeLog small(10);
  Serve(small);
  ASSERT_TRUE(Check().accepted());
  for (uint64_t size : {11u, 16u, 17u, 1000u}) {
    FakeLog larger(size);
    Serve(larger, 1'720'000'000'000'000 + size);
    HeadCheck check = Check();
    ASSERT_TRUE(check.accepted()) << check.message;
    EXPECT_EQ(check.relation, HeadRelation::kExtends);
    ASSERT_TRUE(check.previous.has_value());
    EXPECT_EQ(fetcher_.asked_sizes.second, size);
    auto witness = ledger::ReadHeadWitness(TrustFile());
    ASSERT_TRUE(witness.ok() && witness->has_value());
    EXPECT_EQ((*witness)->head.tree_size, size);
  }
  // The same head again: accepted as the same tree, no proof needed.
  const int proofs = fetcher_.proofs_asked;
  HeadCheck again = Check();
  ASSERT_TRUE(again.accepted());
  EXPECT_EQ(again.relation, HeadRelation::kSame);
  EXPECT_EQ(fetcher_.proofs_asked, proofs);
}

TEST_F(TrustedHeadsTest, ASmallerTreeIsARollbackNamingBothSizes) {
  FakeLog large(20);
  Serve(large);
  ASSERT_TRUE(Check().accepted());
  FakeLog small(12);
  Serve(small, 1'730'000'000'000'000);
  HeadCheck check = ExpectRefused(Refusal::kRollback);
  EXPECT_THAT(check.message, StartsWith("rollback: the server's signed tree has 12 events, fewer than the head "
                                        "of 20 events you verified on "));
  EXPECT_THAT(check.message, HasSubstr(" WIB"));
  EXPECT_EQ(fetcher_.proofs_asked, 0);
}

TEST_F(TrustedHeadsTest, TheSameSizeWithAnotherRootIsAFork) {
  FakeLog mine(20);
  Serve(mine);
  ASSERT_TRUE(Check().accepted());
  FakeLog theirs(20, "rewritten ");
  Serve(theirs);
  HeadCheck check = ExpectRefused(Refusal::kFork);
  EXPECT_THAT(check.message, StartsWith("fork: the server's signed tree of 20 events has root "));
  EXPECT_THAT(check.message, HasSubstr(ledger::HexEncode(mine.Root())));
}

TEST_F(TrustedHeadsTest, ALargerTreeOfAnotherHistoryIsAForkEvenWithAValidSignature) {
  FakeLog mine(20);
  Serve(mine);
  ASSERT_TRUE(Check().accepted());
  FakeLog theirs(30, "rewritten ");  // its own proofs are valid for its own tree
  Serve(theirs);
  HeadCheck check = ExpectRefused(Refusal::kFork);
  EXPECT_THAT(check.message,
              StartsWith("fork: the server's tree of size 30 does not extend the one of size 20 you verified"));
  EXPECT_EQ(fetcher_.asked_sizes, (std::pair<uint64_t, uint64_t>{20, 30}));
}

TEST_F(TrustedHeadsTest, ABadConsistencyProofIsRefused) {
  FakeLog small(20);
  Serve(small);
  ASSERT_TRUE(Check().accepted());
  FakeLog larger(37);
  Serve(larger);
  auto good = ledger::merkle::ConsistencyProof(larger, 20, 37);
  ASSERT_TRUE(good.ok());
  ASSERT_FALSE(good->empty());
  // Each hash of the proof changed in one bit; then one hash missing; then
  // one too many; then no proof at all.
  for (size_t i = 0; i < good->size(); ++i) {
    std::vector<std::string> bad = *good;
    bad[i][0] ^= 1;
    fetcher_.forced_proof = bad;
    ExpectRefused(Refusal::kFork);
  }
  std::vector<std::string> shorter(good->begin(), good->end() - 1);
  std::vector<std::string> longer = *good;
  longer.push_back(small.Root());
  for (const auto& bad : {shorter, longer, std::vector<std::string>{}}) {
    fetcher_.forced_proof = bad;
    ExpectRefused(Refusal::kFork);
  }
  fetcher_.forced_proof = *good;
  EXPECT_TRUE(Check().accepted());
}

TEST_F(TrustedHeadsTest, ABadSignatureIsRefusedBeforeAnyComparison) {
  FakeLog log(8);
  Serve(log);
  ASSERT_TRUE(Check().accepted());
  FakeLog larger(9);
  Serve(larger);
  const ledger::SignedTreeHead good = fetcher_.head;

  fetcher_.head.signature[10] ^= 0x40;
  EXPECT_THAT(ExpectRefused(Refusal::kBadSignature).message,
              StartsWith("bad signature: the head of 9 events is not signed by key "));
  fetcher_.head = good;
  fetcher_.head.head.tree_size = 10;  // the signature covers the size
  ExpectRefused(Refusal::kBadSignature);
  fetcher_.head = good;
  fetcher_.head.head.timestamp_micros += 1;  // and the time
  ExpectRefused(Refusal::kBadSignature);
  fetcher_.head = good;
  fetcher_.head.head.root_hash[0] ^= 1;  // and the root
  ExpectRefused(Refusal::kBadSignature);
  fetcher_.head = good;
  fetcher_.head.signature.resize(63);
  EXPECT_THAT(ExpectRefused(Refusal::kBadSignature).message,
              HasSubstr("signed_head.signature has 63 bytes, expected 64"));
  fetcher_.head = good;
  fetcher_.head.head.root_hash.resize(31);
  EXPECT_THAT(ExpectRefused(Refusal::kBadSignature).message,
              HasSubstr("signed_head.root_hash has 31 bytes, expected 32"));
  EXPECT_EQ(fetcher_.proofs_asked, 0);

  // Signed by another key: refused, whatever key id it names.
  auto other = ledger::HeadSigner::LoadOrCreate(dir_.path() + "/other.key");
  ASSERT_TRUE(other.ok());
  fetcher_.head = (*other)->Sign(good.head);
  EXPECT_THAT(ExpectRefused(Refusal::kBadSignature).message, HasSubstr("not the key you trust"));
  fetcher_.head.key_id = signer_->key_id();
  ExpectRefused(Refusal::kBadSignature);
  fetcher_.head = good;
  EXPECT_TRUE(Check().accepted());
}

TEST_F(TrustedHeadsTest, AStoreFileThatNoLongerVerifiesIsAnErrorNotAComparison) {
  FakeLog log(8);
  Serve(log);
  ASSERT_TRUE(Check().accepted());
  ledger::SignedTreeHead edited = fetcher_.head;
  edited.head.tree_size = 2;  // someone lowers the stored size to let a rollback pass
  ASSERT_TRUE(ledger::WriteHeadWitness(TrustFile(), edited).ok());
  absl::StatusOr<HeadCheck> check = CheckSignedHead(fetcher_, signer_->public_key(), *store_, false);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(check.status().message()), HasSubstr(TrustFile()));

  std::ofstream(TrustFile()) << "not a head\n";
  check = CheckSignedHead(fetcher_, signer_->public_key(), *store_, false);
  ASSERT_FALSE(check.ok());
  EXPECT_EQ(check.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(TrustedHeadsTest, EachKeyHasItsOwnHead) {
  FakeLog log(8);
  Serve(log);
  ASSERT_TRUE(Check().accepted());
  auto other = ledger::HeadSigner::LoadOrCreate(dir_.path() + "/other.key");
  ASSERT_TRUE(other.ok());
  FakeLog small(3, "other server ");
  fetcher_.head = (*other)->Sign(ledger::TreeHead{3, 1, small.Root()});
  absl::StatusOr<HeadCheck> check = CheckSignedHead(fetcher_, (*other)->public_key(), *store_, false);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->accepted());
  EXPECT_EQ(check->relation, HeadRelation::kFirst);
  EXPECT_TRUE(std::filesystem::exists(store_->PathFor((*other)->key_id())));
  EXPECT_TRUE(std::filesystem::exists(TrustFile()));
}

TEST(PublicKeyArgTest, AcceptsThePubFileOrHexAndNamesWhatIsWrong) {
  ledger::testing::TempDir dir;
  auto signer = ledger::HeadSigner::LoadOrCreate(dir.path() + "/k");
  ASSERT_TRUE(signer.ok());
  auto from_file = ParsePublicKeyArg(dir.path() + "/k.pub");
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(*from_file, (*signer)->public_key());
  const std::string hex = ledger::HexEncode((*signer)->public_key());
  EXPECT_EQ(ParsePublicKeyArg(hex).value_or(""), (*signer)->public_key());
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(c));
  EXPECT_EQ(ParsePublicKeyArg(upper).value_or(""), (*signer)->public_key());

  auto missing = ParsePublicKeyArg(dir.path() + "/nope.pub");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(missing.status().message()), StartsWith("--public_key: "));
  EXPECT_FALSE(ParsePublicKeyArg(hex.substr(1)).ok());
  std::ofstream(dir.path() + "/short.pub") << hex.substr(2) << "\n";
  auto short_key = ParsePublicKeyArg(dir.path() + "/short.pub");
  EXPECT_THAT(std::string(short_key.status().message()), HasSubstr("does not hold 64 hex digits"));
  // The secret key file is not a public key.
  EXPECT_FALSE(ParsePublicKeyArg(dir.path() + "/k").ok());
}

}  // namespace
}  // namespace ledgerctl
