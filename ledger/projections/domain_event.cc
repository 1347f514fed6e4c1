#include "ledger/projections/domain_event.h"

#include "absl/strings/str_cat.h"

namespace ledger::projections {

absl::StatusOr<DomainEvent> DecodeDomainEnvelope(const v1::EventEnvelope& envelope) {
  DomainEvent event;
  if (!event.event.ParseFromString(envelope.payload())) {
    return absl::DataLossError(absl::StrCat("position ", envelope.position(),
                                            ": the payload is not a sakip.v1.SakipEvent"));
  }
  if (EventTypeName(event.event) != envelope.event_type()) {
    return absl::DataLossError(absl::StrCat(
        "position ", envelope.position(), ": event_type '", envelope.event_type(),
        "' does not name the payload's event '", EventTypeName(event.event), "'"));
  }
  event.position = envelope.position();
  event.event_id = envelope.event_id();
  event.recorded_at = absl::FromUnixMicros(envelope.recorded_at_micros());
  event.actor = envelope.actor();
  event.reason = envelope.reason();
  return event;
}

}  // namespace ledger::projections
