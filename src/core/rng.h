/* Deterministic, seedable random numbers (splitmix64 + Box-Muller) for seeded
 * synthetic weights, calibration inputs and synthetic data sets. The same seed
 * gives the same stream on every platform. */
#ifndef ZN_CORE_RNG_H
#define ZN_CORE_RNG_H

#include <math.h>
#include <stdint.h>

typedef struct zn_rng { uint64_t state; } zn_rng;

static inline void zn_rng_init(zn_rng *r, uint64_t seed) { r->state = seed; }

static inline uint64_t zn_rng_u64(zn_rng *r) {
  uint64_t x = r->state += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

/* Uniform in [0, 1) with 24 bits. */
static inline float zn_rng_uniform(zn_rng *r) { return (float)(zn_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

/* Standard normal; uses two uniforms per call (no cached spare, so streams are simple). */
static inline float zn_rng_normal(zn_rng *r) {
  double u1 = ((double)(zn_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
  double u2 = (double)(zn_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
  return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

#endif
