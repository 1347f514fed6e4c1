#include "ledger/store/rocks_event_log.h"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocks_options.h"
#include "rocksdb/db.h"
#include "ledger/testing/temp_dir.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace ledger {
namespace {

using ::ledger::testing::IsOk;
using ::ledger::testing::StatusIs;
using ::ledger::testing::TempDir;
using ::testing::HasSubstr;

const absl::Time kStart = absl::FromUnixSeconds(1719792000);  // 2024-07-01T00:00:00Z

ProposedEvent Event(const std::string& id, const std::string& payload = "{\"v\":1}") {
  return ProposedEvent{id, "RealizationRecorded", payload, "application/json", "", "", ""};
}

AppendRequest Request(const std::string& stream, ExpectedVersion expected,
                      std::vector<ProposedEvent> events) {
  return AppendRequest{stream, expected, std::move(events), "local:test"};
}

// A file system whose WAL syncs can be held and then failed or let through,
// so that a test can stage groups behind a synced write in flight.
class GatedSyncFileSystem : public rocksdb::FileSystemWrapper {
 public:
  GatedSyncFileSystem() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  static const char* kClassName() { return "GatedSyncFileSystem"; }
  const char* Name() const override { return kClassName(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override {
    rocksdb::IOStatus status = target()->NewWritableFile(name, options, file, debug);
    if (status.ok() && absl::EndsWith(name, ".log")) {
      *file = std::make_unique<GatedFile>(std::move(*file), this);
    }
    return status;
  }

  // The next WAL sync blocks until Release().
  void Arm() {
    absl::MutexLock lock(&mu_);
    armed_ = true;
    blocked_ = false;
    released_.reset();
  }
  void WaitUntilBlocked() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&blocked_));
  }
  // Ends the held sync with `status` (after really syncing when it is OK).
  void Release(rocksdb::IOStatus status) {
    absl::MutexLock lock(&mu_);
    released_ = std::move(status);
  }

 private:
  class GatedFile : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    GatedFile(std::unique_ptr<rocksdb::FSWritableFile> file, GatedSyncFileSystem* fs)
        : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* debug) override {
      rocksdb::IOStatus status = fs_->Pass();
      return status.ok() ? target()->Sync(options, debug) : status;
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                            rocksdb::IODebugContext* debug) override {
      rocksdb::IOStatus status = fs_->Pass();
      return status.ok() ? target()->Fsync(options, debug) : status;
    }

   private:
    GatedSyncFileSystem* const fs_;
  };

  rocksdb::IOStatus Pass() {
    absl::MutexLock lock(&mu_);
    if (!armed_) return rocksdb::IOStatus::OK();
    armed_ = false;
    blocked_ = true;
    auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return released_.has_value(); };
    mu_.Await(absl::Condition(&released));
    return *released_;
  }

  absl::Mutex mu_;
  bool armed_ ABSL_GUARDED_BY(mu_) = false;
  bool blocked_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<rocksdb::IOStatus> released_ ABSL_GUARDED_BY(mu_);
};

// Outcomes of asynchronous appends, by name, in the order they were answered.
class Outcomes {
 public:
  AppendCallback Record(std::string name) {
    return [this, name](absl::StatusOr<AppendResult> result) {
      absl::MutexLock lock(&mu_);
      order_.push_back(name);
      results_.emplace(name, std::move(result));
    };
  }
  void WaitFor(size_t count) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return results_.size() >= count; };
    mu_.Await(absl::Condition(&done));
  }
  absl::StatusOr<AppendResult> Get(const std::string& name) {
    absl::MutexLock lock(&mu_);
    return results_.at(name);
  }
  std::vector<std::string> Order() {
    absl::MutexLock lock(&mu_);
    return order_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> order_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::StatusOr<AppendResult>> results_ ABSL_GUARDED_BY(mu_);
};

// The last position the writer has staged, as its test hook reports it.
class StagedWatch {
 public:
  std::function<void(uint64_t)> Hook() {
    return [this](uint64_t position) {
      absl::MutexLock lock(&mu_);
      staged_ = position;
    };
  }
  void WaitFor(uint64_t position) {
    absl::MutexLock lock(&mu_);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return staged_ >= position; };
    mu_.Await(absl::Condition(&reached));
  }

 private:
  absl::Mutex mu_;
  uint64_t staged_ ABSL_GUARDED_BY(mu_) = 0;
};

class RocksEventLogTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(rocksdb::Env* env = nullptr, std::function<void(uint64_t)> staged_hook = nullptr) {
    RocksEventLogOptions options;
    options.data_dir = dir_.Sub("ledger");
    options.clock = &clock_;
    options.env = env;
    options.after_group_staged = std::move(staged_hook);
    // Stage every append at once, even behind a write in flight, so that the
    // tests of the in-flight overlay can hold a write and stage behind it.
    if (options.after_group_staged) options.min_events_to_stage_ahead = 1;
    auto log = OpenRocksEventLog(options);
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }

  void Reopen() {
    log_.reset();
    Open();
  }

  AppendResult MustAppend(AppendRequest request) {
    absl::StatusOr<AppendResult> result = log_->Append(std::move(request));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : AppendResult{};
  }

  // Closes the log, lets `edit` change its RocksDB directly (handles in the
  // order of LedgerColumnFamilies: kMeta, kMerkle), and opens it again.
  using RawEdit = std::function<void(rocksdb::DB*, std::vector<rocksdb::ColumnFamilyHandle*>&)>;
  static constexpr size_t kMeta = 5;
  static constexpr size_t kMerkle = 6;
  void EditRocksDb(const RawEdit& edit) {
    log_.reset();
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir_.Sub("ledger"), LedgerColumnFamilies(), &handles, &raw)
                    .ok());
    edit(raw, handles);
    for (auto* handle : handles) raw->DestroyColumnFamilyHandle(handle);
    delete raw;
    Open();
  }

  std::vector<RecordedEvent> All() {
    std::vector<RecordedEvent> events;
    uint64_t from = 1;
    while (true) {
      auto page = log_->ReadAll(from, Direction::kForward, 1000);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (auto& event : page->events) events.push_back(std::move(event));
      if (page->end_of_range) break;
      from = page->next_from;
    }
    return events;
  }

  TempDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<ClosableEventLog> log_;
};

TEST_F(RocksEventLogTest, EmptyLogHasGenesisHead) {
  Head head = log_->GetHead();
  EXPECT_EQ(head.position, 0u);
  EXPECT_EQ(head.hash, GenesisHash());
  EXPECT_TRUE(log_->GetWriteState().writable);
  auto page = log_->ReadAll(0, Direction::kForward, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->events.empty());
  EXPECT_TRUE(page->end_of_range);
  auto report = log_->Verify(0, 0);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok());
}

TEST_F(RocksEventLogTest, AppendFillsTheEnvelopeAndChainsHashes) {
  ProposedEvent event = Event("e1");
  event.correlation_id = "corr-1";
  event.causation_id = "cause-1";
  event.reason = "Realisasi TW I";
  AppendResult first = MustAppend(Request("35.08.19/2024", ExpectedVersion::NoStream(), {event}));
  EXPECT_EQ(first.first_position, 1u);
  EXPECT_EQ(first.last_position, 1u);
  EXPECT_EQ(first.stream_version, 1u);
  EXPECT_EQ(first.recorded_at, kStart);
  EXPECT_FALSE(first.already_recorded);
  clock_.Advance(absl::Seconds(1));
  MustAppend(Request("35.08.19/2024", ExpectedVersion::Exact(1), {Event("e2")}));

  std::vector<RecordedEvent> events = All();
  ASSERT_EQ(events.size(), 2u);
  const v1::EventEnvelope& e1 = events[0].envelope;
  EXPECT_EQ(e1.position(), 1u);
  EXPECT_EQ(e1.stream_id(), "35.08.19/2024");
  EXPECT_EQ(e1.stream_version(), 1u);
  EXPECT_EQ(e1.event_id(), "e1");
  EXPECT_EQ(e1.event_type(), "RealizationRecorded");
  EXPECT_EQ(e1.payload(), "{\"v\":1}");
  EXPECT_EQ(e1.content_type(), "application/json");
  EXPECT_EQ(e1.recorded_at_micros(), absl::ToUnixMicros(kStart));
  EXPECT_EQ(e1.actor(), "local:test");
  EXPECT_EQ(e1.correlation_id(), "corr-1");
  EXPECT_EQ(e1.causation_id(), "cause-1");
  EXPECT_EQ(e1.reason(), "Realisasi TW I");
  EXPECT_EQ(e1.prev_hash(), GenesisHash());
  EXPECT_EQ(events[0].hash, Sha256(events[0].stored_bytes));
  EXPECT_EQ(events[1].envelope.prev_hash(), events[0].hash);
  EXPECT_EQ(events[1].envelope.recorded_at_micros(), absl::ToUnixMicros(kStart) + 1000000);
  Head head = log_->GetHead();
  EXPECT_EQ(head.position, 2u);
  EXPECT_EQ(head.hash, events[1].hash);
}

TEST_F(RocksEventLogTest, ListStreamsByPrefixInByteOrderAndPaged) {
  for (const char* stream : {"35.09.01/2024", "35.08.19/2024", "35.08/2024", "35.08.19/2025",
                             "35.080/2024", "other"}) {
    MustAppend(Request(stream, ExpectedVersion::Any(), {Event(absl::StrCat("e-", stream))}));
  }
  MustAppend(Request("35.08.19/2024", ExpectedVersion::Any(), {Event("second")}));
  auto list = log_->ListStreams("35.08", "", 100);
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->stream_ids, (std::vector<std::string>{"35.08.19/2024", "35.08.19/2025",
                                                        "35.08/2024", "35.080/2024"}));
  EXPECT_EQ(list->next_after, "");
  auto first = log_->ListStreams("35.08", "", 2);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->stream_ids, (std::vector<std::string>{"35.08.19/2024", "35.08.19/2025"}));
  auto rest = log_->ListStreams("35.08", first->next_after, 2);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->stream_ids, (std::vector<std::string>{"35.08/2024", "35.080/2024"}));
  auto all = log_->ListStreams("", "", 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->stream_ids.size(), 6u);
  auto none = log_->ListStreams("36", "", 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->stream_ids.empty());
  EXPECT_THAT(log_->ListStreams(std::string(200, 'x'), "", 10).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prefix")));
}

