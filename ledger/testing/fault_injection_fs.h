// A file system for tests that simulates power cuts and injects I/O errors,
// on RocksDB's public rocksdb::FileSystemWrapper (RocksDB's own
// FaultInjectionTestFS is not in Debian's headers).
//
// The model of durability is the pessimistic POSIX one:
//   - bytes appended to a file are durable only once the file is synced
//     (Sync/Fsync; RangeSync promises nothing);
//   - a file created, hard-linked or renamed into a directory exists after a
//     power cut only once that directory has been synced;
//   - a rename not yet made durable by a directory sync is undone by a cut
//     (the old target comes back; files up to kMaxRenameUndoBytes).
// Deletions are taken as durable at once (a deleted file never comes back).
// Files that existed before the file system saw them are taken as durable.
//
// A power cut is two steps, because RocksDB must close its files in between:
// CutPower() makes every later write, sync, rename, create and delete fail
// (nothing more can become durable, and a sync in flight at the moment of
// the cut does not count); after the database is closed, DropUnsyncedData()
// puts the disk in the state a real cut would have left: unsynced bytes
// truncated, undurable files removed, undurable renames undone. RestorePower()
// then lets the same file system be used for the next open.
//
// Faults: FailNext() fails the next matching write, sync, rename or file
// creation with an I/O error (or "no space"); SetDiskFull() fails every write
// and creation with "no space" until it is cleared. SetWalSyncsIgnored()
// turns the disk into one that acknowledges the WAL's syncs without making
// anything durable: the negative control of the power-cut test (the same
// effect as a build that acknowledges an append before its sync).
//
// Thread-safety: every method may be called from any thread.
#ifndef LEDGER_TESTING_FAULT_INJECTION_FS_H_
#define LEDGER_TESTING_FAULT_INJECTION_FS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ledger/util/durable_file.h"
#include "rocksdb/file_system.h"

namespace ledger::testing {

enum class FileOperation {
  kWrite,     // Append to a file
  kSync,      // Sync/Fsync of a file
  kDirSync,   // Fsync of a directory
  kRename,    // RenameFile
  kCreate,    // NewWritableFile (and ReopenWritableFile)
};

struct InjectedFault {
  FileOperation operation = FileOperation::kSync;
  // Only paths containing this (empty: every path). "/" + ".log" style
  // suffixes select the WAL: see kWalSuffix.
  std::string path_contains;
  // Let this many matching operations through first.
  int skip = 0;
  // Fail this many matching operations (-1: every one until ClearFaults).
  int count = 1;
  // "no space left on device" instead of a plain I/O error.
  bool no_space = false;
};

inline constexpr char kWalSuffix[] = ".log";

class FaultInjectionFileSystem : public rocksdb::FileSystemWrapper {
 public:
  static constexpr uint64_t kMaxRenameUndoBytes = 16 << 20;

  // `base` must store files on the local disk: a power cut truncates them
  // with std::filesystem.
  explicit FaultInjectionFileSystem(
      std::shared_ptr<rocksdb::FileSystem> base = rocksdb::FileSystem::Default());
  ~FaultInjectionFileSystem() override;

  static const char* kClassName() { return "FaultInjectionFileSystem"; }
  const char* Name() const override { return kClassName(); }

  // --- Faults.
  void FailNext(InjectedFault fault);
  void SetDiskFull(bool full);
  void ClearFaults();  // also clears the disk-full state
  // Makes the creation of files whose path contains `path_contains` wait
  // until ReleaseCreates(): holds back, say, a flush (".sst") so that a test
  // sees what the writes alone made durable.
  void HoldCreates(std::string path_contains);
  void ReleaseCreates();
  // How many operations an injected fault (or the full disk) has failed.
  int faults_fired() const;

