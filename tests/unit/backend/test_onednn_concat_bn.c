/* onednn backend, own channel concat (concat.c): Concat -> BatchNormalization
 * [-> ReLU] as one step against the ref oracle (2 to 4 inputs, channel counts
 * off the 16-lane blocks, batch 1 and 3, 1 and 2 threads), an input produced by
 * a forced Winograd conv (read in nChw16c, no reorder), plain concats with
 * ZN_ONEDNN_CONCAT=all, and the cases that keep oneDNN's concat (another
 * reader of the concat, ZN_ONEDNN_CONCAT=onednn, bf16). */
#include "backend_test.h"

#include "backend/onednn/onednn.h"

#define TOL 1e-5

/* Concat(inputs of chans[0..k)) -> BN [-> ReLU] [-> conv1x1 when conv]; extra:
 * a second reader (Sigmoid) of the concat output, also a graph output. */
static zn_graph *concat_bn_graph(int k, const int64_t *chans, int64_t s, bool relu, bool conv, bool extra) {
  zn_graph *g = bt_graph();
  int ins[8], total = 0, cat, y;
  for (int i = 0; i < k; i++) {
    char name[16];
    snprintf(name, sizeof name, "x%d", i);
    int64_t d[4] = {1, chans[i], s, s};
    ins[i] = bt_input(g, name, 4, d);
    total += (int)chans[i];
  }
  bt_node(g, ZN_OP_CONCAT, "cat", k, ins, "cat", &cat)->attrs.axis.axis = 1;
  int64_t cd[1] = {total};
  int bi[5] = {cat, bt_const(g, "gamma", 1, cd, 11, 0.5f, 1.5f), bt_const(g, "beta", 1, cd, 12, -0.5f, 0.5f),
               bt_const(g, "mean", 1, cd, 13, -0.3f, 0.3f), bt_const(g, "var", 1, cd, 14, 0.2f, 2.f)};
  bt_node(g, ZN_OP_BATCH_NORM, "bn", 5, bi, "bn", &y)->attrs.batch_norm.epsilon = 1e-5f;
  if (relu) {
    int r;
    bt_node(g, ZN_OP_RELU, "relu", 1, &y, "relu", &r);
    y = r;
  }
  if (conv) {
    int64_t wd[4] = {8, total, 1, 1};
    int z, ci[2] = {y, bt_const(g, "w", 4, wd, 15, -0.3f, 0.3f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "z", &z), 1, 1, 0, 1, 1);
    y = z;
  }
  zn_graph_mark_output(g, y);
  if (extra) {
    int e;
    bt_node(g, ZN_OP_SIGMOID, "other", 1, &cat, "other", &e);
    zn_graph_mark_output(g, e);
  }
  return g;
}

static void describe_default(const zn_graph *g, zn_precision p, char *text, size_t size) {
  void *compiled = NULL;
  zn_backend_compile_options co = {.precision = p};
  text[0] = 0;
  CHECK_OK(zn_backend_onednn.compile(g, &co, &compiled));
  if (compiled) zn_backend_onednn.describe(compiled, text, size);
  zn_backend_onednn.compiled_destroy(compiled);
}

static void test_concat_bn(void) {
  static const int64_t chans[][4] = {{3, 48}, {48, 17, 3}, {16, 5, 32, 17}, {7}};
  static const int counts[] = {2, 3, 4, 1};
  char what[128], text[4096];
  for (size_t i = 0; i < ZN_ARRAY_SIZE(counts); i++)
    for (int v = 0; v < 3; v++) {  /* 0: BN only; 1: BN + ReLU; 2: BN + ReLU + conv */
      zn_graph *g = concat_bn_graph(counts[i], chans[i], 5 + (int64_t)i, v >= 1, v == 2, false);
      for (int64_t b = 1; b <= 3; b += 2)
        for (int t = 1; t <= 2; t++) {
          snprintf(what, sizeof what, "concat of %d -> bn%s%s threads %d", counts[i], v >= 1 ? " -> relu" : "",
                   v == 2 ? " -> conv" : "", t);
          bt_compare(&zn_backend_onednn, what, g, b, ZN_PRECISION_FP32, t, TOL);
        }
      describe_default(g, ZN_PRECISION_FP32, text, sizeof text);
      CHECK(strstr(text, "1 own channel concats (+ batch norm read in one pass): 1 zenith:concat+batch_norm") != NULL);
      CHECK(strstr(text, "batch norms:") == NULL);
      CHECK(strstr(text, "concats:") == NULL || strstr(text, "concats:") > strstr(text, "own channel"));
      CHECK((strstr(text, "batch norm + ReLU fused") != NULL) == (v >= 1));
      zn_graph_destroy(g);
    }
}

