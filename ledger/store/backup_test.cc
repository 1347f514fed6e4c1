// Online backups and verified restores (backup.h): a backup taken while
// several threads append holds every event acknowledged before it began and
// restores to a log that verifies; every file of a backup is covered by a
// checksum (a byte flipped anywhere is DataLoss, and a restore refuses it);
// a restore never writes over a ledger and leaves nothing half-restored.
#include "ledger/store/backup.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"

namespace ledger {
namespace {

namespace fs = std::filesystem;
using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

AppendRequest Request(const std::string& stream, std::vector<std::string> ids) {
  AppendRequest request{stream, ExpectedVersion::Any(), {}, "local:test"};
  for (std::string& id : ids) {
    request.events.push_back(ProposedEvent{std::move(id), "Noted", "{\"v\":1}", "application/json", "", "", ""});
  }
  return request;
}

std::unique_ptr<ClosableEventLog> Open(const std::string& dir) {
  RocksEventLogOptions options;
  options.data_dir = dir;
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(options);
  EXPECT_THAT(log, IsOk());
  return log.ok() ? *std::move(log) : nullptr;
}

void AppendEvents(EventLog& log, int count, const std::string& prefix = "e") {
  for (int i = 0; i < count; ++i) {
    ASSERT_THAT(log.Append(Request("s", {absl::StrCat(prefix, i)})), IsOk());
  }
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class BackupTest : public ::testing::Test {
 protected:
  CreateBackupOptions CreateOptions() const {
    CreateBackupOptions options;
    options.backup_dir = dir_.Sub("backups");
    options.staging_dir = dir_.Sub("data.backup-staging");
    return options;
  }
  VerifyBackupOptions VerifyOptions(uint32_t id, bool deep) const {
    VerifyBackupOptions options;
    options.backup_dir = dir_.Sub("backups");
    options.backup_id = id;
    options.deep = deep;
    options.scratch_dir = dir_.Sub("scratch");
    return options;
  }
  // Backups 1..count of a log in dir_/data, holding 10, 20, ... events.
  void BackUpEveryTenEvents(int count) {
    std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("data"));
    ASSERT_NE(log, nullptr);
    for (int i = 0; i < count; ++i) {
      AppendEvents(*log, 10, absl::StrCat("b", i, "-"));
      ASSERT_THAT(CreateBackup(*log, CreateOptions()), IsOk());
    }
  }
  RestoreBackupOptions RestoreOptions(const std::string& target, uint32_t id = 0) const {
    RestoreBackupOptions options;
    options.backup_dir = dir_.Sub("backups");
    options.backup_id = id;
    options.data_dir = target;
    return options;
  }

  TempDir dir_;
};

TEST_F(BackupTest, BackupUnderConcurrentAppendsRestoresEveryAcknowledgedEvent) {
  std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("data"));
  ASSERT_NE(log, nullptr);
  absl::Mutex mu;
  std::vector<std::string> acknowledged;  // in acknowledgement order
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        std::vector<std::string> ids = {absl::StrCat("t", t, "-", i, "a"), absl::StrCat("t", t, "-", i, "b")};
        absl::StatusOr<AppendResult> result = log->Append(Request(absl::StrCat("stream-", t), ids));
        ASSERT_THAT(result, IsOk());
        absl::MutexLock lock(&mu);
        acknowledged.insert(acknowledged.end(), ids.begin(), ids.end());
      }
    });
  }
  auto count = [&] {
    absl::MutexLock lock(&mu);
    return acknowledged.size();
  };
  while (count() < 400) absl::SleepFor(absl::Milliseconds(5));

  std::vector<std::string> before;
  {
    absl::MutexLock lock(&mu);
    before = acknowledged;
  }
  absl::StatusOr<BackupInfo> backup = CreateBackup(*log, CreateOptions());
  const size_t acknowledged_during = count() - before.size();
  absl::SleepFor(absl::Milliseconds(20));
  stop = true;
  for (std::thread& writer : writers) writer.join();
  ASSERT_THAT(backup, IsOk());
  // The appends really went on while the backup was taken.
  EXPECT_GT(acknowledged_during, 0u);
  EXPECT_EQ(backup->backup_id, 1u);
  EXPECT_GE(backup->manifest.head_position, before.size());
  EXPECT_EQ(backup->manifest.schema_version, keys::kSchemaVersion);
  EXPECT_EQ(backup->manifest.tree_root, *log->TreeRoot(backup->manifest.head_position));
  EXPECT_GT(backup->file_count, 0u);
  EXPECT_FALSE(fs::exists(dir_.Sub("data.backup-staging"))) << "the staging checkpoint was left behind";

  absl::StatusOr<RestoreResult> restored = RestoreBackup(RestoreOptions(dir_.Sub("restored")));
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->head.position, backup->manifest.head_position);
  EXPECT_EQ(restored->verification.verified_events, backup->manifest.head_position);
  std::unique_ptr<ClosableEventLog> copy = Open(dir_.Sub("restored"));
  ASSERT_NE(copy, nullptr);
  absl::StatusOr<VerifyReport> report = copy->Verify(0, 0);
  ASSERT_THAT(report, IsOk());
  EXPECT_TRUE(report->ok()) << report->finding->detail;
  EXPECT_EQ(copy->GetHead().hash, backup->manifest.head_hash);
  for (const std::string& id : before) {
    absl::StatusOr<RecordedEvent> event = copy->GetEvent(id);
    ASSERT_THAT(event, IsOk()) << "acknowledged before the backup began, missing from it: " << id;
    EXPECT_EQ(event->hash, log->GetEvent(id)->hash) << id;
  }
  // Exactly the log's prefix up to the manifest's head, no more.
  EXPECT_EQ(*copy->TreeRoot(copy->GetHead().position), *log->TreeRoot(copy->GetHead().position));
}

