// Power-cut test (issue #7): a killed process loses nothing even without
// fsync, because the kernel still writes its pages; a power cut loses every
// byte that was not synced. Each cycle runs in a child process (this test
// binary, test PowerCutChild.OneCycle) that opens the log and the head
// publisher on a file system that simulates power cuts
// (ledger/testing/fault_injection_fs.h), appends from several threads
// (single events and batches across streams) while signed heads go to the
// head witness, and at a random moment (two times in three, while a sync of
// the WAL or of a directory is in flight) cuts the power: every later write
// fails, every unsynced byte, file and directory entry is dropped, and the
// process ends on the spot (no orderly close, as in a real cut). The parent
// then reopens the ledger and audits it:
//   - the log opens and accepts writes (so the head witness, written through
//     the same file system, never ran ahead of the durable log);
//   - every acknowledged event is there, at the position it was acknowledged at;
//   - the chain and the Merkle tree verify from position 1.
// Prints `acknowledged lost: L of N across K power cuts` and fails if L > 0.
//
// The negative control runs the same cycles on a disk that acknowledges the
// WAL's syncs without making anything durable (the effect of a build that
// acknowledges an append before its sync) and must lose acknowledged events,
// which the ledger then refuses to build on: the test can fail.
//
// Load: LEDGER_POWER_CUTS (default 24 cycles; hundreds for a long manual
// run), LEDGER_POWER_CUT_SEED (default random; printed, to replay a run).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/attest/head_publisher.h"
#include "ledger/integrity/tree_head.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/util/check.h"
#include "ledger/testing/fault_injection_fs.h"
#include "ledger/testing/temp_dir.h"
#include "rocksdb/env.h"
#include "tests/support/env.h"
#include "tests/support/subprocess.h"

namespace ledger {
namespace {

using ::ledger::attest::HeadPublisher;
using ::ledger::attest::HeadPublisherOptions;
using ::ledger::testing::DescribeWaitStatus;
using ::ledger::testing::DurableFileOpsOn;
using ::ledger::testing::ProcessResult;
using ::ledger::testing::RunProcess;
using ::ledger::testing::FaultInjectionFileSystem;
using ::ledger::testing::FileOperation;
using ::ledger::testing::kWalSuffix;
using ::ledger::testing::IsOk;
using ::ledger::testing::PositiveEnvInt;
using ::ledger::testing::TempDir;

constexpr int kAppenders = 6;

uint64_t Seed() {
  const char* value = std::getenv("LEDGER_POWER_CUT_SEED");
  if (value != nullptr && *value != '\0') return std::strtoull(value, nullptr, 10);
  return std::random_device{}();
}

struct Totals {
  uint64_t acknowledged = 0;
  uint64_t lost = 0;
  int cuts = 0;
  int refused_after_cut = 0;  // reopened logs that refused writes, and why
  std::string first_refusal;
  int damaged_after_cut = 0;  // reopened logs that did not verify, and the first finding
  std::string first_damage;
  std::string first_loss;
};

// What a child is told (through the environment: it is this binary again).
struct ChildCycle {
  std::string dir;
  int cycle = 0;
  uint64_t seed = 0;
  bool lying_wal_syncs = false;
};

constexpr char kChildEnv[] = "LEDGER_POWER_CUT_CHILD";

std::string AckedPath(const std::string& dir, int cycle) { return absl::StrCat(dir, "/acked-", cycle, ".txt"); }
std::string FilesPath(const std::string& dir, int cycle) { return absl::StrCat(dir, "/files-", cycle, ".txt"); }

RocksEventLogOptions LogOptions(const std::string& dir, rocksdb::Env* env) {
  RocksEventLogOptions options;
  options.data_dir = dir + "/ledger";
  options.head_witness_path = dir + "/head.witness";
  options.env = env;
  // Small memtables: flushes and compactions (table files, manifest
  // updates, renames) run under the load and meet the cuts too.
  options.write_buffer_bytes = 128 << 10;
  return options;
}

// --- The child: one cycle of load, then the cut --------------------------

class ChildLoad {
 public:
  ChildLoad(EventLog* log, int cycle) : log_(log), cycle_(cycle) {}

