// The Merkle tree of the global log, as RFC 9162 (Certificate Transparency
// 2.0, section 2.1) defines it, over the leaf hashes of the events in
// position order:
//
//   MTH({})      = SHA-256()
//   leaf hash    = SHA-256(0x00 || leaf data)
//   MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])),
//                  k the largest power of two smaller than n.
//
// Every node is stored or computed as a *perfect* subtree: node (level, index)
// covers leaves [index * 2^level, (index + 1) * 2^level). MerkleFrontier keeps
// the perfect subtrees along the right edge (at most 64 hashes), so that
// appending a leaf is O(log n) and names the nodes it completes (to be written
// in the same batch as the event); the root at any size is the fold of the
// frontier. Proofs read perfect nodes through a NodeSource; the verifiers are
// the algorithms of RFC 9162 sections 2.1.3.2 and 2.1.4.2, which need nothing
// but the proof and the hashes.
//
// Thread-safety: free functions are pure; a MerkleFrontier is a value type.
#ifndef LEDGER_INTEGRITY_MERKLE_H_
#define LEDGER_INTEGRITY_MERKLE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace ledger::merkle {

// SHA-256 of the empty string: the root of the empty tree.
const std::string& EmptyRoot();
// SHA-256(0x00 || data).
std::string LeafHash(std::string_view data);
// SHA-256(0x01 || left || right).
std::string NodeHash(std::string_view left, std::string_view right);

// A perfect subtree: leaves [index << level, (index + 1) << level).
struct Node {
  int level = 0;
  uint64_t index = 0;
  std::string hash;

  bool operator==(const Node&) const = default;
};

// The right edge of a tree of size() leaves: one perfect subtree per set bit
// of size(), largest (leftmost) first.
class MerkleFrontier {
 public:
  MerkleFrontier() = default;

  // Appends the leaf with hash `leaf_hash`; returns the perfect nodes it
  // completes, bottom-up (the leaf itself first, at level 0).
  std::vector<Node> Append(std::string leaf_hash);

  uint64_t size() const { return size_; }
  // MTH of the size() leaves.
  std::string Root() const;
  const std::vector<Node>& nodes() const { return nodes_; }

  // Serialized as size:u64 followed by the hashes (big-endian, largest first),
  // for storing next to the log's head; Parse checks the shape.
  std::string Serialize() const;
  static absl::StatusOr<MerkleFrontier> Parse(std::string_view bytes);

 private:
  uint64_t size_ = 0;
  std::vector<Node> nodes_;
};

// Where proofs read perfect nodes from (the store's node family, or a test's
// memory). Node(level, index) must exist for every perfect subtree inside the
// tree size asked for; NotFound / DataLoss otherwise.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  virtual absl::StatusOr<std::string> PerfectNode(int level, uint64_t index) = 0;
};

// A NodeSource for a store that keeps only the perfect nodes at levels
// >= kStoredNodeLevel (one node per 16 leaves: a sixteenth of a write per
// event instead of one or two) and computes the lower ones from the leaf
// hashes, which it derives from what the log already holds (the events'
// hashes). A proof then reads O(log n) stored nodes and at most
// 2^kStoredNodeLevel leaves per lower node it needs.
inline constexpr int kStoredNodeLevel = 4;

// Which nodes a frontier completes that a sparse store keeps.
inline bool IsStoredNode(const Node& node) { return node.level >= kStoredNodeLevel; }

class SparseNodeSource : public NodeSource {
 public:
  // `stored(level, index)` for levels >= kStoredNodeLevel; `leaf_hashes(begin,
  // end)` the leaf hashes of leaves [begin, end), in order.
  using StoredLookup = absl::FunctionRef<absl::StatusOr<std::string>(int level, uint64_t index)>;
  using LeafLookup = absl::FunctionRef<absl::StatusOr<std::vector<std::string>>(uint64_t begin, uint64_t end)>;
  SparseNodeSource(StoredLookup stored, LeafLookup leaf_hashes) : stored_(stored), leaf_hashes_(leaf_hashes) {}
  absl::StatusOr<std::string> PerfectNode(int level, uint64_t index) override;

 private:
  StoredLookup stored_;
  LeafLookup leaf_hashes_;
};

// MTH of the leaves [begin, end) taken as a tree of their own. The range must
// be one that RFC 9162's recursion produces: begin a multiple of the largest
// power of two <= end - begin. InvalidArgument otherwise.
absl::StatusOr<std::string> RangeHash(NodeSource& source, uint64_t begin, uint64_t end);

// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 9162
// 2.1.3.1, PATH), leaf-side first. InvalidArgument unless index < size.
absl::StatusOr<std::vector<std::string>> InclusionProof(NodeSource& source, uint64_t index, uint64_t size);

// The consistency proof between the trees of `old_size` and `new_size` leaves
// (RFC 9162 2.1.4.1, PROOF). Empty when old_size is 0 or equal to new_size.
// InvalidArgument unless old_size <= new_size.
absl::StatusOr<std::vector<std::string>> ConsistencyProof(NodeSource& source, uint64_t old_size,
                                                          uint64_t new_size);

// RFC 9162 2.1.3.2: true when `proof` shows the leaf with `leaf_hash` at
// `index` in the tree of `size` leaves whose root is `root`.
bool VerifyInclusion(std::string_view leaf_hash, uint64_t index, uint64_t size,
                     const std::vector<std::string>& proof, std::string_view root);

// RFC 9162 2.1.4.2: true when `proof` shows that the tree of `old_size`
// leaves with root `old_root` is a prefix of the tree of `new_size` leaves
// with root `new_root`. Equal sizes need equal roots and an empty proof; an
// empty old tree is a prefix of every tree (its root must be EmptyRoot()).
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, std::string_view old_root,
                       std::string_view new_root, const std::vector<std::string>& proof);

}  // namespace ledger::merkle

#endif  // LEDGER_INTEGRITY_MERKLE_H_
