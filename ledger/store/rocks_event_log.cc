// The RocksDB event log. See rocks_event_log.h for the design.
//
// Threads (an append passes through them in this order):
//   - callers validate and prepare their events, then queue them;
//   - the writer takes everything queued as one group and stages it:
//     idempotency and version checks, positions, versions, time, chain
//     (while the committer writes, only once enough events are queued;
//     see limits::kMinEventsToStageAhead);
//   - the committer takes every group staged so far and writes them with one
//     synced write, while the writer stages the next groups;
//   - the completer publishes each written unit and answers its callers.
//
// Locks:
//   - queue_mu_ guards the queue of pending appends, `stopping_` and
//     `committer_idle_` (which the writer's wait condition reads).
//   - commit_mu_ guards the staged groups waiting for the committer.
//   - completion_mu_ guards the units waiting for the completer.
//   - state_mu_ guards what readers and subscribers see: the published head,
//     the write state, the recent-events ring and the subscription count.
//     head_changed_ is signalled whenever the head moves or the log closes.
//   - The writer thread alone owns writer_head_ (the staged head), the
//     stream-version cache and the in-flight overlay; the committer alone owns
//     committed_head_ and write_failure_; they need no lock. The only state the
//     two share is committed_sequence_, an atomic.
// Lock order: no two of these mutexes are ever held together.
//
// Invariants (checked; a violation aborts before anything is written):
//   - the writer assigns position writer_head_.position + 1 next, and chains
//     to writer_head_.hash;
//   - the committer writes only events that extend what RocksDB holds without
//     a gap, chain to it, and do not go back in time;
//   - groups are written, published and answered in staging order, and
//     nothing staged after a failed write is written or acknowledged;
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
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "ledger/integrity/chain_verifier.h"
#include "ledger/integrity/head_witness.h"
#include "ledger/integrity/merkle.h"
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
#include "rocksdb/utilities/checkpoint.h"
#include "rocksdb/write_batch.h"

namespace ledger {
namespace {

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();

// One event prepared on the caller's thread: everything that does not depend
// on the log's state, so that the single writer does only what must be serial.
struct PreparedEvent {
  // The envelope with every field set except position, stream_version,
  // recorded_at_micros and prev_hash, which the writer fills in, and except
  // the payload, which only the body keeps (one copy per event in memory).
  // stored_bytes holds those fixed fields serialized, with room reserved for
  // the writer to append the fields it assigns: protobuf parses fields in any
  // order, and the hash covers exactly the stored bytes.
  std::shared_ptr<RecordedEvent> event;
  // IdempotencyDigest of the proposed event.
  std::string digest;
};

// The most the writer appends to a body: position, stream_version and
// recorded_at_micros (1-byte tag and up to 10 bytes of varint each) and
// prev_hash (tag, length, 32 bytes).
constexpr size_t kAssignedFieldsMaxBytes = 3 * 11 + 2 + 32;

// One caller's append, waiting for the writer.
struct PendingAppend {
  AppendRequest request;  // payloads moved into `prepared`
  std::vector<PreparedEvent> prepared;
  size_t bytes = 0;
  absl::StatusOr<AppendResult> result = absl::InternalError("append not processed");
  AppendCallback done;
};

// Head as the writer sees it (including what it has not published yet).
struct WriterHead {
  uint64_t position = 0;
  std::string hash = GenesisHash();
  int64_t recorded_at_micros = 0;
};

// One event the writer has staged: position, version, time and prev_hash
// assigned, body serialized and hashed.
struct StagedEvent {
  // Shared with the recent ring once published. Its envelope lacks the
  // payload (see PreparedEvent); stored_bytes and hash are complete.
  std::shared_ptr<RecordedEvent> event;
  std::string digest;  // IdempotencyDigest, for the ids index
};

// What the writer staged from one take of the queue. Written by the writer
// only; read-only once handed to the committer (the committer and the
// completer set the appends' results and answer them).
struct StagedGroup {
  uint64_t sequence = 0;  // 1, 2, 3, ... in staging order
  std::vector<PendingAppend*> appends;
  // Reserved for every event of the group before staging, so that the
  // writer's in-flight overlay may point into it.
  std::vector<StagedEvent> events;
  size_t bytes = 0;
  int64_t recorded_at_micros = 0;  // the group's time, shared by its events
};
using StagedGroupPtr = std::shared_ptr<StagedGroup>;

// Everything the committer wrote with one synced write (or failed to), in
// staging order, waiting for the completer to publish it and answer.
struct CommitUnit {
  std::vector<StagedGroupPtr> groups;
  bool written = false;  // true: synced; publish the events, then answer
  WriterHead head;       // after the unit, when written
};

// An event id staged but not yet known to be committed (the writer's
// in-flight overlay). Views point into a StagedGroup the writer keeps alive.
struct InFlightId {
  uint64_t position = 0;
  uint64_t version = 0;
  std::string_view digest;
  int64_t recorded_at_micros = 0;
};

// A stream's last version staged but not yet known to be committed, and the
// group that staged it.
struct InFlightStream {
  uint64_t version = 0;
  uint64_t sequence = 0;
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
    RecordedEvent& event = *prepared.event;
    v1::EventEnvelope& envelope = event.envelope;
    envelope.set_stream_id(request.stream_id);
    envelope.set_event_id(proposed.event_id);
    envelope.set_event_type(proposed.event_type);
    envelope.set_payload(std::move(proposed.payload));
    envelope.set_content_type(proposed.content_type);
    envelope.set_actor(request.actor);
    envelope.set_correlation_id(proposed.correlation_id);
    envelope.set_causation_id(proposed.causation_id);
    envelope.set_reason(proposed.reason);
    event.stored_bytes.reserve(envelope.ByteSizeLong() + kAssignedFieldsMaxBytes);
    LEDGER_CHECK(envelope.AppendToString(&event.stored_bytes), "serializing an envelope");
    // Freed here, on the caller's thread; readers of the recent ring parse
    // the envelope back from the body.
    delete envelope.release_payload();
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

// Reads stored Merkle nodes in the order a recomputation from the first leaf
// completes them: within a level, by ascending index. One iterator per level
// then steps to the next node, where a point read per node would search the
// memtable and every file of the family again.
class StoredNodeCursor {
 public:
  StoredNodeCursor(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* family) : db_(db), family_(family) {}

  // The stored hash of node (level, index); DataLoss when missing or malformed.
  absl::StatusOr<std::string> Read(int level, uint64_t index) {
    if (levels_.size() <= static_cast<size_t>(level)) levels_.resize(level + 1);
    std::unique_ptr<rocksdb::Iterator>& it = levels_[level];
    const std::string key = keys::MerkleNodeKey(level, index);
    if (it == nullptr) it.reset(db_->NewIterator(LedgerReadOptions(), family_));
    if (!it->Valid() || it->key().ToStringView() != key) it->Seek(key);
    RETURN_IF_ERROR(FromRocks(it->status(), "reading a Merkle node"));
    if (!it->Valid() || it->key().ToStringView() != key) {
      return absl::DataLossError(absl::StrCat("Merkle node ", level, "/", index, " is missing"));
    }
    std::string value = it->value().ToString();
    it->Next();
    if (value.size() != kHashBytes) {
      return absl::DataLossError(absl::StrCat("Merkle node ", level, "/", index, " is malformed"));
    }
    return value;
  }

 private:
  rocksdb::DB* const db_;
  rocksdb::ColumnFamilyHandle* const family_;
  std::vector<std::unique_ptr<rocksdb::Iterator>> levels_;
};

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
  absl::StatusOr<std::string> TreeRoot(uint64_t tree_size) override;
  absl::StatusOr<std::vector<std::string>> InclusionProof(uint64_t position, uint64_t tree_size) override;
  absl::StatusOr<std::vector<std::string>> ConsistencyProof(uint64_t old_size, uint64_t new_size) override;
  void Close() override;
  absl::Status ResumeWrites() override;
  absl::Status CreateCheckpoint(const std::string& checkpoint_dir) override;

