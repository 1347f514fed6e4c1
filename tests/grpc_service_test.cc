// The gRPC LedgerService end to end: an in-process server on port 0 over a
// RocksDB event log in a temporary directory, and a real channel. Every RPC
// round-trips; every bad input gets its documented code and names its field;
// concurrent subscribers receive exactly the log.
#include <algorithm>
#include <atomic>
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
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "ledger/integrity/sha256.h"
#include "ledger/limits.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/testing/temp_dir.h"
#include "services/server.h"
#include "tests/support/in_process_ledger.h"
#include "tests/support/ledgerd_process.h"
#ifdef LEDGER_TEST_HAVE_HEALTH_PROTO
#include "grpc/health/v1/health.grpc.pb.h"
#endif

namespace ledger {
namespace {

using ::ledger::testing::InsecureChannel;
using ::ledger::testing::IsOk;
using ::ledger::testing::MakeEvent;
using ::ledger::testing::SetDeadline;
using ::ledger::testing::TempDir;
using ::ledger::testing::GrpcIs;
using ::ledger::testing::GrpcOk;
using ::testing::HasSubstr;

constexpr char kActor[] = "test:grpc";
constexpr absl::Duration kRpcTimeout = absl::Seconds(20);

enum class Expect { kAny, kNoStream, kExact, kMissing, kKindNotSet };

class GrpcServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(options);
    ASSERT_THAT(log.status(), IsOk());
    log_ = *std::move(log);
    services::ServerOptions server_options;
    server_options.listen_address = "127.0.0.1:0";
    server_options.access.local_actor = kActor;
    server_options.service.subscription_poll = absl::Milliseconds(50);
    absl::StatusOr<std::unique_ptr<services::LedgerServer>> server =
        services::LedgerServer::Start(log_.get(), server_options);
    ASSERT_THAT(server.status(), IsOk());
    server_ = *std::move(server);
    ASSERT_NE(server_->port(), 0);
    channel_ = InsecureChannel(server_->address());
    stub_ = v1::LedgerService::NewStub(channel_);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(absl::Seconds(2));
    server_.reset();
    if (log_) log_->Close();
  }

  grpc::Status Append(const std::string& stream, Expect expect, uint64_t exact,
                      const std::vector<v1::ProposedEvent>& events,
                      v1::AppendResponse* response = nullptr) {
    v1::AppendRequest request;
    request.set_stream_id(stream);
    switch (expect) {
      case Expect::kAny: request.mutable_expected_version()->mutable_any(); break;
      case Expect::kNoStream: request.mutable_expected_version()->mutable_no_stream(); break;
      case Expect::kExact: request.mutable_expected_version()->set_exact(exact); break;
      case Expect::kMissing: break;
      case Expect::kKindNotSet: request.mutable_expected_version(); break;
    }
    for (const v1::ProposedEvent& event : events) *request.add_events() = event;
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::AppendResponse ignored;
    return stub_->Append(&context, request, response ? response : &ignored);
  }

  // Appends one event with expected version any; returns its position.
  uint64_t AppendOne(const std::string& stream, const std::string& id,
                     const std::string& payload = "{}") {
    v1::AppendResponse response;
    grpc::Status status = Append(stream, Expect::kAny, 0, {MakeEvent(id, payload)}, &response);
    EXPECT_THAT(status, GrpcOk());
    return response.last_position();
  }

  grpc::Status ReadAll(uint64_t from, v1::Direction direction, uint32_t max_count,
                       v1::ReadResponse* response, bool include_stored_bytes = false) {
    v1::ReadAllRequest request;
    request.set_from_position(from);
    request.set_direction(direction);
    request.set_max_count(max_count);
    request.set_include_stored_bytes(include_stored_bytes);
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    return stub_->ReadAll(&context, request, response);
  }

  grpc::Status ReadStream(const std::string& stream, uint64_t from, v1::Direction direction,
                          uint32_t max_count, v1::ReadResponse* response,
                          bool include_stored_bytes = false) {
    v1::ReadStreamRequest request;
    request.set_stream_id(stream);
    request.set_from_version(from);
    request.set_direction(direction);
    request.set_max_count(max_count);
    request.set_include_stored_bytes(include_stored_bytes);
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    return stub_->ReadStream(&context, request, response);
  }

  grpc::Status GetEvent(const std::string& id, bool include_stored_bytes,
                        v1::GetEventResponse* response) {
    v1::GetEventRequest request;
    request.set_event_id(id);
    request.set_include_stored_bytes(include_stored_bytes);
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    return stub_->GetEvent(&context, request, response);
  }

  v1::GetHeadResponse GetHead() {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::GetHeadResponse response;
    EXPECT_THAT(stub_->GetHead(&context, v1::GetHeadRequest(), &response), GrpcOk());
    return response;
  }

  grpc::Status Verify(uint64_t from, uint64_t to, v1::VerifyResponse* response) {
    v1::VerifyRequest request;
    request.set_from_position(from);
    request.set_to_position(to);
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    return stub_->Verify(&context, request, response);
  }

