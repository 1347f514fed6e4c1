// Indonesian government identifiers: NIP (civil servant number) and
// Kemendagri area codes. Pure functions; thread-safe.
//
// Error messages quote the untrusted text C-escaped and cut to 64 bytes
// ("...' when cut"), so that no newline, control character or unbounded
// input reaches a log or a client through them.
#ifndef LEDGER_DOMAIN_IDENTIFIERS_H_
#define LEDGER_DOMAIN_IDENTIFIERS_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ledger::domain {

// A NIP: 18 digits, YYYYMMDD YYYYMM G NNN = birth date, appointment year and
// month, gender (1 or 2), serial (001-999). Spaces between the groups, as
// printed ("19730415 199803 1 011"), are accepted. Returns the 18 digits.
// InvalidArgument names `field` and what is wrong (shape, a date, gender).
absl::StatusOr<std::string> NormalizeNip(std::string_view field, std::string_view nip);

// Levels of a Kemendagri area code.
enum class AreaLevel {
  kProvince = 1,     // "35"            (Jawa Timur)
  kRegency = 2,      // "35.08"         (Kabupaten Lumajang)
  kDistrict = 3,     // "35.08.19"      (Kecamatan Klakah)
  kVillage = 4,      // "35.08.19.2001" (Desa Kebonan)
};

// Checks `code` has the shape PP[.KK[.CC[.DDDD]]] with province 11-94 and
// non-zero parts, and returns its level.
absl::StatusOr<AreaLevel> ParseAreaCode(std::string_view field, std::string_view code);

// True if `code` is `prefix` or lies under it ("35.08.19" is under "35.08";
// "35.081" is not).
bool AreaCodeIsUnder(std::string_view code, std::string_view prefix);

// Checks that `date` is a real calendar date written YYYY-MM-DD (2024-07-03).
// InvalidArgument names `field`.
absl::Status CheckIsoDate(std::string_view field, std::string_view date);

}  // namespace ledger::domain

#endif  // LEDGER_DOMAIN_IDENTIFIERS_H_
