// Implementation of the time helpers (see times.h).
#include "clients/ledgerctl/times.h"

#include "clients/ledgerctl/errors.h"

namespace ledgerctl {
namespace {

absl::TimeZone Wib() { return absl::FixedTimeZone(7 * 60 * 60); }

}  // namespace

std::string FormatWib(int64_t unix_micros) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%E3S WIB", absl::FromUnixMicros(unix_micros), Wib());
}

std::string FormatUtc(int64_t unix_micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

absl::Time ParseTimeArg(const std::string& text) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return time;
  if (absl::ParseTime("%Y-%m-%d %H:%M:%E*S%Ez", text, &time, &error)) return time;
  for (const char* format : {"%Y-%m-%d %H:%M:%E*S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%E*S",
                             "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, text, Wib(), &time, &error)) return time;
  }
  throw UsageError("TIME: '" + text +
                   "' is not a time; use RFC 3339 (2024-07-01T10:00:00Z) or WIB local time "
                   "(2024-07-01 17:00)");
}

}  // namespace ledgerctl
