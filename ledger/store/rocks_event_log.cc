// The RocksDB event log. See rocks_event_log.h for the design.
//
// Threads and locks:
//   - queue_mu_ guards the queue of pending appends and `stopping_`.
//   - state_mu_ guards what readers and subscribers see: the published head,
//     the write state, the recent-events ring and the subscription count.
//     head_changed_ is signalled whenever the head moves or the log closes.
//   - The writer thread alone owns writer_head_ and stream_versions_; nothing
//     else touches them, so they need no lock.
// Lock order: queue_mu_ and state_mu_ are never held together.
//
// Invariants (checked; a violation aborts before anything is written):
//   - the writer assigns position writer_head_.position + 1 next, and chains
//     to writer_head_.hash;
//   - the published head never runs ahead of what RocksDB has synced;
//   - a subscriber receives next_position, next_position + 1, ... exactly.
#include "ledger/store/rocks_event_log.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "ledger/integrity/chain_verifier.h"
#include "ledger/integrity/record.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/append_validation.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocks_options.h"
#include "ledger/util/check.h"
#include "ledger/util/log.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace ledger {
namespace {

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

// One event prepared on the caller's thread: everything that does not depend
// on the log's state, so that the single writer does only what must be serial.
struct PreparedEvent {
  // The envelope with every field set except position, stream_version,
  // recorded_at_micros and prev_hash, which the writer fills in.
  std::shared_ptr<RecordedEvent> event;
  // Those same fixed fields, serialized. The stored body is the serialized
  // writer-assigned fields followed by these bytes: protobuf parses fields in
  // any order, and the hash covers exactly the stored bytes.
  std::string fixed_bytes;
  // IdempotencyDigest of the proposed event.
  std::string digest;
};

// One caller's append, waiting for the writer.
struct PendingAppend {
  AppendRequest request;  // payloads moved into `prepared`
  std::vector<PreparedEvent> prepared;
  size_t bytes = 0;
  absl::StatusOr<AppendResult> result = absl::InternalError("append not processed");
  // True when the result holds only if the group's batch commits.
  bool depends_on_batch = false;
  AppendCallback done;
};

// Head as the writer sees it (including what it has not published yet).
struct WriterHead {
  uint64_t position = 0;
  std::string hash = GenesisHash();
  int64_t recorded_at_micros = 0;
};

// A group whose write has returned, waiting for the completer thread to
// publish it and answer its callers, in order.
struct CommittedGroup {
  std::vector<PendingAppend*> appends;
  // Empty when the group wrote nothing (all refused, retries, or the write
  // failed); then `head` is unused.
  std::vector<std::shared_ptr<const RecordedEvent>> staged;
  struct WriterHeadCopy {
    uint64_t position = 0;
    std::string hash;
    int64_t recorded_at_micros = 0;
  } head;
};

// What one group commit has staged but not yet written.
struct GroupOverlay {
  WriterHead head;
  absl::flat_hash_map<std::string, uint64_t> stream_versions;
  absl::flat_hash_map<std::string, keys::IdEntry> ids;
  std::vector<std::shared_ptr<const RecordedEvent>> staged;
};

size_t RequestBytes(const AppendRequest& request) {
  size_t bytes = 0;
  for (const ProposedEvent& event : request.events) bytes += event.payload.size() + 256;
  return bytes;
}

// Builds the state-independent part of each event (on the caller's thread).
void Prepare(PendingAppend* pending) {
  AppendRequest& request = pending->request;
  pending->bytes = RequestBytes(request);
  pending->prepared.reserve(request.events.size());
  for (ProposedEvent& proposed : request.events) {
    PreparedEvent prepared;
    prepared.digest = IdempotencyDigest(request.stream_id, request.actor, proposed);
    prepared.event = std::make_shared<RecordedEvent>();
    v1::EventEnvelope& envelope = prepared.event->envelope;
    envelope.set_stream_id(request.stream_id);
    envelope.set_event_id(proposed.event_id);
    envelope.set_event_type(proposed.event_type);
    envelope.set_payload(std::move(proposed.payload));
    envelope.set_content_type(proposed.content_type);
    envelope.set_actor(request.actor);
    envelope.set_correlation_id(proposed.correlation_id);
    envelope.set_causation_id(proposed.causation_id);
    envelope.set_reason(proposed.reason);
    LEDGER_CHECK(envelope.SerializeToString(&prepared.fixed_bytes), "serializing an envelope");
    pending->prepared.push_back(std::move(prepared));
  }
}

// The recorded state of event ids, as read once per group.
using RecordedIds = absl::flat_hash_map<std::string_view, keys::IdEntry>;

RecordedEvent ToRecordedEvent(DecodedRecord record) {
  RecordedEvent event;
  event.envelope = std::move(record.envelope);
  event.hash = std::move(record.hash);
  event.stored_bytes = std::move(record.body);
  return event;
}

}  // namespace

class RocksEventLog;

// A cursor that waits on the log's head and reads from the recent ring or
// from disk. It keeps no queue: memory per subscriber is constant.
class LogSubscription final : public Subscription {
 public:
  LogSubscription(RocksEventLog* log, uint64_t from_position)
      : log_(log), next_position_(from_position) {}
  ~LogSubscription() override;

  absl::StatusOr<std::vector<RecordedEvent>> Next(size_t max_events,
                                                  absl::Time deadline) override;
  uint64_t next_position() const override { return next_position_.load(); }
  void Cancel() override;

 private:
  RocksEventLog* const log_;
  std::atomic<uint64_t> next_position_;
  std::atomic<bool> cancelled_{false};
};

class RocksEventLog final : public ClosableEventLog {
 public:
  explicit RocksEventLog(const RocksEventLogOptions& options) : options_(options) {}
  ~RocksEventLog() override;

  absl::Status OpenDb();

  absl::StatusOr<AppendResult> Append(AppendRequest request) override;
  void AppendAsync(AppendRequest request, AppendCallback done) override;
  absl::StatusOr<ReadPage> ReadStream(std::string_view stream_id, uint64_t from_version,
                                      Direction direction, size_t max_count) override;
  absl::StatusOr<ReadPage> ReadAll(uint64_t from_position, Direction direction,
                                   size_t max_count) override;
  absl::StatusOr<RecordedEvent> GetEvent(std::string_view event_id) override;
  absl::StatusOr<StreamList> ListStreams(std::string_view prefix, std::string_view start_after,
                                         size_t max_count) override;
  absl::StatusOr<uint64_t> PositionAt(absl::Time at) override;
  Head GetHead() override;
  WriteState GetWriteState() override;
  absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(uint64_t from_position) override;
  absl::StatusOr<VerifyReport> Verify(uint64_t from_position, uint64_t to_position) override;
  void Close() override;

