#include "services/admin_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ledger/store/backup.h"
#include "services/server_limits.h"
#include "services/status_mapping.h"

namespace ledger::services {
namespace {

constexpr char kCreateBackup[] = "/ledger.v1.AdminService/CreateBackup";
constexpr char kListBackups[] = "/ledger.v1.AdminService/ListBackups";
constexpr char kVerifyBackup[] = "/ledger.v1.AdminService/VerifyBackup";
constexpr char kPruneBackups[] = "/ledger.v1.AdminService/PruneBackups";

// Inside the backup directory, next to BackupEngine's own subdirectories.
constexpr char kScratchName[] = "/.verify-scratch";

void ToProto(const BackupInfo& info, v1::BackupInfo* out) {
  out->set_backup_id(info.backup_id);
  out->set_size_bytes(info.size_bytes);
  out->set_file_count(info.file_count);
  const BackupManifest& manifest = info.manifest;
  out->set_created_at_micros(manifest.created_at_micros);
  out->set_head_position(manifest.head_position);
  out->set_head_hash(manifest.head_hash);
  out->set_head_recorded_at_micros(manifest.head_recorded_at_micros);
  out->set_tree_root(manifest.tree_root);
  out->set_schema_version(manifest.schema_version);
}

}  // namespace

grpc::Status AdminServiceImpl::Admit(grpc::ServerContext* context, const char* method, const char* what) {
  Caller caller;
  if (grpc::Status denied = access_->Check(context, method, auth::Action::kManageBackups, "", &caller);
      !denied.ok()) {
    return denied;
  }
  if (options_.backup_dir.empty()) {
    return ToGrpcStatus(absl::FailedPreconditionError(
        "backups are off on this server: start ledgerd with --backup_dir=DIR (a directory outside the "
        "data directory, ideally on other storage)"));
  }
  return ToGrpcStatus(CheckOperationDeadline(OperationDeadline(*context), what));
}

grpc::Status AdminServiceImpl::CreateBackup(grpc::ServerContext* context, const v1::CreateBackupRequest*,
                                            v1::CreateBackupResponse* response) {
  if (grpc::Status refused = Admit(context, kCreateBackup, "create a backup"); !refused.ok()) return refused;
  if (log_ == nullptr) {
    return ToGrpcStatus(absl::FailedPreconditionError("this server's event log cannot be backed up"));
  }
  CreateBackupOptions options;
  options.backup_dir = options_.backup_dir;
  options.staging_dir = options_.staging_dir;
  absl::MutexLock lock(&backup_mu_);
  absl::StatusOr<BackupInfo> backup = ledger::CreateBackup(*log_, options);
  if (!backup.ok()) return ToGrpcStatus(backup.status());
  ToProto(*backup, response->mutable_backup());
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::ListBackups(grpc::ServerContext* context, const v1::ListBackupsRequest*,
                                           v1::ListBackupsResponse* response) {
  if (grpc::Status refused = Admit(context, kListBackups, "list backups"); !refused.ok()) return refused;
  absl::MutexLock lock(&backup_mu_);
  absl::StatusOr<BackupListing> listing = ledger::ListBackups(options_.backup_dir);
  if (absl::IsNotFound(listing.status())) return grpc::Status::OK;  // none yet
  if (!listing.ok()) return ToGrpcStatus(listing.status());
  for (const BackupInfo& backup : listing->backups) ToProto(backup, response->add_backups());
  for (const auto& [id, reason] : listing->corrupt) {
    v1::CorruptBackup* corrupt = response->add_corrupt();
    corrupt->set_backup_id(id);
    corrupt->set_reason(reason);
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::VerifyBackup(grpc::ServerContext* context, const v1::VerifyBackupRequest* request,
                                            v1::VerifyBackupResponse* response) {
  if (grpc::Status refused = Admit(context, kVerifyBackup, "verify a backup"); !refused.ok()) return refused;
  VerifyBackupOptions options;
  options.backup_dir = options_.backup_dir;
  options.backup_id = request->backup_id();
  options.deep = request->deep();
  options.scratch_dir = options_.backup_dir + kScratchName;
  absl::MutexLock lock(&backup_mu_);
  absl::StatusOr<BackupVerification> verification = ledger::VerifyBackup(options);
  if (!verification.ok()) return ToGrpcStatus(verification.status());
  ToProto(verification->backup, response->mutable_backup());
  response->set_deep(verification->deep);
  response->set_verified_events(verification->verified_events);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::PruneBackups(grpc::ServerContext* context, const v1::PruneBackupsRequest* request,
                                            v1::PruneBackupsResponse* response) {
  if (grpc::Status refused = Admit(context, kPruneBackups, "prune backups"); !refused.ok()) return refused;
  PruneBackupsOptions options;
  options.backup_dir = options_.backup_dir;
  options.keep_newest = request->keep_newest();
  options.dry_run = request->dry_run();
  absl::MutexLock lock(&backup_mu_);
  absl::StatusOr<PruneBackupsResult> pruned = ledger::PruneBackups(options);
  if (!pruned.ok()) return ToGrpcStatus(pruned.status());
  for (const BackupInfo& backup : pruned->deleted) ToProto(backup, response->add_deleted());
  for (const BackupInfo& backup : pruned->kept) ToProto(backup, response->add_kept());
  for (uint32_t id : pruned->corrupt_left) response->add_corrupt_left(id);
  return grpc::Status::OK;
}

}  // namespace ledger::services
