// The SAKIP ledger: domain events validated against their unit-year and
// appended to the event log; reports computed from the log as of any moment.
//
// One stream per unit and fiscal year: "<unit_code>/<fiscal_year>"
// ("35.08.19/2024"). Recording decides on the current state of that stream:
// it folds the stream (projections::UnitYearState), applies the new events to
// a copy (the same Apply that builds reports, so nothing is accepted that a
// report could not fold), and appends with the stream's version as the
// expected version. A concurrent append to the same stream makes the append
// fail with ABORTED; Record then decides again on the new state (bounded).
//
// A retry of an append whose event ids are already recorded (the fold refuses
// it, and then its ids are found in the log) is passed to the log: the log
// answers with the original positions (same body) or ALREADY_EXISTS (another
// body), never a duplicate. Ids recorded in another unit-year reach the log
// too and are refused there.
//
// Reading as of a position folds only the stream's events up to it, so its
// cost depends on that unit-year's events, not on the size of the ledger.
// Folded states are cached per unit-year (a bounded cache, never a source of
// truth): a later moment folds forward from the cached state, reading only the
// events recorded since.
//
// Thread-safety: thread-safe; the cache is guarded by cache_mu_.
#ifndef LEDGER_SAKIP_SAKIP_LEDGER_H_
#define LEDGER_SAKIP_SAKIP_LEDGER_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/limits.h"
#include "ledger/projections/domain_event.h"
#include "ledger/projections/reconciliation.h"
#include "ledger/projections/report.h"
#include "ledger/projections/unit_year_state.h"
#include "ledger/store/event_log.h"
#include "ledger/util/clock.h"
#include "ledger/util/weighted_lru.h"
#include "sakip/v1/events.pb.h"

namespace ledger {

// The content type of every SAKIP payload.
inline constexpr char kSakipContentType[] = "application/x-protobuf;proto=sakip.v1.SakipEvent";

// A domain event as a client proposes it.
struct ProposedDomainEvent {
  std::string event_id;
  std::string reason;
  std::string correlation_id;
  std::string causation_id;
  ::sakip::v1::SakipEvent event;
};

// Who records events, as the ledger checks it.
//
// Four-eyes rules (docs/ACCESS.md), enforced when `separation_of_duties` is
// set, i.e. whenever callers are authenticated principals:
//   - a report is submitted only by a principal whose NIP is the report's
//     declared signer_nip;
//   - a disposition is recorded only by a principal whose NIP is its
//     declared supervisor_nip, who did not submit the report and did not
//     record or correct any realization the report contains (of a quarter up
//     to the report's, recorded up to its submission).
// A server with authentication off has one local identity for everyone: it
// cannot tell people apart, so it records with separation_of_duties off (and
// says so in its log at start).
struct Recorder {
  std::string actor;  // written into every event
  std::string nip;    // the principal's NIP (18 digits), or empty
  bool separation_of_duties = true;
};

// A moment to read at: the head, a global position, or a recorded time.
struct AsOf {
  enum class Kind { kHead, kPosition, kTime };
  Kind kind = Kind::kHead;
  uint64_t position = 0;
  absl::Time time;

  static AsOf Head() { return {}; }
  static AsOf Position(uint64_t position) { return {Kind::kPosition, position, {}}; }
  static AsOf Time(absl::Time time) { return {Kind::kTime, 0, time}; }
};

// The state of a unit-year as of a moment, and the moment resolved.
struct UnitYearView {
  projections::UnitYearState state;
  std::vector<projections::DomainEvent> events;  // the folded events, in order
  uint64_t as_of_position = 0;  // the global position the view is as of
  uint64_t stream_version = 0;  // the stream's version at that position
};

// "35.08.19/2024". Checks the unit code's shape and the year's range.
absl::StatusOr<std::string> StreamIdFor(std::string_view unit_code, int fiscal_year);

// Decodes a ledger event into a domain event; DataLoss if its payload is not
// a SakipEvent or its event_type does not name the payload's event.
absl::StatusOr<projections::DomainEvent> DecodeDomainEvent(const RecordedEvent& recorded);

class SakipLedger {
 public:
  SakipLedger(EventLog* log, Clock* clock = SystemClock::Get()) : log_(log), clock_(clock) {}

  // Validates and appends `events` (all of one unit-year) atomically. A
  // four-eyes violation is PermissionDenied naming the event and the rule;
  // nothing is written.
  absl::StatusOr<AppendResult> Record(const Recorder& recorder,
                                      std::vector<ProposedDomainEvent> events);
  // One trusted local identity (tools, tests, a server with authentication
  // off): no separation of duties.
  absl::StatusOr<AppendResult> Record(std::string_view actor,
                                      std::vector<ProposedDomainEvent> events) {
    return Record(Recorder{std::string(actor), "", false}, std::move(events));
  }

  // The unit-year as it stood at `as_of`.
  absl::StatusOr<UnitYearView> Load(std::string_view unit_code, int fiscal_year, AsOf as_of);

  // The "Triwulan N" report as it stood at `as_of`.
  absl::StatusOr<projections::QuarterlyReport> Report(std::string_view unit_code, int fiscal_year,
                                                      int quarter, AsOf as_of);

  // The declared figures of a submitted report against the figures recomputed
  // as of its submission.
  absl::StatusOr<projections::Reconciliation> Reconcile(std::string_view unit_code,
                                                        int fiscal_year,
                                                        std::string_view report_id);

 private:
  // A unit-year folded through its stream version `stream_version`, whose
  // last event is at `last_event_position`; valid as of any position from
  // there until the stream's next event.
  struct Snapshot {
    projections::UnitYearState state;
    uint64_t stream_version = 0;
    uint64_t last_event_position = 0;
  };

  absl::StatusOr<uint64_t> ResolvePosition(AsOf as_of);
  absl::StatusOr<bool> AnyAlreadyRecorded(const std::vector<ProposedDomainEvent>& events);
  // The unit-year as of `position`, from the cache when it can serve.
  absl::StatusOr<Snapshot> SnapshotAt(const std::string& stream_id, uint64_t position);
  // Folds the stream's events after `snapshot` up to `position`.
  absl::Status FoldForward(const std::string& stream_id, uint64_t position, Snapshot* snapshot,
                           std::vector<projections::DomainEvent>* folded);

  EventLog* const log_;
  Clock* const clock_;
  absl::Mutex cache_mu_;
  // Folded unit-years by stream id, weighed by their stream version (the
  // events folded); limits.h bounds both.
  WeightedLru<Snapshot> cache_ ABSL_GUARDED_BY(cache_mu_){limits::kMaxCachedUnitYears,
                                                          limits::kMaxCachedUnitYearEvents};
};

}  // namespace ledger

#endif  // LEDGER_SAKIP_SAKIP_LEDGER_H_