  grpc::Status PositionAt(int64_t at_micros, uint64_t* position) {
    v1::GetPositionAtRequest request;
    request.set_at_micros(at_micros);
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    v1::GetPositionAtResponse response;
    grpc::Status status = stub_->GetPositionAt(&context, request, &response);
    *position = response.position();
    return status;
  }

  // Pages through ReadAll / ReadStream and returns the positions (or
  // versions) page by page.
  std::vector<std::vector<uint64_t>> PageAll(uint64_t from, v1::Direction direction,
                                             uint32_t max_count,
                                             std::vector<uint64_t>* next_froms) {
    std::vector<std::vector<uint64_t>> pages;
    for (int guard = 0; guard < 1000; ++guard) {
      v1::ReadResponse response;
      grpc::Status status = ReadAll(from, direction, max_count, &response);
      EXPECT_THAT(status, GrpcOk());
      if (!status.ok()) break;
      std::vector<uint64_t> page;
      for (const v1::RecordedEvent& event : response.events()) {
        page.push_back(event.envelope().position());
      }
      pages.push_back(page);
      if (response.end_of_range()) break;
      next_froms->push_back(response.next_from());
      from = response.next_from();
    }
    return pages;
  }

  std::vector<std::vector<uint64_t>> PageStream(const std::string& stream, uint64_t from,
                                                v1::Direction direction, uint32_t max_count,
                                                std::vector<uint64_t>* next_froms) {
    std::vector<std::vector<uint64_t>> pages;
    for (int guard = 0; guard < 1000; ++guard) {
      v1::ReadResponse response;
      grpc::Status status = ReadStream(stream, from, direction, max_count, &response);
      EXPECT_THAT(status, GrpcOk());
      if (!status.ok()) break;
      std::vector<uint64_t> page;
      for (const v1::RecordedEvent& event : response.events()) {
        EXPECT_EQ(event.envelope().stream_id(), stream);
        page.push_back(event.envelope().stream_version());
      }
      pages.push_back(page);
      if (response.end_of_range()) break;
      next_froms->push_back(response.next_from());
      from = response.next_from();
    }
    return pages;
  }

  TempDir dir_;
  std::unique_ptr<ClosableEventLog> log_;
  std::unique_ptr<services::LedgerServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::LedgerService::Stub> stub_;
};

using Pages = std::vector<std::vector<uint64_t>>;

// --- Append, GetEvent, GetHead -------------------------------------------

TEST_F(GrpcServiceTest, AnEmptyLedgerHasTheGenesisHead) {
  v1::GetHeadResponse head = GetHead();
  EXPECT_EQ(head.position(), 0u);
  EXPECT_EQ(head.hash(), GenesisHash());
  EXPECT_TRUE(head.writable());
  EXPECT_EQ(head.write_refusal_reason(), "");

  v1::ReadResponse page;
  ASSERT_THAT(ReadAll(0, v1::DIRECTION_FORWARD, 0, &page), GrpcOk());
  EXPECT_EQ(page.events_size(), 0);
  EXPECT_TRUE(page.end_of_range());
  ASSERT_THAT(ReadAll(0, v1::DIRECTION_BACKWARD, 0, &page), GrpcOk());
  EXPECT_EQ(page.events_size(), 0);

  v1::VerifyResponse verify;
  ASSERT_THAT(Verify(0, 0, &verify), GrpcOk());
  EXPECT_TRUE(verify.ok());
  EXPECT_EQ(verify.verified_count(), 0u);
}

