// Crash test: ledgerd is SIGKILLed at random moments under concurrent append
// load and restarted on the same data directory. After every restart:
//   - every acknowledged event is present at the position it was acknowledged
//     at (ReadAll, and GetEvent for the events acknowledged since the last
//     check; GetEvent for all of them at the end);
//   - positions are gap-free and no event id is recorded twice;
//   - the chain verifies (Verify RPC) and the ledger accepts writes.
// Appends that failed ambiguously (UNAVAILABLE and friends, during a kill) are
// retried with the same event ids after the restart: they must come back as
// already_recorded or newly recorded, never as a conflict and never twice.
//
// Prints `acknowledged lost: L of N across K kills` and fails if L > 0.
//
// Load: LEDGER_CRASH_KILLS (default 6), LEDGER_CRASH_SECONDS (default 14: the
// time under load, split across the kills), LEDGER_CRASH_SEED (default random;
// printed, to replay a run's kill times and request mix).
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/attest/system_streams.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/testing/temp_dir.h"
#include "tests/support/env.h"
#include "tests/support/ledgerd_process.h"

namespace ledger {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::LedgerdProcess;
using ::ledger::testing::MakeEvent;
using ::ledger::testing::SetDeadline;
using ::ledger::testing::PositiveEnvInt;
using ::ledger::testing::TempDir;

constexpr int kClientThreads = 4;

// The payload of an event is derived from its id, so that any reader can
// check it; lengths vary from a few bytes to ~1.5 KiB.
std::string PayloadFor(const std::string& event_id) {
  size_t filler = std::hash<std::string>()(event_id) % 600;
  return absl::StrCat("{\"id\":\"", event_id, "\",\"filler\":\"", std::string(filler, 'f'),
                      "\"}");
}

struct Acked {
  uint64_t position = 0;
  std::string stream;
  uint64_t version = 0;
};

// Everything the client threads report, guarded by mu.
struct Ledger {
  absl::Mutex mu;
  std::shared_ptr<v1::LedgerService::Stub> stub ABSL_GUARDED_BY(mu);
  std::map<std::string, Acked> acked ABSL_GUARDED_BY(mu);
  std::vector<std::string> acked_order ABSL_GUARDED_BY(mu);  // ids, in order of acknowledgement
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
  std::map<std::string, int> ambiguous_codes ABSL_GUARDED_BY(mu);
  int appends_acked ABSL_GUARDED_BY(mu) = 0;
  int retries_found_recorded ABSL_GUARDED_BY(mu) = 0;  // ambiguous, then already_recorded
  int retries_newly_recorded ABSL_GUARDED_BY(mu) = 0;  // ambiguous, then written by a retry
  int unresolved ABSL_GUARDED_BY(mu) = 0;              // still ambiguous at the hard stop

  std::atomic<bool> stop_new{false};   // finish the current append, start no other
  std::atomic<bool> paused{false};     // finish the current append, wait before the next
  std::atomic<int> idle{0};            // clients waiting while paused
  std::atomic<int> exited{0};          // clients that returned
  std::atomic<bool> hard_stop{false};  // give up even on the current append

