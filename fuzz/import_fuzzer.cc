// Fuzz target: the JSON Lines importer of `ledgerctl import`
// (clients/ledgerctl/sakip_import.h), which reads files from outside.
//
// Input: the file's bytes. ParseImportStream either returns events or throws
// ledgerctl's usage error naming "SOURCE:LINE"; any other exception (or a
// crash) is a bug.
// Properties: every event has an id, a unit code, a fiscal year and an event
// set; written back as an interchange line (proto3 JSON) it parses to the
// same proposed event; BatchByUnitYear keeps every event, in order, in
// batches of one unit-year of at most max_batch events.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/sakip_import.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/quiet_protobuf.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"

namespace {

using google::protobuf::util::MessageDifferencer;

// The interchange line of an imported event, as proto3 JSON.
std::string LineOf(const ledgerctl::ImportedEvent& imported) {
  sakip::v1::InterchangeLine line;
  line.set_event_id(imported.proposed.event_id());
  line.set_event_type(ledgerctl::SakipEventTypeName(imported.proposed.event()));
  line.set_reason(imported.proposed.reason());
  line.set_correlation_id(imported.proposed.correlation_id());
  line.set_causation_id(imported.proposed.causation_id());
  *line.mutable_event() = imported.proposed.event();
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  const auto status = google::protobuf::util::MessageToJsonString(line, &json, options);
  FUZZ_CHECK(status.ok(), std::string(status.message()));
  FUZZ_CHECK(json.find('\n') == std::string::npos, json);
  return json;
}

void CheckEvents(const std::vector<ledgerctl::ImportedEvent>& events) {
  int previous_line = 0;
  for (const ledgerctl::ImportedEvent& imported : events) {
    FUZZ_CHECK(imported.line_number > previous_line, "line numbers increase");
    previous_line = imported.line_number;
    const sakip::v1::ProposedSakipEvent& proposed = imported.proposed;
    FUZZ_CHECK(!proposed.event_id().empty(), proposed.DebugString());
    FUZZ_CHECK(!proposed.event().unit_code().empty(), proposed.DebugString());
    FUZZ_CHECK(proposed.event().fiscal_year() != 0, proposed.DebugString());
    FUZZ_CHECK(!ledgerctl::SakipEventTypeName(proposed.event()).empty(), proposed.DebugString());

    const std::string line = LineOf(imported);
    ledgerctl::ImportedEvent again;
    try {
      again = ledgerctl::ParseImportLine(line, 1, "roundtrip");
    } catch (const ledgerctl::CliError& error) {
      fuzz::Fail(__FILE__, __LINE__, "the written line parses again", absl::StrCat(line, "\n  ", error.what()));
    }
    std::string differences;
    MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&differences);
    FUZZ_CHECK(differencer.Compare(proposed, again.proposed), absl::StrCat(line, "\n  ", differences));
  }

  for (size_t max_batch : {size_t{1}, size_t{3}, size_t{1000}}) {
    std::vector<ledgerctl::ImportBatch> batches = ledgerctl::BatchByUnitYear(events, max_batch);
    size_t next = 0;
    for (const ledgerctl::ImportBatch& batch : batches) {
      FUZZ_CHECK(!batch.events.empty() && batch.events.size() <= max_batch, batch.unit_year);
      for (const ledgerctl::ImportedEvent& imported : batch.events) {
        FUZZ_CHECK(next < events.size() && imported.line_number == events[next].line_number,
                   "batches keep every event in order");
        FUZZ_CHECK(batch.unit_year == absl::StrCat(imported.proposed.event().unit_code(), "/",
                                                   imported.proposed.event().fiscal_year()),
                   batch.unit_year);
        ++next;
      }
    }
    FUZZ_CHECK(next == events.size(), "batches keep every event");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::QuietProtobuf();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  std::vector<ledgerctl::ImportedEvent> events;
  try {
    events = ledgerctl::ParseImportStream(in, "fuzz.jsonl");
  } catch (const ledgerctl::CliError& error) {
    FUZZ_CHECK(error.code() == ledgerctl::kExitUsage, error.what());
    FUZZ_CHECK(absl::StartsWith(error.what(), "fuzz.jsonl:"), error.what());
    return 0;
  }
  CheckEvents(events);
  return 0;
}