TEST_F(GrpcServiceTest, AppendThenGetEventRoundTripsEveryField) {
  std::vector<v1::ProposedEvent> events;
  for (int i = 1; i <= 3; ++i) {
    v1::ProposedEvent event = MakeEvent(absl::StrCat("rt-", i),
                                        absl::StrCat("{\"amount\":", i * 100, "}"),
                                        "RealizationRecorded");
    event.set_content_type("application/json");
    event.set_correlation_id("op-42");
    if (i > 1) event.set_causation_id(absl::StrCat("rt-", i - 1));
    event.set_reason(absl::StrCat("line ", i, "\nof a correction"));
    events.push_back(event);
  }
  const int64_t before = absl::ToUnixMicros(absl::Now());
  v1::AppendResponse response;
  ASSERT_THAT(Append("35.08.19/2024", Expect::kNoStream, 0, events, &response), GrpcOk());
  const int64_t after = absl::ToUnixMicros(absl::Now());
  EXPECT_EQ(response.first_position(), 1u);
  EXPECT_EQ(response.last_position(), 3u);
  EXPECT_EQ(response.stream_version(), 3u);
  EXPECT_FALSE(response.already_recorded());
  EXPECT_GE(response.recorded_at_micros(), before);
  EXPECT_LE(response.recorded_at_micros(), after);

  std::string prev_hash = GenesisHash();
  for (int i = 1; i <= 3; ++i) {
    v1::GetEventResponse got;
    ASSERT_THAT(GetEvent(absl::StrCat("rt-", i), /*include_stored_bytes=*/true, &got), GrpcOk());
    const v1::EventEnvelope& envelope = got.event().envelope();
    const v1::ProposedEvent& proposed = events[i - 1];
    EXPECT_EQ(envelope.position(), static_cast<uint64_t>(i));
    EXPECT_EQ(envelope.stream_id(), "35.08.19/2024");
    EXPECT_EQ(envelope.stream_version(), static_cast<uint64_t>(i));
    EXPECT_EQ(envelope.event_id(), proposed.event_id());
    EXPECT_EQ(envelope.event_type(), proposed.event_type());
    EXPECT_EQ(envelope.payload(), proposed.payload());
    EXPECT_EQ(envelope.content_type(), proposed.content_type());
    EXPECT_EQ(envelope.correlation_id(), proposed.correlation_id());
    EXPECT_EQ(envelope.causation_id(), proposed.causation_id());
    EXPECT_EQ(envelope.reason(), proposed.reason());
    EXPECT_EQ(envelope.actor(), kActor);
    EXPECT_EQ(envelope.recorded_at_micros(), response.recorded_at_micros());
    // The chain: each event names its predecessor's hash.
    EXPECT_EQ(envelope.prev_hash(), prev_hash) << "position " << i;
    // The hash is SHA-256 over exactly the stored bytes, which decode to the
    // envelope that was returned.
    ASSERT_FALSE(got.event().stored_bytes().empty());
    EXPECT_EQ(Sha256(got.event().stored_bytes()), got.event().hash());
    v1::EventEnvelope decoded;
    ASSERT_TRUE(decoded.ParseFromString(got.event().stored_bytes()));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(decoded, envelope))
        << decoded.DebugString() << " vs " << envelope.DebugString();
    prev_hash = got.event().hash();

    v1::GetEventResponse lean;
    ASSERT_THAT(GetEvent(absl::StrCat("rt-", i), /*include_stored_bytes=*/false, &lean),
                GrpcOk());
    EXPECT_TRUE(lean.event().stored_bytes().empty());
    EXPECT_EQ(lean.event().hash(), got.event().hash());
  }

  v1::GetHeadResponse head = GetHead();
  EXPECT_EQ(head.position(), 3u);
  EXPECT_EQ(head.hash(), prev_hash);
  EXPECT_EQ(head.recorded_at_micros(), response.recorded_at_micros());
  EXPECT_TRUE(head.writable());

  // An idempotent retry: same ids, same bodies, whatever the expected version.
  v1::AppendResponse retry;
  ASSERT_THAT(Append("35.08.19/2024", Expect::kNoStream, 0, events, &retry), GrpcOk());
  EXPECT_TRUE(retry.already_recorded());
  EXPECT_EQ(retry.first_position(), 1u);
  EXPECT_EQ(retry.last_position(), 3u);
  EXPECT_EQ(retry.stream_version(), 3u);
  EXPECT_EQ(retry.recorded_at_micros(), response.recorded_at_micros());
  EXPECT_EQ(GetHead().position(), 3u) << "a retry wrote again";

  // Exact expected version continues the stream.
  v1::AppendResponse next;
  ASSERT_THAT(Append("35.08.19/2024", Expect::kExact, 3, {MakeEvent("rt-4", "{}")}, &next),
              GrpcOk());
  EXPECT_EQ(next.first_position(), 4u);
  EXPECT_EQ(next.stream_version(), 4u);
  EXPECT_GE(next.recorded_at_micros(), response.recorded_at_micros());
}

// --- ReadStream and ReadAll paging ---------------------------------------

TEST_F(GrpcServiceTest, ReadStreamPagesForwardAndBackward) {
  // Stream A gets 7 events, stream B 4, interleaved: versions differ from
  // positions.
  std::map<uint64_t, uint64_t> position_of_a_version;
  int a = 0, b = 0;
  for (int i = 0; i < 11; ++i) {
    if ((i % 3 == 1 && b < 4) || a == 7) {
      AppendOne("stream-B", absl::StrCat("b-", ++b));
    } else {
      ++a;
      position_of_a_version[a] = AppendOne("stream-A", absl::StrCat("a-", a));
    }
  }
  ASSERT_EQ(a, 7);
  ASSERT_EQ(b, 4);

  std::vector<uint64_t> next;
  EXPECT_EQ(PageStream("stream-A", 0, v1::DIRECTION_FORWARD, 3, &next),
            (Pages{{1, 2, 3}, {4, 5, 6}, {7}}));
  EXPECT_EQ(next, (std::vector<uint64_t>{4, 7}));
  next.clear();
  EXPECT_EQ(PageStream("stream-A", 0, v1::DIRECTION_BACKWARD, 3, &next),
            (Pages{{7, 6, 5}, {4, 3, 2}, {1}}));
  EXPECT_EQ(next, (std::vector<uint64_t>{4, 1}));
  next.clear();
  EXPECT_EQ(PageStream("stream-A", 5, v1::DIRECTION_FORWARD, 10, &next), (Pages{{5, 6, 7}}));
  EXPECT_EQ(PageStream("stream-A", 2, v1::DIRECTION_BACKWARD, 10, &next), (Pages{{2, 1}}));
  EXPECT_EQ(PageStream("stream-B", 0, v1::DIRECTION_UNSPECIFIED, 0, &next),
            (Pages{{1, 2, 3, 4}}));
  EXPECT_EQ(PageStream("no-such-stream", 0, v1::DIRECTION_FORWARD, 0, &next), (Pages{{}}));
  EXPECT_TRUE(next.empty());

  // Each version points to the position it was appended at, with stored
  // bytes on request.
  v1::ReadResponse response;
  ASSERT_THAT(ReadStream("stream-A", 0, v1::DIRECTION_FORWARD, 0, &response, true), GrpcOk());
  ASSERT_EQ(response.events_size(), 7);
  for (const v1::RecordedEvent& event : response.events()) {
    EXPECT_EQ(event.envelope().position(),
              position_of_a_version[event.envelope().stream_version()]);
    EXPECT_EQ(Sha256(event.stored_bytes()), event.hash());
  }
  ASSERT_THAT(ReadStream("stream-A", 0, v1::DIRECTION_FORWARD, 0, &response, false), GrpcOk());
  for (const v1::RecordedEvent& event : response.events()) {
    EXPECT_TRUE(event.stored_bytes().empty());
  }
}

