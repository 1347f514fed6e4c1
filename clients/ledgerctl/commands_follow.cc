// `ledgerctl follow` (LedgerService.Subscribe) and `ledgerctl replay`
// (AuditService.Replay, filtered by unit prefix and event type, resumable from
// a checkpoint file): streams printed as they come. They stop on Ctrl-C /
// SIGTERM, after --count events, or after --idle-exit-ms without an event; a
// watcher thread cancels the call, since a blocked Read() cannot be
// interrupted otherwise.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

#include "clients/ledgerctl/commands.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"

namespace ledgerctl {
namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t g_signalled = 0;

void OnSignal(int) { g_signalled = 1; }

// Why following stopped, when ledgerctl itself stopped it.
struct StopState {
  std::atomic<bool> stop{false};      // set by us: count reached, idle, signal
  std::atomic<bool> finished{false};  // the read loop has ended
  std::atomic<int64_t> last_event_ns{Clock::now().time_since_epoch().count()};
};

// Cancels `call` on a signal or after `idle_ms` without an event (0: never).
void WatchForStop(grpc::ClientContext* call, StopState* state, uint64_t idle_ms) {
  while (!state->finished.load()) {
    auto idle = Clock::now() - Clock::time_point(Clock::duration(state->last_event_ns.load()));
    if (g_signalled || (idle_ms > 0 && idle >= std::chrono::milliseconds(idle_ms))) {
      state->stop = true;
      call->TryCancel();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

ledger::v1::SubscribeRequest RequestFromArgs(const ParsedArgs& args) {
  if (args.Has("from") && args.Has("from-head")) {
    throw UsageError("--from and --from-head: give one of them");
  }
  ledger::v1::SubscribeRequest request;
  request.set_from_position(args.GetUint("from").value_or(0));
  request.set_from_head(args.Has("from-head"));
  return request;
}

void PrintCaughtUp(CommandContext& context, uint64_t head_position) {
  if (context.json_output) {
    context.out << JsonObject().Bool("caught_up", true).Uint("head_position", head_position).Build()
                << std::endl;
  } else {
    context.out << "-- caught up at head position " << head_position
                << "; following new events (Ctrl-C to stop) --" << std::endl;
  }
}

// Reads until the stream ends or `count` events (0: no limit) were printed;
// returns the last position printed.
uint64_t ReadLoop(CommandContext& context, grpc::ClientReader<ledger::v1::SubscribeResponse>& reader,
                  StopState& state, uint64_t count) {
  uint64_t printed = 0;
  uint64_t last_position = 0;
  bool header_due = !context.json_output;
  ledger::v1::SubscribeResponse item;
  while (reader.Read(&item)) {
    if (item.has_caught_up()) {
      PrintCaughtUp(context, item.caught_up().head_position());
      continue;
    }
    if (header_due) context.out << EventHeader() << "\n";
    header_due = false;
    const ledger::v1::RecordedEvent& event = item.event();
    context.out << (context.json_output ? EventJson(event) : EventLine(event)) << std::endl;
    last_position = event.envelope().position();
    state.last_event_ns = Clock::now().time_since_epoch().count();
    if (count > 0 && ++printed >= count) {
      state.stop = true;
      return last_position;
    }
  }
  return last_position;
}

// Progress on stderr at most this often while a replay catches up.
constexpr auto kProgressInterval = std::chrono::seconds(2);

// The checkpoint file of `replay --checkpoint`: the next position, as text.
std::optional<uint64_t> ReadCheckpoint(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::string text;
  std::getline(file, text);
  return ParseUint(text, "checkpoint file " + path);
}

// Replaces the checkpoint atomically and durably: a crash leaves the old or
// the new position, never a torn file.
void WriteCheckpoint(const std::string& path, uint64_t next_position) {
  const std::string temporary = path + ".tmp";
  const std::string text = std::to_string(next_position) + "\n";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw UsageError("--checkpoint: cannot write " + temporary + ": " + std::strerror(errno));
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                       ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw UsageError("--checkpoint: cannot write " + path + ": " + std::strerror(errno));
  }
}

sakip::v1::ReplayRequest ReplayRequestFromArgs(const ParsedArgs& args, const std::optional<std::string>& checkpoint) {
  sakip::v1::ReplayRequest request;
  std::optional<uint64_t> from = args.GetUint("from");
  if (!from && checkpoint) from = ReadCheckpoint(*checkpoint);
  request.set_from_position(from.value_or(0));
  for (const std::string& prefix : SplitList(args.GetOr("unit", ""))) request.add_unit_prefixes(prefix);
  for (const std::string& type : SplitList(args.GetOr("type", ""))) request.add_event_types(type);
  request.set_follow(args.Has("follow"));
  return request;
}

struct ReplayTally {
  uint64_t printed = 0;
  uint64_t next_position = 0;
  bool caught_up = false;
};

void PrintReplayEvent(CommandContext& context, const ledger::v1::RecordedEvent& event, bool& header_due) {
  if (context.csv_output) {
    if (header_due) context.out << EventCsvHeader();
    context.out << EventCsv(event);
  } else if (context.json_output) {
    context.out << EventJson(event) << "\n";
  } else {
    if (header_due) context.out << EventHeader() << "\n";
    context.out << EventLine(event) << "\n";
  }
  header_due = false;
}

void ReplayLoop(CommandContext& context, grpc::ClientReader<sakip::v1::ReplayResponse>& reader,
                StopState& state, uint64_t count, const std::optional<std::string>& checkpoint,
                ReplayTally& tally) {
  bool header_due = true;
  auto last_progress = Clock::now();
  sakip::v1::ReplayResponse chunk;
  while (reader.Read(&chunk)) {
    for (const ledger::v1::RecordedEvent& event : chunk.events()) {
      PrintReplayEvent(context, event, header_due);
      state.last_event_ns = Clock::now().time_since_epoch().count();
      ++tally.printed;
    }
    context.out.flush();
    tally.next_position = chunk.next_position();
    if (checkpoint) WriteCheckpoint(*checkpoint, tally.next_position);
    if (chunk.caught_up() && !tally.caught_up) {
      tally.caught_up = true;
      context.err << "replay: caught up with the head (position " << chunk.head_position() << "), "
                  << tally.printed << " matching events" << (context.args.Has("follow") ? "; following" : "")
                  << std::endl;
    } else if (!tally.caught_up && Clock::now() - last_progress >= kProgressInterval) {
      last_progress = Clock::now();
      const uint64_t head = std::max<uint64_t>(chunk.head_position(), 1);
      context.err << "replay: examined through position " << tally.next_position - 1 << " of " << head << " ("
                  << (tally.next_position - 1) * 100 / head << "%), " << tally.printed << " matching"
                  << std::endl;
    }
    if (count > 0 && tally.printed >= count) {
      state.stop = true;
      return;
    }
  }
}

}  // namespace

int RunReplay(CommandContext& context) {
  const std::optional<std::string> checkpoint = context.args.Get("checkpoint");
  sakip::v1::ReplayRequest request = ReplayRequestFromArgs(context.args, checkpoint);
  const uint64_t count = context.args.GetUint("count").value_or(0);
  const uint64_t idle_ms = context.args.GetUint("idle-exit-ms").value_or(0);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  grpc::ClientContext call;  // no deadline: a replay lasts as long as the log
  StopState state;
  std::thread watcher(WatchForStop, &call, &state, idle_ms);
  auto reader = context.client.audit().Replay(&call, request);
  ReplayTally tally;
  tally.next_position = request.from_position();
  ReplayLoop(context, *reader, state, count, checkpoint, tally);
  if (state.stop) call.TryCancel();
  state.finished = true;
  watcher.join();
  grpc::Status status = reader->Finish();
  if (state.stop) return kExitOk;
  if (!status.ok() && tally.next_position > 0) {
    context.err << "(resume with: ledgerctl replay --from " << tally.next_position << " and the same filters)\n";
  }
  context.client.Check(status);
  return kExitOk;
}

int RunFollow(CommandContext& context) {
  ledger::v1::SubscribeRequest request = RequestFromArgs(context.args);
  const uint64_t count = context.args.GetUint("count").value_or(0);
  const uint64_t idle_ms = context.args.GetUint("idle-exit-ms").value_or(0);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  grpc::ClientContext call;  // no deadline: a subscription lasts until stopped
  StopState state;
  std::thread watcher(WatchForStop, &call, &state, idle_ms);
  auto reader = context.client.stub().Subscribe(&call, request);
  uint64_t last_position = ReadLoop(context, *reader, state, count);
  if (state.stop) call.TryCancel();
  state.finished = true;
  watcher.join();
  grpc::Status status = reader->Finish();
  if (state.stop) return kExitOk;
  if (!status.ok() && last_position > 0) {
    context.err << "(resume with: ledgerctl follow --from " << last_position + 1 << ")\n";
  }
  context.client.Check(status);
  return kExitOk;
}

}  // namespace ledgerctl
