// Signed tree heads: the size and Merkle root of the global log at a moment,
// signed with the server's Ed25519 key (libsodium), so that a client can keep
// the last head it verified and refuse a server that later shows a smaller or
// inconsistent tree (a rollback or a fork), as Certificate Transparency does.
//
// What is signed is a fixed, versioned byte string (never a re-serialized
// protobuf):
//
//   "sakip-ledger/tree-head/v1" 0x00 || tree_size:u64 || timestamp_micros:i64 || root_hash:32
//
// integers big-endian. The key file holds libsodium's 64-byte Ed25519 secret
// key (seed and public key), mode 0600; the server creates it on first start
// and refuses to use one that others can read.
//
// Thread-safety: HeadSigner is immutable after LoadOrCreate; Sign is
// thread-safe. The free functions are pure.
#ifndef LEDGER_INTEGRITY_TREE_HEAD_H_
#define LEDGER_INTEGRITY_TREE_HEAD_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ledger {

inline constexpr size_t kEd25519PublicKeyBytes = 32;
inline constexpr size_t kEd25519SignatureBytes = 64;

struct TreeHead {
  uint64_t tree_size = 0;
  int64_t timestamp_micros = 0;
  std::string root_hash;  // 32 bytes

  bool operator==(const TreeHead&) const = default;
};

struct SignedTreeHead {
  TreeHead head;
  std::string key_id;     // hex of the first 8 bytes of SHA-256(public key)
  std::string signature;  // 64 bytes, Ed25519 over TreeHeadSigningInput(head)

  bool operator==(const SignedTreeHead&) const = default;
};

// The exact bytes a tree head's signature covers (see the file comment).
std::string TreeHeadSigningInput(const TreeHead& head);

// "3f2a..." (16 hex digits): names a public key in messages and heads.
std::string KeyIdOf(std::string_view public_key);

// True when `signed_head` carries a valid signature by `public_key` over its
// head, and names that key.
bool VerifyTreeHead(const SignedTreeHead& signed_head, std::string_view public_key);

class HeadSigner {
 public:
  // Loads the key from `key_path`, or creates a new key pair there (mode
  // 0600, written atomically) when the file does not exist, and writes the
  // public key, hex, to `key_path` + ".pub". FailedPrecondition when the file
  // is readable by others or is not a key; Internal when libsodium cannot start.
  static absl::StatusOr<std::unique_ptr<HeadSigner>> LoadOrCreate(const std::string& key_path);
  ~HeadSigner();

  HeadSigner(const HeadSigner&) = delete;
  HeadSigner& operator=(const HeadSigner&) = delete;

  const std::string& public_key() const { return public_key_; }
  const std::string& key_id() const { return key_id_; }
  SignedTreeHead Sign(const TreeHead& head) const;

 private:
  HeadSigner() = default;
  std::string secret_key_;  // 64 bytes; wiped in the destructor
  std::string public_key_;
  std::string key_id_;
};

}  // namespace ledger

#endif  // LEDGER_INTEGRITY_TREE_HEAD_H_
