// The AuditService end to end: an in-process server on port 0 over a RocksDB
// log, a real channel. The reference report is recorded through the
// ReportService, then a correction of IKU-1's TW I realization and a
// supervisor's disposition; every AuditService RPC answers about them, bad
// input gets INVALID_ARGUMENT naming the field, and the filtered replay
// resumes across a broken connection with no gap and no duplicate.
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/integrity/merkle.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "sakip/v1/audit_service.grpc.pb.h"
#include "sakip/v1/report_service.grpc.pb.h"
#include "services/server.h"
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

constexpr absl::Duration kRpcTimeout = absl::Seconds(20);
constexpr char kOriginalQ1[] = "klakah-2024-0042";

pb::ProposedSakipEvent Proposed(const std::string& event_id, const std::string& unit = reference::kKlakahUnitCode) {
  pb::ProposedSakipEvent proposed;
  proposed.set_event_id(event_id);
  proposed.mutable_event()->set_unit_code(unit);
  proposed.mutable_event()->set_fiscal_year(2024);
  return proposed;
}

class AuditServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(ledger_.Start("test:audit"), IsOk());
    reports_ = pb::ReportService::NewStub(ledger_.channel());
    audit_ = pb::AuditService::NewStub(ledger_.channel());
  }

  grpc::Status Record(const std::vector<pb::ProposedSakipEvent>& events) {
    pb::RecordEventsRequest request;
    for (const pb::ProposedSakipEvent& event : events) *request.add_events() = event;
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    pb::RecordEventsResponse response;
    return reports_->RecordEvents(&context, request, &response);
  }

  void ImportReferenceAndLateEvents() {
    std::vector<pb::ProposedSakipEvent> batch;
    for (const projections::DomainEvent& event : reference::KlakahTw2Events()) {
      pb::ProposedSakipEvent proposed;
      proposed.set_event_id(event.event_id);
      proposed.set_reason(event.reason);
      *proposed.mutable_event() = event.event;
      batch.push_back(std::move(proposed));
    }
    ASSERT_THAT(Record(batch), GrpcOk());
    pb::ProposedSakipEvent correction = Proposed("correction-1");
    correction.set_reason("Realisasi TW I dihitung ulang");
    correction.mutable_event()->mutable_realization_corrected()->set_corrects_event_id(kOriginalQ1);
    correction.mutable_event()->mutable_realization_corrected()->set_value("40");
    ASSERT_THAT(Record({correction}), GrpcOk());
    pb::ProposedSakipEvent disposition = Proposed("disposition-1");
    disposition.set_reason("Target dan realisasi diteliti ulang");
    auto* disposed = disposition.mutable_event()->mutable_report_disposed();
    disposed->set_report_id(reference::kKlakahReportId);
    disposed->add_options(pb::TARGET_DAN_REALISASI_DITELITI_ULANG);
    disposed->set_supervisor_name("Sekretaris Daerah");
    disposed->set_supervisor_nip("196805121994031007");
    ASSERT_THAT(Record({disposition}), GrpcOk());
  }

  ::ledger::testing::InProcessLedger ledger_;
  std::unique_ptr<pb::ReportService::Stub> reports_;
  std::unique_ptr<pb::AuditService::Stub> audit_;
};

TEST_F(AuditServiceTest, HistoryListsTheCorrectionAndTheDispositionWithActorTimeAndReason) {
  ImportReferenceAndLateEvents();
  pb::GetHistoryRequest request;
  request.set_unit_code("35.08");
  request.set_from_micros(1);
  request.add_event_types("RealizationCorrected");
  request.add_event_types("ReportDisposed");
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  pb::GetHistoryResponse response;
  ASSERT_THAT(audit_->GetHistory(&context, request, &response), GrpcOk());
  ASSERT_EQ(response.entries_size(), 2);
  const pb::HistoryEntry& correction = response.entries(0);
  EXPECT_EQ(correction.event_id(), "correction-1");
  EXPECT_EQ(correction.actor(), "test:audit");
  EXPECT_GT(correction.recorded_at_micros(), 0);
  EXPECT_EQ(correction.quarter(), 1);
  EXPECT_EQ(correction.reason(), "Realisasi TW I dihitung ulang");
  ASSERT_EQ(correction.changes_size(), 1);
  EXPECT_EQ(correction.changes(0).old_value(), "37.84");
  EXPECT_EQ(correction.changes(0).new_value(), "40");
  EXPECT_EQ(response.entries(1).event_id(), "disposition-1");
  EXPECT_EQ(response.entries(1).reason(), "Target dan realisasi diteliti ulang");
  EXPECT_EQ(response.total_matching(), 2);
}

