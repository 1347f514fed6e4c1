// FilteredReplay: examines events one at a time from a buffer filled by the
// log's subscription cursor, so that a chunk can end anywhere (full by count
// or bytes) without losing the events fetched after it.
#include "ledger/audit/replay.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ledger/domain/identifiers.h"
#include "ledger/limits.h"
#include "ledger/util/status_macros.h"

namespace ledger::audit {

absl::Status CheckReplayFilter(const ReplayFilter& filter) {
  if (filter.unit_prefixes.size() > limits::kMaxReplayFilterValues ||
      filter.event_types.size() > limits::kMaxReplayFilterValues) {
    return absl::InvalidArgumentError(absl::StrCat("unit_prefixes, event_types: at most ",
                                                   limits::kMaxReplayFilterValues, " values each"));
  }
  for (size_t i = 0; i < filter.unit_prefixes.size(); ++i) {
    RETURN_IF_ERROR(domain::ParseAreaCode(absl::StrCat("unit_prefixes[", i, "]"), filter.unit_prefixes[i]).status());
  }
  for (size_t i = 0; i < filter.event_types.size(); ++i) {
    const std::string& type = filter.event_types[i];
    if (type.empty() || type.size() > limits::kMaxEventTypeBytes) {
      return absl::InvalidArgumentError(absl::StrCat("event_types[", i, "]: must be 1..",
                                                     limits::kMaxEventTypeBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

bool MatchesFilter(const ReplayFilter& filter, const v1::EventEnvelope& envelope) {
  if (!filter.event_types.empty() &&
      std::find(filter.event_types.begin(), filter.event_types.end(), envelope.event_type()) ==
          filter.event_types.end()) {
    return false;
  }
  if (filter.unit_prefixes.empty()) return true;
  const std::string& stream_id = envelope.stream_id();
  const std::string_view unit = std::string_view(stream_id).substr(0, stream_id.find('/'));
  return std::any_of(filter.unit_prefixes.begin(), filter.unit_prefixes.end(),
                     [&](const std::string& prefix) { return domain::AreaCodeIsUnder(unit, prefix); });
}

absl::StatusOr<std::unique_ptr<FilteredReplay>> FilteredReplay::Start(EventLog* log, uint64_t from_position,
                                                                      ReplayFilter filter, bool follow) {
  RETURN_IF_ERROR(CheckReplayFilter(filter));
  const uint64_t head = log->GetHead().position;
  const uint64_t from = std::max<uint64_t>(from_position, 1);
  if (from > head + 1) {
    return absl::InvalidArgumentError(absl::StrCat("from_position: ", from_position,
                                                   " is beyond the head at ", head));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Subscription> subscription, log->Subscribe(from));
  return std::unique_ptr<FilteredReplay>(
      new FilteredReplay(std::move(subscription), std::move(filter), follow, head, from));
}

FilteredReplay::FilteredReplay(std::unique_ptr<Subscription> subscription, ReplayFilter filter, bool follow,
                               uint64_t head_at_start, uint64_t next_position)
    : subscription_(std::move(subscription)),
      filter_(std::move(filter)),
      follow_(follow),
      head_at_start_(head_at_start),
      next_position_(next_position) {}

bool FilteredReplay::Full() const {
  return pending_.size() >= limits::kReplayBatch || pending_bytes_ >= limits::kMaxPageBytes ||
         scanned_since_sent_ >= limits::kReplayProgressEveryScanned;
}

ReplayChunk FilteredReplay::TakeChunk() {
  ReplayChunk chunk;
  chunk.events = std::move(pending_);
  pending_.clear();
  pending_bytes_ = 0;
  scanned_since_sent_ = 0;
  chunk.next_position = next_position_;
  const bool reached = next_position_ > head_at_start_;
  if (reached && !caught_up_sent_) {
    chunk.caught_up = true;
    caught_up_sent_ = true;
  }
  if (reached && !follow_) {
    chunk.end = true;
    chunk.caught_up = true;
    ended_ = true;
  }
  return chunk;
}

absl::StatusOr<std::optional<ReplayChunk>> FilteredReplay::Next(absl::Time deadline) {
  if (ended_) return absl::OutOfRangeError("the replay has ended");
  while (true) {
    while (!fetched_.empty() && !Full() && (follow_ || next_position_ <= head_at_start_)) {
      RecordedEvent event = std::move(fetched_.front());
      fetched_.pop_front();
      next_position_ = event.envelope.position() + 1;
      ++scanned_since_sent_;
      if (!MatchesFilter(filter_, event.envelope)) continue;
      pending_bytes_ += event.envelope.ByteSizeLong() + event.stored_bytes.size();
      pending_.push_back(std::move(event));
    }
    const bool reached = next_position_ > head_at_start_;
    if (Full() || (reached && !caught_up_sent_) || (reached && !follow_) ||
        (caught_up_sent_ && !pending_.empty())) {
      return TakeChunk();
    }
    if (!fetched_.empty()) continue;
    ASSIGN_OR_RETURN(std::vector<RecordedEvent> events, subscription_->Next(limits::kReplayBatch, deadline));
    if (events.empty()) {
      // The wait found nothing new: report how far the scan got, if anywhere.
      if (scanned_since_sent_ > 0) return TakeChunk();
      return std::nullopt;
    }
    for (RecordedEvent& event : events) fetched_.push_back(std::move(event));
  }
}

}  // namespace ledger::audit
