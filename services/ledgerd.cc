// ledgerd: the ledger server on an embedded RocksDB.
//
//   ledgerd --data_dir=./data --listen=127.0.0.1:7070
//
// Security (docs/ACCESS.md): --tls_cert/--tls_key turn TLS on,
// --tls_client_ca accepts client certificates, --principals turns
// authentication on (re-read on SIGHUP). A non-loopback --listen needs both
// unless --insecure says otherwise.
//
// On SIGTERM or SIGINT: stop accepting calls, end subscriptions, let in-flight
// appends finish (they are acknowledged only once synced), commit everything
// queued, close RocksDB. Nothing acknowledged is lost.
//
// Backups (docs/BACKUP.md): with --backup_dir, admins take online backups
// over gRPC (ledger.v1.AdminService, `ledgerctl backup`). Restoring is a mode
// of its own that serves nothing and exits with a summary:
//
//   ledgerd --restore_from=BACKUP_DIR [--backup_id=N] --data_dir=EMPTY_OR_MISSING
//           [--signing_key=...] [--head_witness=...] [--published_head=FILE] [--allow_rollback]
//
// It restores into a temporary sibling, verifies the whole chain and Merkle
// tree, the latest signed head with the server's key, and that the restored
// log does not roll back the head witness (or --published_head) unless
// --allow_rollback; only then renames it into place. Then start ledgerd
// normally on the data directory.
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ledger/attest/restore_check.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/integrity/sha256.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/store/backup.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/util/log.h"
#include "ledger/util/memory_trimmer.h"
#include "ledger/util/status_macros.h"
#include "services/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070",
          "host:port to listen on (port 0 picks a free port; see --port_file)");
ABSL_FLAG(std::string, data_dir, "./data", "directory of the RocksDB ledger; created if missing");
ABSL_FLAG(std::string, port_file, "",
          "if set, the bound port is written to this file once the server accepts calls");
ABSL_FLAG(std::string, actor, "local:ledgerd",
          "with authentication off (no --principals): the actor recorded on every event");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of the server; enables TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates that client certificates must verify against (mutual TLS)");
ABSL_FLAG(bool, require_client_certificate, false,
          "with --tls_client_ca: refuse connections without a client certificate (no tokens "
          "alone)");
ABSL_FLAG(std::string, principals, "",
          "principals file (docs/ACCESS.md): turns authentication on; re-read on SIGHUP");
ABSL_FLAG(std::string, denied_log, "",
          "file of refused calls, one JSON line each (default: <data_dir>.denied.jsonl)");
ABSL_FLAG(bool, insecure, false,
          "allow listening on a non-loopback address without TLS or without --principals");
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
ABSL_FLAG(int64_t, write_retry_interval_ms, 5000,
          "after a failed write (I/O error, full disk) the ledger refuses writes and stays "
          "readable; this often it reopens the database, re-verifies it and resumes writes if "
          "the cause is gone (0: never; a restart then resumes). docs/DURABILITY.md");
ABSL_FLAG(int64_t, memory_trim_interval_ms, ledger::limits::kMemoryTrimIntervalMillis,
          "give the allocator's free memory back to the system this often (0: never); see "
          "ledger/util/memory_trimmer.h");
ABSL_FLAG(std::string, backup_dir, "",
          "directory of online backups (ledger.v1.AdminService, `ledgerctl backup`); backups are "
          "written only here. Keep it outside the data directory, ideally on other storage. Empty: "
          "backups are off");
ABSL_FLAG(std::string, restore_from, "",
          "restore mode: restore the backup directory given here into --data_dir (which must be "
          "empty or missing), verify it, and exit; serves nothing (docs/BACKUP.md)");
ABSL_FLAG(uint32_t, backup_id, 0, "with --restore_from: the backup to restore (0: the latest)");
ABSL_FLAG(bool, allow_rollback, false,
          "with --restore_from: restore even if the backup is shorter than, or forks from, the "
          "head witness or --published_head (the old witness is kept aside, renamed)");
ABSL_FLAG(std::string, published_head, "",
          "with --restore_from: a signed head the operator published (witness file format, e.g. an "
          "inspector's trusted head); the restored log must extend it unless --allow_rollback");

