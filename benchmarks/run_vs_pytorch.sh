#!/usr/bin/env bash
# Installs the benchmark-only peer (PyTorch 1.13 + torchvision 0.14 from
# Debian: python3-torch, python3-torchvision; never a dependency of the
# product), builds zenith's bench_engine, and runs the interleaved comparison
# benchmarks/bench_vs_pytorch.py. Arguments pass through to it; BUILD picks
# the build folder (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"
# Debian's torch lives in /usr/lib/python3/dist-packages: use the system
# interpreter even when another python3 comes first in PATH (pyenv, venv).
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, torchvision' 2>/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch python3-torchvision
fi
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target bench_engine >/dev/null
exec "$PY" benchmarks/bench_vs_pytorch.py --build "$BUILD" "$@"