TEST_F(BackupTest, AByteFlippedInAnyFileOfABackupIsCorruptionAndTheRestoreRefusesIt) {
  std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("data"));
  AppendEvents(*log, 50);
  ASSERT_THAT(CreateBackup(*log, CreateOptions()), IsOk());
  ASSERT_THAT(VerifyBackup(VerifyOptions(1, false)), IsOk());

  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir_.Sub("backups"))) {
    if (entry.is_regular_file() && fs::file_size(entry.path()) > 0) files.push_back(entry.path().string());
  }
  ASSERT_GE(files.size(), 5u);
  bool restore_tried = false;
  for (const std::string& file : files) {
    const std::string original = ReadBytes(file);
    std::string damaged = original;
    damaged[damaged.size() / 2] ^= 0x01;  // '0' <-> '1' in text: still parses
    WriteBytes(file, damaged);
    absl::StatusOr<BackupVerification> verified = VerifyBackup(VerifyOptions(1, false));
    EXPECT_THAT(verified, StatusIs(absl::StatusCode::kDataLoss, HasSubstr("backup 1"))) << "flipped " << file;
    if (!restore_tried && file.find(".sst") != std::string::npos) {
      restore_tried = true;
      EXPECT_THAT(verified, StatusIs(absl::StatusCode::kDataLoss, HasSubstr(fs::path(file).filename().string())));
      EXPECT_THAT(RestoreBackup(RestoreOptions(dir_.Sub("restored"))), StatusIs(absl::StatusCode::kDataLoss));
      EXPECT_FALSE(fs::exists(dir_.Sub("restored")));
      EXPECT_FALSE(fs::exists(dir_.Sub("restored.restoring")));
    }
    WriteBytes(file, original);
  }
  EXPECT_TRUE(restore_tried);
  EXPECT_THAT(VerifyBackup(VerifyOptions(1, true)), IsOk());
}

