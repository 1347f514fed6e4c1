// ledger_bench: how many durable appends per second the ledger takes, and at
// what latency, next to what plain RocksDB synced writes of the same bytes do
// on the same machine in the same run.
//
// Cases (each in a fresh temporary data directory, removed afterwards):
//   raw/put/T         plain RocksDB, default options + WAL, WriteOptions.sync,
//                     one Put of an event-sized value per write, T threads
//   raw/batchN/T      the same, a WriteBatch of N such values per write
//   store/single/T    OpenRocksEventLog: Append of 1 event, T threads
//   store/batchN/T    Append of N events
//   grpc/single/T     an in-process LedgerServer on 127.0.0.1:0 and real
//                     channels (one per --threads_per_channel threads)
//   grpc/batchN/T
//   grpc-async/...    the same server and channels; the T appenders are kept
//                     in flight by completion callbacks (gRPC's callback API)
//                     instead of one blocked client thread each: an
//                     asynchronous client, whose own CPU on these shared
//                     cores is far smaller
//   grpc-tls/...      the same gRPC cases over TLS (a server certificate from a
//                     throwaway CA made in memory), authentication off
//   grpc-token/...    TLS and authentication on: the server reads a principals
//                     file of one admin principal (scope "*"), every call
//                     carries its bearer token (as ledgerctl sends it) and is
//                     authenticated and authorized (services/access.cc)
//   grpc-mtls/...     TLS with a required client certificate and
//                     authentication on: the principal is the certificate's
//                     common name, no token
//   micro/writer      CPU cost per event besides the sync, step by step as
//                     ledger/store/rocks_event_log.cc does it (Prepare on the
//                     callers; MultiGet and Stage on the writer; the batch and
//                     an unsynced write on the committer), a synced write of
//                     the same group, and the raw baseline's write of the
//                     same records
//
// Every figure is closed-loop: each appender (a thread, or for grpc-async a
// chain of callbacks) issues its next append as soon as the previous one is
// acknowledged. Only operations completed inside the
// measurement window (after --warmup) count. See docs/BENCHMARKS.md.
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <latch>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"
#include "ledger/auth/principals.h"
#include "ledger/integrity/record.h"
#include "ledger/integrity/sha256.h"
#include "ledger/limits.h"
#include "ledger/store/append_validation.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/store/rocks_options.h"
#include "ledger/v1/event.pb.h"
#include "ledger/v1/ledger.grpc.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/options.h"
#include "rocksdb/statistics.h"
#include "rocksdb/version.h"
#include "rocksdb/write_batch.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/security/server_credentials.h"
#include "openssl/evp.h"
#include "grpcpp/server_builder.h"
#include "services/ledger_service.h"
#include "services/server.h"
#include "tests/support/test_pki.h"

ABSL_FLAG(double, seconds, 3.0, "measured seconds per case");
ABSL_FLAG(double, warmup, 2.0,
          "unmeasured seconds at the start of each case (the first ~65k appends after opening "
          "a log also fill its recent-events ring and first memtable: page faults)");
ABSL_FLAG(std::string, cases, "all",
          "comma-separated case selectors: a case name or a prefix of whole segments "
          "(raw, store/single, grpc/batch100/16, micro); 'all' for every case. "
          "--list prints the names");
ABSL_FLAG(bool, list, false, "print the case names and exit");
ABSL_FLAG(bool, quick, false,
          "a fast smoke run: 1 s per case, 0.2 s warm-up, fewer micro iterations");
ABSL_FLAG(int, repeat, 1,
          "run the whole selection this many times and report one round per case (see --pick)");
ABSL_FLAG(std::string, pick, "quietest",
          "with --repeat: 'quietest' reports, per case, the round in which the rest of the "
          "machine used the least CPU (the 'other' column); 'median' the round with the median "
          "appends/s");
ABSL_FLAG(std::string, dir, "",
          "parent of the per-case temporary data directories (default: $TMPDIR or /tmp); "
          "put it on the filesystem you want to measure");
ABSL_FLAG(std::string, single_threads, "1,16,64", "appender counts of the single-event cases");
ABSL_FLAG(std::string, batch_threads, "1,4,16", "appender counts of the batched cases");
ABSL_FLAG(int, batch_events, 100, "events per append (per WriteBatch) in the batched cases");
ABSL_FLAG(int, payload_bytes, 300, "payload bytes per event");
ABSL_FLAG(int, threads_per_channel, 8, "gRPC client threads sharing one channel (connection)");
ABSL_FLAG(bool, raw_ledger_options, false,
          "open the raw baseline with the ledger's own options (LedgerDbOptions and the events "
          "family's options) instead of RocksDB's defaults");
ABSL_FLAG(int, micro_events, 100000, "events staged by the micro/writer measurement");
ABSL_FLAG(int, grpc_max_pollers, 0,
          "experiment: 0 runs the gRPC cases against services::LedgerServer as ledgerd does; N > 0 "
          "serves the same LedgerServiceImpl from a server built here with the sync server's "
          "MAX_POLLERS raised from 2 to N (idle handler threads are kept instead of exiting and "
          "being created again per call)");
ABSL_FLAG(bool, mutex_deadlock_detection, false,
          "keep abseil's lock-order (deadlock) detection on, as the tests run; ledgerd turns it "
          "off, and so does the benchmark by default");
ABSL_FLAG(bool, token_as_metadata, false,
          "experiment: the grpc-token cases add \"authorization: Bearer <token>\" to each call's "
          "ClientContext instead of using AccessTokenCredentials (call credentials), to tell the "
          "client's call-credentials cost from the server's");

namespace ledger::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             SteadyClock::now().time_since_epoch())
      .count();
}

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "ledger_bench: %s\n", message.c_str());
  std::exit(1);
}

void DieIf(const absl::Status& status, const std::string& context) {
  if (!status.ok()) Die(absl::StrCat(context, ": ", status.ToString()));
}

void DieIf(const rocksdb::Status& status, const std::string& context) {
  if (!status.ok()) Die(absl::StrCat(context, ": ", status.ToString()));
}

// ---------------------------------------------------------------------------
// The machine.

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  size_t start = s.find_first_not_of(" \t");
  return start == std::string::npos ? std::string() : s.substr(start);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  std::string mhz;
  std::string model;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Trim(line.substr(0, colon));
    if (key == "model name" && model.empty()) model = Trim(line.substr(colon + 1));
    if (key == "cpu MHz" && mhz.empty()) mhz = Trim(line.substr(colon + 1));
  }
  if (model.empty()) model = "(unknown)";
  return mhz.empty() ? model : absl::StrCat(model, " @ ", mhz, " MHz");
}

std::string Kernel() {
  struct utsname name;
  if (uname(&name) != 0) return "(unknown)";
  return absl::StrCat(name.sysname, " ", name.release, " ", name.machine);
}

// The mount that holds `path`: "ext4 on / (/dev/vda, rw,relatime)".
std::string FilesystemOf(const std::string& path) {
  std::error_code error;
  std::string real = std::filesystem::canonical(path, error).string();
  if (error) real = path;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  std::string best_point;
  std::string best;
  while (std::getline(in, line)) {
    // id parent major:minor root mount_point options [optional...] - fstype source super_options
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() < 10) continue;
    const std::string& point = fields[4];
    bool covers = real == point || point == "/" ||
                  (real.size() > point.size() && real.compare(0, point.size(), point) == 0 &&
                   real[point.size()] == '/');
    if (!covers || point.size() < best_point.size()) continue;
    size_t dash = 6;
    while (dash < fields.size() && fields[dash] != "-") ++dash;
    if (dash + 2 >= fields.size()) continue;
    best_point = point;
    best = absl::StrCat(fields[dash + 1], " on ", point, " (", fields[dash + 2], ", ", fields[5],
                        ")");
  }
  if (best.empty()) {
    struct statfs info;
    if (statfs(path.c_str(), &info) == 0) {
      return absl::StrFormat("f_type 0x%x", static_cast<unsigned long>(info.f_type));
    }
    return "(unknown)";
  }
  return best;
}

std::string LoadAverage() {
  std::vector<std::string> parts = absl::StrSplit(ReadFile("/proc/loadavg"), ' ');
  if (parts.size() < 3) return "(unknown)";
  return absl::StrCat(parts[0], " ", parts[1], " ", parts[2]);
}

// Busy and total jiffies of all CPUs, from /proc/stat.
struct CpuTimes {
  uint64_t busy = 0;
  uint64_t total = 0;
};

CpuTimes ReadCpuTimes() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  CpuTimes times;
  times.busy = user + nice + system + irq + softirq + steal;
  times.total = times.busy + idle + iowait;
  return times;
}

struct Usage {
  double cpu_seconds = 0;
  int64_t minor_faults = 0;
  int64_t context_switches = 0;  // voluntary and involuntary
};

Usage ProcessUsage() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  Usage u;
  u.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                  static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
  u.minor_faults = usage.ru_minflt;
  u.context_switches = usage.ru_nvcsw + usage.ru_nivcsw;
  return u;
}

// What a system call and a thread wake-up cost here: group commit is a
// hand-off between threads, and gRPC is system calls and wake-ups, so these
// two numbers explain much of the difference between machines.
double SyscallNs() {
  const int n = 200000;
  int64_t t0 = NowNs();
  for (int i = 0; i < n; ++i) syscall(SYS_getppid);
  return static_cast<double>(NowNs() - t0) / n;
}

// One round trip: wake another thread through a condition variable and be
// woken back.
double WakeRoundTripNs() {
  std::mutex mu;
  std::condition_variable cv;
  int turn = 0;
  const int n = 20000;
  std::thread other([&] {
    for (int i = 0; i < n; ++i) {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return turn == 1; });
      turn = 0;
      cv.notify_all();
    }
  });
  int64_t t0 = NowNs();
  for (int i = 0; i < n; ++i) {
    std::unique_lock<std::mutex> lock(mu);
    turn = 1;
    cv.notify_all();
    cv.wait(lock, [&] { return turn == 0; });
  }
  int64_t spent = NowNs() - t0;
  other.join();
  return static_cast<double>(spent) / n;
}

