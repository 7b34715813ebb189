#!/usr/bin/env bash
# Cross-compiles the xnnpack backend and its tests for arm64 with Debian's
# aarch64 toolchain and arm64 multiarch libraries, and runs the tests under
# qemu-user: ARM boards are where this backend lives.
#   scripts/cross-arm64.sh [--install] [--zoo "mobilenet_v2 resnet18"]
# --install  installs the cross toolchain and qemu-user (apt). The arm64
#            XNNPACK/pthreadpool/cpuinfo/protobuf-c runtime libraries are
#            unpacked into build-arm64/sysroot from `apt-get download`ed
#            .debs (their arm64 packages cannot be co-installed with the amd64
#            ones), and the host's headers (same versions) are used.
# --zoo      also runs test_xnnpack_zoo for the given models (slow under qemu).
# Runs test_xnnpack_ops, test_xnnpack_mobile, test_passes_numeric,
# test_layer_norm_gelu, test_vmath, test_partition (auto per node on xnnpack,
# the first choice there) and the ref backend's unit tests (test_ref_*) for
# arm64 and prints each result; exits non-zero if any fails. qemu emulates
# its "max" CPU; QEMU_CPU=cortex-a72 (Raspberry Pi 4) or cortex-a53 picks
# another core, and with it the XNNPACK kernels a board would use.
# Why the loader path is pinned: qemu's -L prefix supplies the cross
# toolchain's ld-linux-aarch64.so.1 (libc6-arm64-cross), but ld.so then reads
# the HOST's /etc/ld.so.cache; once any arm64 multiarch package is installed
# (libc6:arm64 comes with libcpuinfo0:arm64 etc.) that cache sends libc.so.6 to
# /lib/aarch64-linux-gnu, a different glibc build than the loader. The two
# disagree on the layout of the loader's private data, and the first
# pthread_create spins forever walking the stack cache list (it hung in
# pthreadpool_create, the first 2-thread test). LD_LIBRARY_PATH therefore
# lists the cross libc's directory so loader and libc always match.
# Builds with plain compiler calls into build-arm64/: only the layers the
# tests need (core, graph, onnx, zoo, backend ref + xnnpack, runtime).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/build-arm64"
ZOO=""
INSTALL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --install) INSTALL=1 ;;
    --zoo) ZOO="$2"; shift ;;
    *) echo "usage: $0 [--install] [--zoo \"model ...\"]" >&2; exit 2 ;;
  esac
  shift
done

