// The head witness file and the check at open (see head_witness.h).
#include "ledger/integrity/head_witness.h"


#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "ledger/integrity/sha256.h"
#include "ledger/util/durable_file.h"

namespace ledger {
namespace {

constexpr char kMagic[] = "sakip-ledger head witness v1";

std::string Bytes(const std::string& hex) { return absl::HexStringToBytes(hex); }

bool IsHex(const std::string& text, size_t bytes) {
  if (text.size() != bytes * 2) return false;
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string Describe(const SignedTreeHead& witness) {
  return absl::StrCat("a head signed at ",
                      absl::FormatTime(absl::RFC3339_sec, absl::FromUnixMicros(witness.head.timestamp_micros),
                                       absl::UTCTimeZone()),
                      " covered ", witness.head.tree_size, " events");
}

}  // namespace

absl::StatusOr<std::optional<SignedTreeHead>> ReadHeadWitness(const std::string& path) {
  if (!std::filesystem::exists(path)) return std::optional<SignedTreeHead>();
  std::ifstream file(path);
  std::stringstream content;
  content << file.rdbuf();
  if (!file) return absl::DataLossError(absl::StrCat("head witness ", path, ": cannot read it"));
  std::vector<std::string> lines = absl::StrSplit(content.str(), '\n', absl::SkipEmpty());
  auto bad = [&](const std::string& what) {
    return absl::DataLossError(absl::StrCat("head witness ", path, ": ", what));
  };
  if (lines.empty() || lines[0] != kMagic) return bad("not a head witness (first line)");
  std::map<std::string, std::string> fields;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> parts = absl::StrSplit(lines[i], absl::MaxSplits(' ', 1));
    if (parts.size() != 2 || !fields.emplace(parts[0], parts[1]).second) return bad("malformed line " + lines[i]);
  }
  SignedTreeHead witness;
  if (!absl::SimpleAtoi(fields["tree_size"], &witness.head.tree_size)) return bad("tree_size");
  if (!absl::SimpleAtoi(fields["timestamp_micros"], &witness.head.timestamp_micros)) return bad("timestamp_micros");
  if (!IsHex(fields["root_hash"], kHashBytes)) return bad("root_hash");
  if (!IsHex(fields["key_id"], 8)) return bad("key_id");
  if (!IsHex(fields["signature"], kEd25519SignatureBytes)) return bad("signature");
  witness.head.root_hash = Bytes(fields["root_hash"]);
  witness.key_id = fields["key_id"];
  witness.signature = Bytes(fields["signature"]);
  return std::optional<SignedTreeHead>(std::move(witness));
}

absl::Status WriteHeadWitness(const std::string& path, const SignedTreeHead& head,
                              DurableFileOps* ops) {
  const std::string text = absl::StrCat(kMagic, "\ntree_size ", head.head.tree_size, "\ntimestamp_micros ",
                                        head.head.timestamp_micros, "\nroot_hash ", HexEncode(head.head.root_hash),
                                        "\nkey_id ", head.key_id, "\nsignature ", HexEncode(head.signature), "\n");
  return WriteFileDurably(path, text, 0644, ops);
}

absl::Status CheckAgainstWitness(const SignedTreeHead& witness, uint64_t log_size,
                                 absl::FunctionRef<absl::StatusOr<std::string>(uint64_t)> root_at) {
  if (log_size < witness.head.tree_size) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the log holds ", log_size, " events but ", Describe(witness),
        ": the database was restored from an older copy, or lost acknowledged events; "
        "refusing to serve it (restore the latest backup, or investigate)"));
  }
  absl::StatusOr<std::string> root = root_at(witness.head.tree_size);
  if (!root.ok()) return root.status();
  if (*root != witness.head.root_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the log's Merkle root at size ", witness.head.tree_size, " is ", HexEncode(*root), " but ",
        Describe(witness), " with root ", HexEncode(witness.head.root_hash),
        ": the history was rewritten (a fork); refusing to serve it"));
  }
  return absl::OkStatus();
}

}  // namespace ledger
