// The audit over a real RocksDB log holding the reference report, then a
// correction of IKU-1's Triwulan I realization and a supervisor's disposition
// recorded after the submission.
#include "ledger/audit/audit_ledger.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/audit/figures.h"
#include "ledger/domain/exact.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::audit {
namespace {

using ::ledger::projections::DomainEvent;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
namespace reference = ::ledger::projections::testing;

constexpr char kUnit[] = "35.08.19";
constexpr int kYear = 2024;
constexpr char kOriginalQ1[] = "klakah-2024-0042";  // IKU-1, TW I, 37.84
constexpr char kCorrection[] = "audit-correction-1";
constexpr char kDisposition[] = "audit-disposition-1";

const absl::Time kImportedAt = absl::FromUnixSeconds(1720569600);  // 2024-07-10 00:00 UTC

std::vector<std::string> Ids(const std::vector<HistoryEntry>& entries) {
  std::vector<std::string> ids;
  for (const HistoryEntry& entry : entries) ids.push_back(entry.event_id);
  return ids;
}

std::string Value(const std::optional<projections::Figure>& figure) {
  if (!figure || !figure->value) return "-";
  return domain::FormatPlain(*figure->value, 2);
}

class AuditLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    options.clock = &clock_;
    auto log = OpenRocksEventLog(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
    sakip_ = std::make_unique<SakipLedger>(log_.get(), &clock_);
    audit_ = std::make_unique<AuditLedger>(log_.get());
    std::vector<ProposedDomainEvent> events;
    for (const DomainEvent& event : reference::KlakahTw2Events()) {
      events.push_back({event.event_id, event.reason, "", "", event.event});
    }
    auto imported = sakip_->Record("operator:klakah", std::move(events));
    ASSERT_TRUE(imported.ok()) << imported.status();
    submitted_position_ = imported->last_position;
  }

  ProposedDomainEvent Proposed(const std::string& id, const std::string& reason) {
    ProposedDomainEvent proposed;
    proposed.event_id = id;
    proposed.reason = reason;
    proposed.correlation_id = "review-2024-07";
    proposed.event.set_unit_code(kUnit);
    proposed.event.set_fiscal_year(kYear);
    return proposed;
  }

  // The correction a day after the import, the disposition a day later.
  void RecordLateEvents() {
    clock_.Advance(absl::Hours(24));
    ProposedDomainEvent correction = Proposed(kCorrection, "Salah ketik: 37,84 seharusnya 40");
    correction.event.mutable_realization_corrected()->set_corrects_event_id(kOriginalQ1);
    correction.event.mutable_realization_corrected()->set_value("40");
    ASSERT_TRUE(sakip_->Record("operator:klakah", {correction}).ok());
    clock_.Advance(absl::Hours(24));
    ProposedDomainEvent disposition = Proposed(kDisposition, "Target dan realisasi diteliti ulang");
    auto* disposed = disposition.event.mutable_report_disposed();
    disposed->set_report_id(reference::kKlakahReportId);
    disposed->add_options(sakip::v1::TARGET_DAN_REALISASI_DITELITI_ULANG);
    disposed->set_supervisor_name("Sekretaris Daerah");
    disposed->set_supervisor_nip("196805121994031007");
    auto result = sakip_->Record("supervisor:sekda", {disposition});
    ASSERT_TRUE(result.ok()) << result.status();
  }

  TempDir dir_;
  ManualClock clock_{kImportedAt};
  std::unique_ptr<ClosableEventLog> log_;
  std::unique_ptr<SakipLedger> sakip_;
  std::unique_ptr<AuditLedger> audit_;
  uint64_t submitted_position_ = 0;
};

