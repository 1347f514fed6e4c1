// proof_bench: what the ledger's tamper evidence costs, on a ledger of
// --events events (default 1 million, ~300-byte payloads, appended through
// the store in batches of 1000 like replay_bench):
//   - the raw SHA-256 rate (integrity/sha256.h) in the same run, as the floor;
//   - inclusion proofs (random positions, tree size = head) and consistency
//     proofs (random old sizes to the head) per second: generated through the
//     store, verified as a client does (RFC 9162 verifiers), and both;
//   - tree roots at random sizes per second;
//   - full-log verification (Verify(0, 0): hash chain, indexes and the Merkle
//     tree) in events/s and MB/s of stored envelope bytes, next to the same
//     walk without the tree (a range from position 2) and the store's plain
//     paged read of the log.
// Append throughput with the tree on is ledger_bench's store cases (it opens
// the same store): see docs/BENCHMARKS.md.
//
// Every case reports the fastest of --repeat rounds, with the cores this
// process used (`cpu`) and those the rest of the machine used (`other`)
// during that round: on a shared 2-core machine `other` says how much a
// figure is disturbed. A program, not a test.
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "bench/bench_ledger.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/rocks_event_log.h"
#include "rocksdb/version.h"

ABSL_FLAG(uint64_t, events, 1000000, "events in the ledger");
ABSL_FLAG(int, repeat, 2, "rounds of every case; the fastest round is reported");
ABSL_FLAG(std::string, dir, "", "parent of the temporary data directory (default $TMPDIR or /tmp)");
ABSL_FLAG(int, payload_bytes, 300, "payload size of every event");
ABSL_FLAG(int, samples, 0, "random positions or sizes per proof and root case (0: --events / 10, 100 to 20,000)");
ABSL_FLAG(double, min_seconds, 0.5, "cases faster than this repeat their samples until they take this long");
ABSL_FLAG(double, settle_seconds, 60, "after filling, wait at most this long for RocksDB's flushes and compactions");
ABSL_FLAG(bool, quick, false, "a smoke run: one round per case and --min_seconds=0.1 (with --events=20000: seconds)");
ABSL_FLAG(bool, keep, false, "leave the ledger in --dir at the end (for --reuse)");
ABSL_FLAG(bool, reuse, false, "measure the ledger a --keep run left in --dir instead of filling a new one");