// The log's Merkle tree against a frontier built independently from the
// events read back, at every size, with proofs that verify.
TEST_F(RocksEventLogTest, MerkleRootsAndProofsAtEverySize) {
  for (int i = 0; i < 70; ++i) {
    std::vector<ProposedEvent> events;
    for (int j = 0; j <= i % 4; ++j) events.push_back(Event(absl::StrCat("m-", i, "-", j)));
    MustAppend(Request(absl::StrCat("s", i % 3), ExpectedVersion::Any(), std::move(events)));
  }
  std::vector<RecordedEvent> all = All();
  const uint64_t size = all.size();
  ASSERT_GT(size, 150u);
  merkle::MerkleFrontier frontier;
  std::vector<std::string> roots = {frontier.Root()};
  for (const RecordedEvent& event : all) {
    frontier.Append(merkle::LeafHash(event.hash));
    roots.push_back(frontier.Root());
  }
  for (uint64_t n = 0; n <= size; ++n) {
    auto root = log_->TreeRoot(n);
    ASSERT_TRUE(root.ok()) << root.status();
    ASSERT_EQ(*root, roots[n]) << "size " << n;
  }
  for (uint64_t n : {uint64_t{1}, uint64_t{16}, uint64_t{17}, uint64_t{100}, size}) {
    for (uint64_t position = 1; position <= n; position += 3) {
      auto proof = log_->InclusionProof(position, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(merkle::VerifyInclusion(merkle::LeafHash(all[position - 1].hash), position - 1, n, *proof,
                                          roots[n]))
          << position << "/" << n;
    }
    for (uint64_t old_size = 0; old_size <= n; old_size += 7) {
      auto proof = log_->ConsistencyProof(old_size, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(merkle::VerifyConsistency(old_size, n, roots[old_size], roots[n], *proof)) << old_size << "->" << n;
    }
  }
  EXPECT_THAT(log_->TreeRoot(size + 1).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tree_size")));
  EXPECT_THAT(log_->InclusionProof(0, size).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("position")));
  EXPECT_THAT(log_->ConsistencyProof(5, 4).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("old_size")));
  // The tree survives a reopen and grows from where it was.
  Reopen();
  ASSERT_TRUE(log_->GetWriteState().writable);
  auto reopened = log_->TreeRoot(size);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ(*reopened, roots[size]);
  MustAppend(Request("after", ExpectedVersion::Any(), {Event("after-reopen")}));
  frontier.Append(merkle::LeafHash(All().back().hash));
  auto grown = log_->TreeRoot(size + 1);
  ASSERT_TRUE(grown.ok());
  EXPECT_EQ(*grown, frontier.Root());
}

// A ledger written before the Merkle tree existed (no frontier, no nodes) gets
// the tree built at open; a frontier that disagrees with the head makes the
// log refuse writes.
TEST_F(RocksEventLogTest, MerkleTreeIsBuiltForAnOlderLedgerAndCheckedAgainstTheHead) {
  for (int i = 0; i < 40; ++i) MustAppend(Request("old", ExpectedVersion::Any(), {Event(absl::StrCat("o-", i))}));
  auto expected = log_->TreeRoot(40);
  ASSERT_TRUE(expected.ok());
  EditRocksDb([](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[kMeta], keys::kMetaMerkleFrontierKey).ok());
    ASSERT_TRUE(db->DropColumnFamily(handles[kMerkle]).ok());
  });
  ASSERT_TRUE(log_->GetWriteState().writable) << log_->GetWriteState().refusal_reason;
  auto rebuilt = log_->TreeRoot(40);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(*rebuilt, *expected);
  EditRocksDb([](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    merkle::MerkleFrontier short_frontier;
    short_frontier.Append(merkle::LeafHash("x"));
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), handles[kMeta], keys::kMetaMerkleFrontierKey, short_frontier.Serialize()).ok());
  });
  EXPECT_FALSE(log_->GetWriteState().writable);
  EXPECT_THAT(log_->GetWriteState().refusal_reason, HasSubstr("Merkle frontier covers 1 events"));
  // A stored node that went missing is named, not answered with a wrong root.
  EditRocksDb([](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    // The root of 40 events reads node 5/0 (events 1..32); the proof of
    // event 1 reads its sibling 4/1 (events 17..32).
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[kMerkle], keys::MerkleNodeKey(5, 0)).ok());
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[kMerkle], keys::MerkleNodeKey(4, 1)).ok());
  });
  EXPECT_THAT(log_->TreeRoot(40).status(), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Merkle node 5/0")));
  EXPECT_THAT(log_->InclusionProof(1, 40).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("Merkle node 4/1")));
}

