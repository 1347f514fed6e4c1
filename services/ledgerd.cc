// ledgerd: the ledger server on an embedded RocksDB.
//
//   ledgerd --data_dir=./data --listen=127.0.0.1:7070
//
// On SIGTERM or SIGINT: stop accepting calls, end subscriptions, let in-flight
// appends finish (they are acknowledged only once synced), commit everything
// queued, close RocksDB. Nothing acknowledged is lost.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/util/log.h"
#include "services/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070",
          "host:port to listen on (port 0 picks a free port; see --port_file)");
ABSL_FLAG(std::string, data_dir, "./data", "directory of the RocksDB ledger; created if missing");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written to this file once the server accepts calls");
ABSL_FLAG(std::string, actor, "local:ledgerd",
          "principal recorded as the actor of every event (until authentication exists)");
ABSL_FLAG(uint64_t, max_pending_appends, ledger::limits::kMaxPendingAppends,
          "appends that may wait for the writer before RESOURCE_EXHAUSTED");
ABSL_FLAG(uint64_t, max_subscriptions, ledger::limits::kMaxSubscriptions,
          "live subscriptions served at once");
ABSL_FLAG(int64_t, shutdown_grace_ms, 5000,
          "on SIGTERM, how long in-flight calls may take before they are cancelled");

namespace {

int WaitForTerminationSignal(const sigset_t& signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

bool WritePortFile(const std::string& path, int port) {
  std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "The SAKIP audit ledger server.\n  ledgerd --data_dir=./data --listen=127.0.0.1:7070");
  absl::ParseCommandLine(argc, argv);
  // Debian's abseil checks every mutex acquisition for lock-order cycles;
  // that costs ~2% of CPU in production. The test binaries keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Block the termination signals in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ledger::RocksEventLogOptions log_options;
  log_options.data_dir = absl::GetFlag(FLAGS_data_dir);
  log_options.max_pending_appends = absl::GetFlag(FLAGS_max_pending_appends);
  log_options.max_subscriptions = absl::GetFlag(FLAGS_max_subscriptions);
  auto log = ledger::OpenRocksEventLog(log_options);
  if (!log.ok()) {
    LEDGER_LOG_ERROR("cannot open the ledger: %s", log.status().ToString());
    return 1;
  }
  ledger::Head head = (*log)->GetHead();
  ledger::WriteState write_state = (*log)->GetWriteState();
  LEDGER_LOG_INFO("ledger open at %s: head position %d, hash %s, %s", log_options.data_dir,
                  head.position, ledger::HexEncode(head.hash),
                  write_state.writable ? "accepting writes"
                                       : "REFUSING WRITES: " + write_state.refusal_reason);

  ledger::services::ServerOptions server_options;
  server_options.listen_address = absl::GetFlag(FLAGS_listen);
  server_options.service.local_actor = absl::GetFlag(FLAGS_actor);
  auto server = ledger::services::LedgerServer::Start(log->get(), server_options);
  if (!server.ok()) {
    LEDGER_LOG_ERROR("%s", server.status().ToString());
    return 1;
  }
  LEDGER_LOG_INFO("ledgerd listening on %s", (*server)->address());
  if (std::string port_file = absl::GetFlag(FLAGS_port_file); !port_file.empty()) {
    if (!WritePortFile(port_file, (*server)->port())) {
      LEDGER_LOG_ERROR("cannot write --port_file %s", port_file);
      return 1;
    }
  }

  int signal_number = WaitForTerminationSignal(signals);
  LEDGER_LOG_INFO("signal %d: shutting down; in-flight appends finish first", signal_number);
  (*server)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  (*log)->Close();
  head = (*log)->GetHead();
  LEDGER_LOG_INFO("ledgerd stopped cleanly at head position %d", head.position);
  return 0;
}
