// The fold of one unit-year's SAKIP events; see unit_year_state.h.
// Each Apply* handler first validates everything (returning an error that
// names the field), then mutates; nothing is changed before the last check.
#include "ledger/projections/unit_year_state.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/domain/identifiers.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"

namespace ledger::projections {
namespace {

using domain::DecimalNotation;
using domain::ParseDecimal;
using sakip::v1::SakipEvent;

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": ", Absl(what)));
}

absl::Status Precondition(std::string_view field, std::string_view what) {
  return absl::FailedPreconditionError(absl::StrCat(Absl(field), ": ", Absl(what)));
}

std::string Quoted(std::string_view text) { return absl::StrCat("\"", Absl(text), "\""); }

absl::Status CheckQuarter(std::string_view field, int quarter) {
  if (quarter >= 1 && quarter <= kQuartersPerYear) return absl::OkStatus();
  return Invalid(field, absl::StrCat(quarter, " is outside 1..4"));
}

absl::Status CheckNonEmpty(std::string_view field, std::string_view value) {
  return value.empty() ? Invalid(field, "is required") : absl::OkStatus();
}

absl::StatusOr<Ratio> ParsePlain(std::string_view field, std::string_view text) {
  return ParseDecimal(text, DecimalNotation::kPlain, field);
}

absl::StatusOr<Ratio> ParsePositive(std::string_view field, std::string_view text) {
  ASSIGN_OR_RETURN(Ratio value, ParsePlain(field, text));
  if (value.sign() <= 0) return Invalid(field, absl::StrCat(Absl(text), " must be > 0"));
  return value;
}

absl::StatusOr<Ratio> ParseNonNegative(std::string_view field, std::string_view text) {
  ASSIGN_OR_RETURN(Ratio value, ParsePlain(field, text));
  if (value.sign() < 0) return Invalid(field, absl::StrCat(Absl(text), " must be >= 0"));
  return value;
}

EventRef RefOf(const DomainEvent& event) {
  return EventRef{event.position, event.event_id, event.actor};
}

// Whether the envelope must carry a reason: revisions, corrections, reversals.
bool NeedsReason(SakipEvent::EventCase kind) {
  return kind == SakipEvent::kTargetRevised || kind == SakipEvent::kRealizationCorrected ||
         kind == SakipEvent::kBudgetRevised || kind == SakipEvent::kDisbursementReversed;
}

absl::StatusOr<TargetSet> ParseTargets(
    std::string_view field, std::string_view annual,
    const google::protobuf::RepeatedPtrField<sakip::v1::QuarterTarget>& quarterly) {
  TargetSet targets;
  ASSIGN_OR_RETURN(targets.annual, ParsePositive(absl::StrCat(Absl(field), ".annual_target"), annual));
  for (int i = 0; i < quarterly.size(); ++i) {
    const std::string item = absl::StrCat(Absl(field), ".quarterly_targets[", i, "]");
    const auto& entry = quarterly[i];
    RETURN_IF_ERROR(CheckQuarter(item + ".quarter", entry.quarter()));
    auto& slot = targets.quarterly[entry.quarter() - 1];
    if (slot.has_value()) return Invalid(item + ".quarter", absl::StrCat(entry.quarter(), " is given twice"));
    ASSIGN_OR_RETURN(slot, ParsePositive(item + ".target", entry.target()));
  }
  return targets;
}

absl::StatusOr<Ratio> SumParts(std::string_view field,
                               const google::protobuf::RepeatedPtrField<sakip::v1::CountPart>& parts,
                               std::vector<std::string>& texts) {
  Ratio sum;
  for (int i = 0; i < parts.size(); ++i) {
    ASSIGN_OR_RETURN(Ratio part,
                     ParseNonNegative(absl::StrCat(Absl(field), "[", i, "].value"), parts[i].value()));
    ASSIGN_OR_RETURN(sum, sum.Add(part));
    texts.push_back(parts[i].value());
  }
  return sum;
}

