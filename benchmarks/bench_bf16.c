/* bench_bf16: the onednn backend's bf16 path against its fp32 path on one zoo
 * model (ResNet-50 by default). Throughput: images/s at batch 1 and 8 with 1
 * and 2 threads, each figure measured in several separate processes (oneDNN's
 * AMX path is bimodal per process) and reported as median [min, max].
 * Accuracy: N seeded inputs through both precisions, max relative error of the
 * logits against fp32, top-1 and top-5 agreement. Prints, never asserts.
 *   bench_bf16 [--model M] [--processes P] [--seconds S] [--inputs N] [--skip-throughput] [--skip-accuracy] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/ref/ref.h"
#include "core/alloc.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/time.h"
#include "zoo/zoo.h"

extern const zn_backend_ops zn_backend_onednn;

typedef struct runner {
  zn_graph *g;
  void *compiled, *inst;
  int64_t batch, n_in, n_out;
  float *in, *out;
} runner;

static void runner_deinit(runner *r) {
  const zn_backend_ops *b = &zn_backend_onednn;
  if (r->inst) b->instance_destroy(r->inst);
  if (r->compiled) b->compiled_destroy(r->compiled);
  zn_free_aligned(r->in);
  zn_free_aligned(r->out);
  memset(r, 0, sizeof *r);
}

/* g is borrowed (the runner keeps pointers into it). */
static zn_status runner_init(runner *r, zn_graph *g, zn_precision prec, int64_t batch, int threads) {
  const zn_backend_ops *b = &zn_backend_onednn;
  memset(r, 0, sizeof *r);
  r->g = g;
  r->batch = batch;
  zn_backend_compile_options co = {prec};
  zn_backend_instance_options io = {threads, NULL, 0};
  zn_status st = b->compile(g, &co, &r->compiled);
  if (st == ZN_OK) st = b->instance_create(r->compiled, &io, &r->inst);
  if (st == ZN_OK) st = b->instance_reshape(r->inst, batch);
  if (st == ZN_OK && (!zn_value_num_elements(&g->values[g->inputs[0]], batch, &r->n_in) ||
                      !zn_value_num_elements(&g->values[g->outputs[0]], batch, &r->n_out)))
    st = zn_error(ZN_ERR_INVALID_MODEL, "failed to size the model's input/output");
  if (st == ZN_OK) {
    r->in = zn_alloc_aligned((size_t)r->n_in * sizeof(float));
    r->out = zn_alloc_aligned((size_t)r->n_out * sizeof(float));
    if (!r->in || !r->out) st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to allocate benchmark buffers");
  }
  if (st != ZN_OK) runner_deinit(r);
  return st;
}

static zn_status runner_run(runner *r) {
  const void *ins[1] = {r->in};
  void *outs[1] = {r->out};
  return zn_backend_onednn.instance_run(r->inst, ins, outs);
}