// ---------------------------------------------------------------------------
// Threads of this process (to find the log's writer thread without touching
// the log: the one new unnamed thread that OpenRocksEventLog starts besides
// RocksDB's own, which name themselves "rocksdb:...").

std::set<int> Tasks() {
  std::set<int> tasks;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    int tid = 0;
    if (absl::SimpleAtoi(entry.path().filename().string(), &tid)) tasks.insert(tid);
  }
  return tasks;
}

std::string TaskName(int tid) { return Trim(ReadFile(absl::StrCat("/proc/self/task/", tid, "/comm"))); }

// Nanoseconds the thread has spent on a CPU.
int64_t TaskCpuNs(int tid) {
  std::string schedstat = ReadFile(absl::StrCat("/proc/self/task/", tid, "/schedstat"));
  int64_t ns = 0;
  std::vector<std::string> parts = absl::StrSplit(schedstat, ' ');
  if (!parts.empty() && absl::SimpleAtoi(parts[0], &ns)) return ns;
  // Fallback: utime + stime in clock ticks.
  std::string stat = ReadFile(absl::StrCat("/proc/self/task/", tid, "/stat"));
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::vector<std::string> fields = absl::StrSplit(stat.substr(paren + 2), ' ');
  int64_t utime = 0, stime = 0;
  if (fields.size() > 12 && absl::SimpleAtoi(fields[11], &utime) &&
      absl::SimpleAtoi(fields[12], &stime)) {
    return (utime + stime) * (1000000000 / sysconf(_SC_CLK_TCK));
  }
  return 0;
}

// Threads started between construction and Capture() that are not RocksDB's.
class NewThreads {
 public:
  NewThreads() : before_(Tasks()) {}
  void Capture() {
    for (int tid : Tasks()) {
      if (before_.count(tid)) continue;
      if (TaskName(tid).rfind("rocksdb:", 0) == 0) continue;
      tids_.push_back(tid);
    }
  }
  const std::vector<int>& tids() const { return tids_; }

 private:
  std::set<int> before_;
  std::vector<int> tids_;
};

// ---------------------------------------------------------------------------
// Scratch directories.

std::string ScratchParent() {
  std::string dir = absl::GetFlag(FLAGS_dir);
  if (dir.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    dir = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
  }
  return dir;
}

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = ScratchParent() + "/ledger_bench.XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (mkdtemp(buffer.data()) == nullptr) Die(absl::StrCat("mkdtemp ", pattern, " failed"));
    path_ = buffer.data();
  }
  ~ScratchDir() {
    std::error_code error;
    std::filesystem::remove_all(path_, error);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// ---------------------------------------------------------------------------
// What is written: realistic audit events.

constexpr char kActor[] = "local:ledgerd";  // what LedgerServiceImpl writes by default
constexpr char kEventType[] = "RealizationRecorded";
constexpr char kContentType[] = "application/json";

std::string MakePayload(int bytes) {
  std::string payload =
      R"({"unit":"35.08.19","fiscal_year":2024,"program":"1.02.01","activity":"2.3",)"
      R"("indicator":"IKU-07","period":"2024-Q3","target":1250000000,"realized":)"
      R"(1187500000,"currency":"IDR","note":")";
  std::string tail = "\"}";
  const std::string filler = "realisasi anggaran triwulan ketiga sesuai rencana kerja ";
  while (payload.size() + tail.size() < static_cast<size_t>(bytes)) {
    payload.push_back(filler[payload.size() % filler.size()]);
  }
  payload += tail;
  if (payload.size() > static_cast<size_t>(bytes)) payload.resize(static_cast<size_t>(bytes));
  return payload;
}

// UUID-shaped (36 bytes), unique per (thread, sequence).
std::string EventId(uint32_t thread, uint64_t seq) {
  return absl::StrFormat("%08x-%04x-4%03x-8%03x-%012x", thread, (seq >> 48) & 0xFFFF,
                         (seq >> 36) & 0xFFF, (seq >> 24) & 0xFFF, seq & 0xFFFFFFFFFFFFULL);
}

std::string StreamId(uint32_t thread) {
  return absl::StrCat("35.08.", 10 + thread % 90, "/2024/t", thread);
}

ProposedEvent MakeEvent(const std::string& payload, uint32_t thread, uint64_t seq) {
  ProposedEvent event;
  event.event_id = EventId(thread, seq);
  event.event_type = kEventType;
  event.payload = payload;
  event.content_type = kContentType;
  event.correlation_id = EventId(thread, seq & ~uint64_t{0xFF});
  return event;
}

// The stored record of a typical event, exactly as the store frames it.
std::string TypicalRecord(const std::string& payload) {
  ProposedEvent proposed = MakeEvent(payload, 7, 123456);
  v1::EventEnvelope envelope;
  envelope.set_position(1234567);
  envelope.set_stream_id(StreamId(7));
  envelope.set_stream_version(123456);
  envelope.set_event_id(proposed.event_id);
  envelope.set_event_type(proposed.event_type);
  envelope.set_payload(proposed.payload);
  envelope.set_content_type(proposed.content_type);
  envelope.set_recorded_at_micros(absl::ToUnixMicros(absl::Now()));
  envelope.set_actor(kActor);
  envelope.set_correlation_id(proposed.correlation_id);
  envelope.set_prev_hash(Sha256("previous"));
  std::string body;
  envelope.SerializeToString(&body);
  return EncodeRecord(body);
}

// Bytes the store writes per event: the record plus two index entries
// (ledger/store/keys.h), before RocksDB's own framing; the time index and the
// head are written once per group commit.
size_t StoreBytesPerEvent(const std::string& record) {
  std::string stream = StreamId(7);
  keys::IdEntry id{1234567, 123456, Sha256("digest")};
  return 8 + record.size() +                                // events
         keys::StreamKey(stream, 1).size() + 8 +            // streams
         EventId(7, 1).size() + keys::IdValue(id).size();   // ids
}

// ---------------------------------------------------------------------------
// The closed-loop runner.

struct OpOutcome {
  bool ok = true;
  // The group commit the append landed in (its recorded_at), 0 if unknown.
  int64_t group_tag = 0;
  std::string error;
};

using Op = std::function<OpOutcome(uint32_t thread, uint64_t seq)>;

struct Hooks {
  std::function<void()> window_start;  // called by the main thread as the window opens
  std::function<void()> window_end;
};

struct Measurement {
  double seconds = 0;
  int64_t ops = 0;
  int64_t errors = 0;
  std::string first_error;
  std::vector<int64_t> latencies_ns;
  int64_t distinct_groups = 0;  // from group tags; 0 if the op gives none
  double process_cores = 0;     // CPU seconds of this process per second
  double other_cores = 0;       // CPU seconds of everything else on the machine per second
  int64_t minor_faults = 0;     // of this process, in the window
  int64_t context_switches = 0;
};

// What one appender saw.
struct PerAppender {
  int64_t ops = 0;
  int64_t errors = 0;
  std::string first_error;
  std::vector<int64_t> latencies_ns;
  std::vector<int64_t> tags;
};

// Records one finished operation (only those completed inside [start, end]
// count); false when the appender is to stop.
bool RecordOutcome(const OpOutcome& outcome, int64_t t0, int64_t t1, int64_t start, int64_t end,
                   PerAppender* mine) {
  if (!outcome.ok) {
    ++mine->errors;
    if (mine->first_error.empty()) mine->first_error = outcome.error;
  } else if (t1 >= start && t1 <= end) {
    ++mine->ops;
    mine->latencies_ns.push_back(t1 - t0);
    if (outcome.group_tag != 0) mine->tags.push_back(outcome.group_tag);
  }
  if (t1 > end) return false;
  return outcome.ok || mine->errors <= 1000;  // broken: do not spin
}

void SleepUntilNs(int64_t ns) {
  int64_t now = NowNs();
  if (ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(ns - now));
}

// Sleeps through the window [start, end] while measuring the process's and
// the machine's CPU over it; the appenders' figures are added by Aggregate.
Measurement MeasureWindow(int64_t start, int64_t end, double seconds, const Hooks& hooks) {
  SleepUntilNs(start);
  const CpuTimes cpu0 = ReadCpuTimes();
  const Usage own0 = ProcessUsage();
  if (hooks.window_start) hooks.window_start();
  SleepUntilNs(end);
  if (hooks.window_end) hooks.window_end();
  const CpuTimes cpu1 = ReadCpuTimes();
  const Usage own1 = ProcessUsage();
  Measurement m;
  m.seconds = seconds;
  const double ncpu = static_cast<double>(std::thread::hardware_concurrency());
  const double total = static_cast<double>(cpu1.total - cpu0.total);
  const double machine_cores =
      total > 0 ? static_cast<double>(cpu1.busy - cpu0.busy) / total * ncpu : 0.0;
  m.process_cores = (own1.cpu_seconds - own0.cpu_seconds) / seconds;
  m.minor_faults = own1.minor_faults - own0.minor_faults;
  m.context_switches = own1.context_switches - own0.context_switches;
  m.other_cores = std::max(0.0, machine_cores - m.process_cores);
  return m;
}

void Aggregate(std::vector<PerAppender>& appenders, Measurement* m) {
  std::vector<int64_t> tags;
  for (PerAppender& mine : appenders) {
    m->ops += mine.ops;
    m->errors += mine.errors;
    if (m->first_error.empty()) m->first_error = mine.first_error;
    m->latencies_ns.insert(m->latencies_ns.end(), mine.latencies_ns.begin(),
                           mine.latencies_ns.end());
    tags.insert(tags.end(), mine.tags.begin(), mine.tags.end());
  }
  std::sort(m->latencies_ns.begin(), m->latencies_ns.end());
  std::sort(tags.begin(), tags.end());
  m->distinct_groups = std::unique(tags.begin(), tags.end()) - tags.begin();
}