  // For subscriptions.
  absl::StatusOr<uint64_t> WaitForPosition(uint64_t position, absl::Time deadline,
                                           const std::atomic<bool>& cancelled);
  std::vector<RecordedEvent> TakeRecent(uint64_t from_position, size_t max_events);
  void WakeSubscribers();
  void SubscriptionEnded();

 private:
  // Open.
  absl::Status OpenDbInstance(bool read_only);
  absl::StatusOr<std::optional<std::string>> OpenWritableElseReadOnly();
  absl::Status OpenForWritingOrReading();
  void CloseDbInstance();
  absl::Status DbAvailable() const;
  absl::Status CheckSchema();
  absl::Status LoadHead();
  absl::Status LoadMerkle();
  // Refuses writes when the log is shorter than, or forks from, the head
  // witnessed outside RocksDB (options_.head_witness_path).
  void CheckHeadWitness();
  absl::Status BuildMerkle(uint64_t last);
  absl::Status CheckTreeSize(std::string_view field, uint64_t tree_size);
  // Proofs and roots read stored nodes and recompute the lower ones from
  // the events' hashes.
  template <typename Fn>
  auto WithNodeSource(Fn fn);
  absl::StatusOr<std::string> StoredMerkleNode(int level, uint64_t index);
  void RefuseWrites(std::string reason, bool recoverable = false);
  void PublishOpenedHead();
  absl::StatusOr<ReadPage> ReadAllLocked(uint64_t from_position, Direction direction, size_t max_count);
  absl::StatusOr<std::string> TreeRootLocked(uint64_t tree_size);

  // Recovery after a failed write: on the writer thread, once the committer
  // and completer have finished everything staged (see ResumeWrites).
  void WaitForPipelineToDrain();
  absl::Status RecoverOnWriter();
  absl::Status ReloadAfterReopen();
  void ForgetStaged();
  absl::StatusOr<ChainVerifier> VerifyTail(uint64_t last);

  // Writer thread: stages.
  enum class WriterTask { kStage, kRecover, kStop };
  void WriterLoop();
  WriterTask TakeGroup(std::vector<PendingAppend*>* group);
  StagedGroupPtr StageGroup(std::vector<PendingAppend*> appends);
  absl::StatusOr<RecordedIds> LookupIds(const std::vector<PendingAppend*>& group);
  absl::StatusOr<AppendResult> Stage(PendingAppend* pending, const RecordedIds& recorded_ids,
                                     StagedGroup* group);
  absl::StatusOr<std::optional<AppendResult>> CheckIdempotent(const PendingAppend& pending,
                                                              const RecordedIds& recorded_ids);
  absl::StatusOr<uint64_t> StreamVersion(const std::string& stream_id);
  void RememberStaged(const StagedGroup& group, size_t first_event);
  void PruneCommitted();
  void CacheStreamVersion(std::string_view stream_id, uint64_t version);
  void HandToCommitter(StagedGroupPtr group);

  // Committer thread: writes.
  void CommitterLoop();
  bool TakeStaged(std::vector<StagedGroupPtr>* unit);
  void TakeStagedLocked(std::vector<StagedGroupPtr>* unit) ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_);
  void SetCommitterIdle(bool idle);
  void WriteUnit(CommitUnit* unit, rocksdb::WriteBatch* batch);
  void PutStaged(const StagedEvent& staged, rocksdb::WriteBatch* batch);
  void FailUnit(const CommitUnit& unit);

  // Completer thread: publishes and answers.
  void HandToCompleter(CommitUnit unit);
  void CompleterLoop();
  void Publish(const CommitUnit& unit);

  // Reads.
  absl::StatusOr<RecordedEvent> ReadPosition(uint64_t position);
  absl::StatusOr<RecordedEvent> DecodeStored(uint64_t position, const rocksdb::Status& status,
                                             std::string_view value);
  absl::StatusOr<std::vector<RecordedEvent>> ReadPositions(const std::vector<uint64_t>& positions);
  absl::StatusOr<std::optional<keys::IdEntry>> LookupId(std::string_view event_id);
  uint64_t PublishedHeadPosition();

  // Verification.
  void CheckIndexes(const RecordedEvent& event, ChainVerifier* verifier);
  void CheckStoredHead(const Head& head, ChainVerifier* verifier);
  absl::StatusOr<bool> HasMerkleTree();
  absl::Status CheckMerkleLeaf(uint64_t position, std::string_view event_hash, merkle::MerkleFrontier* tree,
                               StoredNodeCursor* stored_nodes, ChainVerifier* verifier);
  absl::Status CheckMerkleTree(const merkle::MerkleFrontier& tree, ChainVerifier* verifier);
  absl::Status CheckStoredFrontier(const merkle::MerkleFrontier& tree, ChainVerifier* verifier);

  const RocksEventLogOptions options_;
  // The database and its families. Every use outside open holds db_mu_:
  // shared by reads, the writer's lookups and the committer's write;
  // exclusively by the writer while it reopens the database (ResumeWrites).
  // db_ is null only when a reopen failed even read-only.
  absl::Mutex db_mu_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_ = nullptr;
  rocksdb::ColumnFamilyHandle* ids_ = nullptr;
  rocksdb::ColumnFamilyHandle* by_time_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* merkle_ = nullptr;

