// What the projections consume: one SAKIP domain event with the envelope
// metadata the fold needs. The caller decodes ledger envelopes
// (ledger.v1.EventEnvelope with a sakip.v1.SakipEvent payload) into these.
//
// Invariants expected by the fold (checked by UnitYearState::Apply):
//   - position strictly increases along a stream;
//   - event_id is non-empty and unique within the stream.
#ifndef LEDGER_PROJECTIONS_DOMAIN_EVENT_H_
#define LEDGER_PROJECTIONS_DOMAIN_EVENT_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ledger/v1/event.pb.h"
#include "sakip/v1/events.pb.h"

namespace ledger::projections {

struct DomainEvent {
  uint64_t position = 0;     // the event's position in its stream
  std::string event_id;      // unique; what corrections and reversals name
  absl::Time recorded_at;    // transaction time (when the ledger learned it)
  std::string actor;         // who recorded it
  std::string reason;        // why; required for revisions, corrections, reversals
  sakip::v1::SakipEvent event;
};

// The name of the message in the `event` oneof ("RealizationRecorded"), i.e.
// the envelope's event_type; "" when the oneof is not set.
inline std::string EventTypeName(const sakip::v1::SakipEvent& event) {
  if (event.event_case() == sakip::v1::SakipEvent::EVENT_NOT_SET) return "";
  const auto* field = event.GetDescriptor()->FindFieldByNumber(event.event_case());
  return field == nullptr ? "" : field->message_type()->name();
}

// Decodes a ledger envelope into a domain event: DataLoss when its payload
// is not a SakipEvent or its event_type does not name the payload's event.
// Pure: the server's reads and an offline verifier decode the same way.
absl::StatusOr<DomainEvent> DecodeDomainEnvelope(const v1::EventEnvelope& envelope);

}  // namespace ledger::projections

#endif  // LEDGER_PROJECTIONS_DOMAIN_EVENT_H_