  // --- Power cuts.
  void CutPower();
  // Cuts the power while a sync of a file or directory (`operation` kSync or
  // kDirSync) whose path contains `path_contains` is in flight, the first
  // such sync after `skip` others: the disk did the work, but the power went
  // before the caller heard back, so it made nothing durable and must
  // report a failure.
  void CutPowerDuringNext(FileOperation operation, std::string path_contains = "", int skip = 0);
  bool power_cut() const;
  // Call with every file of the cut process closed. Returns what it did
  // ("truncated 3 files, removed 2, undid 1 rename") or the first error.
  absl::StatusOr<std::string> DropUnsyncedData();
  void RestorePower();

  // --- Negative control: WAL syncs report success and make nothing durable.
  void SetWalSyncsIgnored(bool ignored);

  // --- Counters.
  uint64_t syncs() const;  // file syncs that made bytes durable
  // The files written through this file system since it was made (or since
  // the last cut), as a cut would treat them now.
  struct TrackedFile {
    std::string path;
    uint64_t size = 0;          // bytes written
    uint64_t synced_size = 0;   // of which durable
    bool name_durable = true;   // its directory entry survives a cut
  };
  std::vector<TrackedFile> Files() const;
  // The same as text, one line per file, then the renames a cut undoes. For
  // the failure messages of tests.
  std::string DescribeFiles() const;

  // --- rocksdb::FileSystem.
  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus NewDirectory(const std::string& path, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* directory,
                                 rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* debug) override;
  rocksdb::IOStatus Truncate(const std::string& path, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* debug) override;

  // For the wrapped files and directories.
  rocksdb::IOStatus BeforeOperation(FileOperation operation, const std::string& path);
  void AfterAppend(const std::string& path, uint64_t size_after);
  rocksdb::IOStatus AfterSync(const std::string& path, uint64_t size);
  bool IgnoresSync(const std::string& path);
  rocksdb::IOStatus AfterDirSync(const std::string& directory);
  void CutIfArmed(FileOperation operation, const std::string& path);

 private:
  struct FileState {
    uint64_t size = 0;         // bytes written through this file system
    uint64_t synced_size = 0;  // of which durable
    bool entry_durable = true;  // its directory entry survives a cut
  };
  struct PendingRename {
    std::string from;
    std::string to;
    std::optional<std::string> old_target;  // the target's bytes before, if it existed
    bool from_entry_durable = true;         // whether the old name would survive a cut
  };

  void WaitWhileCreatesHeld(const std::string& path);
  rocksdb::IOStatus Track(const std::string& path, bool existed, uint64_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<rocksdb::IOStatus> MatchFault(FileOperation operation, const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status UndoRenames(int* undone) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<InjectedFault> faults_ ABSL_GUARDED_BY(mu_);
  bool disk_full_ ABSL_GUARDED_BY(mu_) = false;
  int faults_fired_ ABSL_GUARDED_BY(mu_) = 0;
  bool power_cut_ ABSL_GUARDED_BY(mu_) = false;
  bool wal_syncs_ignored_ ABSL_GUARDED_BY(mu_) = false;
  std::string held_creates_ ABSL_GUARDED_BY(mu_);  // "" when none is held
  struct CutDuring {
    FileOperation operation;
    std::string path_contains;
    int skip = 0;
  };
  std::optional<CutDuring> cut_during_ ABSL_GUARDED_BY(mu_);
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  // Files written through this file system since the last drop, by path.
  std::map<std::string, FileState> files_ ABSL_GUARDED_BY(mu_);
  // Renames not yet made durable by a directory sync, oldest first.
  std::vector<PendingRename> renames_ ABSL_GUARDED_BY(mu_);
};

// The ledger's own durable files (head witness, keys) written through `fs`,
// so that a power cut treats them as it treats RocksDB's files.
std::unique_ptr<DurableFileOps> DurableFileOpsOn(rocksdb::FileSystem* fs);

}  // namespace ledger::testing

#endif  // LEDGER_TESTING_FAULT_INJECTION_FS_H_
