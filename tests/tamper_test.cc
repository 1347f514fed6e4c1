// Tampering with stored events is found: by Verify (naming exactly the damaged
// position), on open (the log refuses writes when its tail does not verify),
// and through the gRPC service. The damage is done by the test-only
// ledger_tamper tool, run as a separate process on the closed ledger.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/integrity/chain_verifier.h"
#include "ledger/integrity/sha256.h"
#include "ledger/limits.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "services/server.h"
#include "tests/support/ledgerd_process.h"
#include "tests/support/subprocess.h"

namespace ledger {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr size_t kFrameHeaderBytes = 1 + kHashBytes;

std::string EventId(uint64_t i) { return absl::StrCat("ev-", i); }
std::string Payload(uint64_t i) {
  return absl::StrCat("{\"event\":", i, ",\"text\":\"", std::string(48, 'a' + i % 26), "\"}");
}

class TamperTest : public ::testing::Test {
 protected:
  std::string data_dir() const { return dir_.Sub("ledger"); }

  std::unique_ptr<ClosableEventLog> Open() {
    RocksEventLogOptions options;
    options.data_dir = data_dir();
    absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(options);
    EXPECT_THAT(log.status(), IsOk());
    return log.ok() ? *std::move(log) : nullptr;
  }

  // Appends events 1..n (event i at position i) over three streams, in
  // appends of 1, 2 or 3 events (at most `max_batch`), then closes the log.
  void Fill(uint64_t n, size_t max_batch = 3) {
    std::unique_ptr<ClosableEventLog> log = Open();
    ASSERT_NE(log, nullptr);
    uint64_t next = 1;
    for (int append = 0; next <= n; ++append) {
      AppendRequest request;
      request.stream_id = absl::StrCat("35.08.", append % 3, "/2024");
      request.actor = "test:tamper";
      size_t batch = std::min<size_t>(1 + append % max_batch, n - next + 1);
      for (size_t k = 0; k < batch; ++k, ++next) {
        request.events.push_back(ProposedEvent{EventId(next), "FigureRecorded", Payload(next),
                                               "application/json", "", "", ""});
      }
      absl::StatusOr<AppendResult> result = log->Append(std::move(request));
      ASSERT_THAT(result.status(), IsOk());
      ASSERT_EQ(result->last_position, next - 1);
    }
    absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
    ASSERT_THAT(report.status(), IsOk());
    ASSERT_TRUE(report->ok());
    ASSERT_EQ(report->verified_count, n);
    log->Close();
  }

  // The stored value (frame) of position `position`, read through the log.
  std::string StoredValue(uint64_t position) {
    std::unique_ptr<ClosableEventLog> log = Open();
    if (!log) return "";
    absl::StatusOr<ReadPage> page = log->ReadAll(position, Direction::kForward, 1);
    EXPECT_THAT(page.status(), IsOk());
    if (!page.ok() || page->events.empty()) return "";
    const RecordedEvent& event = page->events[0];
    return std::string(1, kRecordFormatV1) + event.hash + event.stored_bytes;
  }

  // Runs ledger_tamper with `args` after --data_dir; returns its result.
  testing::ProcessResult RunTamper(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {LEDGER_TAMPER_PATH, "--data_dir", data_dir()};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<testing::ProcessResult> result =
        testing::RunProcess(argv, dir_.Sub(absl::StrCat("tamper.", ++runs_, ".log")));
    EXPECT_THAT(result.status(), IsOk());
    return result.ok() ? *result : testing::ProcessResult{};
  }

  void Tamper(const std::vector<std::string>& args) {
    testing::ProcessResult result = RunTamper(args);
    ASSERT_TRUE(result.exited && result.exit_code == 0)
        << testing::DescribeWaitStatus(result.wait_status) << ": " << result.output;
  }

