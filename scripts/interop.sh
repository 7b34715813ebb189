#!/usr/bin/env bash
# Interop check: PyTorch's own ONNX exporter writes torchvision models (random
# weights, calibrated BatchNorm) at several opsets and batch forms, then zenith
# loads and runs each file on ref (and onednn, xnnpack where built) and compares the
# logits with PyTorch's. Used by `make test-interop`.
#   scripts/interop.sh [--all] [--force] [--backends ref,onednn,...] [CASE_PREFIX...]
#     --all       every model at opsets 11/13/17, dynamic and fixed batch (slow)
#     --force     re-export cases already in the cache ($ZN_INTEROP_DIR)
#     --backends  backends to compare (default: ref, then onednn and xnnpack where built)
# Exported cases are cached in $ZN_INTEROP_DIR (default build/interop); the
# runner is built in $ZN_INTEROP_BUILD (default build-interop) with -DZN_INTEROP=ON,
# so the default build and `make test` are untouched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${ZN_INTEROP_DIR:-$ROOT/build/interop}"
BUILD="${ZN_INTEROP_BUILD:-$ROOT/build-interop}"
JOBS="${JOBS:-$(nproc)}"
# Debian's own Python: the packages below install into it, not into a pyenv/venv.
PY="${ZN_INTEROP_PYTHON:-/usr/bin/python3}"

# Only for this check, so not in scripts/setup.sh.
INTEROP_PKGS=(python3-torch python3-torchvision python3-onnx python3-numpy)

export_args=()
runner_args=()
prefixes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all|--force) export_args+=("$1") ;;
    --backends) runner_args+=(--backends "$2"); shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) echo "interop: unknown option $1" >&2; exit 2 ;;
    *) prefixes+=("$1") ;;
  esac
  shift
done

missing=()
for p in "${INTEROP_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "interop: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ${#prefixes[@]} -gt 0 ]; then
  export_args+=(--only "$(IFS=,; echo "${prefixes[*]}")")
fi
mkdir -p "$OUT"
# The cases of this selection, so the runner checks exactly these (the cache
# may hold more from an earlier --all).
mapfile -t cases < <("$PY" "$ROOT/tests/interop/export_torchvision.py" "$OUT" --list "${export_args[@]}")
if [ ${#cases[@]} -eq 0 ]; then
  echo "interop: no case matches ${prefixes[*]}" >&2
  exit 2
fi

export_rc=0
# The exporter's own warnings (TracerWarning, ...) go to a log, not the terminal.
"$PY" "$ROOT/tests/interop/export_torchvision.py" "$OUT" "${export_args[@]}" 2>"$OUT/export.log" || export_rc=$?
[ $export_rc -eq 0 ] || echo "interop: some exports failed (see above and $OUT/export.log)"

if ! { cmake -S "$ROOT" -B "$BUILD" -DZN_INTEROP=ON && cmake --build "$BUILD" -j"$JOBS" --target zn_interop_run; } \
    >"$OUT/build.log" 2>&1; then
  tail -30 "$OUT/build.log"
  echo "interop: building the runner failed (full log: $OUT/build.log)" >&2
  exit 1
fi

run_rc=0
"$BUILD/zn_interop_run" "${runner_args[@]}" "$OUT" "${cases[@]}" || run_rc=$?
[ $export_rc -eq 0 ] && [ $run_rc -eq 0 ]
