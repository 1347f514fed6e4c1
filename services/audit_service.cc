// AuditService: protos <-> ledger/audit (see audit_service.h).
#include "services/audit_service.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ledger/attest/system_streams.h"
#include "ledger/audit/replay.h"
#include "ledger/domain/identifiers.h"
#include "ledger/integrity/merkle.h"
#include "ledger/limits.h"
#include "services/proto_convert.h"
#include "services/server_limits.h"
#include "services/status_mapping.h"

namespace ledger::services {
namespace {

namespace pb = ::sakip::v1;

absl::StatusOr<audit::Moment> FromProto(const pb::Moment& moment, std::string_view field) {
  switch (moment.at_case()) {
    case pb::Moment::kPosition: return audit::Moment{AsOf::Position(moment.position()), ""};
    case pb::Moment::kAtMicros:
      if (moment.at_micros() < 0) {
        return absl::InvalidArgumentError(absl::StrCat(std::string(field), ".at_micros: must not be negative"));
      }
      return audit::Moment{AsOf::Time(absl::FromUnixMicros(moment.at_micros())), ""};
    case pb::Moment::kSubmissionOfReport:
      if (moment.submission_of_report().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(std::string(field), ".submission_of_report: must name a report"));
      }
      return audit::Moment::Submission(moment.submission_of_report());
    case pb::Moment::AT_NOT_SET: break;
  }
  return audit::Moment{};
}

void ToProto(const audit::HistoryEntry& entry, pb::HistoryEntry* out) {
  out->set_position(entry.position);
  out->set_event_id(entry.event_id);
  out->set_event_type(entry.event_type);
  out->set_unit_code(entry.unit_code);
  out->set_fiscal_year(entry.fiscal_year);
  out->set_actor(entry.actor);
  out->set_recorded_at_micros(absl::ToUnixMicros(entry.recorded_at));
  out->set_quarter(entry.quarter);
  for (const std::string& subject : entry.subjects) out->add_subjects(subject);
  out->set_summary(entry.summary);
  for (const audit::ValueChange& change : entry.changes) {
    pb::Change* changed = out->add_changes();
    changed->set_field(change.field);
    changed->set_old_value(change.old_value);
    changed->set_new_value(change.new_value);
  }
  out->set_reason(entry.reason);
  out->set_refers_to_event_id(entry.refers_to_event_id);
  out->set_correlation_id(entry.correlation_id);
  out->set_causation_id(entry.causation_id);
}

void ToProto(const audit::FigureChange& change, pb::FigureChange* out) {
  out->set_key(change.key);
  if (change.before) FigureToProto(*change.before, out->mutable_before());
  if (change.after) FigureToProto(*change.after, out->mutable_after());
  for (const audit::HistoryEntry& entry : change.events) ToProto(entry, out->add_events());
}

absl::StatusOr<audit::HistoryQuery> FromProto(const pb::GetHistoryRequest& request) {
  if (request.page_size() < 0) return absl::InvalidArgumentError("page_size: must not be negative");
  if (request.from_micros() < 0) return absl::InvalidArgumentError("from_micros: must not be negative");
  if (request.to_micros() < 0) return absl::InvalidArgumentError("to_micros: must not be negative");
  audit::HistoryQuery query;
  query.unit_code = request.unit_code();
  query.fiscal_years.assign(request.fiscal_years().begin(), request.fiscal_years().end());
  query.subject = request.subject();
  query.actor = request.actor();
  query.event_types.assign(request.event_types().begin(), request.event_types().end());
  if (request.from_micros() != 0) query.from = absl::FromUnixMicros(request.from_micros());
  if (request.to_micros() != 0) query.to = absl::FromUnixMicros(request.to_micros());
  query.newest_first = request.newest_first();
  query.page_size = static_cast<size_t>(request.page_size());
  query.page_token = request.page_token();
  return query;
}

}  // namespace

