// Tests of exact.h: Ratio arithmetic and its overflow checks, decimal parsing
// in both notations, half-up rounding and the Indonesian presentations, and
// the figures of the Klakah TW II 2024 reference report.
#include "ledger/domain/exact.h"

#include <string>
#include <string_view>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/testing/temp_dir.h"

namespace ledger::domain {
namespace {

using absl::int128;
using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

int128 PowerOfTen(int exponent) {
  int128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// n/d; the test's own arguments are always valid.
Ratio Q(int128 numerator, int128 denominator = 1) {
  return Ratio::Create(numerator, denominator).value();
}

Ratio Plain(std::string_view text) {
  return ParseDecimal(text, DecimalNotation::kPlain, "test").value();
}

Ratio Indonesian(std::string_view text) {
  return ParseDecimal(text, DecimalNotation::kIndonesian, "test").value();
}

const Ratio kMax = Q(absl::Int128Max());

// ---------------------------------------------------------------------------
// Normalization and construction

TEST(RatioTest, DefaultIsZeroOverOne) {
  Ratio zero;
  EXPECT_TRUE(zero.IsZero());
  EXPECT_EQ(zero.numerator(), 0);
  EXPECT_EQ(zero.denominator(), 1);
  EXPECT_EQ(zero.sign(), 0);
}

TEST(RatioTest, CreateReducesAndMovesSignToNumerator) {
  EXPECT_EQ(Q(6, -4).ToString(), "-3/2");
  EXPECT_EQ(Q(-6, -4).ToString(), "3/2");
  EXPECT_EQ(Q(-6, 4).ToString(), "-3/2");
  EXPECT_EQ(Q(0, -5).ToString(), "0/1");
  EXPECT_EQ(Q(12, 36).ToString(), "1/3");
  EXPECT_EQ(Q(7).ToString(), "7/1");
  EXPECT_EQ(Q(2, 4), Q(1, 2));
  EXPECT_EQ(Q(0, 7), Ratio());
}

TEST(RatioTest, CreateRejectsZeroDenominatorAndInt128Min) {
  EXPECT_THAT(Ratio::Create(1, 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Ratio::Create(absl::Int128Min(), 1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(Ratio::Create(1, absl::Int128Min()), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(RatioTest, FromIntegerCoversInt64) {
  EXPECT_EQ(Ratio::FromInteger(INT64_MIN).numerator(), int128(INT64_MIN));
  EXPECT_EQ(Ratio::FromInteger(INT64_MAX).denominator(), 1);
  EXPECT_TRUE(Ratio::FromInteger(-3).IsInteger());
}

TEST(RatioTest, ToStringOfExtremes) {
  EXPECT_EQ(kMax.ToString(), "170141183460469231731687303715884105727/1");
  EXPECT_EQ(kMax.Negated().ToString(), "-170141183460469231731687303715884105727/1");
  EXPECT_EQ(Q(1, absl::Int128Max()).ToString(), "1/170141183460469231731687303715884105727");
}

TEST(RatioTest, SignNegationAndAbs) {
  EXPECT_EQ(Q(-1, 2).sign(), -1);
  EXPECT_EQ(Q(1, 2).sign(), 1);
  EXPECT_EQ(Q(-1, 2).Negated(), Q(1, 2));
  EXPECT_EQ(Q(-1, 2).Abs(), Q(1, 2));
  EXPECT_EQ(Q(1, 2).Abs(), Q(1, 2));
  EXPECT_EQ(Ratio().Negated(), Ratio());
}

// ---------------------------------------------------------------------------
// Arithmetic

TEST(RatioTest, AddSubtractMultiplyDivide) {
  EXPECT_EQ(Q(1, 3).Add(Q(1, 6)).value(), Q(1, 2));
  EXPECT_EQ(Q(1, 2).Add(Q(-1, 2)).value(), Ratio());
  EXPECT_EQ(Q(1, 6).Add(Q(1, 10)).value(), Q(4, 15));
  EXPECT_EQ(Q(1, 3).Subtract(Q(1, 2)).value(), Q(-1, 6));
  EXPECT_EQ(Q(2, 3).Multiply(Q(9, 4)).value(), Q(3, 2));
  EXPECT_EQ(Q(-2, 3).Multiply(Q(3, 2)).value(), Q(-1));
  EXPECT_EQ(Q(1, 3).Multiply(Ratio()).value(), Ratio());
  EXPECT_EQ(Q(1, 3).Divide(Q(-2, 3)).value(), Q(-1, 2));
  EXPECT_EQ(Q(-1, 3).Divide(Q(-1, 3)).value(), Q(1));
}

TEST(RatioTest, ResultsAreNormalized) {
  const Ratio sum = Q(1, 4).Add(Q(1, 4)).value();
  EXPECT_EQ(sum.numerator(), 1);
  EXPECT_EQ(sum.denominator(), 2);
  const Ratio quotient = Q(3, 4).Divide(Q(-3, 8)).value();
  EXPECT_EQ(quotient.numerator(), -2);
  EXPECT_EQ(quotient.denominator(), 1);
}

TEST(RatioTest, DivisionByZeroIsInvalidArgument) {
  EXPECT_THAT(Q(1).Divide(Ratio()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("division by zero")));
}

TEST(RatioTest, MultiplyOverflowIsAnErrorNotGarbage) {
  const Ratio ten_to_20 = Q(PowerOfTen(20));
  EXPECT_THAT(ten_to_20.Multiply(ten_to_20), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(kMax.Multiply(Q(2)), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(kMax.Multiply(Q(-2)), StatusIs(absl::StatusCode::kOutOfRange));
  const Ratio tiny = Q(1, PowerOfTen(20));
  EXPECT_THAT(tiny.Multiply(tiny), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(kMax.Divide(Q(1, 2)), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(RatioTest, MultiplyCrossCancelsBeforeMultiplying) {
  const Ratio big = Q(PowerOfTen(30), 7);
  EXPECT_EQ(big.Multiply(Q(7, PowerOfTen(30))).value(), Q(1));
  EXPECT_EQ(kMax.Multiply(Q(1, absl::Int128Max())).value(), Q(1));
  EXPECT_EQ(kMax.Divide(kMax).value(), Q(1));
  EXPECT_EQ(kMax.Multiply(Q(-1)).value(), kMax.Negated());
}

TEST(RatioTest, AddOverflowIsAnError) {
  EXPECT_EQ(Q(absl::Int128Max() - 1).Add(Q(1)).value(), kMax);
  EXPECT_THAT(kMax.Add(Q(1)), StatusIs(absl::StatusCode::kOutOfRange));
  // The result would be Int128Min, which is outside the invariant.
  EXPECT_THAT(kMax.Negated().Subtract(Q(1)), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(kMax.Subtract(kMax.Negated()), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(kMax.Add(kMax.Negated()).value(), Ratio());
  // Coprime huge denominators: the sum's denominator does not fit.
  const Ratio a = Q(1, PowerOfTen(20) + 1);
  const Ratio b = Q(1, PowerOfTen(20) + 3);
  EXPECT_THAT(a.Add(b), StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("Add")));
}

TEST(RatioTest, AddWithSharedHugeDenominatorDoesNotOverflow) {
  const Ratio third = Q(1, absl::Int128Max());
  EXPECT_EQ(third.Add(third).value(), Q(2, absl::Int128Max()));
  const int128 d = PowerOfTen(37);
  EXPECT_EQ(Q(1, d).Add(Q(d - 1, d)).value(), Q(1));
}

// ---------------------------------------------------------------------------
// Comparison

TEST(RatioTest, ComparisonOperators) {
  EXPECT_LT(Q(1, 3), Q(1, 2));
  EXPECT_GT(Q(2, 3), Q(1, 2));
  EXPECT_LT(Q(-1, 2), Q(-1, 3));
  EXPECT_LT(Q(-1, 3), Ratio());
  EXPECT_LT(Ratio(), Q(1, 1000000));
  EXPECT_LE(Q(2, 4), Q(1, 2));
  EXPECT_GE(Q(2, 4), Q(1, 2));
  EXPECT_NE(Q(1, 3), Q(1, 2));
  EXPECT_LT(Q(5, 2), Q(3));
  EXPECT_GT(Q(3), Q(5, 2));
}

TEST(RatioTest, ComparisonNeverOverflowsOnHugeTerms) {
  const int128 max = absl::Int128Max();
  const Ratio a = Q(max - 1, max);      // 1 - 1/max
  const Ratio b = Q(max - 2, max - 1);  // 1 - 1/(max - 1), slightly smaller
  EXPECT_LT(b, a);
  EXPECT_GT(a, b);
  EXPECT_LT(a.Negated(), b.Negated());
  EXPECT_LT(Q(max - 1), kMax);
  EXPECT_LT(Q(1, max), Q(1, max - 1));
  EXPECT_EQ(a <=> a, std::strong_ordering::equal);
}

TEST(RatioTest, MinAndMax) {
  EXPECT_EQ(Min(Q(1, 3), Q(1, 2)), Q(1, 3));
  EXPECT_EQ(Max(Q(1, 3), Q(1, 2)), Q(1, 2));
  EXPECT_EQ(Max(Q(-5), Ratio()), Ratio());  // "floored at 0"
  EXPECT_EQ(Min(Q(-5), Ratio()), Q(-5));
}

// ---------------------------------------------------------------------------
// Parsing

TEST(ParseDecimalTest, PlainNotation) {
  EXPECT_EQ(Plain("-12.345"), Q(-12345, 1000));
  EXPECT_EQ(Plain("37.84"), Q(3784, 100));
  EXPECT_EQ(Plain("1077194452"), Q(1077194452));
  EXPECT_EQ(Plain("0"), Ratio());
  EXPECT_EQ(Plain("-0"), Ratio());
  EXPECT_EQ(Plain("-0.00"), Ratio());
  EXPECT_EQ(Plain("0.5"), Q(1, 2));
  EXPECT_EQ(Plain("1.50"), Q(3, 2));
  EXPECT_EQ(Plain("1.077"), Q(1077, 1000));
}

TEST(ParseDecimalTest, IndonesianNotation) {
  EXPECT_EQ(Indonesian("1.077.194.452"), Q(1077194452));
  EXPECT_EQ(Indonesian("57,45"), Q(5745, 100));
  EXPECT_EQ(Indonesian("1.077.194.452,00"), Q(1077194452));
  EXPECT_EQ(Indonesian("1077194452,00"), Q(1077194452));  // ungrouped is unambiguous
  EXPECT_EQ(Indonesian("-2.124.816.808"), Q(-2124816808));
  EXPECT_EQ(Indonesian("999"), Q(999));
  EXPECT_EQ(Indonesian("0,5"), Q(1, 2));
  EXPECT_EQ(Indonesian("1.000.000"), Q(1000000));
}

TEST(ParseDecimalTest, NotationDecidesTheMeaningOfADot) {
  EXPECT_EQ(Plain("1.077"), Q(1077, 1000));
  EXPECT_EQ(Indonesian("1.077"), Q(1077));
}

TEST(ParseDecimalTest, LimitsAreRepresentedExactly) {
  const std::string thirty_nines(30, '9');
  EXPECT_EQ(Plain(thirty_nines), Q(PowerOfTen(30) - 1));
  EXPECT_EQ(Plain("0." + std::string(17, '0') + "1"), Q(1, PowerOfTen(18)));
  const std::string thirty_eight_digits = std::string(20, '9') + "." + std::string(18, '9');
  EXPECT_EQ(Plain(thirty_eight_digits), Q(PowerOfTen(38) - 1, PowerOfTen(18)));
}

struct BadInput {
  DecimalNotation notation;
  std::string text;
  std::string reason;  // a substring of the message
};

class ParseDecimalErrorTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(ParseDecimalErrorTest, NamesTheFieldAndTheReason) {
  const BadInput& input = GetParam();
  EXPECT_THAT(ParseDecimal(input.text, input.notation, "target.tw2"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(StartsWith("target.tw2: "), HasSubstr(input.reason))))
      << "text: " << input.text;
}

constexpr DecimalNotation kP = DecimalNotation::kPlain;
constexpr DecimalNotation kI = DecimalNotation::kIndonesian;

INSTANTIATE_TEST_SUITE_P(
    Plain, ParseDecimalErrorTest,
    ::testing::Values(BadInput{kP, "", "empty"}, BadInput{kP, "-", "empty"},
                      BadInput{kP, "+1", "unexpected character"},
                      BadInput{kP, " 1", "unexpected character"},
                      BadInput{kP, "1 ", "unexpected character"},
                      BadInput{kP, "1.", "missing digits after"},
                      BadInput{kP, ".5", "missing integer part"},
                      BadInput{kP, "-.5", "missing integer part"},
                      BadInput{kP, "1e5", "unexpected character"},
                      BadInput{kP, "1.5e3", "unexpected character"},
                      BadInput{kP, "01", "leading zero"},
                      BadInput{kP, "00.5", "leading zero"},
                      BadInput{kP, "1,5", "unexpected character"},
                      BadInput{kP, "1.2.3", "unexpected character"},
                      BadInput{kP, "--1", "unexpected character"},
                      BadInput{kP, "1-", "unexpected character"},
                      BadInput{kP, "\xd9\xa1", "unexpected character"},  // Arabic-Indic one
                      BadInput{kP, std::string("1\0", 2), "unexpected character"},
                      BadInput{kP, "0." + std::string(19, '1'), "more than 18 fraction"},
                      BadInput{kP, std::string(31, '1'), "more than 30 integer"},
                      BadInput{kP, std::string(30, '1') + "." + std::string(9, '1'),
                               "more than 38 digits"}));

INSTANTIATE_TEST_SUITE_P(
    Indonesian, ParseDecimalErrorTest,
    ::testing::Values(BadInput{kI, "", "empty"},
                      BadInput{kI, "1.0771", "thousands groups"},
                      BadInput{kI, "1077.194", "thousands groups"},
                      BadInput{kI, "1..077", "thousands groups"},
                      BadInput{kI, ".077", "thousands groups"},
                      BadInput{kI, "1.077.", "thousands groups"},
                      BadInput{kI, "1.77", "thousands groups"},
                      BadInput{kI, "57.45", "thousands groups"},
                      BadInput{kI, "1.0a7", "thousands groups"},
                      BadInput{kI, "1.077,", "missing digits after"},
                      BadInput{kI, ",5", "missing integer part"},
                      BadInput{kI, "0.123", "leading zero"},
                      BadInput{kI, "1,077.00", "unexpected character in fraction"},
                      BadInput{kI, "1,5,0", "unexpected character in fraction"},
                      BadInput{kI, "+1.000", "thousands groups"},
                      BadInput{kI, "Rp1.000", "thousands groups"},
                      BadInput{kI, "1 000", "unexpected character"},
                      BadInput{kI, "97,2 2", "unexpected character in fraction"}));

TEST(ParseDecimalTest, ErrorQuotesLongTextEscapedAndShortened) {
  const std::string long_text = std::string(1000, '7') + "x\n";
  const absl::Status status =
      ParseDecimal(long_text, DecimalNotation::kPlain, "realisasi").status();
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, StartsWith("realisasi: ")));
  EXPECT_LT(status.message().size(), 200u);
  EXPECT_THAT(std::string(status.message()), HasSubstr("...\""));
  const absl::Status control = ParseDecimal("1\n", DecimalNotation::kPlain, "x").status();
  EXPECT_THAT(std::string(control.message()), HasSubstr("\\n"));
}

// ---------------------------------------------------------------------------
// Rounding

TEST(RoundHalfUpTest, ExactHalvesRoundAwayFromZero) {
  EXPECT_EQ(RoundHalfUp(Plain("0.125"), 2).value(), 13);
  EXPECT_EQ(RoundHalfUp(Plain("0.135"), 2).value(), 14);
  EXPECT_EQ(RoundHalfUp(Plain("2.675"), 2).value(), 268);  // 267 in binary floating point
  EXPECT_EQ(RoundHalfUp(Plain("1.005"), 2).value(), 101);
  EXPECT_EQ(RoundHalfUp(Plain("-0.125"), 2).value(), -13);
  EXPECT_EQ(RoundHalfUp(Plain("-0.005"), 2).value(), -1);
  EXPECT_EQ(RoundHalfUp(Plain("2.5"), 0).value(), 3);
  EXPECT_EQ(RoundHalfUp(Plain("-2.5"), 0).value(), -3);
  EXPECT_EQ(RoundHalfUp(Plain("0.5"), 0).value(), 1);
}

TEST(RoundHalfUpTest, BelowHalfRoundsTowardZero) {
  EXPECT_EQ(RoundHalfUp(Plain("0.124999999999999999"), 2).value(), 12);
  EXPECT_EQ(RoundHalfUp(Plain("-0.124999999999999999"), 2).value(), -12);
  EXPECT_EQ(RoundHalfUp(Plain("0.0049"), 2).value(), 0);
  EXPECT_EQ(RoundHalfUp(Plain("-0.0049"), 2).value(), 0);
  EXPECT_EQ(RoundHalfUp(Plain("1.4999"), 0).value(), 1);
}

TEST(RoundHalfUpTest, RepeatingFractions) {
  EXPECT_EQ(RoundHalfUp(Q(1, 3), 2).value(), 33);
  EXPECT_EQ(RoundHalfUp(Q(2, 3), 2).value(), 67);
  EXPECT_EQ(RoundHalfUp(Q(-2, 3), 2).value(), -67);
  EXPECT_EQ(RoundHalfUp(Q(1, 3), 30).value(), (PowerOfTen(30) - 1) / 3);
}

TEST(RoundHalfUpTest, CarryIntoTheIntegerPart) {
  EXPECT_EQ(RoundHalfUp(Plain("0.995"), 2).value(), 100);
  EXPECT_EQ(RoundHalfUp(Plain("-9.9995"), 3).value(), -10000);
  EXPECT_EQ(FormatPlain(Plain("0.995"), 2), "1.00");
  EXPECT_EQ(FormatIndonesian(Plain("999.995"), 2), "1.000,00");
}

TEST(RoundHalfUpTest, HugeDenominatorsUseLongDivisionWithoutOverflow) {
  const int128 max = absl::Int128Max();
  EXPECT_EQ(RoundHalfUp(Q(max - 1, max), 30).value(), PowerOfTen(30));
  EXPECT_EQ(RoundHalfUp(Q(1, max), 30).value(), 0);
  EXPECT_EQ(RoundHalfUp(Q(max / 2, max), 0).value(), 0);      // just under 1/2
  EXPECT_EQ(RoundHalfUp(Q(max / 2 + 1, max), 0).value(), 1);  // just over 1/2
  EXPECT_EQ(RoundHalfUp(kMax, 0).value(), max);
}

TEST(RoundHalfUpTest, Errors) {
  EXPECT_THAT(RoundHalfUp(Q(1), -1), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RoundHalfUp(Q(1), kMaxPresentationDigits + 1),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RoundHalfUp(kMax, 1), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(RoundHalfUp(Q(PowerOfTen(10)), 30), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(RoundHalfUp(Q(PowerOfTen(8)), 30), IsOk());
}

// ---------------------------------------------------------------------------
// Presentation

TEST(FormatTest, Plain) {
  EXPECT_EQ(FormatPlain(Q(109680, 1909), 2), "57.45");
  EXPECT_EQ(FormatPlain(Q(-1, 2), 2), "-0.50");
  EXPECT_EQ(FormatPlain(Plain("-0.001"), 2), "0.00");  // no negative zero
  EXPECT_EQ(FormatPlain(Q(1077194452), 2), "1077194452.00");
  EXPECT_EQ(FormatPlain(Q(5, 2), 0), "3");
  EXPECT_EQ(FormatPlain(Q(1, 3), 5), "0.33333");
  EXPECT_EQ(FormatPlain(Q(1, 20), 2), "0.05");
  EXPECT_EQ(FormatPlain(Q(1, 2), 4, FractionStyle::kTrimTrailingZeros), "0.5");
  EXPECT_EQ(FormatPlain(kMax, 0), "170141183460469231731687303715884105727");
}

TEST(FormatTest, IndonesianGrouping) {
  EXPECT_EQ(FormatIndonesian(Ratio(), 0), "0");
  EXPECT_EQ(FormatIndonesian(Q(999), 0), "999");
  EXPECT_EQ(FormatIndonesian(Q(1000), 0), "1.000");
  EXPECT_EQ(FormatIndonesian(Q(100000), 0), "100.000");
  EXPECT_EQ(FormatIndonesian(Q(1000000), 0), "1.000.000");
  EXPECT_EQ(FormatIndonesian(Q(1077194452), 0), "1.077.194.452");
  EXPECT_EQ(FormatIndonesian(Q(-999), 0), "-999");
  EXPECT_EQ(FormatIndonesian(Q(-1000), 0), "-1.000");
  EXPECT_EQ(FormatIndonesian(Q(-1000000), 2), "-1.000.000,00");
  EXPECT_EQ(FormatIndonesian(Ratio(), 2), "0,00");
}

TEST(FormatTest, IndonesianDecimals) {
  EXPECT_EQ(FormatIndonesian(Plain("57.45"), 2), "57,45");
  EXPECT_EQ(FormatIndonesian(Q(1077194452), 2), "1.077.194.452,00");
  EXPECT_EQ(FormatIndonesian(Q(1077194452), 2, FractionStyle::kTrimTrailingZeros),
            "1.077.194.452");
  EXPECT_EQ(FormatIndonesian(Plain("50.70"), 2, FractionStyle::kTrimTrailingZeros), "50,7");
  EXPECT_EQ(FormatIndonesian(Q(17), 2, FractionStyle::kTrimTrailingZeros), "17");
  EXPECT_EQ(FormatIndonesian(Q(-1, 2), 2), "-0,50");
}

TEST(FormatTest, Rupiah) {
  EXPECT_EQ(FormatRupiah(Q(1077194452)), "Rp1.077.194.452,00");
  EXPECT_EQ(FormatRupiah(Ratio()), "Rp0,00");
  EXPECT_EQ(FormatRupiah(Q(-1000)), "-Rp1.000,00");
  EXPECT_EQ(FormatRupiah(Plain("0.005")), "Rp0,01");
  EXPECT_EQ(FormatRupiah(Plain("32704500")), "Rp32.704.500,00");
}

TEST(FormatTest, Percent) {
  EXPECT_EQ(PercentOf(Q(1), Q(4)).value(), Q(25));
  EXPECT_EQ(FormatPercentIndonesian(Q(109680, 1909)), "57,45%");
  EXPECT_THAT(PercentOf(Q(1), Ratio()), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(PercentOf(kMax, Q(1)), StatusIs(absl::StatusCode::kOutOfRange));
}

TEST(FormatDeathTest, TooManyFractionDigitsIsAProgrammingError) {
  EXPECT_DEATH(FormatPlain(Q(1), kMaxPresentationDigits + 1), "fraction_digits");
  EXPECT_DEATH(FormatIndonesian(Q(1), -1), "fraction_digits");
}

TEST(RoundTripTest, PlainTextParsesAndFormatsBack) {
  for (const char* text : {"0", "57.45", "-12.345", "1077194452", "0.000000000000000001",
                           "-0.50", "999999999999999999999999999999"}) {
    const std::string_view view(text);
    const size_t dot = view.find('.');
    const int digits = dot == std::string_view::npos ? 0 : static_cast<int>(view.size() - dot - 1);
    EXPECT_EQ(FormatPlain(Plain(text), digits), text);
  }
}

TEST(RoundTripTest, IndonesianTextParsesAndFormatsBack) {
  for (const char* text : {"0", "57,45", "1.077.194.452", "1.077.194.452,00", "-1.000",
                           "999", "1.000.000", "2.124.816.808"}) {
    const std::string_view view(text);
    const size_t comma = view.find(',');
    const int digits =
        comma == std::string_view::npos ? 0 : static_cast<int>(view.size() - comma - 1);
    EXPECT_EQ(FormatIndonesian(Indonesian(text), digits), text);
  }
}

TEST(RoundTripTest, RatioSurvivesPresentationOfManyDigits) {
  // 18 digits of 37.84/95.45 x 100 parse back to within half a unit of the 18th digit.
  const Ratio exact = Q(75680, 1909);
  const Ratio shown = Plain(FormatPlain(exact, 18));
  const Ratio error = shown.Subtract(exact).value().Abs();
  EXPECT_LE(error, Q(1, 2 * PowerOfTen(18)));
}

// ---------------------------------------------------------------------------
// The figures of the reference report (Klakah, TW II 2024)

TEST(ReferenceReportTest, Indicator1QuarterlyAndYearEnd) {
  const Ratio target = Indonesian("95,45");
  const Ratio tw1 = Indonesian("37,84");
  const Ratio tw2 = Indonesian("17");
  const Ratio year_end = tw1.Add(tw2).value();  // cumulative sum
  EXPECT_EQ(year_end, Plain("54.84"));

  const Ratio capaian_tw1 = PercentOf(tw1, target).value();
  const Ratio capaian_tw2 = PercentOf(tw2, target).value();
  const Ratio capaian_year = PercentOf(year_end, target).value();
  // 3784/9545 x 100 = 378400/9545 = 75680/1909, and so on.
  EXPECT_EQ(capaian_tw1, Q(75680, 1909));
  EXPECT_EQ(capaian_tw2, Q(34000, 1909));
  EXPECT_EQ(capaian_year, Q(109680, 1909));
  EXPECT_EQ(FormatIndonesian(capaian_tw1, 2), "39,64");
  EXPECT_EQ(FormatIndonesian(capaian_tw2, 2), "17,81");
  EXPECT_EQ(FormatIndonesian(capaian_year, 2), "57,45");
}

TEST(ReferenceReportTest, Indicator2NeedsTheExactThird) {
  const Ratio on_time = Q(12 + 0 + 0);
  const Ratio expected = Q(12).Multiply(Q(3)).value();
  const Ratio realization = PercentOf(on_time, expected).value();
  EXPECT_EQ(realization, Q(100, 3));
  EXPECT_EQ(FormatIndonesian(realization, 2), "33,33");

  const Ratio target = Indonesian("97,22");
  const Ratio capaian = PercentOf(realization, target).value();
  // (100/3) / (9722/100) x 100 = 1000000/29166 = 500000/14583 = 34.2864...
  EXPECT_EQ(capaian, Q(500000, 14583));
  EXPECT_EQ(FormatIndonesian(capaian, 2), "34,29");

  // From the rounded 33.33: 333300/9722 = 166650/4861 = 34.2830...
  const Ratio capaian_from_rounded = PercentOf(Indonesian("33,33"), target).value();
  EXPECT_EQ(capaian_from_rounded, Q(166650, 4861));
  EXPECT_EQ(FormatIndonesian(capaian_from_rounded, 2), "34,28");
}

TEST(ReferenceReportTest, BudgetAbsorptionOfIndicator1) {
  const Ratio allocated = Indonesian("2.124.816.808");
  const Ratio realized = Indonesian("1.077.194.452");
  const Ratio absorption = PercentOf(realized, allocated).value();
  // By hand: gcd(1077194452, 2124816808) = 4 gives 269298613/531204202;
  // x 100 and gcd 2 gives 13464930650/265602101. Half of the allocation is
  // 1062408404; the excess 14786048 / 2124816808 = 0.0069587..., so the
  // absorption is 50.69587...%, not the 49,93 that the report prints.
  EXPECT_EQ(absorption, Q(13464930650, 265602101));
  EXPECT_GE(absorption, Plain("50.695"));
  EXPECT_LT(absorption, Plain("50.696"));
  EXPECT_EQ(RoundHalfUp(absorption, 4).value(), 506959);
  EXPECT_EQ(RoundHalfUp(absorption, 2).value(), 5070);
  EXPECT_EQ(FormatIndonesian(absorption, 2), "50,70");
  EXPECT_NE(FormatIndonesian(absorption, 2), "49,93");
  EXPECT_EQ(FormatRupiah(allocated), "Rp2.124.816.808,00");
}

}  // namespace
}  // namespace ledger::domain
