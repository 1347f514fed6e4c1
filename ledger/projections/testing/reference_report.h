// Test fixtures: a builder of SAKIP event streams, and the events of the
// reference report (Laporan Kinerja Individu Camat Klakah, Triwulan II 2024,
// /work/shared/reference/laporan-kinerja-klakah-tw2-2024.txt), including the
// submitted report with every figure as printed (errors included).
//
// tests/data/klakah-tw2-2024.jsonl is generated from KlakahTw2Events() by
// reference_report_test (set LEDGER_UPDATE_GOLDEN=1 to rewrite it); the test
// fails when the file and the builder disagree.
#ifndef LEDGER_PROJECTIONS_TESTING_REFERENCE_REPORT_H_
#define LEDGER_PROJECTIONS_TESTING_REFERENCE_REPORT_H_

#include <string>
#include <vector>

#include "ledger/projections/domain_event.h"

namespace ledger::projections::testing {

// Builds a stream of DomainEvents with consecutive positions (from 1), ids
// "<prefix>-0001", ... and recorded_at one hour apart from 2024-01-02 UTC.
class StreamBuilder {
 public:
  StreamBuilder(std::string unit_code, int fiscal_year, std::string id_prefix);

  // Appends an event whose unit_code and fiscal_year are set; the caller sets
  // the oneof on the returned message (valid until the next Next()).
  sakip::v1::SakipEvent& Next(std::string reason = "");
  const std::string& last_id() const { return events_.back().event_id; }
  const std::vector<DomainEvent>& events() const { return events_; }
  std::vector<DomainEvent> Take() { return std::move(events_); }

 private:
  std::string unit_code_;
  int fiscal_year_;
  std::string id_prefix_;
  std::vector<DomainEvent> events_;
};

inline constexpr char kKlakahUnitCode[] = "35.08.19";
inline constexpr int kKlakahFiscalYear = 2024;
inline constexpr char kKlakahReportId[] = "LKI-CAMAT-KLAKAH-TW2-2024";
inline constexpr char kKlakahHeadNip[] = "19730415 199803 1 011";

// The reference report's events, in order, ending with its ReportSubmitted.
std::vector<DomainEvent> KlakahTw2Events();

// One JSON line per event: {"event_id", "event_type", "reason", "event":
// <proto3 JSON of SakipEvent>}, each line ending in '\n'.
std::string ToJsonLines(const std::vector<DomainEvent>& events);

}  // namespace ledger::projections::testing

#endif  // LEDGER_PROJECTIONS_TESTING_REFERENCE_REPORT_H_
