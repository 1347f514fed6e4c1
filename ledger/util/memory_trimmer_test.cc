#include "ledger/util/memory_trimmer.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace ledger {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

// This process's resident memory in bytes (/proc/self/statm), or 0.
uint64_t ResidentBytes() {
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long long size_pages = 0, resident_pages = 0;
  const int read = std::fscanf(statm, "%llu %llu", &size_pages, &resident_pages);
  std::fclose(statm);
  if (read != 2) return 0;
  return static_cast<uint64_t>(resident_pages) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Freed memory below a live allocation stays with glibc's malloc until a
// trim gives it back: the situation a compaction's burst leaves in ledgerd.
TEST(MemoryTrimmerTest, ATrimGivesBackFreedMemoryTheAllocatorKept) {
#if defined(__SANITIZE_ADDRESS__) || !defined(__GLIBC__)
  GTEST_SKIP() << "needs glibc's malloc (ASan brings its own allocator)";
#else
  const uint64_t baseline = ResidentBytes();
  ASSERT_GT(baseline, 0u) << "no /proc/self/statm";
  // 256 MiB in 64 KiB blocks (below the mmap threshold: from the heap),
  // touched; then every other block is freed, so that no free chunk reaches
  // the top of the heap, where free() itself would give it back.
  constexpr size_t kBlock = 64 * 1024;
  std::vector<char*> blocks(256 * kMiB / kBlock);
  for (char*& block : blocks) {
    block = static_cast<char*>(std::malloc(kBlock));
    ASSERT_NE(block, nullptr);
    std::memset(block, 0x5a, kBlock);
  }
  for (size_t i = 0; i < blocks.size(); i += 2) std::free(blocks[i]);
  const uint64_t kept = ResidentBytes();
  ASSERT_TRUE(TrimAllocatorNow());
  const uint64_t trimmed = ResidentBytes();
  for (size_t i = 1; i < blocks.size(); i += 2) std::free(blocks[i]);
  std::printf("resident: %llu MiB before, %llu MiB with 256 MiB allocated and half freed, %llu MiB after a trim\n",
              static_cast<unsigned long long>(baseline / kMiB), static_cast<unsigned long long>(kept / kMiB),
              static_cast<unsigned long long>(trimmed / kMiB));
  EXPECT_GE(kept, baseline + 240 * kMiB) << "the allocator gave the freed half back by itself: nothing to show";
  EXPECT_LE(trimmed + 100 * kMiB, kept) << "the trim gave back less than 100 of the 128 MiB freed";
#endif
}

TEST(MemoryTrimmerTest, TrimsEveryIntervalAndStopsAtOnce) {
  {
    MemoryTrimmer trimmer(absl::Milliseconds(5));
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (trimmer.trims() < 3 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
    EXPECT_GE(trimmer.trims(), 3);
  }
  const absl::Time start = absl::Now();
  {
    MemoryTrimmer idle(absl::Hours(1));
    EXPECT_EQ(idle.trims(), 0);
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "stopping waited for the interval";
}

}  // namespace
}  // namespace ledger
