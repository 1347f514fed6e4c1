// The authorization policy: which roles may take which action, and for which
// units (docs/ACCESS.md has the matrix as a table).
//
// Every RPC maps to one Action (services/ decides which; the authorization
// matrix test checks every method of every service against every role). An
// action is either unit-scoped (the unit, or unit prefix, the request names
// must lie in the principal's scope), needs a principal whose scope covers
// every unit (it reads or writes across units), or is open to every
// authenticated principal (tree heads and proofs: hashes, no content).
//
// Pure functions; thread-safe.
#ifndef LEDGER_AUTH_POLICY_H_
#define LEDGER_AUTH_POLICY_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ledger/auth/principals.h"
#include "sakip/v1/events.pb.h"

namespace ledger::auth {

enum class Action {
  // ReportService.RecordEvents, by event type (ActionForEvent).
  kRecordPlan,       // admin: agreement, goals, indicators, targets, programmes, budgets, villages
  kRecordOperation,  // operator: realizations, disbursements, checklist entries and their fixes
  kSubmitReport,     // signer
  kDisposeReport,    // supervisor
  // Reading one unit's reports: every role, in scope.
  kReadReport,       // GetReport, Reconcile
  // Auditing: inspector, in scope.
  kAudit,            // history, explain, diff, late entries, auditor bundles, denied attempts
  // Following units' events: inspector and system, in scope.
  kReadUnitEvents,   // Replay; ReadStream and GetEvent of a unit-year stream
  // The whole log across units: inspector, system, admin with scope "*".
  kReadWholeLog,     // ReadAll, Subscribe, ReadStream of a non-unit stream
  // Raw (non-SAKIP) appends: admin with scope "*".
  kAppendRaw,
  // Recomputing the chain and tree (expensive, content-free): inspector, admin.
  kVerifyLog,
  // Heads, signed heads, the public key, proofs: every authenticated principal.
  kReadTreeState,
  // AdminService: create, list and verify backups of the whole ledger: admin
  // with scope "*".
  kManageBackups,
};

std::string_view ActionName(Action action);

// The action that recording `event_case` needs.
Action ActionForEvent(sakip::v1::SakipEvent::EventCase event_case);

// OK if `principal` may take `action` for `unit` (a unit or village code, a
// code prefix, or empty when the action names no unit). Otherwise
// PermissionDenied naming the principal, its roles or scope, and what it
// lacked, e.g. "principal 'operator.klakah' (roles operator; scope 35.08.19)
// may not record a disposition: it needs the role supervisor".
absl::Status Authorize(const Principal& principal, Action action, std::string_view unit);

// The unit of a SAKIP unit-year stream id ("35.08.19/2024" -> "35.08.19"),
// or empty when the stream is not one.
std::string UnitOfStream(std::string_view stream_id);

}  // namespace ledger::auth

#endif  // LEDGER_AUTH_POLICY_H_
