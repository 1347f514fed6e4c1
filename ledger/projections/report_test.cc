// Tests of ComputeReport and Reconcile with hand-computed values: every
// direction and aggregation, quarterly targets, the cap, the average row,
// budget revisions and reversals, the checklist through N, and the
// reconciliation's rounding rule, unknown keys and absent figures.
#include "ledger/projections/report.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/projections/reconciliation.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::projections {
namespace {

using ::ledger::testing::IsOk;
using ::testing::ElementsAre;
using testing::StreamBuilder;

Ratio Q(int64_t numerator, int64_t denominator = 1) { return Ratio::Create(numerator, denominator).value(); }

struct Spec {
  const char* id;
  sakip::v1::Direction direction;
  sakip::v1::Aggregation aggregation;
  const char* target;
  std::vector<const char*> values;  // per quarter; nullptr = not reported
};

class ReportTest : public ::testing::Test {
 protected:
  ReportTest() : stream_("35.08.19", 2024, "e") {
    auto* agreement = stream_.Next().mutable_agreement_established();
    agreement->set_unit_name("Kecamatan Klakah");
    agreement->set_head_nip("197304151998031011");
    agreement_ = agreement;
    auto* goal = stream_.Next().mutable_strategic_goal_defined();
    goal->set_goal_id("G");
    goal->set_name("Goal");
  }

  void Add(const Spec& spec, int number) {
    auto* indicator = stream_.Next().mutable_indicator_defined();
    indicator->set_indicator_id(spec.id);
    indicator->set_goal_id("G");
    indicator->set_name(spec.id);
    indicator->set_direction(spec.direction);
    indicator->set_aggregation(spec.aggregation);
    indicator->set_kind(sakip::v1::PLAIN_VALUE);
    indicator->set_annual_target(spec.target);
    indicator->set_number(number);
    for (size_t q = 0; q < spec.values.size(); ++q) {
      if (spec.values[q] == nullptr) continue;
      auto* realization = stream_.Next().mutable_realization_recorded();
      realization->set_indicator_id(spec.id);
      realization->set_quarter(static_cast<int>(q) + 1);
      realization->set_value(spec.values[q]);
    }
  }

  QuarterlyReport Compute(int quarter) {
    state_ = UnitYearState();
    for (const DomainEvent& event : stream_.events()) EXPECT_THAT(state_.Apply(event), IsOk()) << event.event_id;
    auto report = ComputeReport(state_, quarter);
    EXPECT_THAT(report, IsOk());
    return report.ok() ? *std::move(report) : QuarterlyReport();
  }

