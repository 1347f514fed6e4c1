// Golden test: the events of the Klakah TW II 2024 reference report fold
// into a state whose ComputeReport reproduces every printed figure that
// follows from the data, and whose reconciliation lists exactly the printed
// figures that do not. Also keeps tests/data/klakah-tw2-2024.jsonl in step
// with the C++ builder.
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/projections/reconciliation.h"
#include "ledger/projections/report.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::projections {
namespace {

using ::ledger::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAreArray;

UnitYearState Fold(const std::vector<DomainEvent>& events) {
  UnitYearState state;
  for (const DomainEvent& event : events) {
    EXPECT_THAT(state.Apply(event), IsOk()) << event.event_id;
  }
  return state;
}

std::string Shown(const Figure& figure, int decimals = 2) {
  return figure.value.has_value() ? domain::FormatIndonesian(*figure.value, decimals) : "-";
}

class KlakahTw2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = Fold(testing::KlakahTw2Events());
    auto report = ComputeReport(state_, 2);
    ASSERT_THAT(report, IsOk());
    report_ = *std::move(report);
  }
  UnitYearState state_;
  QuarterlyReport report_;
};

TEST_F(KlakahTw2Test, IndicatorTableReproducesThePrintedFigures) {
  ASSERT_EQ(report_.indicators.size(), 2u);
  const IndicatorRow& iku1 = report_.indicators[0];
  EXPECT_EQ(Shown(iku1.target), "95,45");
  EXPECT_EQ(Shown(iku1.quarters[0].realization), "37,84");
  EXPECT_EQ(Shown(iku1.quarters[0].capaian), "39,64");
  EXPECT_EQ(Shown(iku1.quarters[1].realization), "17,00");
  EXPECT_EQ(Shown(iku1.quarters[1].capaian), "17,81");
  EXPECT_EQ(Shown(iku1.year_end_realization), "54,84");
  EXPECT_EQ(Shown(iku1.year_end_capaian), "57,45");
  EXPECT_EQ(iku1.predicate, "Rendah");
  EXPECT_FALSE(iku1.quarters[2].realization.value.has_value());  // after TW II

  const IndicatorRow& iku2 = report_.indicators[1];
  EXPECT_EQ(Shown(iku2.target), "97,22");
  EXPECT_EQ(iku2.quarters[0].realization.value->ToString(), "100/3");  // 12/36 x 100, exact
  EXPECT_EQ(Shown(iku2.quarters[0].capaian), "34,29");  // 34,28 from the rounded 33,33
  EXPECT_EQ(Shown(iku2.quarters[1].realization), "-");
  EXPECT_EQ(Shown(iku2.year_end_realization), "33,33");
  EXPECT_EQ(Shown(iku2.year_end_capaian), "34,29");
  EXPECT_EQ(iku2.predicate, "Sangat Rendah");
}

TEST_F(KlakahTw2Test, AverageRowIsTheMeanOverBothIndicators) {
  const AverageRow& average = report_.average;
  EXPECT_EQ(Shown(average.target), "96,34");                     // printed 96.34
  EXPECT_EQ(Shown(average.quarters[0].realization), "35,59");    // printed 35.59
  EXPECT_EQ(Shown(average.quarters[0].capaian), "36,97");        // printed 24.64 = (39.64 + 34.29) / 3; exactly 36,965...
  EXPECT_EQ(Shown(average.quarters[1].realization), "8,50");     // printed 8.50
  EXPECT_EQ(Shown(average.quarters[1].capaian), "8,91");         // printed 8.90 (17.81 / 2 truncated)
  EXPECT_THAT(average.not_reported[1], ElementsAre("IKU-2"));
  EXPECT_EQ(Shown(average.year_end_realization), "44,09");       // printed 29.39 = (54.84 + 33.33) / 3
  EXPECT_EQ(Shown(average.year_end_capaian), "45,87");           // printed 30.58 = (57.45 + 34.29) / 3
}

