#include "ledger/domain/identifiers.h"

#include "gtest/gtest.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::domain {
namespace {

using ::ledger::testing::StatusIs;
using ::testing::HasSubstr;

TEST(NipTest, AcceptsTheReferenceSignersNipAsPrintedAndCompact) {
  EXPECT_EQ(*NormalizeNip("signer_nip", "19730415 199803 1 011"), "197304151998031011");
  EXPECT_EQ(*NormalizeNip("signer_nip", "197304151998031011"), "197304151998031011");
}

TEST(NipTest, RejectsBadShapesAndDatesNamingTheField) {
  auto invalid = [](const char* nip, const char* what) {
    EXPECT_THAT(NormalizeNip("signer_nip", nip),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         ::testing::AllOf(HasSubstr("signer_nip: "), HasSubstr(what))))
        << nip;
  };
  invalid("1973041519980310", "18 digits");
  invalid("19730415199803101x", "18 digits");
  invalid("19730230 199803 1 011", "birth date");    // 30 February
  invalid("18000101 199803 1 011", "birth date");
  invalid("19730415 199813 1 011", "appointment");   // month 13
  invalid("19730415 197001 1 011", "not after the birth");
  invalid("19730415 199803 3 011", "gender");
  invalid("19730415 199803 1 000", "serial");
}

TEST(DateTest, AcceptsRealDatesOnly) {
  EXPECT_TRUE(CheckIsoDate("signed_on", "2024-07-03").ok());
  EXPECT_TRUE(CheckIsoDate("signed_on", "2024-02-29").ok());
  for (const char* bad : {"", "2024-7-3", "03-07-2024", "2023-02-29", "2024-13-01", "2024-07-3x",
                          "2024/07/03"}) {
    EXPECT_THAT(CheckIsoDate("signed_on", bad),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("signed_on: ")))
        << bad;
  }
}

TEST(AreaCodeTest, ParsesEveryLevel) {
  EXPECT_EQ(*ParseAreaCode("unit_code", "35"), AreaLevel::kProvince);
  EXPECT_EQ(*ParseAreaCode("unit_code", "35.08"), AreaLevel::kRegency);
  EXPECT_EQ(*ParseAreaCode("unit_code", "35.08.19"), AreaLevel::kDistrict);
  EXPECT_EQ(*ParseAreaCode("village_code", "35.08.19.2001"), AreaLevel::kVillage);
}

TEST(AreaCodeTest, RejectsMalformedCodes) {
  for (const char* code : {"", "3", "350", "35.8", "35.08.19.201", "35.08.19.2001.1", "35..19",
                           "35.00", "00.08", "99.08", "35.08.19.0000", "35.08.1a"}) {
    EXPECT_THAT(ParseAreaCode("village_code", code),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("village_code: ")))
        << code;
  }
}

TEST(AreaCodeTest, UnderIsByWholeParts) {
  EXPECT_TRUE(AreaCodeIsUnder("35.08.19", "35.08"));
  EXPECT_TRUE(AreaCodeIsUnder("35.08", "35.08"));
  EXPECT_TRUE(AreaCodeIsUnder("35.08.19.2001", "35"));
  EXPECT_FALSE(AreaCodeIsUnder("35.081", "35.08"));
  EXPECT_FALSE(AreaCodeIsUnder("35", "35.08"));
  EXPECT_FALSE(AreaCodeIsUnder("36.08", "35"));
}

// Found by fuzz_identifiers (fuzz/corpus/identifiers/regression-newline-in-area-code):
// the input was quoted raw, so a newline or control character in a client's
// unit code reached the gRPC status and the logs, and a long one was copied
// whole into the message.
TEST(AreaCodeTest, MessagesQuoteTheInputEscapedAndShortened) {
  auto message = [](const absl::Status& status) { return std::string(status.message()); };
  const std::string newline = message(ParseAreaCode("unit_code", "35.081\n35.08").status());
  EXPECT_THAT(newline, HasSubstr("'35.081\\n35.08' is not an area code"));
  EXPECT_EQ(newline.find('\n'), std::string::npos);
  const std::string control = message(CheckIsoDate("paid_on", std::string("2024-07-0\x01", 10)));
  EXPECT_THAT(control, HasSubstr("'2024-07-0\\x01' is not a date"));
  const std::string long_code(100000, '9');
  const std::string shortened = message(ParseAreaCode("unit_code", long_code).status());
  EXPECT_LT(shortened.size(), 200u);
  EXPECT_THAT(shortened, HasSubstr(std::string(64, '9') + "...'"));
  EXPECT_THAT(message(ParseAreaCode("unit_code", "95").status()), HasSubstr("'95' names province 95"));
}

}  // namespace
}  // namespace ledger::domain
