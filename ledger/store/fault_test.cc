// The log under I/O faults (issue #7): a failed write, sync or full disk is
// never acknowledged, the log refuses writes and stays readable, and
// ResumeWrites brings it back once the cause is gone and the reopened log
// verifies; a WAL damaged in the middle is refused at open.
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/fault_injection_fs.h"
#include "ledger/testing/temp_dir.h"
#include "rocksdb/env.h"

namespace ledger {
namespace {

using ::ledger::testing::FaultInjectionFileSystem;
using ::ledger::testing::FileOperation;
using ::ledger::testing::InjectedFault;
using ::ledger::testing::IsOk;
using ::ledger::testing::kWalSuffix;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

ProposedEvent Event(const std::string& id) {
  return ProposedEvent{id, "RealizationRecorded", "{\"v\":1}", "application/json", "", "", ""};
}

AppendRequest Request(const std::string& stream, std::vector<ProposedEvent> events) {
  return AppendRequest{stream, ExpectedVersion::Any(), std::move(events), "local:test"};
}

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { log_.reset(); }

  void Open() {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    options.env = env_.get();
    auto log = OpenRocksEventLog(options);
    ASSERT_THAT(log.status(), IsOk());
    log_ = *std::move(log);
  }
  void Reopen() {
    log_.reset();
    Open();
  }
  absl::StatusOr<AppendResult> Append(const std::string& id) {
    return log_->Append(Request("s/1", {Event(id)}));
  }
  void ExpectVerifies() {
    auto report = log_->Verify(0, 0);
    ASSERT_THAT(report.status(), IsOk());
    EXPECT_FALSE(report->finding.has_value()) << report->finding->detail;
    EXPECT_EQ(report->verified_count, log_->GetHead().position);
  }

  TempDir dir_;
  std::shared_ptr<FaultInjectionFileSystem> fs_ = std::make_shared<FaultInjectionFileSystem>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
  std::unique_ptr<ClosableEventLog> log_;
};

// The whole cycle for one kind of fault: the failed append is not
// acknowledged, later ones are refused with the reason, reads keep working,
// and after ResumeWrites the log takes appends again and verifies, also
// after a restart.
void ExpectFailRefuseResume(ClosableEventLog* log, FaultInjectionFileSystem* fs,
                            const std::string& reason_part) {
  auto failed = log->Append(Request("s/1", {Event("e2")}));
  EXPECT_THAT(failed.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr(reason_part)));
  EXPECT_THAT(failed.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("retry it")));
  WriteState state = log->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_TRUE(state.recoverable);
  EXPECT_THAT(state.refusal_reason, HasSubstr(reason_part));
  EXPECT_THAT(log->Append(Request("s/1", {Event("e3")})).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refuses writes")));
  // Readable throughout.
  EXPECT_THAT(log->GetEvent("e1").status(), IsOk());
  EXPECT_THAT(log->GetEvent("e2").status(), StatusIs(absl::StatusCode::kNotFound, HasSubstr("e2")));
  EXPECT_EQ(log->GetHead().position, 1u);

  fs->ClearFaults();
  ASSERT_THAT(log->ResumeWrites(), IsOk());
  EXPECT_TRUE(log->GetWriteState().writable);
  // The client's retry of the unacknowledged append, then a new one.
  auto retried = log->Append(Request("s/1", {Event("e2")}));
  ASSERT_THAT(retried.status(), IsOk());
  EXPECT_EQ(retried->first_position, 2u);
  auto next = log->Append(Request("s/1", {Event("e3")}));
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_EQ(next->first_position, 3u);
}