  // Every event except those in `damaged` still reads back whole.
  void ExpectOtherEventsReadable(ClosableEventLog* log, uint64_t n,
                                 const std::vector<uint64_t>& damaged) {
    for (uint64_t i = 1; i <= n; ++i) {
      absl::StatusOr<RecordedEvent> event = log->GetEvent(EventId(i));
      if (std::find(damaged.begin(), damaged.end(), i) != damaged.end()) {
        EXPECT_THAT(event.status(),
                    StatusIs(absl::StatusCode::kDataLoss, HasSubstr(absl::StrCat(i))))
            << "event " << i;
        continue;
      }
      ASSERT_THAT(event.status(), IsOk()) << "event " << i;
      EXPECT_EQ(event->envelope.position(), i);
      EXPECT_EQ(event->envelope.payload(), Payload(i));
      EXPECT_EQ(Sha256(event->stored_bytes), event->hash);
    }
  }

  TempDir dir_;
  int runs_ = 0;
};

// --- Byte flips at several positions and offsets --------------------------

enum class At { kFirst, kMiddle, kLast };
enum class Offset { kFormatByte, kHashFirst, kHashLast, kBodyFirst, kBodyDefault, kBodyLast };

struct FlipCase {
  At at;
  Offset offset;
};

std::string CaseName(const ::testing::TestParamInfo<FlipCase>& info) {
  static const char* const kAt[] = {"First", "Middle", "Last"};
  static const char* const kOffset[] = {"FormatByte", "HashFirstByte", "HashLastByte",
                                        "BodyFirstByte", "BodyDefault", "BodyLastByte"};
  return absl::StrCat(kAt[static_cast<int>(info.param.at)],
                      kOffset[static_cast<int>(info.param.offset)]);
}

class FlipTest : public TamperTest, public ::testing::WithParamInterface<FlipCase> {};

constexpr uint64_t kEvents = 9;

TEST_P(FlipTest, VerifyNamesExactlyTheFlippedPosition) {
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  const FlipCase& param = GetParam();
  const uint64_t p = param.at == At::kFirst ? 1 : param.at == At::kMiddle ? 5 : kEvents;
  const std::string before = StoredValue(p);
  ASSERT_GT(before.size(), kFrameHeaderBytes);

  std::vector<std::string> args = {"--position", absl::StrCat(p)};
  std::optional<size_t> offset;
  switch (param.offset) {
    case Offset::kFormatByte: offset = 0; break;
    case Offset::kHashFirst: offset = 1; break;
    case Offset::kHashLast: offset = kHashBytes; break;
    case Offset::kBodyFirst: offset = kFrameHeaderBytes; break;
    case Offset::kBodyDefault: break;  // the tool's default: inside the body
    case Offset::kBodyLast: offset = before.size() - 1; break;
  }
  if (offset) {
    args.push_back("--offset");
    args.push_back(absl::StrCat(*offset));
  }
  ASSERT_NO_FATAL_FAILURE(Tamper(args));

  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);

  // Verify names exactly p.
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_FALSE(report->ok()) << "a flipped byte at position " << p << " went unnoticed";
  EXPECT_EQ(report->finding->position, p) << report->finding->detail;
  const ChainProblem expected = param.offset == Offset::kFormatByte ? ChainProblem::kUndecodable
                                                                    : ChainProblem::kHashMismatch;
  EXPECT_EQ(ChainProblemName(report->finding->problem), std::string(ChainProblemName(expected)))
      << report->finding->detail;
  EXPECT_EQ(report->verified_count, p - 1);

  // Ranges that hold p name p; a range before p verifies.
  absl::StatusOr<VerifyReport> from_p = log->Verify(p, kEvents);
  ASSERT_THAT(from_p.status(), IsOk());
  ASSERT_FALSE(from_p->ok());
  EXPECT_EQ(from_p->finding->position, p);
  if (p > 1) {
    absl::StatusOr<VerifyReport> before_p = log->Verify(1, p - 1);
    ASSERT_THAT(before_p.status(), IsOk());
    EXPECT_TRUE(before_p->ok()) << before_p->finding->detail;
    EXPECT_EQ(before_p->verified_count, p - 1);
  }
  if (p < kEvents) {
    // The range after p starts from p's hash, which cannot be trusted.
    absl::StatusOr<VerifyReport> after_p = log->Verify(p + 1, kEvents);
    ASSERT_THAT(after_p.status(), IsOk());
    ASSERT_FALSE(after_p->ok());
    EXPECT_EQ(after_p->finding->position, p);
  }