TEST_F(BackupTest, DeepVerificationRestoresAndVerifiesTheWholeLogInScratch) {
  std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("data"));
  AppendEvents(*log, 40);
  ASSERT_THAT(CreateBackup(*log, CreateOptions()), IsOk());
  AppendEvents(*log, 10, "f");
  ASSERT_THAT(CreateBackup(*log, CreateOptions()), IsOk());

  absl::StatusOr<BackupVerification> latest = VerifyBackup(VerifyOptions(0, true));
  ASSERT_THAT(latest, IsOk());
  EXPECT_EQ(latest->backup.backup_id, 2u);
  EXPECT_TRUE(latest->deep);
  EXPECT_EQ(latest->verified_events, 50u);
  EXPECT_FALSE(fs::exists(dir_.Sub("scratch")));
  absl::StatusOr<BackupVerification> first = VerifyBackup(VerifyOptions(1, true));
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->verified_events, 40u);

  absl::StatusOr<BackupListing> listing = ListBackups(dir_.Sub("backups"));
  ASSERT_THAT(listing, IsOk());
  ASSERT_EQ(listing->backups.size(), 2u);
  EXPECT_EQ(listing->backups[0].manifest.head_position, 40u);
  EXPECT_EQ(listing->backups[1].manifest.head_position, 50u);
  EXPECT_TRUE(listing->corrupt.empty());

  EXPECT_THAT(VerifyBackup(VerifyOptions(7, false)),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("backup_id: no backup 7")));
  VerifyBackupOptions missing = VerifyOptions(0, false);
  missing.backup_dir = dir_.Sub("nowhere");
  EXPECT_THAT(VerifyBackup(missing), StatusIs(absl::StatusCode::kNotFound, HasSubstr("does not exist")));
  EXPECT_THAT(ListBackups(dir_.Sub("nowhere")), StatusIs(absl::StatusCode::kNotFound));
}

std::vector<uint32_t> Ids(const std::vector<BackupInfo>& backups) {
  std::vector<uint32_t> ids;
  for (const BackupInfo& backup : backups) ids.push_back(backup.backup_id);
  return ids;
}

