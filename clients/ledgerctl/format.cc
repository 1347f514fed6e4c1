// Implementation of the event formatting (see format.h).
#include "clients/ledgerctl/format.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/times.h"
#include "google/protobuf/util/json_util.h"
#include "sakip/v1/events.pb.h"

namespace ledgerctl {
namespace {

constexpr size_t kShortHashChars = 12;

bool IsText(std::string_view content_type) { return content_type.rfind("text/", 0) == 0; }

// Escapes control characters so that a payload stays on one line.
std::string OneLine(std::string_view text) {
  std::string quoted = JsonQuote(text);
  return quoted.substr(1, quoted.size() - 2);
}

constexpr char kSakipContentType[] = "application/x-protobuf;proto=sakip.v1.SakipEvent";

// The payload as JSON text if it is JSON (or a SAKIP event, shown as its
// proto3 JSON), else empty.
std::string JsonPayloadOrEmpty(const ledger::v1::EventEnvelope& envelope) {
  if (envelope.content_type() == kSakipContentType) {
    sakip::v1::SakipEvent event;
    std::string json;
    if (!event.ParseFromString(envelope.payload()) ||
        !google::protobuf::util::MessageToJsonString(event, &json).ok()) {
      return "";
    }
    return json;
  }
  if (!IsJsonContentType(envelope.content_type())) return "";
  if (!JsonError(envelope.payload()).empty()) return "";
  return CompactJson(envelope.payload());
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

}  // namespace

bool IsJsonContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media == "application/json") return true;
  return media.rfind("application/", 0) == 0 && media.size() > 5 &&
         media.substr(media.size() - 5) == "+json";
}

std::string Hex(std::string_view bytes) {
  return absl::BytesToHexString(absl::string_view(bytes.data(), bytes.size()));
}

std::string Truncate(std::string_view text, size_t max_chars) {
  auto starts_char = [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; };
  size_t total = 0;
  for (char c : text) total += starts_char(c);
  if (total <= max_chars) return std::string(text);
  const size_t keep = max_chars > 3 ? max_chars - 3 : 0;
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!starts_char(text[i])) continue;
    if (chars++ == keep) return std::string(text.substr(0, i)) + "...";
  }
  return std::string(text);
}

std::string PayloadText(const ledger::v1::EventEnvelope& envelope) {
  if (std::string json = JsonPayloadOrEmpty(envelope); !json.empty()) return json;
  if (IsText(envelope.content_type())) return OneLine(envelope.payload());
  return absl::StrFormat("<%d bytes %s>", envelope.payload().size(),
                         OrDash(envelope.content_type()));
}

std::string EventHeader() {
  return absl::StrFormat("%8s  %-24s  %-24s  %-36s  %-27s  %-16s  %-12s  %s", "POSITION",
                         "STREAM@VERSION", "TYPE", "EVENT ID", "RECORDED (WIB, UTC+7)", "ACTOR",
                         "HASH", "PAYLOAD");
}

std::string EventLine(const ledger::v1::RecordedEvent& event) {
  const ledger::v1::EventEnvelope& e = event.envelope();
  std::string stream = absl::StrFormat("%s@%d", e.stream_id(), e.stream_version());
  return absl::StrFormat("%8d  %-24s  %-24s  %-36s  %-27s  %-16s  %-12s  %s", e.position(),
                         stream, e.event_type(), e.event_id(),
                         FormatWib(e.recorded_at_micros()), e.actor(),
                         Hex(event.hash()).substr(0, kShortHashChars),
                         Truncate(PayloadText(e), kPayloadPreviewChars));
}

std::string EventDetail(const ledger::v1::RecordedEvent& event) {
  const ledger::v1::EventEnvelope& e = event.envelope();
  std::string out;
  auto field = [&out](std::string_view name, const std::string& value) {
    absl::StrAppendFormat(&out, "%-15s %s\n", absl::string_view(name.data(), name.size()), value);
  };
  field("position", std::to_string(e.position()));
  field("stream", absl::StrFormat("%s @ version %d", e.stream_id(), e.stream_version()));
  field("event id", e.event_id());
  field("type", e.event_type());
  field("recorded", FormatWib(e.recorded_at_micros()) + "  (" +
                        FormatUtc(e.recorded_at_micros()) + ")");
  field("actor", OrDash(e.actor()));
  field("correlation id", OrDash(e.correlation_id()));
  field("causation id", OrDash(e.causation_id()));
  field("reason", OrDash(OneLine(e.reason())));
  field("content type", OrDash(e.content_type()));
  field("hash", Hex(event.hash()));
  field("prev hash", Hex(e.prev_hash()));
  field("payload", PayloadText(e));
  return out;
}

std::string EventJson(const ledger::v1::RecordedEvent& event) {
  const ledger::v1::EventEnvelope& e = event.envelope();
  JsonObject json;
  json.Uint("position", e.position())
      .String("stream_id", e.stream_id())
      .Uint("stream_version", e.stream_version())
      .String("event_id", e.event_id())
      .String("event_type", e.event_type())
      .String("content_type", e.content_type())
      .String("recorded_at", FormatUtc(e.recorded_at_micros()))
      .Int("recorded_at_micros", e.recorded_at_micros())
      .String("actor", e.actor())
      .String("correlation_id", e.correlation_id())
      .String("causation_id", e.causation_id())
      .String("reason", e.reason())
      .String("prev_hash", Hex(e.prev_hash()))
      .String("hash", Hex(event.hash()));
  if (std::string payload = JsonPayloadOrEmpty(e); !payload.empty()) {
    json.Raw("payload", payload);
  } else {
    std::string base64 = absl::Base64Escape(absl::string_view(e.payload()));
    json.String("payload_base64", base64);
  }
  return json.Build();
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line += ',';
    const std::string& field = fields[i];
    if (field.find_first_of(",\"\r\n") == std::string::npos) {
      line += field;
      continue;
    }
    line += '"';
    for (char c : field) line += c == '"' ? std::string("\"\"") : std::string(1, c);
    line += '"';
  }
  return line + "\r\n";
}

std::string EventCsvHeader() {
  return CsvLine({"position", "stream_id", "stream_version", "event_type", "event_id", "recorded_at_utc",
                  "recorded_at_wib", "actor", "hash", "content_type", "payload"});
}

std::string EventCsv(const ledger::v1::RecordedEvent& event) {
  const ledger::v1::EventEnvelope& envelope = event.envelope();
  return CsvLine({std::to_string(envelope.position()), envelope.stream_id(),
                  std::to_string(envelope.stream_version()), envelope.event_type(), envelope.event_id(),
                  FormatUtc(envelope.recorded_at_micros()), FormatWib(envelope.recorded_at_micros()),
                  envelope.actor(), Hex(event.hash()), envelope.content_type(), PayloadText(envelope)});
}

}  // namespace ledgerctl
