// Times as ledgerctl shows and reads them. People read Western Indonesia Time
// (WIB, UTC+7, no daylight saving); scripts get RFC 3339 UTC.
#ifndef CLIENTS_LEDGERCTL_TIMES_H_
#define CLIENTS_LEDGERCTL_TIMES_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace ledgerctl {

// "2024-07-01 17:00:05.123 WIB"
std::string FormatWib(int64_t unix_micros);
// "2024-07-01T10:00:05.123456Z"
std::string FormatUtc(int64_t unix_micros);

// Accepts RFC 3339 ("2024-07-01T10:00:00Z", "2024-07-01T17:00:00+07:00") and
// local WIB forms without a zone ("2024-07-01 17:00", "2024-07-01 17:00:05",
// "2024-07-01T17:00", "2024-07-01"). Throws a usage error otherwise.
absl::Time ParseTimeArg(const std::string& text);

}  // namespace ledgerctl

#endif  // CLIENTS_LEDGERCTL_TIMES_H_
