#include "ledger/attest/bundle_builder.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/attest/bundle_verifier.h"
#include "ledger/attest/report_digest.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/sha256.h"
#include "ledger/limits.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"
#include "sakip/v1/attestation.pb.h"

namespace ledger::attest {
namespace {

struct Submission {
  std::vector<RecordedEvent> events;  // versions 1..N, N the submission
  int quarter = 0;
};

// The stream's events through the submission of `report_id`.
absl::StatusOr<Submission> ReadThroughSubmission(EventLog& log, const std::string& stream_id,
                                                 std::string_view report_id) {
  Submission submission;
  uint64_t from_version = 1;
  while (true) {
    ASSIGN_OR_RETURN(ReadPage page, log.ReadStream(stream_id, from_version, Direction::kForward,
                                                   limits::kMaxPageSize));
    for (RecordedEvent& event : page.events) {
      const bool candidate = event.envelope.event_type() == "ReportSubmitted";
      submission.events.push_back(std::move(event));
      if (!candidate) continue;
      ASSIGN_OR_RETURN(projections::DomainEvent decoded, DecodeDomainEvent(submission.events.back()));
      if (decoded.event.report_submitted().report_id() == report_id) {
        submission.quarter = decoded.event.report_submitted().quarter();
        return submission;
      }
    }
    if (page.end_of_range) break;
    from_version = page.next_from;
  }
  return absl::NotFoundError(absl::StrCat("report_id: '", Absl(report_id), "' was never submitted in ", stream_id));
}

absl::Status AddProven(EventLog& log, const RecordedEvent& event, uint64_t tree_size,
                       sakip::v1::ProvenEvent* proven) {
  ASSIGN_OR_RETURN(std::vector<std::string> proof, log.InclusionProof(event.envelope.position(), tree_size));
  proven->set_position(event.envelope.position());
  proven->set_stored_bytes(event.stored_bytes);
  for (std::string& hash : proof) proven->add_inclusion_proof(std::move(hash));
  return absl::OkStatus();
}

// The latest signed head, or a new one when the latest does not cover `position`.
absl::StatusOr<SignedTreeHead> HeadCovering(HeadPublisher& publisher, uint64_t position) {
  absl::StatusOr<PublishedHead> head = publisher.Latest();
  if (!head.ok() || head->signed_head.head.tree_size < position) head = publisher.PublishNow();
  if (!head.ok()) return head.status();
  if (head->signed_head.head.tree_size < position) {
    return absl::UnavailableError(absl::StrCat("no signed tree head covers position ", position, " yet; retry"));
  }
  return head->signed_head;
}

}  // namespace

absl::StatusOr<std::string> BuildAuditorBundle(const BundleSources& sources, std::string_view unit_code,
                                               int fiscal_year, std::string_view report_id) {
  if (sources.publisher == nullptr) {
    return absl::FailedPreconditionError("this server signs no tree heads (no signing key)");
  }
  if (report_id.empty()) return absl::InvalidArgumentError("report_id: required");
  ASSIGN_OR_RETURN(std::string stream_id, StreamIdFor(unit_code, fiscal_year));
  EventLog& log = *sources.log;
  ASSIGN_OR_RETURN(Submission submission, ReadThroughSubmission(log, stream_id, report_id));
  const RecordedEvent& submitted = submission.events.back();
  const uint64_t submission_position = submitted.envelope.position();
  if (sources.sealer != nullptr) {
    RETURN_IF_ERROR(sources.sealer->WaitUntilSealed(submission_position, sources.seal_wait));
  }
  absl::StatusOr<RecordedEvent> seal = log.GetEvent(ReportSealEventId(submission_position));
  if (absl::IsNotFound(seal.status())) {
    return absl::UnavailableError(absl::StrCat("report '", Absl(report_id), "' is not sealed yet; retry"));
  }
  RETURN_IF_ERROR(seal.status());
  ASSIGN_OR_RETURN(SignedTreeHead head, HeadCovering(*sources.publisher, seal->envelope.position()));

  ASSIGN_OR_RETURN(projections::QuarterlyReport report,
                   sources.sakip->Report(unit_code, fiscal_year, submission.quarter,
                                         AsOf::Position(submission_position)));
  sakip::v1::AuditorBundle bundle;
  bundle.set_format(kAuditorBundleFormat);
  bundle.set_unit_code(std::string(unit_code));
  bundle.set_fiscal_year(fiscal_year);
  bundle.set_report_id(std::string(report_id));
  bundle.set_quarter(submission.quarter);
  bundle.set_public_key(sources.publisher->signer().public_key());
  *bundle.mutable_signed_head() = ToProto(head);
  for (const RecordedEvent& event : submission.events) {
    RETURN_IF_ERROR(AddProven(log, event, head.head.tree_size, bundle.add_events()));
  }
  RETURN_IF_ERROR(AddProven(log, *seal, head.head.tree_size, bundle.mutable_seal()));
  bundle.set_report_text(CanonicalReportText(report));

  std::string bytes = CanonicalBundleBytes(bundle);
  if (bytes.size() > limits::kMaxAuditorBundleBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the auditor bundle of ", stream_id, " ", Absl(report_id), " would be ", bytes.size(),
        " bytes, over the limit of ", limits::kMaxAuditorBundleBytes));
  }
  // Checked in pairs: what is handed out must verify with the same rules an
  // inspector's verifier applies (and the report must compute as sealed).
  absl::StatusOr<VerifiedBundle> verified = VerifyAuditorBundle(bytes, sources.publisher->signer().public_key());
  if (!verified.ok()) {
    return absl::DataLossError(absl::StrCat("the auditor bundle does not verify: ", verified.status().message()));
  }
  return bytes;
}

}  // namespace ledger::attest
