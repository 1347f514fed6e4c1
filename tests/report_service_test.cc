// The SAKIP ReportService end to end: an in-process server on port 0 over a
// RocksDB event log in a temporary directory, and a real channel. The
// reference report (Kecamatan Klakah, TW II 2024) is recorded through
// RecordEvents; its figures come back through GetReport, as of now and as of
// an earlier position; Reconcile lists its 11 discrepancies; invalid domain
// events get their status code, a message naming the field, and write nothing.
#include <memory>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "sakip/v1/report_service.grpc.pb.h"
#include "services/server.h"
#include "tests/support/in_process_ledger.h"
#include "tests/support/ledgerd_process.h"
#ifdef LEDGER_TEST_HAVE_HEALTH_PROTO
#include "grpc/health/v1/health.grpc.pb.h"
#endif

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
constexpr size_t kBatchSize = 100;  // events per RecordEvents, as ledgerctl import sends them

pb::ProposedSakipEvent ToProposed(const projections::DomainEvent& event) {
  pb::ProposedSakipEvent proposed;
  proposed.set_event_id(event.event_id);
  proposed.set_reason(event.reason);
  *proposed.mutable_event() = event.event;
  return proposed;
}

// A SakipEvent of the reference unit-year (or another year).
pb::ProposedSakipEvent Klakah(const std::string& event_id, int fiscal_year = 2024) {
  pb::ProposedSakipEvent proposed;
  proposed.set_event_id(event_id);
  proposed.mutable_event()->set_unit_code(reference::kKlakahUnitCode);
  proposed.mutable_event()->set_fiscal_year(fiscal_year);
  return proposed;
}

pb::ProposedSakipEvent Realization(const std::string& event_id, const std::string& indicator,
                                   int quarter, const std::string& value, int fiscal_year = 2024) {
  pb::ProposedSakipEvent proposed = Klakah(event_id, fiscal_year);
  auto* realization = proposed.mutable_event()->mutable_realization_recorded();
  realization->set_indicator_id(indicator);
  realization->set_quarter(quarter);
  realization->set_value(value);
  return proposed;
}

class ReportServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(served_.Start("test:report"), IsOk());
    reports_ = pb::ReportService::NewStub(served_.channel());
    ledger_ = v1::LedgerService::NewStub(served_.channel());
  }

  grpc::Status Record(const std::vector<pb::ProposedSakipEvent>& events,
                      pb::RecordEventsResponse* response = nullptr) {
    pb::RecordEventsRequest request;
    for (const pb::ProposedSakipEvent& event : events) *request.add_events() = event;
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    pb::RecordEventsResponse ignored;
    return reports_->RecordEvents(&context, request, response ? response : &ignored);
  }

  // Records the reference report's events in batches; returns how many
  // batches said already_recorded.
  int ImportReference() {
    std::vector<projections::DomainEvent> events = reference::KlakahTw2Events();
    int already_recorded = 0;
    for (size_t start = 0; start < events.size(); start += kBatchSize) {
      std::vector<pb::ProposedSakipEvent> batch;
      for (size_t i = start; i < std::min(events.size(), start + kBatchSize); ++i) {
        batch.push_back(ToProposed(events[i]));
      }
      pb::RecordEventsResponse response;
      EXPECT_THAT(Record(batch, &response), GrpcOk()) << "batch at " << start;
      already_recorded += response.already_recorded() ? 1 : 0;
    }
    return already_recorded;
  }

  grpc::Status GetReport(pb::GetReportRequest request, pb::GetReportResponse* response) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    return reports_->GetReport(&context, request, response);
  }

  pb::GetReportResponse Report(int quarter, std::optional<uint64_t> position = std::nullopt) {
    pb::GetReportRequest request;
    request.set_unit_code(reference::kKlakahUnitCode);
    request.set_fiscal_year(reference::kKlakahFiscalYear);
    request.set_quarter(quarter);
    if (position) request.set_position(*position);
    pb::GetReportResponse response;
    EXPECT_THAT(GetReport(request, &response), GrpcOk());
    return response;
  }

  uint64_t HeadPosition() {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::GetHeadResponse head;
    EXPECT_THAT(ledger_->GetHead(&context, v1::GetHeadRequest(), &head), GrpcOk());
    return head.position();
  }

  ::ledger::testing::InProcessLedger served_;
  std::unique_ptr<pb::ReportService::Stub> reports_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_;
};

