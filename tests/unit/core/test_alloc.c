/* The default allocator: every block is 64-byte aligned and fully usable;
 * blocks of 2 MiB or more are 2 MiB-aligned mappings (outside sanitizer
 * builds) that free() returns whatever order they are freed in, also from
 * two threads at once; absurd sizes fail with NULL instead of crashing. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

#include "core/alloc.h"

#define MIB ((size_t)1 << 20)

static bool all_bytes(const unsigned char *p, size_t n, unsigned char v) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != v) return false;
  return true;
}

static void test_sizes(void) {
  static const size_t sizes[] = {0, 1, 63, 4096, 2 * MIB - 1, 2 * MIB, 2 * MIB + 1, 5 * MIB + 4097};
  void *blocks[sizeof sizes / sizeof sizes[0]];
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char *p = blocks[i] = zn_alloc_aligned(sizes[i]);
    CHECK(p != NULL);
    if (!p) continue;
    CHECK_EQ_INT((uintptr_t)p % ZN_ALIGNMENT, 0);
#ifndef ZN_SANITIZE
    if (sizes[i] >= 2 * MIB) CHECK_EQ_INT((uintptr_t)p % (2 * MIB), 0);
#endif
    memset(p, (int)(i + 1), sizes[i]);
  }
  /* No block overwrote another. */
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    if (blocks[i]) CHECK(all_bytes(blocks[i], sizes[i], (unsigned char)(i + 1)));
  /* Freed out of order: middle, first, last, the rest. */
  zn_free_aligned(blocks[5]);
  zn_free_aligned(blocks[0]);
  zn_free_aligned(blocks[7]);
  for (size_t i = 1; i < 7; i++)
    if (i != 5) zn_free_aligned(blocks[i]);
  zn_free_aligned(NULL);
}

static void test_calloc_big(void) {
  for (int round = 0; round < 3; round++) {
    unsigned char *p = zn_calloc_aligned(3 * MIB + 100);
    CHECK(p != NULL);
    if (!p) return;
    CHECK(all_bytes(p, 3 * MIB + 100, 0));
    memset(p, 0xab, 3 * MIB + 100); /* the next round must not see this */
    zn_free_aligned(p);
  }
}

static void test_absurd(void) {
  CHECK(zn_alloc_aligned(SIZE_MAX) == NULL);
  CHECK(zn_alloc_aligned(SIZE_MAX - 4096) == NULL);
  CHECK(zn_alloc_aligned((size_t)1 << 62) == NULL);
  CHECK(zn_malloc(SIZE_MAX) == NULL);
}

static void *churn(void *arg) {
  const unsigned char tag = (unsigned char)(uintptr_t)arg;
  int bad = 0;
  for (int i = 0; i < 40; i++) {
    const size_t n = (2 + (size_t)(i % 3)) * MIB + (size_t)i * 4096;
    unsigned char *a = zn_alloc_aligned(n), *b = zn_alloc_aligned(64);
    if (!a || !b) {
      bad++;
    } else {
      memset(a, tag, n);
      if (!all_bytes(a, n, tag)) bad++;
    }
    zn_free_aligned(b);
    zn_free_aligned(a);
  }
  return (void *)(intptr_t)bad;
}

static void test_threads(void) {
  pthread_t t[2];
  for (uintptr_t i = 0; i < 2; i++) CHECK_EQ_INT(pthread_create(&t[i], NULL, churn, (void *)(i + 1)), 0);
  for (int i = 0; i < 2; i++) {
    void *bad = NULL;
    CHECK_EQ_INT(pthread_join(t[i], &bad), 0);
    CHECK_EQ_INT((intptr_t)bad, 0);
  }
}

int zn_test_main(void) {
  test_sizes();
  test_calloc_big();
  test_absurd();
  test_threads();
  return 0;
}
