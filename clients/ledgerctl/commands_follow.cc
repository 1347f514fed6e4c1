// `ledgerctl follow`: a Subscribe stream printed as it comes. It stops on
// Ctrl-C / SIGTERM, after --count events, or after --idle-exit-ms without an
// event; a watcher thread cancels the call, since a blocked Read() cannot be
// interrupted otherwise.
#include <atomic>
#include <chrono>
#include <csignal>
#include <ostream>
#include <thread>

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

}  // namespace

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
