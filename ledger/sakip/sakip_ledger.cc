#include "ledger/sakip/sakip_ledger.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ledger/domain/identifiers.h"
#include "ledger/limits.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"

namespace ledger {
namespace {

using projections::DomainEvent;

// Decisions retried after a concurrent append to the same unit-year.
constexpr int kMaxRecordAttempts = 8;

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": ", Absl(what)));
}

// The unit-year all proposed events belong to; InvalidArgument names the
// first event that disagrees.
absl::StatusOr<std::pair<std::string, int>> CommonUnitYear(
    const std::vector<ProposedDomainEvent>& events) {
  if (events.empty()) return Invalid("events", "at least one event is required");
  const ::sakip::v1::SakipEvent& first = events.front().event;
  for (size_t i = 1; i < events.size(); ++i) {
    const ::sakip::v1::SakipEvent& event = events[i].event;
    if (event.unit_code() != first.unit_code() || event.fiscal_year() != first.fiscal_year()) {
      return Invalid(absl::StrCat("events[", i, "].event"),
                     absl::StrCat("belongs to ", event.unit_code(), "/", event.fiscal_year(),
                                  ", not to ", first.unit_code(), "/", first.fiscal_year(),
                                  " like events[0]; one append is one unit-year"));
    }
  }
  return std::make_pair(first.unit_code(), first.fiscal_year());
}

ProposedEvent ToLedgerEvent(const ProposedDomainEvent& proposed) {
  ProposedEvent event;
  event.event_id = proposed.event_id;
  event.event_type = projections::EventTypeName(proposed.event);
  event.payload = proposed.event.SerializeAsString();
  event.content_type = kSakipContentType;
  event.correlation_id = proposed.correlation_id;
  event.causation_id = proposed.causation_id;
  event.reason = proposed.reason;
  return event;
}

}  // namespace

absl::StatusOr<std::string> StreamIdFor(std::string_view unit_code, int fiscal_year) {
  ASSIGN_OR_RETURN(domain::AreaLevel level, domain::ParseAreaCode("unit_code", unit_code));
  (void)level;
  if (fiscal_year < 2000 || fiscal_year > 2100) {
    return Invalid("fiscal_year", absl::StrCat(fiscal_year, " is outside 2000..2100"));
  }
  return absl::StrCat(Absl(unit_code), "/", fiscal_year);
}

absl::StatusOr<DomainEvent> DecodeDomainEvent(const RecordedEvent& recorded) {
  return projections::DecodeDomainEnvelope(recorded.envelope);
}

absl::StatusOr<uint64_t> SakipLedger::ResolvePosition(AsOf as_of) {
  const uint64_t head = log_->GetHead().position;
  switch (as_of.kind) {
    case AsOf::Kind::kHead: return head;
    case AsOf::Kind::kPosition:
      if (as_of.position > head) {
        return Invalid("as_of.position",
                       absl::StrCat(as_of.position, " is beyond the head at ", head));
      }
      return as_of.position;
    case AsOf::Kind::kTime: return log_->PositionAt(as_of.time);
  }
  return head;
}

absl::Status SakipLedger::FoldForward(const std::string& stream_id, uint64_t position,
                                      Snapshot* snapshot, std::vector<DomainEvent>* folded) {
  uint64_t from_version = snapshot->stream_version + 1;
  while (true) {
    ASSIGN_OR_RETURN(ReadPage page, log_->ReadStream(stream_id, from_version, Direction::kForward,
                                                     limits::kMaxPageSize));
    for (const RecordedEvent& recorded : page.events) {
      if (recorded.envelope.position() > position) return absl::OkStatus();
      snapshot->stream_version = recorded.envelope.stream_version();
      snapshot->last_event_position = recorded.envelope.position();
      // Other events in a unit-year's stream (written through the plain log
      // API, which refuses the SAKIP content type) are not domain facts.
      if (recorded.envelope.content_type() != kSakipContentType) continue;
      ASSIGN_OR_RETURN(DomainEvent event, DecodeDomainEvent(recorded));
      if (absl::Status status = snapshot->state.Apply(event); !status.ok()) {
        return absl::DataLossError(absl::StrCat("position ", event.position,
                                                " does not fold: ", status.message()));
      }
      if (folded != nullptr) folded->push_back(std::move(event));
    }
    if (page.end_of_range) return absl::OkStatus();
    from_version = page.next_from;
  }
}