TEST_F(ReportServiceTest, TheReferenceReportRecordedComputesItsPrintedFigures) {
  EXPECT_EQ(ImportReference(), 0);
  pb::GetReportResponse response = Report(2);
  const pb::Report& report = response.report();
  EXPECT_EQ(response.as_of_position(), reference::KlakahTw2Events().size());
  EXPECT_EQ(report.unit_name(), "Kecamatan Klakah");
  ASSERT_EQ(report.indicators_size(), 2);
  const pb::IndicatorRow& iku1 = report.indicators(0);
  ASSERT_EQ(iku1.quarters_size(), 4);
  EXPECT_EQ(iku1.quarters(0).capaian().indonesian(), "39,64");
  EXPECT_EQ(iku1.year_end_capaian().indonesian(), "57,45");
  EXPECT_EQ(iku1.year_end_capaian().plain(), "57.45");
  EXPECT_FALSE(iku1.year_end_capaian().formula().empty());
  EXPECT_FALSE(iku1.year_end_capaian().event_ids().empty());
  EXPECT_FALSE(iku1.predicate().empty());
  const pb::IndicatorRow& iku2 = report.indicators(1);
  EXPECT_EQ(iku2.year_end_capaian().indonesian(), "34,29");
  EXPECT_EQ(iku2.quarters(0).realization().exact(), "100/3");  // 12/36 x 100, exact
  EXPECT_FALSE(iku2.quarters(1).realization().present());      // printed "-"
  EXPECT_FALSE(iku1.quarters(2).capaian().present());          // after TW II
  EXPECT_EQ(report.total().cumulative_absorption().indonesian(), "49,93");
  EXPECT_EQ(report.programmes_size(), 6);
  ASSERT_EQ(report.reports_size(), 1);
  EXPECT_EQ(report.reports(0).report_id(), reference::kKlakahReportId);
  EXPECT_FALSE(report.reports(0).disposed());
}

TEST_F(ReportServiceTest, ReRecordingTheSameEventsIsIdempotent) {
  ImportReference();
  const uint64_t head = HeadPosition();
  const int batches = (reference::KlakahTw2Events().size() + kBatchSize - 1) / kBatchSize;
  EXPECT_EQ(ImportReference(), batches);
  EXPECT_EQ(HeadPosition(), head);
}

TEST_F(ReportServiceTest, AReportAsOfAnEarlierPositionIgnoresALaterCorrection) {
  ImportReference();
  const uint64_t before = HeadPosition();
  std::string iku1_q1_id;
  for (const projections::DomainEvent& event : reference::KlakahTw2Events()) {
    const auto& realization = event.event.realization_recorded();
    if (event.event.has_realization_recorded() && realization.indicator_id() == "IKU-1" &&
        realization.quarter() == 1) {
      iku1_q1_id = event.event_id;
    }
  }
  ASSERT_FALSE(iku1_q1_id.empty());
  pb::ProposedSakipEvent correction = Klakah("correction-1");
  correction.set_reason("Salah ketik: 38,84");
  correction.mutable_event()->mutable_realization_corrected()->set_corrects_event_id(iku1_q1_id);
  correction.mutable_event()->mutable_realization_corrected()->set_value("38.84");
  ASSERT_THAT(Record({correction}), GrpcOk());

  pb::GetReportResponse then = Report(2, before);
  pb::GetReportResponse now = Report(2);
  EXPECT_EQ(then.as_of_position(), before);
  EXPECT_EQ(now.as_of_position(), before + 1);
  EXPECT_EQ(then.report().indicators(0).quarters(0).capaian().indonesian(), "39,64");
  EXPECT_EQ(now.report().indicators(0).quarters(0).capaian().indonesian(), "40,69");
  EXPECT_EQ(then.report().indicators(0).year_end_capaian().indonesian(), "57,45");
  EXPECT_NE(now.report().indicators(0).year_end_capaian().indonesian(), "57,45");
}

