// Malformed and oversized requests through a real gRPC channel (issue #6):
// each is refused with a status, writes nothing, and leaves the server
// serving; a flood of them keeps ledgerd's memory bounded. Also the server's
// time budget per call, and the JSON Lines importer against deep nesting.
//
// Raw bytes go through grpc::GenericStub, so the server's own parsing is what
// is tested, not the client's serializer.
#include <atomic>
#include <fstream>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/sakip_import.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "gtest/gtest.h"
#include "ledger/audit/audit_ledger.h"
#include "ledger/limits.h"
#include "ledger/testing/temp_dir.h"
#include "sakip/v1/report_service.grpc.pb.h"
#include "services/server_limits.h"
#include "tests/support/in_process_ledger.h"
#include "tests/support/ledgerd_process.h"

namespace ledger {
namespace {

using ::ledger::testing::GrpcIs;
using ::ledger::testing::GrpcOk;
using ::ledger::testing::InProcessLedger;
using ::ledger::testing::InsecureChannel;
using ::ledger::testing::IsOk;
using ::ledger::testing::LedgerdProcess;
using ::ledger::testing::MakeEvent;
using ::ledger::testing::SetDeadline;
using ::ledger::testing::TempDir;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;

constexpr char kAppend[] = "/ledger.v1.LedgerService/Append";
constexpr char kRecordEvents[] = "/sakip.v1.ReportService/RecordEvents";
constexpr absl::Duration kRpcTimeout = absl::Seconds(20);

// What gRPC 1.51 answers a request body it cannot parse, before any handler
// runs: INTERNAL with no message for a synchronous handler (RecordEvents);
// UNIMPLEMENTED with no message for a callback handler (Append): its
// CallbackUnaryHandler fails every call whose request did not deserialize
// that way. Misleading for Append, but a refusal, and nothing is written.
constexpr grpc::StatusCode kUnparsableSync = grpc::StatusCode::INTERNAL;
constexpr grpc::StatusCode kUnparsableCallback = grpc::StatusCode::UNIMPLEMENTED;

// One unary call with `bytes` as the request body, as sent.
grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& bytes, grpc::ClientContext* context) {
  grpc::GenericStub stub(channel);
  grpc::Slice slice(bytes.data(), bytes.size());
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(context, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

grpc::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                     const std::string& bytes) {
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  return RawCall(channel, method, bytes, &context);
}

uint64_t HeadPosition(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::LedgerService::NewStub(channel);
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  v1::GetHeadResponse head;
  grpc::Status status = stub->GetHead(&context, v1::GetHeadRequest(), &head);
  EXPECT_THAT(status, GrpcOk());
  return head.position();
}

std::string ValidAppend(const std::string& stream_id) {
  v1::AppendRequest request;
  request.set_stream_id(stream_id);
  request.mutable_expected_version()->mutable_any();
  *request.add_events() = MakeEvent("malformed-e1", R"({"n":1})");
  *request.add_events() = MakeEvent("malformed-e2", R"({"n":2,"text":"a longer payload"})");
  return request.SerializeAsString();
}

std::string ValidRecordEvents() {
  sakip::v1::RecordEventsRequest request;
  sakip::v1::ProposedSakipEvent* proposed = request.add_events();
  proposed->set_event_id("malformed-r1");
  proposed->set_reason("a realization with a long enough note to truncate inside");
  sakip::v1::SakipEvent* event = proposed->mutable_event();
  event->set_unit_code("35.08.19");
  event->set_fiscal_year(2024);
  event->mutable_realization_recorded()->set_indicator_id("IKU-1");
  event->mutable_realization_recorded()->set_quarter(2);
  event->mutable_realization_recorded()->set_value("57.45");
  event->mutable_realization_recorded()->set_note("the note of the realization");
  return request.SerializeAsString();
}

// `bytes` with the first occurrence of `from` replaced by `to` (same length:
// length prefixes stay right).
std::string Patched(std::string bytes, const std::string& from, const std::string& to) {
  size_t at = bytes.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  EXPECT_EQ(from.size(), to.size());
  if (at != std::string::npos) bytes.replace(at, from.size(), to);
  return bytes;
}

class MalformedRequestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_THAT(ledger_.Start("test:malformed"), IsOk()); }

