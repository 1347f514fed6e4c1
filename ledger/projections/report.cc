// ComputeReport: the quarterly report as a pure function of a UnitYearState;
// see report.h for the rules. Each figure carries its formula and event ids.
#include "ledger/projections/report.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"

namespace ledger::projections {
namespace {

using domain::FormatPlain;
using domain::FractionStyle;
using sakip::v1::Direction;

const Ratio kHundred = Ratio::FromInteger(100);

void AddIds(std::vector<std::string>& ids, const std::vector<EventRef>& refs) {
  for (const EventRef& ref : refs) ids.push_back(ref.event_id);
}

void AddIds(std::vector<std::string>& ids, const std::vector<std::string>& more) {
  ids.insert(ids.end(), more.begin(), more.end());
}

// Sorted, without duplicates (event ids of several inputs overlap).
void Normalize(std::vector<std::string>& ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

Figure Value(const Ratio& value, std::string formula, std::vector<std::string> ids) {
  Normalize(ids);
  return Figure{value, std::move(formula), std::move(ids)};
}

Figure Absent(std::string why, std::vector<std::string> ids = {}) {
  Normalize(ids);
  return Figure{std::nullopt, std::move(why), std::move(ids)};
}

std::string AfterQuarter(int quarter) { return absl::StrCat("not in a Triwulan ", quarter, " report"); }

// The value of a figure, 0 when absent.
Ratio OrZero(const Figure& figure) { return figure.value.value_or(Ratio()); }

std::string Text(const Ratio& value) { return ExactText(value); }

std::string CapaianFormula(Direction direction, const Ratio& realization, const Ratio& target) {
  const std::string r = Text(realization);
  const std::string t = Text(target);
  switch (direction) {
    case sakip::v1::LOWER_IS_BETTER_MIRRORED:
      return absl::StrCat("max(0, (2 x ", t, " - ", r, ") / ", t, " x 100) [LOWER_IS_BETTER_MIRRORED]");
    case sakip::v1::LOWER_IS_BETTER_INVERSE:
      return absl::StrCat(t, " / ", r, " x 100 [LOWER_IS_BETTER_INVERSE]");
    default:
      return absl::StrCat(r, " / ", t, " x 100 [HIGHER_IS_BETTER]");
  }
}

// A capaian figure from a realization figure and a target.
absl::StatusOr<Figure> CapaianFigure(const Indicator& indicator, const Figure& realization, const Ratio& target,
                                     std::string_view against, bool cap) {
  std::vector<std::string> ids = realization.event_ids;
  AddIds(ids, indicator.target_chain);
  if (!realization.value.has_value()) return Absent("no realization", ids);
  ASSIGN_OR_RETURN(std::optional<Ratio> capaian, ComputeCapaian(indicator.direction, *realization.value, target, cap));
  std::string formula = absl::StrCat(CapaianFormula(indicator.direction, *realization.value, target),
                                     " against the ", Absl(against), cap ? ", capped at 100" : "");
  if (!capaian.has_value()) return Absent(absl::StrCat("undefined: ", formula, " with realization 0"), ids);
  return Value(*capaian, std::move(formula), std::move(ids));
}

absl::StatusOr<Ratio> Sum(const std::vector<Ratio>& values) {
  Ratio sum;
  for (const Ratio& value : values) {
    ASSIGN_OR_RETURN(sum, sum.Add(value));
  }
  return sum;
}

absl::StatusOr<Ratio> Mean(const std::vector<Ratio>& values) {
  ASSIGN_OR_RETURN(Ratio sum, Sum(values));
  return sum.Divide(Ratio::FromInteger(static_cast<int64_t>(values.size())));
}

std::string JoinTexts(const std::vector<Ratio>& values, std::string_view separator) {
  std::vector<std::string> texts;
  for (const Ratio& value : values) texts.push_back(Text(value));
  return absl::StrJoin(texts, Absl(separator));
}

// Year-end realization through quarter n by the indicator's aggregation.
absl::StatusOr<Figure> YearEndRealization(const Indicator& indicator,
                                          const std::array<QuarterFigures, kQuartersPerYear>& quarters, int n) {
  std::vector<Ratio> reported;
  std::vector<std::string> ids;
  for (int q = 1; q <= n; ++q) {
    const Figure& figure = quarters[q - 1].realization;
    if (!figure.value.has_value()) continue;
    reported.push_back(*figure.value);
    AddIds(ids, figure.event_ids);
  }
  if (reported.empty()) return Absent(absl::StrCat("no realization in quarters 1..", n));
  switch (indicator.aggregation) {
    case sakip::v1::LAST_KNOWN_VALUE:
      return Value(reported.back(), absl::StrCat("LAST_KNOWN_VALUE of [", JoinTexts(reported, ", "), "]"), ids);
    case sakip::v1::AVERAGE_OF_REPORTED: {
      ASSIGN_OR_RETURN(Ratio mean, Mean(reported));
      return Value(mean, absl::StrCat("AVERAGE_OF_REPORTED (", JoinTexts(reported, " + "), ") / ", reported.size()),
                   ids);
    }
    default: {
      ASSIGN_OR_RETURN(Ratio sum, Sum(reported));
      return Value(sum, absl::StrCat("CUMULATIVE_SUM ", JoinTexts(reported, " + ")), ids);
    }
  }
}

Figure RealizationFigure(const UnitYearState& state, const Indicator& indicator, int quarter) {
  const Realization* realization = state.FindRealization(indicator.indicator_id, quarter);
  if (realization == nullptr) return Absent("not reported");
  std::vector<std::string> ids;
  AddIds(ids, realization->chain);
  const std::string corrected = realization->chain.size() > 1 ? " (corrected)" : "";
  return Value(realization->measure.value, realization->measure.text + corrected, std::move(ids));
}

absl::StatusOr<IndicatorRow> IndicatorRowOf(const UnitYearState& state, const Indicator& indicator, int n, bool cap) {
  IndicatorRow row;
  row.indicator_id = indicator.indicator_id;
  row.number = indicator.number;
  row.goal_name = state.goals().at(indicator.goal_id).name;
  row.name = indicator.name;
  row.unit = indicator.unit;
  std::vector<std::string> target_ids;
  AddIds(target_ids, indicator.target_chain);
  const Ratio& annual = indicator.target.annual;
  row.target = Value(annual, indicator.target_chain.size() > 1 ? "annual target as revised" : "annual target", target_ids);
  for (int q = 1; q <= kQuartersPerYear; ++q) {
    QuarterFigures& cell = row.quarters[q - 1];
    if (q > n) {
      cell.realization = Absent(AfterQuarter(n));
      cell.capaian = Absent(AfterQuarter(n));
      continue;
    }
    cell.realization = RealizationFigure(state, indicator, q);
    const auto& quarterly = indicator.target.quarterly[q - 1];
    ASSIGN_OR_RETURN(cell.capaian,
                     CapaianFigure(indicator, cell.realization, quarterly.value_or(annual),
                                   quarterly.has_value() ? "quarterly target" : "annual target", cap));
  }
  ASSIGN_OR_RETURN(row.year_end_realization, YearEndRealization(indicator, row.quarters, n));
  ASSIGN_OR_RETURN(row.year_end_capaian, CapaianFigure(indicator, row.year_end_realization, annual, "annual target", cap));
  if (row.year_end_capaian.value.has_value()) row.predicate = Predicate(*row.year_end_capaian.value);
  return row;
}

// The mean over all rows of one figure each; absent counts as 0 and its
// indicator is listed in `not_reported`.
absl::StatusOr<Figure> MeanFigure(const std::vector<IndicatorRow>& rows, const Figure& (*pick)(const IndicatorRow&),
                                  std::vector<std::string>* not_reported) {
  if (rows.empty()) return Absent("no indicators");
  std::vector<Ratio> values;
  std::vector<std::string> ids;
  for (const IndicatorRow& row : rows) {
    const Figure& figure = pick(row);
    if (!figure.value.has_value() && not_reported != nullptr) not_reported->push_back(row.indicator_id);
    values.push_back(OrZero(figure));
    AddIds(ids, figure.event_ids);
  }
  ASSIGN_OR_RETURN(Ratio mean, Mean(values));
  return Value(mean, absl::StrCat("(", JoinTexts(values, " + "), ") / ", values.size()), std::move(ids));
}

template <int kQuarter>
const Figure& QuarterRealization(const IndicatorRow& row) { return row.quarters[kQuarter].realization; }
template <int kQuarter>
const Figure& QuarterCapaian(const IndicatorRow& row) { return row.quarters[kQuarter].capaian; }
const Figure& TargetOf(const IndicatorRow& row) { return row.target; }
const Figure& YearEndRealizationOf(const IndicatorRow& row) { return row.year_end_realization; }
const Figure& YearEndCapaianOf(const IndicatorRow& row) { return row.year_end_capaian; }

using Picker = const Figure& (*)(const IndicatorRow&);
constexpr std::array<Picker, kQuartersPerYear> kRealizationPickers = {
    &QuarterRealization<0>, &QuarterRealization<1>, &QuarterRealization<2>, &QuarterRealization<3>};
constexpr std::array<Picker, kQuartersPerYear> kCapaianPickers = {
    &QuarterCapaian<0>, &QuarterCapaian<1>, &QuarterCapaian<2>, &QuarterCapaian<3>};

absl::StatusOr<AverageRow> AverageRowOf(const std::vector<IndicatorRow>& rows, int n) {
  AverageRow average;
  ASSIGN_OR_RETURN(average.target, MeanFigure(rows, &TargetOf, nullptr));
  for (int q = 1; q <= kQuartersPerYear; ++q) {
    QuarterFigures& cell = average.quarters[q - 1];
    if (q > n) {
      cell.realization = Absent(AfterQuarter(n));
      cell.capaian = Absent(AfterQuarter(n));
      continue;
    }
    ASSIGN_OR_RETURN(cell.realization, MeanFigure(rows, kRealizationPickers[q - 1], &average.not_reported[q - 1]));
    ASSIGN_OR_RETURN(cell.capaian, MeanFigure(rows, kCapaianPickers[q - 1], nullptr));
  }
  ASSIGN_OR_RETURN(average.year_end_realization, MeanFigure(rows, &YearEndRealizationOf, &average.year_end_not_reported));
  ASSIGN_OR_RETURN(average.year_end_capaian, MeanFigure(rows, &YearEndCapaianOf, nullptr));
  return average;
}

// part / whole x 100; absent when whole is 0 or either is absent.
absl::StatusOr<Figure> PercentFigure(const Figure& part, const Figure& whole) {
  std::vector<std::string> ids = part.event_ids;
  AddIds(ids, whole.event_ids);
  if (!part.value.has_value() || !whole.value.has_value()) return Absent("an input is absent", ids);
  if (whole.value->IsZero()) return Absent(absl::StrCat(Text(*part.value), " / 0: undefined"), ids);
  ASSIGN_OR_RETURN(Ratio percent, domain::PercentOf(*part.value, *whole.value));
  return Value(percent, absl::StrCat(Text(*part.value), " / ", Text(*whole.value), " x 100"), std::move(ids));
}

// The sum of figures (absent ones count as 0).
absl::StatusOr<Figure> SumFigure(const std::vector<const Figure*>& figures) {
  std::vector<Ratio> values;
  std::vector<std::string> ids;
  for (const Figure* figure : figures) {
    values.push_back(OrZero(*figure));
    AddIds(ids, figure->event_ids);
  }
  ASSIGN_OR_RETURN(Ratio sum, Sum(values));
  return Value(sum, values.empty() ? "nothing to add" : JoinTexts(values, " + "), std::move(ids));
}

// Sum of the unreversed disbursements of a programme in a quarter. Reversed
// ones and their reversals are listed in the ids to explain their absence.
absl::StatusOr<Figure> RealizedInQuarter(const UnitYearState& state, const std::string& programme_id, int quarter) {
  std::vector<Ratio> amounts;
  std::vector<std::string> ids;
  int reversed = 0;
  for (const Disbursement& disbursement : state.disbursements()) {
    if (disbursement.programme_id != programme_id || disbursement.quarter != quarter) continue;
    ids.push_back(disbursement.source.event_id);
    if (disbursement.reversed_by.has_value()) {
      ids.push_back(disbursement.reversed_by->event_id);
      ++reversed;
      continue;
    }
    amounts.push_back(disbursement.amount);
  }
  ASSIGN_OR_RETURN(Ratio sum, Sum(amounts));
  std::string formula = amounts.empty() ? "no disbursement" : absl::StrCat("disbursements ", JoinTexts(amounts, " + "));
  if (reversed > 0) absl::StrAppend(&formula, " (", reversed, " reversed, excluded)");
  return Value(sum, std::move(formula), std::move(ids));
}

absl::Status FillPercents(BudgetRow& row, int n) {
  for (int q = 1; q <= kQuartersPerYear; ++q) {
    if (q > n) {
      row.absorption[q - 1] = Absent(AfterQuarter(n));
      continue;
    }
    ASSIGN_OR_RETURN(row.absorption[q - 1], PercentFigure(row.realized[q - 1], row.allocation));
  }
  ASSIGN_OR_RETURN(row.cumulative_absorption, PercentFigure(row.cumulative_realized, row.allocation));
  return absl::OkStatus();
}

absl::Status FillCumulative(BudgetRow& row, int n) {
  std::vector<const Figure*> through_n;
  for (int q = 1; q <= n; ++q) through_n.push_back(&row.realized[q - 1]);
  ASSIGN_OR_RETURN(row.cumulative_realized, SumFigure(through_n));
  return FillPercents(row, n);
}

absl::StatusOr<BudgetRow> ProgrammeRowOf(const UnitYearState& state, const Programme& programme, int n) {
  BudgetRow row;
  row.programme_id = programme.programme_id;
  row.number = programme.number;
  row.name = programme.name;
  std::vector<std::string> ids;
  AddIds(ids, programme.allocation_chain);
  row.allocation = Value(programme.allocation,
                         programme.allocation_chain.size() > 1 ? "allocation as revised" : "allocation", ids);
  for (int q = 1; q <= kQuartersPerYear; ++q) {
    if (q > n) {
      row.realized[q - 1] = Absent(AfterQuarter(n));
      continue;
    }
    ASSIGN_OR_RETURN(row.realized[q - 1], RealizedInQuarter(state, programme.programme_id, q));
  }
  RETURN_IF_ERROR(FillCumulative(row, n));
  return row;
}

absl::StatusOr<BudgetRow> TotalRowOf(const std::vector<BudgetRow>& rows, int n) {
  BudgetRow total;
  total.name = "Total";
  std::vector<const Figure*> allocations;
  for (const BudgetRow& row : rows) allocations.push_back(&row.allocation);
  ASSIGN_OR_RETURN(total.allocation, SumFigure(allocations));
  for (int q = 1; q <= kQuartersPerYear; ++q) {
    if (q > n) {
      total.realized[q - 1] = Absent(AfterQuarter(n));
      continue;
    }
    std::vector<const Figure*> realized;
    for (const BudgetRow& row : rows) realized.push_back(&row.realized[q - 1]);
    ASSIGN_OR_RETURN(total.realized[q - 1], SumFigure(realized));
  }
  RETURN_IF_ERROR(FillCumulative(total, n));
  return total;
}

absl::StatusOr<CostPerOutcomeRow> CostPerOutcomeOf(const IndicatorRow& indicator, const std::vector<BudgetRow>& programmes,
                                                   const UnitYearState& state) {
  CostPerOutcomeRow row;
  row.indicator_id = indicator.indicator_id;
  row.number = indicator.number;
  row.goal_name = indicator.goal_name;
  row.indicator_name = indicator.name;
  std::vector<const Figure*> allocations;
  std::vector<const Figure*> realized;
  for (const BudgetRow& programme : programmes) {
    const auto& links = state.programmes().at(programme.programme_id).indicator_ids;
    if (std::find(links.begin(), links.end(), indicator.indicator_id) == links.end()) continue;
    row.programme_ids.push_back(programme.programme_id);
    allocations.push_back(&programme.allocation);
    realized.push_back(&programme.cumulative_realized);
  }
  ASSIGN_OR_RETURN(row.budget, SumFigure(allocations));
  ASSIGN_OR_RETURN(row.realized, SumFigure(realized));
  ASSIGN_OR_RETURN(row.absorption, PercentFigure(row.realized, row.budget));
  row.target = indicator.target;
  row.realization = indicator.year_end_realization;
  row.capaian = indicator.year_end_capaian;
  return row;
}

absl::StatusOr<ChecklistRow> ChecklistRowOf(const UnitYearState& state, const ChecklistActivity& activity, int n) {
  ChecklistRow row;
  row.activity_id = activity.activity_id;
  row.number = activity.number;
  row.name = activity.name;
  int64_t count = 0;
  uint64_t remark_position = 0;
  std::vector<std::string> ids;
  for (const auto& [code, village] : state.villages()) {
    bool done = false;
    for (int q = 1; q <= n; ++q) {
      auto it = state.checklist_entries().find({activity.activity_id, code, q});
      if (it == state.checklist_entries().end()) continue;
      const ChecklistEntry& entry = it->second;
      ids.push_back(entry.source.event_id);
      done = done || entry.done;
      if (!entry.remark.empty() && entry.source.position >= remark_position) {
        remark_position = entry.source.position;
        row.remark = entry.remark;
      }
    }
    row.villages.emplace_back(code, done);
    if (done) ++count;
  }
  const int64_t villages = static_cast<int64_t>(state.villages().size());
  row.count = Value(Ratio::FromInteger(count), absl::StrCat("villages done in quarters 1..", n), ids);
  if (villages == 0) {
    row.ratio = Absent("no villages", ids);
  } else {
    ASSIGN_OR_RETURN(Ratio ratio, Ratio::FromInteger(count).Divide(Ratio::FromInteger(villages)));
    row.ratio = Value(ratio, absl::StrCat(count, " / ", villages, " villages"), ids);
  }
  return row;
}

ReportStatus StatusOf(const SubmittedReport& report) {
  ReportStatus status;
  status.report_id = report.details.report_id();
  status.quarter = report.details.quarter();
  status.signed_on = report.details.signed_on();
  status.disposed = !report.dispositions.empty();
  if (!status.disposed) return status;
  const auto& latest = report.dispositions.back().details;
  for (int option : latest.options()) status.options.push_back(static_cast<sakip::v1::DispositionOption>(option));
  status.note = latest.note();
  status.supervisor_name = latest.supervisor_name();
  return status;
}

template <typename Row>
void SortByNumber(std::vector<Row>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.number < b.number; });
}

absl::Status FillIndicators(const UnitYearState& state, int n, QuarterlyReport& report) {
  for (const auto& [id, indicator] : state.indicators()) {
    ASSIGN_OR_RETURN(IndicatorRow row, IndicatorRowOf(state, indicator, n, report.capaian_capped));
    report.indicators.push_back(std::move(row));
  }
  SortByNumber(report.indicators);
  ASSIGN_OR_RETURN(report.average, AverageRowOf(report.indicators, n));
  return absl::OkStatus();
}

absl::Status FillBudget(const UnitYearState& state, int n, QuarterlyReport& report) {
  for (const auto& [id, programme] : state.programmes()) {
    ASSIGN_OR_RETURN(BudgetRow row, ProgrammeRowOf(state, programme, n));
    report.programmes.push_back(std::move(row));
  }
  SortByNumber(report.programmes);
  ASSIGN_OR_RETURN(report.total, TotalRowOf(report.programmes, n));
  for (const IndicatorRow& indicator : report.indicators) {
    ASSIGN_OR_RETURN(CostPerOutcomeRow row, CostPerOutcomeOf(indicator, report.programmes, state));
    report.cost_per_outcome.push_back(std::move(row));
  }
  return absl::OkStatus();
}

absl::Status FillChecklist(const UnitYearState& state, int n, QuarterlyReport& report) {
  for (const auto& [id, activity] : state.activities()) {
    ASSIGN_OR_RETURN(ChecklistRow row, ChecklistRowOf(state, activity, n));
    report.checklist.push_back(std::move(row));
  }
  SortByNumber(report.checklist);
  return absl::OkStatus();
}

void IndexQuarters(std::map<std::string, const Figure*>& index, const std::string& prefix,
                   const std::array<QuarterFigures, kQuartersPerYear>& quarters) {
  for (int q = 1; q <= kQuartersPerYear; ++q) {
    index[absl::StrCat(prefix, "/q", q, "/realization")] = &quarters[q - 1].realization;
    index[absl::StrCat(prefix, "/q", q, "/capaian")] = &quarters[q - 1].capaian;
  }
}

void IndexBudgetRow(std::map<std::string, const Figure*>& index, const std::string& prefix, const BudgetRow& row) {
  index[prefix + "/allocation"] = &row.allocation;
  for (int q = 1; q <= kQuartersPerYear; ++q) {
    index[absl::StrCat(prefix, "/q", q, "/realized")] = &row.realized[q - 1];
    index[absl::StrCat(prefix, "/q", q, "/absorption")] = &row.absorption[q - 1];
  }
  index[prefix + "/cumulative/realized"] = &row.cumulative_realized;
  index[prefix + "/cumulative/absorption"] = &row.cumulative_absorption;
}

}  // namespace

