// A pure fold that checks the hash chain of the global log, record by record.
//
// The caller feeds stored records in key order; the verifier recomputes each
// hash from the stored bytes and checks that positions are gap-free, that each
// record names its predecessor's hash, and that recorded time never decreases.
// It stops at the first problem and names the position and what is wrong.
//
// No I/O: the store (or an offline auditor) drives it. Not thread-safe: one
// verifier per pass.
#ifndef LEDGER_INTEGRITY_CHAIN_VERIFIER_H_
#define LEDGER_INTEGRITY_CHAIN_VERIFIER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/integrity/record.h"

namespace ledger {

enum class ChainProblem {
  kHashMismatch,      // the stored hash is not SHA-256 of the stored body
  kChainBroken,       // prev_hash does not equal the previous record's hash
  kGap,               // a position is missing (or the log ends early)
  kUndecodable,       // the frame or the envelope cannot be decoded
  kPositionMismatch,  // the key's position differs from the envelope's
  kTimeDecreased,     // recorded_at is earlier than the previous record's
  kIndexMismatch,     // a secondary index disagrees with the record
  kHeadMismatch,      // the stored head disagrees with the last record
  kMerkleMismatch,    // the stored Merkle tree (a node, the root served, the
                      // frontier) disagrees with the one the events imply
};

// Stable names used in messages and the API: "HASH_MISMATCH", ...,
// "MERKLE_MISMATCH".
const char* ChainProblemName(ChainProblem problem);

struct ChainFinding {
  uint64_t position = 0;
  ChainProblem problem = ChainProblem::kHashMismatch;
  std::string detail;
};

class ChainVerifier {
 public:
  // Verifies from `first_position`; `prev_hash` and `prev_recorded_at_micros`
  // are those of the record before it (genesis hash and 0 for position 1).
  ChainVerifier(uint64_t first_position, std::string prev_hash, int64_t prev_recorded_at_micros);

  // Feeds the record stored under `key_position`. Returns false once a problem
  // has been found (this record's or an earlier one's); later feeds are ignored.
  // On success, `last_record()` is the decoded record.
  bool Feed(uint64_t key_position, std::string_view stored_value);

  // Records a problem found outside the chain itself (an index, the head).
  void Fail(uint64_t position, ChainProblem problem, std::string detail);

  const std::optional<ChainFinding>& finding() const { return finding_; }
  uint64_t verified_count() const { return verified_count_; }
  uint64_t next_position() const { return next_position_; }
  const std::string& last_hash() const { return prev_hash_; }
  const DecodedRecord& last_record() const { return last_record_; }

 private:
  uint64_t next_position_;
  std::string prev_hash_;
  int64_t prev_recorded_at_micros_;
  uint64_t verified_count_ = 0;
  DecodedRecord last_record_;
  std::optional<ChainFinding> finding_;
};

}  // namespace ledger

#endif  // LEDGER_INTEGRITY_CHAIN_VERIFIER_H_
