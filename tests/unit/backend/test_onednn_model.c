/* onednn backend on small multi-layer graphs: residual + ReLU fusion (in place
 * and after a copy), batch 1 and 3 and a reshape between them, two instances
 * of one compiled model running in two threads, describe(), errors, bf16
 * against the fp32 oracle (every bf16 scheme), Winograd convolutions (forced,
 * timed, disabled) against the oracle, the own NHWC Winograd (forced on odd
 * sizes, pads, channels, fused residual and activations; timed; off),
 * graph outputs that are constants, and zero-copy concats (producers writing
 * their channel slices; ineligible cases keep the copy). */
#include <pthread.h>
#include <stdlib.h>

#include "backend_test.h"

#include "backend/onednn/onednn.h"
#include "backend/winograd.h"

/* x -> conv3x3+relu -> conv3x3 (+ residual x) + relu [-> conv1x1 reading x again when keep_x] */
static zn_graph *residual_graph(int64_t c, int64_t s, bool keep_x) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, s, s}, wd[4] = {c, c, 3, 3}, bd[1] = {c};
  int x = bt_input(g, "x", 4, xd), a, y;
  int c1[3] = {x, bt_const(g, "w1", 4, wd, 1, -0.2f, 0.2f), bt_const(g, "b1", 1, bd, 2, -0.5f, 0.5f)};
  zn_node *n = bt_node(g, ZN_OP_CONV, "c1", 3, c1, "a", &a);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  int c2[4] = {a, bt_const(g, "w2", 4, wd, 3, -0.2f, 0.2f), bt_const(g, "b2", 1, bd, 4, -0.5f, 0.5f), x};
  n = bt_node(g, ZN_OP_CONV, "c2", 4, c2, "y", &y);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  if (keep_x) {
    int64_t w3d[4] = {c, c, 1, 1};
    int z, c3[4] = {x, bt_const(g, "w3", 4, w3d, 5, -0.5f, 0.5f), ZN_NO_VALUE, y};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c3", 4, c3, "z", &z), 1, 1, 0, 1, 1);
    zn_graph_mark_output(g, z);
  } else {
    zn_graph_mark_output(g, y);
  }
  return g;
}

static size_t describe_of(const zn_graph *g, zn_precision p, char *buf, size_t size) {
  void *compiled = NULL;
  zn_backend_compile_options co = {.precision = p};
  buf[0] = 0;
  if (zn_backend_onednn.compile(g, &co, &compiled) != ZN_OK) return 0;
  size_t n = zn_backend_onednn.describe(compiled, buf, size);
  zn_backend_onednn.compiled_destroy(compiled);
  return n;
}

static void test_residual(void) {
  char text[4096];
  /* The counts below are those of direct convs: a Winograd conv (chosen by
   * timing, which differs under the sanitizers) takes its residual in
   * nChw16c through a copy. test_winograd covers that case. */
  setenv("ZN_ONEDNN_WINOGRAD", "0", 1);
  for (int keep = 0; keep <= 1; keep++)
    for (int64_t b = 1; b <= 3; b += 2) {
      zn_graph *g = residual_graph(17, 7, keep);
      bt_compare(&zn_backend_onednn, keep ? "residual after a copy" : "residual in place", g, b, ZN_PRECISION_FP32, 1,
                 1e-4);
      describe_of(g, ZN_PRECISION_FP32, text, sizeof text);
      CHECK(strstr(text, keep ? "1 in place, 1 after a copy" : "1 in place, 0 after a copy") != NULL);
      CHECK(strstr(text, "convs:") != NULL);
      zn_graph_destroy(g);
    }
  unsetenv("ZN_ONEDNN_WINOGRAD");
}

/* y = x W^T (+ bias) as a Gemm node (trans_b, alpha = beta = 1): W {out, in}
 * seeded uniform in [-range, range), the bias (when seed_bias) in [-1, 1);
 * returns y's value id. */
static int fc(zn_graph *g, const char *name, int x, int64_t out, int64_t in, uint64_t seed, float range,
              uint64_t seed_bias, zn_act act) {
  int64_t wd[2] = {out, in}, bd[1] = {out};
  char wname[64], bname[64];
  snprintf(wname, sizeof wname, "%s.w", name);
  snprintf(bname, sizeof bname, "%s.b", name);
  int y, ins[3] = {x, bt_const(g, wname, 2, wd, seed, -range, range), seed_bias ? bt_const(g, bname, 1, bd, seed_bias, -1, 1) : 0};
  zn_node *n = bt_node(g, ZN_OP_GEMM, name, seed_bias ? 3 : 2, ins, name, &y);
  n->attrs.gemm.trans_b = true;
  n->attrs.gemm.alpha = n->attrs.gemm.beta = 1;
  n->attrs.gemm.act = act;
  return y;
}

/* A small CNN: conv-relu, maxpool, two branches concatenated, residual,
 * global pool, flatten, gemm, softmax. */
static zn_graph *small_cnn(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 13, 13};
  int x = bt_input(g, "x", 4, xd), a, p, b1, b2, cat, r, gap, f, y, sm;
  int64_t w1[4] = {16, 3, 3, 3}, w2[4] = {8, 16, 1, 1}, w3[4] = {8, 16, 3, 3}, w4[4] = {16, 16, 3, 3};
  int ci[2] = {x, bt_const(g, "w1", 4, w1, 1, -0.4f, 0.4f)};
  zn_node *n = bt_node(g, ZN_OP_CONV, "stem", 2, ci, "a", &a);
  bt_conv_attrs(n, 3, 2, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  n = bt_node(g, ZN_OP_MAX_POOL, "pool", 1, &a, "p", &p);
  bt_pool_attrs(n, 3, 1, 1, false, false);
  int cb1[2] = {p, bt_const(g, "w2", 4, w2, 2, -0.4f, 0.4f)}, cb2[2] = {p, bt_const(g, "w3", 4, w3, 3, -0.2f, 0.2f)};
  bt_conv1x1(g, "b1", 2, cb1, "b1", &b1, bt_act(ZN_ACT_CLIP, 0, 6));
  n = bt_node(g, ZN_OP_CONV, "b2", 2, cb2, "b2", &b2);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  int cc[2] = {b1, b2};
  bt_node(g, ZN_OP_CONCAT, "cat", 2, cc, "cat", &cat)->attrs.axis.axis = 1;
  int cr[4] = {cat, bt_const(g, "w4", 4, w4, 4, -0.2f, 0.2f), ZN_NO_VALUE, p};
  n = bt_node(g, ZN_OP_CONV, "res", 4, cr, "r", &r);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "gap", 1, &r, "gap", &gap);
  bt_node(g, ZN_OP_FLATTEN, "flat", 1, &gap, "f", &f)->attrs.axis.axis = 1;
  y = fc(g, "fc", f, 10, 16, 5, 1, 6, bt_act(ZN_ACT_NONE, 0, 0));
  bt_node(g, ZN_OP_SOFTMAX, "softmax", 1, &y, "sm", &sm)->attrs.softmax.axis = 1;
  zn_graph_mark_output(g, y);
  zn_graph_mark_output(g, sm);
  return g;
}

