// Minimal structured logging to stderr (abseil 20220623 has no absl/log).
//
// Thread-safety: each call writes one line with one fprintf, which stdio
// serializes.
#ifndef LEDGER_UTIL_LOG_H_
#define LEDGER_UTIL_LOG_H_

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace ledger {

template <typename... Args>
void LogLine(const char* level, const absl::FormatSpec<Args...>& format, const Args&... args) {
  std::string line = absl::StrFormat(format, args...);
  std::fprintf(stderr, "%s %s %s\n",
               absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone()).c_str(),
               level, line.c_str());
  std::fflush(stderr);
}

#define LEDGER_LOG_INFO(...) ::ledger::LogLine("INFO", __VA_ARGS__)
#define LEDGER_LOG_WARN(...) ::ledger::LogLine("WARN", __VA_ARGS__)
#define LEDGER_LOG_ERROR(...) ::ledger::LogLine("ERROR", __VA_ARGS__)

}  // namespace ledger

#endif  // LEDGER_UTIL_LOG_H_