namespace {

int WaitForTerminationSignal(const sigset_t& signals) {
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  return signal_number;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream text;
  text << in.rdbuf();
  *out = text.str();
  return true;
}

// TLS and access options from the flags, or an error naming the flag.
absl::Status SecurityFromFlags(const std::string& data_dir, ledger::services::ServerOptions* options);

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

absl::Status SecurityFromFlags(const std::string& data_dir, ledger::services::ServerOptions* options) {
  ledger::services::TlsOptions& tls = options->tls;
  const std::string cert = absl::GetFlag(FLAGS_tls_cert), key = absl::GetFlag(FLAGS_tls_key);
  const std::string client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  if (cert.empty() != key.empty()) {
    return absl::InvalidArgumentError("tls_cert, tls_key: give both or neither");
  }
  if (!cert.empty() && !ReadFile(cert, &tls.cert_chain)) {
    return absl::InvalidArgumentError(absl::StrCat("tls_cert: cannot read ", cert));
  }
  if (!key.empty() && !ReadFile(key, &tls.private_key)) {
    return absl::InvalidArgumentError(absl::StrCat("tls_key: cannot read ", key));
  }
  if (!client_ca.empty() && cert.empty()) {
    return absl::InvalidArgumentError("tls_client_ca: needs --tls_cert and --tls_key");
  }
  if (!client_ca.empty() && !ReadFile(client_ca, &tls.client_ca)) {
    return absl::InvalidArgumentError(absl::StrCat("tls_client_ca: cannot read ", client_ca));
  }
  tls.require_client_certificate = absl::GetFlag(FLAGS_require_client_certificate);
  if (tls.require_client_certificate && client_ca.empty()) {
    return absl::InvalidArgumentError("require_client_certificate: needs --tls_client_ca");
  }
  ledger::services::AccessOptions& access = options->access;
  access.principals_path = absl::GetFlag(FLAGS_principals);
  access.authentication = !access.principals_path.empty();
  access.local_actor = absl::GetFlag(FLAGS_actor);
  access.denied_log_path = OrDefault(absl::GetFlag(FLAGS_denied_log), data_dir, ".denied.jsonl");
  const bool loopback = ledger::services::IsLoopbackAddress(options->listen_address);
  if (!loopback && !absl::GetFlag(FLAGS_insecure)) {
    if (!tls.enabled()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen: ", options->listen_address, " is not a loopback address: give --tls_cert and "
          "--tls_key (or --insecure to serve plaintext on purpose)"));
    }
    if (!access.authentication) {
      return absl::InvalidArgumentError(absl::StrCat(
          "listen: ", options->listen_address, " is not a loopback address: give --principals "
          "so that callers are authenticated (or --insecure to let anyone call)"));
    }
  }
  if (!tls.enabled()) {
    LEDGER_LOG_WARN("TLS is OFF: calls travel in clear%s",
                    loopback ? " (loopback only)" : "; --insecure was given");
  }
  if (!access.authentication) {
    LEDGER_LOG_WARN("authentication is OFF: every caller acts as '%s' with every role, and the "
                    "four-eyes rules cannot tell people apart%s",
                    access.local_actor, loopback ? " (loopback only)" : "; --insecure was given");
  }
  return absl::OkStatus();
}

std::string Utc(int64_t micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(micros), absl::UTCTimeZone());
}

// The server's public key for a restore: the signing key must exist (a
// restore never creates a key).
absl::StatusOr<std::string> RestorePublicKey(const std::string& data_dir) {
  if (!absl::GetFlag(FLAGS_sign_heads)) return std::string();
  const std::string key_path = OrDefault(absl::GetFlag(FLAGS_signing_key), data_dir, ".signing-key");
  if (!std::ifstream(key_path)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signing_key: ", key_path, " does not exist: a restore verifies the backup's signed tree heads "
        "with the server's key; give --signing_key=FILE (or --sign_heads=false for a ledger that never "
        "signed heads)"));
  }
  absl::StatusOr<std::unique_ptr<ledger::HeadSigner>> signer = ledger::HeadSigner::LoadOrCreate(key_path);
  if (!signer.ok()) return signer.status();
  return (*signer)->public_key();
}