/* x -> conv3x3+relu (NHWC 8x5x5) -> flatten -> gemm 16x200 + relu -> gemm 10x16 (an AlexNet-like head: the
 * first FC reads the 4-D NHWC tensor). */
static zn_graph *fc_head(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 5, 5}, wd[4] = {8, 3, 3, 3};
  int x = bt_input(g, "x", 4, xd), a, f, h, y;
  int ic[2] = {x, bt_const(g, "w", 4, wd, 41, -0.4f, 0.4f)};
  zn_node *n = bt_node(g, ZN_OP_CONV, "conv", 2, ic, "a", &a);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  bt_node(g, ZN_OP_FLATTEN, "flat", 1, &a, "f", &f)->attrs.axis.axis = 1;
  h = fc(g, "fc1", f, 16, 200, 42, 0.2f, 0, bt_act(ZN_ACT_RELU, 0, 0));
  y = fc(g, "fc2", h, 10, 16, 43, 0.5f, 0, bt_act(ZN_ACT_NONE, 0, 0));
  zn_graph_mark_output(g, y);
  return g;
}

/* Inner-product weight layouts across batches: a model loaded for batch 1
 * (plain 2-D weights and the 4-D first FC at batch 1; another layout, the
 * first FC as {N, H*W*C} rows, at batch 3) and for batch 3 (packed that way;
 * batch 1 then re-lays them out), 1 and 2 threads, against the oracle. */
static void test_fc_layouts(void) {
  zn_graph *g = fc_head();
  CHECK_OK(zn_graph_infer_shapes(g));
  const zn_backend_ops *b = &zn_backend_onednn;
  char text[4096];
  for (int64_t tb = 1; tb <= 3; tb += 2) {
    void *compiled = NULL;
    zn_backend_compile_options co = {.precision = ZN_PRECISION_FP32, .tune_batch = tb};
    CHECK_OK(b->compile(g, &co, &compiled));
    if (!compiled) continue;
    b->describe(compiled, text, sizeof text);
    CHECK((strstr(text, "inner products with plain weights at batch 1 (gemm): 1") != NULL) == (tb == 1));
    for (int64_t batch = 1; batch <= 3; batch += 2)
      for (int t = 1; t <= 2; t++) {
        bt_io io = {0}, ref = {0};  /* deinit-safe when an init before it fails */
        void *inst = NULL;
        zn_backend_instance_options io_opts = {t, NULL, 0, NULL};
        CHECK(bt_io_init(&io, g, batch, 5) && bt_io_init(&ref, g, batch, 5));
        CHECK_OK(bt_run(&zn_backend_ref, g, batch, ZN_PRECISION_FP32, 1, &ref));
        CHECK_OK(b->instance_create(compiled, &io_opts, &inst));
        CHECK_OK(b->instance_reshape(inst, batch));
        CHECK_OK(b->instance_run(inst, (const void *const *)io.in, (void *const *)io.out));
        double e = bt_rel_err(io.out[0], ref.out[0], io.out_count[0]);
        fprintf(stderr, "fc layouts: loaded for batch %lld, run at %lld on %d threads: max relative error %.3g\n",
                (long long)tb, (long long)batch, t, e);
        CHECK(e <= 1e-4);
        b->instance_destroy(inst);
        bt_io_deinit(&io);
        bt_io_deinit(&ref);
      }
    b->compiled_destroy(compiled);
  }
  zn_graph_destroy(g);
}

static void test_small_cnn(void) {
  zn_graph *g = small_cnn();
  for (int64_t b = 1; b <= 3; b += 2)
    for (int t = 1; t <= 2; t++) bt_compare(&zn_backend_onednn, "small cnn", g, b, ZN_PRECISION_FP32, t, 1e-4);
  char text[4096];
  CHECK(describe_of(g, ZN_PRECISION_FP32, text, sizeof text) > 0);
  CHECK(strstr(text, "precision fp32") != NULL);
  CHECK(strstr(text, "flatten folded into inner product") != NULL);
  CHECK(strstr(text, "OMP_WAIT_POLICY=PASSIVE") != NULL);
  zn_graph_destroy(g);
}

/* One compiled model, reshaped 1 -> 3 -> 1, run before reshape, weights shared. */
static void test_lifecycle(void) {
  zn_graph *g = small_cnn();
  CHECK_OK(zn_graph_infer_shapes(g));
  const zn_backend_ops *b = &zn_backend_onednn;
  void *compiled = NULL, *inst = NULL;
  CHECK_OK(b->compile(g, NULL, &compiled));
  if (!compiled) { zn_graph_destroy(g); return; }
  CHECK(b->weight_bytes(compiled) >= (16 * 27 + 8 * 16 + 8 * 144 + 16 * 144 + 160 + 10) * sizeof(float));
  zn_backend_instance_options io = {1, NULL, 0, NULL};
  CHECK_OK(b->instance_create(compiled, &io, &inst));
  bt_io x3, x1, r1;
  bt_io_init(&x3, g, 3, 9);
  bt_io_init(&x1, g, 1, 9);
  bt_io_init(&r1, g, 1, 9);
  CHECK_STATUS(b->instance_run(inst, (const void *const *)x1.in, (void *const *)x1.out), ZN_ERR_INVALID_STATE);
  CHECK_STATUS(b->instance_reshape(inst, 0), ZN_ERR_INVALID_ARGUMENT);
  CHECK_OK(b->instance_reshape(inst, 3));
  size_t arena3 = b->instance_arena_bytes(inst);
  CHECK(arena3 > 0);
  CHECK_OK(b->instance_run(inst, (const void *const *)x3.in, (void *const *)x3.out));
  CHECK_OK(b->instance_reshape(inst, 1));
  CHECK(b->instance_arena_bytes(inst) < arena3);
  CHECK_OK(b->instance_run(inst, (const void *const *)x1.in, (void *const *)x1.out));
  CHECK_OK(bt_run(&zn_backend_ref, g, 1, ZN_PRECISION_FP32, 1, &r1));
  for (int o = 0; o < 2; o++) CHECK(bt_rel_err(x1.out[o], r1.out[o], r1.out_count[o]) <= 1e-4);
  /* the first image of the batch-3 run equals the batch-1 run (same seed, same first image) */
  CHECK(bt_rel_err(x3.out[0], x1.out[0], 10) <= 1e-5);
  b->instance_destroy(inst);
  b->instance_destroy(NULL);
  b->compiled_destroy(compiled);
  b->compiled_destroy(NULL);
  bt_io_deinit(&x3);
  bt_io_deinit(&x1);
  bt_io_deinit(&r1);
  zn_graph_destroy(g);
}

