// ReportService: protos <-> SakipLedger (see report_service.h). The
// To*Proto functions mirror projections::QuarterlyReport and
// projections::Reconciliation field by field; presentation strings (2
// decimals, half-up) are made here, from the exact values.
#include "services/report_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ledger/domain/exact.h"
#include "ledger/projections/reconciliation.h"
#include "ledger/projections/report.h"
#include "services/proto_convert.h"
#include "services/server_limits.h"
#include "services/status_mapping.h"

namespace ledger::services {
namespace {

namespace pb = ::sakip::v1;
using projections::Figure;

std::vector<ProposedDomainEvent> FromProto(const pb::RecordEventsRequest& request) {
  std::vector<ProposedDomainEvent> events;
  events.reserve(request.events_size());
  for (const pb::ProposedSakipEvent& event : request.events()) {
    events.push_back(ProposedDomainEvent{event.event_id(), event.reason(), event.correlation_id(),
                                         event.causation_id(), event.event()});
  }
  return events;
}

void ToProto(const AppendResult& result, pb::RecordEventsResponse* out) {
  out->set_first_position(result.first_position);
  out->set_last_position(result.last_position);
  out->set_stream_version(result.stream_version);
  out->set_recorded_at_micros(absl::ToUnixMicros(result.recorded_at));
  out->set_already_recorded(result.already_recorded);
}

void ToProto(const Figure& figure, pb::Figure* out) { FigureToProto(figure, out); }

void ToProto(const projections::QuarterFigures& figures, pb::QuarterFigures* out) {
  ToProto(figures.realization, out->mutable_realization());
  ToProto(figures.capaian, out->mutable_capaian());
}

void ToProto(const projections::IndicatorRow& row, pb::IndicatorRow* out) {
  out->set_indicator_id(row.indicator_id);
  out->set_number(row.number);
  out->set_goal_name(row.goal_name);
  out->set_name(row.name);
  out->set_unit(row.unit);
  ToProto(row.target, out->mutable_target());
  for (const projections::QuarterFigures& quarter : row.quarters) {
    ToProto(quarter, out->add_quarters());
  }
  ToProto(row.year_end_realization, out->mutable_year_end_realization());
  ToProto(row.year_end_capaian, out->mutable_year_end_capaian());
  out->set_predicate(row.predicate.value_or(""));
}

void ToProto(const projections::AverageRow& row, pb::AverageRow* out) {
  ToProto(row.target, out->mutable_target());
  for (const projections::QuarterFigures& quarter : row.quarters) {
    ToProto(quarter, out->add_quarters());
  }
  for (const std::vector<std::string>& ids : row.not_reported) {
    pb::IndicatorIds* quarter = out->add_not_reported();
    for (const std::string& id : ids) quarter->add_indicator_ids(id);
  }
  ToProto(row.year_end_realization, out->mutable_year_end_realization());
  ToProto(row.year_end_capaian, out->mutable_year_end_capaian());
  for (const std::string& id : row.year_end_not_reported) out->add_year_end_not_reported(id);
}

void ToProto(const projections::BudgetRow& row, pb::BudgetRow* out) {
  out->set_programme_id(row.programme_id);
  out->set_number(row.number);
  out->set_name(row.name);
  ToProto(row.allocation, out->mutable_allocation());
  for (const Figure& realized : row.realized) ToProto(realized, out->add_realized());
  for (const Figure& absorption : row.absorption) ToProto(absorption, out->add_absorption());
  ToProto(row.cumulative_realized, out->mutable_cumulative_realized());
  ToProto(row.cumulative_absorption, out->mutable_cumulative_absorption());
}

void ToProto(const projections::CostPerOutcomeRow& row, pb::CostPerOutcomeRow* out) {
  out->set_indicator_id(row.indicator_id);
  out->set_number(row.number);
  out->set_goal_name(row.goal_name);
  out->set_indicator_name(row.indicator_name);
  for (const std::string& id : row.programme_ids) out->add_programme_ids(id);
  ToProto(row.budget, out->mutable_budget());
  ToProto(row.realized, out->mutable_realized());
  ToProto(row.absorption, out->mutable_absorption());
  ToProto(row.target, out->mutable_target());
  ToProto(row.realization, out->mutable_realization());
  ToProto(row.capaian, out->mutable_capaian());
}

void ToProto(const projections::ChecklistRow& row, pb::ChecklistRow* out) {
  out->set_activity_id(row.activity_id);
  out->set_number(row.number);
  out->set_name(row.name);
  for (const auto& [village_code, done] : row.villages) {
    pb::ChecklistVillage* village = out->add_villages();
    village->set_village_code(village_code);
    village->set_done(done);
  }
  ToProto(row.count, out->mutable_count());
  ToProto(row.ratio, out->mutable_ratio());
  out->set_remark(row.remark);
}

void ToProto(const projections::ReportStatus& status, pb::ReportStatus* out) {
  out->set_report_id(status.report_id);
  out->set_quarter(status.quarter);
  out->set_signed_on(status.signed_on);
  out->set_disposed(status.disposed);
  for (pb::DispositionOption option : status.options) out->add_options(option);
  out->set_note(status.note);
  out->set_supervisor_name(status.supervisor_name);
}

void ToProto(const projections::QuarterlyReport& report, pb::Report* out) {
  out->set_quarter(report.quarter);
  out->set_unit_code(report.unit_code);
  out->set_unit_name(report.unit_name);
  out->set_fiscal_year(report.fiscal_year);
  out->set_capaian_capped(report.capaian_capped);
  for (const auto& row : report.indicators) ToProto(row, out->add_indicators());
  ToProto(report.average, out->mutable_average());
  for (const auto& row : report.programmes) ToProto(row, out->add_programmes());
  ToProto(report.total, out->mutable_total());
  for (const auto& row : report.cost_per_outcome) ToProto(row, out->add_cost_per_outcome());
  for (const auto& row : report.checklist) ToProto(row, out->add_checklist());
  for (const auto& status : report.reports) ToProto(status, out->add_reports());
}

pb::Discrepancy::Kind ToProto(projections::Discrepancy::Kind kind) {
  switch (kind) {
    case projections::Discrepancy::Kind::kDiffers: return pb::Discrepancy::KIND_DIFFERS;
    case projections::Discrepancy::Kind::kUnknownKey: return pb::Discrepancy::KIND_UNKNOWN_KEY;
    case projections::Discrepancy::Kind::kNotComputable:
      return pb::Discrepancy::KIND_NOT_COMPUTABLE;
  }
  return pb::Discrepancy::KIND_UNSPECIFIED;
}

void ToProto(const projections::Discrepancy& discrepancy, pb::Discrepancy* out) {
  out->set_kind(ToProto(discrepancy.kind));
  out->set_key(discrepancy.key);
  out->set_declared(discrepancy.declared);
  out->set_declared_decimals(discrepancy.declared_decimals);
  if (discrepancy.recomputed) out->set_recomputed_exact(discrepancy.recomputed->ToString());
  out->set_recomputed_text(discrepancy.recomputed_exact);
  out->set_recomputed_rounded(discrepancy.recomputed_rounded);
  out->set_formula(discrepancy.formula);
  for (const std::string& id : discrepancy.event_ids) out->add_event_ids(id);
}

void ToProto(const projections::Reconciliation& reconciliation, pb::ReconcileResponse* out) {
  out->set_report_id(reconciliation.report_id);
  out->set_quarter(reconciliation.quarter);
  out->set_as_of_position(reconciliation.as_of_position);
  out->set_figures_checked(reconciliation.figures_checked);
  out->set_figures_agreeing(reconciliation.figures_agreeing);
  for (const auto& discrepancy : reconciliation.discrepancies) {
    ToProto(discrepancy, out->add_discrepancies());
  }
}

}  // namespace

constexpr char kRecordEvents[] = "/sakip.v1.ReportService/RecordEvents";
constexpr char kGetReport[] = "/sakip.v1.ReportService/GetReport";
constexpr char kReconcile[] = "/sakip.v1.ReportService/Reconcile";

ReportServiceImpl::ReportServiceImpl(EventLog* log, SakipLedger* sakip, AccessControl* access)
    : log_(log), sakip_(sakip), access_(access) {}

grpc::Status ReportServiceImpl::RecordEvents(grpc::ServerContext* context,
                                             const pb::RecordEventsRequest* request,
                                             pb::RecordEventsResponse* response) {
  const std::string first_unit = request->events().empty() ? "" : request->events(0).event().unit_code();
  Caller caller;
  if (grpc::Status denied = access_->Identify(context, kRecordEvents, first_unit, &caller);
      !denied.ok()) {
    return denied;
  }
  // Every event is authorized for its own unit: a body naming a unit outside
  // the caller's scope is refused even among events of units inside it.
  for (int i = 0; i < request->events_size(); ++i) {
    const pb::SakipEvent& event = request->events(i).event();
    if (event.unit_code().empty()) {
      return ToGrpcStatus(absl::InvalidArgumentError(
          absl::StrCat("events[", i, "].event.unit_code: is required")));
    }
    grpc::Status denied = access_->Authorize(context, kRecordEvents, caller,
                                             auth::ActionForEvent(event.event_case()),
                                             event.unit_code());
    if (!denied.ok()) {
      return grpc::Status(denied.error_code(), absl::StrCat("events[", i, "]: ", denied.error_message()));
    }
  }
  absl::StatusOr<AppendResult> result = sakip_->Record(caller.recorder(), FromProto(*request));
  if (absl::IsPermissionDenied(result.status())) {  // a four-eyes rule
    access_->RecordDenied(context, kRecordEvents, caller.principal().name, first_unit, result.status());
  }
  if (!result.ok()) return ToGrpcStatus(result.status());
  ToProto(*result, response);
  return grpc::Status::OK;
}

absl::StatusOr<uint64_t> ReportServiceImpl::ResolveAsOf(
    const pb::GetReportRequest& request) const {
  switch (request.as_of_case()) {
    case pb::GetReportRequest::kPosition: return request.position();
    case pb::GetReportRequest::kAtMicros:
      return log_->PositionAt(absl::FromUnixMicros(request.at_micros()));
    case pb::GetReportRequest::AS_OF_NOT_SET: break;
  }
  return log_->GetHead().position;
}

grpc::Status ReportServiceImpl::GetReport(grpc::ServerContext* context,
                                          const pb::GetReportRequest* request,
                                          pb::GetReportResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, kGetReport, auth::Action::kReadReport,
                                           request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  // A report is one unit-year's fold (cached by SakipLedger), not
  // interruptible in ledger/sakip: refused when the call's time is already up.
  if (absl::Status late = CheckOperationDeadline(OperationDeadline(*context), "report");
      !late.ok()) {
    return ToGrpcStatus(late);
  }
  absl::StatusOr<uint64_t> position = ResolveAsOf(*request);
  if (!position.ok()) return ToGrpcStatus(position.status());
  absl::StatusOr<projections::QuarterlyReport> report =
      sakip_->Report(request->unit_code(), request->fiscal_year(), request->quarter(),
                     AsOf::Position(*position));
  if (!report.ok()) return ToGrpcStatus(report.status());
  ToProto(*report, response->mutable_report());
  response->set_as_of_position(*position);
  return grpc::Status::OK;
}

grpc::Status ReportServiceImpl::Reconcile(grpc::ServerContext* context,
                                          const pb::ReconcileRequest* request,
                                          pb::ReconcileResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, kReconcile, auth::Action::kReadReport,
                                           request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  if (absl::Status late = CheckOperationDeadline(OperationDeadline(*context), "reconcile");
      !late.ok()) {
    return ToGrpcStatus(late);
  }
  absl::StatusOr<projections::Reconciliation> reconciliation =
      sakip_->Reconcile(request->unit_code(), request->fiscal_year(), request->report_id());
  if (!reconciliation.ok()) return ToGrpcStatus(reconciliation.status());
  ToProto(*reconciliation, response);
  return grpc::Status::OK;
}

}  // namespace ledger::services