TEST_F(BackupTest, PruningKeepsTheNewestBackupsAndDeletesTheRestWithTheirFiles) {
  ASSERT_NO_FATAL_FAILURE(BackUpEveryTenEvents(4));
  const std::string backups = dir_.Sub("backups");
  PruneBackupsOptions options;
  options.backup_dir = backups;
  options.keep_newest = 2;

  options.dry_run = true;
  absl::StatusOr<PruneBackupsResult> planned = PruneBackups(options);
  ASSERT_THAT(planned, IsOk());
  EXPECT_EQ(Ids(planned->deleted), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(Ids(planned->kept), (std::vector<uint32_t>{3, 4}));
  EXPECT_EQ(ListBackups(backups)->backups.size(), 4u) << "a dry run deleted something";

  options.dry_run = false;
  absl::StatusOr<PruneBackupsResult> pruned = PruneBackups(options);
  ASSERT_THAT(pruned, IsOk());
  EXPECT_EQ(Ids(pruned->deleted), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(pruned->deleted[0].manifest.head_position, 10u);
  EXPECT_EQ(Ids(pruned->kept), (std::vector<uint32_t>{3, 4}));
  absl::StatusOr<BackupListing> listing = ListBackups(backups);
  ASSERT_THAT(listing, IsOk());
  EXPECT_EQ(Ids(listing->backups), (std::vector<uint32_t>{3, 4}));
  EXPECT_TRUE(listing->corrupt.empty());
  for (uint32_t gone : {1u, 2u}) {
    EXPECT_FALSE(fs::exists(absl::StrCat(backups, "/meta/", gone))) << gone;
    EXPECT_FALSE(fs::exists(absl::StrCat(backups, "/private/", gone))) << gone;
    EXPECT_FALSE(fs::exists(absl::StrCat(backups, "/ledger-digests/", gone))) << gone;
  }
  // What stays is whole: both kept backups restore and verify.
  absl::StatusOr<BackupVerification> third = VerifyBackup(VerifyOptions(3, true));
  ASSERT_THAT(third, IsOk());
  EXPECT_EQ(third->verified_events, 30u);
  ASSERT_THAT(VerifyBackup(VerifyOptions(4, true)), IsOk());

  // Fewer backups than asked to keep: nothing to do.
  options.keep_newest = 10;
  absl::StatusOr<PruneBackupsResult> nothing = PruneBackups(options);
  ASSERT_THAT(nothing, IsOk());
  EXPECT_TRUE(nothing->deleted.empty());
  EXPECT_EQ(Ids(nothing->kept), (std::vector<uint32_t>{3, 4}));

  options.keep_newest = 0;
  EXPECT_THAT(PruneBackups(options), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("keep_newest")));
  options.keep_newest = 1;
  options.backup_dir = dir_.Sub("nowhere");
  EXPECT_THAT(PruneBackups(options), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(Ids(ListBackups(backups)->backups), (std::vector<uint32_t>{3, 4}));
}

TEST_F(BackupTest, PruningRefusesWhenTheNewestBackupDoesNotVerifyAndDeletesNothing) {
  ASSERT_NO_FATAL_FAILURE(BackUpEveryTenEvents(3));
  const std::string backups = dir_.Sub("backups");
  std::string damaged_file;
  for (const auto& entry : fs::directory_iterator(backups + "/private/3")) {
    if (entry.is_regular_file() && fs::file_size(entry.path()) > 0) damaged_file = entry.path().string();
  }
  ASSERT_FALSE(damaged_file.empty());
  const std::string original = ReadBytes(damaged_file);
  std::string damaged = original;
  damaged[damaged.size() / 2] ^= 0x01;
  WriteBytes(damaged_file, damaged);

  PruneBackupsOptions options;
  options.backup_dir = backups;
  options.keep_newest = 1;
  EXPECT_THAT(PruneBackups(options),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("nothing deleted: the newest backup must verify")));
  EXPECT_EQ(Ids(ListBackups(backups)->backups), (std::vector<uint32_t>{1, 2, 3}));
  ASSERT_THAT(VerifyBackup(VerifyOptions(1, true)), IsOk()) << "a refused pruning touched backup 1";

  WriteBytes(damaged_file, original);
  absl::StatusOr<PruneBackupsResult> pruned = PruneBackups(options);
  ASSERT_THAT(pruned, IsOk());
  EXPECT_EQ(Ids(pruned->deleted), (std::vector<uint32_t>{1, 2}));
  EXPECT_EQ(Ids(ListBackups(backups)->backups), (std::vector<uint32_t>{3}));
}

// A backup whose metadata cannot be read may be evidence (tampering, a
// failing disk): pruning reports it and leaves it for the operator.
TEST_F(BackupTest, PruningLeavesACorruptBackupAlone) {
  ASSERT_NO_FATAL_FAILURE(BackUpEveryTenEvents(3));
  const std::string backups = dir_.Sub("backups");
  const std::string meta = backups + "/meta/1";
  WriteBytes(meta, "not a backup's metadata\n");
  PruneBackupsOptions options;
  options.backup_dir = backups;
  options.keep_newest = 1;
  absl::StatusOr<PruneBackupsResult> pruned = PruneBackups(options);
  ASSERT_THAT(pruned, IsOk());
  EXPECT_EQ(Ids(pruned->deleted), (std::vector<uint32_t>{2}));
  EXPECT_EQ(Ids(pruned->kept), (std::vector<uint32_t>{3}));
  EXPECT_EQ(pruned->corrupt_left, (std::vector<uint32_t>{1}));
  EXPECT_EQ(ReadBytes(meta), "not a backup's metadata\n");
  absl::StatusOr<BackupListing> listing = ListBackups(backups);
  ASSERT_THAT(listing, IsOk());
  EXPECT_EQ(Ids(listing->backups), (std::vector<uint32_t>{3}));
  ASSERT_EQ(listing->corrupt.size(), 1u);
  EXPECT_EQ(listing->corrupt[0].first, 1u);
  ASSERT_THAT(VerifyBackup(VerifyOptions(3, true)), IsOk());
}

TEST_F(BackupTest, RestoreRefusesANonEmptyTargetAndTouchesNothing) {
  std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("data"));
  AppendEvents(*log, 5);
  ASSERT_THAT(CreateBackup(*log, CreateOptions()), IsOk());

  fs::create_directories(dir_.Sub("occupied"));
  WriteBytes(dir_.Sub("occupied/CURRENT"), "MANIFEST-000001\n");
  EXPECT_THAT(RestoreBackup(RestoreOptions(dir_.Sub("occupied"))),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is not empty (1 entries)")));
  EXPECT_EQ(ReadBytes(dir_.Sub("occupied/CURRENT")), "MANIFEST-000001\n");
  WriteBytes(dir_.Sub("a-file"), "x");
  EXPECT_THAT(RestoreBackup(RestoreOptions(dir_.Sub("a-file"))),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is not a directory")));
  EXPECT_THAT(RestoreBackup(RestoreOptions(dir_.Sub("data"))),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("never over a ledger")));

  // An empty directory is a fine target.
  fs::create_directories(dir_.Sub("empty"));
  absl::StatusOr<RestoreResult> restored = RestoreBackup(RestoreOptions(dir_.Sub("empty")));
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->head.position, 5u);
  EXPECT_FALSE(fs::exists(dir_.Sub("empty.restoring")));
}