  std::shared_ptr<v1::LedgerService::Stub> Stub() {
    absl::MutexLock lock(&mu);
    return stub;
  }
  void SetStub(std::shared_ptr<v1::LedgerService::Stub> next) {
    absl::MutexLock lock(&mu);
    stub = std::move(next);
  }
  void Error(std::string message) {
    absl::MutexLock lock(&mu);
    if (errors.size() < 50) errors.push_back(std::move(message));
  }
};

bool IsAmbiguous(grpc::StatusCode code) {
  // What a client sees when the server dies under its call, or before it
  // connects: the append may or may not have committed.
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::CANCELLED || code == grpc::StatusCode::UNKNOWN ||
         code == grpc::StatusCode::INTERNAL;
}

// One client: appends to two streams of its own (expected version exact, or
// no_stream for the first append) and to two shared streams (any), one event
// or a few at a time. Retries an ambiguous failure with the same request until
// it gets an answer.
void ClientLoop(Ledger* ledger, int thread, uint64_t seed) {
  std::mt19937_64 random(seed * 131 + thread);
  std::map<std::string, uint64_t> own_versions;  // last known version of own streams
  std::set<std::string> unknown_version;         // own streams appended to with "any"
  for (int seq = 0; !ledger->stop_new.load(); ++seq) {
    if (ledger->paused.load()) {
      ledger->idle.fetch_add(1);
      while (ledger->paused.load() && !ledger->stop_new.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      ledger->idle.fetch_sub(1);
      if (ledger->stop_new.load()) break;
    }
    // A steady, bounded load (a few hundred appends a second in all).
    std::this_thread::sleep_for(std::chrono::microseconds(2000 + random() % 6000));
    const bool shared = random() % 3 == 0;
    const std::string stream = shared ? absl::StrCat("35.shared.", random() % 2, "/2024")
                                      : absl::StrCat("35.t", thread, ".", random() % 2, "/2024");
    v1::AppendRequest request;
    request.set_stream_id(stream);
    if (shared || unknown_version.count(stream) > 0) {
      request.mutable_expected_version()->mutable_any();
    } else if (own_versions[stream] == 0) {
      request.mutable_expected_version()->mutable_no_stream();
    } else {
      request.mutable_expected_version()->set_exact(own_versions[stream]);
    }
    const int count = random() % 10 < 6 ? 1 : 2 + static_cast<int>(random() % 4);
    for (int k = 0; k < count; ++k) {
      std::string id = absl::StrCat("t", thread, "-", seq, "-", k);
      *request.add_events() = MakeEvent(id, PayloadFor(id), "CrashTestRecorded");
    }

    bool ambiguous = false;
    while (true) {
      if (ledger->hard_stop.load()) {
        if (ambiguous) {
          absl::MutexLock lock(&ledger->mu);
          ++ledger->unresolved;
        }
        return;
      }
      std::shared_ptr<v1::LedgerService::Stub> stub = ledger->Stub();
      if (stub == nullptr) {  // the server is being restarted
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      grpc::ClientContext context;
      SetDeadline(&context, absl::Seconds(5));
      v1::AppendResponse response;
      grpc::Status status = stub->Append(&context, request, &response);
      if (status.ok()) {
        if (response.last_position() - response.first_position() + 1 !=
            static_cast<uint64_t>(count)) {
          ledger->Error(absl::StrCat("append of ", count, " events answered positions ",
                                     response.first_position(), "..", response.last_position()));
        }
        if (response.already_recorded() && !ambiguous) {
          ledger->Error(absl::StrCat("a first try with fresh ids answered already_recorded: ",
                                     request.events(0).event_id()));
        }
        absl::MutexLock lock(&ledger->mu);
        ++ledger->appends_acked;
        if (ambiguous) {
          ++(response.already_recorded() ? ledger->retries_found_recorded
                                         : ledger->retries_newly_recorded);
        }
        for (int k = 0; k < count; ++k) {
          const std::string& id = request.events(k).event_id();
          Acked acked{response.first_position() + k, stream,
                      response.stream_version() - (count - 1 - k)};
          auto [it, inserted] = ledger->acked.emplace(id, acked);
          if (!inserted) {
            ledger->errors.push_back(absl::StrCat("event ", id, " acknowledged twice"));
          } else {
            ledger->acked_order.push_back(id);
          }
        }
        if (!shared) own_versions[stream] = response.stream_version();
        break;
      }
      if (IsAmbiguous(status.error_code())) {
        ambiguous = true;
        {
          absl::MutexLock lock(&ledger->mu);
          ++ledger->ambiguous_codes[absl::StrCat(status.error_code())];
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10 + random() % 20));
        continue;
      }
      if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;  // refused at once, nothing written: retry
      }
      // ABORTED, ALREADY_EXISTS, FAILED_PRECONDITION, ...: a retry of a
      // request that may have committed must never get these.
      ledger->Error(absl::StrCat("append ", request.events(0).event_id(), " to ", stream,
                                 (ambiguous ? " (a retry after an ambiguous failure)" : ""),
                                 " failed: code ", status.error_code(), ": ",
                                 status.error_message()));
      if (!shared) unknown_version.insert(stream);  // do not cascade into more errors
      break;
    }
  }
}

class CrashTest : public ::testing::Test {
 protected:
  // Checks the ledger against what was acknowledged. `get_event_ids` are
  // also looked up one by one with GetEvent. Returns the ids found missing or
  // moved.
  std::set<std::string> Check(v1::LedgerService::Stub* stub,
                              const std::map<std::string, Acked>& acked,
                              const std::vector<std::string>& get_event_ids,
                              const std::string& when) {
    SCOPED_TRACE(when);
    std::set<std::string> lost;
    {
      grpc::ClientContext context;
      SetDeadline(&context, absl::Seconds(30));
      v1::GetHeadResponse head;
      grpc::Status status = stub->GetHead(&context, v1::GetHeadRequest(), &head);
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_TRUE(head.writable()) << "the restarted ledger refuses writes: "
                                   << head.write_refusal_reason();
    }
    std::vector<v1::RecordedEvent> log;
    grpc::Status read = testing::ReadWholeLog(stub, &log);
    EXPECT_TRUE(read.ok()) << read.error_message();
    std::map<std::string, uint64_t> position_of;
    for (size_t i = 0; i < log.size(); ++i) {
      const v1::EventEnvelope& envelope = log[i].envelope();
      EXPECT_EQ(envelope.position(), i + 1) << "a gap or a repeat in ReadAll";
      auto [it, inserted] = position_of.emplace(envelope.event_id(), envelope.position());
      EXPECT_TRUE(inserted) << "event " << envelope.event_id() << " is recorded twice, at "
                            << it->second << " and " << envelope.position();
      // The ledger's own events (signed tree heads) are checked by their
      // readers; this test checks what its writers wrote.
      if (attest::IsReservedStreamId(envelope.stream_id())) continue;
      EXPECT_EQ(envelope.payload(), PayloadFor(envelope.event_id()))
          << "position " << envelope.position();
    }
    for (const auto& [id, expected] : acked) {
      auto it = position_of.find(id);
      if (it == position_of.end() || it->second != expected.position) {
        ADD_FAILURE() << "acknowledged event " << id << " at position " << expected.position
                      << " is "
                      << (it == position_of.end() ? std::string("missing")
                                                  : absl::StrCat("at position ", it->second));
        lost.insert(id);
        continue;
      }
      const v1::EventEnvelope& envelope = log[it->second - 1].envelope();
      EXPECT_EQ(envelope.stream_id(), expected.stream) << id;
      EXPECT_EQ(envelope.stream_version(), expected.version) << id;
    }
    for (const std::string& id : get_event_ids) {
      grpc::ClientContext context;
      SetDeadline(&context, absl::Seconds(30));
      v1::GetEventRequest request;
      request.set_event_id(id);
      v1::GetEventResponse response;
      grpc::Status status = stub->GetEvent(&context, request, &response);
      const Acked& expected = acked.at(id);
      if (!status.ok() || response.event().envelope().position() != expected.position) {
        ADD_FAILURE() << "GetEvent(" << id << "): " << status.error_code() << " "
                      << status.error_message() << ", position "
                      << response.event().envelope().position() << ", acknowledged at "
                      << expected.position;
        lost.insert(id);
      }
    }
    {
      grpc::ClientContext context;
      SetDeadline(&context, absl::Seconds(60));
      v1::VerifyResponse verify;
      grpc::Status status = stub->Verify(&context, v1::VerifyRequest(), &verify);
      EXPECT_TRUE(status.ok()) << status.error_message();
      EXPECT_TRUE(verify.ok()) << "the chain does not verify: " << verify.DebugString();
      EXPECT_GE(verify.verified_count(), log.size());
    }
    return lost;
  }

