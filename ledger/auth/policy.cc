#include "ledger/auth/policy.h"

#include "absl/strings/str_cat.h"
#include "ledger/domain/identifiers.h"
#include "ledger/util/strings.h"

namespace ledger::auth {
namespace {

using Case = sakip::v1::SakipEvent::EventCase;

// How an action's unit is checked.
enum class Reach {
  kInScope,      // the request's unit (or prefix) must lie in the principal's scope
  kEveryUnit,    // the principal's scope must be "*"
  kAnyScope,     // content-free: any scope
};

struct Rule {
  Action action;
  std::string_view description;  // completes "may not ..."
  uint32_t roles;
  Reach reach;
};

constexpr uint32_t Bit(Role role) { return 1u << static_cast<int>(role); }
constexpr uint32_t kEveryRole = (1u << kRoleCount) - 1;

// The matrix. docs/ACCESS.md shows the same table; keep them together.
constexpr Rule kRules[] = {
    {Action::kRecordPlan, "record agreements, indicators, targets, programmes or budgets",
     Bit(Role::kAdmin), Reach::kInScope},
    {Action::kRecordOperation, "record realizations, disbursements or checklist entries",
     Bit(Role::kOperator), Reach::kInScope},
    {Action::kSubmitReport, "submit a report", Bit(Role::kSigner), Reach::kInScope},
    {Action::kDisposeReport, "record a disposition", Bit(Role::kSupervisor), Reach::kInScope},
    {Action::kReadReport, "read reports", kEveryRole, Reach::kInScope},
    {Action::kAudit, "read audit trails", Bit(Role::kInspector), Reach::kInScope},
    {Action::kReadUnitEvents, "read or follow a unit's events",
     Bit(Role::kInspector) | Bit(Role::kSystem), Reach::kInScope},
    {Action::kReadWholeLog, "read the whole log across units",
     Bit(Role::kInspector) | Bit(Role::kSystem) | Bit(Role::kAdmin), Reach::kEveryUnit},
    {Action::kAppendRaw, "append raw events", Bit(Role::kAdmin), Reach::kEveryUnit},
    {Action::kVerifyLog, "verify the log", Bit(Role::kInspector) | Bit(Role::kAdmin),
     Reach::kAnyScope},
    {Action::kReadTreeState, "read tree heads and proofs", kEveryRole, Reach::kAnyScope},
    {Action::kManageBackups, "create, list or verify backups", Bit(Role::kAdmin), Reach::kEveryUnit},
};

const Rule& RuleFor(Action action) {
  for (const Rule& rule : kRules) {
    if (rule.action == action) return rule;
  }
  return kRules[0];  // unreachable: every Action has a rule (policy_test checks)
}

std::string RolesOf(uint32_t roles) {
  Principal named;
  named.roles = roles;
  return named.RolesText();
}

std::string Who(const Principal& principal) {
  return absl::StrCat("principal '", principal.name, "' (roles ", principal.RolesText(),
                      "; scope ", principal.ScopesText(), ")");
}

}  // namespace

std::string_view ActionName(Action action) { return RuleFor(action).description; }

Action ActionForEvent(Case event_case) {
  switch (event_case) {
    case Case::kRealizationRecorded:
    case Case::kRealizationCorrected:
    case Case::kDisbursementRecorded:
    case Case::kDisbursementReversed:
    case Case::kChecklistEntryRecorded: return Action::kRecordOperation;
    case Case::kReportSubmitted: return Action::kSubmitReport;
    case Case::kReportDisposed: return Action::kDisposeReport;
    case Case::kAgreementEstablished:
    case Case::kStrategicGoalDefined:
    case Case::kIndicatorDefined:
    case Case::kTargetRevised:
    case Case::kProgrammeDefined:
    case Case::kBudgetRevised:
    case Case::kVillageRegistered:
    case Case::kChecklistActivityDefined:
    case Case::EVENT_NOT_SET: break;
  }
  // Plan events, and anything new until it is classified: the narrowest role.
  return Action::kRecordPlan;
}

absl::Status Authorize(const Principal& principal, Action action, std::string_view unit) {
  const Rule& rule = RuleFor(action);
  if ((principal.roles & rule.roles) == 0) {
    return absl::PermissionDeniedError(absl::StrCat(Who(principal), " may not ", Absl(rule.description),
                                                    ": it needs the role ", RolesOf(rule.roles)));
  }
  switch (rule.reach) {
    case Reach::kAnyScope: return absl::OkStatus();
    case Reach::kEveryUnit:
      if (principal.CoversEveryUnit()) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(
          Who(principal), " may not ", Absl(rule.description), ": it needs the scope \"*\""));
    case Reach::kInScope:
      if (unit.empty() && principal.CoversEveryUnit()) return absl::OkStatus();
      if (unit.empty()) {
        return absl::PermissionDeniedError(absl::StrCat(
            Who(principal), " may not ", Absl(rule.description),
            " for every unit: name a unit or unit prefix within its scope"));
      }
      if (principal.Covers(unit)) return absl::OkStatus();
      return absl::PermissionDeniedError(absl::StrCat(Who(principal), " may not ",
                                                      Absl(rule.description), " for unit ", Absl(unit),
                                                      ": outside its scope"));
  }
  return absl::PermissionDeniedError("unknown action");
}

std::string UnitOfStream(std::string_view stream_id) {
  size_t slash = stream_id.find('/');
  if (slash == std::string_view::npos) return "";
  std::string_view unit = stream_id.substr(0, slash);
  std::string_view year = stream_id.substr(slash + 1);
  if (year.size() != 4) return "";
  for (char c : year) {
    if (c < '0' || c > '9') return "";
  }
  if (!domain::ParseAreaCode("stream_id", unit).ok()) return "";
  return std::string(unit);
}

}  // namespace ledger::auth
