// The checks a restored log must pass before it becomes the ledger (run by
// `ledgerd --restore_from`, through RestoreBackupOptions::check; see
// docs/BACKUP.md):
//
//   1. the latest signed tree head recorded in the log's "$tree-heads"
//      stream verifies with the server's public key, and the log's Merkle
//      root at its size is the signed root (else DataLoss: the backup holds
//      a history its own signature does not cover);
//   2. the log does not roll back a head the operator has published: the
//      head witness (the last head this server signed, kept outside the data
//      directory) and, optionally, a signed head given in a file (e.g. the
//      head an inspector holds, in the same format). The restored log must
//      hold at least that head's tree size and have its root at that size.
//      A shorter log is a rollback, another root a fork: refused
//      (FailedPrecondition naming both sizes) unless rollback is allowed,
//      in which case the result lists each rolled-back head so that the
//      caller can log it loudly and keep the old witness aside.
//
// Thread-safety: a pure function of the log and the files.
#ifndef LEDGER_ATTEST_RESTORE_CHECK_H_
#define LEDGER_ATTEST_RESTORE_CHECK_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/store/event_log.h"

namespace ledger::attest {

struct RestoreCheckOptions {
  // The server's Ed25519 public key (32 bytes); empty: signed heads are not
  // verified (a ledger run without signing).
  std::string public_key;
  // The head witness file (integrity/head_witness.h); empty or missing: none.
  std::string witness_path;
  // A signed head the operator published, in the witness format; empty: none.
  std::string published_head_path;
  bool allow_rollback = false;
};

struct RestoreCheckResult {
  // The latest head in "$tree-heads", verified; nullopt when the log has none.
  std::optional<SignedTreeHead> latest_signed_head;
  // With allow_rollback: one line per published head the restored log rolls
  // back or forks from (empty when none).
  std::vector<std::string> rollbacks;
  // With allow_rollback: whether the head witness is among them (the caller
  // then keeps it aside and writes a new one).
  bool witness_rolled_back = false;
};

absl::StatusOr<RestoreCheckResult> CheckRestoredLog(EventLog& log, const RestoreCheckOptions& options);

}  // namespace ledger::attest

#endif  // LEDGER_ATTEST_RESTORE_CHECK_H_
