// report_bench: the time to compute a unit's quarterly report as of an
// arbitrary past position, as the whole ledger grows.
//
// The reference unit-year (Kecamatan Klakah 2024, 235 events) is recorded
// spread over the first ledger size, between filler events of many other
// unit-years (other streams, written straight to the event log in batches);
// later sizes add only filler. At each size the program computes the
// Triwulan II report as of random moments of the unit-year's history and
// prints the median and p99 time, next to the time of folding the same events
// with no ledger around them (the baseline), and the time of reading the
// unit-year's stream alone. The claim under test: the report costs what its
// unit-year's events cost, not what the ledger holds.
//
// A program, not a test. Figures: docs/BENCHMARKS.md.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ledger/projections/report.h"
#include "ledger/projections/testing/reference_report.h"
#include "ledger/sakip/sakip_ledger.h"
#include "ledger/store/rocks_event_log.h"

ABSL_FLAG(std::string, sizes, "10000,100000,1000000",
          "ledger sizes (events) at which to measure, ascending");
ABSL_FLAG(int, samples, 50, "reports computed per ledger size");
ABSL_FLAG(int, settle_seconds, 20,
          "pause after writing each size's filler, so that RocksDB's background "
          "flushes and compactions do not compete with the measurement");
ABSL_FLAG(std::string, dir, "", "parent of the temporary data directory (default $TMPDIR or /tmp)");

