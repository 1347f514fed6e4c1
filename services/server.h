// A gRPC server around an EventLog: the LedgerService, the SAKIP
// ReportService (over a SakipLedger the server owns, on the same log), the
// AuditService, health checking and reflection; with a signer, also the head
// publisher and the report sealer (ledger/attest) that the AuditService's
// signed heads and auditor bundles come from; the AdminService (online
// backups, when a backup directory is given). Used by ledgerd and by tests
// (port 0 picks a free port).
//
// Thread-safety: Start, then Shutdown once from any thread; port() anytime.
#ifndef SERVICES_SERVER_H_
#define SERVICES_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "ledger/attest/head_publisher.h"
#include "ledger/attest/report_sealer.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/event_log.h"
#include "services/access.h"
#include "services/admin_service.h"
#include "services/audit_service.h"
#include "services/calls_in_flight.h"
#include "services/ledger_service.h"
#include "services/report_service.h"

namespace ledger::services {

// Signed tree heads and report seals (ledger/attest). Off without a signer.
struct AttestationOptions {
  const HeadSigner* signer = nullptr;  // outlives the server
  attest::HeadPublisherOptions publisher;
};

// TLS on the listening port (PEM text, not paths). Off when cert_chain is
// empty. With client_ca, clients may present a certificate that must verify
// against it (mutual TLS); with require_client_certificate they must.
struct TlsOptions {
  std::string cert_chain;
  std::string private_key;
  std::string client_ca;
  bool require_client_certificate = false;
  bool enabled() const { return !cert_chain.empty(); }
};

// What the server does while the log refuses writes after a failed write
// (docs/DURABILITY.md): the health entry kWritesHealthName is NOT_SERVING,
// the log says why once, and the log is asked to resume every
// `retry_interval` (it reopens the database and re-verifies; see
// ClosableEventLog::ResumeWrites) until it accepts writes again.
struct WriteRecoveryOptions {
  // Resumes writes (ledgerd: the log's ResumeWrites); empty: never retried.
  std::function<absl::Status()> resume;
  absl::Duration retry_interval = absl::Seconds(5);
  // How often the write state is looked at.
  absl::Duration check_interval = absl::Milliseconds(250);
};

// The health-checking entry that says whether the ledger accepts writes.
// "" and the three services stay SERVING while reads are served.
inline constexpr char kWritesHealthName[] = "ledger.writes";

struct ServerOptions {
  // host:port; port 0 picks a free port (see LedgerServer::port()).
  std::string listen_address = "127.0.0.1:7070";
  LedgerServiceOptions service;
  AttestationOptions attestation;
  TlsOptions tls;
  AccessOptions access;
  WriteRecoveryOptions write_recovery;
  // Backups (AdminService); off without a backup directory. Backups need the
  // log to be a ClosableEventLog (the RocksDB log).
  AdminOptions admin;
};

// Whether `listen_address` ("host:port") binds loopback only.
bool IsLoopbackAddress(std::string_view listen_address);

class LedgerServer {
 public:
  static absl::StatusOr<std::unique_ptr<LedgerServer>> Start(EventLog* log,
                                                             const ServerOptions& options);
  ~LedgerServer();

  int port() const { return port_; }
  std::string address() const;

  // Stops accepting calls, ends subscriptions, lets in-flight calls finish for
  // up to `grace`, then cancels what is left and closes every connection (at
  // once when no call is in flight: idle clients are not waited for); then
  // stops sealing and signs a last head covering everything acknowledged.
  // Idempotent.
  void Shutdown(absl::Duration grace);

  // Re-reads the principals file (SIGHUP); on error the principals in force
  // stay and the error says why.
  absl::Status ReloadPrincipals() { return access_->Reload(); }
  AccessControl* access() const { return access_.get(); }

 private:
  LedgerServer() = default;
  absl::Status StartAttestation(EventLog* log, const AttestationOptions& options);
  void WatchWrites(EventLog* log, WriteRecoveryOptions options);
  std::string host_;
  int port_ = 0;
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<LedgerServiceImpl> service_;
  std::unique_ptr<SakipLedger> sakip_;
  std::unique_ptr<attest::HeadPublisher> publisher_;  // null without a signer
  std::unique_ptr<attest::ReportSealer> sealer_;
  std::unique_ptr<ReportServiceImpl> report_service_;
  std::unique_ptr<AuditServiceImpl> audit_service_;
  std::unique_ptr<AdminServiceImpl> admin_service_;
  std::unique_ptr<CallsInFlight> calls_;  // outlives server_ (declared before it)
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;

  // The write watcher (WatchWrites): stopped by Shutdown.
  absl::Mutex watch_mu_;
  bool watch_stopping_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::thread write_watcher_;
};

}  // namespace ledger::services

#endif  // SERVICES_SERVER_H_
