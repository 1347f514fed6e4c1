// Exact rationals, decimal parsing and presentation rounding; see exact.h.
//
// Overflow policy: every product and sum of int128 values is checked before
// it is computed (signed overflow of the underlying __int128 would be
// undefined behaviour). Magnitudes are handled as uint128, which always holds
// |x| because the Ratio invariant excludes Int128Min.
#include "ledger/domain/exact.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ledger/util/check.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"

namespace ledger::domain {
namespace {

using absl::int128;
using absl::uint128;

// The largest magnitude a Ratio component may have (Int128Max).
constexpr uint128 kMaxMagnitude = static_cast<uint128>(absl::Int128Max());

uint128 Magnitude(int128 value) {
  return value < 0 ? static_cast<uint128>(-value) : static_cast<uint128>(value);
}

// Precondition: magnitude <= kMaxMagnitude.
int128 WithSign(uint128 magnitude, bool negative) {
  const int128 value = static_cast<int128>(magnitude);
  return negative ? -value : value;
}

uint128 Gcd(uint128 a, uint128 b) {
  while (b != 0) {
    uint128 remainder = a % b;
    a = b;
    b = remainder;
  }
  return a;
}

// a * b if |a * b| <= Int128Max; nullopt otherwise.
std::optional<int128> CheckedMultiply(int128 a, int128 b) {
  const uint128 a_magnitude = Magnitude(a);
  const uint128 b_magnitude = Magnitude(b);
  if (a_magnitude != 0 && b_magnitude > kMaxMagnitude / a_magnitude) return std::nullopt;
  return WithSign(a_magnitude * b_magnitude, (a < 0) != (b < 0));
}

// a + b if |a + b| <= Int128Max; nullopt otherwise. Precondition: |a|, |b| <= Int128Max.
std::optional<int128> CheckedAdd(int128 a, int128 b) {
  const int128 max = absl::Int128Max();
  if (b > 0 && a > max - b) return std::nullopt;
  if (b < 0 && a < -max - b) return std::nullopt;
  return a + b;
}

absl::Status Overflow(std::string_view operation, const Ratio& a, const Ratio& b) {
  return absl::OutOfRangeError(absl::StrCat("Ratio::", Absl(operation), "(", a.ToString(), ", ",
                                            b.ToString(), "): result does not fit in 128 bits"));
}

// Decimal digits of `value`, without sign.
std::string DecimalDigits(uint128 value) {
  if (value == 0) return "0";
  std::string digits;
  while (value != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  std::reverse(digits.begin(), digits.end());
  return digits;
}

// 10^exponent for 0 <= exponent <= 38 (10^38 < 2^128).
uint128 PowerOfTen(int exponent) {
  uint128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// Compares n1/d1 with n2/d2 (d1, d2 > 0) without multiplying: compares the
// integer parts, then the reciprocals of the remainders, as a continued
// fraction. Returns -1, 0 or +1.
int CompareMagnitudes(uint128 n1, uint128 d1, uint128 n2, uint128 d2) {
  int direction = 1;  // flips each time the comparison moves to reciprocals
  while (true) {
    const uint128 whole1 = n1 / d1;
    const uint128 whole2 = n2 / d2;
    if (whole1 != whole2) return whole1 < whole2 ? -direction : direction;
    const uint128 remainder1 = n1 % d1;
    const uint128 remainder2 = n2 % d2;
    if (remainder1 == 0 || remainder2 == 0) {
      if (remainder1 == remainder2) return 0;
      return remainder1 == 0 ? -direction : direction;
    }
    // r1/d1 < r2/d2  <=>  d1/r1 > d2/r2.
    n1 = std::exchange(d1, remainder1);
    n2 = std::exchange(d2, remainder2);
    direction = -direction;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Ratio

Ratio Ratio::Reduced(int128 numerator, int128 denominator) {
  if (numerator == 0) return Ratio();
  const bool negative = (numerator < 0) != (denominator < 0);
  uint128 numerator_magnitude = Magnitude(numerator);
  uint128 denominator_magnitude = Magnitude(denominator);
  const uint128 divisor = Gcd(numerator_magnitude, denominator_magnitude);
  numerator_magnitude /= divisor;
  denominator_magnitude /= divisor;
  return Ratio(WithSign(numerator_magnitude, negative),
               static_cast<int128>(denominator_magnitude));
}

Ratio Ratio::FromInteger(int64_t value) { return Ratio(value, 1); }

absl::StatusOr<Ratio> Ratio::Create(int128 numerator, int128 denominator) {
  if (denominator == 0) return absl::InvalidArgumentError("Ratio::Create: denominator is zero");
  if (numerator == absl::Int128Min() || denominator == absl::Int128Min()) {
    return absl::OutOfRangeError("Ratio::Create: Int128Min is outside the supported range");
  }
  return Reduced(numerator, denominator);
}

int Ratio::sign() const {
  if (numerator_ == 0) return 0;
  return numerator_ < 0 ? -1 : 1;
}

Ratio Ratio::Negated() const { return Ratio(-numerator_, denominator_); }

Ratio Ratio::Abs() const { return numerator_ < 0 ? Negated() : *this; }

// a/b + c/d with g = gcd(b, d): t = a(d/g) + c(b/g), g2 = gcd(t, g), and the
// reduced result is (t/g2) / ((b/g)(d/g2)) (Knuth, TAOCP 4.5.1). The
// denominator is final, so its overflow is real; t can exceed the final
// numerator by the factor g2, so rarely a representable sum is refused.
absl::StatusOr<Ratio> Ratio::Add(const Ratio& other) const {
  const int128 divisor = static_cast<int128>(Gcd(static_cast<uint128>(denominator_),
                                                 static_cast<uint128>(other.denominator_)));
  const int128 this_cofactor = denominator_ / divisor;
  const int128 other_cofactor = other.denominator_ / divisor;
  const std::optional<int128> left = CheckedMultiply(numerator_, other_cofactor);
  const std::optional<int128> right = CheckedMultiply(other.numerator_, this_cofactor);
  if (!left || !right) return Overflow("Add", *this, other);
  const std::optional<int128> sum = CheckedAdd(*left, *right);
  if (!sum) return Overflow("Add", *this, other);
  if (*sum == 0) return Ratio();
  const int128 divisor2 =
      static_cast<int128>(Gcd(Magnitude(*sum), static_cast<uint128>(divisor)));
  const std::optional<int128> denominator =
      CheckedMultiply(this_cofactor, other.denominator_ / divisor2);
  if (!denominator) return Overflow("Add", *this, other);
  return Ratio(*sum / divisor2, *denominator);
}

absl::StatusOr<Ratio> Ratio::Subtract(const Ratio& other) const {
  absl::StatusOr<Ratio> result = Add(other.Negated());
  if (!result.ok()) return Overflow("Subtract", *this, other);
  return result;
}

// (a/b)(c/d) = ((a/g1)(c/g2)) / ((b/g2)(d/g1)) with g1 = gcd(a, d), g2 =
// gcd(c, b): already reduced, so an overflow means the result does not fit.
absl::StatusOr<Ratio> Ratio::Multiply(const Ratio& other) const {
  if (IsZero() || other.IsZero()) return Ratio();
  const int128 divisor1 = static_cast<int128>(
      Gcd(Magnitude(numerator_), static_cast<uint128>(other.denominator_)));
  const int128 divisor2 = static_cast<int128>(
      Gcd(Magnitude(other.numerator_), static_cast<uint128>(denominator_)));
  const std::optional<int128> numerator =
      CheckedMultiply(numerator_ / divisor1, other.numerator_ / divisor2);
  const std::optional<int128> denominator =
      CheckedMultiply(denominator_ / divisor2, other.denominator_ / divisor1);
  if (!numerator || !denominator) return Overflow("Multiply", *this, other);
  return Ratio(*numerator, *denominator);
}

absl::StatusOr<Ratio> Ratio::Divide(const Ratio& divisor) const {
  if (divisor.IsZero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Ratio::Divide(", ToString(), ", 0/1): division by zero"));
  }
  const Ratio reciprocal = divisor.numerator_ < 0
                               ? Ratio(-divisor.denominator_, -divisor.numerator_)
                               : Ratio(divisor.denominator_, divisor.numerator_);
  absl::StatusOr<Ratio> result = Multiply(reciprocal);
  if (!result.ok()) return Overflow("Divide", *this, divisor);
  return result;
}

std::string Ratio::ToString() const {
  return absl::StrCat(numerator_ < 0 ? "-" : "", DecimalDigits(Magnitude(numerator_)), "/",
                      DecimalDigits(static_cast<uint128>(denominator_)));
}

std::strong_ordering operator<=>(const Ratio& a, const Ratio& b) {
  if (a.sign() != b.sign()) return a.sign() <=> b.sign();
  if (a.sign() == 0) return std::strong_ordering::equal;
  int magnitude_order =
      CompareMagnitudes(Magnitude(a.numerator_), static_cast<uint128>(a.denominator_),
                        Magnitude(b.numerator_), static_cast<uint128>(b.denominator_));
  if (a.sign() < 0) magnitude_order = -magnitude_order;
  return magnitude_order <=> 0;
}

// ---------------------------------------------------------------------------
// Parsing

namespace {

// Untrusted text is quoted escaped and shortened in error messages.
constexpr size_t kMaxQuotedTextBytes = 64;

absl::Status ParseError(std::string_view field_name, std::string_view text,
                        std::string_view reason) {
  const bool shortened = text.size() > kMaxQuotedTextBytes;
  const std::string quoted = absl::CHexEscape(Absl(text.substr(0, kMaxQuotedTextBytes)));
  return absl::InvalidArgumentError(absl::StrCat(Absl(field_name), ": ", Absl(reason), " in \"",
                                                 quoted, shortened ? "...\"" : "\""));
}

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Removes Indonesian thousands separators from an integer part: either none
// are present, or the first group has 1..3 digits and every other group
// exactly 3. Returns nullopt when the grouping is wrong.
std::optional<std::string> UngroupIndonesian(std::string_view integer_text) {
  if (integer_text.find('.') == std::string_view::npos) return std::string(integer_text);
  std::string digits;
  size_t group_start = 0;
  bool first_group = true;
  while (true) {
    const size_t dot = integer_text.find('.', group_start);
    const std::string_view group = integer_text.substr(
        group_start, dot == std::string_view::npos ? std::string_view::npos : dot - group_start);
    const bool size_ok = first_group ? (!group.empty() && group.size() <= 3) : group.size() == 3;
    if (!size_ok || !AllDigits(group)) return std::nullopt;
    digits.append(group);
    if (dot == std::string_view::npos) return digits;
    group_start = dot + 1;
    first_group = false;
  }
}

}  // namespace

absl::StatusOr<Ratio> ParseDecimal(std::string_view text, DecimalNotation notation,
                                   std::string_view field_name) {
  std::string_view rest = text;
  const bool negative = !rest.empty() && rest.front() == '-';
  if (negative) rest.remove_prefix(1);
  if (rest.empty()) return ParseError(field_name, text, "empty number");

  const char decimal_separator = notation == DecimalNotation::kPlain ? '.' : ',';
  const size_t separator_at = rest.find(decimal_separator);
  const std::string_view integer_text = rest.substr(0, separator_at);
  const bool has_fraction = separator_at != std::string_view::npos;
  const std::string_view fraction_text =
      has_fraction ? rest.substr(separator_at + 1) : std::string_view();

  std::string integer_digits;
  if (notation == DecimalNotation::kIndonesian) {
    std::optional<std::string> ungrouped = UngroupIndonesian(integer_text);
    if (!ungrouped) {
      return ParseError(field_name, text,
                        "malformed integer part (thousands groups of exactly 3 digits "
                        "separated by '.', decimal separator ',')");
    }
    integer_digits = *std::move(ungrouped);
  } else {
    integer_digits = std::string(integer_text);
  }
  if (integer_digits.empty()) return ParseError(field_name, text, "missing integer part");
  if (!AllDigits(integer_digits)) {
    return ParseError(field_name, text, "unexpected character in integer part");
  }
  if (integer_digits.size() > 1 && integer_digits.front() == '0') {
    return ParseError(field_name, text, "leading zero in integer part");
  }
  if (integer_digits.size() > static_cast<size_t>(kMaxIntegerDigits)) {
    return ParseError(field_name, text,
                      absl::StrCat("more than ", kMaxIntegerDigits, " integer digits"));
  }
  if (has_fraction && fraction_text.empty()) {
    return ParseError(field_name, text, "missing digits after the decimal separator");
  }
  if (!AllDigits(fraction_text)) {
    return ParseError(field_name, text, "unexpected character in fraction part");
  }
  if (fraction_text.size() > static_cast<size_t>(kMaxFractionDigits)) {
    return ParseError(field_name, text,
                      absl::StrCat("more than ", kMaxFractionDigits, " fraction digits"));
  }
  if (integer_digits.size() + fraction_text.size() > static_cast<size_t>(kMaxSignificantDigits)) {
    return ParseError(field_name, text,
                      absl::StrCat("more than ", kMaxSignificantDigits, " digits in total"));
  }

  // At most 38 digits: the scaled value fits (10^38 - 1 < Int128Max).
  uint128 scaled = 0;
  for (char digit : integer_digits) scaled = scaled * 10 + static_cast<unsigned>(digit - '0');
  for (char digit : fraction_text) scaled = scaled * 10 + static_cast<unsigned>(digit - '0');
  const uint128 scale = PowerOfTen(static_cast<int>(fraction_text.size()));
  return Ratio::Create(WithSign(scaled, negative), static_cast<int128>(scale));
}

// ---------------------------------------------------------------------------
// Rounding and presentation

namespace {

// |value| rounded half-up to `fraction_digits` digits, split at the point.
struct RoundedMagnitude {
  bool negative = false;   // false when the rounded value is zero
  uint128 integer_part = 0;
  uint128 fraction = 0;    // < 10^fraction_digits
};

// One step of long division: for remainder < divisor, returns
// floor(10 x remainder / divisor) and replaces remainder by
// (10 x remainder) mod divisor. Adds modulo divisor ten times instead of
// multiplying, because 10 x remainder may not fit in 128 bits.
int NextDigit(uint128& remainder, uint128 divisor) {
  int digit = 0;
  uint128 accumulated = 0;
  const uint128 headroom = divisor - remainder;  // > 0
  for (int i = 0; i < 10; ++i) {
    // accumulated + remainder >= divisor  <=>  accumulated >= divisor - remainder.
    if (accumulated >= headroom) {
      accumulated -= headroom;
      ++digit;
    } else {
      accumulated += remainder;
    }
  }
  remainder = accumulated;
  return digit;
}

RoundedMagnitude RoundMagnitude(const Ratio& value, int fraction_digits) {
  const uint128 numerator = Magnitude(value.numerator());
  const uint128 denominator = static_cast<uint128>(value.denominator());
  RoundedMagnitude rounded;
  rounded.integer_part = numerator / denominator;
  uint128 remainder = numerator % denominator;
  for (int i = 0; i < fraction_digits; ++i) {
    rounded.fraction = rounded.fraction * 10 + NextDigit(remainder, denominator);
  }
  // Half-up: round away from zero when remainder / denominator >= 1/2.
  // remainder > 0 implies denominator >= 2, so integer_part + 1 cannot overflow.
  if (remainder != 0 && remainder >= denominator - remainder) {
    if (++rounded.fraction == PowerOfTen(fraction_digits)) {
      rounded.fraction = 0;
      ++rounded.integer_part;
    }
  }
  rounded.negative = value.sign() < 0 && (rounded.integer_part != 0 || rounded.fraction != 0);
  return rounded;
}

void CheckPresentationDigits(int fraction_digits) {
  LEDGER_CHECK(fraction_digits >= 0 && fraction_digits <= kMaxPresentationDigits,
               "fraction_digits outside 0..kMaxPresentationDigits");
}

// "1077194452" -> "1.077.194.452".
std::string GroupThousands(const std::string& digits, char separator) {
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) grouped.push_back(separator);
    grouped.push_back(digits[i]);
  }
  return grouped;
}

struct Notation {
  char decimal_separator;
  char thousands_separator;  // '\0': no grouping
  std::string_view prefix;   // after the sign: "Rp"
};

std::string Format(const Ratio& value, int fraction_digits, FractionStyle style,
                   const Notation& notation) {
  CheckPresentationDigits(fraction_digits);
  const RoundedMagnitude rounded = RoundMagnitude(value, fraction_digits);
  std::string integer_text = DecimalDigits(rounded.integer_part);
  if (notation.thousands_separator != '\0') {
    integer_text = GroupThousands(integer_text, notation.thousands_separator);
  }
  std::string fraction_text;
  if (fraction_digits > 0) {
    fraction_text = DecimalDigits(rounded.fraction);
    fraction_text.insert(0, static_cast<size_t>(fraction_digits) - fraction_text.size(), '0');
  }
  if (style == FractionStyle::kTrimTrailingZeros) {
    while (!fraction_text.empty() && fraction_text.back() == '0') fraction_text.pop_back();
  }
  std::string result = absl::StrCat(rounded.negative ? "-" : "", Absl(notation.prefix),
                                    integer_text);
  if (!fraction_text.empty()) {
    result.push_back(notation.decimal_separator);
    result.append(fraction_text);
  }
  return result;
}

}  // namespace

absl::StatusOr<int128> RoundHalfUp(const Ratio& value, int fraction_digits) {
  if (fraction_digits < 0 || fraction_digits > kMaxPresentationDigits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RoundHalfUp: fraction_digits ", fraction_digits, " outside 0..",
                     kMaxPresentationDigits));
  }
  const RoundedMagnitude rounded = RoundMagnitude(value, fraction_digits);
  const uint128 scale = PowerOfTen(fraction_digits);
  const bool fits = rounded.integer_part <= (kMaxMagnitude - rounded.fraction) / scale;
  if (!fits) {
    return absl::OutOfRangeError(absl::StrCat("RoundHalfUp(", value.ToString(), ", ",
                                              fraction_digits,
                                              "): scaled value does not fit in 128 bits"));
  }
  return WithSign(rounded.integer_part * scale + rounded.fraction, rounded.negative);
}

std::string FormatPlain(const Ratio& value, int fraction_digits, FractionStyle style) {
  return Format(value, fraction_digits, style, Notation{'.', '\0', ""});
}

std::string FormatIndonesian(const Ratio& value, int fraction_digits, FractionStyle style) {
  return Format(value, fraction_digits, style, Notation{',', '.', ""});
}

std::string FormatRupiah(const Ratio& amount) {
  return Format(amount, 2, FractionStyle::kFixed, Notation{',', '.', "Rp"});
}

absl::StatusOr<Ratio> PercentOf(const Ratio& part, const Ratio& whole) {
  if (whole.IsZero()) {
    return absl::InvalidArgumentError(
        absl::StrCat("PercentOf(", part.ToString(), ", 0/1): whole is zero"));
  }
  ASSIGN_OR_RETURN(const Ratio fraction, part.Divide(whole));
  return fraction.Multiply(Ratio::FromInteger(100));
}

std::string FormatPercentIndonesian(const Ratio& percent) {
  return absl::StrCat(FormatIndonesian(percent, 2), "%");
}

}  // namespace ledger::domain