absl::StatusOr<Measure> MeasureFromCounts(std::string_view field, const sakip::v1::Counts& counts,
                                          const Ratio& multiplier) {
  std::vector<std::string> numerator_texts;
  std::vector<std::string> denominator_texts;
  ASSIGN_OR_RETURN(Ratio numerator, SumParts(absl::StrCat(Absl(field), ".numerator_parts"),
                                             counts.numerator_parts(), numerator_texts));
  ASSIGN_OR_RETURN(Ratio denominator, SumParts(absl::StrCat(Absl(field), ".denominator_parts"),
                                               counts.denominator_parts(), denominator_texts));
  if (denominator.IsZero()) return Invalid(absl::StrCat(Absl(field), ".denominator_parts"), "sum is zero");
  ASSIGN_OR_RETURN(Ratio quotient, numerator.Divide(denominator));
  Measure measure;
  ASSIGN_OR_RETURN(measure.value, quotient.Multiply(multiplier));
  measure.numerator_sum = numerator;
  measure.denominator_sum = denominator;
  measure.text = absl::StrCat("(", absl::StrJoin(numerator_texts, " + "), ") / (",
                              absl::StrJoin(denominator_texts, " + "), ") x ",
                              domain::FormatPlain(multiplier, 18, domain::FractionStyle::kTrimTrailingZeros));
  return measure;
}

// The measure of a RealizationRecorded/Corrected, checked against the kind.
template <typename Message>
absl::StatusOr<Measure> MeasureOf(std::string_view field, const Message& message,
                                  const Indicator& indicator) {
  using Case = typename Message::MeasureCase;
  const bool ratio = indicator.kind == sakip::v1::RATIO_OF_COUNTS;
  if (message.measure_case() == Case::MEASURE_NOT_SET) return Invalid(field, "a value or counts is required");
  if (ratio && !message.has_counts()) {
    return Invalid(absl::StrCat(Absl(field), ".counts"),
                   absl::StrCat("required: indicator ", Absl(indicator.indicator_id), " is RATIO_OF_COUNTS"));
  }
  if (!ratio && message.has_counts()) {
    return Invalid(absl::StrCat(Absl(field), ".value"),
                   absl::StrCat("required: indicator ", Absl(indicator.indicator_id), " is PLAIN_VALUE"));
  }
  if (ratio) return MeasureFromCounts(absl::StrCat(Absl(field), ".counts"), message.counts(), indicator.ratio_multiplier);
  Measure measure;
  ASSIGN_OR_RETURN(measure.value, ParsePlain(absl::StrCat(Absl(field), ".value"), message.value()));
  measure.text = message.value();
  return measure;
}

}  // namespace

const Realization* UnitYearState::FindRealization(const std::string& indicator_id, int quarter) const {
  auto it = realizations_.find({indicator_id, quarter});
  return it == realizations_.end() ? nullptr : &it->second;
}

absl::Status UnitYearState::Apply(const DomainEvent& event) {
  RETURN_IF_ERROR(CheckEnvelope(event));
  RETURN_IF_ERROR(Dispatch(event));
  event_kinds_[event.event_id] = event.event.event_case();
  ++event_count_;
  last_position_ = event.position;
  return absl::OkStatus();
}

absl::Status UnitYearState::CheckEnvelope(const DomainEvent& event) const {
  RETURN_IF_ERROR(CheckNonEmpty("event_id", event.event_id));
  if (event_kinds_.contains(event.event_id)) {
    return Precondition("event_id", absl::StrCat(Quoted(event.event_id), " was already applied"));
  }
  if (event_count_ > 0 && event.position <= last_position_) {
    return Precondition("position", absl::StrCat(event.position, " is not after the last applied position ",
                                                 last_position_));
  }
  const SakipEvent& payload = event.event;
  const auto kind = payload.event_case();
  if (kind == SakipEvent::EVENT_NOT_SET) return Invalid("event", "no event is set");
  if (NeedsReason(kind) && event.reason.empty()) {
    return Invalid("reason", absl::StrCat("is required for ", EventTypeName(payload)));
  }
  if (!agreement_.has_value()) {
    if (kind == SakipEvent::kAgreementEstablished) return absl::OkStatus();
    return Precondition("event", absl::StrCat(EventTypeName(payload), " before AgreementEstablished"));
  }
  if (payload.unit_code() != agreement_->unit_code) {
    return Invalid("unit_code", absl::StrCat(Quoted(payload.unit_code()), " differs from the agreement's ",
                                             Quoted(agreement_->unit_code)));
  }
  if (payload.fiscal_year() != agreement_->fiscal_year) {
    return Invalid("fiscal_year", absl::StrCat(payload.fiscal_year(), " differs from the agreement's ",
                                               agreement_->fiscal_year));
  }
  return absl::OkStatus();
}

