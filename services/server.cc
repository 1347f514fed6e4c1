#include "services/server.h"

#include "absl/strings/str_cat.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "ledger/limits.h"
#include "ledger/util/log.h"
#include "services/server_limits.h"

namespace ledger::services {

inline constexpr char kLedgerServiceName[] = "ledger.v1.LedgerService";
inline constexpr char kReportServiceName[] = "sakip.v1.ReportService";
inline constexpr char kAuditServiceName[] = "sakip.v1.AuditService";
inline constexpr char kAdminServiceName[] = "ledger.v1.AdminService";

namespace {

void SetServing(grpc::HealthCheckServiceInterface* health, bool serving) {
  health->SetServingStatus("", serving);
  health->SetServingStatus(kLedgerServiceName, serving);
  health->SetServingStatus(kReportServiceName, serving);
  health->SetServingStatus(kAuditServiceName, serving);
  health->SetServingStatus(kAdminServiceName, serving);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const TlsOptions& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(
      tls.client_ca.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
      : tls.require_client_certificate
          ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
          // Clients without a certificate may still present a bearer token;
          // a certificate that is presented must verify.
          : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  ssl.pem_root_certs = tls.client_ca;
  ssl.pem_key_cert_pairs.push_back({tls.private_key, tls.cert_chain});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

bool IsLoopbackAddress(std::string_view listen_address) {
  size_t colon = listen_address.rfind(':');
  std::string_view host = colon == std::string_view::npos ? listen_address : listen_address.substr(0, colon);
  return host == "localhost" || host == "[::1]" || host == "::1" || host.substr(0, 4) == "127.";
}

absl::StatusOr<std::unique_ptr<LedgerServer>> LedgerServer::Start(EventLog* log,
                                                                   const ServerOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  if (options.access.authentication && !options.tls.enabled()) {
    return absl::InvalidArgumentError(
        "principals: authentication needs TLS (bearer tokens and client certificates must not "
        "travel in clear); give a server certificate and key");
  }
  std::unique_ptr<LedgerServer> server(new LedgerServer());
  absl::StatusOr<std::unique_ptr<AccessControl>> access = AccessControl::Create(options.access);
  if (!access.ok()) return access.status();
  server->access_ = *std::move(access);
  server->service_ = std::make_unique<LedgerServiceImpl>(log, options.service, server->access_.get());
  server->sakip_ = std::make_unique<SakipLedger>(log);
  server->report_service_ = std::make_unique<ReportServiceImpl>(log, server->sakip_.get(),
                                                                server->access_.get());
  if (absl::Status status = server->StartAttestation(log, options.attestation); !status.ok()) {
    return status;
  }
  attest::BundleSources attestation{log, server->sakip_.get(), server->publisher_.get(),
                                    server->sealer_.get()};
  server->audit_service_ = std::make_unique<AuditServiceImpl>(attestation, server->access_.get(),
                                                              options.service.subscription_poll);
  server->admin_service_ = std::make_unique<AdminServiceImpl>(dynamic_cast<ClosableEventLog*>(log),
                                                              options.admin, server->access_.get());
  size_t colon = options.listen_address.rfind(':');
  server->host_ = colon == std::string::npos ? options.listen_address
                                             : options.listen_address.substr(0, colon);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, ServerCredentials(options.tls),
                           &server->port_);
  builder.RegisterService(server->service_.get());
  builder.RegisterService(server->report_service_.get());
  builder.RegisterService(server->audit_service_.get());
  builder.RegisterService(server->admin_service_.get());
  ApplyServerLimits(&builder);
  server->calls_ = std::make_unique<CallsInFlight>();
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(server->calls_->NewInterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("listen: cannot listen on '", options.listen_address, "'"));
  }
  SetServing(server->server_->GetHealthCheckService(), true);
  server->WatchWrites(log, options.write_recovery);
  return server;
}

// Keeps the kWritesHealthName entry in step with the log's write state and,
// while a failed write keeps the log refusing, asks it to resume every
// retry_interval. Transitions are logged once, not on every look.
void LedgerServer::WatchWrites(EventLog* log, WriteRecoveryOptions options) {
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  const WriteState initial = log->GetWriteState();
  health->SetServingStatus(kWritesHealthName, initial.writable);
  write_watcher_ = std::thread([this, log, health, options = std::move(options), initial] {
    bool writable = initial.writable;
    absl::Time next_retry = absl::Now();
    absl::MutexLock lock(&watch_mu_);
    while (!watch_mu_.AwaitWithTimeout(absl::Condition(&watch_stopping_), options.check_interval)) {
      WriteState state = log->GetWriteState();
      if (state.writable != writable) {
        writable = state.writable;
        health->SetServingStatus(kWritesHealthName, writable);
        if (writable) LEDGER_LOG_INFO("the ledger accepts writes again");
        if (!writable) LEDGER_LOG_ERROR("the ledger refuses writes, reads go on: %s", state.refusal_reason);
        next_retry = absl::Now() + options.retry_interval;
      }
      if (writable || !state.recoverable || !options.resume || absl::Now() < next_retry) continue;
      next_retry = absl::Now() + options.retry_interval;
      watch_mu_.Unlock();  // a reopen takes a while; Shutdown must not wait on the lock
      absl::Status resumed = options.resume();
      watch_mu_.Lock();
      if (!resumed.ok()) {
        LEDGER_LOG_WARN("writes not resumed (next try in %s): %s",
                        absl::FormatDuration(options.retry_interval), resumed.ToString());
      }
    }
  });
}

absl::Status LedgerServer::StartAttestation(EventLog* log, const AttestationOptions& options) {
  if (options.signer == nullptr) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<attest::HeadPublisher>> publisher =
      attest::HeadPublisher::Start(log, options.signer, options.publisher);
  if (!publisher.ok()) return publisher.status();
  publisher_ = *std::move(publisher);
  absl::StatusOr<std::unique_ptr<attest::ReportSealer>> sealer =
      attest::ReportSealer::Start(log, sakip_.get(), publisher_.get());
  if (!sealer.ok()) return sealer.status();
  sealer_ = *std::move(sealer);
  return absl::OkStatus();
}

std::string LedgerServer::address() const { return absl::StrCat(host_, ":", port_); }

void LedgerServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  SetServing(server_->GetHealthCheckService(), false);
  server_->GetHealthCheckService()->SetServingStatus(kWritesHealthName, false);
  {
    absl::MutexLock lock(&watch_mu_);
    watch_stopping_ = true;
  }
  if (write_watcher_.joinable()) write_watcher_.join();
  service_->BeginShutdown();
  audit_service_->BeginShutdown();
  const absl::Time deadline = absl::Now() + grace;
  std::thread stopping([this, deadline] { server_->Shutdown(absl::ToChronoTime(deadline)); });
  // gRPC's graceful shutdown would also wait, up to the deadline, for idle
  // clients to close their connections (calls_in_flight.h); once every call
  // has ended, close them now. A call that slips in meanwhile is cancelled,
  // as it would be at the deadline.
  calls_->AwaitNone(deadline);
  grpc_server_cancel_all_calls(server_->c_server());
  stopping.join();
  server_->Wait();
  if (sealer_ != nullptr) sealer_->Stop();
  if (publisher_ != nullptr) {
    publisher_->Stop();
    absl::StatusOr<attest::PublishedHead> last = publisher_->PublishNow();
    if (!last.ok()) LEDGER_LOG_WARN("no last tree head signed at shutdown: %s", last.status().ToString());
  }
}

LedgerServer::~LedgerServer() { Shutdown(absl::Seconds(5)); }

}  // namespace ledger::services
