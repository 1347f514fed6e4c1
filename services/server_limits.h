// The gRPC server's limits against abuse, and the server-side time budget of
// a call (docs/DESIGN.md, "Limits against abuse"). Every value comes from
// ledger/limits.h, where its reason is written.
//
// Thread-safety: ApplyServerLimits before BuildAndStart, from one thread;
// OperationDeadline from any handler.
#ifndef SERVICES_SERVER_LIMITS_H_
#define SERVICES_SERVER_LIMITS_H_

#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_context.h"

namespace ledger::services {

// Sets message, metadata and stream limits, a memory and thread quota,
// keepalive enforcement and connection timeouts on `builder`.
void ApplyServerLimits(grpc::ServerBuilder* builder);

// Until when a unary call may work: min(the client's deadline, now + the
// maximum), or now + the default when the client set none. gRPC cannot bound
// a client's deadline; this bounds what the server spends on it. Not for live
// streams (Subscribe, Replay with follow), which last as long as the client
// follows.
absl::Time OperationDeadline(const grpc::ServerContextBase& context,
                             absl::Time now = absl::Now());

// DEADLINE_EXCEEDED naming `what` once `deadline` has passed, else OK. Work
// that cannot be interrupted is checked before it starts, so that a call whose
// time is already up costs nothing.
absl::Status CheckOperationDeadline(absl::Time deadline, std::string_view what);

}  // namespace ledger::services

#endif  // SERVICES_SERVER_LIMITS_H_