Measurement RunClosedLoop(int threads, double seconds, double warmup, const Op& op,
                          const Hooks& hooks) {
  std::vector<PerAppender> per_thread(static_cast<size_t>(threads));
  std::atomic<int64_t> window_start{0};
  std::atomic<int64_t> window_end{0};
  std::latch ready(threads + 1);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      PerAppender& mine = per_thread[static_cast<size_t>(t)];
      mine.latencies_ns.reserve(1 << 16);
      ready.arrive_and_wait();
      const int64_t start = window_start.load();
      const int64_t end = window_end.load();
      for (uint64_t seq = 1;; ++seq) {
        int64_t t0 = NowNs();
        OpOutcome outcome = op(static_cast<uint32_t>(t), seq);
        if (!RecordOutcome(outcome, t0, NowNs(), start, end, &mine)) break;
      }
    });
  }
  const int64_t start = NowNs() + static_cast<int64_t>(warmup * 1e9);
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  window_start.store(start);
  window_end.store(end);
  ready.arrive_and_wait();
  Measurement m = MeasureWindow(start, end, seconds, hooks);
  for (std::thread& worker : workers) worker.join();
  Aggregate(per_thread, &m);
  return m;
}

// An operation that completes asynchronously: it calls `done` exactly once,
// later, from any thread, and never blocks.
using AsyncOp =
    std::function<void(uint32_t appender, uint64_t seq, std::function<void(OpOutcome)> done)>;

// RunClosedLoop with `appenders` operations kept in flight by completion
// callbacks instead of one thread each. Each appender's chain is sequential
// (its next operation is issued from the previous one's callback), so its
// PerAppender is only ever touched by one callback at a time.
Measurement RunAsyncClosedLoop(int appenders, double seconds, double warmup, const AsyncOp& op,
                               const Hooks& hooks) {
  std::vector<PerAppender> per_appender(static_cast<size_t>(appenders));
  std::vector<uint64_t> next_seq(static_cast<size_t>(appenders), 1);
  const int64_t start = NowNs() + static_cast<int64_t>(warmup * 1e9);
  const int64_t end = start + static_cast<int64_t>(seconds * 1e9);
  std::latch finished(appenders);
  std::function<void(uint32_t)> issue = [&](uint32_t a) {
    const int64_t t0 = NowNs();
    op(a, next_seq[a]++, [&, a, t0](OpOutcome outcome) {
      if (RecordOutcome(outcome, t0, NowNs(), start, end, &per_appender[a])) {
        issue(a);
      } else {
        finished.count_down();
      }
    });
  };
  for (int a = 0; a < appenders; ++a) {
    per_appender[static_cast<size_t>(a)].latencies_ns.reserve(1 << 16);
    issue(static_cast<uint32_t>(a));
  }
  Measurement m = MeasureWindow(start, end, seconds, hooks);
  finished.wait();
  Aggregate(per_appender, &m);
  return m;
}

double Percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  rank = std::clamp<size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

// ---------------------------------------------------------------------------
// Cases.

// kGrpc* are the same gRPC cases, plain or secured (see the file comment).
enum class Target { kRaw, kStore, kGrpc, kGrpcAsync, kGrpcTls, kGrpcToken, kGrpcMtls, kMicro };

bool IsSecured(Target target) {
  return target == Target::kGrpcTls || target == Target::kGrpcToken || target == Target::kGrpcMtls;
}

struct CaseSpec {
  std::string name;
  Target target;
  int threads = 1;
  int events_per_op = 1;
};

struct CaseResult {
  CaseSpec spec;
  bool ran = false;
  double appends_per_s = 0;
  double events_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double syncs_per_s = 0;       // WAL syncs (counted by a file system wrapper or ticker)
  double appends_per_sync = 0;
  double process_cores = 0;
  double other_cores = 0;
  double writer_busy = -1;      // fraction of wall time the log's busiest thread was on a CPU
  double faults_per_append = 0;    // minor page faults of the process per append
  double switches_per_append = 0;  // context switches of the process per append
  int64_t errors = 0;
  std::string first_error;
  std::string note;
};

struct Env {
  double seconds = 3;
  double warmup = 0.5;
  std::string payload;
  std::string record;  // the raw baseline's value
  int threads_per_channel = 8;
  bool raw_ledger_options = false;
};

void FillFromMeasurement(const Measurement& m, CaseResult* r) {
  r->ran = true;
  r->appends_per_s = static_cast<double>(m.ops) / m.seconds;
  r->events_per_s = r->appends_per_s * r->spec.events_per_op;
  r->p50_ms = Percentile(m.latencies_ns, 0.50) / 1e6;
  r->p99_ms = Percentile(m.latencies_ns, 0.99) / 1e6;
  r->max_ms = m.latencies_ns.empty() ? 0 : static_cast<double>(m.latencies_ns.back()) / 1e6;
  if (m.distinct_groups > 0) {
    r->syncs_per_s = static_cast<double>(m.distinct_groups) / m.seconds;
    r->appends_per_sync = static_cast<double>(m.ops) / static_cast<double>(m.distinct_groups);
  }
  r->process_cores = m.process_cores;
  if (m.ops > 0) {
    r->faults_per_append = static_cast<double>(m.minor_faults) / static_cast<double>(m.ops);
    r->switches_per_append = static_cast<double>(m.context_switches) / static_cast<double>(m.ops);
  }
  r->other_cores = m.other_cores;
  r->errors = m.errors;
  r->first_error = m.first_error;
}

// Synced writes per second and appends per synced write, from a count of
// syncs inside the measured window.
void SetSyncs(const Measurement& m, uint64_t syncs, CaseResult* result) {
  if (syncs == 0) return;
  result->syncs_per_s = static_cast<double>(syncs) / m.seconds;
  result->appends_per_sync = static_cast<double>(m.ops) / static_cast<double>(syncs);
}

// Samples the CPU time of the threads the log started (writer, committer,
// completer) over the window and reports the busiest: the serial bottleneck.
class WriterCpu {
 public:
  explicit WriterCpu(std::vector<int> tids) : tids_(std::move(tids)) {}
  void Start() {
    start_.clear();
    for (int tid : tids_) start_.push_back(TaskCpuNs(tid));
    start_ns_ = NowNs();
  }
  void End() {
    double elapsed = static_cast<double>(NowNs() - start_ns_);
    busiest_ = 0;
    for (size_t i = 0; i < tids_.size(); ++i) {
      busiest_ = std::max(busiest_, static_cast<double>(TaskCpuNs(tids_[i]) - start_[i]) / elapsed);
    }
  }
  double busy() const { return tids_.empty() ? -1 : busiest_; }

 private:
  std::vector<int> tids_;
  std::vector<int64_t> start_;
  int64_t start_ns_ = 0;
  double busiest_ = 0;
};

CaseResult RunRaw(const CaseSpec& spec, const Env& env) {
  CaseResult result;
  result.spec = spec;
  ScratchDir dir;
  rocksdb::Options options;
  if (env.raw_ledger_options) {
    options = rocksdb::Options(LedgerDbOptions(), LedgerColumnFamilies()[1].options);
  }
  options.create_if_missing = true;
  options.statistics = rocksdb::CreateDBStatistics();
  options.statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  rocksdb::DB* raw = nullptr;
  DieIf(rocksdb::DB::Open(options, dir.path(), &raw), "opening the raw baseline");
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  write_options.disableWAL = false;

  const std::string& value = env.record;
  const int per_op = spec.events_per_op;
  Op op = [&](uint32_t thread, uint64_t seq) {
    OpOutcome outcome;
    rocksdb::Status status;
    if (per_op == 1) {
      std::string key;
      keys::PutBigEndian64(&key, (uint64_t{thread} << 40) | seq);
      status = db->Put(write_options, key, value);
    } else {
      rocksdb::WriteBatch batch;
      for (int i = 0; i < per_op; ++i) {
        std::string key;
        keys::PutBigEndian64(&key, (uint64_t{thread} << 40) | (seq * per_op + i));
        batch.Put(key, value);
      }
      status = db->Write(write_options, &batch);
    }
    if (!status.ok()) {
      outcome.ok = false;
      outcome.error = status.ToString();
    }
    return outcome;
  };
  uint64_t syncs0 = 0;
  uint64_t syncs1 = 0;
  Hooks hooks;
  hooks.window_start = [&] { syncs0 = options.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED); };
  hooks.window_end = [&] { syncs1 = options.statistics->getTickerCount(rocksdb::WAL_FILE_SYNCED); };
  Measurement m = RunClosedLoop(spec.threads, env.seconds, env.warmup, op, hooks);
  FillFromMeasurement(m, &result);
  SetSyncs(m, syncs1 - syncs0, &result);
  DieIf(db->Close(), "closing the raw baseline");
  return result;
}

// Counts the syncs of the log's WAL files: the store's synced writes, the
// counterpart of the raw baseline's WAL_FILE_SYNCED ticker. (The answers'
// distinct recorded times count staged groups; since the log stages while it
// syncs, one synced write may carry several.)
class WalSyncCounter : public rocksdb::FileSystemWrapper {
 public:
  WalSyncCounter() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "WalSyncCounter"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, file, debug);
    if (status.ok() && absl::EndsWith(name, ".log")) {
      *file = std::make_unique<CountingFile>(std::move(*file), &syncs_);
    }
    return status;
  }
  uint64_t syncs() const { return syncs_.load(); }

 private:
  class CountingFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    CountingFile(std::unique_ptr<rocksdb::FSWritableFile> file, std::atomic<uint64_t>* syncs)
        : FSWritableFileOwnerWrapper(std::move(file)), syncs_(syncs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
      syncs_->fetch_add(1);
      return target()->Sync(options, debug);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* debug) override {
      syncs_->fetch_add(1);
      return target()->Fsync(options, debug);
    }

   private:
    std::atomic<uint64_t>* const syncs_;
  };

  std::atomic<uint64_t> syncs_{0};
};

