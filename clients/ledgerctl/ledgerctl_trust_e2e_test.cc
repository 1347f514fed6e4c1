// End-to-end tests of ledgerctl's tamper evidence against real ledgerd
// processes: signed heads that extend each other as the log grows, an
// imported event proven in a signed head, the reference report's auditor
// bundle verified offline (and refused after any one byte changes), and two
// servers with the same signing key and different histories: a client that
// verified the first refuses the second (rollback, then fork) and keeps its
// trusted head unchanged.
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "clients/ledgerctl/ledgerctl_e2e.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace {

using ::ledgerctl_e2e::ClosedPort;
using ::ledgerctl_e2e::Json;
using ::ledgerctl_e2e::JsonLines;
using ::ledgerctl_e2e::kReferenceJsonl;
using ::ledgerctl_e2e::LedgerctlTest;
using ::ledgerctl_e2e::ReadFile;
using ::ledgerctl_e2e::Result;
using ::ledgerctl_e2e::Str;
using ::ledgerctl_e2e::WriteFile;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int kExitRefused = 4;
constexpr char kReportId[] = "LKI-CAMAT-KLAKAH-TW2-2024";

double Num(const Json& object, const std::string& key) {
  // uint64 fields are numbers in ledgerctl's own JSON objects.
  return object.fields().at(key).number_value();
}

class LedgerctlTrustTest : public LedgerctlTest {
 protected:
  // ledgerd as deployed: signing heads and sealing reports.
  std::vector<std::string> ServerFlags() const override { return {}; }

  // ledgerd creates its key pair at <data_dir>.signing-key on first start
  // and publishes the public key, hex, next to it: what an operator hands out.
  std::string PublicKeyFile(const std::string& data_dir = "data") const {
    return Path(data_dir + ".signing-key.pub");
  }
  std::string TrustDir() const { return Path("inspector/trusted-heads"); }

  // ledgerctl ARGS --public_key <key> --trust_dir <dir> against `server`.
  Result Trusting(const std::string& server, std::vector<std::string> args) {
    args.insert(args.end(), {"--public_key", PublicKeyFile(), "--trust_dir", TrustDir()});
    return RunAt(server, args);
  }
  Result Trusting(std::vector<std::string> args) { return Trusting(server_address_, std::move(args)); }

  // The one trusted head file, and its content.
  std::string TrustFile() const {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(TrustDir())) files.push_back(entry.path());
    EXPECT_EQ(files.size(), 1u);
    return files.empty() ? "" : files[0];
  }

  // The log's size now: its head position.
  uint64_t LogSize(const std::string& server) {
    std::vector<Json> head = JsonLines(RunAt(server, {"head", "--json"}).out);
    return head.size() == 1 ? static_cast<uint64_t>(Num(head[0], "position")) : 0;
  }

  // Asks `server` for heads until one covers every event of a log of `size`
  // events but its own (a head's TreeHeadSigned event comes after the tree
  // it signs; the server signs at most one head per 200 ms on request),
  // verifying them in a scratch store, never the inspector's. Returns that
  // head's size.
  uint64_t WaitForSignedHead(const std::string& server, uint64_t size) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true) {
      Result result = RunAt(server, {"signed-head", "--sign_now", "--json", "--public_key", PublicKeyFile(),
                                     "--trust_dir", Path("scratch-" + server)});
      std::vector<Json> head = JsonLines(result.out);
      EXPECT_EQ(result.code, 0) << result.err;
      if (result.code != 0 || head.size() != 1) return 0;
      if (Num(head[0], "recorded_at_position") >= size) return static_cast<uint64_t>(Num(head[0], "tree_size"));
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no signed head of " << size << " events within 10 s";
        return 0;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // The global position of an event, from `get --json`.
  uint64_t PositionOf(const std::string& event_id) {
    std::vector<Json> event = JsonLines(Run({"get", event_id, "--json"}).out);
    return event.size() == 1 ? static_cast<uint64_t>(Num(event[0], "position")) : 0;
  }

  void AppendNotes(const std::string& stream, int count) {
    for (int i = 0; i < count; ++i) Append(stream, "NoteTaken", "{\"n\": " + std::to_string(i) + "}");
  }
};

