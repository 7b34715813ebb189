/* zn_vmath_erf_f32 / zn_vmath_tanh_f32 (backend/vmath.h) against libm in
 * double: a sweep of float bit patterns of both signs (every 61st pattern;
 * ZN_VMATH_EXHAUSTIVE=1 takes every non-negative one), a dense grid over [-10, 10], and the
 * special values (0, -0, denormals, the clamps' neighbours, +-huge, +-inf,
 * NaN). Evaluated through a ZN_SIMD loop, as the xnnpack backend does. */
#include <stdlib.h>

#include "backend/vmath.h"
#include "core/common.h"
#include "harness.h"

/* Tolerances: erf absolute (ulp(1) is 1.19e-7), tanh relative. The maxima
 * over every float (ZN_VMATH_EXHAUSTIVE=1) are 4.53e-7 at x = 3.406 and
 * 3.62e-7 at x = 8.700: the fits are 7e-8 and 4e-8, the rest is the float
 * rounding of the ~20 operations. */
#define ERF_ABS_TOL 5.0e-7
#define TANH_REL_TOL 4.0e-7

#define CHUNK 4096

static void erf_rows(const float *x, float *y, size_t n) {
  ZN_SIMD
  for (size_t i = 0; i < n; i++) y[i] = zn_vmath_erf_f32(x[i]);
}

static void tanh_rows(const float *x, float *y, size_t n) {
  ZN_SIMD
  for (size_t i = 0; i < n; i++) y[i] = zn_vmath_tanh_f32(x[i]);
}

typedef struct sweep {
  double erf_max, tanh_max;
  float erf_at, tanh_at;
  long bad_erf, bad_tanh; /* points beyond tolerance, NaN mismatches included */
} sweep;

static float from_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static void check_chunk(sweep *s, const float *x, size_t n) {
  float ye[CHUNK], yt[CHUNK];
  erf_rows(x, ye, n);
  tanh_rows(x, yt, n);
  for (size_t i = 0; i < n; i++) {
    const double e = erf((double)x[i]), t = tanh((double)x[i]);
    const double de = isnan(e) != isnan(ye[i]) ? INFINITY : isnan(e) ? 0.0 : fabs(ye[i] - e);
    const double dt = isnan(t) != isnan(yt[i]) ? INFINITY : isnan(t) ? 0.0 : t == 0.0 ? fabs(yt[i]) : fabs(yt[i] / t - 1.0);
    if (de > s->erf_max) s->erf_max = de, s->erf_at = x[i];
    if (dt > s->tanh_max) s->tanh_max = dt, s->tanh_at = x[i];
    s->bad_erf += !(de <= ERF_ABS_TOL);
    s->bad_tanh += !(dt <= TANH_REL_TOL);
    /* Odd, bounded by 1, and the sign of x (so Gelu's 1 + erf is never negative). */
    s->bad_erf += !isnan(x[i]) && !(fabsf(ye[i]) <= 1.0f && signbit(ye[i]) == signbit(x[i]));
    s->bad_tanh += !isnan(x[i]) && !(fabsf(yt[i]) <= 1.0f && signbit(yt[i]) == signbit(x[i]));
  }
}

static void report(const char *what, const sweep *s) {
  printf("%s: erf max abs err %.3g at %.9g, tanh max rel err %.3g at %.9g\n", what, s->erf_max, (double)s->erf_at,
         s->tanh_max, (double)s->tanh_at);
  CHECK_EQ_INT(s->bad_erf, 0);
  CHECK_EQ_INT(s->bad_tanh, 0);
  CHECK(s->erf_max <= ERF_ABS_TOL);
  CHECK(s->tanh_max <= TANH_REL_TOL);
}

/* Both functions compute on |x| and copy x's sign, so the exhaustive run
 * takes the non-negative half; the default run strides over both signs. */
static void test_bit_sweep(void) {
  const char *ex = getenv("ZN_VMATH_EXHAUSTIVE");
  const bool all = ex && *ex == '1';
  const uint64_t step = all ? 1 : 61, last = all ? 0x7FFFFFFFull : 0xFFFFFFFFull;
  sweep s = {0};
  float x[CHUNK];
  size_t n = 0;
  for (uint64_t u = 0; u <= last; u += step) {
    x[n++] = from_bits((uint32_t)u);
    if (n == CHUNK) check_chunk(&s, x, n), n = 0;
  }
  check_chunk(&s, x, n);
  report(all ? "every float >= +0 (and NaN)" : "every 61st float", &s);
}

static void test_dense_grid(void) {
  sweep s = {0};
  float x[CHUNK];
  size_t n = 0;
  for (long i = -1000000; i <= 1000000; i++) {
    x[n++] = (float)i * 1e-5f;
    if (n == CHUNK) check_chunk(&s, x, n), n = 0;
  }
  check_chunk(&s, x, n);
  report("grid [-10, 10] step 1e-5", &s);
}

static void test_specials(void) {
  const float tiny = 1e-30f, denorm = from_bits(1), denorm_big = from_bits(0x007FFFFF);
  const float xs[] = {0.0f, -0.0f, tiny, -tiny, denorm, -denorm, denorm_big, -denorm_big, 1e-4f, -1e-4f,
                      nextafterf(ZN_VMATH_ERF_CLAMP, 0), ZN_VMATH_ERF_CLAMP, nextafterf(ZN_VMATH_TANH_CLAMP, 0),
                      ZN_VMATH_TANH_CLAMP, 1e19f, -1e19f, 1e30f, -1e30f, 3.4e38f, -3.4e38f, INFINITY, -INFINITY, NAN,
                      -NAN};
  const size_t n = ZN_ARRAY_SIZE(xs);
  float ye[ZN_ARRAY_SIZE(xs)], yt[ZN_ARRAY_SIZE(xs)];
  erf_rows(xs, ye, n);
  tanh_rows(xs, yt, n);
  sweep s = {0};
  check_chunk(&s, xs, n);
  report("special values", &s);
  /* Exact where libm is exact. */
  for (size_t i = 0; i < n; i++) {
    const float x = xs[i];
    if (isnan(x)) {
      CHECK(isnan(ye[i]) && isnan(yt[i]));
    } else if (x == 0.0f) {
      CHECK(ye[i] == 0.0f && signbit(ye[i]) == signbit(x));
      CHECK(yt[i] == 0.0f && signbit(yt[i]) == signbit(x));
    } else if (fabsf(x) >= 1e19f) {
      CHECK(ye[i] == copysignf(1.0f, x));
      CHECK(yt[i] == copysignf(1.0f, x));
    } else if (fabsf(x) < 1e-20f) {
      CHECK(yt[i] == x); /* tanh(x) = x in float there */
    }
  }
  /* Gelu's lower tail stays at zero or just below, never positive. */
  for (float x = -20.0f; x < 0.0f; x += 0.125f) CHECK(x * (1.0f + zn_vmath_erf_f32(x * 0.707106769f)) * 0.5f <= 0.0f);
}

int zn_test_main(void) {
  test_specials();
  test_dense_grid();
  test_bit_sweep();
  return 0;
}
