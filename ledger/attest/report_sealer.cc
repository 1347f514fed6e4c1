#include "ledger/attest/report_sealer.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ledger/attest/report_digest.h"
#include "ledger/attest/system_streams.h"
#include "ledger/util/log.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"
#include "sakip/v1/attestation.pb.h"

namespace ledger::attest {
namespace {

constexpr char kSealerActor[] = "system:ledgerd/report-sealer";
constexpr size_t kEventsPerRead = 256;
constexpr absl::Duration kPollInterval = absl::Milliseconds(200);
constexpr absl::Duration kFirstRetryDelay = absl::Milliseconds(50);
constexpr absl::Duration kMaxRetryDelay = absl::Seconds(5);

struct UnitYear {
  std::string unit_code;
  int fiscal_year = 0;
};

// "35.08.19/2024" -> {"35.08.19", 2024}.
absl::StatusOr<UnitYear> ParseStreamId(std::string_view stream_id) {
  const size_t slash = stream_id.rfind('/');
  UnitYear unit_year;
  if (slash == std::string_view::npos || !absl::SimpleAtoi(Absl(stream_id.substr(slash + 1)), &unit_year.fiscal_year)) {
    return absl::DataLossError(absl::StrCat("stream '", Absl(stream_id), "' is not <unit_code>/<fiscal_year>"));
  }
  unit_year.unit_code = std::string(stream_id.substr(0, slash));
  return unit_year;
}

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsResourceExhausted(status) ||
         absl::IsFailedPrecondition(status) || absl::IsAborted(status) ||
         absl::IsDeadlineExceeded(status);
}

}  // namespace

absl::StatusOr<std::unique_ptr<ReportSealer>> ReportSealer::Start(EventLog* log, SakipLedger* sakip,
                                                                  HeadPublisher* publisher) {
  std::unique_ptr<ReportSealer> sealer(new ReportSealer(log, sakip, publisher));
  ASSIGN_OR_RETURN(uint64_t resume, sealer->ResumePosition());
  ASSIGN_OR_RETURN(std::unique_ptr<Subscription> subscription, log->Subscribe(resume));
  {
    absl::MutexLock lock(&sealer->mu_);
    sealer->looked_at_through_ = resume - 1;
    sealer->subscription_ = subscription.get();
  }
  sealer->thread_ = std::thread(
      [s = sealer.get(), sub = std::move(subscription)]() mutable { s->Loop(std::move(sub)); });
  return sealer;
}

ReportSealer::~ReportSealer() { Stop(); }

void ReportSealer::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (subscription_ != nullptr) subscription_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
}

bool ReportSealer::stopping() {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

absl::StatusOr<uint64_t> ReportSealer::ResumePosition() {
  ASSIGN_OR_RETURN(ReadPage page, log_->ReadStream(kReportSealsStream, 0, Direction::kBackward, 1));
  if (page.events.empty()) return 1;
  sakip::v1::ReportSeal seal;
  if (!seal.ParseFromString(page.events.front().envelope.payload())) {
    return absl::DataLossError(absl::StrCat("position ", page.events.front().envelope.position(), " in ",
                                            kReportSealsStream, " is not a report seal"));
  }
  return seal.submission_position() + 1;
}

absl::Status ReportSealer::WaitUntilSealed(uint64_t position, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || looked_at_through_ >= position;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
    return absl::DeadlineExceededError(absl::StrCat("the submission at position ", position,
                                                    " is not sealed yet; retry"));
  }
  if (looked_at_through_ < position) return absl::UnavailableError("the report sealer has stopped");
  return absl::OkStatus();
}

void ReportSealer::Loop(std::unique_ptr<Subscription> subscription) {
  while (!stopping()) {
    absl::StatusOr<std::vector<RecordedEvent>> events =
        subscription->Next(kEventsPerRead, absl::Now() + kPollInterval);
    if (!events.ok()) break;  // cancelled, or the log closed
    bool sealed_any = false;
    for (const RecordedEvent& event : *events) {
      if (event.envelope.event_type() != "ReportSubmitted" ||
          IsReservedStreamId(event.envelope.stream_id())) {
        continue;
      }
      sealed_any = SealWithRetry(event) || sealed_any;
    }
    if (sealed_any && publisher_ != nullptr) {
      if (absl::StatusOr<PublishedHead> head = publisher_->PublishNow(); !head.ok()) {
        LEDGER_LOG_WARN("report sealed, but no tree head signed yet: %s", head.status().ToString());
      }
    }
    absl::MutexLock lock(&mu_);
    looked_at_through_ = subscription->next_position() - 1;
  }
  absl::MutexLock lock(&mu_);
  subscription_ = nullptr;
}

bool ReportSealer::SealWithRetry(const RecordedEvent& submission) {
  absl::Duration delay = kFirstRetryDelay;
  while (true) {
    absl::StatusOr<bool> sealed = Seal(submission);
    if (sealed.ok()) return *sealed;
    if (!IsTransient(sealed.status()) || stopping()) {
      LEDGER_LOG_ERROR("the report submitted at position %d is NOT sealed: %s",
                       submission.envelope.position(), sealed.status().ToString());
      return false;
    }
    absl::SleepFor(delay);
    delay = std::min(delay * 2, kMaxRetryDelay);
  }
}

absl::StatusOr<bool> ReportSealer::Seal(const RecordedEvent& submission) {
  const v1::EventEnvelope& envelope = submission.envelope;
  ASSIGN_OR_RETURN(UnitYear unit_year, ParseStreamId(envelope.stream_id()));
  ASSIGN_OR_RETURN(projections::DomainEvent event, DecodeDomainEvent(submission));
  const sakip::v1::ReportSubmitted& submitted = event.event.report_submitted();
  ASSIGN_OR_RETURN(projections::QuarterlyReport report,
                   sakip_->Report(unit_year.unit_code, unit_year.fiscal_year, submitted.quarter(),
                                  AsOf::Position(envelope.position())));
  sakip::v1::ReportSeal seal;
  seal.set_stream_id(envelope.stream_id());
  seal.set_report_id(submitted.report_id());
  seal.set_quarter(submitted.quarter());
  seal.set_submission_event_id(envelope.event_id());
  seal.set_submission_position(envelope.position());
  seal.set_submission_stream_version(envelope.stream_version());
  seal.set_digest_format(kReportDigestFormat);
  seal.set_report_sha256(ReportSha256(report));

  AppendRequest request;
  request.stream_id = kReportSealsStream;
  request.expected_version = ExpectedVersion::Any();
  request.actor = kSealerActor;
  ProposedEvent& proposed = request.events.emplace_back();
  proposed.event_id = ReportSealEventId(envelope.position());
  proposed.event_type = kReportSealedType;
  proposed.content_type = kReportSealContentType;
  proposed.causation_id = envelope.event_id();
  proposed.payload = seal.SerializeAsString();
  ASSIGN_OR_RETURN(AppendResult appended, log_->Append(std::move(request)));
  return !appended.already_recorded;
}

}  // namespace ledger::attest
