// The event log: the small interface every other part of the ledger uses.
//
// The embedded RocksDB log (rocks_event_log.h) implements it today; a cluster
// mode on a replicated engine can implement the same contract later:
// conditional append with expected version and event ids, reads from a
// position or a stream version, and following live appends. Retrying an append
// after an ambiguous failure is always safe: the event ids tell whether the
// first try committed.
//
// Guarantees of every implementation:
//   - An append is acknowledged (returns OK) only once it is durable.
//   - An append lands whole or not at all; a refused append writes nothing.
//   - Positions are 1, 2, 3, ... gap-free; one append's events are contiguous.
//   - Versions are 1, 2, 3, ... per stream.
//   - recorded_at never decreases along the log.
//   - Reads and subscriptions see only acknowledged events.
//
// Thread-safety: every method may be called from any thread concurrently.
#ifndef LEDGER_STORE_EVENT_LOG_H_
#define LEDGER_STORE_EVENT_LOG_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/integrity/chain_verifier.h"
#include "ledger/v1/event.pb.h"

namespace ledger {

// An event as a client proposes it. The log assigns position, version,
// recorded time, actor and hashes.
struct ProposedEvent {
  std::string event_id;
  std::string event_type;
  std::string payload;
  std::string content_type;
  std::string correlation_id;
  std::string causation_id;
  std::string reason;
};

struct ExpectedVersion {
  enum class Kind { kAny, kNoStream, kExact };
  Kind kind = Kind::kAny;
  uint64_t version = 0;  // for kExact: the stream's last version, >= 1

  static ExpectedVersion Any() { return {Kind::kAny, 0}; }
  static ExpectedVersion NoStream() { return {Kind::kNoStream, 0}; }
  static ExpectedVersion Exact(uint64_t version) { return {Kind::kExact, version}; }
};

struct AppendRequest {
  std::string stream_id;
  ExpectedVersion expected_version;
  std::vector<ProposedEvent> events;
  // The principal that writes; taken from the connection, never the body.
  std::string actor;
};

struct AppendResult {
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  uint64_t stream_version = 0;  // the version of the append's last event
  absl::Time recorded_at;
  bool already_recorded = false;  // an idempotent retry: nothing was written
};

// An event as read back.
struct RecordedEvent {
  v1::EventEnvelope envelope;
  std::string hash;          // SHA-256 over stored_bytes
  std::string stored_bytes;  // the envelope exactly as stored
};

enum class Direction { kForward, kBackward };

struct ReadPage {
  std::vector<RecordedEvent> events;
  uint64_t next_from = 0;  // version or position where the next page starts
  bool end_of_range = true;
};

// Stream ids in byte order.
struct StreamList {
  std::vector<std::string> stream_ids;
  std::string next_after;  // pass as start_after for the next page; empty at the end
};

struct Head {
  uint64_t position = 0;  // 0: the log is empty
  std::string hash;       // genesis hash when empty
  absl::Time recorded_at = absl::UnixEpoch();
};

struct WriteState {
  bool writable = true;
  std::string refusal_reason;  // set when !writable
  // The refusal comes from a failed write (an I/O error, a full disk) and
  // may clear once the cause is gone: ClosableEventLog::ResumeWrites. A
  // refusal found at open (a damaged or rolled-back log) needs an operator.
  bool recoverable = false;
};

struct VerifyReport {
  uint64_t from_position = 0;
  uint64_t to_position = 0;
  uint64_t verified_count = 0;
  std::optional<ChainFinding> finding;  // the first problem, if any
  bool ok() const { return !finding.has_value(); }
};

// A cursor over the log that catches up from disk and then follows live
// appends. Delivers every position exactly once, in order. Holds no queue of
// its own: a slow subscriber costs nothing to writers.
//
// Thread-safety: Next() from one thread at a time; Cancel() from any thread.
class Subscription {
 public:
  virtual ~Subscription() = default;
  // Waits until at least one event at next_position() or later is
  // acknowledged, then returns up to `max_events` of them in order. Returns an
  // empty vector when `deadline` passes first. Cancelled after Cancel(),
  // Unavailable when the log closes.
  virtual absl::StatusOr<std::vector<RecordedEvent>> Next(size_t max_events,
                                                          absl::Time deadline) = 0;
  virtual uint64_t next_position() const = 0;
  virtual void Cancel() = 0;
};

// Called exactly once with the outcome of an append: after the append is
// durable, or refused. Runs on one of the log's own threads (or the caller's,
// when the append is refused before it is queued): it must be short and must
// not call back into the log.
using AppendCallback = absl::AnyInvocable<void(absl::StatusOr<AppendResult>) &&>;

// GetEvent's answer for an id that no acknowledged event has. A server that
// refuses a caller an event outside its scope answers with this same status,
// so that the refusal does not tell which ids exist.
absl::Status EventNotRecordedError(std::string_view event_id);

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Blocks until the append is durable or refused.
  virtual absl::StatusOr<AppendResult> Append(AppendRequest request) = 0;
  // The same without holding the caller's thread: for servers that must not
  // park a thread per append in flight.
  virtual void AppendAsync(AppendRequest request, AppendCallback done) = 0;

  // From `from_version` (0: first for forward, last for backward).
  virtual absl::StatusOr<ReadPage> ReadStream(std::string_view stream_id, uint64_t from_version,
                                              Direction direction, size_t max_count) = 0;
  // From `from_position` (0: start for forward, head for backward).
  virtual absl::StatusOr<ReadPage> ReadAll(uint64_t from_position, Direction direction,
                                           size_t max_count) = 0;
  // NotFound (EventNotRecordedError) when no acknowledged event has the id.
  virtual absl::StatusOr<RecordedEvent> GetEvent(std::string_view event_id) = 0;
  // The streams whose id starts with `prefix` and that have an acknowledged
  // event, in byte order, after `start_after` (empty: from the first).
  virtual absl::StatusOr<StreamList> ListStreams(std::string_view prefix,
                                                 std::string_view start_after,
                                                 size_t max_count) = 0;
  // The last position recorded at or before `at`; 0 if none.
  virtual absl::StatusOr<uint64_t> PositionAt(absl::Time at) = 0;

  virtual Head GetHead() = 0;
  virtual WriteState GetWriteState() = 0;

  // Starts at `from_position` (0 and 1 both mean the start of the log).
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(uint64_t from_position) = 0;

  // The Merkle tree of the log (RFC 9162, integrity/merkle.h) over the
  // events' hashes, leaf i being position i + 1. Sizes are at most the head;
  // InvalidArgument beyond it.
  //
  // The root of the tree of the first `tree_size` events.
  virtual absl::StatusOr<std::string> TreeRoot(uint64_t tree_size) = 0;
  // The inclusion proof of the event at `position` in the tree of `tree_size`
  // events (position <= tree_size).
  virtual absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t position,
                                                                  uint64_t tree_size) = 0;
  // The consistency proof from the tree of `old_size` events to the tree of
  // `new_size` events (old_size <= new_size).
  virtual absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t old_size,
                                                                    uint64_t new_size) = 0;
  // Verifies positions [from, to] (0: 1 and head). Problems are reported, not
  // returned as errors; an error means the range itself is invalid.
  virtual absl::StatusOr<VerifyReport> Verify(uint64_t from_position, uint64_t to_position) = 0;
};

}  // namespace ledger

#endif  // LEDGER_STORE_EVENT_LOG_H_
