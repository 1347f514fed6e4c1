// Backups end to end, through real processes: ledgerd with --backup_dir and
// signed heads, the real `ledgerctl backup create|list|verify|prune`, and
// `ledgerd --restore_from` into a new data directory, which a ledgerd then
// serves. A restore that would roll back the witnessed head is refused
// unless --allow_rollback (the old witness is kept); a damaged backup and a
// non-empty target are refused; without --backup_dir the RPC says which flag
// to set.
#include <filesystem>
#include <string>
#include <vector>

#include "clients/ledgerctl/ledgerctl_e2e.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

namespace fs = std::filesystem;
using ::ledgerctl_e2e::Child;
using ::ledgerctl_e2e::Json;
using ::ledgerctl_e2e::JsonLines;
using ::ledgerctl_e2e::LedgerctlTest;
using ::ledgerctl_e2e::Number;
using ::ledgerctl_e2e::ReadFile;
using ::ledgerctl_e2e::Result;
using ::ledgerctl_e2e::Str;
using ::ledgerctl_e2e::WriteFile;
using ::testing::AllOf;
using ::testing::HasSubstr;

class LedgerctlBackupTest : public LedgerctlTest {
 protected:
  // Signed heads on (the witness is what a restore is checked against), only
  // on request and at shutdown, so that positions are exact.
  std::vector<std::string> ServerFlags() const override {
    return {"--backup_dir=" + Path("backups"), "--head_interval_ms=0"};
  }

  void AppendMany(int count, const std::string& prefix) {
    for (int i = 0; i < count; ++i) Append("s", "Noted", "{}", {"--id", prefix + std::to_string(i)});
  }

  // `ledgerd --restore_from=<dir>/backups --data_dir=<dir>/<target>` with the
  // test server's key and witness, plus `flags`.
  Result Restore(const std::string& target, const std::vector<std::string>& flags = {}) {
    std::vector<std::string> argv = {LEDGERD_PATH, "--restore_from=" + Path("backups"),
                                     "--data_dir=" + Path(target), "--signing_key=" + Path("data.signing-key"),
                                     "--head_witness=" + Path("data.head-witness")};
    argv.insert(argv.end(), flags.begin(), flags.end());
    const std::string out = Path("restore" + std::to_string(++restores_) + ".out");
    const std::string err = Path("restore" + std::to_string(restores_) + ".err");
    Child child(argv, "", out, err);
    int code = child.Wait();
    return {code, ReadFile(out), ReadFile(err)};
  }

  void StopServer() {
    StopLedgerd("data", server_);
    ASSERT_TRUE(fs::exists(Path("data.head-witness")));
  }

  int restores_ = 0;
};

