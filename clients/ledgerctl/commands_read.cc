// The read-only subcommands: read, log (paged), get, head, position-at, verify.
#include <algorithm>
#include <functional>
#include <ostream>

#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/times.h"
#include "ledger/limits.h"

namespace ledgerctl {
namespace {

constexpr uint64_t kDefaultLimit = 100;

// One page from `from` (a version or a position), at most `max_count` events.
using PageFetcher = std::function<ledger::v1::ReadResponse(uint64_t from, uint32_t max_count)>;

struct Paging {
  uint64_t from = 0;
  bool backward = false;
  bool all_pages = false;
  uint64_t limit = kDefaultLimit;  // events to print, unless all_pages
};

Paging PagingFromArgs(const ParsedArgs& args) {
  Paging paging;
  paging.from = args.GetUint("from").value_or(0);
  paging.backward = args.Has("backward");
  paging.all_pages = args.Has("all-pages");
  if (paging.all_pages && args.Has("limit")) {
    throw UsageError("--limit and --all-pages: give one of them");
  }
  paging.limit = args.GetUint("limit").value_or(kDefaultLimit);
  if (paging.limit == 0) throw UsageError("--limit: must be at least 1");
  return paging;
}

ledger::v1::Direction DirectionOf(const Paging& paging) {
  return paging.backward ? ledger::v1::DIRECTION_BACKWARD : ledger::v1::DIRECTION_FORWARD;
}

void PrintEvent(CommandContext& context, const ledger::v1::RecordedEvent& event) {
  context.out << (context.json_output ? EventJson(event) : EventLine(event)) << "\n";
}

// Prints pages until the end of the range, or until `limit` events.
void PrintPages(CommandContext& context, const PageFetcher& fetch, const Paging& paging) {
  uint64_t printed = 0;
  uint64_t from = paging.from;
  while (true) {
    uint64_t wanted = paging.all_pages ? ledger::limits::kMaxPageSize : paging.limit - printed;
    auto max_count = static_cast<uint32_t>(std::min<uint64_t>(wanted, ledger::limits::kMaxPageSize));
    ledger::v1::ReadResponse page = fetch(from, max_count);
    if (printed == 0 && page.events_size() > 0 && !context.json_output) {
      context.out << EventHeader() << "\n";
    }
    for (const ledger::v1::RecordedEvent& event : page.events()) PrintEvent(context, event);
    printed += page.events_size();
    if (page.end_of_range() || page.events_size() == 0) break;
    from = page.next_from();
    if (!paging.all_pages && printed >= paging.limit) {
      context.err << "(more events: continue with --from " << from
                  << (paging.backward ? " --backward" : "") << ", or use --all-pages)\n";
      break;
    }
  }
  if (printed == 0 && !context.json_output) context.err << "(no events)\n";
}

void PrintHead(CommandContext& context, const ledger::v1::GetHeadResponse& head) {
  std::string time = head.position() == 0 ? "" : FormatUtc(head.recorded_at_micros());
  if (context.json_output) {
    context.out << JsonObject()
                       .Uint("position", head.position())
                       .String("hash", Hex(head.hash()))
                       .String("recorded_at", time)
                       .Int("recorded_at_micros", head.recorded_at_micros())
                       .Bool("writable", head.writable())
                       .String("write_refusal_reason", head.write_refusal_reason())
                       .Build()
                << "\n";
    return;
  }
  context.out << "position   " << head.position() << "\n"
              << "hash       " << Hex(head.hash()) << "\n"
              << "recorded   "
              << (head.position() == 0 ? "- (empty ledger)" : FormatWib(head.recorded_at_micros()))
              << "\n"
              << "writable   "
              << (head.writable() ? "yes" : "NO: " + head.write_refusal_reason()) << "\n";
}

void PrintVerify(CommandContext& context, const ledger::v1::VerifyResponse& report) {
  if (context.json_output) {
    context.out << JsonObject()
                       .Bool("ok", report.ok())
                       .Uint("verified_count", report.verified_count())
                       .Uint("from_position", report.from_position())
                       .Uint("to_position", report.to_position())
                       .Uint("first_bad_position", report.first_bad_position())
                       .String("problem", report.problem())
                       .String("detail", report.detail())
                       .Build()
                << "\n";
    return;
  }
  if (report.ok()) {
    context.out << "ok: verified " << report.verified_count() << " events, positions "
                << report.from_position() << " to " << report.to_position() << "\n";
    return;
  }
  context.out << "NOT OK: first bad position " << report.first_bad_position() << ": "
              << report.problem() << ": " << report.detail() << "\n"
              << "(verified " << report.verified_count() << " events in positions "
              << report.from_position() << " to " << report.to_position() << ")\n";
}

}  // namespace

int RunRead(CommandContext& context) {
  Paging paging = PagingFromArgs(context.args);
  const std::string stream = context.args.positionals[0];
  PrintPages(context, [&](uint64_t from, uint32_t max_count) {
    ledger::v1::ReadStreamRequest request;
    request.set_stream_id(stream);
    request.set_from_version(from);
    request.set_direction(DirectionOf(paging));
    request.set_max_count(max_count);
    ledger::v1::ReadResponse response;
    auto call = context.client.UnaryContext();
    context.client.Check(context.client.stub().ReadStream(call.get(), request, &response));
    return response;
  }, paging);
  return kExitOk;
}

int RunLog(CommandContext& context) {
  Paging paging = PagingFromArgs(context.args);
  PrintPages(context, [&](uint64_t from, uint32_t max_count) {
    ledger::v1::ReadAllRequest request;
    request.set_from_position(from);
    request.set_direction(DirectionOf(paging));
    request.set_max_count(max_count);
    ledger::v1::ReadResponse response;
    auto call = context.client.UnaryContext();
    context.client.Check(context.client.stub().ReadAll(call.get(), request, &response));
    return response;
  }, paging);
  return kExitOk;
}

int RunGet(CommandContext& context) {
  ledger::v1::GetEventRequest request;
  request.set_event_id(context.args.positionals[0]);
  ledger::v1::GetEventResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.stub().GetEvent(call.get(), request, &response));
  context.out << (context.json_output ? EventJson(response.event()) + "\n"
                                      : EventDetail(response.event()));
  return kExitOk;
}

