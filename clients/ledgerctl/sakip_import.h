// Reading the JSON Lines interchange format of SAKIP domain events for
// `ledgerctl import` (docs/DOMAIN-EVENTS.md; tests/data/klakah-tw2-2024.jsonl):
// one {"event_id", "event_type", "reason", "event": <proto3 JSON of
// sakip.v1.SakipEvent>} per line; blank lines are skipped.
//
// Everything is parsed and checked before anything is sent, so a bad line
// stops the import with nothing written. The server checks the domain rules.
#ifndef CLIENTS_LEDGERCTL_SAKIP_IMPORT_H_
#define CLIENTS_LEDGERCTL_SAKIP_IMPORT_H_

#include <istream>
#include <string>
#include <vector>

#include "sakip/v1/report_service.pb.h"

namespace ledgerctl {

// One event of the file and the line it came from.
struct ImportedEvent {
  int line_number = 0;
  sakip::v1::ProposedSakipEvent proposed;
};

// Consecutive events of one unit-year, sent in one RecordEvents call.
struct ImportBatch {
  std::vector<ImportedEvent> events;
  std::string unit_year;  // "35.08.19/2024"
};

// Parses one line. Throws a usage CliError "SOURCE:LINE: FIELD: problem".
ImportedEvent ParseImportLine(const std::string& line, int line_number,
                              const std::string& source);

// Parses every non-blank line of `in`; throws on the first bad one.
std::vector<ImportedEvent> ParseImportStream(std::istream& in, const std::string& source);

// Groups consecutive events of the same unit-year, at most `max_batch` each,
// keeping the file's order.
std::vector<ImportBatch> BatchByUnitYear(std::vector<ImportedEvent> events, size_t max_batch);

// The name of the event's oneof case as an event type ("RealizationRecorded"),
// or "" when no event is set.
std::string SakipEventTypeName(const sakip::v1::SakipEvent& event);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_SAKIP_IMPORT_H_