typedef struct worker {
  const zn_backend_ops *b;
  void *inst;
  bt_io io;
  int runs;
  zn_status st;
  float *first;
} worker;

static void *work(void *p) {
  worker *w = p;
  for (int i = 0; i < w->runs && w->st == ZN_OK; i++) {
    w->st = w->b->instance_run(w->inst, (const void *const *)w->io.in, (void *const *)w->io.out);
    if (i == 0) memcpy(w->first, w->io.out[0], (size_t)w->io.out_count[0] * sizeof(float));
    else if (memcmp(w->first, w->io.out[0], (size_t)w->io.out_count[0] * sizeof(float)) != 0) w->st = ZN_ERR_INTERNAL;
  }
  return NULL;
}

/* Two instances of one compiled model in two threads: identical results. */
static void test_two_threads(void) {
  zn_graph *g = residual_graph(64, 13, true);
  CHECK_OK(zn_graph_infer_shapes(g));
  const zn_backend_ops *b = &zn_backend_onednn;
  void *compiled = NULL;
  odn_tuning direct = {ODN_BF16_DEFAULT_F32, 0, 0, 0, 0, true, true, true, 0, true};  /* Winograd weights formats depend on the batch */
  CHECK_OK(zn_onednn_compile_tuned(g, NULL, &direct, &compiled));
  if (!compiled) { zn_graph_destroy(g); return; }
  worker w[2];
  pthread_t th[2];
  for (int i = 0; i < 2; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].b = b;
    w[i].runs = 20;
    zn_backend_instance_options io = {1, NULL, 0, NULL};
    CHECK_OK(b->instance_create(compiled, &io, &w[i].inst));
    CHECK_OK(b->instance_reshape(w[i].inst, 3));
    bt_io_init(&w[i].io, g, 3, 77);
    w[i].first = calloc((size_t)w[i].io.out_count[0], sizeof(float));
  }
  for (int i = 0; i < 2; i++) pthread_create(&th[i], NULL, work, &w[i]);
  for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < 2; i++) CHECK_OK(w[i].st);
  CHECK(memcmp(w[0].first, w[1].first, (size_t)w[0].io.out_count[0] * sizeof(float)) == 0);
  bt_io r;
  bt_io_init(&r, g, 3, 77);
  CHECK_OK(bt_run(&zn_backend_ref, g, 3, ZN_PRECISION_FP32, 1, &r));
  CHECK(bt_rel_err(w[0].first, r.out[0], r.out_count[0]) <= 1e-4);
  bt_io_deinit(&r);
  for (int i = 0; i < 2; i++) {
    b->instance_destroy(w[i].inst);
    bt_io_deinit(&w[i].io);
    free(w[i].first);
  }
  b->compiled_destroy(compiled);
  zn_graph_destroy(g);
}

/* bf16: weights and activations bf16, f32 accumulation; stated tolerance 3e-2
 * (max relative error of outputs against the fp32 oracle) on these graphs. */
static void test_bf16(void) {
  zn_graph *g = small_cnn();
  CHECK_OK(zn_graph_infer_shapes(g));
  void *compiled = NULL;
  zn_backend_compile_options co = {.precision = ZN_PRECISION_BF16};
  zn_status st = zn_backend_onednn.compile(g, &co, &compiled);
  if (st == ZN_ERR_UNSUPPORTED_HARDWARE) {
    fprintf(stderr, "bf16 not supported on this CPU: %s (skipping bf16 checks)\n", zn_last_error());
    zn_graph_destroy(g);
    return;
  }
  CHECK_OK(st);
  char text[4096];
  if (compiled) {
    zn_backend_onednn.describe(compiled, text, sizeof text);
    CHECK(strstr(text, "precision bf16") != NULL);
    zn_backend_onednn.compiled_destroy(compiled);
  }
  for (int64_t b = 1; b <= 3; b += 2) {
    double e = bt_compare(&zn_backend_onednn, "small cnn bf16", g, b, ZN_PRECISION_BF16, 1, 3e-2);
    CHECK(e > 0);  /* bf16 really ran: bit-exact agreement with fp32 would mean it did not */
    fprintf(stderr, "bf16 small cnn batch %lld: max relative error %.3g\n", (long long)b, e);
  }
  zn_graph_destroy(g);
  g = residual_graph(64, 13, true);
  fprintf(stderr, "bf16 residual block: max relative error %.3g\n",
          bt_compare(&zn_backend_onednn, "residual bf16", g, 3, ZN_PRECISION_BF16, 2, 3e-2));
  zn_graph_destroy(g);
  /* a transformer's Linear layer (a Gemm whose output is not the graph's) runs
   * in bf16; only the classifier keeps f32: [N*80,16] -> Gemm -> Gemm -> out.
   * With both in f32 the outputs would match fp32 bit for bit. */
  g = bt_graph();
  int64_t xd[2] = {80, 16}, w1d[2] = {32, 16}, w2d[2] = {8, 32};
  int x = bt_input(g, "x", 2, xd), h, y;
  zn_node *n = bt_node(g, ZN_OP_GEMM, "linear", 2, (int[]){x, bt_const(g, "w1", 2, w1d, 3, -1, 1)}, "h", &h);
  n->attrs.gemm.trans_b = true;
  n->attrs.gemm.alpha = n->attrs.gemm.beta = 1;
  n = bt_node(g, ZN_OP_GEMM, "head", 2, (int[]){h, bt_const(g, "w2", 2, w2d, 4, -1, 1)}, "y", &y);
  n->attrs.gemm.trans_b = true;
  n->attrs.gemm.alpha = n->attrs.gemm.beta = 1;
  zn_graph_mark_output(g, y);
  for (int64_t b = 1; b <= 2; b++) {
    double e = bt_compare(&zn_backend_onednn, "linear bf16 + classifier f32", g, b, ZN_PRECISION_BF16, 2, 3e-2);
    CHECK(e > 0);
    fprintf(stderr, "bf16 linear + classifier batch %lld: max relative error %.3g\n", (long long)b, e);
  }
  zn_graph_destroy(g);
}