// Verify from position 1 recomputes the tree from the events and compares it
// with every stored node, the root the store serves and the stored frontier.
TEST_F(RocksEventLogTest, VerifyRecomputesTheMerkleTreeOfACleanLog) {
  for (int i = 0; i < 30; ++i) {
    std::vector<ProposedEvent> events;
    for (int j = 0; j <= i % 5; ++j) events.push_back(Event(absl::StrCat("t-", i, "-", j)));
    MustAppend(Request(absl::StrCat("s", i % 4), ExpectedVersion::Any(), std::move(events)));
  }
  const uint64_t head = log_->GetHead().position;
  ASSERT_EQ(head, 90u);
  for (uint64_t to : {uint64_t{1}, uint64_t{16}, uint64_t{33}, uint64_t{64}, head}) {
    auto report = log_->Verify(1, to);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok()) << to << ": " << report->finding->detail;
    EXPECT_EQ(report->verified_count, to);
  }
  Reopen();
  auto report = log_->Verify(0, 0);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->finding->detail;
}

// A stored node overwritten, or deleted, in RocksDB is named by Verify, also
// one that no root reads (it would only spoil proofs); so is a stored frontier
// that disagrees with the events. A range that does not start at 1 cannot
// recompute the tree and does not look at it.
TEST_F(RocksEventLogTest, VerifyNamesAStoredMerkleNodeOrFrontierThatDisagreesWithTheEvents) {
  for (int i = 0; i < 40; ++i) MustAppend(Request("m", ExpectedVersion::Any(), {Event(absl::StrCat("n-", i))}));
  // The root of a perfect prefix is its node: 4/0 covers 1..16, 5/0 1..32.
  std::map<uint64_t, std::string> prefix_roots;
  merkle::MerkleFrontier recomputed;
  for (const RecordedEvent& event : All()) {
    recomputed.Append(merkle::LeafHash(event.hash));
    prefix_roots[recomputed.size()] = recomputed.Root();
  }
  const std::string forged = merkle::NodeHash("forged", "node");
  auto put_node = [&](int level, uint64_t index, const std::string& hash) {
    EditRocksDb([&](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[kMerkle], keys::MerkleNodeKey(level, index), hash).ok());
    });
    ASSERT_TRUE(log_->GetWriteState().writable);
  };
  auto expect_finding = [&](uint64_t position, const std::string& detail) {
    auto report = log_->Verify(0, 0);
    ASSERT_TRUE(report.ok()) << report.status();
    ASSERT_FALSE(report->ok()) << "expected: " << detail;
    EXPECT_EQ(report->finding->position, position);
    EXPECT_STREQ(ChainProblemName(report->finding->problem), "MERKLE_MISMATCH");
    EXPECT_THAT(report->finding->detail, HasSubstr(detail));
    auto range = log_->Verify(33, 0);
    ASSERT_TRUE(range.ok());
    EXPECT_TRUE(range->ok());
  };
  auto expect_clean = [&] {
    auto report = log_->Verify(0, 0);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok()) << report->finding->detail;
  };

  // Node 4/0: the root of 40 reads 5/0 and leaves 33..40, never 4/0.
  put_node(4, 0, forged);
  expect_finding(16, absl::StrCat("Merkle node 4/0 (positions 1..16) recomputed from the events differs from the "
                                  "stored node: recomputed ",
                                  HexEncode(prefix_roots[16]), ", stored ", HexEncode(forged)));
  put_node(4, 0, prefix_roots[16]);
  expect_clean();
  // Node 5/0, which the root of 40 reads; then the same node deleted.
  put_node(5, 0, forged);
  expect_finding(32, absl::StrCat("Merkle node 5/0 (positions 1..32) recomputed from the events differs"));
  EditRocksDb([](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), handles[kMerkle], keys::MerkleNodeKey(5, 0)).ok());
  });
  expect_finding(32, "Merkle node 5/0 is missing");
  put_node(5, 0, prefix_roots[32]);
  expect_clean();
  // A frontier of the right size (open accepts it) over other leaves: the
  // committer would build every later node from it.
  EditRocksDb([](rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*>& handles) {
    merkle::MerkleFrontier other;
    for (int i = 0; i < 40; ++i) other.Append(merkle::LeafHash("other"));
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[kMeta], keys::kMetaMerkleFrontierKey, other.Serialize()).ok());
  });
  ASSERT_TRUE(log_->GetWriteState().writable);
  expect_finding(40, "the stored Merkle frontier (size 40) differs from the right edge recomputed from the events");
}