  // For subscriptions.
  absl::StatusOr<uint64_t> WaitForPosition(uint64_t position, absl::Time deadline,
                                           const std::atomic<bool>& cancelled);
  std::vector<RecordedEvent> TakeRecent(uint64_t from_position, size_t max_events);
  void WakeSubscribers();
  void SubscriptionEnded();

 private:
  // Open.
  absl::Status CheckSchema();
  absl::Status LoadHead();
  void RefuseWrites(std::string reason);
  void PublishOpenedHead();
  absl::StatusOr<ChainVerifier> VerifyTail(uint64_t last);

  // Writer thread.
  void WriterLoop();
  void CompleterLoop();
  void HandToCompleter(CommittedGroup committed);
  bool TakeGroup(std::vector<PendingAppend*>* group);
  void CommitGroup(const std::vector<PendingAppend*>& group);
  absl::StatusOr<RecordedIds> LookupIds(const std::vector<PendingAppend*>& group);
  absl::StatusOr<AppendResult> Stage(PendingAppend* pending, const RecordedIds& recorded_ids,
                                     int64_t now_micros, GroupOverlay* overlay,
                                     rocksdb::WriteBatch* batch);
  absl::StatusOr<std::optional<AppendResult>> CheckIdempotent(const PendingAppend& pending,
                                                              const RecordedIds& recorded_ids,
                                                              const GroupOverlay& overlay,
                                                              bool* depends_on_batch);
  absl::StatusOr<uint64_t> StreamVersion(const std::string& stream_id,
                                         const GroupOverlay& overlay);
  void Publish(const WriterHead& head, std::vector<std::shared_ptr<const RecordedEvent>> staged);

  // Reads.
  absl::StatusOr<RecordedEvent> ReadPosition(uint64_t position);
  absl::StatusOr<RecordedEvent> DecodeStored(uint64_t position, const rocksdb::Status& status,
                                             std::string_view value);
  absl::StatusOr<std::vector<RecordedEvent>> ReadPositions(const std::vector<uint64_t>& positions);
  absl::StatusOr<std::optional<keys::IdEntry>> LookupId(std::string_view event_id);
  uint64_t PublishedHeadPosition();
  void CheckIndexes(const RecordedEvent& event, ChainVerifier* verifier);

  const RocksEventLogOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* by_time_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;

  absl::Mutex queue_mu_;
  std::deque<PendingAppend*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::thread writer_;

  // Groups written but not yet published and answered. Bounded so that the
  // writer cannot run ahead of the completer without limit.
  absl::Mutex completion_mu_;
  std::deque<CommittedGroup> completion_queue_ ABSL_GUARDED_BY(completion_mu_);
  bool writer_finished_ ABSL_GUARDED_BY(completion_mu_) = false;
  std::thread completer_;

  // Writer thread only.
  WriterHead writer_head_;
  absl::flat_hash_map<std::string, uint64_t> stream_versions_;

  absl::Mutex state_mu_;
  absl::CondVar head_changed_;
  Head head_ ABSL_GUARDED_BY(state_mu_);
  WriteState write_state_ ABSL_GUARDED_BY(state_mu_);
  bool closed_ ABSL_GUARDED_BY(state_mu_) = false;
  // Positions recent_first_ .. recent_first_ + recent_.size() - 1.
  std::deque<std::shared_ptr<const RecordedEvent>> recent_ ABSL_GUARDED_BY(state_mu_);
  uint64_t recent_first_ ABSL_GUARDED_BY(state_mu_) = 1;
  size_t subscriptions_ ABSL_GUARDED_BY(state_mu_) = 0;
};

// ---------------------------------------------------------------------------
// Open and close.

absl::StatusOr<std::unique_ptr<ClosableEventLog>> OpenRocksEventLog(
    const RocksEventLogOptions& options) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir: is required");
  if (options.clock == nullptr) return absl::InvalidArgumentError("clock: is required");
  auto log = std::make_unique<RocksEventLog>(options);
  RETURN_IF_ERROR(log->OpenDb());
  return std::unique_ptr<ClosableEventLog>(std::move(log));
}

absl::Status RocksEventLog::OpenDb() {
  std::error_code error;
  std::filesystem::create_directories(options_.data_dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("data_dir: cannot create '", options_.data_dir, "': ", error.message()));
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(LedgerDbOptions(), options_.data_dir,
                                             LedgerColumnFamilies(), &handles_, &raw);
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("opening the ledger at '", options_.data_dir, "'"));
  }
  db_.reset(raw);
  events_ = handles_[1];
  streams_ = handles_[2];
  ids_ = handles_[3];
  by_time_ = handles_[4];
  meta_ = handles_[5];
  RETURN_IF_ERROR(CheckSchema());
  RETURN_IF_ERROR(LoadHead());
  writer_ = std::thread([this] { WriterLoop(); });
  completer_ = std::thread([this] { CompleterLoop(); });
  return absl::OkStatus();
}

absl::Status RocksEventLog::CheckSchema() {
  std::string value;
  rocksdb::Status status =
      db_->Get(LedgerReadOptions(), meta_, keys::kMetaSchemaVersionKey, &value);
  if (status.IsNotFound()) {
    std::string encoded;
    keys::PutBigEndian32(&encoded, keys::kSchemaVersion);
    return FromRocks(db_->Put(LedgerWriteOptions(), meta_, keys::kMetaSchemaVersionKey, encoded),
                     "writing the schema version");
  }
  RETURN_IF_ERROR(FromRocks(status, "reading the schema version"));
  if (value.size() != 4 || keys::GetBigEndian32(value) != keys::kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("the ledger at '", options_.data_dir, "' has schema version ",
                     value.size() == 4 ? absl::StrCat(keys::GetBigEndian32(value)) : "(malformed)",
                     "; this build reads version ", keys::kSchemaVersion));
  }
  return absl::OkStatus();
}

void RocksEventLog::RefuseWrites(std::string reason) {
  LEDGER_LOG_ERROR("ledger refuses writes: %s", reason);
  absl::MutexLock lock(&state_mu_);
  if (write_state_.writable) write_state_ = WriteState{false, std::move(reason)};
}

