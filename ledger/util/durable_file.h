// Small files that must survive a crash whole: written to a temporary file,
// synced, renamed over the old one, and the directory synced, so that after a
// power cut the file is the old one or the new one, never a torn mix.
//
// Thread-safety: one writer per path at a time.
#ifndef LEDGER_UTIL_DURABLE_FILE_H_
#define LEDGER_UTIL_DURABLE_FILE_H_

#include <string>
#include <string_view>

#include <sys/types.h>

#include "absl/status/status.h"

namespace ledger {

// The three steps a durable replacement needs. PosixFileOps() is the
// operating system; tests pass one that goes through a file system that
// simulates power cuts and I/O errors (ledger/testing/fault_injection_fs.h),
// so that the ledger's own files are held to the same model as RocksDB's.
class DurableFileOps {
 public:
  virtual ~DurableFileOps() = default;
  // Creates or truncates `path` (mode `mode`), writes `bytes`, syncs the file.
  virtual absl::Status WriteAndSync(const std::string& path, std::string_view bytes, mode_t mode) = 0;
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  virtual absl::Status SyncDirectory(const std::string& directory) = 0;
};

// The operating system's (a process-wide object; thread-safe).
DurableFileOps* PosixFileOps();

// Replaces `path` with `bytes` (mode `mode`, also when the file existed).
// Unavailable, naming the file and the system's reason, when any step fails;
// then `path` still holds its old content.
absl::Status WriteFileDurably(const std::string& path, std::string_view bytes, mode_t mode,
                              DurableFileOps* ops = PosixFileOps());

}  // namespace ledger

#endif  // LEDGER_UTIL_DURABLE_FILE_H_
