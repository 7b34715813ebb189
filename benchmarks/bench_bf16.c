/* bench_bf16: the onednn backend's bf16 path against its fp32 path on one zoo
 * model (ResNet-50 by default). Throughput: images/s at batch 1 and 8 with 1
 * and 2 threads, each figure measured in several separate processes (oneDNN's
 * AMX path is bimodal per process) and reported as median [min, max], for the
 * default bf16 scheme or each scheme of --variants.
 * Accuracy: N seeded inputs through fp32 and each bf16 scheme (which values
 * stay f32: docs/internals/onednn.md, "Precision"), max relative error of the
 * logits against fp32, top-1 and top-5 agreement; plus two noise floors that
 * need no bf16 arithmetic (fp32 on bf16-rounded inputs, fp32 with
 * bf16-rounded weights) and the distribution of fp32's top-1/top-2 margins.
 * Prints, never asserts.
 *   bench_bf16 [--model M] [--processes P] [--seconds S] [--inputs N] [--variants] [--threads T] [--skip-throughput]
 *              [--skip-accuracy] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/onednn/onednn.h"
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
/* bf16 schemes: which values stay f32 (ODN_F32_* flags); fp32 runs use no Winograd. */
typedef struct scheme { const char *name; unsigned f32; } scheme;
static const scheme schemes[] = {
    {"bf16 everywhere", 0},
    {"f32 first conv + classifier", ODN_F32_FIRST | ODN_F32_LAST},
    {"f32 residual stream", ODN_F32_RESIDUAL},
    {"f32 residual + first + classifier", ODN_F32_RESIDUAL | ODN_F32_FIRST | ODN_F32_LAST},
    {"f32 every conv output", ODN_F32_CONV_DST},
    {"f32 conv outputs + first + classifier", ODN_F32_CONV_DST | ODN_F32_FIRST | ODN_F32_LAST},
};
enum { NUM_SCHEMES = sizeof schemes / sizeof schemes[0] };

static zn_status runner_init_tuned(runner *r, zn_graph *g, zn_precision prec, unsigned f32, int64_t batch,
                                   int threads) {
  const zn_backend_ops *b = &zn_backend_onednn;
  memset(r, 0, sizeof *r);
  r->g = g;
  r->batch = batch;
  zn_backend_compile_options co = {.precision = prec};
  zn_backend_instance_options io = {threads, NULL, 0, NULL};
  odn_tuning t = {f32, 0, 0, 0, 0, true, true, true, 0, true};
  zn_status st = zn_onednn_compile_tuned(g, &co, &t, &r->compiled);
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
static int child(const char *model, int64_t batch, int threads, zn_precision prec, unsigned f32, double seconds) {
  zn_graph *g = NULL;
  runner r;
  zn_status st = build_model(model, &g);
  if (st == ZN_OK) st = runner_init_tuned(&r, g, prec, f32, batch, threads);
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
                          unsigned f32, double seconds) {
  char cmd[4096 + 256];
  snprintf(cmd, sizeof cmd, "'%s' --child %s %lld %d %s %u %.3f", self, model, (long long)batch, threads, prec, f32,
           seconds);
  FILE *f = popen(cmd, "r");
  if (!f) return -1;
  double v = -1;
  if (fscanf(f, "%lf", &v) != 1) v = -1;
  pclose(f);
  return v;
}

static int tp_threads;  /* --threads: only this thread count in the throughput table (0: 1 and 2) */

/* One table: fp32 against the bf16 schemes listed (interleaved per process round). */
static void throughput(const char *self, const char *model, int processes, double seconds, const unsigned *f32,
                       const char *const *names, int num) {
  static const int64_t batches[2] = {1, 8};
  printf("throughput (%s, onednn, %d processes per figure, %.1f s each; median [min, max] images/s; "
         "x: median / fp32 median)\n", model, processes, seconds);
  printf("%-6s %-7s %-24s", "batch", "threads", "fp32");
  for (int k = 0; k < num; k++) printf(" | %s", names[k]);
  printf("\n");
  for (int bi = 0; bi < 2; bi++)
    for (int threads = 1; threads <= 2; threads++) {
      if (tp_threads && threads != tp_threads) continue;
      double v[8][64];
      int n = processes > 64 ? 64 : processes, cols = num + 1 > 8 ? 8 : num + 1;
      for (int p = 0; p < n; p++)  /* interleaved: fp32, scheme 1, scheme 2, ..., fp32, ... */
        for (int k = 0; k < cols; k++)
          v[k][p] = spawn_child(self, model, batches[bi], threads, k ? "bf16" : "fp32", k ? f32[k - 1] : 0, seconds);
      printf("%-6lld %-7d", (long long)batches[bi], threads);
      double base = 0;
      for (int k = 0; k < cols; k++) {
        qsort(v[k], (size_t)n, sizeof v[k][0], cmp_double);
        double med = v[k][n / 2];
        if (k == 0) base = med;
        char col[96];
        if (k == 0) snprintf(col, sizeof col, "%.1f [%.1f, %.1f]", med, v[k][0], v[k][n - 1]);
        else snprintf(col, sizeof col, "%.1f [%.1f, %.1f] %.2fx", med, v[k][0], v[k][n - 1], base > 0 ? med / base : 0);
        printf(k == 0 ? " %-24s" : " | %s", col);
      }
      printf("\n");
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

static float round_bf16(float x) {  /* round to nearest even, as the f32 -> bf16 conversion does */
  uint32_t u;
  memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) != 0x7f800000u) u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  memcpy(&x, &u, 4);
  return x;
}

/* Round every Conv / Gemm / MatMul weight tensor of g to bf16 in place. */
static void round_weights(zn_graph *g) {
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if ((n->op != ZN_OP_CONV && n->op != ZN_OP_GEMM && n->op != ZN_OP_MATMUL) || n->num_inputs < 2) continue;
    zn_value *w = &g->values[zn_node_input(n, 1)];
    if (!w->data || w->dtype != ZN_DTYPE_FLOAT32) continue;
    float *d = w->data;
    for (size_t k = 0; k < w->data_bytes / sizeof(float); k++) d[k] = round_bf16(d[k]);
  }
}

