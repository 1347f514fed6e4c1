// Child processes for the cross-layer tests: the tamper tool and ledgerd.
//
// Spawn from the test's main thread: the child is told to die with the thread
// that forked it (PR_SET_PDEATHSIG), so a crashed test leaves no server behind.
//
// Thread-safety: one ChildProcess is used from one thread.
#ifndef TESTS_SUPPORT_SUBPROCESS_H_
#define TESTS_SUPPORT_SUBPROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ledger::testing {

class ChildProcess {
 public:
  // Starts argv[0] (a path) with `argv`; its stdout and stderr are appended to
  // `log_path`.
  static absl::StatusOr<std::unique_ptr<ChildProcess>> Spawn(const std::vector<std::string>& argv,
                                                             const std::string& log_path);
  // Kills (SIGKILL) and reaps the child if it still runs.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }

  // Sends `signal_number` if the child was not reaped yet.
  void Signal(int signal_number);
  // Waits up to `timeout` for the child to end; returns its wait status, or
  // nothing if it still runs.
  std::optional<int> WaitFor(absl::Duration timeout);
  // True until the child has ended (reaps it if it has).
  bool Running();
  // The last `max_bytes` of the child's log.
  std::string LogTail(size_t max_bytes = 4000) const;

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  std::optional<int> wait_status_;
};

struct ProcessResult {
  int wait_status = 0;
  bool exited = false;  // WIFEXITED
  int exit_code = -1;   // WEXITSTATUS when exited
  std::string output;   // stdout and stderr
};

// Runs `argv` to completion (killed after `timeout`); output goes through
// `log_path`.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const std::string& log_path,
                                         absl::Duration timeout = absl::Seconds(60));

// "exited with code 1", "killed by signal 9".
std::string DescribeWaitStatus(int wait_status);

std::string ReadFileOrEmpty(const std::string& path);

}  // namespace ledger::testing

#endif  // TESTS_SUPPORT_SUBPROCESS_H_