  // The tail of the log (all of it, here) is verified on open: read-only.
  WriteState state = log->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_THAT(state.refusal_reason, HasSubstr(absl::StrCat("position ", p, ":")));
  AppendRequest request;
  request.stream_id = "35.08.0/2024";
  request.actor = "test:tamper";
  request.events.push_back(ProposedEvent{"after-tamper", "FigureRecorded", "{}", "", "", "", ""});
  EXPECT_THAT(log->Append(request),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("refuses writes")));

  // Reads of every other event still work; the head stays where the log ends.
  EXPECT_EQ(log->GetHead().position, kEvents);
  ExpectOtherEventsReadable(log.get(), kEvents, {p});
  if (p > 1) {
    absl::StatusOr<ReadPage> page = log->ReadAll(1, Direction::kForward, p - 1);
    ASSERT_THAT(page.status(), IsOk());
    EXPECT_EQ(page->events.size(), p - 1);
  }
  EXPECT_THAT(log->ReadAll(p, Direction::kForward, 1),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(absl::StrCat("position ", p))));
}

std::vector<FlipCase> AllFlipCases() {
  std::vector<FlipCase> cases;
  for (At at : {At::kFirst, At::kMiddle, At::kLast}) {
    for (Offset offset : {Offset::kFormatByte, Offset::kHashFirst, Offset::kHashLast,
                          Offset::kBodyFirst, Offset::kBodyDefault, Offset::kBodyLast}) {
      cases.push_back({at, offset});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Positions, FlipTest, ::testing::ValuesIn(AllFlipCases()), CaseName);

// --- Deletions ----------------------------------------------------------------

TEST_F(TamperTest, DeletingAMiddleEventReportsAGapAtItsPosition) {
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(Tamper({"--position", "4", "--delete"}));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->finding->position, 4u) << report->finding->detail;
  EXPECT_EQ(report->finding->problem, ChainProblem::kGap) << report->finding->detail;
  EXPECT_EQ(report->verified_count, 3u);
  EXPECT_FALSE(log->GetWriteState().writable);
  EXPECT_THAT(log->GetWriteState().refusal_reason, HasSubstr("position 4:"));
  EXPECT_EQ(log->GetHead().position, kEvents);
  ExpectOtherEventsReadable(log.get(), kEvents, {4});
}

TEST_F(TamperTest, DeletingTheFirstEventReportsAGapAtOne) {
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(Tamper({"--position", "1", "--delete"}));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->finding->position, 1u) << report->finding->detail;
  EXPECT_EQ(report->finding->problem, ChainProblem::kGap);
  EXPECT_FALSE(log->GetWriteState().writable);
  ExpectOtherEventsReadable(log.get(), kEvents, {1});
}

TEST_F(TamperTest, DeletingTheLastEventIsFoundAndRefusesWrites) {
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(Tamper({"--position", absl::StrCat(kEvents), "--delete"}));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  // The stored head still names position kEvents: the loss is noticed.
  WriteState state = log->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_THAT(state.refusal_reason, HasSubstr(absl::StrCat("position ", kEvents)));
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_FALSE(report->ok()) << "a deleted last event went unnoticed by Verify";
  // The damage is at the end of the log: the last surviving record or the
  // missing one.
  EXPECT_THAT(report->finding->position, AnyOf(kEvents - 1, kEvents)) << report->finding->detail;
  for (uint64_t i = 1; i < kEvents; ++i) EXPECT_THAT(log->GetEvent(EventId(i)).status(), IsOk());
}

// --- A forger who recomputes the frame hash --------------------------------

// Flips a payload byte of position p and recomputes its frame hash, so that
// the record is self-consistent: only the chain reveals the change.
class RehashTest : public TamperTest {
 protected:
  void ForgePayload(uint64_t p) {
    std::string value = StoredValue(p);
    size_t at = value.find(Payload(p));
    ASSERT_NE(at, std::string::npos);
    ASSERT_NO_FATAL_FAILURE(Tamper({"--position", absl::StrCat(p), "--offset",
                                    absl::StrCat(at + 10), "--xor", "1", "--rehash"}));
  }
};

