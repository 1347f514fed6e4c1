#include "services/access.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"
#include "ledger/limits.h"
#include "ledger/util/log.h"
#include "ledger/util/strings.h"
#include "services/status_mapping.h"

namespace ledger::services {
namespace {

constexpr char kAuthorizationHeader[] = "authorization";
constexpr std::string_view kBearerPrefix = "Bearer ";

bool OverTls(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return false;
  for (const grpc::string_ref& value :
       auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
    if (std::string_view(value.data(), value.size()) == GRPC_SSL_TRANSPORT_SECURITY_TYPE) return true;
  }
  return false;
}

// The verified client certificate's common name, or "" when the peer sent
// none (the TLS layer refuses a certificate that does not verify).
std::string CertificateCommonName(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return "";
  for (const grpc::string_ref& value : auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME)) {
    return std::string(value.data(), value.size());
  }
  return "";
}

// The bearer token, "" if none; an error if the header is malformed.
absl::StatusOr<std::string> BearerToken(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  if (metadata.count(kAuthorizationHeader) > 1) {
    return absl::UnauthenticatedError("authorization: give one bearer token, not several");
  }
  auto it = metadata.find(kAuthorizationHeader);
  if (it == metadata.end()) return std::string();
  std::string_view value(it->second.data(), it->second.size());
  if (value.size() > limits::kMaxBearerTokenBytes) {
    return absl::UnauthenticatedError(absl::StrCat("authorization: longer than ",
                                                   limits::kMaxBearerTokenBytes, " bytes"));
  }
  if (!absl::StartsWith(Absl(value), Absl(kBearerPrefix)) || value.size() == kBearerPrefix.size()) {
    return absl::UnauthenticatedError("authorization: expected \"Bearer <token>\"");
  }
  return std::string(value.substr(kBearerPrefix.size()));
}

}  // namespace

Recorder Caller::recorder() const {
  return Recorder{principal_->name, principal_->nip, separation_of_duties_};
}

absl::StatusOr<std::unique_ptr<AccessControl>> AccessControl::Create(const AccessOptions& options) {
  std::unique_ptr<AccessControl> access(new AccessControl(options));
  absl::StatusOr<std::unique_ptr<auth::DeniedLog>> denied = auth::DeniedLog::Open(options.denied_log_path);
  if (!denied.ok()) return denied.status();
  access->denied_log_ = *std::move(denied);
  access->local_principal_.name = options.local_actor;
  access->local_principal_.roles = (1u << auth::kRoleCount) - 1;
  access->local_principal_.scopes = {auth::kEveryUnit};
  if (!options.authentication) return access;
  if (options.principals_path.empty()) {
    return absl::InvalidArgumentError("principals: a principals file is required with authentication");
  }
  absl::StatusOr<std::shared_ptr<const auth::PrincipalDirectory>> directory =
      auth::PrincipalDirectory::Load(options.principals_path);
  if (!directory.ok()) return directory.status();
  absl::MutexLock lock(&access->mu_);
  access->directory_ = *std::move(directory);
  return access;
}

absl::Status AccessControl::Reload() {
  if (!options_.authentication) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<const auth::PrincipalDirectory>> directory =
      auth::PrincipalDirectory::Load(options_.principals_path);
  if (!directory.ok()) return directory.status();
  const size_t size = (*directory)->size();
  {
    absl::MutexLock lock(&mu_);
    directory_ = *std::move(directory);
  }
  LEDGER_LOG_INFO("principals reloaded from %s: %d principals", options_.principals_path, size);
  return absl::OkStatus();
}

absl::Status AccessControl::Authenticate(grpc::ServerContextBase* context, Caller* caller) {
  if (!options_.authentication) {
    caller->principal_ = &local_principal_;
    caller->separation_of_duties_ = false;
    return absl::OkStatus();
  }
  std::shared_ptr<const auth::PrincipalDirectory> directory;
  {
    absl::MutexLock lock(&mu_);
    directory = directory_;
  }
  absl::StatusOr<std::string> token = BearerToken(*context);
  if (!token.ok()) return token.status();
  const std::string common_name = CertificateCommonName(*context);
  const auth::Principal* by_token = nullptr;
  if (!token->empty()) {
    if (!OverTls(*context)) {
      return absl::UnauthenticatedError("authorization: bearer tokens are accepted only over TLS");
    }
    by_token = directory->FindByToken(*token);
    if (by_token == nullptr) {
      return absl::UnauthenticatedError("authorization: unknown or revoked bearer token");
    }
  }
  const auth::Principal* by_certificate = nullptr;
  if (!common_name.empty()) {
    by_certificate = directory->FindByCertificate(common_name);
    if (by_certificate == nullptr && by_token == nullptr) {
      return absl::UnauthenticatedError(absl::StrCat(
          "client certificate: common name '", common_name, "' identifies no principal"));
    }
  }
  if (by_token != nullptr && by_certificate != nullptr && by_token != by_certificate) {
    return absl::UnauthenticatedError(
        absl::StrCat("the client certificate identifies principal '", by_certificate->name,
                     "' but the bearer token identifies '", by_token->name, "'"));
  }
  const auth::Principal* principal = by_token != nullptr ? by_token : by_certificate;
  if (principal == nullptr) {
    return absl::UnauthenticatedError(
        "no credentials: present a client certificate or a bearer token (authorization: Bearer ...)");
  }
  caller->directory_ = std::move(directory);
  caller->principal_ = principal;
  caller->separation_of_duties_ = true;
  return absl::OkStatus();
}

