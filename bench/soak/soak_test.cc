// Unit tests of the soak's parts that do not need a server: the SAKIP feed
// produces streams the domain's own fold accepts, the histogram's
// percentiles, the slope, /proc parsing and the memory verdict.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "bench/soak/memory.h"
#include "bench/soak/metrics.h"
#include "bench/soak/sakip_feed.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/domain/identifiers.h"
#include "ledger/projections/report.h"
#include "ledger/projections/unit_year_state.h"

namespace ledger::soak {
namespace {

using ::testing::HasSubstr;

// Folds `batch` into `state` as the ledger would, one event at a time.
absl::Status Fold(const std::vector<::sakip::v1::ProposedSakipEvent>& batch,
                  projections::UnitYearState* state, uint64_t* position) {
  for (const auto& proposed : batch) {
    projections::DomainEvent event;
    event.position = ++*position;
    event.event_id = proposed.event_id();
    event.recorded_at = absl::FromUnixSeconds(1735689600 + static_cast<int64_t>(*position));
    event.actor = "soak";
    event.reason = proposed.reason();
    event.event = proposed.event();
    absl::Status status = state->Apply(event);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

TEST(UnitYearFeedTest, AWholeYearIsAcceptedByTheDomainFold) {
  UnitYearFeed feed(SoakUnitCode(7), 2025, "test", 400);
  projections::UnitYearState state;
  uint64_t position = 0;
  std::vector<::sakip::v1::ProposedSakipEvent> plan = feed.Plan();
  ASSERT_TRUE(Fold(plan, &state, &position).ok());
  feed.Commit(plan);
  ASSERT_TRUE(feed.planned());
  std::mt19937_64 random(3);
  int kinds_seen[32] = {};
  while (!feed.year_done()) {
    std::vector<::sakip::v1::ProposedSakipEvent> batch = feed.NextBatch(random);
    ASSERT_FALSE(batch.empty());
    ASSERT_LE(batch.size(), 3u);
    absl::Status status = Fold(batch, &state, &position);
    ASSERT_TRUE(status.ok()) << status << " after " << feed.events_committed() << " events";
    feed.Commit(batch);
    for (const auto& event : batch) ++kinds_seen[event.event().event_case() % 32];
  }
  EXPECT_EQ(feed.quarter(), 4);
  EXPECT_EQ(state.event_count(), feed.events_committed());
  EXPECT_EQ(state.realizations().size(), 16u);  // 4 indicators x 4 quarters
  EXPECT_GE(state.reports().size(), 3u);        // TW I..III ended
  // Corrections, target and budget revisions, disbursements, reversals,
  // checklist entries, reports, dispositions (the oneof's field numbers).
  for (int kind : {15, 13, 17, 18, 19, 22, 23, 24}) {
    EXPECT_GT(kinds_seen[kind], 0) << "event kind " << kind << " never generated";
  }
  for (int quarter = 1; quarter <= 4; ++quarter) {
    EXPECT_TRUE(projections::ComputeReport(state, quarter).ok()) << quarter;
  }
}

TEST(UnitYearFeedTest, AFailedBatchIsNotCommittedAndItsIdsAreNotReused) {
  UnitYearFeed feed(SoakUnitCode(0), 2025, "test", 400);
  std::vector<::sakip::v1::ProposedSakipEvent> lost = feed.Plan();  // never committed
  std::vector<::sakip::v1::ProposedSakipEvent> plan = feed.Plan();
  EXPECT_FALSE(feed.planned());
  EXPECT_NE(lost.front().event_id(), plan.front().event_id());
  projections::UnitYearState state;
  uint64_t position = 0;
  EXPECT_TRUE(Fold(plan, &state, &position).ok());
}

TEST(SoakIdentifiersTest, UnitCodesAndNipsAreValid) {
  for (int index : {0, 1, 98, 99, 500, 9800}) {
    auto level = domain::ParseAreaCode("unit", SoakUnitCode(index));
    ASSERT_TRUE(level.ok()) << SoakUnitCode(index) << ": " << level.status();
    EXPECT_EQ(*level, domain::AreaLevel::kDistrict);
  }
  EXPECT_EQ(SoakUnitCode(0), "35.01.01");
  EXPECT_NE(SoakUnitCode(0), SoakUnitCode(99));
  for (uint64_t seed = 0; seed < 2000; seed += 7) {
    EXPECT_TRUE(domain::NormalizeNip("nip", SoakNip(seed)).ok()) << SoakNip(seed);
  }
}

TEST(LatencyHistogramTest, PercentilesAreWithinTheBucketPrecision) {
  LatencyHistogram histogram;
  EXPECT_EQ(histogram.PercentileUs(0.5), 0u);
  for (uint64_t us = 1; us <= 100000; ++us) histogram.Record(us);
  EXPECT_EQ(histogram.count(), 100000u);
  EXPECT_EQ(histogram.max_us(), 100000u);
  EXPECT_NEAR(histogram.PercentileUs(0.50), 50000, 50000 / 64 + 1);
  EXPECT_NEAR(histogram.PercentileUs(0.99), 99000, 99000 / 64 + 1);
  EXPECT_GE(histogram.PercentileUs(0.99), 99000u);  // an upper edge, never below
  EXPECT_EQ(histogram.PercentileUs(1.0), 100000u);
  LatencyHistogram small;
  small.Record(7);
  small.Record(7000000000);
  EXPECT_EQ(small.PercentileUs(0.5), 7u);
  EXPECT_EQ(small.PercentileUs(1.0), 7000000000u);
  histogram.Merge(small);
  EXPECT_EQ(histogram.count(), 100002u);
  EXPECT_EQ(histogram.max_us(), 7000000000u);
}

TEST(OpStatsTest, IntervalsResetAndTotalsAccumulate) {
  OpStats stats("append");
  stats.RecordOk(10);
  stats.RecordError("boom");
  OpSummary first = stats.TakeInterval();
  EXPECT_EQ(first.kind, "append");
  EXPECT_EQ(first.ok, 1u);
  EXPECT_EQ(first.errors, 1u);
  stats.RecordOk(20);
  EXPECT_EQ(stats.TakeInterval().ok, 1u);
  EXPECT_EQ(stats.Total().ok, 2u);
  EXPECT_EQ(stats.Total().errors, 1u);
  EXPECT_THAT(stats.ErrorSamples(), ::testing::ElementsAre("boom"));
}

TEST(LeastSquaresSlopeTest, FitsALine) {
  EXPECT_DOUBLE_EQ(LeastSquaresSlope({{0, 1}, {1, 3}, {2, 5}, {3, 7}}), 2.0);
  EXPECT_DOUBLE_EQ(LeastSquaresSlope({{0, 4}, {1, 4}}), 0.0);
  EXPECT_DOUBLE_EQ(LeastSquaresSlope({{1, 4}}), 0.0);
}

TEST(ProcStatusTest, ParsesRssHwmAndThreads) {
  auto status = ParseProcStatus(
      "Name:\tledgerd\nVmPeak:\t  900000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n"
      "Threads:\t37\n");
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->rss_kib, 102400u);
  EXPECT_EQ(status->hwm_kib, 204800u);
  EXPECT_EQ(status->threads, 37);
  EXPECT_FALSE(ParseProcStatus("Name:\tzombie\nState:\tZ\n").ok());
}

std::vector<MemorySample> Ramp(double seconds, double start_mib, double mib_per_s) {
  std::vector<MemorySample> samples;
  for (double t = 0; t <= seconds; t += 1) {
    MemorySample sample;
    sample.elapsed_s = t;
    sample.status.rss_kib = static_cast<uint64_t>((start_mib + mib_per_s * t) * 1024);
    sample.status.hwm_kib = sample.status.rss_kib;
    samples.push_back(sample);
  }
  return samples;
}

// A sawtooth like the server's: memtables fill and are freed.
std::vector<MemorySample> Sawtooth(double seconds, double base_mib, double tooth_mib,
                                   double period_s, double leak_mib_per_s) {
  std::vector<MemorySample> samples = Ramp(seconds, base_mib, leak_mib_per_s);
  for (MemorySample& sample : samples) {
    const double phase = std::fmod(sample.elapsed_s, period_s) / period_s;
    sample.status.rss_kib += static_cast<uint64_t>(tooth_mib * phase * 1024);
    sample.status.hwm_kib = sample.status.rss_kib;
  }
  return samples;
}

TEST(JudgeMemoryTest, FlatAndSawtoothRunsPass) {
  const MemoryBounds bounds{1024, 64, 0, 0, 0};
  MemoryVerdict flat = JudgeMemory(Ramp(30, 100, 0), 5, bounds);
  EXPECT_TRUE(flat.ok);
  EXPECT_NEAR(flat.peak_growth_mib, 0, 0.01);
  EXPECT_NEAR(flat.slope_mib_per_h, 0, 0.01);
  // An hour of 17-minute memtable cycles of 100 MiB: the slope and the end
  // points swing with the phase, the peaks do not.
  MemoryVerdict sawtooth = JudgeMemory(Sawtooth(3600, 200, 100, 1020, 0), 360, bounds);
  EXPECT_TRUE(sawtooth.ok) << sawtooth.failures[0];
  EXPECT_NEAR(sawtooth.peak_growth_mib, 0, 1);
}

TEST(JudgeMemoryTest, CachesStillFillingGetAnAllowancePerEvent) {
  // 100 events/s, 3 KiB each while the caches fill: 15 minutes, window 10.
  std::vector<MemorySample> filling = Ramp(900, 40, 100 * 3.0 / 1024);
  for (MemorySample& sample : filling)
    sample.events = static_cast<uint64_t>(sample.elapsed_s * 100);
  MemoryVerdict verdict = JudgeMemory(filling, 300, {1024, 64, 100000, 4, 256});
  EXPECT_TRUE(verdict.ok) << verdict.failures[0];
  EXPECT_EQ(verdict.filling_events, 60000u);
  EXPECT_NEAR(verdict.growth_bound_mib, 64 + 60000 * 4 / 1024.0, 0.01);
  EXPECT_GT(verdict.peak_growth_mib, 64);  // more than the bound without the allowance

  // The same growth once the log is past caches_full_events: a leak.
  for (MemorySample& sample : filling) sample.events += 200000;
  verdict = JudgeMemory(filling, 300, {1024, 64, 100000, 4, 256});
  EXPECT_EQ(verdict.filling_events, 0u);
  EXPECT_FALSE(verdict.ok);
}

TEST(JudgeMemoryTest, TheBlockCacheMayGrowByTheSstBytesWrittenUpToItsCapacity) {
  // An hour; 75 MiB of SST files every 17 minutes, each read into the cache.
  std::vector<MemorySample> samples = Ramp(3600, 250, 0);
  for (MemorySample& sample : samples) {
    const uint64_t flushes = static_cast<uint64_t>(sample.elapsed_s / 1020);
    sample.sst_bytes_written = flushes * (uint64_t{75} << 20);
    sample.status.rss_kib += flushes * 75 * 1024;
    sample.status.hwm_kib = sample.status.rss_kib;
  }
  MemoryVerdict verdict = JudgeMemory(samples, 1200, {1024, 64, 100000, 4, 256});
  EXPECT_NEAR(verdict.block_cache_fill_mib, 225 - 75, 0.01);  // flushes 2 and 3
  EXPECT_TRUE(verdict.ok) << verdict.failures[0];
  EXPECT_FALSE(JudgeMemory(samples, 1200, {1024, 64, 100000, 4, 0}).ok);  // no allowance
  // Past the cache's capacity, no more allowance.
  for (MemorySample& sample : samples) sample.sst_bytes_written += uint64_t{256} << 20;
  EXPECT_NEAR(JudgeMemory(samples, 1200, {1024, 64, 100000, 4, 256}).block_cache_fill_mib, 0, 0.01);
}

TEST(JudgeMemoryTest, GrowthAndPeakAreCaught) {
  const MemoryBounds bounds{1024, 64, 0, 0, 0};
  MemoryVerdict leaking = JudgeMemory(Ramp(30, 100, 8), 5, bounds);  // +100 MiB per half
  EXPECT_FALSE(leaking.ok);
  EXPECT_THAT(leaking.failures[0], HasSubstr("--max_growth_mib"));
  EXPECT_NEAR(leaking.slope_mib_per_h, 8 * 3600, 1);
  // Eight hours, a leak of 20 MiB/h under the sawtooth: +72 MiB between halves.
  MemoryVerdict slow = JudgeMemory(Sawtooth(8 * 3600, 200, 100, 1020, 20.0 / 3600), 600, bounds);
  EXPECT_FALSE(slow.ok);
  EXPECT_NEAR(slow.peak_growth_mib, 20 * 7.83 / 2, 3);

  MemoryVerdict peak = JudgeMemory(Ramp(30, 2000, 0), 5, bounds);
  EXPECT_FALSE(peak.ok);
  EXPECT_THAT(peak.failures[0], HasSubstr("--max_rss_mib"));

  EXPECT_FALSE(JudgeMemory(Ramp(3, 100, 0), 0, bounds).ok);  // too few samples
}

}  // namespace
}  // namespace ledger::soak
