// The audit of the SAKIP ledger: what inspectors ask of it, answered from the
// event log alone.
//
//   - History: the described events of a unit's (or a kabupaten's) unit-years,
//     filtered by subject, actor, type and recorded time, paged, stable across
//     pages (every page is read as of the head of the first);
//   - Explain: a figure of a report as of a moment, with the events behind it
//     and which of them a later event replaced;
//   - Diff: a report as of two moments, every changed figure with the events
//     recorded in between that changed it;
//   - LateEntries: the submitted reports whose figures changed after their
//     submission.
//
// Every answer is a fold of the unit-year streams up to a position (no
// caches, no state of its own): the same log gives the same answer. A request
// folds at most limits::kMaxAuditUnitYears unit-years and
// limits::kMaxAuditEvents events; beyond that it is refused
// (RESOURCE_EXHAUSTED, naming the bound), never answered partially; nor past
// the deadline a caller gives (DEADLINE_EXCEEDED).
//
// Thread-safety: thread-safe (no mutable state; the log is thread-safe).
#ifndef LEDGER_AUDIT_AUDIT_LEDGER_H_
#define LEDGER_AUDIT_AUDIT_LEDGER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/audit/history.h"
#include "ledger/projections/report.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/event_log.h"

namespace ledger::audit {

// A moment to read at: an AsOf, or the submission of a report of the same
// unit-year ("as published").
struct Moment {
  AsOf as_of = AsOf::Head();
  std::string submission_of_report;  // when set, as_of is ignored

  static Moment Submission(std::string report_id) { return {AsOf::Head(), std::move(report_id)}; }
};

struct HistoryQuery {
  std::string unit_code;           // a unit or a prefix of units; required
  std::vector<int> fiscal_years;   // empty: every year recorded
  std::string subject;             // "indicator/IKU-1", ...; empty: all
  std::string actor;               // empty: all
  std::vector<std::string> event_types;  // empty: all
  std::optional<absl::Time> from;  // recorded at or after
  std::optional<absl::Time> to;    // recorded before
  bool newest_first = false;
  size_t page_size = 0;            // 0: the default
  std::string page_token;
};

struct HistoryPage {
  std::vector<HistoryEntry> entries;
  std::string next_page_token;     // empty on the last page
  uint64_t as_of_position = 0;
  size_t total_matching = 0;
};

struct FigureInput {
  HistoryEntry entry;
  bool in_force = true;
  std::string replaced_by_event_id;
};

struct FigureExplanation {
  std::string key;
  projections::Figure figure;
  uint64_t as_of_position = 0;
  std::vector<FigureInput> inputs;        // in position order
  std::vector<std::string> depends_on;
};

struct FigureChange {
  std::string key;
  std::optional<projections::Figure> before;  // nullopt: no such figure then
  std::optional<projections::Figure> after;
  std::vector<HistoryEntry> events;           // recorded in between, in position order
};

struct ReportDiff {
  uint64_t from_position = 0;
  uint64_t to_position = 0;
  size_t figures_compared = 0;
  std::vector<FigureChange> changes;          // by key
};

struct LateReport {
  std::string unit_code;
  int fiscal_year = 0;
  std::string report_id;
  int quarter = 0;
  uint64_t submitted_position = 0;
  absl::Time submitted_at;
  std::vector<FigureChange> changes;
  std::vector<HistoryEntry> late_events;      // union of the changes' events
};

struct LateEntries {
  uint64_t as_of_position = 0;
  size_t reports_checked = 0;
  std::vector<LateReport> reports;            // by unit, year, report id
};

class AuditLedger {
 public:
  explicit AuditLedger(EventLog* log) : log_(log) {}

  // Each call stops folding once `deadline` passes and answers
  // DEADLINE_EXCEEDED (the server passes the call's own bound; see
  // services/server_limits.h), never a partial answer.
  absl::StatusOr<HistoryPage> History(const HistoryQuery& query,
                                      absl::Time deadline = absl::InfiniteFuture());

  absl::StatusOr<FigureExplanation> Explain(std::string_view unit_code, int fiscal_year, int quarter,
                                            std::string_view key, const Moment& as_of,
                                            absl::Time deadline = absl::InfiniteFuture());

  absl::StatusOr<ReportDiff> Diff(std::string_view unit_code, int fiscal_year, int quarter,
                                  const Moment& from, const Moment& to,
                                  absl::Time deadline = absl::InfiniteFuture());

  absl::StatusOr<LateEntries> ListLateEntries(std::string_view unit_prefix, int fiscal_year,
                                              const Moment& as_of,
                                              absl::Time deadline = absl::InfiniteFuture());

 private:
  struct Folded;

  // The unit-year streams under `unit_prefix` (for `fiscal_years`, or all).
  absl::StatusOr<std::vector<std::string>> UnitYearStreams(std::string_view field,
                                                           std::string_view unit_prefix,
                                                           const std::vector<int>& fiscal_years);
  // Folds `stream_id` through `up_to`, keeping the state as of each position of
  // `snapshot_at` and as of each report submission. `budget` counts the events
  // folded by the request so far. Checks `deadline` before each page read.
  absl::StatusOr<Folded> Fold(const std::string& stream_id, uint64_t up_to,
                              const std::vector<uint64_t>& snapshot_at, size_t* budget,
                              absl::Time deadline);
  absl::StatusOr<uint64_t> Resolve(const Moment& moment, std::string_view field);

  EventLog* const log_;
};

}  // namespace ledger::audit

#endif  // LEDGER_AUDIT_AUDIT_LEDGER_H_