grpc::Status AuditServiceImpl::GetHistory(grpc::ServerContext* context, const pb::GetHistoryRequest* request,
                                          pb::GetHistoryResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/GetHistory",
                                           auth::Action::kAudit, request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  absl::StatusOr<audit::HistoryQuery> query = FromProto(*request);
  if (!query.ok()) return ToGrpcStatus(query.status());
  absl::StatusOr<audit::HistoryPage> page = audit_.History(*query, OperationDeadline(*context));
  if (!page.ok()) return ToGrpcStatus(page.status());
  for (const audit::HistoryEntry& entry : page->entries) ToProto(entry, response->add_entries());
  response->set_next_page_token(page->next_page_token);
  response->set_as_of_position(page->as_of_position);
  response->set_total_matching(static_cast<int32_t>(page->total_matching));
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::ExplainFigure(grpc::ServerContext* context, const pb::ExplainFigureRequest* request,
                                             pb::ExplainFigureResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/ExplainFigure",
                                           auth::Action::kAudit, request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  absl::StatusOr<audit::Moment> as_of = FromProto(request->as_of(), "as_of");
  if (!as_of.ok()) return ToGrpcStatus(as_of.status());
  absl::StatusOr<audit::FigureExplanation> explanation =
      audit_.Explain(request->unit_code(), request->fiscal_year(), request->quarter(), request->key(), *as_of,
                     OperationDeadline(*context));
  if (!explanation.ok()) return ToGrpcStatus(explanation.status());
  response->set_key(explanation->key);
  FigureToProto(explanation->figure, response->mutable_figure());
  response->set_as_of_position(explanation->as_of_position);
  for (const audit::FigureInput& input : explanation->inputs) {
    pb::FigureInput* out = response->add_inputs();
    ToProto(input.entry, out->mutable_event());
    out->set_in_force(input.in_force);
    out->set_replaced_by_event_id(input.replaced_by_event_id);
  }
  for (const std::string& key : explanation->depends_on) response->add_depends_on(key);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::DiffReport(grpc::ServerContext* context, const pb::DiffReportRequest* request,
                                          pb::DiffReportResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/DiffReport",
                                           auth::Action::kAudit, request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  if (!request->has_from()) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "from: is required (a position, a time, or submission_of_report for the report as published)"));
  }
  absl::StatusOr<audit::Moment> from = FromProto(request->from(), "from");
  if (!from.ok()) return ToGrpcStatus(from.status());
  absl::StatusOr<audit::Moment> to = FromProto(request->to(), "to");
  if (!to.ok()) return ToGrpcStatus(to.status());
  absl::StatusOr<audit::ReportDiff> diff =
      audit_.Diff(request->unit_code(), request->fiscal_year(), request->quarter(), *from, *to,
                  OperationDeadline(*context));
  if (!diff.ok()) return ToGrpcStatus(diff.status());
  response->set_from_position(diff->from_position);
  response->set_to_position(diff->to_position);
  response->set_figures_compared(static_cast<int32_t>(diff->figures_compared));
  for (const audit::FigureChange& change : diff->changes) ToProto(change, response->add_changes());
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::ListLateEntries(grpc::ServerContext* context, const pb::ListLateEntriesRequest* request,
                                               pb::ListLateEntriesResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/ListLateEntries",
                                           auth::Action::kAudit, request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  absl::StatusOr<audit::Moment> as_of = FromProto(request->as_of(), "as_of");
  if (!as_of.ok()) return ToGrpcStatus(as_of.status());
  absl::StatusOr<audit::LateEntries> late =
      audit_.ListLateEntries(request->unit_code(), request->fiscal_year(), *as_of,
                              OperationDeadline(*context));
  if (!late.ok()) return ToGrpcStatus(late.status());
  response->set_as_of_position(late->as_of_position);
  response->set_reports_checked(static_cast<int32_t>(late->reports_checked));
  for (const audit::LateReport& report : late->reports) {
    pb::LateReport* out = response->add_reports();
    out->set_unit_code(report.unit_code);
    out->set_fiscal_year(report.fiscal_year);
    out->set_report_id(report.report_id);
    out->set_quarter(report.quarter);
    out->set_submitted_position(report.submitted_position);
    out->set_submitted_at_micros(absl::ToUnixMicros(report.submitted_at));
    for (const audit::FigureChange& change : report.changes) ToProto(change, out->add_changes());
    for (const audit::HistoryEntry& entry : report.late_events) ToProto(entry, out->add_late_events());
  }
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::Replay(grpc::ServerContext* context, const pb::ReplayRequest* request,
                                      grpc::ServerWriter<pb::ReplayResponse>* writer) {
  constexpr char kReplay[] = "/sakip.v1.AuditService/Replay";
  Caller caller;
  if (grpc::Status denied = access_->Identify(context, kReplay, "", &caller); !denied.ok()) {
    return denied;
  }
  // Every unit prefix must lie in the caller's scope; none means every unit.
  if (request->unit_prefixes().empty()) {
    if (grpc::Status denied = access_->Authorize(context, kReplay, caller,
                                                 auth::Action::kReadUnitEvents, "");
        !denied.ok()) {
      return denied;
    }
  }
  for (const std::string& prefix : request->unit_prefixes()) {
    if (grpc::Status denied = access_->Authorize(context, kReplay, caller,
                                                 auth::Action::kReadUnitEvents, prefix);
        !denied.ok()) {
      return denied;
    }
  }
  AccessControl::SubscriptionSlot slot;
  if (request->follow()) {
    if (grpc::Status denied = access_->AcquireSubscription(context, kReplay, caller, &slot);
        !denied.ok()) {
      return denied;
    }
  }
  // No OperationDeadline: a replay, followed or not, is paced by the client
  // (HTTP/2 flow control, one bounded chunk at a time) and ends when the
  // client cancels or its own deadline passes (IsCancelled below).
  audit::ReplayFilter filter;
  filter.unit_prefixes.assign(request->unit_prefixes().begin(), request->unit_prefixes().end());
  filter.event_types.assign(request->event_types().begin(), request->event_types().end());
  absl::StatusOr<std::unique_ptr<audit::FilteredReplay>> replay =
      audit::FilteredReplay::Start(log_, request->from_position(), std::move(filter), request->follow());
  if (!replay.ok()) return ToGrpcStatus(replay.status());
  while (!context->IsCancelled() && !shutting_down_.load()) {
    absl::StatusOr<std::optional<audit::ReplayChunk>> chunk = (*replay)->Next(absl::Now() + replay_poll_);
    if (!chunk.ok()) return ToGrpcStatus(chunk.status());
    if (!chunk->has_value()) continue;
    pb::ReplayResponse response;
    for (const RecordedEvent& event : (*chunk)->events) {
      RecordedEventToProto(event, request->include_stored_bytes(), response.add_events());
    }
    response.set_next_position((*chunk)->next_position);
    response.set_head_position((*replay)->head_at_start());
    response.set_caught_up((*chunk)->caught_up);
    if (!writer->Write(response)) return grpc::Status::OK;  // the client went away
    if ((*chunk)->end) return grpc::Status::OK;
  }
  if (shutting_down_.load()) {
    return ToGrpcStatus(absl::UnavailableError(absl::StrCat(
        "the server is shutting down; resume from position ", (*replay)->next_position())));
  }
  return grpc::Status::CANCELLED;
}

namespace {

// Sizes of 0 mean the head, read once per call.
uint64_t OrHead(EventLog* log, uint64_t size) { return size != 0 ? size : log->GetHead().position; }

}  // namespace

grpc::Status AuditServiceImpl::GetTreeRoot(grpc::ServerContext* context, const pb::GetTreeRootRequest* request,
                                           pb::GetTreeRootResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/GetTreeRoot",
                                           auth::Action::kReadTreeState, "", &caller);
      !denied.ok()) {
    return denied;
  }
  const uint64_t size = OrHead(log_, request->tree_size());
  absl::StatusOr<std::string> root = log_->TreeRoot(size);
  if (!root.ok()) return ToGrpcStatus(root.status());
  response->set_tree_size(size);
  response->set_root_hash(*root);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetInclusionProof(grpc::ServerContext* context, const pb::GetInclusionProofRequest* request,
                                                 pb::GetInclusionProofResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/GetInclusionProof",
                                           auth::Action::kReadTreeState, "", &caller);
      !denied.ok()) {
    return denied;
  }
  const uint64_t size = OrHead(log_, request->tree_size());
  absl::StatusOr<std::vector<std::string>> proof = log_->InclusionProof(request->position(), size);
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  absl::StatusOr<ReadPage> page = log_->ReadAll(request->position(), Direction::kForward, 1);
  if (!page.ok()) return ToGrpcStatus(page.status());
  if (page->events.empty()) return ToGrpcStatus(absl::DataLossError("the event of the proof cannot be read"));
  absl::StatusOr<std::string> root = log_->TreeRoot(size);
  if (!root.ok()) return ToGrpcStatus(root.status());
  response->set_position(request->position());
  response->set_tree_size(size);
  response->set_leaf_hash(merkle::LeafHash(page->events[0].hash));
  for (std::string& hash : *proof) response->add_proof(std::move(hash));
  response->set_root_hash(*root);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetConsistencyProof(grpc::ServerContext* context,
                                                   const pb::GetConsistencyProofRequest* request,
                                                   pb::GetConsistencyProofResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/GetConsistencyProof",
                                           auth::Action::kReadTreeState, "", &caller);
      !denied.ok()) {
    return denied;
  }
  const uint64_t new_size = OrHead(log_, request->new_size());
  absl::StatusOr<std::vector<std::string>> proof = log_->ConsistencyProof(request->old_size(), new_size);
  if (!proof.ok()) return ToGrpcStatus(proof.status());
  absl::StatusOr<std::string> old_root = log_->TreeRoot(request->old_size());
  if (!old_root.ok()) return ToGrpcStatus(old_root.status());
  absl::StatusOr<std::string> new_root = log_->TreeRoot(new_size);
  if (!new_root.ok()) return ToGrpcStatus(new_root.status());
  response->set_old_size(request->old_size());
  response->set_new_size(new_size);
  for (std::string& hash : *proof) response->add_proof(std::move(hash));
  response->set_old_root(*old_root);
  response->set_new_root(*new_root);
  return grpc::Status::OK;
}

