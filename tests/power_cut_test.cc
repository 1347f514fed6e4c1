// Power-cut test (issue #7): a killed process loses nothing even without
// fsync, because the kernel still writes its pages; a power cut loses every
// byte that was not synced. This test runs the log and the head publisher on
// a file system that simulates power cuts (ledger/testing/fault_injection_fs.h):
// cycles of concurrent appends (single events and batches, many streams) with
// signed heads written to the head witness, a cut at a random moment, every
// unsynced byte, file and directory entry dropped, then a reopen and an
// audit:
//   - the log opens and accepts writes (so the head witness, written through
//     the same file system, never ran ahead of the durable log);
//   - every acknowledged event is there, at the position it was acknowledged at;
//   - the chain and the Merkle tree verify from position 1.
// Prints `acknowledged lost: L of N across K power cuts` and fails if L > 0.
//
// The negative control runs the same cycles on a disk that acknowledges the
// WAL's syncs without making anything durable (the effect of a build that
// acknowledges an append before its sync) and must lose acknowledged events:
// it shows that the test can fail.
//
// Load: LEDGER_POWER_CUTS (default 24 cycles; hundreds for a long manual
// run), LEDGER_POWER_CUT_SEED (default random; printed, to replay a run).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
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

namespace ledger {
namespace {

using ::ledger::attest::HeadPublisher;
using ::ledger::attest::HeadPublisherOptions;
using ::ledger::testing::DurableFileOpsOn;
using ::ledger::testing::FaultInjectionFileSystem;
using ::ledger::testing::IsOk;
using ::ledger::testing::TempDir;

constexpr int kAppenders = 6;

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  const int parsed = std::atoi(value);
  return parsed > 0 ? parsed : fallback;
}

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
  std::string first_loss;
};

class PowerCuts {
 public:
  PowerCuts(const TempDir& dir, bool lying_wal_syncs, uint64_t seed)
      : dir_(dir), random_(seed) {
    fs_->SetWalSyncsIgnored(lying_wal_syncs);
    auto signer = HeadSigner::LoadOrCreate(dir_.Sub("signing.key"));
    LEDGER_CHECK(signer.ok(), "cannot create the test signing key");
    signer_ = *std::move(signer);
  }

  // One cycle: open, load, cut, drop, reopen and audit.
  void Cycle(int cycle, Totals* totals) {
    auto log = Open();
    ASSERT_THAT(log.status(), IsOk());
    if (!CheckReopened(log->get(), totals)) return;
    auto publisher = StartPublisher(log->get());
    ASSERT_THAT(publisher.status(), IsOk());

    std::atomic<bool> stop{false};
    std::vector<std::thread> appenders;
    for (int t = 0; t < kAppenders; ++t) {
      appenders.emplace_back([&, t, seed = random_()] { Appender(log->get(), cycle, t, seed, &stop); });
    }
    absl::SleepFor(absl::Milliseconds(std::uniform_int_distribution<int>(5, 150)(random_)));
    fs_->CutPower();
    stop = true;
    for (std::thread& thread : appenders) thread.join();
    publisher->reset();
    log->reset();
    auto dropped = fs_->DropUnsyncedData();
    ASSERT_THAT(dropped.status(), IsOk());
    fs_->RestorePower();
    ++totals->cuts;
  }

  void FinalAudit(Totals* totals) {
    auto log = Open();
    ASSERT_THAT(log.status(), IsOk());
    CheckReopened(log->get(), totals);
  }

 private:
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> Open() {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    options.head_witness_path = dir_.Sub("head.witness");
    options.env = env_.get();
    // Small memtables: flushes and compactions (table files, manifest
    // updates, renames) run under the load and meet the cuts too.
    options.write_buffer_bytes = 128 << 10;
    return OpenRocksEventLog(options);
  }

  absl::StatusOr<std::unique_ptr<HeadPublisher>> StartPublisher(EventLog* log) {
    HeadPublisherOptions options;
    options.witness_path = dir_.Sub("head.witness");
    options.witness_file_ops = witness_ops_.get();
    options.interval = absl::Milliseconds(15);
    return HeadPublisher::Start(log, signer_.get(), options);
  }

  // Appends until stopped or refused; remembers what was acknowledged.
  void Appender(EventLog* log, int cycle, int thread, uint64_t seed, const std::atomic<bool>* stop) {
    std::mt19937_64 random(seed);
    for (int i = 0; !stop->load(); ++i) {
      const int events = random() % 4 == 0 ? 1 + static_cast<int>(random() % 40) : 1;
      AppendRequest request;
      request.stream_id = absl::StrCat("35.08.", thread, "/", cycle % 3);
      request.actor = "power-cut-test";
      for (int e = 0; e < events; ++e) {
        request.events.push_back(ProposedEvent{absl::StrCat("c", cycle, "-t", thread, "-", i, "-", e),
                                               "RealizationRecorded",
                                               std::string(40 + random() % 600, 'x'),
                                               "application/json", "", "", ""});
      }
      std::vector<std::string> ids;
      for (const ProposedEvent& event : request.events) ids.push_back(event.event_id);
      absl::StatusOr<AppendResult> result = log->Append(std::move(request));
      if (!result.ok()) return;  // the power is off: everything fails from here
      absl::MutexLock lock(&mu_);
      for (size_t e = 0; e < ids.size(); ++e) acknowledged_[ids[e]] = result->first_position + e;
    }
  }

