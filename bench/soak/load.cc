#include "bench/soak/load.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"

namespace ledger::soak {
namespace {

namespace pb = ::sakip::v1;

// Positions of a unit-year's batches kept for reports as of a past moment.
constexpr size_t kPastPositionsKept = 64;
// Fraction of raw appends that re-send the previous append (idempotency).
constexpr uint64_t kResendOneIn = 50;
// Recent (position, hash) pairs a follower keeps, to find the final head's.
constexpr size_t kRecentHashesKept = 512;

std::string StatusText(const char* what, const grpc::Status& status) {
  return absl::StrCat(what, ": code ", status.error_code(), ": ", status.error_message());
}

absl::Status CheckFailed(std::string message) {
  return absl::InternalError(absl::StrCat("check failed: ", message));
}

// A JSON document from another system, 150..900 bytes.
std::string RawPayload(const std::string& event_id, std::mt19937_64& random) {
  std::string payload = absl::StrCat(
      "{\"source\":\"SIPD\",\"event\":\"", event_id, "\",\"document\":\"SPM-", random() % 100000,
      "\",\"amount\":\"", 100000 + random() % 90000000, "\",\"note\":\"");
  payload.append(100 + random() % 750, 'n');
  return payload + "\"}";
}

}  // namespace

uint64_t HashEventId(const std::string& event_id) { return std::hash<std::string>()(event_id); }

// One unit: its current unit-year feed, and what reports and history read.
struct Load::Unit {
  absl::Mutex mu;
  int slot = 0;
  int generation ABSL_GUARDED_BY(mu) = 0;
  std::unique_ptr<UnitYearFeed> feed ABSL_GUARDED_BY(mu);
  // The newest unit-year whose plan is recorded (0: none yet), its events
  // acknowledged, its last acknowledged position, and past positions of it.
  std::string read_unit_code ABSL_GUARDED_BY(mu);
  int read_year ABSL_GUARDED_BY(mu) = 0;
  size_t read_events ABSL_GUARDED_BY(mu) = 0;
  uint64_t read_last_position ABSL_GUARDED_BY(mu) = 0;
  std::vector<uint64_t> read_positions ABSL_GUARDED_BY(mu);
  uint64_t batches ABSL_GUARDED_BY(mu) = 0;
};

struct Load::RawStream {
  absl::Mutex mu;
  std::string stream_id;
  uint64_t version ABSL_GUARDED_BY(mu) = 0;
  uint64_t serial ABSL_GUARDED_BY(mu) = 0;
  bool has_last ABSL_GUARDED_BY(mu) = false;
  v1::AppendRequest last_request ABSL_GUARDED_BY(mu);
  v1::AppendResponse last_response ABSL_GUARDED_BY(mu);
};

// A live follower. Only its thread touches it, except last_delivered.
struct Load::Follower {
  int index = 0;
  uint64_t next_position = 1;
  std::string last_hash;
  std::deque<std::pair<uint64_t, std::string>> recent;
  std::atomic<uint64_t> last_delivered{0};
  FollowerResult result;
  // The subscription in progress, so that StopFollowers can cancel it.
  absl::Mutex mu;
  grpc::ClientContext* active ABSL_GUARDED_BY(mu) = nullptr;
};

Load::Load(LoadOptions options, std::vector<std::shared_ptr<grpc::Channel>> channels)
    : options_(std::move(options)) {
  for (const auto& channel : channels) {
    ledger_stubs_.push_back(v1::LedgerService::NewStub(channel));
    report_stubs_.push_back(pb::ReportService::NewStub(channel));
    audit_stubs_.push_back(pb::AuditService::NewStub(channel));
  }
  for (int i = 0; i < options_.units; ++i) {
    auto unit = std::make_unique<Unit>();
    unit->slot = i;
    units_.push_back(std::move(unit));
  }
  for (int i = 0; i < options_.raw_streams; ++i) {
    auto stream = std::make_unique<RawStream>();
    stream->stream_id = absl::StrCat("soak.", options_.run_tag, ".raw-", i);
    raw_streams_.push_back(std::move(stream));
  }
}

Load::~Load() {
  JoinWorkers();
  // Followers still running (an early return): stop them at their next event
  // or at the end of their subscription's lifetime.
  if (!follower_threads_.empty()) StopFollowers(1, absl::Now());
}

void Load::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
}

