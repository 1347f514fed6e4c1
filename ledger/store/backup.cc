// Online backups and verified restores on RocksDB's BackupEngine (see
// backup.h for the design and docs/BACKUP.md for the operator's view).
#include "ledger/store/backup.h"


#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ledger/integrity/merkle.h"
#include "ledger/integrity/sha256.h"
#include "ledger/store/keys.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/store/rocks_options.h"
#include "ledger/util/durable_file.h"
#include "ledger/util/status_macros.h"
#include "ledger/util/strings.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/utilities/backup_engine.h"

namespace ledger {
namespace {

namespace fs = std::filesystem;

constexpr char kManifestMagic[] = "sakip-ledger backup manifest v1";
constexpr char kDigestMagic[] = "sakip-ledger backup digest v1";
// Inside the backup directory, next to BackupEngine's own meta/, private/
// and shared_checksum/ (which it alone manages).
constexpr char kDigestDir[] = "ledger-digests";

// ---------------------------------------------------------------------------
// Small helpers.

std::string BackupName(const std::string& backup_dir, uint32_t id) {
  return absl::StrCat("backup ", id, " in ", backup_dir);
}

// The backup's own metadata file, as BackupEngine names it.
std::string MetaFile(const std::string& backup_dir, uint32_t id) {
  return absl::StrCat(backup_dir, "/meta/", id);
}

std::string DigestFile(const std::string& backup_dir, uint32_t id) {
  return absl::StrCat(backup_dir, "/", kDigestDir, "/", id);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::UnavailableError(absl::StrCat("cannot read ", path));
  return bytes.str();
}

// fsync of a directory, so that a rename into it survives a power cut.
std::string ParentOf(const std::string& path) {
  std::string parent = fs::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

// Removes a directory the backup code made itself (staging, scratch,
// temporary restore); never a directory it did not create.
void RemoveOwnDirectory(const std::string& dir) {
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

// The whole form of a RocksDB status as the right absl code. A corruption
// (a checksum or size mismatch) or a file missing from a backup is DataLoss.
absl::Status BackupStatus(const rocksdb::Status& status, const std::string& context) {
  if (status.ok()) return absl::OkStatus();
  if (status.IsCorruption() || status.IsNotFound()) {
    return absl::DataLossError(absl::StrCat(context, ": ", status.ToString()));
  }
  return FromRocks(status, context);
}

rocksdb::BackupEngineOptions EngineOptions(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions options(backup_dir);
  // Synced copies: a backup (and a restore) is complete after a power cut, or
  // detectably incomplete.
  options.sync = true;
  // SST files are stored once, named by their checksum, and shared between
  // backups: a second backup of a large ledger copies only what changed.
  options.share_table_files = true;
  options.share_files_with_checksum = true;
  options.backup_log_files = true;
  options.max_background_operations = 1;  // two cores, shared with the server
  return options;
}

// ---------------------------------------------------------------------------
// BackupEngine handles.

struct EngineDeleter {
  template <typename T>
  void operator()(T* engine) const { delete engine; }
};

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngine, EngineDeleter>> OpenWritable(
    const std::string& backup_dir) {
  std::error_code error;
  fs::create_directories(backup_dir, error);
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("backup_dir: cannot create '", backup_dir, "': ", error.message()));
  }
  rocksdb::BackupEngine* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::BackupEngine::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw),
                            absl::StrCat("opening the backup directory '", backup_dir, "'")));
  return std::unique_ptr<rocksdb::BackupEngine, EngineDeleter>(raw);
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly, EngineDeleter>> OpenReadOnly(
    const std::string& backup_dir) {
  if (!fs::is_directory(backup_dir)) {
    return absl::NotFoundError(absl::StrCat("backup directory '", backup_dir, "' does not exist"));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  RETURN_IF_ERROR(
      BackupStatus(rocksdb::BackupEngineReadOnly::Open(EngineOptions(backup_dir), rocksdb::Env::Default(), &raw),
                   absl::StrCat("opening the backup directory '", backup_dir, "'")));
  return std::unique_ptr<rocksdb::BackupEngineReadOnly, EngineDeleter>(raw);
}

absl::StatusOr<BackupInfo> ToBackupInfo(const rocksdb::BackupInfo& info, const std::string& backup_dir) {
  BackupInfo out;
  out.backup_id = info.backup_id;
  out.size_bytes = info.size;
  out.file_count = info.number_files;
  absl::StatusOr<BackupManifest> manifest = ParseBackupManifest(info.app_metadata);
  if (!manifest.ok()) {
    return absl::DataLossError(absl::StrCat(BackupName(backup_dir, info.backup_id), ": its manifest (in ",
                                            MetaFile(backup_dir, info.backup_id), ") ",
                                            manifest.status().message()));
  }
  out.manifest = *std::move(manifest);
  return out;
}

// The backup `id` (0: the latest valid one), or NotFound / DataLoss.
absl::StatusOr<rocksdb::BackupInfo> FindBackup(const rocksdb::BackupEngineReadOnlyBase& engine,
                                               const std::string& backup_dir, uint32_t id) {
  std::vector<rocksdb::BackupID> corrupt;
  engine.GetCorruptedBackups(&corrupt);
  for (rocksdb::BackupID bad : corrupt) {
    if (bad == id) {
      return absl::DataLossError(absl::StrCat(BackupName(backup_dir, id), " is corrupt: its metadata file ",
                                              MetaFile(backup_dir, id), " cannot be read"));
    }
  }
  std::vector<rocksdb::BackupInfo> infos;
  engine.GetBackupInfo(&infos);
  if (infos.empty()) {
    return absl::NotFoundError(absl::StrCat("backup directory '", backup_dir, "' holds no valid backup",
                                            corrupt.empty() ? "" : " (only corrupt ones)"));
  }
  if (id == 0) return infos.back();
  for (const rocksdb::BackupInfo& info : infos) {
    if (info.backup_id == id) return info;
  }
  return absl::NotFoundError(absl::StrCat("backup_id: no backup ", id, " in '", backup_dir, "' (latest is ",
                                          infos.back().backup_id, ")"));
}

// ---------------------------------------------------------------------------
// The digest of a backup's metadata file.

absl::Status WriteDigest(const std::string& backup_dir, uint32_t id) {
  ASSIGN_OR_RETURN(std::string meta, ReadWholeFile(MetaFile(backup_dir, id)));
  std::error_code error;
  fs::create_directories(absl::StrCat(backup_dir, "/", kDigestDir), error);
  if (error) return absl::UnavailableError(absl::StrCat("cannot create ", backup_dir, "/", kDigestDir));
  return WriteFileDurably(DigestFile(backup_dir, id),
                          absl::StrCat(kDigestMagic, "\nbackup_id ", id, "\nmeta_sha256 ",
                                       HexEncode(Sha256(meta)), "\n"),
                          0644);
}

absl::Status CheckDigest(const std::string& backup_dir, uint32_t id) {
  const std::string digest_path = DigestFile(backup_dir, id);
  auto corrupt = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat(BackupName(backup_dir, id), " is corrupt: ", why));
  };
  absl::StatusOr<std::string> digest = ReadWholeFile(digest_path);
  if (!digest.ok()) return corrupt(absl::StrCat("its digest file ", digest_path, " is missing"));
  ASSIGN_OR_RETURN(std::string meta, ReadWholeFile(MetaFile(backup_dir, id)));
  const std::string expected =
      absl::StrCat(kDigestMagic, "\nbackup_id ", id, "\nmeta_sha256 ", HexEncode(Sha256(meta)), "\n");
  if (*digest == expected) return absl::OkStatus();
  if (!absl::StartsWith(*digest, absl::StrCat(kDigestMagic, "\nbackup_id ", id, "\nmeta_sha256 "))) {
    return corrupt(absl::StrCat("its digest file ", digest_path, " is damaged"));
  }
  return corrupt(absl::StrCat("its metadata file ", MetaFile(backup_dir, id),
                              " does not match the SHA-256 kept in ", digest_path,
                              " (one of the two was changed)"));
}

