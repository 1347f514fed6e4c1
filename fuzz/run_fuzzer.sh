#!/usr/bin/env bash
# Runs one fuzz target for a bounded time over its seed corpus:
#   run_fuzzer.sh FUZZER NAME SECONDS SCRATCH_DIR [libFuzzer flags...]
# New inputs go to SCRATCH_DIR/NAME (emptied first unless FUZZ_FRESH=0),
# never into fuzz/corpus;
# a crash is saved as SCRATCH_DIR/NAME-crash-* and fails the run.
# Used by ctest (fuzz.NAME) and by scripts/fuzz.sh.
set -euo pipefail
fuzzer=$1 name=$2 seconds=$3 scratch=$4
shift 4
here="$(cd "$(dirname "$0")" && pwd)"
corpus="$here/corpus/$name"
dict="$here/dict/$name.dict"
if [[ "${FUZZ_FRESH:-1}" != 0 ]]; then rm -rf "${scratch:?}/$name"; fi
mkdir -p "$scratch/$name"
args=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1
      -artifact_prefix="$scratch/$name-")
if [[ -f "$dict" ]]; then args+=(-dict="$dict"); fi
# Sanitizer options: every report is fatal; third-party leaks only are
# suppressed (scripts/sanitizers/lsan.supp, with the reason of each).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:quarantine_size_mb=32}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/../scripts/sanitizers/lsan.supp}"
exec "$fuzzer" "${args[@]}" "$@" "$scratch/$name" "$corpus"