  InProcessLedger ledger_;
};

TEST_F(MalformedRequestTest, TruncatedProtobufsAreRefusedAndWriteNothing) {
  const std::string append = ValidAppend("malformed-stream");
  const std::string record = ValidRecordEvents();
  // Cutting the end cuts into the last event's length-delimited body: the
  // length prefix then promises bytes that never come.
  for (size_t cut : {size_t{1}, size_t{7}, append.size() / 2}) {
    grpc::Status status = RawCall(ledger_.channel(), kAppend, append.substr(0, append.size() - cut));
    std::cout << "Append truncated by " << cut << " of " << append.size()
              << " bytes: " << status.error_code() << " '" << status.error_message() << "'\n";
    EXPECT_EQ(status.error_code(), kUnparsableCallback);
  }
  for (size_t cut : {size_t{1}, size_t{9}, record.size() / 2}) {
    grpc::Status status =
        RawCall(ledger_.channel(), kRecordEvents, record.substr(0, record.size() - cut));
    std::cout << "RecordEvents truncated by " << cut << " of " << record.size()
              << " bytes: " << status.error_code() << " '" << status.error_message() << "'\n";
    EXPECT_EQ(status.error_code(), kUnparsableSync);
  }
  EXPECT_EQ(HeadPosition(ledger_.channel()), 0u);
  // The same bytes whole do reach the handlers: the refusals above were the
  // truncation's.
  EXPECT_THAT(RawCall(ledger_.channel(), kAppend, append), GrpcOk());
  EXPECT_EQ(HeadPosition(ledger_.channel()), 2u);
  grpc::Status whole_record = RawCall(ledger_.channel(), kRecordEvents, record);
  EXPECT_THAT(whole_record.error_code(),
              AnyOf(grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::FAILED_PRECONDITION))
      << whole_record.error_message();  // parsed, then refused by the domain rules
  EXPECT_EQ(HeadPosition(ledger_.channel()), 2u);
}

TEST_F(MalformedRequestTest, GarbageBytesAreRefused) {
  for (const std::string& garbage :
       {std::string("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11), std::string("\x0a\xff\xff\xff\xff\x0f", 6),
        std::string(1000, '\x0a')}) {
    for (const char* method : {kAppend, kRecordEvents}) {
      grpc::Status status = RawCall(ledger_.channel(), method, garbage);
      EXPECT_FALSE(status.ok()) << method;
    }
  }
  EXPECT_EQ(HeadPosition(ledger_.channel()), 0u);
}

TEST_F(MalformedRequestTest, MessageOverTheReceiveLimitIsResourceExhausted) {
  // Not even a valid protobuf: the size alone decides, before parsing.
  const std::string oversized(limits::kMaxGrpcReceiveBytes + 1, 'x');
  grpc::Status status = RawCall(ledger_.channel(), kAppend, oversized);
  std::cout << "4 MiB + 1 to Append: " << status.error_code() << " " << status.error_message() << "\n";
  EXPECT_THAT(status, GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED, ::testing::_));
  status = RawCall(ledger_.channel(), kRecordEvents, oversized);
  EXPECT_THAT(status, GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED, ::testing::_));
  // A well-formed append past the limit as well (one large payload).
  v1::AppendRequest request;
  request.set_stream_id("malformed-big");
  request.mutable_expected_version()->mutable_any();
  *request.add_events() = MakeEvent("big-1", std::string(limits::kMaxGrpcReceiveBytes, 'p'));
  status = RawCall(ledger_.channel(), kAppend, request.SerializeAsString());
  EXPECT_THAT(status, GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED, ::testing::_));
  EXPECT_EQ(HeadPosition(ledger_.channel()), 0u);
}