// ---------------------------------------------------------------------------
// Creating.

// The column families of the ledger, opened on a checkpoint.
struct OpenedCheckpoint {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  ~OpenedCheckpoint() {
    if (!db) return;
    for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
    db->Close();
  }
};

absl::Status OpenCheckpoint(const std::string& dir, OpenedCheckpoint* opened) {
  rocksdb::DBOptions options = LedgerDbOptions();
  options.create_if_missing = false;
  options.create_missing_column_families = false;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(options, dir, LedgerColumnFamilies(), &opened->handles, &raw),
                            absl::StrCat("opening the checkpoint at '", dir, "'")));
  opened->db.reset(raw);
  return absl::OkStatus();
}

// What the checkpoint holds, from its `meta` family.
absl::StatusOr<BackupManifest> ReadManifest(const OpenedCheckpoint& checkpoint) {
  rocksdb::ColumnFamilyHandle* meta = checkpoint.handles[5];
  BackupManifest manifest;
  std::string value;
  RETURN_IF_ERROR(FromRocks(checkpoint.db->Get(LedgerReadOptions(), meta, keys::kMetaSchemaVersionKey, &value),
                            "reading the checkpoint's schema version"));
  if (value.size() != 4) return absl::DataLossError("the checkpoint's schema version is malformed");
  manifest.schema_version = keys::GetBigEndian32(value);
  manifest.head_hash = GenesisHash();
  rocksdb::Status status = checkpoint.db->Get(LedgerReadOptions(), meta, keys::kMetaHeadKey, &value);
  if (status.IsNotFound()) return manifest;  // an empty log
  RETURN_IF_ERROR(FromRocks(status, "reading the checkpoint's head"));
  std::optional<keys::HeadValue> head = keys::ParseHead(value);
  if (!head) return absl::DataLossError("the checkpoint's stored head is malformed");
  manifest.head_position = head->position;
  manifest.head_hash = head->hash;
  manifest.head_recorded_at_micros = static_cast<int64_t>(head->recorded_at_micros);
  status = checkpoint.db->Get(LedgerReadOptions(), meta, keys::kMetaMerkleFrontierKey, &value);
  if (status.ok()) {
    ASSIGN_OR_RETURN(merkle::MerkleFrontier frontier, merkle::MerkleFrontier::Parse(value));
    if (frontier.size() == manifest.head_position) manifest.tree_root = frontier.Root();
  } else if (!status.IsNotFound()) {
    return FromRocks(status, "reading the checkpoint's Merkle frontier");
  }
  return manifest;
}

