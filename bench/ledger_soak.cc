// ledger_soak: sustained mixed load against a real ledgerd process for a
// configurable time, reporting throughput, latency percentiles and the
// server's memory over time, then checking that nothing acknowledged was lost.
//
// It starts ledgerd as a child process (127.0.0.1, port 0, a fresh data
// directory), so that the server's memory (/proc/<pid>/status) is measured
// apart from the load generator's; or it loads a running server (--target,
// with --server_pid to measure its memory). The load (bench/soak/load.h):
// SAKIP events of many unit-years through ReportService.RecordEvents, raw
// LedgerService appends, reports as of now and of past positions, audit
// history, stream reads and live subscriptions, each kind at an open-loop
// offered rate.
//
// At the end: every acknowledged event is at its acknowledged position in the
// log, the log's hash chain links, LedgerService.Verify passes, every follower
// saw exactly the log (every position once, in order, chained, with the final
// head's hash), no call failed, the server's memory stayed within its bounds
// (bench/soak/memory.h) and the child server stops cleanly on SIGTERM. Any
// failure: exit code 1. Bad flags: exit code 2.
//
// Speed is reported, never asserted. How to run it, the columns and the bounds:
// docs/BENCHMARKS.md, "Soak".
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_ledger.h"
#include "bench/soak/load.h"
#include "bench/soak/memory.h"
#include "bench/soak/metrics.h"
#include "grpcpp/client_context.h"
#include "tests/support/ledgerd_process.h"
#include "tests/support/subprocess.h"

ABSL_FLAG(absl::Duration, duration, absl::Seconds(30),
          "how long the load runs, warm-up included (30s, 1h, 8h)");
ABSL_FLAG(absl::Duration, warmup, absl::ZeroDuration(),
          "the first part of the run whose memory is not judged (0: a third of --duration, "
          "between 5s and 90m: at the default rates the ring is full and the memtables are "
          "first flushed after about 17 minutes, and the block cache is full after about 75)");
ABSL_FLAG(std::string, target, "",
          "host:port of a running ledgerd to load instead of starting one");
ABSL_FLAG(int, server_pid, 0, "with --target: the server's process id, to measure its memory");
ABSL_FLAG(std::string, ledgerd_flags, "", "extra flags for the ledgerd child, separated by spaces");
ABSL_FLAG(std::string, dir, "", "parent of the temporary data directory (default $TMPDIR or /tmp)");
ABSL_FLAG(bool, keep, false, "keep the data directory (see also --keep_on_failure)");
ABSL_FLAG(bool, keep_on_failure, true, "keep the data directory when the soak fails");
ABSL_FLAG(int, units, 50, "units (kecamatan) recording SAKIP events, 1..9801");
ABSL_FLAG(int, first_fiscal_year, 2025,
          "fiscal year of the units' first unit-years (use another against a --target that "
          "already holds a soak's units)");
ABSL_FLAG(int, events_per_unit_year, 400,
          "events a unit records in a fiscal year before it moves to the next (>= 40)");
ABSL_FLAG(int, raw_streams, 16, "streams the raw LedgerService appends go to");
ABSL_FLAG(double, sakip_rate_per_s, 20, "ReportService.RecordEvents calls per second (1-3 events)");
ABSL_FLAG(double, append_rate_per_s, 20, "LedgerService.Append calls per second (1-5 events)");
ABSL_FLAG(double, report_rate_per_s, 5, "ReportService.GetReport calls per second");
ABSL_FLAG(double, history_rate_per_s, 2, "AuditService.GetHistory calls per second");
ABSL_FLAG(double, read_rate_per_s, 5, "LedgerService.ReadStream calls per second");
ABSL_FLAG(int, subscribers, 4, "live LedgerService.Subscribe followers");
ABSL_FLAG(absl::Duration, subscription_lifetime, absl::Seconds(20),
          "a follower cancels its subscription after this and resumes from the next position");
