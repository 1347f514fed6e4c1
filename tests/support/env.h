// Knobs the long-running cross-layer tests read from the environment, so that
// a manual run can go longer than CI's (docs/HARDENING.md lists them).
#ifndef TESTS_SUPPORT_ENV_H_
#define TESTS_SUPPORT_ENV_H_

#include <cstdlib>

namespace ledger::testing {

// The positive integer in environment variable `name`, or `fallback` when it
// is unset, empty, not a number or not positive.
inline int PositiveEnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  const int parsed = std::atoi(value);
  return parsed > 0 ? parsed : fallback;
}

}  // namespace ledger::testing

#endif  // TESTS_SUPPORT_ENV_H_