struct OpenLog {
  // Declared before the log, which must be destroyed first.
  std::shared_ptr<WalSyncCounter> wal;
  std::unique_ptr<rocksdb::Env> rocks_env;
  std::unique_ptr<ClosableEventLog> log;
  std::vector<int> writer_candidates;
};

OpenLog OpenStore(const std::string& path) {
  OpenLog opened;
  opened.wal = std::make_shared<WalSyncCounter>();
  opened.rocks_env = rocksdb::NewCompositeEnv(opened.wal);
  NewThreads threads;
  RocksEventLogOptions options;
  options.data_dir = path;
  options.env = opened.rocks_env.get();
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(options);
  DieIf(log.status(), "opening the event log");
  threads.Capture();
  opened.log = *std::move(log);
  opened.writer_candidates = threads.tids();
  return opened;
}

CaseResult RunStore(const CaseSpec& spec, const Env& env) {
  CaseResult result;
  result.spec = spec;
  ScratchDir dir;
  OpenLog opened = OpenStore(dir.path());
  EventLog* log = opened.log.get();
  const int per_op = spec.events_per_op;
  Op op = [&](uint32_t thread, uint64_t seq) {
    AppendRequest request;
    request.stream_id = StreamId(thread);
    request.expected_version = ExpectedVersion::Any();
    request.actor = kActor;
    request.events.reserve(static_cast<size_t>(per_op));
    for (int i = 0; i < per_op; ++i) {
      request.events.push_back(MakeEvent(env.payload, thread, seq * per_op + i));
    }
    absl::StatusOr<AppendResult> appended = log->Append(std::move(request));
    OpOutcome outcome;
    if (!appended.ok()) {
      outcome.ok = false;
      outcome.error = appended.status().ToString();
    } else {
      outcome.group_tag = absl::ToUnixMicros(appended->recorded_at);
    }
    return outcome;
  };
  WriterCpu writer(opened.writer_candidates);
  uint64_t syncs0 = 0;
  uint64_t syncs1 = 0;
  Hooks hooks{[&] {
                writer.Start();
                syncs0 = opened.wal->syncs();
              },
              [&] {
                writer.End();
                syncs1 = opened.wal->syncs();
              }};
  Measurement m = RunClosedLoop(spec.threads, env.seconds, env.warmup, op, hooks);
  FillFromMeasurement(m, &result);
  SetSyncs(m, syncs1 - syncs0, &result);
  result.writer_busy = writer.busy();
  opened.log->Close();
  return result;
}

// The secured cases' credentials, made once per run: a throwaway CA, a
// server certificate for 127.0.0.1, a client certificate, a bearer token,
// and a principals file naming one admin principal with scope "*" that both
// the token and the certificate's common name identify.
constexpr char kBenchPrincipal[] = "bench.admin";

struct Security {
  Security() {
    ca = testing::MakeCertificateAuthority("ledger_bench CA");
    server = testing::IssueCertificate(ca, "localhost", /*server=*/true);
    client = testing::IssueCertificate(ca, kBenchPrincipal, /*server=*/false);
    absl::StatusOr<std::string> made = auth::NewBearerToken();
    DieIf(made.status(), "making a bearer token");
    token = *made;
    principals_path = dir.path() + "/principals.json";
    std::ofstream out(principals_path, std::ios::binary | std::ios::trunc);
    out << "{\"principals\": [{\"name\": \"" << kBenchPrincipal
        << "\", \"roles\": [\"admin\"], \"scopes\": [\"*\"], \"token_sha256\": [\""
        << auth::TokenSha256Hex(token) << "\"], \"certificate_common_names\": [\""
        << kBenchPrincipal << "\"], \"comment\": \"ledger_bench's secured gRPC cases\"}]}\n";
    out.close();
    if (!out) Die(absl::StrCat("writing ", principals_path));
  }
  testing::KeyAndCertificate ca;
  testing::KeyAndCertificate server;
  testing::KeyAndCertificate client;
  std::string token;
  ScratchDir dir;  // holds the principals file; removed at exit
  std::string principals_path;
};

const Security& SecurityMaterial() {
  static const Security security;
  return security;
}

// The server's TLS and access options for a gRPC target.
void SecureServer(Target target, services::ServerOptions* options) {
  if (!IsSecured(target)) return;
  const Security& security = SecurityMaterial();
  options->tls.cert_chain = security.server.certificate;
  options->tls.private_key = security.server.private_key;
  if (target == Target::kGrpcMtls) {
    options->tls.client_ca = security.ca.certificate;
    options->tls.require_client_certificate = true;
  }
  if (target == Target::kGrpcToken || target == Target::kGrpcMtls) {
    options->access.authentication = true;
    options->access.principals_path = security.principals_path;
  }
}

// A client's channel credentials for a gRPC target: TLS trusting the bench CA;
// with a token, "authorization: Bearer <token>" on every call as ledgerctl
// sends it (clients/ledgerctl/client.cc); with mTLS, the client certificate.
std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(Target target) {
  if (!IsSecured(target)) return grpc::InsecureChannelCredentials();
  const Security& security = SecurityMaterial();
  if (target == Target::kGrpcMtls) {
    return testing::ClientTlsCredentials(security.ca.certificate, security.client);
  }
  std::shared_ptr<grpc::ChannelCredentials> tls =
      testing::ClientTlsCredentials(security.ca.certificate);
  if (target == Target::kGrpcTls || absl::GetFlag(FLAGS_token_as_metadata)) return tls;
  return grpc::CompositeChannelCredentials(tls, grpc::AccessTokenCredentials(security.token));
}

OpOutcome AppendOutcome(const grpc::Status& status, const v1::AppendResponse& response) {
  OpOutcome outcome;
  if (!status.ok()) {
    outcome.ok = false;
    outcome.error = absl::StrCat("gRPC ", status.error_code(), ": ", status.error_message());
  } else {
    outcome.group_tag = response.recorded_at_micros();
  }
  return outcome;
}

CaseResult RunGrpc(const CaseSpec& spec, const Env& env) {
  CaseResult result;
  result.spec = spec;
  ScratchDir dir;
  OpenLog opened = OpenStore(dir.path());
  // As ledgerd serves (services::LedgerServer), or, for the --grpc_max_pollers
  // experiment, the same service from a server built here.
  std::unique_ptr<services::LedgerServer> server;
  std::unique_ptr<services::LedgerServiceImpl> own_service;
  std::unique_ptr<services::AccessControl> own_access;
  std::unique_ptr<grpc::Server> own_server;
  int port = 0;
  const int max_pollers = absl::GetFlag(FLAGS_grpc_max_pollers);
  if (max_pollers > 0 && spec.target != Target::kGrpc && spec.target != Target::kGrpcAsync) {
    Die("--grpc_max_pollers: the experiment serves the plain grpc cases only");
  }
  if (max_pollers <= 0) {
    services::ServerOptions server_options;
    server_options.listen_address = "127.0.0.1:0";
    SecureServer(spec.target, &server_options);
    absl::StatusOr<std::unique_ptr<services::LedgerServer>> started =
        services::LedgerServer::Start(opened.log.get(), server_options);
    DieIf(started.status(), "starting the gRPC server");
    server = *std::move(started);
    port = server->port();
  } else {
    absl::StatusOr<std::unique_ptr<services::AccessControl>> access =
        services::AccessControl::Create(services::AccessOptions{});
    DieIf(access.status(), "access control");
    own_access = *std::move(access);
    own_service = std::make_unique<services::LedgerServiceImpl>(
        opened.log.get(), services::LedgerServiceOptions{}, own_access.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(own_service.get());
    builder.SetMaxReceiveMessageSize(static_cast<int>(limits::kMaxGrpcReceiveBytes));
    builder.SetMaxSendMessageSize(static_cast<int>(limits::kMaxGrpcSendBytes));
    builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS, max_pollers);
    own_server = builder.BuildAndStart();
    if (!own_server || port == 0) Die("starting the experimental gRPC server");
  }
  const std::string target = absl::StrCat("127.0.0.1:", port);

  const int channels = (spec.threads + env.threads_per_channel - 1) / env.threads_per_channel;
  std::vector<std::unique_ptr<v1::LedgerService::Stub>> stubs;
  for (int c = 0; c < channels; ++c) {
    grpc::ChannelArguments args;
    // A channel of its own (its own TCP connection), not a shared subchannel.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("ledger.bench.channel", c);
    args.SetMaxReceiveMessageSize(static_cast<int>(limits::kMaxGrpcSendBytes));
    args.SetMaxSendMessageSize(static_cast<int>(limits::kMaxGrpcReceiveBytes));
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(target, ClientCredentials(spec.target), args);
    if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
      Die(absl::StrCat("channel ", c, " to ", target, " did not connect"));
    }
    stubs.push_back(v1::LedgerService::NewStub(channel));
  }
  const int per_op = spec.events_per_op;
  const int per_channel = env.threads_per_channel;
  const std::string token_header =
      spec.target == Target::kGrpcToken && absl::GetFlag(FLAGS_token_as_metadata)
          ? absl::StrCat("Bearer ", SecurityMaterial().token)
          : std::string();
  auto fill_request = [&](uint32_t thread, uint64_t seq, v1::AppendRequest* request) {
    request->set_stream_id(StreamId(thread));
    request->mutable_expected_version()->mutable_any();
    for (int i = 0; i < per_op; ++i) {
      ProposedEvent event = MakeEvent(env.payload, thread, seq * per_op + i);
      v1::ProposedEvent* proto = request->add_events();
      proto->set_event_id(std::move(event.event_id));
      proto->set_event_type(std::move(event.event_type));
      proto->set_payload(std::move(event.payload));
      proto->set_content_type(std::move(event.content_type));
      proto->set_correlation_id(std::move(event.correlation_id));
    }
  };
  auto prepare_context = [&](grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (!token_header.empty()) context->AddMetadata("authorization", token_header);
  };
  auto stub_of = [&](uint32_t thread) {
    return stubs[static_cast<size_t>(thread) / static_cast<size_t>(per_channel)].get();
  };
  Op op = [&](uint32_t thread, uint64_t seq) {
    v1::AppendRequest request;
    fill_request(thread, seq, &request);
    v1::AppendResponse response;
    grpc::ClientContext context;
    prepare_context(&context);
    return AppendOutcome(stub_of(thread)->Append(&context, request, &response), response);
  };
  // grpc-async: the call's state lives until its callback, which frees it.
  struct AsyncCall {
    grpc::ClientContext context;
    v1::AppendRequest request;
    v1::AppendResponse response;
  };
  AsyncOp async_op = [&](uint32_t appender, uint64_t seq, std::function<void(OpOutcome)> done) {
    auto* call = new AsyncCall;
    fill_request(appender, seq, &call->request);
    prepare_context(&call->context);
    stub_of(appender)->async()->Append(
        &call->context, &call->request, &call->response,
        [call, done = std::move(done)](grpc::Status status) {
          OpOutcome outcome = AppendOutcome(status, call->response);
          delete call;
          done(std::move(outcome));
        });
  };
  WriterCpu writer(opened.writer_candidates);
  uint64_t syncs0 = 0;
  uint64_t syncs1 = 0;
  Hooks hooks{[&] {
                writer.Start();
                syncs0 = opened.wal->syncs();
              },
              [&] {
                writer.End();
                syncs1 = opened.wal->syncs();
              }};
  Measurement m = spec.target == Target::kGrpcAsync
                      ? RunAsyncClosedLoop(spec.threads, env.seconds, env.warmup, async_op, hooks)
                      : RunClosedLoop(spec.threads, env.seconds, env.warmup, op, hooks);
  FillFromMeasurement(m, &result);
  SetSyncs(m, syncs1 - syncs0, &result);
  result.writer_busy = writer.busy();
  result.note = absl::StrCat(channels, channels == 1 ? " channel" : " channels",
                             spec.target == Target::kGrpcAsync ? ", callback client" : "",
                             max_pollers > 0 ? absl::StrCat(", pollers ", max_pollers) : "");
  stubs.clear();
  if (server) {
    server->Shutdown(absl::Seconds(5));
    server.reset();
  } else {
    own_service->BeginShutdown();
    own_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    own_server->Wait();
    own_server.reset();
  }
  opened.log->Close();
  return result;
}