namespace ledger::bench {
namespace {

constexpr size_t kBatch = 1000;
const char* const kKabupaten[] = {"35.08", "35.09", "35.10"};
const char* const kTypes[] = {"RealizationRecorded", "DisbursementRecorded", "ChecklistEntryRecorded",
                              "TargetRevised", "ReportSubmitted"};

[[noreturn]] void Die(const std::string& context, const absl::Status& status) {
  std::fprintf(stderr, "%s: %s\n", context.c_str(), status.ToString().c_str());
  std::exit(1);
}

std::string TempParent() { return bench::TempParent(absl::GetFlag(FLAGS_dir)); }

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string LoadAverage() {
  std::istringstream in(FirstLine("/proc/loadavg"));
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return absl::StrCat(one, " ", five, " ", fifteen);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// Busy seconds of the whole machine (all cores) and CPU seconds of this
// process, so that a case can tell its own load from everybody else's.
struct CpuClock {
  double machine_busy = 0;
  double process = 0;
  absl::Time wall;

  static CpuClock Now() {
    CpuClock clock;
    std::istringstream in(FirstLine("/proc/stat"));
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    clock.machine_busy = (user + nice + system + irq + softirq + steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    clock.process = static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
    clock.wall = absl::Now();
    return clock;
  }
};

struct Figure {
  std::string name;
  uint64_t ops = 0;
  uint64_t bytes = 0;  // payload bytes the ops went through, when it means something
  double seconds = 0;
  double cpu = 0;    // cores this process used
  double other = 0;  // cores the rest of the machine used
  double per_second() const { return seconds > 0 ? static_cast<double>(ops) / seconds : 0; }
  // CPU time of this process per op: less sensitive to other load than us/op.
  double cpu_us_per_op() const { return ops > 0 ? cpu * seconds * 1e6 / static_cast<double>(ops) : 0; }
  double mb_per_second() const { return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0; }
};

// One round of a case: how many ops it did and over how many bytes.
struct Work {
  uint64_t ops = 0;
  uint64_t bytes = 0;
};

// One round: `round` once, or repeated until --min_seconds when `stretch`.
Figure MeasureOnce(const std::string& name, const std::function<Work()>& round, bool stretch) {
  const CpuClock start = CpuClock::Now();
  Work work;
  do {
    Work once = round();
    work.ops += once.ops;
    work.bytes += once.bytes;
  } while (stretch && absl::Now() - start.wall < absl::Seconds(absl::GetFlag(FLAGS_min_seconds)));
  const CpuClock end = CpuClock::Now();
  Figure figure{name, work.ops, work.bytes, absl::ToDoubleSeconds(end.wall - start.wall)};
  figure.cpu = (end.process - start.process) / figure.seconds;
  figure.other = std::max(0.0, (end.machine_busy - start.machine_busy) / figure.seconds - figure.cpu);
  return figure;
}

void KeepFaster(const Figure& figure, Figure* best) {
  if (best->ops == 0 || figure.seconds / figure.ops < best->seconds / best->ops) *best = figure;
}

void Report(const Figure& best) { std::fprintf(stderr, "  %-58s %12.0f/s\n", best.name.c_str(), best.per_second()); }

// Runs `round` --repeat times and keeps the fastest per op.
Figure Measure(const std::string& name, const std::function<Work()>& round, bool stretch = true) {
  Figure best{name};
  for (int r = 0; r < absl::GetFlag(FLAGS_repeat); ++r) KeepFaster(MeasureOnce(name, round, stretch), &best);
  Report(best);
  return best;
}

std::string Payload(uint64_t serial) {
  return JsonPayload(serial, static_cast<size_t>(absl::GetFlag(FLAGS_payload_bytes)));
}

// Appends `count` events in batches of kBatch, one unit-year stream per batch.
void Fill(EventLog* log, uint64_t count) {
  uint64_t serial = 0;
  for (uint64_t batch = 0; serial < count; ++batch) {
    const std::string stream = absl::StrCat(kKabupaten[batch % 3], ".", 10 + (batch / 3) % 20, "/2024");
    AppendRequest request{stream, ExpectedVersion::Any(), {}, "operator:bench"};
    for (size_t i = 0; i < kBatch && serial < count; ++i, ++serial) {
      request.events.push_back(ProposedEvent{absl::StrCat("event-", serial), kTypes[serial % 5], Payload(serial),
                                             "application/json", absl::StrCat("batch-", batch), "", ""});
    }
    absl::StatusOr<AppendResult> result = log->Append(std::move(request));
    if (!result.ok()) Die("fill", result.status());
    if (serial % 100000 == 0) std::fprintf(stderr, "  filled %llu events\n", static_cast<unsigned long long>(serial));
  }
}

// Waits until this process (RocksDB's flushes and compactions after the fill)
// has been nearly idle for a second, or --settle_seconds pass.
double Settle() {
  const absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Seconds(absl::GetFlag(FLAGS_settle_seconds))) {
    const CpuClock before = CpuClock::Now();
    absl::SleepFor(absl::Seconds(1));
    if (CpuClock::Now().process - before.process < 0.05) break;
  }
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// --- SHA-256 baselines ------------------------------------------------------

// `hash` over 10,000 inputs of `input_bytes` per call.
Figure HashRate(const std::string& name, size_t input_bytes, std::string (*hash)(std::string_view)) {
  const std::string input(input_bytes, 'h');
  return Measure(name, [&] {
    std::string digest;
    for (int i = 0; i < 10000; ++i) digest = hash(input);
    if (digest.size() != kHashBytes) std::exit(1);
    return Work{10000, 10000 * input_bytes};
  });
}

std::string OneShot(std::string_view data) { return Sha256(data); }
std::string Streamed(std::string_view data) { return Sha256Parts({data}); }
std::string Leaf(std::string_view data) { return merkle::LeafHash(data.substr(0, kHashBytes)); }
std::string Node(std::string_view data) {
  return merkle::NodeHash(data.substr(0, kHashBytes), data.substr(kHashBytes, kHashBytes));
}

// Sha256() is OpenSSL's one-shot SHA256(), which in OpenSSL 3 looks the
// algorithm up on every call; Sha256Parts() (the Merkle hashes) streams
// through SHA256_Init/Update/Final: the rate of SHA-256 itself.
std::vector<Figure> HashFigures(size_t body_bytes) {
  std::vector<Figure> figures;
  for (size_t bytes : {size_t{64}, size_t{300}, body_bytes}) {
    figures.push_back(HashRate(absl::StrCat("SHA-256, Sha256Parts, ", bytes, " B (raw rate)"), bytes, Streamed));
  }
  for (size_t bytes : {size_t{64}, size_t{300}, body_bytes}) {
    figures.push_back(HashRate(absl::StrCat("SHA-256, Sha256 (one-shot), ", bytes, " B"), bytes, OneShot));
  }
  // The per-hash rates count the hash's own input: 33 and 65 bytes.
  figures.push_back(HashRate("merkle::LeafHash (0x00 + 32 B)", kHashBytes, Leaf));
  figures.push_back(HashRate("merkle::NodeHash (0x01 + 2 x 32 B)", 2 * kHashBytes, Node));
  return figures;
}

// What verifying an event costs in hashing alone, with no storage: SHA-256 of
// its stored bytes, its leaf hash, and the frontier's node hashes, over real
// bodies of the ledger held in memory.
Figure HashingFloor(const std::vector<std::string>& bodies) {
  return Measure("in memory: Sha256(body) + LeafHash + frontier, no storage", [&] {
    merkle::MerkleFrontier frontier;
    uint64_t bytes = 0;
    for (int pass = 0; pass < 10; ++pass) {
      for (const std::string& body : bodies) {
        frontier.Append(merkle::LeafHash(Sha256(body)));
        bytes += body.size();
      }
    }
    return Work{frontier.size(), bytes};
  });
}

// --- Proofs and roots -------------------------------------------------------

struct Samples {
  uint64_t head = 0;
  std::string root;                      // TreeRoot(head)
  std::vector<uint64_t> positions;       // 1..head
  std::vector<std::string> leaf_hashes;  // of the events at `positions`
  std::vector<uint64_t> old_sizes;       // 1..head - 1
  std::vector<std::string> old_roots;    // TreeRoot(old_sizes[i])
};

int SampleCount() {
  if (absl::GetFlag(FLAGS_samples) > 0) return absl::GetFlag(FLAGS_samples);
  return static_cast<int>(std::clamp<uint64_t>(absl::GetFlag(FLAGS_events) / 10, 100, 20000));
}

Samples DrawSamples(EventLog* log) {
  Samples samples;
  samples.head = log->GetHead().position;
  absl::StatusOr<std::string> root = log->TreeRoot(samples.head);
  if (!root.ok()) Die("TreeRoot", root.status());
  samples.root = *root;
  std::mt19937_64 random(20240701);
  std::uniform_int_distribution<uint64_t> position(1, samples.head);
  std::uniform_int_distribution<uint64_t> old_size(1, samples.head - 1);
  for (int i = 0; i < SampleCount(); ++i) {
    samples.positions.push_back(position(random));
    absl::StatusOr<ReadPage> page = log->ReadAll(samples.positions.back(), Direction::kForward, 1);
    if (!page.ok() || page->events.empty()) Die("reading a sample", page.status());
    samples.leaf_hashes.push_back(merkle::LeafHash(page->events[0].hash));
    samples.old_sizes.push_back(old_size(random));
  }
  return samples;
}

std::vector<std::string> MustInclusion(EventLog* log, uint64_t position, uint64_t size) {
  absl::StatusOr<std::vector<std::string>> proof = log->InclusionProof(position, size);
  if (!proof.ok()) Die("InclusionProof", proof.status());
  return *std::move(proof);
}

void MustVerifyInclusion(const Samples& s, size_t i, const std::vector<std::string>& proof) {
  if (!merkle::VerifyInclusion(s.leaf_hashes[i], s.positions[i] - 1, s.head, proof, s.root)) {
    Die("VerifyInclusion", absl::InternalError(absl::StrCat("position ", s.positions[i])));
  }
}

std::vector<Figure> InclusionFigures(EventLog* log, const Samples& s) {
  std::vector<std::vector<std::string>> proofs(s.positions.size());
  const size_t n = s.positions.size();
  Figure generate = Measure("inclusion proof: generate (EventLog::InclusionProof)", [&] {
    for (size_t i = 0; i < n; ++i) proofs[i] = MustInclusion(log, s.positions[i], s.head);
    return Work{n};
  });
  Figure verify = Measure("inclusion proof: verify (merkle::VerifyInclusion)", [&] {
    for (size_t i = 0; i < n; ++i) MustVerifyInclusion(s, i, proofs[i]);
    return Work{n};
  });
  Figure both = Measure("inclusion proof: generate + verify", [&] {
    for (size_t i = 0; i < n; ++i) MustVerifyInclusion(s, i, MustInclusion(log, s.positions[i], s.head));
    return Work{n};
  });
  size_t hashes = 0;
  for (const auto& proof : proofs) hashes += proof.size();
  std::fprintf(stderr, "  inclusion proofs hold %.1f hashes on average\n", static_cast<double>(hashes) / n);
  return {generate, verify, both};
}

std::vector<Figure> ConsistencyFigures(EventLog* log, Samples& s) {
  const size_t n = s.old_sizes.size();
  s.old_roots.resize(n);
  Figure roots = Measure("tree root at a random size (EventLog::TreeRoot)", [&] {
    for (size_t i = 0; i < n; ++i) {
      absl::StatusOr<std::string> root = log->TreeRoot(s.old_sizes[i]);
      if (!root.ok()) Die("TreeRoot", root.status());
      s.old_roots[i] = *std::move(root);
    }
    return Work{n};
  });
  std::vector<std::vector<std::string>> proofs(n);
  Figure generate = Measure("consistency proof: generate (EventLog::ConsistencyProof)", [&] {
    for (size_t i = 0; i < n; ++i) {
      absl::StatusOr<std::vector<std::string>> proof = log->ConsistencyProof(s.old_sizes[i], s.head);
      if (!proof.ok()) Die("ConsistencyProof", proof.status());
      proofs[i] = *std::move(proof);
    }
    return Work{n};
  });
  Figure verify = Measure("consistency proof: verify (merkle::VerifyConsistency)", [&] {
    for (size_t i = 0; i < n; ++i) {
      if (!merkle::VerifyConsistency(s.old_sizes[i], s.head, s.old_roots[i], s.root, proofs[i])) {
        Die("VerifyConsistency", absl::InternalError(absl::StrCat("old size ", s.old_sizes[i])));
      }
    }
    return Work{n};
  });
  return {roots, generate, verify};
}

// --- Reading and verifying the whole log ------------------------------------

// The store's paged read: every record read is hash-checked and parsed.
Figure ReadAllFigure(EventLog* log, std::vector<std::string>* sample_bodies) {
  return Measure(
      "store ReadAll, pages of 1000 (read + SHA-256 check + parse)",
      [&] {
        Work work;
        for (uint64_t from = 1;;) {
          absl::StatusOr<ReadPage> page = log->ReadAll(from, Direction::kForward, 1000);
          if (!page.ok()) Die("ReadAll", page.status());
          for (RecordedEvent& event : page->events) {
            work.bytes += event.stored_bytes.size();
            if (sample_bodies->size() < 4096) sample_bodies->push_back(std::move(event.stored_bytes));
          }
          work.ops += page->events.size();
          if (page->end_of_range) return work;
          from = page->next_from;
        }
      },
      false);
}

// `whole_log` is the ReadAll figure: its ops and bytes are the whole log's.
std::function<Work()> VerifyRound(EventLog* log, uint64_t from, const Figure& whole_log) {
  return [log, from, &whole_log] {
    absl::StatusOr<VerifyReport> report = log->Verify(from, 0);
    if (!report.ok()) Die("Verify", report.status());
    if (!report->ok()) Die("Verify", absl::DataLossError(report->finding->detail));
    const double share = static_cast<double>(report->verified_count) / static_cast<double>(whole_log.ops);
    return Work{report->verified_count, static_cast<uint64_t>(share * static_cast<double>(whole_log.bytes))};
  };
}

// Verify with and without the tree, alternating round by round (A B B A ...)
// so that neither always runs second, on caches the other warmed. This VM's
// speed drifts by tens of percent between rounds, more than the Merkle check
// costs, so its cost is taken from each round's adjacent pair, not from the
// two fastest rounds.
struct VerifyFigures {
  Figure chain{"Verify(2, 0): chain + indexes, no Merkle (range not from 1)"};
  Figure full{"Verify(0, 0): chain + indexes + Merkle tree"};
  std::vector<double> merkle_share;  // per round: 1 - full rate / chain rate
};

VerifyFigures MeasureVerify(EventLog* log, const Figure& whole_log) {
  VerifyFigures v;
  for (int r = 0; r < absl::GetFlag(FLAGS_repeat); ++r) {
    auto chain_round = [&] { return MeasureOnce(v.chain.name, VerifyRound(log, 2, whole_log), false); };
    auto full_round = [&] { return MeasureOnce(v.full.name, VerifyRound(log, 0, whole_log), false); };
    Figure chain, full;
    if (r % 2 == 0) {
      chain = chain_round();
      full = full_round();
    } else {
      full = full_round();
      chain = chain_round();
    }
    KeepFaster(chain, &v.chain);
    KeepFaster(full, &v.full);
    v.merkle_share.push_back(1 - full.per_second() / chain.per_second());
  }
  Report(v.chain);
  Report(v.full);
  return v;
}

// --- Output -------------------------------------------------------------------

void PrintHeader(const std::string& data_dir, uint64_t count, double fill_seconds, double settle_seconds,
                 size_t body_bytes) {
  std::printf("\nmachine   : %u CPUs, %s\n", std::thread::hardware_concurrency(), CpuModel().c_str());
  std::printf("versions  : RocksDB %d.%d.%d\n", ROCKSDB_MAJOR, ROCKSDB_MINOR, ROCKSDB_PATCH);
  std::printf("data dir  : %s\n", data_dir.c_str());
  std::printf("ledger    : %llu events, payload %d B, stored envelope ~%zu B (record +33 B frame), batches of %zu\n",
              static_cast<unsigned long long>(count), absl::GetFlag(FLAGS_payload_bytes), body_bytes, kBatch);
  if (fill_seconds > 0) {
    std::printf("fill      : %.1f s (%.0f events/s, one appender, batches of %zu; settled %.0f s)\n", fill_seconds,
                static_cast<double>(count) / fill_seconds, kBatch, settle_seconds);
  } else {
    std::printf("fill      : reused the ledger of an earlier run (--reuse; settled %.0f s)\n", settle_seconds);
  }
  std::printf("samples   : %d random positions / old sizes; fastest of %d rounds; cases under %.1f s repeat\n",
              SampleCount(), absl::GetFlag(FLAGS_repeat), absl::GetFlag(FLAGS_min_seconds));
}

void PrintTable(const std::vector<Figure>& figures) {
  std::printf("\n| %-60s | %12s | %10s | %10s | %8s | %5s | %5s |\n", "case", "ops/s", "us/op", "cpu us/op",
              "MB/s", "cpu", "other");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(62, '-').c_str(), std::string(14, '-').c_str(),
              std::string(12, '-').c_str(), std::string(12, '-').c_str(), std::string(10, '-').c_str(),
              std::string(7, '-').c_str(), std::string(7, '-').c_str());
  for (const Figure& f : figures) {
    const std::string mb = f.bytes > 0 ? absl::StrCat(static_cast<int64_t>(f.mb_per_second() * 10 + 0.5) / 10.0) : "";
    std::printf("| %-60s | %12.0f | %10.2f | %10.2f | %8s | %5.2f | %5.2f |\n", f.name.c_str(), f.per_second(),
                1e6 / f.per_second(), f.cpu_us_per_op(), mb.c_str(), f.cpu, f.other);
  }
}

const Figure& Find(const std::vector<Figure>& figures, const std::string& prefix) {
  for (const Figure& f : figures) {
    if (f.name.rfind(prefix, 0) == 0) return f;
  }
  Die("no figure", absl::NotFoundError(prefix));
}

void PrintRatios(const std::vector<Figure>& figures, size_t body_bytes, const VerifyFigures& verify) {
  const Figure& raw = Find(figures, absl::StrCat("SHA-256, Sha256Parts, ", body_bytes, " B"));
  const Figure& one_shot = Find(figures, absl::StrCat("SHA-256, Sha256 (one-shot), ", body_bytes, " B"));
  const Figure& floor = Find(figures, "in memory");
  const Figure& full = verify.full;
  std::printf("\nVerify(0, 0) MB/s / raw SHA-256 MB/s over %zu-byte inputs : %.3f\n", body_bytes,
              full.mb_per_second() / raw.mb_per_second());
  std::printf("Verify(0, 0) MB/s / Sha256() one-shot MB/s, %zu-byte inputs : %.3f\n", body_bytes,
              full.mb_per_second() / one_shot.mb_per_second());
  std::printf("Verify(0, 0) events/s / in-memory hashing floor events/s  : %.3f\n",
              full.per_second() / floor.per_second());
  std::string rounds;
  double sum = 0;
  for (double share : verify.merkle_share) {
    absl::StrAppend(&rounds, rounds.empty() ? "" : ", ", static_cast<int>(share * 1000 + (share < 0 ? -0.5 : 0.5)) / 10.0, "%");
    sum += share;
  }
  std::printf("the Merkle check's share of Verify(0, 0), paired rounds    : %.1f%% on average (%s)\n",
              100 * sum / static_cast<double>(verify.merkle_share.size()), rounds.c_str());
}

// A fresh ledger of --events events, or the one a --keep run left (--reuse).
// Returns the seconds the fill took (0 when reused).
double Prepare(const std::string& data_dir, uint64_t count, std::unique_ptr<ClosableEventLog>* log) {
  const bool reuse = absl::GetFlag(FLAGS_reuse);
  if (!reuse) std::filesystem::remove_all(data_dir);
  RocksEventLogOptions options;
  options.data_dir = data_dir;
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> opened = OpenRocksEventLog(options);
  if (!opened.ok()) Die("open", opened.status());
  *log = *std::move(opened);
  if (reuse) {
    if ((*log)->GetHead().position != count) Die("--reuse", absl::FailedPreconditionError("the head is not --events"));
    return 0;
  }
  std::fprintf(stderr, "filling a ledger of %llu events in %s\n", static_cast<unsigned long long>(count),
               data_dir.c_str());
  const absl::Time start = absl::Now();
  Fill(log->get(), count);
  return absl::ToDoubleSeconds(absl::Now() - start);
}

int Main() {
  const uint64_t count = absl::GetFlag(FLAGS_events);
  if (count < 2) Die("--events", absl::InvalidArgumentError("at least 2"));
  const std::string data_dir = TempParent() + "/proof_bench_ledger";
  std::printf("load average at start: %s\n", LoadAverage().c_str());
  std::unique_ptr<ClosableEventLog> opened;
  const double fill_seconds = Prepare(data_dir, count, &opened);
  EventLog* log = opened.get();
  const double settle_seconds = Settle();

  std::vector<Figure> figures;
  std::vector<std::string> bodies;
  const Figure read_all = ReadAllFigure(log, &bodies);
  const size_t body_bytes = read_all.bytes / read_all.ops;
  for (Figure& f : HashFigures(body_bytes)) figures.push_back(f);
  figures.push_back(HashingFloor(bodies));
  Samples samples = DrawSamples(log);
  for (Figure& f : InclusionFigures(log, samples)) figures.push_back(f);
  for (Figure& f : ConsistencyFigures(log, samples)) figures.push_back(f);
  figures.push_back(read_all);
  const VerifyFigures verify = MeasureVerify(log, read_all);
  figures.push_back(verify.chain);
  figures.push_back(verify.full);

  PrintHeader(data_dir, count, fill_seconds, settle_seconds, body_bytes);
  PrintTable(figures);
  PrintRatios(figures, body_bytes, verify);
  std::printf("load average at end: %s\n", LoadAverage().c_str());
  opened->Close();
  opened.reset();
  if (!absl::GetFlag(FLAGS_keep)) std::filesystem::remove_all(data_dir);
  return 0;
}

}  // namespace
}  // namespace ledger::bench

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("proofs per second and full-log verification against raw SHA-256");
  absl::ParseCommandLine(argc, argv);
  if (absl::GetFlag(FLAGS_quick)) {
    absl::SetFlag(&FLAGS_repeat, 1);
    absl::SetFlag(&FLAGS_min_seconds, 0.1);
  }
  return ledger::bench::Main();
}
