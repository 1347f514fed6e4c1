// Graceful shutdown: ledgerd under concurrent append load (and with a live
// subscriber) receives SIGTERM. It exits 0, promptly; every append that was
// acknowledged is present after the restart at its acknowledged position; the
// reopened ledger verifies and accepts writes; clients see only UNAVAILABLE
// (retryable), and the subscriber is told where to resume.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "tests/support/ledgerd_process.h"

namespace ledger {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::LedgerdProcess;
using ::ledger::testing::MakeEvent;
using ::ledger::testing::SetDeadline;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

constexpr int kWriters = 4;

struct Acked {
  uint64_t position;
  std::string stream;
};

TEST(ShutdownTest, SigtermUnderLoadExitsZeroAndKeepsEveryAcknowledgedAppend) {
  TempDir dir;
  const std::string data_dir = dir.Sub("ledger");
  LedgerdProcess server(data_dir, dir.path(), {"--shutdown_grace_ms=5000"});
  ASSERT_THAT(server.Start(), IsOk());
  std::shared_ptr<grpc::Channel> channel = server.NewChannel();
  auto stub = v1::LedgerService::NewStub(channel);

  absl::Mutex mu;
  std::map<std::string, Acked> acked;
  std::map<int, int> final_codes;  // how each writer's last append ended
  std::vector<std::string> errors;
  std::vector<std::pair<std::string, std::vector<std::string>>> refused;  // status, event ids
  std::atomic<int> appends_acked{0};
  std::atomic<bool> stop{false};

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int seq = 0; !stop.load(); ++seq) {
        const std::string stream = absl::StrCat("35.w", w, "/2024");
        v1::AppendRequest request;
        request.set_stream_id(stream);
        request.mutable_expected_version()->mutable_any();
        const int count = seq % 4 == 3 ? 3 : 1;
        for (int k = 0; k < count; ++k) {
          *request.add_events() = MakeEvent(absl::StrCat("w", w, "-", seq, "-", k),
                                            absl::StrCat("{\"seq\":", seq, "}"));
        }
        grpc::ClientContext context;
        SetDeadline(&context, absl::Seconds(20));
        v1::AppendResponse response;
        grpc::Status status = stub->Append(&context, request, &response);
        absl::MutexLock lock(&mu);
        if (!status.ok()) {
          // After SIGTERM: refused. The writer stops here.
          final_codes[status.error_code()]++;
          std::vector<std::string> ids;
          for (const v1::ProposedEvent& event : request.events()) ids.push_back(event.event_id());
          refused.emplace_back(absl::StrCat(status.error_code(), " '", status.error_message(), "'"), ids);
          // UNAVAILABLE is the documented answer of a server that shuts down.
          // gRPC itself answers CANCELLED to a call that reaches the server
          // after shutdown began but before a handler took it.
          if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
              status.error_code() != grpc::StatusCode::CANCELLED) {
            errors.push_back(absl::StrCat("writer ", w, ": code ", status.error_code(), ": ",
                                          status.error_message()));
          }
          return;
        }
        for (int k = 0; k < count; ++k) {
          acked[request.events(k).event_id()] = Acked{response.first_position() + k, stream};
        }
        appends_acked.fetch_add(1);
      }
    });
  }

  // A live subscriber from the start of the log.
  std::vector<uint64_t> delivered;
  grpc::Status subscription_status;
  grpc::ClientContext subscription_context;
  SetDeadline(&subscription_context, absl::Seconds(60));
  std::thread subscriber([&] {
    auto reader = stub->Subscribe(&subscription_context, v1::SubscribeRequest());
    v1::SubscribeResponse message;
    while (reader->Read(&message)) {
      if (message.has_event()) delivered.push_back(message.event().envelope().position());
    }
    subscription_status = reader->Finish();
  });

  // Load for a while, then SIGTERM while appends are in flight.
  const absl::Time load_deadline = absl::Now() + absl::Seconds(10);
  absl::SleepFor(absl::Milliseconds(1200));
  while (appends_acked.load() < 100 && absl::Now() < load_deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GT(appends_acked.load(), 0) << server.LogTail();
  const absl::Time sigterm_at = absl::Now();
  std::optional<int> exit_status = server.Terminate(absl::Seconds(30));
  const absl::Duration took = absl::Now() - sigterm_at;
  stop.store(true);
  for (std::thread& writer : writers) writer.join();
  subscriber.join();

  ASSERT_TRUE(exit_status.has_value()) << "ledgerd did not exit within 30 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(*exit_status) && WEXITSTATUS(*exit_status) == 0)
      << testing::DescribeWaitStatus(*exit_status) << "\n" << server.LogTail();
  // In-flight appends finish in milliseconds and the subscription ends at
  // its next poll: nothing should wait for the 5 s grace period.
  EXPECT_LT(took, absl::Seconds(4)) << "shutdown took " << took;
  EXPECT_THAT(server.LogTail(), HasSubstr("stopped cleanly"));
  for (const std::string& error : errors) ADD_FAILURE() << error;
  EXPECT_EQ(subscription_status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << subscription_status.error_message();
  EXPECT_THAT(subscription_status.error_message(), HasSubstr("resume from position"));
  for (size_t i = 0; i < delivered.size(); ++i) {
    ASSERT_EQ(delivered[i], i + 1) << "the subscriber saw a gap or a repeat";
  }

  // Everything acknowledged is in the reopened ledger, at its position.
  RocksEventLogOptions options;
  options.data_dir = data_dir;
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(options);
  ASSERT_THAT(log.status(), IsOk());
  EXPECT_TRUE((*log)->GetWriteState().writable) << (*log)->GetWriteState().refusal_reason;
  uint64_t max_acked = 0;
  for (const auto& [id, expected] : acked) {
    absl::StatusOr<RecordedEvent> event = (*log)->GetEvent(id);
    ASSERT_THAT(event.status(), IsOk()) << "acknowledged event " << id << " is lost";
    EXPECT_EQ(event->envelope.position(), expected.position) << id;
    EXPECT_EQ(event->envelope.stream_id(), expected.stream) << id;
    max_acked = std::max(max_acked, expected.position);
  }
  EXPECT_GE((*log)->GetHead().position, max_acked);
  // A refused append landed whole or not at all.
  int refused_but_recorded = 0;
  std::string refused_codes;
  for (const auto& [code, ids] : refused) {
    size_t present = 0;
    for (const std::string& id : ids) present += (*log)->GetEvent(id).ok() ? 1 : 0;
    EXPECT_TRUE(present == 0 || present == ids.size())
        << "a refused append of " << ids.size() << " events landed partly (" << present << ")";
    refused_but_recorded += present > 0 ? 1 : 0;
    absl::StrAppend(&refused_codes, " ", code, present > 0 ? " (recorded)" : "");
  }
  EXPECT_GE((*log)->GetHead().position, delivered.size());
  absl::StatusOr<VerifyReport> report = (*log)->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->ok()) << report->finding->detail;
  EXPECT_EQ(report->verified_count, (*log)->GetHead().position);
  std::printf("shutdown test: %zu acknowledged events kept, head %llu, exit 0 in %s; "
              "appends refused at shutdown:%s\n",
              acked.size(), static_cast<unsigned long long>((*log)->GetHead().position),
              absl::FormatDuration(took).c_str(), refused_codes.c_str());
}