TEST_F(MalformedRequestTest, MetadataOverTheLimitIsRefusedAndTheServerServesOn) {
  auto stub = v1::LedgerService::NewStub(ledger_.channel());
  auto get_head_with = [&](size_t metadata_bytes) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    context.AddMetadata("x-padding", std::string(metadata_bytes, 'm'));
    v1::GetHeadResponse head;
    return stub->GetHead(&context, v1::GetHeadRequest(), &head);
  };
  // The next call after a refusal. Past some size the server also closes the
  // connection (its HPACK state is lost with the dropped header block): the
  // first call after it may fail UNAVAILABLE and the channel reconnects.
  auto serves_again = [&](size_t refused_bytes) {
    for (int attempt = 1; attempt <= 5; ++attempt) {
      if (attempt > 1) absl::SleepFor(absl::Milliseconds(100));
      grpc::Status status = get_head_with(0);
      if (status.ok()) {
        std::cout << "  served again at attempt " << attempt << "\n";
        return true;
      }
      std::cout << "  next call, attempt " << attempt << ": " << status.error_code() << " "
                << status.error_message() << "\n";
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
    }
    ADD_FAILURE() << "not served again after " << refused_bytes << " bytes of metadata";
    return false;
  };
  // Refused: RESOURCE_EXHAUSTED naming the metadata size, or, when the
  // server closed the connection while the client was still sending its
  // header block (seen on a loaded machine), UNAVAILABLE on a broken
  // connection. Either way nothing was served, and serves_again checks the
  // server lived on.
  auto expect_refused = [](const grpc::Status& status) {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) return;
    EXPECT_THAT(status, GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED, HasSubstr("metadata size")));
  };
  // Above gRPC's default of 8 KiB, below ours: the limit set is ours.
  EXPECT_THAT(get_head_with(12 << 10), GrpcOk());
  for (size_t bytes : {size_t{limits::kGrpcMaxMetadataBytes} + 1024, size_t{1} << 20}) {
    grpc::Status status = get_head_with(bytes);
    std::cout << bytes << " bytes of metadata: " << status.error_code() << " "
              << status.error_message() << "\n";
    expect_refused(status);
    serves_again(bytes);
  }
  // Many small entries count as much as one large one.
  grpc::ClientContext context;
  SetDeadline(&context, kRpcTimeout);
  for (int i = 0; i < 2000; ++i) context.AddMetadata(absl::StrCat("x-pad-", i), "0123456789");
  v1::GetHeadResponse head;
  grpc::Status status = stub->GetHead(&context, v1::GetHeadRequest(), &head);
  std::cout << "2000 metadata entries: " << status.error_code() << " " << status.error_message() << "\n";
  expect_refused(status);
  serves_again(2000);
}

TEST_F(MalformedRequestTest, InvalidUtf8InStringFieldsIsRefusedAndWritesNothing) {
  // proto3 `string` fields must hold UTF-8; the C++ parser rejects the whole
  // message otherwise. The bytes are patched after serializing so that the
  // client's own UTF-8 check never runs.
  const std::string in_stream_id = Patched(ValidAppend("malformed-AA"), "AA", "\xff\xfe");
  // "\xc3" starts a two-byte sequence that "(" does not continue.
  const std::string in_event_type =
      Patched(ValidAppend("malformed-ok"), "TestEventRecorded", "TestEvent\xc3" "(Record");
  const std::string in_event_id = Patched(ValidRecordEvents(), "malformed-r1", "malformed-\xed\xa0");
  struct Case {
    const char* method;
    std::string bytes;
    grpc::StatusCode expected;
  };
  for (const Case& c : std::vector<Case>{{kAppend, in_stream_id, kUnparsableCallback},
                                         {kAppend, in_event_type, kUnparsableCallback},
                                         {kRecordEvents, in_event_id, kUnparsableSync}}) {
    grpc::Status status = RawCall(ledger_.channel(), c.method, c.bytes);
    std::cout << c.method << " with invalid UTF-8: " << status.error_code() << " '"
              << status.error_message() << "'\n";
    EXPECT_EQ(status.error_code(), c.expected);
  }
  EXPECT_EQ(HeadPosition(ledger_.channel()), 0u);
}

