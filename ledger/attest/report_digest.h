// The canonical text of a computed report, and its digest: what a report
// seal records when a report is submitted, and what an offline verifier
// recomputes from the events.
//
// The text is versioned, line-oriented and fully determined by the report:
//
//   sakip-ledger/report/v1
//   unit_code 35.08.19
//   ...
//   figure indicator/IKU-1/q1/capaian = 95.45 | <formula> | <event ids>
//   ...
//
// Figures in the order of their canonical keys with exact values (p/q when
// not terminating); every text field of the report (names, units,
// predicates, remarks, the statuses of submitted reports). Changing the
// report in any way changes the text; the format never changes in place (a
// new format gets a new first line).
//
// Thread-safety: pure functions.
#ifndef LEDGER_ATTEST_REPORT_DIGEST_H_
#define LEDGER_ATTEST_REPORT_DIGEST_H_

#include <string>

#include "ledger/projections/report.h"

namespace ledger::attest {

inline constexpr char kReportDigestFormat[] = "sakip-ledger/report/v1";

std::string CanonicalReportText(const projections::QuarterlyReport& report);

// SHA-256 of CanonicalReportText(report), 32 bytes.
std::string ReportSha256(const projections::QuarterlyReport& report);

}  // namespace ledger::attest

#endif  // LEDGER_ATTEST_REPORT_DIGEST_H_
