// HistoryFold: each event is described in two steps around the fold's Apply:
// Before() reads what the event is about to replace, After() reads the value
// the projections now hold. Both are pure reads of the state.
#include "ledger/audit/history.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ledger/projections/report.h"
#include "ledger/util/strings.h"

namespace ledger::audit {
namespace {

using projections::DomainEvent;
using projections::ExactText;
using projections::Realization;
using projections::UnitYearState;
using sakip::v1::SakipEvent;

std::string QuarterName(int quarter) { return absl::StrCat("TW ", quarter); }

std::string QuarterTargetsText(const projections::TargetSet& targets) {
  std::vector<std::string> parts;
  for (int q = 1; q <= projections::kQuartersPerYear; ++q) {
    if (targets.quarterly[q - 1].has_value()) {
      parts.push_back(absl::StrCat("q", q, "=", ExactText(*targets.quarterly[q - 1])));
    }
  }
  return absl::StrJoin(parts, " ");
}

std::string MeasureText(const projections::Measure& measure) {
  if (!measure.numerator_sum.has_value()) return ExactText(measure.value);
  return absl::StrCat(ExactText(measure.value), " = ", measure.text);
}

std::string OptionsText(const google::protobuf::RepeatedField<int>& options) {
  std::vector<std::string> names;
  for (int option : options) {
    names.push_back(sakip::v1::DispositionOption_Name(static_cast<sakip::v1::DispositionOption>(option)));
  }
  return absl::StrJoin(names, ",");
}

const Realization* RealizationWithEvent(const UnitYearState& state, const std::string& event_id) {
  for (const auto& [key, realization] : state.realizations()) {
    for (const projections::EventRef& ref : realization.chain) {
      if (ref.event_id == event_id) return &realization;
    }
  }
  return nullptr;
}

const projections::Disbursement* DisbursementWithEvent(const UnitYearState& state,
                                                       const std::string& event_id) {
  for (const projections::Disbursement& disbursement : state.disbursements()) {
    if (disbursement.source.event_id == event_id) return &disbursement;
  }
  return nullptr;
}

// What the entry records before the event is applied: subjects, quarter, the
// event it refers to, and the old values.
void Before(const UnitYearState& state, const DomainEvent& event, HistoryEntry& entry) {
  const SakipEvent& e = event.event;
  switch (e.event_case()) {
    case SakipEvent::kAgreementEstablished:
      entry.subjects = {"agreement"};
      break;
    case SakipEvent::kStrategicGoalDefined:
      entry.subjects = {"goal/" + e.strategic_goal_defined().goal_id()};
      break;
    case SakipEvent::kIndicatorDefined:
      entry.subjects = {"indicator/" + e.indicator_defined().indicator_id(),
                        "goal/" + e.indicator_defined().goal_id()};
      break;
    case SakipEvent::kTargetRevised: {
      const std::string& id = e.target_revised().indicator_id();
      entry.subjects = {"indicator/" + id};
      if (auto it = state.indicators().find(id); it != state.indicators().end()) {
        entry.changes.push_back({"annual_target", ExactText(it->second.target.annual), ""});
        entry.changes.push_back({"quarterly_targets", QuarterTargetsText(it->second.target), ""});
      }
      break;
    }
    case SakipEvent::kRealizationRecorded: {
      const auto& message = e.realization_recorded();
      entry.subjects = {"indicator/" + message.indicator_id()};
      entry.quarter = message.quarter();
      break;
    }
    case SakipEvent::kRealizationCorrected: {
      const auto& message = e.realization_corrected();
      entry.refers_to_event_id = message.corrects_event_id();
      if (const Realization* realization = RealizationWithEvent(state, message.corrects_event_id())) {
        entry.subjects = {"indicator/" + realization->indicator_id};
        entry.quarter = realization->quarter;
        entry.changes.push_back({"realization", MeasureText(realization->measure), ""});
      }
      break;
    }
    case SakipEvent::kProgrammeDefined:
      entry.subjects = {"programme/" + e.programme_defined().programme_id()};
      for (const std::string& indicator : e.programme_defined().indicator_ids()) {
        entry.subjects.push_back("indicator/" + indicator);
      }
      break;
    case SakipEvent::kBudgetRevised: {
      const std::string& id = e.budget_revised().programme_id();
      entry.subjects = {"programme/" + id};
      if (auto it = state.programmes().find(id); it != state.programmes().end()) {
        entry.changes.push_back({"allocation", ExactText(it->second.allocation), ""});
      }
      break;
    }
    case SakipEvent::kDisbursementRecorded:
      entry.subjects = {"programme/" + e.disbursement_recorded().programme_id()};
      entry.quarter = e.disbursement_recorded().quarter();
      break;
    case SakipEvent::kDisbursementReversed: {
      const std::string& target = e.disbursement_reversed().reverses_event_id();
      entry.refers_to_event_id = target;
      if (const projections::Disbursement* disbursement = DisbursementWithEvent(state, target)) {
        entry.subjects = {"programme/" + disbursement->programme_id};
        entry.quarter = disbursement->quarter;
        entry.changes.push_back({"disbursement", ExactText(disbursement->amount), "0"});
      }
      break;
    }
    case SakipEvent::kVillageRegistered:
      entry.subjects = {"village/" + e.village_registered().village_code()};
      break;
    case SakipEvent::kChecklistActivityDefined:
      entry.subjects = {"activity/" + e.checklist_activity_defined().activity_id()};
      break;
    case SakipEvent::kChecklistEntryRecorded: {
      const auto& message = e.checklist_entry_recorded();
      entry.subjects = {"activity/" + message.activity_id(), "village/" + message.village_code()};
      entry.quarter = message.quarter();
      projections::ChecklistKey key{message.activity_id(), message.village_code(), message.quarter()};
      auto it = state.checklist_entries().find(key);
      const bool had = it != state.checklist_entries().end();
      entry.changes.push_back({"done", had ? (it->second.done ? "true" : "false") : "",
                               message.done() ? "true" : "false"});
      if (!message.remark().empty() || (had && !it->second.remark.empty())) {
        entry.changes.push_back({"remark", had ? it->second.remark : "", message.remark()});
      }
      break;
    }
    case SakipEvent::kReportSubmitted:
      entry.subjects = {"report/" + e.report_submitted().report_id()};
      entry.quarter = e.report_submitted().quarter();
      break;
    case SakipEvent::kReportDisposed: {
      const std::string& id = e.report_disposed().report_id();
      entry.subjects = {"report/" + id};
      if (auto it = state.reports().find(id); it != state.reports().end()) {
        entry.quarter = it->second.details.quarter();
        entry.refers_to_event_id = it->second.source.event_id;
        const auto& dispositions = it->second.dispositions;
        entry.changes.push_back(
            {"disposition", dispositions.empty() ? "" : OptionsText(dispositions.back().details.options()),
             OptionsText(e.report_disposed().options())});
        if (!e.report_disposed().note().empty()) {
          entry.changes.push_back({"note", dispositions.empty() ? "" : dispositions.back().details.note(),
                                   e.report_disposed().note()});
        }
      }
      break;
    }
    case SakipEvent::EVENT_NOT_SET:
      break;
  }
}

// Sets `field`'s new value (adding the change when Before found no old one).
void SetNew(HistoryEntry& entry, const std::string& field, std::string value) {
  for (ValueChange& change : entry.changes) {
    if (change.field == field) {
      change.new_value = std::move(value);
      return;
    }
  }
  entry.changes.push_back({field, "", std::move(value)});
}

std::string Arrow(const HistoryEntry& entry, const std::string& field) {
  for (const ValueChange& change : entry.changes) {
    if (change.field != field) continue;
    if (change.old_value.empty()) return change.new_value;
    return absl::StrCat(change.old_value, " -> ", change.new_value);
  }
  return "";
}

// The new values as the state now holds them, and the summary line.
void After(const UnitYearState& state, const DomainEvent& event, HistoryEntry& entry) {
  const SakipEvent& e = event.event;
  switch (e.event_case()) {
    case SakipEvent::kAgreementEstablished: {
      const auto& message = e.agreement_established();
      SetNew(entry, "head", absl::StrCat(message.head_name(), " (", message.head_title(), ")"));
      entry.summary = absl::StrCat("agreement established: ", message.unit_name());
      break;
    }
    case SakipEvent::kStrategicGoalDefined:
      SetNew(entry, "name", e.strategic_goal_defined().name());
      entry.summary = absl::StrCat("goal ", e.strategic_goal_defined().goal_id(), " defined");
      break;
    case SakipEvent::kIndicatorDefined:
    case SakipEvent::kTargetRevised: {
      const bool defined = e.has_indicator_defined();
      const std::string& id =
          defined ? e.indicator_defined().indicator_id() : e.target_revised().indicator_id();
      auto it = state.indicators().find(id);
      if (it == state.indicators().end()) break;
      SetNew(entry, "annual_target", ExactText(it->second.target.annual));
      std::string quarterly = QuarterTargetsText(it->second.target);
      if (!quarterly.empty() || !defined) SetNew(entry, "quarterly_targets", std::move(quarterly));
      entry.summary = defined ? absl::StrCat("indicator ", id, " defined, annual target ",
                                             Arrow(entry, "annual_target"))
                              : absl::StrCat("indicator ", id, " target revised: ",
                                             Arrow(entry, "annual_target"));
      break;
    }
    case SakipEvent::kRealizationRecorded:
    case SakipEvent::kRealizationCorrected: {
      const Realization* realization = RealizationWithEvent(state, event.event_id);
      if (realization == nullptr) break;
      SetNew(entry, "realization", MeasureText(realization->measure));
      entry.summary = absl::StrCat(realization->indicator_id, " ", QuarterName(realization->quarter),
                                   " realization ",
                                   e.has_realization_recorded() ? "recorded: " : "corrected: ",
                                   Arrow(entry, "realization"));
      break;
    }
    case SakipEvent::kProgrammeDefined:
    case SakipEvent::kBudgetRevised: {
      const bool defined = e.has_programme_defined();
      const std::string& id =
          defined ? e.programme_defined().programme_id() : e.budget_revised().programme_id();
      auto it = state.programmes().find(id);
      if (it == state.programmes().end()) break;
      SetNew(entry, "allocation", ExactText(it->second.allocation));
      entry.summary = absl::StrCat("programme ", id, defined ? " defined, allocation " : " allocation revised: ",
                                   Arrow(entry, "allocation"));
      break;
    }
    case SakipEvent::kDisbursementRecorded: {
      const projections::Disbursement* disbursement = DisbursementWithEvent(state, event.event_id);
      if (disbursement == nullptr) break;
      SetNew(entry, "disbursement", ExactText(disbursement->amount));
      entry.summary = absl::StrCat("programme ", disbursement->programme_id, " ",
                                   QuarterName(disbursement->quarter), " disbursement ",
                                   ExactText(disbursement->amount), " (",
                                   e.disbursement_recorded().document_ref(), ")");
      break;
    }
    case SakipEvent::kDisbursementReversed:
      entry.summary = absl::StrCat("disbursement ", entry.refers_to_event_id, " reversed: ",
                                   Arrow(entry, "disbursement"));
      break;
    case SakipEvent::kVillageRegistered:
      SetNew(entry, "name", e.village_registered().name());
      entry.summary = absl::StrCat("village ", e.village_registered().village_code(), " registered: ",
                                   e.village_registered().name());
      break;
    case SakipEvent::kChecklistActivityDefined:
      SetNew(entry, "name", e.checklist_activity_defined().name());
      entry.summary = absl::StrCat("checklist activity ", e.checklist_activity_defined().activity_id(),
                                   " defined");
      break;
    case SakipEvent::kChecklistEntryRecorded:
      entry.summary = absl::StrCat("checklist ", e.checklist_entry_recorded().activity_id(), " in ",
                                   e.checklist_entry_recorded().village_code(), " ",
                                   QuarterName(entry.quarter), ": done ", Arrow(entry, "done"));
      break;
    case SakipEvent::kReportSubmitted: {
      const auto& message = e.report_submitted();
      SetNew(entry, "signed_on", message.signed_on());
      SetNew(entry, "signer", message.signer_name());
      entry.summary = absl::StrCat("report ", message.report_id(), " (", QuarterName(message.quarter()),
                                   ") submitted, signed by ", message.signer_name(), " on ",
                                   message.signed_on());
      break;
    }
    case SakipEvent::kReportDisposed:
      entry.summary = absl::StrCat("report ", e.report_disposed().report_id(), " disposed: ",
                                   Arrow(entry, "disposition"));
      break;
    case SakipEvent::EVENT_NOT_SET:
      break;
  }
}

// Drops the changes whose value did not change (a revision that kept the
// quarterly targets, for instance).
void DropUnchanged(HistoryEntry& entry) {
  entry.changes.erase(std::remove_if(entry.changes.begin(), entry.changes.end(),
                                     [](const ValueChange& change) {
                                       return change.old_value == change.new_value;
                                     }),
                      entry.changes.end());
}

}  // namespace

absl::Status HistoryFold::Apply(const DomainEvent& event) {
  HistoryEntry entry;
  entry.position = event.position;
  entry.event_id = event.event_id;
  entry.event_type = projections::EventTypeName(event.event);
  entry.unit_code = event.event.unit_code();
  entry.fiscal_year = event.event.fiscal_year();
  entry.actor = event.actor;
  entry.recorded_at = event.recorded_at;
  entry.reason = event.reason;
  Before(state_, event, entry);
  if (absl::Status status = state_.Apply(event); !status.ok()) return status;
  After(state_, event, entry);
  DropUnchanged(entry);
  entries_.push_back(std::move(entry));
  return absl::OkStatus();
}

std::map<std::string, std::string> Replacements(const UnitYearState& state) {
  std::map<std::string, std::string> replaced_by;
  auto chain = [&](const std::vector<projections::EventRef>& refs) {
    for (size_t i = 0; i + 1 < refs.size(); ++i) replaced_by[refs[i].event_id] = refs[i + 1].event_id;
  };
  for (const auto& [id, indicator] : state.indicators()) chain(indicator.target_chain);
  for (const auto& [key, realization] : state.realizations()) chain(realization.chain);
  for (const auto& [id, programme] : state.programmes()) chain(programme.allocation_chain);
  for (const projections::Disbursement& disbursement : state.disbursements()) {
    if (disbursement.reversed_by.has_value()) {
      replaced_by[disbursement.source.event_id] = disbursement.reversed_by->event_id;
    }
  }
  return replaced_by;
}

bool Touches(const HistoryEntry& entry, const std::string& subject) {
  return std::find(entry.subjects.begin(), entry.subjects.end(), subject) != entry.subjects.end();
}

}  // namespace ledger::audit