if [ "$INSTALL" -eq 1 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
    protobuf-c-compiler libxnnpack-dev libpthreadpool-dev libprotobuf-c-dev
fi

CC=aarch64-linux-gnu-gcc
command -v "$CC" >/dev/null || { echo "cross-arm64: $CC not found (run with --install)" >&2; exit 1; }
command -v qemu-aarch64 >/dev/null || { echo "cross-arm64: qemu-aarch64 not found (run with --install)" >&2; exit 1; }
# The arm64 runtime libraries go into a private sysroot: libxnnpack0 and
# libpthreadpool0 are not Multi-Arch co-installable with the amd64 ones that
# the host build needs, so they are downloaded and unpacked, not installed.
SYSROOT="$OUT/sysroot"
LIBDIR="$SYSROOT/usr/lib/aarch64-linux-gnu"
if [ ! -e "$LIBDIR/libXNNPACK.so.0" ]; then
  mkdir -p "$OUT/debs" "$SYSROOT"
  (cd "$OUT/debs" && apt-get download libxnnpack0:arm64 libpthreadpool0:arm64 libcpuinfo0:arm64 libprotobuf-c1:arm64)
  for d in "$OUT"/debs/*.deb; do dpkg-deb -x "$d" "$SYSROOT"; done
fi
for f in libXNNPACK.so.0 libpthreadpool.so.0 libcpuinfo.so.0 libprotobuf-c.so.1; do
  [ -e "$LIBDIR/$f" ] || { echo "cross-arm64: missing $LIBDIR/$f" >&2; exit 1; }
done

mkdir -p "$OUT/gen/onnx" "$OUT/obj" "$OUT/hostinc"
# Only these arch-independent host headers: the rest comes from the cross libc.
for h in xnnpack.h pthreadpool.h protobuf-c; do ln -sfn "/usr/include/$h" "$OUT/hostinc/$h"; done
protoc-c --proto_path=/usr/include/onnx --c_out="$OUT/gen/onnx" /usr/include/onnx/onnx.proto
CFLAGS=(-std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -fvisibility=hidden -D_GNU_SOURCE
        -DZN_HAVE_XNNPACK=1 -I"$ROOT/include" -I"$ROOT/src" -I"$OUT/gen" -I"$OUT/hostinc")
SRCS=("$ROOT"/src/core/*.c "$ROOT"/src/graph/*.c "$ROOT"/src/onnx/*.c "$ROOT"/src/zoo/*.c
      "$ROOT"/src/backend/*.c "$ROOT"/src/backend/ref/*.c "$ROOT"/src/backend/xnnpack/*.c "$ROOT"/src/runtime/*.c)
OBJS=()
for s in "${SRCS[@]}"; do
  o="$OUT/obj/$(echo "${s#$ROOT/}" | tr '/' '_').o"
  extra=()
  case "$s" in */backend/ref/*) extra=(-O3) ;; */backend/xnnpack/*) extra=(-fopenmp-simd -DZN_OPENMP_SIMD=1) ;; esac
  "$CC" "${CFLAGS[@]}" "${extra[@]}" -c "$s" -o "$o"
  OBJS+=("$o")
done
"$CC" -std=c11 -O2 -w -I"$OUT/gen" -I"$OUT/hostinc" -c "$OUT/gen/onnx/onnx.pb-c.c" -o "$OUT/obj/onnx.pb-c.o"
OBJS+=("$OUT/obj/onnx.pb-c.o")
rm -f "$OUT/libzenith_arm64.a"
aarch64-linux-gnu-ar rcs "$OUT/libzenith_arm64.a" "${OBJS[@]}"
LIBS=("$OUT/libzenith_arm64.a" "$LIBDIR/libXNNPACK.so.0" "$LIBDIR/libpthreadpool.so.0" "$LIBDIR/libcpuinfo.so.0"
      "$LIBDIR/libprotobuf-c.so.1" -Wl,-rpath-link,"$LIBDIR" -lm -lpthread -ldl)
CROSSLIB=/usr/aarch64-linux-gnu/lib
QEMU=(timeout "${ZN_QEMU_TIMEOUT:-300}" qemu-aarch64 -L /usr/aarch64-linux-gnu -E LD_LIBRARY_PATH="$LIBDIR:$CROSSLIB")

status=0
TESTS=(test_xnnpack_ops test_xnnpack_mobile test_passes_numeric test_layer_norm_gelu test_vmath test_partition)
for f in "$ROOT"/tests/unit/backend/test_ref_*.c; do TESTS+=("$(basename "$f" .c)"); done
[ -z "$ZOO" ] || TESTS+=(test_xnnpack_zoo)
for t in "${TESTS[@]}"; do
  src="$ROOT/tests/unit/backend/$t.c"
  [ -f "$src" ] || src="$ROOT/tests/unit/runtime/$t.c"  # test_partition: auto per node, xnnpack + ref
  "$CC" "${CFLAGS[@]}" -I"$ROOT/tests" "$src" "$ROOT/tests/harness.c" -o "$OUT/$t" "${LIBS[@]}"
done
file "$OUT/test_xnnpack_ops" | sed 's/,.*BuildID.*//'
summary=()
for t in "${TESTS[@]}"; do
  echo "cross-arm64: running $t under qemu-aarch64"
  rc=0
  (cd "$OUT" && ZN_SOURCE_DIR="$ROOT" ZN_XNNPACK_ZOO_MODELS="$ZOO" "${QEMU[@]}" "./$t") || rc=$?
  if [ "$rc" -eq 0 ]; then summary+=("PASS $t"); else summary+=("FAIL $t (exit $rc)"); status=1; fi
done
echo "cross-arm64: summary (arm64 under qemu-aarch64)"
printf '  %s\n' "${summary[@]}"
exit $status