// ---------------------------------------------------------------------------
// micro/writer: the CPU an append costs besides the sync, step by step, as
// ledger/store/rocks_event_log.cc does it: Prepare() on the caller's thread
// (in parallel across appenders), then, on the writer thread, one MultiGet of
// the group's event ids and Stage() per event, then, on the committer thread,
// the batch (PutStaged per event) and the group's write.
// Measured in groups of `group` events without syncing, then one synced write
// of such a group for comparison, and the raw baseline's write of the same
// records (one key each).

struct MicroResult {
  bool ran = false;
  int events = 0;
  int group = 0;
  // Caller side, per event.
  double digest_ns = 0;   // IdempotencyDigest (SHA-256)
  double prepare_ns = 0;  // all of Prepare: digest, envelope, serialized fixed fields
  // Writer side, per event.
  double assign_ns = 0;       // append the assigned fields to the body, set them
  double record_hash_ns = 0;  // SHA-256 over the body (the chain hash)
  // Committer side, per event.
  double batch_ns = 0;        // keys and three WriteBatch::Put
  double lookup_ns = 0;       // the group's MultiGet of event ids, per event
  double write_ns = 0;        // DB::Write of the group, WAL not synced, per event
  double synced_write_us = 0;  // one group, p50
  double wal_bytes_per_event = 0;
  // The raw baseline's write of the same records, one key each.
  double raw_write_ns = 0;
  double raw_synced_write_us = 0;
  double raw_wal_bytes_per_event = 0;
};

