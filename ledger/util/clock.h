// Time source, injected so that tests control time.
//
// Thread-safety: implementations are safe to call from any thread.
#ifndef LEDGER_UTIL_CLOCK_H_
#define LEDGER_UTIL_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ledger {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() = 0;
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() override { return absl::Now(); }
  // The process-wide instance.
  static SystemClock* Get() {
    static SystemClock clock;
    return &clock;
  }
};

// A clock that moves only when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(absl::Time start) : micros_(absl::ToUnixMicros(start)) {}
  absl::Time Now() override { return absl::FromUnixMicros(micros_.load()); }
  void Set(absl::Time t) { micros_.store(absl::ToUnixMicros(t)); }
  void Advance(absl::Duration d) { micros_.fetch_add(absl::ToInt64Microseconds(d)); }

 private:
  std::atomic<int64_t> micros_;
};

}  // namespace ledger

#endif  // LEDGER_UTIL_CLOCK_H_
