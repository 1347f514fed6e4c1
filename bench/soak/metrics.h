// The soak's measurements: latency histograms per operation kind (counts,
// errors, percentiles for each reporting interval and for the whole run),
// and the least-squares slope used for the memory-flatness figure.
//
// The histogram is log-linear (64 sub-buckets per power of two of
// microseconds): a percentile is reported as its bucket's upper edge, at most
// 1/64 (1.6%) above the true value, and memory stays constant however long
// the run. Max is exact.
//
// Thread-safety: LatencyHistogram is a value type (not thread-safe);
// OpStats is thread-safe (one mutex; a few hundred records per second).
#ifndef BENCH_SOAK_METRICS_H_
#define BENCH_SOAK_METRICS_H_

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace ledger::soak {

class LatencyHistogram {
 public:
  void Record(uint64_t latency_us);
  void Merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  uint64_t max_us() const { return max_us_; }
  // The smallest bucket edge at or above the `fraction` quantile (0 < f <= 1);
  // 0 when empty.
  uint64_t PercentileUs(double fraction) const;

 private:
  static constexpr int kSubBucketBits = 6;
  static constexpr int kBuckets = (64 - kSubBucketBits + 1) << kSubBucketBits;
  static int BucketOf(uint64_t value);
  static uint64_t UpperEdgeOf(int bucket);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_us_ = 0;
};

// What one operation kind did over an interval or the whole run.
struct OpSummary {
  std::string kind;
  uint64_t ok = 0;
  uint64_t errors = 0;
  LatencyHistogram latency;  // of the successful operations
};

class OpStats {
 public:
  explicit OpStats(std::string kind) : kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }

  void RecordOk(uint64_t latency_us);
  // Counts an error and keeps its message (the first few per kind).
  void RecordError(const std::string& message);

  // The interval since the last call (and starts a new one).
  OpSummary TakeInterval();
  OpSummary Total() const;
  std::vector<std::string> ErrorSamples() const;

 private:
  static constexpr size_t kErrorSamplesKept = 10;
  const std::string kind_;
  mutable absl::Mutex mu_;
  OpSummary interval_ ABSL_GUARDED_BY(mu_);
  OpSummary total_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> error_samples_ ABSL_GUARDED_BY(mu_);
};

// Least-squares slope of y over x; 0 with fewer than two distinct x.
double LeastSquaresSlope(const std::vector<std::pair<double, double>>& points);

// "812us", "12.3ms", "1.25s": a latency for a table.
std::string FormatLatency(uint64_t latency_us);

}  // namespace ledger::soak

#endif  // BENCH_SOAK_METRICS_H_
