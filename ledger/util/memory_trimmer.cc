#include "ledger/util/memory_trimmer.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ledger {

bool TrimAllocatorNow() {
#if defined(__GLIBC__)
  malloc_trim(0);
  return true;
#else
  return false;
#endif
}

MemoryTrimmer::MemoryTrimmer(absl::Duration interval) : interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

MemoryTrimmer::~MemoryTrimmer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

int64_t MemoryTrimmer::trims() const {
  absl::MutexLock lock(&mu_);
  return trims_;
}

bool MemoryTrimmer::WaitForNextTrim() {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_);
  return !stopping_;
}

void MemoryTrimmer::Run() {
  while (WaitForNextTrim()) {
    TrimAllocatorNow();
    absl::MutexLock lock(&mu_);
    ++trims_;
  }
}

}  // namespace ledger
