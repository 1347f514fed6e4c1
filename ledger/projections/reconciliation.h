// Reconciliation of a submitted report: each declared figure (key grammar in
// docs/DOMAIN-EVENTS.md, optional "#location" suffix) is compared with the
// figure ComputeReport recomputes for the report's quarter. A declared value
// agrees when the recomputed exact value, rounded half-up to the number of
// decimals the declared text has, equals it; otherwise it is a discrepancy
// with the formula, inputs and event ids behind the recomputed figure.
// Unknown keys and figures that cannot be recomputed are listed too.
#ifndef LEDGER_PROJECTIONS_RECONCILIATION_H_
#define LEDGER_PROJECTIONS_RECONCILIATION_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/projections/report.h"

namespace ledger::projections {

struct Discrepancy {
  enum class Kind {
    kDiffers,         // the rounded recomputed value is not the declared one
    kUnknownKey,      // the key names no figure of the report
    kNotComputable,   // the figure exists but has no value (e.g. not reported)
  };
  Kind kind = Kind::kDiffers;
  std::string key;            // as declared, with its "#location"
  std::string declared;       // the declared text
  int declared_decimals = 0;
  std::optional<Ratio> recomputed;   // exact
  std::string recomputed_exact;      // ExactText(recomputed)
  std::string recomputed_rounded;    // to declared_decimals, plain notation
  std::string formula;               // with its inputs
  std::vector<std::string> event_ids;
};

struct Reconciliation {
  std::string report_id;
  int quarter = 0;
  uint64_t as_of_position = 0;  // the state the figures were recomputed from
  int figures_checked = 0;
  int figures_agreeing = 0;
  std::vector<Discrepancy> discrepancies;  // in declaration order
};

// Reconciles report `report_id` against `state` as given (pass the state as
// of the submission to audit the report as published, or a later state to
// see how later corrections move the figures). NotFound if not submitted.
absl::StatusOr<Reconciliation> Reconcile(const UnitYearState& state, std::string_view report_id);

// Folds `events` up to and including the submission of `report_id` and
// reconciles against that state. NotFound if no such submission; any Apply
// error is returned.
absl::StatusOr<Reconciliation> ReconcileAsSubmitted(const std::vector<DomainEvent>& events,
                                                    std::string_view report_id);

// The key without its "#location" suffix.
std::string_view CanonicalKey(std::string_view key);

}  // namespace ledger::projections

#endif  // LEDGER_PROJECTIONS_RECONCILIATION_H_
