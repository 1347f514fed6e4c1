// RFC 9162 Merkle tree: known vectors (computed independently by
// testdata/merkle_vectors.py from the RFC's definitions), and for every tree
// size up to 1,000 the frontier's root, the inclusion and consistency proofs
// against a naive recursive computation of MTH, PATH and PROOF (written here
// from the RFC's text, recursion allowed in a test), and the verifiers'
// refusals of wrong roots, indexes and proofs.
#include "ledger/integrity/merkle.h"

#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/integrity/sha256.h"

namespace ledger::merkle {
namespace {

std::string Hex(const std::string& bytes) { return HexEncode(bytes); }
std::string Bytes(const std::string& hex) { return absl::HexStringToBytes(hex); }

// The eight leaves of the Certificate Transparency test suite.
std::vector<std::string> CtLeaves() {
  std::vector<std::string> leaves;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    leaves.push_back(Bytes(hex));
  }
  return leaves;
}

// Perfect nodes as the store keeps them: every node a frontier completes.
class MemoryTree : public NodeSource {
 public:
  void Append(const std::string& leaf_data) {
    leaf_hashes_.push_back(LeafHash(leaf_data));
    for (Node& node : frontier_.Append(leaf_hashes_.back())) {
      nodes_[{node.level, node.index}] = std::move(node.hash);
    }
  }
  absl::StatusOr<std::string> PerfectNode(int level, uint64_t index) override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return absl::NotFoundError(absl::StrCat("node ", level, "/", index));
    return it->second;
  }
  const MerkleFrontier& frontier() const { return frontier_; }
  const std::vector<std::string>& leaf_hashes() const { return leaf_hashes_; }

 private:
  MerkleFrontier frontier_;
  std::vector<std::string> leaf_hashes_;
  std::map<std::pair<int, uint64_t>, std::string> nodes_;
};

