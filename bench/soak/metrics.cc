#include "bench/soak/metrics.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "absl/strings/str_format.h"

namespace ledger::soak {

// Values below 2^kSubBucketBits get one bucket each; above, the bucket is the
// position of the highest bit (the "power") and the next kSubBucketBits bits.
int LatencyHistogram::BucketOf(uint64_t value) {
  if (value < (uint64_t{1} << kSubBucketBits)) return static_cast<int>(value);
  const int power = 63 - std::countl_zero(value);  // >= kSubBucketBits
  const int shift = power - kSubBucketBits;
  const uint64_t sub = (value >> shift) & ((uint64_t{1} << kSubBucketBits) - 1);
  return ((shift + 1) << kSubBucketBits) + static_cast<int>(sub);
}

uint64_t LatencyHistogram::UpperEdgeOf(int bucket) {
  if (bucket < (1 << kSubBucketBits)) return static_cast<uint64_t>(bucket);
  const int shift = (bucket >> kSubBucketBits) - 1;
  const uint64_t sub = static_cast<uint64_t>(bucket & ((1 << kSubBucketBits) - 1));
  const uint64_t lower = ((uint64_t{1} << kSubBucketBits) | sub) << shift;
  return lower + ((uint64_t{1} << shift) - 1);
}

void LatencyHistogram::Record(uint64_t latency_us) {
  ++counts_[BucketOf(latency_us)];
  ++count_;
  max_us_ = std::max(max_us_, latency_us);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_us_ = std::max(max_us_, other.max_us_);
}

uint64_t LatencyHistogram::PercentileUs(double fraction) const {
  if (count_ == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(fraction * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperEdgeOf(i), max_us_);
  }
  return max_us_;
}

void OpStats::RecordOk(uint64_t latency_us) {
  absl::MutexLock lock(&mu_);
  ++interval_.ok;
  ++total_.ok;
  interval_.latency.Record(latency_us);
  total_.latency.Record(latency_us);
}

void OpStats::RecordError(const std::string& message) {
  absl::MutexLock lock(&mu_);
  ++interval_.errors;
  ++total_.errors;
  if (error_samples_.size() < kErrorSamplesKept) error_samples_.push_back(message);
}

OpSummary OpStats::TakeInterval() {
  absl::MutexLock lock(&mu_);
  OpSummary taken = std::move(interval_);
  taken.kind = kind_;
  interval_ = OpSummary();
  return taken;
}

OpSummary OpStats::Total() const {
  absl::MutexLock lock(&mu_);
  OpSummary total = total_;
  total.kind = kind_;
  return total;
}

std::vector<std::string> OpStats::ErrorSamples() const {
  absl::MutexLock lock(&mu_);
  return error_samples_;
}

double LeastSquaresSlope(const std::vector<std::pair<double, double>>& points) {
  if (points.size() < 2) return 0;
  double mean_x = 0, mean_y = 0;
  for (const auto& [x, y] : points) {
    mean_x += x;
    mean_y += y;
  }
  mean_x /= static_cast<double>(points.size());
  mean_y /= static_cast<double>(points.size());
  double covariance = 0, variance = 0;
  for (const auto& [x, y] : points) {
    covariance += (x - mean_x) * (y - mean_y);
    variance += (x - mean_x) * (x - mean_x);
  }
  return variance > 0 ? covariance / variance : 0;
}

std::string FormatLatency(uint64_t latency_us) {
  if (latency_us < 1000) return absl::StrFormat("%dus", latency_us);
  if (latency_us < 1000000) return absl::StrFormat("%.1fms", latency_us / 1000.0);
  return absl::StrFormat("%.2fs", latency_us / 1000000.0);
}

}  // namespace ledger::soak