ABSL_FLAG(int, workers_per_kind, 8, "threads per operation kind (calls in flight at most)");
ABSL_FLAG(int, channels, 4, "gRPC channels (TCP connections) the load is spread over");
ABSL_FLAG(int, rpc_timeout_ms, 30000, "deadline of every unary call");
ABSL_FLAG(int, report_interval_s, 10, "seconds between periodic reports");
ABSL_FLAG(int, sample_interval_ms, 1000, "milliseconds between memory samples");
ABSL_FLAG(std::string, samples_csv, "",
          "if set, every memory sample is written to this file (CSV: elapsed_s, events, "
          "sst_bytes_written, rss_kib, hwm_kib, threads)");
ABSL_FLAG(double, max_rss_mib, 1024,
          "bound on the server's peak RSS (VmHWM), MiB: its memory budget (docs/BENCHMARKS.md)");
ABSL_FLAG(double, max_growth_mib, 64,
          "bound on how far the server's highest RSS in the second half of the measured window "
          "may exceed its highest RSS in the first half, MiB (plus the fill allowance)");
ABSL_FLAG(uint64_t, caches_full_events, 100000,
          "events in the log after which the server's caches are full and its memtables have "
          "been flushed once (measured: about 104,000 at the default event sizes)");
ABSL_FLAG(double, fill_kib_per_event, 4,
          "growth allowed per event appended in the measured window while the log holds fewer "
          "than --caches_full_events (measured: about 3 KiB)");
ABSL_FLAG(double, block_cache_mib, 256,
          "the server's block cache (limits::kBlockCacheBytes), which can hold only blocks of the "
          "SST files it writes; its possible growth in the window is allowed (0: none)");
ABSL_FLAG(std::string, server_data_dir, "",
          "with --target: the server's data directory, to count the SST bytes it writes");
ABSL_FLAG(uint64_t, seed, 0, "random seed (0: from the clock; printed)");