// Reads the stored head and the last record, checks that they agree and that
// the tail of the chain verifies. Any disagreement opens the log read-only, with
// the head at the furthest position either names, so that every record stays
// readable and Verify names the damage (a missing record reads as DATA_LOSS).
absl::Status RocksEventLog::LoadHead() {
  std::string meta_value;
  rocksdb::Status status = db_->Get(LedgerReadOptions(), meta_, keys::kMetaHeadKey, &meta_value);
  if (!status.ok() && !status.IsNotFound()) return FromRocks(status, "reading the stored head");
  std::optional<keys::HeadValue> stored;
  if (status.ok()) {
    stored = keys::ParseHead(meta_value);
    if (!stored) RefuseWrites("the stored head record is malformed");
  }

  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(LedgerReadOptions(), events_));
  it->SeekToLast();
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the last event"));
  uint64_t last = 0;
  if (it->Valid()) {
    std::optional<uint64_t> parsed = keys::ParseEventKey(it->key().ToStringView());
    if (!parsed) RefuseWrites("the last key of the events family is not an 8-byte position");
    last = parsed.value_or(0);
  }
  if (last == 0) {
    if (stored && stored->position != 0) {
      RefuseWrites(absl::StrCat("the stored head is at position ", stored->position,
                                " but the log holds no readable event"));
      writer_head_ = WriterHead{stored->position, stored->hash,
                                static_cast<int64_t>(stored->recorded_at_micros)};
    }
    PublishOpenedHead();
    return absl::OkStatus();
  }

  ASSIGN_OR_RETURN(ChainVerifier verifier, VerifyTail(last));
  if (const auto& finding = verifier.finding()) {
    RefuseWrites(absl::StrCat("the tail of the log does not verify at position ",
                              finding->position, ": ", ChainProblemName(finding->problem), ": ",
                              finding->detail));
  } else if (!stored) {
    RefuseWrites(absl::StrCat("the log holds events up to position ", last,
                              " but no stored head"));
  } else if (stored->position != last || stored->hash != verifier.last_hash()) {
    RefuseWrites(absl::StrCat("the stored head (position ", stored->position, ", hash ",
                              HexEncode(stored->hash), ") disagrees with the log (position ", last,
                              ", hash ", HexEncode(verifier.last_hash()), ")"));
  }
  if (!verifier.finding()) {
    const v1::EventEnvelope& envelope = verifier.last_record().envelope;
    writer_head_ = WriterHead{envelope.position(), verifier.last_hash(),
                              envelope.recorded_at_micros()};
  } else {
    it->SeekToLast();
    absl::StatusOr<DecodedRecord> record =
        it->Valid() ? DecodeRecord(it->value().ToStringView())
                    : absl::StatusOr<DecodedRecord>(absl::DataLossError("unreadable"));
    writer_head_ = WriterHead{last, record.ok() ? record->hash : std::string(),
                              record.ok() ? record->envelope.recorded_at_micros() : 0};
  }
  if (stored && stored->position > writer_head_.position) {
    // Records are missing at the end: serve up to where the head says, so
    // that reading them answers DATA_LOSS rather than "not recorded".
    writer_head_ = WriterHead{stored->position, stored->hash,
                              static_cast<int64_t>(stored->recorded_at_micros)};
  }
  PublishOpenedHead();
  return absl::OkStatus();
}

// Re-verifies the chain of the last kOpenTailVerifyEvents records up to
// `last`. Problems are in the returned verifier's finding; an error means
// RocksDB itself failed.
absl::StatusOr<ChainVerifier> RocksEventLog::VerifyTail(uint64_t last) {
  uint64_t first_checked = last > limits::kOpenTailVerifyEvents
                               ? last - limits::kOpenTailVerifyEvents + 1
                               : 1;
  std::string prev_hash = GenesisHash();
  int64_t prev_time = 0;
  std::optional<ChainFinding> before_finding;
  if (first_checked > 1) {
    std::string value;
    rocksdb::Status status =
        db_->Get(LedgerReadOptions(), events_, keys::EventKey(first_checked - 1), &value);
    if (!status.ok() && !status.IsNotFound()) {
      return FromRocks(status, "reading the tail of the log");
    }
    absl::StatusOr<DecodedRecord> before =
        status.ok() ? DecodeRecord(value)
                    : absl::StatusOr<DecodedRecord>(absl::DataLossError("the record is missing"));
    if (before.ok()) {
      prev_hash = before->hash;
      prev_time = before->envelope.recorded_at_micros();
    } else {
      before_finding = ChainFinding{first_checked - 1, ChainProblem::kUndecodable,
                                    std::string(before.status().message())};
    }
  }
  ChainVerifier verifier(first_checked, prev_hash, prev_time);
  if (before_finding) {
    verifier.Fail(before_finding->position, before_finding->problem, before_finding->detail);
    return verifier;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(LedgerReadOptions(), events_));
  for (it->Seek(keys::EventKey(first_checked)); it->Valid(); it->Next()) {
    std::optional<uint64_t> position = keys::ParseEventKey(it->key().ToStringView());
    if (!verifier.Feed(position.value_or(0), it->value().ToStringView())) break;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the tail of the log"));
  if (!verifier.finding() && verifier.next_position() != last + 1) {
    verifier.Fail(verifier.next_position(), ChainProblem::kGap, "the log's tail has a gap");
  }
  return verifier;
}

void RocksEventLog::PublishOpenedHead() {
  absl::MutexLock lock(&state_mu_);
  head_ = Head{writer_head_.position, writer_head_.hash,
               absl::FromUnixMicros(writer_head_.recorded_at_micros)};
  recent_first_ = writer_head_.position + 1;
}

void RocksEventLog::Close() {
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock lock(&completion_mu_);
    writer_finished_ = true;
  }
  if (completer_.joinable()) completer_.join();
  absl::MutexLock lock(&state_mu_);
  closed_ = true;
  head_changed_.SignalAll();
}

RocksEventLog::~RocksEventLog() {
  Close();
  {
    absl::MutexLock lock(&state_mu_);
    LEDGER_CHECK(subscriptions_ == 0, "a subscription outlived its event log");
  }
  if (db_) {
    for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    db_->Close();
  }
}

// ---------------------------------------------------------------------------
// Append: caller side.

absl::StatusOr<AppendResult> RocksEventLog::Append(AppendRequest request) {
  absl::StatusOr<AppendResult> outcome;
  absl::Notification done;
  AppendAsync(std::move(request), [&](absl::StatusOr<AppendResult> result) {
    outcome = std::move(result);
    done.Notify();
  });
  done.WaitForNotification();
  return outcome;
}

