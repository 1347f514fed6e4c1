// Builds the auditor bundle of a submitted report (bundle_verifier.h says
// what it proves): the unit-year's events through the submission and the
// report's seal, each with its inclusion proof in the latest signed head (a
// new head is signed when the latest does not cover the seal yet), and the
// report's canonical text, checked against the seal before it is handed out.
//
// Thread-safety: thread-safe (reads only; signing goes through the publisher).
#ifndef LEDGER_ATTEST_BUNDLE_BUILDER_H_
#define LEDGER_ATTEST_BUNDLE_BUILDER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/attest/head_publisher.h"
#include "ledger/attest/report_sealer.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/event_log.h"

namespace ledger::attest {

struct BundleSources {
  EventLog* log = nullptr;
  SakipLedger* sakip = nullptr;
  HeadPublisher* publisher = nullptr;
  ReportSealer* sealer = nullptr;
  // How long to wait for the sealer to reach the submission.
  absl::Duration seal_wait = absl::Seconds(5);
};

// The serialized sakip.v1.AuditorBundle (deterministic encoding).
// InvalidArgument naming the field for a bad unit code, year or report id;
// NotFound when the report was never submitted; Unavailable (retry) while
// its seal or a covering head is not there yet; FailedPrecondition when the
// bundle would exceed limits::kMaxAuditorBundleBytes; DataLoss when the
// report computes differently from its seal.
absl::StatusOr<std::string> BuildAuditorBundle(const BundleSources& sources, std::string_view unit_code,
                                               int fiscal_year, std::string_view report_id);

}  // namespace ledger::attest

#endif  // LEDGER_ATTEST_BUNDLE_BUILDER_H_