TEST_F(AuditServiceTest, ExplainDiffAndLateEntriesAgreeOnTheCorrection) {
  ImportReferenceAndLateEvents();
  pb::ExplainFigureRequest explain;
  explain.set_unit_code(reference::kKlakahUnitCode);
  explain.set_fiscal_year(2024);
  explain.set_quarter(2);
  explain.set_key("indicator/IKU-1/q1/realization");
  pb::ExplainFigureResponse explained;
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    ASSERT_THAT(audit_->ExplainFigure(&context, explain, &explained), GrpcOk());
  }
  EXPECT_EQ(explained.figure().plain(), "40.00");
  ASSERT_EQ(explained.inputs_size(), 2);
  EXPECT_EQ(explained.inputs(0).event().event_id(), kOriginalQ1);
  EXPECT_FALSE(explained.inputs(0).in_force());
  EXPECT_EQ(explained.inputs(0).replaced_by_event_id(), "correction-1");
  EXPECT_TRUE(explained.inputs(1).in_force());

  pb::DiffReportRequest diff;
  diff.set_unit_code(reference::kKlakahUnitCode);
  diff.set_fiscal_year(2024);
  diff.set_quarter(2);
  diff.mutable_from()->set_submission_of_report(reference::kKlakahReportId);
  pb::DiffReportResponse diffed;
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    ASSERT_THAT(audit_->DiffReport(&context, diff, &diffed), GrpcOk());
  }
  std::set<std::string> keys;
  for (const pb::FigureChange& change : diffed.changes()) {
    keys.insert(change.key());
    ASSERT_EQ(change.events_size(), 1) << change.key();
    EXPECT_EQ(change.events(0).event_id(), "correction-1");
  }
  EXPECT_TRUE(keys.contains("indicator/IKU-1/q1/realization"));
  EXPECT_TRUE(keys.contains("indicator/IKU-1/year_end/capaian"));
  EXPECT_FALSE(keys.contains("total/allocation"));

  pb::ListLateEntriesRequest late;
  late.set_unit_code("35.08");
  pb::ListLateEntriesResponse listed;
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    ASSERT_THAT(audit_->ListLateEntries(&context, late, &listed), GrpcOk());
  }
  ASSERT_EQ(listed.reports_size(), 1);
  EXPECT_EQ(listed.reports(0).report_id(), reference::kKlakahReportId);
  EXPECT_EQ(listed.reports(0).quarter(), 2);
  ASSERT_EQ(listed.reports(0).late_events_size(), 1);
  EXPECT_EQ(listed.reports(0).late_events(0).event_id(), "correction-1");
  EXPECT_EQ(listed.reports(0).changes_size(), diffed.changes_size());
}

TEST_F(AuditServiceTest, BadInputIsInvalidArgumentNamingTheField) {
  ImportReferenceAndLateEvents();
  auto history = [&](pb::GetHistoryRequest request) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    pb::GetHistoryResponse response;
    return audit_->GetHistory(&context, request, &response);
  };
  pb::GetHistoryRequest no_unit;
  EXPECT_THAT(history(no_unit), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("unit_code")));
  pb::GetHistoryRequest negative;
  negative.set_unit_code("35.08.19");
  negative.set_page_size(-1);
  EXPECT_THAT(history(negative), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("page_size")));

  pb::DiffReportRequest no_from;
  no_from.set_unit_code("35.08.19");
  no_from.set_fiscal_year(2024);
  no_from.set_quarter(2);
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  pb::DiffReportResponse diffed;
  EXPECT_THAT(audit_->DiffReport(&context, no_from, &diffed),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("from")));

  pb::ExplainFigureRequest explain;
  explain.set_unit_code("35.08.19");
  explain.set_fiscal_year(2024);
  explain.set_quarter(2);
  explain.set_key("indicator/IKU-9/q1/capaian");
  grpc::ClientContext explain_context;
  SetDeadline(&explain_context, kRpcTimeout);
  pb::ExplainFigureResponse explained;
  EXPECT_THAT(audit_->ExplainFigure(&explain_context, explain, &explained),
              GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("key")));

  pb::ReplayRequest replay;
  replay.add_unit_prefixes("not-a-code");
  grpc::ClientContext replay_context;
  SetDeadline(&replay_context, kRpcTimeout);
  auto reader = audit_->Replay(&replay_context, replay);
  pb::ReplayResponse chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_THAT(reader->Finish(), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("unit_prefixes[0]")));
}