TEST_F(RehashTest, AForgedMiddleEventBreaksTheChainAtTheNextPosition) {
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(ForgePayload(5));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->finding->position, 6u) << report->finding->detail;
  EXPECT_EQ(report->finding->problem, ChainProblem::kChainBroken) << report->finding->detail;
  EXPECT_FALSE(log->GetWriteState().writable);
  // The forged record itself reads as valid: its payload is the forgery.
  absl::StatusOr<RecordedEvent> forged = log->GetEvent(EventId(5));
  ASSERT_THAT(forged.status(), IsOk());
  EXPECT_NE(forged->envelope.payload(), Payload(5));
}

TEST_F(RehashTest, AForgedLastEventDisagreesWithTheStoredHead) {
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(ForgePayload(kEvents));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  WriteState state = log->GetWriteState();
  EXPECT_FALSE(state.writable);
  EXPECT_THAT(state.refusal_reason, HasSubstr("stored head"));
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->finding->position, kEvents) << report->finding->detail;
  EXPECT_EQ(report->finding->problem, ChainProblem::kHeadMismatch) << report->finding->detail;
}

// --- A log longer than the tail verified on open ---------------------------

constexpr uint64_t kLongLog = limits::kOpenTailVerifyEvents + 76;
// The first position that open verifies, and the record open reads before it.
constexpr uint64_t kFirstTailPosition = kLongLog - limits::kOpenTailVerifyEvents + 1;

TEST_F(TamperTest, DamageBeforeTheOpenTailIsFoundByVerifyWhileTheLogStaysWritable) {
  ASSERT_NO_FATAL_FAILURE(Fill(kLongLog, /*max_batch=*/200));
  ASSERT_NO_FATAL_FAILURE(Tamper({"--position", "2"}));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  // Open verifies only the tail: by design this damage is Verify's to find.
  EXPECT_TRUE(log->GetWriteState().writable) << log->GetWriteState().refusal_reason;
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  ASSERT_FALSE(report->ok());
  EXPECT_EQ(report->finding->position, 2u);
  EXPECT_EQ(report->finding->problem, ChainProblem::kHashMismatch);
  // Verify over the tail alone passes (its anchor, the record before it, is
  // intact).
  absl::StatusOr<VerifyReport> tail = log->Verify(kFirstTailPosition, kLongLog);
  ASSERT_THAT(tail.status(), IsOk());
  EXPECT_TRUE(tail->ok()) << tail->finding->detail;
}

TEST_F(TamperTest, DamageToTheRecordBeforeTheOpenTailRefusesWrites) {
  // Open reads the record just before the tail it verifies, to anchor the
  // chain; when that record is damaged the log must still open read-only with
  // its real head, so that Verify and reads see the whole log.
  ASSERT_NO_FATAL_FAILURE(Fill(kLongLog, /*max_batch=*/200));
  const uint64_t p = kFirstTailPosition - 1;
  ASSERT_NO_FATAL_FAILURE(Tamper({"--position", absl::StrCat(p)}));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  EXPECT_FALSE(log->GetWriteState().writable);
  EXPECT_THAT(log->GetWriteState().refusal_reason, HasSubstr(absl::StrCat("position ", p)));
  EXPECT_EQ(log->GetHead().position, kLongLog)
      << "the damaged ledger presents itself as holding " << log->GetHead().position
      << " events";
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_FALSE(report->ok()) << "Verify passes a ledger whose position " << p
                             << " is damaged (verified_count " << report->verified_count
                             << ", to_position " << report->to_position << ")";
  if (!report->ok()) {
    EXPECT_EQ(report->finding->position, p);
  }
  EXPECT_THAT(log->GetEvent(EventId(p + 1)).status(), IsOk());
  EXPECT_THAT(log->GetEvent(EventId(1)).status(), IsOk());
}

// --- Through the gRPC service ----------------------------------------------