// A new WAL file's name must be durable before the first append written
// into it is acknowledged: RocksDB syncs the WAL's directory on the first
// synced write after a switch (a RocksDB that decided before the switch,
// as older code reads, would not). A flush syncs that directory too, so the
// flush is held back (its table file cannot be created) while the test
// appends into the new WAL; then a cut must lose nothing.
TEST(FaultWalSwitchTest, TheFirstAppendIntoANewWalIsAcknowledgedOnlyOnceItsNameIsDurable) {
  TempDir dir;
  auto fs = std::make_shared<FaultInjectionFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  RocksEventLogOptions options;
  options.data_dir = dir.Sub("ledger");
  options.env = env.get();
  options.write_buffer_bytes = 64 << 10;
  auto log = OpenRocksEventLog(options);
  ASSERT_THAT(log.status(), IsOk());
  auto wal_files = [&] {
    std::vector<FaultInjectionFileSystem::TrackedFile> wals;
    for (const FaultInjectionFileSystem::TrackedFile& file : fs->Files()) {
      if (absl::EndsWith(file.path, kWalSuffix)) wals.push_back(file);
    }
    return wals;
  };
  const size_t wals_at_open = wal_files().size();
  fs->HoldCreates(".sst");
  const std::string payload(900, 'x');
  int appended = 0;
  while (wal_files().size() == wals_at_open) {
    ASSERT_LT(appended, 1000) << "the memtables never switched: the test proves nothing";
    ProposedEvent event = Event(absl::StrCat("e", ++appended));
    event.payload = payload;
    ASSERT_THAT((*log)->Append(Request("s/1", {event})).status(), IsOk());
  }
  // The append just acknowledged was the first into the new WAL.
  for (const FaultInjectionFileSystem::TrackedFile& file : wal_files()) {
    EXPECT_TRUE(file.synced_size == 0 || file.name_durable)
        << "append " << appended << " was acknowledged while WAL " << file.path << " holds "
        << file.synced_size << " durable bytes under a name a power cut would drop";
  }
  fs->CutPower();
  fs->ReleaseCreates();
  log->reset();  // every write after the cut fails, the close's too
  ASSERT_THAT(fs->DropUnsyncedData().status(), IsOk());
  fs->RestorePower();
  auto reopened = OpenRocksEventLog(options);
  ASSERT_THAT(reopened.status(), IsOk());
  EXPECT_EQ((*reopened)->GetHead().position, static_cast<uint64_t>(appended));
  EXPECT_THAT((*reopened)->GetEvent(absl::StrCat("e", appended)).status(), IsOk());
}

TEST_F(FaultTest, AFailedWalSyncIsNotAcknowledgedAndWritesResumeAfterReopen) {
  ASSERT_THAT(Append("e1").status(), IsOk());
  fs_->FailNext({FileOperation::kSync, kWalSuffix, 0, 1, false});
  ExpectFailRefuseResume(log_.get(), fs_.get(), "injected I/O error");
  ExpectVerifies();
  Reopen();
  EXPECT_EQ(log_->GetHead().position, 3u);
  ExpectVerifies();
}

TEST_F(FaultTest, AFailedWalWriteIsNotAcknowledgedAndWritesResumeAfterReopen) {
  ASSERT_THAT(Append("e1").status(), IsOk());
  fs_->FailNext({FileOperation::kWrite, kWalSuffix, 0, 1, false});
  ExpectFailRefuseResume(log_.get(), fs_.get(), "injected I/O error");
  ExpectVerifies();
  Reopen();
  EXPECT_EQ(log_->GetHead().position, 3u);
  ExpectVerifies();
}

TEST_F(FaultTest, AFullDiskRefusesWritesUntilThereIsSpaceAgain) {
  ASSERT_THAT(Append("e1").status(), IsOk());
  fs_->SetDiskFull(true);
  auto failed = Append("e2");
  EXPECT_THAT(failed.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("space")));
  // While the disk is still full, resuming fails, says why, and the log
  // stays readable (from a read-only instance) and refusing.
  EXPECT_THAT(log_->ResumeWrites(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("space")));
  WriteState state = log_->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_TRUE(state.recoverable);
  EXPECT_THAT(state.refusal_reason, HasSubstr("reopening the database failed"));
  EXPECT_THAT(log_->GetEvent("e1").status(), IsOk());
  auto page = log_->ReadAll(0, Direction::kForward, 10);
  ASSERT_THAT(page.status(), IsOk());
  EXPECT_EQ(page->events.size(), 1u);
  EXPECT_THAT(Append("e3").status(), StatusIs(absl::StatusCode::kFailedPrecondition));

  fs_->SetDiskFull(false);
  ASSERT_THAT(log_->ResumeWrites(), IsOk());
  ASSERT_THAT(Append("e2").status(), IsOk());
  EXPECT_EQ(log_->GetHead().position, 2u);
  ExpectVerifies();
  Reopen();
  ExpectVerifies();
}

// A ledger restarted on a full disk opens read-only: it serves reads,
// refuses writes with the reason, and resumes once there is space.
TEST_F(FaultTest, ALedgerOpenedOnAFullDiskServesReadsAndResumesWhenThereIsSpace) {
  ASSERT_THAT(Append("e1").status(), IsOk());
  log_.reset();
  fs_->SetDiskFull(true);
  Open();
  WriteState state = log_->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_TRUE(state.recoverable);
  EXPECT_THAT(state.refusal_reason, HasSubstr("read-only"));
  EXPECT_THAT(log_->GetEvent("e1").status(), IsOk());
  EXPECT_THAT(Append("e2").status(), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("space")));
  EXPECT_THAT(log_->ResumeWrites(), StatusIs(absl::StatusCode::kUnavailable));
  fs_->SetDiskFull(false);
  ASSERT_THAT(log_->ResumeWrites(), IsOk());
  ASSERT_THAT(Append("e2").status(), IsOk());
  ExpectVerifies();
}