/* Graph outputs that no node computes (ONNX node/test_constant): the constant
 * is copied into the user's buffer by every run, alone or beside a computed
 * output, in fp32 and bf16 (bytes, never converted). */
static void test_constant_output(void) {
  int64_t kd[2] = {5, 7};
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int k = bt_const(g, "k", 2, kd, 9, -3.f, 3.f);
  zn_graph_mark_output(g, k);
  CHECK(bt_compare(&zn_backend_onednn, "constant output alone", g, 1, ZN_PRECISION_FP32, 1, 0) == 0);
  zn_graph_destroy(g);

  g = residual_graph(8, 5, false);
  k = bt_const(g, "k", 2, kd, 9, -3.f, 3.f);
  zn_graph_mark_output(g, k);
  for (int64_t b = 1; b <= 2; b++)
    CHECK(bt_compare(&zn_backend_onednn, "computed + constant output", g, b, ZN_PRECISION_FP32, 2, 1e-4) <= 1e-4);
  bt_io io;
  CHECK(bt_io_init(&io, g, 2, 7));
  for (int p = 0; p < 2; p++) {
    zn_precision prec = p ? ZN_PRECISION_BF16 : ZN_PRECISION_FP32;
    for (int64_t i = 0; i < io.out_count[1]; i++) io.out[1][i] = NAN;
    zn_status st = bt_run(&zn_backend_onednn, g, 2, prec, 1, &io);
    if (p && st == ZN_ERR_UNSUPPORTED_HARDWARE) break;
    CHECK_OK(st);
    CHECK(memcmp(io.out[1], g->values[k].data, g->values[k].data_bytes) == 0);
  }
  bt_io_deinit(&io);
  zn_graph_destroy(g);
}

/* A 2-thread instance holds a 1-thread and a 2-thread primitive set over one
 * arena and may switch between them before any step: every forced choice
 * (whole run on either set, a switch before each step) gives the oracle's
 * outputs, and adaptive runs count every run on one set or the other. */
static void test_adaptive_threads(void) {
  zn_graph *g = small_cnn();
  CHECK_OK(zn_graph_infer_shapes(g));
  const int64_t batch = 2;
  bt_io ref = {0}, got = {0};  /* deinit-safe when an init before it fails */
  CHECK(bt_io_init(&ref, g, batch, 5));
  CHECK(bt_io_init(&got, g, batch, 5));
  CHECK_OK(bt_run(&zn_backend_ref, g, batch, ZN_PRECISION_FP32, 1, &ref));
  const zn_backend_ops *b = &zn_backend_onednn;
  void *compiled = NULL, *inst = NULL;
  zn_backend_compile_options co = {.precision = ZN_PRECISION_FP32};
  zn_backend_instance_options io = {2, NULL, 0, NULL};
  CHECK_OK(b->compile(g, &co, &compiled));
  CHECK_OK(b->instance_create(compiled, &io, &inst));
  CHECK_OK(b->instance_reshape(inst, batch));
  int num_steps = ((const odn_compiled *)compiled)->num_ops;
  CHECK(num_steps > 5);
  for (int k = -2; k <= num_steps; k++) {  /* -2: 1-thread set, -1: 2-thread set, k: switch before step k */
    zn_onednn_instance_force(inst, k == -2 ? 0 : 1, k >= 0 ? k : -1);
    memset(got.out[0], 0xff, (size_t)got.out_count[0] * sizeof(float));
    CHECK_OK(b->instance_run(inst, (const void *const *)got.in, (void *const *)got.out));
    double e = bt_rel_err(got.out[0], ref.out[0], ref.out_count[0]);
    if (!(e <= 1e-4)) fprintf(stderr, "adaptive: forced choice %d of %d steps: max relative error %.3g\n", k,
                              num_steps, e);
    CHECK(e <= 1e-4);
  }
  zn_onednn_instance_force(inst, -1, -1);
  CHECK_OK(b->instance_reshape(inst, batch));
  for (int r = 0; r < 40; r++) {
    CHECK_OK(b->instance_run(inst, (const void *const *)got.in, (void *const *)got.out));
    CHECK(bt_rel_err(got.out[0], ref.out[0], ref.out_count[0]) <= 1e-4);
  }
  zn_onednn_run_stats s;
  zn_onednn_instance_stats(inst, &s);
  CHECK(s.runs[0] + s.runs[1] == 40);
  CHECK(s.runs[0] >= 1);  /* the 1-thread set is timed at least once */
  fprintf(stderr, "adaptive: 40 runs: %ld on 1 thread, %ld on 2, %ld switches, %ld bailouts\n", s.runs[0], s.runs[1],
          s.switches, s.bailouts);
  b->instance_destroy(inst);
  /* a 1-thread instance has one set and never switches */
  io.num_threads = 1;
  CHECK_OK(b->instance_create(compiled, &io, &inst));
  CHECK_OK(b->instance_reshape(inst, 1));
  for (int r = 0; r < 3; r++) CHECK_OK(b->instance_run(inst, (const void *const *)got.in, (void *const *)got.out));
  zn_onednn_instance_stats(inst, &s);
  CHECK(s.runs[0] == 3 && s.runs[1] == 0 && s.switches == 0);
  b->instance_destroy(inst);
  b->compiled_destroy(compiled);
  bt_io_deinit(&ref);
  bt_io_deinit(&got);
  zn_graph_destroy(g);
}

/* compile with explicit tuning, run at batch on threads (set: -1 adaptive, else
 * forced, switching to 1 thread before step switch_step); describe into text. */
static zn_status run_tuned(const zn_graph *g, zn_precision prec, const odn_tuning *t, int64_t batch, int threads,
                           int set, int switch_step, bt_io *io, char *text, size_t text_size) {
  const zn_backend_ops *b = &zn_backend_onednn;
  void *compiled = NULL, *inst = NULL;
  zn_backend_compile_options co = {.precision = prec};
  zn_backend_instance_options iopt = {threads, NULL, 0, NULL};
  zn_status st = zn_onednn_compile_tuned(g, &co, t, &compiled);
  if (st == ZN_OK) st = b->instance_create(compiled, &iopt, &inst);
  if (st == ZN_OK) {
    zn_onednn_instance_force(inst, set, switch_step);
    st = b->instance_reshape(inst, batch);
  }
  if (st == ZN_OK) st = b->instance_run(inst, (const void *const *)io->in, (void *const *)io->out);
  if (st == ZN_OK && text) b->describe(compiled, text, text_size);
  if (st != ZN_OK) fprintf(stderr, "onednn: %s\n", zn_last_error());
  if (inst) b->instance_destroy(inst);
  if (compiled) b->compiled_destroy(compiled);
  return st;
}

