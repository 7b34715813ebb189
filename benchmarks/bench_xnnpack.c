/* xnnpack backend figures: images/s of zoo models at a batch size and thread
 * count (median of repetitions, alternating with onednn when it is built, as
 * PITFALLS.md asks), and the memory of K instances of one model (RSS growth
 * per instance: this XNNPACK packs weights into every instance's operators).
 * Usage: bench_xnnpack [seconds per repetition (default 1)] [reps (default 5)]
 *                      [batch (default 1)] [threads (default 1)] [models...] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/time.h"
#include "zenith.h"

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kib = atol(line + 6);
  if (f) fclose(f);
  return kib;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* images/s over one timed window of about `seconds`, after warm-up runs. */
static double measure(zn_instance *inst, const void *const *in, void *const *out, int64_t batch, double seconds) {
  const zn_time_ns end = zn_now_ns() + (zn_time_ns)(seconds * 1e9);
  int64_t runs = 0;
  const zn_time_ns t0 = zn_now_ns();
  do {
    if (zn_instance_run(inst, in, out) != ZN_OK) return -1;
    runs++;
  } while (zn_now_ns() < end);
  return (double)(runs * batch) / ((double)(zn_now_ns() - t0) * 1e-9);
}

typedef struct engine {
  const char *backend;
  zn_model *model;
  zn_instance *inst;
  double ips[64];
} engine;

int main(int argc, char **argv) {
  const double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  const int reps = argc > 2 ? atoi(argv[2]) : 5;
  const int64_t batch = argc > 3 ? atoll(argv[3]) : 1;
  const int threads = argc > 4 ? atoi(argv[4]) : 1;
  static const char *default_models[] = {"mobilenet_v1", "mobilenet_v2", "resnet18"};
  const char **models = argc > 5 ? (const char **)argv + 5 : default_models;
  const int num_models = argc > 5 ? argc - 5 : 3;
  if (seconds <= 0 || reps < 1 || reps > 64 || batch < 1 || threads < 1) {
    fprintf(stderr, "usage: %s [seconds] [reps<=64] [batch] [threads] [models...]\n", argv[0]);
    return 2;
  }
  zn_log_set(NULL, NULL, ZN_LOG_WARN);
  const bool have_onednn = strcmp(zn_backend_resolve("onednn"), "onednn") == 0 && zn_backend_count() > 1;
  printf("model           backend   batch threads  images/s (median of %d)   min..max    GFLOP/s\n", reps);
  for (int mi = 0; mi < num_models; mi++) {
    engine e[2] = {{.backend = "xnnpack"}, {.backend = "onednn"}};
    const int ne = have_onednn ? 2 : 1;
    void *in = NULL, *out = NULL;
    bool ok = true;
    for (int k = 0; k < ne && ok; k++) {
      zn_model_options mo = zn_model_options_default();
      mo.backend = e[k].backend;
      zn_instance_options io = zn_instance_options_default();
      io.batch = batch;
      io.num_threads = threads;
      ok = zn_model_from_zoo(models[mi], 1, &mo, &e[k].model) == ZN_OK &&
           zn_instance_create(e[k].model, &io, &e[k].inst) == ZN_OK;
      if (ok && !in) {
        in = calloc(1, zn_instance_input_bytes(e[k].inst, 0));
        out = calloc(1, zn_instance_output_bytes(e[k].inst, 0));
        ok = in && out;
      }
    }
    if (!ok) {
      fprintf(stderr, "%s: %s\n", models[mi], zn_last_error());
      return 1;
    }
    const void *ins[1] = {in};
    void *outs[1] = {out};
    for (int k = 0; k < ne; k++) measure(e[k].inst, ins, outs, batch, 0.3); /* warm-up */
    for (int r = 0; r < reps; r++)
      for (int k = 0; k < ne; k++) e[k].ips[r] = measure(e[k].inst, ins, outs, batch, seconds);
    for (int k = 0; k < ne; k++) {
      qsort(e[k].ips, (size_t)reps, sizeof(double), cmp_double);
      const double med = e[k].ips[reps / 2];
      printf("%-15s %-8s %5lld %7d  %10.1f %18s %6.1f..%-6.1f %7.1f\n", models[mi], e[k].backend, (long long)batch,
             threads, med, "", e[k].ips[0], e[k].ips[reps - 1],
             med * 2.0 * (double)zn_model_macs_per_image(e[k].model) * 1e-9);
      zn_instance_destroy(e[k].inst);
      zn_model_destroy(e[k].model);
    }
    free(in);
    free(out);
  }
  /* Memory: RSS growth for K instances of resnet50 on xnnpack. */
  zn_model_options mo = zn_model_options_default();
  mo.backend = "xnnpack";
  zn_model *m = NULL;
  const long base = rss_kib();
  if (zn_model_from_zoo("resnet50", 1, &mo, &m) != ZN_OK) {
    fprintf(stderr, "resnet50: %s\n", zn_last_error());
    return 1;
  }
  const long after_model = rss_kib();
  printf("\nresnet50 on xnnpack: model (graph + compile) RSS +%ld KiB, weight_bytes %zu\n", after_model - base,
         zn_model_weight_bytes(m));
  zn_instance *insts[8] = {0};
  long prev = after_model;
  for (int k = 0; k < 8; k++) {
    zn_instance_options io = zn_instance_options_default();
    if (zn_instance_create(m, &io, &insts[k]) != ZN_OK) {
      fprintf(stderr, "instance %d: %s\n", k, zn_last_error());
      break;
    }
    const long now = rss_kib();
    printf("  instance %d: RSS +%ld KiB (arena %zu KiB at batch 1; the rest is XNNPACK's packed weights + setup)\n",
           k + 1, now - prev, zn_instance_arena_bytes(insts[k]) / 1024);
    prev = now;
  }
  printf("  8 instances: RSS +%ld KiB over the model\n", prev - after_model);
  for (int k = 0; k < 8; k++) zn_instance_destroy(insts[k]);
  zn_model_destroy(m);
  return 0;
}