std::vector<OpStats*> Load::stats() {
  return {&plan_stats_,    &sakip_stats_, &append_stats_, &report_stats_,
          &history_stats_, &read_stats_,  &deliver_stats_};
}

void Load::Acknowledge(const std::vector<std::string>& event_ids, uint64_t first_position) {
  absl::MutexLock lock(&acked_mu_);
  for (size_t i = 0; i < event_ids.size(); ++i) {
    acked_.push_back({first_position + i, HashEventId(event_ids[i])});
  }
}

std::vector<AckedEvent> Load::AckedSorted() const {
  std::vector<AckedEvent> sorted;
  {
    absl::MutexLock lock(&acked_mu_);
    sorted = acked_;
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const AckedEvent& a, const AckedEvent& b) { return a.position < b.position; });
  return sorted;
}

uint64_t Load::acked_count() const {
  absl::MutexLock lock(&acked_mu_);
  return acked_.size();
}

// --- SAKIP events -----------------------------------------------------------

absl::Status Load::RecordBatch(Unit* unit, const std::vector<pb::ProposedSakipEvent>& batch,
                               std::mt19937_64& random) {
  pb::RecordEventsRequest request;
  for (const pb::ProposedSakipEvent& event : batch) *request.add_events() = event;
  grpc::ClientContext context;
  SetDeadline(&context);
  pb::RecordEventsResponse response;
  grpc::Status status =
      report_stubs_[random() % report_stubs_.size()]->RecordEvents(&context, request, &response);
  const std::string stream = absl::StrCat(unit->feed->unit_code(), "/", unit->feed->fiscal_year());
  if (!status.ok()) {
    return absl::UnavailableError(
        StatusText(absl::StrCat("RecordEvents ", stream).c_str(), status));
  }
  const uint64_t count = batch.size();
  const uint64_t expected_version = unit->feed->events_committed() + count;
  if (response.already_recorded() ||
      response.last_position() + 1 - response.first_position() != count ||
      response.stream_version() != expected_version) {
    return CheckFailed(absl::StrCat("RecordEvents ", stream, " of ", count, " new events answered ",
                                    response.ShortDebugString(), " (expected stream version ",
                                    expected_version, ")"));
  }
  std::vector<std::string> ids;
  for (const pb::ProposedSakipEvent& event : batch) ids.push_back(event.event_id());
  Acknowledge(ids, response.first_position());
  unit->feed->Commit(batch);
  if (batch.front().event().has_agreement_established()) {
    unit->read_unit_code = unit->feed->unit_code();
    unit->read_year = unit->feed->fiscal_year();
    unit->read_positions.clear();
  }
  unit->read_events = unit->feed->events_committed();
  unit->read_last_position = response.last_position();
  if (unit->read_positions.size() < kPastPositionsKept) {
    unit->read_positions.push_back(response.last_position());
  } else {
    unit->read_positions[unit->batches % kPastPositionsKept] = response.last_position();
  }
  ++unit->batches;
  return absl::OkStatus();
}

absl::Status Load::PlanUnits() {
  std::mt19937_64 random(options_.seed);
  for (auto& unit : units_) {
    const absl::Time start = absl::Now();
    absl::MutexLock lock(&unit->mu);
    unit->feed =
        std::make_unique<UnitYearFeed>(SoakUnitCode(unit->slot), options_.first_fiscal_year,
                                       options_.run_tag, options_.events_per_unit_year);
    absl::Status status = RecordBatch(unit.get(), unit->feed->Plan(), random);
    if (!status.ok()) {
      plan_stats_.RecordError(std::string(status.message()));
      return status;
    }
    plan_stats_.RecordOk(absl::ToInt64Microseconds(absl::Now() - start));
  }
  return absl::OkStatus();
}