TEST_F(RocksEventLogTest, MultiEventAppendIsContiguous) {
  MustAppend(Request("a", ExpectedVersion::Any(), {Event("a1")}));
  AppendResult result =
      MustAppend(Request("b", ExpectedVersion::Any(), {Event("b1"), Event("b2"), Event("b3")}));
  EXPECT_EQ(result.first_position, 2u);
  EXPECT_EQ(result.last_position, 4u);
  EXPECT_EQ(result.stream_version, 3u);
  auto page = log_->ReadStream("b", 0, Direction::kForward, 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(page->events[i].envelope.position(), 2u + i);
    EXPECT_EQ(page->events[i].envelope.stream_version(), 1u + i);
  }
}

TEST_F(RocksEventLogTest, StaleExpectedVersionWritesNothing) {
  MustAppend(Request("s", ExpectedVersion::NoStream(), {Event("s1")}));
  Head before = log_->GetHead();
  EXPECT_THAT(log_->Append(Request("s", ExpectedVersion::NoStream(), {Event("s2")})),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("already exists at version 1")));
  EXPECT_THAT(log_->Append(Request("s", ExpectedVersion::Exact(5), {Event("s2")})),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("is at version 1, expected 5")));
  EXPECT_THAT(log_->Append(Request("new", ExpectedVersion::Exact(1), {Event("s2")})),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("is at version 0")));
  EXPECT_EQ(log_->GetHead().position, before.position);
  EXPECT_THAT(log_->GetEvent("s2"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("s2")));
  // The refused id stays free.
  AppendResult ok = MustAppend(Request("s", ExpectedVersion::Exact(1), {Event("s2")}));
  EXPECT_EQ(ok.stream_version, 2u);
}

TEST_F(RocksEventLogTest, IdempotentRetryReturnsOriginalPositionsAndWritesNothing) {
  MustAppend(Request("x", ExpectedVersion::Any(), {Event("x0")}));
  AppendRequest request = Request("s", ExpectedVersion::NoStream(), {Event("r1"), Event("r2")});
  AppendResult first = MustAppend(request);
  clock_.Advance(absl::Minutes(5));
  MustAppend(Request("s", ExpectedVersion::Any(), {Event("r3")}));
  Head before = log_->GetHead();
  // The retry's expected version is stale now; the ids still identify it.
  AppendResult retry = MustAppend(request);
  EXPECT_TRUE(retry.already_recorded);
  EXPECT_EQ(retry.first_position, first.first_position);
  EXPECT_EQ(retry.last_position, first.last_position);
  EXPECT_EQ(retry.stream_version, 2u);
  EXPECT_EQ(retry.recorded_at, first.recorded_at);
  EXPECT_EQ(log_->GetHead().position, before.position);
  EXPECT_EQ(log_->GetHead().hash, before.hash);
}

