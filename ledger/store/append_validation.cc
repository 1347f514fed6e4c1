#include "ledger/store/append_validation.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "ledger/integrity/sha256.h"
#include "ledger/limits.h"
#include "ledger/store/keys.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"

namespace ledger {
namespace {

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": ", Absl(what)));
}

absl::Status CheckLength(std::string_view field, std::string_view value, size_t max_bytes,
                         bool required) {
  if (required && value.empty()) return Invalid(field, "is required");
  if (value.size() > max_bytes) {
    return Invalid(field, absl::StrCat("is ", value.size(), " bytes, more than the limit of ",
                                       max_bytes));
  }
  return absl::OkStatus();
}

// Bounded UTF-8 text without control characters (tab and newline allowed when
// `multiline`).
absl::Status CheckText(std::string_view field, std::string_view value, size_t max_bytes,
                       bool required, bool multiline) {
  RETURN_IF_ERROR(CheckLength(field, value, max_bytes, required));
  if (!IsValidUtf8(value)) return Invalid(field, "is not valid UTF-8");
  for (unsigned char c : value) {
    bool allowed_space = multiline && (c == '\n' || c == '\t' || c == '\r');
    if ((c < 0x20 || c == 0x7F) && !allowed_space) {
      return Invalid(field, absl::StrCat("contains control character 0x",
                                         absl::Hex(c, absl::kZeroPad2)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckToken(std::string_view field, std::string_view value, size_t max_bytes,
                        bool required) {
  RETURN_IF_ERROR(CheckLength(field, value, max_bytes, required));
  for (unsigned char c : value) {
    if (c <= 0x20 || c >= 0x7F) {
      return Invalid(field, "must be printable ASCII without spaces");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEventType(std::string_view field, std::string_view value) {
  RETURN_IF_ERROR(CheckLength(field, value, limits::kMaxEventTypeBytes, true));
  for (char c : value) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) return Invalid(field, "may contain only letters, digits, '_', '.' and '-'");
  }
  return absl::OkStatus();
}

absl::Status ValidateEvent(std::string_view prefix, const ProposedEvent& event) {
  RETURN_IF_ERROR(ValidateEventId(absl::StrCat(Absl(prefix), ".event_id"), event.event_id));
  RETURN_IF_ERROR(CheckEventType(absl::StrCat(Absl(prefix), ".event_type"), event.event_type));
  RETURN_IF_ERROR(CheckLength(absl::StrCat(Absl(prefix), ".payload"), event.payload,
                              limits::kMaxPayloadBytes, false));
  RETURN_IF_ERROR(CheckToken(absl::StrCat(Absl(prefix), ".content_type"), event.content_type,
                             limits::kMaxContentTypeBytes, false));
  RETURN_IF_ERROR(CheckToken(absl::StrCat(Absl(prefix), ".correlation_id"), event.correlation_id,
                             limits::kMaxCorrelationIdBytes, false));
  RETURN_IF_ERROR(CheckToken(absl::StrCat(Absl(prefix), ".causation_id"), event.causation_id,
                             limits::kMaxCorrelationIdBytes, false));
  return CheckText(absl::StrCat(Absl(prefix), ".reason"), event.reason, limits::kMaxReasonBytes,
                   false, true);
}

size_t ProposedBytes(const ProposedEvent& event) {
  return event.event_id.size() + event.event_type.size() + event.payload.size() +
         event.content_type.size() + event.correlation_id.size() + event.causation_id.size() +
         event.reason.size();
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = text[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra;
    uint32_t code;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, code = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char continuation = text[i + k];
      if ((continuation & 0xC0) != 0x80) return false;
      code = (code << 6) | (continuation & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || code > 0x10FFFF ||
        (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

absl::Status ValidateStreamId(std::string_view field, std::string_view stream_id) {
  return CheckText(field, stream_id, limits::kMaxStreamIdBytes, true, false);
}

absl::Status ValidateEventId(std::string_view field, std::string_view event_id) {
  return CheckToken(field, event_id, limits::kMaxEventIdBytes, true);
}

absl::Status ValidateAppendRequest(const AppendRequest& request) {
  RETURN_IF_ERROR(ValidateStreamId("stream_id", request.stream_id));
  RETURN_IF_ERROR(CheckText("actor", request.actor, limits::kMaxActorBytes, true, false));
  if (request.expected_version.kind == ExpectedVersion::Kind::kExact &&
      request.expected_version.version == 0) {
    return Invalid("expected_version.exact",
                   "must be at least 1 (use no_stream for a stream that must not exist)");
  }
  if (request.events.empty()) return Invalid("events", "at least one event is required");
  if (request.events.size() > limits::kMaxEventsPerAppend) {
    return Invalid("events", absl::StrCat(request.events.size(), " events, more than the limit of ",
                                          limits::kMaxEventsPerAppend, " per append"));
  }
  absl::flat_hash_set<std::string_view> ids;
  size_t total_bytes = request.stream_id.size();
  for (size_t i = 0; i < request.events.size(); ++i) {
    const ProposedEvent& event = request.events[i];
    std::string prefix = absl::StrCat("events[", i, "]");
    RETURN_IF_ERROR(ValidateEvent(prefix, event));
    if (!ids.insert(event.event_id).second) {
      return Invalid(absl::StrCat(Absl(prefix), ".event_id"),
                     absl::StrCat("'", event.event_id, "' appears twice in one append"));
    }
    total_bytes += ProposedBytes(event);
  }
  if (total_bytes > limits::kMaxAppendBytes) {
    return Invalid("events", absl::StrCat("append is ", total_bytes,
                                          " bytes, more than the limit of ",
                                          limits::kMaxAppendBytes));
  }
  return absl::OkStatus();
}

std::string IdempotencyDigest(std::string_view stream_id, std::string_view actor,
                              const ProposedEvent& event) {
  // Length-prefix every field so that no two different tuples share bytes.
  std::string framed;
  auto add = [&framed](std::string_view field) {
    keys::PutBigEndian64(&framed, field.size());
    framed.append(field);
  };
  add(stream_id);
  add(actor);
  add(event.event_id);
  add(event.event_type);
  add(event.payload);
  add(event.content_type);
  add(event.correlation_id);
  add(event.causation_id);
  add(event.reason);
  return Sha256(framed);
}

}  // namespace ledger
