// Exact arithmetic of the ledger's domain: rationals, decimal parsing, and
// rounding for presentation only.
//
// Every SAKIP figure (target, realization, budget, capaian) is computed exactly
// as a Ratio and rounded only when it is printed. Floating point is never used.
// Example: indicator 2's realization is 12/36 = 1/3; its capaian
// (1/3 x 100) / 97.22 x 100 presents as 34,29, while the rounded 33.33 would
// give 34,28.
//
// Invariants of Ratio (established by every constructor and operation):
//   - gcd(|numerator|, denominator) == 1, denominator > 0, zero is 0/1;
//   - |numerator| <= Int128Max and denominator <= Int128Max, so the numerator
//     is never Int128Min and negation can never overflow.
//
// Errors: arithmetic whose exact result does not fit returns OutOfRange;
// division by zero and malformed text return InvalidArgument. Nothing wraps
// around silently.
//
// Rounding: half away from zero ("half-up" on magnitudes): 0.125 -> 0.13,
// -0.125 -> -0.13. SAKIP figures are nonnegative, where this is plain half-up.
// A value that rounds to zero prints without a sign ("0.00", never "-0.00").
//
// Thread-safety: Ratio is an immutable value; all functions are pure.
#ifndef LEDGER_DOMAIN_EXACT_H_
#define LEDGER_DOMAIN_EXACT_H_

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"

namespace ledger::domain {

// An exact rational number p/q on 128-bit integers; see the invariants above.
class Ratio {
 public:
  // Zero (0/1).
  Ratio() = default;

  // n/1. Never fails: every int64_t fits.
  static Ratio FromInteger(int64_t value);
  // numerator/denominator, normalized. InvalidArgument if denominator == 0;
  // OutOfRange if either is Int128Min (outside the invariant's range).
  static absl::StatusOr<Ratio> Create(absl::int128 numerator, absl::int128 denominator);

  absl::int128 numerator() const { return numerator_; }
  absl::int128 denominator() const { return denominator_; }  // always > 0

  bool IsZero() const { return numerator_ == 0; }
  bool IsInteger() const { return denominator_ == 1; }
  // -1, 0 or +1.
  int sign() const;

  // Never fails, by the invariant.
  Ratio Negated() const;
  Ratio Abs() const;

  // Checked arithmetic: OutOfRange when the exact result does not fit.
  // Multiply and Divide fail only then. Add and Subtract may also refuse, in
  // rare cases with both denominators near 2^127, a result that would fit
  // (an intermediate sum overflows); they never return a wrong value.
  absl::StatusOr<Ratio> Add(const Ratio& other) const;
  absl::StatusOr<Ratio> Subtract(const Ratio& other) const;
  absl::StatusOr<Ratio> Multiply(const Ratio& other) const;
  // Also InvalidArgument when `divisor` is zero.
  absl::StatusOr<Ratio> Divide(const Ratio& divisor) const;

  // Exact "p/q", always with the denominator: "1/3", "-7/2", "5/1", "0/1".
  std::string ToString() const;

  // Exact comparison; never overflows (compares continued fractions).
  friend bool operator==(const Ratio& a, const Ratio& b) = default;
  friend std::strong_ordering operator<=>(const Ratio& a, const Ratio& b);

 private:
  Ratio(absl::int128 numerator, absl::int128 denominator)
      : numerator_(numerator), denominator_(denominator) {}
  // Divides out the gcd and moves the sign to the numerator. Precondition:
  // denominator != 0 and neither argument is Int128Min.
  static Ratio Reduced(absl::int128 numerator, absl::int128 denominator);

  absl::int128 numerator_ = 0;
  absl::int128 denominator_ = 1;
};

inline const Ratio& Min(const Ratio& a, const Ratio& b) { return b < a ? b : a; }
inline const Ratio& Max(const Ratio& a, const Ratio& b) { return a < b ? b : a; }

// ---------------------------------------------------------------------------
// Parsing untrusted decimal text.
//
// The caller names the notation: "1.077" is 1077/1000 in kPlain and 1077 in
// kIndonesian. Rules common to both:
//   - optional leading '-' ("-0" is accepted and is zero); no '+', no spaces,
//     no exponent, no other characters;
//   - the integer part is required and has no leading zeros ("0.5" yes,
//     "05" and ".5" no); if a decimal separator is present it is followed by
//     1 to kMaxFractionDigits digits ("1." is rejected; "1.50" is fine);
//   - at most kMaxIntegerDigits integer digits and at most
//     kMaxSignificantDigits digits in total, so every accepted text is
//     represented exactly.
// kPlain:      digits, optional '.' and fraction: "-12.345", "37.84", "1077194452".
// kIndonesian: decimal separator ','; thousands separator '.', either absent
//              ("1077194452,00") or used everywhere with groups of exactly three
//              digits after a first group of one to three ("1.077.194.452,00",
//              "57,45"; "1.0771" and "1077.194" are rejected).
// Every error is InvalidArgument and its message starts with `field_name`.
enum class DecimalNotation { kPlain, kIndonesian };

inline constexpr int kMaxFractionDigits = 18;
inline constexpr int kMaxIntegerDigits = 30;
inline constexpr int kMaxSignificantDigits = 38;  // 10^38 - 1 < Int128Max

absl::StatusOr<Ratio> ParseDecimal(std::string_view text, DecimalNotation notation,
                                   std::string_view field_name);

// ---------------------------------------------------------------------------
// Rounding and presentation. Only here is precision lost.

// Presentations accept 0..kMaxPresentationDigits fraction digits; more is a
// programming error (checked, the process stops).
inline constexpr int kMaxPresentationDigits = 30;

// round(value x 10^fraction_digits), half away from zero, as an exact
// integer: RoundHalfUp(57.454..., 2) == 5745. InvalidArgument if
// fraction_digits is outside 0..kMaxPresentationDigits; OutOfRange if the
// scaled integer does not fit in int128.
absl::StatusOr<absl::int128> RoundHalfUp(const Ratio& value, int fraction_digits);

// Whether a presentation keeps all `fraction_digits` ("50,70") or drops
// trailing zeros and a then-empty separator ("50,7", "17").
enum class FractionStyle { kFixed, kTrimTrailingZeros };

// "57.45", "-0.50", "1077194452.00"; no grouping.
std::string FormatPlain(const Ratio& value, int fraction_digits,
                        FractionStyle style = FractionStyle::kFixed);

// "57,45", "1.077.194.452", "1.077.194.452,00", "-1.000": thousands '.',
// decimal ','.
std::string FormatIndonesian(const Ratio& value, int fraction_digits,
                             FractionStyle style = FractionStyle::kFixed);

// Rupiah, two fixed decimals: "Rp1.077.194.452,00"; negative as "-Rp1.000,00".
std::string FormatRupiah(const Ratio& amount);

// part / whole x 100, exact. InvalidArgument if whole is zero; OutOfRange on
// overflow. Capaian (higher is better) is PercentOf(realisasi, target).
absl::StatusOr<Ratio> PercentOf(const Ratio& part, const Ratio& whole);

// A percentage as the reports print it, two fixed decimals, with a '%' sign:
// "57,45%". For table cells without the sign use FormatIndonesian(percent, 2).
std::string FormatPercentIndonesian(const Ratio& percent);

}  // namespace ledger::domain

#endif  // LEDGER_DOMAIN_EXACT_H_