TEST_F(RocksEventLogTest, SameIdWithDifferentBodyIsRefused) {
  MustAppend(Request("s", ExpectedVersion::Any(), {Event("dup", "{\"v\":1}")}));
  Head before = log_->GetHead();
  EXPECT_THAT(log_->Append(Request("s", ExpectedVersion::Any(), {Event("dup", "{\"v\":2}")})),
              StatusIs(absl::StatusCode::kAlreadyExists,
                       HasSubstr("events[0].event_id: 'dup' is already recorded at position 1 "
                                 "with a different body")));
  // Same body but in another stream is a different write too.
  EXPECT_THAT(log_->Append(Request("t", ExpectedVersion::Any(), {Event("dup", "{\"v\":1}")})),
              StatusIs(absl::StatusCode::kAlreadyExists));
  // An append that mixes a recorded id with new ones is refused whole.
  EXPECT_THAT(
      log_->Append(Request("s", ExpectedVersion::Any(), {Event("fresh"), Event("dup")})),
      StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("events[1].event_id")));
  EXPECT_EQ(log_->GetHead().position, before.position);
  EXPECT_THAT(log_->GetEvent("fresh"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(RocksEventLogTest, InvalidInputWritesNothing) {
  EXPECT_THAT(log_->Append(Request("", ExpectedVersion::Any(), {Event("a")})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stream_id")));
  ProposedEvent big = Event("big", std::string(limits::kMaxPayloadBytes + 1, 'x'));
  EXPECT_THAT(log_->Append(Request("s", ExpectedVersion::Any(), {big})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("events[0].payload")));
  EXPECT_EQ(log_->GetHead().position, 0u);
}

TEST_F(RocksEventLogTest, RecordedTimeNeverDecreases) {
  MustAppend(Request("s", ExpectedVersion::Any(), {Event("t1")}));
  clock_.Advance(absl::Hours(-3));  // the wall clock jumps back
  AppendResult second = MustAppend(Request("s", ExpectedVersion::Any(), {Event("t2")}));
  EXPECT_EQ(second.recorded_at, kStart);
  clock_.Advance(absl::Hours(4));
  AppendResult third = MustAppend(Request("s", ExpectedVersion::Any(), {Event("t3")}));
  EXPECT_EQ(third.recorded_at, kStart + absl::Hours(1));
}

TEST_F(RocksEventLogTest, ReadsPageForwardAndBackward) {
  for (int i = 1; i <= 25; ++i) {
    MustAppend(Request(i % 2 ? "odd" : "even", ExpectedVersion::Any(),
                       {Event(absl::StrCat("p", i))}));
  }
  auto page = log_->ReadAll(0, Direction::kForward, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 10u);
  EXPECT_FALSE(page->end_of_range);
  EXPECT_EQ(page->next_from, 11u);
  page = log_->ReadAll(21, Direction::kForward, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 5u);
  EXPECT_TRUE(page->end_of_range);
  page = log_->ReadAll(0, Direction::kBackward, 3);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 3u);
  EXPECT_EQ(page->events[0].envelope.position(), 25u);
  EXPECT_EQ(page->events[2].envelope.position(), 23u);
  EXPECT_EQ(page->next_from, 22u);
  page = log_->ReadAll(2, Direction::kBackward, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->events.size(), 2u);
  EXPECT_TRUE(page->end_of_range);
  page = log_->ReadAll(26, Direction::kForward, 10);
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->events.empty());

  auto stream = log_->ReadStream("odd", 0, Direction::kForward, 5);
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->events.size(), 5u);
  EXPECT_EQ(stream->next_from, 6u);
  EXPECT_FALSE(stream->end_of_range);
  stream = log_->ReadStream("odd", 6, Direction::kForward, 100);
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ(stream->events.size(), 8u);  // versions 6..13
  EXPECT_TRUE(stream->end_of_range);
  stream = log_->ReadStream("even", 0, Direction::kBackward, 2);
  ASSERT_TRUE(stream.ok());
  ASSERT_EQ(stream->events.size(), 2u);
  EXPECT_EQ(stream->events[0].envelope.stream_version(), 12u);
  EXPECT_EQ(stream->next_from, 10u);
  stream = log_->ReadStream("od", 0, Direction::kForward, 5);  // a prefix is not the stream
  ASSERT_TRUE(stream.ok());
  EXPECT_TRUE(stream->events.empty());
  EXPECT_THAT(log_->ReadStream("", 0, Direction::kForward, 5),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stream_id")));
}

TEST_F(RocksEventLogTest, GetEventAndPositionAt) {
  MustAppend(Request("s", ExpectedVersion::Any(), {Event("g1")}));
  clock_.Advance(absl::Hours(1));
  MustAppend(Request("s", ExpectedVersion::Any(), {Event("g2"), Event("g3")}));
  auto event = log_->GetEvent("g2");
  ASSERT_TRUE(event.ok()) << event.status();
  EXPECT_EQ(event->envelope.position(), 2u);
  EXPECT_THAT(log_->GetEvent("nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(log_->GetEvent(""), StatusIs(absl::StatusCode::kInvalidArgument));

  EXPECT_EQ(*log_->PositionAt(kStart - absl::Seconds(1)), 0u);
  EXPECT_EQ(*log_->PositionAt(kStart), 1u);
  EXPECT_EQ(*log_->PositionAt(kStart + absl::Minutes(59)), 1u);
  EXPECT_EQ(*log_->PositionAt(kStart + absl::Hours(1)), 3u);
  EXPECT_EQ(*log_->PositionAt(kStart + absl::Hours(100)), 3u);
  EXPECT_EQ(*log_->PositionAt(absl::FromUnixMicros(-5)), 0u);
}

TEST_F(RocksEventLogTest, ReopenGivesTheSameLogHeadAndHashes) {
  for (int i = 0; i < 50; ++i) {
    MustAppend(Request(absl::StrCat("s", i % 3), ExpectedVersion::Any(),
                       {Event(absl::StrCat("r", i))}));
  }
  std::vector<RecordedEvent> before = All();
  Head head = log_->GetHead();
  Reopen();
  EXPECT_TRUE(log_->GetWriteState().writable) << log_->GetWriteState().refusal_reason;
  EXPECT_EQ(log_->GetHead().position, head.position);
  EXPECT_EQ(log_->GetHead().hash, head.hash);
  EXPECT_EQ(log_->GetHead().recorded_at, head.recorded_at);
  std::vector<RecordedEvent> after = All();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].stored_bytes, before[i].stored_bytes);
    EXPECT_EQ(after[i].hash, before[i].hash);
  }
  // Versions continue where they were; idempotency survives the restart.
  AppendResult next = MustAppend(Request("s0", ExpectedVersion::Exact(17), {Event("after")}));
  EXPECT_EQ(next.first_position, 51u);
  EXPECT_EQ(next.stream_version, 18u);
  EXPECT_EQ(next.recorded_at, head.recorded_at);
  AppendResult retry = MustAppend(Request("s1", ExpectedVersion::Any(), {Event("r1")}));
  EXPECT_TRUE(retry.already_recorded);
  EXPECT_EQ(retry.first_position, 2u);
  auto report = log_->Verify(0, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->finding->detail;
  EXPECT_EQ(report->verified_count, 51u);
}

TEST_F(RocksEventLogTest, ConcurrentAppendsAreGapFreeContiguousAndReadable) {
  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 150;
  std::mutex mu;
  std::map<std::string, AppendResult> acknowledged;  // first event id -> result
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        std::string stream = absl::StrCat("35.08.19.", 2001 + (t + i) % 5, "/2024");
        std::vector<ProposedEvent> events = {Event(absl::StrCat("t", t, "-", i, "-a"))};
        if (i % 3 == 0) events.push_back(Event(absl::StrCat("t", t, "-", i, "-b")));
        absl::StatusOr<AppendResult> result =
            log_->Append(Request(stream, ExpectedVersion::Any(), events));
        ASSERT_TRUE(result.ok()) << result.status();
        std::lock_guard<std::mutex> lock(mu);
        acknowledged[events[0].event_id] = *result;
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::vector<RecordedEvent> events = All();
  const size_t expected_events = kThreads * (kAppendsPerThread + (kAppendsPerThread + 2) / 3);
  ASSERT_EQ(events.size(), expected_events);
  std::map<std::string, uint64_t> last_version;
  std::string prev_hash = GenesisHash();
  for (size_t i = 0; i < events.size(); ++i) {
    const v1::EventEnvelope& envelope = events[i].envelope;
    ASSERT_EQ(envelope.position(), i + 1) << "positions must be gap-free";
    ASSERT_EQ(envelope.prev_hash(), prev_hash);
    prev_hash = events[i].hash;
    uint64_t& version = last_version[envelope.stream_id()];
    ASSERT_EQ(envelope.stream_version(), version + 1) << "versions contiguous per stream";
    version = envelope.stream_version();
  }
  for (const auto& [id, result] : acknowledged) {
    auto event = log_->GetEvent(id);
    ASSERT_TRUE(event.ok()) << id;
    EXPECT_EQ(event->envelope.position(), result.first_position);
  }
  auto report = log_->Verify(0, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->verified_count, expected_events);
}

TEST_F(RocksEventLogTest, VerifyChecksRangesAndRejectsBadRanges) {
  for (int i = 0; i < 30; ++i) MustAppend(Request("s", ExpectedVersion::Any(), {Event(absl::StrCat("v", i))}));
  auto report = log_->Verify(10, 20);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
  EXPECT_EQ(report->verified_count, 11u);
  EXPECT_THAT(log_->Verify(1, 31),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("to_position")));
  EXPECT_THAT(log_->Verify(20, 10),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("from_position")));
}