  TempDir dir_;
};

TEST_F(CrashTest, NoAcknowledgedAppendIsLostAcrossKills) {
  const int kills = PositiveEnvInt("LEDGER_CRASH_KILLS", 6);
  const int seconds = PositiveEnvInt("LEDGER_CRASH_SECONDS", 14);
  const uint64_t seed = static_cast<uint64_t>(PositiveEnvInt("LEDGER_CRASH_SEED", 0)) != 0
                            ? static_cast<uint64_t>(PositiveEnvInt("LEDGER_CRASH_SEED", 0))
                            : std::random_device()() % 1000000 + 1;
  std::printf("crash test: %d kills over %d s of load, %d client threads, seed %llu "
              "(LEDGER_CRASH_KILLS, LEDGER_CRASH_SECONDS, LEDGER_CRASH_SEED)\n",
              kills, seconds, kClientThreads, static_cast<unsigned long long>(seed));
  std::mt19937_64 random(seed);
  const absl::Duration cycle = absl::Seconds(seconds) / kills;

  LedgerdProcess server(dir_.Sub("ledger"), dir_.path());
  ASSERT_THAT(server.Start(), IsOk());
  Ledger ledger;
  ledger.SetStub(v1::LedgerService::NewStub(server.NewChannel()));

  std::vector<std::thread> clients;
  for (int t = 0; t < kClientThreads; ++t) {
    clients.emplace_back([&ledger, t, seed] {
      ClientLoop(&ledger, t, seed);
      ledger.exited.fetch_add(1);
    });
  }
  // Lets the clients resolve what the kill left ambiguous, then holds them,
  // so that the ledger is checked while nothing changes.
  auto pause_clients = [&] {
    ledger.paused.store(true);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (ledger.idle.load() < kClientThreads && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(2));
    }
    EXPECT_EQ(ledger.idle.load(), kClientThreads) << "clients still busy after 30 s";
  };
  // Whatever happens below, the clients stop.
  struct Joiner {
    Ledger* ledger;
    std::vector<std::thread>* clients;
    ~Joiner() {
      ledger->stop_new.store(true);
      ledger->hard_stop.store(true);
      for (std::thread& client : *clients) {
        if (client.joinable()) client.join();
      }
    }
  } joiner{&ledger, &clients};