// A database another log holds is not opened read-only behind its back.
TEST_F(FaultTest, ADatabaseHeldByAnotherLogIsNotOpened) {
  RocksEventLogOptions options;
  options.data_dir = dir_.Sub("ledger");
  auto second = OpenRocksEventLog(options);
  EXPECT_THAT(second.status(), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("LOCK")));
}

TEST_F(FaultTest, ResumingAWritableLogIsANoOpAndADamagedOneNeedsAnOperator) {
  ASSERT_THAT(Append("e1").status(), IsOk());
  EXPECT_THAT(log_->ResumeWrites(), IsOk());
  ASSERT_THAT(Append("e2").status(), IsOk());
  // A log found damaged at open (here: a head witness it does not match)
  // is not something a reopen can clear.
  log_.reset();
  RocksEventLogOptions options;
  options.data_dir = dir_.Sub("ledger");
  options.env = env_.get();
  options.head_witness_path = dir_.Sub("witness");
  { std::ofstream(options.head_witness_path) << "not a witness\n"; }
  auto log = OpenRocksEventLog(options);
  ASSERT_THAT(log.status(), IsOk());
  log_ = *std::move(log);
  EXPECT_FALSE(log_->GetWriteState().writable);
  EXPECT_FALSE(log_->GetWriteState().recoverable);
  EXPECT_THAT(log_->ResumeWrites(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("cannot clear")));
  EXPECT_FALSE(log_->GetWriteState().writable);
}

// Many appenders while one sync fails: every append is answered, none that
// was acknowledged is lost, none that failed is half there, and after the
// resume the log takes the retries and verifies.
TEST_F(FaultTest, ConcurrentAppendersAcrossAFailedSync) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 60;
  fs_->FailNext({FileOperation::kSync, kWalSuffix, /*skip=*/20, 1, false});
  absl::Mutex mu;
  std::map<std::string, uint64_t> acknowledged;
  std::vector<std::pair<std::string, std::string>> failed;  // stream, event id
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = absl::StrCat("t", t, "-", i);
        auto result = log_->Append(Request(absl::StrCat("s/", t), {Event(id)}));
        absl::MutexLock lock(&mu);
        if (result.ok()) {
          acknowledged[id] = result->first_position;
        } else {
          EXPECT_THAT(result.status().code(), ::testing::AnyOf(absl::StatusCode::kUnavailable,
                                                               absl::StatusCode::kFailedPrecondition));
          failed.emplace_back(absl::StrCat("s/", t), id);
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_FALSE(failed.empty()) << "the injected fault did not fire";
  ASSERT_THAT(log_->ResumeWrites(), IsOk());
  // Retries as a client makes them (the same request): the failed write may
  // have reached the disk after all (then the reopened log holds it and the
  // retry is answered as already recorded), or not (then it is written now).
  for (const auto& [stream, id] : failed) {
    auto retried = log_->Append(Request(stream, {Event(id)}));
    ASSERT_THAT(retried.status(), IsOk()) << id;
    acknowledged[id] = retried->first_position;
  }
  Reopen();
  for (const auto& [id, position] : acknowledged) {
    auto event = log_->GetEvent(id);
    ASSERT_THAT(event.status(), IsOk()) << id;
    EXPECT_EQ(event->envelope.position(), position) << id;
  }
  EXPECT_EQ(log_->GetHead().position, static_cast<uint64_t>(kThreads * kPerThread));
  ExpectVerifies();
}

// A write whose sync failed may still have reached the WAL file; the reopen
// that resumes writes then finds it and serves it (its retry is answered as
// already recorded), and later appends chain on it. That is safe only if the
// reopen made it durable (avoid_flush_during_recovery = false writes it to a
// synced table file): a power cut right after must keep it and everything
// acknowledged after it.
TEST_F(FaultTest, AFailedWriteFoundByTheReopenIsDurableBeforeAnythingChainsOnIt) {
  ASSERT_THAT(Append("e1").status(), IsOk());
  fs_->FailNext({FileOperation::kSync, kWalSuffix, 0, 1, false});
  EXPECT_THAT(Append("e2").status(), StatusIs(absl::StatusCode::kUnavailable));
  ASSERT_THAT(log_->ResumeWrites(), IsOk());
  ASSERT_EQ(log_->GetHead().position, 2u) << "the failed write's record reached the WAL file";
  auto retried = Append("e2");
  ASSERT_THAT(retried.status(), IsOk());
  EXPECT_TRUE(retried->already_recorded);
  auto next = Append("e3");
  ASSERT_THAT(next.status(), IsOk());
  EXPECT_EQ(next->first_position, 3u);

  fs_->CutPower();
  log_.reset();
  ASSERT_THAT(fs_->DropUnsyncedData().status(), IsOk());
  fs_->RestorePower();
  Open();
  for (const auto& [id, position] : {std::pair<std::string, uint64_t>{"e1", 1}, {"e2", 2}, {"e3", 3}}) {
    auto event = log_->GetEvent(id);
    ASSERT_THAT(event.status(), IsOk()) << id;
    EXPECT_EQ(event->envelope.position(), position);
  }
  ExpectVerifies();
}