static zn_status build_model(const char *name, zn_graph **out) {
  zn_graph *g = NULL;
  zn_status st = zn_zoo_build(name, 1, &g);
  if (st == ZN_OK) st = zn_graph_infer_shapes(g);
  if (st == ZN_OK) st = zn_ref_calibrate_batch_norm(g, 1, 1);
  if (st == ZN_OK) st = zn_graph_optimize(g);
  if (st != ZN_OK) {
    zn_graph_destroy(g);
    g = NULL;
  }
  *out = g;
  return st;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Child process: images/s of one configuration (median of 3 windows). */
static int child(const char *model, int64_t batch, int threads, zn_precision prec, double seconds) {
  zn_graph *g = NULL;
  runner r;
  zn_status st = build_model(model, &g);
  if (st == ZN_OK) st = runner_init(&r, g, prec, batch, threads);
  if (st != ZN_OK) {
    fprintf(stderr, "bench_bf16: %s\n", zn_last_error());
    zn_graph_destroy(g);
    return 1;
  }
  zn_rng rng;
  zn_rng_init(&rng, 1);
  for (int64_t i = 0; i < r.n_in; i++) r.in[i] = zn_rng_normal(&rng);
  for (int i = 0; i < 3 && st == ZN_OK; i++) st = runner_run(&r);
  double ips[3];
  for (int w = 0; w < 3 && st == ZN_OK; w++) {
    long runs = 0;
    zn_time_ns t0 = zn_now_ns(), t;
    do {
      st = runner_run(&r);
      runs++;
      t = zn_now_ns();
    } while (st == ZN_OK && (double)(t - t0) < seconds / 3 * 1e9);
    ips[w] = (double)runs * (double)batch / ((double)(t - t0) * 1e-9);
  }
  if (st == ZN_OK) {
    qsort(ips, 3, sizeof ips[0], cmp_double);
    printf("%.3f\n", ips[1]);
  } else {
    fprintf(stderr, "bench_bf16: %s\n", zn_last_error());
  }
  runner_deinit(&r);
  zn_graph_destroy(g);
  return st == ZN_OK ? 0 : 1;
}

static double spawn_child(const char *self, const char *model, int64_t batch, int threads, const char *prec,
                          double seconds) {
  char cmd[4096 + 256];
  snprintf(cmd, sizeof cmd, "'%s' --child %s %lld %d %s %.3f", self, model, (long long)batch, threads, prec, seconds);
  FILE *f = popen(cmd, "r");
  if (!f) return -1;
  double v = -1;
  if (fscanf(f, "%lf", &v) != 1) v = -1;
  pclose(f);
  return v;
}

static void throughput(const char *self, const char *model, int processes, double seconds) {
  static const int64_t batches[2] = {1, 8};
  printf("throughput (%s, onednn, %d processes per figure, %.1f s each; median [min, max] images/s)\n", model,
         processes, seconds);
  printf("%-6s %-7s %-28s %-28s %s\n", "batch", "threads", "fp32", "bf16", "bf16/fp32 (medians)");
  for (int bi = 0; bi < 2; bi++)
    for (int threads = 1; threads <= 2; threads++) {
      double v[2][64];
      int n = processes > 64 ? 64 : processes;
      for (int p = 0; p < n; p++)  /* interleaved: fp32, bf16, fp32, ... */
        for (int k = 0; k < 2; k++) v[k][p] = spawn_child(self, model, batches[bi], threads, k ? "bf16" : "fp32", seconds);
      char col[2][64];
      double med[2];
      for (int k = 0; k < 2; k++) {
        qsort(v[k], (size_t)n, sizeof v[k][0], cmp_double);
        med[k] = v[k][n / 2];
        snprintf(col[k], sizeof col[k], "%.1f [%.1f, %.1f]", med[k], v[k][0], v[k][n - 1]);
      }
      printf("%-6lld %-7d %-28s %-28s %.2fx\n", (long long)batches[bi], threads, col[0], col[1],
             med[0] > 0 ? med[1] / med[0] : 0);
      fflush(stdout);
    }
}

/* Indexes of the k largest logits, largest first. */
static void top_k(const float *x, int64_t n, int k, int64_t *idx) {
  for (int j = 0; j < k; j++) idx[j] = -1;
  for (int64_t i = 0; i < n; i++) {
    int j = k;
    while (j > 0 && (idx[j - 1] < 0 || x[i] > x[idx[j - 1]])) j--;
    if (j >= k) continue;
    memmove(idx + j + 1, idx + j, (size_t)(k - 1 - j) * sizeof *idx);
    idx[j] = i;
  }
}

static int accuracy(const char *model, int num_inputs) {
  zn_graph *g = NULL;
  runner r[2];
  const int64_t batch = 8;
  zn_status st = build_model(model, &g);
  if (st == ZN_OK) st = runner_init(&r[0], g, ZN_PRECISION_FP32, batch, 2);
  if (st == ZN_OK && (st = runner_init(&r[1], g, ZN_PRECISION_BF16, batch, 2)) != ZN_OK) runner_deinit(&r[0]);
  if (st != ZN_OK) {
    fprintf(stderr, "bench_bf16: accuracy: %s\n", zn_last_error());
    zn_graph_destroy(g);
    return 1;
  }
  int64_t per_in = r[0].n_in / batch, classes = r[0].n_out / batch;
  double worst = 0, sum_err = 0;
  int top1 = 0, top5_same = 0, top1_in5 = 0, done = 0;
  zn_time_ns t0 = zn_now_ns();
  while (done < num_inputs && st == ZN_OK) {
    int nb = num_inputs - done < batch ? num_inputs - done : (int)batch;
    for (int b = 0; b < batch; b++) {  /* input i is seeded by i alone: independent of batching */
      zn_rng rng;
      zn_rng_init(&rng, 0x5eed0000u + (uint64_t)(done + b));
      for (int64_t i = 0; i < per_in; i++) r[0].in[b * per_in + i] = zn_rng_normal(&rng);
    }
    memcpy(r[1].in, r[0].in, (size_t)r[0].n_in * sizeof(float));
    st = runner_run(&r[0]);
    if (st == ZN_OK) st = runner_run(&r[1]);
    for (int b = 0; b < nb && st == ZN_OK; b++) {
      const float *f = r[0].out + b * classes, *h = r[1].out + b * classes;
      double maxd = 0, maxr = 0;
      for (int64_t i = 0; i < classes; i++) {
        double d = fabs((double)h[i] - (double)f[i]);
        if (d > maxd) maxd = d;
        if (fabs((double)f[i]) > maxr) maxr = fabs((double)f[i]);
      }
      double e = maxr > 0 ? maxd / maxr : maxd;
      if (e > worst) worst = e;
      sum_err += e;
      int64_t tf[5], th[5];
      top_k(f, classes, 5, tf);
      top_k(h, classes, 5, th);
      top1 += tf[0] == th[0];
      int common = 0, in5 = 0;
      for (int a = 0; a < 5; a++)
        for (int c = 0; c < 5; c++) {
          common += tf[a] == th[c];
          if (a == 0) in5 |= tf[0] == th[c];
        }
      top5_same += common == 5;
      top1_in5 += in5;
    }
    done += nb;
  }
  if (st != ZN_OK) {
    fprintf(stderr, "bench_bf16: accuracy: %s\n", zn_last_error());
  } else {
    printf("accuracy (%s, %d seeded N(0,1) inputs, batch %lld, %.1f s): bf16 vs fp32 logits\n", model, done,
           (long long)batch, (double)(zn_now_ns() - t0) * 1e-9);
    printf("  max relative error (max |bf16 - fp32| / max |fp32| per input): worst %.4g, mean %.4g\n", worst,
           sum_err / done);
    printf("  top-1 agreement: %.2f%% (%d/%d)\n", 100.0 * top1 / done, top1, done);
    printf("  top-5 agreement (same set of 5 classes): %.2f%%; fp32 top-1 within bf16 top-5: %.2f%%\n",
           100.0 * top5_same / done, 100.0 * top1_in5 / done);
  }
  runner_deinit(&r[0]);
  runner_deinit(&r[1]);
  zn_graph_destroy(g);
  return st == ZN_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 7 && strcmp(argv[1], "--child") == 0)
    return child(argv[2], atoll(argv[3]), atoi(argv[4]), strcmp(argv[5], "bf16") == 0 ? ZN_PRECISION_BF16
                                                                                      : ZN_PRECISION_FP32,
                 atof(argv[6]));
  const char *model = "resnet50";
  int processes = 5, inputs = 1000, do_tp = 1, do_acc = 1;
  double seconds = 3;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model = argv[++i];
    else if (strcmp(argv[i], "--processes") == 0 && i + 1 < argc) processes = atoi(argv[++i]);
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--inputs") == 0 && i + 1 < argc) inputs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--skip-throughput") == 0) do_tp = 0;
    else if (strcmp(argv[i], "--skip-accuracy") == 0) do_acc = 0;
    else {
      fprintf(stderr, "usage: bench_bf16 [--model M] [--processes P] [--seconds S] [--inputs N] [--skip-throughput] "
                      "[--skip-accuracy]\n");
      return 2;
    }
  }
  if (processes < 1 || inputs < 1 || seconds <= 0) {
    fprintf(stderr, "bench_bf16: --processes, --inputs and --seconds must be positive\n");
    return 2;
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    fprintf(stderr, "bench_bf16: cannot find its own executable\n");
    return 1;
  }
  self[n] = '\0';
  int rc = 0;
  if (do_tp) throughput(self, model, processes, seconds);
  if (do_acc) rc |= accuracy(model, inputs);
  return rc;
}