TEST(OperationDeadlineTest, DefaultWithoutAClientDeadlineAndNeverPastTheMaximum) {
  const absl::Time now = absl::FromUnixSeconds(1'700'000'000);
  grpc::ServerContext no_deadline;
  EXPECT_EQ(services::OperationDeadline(no_deadline, now),
            now + absl::Seconds(limits::kDefaultOperationDeadlineSeconds));
  EXPECT_THAT(services::CheckOperationDeadline(absl::Now() + absl::Seconds(5), "report"), IsOk());
  absl::Status late = services::CheckOperationDeadline(absl::Now() - absl::Seconds(1), "report");
  EXPECT_EQ(late.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(late.message()), HasSubstr("report:"));
}

// A client's deadline, seen by the server: the minimum of it and the maximum.
TEST_F(MalformedRequestTest, ServerSideDeadlineIsTheClientsCappedAtTheMaximum) {
  // The audit core stops at a deadline that has passed, before folding a page.
  audit::AuditLedger audit(ledger_.log());
  absl::StatusOr<audit::FigureExplanation> explained =
      audit.Explain("35.08.19", 2024, 2, "indicator/IKU-1/q2/capaian", audit::Moment{},
                    absl::Now() - absl::Milliseconds(1));
  EXPECT_EQ(explained.status().code(), absl::StatusCode::kDeadlineExceeded) << explained.status();
  EXPECT_THAT(std::string(explained.status().message()), HasSubstr("deadline"));
  // Through gRPC, a generous client deadline still reaches the handler and is
  // answered normally (here: the unit-year does not exist).
  auto stub = sakip::v1::AuditService::NewStub(ledger_.channel());
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(24)));
  sakip::v1::ExplainFigureRequest request;
  request.set_unit_code("35.08.19");
  request.set_fiscal_year(2024);
  request.set_quarter(2);
  request.set_key("indicator/IKU-1/q2/capaian");
  sakip::v1::ExplainFigureResponse response;
  grpc::Status status = stub->ExplainFigure(&context, request, &response);
  EXPECT_NE(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
}

std::string ImportError(const std::string& line) {
  try {
    ledgerctl::ParseImportLine(line, 7, "deep.jsonl");
  } catch (const ledgerctl::CliError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error for a line of " << line.size() << " bytes";
  return "";
}

TEST(ImporterTest, DeeplyNestedJsonLinesAreRefusedNamingTheLine) {
  const std::string deep_arrays(100000, '[');
  const std::string deep_objects(100000, '{');
  const std::string closed_arrays = "{\"event\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  std::string nested_keys;
  for (int i = 0; i < 100000; ++i) nested_keys += "{\"a\":";
  const std::string& keys = nested_keys;
  for (const std::string* line : std::vector<const std::string*>{&deep_arrays, &deep_objects, &closed_arrays, &keys}) {
    const absl::Time start = absl::Now();
    const std::string message = ImportError(*line);
    EXPECT_THAT(message, ::testing::StartsWith("deep.jsonl:7: ")) << message;
    EXPECT_THAT(message, HasSubstr("nested more than 64 levels")) << message;
    // Refused before the protobuf JSON parser, which takes minutes on the
    // closed form (quadratic in the depth) and recurses on it.
    EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  }
  // Brackets inside strings are text, not nesting.
  const std::string in_string =
      absl::StrCat(R"({"event_id":"e","reason":")", std::string(1000, '['), R"(","event":{}})");
  EXPECT_THAT(ImportError(in_string), HasSubstr("event: sets no event"));
  // A line longer than any event is refused by its size.
  const std::string long_line = absl::StrCat(R"({"event_id":")",
                                             std::string(limits::kMaxImportLineBytes, 'x'), R"("})");
  EXPECT_THAT(ImportError(long_line), AllOf(::testing::StartsWith("deep.jsonl:7: "),
                                            HasSubstr("more than the limit")));
}

