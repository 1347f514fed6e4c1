// The embedded event log on RocksDB: the ledger's default engine.
//
// Layout: ledger/store/keys.h. Options and their reasons:
// ledger/store/rocks_options.h. Design and guarantees: docs/STORAGE.md.
//
// Appends are validated on the caller's thread, then queued for a single
// writer thread that merges everything queued into one WriteBatch, checks
// idempotency and expected versions against the batch and the database,
// assigns positions and chains hashes, and commits with one synced write
// (group commit). Callers are answered only after that write returns.
//
// This header deliberately does not include RocksDB: services/ sees only the
// EventLog interface.
#ifndef LEDGER_STORE_ROCKS_EVENT_LOG_H_
#define LEDGER_STORE_ROCKS_EVENT_LOG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/limits.h"
#include "ledger/store/event_log.h"
#include "ledger/util/clock.h"

namespace ledger {

struct RocksEventLogOptions {
  // Directory of the RocksDB database; created if missing.
  std::string data_dir;
  // Source of recorded_at; the log never lets it decrease.
  Clock* clock = SystemClock::Get();
  size_t recent_events_cached = limits::kRecentEventsCached;
  size_t max_pending_appends = limits::kMaxPendingAppends;
  size_t max_subscriptions = limits::kMaxSubscriptions;
};

class ClosableEventLog : public EventLog {
 public:
  // Stops accepting appends, commits those already queued, wakes and ends
  // subscriptions. Reads keep working until the object is destroyed.
  // Idempotent. Subscriptions must be destroyed before the log.
  virtual void Close() = 0;
};

// Opens (or creates) the log. If the stored head disagrees with the log, or
// the tail of the chain does not verify, the log opens read-only: appends
// answer FAILED_PRECONDITION with the reason, which GetWriteState() reports.
absl::StatusOr<std::unique_ptr<ClosableEventLog>> OpenRocksEventLog(
    const RocksEventLogOptions& options);

}  // namespace ledger

#endif  // LEDGER_STORE_ROCKS_EVENT_LOG_H_
