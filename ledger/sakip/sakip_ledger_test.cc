// The SAKIP ledger over a real RocksDB event log: validation on append,
// reports as of any moment, reconciliation, retries and conflicts.
#include "ledger/sakip/sakip_ledger.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/domain/exact.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"

namespace ledger {
namespace {

using ::ledger::projections::DomainEvent;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;
namespace reference = ::ledger::projections::testing;

std::string Capaian(const projections::Figure& figure) {
  return figure.value ? domain::FormatIndonesian(*figure.value, 2) : "-";
}

ProposedDomainEvent FromDomainEvent(const DomainEvent& event) {
  return ProposedDomainEvent{event.event_id, event.reason, "", "", event.event};
}

class SakipLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    options.clock = &clock_;
    auto log = OpenRocksEventLog(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    ledger_ = std::make_unique<SakipLedger>(log_.get(), &clock_);
  }

  // Records the reference report's events one append at a time.
  void ImportReference() {
    for (const DomainEvent& event : reference::KlakahTw2Events()) {
      auto result = ledger_->Record("operator:test", {FromDomainEvent(event)});
      ASSERT_TRUE(result.ok()) << event.event_id << ": " << result.status();
    }
  }

  ProposedDomainEvent Realization(const std::string& id, const std::string& indicator,
                                  int quarter, const std::string& value) {
    ProposedDomainEvent proposed;
    proposed.event_id = id;
    proposed.event.set_unit_code(reference::kKlakahUnitCode);
    proposed.event.set_fiscal_year(reference::kKlakahFiscalYear);
    auto* realization = proposed.event.mutable_realization_recorded();
    realization->set_indicator_id(indicator);
    realization->set_quarter(quarter);
    realization->set_value(value);
    return proposed;
  }

  TempDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1719792000)};
  std::unique_ptr<ClosableEventLog> log_;
  std::unique_ptr<SakipLedger> ledger_;
};

TEST_F(SakipLedgerTest, TheReferenceReportImportedComputesItsPrintedCapaian) {
  ImportReference();
  auto report = ledger_->Report("35.08.19", 2024, 2, AsOf::Head());
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->indicators.size(), 2u);
  const auto& iku1 = report->indicators[0];
  EXPECT_EQ(Capaian(iku1.quarters[0].capaian), "39,64");
  EXPECT_EQ(Capaian(iku1.quarters[1].capaian), "17,81");
  EXPECT_EQ(Capaian(iku1.year_end_capaian), "57,45");
  EXPECT_EQ(Capaian(report->indicators[1].year_end_capaian), "34,29");
  EXPECT_EQ(Capaian(report->total.cumulative_absorption), "49,93");

  auto reconciliation = ledger_->Reconcile("35.08.19", 2024, reference::kKlakahReportId);
  ASSERT_TRUE(reconciliation.ok()) << reconciliation.status();
  EXPECT_EQ(reconciliation->discrepancies.size(), 11u);
}

TEST_F(SakipLedgerTest, AReportAsOfAPastMomentIgnoresLaterCorrectionsAndRevisions) {
  std::vector<DomainEvent> events = reference::KlakahTw2Events();
  // Up to (not including) the first realization: the agreement and its parts.
  size_t first_realization = 0;
  while (!events[first_realization].event.has_realization_recorded()) ++first_realization;
  for (size_t i = 0; i < first_realization; ++i) {
    ASSERT_TRUE(ledger_->Record("operator:test", {FromDomainEvent(events[i])}).ok());
  }
  clock_.Advance(absl::Hours(1));
  auto recorded = ledger_->Record("operator:test", {Realization("r-1", "IKU-1", 1, "37.84")});
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  const uint64_t first_moment = recorded->last_position;
  const absl::Time first_time = clock_.Now();

  clock_.Advance(absl::Hours(72));
  ProposedDomainEvent correction;
  correction.event_id = "c-1";
  correction.reason = "Salah ketik: 38,84";
  correction.event.set_unit_code("35.08.19");
  correction.event.set_fiscal_year(2024);
  correction.event.mutable_realization_corrected()->set_corrects_event_id("r-1");
  correction.event.mutable_realization_corrected()->set_value("38.84");
  ProposedDomainEvent revision;
  revision.event_id = "t-1";
  revision.reason = "Perubahan PK";
  revision.event.set_unit_code("35.08.19");
  revision.event.set_fiscal_year(2024);
  revision.event.mutable_target_revised()->set_indicator_id("IKU-1");
  revision.event.mutable_target_revised()->set_annual_target("97.12");
  ASSERT_TRUE(ledger_->Record("operator:test", {correction}).ok());
  ASSERT_TRUE(ledger_->Record("admin:test", {revision}).ok());

  auto then = ledger_->Report("35.08.19", 2024, 1, AsOf::Position(first_moment));
  auto then_by_time = ledger_->Report("35.08.19", 2024, 1, AsOf::Time(first_time));
  auto now = ledger_->Report("35.08.19", 2024, 1, AsOf::Head());
  ASSERT_TRUE(then.ok() && then_by_time.ok() && now.ok());
  EXPECT_EQ(Capaian(then->indicators[0].quarters[0].capaian), "39,64");     // 37.84 / 95.45
  EXPECT_EQ(Capaian(then_by_time->indicators[0].quarters[0].capaian), "39,64");
  EXPECT_EQ(Capaian(now->indicators[0].quarters[0].capaian), "39,99");      // 38.84 / 97.12
  EXPECT_EQ(domain::FormatPlain(*now->indicators[0].target.value, 2), "97.12");
  EXPECT_EQ(domain::FormatPlain(*then->indicators[0].target.value, 2), "95.45");
}

