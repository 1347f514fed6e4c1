// Filtered replay: the log from a position, only the events of units under
// some prefixes and of some types, catching up from disk and then (optionally)
// following live appends, for other systems that keep their own copy.
//
// Resuming: every chunk carries next_position, the first position not yet
// examined; everything before it was either delivered or did not match. A
// client that stores next_position after handling a chunk and restarts from it
// gets every matching event once, in order, with no gap and no duplicate,
// however its connections break. Chunks are sent when a batch of matches is
// full, after kReplayProgressEveryScanned non-matching events (so the resume
// point advances through long stretches of other units' events), when the
// replay catches up, and, while following, as soon as anything matched or the
// wait found nothing new.
//
// Thread-safety: one thread calls Next(); Cancel() from any thread.
#ifndef LEDGER_AUDIT_REPLAY_H_
#define LEDGER_AUDIT_REPLAY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/store/event_log.h"

namespace ledger::audit {

struct ReplayFilter {
  // Area codes ("35.08"); a stream matches when the part of its id before the
  // first '/' is at or under one of them. Empty: every stream.
  std::vector<std::string> unit_prefixes;
  // Envelope event types; empty: every type.
  std::vector<std::string> event_types;
};

// InvalidArgument naming the field (unit_prefixes[i], event_types[i]).
absl::Status CheckReplayFilter(const ReplayFilter& filter);

bool MatchesFilter(const ReplayFilter& filter, const v1::EventEnvelope& envelope);

struct ReplayChunk {
  std::vector<RecordedEvent> events;  // matching, in position order
  uint64_t next_position = 0;         // resume here
  bool caught_up = false;             // the first chunk at or past the start head
  bool end = false;                   // the last chunk (replay without follow)
};

class FilteredReplay {
 public:
  // Starts at `from_position` (0 and 1: the start of the log). Without
  // `follow`, ends after the head as of now.
  static absl::StatusOr<std::unique_ptr<FilteredReplay>> Start(EventLog* log, uint64_t from_position,
                                                               ReplayFilter filter, bool follow);

  // The next chunk to send; nullopt when `deadline` passed with nothing to
  // send. Cancelled after Cancel(); Unavailable when the log closes.
  absl::StatusOr<std::optional<ReplayChunk>> Next(absl::Time deadline);

  uint64_t head_at_start() const { return head_at_start_; }
  uint64_t next_position() const { return next_position_; }
  void Cancel() { subscription_->Cancel(); }

 private:
  FilteredReplay(std::unique_ptr<Subscription> subscription, ReplayFilter filter, bool follow,
                 uint64_t head_at_start, uint64_t next_position);
  ReplayChunk TakeChunk();
  bool Full() const;

  std::unique_ptr<Subscription> subscription_;
  const ReplayFilter filter_;
  const bool follow_;
  const uint64_t head_at_start_;
  uint64_t next_position_;
  bool caught_up_sent_ = false;
  bool ended_ = false;
  std::deque<RecordedEvent> fetched_;   // read from the subscription, not yet examined
  std::vector<RecordedEvent> pending_;  // matched, not yet sent
  size_t pending_bytes_ = 0;
  size_t scanned_since_sent_ = 0;
};

}  // namespace ledger::audit

#endif  // LEDGER_AUDIT_REPLAY_H_
