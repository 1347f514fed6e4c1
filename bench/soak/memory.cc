#include "bench/soak/memory.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/soak/metrics.h"

namespace ledger::soak {
namespace {

constexpr double kKibPerMib = 1024;

// The median RSS (MiB) of `samples`, which is not empty.
double MedianRssMib(std::vector<MemorySample> samples) {
  std::sort(samples.begin(), samples.end(), [](const MemorySample& a, const MemorySample& b) {
    return a.status.rss_kib < b.status.rss_kib;
  });
  return samples[samples.size() / 2].status.rss_kib / kKibPerMib;
}

double PeakRssMib(std::vector<MemorySample>::const_iterator begin,
                  std::vector<MemorySample>::const_iterator end) {
  uint64_t peak_kib = 0;
  for (auto it = begin; it != end; ++it) peak_kib = std::max(peak_kib, it->status.rss_kib);
  return peak_kib / kKibPerMib;
}

double SlopeMibPerHour(const std::vector<MemorySample>& samples) {
  std::vector<std::pair<double, double>> points;
  for (const MemorySample& sample : samples) {
    points.emplace_back(sample.elapsed_s / 3600.0, sample.status.rss_kib / kKibPerMib);
  }
  return LeastSquaresSlope(points);
}

}  // namespace

absl::StatusOr<ProcStatus> ParseProcStatus(const std::string& text) {
  ProcStatus status;
  bool have_rss = false;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 2) continue;
    uint64_t value = 0;
    if (!absl::SimpleAtoi(fields[1], &value)) continue;
    if (fields[0] == "VmRSS:") {
      status.rss_kib = value;
      have_rss = true;
    } else if (fields[0] == "VmHWM:") {
      status.hwm_kib = value;
    } else if (fields[0] == "Threads:") {
      status.threads = static_cast<int>(value);
    }
  }
  if (!have_rss) return absl::NotFoundError("no VmRSS line (is the process a zombie?)");
  return status;
}

absl::StatusOr<ProcStatus> ReadProcStatus(pid_t pid) {
  const std::string path = absl::StrCat("/proc/", pid, "/status");
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream text;
  text << file.rdbuf();
  absl::StatusOr<ProcStatus> status = ParseProcStatus(text.str());
  if (!status.ok()) return absl::NotFoundError(absl::StrCat(path, ": ", status.status().message()));
  return status;
}

uint64_t SstBytesWritten::Scan() {
  if (dir_.empty()) return 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".sst") != 0) continue;
    std::error_code size_error;
    const uint64_t size = entry.file_size(size_error);
    if (size_error) continue;  // compacted away meanwhile
    uint64_t& seen = seen_[name];
    seen = std::max(seen, size);
  }
  uint64_t total = 0;
  for (const auto& [name, size] : seen_) total += size;
  return total;
}

void MemorySampler::Start(absl::Time load_start) {
  thread_ = std::thread([this, load_start] { Loop(load_start); });
}

void MemorySampler::Stop() {
  if (!thread_.joinable()) return;
  stop_.Notify();
  thread_.join();
}

void MemorySampler::Loop(absl::Time load_start) {
  do {
    absl::StatusOr<ProcStatus> status = ReadProcStatus(pid_);
    absl::MutexLock lock(&mu_);
    if (!status.ok()) {
      if (error_.empty()) error_ = std::string(status.status().message());
      continue;
    }
    samples_.push_back(
        {absl::ToDoubleSeconds(absl::Now() - load_start), events_now_(), sst_.Scan(), *status});
  } while (!stop_.WaitForNotificationWithTimeout(interval_));
}

std::vector<MemorySample> MemorySampler::Samples() const {
  absl::MutexLock lock(&mu_);
  return samples_;
}

std::optional<MemorySample> MemorySampler::Latest() const {
  absl::MutexLock lock(&mu_);
  if (samples_.empty()) return std::nullopt;
  return samples_.back();
}

std::string MemorySampler::Error() const {
  absl::MutexLock lock(&mu_);
  return error_;
}

MemoryVerdict JudgeMemory(const std::vector<MemorySample>& samples, double warmup_s,
                          const MemoryBounds& bounds) {
  MemoryVerdict verdict;
  std::vector<MemorySample> window;
  for (const MemorySample& sample : samples) {
    if (sample.elapsed_s >= warmup_s) window.push_back(sample);
    verdict.peak_hwm_mib = std::max(verdict.peak_hwm_mib, sample.status.hwm_kib / kKibPerMib);
  }
  if (verdict.peak_hwm_mib > bounds.max_rss_mib) {
    verdict.failures.push_back(absl::StrFormat("peak RSS (VmHWM) %.1f MiB > --max_rss_mib=%.0f",
                                               verdict.peak_hwm_mib, bounds.max_rss_mib));
  }
  if (window.size() < 6) {
    verdict.ok = false;
    verdict.failures.push_back(absl::StrCat(
        "only ", window.size(), " memory samples after the warm-up (at least 6 needed)"));
    return verdict;
  }
  verdict.window_s = window.back().elapsed_s - window.front().elapsed_s;
  const size_t edge = std::max<size_t>(3, window.size() / 20);
  verdict.warm_rss_mib = MedianRssMib({window.begin(), window.begin() + edge});
  verdict.end_rss_mib = MedianRssMib({window.end() - edge, window.end()});
  verdict.slope_mib_per_h = SlopeMibPerHour(window);
  const auto middle = window.begin() + window.size() / 2;
  verdict.first_half_peak_mib = PeakRssMib(window.begin(), middle);
  verdict.second_half_peak_mib = PeakRssMib(middle, window.end());
  verdict.peak_growth_mib = verdict.second_half_peak_mib - verdict.first_half_peak_mib;
  const uint64_t filled_through = std::min(window.back().events, bounds.caches_full_events);
  verdict.filling_events =
      filled_through > window.front().events ? filled_through - window.front().events : 0;
  const double sst_before_mib = window.front().sst_bytes_written / kKibPerMib / kKibPerMib;
  const double sst_end_mib = window.back().sst_bytes_written / kKibPerMib / kKibPerMib;
  verdict.block_cache_fill_mib = std::min(bounds.block_cache_mib, sst_end_mib) -
                                 std::min(bounds.block_cache_mib, sst_before_mib);
  verdict.growth_bound_mib = bounds.max_growth_mib +
                             verdict.filling_events * bounds.fill_kib_per_event / kKibPerMib +
                             verdict.block_cache_fill_mib;

  if (verdict.peak_growth_mib > verdict.growth_bound_mib) {
    verdict.failures.push_back(absl::StrFormat(
        "RSS peak of the second half %.1f MiB exceeds the first half's %.1f MiB by %.1f MiB > "
        "the bound %.1f MiB (--max_growth_mib=%.0f, + %.1f for %d events appended while the "
        "caches filled, + %.1f for the block cache)",
        verdict.second_half_peak_mib, verdict.first_half_peak_mib, verdict.peak_growth_mib,
        verdict.growth_bound_mib, bounds.max_growth_mib,
        verdict.filling_events * bounds.fill_kib_per_event / kKibPerMib, verdict.filling_events,
        verdict.block_cache_fill_mib));
  }
  verdict.ok = verdict.failures.empty();
  return verdict;
}

}  // namespace ledger::soak
