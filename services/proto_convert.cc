#include "services/proto_convert.h"

#include "ledger/domain/exact.h"

namespace ledger::services {

// Decimals of the presentations of every figure ("57,45", "1.077.194.452,00").
constexpr int kPresentedDecimals = 2;

void RecordedEventToProto(const RecordedEvent& event, bool include_stored_bytes, v1::RecordedEvent* out) {
  *out->mutable_envelope() = event.envelope;
  out->set_hash(event.hash);
  if (include_stored_bytes) out->set_stored_bytes(event.stored_bytes);
}

void FigureToProto(const projections::Figure& figure, ::sakip::v1::Figure* out) {
  out->set_present(figure.value.has_value());
  if (figure.value) {
    out->set_exact(figure.value->ToString());
    out->set_plain(domain::FormatPlain(*figure.value, kPresentedDecimals));
    out->set_indonesian(domain::FormatIndonesian(*figure.value, kPresentedDecimals));
  }
  out->set_formula(figure.formula);
  for (const std::string& id : figure.event_ids) out->add_event_ids(id);
}

}  // namespace ledger::services