// VmRSS of `pid` in bytes, or 0 when it cannot be read.
size_t ResidentBytes(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::string digits;
    for (char c : line) {
      if (c >= '0' && c <= '9') digits += c;
    }
    uint64_t kib = 0;
    if (absl::SimpleAtoi(digits, &kib)) return kib * 1024;
  }
  return 0;
}

TEST(MemoryBoundTest, FloodOfMalformedAndOversizedRequestsKeepsLedgerdBounded) {
  TempDir dir;
  LedgerdProcess server(dir.Sub("ledger"), dir.path(), {"--sign_heads=false"});
  ASSERT_THAT(server.Start(), IsOk());
  const pid_t pid = server.pid();
  const std::shared_ptr<grpc::Channel> probe = server.NewChannel();
  const uint64_t head_before = HeadPosition(probe);
  const size_t rss_before = ResidentBytes(pid);
  ASSERT_GT(rss_before, 0u);

  constexpr int kThreads = 6;
  constexpr absl::Duration kFlood = absl::Seconds(6);
  constexpr size_t kBound = size_t{256} << 20;
  const std::string oversized(limits::kMaxGrpcReceiveBytes + 1, 'x');
  const std::string truncated = ValidAppend("flood").substr(0, 40);
  const std::string bad_utf8 = Patched(ValidAppend("flood-AA"), "AA", "\xff\xfe");
  const absl::Time end = absl::Now() + kFlood;
  std::atomic<size_t> calls{0};
  std::atomic<size_t> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // A connection of its own per thread.
      std::shared_ptr<grpc::Channel> channel = InsecureChannel(server.address());
      for (size_t i = t; absl::Now() < end; ++i) {
        grpc::ClientContext context;
        SetDeadline(&context, absl::Seconds(10));
        grpc::Status status;
        switch (i % 4) {
          case 0: status = RawCall(channel, kAppend, oversized, &context); break;
          case 1: status = RawCall(channel, kAppend, truncated, &context); break;
          case 2: status = RawCall(channel, kAppend, bad_utf8, &context); break;
          case 3:
            context.AddMetadata("x-padding", std::string(size_t{1} << 20, 'm'));
            status = RawCall(channel, kRecordEvents, truncated, &context);
            break;
        }
        calls.fetch_add(1);
        if (status.ok()) accepted.fetch_add(1);
      }
    });
  }
  size_t rss_peak = rss_before;
  std::vector<size_t> samples;
  while (absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(250));
    const size_t rss = ResidentBytes(pid);
    samples.push_back(rss);
    rss_peak = std::max(rss_peak, rss);
  }
  for (std::thread& thread : threads) thread.join();
  absl::SleepFor(absl::Seconds(1));
  const size_t rss_after = ResidentBytes(pid);
  rss_peak = std::max(rss_peak, rss_after);

  constexpr double kMiB = 1 << 20;
  std::cout << "ledgerd VmRSS: before " << rss_before / kMiB << " MiB, peak during "
            << rss_peak / kMiB << " MiB, 1 s after " << rss_after / kMiB << " MiB; "
            << calls.load() << " malformed/oversized calls from " << kThreads << " threads in "
            << absl::FormatDuration(kFlood) << "\n";
  EXPECT_EQ(accepted.load(), 0u);
  EXPECT_GT(calls.load(), static_cast<size_t>(kThreads));
  EXPECT_LT(rss_peak, rss_before + kBound) << "grew by " << (rss_peak - rss_before) / kMiB << " MiB";
  // Still serving, and nothing was written.
  EXPECT_EQ(HeadPosition(probe), head_before);
  EXPECT_TRUE(server.running()) << server.LogTail();
}

}  // namespace
}  // namespace ledger