TEST_F(ReportServiceTest, AReportAsOfATimeBeforeAnythingWasRecordedIsNotFound) {
  ImportReference();
  pb::GetReportRequest request;
  request.set_unit_code(reference::kKlakahUnitCode);
  request.set_fiscal_year(reference::kKlakahFiscalYear);
  request.set_quarter(2);
  request.set_at_micros(absl::ToUnixMicros(absl::FromUnixSeconds(946684800)));  // 2000-01-01
  pb::GetReportResponse response;
  EXPECT_THAT(GetReport(request, &response),
              GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("agreement")));
  request.set_at_micros(absl::ToUnixMicros(absl::Now()));
  ASSERT_THAT(GetReport(request, &response), GrpcOk());
  ASSERT_GT(response.report().indicators_size(), 0);
  EXPECT_EQ(response.report().indicators(0).year_end_capaian().indonesian(), "57,45");
}

TEST_F(ReportServiceTest, GetReportRefusesBadRequestsNamingTheField) {
  ImportReference();
  pb::GetReportRequest request;
  request.set_unit_code(reference::kKlakahUnitCode);
  request.set_fiscal_year(reference::kKlakahFiscalYear);
  pb::GetReportResponse response;
  request.set_quarter(5);
  EXPECT_THAT(GetReport(request, &response),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("quarter")));
  request.set_quarter(2);
  request.set_position(HeadPosition() + 10);
  EXPECT_THAT(GetReport(request, &response),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("position")));
  request.clear_as_of();
  request.set_unit_code("35.8");
  EXPECT_THAT(GetReport(request, &response),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("unit_code")));
  request.set_unit_code("35.08.20");
  EXPECT_THAT(GetReport(request, &response), GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("35.08.20")));
}

TEST_F(ReportServiceTest, ReconcileListsTheElevenDiscrepanciesOfTheReference) {
  ImportReference();
  pb::ReconcileRequest request;
  request.set_unit_code(reference::kKlakahUnitCode);
  request.set_fiscal_year(reference::kKlakahFiscalYear);
  request.set_report_id(reference::kKlakahReportId);
  pb::ReconcileResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  ASSERT_THAT(reports_->Reconcile(&context, request, &response), GrpcOk());
  EXPECT_EQ(response.discrepancies_size(), 11);
  EXPECT_EQ(response.figures_checked() - response.figures_agreeing(), 11);
  EXPECT_EQ(response.as_of_position(), reference::KlakahTw2Events().size());
  bool found_average = false;
  for (const pb::Discrepancy& discrepancy : response.discrepancies()) {
    if (discrepancy.key() != "average/q1/capaian#pengukuran") continue;
    found_average = true;
    EXPECT_EQ(discrepancy.kind(), pb::Discrepancy::KIND_DIFFERS);
    EXPECT_EQ(discrepancy.declared(), "24.64");
    EXPECT_EQ(discrepancy.recomputed_rounded(), "36.97");
    EXPECT_FALSE(discrepancy.recomputed_exact().empty());
    EXPECT_FALSE(discrepancy.formula().empty());
    EXPECT_FALSE(discrepancy.event_ids().empty());
  }
  EXPECT_TRUE(found_average);

  grpc::ClientContext missing_context;
  SetDeadline(&missing_context, kRpcTimeout);
  request.set_report_id("NO-SUCH-REPORT");
  EXPECT_THAT(reports_->Reconcile(&missing_context, request, &response),
              GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("NO-SUCH-REPORT")));
}

// One invalid event, the code it gets, and a word its message must contain.
struct Refusal {
  std::string what;
  pb::ProposedSakipEvent event;
  grpc::StatusCode code;
  std::string field;
};

