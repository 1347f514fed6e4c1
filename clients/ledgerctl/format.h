// How ledgerctl prints events: aligned lines for people, JSON Lines for
// scripts (--json / --output=json), and a detailed view for `get`.
#ifndef CLIENTS_LEDGERCTL_FORMAT_H_
#define CLIENTS_LEDGERCTL_FORMAT_H_

#include <string>
#include <string_view>
#include <vector>

#include "ledger/v1/event.pb.h"

namespace ledgerctl {

// Payload characters shown in the one-line human view before "...".
inline constexpr size_t kPayloadPreviewChars = 60;

// True for "application/json", "application/json; charset=utf-8" and
// "application/<anything>+json".
bool IsJsonContentType(std::string_view content_type);

// The header of EventLine's columns.
std::string EventHeader();
// One aligned line: position, stream@version, type, event id, time (WIB),
// actor, short hash, compact payload preview.
std::string EventLine(const ledger::v1::RecordedEvent& event);
// Every field, one per line, payload in full; for `get`.
std::string EventDetail(const ledger::v1::RecordedEvent& event);
// One JSON object with every envelope field: hashes as hex, the payload as
// JSON under "payload" when it is JSON, else base64 under "payload_base64".
std::string EventJson(const ledger::v1::RecordedEvent& event);

// The payload for people: compact JSON, escaped text, or "<N bytes TYPE>".
std::string PayloadText(const ledger::v1::EventEnvelope& envelope);
// Cuts `text` to at most `max_chars` UTF-8 characters, ending in "...".
std::string Truncate(std::string_view text, size_t max_chars);
// One CSV record (RFC 4180): fields quoted when they hold a comma, a quote or
// a line break; ends in "\r\n".
std::string CsvLine(const std::vector<std::string>& fields);
// The header and one CSV record of an event (position, stream, version,
// type, id, recorded_at UTC and WIB, actor, hash, payload as text).
std::string EventCsvHeader();
std::string EventCsv(const ledger::v1::RecordedEvent& event);

// Lower-case hex of the bytes.
std::string Hex(std::string_view bytes);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_FORMAT_H_
