// Fuzz target: the RocksDB keys and values the ledger reads back
// (ledger/store/keys.h), the stored Merkle frontier, and the Merkle proof
// checks that take proofs from outside (ledger/integrity/merkle.h).
//
// Input: a selector byte, then the bytes.
//   0..7: one kind of stored key or value (event key, stream key, position,
//         id entry, by_time key, merkle node key, head; then the frontier):
//         an accepted one encodes back to the same bytes.
//   8:    proofs. A real tree of 1..64 leaves is built from the input; its
//         true proofs must verify, and a proof, index, size or root taken from
//         the rest of the input must not verify unless it is the true one
//         (a proof with trailing or missing hashes is refused).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/keys.h"

namespace {

namespace keys = ledger::keys;
namespace merkle = ledger::merkle;

// The perfect nodes of a tree held in memory, computed from its leaves.
class MemoryNodes : public merkle::NodeSource {
 public:
  explicit MemoryNodes(std::vector<std::string> leaves) : leaves_(std::move(leaves)) {}
  absl::StatusOr<std::string> PerfectNode(int level, uint64_t index) override {
    const uint64_t width = uint64_t{1} << level;
    if ((index + 1) * width > leaves_.size()) return absl::NotFoundError("outside the tree");
    return Hash(level, index);
  }

 private:
  std::string Hash(int level, uint64_t index) {
    if (level == 0) return leaves_[index];
    return merkle::NodeHash(Hash(level - 1, 2 * index), Hash(level - 1, 2 * index + 1));
  }
  std::vector<std::string> leaves_;
};

uint64_t Uint64At(std::string_view bytes, size_t offset) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) {
    value = value << 8 | (offset + i < bytes.size() ? static_cast<unsigned char>(bytes[offset + i]) : 0);
  }
  return value;
}

// Splits `bytes` into 32-byte hashes (the last one may be short: a malformed proof).
std::vector<std::string> Hashes(std::string_view bytes) {
  std::vector<std::string> hashes;
  for (size_t at = 0; at < bytes.size(); at += 32) hashes.emplace_back(bytes.substr(at, 32));
  return hashes;
}

