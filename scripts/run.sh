#!/usr/bin/env bash
# The first README command: install, build, and run ledgerd on an embedded
# RocksDB ledger in ./data, listening on 127.0.0.1:7070 (Ctrl-C stops it
# cleanly). Extra arguments go to ledgerd.
#
# A fresh ledger (no data directory yet) is loaded with the demo data first:
# the reference report of Kecamatan Klakah, Triwulan II 2024
# (tests/data/klakah-tw2-2024.jsonl), imported through ledgerctl while the
# server runs in the background; then the script waits on the server as its
# foreground process. An existing data directory is served as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh

data_dir="${LEDGER_DATA_DIR:-./data}"
listen="${LEDGER_LISTEN:-127.0.0.1:7070}"
ledgerd=./build/services/ledgerd
ledgerctl=./build/clients/ledgerctl/ledgerctl
demo_data=tests/data/klakah-tw2-2024.jsonl

if [[ -d "$data_dir" ]]; then
  exec "$ledgerd" --data_dir="$data_dir" --listen="$listen" "$@"
fi

# A head witness without its data directory means the ledger it witnessed is
# gone: ledgerd would (rightly) refuse to write. Starting over is a decision.
if [[ -e "${data_dir%/}.head-witness" ]]; then
  echo "run.sh: $data_dir is gone but ${data_dir%/}.head-witness still witnesses its signed head;" >&2
  echo "run.sh: remove ${data_dir%/}.head-witness to start a new ledger on purpose (docs/TRUST.md)" >&2
  exit 1
fi
"$ledgerd" --data_dir="$data_dir" --listen="$listen" "$@" &
server_pid=$!
# Ctrl-C / SIGTERM: stop the server cleanly (a background job of a script
# ignores SIGINT, so the signal is forwarded as SIGTERM), then exit with it.
trap 'kill -TERM "$server_pid" 2>/dev/null || true' INT TERM

wait_until_serving() {
  for _ in $(seq 1 100); do
    kill -0 "$server_pid" 2>/dev/null || return 1
    "$ledgerctl" --server="$listen" --timeout-ms=500 head >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}

if ! wait_until_serving; then
  echo "run.sh: ledgerd did not start serving on $listen" >&2
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" || true
  exit 1
fi
echo "run.sh: fresh ledger: importing the demo data ($demo_data)" >&2
if ! "$ledgerctl" --server="$listen" import "$demo_data"; then
  echo "run.sh: the import failed; still serving. Retry (safe, idempotent) with:" >&2
  echo "  $ledgerctl --server=$listen import $demo_data" >&2
fi
cat >&2 <<HINT

run.sh: the demo ledger is served on $listen. In another terminal:
  $ledgerctl report 35.08.19 2024 2
  $ledgerctl reconcile 35.08.19 2024 LKI-CAMAT-KLAKAH-TW2-2024
Ctrl-C stops the server cleanly.

HINT

# `wait` returns early when a trapped signal arrives; wait again for the exit.
status=0
while kill -0 "$server_pid" 2>/dev/null; do
  wait "$server_pid" && status=0 || status=$?
done
exit "$status"
