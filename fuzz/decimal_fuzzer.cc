// Fuzz target: ParseDecimal in both notations, presentation rounding, and
// Ratio arithmetic (ledger/domain/exact.h).
//
// Input: text. The whole input is parsed in both notations; when it holds a
// newline, the parts before and after it are also parsed as two operands for
// the arithmetic properties. An input starting with "R:" and 64 more bytes
// builds two ratios from four raw int128 values instead, to reach the
// extremes of 128-bit arithmetic that decimal text (at most 38 digits) cannot.
//
// Properties, beyond "no crash, no undefined behaviour":
//   - an accepted decimal keeps the Ratio invariant, has a power-of-ten
//     denominator <= 10^18 and fewer than 10^30 units;
//   - formatted again (plain and Indonesian, all its digits) it parses back
//     to the same value; formatted with the input's own fraction digits it
//     gives the input back (the grouping aside);
//   - rounding is half away from zero and within half a unit;
//   - a refusal is InvalidArgument naming the field, quoting the input
//     escaped and shortened (printable, bounded);
//   - a + b - b == a, a + b == b + a, (a * b) / b == a (Divide must not fail
//     there: the result fits), comparison agrees with the sign of b - a.
// There is no parser of "p/q" text in the ledger (Ratio::ToString only
// prints); its output is checked against the components instead.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz/fuzz_check.h"
#include "ledger/domain/exact.h"
#include "ledger/util/strings.h"

