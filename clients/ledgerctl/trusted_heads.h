// The inspector's side of signed tree heads: the public key the inspector
// trusts, the store of the last head verified with it, and the check of a
// server's new head against that store (docs/INSPECTORS.md, "Checking the
// ledger yourself").
//
// A signed head ("the first N events have Merkle root R", signed by the
// server's Ed25519 key) is only worth something if the client remembers it:
// a later head must be signed by the same key and extend it (RFC 9162
// consistency proof), or the server has rolled its log back or shown this
// client a different history (a fork). So the client keeps, per server key,
// the last head it verified, in
//
//   <trust dir>/<key_id>.head     (default trust dir: $HOME/.sakip-ledger/trusted-heads)
//
// in exactly the head-witness format of ledger/integrity/head_witness.h
// (the Python client reads and writes the same files). A head replaces the
// stored one only once it is verified; a refusal never touches the store.
//
// Thread-safety: one process at a time per trust directory (the write is
// atomic, but two concurrent checks may each store their own head).
#ifndef CLIENTS_LEDGERCTL_TRUSTED_HEADS_H_
#define CLIENTS_LEDGERCTL_TRUSTED_HEADS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/integrity/tree_head.h"

namespace ledgerctl {

// $HOME/.sakip-ledger/trusted-heads; empty when HOME is not set.
std::string DefaultTrustDir();

// The trusted Ed25519 public key (32 bytes) from `file_or_hex`: the server's
// ".pub" file (64 hex digits, whitespace around them allowed) or the 64 hex
// digits themselves. InvalidArgument saying which it was and what is wrong.
absl::StatusOr<std::string> ParsePublicKeyArg(const std::string& file_or_hex);

// A head this client verified, and when it stored it (the file's time).
struct TrustedHead {
  ledger::SignedTreeHead signed_head;
  absl::Time verified_at;
};

// One file per server key in a directory the store creates (mode 0700).
class TrustStore {
 public:
  explicit TrustStore(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }
  std::string PathFor(const std::string& key_id) const;

  // The last head verified with the key `key_id`, nullopt when there is none.
  // DataLoss naming the file when it is not a head witness.
  absl::StatusOr<std::optional<TrustedHead>> Load(const std::string& key_id) const;

  // Replaces the head of its key, atomically and synced (creating the
  // directory, 0700, when it does not exist).
  absl::Status Store(const ledger::SignedTreeHead& head) const;

 private:
  std::string dir_;
};

// A head as the server answered it, before any check.
struct FetchedHead {
  ledger::SignedTreeHead signed_head;
  uint64_t recorded_at_position = 0;  // of its "TreeHeadSigned" event
};

// What the check asks of the server: ledgerctl's implementation calls
// AuditService over gRPC (and throws CliError when a call fails, like every
// call of ledgerctl); the tests use a fake.
class HeadFetcher {
 public:
  virtual ~HeadFetcher() = default;
  virtual FetchedHead SignedHead(bool sign_now) = 0;
  // RFC 9162 PROOF between the trees of old_size and new_size events.
  virtual std::vector<std::string> ConsistencyProof(uint64_t old_size, uint64_t new_size) = 0;
};

// How a verified head relates to the one stored before it.
enum class HeadRelation {
  kFirst,    // nothing stored for this key yet
  kSame,     // the same tree (size and root) as the stored head
  kExtends,  // a larger tree, proven to extend the stored one
};

// Why a head was refused. Every refusal leaves the store as it was.
enum class Refusal {
  kBadSignature,  // not signed by the trusted key (or names another key, or is malformed)
  kRollback,      // a smaller tree than the stored head's
  kFork,          // same size with another root, or a larger tree that does not extend it
};

// "bad signature", "rollback", "fork".
std::string RefusalName(Refusal refusal);

struct HeadCheck {
  FetchedHead fetched;
  std::optional<Refusal> refusal;      // set when refused
  std::string message;                 // the refusal, starting with its name ("rollback: ...")
  HeadRelation relation = HeadRelation::kFirst;  // when accepted
  std::optional<TrustedHead> previous;  // the stored head it was checked against
  std::string trust_file;              // where the head of this key is kept

  bool accepted() const { return !refusal.has_value(); }
};

// Fetches the server's signed head; verifies its signature with
// `public_key` (and that its key_id names that key); checks it against the
// stored head of that key: a smaller tree is a rollback, the same size with
// another root a fork, a larger tree must come with a consistency proof that
// verifies against the two SIGNED roots (never roots the server sends next to
// the proof), else it is a fork. Stores the head only when it is accepted
// and differs from the stored one. The Status is not OK only when the store
// cannot be read or written.
absl::StatusOr<HeadCheck> CheckSignedHead(HeadFetcher& fetcher, std::string_view public_key,
                                          const TrustStore& store, bool sign_now);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_TRUSTED_HEADS_H_