  StreamBuilder stream_;
  sakip::v1::AgreementEstablished* agreement_;
  UnitYearState state_;
};

TEST_F(ReportTest, DirectionsAndAggregations) {
  Add({"H", sakip::v1::HIGHER_IS_BETTER, sakip::v1::CUMULATIVE_SUM, "50", {"10", "20", "30"}}, 1);
  Add({"M", sakip::v1::LOWER_IS_BETTER_MIRRORED, sakip::v1::LAST_KNOWN_VALUE, "10", {"12", "25", nullptr}}, 2);
  Add({"I", sakip::v1::LOWER_IS_BETTER_INVERSE, sakip::v1::AVERAGE_OF_REPORTED, "4", {"5", nullptr, "3"}}, 3);
  QuarterlyReport report = Compute(3);
  const IndicatorRow& h = report.indicators[0];
  EXPECT_EQ(*h.quarters[1].capaian.value, Q(40));         // 20/50 x 100
  EXPECT_EQ(*h.year_end_realization.value, Q(60));        // 10 + 20 + 30
  EXPECT_EQ(*h.year_end_capaian.value, Q(120));           // not capped by default
  EXPECT_EQ(h.predicate, "Sangat Tinggi");
  const IndicatorRow& m = report.indicators[1];
  EXPECT_EQ(*m.quarters[0].capaian.value, Q(80));         // (20 - 12)/10 x 100
  EXPECT_EQ(*m.quarters[1].capaian.value, Q(0));          // (20 - 25)/10 x 100 floored at 0
  EXPECT_EQ(*m.year_end_realization.value, Q(25));        // last known (TW II)
  EXPECT_EQ(m.predicate, "Sangat Rendah");
  const IndicatorRow& i = report.indicators[2];
  EXPECT_EQ(*i.quarters[0].capaian.value, Q(80));         // 4/5 x 100
  EXPECT_EQ(*i.year_end_realization.value, Q(4));         // (5 + 3) / 2
  EXPECT_EQ(*i.year_end_capaian.value, Q(100));
  EXPECT_EQ(i.predicate, "Sangat Tinggi");
}

TEST_F(ReportTest, InverseWithZeroRealizationIsUndefined) {
  Add({"I", sakip::v1::LOWER_IS_BETTER_INVERSE, sakip::v1::CUMULATIVE_SUM, "4", {"0"}}, 1);
  QuarterlyReport report = Compute(1);
  EXPECT_FALSE(report.indicators[0].quarters[0].capaian.value.has_value());
  EXPECT_THAT(report.indicators[0].quarters[0].capaian.formula, ::testing::HasSubstr("undefined"));
  EXPECT_FALSE(report.indicators[0].predicate.has_value());
}

TEST_F(ReportTest, CapAndQuarterlyTargetsAndRevision) {
  agreement_->set_cap_capaian_at_100(true);
  Add({"H", sakip::v1::HIGHER_IS_BETTER, sakip::v1::CUMULATIVE_SUM, "50", {"30", "40"}}, 1);
  auto* revision = stream_.Next("perubahan PK").mutable_target_revised();
  revision->set_indicator_id("H");
  revision->set_annual_target("80");
  auto* quarterly = revision->add_quarterly_targets();
  quarterly->set_quarter(1);
  quarterly->set_target("20");
  QuarterlyReport report = Compute(2);
  const IndicatorRow& h = report.indicators[0];
  EXPECT_EQ(*h.target.value, Q(80));
  EXPECT_EQ(*h.quarters[0].capaian.value, Q(100));        // 30/20 = 150 %, capped
  EXPECT_EQ(*h.quarters[1].capaian.value, Q(50));         // 40/80, the annual target
  EXPECT_EQ(*h.year_end_capaian.value, Q(875, 10));       // 70/80 x 100
  EXPECT_EQ(h.target.event_ids.size(), 2u);
}

TEST_F(ReportTest, AverageCountsMissingAsZeroAndQuartersAfterNAreEmpty) {
  Add({"A", sakip::v1::HIGHER_IS_BETTER, sakip::v1::CUMULATIVE_SUM, "100", {"50", "30", "99"}}, 1);
  Add({"B", sakip::v1::HIGHER_IS_BETTER, sakip::v1::CUMULATIVE_SUM, "50", {"10", nullptr}}, 2);
  QuarterlyReport report = Compute(2);
  EXPECT_EQ(*report.average.target.value, Q(75));
  EXPECT_EQ(*report.average.quarters[0].realization.value, Q(30));  // (50 + 10)/2
  EXPECT_EQ(*report.average.quarters[0].capaian.value, Q(35));      // (50 + 20)/2
  EXPECT_EQ(*report.average.quarters[1].realization.value, Q(15));  // (30 + 0)/2
  EXPECT_THAT(report.average.not_reported[1], ElementsAre("B"));
  EXPECT_EQ(*report.average.year_end_realization.value, Q(45));     // (80 + 10)/2
  EXPECT_EQ(*report.average.year_end_capaian.value, Q(50));         // (80 + 20)/2
  EXPECT_FALSE(report.indicators[0].quarters[2].realization.value.has_value());  // TW III not shown
}

TEST_F(ReportTest, BudgetRevisionReversalAndCostPerOutcome) {
  Add({"H", sakip::v1::HIGHER_IS_BETTER, sakip::v1::CUMULATIVE_SUM, "50", {"25"}}, 1);
  for (const char* id : {"X", "Y"}) {
    auto* programme = stream_.Next().mutable_programme_defined();
    programme->set_programme_id(id);
    programme->set_allocation("1000");
    programme->add_indicator_ids("H");
  }
  auto* revision = stream_.Next("APBD-P").mutable_budget_revised();
  revision->set_programme_id("X");
  revision->set_allocation("3000");
  for (const char* amount : {"300", "200", "999"}) {
    auto* disbursement = stream_.Next().mutable_disbursement_recorded();
    disbursement->set_programme_id("X");
    disbursement->set_quarter(1);
    disbursement->set_amount(amount);
  }
  const std::string wrong = stream_.last_id();
  stream_.Next("double entry").mutable_disbursement_reversed()->set_reverses_event_id(wrong);
  auto* later = stream_.Next().mutable_disbursement_recorded();
  later->set_programme_id("Y");
  later->set_quarter(2);
  later->set_amount("100");
  QuarterlyReport report = Compute(1);
  const BudgetRow& x = report.programmes[0];
  EXPECT_EQ(*x.allocation.value, Q(3000));
  EXPECT_EQ(*x.realized[0].value, Q(500));
  EXPECT_EQ(*x.absorption[0].value, Q(50, 3));            // 500/3000 x 100
  EXPECT_EQ(*report.total.allocation.value, Q(4000));
  EXPECT_EQ(*report.total.cumulative_realized.value, Q(500));  // Y's TW II not counted in TW I
  EXPECT_EQ(*report.total.cumulative_absorption.value, Q(25, 2));
  EXPECT_EQ(*report.cost_per_outcome[0].budget.value, Q(4000));
  EXPECT_EQ(*report.cost_per_outcome[0].capaian.value, Q(50));
  EXPECT_THAT(x.realized[0].event_ids, ::testing::Contains(wrong));  // the reversed one explains itself
  QuarterlyReport tw2 = Compute(2);
  EXPECT_EQ(*tw2.total.cumulative_realized.value, Q(600));
}

TEST_F(ReportTest, ChecklistThroughNAndLatestRemark) {
  for (int i = 1; i <= 2; ++i) {
    auto* village = stream_.Next().mutable_village_registered();
    village->set_village_code(i == 1 ? "35.08.19.2001" : "35.08.19.2002");
    village->set_name("v");
  }
  auto* activity = stream_.Next().mutable_checklist_activity_defined();
  activity->set_activity_id("A");
  activity->set_name("Binwas");
  auto entry = [&](const char* village, int quarter, bool done, const char* remark) {
    auto* e = stream_.Next().mutable_checklist_entry_recorded();
    e->set_activity_id("A");
    e->set_village_code(village);
    e->set_quarter(quarter);
    e->set_done(done);
    e->set_remark(remark);
  };
  entry("35.08.19.2001", 1, true, "tw1");
  entry("35.08.19.2002", 2, true, "tw2");
  entry("35.08.19.2001", 1, false, "");  // the latest TW I entry wins: not done
  QuarterlyReport tw1 = Compute(1);
  EXPECT_EQ(*tw1.checklist[0].count.value, Q(0));
  EXPECT_EQ(tw1.checklist[0].remark, "");  // the replaced entry took its remark with it
  QuarterlyReport tw2 = Compute(2);
  EXPECT_EQ(*tw2.checklist[0].count.value, Q(1));
  EXPECT_EQ(*tw2.checklist[0].ratio.value, Q(1, 2));
  EXPECT_EQ(tw2.checklist[0].remark, "tw2");
}

TEST_F(ReportTest, ReconciliationRoundsToTheDeclaredPrecision) {
  Add({"H", sakip::v1::HIGHER_IS_BETTER, sakip::v1::CUMULATIVE_SUM, "3", {"1"}}, 1);  // capaian 33.333...
  auto* submitted = stream_.Next().mutable_report_submitted();
  submitted->set_report_id("R");
  submitted->set_quarter(1);
  submitted->set_signer_nip("197304151998031011");
  const std::pair<const char*, const char*> declared[] = {
      {"indicator/H/q1/capaian", "33.33"},   // agrees
      {"indicator/H/q1/capaian#x", "33"},    // agrees at 0 decimals
      {"indicator/H/q1/capaian#y", "33.34"}, // differs
      {"indicator/H/q2/capaian", "1"},       // not in a TW I report
      {"nonsense/key", "1"},
  };
  for (const auto& [key, value] : declared) {
    auto* figure = submitted->add_declared();
    figure->set_key(key);
    figure->set_value(value);
  }
  Compute(1);
  auto reconciliation = Reconcile(state_, "R");
  ASSERT_THAT(reconciliation, IsOk());
  EXPECT_EQ(reconciliation->figures_checked, 5);
  EXPECT_EQ(reconciliation->figures_agreeing, 2);
  ASSERT_EQ(reconciliation->discrepancies.size(), 3u);
  const Discrepancy& differs = reconciliation->discrepancies[0];
  EXPECT_EQ(differs.kind, Discrepancy::Kind::kDiffers);
  EXPECT_EQ(differs.recomputed_exact, "100/3 (~33.333333)");
  EXPECT_EQ(differs.recomputed_rounded, "33.33");
  EXPECT_EQ(differs.formula, "1 / 3 x 100 [HIGHER_IS_BETTER] against the annual target");
  EXPECT_EQ(differs.event_ids.size(), 2u);
  EXPECT_EQ(reconciliation->discrepancies[1].kind, Discrepancy::Kind::kNotComputable);
  EXPECT_EQ(reconciliation->discrepancies[2].kind, Discrepancy::Kind::kUnknownKey);
}

TEST_F(ReportTest, RejectsQuarterOutsideRange) {
  Compute(1);
  EXPECT_THAT(ComputeReport(state_, 5), ::ledger::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ledger::projections