/* Worst max relative error of the outputs of g (tuned) against the ref oracle. */
static double tuned_err(const zn_graph *g, zn_precision prec, const odn_tuning *t, int64_t batch, int threads, int set,
                        int switch_step, char *text, size_t text_size) {
  bt_io a = {0}, r = {0};  /* deinit-safe when an init before it fails */
  double worst = INFINITY;
  if (bt_io_init(&a, g, batch, 9) && bt_io_init(&r, g, batch, 9) &&
      bt_run(&zn_backend_ref, g, batch, ZN_PRECISION_FP32, 1, &r) == ZN_OK &&
      run_tuned(g, prec, t, batch, threads, set, switch_step, &a, text, text_size) == ZN_OK) {
    worst = 0;
    for (int i = 0; i < a.num_out; i++) {
      double e = bt_rel_err(a.out[i], r.out[i], a.out_count[i]);
      if (e > worst) worst = e;
    }
  }
  bt_io_deinit(&a);
  bt_io_deinit(&r);
  return worst;
}

/* x -> [conv3x3+relu] x2 -> maxpool -> conv3x3+relu -> GAP -> flatten -> gemm -> gemm (a VGG-like chain; the
 * second gemm has a 2-D source, so plain weights at batch 1). */
static zn_graph *vgg_like(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 16, 20, 20}, w1[4] = {32, 16, 3, 3}, w2[4] = {32, 32, 3, 3}, w3[4] = {48, 32, 3, 3};
  int64_t b32[1] = {32};
  int x = bt_input(g, "x", 4, xd), a, b, p, c, gap, f, h, y;
  int i1[3] = {x, bt_const(g, "w1", 4, w1, 11, -0.2f, 0.2f), bt_const(g, "b1", 1, b32, 12, -0.3f, 0.3f)};
  zn_node *n = bt_node(g, ZN_OP_CONV, "c1", 3, i1, "a", &a);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  int i2[2] = {a, bt_const(g, "w2", 4, w2, 13, -0.15f, 0.15f)};
  n = bt_node(g, ZN_OP_CONV, "c2", 2, i2, "b", &b);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  bt_pool_attrs(bt_node(g, ZN_OP_MAX_POOL, "pool", 1, &b, "p", &p), 2, 2, 0, false, false);
  int i3[2] = {p, bt_const(g, "w3", 4, w3, 14, -0.15f, 0.15f)};
  n = bt_node(g, ZN_OP_CONV, "c3", 2, i3, "c", &c);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "gap", 1, &c, "gap", &gap);
  bt_node(g, ZN_OP_FLATTEN, "flat", 1, &gap, "f", &f)->attrs.axis.axis = 1;
  h = fc(g, "fc", f, 24, 48, 15, 1, 0, bt_act(ZN_ACT_NONE, 0, 0));
  y = fc(g, "fc2", h, 10, 24, 16, 1, 0, bt_act(ZN_ACT_NONE, 0, 0));
  zn_graph_mark_output(g, y);
  return g;
}

/* Winograd (nChw16c, 3x3 stride 1): forced on every eligible conv, against
 * the oracle at batch 1 and 3 (other weights formats: private re-pack from
 * the graph's weights), 1 and 2 threads, switching sets mid-run; stated
 * tolerance 1e-4 (measured below 1e-5 here); timed choice and the switch off
 * (environment) also run and are described. */
static void test_winograd(void) {
  zn_graph *gs[4] = {vgg_like(), residual_graph(64, 13, false), residual_graph(32, 9, true), small_cnn()};
  odn_tuning force = {ODN_BF16_DEFAULT_F32, 2, 0, 0, 0, true, true, true, 0, true}, timed = {ODN_BF16_DEFAULT_F32, 1, 0, 0, 0, true, true, true, 0, true};
  char text[4096];
  for (int k = 0; k < 4; k++) {
    CHECK_OK(zn_graph_infer_shapes(gs[k]));
    for (int64_t b = 1; b <= 3; b += 2)
      for (int t = 1; t <= 2; t++) {
        double e = tuned_err(gs[k], ZN_PRECISION_FP32, &force, b, t, t == 2 ? 1 : -1, t == 2 ? 4 : -1, text, sizeof text);
        fprintf(stderr, "winograd graph %d batch %lld threads %d: max relative error %.3g\n", k, (long long)b, t, e);
        CHECK(e <= 1e-4);
        int nw = 0;
        const char *at = strstr(text, "winograd (3x3 stride-1, nChw16c, forced): ");
        CHECK(at != NULL && sscanf(at + strlen("winograd (3x3 stride-1, nChw16c, forced): "), "%d", &nw) == 1);
        CHECK(nw >= 2);
      }
    CHECK(tuned_err(gs[k], ZN_PRECISION_FP32, &timed, 2, 1, -1, -1, text, sizeof text) <= 1e-4);
    CHECK(strstr(text, "chosen per conv by timing") != NULL);
    /* vgg_like's second Gemm: plain weights at batch 1 (a model loaded for batch 1), another layout at batch 2 */
    if (k == 0) CHECK(strstr(text, "inner products with plain weights at batch 1 (gemm): 1") != NULL);
  }
  describe_of(gs[0], ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "inner products with plain weights at batch 1 (gemm): 1") != NULL);
  setenv("ZN_ONEDNN_PLAIN_FC", "0", 1);
  describe_of(gs[0], ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "plain weights") == NULL);
  unsetenv("ZN_ONEDNN_PLAIN_FC");
  setenv("ZN_ONEDNN_WINOGRAD", "0", 1);
  describe_of(gs[0], ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "winograd: off") != NULL);
  setenv("ZN_ONEDNN_WINOGRAD", "force", 1);
  describe_of(gs[0], ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "winograd (3x3 stride-1, nChw16c, forced): 3 convs") != NULL);
  unsetenv("ZN_ONEDNN_WINOGRAD");
  for (int k = 0; k < 4; k++) zn_graph_destroy(gs[k]);
}

/* x -> c1: conv3x3 (pad) + bias + act -> a -> c2: conv3x3 pad 1 (+ residual a)
 * + ReLU -> y [-> c3: conv1x1 reading a again, + residual y, when keep_a: then
 * c2 cannot write over a and reads it as a separate residual]. */
