#include "services/ledger_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/chain_verifier.h"
#include "ledger/limits.h"
#include "ledger/sakip/sakip_ledger.h"
#include "services/proto_convert.h"
#include "services/server_limits.h"
#include "services/status_mapping.h"

namespace ledger::services {
namespace {

void ToProto(const RecordedEvent& event, bool include_stored_bytes, v1::RecordedEvent* out) {
  RecordedEventToProto(event, include_stored_bytes, out);
}

void ToProto(const ReadPage& page, bool include_stored_bytes, v1::ReadResponse* out) {
  for (const RecordedEvent& event : page.events) {
    ToProto(event, include_stored_bytes, out->add_events());
  }
  out->set_next_from(page.next_from);
  out->set_end_of_range(page.end_of_range);
}

absl::StatusOr<ExpectedVersion> FromProto(const v1::AppendRequest& request) {
  if (!request.has_expected_version()) {
    return absl::InvalidArgumentError(
        "expected_version: is required (any, no_stream, or an exact version)");
  }
  const v1::ExpectedVersion& expected = request.expected_version();
  switch (expected.kind_case()) {
    case v1::ExpectedVersion::kAny: return ExpectedVersion::Any();
    case v1::ExpectedVersion::kNoStream: return ExpectedVersion::NoStream();
    case v1::ExpectedVersion::kExact: return ExpectedVersion::Exact(expected.exact());
    case v1::ExpectedVersion::KIND_NOT_SET: break;
  }
  return absl::InvalidArgumentError(
      "expected_version: set one of any, no_stream or exact");
}

absl::StatusOr<Direction> FromProto(v1::Direction direction) {
  switch (direction) {
    case v1::DIRECTION_UNSPECIFIED:
    case v1::DIRECTION_FORWARD: return Direction::kForward;
    case v1::DIRECTION_BACKWARD: return Direction::kBackward;
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat("direction: unknown value ", direction));
}

absl::Status CheckPageSize(uint32_t max_count) {
  if (max_count > limits::kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat("max_count: ", max_count,
                                                   " is more than the limit of ",
                                                   limits::kMaxPageSize));
  }
  return absl::OkStatus();
}

constexpr char kAppend[] = "/ledger.v1.LedgerService/Append";
constexpr char kReadStream[] = "/ledger.v1.LedgerService/ReadStream";
constexpr char kReadAll[] = "/ledger.v1.LedgerService/ReadAll";
constexpr char kGetEvent[] = "/ledger.v1.LedgerService/GetEvent";
constexpr char kGetPositionAt[] = "/ledger.v1.LedgerService/GetPositionAt";
constexpr char kGetHead[] = "/ledger.v1.LedgerService/GetHead";
constexpr char kSubscribe[] = "/ledger.v1.LedgerService/Subscribe";
constexpr char kVerify[] = "/ledger.v1.LedgerService/Verify";

}  // namespace

LedgerServiceImpl::LedgerServiceImpl(EventLog* log, LedgerServiceOptions options,
                                     AccessControl* access)
    : log_(log), options_(std::move(options)), access_(access) {}

std::pair<auth::Action, std::string> LedgerServiceImpl::ReadActionFor(std::string_view stream_id) {
  if (stream_id == attest::kTreeHeadsStream) return {auth::Action::kReadTreeState, ""};
  std::string unit = auth::UnitOfStream(stream_id);
  if (!unit.empty()) return {auth::Action::kReadUnitEvents, unit};
  return {auth::Action::kReadWholeLog, ""};
}