MicroResult RunMicro(const Env& env, int events, int group) {
  MicroResult r;
  r.ran = true;
  r.group = group;
  events = std::max(group, events / group * group);
  r.events = events;
  const std::string stream = StreamId(3);
  const std::string actor = kActor;
  std::vector<ProposedEvent> proposed;
  proposed.reserve(static_cast<size_t>(events));
  for (int i = 0; i < events; ++i) {
    proposed.push_back(MakeEvent(env.payload, 3, static_cast<uint64_t>(i)));
  }
  const int64_t now_micros = absl::ToUnixMicros(absl::Now());

  struct Prepared {
    std::shared_ptr<RecordedEvent> event;
    std::string digest;
  };
  // Prepare() of one event (the payload is copied here, moved in the store).
  auto prepare = [&](int i, Prepared* out) {
    const ProposedEvent& p = proposed[static_cast<size_t>(i)];
    out->digest = IdempotencyDigest(stream, actor, p);
    out->event = std::make_shared<RecordedEvent>();
    v1::EventEnvelope& envelope = out->event->envelope;
    envelope.set_stream_id(stream);
    envelope.set_event_id(p.event_id);
    envelope.set_event_type(p.event_type);
    envelope.set_payload(p.payload);
    envelope.set_content_type(p.content_type);
    envelope.set_actor(actor);
    envelope.set_correlation_id(p.correlation_id);
    envelope.set_causation_id(p.causation_id);
    envelope.set_reason(p.reason);
    out->event->stored_bytes.reserve(envelope.ByteSizeLong() + 3 * 11 + 2 + 32);
    envelope.AppendToString(&out->event->stored_bytes);
    delete envelope.release_payload();
  };

  ScratchDir dir;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  DieIf(rocksdb::DB::Open(LedgerDbOptions(), dir.path(), LedgerColumnFamilies(), &handles, &raw),
        "opening the micro database");
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle* events_cf = handles[1];
  rocksdb::ColumnFamilyHandle* streams_cf = handles[2];
  rocksdb::ColumnFamilyHandle* ids_cf = handles[3];
  rocksdb::ColumnFamilyHandle* by_time_cf = handles[4];
  rocksdb::ColumnFamilyHandle* meta_cf = handles[5];
  rocksdb::WriteOptions unsynced = LedgerWriteOptions();
  unsynced.sync = false;

  std::vector<Prepared> prepared(static_cast<size_t>(group));
  v1::EventEnvelope assigned;
  std::string key_buffer;
  std::string value_buffer;
  std::string head_hash = GenesisHash();
  uint64_t position = 0;
  int64_t prepare_spent = 0, assign_spent = 0, hash_spent = 0, batch_spent = 0;
  int64_t lookup_spent = 0, write_spent = 0;
  // The writer's steps for one group; `timing` false for the warm-up.
  auto run_group = [&](int first, bool timing, rocksdb::WriteBatch* batch) {
    int64_t t0 = NowNs();
    for (int k = 0; k < group; ++k) prepare(first + k, &prepared[static_cast<size_t>(k)]);
    int64_t t1 = NowNs();
    // One MultiGet for the group's ids (all new: misses).
    std::vector<rocksdb::Slice> keys;
    for (int k = 0; k < group; ++k) keys.emplace_back(proposed[static_cast<size_t>(first + k)].event_id);
    std::sort(keys.begin(), keys.end(),
              [](const rocksdb::Slice& a, const rocksdb::Slice& b) { return a.compare(b) < 0; });
    std::vector<rocksdb::PinnableSlice> found(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db->MultiGet(LedgerReadOptions(), ids_cf, keys.size(), keys.data(), found.data(),
                 statuses.data(), /*sorted_input=*/true);
    int64_t t2 = NowNs();
    int64_t assign = 0, hash = 0, put = 0;
    batch->Clear();
    for (int k = 0; k < group; ++k) {
      Prepared& p = prepared[static_cast<size_t>(k)];
      RecordedEvent& event = *p.event;
      int64_t a0 = NowNs();
      ++position;
      assigned.set_position(position);
      assigned.set_stream_version(position);
      assigned.set_recorded_at_micros(now_micros);
      assigned.set_prev_hash(head_hash);
      assigned.AppendToString(&event.stored_bytes);
      event.envelope.set_position(position);
      event.envelope.set_stream_version(position);
      event.envelope.set_recorded_at_micros(now_micros);
      event.envelope.set_prev_hash(head_hash);
      int64_t a1 = NowNs();
      event.hash = Sha256(event.stored_bytes);
      head_hash = event.hash;
      int64_t a2 = NowNs();
      const std::string event_key = keys::EventKey(position);
      const rocksdb::Slice key(event_key);
      const rocksdb::Slice record[] = {rocksdb::Slice(&kRecordFormatV1, 1), event.hash,
                                       event.stored_bytes};
      batch->Put(events_cf, rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(record, 3));
      keys::StreamKeyTo(&key_buffer, stream, position);
      batch->Put(streams_cf, key_buffer, keys::PositionValue(position));
      keys::IdValueTo(&value_buffer, position, position, p.digest);
      batch->Put(ids_cf, event.envelope.event_id(), value_buffer);
      int64_t a3 = NowNs();
      assign += a1 - a0;
      hash += a2 - a1;
      put += a3 - a2;
    }
    keys::HeadValue head{position, static_cast<uint64_t>(now_micros), head_hash};
    batch->Put(meta_cf, keys::kMetaHeadKey, keys::EncodeHead(head));
    batch->Put(by_time_cf, keys::ByTimeKey(static_cast<uint64_t>(now_micros) + position),
               keys::PositionValue(position));
    int64_t t3 = NowNs();
    DieIf(db->Write(unsynced, batch), "micro: unsynced write");
    int64_t t4 = NowNs();
    if (timing) {
      prepare_spent += t1 - t0;
      lookup_spent += t2 - t1;
      assign_spent += assign;
      hash_spent += hash;
      batch_spent += put;
      write_spent += t4 - t3;
    }
  };
  rocksdb::WriteBatch batch;
  for (int first = 0; first < std::min(events, 20 * group); first += group) {
    run_group(first, false, &batch);  // warm-up
  }
  for (int first = 0; first < events; first += group) run_group(first, true, &batch);
  const double n = static_cast<double>(events);
  r.prepare_ns = static_cast<double>(prepare_spent) / n;
  r.lookup_ns = static_cast<double>(lookup_spent) / n;
  r.assign_ns = static_cast<double>(assign_spent) / n;
  r.record_hash_ns = static_cast<double>(hash_spent) / n;
  r.batch_ns = static_cast<double>(batch_spent) / n;
  r.write_ns = static_cast<double>(write_spent) / n;
  {
    std::string out;
    for (int i = 0; i < std::min(events, 1000); ++i) {
      out = IdempotencyDigest(stream, actor, proposed[static_cast<size_t>(i)]);
    }
    int64_t t0 = NowNs();
    for (int i = 0; i < events; ++i) out = IdempotencyDigest(stream, actor, proposed[static_cast<size_t>(i)]);
    r.digest_ns = static_cast<double>(NowNs() - t0) / n;
  }
  // Synced writes of one group: what the writer waits for.
  {
    std::vector<int64_t> latencies;
    for (int round = 0; round < 50; ++round) {
      run_group(round * group % events, false, &batch);  // rebuilds `batch`, written unsynced
      int64_t w0 = NowNs();
      DieIf(db->Write(LedgerWriteOptions(), &batch), "micro: synced write");
      latencies.push_back(NowNs() - w0);
      r.wal_bytes_per_event = static_cast<double>(batch.GetDataSize()) / group;
    }
    std::sort(latencies.begin(), latencies.end());
    r.synced_write_us = Percentile(latencies, 0.5) / 1e3;
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  DieIf(db->Close(), "closing the micro database");

  // The raw baseline's writes of the same records, one key each.
  ScratchDir raw_dir;
  rocksdb::Options raw_options;
  raw_options.create_if_missing = true;
  rocksdb::DB* raw_db_ptr = nullptr;
  DieIf(rocksdb::DB::Open(raw_options, raw_dir.path(), &raw_db_ptr), "opening the micro raw db");
  std::unique_ptr<rocksdb::DB> raw_db(raw_db_ptr);
  const std::string& record = env.record;
  auto raw_batch = [&](int first, rocksdb::WriteBatch* out) {
    out->Clear();
    for (int i = first; i < first + group; ++i) {
      out->Put(keys::EventKey(static_cast<uint64_t>(i) + 1), record);
    }
  };
  {
    int64_t spent = 0;
    for (int first = 0; first < events; first += group) {
      raw_batch(first, &batch);
      int64_t w0 = NowNs();
      DieIf(raw_db->Write(unsynced, &batch), "micro: raw unsynced write");
      spent += NowNs() - w0;
    }
    r.raw_write_ns = static_cast<double>(spent) / n;
  }
  {
    std::vector<int64_t> latencies;
    for (int round = 0; round < 50; ++round) {
      raw_batch(events + round * group, &batch);
      r.raw_wal_bytes_per_event = static_cast<double>(batch.GetDataSize()) / group;
      int64_t w0 = NowNs();
      DieIf(raw_db->Write(LedgerWriteOptions(), &batch), "micro: raw synced write");
      latencies.push_back(NowNs() - w0);
    }
    std::sort(latencies.begin(), latencies.end());
    r.raw_synced_write_us = Percentile(latencies, 0.5) / 1e3;
  }
  DieIf(raw_db->Close(), "closing the micro raw db");
  return r;
}

// ---------------------------------------------------------------------------
// Selection, running and reporting.

std::vector<int> ParseThreads(const std::string& text, const char* flag) {
  std::vector<int> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int n = 0;
    if (!absl::SimpleAtoi(part, &n) || n < 1 || n > 4096) {
      Die(absl::StrCat("--", flag, ": '", std::string(part), "' is not a thread count"));
    }
    out.push_back(n);
  }
  return out;
}

// Canonical order (the order of the table).
std::vector<CaseSpec> AllCases(const std::vector<int>& single, const std::vector<int>& batched,
                               int batch_events) {
  std::vector<CaseSpec> cases;
  const std::string batch = absl::StrCat("batch", batch_events);
  const std::pair<Target, const char*> targets[] = {
      {Target::kRaw, "raw"},           {Target::kStore, "store"},
      {Target::kGrpc, "grpc"},         {Target::kGrpcAsync, "grpc-async"},
      {Target::kGrpcTls, "grpc-tls"},  {Target::kGrpcToken, "grpc-token"},
      {Target::kGrpcMtls, "grpc-mtls"}};
  for (const auto& [target, name] : targets) {
    for (int t : single) {
      cases.push_back({absl::StrCat(name, "/", target == Target::kRaw ? "put" : "single", "/", t),
                       target, t, 1});
    }
  }
  for (const auto& [target, name] : targets) {
    for (int t : batched) cases.push_back({absl::StrCat(name, "/", batch, "/", t), target, t, batch_events});
  }
  cases.push_back({"micro/writer", Target::kMicro, 1, 1});
  return cases;
}

bool Selected(const std::string& name, const std::vector<std::string>& selectors) {
  for (const std::string& s : selectors) {
    if (s == "all" || name == s || (name.size() > s.size() && name.compare(0, s.size(), s) == 0 &&
                                    name[s.size()] == '/')) {
      return true;
    }
  }
  return false;
}

std::string Fmt(double value, int decimals = 0) {
  if (value < 0) return "-";
  return absl::StrFormat("%.*f", decimals, value);
}

std::string Thousands(double value) {
  std::string digits = absl::StrFormat("%.0f", value);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count > 0 && count % 3 == 0 && *it != '-') out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

// Remarks after a row: errors, the case's note, and a warning when the rest of
// the machine used a noticeable share of the CPUs during the window.
std::string Trailer(const CaseResult& r) {
  std::vector<std::string> parts;
  if (r.errors > 0) parts.push_back(absl::StrCat(r.errors, " errors: ", r.first_error));
  if (!r.note.empty()) parts.push_back(r.note);
  if (r.other_cores > 0.25) parts.push_back("DISTURBED by other load");
  return parts.empty() ? std::string() : absl::StrCat(" ", absl::StrJoin(parts, "; "));
}

void PrintRow(const CaseResult& r) {
  std::printf("| %-22s | %3d | %4d | %9s | %9s | %7s | %7s | %7s | %7s | %6s | %5s | %5s | %6s | %7s | %6s |%s\n",
              r.spec.name.c_str(), r.spec.threads, r.spec.events_per_op,
              Thousands(r.appends_per_s).c_str(), Thousands(r.events_per_s).c_str(),
              Fmt(r.p50_ms, 2).c_str(), Fmt(r.p99_ms, 2).c_str(), Fmt(r.max_ms, 1).c_str(),
              r.syncs_per_s > 0 ? Thousands(r.syncs_per_s).c_str() : "-",
              r.appends_per_sync > 0 ? Fmt(r.appends_per_sync, 1).c_str() : "-",
              Fmt(r.process_cores, 2).c_str(), Fmt(r.other_cores, 2).c_str(),
              r.writer_busy >= 0 ? absl::StrCat(Fmt(r.writer_busy * 100, 0), "%").c_str() : "-",
              Fmt(r.faults_per_append, 1).c_str(), Fmt(r.switches_per_append, 1).c_str(),
              Trailer(r).c_str());
  std::fflush(stdout);
}

void PrintHeader() {
  std::printf("| %-22s | %3s | %4s | %9s | %9s | %7s | %7s | %7s | %7s | %6s | %5s | %5s | %6s | %7s | %6s |\n",
              "case", "thr", "ev/a", "appends/s", "events/s", "p50 ms", "p99 ms", "max ms",
              "syncs/s", "a/sync", "cpu", "other", "writer", "flt/a", "cs/a");
  std::printf("|%s|----:|-----:|----------:|----------:|--------:|--------:|--------:|--------:|"
              "-------:|------:|------:|-------:|--------:|-------:|\n",
              std::string(24, '-').c_str());
}

void PrintMicro(const MicroResult& m, double raw_single_p50_ms) {
  std::printf("\nmicro/writer: CPU per event besides the sync, as rocks_event_log.cc does it "
              "(%d events in groups of %d, one core)\n", m.events, m.group);
  std::printf("  caller thread (parallel across appenders):\n");
  std::printf("    Prepare: envelope, serialized fixed fields, digest  %6.2f us\n",
              m.prepare_ns / 1e3);
  std::printf("      of which the SHA-256 idempotency digest           %6.2f us\n",
              m.digest_ns / 1e3);
  std::printf("  writer thread (serial, stages):\n");
  std::printf("    MultiGet of the group's event ids                   %6.2f us\n",
              m.lookup_ns / 1e3);
  std::printf("    assigned fields: append to the body, set            %6.2f us\n",
              m.assign_ns / 1e3);
  std::printf("    SHA-256 of the body (the chain hash)                %6.2f us\n",
              m.record_hash_ns / 1e3);
  const double stage_us = (m.lookup_ns + m.assign_ns + m.record_hash_ns) / 1e3;
  std::printf("    writer CPU per event                                %6.2f us  -> %s events/s\n",
              stage_us, Thousands(1e6 / stage_us).c_str());
  std::printf("  committer thread (serial, writes; overlaps the writer):\n");
  std::printf("    keys + WriteBatch::Put x3 (record framed in place)  %6.2f us\n",
              m.batch_ns / 1e3);
  std::printf("    DB::Write of the group, WAL not synced              %6.2f us\n",
              m.write_ns / 1e3);
  const double commit_us = (m.batch_ns + m.write_ns) / 1e3;
  std::printf("    committer CPU per event                             %6.2f us  -> %s events/s\n",
              commit_us, Thousands(1e6 / commit_us).c_str());
  const double writer_us = stage_us + commit_us;
  std::printf("  synced DB::Write of one group of %d: %.0f us (p50 of 50), %.0f WAL bytes/event\n",
              m.group, m.synced_write_us, m.wal_bytes_per_event);
  std::printf("  raw baseline, the same %d records, one key each: DB::Write not synced %.2f us/event, "
              "synced %.0f us per group, %.0f WAL bytes/event\n",
              m.group, m.raw_write_ns / 1e3, m.raw_synced_write_us, m.raw_wal_bytes_per_event);
  const double group_cpu_us = writer_us * m.group;
  const double hash_us = m.record_hash_ns / 1e3 * m.group;
  std::printf("  => one group of %d: %.0f us of writer and committer CPU (SHA-256 of the chain: %.0f us) next to "
              "%.0f us of synced write:\n     the chain hash is %.1f%% and their CPU %.1f%% "
              "of a group commit; the digest and serialization run on the callers\n",
              m.group, group_cpu_us, hash_us, m.synced_write_us,
              100.0 * hash_us / (group_cpu_us + m.synced_write_us),
              100.0 * group_cpu_us / (group_cpu_us + m.synced_write_us));
  if (raw_single_p50_ms > 0) {
    std::printf("  (raw/put/1 p50, one synced 1-value write: %.0f us)\n", raw_single_p50_ms * 1e3);
  }
}

void PrintMachine(const Env& env) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  std::printf("ledger_bench: durable appends (every acknowledged append is synced to disk)\n");
  std::printf("machine   : %ld CPUs (nproc), %s\n", cpus, CpuModel().c_str());
  std::printf("kernel    : %s\n", Kernel().c_str());
  std::printf("temp dir  : %s on %s\n", ScratchParent().c_str(),
              FilesystemOf(ScratchParent()).c_str());
  std::printf("versions  : RocksDB %d.%d.%d, gRPC %s, protobuf %d\n", ROCKSDB_MAJOR,
              ROCKSDB_MINOR, ROCKSDB_PATCH, grpc::Version().c_str(), GOOGLE_PROTOBUF_VERSION);
  std::printf("load avg  : %s (at start)\n", LoadAverage().c_str());
  std::printf("os costs  : system call %.2f us, thread wake-up round trip %.1f us\n",
              SyscallNs() / 1e3, WakeRoundTripNs() / 1e3);
  std::printf("workload  : payload %zu B, stored record %zu B (raw baseline value), store writes "
              "~%zu B/event in 3 keys + time and head keys per group\n",
              env.payload.size(), env.record.size(), StoreBytesPerEvent(env.record));
  std::printf("timing    : %.1f s per case after %.1f s warm-up; raw baseline options: %s\n",
              env.seconds, env.warmup,
              env.raw_ledger_options ? "the ledger's (LedgerDbOptions)" : "RocksDB defaults + WAL");
  std::printf("\n");
}