std::string ExactText(const Ratio& value) {
  absl::int128 denominator = value.denominator();
  while (denominator % 2 == 0) denominator /= 2;
  while (denominator % 5 == 0) denominator /= 5;
  if (denominator == 1) return FormatPlain(value, domain::kMaxFractionDigits, FractionStyle::kTrimTrailingZeros);
  return absl::StrCat(value.ToString(), " (~", FormatPlain(value, 6), ")");
}

std::string Predicate(const Ratio& capaian) {
  if (capaian >= Ratio::FromInteger(91)) return "Sangat Tinggi";
  if (capaian >= Ratio::FromInteger(76)) return "Tinggi";
  if (capaian >= Ratio::FromInteger(66)) return "Sedang";
  if (capaian >= Ratio::FromInteger(51)) return "Rendah";
  return "Sangat Rendah";
}

absl::StatusOr<std::optional<Ratio>> ComputeCapaian(Direction direction, const Ratio& realization, const Ratio& target,
                                                    bool cap_at_100) {
  if (target.sign() <= 0) return absl::InvalidArgumentError("target: must be > 0");
  Ratio capaian;
  switch (direction) {
    case sakip::v1::LOWER_IS_BETTER_MIRRORED: {
      ASSIGN_OR_RETURN(Ratio twice, target.Add(target));
      ASSIGN_OR_RETURN(Ratio margin, twice.Subtract(realization));
      ASSIGN_OR_RETURN(capaian, domain::PercentOf(margin, target));
      capaian = domain::Max(capaian, Ratio());
      break;
    }
    case sakip::v1::LOWER_IS_BETTER_INVERSE: {
      if (realization.IsZero()) return std::optional<Ratio>();
      ASSIGN_OR_RETURN(capaian, domain::PercentOf(target, realization));
      break;
    }
    default: {
      ASSIGN_OR_RETURN(capaian, domain::PercentOf(realization, target));
      break;
    }
  }
  if (cap_at_100) capaian = domain::Min(capaian, kHundred);
  return std::optional<Ratio>(capaian);
}