absl::Status Load::SakipOp(std::mt19937_64& random) {
  Unit* unit = units_[random() % units_.size()].get();
  absl::MutexLock lock(&unit->mu);
  if (unit->feed->planned() && unit->feed->year_done()) {
    // The next fiscal year; past 2100 (the ledger's last year) a new unit code.
    const int years = 2100 - options_.first_fiscal_year + 1;
    ++unit->generation;
    const int code_index = unit->slot + options_.units * (unit->generation / years);
    unit->feed = std::make_unique<UnitYearFeed>(
        SoakUnitCode(code_index), options_.first_fiscal_year + unit->generation % years,
        options_.run_tag, options_.events_per_unit_year);
  }
  if (!unit->feed->planned()) return RecordBatch(unit, unit->feed->Plan(), random);
  return RecordBatch(unit, unit->feed->NextBatch(random), random);
}

// --- raw appends ------------------------------------------------------------

absl::Status Load::AppendOp(std::mt19937_64& random) {
  RawStream* stream = raw_streams_[random() % raw_streams_.size()].get();
  absl::MutexLock lock(&stream->mu);
  auto* stub = ledger_stubs_[random() % ledger_stubs_.size()].get();
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::AppendResponse response;
  if (stream->has_last && random() % kResendOneIn == 0) {
    grpc::Status status = stub->Append(&context, stream->last_request, &response);
    if (!status.ok()) return absl::UnavailableError(StatusText("Append (re-send)", status));
    if (!response.already_recorded() ||
        response.first_position() != stream->last_response.first_position() ||
        response.last_position() != stream->last_response.last_position()) {
      return CheckFailed(absl::StrCat("a re-sent append to ", stream->stream_id, " answered ",
                                      response.ShortDebugString(), " instead of the original ",
                                      stream->last_response.ShortDebugString()));
    }
    return absl::OkStatus();
  }
  v1::AppendRequest request;
  request.set_stream_id(stream->stream_id);
  if (stream->version == 0) {
    request.mutable_expected_version()->mutable_no_stream();
  } else {
    request.mutable_expected_version()->set_exact(stream->version);
  }
  const int count = 1 + static_cast<int>(random() % 5);
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    v1::ProposedEvent* event = request.add_events();
    event->set_event_id(absl::StrCat(stream->stream_id, "-", ++stream->serial));
    event->set_event_type("ExternalDocumentLinked");
    event->set_content_type("application/json");
    event->set_payload(RawPayload(event->event_id(), random));
    event->set_correlation_id(absl::StrCat(stream->stream_id, "-batch-", stream->serial));
    ids.push_back(event->event_id());
  }
  grpc::Status status = stub->Append(&context, request, &response);
  if (!status.ok()) return absl::UnavailableError(StatusText("Append", status));
  if (response.already_recorded() ||
      response.last_position() + 1 - response.first_position() != static_cast<uint64_t>(count) ||
      response.stream_version() != stream->version + count) {
    return CheckFailed(absl::StrCat("Append of ", count, " new events to ", stream->stream_id,
                                    " at version ", stream->version, " answered ",
                                    response.ShortDebugString()));
  }
  Acknowledge(ids, response.first_position());
  stream->version = response.stream_version();
  stream->last_request = std::move(request);
  stream->last_response = response;
  stream->has_last = true;
  return absl::OkStatus();
}

// --- reads ------------------------------------------------------------------

Load::UnitYearSnapshot Load::Snapshot(Unit* unit, std::mt19937_64& random) {
  absl::MutexLock lock(&unit->mu);
  UnitYearSnapshot snapshot;
  snapshot.unit_code = unit->read_unit_code;
  snapshot.fiscal_year = unit->read_year;
  snapshot.events = unit->read_events;
  snapshot.last_position = unit->read_last_position;
  if (!unit->read_positions.empty()) {
    snapshot.past_position = unit->read_positions[random() % unit->read_positions.size()];
  }
  return snapshot;
}

