#!/usr/bin/env bash
# The first README command: install, build, and run ledgerd on an embedded
# RocksDB ledger in ./data, listening on 127.0.0.1:7070 (Ctrl-C stops it
# cleanly). Extra arguments go to ledgerd, e.g. --listen=127.0.0.1:7171.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
exec ./build/services/ledgerd --data_dir="${LEDGER_DATA_DIR:-./data}" \
  --listen="${LEDGER_LISTEN:-127.0.0.1:7070}" "$@"
