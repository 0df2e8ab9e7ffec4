#!/usr/bin/env bash
# Installs the Debian packages mixprec needs, only those that are missing (idempotent).
set -euo pipefail
PKGS=(g++ cmake ninja-build pkg-config libsystemc-dev libeigen3-dev nlohmann-json3-dev catch2
      libbenchmark-dev libcli11-dev libopenmpi-dev openmpi-bin libyaml-cpp-dev
      libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
      pybind11-dev python3-dev python3-numpy python3-pytest python3-onnx
      clang-14 libclang-rt-14-dev)  # libFuzzer + sanitizer runtimes for scripts/fuzz.sh
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
