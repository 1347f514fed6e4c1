#include "ledger/attest/bundle_verifier.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "ledger/attest/report_digest.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/projections/domain_event.h"
#include "ledger/projections/unit_year_state.h"
#include "ledger/util/status_macros.h"
#include "ledger/v1/event.pb.h"
#include "sakip/v1/attestation.pb.h"

namespace ledger::attest {
namespace {

absl::Status Fail(absl::string_view what) { return absl::DataLossError(absl::StrCat("bundle: ", what)); }

bool HasUnknownFields(const google::protobuf::Message& message) {
  return !message.GetReflection()->GetUnknownFields(message).empty();
}

// Step 1: one encoding per content, so that every byte of the file is
// covered by a check below.
absl::StatusOr<sakip::v1::AuditorBundle> ParseCanonical(std::string_view bytes) {
  sakip::v1::AuditorBundle bundle;
  if (!bundle.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Fail("not a sakip.v1.AuditorBundle (undecodable)");
  }
  bool unknown = HasUnknownFields(bundle) || HasUnknownFields(bundle.signed_head()) ||
                 HasUnknownFields(bundle.seal());
  for (const sakip::v1::ProvenEvent& event : bundle.events()) unknown = unknown || HasUnknownFields(event);
  if (unknown) return Fail("has fields this verifier does not know");
  if (CanonicalBundleBytes(bundle) != bytes) return Fail("is not in its canonical encoding");
  if (bundle.format() != kAuditorBundleFormat) {
    return Fail(absl::StrCat("format '", bundle.format(), "', expected '", kAuditorBundleFormat, "'"));
  }
  return bundle;
}

// Step 2: the head is signed by the key the inspector trusts.
absl::StatusOr<SignedTreeHead> VerifyHead(const sakip::v1::AuditorBundle& bundle,
                                          std::string_view trusted_public_key) {
  if (bundle.public_key() != trusted_public_key) {
    return Fail(absl::StrCat("carries public key ", KeyIdOf(bundle.public_key()),
                             ", not the trusted key ", KeyIdOf(trusted_public_key)));
  }
  absl::StatusOr<SignedTreeHead> head = FromProto(bundle.signed_head());
  if (!head.ok()) return Fail(head.status().message());
  if (!VerifyTreeHead(*head, trusted_public_key)) {
    return Fail(absl::StrCat("the signature of the tree head of size ", head->head.tree_size,
                             " is not valid for key ", KeyIdOf(trusted_public_key)));
  }
  return *head;
}

// Step 3: an event is in the signed tree exactly as stored.
absl::StatusOr<v1::EventEnvelope> VerifyProvenEvent(const sakip::v1::ProvenEvent& event,
                                                    absl::string_view name, const TreeHead& head) {
  if (event.position() == 0 || event.position() > head.tree_size) {
    return Fail(absl::StrCat(name, ": position ", event.position(), " is outside the signed tree of ",
                             head.tree_size, " events"));
  }
  const std::vector<std::string> proof(event.inclusion_proof().begin(), event.inclusion_proof().end());
  const std::string leaf = merkle::LeafHash(Sha256(event.stored_bytes()));
  if (!merkle::VerifyInclusion(leaf, event.position() - 1, head.tree_size, proof, head.root_hash)) {
    return Fail(absl::StrCat(name, " (position ", event.position(),
                             "): its inclusion proof does not lead to the signed root"));
  }
  v1::EventEnvelope envelope;
  if (!envelope.ParseFromString(event.stored_bytes()) || envelope.position() != event.position()) {
    return Fail(absl::StrCat(name, " (position ", event.position(), "): not the envelope of that position"));
  }
  return envelope;
}

struct Submission {
  uint64_t position = 0;
  uint64_t version = 0;
  std::string event_id;
};

// Step 4: the envelopes are the whole stream through the submission. Only
// shapes are checked here; proofs came first and folding comes last, so that
// a damaged bundle fails on the cheapest check that can see the damage.
absl::StatusOr<Submission> VerifyStreamShape(const sakip::v1::AuditorBundle& bundle,
                                             const std::vector<v1::EventEnvelope>& envelopes) {
  const std::string stream_id = absl::StrCat(bundle.unit_code(), "/", bundle.fiscal_year());
  if (envelopes.empty()) return Fail("holds no events");
  uint64_t previous_position = 0;
  for (size_t i = 0; i < envelopes.size(); ++i) {
    const v1::EventEnvelope& envelope = envelopes[i];
    if (envelope.stream_id() != stream_id || envelope.stream_version() != i + 1 ||
        envelope.position() <= previous_position) {
      return Fail(absl::StrCat("event ", i + 1, " (position ", envelope.position(), ") is version ",
                               envelope.stream_version(), " of '", envelope.stream_id(),
                               "', expected version ", i + 1, " of '", stream_id, "' after position ",
                               previous_position));
    }
    previous_position = envelope.position();
  }
  const v1::EventEnvelope& last = envelopes.back();
  sakip::v1::SakipEvent event;
  const bool is_submission = last.event_type() == "ReportSubmitted" && event.ParseFromString(last.payload()) &&
                             event.report_submitted().report_id() == bundle.report_id() &&
                             event.report_submitted().quarter() == bundle.quarter();
  if (!is_submission) {
    return Fail(absl::StrCat("the last event (position ", last.position(), ") is not the submission of report '",
                             bundle.report_id(), "' for quarter ", bundle.quarter()));
  }
  return Submission{last.position(), last.stream_version(), last.event_id()};
}

// Step 6: the events folded as the ledger folds them.
absl::StatusOr<projections::UnitYearState> Fold(const std::vector<v1::EventEnvelope>& envelopes) {
  projections::UnitYearState state;
  for (size_t i = 0; i < envelopes.size(); ++i) {
    absl::StatusOr<projections::DomainEvent> event = projections::DecodeDomainEnvelope(envelopes[i]);
    if (!event.ok()) return Fail(absl::StrCat("event ", i + 1, ": ", event.status().message()));
    if (absl::Status status = state.Apply(*event); !status.ok()) {
      return Fail(absl::StrCat("event ", i + 1, " (position ", envelopes[i].position(),
                               ") does not fold: ", status.message()));
    }
  }
  return state;
}

// Step 5: the seal names the submission and the report text's digest.
absl::StatusOr<uint64_t> VerifySeal(const sakip::v1::AuditorBundle& bundle, const v1::EventEnvelope& envelope,
                                    const Submission& submission) {
  sakip::v1::ReportSeal seal;
  const bool well_formed = envelope.stream_id() == kReportSealsStream &&
                           envelope.event_type() == kReportSealedType &&
                           envelope.content_type() == kReportSealContentType &&
                           envelope.event_id() == ReportSealEventId(submission.position) &&
                           seal.ParseFromString(envelope.payload());
  if (!well_formed) {
    return Fail(absl::StrCat("the seal (position ", envelope.position(),
                             ") is not the ReportSealed event of the submission at position ",
                             submission.position));
  }
  const bool names_submission =
      seal.stream_id() == absl::StrCat(bundle.unit_code(), "/", bundle.fiscal_year()) &&
      seal.report_id() == bundle.report_id() && seal.quarter() == bundle.quarter() &&
      seal.submission_event_id() == submission.event_id &&
      seal.submission_position() == submission.position &&
      seal.submission_stream_version() == submission.version &&
      seal.digest_format() == kReportDigestFormat;
  if (!names_submission) return Fail("the seal names another submission or digest format");
  return envelope.position();
}

// The seal's digest is of report_text (before the seal is matched with the
// submission, which needs the events).
absl::Status VerifySealedDigest(const sakip::v1::AuditorBundle& bundle, const v1::EventEnvelope& envelope) {
  sakip::v1::ReportSeal seal;
  if (!seal.ParseFromString(envelope.payload())) return Fail("the seal's payload is not a sakip.v1.ReportSeal");
  if (seal.report_sha256() != Sha256(bundle.report_text())) {
    return Fail(absl::StrCat("report_text has SHA-256 ", HexEncode(Sha256(bundle.report_text())),
                             ", the seal recorded ", HexEncode(seal.report_sha256())));
  }
  return absl::OkStatus();
}

}  // namespace

std::string CanonicalBundleBytes(const sakip::v1::AuditorBundle& bundle) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  bundle.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

absl::StatusOr<VerifiedBundle> VerifyAuditorBundle(std::string_view bundle_bytes,
                                                   std::string_view trusted_public_key) {
  if (trusted_public_key.size() != kEd25519PublicKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("public_key: ", trusted_public_key.size(),
                                                   " bytes, expected ", kEd25519PublicKeyBytes));
  }
  ASSIGN_OR_RETURN(sakip::v1::AuditorBundle bundle, ParseCanonical(bundle_bytes));
  ASSIGN_OR_RETURN(SignedTreeHead signed_head, VerifyHead(bundle, trusted_public_key));
  // Step 3: the seal and every event are in the signed tree as stored (the
  // seal first: it is one proof, and it fixes report_text).
  ASSIGN_OR_RETURN(v1::EventEnvelope seal, VerifyProvenEvent(bundle.seal(), "the seal", signed_head.head));
  RETURN_IF_ERROR(VerifySealedDigest(bundle, seal));
  std::vector<v1::EventEnvelope> envelopes;
  envelopes.reserve(static_cast<size_t>(bundle.events_size()));
  for (int i = 0; i < bundle.events_size(); ++i) {
    ASSIGN_OR_RETURN(v1::EventEnvelope envelope,
                     VerifyProvenEvent(bundle.events(i), absl::StrCat("event ", i + 1), signed_head.head));
    envelopes.push_back(std::move(envelope));
  }
  ASSIGN_OR_RETURN(Submission submission, VerifyStreamShape(bundle, envelopes));
  ASSIGN_OR_RETURN(uint64_t seal_position, VerifySeal(bundle, seal, submission));

  // Step 6: the report computed again from the proven events.
  ASSIGN_OR_RETURN(projections::UnitYearState state, Fold(envelopes));
  absl::StatusOr<projections::QuarterlyReport> report = projections::ComputeReport(state, bundle.quarter());
  if (!report.ok()) return Fail(absl::StrCat("the report cannot be computed: ", report.status().message()));
  std::string text = CanonicalReportText(*report);
  if (text != bundle.report_text()) {
    return Fail("report_text is not the report computed from the bundle's events");
  }
  VerifiedBundle verified;
  verified.unit_code = bundle.unit_code();
  verified.fiscal_year = bundle.fiscal_year();
  verified.report_id = bundle.report_id();
  verified.quarter = bundle.quarter();
  verified.signed_head = std::move(signed_head);
  verified.event_count = envelopes.size();
  verified.submission_position = submission.position;
  verified.seal_position = seal_position;
  verified.report_sha256 = Sha256(text);
  verified.report_text = std::move(text);
  verified.report = *std::move(report);
  return verified;
}

}  // namespace ledger::attest
