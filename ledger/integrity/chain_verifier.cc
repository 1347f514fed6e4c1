#include "ledger/integrity/chain_verifier.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/integrity/sha256.h"

namespace ledger {

const char* ChainProblemName(ChainProblem problem) {
  switch (problem) {
    case ChainProblem::kHashMismatch: return "HASH_MISMATCH";
    case ChainProblem::kChainBroken: return "CHAIN_BROKEN";
    case ChainProblem::kGap: return "GAP";
    case ChainProblem::kUndecodable: return "UNDECODABLE";
    case ChainProblem::kPositionMismatch: return "POSITION_MISMATCH";
    case ChainProblem::kTimeDecreased: return "TIME_DECREASED";
    case ChainProblem::kIndexMismatch: return "INDEX_MISMATCH";
    case ChainProblem::kHeadMismatch: return "HEAD_MISMATCH";
    case ChainProblem::kMerkleMismatch: return "MERKLE_MISMATCH";
  }
  return "UNKNOWN";
}

ChainVerifier::ChainVerifier(uint64_t first_position, std::string prev_hash,
                             int64_t prev_recorded_at_micros)
    : next_position_(first_position),
      prev_hash_(std::move(prev_hash)),
      prev_recorded_at_micros_(prev_recorded_at_micros) {}

void ChainVerifier::Fail(uint64_t position, ChainProblem problem, std::string detail) {
  if (!finding_) finding_ = ChainFinding{position, problem, std::move(detail)};
}

bool ChainVerifier::Feed(uint64_t key_position, std::string_view stored_value) {
  if (finding_) return false;
  if (key_position != next_position_) {
    Fail(next_position_, ChainProblem::kGap,
         absl::StrCat("expected position ", next_position_, ", found ", key_position));
    return false;
  }
  absl::StatusOr<RecordView> view = SplitRecord(stored_value);
  if (!view.ok()) {
    Fail(key_position, ChainProblem::kUndecodable, std::string(view.status().message()));
    return false;
  }
  std::string recomputed = Sha256(view->body);
  if (recomputed != view->hash) {
    Fail(key_position, ChainProblem::kHashMismatch,
         absl::StrCat("stored hash ", HexEncode(view->hash), " but the stored bytes hash to ",
                      HexEncode(recomputed)));
    return false;
  }
  DecodedRecord record;
  if (!record.envelope.ParseFromArray(view->body.data(), static_cast<int>(view->body.size()))) {
    Fail(key_position, ChainProblem::kUndecodable, "envelope bytes do not decode");
    return false;
  }
  const v1::EventEnvelope& envelope = record.envelope;
  if (envelope.position() != key_position) {
    Fail(key_position, ChainProblem::kPositionMismatch,
         absl::StrCat("stored under position ", key_position, " but names position ",
                      envelope.position()));
    return false;
  }
  if (envelope.prev_hash() != prev_hash_) {
    Fail(key_position, ChainProblem::kChainBroken,
         absl::StrCat("prev_hash ", HexEncode(envelope.prev_hash()),
                      " but the previous record's hash is ", HexEncode(prev_hash_)));
    return false;
  }
  if (envelope.recorded_at_micros() < prev_recorded_at_micros_) {
    Fail(key_position, ChainProblem::kTimeDecreased,
         absl::StrCat("recorded_at ", envelope.recorded_at_micros(), " < previous ",
                      prev_recorded_at_micros_));
    return false;
  }
  record.hash = std::move(recomputed);
  record.body = std::string(view->body);
  prev_hash_ = record.hash;
  prev_recorded_at_micros_ = envelope.recorded_at_micros();
  last_record_ = std::move(record);
  ++next_position_;
  ++verified_count_;
  return true;
}

}  // namespace ledger