namespace ledger::soak {
namespace {

using ::ledger::testing::LedgerdProcess;

constexpr double kKibPerMib = 1024;
constexpr size_t kRssTableRows = 24;

// "--flag: why" on stderr; the caller exits with 2.
bool FlagError(const std::string& flag, const std::string& why) {
  std::fprintf(stderr, "ledger_soak: --%s: %s\n", flag.c_str(), why.c_str());
  return false;
}

bool ValidateFlags() {
  auto positive = [](const char* flag, double value) {
    return value >= 0 || FlagError(flag, absl::StrCat("must be >= 0 (got ", value, ")"));
  };
  if (absl::GetFlag(FLAGS_duration) < absl::Seconds(5)) {
    return FlagError("duration", "must be at least 5s (a warm-up and a measured window)");
  }
  if (absl::GetFlag(FLAGS_warmup) < absl::ZeroDuration() ||
      absl::GetFlag(FLAGS_warmup) >= absl::GetFlag(FLAGS_duration)) {
    return FlagError("warmup", "must be >= 0 and shorter than --duration");
  }
  const int units = absl::GetFlag(FLAGS_units);
  if (units < 1 || units > 9801)
    return FlagError("units", absl::StrCat("must be in 1..9801 (got ", units, ")"));
  const int year = absl::GetFlag(FLAGS_first_fiscal_year);
  if (year < 2000 || year > 2100) {
    return FlagError("first_fiscal_year", absl::StrCat("must be in 2000..2100 (got ", year, ")"));
  }
  if (absl::GetFlag(FLAGS_events_per_unit_year) < 40) {
    return FlagError("events_per_unit_year",
                     "must be at least 40 (a plan and a year's realizations)");
  }
  if (absl::GetFlag(FLAGS_raw_streams) < 1) return FlagError("raw_streams", "must be at least 1");
  if (absl::GetFlag(FLAGS_workers_per_kind) < 1)
    return FlagError("workers_per_kind", "must be at least 1");
  if (absl::GetFlag(FLAGS_channels) < 1) return FlagError("channels", "must be at least 1");
  if (absl::GetFlag(FLAGS_subscribers) < 0) return FlagError("subscribers", "must be >= 0");
  if (absl::GetFlag(FLAGS_subscription_lifetime) < absl::Seconds(1)) {
    return FlagError("subscription_lifetime", "must be at least 1s");
  }
  if (absl::GetFlag(FLAGS_rpc_timeout_ms) < 1)
    return FlagError("rpc_timeout_ms", "must be at least 1");
  if (absl::GetFlag(FLAGS_report_interval_s) < 1)
    return FlagError("report_interval_s", "must be at least 1");
  if (absl::GetFlag(FLAGS_sample_interval_ms) < 10)
    return FlagError("sample_interval_ms", "must be at least 10");
  if (!absl::GetFlag(FLAGS_target).empty() &&
      absl::GetFlag(FLAGS_target).find(':') == std::string::npos) {
    return FlagError("target", "must be host:port");
  }
  if (absl::GetFlag(FLAGS_target).empty() && absl::GetFlag(FLAGS_server_pid) != 0) {
    return FlagError("server_pid", "only with --target (a started ledgerd is measured anyway)");
  }
  return positive("sakip_rate_per_s", absl::GetFlag(FLAGS_sakip_rate_per_s)) &&
         positive("append_rate_per_s", absl::GetFlag(FLAGS_append_rate_per_s)) &&
         positive("report_rate_per_s", absl::GetFlag(FLAGS_report_rate_per_s)) &&
         positive("history_rate_per_s", absl::GetFlag(FLAGS_history_rate_per_s)) &&
         positive("read_rate_per_s", absl::GetFlag(FLAGS_read_rate_per_s)) &&
         positive("max_rss_mib", absl::GetFlag(FLAGS_max_rss_mib)) &&
         positive("max_growth_mib", absl::GetFlag(FLAGS_max_growth_mib)) &&
         positive("fill_kib_per_event", absl::GetFlag(FLAGS_fill_kib_per_event)) &&
         positive("block_cache_mib", absl::GetFlag(FLAGS_block_cache_mib));
}

absl::Duration Warmup() {
  const absl::Duration flag = absl::GetFlag(FLAGS_warmup);
  if (flag > absl::ZeroDuration()) return flag;
  return std::clamp(absl::GetFlag(FLAGS_duration) / 3, absl::Seconds(5), absl::Minutes(90));
}

LoadOptions LoadOptionsFromFlags(uint64_t seed) {
  LoadOptions options;
  options.run_tag = absl::StrFormat("soak%08x", seed & 0xffffffff);
  options.units = absl::GetFlag(FLAGS_units);
  options.first_fiscal_year = absl::GetFlag(FLAGS_first_fiscal_year);
  options.events_per_unit_year = static_cast<size_t>(absl::GetFlag(FLAGS_events_per_unit_year));
  options.raw_streams = absl::GetFlag(FLAGS_raw_streams);
  options.sakip_rate_per_s = absl::GetFlag(FLAGS_sakip_rate_per_s);
  options.append_rate_per_s = absl::GetFlag(FLAGS_append_rate_per_s);
  options.report_rate_per_s = absl::GetFlag(FLAGS_report_rate_per_s);
  options.history_rate_per_s = absl::GetFlag(FLAGS_history_rate_per_s);
  options.read_rate_per_s = absl::GetFlag(FLAGS_read_rate_per_s);
  options.workers_per_kind = absl::GetFlag(FLAGS_workers_per_kind);
  options.subscribers = absl::GetFlag(FLAGS_subscribers);
  options.subscription_lifetime = absl::GetFlag(FLAGS_subscription_lifetime);
  options.rpc_timeout = absl::Milliseconds(absl::GetFlag(FLAGS_rpc_timeout_ms));
  options.seed = seed;
  return options;
}

// ---------------------------------------------------------------------------
// Output

void PrintOpHeader() {
  std::printf("  %-8s %9s %6s %8s %8s %8s %8s %8s\n", "kind", "ok", "errors", "ok/s", "p50", "p99",
              "p999", "max");
}

void PrintOpRow(const OpSummary& summary, double seconds) {
  const std::string rate = seconds > 0 ? absl::StrFormat("%.1f", summary.ok / seconds) : "-";
  std::printf("  %-8s %9llu %6llu %8s %8s %8s %8s %8s\n", summary.kind.c_str(),
              static_cast<unsigned long long>(summary.ok),
              static_cast<unsigned long long>(summary.errors), rate.c_str(),
              FormatLatency(summary.latency.PercentileUs(0.50)).c_str(),
              FormatLatency(summary.latency.PercentileUs(0.99)).c_str(),
              FormatLatency(summary.latency.PercentileUs(0.999)).c_str(),
              FormatLatency(summary.latency.max_us()).c_str());
}

std::string MemoryLine(const std::optional<MemorySample>& sample) {
  if (!sample) return "server memory: not measured";
  return absl::StrFormat("server RSS %.1f MiB, peak %.1f MiB, %d threads",
                         sample->status.rss_kib / kKibPerMib, sample->status.hwm_kib / kKibPerMib,
                         sample->status.threads);
}

void PrintInterval(Load& load, const MemorySampler* sampler, double elapsed_s, double interval_s) {
  std::string followers;
  for (uint64_t position : load.FollowerPositions()) absl::StrAppend(&followers, " ", position);
  std::printf("[%7.1fs] %s; acknowledged events %llu; followers at%s\n", elapsed_s,
              MemoryLine(sampler ? sampler->Latest() : std::nullopt).c_str(),
              static_cast<unsigned long long>(load.acked_count()), followers.c_str());
  PrintOpHeader();
  for (OpStats* stats : load.stats()) {
    OpSummary summary = stats->TakeInterval();
    if (summary.ok + summary.errors > 0) PrintOpRow(summary, interval_s);
  }
  std::fflush(stdout);
}

void PrintRssTable(const std::vector<MemorySample>& samples) {
  std::printf("\nserver memory over time (%zu samples, %zu shown):\n", samples.size(),
              std::min(samples.size(), kRssTableRows));
  std::printf("  %9s %9s %9s %8s\n", "t", "RSS MiB", "peak MiB", "threads");
  const size_t rows = std::min(samples.size(), kRssTableRows);
  for (size_t row = 0; row < rows; ++row) {
    // Evenly spaced, always including the first and the last sample.
    const size_t i = rows == 1 ? 0 : row * (samples.size() - 1) / (rows - 1);
    const MemorySample& sample = samples[i];
    std::printf("  %8.1fs %9.1f %9.1f %8d\n", sample.elapsed_s, sample.status.rss_kib / kKibPerMib,
                sample.status.hwm_kib / kKibPerMib, sample.status.threads);
  }
}

// ---------------------------------------------------------------------------
// The final checks. Each returns its failures (empty: passed) and prints what
// it found.

struct LogScan {
  uint64_t events = 0;
  std::string hash_at_final;
  std::vector<std::string> failures;
};

// Reads the log from `from_position` through `final_position` (ReadAll) and
// checks that it is contiguous and chained and that every acknowledged event
// is at its acknowledged position.
LogScan ScanLog(v1::LedgerService::Stub* stub, uint64_t from_position, std::string prev_hash,
                uint64_t final_position, const std::vector<AckedEvent>& acked) {
  LogScan scan;
  size_t next_acked = 0;
  uint64_t found = 0;
  auto fail = [&scan](std::string message) {
    if (scan.failures.size() < 20) scan.failures.push_back(std::move(message));
  };
  for (uint64_t position = from_position; position <= final_position;) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    v1::ReadAllRequest request;
    request.set_from_position(position);
    request.set_max_count(1000);
    v1::ReadResponse response;
    grpc::Status status = stub->ReadAll(&context, request, &response);
    if (!status.ok() || response.events_size() == 0) {
      fail(absl::StrCat("ReadAll from ", position, ": ", status.error_message(), " (",
                        response.events_size(), " events)"));
      break;
    }
    for (const v1::RecordedEvent& event : response.events()) {
      const v1::EventEnvelope& envelope = event.envelope();
      if (envelope.position() > final_position) break;
      if (envelope.position() != position)
        fail(absl::StrCat("ReadAll: expected position ", position, ", got ", envelope.position()));
      if (!prev_hash.empty() && envelope.prev_hash() != prev_hash)
        fail(absl::StrCat("position ", position, ": prev_hash does not link"));
      prev_hash = event.hash();
      for (; next_acked < acked.size() && acked[next_acked].position == envelope.position();
           ++next_acked) {
        if (acked[next_acked].id_hash == HashEventId(envelope.event_id())) {
          ++found;
        } else {
          fail(absl::StrCat("position ", position, " holds ", envelope.event_id(),
                            ", not the event acknowledged there"));
        }
      }
      if (envelope.position() == final_position) scan.hash_at_final = event.hash();
      position = envelope.position() + 1;
      ++scan.events;
    }
  }
  const uint64_t lost = acked.size() - found;
  std::printf(
      "acknowledged events readable at their positions: %llu of %zu (lost: %llu); "
      "log scanned: %llu events, chain links\n",
      static_cast<unsigned long long>(found), acked.size(), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(scan.events));
  if (lost > 0) fail(absl::StrCat("acknowledged lost: ", lost, " of ", acked.size()));
  return scan;
}

std::vector<std::string> CheckVerify(v1::LedgerService::Stub* stub, uint64_t final_position) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Minutes(10)));
  v1::VerifyRequest request;
  v1::VerifyResponse response;
  grpc::Status status = stub->Verify(&context, request, &response);
  if (!status.ok()) return {absl::StrCat("Verify: ", status.error_message())};
  std::printf("Verify (chain, indexes, Merkle tree): %s, %llu events\n",
              response.ok() ? "ok" : "FAILED",
              static_cast<unsigned long long>(response.verified_count()));
  if (!response.ok()) {
    return {absl::StrCat("Verify: ", response.problem(), " at ", response.first_bad_position(),
                         ": ", response.detail())};
  }
  if (response.to_position() < final_position) {
    return {absl::StrCat("Verify stopped at ", response.to_position(), " before ", final_position)};
  }
  return {};
}