typedef struct acc {
  const char *name;
  runner r;
  double worst, sum_err;
  int top1, top5_same, top1_in5;
} acc;

static void acc_add(acc *a, const float *f, const float *h, int64_t classes) {
  double maxd = 0, maxr = 0;
  for (int64_t i = 0; i < classes; i++) {
    double d = fabs((double)h[i] - (double)f[i]);
    if (d > maxd) maxd = d;
    if (fabs((double)f[i]) > maxr) maxr = fabs((double)f[i]);
  }
  double e = maxr > 0 ? maxd / maxr : maxd;
  if (e > a->worst) a->worst = e;
  a->sum_err += e;
  int64_t tf[5], th[5];
  top_k(f, classes, 5, tf);
  top_k(h, classes, 5, th);
  a->top1 += tf[0] == th[0];
  int common = 0, in5 = 0;
  for (int x = 0; x < 5; x++)
    for (int y = 0; y < 5; y++) {
      common += tf[x] == th[y];
      if (x == 0) in5 |= tf[0] == th[y];
    }
  a->top5_same += common == 5;
  a->top1_in5 += in5;
}

/* Rows: every bf16 scheme, then the two fp32 noise floors. */
static int accuracy(const char *model, int num_inputs, bool all_schemes) {
  enum { MAXV = NUM_SCHEMES + 2 };
  zn_graph *g = NULL, *gw = NULL;
  runner ref;
  acc v[MAXV];
  int nv = 0;
  const int64_t batch = 8;
  memset(v, 0, sizeof v);
  zn_status st = build_model(model, &g);
  if (st == ZN_OK) st = build_model(model, &gw);
  if (st == ZN_OK) round_weights(gw);
  if (st == ZN_OK) st = runner_init_tuned(&ref, g, ZN_PRECISION_FP32, 0, batch, 2);
  if (st != ZN_OK) {
    fprintf(stderr, "bench_bf16: accuracy: %s\n", zn_last_error());
    zn_graph_destroy(g);
    zn_graph_destroy(gw);
    return 1;
  }
  for (int k = 0; k < NUM_SCHEMES && st == ZN_OK; k++) {
    if (!all_schemes && schemes[k].f32 != ODN_BF16_DEFAULT_F32) continue;
    v[nv].name = schemes[k].name;
    st = runner_init_tuned(&v[nv++].r, g, ZN_PRECISION_BF16, schemes[k].f32, batch, 2);
  }
  int in_rounded = -1;
  if (st == ZN_OK) {
    v[nv].name = "fp32, inputs rounded to bf16";
    in_rounded = nv;
    st = runner_init_tuned(&v[nv++].r, g, ZN_PRECISION_FP32, 0, batch, 2);
  }
  if (st == ZN_OK) {
    v[nv].name = "fp32, weights rounded to bf16";
    st = runner_init_tuned(&v[nv++].r, gw, ZN_PRECISION_FP32, 0, batch, 2);
  }
  int64_t per_in = ref.n_in / batch, classes = ref.n_out / batch;
  double *margin = zn_alloc_aligned((size_t)num_inputs * sizeof *margin);
  if (!margin && st == ZN_OK) st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to allocate margins");
  int done = 0;
  zn_time_ns t0 = zn_now_ns();
  while (done < num_inputs && st == ZN_OK) {
    int nb = num_inputs - done < batch ? num_inputs - done : (int)batch;
    for (int b = 0; b < batch; b++) {  /* input i is seeded by i alone: independent of batching */
      zn_rng rng;
      zn_rng_init(&rng, 0x5eed0000u + (uint64_t)(done + b));
      for (int64_t i = 0; i < per_in; i++) ref.in[b * per_in + i] = zn_rng_normal(&rng);
    }
    st = runner_run(&ref);
    for (int k = 0; k < nv && st == ZN_OK; k++) {
      for (int64_t i = 0; i < ref.n_in; i++) v[k].r.in[i] = k == in_rounded ? round_bf16(ref.in[i]) : ref.in[i];
      st = runner_run(&v[k].r);
    }
    for (int b = 0; b < nb && st == ZN_OK; b++) {
      const float *f = ref.out + b * classes;
      for (int k = 0; k < nv; k++) acc_add(&v[k], f, v[k].r.out + b * classes, classes);
      int64_t t[2];
      top_k(f, classes, 2, t);
      double maxr = 0;
      for (int64_t i = 0; i < classes; i++) maxr = fabs((double)f[i]) > maxr ? fabs((double)f[i]) : maxr;
      margin[done + b] = maxr > 0 ? ((double)f[t[0]] - (double)f[t[1]]) / maxr : 0;
    }
    done += nb;
  }
  if (st != ZN_OK) {
    fprintf(stderr, "bench_bf16: accuracy: %s\n", zn_last_error());
  } else {
    printf("accuracy (%s, %d seeded N(0,1) inputs, batch %lld, %.1f s): each row's logits against fp32's\n", model,
           done, (long long)batch, (double)(zn_now_ns() - t0) * 1e-9);
    printf("%-40s %9s %9s %9s %11s %11s\n", "variant", "top-1", "top-5 set", "top1-in-5", "max relerr", "mean relerr");
    for (int k = 0; k < nv; k++)
      printf("%-40s %8.2f%% %8.2f%% %8.2f%% %11.4g %11.4g\n", v[k].name, 100.0 * v[k].top1 / done,
             100.0 * v[k].top5_same / done, 100.0 * v[k].top1_in5 / done, v[k].worst, v[k].sum_err / done);
    qsort(margin, (size_t)done, sizeof *margin, cmp_double);
    printf("fp32 top-1/top-2 margin relative to max |logit|: min %.3g, p1 %.3g, p5 %.3g, p10 %.3g, p25 %.3g, "
           "median %.3g\n", margin[0], margin[done / 100], margin[done / 20], margin[done / 10], margin[done / 4],
           margin[done / 2]);
    static const double th[] = {1.0 / 256, 1.0 / 128, 1.0 / 64, 1.0 / 32, 0.1};
    printf("  share of inputs with margin below:");
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
      int c = 0;
      while (c < done && margin[c] < th[i]) c++;
      printf(" %.4g: %.1f%%%s", th[i], 100.0 * c / done, i + 1 < sizeof th / sizeof th[0] ? "," : "\n");
    }
  }
  zn_free_aligned(margin);
  runner_deinit(&ref);
  for (int k = 0; k < nv; k++) runner_deinit(&v[k].r);
  zn_graph_destroy(g);
  zn_graph_destroy(gw);
  return st == ZN_OK ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 8 && strcmp(argv[1], "--child") == 0)
    return child(argv[2], atoll(argv[3]), atoi(argv[4]), strcmp(argv[5], "bf16") == 0 ? ZN_PRECISION_BF16
                                                                                      : ZN_PRECISION_FP32,
                 (unsigned)strtoul(argv[6], NULL, 10), atof(argv[7]));
  const char *model = "resnet50";
  int processes = 5, inputs = 1000, do_tp = 1, do_acc = 1, variants = 0;
  double seconds = 3;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model = argv[++i];
    else if (strcmp(argv[i], "--processes") == 0 && i + 1 < argc) processes = atoi(argv[++i]);
    else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) seconds = atof(argv[++i]);
    else if (strcmp(argv[i], "--inputs") == 0 && i + 1 < argc) inputs = atoi(argv[++i]);
    else if (strcmp(argv[i], "--skip-throughput") == 0) do_tp = 0;
    else if (strcmp(argv[i], "--variants") == 0) variants = 1;
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) tp_threads = atoi(argv[++i]);
    else if (strcmp(argv[i], "--skip-accuracy") == 0) do_acc = 0;
    else {
      fprintf(stderr, "usage: bench_bf16 [--model M] [--processes P] [--seconds S] [--inputs N] [--variants] "
                      "[--threads T] [--skip-throughput] [--skip-accuracy]\n");
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
  if (do_tp) {
    unsigned f32[NUM_SCHEMES];
    const char *names[NUM_SCHEMES];
    int num = 0;
    for (int k = 0; k < NUM_SCHEMES; k++)  /* the "every conv output" schemes compute what the residual ones do on
                                              ResNets: left out of the throughput table */
      if ((variants && !(schemes[k].f32 & ODN_F32_CONV_DST)) || schemes[k].f32 == ODN_BF16_DEFAULT_F32) {
        f32[num] = schemes[k].f32;
        names[num++] = schemes[k].name;
      }
    if (num > 7) num = 7;
    throughput(self, model, processes, seconds, f32, names, num);
  }
  if (do_acc) rc |= accuracy(model, inputs, variants);
  return rc;
}