TEST_F(AuditLedgerTest, HistoryOfAnIndicatorShowsTheCorrectionWithOldAndNewValue) {
  RecordLateEvents();
  HistoryQuery query{.unit_code = kUnit, .subject = "indicator/IKU-1", .newest_first = true};
  auto page = audit_->History(query);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_GE(page->entries.size(), 4u);  // defined, TW I, TW II, corrected (+ programmes naming it)
  const HistoryEntry& newest = page->entries.front();
  EXPECT_EQ(newest.event_id, kCorrection);
  EXPECT_EQ(newest.event_type, "RealizationCorrected");
  EXPECT_EQ(newest.actor, "operator:klakah");
  EXPECT_EQ(newest.recorded_at, kImportedAt + absl::Hours(24));
  EXPECT_EQ(newest.quarter, 1);
  EXPECT_EQ(newest.reason, "Salah ketik: 37,84 seharusnya 40");
  EXPECT_EQ(newest.refers_to_event_id, kOriginalQ1);
  EXPECT_EQ(newest.correlation_id, "review-2024-07");
  EXPECT_THAT(newest.changes, ElementsAre(ValueChange{"realization", "37.84", "40"}));
  EXPECT_THAT(newest.summary, HasSubstr("IKU-1 TW 1 realization corrected: 37.84 -> 40"));
  // The original is still there, unchanged: a mistake is fixed by a new event.
  auto original = std::find_if(page->entries.begin(), page->entries.end(),
                               [](const HistoryEntry& e) { return e.event_id == kOriginalQ1; });
  ASSERT_NE(original, page->entries.end());
  EXPECT_THAT(original->changes, ElementsAre(ValueChange{"realization", "", "37.84"}));
  EXPECT_EQ(original->recorded_at, kImportedAt);
  for (size_t i = 1; i < page->entries.size(); ++i) {
    EXPECT_GT(page->entries[i - 1].position, page->entries[i].position);
  }
}

TEST_F(AuditLedgerTest, HistoryOfAReportShowsTheSubmissionAndTheDisposition) {
  RecordLateEvents();
  auto page = audit_->History({.unit_code = kUnit, .subject = absl::StrCat("report/", reference::kKlakahReportId)});
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->entries.size(), 2u);
  EXPECT_EQ(page->entries[0].event_type, "ReportSubmitted");
  EXPECT_EQ(page->entries[0].quarter, 2);
  const HistoryEntry& disposed = page->entries[1];
  EXPECT_EQ(disposed.event_id, kDisposition);
  EXPECT_EQ(disposed.actor, "supervisor:sekda");
  EXPECT_EQ(disposed.reason, "Target dan realisasi diteliti ulang");
  EXPECT_EQ(disposed.quarter, 2);
  EXPECT_EQ(disposed.refers_to_event_id, page->entries[0].event_id);
  EXPECT_THAT(disposed.changes,
              ElementsAre(ValueChange{"disposition", "", "TARGET_DAN_REALISASI_DITELITI_ULANG"}));
}

TEST_F(AuditLedgerTest, HistoryFiltersByActorTypeTimeAndPrefix) {
  RecordLateEvents();
  auto by_actor = audit_->History({.unit_code = "35.08", .actor = "supervisor:sekda"});
  ASSERT_TRUE(by_actor.ok()) << by_actor.status();
  EXPECT_THAT(Ids(by_actor->entries), ElementsAre(kDisposition));
  auto by_type = audit_->History({.unit_code = "35", .event_types = {"RealizationCorrected"}});
  ASSERT_TRUE(by_type.ok());
  EXPECT_THAT(Ids(by_type->entries), ElementsAre(kCorrection));
  auto after_import = audit_->History({.unit_code = kUnit, .from = kImportedAt + absl::Hours(1)});
  ASSERT_TRUE(after_import.ok());
  EXPECT_THAT(Ids(after_import->entries), ElementsAre(kCorrection, kDisposition));
  auto before_disposition = audit_->History(
      {.unit_code = kUnit, .from = kImportedAt + absl::Hours(1), .to = kImportedAt + absl::Hours(48)});
  ASSERT_TRUE(before_disposition.ok());
  EXPECT_THAT(Ids(before_disposition->entries), ElementsAre(kCorrection));
  auto other_kabupaten = audit_->History({.unit_code = "35.09"});
  ASSERT_TRUE(other_kabupaten.ok());
  EXPECT_TRUE(other_kabupaten->entries.empty());
  auto other_year = audit_->History({.unit_code = kUnit, .fiscal_years = {2025}});
  ASSERT_TRUE(other_year.ok());
  EXPECT_TRUE(other_year->entries.empty());
}

