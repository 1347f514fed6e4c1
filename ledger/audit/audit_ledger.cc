// AuditLedger: each request lists the unit-year streams it concerns, folds
// them through HistoryFold up to one position (keeping copies of the state at
// the moments it compares), and answers from the folded entries and reports.
#include "ledger/audit/audit_ledger.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ledger/audit/figures.h"
#include "ledger/domain/identifiers.h"
#include "ledger/limits.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"

namespace ledger::audit {
namespace {

using projections::DomainEvent;
using projections::QuarterlyReport;
using projections::UnitYearState;

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": ", Absl(what)));
}

// "35.08.19/2024" -> ("35.08.19", 2024); nullopt for a stream that is not a
// SAKIP unit-year.
std::optional<std::pair<std::string, int>> ParseUnitYear(std::string_view stream_id) {
  const size_t slash = stream_id.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  int year = 0;
  if (!absl::SimpleAtoi(Absl(stream_id.substr(slash + 1)), &year)) return std::nullopt;
  std::string unit(stream_id.substr(0, slash));
  if (!domain::ParseAreaCode("unit", unit).ok()) return std::nullopt;
  return std::make_pair(std::move(unit), year);
}

// The names of SakipEvent's oneof cases ("RealizationRecorded", ...).
const std::set<std::string>& KnownEventTypes() {
  static const std::set<std::string>* types = [] {
    auto* names = new std::set<std::string>();
    const auto* oneof = sakip::v1::SakipEvent::descriptor()->FindOneofByName("event");
    for (int i = 0; i < oneof->field_count(); ++i) names->insert(oneof->field(i)->message_type()->name());
    return names;
  }();
  return *types;
}

absl::Status CheckQuarter(int quarter) {
  if (quarter < 1 || quarter > projections::kQuartersPerYear) {
    return Invalid("quarter", absl::StrCat(quarter, " is outside 1..4"));
  }
  return absl::OkStatus();
}

absl::StatusOr<QuarterlyReport> ReportOf(const UnitYearState& state, int quarter, std::string_view stream_id,
                                         uint64_t position) {
  absl::StatusOr<QuarterlyReport> report = projections::ComputeReport(state, quarter);
  if (report.status().code() == absl::StatusCode::kFailedPrecondition) {
    return absl::NotFoundError(absl::StrCat("no agreement of unit-year ", Absl(stream_id),
                                            " is recorded as of position ", position));
  }
  return report;
}

// The history entries recorded in (after, through] whose id is in `ids`.
std::vector<HistoryEntry> EntriesBetween(const std::vector<HistoryEntry>& entries, uint64_t after,
                                         uint64_t through, const std::set<std::string>& ids) {
  std::vector<HistoryEntry> out;
  for (const HistoryEntry& entry : entries) {
    if (entry.position > after && entry.position <= through && ids.contains(entry.event_id)) {
      out.push_back(entry);
    }
  }
  return out;
}

std::vector<FigureChange> Changes(const QuarterlyReport& before, const QuarterlyReport& after,
                                  const std::vector<HistoryEntry>& entries, uint64_t from_position,
                                  uint64_t to_position, size_t* compared) {
  std::vector<FigureChange> changes;
  for (const FigureDifference& difference : DiffFigures(before, after, compared)) {
    FigureChange change;
    change.key = difference.key;
    std::set<std::string> ids;
    if (difference.before != nullptr) {
      change.before = *difference.before;
      ids.insert(difference.before->event_ids.begin(), difference.before->event_ids.end());
    }
    if (difference.after != nullptr) {
      change.after = *difference.after;
      ids.insert(difference.after->event_ids.begin(), difference.after->event_ids.end());
    }
    change.events = EntriesBetween(entries, from_position, to_position, ids);
    changes.push_back(std::move(change));
  }
  return changes;
}

// Page tokens: "h<as_of_position>.p<last_position_returned>".
std::string PageToken(uint64_t as_of, uint64_t last) { return absl::StrCat("h", as_of, ".p", last); }

