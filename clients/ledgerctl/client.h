// The connection to ledgerd: the channel, the stub, per-call deadlines, and
// the translation of a failed gRPC status into a CliError with an exit code.
#ifndef CLIENTS_LEDGERCTL_CLIENT_H_
#define CLIENTS_LEDGERCTL_CLIENT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "ledger/v1/admin.grpc.pb.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "sakip/v1/audit_service.grpc.pb.h"
#include "sakip/v1/report_service.grpc.pb.h"

namespace ledgerctl {

inline constexpr char kDefaultServer[] = "127.0.0.1:7070";
inline constexpr int64_t kDefaultTimeoutMs = 10000;

// How to reach ledgerd: plaintext, or TLS trusting `tls_ca`, optionally with
// a client certificate (mutual TLS) and/or a bearer token (docs/ACCESS.md).
struct Connection {
  std::string server = kDefaultServer;
  int64_t timeout_ms = kDefaultTimeoutMs;
  std::string tls_ca;           // PEM text; empty: plaintext
  std::string tls_cert;         // PEM text of the client certificate chain
  std::string tls_key;          // PEM text of its private key
  std::string tls_server_name;  // overrides the name checked in the server's certificate
  std::string token;            // bearer token; sent only over TLS
};

class Client {
 public:
  static Connection Plaintext(std::string server, int64_t timeout_ms) {
    Connection connection;
    connection.server = std::move(server);
    connection.timeout_ms = timeout_ms;
    return connection;
  }
  explicit Client(const Connection& connection);
  Client(std::string server, int64_t timeout_ms) : Client(Plaintext(std::move(server), timeout_ms)) {}

  ledger::v1::LedgerService::Stub& stub() { return *stub_; }
  sakip::v1::ReportService::Stub& reports() { return *reports_; }
  sakip::v1::AuditService::Stub& audit() { return *audit_; }
  ledger::v1::AdminService::Stub& admin() { return *admin_; }
  const std::string& server() const { return server_; }

  // A context whose deadline is now + --timeout-ms; for unary calls.
  std::unique_ptr<grpc::ClientContext> UnaryContext() const;

  // Returns if `status` is OK; otherwise throws a CliError:
  //   UNAVAILABLE, or a deadline hit before any connection -> exit 3;
  //   every other code -> exit 1. The message is "<CODE>: <server's message>".
  void Check(const grpc::Status& status);

  // True when the channel is connected: an UNAVAILABLE then came from
  // ledgerd itself ("not yet, retry"), not from a missing connection.
  bool Connected() const;

 private:
  std::string server_;
  int64_t timeout_ms_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ledger::v1::LedgerService::Stub> stub_;
  std::unique_ptr<sakip::v1::ReportService::Stub> reports_;
  std::unique_ptr<sakip::v1::AuditService::Stub> audit_;
  std::unique_ptr<ledger::v1::AdminService::Stub> admin_;
};

// "ALREADY_EXISTS" for grpc::StatusCode::ALREADY_EXISTS, and so on.
std::string StatusCodeName(grpc::StatusCode code);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_CLIENT_H_