// Runs one selected spec.
CaseResult RunCase(const CaseSpec& spec, const Env& env) {
  switch (spec.target) {
    case Target::kRaw: return RunRaw(spec, env);
    case Target::kStore: return RunStore(spec, env);
    case Target::kGrpc:
    case Target::kGrpcAsync:
    case Target::kGrpcTls:
    case Target::kGrpcToken:
    case Target::kGrpcMtls: return RunGrpc(spec, env);
    case Target::kMicro: break;
  }
  CaseResult none;
  none.spec = spec;
  return none;
}

void PrintRatio(const char* label, const CaseResult* a, const CaseResult* b, bool events,
                double target) {
  if (a == nullptr || b == nullptr || !a->ran || !b->ran) return;
  double num = events ? a->events_per_s : a->appends_per_s;
  double den = events ? b->events_per_s : b->appends_per_s;
  if (den <= 0) return;
  double ratio = num / den;
  std::printf("  %-44s %6.2f   target >= %.1f  %s\n", label, ratio, target,
              ratio >= target ? "MET" : "MISSED");
}

// What the secured cases add per call besides gRPC's own TLS machinery, on
// one core: the server's authentication of a bearer token as
// services/access.cc does it (the directory's shared_ptr copied under a
// mutex, the token's SHA-256 in hex, a hash lookup), and the AEAD that TLS
// 1.3 seals records with (AES-128-GCM, OpenSSL EVP) for a request of the
// single-event size and per byte of a full 16 KiB record.
struct SecurityCosts {
  double token_auth_ns = 0;
  double seal_small_ns = 0;
  size_t small_bytes = 0;
  double seal_ns_per_byte = 0;
};

double SealNs(EVP_CIPHER_CTX* ctx, const std::string& plain, int rounds) {
  const unsigned char key[16] = {1, 2, 3};
  unsigned char iv[12] = {0};
  std::string out(plain.size() + 16, '\0');
  unsigned char tag[16];
  const int64_t start = NowNs();
  for (int i = 0; i < rounds; ++i) {
    iv[0] = static_cast<unsigned char>(i);
    int len = 0;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key, iv) != 1 ||
        EVP_EncryptUpdate(ctx, reinterpret_cast<unsigned char*>(out.data()), &len,
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, sizeof(tag), tag) != 1) {
      Die("AES-128-GCM failed");
    }
  }
  return static_cast<double>(NowNs() - start) / rounds;
}

SecurityCosts MeasureSecurityCosts(const std::string& payload) {
  SecurityCosts costs;
  const Security& security = SecurityMaterial();
  absl::StatusOr<std::shared_ptr<const auth::PrincipalDirectory>> loaded =
      auth::PrincipalDirectory::Load(security.principals_path);
  DieIf(loaded.status(), "loading the bench principals");
  absl::Mutex mu;
  std::shared_ptr<const auth::PrincipalDirectory> current = *loaded;
  const std::string header = absl::StrCat("Bearer ", security.token);
  constexpr int kRounds = 200000;
  size_t found = 0;
  int64_t start = NowNs();
  for (int i = 0; i < kRounds; ++i) {
    std::shared_ptr<const auth::PrincipalDirectory> directory;
    {
      absl::MutexLock lock(&mu);
      directory = current;
    }
    const std::string token = header.substr(7);
    found += directory->FindByToken(token) != nullptr;
  }
  costs.token_auth_ns = static_cast<double>(NowNs() - start) / kRounds;
  if (found != kRounds) Die("the bench token does not identify the bench principal");

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const std::string small = payload + std::string(150, 'x');  // ~ an AppendRequest of 1 event
  costs.small_bytes = small.size();
  costs.seal_small_ns = SealNs(ctx, small, 100000);
  const std::string record(16384, 'r');
  costs.seal_ns_per_byte = SealNs(ctx, record, 20000) / static_cast<double>(record.size());
  EVP_CIPHER_CTX_free(ctx);
  return costs;
}

// A secured gRPC case against the plain one: the throughput ratio, and the
// CPU time of the process (client and server together) per append of each.
// With `paired` (one ratio per round, --repeat > 1), their median is the
// ratio; otherwise the reported rounds' figures are divided.
void PrintSecuredRatio(const std::string& label, const CaseResult* secured, const CaseResult* plain,
                       std::vector<double> paired, double target) {
  if (secured == nullptr || plain == nullptr || !secured->ran || !plain->ran ||
      plain->appends_per_s <= 0 || secured->appends_per_s <= 0) {
    return;
  }
  double ratio = secured->appends_per_s / plain->appends_per_s;
  std::string rounds;
  if (paired.size() > 1) {
    std::sort(paired.begin(), paired.end());
    ratio = paired.size() % 2 == 1
                ? paired[paired.size() / 2]
                : (paired[paired.size() / 2 - 1] + paired[paired.size() / 2]) / 2;
    rounds = absl::StrCat(" [", absl::StrJoin(paired, " ", [](std::string* out, double r) {
                            absl::StrAppend(out, absl::StrFormat("%.2f", r));
                          }), "]");
  }
  std::printf("  %-40s %6.3f  (loss %5.1f%%)  cpu us/append %6.1f vs %6.1f  target >= %.2f  %s%s\n",
              label.c_str(), ratio, 100.0 * (1.0 - ratio),
              secured->process_cores * 1e6 / secured->appends_per_s,
              plain->process_cores * 1e6 / plain->appends_per_s, target,
              ratio >= target ? "MET" : "MISSED", rounds.c_str());
}

