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

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

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
  if (DeterministicBytes(bundle) != bytes) return Fail("is not in its canonical encoding");
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

struct FoldedStream {
  projections::UnitYearState state;
  uint64_t submission_position = 0;
  uint64_t submission_version = 0;
  std::string submission_event_id;
};

// Step 4: the whole stream through the submission, folded.
absl::StatusOr<FoldedStream> VerifyStream(const sakip::v1::AuditorBundle& bundle, const TreeHead& head) {
  const std::string stream_id = absl::StrCat(bundle.unit_code(), "/", bundle.fiscal_year());
  if (bundle.events().empty()) return Fail("holds no events");
  FoldedStream folded;
  uint64_t previous_position = 0;
  for (int i = 0; i < bundle.events_size(); ++i) {
    const std::string name = absl::StrCat("event ", i + 1);
    ASSIGN_OR_RETURN(v1::EventEnvelope envelope, VerifyProvenEvent(bundle.events(i), name, head));
    if (envelope.stream_id() != stream_id || envelope.stream_version() != static_cast<uint64_t>(i) + 1 ||
        envelope.position() <= previous_position) {
      return Fail(absl::StrCat(name, " (position ", envelope.position(), ") is version ",
                               envelope.stream_version(), " of '", envelope.stream_id(),
                               "', expected version ", i + 1, " of '", stream_id, "' after position ",
                               previous_position));
    }
    previous_position = envelope.position();
    absl::StatusOr<projections::DomainEvent> event = projections::DecodeDomainEnvelope(envelope);
    if (!event.ok()) return Fail(absl::StrCat(name, ": ", event.status().message()));
    if (absl::Status status = folded.state.Apply(*event); !status.ok()) {
      return Fail(absl::StrCat(name, " (position ", envelope.position(), ") does not fold: ", status.message()));
    }
    if (i + 1 == bundle.events_size()) {
      const bool is_submission = event->event.has_report_submitted() &&
                                 event->event.report_submitted().report_id() == bundle.report_id() &&
                                 event->event.report_submitted().quarter() == bundle.quarter();
      if (!is_submission) {
        return Fail(absl::StrCat("the last event (position ", envelope.position(),
                                 ") is not the submission of report '", bundle.report_id(),
                                 "' for quarter ", bundle.quarter()));
      }
      folded.submission_position = envelope.position();
      folded.submission_version = envelope.stream_version();
      folded.submission_event_id = envelope.event_id();
    }
  }
  return folded;
}

// Step 5: the seal names the submission and the report text's digest.
absl::StatusOr<uint64_t> VerifySeal(const sakip::v1::AuditorBundle& bundle, const TreeHead& head,
                                    const FoldedStream& folded) {
  ASSIGN_OR_RETURN(v1::EventEnvelope envelope, VerifyProvenEvent(bundle.seal(), "the seal", head));
  sakip::v1::ReportSeal seal;
  const bool well_formed = envelope.stream_id() == kReportSealsStream &&
                           envelope.event_type() == kReportSealedType &&
                           envelope.content_type() == kReportSealContentType &&
                           envelope.event_id() == ReportSealEventId(folded.submission_position) &&
                           seal.ParseFromString(envelope.payload());
  if (!well_formed) {
    return Fail(absl::StrCat("the seal (position ", envelope.position(),
                             ") is not the ReportSealed event of the submission at position ",
                             folded.submission_position));
  }
  const bool names_submission =
      seal.stream_id() == absl::StrCat(bundle.unit_code(), "/", bundle.fiscal_year()) &&
      seal.report_id() == bundle.report_id() && seal.quarter() == bundle.quarter() &&
      seal.submission_event_id() == folded.submission_event_id &&
      seal.submission_position() == folded.submission_position &&
      seal.submission_stream_version() == folded.submission_version &&
      seal.digest_format() == kReportDigestFormat;
  if (!names_submission) return Fail("the seal names another submission or digest format");
  if (seal.report_sha256() != Sha256(bundle.report_text())) {
    return Fail(absl::StrCat("report_text has SHA-256 ", HexEncode(Sha256(bundle.report_text())),
                             ", the seal recorded ", HexEncode(seal.report_sha256())));
  }
  return envelope.position();
}

}  // namespace

absl::StatusOr<VerifiedBundle> VerifyAuditorBundle(std::string_view bundle_bytes,
                                                   std::string_view trusted_public_key) {
  if (trusted_public_key.size() != kEd25519PublicKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("public_key: ", trusted_public_key.size(),
                                                   " bytes, expected ", kEd25519PublicKeyBytes));
  }
  ASSIGN_OR_RETURN(sakip::v1::AuditorBundle bundle, ParseCanonical(bundle_bytes));
  ASSIGN_OR_RETURN(SignedTreeHead signed_head, VerifyHead(bundle, trusted_public_key));
  ASSIGN_OR_RETURN(FoldedStream folded, VerifyStream(bundle, signed_head.head));
  ASSIGN_OR_RETURN(uint64_t seal_position, VerifySeal(bundle, signed_head.head, folded));

  // Step 6: the report computed again from the proven events.
  absl::StatusOr<projections::QuarterlyReport> report =
      projections::ComputeReport(folded.state, bundle.quarter());
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
  verified.event_count = static_cast<size_t>(bundle.events_size());
  verified.submission_position = folded.submission_position;
  verified.seal_position = seal_position;
  verified.report_sha256 = Sha256(text);
  verified.report_text = std::move(text);
  verified.report = *std::move(report);
  return verified;
}

}  // namespace ledger::attest
