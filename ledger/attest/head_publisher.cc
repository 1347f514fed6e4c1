#include "ledger/attest/head_publisher.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ledger/attest/system_streams.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/util/log.h"
#include "ledger/util/status_macros.h"

namespace ledger::attest {
namespace {

constexpr char kPublisherActor[] = "system:ledgerd/head-publisher";

absl::StatusOr<PublishedHead> DecodeHeadEvent(const RecordedEvent& event, const HeadSigner& signer) {
  v1::SignedTreeHead proto;
  if (event.envelope.event_type() != kTreeHeadSignedType || !proto.ParseFromString(event.envelope.payload())) {
    return absl::DataLossError(absl::StrCat("position ", event.envelope.position(), " in ",
                                            kTreeHeadsStream, " is not a signed tree head"));
  }
  absl::StatusOr<SignedTreeHead> head = FromProto(proto);
  if (!head.ok()) {
    return absl::DataLossError(absl::StrCat("position ", event.envelope.position(), ": ",
                                            head.status().message()));
  }
  // A head signed by an earlier key cannot be checked here; the next head is
  // signed with the current key.
  if (head->key_id == signer.key_id() && !VerifyTreeHead(*head, signer.public_key())) {
    return absl::DataLossError(absl::StrCat("position ", event.envelope.position(),
                                            ": the tree head's signature does not verify with key ",
                                            signer.key_id()));
  }
  return PublishedHead{*std::move(head), event.envelope.position()};
}

// True when `latest` no longer covers the log: events other than its own
// "TreeHeadSigned" event came after its size (including events that landed
// between signing and recording it), or it was signed with another key.
bool NeedsNewHead(const PublishedHead& latest, uint64_t log_size, std::string_view key_id) {
  const uint64_t covered = latest.signed_head.head.tree_size;
  const bool only_its_own_event =
      latest.recorded_at_position == covered + 1 && log_size == latest.recorded_at_position;
  return latest.signed_head.key_id != key_id || (log_size > covered && !only_its_own_event);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HeadPublisher>> HeadPublisher::Start(EventLog* log, const HeadSigner* signer,
                                                                    HeadPublisherOptions options) {
  std::unique_ptr<HeadPublisher> publisher(new HeadPublisher(log, signer, std::move(options)));
  RETURN_IF_ERROR(publisher->LoadLatest());
  if (publisher->options_.interval > absl::ZeroDuration()) {
    publisher->thread_ = std::thread([p = publisher.get()] { p->Loop(); });
  }
  return publisher;
}

HeadPublisher::~HeadPublisher() { Stop(); }

void HeadPublisher::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::Status HeadPublisher::LoadLatest() {
  ASSIGN_OR_RETURN(ReadPage page, log_->ReadStream(kTreeHeadsStream, 0, Direction::kBackward, 1));
  if (page.events.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(PublishedHead latest, DecodeHeadEvent(page.events.front(), *signer_));
  {
    absl::MutexLock lock(&publish_mu_);
    head_stream_version_ = page.events.front().envelope.stream_version();
  }
  absl::MutexLock lock(&mu_);
  latest_ = std::move(latest);
  return absl::OkStatus();
}

absl::StatusOr<PublishedHead> HeadPublisher::Latest() {
  absl::MutexLock lock(&mu_);
  if (!latest_.has_value()) {
    return absl::FailedPreconditionError("no tree head has been signed yet");
  }
  return *latest_;
}

absl::StatusOr<PublishedHead> HeadPublisher::PublishNow(bool from_request) {
  absl::MutexLock lock(&publish_mu_);
  if (from_request) {
    const absl::Time now = options_.clock->Now();
    if (now - last_requested_sign_ < options_.min_interval_on_request) return Latest();
    last_requested_sign_ = now;
  }
  return SignAndRecord();
}

absl::StatusOr<PublishedHead> HeadPublisher::SignAndRecord() {
  const Head head = log_->GetHead();
  absl::StatusOr<PublishedHead> latest = Latest();
  if (latest.ok() && !NeedsNewHead(*latest, head.position, signer_->key_id())) {
    RETURN_IF_ERROR(Witness(*latest));
    return latest;
  }
  if (WriteState state = log_->GetWriteState(); !state.writable) {
    if (latest.ok()) return latest;
    return absl::FailedPreconditionError(
        absl::StrCat("no tree head can be signed: the ledger refuses writes: ", state.refusal_reason));
  }
  ASSIGN_OR_RETURN(std::string root, log_->TreeRoot(head.position));
  TreeHead tree_head;
  tree_head.tree_size = head.position;
  // Never earlier than the last event it covers, even if the clock stepped back.
  tree_head.timestamp_micros =
      std::max(absl::ToUnixMicros(options_.clock->Now()), absl::ToUnixMicros(head.recorded_at));
  tree_head.root_hash = std::move(root);
  SignedTreeHead signed_head = signer_->Sign(tree_head);

  AppendRequest request;
  request.stream_id = kTreeHeadsStream;
  request.expected_version = head_stream_version_ == 0 ? ExpectedVersion::NoStream()
                                                       : ExpectedVersion::Exact(head_stream_version_);
  request.actor = kPublisherActor;
  ProposedEvent& event = request.events.emplace_back();
  event.event_id = TreeHeadEventId(tree_head.tree_size);
  event.event_type = kTreeHeadSignedType;
  event.content_type = kTreeHeadContentType;
  event.payload = ToProto(signed_head).SerializeAsString();
  ASSIGN_OR_RETURN(AppendResult appended, log_->Append(std::move(request)));
  head_stream_version_ = appended.stream_version;

  PublishedHead published{std::move(signed_head), appended.last_position};
  {
    absl::MutexLock lock(&mu_);
    latest_ = published;
  }
  latest_witnessed_ = false;
  RETURN_IF_ERROR(Witness(published));
  return published;
}

// Writes the witness of `published` unless it holds it already. On failure
// the old witness stays (WriteFileDurably replaces it whole or not at all):
// it lags the log, which the open-time check accepts, and the next
// publication tries again.
absl::Status HeadPublisher::Witness(const PublishedHead& published) {
  if (options_.witness_path.empty() || latest_witnessed_) return absl::OkStatus();
  if (absl::Status status = WriteHeadWitness(options_.witness_path, published.signed_head,
                                             options_.witness_file_ops);
      !status.ok()) {
    return absl::UnavailableError(absl::StrCat("tree head of size ", published.signed_head.head.tree_size,
                                               " recorded, but the head witness ", options_.witness_path,
                                               " could not be written: ", status.message()));
  }
  latest_witnessed_ = true;
  return absl::OkStatus();
}

void HeadPublisher::Loop() {
  std::string last_error;
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval);
      if (stopping_) return;
    }
    // An empty log gets its first head only when a client asks: an idle new
    // ledger does not write an event of its own before its first real one.
    if (log_->GetHead().position == 0) continue;
    absl::StatusOr<PublishedHead> published = PublishNow(/*from_request=*/false);
    // Say each distinct problem once, not once per interval.
    std::string error = published.ok() ? "" : published.status().ToString();
    if (!error.empty() && error != last_error) LEDGER_LOG_WARN("tree head not signed: %s", error);
    last_error = std::move(error);
  }
}

}  // namespace ledger::attest
