#include "ledger/domain/identifiers.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "ledger/util/strings.h"

namespace ledger::domain {
namespace {

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": ", Absl(what)));
}

// Untrusted text in a message: quoted, C-escaped (no control characters or
// newlines reach a log or a terminal) and shortened, as ParseDecimal does.
constexpr size_t kMaxQuotedTextBytes = 64;

std::string Quoted(std::string_view text) {
  const bool shortened = text.size() > kMaxQuotedTextBytes;
  return absl::StrCat("'", absl::CHexEscape(Absl(text.substr(0, kMaxQuotedTextBytes))),
                      shortened ? "...'" : "'");
}

bool AllDigits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int ToInt(std::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// A real calendar date (CivilDay normalizes 1973-02-30 to March; reject that).
bool IsRealDate(int year, int month, int day) {
  absl::CivilDay civil(year, month, day);
  return civil.year() == year && civil.month() == month && civil.day() == day;
}

}  // namespace

absl::StatusOr<std::string> NormalizeNip(std::string_view field, std::string_view nip) {
  std::string digits;
  for (char c : nip) {
    if (c != ' ') digits.push_back(c);
  }
  if (digits.size() != 18 || !AllDigits(digits)) {
    return Invalid(field, "a NIP is 18 digits: YYYYMMDD YYYYMM G NNN");
  }
  std::string_view view = digits;
  int birth_year = ToInt(view.substr(0, 4));
  int birth_month = ToInt(view.substr(4, 2));
  int birth_day = ToInt(view.substr(6, 2));
  int appointed_year = ToInt(view.substr(8, 4));
  int appointed_month = ToInt(view.substr(12, 2));
  char gender = view[14];
  int serial = ToInt(view.substr(15, 3));
  if (birth_year < 1900 || birth_year > 2100 || !IsRealDate(birth_year, birth_month, birth_day)) {
    return Invalid(field, absl::StrCat("the birth date ", Absl(view.substr(0, 8)), " is not a date"));
  }
  if (appointed_year < 1900 || appointed_year > 2100 || appointed_month < 1 ||
      appointed_month > 12) {
    return Invalid(field,
                   absl::StrCat("the appointment month ", Absl(view.substr(8, 6)), " is not a month"));
  }
  if (absl::CivilMonth(appointed_year, appointed_month) <=
      absl::CivilMonth(birth_year, birth_month)) {
    return Invalid(field, "the appointment month is not after the birth date");
  }
  if (gender != '1' && gender != '2') {
    return Invalid(field, absl::StrCat("the gender digit is ", std::string(1, gender),
                                       "; it must be 1 or 2"));
  }
  if (serial == 0) return Invalid(field, "the serial number is 000");
  return digits;
}

absl::StatusOr<AreaLevel> ParseAreaCode(std::string_view field, std::string_view code) {
  std::vector<absl::string_view> parts = absl::StrSplit(Absl(code), '.');
  static constexpr size_t kWidths[] = {2, 2, 2, 4};
  if (code.empty() || parts.size() > 4) {
    return Invalid(field, "an area code is PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD");
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view part(parts[i].data(), parts[i].size());
    if (part.size() != kWidths[i] || !AllDigits(part) || ToInt(part) == 0) {
      return Invalid(field, absl::StrCat(Quoted(code), " is not an area code: part ", i + 1,
                                         " must be ", kWidths[i], " digits, not all zero"));
    }
  }
  int province = ToInt(std::string_view(parts[0].data(), parts[0].size()));
  if (province < 11 || province > 94) {
    return Invalid(field, absl::StrCat(Quoted(code), " names province ", province,
                                       ", which does not exist (11-94)"));
  }
  return static_cast<AreaLevel>(parts.size());
}

absl::Status CheckIsoDate(std::string_view field, std::string_view date) {
  bool shaped = date.size() == 10 && date[4] == '-' && date[7] == '-' &&
                AllDigits(date.substr(0, 4)) && AllDigits(date.substr(5, 2)) &&
                AllDigits(date.substr(8, 2));
  if (!shaped || !IsRealDate(ToInt(date.substr(0, 4)), ToInt(date.substr(5, 2)),
                             ToInt(date.substr(8, 2)))) {
    return Invalid(field, absl::StrCat(Quoted(date), " is not a date written YYYY-MM-DD"));
  }
  return absl::OkStatus();
}

bool AreaCodeIsUnder(std::string_view code, std::string_view prefix) {
  if (code.size() < prefix.size() || code.substr(0, prefix.size()) != prefix) return false;
  return code.size() == prefix.size() || code[prefix.size()] == '.';
}

}  // namespace ledger::domain
