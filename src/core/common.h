/* Shared internal macros: visibility, error propagation, unreachable. */
#ifndef ZN_CORE_COMMON_H
#define ZN_CORE_COMMON_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zenith.h"

/* Internal non-static symbols: hidden from the shared library's ABI. */
#define ZN_INTERNAL __attribute__((visibility("hidden")))
#define ZN_PUBLIC __attribute__((visibility("default")))

#define ZN_UNREACHABLE() do { assert(!"unreachable"); __builtin_unreachable(); } while (0)
#define ZN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Before a loop: vectorize it (GCC's -O2 cost model leaves loops of unknown
 * trip count scalar). An OpenMP pragma, so a no-op without -fopenmp or
 * -fopenmp-simd (which defines no macro: the build adds ZN_OPENMP_SIMD with
 * it); off under clang, which vectorizes these loops unasked at -O2 and, in
 * builds that turn vectorization off (the fuzzers), warns that it could not. */
#if (defined(_OPENMP) || defined(ZN_OPENMP_SIMD)) && !defined(__clang__)
#define ZN_SIMD _Pragma("omp simd")
#else
#define ZN_SIMD
#endif
/* Before a hot loop's function: the build is portable (no -march), so x86-64
 * gets AVX-512 and AVX2 clones of it, picked at load time. */
#if defined(__x86_64__) && defined(__GNUC__)
#define ZN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ZN_CLONES
#endif
#define ZN_MIN(a, b) ((a) < (b) ? (a) : (b))
#define ZN_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Propagate a failing status (the message is already recorded). */
#define ZN_TRY(expr) do { zn_status zn_try_st_ = (expr); if (zn_try_st_ != ZN_OK) return zn_try_st_; } while (0)

#endif