absl::StatusOr<SakipLedger::Snapshot> SakipLedger::SnapshotAt(const std::string& stream_id,
                                                              uint64_t position) {
  std::shared_ptr<const Snapshot> cached;
  {
    absl::MutexLock lock(&cache_mu_);
    cached = cache_.Get(stream_id);
  }
  Snapshot snapshot;
  if (cached != nullptr && cached->last_event_position <= position) snapshot = *cached;
  const uint64_t cached_version = snapshot.stream_version;
  RETURN_IF_ERROR(FoldForward(stream_id, position, &snapshot, nullptr));
  if (snapshot.stream_version > cached_version &&
      (cached == nullptr || snapshot.stream_version > cached->stream_version)) {
    absl::MutexLock lock(&cache_mu_);
    cache_.Put(stream_id, std::make_shared<const Snapshot>(snapshot), snapshot.stream_version);
  }
  return snapshot;
}

absl::StatusOr<UnitYearView> SakipLedger::Load(std::string_view unit_code, int fiscal_year,
                                               AsOf as_of) {
  ASSIGN_OR_RETURN(std::string stream_id, StreamIdFor(unit_code, fiscal_year));
  ASSIGN_OR_RETURN(uint64_t position, ResolvePosition(as_of));
  Snapshot snapshot;
  UnitYearView view;
  RETURN_IF_ERROR(FoldForward(stream_id, position, &snapshot, &view.events));
  view.state = std::move(snapshot.state);
  view.as_of_position = position;
  view.stream_version = snapshot.stream_version;
  return view;
}

absl::StatusOr<bool> SakipLedger::AnyAlreadyRecorded(
    const std::vector<ProposedDomainEvent>& events) {
  for (const ProposedDomainEvent& event : events) {
    absl::StatusOr<RecordedEvent> recorded = log_->GetEvent(event.event_id);
    if (recorded.ok()) return true;
    if (!absl::IsNotFound(recorded.status()) && !absl::IsInvalidArgument(recorded.status())) {
      return recorded.status();
    }
  }
  return false;
}

namespace {

absl::Status Refused(std::string_view field, std::string_view why) {
  return absl::PermissionDeniedError(absl::StrCat(Absl(field), ": ", Absl(why)));
}

// The NIP a body declares against the recorder's: the body must not name
// another person.
absl::Status CheckDeclaredNip(std::string_view field, std::string_view declared,
                              const Recorder& recorder, std::string_view who) {
  absl::StatusOr<std::string> nip = domain::NormalizeNip(field, declared);
  if (!nip.ok()) return nip.status();  // the fold would refuse it too; name it here
  if (recorder.nip.empty()) {
    return Refused(field, absl::StrCat("principal '", recorder.actor, "' has no NIP, so it cannot be the ",
                                       Absl(who), " this event declares (", *nip, ")"));
  }
  if (*nip != recorder.nip) {
    return Refused(field, absl::StrCat(*nip, " is not the NIP of principal '", recorder.actor, "' (",
                                       recorder.nip, "): the ", Absl(who),
                                       " recorded must be the one who records it"));
  }
  return absl::OkStatus();
}

// The realization, or correction, of a quarter up to the report's and
// recorded up to its submission, that `actor` recorded; null if none.
const projections::EventRef* RealizationBy(const projections::UnitYearState& state,
                                           const projections::SubmittedReport& report,
                                           std::string_view actor) {
  for (const auto& [key, realization] : state.realizations()) {
    if (realization.quarter > report.details.quarter()) continue;
    for (const projections::EventRef& ref : realization.chain) {
      if (ref.position <= report.source.position && ref.actor == actor) return &ref;
    }
  }
  return nullptr;
}

absl::Status CheckDisposition(const projections::UnitYearState& state, const Recorder& recorder,
                              const sakip::v1::ReportDisposed& disposed) {
  RETURN_IF_ERROR(CheckDeclaredNip("report_disposed.supervisor_nip", disposed.supervisor_nip(),
                                   recorder, "supervisor"));
  auto it = state.reports().find(disposed.report_id());
  if (it == state.reports().end()) return absl::OkStatus();  // the fold refuses it
  const projections::SubmittedReport& report = it->second;
  if (report.actor == recorder.actor) {
    return Refused("report_disposed", absl::StrCat("principal '", recorder.actor, "' submitted report ",
                                                   disposed.report_id(),
                                                   " and may not also dispose of it (four-eyes rule)"));
  }
  if (const projections::EventRef* ref = RealizationBy(state, report, recorder.actor)) {
    return Refused("report_disposed",
                   absl::StrCat("principal '", recorder.actor, "' recorded realization event ",
                                ref->event_id, " (position ", ref->position, ") contained in report ",
                                disposed.report_id(), ", and may not dispose of that report "
                                "(four-eyes rule)"));
  }
  return absl::OkStatus();
}

absl::Status CheckSeparationOfDuties(const projections::UnitYearState& state,
                                     const Recorder& recorder, const sakip::v1::SakipEvent& event) {
  switch (event.event_case()) {
    case sakip::v1::SakipEvent::kReportSubmitted:
      return CheckDeclaredNip("report_submitted.signer_nip", event.report_submitted().signer_nip(),
                              recorder, "signer");
    case sakip::v1::SakipEvent::kReportDisposed:
      return CheckDisposition(state, recorder, event.report_disposed());
    default: return absl::OkStatus();
  }
}

}  // namespace

