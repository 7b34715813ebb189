/* The arena planner: random interval sets must never put two buffers that are
 * live together on overlapping bytes, offsets are aligned, and the arena is
 * never larger than the sum of the (aligned) sizes. */
#include "harness.h"

#include "core/arena.h"

#include <stdlib.h>

#include "core/alloc.h"

static size_t round64(size_t n) { return (n + 63) / 64 * 64; }

static void check_plan(zn_arena_request *r, size_t n, size_t total, const char *what) {
  size_t naive = 0;
  for (size_t i = 0; i < n; i++) {
    naive += round64(r[i].size_bytes);
    if (r[i].offset % ZN_ARENA_ALIGNMENT) { CHECK(!"offset aligned"); fprintf(stderr, "  %s: request %zu\n", what, i); }
    if (r[i].size_bytes && r[i].offset + r[i].size_bytes > total) {
      CHECK(!"inside arena");
      fprintf(stderr, "  %s: request %zu\n", what, i);
    }
  }
  CHECK(total <= naive);
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      if (!r[i].size_bytes || !r[j].size_bytes) continue;
      bool live_together = !(r[i].last < r[j].first || r[j].last < r[i].first);
      bool overlap = r[i].offset < r[j].offset + r[j].size_bytes && r[j].offset < r[i].offset + r[i].size_bytes;
      if (live_together && overlap) {
        zn_test_failures++;
        fprintf(stderr, "%s: requests %zu [%lld,%lld]@%zu+%zu and %zu [%lld,%lld]@%zu+%zu overlap\n", what, i,
                (long long)r[i].first, (long long)r[i].last, r[i].offset, r[i].size_bytes, j, (long long)r[j].first,
                (long long)r[j].last, r[j].offset, r[j].size_bytes);
      }
      zn_test_checks++;
    }
}

static void test_chain(void) {
  /* A chain a->b->c->d: each value lives two steps; two slots suffice. */
  zn_arena_request r[4];
  for (int i = 0; i < 4; i++) r[i] = (zn_arena_request){i, i + 1, 1000, 0};
  size_t total;
  CHECK_OK(zn_arena_plan(r, 4, &total));
  check_plan(r, 4, total, "chain");
  CHECK_EQ_INT(total, 2 * round64(1000));
}

static void test_all_live(void) {
  zn_arena_request r[3] = {{0, 5, 10, 0}, {0, 5, 100, 0}, {2, 3, 64, 0}};
  size_t total;
  CHECK_OK(zn_arena_plan(r, 3, &total));
  check_plan(r, 3, total, "all live");
  CHECK_EQ_INT(total, 64 + 128 + 64);
}

static void test_gap_reuse(void) {
  /* Big buffers at [0,1] and [3,4] share memory; the small one at [1,3] must
   * not land on either of them. */
  zn_arena_request r[3] = {{0, 1, 4096, 0}, {3, 4, 4096, 0}, {1, 3, 64, 0}};
  size_t total;
  CHECK_OK(zn_arena_plan(r, 3, &total));
  check_plan(r, 3, total, "gap");
  CHECK_EQ_INT(r[0].offset, r[1].offset);
  CHECK_EQ_INT(total, 4096 + 64);
}

static void test_random(void) {
  uint64_t seed = 42;
  static zn_arena_request r[300];
  for (int trial = 0; trial < 50; trial++) {
    size_t n = 1 + zn_test_rand_u64(&seed) % 300;
    for (size_t i = 0; i < n; i++) {
      int64_t a = (int64_t)(zn_test_rand_u64(&seed) % 100), len = (int64_t)(zn_test_rand_u64(&seed) % 12);
      size_t size = zn_test_rand_u64(&seed) % 5 == 0 ? 0 : 1 + zn_test_rand_u64(&seed) % 100000;
      r[i] = (zn_arena_request){a, a + len, size, 12345};
    }
    size_t total;
    CHECK_OK(zn_arena_plan(r, n, &total));
    char what[32];
    snprintf(what, sizeof what, "random trial %d", trial);
    check_plan(r, n, total, what);
  }
}

static void test_errors(void) {
  zn_arena_request bad = {5, 4, 10, 0};
  size_t total = 7;
  CHECK_STATUS(zn_arena_plan(&bad, 1, &total), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("interval");
  CHECK_EQ_INT(total, 0);
  zn_arena_request huge[2] = {{0, 1, SIZE_MAX / 2, 0}, {0, 1, SIZE_MAX / 2, 0}};
  CHECK_STATUS(zn_arena_plan(huge, 2, &total), ZN_ERR_OUT_OF_MEMORY);
  CHECK_OK(zn_arena_plan(NULL, 0, &total));
  CHECK_EQ_INT(total, 0);
}

/* The planned total against the memory limit: ZN_MEMORY_LIMIT_KIB, else the
 * memory available now. */
static void test_limit(void) {
  CHECK(zn_memory_available() > 0);
  zn_arena_request r[2] = {{0, 1, 64 << 10, 0}, {1, 2, 64 << 10, 0}};
  size_t total = 0;
  setenv("ZN_MEMORY_LIMIT_KIB", "100", 1);
  CHECK_STATUS(zn_arena_plan(r, 2, &total), ZN_ERR_OUT_OF_MEMORY);
  CHECK_ERROR_HAS("100.0 KiB allowed by ZN_MEMORY_LIMIT_KIB");
  CHECK_EQ_INT(total, 0);
  setenv("ZN_MEMORY_LIMIT_KIB", "128", 1);
  CHECK_OK(zn_arena_plan(r, 2, &total));
  CHECK_EQ_INT(total, 128 << 10);
  /* 2^50 bytes: more than any machine here has, refused by default, planned
   * (not allocated) when the limit is off. */
  zn_arena_request big[2] = {{0, 1, (size_t)1 << 50, 0}, {1, 2, (size_t)1 << 50, 0}};
  setenv("ZN_MEMORY_LIMIT_KIB", "0", 1);
  CHECK_OK(zn_arena_plan(big, 2, &total));
  CHECK_EQ_INT(total, (size_t)2 << 50);
  unsetenv("ZN_MEMORY_LIMIT_KIB");
  CHECK_STATUS(zn_arena_plan(big, 2, &total), ZN_ERR_OUT_OF_MEMORY);
  CHECK_ERROR_HAS("of memory available");
}

int zn_test_main(void) {
  test_chain();
  test_all_live();
  test_gap_reuse();
  test_random();
  test_errors();
  test_limit();
  return 0;
}
