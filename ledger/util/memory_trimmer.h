// Gives memory that the C allocator keeps but no longer uses back to the
// operating system, at a fixed interval, so that the server's resident
// memory follows what it really holds.
//
// Why: glibc's malloc serves each thread from one of several arenas and
// returns freed memory to the system only from the top of an arena. A burst
// (a RocksDB compaction merging tens of MB, a large gRPC message) leaves free
// chunks below live ones that the arena keeps for later. In a soak of ledgerd
// at ~300 events/s, `malloc_stats` showed 672 MB taken from the system and
// 434 MB in use: one arena held 121 MB for 19 MB of live data, and resident
// memory rose by 40-50 MiB at each L0->L1 compaction although nothing live
// grew (docs/BENCHMARKS.md, "Soak"). `malloc_trim(0)` releases every whole
// free page of every arena (madvise), which the allocator can reuse later.
//
// Cost: a trim walks the arenas, holding each one's lock while it releases
// its free pages; threads allocating from that arena wait that long
// (milliseconds). Released pages cost a page fault when reused.
//
// On a C library other than glibc, TrimAllocatorNow does nothing.
//
// Thread-safety: TrimAllocatorNow may be called from any thread; a
// MemoryTrimmer is started and stopped by one owner.
#ifndef LEDGER_UTIL_MEMORY_TRIMMER_H_
#define LEDGER_UTIL_MEMORY_TRIMMER_H_

#include <cstdint>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ledger {

// Releases the allocator's free pages now; true if the C library has a trim.
bool TrimAllocatorNow();

// Trims every `interval` on a thread of its own until destroyed.
class MemoryTrimmer {
 public:
  explicit MemoryTrimmer(absl::Duration interval);
  ~MemoryTrimmer();  // stops at once (does not wait out the interval)
  MemoryTrimmer(const MemoryTrimmer&) = delete;
  MemoryTrimmer& operator=(const MemoryTrimmer&) = delete;

  // Trims done so far.
  int64_t trims() const;

 private:
  // Waits for the interval; false when stopping.
  bool WaitForNextTrim();
  void Run();

  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t trims_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace ledger

#endif  // LEDGER_UTIL_MEMORY_TRIMMER_H_
