// The checks of a restored log against its signed heads and the heads the
// operator published (see restore_check.h).
#include "ledger/attest/restore_check.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/integrity/sha256.h"
#include "ledger/util/status_macros.h"

namespace ledger::attest {
namespace {

std::string When(const SignedTreeHead& head) {
  return absl::FormatTime(absl::RFC3339_sec, absl::FromUnixMicros(head.head.timestamp_micros),
                          absl::UTCTimeZone());
}

// Checks the signature of a head that names the server's key. A head of
// another key cannot be checked with it: refused, since a restore must be
// checked against the key that signed what it restores.
absl::Status CheckSignature(const SignedTreeHead& head, const std::string& public_key, const std::string& what) {
  if (public_key.empty()) return absl::OkStatus();
  const std::string key_id = KeyIdOf(public_key);
  if (head.key_id != key_id) {
    return absl::FailedPreconditionError(absl::StrCat(what, " is signed by key ", head.key_id,
                                                      ", not by the server's key ", key_id,
                                                      ": give the signing key that signed it"));
  }
  if (!VerifyTreeHead(head, public_key)) {
    return absl::DataLossError(absl::StrCat(what, " (tree size ", head.head.tree_size,
                                            ") has a signature that does not verify with key ", key_id));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<SignedTreeHead>> LatestLoggedHead(EventLog& log, const std::string& public_key) {
  ASSIGN_OR_RETURN(ReadPage page, log.ReadStream(kTreeHeadsStream, 0, Direction::kBackward, 1));
  if (page.events.empty()) return std::optional<SignedTreeHead>();
  const RecordedEvent& event = page.events.front();
  const std::string where = absl::StrCat("the latest signed tree head in ", kTreeHeadsStream, " (position ",
                                         event.envelope.position(), ")");
  v1::SignedTreeHead proto;
  if (event.envelope.event_type() != kTreeHeadSignedType || !proto.ParseFromString(event.envelope.payload())) {
    return absl::DataLossError(absl::StrCat(where, " is not a signed tree head"));
  }
  absl::StatusOr<SignedTreeHead> head = FromProto(proto);
  if (!head.ok()) return absl::DataLossError(absl::StrCat(where, ": ", head.status().message()));
  RETURN_IF_ERROR(CheckSignature(*head, public_key, where));
  const uint64_t size = head->head.tree_size;
  if (size > log.GetHead().position) {
    return absl::DataLossError(absl::StrCat(where, " covers ", size, " events but the log holds ",
                                            log.GetHead().position));
  }
  ASSIGN_OR_RETURN(std::string root, log.TreeRoot(size));
  if (root != head->head.root_hash) {
    return absl::DataLossError(absl::StrCat(where, " signs root ", HexEncode(head->head.root_hash),
                                            " at size ", size, " but the log's root there is ", HexEncode(root)));
  }
  return std::optional<SignedTreeHead>(*std::move(head));
}

// Nothing when the log extends `published`; else why it does not, naming
// both sizes.
absl::StatusOr<std::optional<std::string>> RollbackOf(EventLog& log, const SignedTreeHead& published,
                                                      const std::string& what) {
  const uint64_t log_size = log.GetHead().position;
  const uint64_t published_size = published.head.tree_size;
  const std::string head = absl::StrCat(what, " (a head signed at ", When(published), " covering ",
                                        published_size, " events)");
  if (log_size < published_size) {
    return std::optional<std::string>(absl::StrCat("the restored log holds ", log_size, " events but ", head,
                                                   " was published: restoring it rolls back ",
                                                   published_size - log_size, " published events"));
  }
  ASSIGN_OR_RETURN(std::string root, log.TreeRoot(published_size));
  if (root != published.head.root_hash) {
    return std::optional<std::string>(absl::StrCat(
        "the restored log (", log_size, " events) has root ", HexEncode(root), " at size ", published_size,
        " but ", head, " has root ", HexEncode(published.head.root_hash),
        ": the restored history forks from the published one"));
  }
  return std::optional<std::string>();
}

// Checks one published head (from `path`, when given and present).
absl::Status CheckPublished(EventLog& log, const std::string& path, const std::string& what, bool must_exist,
                            const RestoreCheckOptions& options, RestoreCheckResult* result) {
  if (path.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::optional<SignedTreeHead> published, ReadHeadWitness(path));
  if (!published.has_value()) {
    if (!must_exist) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("published_head: ", path, " does not exist"));
  }
  const std::string name = absl::StrCat(what, " ", path);
  RETURN_IF_ERROR(CheckSignature(*published, options.public_key, name));
  ASSIGN_OR_RETURN(std::optional<std::string> rollback, RollbackOf(log, *published, name));
  if (!rollback.has_value()) return absl::OkStatus();
  if (!options.allow_rollback) {
    return absl::FailedPreconditionError(absl::StrCat(
        "restore refused: ", *rollback, ". If going back to this backup is intended (the published head is "
        "then contradicted: inspectors holding it will refuse the server), pass --allow_rollback"));
  }
  result->rollbacks.push_back(*std::move(rollback));
  if (path == options.witness_path) result->witness_rolled_back = true;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<RestoreCheckResult> CheckRestoredLog(EventLog& log, const RestoreCheckOptions& options) {
  RestoreCheckResult result;
  ASSIGN_OR_RETURN(result.latest_signed_head, LatestLoggedHead(log, options.public_key));
  RETURN_IF_ERROR(CheckPublished(log, options.witness_path, "the head witness", false, options, &result));
  RETURN_IF_ERROR(
      CheckPublished(log, options.published_head_path, "the published head", true, options, &result));
  return result;
}

}  // namespace ledger::attest
