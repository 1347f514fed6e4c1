// Ed25519 tree-head signatures with libsodium, and the key file.
#include "ledger/integrity/tree_head.h"

#include <sodium.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ledger/integrity/sha256.h"
#include "ledger/util/big_endian.h"
#include "ledger/util/durable_file.h"

namespace ledger {
namespace {

constexpr char kSigningDomain[] = "sakip-ledger/tree-head/v1";
constexpr size_t kSecretKeyBytes = crypto_sign_SECRETKEYBYTES;

static_assert(crypto_sign_PUBLICKEYBYTES == kEd25519PublicKeyBytes);
static_assert(crypto_sign_BYTES == kEd25519SignatureBytes);

const unsigned char* Bytes(std::string_view text) { return reinterpret_cast<const unsigned char*>(text.data()); }

std::string Errno(const std::string& what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

absl::StatusOr<std::string> ReadKeyFile(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return absl::FailedPreconditionError(Errno("cannot read", path));
  if ((info.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signing key ", path, " is readable or writable by others (mode ",
        absl::StrFormat("%04o", info.st_mode & 07777), "); chmod 600 it"));
  }
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  std::string key = content.str();
  if (!file || key.size() != kSecretKeyBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("signing key ", path, " is not an Ed25519 secret key (", key.size(), " bytes, expected ",
                     kSecretKeyBytes, ")"));
  }
  return key;
}

}  // namespace

std::string TreeHeadSigningInput(const TreeHead& head) {
  std::string input(kSigningDomain, sizeof(kSigningDomain));  // with its 0x00
  PutBigEndian64(&input, head.tree_size);
  PutBigEndian64(&input, static_cast<uint64_t>(head.timestamp_micros));
  input += head.root_hash;
  return input;
}

std::string KeyIdOf(std::string_view public_key) { return HexEncode(Sha256(public_key).substr(0, 8)); }

bool VerifyTreeHead(const SignedTreeHead& signed_head, std::string_view public_key) {
  if (public_key.size() != kEd25519PublicKeyBytes || signed_head.signature.size() != kEd25519SignatureBytes ||
      signed_head.head.root_hash.size() != kHashBytes || signed_head.key_id != KeyIdOf(public_key)) {
    return false;
  }
  if (sodium_init() < 0) return false;
  const std::string input = TreeHeadSigningInput(signed_head.head);
  return crypto_sign_verify_detached(Bytes(signed_head.signature), Bytes(input), input.size(),
                                     Bytes(public_key)) == 0;
}

absl::StatusOr<std::unique_ptr<HeadSigner>> HeadSigner::LoadOrCreate(const std::string& key_path) {
  if (sodium_init() < 0) return absl::InternalError("libsodium could not be initialized");
  std::unique_ptr<HeadSigner> signer(new HeadSigner());
  std::string public_key(crypto_sign_PUBLICKEYBYTES, '\0');
  if (std::filesystem::exists(key_path)) {
    absl::StatusOr<std::string> secret = ReadKeyFile(key_path);
    if (!secret.ok()) return secret.status();
    signer->secret_key_ = *std::move(secret);
    crypto_sign_ed25519_sk_to_pk(reinterpret_cast<unsigned char*>(public_key.data()), Bytes(signer->secret_key_));
  } else {
    signer->secret_key_.assign(kSecretKeyBytes, '\0');
    crypto_sign_keypair(reinterpret_cast<unsigned char*>(public_key.data()),
                        reinterpret_cast<unsigned char*>(signer->secret_key_.data()));
    if (absl::Status status = WriteFileDurably(key_path, signer->secret_key_, 0600); !status.ok()) {
      return status;
    }
  }
  signer->public_key_ = std::move(public_key);
  signer->key_id_ = KeyIdOf(signer->public_key_);
  if (absl::Status status = WriteFileDurably(key_path + ".pub", HexEncode(signer->public_key_) + "\n", 0644);
      !status.ok()) {
    return status;
  }
  return signer;
}

HeadSigner::~HeadSigner() {
  if (!secret_key_.empty()) sodium_memzero(secret_key_.data(), secret_key_.size());
}

SignedTreeHead HeadSigner::Sign(const TreeHead& head) const {
  const std::string input = TreeHeadSigningInput(head);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr, Bytes(input), input.size(),
                       Bytes(secret_key_));
  return SignedTreeHead{head, key_id_, std::move(signature)};
}

}  // namespace ledger
