// Invariant checks that stop the process.
//
// Untrusted input gets an absl::Status. A broken invariant of the ledger itself
// (a gap in positions, a chain that does not link) means the in-memory state
// can no longer be trusted: the process stops before it can write damage.
#ifndef LEDGER_UTIL_CHECK_H_
#define LEDGER_UTIL_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define LEDGER_CHECK(cond, msg)                                                    \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::fprintf(stderr, "FATAL %s:%d: invariant broken: %s (%s)\n", __FILE__, \
                   __LINE__, #cond, (msg));                                        \
      std::fflush(stderr);                                                         \
      std::abort();                                                                \
    }                                                                              \
  } while (0)

#endif  // LEDGER_UTIL_CHECK_H_
