#!/usr/bin/env bash
# Installs every package the project needs, all from Debian 12 (bookworm).
# Why each one is here: docs/DEPENDENCIES.md.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake ninja-build pkg-config ccache git ca-certificates \
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libgrpc-dev \
  libabsl-dev librocksdb-dev libgtest-dev libgmock-dev libbenchmark-dev \
  libsodium-dev libssl-dev \
  python3 python3-grpcio python3-protobuf python3-cryptography grpc-proto \
  procps openssl \
  clang-14 libclang-rt-14-dev llvm-14 >/dev/null