std::vector<std::string> CheckFollowers(const std::vector<FollowerResult>& followers,
                                        uint64_t final_position, const std::string& hash_at_final) {
  std::vector<std::string> failures;
  for (size_t i = 0; i < followers.size(); ++i) {
    const FollowerResult& follower = followers[i];
    const bool same_head = follower.hash_at_final == hash_at_final;
    std::printf(
        "follower %zu: positions %llu..%llu, %llu delivered over %llu subscriptions, "
        "%zu errors, hash at the final head %s\n",
        i, static_cast<unsigned long long>(follower.first_position),
        static_cast<unsigned long long>(follower.last_position),
        static_cast<unsigned long long>(follower.delivered),
        static_cast<unsigned long long>(follower.subscriptions), follower.errors.size(),
        same_head ? "matches" : "DIFFERS");
    for (const std::string& error : follower.errors)
      failures.push_back(absl::StrCat("follower ", i, ": ", error));
    if (!same_head)
      failures.push_back(
          absl::StrCat("follower ", i, ": did not see the log's event at ", final_position));
    if (follower.delivered < final_position + 1 - follower.first_position) {
      failures.push_back(absl::StrCat("follower ", i, ": delivered ", follower.delivered, " of ",
                                      final_position + 1 - follower.first_position, " events"));
    }
  }
  return failures;
}

