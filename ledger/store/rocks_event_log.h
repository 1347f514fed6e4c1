// The embedded event log on RocksDB: the ledger's default engine.
//
// Layout: ledger/store/keys.h. Options and their reasons:
// ledger/store/rocks_options.h. Design and guarantees: docs/STORAGE.md.
//
// Appends are validated on the caller's thread, then queued for a single
// writer thread that takes everything queued as one group, checks idempotency
// and expected versions against the database and every group staged before
// it, and assigns positions and chains hashes (staging). A committer thread
// writes everything staged so far with one synced write (group commit) while
// the writer stages the next groups; a completer thread then publishes the
// groups and answers their callers. Callers are answered only after the
// synced write returns.
//
// This header deliberately does not include RocksDB: services/ sees only the
// EventLog interface.
#ifndef LEDGER_STORE_ROCKS_EVENT_LOG_H_
#define LEDGER_STORE_ROCKS_EVENT_LOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ledger/limits.h"
#include "ledger/store/event_log.h"
#include "ledger/util/clock.h"

namespace rocksdb {
class Env;
}  // namespace rocksdb

namespace ledger {

struct RocksEventLogOptions {
  // Directory of the RocksDB database; created if missing.
  std::string data_dir;
  // The head witness file (integrity/head_witness.h) written by the head
  // publisher outside RocksDB; empty: none. At open, a log shorter than the
  // witnessed head, or whose tree at its size has another root (restored
  // from an older copy, lost acknowledged events, rewritten), refuses writes
  // with the reason.
  std::string head_witness_path;
  // Source of recorded_at; the log never lets it decrease.
  Clock* clock = SystemClock::Get();
  size_t recent_events_cached = limits::kRecentEventsCached;
  size_t max_pending_appends = limits::kMaxPendingAppends;
  size_t max_subscriptions = limits::kMaxSubscriptions;
  // See limits::kMinEventsToStageAhead (tests set 1 to stage eagerly).
  size_t min_events_to_stage_ahead = limits::kMinEventsToStageAhead;

  // Tests and benchmarks only. The RocksDB environment (nullptr: RocksDB's
  // default), so that a test can make a synced write block or fail, and a
  // benchmark can count synced writes.
  rocksdb::Env* env = nullptr;
  // Tests only. The memtable size of every column family (0: the ledger's
  // default): small ones make flushes and compactions, with their table
  // files, manifest updates and renames, happen under a test's load.
  size_t write_buffer_bytes = 0;
  // Tests only. Called on the writer thread each time it has staged a group
  // (positions assigned, not yet written), with the last staged position.
  std::function<void(uint64_t)> after_group_staged;
};

class ClosableEventLog : public EventLog {
 public:
  // Stops accepting appends, commits those already queued, wakes and ends
  // subscriptions. Reads keep working until the object is destroyed.
  // Idempotent. Subscriptions must be destroyed before the log.
  virtual void Close() = 0;

  // After a failed write (WriteState::recoverable), reopens the database,
  // which replays and checks its WAL, re-verifies the tail of the chain and
  // the head witness, and accepts writes again if all of that holds. Reads
  // wait while the database reopens. OK when the log accepts writes;
  // FAILED_PRECONDITION when the refusal is not one a reopen can clear;
  // UNAVAILABLE with the reason when the reopen failed (the cause is still
  // there: the log stays readable and refusing). One call at a time.
  virtual absl::Status ResumeWrites() = 0;

  // Writes a RocksDB checkpoint of the log into `checkpoint_dir` (which must
  // not exist): every column family at one point that holds every append
  // acknowledged before the call, each append whole. For online backups
  // (ledger/store/backup.h); appends go on meanwhile. FailedPrecondition
  // for a log that is not on RocksDB.
  virtual absl::Status CreateCheckpoint(const std::string& checkpoint_dir) {
    return absl::FailedPreconditionError("this event log cannot be checkpointed");
  }
};

// Opens (or creates) the log. If the stored head disagrees with the log, or
// the tail of the chain does not verify, the log opens read-only: appends
// answer FAILED_PRECONDITION with the reason, which GetWriteState() reports.
absl::StatusOr<std::unique_ptr<ClosableEventLog>> OpenRocksEventLog(
    const RocksEventLogOptions& options);

}  // namespace ledger

#endif  // LEDGER_STORE_ROCKS_EVENT_LOG_H_
