// absl::Status <-> grpc::Status. The codes share numbering (google.rpc.Code).
#ifndef SERVICES_STATUS_MAPPING_H_
#define SERVICES_STATUS_MAPPING_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace ledger::services {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace ledger::services

#endif  // SERVICES_STATUS_MAPPING_H_
