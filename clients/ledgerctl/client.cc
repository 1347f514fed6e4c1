// Implementation of the connection to ledgerd (see client.h).
#include "clients/ledgerctl/client.h"

#include <chrono>

#include "clients/ledgerctl/errors.h"

namespace ledgerctl {

namespace {

std::shared_ptr<grpc::ChannelCredentials> Credentials(const Connection& connection) {
  if (connection.tls_ca.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = connection.tls_ca;
  ssl.pem_cert_chain = connection.tls_cert;
  ssl.pem_private_key = connection.tls_key;
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  if (connection.token.empty()) return credentials;
  // "authorization: Bearer <token>" on every call of the channel.
  return grpc::CompositeChannelCredentials(credentials,
                                           grpc::AccessTokenCredentials(connection.token));
}

}  // namespace

Client::Client(const Connection& connection)
    : server_(connection.server), timeout_ms_(connection.timeout_ms) {
  grpc::ChannelArguments arguments;
  // A page, even with stored bytes, stays below 4 MiB; leave headroom.
  arguments.SetMaxReceiveMessageSize(8 << 20);
  if (!connection.tls_server_name.empty()) {
    arguments.SetSslTargetNameOverride(connection.tls_server_name);
  }
  channel_ = grpc::CreateCustomChannel(server_, Credentials(connection), arguments);
  stub_ = ledger::v1::LedgerService::NewStub(channel_);
  reports_ = sakip::v1::ReportService::NewStub(channel_);
  audit_ = sakip::v1::AuditService::NewStub(channel_);
  admin_ = ledger::v1::AdminService::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Client::UnaryContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::milliseconds(timeout_ms_));
  return context;
}

void Client::Check(const grpc::Status& status) {
  if (status.ok()) return;
  const std::string code = StatusCodeName(status.error_code());
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    throw CliError(kExitUnavailable, code + ": cannot reach ledgerd at " + server_ + ": " +
                                         status.error_message());
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
      channel_->GetState(false) != GRPC_CHANNEL_READY) {
    throw CliError(kExitUnavailable, code + ": could not connect to ledgerd at " + server_ +
                                         " within --timeout-ms=" + std::to_string(timeout_ms_));
  }
  throw CliError(kExitServerError, code + ": " + status.error_message());
}

bool Client::Connected() const { return channel_->GetState(false) == GRPC_CHANNEL_READY; }

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "CANCELLED";
    case grpc::StatusCode::UNKNOWN: return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND: return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED: return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL: return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS: return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "CODE_" + std::to_string(static_cast<int>(code));
  }
}

}  // namespace ledgerctl