// Appends that land while Verify walks the log move the stored head and the
// stored frontier past the head Verify started from; that is not damage.
TEST_F(RocksEventLogTest, VerifyOfALiveLogFindsNothingWhileAppendsLand) {
  for (int b = 0; b < 5; ++b) {
    std::vector<ProposedEvent> events;
    for (int j = 0; j < 1000; ++j) events.push_back(Event(absl::StrCat("f-", b, "-", j)));
    MustAppend(Request("fill", ExpectedVersion::Any(), std::move(events)));
  }
  std::atomic<bool> stop{false};
  std::thread appender([&] {
    for (int i = 0; !stop.load(); ++i) MustAppend(Request("live", ExpectedVersion::Any(), {Event(absl::StrCat("l-", i))}));
  });
  uint64_t heads_moved = 0;
  for (int round = 0; round < 5; ++round) {
    const uint64_t before = log_->GetHead().position;
    auto report = log_->Verify(0, 0);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok()) << ChainProblemName(report->finding->problem) << ": " << report->finding->detail;
    if (log_->GetHead().position > report->to_position && report->to_position >= before) ++heads_moved;
  }
  stop = true;
  appender.join();
  EXPECT_GT(heads_moved, 0u) << "no append landed during a Verify: the test proves nothing";
}

