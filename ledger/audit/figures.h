// Pure functions over computed reports for the audit: which figures a figure
// is computed from, and which figures differ between two reports.
//
// Figure keys are the canonical keys of docs/DOMAIN-EVENTS.md
// ("indicator/IKU-1/q1/capaian"); a "#location" suffix is ignored.
#ifndef LEDGER_AUDIT_FIGURES_H_
#define LEDGER_AUDIT_FIGURES_H_

#include <string>
#include <string_view>
#include <vector>

#include "ledger/projections/report.h"

namespace ledger::audit {

// `key` without its "#location" suffix.
std::string_view CanonicalKey(std::string_view key);

// The keys of the figures `key` is computed from in `report` (only keys the
// report has), e.g. "indicator/IKU-1/q1/capaian" -> its realization and target.
// Empty for a figure computed directly from events.
std::vector<std::string> DependsOn(const projections::QuarterlyReport& report, std::string_view key);

// A figure whose value differs between two reports; a side is nullptr when
// the report has no such figure (a row added or gone).
struct FigureDifference {
  std::string key;
  const projections::Figure* before = nullptr;
  const projections::Figure* after = nullptr;
};

// Every figure whose exact value (or presence) differs, by key. Pointers into
// the reports. `compared` receives the number of distinct keys compared.
std::vector<FigureDifference> DiffFigures(const projections::QuarterlyReport& before,
                                          const projections::QuarterlyReport& after,
                                          size_t* compared);

}  // namespace ledger::audit

#endif  // LEDGER_AUDIT_FIGURES_H_