namespace ledger::bench {
namespace {

namespace reference = ::ledger::projections::testing;

constexpr size_t kFillerBatch = 1000;

std::vector<uint64_t> ParseSizes(const std::string& text) {
  std::vector<uint64_t> sizes;
  for (size_t start = 0; start < text.size();) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    sizes.push_back(std::stoull(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return sizes;
}

// Appends `count` filler events of other unit-years (many streams, batches).
void AppendFiller(EventLog* log, uint64_t count, uint64_t* filler_serial) {
  while (count > 0) {
    size_t batch = static_cast<size_t>(std::min<uint64_t>(count, kFillerBatch));
    uint64_t unit = (*filler_serial / kFillerBatch) % 5000;
    AppendRequest request;
    request.stream_id = absl::StrCat("35.", 10 + unit / 100 % 80, ".", 10 + unit % 80, "/2024");
    request.expected_version = ExpectedVersion::Any();
    request.actor = "bench:filler";
    for (size_t i = 0; i < batch; ++i) {
      ProposedEvent event;
      event.event_id = absl::StrCat("filler-", (*filler_serial)++);
      event.event_type = "RealizationRecorded";
      event.content_type = kSakipContentType;
      event.payload = std::string(220, 'x');
      request.events.push_back(std::move(event));
    }
    absl::StatusOr<AppendResult> result = log->Append(std::move(request));
    if (!result.ok()) {
      std::fprintf(stderr, "filler append failed: %s\n", result.status().ToString().c_str());
      std::exit(1);
    }
    count -= batch;
  }
}

struct Timing {
  double median_ms = 0;
  double p99_ms = 0;
};

Timing Summarize(std::vector<double> samples_ms) {
  std::sort(samples_ms.begin(), samples_ms.end());
  Timing timing;
  timing.median_ms = samples_ms[samples_ms.size() / 2];
  timing.p99_ms = samples_ms[std::min(samples_ms.size() - 1, samples_ms.size() * 99 / 100)];
  return timing;
}

// Folding the unit-year's events in memory: what a report costs at least.
Timing BaselineFold(const std::vector<projections::DomainEvent>& events, int samples) {
  std::vector<double> times;
  for (int i = 0; i < samples; ++i) {
    absl::Time start = absl::Now();
    projections::UnitYearState state;
    for (const auto& event : events) (void)state.Apply(event);
    (void)projections::ComputeReport(state, 2);
    times.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  return Summarize(times);
}

int Main() {
  const std::vector<uint64_t> sizes = ParseSizes(absl::GetFlag(FLAGS_sizes));
  const int samples = std::max(1, absl::GetFlag(FLAGS_samples));
  std::string parent = absl::GetFlag(FLAGS_dir);
  if (parent.empty()) parent = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
  std::string dir = absl::StrCat(parent, "/report_bench-", getpid());

  RocksEventLogOptions options;
  options.data_dir = dir;
  auto log = OpenRocksEventLog(options);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }
  SakipLedger ledger(log->get());
  std::vector<projections::DomainEvent> unit_events = reference::KlakahTw2Events();
  const Timing baseline = BaselineFold(unit_events, samples);

  std::printf("report_bench: Triwulan II report of one unit-year (%zu events) as of a random past "
              "position\n", unit_events.size());
  std::printf("baseline: folding the same events in memory: median %.3f ms, p99 %.3f ms\n\n",
              baseline.median_ms, baseline.p99_ms);
  std::printf("| ledger events | unit-year events | median ms | p99 ms | median / baseline | stream read ms |\n");
  std::printf("|--------------:|-----------------:|----------:|-------:|------------------:|---------------:|\n");

  std::mt19937_64 random(7);
  uint64_t filler_serial = 0;
  size_t recorded = 0;
  std::vector<uint64_t> unit_positions;  // positions of the unit-year's events
  for (size_t round = 0; round < sizes.size(); ++round) {
    const uint64_t size = sizes[round];
    // The whole unit-year is recorded within the first size, spread over it;
    // later sizes only add other unit-years' events, so every row folds the
    // same 235 events and differs only in the size of the ledger around them.
    size_t due = unit_events.size();
    uint64_t head = (*log)->GetHead().position;
    uint64_t filler_due = size > head + (due - recorded) ? size - head - (due - recorded) : 0;
    for (; recorded < due; ++recorded) {
      AppendFiller(log->get(), filler_due / (due - recorded), &filler_serial);
      filler_due -= filler_due / (due - recorded);
      const auto& event = unit_events[recorded];
      auto result = ledger.Record("bench:operator", {ProposedDomainEvent{
                                                        event.event_id, event.reason, "", "",
                                                        event.event}});
      if (!result.ok()) {
        std::fprintf(stderr, "record failed: %s\n", result.status().ToString().c_str());
        return 1;
      }
      unit_positions.push_back(result->last_position);
    }
    AppendFiller(log->get(), filler_due, &filler_serial);
    head = (*log)->GetHead().position;
    absl::SleepFor(absl::Seconds(absl::GetFlag(FLAGS_settle_seconds)));
    // As of a random moment of the unit-year's history (the position of one
    // of its events, not the latest: the cache of the latest state does not
    // serve it, so every report folds from the start of the unit-year).
    std::uniform_int_distribution<size_t> pick(0, unit_positions.size() - 2);
    std::vector<double> times;
    for (int i = 0; i < samples; ++i) {
      uint64_t as_of = unit_positions[pick(random)];
      absl::Time start = absl::Now();
      auto report = ledger.Report(reference::kKlakahUnitCode, reference::kKlakahFiscalYear, 2,
                                  AsOf::Position(as_of));
      times.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      if (!report.ok()) {
        std::fprintf(stderr, "report failed: %s\n", report.status().ToString().c_str());
        return 1;
      }
    }
    Timing timing = Summarize(times);
    // The storage part alone: reading the unit-year's whole stream.
    std::vector<double> read_times;
    for (int i = 0; i < samples; ++i) {
      absl::Time start = absl::Now();
      auto page = (*log)->ReadStream("35.08.19/2024", 1, Direction::kForward, limits::kMaxPageSize);
      read_times.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
      if (!page.ok()) return 1;
    }
    Timing read = Summarize(read_times);
    std::printf("| %13llu | %16zu | %9.3f | %6.3f | %17.1f | %14.3f |\n",
                static_cast<unsigned long long>(head), recorded, timing.median_ms,
                timing.p99_ms, timing.median_ms / baseline.median_ms, read.median_ms);
    std::fflush(stdout);
  }
  log->reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return 0;
}

}  // namespace
}  // namespace ledger::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "report_bench [--sizes=10000,100000,1000000] [--samples=50]\n"
      "Time to compute a unit-year's quarterly report as of a random past position as the "
      "ledger grows. See docs/BENCHMARKS.md.");
  absl::ParseCommandLine(argc, argv);
  return ledger::bench::Main();
}
