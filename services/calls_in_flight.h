// Counts the gRPC server's calls in flight, so that a shutdown can stop as
// soon as every call has ended.
//
// Why: gRPC's graceful Server::Shutdown(deadline) also waits for each client
// to close its connection after the GOAWAY, and an idle client notices that
// only when its channel next polls (gRPC's backup poller: every 5 s by
// default, or never when it is switched off). With nothing in flight there
// is nothing left to be graceful about, so LedgerServer::Shutdown cancels
// (closes those connections) as soon as the count reaches zero instead of
// waiting out the grace period.
//
// The count comes from a server interceptor: gRPC creates one per call
// before any handler runs and destroys it when the call is over, for every
// method of every service (health checks and reflection included).
//
// Thread-safety: all members may be called from any thread.
#ifndef SERVICES_CALLS_IN_FLIGHT_H_
#define SERVICES_CALLS_IN_FLIGHT_H_

#include <cstdint>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"

namespace ledger::services {

class CallsInFlight {
 public:
  // A factory for ServerBuilder::experimental().SetInterceptorCreators. The
  // counter must outlive the server the factory is given to.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

  int64_t count() const;
  // Waits until no call is in flight or `deadline` passes; true when none is.
  bool AwaitNone(absl::Time deadline) const;

  // Called by the interceptors.
  void Started();
  void Ended();

 private:
  mutable absl::Mutex mu_;
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ledger::services

#endif  // SERVICES_CALLS_IN_FLIGHT_H_