// After an allowed rollback: the old witness is kept (renamed, never
// deleted). When no witness is left, the restored log's own latest head (its
// signature verified) becomes the witness. Returns what happened, for the
// summary.
absl::StatusOr<std::string> ReplaceWitness(const std::string& witness_path,
                                           const ledger::attest::RestoreCheckResult& checked) {
  std::string what = "kept: the restored log extends it";
  if (checked.witness_rolled_back) {
    const std::string kept = absl::StrCat(
        witness_path, ".rolled-back-", absl::FormatTime("%Y%m%dT%H%M%SZ", absl::Now(), absl::UTCTimeZone()));
    if (std::rename(witness_path.c_str(), kept.c_str()) != 0) {
      return absl::UnavailableError(absl::StrCat("cannot rename ", witness_path, " to ", kept));
    }
    LEDGER_LOG_ERROR("ROLLBACK: the previous head witness is kept as %s", kept);
    what = absl::StrCat("ROLLED BACK: the previous one is kept as ", kept);
  } else if (!std::ifstream(witness_path)) {
    what = "none";
  }
  if (!absl::GetFlag(FLAGS_sign_heads) || !checked.latest_signed_head.has_value() || std::ifstream(witness_path)) {
    return what;
  }
  RETURN_IF_ERROR(ledger::WriteHeadWitness(witness_path, *checked.latest_signed_head));
  return absl::StrCat(what, "; now the restored log's latest signed head (tree size ",
                      checked.latest_signed_head->head.tree_size, ")");
}

void PrintRestoreSummary(const ledger::RestoreResult& result, const ledger::attest::RestoreCheckResult& checked,
                         const std::string& data_dir, const std::string& witness_path, const std::string& witness) {
  const ledger::BackupManifest& manifest = result.verification.backup.manifest;
  std::printf("restored backup %u (taken %s) from %s into %s\n", result.verification.backup.backup_id,
              Utc(manifest.created_at_micros).c_str(), absl::GetFlag(FLAGS_restore_from).c_str(), data_dir.c_str());
  std::printf("  head: position %llu, hash %s, recorded %s\n",
              static_cast<unsigned long long>(result.head.position), ledger::HexEncode(result.head.hash).c_str(),
              Utc(absl::ToUnixMicros(result.head.recorded_at)).c_str());
  std::printf("  verified: checksums of %u files; %llu events, hash chain and Merkle tree; head as in the backup's manifest\n",
              result.verification.backup.file_count,
              static_cast<unsigned long long>(result.verification.verified_events));
  if (checked.latest_signed_head.has_value()) {
    std::printf("  latest signed head in the log: tree size %llu, signed %s, key %s%s\n",
                static_cast<unsigned long long>(checked.latest_signed_head->head.tree_size),
                Utc(checked.latest_signed_head->head.timestamp_micros).c_str(),
                checked.latest_signed_head->key_id.c_str(),
                absl::GetFlag(FLAGS_sign_heads) ? " (signature verified)" : " (not verified: --sign_heads=false)");
  } else {
    std::printf("  latest signed head in the log: none\n");
  }
  for (const std::string& rollback : checked.rollbacks) {
    std::printf("  ROLLBACK (allowed by --allow_rollback): %s\n", rollback.c_str());
  }
  std::printf("  head witness %s: %s\n", witness_path.c_str(), witness.c_str());
  std::printf("start the server normally: ledgerd --data_dir=%s\n", data_dir.c_str());
}

