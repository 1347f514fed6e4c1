#include "ledger/store/rocks_options.h"

#include "absl/strings/str_cat.h"
#include "ledger/limits.h"
#include "ledger/store/keys.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"

namespace ledger {

rocksdb::DBOptions LedgerDbOptions() {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // Check every file and every record RocksDB reads at open and in the
  // background; a corruption stops the database instead of being skipped.
  options.paranoid_checks = true;
  // Every append is synced (WriteOptions::sync), so a crash can leave at most
  // an incomplete record at the very end of the WAL, and that record was never
  // acknowledged. This mode tolerates exactly that and refuses to open on any
  // other corruption, so an acknowledged record is never dropped silently
  // (kPointInTimeRecovery would stop at a damaged record in the middle and
  // discard everything after it; kSkipAnyCorruptedRecords would skip it).
  options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  // Several column families are written in one batch; flush them together so
  // that the families are always on disk at one point. RocksDB calls this
  // unnecessary with the WAL always on, but tests/power_cut_test.cc lost
  // acknowledged index entries across power cuts with it off (2 of 3 runs of
  // 60 cuts, families flushed at different points; none with it on), and
  // checkpoints and backups see the families at one point with it on.
  // (RocksDB 7.8 leaks a reference to the families when a memtable switch
  // fails, e.g. creating the next WAL on a full disk, on or off; Debian's
  // build then aborts when the database is closed: docs/DURABILITY.md.)
  options.atomic_flush = true;
  // Never recycle WAL files: a recycled file's stale tail could be mistaken
  // for records by a tolerant recovery mode.
  options.recycle_log_file_num = 0;
  // At open, write what the WAL replay recovered into synced table files
  // (RocksDB's default, stated because recovery relies on it): after a write
  // whose sync failed, the log reopens the database (rocks_event_log.cc,
  // "Recovery"), and records of that write which reached the WAL file are
  // made durable then, instead of resting on a WAL whose sync failed.
  options.avoid_flush_during_recovery = false;
  // The log merges appends itself (group commit) and one committer thread
  // calls DB::Write, one synced batch at a time; RocksDB's own write pipeline
  // stays in its strictest, ordered mode, where a write is in the WAL (synced)
  // and in the memtable, in order, before DB::Write returns:
  //   - enable_pipelined_write overlaps one writer's memtable insert with the
  //     next writer's WAL write; with a single writer there is nothing to
  //     overlap (the log overlaps staging with syncing itself);
  //   - unordered_write lets later writes become visible before earlier ones
  //     and gives up snapshot consistency, which the writer's lookups of ids
  //     and stream versions rely on;
  //   - two_write_queues serves write-prepared transactions, unused here;
  //   - manual_wal_flush would keep WAL records in memory until FlushWAL.
  // allow_concurrent_memtable_write (RocksDB's default, left on) inserts the
  // batches of one write group in parallel, but only across writer threads:
  // the committer's single batch is inserted by the committer alone.
  options.enable_pipelined_write = false;
  options.unordered_write = false;
  options.two_write_queues = false;
  options.manual_wal_flush = false;
  // Two cores: one background job for flushes, one for compactions.
  options.max_background_jobs = 2;
  options.keep_log_file_num = 10;
  return options;
}

namespace {

// One block cache for every family of the process. RocksDB's default is
// 8 MiB per family; reports fold a unit-year's events scattered over the whole
// log, so recently read blocks are worth keeping (limits.h says how much).
std::shared_ptr<rocksdb::Cache> SharedBlockCache() {
  static const std::shared_ptr<rocksdb::Cache>* cache =
      new std::shared_ptr<rocksdb::Cache>(rocksdb::NewLRUCache(limits::kBlockCacheBytes));
  return *cache;
}

rocksdb::ColumnFamilyOptions FamilyOptions(bool point_lookups) {
  rocksdb::ColumnFamilyOptions options;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = SharedBlockCache();
  // Block checksums on every read are verified (ReadOptions::verify_checksums).
  table.checksum = rocksdb::kXXH3;
  if (point_lookups) {
    // The writer looks event ids and stream heads up on every append; a bloom
    // filter makes the common miss (a new id) cheap.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.whole_key_filtering = true;
    // The same for the memtable, where the newest ids live.
    options.memtable_whole_key_filtering = true;
    options.memtable_prefix_bloom_size_ratio = 0.02;
  }
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Read back every SST file after it is written, before it is used.
  options.paranoid_file_checks = true;
  options.compression = rocksdb::kNoCompression;
  return options;
}

}  // namespace

std::vector<rocksdb::ColumnFamilyDescriptor> LedgerColumnFamilies() {
  return {
      {rocksdb::kDefaultColumnFamilyName, FamilyOptions(false)},
      {keys::kEventsFamily, FamilyOptions(false)},
      {keys::kStreamsFamily, FamilyOptions(true)},
      {keys::kIdsFamily, FamilyOptions(true)},
      {keys::kByTimeFamily, FamilyOptions(false)},
      {keys::kMetaFamily, FamilyOptions(false)},
      {keys::kMerkleFamily, FamilyOptions(false)},
  };
}

rocksdb::WriteOptions LedgerWriteOptions() {
  rocksdb::WriteOptions options;
  options.sync = true;
  options.disableWAL = false;
  return options;
}

rocksdb::ReadOptions LedgerReadOptions() {
  rocksdb::ReadOptions options;
  options.verify_checksums = true;
  return options;
}

absl::Status FromRocks(const rocksdb::Status& status, const std::string& context) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", status.ToString());
  if (status.IsCorruption()) return absl::DataLossError(message);
  if (status.IsNotFound()) return absl::NotFoundError(message);
  if (status.IsIOError() || status.IsBusy() || status.IsTryAgain() || status.IsTimedOut()) {
    return absl::UnavailableError(message);
  }
  if (status.IsInvalidArgument() || status.IsNotSupported()) {
    return absl::FailedPreconditionError(message);
  }
  return absl::InternalError(message);
}

}  // namespace ledger