absl::StatusOr<BackupInfo> BackUpCheckpoint(const std::string& checkpoint_dir, const CreateBackupOptions& options) {
  OpenedCheckpoint checkpoint;
  RETURN_IF_ERROR(OpenCheckpoint(checkpoint_dir, &checkpoint));
  ASSIGN_OR_RETURN(BackupManifest manifest, ReadManifest(checkpoint));
  manifest.created_at_micros = options.now_micros ? options.now_micros() : absl::ToUnixMicros(absl::Now());
  ASSIGN_OR_RETURN(auto engine, OpenWritable(options.backup_dir));
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = true;  // the checkpoint's WAL tail lands in SST files
  rocksdb::BackupID id = 0;
  RETURN_IF_ERROR(FromRocks(engine->CreateNewBackupWithMetadata(create, checkpoint.db.get(),
                                                                EncodeBackupManifest(manifest), &id),
                            absl::StrCat("writing a backup into '", options.backup_dir, "'")));
  RETURN_IF_ERROR(WriteDigest(options.backup_dir, id));
  rocksdb::BackupInfo info;
  RETURN_IF_ERROR(FromRocks(engine->GetBackupInfo(id, &info), "reading the new backup's info"));
  return ToBackupInfo(info, options.backup_dir);
}

// ---------------------------------------------------------------------------
// Verifying and restoring.

absl::Status CheckTargetIsEmpty(const std::string& data_dir) {
  if (data_dir.empty()) return absl::InvalidArgumentError("data_dir: is required");
  std::error_code error;
  if (!fs::exists(data_dir, error)) return absl::OkStatus();
  if (!fs::is_directory(data_dir, error)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir: '", data_dir, "' exists and is not a directory; restore only into an empty "
                     "or missing directory"));
  }
  size_t entries = 0;
  for (auto it = fs::directory_iterator(data_dir, error); !error && it != fs::directory_iterator();
       it.increment(error)) {
    ++entries;
  }
  if (error) return absl::UnavailableError(absl::StrCat("data_dir: cannot list '", data_dir, "': ", error.message()));
  if (entries > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir: '", data_dir, "' is not empty (", entries,
                     " entries); restore only into an empty or missing directory, never over a ledger"));
  }
  return absl::OkStatus();
}

