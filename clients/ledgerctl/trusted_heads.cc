// The trust store and the check of a server's signed head (see trusted_heads.h).
#include "clients/ledgerctl/trusted_heads.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "clients/ledgerctl/times.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"

namespace ledgerctl {
namespace {

bool IsHex(std::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::string FileText(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

// Creates `dir` and its missing parents with mode 0700: the store says which
// histories this inspector has seen, nobody else's business.
absl::Status CreatePrivateDirectories(const std::filesystem::path& dir) {
  if (dir.empty() || std::filesystem::is_directory(dir)) return absl::OkStatus();
  if (absl::Status parent = CreatePrivateDirectories(dir.parent_path()); !parent.ok()) return parent;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(absl::StrCat("cannot create the trust directory ", dir.string(), ": ",
                                               std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Time ModificationTime(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return absl::InfinitePast();
  return absl::TimeFromTimespec(info.st_mtim);
}

std::string DescribeStored(const TrustedHead& stored) {
  return absl::StrCat("the head of ", stored.signed_head.head.tree_size, " events you verified on ",
                      FormatWib(absl::ToUnixMicros(stored.verified_at)), " (signed ",
                      FormatWib(stored.signed_head.head.timestamp_micros), ")");
}

// Empty when the head has the shape of a signed head; else what is wrong.
std::string MalformedField(const ledger::SignedTreeHead& head) {
  if (head.head.root_hash.size() != ledger::kHashBytes) {
    return absl::StrCat("signed_head.root_hash has ", head.head.root_hash.size(), " bytes, expected ",
                        ledger::kHashBytes);
  }
  if (head.signature.size() != ledger::kEd25519SignatureBytes) {
    return absl::StrCat("signed_head.signature has ", head.signature.size(), " bytes, expected ",
                        ledger::kEd25519SignatureBytes);
  }
  return "";
}

HeadCheck Refuse(HeadCheck check, Refusal refusal, const std::string& detail) {
  check.refusal = refusal;
  check.message = absl::StrCat(RefusalName(refusal), ": ", detail);
  return check;
}

}  // namespace

std::string DefaultTrustDir() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return "";
  return (std::filesystem::path(home) / ".sakip-ledger" / "trusted-heads").string();
}

absl::StatusOr<std::string> ParsePublicKeyArg(const std::string& file_or_hex) {
  const size_t hex_digits = 2 * ledger::kEd25519PublicKeyBytes;
  if (file_or_hex.size() == hex_digits && IsHex(file_or_hex) &&
      !std::filesystem::exists(file_or_hex)) {
    return absl::HexStringToBytes(absl::AsciiStrToLower(file_or_hex));
  }
  if (!std::filesystem::is_regular_file(file_or_hex)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--public_key: '", file_or_hex, "' is neither a readable file nor ", hex_digits,
        " hex digits (give the server's .pub file, e.g. data.signing-key.pub)"));
  }
  const std::string text(absl::StripAsciiWhitespace(FileText(file_or_hex)));
  if (text.size() != hex_digits || !IsHex(text)) {
    return absl::InvalidArgumentError(absl::StrCat("--public_key: file ", file_or_hex, " does not hold ",
                                                   hex_digits, " hex digits (an Ed25519 public key); it has ",
                                                   text.size(), " characters"));
  }
  return absl::HexStringToBytes(absl::AsciiStrToLower(text));
}

std::string TrustStore::PathFor(const std::string& key_id) const {
  return (std::filesystem::path(dir_) / (key_id + ".head")).string();
}

absl::StatusOr<std::optional<TrustedHead>> TrustStore::Load(const std::string& key_id) const {
  const std::string path = PathFor(key_id);
  absl::StatusOr<std::optional<ledger::SignedTreeHead>> witness = ledger::ReadHeadWitness(path);
  if (!witness.ok()) return witness.status();
  if (!witness->has_value()) return std::optional<TrustedHead>();
  return std::optional<TrustedHead>(TrustedHead{**std::move(witness), ModificationTime(path)});
}

absl::Status TrustStore::Store(const ledger::SignedTreeHead& head) const {
  if (absl::Status created = CreatePrivateDirectories(dir_); !created.ok()) return created;
  return ledger::WriteHeadWitness(PathFor(head.key_id), head);
}

std::string RefusalName(Refusal refusal) {
  switch (refusal) {
    case Refusal::kBadSignature: return "bad signature";
    case Refusal::kRollback: return "rollback";
    case Refusal::kFork: return "fork";
  }
  return "refused";
}

absl::StatusOr<HeadCheck> CheckSignedHead(HeadFetcher& fetcher, std::string_view public_key,
                                          const TrustStore& store, bool sign_now) {
  HeadCheck check;
  check.fetched = fetcher.SignedHead(sign_now);
  const ledger::SignedTreeHead& head = check.fetched.signed_head;
  const std::string trusted_key_id = ledger::KeyIdOf(public_key);
  check.trust_file = store.PathFor(trusted_key_id);

  if (std::string malformed = MalformedField(head); !malformed.empty()) {
    return Refuse(std::move(check), Refusal::kBadSignature, malformed);
  }
  if (head.key_id != trusted_key_id) {
    return Refuse(std::move(check), Refusal::kBadSignature,
                  absl::StrCat("the head names key ", head.key_id, ", not the key you trust (", trusted_key_id,
                               "): the server signs with another key"));
  }
  if (!ledger::VerifyTreeHead(head, public_key)) {
    return Refuse(std::move(check), Refusal::kBadSignature,
                  absl::StrCat("the head of ", head.head.tree_size, " events is not signed by key ",
                               trusted_key_id, " (the signature does not verify)"));
  }

  absl::StatusOr<std::optional<TrustedHead>> stored = store.Load(trusted_key_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    check.relation = HeadRelation::kFirst;
    if (absl::Status saved = store.Store(head); !saved.ok()) return saved;
    return check;
  }
  const TrustedHead& previous = **stored;
  check.previous = previous;
  // The stored file is ours, but it is a file: one that no longer verifies
  // was edited or damaged, and comparing against it would prove nothing.
  if (!ledger::VerifyTreeHead(previous.signed_head, public_key)) {
    return absl::DataLossError(absl::StrCat(
        "trusted head ", check.trust_file, " is not signed by the key you trust: the file was edited or "
        "damaged; move it away to start again from the server's next head"));
  }

  const uint64_t old_size = previous.signed_head.head.tree_size;
  const uint64_t new_size = head.head.tree_size;
  const std::string& old_root = previous.signed_head.head.root_hash;
  if (new_size < old_size) {
    return Refuse(std::move(check), Refusal::kRollback,
                  absl::StrCat("the server's signed tree has ", new_size, " events, fewer than ",
                               DescribeStored(previous), ": the log was rolled back or truncated"));
  }
  if (new_size == old_size) {
    if (head.head.root_hash != old_root) {
      return Refuse(std::move(check), Refusal::kFork,
                    absl::StrCat("the server's signed tree of ", new_size, " events has root ",
                                 ledger::HexEncode(head.head.root_hash), ", but ", DescribeStored(previous),
                                 " has root ", ledger::HexEncode(old_root),
                                 ": two different histories of the same size"));
    }
    check.relation = HeadRelation::kSame;
    if (head.head.timestamp_micros > previous.signed_head.head.timestamp_micros) {
      if (absl::Status saved = store.Store(head); !saved.ok()) return saved;
    }
    return check;
  }
  const std::vector<std::string> proof = fetcher.ConsistencyProof(old_size, new_size);
  if (!ledger::merkle::VerifyConsistency(old_size, new_size, old_root, head.head.root_hash, proof)) {
    return Refuse(std::move(check), Refusal::kFork,
                  absl::StrCat("the server's tree of size ", new_size, " does not extend the one of size ",
                               old_size, " you verified (on ",
                               FormatWib(absl::ToUnixMicros(previous.verified_at)),
                               "): its consistency proof does not verify against the two signed roots"));
  }
  check.relation = HeadRelation::kExtends;
  if (absl::Status saved = store.Store(head); !saved.ok()) return saved;
  return check;
}

}  // namespace ledgerctl