  absl::Mutex queue_mu_;
  std::deque<PendingAppend*> queue_ ABSL_GUARDED_BY(queue_mu_);
  size_t queued_events_ ABSL_GUARDED_BY(queue_mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(queue_mu_) = false;
  // ResumeWrites asks the writer to recover and waits for its answer.
  bool recovery_requested_ ABSL_GUARDED_BY(queue_mu_) = false;
  std::optional<absl::Status> recovery_result_ ABSL_GUARDED_BY(queue_mu_);
  bool writer_stopped_ ABSL_GUARDED_BY(queue_mu_) = false;
  absl::Mutex resume_mu_;  // one ResumeWrites at a time
  // True while the committer waits for something to write: then the writer
  // stages whatever is queued at once (see kMinEventsToStageAhead).
  bool committer_idle_ ABSL_GUARDED_BY(queue_mu_) = true;
  std::thread writer_;

  // Groups staged but not yet taken by the committer. Bounded (in events
  // and bytes) so that the writer cannot run ahead of the disk without limit.
  absl::Mutex commit_mu_;
  std::deque<StagedGroupPtr> commit_queue_ ABSL_GUARDED_BY(commit_mu_);
  size_t commit_queue_events_ ABSL_GUARDED_BY(commit_mu_) = 0;
  size_t commit_queue_bytes_ ABSL_GUARDED_BY(commit_mu_) = 0;
  bool writer_finished_ ABSL_GUARDED_BY(commit_mu_) = false;
  // The last group the committer has written or failed.
  uint64_t processed_sequence_ ABSL_GUARDED_BY(commit_mu_) = 0;
  std::thread committer_;

  // Units written (or failed) but not yet published and answered. Bounded so
  // that the committer cannot run ahead of the completer without limit.
  absl::Mutex completion_mu_;
  std::deque<CommitUnit> completion_queue_ ABSL_GUARDED_BY(completion_mu_);
  bool committer_finished_ ABSL_GUARDED_BY(completion_mu_) = false;
  // The last group whose appends the completer has answered.
  uint64_t completed_sequence_ ABSL_GUARDED_BY(completion_mu_) = 0;
  std::thread completer_;

  // Writer thread only. writer_head_ is the staged head: it runs ahead of
  // what is committed by the groups in flight.
  WriterHead writer_head_;
  uint64_t staged_sequence_ = 0;
  // While the writer reloads the head after a reopen, refusals found are
  // collected here instead of becoming the write state at once.
  std::atomic<bool> reloading_{false};
  std::optional<std::string> reload_refusal_;
  // Last versions of committed streams (a cache: misses read RocksDB).
  absl::flat_hash_map<std::string, uint64_t> stream_versions_;
  // The in-flight overlay: what groups staged but not yet known to be
  // committed recorded, consulted before the cache and RocksDB (which cannot
  // hold it yet). Keys and digests point into the groups of in_flight_,
  // which stay alive until pruned; a group is pruned once its sequence is at
  // or below committed_sequence_, when RocksDB holds everything it staged.
  std::deque<StagedGroupPtr> in_flight_;
  absl::flat_hash_map<std::string_view, InFlightId> in_flight_ids_;
  absl::flat_hash_map<std::string_view, InFlightStream> in_flight_streams_;

  // The last group whose synced write returned OK. Written by the committer,
  // read by the writer to prune its overlay; never moves after a failed write.
  std::atomic<uint64_t> committed_sequence_{0};

  // Writer thread only: the assigned fields of the event being staged
  // (reused so that serializing them allocates nothing).
  v1::EventEnvelope assigned_;

  // Committer thread only: the head RocksDB holds, why writing stopped, and
  // buffers reused for index keys and values.
  WriterHead committed_head_;
  // The Merkle tree's right edge at committed_head_ (committer-owned, like it).
  merkle::MerkleFrontier committed_frontier_;
  std::optional<std::string> write_failure_;
  std::string key_buffer_;
  std::string value_buffer_;

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
  RETURN_IF_ERROR(OpenForWritingOrReading());
  RETURN_IF_ERROR(CheckSchema());
  RETURN_IF_ERROR(LoadHead());
  RETURN_IF_ERROR(LoadMerkle());
  committed_head_ = writer_head_;
  CheckHeadWitness();
  writer_ = std::thread([this] { WriterLoop(); });
  committer_ = std::thread([this] { CommitterLoop(); });
  completer_ = std::thread([this] { CompleterLoop(); });
  return absl::OkStatus();
}

absl::Status RocksEventLog::OpenDbInstance(bool read_only) {
  rocksdb::DB* raw = nullptr;
  rocksdb::DBOptions db_options = LedgerDbOptions();
  if (options_.env != nullptr) db_options.env = options_.env;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = LedgerColumnFamilies();
  if (options_.write_buffer_bytes > 0) {
    for (rocksdb::ColumnFamilyDescriptor& family : families) {
      family.options.write_buffer_size = options_.write_buffer_bytes;
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status status =
      read_only ? rocksdb::DB::OpenForReadOnly(db_options, options_.data_dir, families, &handles, &raw)
                : rocksdb::DB::Open(db_options, options_.data_dir, families, &handles, &raw);
  if (status.IsCorruption()) {
    // RocksDB refuses a WAL damaged before its last record
    // (kTolerateCorruptedTailRecords) and damaged table files or manifests.
    return absl::DataLossError(absl::StrCat(
        "opening the ledger at '", options_.data_dir, "': ", status.ToString(),
        " (RocksDB's LOG file in that directory names the damaged file)"
        "; the ledger does not open a damaged database rather than drop what follows the damage: "
        "keep the data directory as it is, and restore the latest backup into a new one "
        "(docs/DURABILITY.md)"));
  }
  if (!status.ok()) {
    return FromRocks(status, absl::StrCat("opening the ledger at '", options_.data_dir, "'",
                                          read_only ? " read-only" : ""));
  }
  db_.reset(raw);
  handles_ = std::move(handles);
  events_ = handles_[1];
  streams_ = handles_[2];
  ids_ = handles_[3];
  by_time_ = handles_[4];
  meta_ = handles_[5];
  merkle_ = handles_[6];
  return absl::OkStatus();
}

// A database that cannot be opened for writing because of an I/O error or a
// full disk is opened read-only, so that reads go on (at start, and when
// ResumeWrites reopens it); the result then says why writes cannot be taken.
// Anything else (a damaged database, a lock held by another process) is an
// error, and no database is open.
absl::StatusOr<std::optional<std::string>> RocksEventLog::OpenWritableElseReadOnly() {
  absl::Status writable = OpenDbInstance(/*read_only=*/false);
  if (writable.ok()) return std::optional<std::string>();
  if (writable.code() != absl::StatusCode::kUnavailable) return writable;
  // Another process (or another log in this one) holds the database.
  if (absl::StrContains(writable.message(), "LOCK") || absl::StrContains(writable.message(), "lock hold")) {
    return writable;
  }
  if (!OpenDbInstance(/*read_only=*/true).ok()) return writable;
  return std::optional<std::string>(std::string(writable.message()));
}

absl::Status RocksEventLog::OpenForWritingOrReading() {
  ASSIGN_OR_RETURN(std::optional<std::string> not_writable, OpenWritableElseReadOnly());
  if (not_writable) {
    RefuseWrites(absl::StrCat("the database could not be opened for writing (", *not_writable,
                              "); reads are served from a read-only instance"),
                 /*recoverable=*/true);
  }
  return absl::OkStatus();
}

void RocksEventLog::CloseDbInstance() {
  if (!db_) return;
  for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  handles_.clear();
  // A database that failed a write may refuse to close cleanly; what it
  // holds on disk is what the reopen recovers and checks.
  rocksdb::Status closed = db_->Close();
  if (!closed.ok()) LEDGER_LOG_WARN("closing the database: %s", closed.ToString());
  db_.reset();
}

absl::Status RocksEventLog::DbAvailable() const {
  if (db_) return absl::OkStatus();
  return absl::UnavailableError(
      "the ledger's database could not be reopened after a failed write; it is retried");
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

void RocksEventLog::RefuseWrites(std::string reason, bool recoverable) {
  LEDGER_LOG_ERROR("ledger refuses writes: %s", reason);
  if (reloading_.load()) {
    if (!reload_refusal_) reload_refusal_ = std::move(reason);
    return;
  }
  absl::MutexLock lock(&state_mu_);
  if (write_state_.writable) write_state_ = WriteState{false, std::move(reason), recoverable};
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

// Loads the Merkle frontier stored with the head and checks the pair. A ledger
// written before the tree existed has none: it is built once from the events.
absl::Status RocksEventLog::LoadMerkle() {
  std::string value;
  rocksdb::Status status = db_->Get(LedgerReadOptions(), meta_, keys::kMetaMerkleFrontierKey, &value);
  if (!status.ok() && !status.IsNotFound()) return FromRocks(status, "reading the Merkle frontier");
  const uint64_t head = writer_head_.position;
  if (status.IsNotFound()) {
    // A damaged log (already refusing writes) is not built upon.
    if (head == 0) return absl::OkStatus();
    if (reloading_.load()) {
      RefuseWrites("the reopened ledger has no stored Merkle frontier");
      return absl::OkStatus();
    }
    if (!GetWriteState().writable) return absl::OkStatus();
    return BuildMerkle(head);
  }
  absl::StatusOr<merkle::MerkleFrontier> frontier = merkle::MerkleFrontier::Parse(value);
  if (!frontier.ok()) {
    RefuseWrites(absl::StrCat("the stored Merkle frontier is malformed: ", frontier.status().message()));
    return absl::OkStatus();
  }
  if (frontier->size() != head) {
    RefuseWrites(absl::StrCat("the stored Merkle frontier covers ", frontier->size(),
                              " events but the head is at position ", head));
    return absl::OkStatus();
  }
  committed_frontier_ = *std::move(frontier);
  return absl::OkStatus();
}

void RocksEventLog::CheckHeadWitness() {
  const std::string& path = options_.head_witness_path;
  if (path.empty()) return;
  absl::StatusOr<std::optional<SignedTreeHead>> witness = ReadHeadWitness(path);
  if (!witness.ok()) {
    RefuseWrites(absl::StrCat("the head witness cannot be read: ", witness.status().message()));
    return;
  }
  if (!witness->has_value()) return;
  absl::Status status = CheckAgainstWitness(**witness, committed_head_.position,
                                            [this](uint64_t size) { return TreeRootLocked(size); });
  if (!status.ok()) RefuseWrites(absl::StrCat(status.message(), " (head witness ", path, ")"));
}

// Builds the Merkle tree of events 1..last (published already) in batches,
// then stores the frontier with one synced write. A crash before that write
// leaves no frontier, and the next open builds again (the nodes are the same).
absl::Status RocksEventLog::BuildMerkle(uint64_t last) {
  LEDGER_LOG_INFO("building the Merkle tree over %d events", last);
  merkle::MerkleFrontier frontier;
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions unsynced;
  for (uint64_t from = 1; from <= last;) {
    ASSIGN_OR_RETURN(ReadPage page, ReadAllLocked(from, Direction::kForward, limits::kMaxPageSize));
    for (const RecordedEvent& event : page.events) {
      for (const merkle::Node& node : frontier.Append(merkle::LeafHash(event.hash))) {
        if (merkle::IsStoredNode(node)) batch.Put(merkle_, keys::MerkleNodeKey(node.level, node.index), node.hash);
      }
    }
    RETURN_IF_ERROR(FromRocks(db_->Write(unsynced, &batch), "writing Merkle nodes"));
    batch.Clear();
    if (page.end_of_range || page.events.empty()) break;
    from = page.next_from;
  }
  LEDGER_CHECK(frontier.size() == last, "the Merkle tree built at open does not cover the log");
  batch.Put(meta_, keys::kMetaMerkleFrontierKey, frontier.Serialize());
  RETURN_IF_ERROR(FromRocks(db_->Write(LedgerWriteOptions(), &batch), "writing the Merkle frontier"));
  committed_frontier_ = std::move(frontier);
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
  if (reloading_.load()) return;  // the recovery publishes what it reloaded
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
  // The writer finishes a recovery in progress before it stops.
  // Each thread drains what the one before it handed over, then ends.
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock lock(&commit_mu_);
    writer_finished_ = true;
  }
  if (committer_.joinable()) committer_.join();
  {
    absl::MutexLock lock(&completion_mu_);
    committer_finished_ = true;
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
  absl::WriterMutexLock db_lock(&db_mu_);
  CloseDbInstance();
}

// ---------------------------------------------------------------------------
// Recovery after a failed write.
//
// RocksDB keeps refusing writes after a failed WAL write or sync (with
// paranoid_checks it is a fatal background error that DB::Resume does not
// clear), and after a failed fsync the kernel may already have dropped the
// unwritten pages: the only trustworthy state is what a fresh open recovers
// from disk. So recovery closes the database and opens it again (which
// replays the WAL and refuses a corrupted one), re-runs the open-time checks
// (stored head against the log, the tail of the chain, the Merkle frontier,
// the head witness), and checks that every acknowledged event is still
// there. It runs on the writer thread, once everything staged before it has
// been written or failed and answered, so no staged state survives it.

absl::Status RocksEventLog::ResumeWrites() {
  absl::MutexLock resume_lock(&resume_mu_);
  absl::MutexLock lock(&queue_mu_);
  if (stopping_ || writer_stopped_) return absl::UnavailableError("the ledger is shutting down");
  recovery_requested_ = true;
  recovery_result_.reset();
  auto answered = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return recovery_result_.has_value() || writer_stopped_;
  };
  queue_mu_.Await(absl::Condition(&answered));
  if (!recovery_result_) return absl::UnavailableError("the ledger is shutting down");
  return *recovery_result_;
}

void RocksEventLog::WaitForPipelineToDrain() {
  const uint64_t staged = staged_sequence_;
  {
    absl::MutexLock lock(&commit_mu_);
    auto written = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_) { return processed_sequence_ >= staged; };
    commit_mu_.Await(absl::Condition(&written));
  }
  absl::MutexLock lock(&completion_mu_);
  auto answered = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completion_mu_) { return completed_sequence_ >= staged; };
  completion_mu_.Await(absl::Condition(&answered));
}

absl::Status RocksEventLog::RecoverOnWriter() {
  WaitForPipelineToDrain();
  const WriteState state = GetWriteState();
  if (state.writable) return absl::OkStatus();
  if (!state.recoverable) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the ledger refuses writes for a reason a reopen cannot clear: ", state.refusal_reason));
  }
  LEDGER_LOG_INFO("reopening the database to resume writes after: %s", state.refusal_reason);
  absl::WriterMutexLock db_lock(&db_mu_);
  CloseDbInstance();
  absl::StatusOr<std::optional<std::string>> opened = OpenWritableElseReadOnly();
  if (!opened.ok() || opened->has_value()) {
    std::string reason = absl::StrCat(
        state.refusal_reason, "; reopening the database failed: ",
        opened.ok() ? **opened : absl::StrCat(opened.status().message(), "; reading is unavailable too"));
    LEDGER_LOG_ERROR("ledger still refuses writes: %s", reason);
    absl::MutexLock lock(&state_mu_);
    write_state_ = WriteState{false, reason, /*recoverable=*/true};
    return absl::UnavailableError(reason);
  }
  return ReloadAfterReopen();
}

// Re-runs the open-time checks on the reopened database and, if the log is
// whole and holds every acknowledged event, accepts writes again.
absl::Status RocksEventLog::ReloadAfterReopen() {
  const uint64_t acknowledged = PublishedHeadPosition();
  reload_refusal_.reset();
  reloading_.store(true);
  absl::Status loaded = CheckSchema();
  if (loaded.ok()) loaded = LoadHead();
  if (loaded.ok()) loaded = LoadMerkle();
  if (loaded.ok() && !reload_refusal_ && writer_head_.position < acknowledged) {
    RefuseWrites(absl::StrCat("the reopened log ends at position ", writer_head_.position, " but ",
                              acknowledged, " events were acknowledged"));
  }
  committed_head_ = writer_head_;
  if (loaded.ok() && !reload_refusal_) CheckHeadWitness();
  reloading_.store(false);
  ForgetStaged();
  if (!loaded.ok()) {
    absl::MutexLock lock(&state_mu_);
    write_state_ = WriteState{false, absl::StrCat("after reopening: ", loaded.message()), true};
    return absl::UnavailableError(write_state_.refusal_reason);
  }
  absl::MutexLock lock(&state_mu_);
  if (reload_refusal_) {
    write_state_ = WriteState{false, *reload_refusal_, /*recoverable=*/false};
    return absl::FailedPreconditionError(absl::StrCat("the ledger refuses writes: ", *reload_refusal_));
  }
  if (writer_head_.position != head_.position) {
    // The failed write reached the disk after all: its events are whole and
    // chained, and retries of them are answered as already recorded.
    LEDGER_LOG_WARN("the reopened log holds events %d..%d that were never acknowledged",
                    head_.position + 1, writer_head_.position);
    recent_.clear();
    recent_first_ = writer_head_.position + 1;
    head_ = Head{writer_head_.position, writer_head_.hash,
                 absl::FromUnixMicros(writer_head_.recorded_at_micros)};
    head_changed_.SignalAll();
  }
  write_state_ = WriteState{};
  LEDGER_LOG_INFO("the ledger accepts writes again at position %d", writer_head_.position);
  return absl::OkStatus();
}

// Drops what the writer and committer kept about groups staged before the
// failure: all of them failed, and the reopened database is the truth.
void RocksEventLog::ForgetStaged() {
  in_flight_.clear();
  in_flight_ids_.clear();
  in_flight_streams_.clear();
  stream_versions_.clear();
  committed_sequence_.store(staged_sequence_, std::memory_order_release);
  absl::MutexLock lock(&commit_mu_);
  write_failure_.reset();
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
      queued_events_ += pending->prepared.size();
      queue_.push_back(pending.release());  // the writer owns it from here
    }
  }
  if (!refused.ok()) std::move(pending->done)(refused);
}