void RocksEventLog::AppendAsync(AppendRequest request, AppendCallback done) {
  if (absl::Status status = ValidateAppendRequest(request); !status.ok()) {
    std::move(done)(status);
    return;
  }
  WriteState state = GetWriteState();
  if (!state.writable) {
    std::move(done)(absl::FailedPreconditionError(
        absl::StrCat("the ledger refuses writes: ", state.refusal_reason)));
    return;
  }
  auto pending = std::make_unique<PendingAppend>();
  pending->request = std::move(request);
  pending->done = std::move(done);
  Prepare(pending.get());
  absl::Status refused;
  {
    absl::MutexLock lock(&queue_mu_);
    if (stopping_) {
      refused = absl::UnavailableError("the ledger is shutting down");
    } else if (queue_.size() >= options_.max_pending_appends) {
      refused = absl::ResourceExhaustedError(absl::StrCat(
          "more than ", options_.max_pending_appends, " appends are waiting; retry later"));
    } else {
      queue_.push_back(pending.release());  // the writer owns it from here
    }
  }
  if (!refused.ok()) std::move(pending->done)(refused);
}

// ---------------------------------------------------------------------------
// Append: writer side.

void RocksEventLog::WriterLoop() {
  std::vector<PendingAppend*> group;
  while (TakeGroup(&group)) {
    CommitGroup(group);
    group.clear();
  }
}

bool RocksEventLog::TakeGroup(std::vector<PendingAppend*>* group) {
  absl::MutexLock lock(&queue_mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return !queue_.empty() || stopping_;
  };
  queue_mu_.Await(absl::Condition(&ready));
  if (queue_.empty()) return false;  // stopping, and everything queued is done
  size_t events = 0;
  size_t bytes = 0;
  while (!queue_.empty()) {
    const PendingAppend& next = *queue_.front();
    size_t next_events = next.prepared.size();
    size_t next_bytes = next.bytes;
    if (!group->empty() && (events + next_events > limits::kMaxGroupCommitEvents ||
                            bytes + next_bytes > limits::kMaxGroupCommitBytes)) {
      break;
    }
    group->push_back(queue_.front());
    queue_.pop_front();
    events += next_events;
    bytes += next_bytes;
  }
  return true;
}

void RocksEventLog::CommitGroup(const std::vector<PendingAppend*>& group) {
  WriteState state = GetWriteState();
  CommittedGroup committed;
  committed.appends = group;
  GroupOverlay overlay;
  overlay.head = writer_head_;
  rocksdb::WriteBatch batch;
  // Transaction time never decreases along the log, whatever the clock does.
  int64_t now_micros = std::max<int64_t>(
      {absl::ToUnixMicros(options_.clock->Now()), writer_head_.recorded_at_micros, 0});
  absl::StatusOr<RecordedIds> recorded_ids = LookupIds(group);
  for (PendingAppend* pending : group) {
    if (!state.writable) {
      pending->result = absl::FailedPreconditionError(
          absl::StrCat("the ledger refuses writes: ", state.refusal_reason));
      continue;
    }
    if (!recorded_ids.ok()) {
      pending->result = recorded_ids.status();
      continue;
    }
    pending->result = Stage(pending, *recorded_ids, now_micros, &overlay, &batch);
  }
  if (!overlay.staged.empty()) {
    // Check before writing: the staged events extend the head without a gap.
    LEDGER_CHECK(overlay.head.position == writer_head_.position + overlay.staged.size(),
                 "staged positions do not extend the head contiguously");
    LEDGER_CHECK(overlay.staged.front()->envelope.prev_hash() == writer_head_.hash,
                 "the first staged event does not chain to the head");
    keys::HeadValue head{overlay.head.position, static_cast<uint64_t>(now_micros),
                         overlay.head.hash};
    batch.Put(meta_, keys::kMetaHeadKey, keys::EncodeHead(head));
    batch.Put(by_time_, keys::ByTimeKey(static_cast<uint64_t>(now_micros)),
              keys::PositionValue(overlay.head.position));
    rocksdb::Status status = db_->Write(LedgerWriteOptions(), &batch);
    if (!status.ok()) {
      std::string reason = absl::StrCat("a synced write failed: ", status.ToString());
      RefuseWrites(reason);
      for (PendingAppend* pending : group) {
        if (pending->depends_on_batch) {
          pending->result = absl::UnavailableError(absl::StrCat(
              reason, "; the append may not have been recorded: retry it with the same event ids "
                      "once the ledger accepts writes again"));
        }
      }
    } else {
      writer_head_ = overlay.head;
      for (auto& [stream, version] : overlay.stream_versions) {
        if (stream_versions_.size() >= limits::kStreamVersionCacheEntries) {
          stream_versions_.clear();
        }
        stream_versions_[stream] = version;
      }
      committed.staged = std::move(overlay.staged);
      committed.head = {writer_head_.position, writer_head_.hash,
                        writer_head_.recorded_at_micros};
    }
  }
  HandToCompleter(std::move(committed));
}

// The writer hands each written group over and goes on with the next one;
// publishing, waking callers and freeing memory happen on the completer, in
// group order, so that they overlap with the next group's synced write.
void RocksEventLog::HandToCompleter(CommittedGroup committed) {
  absl::MutexLock lock(&completion_mu_);
  auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completion_mu_) {
    return completion_queue_.size() < limits::kMaxGroupsAwaitingCompletion;
  };
  completion_mu_.Await(absl::Condition(&has_room));
  completion_queue_.push_back(std::move(committed));
}

void RocksEventLog::CompleterLoop() {
  while (true) {
    CommittedGroup committed;
    {
      absl::MutexLock lock(&completion_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completion_mu_) {
        return !completion_queue_.empty() || writer_finished_;
      };
      completion_mu_.Await(absl::Condition(&ready));
      if (completion_queue_.empty()) return;  // the writer is done and so are we
      committed = std::move(completion_queue_.front());
      completion_queue_.pop_front();
    }
    if (!committed.staged.empty()) {
      Publish(WriterHead{committed.head.position, committed.head.hash,
                         committed.head.recorded_at_micros},
              std::move(committed.staged));
    }
    // Acknowledge only now: the group is synced and readers can see it.
    for (PendingAppend* pending : committed.appends) {
      std::unique_ptr<PendingAppend> owned(pending);
      std::move(owned->done)(std::move(owned->result));
    }
  }
}

absl::StatusOr<std::optional<keys::IdEntry>> RocksEventLog::LookupId(std::string_view event_id) {
  std::string value;
  rocksdb::Status status = db_->Get(LedgerReadOptions(), ids_,
                                    rocksdb::Slice(event_id.data(), event_id.size()), &value);
  if (status.IsNotFound()) return std::optional<keys::IdEntry>();
  RETURN_IF_ERROR(FromRocks(status, "reading the event id index"));
  std::optional<keys::IdEntry> entry = keys::ParseIdValue(value);
  if (!entry) {
    return absl::DataLossError(absl::StrCat("event id index entry of '", Absl(event_id),
                                            "' is malformed"));
  }
  return entry;
}

