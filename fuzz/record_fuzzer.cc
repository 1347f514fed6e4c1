// Fuzz target: everything that turns a stored event record into structures:
// DecodeRecord (ledger/integrity/record.h), the envelope, DecodeDomainEnvelope
// (ledger/projections/domain_event.h), the system streams' payloads (signed
// tree heads, ledger/attest/system_streams.h; report seals), and the fold of
// the decoded SAKIP events into a unit-year with its reports and
// reconciliations (what a read, a replay and the bundle verifier do with them).
//
// Input: one or more stored record values separated by kSeparator. Each is
// decoded as it is (a random hash rarely matches, so it is also framed again
// with its own SHA-256 to reach the envelope and payload decoders); the
// decodable SAKIP events are folded in order.
//
// Properties: an accepted frame is the canonical frame of its body
// (EncodeRecord gives the same bytes) and its hash is SHA-256 of the body;
// an envelope's deterministic encoding parses to an equal envelope and is
// stable; a decoded domain event carries the envelope's metadata and its
// event type names the payload; a refused Apply leaves the state unchanged;
// FromProto/ToProto of a signed head round-trip; every refusal is DataLoss.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/quiet_protobuf.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledger/attest/report_digest.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/record.h"
#include "ledger/integrity/sha256.h"
#include "ledger/projections/domain_event.h"
#include "ledger/projections/reconciliation.h"
#include "ledger/projections/report.h"
#include "ledger/projections/unit_year_state.h"
#include "ledger/util/strings.h"
#include "ledger/v1/tree_head.pb.h"
#include "sakip/v1/attestation.pb.h"

namespace {

using google::protobuf::util::MessageDifferencer;
namespace projections = ledger::projections;

// Between two records of one input (also in fuzz/dict/record.dict).
constexpr std::string_view kSeparator = "\n@@record@@\n";

std::string Deterministic(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

void CheckEnvelope(const ledger::v1::EventEnvelope& envelope, std::vector<projections::DomainEvent>* events) {
  const std::string encoded = Deterministic(envelope);
  ledger::v1::EventEnvelope again;
  FUZZ_CHECK(again.ParseFromString(encoded), "a re-encoded envelope parses");
  FUZZ_CHECK(MessageDifferencer::Equals(envelope, again), envelope.ShortDebugString());
  FUZZ_CHECK(Deterministic(again) == encoded, "the deterministic encoding is stable");

  absl::StatusOr<projections::DomainEvent> event = projections::DecodeDomainEnvelope(envelope);
  if (event.ok()) {
    FUZZ_CHECK(projections::EventTypeName(event->event) == envelope.event_type(), envelope.event_type());
    FUZZ_CHECK(event->position == envelope.position() && event->event_id == envelope.event_id() &&
                   event->actor == envelope.actor() && event->reason == envelope.reason(),
               envelope.ShortDebugString());
    FUZZ_CHECK(event->recorded_at == absl::FromUnixMicros(envelope.recorded_at_micros()),
               absl::StrCat(envelope.recorded_at_micros()));
    events->push_back(*std::move(event));
  } else {
    FUZZ_CHECK(absl::IsDataLoss(event.status()), event.status().ToString());
  }

  if (envelope.event_type() == ledger::attest::kTreeHeadSignedType) {
    ledger::v1::SignedTreeHead proto;
    if (proto.ParseFromString(envelope.payload())) {
      absl::StatusOr<ledger::SignedTreeHead> head = ledger::attest::FromProto(proto);
      if (head.ok()) {
        proto.DiscardUnknownFields();
        FUZZ_CHECK(MessageDifferencer::Equals(ledger::attest::ToProto(*head), proto), proto.ShortDebugString());
        (void)ledger::VerifyTreeHead(*head, std::string(ledger::kEd25519PublicKeyBytes, '\0'));
        (void)ledger::TreeHeadSigningInput(head->head);
      } else {
        FUZZ_CHECK(absl::IsInvalidArgument(head.status()), head.status().ToString());
      }
    }
  }
  if (envelope.event_type() == ledger::attest::kReportSealedType) {
    sakip::v1::ReportSeal seal;
    if (seal.ParseFromString(envelope.payload())) (void)seal.ShortDebugString();
  }
}

// A stored value as it is, and the same bytes framed with their own hash.
void CheckValue(std::string_view value, std::vector<projections::DomainEvent>* events) {
  absl::StatusOr<ledger::DecodedRecord> record = ledger::DecodeRecord(value);
  if (record.ok()) {
    FUZZ_CHECK(ledger::EncodeRecord(record->body) == value, "an accepted frame is canonical");
    FUZZ_CHECK(record->hash == ledger::Sha256(record->body), "the hash covers the body");
    CheckEnvelope(record->envelope, events);
    return;
  }
  FUZZ_CHECK(absl::IsDataLoss(record.status()), record.status().ToString());
  absl::StatusOr<ledger::RecordView> view = ledger::SplitRecord(value);
  const std::string_view body = view.ok() ? view->body : value;
  const std::string framed = ledger::EncodeRecord(body);
  absl::StatusOr<ledger::DecodedRecord> reframed = ledger::DecodeRecord(framed);
  if (!reframed.ok()) {
    FUZZ_CHECK(absl::IsDataLoss(reframed.status()), reframed.status().ToString());
    ledger::v1::EventEnvelope envelope;
    FUZZ_CHECK(!envelope.ParseFromArray(body.data(), static_cast<int>(body.size())),
               "DecodeRecord refused a body that parses");
    return;
  }
  FUZZ_CHECK(reframed->body == body, "the body is kept byte for byte");
  CheckEnvelope(reframed->envelope, events);
}

size_t StateSize(const projections::UnitYearState& state) {
  return state.goals().size() + state.indicators().size() + state.realizations().size() +
         state.programmes().size() + state.disbursements().size() + state.villages().size() +
         state.activities().size() + state.checklist_entries().size() + state.reports().size() +
         (state.agreement().has_value() ? 1 : 0);
}

void Fold(const std::vector<projections::DomainEvent>& events) {
  projections::UnitYearState state;
  for (const projections::DomainEvent& event : events) {
    const size_t count = state.event_count();
    const uint64_t last = state.last_position();
    const size_t size = StateSize(state);
    absl::Status status = state.Apply(event);
    if (!status.ok()) {
      FUZZ_CHECK(state.event_count() == count && state.last_position() == last && StateSize(state) == size,
                 absl::StrCat("a refused event changed the state: ", status.ToString()));
    }
  }
  if (state.event_count() == 0) return;
  for (int quarter = 1; quarter <= 4; ++quarter) {
    absl::StatusOr<projections::QuarterlyReport> report = projections::ComputeReport(state, quarter);
    if (!report.ok()) continue;
    const std::string text = ledger::attest::CanonicalReportText(*report);
    FUZZ_CHECK(ledger::attest::ReportSha256(*report) == ledger::Sha256(text), "the report digest is of its text");
    (void)projections::IndexFigures(*report);
  }
  for (const auto& [report_id, submitted] : state.reports()) {
    (void)projections::Reconcile(state, report_id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::AsText(data, size);
  std::vector<projections::DomainEvent> events;
  for (absl::string_view piece : absl::StrSplit(ledger::Absl(input), ledger::Absl(kSeparator))) {
    CheckValue(std::string_view(piece.data(), piece.size()), &events);
  }
  Fold(events);
  return 0;
}