TEST_F(TamperTest, ATamperedLedgerIsServedReadOnlyAndVerifyNamesThePosition) {
  ASSERT_NO_FATAL_FAILURE(Fill(kEvents));
  ASSERT_NO_FATAL_FAILURE(Tamper({"--position", "3"}));
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  services::ServerOptions options;
  options.listen_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<services::LedgerServer>> server =
      services::LedgerServer::Start(log.get(), options);
  ASSERT_THAT(server.status(), IsOk());
  auto stub = v1::LedgerService::NewStub(testing::InsecureChannel((*server)->address()));

  {
    grpc::ClientContext context;
    testing::SetDeadline(&context, absl::Seconds(10));
    v1::GetHeadResponse head;
    ASSERT_TRUE(stub->GetHead(&context, v1::GetHeadRequest(), &head).ok());
    EXPECT_EQ(head.position(), kEvents);
    EXPECT_FALSE(head.writable());
    EXPECT_THAT(head.write_refusal_reason(), HasSubstr("position 3:"));
  }
  {
    grpc::ClientContext context;
    testing::SetDeadline(&context, absl::Seconds(10));
    v1::VerifyResponse verify;
    ASSERT_TRUE(stub->Verify(&context, v1::VerifyRequest(), &verify).ok());
    EXPECT_FALSE(verify.ok());
    EXPECT_EQ(verify.first_bad_position(), 3u);
    EXPECT_EQ(verify.problem(), "HASH_MISMATCH");
    EXPECT_EQ(verify.verified_count(), 2u);
  }
  {
    grpc::ClientContext context;
    testing::SetDeadline(&context, absl::Seconds(10));
    v1::AppendRequest request;
    request.set_stream_id("35.08.0/2024");
    request.mutable_expected_version()->mutable_any();
    *request.add_events() = testing::MakeEvent("after-tamper", "{}");
    v1::AppendResponse response;
    grpc::Status status = stub->Append(&context, request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
        << status.error_message();
  }
  {
    grpc::ClientContext context;
    testing::SetDeadline(&context, absl::Seconds(10));
    v1::GetEventRequest request;
    request.set_event_id(EventId(3));
    v1::GetEventResponse response;
    EXPECT_EQ(stub->GetEvent(&context, request, &response).error_code(),
              grpc::StatusCode::DATA_LOSS);
  }
  {
    grpc::ClientContext context;
    testing::SetDeadline(&context, absl::Seconds(10));
    v1::GetEventRequest request;
    request.set_event_id(EventId(4));
    v1::GetEventResponse response;
    EXPECT_TRUE(stub->GetEvent(&context, request, &response).ok());
    EXPECT_EQ(response.event().envelope().position(), 4u);
  }
  (*server)->Shutdown(absl::Seconds(1));
}

// --- The tool itself --------------------------------------------------------

TEST_F(TamperTest, TheToolRefusesWhatItCannotDo) {
  ASSERT_NO_FATAL_FAILURE(Fill(3));
  testing::ProcessResult beyond = RunTamper({"--position", "4"});
  EXPECT_EQ(beyond.exit_code, 1) << beyond.output;
  testing::ProcessResult offset = RunTamper({"--position", "1", "--offset", "100000"});
  EXPECT_EQ(offset.exit_code, 1) << offset.output;
  testing::ProcessResult usage = RunTamper({"--position"});
  EXPECT_EQ(usage.exit_code, 2) << usage.output;
  testing::ProcessResult both = RunTamper({"--position", "1", "--delete", "--offset", "40"});
  EXPECT_EQ(both.exit_code, 2) << both.output;

  // Nothing was changed by the refused runs.
  std::unique_ptr<ClosableEventLog> log = Open();
  ASSERT_NE(log, nullptr);
  absl::StatusOr<VerifyReport> report = log->Verify(0, 0);
  ASSERT_THAT(report.status(), IsOk());
  EXPECT_TRUE(report->ok());
  EXPECT_TRUE(log->GetWriteState().writable);
  log.reset();

  // A missing ledger is not created.
  std::vector<std::string> argv = {LEDGER_TAMPER_PATH, "--data_dir", dir_.Sub("missing"),
                                   "--position", "1"};
  absl::StatusOr<testing::ProcessResult> missing =
      testing::RunProcess(argv, dir_.Sub("missing.log"));
  ASSERT_THAT(missing.status(), IsOk());
  EXPECT_EQ(missing->exit_code, 1) << missing->output;
  EXPECT_TRUE(testing::ReadFileOrEmpty(dir_.Sub("missing/CURRENT")).empty());
}

}  // namespace
}  // namespace ledger
