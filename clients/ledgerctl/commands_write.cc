// `ledgerctl append`: builds one ProposedEvent from the flags, checks a JSON
// payload locally, and sends it with the expected version.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <sstream>

#include "absl/strings/str_format.h"
#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/times.h"
#include "ledger/limits.h"

namespace ledgerctl {
namespace {

constexpr char kJsonContentType[] = "application/json";
constexpr char kDefaultRawContentType[] = "application/octet-stream";

// A payload and where it came from, for error messages.
struct Payload {
  std::string bytes;
  std::string content_type;
  std::string source;  // "--json", "--file data.json", "--file - (standard input)"
};

std::string RandomUuidV4() {
  std::random_device random;
  unsigned char bytes[16];
  for (unsigned char& byte : bytes) byte = static_cast<unsigned char>(random());
  bytes[6] = (bytes[6] & 0x0F) | 0x40;  // version 4
  bytes[8] = (bytes[8] & 0x3F) | 0x80;  // RFC 4122 variant
  std::string hex = Hex(std::string_view(reinterpret_cast<char*>(bytes), sizeof(bytes)));
  return absl::StrFormat("%s-%s-%s-%s-%s", hex.substr(0, 8), hex.substr(8, 4),
                         hex.substr(12, 4), hex.substr(16, 4), hex.substr(20));
}

std::string ReadInput(const std::string& path) {
  if (path == "-") {
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) throw UsageError("--file " + path + ": cannot open: " + std::strerror(errno));
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

std::string TrimJsonSpace(const std::string& text) {
  const char* space = " \t\r\n";
  size_t first = text.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Payload PayloadFromFlags(const ParsedArgs& args) {
  std::optional<std::string> json = args.Get("json");
  std::optional<std::string> file = args.Get("file");
  std::optional<std::string> content_type = args.Get("content-type");
  if (json.has_value() == file.has_value()) {
    throw UsageError("append: give the payload with exactly one of --json or --file");
  }
  if (json) {
    if (content_type && !IsJsonContentType(*content_type)) {
      throw UsageError("--content-type " + *content_type + " does not fit a --json payload");
    }
    return {*json, content_type.value_or(kJsonContentType), "--json"};
  }
  std::string source = *file == "-" ? "--file - (standard input)" : "--file " + *file;
  bool json_file = (*file == "-" || EndsWith(*file, ".json")) && !content_type;
  std::string type = json_file ? kJsonContentType : content_type.value_or(kDefaultRawContentType);
  return {ReadInput(*file), type, source};
}

// JSON payloads must parse; they are stored without surrounding whitespace.
void CheckPayload(Payload& payload) {
  if (IsJsonContentType(payload.content_type)) {
    payload.bytes = TrimJsonSpace(payload.bytes);
    if (std::string error = JsonError(payload.bytes); !error.empty()) {
      throw UsageError(payload.source + ": not valid JSON: " + error);
    }
  }
  if (payload.bytes.size() > ledger::limits::kMaxPayloadBytes) {
    throw UsageError(absl::StrFormat("%s: the payload is %d bytes; the ledger takes at most %d",
                                     payload.source, payload.bytes.size(),
                                     ledger::limits::kMaxPayloadBytes));
  }
}

ledger::v1::ExpectedVersion ExpectedFromFlag(const std::string& text) {
  ledger::v1::ExpectedVersion expected;
  if (text == "any") {
    expected.mutable_any();
  } else if (text == "none") {
    expected.mutable_no_stream();
  } else {
    uint64_t version = ParseUint(text, "--expect (any, none or a version)");
    if (version == 0) throw UsageError("--expect 0: use --expect none for a new stream");
    expected.set_exact(version);
  }
  return expected;
}

ledger::v1::AppendRequest BuildRequest(const ParsedArgs& args) {
  std::optional<std::string> type = args.Get("type");
  if (!type || type->empty()) throw UsageError("append: --type EventType is required");
  Payload payload = PayloadFromFlags(args);
  CheckPayload(payload);
  ledger::v1::AppendRequest request;
  request.set_stream_id(args.positionals[0]);
  *request.mutable_expected_version() = ExpectedFromFlag(args.GetOr("expect", "any"));
  ledger::v1::ProposedEvent* event = request.add_events();
  event->set_event_id(args.Get("id").value_or(RandomUuidV4()));
  event->set_event_type(*type);
  event->set_payload(std::move(payload.bytes));
  event->set_content_type(payload.content_type);
  event->set_correlation_id(args.GetOr("correlation", ""));
  event->set_causation_id(args.GetOr("causation", ""));
  event->set_reason(args.GetOr("reason", ""));
  return request;
}

void PrintResult(CommandContext& context, const ledger::v1::AppendRequest& request,
                 const ledger::v1::AppendResponse& response) {
  const std::string& event_id = request.events(0).event_id();
  if (context.json_output) {
    context.out << JsonObject()
                       .String("stream_id", request.stream_id())
                       .String("event_id", event_id)
                       .Uint("first_position", response.first_position())
                       .Uint("last_position", response.last_position())
                       .Uint("stream_version", response.stream_version())
                       .String("recorded_at", FormatUtc(response.recorded_at_micros()))
                       .Int("recorded_at_micros", response.recorded_at_micros())
                       .Bool("already_recorded", response.already_recorded())
                       .Build()
                << "\n";
    return;
  }
  context.out << (response.already_recorded() ? "already recorded (nothing written): "
                                              : "appended: ")
              << "position " << response.last_position() << ", " << request.stream_id() << "@"
              << response.stream_version() << ", recorded "
              << FormatWib(response.recorded_at_micros()) << ", event id " << event_id << "\n";
}

}  // namespace

int RunAppend(CommandContext& context) {
  ledger::v1::AppendRequest request = BuildRequest(context.args);
  ledger::v1::AppendResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.stub().Append(call.get(), request, &response));
  PrintResult(context, request, response);
  return kExitOk;
}

}  // namespace ledgerctl