TEST_F(GrpcServiceTest, ReadAllPagesForwardAndBackward) {
  for (int i = 1; i <= 10; ++i) AppendOne(absl::StrCat("s-", i % 3), absl::StrCat("e-", i));
  std::vector<uint64_t> next;
  EXPECT_EQ(PageAll(0, v1::DIRECTION_FORWARD, 4, &next),
            (Pages{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10}}));
  EXPECT_EQ(next, (std::vector<uint64_t>{5, 9}));
  next.clear();
  EXPECT_EQ(PageAll(0, v1::DIRECTION_BACKWARD, 4, &next),
            (Pages{{10, 9, 8, 7}, {6, 5, 4, 3}, {2, 1}}));
  EXPECT_EQ(next, (std::vector<uint64_t>{6, 2}));
  next.clear();
  EXPECT_EQ(PageAll(7, v1::DIRECTION_FORWARD, 0, &next), (Pages{{7, 8, 9, 10}}));
  EXPECT_EQ(PageAll(3, v1::DIRECTION_BACKWARD, 0, &next), (Pages{{3, 2, 1}}));
  EXPECT_EQ(PageAll(11, v1::DIRECTION_FORWARD, 0, &next), (Pages{{}}));
  EXPECT_EQ(PageAll(99, v1::DIRECTION_BACKWARD, 2, &next), (Pages{{10, 9}, {8, 7}, {6, 5},
                                                                 {4, 3}, {2, 1}}));

  // The whole log, with stored bytes: hashes recompute and chain.
  v1::ReadResponse response;
  ASSERT_THAT(ReadAll(1, v1::DIRECTION_FORWARD, 1000, &response, true), GrpcOk());
  ASSERT_EQ(response.events_size(), 10);
  EXPECT_TRUE(response.end_of_range());
  std::string prev_hash = GenesisHash();
  for (const v1::RecordedEvent& event : response.events()) {
    EXPECT_EQ(Sha256(event.stored_bytes()), event.hash());
    EXPECT_EQ(event.envelope().prev_hash(), prev_hash);
    prev_hash = event.hash();
  }
  EXPECT_EQ(GetHead().hash(), prev_hash);
}

// --- GetPositionAt --------------------------------------------------------

TEST_F(GrpcServiceTest, GetPositionAtFindsTheLastPositionAtOrBeforeATime) {
  for (int i = 1; i <= 5; ++i) {
    AppendOne("times", absl::StrCat("t-", i));
    absl::SleepFor(absl::Milliseconds(3));
  }
  v1::ReadResponse log;
  ASSERT_THAT(ReadAll(0, v1::DIRECTION_FORWARD, 0, &log), GrpcOk());
  ASSERT_EQ(log.events_size(), 5);
  std::vector<int64_t> times;
  for (const v1::RecordedEvent& event : log.events()) {
    times.push_back(event.envelope().recorded_at_micros());
  }
  ASSERT_TRUE(std::is_sorted(times.begin(), times.end()));
  for (size_t i = 0; i < times.size(); ++i) {
    uint64_t expected = 0;
    for (size_t j = 0; j < times.size(); ++j) {
      if (times[j] <= times[i]) expected = j + 1;
    }
    uint64_t position = 0;
    ASSERT_THAT(PositionAt(times[i], &position), GrpcOk());
    EXPECT_EQ(position, expected) << "at " << times[i];
  }
  uint64_t position = 99;
  ASSERT_THAT(PositionAt(times.front() - 1, &position), GrpcOk());
  EXPECT_EQ(position, 0u);
  ASSERT_THAT(PositionAt(0, &position), GrpcOk());
  EXPECT_EQ(position, 0u);
  ASSERT_THAT(PositionAt(-1000, &position), GrpcOk());
  EXPECT_EQ(position, 0u);
  ASSERT_THAT(PositionAt(times.back() + 3600LL * 1000 * 1000, &position), GrpcOk());
  EXPECT_EQ(position, 5u);
}

