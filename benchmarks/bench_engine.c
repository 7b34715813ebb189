/* bench_engine: the engine's own tight loop — one model, one backend, a batch
 * size, threads per instance and a number of concurrent instances (one OS
 * thread each, sharing one compiled model) — printing one JSON line with the
 * throughput. The reference figure for harness overhead and the zenith side
 * of benchmarks/run_vs_ort.js. A benchmark: it prints, it never asserts.
 *
 * usage: bench_engine MODEL(.onnx|zoo name) [--backend B] [--batch N]
 *        [--threads T] [--instances I] [--seconds S] [--warmup W] [--precision fp32|bf16] */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zenith.h"

typedef struct worker {
  const zn_model *model;
  zn_instance *inst;
  float *in, *out;
  int warmup;
  double seconds;
  pthread_barrier_t *barrier;
  long batches;
  double wall_s;
  double *lat_ms;
  long lat_cap;
  zn_status st;
} worker;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void *work(void *arg) {
  worker *w = arg;
  const void *ins[1] = {w->in};
  void *outs[1] = {w->out};
  for (int i = 0; i < w->warmup && w->st == ZN_OK; i++) w->st = zn_instance_run(w->inst, ins, outs);
  pthread_barrier_wait(w->barrier);
  double t0 = now_s(), t = t0;
  while (w->st == ZN_OK && (t - t0 < w->seconds || w->batches < 3)) {
    double a = now_s();
    w->st = zn_instance_run(w->inst, ins, outs);
    t = now_s();
    if (w->batches < w->lat_cap) w->lat_ms[w->batches] = (t - a) * 1e3;
    w->batches++;
  }
  w->wall_s = t - t0;
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [--backend B] [--batch N] [--threads T] [--instances I] [--seconds S] [--warmup W] [--precision fp32|bf16]\n", argv[0]);
    return 2;
  }
  const char *model_arg = argv[1], *backend = "auto", *precision = "fp32";
  long batch = 1, threads = 1, instances = 1, warmup = 3;
  double seconds = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--backend")) backend = v;
    else if (!strcmp(k, "--batch")) batch = atol(v);
    else if (!strcmp(k, "--threads")) threads = atol(v);
    else if (!strcmp(k, "--instances")) instances = atol(v);
    else if (!strcmp(k, "--seconds")) seconds = atof(v);
    else if (!strcmp(k, "--warmup")) warmup = atol(v);
    else if (!strcmp(k, "--precision")) precision = v;
    else { fprintf(stderr, "bench_engine: unknown flag %s\n", k); return 2; }
  }
  if (batch < 1 || threads < 1 || instances < 1 || instances > 256) {
    fprintf(stderr, "bench_engine: bad batch/threads/instances\n");
    return 2;
  }
  zn_model_options mo = zn_model_options_default();
  mo.backend = backend;
  mo.precision = strcmp(precision, "bf16") == 0 ? ZN_PRECISION_BF16 : ZN_PRECISION_FP32;
  mo.tune_batch = batch;  /* a model compiled for the batch it is measured at */
  zn_model *model = NULL;
  size_t n = strlen(model_arg);
  zn_status st = n > 5 && strcmp(model_arg + n - 5, ".onnx") == 0 ? zn_model_load_file(model_arg, &mo, &model)
                                                                  : zn_model_from_zoo(model_arg, 1, &mo, &model);
  if (st != ZN_OK) {
    fprintf(stderr, "bench_engine: %s: %s\n", zn_status_string(st), zn_last_error());
    return 1;
  }
  worker *ws = calloc((size_t)instances, sizeof(worker));
  pthread_t *tids = calloc((size_t)instances, sizeof(pthread_t));
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, (unsigned)instances);
  int rc = 0;
  for (long i = 0; i < instances && rc == 0; i++) {
    zn_instance_options io = zn_instance_options_default();
    io.batch = batch;
    io.num_threads = (int)threads;
    worker *w = &ws[i];
    w->model = model;
    if ((st = zn_instance_create(model, &io, &w->inst)) != ZN_OK) {
      fprintf(stderr, "bench_engine: instance %ld: %s: %s\n", i, zn_status_string(st), zn_last_error());
      rc = 1;
      break;
    }
    size_t in_bytes = zn_instance_input_bytes(w->inst, 0), out_bytes = zn_instance_output_bytes(w->inst, 0);
    w->in = malloc(in_bytes);
    w->out = malloc(out_bytes);
    w->lat_cap = 1 << 16;
    w->lat_ms = malloc(sizeof(double) * (size_t)w->lat_cap);
    if (!w->in || !w->out || !w->lat_ms) { fprintf(stderr, "bench_engine: out of memory\n"); rc = 1; break; }
    unsigned s = 12345u + (unsigned)i;
    for (size_t k = 0; k < in_bytes / sizeof(float); k++) {
      s = s * 1103515245u + 12345u;
      w->in[k] = (float)((s >> 8) & 0xFFFF) / 65536.0f - 0.5f;
    }
    w->warmup = (int)warmup;
    w->seconds = seconds;
    w->barrier = &barrier;
  }
  if (rc == 0) {
    for (long i = 0; i < instances; i++) pthread_create(&tids[i], NULL, work, &ws[i]);
    for (long i = 0; i < instances; i++) pthread_join(tids[i], NULL);
    double total = 0, wall = 0;
    long batches = 0;
    for (long i = 0; i < instances; i++) {
      if (ws[i].st != ZN_OK) { fprintf(stderr, "bench_engine: run: %s\n", zn_last_error()); rc = 1; }
      total += ws[i].batches * batch / ws[i].wall_s;
      batches += ws[i].batches;
      if (ws[i].wall_s > wall) wall = ws[i].wall_s;
    }
    long nl = ws[0].batches < ws[0].lat_cap ? ws[0].batches : ws[0].lat_cap;
    qsort(ws[0].lat_ms, (size_t)nl, sizeof(double), cmp_double);
    double gflops = total * 2.0 * (double)zn_model_macs_per_image(model) / 1e9;
    if (rc == 0)
      printf("{\"engine\":\"zenith %s\",\"model\":\"%s\",\"backend\":\"%s\",\"precision\":\"%s\",\"batch\":%ld,"
             "\"threads\":%ld,\"instances\":%ld,\"batches\":%ld,\"seconds\":%.3f,\"images_per_s\":%.3f,"
             "\"median_ms\":%.3f,\"gflops\":%.2f,\"weight_bytes\":%zu,\"arena_bytes\":%zu}\n",
             ZN_VERSION_STRING, model_arg, zn_model_backend(model), precision, batch, threads, instances, batches,
             wall, total, ws[0].lat_ms[nl / 2], gflops, zn_model_weight_bytes(model),
             zn_instance_arena_bytes(ws[0].inst));
  }
  for (long i = 0; i < instances; i++) {
    zn_instance_destroy(ws[i].inst);
    free(ws[i].in);
    free(ws[i].out);
    free(ws[i].lat_ms);
  }
  pthread_barrier_destroy(&barrier);
  free(ws);
  free(tids);
  zn_model_destroy(model);
  return rc;
}