TEST_F(LedgerctlBackupTest, CreateListVerifyThenRestoreAndServeTheRestoredLedger) {
  AppendMany(5, "e");
  Result created = Run({"backup", "create", "--json"});
  ASSERT_EQ(created.code, 0) << created.err;
  std::vector<Json> backup = JsonLines(created.out);
  ASSERT_EQ(backup.size(), 1u);
  EXPECT_EQ(Number(backup[0], "backup_id"), 1);
  EXPECT_EQ(Number(backup[0], "head_position"), 5);
  EXPECT_EQ(Str(backup[0], "tree_root").size(), 64u);

  Result human = Run({"backup", "create"});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_THAT(human.out, AllOf(HasSubstr("backup 2 created"), HasSubstr("head       position 5, hash ")));
  Result listed = Run({"backup", "list", "--json"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  ASSERT_EQ(JsonLines(listed.out).size(), 2u);
  Result verified = Run({"backup", "verify", "1", "--deep", "--json"});
  ASSERT_EQ(verified.code, 0) << verified.err;
  std::vector<Json> verification = JsonLines(verified.out);
  ASSERT_EQ(verification.size(), 1u);
  EXPECT_TRUE(verification[0].fields().at("deep").bool_value());
  EXPECT_EQ(Number(verification[0], "verified_events"), 5);
  Result unknown = Run({"backup", "verify", "9"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND: backup_id: no backup 9"));
  EXPECT_EQ(Run({"backup", "destroy"}).code, 2);

  StopServer();  // signs a last head covering the 5 events: the witness
  Result restored = Restore("restored");
  ASSERT_EQ(restored.code, 0) << restored.err;
  EXPECT_THAT(restored.out, AllOf(HasSubstr("restored backup 2"), HasSubstr("head: position 5"),
                                  HasSubstr("5 events, hash chain and Merkle tree"),
                                  HasSubstr("data.head-witness: kept: the restored log extends it")));
  EXPECT_FALSE(fs::exists(Path("restored.restoring")));

  const std::string address = StartAnotherLedgerd(
      "restored", {"--signing_key=" + Path("data.signing-key"), "--head_witness=" + Path("data.head-witness")});
  Result head = RunAt(address, {"head", "--json"});
  ASSERT_EQ(head.code, 0) << head.err;
  std::vector<Json> heads = JsonLines(head.out);
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_GE(Number(heads[0], "position"), 5);
  EXPECT_TRUE(heads[0].fields().at("writable").bool_value()) << head.out;
  EXPECT_EQ(RunAt(address, {"verify"}).code, 0);
}

TEST_F(LedgerctlBackupTest, ARestoreThatRollsBackTheWitnessedHeadIsRefusedUnlessAllowed) {
  AppendMany(3, "e");
  ASSERT_EQ(Run({"backup", "create"}).code, 0);
  AppendMany(4, "f");
  StopServer();  // the witness covers 7 events; the backup holds 3
  const std::string witness = ReadFile(Path("data.head-witness"));
  ASSERT_THAT(witness, HasSubstr("tree_size 7\n"));

  Result refused = Restore("restored");
  EXPECT_EQ(refused.code, 1);
  EXPECT_THAT(refused.err, AllOf(HasSubstr("restore refused"), HasSubstr("holds 3 events"),
                                 HasSubstr("covering 7 events"), HasSubstr("--allow_rollback")));
  EXPECT_FALSE(fs::exists(Path("restored")));
  EXPECT_FALSE(fs::exists(Path("restored.restoring")));
  EXPECT_EQ(ReadFile(Path("data.head-witness")), witness);

  Result over_a_ledger = Restore("data", {"--allow_rollback"});
  EXPECT_EQ(over_a_ledger.code, 1);
  EXPECT_THAT(over_a_ledger.err, HasSubstr("is not empty"));

  Result allowed = Restore("restored", {"--allow_rollback"});
  ASSERT_EQ(allowed.code, 0) << allowed.err;
  EXPECT_THAT(allowed.out, AllOf(HasSubstr("ROLLBACK (allowed by --allow_rollback)"), HasSubstr("ROLLED BACK: the previous one is kept as ")));
  EXPECT_THAT(allowed.err, HasSubstr("ROLLBACK"));
  std::vector<std::string> kept;
  for (const auto& entry : fs::directory_iterator(dir_)) {
    if (entry.path().filename().string().rfind("data.head-witness.rolled-back-", 0) == 0) {
      kept.push_back(entry.path().string());
    }
  }
  ASSERT_EQ(kept.size(), 1u) << "the old witness must be kept aside";
  EXPECT_EQ(ReadFile(kept[0]), witness);
  const std::string address = StartAnotherLedgerd(
      "restored", {"--signing_key=" + Path("data.signing-key"), "--head_witness=" + Path("data.head-witness")});
  Result head = RunAt(address, {"head", "--json"});
  ASSERT_EQ(head.code, 0) << head.err;
  EXPECT_EQ(Number(JsonLines(head.out).at(0), "position"), 3);
  EXPECT_TRUE(JsonLines(head.out).at(0).fields().at("writable").bool_value()) << head.out;
}

TEST_F(LedgerctlBackupTest, PruneKeepsTheNewestBackupsAndRefusesBadCounts) {
  for (int i = 0; i < 3; ++i) {
    AppendMany(3, "p" + std::to_string(i) + "-");
    ASSERT_EQ(Run({"backup", "create"}).code, 0);
  }
  Result planned = Run({"backup", "prune", "--keep", "1", "--dry-run"});
  ASSERT_EQ(planned.code, 0) << planned.err;
  EXPECT_THAT(planned.out, AllOf(HasSubstr("would delete backup 1"), HasSubstr("would delete backup 2"),
                                 HasSubstr("kept backup 3")));
  ASSERT_EQ(JsonLines(Run({"backup", "list", "--json"}).out).size(), 3u) << "a dry run deleted something";

  Result pruned = Run({"backup", "prune", "--keep", "2", "--json"});
  ASSERT_EQ(pruned.code, 0) << pruned.err;
  std::vector<Json> lines = JsonLines(pruned.out);
  ASSERT_EQ(lines.size(), 3u) << pruned.out;
  EXPECT_EQ(Str(lines[0], "outcome"), "deleted");
  EXPECT_EQ(Number(lines[0], "backup_id"), 1);
  EXPECT_EQ(Number(lines[0], "head_position"), 3);
  EXPECT_EQ(Str(lines[1], "outcome"), "kept");
  EXPECT_EQ(Number(lines[1], "backup_id"), 2);
  EXPECT_EQ(Str(lines[2], "outcome"), "kept");
  std::vector<Json> listed = JsonLines(Run({"backup", "list", "--json"}).out);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(Number(listed[0], "backup_id"), 2);
  EXPECT_EQ(Run({"backup", "verify", "2", "--deep"}).code, 0);

  Result zero = Run({"backup", "prune", "--keep", "0"});
  EXPECT_EQ(zero.code, 2);
  EXPECT_THAT(zero.err, HasSubstr("--keep: must be 1.."));
  Result missing = Run({"backup", "prune"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--keep N is required"));
  Result misplaced = Run({"backup", "list", "--keep", "1"});
  EXPECT_EQ(misplaced.code, 2);
  EXPECT_THAT(misplaced.err, HasSubstr("--keep: only with backup prune"));
  EXPECT_EQ(JsonLines(Run({"backup", "list", "--json"}).out).size(), 2u);
}

TEST_F(LedgerctlBackupTest, ADamagedBackupIsReportedAndNotRestored) {
  AppendMany(20, "e");
  ASSERT_EQ(Run({"backup", "create"}).code, 0);
  std::string damaged;
  for (const auto& entry : fs::directory_iterator(Path("backups/shared_checksum"))) {
    if (entry.path().extension() == ".sst") damaged = entry.path().string();
  }
  ASSERT_FALSE(damaged.empty());
  std::string bytes = ReadFile(damaged);
  bytes[bytes.size() / 2] ^= 0x20;
  WriteFile(damaged, bytes);

  Result verified = Run({"backup", "verify"});
  EXPECT_EQ(verified.code, 1);
  EXPECT_THAT(verified.err, AllOf(HasSubstr("DATA_LOSS: backup 1"), HasSubstr(fs::path(damaged).filename().string())));
  StopServer();
  Result restored = Restore("restored");
  EXPECT_EQ(restored.code, 1);
  EXPECT_THAT(restored.err, AllOf(HasSubstr("restore refused"), HasSubstr("DATA_LOSS")));
  EXPECT_FALSE(fs::exists(Path("restored")));
}

TEST_F(LedgerctlTest, BackupsNeedTheServersBackupDirectory) {
  Result result = Run({"backup", "create"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, AllOf(HasSubstr("FAILED_PRECONDITION"), HasSubstr("--backup_dir")));
}

}  // namespace