static zn_graph *own_wino_graph(int64_t cin, int64_t cm, int64_t s, int64_t pad, zn_act act, bool keep_a) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, cin, s, s}, w1[4] = {cm, cin, 3, 3}, w2[4] = {cm, cm, 3, 3}, w3[4] = {cm, cm, 1, 1}, bd[1] = {cm};
  int x = bt_input(g, "x", 4, xd), a, y;
  int i1[3] = {x, bt_const(g, "w1", 4, w1, 21, -0.3f, 0.3f), bt_const(g, "b1", 1, bd, 22, -0.5f, 0.5f)};
  zn_node *n = bt_node(g, ZN_OP_CONV, "c1", 3, i1, "a", &a);
  bt_conv_attrs(n, 3, 1, pad, 1, 1);
  n->attrs.conv.act = act;
  int i2[4] = {a, bt_const(g, "w2", 4, w2, 23, -0.2f, 0.2f), bt_const(g, "b2", 1, bd, 24, -0.5f, 0.5f), a};
  n = bt_node(g, ZN_OP_CONV, "c2", 4, i2, "y", &y);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
  if (keep_a) {
    int z, i3[4] = {a, bt_const(g, "w3", 4, w3, 25, -0.5f, 0.5f), ZN_NO_VALUE, y};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c3", 4, i3, "z", &z), 1, 1, 0, 1, 1);
    zn_graph_mark_output(g, z);
  } else {
    zn_graph_mark_output(g, y);
  }
  return g;
}

/* Own NHWC Winograd (winograd.c) forced on every eligible conv against the
 * oracle, F(2x2,3x3) and F(4x4,3x3): odd and even sizes (7, 8, 35, 147), pads 0 and 1, channels not
 * multiples of 16 (3, 20, 33, 40), bias, ReLU and Clip, the residual add
 * fused in place and read from another buffer, batch 1 and 3, 1 and 2
 * threads (switching to the 1-thread set mid-run; on 2 threads the blocks
 * shared by the team at batch 1, per-thread blocks at batch 3), stated tolerance 1e-4;
 * in tile blocks of at most BLOCK_KB KiB of V+M (several blocks and a
 * shorter last one on the 35 and 147 sizes; the scratch is checked to stay
 * within the budget or the least block) and in one block; describe() counts them; the timed
 * choice and the switches off also run. */
#define BLOCK_KB 64
/* Compiled with t, g's own Winograd convs' V+M scratch at batch 3: at most all
 * tiles' V+M, and within the block budget when below it (blocked). Returns
 * how many convs were blocked. */
static int own_wino_blocked(const zn_graph *g, const odn_tuning *t, int out_tile) {
  void *compiled = NULL;
  CHECK_OK(zn_onednn_compile_tuned(g, NULL, t, &compiled));
  if (!compiled) return 0;
  const odn_compiled *c = compiled;
  int seen = 0, blocked = 0;
  for (int i = 0; i < c->num_ops; i++) {
    const odn_op *op = &c->ops[i];
    if (op->kind != ODN_CONV || !op->own_wino) continue;
    CHECK_EQ_INT(op->wino_tile, out_tile);
    const zn_node *n = &g->nodes[op->node];
    const zn_value *x = &g->values[zn_node_input(n, 0)], *y = &g->values[n->outputs[0]];
    const int64_t ot = out_tile, positions = (ot + 2) * (ot + 2);
    const size_t per_tile = (size_t)positions * sizeof(float) * (size_t)(x->dims[1] + y->dims[1]);
    const size_t all = 3 * (size_t)((y->dims[2] + ot - 1) / ot * ((y->dims[3] + ot - 1) / ot)) * per_tile;
    const size_t bytes = zn_onednn_wino_scratch_bytes(c, op, 3, 1);
    CHECK(bytes <= all);
    if (bytes < all) {
      CHECK(bytes <= ZN_MAX(t->own_winograd_block_bytes, ODN_OWN_WINOGRAD_BLOCK_MIN_TILES * per_tile) + 128);
      blocked++;
    }
    seen++;
  }
  CHECK_EQ_INT(seen, 2);
  zn_backend_onednn.compiled_destroy(compiled);
  return blocked;
}