absl::StatusOr<std::pair<uint64_t, uint64_t>> ParsePageToken(std::string_view token, uint64_t head) {
  std::vector<std::string> parts = absl::StrSplit(Absl(token), '.');
  uint64_t as_of = 0;
  uint64_t last = 0;
  if (parts.size() != 2 || parts[0].size() < 2 || parts[1].size() < 2 || parts[0][0] != 'h' ||
      parts[1][0] != 'p' || !absl::SimpleAtoi(parts[0].substr(1), &as_of) ||
      !absl::SimpleAtoi(parts[1].substr(1), &last) || as_of > head) {
    return Invalid("page_token", "not a token of this ledger (pass next_page_token as returned)");
  }
  return std::make_pair(as_of, last);
}

absl::Status CheckHistoryQuery(const HistoryQuery& query) {
  RETURN_IF_ERROR(domain::ParseAreaCode("unit_code", query.unit_code).status());
  if (query.page_size > limits::kMaxHistoryPageSize) {
    return Invalid("page_size", absl::StrCat(query.page_size, " is above ", limits::kMaxHistoryPageSize));
  }
  for (size_t i = 0; i < query.event_types.size(); ++i) {
    if (!KnownEventTypes().contains(query.event_types[i])) {
      return Invalid(absl::StrCat("event_types[", i, "]"),
                     absl::StrCat("'", query.event_types[i], "' is not a SAKIP event type"));
    }
  }
  for (int year : query.fiscal_years) {
    if (year < 2000 || year > 2100) return Invalid("fiscal_years", absl::StrCat(year, " is outside 2000..2100"));
  }
  if (query.from && query.to && *query.from > *query.to) {
    return Invalid("from_micros", "is after to_micros");
  }
  return absl::OkStatus();
}

bool Matches(const HistoryQuery& query, const HistoryEntry& entry) {
  if (!query.subject.empty() && !Touches(entry, query.subject)) return false;
  if (!query.actor.empty() && entry.actor != query.actor) return false;
  if (!query.event_types.empty() &&
      std::find(query.event_types.begin(), query.event_types.end(), entry.event_type) ==
          query.event_types.end()) {
    return false;
  }
  if (query.from && entry.recorded_at < *query.from) return false;
  if (query.to && entry.recorded_at >= *query.to) return false;
  return true;
}

}  // namespace

struct AuditLedger::Folded {
  HistoryFold fold;
  std::map<uint64_t, UnitYearState> snapshots;          // as of each asked position
  std::map<std::string, UnitYearState> at_submission;   // report id -> as of its submission
};

absl::StatusOr<uint64_t> AuditLedger::Resolve(const Moment& moment, std::string_view field) {
  const uint64_t head = log_->GetHead().position;
  switch (moment.as_of.kind) {
    case AsOf::Kind::kHead: return head;
    case AsOf::Kind::kPosition:
      if (moment.as_of.position > head) {
        return Invalid(absl::StrCat(Absl(field), ".position"),
                       absl::StrCat(moment.as_of.position, " is beyond the head at ", head));
      }
      return moment.as_of.position;
    case AsOf::Kind::kTime: return log_->PositionAt(moment.as_of.time);
  }
  return head;
}

absl::StatusOr<std::vector<std::string>> AuditLedger::UnitYearStreams(std::string_view field,
                                                                      std::string_view unit_prefix,
                                                                      const std::vector<int>& fiscal_years) {
  RETURN_IF_ERROR(domain::ParseAreaCode(field, unit_prefix).status());
  std::vector<std::string> streams;
  std::string after;
  do {
    ASSIGN_OR_RETURN(StreamList list, log_->ListStreams(unit_prefix, after, limits::kMaxListStreams));
    for (std::string& stream_id : list.stream_ids) {
      std::optional<std::pair<std::string, int>> unit_year = ParseUnitYear(stream_id);
      if (!unit_year || !domain::AreaCodeIsUnder(unit_year->first, unit_prefix)) continue;
      if (!fiscal_years.empty() &&
          std::find(fiscal_years.begin(), fiscal_years.end(), unit_year->second) == fiscal_years.end()) {
        continue;
      }
      if (streams.size() == limits::kMaxAuditUnitYears) {
        return absl::ResourceExhaustedError(absl::StrCat(
            Absl(field), ": more than ", limits::kMaxAuditUnitYears,
            " unit-years under '", Absl(unit_prefix), "'; narrow it (a longer code or fiscal years)"));
      }
      streams.push_back(std::move(stream_id));
    }
    after = std::move(list.next_after);
  } while (!after.empty());
  return streams;
}