  std::set<std::string> lost;
  size_t checked_through = 0;  // acked_order entries already looked up by GetEvent
  for (int kill = 1; kill <= kills; ++kill) {
    // Run under load for a random part of the cycle, and at least until some
    // appends were acknowledged since the last restart.
    const int acked_before = [&] {
      absl::MutexLock lock(&ledger.mu);
      return ledger.appends_acked;
    }();
    const double fraction = 0.3 + 0.7 * static_cast<double>(random() % 1000) / 1000.0;
    absl::SleepFor(cycle * fraction);
    for (int wait = 0; wait < 500; ++wait) {
      {
        absl::MutexLock lock(&ledger.mu);
        if (ledger.appends_acked >= acked_before + 5) break;
      }
      absl::SleepFor(absl::Milliseconds(10));
    }

    server.Kill();
    ledger.SetStub(nullptr);
    absl::Status started = server.Start();
    ASSERT_THAT(started, IsOk()) << "restart " << kill << " failed";
    auto stub = v1::LedgerService::NewStub(server.NewChannel());

    // The clients retry what the kill left ambiguous on the new server, then
    // wait while the ledger is checked.
    ledger.SetStub(std::shared_ptr<v1::LedgerService::Stub>(
        v1::LedgerService::NewStub(server.NewChannel())));
    pause_clients();
    std::map<std::string, Acked> acked;
    std::vector<std::string> recent;
    {
      absl::MutexLock lock(&ledger.mu);
      acked = ledger.acked;
      recent.assign(ledger.acked_order.begin() + checked_through, ledger.acked_order.end());
      checked_through = ledger.acked_order.size();
    }
    std::set<std::string> lost_now =
        Check(stub.get(), acked, recent, absl::StrCat("after kill ", kill));
    lost.insert(lost_now.begin(), lost_now.end());
    ledger.paused.store(false);
    if (HasFatalFailure()) break;
  }

  // Stop the load: every append in flight gets its answer from the running
  // server (an ambiguous one is retried once more).
  ledger.stop_new.store(true);
  const absl::Time join_deadline = absl::Now() + absl::Seconds(30);
  while (ledger.exited.load() < kClientThreads && absl::Now() < join_deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ledger.hard_stop.store(true);  // (a client still retrying now counts as unresolved)
  for (std::thread& client : clients) client.join();

  std::map<std::string, Acked> acked;
  std::vector<std::string> all_ids;
  {
    absl::MutexLock lock(&ledger.mu);
    acked = ledger.acked;
    all_ids = ledger.acked_order;
  }
  auto stub = v1::LedgerService::NewStub(server.NewChannel());
  std::set<std::string> lost_at_end = Check(stub.get(), acked, all_ids, "at the end");
  lost.insert(lost_at_end.begin(), lost_at_end.end());

  std::printf("acknowledged lost: %zu of %zu across %d kills\n", lost.size(), acked.size(),
              kills);
  {
    absl::MutexLock lock(&ledger.mu);
    std::string codes;
    for (const auto& [code, n] : ledger.ambiguous_codes) absl::StrAppend(&codes, " ", code, "x", n);
    std::printf("crash test: %d appends acknowledged; ambiguous failures by code:%s; retried "
                "appends found already recorded: %d, recorded by the retry: %d; unresolved: %d\n",
                ledger.appends_acked, codes.empty() ? " none" : codes.c_str(),
                ledger.retries_found_recorded, ledger.retries_newly_recorded, ledger.unresolved);
    for (const std::string& error : ledger.errors) ADD_FAILURE() << error;
    EXPECT_EQ(ledger.unresolved, 0) << "appends still ambiguous after the last restart";
  }
  std::fflush(stdout);
  EXPECT_EQ(lost.size(), 0u) << "acknowledged events were lost";
  EXPECT_GT(acked.size(), 0u) << "the load acknowledged nothing: the test proved nothing";

  std::optional<int> exit_status = server.Terminate(absl::Seconds(20));
  ASSERT_TRUE(exit_status.has_value()) << "ledgerd did not stop on SIGTERM";
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
      << testing::DescribeWaitStatus(*exit_status) << "\n" << server.LogTail();
}

}  // namespace
}  // namespace ledger