// ---------------------------------------------------------------------------
// Append: writer side (stages).

void RocksEventLog::WriterLoop() {
  std::vector<PendingAppend*> appends;
  while (true) {
    const WriterTask task = TakeGroup(&appends);
    if (task == WriterTask::kStop) break;
    if (task == WriterTask::kRecover) {
      absl::Status recovered = RecoverOnWriter();
      absl::MutexLock lock(&queue_mu_);
      recovery_requested_ = false;
      recovery_result_ = std::move(recovered);
      continue;
    }
    PruneCommitted();
    StagedGroupPtr group = StageGroup(std::move(appends));
    appends.clear();
    HandToCommitter(std::move(group));
    if (options_.after_group_staged) options_.after_group_staged(writer_head_.position);
  }
  absl::MutexLock lock(&queue_mu_);
  writer_stopped_ = true;
}

RocksEventLog::WriterTask RocksEventLog::TakeGroup(std::vector<PendingAppend*>* group) {
  absl::MutexLock lock(&queue_mu_);
  // While the committer writes, a few small appends wait for it to finish
  // and are then staged together; enough events are staged at once, so that
  // staging them overlaps the write.
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(queue_mu_) {
    return stopping_ || recovery_requested_ ||
           (!queue_.empty() && (committer_idle_ || queued_events_ >= options_.min_events_to_stage_ahead));
  };
  queue_mu_.Await(absl::Condition(&ready));
  if (recovery_requested_) return WriterTask::kRecover;
  if (queue_.empty()) return WriterTask::kStop;  // stopping, and everything queued is done
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
    queued_events_ -= next_events;
    events += next_events;
    bytes += next_bytes;
  }
  return WriterTask::kStage;
}

