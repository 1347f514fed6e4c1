#include "services/calls_in_flight.h"

#include "ledger/util/check.h"

namespace ledger::services {
namespace {

// Lives exactly as long as one call; intercepts nothing.
class CountingInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit CountingInterceptor(CallsInFlight* calls) : calls_(calls) { calls_->Started(); }
  ~CountingInterceptor() override { calls_->Ended(); }
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    methods->Proceed();
  }

 private:
  CallsInFlight* const calls_;
};

class CountingFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CountingFactory(CallsInFlight* calls) : calls_(calls) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* /*info*/) override {
    return new CountingInterceptor(calls_);
  }

 private:
  CallsInFlight* const calls_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
CallsInFlight::NewInterceptorFactory() {
  return std::make_unique<CountingFactory>(this);
}

int64_t CallsInFlight::count() const {
  absl::MutexLock lock(&mu_);
  return count_;
}

bool CallsInFlight::AwaitNone(absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  auto none = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ == 0; };
  return mu_.AwaitWithDeadline(absl::Condition(&none), deadline);
}

void CallsInFlight::Started() {
  absl::MutexLock lock(&mu_);
  ++count_;
}

void CallsInFlight::Ended() {
  absl::MutexLock lock(&mu_);
  LEDGER_CHECK(count_ > 0, "a call ended that never started");
  --count_;
}

}  // namespace ledger::services