std::vector<Refusal> Refusals() {
  std::vector<Refusal> refusals;
  refusals.push_back({"unknown indicator", Realization("bad-indicator", "IKU-9", 3, "1"),
                      grpc::StatusCode::FAILED_PRECONDITION, "indicator_id"});
  refusals.push_back({"quarter 5", Realization("bad-quarter", "IKU-1", 5, "1"),
                      grpc::StatusCode::INVALID_ARGUMENT, "realization_recorded.quarter"});
  refusals.push_back({"no agreement for the year", Realization("bad-year", "IKU-1", 1, "1", 2025),
                      grpc::StatusCode::FAILED_PRECONDITION, "AgreementEstablished"});
  pb::ProposedSakipEvent negative = Klakah("bad-amount");
  auto* disbursement = negative.mutable_event()->mutable_disbursement_recorded();
  disbursement->set_programme_id("PRG-1");
  disbursement->set_quarter(3);
  disbursement->set_amount("-1000");
  refusals.push_back({"negative amount", negative, grpc::StatusCode::INVALID_ARGUMENT,
                      "disbursement_recorded.amount"});
  pb::ProposedSakipEvent bad_nip = Klakah("bad-nip");
  auto* submitted = bad_nip.mutable_event()->mutable_report_submitted();
  submitted->set_report_id("LKI-TW3");
  submitted->set_quarter(3);
  submitted->set_signer_name("ARIEF MASHUDI");
  submitted->set_signer_nip("19731315 199803 1 011");  // month 13
  refusals.push_back({"invalid NIP", bad_nip, grpc::StatusCode::INVALID_ARGUMENT, "signer_nip"});
  pb::ProposedSakipEvent unsubmitted = Klakah("bad-disposition");
  auto* disposed = unsubmitted.mutable_event()->mutable_report_disposed();
  disposed->set_report_id("LKI-NEVER-SUBMITTED");
  disposed->add_options(pb::LAPORAN_SUDAH_BAIK);
  disposed->set_supervisor_name("Bupati");
  disposed->set_supervisor_nip(reference::kKlakahHeadNip);
  refusals.push_back({"disposition of an unsubmitted report", unsubmitted,
                      grpc::StatusCode::FAILED_PRECONDITION, "report_id"});

  pb::ProposedSakipEvent unknown_programme = Klakah("bad-programme");
  auto* spent = unknown_programme.mutable_event()->mutable_disbursement_recorded();
  spent->set_programme_id("PRG-9");
  spent->set_quarter(3);
  spent->set_amount("1000");
  refusals.push_back({"unknown programme", unknown_programme,
                      grpc::StatusCode::FAILED_PRECONDITION, "programme_id"});
  pb::ProposedSakipEvent unknown_village = Klakah("bad-village");
  auto* entry = unknown_village.mutable_event()->mutable_checklist_entry_recorded();
  entry->set_activity_id("A01");
  entry->set_village_code("35.08.19.2099");
  entry->set_quarter(3);
  entry->set_done(true);
  refusals.push_back({"unknown village", unknown_village, grpc::StatusCode::FAILED_PRECONDITION,
                      "village_code"});
  pb::ProposedSakipEvent bad_area = unknown_village;
  bad_area.set_event_id("bad-area-code");
  bad_area.mutable_event()->mutable_checklist_entry_recorded()->set_village_code("35.08.19.20x1");
  refusals.push_back({"invalid area code", bad_area, grpc::StatusCode::INVALID_ARGUMENT,
                      "village_code"});
  pb::ProposedSakipEvent zero_target = Klakah("bad-target");
  zero_target.set_reason("Perubahan PK");
  zero_target.mutable_event()->mutable_target_revised()->set_indicator_id("IKU-1");
  zero_target.mutable_event()->mutable_target_revised()->set_annual_target("0");
  refusals.push_back({"zero target", zero_target, grpc::StatusCode::INVALID_ARGUMENT,
                      "annual_target"});
  pb::ProposedSakipEvent zero_denominator = Klakah("bad-denominator");
  auto* counted = zero_denominator.mutable_event()->mutable_realization_recorded();
  counted->set_indicator_id("IKU-2");
  counted->set_quarter(3);
  auto* numerator = counted->mutable_counts()->add_numerator_parts();
  numerator->set_label("APBDes");
  numerator->set_value("3");
  auto* denominator = counted->mutable_counts()->add_denominator_parts();
  denominator->set_label("desa");
  denominator->set_value("0");
  refusals.push_back({"denominator of zero", zero_denominator,
                      grpc::StatusCode::INVALID_ARGUMENT, "denominator"});
  pb::ProposedSakipEvent correct_nothing = Klakah("bad-correction");
  correct_nothing.set_reason("Koreksi");
  auto* correction = correct_nothing.mutable_event()->mutable_realization_corrected();
  correction->set_corrects_event_id("no-such-event");
  correction->set_value("1");
  refusals.push_back({"correction of an event that does not exist", correct_nothing,
                      grpc::StatusCode::FAILED_PRECONDITION, "corrects_event_id"});
  pb::ProposedSakipEvent correct_other_kind = correct_nothing;
  correct_other_kind.set_event_id("bad-correction-kind");
  correct_other_kind.mutable_event()->mutable_realization_corrected()->set_corrects_event_id(
      "klakah-2024-0044");  // a DisbursementRecorded
  refusals.push_back({"correction of an event of another kind", correct_other_kind,
                      grpc::StatusCode::FAILED_PRECONDITION, "corrects_event_id"});
  pb::ProposedSakipEvent reverse_other_kind = Klakah("bad-reversal");
  reverse_other_kind.set_reason("Salah program");
  reverse_other_kind.mutable_event()->mutable_disbursement_reversed()->set_reverses_event_id(
      "klakah-2024-0042");  // a RealizationRecorded
  refusals.push_back({"reversal of an event of another kind", reverse_other_kind,
                      grpc::StatusCode::FAILED_PRECONDITION, "reverses_event_id"});
  pb::ProposedSakipEvent bad_date = Klakah("bad-date");
  auto* paid = bad_date.mutable_event()->mutable_disbursement_recorded();
  paid->set_programme_id("PRG-1");
  paid->set_quarter(3);
  paid->set_amount("1000");
  paid->set_document_ref("SP2D-0001");
  paid->set_paid_on("2024-02-30");
  refusals.push_back({"a date that does not exist", bad_date, grpc::StatusCode::INVALID_ARGUMENT,
                      "disbursement_recorded.paid_on"});
  return refusals;
}