// Reads the index entries of every event id of the group with one MultiGet
// (the writer is the only one that writes ids, so they cannot change under it).
absl::StatusOr<RecordedIds> RocksEventLog::LookupIds(const std::vector<PendingAppend*>& group) {
  std::vector<rocksdb::Slice> keys;
  for (const PendingAppend* pending : group) {
    for (const ProposedEvent& event : pending->request.events) keys.emplace_back(event.event_id);
  }
  std::sort(keys.begin(), keys.end(),
            [](const rocksdb::Slice& a, const rocksdb::Slice& b) { return a.compare(b) < 0; });
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(LedgerReadOptions(), ids_, keys.size(), keys.data(), values.data(),
                statuses.data(), /*sorted_input=*/true);
  RecordedIds recorded;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    RETURN_IF_ERROR(FromRocks(statuses[i], "reading the event id index"));
    std::optional<keys::IdEntry> entry = keys::ParseIdValue(values[i].ToStringView());
    if (!entry) {
      return absl::DataLossError(absl::StrCat("event id index entry of '",
                                              Absl(keys[i].ToStringView()), "' is malformed"));
    }
    recorded.emplace(keys[i].ToStringView(), *std::move(entry));
  }
  return recorded;
}

// Returns the original result if every event of the request is already
// recorded with the same body (an idempotent retry), nothing if none is, and
// AlreadyExists otherwise.
absl::StatusOr<std::optional<AppendResult>> RocksEventLog::CheckIdempotent(
    const PendingAppend& pending, const RecordedIds& recorded_ids, const GroupOverlay& overlay,
    bool* depends_on_batch) {
  const AppendRequest& request = pending.request;
  std::vector<keys::IdEntry> found;
  size_t first_found_index = 0;
  bool found_in_overlay = false;
  for (size_t i = 0; i < request.events.size(); ++i) {
    const ProposedEvent& event = request.events[i];
    const keys::IdEntry* entry = nullptr;
    if (auto it = overlay.ids.find(event.event_id); it != overlay.ids.end()) {
      entry = &it->second;
      found_in_overlay = true;
    } else if (auto it = recorded_ids.find(event.event_id); it != recorded_ids.end()) {
      entry = &it->second;
    }
    if (entry == nullptr) continue;
    if (found.empty()) first_found_index = i;
    if (entry->digest != pending.prepared[i].digest) {
      return absl::AlreadyExistsError(absl::StrCat(
          "events[", i, "].event_id: '", event.event_id, "' is already recorded at position ",
          entry->position, " with a different body"));
    }
    found.push_back(*entry);
  }
  if (found.empty()) return std::optional<AppendResult>();
  bool contiguous = found.size() == request.events.size();
  for (size_t i = 1; contiguous && i < found.size(); ++i) {
    contiguous = found[i].position == found[0].position + i;
  }
  if (!contiguous) {
    return absl::AlreadyExistsError(absl::StrCat(
        "events[", first_found_index, "].event_id: '", request.events[first_found_index].event_id,
        "' is already recorded at position ", found[0].position,
        " as part of another append; re-send that append whole, or use new event ids"));
  }
  AppendResult result;
  result.first_position = found.front().position;
  result.last_position = found.back().position;
  result.stream_version = found.back().version;
  result.already_recorded = true;
  // A retry of an append staged in this very group holds only if it commits.
  *depends_on_batch = found_in_overlay;
  if (found_in_overlay) {
    result.recorded_at = absl::FromUnixMicros(overlay.head.recorded_at_micros);
  } else {
    ASSIGN_OR_RETURN(RecordedEvent last, ReadPosition(result.last_position));
    result.recorded_at = absl::FromUnixMicros(last.envelope.recorded_at_micros());
  }
  return std::optional<AppendResult>(result);
}

absl::StatusOr<uint64_t> RocksEventLog::StreamVersion(const std::string& stream_id,
                                                      const GroupOverlay& overlay) {
  if (auto it = overlay.stream_versions.find(stream_id); it != overlay.stream_versions.end()) {
    return it->second;
  }
  if (auto it = stream_versions_.find(stream_id); it != stream_versions_.end()) {
    return it->second;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(LedgerReadOptions(), streams_));
  it->SeekForPrev(keys::StreamKey(stream_id, kMaxU64));
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the stream index"));
  uint64_t version = 0;
  if (it->Valid()) {
    std::optional<keys::StreamKeyParts> parts = keys::ParseStreamKey(it->key().ToStringView());
    if (parts && parts->stream_id == stream_id) version = parts->version;
  }
  stream_versions_[stream_id] = version;
  return version;
}

absl::StatusOr<AppendResult> RocksEventLog::Stage(PendingAppend* pending,
                                                  const RecordedIds& recorded_ids,
                                                  int64_t now_micros, GroupOverlay* overlay,
                                                  rocksdb::WriteBatch* batch) {
  const AppendRequest& request = pending->request;
  ASSIGN_OR_RETURN(
      std::optional<AppendResult> retry,
      CheckIdempotent(*pending, recorded_ids, *overlay, &pending->depends_on_batch));
  if (retry) return *retry;

  ASSIGN_OR_RETURN(uint64_t version, StreamVersion(request.stream_id, *overlay));
  const ExpectedVersion& expected = request.expected_version;
  if (expected.kind == ExpectedVersion::Kind::kNoStream && version != 0) {
    return absl::AbortedError(absl::StrCat("expected_version: stream '", request.stream_id,
                                           "' already exists at version ", version,
                                           ", expected no stream"));
  }
  if (expected.kind == ExpectedVersion::Kind::kExact && version != expected.version) {
    return absl::AbortedError(absl::StrCat("expected_version: stream '", request.stream_id,
                                           "' is at version ", version, ", expected ",
                                           expected.version));
  }

  AppendResult result;
  result.first_position = overlay->head.position + 1;
  result.recorded_at = absl::FromUnixMicros(now_micros);
  for (PreparedEvent& prepared : pending->prepared) {
    RecordedEvent& event = *prepared.event;
    const uint64_t position = overlay->head.position + 1;
    v1::EventEnvelope assigned;
    assigned.set_position(position);
    assigned.set_stream_version(++version);
    assigned.set_recorded_at_micros(now_micros);
    assigned.set_prev_hash(overlay->head.hash);
    LEDGER_CHECK(assigned.SerializeToString(&event.stored_bytes), "serializing an envelope");
    event.stored_bytes.append(prepared.fixed_bytes);
    event.envelope.MergeFrom(assigned);
    std::string value = EncodeRecord(event.stored_bytes);
    event.hash = value.substr(1, kHashBytes);

    const std::string& event_id = event.envelope.event_id();
    keys::IdEntry id_entry{position, version, prepared.digest};
    batch->Put(events_, keys::EventKey(position), value);
    batch->Put(streams_, keys::StreamKey(request.stream_id, version),
               keys::PositionValue(position));
    batch->Put(ids_, event_id, keys::IdValue(id_entry));
    overlay->ids[event_id] = std::move(id_entry);
    overlay->head = WriterHead{position, event.hash, now_micros};
    overlay->staged.push_back(prepared.event);
  }
  overlay->stream_versions[request.stream_id] = version;
  pending->depends_on_batch = true;
  result.last_position = overlay->head.position;
  result.stream_version = version;
  return result;
}

