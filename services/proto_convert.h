// Conversions of core values to protos shared by more than one service.
//
// Thread-safety: pure functions.
#ifndef SERVICES_PROTO_CONVERT_H_
#define SERVICES_PROTO_CONVERT_H_

#include "ledger/projections/report.h"
#include "ledger/store/event_log.h"
#include "ledger/v1/event.pb.h"
#include "sakip/v1/report_service.pb.h"

namespace ledger::services {

void RecordedEventToProto(const RecordedEvent& event, bool include_stored_bytes, v1::RecordedEvent* out);

// The exact value as "p/q" and its two presentations (2 decimals, half-up).
void FigureToProto(const projections::Figure& figure, ::sakip::v1::Figure* out);

}  // namespace ledger::services

#endif  // SERVICES_PROTO_CONVERT_H_