/* A large enough map that 2 threads split it (PARALLEL_MIN_FLOATS). */
static void test_parallel(void) {
  static const int64_t chans[3] = {48, 17, 96};
  zn_graph *g = concat_bn_graph(3, chans, 23, true, false, false);
  for (int64_t b = 1; b <= 3; b += 2) bt_compare(&zn_backend_onednn, "concat -> bn -> relu 23x23", g, b, ZN_PRECISION_FP32, 2, TOL);
  zn_graph_destroy(g);
}

/* The concat output has another reader: oneDNN's concat and a separate batch norm. */
static void test_not_applicable(void) {
  static const int64_t chans[2] = {3, 48};
  char text[4096];
  zn_graph *g = concat_bn_graph(2, chans, 6, true, false, true);
  bt_compare(&zn_backend_onednn, "concat with two readers", g, 3, ZN_PRECISION_FP32, 2, TOL);
  describe_default(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "own channel") == NULL);
  CHECK(strstr(text, "1 concats:") != NULL && strstr(text, "1 batch norms:") != NULL);
  zn_graph_destroy(g);

  g = concat_bn_graph(2, chans, 6, true, false, false);
  setenv("ZN_ONEDNN_CONCAT", "onednn", 1);
  bt_compare(&zn_backend_onednn, "ZN_ONEDNN_CONCAT=onednn", g, 3, ZN_PRECISION_FP32, 2, TOL);
  describe_default(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "own channel") == NULL && strstr(text, "1 concats:") != NULL);
  unsetenv("ZN_ONEDNN_CONCAT");
  void *compiled = NULL;
  zn_backend_compile_options co = {.precision = ZN_PRECISION_BF16};
  if (zn_graph_infer_shapes(g) == ZN_OK && zn_backend_onednn.compile(g, &co, &compiled) == ZN_OK) {
    zn_backend_onednn.describe(compiled, text, sizeof text);
    CHECK(strstr(text, "own channel") == NULL);  /* fp32 only */
    zn_backend_onednn.compiled_destroy(compiled);
  }
  zn_graph_destroy(g);
}

/* Plain channel concats on the own kernel (ZN_ONEDNN_CONCAT=all), one of them
 * feeding a graph output directly. */
static void test_plain(void) {
  static const int64_t chans[3] = {17, 48, 3};
  char text[4096];
  zn_graph *g = bt_graph();
  int ins[3], cat, r;
  for (int i = 0; i < 3; i++) {
    int64_t d[4] = {1, chans[i], 9, 9};
    char name[8];
    snprintf(name, sizeof name, "x%d", i);
    ins[i] = bt_input(g, name, 4, d);
  }
  bt_node(g, ZN_OP_CONCAT, "cat", 3, ins, "cat", &cat)->attrs.axis.axis = 1;
  bt_node(g, ZN_OP_RELU, "relu", 1, &cat, "relu", &r);
  zn_graph_mark_output(g, r);
  zn_graph_mark_output(g, cat);
  setenv("ZN_ONEDNN_CONCAT", "all", 1);
  for (int64_t b = 1; b <= 3; b += 2)
    for (int t = 1; t <= 2; t++) bt_compare(&zn_backend_onednn, "plain concat (own)", g, b, ZN_PRECISION_FP32, t, 0);
  describe_default(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "1 own channel concats (+ batch norm read in one pass): 1 zenith:concat\n") != NULL);
  unsetenv("ZN_ONEDNN_CONCAT");
  describe_default(g, ZN_PRECISION_FP32, text, sizeof text);
  CHECK(strstr(text, "own channel") == NULL);
  zn_graph_destroy(g);
}

/* x -> Winograd conv 3x3 (forced; nChw16c output of oc channels), concatenated
 * with the NHWC input z -> BN -> ReLU -> conv1x1. The own concat reads the
 * blocked value directly: the only conversion left is x into nChw16c. */
