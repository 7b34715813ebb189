/* Branch-free float erf and tanh that GCC vectorises (SSE/AVX/AVX-512 and
 * NEON alike), for activation loops the backend library has no f32 operator
 * for (xnnpack's Gelu and Tanh). libm's erff/tanhf are calls, so a loop over
 * them stays scalar; ref keeps them as the oracle. */
#ifndef ZN_BACKEND_VMATH_H
#define ZN_BACKEND_VMATH_H

#include <math.h>

/* Both are odd rational functions x * P(x^2) / Q(x^2) whose coefficients were
 * fitted by scripts/fit_vmath.py (near-minimax, erf on absolute and tanh on
 * relative error), evaluated in float with no FMA needed. Past the clamp, the
 * float result of erf/tanh rounds to +-1, and the result is exactly +-1
 * there; +-inf gives +-1, NaN gives NaN, -0 gives -0. Errors measured against
 * libm in double over every float (tests/unit/backend/test_vmath.c): erf max
 * abs error 4.53e-7, tanh max rel error 3.62e-7 (the fits alone: 7e-8 and
 * 4e-8; the rest is float rounding). */
#define ZN_VMATH_ERF_CLAMP 3.925f /* erfc(3.925) < 2^-25 */
#define ZN_VMATH_TANH_CLAMP 9.02f /* 1 - tanh(9.02) < 2^-25 */

static inline float zn_vmath_erf_f32(float x) {
  const float a = fabsf(x), t = a * a;
  const float p = 1.12837875f + t * (0.206577316f + t * (0.051458139f + t * (0.00399151305f +
                  t * (0.000149341387f + t * (-1.99335523e-06f + t * 1.98691996e-08f)))));
  const float q = 1.0f + t * (0.516403079f + t * (0.117755465f + t * (0.0149280149f + t * 0.00102833717f)));
  const float r = a * p / q;
  /* Lanes past the clamp may hold inf/inf = NaN, replaced here; a NaN x fails
   * both comparisons and stays NaN. One select that reads r, so GCC does not
   * sink the division into a branch (a trapping op it will not if-convert
   * without masked vectors, so the loop would stay scalar). */
  return copysignf(((r > 1.0f) | (a >= ZN_VMATH_ERF_CLAMP)) ? 1.0f : r, x);
}

static inline float zn_vmath_tanh_f32(float x) {
  const float a = fabsf(x), t = a * a;
  const float p = 1.0f + t * (0.133797273f + t * (0.00349404337f + t * (2.05835349e-05f + t * 1.33189815e-08f)));
  const float q = 1.0f + t * (0.467130423f + t * (0.0258711129f + t * (0.000328310329f + t * 7.76201659e-07f)));
  const float r = a * p / q;
  return copysignf(((r > 1.0f) | (a >= ZN_VMATH_TANH_CLAMP)) ? 1.0f : r, x);
}

#endif