TEST_F(LedgerctlTrustTest, SignedHeadsExtendEachOtherAsTheLogGrows) {
  AppendNotes("35.08.19/notes", 3);
  const uint64_t logged = LogSize(server_address_);
  WaitForSignedHead(server_address_, logged);
  Result first = Trusting({"signed-head", "--json"});
  ASSERT_EQ(first.code, 0) << first.err;
  std::vector<Json> first_json = JsonLines(first.out);
  ASSERT_EQ(first_json.size(), 1u);
  EXPECT_TRUE(first_json[0].fields().at("verified").bool_value());
  EXPECT_EQ(Str(first_json[0], "relation"), "first");
  const double first_size = Num(first_json[0], "tree_size");
  EXPECT_GE(first_size, 3);
  EXPECT_GE(Num(first_json[0], "recorded_at_position"), logged);
  EXPECT_GT(Num(first_json[0], "recorded_at_position"), first_size);
  EXPECT_EQ(Str(first_json[0], "root_hash").size(), 64u);

  // The trust store: a private directory, one head-witness file named by the key.
  struct stat info {};
  ASSERT_EQ(::stat(TrustDir().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  const std::string key_id = Str(first_json[0], "key_id");
  EXPECT_EQ(TrustFile(), TrustDir() + "/" + key_id + ".head");
  EXPECT_THAT(ReadFile(TrustFile()), StartsWith("sakip-ledger head witness v1\ntree_size " +
                                                std::to_string(static_cast<uint64_t>(first_size)) + "\n"));

  AppendNotes("35.08.19/notes", 4);
  WaitForSignedHead(server_address_, LogSize(server_address_));
  Result second = Trusting({"signed-head"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_THAT(second.out, StartsWith("signed tree head: verified\n"));
  EXPECT_THAT(second.out, HasSubstr(" WIB\n"));
  EXPECT_THAT(second.out, HasSubstr("key id      " + key_id));
  EXPECT_THAT(second.out, HasSubstr("extends the head you verified before (size " +
                                    std::to_string(static_cast<uint64_t>(first_size)) + ", verified "));
  EXPECT_THAT(ReadFile(TrustFile()), ::testing::Not(HasSubstr(
                                         "tree_size " + std::to_string(static_cast<uint64_t>(first_size)) + "\n")));

  // Without the trusted key nothing is verified, and the server's own key is
  // shown only for comparison.
  Result no_key = Run({"signed-head"});
  EXPECT_EQ(no_key.code, 2);
  EXPECT_THAT(no_key.err, HasSubstr("--public_key: required"));
  Result shown = Run({"public-key", "--public_key", PublicKeyFile()});
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("key id      " + key_id));
  EXPECT_THAT(shown.out, HasSubstr("this is the key you trust"));
  EXPECT_THAT(shown.err, HasSubstr("proves nothing"));
}

TEST_F(LedgerctlTrustTest, AnImportedEventIsProvenInTheSignedLog) {
  ASSERT_EQ(Run({"import", kReferenceJsonl}).code, 0);
  // Positions depend on when the server's heads interleave: read them.
  const std::string position = std::to_string(PositionOf("klakah-2024-0042"));
  Result human = Trusting({"verify-event", "klakah-2024-0042"});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_THAT(human.out, StartsWith("event klakah-2024-0042: proven in the signed log\n"));
  EXPECT_THAT(human.out, HasSubstr("position     " + position + "  (35.08.19/2024@42, RealizationRecorded"));
  EXPECT_THAT(human.out, HasSubstr("the server's hash agrees"));
  EXPECT_THAT(human.out, HasSubstr("proven: these exact bytes are the event at position " + position));

  Result json = Trusting({"verify-event", "klakah-2024-0235", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  std::vector<Json> proven = JsonLines(json.out);
  ASSERT_EQ(proven.size(), 1u);
  EXPECT_EQ(Num(proven[0], "position"), PositionOf("klakah-2024-0235"));
  EXPECT_EQ(Num(proven[0], "stream_version"), 235);
  EXPECT_EQ(Str(proven[0], "event_type"), "ReportSubmitted");
  EXPECT_GE(Num(proven[0], "tree_size"), Num(proven[0], "position"));
  std::vector<Json> got = JsonLines(Run({"get", "klakah-2024-0235", "--json"}).out);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(Str(proven[0], "hash"), Str(got[0], "hash"));

  Result missing = Trusting({"verify-event", "no-such-event"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND"));
}

TEST_F(LedgerctlTrustTest, TheReferenceReportsBundleVerifiesOfflineAndNotAfterAnyByteChanges) {
  ASSERT_EQ(Run({"import", kReferenceJsonl}).code, 0);
  const std::string bundle = Path("klakah-tw2.bundle");
  Result saved = Run({"bundle", "--unit", "35.08.19", "--year", "2024", "--report", kReportId, "--out", bundle,
                      "--timeout-ms", "30000"});
  ASSERT_EQ(saved.code, 0) << saved.err;
  EXPECT_THAT(saved.out, HasSubstr("wrote the auditor bundle of " + std::string(kReportId)));
  const std::string bytes = ReadFile(bundle);
  ASSERT_GT(bytes.size(), 1000u);

  // Offline: ledgerctl is pointed at a port where nothing listens.
  const std::string nowhere = "127.0.0.1:" + std::to_string(ClosedPort());
  Result verified = RunAt(nowhere, {"verify-bundle", bundle, "--public_key", PublicKeyFile()});
  ASSERT_EQ(verified.code, 0) << verified.err;
  EXPECT_THAT(verified.out, StartsWith("auditor bundle " + bundle + ": VERIFIED offline"));
  EXPECT_THAT(verified.out, HasSubstr(std::string(kReportId) + ", Triwulan 2 (TW II) of 35.08.19/2024"));
  const uint64_t submission = PositionOf("klakah-2024-0235");
  EXPECT_THAT(verified.out, HasSubstr("submission at position " + std::to_string(submission)));
  EXPECT_THAT(verified.out, HasSubstr("57,45"));              // IKU-1's year-to-date capaian
  EXPECT_THAT(verified.out, HasSubstr("1.077.194.452,00"));   // realized through TW II
  EXPECT_THAT(verified.out, HasSubstr("49,93"));              // total absorption

  Result json = RunAt(nowhere, {"verify-bundle", bundle, "--public_key", PublicKeyFile(), "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  std::vector<Json> lines = JsonLines(json.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Str(lines[0], "report_id"), kReportId);
  EXPECT_EQ(Num(lines[0], "quarter"), 2);
  EXPECT_EQ(Num(lines[0], "event_count"), 235);
  EXPECT_EQ(Num(lines[0], "submission_position"), submission);
  EXPECT_GT(Num(lines[0], "seal_position"), submission);
  EXPECT_EQ(Str(lines[0], "report_sha256").size(), 64u);
  const auto& figures = lines[0].fields().at("figures").struct_value().fields();
  EXPECT_EQ(figures.at("indicator/IKU-1/year_end/capaian").struct_value().fields().at("plain").string_value(),
            "57.45");

  Result figures_text = RunAt(nowhere, {"verify-bundle", bundle, "--public_key", PublicKeyFile(), "--figures"});
  ASSERT_EQ(figures_text.code, 0);
  EXPECT_THAT(figures_text.out, HasSubstr("  figure indicator/IKU-1/year_end/capaian value=\"109680/1909\""));

  // One byte changed anywhere (first, last, and a spread in between): refused.
  std::vector<size_t> offsets = {0, bytes.size() - 1};
  for (size_t i = 1; i < 12; ++i) offsets.push_back(bytes.size() * i / 12);
  for (size_t offset : offsets) {
    std::string flipped = bytes;
    flipped[offset] = static_cast<char>(flipped[offset] ^ 0x01);
    WriteFile(Path("flipped.bundle"), flipped);
    Result refused = RunAt(nowhere, {"verify-bundle", Path("flipped.bundle"), "--public_key", PublicKeyFile()});
    EXPECT_EQ(refused.code, kExitRefused) << "byte " << offset << ": " << refused.out;
    EXPECT_THAT(refused.err, HasSubstr("does NOT verify: ")) << "byte " << offset;
  }
  // The right bundle with another key: refused too.
  Result other_key = RunAt(nowhere, {"verify-bundle", bundle, "--public_key", std::string(64, 'a')});
  EXPECT_EQ(other_key.code, kExitRefused);
}

TEST_F(LedgerctlTrustTest, AServerWithTheSameKeyAndAnotherHistoryIsRefusedAndTheTrustedHeadKept) {
  // The operator's first ledger: what this inspector verifies.
  AppendNotes("35.08.19/notes", 6);
  WaitForSignedHead(server_address_, LogSize(server_address_));
  Result trusted = Trusting({"signed-head", "--json"});
  ASSERT_EQ(trusted.code, 0) << trusted.err;
  const std::string trusted_head = ReadFile(TrustFile());

  // A second data directory signed with a copy of the same key: another
  // history, as a malicious operator would show a second inspector.
  std::filesystem::copy_file(Path("data.signing-key"), Path("other.signing-key"));
  std::filesystem::copy_file(Path("data.signing-key.pub"), Path("other.signing-key.pub"));
  const std::string other = StartAnotherLedgerd("other", {});
  ASSERT_FALSE(other.empty());
  ASSERT_EQ(ReadFile(Path("other.signing-key.pub")), ReadFile(PublicKeyFile()));
  ASSERT_EQ(RunAt(other, {"append", "35.08.19/notes", "--type", "NoteTaken", "--json", "{\"other\": 1}", "--id",
                          "other-1"}).code,
            0);

  // Smaller: a rollback.
  Result rollback = Trusting(other, {"signed-head", "--sign_now"});
  EXPECT_EQ(rollback.code, kExitRefused) << rollback.out << rollback.err;
  EXPECT_THAT(rollback.err, StartsWith("ledgerctl: rollback: the server's signed tree has "));
  EXPECT_THAT(rollback.err, HasSubstr("you verified on "));
  EXPECT_THAT(rollback.err, HasSubstr("is unchanged"));
  EXPECT_EQ(ReadFile(TrustFile()), trusted_head);

  // Larger, and signed by the same key: a fork, its consistency proof fails.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(RunAt(other, {"append", "35.08.19/notes", "--type", "NoteTaken", "--json", "{}"}).code, 0);
  }
  const uint64_t trusted_size = static_cast<uint64_t>(Num(JsonLines(trusted.out).at(0), "tree_size"));
  ASSERT_GT(WaitForSignedHead(other, LogSize(other)), trusted_size);
  Result fork = Trusting(other, {"signed-head", "--json"});
  EXPECT_EQ(fork.code, kExitRefused) << fork.out << fork.err;
  EXPECT_THAT(fork.err, HasSubstr("ledgerctl: fork: the server's tree of size "));
  EXPECT_THAT(fork.err, HasSubstr(" does not extend the one of size "));
  std::vector<Json> refusal = JsonLines(fork.out);
  ASSERT_EQ(refusal.size(), 1u);
  EXPECT_FALSE(refusal[0].fields().at("verified").bool_value());
  EXPECT_EQ(Str(refusal[0], "refusal"), "fork");
  EXPECT_EQ(ReadFile(TrustFile()), trusted_head);

  // Its events cannot be proven either: the head they would be proven in is refused.
  Result event = Trusting(other, {"verify-event", "other-1"});
  EXPECT_EQ(event.code, kExitRefused) << event.out << event.err;
  EXPECT_THAT(event.err, HasSubstr("ledgerctl: fork: "));
  EXPECT_EQ(ReadFile(TrustFile()), trusted_head);
  // The first server still verifies: it extends the trusted head.
  Result still = Trusting({"signed-head", "--sign_now"});
  EXPECT_EQ(still.code, 0) << still.err;
}

}  // namespace