// The head once no event arrived for a while (the server signs a last tree
// head after the load stops).
absl::StatusOr<v1::GetHeadResponse> SettledHead(v1::LedgerService::Stub* stub) {
  std::optional<v1::GetHeadResponse> previous;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::GetHeadResponse head;
    grpc::Status status = stub->GetHead(&context, v1::GetHeadRequest(), &head);
    if (!status.ok())
      return absl::UnavailableError(absl::StrCat("GetHead: ", status.error_message()));
    if (previous && previous->position() == head.position()) return head;
    previous = head;
    absl::SleepFor(absl::Milliseconds(2500));
  }
  return absl::DeadlineExceededError("the log kept growing for 60 s after the load stopped");
}

absl::StatusOr<v1::GetHeadResponse> GetHead(v1::LedgerService::Stub* stub) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
  v1::GetHeadResponse head;
  grpc::Status status = stub->GetHead(&context, v1::GetHeadRequest(), &head);
  if (!status.ok())
    return absl::UnavailableError(absl::StrCat("GetHead: ", status.error_message()));
  return head;
}

// ---------------------------------------------------------------------------
// The run

struct Server {
  std::unique_ptr<LedgerdProcess> process;  // null with --target
  std::string address;
  pid_t pid = 0;  // 0: memory not measured
  std::string temp_dir;
};