absl::Status UnitYearState::Dispatch(const DomainEvent& event) {
  switch (event.event.event_case()) {
    case SakipEvent::kAgreementEstablished: return ApplyAgreement(event);
    case SakipEvent::kStrategicGoalDefined: return ApplyGoal(event);
    case SakipEvent::kIndicatorDefined: return ApplyIndicator(event);
    case SakipEvent::kTargetRevised: return ApplyTargetRevised(event);
    case SakipEvent::kRealizationRecorded: return ApplyRealizationRecorded(event);
    case SakipEvent::kRealizationCorrected: return ApplyRealizationCorrected(event);
    case SakipEvent::kProgrammeDefined: return ApplyProgramme(event);
    case SakipEvent::kBudgetRevised: return ApplyBudgetRevised(event);
    case SakipEvent::kDisbursementRecorded: return ApplyDisbursement(event);
    case SakipEvent::kDisbursementReversed: return ApplyDisbursementReversed(event);
    case SakipEvent::kVillageRegistered: return ApplyVillage(event);
    case SakipEvent::kChecklistActivityDefined: return ApplyActivity(event);
    case SakipEvent::kChecklistEntryRecorded: return ApplyChecklistEntry(event);
    case SakipEvent::kReportSubmitted: return ApplyReportSubmitted(event);
    case SakipEvent::kReportDisposed: return ApplyReportDisposed(event);
    case SakipEvent::EVENT_NOT_SET: break;
  }
  return Invalid("event", "unknown event kind");
}

