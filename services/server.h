// A gRPC server around an EventLog: the LedgerService, the SAKIP
// ReportService (over a SakipLedger the server owns, on the same log), the
// AuditService, health
// checking and reflection. Used by ledgerd and by tests (port 0 picks a free port).
//
// Thread-safety: Start, then Shutdown once from any thread; port() anytime.
#ifndef SERVICES_SERVER_H_
#define SERVICES_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/event_log.h"
#include "services/audit_service.h"
#include "services/ledger_service.h"
#include "services/report_service.h"

namespace ledger::services {

struct ServerOptions {
  // host:port; port 0 picks a free port (see LedgerServer::port()).
  std::string listen_address = "127.0.0.1:7070";
  LedgerServiceOptions service;
};

class LedgerServer {
 public:
  static absl::StatusOr<std::unique_ptr<LedgerServer>> Start(EventLog* log,
                                                             const ServerOptions& options);
  ~LedgerServer();

  int port() const { return port_; }
  std::string address() const;

  // Stops accepting calls, ends subscriptions, lets in-flight calls finish for
  // up to `grace`, then cancels what is left. Idempotent.
  void Shutdown(absl::Duration grace);

 private:
  LedgerServer() = default;
  std::string host_;
  int port_ = 0;
  std::unique_ptr<LedgerServiceImpl> service_;
  std::unique_ptr<SakipLedger> sakip_;
  std::unique_ptr<ReportServiceImpl> report_service_;
  std::unique_ptr<AuditServiceImpl> audit_service_;
  std::unique_ptr<grpc::Server> server_;
  bool shut_down_ = false;
};

}  // namespace ledger::services

#endif  // SERVICES_SERVER_H_