// Restores backup `id` into `dir` (which must not exist), opens it, and
// verifies the whole log there. On success `*restored` holds the open log.
absl::Status RestoreAndVerify(rocksdb::BackupEngineReadOnly& engine, const std::string& backup_dir,
                              const BackupInfo& backup, const std::string& dir,
                              std::unique_ptr<ClosableEventLog>* restored, uint64_t* verified_events) {
  const std::string name = BackupName(backup_dir, backup.backup_id);
  RETURN_IF_ERROR(BackupStatus(engine.RestoreDBFromBackup(rocksdb::RestoreOptions(), backup.backup_id, dir, dir),
                               absl::StrCat("restoring ", name, " into '", dir, "'")));
  RocksEventLogOptions log_options;
  log_options.data_dir = dir;
  absl::StatusOr<std::unique_ptr<ClosableEventLog>> log = OpenRocksEventLog(log_options);
  if (!log.ok()) {
    return absl::DataLossError(absl::StrCat(name, ": the restored log does not open: ", log.status().message()));
  }
  if (WriteState state = (*log)->GetWriteState(); !state.writable) {
    return absl::DataLossError(absl::StrCat(name, ": the restored log is damaged: ", state.refusal_reason));
  }
  ASSIGN_OR_RETURN(VerifyReport report, (*log)->Verify(0, 0));
  if (report.finding) {
    return absl::DataLossError(absl::StrCat(name, ": the restored log does not verify at position ",
                                            report.finding->position, ": ",
                                            ChainProblemName(report.finding->problem), ": ",
                                            report.finding->detail));
  }
  const Head head = (*log)->GetHead();
  const BackupManifest& manifest = backup.manifest;
  if (head.position != manifest.head_position || head.hash != manifest.head_hash) {
    return absl::DataLossError(absl::StrCat(
        name, ": its manifest names head position ", manifest.head_position, " (hash ",
        HexEncode(manifest.head_hash), ") but the restored log's head is position ", head.position, " (hash ",
        HexEncode(head.hash), ")"));
  }
  if (!manifest.tree_root.empty()) {
    ASSIGN_OR_RETURN(std::string root, (*log)->TreeRoot(head.position));
    if (root != manifest.tree_root) {
      return absl::DataLossError(absl::StrCat(name, ": its manifest names Merkle root ",
                                              HexEncode(manifest.tree_root), " but the restored log's is ",
                                              HexEncode(root)));
    }
  }
  *verified_events = report.verified_count;
  *restored = *std::move(log);
  return absl::OkStatus();
}

// Checks the digest and every file's checksum; returns the backup's info.
absl::StatusOr<BackupInfo> CheckBackupFiles(const rocksdb::BackupEngineReadOnly& engine,
                                            const std::string& backup_dir, uint32_t id) {
  ASSIGN_OR_RETURN(rocksdb::BackupInfo found, FindBackup(engine, backup_dir, id));
  const std::string name = BackupName(backup_dir, found.backup_id);
  RETURN_IF_ERROR(CheckDigest(backup_dir, found.backup_id));
  ASSIGN_OR_RETURN(BackupInfo info, ToBackupInfo(found, backup_dir));
  RETURN_IF_ERROR(BackupStatus(engine.VerifyBackup(found.backup_id, /*verify_with_checksum=*/true),
                               absl::StrCat(name, " does not verify")));
  return info;
}

}  // namespace

// ---------------------------------------------------------------------------
// The manifest.

std::string EncodeBackupManifest(const BackupManifest& manifest) {
  std::string body = absl::StrCat(kManifestMagic, "\nschema_version ", manifest.schema_version,
                                  "\nhead_position ", manifest.head_position, "\nhead_hash ",
                                  HexEncode(manifest.head_hash), "\nhead_recorded_at_micros ",
                                  manifest.head_recorded_at_micros, "\ntree_root ",
                                  manifest.tree_root.empty() ? "-" : HexEncode(manifest.tree_root),
                                  "\ncreated_at_micros ", manifest.created_at_micros, "\n");
  // Its own checksum: BackupEngine keeps the metadata without one.
  return absl::StrCat(body, "manifest_sha256 ", HexEncode(Sha256(body)), "\n");
}