namespace {

using absl::int128;
using absl::uint128;
using ledger::Absl;
using ledger::domain::DecimalNotation;
using ledger::domain::FractionStyle;
using ledger::domain::Ratio;

constexpr std::string_view kField = "fuzz.amount";

uint128 Magnitude(int128 value) {
  return value < 0 ? static_cast<uint128>(-(value + 1)) + 1 : static_cast<uint128>(value);
}

uint128 Gcd(uint128 a, uint128 b) {
  while (b != 0) {
    const uint128 r = a % b;
    a = b;
    b = r;
  }
  return a;
}

uint128 PowerOfTen(int exponent) {
  uint128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

std::string Show(const Ratio& value) { return value.ToString(); }

void CheckInvariant(const Ratio& value, std::string_view where) {
  FUZZ_CHECK(value.denominator() > 0, absl::StrCat(Absl(where), ": ", Show(value)));
  FUZZ_CHECK(value.numerator() != absl::Int128Min(), absl::StrCat(Absl(where), ": ", Show(value)));
  FUZZ_CHECK(Gcd(Magnitude(value.numerator()), static_cast<uint128>(value.denominator())) == 1 ||
                 value.IsZero(),
             absl::StrCat(Absl(where), ": not reduced: ", Show(value)));
  FUZZ_CHECK(!value.IsZero() || value.denominator() == 1, absl::StrCat(Absl(where), ": ", Show(value)));
  // ToString is exactly "[-]|p|/q".
  const std::string text = Show(value);
  const size_t slash = text.find('/');
  FUZZ_CHECK(slash != std::string::npos && slash > 0 && slash + 1 < text.size(), text);
}

// Round half away from zero of value x 10^digits is `rounded`: the distance is
// at most 1/2, and exactly 1/2 only when `rounded` is the one farther from zero.
void CheckRounding(const Ratio& value, int digits) {
  absl::StatusOr<int128> rounded = ledger::domain::RoundHalfUp(value, digits);
  if (!rounded.ok()) return;  // OutOfRange is allowed for huge values
  absl::StatusOr<Ratio> scale = Ratio::Create(static_cast<int128>(PowerOfTen(digits)), 1);
  FUZZ_CHECK(scale.ok(), "10^digits");
  absl::StatusOr<Ratio> scaled = value.Multiply(*scale);
  if (!scaled.ok()) return;
  absl::StatusOr<Ratio> as_ratio = Ratio::Create(*rounded, 1);
  FUZZ_CHECK(as_ratio.ok(), "rounded value");
  absl::StatusOr<Ratio> distance = scaled->Subtract(*as_ratio);
  if (!distance.ok()) return;
  const Ratio half = *Ratio::Create(1, 2);
  FUZZ_CHECK(distance->Abs() <= half,
             absl::StrCat("RoundHalfUp(", Show(value), ", ", digits, ") is more than half a unit off"));
  if (distance->Abs() == half) {
    FUZZ_CHECK(as_ratio->Abs() > scaled->Abs(),
               absl::StrCat("RoundHalfUp(", Show(value), ", ", digits, ") rounds a half towards zero"));
  }
  // The presentation shows the same rounded value (sign of zero aside).
  // (Only where ParseDecimal takes that many digits.)
  const std::string plain = ledger::domain::FormatPlain(value, digits);
  const size_t digit_count = plain.size() - (plain.front() == '-') - (digits > 0);
  if (digits > ledger::domain::kMaxFractionDigits ||
      digit_count > static_cast<size_t>(ledger::domain::kMaxSignificantDigits) ||
      digit_count - digits > static_cast<size_t>(ledger::domain::kMaxIntegerDigits)) {
    return;
  }
  absl::StatusOr<Ratio> shown = ledger::domain::ParseDecimal(plain, DecimalNotation::kPlain, kField);
  FUZZ_CHECK(shown.ok(), absl::StrCat("FormatPlain output does not parse: ", plain));
  absl::StatusOr<Ratio> expected = as_ratio->Divide(*scale);
  FUZZ_CHECK(expected.ok() && *shown == *expected,
             absl::StrCat("FormatPlain(", Show(value), ", ", digits, ") = ", plain, " but RoundHalfUp says ",
                          Show(*as_ratio)));
  FUZZ_CHECK(plain.rfind("-0", 0) != 0 || !shown->IsZero(), absl::StrCat("negative zero shown: ", plain));
}

// Everything that must hold for an accepted decimal `value` parsed from `text`.
void CheckAccepted(std::string_view text, DecimalNotation notation, const Ratio& value) {
  CheckInvariant(value, "ParseDecimal");
  // Denominator is 10^k with k <= 18 (after reduction: a divisor of 10^18).
  const uint128 max_scale = PowerOfTen(ledger::domain::kMaxFractionDigits);
  FUZZ_CHECK(max_scale % static_cast<uint128>(value.denominator()) == 0,
             absl::StrCat("denominator not a divisor of 10^18: ", Show(value)));
  FUZZ_CHECK(Magnitude(value.numerator()) / static_cast<uint128>(value.denominator()) <
                 PowerOfTen(ledger::domain::kMaxIntegerDigits),
             Show(value));

  // Round trips with every digit kept.
  for (DecimalNotation again : {DecimalNotation::kPlain, DecimalNotation::kIndonesian}) {
    const std::string formatted =
        again == DecimalNotation::kPlain
            ? ledger::domain::FormatPlain(value, ledger::domain::kMaxFractionDigits,
                                          FractionStyle::kTrimTrailingZeros)
            : ledger::domain::FormatIndonesian(value, ledger::domain::kMaxFractionDigits,
                                               FractionStyle::kTrimTrailingZeros);
    absl::StatusOr<Ratio> reparsed = ledger::domain::ParseDecimal(formatted, again, kField);
    FUZZ_CHECK(reparsed.ok(), absl::StrCat("'", formatted, "' (from '", Absl(text),
                                           "') does not parse again: ", reparsed.status().ToString()));
    FUZZ_CHECK(*reparsed == value, absl::StrCat("'", formatted, "' parses to ", Show(*reparsed),
                                                ", not ", Show(value)));
  }

  // Formatting with the input's own number of fraction digits gives the input
  // back, except for the sign of zero and the Indonesian grouping.
  const char separator = notation == DecimalNotation::kPlain ? '.' : ',';
  const size_t at = text.find(separator);
  const int fraction_digits = at == std::string_view::npos ? 0 : static_cast<int>(text.size() - at - 1);
  std::string formatted = notation == DecimalNotation::kPlain
                              ? ledger::domain::FormatPlain(value, fraction_digits)
                              : ledger::domain::FormatIndonesian(value, fraction_digits);
  std::string expected(text);
  if (value.IsZero() && !expected.empty() && expected.front() == '-') expected.erase(0, 1);
  if (notation == DecimalNotation::kIndonesian) {
    std::erase(formatted, '.');
    std::erase(expected, '.');
  }
  FUZZ_CHECK(formatted == expected, absl::StrCat("'", Absl(text), "' formats back as '", formatted, "'"));

  for (int digits = 0; digits <= fraction_digits + 1 && digits <= 20; ++digits) CheckRounding(value, digits);
}

std::optional<Ratio> ParseAndCheck(std::string_view text, DecimalNotation notation) {
  absl::StatusOr<Ratio> value = ledger::domain::ParseDecimal(text, notation, kField);
  if (!value.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(value.status()), value.status().ToString());
    FUZZ_CHECK(absl::StartsWith(value.status().message(), absl::StrCat(Absl(kField), ": ")),
               value.status().ToString());
    FUZZ_CHECK(fuzz::IsSafeMessage(std::string_view(value.status().message().data(), value.status().message().size())),
               value.status().ToString());
    return std::nullopt;
  }
  CheckAccepted(text, notation, *value);
  return *value;
}

void CheckArithmetic(const Ratio& a, const Ratio& b) {
  const std::string both = absl::StrCat(Show(a), " and ", Show(b));
  // Comparison is a total order consistent with equality.
  FUZZ_CHECK((a < b) + (a == b) + (a > b) == 1, both);
  FUZZ_CHECK((a < b) == (b > a), both);

  absl::StatusOr<Ratio> sum = a.Add(b);
  absl::StatusOr<Ratio> sum_swapped = b.Add(a);
  FUZZ_CHECK(sum.ok() == sum_swapped.ok(), both);
  if (sum.ok()) {
    CheckInvariant(*sum, "Add");
    FUZZ_CHECK(*sum == *sum_swapped, absl::StrCat("a + b != b + a for ", both));
    absl::StatusOr<Ratio> back = sum->Subtract(b);
    if (back.ok()) {
      FUZZ_CHECK(*back == a, absl::StrCat("a + b - b = ", Show(*back), " for ", both));
    }
  } else {
    FUZZ_CHECK(absl::IsOutOfRange(sum.status()), sum.status().ToString());
  }

  absl::StatusOr<Ratio> difference = b.Subtract(a);
  if (difference.ok()) {
    CheckInvariant(*difference, "Subtract");
    FUZZ_CHECK((difference->sign() > 0) == (a < b), absl::StrCat("sign of b - a disagrees with a < b: ", both));
    FUZZ_CHECK((difference->sign() == 0) == (a == b), both);
  }

  absl::StatusOr<Ratio> product = a.Multiply(b);
  absl::StatusOr<Ratio> product_swapped = b.Multiply(a);
  FUZZ_CHECK(product.ok() == product_swapped.ok(), both);
  if (product.ok()) {
    CheckInvariant(*product, "Multiply");
    FUZZ_CHECK(*product == *product_swapped, absl::StrCat("a * b != b * a for ", both));
    if (!b.IsZero()) {
      // a fits, so (a * b) / b must succeed (exact.h: Divide fails only when
      // the exact result does not fit).
      absl::StatusOr<Ratio> quotient = product->Divide(b);
      FUZZ_CHECK(quotient.ok(), absl::StrCat("(a * b) / b fails for ", both, ": ", quotient.status().ToString()));
      FUZZ_CHECK(*quotient == a, absl::StrCat("(a * b) / b = ", Show(*quotient), " for ", both));
    }
  } else {
    FUZZ_CHECK(absl::IsOutOfRange(product.status()), product.status().ToString());
  }

  absl::StatusOr<Ratio> quotient = a.Divide(b);
  if (b.IsZero()) {
    FUZZ_CHECK(absl::IsInvalidArgument(quotient.status()), both);
  } else if (quotient.ok()) {
    CheckInvariant(*quotient, "Divide");
    absl::StatusOr<Ratio> back = quotient->Multiply(b);
    FUZZ_CHECK(back.ok() && *back == a, absl::StrCat("(a / b) * b != a for ", both));
  }
  absl::StatusOr<Ratio> percent = ledger::domain::PercentOf(a, b);
  FUZZ_CHECK(percent.ok() || !b.IsZero() || absl::IsInvalidArgument(percent.status()), both);
  for (int digits : {0, 2, ledger::domain::kMaxPresentationDigits}) {
    CheckRounding(a, digits);
    (void)ledger::domain::FormatRupiah(a);
    (void)ledger::domain::FormatIndonesian(a, digits, FractionStyle::kTrimTrailingZeros);
  }
}

int128 Int128At(const uint8_t* bytes) {
  uint64_t high = 0;
  uint64_t low = 0;
  std::memcpy(&high, bytes, 8);
  std::memcpy(&low, bytes + 8, 8);
  return static_cast<int128>(absl::MakeUint128(high, low));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input = fuzz::AsText(data, size);
  if (input.size() == 2 + 64 && input.substr(0, 2) == "R:") {
    const uint8_t* raw = data + 2;
    absl::StatusOr<Ratio> a = Ratio::Create(Int128At(raw), Int128At(raw + 16));
    absl::StatusOr<Ratio> b = Ratio::Create(Int128At(raw + 32), Int128At(raw + 48));
    if (a.ok()) CheckInvariant(*a, "Create");
    if (b.ok()) CheckInvariant(*b, "Create");
    if (a.ok() && b.ok()) CheckArithmetic(*a, *b);
    return 0;
  }
  for (DecimalNotation notation : {DecimalNotation::kPlain, DecimalNotation::kIndonesian}) {
    ParseAndCheck(input, notation);
  }
  const size_t newline = input.find('\n');
  if (newline != std::string_view::npos) {
    for (DecimalNotation notation : {DecimalNotation::kPlain, DecimalNotation::kIndonesian}) {
      std::optional<Ratio> a = ParseAndCheck(input.substr(0, newline), notation);
      std::optional<Ratio> b = ParseAndCheck(input.substr(newline + 1), notation);
      if (a && b) CheckArithmetic(*a, *b);
    }
  }
  return 0;
}
