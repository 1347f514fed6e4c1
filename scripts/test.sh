#!/usr/bin/env bash
# The second README command: install, build, and run the whole test suite, in
# three configurations (docs/HARDENING.md):
#   build/       the normal build (gcc): every test;
#   build-asan/  the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#                (gcc, -DLEDGER_SANITIZE=address,undefined), except those
#                labelled asan_slow (see the list in docs/HARDENING.md); the
#                benchmarks (not tests) are not built there;
#   build-fuzz/  the libFuzzer targets (clang, -DLEDGER_FUZZ=ON), each run for
#                LEDGER_FUZZ_SECONDS over its seed corpus (ctest label "fuzz").
# SANITIZERS=0 skips the last two (a quick local run); CI runs all three.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
jobs=${JOBS:-2}

./scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "$jobs" --timeout 900

if [[ "${SANITIZERS:-1}" == 0 ]]; then exit 0; fi

# Every sanitizer report is fatal (-fno-sanitize-recover=all in the build;
# halt_on_error for the runtime); LeakSanitizer is on, with suppressions for
# third-party leaks only.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"

start=$SECONDS
BUILD_DIR=build-asan ./scripts/build.sh -DLEDGER_SANITIZE=address,undefined -DLEDGER_WITH_BENCH=OFF
echo "test.sh: build-asan built in $((SECONDS - start)) s" >&2
start=$SECONDS
# --repeat until-pass:2: on a loaded 2-core machine one timing-bound
# end-to-end test (LedgerctlTest.FollowExitsThreeWhenTheServerShutsDown) once
# found its ASan-built ledgerd not listening; a finding that reproduces still
# fails. Investigate before removing (see the issue notes of session 4).
ctest --test-dir build-asan --output-on-failure -j "$jobs" --timeout 900 -LE asan_slow --repeat until-pass:2
echo "test.sh: build-asan tests ran in $((SECONDS - start)) s" >&2

start=$SECONDS
BUILD_DIR=build-fuzz TARGETS=fuzzers ./scripts/build.sh -DCMAKE_CXX_COMPILER=clang++-14 -DLEDGER_FUZZ=ON
ctest --test-dir build-fuzz --output-on-failure -j "$jobs" -L fuzz
echo "test.sh: fuzzers built and run in $((SECONDS - start)) s" >&2