grpc::ServerUnaryReactor* LedgerServiceImpl::Append(grpc::CallbackServerContext* context,
                                                     const v1::AppendRequest* request,
                                                     v1::AppendResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Caller caller;
  if (grpc::Status denied = access_->Check(context, kAppend, auth::Action::kAppendRaw, "", &caller);
      !denied.ok()) {
    reactor->Finish(denied);
    return reactor;
  }
  if (shutting_down_.load()) {
    reactor->Finish(ToGrpcStatus(absl::UnavailableError(
        "the server is shutting down; retry with the same event ids")));
    return reactor;
  }
  absl::StatusOr<ExpectedVersion> expected = FromProto(*request);
  if (!expected.ok()) {
    reactor->Finish(ToGrpcStatus(expected.status()));
    return reactor;
  }
  if (attest::IsReservedStreamId(request->stream_id())) {
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "stream_id: '", request->stream_id(), "' is reserved: streams starting with '$' are "
        "written by the ledger itself (signed tree heads, report seals)"))));
    return reactor;
  }
  AppendRequest append;
  append.stream_id = request->stream_id();
  append.expected_version = *expected;
  append.actor = caller.principal().name;
  append.events.reserve(request->events_size());
  for (int i = 0; i < request->events_size(); ++i) {
    const v1::ProposedEvent& event = request->events(i);
    // SAKIP events enter only through ReportService.RecordEvents, which
    // validates them against their unit-year: a raw one could make the
    // unit-year's reports unfoldable.
    if (event.content_type() == kSakipContentType) {
      reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].content_type: SAKIP domain events are recorded through "
          "sakip.v1.ReportService.RecordEvents, which validates them"))));
      return reactor;
    }
    append.events.push_back(ProposedEvent{event.event_id(), event.event_type(), event.payload(),
                                          event.content_type(), event.correlation_id(),
                                          event.causation_id(), event.reason()});
  }
  // gRPC keeps `response` alive until Finish; the log calls back exactly once.
  log_->AppendAsync(std::move(append), [reactor, response](absl::StatusOr<AppendResult> result) {
    if (result.ok()) {
      response->set_first_position(result->first_position);
      response->set_last_position(result->last_position);
      response->set_stream_version(result->stream_version);
      response->set_recorded_at_micros(absl::ToUnixMicros(result->recorded_at));
      response->set_already_recorded(result->already_recorded);
    }
    reactor->Finish(ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::Status LedgerServiceImpl::ReadStream(grpc::ServerContext* context,
                                           const v1::ReadStreamRequest* request,
                                           v1::ReadResponse* response) {
  Caller caller;
  auto [action, unit] = ReadActionFor(request->stream_id());
  if (grpc::Status denied = access_->Check(context, kReadStream, action, unit, &caller); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<Direction> direction = FromProto(request->direction());
  if (!direction.ok()) return ToGrpcStatus(direction.status());
  if (absl::Status status = CheckPageSize(request->max_count()); !status.ok()) {
    return ToGrpcStatus(status);
  }
  absl::StatusOr<ReadPage> page = log_->ReadStream(request->stream_id(), request->from_version(),
                                                   *direction, request->max_count());
  if (!page.ok()) return ToGrpcStatus(page.status());
  ToProto(*page, request->include_stored_bytes(), response);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::ReadAll(grpc::ServerContext* context,
                                        const v1::ReadAllRequest* request,
                                        v1::ReadResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, kReadAll, auth::Action::kReadWholeLog, "", &caller);
      !denied.ok()) {
    return denied;
  }
  absl::StatusOr<Direction> direction = FromProto(request->direction());
  if (!direction.ok()) return ToGrpcStatus(direction.status());
  if (absl::Status status = CheckPageSize(request->max_count()); !status.ok()) {
    return ToGrpcStatus(status);
  }
  absl::StatusOr<ReadPage> page =
      log_->ReadAll(request->from_position(), *direction, request->max_count());
  if (!page.ok()) return ToGrpcStatus(page.status());
  ToProto(*page, request->include_stored_bytes(), response);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::GetEvent(grpc::ServerContext* context,
                                         const v1::GetEventRequest* request,
                                         v1::GetEventResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Identify(context, kGetEvent, "", &caller); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<RecordedEvent> event = log_->GetEvent(request->event_id());
  if (!event.ok()) return ToGrpcStatus(event.status());
  auto [action, unit] = ReadActionFor(event->envelope.stream_id());
  if (grpc::Status denied = access_->Authorize(context, kGetEvent, caller, action, unit); !denied.ok()) {
    // Answered as for an id never recorded: PERMISSION_DENIED here would tell
    // the caller that the id exists outside what it may read. The refusal,
    // with its real reason, is in the denied-attempt log for inspectors.
    return ToGrpcStatus(EventNotRecordedError(request->event_id()));
  }
  ToProto(*event, request->include_stored_bytes(), response->mutable_event());
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::GetPositionAt(grpc::ServerContext* context,
                                              const v1::GetPositionAtRequest* request,
                                              v1::GetPositionAtResponse* response) {
  Caller caller;
  if (grpc::Status denied =
          access_->Check(context, kGetPositionAt, auth::Action::kReadTreeState, "", &caller);
      !denied.ok()) {
    return denied;
  }
  absl::StatusOr<uint64_t> position =
      log_->PositionAt(absl::FromUnixMicros(request->at_micros()));
  if (!position.ok()) return ToGrpcStatus(position.status());
  response->set_position(*position);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::GetHead(grpc::ServerContext* context,
                                        const v1::GetHeadRequest* request,
                                        v1::GetHeadResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, kGetHead, auth::Action::kReadTreeState, "", &caller);
      !denied.ok()) {
    return denied;
  }
  Head head = log_->GetHead();
  WriteState state = log_->GetWriteState();
  response->set_position(head.position);
  response->set_hash(head.hash);
  response->set_recorded_at_micros(absl::ToUnixMicros(head.recorded_at));
  response->set_writable(state.writable);
  response->set_write_refusal_reason(state.refusal_reason);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::Subscribe(grpc::ServerContext* context,
                                          const v1::SubscribeRequest* request,
                                          grpc::ServerWriter<v1::SubscribeResponse>* writer) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, kSubscribe, auth::Action::kReadWholeLog, "", &caller);
      !denied.ok()) {
    return denied;
  }
  AccessControl::SubscriptionSlot slot;
  if (grpc::Status denied = access_->AcquireSubscription(context, kSubscribe, caller, &slot);
      !denied.ok()) {
    return denied;
  }
  if (request->from_head() && request->from_position() != 0) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        "from_head: cannot be combined with from_position; set one of them"));
  }
  const uint64_t head_at_start = log_->GetHead().position;
  const uint64_t from = request->from_head() ? head_at_start + 1 : request->from_position();
  absl::StatusOr<std::unique_ptr<Subscription>> subscription = log_->Subscribe(from);
  if (!subscription.ok()) return ToGrpcStatus(subscription.status());
  bool caught_up = false;
  auto send_caught_up_if_due = [&](uint64_t delivered_through) {
    if (caught_up || delivered_through < head_at_start) return true;
    caught_up = true;
    v1::SubscribeResponse marker;
    marker.mutable_caught_up()->set_head_position(head_at_start);
    return writer->Write(marker);
  };
  if (!send_caught_up_if_due((*subscription)->next_position() - 1)) return grpc::Status::OK;
  while (!context->IsCancelled() && !shutting_down_.load()) {
    absl::StatusOr<std::vector<RecordedEvent>> events = (*subscription)->Next(
        limits::kSubscriptionBatch, absl::Now() + options_.subscription_poll);
    if (!events.ok()) return ToGrpcStatus(events.status());
    for (const RecordedEvent& event : *events) {
      v1::SubscribeResponse item;
      ToProto(event, request->include_stored_bytes(), item.mutable_event());
      if (!writer->Write(item)) return grpc::Status::OK;  // the client went away
      if (!send_caught_up_if_due(event.envelope.position())) return grpc::Status::OK;
    }
  }
  if (shutting_down_.load()) {
    return ToGrpcStatus(absl::UnavailableError(
        absl::StrCat("the server is shutting down; resume from position ",
                     (*subscription)->next_position())));
  }
  return grpc::Status::CANCELLED;
}

grpc::Status LedgerServiceImpl::Verify(grpc::ServerContext* context,
                                       const v1::VerifyRequest* request,
                                       v1::VerifyResponse* response) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, kVerify, auth::Action::kVerifyLog, "", &caller);
      !denied.ok()) {
    return denied;
  }
  // A verification is one pass over the range in constant memory and cannot
  // be stopped midway (ledger/store; the Merkle tree is recomputed only from
  // position 1): it is refused when the call's time is already up.
  if (absl::Status late = CheckOperationDeadline(OperationDeadline(*context), "verify");
      !late.ok()) {
    return ToGrpcStatus(late);
  }
  absl::StatusOr<VerifyReport> report =
      log_->Verify(request->from_position(), request->to_position());
  if (!report.ok()) return ToGrpcStatus(report.status());
  response->set_ok(report->ok());
  response->set_verified_count(report->verified_count);
  response->set_from_position(report->from_position);
  response->set_to_position(report->to_position);
  if (report->finding) {
    response->set_first_bad_position(report->finding->position);
    response->set_problem(ChainProblemName(report->finding->problem));
    response->set_detail(report->finding->detail);
  }
  return grpc::Status::OK;
}

}  // namespace ledger::services