// gRPC's graceful shutdown alone waits, up to the grace period, for every
// client to close its connection after the GOAWAY; an idle client notices
// only when its channel polls. Here the client's backup poller is off, so it
// never would: the server must stop once no call is in flight.
TEST(ShutdownTest, AnIdleClientConnectionDoesNotHoldUpTheStop) {
  // Read by gRPC when it starts in this process (ctest runs each test alone).
  setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "0", /*overwrite=*/1);
  TempDir dir;
  LedgerdProcess server(dir.Sub("ledger"), dir.path(), {"--shutdown_grace_ms=20000"});
  ASSERT_THAT(server.Start(), IsOk());
  std::shared_ptr<grpc::Channel> channel = server.NewChannel();
  auto stub = v1::LedgerService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(10));
  v1::GetHeadResponse head;
  ASSERT_TRUE(stub->GetHead(&context, v1::GetHeadRequest(), &head).ok());
  absl::SleepFor(absl::Milliseconds(200));  // the call is over; the connection stays open

  const absl::Time sigterm_at = absl::Now();
  std::optional<int> status = server.Terminate(absl::Seconds(40));
  const absl::Duration took = absl::Now() - sigterm_at;
  ASSERT_TRUE(status.has_value()) << "ledgerd did not exit within 40 s of SIGTERM";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << testing::DescribeWaitStatus(*status) << "\n" << server.LogTail();
  EXPECT_LT(took, absl::Seconds(5)) << "the stop waited for the idle client (grace 20 s)";
  std::printf("an idle client's open connection: ledgerd stopped in %s\n",
              absl::FormatDuration(took).c_str());
}

TEST(ShutdownTest, SigintOnAnIdleServerExitsZeroAndRestartsAtTheSameHead) {
  TempDir dir;
  // The head is compared exactly: no signed head is added at shutdown.
  LedgerdProcess server(dir.Sub("ledger"), dir.path(), {"--sign_heads=false"});
  ASSERT_THAT(server.Start(), IsOk());
  uint64_t head_before = 0;
  {
    auto stub = v1::LedgerService::NewStub(server.NewChannel());
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(10));
    v1::AppendRequest request;
    request.set_stream_id("idle");
    request.mutable_expected_version()->mutable_no_stream();
    *request.add_events() = MakeEvent("idle-1", "{}");
    v1::AppendResponse response;
    ASSERT_TRUE(stub->Append(&context, request, &response).ok());
    head_before = response.last_position();
  }
  ASSERT_TRUE(server.running());
  std::optional<int> status = server.Stop(SIGINT, absl::Seconds(15));
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << testing::DescribeWaitStatus(*status);

  ASSERT_THAT(server.Start(), IsOk());
  auto stub = v1::LedgerService::NewStub(server.NewChannel());
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(10));
  v1::GetHeadResponse head;
  ASSERT_TRUE(stub->GetHead(&context, v1::GetHeadRequest(), &head).ok());
  EXPECT_EQ(head.position(), head_before);
  EXPECT_TRUE(head.writable());
}

}  // namespace
}  // namespace ledger