absl::StatusOr<AuditLedger::Folded> AuditLedger::Fold(const std::string& stream_id, uint64_t up_to,
                                                      const std::vector<uint64_t>& snapshot_at,
                                                      size_t* budget, absl::Time deadline) {
  Folded folded;
  std::vector<uint64_t> pending = snapshot_at;
  std::sort(pending.begin(), pending.end());
  size_t next_snapshot = 0;
  uint64_t from_version = 1;
  bool done = false;
  while (!done) {
    // Per page (at most kMaxPageSize events): cheap next to the fold, and
    // soon enough that a request past its time stops within milliseconds.
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "the request ran past its deadline while folding ", stream_id, " (", *budget,
          " events folded); narrow it (a unit, fiscal years) or allow more time"));
    }
    ASSIGN_OR_RETURN(ReadPage page,
                     log_->ReadStream(stream_id, from_version, Direction::kForward, limits::kMaxPageSize));
    for (const RecordedEvent& recorded : page.events) {
      const uint64_t position = recorded.envelope.position();
      if (position > up_to) {
        done = true;
        break;
      }
      for (; next_snapshot < pending.size() && pending[next_snapshot] < position; ++next_snapshot) {
        folded.snapshots[pending[next_snapshot]] = folded.fold.state();
      }
      if (recorded.envelope.content_type() != kSakipContentType) continue;
      if (++*budget > limits::kMaxAuditEvents) {
        return absl::ResourceExhaustedError(absl::StrCat("the request would fold more than ",
                                                         limits::kMaxAuditEvents,
                                                         " events; narrow it (a unit, fiscal years)"));
      }
      ASSIGN_OR_RETURN(DomainEvent event, DecodeDomainEvent(recorded));
      if (absl::Status status = folded.fold.Apply(event); !status.ok()) {
        return absl::DataLossError(absl::StrCat("position ", position, " does not fold: ", status.message()));
      }
      HistoryEntry& entry = folded.fold.mutable_entries().back();
      entry.correlation_id = recorded.envelope.correlation_id();
      entry.causation_id = recorded.envelope.causation_id();
      if (event.event.has_report_submitted()) {
        folded.at_submission[event.event.report_submitted().report_id()] = folded.fold.state();
      }
    }
    if (page.end_of_range) break;
    from_version = page.next_from;
  }
  for (; next_snapshot < pending.size(); ++next_snapshot) {
    folded.snapshots[pending[next_snapshot]] = folded.fold.state();
  }
  return folded;
}

absl::StatusOr<HistoryPage> AuditLedger::History(const HistoryQuery& query, absl::Time deadline) {
  RETURN_IF_ERROR(CheckHistoryQuery(query));
  const uint64_t head = log_->GetHead().position;
  uint64_t as_of = head;
  std::optional<uint64_t> last_returned;
  if (!query.page_token.empty()) {
    ASSIGN_OR_RETURN(auto token, ParsePageToken(query.page_token, head));
    as_of = token.first;
    last_returned = token.second;
  }
  ASSIGN_OR_RETURN(std::vector<std::string> streams,
                   UnitYearStreams("unit_code", query.unit_code, query.fiscal_years));
  std::vector<HistoryEntry> matching;
  size_t budget = 0;
  for (const std::string& stream_id : streams) {
    ASSIGN_OR_RETURN(Folded folded, Fold(stream_id, as_of, {}, &budget, deadline));
    for (HistoryEntry& entry : folded.fold.mutable_entries()) {
      if (Matches(query, entry)) matching.push_back(std::move(entry));
    }
  }
  auto order = [&](const HistoryEntry& a, const HistoryEntry& b) {
    return query.newest_first ? a.position > b.position : a.position < b.position;
  };
  std::sort(matching.begin(), matching.end(), order);
  HistoryPage page;
  page.as_of_position = as_of;
  page.total_matching = matching.size();
  auto start = matching.begin();
  if (last_returned.has_value()) {
    start = std::find_if(matching.begin(), matching.end(), [&](const HistoryEntry& entry) {
      return query.newest_first ? entry.position < *last_returned : entry.position > *last_returned;
    });
  }
  const size_t page_size = query.page_size == 0 ? limits::kDefaultHistoryPageSize : query.page_size;
  const size_t count = std::min<size_t>(page_size, static_cast<size_t>(matching.end() - start));
  page.entries.assign(std::make_move_iterator(start), std::make_move_iterator(start + count));
  if (start + count != matching.end()) page.next_page_token = PageToken(as_of, page.entries.back().position);
  return page;
}

