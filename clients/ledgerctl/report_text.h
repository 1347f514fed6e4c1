// The SAKIP report and reconciliation as people read them: plain-text tables
// in Indonesian number formatting ("57,45", "1.077.194.452,00"), laid out like
// the reference report (Laporan Kinerja Triwulan N): Pengukuran Kinerja with
// the average row and predicates, the programme budget with its total, cost
// per outcome, the village checklist and the disposition state.
#ifndef CLIENTS_LEDGERCTL_REPORT_TEXT_H_
#define CLIENTS_LEDGERCTL_REPORT_TEXT_H_

#include <string>
#include <vector>

#include "sakip/v1/report_service.pb.h"

namespace ledgerctl {

// A plain-text table: columns separated by two spaces, numbers right-aligned.
class TextTable {
 public:
  // `right_aligned[i]` for column i; missing entries are left-aligned.
  TextTable(std::vector<std::string> headers, std::vector<bool> right_aligned);
  void AddRow(std::vector<std::string> cells);
  void AddSeparator();
  std::string Render(const std::string& indent = "  ") const;

 private:
  std::vector<std::string> headers_;
  std::vector<bool> right_aligned_;
  std::vector<std::vector<std::string>> rows_;  // an empty row is a separator
};

// "TW I" .. "TW IV".
std::string QuarterName(int quarter);

// A figure cell: its Indonesian presentation, or "-" when absent.
std::string Cell(const sakip::v1::Figure& figure);

// A plain decimal ("1077194452.5", "-37.84") in Indonesian notation
// ("1.077.194.452,5", "-37,84"); any other text is returned as it is.
std::string IndonesianNumber(const std::string& plain);

std::string ReportText(const sakip::v1::GetReportResponse& response);
std::string ReconciliationText(const sakip::v1::ReconcileResponse& response);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_REPORT_TEXT_H_
