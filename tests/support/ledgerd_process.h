// A ledgerd child process for tests that kill or stop the server, and small
// gRPC client helpers shared by the cross-layer tests.
//
// Thread-safety: LedgerdProcess is driven from the test's main thread;
// channel() and stub() may be used from any thread between Start and Kill.
#ifndef TESTS_SUPPORT_LEDGERD_PROCESS_H_
#define TESTS_SUPPORT_LEDGERD_PROCESS_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "tests/support/subprocess.h"

namespace ledger::testing {

// Path of the ledgerd binary under test (a compile definition of the tests).
const char* LedgerdPath();

class LedgerdProcess {
 public:
  // `work_dir` holds the port file and the server's log (one log per start).
  LedgerdProcess(std::string data_dir, std::string work_dir,
                 std::vector<std::string> extra_flags = {});
  ~LedgerdProcess();

  // Starts ledgerd with --listen=127.0.0.1:0 --port_file and waits until the
  // port file appears and a channel to it is ready.
  absl::Status Start(absl::Duration timeout = absl::Seconds(30));
  // SIGKILL, then reaps the child.
  void Kill();
  // Sends SIGTERM and waits up to `timeout`; the wait status, or nothing if
  // the child still runs (it is then left running).
  std::optional<int> Terminate(absl::Duration timeout);
  // The same with any signal (SIGINT is ledgerd's other graceful one).
  std::optional<int> Stop(int signal_number, absl::Duration timeout);

  bool running() const { return child_ != nullptr; }
  // The child's process id (for /proc), or -1 when it does not run.
  pid_t pid() const { return child_ != nullptr ? child_->pid() : -1; }
  int port() const { return port_; }
  int starts() const { return starts_; }
  std::string address() const;
  // A new channel to the current server (one per start).
  std::shared_ptr<grpc::Channel> NewChannel() const;
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  std::string data_dir_;
  std::string work_dir_;
  std::vector<std::string> extra_flags_;
  std::unique_ptr<ChildProcess> child_;
  std::string last_log_path_;
  int port_ = 0;
  int starts_ = 0;
};

// Client-side helpers.
std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& address);
void SetDeadline(grpc::ClientContext* context, absl::Duration timeout);
v1::ProposedEvent MakeEvent(const std::string& event_id, const std::string& payload,
                            const std::string& event_type = "TestEventRecorded");

// Reads the whole log forward through ReadAll (pages of `page_size`).
grpc::Status ReadWholeLog(v1::LedgerService::Stub* stub, std::vector<v1::RecordedEvent>* out,
                          uint32_t page_size = 1000, bool include_stored_bytes = false);

}  // namespace ledger::testing

#endif  // TESTS_SUPPORT_LEDGERD_PROCESS_H_
