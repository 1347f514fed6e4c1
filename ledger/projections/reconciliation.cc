// Reconciliation of declared figures with recomputed ones; see reconciliation.h.
#include "ledger/projections/reconciliation.h"

#include "absl/strings/str_cat.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"

namespace ledger::projections {
namespace {

int DecimalsOf(std::string_view text) {
  const size_t dot = text.find('.');
  return dot == std::string_view::npos ? 0 : static_cast<int>(text.size() - dot - 1);
}

absl::int128 PowerOfTen(int exponent) {
  absl::int128 result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// Whether `recomputed` rounded to `decimals` equals the declared value.
absl::StatusOr<bool> AgreesAfterRounding(const Ratio& recomputed, const Ratio& declared, int decimals) {
  ASSIGN_OR_RETURN(absl::int128 rounded, domain::RoundHalfUp(recomputed, decimals));
  ASSIGN_OR_RETURN(Ratio scale, Ratio::Create(PowerOfTen(decimals), 1));
  ASSIGN_OR_RETURN(Ratio scaled, declared.Multiply(scale));
  return scaled.IsInteger() && scaled.numerator() == rounded;
}

absl::StatusOr<std::optional<Discrepancy>> Check(const std::map<std::string, const Figure*>& figures,
                                                 const sakip::v1::DeclaredFigure& declared) {
  Discrepancy discrepancy;
  discrepancy.key = declared.key();
  discrepancy.declared = declared.value();
  discrepancy.declared_decimals = DecimalsOf(declared.value());
  auto it = figures.find(std::string(CanonicalKey(declared.key())));
  if (it == figures.end()) {
    discrepancy.kind = Discrepancy::Kind::kUnknownKey;
    discrepancy.formula = "no such figure in the report";
    return std::optional<Discrepancy>(std::move(discrepancy));
  }
  const Figure& figure = *it->second;
  discrepancy.formula = figure.formula;
  discrepancy.event_ids = figure.event_ids;
  if (!figure.value.has_value()) {
    discrepancy.kind = Discrepancy::Kind::kNotComputable;
    return std::optional<Discrepancy>(std::move(discrepancy));
  }
  ASSIGN_OR_RETURN(Ratio value, domain::ParseDecimal(declared.value(), domain::DecimalNotation::kPlain,
                                                     absl::StrCat("declared ", declared.key())));
  ASSIGN_OR_RETURN(bool agrees, AgreesAfterRounding(*figure.value, value, discrepancy.declared_decimals));
  if (agrees) return std::optional<Discrepancy>();
  discrepancy.kind = Discrepancy::Kind::kDiffers;
  discrepancy.recomputed = figure.value;
  discrepancy.recomputed_exact = ExactText(*figure.value);
  discrepancy.recomputed_rounded = domain::FormatPlain(*figure.value, discrepancy.declared_decimals);
  return std::optional<Discrepancy>(std::move(discrepancy));
}

}  // namespace

std::string_view CanonicalKey(std::string_view key) { return key.substr(0, key.find('#')); }

absl::StatusOr<Reconciliation> Reconcile(const UnitYearState& state, std::string_view report_id) {
  auto it = state.reports().find(std::string(report_id));
  if (it == state.reports().end()) {
    return absl::NotFoundError(absl::StrCat("report_id: \"", Absl(report_id), "\" was not submitted"));
  }
  const sakip::v1::ReportSubmitted& submitted = it->second.details;
  ASSIGN_OR_RETURN(QuarterlyReport report, ComputeReport(state, submitted.quarter()));
  const std::map<std::string, const Figure*> figures = IndexFigures(report);
  Reconciliation result;
  result.report_id = submitted.report_id();
  result.quarter = submitted.quarter();
  result.as_of_position = state.last_position();
  for (const auto& declared : submitted.declared()) {
    ASSIGN_OR_RETURN(std::optional<Discrepancy> discrepancy, Check(figures, declared));
    ++result.figures_checked;
    if (discrepancy.has_value()) {
      result.discrepancies.push_back(std::move(*discrepancy));
    } else {
      ++result.figures_agreeing;
    }
  }
  return result;
}

absl::StatusOr<Reconciliation> ReconcileAsSubmitted(const std::vector<DomainEvent>& events,
                                                    std::string_view report_id) {
  UnitYearState state;
  for (const DomainEvent& event : events) {
    RETURN_IF_ERROR(state.Apply(event));
    if (state.reports().contains(std::string(report_id))) return Reconcile(state, report_id);
  }
  return absl::NotFoundError(absl::StrCat("report_id: \"", Absl(report_id), "\" was not submitted"));
}

}  // namespace ledger::projections
