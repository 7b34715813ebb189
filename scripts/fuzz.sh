#!/usr/bin/env bash
# Build the libFuzzer targets with clang (-DZN_FUZZ=ON) and run
# fuzz_onnx_import for <seconds> (default 60) on a seed corpus of models the
# exporter writes plus a few ONNX test-data models. Exits non-zero on a crash,
# leak or sanitizer report. Usage: scripts/fuzz.sh [seconds] [build-dir]
set -euo pipefail
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build-fuzz}
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DZN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C "$build" -j2 fuzz_onnx_import >/dev/null
corpus=$build/fuzz_corpus/onnx_import
mkdir -p "$corpus"
# Seeds: small models from the ONNX test data (if installed).
data=${ZN_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
if [ -d "$data" ]; then
  for t in node/test_conv_with_strides_padding node/test_maxpool_2d_pads node/test_gemm_default_matrix_bias \
           node/test_softmax_axis_1 node/test_reshape_reordered_all_dims node/test_clip_default_inbounds \
           node/test_unsqueeze_axis_0 node/test_constant_pad node/test_batchnorm_epsilon \
           pytorch-converted/test_Conv2d pytorch-converted/test_MaxPool2d simple/test_single_relu_model; do
    f=$data/$t/model.onnx
    [ -f "$f" ] && cp "$f" "$corpus/$(echo "$t" | tr / _).onnx"
  done
fi
# libFuzzer's event lines go to a log; on failure its tail is shown.
log=$build/fuzz_onnx_import.log
echo "fuzz: fuzz_onnx_import for ${secs}s (log: $log)"
if "$build/tests/fuzz_onnx_import" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 -timeout=10 \
     -print_final_stats=1 -artifact_prefix="$build/" "$corpus" >"$log" 2>&1; then
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done' "$log" || true
  echo "fuzz: no crash, leak or sanitizer report"
else
  tail -n 60 "$log"
  echo "fuzz: FAILED (crash input saved beside the log)"
  exit 1
fi