  // Appends until stopped or refused; remembers what was acknowledged.
  void Appender(int thread, uint64_t seed, const std::atomic<bool>* stop) {
    std::mt19937_64 random(seed);
    for (int i = 0; !stop->load(); ++i) {
      const int events = random() % 4 == 0 ? 1 + static_cast<int>(random() % 40) : 1;
      AppendRequest request;
      request.stream_id = absl::StrCat("35.08.", thread, "/", cycle_ % 3);
      request.actor = "power-cut-test";
      for (int e = 0; e < events; ++e) {
        request.events.push_back(ProposedEvent{absl::StrCat("c", cycle_, "-t", thread, "-", i, "-", e),
                                               "RealizationRecorded", std::string(40 + random() % 600, 'x'),
                                               "application/json", "", "", ""});
      }
      std::vector<std::string> ids;
      for (const ProposedEvent& event : request.events) ids.push_back(event.event_id);
      absl::StatusOr<AppendResult> result = log_->Append(std::move(request));
      if (!result.ok()) return;  // the power is off: everything fails from here
      absl::MutexLock lock(&mu_);
      for (size_t e = 0; e < ids.size(); ++e) {
        acknowledged_ += absl::StrCat(ids[e], " ", result->first_position + e, "\n");
      }
    }
  }

  std::string acknowledged() {
    absl::MutexLock lock(&mu_);
    return acknowledged_;
  }

 private:
  EventLog* const log_;
  const int cycle_;
  absl::Mutex mu_;
  std::string acknowledged_ ABSL_GUARDED_BY(mu_);  // "id position" lines
};

// Waits for an armed cut (CutPowerDuringNext); cuts now if none came soon.
void AwaitCut(FaultInjectionFileSystem* fs) {
  const absl::Time give_up = absl::Now() + absl::Seconds(2);
  while (!fs->power_cut() && absl::Now() < give_up) absl::SleepFor(absl::Microseconds(200));
  fs->CutPower();
}

// Cuts the power while the next such sync runs, or soon if none comes.
void CutDuringNext(FaultInjectionFileSystem* fs, FileOperation operation, const char* path_contains) {
  fs->CutPowerDuringNext(operation, path_contains);
  AwaitCut(fs);
}

// Runs one cycle and ends the process: exit code 0 after a cut, 3 when the
// ledger cannot be opened or refuses writes (the parent's audit says why).
[[noreturn]] void RunChildCycle(const ChildCycle& child) {
  auto fs = std::make_shared<FaultInjectionFileSystem>();
  fs->SetWalSyncsIgnored(child.lying_wal_syncs);
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  std::unique_ptr<DurableFileOps> witness_ops = DurableFileOpsOn(fs.get());
  auto signer = HeadSigner::LoadOrCreate(child.dir + "/signing.key");
  auto log = OpenRocksEventLog(LogOptions(child.dir, env.get()));
  if (!signer.ok() || !log.ok() || !(*log)->GetWriteState().writable) std::_Exit(3);
  HeadPublisherOptions publisher_options;
  publisher_options.witness_path = child.dir + "/head.witness";
  publisher_options.witness_file_ops = witness_ops.get();
  publisher_options.interval = absl::Milliseconds(15);
  auto publisher = HeadPublisher::Start(log->get(), signer->get(), publisher_options);
  if (!publisher.ok()) std::_Exit(3);

  std::mt19937_64 random(child.seed);
  ChildLoad load(log->get(), child.cycle);
  std::atomic<bool> stop{false};
  std::vector<std::thread> appenders;
  for (int t = 0; t < kAppenders; ++t) {
    appenders.emplace_back([&, t, seed = random()] { load.Appender(t, seed, &stop); });
  }
  // Two cuts in three land while a sync is in flight, the moments at which an
  // acknowledgement and durability can part: a WAL sync after the random
  // delay, or one of the first directory syncs of the cycle (each makes the
  // name of a new WAL, table file or manifest durable; they are rare, so
  // the cut is armed from the start).
  const int mode = static_cast<int>(random() % 3);
  if (mode == 2) {
    fs->CutPowerDuringNext(FileOperation::kDirSync, "", static_cast<int>(random() % 4));
  }
  absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(5, 150)(random)));
  if (mode == 0) fs->CutPower();
  if (mode == 1) CutDuringNext(fs.get(), FileOperation::kSync, kWalSuffix);
  if (mode == 2) AwaitCut(fs.get());
  stop = true;
  for (std::thread& thread : appenders) thread.join();
  // The acknowledgements go to the parent through the real disk.
  {
    std::ofstream out(AckedPath(child.dir, child.cycle), std::ios::trunc);
    out << load.acknowledged();
    out.flush();
    if (!out.good()) std::_Exit(4);
  }
  // What the cut drops, for the parent's failure message.
  std::string files = fs->DescribeFiles();
  absl::StatusOr<std::string> dropped = fs->DropUnsyncedData();
  if (!dropped.ok()) std::_Exit(5);
  {
    std::ofstream out(FilesPath(child.dir, child.cycle), std::ios::trunc);
    out << "log head at the cut: " << (*log)->GetHead().position << "\n" << files << *dropped << "\n";
  }
  std::_Exit(0);  // no destructor runs: the machine is off
}

