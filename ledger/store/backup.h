// Online backups of the ledger and their verified restore, on RocksDB's
// BackupEngine (docs/BACKUP.md is the operator's guide).
//
// Creating a backup never stops appends:
//   1. the log writes a RocksDB checkpoint of itself into a staging directory
//      next to the data directory (hard links to its SST files, a copy of the
//      WAL's tail): every column family at one point, which holds every
//      append acknowledged before the call (they are synced) and possibly
//      some later ones, always whole (one write batch each);
//   2. the checkpoint is opened as a database, and what it holds is read
//      from it (the stored head: position, hash and recorded time; the
//      Merkle root at the head; the schema version): the backup's manifest
//      says exactly what the backup holds, not what the live log held
//      around it;
//   3. BackupEngine copies the checkpoint into the backup directory (files
//      shared between backups are stored once, with their CRC32C), with the
//      manifest as its application metadata; the staging copy is removed;
//   4. a digest file (`ledger-digests/<id>`, written durably) holds the
//      SHA-256 of the backup's own metadata file (meta/<id>), which no
//      BackupEngine checksum covers; so every file of a backup is covered by
//      a checksum.
//
// Verifying a backup checks the digest, then every file's size and CRC32C
// (BackupEngine::VerifyBackup with checksums); a deep verification also
// restores it into a scratch directory, opens the log and verifies the
// whole chain and Merkle tree (Verify(1, head)) and that the restored head
// is the one the manifest names. Any mismatch is DataLoss naming the backup
// and the file or position.
//
// Restoring verifies the backup the deep way into a temporary sibling of the
// target (`<data_dir>.restoring`), lets the caller check the restored log
// (signed heads, the head witness: ledger/attest/restore_check.h), and only
// then renames it into place: nothing half-restored ever has the data
// directory's name.
//
// Thread-safety: free functions. One writer (CreateBackup) per backup
// directory at a time (BackupEngine does not allow concurrent writers; the
// callers serialize); readers may run alongside a writer, and see the
// backups that existed when they started.
#ifndef LEDGER_STORE_BACKUP_H_
#define LEDGER_STORE_BACKUP_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/store/event_log.h"

namespace ledger {

class ClosableEventLog;

// What a backup holds, read from the checkpoint it was made from. Stored as
// the backup's BackupEngine application metadata (EncodeBackupManifest).
struct BackupManifest {
  uint32_t schema_version = 0;  // keys::kSchemaVersion of the backed-up log
  uint64_t head_position = 0;   // 0: an empty log
  std::string head_hash;        // 32 bytes (the genesis hash when empty)
  int64_t head_recorded_at_micros = 0;
  std::string tree_root;  // Merkle root at head_position, 32 bytes (empty when the log is)
  int64_t created_at_micros = 0;  // when the backup was taken

  bool operator==(const BackupManifest&) const = default;
};

// A versioned text form ("sakip-ledger backup manifest v1", one field per
// line), readable by an operator with any tool that shows the metadata.
std::string EncodeBackupManifest(const BackupManifest& manifest);
// DataLoss naming the field when `text` is not a manifest this build reads.
absl::StatusOr<BackupManifest> ParseBackupManifest(std::string_view text);

struct BackupInfo {
  uint32_t backup_id = 0;
  uint64_t size_bytes = 0;  // files of this backup, shared ones included
  uint32_t file_count = 0;
  BackupManifest manifest;
};

struct CreateBackupOptions {
  // The BackupEngine directory; created if missing.
  std::string backup_dir;
  // Where the checkpoint is staged (removed first if it exists, and after
  // use). Put it on the data directory's file system so that the
  // checkpoint hard-links the log's files instead of copying them.
  std::string staging_dir;
  // Clock of created_at_micros.
  std::function<int64_t()> now_micros;
};

// Takes an online backup of `log` (see the file comment). FailedPrecondition
// when `log` cannot be checkpointed; Unavailable on I/O errors.
absl::StatusOr<BackupInfo> CreateBackup(ClosableEventLog& log, const CreateBackupOptions& options);

struct BackupListing {
  std::vector<BackupInfo> backups;  // by id, oldest first
  // Backups whose metadata cannot be read (id, reason): never restorable.
  std::vector<std::pair<uint32_t, std::string>> corrupt;
};

// NotFound when `backup_dir` holds no backups at all.
absl::StatusOr<BackupListing> ListBackups(const std::string& backup_dir);

struct VerifyBackupOptions {
  std::string backup_dir;
  uint32_t backup_id = 0;  // 0: the latest
  // Also restore into `scratch_dir` (must not exist; removed afterwards)
  // and verify the whole log there.
  bool deep = false;
  std::string scratch_dir;
};

struct BackupVerification {
  BackupInfo backup;
  bool deep = false;
  uint64_t verified_events = 0;  // with deep: events whose chain and tree were verified
};

// OK only when the backup verifies; DataLoss naming the backup and the
// file or position otherwise; NotFound for an unknown id.
absl::StatusOr<BackupVerification> VerifyBackup(const VerifyBackupOptions& options);

struct PruneBackupsOptions {
  std::string backup_dir;
  // How many of the newest valid backups stay; at least 1.
  uint32_t keep_newest = 0;
  // Report what would be deleted; delete nothing.
  bool dry_run = false;
};

struct PruneBackupsResult {
  std::vector<BackupInfo> deleted;  // oldest first; with dry_run, what would be
  std::vector<BackupInfo> kept;     // oldest first
  // Corrupt backups (unreadable metadata) are never deleted by pruning: they
  // are evidence, and the operator removes them knowingly.
  std::vector<uint32_t> corrupt_left;
};

// Deletes every valid backup but the newest `keep_newest`, with the files
// only they hold, and their digest files. First the newest backup is
// verified (digest and every file's checksum): pruning never leaves a
// directory whose newest backup cannot be restored. InvalidArgument naming
// keep_newest when it is 0; DataLoss, nothing deleted, when the newest
// backup does not verify; NotFound when the directory holds no backup.
absl::StatusOr<PruneBackupsResult> PruneBackups(const PruneBackupsOptions& options);

struct RestoreBackupOptions {
  std::string backup_dir;
  uint32_t backup_id = 0;  // 0: the latest
  // The target: must be missing or an empty directory.
  std::string data_dir;
  // Runs on the restored, verified log before it is moved into place; an
  // error refuses the restore (the temporary copy is removed).
  std::function<absl::Status(EventLog& restored)> check;
};

struct RestoreResult {
  BackupVerification verification;
  Head head;  // of the restored log
};

// Restores a verified backup into `data_dir` (see the file comment).
// FailedPrecondition when data_dir is not empty; DataLoss when the backup
// does not verify; the check's error when it refuses.
absl::StatusOr<RestoreResult> RestoreBackup(const RestoreBackupOptions& options);

}  // namespace ledger

#endif  // LEDGER_STORE_BACKUP_H_