absl::StatusOr<BackupManifest> ParseBackupManifest(std::string_view text) {
  auto bad = [](const std::string& what) { return absl::DataLossError(absl::StrCat("is damaged: ", what)); };
  const size_t checksum_at = text.rfind("manifest_sha256 ");
  if (checksum_at == std::string_view::npos) return bad("no manifest_sha256 line");
  const std::string_view body = text.substr(0, checksum_at);
  if (text.substr(checksum_at) != absl::StrCat("manifest_sha256 ", HexEncode(Sha256(body)), "\n")) {
    return bad("its manifest_sha256 does not match its text");
  }
  std::vector<std::string> lines = absl::StrSplit(Absl(body), '\n', absl::SkipEmpty());
  if (lines.empty() || lines[0] != kManifestMagic) return bad("not a backup manifest (first line)");
  std::map<std::string, std::string> fields;
  for (size_t i = 1; i < lines.size(); ++i) {
    std::vector<std::string> parts = absl::StrSplit(lines[i], absl::MaxSplits(' ', 1));
    if (parts.size() != 2 || !fields.emplace(parts[0], parts[1]).second) return bad("line " + lines[i]);
  }
  BackupManifest manifest;
  if (!absl::SimpleAtoi(fields["schema_version"], &manifest.schema_version)) return bad("schema_version");
  if (!absl::SimpleAtoi(fields["head_position"], &manifest.head_position)) return bad("head_position");
  if (!absl::SimpleAtoi(fields["head_recorded_at_micros"], &manifest.head_recorded_at_micros)) {
    return bad("head_recorded_at_micros");
  }
  if (!absl::SimpleAtoi(fields["created_at_micros"], &manifest.created_at_micros)) return bad("created_at_micros");
  manifest.head_hash = absl::HexStringToBytes(fields["head_hash"]);
  if (manifest.head_hash.size() != 32) return bad("head_hash");
  if (fields["tree_root"] != "-") {
    manifest.tree_root = absl::HexStringToBytes(fields["tree_root"]);
    if (manifest.tree_root.size() != 32) return bad("tree_root");
  }
  return manifest;
}

// ---------------------------------------------------------------------------
// The operations.

absl::StatusOr<BackupInfo> CreateBackup(ClosableEventLog& log, const CreateBackupOptions& options) {
  if (options.backup_dir.empty()) return absl::InvalidArgumentError("backup_dir: is required");
  if (options.staging_dir.empty()) return absl::InvalidArgumentError("staging_dir: is required");
  // A staging copy left by a crash is the backup code's own; it is redone.
  RemoveOwnDirectory(options.staging_dir);
  absl::Status checkpointed = log.CreateCheckpoint(options.staging_dir);
  absl::StatusOr<BackupInfo> info =
      checkpointed.ok() ? BackUpCheckpoint(options.staging_dir, options) : absl::StatusOr<BackupInfo>(checkpointed);
  RemoveOwnDirectory(options.staging_dir);
  return info;
}

absl::StatusOr<BackupListing> ListBackups(const std::string& backup_dir) {
  ASSIGN_OR_RETURN(auto engine, OpenReadOnly(backup_dir));
  BackupListing listing;
  std::vector<rocksdb::BackupID> corrupt;
  engine->GetCorruptedBackups(&corrupt);
  for (rocksdb::BackupID id : corrupt) {
    listing.corrupt.emplace_back(id, absl::StrCat("its metadata file ", MetaFile(backup_dir, id),
                                                  " cannot be read"));
  }
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  if (infos.empty() && corrupt.empty()) {
    return absl::NotFoundError(absl::StrCat("backup directory '", backup_dir, "' holds no backups"));
  }
  for (const rocksdb::BackupInfo& info : infos) {
    absl::StatusOr<BackupInfo> parsed = ToBackupInfo(info, backup_dir);
    if (parsed.ok()) {
      listing.backups.push_back(*std::move(parsed));
    } else {
      listing.corrupt.emplace_back(info.backup_id, std::string(parsed.status().message()));
    }
  }
  return listing;
}

absl::StatusOr<BackupVerification> VerifyBackup(const VerifyBackupOptions& options) {
  if (options.backup_dir.empty()) return absl::InvalidArgumentError("backup_dir: is required");
  if (options.deep && options.scratch_dir.empty()) return absl::InvalidArgumentError("scratch_dir: is required");
  ASSIGN_OR_RETURN(auto engine, OpenReadOnly(options.backup_dir));
  BackupVerification verification;
  ASSIGN_OR_RETURN(verification.backup, CheckBackupFiles(*engine, options.backup_dir, options.backup_id));
  if (!options.deep) return verification;
  verification.deep = true;
  RemoveOwnDirectory(options.scratch_dir);
  std::unique_ptr<ClosableEventLog> restored;
  absl::Status status = RestoreAndVerify(*engine, options.backup_dir, verification.backup, options.scratch_dir,
                                         &restored, &verification.verified_events);
  restored.reset();
  RemoveOwnDirectory(options.scratch_dir);
  RETURN_IF_ERROR(status);
  return verification;
}