int RunHead(CommandContext& context) {
  ledger::v1::GetHeadResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(
      context.client.stub().GetHead(call.get(), ledger::v1::GetHeadRequest(), &response));
  PrintHead(context, response);
  return kExitOk;
}

int RunPositionAt(CommandContext& context) {
  absl::Time at = ParseTimeArg(context.args.positionals[0]);
  ledger::v1::GetPositionAtRequest request;
  request.set_at_micros(absl::ToUnixMicros(at));
  ledger::v1::GetPositionAtResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.stub().GetPositionAt(call.get(), request, &response));
  if (context.json_output) {
    context.out << JsonObject()
                       .Uint("position", response.position())
                       .String("at", FormatUtc(request.at_micros()))
                       .Int("at_micros", request.at_micros())
                       .Build()
                << "\n";
  } else {
    context.out << response.position() << "  (last position recorded at or before "
                << FormatWib(request.at_micros()) << ")\n";
  }
  return kExitOk;
}

int RunVerify(CommandContext& context) {
  ledger::v1::VerifyRequest request;
  request.set_from_position(context.args.GetUint("from").value_or(0));
  request.set_to_position(context.args.GetUint("to").value_or(0));
  ledger::v1::VerifyResponse response;
  auto call = context.client.UnaryContext();
  context.client.Check(context.client.stub().Verify(call.get(), request, &response));
  PrintVerify(context, response);
  return response.ok() ? kExitOk : kExitServerError;
}

}  // namespace ledgerctl