absl::Status Load::ReportOp(std::mt19937_64& random) {
  Unit* unit = units_[random() % units_.size()].get();
  const UnitYearSnapshot snapshot = Snapshot(unit, random);
  pb::GetReportRequest request;
  request.set_unit_code(snapshot.unit_code);
  request.set_fiscal_year(snapshot.fiscal_year);
  request.set_quarter(1 + static_cast<int>(random() % 4));
  const bool as_of_past = random() % 2 == 0;
  if (as_of_past) request.set_position(snapshot.past_position);
  grpc::ClientContext context;
  SetDeadline(&context);
  pb::GetReportResponse response;
  grpc::Status status =
      report_stubs_[random() % report_stubs_.size()]->GetReport(&context, request, &response);
  if (!status.ok()) return absl::UnavailableError(StatusText("GetReport", status));
  const bool position_ok = as_of_past ? response.as_of_position() == snapshot.past_position
                                      : response.as_of_position() >= snapshot.last_position;
  if (!position_ok || response.report().unit_code() != snapshot.unit_code ||
      response.report().fiscal_year() != snapshot.fiscal_year ||
      response.report().indicators_size() != 4) {
    return CheckFailed(
        absl::StrCat("GetReport ", request.ShortDebugString(), " answered as of ",
                     response.as_of_position(), " for ", response.report().unit_code(), "/",
                     response.report().fiscal_year(), " with ", response.report().indicators_size(),
                     " indicators (acknowledged up to ", snapshot.last_position, ")"));
  }
  return absl::OkStatus();
}

absl::Status Load::HistoryOp(std::mt19937_64& random) {
  Unit* unit = units_[random() % units_.size()].get();
  const UnitYearSnapshot snapshot = Snapshot(unit, random);
  pb::GetHistoryRequest request;
  request.set_unit_code(snapshot.unit_code);
  request.add_fiscal_years(snapshot.fiscal_year);
  request.set_newest_first(random() % 2 == 0);
  request.set_page_size(50);
  grpc::ClientContext context;
  SetDeadline(&context);
  pb::GetHistoryResponse response;
  grpc::Status status =
      audit_stubs_[random() % audit_stubs_.size()]->GetHistory(&context, request, &response);
  if (!status.ok()) return absl::UnavailableError(StatusText("GetHistory", status));
  bool ordered = true;
  for (int i = 1; i < response.entries_size(); ++i) {
    const uint64_t before = response.entries(i - 1).position();
    const uint64_t now = response.entries(i).position();
    ordered = ordered && (request.newest_first() ? before > now : before < now);
  }
  bool same_unit = true;
  for (const pb::HistoryEntry& entry : response.entries()) {
    same_unit = same_unit && entry.unit_code() == snapshot.unit_code &&
                entry.fiscal_year() == snapshot.fiscal_year;
  }
  if (!ordered || !same_unit || response.total_matching() < static_cast<int>(snapshot.events) ||
      response.entries_size() != std::min<int>(50, response.total_matching())) {
    return CheckFailed(absl::StrCat(
        "GetHistory ", request.ShortDebugString(), " answered ", response.entries_size(),
        " entries of ", response.total_matching(), " (ordered ", ordered, ", of the unit-year ",
        same_unit, "; acknowledged ", snapshot.events, ")"));
  }
  return absl::OkStatus();
}

