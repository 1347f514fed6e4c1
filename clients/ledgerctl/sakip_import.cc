// Parsing and batching of the JSON Lines interchange format (see sakip_import.h).
#include "clients/ledgerctl/sakip_import.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "clients/ledgerctl/errors.h"
#include "ledger/limits.h"
#include "google/protobuf/util/json_util.h"

namespace ledgerctl {
namespace {

std::string UnitYear(const sakip::v1::SakipEvent& event) {
  return absl::StrCat(event.unit_code(), "/", event.fiscal_year());
}

// Throws "SOURCE:LINE: message".
[[noreturn]] void LineError(const std::string& source, int line_number,
                            const std::string& message) {
  throw UsageError(absl::StrCat(source, ":", line_number, ": ", message));
}

void CheckLine(const sakip::v1::InterchangeLine& parsed, int line_number,
               const std::string& source) {
  if (parsed.event_id().empty()) LineError(source, line_number, "event_id: is required");
  if (!parsed.has_event()) LineError(source, line_number, "event: is required");
  const std::string type = SakipEventTypeName(parsed.event());
  if (type.empty()) {
    LineError(source, line_number, "event: sets no event (e.g. \"realizationRecorded\": {...})");
  }
  if (!parsed.event_type().empty() && parsed.event_type() != type) {
    LineError(source, line_number,
              absl::StrCat("event_type: '", parsed.event_type(), "' does not name the event '",
                           type, "'"));
  }
  if (parsed.event().unit_code().empty()) {
    LineError(source, line_number, "event.unitCode: is required");
  }
  if (parsed.event().fiscal_year() == 0) {
    LineError(source, line_number, "event.fiscalYear: is required");
  }
}

// Refuses a line too long, or nested too deep, to be an event, before the
// protobuf JSON parser (which recurses per level) sees it. Counts brackets
// outside strings only; the parser checks everything else.
void CheckLineShape(const std::string& line, int line_number, const std::string& source) {
  if (line.size() > ledger::limits::kMaxImportLineBytes) {
    LineError(source, line_number,
              absl::StrCat("the line is ", line.size(), " bytes, more than the limit of ",
                           ledger::limits::kMaxImportLineBytes, " for one event"));
  }
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : line) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > ledger::limits::kMaxImportJsonDepth) {
        LineError(source, line_number,
                  absl::StrCat("JSON nested more than ", ledger::limits::kMaxImportJsonDepth,
                               " levels deep; no SAKIP event is"));
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace

std::string SakipEventTypeName(const sakip::v1::SakipEvent& event) {
  const google::protobuf::OneofDescriptor* oneof =
      sakip::v1::SakipEvent::descriptor()->FindOneofByName("event");
  const google::protobuf::FieldDescriptor* field =
      sakip::v1::SakipEvent::GetReflection()->GetOneofFieldDescriptor(event, oneof);
  return field == nullptr ? "" : field->message_type()->name();
}

ImportedEvent ParseImportLine(const std::string& line, int line_number,
                              const std::string& source) {
  CheckLineShape(line, line_number, source);
  sakip::v1::InterchangeLine parsed;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(line, &parsed, options);
  if (!status.ok()) LineError(source, line_number, std::string(status.message()));
  CheckLine(parsed, line_number, source);
  ImportedEvent imported;
  imported.line_number = line_number;
  imported.proposed.set_event_id(parsed.event_id());
  imported.proposed.set_reason(parsed.reason());
  imported.proposed.set_correlation_id(parsed.correlation_id());
  imported.proposed.set_causation_id(parsed.causation_id());
  *imported.proposed.mutable_event() = std::move(*parsed.mutable_event());
  return imported;
}

std::vector<ImportedEvent> ParseImportStream(std::istream& in, const std::string& source) {
  std::vector<ImportedEvent> events;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    events.push_back(ParseImportLine(line, line_number, source));
  }
  return events;
}

std::vector<ImportBatch> BatchByUnitYear(std::vector<ImportedEvent> events, size_t max_batch) {
  std::vector<ImportBatch> batches;
  for (ImportedEvent& event : events) {
    std::string unit_year = UnitYear(event.proposed.event());
    if (batches.empty() || batches.back().unit_year != unit_year ||
        batches.back().events.size() >= max_batch) {
      batches.push_back(ImportBatch{{}, unit_year});
    }
    batches.back().events.push_back(std::move(event));
  }
  return batches;
}

}  // namespace ledgerctl
