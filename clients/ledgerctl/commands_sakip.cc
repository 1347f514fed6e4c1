// The SAKIP subcommands over sakip.v1.ReportService:
//   import FILE                 JSON Lines of domain events -> RecordEvents, in batches
//   report UNIT YEAR QUARTER    the "Triwulan N" report as of a moment
//   reconcile UNIT YEAR REPORT  declared vs recomputed figures of a submitted report
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/report_text.h"
#include "clients/ledgerctl/sakip_import.h"
#include "clients/ledgerctl/times.h"
#include "google/protobuf/util/json_util.h"

namespace ledgerctl {
namespace {

namespace pb = ::sakip::v1;

constexpr uint64_t kDefaultBatch = 100;
constexpr uint64_t kMaxBatch = 1000;  // ledger::limits::kMaxEventsPerAppend
constexpr uint64_t kDefaultProgressEvery = 1000;

// What an import did, for the summary.
struct ImportTally {
  size_t events = 0;
  size_t batches = 0;
  size_t recorded = 0;
  size_t already_recorded = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
};

std::vector<ImportedEvent> ReadImportFile(const std::string& path) {
  if (path == "-") return ParseImportStream(std::cin, "(standard input)");
  std::ifstream file(path);
  if (!file) throw UsageError(path + ": cannot open: " + std::strerror(errno));
  return ParseImportStream(file, path);
}

// The line of the event a server message names ("events[3].realization...").
std::string LocateRefusal(const ImportBatch& batch, const std::string& message,
                          const std::string& source) {
  size_t at = message.find("events[");
  size_t index = at == std::string::npos ? batch.events.size()
                                         : std::strtoul(message.c_str() + at + 7, nullptr, 10);
  if (index >= batch.events.size()) {
    return absl::StrCat(source, ":", batch.events.front().line_number, "-",
                        batch.events.back().line_number);
  }
  const ImportedEvent& event = batch.events[index];
  return absl::StrCat(source, ":", event.line_number, " (event ", event.proposed.event_id(), ")");
}

grpc::Status CallRecordEvents(CommandContext& context, const ImportBatch& batch,
                              pb::RecordEventsResponse* response) {
  pb::RecordEventsRequest request;
  for (const ImportedEvent& event : batch.events) *request.add_events() = event.proposed;
  auto call = context.client.UnaryContext();
  return context.client.reports().RecordEvents(call.get(), request, response);
}

// Turns the answer to one RecordEvents call into the tally, or a CliError
// that names the refused line.
void Account(CommandContext& context, const ImportBatch& batch, const std::string& source,
             const grpc::Status& status, const pb::RecordEventsResponse& response,
             ImportTally& tally) {
  try {
    context.client.Check(status);
  } catch (const CliError& error) {
    throw CliError(error.code(), absl::StrCat(LocateRefusal(batch, error.what(), source), ": ",
                                              error.what(), "; ", tally.events,
                                              " events before it were sent, nothing after"));
  }
  ++tally.batches;
  tally.events += batch.events.size();
  (response.already_recorded() ? tally.already_recorded : tally.recorded) += batch.events.size();
  if (tally.first_position == 0) tally.first_position = response.first_position();
  tally.last_position = response.last_position();
}

// The log refuses an append that mixes already recorded ids with new ones.
// That happens when a file is imported again after it grew, or cut into other
// batches (--batch): such a batch is then sent one event per call, so that
// exactly the new events are recorded.
bool MixesRecordedAndNew(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::ALREADY_EXISTS &&
         status.error_message().find("as part of another append") != std::string::npos;
}

void SendBatch(CommandContext& context, const ImportBatch& batch, const std::string& source,
               ImportTally& tally) {
  pb::RecordEventsResponse response;
  grpc::Status status = CallRecordEvents(context, batch, &response);
  if (!MixesRecordedAndNew(status) || batch.events.size() == 1) {
    Account(context, batch, source, status, response, tally);
    return;
  }
  for (const ImportedEvent& event : batch.events) {
    ImportBatch single{{event}, batch.unit_year};
    pb::RecordEventsResponse single_response;
    grpc::Status single_status = CallRecordEvents(context, single, &single_response);
    Account(context, single, source, single_status, single_response, tally);
  }
}

void PrintImportSummary(CommandContext& context, const std::string& source,
                        const ImportTally& tally) {
  if (context.json_output) {
    context.out << JsonObject()
                       .String("source", source)
                       .Uint("events", tally.events)
                       .Uint("batches", tally.batches)
                       .Uint("recorded", tally.recorded)
                       .Uint("already_recorded", tally.already_recorded)
                       .Uint("first_position", tally.first_position)
                       .Uint("last_position", tally.last_position)
                       .Build()
                << "\n";
    return;
  }
  context.out << "imported " << tally.events << " events from " << source << " in "
              << tally.batches << " calls: " << tally.recorded << " recorded, "
              << tally.already_recorded << " already recorded (nothing written for those)";
  if (tally.events > 0) {
    context.out << "; positions " << tally.first_position << ".." << tally.last_position;
  }
  context.out << "\n";
}

void SetAsOf(const ParsedArgs& args, pb::GetReportRequest& request) {
  std::optional<uint64_t> position = args.GetUint("as-of-position");
  std::optional<std::string> time = args.Get("as-of");
  if (position && time) throw UsageError("report: give at most one of --as-of-position, --as-of");
  if (position) request.set_position(*position);
  if (time) request.set_at_micros(absl::ToUnixMicros(ParseTimeArg(*time)));
}

}  // namespace

int RunImport(CommandContext& context) {
  const std::string& path = context.args.positionals[0];
  const std::string source = path == "-" ? "(standard input)" : path;
  const uint64_t max_batch = context.args.GetUint("batch").value_or(kDefaultBatch);
  if (max_batch == 0 || max_batch > kMaxBatch) {
    throw UsageError(absl::StrCat("--batch: must be between 1 and ", kMaxBatch));
  }
  const uint64_t progress_every =
      std::max<uint64_t>(1, context.args.GetUint("progress-every").value_or(kDefaultProgressEvery));
  std::vector<ImportedEvent> events = ReadImportFile(path);
  const size_t total = events.size();
  ImportTally tally;
  uint64_t next_progress = progress_every;
  for (const ImportBatch& batch : BatchByUnitYear(std::move(events), max_batch)) {
    SendBatch(context, batch, source, tally);
    if (total >= progress_every && tally.events >= next_progress) {
      context.err << "import: " << tally.events << "/" << total << " events ("
                  << tally.events * 100 / total << "%), through line "
                  << batch.events.back().line_number << std::endl;
      while (next_progress <= tally.events) next_progress += progress_every;
    }
  }
  PrintImportSummary(context, source, tally);
  return kExitOk;
}

int RunReport(CommandContext& context) {
  pb::GetReportRequest request;
  request.set_unit_code(context.args.positionals[0]);
  request.set_fiscal_year(ParseFiscalYear(context.args.positionals[1], "YEAR"));
  uint64_t quarter = ParseUint(context.args.positionals[2], "QUARTER");
  if (quarter < 1 || quarter > 4) throw UsageError("QUARTER: must be 1, 2, 3 or 4");
  request.set_quarter(static_cast<int>(quarter));
  SetAsOf(context.args, request);
  pb::GetReportResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.reports().GetReport(call.get(), request, &response));
  context.out << (context.json_output ? ProtoJson(response) + "\n" : ReportText(response));
  return kExitOk;
}

int RunReconcile(CommandContext& context) {
  pb::ReconcileRequest request;
  request.set_unit_code(context.args.positionals[0]);
  request.set_fiscal_year(ParseFiscalYear(context.args.positionals[1], "YEAR"));
  request.set_report_id(context.args.positionals[2]);
  pb::ReconcileResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.reports().Reconcile(call.get(), request, &response));
  context.out << (context.json_output ? ProtoJson(response) + "\n" : ReconciliationText(response));
  return kExitOk;
}

}  // namespace ledgerctl
