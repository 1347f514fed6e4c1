#!/usr/bin/env bash
# Generates the Python protobuf and gRPC modules of every .proto in proto/
# into OUT_DIR, with the system protoc and gRPC plugin (Debian packages
# protobuf-compiler and protobuf-compiler-grpc). Then:
#
#   export PYTHONPATH="OUT_DIR:$(pwd)/clients/python"
#   /usr/bin/python3 -c 'import sakip_ledger'
#
# (Not `python3 -m grpc_tools.protoc`: Debian's grpc_tools bundles protoc 3.5,
# which rejects proto3 `optional`.) OUT_DIR receives ledger/v1/*_pb2*.py and
# sakip/v1/*_pb2*.py (namespace packages, no __init__.py needed); never name
# it, or put it under, a directory called `grpc`: it would shadow grpcio.
set -euo pipefail
if [[ $# -ne 1 || "$1" == -h || "$1" == --help ]]; then
  echo "usage: $0 OUT_DIR" >&2
  exit 2
fi
out_dir="$1"
here="$(cd "$(dirname "$0")" && pwd)"
proto_dir="$(cd "$here/../../proto" && pwd)"
protoc="${PROTOC:-protoc}"
plugin="${GRPC_PYTHON_PLUGIN:-/usr/bin/grpc_python_plugin}"
command -v "$protoc" >/dev/null || { echo "$0: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
[[ -x "$plugin" ]] || { echo "$0: $plugin not found (apt-get install protobuf-compiler-grpc)" >&2; exit 1; }
mkdir -p "$out_dir"
cd "$proto_dir"
mapfile -t protos < <(find . -name '*.proto' -printf '%P\n' | sort)
"$protoc" -I "$proto_dir" --python_out="$out_dir" --grpc_python_out="$out_dir" \
  --plugin=protoc-gen-grpc_python="$plugin" "${protos[@]}"
echo "generated ${#protos[@]} protos into $out_dir: ${protos[*]}" >&2