uint64_t NaiveSplit(uint64_t n) {
  uint64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH over leaf hashes [begin, end).
std::string NaiveMth(const std::vector<std::string>& hashes, uint64_t begin, uint64_t end) {
  if (end == begin) return Sha256("");
  if (end - begin == 1) return hashes[begin];
  const uint64_t k = NaiveSplit(end - begin);
  return NodeHash(NaiveMth(hashes, begin, begin + k), NaiveMth(hashes, begin + k, end));
}

std::vector<std::string> NaivePath(const std::vector<std::string>& hashes, uint64_t m, uint64_t begin,
                                   uint64_t end) {
  if (end - begin == 1) return {};
  const uint64_t k = NaiveSplit(end - begin);
  std::vector<std::string> path;
  if (m < k) {
    path = NaivePath(hashes, m, begin, begin + k);
    path.push_back(NaiveMth(hashes, begin + k, end));
  } else {
    path = NaivePath(hashes, m - k, begin + k, end);
    path.push_back(NaiveMth(hashes, begin, begin + k));
  }
  return path;
}

std::vector<std::string> NaiveSubproof(const std::vector<std::string>& hashes, uint64_t m, uint64_t begin,
                                       uint64_t end, bool whole) {
  if (m == end - begin) return whole ? std::vector<std::string>{} : std::vector<std::string>{NaiveMth(hashes, begin, end)};
  const uint64_t k = NaiveSplit(end - begin);
  std::vector<std::string> proof;
  if (m <= k) {
    proof = NaiveSubproof(hashes, m, begin, begin + k, whole);
    proof.push_back(NaiveMth(hashes, begin + k, end));
  } else {
    proof = NaiveSubproof(hashes, m - k, begin + k, end, false);
    proof.push_back(NaiveMth(hashes, begin, begin + k));
  }
  return proof;
}

std::vector<std::string> Hexes(const std::vector<std::string>& hashes) {
  std::vector<std::string> out;
  for (const std::string& hash : hashes) out.push_back(Hex(hash));
  return out;
}

TEST(MerkleTest, RootsOfTheCtLeavesMatchTheIndependentVectors) {
  const std::vector<std::pair<int, std::string>> roots = {
      {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
      {2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"},
      {3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"},
      {4, "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"},
      {5, "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"},
      {6, "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"},
      {7, "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"},
      {8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"}};
  MemoryTree tree;
  const std::vector<std::string> leaves = CtLeaves();
  for (const auto& [size, root] : roots) {
    if (size > 0) tree.Append(leaves[size - 1]);
    EXPECT_EQ(Hex(tree.frontier().Root()), root) << "size " << size;
  }
  EXPECT_EQ(Hex(EmptyRoot()), roots[0].second);
}

TEST(MerkleTest, ProofsOfTheCtLeavesMatchTheIndependentVectors) {
  MemoryTree tree;
  for (const std::string& leaf : CtLeaves()) tree.Append(leaf);
  auto path = InclusionProof(tree, 5, 8);
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_THAT(Hexes(*path), ::testing::ElementsAre(
                                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"));
  path = InclusionProof(tree, 3, 5);
  ASSERT_TRUE(path.ok());
  EXPECT_THAT(Hexes(*path), ::testing::ElementsAre(
                                "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                                "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"));
  auto proof = ConsistencyProof(tree, 3, 7);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_THAT(Hexes(*proof), ::testing::ElementsAre(
                                 "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                                 "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                                 "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                                 "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"));
  proof = ConsistencyProof(tree, 4, 7);
  ASSERT_TRUE(proof.ok());
  EXPECT_THAT(Hexes(*proof), ::testing::ElementsAre(
                                 "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"));
  proof = ConsistencyProof(tree, 6, 8);
  ASSERT_TRUE(proof.ok());
  EXPECT_THAT(Hexes(*proof), ::testing::ElementsAre(
                                 "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                                 "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                                 "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"));
}

TEST(MerkleTest, EverySizeUpToAThousandAgreesWithTheNaiveTree) {
  MemoryTree tree;
  for (uint64_t size = 1; size <= 1000; ++size) {
    tree.Append(absl::StrCat("event-", size));
    const std::vector<std::string>& hashes = tree.leaf_hashes();
    const std::string root = tree.frontier().Root();
    ASSERT_EQ(root, NaiveMth(hashes, 0, size)) << "size " << size;
    auto parsed = MerkleFrontier::Parse(tree.frontier().Serialize());
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    ASSERT_EQ(parsed->Root(), root);
    ASSERT_EQ(parsed->nodes(), tree.frontier().nodes());
    // Inclusion of a spread of leaves (all of them for small trees).
    const uint64_t step = size <= 64 ? 1 : size / 17 + 1;
    for (uint64_t index = 0; index < size; index += step) {
      auto proof = InclusionProof(tree, index, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      if (size <= 64) ASSERT_EQ(*proof, NaivePath(hashes, index, 0, size)) << index << "/" << size;
      ASSERT_TRUE(VerifyInclusion(hashes[index], index, size, *proof, root)) << index << "/" << size;
      if (size > 1) {
        ASSERT_FALSE(VerifyInclusion(hashes[(index + 1) % size], index, size, *proof, root));
        ASSERT_FALSE(VerifyInclusion(hashes[index], index ^ 1, size, *proof, root) && (index ^ 1) < size);
        ASSERT_FALSE(VerifyInclusion(hashes[index], index, size, *proof, NaiveMth(hashes, 0, size - 1)));
      }
    }
    // Consistency with a spread of older sizes (all of them for small trees).
    for (uint64_t old_size = 0; old_size <= size; old_size += size <= 64 ? 1 : size / 13 + 1) {
      auto proof = ConsistencyProof(tree, old_size, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      if (size <= 64 && old_size > 0 && old_size < size) {
        ASSERT_EQ(*proof, NaiveSubproof(hashes, old_size, 0, size, true)) << old_size << "->" << size;
      }
      const std::string old_root = NaiveMth(hashes, 0, old_size);
      ASSERT_TRUE(VerifyConsistency(old_size, size, old_root, root, *proof)) << old_size << "->" << size;
      if (old_size > 0 && old_size < size) {
        ASSERT_FALSE(VerifyConsistency(old_size, size, NaiveMth(hashes, 0, old_size - 1), root, *proof));
        ASSERT_FALSE(VerifyConsistency(old_size, size, old_root, NaiveMth(hashes, 0, size - 1), *proof));
        std::vector<std::string> tampered = *proof;
        tampered.back()[0] ^= 1;
        ASSERT_FALSE(VerifyConsistency(old_size, size, old_root, root, tampered));
      }
    }
  }
}

TEST(MerkleTest, AForkOrARewrittenLeafIsNotConsistent) {
  MemoryTree honest;
  MemoryTree forked;
  for (int i = 0; i < 40; ++i) {
    honest.Append(absl::StrCat("event-", i));
    forked.Append(i == 17 ? "rewritten" : absl::StrCat("event-", i));
  }
  const std::string old_root = NaiveMth(honest.leaf_hashes(), 0, 20);
  auto proof = ConsistencyProof(forked, 20, 40);
  ASSERT_TRUE(proof.ok());
  EXPECT_FALSE(VerifyConsistency(20, 40, old_root, forked.frontier().Root(), *proof));
  auto inclusion = InclusionProof(forked, 17, 40);
  ASSERT_TRUE(inclusion.ok());
  EXPECT_FALSE(VerifyInclusion(honest.leaf_hashes()[17], 17, 40, *inclusion, forked.frontier().Root()));
}

TEST(MerkleTest, ASparseStoreGivesTheSameProofs) {
  MemoryTree tree;
  std::map<std::pair<int, uint64_t>, std::string> stored;
  MerkleFrontier frontier;
  for (uint64_t size = 1; size <= 300; ++size) {
    tree.Append(absl::StrCat("event-", size));
    for (Node& node : frontier.Append(tree.leaf_hashes().back())) {
      if (IsStoredNode(node)) stored[{node.level, node.index}] = node.hash;
    }
  }
  auto stored_lookup = [&](int level, uint64_t index) -> absl::StatusOr<std::string> {
    auto it = stored.find({level, index});
    if (it == stored.end()) return absl::NotFoundError("not stored");
    return it->second;
  };
  auto leaves = [&](uint64_t begin, uint64_t end) -> absl::StatusOr<std::vector<std::string>> {
    return std::vector<std::string>(tree.leaf_hashes().begin() + begin, tree.leaf_hashes().begin() + end);
  };
  SparseNodeSource sparse(stored_lookup, leaves);
  EXPECT_LT(stored.size(), 300u / 8);
  for (uint64_t size = 1; size <= 300; size += 7) {
    for (uint64_t index = 0; index < size; index += 5) {
      auto full = InclusionProof(tree, index, size);
      auto from_sparse = InclusionProof(sparse, index, size);
      ASSERT_TRUE(full.ok() && from_sparse.ok()) << from_sparse.status();
      ASSERT_EQ(*full, *from_sparse) << index << "/" << size;
    }
    for (uint64_t old_size = 1; old_size < size; old_size += 11) {
      auto full = ConsistencyProof(tree, old_size, size);
      auto from_sparse = ConsistencyProof(sparse, old_size, size);
      ASSERT_TRUE(full.ok() && from_sparse.ok()) << from_sparse.status();
      ASSERT_EQ(*full, *from_sparse) << old_size << "->" << size;
    }
  }
}

TEST(MerkleTest, RefusesImpossibleRequestsAndMalformedFrontiers) {
  MemoryTree tree;
  for (int i = 0; i < 5; ++i) tree.Append(absl::StrCat(i));
  EXPECT_EQ(InclusionProof(tree, 5, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(tree, 6, 5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RangeHash(tree, 1, 3).status().code(), absl::StatusCode::kInvalidArgument);  // not a subtree
  EXPECT_EQ(InclusionProof(tree, 0, 9).status().code(), absl::StatusCode::kNotFound);   // beyond the tree
  EXPECT_FALSE(VerifyInclusion(tree.leaf_hashes()[0], 0, 0, {}, EmptyRoot()));
  EXPECT_FALSE(VerifyConsistency(3, 5, "a", "b", {}));
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyRoot(), tree.frontier().Root(), {}));
  EXPECT_FALSE(VerifyConsistency(0, 5, "not the empty root", tree.frontier().Root(), {}));
  EXPECT_EQ(MerkleFrontier::Parse("short").status().code(), absl::StatusCode::kDataLoss);
  std::string bytes = tree.frontier().Serialize();
  EXPECT_EQ(MerkleFrontier::Parse(bytes.substr(0, bytes.size() - 1)).status().code(), absl::StatusCode::kDataLoss);
  auto empty = MerkleFrontier::Parse(MerkleFrontier().Serialize());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->Root(), EmptyRoot());
}

}  // namespace
}  // namespace ledger::merkle
