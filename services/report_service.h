// ReportService: the thin gRPC adapter over SakipLedger (sakip.v1.ReportService).
//
// It converts protos to core types, calls the SAKIP ledger (which validates
// events against their unit-year before appending, and computes reports and
// reconciliations as pure folds), converts the results back, and maps
// absl::Status to grpc::Status. No storage code here: services/ never
// includes RocksDB.
//
// Thread-safety: gRPC calls the handlers concurrently; SakipLedger and the
// EventLog are thread-safe and the service holds no mutable state.
#ifndef SERVICES_REPORT_SERVICE_H_
#define SERVICES_REPORT_SERVICE_H_

#include <string>

#include "ledger/sakip/sakip_ledger.h"
#include "services/access.h"
#include "ledger/store/event_log.h"
#include "sakip/v1/report_service.grpc.pb.h"

namespace ledger::services {

class ReportServiceImpl final : public ::sakip::v1::ReportService::Service {
 public:
  // `log`, `sakip` and `access` outlive the service. Every event is recorded
  // with the authenticated caller as its actor; each event needs the role its
  // type calls for, for its unit (auth::ActionForEvent), and the ledger
  // applies the four-eyes rules to the caller.
  ReportServiceImpl(EventLog* log, SakipLedger* sakip, AccessControl* access);

  // Synchronous handler: the append waits for its group commit on a server
  // thread (a RecordEvents call folds its unit-year first, so it is never
  // cheap enough for the callback API to matter).
  grpc::Status RecordEvents(grpc::ServerContext* context,
                            const ::sakip::v1::RecordEventsRequest* request,
                            ::sakip::v1::RecordEventsResponse* response) override;
  grpc::Status GetReport(grpc::ServerContext* context,
                         const ::sakip::v1::GetReportRequest* request,
                         ::sakip::v1::GetReportResponse* response) override;
  grpc::Status Reconcile(grpc::ServerContext* context,
                         const ::sakip::v1::ReconcileRequest* request,
                         ::sakip::v1::ReconcileResponse* response) override;

 private:
  // The global position `request` asks for (head when as_of is unset), so
  // the report and its as_of_position describe the same moment.
  absl::StatusOr<uint64_t> ResolveAsOf(const ::sakip::v1::GetReportRequest& request) const;

  EventLog* const log_;
  SakipLedger* const sakip_;
  AccessControl* const access_;
};

}  // namespace ledger::services

#endif  // SERVICES_REPORT_SERVICE_H_