void CheckProofs(std::string_view bytes) {
  if (bytes.size() < 3) return;
  const uint64_t size = static_cast<unsigned char>(bytes[0]) % 64 + 1;
  const uint64_t index = static_cast<unsigned char>(bytes[1]) % size;
  const uint64_t old_size = static_cast<unsigned char>(bytes[2]) % (size + 1);
  std::string_view rest = bytes.substr(3);

  std::vector<std::string> leaves;
  for (uint64_t i = 0; i < size; ++i) leaves.push_back(merkle::LeafHash(absl::StrCat("leaf ", i)));
  merkle::MerkleFrontier frontier;
  merkle::MerkleFrontier old_frontier;
  for (uint64_t i = 0; i < size; ++i) {
    frontier.Append(leaves[i]);
    if (i < old_size) old_frontier.Append(leaves[i]);
  }
  const std::string root = frontier.Root();
  const std::string old_root = old_frontier.Root();
  MemoryNodes nodes(leaves);
  absl::StatusOr<std::string> range_root = merkle::RangeHash(nodes, 0, size);
  FUZZ_CHECK(range_root.ok() && *range_root == root, "the frontier's root is the tree's root");

  absl::StatusOr<std::vector<std::string>> proof = merkle::InclusionProof(nodes, index, size);
  FUZZ_CHECK(proof.ok(), proof.status().ToString());
  FUZZ_CHECK(merkle::VerifyInclusion(leaves[index], index, size, *proof, root),
             absl::StrCat("the true inclusion proof of ", index, " in ", size, " fails"));
  absl::StatusOr<std::vector<std::string>> consistency = merkle::ConsistencyProof(nodes, old_size, size);
  FUZZ_CHECK(consistency.ok(), consistency.status().ToString());
  FUZZ_CHECK(merkle::VerifyConsistency(old_size, size, old_root, root, *consistency),
             absl::StrCat("the true consistency proof ", old_size, " -> ", size, " fails"));

  // A claimed proof from the input, for a leaf, index and size also from it.
  const std::vector<std::string> claimed = Hashes(rest.size() > 16 ? rest.substr(16) : std::string_view());
  const uint64_t claimed_index = Uint64At(rest, 0);
  const uint64_t claimed_size = Uint64At(rest, 8);
  for (uint64_t leaf = 0; leaf < size; ++leaf) {
    if (merkle::VerifyInclusion(leaves[leaf], claimed_index, claimed_size, claimed, root)) {
      FUZZ_CHECK(claimed_index == leaf && claimed_size == size && claimed == *merkle::InclusionProof(nodes, leaf, size),
                 absl::StrCat("a forged inclusion proof of leaf ", leaf, " at ", claimed_index, " in ",
                              claimed_size, " verifies"));
    }
  }
  if (merkle::VerifyInclusion(leaves[index], index, size, claimed, root)) {
    FUZZ_CHECK(claimed == *proof, "a proof other than the true one verifies");
  }
  if (merkle::VerifyConsistency(old_size, size, old_root, root, claimed)) {
    FUZZ_CHECK(claimed == *consistency,
               absl::StrCat("a consistency proof other than the true one verifies (", old_size, " -> ", size, ")"));
  }
  const uint64_t claimed_old = claimed_index;
  if (claimed_old <= size && claimed_old != old_size &&
      merkle::VerifyConsistency(claimed_old, size, old_root, root, claimed)) {
    FUZZ_CHECK(false, absl::StrCat("the tree of ", old_size, " verifies as the old tree of size ", claimed_old));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t selector = data[0] % 9;
  const std::string_view bytes = fuzz::AsText(data + 1, size - 1);
  switch (selector) {
    case 0:
      if (auto position = keys::ParseEventKey(bytes)) FUZZ_CHECK(keys::EventKey(*position) == bytes, "event key");
      break;
    case 1:
      if (auto parts = keys::ParseStreamKey(bytes)) {
        FUZZ_CHECK(keys::StreamKey(parts->stream_id, parts->version) == bytes, "stream key");
        FUZZ_CHECK(bytes < keys::StreamUpperBound(parts->stream_id), "stream upper bound");
      }
      break;
    case 2:
      if (auto position = keys::ParsePositionValue(bytes)) {
        FUZZ_CHECK(keys::PositionValue(*position) == bytes, "position value");
      }
      break;
    case 3:
      if (auto entry = keys::ParseIdValue(bytes)) FUZZ_CHECK(keys::IdValue(*entry) == bytes, "id value");
      break;
    case 4:
      if (auto micros = keys::ParseByTimeKey(bytes)) FUZZ_CHECK(keys::ByTimeKey(*micros) == bytes, "by_time key");
      break;
    case 5:
      if (auto parts = keys::ParseMerkleNodeKey(bytes)) {
        FUZZ_CHECK(keys::MerkleNodeKey(parts->level, parts->index) == bytes, "merkle node key");
      }
      if (auto bound = keys::PrefixUpperBound(bytes)) {
        FUZZ_CHECK(bytes < *bound && bound->compare(0, bytes.size(), bytes) != 0, "prefix upper bound");
      }
      break;
    case 6:
      if (auto head = keys::ParseHead(bytes)) FUZZ_CHECK(keys::EncodeHead(*head) == bytes, "head");
      break;
    case 7: {
      absl::StatusOr<merkle::MerkleFrontier> frontier = merkle::MerkleFrontier::Parse(bytes);
      if (!frontier.ok()) {
        FUZZ_CHECK(absl::IsDataLoss(frontier.status()), frontier.status().ToString());
        break;
      }
      FUZZ_CHECK(frontier->Serialize() == bytes, "a parsed frontier serializes to its bytes");
      (void)frontier->Root();
      if (frontier->size() < UINT64_MAX) {
        frontier->Append(merkle::LeafHash("next"));
        absl::StatusOr<merkle::MerkleFrontier> again = merkle::MerkleFrontier::Parse(frontier->Serialize());
        FUZZ_CHECK(again.ok() && again->nodes() == frontier->nodes() && again->size() == frontier->size(),
                   "an appended frontier parses back");
      }
      break;
    }
    case 8:
      CheckProofs(bytes);
      break;
  }
  return 0;
}