TEST_F(AuditLedgerTest, HistoryPagesAreStableAndComplete) {
  auto first = audit_->History({.unit_code = kUnit, .page_size = 100});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->total_matching, 235u);
  ASSERT_FALSE(first->next_page_token.empty());
  // Events recorded between pages do not shift them: every page is read as of
  // the first page's head.
  RecordLateEvents();
  std::vector<uint64_t> positions;
  for (const HistoryEntry& entry : first->entries) positions.push_back(entry.position);
  std::string token = first->next_page_token;
  while (!token.empty()) {
    auto page = audit_->History({.unit_code = kUnit, .page_size = 100, .page_token = token});
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_EQ(page->as_of_position, first->as_of_position);
    for (const HistoryEntry& entry : page->entries) positions.push_back(entry.position);
    token = page->next_page_token;
  }
  ASSERT_EQ(positions.size(), 235u);
  for (size_t i = 0; i < positions.size(); ++i) EXPECT_EQ(positions[i], i + 1);
  auto fresh = audit_->History({.unit_code = kUnit});
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->total_matching, 237u);
}

TEST_F(AuditLedgerTest, HistoryRefusesBadInputNamingTheField) {
  EXPECT_THAT(audit_->History({.unit_code = ""}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_code")));
  EXPECT_THAT(audit_->History({.unit_code = "35.08.x"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_code")));
  EXPECT_THAT(audit_->History({.unit_code = kUnit, .event_types = {"RealizationRecorded", "Bogus"}}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("event_types[1]")));
  EXPECT_THAT(audit_->History({.unit_code = kUnit, .page_size = 5000}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
  EXPECT_THAT(audit_->History({.unit_code = kUnit, .page_token = "nonsense"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(audit_->History({.unit_code = kUnit, .page_token = "h99999.p1"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  EXPECT_THAT(audit_->History({.unit_code = kUnit, .from = kImportedAt, .to = kImportedAt - absl::Hours(1)})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("from_micros")));
}

TEST_F(AuditLedgerTest, ExplainNamesTheOriginalAndTheCorrectingEvent) {
  RecordLateEvents();
  auto now = audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/q1/realization", Moment{});
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(Value(now->figure), "40.00");
  ASSERT_EQ(now->inputs.size(), 2u);
  EXPECT_EQ(now->inputs[0].entry.event_id, kOriginalQ1);
  EXPECT_FALSE(now->inputs[0].in_force);
  EXPECT_EQ(now->inputs[0].replaced_by_event_id, kCorrection);
  EXPECT_EQ(now->inputs[1].entry.event_id, kCorrection);
  EXPECT_TRUE(now->inputs[1].in_force);
  EXPECT_EQ(now->inputs[1].entry.actor, "operator:klakah");

  auto published = audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/q1/realization#capaian",
                                   Moment::Submission(reference::kKlakahReportId));
  ASSERT_TRUE(published.ok()) << published.status();
  EXPECT_EQ(published->as_of_position, submitted_position_);
  EXPECT_EQ(Value(published->figure), "37.84");
  ASSERT_EQ(published->inputs.size(), 1u);
  EXPECT_TRUE(published->inputs[0].in_force);
}

TEST_F(AuditLedgerTest, ExplainNamesWhatAFigureDependsOn) {
  auto capaian = audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/year_end/capaian", Moment{});
  ASSERT_TRUE(capaian.ok()) << capaian.status();
  EXPECT_THAT(capaian->depends_on,
              ElementsAre("indicator/IKU-1/year_end/realization", "indicator/IKU-1/target"));
  EXPECT_THAT(capaian->figure.formula, HasSubstr("HIGHER_IS_BETTER"));
  auto year_end = audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/year_end/realization", Moment{});
  ASSERT_TRUE(year_end.ok());
  EXPECT_THAT(year_end->depends_on,
              ElementsAre("indicator/IKU-1/q1/realization", "indicator/IKU-1/q2/realization"));
  auto total = audit_->Explain(kUnit, kYear, 2, "total/cumulative/absorption", Moment{});
  ASSERT_TRUE(total.ok()) << total.status();
  EXPECT_THAT(total->depends_on, ElementsAre("total/cumulative/realized", "total/allocation"));
}

TEST_F(AuditLedgerTest, ExplainAsOfAPastPositionOrTime) {
  RecordLateEvents();
  Moment before_correction{AsOf::Time(kImportedAt + absl::Hours(1)), ""};
  auto then = audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/q1/realization", before_correction);
  ASSERT_TRUE(then.ok()) << then.status();
  EXPECT_EQ(then->as_of_position, submitted_position_);
  EXPECT_EQ(Value(then->figure), "37.84");
  Moment early{AsOf::Position(41), ""};  // before any realization was recorded
  auto earlier = audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/q1/realization", early);
  ASSERT_TRUE(earlier.ok()) << earlier.status();
  EXPECT_FALSE(earlier->figure.value.has_value());
  EXPECT_TRUE(earlier->inputs.empty());
}

TEST_F(AuditLedgerTest, ExplainRefusesUnknownFiguresAndMoments) {
  EXPECT_THAT(audit_->Explain(kUnit, kYear, 2, "indicator/NOPE/q1/capaian", Moment{}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("key")));
  EXPECT_THAT(audit_->Explain(kUnit, kYear, 5, "indicator/IKU-1/q1/capaian", Moment{}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quarter")));
  EXPECT_THAT(audit_->Explain(kUnit, kYear, 2, "", Moment{}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("key")));
  EXPECT_THAT(audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/q1/capaian", Moment{AsOf::Position(9999), ""})
                  .status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("as_of.position")));
  EXPECT_THAT(audit_->Explain(kUnit, kYear, 2, "indicator/IKU-1/q1/capaian", Moment::Submission("NOPE")).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("submission_of_report")));
  EXPECT_THAT(audit_->Explain("35.08.20", kYear, 2, "indicator/IKU-1/q1/capaian", Moment{}).status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("35.08.20/2024")));
}

TEST_F(AuditLedgerTest, DiffFromPublishedToNowShowsExactlyTheChangedFigures) {
  RecordLateEvents();
  auto diff = audit_->Diff(kUnit, kYear, 2, Moment::Submission(reference::kKlakahReportId), Moment{});
  ASSERT_TRUE(diff.ok()) << diff.status();
  EXPECT_EQ(diff->from_position, submitted_position_);
  EXPECT_EQ(diff->to_position, submitted_position_ + 2);
  std::set<std::string> keys;
  for (const FigureChange& change : diff->changes) {
    keys.insert(change.key);
    // Every change names the correction, and only it (the disposition changes
    // no figure).
    EXPECT_THAT(Ids(change.events), ElementsAre(kCorrection)) << change.key;
  }
  // Independently: every figure of the two reports, compared one by one.
  auto published = sakip_->Report(kUnit, kYear, 2, AsOf::Position(submitted_position_));
  auto now = sakip_->Report(kUnit, kYear, 2, AsOf::Head());
  ASSERT_TRUE(published.ok() && now.ok());
  std::set<std::string> expected;
  auto before = projections::IndexFigures(*published);
  for (const auto& [key, figure] : projections::IndexFigures(*now)) {
    if (figure->value != before.at(key)->value) expected.insert(key);
  }
  EXPECT_EQ(keys, expected);
  EXPECT_TRUE(keys.contains("indicator/IKU-1/q1/realization"));
  EXPECT_TRUE(keys.contains("indicator/IKU-1/q1/capaian"));
  EXPECT_TRUE(keys.contains("indicator/IKU-1/year_end/capaian"));
  EXPECT_FALSE(keys.contains("indicator/IKU-1/q2/realization"));
  EXPECT_EQ(diff->figures_compared, before.size());
  const FigureChange& realization = *std::find_if(
      diff->changes.begin(), diff->changes.end(),
      [](const FigureChange& c) { return c.key == "indicator/IKU-1/q1/realization"; });
  EXPECT_EQ(Value(realization.before), "37.84");
  EXPECT_EQ(Value(realization.after), "40.00");
}

TEST_F(AuditLedgerTest, DiffBetweenEqualMomentsIsEmptyAndRefusesReversedMoments) {
  RecordLateEvents();
  auto same = audit_->Diff(kUnit, kYear, 2, Moment{}, Moment{});
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_TRUE(same->changes.empty());
  EXPECT_GT(same->figures_compared, 50u);
  EXPECT_THAT(audit_->Diff(kUnit, kYear, 2, Moment{}, Moment{AsOf::Position(10), ""}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("from")));
}

TEST_F(AuditLedgerTest, LateEntriesNameTheReportChangedAfterItsSubmission) {
  auto none = audit_->ListLateEntries("35.08", 0, Moment{});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->reports_checked, 1u);
  EXPECT_TRUE(none->reports.empty());
  RecordLateEvents();
  auto late = audit_->ListLateEntries("35.08", 0, Moment{});
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_EQ(late->reports.size(), 1u);
  const LateReport& report = late->reports[0];
  EXPECT_EQ(report.report_id, reference::kKlakahReportId);
  EXPECT_EQ(report.unit_code, kUnit);
  EXPECT_EQ(report.fiscal_year, kYear);
  EXPECT_EQ(report.quarter, 2);
  EXPECT_EQ(report.submitted_position, submitted_position_);
  EXPECT_THAT(Ids(report.late_events), ElementsAre(kCorrection));
  EXPECT_FALSE(report.changes.empty());
  // As of a moment before the correction, nothing was late yet.
  auto earlier = audit_->ListLateEntries("35.08.19", 2024, Moment{AsOf::Position(submitted_position_), ""});
  ASSERT_TRUE(earlier.ok());
  EXPECT_TRUE(earlier->reports.empty());
  EXPECT_THAT(audit_->ListLateEntries("35.08", 1999, Moment{}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fiscal_year")));
}

TEST_F(AuditLedgerTest, AReversalShowsAsALateEntryOfTheProgrammeFigures) {
  auto history = audit_->History({.unit_code = kUnit, .event_types = {"DisbursementRecorded"}});
  ASSERT_TRUE(history.ok());
  ASSERT_FALSE(history->entries.empty());
  const HistoryEntry& disbursement = history->entries.front();
  ASSERT_EQ(disbursement.quarter, 1);
  clock_.Advance(absl::Hours(5));
  ProposedDomainEvent reversal = Proposed("audit-reversal-1", "SP2D ganda");
  reversal.event.mutable_disbursement_reversed()->set_reverses_event_id(disbursement.event_id);
  ASSERT_TRUE(sakip_->Record("operator:klakah", {reversal}).ok());
  auto late = audit_->ListLateEntries(kUnit, 2024, Moment{});
  ASSERT_TRUE(late.ok()) << late.status();
  ASSERT_EQ(late->reports.size(), 1u);
  EXPECT_THAT(Ids(late->reports[0].late_events), ElementsAre("audit-reversal-1"));
  bool total_changed = false;
  for (const FigureChange& change : late->reports[0].changes) total_changed |= change.key == "total/q1/realized";
  EXPECT_TRUE(total_changed);
  auto reversed = audit_->History({.unit_code = kUnit, .event_types = {"DisbursementReversed"}});
  ASSERT_TRUE(reversed.ok());
  ASSERT_EQ(reversed->entries.size(), 1u);
  EXPECT_EQ(reversed->entries[0].refers_to_event_id, disbursement.event_id);
  EXPECT_EQ(reversed->entries[0].quarter, 1);
  ASSERT_EQ(reversed->entries[0].changes.size(), 1u);
  EXPECT_EQ(reversed->entries[0].changes[0].old_value, disbursement.changes[0].new_value);
  EXPECT_EQ(reversed->entries[0].changes[0].new_value, "0");
}

}  // namespace
}  // namespace ledger::audit
