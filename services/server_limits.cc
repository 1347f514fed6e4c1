// gRPC server limits (see server_limits.h); the values and their reasons are
// in ledger/limits.h.
#include "services/server_limits.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "grpcpp/resource_quota.h"
#include "ledger/limits.h"
#include "ledger/util/strings.h"

namespace ledger::services {

void ApplyServerLimits(grpc::ServerBuilder* builder) {
  // Messages: a request up to one full append, a reply up to one page.
  builder->SetMaxReceiveMessageSize(static_cast<int>(limits::kMaxGrpcReceiveBytes));
  builder->SetMaxSendMessageSize(static_cast<int>(limits::kMaxGrpcSendBytes));
  // Headers: gRPC 1.51 has one metadata limit (no soft/absolute pair); a call
  // past it is refused before any handler runs.
  builder->AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, limits::kGrpcMaxMetadataBytes);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS,
                              limits::kGrpcMaxConcurrentStreamsPerConnection);

  // One quota for the whole server: the transport's buffers and the sync
  // server's threads. The builder keeps its own reference.
  grpc::ResourceQuota quota("ledgerd");
  quota.Resize(limits::kGrpcMemoryQuotaBytes);
  quota.SetMaxThreads(limits::kGrpcMaxThreads);
  builder->SetResourceQuota(quota);
  // Appenders block until their group commit syncs: enough pollers that
  // they join one group commit instead of queueing (limits.h).
  builder->SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                               limits::kGrpcMaxPollers);

  builder->AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                              static_cast<int>(limits::kGrpcHandshakeTimeoutMillis));
  // Our pings find dead peers; the client's pings are rate-limited.
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                              static_cast<int>(limits::kGrpcKeepaliveTimeMillis));
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                              static_cast<int>(limits::kGrpcKeepaliveTimeoutMillis));
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              static_cast<int>(limits::kGrpcMinClientPingIntervalMillis));
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, limits::kGrpcMaxPingStrikes);
  // A client pinging a connection with no call open earns strikes: such a
  // connection is idle and gets closed below anyway.
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  builder->AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                              static_cast<int>(limits::kGrpcMaxConnectionIdleMillis));
  // No maximum connection age: one server with no load balancer in front
  // gains nothing from connections cycling, and a GOAWAY would only make a
  // follower reconnect.
}

absl::Time OperationDeadline(const grpc::ServerContextBase& context, absl::Time now) {
  const absl::Time longest = now + absl::Seconds(limits::kMaxOperationDeadlineSeconds);
  const std::chrono::system_clock::time_point client = context.deadline();
  // gRPC reports "no deadline" as the largest time point.
  if (client == std::chrono::system_clock::time_point::max()) {
    return now + absl::Seconds(limits::kDefaultOperationDeadlineSeconds);
  }
  return std::min(absl::FromChrono(client), longest);
}

absl::Status CheckOperationDeadline(absl::Time deadline, std::string_view what) {
  if (absl::Now() < deadline) return absl::OkStatus();
  return absl::DeadlineExceededError(absl::StrCat(
      Absl(what), ": stopped at the call's deadline (the client's, at most ",
      limits::kMaxOperationDeadlineSeconds, " s, or ", limits::kDefaultOperationDeadlineSeconds,
      " s when the client set none); narrow the request or allow more time"));
}

}  // namespace ledger::services
