// UnitYearState: the pure fold of one unit-year's SAKIP events (stream
// "<unit_code>/<fiscal_year>") into the facts in force: the agreement, goals,
// indicators with the target in force, realizations with the latest
// correction applied, programmes with the allocation in force, disbursements
// (reversed ones flagged), villages, the village checklist, and submitted
// reports with their dispositions. No I/O, no clock.
//
// Apply is also the validator on append ("decide = apply to a copy"): it
// rejects an event that references something unknown or breaks a rule with
// InvalidArgument (malformed content) or FailedPrecondition (conflicts with
// the state), whose message starts with the offending field, e.g.
// "realization_recorded.quarter: 5 is outside 1..4". A rejected event leaves
// the state unchanged: every handler validates fully before it mutates.
//
// Time travel: the state as of position P is the fold of the events up to P.
// Lineage: every value in force keeps the events that produced it (original
// event first, then revisions/corrections in position order).
#ifndef LEDGER_PROJECTIONS_UNIT_YEAR_STATE_H_
#define LEDGER_PROJECTIONS_UNIT_YEAR_STATE_H_

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "ledger/domain/exact.h"
#include "ledger/projections/domain_event.h"

namespace ledger::projections {

using domain::Ratio;

inline constexpr int kQuartersPerYear = 4;

// The event behind a value.
struct EventRef {
  uint64_t position = 0;
  std::string event_id;
  std::string actor;  // who recorded it (the four-eyes rules compare these)
};

struct Agreement {
  std::string unit_code;
  int fiscal_year = 0;
  std::string head_nip;  // normalized to 18 digits
  sakip::v1::AgreementEstablished details;
  EventRef source;
};

struct Goal {
  std::string goal_id;
  std::string name;
  EventRef source;
};

// An annual target and the optional quarterly targets (index = quarter - 1).
struct TargetSet {
  Ratio annual;
  std::array<std::optional<Ratio>, kQuartersPerYear> quarterly;
};

struct Indicator {
  std::string indicator_id;
  std::string goal_id;
  std::string name;
  std::string unit;
  int number = 0;
  sakip::v1::Direction direction = sakip::v1::DIRECTION_UNSPECIFIED;
  sakip::v1::Aggregation aggregation = sakip::v1::AGGREGATION_UNSPECIFIED;
  sakip::v1::IndicatorKind kind = sakip::v1::INDICATOR_KIND_UNSPECIFIED;
  Ratio ratio_multiplier = Ratio::FromInteger(1);  // RATIO_OF_COUNTS only
  TargetSet target;                // in force: the latest TargetRevised
  std::vector<EventRef> target_chain;  // IndicatorDefined, then revisions
};

// A realization's measure, exact. For RATIO_OF_COUNTS, value =
// numerator_sum / denominator_sum x multiplier.
struct Measure {
  Ratio value;
  std::optional<Ratio> numerator_sum;
  std::optional<Ratio> denominator_sum;
  std::string text;  // how the value was obtained, e.g. "(12 + 0 + 0) / (12 + 12 + 12) x 100"
};

struct Realization {
  std::string indicator_id;
  int quarter = 0;
  Measure measure;               // in force: the latest correction
  std::vector<EventRef> chain;   // RealizationRecorded, then corrections
};

struct Programme {
  std::string programme_id;
  std::string name;
  int number = 0;
  Ratio allocation;                    // in force: the latest BudgetRevised
  std::vector<std::string> indicator_ids;
  std::vector<EventRef> allocation_chain;  // ProgrammeDefined, then revisions
};

struct Disbursement {
  std::string programme_id;
  int quarter = 0;
  Ratio amount;
  std::string document_ref;
  EventRef source;
  std::optional<EventRef> reversed_by;
};

struct Village {
  std::string village_code;
  std::string name;
  sakip::v1::VillageKind kind = sakip::v1::VILLAGE_KIND_UNSPECIFIED;
  EventRef source;
};

struct ChecklistActivity {
  std::string activity_id;
  int number = 0;
  std::string name;
  EventRef source;
};

struct ChecklistEntry {
  bool done = false;
  std::string remark;
  EventRef source;  // the latest entry for its (activity, village, quarter)
};

struct Disposition {
  sakip::v1::ReportDisposed details;
  EventRef source;
  absl::Time recorded_at;
  std::string actor;
};

struct SubmittedReport {
  sakip::v1::ReportSubmitted details;  // with the declared figures
  EventRef source;
  absl::Time recorded_at;
  std::string actor;
  std::vector<Disposition> dispositions;  // in position order; the last is in force
};

using RealizationKey = std::pair<std::string, int>;                 // indicator, quarter
using ChecklistKey = std::tuple<std::string, std::string, int>;     // activity, village, quarter

class UnitYearState {
 public:
  // Folds `event` in; on error the state is unchanged (see file comment).
  absl::Status Apply(const DomainEvent& event);