std::optional<ChildCycle> ChildFromEnvironment() {
  const char* value = std::getenv(kChildEnv);
  if (value == nullptr) return std::nullopt;
  std::vector<std::string> parts = absl::StrSplit(value, '|');
  if (parts.size() != 4) return std::nullopt;
  ChildCycle child;
  child.dir = parts[0];
  child.cycle = std::atoi(parts[1].c_str());
  child.seed = std::strtoull(parts[2].c_str(), nullptr, 10);
  child.lying_wal_syncs = parts[3] == "1";
  return child;
}

TEST(PowerCutChild, OneCycle) {
  std::optional<ChildCycle> child = ChildFromEnvironment();
  if (!child) GTEST_SKIP() << "runs only as a child process of PowerCutTest";
  RunChildCycle(*child);
}

// --- The parent: cycles of child, cut, reopen, audit ---------------------

class PowerCuts {
 public:
  PowerCuts(const TempDir& dir, bool lying_wal_syncs, uint64_t seed)
      : dir_(dir), lying_wal_syncs_(lying_wal_syncs), random_(seed) {}

  // One cycle: a child loads and cuts; then the reopen and the audit. False
  // when the run cannot go on (the ledger refuses writes, a child failed).
  bool Cycle(int cycle, Totals* totals) {
    const std::string value = absl::StrCat(dir_.path(), "|", cycle, "|", random_(), "|",
                                           lying_wal_syncs_ ? 1 : 0);
    setenv(kChildEnv, value.c_str(), 1);
    absl::StatusOr<ProcessResult> result =
        RunProcess({"/proc/self/exe", "--gtest_filter=PowerCutChild.OneCycle"},
                   dir_.Sub(absl::StrCat("child-", cycle, ".log")), absl::Seconds(120));
    unsetenv(kChildEnv);
    EXPECT_THAT(result.status(), IsOk());
    if (!result.ok()) return false;
    if (!result->exited || result->exit_code != 0) {
      ADD_FAILURE() << "cycle " << cycle << ": the child " << DescribeWaitStatus(result->wait_status)
                    << ":\n" << result->output.substr(result->output.size() > 3000 ? result->output.size() - 3000 : 0);
      return false;
    }
    ++totals->cuts;
    ReadAcknowledged(cycle);
    cycle_ = cycle;
    return Audit(totals);
  }

  // Every acknowledged event is where it was acknowledged; the log verifies
  // and accepts writes. False when the log refuses writes.
  bool Audit(Totals* totals) {
    auto log = OpenRocksEventLog(LogOptions(dir_.path(), nullptr));
    EXPECT_THAT(log.status(), IsOk());
    if (!log.ok()) return false;
    CheckAcknowledged(log->get(), totals);
    CheckVerifies(log->get(), totals);
    const WriteState state = (*log)->GetWriteState();
    if (state.writable) return true;
    ++totals->refused_after_cut;
    if (totals->first_refusal.empty()) totals->first_refusal = state.refusal_reason;
    return false;
  }

 private:
  void ReadAcknowledged(int cycle) {
    std::ifstream in(AckedPath(dir_.path(), cycle));
    std::string id;
    uint64_t position = 0;
    while (in >> id >> position) acknowledged_[id] = position;
  }

