// End-to-end tests of ledgerctl: each test starts a real ledgerd on a free
// port in a temporary directory, runs the real ledgerctl binary against it,
// and stops the server with SIGTERM (which must end it cleanly).
#include <signal.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "clients/ledgerctl/ledgerctl_e2e.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ledger/v1/ledger.grpc.pb.h"

namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::ledgerctl_e2e::Child;
using ::ledgerctl_e2e::ClosedPort;
using ::ledgerctl_e2e::Json;
using ::ledgerctl_e2e::JsonLines;
using ::ledgerctl_e2e::kReferenceJsonl;
using ::ledgerctl_e2e::kWaitLimit;
using ::ledgerctl_e2e::LedgerctlTest;
using ::ledgerctl_e2e::Number;
using ::ledgerctl_e2e::ReadFile;
using ::ledgerctl_e2e::Result;
using ::ledgerctl_e2e::Str;
using ::ledgerctl_e2e::WriteFile;

TEST_F(LedgerctlTest, AppendThenIdempotentRetryThenConflictingBody) {
  std::vector<std::string> append = {"append", "35.08.19/2024", "--type", "RealizationRecorded",
                                     "--json", R"({"indicator": "IKU-1", "value": 87.5})",
                                     "--id", "evt-1", "--reason", "Q2 report"};
  Result first = Run(append);
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.out, StartsWith("appended: position 1, 35.08.19/2024@1, recorded "));
  EXPECT_THAT(first.out, HasSubstr(" WIB, event id evt-1"));

  Result retry = Run(append);
  ASSERT_EQ(retry.code, 0) << retry.err;
  EXPECT_THAT(retry.out, StartsWith("already recorded (nothing written): position 1,"));

  append[5] = R"({"indicator": "IKU-1", "value": 99})";
  Result conflict = Run(append);
  EXPECT_EQ(conflict.code, 1);
  EXPECT_THAT(conflict.err, StartsWith("ledgerctl: ALREADY_EXISTS: "));
  EXPECT_THAT(conflict.err, HasSubstr("evt-1"));
}

TEST_F(LedgerctlTest, AppendJsonOutputAndGeneratedUuid) {
  Result result = Run({"append", "s", "--type", "A", "--json", "{}", "--output=json"});
  ASSERT_EQ(result.code, 0) << result.err;
  std::vector<Json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Number(lines[0], "first_position"), 1);
  EXPECT_EQ(Number(lines[0], "stream_version"), 1);
  EXPECT_FALSE(lines[0].fields().at("already_recorded").bool_value());
  EXPECT_THAT(Str(lines[0], "event_id"),
              ::testing::MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                      "[0-9a-f]{12}"));
}

TEST_F(LedgerctlTest, ExpectedVersionConflictsAreAborted) {
  Append("s", "Opened", "{}", {"--expect", "none"});
  Result again = Run({"append", "s", "--type", "Opened", "--json", "{}", "--expect", "none"});
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, StartsWith("ledgerctl: ABORTED: "));
  Append("s", "Changed", "{}", {"--expect", "1"});
  Result stale = Run({"append", "s", "--type", "Changed", "--json", "{}", "--expect", "1"});
  EXPECT_EQ(stale.code, 1);
  EXPECT_THAT(stale.err, StartsWith("ledgerctl: ABORTED: "));
}

TEST_F(LedgerctlTest, BadJsonIsAUsageErrorNamingTheInput) {
  Result flag = Run({"append", "s", "--type", "A", "--json", R"({"a": 1,})"});
  EXPECT_EQ(flag.code, 2);
  EXPECT_THAT(flag.err, StartsWith("ledgerctl: --json: not valid JSON: line 1, column 9"));

  WriteFile(Path("bad.json"), "{\n  \"a\": tru\n}\n");
  Result file = Run({"append", "s", "--type", "A", "--file", Path("bad.json")});
  EXPECT_EQ(file.code, 2);
  EXPECT_THAT(file.err, HasSubstr("--file " + Path("bad.json") + ": not valid JSON: line 2"));

  Result in = Run({"append", "s", "--type", "A", "--file", "-"}, Path("bad.json"));
  EXPECT_EQ(in.code, 2);
  EXPECT_THAT(in.err, HasSubstr("standard input"));

  Result head = Run({"head", "--json"});
  ASSERT_EQ(head.code, 0) << head.err;
  EXPECT_EQ(Number(JsonLines(head.out).at(0), "position"), 0) << "a bad payload was written";
}