absl::StatusOr<PruneBackupsResult> PruneBackups(const PruneBackupsOptions& options) {
  if (options.backup_dir.empty()) return absl::InvalidArgumentError("backup_dir: is required");
  if (options.keep_newest == 0) {
    return absl::InvalidArgumentError("keep_newest: must be at least 1 (pruning never deletes every backup)");
  }
  PruneBackupsResult result;
  {
    ASSIGN_OR_RETURN(auto engine, OpenReadOnly(options.backup_dir));
    absl::StatusOr<BackupInfo> newest = CheckBackupFiles(*engine, options.backup_dir, /*id=*/0);
    if (!newest.ok()) {
      if (absl::IsNotFound(newest.status())) return newest.status();
      return absl::Status(newest.status().code(),
                          absl::StrCat("nothing deleted: the newest backup must verify before older ones go, and ",
                                       newest.status().message()));
    }
    ASSIGN_OR_RETURN(BackupListing listing, ListBackups(options.backup_dir));
    if (listing.backups.empty() || listing.backups.back().backup_id != newest->backup_id) {
      return absl::FailedPreconditionError(absl::StrCat(
          "nothing deleted: the backups of '", options.backup_dir, "' changed while pruning; try again"));
    }
    const size_t deleted = listing.backups.size() > options.keep_newest
                               ? listing.backups.size() - options.keep_newest
                               : 0;
    result.deleted.assign(listing.backups.begin(), listing.backups.begin() + deleted);
    result.kept.assign(listing.backups.begin() + deleted, listing.backups.end());
    for (const auto& corrupt : listing.corrupt) result.corrupt_left.push_back(corrupt.first);
  }
  if (options.dry_run || result.deleted.empty()) return result;
  ASSIGN_OR_RETURN(auto engine, OpenWritable(options.backup_dir));
  for (const BackupInfo& backup : result.deleted) {
    RETURN_IF_ERROR(FromRocks(engine->DeleteBackup(backup.backup_id),
                              absl::StrCat("deleting ", BackupName(options.backup_dir, backup.backup_id))));
    // A crash just before this leaves a digest that names no backup:
    // harmless, as BackupEngine never reuses an id.
    std::error_code ignored;
    fs::remove(DigestFile(options.backup_dir, backup.backup_id), ignored);
  }
  RETURN_IF_ERROR(PosixFileOps()->SyncDirectory(absl::StrCat(options.backup_dir, "/", kDigestDir)));
  return result;
}

absl::StatusOr<RestoreResult> RestoreBackup(const RestoreBackupOptions& options) {
  if (options.backup_dir.empty()) return absl::InvalidArgumentError("restore_from: is required");
  RETURN_IF_ERROR(CheckTargetIsEmpty(options.data_dir));
  std::string target = options.data_dir;
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  ASSIGN_OR_RETURN(auto engine, OpenReadOnly(options.backup_dir));
  RestoreResult result;
  ASSIGN_OR_RETURN(result.verification.backup, CheckBackupFiles(*engine, options.backup_dir, options.backup_id));
  result.verification.deep = true;

  // Restored and checked under another name; renamed into place last.
  const std::string temporary = target + ".restoring";
  RemoveOwnDirectory(temporary);
  std::unique_ptr<ClosableEventLog> restored;
  absl::Status status = RestoreAndVerify(*engine, options.backup_dir, result.verification.backup, temporary,
                                         &restored, &result.verification.verified_events);
  if (status.ok() && options.check) status = options.check(*restored);
  if (status.ok()) {
    result.head = restored->GetHead();
    restored->Close();
  }
  restored.reset();
  if (status.ok()) {
    std::error_code error;
    fs::rename(temporary, target, error);  // replaces an empty directory
    if (error) {
      status = absl::UnavailableError(
          absl::StrCat("cannot rename '", temporary, "' to '", target, "': ", error.message()));
    }
  }
  if (!status.ok()) {
    RemoveOwnDirectory(temporary);
    return status;
  }
  RETURN_IF_ERROR(PosixFileOps()->SyncDirectory(ParentOf(target)));
  return result;
}

}  // namespace ledger
