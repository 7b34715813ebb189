#!/usr/bin/env bash
# Drives the `zenith` CLI as a user would: help and version, the zoo table,
# run on a sample photo (top-5 + the synthetic-weights note), export + run of
# the exported ONNX file (same top-5), a TensorProto input, inspect, and bad
# input, each of which must exit non-zero with a clear message and no crash
# (exit code < 128: no signal). Prints "N passed, N failed".
# usage: test_cli.sh path/to/zenith   (ZN_SOURCE_DIR: the source tree)
set -u
ZENITH=${1:?usage: test_cli.sh path/to/zenith}
SRC=${ZN_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export ZN_SOURCE_DIR=$SRC
IMG=$SRC/data/images
NODE=${ZN_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}/node
TMP=$(mktemp -d "${TMPDIR:-/tmp}/zn_cli_XXXXXX")
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
rc=0
ok() { passed=$((passed + 1)); echo "ok    $1"; }
bad() {
  failed=$((failed + 1))
  echo "FAIL  $1"
  echo "      exit $rc; stdout:"; sed 's/^/        /' "$TMP/out" | head -20
  echo "      stderr:"; sed 's/^/        /' "$TMP/err" | head -20
}
# z ARGS...: run zenith, keep stdout/stderr in $TMP/out, $TMP/err and the exit code in $rc.
z() { "$ZENITH" "$@" >"$TMP/out" 2>"$TMP/err"; rc=$?; }
# expect_fail NAME WANT_RC TEXT ARGS...: non-zero exit WANT_RC ("any" = 1..127) and TEXT on stderr.
expect_fail() {
  local name=$1 want=$2 text=$3
  shift 3
  z "$@"
  if [ "$rc" -ge 128 ]; then bad "$name (crashed: signal $((rc - 128)))"; return; fi
  if [ "$want" = any ] && [ "$rc" -eq 0 ]; then bad "$name (exit 0)"; return; fi
  if [ "$want" != any ] && [ "$rc" -ne "$want" ]; then bad "$name (exit $rc, wanted $want)"; return; fi
  if ! grep -qF -- "$text" "$TMP/err"; then bad "$name (stderr lacks '$text')"; return; fi
  if ! grep -q "^zenith" "$TMP/err"; then bad "$name (stderr lacks a 'zenith...' message)"; return; fi
  ok "$name"
}

# ---- help, version, usage errors ----
z --version
if [ $rc -eq 0 ] && grep -qE '^zenith [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"; then ok "--version"; else bad "--version"; fi
z help
if [ $rc -eq 0 ] && grep -q '^  run ' "$TMP/out" && grep -q '^  zoo ' "$TMP/out" && grep -q '^  inspect ' "$TMP/out"; then
  ok "help lists the commands"; else bad "help lists the commands"; fi
z help run
if [ $rc -eq 0 ] && grep -q -- '--model' "$TMP/out"; then ok "help run"; else bad "help run"; fi
expect_fail "no command" 2 "no command" 
expect_fail "unknown command" 2 "unknown command 'frobnicate'" frobnicate
expect_fail "unknown top-level flag" 2 "unknown option '--bogus'" --bogus
expect_fail "unknown run flag" 2 "unknown option '--bogus'" run --model mobilenet_v2 --image "$IMG/chelsea.jpg" --bogus
expect_fail "run without --model" 2 "--model is required" run --image "$IMG/chelsea.jpg"
expect_fail "run without images" 2 "--image" run --model mobilenet_v2

# ---- zoo ----
z zoo list
rows=$(tail -n +2 "$TMP/out" | grep -c .)
if [ $rc -eq 0 ] && [ "$rows" -eq 9 ] && grep -q '^mobilenet_v2 ' "$TMP/out" && grep -q '^inception_v3 .* 299 ' "$TMP/out"; then
  ok "zoo list shows nine models"; else bad "zoo list shows nine models ($rows rows)"; fi
expect_fail "zoo export unknown model" 2 "unknown zoo model" zoo export nosuchnet "$TMP/x.onnx"
expect_fail "zoo unknown subcommand" 2 "unknown subcommand" zoo frob

# ---- run a zoo model on a photo ----
z run --model mobilenet_v2 --image "$IMG/chelsea.jpg"
cp "$TMP/out" "$TMP/zoo_run.txt"
tops=$(grep -cE '^  top[1-5]: class +[0-9]+  p=[01]\.[0-9]{4}  ' "$TMP/out")
notes=$(grep -c '^note: zoo weights are synthetic' "$TMP/err")
if [ $rc -eq 0 ] && [ "$tops" -eq 5 ] && [ "$notes" -eq 1 ] && grep -q '^latency: [0-9.]* ms per batch of 1' "$TMP/out" \
   && grep -q "^$IMG/chelsea.jpg:" "$TMP/out"; then
  ok "run mobilenet_v2 on chelsea.jpg: 5 top lines, the synthetic note, latency"
else bad "run mobilenet_v2 on chelsea.jpg ($tops top lines, $notes notes)"; fi
# Probabilities of the top-5 are in decreasing order and labelled from the ImageNet list.
if awk '/^  top/ { sub("p=", "", $4); if (NR > 1 && $4 > prev + 1e-9) bad = 1; prev = $4 } END { exit bad }' "$TMP/out" \
   && ! grep -qE '^  top[1-5]: .*  \?$' "$TMP/out"; then
  ok "top-5 sorted and labelled"; else bad "top-5 sorted and labelled"; fi

# ---- export, then run the exported file: same top-5 ----
z zoo export mobilenet_v2 "$TMP/mnv2.onnx"
if [ $rc -eq 0 ] && [ -s "$TMP/mnv2.onnx" ]; then ok "zoo export mobilenet_v2"; else bad "zoo export mobilenet_v2"; fi
z run --model "$TMP/mnv2.onnx" --image "$IMG/chelsea.jpg"
if [ $rc -eq 0 ] && diff <(grep '^  top' "$TMP/zoo_run.txt") <(grep '^  top' "$TMP/out") >/dev/null \
   && ! grep -q '^note: zoo weights' "$TMP/err"; then
  ok "exported file gives the same top-5"; else bad "exported file gives the same top-5"; fi

# ---- batching: 3 images at batch 2 -> 2 batches, the last one padded ----
z run --model "$TMP/mnv2.onnx" --batch 2 --image "$IMG/chelsea.jpg" "$IMG/coffee.jpg" "$IMG/camera.png"
tops=$(grep -c '^  top[1-5]:' "$TMP/out")
if [ $rc -eq 0 ] && [ "$tops" -eq 15 ] && grep -q 'repeats its last image' "$TMP/out" \
   && grep -q 'median of 2 runs' "$TMP/out"; then
  ok "3 images at batch 2"; else bad "3 images at batch 2 ($tops top lines)"; fi
# The same image gives the same top-5 classes alone and inside a batch
# (probabilities may differ in the last digit: batched kernels sum in another order).
classes() { awk '/^  top/ { print $1, $3 }'; }
if diff <(classes <"$TMP/zoo_run.txt") <(sed -n "\|^$IMG/chelsea.jpg:|,+5p" "$TMP/out" | classes) >/dev/null; then
  ok "batched result equals the single-image result"; else bad "batched result equals the single-image result"; fi

# ---- a TensorProto input and --save-output (ONNX's softmax node test) ----
if [ -f "$NODE/test_softmax_example/model.onnx" ]; then
  z run --model "$NODE/test_softmax_example/model.onnx" --input "$NODE/test_softmax_example/test_data_set_0/input_0.pb" \
    --save-output "$TMP/out0.pb"
  # input [-1, 0, 1]: the output already sums to 1, so it is printed as is.
  if [ $rc -eq 0 ] && grep -q '^  top1: class    2  p=0.6652' "$TMP/out" && grep -q '^  top3: class    0  p=0.0900' "$TMP/out" \
     && [ -s "$TMP/out0.pb" ]; then
    ok "run --input (TensorProto) and --save-output"; else bad "run --input (TensorProto) and --save-output"; fi
  z run --model "$NODE/test_softmax_example/model.onnx" --input "$TMP/out0.pb"
  if [ $rc -eq 0 ] && grep -q '^  top1: class    2' "$TMP/out"; then
    ok "a saved output reads back as an input"; else bad "a saved output reads back as an input"; fi
  expect_fail "--input of the wrong shape" 1 "does not match" \
    run --model mobilenet_v2 --input "$NODE/test_softmax_example/test_data_set_0/input_0.pb"
else
  echo "skip  --input tests (no ONNX test data at $NODE)"
fi

# ---- inspect ----
z inspect mobilenet_v2
arenas=$(grep -cE '^  batch +[0-9]+: arena [0-9]+ bytes' "$TMP/out")
if [ $rc -eq 0 ] && [ "$arenas" -eq 3 ] && grep -q 'packed weights [0-9]* bytes' "$TMP/out" && grep -q '^params: ' "$TMP/out"; then
  ok "inspect mobilenet_v2"; else bad "inspect mobilenet_v2 ($arenas arena lines)"; fi
z inspect "$TMP/mnv2.onnx" --backend ref --batch 4
if [ $rc -eq 0 ] && grep -qE '^  batch +4: arena' "$TMP/out" && [ "$(grep -c '^  batch ' "$TMP/out")" -eq 1 ]; then
  ok "inspect FILE --backend ref --batch 4"; else bad "inspect FILE --backend ref --batch 4"; fi

# ---- profile: per-step table, summary, overhead line; --json to a file and to stdout ----
z profile squeezenet1_1 --backend ref --batch 2 --runs 2 --warmup 0 --json "$TMP/prof.json"
rows=$(grep -cE '^ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ ' "$TMP/out")
if [ $rc -eq 0 ] && [ "$rows" -ge 10 ] && grep -q '^zenith profile: squeezenet1_1, backend ref, fp32, batch 2' "$TMP/out" \
   && grep -q '^by op type:' "$TMP/out" && grep -qE '^Conv +[0-9.]+ +[0-9.]+ +26$' "$TMP/out" \
   && grep -q '^sum of step medians' "$TMP/out" && grep -q '^plain run median' "$TMP/out" && [ -s "$TMP/prof.json" ]; then
  ok "profile squeezenet1_1 (ref, batch 2)"; else bad "profile squeezenet1_1 (ref, batch 2; $rows step rows)"; fi
if command -v python3 >/dev/null; then
  if python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["batch"] == 2 and len(d["steps"]) == '"$rows"' \
       and all(s["kernel"] and s["median_ms"] >= 0 and len(s["nodes"]) == 1 for s in d["steps"])' "$TMP/prof.json"; then
    ok "profile --json FILE parses, one entry per table row"; else bad "profile --json FILE parses"; fi
  z profile squeezenet1_1 --backend ref --runs 1 --warmup 0 --json -
  if [ $rc -eq 0 ] && python3 -c 'import json, sys; json.load(sys.stdin)' <"$TMP/out"; then
    ok "profile --json - writes only JSON to stdout"; else bad "profile --json - writes only JSON to stdout"; fi
else
  echo "skip  profile --json checks (no python3)"
fi

# ---- profile --precision bf16: the accuracy against fp32 after the table (onednn with bf16 only) ----
z profile squeezenet1_1 --backend onednn --precision bf16 --runs 1 --warmup 0 --accuracy-images 3 --json "$TMP/bf16.json"
if [ $rc -ne 0 ] && grep -qE "unknown backend 'onednn'|AVX512-BF16|bf16 is not supported|unsupported hardware" "$TMP/err"; then
  echo "skip  profile --precision bf16 (onednn not built or no bf16 on this CPU: $(head -1 "$TMP/err"))"
elif [ $rc -eq 0 ] && grep -qE '^bf16 vs fp32 \(squeezenet1_1, 3 seeded inputs\): max rel err [0-9.e+-]+, top-1 [0-9.]+%, top-5 [0-9.]+%$' "$TMP/out" \
     && { ! command -v python3 >/dev/null || python3 -c 'import json, sys; a = json.load(open(sys.argv[1]))["accuracy"]; \
          assert a["images"] == 3 and a["classes"] == 1000 and 0 < a["max_rel_err"] < 0.25 \
          and 0 <= a["top1_agreement"] <= a["top5_agreement"] <= 1' "$TMP/bf16.json"; }; then
  ok "profile --precision bf16 reports accuracy against fp32"
else
  bad "profile --precision bf16 reports accuracy against fp32"
fi

# ---- bad inputs: clear message, non-zero exit, no crash ----
echo "this is not a model" >"$TMP/text.onnx"
expect_fail "missing model file" 1 "$TMP/missing.onnx" run --model "$TMP/missing.onnx" --image "$IMG/chelsea.jpg"
expect_fail "a text file as model" 1 "zenith: " run --model "$TMP/text.onnx" --image "$IMG/chelsea.jpg"
expect_fail "truncated.jpg" 1 "truncated.jpg" run --model mobilenet_v2 --image "$SRC/tests/data/images/truncated.jpg"
expect_fail "a text file as image" 1 "not an image" run --model mobilenet_v2 --image "$IMG/SOURCES.md"
expect_fail "a missing image" 1 "$IMG/nope.jpg" run --model mobilenet_v2 --image "$IMG/nope.jpg"
expect_fail "unknown backend" 2 "unknown backend 'tpu'" run --model mobilenet_v2 --backend tpu --image "$IMG/chelsea.jpg"
expect_fail "--batch 0" 2 "--batch must be" run --model mobilenet_v2 --batch 0 --image "$IMG/chelsea.jpg"
expect_fail "--batch 1000000000" 2 "--batch must be" run --model mobilenet_v2 --batch 1000000000 --image "$IMG/chelsea.jpg"
expect_fail "--batch abc" 2 "--batch must be" run --model mobilenet_v2 --batch abc --image "$IMG/chelsea.jpg"
expect_fail "--top 0" 2 "--top must be" run --model mobilenet_v2 --top 0 --image "$IMG/chelsea.jpg"
expect_fail "--threads without a value" 2 "--threads needs a value" run --model mobilenet_v2 --image "$IMG/chelsea.jpg" --threads
expect_fail "missing labels file" 1 "$TMP/nolabels.txt" run --model mobilenet_v2 --labels "$TMP/nolabels.txt" --image "$IMG/chelsea.jpg"
expect_fail "inspect a missing file" 1 "$TMP/missing.onnx" inspect "$TMP/missing.onnx"
expect_fail "inspect unknown backend" 2 "unknown backend" inspect mobilenet_v2 --backend tpu
expect_fail "inspect --batch 0" 2 "--batch must be" inspect mobilenet_v2 --batch 0
expect_fail "profile an unknown model" 1 "not a zoo model" profile no_such_net
expect_fail "profile without a model" 2 "MODEL is required" profile --runs 2
expect_fail "profile --runs 0" 2 "--runs must be" profile squeezenet1_1 --runs 0
expect_fail "profile --batch 1000000" 2 "--batch must be" profile squeezenet1_1 --batch 1000000
expect_fail "profile unknown backend" 2 "unknown backend 'tpu'" profile squeezenet1_1 --backend tpu
expect_fail "profile --precision fp16" 2 "--precision must be" profile squeezenet1_1 --precision fp16
expect_fail "profile --accuracy-images -1" 2 "--accuracy-images must be" profile squeezenet1_1 --accuracy-images -1
expect_fail "profile --json to an unwritable path" 1 "failed to open" \
  profile squeezenet1_1 --backend ref --runs 1 --warmup 0 --json "$TMP/no/such/dir/p.json"
expect_fail "export to an unwritable path" 1 "zenith: " zoo export mobilenet_v2 "$TMP/no/such/dir/x.onnx"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
