// Validation of untrusted append requests, before they reach the writer.
//
// Every refusal is InvalidArgument with a message that starts with the field
// path ("events[2].event_id: ..."). Pure functions; thread-safe.
#ifndef LEDGER_STORE_APPEND_VALIDATION_H_
#define LEDGER_STORE_APPEND_VALIDATION_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ledger/store/event_log.h"

namespace ledger {

// A stream id: 1..kMaxStreamIdBytes of valid UTF-8 without control characters.
absl::Status ValidateStreamId(std::string_view field, std::string_view stream_id);

// An event id: 1..kMaxEventIdBytes of printable ASCII without spaces.
absl::Status ValidateEventId(std::string_view field, std::string_view event_id);

absl::Status ValidateAppendRequest(const AppendRequest& request);

// True if `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool IsValidUtf8(std::string_view text);

// SHA-256 over everything the client proposed for one event plus the stream
// and actor: two appends with the same id are the same write iff equal.
std::string IdempotencyDigest(std::string_view stream_id, std::string_view actor,
                              const ProposedEvent& event);

}  // namespace ledger

#endif  // LEDGER_STORE_APPEND_VALIDATION_H_
