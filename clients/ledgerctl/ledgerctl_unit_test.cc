// Unit tests of ledgerctl's pieces that need no server: the argument parser,
// JSON checks, time parsing and event formatting.
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "clients/ledgerctl/args.h"
#include "clients/ledgerctl/errors.h"
#include "clients/ledgerctl/format.h"
#include "clients/ledgerctl/json_text.h"
#include "clients/ledgerctl/report_text.h"
#include "clients/ledgerctl/sakip_import.h"
#include "clients/ledgerctl/times.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ledgerctl {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::vector<FlagSpec> kSpecs = {{"type"}, {"backward", false}, {"file"}};

TEST(ArgsTest, ParsesSpaceAndEqualsFormsAndPositionals) {
  ParsedArgs args = ParseFlags({"s1", "--type", "A", "--file=-", "--backward", "s2"}, kSpecs, "x");
  EXPECT_EQ(args.positionals, (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(args.Get("type"), "A");
  EXPECT_EQ(args.Get("file"), "-");
  EXPECT_TRUE(args.Has("backward"));
  EXPECT_FALSE(args.Has("nope"));
}

TEST(ArgsTest, HyphenAndUnderscoreSpellingsNameTheSameFlag) {
  const std::vector<FlagSpec> specs = {{"public_key"}, {"timeout-ms"}};
  ParsedArgs args = ParseFlags({"--public-key", "k.pub", "--timeout_ms=5"}, specs, "x");
  EXPECT_EQ(args.Get("public_key"), "k.pub");
  EXPECT_EQ(args.Get("timeout-ms"), "5");
  EXPECT_THROW(ParseFlags({"--public_key", "a", "--public-key", "b"}, specs, "x"), CliError);
  EXPECT_THROW(ParseFlags({"--public.key", "a"}, specs, "x"), CliError);
}

TEST(ArgsTest, DoubleDashEndsFlags) {
  ParsedArgs args = ParseFlags({"--", "--type"}, kSpecs, "x");
  EXPECT_EQ(args.positionals, std::vector<std::string>{"--type"});
}

TEST(ArgsTest, RejectsUnknownRepeatedAndMissingValues) {
  auto code_of = [](std::vector<std::string> tokens) {
    try {
      ParseFlags(tokens, kSpecs, "x");
    } catch (const CliError& error) {
      return static_cast<int>(error.code());
    }
    return 0;
  };
  EXPECT_EQ(code_of({"--bogus", "1"}), kExitUsage);
  EXPECT_EQ(code_of({"--type", "A", "--type", "B"}), kExitUsage);
  EXPECT_EQ(code_of({"--type"}), kExitUsage);
  EXPECT_EQ(code_of({"--backward=yes"}), kExitUsage);
  EXPECT_EQ(code_of({"-x"}), kExitUsage);
  EXPECT_THROW(ParseUint("12a", "--limit"), CliError);
  EXPECT_THROW(ParseUint("-1", "--limit"), CliError);
  EXPECT_EQ(ParseUint("42", "--limit"), 42u);
}

TEST(ArgsTest, ListsAndFiscalYears) {
  EXPECT_EQ(SplitList("a,b,,c"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(SplitList("").empty());
  EXPECT_EQ(ParseFiscalYear("2024", "--year"), 2024);
  EXPECT_THROW(ParseFiscalYear("1999", "--year"), CliError);
  EXPECT_THROW(ParseFiscalYear("20x4", "--year"), CliError);
}

TEST(FormatTest, IndonesianNumbersAndOtherTextUnchanged) {
  EXPECT_EQ(IndonesianNumber("37.84"), "37,84");
  EXPECT_EQ(IndonesianNumber("1077194452"), "1.077.194.452");
  EXPECT_EQ(IndonesianNumber("-1234567.5"), "-1.234.567,5");
  EXPECT_EQ(IndonesianNumber("100"), "100");
  EXPECT_EQ(IndonesianNumber("0"), "0");
  EXPECT_EQ(IndonesianNumber("100/3 (~33.333333)"), "100/3 (~33.333333)");
  EXPECT_EQ(IndonesianNumber("true"), "true");
  EXPECT_EQ(IndonesianNumber(""), "");
  EXPECT_EQ(IndonesianNumber("-"), "-");
  EXPECT_EQ(IndonesianNumber("1."), "1.");
}

TEST(FormatTest, CsvQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvLine({"a", "b c", ""}), "a,b c,\r\n");
  EXPECT_EQ(CsvLine({"x,y", "say \"hi\"", "two\nlines"}), "\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n");
}

TEST(JsonTextTest, AcceptsStrictJson) {
  EXPECT_THAT(JsonError(R"({"a": [1, -2.5e3, true, null, "x\u00e9\n"]})"), IsEmpty());
  EXPECT_THAT(JsonError("3"), IsEmpty());
}

TEST(JsonTextTest, RefusesWhatProtobufIsLenientAbout) {
  EXPECT_THAT(JsonError(R"({"a":1,})"), HasSubstr("column 8"));
  EXPECT_THAT(JsonError("{a:1}"), HasSubstr("quoted"));
  EXPECT_THAT(JsonError("{'a':1}"), Not(IsEmpty()));
  EXPECT_THAT(JsonError("[1,]"), Not(IsEmpty()));
  EXPECT_THAT(JsonError("1."), Not(IsEmpty()));
  EXPECT_THAT(JsonError("01"), Not(IsEmpty()));
  EXPECT_THAT(JsonError(R"("\x")"), Not(IsEmpty()));
  EXPECT_THAT(JsonError("\"a\tb\""), Not(IsEmpty()));
  EXPECT_THAT(JsonError(R"({"a":1} x)"), HasSubstr("after the JSON value"));
  EXPECT_THAT(JsonError(""), Not(IsEmpty()));
  EXPECT_THAT(JsonError(R"({"a":1,"a":2})"), HasSubstr("a"));  // protobuf: repeated key
}

TEST(JsonTextTest, CompactsOutsideStringsOnly) {
  EXPECT_EQ(CompactJson("{ \"a b\" : [ 1 ,\n 2 ] }"), "{\"a b\":[1,2]}");
  EXPECT_EQ(CompactJson(R"({"q":"x\" y"})"), R"({"q":"x\" y"})");
  EXPECT_EQ(JsonQuote("a\"\\\n\x01"), R"("a\"\\\n\u0001")");
}

TEST(TimesTest, LocalTimeIsWib) {
  absl::Time expected = absl::FromUnixSeconds(1719802800);  // 2024-07-01T03:00:00Z
  EXPECT_EQ(ParseTimeArg("2024-07-01 10:00"), expected);
  EXPECT_EQ(ParseTimeArg("2024-07-01T10:00:00+07:00"), expected);
  EXPECT_EQ(ParseTimeArg("2024-07-01T03:00:00Z"), expected);
  EXPECT_EQ(ParseTimeArg("2024-07-01 10:00:00"), expected);
  EXPECT_THROW(ParseTimeArg("yesterday"), CliError);
  EXPECT_EQ(FormatWib(absl::ToUnixMicros(expected)), "2024-07-01 10:00:00.000 WIB");
  EXPECT_EQ(FormatUtc(absl::ToUnixMicros(expected) + 5), "2024-07-01T03:00:00.000005Z");
}

TEST(FormatTest, ContentTypesAndTruncation) {
  EXPECT_TRUE(IsJsonContentType("application/json"));
  EXPECT_TRUE(IsJsonContentType("application/json; charset=utf-8"));
  EXPECT_TRUE(IsJsonContentType("application/vnd.sakip+json"));
  EXPECT_FALSE(IsJsonContentType("text/plain"));
  EXPECT_EQ(Truncate("abcdef", 6), "abcdef");
  EXPECT_EQ(Truncate("abcdefg", 6), "abc...");
  EXPECT_EQ(Truncate("ééééééé", 6), "ééé...");  // never cuts a UTF-8 character
}

TEST(FormatTest, EventJsonEmbedsJsonPayloadElseBase64) {
  ledger::v1::RecordedEvent event;
  event.mutable_envelope()->set_position(7);
  event.mutable_envelope()->set_payload("{ \"n\": 12345678901234567890 }");
  event.mutable_envelope()->set_content_type("application/json");
  event.set_hash(std::string("\x01\xab", 2));
  std::string json = EventJson(event);
  EXPECT_THAT(json, HasSubstr(R"("position":7)"));
  EXPECT_THAT(json, HasSubstr(R"("hash":"01ab")"));
  EXPECT_THAT(json, HasSubstr(R"("payload":{"n":12345678901234567890})"));  // digits kept
  EXPECT_THAT(JsonError(json), IsEmpty());

  event.mutable_envelope()->set_content_type("application/octet-stream");
  event.mutable_envelope()->set_payload("hi");
  EXPECT_THAT(EventJson(event), HasSubstr(R"("payload_base64":"aGk=")"));
  EXPECT_EQ(PayloadText(event.envelope()), "<2 bytes application/octet-stream>");
}

// --- import: JSON Lines parsing and batching --------------------------------

std::string RealizationLine(const std::string& id, int year, const std::string& quarter) {
  return R"({"event_id":")" + id + R"(","event_type":"RealizationRecorded","event":{)" +
         R"("unitCode":"35.08.19","fiscalYear":)" + std::to_string(year) +
         R"(,"realizationRecorded":{"indicatorId":"IKU-1","quarter":)" + quarter + "}}}";
}

std::string UsageMessage(const std::function<void()>& action) {
  try {
    action();
  } catch (const CliError& error) {
    EXPECT_EQ(error.code(), kExitUsage);
    return error.what();
  }
  ADD_FAILURE() << "no error";
  return "";
}

TEST(SakipImportTest, ParsesALineIntoAProposedEvent) {
  ImportedEvent event = ParseImportLine(RealizationLine("r-1", 2024, "2"), 7, "f.jsonl");
  EXPECT_EQ(event.line_number, 7);
  EXPECT_EQ(event.proposed.event_id(), "r-1");
  EXPECT_EQ(event.proposed.event().realization_recorded().quarter(), 2);
  EXPECT_EQ(SakipEventTypeName(event.proposed.event()), "RealizationRecorded");
}

TEST(SakipImportTest, ErrorsNameTheLineAndTheField) {
  EXPECT_THAT(UsageMessage([] { ParseImportLine(RealizationLine("r", 2024, "\"x\""), 3, "f"); }),
              ::testing::AllOf(::testing::StartsWith("f:3: "), HasSubstr("quarter")));
  EXPECT_THAT(UsageMessage([] { ParseImportLine(RealizationLine("", 2024, "1"), 4, "f"); }),
              ::testing::StartsWith("f:4: event_id: is required"));
  EXPECT_THAT(UsageMessage([] { ParseImportLine("{not json", 5, "f"); }),
              ::testing::StartsWith("f:5: "));
  std::string wrong_type = RealizationLine("r", 2024, "1");
  wrong_type.replace(wrong_type.find("RealizationRecorded"), 19, "TargetRevised");
  EXPECT_THAT(UsageMessage([&] { ParseImportLine(wrong_type, 6, "f"); }),
              HasSubstr("f:6: event_type: 'TargetRevised' does not name the event"));
}

TEST(SakipImportTest, BlankLinesAreSkippedAndLinesCounted) {
  std::istringstream in(RealizationLine("a", 2024, "1") + "\n\n" + RealizationLine("b", 2024, "1"));
  std::vector<ImportedEvent> events = ParseImportStream(in, "f");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].line_number, 3);
}

TEST(SakipImportTest, BatchesAreConsecutiveEventsOfOneUnitYearUpToTheLimit) {
  std::vector<ImportedEvent> events;
  for (int i = 0; i < 5; ++i) events.push_back(ParseImportLine(RealizationLine("a", 2024, "1"), i + 1, "f"));
  events.push_back(ParseImportLine(RealizationLine("b", 2025, "1"), 6, "f"));
  events.push_back(ParseImportLine(RealizationLine("c", 2024, "1"), 7, "f"));
  std::vector<ImportBatch> batches = BatchByUnitYear(events, 2);
  std::vector<size_t> sizes;
  for (const ImportBatch& batch : batches) sizes.push_back(batch.events.size());
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 1, 1, 1}));
  EXPECT_EQ(batches[3].unit_year, "35.08.19/2025");
}

TEST(ReportTextTest, TablesAlignNumbersRightAndMarkAbsentFigures) {
  TextTable table({"No", "Nama", "Nilai"}, {true, false, true});
  table.AddRow({"1", "Satu", "57,45"});
  table.AddRow({"10", "Sepuluh", "1.077.194.452,00"});
  EXPECT_EQ(table.Render(""),
            "No  Nama                Nilai\n"
            "-----------------------------\n"
            " 1  Satu                57,45\n"
            "10  Sepuluh  1.077.194.452,00\n");
  sakip::v1::Figure absent;
  EXPECT_EQ(Cell(absent), "-");
  EXPECT_EQ(QuarterName(3), "TW III");
}

}  // namespace
}  // namespace ledgerctl