// `ledgerd --restore_from`: restores, checks, prints a summary; the exit code.
int RunRestore(const std::string& data_dir, const std::string& witness_path) {
  absl::StatusOr<std::string> public_key = RestorePublicKey(data_dir);
  if (!public_key.ok()) {
    LEDGER_LOG_ERROR("restore refused: %s", public_key.status().ToString());
    return 1;
  }
  ledger::attest::RestoreCheckOptions check;
  check.public_key = *public_key;
  check.witness_path = witness_path;
  check.published_head_path = absl::GetFlag(FLAGS_published_head);
  check.allow_rollback = absl::GetFlag(FLAGS_allow_rollback);
  ledger::attest::RestoreCheckResult checked;
  ledger::RestoreBackupOptions options;
  options.backup_dir = absl::GetFlag(FLAGS_restore_from);
  options.backup_id = absl::GetFlag(FLAGS_backup_id);
  options.data_dir = data_dir;
  options.check = [&](ledger::EventLog& restored) {
    absl::StatusOr<ledger::attest::RestoreCheckResult> result = ledger::attest::CheckRestoredLog(restored, check);
    if (!result.ok()) return result.status();
    checked = *std::move(result);
    return absl::OkStatus();
  };
  LEDGER_LOG_INFO("restoring %s from %s into %s", options.backup_id == 0 ? std::string("the latest backup")
                                                      : absl::StrCat("backup ", options.backup_id),
                  options.backup_dir, data_dir);
  absl::StatusOr<ledger::RestoreResult> result = ledger::RestoreBackup(options);
  if (!result.ok()) {
    LEDGER_LOG_ERROR("restore refused: %s", result.status().ToString());
    return 1;
  }
  for (const std::string& rollback : checked.rollbacks) {
    LEDGER_LOG_ERROR("ROLLBACK allowed by --allow_rollback: %s", rollback);
  }
  absl::StatusOr<std::string> witness = ReplaceWitness(witness_path, checked);
  if (!witness.ok()) {
    LEDGER_LOG_ERROR("restored into %s, but the head witness was not updated: %s", data_dir,
                     witness.status().ToString());
    return 1;
  }
  PrintRestoreSummary(*result, checked, data_dir, witness_path, *witness);
  return 0;
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
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  const bool sign_heads = absl::GetFlag(FLAGS_sign_heads);
  const std::string witness_path = OrDefault(absl::GetFlag(FLAGS_head_witness), data_dir, ".head-witness");
  if (!absl::GetFlag(FLAGS_restore_from).empty()) return RunRestore(data_dir, witness_path);
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
  if (absl::Status status = SecurityFromFlags(data_dir, &server_options); !status.ok()) {
    LEDGER_LOG_ERROR("%s", status.ToString());
    return 1;
  }
  server_options.attestation.signer = signer.get();
  server_options.attestation.publisher.witness_path = witness_path;
  server_options.attestation.publisher.interval = absl::Milliseconds(absl::GetFlag(FLAGS_head_interval_ms));
  if (int64_t retry_ms = absl::GetFlag(FLAGS_write_retry_interval_ms); retry_ms > 0) {
    ledger::ClosableEventLog* resumable = log->get();
    server_options.write_recovery.resume = [resumable] { return resumable->ResumeWrites(); };
    server_options.write_recovery.retry_interval = absl::Milliseconds(retry_ms);
  } else if (retry_ms < 0) {
    LEDGER_LOG_ERROR("write_retry_interval_ms: must be 0 (never) or a positive number of milliseconds");
    return 1;
  }
  std::unique_ptr<ledger::MemoryTrimmer> trimmer;
  if (int64_t trim_ms = absl::GetFlag(FLAGS_memory_trim_interval_ms); trim_ms > 0) {
    trimmer = std::make_unique<ledger::MemoryTrimmer>(absl::Milliseconds(trim_ms));
  } else if (trim_ms < 0) {
    LEDGER_LOG_ERROR("memory_trim_interval_ms: must be 0 (never) or a positive number of milliseconds");
    return 1;
  }
  server_options.admin.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  server_options.admin.staging_dir = OrDefault("", data_dir, ".backup-staging");
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
  while (signal_number == SIGHUP) {
    if (absl::Status status = (*server)->ReloadPrincipals(); !status.ok()) {
      LEDGER_LOG_ERROR("SIGHUP: principals NOT reloaded, the previous ones stay in force: %s",
                       status.ToString());
    }
    signal_number = WaitForTerminationSignal(signals);
  }
  LEDGER_LOG_INFO("signal %d: shutting down; in-flight appends finish first", signal_number);
  (*server)->Shutdown(absl::Milliseconds(absl::GetFlag(FLAGS_shutdown_grace_ms)));
  (*log)->Close();
  head = (*log)->GetHead();
  LEDGER_LOG_INFO("ledgerd stopped cleanly at head position %d", head.position);
  return 0;
}
