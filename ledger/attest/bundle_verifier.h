// Offline verification of an auditor bundle (sakip/v1/attestation.proto):
// with nothing but the bundle's bytes and the public key the inspector
// trusts, checks that
//
//   1. the bytes are the bundle's one canonical encoding (deterministic, no
//      unknown fields), so that no byte can change without changing content;
//   2. the signed head is signed by the trusted key;
//   3. every event and the seal are in the signed tree (inclusion proofs over
//      SHA-256 of their exact stored bytes);
//   4. the events are the whole unit-year stream through the submission:
//      versions 1..N contiguous, positions increasing, the stream id
//      "<unit_code>/<fiscal_year>", the last one the ReportSubmitted of the
//      bundle's report and quarter;
//   5. the seal names that submission and holds SHA-256 of report_text;
//   6. folding the events and computing the report again gives exactly
//      report_text.
//
// Every failure is DataLoss (the bundle or the log is not what it claims)
// with a message naming the part that failed; InvalidArgument when the
// public key itself is malformed.
//
// Thread-safety: pure functions.
#ifndef LEDGER_ATTEST_BUNDLE_VERIFIER_H_
#define LEDGER_ATTEST_BUNDLE_VERIFIER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/projections/report.h"
#include "sakip/v1/attestation.pb.h"

namespace ledger::attest {

inline constexpr char kAuditorBundleFormat[] = "sakip-ledger/auditor-bundle/v1";

struct VerifiedBundle {
  std::string unit_code;
  int fiscal_year = 0;
  std::string report_id;
  int quarter = 0;
  SignedTreeHead signed_head;
  size_t event_count = 0;            // events of the unit-year, seal excluded
  uint64_t submission_position = 0;
  uint64_t seal_position = 0;
  std::string report_sha256;         // 32 bytes
  std::string report_text;           // canonical, recomputed and equal
  projections::QuarterlyReport report;  // as recomputed
};

// The one encoding of a bundle the verifier accepts: deterministic protobuf
// serialization (what the server hands out).
std::string CanonicalBundleBytes(const sakip::v1::AuditorBundle& bundle);

absl::StatusOr<VerifiedBundle> VerifyAuditorBundle(std::string_view bundle_bytes,
                                                   std::string_view trusted_public_key);

}  // namespace ledger::attest

#endif  // LEDGER_ATTEST_BUNDLE_VERIFIER_H_
