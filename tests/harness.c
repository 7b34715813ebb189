/* Entry point shared by every test binary: runs zn_test_main() and prints the tally. */
#include "harness.h"
#include <math.h>
#include <stdlib.h>
#include "zenith.h"

int zn_test_failures;
int zn_test_checks;

const char *zn_test_source_path(const char *rel) {
  static char buf[4096];
  const char *root = getenv("ZN_SOURCE_DIR");
  snprintf(buf, sizeof buf, "%s/%s", root ? root : "..", rel);
  return buf;
}

uint64_t zn_test_rand_u64(uint64_t *s) {
  uint64_t x = *s += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

float zn_test_rand_uniform(uint64_t *s, float lo, float hi) {
  return lo + (hi - lo) * (float)((zn_test_rand_u64(s) >> 40) * (1.0 / 16777216.0));
}

void *zn_test_failing_alloc(void *ctx, size_t alignment, size_t size) {
  zn_test_failing *f = ctx;
  if (f->count++ >= f->fail_at) return NULL;
  void *p = NULL;
  return posix_memalign(&p, alignment, size ? size : alignment) == 0 ? p : NULL;
}

void zn_test_failing_free(void *ctx, void *ptr) {
  (void)ctx;
  free(ptr);
}

int main(void) {
  int rc = zn_test_main();
  printf("checks: %d passed, %d failed\n", zn_test_checks - zn_test_failures, zn_test_failures);
  return (rc != 0 || zn_test_failures != 0) ? 1 : 0;
}

double zn_test_rel_err(const float *got, const float *ref, int64_t n) {
  double maxd = 0, maxr = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)ref[i]);
    if (isnan(got[i]) != isnan(ref[i])) d = INFINITY;
    if (d > maxd) maxd = d;
    if (fabs((double)ref[i]) > maxr) maxr = fabs((double)ref[i]);
  }
  return maxr > 0 ? maxd / maxr : maxd;
}
