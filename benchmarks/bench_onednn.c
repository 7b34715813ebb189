/* bench_onednn: images/s of the onednn backend on zoo models (batch, threads,
 * precision from the command line), with GFLOP/s from the graph's MACs and
 * the backend's describe() lines. Prints figures, asserts nothing.
 *   bench_onednn [model[,model...]] [batch] [threads] [fp32|bf16] [seconds]
 * Median of 5 repetitions; each repetition runs for `seconds` (default 1).
 * Compile-time kernel choices (Winograd or not) are timed at the batch run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/ref/ref.h"
#include "core/alloc.h"
#include "core/status.h"
#include "core/time.h"
#include "zoo/zoo.h"

extern const zn_backend_ops zn_backend_onednn;

static void log_to_stderr(zn_log_level level, const char *message, void *user) {
  (void)level;
  (void)user;
  fprintf(stderr, "%s\n", message);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int bench(const char *name, int64_t batch, int threads, zn_precision prec, double seconds, int show) {
  zn_graph *g = NULL;
  zn_status st = zn_zoo_build(name, 1, &g);
  if (st == ZN_OK) st = zn_graph_infer_shapes(g);
  if (st == ZN_OK) st = zn_ref_calibrate_batch_norm(g, 1, 1);
  if (st == ZN_OK) st = zn_graph_optimize(g);
  const zn_backend_ops *b = &zn_backend_onednn;
  void *compiled = NULL, *inst = NULL;
  zn_backend_compile_options co = {.precision = prec, .tune_batch = batch};  /* kernel choices timed at this batch */
  zn_backend_instance_options io = {threads, NULL, 0, NULL};
  if (st == ZN_OK) st = b->compile(g, &co, &compiled);
  if (st == ZN_OK) st = b->instance_create(compiled, &io, &inst);
  if (st == ZN_OK) st = b->instance_reshape(inst, batch);
  float *in = NULL, *out = NULL;
  int64_t n_in = 0, n_out = 0;
  if (st == ZN_OK && (!zn_value_num_elements(&g->values[g->inputs[0]], batch, &n_in) ||
                      !zn_value_num_elements(&g->values[g->outputs[0]], batch, &n_out)))
    st = ZN_ERR_INVALID_MODEL;
  if (st == ZN_OK) {
    in = zn_alloc_aligned((size_t)n_in * sizeof(float));
    out = zn_alloc_aligned((size_t)n_out * sizeof(float));
    if (!in || !out) st = ZN_ERR_OUT_OF_MEMORY;
  }
  if (st != ZN_OK) {
    fprintf(stderr, "%s: %s: %s\n", name, zn_status_string(st), zn_last_error());
  } else {
    uint64_t seed = 3;
    for (int64_t i = 0; i < n_in; i++) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      in[i] = (float)((seed >> 40) & 0xffff) / 65536.0f - 0.5f;
    }
    const void *ins[1] = {in};
    void *outs[1] = {out};
    for (int i = 0; i < 3; i++) b->instance_run(inst, ins, outs);  /* warm-up */
    double ips[5];
    for (int r = 0; r < 5; r++) {
      int64_t runs = 0;
      zn_time_ns t0 = zn_now_ns(), t;
      do {
        b->instance_run(inst, ins, outs);
        runs++;
        t = zn_now_ns();
      } while ((double)(t - t0) < seconds * 1e9);
      ips[r] = (double)(runs * batch) / ((double)(t - t0) * 1e-9);
    }
    qsort(ips, 5, sizeof ips[0], cmp_double);
    double gflops = 2.0 * (double)zn_graph_macs_per_image(g) * ips[2] * 1e-9;
    printf("%-14s %s batch %3lld threads %d: %8.1f images/s (min %.1f max %.1f), %6.1f GFLOP/s, arena %.1f MiB, "
           "weights %.1f MiB\n", name, prec == ZN_PRECISION_BF16 ? "bf16" : "fp32", (long long)batch, threads, ips[2],
           ips[0], ips[4], gflops, (double)b->instance_arena_bytes(inst) / 1048576.0,
           (double)b->weight_bytes(compiled) / 1048576.0);
    if (show) {
      char text[4096];
      b->describe(compiled, text, sizeof text);
      printf("%s", text);
    }
  }
  zn_free_aligned(in);
  zn_free_aligned(out);
  if (inst) b->instance_destroy(inst);
  if (compiled) b->compiled_destroy(compiled);
  zn_graph_destroy(g);
  return st == ZN_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  const char *models = argc > 1 ? argv[1] : "resnet50,mobilenet_v2";
  int64_t batch = argc > 2 ? atoll(argv[2]) : 1;
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  zn_precision prec = argc > 4 && strcmp(argv[4], "bf16") == 0 ? ZN_PRECISION_BF16 : ZN_PRECISION_FP32;
  double seconds = argc > 5 ? atof(argv[5]) : 1.0;
  int show = getenv("ZN_BENCH_DESCRIBE") != NULL;
  const char *lv = getenv("ZN_BENCH_LOG");  /* any value: info; "debug": also per-conv Winograd timings */
  if (lv) zn_log_set(log_to_stderr, NULL, strcmp(lv, "debug") == 0 ? ZN_LOG_DEBUG : ZN_LOG_INFO);
  char list[512];
  snprintf(list, sizeof list, "%s", models);
  int rc = 0;
  for (char *save = NULL, *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save))
    rc |= bench(m, batch, threads, prec, seconds, show);
  return rc;
}
