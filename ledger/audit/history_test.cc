// HistoryFold and Replacements as pure folds over built streams.
#include "ledger/audit/history.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/audit/figures.h"
#include "ledger/projections/report.h"
#include "ledger/projections/testing/reference_report.h"

namespace ledger::audit {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
namespace reference = ::ledger::projections::testing;

HistoryFold FoldReference() {
  HistoryFold fold;
  for (const projections::DomainEvent& event : reference::KlakahTw2Events()) {
    absl::Status status = fold.Apply(event);
    EXPECT_TRUE(status.ok()) << event.event_id << ": " << status;
  }
  return fold;
}

projections::DomainEvent Next(const HistoryFold& fold, const std::string& id, const std::string& reason) {
  projections::DomainEvent event;
  event.position = fold.state().last_position() + 1;
  event.event_id = id;
  event.recorded_at = absl::FromUnixSeconds(1721000000);
  event.actor = "operator:test";
  event.reason = reason;
  event.event.set_unit_code(reference::kKlakahUnitCode);
  event.event.set_fiscal_year(reference::kKlakahFiscalYear);
  return event;
}

TEST(HistoryFoldTest, EveryReferenceEventIsDescribedWithSubjectsAndSummary) {
  HistoryFold fold = FoldReference();
  ASSERT_EQ(fold.entries().size(), 235u);
  for (const HistoryEntry& entry : fold.entries()) {
    EXPECT_FALSE(entry.subjects.empty()) << entry.event_id;
    EXPECT_FALSE(entry.summary.empty()) << entry.event_id;
    EXPECT_EQ(entry.unit_code, "35.08.19");
    EXPECT_EQ(entry.fiscal_year, 2024);
  }
}

TEST(HistoryFoldTest, ATargetRevisionShowsTheOldAndNewTargetAndReplacesTheDefinition) {
  HistoryFold fold = FoldReference();
  projections::DomainEvent revision = Next(fold, "revision-1", "Perubahan PK");
  revision.event.mutable_target_revised()->set_indicator_id("IKU-1");
  revision.event.mutable_target_revised()->set_annual_target("90");
  ASSERT_TRUE(fold.Apply(revision).ok());
  EXPECT_THAT(fold.entries().back().changes, ElementsAre(ValueChange{"annual_target", "95.45", "90"}));
  EXPECT_THAT(fold.entries().back().subjects, ElementsAre("indicator/IKU-1"));
  auto replaced = Replacements(fold.state());
  EXPECT_EQ(replaced.at("klakah-2024-0004"), "revision-1");
  EXPECT_FALSE(replaced.contains("revision-1"));
}

TEST(HistoryFoldTest, ARefusedEventLeavesNoEntry) {
  HistoryFold fold = FoldReference();
  projections::DomainEvent bad = Next(fold, "bad-1", "");
  bad.event.mutable_realization_recorded()->set_indicator_id("NOPE");
  bad.event.mutable_realization_recorded()->set_quarter(1);
  bad.event.mutable_realization_recorded()->set_value("1");
  EXPECT_FALSE(fold.Apply(bad).ok());
  EXPECT_EQ(fold.entries().size(), 235u);
}

TEST(HistoryFoldTest, ReplacementsOfTheReferenceAreEmpty) {
  EXPECT_THAT(Replacements(FoldReference().state()), IsEmpty());
}

TEST(FiguresTest, DiffOfAReportWithItselfIsEmpty) {
  HistoryFold fold = FoldReference();
  auto report = projections::ComputeReport(fold.state(), 2);
  ASSERT_TRUE(report.ok());
  size_t compared = 0;
  EXPECT_THAT(DiffFigures(*report, *report, &compared), IsEmpty());
  EXPECT_EQ(compared, projections::IndexFigures(*report).size());
  EXPECT_EQ(CanonicalKey("indicator/IKU-1/q1/capaian#evaluasi"), "indicator/IKU-1/q1/capaian");
}

TEST(FiguresTest, DiffAcrossQuartersShowsTheFiguresOfTheLaterQuarter) {
  HistoryFold fold = FoldReference();
  auto q1 = projections::ComputeReport(fold.state(), 1);
  auto q2 = projections::ComputeReport(fold.state(), 2);
  ASSERT_TRUE(q1.ok() && q2.ok());
  size_t compared = 0;
  std::vector<FigureDifference> differences = DiffFigures(*q1, *q2, &compared);
  bool q2_realization = false;
  for (const FigureDifference& difference : differences) {
    EXPECT_NE(difference.key, "indicator/IKU-1/q1/realization");
    q2_realization |= difference.key == "indicator/IKU-1/q2/realization";
  }
  EXPECT_TRUE(q2_realization);
}

}  // namespace
}  // namespace ledger::audit