int Main() {
  Env env;
  env.seconds = absl::GetFlag(FLAGS_seconds);
  env.warmup = absl::GetFlag(FLAGS_warmup);
  int micro_events = absl::GetFlag(FLAGS_micro_events);
  if (absl::GetFlag(FLAGS_quick)) {
    env.seconds = 1.0;
    env.warmup = 0.2;
    micro_events = std::min(micro_events, 20000);
  }
  if (env.seconds <= 0 || env.warmup < 0) Die("--seconds must be > 0 and --warmup >= 0");
  const int payload_bytes = absl::GetFlag(FLAGS_payload_bytes);
  if (payload_bytes < 1 || static_cast<size_t>(payload_bytes) > limits::kMaxPayloadBytes) {
    Die("--payload_bytes out of range");
  }
  const int batch_events = absl::GetFlag(FLAGS_batch_events);
  if (batch_events < 2 || static_cast<size_t>(batch_events) > limits::kMaxEventsPerAppend) {
    Die(absl::StrCat("--batch_events must be 2..", limits::kMaxEventsPerAppend));
  }
  env.payload = MakePayload(payload_bytes);
  env.record = TypicalRecord(env.payload);
  env.threads_per_channel = std::max(1, absl::GetFlag(FLAGS_threads_per_channel));
  env.raw_ledger_options = absl::GetFlag(FLAGS_raw_ledger_options);

  std::vector<CaseSpec> all =
      AllCases(ParseThreads(absl::GetFlag(FLAGS_single_threads), "single_threads"),
               ParseThreads(absl::GetFlag(FLAGS_batch_threads), "batch_threads"), batch_events);
  if (absl::GetFlag(FLAGS_list)) {
    for (const CaseSpec& spec : all) std::printf("%s\n", spec.name.c_str());
    return 0;
  }
  std::vector<std::string> selectors =
      absl::StrSplit(absl::GetFlag(FLAGS_cases), ',', absl::SkipEmpty());
  std::vector<CaseSpec> selected;
  for (const CaseSpec& spec : all) {
    if (Selected(spec.name, selectors)) selected.push_back(spec);
  }
  if (selected.empty()) Die("--cases selects nothing (see --list)");
  if (absl::GetFlag(FLAGS_pick) != "median" && absl::GetFlag(FLAGS_pick) != "quietest") {
    Die("--pick must be 'quietest' or 'median'");
  }

  // Run order: the cases that are compared with each other run next to each
  // other (raw, store, gRPC at one thread count), so that a change in the
  // machine's load between them distorts the ratios as little as possible.
  std::vector<CaseSpec> order;
  std::vector<bool> taken(selected.size(), false);
  for (size_t i = 0; i < selected.size(); ++i) {
    if (taken[i] || selected[i].target == Target::kMicro) continue;
    for (size_t j = i; j < selected.size(); ++j) {
      if (!taken[j] && selected[j].target != Target::kMicro &&
          selected[j].threads == selected[i].threads &&
          selected[j].events_per_op == selected[i].events_per_op) {
        order.push_back(selected[j]);
        taken[j] = true;
      }
    }
  }
  bool micro = false;
  for (const CaseSpec& spec : selected) micro = micro || spec.target == Target::kMicro;

  PrintMachine(env);
  const int repeat = std::max(1, absl::GetFlag(FLAGS_repeat));
  std::map<std::string, std::vector<CaseResult>> runs;
  for (int round = 0; round < repeat; ++round) {
    if (repeat > 1) std::printf("round %d of %d\n", round + 1, repeat);
    PrintHeader();
    for (const CaseSpec& spec : order) {
      CaseResult result = RunCase(spec, env);
      PrintRow(result);
      runs[spec.name].push_back(std::move(result));
    }
    std::printf("\n");
  }

  // Secured against plain, paired round by round (the two ran next to each
  // other, so a change in the machine's load between rounds cancels out);
  // the median of the rounds' ratios is reported below.
  std::map<std::string, std::vector<double>> paired_ratios;
  for (const auto& [name, results] : runs) {
    if (results.empty() || !IsSecured(results.front().spec.target)) continue;
    const std::string plain = absl::StrCat("grpc", name.substr(name.find('/')));
    auto it = runs.find(plain);
    if (it == runs.end()) continue;
    for (size_t round = 0; round < results.size() && round < it->second.size(); ++round) {
      if (results[round].appends_per_s > 0 && it->second[round].appends_per_s > 0) {
        paired_ratios[name].push_back(results[round].appends_per_s /
                                      it->second[round].appends_per_s);
      }
    }
  }

  std::map<std::string, CaseResult> chosen;
  for (auto& [name, results] : runs) {
    std::sort(results.begin(), results.end(), [](const CaseResult& a, const CaseResult& b) {
      return a.appends_per_s < b.appends_per_s;
    });
    if (absl::GetFlag(FLAGS_pick) == "median") {
      chosen[name] = results[results.size() / 2];
    } else {
      chosen[name] = *std::min_element(
          results.begin(), results.end(),
          [](const CaseResult& a, const CaseResult& b) { return a.other_cores < b.other_cores; });
    }
  }
  std::printf("results%s (cpu: cores used by this process; other: cores used by everything "
              "else during the window; writer: share of wall time the log's writer thread was "
              "on a CPU; a/sync: appends per synced write; flt/a, cs/a: minor page faults and context "
              "switches of this process per append)\n",
              repeat > 1 ? absl::StrCat(", per case the ",
                                        absl::GetFlag(FLAGS_pick) == "median"
                                            ? "round with the median appends/s"
                                            : "round with the least other CPU use",
                                        " of ", repeat)
                               .c_str()
                         : "");
  PrintHeader();
  for (const CaseSpec& spec : all) {
    if (auto it = chosen.find(spec.name); it != chosen.end()) PrintRow(it->second);
  }

  auto find = [&](const std::string& name) -> const CaseResult* {
    auto it = chosen.find(name);
    return it == chosen.end() ? nullptr : &it->second;
  };
  std::printf("\nratios against the raw RocksDB baseline (same thread count, same run)\n");
  const std::vector<int> single = ParseThreads(absl::GetFlag(FLAGS_single_threads), "single_threads");
  const std::vector<int> batched = ParseThreads(absl::GetFlag(FLAGS_batch_threads), "batch_threads");
  const std::string batch = absl::StrCat("batch", batch_events);
  for (int t : single) {
    std::string raw = absl::StrCat("raw/put/", t);
    PrintRatio(absl::StrCat("store single@", t, " / raw put@", t, " (appends/s)").c_str(),
               find(absl::StrCat("store/single/", t)), find(raw), false, 1.0);
    PrintRatio(absl::StrCat("grpc single@", t, " / raw put@", t, " (appends/s)").c_str(),
               find(absl::StrCat("grpc/single/", t)), find(raw), false, 0.5);
    PrintRatio(absl::StrCat("grpc-async single@", t, " / raw put@", t, " (appends/s)").c_str(),
               find(absl::StrCat("grpc-async/single/", t)), find(raw), false, 0.5);
  }
  for (int t : batched) {
    std::string raw = absl::StrCat("raw/", batch, "/", t);
    PrintRatio(absl::StrCat("store ", batch, "@", t, " / raw ", batch, "@", t, " (events/s)").c_str(),
               find(absl::StrCat("store/", batch, "/", t)), find(raw), true, 1.0);
    PrintRatio(absl::StrCat("grpc ", batch, "@", t, " / raw ", batch, "@", t, " (events/s)").c_str(),
               find(absl::StrCat("grpc/", batch, "/", t)), find(raw), true, 0.8);
    PrintRatio(
        absl::StrCat("grpc-async ", batch, "@", t, " / raw ", batch, "@", t, " (events/s)").c_str(),
        find(absl::StrCat("grpc-async/", batch, "/", t)), find(raw), true, 0.8);
  }
  std::printf("  (the brief's targets: store single@64 >= 1.0, grpc single@64 >= 0.5, grpc "
              "batched events/s >= 0.8; the others are shown for context)\n");

  bool any_secured = false;
  for (const auto& [name, result] : chosen) {
    any_secured = any_secured || IsSecured(result.spec.target);
  }
  if (any_secured) {
    std::printf("\nsecured gRPC against plain gRPC (same case, same run; appends/s%s; issue #6: "
                "with TLS and authentication on, no more than 15%% lost)\n",
                repeat > 1 ? "; the median of the rounds' ratios, each round's in brackets" : "");
    const std::pair<const char*, const char*> secured[] = {
        {"grpc-tls", "TLS only"}, {"grpc-token", "TLS + token"}, {"grpc-mtls", "mTLS"}};
    auto ratios = [&](const std::string& shape, int t) {
      for (const auto& [prefix, what] : secured) {
        const std::string name = absl::StrCat(prefix, "/", shape, "/", t);
        auto paired = paired_ratios.find(name);
        PrintSecuredRatio(absl::StrCat(name, " / grpc (", what, ")"), find(name),
                          find(absl::StrCat("grpc/", shape, "/", t)),
                          paired == paired_ratios.end() ? std::vector<double>() : paired->second,
                          0.85);
      }
    };
    for (int t : single) ratios("single", t);
    for (int t : batched) ratios(batch, t);
    std::printf("  (cpu us/append: CPU time of this process, client and server together, per "
                "append, secured vs plain)\n");
    const SecurityCosts costs = MeasureSecurityCosts(env.payload);
    std::printf("  one core: token authentication as services/access.cc does it %.2f us/call; "
                "AES-128-GCM seal of %zu B %.2f us, %.2f ns/B in 16 KiB records\n",
                costs.token_auth_ns / 1e3, costs.small_bytes, costs.seal_small_ns / 1e3,
                costs.seal_ns_per_byte);
  }

  if (micro) {
    const CaseResult* raw1 = find(absl::StrCat("raw/put/", single.front()));
    MicroResult m = RunMicro(env, micro_events, 64);
    PrintMicro(m, raw1 != nullptr ? raw1->p50_ms : 0);
  }
  std::printf("\nload avg  : %s (at end)\n", LoadAverage().c_str());
  return 0;
}

}  // namespace
}  // namespace ledger::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "ledger_bench [--seconds=3] [--cases=all|raw,store/single/64,...] [--quick] [--repeat=N]\n"
      "Durable append throughput and latency of the ledger store, of the gRPC service, and of "
      "plain RocksDB synced writes as the baseline. See docs/BENCHMARKS.md.");
  absl::ParseCommandLine(argc, argv);
  // As ledgerd runs: Debian's abseil is built without NDEBUG, so every
  // absl::Mutex acquisition (ours and gRPC's) would otherwise go through the
  // lock-order graph under one global lock. The tests keep the check on.
  if (!absl::GetFlag(FLAGS_mutex_deadlock_detection)) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  return ledger::bench::Main();
}