// Stages one take of the queue: each append is checked against RocksDB and
// against every group staged before it (the in-flight overlay), then gets
// its positions, versions, time and chain. Nothing is written here.
StagedGroupPtr RocksEventLog::StageGroup(std::vector<PendingAppend*> appends) {
  auto group = std::make_shared<StagedGroup>();
  group->sequence = ++staged_sequence_;
  group->appends = std::move(appends);
  size_t events = 0;
  for (const PendingAppend* pending : group->appends) {
    events += pending->prepared.size();
    group->bytes += pending->bytes;
  }
  group->events.reserve(events);
  const size_t reserved = group->events.capacity();
  // Transaction time never decreases along the log, whatever the clock does.
  group->recorded_at_micros = std::max<int64_t>(
      {absl::ToUnixMicros(options_.clock->Now()), writer_head_.recorded_at_micros, 0});
  const WriteState state = GetWriteState();
  absl::ReaderMutexLock db_lock(&db_mu_);
  absl::StatusOr<RecordedIds> recorded_ids =
      state.writable ? LookupIds(group->appends) : RecordedIds();
  for (PendingAppend* pending : group->appends) {
    if (!state.writable) {
      pending->result = absl::FailedPreconditionError(
          absl::StrCat("the ledger refuses writes: ", state.refusal_reason));
    } else if (!recorded_ids.ok()) {
      pending->result = recorded_ids.status();
    } else {
      pending->result = Stage(pending, *recorded_ids, group.get());
    }
  }
  // The overlay points into group->events: it must not have reallocated.
  LEDGER_CHECK(group->events.capacity() == reserved, "staged events outgrew their reservation");
  if (!group->events.empty()) in_flight_.push_back(group);
  return group;
}

// Adds the events staged from group->events[first_event] on (one append) to
// the in-flight overlay.
void RocksEventLog::RememberStaged(const StagedGroup& group, size_t first_event) {
  for (size_t i = first_event; i < group.events.size(); ++i) {
    const StagedEvent& staged = group.events[i];
    const v1::EventEnvelope& envelope = staged.event->envelope;
    in_flight_ids_[envelope.event_id()] =
        InFlightId{envelope.position(), envelope.stream_version(), staged.digest,
                   envelope.recorded_at_micros()};
  }
  const v1::EventEnvelope& last = group.events.back().event->envelope;
  // Re-keyed on every append: the key must point into the newest group,
  // the one whose pruning removes the entry.
  in_flight_streams_.erase(last.stream_id());
  in_flight_streams_.emplace(last.stream_id(),
                             InFlightStream{last.stream_version(), group.sequence});
}

// Drops from the overlay what committed groups staged: RocksDB holds it now.
// Stream versions move to the cache unless a later group staged the stream.
void RocksEventLog::PruneCommitted() {
  const uint64_t committed = committed_sequence_.load(std::memory_order_acquire);
  while (!in_flight_.empty() && in_flight_.front()->sequence <= committed) {
    const StagedGroup& group = *in_flight_.front();
    std::string_view last_stream;
    for (const StagedEvent& staged : group.events) {
      const v1::EventEnvelope& envelope = staged.event->envelope;
      in_flight_ids_.erase(envelope.event_id());
      if (envelope.stream_id() == last_stream) continue;
      last_stream = envelope.stream_id();
      auto it = in_flight_streams_.find(last_stream);
      if (it != in_flight_streams_.end() && it->second.sequence == group.sequence) {
        CacheStreamVersion(last_stream, it->second.version);
        in_flight_streams_.erase(it);
      }
    }
    in_flight_.pop_front();
  }
}

void RocksEventLog::CacheStreamVersion(std::string_view stream_id, uint64_t version) {
  if (auto it = stream_versions_.find(Absl(stream_id)); it != stream_versions_.end()) {
    it->second = version;
    return;
  }
  if (stream_versions_.size() >= limits::kStreamVersionCacheEntries) stream_versions_.clear();
  stream_versions_.emplace(std::string(stream_id), version);
}

