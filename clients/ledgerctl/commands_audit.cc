// The inspector's subcommands over sakip.v1.AuditService:
//   history UNIT                      who changed what, when, which quarter, why
//   explain UNIT YEAR QUARTER KEY     a figure, its formula and the events behind it
//   diff UNIT YEAR QUARTER            a report as of two moments, figure by figure
//   late UNIT                         submitted reports changed after their submission
// Human output is tables in Indonesian number notation with times in WIB;
// --json prints one JSON object per line, --csv one CSV record per row.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/report_text.h"
#include "clients/ledgerctl/times.h"

namespace ledgerctl {
namespace {

namespace pb = ::sakip::v1;

constexpr uint64_t kDefaultHistoryLimit = 50;
constexpr size_t kReasonChars = 48;
constexpr size_t kChangeChars = 56;

// "realization 37,84 -> 40; remark '' -> 'ok'", numbers in Indonesian notation.
std::string ChangesText(const pb::HistoryEntry& entry) {
  std::vector<std::string> parts;
  for (const pb::Change& change : entry.changes()) {
    std::string text = change.field() + " ";
    if (!change.old_value().empty()) text += IndonesianNumber(change.old_value()) + " -> ";
    parts.push_back(text + IndonesianNumber(change.new_value()));
  }
  return parts.empty() ? entry.summary() : absl::StrJoin(parts, "; ");
}

// The same in plain notation, for CSV.
std::string PlainChangesText(const pb::HistoryEntry& entry) {
  std::vector<std::string> parts;
  for (const pb::Change& change : entry.changes()) {
    parts.push_back(absl::StrCat(change.field(), ": ", change.old_value(), " -> ", change.new_value()));
  }
  return absl::StrJoin(parts, "; ");
}

std::string QuarterCell(int quarter) { return quarter == 0 ? "-" : QuarterName(quarter); }

std::string UnitYear(const pb::HistoryEntry& entry) {
  return absl::StrCat(entry.unit_code(), "/", entry.fiscal_year());
}

std::vector<std::string> HistoryCsvHeader() {
  return {"position", "recorded_at_utc", "recorded_at_wib", "actor", "unit_code", "fiscal_year", "quarter",
          "event_type", "event_id", "subjects", "changes", "reason", "refers_to_event_id", "correlation_id"};
}

std::vector<std::string> HistoryCsvFields(const pb::HistoryEntry& entry) {
  return {std::to_string(entry.position()), FormatUtc(entry.recorded_at_micros()),
          FormatWib(entry.recorded_at_micros()), entry.actor(), entry.unit_code(),
          std::to_string(entry.fiscal_year()), std::to_string(entry.quarter()), entry.event_type(),
          entry.event_id(), absl::StrJoin(entry.subjects(), " "), PlainChangesText(entry), entry.reason(),
          entry.refers_to_event_id(), entry.correlation_id()};
}

// A table of events for people: one row per event.
TextTable EventsTable(bool with_status) {
  std::vector<std::string> headers = {"POS", "RECORDED (WIB)", "ACTOR", "UNIT/YEAR", "QUARTER", "EVENT",
                                      "EVENT ID", "CHANGE", "REASON"};
  if (with_status) headers.push_back("STATUS");
  return TextTable(headers, {true});
}

std::vector<std::string> EventRow(const pb::HistoryEntry& entry) {
  return {std::to_string(entry.position()),
          FormatWib(entry.recorded_at_micros()),
          entry.actor(),
          UnitYear(entry),
          QuarterCell(entry.quarter()),
          entry.event_type(),
          entry.event_id(),
          Truncate(ChangesText(entry), kChangeChars),
          entry.reason().empty() ? "-" : Truncate(entry.reason(), kReasonChars)};
}

std::string FigureText(const pb::Figure& figure) { return figure.present() ? figure.indonesian() : "-"; }

// --as-of TIME | --as-of-position P | --as-published REPORT into `moment`.
void SetMoment(const ParsedArgs& args, const std::string& time_flag, const std::string& position_flag,
               const std::string& published_flag, pb::Moment* moment) {
  int given = 0;
  if (std::optional<std::string> time = args.Get(time_flag)) {
    moment->set_at_micros(absl::ToUnixMicros(ParseTimeArg(*time)));
    ++given;
  }
  if (std::optional<uint64_t> position = args.GetUint(position_flag)) {
    moment->set_position(*position);
    ++given;
  }
  if (!published_flag.empty()) {
    if (std::optional<std::string> report = args.Get(published_flag)) {
      if (report->empty()) throw UsageError("--" + published_flag + ": must name a report id");
      moment->set_submission_of_report(*report);
      ++given;
    }
  }
  if (given > 1) {
    throw UsageError(absl::StrCat("give at most one of --", time_flag, ", --", position_flag,
                                  published_flag.empty() ? "" : ", --" + published_flag));
  }
}

int ParseQuarter(const std::string& text) {
  uint64_t quarter = ParseUint(text, "QUARTER");
  if (quarter < 1 || quarter > 4) throw UsageError("QUARTER: must be 1, 2, 3 or 4");
  return static_cast<int>(quarter);
}

// The subject of `history`: --subject, or one of the shorthands.
std::string HistorySubject(const ParsedArgs& args) {
  static const std::vector<std::pair<std::string, std::string>> kShorthands = {
      {"indicator", "indicator/"}, {"programme", "programme/"}, {"village", "village/"},
      {"activity", "activity/"},   {"report", "report/"},       {"goal", "goal/"}};
  std::vector<std::string> subjects;
  if (std::optional<std::string> subject = args.Get("subject")) subjects.push_back(*subject);
  for (const auto& [flag, prefix] : kShorthands) {
    if (std::optional<std::string> value = args.Get(flag)) subjects.push_back(prefix + *value);
  }
  if (subjects.size() > 1) {
    throw UsageError("give at most one of --subject, --indicator, --programme, --village, --activity, "
                     "--report, --goal");
  }
  return subjects.empty() ? "" : subjects[0];
}

pb::GetHistoryRequest HistoryRequest(const ParsedArgs& args) {
  pb::GetHistoryRequest request;
  request.set_unit_code(args.positionals[0]);
  for (const std::string& year : SplitList(args.GetOr("year", ""))) {
    request.add_fiscal_years(ParseFiscalYear(year, "--year"));
  }
  request.set_subject(HistorySubject(args));
  request.set_actor(args.GetOr("actor", ""));
  for (const std::string& type : SplitList(args.GetOr("type", ""))) request.add_event_types(type);
  if (std::optional<std::string> since = args.Get("since")) {
    request.set_from_micros(absl::ToUnixMicros(ParseTimeArg(*since)));
  }
  if (std::optional<std::string> until = args.Get("until")) {
    request.set_to_micros(absl::ToUnixMicros(ParseTimeArg(*until)));
  }
  request.set_newest_first(args.Has("newest-first"));
  const uint64_t limit = args.GetUint("limit").value_or(kDefaultHistoryLimit);
  if (limit == 0 || limit > 1000) throw UsageError("--limit: must be between 1 and 1000");
  request.set_page_size(static_cast<int>(limit));
  request.set_page_token(args.GetOr("page-token", ""));
  return request;
}

void PrintExplanation(CommandContext& context, const pb::ExplainFigureRequest& request,
                      const pb::ExplainFigureResponse& response) {
  const pb::Figure& figure = response.figure();
  context.out << "FIGURE " << response.key() << "\n  of the Triwulan " << request.quarter() << " ("
              << QuarterName(request.quarter()) << ") report of " << request.unit_code() << "/"
              << request.fiscal_year() << ", as of position " << response.as_of_position() << "\n\n"
              << "  value       " << FigureText(figure)
              << (figure.present() ? "   (exact " + figure.exact() + ")" : "") << "\n"
              << "  formula     " << figure.formula() << "\n";
  if (response.depends_on_size() > 0) {
    context.out << "  depends on  " << absl::StrJoin(response.depends_on(), ", ")
                << "\n              (explain each the same way)\n";
  }
  context.out << "\nEVENTS BEHIND IT (" << response.inputs_size() << ")\n";
  if (response.inputs_size() == 0) return;
  TextTable table = EventsTable(/*with_status=*/true);
  for (const pb::FigureInput& input : response.inputs()) {
    std::vector<std::string> row = EventRow(input.event());
    row.push_back(input.in_force() ? "in force" : "replaced by " + input.replaced_by_event_id());
    table.AddRow(row);
  }
  context.out << table.Render();
}

void PrintExplanationCsv(CommandContext& context, const pb::ExplainFigureResponse& response) {
  context.out << CsvLine({"key", "value_exact", "value", "position", "recorded_at_utc", "actor", "event_type",
                          "event_id", "in_force", "replaced_by_event_id", "changes", "reason"});
  for (const pb::FigureInput& input : response.inputs()) {
    const pb::HistoryEntry& entry = input.event();
    context.out << CsvLine({response.key(), response.figure().exact(), response.figure().plain(),
                            std::to_string(entry.position()), FormatUtc(entry.recorded_at_micros()),
                            entry.actor(), entry.event_type(), entry.event_id(),
                            input.in_force() ? "true" : "false", input.replaced_by_event_id(),
                            PlainChangesText(entry), entry.reason()});
  }
}

// The changed figures of a diff or a late report, and the events behind them.
void PrintFigureChanges(CommandContext& context, const google::protobuf::RepeatedPtrField<pb::FigureChange>& changes,
                        const std::string& before_header, const std::string& after_header) {
  TextTable figures({"FIGURE", before_header, after_header, "CHANGED BY"}, {false, true, true});
  std::map<uint64_t, const pb::HistoryEntry*> events;
  for (const pb::FigureChange& change : changes) {
    std::vector<std::string> ids;
    for (const pb::HistoryEntry& entry : change.events()) {
      ids.push_back(entry.event_id());
      events.emplace(entry.position(), &entry);
    }
    figures.AddRow({change.key(), FigureText(change.before()), FigureText(change.after()),
                    ids.empty() ? "-" : absl::StrJoin(ids, ", ")});
  }
  context.out << figures.Render();
  if (events.empty()) return;
  context.out << "\n  the events that changed them:\n";
  TextTable table = EventsTable(/*with_status=*/false);
  for (const auto& [position, entry] : events) table.AddRow(EventRow(*entry));
  context.out << table.Render("    ");
}

std::vector<std::string> FigureChangeCsvFields(const pb::FigureChange& change) {
  std::vector<std::string> ids;
  for (const pb::HistoryEntry& entry : change.events()) ids.push_back(entry.event_id());
  return {change.key(),          change.before().exact(), change.before().plain(),
          change.after().exact(), change.after().plain(), absl::StrJoin(ids, " ")};
}

std::string MomentText(uint64_t position) { return absl::StrCat("position ", position); }

}  // namespace

int RunHistory(CommandContext& context) {
  pb::GetHistoryRequest request = HistoryRequest(context.args);
  const bool all_pages = context.args.Has("all-pages");
  if (all_pages && context.args.Has("page-token")) throw UsageError("--all-pages and --page-token: give one");
  TextTable table = EventsTable(/*with_status=*/false);
  if (context.csv_output) context.out << CsvLine(HistoryCsvHeader());
  size_t shown = 0;
  pb::GetHistoryResponse response;
  while (true) {
    response.Clear();
    auto call = context.client.UnaryContext();
    context.client.Check(context.client.audit().GetHistory(call.get(), request, &response));
    for (const pb::HistoryEntry& entry : response.entries()) {
      if (context.json_output) context.out << ProtoJson(entry) << "\n";
      if (context.csv_output) context.out << CsvLine(HistoryCsvFields(entry));
      if (!context.json_output && !context.csv_output) table.AddRow(EventRow(entry));
      ++shown;
    }
    if (!all_pages || response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  if (!context.json_output && !context.csv_output) {
    context.out << "HISTORY of " << request.unit_code()
                << (request.subject().empty() ? "" : ", " + request.subject()) << " (as of position "
                << response.as_of_position() << "): " << response.total_matching() << " events\n";
    if (shown > 0) context.out << table.Render();
  }
  if (!response.next_page_token().empty()) {
    context.err << "(" << shown << " of " << response.total_matching()
                << " shown; next page: --page-token " << response.next_page_token() << ", or --all-pages)\n";
  }
  return kExitOk;
}

int RunExplain(CommandContext& context) {
  pb::ExplainFigureRequest request;
  request.set_unit_code(context.args.positionals[0]);
  request.set_fiscal_year(ParseFiscalYear(context.args.positionals[1], "YEAR"));
  request.set_quarter(ParseQuarter(context.args.positionals[2]));
  request.set_key(context.args.positionals[3]);
  SetMoment(context.args, "as-of", "as-of-position", "as-published", request.mutable_as_of());
  pb::ExplainFigureResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.audit().ExplainFigure(call.get(), request, &response));
  if (context.json_output) {
    context.out << ProtoJson(response) << "\n";
  } else if (context.csv_output) {
    PrintExplanationCsv(context, response);
  } else {
    PrintExplanation(context, request, response);
  }
  return kExitOk;
}

int RunDiff(CommandContext& context) {
  pb::DiffReportRequest request;
  request.set_unit_code(context.args.positionals[0]);
  request.set_fiscal_year(ParseFiscalYear(context.args.positionals[1], "YEAR"));
  request.set_quarter(ParseQuarter(context.args.positionals[2]));
  SetMoment(context.args, "from", "from-position", "from-published", request.mutable_from());
  if (request.from().at_case() == pb::Moment::AT_NOT_SET) {
    throw UsageError("diff: give --from-published REPORT_ID, --from TIME or --from-position P");
  }
  SetMoment(context.args, "to", "to-position", "", request.mutable_to());
  if (request.to().at_case() == pb::Moment::AT_NOT_SET) request.clear_to();
  pb::DiffReportResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.audit().DiffReport(call.get(), request, &response));
  if (context.json_output) {
    context.out << ProtoJson(response) << "\n";
    return kExitOk;
  }
  if (context.csv_output) {
    context.out << CsvLine({"key", "before_exact", "before", "after_exact", "after", "event_ids"});
    for (const pb::FigureChange& change : response.changes()) context.out << CsvLine(FigureChangeCsvFields(change));
    return kExitOk;
  }
  context.out << "DIFF of the Triwulan " << request.quarter() << " (" << QuarterName(request.quarter())
              << ") report of " << request.unit_code() << "/" << request.fiscal_year() << ": "
              << MomentText(response.from_position()) << " -> " << MomentText(response.to_position()) << "\n  "
              << response.changes_size() << " of " << response.figures_compared() << " figures changed\n";
  if (response.changes_size() > 0) {
    context.out << "\n";
    PrintFigureChanges(context, response.changes(), "BEFORE", "AFTER");
  }
  return kExitOk;
}

int RunLate(CommandContext& context) {
  pb::ListLateEntriesRequest request;
  request.set_unit_code(context.args.positionals[0]);
  if (std::optional<std::string> year = context.args.Get("year")) {
    request.set_fiscal_year(ParseFiscalYear(*year, "--year"));
  }
  SetMoment(context.args, "as-of", "as-of-position", "", request.mutable_as_of());
  pb::ListLateEntriesResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.audit().ListLateEntries(call.get(), request, &response));
  if (context.json_output) {
    for (const pb::LateReport& report : response.reports()) context.out << ProtoJson(report) << "\n";
    return kExitOk;
  }
  if (context.csv_output) {
    context.out << CsvLine({"unit_code", "fiscal_year", "report_id", "quarter", "submitted_position",
                            "submitted_at_utc", "key", "published_exact", "published", "now_exact", "now",
                            "event_ids"});
    for (const pb::LateReport& report : response.reports()) {
      for (const pb::FigureChange& change : report.changes()) {
        std::vector<std::string> fields = {report.unit_code(), std::to_string(report.fiscal_year()),
                                           report.report_id(), std::to_string(report.quarter()),
                                           std::to_string(report.submitted_position()),
                                           FormatUtc(report.submitted_at_micros())};
        for (std::string& field : FigureChangeCsvFields(change)) fields.push_back(std::move(field));
        context.out << CsvLine(fields);
      }
    }
    return kExitOk;
  }
  context.out << "LATE ENTRIES under " << request.unit_code() << " as of position " << response.as_of_position()
              << ": " << response.reports_size() << " of " << response.reports_checked()
              << " submitted reports changed after their submission\n";
  for (const pb::LateReport& report : response.reports()) {
    context.out << "\n" << report.unit_code() << "/" << report.fiscal_year() << "  " << report.report_id() << "  ("
                << QuarterName(report.quarter()) << "), submitted at position " << report.submitted_position()
                << ", " << FormatWib(report.submitted_at_micros()) << "\n  " << report.late_events_size()
                << " late events changed " << report.changes_size() << " figures:\n";
    PrintFigureChanges(context, report.changes(), "AS PUBLISHED", "NOW");
  }
  return kExitOk;
}