TEST_F(SakipLedgerTest, InvalidDomainEventsAreRefusedAndWriteNothing) {
  ImportReference();
  const uint64_t head = log_->GetHead().position;
  EXPECT_THAT(ledger_->Record("operator:test", {Realization("bad-1", "IKU-9", 3, "1")}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("events[0].")));
  EXPECT_THAT(ledger_->Record("operator:test", {Realization("bad-2", "IKU-1", 5, "1")}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quarter")));
  ProposedDomainEvent other_year = Realization("bad-3", "IKU-1", 3, "1");
  other_year.event.set_fiscal_year(2025);
  EXPECT_THAT(ledger_->Record("operator:test", {other_year}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("AgreementEstablished")));
  EXPECT_THAT(ledger_->Record("operator:test", {Realization("ok", "IKU-1", 3, "1"), other_year}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events[1].event")));
  ProposedDomainEvent bad_unit = Realization("bad-4", "IKU-1", 3, "1");
  bad_unit.event.set_unit_code("35.8");
  EXPECT_THAT(ledger_->Record("operator:test", {bad_unit}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_code")));
  EXPECT_EQ(log_->GetHead().position, head);
}

TEST_F(SakipLedgerTest, ARetryReturnsTheOriginalPositions) {
  ImportReference();
  auto first = ledger_->Record("operator:test", {Realization("r-3", "IKU-1", 3, "10")});
  ASSERT_TRUE(first.ok()) << first.status();
  auto retry = ledger_->Record("operator:test", {Realization("r-3", "IKU-1", 3, "10")});
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_recorded);
  EXPECT_EQ(retry->first_position, first->first_position);
  EXPECT_THAT(ledger_->Record("operator:test", {Realization("r-3", "IKU-1", 3, "11")}),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST_F(SakipLedgerTest, ConcurrentRecordersOfOneUnitYearAllSucceedInSomeOrder) {
  ImportReference();
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      ProposedDomainEvent entry;
      entry.event_id = absl::StrCat("check-", t);
      entry.event.set_unit_code("35.08.19");
      entry.event.set_fiscal_year(2024);
      auto* checklist = entry.event.mutable_checklist_entry_recorded();
      checklist->set_activity_id("A02");
      checklist->set_village_code(absl::StrCat("35.08.19.", 2001 + t));
      checklist->set_quarter(3);
      checklist->set_done(true);
      if (!ledger_->Record("operator:test", {entry}).ok()) ++failures;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  auto view = ledger_->Load("35.08.19", 2024, AsOf::Head());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->events.size(), reference::KlakahTw2Events().size() + 4);
}

TEST_F(SakipLedgerTest, OtherEventsInAUnitYearStreamDoNotDisturbItsReports) {
  ImportReference();
  AppendRequest note{"35.08.19/2024", ExpectedVersion::Any(),
                     {ProposedEvent{"note-1", "NoteAttached", "{\"text\":\"scan of SP2D\"}",
                                    "application/json", "", "", ""}},
                     "operator:test"};
  ASSERT_TRUE(log_->Append(std::move(note)).ok());
  auto report = ledger_->Report("35.08.19", 2024, 2, AsOf::Head());
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(Capaian(report->indicators[0].year_end_capaian), "57,45");
  // Deciding still works on top of it (the stream version includes the note).
  EXPECT_TRUE(ledger_->Record("operator:test", {Realization("r-4", "IKU-1", 3, "5")}).ok());
}

// Four-eyes rules: who signs and who disposes are checked against the
// principal recording, and a refusal writes nothing.
class FourEyesTest : public SakipLedgerTest {
 protected:
  static constexpr char kCamatNip[] = "197304151998031011";
  static constexpr char kSupervisorNip[] = "196805121994031004";  // Sekretaris Daerah
  const Recorder operator_{"operator.klakah", "", true};
  const Recorder camat_{"camat.klakah", kCamatNip, true};
  const Recorder supervisor_{"sekda.lumajang", kSupervisorNip, true};

  // Everything before the submission, by the operator; returns the submission.
  ProposedDomainEvent RecordUpToSubmission() {
    ProposedDomainEvent submission;
    for (const DomainEvent& event : reference::KlakahTw2Events()) {
      if (event.event.has_report_submitted()) {
        submission = FromDomainEvent(event);
        continue;
      }
      auto result = ledger_->Record(operator_, {FromDomainEvent(event)});
      EXPECT_TRUE(result.ok()) << event.event_id << ": " << result.status();
    }
    return submission;
  }

  ProposedDomainEvent Disposition(const std::string& nip) {
    ProposedDomainEvent proposed;
    proposed.event_id = "dispose-" + nip;
    proposed.event.set_unit_code(reference::kKlakahUnitCode);
    proposed.event.set_fiscal_year(reference::kKlakahFiscalYear);
    auto* disposed = proposed.event.mutable_report_disposed();
    disposed->set_report_id(reference::kKlakahReportId);
    disposed->add_options(sakip::v1::LAPORAN_SUDAH_BAIK);
    disposed->set_supervisor_name("Sekretaris Daerah");
    disposed->set_supervisor_nip(nip);
    return proposed;
  }

  void ExpectRefused(const Recorder& recorder, ProposedDomainEvent event,
                     const std::string& message) {
    const uint64_t head = log_->GetHead().position;
    auto result = ledger_->Record(recorder, {std::move(event)});
    EXPECT_TRUE(absl::IsPermissionDenied(result.status())) << result.status();
    EXPECT_THAT(std::string(result.status().message()), HasSubstr(message));
    EXPECT_EQ(log_->GetHead().position, head) << "a refusal wrote something";
  }
};

TEST_F(FourEyesTest, AReportIsSubmittedOnlyByTheSignerItDeclares) {
  ProposedDomainEvent submission = RecordUpToSubmission();
  ExpectRefused(operator_, submission,
                "events[0].report_submitted.signer_nip: principal 'operator.klakah' has no NIP");
  ExpectRefused(supervisor_, submission,
                "events[0].report_submitted.signer_nip: 197304151998031011 is not the NIP of "
                "principal 'sekda.lumajang' (196805121994031004)");
  auto accepted = ledger_->Record(camat_, {submission});
  EXPECT_TRUE(accepted.ok()) << accepted.status();
}

TEST_F(FourEyesTest, WhoRecordedOrSubmittedMayNotDispose) {
  ProposedDomainEvent submission = RecordUpToSubmission();
  ASSERT_TRUE(ledger_->Record(camat_, {submission}).ok());
  // The operator recorded the report's realizations, even with the right NIP.
  const Recorder operator_with_nip{"operator.klakah", kSupervisorNip, true};
  ExpectRefused(operator_with_nip, Disposition(kSupervisorNip),
                "principal 'operator.klakah' recorded realization event");
  ExpectRefused(operator_with_nip, Disposition(kSupervisorNip), "(four-eyes rule)");
  // The signer may not dispose of the report it submitted.
  const Recorder camat_as_supervisor{"camat.klakah", kSupervisorNip, true};
  ExpectRefused(camat_as_supervisor, Disposition(kSupervisorNip),
                "principal 'camat.klakah' submitted report");
  // The body may not name another supervisor.
  ExpectRefused(supervisor_, Disposition(kCamatNip),
                "report_disposed.supervisor_nip: 197304151998031011 is not the NIP of principal "
                "'sekda.lumajang'");
  auto accepted = ledger_->Record(supervisor_, {Disposition(kSupervisorNip)});
  EXPECT_TRUE(accepted.ok()) << accepted.status();
}

TEST_F(FourEyesTest, ARealizationRecordedAfterTheSubmissionIsNotInTheReport) {
  ProposedDomainEvent submission = RecordUpToSubmission();
  ASSERT_TRUE(ledger_->Record(camat_, {submission}).ok());
  // A TW III realization by a second operator, after the submission.
  const Recorder late_operator{"operator2.klakah", kSupervisorNip, true};
  ProposedDomainEvent late = Realization("late-tw3", "IKU-1", 3, "10");
  ASSERT_TRUE(ledger_->Record(late_operator, {late}).ok());
  auto accepted = ledger_->Record(late_operator, {Disposition(kSupervisorNip)});
  EXPECT_TRUE(accepted.ok()) << accepted.status();
}

TEST_F(FourEyesTest, ALocalIdentityWithoutSeparationRecordsEverything) {
  ImportReference();  // one actor, Record(string_view): separation off
  auto accepted = ledger_->Record("operator:test", {Disposition(kSupervisorNip)});
  EXPECT_TRUE(accepted.ok()) << accepted.status();
}

TEST(StreamIdTest, NamesUnitAndYear) {
  EXPECT_EQ(*StreamIdFor("35.08.19", 2024), "35.08.19/2024");
  EXPECT_THAT(StreamIdFor("35.08.19", 1999), StatusIs(absl::StatusCode::kInvalidArgument,
                                                      HasSubstr("fiscal_year")));
  EXPECT_THAT(StreamIdFor("x", 2024), StatusIs(absl::StatusCode::kInvalidArgument,
                                               HasSubstr("unit_code")));
}

}  // namespace
}  // namespace ledger