  // Every acknowledged event is where it was acknowledged; the log verifies
  // and accepts writes. False when the log refuses writes (the run stops).
  bool CheckReopened(ClosableEventLog* log, Totals* totals) {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, position] : acknowledged_) {
      if (lost_.count(id) != 0) continue;
      absl::StatusOr<RecordedEvent> event = log->GetEvent(id);
      if (event.ok() && event->envelope.position() == position) continue;
      lost_.insert(id);
      if (totals->first_loss.empty()) {
        totals->first_loss = absl::StrCat(id, " acknowledged at ", position, ": ",
                                          event.ok() ? absl::StrCat("now at ", event->envelope.position())
                                                     : std::string(event.status().message()));
      }
    }
    totals->acknowledged = acknowledged_.size();
    totals->lost = lost_.size();
    absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
    EXPECT_THAT(report.status(), IsOk());
    if (report.ok()) {
      EXPECT_FALSE(report->finding.has_value())
          << "after cut " << totals->cuts << ": " << report->finding->detail;
    }
    const WriteState state = log->GetWriteState();
    if (!state.writable) {
      ++totals->refused_after_cut;
      if (totals->first_refusal.empty()) totals->first_refusal = state.refusal_reason;
      return false;
    }
    return true;
  }

  const TempDir& dir_;
  std::mt19937_64 random_;
  std::shared_ptr<FaultInjectionFileSystem> fs_ = std::make_shared<FaultInjectionFileSystem>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
  std::unique_ptr<DurableFileOps> witness_ops_ = DurableFileOpsOn(fs_.get());
  std::unique_ptr<HeadSigner> signer_;
  absl::Mutex mu_;
  std::map<std::string, uint64_t> acknowledged_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> lost_ ABSL_GUARDED_BY(mu_);
};

Totals RunPowerCuts(bool lying_wal_syncs, int cycles) {
  const uint64_t seed = Seed();
  std::printf("power cuts: %d cycles, seed %llu (LEDGER_POWER_CUT_SEED to replay)%s\n", cycles,
              static_cast<unsigned long long>(seed), lying_wal_syncs ? ", WAL syncs ignored" : "");
  TempDir dir;
  PowerCuts cuts(dir, lying_wal_syncs, seed);
  Totals totals;
  for (int cycle = 0; cycle < cycles && totals.refused_after_cut == 0; ++cycle) {
    cuts.Cycle(cycle, &totals);
    if (::testing::Test::HasFatalFailure()) return totals;
  }
  // The last cycle's cut is audited here (each cycle audits the one before).
  if (totals.refused_after_cut == 0) cuts.FinalAudit(&totals);
  return totals;
}

TEST(PowerCutTest, NoAcknowledgedAppendIsLostAcrossPowerCuts) {
  const int cycles = EnvInt("LEDGER_POWER_CUTS", 24);
  Totals totals = RunPowerCuts(/*lying_wal_syncs=*/false, cycles);
  std::printf("acknowledged lost: %llu of %llu across %d power cuts\n",
              static_cast<unsigned long long>(totals.lost),
              static_cast<unsigned long long>(totals.acknowledged), totals.cuts);
  EXPECT_EQ(totals.lost, 0u) << "first: " << totals.first_loss;
  EXPECT_EQ(totals.refused_after_cut, 0) << totals.first_refusal;
  EXPECT_EQ(totals.cuts, cycles);
  EXPECT_GT(totals.acknowledged, static_cast<uint64_t>(cycles)) << "the load did not run";
}

// The same test against a disk whose WAL syncs do nothing must find losses,
// or the test above proves nothing.
TEST(PowerCutTest, NegativeControlADiskThatIgnoresWalSyncsLosesAcknowledgedAppends) {
  const int cycles = 6;
  Totals totals = RunPowerCuts(/*lying_wal_syncs=*/true, cycles);
  std::printf("negative control (WAL syncs ignored): acknowledged lost: %llu of %llu across %d power "
              "cuts; reopened ledgers refusing writes: %d%s%s\n",
              static_cast<unsigned long long>(totals.lost),
              static_cast<unsigned long long>(totals.acknowledged), totals.cuts,
              totals.refused_after_cut, totals.first_refusal.empty() ? "" : " (",
              totals.first_refusal.empty() ? "" : (totals.first_refusal + ")").c_str());
  EXPECT_GT(totals.lost, 0u) << "the power-cut test cannot tell a lying disk from a durable one";
}

}  // namespace
}  // namespace ledger
