/* Destroying an instance gives its arena's pages back to the OS, even when
 * glibc served the arena from the brk heap (its mmap threshold grown by the
 * big blocks freed while loading), where free() alone keeps them resident.
 * Checked on the resident set (/proc/self/statm); glibc only, and skipped
 * under the sanitizers (their allocator is not glibc's). */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "zenith.h"

#if defined(__GLIBC__) && !defined(ZN_SANITIZE)
static double rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long long pages = 0, resident = 0;
  if (!f) return -1;
  int n = fscanf(f, "%llu %llu", &pages, &resident);
  fclose(f);
  return n == 2 ? (double)resident * (double)sysconf(_SC_PAGESIZE) : -1;
}
#endif

int zn_test_main(void) {
#if !defined(__GLIBC__) || defined(ZN_SANITIZE)
  printf("skipped: needs glibc's allocator\n");
  return 0;
#else
  /* Free one 24 MiB block: glibc then serves blocks up to 24 MiB from the
   * heap, as it does after a model load frees the graph's weights. */
  size_t big = (size_t)24 << 20;
  char *p = malloc(big);
  CHECK(p != NULL);
  if (!p) return 0;
  memset(p, 1, big);
  free(p);

  zn_model *m = NULL;
  CHECK_OK(zn_model_from_zoo("mobilenet_v2", 1, NULL, &m));
  if (!m) return 0;
  zn_instance_options io = zn_instance_options_default();
  io.batch = 2;
  zn_instance *inst = NULL;
  CHECK_OK(zn_instance_create(m, &io, &inst));
  if (inst) {
    size_t arena = zn_instance_arena_bytes(inst);
    printf("backend %s, arena %zu bytes\n", zn_model_backend(m), arena);
    float *x = calloc(zn_instance_input_bytes(inst, 0), 1), *y = calloc(zn_instance_output_bytes(inst, 0), 1);
    const void *ins[1] = {x};
    void *outs[1] = {y};
    if (x && y) CHECK_OK(zn_instance_run(inst, ins, outs)); /* touches the arena */
    free(x);
    free(y);
    double before = rss_bytes();
    zn_instance_destroy(inst);
    double after = rss_bytes();
    printf("RSS %.0f -> %.0f bytes\n", before, after);
    /* Most of the arena's pages were touched by the run; all must be gone. */
    if (arena >= ((size_t)2 << 20)) CHECK(before - after >= 0.5 * (double)arena);
  }
  zn_model_destroy(m);
  return 0;
#endif
}