TEST_F(KlakahTw2Test, BudgetTableReproducesThePrintedFigures) {
  const std::vector<std::vector<std::string>> expected = {
      // allocation, TW I, %, TW II, %, cumulative, %
      {"1.917.084.558", "498.729.771", "26,02", "520.584.681", "27,16", "1.019.314.452", "53,17"},
      {"8.267.500", "245.000", "2,96", "3.210.000", "38,83", "3.455.000", "41,79"},
      {"159.194.750", "7.975.000", "5,01", "12.750.000", "8,01", "20.725.000", "13,02"},
      {"28.570.000", "19.750.000", "69,13", "0", "0,00", "19.750.000", "69,13"},
      {"7.200.000", "1.800.000", "25,00", "1.800.000", "25,00", "3.600.000", "50,00"},
      {"37.204.500", "0", "0,00", "10.350.000", "27,82", "10.350.000", "27,82"},
      {"2.157.521.308", "528.499.771", "24,50", "548.694.681", "25,43", "1.077.194.452", "49,93"},
  };
  std::vector<const BudgetRow*> rows;
  for (const BudgetRow& row : report_.programmes) rows.push_back(&row);
  rows.push_back(&report_.total);
  ASSERT_EQ(rows.size(), expected.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const BudgetRow& row = *rows[i];
    EXPECT_THAT((std::vector<std::string>{Shown(row.allocation, 0), Shown(row.realized[0], 0),
                                          Shown(row.absorption[0]), Shown(row.realized[1], 0),
                                          Shown(row.absorption[1]), Shown(row.cumulative_realized, 0),
                                          Shown(row.cumulative_absorption)}),
                ::testing::ContainerEq(expected[i]))
        << "row " << i;
  }
}

TEST_F(KlakahTw2Test, CostPerOutcomeFollowsTheProgrammeLinks) {
  ASSERT_EQ(report_.cost_per_outcome.size(), 2u);
  const CostPerOutcomeRow& iku1 = report_.cost_per_outcome[0];
  EXPECT_THAT(iku1.programme_ids, ElementsAre("PRG-1", "PRG-2", "PRG-3", "PRG-4", "PRG-5"));
  EXPECT_EQ(Shown(iku1.budget, 0), "2.120.316.808");
  EXPECT_EQ(Shown(iku1.realized, 0), "1.066.844.452");
  EXPECT_EQ(Shown(iku1.absorption), "50,32");
  EXPECT_EQ(Shown(iku1.capaian), "57,45");
  const CostPerOutcomeRow& iku2 = report_.cost_per_outcome[1];
  EXPECT_THAT(iku2.programme_ids, ElementsAre("PRG-6"));
  EXPECT_EQ(Shown(iku2.budget, 0), "37.204.500");
  EXPECT_EQ(Shown(iku2.realized, 0), "10.350.000");
  EXPECT_EQ(Shown(iku2.absorption), "27,82");
}

TEST_F(KlakahTw2Test, ChecklistCountsAndRemarks) {
  ASSERT_EQ(report_.checklist.size(), 18u);
  std::vector<std::string> counts;
  for (const ChecklistRow& row : report_.checklist) counts.push_back(Shown(row.count, 0));
  EXPECT_THAT(counts, ElementsAre("12", "0", "0", "0", "0", "0", "0", "12", "0", "0", "0", "0", "12", "12", "12",
                                  "12", "0", "12"));
  EXPECT_EQ(report_.checklist[0].villages.size(), 12u);
  EXPECT_EQ(report_.checklist[0].villages.front().first, "35.08.19.2001");
  EXPECT_EQ(Shown(report_.checklist[0].ratio), "1,00");
  EXPECT_EQ(report_.checklist[0].remark, "Pembinaan Pengawasan (Binwas) Tw. 1 Kec. Klakah");
  EXPECT_EQ(report_.checklist[4].remark, "Belum masuk Jadwal Perubahan RKPDesa");
  EXPECT_EQ(report_.checklist[12].remark, "monev");
  ASSERT_EQ(report_.reports.size(), 1u);
  EXPECT_FALSE(report_.reports[0].disposed);  // the disposition box is empty
}

