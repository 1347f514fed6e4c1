#!/usr/bin/env bash
# Longer fuzzing by hand (docs/HARDENING.md): builds the fuzz targets
# (build-fuzz/, clang, -DLEDGER_FUZZ=ON) and runs each for SECONDS (default
# 600) over its seed corpus, one after the other. New inputs go to
# fuzz-out/<target>/ and crashes to fuzz-out/<target>-crash-*; nothing is
# written into fuzz/corpus. To keep what was found, minimize it into the seed
# corpus (only inputs that add coverage are copied):
#
#   build-fuzz/fuzz/fuzz_decimal -merge=1 fuzz/corpus/decimal fuzz-out/decimal
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 3600 bundle record
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(decimal identifiers import record store_values bundle)
fi
BUILD_DIR=build-fuzz TARGETS=fuzzers ./scripts/build.sh -DCMAKE_CXX_COMPILER=clang++-14 -DLEDGER_FUZZ=ON
out=${FUZZ_OUT:-fuzz-out}
mkdir -p "$out"
status=0
for target in "${targets[@]}"; do
  echo "fuzz.sh: $target for $seconds s (new inputs in $out/$target)" >&2
  # $out/$target is kept between runs: a new run starts from what the last found.
  if ! FUZZ_FRESH=0 fuzz/run_fuzzer.sh "build-fuzz/fuzz/fuzz_$target" "$target" "$seconds" "$out"; then
    echo "fuzz.sh: $target FAILED; the input is in $out/$target-crash-*" >&2
    status=1
  fi
done
exit $status