absl::Status UnitYearState::ApplyAgreement(const DomainEvent& event) {
  const auto& message = event.event.agreement_established();
  if (agreement_.has_value()) return Precondition("agreement_established", "the agreement is already established");
  ASSIGN_OR_RETURN(domain::AreaLevel level, domain::ParseAreaCode("unit_code", event.event.unit_code()));
  (void)level;
  if (event.event.fiscal_year() < 2000 || event.event.fiscal_year() > 2200) {
    return Invalid("fiscal_year", absl::StrCat(event.event.fiscal_year(), " is outside 2000..2200"));
  }
  RETURN_IF_ERROR(CheckNonEmpty("agreement_established.unit_name", message.unit_name()));
  ASSIGN_OR_RETURN(std::string nip, domain::NormalizeNip("agreement_established.head_nip", message.head_nip()));
  agreement_ = Agreement{event.event.unit_code(), event.event.fiscal_year(), std::move(nip), message, RefOf(event)};
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyGoal(const DomainEvent& event) {
  const auto& message = event.event.strategic_goal_defined();
  RETURN_IF_ERROR(CheckNonEmpty("strategic_goal_defined.goal_id", message.goal_id()));
  RETURN_IF_ERROR(CheckNonEmpty("strategic_goal_defined.name", message.name()));
  if (goals_.contains(message.goal_id())) {
    return Precondition("strategic_goal_defined.goal_id", absl::StrCat(Quoted(message.goal_id()), " is already defined"));
  }
  goals_[message.goal_id()] = Goal{message.goal_id(), message.name(), RefOf(event)};
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyIndicator(const DomainEvent& event) {
  const auto& message = event.event.indicator_defined();
  constexpr std::string_view kField = "indicator_defined";
  RETURN_IF_ERROR(CheckNonEmpty("indicator_defined.indicator_id", message.indicator_id()));
  RETURN_IF_ERROR(CheckNonEmpty("indicator_defined.name", message.name()));
  if (indicators_.contains(message.indicator_id())) {
    return Precondition("indicator_defined.indicator_id",
                        absl::StrCat(Quoted(message.indicator_id()), " is already defined"));
  }
  if (!goals_.contains(message.goal_id())) {
    return Precondition("indicator_defined.goal_id", absl::StrCat("unknown goal ", Quoted(message.goal_id())));
  }
  if (message.direction() == sakip::v1::DIRECTION_UNSPECIFIED) return Invalid("indicator_defined.direction", "is required");
  if (message.aggregation() == sakip::v1::AGGREGATION_UNSPECIFIED) return Invalid("indicator_defined.aggregation", "is required");
  if (message.kind() == sakip::v1::INDICATOR_KIND_UNSPECIFIED) return Invalid("indicator_defined.kind", "is required");
  Indicator indicator;
  if (message.kind() == sakip::v1::RATIO_OF_COUNTS) {
    ASSIGN_OR_RETURN(indicator.ratio_multiplier,
                     ParsePositive("indicator_defined.ratio_multiplier", message.ratio_multiplier()));
  }
  ASSIGN_OR_RETURN(indicator.target, ParseTargets(kField, message.annual_target(), message.quarterly_targets()));
  indicator.indicator_id = message.indicator_id();
  indicator.goal_id = message.goal_id();
  indicator.name = message.name();
  indicator.unit = message.unit();
  indicator.number = message.number();
  indicator.direction = message.direction();
  indicator.aggregation = message.aggregation();
  indicator.kind = message.kind();
  indicator.target_chain.push_back(RefOf(event));
  indicators_[indicator.indicator_id] = std::move(indicator);
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyTargetRevised(const DomainEvent& event) {
  const auto& message = event.event.target_revised();
  auto it = indicators_.find(message.indicator_id());
  if (it == indicators_.end()) {
    return Precondition("target_revised.indicator_id", absl::StrCat("unknown indicator ", Quoted(message.indicator_id())));
  }
  ASSIGN_OR_RETURN(TargetSet targets,
                   ParseTargets("target_revised", message.annual_target(), message.quarterly_targets()));
  it->second.target = std::move(targets);
  it->second.target_chain.push_back(RefOf(event));
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyRealizationRecorded(const DomainEvent& event) {
  const auto& message = event.event.realization_recorded();
  auto it = indicators_.find(message.indicator_id());
  if (it == indicators_.end()) {
    return Precondition("realization_recorded.indicator_id",
                        absl::StrCat("unknown indicator ", Quoted(message.indicator_id())));
  }
  RETURN_IF_ERROR(CheckQuarter("realization_recorded.quarter", message.quarter()));
  const RealizationKey key{message.indicator_id(), message.quarter()};
  if (realizations_.contains(key)) {
    return Precondition("realization_recorded.quarter",
                        absl::StrCat("indicator ", Quoted(key.first), " already has a realization for quarter ",
                                     key.second, " (recorded by ", Quoted(realizations_.at(key).chain.front().event_id),
                                     "); correct it with RealizationCorrected"));
  }
  ASSIGN_OR_RETURN(Measure measure, MeasureOf("realization_recorded", message, it->second));
  realizations_[key] = Realization{key.first, key.second, std::move(measure), {RefOf(event)}};
  realization_by_event_[event.event_id] = key;
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyRealizationCorrected(const DomainEvent& event) {
  const auto& message = event.event.realization_corrected();
  const std::string& target = message.corrects_event_id();
  auto kind = event_kinds_.find(target);
  if (kind == event_kinds_.end()) {
    return Precondition("realization_corrected.corrects_event_id", absl::StrCat("unknown event ", Quoted(target)));
  }
  if (kind->second != SakipEvent::kRealizationRecorded) {
    return Precondition("realization_corrected.corrects_event_id",
                        absl::StrCat("event ", Quoted(target), " is not a RealizationRecorded"));
  }
  Realization& realization = realizations_.at(realization_by_event_.at(target));
  const Indicator& indicator = indicators_.at(realization.indicator_id);
  ASSIGN_OR_RETURN(Measure measure, MeasureOf("realization_corrected", message, indicator));
  realization.measure = std::move(measure);
  realization.chain.push_back(RefOf(event));
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyProgramme(const DomainEvent& event) {
  const auto& message = event.event.programme_defined();
  RETURN_IF_ERROR(CheckNonEmpty("programme_defined.programme_id", message.programme_id()));
  if (programmes_.contains(message.programme_id())) {
    return Precondition("programme_defined.programme_id",
                        absl::StrCat(Quoted(message.programme_id()), " is already defined"));
  }
  for (int i = 0; i < message.indicator_ids_size(); ++i) {
    if (!indicators_.contains(message.indicator_ids(i))) {
      return Precondition(absl::StrCat("programme_defined.indicator_ids[", i, "]"),
                          absl::StrCat("unknown indicator ", Quoted(message.indicator_ids(i))));
    }
  }
  ASSIGN_OR_RETURN(Ratio allocation, ParseNonNegative("programme_defined.allocation", message.allocation()));
  Programme programme{message.programme_id(), message.name(), message.number(), allocation,
                      {message.indicator_ids().begin(), message.indicator_ids().end()}, {RefOf(event)}};
  programmes_[programme.programme_id] = std::move(programme);
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyBudgetRevised(const DomainEvent& event) {
  const auto& message = event.event.budget_revised();
  auto it = programmes_.find(message.programme_id());
  if (it == programmes_.end()) {
    return Precondition("budget_revised.programme_id", absl::StrCat("unknown programme ", Quoted(message.programme_id())));
  }
  ASSIGN_OR_RETURN(Ratio allocation, ParseNonNegative("budget_revised.allocation", message.allocation()));
  it->second.allocation = allocation;
  it->second.allocation_chain.push_back(RefOf(event));
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyDisbursement(const DomainEvent& event) {
  const auto& message = event.event.disbursement_recorded();
  if (!programmes_.contains(message.programme_id())) {
    return Precondition("disbursement_recorded.programme_id",
                        absl::StrCat("unknown programme ", Quoted(message.programme_id())));
  }
  RETURN_IF_ERROR(CheckQuarter("disbursement_recorded.quarter", message.quarter()));
  ASSIGN_OR_RETURN(Ratio amount, ParsePositive("disbursement_recorded.amount", message.amount()));
  if (!message.paid_on().empty()) {
    RETURN_IF_ERROR(domain::CheckIsoDate("disbursement_recorded.paid_on", message.paid_on()));
  }
  disbursement_by_event_[event.event_id] = disbursements_.size();
  disbursements_.push_back(Disbursement{message.programme_id(), message.quarter(), amount,
                                        message.document_ref(), RefOf(event), std::nullopt});
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyDisbursementReversed(const DomainEvent& event) {
  const std::string& target = event.event.disbursement_reversed().reverses_event_id();
  auto it = disbursement_by_event_.find(target);
  if (it == disbursement_by_event_.end()) {
    const bool known = event_kinds_.contains(target);
    return Precondition("disbursement_reversed.reverses_event_id",
                        absl::StrCat(known ? "event " : "unknown event ", Quoted(target),
                                     known ? " is not a DisbursementRecorded" : ""));
  }
  Disbursement& disbursement = disbursements_[it->second];
  if (disbursement.reversed_by.has_value()) {
    return Precondition("disbursement_reversed.reverses_event_id",
                        absl::StrCat("disbursement ", Quoted(target), " was already reversed by ",
                                     Quoted(disbursement.reversed_by->event_id)));
  }
  disbursement.reversed_by = RefOf(event);
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyVillage(const DomainEvent& event) {
  const auto& message = event.event.village_registered();
  constexpr std::string_view kCode = "village_registered.village_code";
  ASSIGN_OR_RETURN(domain::AreaLevel level, domain::ParseAreaCode(kCode, message.village_code()));
  if (level != domain::AreaLevel::kVillage) return Invalid(kCode, absl::StrCat(Quoted(message.village_code()), " is not a village code"));
  if (!domain::AreaCodeIsUnder(message.village_code(), agreement_->unit_code)) {
    return Invalid(kCode, absl::StrCat(Quoted(message.village_code()), " is not under the unit ", Quoted(agreement_->unit_code)));
  }
  if (villages_.contains(message.village_code())) {
    return Precondition(kCode, absl::StrCat(Quoted(message.village_code()), " is already registered"));
  }
  RETURN_IF_ERROR(CheckNonEmpty("village_registered.name", message.name()));
  villages_[message.village_code()] = Village{message.village_code(), message.name(), message.kind(), RefOf(event)};
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyActivity(const DomainEvent& event) {
  const auto& message = event.event.checklist_activity_defined();
  RETURN_IF_ERROR(CheckNonEmpty("checklist_activity_defined.activity_id", message.activity_id()));
  RETURN_IF_ERROR(CheckNonEmpty("checklist_activity_defined.name", message.name()));
  if (activities_.contains(message.activity_id())) {
    return Precondition("checklist_activity_defined.activity_id",
                        absl::StrCat(Quoted(message.activity_id()), " is already defined"));
  }
  activities_[message.activity_id()] =
      ChecklistActivity{message.activity_id(), message.number(), message.name(), RefOf(event)};
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyChecklistEntry(const DomainEvent& event) {
  const auto& message = event.event.checklist_entry_recorded();
  if (!activities_.contains(message.activity_id())) {
    return Precondition("checklist_entry_recorded.activity_id",
                        absl::StrCat("unknown activity ", Quoted(message.activity_id())));
  }
  // A malformed code is bad input before it is an unknown village.
  RETURN_IF_ERROR(
      domain::ParseAreaCode("checklist_entry_recorded.village_code", message.village_code())
          .status());
  if (!villages_.contains(message.village_code())) {
    return Precondition("checklist_entry_recorded.village_code",
                        absl::StrCat("unknown village ", Quoted(message.village_code())));
  }
  RETURN_IF_ERROR(CheckQuarter("checklist_entry_recorded.quarter", message.quarter()));
  checklist_entries_[{message.activity_id(), message.village_code(), message.quarter()}] =
      ChecklistEntry{message.done(), message.remark(), RefOf(event)};
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyReportSubmitted(const DomainEvent& event) {
  const auto& message = event.event.report_submitted();
  RETURN_IF_ERROR(CheckNonEmpty("report_submitted.report_id", message.report_id()));
  if (reports_.contains(message.report_id())) {
    return Precondition("report_submitted.report_id", absl::StrCat(Quoted(message.report_id()), " was already submitted"));
  }
  RETURN_IF_ERROR(CheckQuarter("report_submitted.quarter", message.quarter()));
  ASSIGN_OR_RETURN(std::string nip, domain::NormalizeNip("report_submitted.signer_nip", message.signer_nip()));
  (void)nip;
  if (!message.signed_on().empty()) {
    RETURN_IF_ERROR(domain::CheckIsoDate("report_submitted.signed_on", message.signed_on()));
  }
  for (int i = 0; i < message.declared_size(); ++i) {
    const std::string field = absl::StrCat("report_submitted.declared[", i, "]");
    RETURN_IF_ERROR(CheckNonEmpty(field + ".key", message.declared(i).key()));
    RETURN_IF_ERROR(ParsePlain(field + ".value", message.declared(i).value()).status());
  }
  reports_[message.report_id()] = SubmittedReport{message, RefOf(event), event.recorded_at, event.actor, {}};
  return absl::OkStatus();
}

absl::Status UnitYearState::ApplyReportDisposed(const DomainEvent& event) {
  const auto& message = event.event.report_disposed();
  auto it = reports_.find(message.report_id());
  if (it == reports_.end()) {
    return Precondition("report_disposed.report_id", absl::StrCat("report ", Quoted(message.report_id()), " was not submitted"));
  }
  if (message.options().empty()) return Invalid("report_disposed.options", "at least one option is required");
  bool other = false;
  for (int i = 0; i < message.options_size(); ++i) {
    if (message.options(i) == sakip::v1::DISPOSITION_OPTION_UNSPECIFIED) {
      return Invalid(absl::StrCat("report_disposed.options[", i, "]"), "is unspecified");
    }
    other = other || message.options(i) == sakip::v1::LAIN_LAIN;
  }
  if (other && message.note().empty()) return Invalid("report_disposed.note", "is required with LAIN_LAIN");
  ASSIGN_OR_RETURN(std::string nip, domain::NormalizeNip("report_disposed.supervisor_nip", message.supervisor_nip()));
  (void)nip;
  it->second.dispositions.push_back(Disposition{message, RefOf(event), event.recorded_at, event.actor});
  return absl::OkStatus();
}

}  // namespace ledger::projections
