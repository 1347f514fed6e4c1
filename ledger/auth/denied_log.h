// The denied-attempt log: every refused call (who, from where, what, which
// unit, why), for inspectors (AuditService.ListDeniedAttempts) and for
// counters.
//
// Attempts are kept in a bounded in-memory ring (the newest
// limits::kDeniedAttemptsKept) and appended, one JSON object per line, to a
// file outside the ledger (a flood of refused calls must not grow the ledger
// itself). The file is rotated to "<path>.1" past limits::kMaxDeniedLogBytes.
// At open, the files' last lines (at most limits::kDeniedReadBackBytes of
// each) are read back into the ring, so a restart
// does not hide recent attempts from inspectors. File writes are flushed per
// line but not synced: the log is evidence for people, not a ledger record,
// and a refused call must not cost a disk sync.
//
// Thread-safety: thread-safe; everything is guarded by mu_.
#ifndef LEDGER_AUTH_DENIED_LOG_H_
#define LEDGER_AUTH_DENIED_LOG_H_

#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ledger/limits.h"
#include "ledger/v1/access.pb.h"

namespace ledger::auth {

// A refused call: ledger.v1.DeniedAttempt (proto/ledger/v1/access.proto).
using DeniedAttempt = v1::DeniedAttempt;

struct DeniedCounts {
  uint64_t total = 0;
  uint64_t unauthenticated = 0;
  uint64_t permission_denied = 0;
  uint64_t other = 0;
};

class DeniedLog {
 public:
  // `path` empty: memory only. The file is rotated past `max_file_bytes`
  // (tests pass a small size).
  static absl::StatusOr<std::unique_ptr<DeniedLog>> Open(
      const std::string& path, uint64_t max_file_bytes = limits::kMaxDeniedLogBytes);
  ~DeniedLog();

  // Sets the attempt's sequence, keeps it and appends it to the file.
  void Record(DeniedAttempt attempt);

  // The newest first, at most `max_count`, only those `keep` accepts.
  template <typename Predicate>
  std::vector<DeniedAttempt> Newest(size_t max_count, Predicate keep) const {
    absl::MutexLock lock(&mu_);
    std::vector<DeniedAttempt> out;
    for (auto it = ring_.rbegin(); it != ring_.rend() && out.size() < max_count; ++it) {
      if (keep(*it)) out.push_back(*it);
    }
    return out;
  }

  // Counted since this process started.
  DeniedCounts counts() const;


 private:
  DeniedLog() = default;
  void ReadBack(const std::string& path);
  void Append(const DeniedAttempt& attempt) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::string path_;
  uint64_t max_file_bytes_ = 0;
  mutable absl::Mutex mu_;
  std::deque<DeniedAttempt> ring_ ABSL_GUARDED_BY(mu_);
  std::FILE* file_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t file_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  DeniedCounts counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ledger::auth

#endif  // LEDGER_AUTH_DENIED_LOG_H_
