/* A tiny test harness: checks print file:line and the values, and a test
 * binary exits non-zero if any check failed. Each test file defines
 * zn_test_main(); long tests mention ZN_TEST_SLOW so CTest labels them "slow". */
#ifndef ZN_TEST_HARNESS_H
#define ZN_TEST_HARNESS_H
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern int zn_test_failures;
extern int zn_test_checks;

#define CHECK(cond) do { zn_test_checks++; if (!(cond)) { zn_test_failures++; \
  fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_EQ_INT(a, b) do { long long va_ = (long long)(a), vb_ = (long long)(b); zn_test_checks++; \
  if (va_ != vb_) { zn_test_failures++; fprintf(stderr, "%s:%d: %s == %s failed: %lld vs %lld\n", \
  __FILE__, __LINE__, #a, #b, va_, vb_); } } while (0)
#define CHECK_NEAR(a, b, tol) do { double va_ = (double)(a), vb_ = (double)(b); zn_test_checks++; \
  if (!(fabs(va_ - vb_) <= (tol))) { zn_test_failures++; fprintf(stderr, "%s:%d: |%s - %s| <= %g failed: %.9g vs %.9g\n", \
  __FILE__, __LINE__, #a, #b, (double)(tol), va_, vb_); } } while (0)
#define CHECK_STATUS(expr, expected) do { int st_ = (int)(expr); zn_test_checks++; \
  if (st_ != (int)(expected)) { zn_test_failures++; fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s; last error: %s\n", \
  __FILE__, __LINE__, #expr, st_, zn_status_string((zn_status)st_), #expected, zn_last_error()); } } while (0)
#define CHECK_OK(expr) CHECK_STATUS(expr, ZN_OK)
/* The last error message must contain the given text. */
#define CHECK_ERROR_HAS(text) do { zn_test_checks++; if (!strstr(zn_last_error(), (text))) { zn_test_failures++; \
  fprintf(stderr, "%s:%d: last error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, zn_last_error(), (text)); } } while (0)

/* Path of a file under the source tree (tests run from the build folder). */
const char *zn_test_source_path(const char *rel);
/* Deterministic RNG for test data. */
uint64_t zn_test_rand_u64(uint64_t *state);
float zn_test_rand_uniform(uint64_t *state, float lo, float hi);
/* max |got - ref| / max |ref| over n values (max |got - ref| when ref is all
 * zero); a NaN on one side only counts as infinite. */
double zn_test_rel_err(const float *got, const float *ref, int64_t n);

/* An allocator for zn_allocator_set (core/alloc.h) that fails allocation
 * number fail_at (0-based) and every one after it, counting the calls:
 * {&f, zn_test_failing_alloc, zn_test_failing_free} with f a zn_test_failing. */
typedef struct zn_test_failing { long count, fail_at; } zn_test_failing;
void *zn_test_failing_alloc(void *ctx, size_t alignment, size_t size);
void zn_test_failing_free(void *ctx, void *ptr);

int zn_test_main(void);
#endif