TEST_F(LedgerctlTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Run({"append", "s", "--json", "{}"}).code, 2);                  // no --type
  EXPECT_EQ(Run({"append", "s", "--type", "A"}).code, 2);                   // no payload
  EXPECT_EQ(Run({"read"}).code, 2);                                          // no stream
  EXPECT_EQ(Run({"log", "--limit", "ten"}).code, 2);
  EXPECT_EQ(Run({"frobnicate"}).code, 2);
  EXPECT_EQ(Run({"head", "--bogus"}).code, 2);
  EXPECT_EQ(Run({"position-at", "someday"}).code, 2);
  EXPECT_EQ(Run({}).code, 2);
  Result help = Run({"append", "--help"});
  EXPECT_EQ(help.code, 0);
  EXPECT_THAT(help.out, HasSubstr("example:"));
  EXPECT_THAT(Run({"position-at", "-h"}).out, HasSubstr("WIB (UTC+7)"));
}

TEST_F(LedgerctlTest, AppendFromFilesAndStandardInput) {
  WriteFile(Path("p.json"), "{\"from\": \"file\"}\n");
  ASSERT_EQ(Run({"append", "f", "--type", "A", "--file", Path("p.json"), "--id", "j"}).code, 0);
  ASSERT_EQ(Run({"append", "f", "--type", "A", "--file", "-", "--id", "i"}, Path("p.json")).code,
            0);
  WriteFile(Path("note.txt"), "line one\nline two");
  ASSERT_EQ(Run({"append", "f", "--type", "NoteAdded", "--file", Path("note.txt"),
                 "--content-type", "text/plain", "--id", "t"})
                .code,
            0);
  Result log = Run({"log", "--json"});
  ASSERT_EQ(log.code, 0) << log.err;
  std::vector<Json> lines = JsonLines(log.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].fields().at("payload").struct_value().fields().at("from").string_value(),
            "file");
  EXPECT_EQ(Str(lines[1], "content_type"), "application/json");
  EXPECT_EQ(Str(lines[2], "content_type"), "text/plain");
  EXPECT_EQ(Str(lines[2], "payload_base64"), "bGluZSBvbmUKbGluZSB0d28=");
  EXPECT_THAT(Run({"get", "t"}).out, HasSubstr("line one\\nline two"));
}

