#include "ledger/store/append_validation.h"

#include "gtest/gtest.h"
#include "ledger/limits.h"
#include "ledger/testing/temp_dir.h"

namespace ledger {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::testing::HasSubstr;

AppendRequest Valid() {
  AppendRequest request;
  request.stream_id = "35.08.19/2024";
  request.actor = "local:test";
  request.expected_version = ExpectedVersion::Any();
  request.events.push_back(ProposedEvent{"id-1", "RealizationRecorded", "{}", "application/json",
                                         "", "", "Koreksi realisasi TW I"});
  return request;
}

void ExpectInvalid(const AppendRequest& request, const std::string& field) {
  EXPECT_THAT(ValidateAppendRequest(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(field + ":")));
}

TEST(AppendValidationTest, AcceptsAWellFormedRequest) {
  EXPECT_THAT(ValidateAppendRequest(Valid()), IsOk());
}

TEST(AppendValidationTest, StreamId) {
  AppendRequest request = Valid();
  request.stream_id = "";
  ExpectInvalid(request, "stream_id");
  request.stream_id = std::string(limits::kMaxStreamIdBytes + 1, 'a');
  ExpectInvalid(request, "stream_id");
  request.stream_id = std::string("a\0b", 3);
  ExpectInvalid(request, "stream_id");
  request.stream_id = "\xff\xfe";
  ExpectInvalid(request, "stream_id");
  request.stream_id = "Kecamatan Klakah/2024";  // spaces and UTF-8 are fine
  EXPECT_THAT(ValidateAppendRequest(request), IsOk());
}

TEST(AppendValidationTest, EventFields) {
  AppendRequest request = Valid();
  request.events[0].event_id = "";
  ExpectInvalid(request, "events[0].event_id");
  request = Valid();
  request.events[0].event_id = "has space";
  ExpectInvalid(request, "events[0].event_id");
  request = Valid();
  request.events[0].event_type = "Realization Recorded!";
  ExpectInvalid(request, "events[0].event_type");
  request = Valid();
  request.events[0].payload = std::string(limits::kMaxPayloadBytes + 1, 'x');
  ExpectInvalid(request, "events[0].payload");
  request = Valid();
  request.events[0].reason = "bad \x01 control";
  ExpectInvalid(request, "events[0].reason");
  request = Valid();
  request.events[0].reason = "baris satu\nbaris dua";
  EXPECT_THAT(ValidateAppendRequest(request), IsOk());
  request.events[0].causation_id = std::string(limits::kMaxCorrelationIdBytes + 1, 'c');
  ExpectInvalid(request, "events[0].causation_id");
}

TEST(AppendValidationTest, EventsAndExpectedVersion) {
  AppendRequest request = Valid();
  request.events.clear();
  ExpectInvalid(request, "events");
  request = Valid();
  request.events.push_back(request.events[0]);
  ExpectInvalid(request, "events[1].event_id");
  request = Valid();
  request.expected_version = ExpectedVersion::Exact(0);
  ExpectInvalid(request, "expected_version.exact");
  request = Valid();
  request.actor = "";
  ExpectInvalid(request, "actor");
  request = Valid();
  for (size_t i = 1; i <= limits::kMaxEventsPerAppend; ++i) {
    request.events.push_back(Valid().events[0]);
    request.events.back().event_id = "more-" + std::to_string(i);
  }
  ExpectInvalid(request, "events");
}

TEST(AppendValidationTest, TotalSizeIsBounded) {
  AppendRequest request = Valid();
  request.events[0].payload = std::string(limits::kMaxPayloadBytes, 'x');
  for (int i = 0; i < 4; ++i) {
    request.events.push_back(request.events[0]);
    request.events.back().event_id = "big-" + std::to_string(i);
  }
  EXPECT_THAT(ValidateAppendRequest(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("limit")));
}

TEST(Utf8Test, AcceptsValidAndRejectsMalformed) {
  EXPECT_TRUE(IsValidUtf8("Rp1.077.194.452,00 — capaian ✓"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(IdempotencyDigestTest, CoversEveryProposedField) {
  ProposedEvent base{"id", "T", "p", "c", "corr", "cause", "why"};
  std::string digest = IdempotencyDigest("s", "a", base);
  EXPECT_EQ(digest, IdempotencyDigest("s", "a", base));
  EXPECT_NE(digest, IdempotencyDigest("s2", "a", base));
  EXPECT_NE(digest, IdempotencyDigest("s", "a2", base));
  for (std::string ProposedEvent::*field :
       {&ProposedEvent::event_type, &ProposedEvent::payload, &ProposedEvent::content_type,
        &ProposedEvent::correlation_id, &ProposedEvent::causation_id, &ProposedEvent::reason}) {
    ProposedEvent changed = base;
    changed.*field += "x";
    EXPECT_NE(digest, IdempotencyDigest("s", "a", changed));
  }
  // Field boundaries matter: ("ab","c") differs from ("a","bc").
  ProposedEvent left = base, right = base;
  left.event_type = "ab", left.payload = "c";
  right.event_type = "a", right.payload = "bc";
  EXPECT_NE(IdempotencyDigest("s", "a", left), IdempotencyDigest("s", "a", right));
}

}  // namespace
}  // namespace ledger
