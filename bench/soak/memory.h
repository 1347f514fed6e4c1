// The server's memory over a soak: samples of /proc/<pid>/status (VmRSS,
// VmHWM, Threads) taken by a background thread, and the flatness verdict.
//
// The verdict (docs/BENCHMARKS.md, "Soak", says how the bounds are chosen).
// The measured window runs from the end of the warm-up to the last sample.
// Asserted:
//   - peak:   the server's VmHWM <= max_rss_mib;
//   - growth: the highest RSS of the window's second half minus the highest
//             RSS of its first half <= max_growth_mib + the fill allowance.
//             Peaks, not averages: the server's memory is a sawtooth
//             (memtables fill to 64 MiB and are flushed and freed), so a slope
//             or two end points depend on where in a cycle they fall, while
//             the peaks of a bounded server stay level once each half holds a
//             full cycle; a leak raises every later peak. Until the log holds
//             caches_full_events events, the server's bounded caches (the
//             recent-events ring, the memtables) are still filling: each event
//             appended in the window before that point adds fill_kib_per_event
//             to the bound. And the block cache (256 MiB) holds only blocks of
//             SST files, and the soak's reads touch nearly all of them (an
//             as-of report folds a unit-year interleaved with all others): the
//             bytes of SST files written during the window, as far as the
//             cache can still grow (its capacity minus the SST bytes written
//             before the window), add to the bound too.
// Reported only: the RSS at the end of the warm-up and at the end (medians
// of 5% of the window's samples) and the least-squares slope over the
// window, in MiB per hour.
//
// Thread-safety: MemorySampler is thread-safe (samples under a mutex);
// ReadProcStatus and JudgeMemory are pure functions of their inputs.
#ifndef BENCH_SOAK_MEMORY_H_
#define BENCH_SOAK_MEMORY_H_

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace ledger::soak {

struct ProcStatus {
  uint64_t rss_kib = 0;  // VmRSS
  uint64_t hwm_kib = 0;  // VmHWM: the peak RSS so far
  int threads = 0;       // Threads
};

// Parses the text of /proc/<pid>/status.
absl::StatusOr<ProcStatus> ParseProcStatus(const std::string& text);
absl::StatusOr<ProcStatus> ReadProcStatus(pid_t pid);

struct MemorySample {
  double elapsed_s = 0;            // since the start of the load
  uint64_t events = 0;             // events the load had appended by then
  uint64_t sst_bytes_written = 0;  // SST bytes the server had written by then
  ProcStatus status;
};

// The bytes of every SST file seen in a RocksDB directory so far, including
// files compacted away since (each counted at the largest size seen).
// Thread-compatible.
class SstBytesWritten {
 public:
  explicit SstBytesWritten(std::string dir) : dir_(std::move(dir)) {}
  uint64_t Scan();

 private:
  std::string dir_;
  std::map<std::string, uint64_t> seen_;
};

class MemorySampler {
 public:
  // Samples `pid` every `interval` from Start() until Stop(), with the count
  // of events appended so far (`events_now`, called from the sampler's
  // thread) and the SST bytes written in `data_dir` (empty: not known).
  MemorySampler(pid_t pid, absl::Duration interval, std::function<uint64_t()> events_now,
                std::string data_dir)
      : pid_(pid),
        interval_(interval),
        events_now_(std::move(events_now)),
        sst_(std::move(data_dir)) {}
  ~MemorySampler() { Stop(); }

  void Start(absl::Time load_start);
  void Stop();
  std::vector<MemorySample> Samples() const;
  // The newest sample, if any.
  std::optional<MemorySample> Latest() const;
  // An error reading /proc (the server ended?), if one occurred.
  std::string Error() const;

 private:
  void Loop(absl::Time load_start);

  const pid_t pid_;
  const absl::Duration interval_;
  const std::function<uint64_t()> events_now_;
  SstBytesWritten sst_;  // used by the sampler's thread only
  absl::Notification stop_;
  std::thread thread_;
  mutable absl::Mutex mu_;
  std::vector<MemorySample> samples_ ABSL_GUARDED_BY(mu_);
  std::string error_ ABSL_GUARDED_BY(mu_);
};

struct MemoryBounds {
  double max_rss_mib = 0;
  double max_growth_mib = 0;
  uint64_t caches_full_events = 0;
  double fill_kib_per_event = 0;
  double block_cache_mib = 0;
};

struct MemoryVerdict {
  double window_s = 0;         // the measured window: warm-up end to the last sample
  double warm_rss_mib = 0;     // at the end of the warm-up
  double end_rss_mib = 0;      // at the end
  double slope_mib_per_h = 0;  // least squares over the window
  double first_half_peak_mib = 0;
  double second_half_peak_mib = 0;
  double peak_growth_mib = 0;       // second_half_peak - first_half_peak: asserted
  uint64_t filling_events = 0;      // appended in the window while the caches filled
  double block_cache_fill_mib = 0;  // the block cache's possible growth in the window
  double growth_bound_mib = 0;      // max_growth_mib + the fill allowance
  double peak_hwm_mib = 0;          // VmHWM: asserted
  bool ok = true;
  std::vector<std::string> failures;
};

// Judges `samples` (in time order) against `bounds`, with the measured window
// starting at `warmup_s`. Fails (with a reason) when there are too few samples.
MemoryVerdict JudgeMemory(const std::vector<MemorySample>& samples, double warmup_s,
                          const MemoryBounds& bounds);

}  // namespace ledger::soak

#endif  // BENCH_SOAK_MEMORY_H_