  void CheckAcknowledged(ClosableEventLog* log, Totals* totals) {
    for (const auto& [id, position] : acknowledged_) {
      if (lost_.count(id) != 0) continue;
      absl::StatusOr<RecordedEvent> event = log->GetEvent(id);
      if (event.ok() && event->envelope.position() == position) continue;
      lost_.insert(id);
      if (!totals->first_loss.empty()) continue;
      // What the events family holds there tells an index lost from a record lost.
      absl::StatusOr<ReadPage> at = log->ReadAll(position, Direction::kForward, 1);
      totals->first_loss = absl::StrCat(
          id, " acknowledged at ", position, " (head now ", log->GetHead().position, "): ",
          event.ok() ? absl::StrCat("now at ", event->envelope.position()) : std::string(event.status().message()),
          "; position ", position, " holds ",
          !at.ok()                ? std::string(at.status().message())
          : at->events.empty()    ? std::string("nothing")
                                  : at->events[0].envelope.event_id());
      std::ifstream files(FilesPath(dir_.path(), cycle_));
      absl::StrAppend(&totals->first_loss, "\nthe file system at cut ", cycle_, ":\n",
                      std::string(std::istreambuf_iterator<char>(files), {}));
    }
    totals->acknowledged = acknowledged_.size();
    totals->lost = lost_.size();
  }

  void CheckVerifies(ClosableEventLog* log, Totals* totals) {
    absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
    if (report.ok() && !report->finding.has_value()) return;
    ++totals->damaged_after_cut;
    if (!totals->first_damage.empty()) return;
    totals->first_damage = absl::StrCat(
        "after cut ", totals->cuts, ": ",
        report.ok() ? absl::StrCat("position ", report->finding->position, ": ", report->finding->detail)
                    : std::string(report.status().message()));
  }

  const TempDir& dir_;
  const bool lying_wal_syncs_;
  std::mt19937_64 random_;
  std::map<std::string, uint64_t> acknowledged_;
  std::set<std::string> lost_;
  int cycle_ = 0;  // the cycle being audited
};

Totals RunPowerCuts(bool lying_wal_syncs, int cycles) {
  const uint64_t seed = Seed();
  std::printf("power cuts: %d cycles, seed %llu (LEDGER_POWER_CUT_SEED to replay)%s\n", cycles,
              static_cast<unsigned long long>(seed), lying_wal_syncs ? ", WAL syncs ignored" : "");
  std::fflush(stdout);
  TempDir dir;
  PowerCuts cuts(dir, lying_wal_syncs, seed);
  Totals totals;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    if (!cuts.Cycle(cycle, &totals)) break;
  }
  return totals;
}

TEST(PowerCutTest, NoAcknowledgedAppendIsLostAcrossPowerCuts) {
  const int cycles = PositiveEnvInt("LEDGER_POWER_CUTS", 24);
  Totals totals = RunPowerCuts(/*lying_wal_syncs=*/false, cycles);
  std::printf("acknowledged lost: %llu of %llu across %d power cuts\n",
              static_cast<unsigned long long>(totals.lost),
              static_cast<unsigned long long>(totals.acknowledged), totals.cuts);
  EXPECT_EQ(totals.lost, 0u) << "first: " << totals.first_loss;
  EXPECT_EQ(totals.refused_after_cut, 0) << totals.first_refusal;
  EXPECT_EQ(totals.damaged_after_cut, 0) << totals.first_damage;
  EXPECT_EQ(totals.cuts, cycles);
  EXPECT_GT(totals.acknowledged, static_cast<uint64_t>(cycles)) << "the load did not run";
}

// The same test against a disk whose WAL syncs do nothing must find losses,
// or the test above proves nothing.
TEST(PowerCutTest, NegativeControlADiskThatIgnoresWalSyncsLosesAcknowledgedAppends) {
  const int cycles = 6;
  Totals totals = RunPowerCuts(/*lying_wal_syncs=*/true, cycles);
  std::printf("negative control (WAL syncs ignored): acknowledged lost: %llu of %llu across %d power "
              "cuts\n  reopened ledgers refusing writes: %d %s\n  reopened ledgers that do not verify: %d %s\n",
              static_cast<unsigned long long>(totals.lost),
              static_cast<unsigned long long>(totals.acknowledged), totals.cuts,
              totals.refused_after_cut, totals.first_refusal.c_str(), totals.damaged_after_cut,
              totals.first_damage.c_str());
  EXPECT_GT(totals.lost, 0u) << "the power-cut test cannot tell a lying disk from a durable one";
  // The ledger notices: it refuses to extend the shortened log.
  EXPECT_GT(totals.refused_after_cut, 0);
}

}  // namespace
}  // namespace ledger