// A power cut right after a failed sync: what was acknowledged before it is
// there, the failed append is there whole or not at all.
TEST_F(FaultTest, APowerCutAfterAFailedSyncLosesNothingAcknowledged) {
  for (int i = 0; i < 50; ++i) ASSERT_THAT(Append(absl::StrCat("e", i)).status(), IsOk());
  fs_->FailNext({FileOperation::kSync, kWalSuffix, 0, 1, false});
  EXPECT_THAT(log_->Append(Request("s/1", {Event("f1"), Event("f2")})).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  fs_->CutPower();
  log_.reset();
  ASSERT_THAT(fs_->DropUnsyncedData().status(), IsOk());
  fs_->RestorePower();
  Open();
  EXPECT_TRUE(log_->GetWriteState().writable) << log_->GetWriteState().refusal_reason;
  EXPECT_EQ(log_->GetHead().position, 50u) << "the failed append's bytes were never synced";
  for (int i = 0; i < 50; ++i) EXPECT_THAT(log_->GetEvent(absl::StrCat("e", i)).status(), IsOk());
  ExpectVerifies();
}

// RocksDB renames files when it opens (its CURRENT and OPTIONS files): a
// rename that fails leaves the ledger open read-only, refusing writes with
// the reason; once renames work again it resumes with every event.
TEST_F(FaultTest, ARenameFailingAtOpenLeavesTheLedgerReadOnlyUntilItResumes) {
  for (int i = 0; i < 10; ++i) ASSERT_THAT(Append(absl::StrCat("e", i)).status(), IsOk());
  log_.reset();
  fs_->FailNext({FileOperation::kRename, "", 0, -1, false});
  Open();
  EXPECT_GT(fs_->faults_fired(), 0);
  WriteState state = log_->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_TRUE(state.recoverable);
  EXPECT_THAT(state.refusal_reason, HasSubstr("injected I/O error"));
  EXPECT_EQ(log_->GetHead().position, 10u);
  EXPECT_THAT(Append("e10").status(), StatusIs(absl::StatusCode::kFailedPrecondition));
  fs_->ClearFaults();
  ASSERT_THAT(log_->ResumeWrites(), IsOk());
  ASSERT_THAT(Append("e10").status(), IsOk());
  EXPECT_EQ(log_->GetHead().position, 11u);
  ExpectVerifies();
}

// A WAL with one byte flipped in the middle is refused at open, naming the
// corruption, rather than truncated at the damaged record (which would drop
// every acknowledged append after it).
TEST_F(FaultTest, AWalCorruptedInTheMiddleIsRefusedAtOpen) {
  for (int i = 0; i < 200; ++i) ASSERT_THAT(Append(absl::StrCat("e", i)).status(), IsOk());
  log_.reset();
  std::string wal;
  uintmax_t largest = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("ledger"))) {
    if (entry.path().extension() == ".log" && entry.file_size() > largest) {
      largest = entry.file_size();
      wal = entry.path().string();
    }
  }
  ASSERT_FALSE(wal.empty());
  ASSERT_GT(largest, 20000u) << "the appends should still be in the WAL";
  {
    std::fstream file(wal, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(static_cast<std::streamoff>(largest / 2));
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x01);
    file.seekp(static_cast<std::streamoff>(largest / 2));
    file.write(&byte, 1);
  }
  RocksEventLogOptions options;
  options.data_dir = dir_.Sub("ledger");
  options.env = env_.get();
  auto reopened = OpenRocksEventLog(options);
  EXPECT_THAT(reopened.status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Corruption")));
  EXPECT_THAT(reopened.status().message(), HasSubstr(dir_.Sub("ledger")));
  EXPECT_THAT(reopened.status().message(), HasSubstr("restore the latest backup"));
  std::printf("refused: %s\n", std::string(reopened.status().message()).c_str());
}

}  // namespace
}  // namespace ledger
