#!/usr/bin/env bash
# Installs the Debian packages zenith needs to build, test and benchmark.
# Safe to run twice: it asks apt only for packages that are missing.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config
  protobuf-c-compiler libprotobuf-c-dev   # ONNX import (code generated at build time)
  libonnx-dev                             # onnx.proto
  libonnx-testdata                        # ONNX's own node conformance tests
  libdnnl-dev                             # oneDNN: fast x86 backend
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev   # XNNPACK: ARM-board backend
  libjpeg62-turbo-dev libpng-dev          # image decode
  libcjson-dev                            # JSON results and reports
  libinih-dev                             # INI config files
  libsensors-dev                          # hwmon power/temperature probes
  clang libclang-rt-14-dev                # libFuzzer + sanitizers
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PKGS[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