// Blocks while a full group commit's worth of events is already waiting for
// the committer, so that staging runs at most one write ahead of the disk.
void RocksEventLog::HandToCommitter(StagedGroupPtr group) {
  absl::MutexLock lock(&commit_mu_);
  auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_) {
    return commit_queue_.empty() || (commit_queue_events_ < limits::kMaxGroupCommitEvents &&
                                     commit_queue_bytes_ < limits::kMaxGroupCommitBytes);
  };
  commit_mu_.Await(absl::Condition(&has_room));
  commit_queue_events_ += group->events.size();
  commit_queue_bytes_ += group->bytes;
  commit_queue_.push_back(std::move(group));
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
// recorded or staged with the same body (an idempotent retry), nothing if none
// is, and AlreadyExists otherwise. A retry of a staged append is answered only
// after the group that staged it committed: groups are written and answered
// in order, and nothing is acknowledged after a failed write.
absl::StatusOr<std::optional<AppendResult>> RocksEventLog::CheckIdempotent(
    const PendingAppend& pending, const RecordedIds& recorded_ids) {
  const AppendRequest& request = pending.request;
  struct Found {
    uint64_t position;
    uint64_t version;
  };
  std::vector<Found> found;
  size_t first_found_index = 0;
  std::optional<int64_t> staged_at;  // the recorded time of a staged original
  for (size_t i = 0; i < request.events.size(); ++i) {
    const ProposedEvent& event = request.events[i];
    std::optional<Found> entry;
    std::string_view digest;
    if (auto it = in_flight_ids_.find(event.event_id); it != in_flight_ids_.end()) {
      entry = Found{it->second.position, it->second.version};
      digest = it->second.digest;
      staged_at = it->second.recorded_at_micros;
    } else if (auto it = recorded_ids.find(event.event_id); it != recorded_ids.end()) {
      entry = Found{it->second.position, it->second.version};
      digest = it->second.digest;
    }
    if (!entry) continue;
    if (found.empty()) first_found_index = i;
    if (digest != pending.prepared[i].digest) {
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
  if (staged_at) {
    result.recorded_at = absl::FromUnixMicros(*staged_at);
  } else {
    ASSIGN_OR_RETURN(RecordedEvent last, ReadPosition(result.last_position));
    result.recorded_at = absl::FromUnixMicros(last.envelope.recorded_at_micros());
  }
  return std::optional<AppendResult>(result);
}

// The stream's last version: staged (the overlay), else committed (the cache,
// else RocksDB, which holds every committed group the overlay has dropped).
absl::StatusOr<uint64_t> RocksEventLog::StreamVersion(const std::string& stream_id) {
  if (auto it = in_flight_streams_.find(stream_id); it != in_flight_streams_.end()) {
    return it->second.version;
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
  CacheStreamVersion(stream_id, version);
  return version;
}

absl::StatusOr<AppendResult> RocksEventLog::Stage(PendingAppend* pending,
                                                  const RecordedIds& recorded_ids,
                                                  StagedGroup* group) {
  const AppendRequest& request = pending->request;
  ASSIGN_OR_RETURN(std::optional<AppendResult> retry, CheckIdempotent(*pending, recorded_ids));
  if (retry) return *retry;

  ASSIGN_OR_RETURN(uint64_t version, StreamVersion(request.stream_id));
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

  const int64_t now_micros = group->recorded_at_micros;
  AppendResult result;
  result.first_position = writer_head_.position + 1;
  result.recorded_at = absl::FromUnixMicros(now_micros);
  const size_t first_event = group->events.size();
  for (PreparedEvent& prepared : pending->prepared) {
    RecordedEvent& event = *prepared.event;
    const uint64_t position = writer_head_.position + 1;
    ++version;
    // The body is the fixed fields followed by these, appended in place.
    assigned_.set_position(position);
    assigned_.set_stream_version(version);
    assigned_.set_recorded_at_micros(now_micros);
    assigned_.set_prev_hash(writer_head_.hash);
    LEDGER_CHECK(assigned_.AppendToString(&event.stored_bytes), "serializing an envelope");
    v1::EventEnvelope& envelope = event.envelope;
    envelope.set_position(position);
    envelope.set_stream_version(version);
    envelope.set_recorded_at_micros(now_micros);
    envelope.set_prev_hash(writer_head_.hash);
    event.hash = Sha256(event.stored_bytes);
    writer_head_.position = position;
    writer_head_.hash = event.hash;
    writer_head_.recorded_at_micros = now_micros;
    group->events.push_back(StagedEvent{std::move(prepared.event), std::move(prepared.digest)});
  }
  RememberStaged(*group, first_event);
  result.last_position = writer_head_.position;
  result.stream_version = version;
  return result;
}

// ---------------------------------------------------------------------------
// Append: committer side (writes).

void RocksEventLog::CommitterLoop() {
  // Reused across writes: buffers keep their capacity after Clear().
  rocksdb::WriteBatch batch;
  while (true) {
    CommitUnit unit;
    if (!TakeStaged(&unit.groups)) return;  // the writer is done and so are we
    WriteUnit(&unit, &batch);
    {
      absl::MutexLock lock(&commit_mu_);
      processed_sequence_ = unit.groups.back()->sequence;
    }
    HandToCompleter(std::move(unit));
  }
}

// Puts one staged event and its index entries. The record is framed in place
// as integrity/record.h defines it (format byte, hash, body) rather than
// copied into an EncodeRecord value first; every read checks the frame.
void RocksEventLog::PutStaged(const StagedEvent& staged, rocksdb::WriteBatch* batch) {
  const RecordedEvent& event = *staged.event;
  const v1::EventEnvelope& envelope = event.envelope;
  const std::string event_key = keys::EventKey(envelope.position());
  const rocksdb::Slice key(event_key);
  const rocksdb::Slice record[] = {rocksdb::Slice(&kRecordFormatV1, 1), event.hash,
                                   event.stored_bytes};
  batch->Put(events_, rocksdb::SliceParts(&key, 1), rocksdb::SliceParts(record, 3));
  keys::StreamKeyTo(&key_buffer_, envelope.stream_id(), envelope.stream_version());
  batch->Put(streams_, key_buffer_, keys::PositionValue(envelope.position()));
  keys::IdValueTo(&value_buffer_, envelope.position(), envelope.stream_version(), staged.digest);
  batch->Put(ids_, envelope.event_id(), value_buffer_);
}

// Takes every group staged so far (bounded by the group commit limits), so
// that one synced write carries all of them: the committer never writes a
// lone small group while others wait behind it.
bool RocksEventLog::TakeStaged(std::vector<StagedGroupPtr>* groups) {
  {
    absl::MutexLock lock(&commit_mu_);
    if (!commit_queue_.empty()) {
      TakeStagedLocked(groups);
      return true;
    }
  }
  SetCommitterIdle(true);  // nothing to write: the writer stages at once
  {
    absl::MutexLock lock(&commit_mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(commit_mu_) {
      return !commit_queue_.empty() || writer_finished_;
    };
    commit_mu_.Await(absl::Condition(&ready));
    if (commit_queue_.empty()) return false;
    TakeStagedLocked(groups);
  }
  SetCommitterIdle(false);
  return true;
}

void RocksEventLog::SetCommitterIdle(bool idle) {
  absl::MutexLock lock(&queue_mu_);
  committer_idle_ = idle;
}

void RocksEventLog::TakeStagedLocked(std::vector<StagedGroupPtr>* groups) {
  size_t events = 0;
  size_t bytes = 0;
  while (!commit_queue_.empty()) {
    const StagedGroup& next = *commit_queue_.front();
    if (!groups->empty() && (events + next.events.size() > limits::kMaxGroupCommitEvents ||
                             bytes + next.bytes > limits::kMaxGroupCommitBytes)) {
      break;
    }
    events += next.events.size();
    bytes += next.bytes;
    commit_queue_events_ -= next.events.size();
    commit_queue_bytes_ -= next.bytes;
    groups->push_back(std::move(commit_queue_.front()));
    commit_queue_.pop_front();
  }
}

// Writes every event the unit's groups staged, their indexes, one time-index
// entry per group and the new head with one synced write. After a failed
// write nothing is written again: this unit and every later one fail, so that
// nothing staged behind a write that may be lost is ever acknowledged.
void RocksEventLog::WriteUnit(CommitUnit* unit, rocksdb::WriteBatch* batch) {
  if (write_failure_) {
    FailUnit(*unit);
    return;
  }
  batch->Clear();
  WriterHead head = committed_head_;
  merkle::MerkleFrontier frontier = committed_frontier_;
  bool any = false;
  for (const StagedGroupPtr& group : unit->groups) {
    if (group->events.empty()) continue;
    for (const StagedEvent& staged : group->events) {
      const v1::EventEnvelope& envelope = staged.event->envelope;
      const uint64_t position = envelope.position();
      // Check before writing: each event extends the head without a gap,
      // chains to it, and does not go back in time.
      LEDGER_CHECK(position == head.position + 1,
                   "staged positions do not extend the head contiguously");
      LEDGER_CHECK(envelope.prev_hash() == head.hash,
                   "a staged event does not chain to the event before it");
      LEDGER_CHECK(envelope.recorded_at_micros() >= head.recorded_at_micros,
                   "a staged event's recorded time decreases");
      LEDGER_CHECK(staged.event->hash.size() == kHashBytes, "a staged event has no hash");
      PutStaged(staged, batch);
      for (const merkle::Node& node : frontier.Append(merkle::LeafHash(staged.event->hash))) {
        if (merkle::IsStoredNode(node)) batch->Put(merkle_, keys::MerkleNodeKey(node.level, node.index), node.hash);
      }
      head.position = position;
      head.hash = staged.event->hash;
      head.recorded_at_micros = envelope.recorded_at_micros();
    }
    batch->Put(by_time_, keys::ByTimeKey(static_cast<uint64_t>(group->recorded_at_micros)),
               keys::PositionValue(head.position));
    any = true;
  }
  if (any) {
    keys::HeadValue stored{head.position, static_cast<uint64_t>(head.recorded_at_micros),
                           head.hash};
    batch->Put(meta_, keys::kMetaHeadKey, keys::EncodeHead(stored));
    LEDGER_CHECK(frontier.size() == head.position, "the Merkle frontier does not cover the head");
    batch->Put(meta_, keys::kMetaMerkleFrontierKey, frontier.Serialize());
    rocksdb::Status status;
    {
      absl::ReaderMutexLock db_lock(&db_mu_);
      status = db_->Write(LedgerWriteOptions(), batch);
    }
    if (!status.ok()) {
      write_failure_ = absl::StrCat("a synced write failed: ", status.ToString());
      RefuseWrites(*write_failure_, /*recoverable=*/true);
      FailUnit(*unit);
      return;
    }
    committed_head_ = head;
    committed_frontier_ = std::move(frontier);
    unit->written = true;
    unit->head = std::move(head);
  }
  committed_sequence_.store(unit->groups.back()->sequence, std::memory_order_release);
}

// Answers every append of the unit UNAVAILABLE: its groups were staged on top
// of a write that failed, so no outcome computed for them can be trusted.
void RocksEventLog::FailUnit(const CommitUnit& unit) {
  const std::string reason = absl::StrCat(
      *write_failure_,
      "; the append may not have been recorded: retry it with the same event ids once the "
      "ledger accepts writes again");
  for (const StagedGroupPtr& group : unit.groups) {
    for (PendingAppend* pending : group->appends) pending->result = absl::UnavailableError(reason);
  }
}

// ---------------------------------------------------------------------------
// Append: completer side (publishes and answers).

// Publishing, waking callers and freeing memory happen on the completer, in
// unit order, so that they overlap with the next synced write.
void RocksEventLog::HandToCompleter(CommitUnit unit) {
  absl::MutexLock lock(&completion_mu_);
  auto has_room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completion_mu_) {
    return completion_queue_.size() < limits::kMaxGroupsAwaitingCompletion;
  };
  completion_mu_.Await(absl::Condition(&has_room));
  completion_queue_.push_back(std::move(unit));
}

void RocksEventLog::CompleterLoop() {
  while (true) {
    CommitUnit unit;
    {
      absl::MutexLock lock(&completion_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(completion_mu_) {
        return !completion_queue_.empty() || committer_finished_;
      };
      completion_mu_.Await(absl::Condition(&ready));
      if (completion_queue_.empty()) return;  // the committer is done and so are we
      unit = std::move(completion_queue_.front());
      completion_queue_.pop_front();
    }
    if (unit.written) Publish(unit);
    // Acknowledge only now: the unit is synced and readers can see it.
    for (const StagedGroupPtr& group : unit.groups) {
      for (PendingAppend* pending : group->appends) {
        std::unique_ptr<PendingAppend> owned(pending);
        std::move(owned->done)(std::move(owned->result));
      }
      group->appends.clear();
    }
    absl::MutexLock lock(&completion_mu_);
    completed_sequence_ = unit.groups.back()->sequence;
  }
}

void RocksEventLog::Publish(const CommitUnit& unit) {
  // Events leaving the ring are freed after the lock is released.
  std::vector<std::shared_ptr<const RecordedEvent>> evicted;
  absl::MutexLock lock(&state_mu_);
  uint64_t next = head_.position + 1;
  for (const StagedGroupPtr& group : unit.groups) {
    for (const StagedEvent& staged : group->events) {
      LEDGER_CHECK(staged.event->envelope.position() == next,
                   "published events do not follow the published head");
      recent_.push_back(staged.event);
      ++next;
    }
  }
  LEDGER_CHECK(unit.head.position == next - 1, "the published head is not the last event");
  while (recent_.size() > options_.recent_events_cached) {
    evicted.push_back(std::move(recent_.front()));
    recent_.pop_front();
    ++recent_first_;
  }
  head_ = Head{unit.head.position, unit.head.hash,
               absl::FromUnixMicros(unit.head.recorded_at_micros)};
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
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
  return ReadAllLocked(from_position, direction, max_count);
}

absl::StatusOr<ReadPage> RocksEventLog::ReadAllLocked(uint64_t from_position, Direction direction,
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
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
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
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
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
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
  RETURN_IF_ERROR(ValidateEventId("event_id", event_id));
  ASSIGN_OR_RETURN(std::optional<keys::IdEntry> entry, LookupId(event_id));
  if (!entry || entry->position > PublishedHeadPosition()) {
    return EventNotRecordedError(event_id);
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
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
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

// Appends may go on while Verify runs (the head publisher's, a client's): the
// stored head is read from one snapshot, together with the records it must
// name there, so that a head that moved on is not mistaken for a wrong one.
void RocksEventLog::CheckStoredHead(const Head& head, ChainVerifier* verifier) {
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  rocksdb::ReadOptions options = LedgerReadOptions();
  options.snapshot = snapshot;
  std::string meta_value;
  rocksdb::Status status = db_->Get(options, meta_, keys::kMetaHeadKey, &meta_value);
  std::optional<keys::HeadValue> stored = keys::ParseHead(meta_value);
  bool names_last_record = status.ok() && stored.has_value() && stored->position >= head.position;
  if (names_last_record && stored->position == head.position) {
    names_last_record = stored->hash == verifier->last_hash();
  } else if (names_last_record) {
    std::string record;
    std::string next;
    absl::StatusOr<DecodedRecord> last =
        db_->Get(options, events_, keys::EventKey(stored->position), &record).ok()
            ? DecodeRecord(record)
            : absl::StatusOr<DecodedRecord>(absl::NotFoundError("missing"));
    names_last_record = last.ok() && last->hash == stored->hash &&
                        db_->Get(options, events_, keys::EventKey(stored->position + 1), &next).IsNotFound();
  }
  db_->ReleaseSnapshot(snapshot);
  if (!names_last_record) {
    verifier->Fail(head.position, ChainProblem::kHeadMismatch,
                   "the stored head does not name the last record");
  }
}

// A ledger that predates the tree and opened damaged (so the tree was never
// built for it) has no frontier; its nodes are absent, not wrong, and
// reporting them would hide the damage that Verify is there to name.
absl::StatusOr<bool> RocksEventLog::HasMerkleTree() {
  std::string value;
  rocksdb::Status status = db_->Get(LedgerReadOptions(), meta_, keys::kMetaMerkleFrontierKey, &value);
  if (status.IsNotFound()) return false;
  RETURN_IF_ERROR(FromRocks(status, "reading the Merkle frontier"));
  return true;
}

// Adds the event's leaf to the recomputed tree and compares every node it
// completes that the store keeps, so that a damaged node is found even when
// no root the store serves reads it (it would still spoil proofs). One
// stored node per 8 events on average.
absl::Status RocksEventLog::CheckMerkleLeaf(uint64_t position, std::string_view event_hash,
                                            merkle::MerkleFrontier* tree, StoredNodeCursor* stored_nodes,
                                            ChainVerifier* verifier) {
  for (const merkle::Node& node : tree->Append(merkle::LeafHash(event_hash))) {
    if (!merkle::IsStoredNode(node)) continue;
    absl::StatusOr<std::string> stored = stored_nodes->Read(node.level, node.index);
    if (!stored.ok() && !absl::IsDataLoss(stored.status())) return stored.status();
    if (stored.ok() && *stored == node.hash) continue;
    const uint64_t first = (node.index << node.level) + 1;
    verifier->Fail(position, ChainProblem::kMerkleMismatch,
                   stored.ok() ? absl::StrCat("Merkle node ", node.level, "/", node.index, " (positions ", first,
                                              "..", position, ") recomputed from the events differs from the "
                                              "stored node: recomputed ", HexEncode(node.hash), ", stored ",
                                              HexEncode(*stored))
                               : std::string(stored.status().message()));
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

// Compares the recomputed root with the root the store serves (TreeRoot reads
// stored nodes and recomputes the lower ones from the events: the path that
// signed heads and proofs take), then the stored frontier, from which the
// committer builds every later node.
absl::Status RocksEventLog::CheckMerkleTree(const merkle::MerkleFrontier& tree, ChainVerifier* verifier) {
  const uint64_t size = tree.size();
  const std::string recomputed = tree.Root();
  absl::StatusOr<std::string> served = TreeRootLocked(size);
  if (!served.ok() && !absl::IsDataLoss(served.status())) return served.status();
  if (!served.ok() || *served != recomputed) {
    const std::string stored = served.ok() ? HexEncode(*served) : std::string(served.status().message());
    verifier->Fail(size, ChainProblem::kMerkleMismatch,
                   absl::StrCat("Merkle root at size ", size, " recomputed from the events differs from the "
                                "stored tree: recomputed ", HexEncode(recomputed), ", stored tree ", stored));
    return absl::OkStatus();
  }
  return CheckStoredFrontier(tree, verifier);
}

absl::Status RocksEventLog::CheckStoredFrontier(const merkle::MerkleFrontier& tree, ChainVerifier* verifier) {
  std::string value;
  RETURN_IF_ERROR(FromRocks(db_->Get(LedgerReadOptions(), meta_, keys::kMetaMerkleFrontierKey, &value),
                            "reading the Merkle frontier"));
  absl::StatusOr<merkle::MerkleFrontier> stored = merkle::MerkleFrontier::Parse(value);
  // Appends since Verify started move the frontier on: only the same size
  // can be compared (open checks that the frontier covers the head).
  if (stored.ok() && stored->size() > tree.size()) return absl::OkStatus();
  if (stored.ok() && stored->nodes() == tree.nodes()) return absl::OkStatus();
  verifier->Fail(tree.size(), ChainProblem::kMerkleMismatch,
                 stored.ok() ? absl::StrCat("the stored Merkle frontier (size ", stored->size(),
                                            ") differs from the right edge recomputed from the events at size ",
                                            tree.size())
                             : absl::StrCat("the stored Merkle frontier is malformed: ", stored.status().message()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// The Merkle tree: roots and proofs.

absl::Status RocksEventLog::CheckTreeSize(std::string_view field, uint64_t tree_size) {
  const uint64_t head = PublishedHeadPosition();
  if (tree_size > head) {
    return absl::InvalidArgumentError(absl::StrCat(Absl(field), ": ", tree_size, " is beyond the head at ", head));
  }
  return absl::OkStatus();
}

// A missing or malformed node is DataLoss: the tree no longer answers for
// the events it covers.
absl::StatusOr<std::string> RocksEventLog::StoredMerkleNode(int level, uint64_t index) {
  std::string value;
  rocksdb::Status status = db_->Get(LedgerReadOptions(), merkle_, keys::MerkleNodeKey(level, index), &value);
  if (status.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("Merkle node ", level, "/", index, " is missing"));
  }
  RETURN_IF_ERROR(FromRocks(status, "reading a Merkle node"));
  if (value.size() != kHashBytes) {
    return absl::DataLossError(absl::StrCat("Merkle node ", level, "/", index, " is malformed"));
  }
  return value;
}

template <typename Fn>
auto RocksEventLog::WithNodeSource(Fn fn) {
  auto stored = [this](int level, uint64_t index) { return StoredMerkleNode(level, index); };
  auto leaves = [this](uint64_t begin, uint64_t end) -> absl::StatusOr<std::vector<std::string>> {
    std::vector<uint64_t> positions;
    for (uint64_t position = begin + 1; position <= end; ++position) positions.push_back(position);
    ASSIGN_OR_RETURN(std::vector<RecordedEvent> events, ReadPositions(positions));
    std::vector<std::string> hashes;
    hashes.reserve(events.size());
    for (const RecordedEvent& event : events) hashes.push_back(merkle::LeafHash(event.hash));
    return hashes;
  };
  merkle::SparseNodeSource source(stored, leaves);
  return fn(source);
}

absl::StatusOr<std::string> RocksEventLog::TreeRoot(uint64_t tree_size) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
  return TreeRootLocked(tree_size);
}

absl::StatusOr<std::string> RocksEventLog::TreeRootLocked(uint64_t tree_size) {
  RETURN_IF_ERROR(CheckTreeSize("tree_size", tree_size));
  if (tree_size == 0) return merkle::EmptyRoot();
  return WithNodeSource([&](merkle::NodeSource& source) { return merkle::RangeHash(source, 0, tree_size); });
}

absl::StatusOr<std::vector<std::string>> RocksEventLog::InclusionProof(uint64_t position, uint64_t tree_size) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
  RETURN_IF_ERROR(CheckTreeSize("tree_size", tree_size));
  if (position == 0 || position > tree_size) {
    return absl::InvalidArgumentError(absl::StrCat("position: ", position, " is not in the tree of ", tree_size,
                                                   " events (1..", tree_size, ")"));
  }
  return WithNodeSource(
      [&](merkle::NodeSource& source) { return merkle::InclusionProof(source, position - 1, tree_size); });
}

absl::StatusOr<std::vector<std::string>> RocksEventLog::ConsistencyProof(uint64_t old_size, uint64_t new_size) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
  RETURN_IF_ERROR(CheckTreeSize("new_size", new_size));
  if (old_size > new_size) {
    return absl::InvalidArgumentError(absl::StrCat("old_size: ", old_size, " is above new_size ", new_size));
  }
  return WithNodeSource(
      [&](merkle::NodeSource& source) { return merkle::ConsistencyProof(source, old_size, new_size); });
}

absl::StatusOr<VerifyReport> RocksEventLog::Verify(uint64_t from_position,
                                                   uint64_t to_position) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
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
  // The tree can be recomputed only from its first leaf on.
  std::optional<merkle::MerkleFrontier> tree;
  StoredNodeCursor stored_nodes(db_.get(), merkle_);
  if (report.from_position == 1) {
    ASSIGN_OR_RETURN(bool has_tree, HasMerkleTree());
    if (has_tree) tree.emplace();
  }
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
    if (tree && !verifier.finding()) {
      RETURN_IF_ERROR(CheckMerkleLeaf(*position, verifier.last_hash(), &*tree, &stored_nodes, &verifier));
    }
    if (verifier.finding()) break;
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
  if (!verifier.finding() && verifier.next_position() != report.to_position + 1) {
    verifier.Fail(verifier.next_position(), ChainProblem::kGap,
                  absl::StrCat("the log ends before position ", verifier.next_position()));
  }
  if (!verifier.finding() && report.to_position == head.position) CheckStoredHead(head, &verifier);
  if (!verifier.finding() && tree) RETURN_IF_ERROR(CheckMerkleTree(*tree, &verifier));
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
  for (const auto& event : shared) {
    RecordedEvent copy;
    copy.hash = event->hash;
    copy.stored_bytes = event->stored_bytes;
    // The ring keeps the payload only in the body: the envelope is read back
    // from exactly what is stored (its hash was computed over these bytes).
    LEDGER_CHECK(copy.envelope.ParseFromString(copy.stored_bytes),
                 "a body in the recent ring does not parse");
    LEDGER_CHECK(copy.envelope.position() == event->envelope.position(),
                 "a body in the recent ring names another position");
    events.push_back(std::move(copy));
  }
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

// ---------------------------------------------------------------------------
// Checkpoints (for online backups, ledger/store/backup.h).

// RocksDB flushes every family together first (atomic_flush), then links the
// SST files and copies the WAL up to its current end: one consistent point
// that holds every synced write, so every acknowledged append. The committer
// keeps writing meanwhile; each write batch is in the checkpoint whole or not
// at all.
absl::Status RocksEventLog::CreateCheckpoint(const std::string& checkpoint_dir) {
  absl::ReaderMutexLock db_lock(&db_mu_);
  RETURN_IF_ERROR(DbAvailable());
  rocksdb::Checkpoint* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db_.get(), &raw), "starting a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(checkpoint_dir, /*log_size_for_flush=*/0),
                   absl::StrCat("writing a checkpoint of the ledger into '", checkpoint_dir, "'"));
}

}  // namespace ledger