TEST_F(ReportServiceTest, InvalidDomainEventsAreRefusedNamingTheFieldAndWriteNothing) {
  ImportReference();
  const uint64_t head = HeadPosition();
  for (const Refusal& refusal : Refusals()) {
    EXPECT_THAT(Record({refusal.event}), GrpcIs(refusal.code, HasSubstr(refusal.field)))
        << refusal.what;
    EXPECT_EQ(HeadPosition(), head) << refusal.what;
  }
  // A valid event before an invalid one: the whole call is refused.
  EXPECT_THAT(Record({Realization("ok-3", "IKU-1", 3, "1"), Refusals()[1].event}),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("events[1].")));
  EXPECT_THAT(Record({}), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("events")));
  EXPECT_EQ(HeadPosition(), head);
}

TEST_F(ReportServiceTest, TheRawLogRefusesSakipEventsThatBypassValidation) {
  ImportReference();
  const uint64_t head = HeadPosition();
  ledger::v1::AppendRequest request;
  request.set_stream_id("35.08.19/2024");
  request.mutable_expected_version()->mutable_any();
  ledger::v1::ProposedEvent* event = request.add_events();
  event->set_event_id("raw-sakip");
  event->set_event_type("RealizationRecorded");
  event->set_content_type(ledger::kSakipContentType);
  event->set_payload(Realization("raw-sakip", "IKU-1", 1, "99").event().SerializeAsString());
  ledger::v1::AppendResponse response;
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  EXPECT_THAT(ledger_->Append(&context, request, &response),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                     HasSubstr("events[0].content_type: SAKIP domain events")));
  EXPECT_EQ(HeadPosition(), head);
}

TEST_F(ReportServiceTest, HealthCheckServesTheReportService) {
#ifdef LEDGER_TEST_HAVE_HEALTH_PROTO
  auto health = grpc::health::v1::Health::NewStub(served_.channel());
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("sakip.v1.ReportService");
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_THAT(health->Check(&context, request, &response), GrpcOk());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
#else
  GTEST_SKIP() << "grpc/health/v1/health.proto (package grpc-proto) was not found at build time";
#endif
}

}  // namespace
}  // namespace ledger