// --- Subscribe -------------------------------------------------------------

// Reads one message; fails the test on end of stream.
v1::SubscribeResponse ReadOne(grpc::ClientReader<v1::SubscribeResponse>* reader) {
  v1::SubscribeResponse message;
  EXPECT_TRUE(reader->Read(&message)) << "the subscription ended early";
  return message;
}

TEST_F(GrpcServiceTest, SubscribeCatchesUpMarksItThenFollowsLiveEvents) {
  for (int i = 1; i <= 5; ++i) AppendOne("sub", absl::StrCat("sub-", i));

  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(30));
  v1::SubscribeRequest request;
  request.set_include_stored_bytes(true);
  auto reader = stub_->Subscribe(&context, request);
  for (uint64_t p = 1; p <= 5; ++p) {
    v1::SubscribeResponse message = ReadOne(reader.get());
    ASSERT_TRUE(message.has_event()) << message.DebugString();
    EXPECT_EQ(message.event().envelope().position(), p);
    EXPECT_EQ(Sha256(message.event().stored_bytes()), message.event().hash());
  }
  v1::SubscribeResponse marker = ReadOne(reader.get());
  ASSERT_TRUE(marker.has_caught_up()) << marker.DebugString();
  EXPECT_EQ(marker.caught_up().head_position(), 5u);

  AppendOne("sub", "sub-6");
  ASSERT_THAT(Append("sub", Expect::kExact, 6, {MakeEvent("sub-7", "{}"), MakeEvent("sub-8", "{}")}),
              GrpcOk());
  for (uint64_t p = 6; p <= 8; ++p) {
    v1::SubscribeResponse message = ReadOne(reader.get());
    ASSERT_TRUE(message.has_event()) << message.DebugString();
    EXPECT_EQ(message.event().envelope().position(), p);
    EXPECT_EQ(message.event().envelope().event_id(), absl::StrCat("sub-", p));
  }
  context.TryCancel();
  v1::SubscribeResponse extra;
  while (reader->Read(&extra)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
}

TEST_F(GrpcServiceTest, SubscribeFromAPositionAndFromHead) {
  for (int i = 1; i <= 5; ++i) AppendOne("sub", absl::StrCat("sub-", i));
  {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    v1::SubscribeRequest request;
    request.set_from_position(3);
    auto reader = stub_->Subscribe(&context, request);
    for (uint64_t p = 3; p <= 5; ++p) {
      v1::SubscribeResponse message = ReadOne(reader.get());
      ASSERT_TRUE(message.has_event());
      EXPECT_EQ(message.event().envelope().position(), p);
      EXPECT_TRUE(message.event().stored_bytes().empty());
    }
    v1::SubscribeResponse marker = ReadOne(reader.get());
    ASSERT_TRUE(marker.has_caught_up());
    EXPECT_EQ(marker.caught_up().head_position(), 5u);
    context.TryCancel();
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    v1::SubscribeRequest request;
    request.set_from_head(true);
    auto reader = stub_->Subscribe(&context, request);
    v1::SubscribeResponse marker = ReadOne(reader.get());
    ASSERT_TRUE(marker.has_caught_up()) << marker.DebugString();
    EXPECT_EQ(marker.caught_up().head_position(), 5u);
    AppendOne("sub", "sub-6");
    v1::SubscribeResponse message = ReadOne(reader.get());
    ASSERT_TRUE(message.has_event());
    EXPECT_EQ(message.event().envelope().position(), 6u);
    context.TryCancel();
  }
  {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(30));
    v1::SubscribeRequest request;
    request.set_from_head(true);
    request.set_from_position(2);
    auto reader = stub_->Subscribe(&context, request);
    v1::SubscribeResponse message;
    EXPECT_FALSE(reader->Read(&message));
    EXPECT_THAT(reader->Finish(), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("from_head")));
  }
}

TEST_F(GrpcServiceTest, SubscribeToAnEmptyLogIsCaughtUpAtOnce) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(30));
  auto reader = stub_->Subscribe(&context, v1::SubscribeRequest());
  v1::SubscribeResponse marker = ReadOne(reader.get());
  ASSERT_TRUE(marker.has_caught_up()) << marker.DebugString();
  EXPECT_EQ(marker.caught_up().head_position(), 0u);
  AppendOne("sub", "first");
  v1::SubscribeResponse message = ReadOne(reader.get());
  ASSERT_TRUE(message.has_event());
  EXPECT_EQ(message.event().envelope().position(), 1u);
  context.TryCancel();
}

TEST_F(GrpcServiceTest, ServerShutdownEndsLiveSubscriptionsWithAResumePosition) {
  for (int i = 1; i <= 3; ++i) AppendOne("sub", absl::StrCat("sub-", i));
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(30));
  auto reader = stub_->Subscribe(&context, v1::SubscribeRequest());
  for (int i = 0; i < 4; ++i) ReadOne(reader.get());  // 3 events and the marker
  const absl::Time start = absl::Now();
  std::thread shutdown([this] { server_->Shutdown(absl::Seconds(10)); });
  v1::SubscribeResponse message;
  EXPECT_FALSE(reader->Read(&message)) << message.DebugString();
  grpc::Status status = reader->Finish();
  shutdown.join();
  EXPECT_THAT(status, GrpcIs(grpc::StatusCode::UNAVAILABLE, HasSubstr("resume from position 4")));
  // The subscription ended on its own, long before the grace period.
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