namespace {

grpc::Status NoSigning() {
  return ToGrpcStatus(absl::FailedPreconditionError(
      "this server signs no tree heads (ledgerd runs without a signing key)"));
}

}  // namespace

grpc::Status AuditServiceImpl::GetSignedTreeHead(grpc::ServerContext* context, const pb::GetSignedTreeHeadRequest* request,
                                                 pb::GetSignedTreeHeadResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/GetSignedTreeHead",
                                           auth::Action::kReadTreeState, "", &caller);
      !denied.ok()) {
    return denied;
  }
  attest::HeadPublisher* publisher = attestation_.publisher;
  if (publisher == nullptr) return NoSigning();
  // A refused log (damaged, rolled back, forked) may no longer match the
  // heads it recorded: say why instead of serving one.
  if (WriteState state = log_->GetWriteState(); !state.writable) {
    return ToGrpcStatus(absl::FailedPreconditionError(
        absl::StrCat("no signed tree head is served: the ledger refuses writes: ", state.refusal_reason)));
  }
  absl::StatusOr<attest::PublishedHead> head =
      request->sign_now() ? publisher->PublishNow(/*from_request=*/true) : publisher->Latest();
  // A server that has never signed signs its first head when asked.
  if (!request->sign_now() && absl::IsFailedPrecondition(head.status())) {
    head = publisher->PublishNow(/*from_request=*/true);
  }
  if (!head.ok()) return ToGrpcStatus(head.status());
  *response->mutable_signed_head() = attest::ToProto(head->signed_head);
  response->set_recorded_at_position(head->recorded_at_position);
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetPublicKey(grpc::ServerContext* context, const pb::GetPublicKeyRequest*,
                                            pb::GetPublicKeyResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/GetPublicKey",
                                           auth::Action::kReadTreeState, "", &caller);
      !denied.ok()) {
    return denied;
  }
  if (attestation_.publisher == nullptr) return NoSigning();
  response->set_public_key(attestation_.publisher->signer().public_key());
  response->set_key_id(attestation_.publisher->signer().key_id());
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetAuditorBundle(grpc::ServerContext* context, const pb::GetAuditorBundleRequest* request,
                                                pb::GetAuditorBundleResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/GetAuditorBundle",
                                           auth::Action::kAudit, request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  if (attestation_.publisher == nullptr) return NoSigning();
  // Building a bundle is one unit-year's fold plus its proofs, bounded in
  // size by kMaxAuditorBundleBytes and not interruptible (ledger/attest): it
  // is refused when the call's time is already up, never started to be lost.
  if (absl::Status late = CheckOperationDeadline(OperationDeadline(*context), "auditor bundle");
      !late.ok()) {
    return ToGrpcStatus(late);
  }
  absl::StatusOr<std::string> bundle = attest::BuildAuditorBundle(attestation_, request->unit_code(),
                                                                  request->fiscal_year(), request->report_id());
  if (!bundle.ok()) return ToGrpcStatus(bundle.status());
  response->set_bundle(*std::move(bundle));
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::ListDeniedAttempts(grpc::ServerContext* context,
                                                  const pb::ListDeniedAttemptsRequest* request,
                                                  pb::ListDeniedAttemptsResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, "/sakip.v1.AuditService/ListDeniedAttempts",
                                           auth::Action::kAudit, request->unit_code(), &caller);
      !denied.ok()) {
    return denied;
  }
  if (request->max_count() < 0 ||
      static_cast<size_t>(request->max_count()) > limits::kMaxDeniedAttemptsPerPage) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "max_count: must be 0..", limits::kMaxDeniedAttemptsPerPage)));
  }
  const size_t max_count = request->max_count() == 0 ? 100 : request->max_count();
  const auth::Principal& principal = caller.principal();
  const std::string& prefix = request->unit_code();
  std::vector<auth::DeniedAttempt> attempts = access_->denied_log()->Newest(
      max_count, [&](const auth::DeniedAttempt& attempt) {
        if (!request->principal().empty() && attempt.principal() != request->principal()) return false;
        if (!prefix.empty() && !domain::AreaCodeIsUnder(attempt.unit(), prefix)) return false;
        // An attempt that named no unit is seen only with scope "*".
        return principal.CoversEveryUnit() || (!attempt.unit().empty() && principal.Covers(attempt.unit()));
      });
  for (auth::DeniedAttempt& attempt : attempts) *response->add_attempts() = std::move(attempt);
  auth::DeniedCounts counts = access_->denied_log()->counts();
  response->set_denied_total(counts.total);
  response->set_unauthenticated_total(counts.unauthenticated);
  response->set_permission_denied_total(counts.permission_denied);
  response->set_other_total(counts.other);
  return grpc::Status::OK;
}

}  // namespace ledger::services
