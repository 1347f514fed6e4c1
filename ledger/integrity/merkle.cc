// RFC 9162 Merkle tree: the frontier, proofs from perfect nodes, verifiers.
// The proofs walk the RFC's recursion top-down in a loop and reverse what they
// collected, since the RFC lists the leaf-side hash first.
#include "ledger/integrity/merkle.h"

#include <algorithm>
#include <bit>

#include "absl/strings/str_cat.h"
#include "ledger/integrity/sha256.h"
#include "ledger/util/big_endian.h"
#include "ledger/util/status_macros.h"

namespace ledger::merkle {
namespace {

constexpr char kLeafPrefix[] = {0x00};
constexpr char kNodePrefix[] = {0x01};

// The largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) { return uint64_t{1} << (63 - std::countl_zero(n - 1)); }

// Right-shifts fn and sn together until fn's lowest bit is set or fn is 0.
void ShiftWhileEven(uint64_t& fn, uint64_t& sn) {
  while (fn != 0 && (fn & 1) == 0) {
    fn >>= 1;
    sn >>= 1;
  }
}

}  // namespace

const std::string& EmptyRoot() {
  static const std::string* root = new std::string(Sha256(""));
  return *root;
}

std::string LeafHash(std::string_view data) {
  return Sha256Parts({std::string_view(kLeafPrefix, 1), data});
}

std::string NodeHash(std::string_view left, std::string_view right) {
  return Sha256Parts({std::string_view(kNodePrefix, 1), left, right});
}

std::vector<Node> MerkleFrontier::Append(std::string leaf_hash) {
  std::vector<Node> completed;
  nodes_.push_back(Node{0, size_, std::move(leaf_hash)});
  completed.push_back(nodes_.back());
  while (nodes_.size() >= 2 && nodes_[nodes_.size() - 1].level == nodes_[nodes_.size() - 2].level) {
    Node right = std::move(nodes_.back());
    nodes_.pop_back();
    Node& left = nodes_.back();
    left = Node{left.level + 1, left.index >> 1, NodeHash(left.hash, right.hash)};
    completed.push_back(left);
  }
  ++size_;
  return completed;
}

std::string MerkleFrontier::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  std::string root = nodes_.back().hash;
  for (size_t i = nodes_.size() - 1; i-- > 0;) root = NodeHash(nodes_[i].hash, root);
  return root;
}

std::string MerkleFrontier::Serialize() const {
  std::string out;
  PutBigEndian64(&out, size_);
  for (const Node& node : nodes_) out += node.hash;
  return out;
}

absl::StatusOr<MerkleFrontier> MerkleFrontier::Parse(std::string_view bytes) {
  if (bytes.size() < 8) return absl::DataLossError("merkle frontier: shorter than its size field");
  MerkleFrontier frontier;
  frontier.size_ = GetBigEndian64(bytes);
  const size_t count = static_cast<size_t>(std::popcount(frontier.size_));
  if (bytes.size() != 8 + count * kHashBytes) {
    return absl::DataLossError(absl::StrCat("merkle frontier: ", bytes.size(), " bytes for size ",
                                            frontier.size_, " (expected ", 8 + count * kHashBytes, ")"));
  }
  uint64_t start = 0;
  size_t offset = 8;
  for (int level = 63; level >= 0; --level) {
    if ((frontier.size_ >> level & 1) == 0) continue;
    frontier.nodes_.push_back(Node{level, start >> level, std::string(bytes.substr(offset, kHashBytes))});
    start += uint64_t{1} << level;
    offset += kHashBytes;
  }
  return frontier;
}

absl::StatusOr<std::string> SparseNodeSource::PerfectNode(int level, uint64_t index) {
  if (level >= kStoredNodeLevel) return stored_(level, index);
  const uint64_t width = uint64_t{1} << level;
  ASSIGN_OR_RETURN(std::vector<std::string> hashes, leaf_hashes_(index * width, (index + 1) * width));
  if (hashes.size() != width) {
    return absl::DataLossError(absl::StrCat("merkle: ", hashes.size(), " leaf hashes for node ", level, "/", index));
  }
  // Pairs up each level in place: after round r, hashes[i] for i < width >> r
  // holds the node of level r.
  for (uint64_t count = width; count > 1; count /= 2) {
    for (uint64_t i = 0; i < count / 2; ++i) hashes[i] = NodeHash(hashes[2 * i], hashes[2 * i + 1]);
  }
  return std::move(hashes[0]);
}

absl::StatusOr<std::string> RangeHash(NodeSource& source, uint64_t begin, uint64_t end) {
  if (end <= begin) {
    return absl::InvalidArgumentError(absl::StrCat("range [", begin, ", ", end, ") is empty"));
  }
  const uint64_t size = end - begin;
  const uint64_t largest = std::bit_floor(size);
  if (begin % largest != 0) {
    return absl::InvalidArgumentError(absl::StrCat("range [", begin, ", ", end, ") is not a subtree"));
  }
  std::vector<std::string> parts;
  uint64_t position = begin;
  for (int level = 63; level >= 0; --level) {
    if ((size >> level & 1) == 0) continue;
    ASSIGN_OR_RETURN(std::string hash, source.PerfectNode(level, position >> level));
    parts.push_back(std::move(hash));
    position += uint64_t{1} << level;
  }
  std::string hash = std::move(parts.back());
  for (size_t i = parts.size() - 1; i-- > 0;) hash = NodeHash(parts[i], hash);
  return hash;
}

absl::StatusOr<std::vector<std::string>> InclusionProof(NodeSource& source, uint64_t index, uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(absl::StrCat("leaf index ", index, " is not below the tree size ", size));
  }
  std::vector<std::string> proof;
  uint64_t start = 0;
  uint64_t count = size;
  uint64_t leaf = index;
  while (count > 1) {
    const uint64_t k = SplitPoint(count);
    if (leaf < k) {
      ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, start + k, start + count));
      proof.push_back(std::move(sibling));
      count = k;
    } else {
      ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, start, start + k));
      proof.push_back(std::move(sibling));
      start += k;
      leaf -= k;
      count -= k;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(NodeSource& source, uint64_t old_size,
                                                          uint64_t new_size) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("old tree size ", old_size, " is above the new tree size ", new_size));
  }
  if (old_size == 0 || old_size == new_size) return std::vector<std::string>();
  std::vector<std::string> siblings;
  std::vector<std::string> proof;
  uint64_t start = 0;
  uint64_t count = new_size;
  uint64_t m = old_size;
  bool whole_old_tree = true;  // the RFC's b: the old tree is the subtree itself
  while (m != count) {
    const uint64_t k = SplitPoint(count);
    if (m <= k) {
      ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, start + k, start + count));
      siblings.push_back(std::move(sibling));
      count = k;
    } else {
      ASSIGN_OR_RETURN(std::string sibling, RangeHash(source, start, start + k));
      siblings.push_back(std::move(sibling));
      start += k;
      m -= k;
      count -= k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) {
    ASSIGN_OR_RETURN(std::string subtree, RangeHash(source, start, start + count));
    proof.push_back(std::move(subtree));
  }
  proof.insert(proof.end(), siblings.rbegin(), siblings.rend());
  return proof;
}

bool VerifyInclusion(std::string_view leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<std::string>& proof, std::string_view root) {
  if (index >= size) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, std::string_view old_root,
                       std::string_view new_root, const std::vector<std::string>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  if (proof.empty()) return false;
  std::vector<std::string> path;
  if (std::has_single_bit(old_size)) path.push_back(std::string(old_root));
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0];
  std::string sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) ShiftWhileEven(fn, sn);
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace ledger::merkle
