// Tests of UnitYearState::Apply: the fold (targets, corrections, reversals,
// budget revisions, checklist, reports) and each rejection, which must name
// the field and leave the state unchanged.
#include "ledger/projections/unit_year_state.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::projections {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::testing::HasSubstr;
using testing::StreamBuilder;
using sakip::v1::SakipEvent;
using Code = absl::StatusCode;

Ratio Plain(const char* text) { return domain::ParseDecimal(text, domain::DecimalNotation::kPlain, "t").value(); }

// A state with an agreement, goal G, plain indicator P (target 80), ratio
// indicator R (target 50, x100), programme X (1000), village 2001, activity A.
class StateTest : public ::testing::Test {
 protected:
  StateTest() : stream_("35.08.19", 2024, "e") {
    auto* agreement = stream_.Next().mutable_agreement_established();
    agreement->set_unit_name("Kecamatan Klakah");
    agreement->set_head_nip("19730415 199803 1 011");
    auto* goal = stream_.Next().mutable_strategic_goal_defined();
    goal->set_goal_id("G");
    goal->set_name("Goal");
    AddIndicator("P", sakip::v1::PLAIN_VALUE, "80");
    AddIndicator("R", sakip::v1::RATIO_OF_COUNTS, "50");
    auto* programme = stream_.Next().mutable_programme_defined();
    programme->set_programme_id("X");
    programme->set_allocation("1000");
    programme->add_indicator_ids("P");
    auto* village = stream_.Next().mutable_village_registered();
    village->set_village_code("35.08.19.2001");
    village->set_name("Kebonan");
    village->set_kind(sakip::v1::DESA);
    auto* activity = stream_.Next().mutable_checklist_activity_defined();
    activity->set_activity_id("A");
    activity->set_name("Binwas");
    ApplyAll();
  }

  void AddIndicator(const char* id, sakip::v1::IndicatorKind kind, const char* target) {
    auto* indicator = stream_.Next().mutable_indicator_defined();
    indicator->set_indicator_id(id);
    indicator->set_goal_id("G");
    indicator->set_name(id);
    indicator->set_direction(sakip::v1::HIGHER_IS_BETTER);
    indicator->set_aggregation(sakip::v1::CUMULATIVE_SUM);
    indicator->set_kind(kind);
    if (kind == sakip::v1::RATIO_OF_COUNTS) indicator->set_ratio_multiplier("100");
    indicator->set_annual_target(target);
  }

  void ApplyAll() {
    for (size_t i = applied_; i < stream_.events().size(); ++i) {
      ASSERT_THAT(state_.Apply(stream_.events()[i]), IsOk()) << stream_.events()[i].event_id;
    }
    applied_ = stream_.events().size();
  }

  // Applies the last built event, expecting it to be rejected, and checks
  // the state did not change; ApplyAll then skips it.
  absl::Status Reject() {
    const size_t before = state_.event_count();
    absl::Status status = state_.Apply(stream_.events().back());
    EXPECT_EQ(state_.event_count(), before);
    applied_ = stream_.events().size();  // never applied later
    return status;
  }

  std::string Record(const char* indicator, int quarter, const char* value) {
    auto* realization = stream_.Next().mutable_realization_recorded();
    realization->set_indicator_id(indicator);
    realization->set_quarter(quarter);
    realization->set_value(value);
    ApplyAll();
    return stream_.last_id();
  }

  std::string Disburse(int quarter, const char* amount) {
    auto* disbursement = stream_.Next().mutable_disbursement_recorded();
    disbursement->set_programme_id("X");
    disbursement->set_quarter(quarter);
    disbursement->set_amount(amount);
    ApplyAll();
    return stream_.last_id();
  }

  StreamBuilder stream_;
  UnitYearState state_;
  size_t applied_ = 0;
};

TEST_F(StateTest, CorrectionsApplyLatestAndKeepTheChain) {
  const std::string original = Record("P", 1, "10");
  for (const char* value : {"11", "12.5"}) {
    auto* correction = stream_.Next("typo").mutable_realization_corrected();
    correction->set_corrects_event_id(original);
    correction->set_value(value);
    ApplyAll();
  }
  const Realization* realization = state_.FindRealization("P", 1);
  ASSERT_NE(realization, nullptr);
  EXPECT_EQ(realization->measure.value, Plain("12.5"));
  ASSERT_EQ(realization->chain.size(), 3u);
  EXPECT_EQ(realization->chain[0].event_id, original);
}

TEST_F(StateTest, TimeTravelByFoldingAPrefix) {
  const std::string original = Record("P", 1, "10");
  auto* correction = stream_.Next("typo").mutable_realization_corrected();
  correction->set_corrects_event_id(original);
  correction->set_value("20");
  ApplyAll();
  UnitYearState before;
  for (const DomainEvent& event : stream_.events()) {
    if (event.event_id == stream_.last_id()) break;
    ASSERT_THAT(before.Apply(event), IsOk());
  }
  EXPECT_EQ(before.FindRealization("P", 1)->measure.value, Ratio::FromInteger(10));
  EXPECT_EQ(state_.FindRealization("P", 1)->measure.value, Ratio::FromInteger(20));
}