absl::StatusOr<AppendResult> SakipLedger::Record(const Recorder& recorder,
                                                 std::vector<ProposedDomainEvent> events) {
  const std::string& actor = recorder.actor;
  ASSIGN_OR_RETURN(auto unit_year, CommonUnitYear(events));
  ASSIGN_OR_RETURN(std::string stream_id, StreamIdFor(unit_year.first, unit_year.second));
  AppendRequest request;
  request.stream_id = stream_id;
  request.actor = std::string(actor);
  for (const ProposedDomainEvent& event : events) request.events.push_back(ToLedgerEvent(event));

  for (int attempt = 1;; ++attempt) {
    const uint64_t head = log_->GetHead().position;
    ASSIGN_OR_RETURN(Snapshot snapshot, SnapshotAt(stream_id, head));
    projections::UnitYearState& decided = snapshot.state;
    uint64_t position = head;
    for (size_t i = 0; i < events.size(); ++i) {
      DomainEvent event{++position, events[i].event_id, clock_->Now(), actor,
                        events[i].reason, events[i].event};
      if (recorder.separation_of_duties) {
        if (absl::Status status = CheckSeparationOfDuties(decided, recorder, event.event);
            !status.ok()) {
          return absl::Status(status.code(), absl::StrCat("events[", i, "].", status.message()));
        }
      }
      if (absl::Status status = decided.Apply(event); !status.ok()) {
        // A retry of an earlier Record is refused by the fold (its ids are
        // applied already); only then are the ids looked up, and the log
        // answers with the original positions or the conflict.
        ASSIGN_OR_RETURN(bool retry, AnyAlreadyRecorded(events));
        if (!retry) {
          return absl::Status(status.code(), absl::StrCat("events[", i, "].", status.message()));
        }
        request.expected_version = ExpectedVersion::Any();
        return log_->Append(std::move(request));
      }
    }
    request.expected_version = snapshot.stream_version == 0
                                   ? ExpectedVersion::NoStream()
                                   : ExpectedVersion::Exact(snapshot.stream_version);
    absl::StatusOr<AppendResult> result = log_->Append(request);
    if (!absl::IsAborted(result.status()) || attempt == kMaxRecordAttempts) return result;
  }
}

absl::StatusOr<projections::QuarterlyReport> SakipLedger::Report(std::string_view unit_code,
                                                                 int fiscal_year, int quarter,
                                                                 AsOf as_of) {
  ASSIGN_OR_RETURN(std::string stream_id, StreamIdFor(unit_code, fiscal_year));
  ASSIGN_OR_RETURN(uint64_t position, ResolvePosition(as_of));
  ASSIGN_OR_RETURN(Snapshot snapshot, SnapshotAt(stream_id, position));
  if (!snapshot.state.agreement().has_value()) {
    return absl::NotFoundError(absl::StrCat("no performance agreement of ", Absl(unit_code), " for ",
                                            fiscal_year, " is recorded as of position ", position));
  }
  return projections::ComputeReport(snapshot.state, quarter);
}

absl::StatusOr<projections::Reconciliation> SakipLedger::Reconcile(std::string_view unit_code,
                                                                   int fiscal_year,
                                                                   std::string_view report_id) {
  ASSIGN_OR_RETURN(UnitYearView view, Load(unit_code, fiscal_year, AsOf::Head()));
  return projections::ReconcileAsSubmitted(view.events, report_id);
}

}  // namespace ledger
