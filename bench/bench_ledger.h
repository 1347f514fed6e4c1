// Shared by the benchmarks that fill a ledger of realistic events
// (replay_bench, proof_bench): where their temporary ledgers go, and the
// events' JSON payloads of a fixed size.
//
// Thread-safety: pure functions.
#ifndef BENCH_BENCH_LEDGER_H_
#define BENCH_BENCH_LEDGER_H_

#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"

namespace ledger::bench {

// `dir_flag` when set, else $TMPDIR, else /tmp.
inline std::string TempParent(const std::string& dir_flag) {
  if (!dir_flag.empty()) return dir_flag;
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr ? tmp : "/tmp";
}

// {"serial":N,"note":"xxx..."} of exactly `bytes` bytes (bytes > the prefix).
inline std::string JsonPayload(uint64_t serial, size_t bytes) {
  std::string payload = absl::StrCat("{\"serial\":", serial, ",\"note\":\"");
  payload.resize(bytes - 2, 'x');
  return payload + "\"}";
}

}  // namespace ledger::bench

#endif  // BENCH_BENCH_LEDGER_H_