// --- Verify ----------------------------------------------------------------

TEST_F(GrpcServiceTest, VerifyChecksRangesAndRefusesRangesBeyondTheHead) {
  for (int i = 1; i <= 6; ++i) AppendOne("v", absl::StrCat("v-", i));
  v1::VerifyResponse verify;
  ASSERT_THAT(Verify(0, 0, &verify), GrpcOk());
  EXPECT_TRUE(verify.ok()) << verify.DebugString();
  EXPECT_EQ(verify.verified_count(), 6u);
  EXPECT_EQ(verify.from_position(), 1u);
  EXPECT_EQ(verify.to_position(), 6u);
  EXPECT_EQ(verify.problem(), "");

  ASSERT_THAT(Verify(2, 4, &verify), GrpcOk());
  EXPECT_TRUE(verify.ok());
  EXPECT_EQ(verify.verified_count(), 3u);
  EXPECT_EQ(verify.from_position(), 2u);
  EXPECT_EQ(verify.to_position(), 4u);

  EXPECT_THAT(Verify(0, 7, &verify),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("to_position")));
  EXPECT_THAT(Verify(5, 3, &verify),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("from_position")));
  EXPECT_THAT(Verify(7, 0, &verify),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("from_position")));
}

// --- Health ----------------------------------------------------------------

TEST_F(GrpcServiceTest, HealthCheckServesTheLedgerService) {
#ifdef LEDGER_TEST_HAVE_HEALTH_PROTO
  auto health = grpc::health::v1::Health::NewStub(channel_);
  struct Case {
    std::string service;
    grpc::StatusCode code;
  };
  for (const Case& c : {Case{"", grpc::StatusCode::OK},
                        Case{"ledger.v1.LedgerService", grpc::StatusCode::OK},
                        Case{"ledger.v1.NoSuchService", grpc::StatusCode::NOT_FOUND}}) {
    grpc::ClientContext context;
    SetDeadline(&context, kRpcTimeout);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(c.service);
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = health->Check(&context, request, &response);
    EXPECT_EQ(status.error_code(), c.code) << "'" << c.service << "': " << status.error_message();
    if (c.code == grpc::StatusCode::OK) {
      EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << c.service;
    }
  }
#else
  GTEST_SKIP() << "grpc/health/v1/health.proto (package grpc-proto) was not found at build time";
#endif
}

// A call that does not end by itself (a health Watch) holds the stop for the
// grace period and no longer: then it is cancelled (calls_in_flight.h; the
// path where CallsInFlight::AwaitNone reaches its deadline).
TEST_F(GrpcServiceTest, ShutdownCancelsACallStillOpenAtTheEndOfTheGrace) {
#ifdef LEDGER_TEST_HAVE_HEALTH_PROTO
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(60));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service("ledger.v1.LedgerService");
  std::unique_ptr<grpc::ClientReaderInterface<grpc::health::v1::HealthCheckResponse>> watch =
      health->Watch(&context, request);
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(watch->Read(&response));
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  const absl::Duration grace = absl::Milliseconds(800);
  const absl::Time start = absl::Now();
  server_->Shutdown(grace);
  const absl::Duration took = absl::Now() - start;
  while (watch->Read(&response)) {
  }
  const grpc::Status status = watch->Finish();
  EXPECT_FALSE(status.ok()) << "the watch ended normally, so it was not in flight at the deadline";
  EXPECT_GE(took, grace - absl::Milliseconds(50)) << "the stop did not wait for the call in flight";
  EXPECT_LT(took, absl::Seconds(10)) << "the call held the stop past its grace period";
  std::printf("a call open through the grace of %s: stopped in %s, the call ended %d %s\n",
              absl::FormatDuration(grace).c_str(), absl::FormatDuration(took).c_str(), status.error_code(),
              status.error_message().c_str());
#else
  GTEST_SKIP() << "grpc/health/v1/health.proto (package grpc-proto) was not found at build time";
#endif
}

// --- Bad input -------------------------------------------------------------