static void test_own_winograd(void) {
  static const struct { int64_t cin, cm, s, pad; bool clip, keep_a; } cases[] = {
      {3, 20, 7, 0, false, false}, {16, 33, 7, 1, true, true},   {24, 40, 35, 0, false, true},
      {8, 16, 35, 1, true, false}, {3, 8, 147, 0, false, false}, {3, 8, 147, 1, false, true},
      {32, 32, 8, 1, false, false}};
  odn_tuning timed = {ODN_BF16_DEFAULT_F32, 1, 1, BLOCK_KB * 1024, 1, true, true, true, 0, true}, off = {ODN_BF16_DEFAULT_F32, 1, 0, 0, 0, true, true, true, 0, true};
  char text[4096];
  int blocked = 0;
  for (size_t k = 0; k < ZN_ARRAY_SIZE(cases) * 2; k++) {
    const int out_tile = k < ZN_ARRAY_SIZE(cases) ? 2 : 4, mode = out_tile == 2 ? 2 : 3;
    odn_tuning force = {ODN_BF16_DEFAULT_F32, 0, mode, BLOCK_KB * 1024, 2, true, true, true, 0, true}, one_block = {ODN_BF16_DEFAULT_F32, 0, mode, 0, 2, true, true, true, 0, true};
    const char *forced = out_tile == 2 ? "matmul, forced F(2x2,3x3)): F(2x2,3x3) "
                                       : "matmul, forced F(4x4,3x3)): F(2x2,3x3) 0 convs, F(4x4,3x3) ";
    const size_t ck = k % ZN_ARRAY_SIZE(cases);
    zn_act act = cases[ck].clip ? bt_act(ZN_ACT_CLIP, 0.f, 6.f) : bt_act(ZN_ACT_RELU, 0, 0);
    zn_graph *g = own_wino_graph(cases[ck].cin, cases[ck].cm, cases[ck].s, cases[ck].pad, act, cases[ck].keep_a);
    CHECK_OK(zn_graph_infer_shapes(g));
    for (int64_t b = 1; b <= 3; b += 2)
      for (int t = 1; t <= 2; t++) {
        if (cases[ck].s == 147 && b == 3 && t == 1) continue;  /* the oracle is slow there; batch 3 runs on 2 threads */
        force.own_winograd_split = b == 3 ? 2 : 0;  /* 2 threads: per-thread blocks at batch 3, team-shared at 1 */
        double e = tuned_err(g, ZN_PRECISION_FP32, &force, b, t, t == 2 ? 1 : -1, t == 2 ? 3 : -1, text, sizeof text);
        fprintf(stderr, "own winograd F(%d,3) case %zu batch %lld threads %d: max relative error %.3g\n", out_tile, ck,
                (long long)b, t, e);
        CHECK(e <= 1e-4);
        const char *at = strstr(text, forced);
        int nw = 0;
        CHECK(at != NULL && sscanf(at + strlen(forced), "%d", &nw) == 1);
        CHECK_EQ_INT(nw, 2);
      }
    CHECK(tuned_err(g, ZN_PRECISION_FP32, &one_block, 1, 1, -1, -1, text, sizeof text) <= 1e-4);
    CHECK(strstr(text, "one block") != NULL);
    blocked += own_wino_blocked(g, &force, out_tile);
    CHECK(tuned_err(g, ZN_PRECISION_FP32, &timed, 2, 2, -1, -1, text, sizeof text) <= 1e-4);
    CHECK(strstr(text, "matmul, chosen per conv by timing at compile): ") != NULL);
    CHECK(tuned_err(g, ZN_PRECISION_FP32, &off, 1, 1, -1, -1, text, sizeof text) <= 1e-4);
    CHECK(strstr(text, "matmul, off): F(2x2,3x3) 0 convs, F(4x4,3x3) 0 convs") != NULL);
    zn_graph_destroy(g);
  }
  CHECK(blocked >= 8);  /* both convs of the 8->16 35x35 case and of both 147x147 ones, both tiles */
  zn_graph *g = own_wino_graph(16, 33, 7, 1, bt_act(ZN_ACT_RELU, 0, 0), false);
  CHECK_OK(zn_graph_infer_shapes(g));
  setenv("ZN_ONEDNN_OWN_WINOGRAD", "force", 1);
  describe_of(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "matmul, forced F(2x2,3x3)): F(2x2,3x3) 2 convs, F(4x4,3x3) 0 convs") != NULL);
  setenv("ZN_ONEDNN_OWN_WINOGRAD", "force4", 1);
  describe_of(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "matmul, forced F(4x4,3x3)): F(2x2,3x3) 0 convs, F(4x4,3x3) 2 convs") != NULL);
  setenv("ZN_ONEDNN_OWN_WINOGRAD", "force", 1);
  setenv("ZN_ONEDNN_OWN_WINOGRAD_BLOCK_KB", "48", 1);
  describe_of(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "tile blocks of <= 48 KiB V+M") != NULL);
  setenv("ZN_ONEDNN_OWN_WINOGRAD_BLOCK_KB", "0", 1);
  describe_of(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "one block") != NULL);
  unsetenv("ZN_ONEDNN_OWN_WINOGRAD_BLOCK_KB");
  setenv("ZN_ONEDNN_OWN_WINOGRAD", "0", 1);
  describe_of(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "matmul, off): F(2x2,3x3) 0 convs, F(4x4,3x3) 0 convs") != NULL);
  unsetenv("ZN_ONEDNN_OWN_WINOGRAD");
  zn_graph_destroy(g);
}

/* Every bf16 scheme (what stays f32) against the oracle, tolerance 3e-2 as
 * above, at batch 1 and 3 on 1 and 2 threads; f32 residual stream and
 * classifier shrink the error of the residual graph. */
static void test_bf16_schemes(void) {
  static const unsigned flags[] = {0, ODN_F32_RESIDUAL, ODN_F32_FIRST, ODN_F32_LAST, ODN_F32_CONV_DST,
                                   ODN_F32_RESIDUAL | ODN_F32_FIRST | ODN_F32_LAST,
                                   ODN_F32_CONV_DST | ODN_F32_FIRST | ODN_F32_LAST};
  zn_graph *gs[3] = {small_cnn(), residual_graph(64, 13, true), vgg_like()};
  char text[4096];
  void *probe = NULL;
  zn_backend_compile_options co = {.precision = ZN_PRECISION_BF16};
  CHECK_OK(zn_graph_infer_shapes(gs[0]));
  if (zn_backend_onednn.compile(gs[0], &co, &probe) == ZN_ERR_UNSUPPORTED_HARDWARE) {
    fprintf(stderr, "bf16 not supported on this CPU (skipping bf16 scheme checks)\n");
    for (int k = 0; k < 3; k++) zn_graph_destroy(gs[k]);
    return;
  }
  zn_backend_onednn.compiled_destroy(probe);
  for (int k = 0; k < 3; k++) {
    CHECK_OK(zn_graph_infer_shapes(gs[k]));
    for (size_t f = 0; f < ZN_ARRAY_SIZE(flags); f++) {
      odn_tuning t = {flags[f], 1, 1, ODN_OWN_WINOGRAD_BLOCK_BYTES_DEFAULT, 1, true, true, true, 0, true};
      for (int64_t b = 1; b <= 3; b += 2) {
        double e = tuned_err(gs[k], ZN_PRECISION_BF16, &t, b, (int)b % 3 + 1, -1, -1, text, sizeof text);
        fprintf(stderr, "bf16 graph %d scheme 0x%x batch %lld: max relative error %.3g\n", k, flags[f], (long long)b, e);
        CHECK(e <= 3e-2);
        CHECK(e > 0);
        CHECK(strstr(text, "bf16 scheme: f32 kept for") != NULL);
        CHECK(strstr(text, "winograd") == NULL);  /* fp32 only */
      }
    }
  }
  for (int k = 0; k < 3; k++) zn_graph_destroy(gs[k]);
}

/* x -> BatchNorm -> ReLU -> conv1x1 (DenseNet's pre-activation): one batch
 * norm with the fuse-ReLU flag; not fused when the BN output has another
 * reader (shared: also added to the result). fp32 and bf16 against the oracle. */
static zn_graph *bn_relu_graph(bool shared) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 16, 9, 9}, cd[1] = {16}, wd[4] = {16, 16, 1, 1};
  int x = bt_input(g, "x", 4, xd), b, r, y;
  int bi[5] = {x, bt_const(g, "s", 1, cd, 21, 0.5f, 1.5f), bt_const(g, "t", 1, cd, 22, -0.5f, 0.5f),
               bt_const(g, "m", 1, cd, 23, -0.5f, 0.5f), bt_const(g, "v", 1, cd, 24, 0.5f, 1.5f)};
  bt_node(g, ZN_OP_BATCH_NORM, "bn", 5, bi, "b", &b)->attrs.batch_norm.epsilon = 1e-5f;
  bt_node(g, ZN_OP_RELU, "relu", 1, &b, "r", &r);
  int ci[2] = {r, bt_const(g, "w", 4, wd, 25, -0.3f, 0.3f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "y", &y), 1, 1, 0, 1, 1);
  if (shared) {
    int z, ai[2] = {y, b};
    bt_node(g, ZN_OP_ADD, "add", 2, ai, "z", &z);
    zn_graph_mark_output(g, z);
  } else {
    zn_graph_mark_output(g, y);
  }
  return g;
}