TEST_F(LedgerctlTest, ReadAndLogInBothFormats) {
  Append("a", "Opened", R"({"n": 1})", {"--correlation", "op-1"});
  Append("b", "Opened", R"({"n": 2})");
  Append("a", "Changed", R"({"n": 3, "note": "a rather long text that will not fit on one line of the table at all"})");

  Result read = Run({"read", "a"});
  ASSERT_EQ(read.code, 0) << read.err;
  std::vector<std::string> lines = absl::StrSplit(read.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << read.out;
  EXPECT_THAT(lines[0], HasSubstr("RECORDED (WIB, UTC+7)"));
  EXPECT_THAT(lines[1], HasSubstr("a@1"));
  EXPECT_THAT(lines[1], HasSubstr(R"({"n":1})"));
  EXPECT_THAT(lines[2], HasSubstr("a@2"));
  EXPECT_THAT(lines[2], HasSubstr("..."));  // long payloads are cut
  EXPECT_THAT(lines[2], HasSubstr("local:ledgerd"));

  std::vector<Json> stream = JsonLines(Run({"read", "a", "--json", "--backward"}).out);
  ASSERT_EQ(stream.size(), 2u);
  EXPECT_EQ(Number(stream[0], "stream_version"), 2);
  EXPECT_EQ(Number(stream[0], "position"), 3);
  EXPECT_EQ(Number(stream[1], "position"), 1);
  EXPECT_EQ(Str(stream[1], "correlation_id"), "op-1");

  Result page = Run({"log", "--limit", "2", "--json"});
  ASSERT_EQ(page.code, 0) << page.err;
  EXPECT_EQ(JsonLines(page.out).size(), 2u);
  EXPECT_THAT(page.err, HasSubstr("--from 3"));
  std::vector<Json> all = JsonLines(Run({"log", "--all-pages", "--json", "--from", "2"}).out);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(Str(all[0], "stream_id"), "b");
  EXPECT_EQ(Str(all[1], "prev_hash"), Str(all[0], "hash"));  // the chain, as hex
  EXPECT_EQ(Str(all[1], "hash").size(), 64u);
}

TEST_F(LedgerctlTest, GetShowsEveryFieldAndTimeInWib) {
  Append("s", "RealizationCorrected", R"({"value": 88})",
         {"--id", "fix-1", "--reason", "typo in Q2", "--causation", "evt-0"});
  Result human = Run({"get", "fix-1"});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_THAT(human.out, HasSubstr("reason          typo in Q2"));
  EXPECT_THAT(human.out, HasSubstr("causation id    evt-0"));
  EXPECT_THAT(human.out, HasSubstr(R"(payload         {"value":88})"));

  std::vector<Json> json = JsonLines(Run({"get", "fix-1", "--json"}).out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(Str(json[0], "event_type"), "RealizationCorrected");
  EXPECT_EQ(Str(json[0], "prev_hash"), std::string(64, '0'));
  // The human time is the JSON time moved to UTC+7.
  time_t wib = static_cast<time_t>(Number(json[0], "recorded_at_micros") / 1e6) + 7 * 3600;
  char expected[32];
  std::strftime(expected, sizeof(expected), "%Y-%m-%d %H:%M:%S", std::gmtime(&wib));
  EXPECT_THAT(human.out, HasSubstr(std::string("recorded        ") + expected));

  Result missing = Run({"get", "no-such-event"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, StartsWith("ledgerctl: NOT_FOUND: "));
}

TEST_F(LedgerctlTest, HeadPositionAtAndVerify) {
  Append("s", "A", "{}");
  Append("s", "B", "{}");
  Result head = Run({"head"});
  ASSERT_EQ(head.code, 0) << head.err;
  EXPECT_THAT(head.out, HasSubstr("position   2"));
  EXPECT_THAT(head.out, HasSubstr("writable   yes"));
  std::vector<Json> head_json = JsonLines(Run({"head", "--json"}).out);
  ASSERT_EQ(head_json.size(), 1u);
  EXPECT_EQ(Number(head_json[0], "position"), 2);

  Result before = Run({"position-at", "2001-01-01 07:00"});
  ASSERT_EQ(before.code, 0) << before.err;
  EXPECT_THAT(before.out, StartsWith("0  (last position recorded at or before 2001-01-01 "
                                     "07:00:00.000 WIB)"));
  std::vector<Json> later = JsonLines(Run({"position-at", "2999-01-01T00:00:00Z", "--json"}).out);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(Number(later[0], "position"), 2);

  Result verify = Run({"verify"});
  EXPECT_EQ(verify.code, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("ok: verified 2 events, positions 1 to 2"));
  std::vector<Json> report = JsonLines(Run({"verify", "--from", "2", "--json"}).out);
  ASSERT_EQ(report.size(), 1u);
  EXPECT_TRUE(report[0].fields().at("ok").bool_value());
  EXPECT_EQ(Number(report[0], "verified_count"), 1);
}

TEST_F(LedgerctlTest, FollowReceivesEventsAppendedConcurrently) {
  Append("s", "Before", "{}");
  std::string out = Path("follow.out");
  Child follow(Argv({"follow", "--from-head", "--count", "2", "--json"}, server_address_), "",
               out, Path("follow.err"));
  auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (ReadFile(out).find("caught_up") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << ReadFile(Path("follow.err"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Append("s", "Live1", "{}");
  Append("t", "Live2", "{}");
  ASSERT_EQ(follow.Wait(), 0) << ReadFile(Path("follow.err"));
  std::vector<Json> lines = JsonLines(ReadFile(out));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(Number(lines[0], "head_position"), 1);
  EXPECT_EQ(Str(lines[1], "event_type"), "Live1");
  EXPECT_EQ(Number(lines[1], "position"), 2);
  EXPECT_EQ(Str(lines[2], "event_type"), "Live2");
}

TEST_F(LedgerctlTest, FollowCatchesUpThenStopsWhenIdleOrInterrupted) {
  Append("s", "A", "{}");
  Result idle = Run({"follow", "--idle-exit-ms", "300"});
  ASSERT_EQ(idle.code, 0) << idle.err;
  EXPECT_THAT(idle.out, HasSubstr("s@1"));
  EXPECT_THAT(idle.out, HasSubstr("-- caught up at head position 1"));

  std::string out = Path("sigint.out");
  Child follow(Argv({"follow", "--from-head"}, server_address_), "", out, Path("sigint.err"));
  auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (ReadFile(out).find("caught up") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  follow.Signal(SIGINT);
  EXPECT_EQ(follow.Wait(), 0) << "Ctrl-C should end follow cleanly";
}

TEST_F(LedgerctlTest, UnreachableServerExitsThree) {
  Result result = RunAt("127.0.0.1:" + std::to_string(ClosedPort()), {"head"});
  EXPECT_EQ(result.code, 3);
  EXPECT_THAT(result.err, StartsWith("ledgerctl: UNAVAILABLE: "));
  Result append = RunAt("127.0.0.1:" + std::to_string(ClosedPort()),
                        {"append", "s", "--type", "A", "--json", "{}"});
  EXPECT_EQ(append.code, 3);
}

TEST_F(LedgerctlTest, ServerAddressFromEnvironment) {
  std::string out = Path("env.out");
  Child child({LEDGERCTL_PATH, "head", "--json"}, "", out, Path("env.err"),
              {"LEDGER_SERVER=" + server_address_});
  ASSERT_EQ(child.Wait(), 0) << ReadFile(Path("env.err"));
  EXPECT_EQ(JsonLines(ReadFile(out)).size(), 1u);
}

TEST_F(LedgerctlTest, FollowExitsThreeWhenTheServerShutsDown) {
  Append("s", "A", "{}");
  std::string out = Path("shutdown.out");
  Child follow(Argv({"follow"}, server_address_), "", out, Path("shutdown.err"));
  auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (ReadFile(out).find("caught up") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  server_->Signal(SIGTERM);
  EXPECT_EQ(follow.Wait(), 3);
  std::string err = ReadFile(Path("shutdown.err"));
  EXPECT_THAT(err, HasSubstr("ledgerctl: UNAVAILABLE: "));
  EXPECT_THAT(err, HasSubstr("--from 2"));
  EXPECT_EQ(server_->Wait(), 0);
  server_.reset();
}

// --- SAKIP: import, report, reconcile ---------------------------------------

TEST_F(LedgerctlTest, ImportTheReferenceReportTwiceThenReportAndReconcile) {
  Result first = Run({"import", kReferenceJsonl});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("imported 235 events"));
  EXPECT_THAT(first.out, HasSubstr("235 recorded, 0 already recorded"));

  Result again = Run({"import", kReferenceJsonl, "--json"});
  ASSERT_EQ(again.code, 0) << again.err;
  std::vector<Json> summary = JsonLines(again.out);
  ASSERT_EQ(summary.size(), 1u);
  EXPECT_EQ(Number(summary[0], "recorded"), 0);
  EXPECT_EQ(Number(summary[0], "already_recorded"), 235);
  EXPECT_EQ(Number(summary[0], "last_position"), 235);

  Result report = Run({"report", "35.08.19", "2024", "2"});
  ASSERT_EQ(report.code, 0) << report.err;
  EXPECT_THAT(report.out, HasSubstr("57,45"));
  EXPECT_THAT(report.out, HasSubstr("34,29"));
  EXPECT_THAT(report.out, HasSubstr("1.077.194.452,00"));
  EXPECT_THAT(report.out, HasSubstr("49,93"));
  EXPECT_THAT(report.out, HasSubstr("Capaian Rata-Rata"));

  Result json = Run({"report", "35.08.19", "2024", "2", "--json"});
  ASSERT_EQ(json.code, 0) << json.err;
  std::vector<Json> lines = JsonLines(json.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Str(lines[0], "as_of_position"), "235");  // uint64 is a string in proto3 JSON
  EXPECT_THAT(json.out, HasSubstr(R"("indonesian":"57,45")"));
  EXPECT_THAT(json.out, HasSubstr(R"("exact":"100/3")"));

  Result earlier = Run({"report", "35.08.19", "2024", "2", "--as-of-position", "5"});
  EXPECT_EQ(earlier.code, 0) << earlier.err;
  EXPECT_THAT(earlier.out, HasSubstr("per posisi 5"));
  EXPECT_THAT(earlier.out, ::testing::Not(HasSubstr("57,45")));

  Result reconcile = Run({"reconcile", "35.08.19", "2024", "LKI-CAMAT-KLAKAH-TW2-2024"});
  ASSERT_EQ(reconcile.code, 0) << reconcile.err;
  EXPECT_THAT(reconcile.out, HasSubstr("11 selisih"));
  EXPECT_THAT(reconcile.out, HasSubstr("average/q1/capaian#pengukuran"));
}

TEST_F(LedgerctlTest, ImportingAFileThatGrewRecordsExactlyTheNewEventsWhateverTheBatches) {
  std::string whole = ReadFile(kReferenceJsonl);
  // The first 150 lines, imported in batches of 100 (100 + 50).
  size_t cut = 0;
  for (int line = 0; line < 150; ++line) cut = whole.find('\n', cut) + 1;
  WriteFile(Path("first.jsonl"), whole.substr(0, cut));
  Result first = Run({"import", Path("first.jsonl")});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_THAT(first.out, HasSubstr("150 recorded, 0 already recorded"));
  // The whole file in batches of 40: batch 4 (lines 121-160) mixes recorded
  // and new events, and is sent one event per call.
  Result grown = Run({"import", kReferenceJsonl, "--batch", "40"});
  ASSERT_EQ(grown.code, 0) << grown.err;
  EXPECT_THAT(grown.out, HasSubstr("85 recorded, 150 already recorded"));
  Result head = Run({"head", "--json"});
  EXPECT_THAT(head.out, HasSubstr(R"("position":235)"));
}

TEST_F(LedgerctlTest, ImportStopsAtABadLineBeforeSendingAnything) {
  std::string good = ReadFile(kReferenceJsonl);
  std::string first_line = good.substr(0, good.find('\n') + 1);
  WriteFile(Path("bad.jsonl"),
            first_line + R"({"event_id":"x","event":{"unitCode":"35.08.19","fiscalYear":2024,)"
                         R"("realizationRecorded":{"indicatorId":"IKU-1","quarter":"two"}}})" "\n");
  Result result = Run({"import", Path("bad.jsonl")});
  EXPECT_EQ(result.code, 2);
  EXPECT_THAT(result.err, HasSubstr("bad.jsonl:2: "));
  EXPECT_THAT(result.err, HasSubstr("quarter"));
  Result head = Run({"head", "--json"});
  ASSERT_EQ(head.code, 0) << head.err;
  EXPECT_THAT(head.out, HasSubstr(R"("position":0)"));
}

TEST_F(LedgerctlTest, ImportNamesTheLineOfAnEventTheServerRefuses) {
  std::string good = ReadFile(kReferenceJsonl);
  WriteFile(Path("refused.jsonl"),
            good + R"({"event_id":"late","event":{"unitCode":"35.08.19","fiscalYear":2024,)"
                   R"("realizationRecorded":{"indicatorId":"IKU-9","quarter":3,"value":"1"}}})"
                   "\n");
  Result result = Run({"import", Path("refused.jsonl")});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, HasSubstr("refused.jsonl:236 (event late): FAILED_PRECONDITION"));
  EXPECT_THAT(result.err, HasSubstr("indicator_id"));
}

TEST_F(LedgerctlTest, ReportOfAnUnknownUnitIsNotFound) {
  Result result = Run({"report", "35.08.20", "2024", "2"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, StartsWith("ledgerctl: NOT_FOUND: "));
  Result usage = Run({"report", "35.08.19", "2024", "5"});
  EXPECT_EQ(usage.code, 2);
  EXPECT_THAT(usage.err, HasSubstr("QUARTER"));
}

// A stand-in server for answers a healthy ledgerd does not give on demand: a
// broken chain, and a call slower than the deadline.
class FakeLedger final : public ledger::v1::LedgerService::Service {
 public:
  grpc::Status Verify(grpc::ServerContext*, const ledger::v1::VerifyRequest*,
                      ledger::v1::VerifyResponse* response) override {
    response->set_ok(false);
    response->set_verified_count(6);
    response->set_from_position(1);
    response->set_to_position(9);
    response->set_first_bad_position(7);
    response->set_problem("HASH_MISMATCH");
    response->set_detail("stored bytes hash to 3f..., the record says 9a...");
    return grpc::Status::OK;
  }
  grpc::Status GetHead(grpc::ServerContext* context, const ledger::v1::GetHeadRequest*,
                       ledger::v1::GetHeadResponse*) override {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    return grpc::Status::OK;
  }
};

class FakeServerTest : public LedgerctlTest {
 protected:
  void SetUp() override {
    MakeTempDir();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    fake_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    server_address_ = "127.0.0.1:" + std::to_string(port);
  }
  void TearDown() override {
    fake_->Shutdown(std::chrono::system_clock::now());
    LedgerctlTest::TearDown();
  }

  FakeLedger service_;
  std::unique_ptr<grpc::Server> fake_;
};

TEST_F(FakeServerTest, VerifyReportsTheFirstBadPositionAndExitsOne) {
  Result human = Run({"verify"});
  EXPECT_EQ(human.code, 1);
  EXPECT_THAT(human.out, HasSubstr("NOT OK: first bad position 7: HASH_MISMATCH: stored bytes"));
  Result json = Run({"verify", "--json"});
  EXPECT_EQ(json.code, 1);
  std::vector<Json> report = JsonLines(json.out);
  ASSERT_EQ(report.size(), 1u);
  EXPECT_FALSE(report[0].fields().at("ok").bool_value());
  EXPECT_EQ(Number(report[0], "first_bad_position"), 7);
  EXPECT_EQ(Str(report[0], "problem"), "HASH_MISMATCH");
}

TEST_F(FakeServerTest, SlowCallHitsTheDeadline) {
  Result result = Run({"head", "--timeout-ms", "300"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, StartsWith("ledgerctl: DEADLINE_EXCEEDED: "));
}

TEST_F(FakeServerTest, UnimplementedCallsAreServerErrors) {
  Result result = Run({"get", "x"});
  EXPECT_EQ(result.code, 1);
  EXPECT_THAT(result.err, StartsWith("ledgerctl: UNIMPLEMENTED: "));
}

}  // namespace

// --- Audit: history, explain, diff, late, replay ----------------------------

// The reference report, then (a second later) a correction of IKU-1's TW I
// realization and the supervisor's disposition "Target dan realisasi diteliti
// ulang", as an inspector would find them.
class LedgerctlAuditTest : public LedgerctlTest {
 protected:
  void SetUp() override {
    LedgerctlTest::SetUp();
    ASSERT_EQ(Run({"import", kReferenceJsonl}).code, 0);
    std::ofstream(Path("late.jsonl"))
        << R"({"event_id": "koreksi-iku1-tw1", "event_type": "RealizationCorrected", "reason": "Realisasi TW I dihitung ulang", "event": {"unitCode":"35.08.19","fiscalYear":2024,"realizationCorrected":{"correctsEventId":"klakah-2024-0042","value":"40"}}})"
        << "\n"
        << R"({"event_id": "disposisi-tw2", "event_type": "ReportDisposed", "reason": "Target dan realisasi diteliti ulang", "event": {"unitCode":"35.08.19","fiscalYear":2024,"reportDisposed":{"reportId":"LKI-CAMAT-KLAKAH-TW2-2024","options":["TARGET_DAN_REALISASI_DITELITI_ULANG"],"supervisorName":"Sekretaris Daerah","supervisorNip":"196805121994031007"}}})"
        << "\n";
    Result late = Run({"import", Path("late.jsonl")});
    ASSERT_EQ(late.code, 0) << late.err;
  }
};

TEST_F(LedgerctlAuditTest, HistoryListsTheCorrectionAndTheDispositionWithActorTimeAndReason) {
  Result human = Run({"history", "35.08", "--type", "RealizationCorrected,ReportDisposed"});
  ASSERT_EQ(human.code, 0) << human.err;
  EXPECT_THAT(human.out, HasSubstr("2 events"));
  EXPECT_THAT(human.out, HasSubstr("realization 37,84 -> 40"));
  EXPECT_THAT(human.out, HasSubstr("Realisasi TW I dihitung ulang"));
  EXPECT_THAT(human.out, HasSubstr("Target dan realisasi diteliti ulang"));
  EXPECT_THAT(human.out, HasSubstr("WIB"));
  EXPECT_THAT(human.out, HasSubstr("local:ledgerd"));
  std::vector<Json> json = JsonLines(Run({"history", "35.08.19", "--report", "LKI-CAMAT-KLAKAH-TW2-2024",
                                          "--json"}).out);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(Str(json[1], "event_id"), "disposisi-tw2");
  EXPECT_EQ(Str(json[1], "actor"), "local:ledgerd");
  EXPECT_EQ(Str(json[1], "reason"), "Target dan realisasi diteliti ulang");
  EXPECT_GT(std::stoll(Str(json[1], "recorded_at_micros")), 0);
  Result csv = Run({"history", "35.08.19", "--indicator", "IKU-1", "--newest-first", "--csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_THAT(csv.out, StartsWith("position,recorded_at_utc,"));
  EXPECT_THAT(csv.out, HasSubstr("\r\n236,"));
  EXPECT_THAT(csv.out, HasSubstr("realization: 37.84 -> 40,Realisasi TW I dihitung ulang,klakah-2024-0042"));
}

TEST_F(LedgerctlAuditTest, HistoryPagesWithATokenOrAllPages) {
  Result first = Run({"history", "35.08.19", "--limit", "100", "--json"});
  ASSERT_EQ(first.code, 0);
  EXPECT_EQ(JsonLines(first.out).size(), 100u);
  EXPECT_THAT(first.err, HasSubstr("100 of 237 shown; next page: --page-token "));
  const std::string token = first.err.substr(first.err.find("--page-token ") + 13,
                                             first.err.find(',', first.err.find("--page-token ")) -
                                                 first.err.find("--page-token ") - 13);
  std::vector<Json> second = JsonLines(Run({"history", "35.08.19", "--limit", "100", "--json",
                                            "--page-token", token}).out);
  ASSERT_EQ(second.size(), 100u);
  EXPECT_EQ(Str(second[0], "position"), "101");
  EXPECT_EQ(JsonLines(Run({"history", "35.08.19", "--all-pages", "--limit", "100", "--json"}).out).size(), 237u);
  EXPECT_EQ(Run({"history", "35.08.19", "--type", "Bogus"}).code, 1);
  EXPECT_EQ(Run({"history", "35.08.19", "--indicator", "IKU-1", "--report", "R"}).code, 2);
  EXPECT_EQ(Run({"history"}).code, 2);
}

TEST_F(LedgerctlAuditTest, ExplainNamesTheOriginalAndTheCorrectingEvent) {
  Result now = Run({"explain", "35.08.19", "2024", "2", "indicator/IKU-1/q1/realization"});
  ASSERT_EQ(now.code, 0) << now.err;
  EXPECT_THAT(now.out, HasSubstr("40,00"));
  EXPECT_THAT(now.out, HasSubstr("klakah-2024-0042"));
  EXPECT_THAT(now.out, HasSubstr("replaced by koreksi-iku1-tw1"));
  EXPECT_THAT(now.out, HasSubstr("koreksi-iku1-tw1"));
  Result published = Run({"explain", "35.08.19", "2024", "2", "indicator/IKU-1/q1/realization", "--as-published",
                          "LKI-CAMAT-KLAKAH-TW2-2024", "--csv"});
  ASSERT_EQ(published.code, 0) << published.err;
  EXPECT_THAT(published.out, HasSubstr("indicator/IKU-1/q1/realization,946/25,37.84,42,"));
  EXPECT_THAT(published.out, ::testing::Not(HasSubstr("koreksi")));
  Result capaian = Run({"explain", "35.08.19", "2024", "2", "indicator/IKU-1/year_end/capaian", "--json"});
  std::vector<Json> json = JsonLines(capaian.out);
  ASSERT_EQ(json.size(), 1u);
  EXPECT_EQ(json[0].fields().at("depends_on").list_value().values_size(), 2);
  Result missing = Run({"explain", "35.08.19", "2024", "2", "indicator/NOPE/q1/capaian"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_THAT(missing.err, HasSubstr("NOT_FOUND"));
}

TEST_F(LedgerctlAuditTest, DiffAndLateEntriesShowExactlyTheChangedFigures) {
  Result diff = Run({"diff", "35.08.19", "2024", "2", "--from-published", "LKI-CAMAT-KLAKAH-TW2-2024"});
  ASSERT_EQ(diff.code, 0) << diff.err;
  EXPECT_THAT(diff.out, HasSubstr("position 235 -> position 237"));
  EXPECT_THAT(diff.out, HasSubstr("8 of "));
  EXPECT_THAT(diff.out, HasSubstr("indicator/IKU-1/year_end/capaian"));
  Result csv = Run({"diff", "35.08.19", "2024", "2", "--from-position", "235", "--csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  std::vector<std::string> rows = absl::StrSplit(csv.out, "\r\n", absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 9u);  // the header and 8 figures
  for (size_t i = 1; i < rows.size(); ++i) EXPECT_THAT(rows[i], HasSubstr(",koreksi-iku1-tw1"));
  EXPECT_EQ(Run({"diff", "35.08.19", "2024", "2"}).code, 2);  // no --from
  Result late = Run({"late", "35.08"});
  ASSERT_EQ(late.code, 0) << late.err;
  EXPECT_THAT(late.out, HasSubstr("1 of 1 submitted reports"));
  EXPECT_THAT(late.out, HasSubstr("LKI-CAMAT-KLAKAH-TW2-2024"));
  EXPECT_THAT(late.out, HasSubstr("koreksi-iku1-tw1"));
  Result before = Run({"late", "35.08", "--as-of-position", "235", "--json"});
  ASSERT_EQ(before.code, 0);
  EXPECT_TRUE(JsonLines(before.out).empty());
}

TEST_F(LedgerctlAuditTest, ReplayFiltersAndResumesFromItsCheckpoint) {
  Append("35.09.01/2024", "Note", "{}");
  Result first = Run({"replay", "--unit", "35.08", "--type", "ReportSubmitted", "--checkpoint", Path("cp"),
                      "--json"});
  ASSERT_EQ(first.code, 0) << first.err;
  std::vector<Json> submitted = JsonLines(first.out);
  ASSERT_EQ(submitted.size(), 1u);
  EXPECT_EQ(Str(submitted[0], "event_id"), "klakah-2024-0235");
  EXPECT_THAT(first.err, HasSubstr("caught up"));
  EXPECT_EQ(ReadFile(Path("cp")), "239\n");
  // Nothing new: the same command prints nothing; then a new matching event.
  EXPECT_TRUE(Run({"replay", "--unit", "35.08", "--type", "ReportSubmitted", "--checkpoint", Path("cp"),
                   "--json"}).out.empty());
  Append("35.08.19/2025", "ReportSubmitted", "{}");
  Result next = Run({"replay", "--unit", "35.08", "--type", "ReportSubmitted", "--checkpoint", Path("cp"),
                     "--csv"});
  ASSERT_EQ(next.code, 0) << next.err;
  EXPECT_THAT(next.out, StartsWith("position,stream_id,"));
  EXPECT_THAT(next.out, HasSubstr("\r\n239,35.08.19/2025,1,ReportSubmitted,"));
  Result all = Run({"replay", "--unit", "35.09", "--json"});
  ASSERT_EQ(JsonLines(all.out).size(), 1u);
  EXPECT_EQ(Run({"replay", "--unit", "x.y"}).code, 1);
  EXPECT_EQ(Run({"report", "35.08.19", "2024", "2", "--csv"}).code, 2);
}
