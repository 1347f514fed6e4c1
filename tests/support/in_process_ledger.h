// Test support for cross-layer gRPC tests: a RocksDB event log in a temporary
// directory served by an in-process LedgerServer on 127.0.0.1:0, a channel to
// it, and matchers for grpc::Status.
//
// Thread-safety: used from the test's thread; the server serves concurrently.
#ifndef TESTS_SUPPORT_IN_PROCESS_LEDGER_H_
#define TESTS_SUPPORT_IN_PROCESS_LEDGER_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/channel.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "services/server.h"

namespace ledger::testing {

// EXPECT_THAT(status, GrpcIs(grpc::StatusCode::ABORTED, HasSubstr("expected_version")))
MATCHER_P2(GrpcIs, code, message_matcher, "") {
  *result_listener << "status is " << arg.error_code() << ": " << arg.error_message();
  return arg.error_code() == code &&
         ::testing::ExplainMatchResult(message_matcher, arg.error_message(), result_listener);
}

MATCHER(GrpcOk, "") {
  *result_listener << "status is " << arg.error_code() << ": " << arg.error_message();
  return arg.ok();
}

class InProcessLedger {
 public:
  ~InProcessLedger() { Stop(); }

  // Opens the log and starts the server; `actor` is recorded on every write.
  // With `sign_heads`, a signing key in the temporary directory, a head
  // witness next to it, heads signed on request only, and report seals.
  absl::Status Start(const std::string& actor, absl::Duration subscription_poll = absl::Milliseconds(50),
                     bool sign_heads = false);
  // Shuts the server down (2 s of grace), then closes the log. Idempotent.
  void Stop();

  // Before Start: the RocksDB environment of the log (a fault-injecting
  // file system), and whether the server resumes writes after a failed one
  // (the log's ResumeWrites every `retry_interval`, as ledgerd does).
  void set_env(rocksdb::Env* env) { env_ = env; }
  void set_write_retry_interval(absl::Duration retry_interval) { write_retry_interval_ = retry_interval; }

  ClosableEventLog* log() const { return log_.get(); }
  const HeadSigner* signer() const { return signer_.get(); }
  services::LedgerServer* server() const { return server_.get(); }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  TempDir dir_;
  rocksdb::Env* env_ = nullptr;
  absl::Duration write_retry_interval_ = absl::ZeroDuration();
  std::unique_ptr<HeadSigner> signer_;
  std::unique_ptr<ClosableEventLog> log_;
  std::unique_ptr<services::LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace ledger::testing

#endif  // TESTS_SUPPORT_IN_PROCESS_LEDGER_H_