void RocksEventLog::Publish(const WriterHead& head,
                            std::vector<std::shared_ptr<const RecordedEvent>> staged) {
  // Events leaving the ring are freed after the lock is released.
  std::vector<std::shared_ptr<const RecordedEvent>> evicted;
  absl::MutexLock lock(&state_mu_);
  LEDGER_CHECK(staged.front()->envelope.position() == head_.position + 1,
               "published events do not follow the published head");
  for (auto& event : staged) recent_.push_back(std::move(event));
  while (recent_.size() > options_.recent_events_cached) {
    evicted.push_back(std::move(recent_.front()));
    recent_.pop_front();
    ++recent_first_;
  }
  head_ = Head{head.position, head.hash, absl::FromUnixMicros(head.recorded_at_micros)};
  head_changed_.SignalAll();
}

// ---------------------------------------------------------------------------
// Reads.

Head RocksEventLog::GetHead() {
  absl::MutexLock lock(&state_mu_);
  return head_;
}

WriteState RocksEventLog::GetWriteState() {
  absl::MutexLock lock(&state_mu_);
  return write_state_;
}

uint64_t RocksEventLog::PublishedHeadPosition() {
  absl::MutexLock lock(&state_mu_);
  return head_.position;
}

absl::StatusOr<RecordedEvent> RocksEventLog::ReadPosition(uint64_t position) {
  std::string value;
  rocksdb::Status status =
      db_->Get(LedgerReadOptions(), events_, keys::EventKey(position), &value);
  return DecodeStored(position, status, value);
}

// Checks a stored record read for `position` (after reading: hash, decoding,
// and that it names the position it is stored under).
absl::StatusOr<RecordedEvent> RocksEventLog::DecodeStored(uint64_t position,
                                                          const rocksdb::Status& status,
                                                          std::string_view value) {
  if (status.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("position ", position, " is missing from the log"));
  }
  RETURN_IF_ERROR(FromRocks(status, absl::StrCat("reading position ", position)));
  absl::StatusOr<DecodedRecord> record = DecodeRecord(value);
  if (!record.ok()) {
    return absl::DataLossError(absl::StrCat("position ", position, ": ",
                                            record.status().message()));
  }
  if (record->envelope.position() != position) {
    return absl::DataLossError(absl::StrCat("position ", position, ": the record names position ",
                                            record->envelope.position()));
  }
  return ToRecordedEvent(*std::move(record));
}

namespace {

size_t PageSize(size_t requested) {
  if (requested == 0) return limits::kDefaultPageSize;
  return std::min(requested, limits::kMaxPageSize);
}

}  // namespace

absl::StatusOr<ReadPage> RocksEventLog::ReadAll(uint64_t from_position, Direction direction,
                                                size_t max_count) {
  const uint64_t head = PublishedHeadPosition();
  const size_t page_size = PageSize(max_count);
  ReadPage page;
  if (head == 0) return page;
  bool forward = direction == Direction::kForward;
  uint64_t start = forward ? std::max<uint64_t>(from_position, 1)
                           : (from_position == 0 ? head : std::min(from_position, head));
  if (forward && start > head) {
    page.next_from = start;
    return page;
  }
  // One iterator over the range: the log is contiguous, so a sequential
  // read beats a point lookup per position.
  std::string bound = keys::EventKey(forward ? head + 1 : 0);
  rocksdb::Slice bound_slice(bound);
  rocksdb::ReadOptions read_options = LedgerReadOptions();
  (forward ? read_options.iterate_upper_bound : read_options.iterate_lower_bound) = &bound_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, events_));
  if (forward) {
    it->Seek(keys::EventKey(start));
  } else {
    it->SeekForPrev(keys::EventKey(start));
  }
  uint64_t last = start;
  size_t page_bytes = 0;
  for (uint64_t position = start; page.events.size() < page_size;) {
    if (page_bytes >= limits::kMaxPageBytes) break;
    bool here = it->Valid() && keys::ParseEventKey(it->key().ToStringView()) == position;
    RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
    ASSIGN_OR_RETURN(RecordedEvent event,
                     DecodeStored(position, here ? rocksdb::Status::OK() : rocksdb::Status::NotFound(),
                                  here ? it->value().ToStringView() : std::string_view()));
    page_bytes += event.stored_bytes.size();
    page.events.push_back(std::move(event));
    last = position;
    if (forward ? position == head : position == 1) break;
    position = forward ? position + 1 : position - 1;
    forward ? it->Next() : it->Prev();
  }
  page.end_of_range = forward ? last == head : last == 1;
  page.next_from = page.end_of_range ? 0 : (forward ? last + 1 : last - 1);
  return page;
}

// One Seek per stream: the first key of a stream is its version 1 (whose
// position says whether the stream is acknowledged yet), and the next stream
// starts at StreamUpperBound of this one.
absl::StatusOr<StreamList> RocksEventLog::ListStreams(std::string_view prefix,
                                                      std::string_view start_after,
                                                      size_t max_count) {
  if (prefix.size() > limits::kMaxStreamIdBytes) {
    return absl::InvalidArgumentError(absl::StrCat("prefix: longer than ",
                                                   limits::kMaxStreamIdBytes, " bytes"));
  }
  const uint64_t head = PublishedHeadPosition();
  const size_t page_size = std::clamp<size_t>(max_count, 1, limits::kMaxListStreams);
  std::string lower(prefix);
  const std::optional<std::string> upper = keys::PrefixUpperBound(prefix);
  rocksdb::Slice lower_slice(lower);
  rocksdb::Slice upper_slice;
  if (upper.has_value()) upper_slice = rocksdb::Slice(*upper);
  rocksdb::ReadOptions read_options = LedgerReadOptions();
  read_options.iterate_lower_bound = &lower_slice;
  if (upper.has_value()) read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, streams_));
  it->Seek(start_after.empty() ? lower : keys::StreamUpperBound(start_after));
  StreamList list;
  while (it->Valid()) {
    std::optional<keys::StreamKeyParts> parts = keys::ParseStreamKey(it->key().ToStringView());
    std::optional<uint64_t> position = keys::ParsePositionValue(it->value().ToStringView());
    if (!parts || !position) return absl::DataLossError("a stream index entry is malformed");
    std::string stream_id(parts->stream_id);
    if (parts->version == 1 && *position <= head) {
      if (list.stream_ids.size() == page_size) {
        list.next_after = list.stream_ids.back();
        break;
      }
      list.stream_ids.push_back(stream_id);
    }
    it->Seek(keys::StreamUpperBound(stream_id));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "listing streams"));
  return list;
}

