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
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ledger/integrity/sha256.h"
#include "ledger/integrity/tree_head.h"
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
ABSL_FLAG(std::string, signing_key, "",
          "Ed25519 key file that signs tree heads; created (mode 0600) on first start, public key "
          "in <file>.pub (default: <data_dir>.signing-key, outside the data directory)");
ABSL_FLAG(std::string, head_witness, "",
          "file outside RocksDB that keeps the last signed tree head; at open a log that is "
          "shorter or forks from it refuses writes (default: <data_dir>.head-witness)");
ABSL_FLAG(int64_t, head_interval_ms, 1000,
          "how often a tree head is signed when the log has grown (0: only on request)");
ABSL_FLAG(bool, sign_heads, true, "sign tree heads and seal submitted reports (issue #5)");
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

// `flag`, or `data_dir` + `suffix` next to the data directory (a sibling,
// so that restoring the data directory from a copy does not restore these).
std::string OrDefault(const std::string& flag, std::string data_dir, const char* suffix) {
  if (!flag.empty()) return flag;
  while (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
  return data_dir + suffix;
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

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const bool sign_heads = absl::GetFlag(FLAGS_sign_heads);
  const std::string witness_path = OrDefault(absl::GetFlag(FLAGS_head_witness), data_dir, ".head-witness");
  std::unique_ptr<ledger::HeadSigner> signer;
  if (sign_heads) {
    const std::string key_path = OrDefault(absl::GetFlag(FLAGS_signing_key), data_dir, ".signing-key");
    auto loaded = ledger::HeadSigner::LoadOrCreate(key_path);
    if (!loaded.ok()) {
      LEDGER_LOG_ERROR("signing_key: %s", loaded.status().ToString());
      return 1;
    }
    signer = *std::move(loaded);
    LEDGER_LOG_INFO("tree heads signed with key %s (%s, public key in %s.pub)", signer->key_id(), key_path,
                    key_path);
  }

  ledger::RocksEventLogOptions log_options;
  log_options.data_dir = data_dir;
  if (sign_heads) log_options.head_witness_path = witness_path;
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
  server_options.attestation.signer = signer.get();
  server_options.attestation.publisher.witness_path = witness_path;
  server_options.attestation.publisher.interval = absl::Milliseconds(absl::GetFlag(FLAGS_head_interval_ms));
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
