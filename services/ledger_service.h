// LedgerService: the thin gRPC adapter over the EventLog.
//
// It converts protos to core types, calls the log, converts back and maps
// absl::Status to grpc::Status. No storage code here: services/ never
// includes RocksDB.
//
// Thread-safety: gRPC calls the handlers from its thread pool concurrently;
// the EventLog and AccessControl are thread-safe and the service holds no
// other mutable state except the shutdown flag.
//
// Access (docs/ACCESS.md): raw appends need an admin whose scope is "*" (and
// never carry SAKIP events: those go through ReportService, which validates
// them); reading a unit-year stream needs the unit in scope;
// the whole log (ReadAll, Subscribe, other streams) needs scope "*"; heads
// and "$tree-heads" are open to every authenticated caller.
#ifndef SERVICES_LEDGER_SERVICE_H_
#define SERVICES_LEDGER_SERVICE_H_

#include <atomic>
#include <string>

#include "ledger/store/event_log.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "services/access.h"

namespace ledger::services {

struct LedgerServiceOptions {
  // How often a waiting subscription handler checks for cancellation.
  absl::Duration subscription_poll = absl::Milliseconds(200);
};

// Append is served with gRPC's callback API: an append waiting for its group
// commit holds no server thread (the log completes it from its writer). The
// other methods are short or stream, and use the synchronous API.
class LedgerServiceImpl final
    : public v1::LedgerService::WithCallbackMethod_Append<v1::LedgerService::Service> {
 public:
  // `access` outlives the service.
  LedgerServiceImpl(EventLog* log, LedgerServiceOptions options, AccessControl* access);

  // Ends live subscriptions so that the server can shut down.
  void BeginShutdown() { shutting_down_.store(true); }

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const v1::AppendRequest* request,
                                   v1::AppendResponse* response) override;
  grpc::Status ReadStream(grpc::ServerContext* context, const v1::ReadStreamRequest* request,
                          v1::ReadResponse* response) override;
  grpc::Status ReadAll(grpc::ServerContext* context, const v1::ReadAllRequest* request,
                       v1::ReadResponse* response) override;
  grpc::Status GetEvent(grpc::ServerContext* context, const v1::GetEventRequest* request,
                        v1::GetEventResponse* response) override;
  grpc::Status GetPositionAt(grpc::ServerContext* context, const v1::GetPositionAtRequest* request,
                             v1::GetPositionAtResponse* response) override;
  grpc::Status GetHead(grpc::ServerContext* context, const v1::GetHeadRequest* request,
                       v1::GetHeadResponse* response) override;
  grpc::Status Subscribe(grpc::ServerContext* context, const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::SubscribeResponse>* writer) override;
  grpc::Status Verify(grpc::ServerContext* context, const v1::VerifyRequest* request,
                      v1::VerifyResponse* response) override;

 private:
  // The action reading `stream_id` needs, and the unit it concerns.
  static std::pair<auth::Action, std::string> ReadActionFor(std::string_view stream_id);

  EventLog* const log_;
  const LedgerServiceOptions options_;
  AccessControl* const access_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace ledger::services

#endif  // SERVICES_LEDGER_SERVICE_H_