static void test_bn_relu(void) {
  char text[4096];
  for (int shared = 0; shared <= 1; shared++) {
    zn_graph *g = bn_relu_graph(shared);
    for (int64_t b = 1; b <= 3; b += 2) bt_compare(&zn_backend_onednn, "bn+relu", g, b, ZN_PRECISION_FP32, 2, 1e-4);
    describe_of(g, ZN_PRECISION_FP32, text, sizeof text);
    CHECK((strstr(text, "batch norm + ReLU fused (fuse_norm_relu): 1") != NULL) == !shared);
    CHECK((strstr(text, "eltwise") != NULL) == (bool)shared);
    if (describe_of(g, ZN_PRECISION_BF16, text, sizeof text) > 0)
      bt_compare(&zn_backend_onednn, "bn+relu bf16", g, 3, ZN_PRECISION_BF16, 1, 3e-2);
    zn_graph_destroy(g);
  }
}

/* x -> s = conv1x1+relu; e1 = conv1x1(s)+relu, e3 = conv3x3(s)+clip (a fire
 * module); y = cat(e1, e3) [kind 1: + maxpool(s); kind 2: e1 also read by
 * conv1x1 z, an output; kind 3: DenseNet-like, y read by conv1x1 d and
 * cat(y, d) as the output]. Odd sizes, channels not multiples of 16. */
static zn_graph *fire_graph(int kind) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 5, 9, 9}, ws[4] = {6, 5, 1, 1}, w1[4] = {7, 6, 1, 1}, w3[4] = {10, 6, 3, 3}, b1d[1] = {7};
  int x = bt_input(g, "x", 4, xd), sq, e1, e3, y;
  int is[2] = {x, bt_const(g, "ws", 4, ws, 31, -0.5f, 0.5f)};
  bt_conv1x1(g, "squeeze", 2, is, "s", &sq, bt_act(ZN_ACT_RELU, 0, 0));
  int i1[3] = {sq, bt_const(g, "w1", 4, w1, 32, -0.5f, 0.5f), bt_const(g, "b1", 1, b1d, 33, -0.5f, 0.5f)};
  bt_conv1x1(g, "expand1x1", 3, i1, "e1", &e1, bt_act(ZN_ACT_RELU, 0, 0));
  int i3[2] = {sq, bt_const(g, "w3", 4, w3, 34, -0.3f, 0.3f)};
  zn_node *n = bt_node(g, ZN_OP_CONV, "expand3x3", 2, i3, "e3", &e3);
  bt_conv_attrs(n, 3, 1, 1, 1, 1);
  n->attrs.conv.act = bt_act(ZN_ACT_CLIP, 0, 6);
  int ci[3] = {e1, e3, -1}, nin = 2;
  if (kind == 1) {
    n = bt_node(g, ZN_OP_MAX_POOL, "pool", 1, &sq, "p", &ci[2]);
    bt_pool_attrs(n, 3, 1, 1, false, false);
    nin = 3;
  }
  bt_node(g, ZN_OP_CONCAT, "cat", nin, ci, "y", &y)->attrs.axis.axis = 1;
  if (kind == 2) {
    int64_t wz[4] = {4, 7, 1, 1};
    int z, iz[2] = {e1, bt_const(g, "wz", 4, wz, 35, -0.5f, 0.5f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "other_reader", 2, iz, "z", &z), 1, 1, 0, 1, 1);
    zn_graph_mark_output(g, z);
  }
  if (kind == 3) {
    int64_t wd[4] = {8, 17, 1, 1};
    int d, y2, id[2] = {y, bt_const(g, "wd", 4, wd, 36, -0.5f, 0.5f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "dense", 2, id, "d", &d), 1, 1, 0, 1, 1);
    int c2[2] = {y, d};
    bt_node(g, ZN_OP_CONCAT, "cat2", 2, c2, "y2", &y2)->attrs.axis.axis = 1;
    y = y2;
  }
  zn_graph_mark_output(g, y);
  return g;
}

/* Zero-copy concat: with the own Winograd forced, a concat of a 1x1 conv
 * (run as a matmul with a strided dst) and a Winograd conv loses its step;
 * a pool input, or a producer whose output has another reader, keeps it.
 * Against the oracle at batch 1 and 3, 1 and 2 threads (switching to the
 * 1-thread set mid-run), on and off; describe() counts them. */
static void test_zero_copy_concat(void) {
  static const int expect[4] = {1, 0, 0, 1};
  char text[8192], want[128];
  for (int kind = 0; kind < 4; kind++) {
    zn_graph *g = fire_graph(kind);
    CHECK_OK(zn_graph_infer_shapes(g));
    for (int on = 0; on <= 1; on++) {
      odn_tuning t = {ODN_BF16_DEFAULT_F32, 0, 2, 0, 1, on, true, true, 0, true};
      for (int64_t b = 1; b <= 3; b += 2)
        for (int th = 1; th <= 2; th++) {
          double e = tuned_err(g, ZN_PRECISION_FP32, &t, b, th, th - 1, th == 2 ? 4 : -1, text, sizeof text);
          if (!(e <= 1e-4))
            fprintf(stderr, "zero-copy concat kind %d on %d batch %lld threads %d: rel err %g\n", kind, on,
                    (long long)b, th, e);
          CHECK(e <= 1e-4);
        }
      snprintf(want, sizeof want, "1x1 convs as matmul): %s, %d concats", on ? "on" : "off", on ? expect[kind] : 0);
      CHECK(strstr(text, want) != NULL);
      CHECK((strstr(text, " matmul:") != NULL) == (on && expect[kind] > 0));  /* a 1x1 conv run as a matmul */
    }
    zn_graph_destroy(g);
  }
  /* the default tuning (own Winograd timed: the concat may or may not qualify) */
  zn_graph *g = fire_graph(3);
  bt_compare(&zn_backend_onednn, "zero-copy concat, default tuning", g, 3, ZN_PRECISION_FP32, 2, 1e-4);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  test_zero_copy_concat();
  test_fc_layouts();
  test_own_winograd();
  test_bn_relu();
  test_winograd();
  test_bf16_schemes();
  test_adaptive_threads();
  test_constant_output();
  test_residual();
  test_small_cnn();
  test_lifecycle();
  test_two_threads();
  test_bf16();
  return 0;
}