TEST_F(BackupTest, ARefusingCheckLeavesNoDataDirectoryBehind) {
  std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("data"));
  AppendEvents(*log, 5);
  ASSERT_THAT(CreateBackup(*log, CreateOptions()), IsOk());
  RestoreBackupOptions options = RestoreOptions(dir_.Sub("target"));
  uint64_t seen = 0;
  options.check = [&](EventLog& restored) {
    seen = restored.GetHead().position;
    EXPECT_TRUE(fs::exists(dir_.Sub("target.restoring")));
    EXPECT_FALSE(fs::exists(dir_.Sub("target")));
    return absl::FailedPreconditionError("restore refused: test");
  };
  EXPECT_THAT(RestoreBackup(options), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("test")));
  EXPECT_EQ(seen, 5u);
  EXPECT_FALSE(fs::exists(dir_.Sub("target")));
  EXPECT_FALSE(fs::exists(dir_.Sub("target.restoring")));
}

TEST_F(BackupTest, AnEmptyLogBacksUpAndRestores) {
  std::unique_ptr<ClosableEventLog> log = Open(dir_.Sub("data"));
  absl::StatusOr<BackupInfo> backup = CreateBackup(*log, CreateOptions());
  ASSERT_THAT(backup, IsOk());
  EXPECT_EQ(backup->manifest.head_position, 0u);
  EXPECT_TRUE(backup->manifest.tree_root.empty());
  absl::StatusOr<RestoreResult> restored = RestoreBackup(RestoreOptions(dir_.Sub("restored")));
  ASSERT_THAT(restored, IsOk());
  EXPECT_EQ(restored->head.position, 0u);
}

TEST(BackupManifestTest, RoundTripsAndRefusesAnyChange) {
  BackupManifest manifest;
  manifest.schema_version = 1;
  manifest.head_position = 1234;
  manifest.head_hash = Sha256("head");
  manifest.head_recorded_at_micros = 1719792000000000;
  manifest.tree_root = Sha256("root");
  manifest.created_at_micros = 1719792001000000;
  const std::string text = EncodeBackupManifest(manifest);
  EXPECT_THAT(text, HasSubstr("head_position 1234\n"));
  absl::StatusOr<BackupManifest> parsed = ParseBackupManifest(text);
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(*parsed, manifest);
  for (size_t i = 0; i < text.size(); i += 7) {
    std::string changed = text;
    changed[i] ^= 0x01;
    EXPECT_THAT(ParseBackupManifest(changed), StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
  }
}

}  // namespace
}  // namespace ledger