int RunDenied(CommandContext& context) {
  pb::ListDeniedAttemptsRequest request;
  if (!context.args.positionals.empty()) request.set_unit_code(context.args.positionals[0]);
  if (std::optional<std::string> principal = context.args.Get("principal")) request.set_principal(*principal);
  if (std::optional<uint64_t> limit = context.args.GetUint("limit")) {
    if (*limit == 0 || *limit > 1000) throw UsageError("--limit: must be 1..1000");
    request.set_max_count(static_cast<int32_t>(*limit));
  }
  pb::ListDeniedAttemptsResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.audit().ListDeniedAttempts(call.get(), request, &response));
  if (context.json_output) {
    for (const auto& attempt : response.attempts()) context.out << ProtoJson(attempt) << "\n";
    return kExitOk;
  }
  if (context.csv_output) {
    context.out << CsvLine({"sequence", "at_utc", "principal", "peer", "method", "unit", "code", "reason"});
    for (const auto& attempt : response.attempts()) {
      context.out << CsvLine({std::to_string(attempt.sequence()), FormatUtc(attempt.at_micros()),
                              attempt.principal(), attempt.peer(), attempt.method(), attempt.unit(),
                              attempt.code(), attempt.reason()});
    }
    return kExitOk;
  }
  context.out << "DENIED ATTEMPTS" << (request.unit_code().empty() ? "" : " under " + request.unit_code())
              << ": " << response.attempts_size() << " shown, newest first; since the server started: "
              << response.denied_total() << " refused (" << response.unauthenticated_total()
              << " unauthenticated, " << response.permission_denied_total() << " not permitted, "
              << response.other_total() << " over a limit)\n";
  for (const auto& attempt : response.attempts()) {
    context.out << "\n#" << attempt.sequence() << "  " << FormatWib(attempt.at_micros()) << "  "
                << (attempt.principal().empty() ? "(unauthenticated)" : attempt.principal()) << " from "
                << attempt.peer() << "\n  " << attempt.method()
                << (attempt.unit().empty() ? "" : "  unit " + attempt.unit()) << "  " << attempt.code()
                << "\n  " << attempt.reason() << "\n";
  }
  return kExitOk;
}

}  // namespace ledgerctl
