#!/usr/bin/env bash
# Configures and builds everything into build/ with Ninja, two jobs (the
# machines have two cores) and ccache when it is there. Extra arguments go to
# cmake; TARGETS (space-separated) builds only those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "$@" >/dev/null
# shellcheck disable=SC2086  # TARGETS is a list
ninja -C "$BUILD_DIR" -j "${JOBS:-2}" ${TARGETS:-}