absl::StatusOr<FigureExplanation> AuditLedger::Explain(std::string_view unit_code, int fiscal_year, int quarter,
                                                       std::string_view key, const Moment& as_of,
                                                       absl::Time deadline) {
  ASSIGN_OR_RETURN(std::string stream_id, StreamIdFor(unit_code, fiscal_year));
  RETURN_IF_ERROR(CheckQuarter(quarter));
  if (key.empty()) return Invalid("key", "is required, e.g. indicator/IKU-1/q1/capaian");
  const bool submission = !as_of.submission_of_report.empty();
  uint64_t position = log_->GetHead().position;
  if (!submission) {
    ASSIGN_OR_RETURN(position, Resolve(as_of, "as_of"));
  }
  size_t budget = 0;
  ASSIGN_OR_RETURN(Folded folded, Fold(stream_id, position, {}, &budget, deadline));
  const UnitYearState* state = &folded.fold.state();
  if (submission) {
    auto it = folded.at_submission.find(as_of.submission_of_report);
    if (it == folded.at_submission.end()) {
      return absl::NotFoundError(absl::StrCat("as_of.submission_of_report: report '", as_of.submission_of_report,
                                              "' of ", stream_id, " is not submitted"));
    }
    state = &it->second;
    position = state->reports().at(as_of.submission_of_report).source.position;
  }
  ASSIGN_OR_RETURN(QuarterlyReport report, ReportOf(*state, quarter, stream_id, position));
  const std::map<std::string, const projections::Figure*> index = projections::IndexFigures(report);
  const std::string canonical(CanonicalKey(key));
  auto found = index.find(canonical);
  if (found == index.end()) {
    return absl::NotFoundError(absl::StrCat("key: the Triwulan ", quarter, " report of ", stream_id,
                                            " has no figure '", canonical, "' as of position ", position));
  }
  FigureExplanation explanation;
  explanation.key = canonical;
  explanation.figure = *found->second;
  explanation.as_of_position = position;
  explanation.depends_on = DependsOn(report, canonical);
  const std::map<std::string, std::string> replaced_by = Replacements(*state);
  const std::set<std::string> ids(found->second->event_ids.begin(), found->second->event_ids.end());
  for (const HistoryEntry& entry : folded.fold.entries()) {
    if (entry.position > position || !ids.contains(entry.event_id)) continue;
    FigureInput input{entry, true, ""};
    if (auto it = replaced_by.find(entry.event_id); it != replaced_by.end()) {
      input.in_force = false;
      input.replaced_by_event_id = it->second;
    }
    explanation.inputs.push_back(std::move(input));
  }
  if (explanation.inputs.size() != ids.size()) {
    return absl::InternalError(absl::StrCat("figure ", canonical, " names events its unit-year does not hold"));
  }
  return explanation;
}