TEST_F(KlakahTw2Test, ReconciliationListsExactlyThePrintedErrors) {
  auto reconciliation = ReconcileAsSubmitted(testing::KlakahTw2Events(), testing::kKlakahReportId);
  ASSERT_THAT(reconciliation, IsOk());
  std::vector<std::string> found;
  for (const Discrepancy& discrepancy : reconciliation->discrepancies) {
    EXPECT_EQ(discrepancy.kind, Discrepancy::Kind::kDiffers) << discrepancy.key;
    found.push_back(discrepancy.key + "=" + discrepancy.declared + " vs " + discrepancy.recomputed_rounded);
  }
  EXPECT_THAT(found, UnorderedElementsAreArray<std::string>({
      // IKU-1's budget is printed as total - 32.704.500: programmes 1-5 sum to 2.120.316.808.
      "cost_per_outcome/IKU-1/budget#cost_per_outcome=2124816808 vs 2120316808",
      // The total realized of all six programmes, programme 6's 10.350.000 included.
      "cost_per_outcome/IKU-1/realized#cost_per_outcome=1077194452 vs 1066844452",
      // 49,93 is the total absorption; against the printed 2.124.816.808 it would be 50,70.
      "cost_per_outcome/IKU-1/absorption#cost_per_outcome=49.93 vs 50.32",
      // Programme 6's allocation is 37.204.500 (digits swapped in the copy).
      "cost_per_outcome/IKU-2/budget#cost_per_outcome=32704500 vs 37204500",
      // Programme 6 disbursed 10.350.000 in TW II; printed 0.
      "cost_per_outcome/IKU-2/realized#cost_per_outcome=0 vs 10350000",
      "cost_per_outcome/IKU-2/absorption#cost_per_outcome=0 vs 28",
      // The evaluation text divides by 95,23; the target is 95,45 (57,45 follows from 95,45).
      "indicator/IKU-1/target#evaluasi=95.23 vs 95.45",
      // The average row divides by 3 instead of 2 indicators.
      "average/q1/capaian#pengukuran=24.64 vs 36.97",
      // 17,81 / 2 = 8,905 truncated; exactly 8,905186... -> 8,91.
      "average/q2/capaian#pengukuran=8.90 vs 8.91",
      "average/year_end/realization#pengukuran=29.39 vs 44.09",
      "average/year_end/capaian#pengukuran=30.58 vs 45.87",
  }));
  EXPECT_EQ(reconciliation->figures_checked - reconciliation->figures_agreeing, 11);
  EXPECT_GT(reconciliation->figures_agreeing, 90);
}

TEST_F(KlakahTw2Test, DiscrepancyCarriesFormulaAndEvents) {
  auto reconciliation = Reconcile(state_, testing::kKlakahReportId);
  ASSERT_THAT(reconciliation, IsOk());
  for (const Discrepancy& discrepancy : reconciliation->discrepancies) {
    if (discrepancy.key != "average/q2/capaian#pengukuran") continue;
    EXPECT_EQ(discrepancy.declared_decimals, 2);
    EXPECT_EQ(discrepancy.recomputed_exact, "17000/1909 (~8.905186)");  // (1700/95.45 + 0) / 2
    EXPECT_THAT(discrepancy.formula, ::testing::HasSubstr(" / 2"));
    EXPECT_FALSE(discrepancy.event_ids.empty());
    return;
  }
  FAIL() << "average/q2/capaian not found";
}

TEST(KlakahTw2JsonLinesTest, DataFileMatchesTheBuilder) {
  const std::string path = std::string(LEDGER_SOURCE_DIR) + "/tests/data/klakah-tw2-2024.jsonl";
  const std::string generated = testing::ToJsonLines(testing::KlakahTw2Events());
  if (std::getenv("LEDGER_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << generated;
  }
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  EXPECT_EQ(content.str(), generated) << "regenerate with LEDGER_UPDATE_GOLDEN=1";
}

}  // namespace
}  // namespace ledger::projections