absl::StatusOr<QuarterlyReport> ComputeReport(const UnitYearState& state, int quarter) {
  if (quarter < 1 || quarter > kQuartersPerYear) {
    return absl::InvalidArgumentError(absl::StrCat("quarter: ", quarter, " is outside 1..4"));
  }
  if (!state.agreement().has_value()) return absl::FailedPreconditionError("agreement: not established");
  QuarterlyReport report;
  const Agreement& agreement = *state.agreement();
  report.quarter = quarter;
  report.unit_code = agreement.unit_code;
  report.unit_name = agreement.details.unit_name();
  report.fiscal_year = agreement.fiscal_year;
  report.capaian_capped = agreement.details.cap_capaian_at_100();
  RETURN_IF_ERROR(FillIndicators(state, quarter, report));
  RETURN_IF_ERROR(FillBudget(state, quarter, report));
  RETURN_IF_ERROR(FillChecklist(state, quarter, report));
  for (const auto& [id, submitted] : state.reports()) report.reports.push_back(StatusOf(submitted));
  return report;
}

std::map<std::string, const Figure*> IndexFigures(const QuarterlyReport& report) {
  std::map<std::string, const Figure*> index;
  for (const IndicatorRow& row : report.indicators) {
    const std::string prefix = "indicator/" + row.indicator_id;
    index[prefix + "/target"] = &row.target;
    IndexQuarters(index, prefix, row.quarters);
    index[prefix + "/year_end/realization"] = &row.year_end_realization;
    index[prefix + "/year_end/capaian"] = &row.year_end_capaian;
  }
  index["average/target"] = &report.average.target;
  IndexQuarters(index, "average", report.average.quarters);
  index["average/year_end/realization"] = &report.average.year_end_realization;
  index["average/year_end/capaian"] = &report.average.year_end_capaian;
  for (const BudgetRow& row : report.programmes) IndexBudgetRow(index, "programme/" + row.programme_id, row);
  IndexBudgetRow(index, "total", report.total);
  for (const CostPerOutcomeRow& row : report.cost_per_outcome) {
    const std::string prefix = "cost_per_outcome/" + row.indicator_id;
    index[prefix + "/budget"] = &row.budget;
    index[prefix + "/realized"] = &row.realized;
    index[prefix + "/absorption"] = &row.absorption;
  }
  for (const ChecklistRow& row : report.checklist) {
    index["checklist/" + row.activity_id + "/count"] = &row.count;
    index["checklist/" + row.activity_id + "/ratio"] = &row.ratio;
  }
  return index;
}

}  // namespace ledger::projections
