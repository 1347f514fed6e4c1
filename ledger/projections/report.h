// The quarterly report (Laporan Kinerja "Triwulan N") computed from a
// UnitYearState: the indicator table with the average row, the programme
// budget table with the total row, cost per outcome, the village checklist,
// and the disposition state of the submitted reports.
//
// Every figure is an exact Ratio (rounding only in presentation, see
// domain/exact.h) together with the formula and the event ids behind it, so
// a reconciliation can explain it. Quarters after N are present but empty
// (value absent, formula says why).
//
// Rules (docs/DOMAIN-EVENTS.md, "Computed figures"):
//   - quarterly capaian against the quarterly target when one is set, else
//     against the annual target in force;
//   - HIGHER_IS_BETTER r/t x 100; LOWER_IS_BETTER_MIRRORED (2t - r)/t x 100
//     floored at 0; LOWER_IS_BETTER_INVERSE t/r x 100, undefined (absent)
//     when r = 0;
//   - capped at 100 only when the agreement says cap_capaian_at_100;
//   - year-end realization through N by the indicator's aggregation, its
//     capaian against the annual target; the predicate is of that capaian;
//   - the average row is the mean over ALL indicators; a missing value
//     counts as 0 and the indicator is listed as not reported.
#ifndef LEDGER_PROJECTIONS_REPORT_H_
#define LEDGER_PROJECTIONS_REPORT_H_

#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/projections/unit_year_state.h"

namespace ledger::projections {

// One figure of the report: its exact value (absent when not reported or not
// computable), how it was computed, and the events its inputs come from.
struct Figure {
  std::optional<Ratio> value;
  std::string formula;
  std::vector<std::string> event_ids;
};

struct QuarterFigures {
  Figure realization;
  Figure capaian;
};

struct IndicatorRow {
  std::string indicator_id;
  int number = 0;
  std::string goal_name;
  std::string name;
  std::string unit;
  Figure target;                                   // annual target in force
  std::array<QuarterFigures, kQuartersPerYear> quarters;  // index = quarter - 1
  Figure year_end_realization;
  Figure year_end_capaian;
  std::optional<std::string> predicate;            // of the year-end capaian
};

struct AverageRow {
  Figure target;
  std::array<QuarterFigures, kQuartersPerYear> quarters;
  // Indicators counted as 0 in a quarter's mean (index = quarter - 1).
  std::array<std::vector<std::string>, kQuartersPerYear> not_reported;
  Figure year_end_realization;
  Figure year_end_capaian;
  std::vector<std::string> year_end_not_reported;
};

// A programme's row, or the total row (programme_id empty).
struct BudgetRow {
  std::string programme_id;
  int number = 0;
  std::string name;
  Figure allocation;                                // in force
  std::array<Figure, kQuartersPerYear> realized;    // unreversed disbursements
  std::array<Figure, kQuartersPerYear> absorption;  // realized / allocation x 100
  Figure cumulative_realized;                       // quarters 1..N
  Figure cumulative_absorption;
};

struct CostPerOutcomeRow {
  std::string indicator_id;
  int number = 0;
  std::string goal_name;
  std::string indicator_name;
  std::vector<std::string> programme_ids;  // the programmes linked to the indicator
  Figure budget;
  Figure realized;
  Figure absorption;
  // The indicator's performance (copies of the indicator row's figures).
  Figure target;
  Figure realization;
  Figure capaian;
};

struct ChecklistRow {
  std::string activity_id;
  int number = 0;
  std::string name;
  std::vector<std::pair<std::string, bool>> villages;  // (code, done by N), by code
  Figure count;
  Figure ratio;        // count / number of villages
  std::string remark;  // of the latest entry (quarter <= N) with a remark
};

struct ReportStatus {
  std::string report_id;
  int quarter = 0;
  std::string signed_on;
  bool disposed = false;
  // The latest disposition, if any.
  std::vector<sakip::v1::DispositionOption> options;
  std::string note;
  std::string supervisor_name;
};

struct QuarterlyReport {
  int quarter = 0;  // N
  std::string unit_code;
  std::string unit_name;
  int fiscal_year = 0;
  bool capaian_capped = false;
  std::vector<IndicatorRow> indicators;  // by number
  AverageRow average;
  std::vector<BudgetRow> programmes;     // by number
  BudgetRow total;
  std::vector<CostPerOutcomeRow> cost_per_outcome;  // by indicator number
  std::vector<ChecklistRow> checklist;   // by number
  std::vector<ReportStatus> reports;     // by report id
};

// The Permendagri 86/2017 predicate of a capaian: >= 91 "Sangat Tinggi",
// >= 76 "Tinggi", >= 66 "Sedang", >= 51 "Rendah", else "Sangat Rendah".
std::string Predicate(const Ratio& capaian);

// Capaian of `realization` against `target` (> 0) by `direction`; nullopt
// when undefined (LOWER_IS_BETTER_INVERSE with realization 0). Capped at 100
// when `cap_at_100`.
absl::StatusOr<std::optional<Ratio>> ComputeCapaian(sakip::v1::Direction direction, const Ratio& realization,
                                                    const Ratio& target, bool cap_at_100);

// The report "Triwulan `quarter`" (1..4) of `state`. FailedPrecondition
// before the agreement; InvalidArgument for a quarter outside 1..4;
// OutOfRange if exact arithmetic overflows.
absl::StatusOr<QuarterlyReport> ComputeReport(const UnitYearState& state, int quarter);

// Every figure of `report` by its key (grammar in docs/DOMAIN-EVENTS.md),
// e.g. "indicator/IKU-1/q1/capaian". Pointers into `report`.
std::map<std::string, const Figure*> IndexFigures(const QuarterlyReport& report);

// An exact value as text: plain decimal when it terminates ("33.5"),
// otherwise "p/q" with its 6-decimal rounding ("100/3 (~33.333333)").
std::string ExactText(const Ratio& value);

}  // namespace ledger::projections

#endif  // LEDGER_PROJECTIONS_REPORT_H_
