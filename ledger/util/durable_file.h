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

// Replaces `path` with `bytes` (mode `mode`, also when the file existed).
// Unavailable, naming the file and the system's reason, when any step fails.
absl::Status WriteFileDurably(const std::string& path, std::string_view bytes, mode_t mode);

}  // namespace ledger

#endif  // LEDGER_UTIL_DURABLE_FILE_H_
