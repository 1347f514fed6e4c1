#include "ledger/attest/report_digest.h"

#include <map>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/integrity/sha256.h"

namespace ledger::attest {
namespace {

using projections::Figure;
using projections::QuarterlyReport;

// ` name="value"`, the value C-escaped so that a line never breaks and a
// quote never ends it early: the text stays unambiguous whatever names hold.
std::string Field(absl::string_view name, absl::string_view value) {
  return absl::StrCat(" ", name, "=\"", absl::CEscape(value), "\"");
}

std::string ListField(absl::string_view name, const std::vector<std::string>& values) {
  return Field(name, absl::StrJoin(values, ","));
}

std::string FigureLine(const std::string& key, const Figure& figure) {
  return absl::StrCat("figure ", key,
                      Field("value", figure.value.has_value() ? figure.value->ToString() : "absent"),
                      Field("formula", figure.formula), ListField("events", figure.event_ids), "\n");
}

void AppendHeader(const QuarterlyReport& report, std::string* text) {
  absl::StrAppend(text, kReportDigestFormat, "\n", "report", Field("unit_code", report.unit_code),
                  Field("unit_name", report.unit_name),
                  Field("fiscal_year", absl::StrCat(report.fiscal_year)),
                  Field("quarter", absl::StrCat(report.quarter)),
                  Field("capaian_capped", report.capaian_capped ? "true" : "false"), "\n");
}

void AppendRows(const QuarterlyReport& report, std::string* text) {
  for (const projections::IndicatorRow& row : report.indicators) {
    absl::StrAppend(text, "indicator", Field("id", row.indicator_id),
                    Field("number", absl::StrCat(row.number)), Field("goal", row.goal_name),
                    Field("name", row.name), Field("unit", row.unit),
                    Field("predicate", row.predicate.value_or("")), "\n");
  }
  for (int quarter = 0; quarter < projections::kQuartersPerYear; ++quarter) {
    absl::StrAppend(text, "average_not_reported", Field("quarter", absl::StrCat(quarter + 1)),
                    ListField("indicators", report.average.not_reported[quarter]), "\n");
  }
  absl::StrAppend(text, "average_not_reported", Field("quarter", "year_end"),
                  ListField("indicators", report.average.year_end_not_reported), "\n");
  for (const projections::BudgetRow& row : report.programmes) {
    absl::StrAppend(text, "programme", Field("id", row.programme_id),
                    Field("number", absl::StrCat(row.number)), Field("name", row.name), "\n");
  }
  for (const projections::CostPerOutcomeRow& row : report.cost_per_outcome) {
    absl::StrAppend(text, "cost_per_outcome", Field("indicator", row.indicator_id),
                    Field("number", absl::StrCat(row.number)), Field("goal", row.goal_name),
                    Field("name", row.indicator_name), ListField("programmes", row.programme_ids),
                    "\n");
  }
}

void AppendChecklistAndStatuses(const QuarterlyReport& report, std::string* text) {
  for (const projections::ChecklistRow& row : report.checklist) {
    std::vector<std::string> villages;
    for (const auto& [code, done] : row.villages) villages.push_back(absl::StrCat(code, done ? ":1" : ":0"));
    absl::StrAppend(text, "checklist", Field("id", row.activity_id),
                    Field("number", absl::StrCat(row.number)), Field("name", row.name),
                    ListField("villages", villages), Field("remark", row.remark), "\n");
  }
  for (const projections::ReportStatus& status : report.reports) {
    std::vector<std::string> options;
    for (sakip::v1::DispositionOption option : status.options) {
      options.push_back(sakip::v1::DispositionOption_Name(option));
    }
    absl::StrAppend(text, "submitted_report", Field("id", status.report_id),
                    Field("quarter", absl::StrCat(status.quarter)), Field("signed_on", status.signed_on),
                    Field("disposed", status.disposed ? "true" : "false"), ListField("options", options),
                    Field("note", status.note), Field("supervisor", status.supervisor_name), "\n");
  }
}

// The cost-per-outcome rows copy the indicator's target, realization and
// capaian; IndexFigures leaves those copies out, so they are listed here to
// keep every figure of the report in the text.
void AppendCostPerOutcomeCopies(const QuarterlyReport& report, std::string* text) {
  for (const projections::CostPerOutcomeRow& row : report.cost_per_outcome) {
    const std::string prefix = "cost_per_outcome/" + row.indicator_id;
    absl::StrAppend(text, FigureLine(prefix + "/target", row.target),
                    FigureLine(prefix + "/realization", row.realization),
                    FigureLine(prefix + "/capaian", row.capaian));
  }
}

}  // namespace

std::string CanonicalReportText(const QuarterlyReport& report) {
  std::string text;
  AppendHeader(report, &text);
  AppendRows(report, &text);
  AppendChecklistAndStatuses(report, &text);
  for (const auto& [key, figure] : projections::IndexFigures(report)) {
    text += FigureLine(key, *figure);
  }
  AppendCostPerOutcomeCopies(report, &text);
  return text;
}

std::string ReportSha256(const QuarterlyReport& report) { return Sha256(CanonicalReportText(report)); }

}  // namespace ledger::attest