absl::StatusOr<ReadPage> RocksEventLog::ReadStream(std::string_view stream_id,
                                                   uint64_t from_version, Direction direction,
                                                   size_t max_count) {
  RETURN_IF_ERROR(ValidateStreamId("stream_id", stream_id));
  const uint64_t head = PublishedHeadPosition();
  const size_t page_size = PageSize(max_count);
  const bool forward = direction == Direction::kForward;
  std::string lower = keys::StreamKey(stream_id, 0);
  std::string upper = keys::StreamUpperBound(stream_id);
  rocksdb::Slice lower_slice(lower);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options = LedgerReadOptions();
  read_options.iterate_lower_bound = &lower_slice;
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, streams_));
  if (forward) {
    it->Seek(keys::StreamKey(stream_id, from_version));
  } else {
    it->SeekForPrev(keys::StreamKey(stream_id, from_version == 0 ? kMaxU64 : from_version));
  }
  // First the index entries of the page, then the events in one MultiGet.
  std::vector<uint64_t> versions;
  std::vector<uint64_t> positions;
  ReadPage page;
  for (; it->Valid(); forward ? it->Next() : it->Prev()) {
    std::optional<keys::StreamKeyParts> parts = keys::ParseStreamKey(it->key().ToStringView());
    std::optional<uint64_t> position = keys::ParsePositionValue(it->value().ToStringView());
    if (!parts || !position) {
      return absl::DataLossError(absl::StrCat("stream index entry of '", Absl(stream_id),
                                              "' is malformed"));
    }
    if (*position > head) {
      if (forward) break;  // committed by the writer but not yet acknowledged
      continue;
    }
    if (positions.size() == page_size) {
      page.end_of_range = false;
      page.next_from = parts->version;
      break;
    }
    versions.push_back(parts->version);
    positions.push_back(*position);
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the stream index"));
  ASSIGN_OR_RETURN(std::vector<RecordedEvent> events, ReadPositions(positions));
  size_t page_bytes = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (page_bytes >= limits::kMaxPageBytes) {
      page.end_of_range = false;
      page.next_from = versions[i];
      break;
    }
    if (events[i].envelope.stream_id() != stream_id ||
        events[i].envelope.stream_version() != versions[i]) {
      return absl::DataLossError(absl::StrCat("stream index entry ", Absl(stream_id), "@",
                                              versions[i], " points to position ", positions[i],
                                              ", which holds another event"));
    }
    page_bytes += events[i].stored_bytes.size();
    page.events.push_back(std::move(events[i]));
  }
  if (page.end_of_range) page.next_from = 0;
  return page;
}

absl::StatusOr<std::vector<RecordedEvent>> RocksEventLog::ReadPositions(
    const std::vector<uint64_t>& positions) {
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (uint64_t position : positions) keys.push_back(keys::EventKey(position));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(LedgerReadOptions(), events_, slices.size(), slices.data(), values.data(),
                statuses.data(), /*sorted_input=*/false);
  std::vector<RecordedEvent> events;
  events.reserve(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    ASSIGN_OR_RETURN(RecordedEvent event,
                     DecodeStored(positions[i], statuses[i], values[i].ToStringView()));
    events.push_back(std::move(event));
  }
  return events;
}

absl::StatusOr<RecordedEvent> RocksEventLog::GetEvent(std::string_view event_id) {
  RETURN_IF_ERROR(ValidateEventId("event_id", event_id));
  ASSIGN_OR_RETURN(std::optional<keys::IdEntry> entry, LookupId(event_id));
  if (!entry || entry->position > PublishedHeadPosition()) {
    return absl::NotFoundError(absl::StrCat("event_id: '", Absl(event_id), "' is not recorded"));
  }
  ASSIGN_OR_RETURN(RecordedEvent event, ReadPosition(entry->position));
  if (event.envelope.event_id() != event_id) {
    return absl::DataLossError(absl::StrCat("event id index entry of '", Absl(event_id),
                                            "' points to position ", entry->position,
                                            ", which holds another event"));
  }
  return event;
}

absl::StatusOr<uint64_t> RocksEventLog::PositionAt(absl::Time at) {
  int64_t micros = absl::ToUnixMicros(at);
  if (micros < 0) return 0;
  const uint64_t head = PublishedHeadPosition();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(LedgerReadOptions(), by_time_));
  it->SeekForPrev(keys::ByTimeKey(static_cast<uint64_t>(micros)));
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the time index"));
  if (!it->Valid()) return 0;
  std::optional<uint64_t> position = keys::ParsePositionValue(it->value().ToStringView());
  if (!keys::ParseByTimeKey(it->key().ToStringView()) || !position) {
    return absl::DataLossError("time index entry is malformed");
  }
  // A group being committed may already be in RocksDB; every acknowledged
  // position is at or before it in time, so the head is the answer then.
  return std::min(*position, head);
}

// ---------------------------------------------------------------------------
// Verification.

void RocksEventLog::CheckIndexes(const RecordedEvent& event, ChainVerifier* verifier) {
  const v1::EventEnvelope& envelope = event.envelope;
  const uint64_t position = envelope.position();
  std::string value;
  rocksdb::Status status =
      db_->Get(LedgerReadOptions(), streams_,
               keys::StreamKey(envelope.stream_id(), envelope.stream_version()), &value);
  if (!status.ok() || keys::ParsePositionValue(value) != position) {
    verifier->Fail(position, ChainProblem::kIndexMismatch,
                   absl::StrCat("the stream index entry ", envelope.stream_id(), "@",
                                envelope.stream_version(), " does not point to this position"));
    return;
  }
  status = db_->Get(LedgerReadOptions(), ids_, envelope.event_id(), &value);
  std::optional<keys::IdEntry> id_entry = keys::ParseIdValue(value);
  if (!status.ok() || !id_entry || id_entry->position != position) {
    verifier->Fail(position, ChainProblem::kIndexMismatch,
                   absl::StrCat("the event id index entry of '", envelope.event_id(),
                                "' does not point to this position"));
    return;
  }
  status = db_->Get(LedgerReadOptions(), by_time_,
                    keys::ByTimeKey(static_cast<uint64_t>(envelope.recorded_at_micros())), &value);
  std::optional<uint64_t> last_at_time = keys::ParsePositionValue(value);
  if (!status.ok() || !last_at_time || *last_at_time < position) {
    verifier->Fail(position, ChainProblem::kIndexMismatch,
                   "the time index does not cover it at its recorded time");
  }
}