absl::Status Load::ReadOp(std::mt19937_64& random) {
  v1::ReadStreamRequest request;
  uint64_t acknowledged_version = 0;
  if (random() % 2 == 0) {
    Unit* unit = units_[random() % units_.size()].get();
    const UnitYearSnapshot snapshot = Snapshot(unit, random);
    request.set_stream_id(absl::StrCat(snapshot.unit_code, "/", snapshot.fiscal_year));
    acknowledged_version = snapshot.events;
  } else {
    RawStream* stream = raw_streams_[random() % raw_streams_.size()].get();
    absl::MutexLock lock(&stream->mu);
    request.set_stream_id(stream->stream_id);
    acknowledged_version = stream->version;
    if (acknowledged_version == 0) return absl::OkStatus();  // nothing to read yet
  }
  request.set_direction(v1::DIRECTION_BACKWARD);  // the newest first
  request.set_max_count(50);
  grpc::ClientContext context;
  SetDeadline(&context);
  v1::ReadResponse response;
  grpc::Status status =
      ledger_stubs_[random() % ledger_stubs_.size()]->ReadStream(&context, request, &response);
  if (!status.ok()) return absl::UnavailableError(StatusText("ReadStream", status));
  bool contiguous = response.events_size() > 0 &&
                    response.events(0).envelope().stream_version() >= acknowledged_version;
  for (int i = 0; contiguous && i < response.events_size(); ++i) {
    const v1::EventEnvelope& envelope = response.events(i).envelope();
    contiguous = envelope.stream_id() == request.stream_id() &&
                 envelope.stream_version() == response.events(0).envelope().stream_version() - i;
  }
  if (!contiguous) {
    return CheckFailed(absl::StrCat("ReadStream ", request.ShortDebugString(), " answered ",
                                    response.events_size(),
                                    " events that are not the newest contiguous versions (",
                                    acknowledged_version, " acknowledged)"));
  }
  return absl::OkStatus();
}

// --- followers ----------------------------------------------------------------

void Load::FollowOnce(Follower* follower) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.subscription_lifetime));
  v1::SubscribeRequest request;
  request.set_from_position(follower->next_position);
  auto* stub = ledger_stubs_[follower->index % ledger_stubs_.size()].get();
  {
    absl::MutexLock lock(&follower->mu);
    follower->active = &context;
  }
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader =
      stub->Subscribe(&context, request);
  ++follower->result.subscriptions;
  v1::SubscribeResponse message;
  bool cancelled = false;
  while (reader->Read(&message)) {
    if (!message.has_event()) continue;  // caught_up
    const v1::RecordedEvent& event = message.event();
    const uint64_t position = event.envelope().position();
    if (position != follower->next_position && follower->result.errors.size() < 10) {
      follower->result.errors.push_back(absl::StrCat("expected position ", follower->next_position,
                                                     ", got ", position, " (a gap or a repeat)"));
    }
    if (!follower->last_hash.empty() && event.envelope().prev_hash() != follower->last_hash &&
        follower->result.errors.size() < 10) {
      follower->result.errors.push_back(
          absl::StrCat("position ", position, ": prev_hash does not link to the event before"));
    }
    follower->last_hash = event.hash();
    follower->recent.emplace_back(position, event.hash());
    if (follower->recent.size() > kRecentHashesKept) follower->recent.pop_front();
    follower->next_position = position + 1;
    follower->last_delivered.store(position);
    ++follower->result.delivered;
    const int64_t lag_us = absl::ToUnixMicros(absl::Now()) - event.envelope().recorded_at_micros();
    deliver_stats_.RecordOk(static_cast<uint64_t>(std::max<int64_t>(lag_us, 0)));
    const uint64_t final_position = final_position_.load();
    if (final_position != 0 && position >= final_position) {
      context.TryCancel();
      cancelled = true;
      break;
    }
  }
  grpc::Status status = reader->Finish();
  {
    absl::MutexLock lock(&follower->mu);
    follower->active = nullptr;
  }
  const uint64_t final_position = final_position_.load();
  const bool stopped = final_position != 0 && follower->next_position > final_position;
  const bool expected_end =
      cancelled || stopped || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
  if (!expected_end) {
    deliver_stats_.RecordError(StatusText("Subscribe", status));
    if (follower->result.errors.size() < 10) {
      follower->result.errors.push_back(StatusText("Subscribe ended", status));
    }
  }
}

void Load::RunFollower(Follower* follower) {
  while (true) {
    const uint64_t final_position = final_position_.load();
    if (final_position != 0 && follower->next_position > final_position) break;
    const int64_t deadline_ms = follow_deadline_unix_ms_.load();
    if (deadline_ms != 0 && absl::ToUnixMillis(absl::Now()) > deadline_ms) break;
    FollowOnce(follower);
  }
  follower->result.last_position = follower->next_position - 1;
}