static zn_graph *wino_graph(int64_t oc, int64_t s) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 16, s, s}, zd[4] = {1, 17, s, s}, wd[4] = {oc, 16, 3, 3}, bd[1] = {oc};
  int x = bt_input(g, "x", 4, xd), z = bt_input(g, "z", 4, zd), a, cat, y, r;
  int ci[3] = {x, bt_const(g, "w", 4, wd, 21, -0.2f, 0.2f), bt_const(g, "b", 1, bd, 22, -0.5f, 0.5f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "wino", 3, ci, "a", &a), 3, 1, 1, 1, 1);
  int cc[2] = {z, a};
  bt_node(g, ZN_OP_CONCAT, "cat", 2, cc, "cat", &cat)->attrs.axis.axis = 1;
  int64_t cd[1] = {17 + oc};
  int bi[5] = {cat, bt_const(g, "gamma", 1, cd, 11, 0.5f, 1.5f), bt_const(g, "beta", 1, cd, 12, -0.5f, 0.5f),
               bt_const(g, "mean", 1, cd, 13, -0.3f, 0.3f), bt_const(g, "var", 1, cd, 14, 0.2f, 2.f)};
  bt_node(g, ZN_OP_BATCH_NORM, "bn", 5, bi, "bn", &y)->attrs.batch_norm.epsilon = 1e-5f;
  bt_node(g, ZN_OP_RELU, "relu", 1, &y, "relu", &r);
  int64_t w2[4] = {8, 17 + oc, 1, 1};
  int out, c2[2] = {r, bt_const(g, "w2", 4, w2, 23, -0.3f, 0.3f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, c2, "out", &out), 1, 1, 0, 1, 1);
  zn_graph_mark_output(g, out);
  return g;
}

static void test_winograd_input(void) {
  static const int64_t ocs[2] = {32, 48};
  for (int i = 0; i < 2; i++) {
    zn_graph *g = wino_graph(ocs[i], 12);
    CHECK_OK(zn_graph_infer_shapes(g));
    odn_tuning force = zn_onednn_tuning_from_env();
    force.winograd = 2;
    void *compiled = NULL;
    CHECK_OK(zn_onednn_compile_tuned(g, NULL, &force, &compiled));
    if (!compiled) { zn_graph_destroy(g); continue; }
    char text[4096];
    zn_backend_onednn.describe(compiled, text, sizeof text);
    CHECK(strstr(text, "forced): 1 convs") != NULL);
    CHECK(strstr(text, "1 own channel concats (+ batch norm read in one pass): 1 zenith:concat+batch_norm") != NULL);
    CHECK(strstr(text, "1 layout/type conversions") != NULL);  /* x -> nChw16c only */
    for (int64_t b = 1; b <= 3; b += 2)
      for (int t = 1; t <= 2; t++) {
        bt_io a = {0}, r = {0};  /* deinit-safe when an init before it fails */
        CHECK(bt_io_init(&a, g, b, 7) && bt_io_init(&r, g, b, 7));
        CHECK_OK(bt_run(&zn_backend_ref, g, b, ZN_PRECISION_FP32, 1, &r));
        void *inst = NULL;
        zn_backend_instance_options io = {t, NULL, 0, NULL};
        CHECK_OK(zn_backend_onednn.instance_create(compiled, &io, &inst));
        if (inst) {
          CHECK_OK(zn_backend_onednn.instance_reshape(inst, b));
          CHECK_OK(zn_backend_onednn.instance_run(inst, (const void *const *)a.in, (void *const *)a.out));
          double e = bt_rel_err(a.out[0], r.out[0], r.out_count[0]);
          if (!(e <= TOL)) fprintf(stderr, "winograd input oc %lld batch %lld threads %d: max relative error %.3g\n",
                                   (long long)ocs[i], (long long)b, t, e);
          CHECK(e <= TOL);
          zn_backend_onednn.instance_destroy(inst);
        }
        bt_io_deinit(&a);
        bt_io_deinit(&r);
      }
    zn_backend_onednn.compiled_destroy(compiled);
    zn_graph_destroy(g);
  }
}

int zn_test_main(void) {
  unsetenv("ZN_ONEDNN_CONCAT");
  test_concat_bn();
  test_parallel();
  test_not_applicable();
  test_plain();
  test_winograd_input();
  return 0;
}
