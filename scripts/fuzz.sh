#!/usr/bin/env bash
# Build the libFuzzer targets with clang (-DZN_FUZZ=ON) and run each on a seed
# corpus: fuzz_onnx_import for <seconds> (default 60; a few ONNX test-data
# models), fuzz_model_run for a quarter (the same seeds, through the whole
# load path and a ref run) and an eighth each on onednn and xnnpack (where
# built; their kernels run against guard pages) and on auto (graphs cut into
# segments on several backends: runtime/partition.c), fuzz_image_decode for half (the sample photos and
# the truncated JPEG fixture), fuzz_bench_config for a quarter (the example
# configs), at least 10 s each. Exits non-zero on a crash, leak or sanitizer
# report (UBSan's too: the fuzz build sets -fno-sanitize-recover=undefined).
# Usage: scripts/fuzz.sh [seconds] [build-dir]
set -euo pipefail
secs=${1:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
build=${2:-$root/build-fuzz}
CC=clang CXX=clang++ cmake -S "$root" -B "$build" -DZN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
make -C "$build" -j2 fuzz_onnx_import fuzz_model_run fuzz_image_decode fuzz_bench_config >/dev/null

# Seeds. ONNX: small models from the ONNX test data (if installed).
mkdir -p "$build/fuzz_corpus/onnx_import" "$build/fuzz_corpus/model_run" "$build/fuzz_corpus/image_decode" \
  "$build/fuzz_corpus/bench_config"
data=${ZN_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}
if [ -d "$data" ]; then
  for t in node/test_conv_with_strides_padding node/test_maxpool_2d_pads node/test_gemm_default_matrix_bias \
           node/test_softmax_axis_1 node/test_reshape_reordered_all_dims node/test_clip_default_inbounds \
           node/test_unsqueeze_axis_0 node/test_constant_pad node/test_batchnorm_epsilon \
           node/test_transpose_all_permutations_1 node/test_gather_1 node/test_reduce_mean_keepdims_example \
           node/test_pow node/test_erf node/test_hardsigmoid node/test_mul_bcast node/test_layer_normalization_4d_axis1 \
           pytorch-converted/test_Conv2d pytorch-converted/test_MaxPool2d simple/test_single_relu_model; do
    f=$data/$t/model.onnx
    if [ -f "$f" ]; then
      cp "$f" "$build/fuzz_corpus/onnx_import/$(echo "$t" | tr / _).onnx"
      cp "$f" "$build/fuzz_corpus/model_run/$(echo "$t" | tr / _).onnx"
    fi
  done
fi
# forms real exports use that the node tests lack (tests/data/fuzz_seeds/make_seeds.py)
for f in "$root"/tests/data/fuzz_seeds/*.onnx; do
  cp "$f" "$build/fuzz_corpus/onnx_import/seed_$(basename "$f")"
  cp "$f" "$build/fuzz_corpus/model_run/seed_$(basename "$f")"
done
cp "$root"/data/images/*.jpg "$root"/data/images/*.png "$root/tests/data/images/truncated.jpg" \
   "$build/fuzz_corpus/image_decode/"
cp "$root"/examples/*.ini "$build/fuzz_corpus/bench_config/"

# run TARGET SECONDS MAX_LEN [BACKEND]: libFuzzer's event lines go to a log; on
# failure its tail is shown. BACKEND (fuzz_model_run) goes to ZN_FUZZ_BACKEND.
run() {
  local target=$1 t=$2 max_len=$3 backend=${4:-}
  local name=$target${backend:+-$backend}
  local log=$build/$name.log
  echo "fuzz: $target${backend:+ on $backend} for ${t}s (log: $log)"
  if ZN_FUZZ_BACKEND=$backend "$build/tests/$target" -max_total_time="$t" -rss_limit_mb=2048 -max_len="$max_len" \
       -timeout=10 -print_final_stats=1 -artifact_prefix="$build/$name-" "$build/fuzz_corpus/${target#fuzz_}" \
       >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^Done|nothing to fuzz' "$log" || true
  else
    tail -n 60 "$log"
    echo "fuzz: $target FAILED (crash input saved beside the log)"
    exit 1
  fi
}
half=$((secs / 2 > 10 ? secs / 2 : 10))
quarter=$((secs / 4 > 10 ? secs / 4 : 10))
eighth=$((secs / 8 > 10 ? secs / 8 : 10))
run fuzz_onnx_import "$secs" 65536
run fuzz_model_run "$quarter" 65536
run fuzz_model_run "$eighth" 65536 onednn
run fuzz_model_run "$eighth" 65536 xnnpack
run fuzz_model_run "$eighth" 65536 auto
run fuzz_image_decode "$half" 262144
run fuzz_bench_config "$quarter" 8192
echo "fuzz: no crash, leak or sanitizer report"