// Proofs over gRPC verify with nothing but the RFC 9162 verifiers: an event's
// inclusion at the head, and the head as an extension of an earlier tree.
TEST_F(AuditServiceTest, MerkleProofsOverGrpcVerify) {
  ImportReferenceAndLateEvents();
  pb::GetTreeRootResponse root;
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    ASSERT_THAT(audit_->GetTreeRoot(&context, pb::GetTreeRootRequest(), &root), GrpcOk());
  }
  EXPECT_EQ(root.tree_size(), 237u);
  for (uint64_t position : {uint64_t{1}, uint64_t{42}, uint64_t{236}, uint64_t{237}}) {
    pb::GetInclusionProofRequest request;
    request.set_position(position);
    pb::GetInclusionProofResponse proof;
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    ASSERT_THAT(audit_->GetInclusionProof(&context, request, &proof), GrpcOk());
    EXPECT_EQ(proof.root_hash(), root.root_hash());
    std::vector<std::string> path(proof.proof().begin(), proof.proof().end());
    EXPECT_TRUE(merkle::VerifyInclusion(proof.leaf_hash(), position - 1, proof.tree_size(), path, root.root_hash()))
        << position;
  }
  pb::GetConsistencyProofRequest request;
  request.set_old_size(235);
  pb::GetConsistencyProofResponse consistency;
  {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    ASSERT_THAT(audit_->GetConsistencyProof(&context, request, &consistency), GrpcOk());
  }
  std::vector<std::string> path(consistency.proof().begin(), consistency.proof().end());
  EXPECT_EQ(consistency.new_root(), root.root_hash());
  EXPECT_TRUE(merkle::VerifyConsistency(235, 237, consistency.old_root(), consistency.new_root(), path));
  pb::GetTreeRootRequest beyond;
  beyond.set_tree_size(238);
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  EXPECT_THAT(audit_->GetTreeRoot(&context, beyond, &root),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("tree_size")));
}

// A subscriber to 35.08 loses its connection in the middle of appends to
// several units, reconnects from the last next_position it saw, and ends with
// exactly the events of the units under 35.08, in order, once each.
TEST_F(AuditServiceTest, AFilteredSubscriberResumesWithNoGapAndNoDuplicate) {
  const std::vector<std::string> units = {"35.08.19", "35.09.01", "35.08.02", "36.01.01"};
  for (const std::string& unit : units) {
    pb::ProposedSakipEvent agreement = Proposed("agreement-" + unit, unit);
    auto* established = agreement.mutable_event()->mutable_agreement_established();
    established->set_unit_name("Unit " + unit);
    established->set_head_name("Kepala");
    established->set_head_nip("197304151998031011");
    ASSERT_THAT(Record({agreement}), GrpcOk());
  }
  constexpr int kRounds = 60;
  std::thread writer([&] {
    for (int round = 0; round < kRounds; ++round) {
      for (const std::string& unit : units) {
        pb::ProposedSakipEvent village = Proposed(absl::StrCat("village-", unit, "-", round), unit);
        auto* registered = village.mutable_event()->mutable_village_registered();
        registered->set_village_code(absl::StrCat(unit, ".", 2001 + round));
        registered->set_name(absl::StrCat("Desa ", round));
        registered->set_kind(pb::DESA);
        EXPECT_THAT(Record({village}), GrpcOk());
      }
    }
  });
  std::vector<uint64_t> delivered;
  uint64_t next_position = 0;
  int connections = 0;
  const size_t expected_count = 2 * (kRounds + 1);  // two units under 35.08
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (delivered.size() < expected_count && absl::Now() < give_up) {
    ++connections;
    pb::ReplayRequest request;
    request.set_from_position(next_position);
    request.add_unit_prefixes("35.08");
    request.set_follow(true);
    grpc::ClientContext context;
    auto reader = audit_->Replay(&context, request);
    pb::ReplayResponse chunk;
    int chunks_this_connection = 0;
    // Break the connection after a few chunks, as a network would.
    while (chunks_this_connection < 3 && reader->Read(&chunk)) {
      ++chunks_this_connection;
      for (const v1::RecordedEvent& event : chunk.events()) delivered.push_back(event.envelope().position());
      next_position = chunk.next_position();
    }
    context.TryCancel();
    reader->Finish();
  }
  writer.join();
  // Drain what is left after the writer finished.
  pb::ReplayRequest rest;
  rest.set_from_position(next_position);
  rest.add_unit_prefixes("35.08");
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  auto reader = audit_->Replay(&context, rest);
  pb::ReplayResponse chunk;
  while (reader->Read(&chunk)) {
    for (const v1::RecordedEvent& event : chunk.events()) delivered.push_back(event.envelope().position());
  }
  ASSERT_THAT(reader->Finish(), GrpcOk());
  EXPECT_GT(connections, 2);
  // The truth: every event of the log under 35.08, in order.
  std::vector<uint64_t> expected;
  auto page = ledger_.log()->ReadAll(1, Direction::kForward, 1000);
  ASSERT_TRUE(page.ok());
  for (const RecordedEvent& event : page->events) {
    if (event.envelope.stream_id().starts_with("35.08.")) expected.push_back(event.envelope.position());
  }
  ASSERT_EQ(expected.size(), expected_count);
  EXPECT_EQ(delivered, expected);
}

}  // namespace
}  // namespace ledger
