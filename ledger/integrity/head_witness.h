// The head witness: the last signed tree head, kept in a small file outside
// RocksDB (written atomically and synced), so that a database restored from
// an older copy, or a write-ahead log that lost acknowledged records, is found
// when the ledger opens instead of being served: the log must still hold at
// least the witnessed size, and its tree at that size must have the witnessed
// root.
//
// File format (text, one field per line, so that an operator can read it):
//
//   sakip-ledger head witness v1
//   tree_size <decimal>
//   timestamp_micros <decimal>
//   root_hash <hex>
//   key_id <hex>
//   signature <hex>
//
// Thread-safety: free functions; one writer of a file at a time (the server).
#ifndef LEDGER_INTEGRITY_HEAD_WITNESS_H_
#define LEDGER_INTEGRITY_HEAD_WITNESS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/util/durable_file.h"

namespace ledger {

// The witnessed head, or nullopt when the file does not exist (a new ledger).
// DataLoss when the file exists but is not a witness.
absl::StatusOr<std::optional<SignedTreeHead>> ReadHeadWitness(const std::string& path);

// Replaces the witness atomically (temporary file, fsync, rename, fsync of the
// directory), through `ops` (util/durable_file.h).
absl::Status WriteHeadWitness(const std::string& path, const SignedTreeHead& head,
                              DurableFileOps* ops = PosixFileOps());

// Checks the log against a witnessed head: `log_size` events now, and
// `root_at(size)` the log's Merkle root at a size. FailedPrecondition, with
// the reason an operator needs, when the log is shorter than the witness
// (rolled back or truncated) or its tree at the witnessed size has another
// root (rewritten: a fork).
absl::Status CheckAgainstWitness(const SignedTreeHead& witness, uint64_t log_size,
                                 absl::FunctionRef<absl::StatusOr<std::string>(uint64_t)> root_at);

}  // namespace ledger

#endif  // LEDGER_INTEGRITY_HEAD_WITNESS_H_