absl::StatusOr<ReportDiff> AuditLedger::Diff(std::string_view unit_code, int fiscal_year, int quarter,
                                             const Moment& from, const Moment& to,
                                             absl::Time deadline) {
  ASSIGN_OR_RETURN(std::string stream_id, StreamIdFor(unit_code, fiscal_year));
  RETURN_IF_ERROR(CheckQuarter(quarter));
  const uint64_t head = log_->GetHead().position;
  std::vector<uint64_t> positional;
  uint64_t up_to = 0;
  const bool any_submission = !from.submission_of_report.empty() || !to.submission_of_report.empty();
  std::optional<uint64_t> from_position;
  std::optional<uint64_t> to_position;
  if (from.submission_of_report.empty()) {
    ASSIGN_OR_RETURN(from_position, Resolve(from, "from"));
  }
  if (to.submission_of_report.empty()) {
    ASSIGN_OR_RETURN(to_position, Resolve(to, "to"));
  }
  for (const std::optional<uint64_t>& position : {from_position, to_position}) {
    if (!position) continue;
    positional.push_back(*position);
    up_to = std::max(up_to, *position);
  }
  if (any_submission) up_to = head;
  size_t budget = 0;
  ASSIGN_OR_RETURN(Folded folded, Fold(stream_id, up_to, positional, &budget, deadline));
  auto state_at = [&](const Moment& moment, const std::optional<uint64_t>& position, std::string_view field,
                      uint64_t* resolved) -> absl::StatusOr<const UnitYearState*> {
    if (position) {
      *resolved = *position;
      return &folded.snapshots.at(*position);
    }
    auto it = folded.at_submission.find(moment.submission_of_report);
    if (it == folded.at_submission.end()) {
      return absl::NotFoundError(absl::StrCat(Absl(field), ".submission_of_report: report '",
                                              moment.submission_of_report, "' of ", stream_id,
                                              " is not submitted"));
    }
    *resolved = it->second.reports().at(moment.submission_of_report).source.position;
    return &it->second;
  };
  ReportDiff diff;
  ASSIGN_OR_RETURN(const UnitYearState* before, state_at(from, from_position, "from", &diff.from_position));
  ASSIGN_OR_RETURN(const UnitYearState* after, state_at(to, to_position, "to", &diff.to_position));
  if (diff.from_position > diff.to_position) {
    return Invalid("from", absl::StrCat("position ", diff.from_position, " is after to (position ",
                                        diff.to_position, ")"));
  }
  ASSIGN_OR_RETURN(QuarterlyReport report_before, ReportOf(*before, quarter, stream_id, diff.from_position));
  ASSIGN_OR_RETURN(QuarterlyReport report_after, ReportOf(*after, quarter, stream_id, diff.to_position));
  diff.changes = Changes(report_before, report_after, folded.fold.entries(), diff.from_position,
                         diff.to_position, &diff.figures_compared);
  return diff;
}

absl::StatusOr<LateEntries> AuditLedger::ListLateEntries(std::string_view unit_prefix, int fiscal_year,
                                                         const Moment& as_of, absl::Time deadline) {
  if (!as_of.submission_of_report.empty()) {
    return Invalid("as_of.submission_of_report", "not a moment for late entries; use a position or a time");
  }
  if (fiscal_year != 0 && (fiscal_year < 2000 || fiscal_year > 2100)) {
    return Invalid("fiscal_year", absl::StrCat(fiscal_year, " is outside 2000..2100"));
  }
  ASSIGN_OR_RETURN(const uint64_t position, Resolve(as_of, "as_of"));
  std::vector<int> years;
  if (fiscal_year != 0) years.push_back(fiscal_year);
  ASSIGN_OR_RETURN(std::vector<std::string> streams, UnitYearStreams("unit_code", unit_prefix, years));
  LateEntries late;
  late.as_of_position = position;
  size_t budget = 0;
  for (const std::string& stream_id : streams) {
    ASSIGN_OR_RETURN(Folded folded, Fold(stream_id, position, {}, &budget, deadline));
    const UnitYearState& now = folded.fold.state();
    for (const auto& [report_id, submitted] : now.reports()) {
      ++late.reports_checked;
      const int quarter = submitted.details.quarter();
      const uint64_t submitted_position = submitted.source.position;
      ASSIGN_OR_RETURN(QuarterlyReport published,
                       ReportOf(folded.at_submission.at(report_id), quarter, stream_id, submitted_position));
      ASSIGN_OR_RETURN(QuarterlyReport current, ReportOf(now, quarter, stream_id, position));
      size_t compared = 0;
      std::vector<FigureChange> changes =
          Changes(published, current, folded.fold.entries(), submitted_position, position, &compared);
      if (changes.empty()) continue;
      LateReport report;
      report.unit_code = now.agreement()->unit_code;
      report.fiscal_year = now.agreement()->fiscal_year;
      report.report_id = report_id;
      report.quarter = quarter;
      report.submitted_position = submitted_position;
      report.submitted_at = submitted.recorded_at;
      std::map<uint64_t, HistoryEntry> late_events;
      for (const FigureChange& change : changes) {
        for (const HistoryEntry& entry : change.events) late_events.emplace(entry.position, entry);
      }
      for (auto& [entry_position, entry] : late_events) report.late_events.push_back(std::move(entry));
      report.changes = std::move(changes);
      late.reports.push_back(std::move(report));
    }
  }
  return late;
}

}  // namespace ledger::audit