grpc::Status AccessControl::Identify(grpc::ServerContextBase* context, std::string_view method,
                                     std::string_view unit, Caller* caller) {
  absl::Status status = Authenticate(context, caller);
  if (status.ok()) return grpc::Status::OK;
  RecordDenied(context, method, "", unit, status);
  return ToGrpcStatus(status);
}

grpc::Status AccessControl::Authorize(grpc::ServerContextBase* context, std::string_view method,
                                      const Caller& caller, auth::Action action,
                                      std::string_view unit) {
  absl::Status status = auth::Authorize(caller.principal(), action, unit);
  if (status.ok()) return grpc::Status::OK;
  RecordDenied(context, method, caller.principal().name, unit, status);
  return ToGrpcStatus(status);
}

grpc::Status AccessControl::Check(grpc::ServerContextBase* context, std::string_view method,
                                  auth::Action action, std::string_view unit, Caller* caller) {
  grpc::Status identified = Identify(context, method, unit, caller);
  if (!identified.ok()) return identified;
  return Authorize(context, method, *caller, action, unit);
}

void AccessControl::RecordDenied(grpc::ServerContextBase* context, std::string_view method,
                                 std::string_view principal, std::string_view unit,
                                 const absl::Status& why) {
  auth::DeniedAttempt attempt;
  attempt.set_at_micros(absl::ToUnixMicros(absl::Now()));
  attempt.set_principal(std::string(principal));
  attempt.set_peer(context->peer());
  attempt.set_method(std::string(method));
  // Bounded: a request may name a unit of any length.
  attempt.set_unit(std::string(unit.substr(0, 64)));
  attempt.set_code(absl::StatusCodeToString(why.code()));
  attempt.set_reason(std::string(why.message().substr(0, 1024)));
  // The server's log gets at most one line a second (a flood of refused
  // calls must not flood it); the denied-attempt log keeps every one.
  uint64_t suppressed = 0;
  bool log_now = false;
  {
    absl::MutexLock lock(&log_mu_);
    const absl::Time now = absl::Now();
    if (now - last_logged_ >= absl::Seconds(1)) {
      log_now = true;
      suppressed = std::exchange(suppressed_, 0);
      last_logged_ = now;
    } else {
      ++suppressed_;
    }
  }
  if (log_now) {
    LEDGER_LOG_WARN("denied %s to %s from %s: %s%s", method,
                    principal.empty() ? std::string("an unauthenticated caller") : std::string(principal),
                    attempt.peer(), attempt.reason(),
                    suppressed == 0 ? std::string()
                                    : absl::StrCat(" (and ", suppressed, " more refusals before it, "
                                                   "in the denied-attempt log)"));
  }
  denied_log_->Record(std::move(attempt));
}

AccessControl::SubscriptionSlot& AccessControl::SubscriptionSlot::operator=(
    SubscriptionSlot&& other) noexcept {
  if (this != &other) {
    if (owner_ != nullptr) owner_->Release(principal_);
    owner_ = std::exchange(other.owner_, nullptr);
    principal_ = std::move(other.principal_);
  }
  return *this;
}

AccessControl::SubscriptionSlot::~SubscriptionSlot() {
  if (owner_ != nullptr) owner_->Release(principal_);
}

grpc::Status AccessControl::AcquireSubscription(grpc::ServerContextBase* context,
                                                std::string_view method, const Caller& caller,
                                                SubscriptionSlot* slot) {
  const std::string& name = caller.principal().name;
  *slot = SubscriptionSlot();  // releases what the slot held, outside mu_
  bool acquired = false;
  {
    absl::MutexLock lock(&mu_);
    size_t& held = subscriptions_[name];
    // With authentication off every client is the one local principal; only
    // the server-wide limit applies then.
    if (held < limits::kMaxSubscriptionsPerPrincipal || !options_.authentication) {
      ++held;
      acquired = true;
    }
  }
  if (acquired) {
    slot->owner_ = this;
    slot->principal_ = name;
    return grpc::Status::OK;
  }
  absl::Status status = absl::ResourceExhaustedError(absl::StrCat(
      "principal '", name, "' already holds ", limits::kMaxSubscriptionsPerPrincipal,
      " live subscriptions, the most one principal may hold; end one first"));
  RecordDenied(context, method, name, "", status);
  return ToGrpcStatus(status);
}

void AccessControl::Release(const std::string& principal) {
  absl::MutexLock lock(&mu_);
  auto it = subscriptions_.find(principal);
  if (it == subscriptions_.end()) return;
  if (--it->second == 0) subscriptions_.erase(it);
}

}  // namespace ledger::services
