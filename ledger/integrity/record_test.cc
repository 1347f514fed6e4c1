#include "ledger/integrity/record.h"

#include "gtest/gtest.h"
#include "ledger/integrity/sha256.h"
#include "ledger/testing/temp_dir.h"

namespace ledger {
namespace {

using ::ledger::testing::StatusIs;
using ::testing::HasSubstr;

std::string Body(uint64_t position, const std::string& prev_hash) {
  v1::EventEnvelope envelope;
  envelope.set_position(position);
  envelope.set_stream_id("35.08.19/2024");
  envelope.set_event_type("RealizationRecorded");
  envelope.set_payload("{\"value\":\"37.84\"}");
  envelope.set_prev_hash(prev_hash);
  return envelope.SerializeAsString();
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Parts({"a", "bc"}), Sha256("abc"));
  EXPECT_EQ(GenesisHash(), std::string(32, '\0'));
}

TEST(RecordTest, EncodeDecodeRoundTripHashesExactlyTheStoredBytes) {
  std::string body = Body(1, GenesisHash());
  std::string value = EncodeRecord(body);
  ASSERT_EQ(value.size(), 1 + kHashBytes + body.size());
  EXPECT_EQ(value[0], kRecordFormatV1);
  absl::StatusOr<DecodedRecord> record = DecodeRecord(value);
  ASSERT_TRUE(record.ok()) << record.status();
  EXPECT_EQ(record->body, body);
  EXPECT_EQ(record->hash, Sha256(body));
  EXPECT_EQ(record->envelope.position(), 1u);
}

TEST(RecordTest, AnyFlippedByteIsDetected) {
  std::string value = EncodeRecord(Body(7, GenesisHash()));
  for (size_t offset = 0; offset < value.size(); ++offset) {
    std::string damaged = value;
    damaged[offset] ^= 0x01;
    EXPECT_EQ(DecodeRecord(damaged).status().code(), absl::StatusCode::kDataLoss)
        << "offset " << offset;
  }
}

TEST(RecordTest, MalformedFramesAreDataLoss) {
  EXPECT_THAT(SplitRecord(""), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("too short")));
  std::string value = EncodeRecord("x");
  value[0] = 0x02;
  EXPECT_THAT(SplitRecord(value), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("format")));
  // A valid hash over bytes that are not an envelope.
  std::string garbage = "\xff\xff\xff";
  EXPECT_THAT(DecodeRecord(EncodeRecord(garbage)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("decode")));
}

}  // namespace
}  // namespace ledger
