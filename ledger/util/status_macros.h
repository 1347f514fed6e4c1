// Status propagation macros; abseil 20220623 (Debian 12) ships none.
#ifndef LEDGER_UTIL_STATUS_MACROS_H_
#define LEDGER_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define LEDGER_CONCAT_INNER_(a, b) a##b
#define LEDGER_CONCAT_(a, b) LEDGER_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                       \
  do {                                              \
    ::absl::Status ledger_status_ = (expr);         \
    if (!ledger_status_.ok()) return ledger_status_; \
  } while (0)

// ASSIGN_OR_RETURN(auto x, StatusOrExpr()): assigns the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  LEDGER_ASSIGN_OR_RETURN_IMPL_(LEDGER_CONCAT_(ledger_statusor_, __LINE__), lhs, expr)
#define LEDGER_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#endif  // LEDGER_UTIL_STATUS_MACROS_H_