absl::StatusOr<Server> StartServer() {
  Server server;
  if (!absl::GetFlag(FLAGS_target).empty()) {
    server.address = absl::GetFlag(FLAGS_target);
    server.pid = absl::GetFlag(FLAGS_server_pid);
    return server;
  }
  std::string pattern =
      absl::StrCat(bench::TempParent(absl::GetFlag(FLAGS_dir)), "/ledger_soak-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr)
    return absl::InternalError(absl::StrCat("mkdtemp ", pattern));
  server.temp_dir = pattern;
  std::vector<std::string> extra;
  for (absl::string_view flag :
       absl::StrSplit(absl::GetFlag(FLAGS_ledgerd_flags), ' ', absl::SkipEmpty())) {
    extra.emplace_back(flag);
  }
  server.process =
      std::make_unique<LedgerdProcess>(server.temp_dir + "/data", server.temp_dir, extra);
  absl::Status started = server.process->Start(absl::Seconds(60));
  if (!started.ok()) return started;
  server.address = server.process->address();
  server.pid = server.process->pid();
  return server;
}

// SIGTERM; a clean exit (code 0) within 30 s is expected.
std::vector<std::string> StopServer(Server& server) {
  if (server.process == nullptr) return {};
  std::optional<int> status = server.process->Terminate(absl::Seconds(30));
  const std::string how =
      status ? testing::DescribeWaitStatus(*status) : "still running after 30 s";
  std::printf("ledgerd on SIGTERM: %s\n", how.c_str());
  if (status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return {};
  return {absl::StrCat("ledgerd did not stop cleanly on SIGTERM: ", how, "\n",
                       server.process->LogTail())};
}

void PrintHeader(const Server& server, uint64_t seed, absl::Duration warmup) {
  std::printf("ledger_soak: %s against %s (%s), seed %llu\n",
              absl::FormatDuration(absl::GetFlag(FLAGS_duration)).c_str(), server.address.c_str(),
              server.process
                  ? absl::StrCat("ledgerd pid ", server.pid, ", data in ", server.temp_dir).c_str()
                  : (server.pid ? absl::StrCat("pid ", server.pid).c_str() : "memory not measured"),
              static_cast<unsigned long long>(seed));
  std::printf(
      "offered load: sakip %.1f/s, append %.1f/s, report %.1f/s, history %.1f/s, read %.1f/s, "
      "%d followers; %d units, %d raw streams; warm-up %s\n",
      absl::GetFlag(FLAGS_sakip_rate_per_s), absl::GetFlag(FLAGS_append_rate_per_s),
      absl::GetFlag(FLAGS_report_rate_per_s), absl::GetFlag(FLAGS_history_rate_per_s),
      absl::GetFlag(FLAGS_read_rate_per_s), absl::GetFlag(FLAGS_subscribers),
      absl::GetFlag(FLAGS_units), absl::GetFlag(FLAGS_raw_streams),
      absl::FormatDuration(warmup).c_str());
  std::fflush(stdout);
}

// Runs the timed load, printing every --report_interval_s.
void RunLoad(Load& load, MemorySampler* sampler) {
  const absl::Time start = absl::Now();
  const absl::Time end = start + absl::GetFlag(FLAGS_duration);
  if (sampler) sampler->Start(start);
  load.StartWorkers(start, end);
  const absl::Duration interval = absl::Seconds(absl::GetFlag(FLAGS_report_interval_s));
  absl::Time last_report = start;
  while (absl::Now() + interval <= end) {
    absl::SleepFor(last_report + interval - absl::Now());
    const absl::Time now = absl::Now();
    PrintInterval(load, sampler, absl::ToDoubleSeconds(now - start),
                  absl::ToDoubleSeconds(now - last_report));
    last_report = now;
  }
  load.JoinWorkers();
  if (sampler) sampler->Stop();
  const absl::Time now = absl::Now();
  PrintInterval(load, sampler, absl::ToDoubleSeconds(now - start),
                absl::ToDoubleSeconds(now - last_report));
}

std::vector<std::string> OpFailures(Load& load, double seconds) {
  std::printf("\ntotals over the load (%.0f s):\n", seconds);
  PrintOpHeader();
  std::vector<std::string> failures;
  for (OpStats* stats : load.stats()) {
    OpSummary total = stats->Total();
    PrintOpRow(total, stats->kind() == "plan" ? 0 : seconds);
    for (const std::string& sample : stats->ErrorSamples()) failures.push_back(sample);
    if (total.errors > stats->ErrorSamples().size()) {
      failures.push_back(absl::StrCat(stats->kind(), ": ", total.errors, " errors in all"));
    }
  }
  return failures;
}

void Append(std::vector<std::string> more, std::vector<std::string>* failures) {
  for (std::string& failure : more) failures->push_back(std::move(failure));
}

// --samples_csv: every sample, for plotting or judging again.
std::vector<std::string> WriteSamplesCsv(const std::vector<MemorySample>& samples) {
  const std::string path = absl::GetFlag(FLAGS_samples_csv);
  if (path.empty()) return {};
  std::FILE* file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return {absl::StrCat("--samples_csv: cannot write ", path)};
  std::fprintf(file, "elapsed_s,events,sst_bytes_written,rss_kib,hwm_kib,threads\n");
  for (const MemorySample& sample : samples) {
    std::fprintf(file, "%.3f,%llu,%llu,%llu,%llu,%d\n", sample.elapsed_s,
                 static_cast<unsigned long long>(sample.events),
                 static_cast<unsigned long long>(sample.sst_bytes_written),
                 static_cast<unsigned long long>(sample.status.rss_kib),
                 static_cast<unsigned long long>(sample.status.hwm_kib), sample.status.threads);
  }
  std::fclose(file);
  std::printf("memory samples written to %s\n", path.c_str());
  return {};
}

std::vector<std::string> MemoryFailures(const MemorySampler* sampler, double warmup_s) {
  if (sampler == nullptr) {
    std::printf("\nserver memory: not measured (--target without --server_pid)\n");
    return {};
  }
  const std::vector<MemorySample> samples = sampler->Samples();
  PrintRssTable(samples);
  const MemoryBounds bounds{absl::GetFlag(FLAGS_max_rss_mib), absl::GetFlag(FLAGS_max_growth_mib),
                            absl::GetFlag(FLAGS_caches_full_events),
                            absl::GetFlag(FLAGS_fill_kib_per_event),
                            absl::GetFlag(FLAGS_block_cache_mib)};
  const MemoryVerdict verdict = JudgeMemory(samples, warmup_s, bounds);
  std::printf(
      "memory over the %.0f s after the warm-up (%.0f s): RSS %.1f -> %.1f MiB, "
      "slope %+.1f MiB/h;\n"
      "  highest RSS, first half %.1f MiB, second half %.1f MiB: growth %+.1f MiB\n"
      "  (bound %.1f = %.0f + %.1f for %llu events appended while the caches filled + %.1f for "
      "the block cache);\n"
      "  peak RSS (VmHWM) %.1f MiB (bound %.0f)\n",
      verdict.window_s, warmup_s, verdict.warm_rss_mib, verdict.end_rss_mib,
      verdict.slope_mib_per_h, verdict.first_half_peak_mib, verdict.second_half_peak_mib,
      verdict.peak_growth_mib, verdict.growth_bound_mib, bounds.max_growth_mib,
      verdict.filling_events * bounds.fill_kib_per_event / kKibPerMib,
      static_cast<unsigned long long>(verdict.filling_events), verdict.block_cache_fill_mib,
      verdict.peak_hwm_mib, bounds.max_rss_mib);
  std::vector<std::string> failures = verdict.failures;
  Append(WriteSamplesCsv(samples), &failures);
  if (!sampler->Error().empty())
    failures.push_back(absl::StrCat("memory sampling: ", sampler->Error()));
  return failures;
}

// After the load: the log, Verify and the followers against what was
// acknowledged, once the log has stopped growing.
std::vector<std::string> EndChecks(Load& load, v1::LedgerService::Stub* stub,
                                   uint64_t from_position, const std::string& prev_hash) {
  std::printf("\nchecks:\n");
  absl::StatusOr<v1::GetHeadResponse> final_head = SettledHead(stub);
  if (!final_head.ok()) return {std::string(final_head.status().message())};
  const uint64_t final_position = final_head->position();
  std::vector<FollowerResult> followers =
      load.StopFollowers(final_position, absl::Now() + absl::Seconds(120));
  LogScan scan = ScanLog(stub, from_position, prev_hash, final_position, load.AckedSorted());
  std::vector<std::string> failures = std::move(scan.failures);
  Append(CheckVerify(stub, final_position), &failures);
  Append(CheckFollowers(followers, final_position, scan.hash_at_final), &failures);
  return failures;
}

// Prints the verdict, removes the data directory unless it is kept; the exit code.
int Verdict(const std::vector<std::string>& failures, const Server& server) {
  const bool keep =
      absl::GetFlag(FLAGS_keep) || (!failures.empty() && absl::GetFlag(FLAGS_keep_on_failure));
  if (!server.temp_dir.empty() && !keep) std::filesystem::remove_all(server.temp_dir);
  if (failures.empty()) {
    std::printf("\nSOAK PASSED: no errors, nothing lost, memory within bounds\n");
    return 0;
  }
  std::printf("\nSOAK FAILED (%zu):\n", failures.size());
  for (const std::string& failure : failures) std::printf("  - %s\n", failure.c_str());
  if (!server.temp_dir.empty() && keep) std::printf("data kept in %s\n", server.temp_dir.c_str());
  return 1;
}

int Main() {
  uint64_t seed = absl::GetFlag(FLAGS_seed);
  if (seed == 0) {
    seed = std::random_device()() ^ static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }
  const absl::Duration warmup = Warmup();
  absl::StatusOr<Server> server = StartServer();
  if (!server.ok()) {
    std::fprintf(stderr, "ledger_soak: cannot start ledgerd: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  PrintHeader(*server, seed, warmup);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < absl::GetFlag(FLAGS_channels); ++i) {
    channels.push_back(testing::InsecureChannel(server->address));
  }
  auto stub = v1::LedgerService::NewStub(channels[0]);
  absl::StatusOr<v1::GetHeadResponse> start_head = GetHead(stub.get());
  if (!start_head.ok()) {
    std::fprintf(stderr, "ledger_soak: %s\n", start_head.status().ToString().c_str());
    return 1;
  }
  // The followers and the end checks start at the run's first position; the
  // event before it is the head's (32 zero bytes before position 1).
  const uint64_t from_position = start_head->position() + 1;
  const std::string prev_hash =
      start_head->position() == 0 ? std::string(32, '\0') : start_head->hash();

  std::vector<std::string> failures;
  Load load(LoadOptionsFromFlags(seed), channels);
  load.StartFollowers(from_position, prev_hash);  // they see the plans recorded too
  absl::Status planned = load.PlanUnits();
  if (!planned.ok()) failures.push_back(absl::StrCat("planning the units: ", planned.message()));
  std::unique_ptr<MemorySampler> sampler;
  if (server->pid != 0) {
    sampler = std::make_unique<MemorySampler>(
        server->pid, absl::Milliseconds(absl::GetFlag(FLAGS_sample_interval_ms)),
        [&load] { return load.acked_count(); },
        server->process ? server->temp_dir + "/data" : absl::GetFlag(FLAGS_server_data_dir));
  }
  if (planned.ok()) RunLoad(load, sampler.get());

  Append(OpFailures(load, absl::ToDoubleSeconds(absl::GetFlag(FLAGS_duration))), &failures);
  Append(MemoryFailures(sampler.get(), absl::ToDoubleSeconds(warmup)), &failures);
  Append(EndChecks(load, stub.get(), from_position, prev_hash), &failures);
  Append(StopServer(*server), &failures);
  return Verdict(failures, *server);
}

}  // namespace
}  // namespace ledger::soak

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ledger_soak [--duration=30s|1h|8h] [--target=host:port --server_pid=N] "
      "[--*_rate_per_s=...]\n"
      "Sustained mixed load against ledgerd: throughput, latency percentiles, the server's memory "
      "over time, and at the end nothing acknowledged lost. See docs/BENCHMARKS.md, \"Soak\".");
  std::vector<char*> rest = absl::ParseCommandLine(argc, argv);
  setvbuf(stdout, nullptr, _IOLBF, 0);  // progress reaches a pipe or a ctest log at once
  if (rest.size() > 1) {
    std::fprintf(stderr, "ledger_soak: unexpected argument '%s' (flags are --name=value)\n",
                 rest[1]);
    return 2;
  }
  if (!ledger::soak::ValidateFlags()) return 2;
  return ledger::soak::Main();
}