absl::StatusOr<VerifyReport> RocksEventLog::Verify(uint64_t from_position,
                                                   uint64_t to_position) {
  const Head head = GetHead();
  VerifyReport report;
  report.from_position = from_position == 0 ? 1 : from_position;
  report.to_position = to_position == 0 ? head.position : to_position;
  if (report.to_position > head.position) {
    return absl::InvalidArgumentError(absl::StrCat("to_position: ", report.to_position,
                                                   " is beyond the head at ", head.position));
  }
  if (report.from_position > report.to_position) {
    if (head.position == 0 && from_position <= 1) return report;  // an empty log verifies
    return absl::InvalidArgumentError(absl::StrCat("from_position: ", report.from_position,
                                                   " is after to_position ", report.to_position));
  }
  std::string prev_hash = GenesisHash();
  int64_t prev_time = 0;
  if (report.from_position > 1) {
    absl::StatusOr<RecordedEvent> before = ReadPosition(report.from_position - 1);
    if (!before.ok()) {
      report.finding = ChainFinding{report.from_position - 1, ChainProblem::kUndecodable,
                                    std::string(before.status().message())};
      return report;
    }
    prev_hash = before->hash;
    prev_time = before->envelope.recorded_at_micros();
  }
  ChainVerifier verifier(report.from_position, prev_hash, prev_time);
  std::string upper = keys::EventKey(report.to_position + 1);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options = LedgerReadOptions();
  read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, events_));
  for (it->Seek(keys::EventKey(report.from_position)); it->Valid(); it->Next()) {
    std::optional<uint64_t> position = keys::ParseEventKey(it->key().ToStringView());
    if (!position) {
      verifier.Fail(verifier.next_position(), ChainProblem::kUndecodable,
                    "an events key is not an 8-byte position");
      break;
    }
    if (!verifier.Feed(*position, it->value().ToStringView())) break;
    CheckIndexes(ToRecordedEvent(verifier.last_record()), &verifier);
    if (verifier.finding()) break;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
  if (!verifier.finding() && verifier.next_position() != report.to_position + 1) {
    verifier.Fail(verifier.next_position(), ChainProblem::kGap,
                  absl::StrCat("the log ends before position ", verifier.next_position()));
  }
  if (!verifier.finding() && report.to_position == head.position) {
    std::string meta_value;
    rocksdb::Status status =
        db_->Get(LedgerReadOptions(), meta_, keys::kMetaHeadKey, &meta_value);
    std::optional<keys::HeadValue> stored = keys::ParseHead(meta_value);
    if (!status.ok() || !stored || stored->position != head.position ||
        stored->hash != verifier.last_hash()) {
      verifier.Fail(head.position, ChainProblem::kHeadMismatch,
                    "the stored head does not name the last record");
    }
  }
  report.verified_count = verifier.verified_count();
  report.finding = verifier.finding();
  return report;
}

// ---------------------------------------------------------------------------
// Subscriptions.

absl::StatusOr<std::unique_ptr<Subscription>> RocksEventLog::Subscribe(uint64_t from_position) {
  absl::MutexLock lock(&state_mu_);
  if (closed_) return absl::UnavailableError("the ledger is shutting down");
  if (subscriptions_ >= options_.max_subscriptions) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the server already serves ", subscriptions_, " subscriptions, its limit"));
  }
  ++subscriptions_;
  return std::unique_ptr<Subscription>(
      new LogSubscription(this, std::max<uint64_t>(from_position, 1)));
}

void RocksEventLog::SubscriptionEnded() {
  absl::MutexLock lock(&state_mu_);
  --subscriptions_;
}

void RocksEventLog::WakeSubscribers() {
  absl::MutexLock lock(&state_mu_);
  head_changed_.SignalAll();
}

absl::StatusOr<uint64_t> RocksEventLog::WaitForPosition(uint64_t position, absl::Time deadline,
                                                        const std::atomic<bool>& cancelled) {
  absl::MutexLock lock(&state_mu_);
  while (head_.position < position && !closed_ && !cancelled.load()) {
    if (head_changed_.WaitWithDeadline(&state_mu_, deadline)) break;  // timed out
  }
  if (cancelled.load()) return absl::CancelledError("the subscription was cancelled");
  if (head_.position >= position) return head_.position;
  if (closed_) return absl::UnavailableError("the ledger is shutting down");
  return head_.position;
}

std::vector<RecordedEvent> RocksEventLog::TakeRecent(uint64_t from_position, size_t max_events) {
  std::vector<std::shared_ptr<const RecordedEvent>> shared;
  {
    absl::MutexLock lock(&state_mu_);
    if (from_position < recent_first_) return {};
    size_t offset = from_position - recent_first_;
    for (size_t i = offset; i < recent_.size() && shared.size() < max_events; ++i) {
      shared.push_back(recent_[i]);
    }
  }
  std::vector<RecordedEvent> events;
  events.reserve(shared.size());
  for (const auto& event : shared) events.push_back(*event);
  return events;
}

LogSubscription::~LogSubscription() { log_->SubscriptionEnded(); }

void LogSubscription::Cancel() {
  cancelled_.store(true);
  log_->WakeSubscribers();
}

absl::StatusOr<std::vector<RecordedEvent>> LogSubscription::Next(size_t max_events,
                                                                 absl::Time deadline) {
  const uint64_t next = next_position_.load();
  ASSIGN_OR_RETURN(uint64_t head, log_->WaitForPosition(next, deadline, cancelled_));
  if (head < next) return std::vector<RecordedEvent>();
  size_t count = static_cast<size_t>(
      std::min<uint64_t>({head - next + 1, std::max<size_t>(max_events, 1),
                          limits::kMaxPageSize}));
  std::vector<RecordedEvent> events = log_->TakeRecent(next, count);
  if (events.empty()) {
    // Fallen behind the in-memory ring: read from disk.
    ASSIGN_OR_RETURN(ReadPage page, log_->ReadAll(next, Direction::kForward, count));
    events = std::move(page.events);
  }
  for (size_t i = 0; i < events.size(); ++i) {
    LEDGER_CHECK(events[i].envelope.position() == next + i,
                 "a subscription would skip or repeat a position");
  }
  next_position_.store(next + events.size());
  return events;
}

}  // namespace ledger