TEST_F(GrpcServiceTest, BadInputGetsItsCodeAndNamesTheField) {
  v1::AppendResponse first;
  ASSERT_THAT(Append("errors", Expect::kNoStream, 0, {MakeEvent("err-1", "{\"a\":1}")}, &first),
              GrpcOk());
  ASSERT_EQ(first.last_position(), 1u);
  using grpc::StatusCode;

  EXPECT_THAT(Append("", Expect::kAny, 0, {MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("stream_id")));
  EXPECT_THAT(Append("bad\x01stream", Expect::kAny, 0, {MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("stream_id")));
  EXPECT_THAT(Append("errors", Expect::kAny, 0,
                     {MakeEvent("x-1", std::string(limits::kMaxPayloadBytes + 1, 'p'))}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("events[0].payload")));
  EXPECT_THAT(Append("errors", Expect::kMissing, 0, {MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("expected_version")));
  EXPECT_THAT(Append("errors", Expect::kKindNotSet, 0, {MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("expected_version")));
  EXPECT_THAT(Append("errors", Expect::kExact, 0, {MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("expected_version.exact")));
  EXPECT_THAT(Append("errors", Expect::kAny, 0, {}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("events")));
  EXPECT_THAT(Append("errors", Expect::kAny, 0, {MakeEvent("x-1", "{}"), MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("events[1].event_id")));
  EXPECT_THAT(Append("errors", Expect::kAny, 0, {MakeEvent("", "{}")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("events[0].event_id")));
  EXPECT_THAT(Append("errors", Expect::kAny, 0, {MakeEvent("x-1", "{}", "has space")}),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("events[0].event_type")));
  {
    // Under gRPC's 4 MiB message limit, over the ledger's per-append limit.
    std::vector<v1::ProposedEvent> big;
    for (int i = 0; i < 3; ++i) {
      big.push_back(MakeEvent(absl::StrCat("big-", i), std::string(limits::kMaxPayloadBytes, 'b')));
    }
    big.push_back(MakeEvent("big-3", std::string(1000000, 'b')));
    EXPECT_THAT(Append("errors", Expect::kAny, 0, big),
                GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("events")));
  }
  // Conflicts.
  EXPECT_THAT(Append("errors", Expect::kExact, 5, {MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::ABORTED, HasSubstr("expected_version")));
  EXPECT_THAT(Append("errors", Expect::kNoStream, 0, {MakeEvent("x-1", "{}")}),
              GrpcIs(StatusCode::ABORTED, HasSubstr("expected_version")));
  EXPECT_THAT(Append("errors", Expect::kAny, 0, {MakeEvent("err-1", "{\"a\":2}")}),
              GrpcIs(StatusCode::ALREADY_EXISTS, HasSubstr("events[0].event_id")));
  EXPECT_THAT(Append("other-stream", Expect::kAny, 0, {MakeEvent("err-1", "{\"a\":1}")}),
              GrpcIs(StatusCode::ALREADY_EXISTS, HasSubstr("err-1")));
  EXPECT_THAT(Append("errors", Expect::kAny, 0, {MakeEvent("fresh", "{}"),
                                                 MakeEvent("err-1", "{\"a\":1}")}),
              GrpcIs(StatusCode::ALREADY_EXISTS, HasSubstr("err-1")));

  // Reads.
  v1::GetEventResponse event;
  EXPECT_THAT(GetEvent("no-such-event", false, &event),
              GrpcIs(StatusCode::NOT_FOUND, HasSubstr("no-such-event")));
  EXPECT_THAT(GetEvent("", false, &event),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("event_id")));
  v1::ReadResponse page;
  EXPECT_THAT(ReadAll(0, v1::DIRECTION_FORWARD, limits::kMaxPageSize + 1, &page),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("max_count")));
  EXPECT_THAT(ReadAll(0, v1::DIRECTION_FORWARD, limits::kMaxPageSize, &page), GrpcOk());
  EXPECT_THAT(ReadStream("errors", 0, v1::DIRECTION_FORWARD, limits::kMaxPageSize + 1, &page),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("max_count")));
  EXPECT_THAT(ReadStream("", 0, v1::DIRECTION_FORWARD, 0, &page),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("stream_id")));
  EXPECT_THAT(ReadAll(0, static_cast<v1::Direction>(7), 0, &page),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("direction")));
  v1::VerifyResponse verify;
  EXPECT_THAT(Verify(1, 2, &verify),
              GrpcIs(StatusCode::INVALID_ARGUMENT, HasSubstr("to_position")));

  // Nothing refused was written.
  v1::GetHeadResponse head = GetHead();
  EXPECT_EQ(head.position(), 1u);
  EXPECT_TRUE(head.writable());
  ASSERT_THAT(ReadAll(0, v1::DIRECTION_FORWARD, 0, &page), GrpcOk());
  ASSERT_EQ(page.events_size(), 1);
  EXPECT_EQ(page.events(0).envelope().event_id(), "err-1");

  // The payload limit is inclusive: exactly 1 MiB is accepted and reads back.
  const std::string max_payload(limits::kMaxPayloadBytes, 'm');
  EXPECT_THAT(Append("errors", Expect::kExact, 1, {MakeEvent("max-payload", max_payload)}),
              GrpcOk());
  ASSERT_THAT(GetEvent("max-payload", true, &event), GrpcOk());
  EXPECT_EQ(event.event().envelope().payload(), max_payload);
  EXPECT_EQ(Sha256(event.event().stored_bytes()), event.event().hash());
}

// --- Concurrency: appends and subscribers --------------------------------

// Subscribers started before, during and after concurrent appends from
// several threads each receive exactly the log: 1..N in order, no gap, no
// duplicate, the same events as ReadAll. The appends' answers tile 1..N.
TEST_F(GrpcServiceTest, ConcurrentSubscribersEachReceiveExactlyTheLog) {
  constexpr int kWriters = 4;
  constexpr int kAppendsPerWriter = 40;
  constexpr char kSentinel[] = "sentinel";

  struct Received {
    std::vector<v1::RecordedEvent> events;
    int caught_up_markers = 0;
    grpc::Status status;
  };
  auto subscribe = [this, kSentinel](Received* out, std::atomic<bool>* started) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(90));
    auto reader = stub_->Subscribe(&context, v1::SubscribeRequest());
    v1::SubscribeResponse message;
    bool first = true;
    while (reader->Read(&message)) {
      if (first) {
        started->store(true);
        first = false;
      }
      if (message.has_caught_up()) {
        ++out->caught_up_markers;
        continue;
      }
      out->events.push_back(message.event());
      if (message.event().envelope().event_id() == kSentinel) {
        context.TryCancel();
        break;
      }
    }
    while (reader->Read(&message)) {
    }
    out->status = reader->Finish();
  };

  Received before, during, after;
  std::atomic<bool> before_started{false}, during_started{false}, after_started{false};
  std::thread before_thread(subscribe, &before, &before_started);
  while (!before_started.load()) absl::SleepFor(absl::Milliseconds(1));  // got its marker

  absl::Mutex mu;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // first, last of every append
  std::map<std::string, std::vector<uint64_t>> stream_versions;
  std::atomic<int> appends_done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 random(1000 + w);
      for (int i = 0; i < kAppendsPerWriter; ++i) {
        const std::string stream = i % 4 == 0 ? "shared" : absl::StrCat("writer-", w);
        std::vector<v1::ProposedEvent> events;
        const int count = 1 + static_cast<int>(random() % 3);
        for (int k = 0; k < count; ++k) {
          events.push_back(MakeEvent(absl::StrCat("w", w, "-", i, "-", k),
                                     absl::StrCat("{\"writer\":", w, ",\"i\":", i, "}")));
        }
        v1::AppendResponse response;
        grpc::Status status = Append(stream, Expect::kAny, 0, events, &response);
        ASSERT_THAT(status, GrpcOk());
        ASSERT_EQ(response.last_position() - response.first_position() + 1,
                  static_cast<uint64_t>(count));
        absl::MutexLock lock(&mu);
        ranges.emplace_back(response.first_position(), response.last_position());
        for (int k = count - 1; k >= 0; --k) {
          stream_versions[stream].push_back(response.stream_version() - k);
        }
        appends_done.fetch_add(1);
      }
    });
  }
  while (appends_done.load() < kWriters * kAppendsPerWriter / 3) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  std::thread during_thread(subscribe, &during, &during_started);
  for (std::thread& writer : writers) writer.join();
  ASSERT_FALSE(HasFatalFailure());
  std::thread after_thread(subscribe, &after, &after_started);
  while (!after_started.load()) absl::SleepFor(absl::Milliseconds(1));
  AppendOne("shared", kSentinel);
  before_thread.join();
  during_thread.join();
  after_thread.join();

  // The appends' answers tile 1..N exactly; stream versions are contiguous.
  std::sort(ranges.begin(), ranges.end());
  uint64_t expected_first = 1;
  for (const auto& [first, last] : ranges) {
    ASSERT_EQ(first, expected_first) << "appends overlap or leave a gap";
    expected_first = last + 1;
  }
  const uint64_t n = expected_first;  // the sentinel's position
  for (auto& [stream, versions] : stream_versions) {
    std::sort(versions.begin(), versions.end());
    for (size_t i = 0; i < versions.size(); ++i) {
      ASSERT_EQ(versions[i], i + 1) << "stream " << stream;
    }
  }

  std::vector<v1::RecordedEvent> log;
  ASSERT_THAT(testing::ReadWholeLog(stub_.get(), &log), GrpcOk());
  ASSERT_EQ(log.size(), n);
  for (const auto& [name, received] : {std::pair<const char*, Received*>{"before", &before},
                                       {"during", &during},
                                       {"after", &after}}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(received->caught_up_markers, 1);
    ASSERT_EQ(received->events.size(), n);
    for (uint64_t i = 0; i < n; ++i) {
      const v1::RecordedEvent& event = received->events[i];
      ASSERT_EQ(event.envelope().position(), i + 1);
      EXPECT_EQ(event.envelope().event_id(), log[i].envelope().event_id());
      EXPECT_EQ(event.hash(), log[i].hash());
    }
    EXPECT_EQ(received->status.error_code(), grpc::StatusCode::CANCELLED)
        << received->status.error_message();
  }
  std::set<std::string> ids;
  for (const v1::RecordedEvent& event : log) {
    EXPECT_TRUE(ids.insert(event.envelope().event_id()).second)
        << "duplicate " << event.envelope().event_id();
  }
  v1::VerifyResponse verify;
  ASSERT_THAT(Verify(0, 0, &verify), GrpcOk());
  EXPECT_TRUE(verify.ok()) << verify.DebugString();
  EXPECT_EQ(verify.verified_count(), n);
}

}  // namespace
}  // namespace ledger
