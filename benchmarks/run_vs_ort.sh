#!/usr/bin/env bash
# Installs the benchmark-only peer (ONNX Runtime 1.30 via npm's onnxruntime-node;
# never a dependency of the product), builds zenith, and runs the interleaved
# comparison. Arguments pass through to run_vs_ort.js.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v node >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
if [ ! -d benchmarks/ort/node_modules/onnxruntime-node ]; then
  # Its install script would try to download CUDA files: skip it (PITFALLS.md).
  (cd benchmarks/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund --ignore-scripts)
fi
make build >/dev/null
exec node benchmarks/run_vs_ort.js --build build "$@"