TEST_F(RocksEventLogTest, AppendAfterCloseIsUnavailable) {
  MustAppend(Request("s", ExpectedVersion::Any(), {Event("c1")}));
  log_->Close();
  EXPECT_THAT(log_->Append(Request("s", ExpectedVersion::Any(), {Event("c2")})),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_TRUE(log_->GetEvent("c1").ok());  // reads keep working until destruction
}

// While one group's synced write is in flight, the writer stages the next
// groups against it: a retry of an append staged but not yet committed gets
// the same positions, and expected versions see the staged versions.
TEST_F(RocksEventLogTest, StagingBehindAWriteInFlightSeesTheStagedAppends) {
  auto fs = std::make_shared<GatedSyncFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  StagedWatch staged;
  log_.reset();
  Open(env.get(), staged.Hook());
  Outcomes outcomes;

  fs->Arm();
  auto first = Request("s", ExpectedVersion::NoStream(), {Event("a1"), Event("a2")});
  log_->AppendAsync(first, outcomes.Record("first"));
  fs->WaitUntilBlocked();  // positions 1-2 are staged, their write is held
  log_->AppendAsync(first, outcomes.Record("retry"));
  log_->AppendAsync(Request("s", ExpectedVersion::NoStream(), {Event("x1")}),
                    outcomes.Record("no_stream"));
  log_->AppendAsync(Request("s", ExpectedVersion::Exact(1), {Event("y1")}),
                    outcomes.Record("stale"));
  log_->AppendAsync(Request("s", ExpectedVersion::Any(), {Event("a1", "{\"v\":2}")}),
                    outcomes.Record("other_body"));
  log_->AppendAsync(Request("s", ExpectedVersion::Exact(2), {Event("z1")}),
                    outcomes.Record("next"));
  staged.WaitFor(3);  // everything above is staged behind the held write
  EXPECT_EQ(log_->GetHead().position, 0u);
  fs->Release(rocksdb::IOStatus::OK());
  outcomes.WaitFor(6);

  absl::StatusOr<AppendResult> original = outcomes.Get("first");
  ASSERT_TRUE(original.ok()) << original.status();
  absl::StatusOr<AppendResult> retry = outcomes.Get("retry");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_recorded);
  EXPECT_EQ(retry->first_position, 1u);
  EXPECT_EQ(retry->last_position, 2u);
  EXPECT_EQ(retry->stream_version, 2u);
  EXPECT_EQ(retry->recorded_at, original->recorded_at);
  EXPECT_THAT(outcomes.Get("no_stream"),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("already exists at version 2")));
  EXPECT_THAT(outcomes.Get("stale"),
              StatusIs(absl::StatusCode::kAborted, HasSubstr("is at version 2, expected 1")));
  EXPECT_THAT(outcomes.Get("other_body"),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("a different body")));
  absl::StatusOr<AppendResult> next = outcomes.Get("next");
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->first_position, 3u);
  EXPECT_EQ(next->stream_version, 3u);
  // The original is answered before anything staged behind it.
  EXPECT_EQ(outcomes.Order().front(), "first");

  EXPECT_EQ(log_->GetHead().position, 3u);
  auto report = log_->Verify(0, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->finding->detail;
  log_.reset();
  Open();
  EXPECT_EQ(log_->GetHead().position, 3u);
  AppendResult after = MustAppend(Request("s", ExpectedVersion::Exact(3), {Event("w1")}));
  EXPECT_EQ(after.first_position, 4u);
}

// A failed synced write fails every group staged behind it: none of their
// appends is acknowledged, none is written, and the log refuses writes.
TEST_F(RocksEventLogTest, FailedWriteFailsEveryGroupStagedBehindIt) {
  auto fs = std::make_shared<GatedSyncFileSystem>();
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  StagedWatch staged;
  log_.reset();
  Open(env.get(), staged.Hook());
  MustAppend(Request("s", ExpectedVersion::Any(), {Event("e1")}));
  Outcomes outcomes;

  fs->Arm();
  log_->AppendAsync(Request("s", ExpectedVersion::Exact(1), {Event("a1"), Event("a2")}),
                    outcomes.Record("held"));
  fs->WaitUntilBlocked();
  log_->AppendAsync(Request("s", ExpectedVersion::Exact(3), {Event("b1")}),
                    outcomes.Record("behind_same_stream"));
  log_->AppendAsync(Request("t", ExpectedVersion::Any(), {Event("c1")}),
                    outcomes.Record("behind_other_stream"));
  log_->AppendAsync(Request("s", ExpectedVersion::Any(), {Event("a1"), Event("a2")}),
                    outcomes.Record("retry_of_held"));
  staged.WaitFor(5);
  fs->Release(rocksdb::IOStatus::IOError("injected sync failure"));
  outcomes.WaitFor(4);

  for (const char* name :
       {"held", "behind_same_stream", "behind_other_stream", "retry_of_held"}) {
    EXPECT_THAT(outcomes.Get(name),
                StatusIs(absl::StatusCode::kUnavailable, HasSubstr("a synced write failed")))
        << name;
  }
  EXPECT_EQ(log_->GetHead().position, 1u);
  EXPECT_FALSE(log_->GetWriteState().writable);
  EXPECT_THAT(log_->Append(Request("t", ExpectedVersion::Any(), {Event("d1")})),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(log_->GetEvent("b1"), StatusIs(absl::StatusCode::kNotFound));

  // Reopened, the log holds at most the held write (its bytes reached the WAL
  // before the sync failed), never what was staged behind it.
  log_.reset();
  Open();
  const uint64_t head = log_->GetHead().position;
  EXPECT_TRUE(head == 1u || head == 3u) << head;
  EXPECT_THAT(log_->GetEvent("b1"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(log_->GetEvent("c1"), StatusIs(absl::StatusCode::kNotFound));
  auto report = log_->Verify(0, 0);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->finding->detail;
  EXPECT_TRUE(log_->GetWriteState().writable);
}

}  // namespace
}  // namespace ledger