void Load::StartFollowers(uint64_t from_position, const std::string& prev_hash) {
  for (int i = 0; i < options_.subscribers; ++i) {
    auto follower = std::make_unique<Follower>();
    follower->index = i;
    follower->next_position = from_position;
    follower->last_hash = prev_hash;
    follower->result.first_position = from_position;
    follower->last_delivered.store(from_position - 1);
    follower_threads_.emplace_back([this, f = follower.get()] { RunFollower(f); });
    followers_.push_back(std::move(follower));
  }
}

void Load::StartWorkers(absl::Time start, absl::Time end) {
  struct Kind {
    OpStats* stats;
    double rate_per_s;
    absl::Status (Load::*op)(std::mt19937_64&);
  };
  const Kind kinds[] = {{&sakip_stats_, options_.sakip_rate_per_s, &Load::SakipOp},
                        {&append_stats_, options_.append_rate_per_s, &Load::AppendOp},
                        {&report_stats_, options_.report_rate_per_s, &Load::ReportOp},
                        {&history_stats_, options_.history_rate_per_s, &Load::HistoryOp},
                        {&read_stats_, options_.read_rate_per_s, &Load::ReadOp}};
  for (const Kind& kind : kinds) {
    if (kind.rate_per_s <= 0) continue;
    for (int worker = 0; worker < options_.workers_per_kind; ++worker) {
      workers_.emplace_back([this, kind, worker, start, end] {
        RunOpenLoop(kind.stats, kind.rate_per_s, worker, start, end, kind.op);
      });
    }
  }
}

void Load::RunOpenLoop(OpStats* stats, double rate_per_s, int worker, absl::Time start,
                       absl::Time end, absl::Status (Load::*op)(std::mt19937_64&)) {
  std::mt19937_64 random(options_.seed * 1000003 + std::hash<std::string>()(stats->kind()) +
                         worker);
  const int workers = options_.workers_per_kind;
  for (uint64_t i = worker;; i += workers) {
    // Operation i is due at start + i / rate, whatever happened before it.
    const absl::Time due = start + absl::Seconds(static_cast<double>(i) / rate_per_s);
    if (due >= end) return;
    absl::SleepFor(due - absl::Now());
    absl::Status status = (this->*op)(random);
    if (status.ok()) {
      stats->RecordOk(static_cast<uint64_t>(absl::ToInt64Microseconds(absl::Now() - due)));
    } else {
      stats->RecordError(absl::StrCat(stats->kind(), ": ", status.message()));
    }
  }
}

void Load::JoinWorkers() {
  for (std::thread& worker : workers_) worker.join();
  workers_.clear();
}

std::vector<FollowerResult> Load::StopFollowers(uint64_t final_position, absl::Time deadline) {
  follow_deadline_unix_ms_.store(absl::ToUnixMillis(deadline));
  final_position_.store(final_position);
  // A follower stores last_delivered before it reads final_position_, and
  // final_position_ is stored before this reads last_delivered: either the
  // follower sees the final head and stops, or it is cancelled here.
  for (auto& follower : followers_) {
    absl::MutexLock lock(&follower->mu);
    if (follower->active != nullptr && follower->last_delivered.load() >= final_position) {
      follower->active->TryCancel();
    }
  }
  for (std::thread& thread : follower_threads_) thread.join();
  follower_threads_.clear();
  std::vector<FollowerResult> results;
  for (auto& follower : followers_) {
    FollowerResult result = follower->result;
    for (const auto& [position, hash] : follower->recent) {
      if (position == final_position) result.hash_at_final = hash;
    }
    if (result.last_position < final_position) {
      result.errors.push_back(absl::StrCat("stopped at position ", result.last_position,
                                           ", before the final head ", final_position));
    }
    results.push_back(std::move(result));
  }
  return results;
}

std::vector<uint64_t> Load::FollowerPositions() const {
  std::vector<uint64_t> positions;
  for (const auto& follower : followers_) positions.push_back(follower->last_delivered.load());
  return positions;
}

}  // namespace ledger::soak
