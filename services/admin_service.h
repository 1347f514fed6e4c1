// AdminService: the thin gRPC adapter over the ledger's online backups
// (ledger/store/backup.h; docs/BACKUP.md).
//
// Backups are written only under the server's own backup directory
// (AdminOptions::backup_dir, from `ledgerd --backup_dir`); a request never
// names a path. Without a backup directory every call answers
// FAILED_PRECONDITION naming the flag to set. Every call needs the admin role
// with scope "*" (auth::Action::kManageBackups).
//
// Thread-safety: gRPC calls the handlers concurrently; backup operations are
// serialized by backup_mu_ (BackupEngine allows one writer per directory, a
// deep verification uses the one scratch directory, and a backup is listed
// only once its digest file is written).
#ifndef SERVICES_ADMIN_SERVICE_H_
#define SERVICES_ADMIN_SERVICE_H_

#include <string>

#include "absl/synchronization/mutex.h"
#include "ledger/store/rocks_event_log.h"
#include "ledger/v1/admin.grpc.pb.h"
#include "services/access.h"

namespace ledger::services {

struct AdminOptions {
  // The BackupEngine directory; empty: backups are off.
  std::string backup_dir;
  // Where a backup's checkpoint is staged: on the data directory's file
  // system (ledgerd: <data_dir>.backup-staging), so that it hard-links.
  std::string staging_dir;
};

class AdminServiceImpl final : public v1::AdminService::Service {
 public:
  // `log` (null: not a RocksDB log, backups refused) and `access` outlive
  // the service.
  AdminServiceImpl(ClosableEventLog* log, AdminOptions options, AccessControl* access)
      : log_(log), options_(std::move(options)), access_(access) {}

  grpc::Status CreateBackup(grpc::ServerContext* context, const v1::CreateBackupRequest* request,
                            v1::CreateBackupResponse* response) override;
  grpc::Status ListBackups(grpc::ServerContext* context, const v1::ListBackupsRequest* request,
                           v1::ListBackupsResponse* response) override;
  grpc::Status VerifyBackup(grpc::ServerContext* context, const v1::VerifyBackupRequest* request,
                            v1::VerifyBackupResponse* response) override;
  grpc::Status PruneBackups(grpc::ServerContext* context, const v1::PruneBackupsRequest* request,
                            v1::PruneBackupsResponse* response) override;

 private:
  // Access, then the backup directory and the call's deadline.
  grpc::Status Admit(grpc::ServerContext* context, const char* method, const char* what);

  ClosableEventLog* const log_;
  const AdminOptions options_;
  AccessControl* const access_;
  absl::Mutex backup_mu_;
};

}  // namespace ledger::services

#endif  // SERVICES_ADMIN_SERVICE_H_
