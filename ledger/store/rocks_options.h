// RocksDB options chosen for a ledger, with the reason for each.
//
// Used by the event log and by tools that must open the same database (the
// test-only tamper tool, the benchmark's raw baseline).
#ifndef LEDGER_STORE_ROCKS_OPTIONS_H_
#define LEDGER_STORE_ROCKS_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/status.h"

namespace ledger {

// Database-wide options: WAL on, paranoid checks, a recovery mode that never
// silently drops acknowledged records.
rocksdb::DBOptions LedgerDbOptions();

// Every column family of the ledger (keys.h), with its options.
std::vector<rocksdb::ColumnFamilyDescriptor> LedgerColumnFamilies();

// Every append is a synced write: acknowledged means on stable storage.
rocksdb::WriteOptions LedgerWriteOptions();

// Reads verify block checksums.
rocksdb::ReadOptions LedgerReadOptions();

// Maps a RocksDB status to an absl::Status, prefixed with `context`.
absl::Status FromRocks(const rocksdb::Status& status, const std::string& context);

}  // namespace ledger

#endif  // LEDGER_STORE_ROCKS_OPTIONS_H_
