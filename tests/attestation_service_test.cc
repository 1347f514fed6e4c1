// Signed tree heads and auditor bundles through gRPC: an in-process server on
// port 0 that signs heads (on request) and seals submitted reports. The
// client side checks everything with the public functions an inspector's
// tools use, trusting only the key from the server's key file.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/attest/bundle_verifier.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/merkle.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "sakip/v1/audit_service.grpc.pb.h"
#include "sakip/v1/report_service.grpc.pb.h"
#include "tests/support/in_process_ledger.h"
#include "tests/support/ledgerd_process.h"

namespace ledger {
namespace {

namespace pb = ::sakip::v1;
namespace reference = ::ledger::projections::testing;
using ::ledger::testing::GrpcIs;
using ::ledger::testing::GrpcOk;
using ::ledger::testing::IsOk;
using ::ledger::testing::SetDeadline;
using ::testing::HasSubstr;

constexpr absl::Duration kRpcTimeout = absl::Seconds(30);

class AttestationServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(ledger_.Start("test:attest", absl::Milliseconds(50), /*sign_heads=*/true), IsOk());
    audit_ = pb::AuditService::NewStub(ledger_.channel());
    reports_ = pb::ReportService::NewStub(ledger_.channel());
    events_ = v1::LedgerService::NewStub(ledger_.channel());
  }

  grpc::Status SignedHead(bool sign_now, SignedTreeHead* head) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    pb::GetSignedTreeHeadRequest request;
    request.set_sign_now(sign_now);
    pb::GetSignedTreeHeadResponse response;
    grpc::Status status = audit_->GetSignedTreeHead(&context, request, &response);
    if (!status.ok()) return status;
    absl::StatusOr<SignedTreeHead> parsed = attest::FromProto(response.signed_head());
    EXPECT_THAT(parsed.status(), IsOk());
    if (parsed.ok()) *head = *parsed;
    return status;
  }

  grpc::Status AppendNote(const std::string& stream, const std::string& id) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::AppendRequest request;
    request.set_stream_id(stream);
    request.mutable_expected_version()->mutable_any();
    v1::ProposedEvent* event = request.add_events();
    event->set_event_id(id);
    event->set_event_type("Noted");
    event->set_payload("{}");
    event->set_content_type("application/json");
    v1::AppendResponse response;
    return events_->Append(&context, request, &response);
  }

  void ImportReference() {
    pb::RecordEventsRequest request;
    for (const projections::DomainEvent& event : reference::KlakahTw2Events()) {
      pb::ProposedSakipEvent* proposed = request.add_events();
      proposed->set_event_id(event.event_id);
      proposed->set_reason(event.reason);
      *proposed->mutable_event() = event.event;
    }
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    pb::RecordEventsResponse response;
    ASSERT_THAT(reports_->RecordEvents(&context, request, &response), GrpcOk());
  }

  grpc::Status GetBundle(const std::string& report_id, std::string* bundle) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    pb::GetAuditorBundleRequest request;
    request.set_unit_code(reference::kKlakahUnitCode);
    request.set_fiscal_year(reference::kKlakahFiscalYear);
    request.set_report_id(report_id);
    pb::GetAuditorBundleResponse response;
    grpc::Status status = audit_->GetAuditorBundle(&context, request, &response);
    *bundle = response.bundle();
    return status;
  }

  const std::string& trusted_key() { return ledger_.signer()->public_key(); }

  testing::InProcessLedger ledger_;
  std::unique_ptr<pb::AuditService::Stub> audit_;
  std::unique_ptr<pb::ReportService::Stub> reports_;
  std::unique_ptr<v1::LedgerService::Stub> events_;
};

TEST_F(AttestationServiceTest, HeadsAreSignedByThePublishedKeyAndANewerHeadExtendsAnOlderOne) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  pb::GetPublicKeyResponse key;
  ASSERT_THAT(audit_->GetPublicKey(&context, pb::GetPublicKeyRequest(), &key), GrpcOk());
  EXPECT_EQ(key.public_key(), trusted_key());
  EXPECT_EQ(key.key_id(), KeyIdOf(trusted_key()));

  ASSERT_THAT(AppendNote("notes/1", "n1"), GrpcOk());
  SignedTreeHead older;
  ASSERT_THAT(SignedHead(/*sign_now=*/false, &older), GrpcOk());  // the first head is signed when asked
  EXPECT_TRUE(VerifyTreeHead(older, trusted_key()));
  EXPECT_EQ(older.head.tree_size, 1u);

  for (int i = 2; i <= 6; ++i) ASSERT_THAT(AppendNote("notes/1", absl::StrCat("n", i)), GrpcOk());
  absl::SleepFor(absl::Milliseconds(250));  // past the request rate limit
  SignedTreeHead newer;
  ASSERT_THAT(SignedHead(/*sign_now=*/true, &newer), GrpcOk());
  EXPECT_TRUE(VerifyTreeHead(newer, trusted_key()));
  ASSERT_GT(newer.head.tree_size, older.head.tree_size);

  grpc::ClientContext proof_context;
  SetDeadline(&proof_context, kRpcTimeout);
  pb::GetConsistencyProofRequest request;
  request.set_old_size(older.head.tree_size);
  request.set_new_size(newer.head.tree_size);
  pb::GetConsistencyProofResponse proof;
  ASSERT_THAT(audit_->GetConsistencyProof(&proof_context, request, &proof), GrpcOk());
  std::vector<std::string> hashes(proof.proof().begin(), proof.proof().end());
  // The roots come from the signed heads, never from the response.
  EXPECT_TRUE(merkle::VerifyConsistency(older.head.tree_size, newer.head.tree_size, older.head.root_hash,
                                        newer.head.root_hash, hashes));
}

TEST_F(AttestationServiceTest, ClientsCannotAppendToTheLedgersOwnStreams) {
  EXPECT_THAT(AppendNote(attest::kTreeHeadsStream, "forged-head"),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("stream_id")));
  EXPECT_THAT(AppendNote(attest::kReportSealsStream, "forged-seal"),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("reserved")));
}

TEST_F(AttestationServiceTest, TheBundleOfTheReferenceReportVerifiesWithTheTrustedKeyAlone) {
  ImportReference();
  std::string bundle;
  ASSERT_THAT(GetBundle(reference::kKlakahReportId, &bundle), GrpcOk());
  auto verified = attest::VerifyAuditorBundle(bundle, trusted_key());
  ASSERT_THAT(verified.status(), IsOk());
  EXPECT_EQ(verified->quarter, 2);
  EXPECT_EQ(verified->unit_code, reference::kKlakahUnitCode);

  EXPECT_THAT(GetBundle("NO-SUCH-REPORT", &bundle), GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("report_id")));
}

TEST(AttestationOffTest, AServerWithoutAKeySaysSo) {
  testing::InProcessLedger ledger;
  ASSERT_THAT(ledger.Start("test:attest"), IsOk());
  auto audit = pb::AuditService::NewStub(ledger.channel());
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  pb::GetSignedTreeHeadResponse response;
  EXPECT_THAT(audit->GetSignedTreeHead(&context, pb::GetSignedTreeHeadRequest(), &response),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("signing key")));
}

}  // namespace
}  // namespace ledger
