// AuditService: the thin gRPC adapter over ledger/audit (sakip.v1.AuditService):
// history, explain, diff, late entries, and the filtered replay stream.
//
// Converts protos to core types, calls AuditLedger / FilteredReplay, converts
// back, and maps absl::Status to grpc::Status. No storage code here.
//
// Thread-safety: gRPC calls the handlers concurrently; the core is
// thread-safe and the service holds no mutable state besides the shutdown flag.
#ifndef SERVICES_AUDIT_SERVICE_H_
#define SERVICES_AUDIT_SERVICE_H_

#include <atomic>

#include "absl/time/time.h"
#include "ledger/attest/bundle_builder.h"
#include "ledger/audit/audit_ledger.h"
#include "ledger/store/event_log.h"
#include "services/access.h"
#include "sakip/v1/audit_service.grpc.pb.h"

namespace ledger::services {

class AuditServiceImpl final : public ::sakip::v1::AuditService::Service {
 public:
  // `attestation` (its log included; a null publisher means no signed heads
  // or bundles) and `access` outlive the service. A replay wakes every
  // `replay_poll` to notice a cancelled call or a shutdown.
  AuditServiceImpl(const attest::BundleSources& attestation, AccessControl* access,
                   absl::Duration replay_poll)
      : log_(attestation.log), audit_(attestation.log), replay_poll_(replay_poll),
        attestation_(attestation), access_(access) {}

  grpc::Status GetHistory(grpc::ServerContext* context, const ::sakip::v1::GetHistoryRequest* request,
                          ::sakip::v1::GetHistoryResponse* response) override;
  grpc::Status ExplainFigure(grpc::ServerContext* context, const ::sakip::v1::ExplainFigureRequest* request,
                             ::sakip::v1::ExplainFigureResponse* response) override;
  grpc::Status DiffReport(grpc::ServerContext* context, const ::sakip::v1::DiffReportRequest* request,
                          ::sakip::v1::DiffReportResponse* response) override;
  grpc::Status ListLateEntries(grpc::ServerContext* context, const ::sakip::v1::ListLateEntriesRequest* request,
                               ::sakip::v1::ListLateEntriesResponse* response) override;
  // Streams chunks until the replay ends (without follow), the client goes
  // away, or the server shuts down (UNAVAILABLE naming the position to resume
  // from).
  grpc::Status Replay(grpc::ServerContext* context, const ::sakip::v1::ReplayRequest* request,
                      grpc::ServerWriter<::sakip::v1::ReplayResponse>* writer) override;

  grpc::Status GetTreeRoot(grpc::ServerContext* context, const ::sakip::v1::GetTreeRootRequest* request,
                           ::sakip::v1::GetTreeRootResponse* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context, const ::sakip::v1::GetInclusionProofRequest* request,
                                 ::sakip::v1::GetInclusionProofResponse* response) override;
  grpc::Status GetConsistencyProof(grpc::ServerContext* context,
                                   const ::sakip::v1::GetConsistencyProofRequest* request,
                                   ::sakip::v1::GetConsistencyProofResponse* response) override;

  // FAILED_PRECONDITION when the server signs no heads.
  grpc::Status GetSignedTreeHead(grpc::ServerContext* context, const ::sakip::v1::GetSignedTreeHeadRequest* request,
                                 ::sakip::v1::GetSignedTreeHeadResponse* response) override;
  grpc::Status GetPublicKey(grpc::ServerContext* context, const ::sakip::v1::GetPublicKeyRequest* request,
                            ::sakip::v1::GetPublicKeyResponse* response) override;
  grpc::Status GetAuditorBundle(grpc::ServerContext* context, const ::sakip::v1::GetAuditorBundleRequest* request,
                                ::sakip::v1::GetAuditorBundleResponse* response) override;

  // The newest refused calls (the denied-attempt log) in the caller's scope,
  // and the counters since the server started.
  grpc::Status ListDeniedAttempts(grpc::ServerContext* context,
                                  const ::sakip::v1::ListDeniedAttemptsRequest* request,
                                  ::sakip::v1::ListDeniedAttemptsResponse* response) override;

  // Ends open replays (called before the server's own shutdown).
  void BeginShutdown() { shutting_down_.store(true); }

 private:
  EventLog* const log_;
  audit::AuditLedger audit_;
  const absl::Duration replay_poll_;
  const attest::BundleSources attestation_;  // publisher null: no signing
  AccessControl* const access_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace ledger::services

#endif  // SERVICES_AUDIT_SERVICE_H_