TEST_F(StateTest, RatioOfCountsIsExact) {
  auto* realization = stream_.Next().mutable_realization_recorded();
  realization->set_indicator_id("R");
  realization->set_quarter(1);
  realization->mutable_counts()->add_numerator_parts()->set_value("12");
  realization->mutable_counts()->add_numerator_parts()->set_value("0");
  realization->mutable_counts()->add_denominator_parts()->set_value("36");
  ApplyAll();
  const Measure& measure = state_.FindRealization("R", 1)->measure;
  EXPECT_EQ(measure.value.ToString(), "100/3");
  EXPECT_EQ(measure.text, "(12 + 0) / (36) x 100");
}

TEST_F(StateTest, TargetAndBudgetRevisionsAndReversals) {
  auto* revision = stream_.Next("perubahan PK").mutable_target_revised();
  revision->set_indicator_id("P");
  revision->set_annual_target("90");
  auto* budget = stream_.Next("APBD-P").mutable_budget_revised();
  budget->set_programme_id("X");
  budget->set_allocation("1500");
  ApplyAll();
  EXPECT_EQ(state_.indicators().at("P").target.annual, Ratio::FromInteger(90));
  EXPECT_EQ(state_.indicators().at("P").target_chain.size(), 2u);
  EXPECT_EQ(state_.programmes().at("X").allocation, Ratio::FromInteger(1500));
  const std::string paid = Disburse(1, "100");
  stream_.Next("wrong amount").mutable_disbursement_reversed()->set_reverses_event_id(paid);
  ApplyAll();
  ASSERT_TRUE(state_.disbursements()[0].reversed_by.has_value());
  stream_.Next("again").mutable_disbursement_reversed()->set_reverses_event_id(paid);
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("disbursement_reversed.reverses_event_id: "
                                                                      "disbursement \"" + paid + "\" was already")));
}

TEST_F(StateTest, LatestChecklistEntryPerQuarterWins) {
  for (bool done : {true, false}) {
    auto* entry = stream_.Next().mutable_checklist_entry_recorded();
    entry->set_activity_id("A");
    entry->set_village_code("35.08.19.2001");
    entry->set_quarter(1);
    entry->set_done(done);
  }
  ApplyAll();
  EXPECT_FALSE(state_.checklist_entries().at({"A", "35.08.19.2001", 1}).done);
}

TEST_F(StateTest, ReportsAndDispositions) {
  auto* report = stream_.Next().mutable_report_submitted();
  report->set_report_id("R1");
  report->set_quarter(1);
  report->set_signer_nip("197304151998031011");
  auto* disposition = stream_.Next().mutable_report_disposed();
  disposition->set_report_id("R1");
  disposition->add_options(sakip::v1::LAPORAN_SUDAH_BAIK);
  disposition->set_supervisor_nip("197304151998031011");
  ApplyAll();
  EXPECT_EQ(state_.reports().at("R1").dispositions.size(), 1u);
}

// --- rejections -----------------------------------------------------------

TEST(StateRejectTest, NothingBeforeTheAgreement) {
  StreamBuilder stream("35.08.19", 2024, "e");
  stream.Next().mutable_strategic_goal_defined()->set_goal_id("G");
  UnitYearState state;
  EXPECT_THAT(state.Apply(stream.events().back()),
              StatusIs(Code::kFailedPrecondition, HasSubstr("StrategicGoalDefined before AgreementEstablished")));
}

TEST(StateRejectTest, AgreementNeedsAValidNip) {
  StreamBuilder stream("35.08.19", 2024, "e");
  auto* agreement = stream.Next().mutable_agreement_established();
  agreement->set_unit_name("K");
  agreement->set_head_nip("19731315 199803 1 011");
  UnitYearState state;
  EXPECT_THAT(state.Apply(stream.events().back()),
              StatusIs(Code::kInvalidArgument, HasSubstr("agreement_established.head_nip")));
}

TEST_F(StateTest, RejectsUnitOrYearMismatch) {
  stream_.Next().mutable_strategic_goal_defined()->set_goal_id("G2");
  DomainEvent event = stream_.events().back();
  event.event.set_unit_code("35.08.18");
  event.event.mutable_strategic_goal_defined()->set_name("n");
  EXPECT_THAT(state_.Apply(event), StatusIs(Code::kInvalidArgument, HasSubstr("unit_code: \"35.08.18\" differs")));
  event.event.set_unit_code("35.08.19");
  event.event.set_fiscal_year(2025);
  EXPECT_THAT(state_.Apply(event), StatusIs(Code::kInvalidArgument, HasSubstr("fiscal_year: 2025 differs")));
}

