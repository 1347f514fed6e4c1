// I/O faults seen through gRPC (issue #7): a failed sync, a failed write and
// a full disk are never acknowledged; the server then refuses writes with a
// clear status, keeps serving reads, reports NOT_SERVING for the health entry
// "ledger.writes" and the reason in GetHead, and resumes by itself (reopening
// and re-verifying the database) once the cause is gone.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/testing/fault_injection_fs.h"
#include "ledger/testing/temp_dir.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "rocksdb/env.h"
#include "tests/support/in_process_ledger.h"
#include "tests/support/ledgerd_process.h"
#ifdef LEDGER_TEST_HAVE_HEALTH_PROTO
#include "grpc/health/v1/health.grpc.pb.h"
#endif

namespace ledger {
namespace {

using ::ledger::testing::FaultInjectionFileSystem;
using ::ledger::testing::FileOperation;
using ::ledger::testing::GrpcIs;
using ::ledger::testing::GrpcOk;
using ::ledger::testing::InProcessLedger;
using ::ledger::testing::IsOk;
using ::ledger::testing::kWalSuffix;
using ::ledger::testing::MakeEvent;
using ::ledger::testing::SetDeadline;
using ::testing::HasSubstr;

constexpr absl::Duration kRpcTimeout = absl::Seconds(10);

class IoFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ledger_.set_env(env_.get());
    ledger_.set_write_retry_interval(absl::Milliseconds(100));
    ASSERT_THAT(ledger_.Start("local:test"), IsOk());
    stub_ = v1::LedgerService::NewStub(ledger_.channel());
  }

  grpc::Status Append(const std::string& id, v1::AppendResponse* response = nullptr) {
    v1::AppendRequest request;
    request.set_stream_id("35.08.19/2024");
    request.mutable_expected_version()->mutable_any();
    *request.add_events() = MakeEvent(id, "{\"v\":1}");
    v1::AppendResponse local;
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    return stub_->Append(&context, request, response != nullptr ? response : &local);
  }
  v1::GetHeadResponse Head() {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::GetHeadResponse response;
    EXPECT_THAT(stub_->GetHead(&context, v1::GetHeadRequest(), &response), GrpcOk());
    return response;
  }
  size_t ReadCount() {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::ReadAllRequest request;
    request.set_max_count(100);
    v1::ReadResponse response;
    EXPECT_THAT(stub_->ReadAll(&context, request, &response), GrpcOk());
    return response.events_size();
  }
  // "SERVING", "NOT_SERVING", or why the check failed.
  std::string WritesHealth() {
#ifdef LEDGER_TEST_HAVE_HEALTH_PROTO
    auto health = grpc::health::v1::Health::NewStub(ledger_.channel());
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(services::kWritesHealthName);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    if (!status.ok()) return status.error_message();
    return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
#else
    return ledger_.log()->GetWriteState().writable ? "SERVING" : "NOT_SERVING";
#endif
  }
  // Waits until the server's write state is `writable`.
  bool WaitForWritable(bool writable) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (Head().writable() == writable && WritesHealth() == (writable ? "SERVING" : "NOT_SERVING")) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }
  void ExpectVerifies() {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::VerifyResponse response;
    ASSERT_THAT(stub_->Verify(&context, v1::VerifyRequest(), &response), GrpcOk());
    EXPECT_TRUE(response.ok()) << response.ShortDebugString();
    EXPECT_EQ(response.verified_count(), Head().position());
  }

  std::shared_ptr<FaultInjectionFileSystem> fs_ = std::make_shared<FaultInjectionFileSystem>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
  InProcessLedger ledger_;
  std::unique_ptr<v1::LedgerService::Stub> stub_;
};

TEST_F(IoFaultTest, AFailedSyncIsNotAcknowledgedAndTheServerResumesByItself) {
  ASSERT_THAT(Append("e1"), GrpcOk());
  EXPECT_EQ(WritesHealth(), "SERVING");
  fs_->FailNext({FileOperation::kSync, kWalSuffix, 0, 1, false});
  EXPECT_THAT(Append("e2"), GrpcIs(grpc::StatusCode::UNAVAILABLE, HasSubstr("synced write failed")));
  v1::GetHeadResponse head = Head();
  EXPECT_EQ(head.position(), 1u) << "the failed append was not published";
  EXPECT_EQ(ReadCount(), 1u) << "reads go on";
  ASSERT_TRUE(WaitForWritable(true)) << Head().write_refusal_reason();
  // The client's retry of the unacknowledged append lands once.
  v1::AppendResponse retried;
  ASSERT_THAT(Append("e2", &retried), GrpcOk());
  ASSERT_THAT(Append("e3"), GrpcOk());
  EXPECT_EQ(Head().position(), 3u);
  ExpectVerifies();
}

TEST_F(IoFaultTest, WhileTheDiskIsFullWritesAreRefusedWithTheReasonAndReadsGoOn) {
  ASSERT_THAT(Append("e1"), GrpcOk());
  fs_->SetDiskFull(true);
  EXPECT_THAT(Append("e2"), GrpcIs(grpc::StatusCode::UNAVAILABLE, HasSubstr("space")));
  ASSERT_TRUE(WaitForWritable(false));
  // Several automatic resumes fail while the disk stays full.
  absl::SleepFor(absl::Milliseconds(400));
  v1::GetHeadResponse head = Head();
  EXPECT_FALSE(head.writable());
  EXPECT_THAT(head.write_refusal_reason(), HasSubstr("space"));
  EXPECT_EQ(WritesHealth(), "NOT_SERVING");
  EXPECT_THAT(Append("e3"), GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("refuses writes")));
  EXPECT_EQ(ReadCount(), 1u);
  ExpectVerifies();

  fs_->SetDiskFull(false);
  ASSERT_TRUE(WaitForWritable(true)) << Head().write_refusal_reason();
  ASSERT_THAT(Append("e2"), GrpcOk());
  EXPECT_EQ(Head().position(), 2u);
  ExpectVerifies();
}

TEST_F(IoFaultTest, AFailedWalWriteIsRefusedAndResumed) {
  ASSERT_THAT(Append("e1"), GrpcOk());
  fs_->FailNext({FileOperation::kWrite, kWalSuffix, 0, 1, false});
  EXPECT_THAT(Append("e2"), GrpcIs(grpc::StatusCode::UNAVAILABLE, HasSubstr("injected I/O error")));
  ASSERT_TRUE(WaitForWritable(true)) << Head().write_refusal_reason();
  ASSERT_THAT(Append("e2"), GrpcOk());
  ExpectVerifies();
}

}  // namespace
}  // namespace ledger
