// Access control at the gRPC boundary: who is calling (from the connection
// only: a verified client certificate, or a bearer token over TLS), whether
// the policy (ledger/auth/policy.h) lets them take the call's action for the
// unit the request names, and a record of every refusal (the denied-attempt
// log and its counters).
//
// Every handler of every service starts with Check (or Identify, then Check
// once the unit is known); the authorization matrix test
// (tests/authorization_matrix_test.cc) proves no method was left out.
//
// With authentication off (a server on loopback for development, or
// --insecure), every call is the one local principal: every role, scope "*",
// no NIP, and the four-eyes rules off (one identity cannot be two people).
//
// Thread-safety: thread-safe. The principal directory is swapped whole on
// Reload; a call keeps the directory it was authenticated with (Caller holds
// it) until it ends.
#ifndef SERVICES_ACCESS_H_
#define SERVICES_ACCESS_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "ledger/auth/denied_log.h"
#include "ledger/auth/policy.h"
#include "ledger/auth/principals.h"
#include "ledger/sakip/sakip_ledger.h"

namespace ledger::services {

struct AccessOptions {
  // Off: every call is `local_actor` with every role (see above).
  bool authentication = false;
  std::string local_actor = "local:ledgerd";
  // The principals file (ledger.v1.PrincipalsFile in JSON); required with
  // authentication.
  std::string principals_path;
  // The denied-attempt log file; empty keeps attempts in memory only.
  std::string denied_log_path;
};

// An authenticated caller, valid for the duration of one call.
class Caller {
 public:
  const auth::Principal& principal() const { return *principal_; }
  // How the ledger records this caller's events.
  Recorder recorder() const;

 private:
  friend class AccessControl;
  std::shared_ptr<const auth::PrincipalDirectory> directory_;  // keeps principal_ alive
  const auth::Principal* principal_ = nullptr;
  bool separation_of_duties_ = true;
};

class AccessControl {
 public:
  static absl::StatusOr<std::unique_ptr<AccessControl>> Create(const AccessOptions& options);

  // Re-reads the principals file. On error the principals in force stay and
  // the error says why. A no-op with authentication off.
  absl::Status Reload();

  // Identifies the caller; UNAUTHENTICATED (recorded) if it cannot be.
  grpc::Status Identify(grpc::ServerContextBase* context, std::string_view method,
                        std::string_view unit, Caller* caller);
  // Identifies the caller and authorizes `action` for `unit` ("" when the
  // request names none); PERMISSION_DENIED (recorded) if not allowed.
  grpc::Status Check(grpc::ServerContextBase* context, std::string_view method,
                     auth::Action action, std::string_view unit, Caller* caller);
  // Authorizes an identified caller (e.g. per event of a RecordEvents).
  grpc::Status Authorize(grpc::ServerContextBase* context, std::string_view method,
                         const Caller& caller, auth::Action action, std::string_view unit);
  // Records a refusal decided elsewhere (a four-eyes rule in the ledger, a
  // per-principal limit) with the caller's name.
  void RecordDenied(grpc::ServerContextBase* context, std::string_view method,
                    std::string_view principal, std::string_view unit, const absl::Status& why);

  // A live subscription of `caller`, released when the slot is destroyed;
  // RESOURCE_EXHAUSTED (recorded) past limits::kMaxSubscriptionsPerPrincipal.
  class SubscriptionSlot {
   public:
    SubscriptionSlot() = default;
    SubscriptionSlot(SubscriptionSlot&& other) noexcept { *this = std::move(other); }
    SubscriptionSlot& operator=(SubscriptionSlot&& other) noexcept;
    ~SubscriptionSlot();

   private:
    friend class AccessControl;
    AccessControl* owner_ = nullptr;
    std::string principal_;
  };
  grpc::Status AcquireSubscription(grpc::ServerContextBase* context, std::string_view method,
                                   const Caller& caller, SubscriptionSlot* slot);

  bool authentication() const { return options_.authentication; }
  auth::DeniedLog* denied_log() const { return denied_log_.get(); }

 private:
  explicit AccessControl(AccessOptions options) : options_(std::move(options)) {}
  absl::Status Authenticate(grpc::ServerContextBase* context, Caller* caller);
  void Release(const std::string& principal);

  const AccessOptions options_;
  std::unique_ptr<auth::DeniedLog> denied_log_;
  auth::Principal local_principal_;  // authentication off

  absl::Mutex log_mu_;
  absl::Time last_logged_ ABSL_GUARDED_BY(log_mu_) = absl::InfinitePast();
  uint64_t suppressed_ ABSL_GUARDED_BY(log_mu_) = 0;

  absl::Mutex mu_;
  std::shared_ptr<const auth::PrincipalDirectory> directory_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, size_t> subscriptions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ledger::services

#endif  // SERVICES_ACCESS_H_
