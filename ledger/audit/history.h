// The change history of a unit-year: each SAKIP event described for an
// inspector (who, when, which quarter, what it touched, what changed from what
// to what, why), and the lineage of values (which later event replaced which).
//
// HistoryFold is a pure fold, like projections::UnitYearState, which it wraps:
// the description of an event needs the state just before it (the old value of
// a correction, a revision or a reversal) and just after it (the new value as
// the projections compute it, e.g. a ratio's exact value). No I/O, no clock.
//
// Thread-safety: none (a value type, used by one thread).
#ifndef LEDGER_AUDIT_HISTORY_H_
#define LEDGER_AUDIT_HISTORY_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "ledger/projections/domain_event.h"
#include "ledger/projections/unit_year_state.h"

namespace ledger::audit {

// One value an event changed; values in plain notation ("95.45",
// "1077194452", "true"), old_value empty when there was none.
struct ValueChange {
  std::string field;
  std::string old_value;
  std::string new_value;

  bool operator==(const ValueChange&) const = default;
};

struct HistoryEntry {
  uint64_t position = 0;
  std::string event_id;
  std::string event_type;
  std::string unit_code;
  int fiscal_year = 0;
  std::string actor;
  absl::Time recorded_at;
  int quarter = 0;  // valid time: the quarter the event concerns; 0 = none
  // What it touched: "indicator/IKU-1", "programme/P-1", "village/<code>",
  // "activity/<id>", "report/<id>", "goal/<id>", "agreement".
  std::vector<std::string> subjects;
  std::string summary;
  std::vector<ValueChange> changes;
  std::string reason;
  std::string refers_to_event_id;  // the event corrected, reversed or disposed of
  std::string correlation_id;      // filled by the caller from the envelope
  std::string causation_id;
};

// Folds a unit-year's events and describes each one.
class HistoryFold {
 public:
  // Applies `event` to the state and appends its description to entries().
  // On error (the event does not fold) nothing changes.
  absl::Status Apply(const projections::DomainEvent& event);

  const projections::UnitYearState& state() const { return state_; }
  const std::vector<HistoryEntry>& entries() const { return entries_; }
  std::vector<HistoryEntry>& mutable_entries() { return entries_; }

 private:
  projections::UnitYearState state_;
  std::vector<HistoryEntry> entries_;
};

// For every value chain of `state` (an indicator's targets, a realization and
// its corrections, a programme's allocations, a disbursement and its
// reversal): event id -> the id of the later event that replaced its value.
// Events whose value is in force are absent.
std::map<std::string, std::string> Replacements(const projections::UnitYearState& state);

// "indicator/IKU-1" etc. for a subject filter; true when `entry` touched it.
bool Touches(const HistoryEntry& entry, const std::string& subject);

}  // namespace ledger::audit

#endif  // LEDGER_AUDIT_HISTORY_H_