  const std::optional<Agreement>& agreement() const { return agreement_; }
  const std::map<std::string, Goal>& goals() const { return goals_; }
  const std::map<std::string, Indicator>& indicators() const { return indicators_; }
  const std::map<RealizationKey, Realization>& realizations() const { return realizations_; }
  const std::map<std::string, Programme>& programmes() const { return programmes_; }
  // In position order.
  const std::vector<Disbursement>& disbursements() const { return disbursements_; }
  const std::map<std::string, Village>& villages() const { return villages_; }
  const std::map<std::string, ChecklistActivity>& activities() const { return activities_; }
  const std::map<ChecklistKey, ChecklistEntry>& checklist_entries() const { return checklist_entries_; }
  const std::map<std::string, SubmittedReport>& reports() const { return reports_; }

  // The realization in force for (indicator, quarter), or nullptr.
  const Realization* FindRealization(const std::string& indicator_id, int quarter) const;

  size_t event_count() const { return event_count_; }
  // Position of the last applied event; 0 before any.
  uint64_t last_position() const { return last_position_; }

 private:
  absl::Status CheckEnvelope(const DomainEvent& event) const;
  absl::Status Dispatch(const DomainEvent& event);

  absl::Status ApplyAgreement(const DomainEvent& event);
  absl::Status ApplyGoal(const DomainEvent& event);
  absl::Status ApplyIndicator(const DomainEvent& event);
  absl::Status ApplyTargetRevised(const DomainEvent& event);
  absl::Status ApplyRealizationRecorded(const DomainEvent& event);
  absl::Status ApplyRealizationCorrected(const DomainEvent& event);
  absl::Status ApplyProgramme(const DomainEvent& event);
  absl::Status ApplyBudgetRevised(const DomainEvent& event);
  absl::Status ApplyDisbursement(const DomainEvent& event);
  absl::Status ApplyDisbursementReversed(const DomainEvent& event);
  absl::Status ApplyVillage(const DomainEvent& event);
  absl::Status ApplyActivity(const DomainEvent& event);
  absl::Status ApplyChecklistEntry(const DomainEvent& event);
  absl::Status ApplyReportSubmitted(const DomainEvent& event);
  absl::Status ApplyReportDisposed(const DomainEvent& event);

  std::optional<Agreement> agreement_;
  std::map<std::string, Goal> goals_;
  std::map<std::string, Indicator> indicators_;
  std::map<RealizationKey, Realization> realizations_;
  std::map<std::string, Programme> programmes_;
  std::vector<Disbursement> disbursements_;
  std::map<std::string, Village> villages_;
  std::map<std::string, ChecklistActivity> activities_;
  std::map<ChecklistKey, ChecklistEntry> checklist_entries_;
  std::map<std::string, SubmittedReport> reports_;

  // Every applied event id and its kind (for corrections and reversals).
  std::map<std::string, sakip::v1::SakipEvent::EventCase> event_kinds_;
  std::map<std::string, RealizationKey> realization_by_event_;
  std::map<std::string, size_t> disbursement_by_event_;
  size_t event_count_ = 0;
  uint64_t last_position_ = 0;
};

}  // namespace ledger::projections

#endif  // LEDGER_PROJECTIONS_UNIT_YEAR_STATE_H_