TEST_F(StateTest, RejectsRealizationErrors) {
  auto* realization = stream_.Next().mutable_realization_recorded();
  realization->set_indicator_id("P");
  realization->set_quarter(5);
  realization->set_value("1");
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("realization_recorded.quarter: 5 is outside 1..4")));
  stream_.Next().mutable_realization_recorded()->set_indicator_id("nope");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("realization_recorded.indicator_id: unknown")));
  auto* ratio_as_plain = stream_.Next().mutable_realization_recorded();
  ratio_as_plain->set_indicator_id("R");
  ratio_as_plain->set_quarter(1);
  ratio_as_plain->set_value("1");
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("realization_recorded.counts: required")));
  auto* zero = stream_.Next().mutable_realization_recorded();
  zero->set_indicator_id("R");
  zero->set_quarter(1);
  zero->mutable_counts()->add_numerator_parts()->set_value("1");
  zero->mutable_counts()->add_denominator_parts()->set_value("0");
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("denominator_parts: sum is zero")));
}

TEST_F(StateTest, RejectsSecondRealizationForAQuarter) {
  Record("P", 2, "1");
  auto* again = stream_.Next().mutable_realization_recorded();
  again->set_indicator_id("P");
  again->set_quarter(2);
  again->set_value("2");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("already has a realization for quarter 2")));
  EXPECT_EQ(state_.FindRealization("P", 2)->measure.value, Ratio::FromInteger(1));
}

TEST_F(StateTest, RejectsBadCorrections) {
  const std::string paid = Disburse(1, "5");
  stream_.Next("x").mutable_realization_corrected()->set_corrects_event_id("missing");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("corrects_event_id: unknown event")));
  auto* wrong_kind = stream_.Next("x").mutable_realization_corrected();
  wrong_kind->set_corrects_event_id(paid);
  wrong_kind->set_value("1");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("is not a RealizationRecorded")));
  auto* no_reason = stream_.Next().mutable_realization_corrected();
  no_reason->set_corrects_event_id(paid);
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("reason: is required")));
}

TEST_F(StateTest, RejectsBadReversalsAndAmounts) {
  const std::string recorded = Record("P", 1, "1");
  stream_.Next("x").mutable_disbursement_reversed()->set_reverses_event_id(recorded);
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("is not a DisbursementRecorded")));
  auto* negative = stream_.Next().mutable_disbursement_recorded();
  negative->set_programme_id("X");
  negative->set_quarter(1);
  negative->set_amount("-5");
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("disbursement_recorded.amount: -5 must be > 0")));
  auto* unknown = stream_.Next().mutable_disbursement_recorded();
  unknown->set_programme_id("Y");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("disbursement_recorded.programme_id: unknown")));
}

TEST_F(StateTest, RejectsBadTargets) {
  auto* revision = stream_.Next("x").mutable_target_revised();
  revision->set_indicator_id("P");
  revision->set_annual_target("0");
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("target_revised.annual_target: 0 must be > 0")));
  auto* unknown = stream_.Next("x").mutable_target_revised();
  unknown->set_indicator_id("Q");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("target_revised.indicator_id: unknown")));
}

TEST_F(StateTest, RejectsChecklistAndVillageErrors) {
  auto* entry = stream_.Next().mutable_checklist_entry_recorded();
  entry->set_activity_id("A");
  entry->set_village_code("35.08.19.2099");
  entry->set_quarter(1);
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("checklist_entry_recorded.village_code")));
  stream_.Next().mutable_checklist_entry_recorded()->set_activity_id("B");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("checklist_entry_recorded.activity_id")));
  auto* village = stream_.Next().mutable_village_registered();
  village->set_village_code("35.08.20.2001");
  village->set_name("x");
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("is not under the unit")));
}

TEST_F(StateTest, RejectsDispositionErrors) {
  auto* unsubmitted = stream_.Next().mutable_report_disposed();
  unsubmitted->set_report_id("R9");
  EXPECT_THAT(Reject(), StatusIs(Code::kFailedPrecondition, HasSubstr("report_disposed.report_id")));
  auto* report = stream_.Next().mutable_report_submitted();
  report->set_report_id("R1");
  report->set_quarter(1);
  report->set_signer_nip("197304151998031011");
  ApplyAll();
  auto* other = stream_.Next().mutable_report_disposed();
  other->set_report_id("R1");
  other->add_options(sakip::v1::LAIN_LAIN);
  other->set_supervisor_nip("197304151998031011");
  EXPECT_THAT(Reject(), StatusIs(Code::kInvalidArgument, HasSubstr("report_disposed.note: is required with LAIN_LAIN")));
}

TEST_F(StateTest, RejectsDuplicateIdsAndOldPositions) {
  DomainEvent event = stream_.events().back();
  EXPECT_THAT(state_.Apply(event), StatusIs(Code::kFailedPrecondition, HasSubstr("event_id")));
  event.event_id = "fresh";
  EXPECT_THAT(state_.Apply(event), StatusIs(Code::kFailedPrecondition, HasSubstr("position")));
}

}  // namespace
}  // namespace ledger::projections
