/* xnnpack backend, op by op against the ref oracle on small shapes that cross
 * tile edges (channels 1, 3, 17, 64; spatial 1, 7, 13; batch 1 and 3):
 * max relative error <= 1e-4 in fp32. Also what XNNPACK lacks and the backend
 * does around it: count_include_pad, ceil_mode, LRN, BatchNorm, Winograd
 * F(2x2,3x3) for 3x3 stride-1 convs. */
#include "backend_test.h"
#include "backend/xnnpack/xnnpack_internal.h"

#define TOL 1e-4

static const zn_backend_ops *xnn;

static void finish(const char *what, zn_graph *g, int64_t batch, int threads) {
  bt_compare(xnn, what, g, batch, ZN_PRECISION_FP32, threads, TOL);
  zn_graph_destroy(g);
}

/* input [N,cin,s,s] -> Conv(k, stride, pad, dilation, group, act) [+ residual] -> output */
static void conv_case(int64_t cin, int64_t cout, int64_t s, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                      int64_t group, bool bias, zn_act act, bool residual, int64_t batch, int threads) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, cin, s, s}, wd[4] = {cout, cin / group, k, k}, bd[1] = {cout};
  const int64_t os = (s + 2 * pad - dil * (k - 1) - 1) / stride + 1;
  int64_t rd[4] = {1, cout, os, os};
  int in[4] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 7, -0.5f, 0.5f),
               bias ? bt_const(g, "b", 1, bd, 8, -1, 1) : ZN_NO_VALUE, ZN_NO_VALUE};
  if (residual) in[3] = bt_input(g, "r", 4, rd);
  int y;
  zn_node *n = bt_node(g, ZN_OP_CONV, "conv", residual ? 4 : 3, in, "y", &y);
  bt_conv_attrs(n, k, stride, pad, dil, group);
  n->attrs.conv.act = act;
  zn_graph_mark_output(g, y);
  char what[160];
  snprintf(what, sizeof what, "conv c%lld->%lld s%lld k%lld st%lld p%lld d%lld g%lld bias%d act%d res%d t%d",
           (long long)cin, (long long)cout, (long long)s, (long long)k, (long long)stride, (long long)pad,
           (long long)dil, (long long)group, bias, act.kind, residual, threads);
  finish(what, g, batch, threads);
}

static void test_conv(void) {
  const int64_t chans[] = {1, 3, 17, 64}, sizes[] = {1, 7, 13};
  const zn_act none = {ZN_ACT_NONE, 0, 0}, relu = {ZN_ACT_RELU, 0, 0}, relu6 = {ZN_ACT_CLIP, 0, 6};
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 4; b++)
      for (size_t s = 0; s < 3; s++) {
        conv_case(chans[a], chans[b], sizes[s], 3, 1, 1, 1, 1, true, none, false, 1, 1);
        conv_case(chans[a], chans[b], sizes[s], 1, 1, 0, 1, 1, a == b, relu, false, 3, 1);
      }
  for (size_t s = 0; s < 3; s++) {
    conv_case(17, 33, sizes[s], 3, 2, 1, 1, 1, true, relu, false, 3, 1);
    conv_case(64, 64, sizes[s], 3, 1, 1, 1, 64, true, relu6, false, 1, 1);  /* depthwise + ReLU6 */
    conv_case(17, 17, sizes[s], 3, 2, 1, 1, 17, true, relu6, false, 3, 1);  /* depthwise stride 2 */
    conv_case(3, 3, sizes[s], 5, 1, 2, 1, 3, false, none, false, 1, 1);     /* depthwise 5x5 */
    conv_case(16, 32, sizes[s], 3, 1, 1, 1, 4, false, none, false, 1, 1);   /* grouped */
    conv_case(8, 16, sizes[s], 3, 1, 1, 1, 8, true, none, false, 1, 1);     /* depth multiplier 2 */
  }
  conv_case(3, 64, 13, 7, 2, 3, 1, 1, true, relu, false, 1, 1);     /* ResNet stem shape */
  conv_case(8, 16, 13, 3, 1, 2, 2, 1, true, relu, false, 1, 1);     /* dilated */
  conv_case(8, 16, 13, 3, 2, 0, 1, 1, true, none, false, 3, 1);     /* no padding, stride 2 */
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, (zn_act){ZN_ACT_CLIP, -0.25f, 0.25f}, false, 1, 1);
  /* fused residual Add (input 3), activation after the add */
  conv_case(17, 17, 7, 3, 1, 1, 1, 1, true, relu, true, 1, 1);
  conv_case(64, 64, 13, 1, 1, 0, 1, 1, true, none, true, 3, 1);
  conv_case(16, 16, 7, 3, 1, 1, 1, 16, true, relu6, true, 3, 1);
  /* more threads than one */
  conv_case(17, 64, 13, 3, 1, 1, 1, 1, true, relu, true, 3, 2);
  conv_case(64, 64, 13, 3, 2, 1, 1, 64, true, relu6, false, 3, 2);
}

/* Stem convs (<= 4 input channels, kernel >= 5x5) as im2col + GEMM: several
 * blocks per thread, 1..3 threads, batch 3, padding on every side, strides
 * 1/2/4, an input that is a view with a wider pixel stride; describe() must
 * count them, so a case cannot pass on the direct path. */
static int described_im2col(const zn_graph *g) {
  void *compiled = NULL;
  char text[4096] = "";
  int convs = 0;
  if (xnn->compile(g, NULL, &compiled) == ZN_OK) {
    xnn->describe(compiled, text, sizeof text);
    const char *p = strstr(text, " x few-channel conv as C im2col");
    if (p) {
      while (p > text && p[-1] != ':') p--;
      convs = atoi(p);
    }
    xnn->compiled_destroy(compiled);
  } else {
    convs = -1;
  }
  return convs;
}

static void im2col_case(int64_t cin, int64_t cout, int64_t s, int64_t k, int64_t stride, int64_t pad, bool bias,
                        zn_act act, int64_t batch, int threads) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, cin, s, s}, wd[4] = {cout, cin, k, k}, bd[1] = {cout};
  int in[3] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 9, -0.5f, 0.5f),
               bias ? bt_const(g, "b", 1, bd, 10, -1, 1) : ZN_NO_VALUE};
  int y;
  zn_node *n = bt_node(g, ZN_OP_CONV, "conv", 3, in, "y", &y);
  bt_conv_attrs(n, k, stride, pad, 1, 1);
  n->attrs.conv.act = act;
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  char what[160];
  snprintf(what, sizeof what, "im2col conv c%lld->%lld s%lld k%lld st%lld p%lld bias%d act%d b%lld t%d",
           (long long)cin, (long long)cout, (long long)s, (long long)k, (long long)stride, (long long)pad, bias,
           act.kind, (long long)batch, threads);
  if (described_im2col(g) != 1) {
    CHECK_EQ_INT(described_im2col(g), 1);
    fprintf(stderr, "  in %s\n", what);
  }
  finish(what, g, batch, threads);
}

static void test_im2col(void) {
  const zn_act none = {ZN_ACT_NONE, 0, 0}, relu = {ZN_ACT_RELU, 0, 0}, clip = {ZN_ACT_CLIP, -0.25f, 0.25f};
  const int64_t sizes[] = {1, 5, 13, 30};
  for (int threads = 1; threads <= 3; threads++)
    for (size_t s = 0; s < 4; s++) {
      im2col_case(3, 64, sizes[s], 7, 2, 3, true, relu, s % 2 ? 3 : 1, threads); /* ResNet stem */
      im2col_case(1, 16, sizes[s], 5, 1, 2, false, clip, 1, threads);
      im2col_case(4, 20, sizes[s] + 10, 11, 4, 2, true, none, 3, threads); /* AlexNet-like */
    }
  im2col_case(3, 8, 40, 7, 1, 3, true, relu, 2, 2); /* 3200 rows: several blocks per thread */
  im2col_case(2, 5, 9, 5, 1, 0, true, none, 1, 1);  /* no padding */
  {
    /* Input a view (channels 0..2 of a concat root of 8: pixel stride 8),
     * output a channel slice of another concat. */
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 3, 15, 15}, ad[4] = {3, 3, 1, 1}, bd[4] = {5, 3, 1, 1}, wd[4] = {6, 3, 7, 7};
    int x = bt_input(g, "x", 4, xd), a, b, cat, y, cat2;
    int ain[2] = {x, bt_const(g, "wa", 4, ad, 5, -1, 1)}, bin[2] = {x, bt_const(g, "wb", 4, bd, 6, -1, 1)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "a", 2, ain, "a", &a), 1, 1, 0, 1, 1);
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "b", 2, bin, "b", &b), 1, 1, 0, 1, 1);
    int ci[2] = {a, b};
    bt_node(g, ZN_OP_CONCAT, "cat", 2, ci, "cat", &cat)->attrs.axis.axis = 1;
    int yin[2] = {a, bt_const(g, "wy", 4, wd, 7, -0.3f, 0.3f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "stem", 2, yin, "y", &y), 7, 1, 3, 1, 1);
    int c2[2] = {b, y};
    bt_node(g, ZN_OP_CONCAT, "cat2", 2, c2, "cat2", &cat2)->attrs.axis.axis = 1;
    zn_graph_mark_output(g, cat);
    zn_graph_mark_output(g, cat2);
    CHECK_OK(zn_graph_infer_shapes(g));
    CHECK_EQ_INT(described_im2col(g), 1);
    finish("im2col conv on a view into a concat slice", g, 2, 2);
  }
  /* Not taken: a fused residual, 5 input channels, a 3x3 kernel; and off. */
  conv_case(3, 16, 13, 7, 1, 3, 1, 1, true, relu, true, 1, 2);
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 5, 9, 9}, wd[4] = {8, 5, 7, 7}, td[4] = {1, 3, 9, 9}, twd[4] = {8, 3, 3, 3};
  int x = bt_input(g, "x", 4, xd), y, i0[2] = {x, bt_const(g, "w", 4, wd, 1, -1, 1)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c5", 2, i0, "y", &y), 7, 1, 3, 1, 1);
  int xt = bt_input(g, "xt", 4, td), yt, i1[2] = {xt, bt_const(g, "wt", 4, twd, 2, -1, 1)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "k3", 2, i1, "yt", &yt), 3, 1, 1, 1, 1);
  zn_graph_mark_output(g, y);
  zn_graph_mark_output(g, yt);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(described_im2col(g), 0);
  zn_graph_destroy(g);
  setenv("ZN_XNNPACK_IM2COL", "0", 1);
  g = bt_graph();
  int64_t sd[4] = {1, 3, 13, 13}, swd[4] = {8, 3, 7, 7};
  int xs = bt_input(g, "x", 4, sd), ys, is[2] = {xs, bt_const(g, "w", 4, swd, 1, -1, 1)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c", 2, is, "y", &ys), 7, 2, 3, 1, 1);
  zn_graph_mark_output(g, ys);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(described_im2col(g), 0);
  finish("stem conv with im2col off", g, 1, 2);
  unsetenv("ZN_XNNPACK_IM2COL");
}

static void pool_case(zn_op op, int64_t c, int64_t s, int64_t k, int64_t stride, int64_t pad, bool ceil_mode,
                      bool include_pad, int64_t batch) {
  char what[160];
  zn_graph *g = bt_pool_graph(op, c, s, k, stride, pad, ceil_mode, include_pad, what, sizeof what);
  finish(what, g, batch, 1);
}

static void test_pool(void) {
  const int64_t chans[] = {1, 3, 17, 64}, sizes[] = {7, 13};
  for (size_t a = 0; a < 4; a++) {
    for (size_t s = 0; s < 2; s++) {
      pool_case(ZN_OP_MAX_POOL, chans[a], sizes[s], 3, 2, 1, false, false, 1);
      pool_case(ZN_OP_MAX_POOL, chans[a], sizes[s], 3, 2, 0, true, false, 3);    /* SqueezeNet ceil_mode */
      pool_case(ZN_OP_MAX_POOL, chans[a], sizes[s], 2, 2, 0, true, false, 1);    /* odd size, ceil */
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 3, 1, 1, false, true, 1); /* Inception */
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 3, 1, 1, false, false, 3);
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 2, 2, 0, false, false, 1); /* DenseNet transition */
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 3, 2, 1, true, true, 3);   /* ceil + include pad */
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 3, 2, 1, true, false, 1);  /* ceil, exclude pad */
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 3, 2, 0, true, true, 1);   /* ceil, no pad */
    }
    for (int64_t s = 1; s <= 13; s += 6) {
      pool_case(ZN_OP_GLOBAL_AVERAGE_POOL, chans[a], s, 0, 0, 0, false, false, a % 2 ? 3 : 1);
      pool_case(ZN_OP_GLOBAL_MAX_POOL, chans[a], s, 0, 0, 0, false, false, a % 2 ? 1 : 3);
    }
  }
  pool_case(ZN_OP_AVERAGE_POOL, 5, 13, 5, 3, 2, true, true, 3);
  pool_case(ZN_OP_MAX_POOL, 5, 13, 5, 3, 2, true, false, 3);
  /* 3x3, pads 2: XNNPACK's max pooling reads up to XNN_EXTRA_BYTES past its
   * input, here past the last buffer of the arena (fuzz_model_run, with the
   * arena against a guard page) */
  pool_case(ZN_OP_MAX_POOL, 3, 28, 3, 1, 2, false, false, 1);
  pool_case(ZN_OP_AVERAGE_POOL, 3, 28, 3, 1, 2, false, true, 1);
}

/* A unary op over an NHWC tensor [N,c,s,s] or a plain [N,c]. */
static void unary_case(zn_op op, zn_act act, int64_t c, int64_t s, int rank, int64_t batch) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, s, s};
  int x = bt_input(g, "x", rank, xd), y;
  zn_node *n = bt_node(g, op, "op", 1, &x, "y", &y);
  if (op == ZN_OP_SOFTMAX) n->attrs.softmax.axis = 1;
  else if (op == ZN_OP_LRN) n->attrs.lrn = (zn_lrn_attrs){5, 1e-4f * 100, 0.75f, 2.0f};
  else n->attrs.act = act;
  zn_graph_mark_output(g, y);
  char what[160];
  snprintf(what, sizeof what, "%s c%lld s%lld rank%d", zn_op_name(op), (long long)c, (long long)s, rank);
  finish(what, g, batch, 1);
}

static void test_unary(void) {
  const int64_t chans[] = {1, 3, 17, 64}, sizes[] = {1, 7, 13};
  for (size_t a = 0; a < 4; a++)
    for (size_t s = 0; s < 3; s++) {
      const int64_t b = (a + s) % 2 ? 3 : 1;
      unary_case(ZN_OP_RELU, (zn_act){ZN_ACT_RELU, 0, 0}, chans[a], sizes[s], 4, b);
      unary_case(ZN_OP_CLIP, (zn_act){ZN_ACT_CLIP, -0.5f, 0.25f}, chans[a], sizes[s], 4, b);
      unary_case(ZN_OP_LEAKY_RELU, (zn_act){ZN_ACT_LEAKY_RELU, 0.1f, 0}, chans[a], sizes[s], 4, b);
      unary_case(ZN_OP_SIGMOID, (zn_act){ZN_ACT_SIGMOID, 0, 0}, chans[a], sizes[s], 4, b);
      unary_case(ZN_OP_HARD_SWISH, (zn_act){ZN_ACT_HARD_SWISH, 0, 0}, chans[a], sizes[s], 4, b);
      unary_case(ZN_OP_SOFTMAX, (zn_act){0}, chans[a], sizes[s], 4, b);
      unary_case(ZN_OP_LRN, (zn_act){0}, chans[a], sizes[s], 4, b);
    }
  for (size_t a = 0; a < 4; a++) {
    unary_case(ZN_OP_SOFTMAX, (zn_act){0}, chans[a] * 31, 0, 2, 3);
    unary_case(ZN_OP_RELU, (zn_act){ZN_ACT_RELU, 0, 0}, chans[a], 0, 2, 3);
  }
}

static void test_batch_norm(void) {
  const int64_t chans[] = {1, 3, 17, 64}, sizes[] = {1, 7, 13};
  for (size_t a = 0; a < 4; a++)
    for (size_t s = 0; s < 3; s++) {
      zn_graph *g = bt_graph();
      const int64_t C = chans[a];
      int64_t xd[4] = {1, C, sizes[s], sizes[s]}, cd[1] = {C};
      int in[5] = {bt_input(g, "x", 4, xd), bt_const(g, "scale", 1, cd, 1, 0.5f, 1.5f),
                   bt_const(g, "bias", 1, cd, 2, -1, 1), bt_const(g, "mean", 1, cd, 3, -0.5f, 0.5f),
                   bt_const(g, "var", 1, cd, 4, 0.5f, 2.0f)};
      int y;
      zn_node *n = bt_node(g, ZN_OP_BATCH_NORM, "bn", 5, in, "y", &y);
      n->attrs.batch_norm.epsilon = 1e-5f;
      zn_graph_mark_output(g, y);
      char what[96];
      snprintf(what, sizeof what, "BatchNormalization c%lld s%lld", (long long)C, (long long)sizes[s]);
      finish(what, g, s == 1 ? 3 : 1, 1);
    }
}

static void test_binary_and_reshape(void) {
  const zn_op ops[] = {ZN_OP_ADD, ZN_OP_SUB, ZN_OP_MUL, ZN_OP_DIV};
  for (size_t k = 0; k < 4; k++) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 17, 7, 7};
    int in[2] = {bt_input(g, "a", 4, xd), bt_input(g, "b", 4, xd)}, y;
    bt_node(g, ops[k], "op", 2, in, "y", &y);
    zn_graph_mark_output(g, y);
    finish(zn_op_name(ops[k]), g, 3, 1);
  }
  /* by constants: scalar and per channel ([1,C,1,1], [C,1,1]) on NHWC, the last
   * axis ([K], [1,K]) of a plain tensor, the constant first for Add and Mul */
  for (size_t k = 0; k < 4; k++)
    for (int form = 0; form < 4; form++) {
      zn_graph *g = bt_graph();
      int64_t xd[4] = {1, 17, 5, 6}, pd[2] = {1, 9}, cd[4] = {1, 17, 1, 1};
      const bool plain = form == 3;
      int x = bt_input(g, "x", plain ? 2 : 4, plain ? pd : xd), y;
      int rank = form == 0 ? 0 : form == 1 ? 4 : form == 2 ? 3 : 1;
      const int64_t *dims = form == 1 ? cd : form == 2 ? cd + 1 : form == 3 ? pd + 1 : NULL;
      int b = bt_const(g, "b", rank, dims, 9 + (uint64_t)form, 0.5f, 1.5f);
      const bool first = (ops[k] == ZN_OP_ADD || ops[k] == ZN_OP_MUL) && form % 2 == 0;
      int in[2] = {first ? b : x, first ? x : b};
      bt_node(g, ops[k], "op", 2, in, "y", &y);
      zn_graph_mark_output(g, y);
      char what[96];
      snprintf(what, sizeof what, "%s by a constant (%s%s)", zn_op_name(ops[k]),
               form == 0 ? "scalar" : form == 3 ? "last axis" : "per channel", first ? ", first" : "");
      finish(what, g, 3, 1);
    }
  /* refused: a constant first for Sub, a constant broadcast along W of NHWC */
  for (int k = 0; k < 2; k++) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 4, 5, 6}, wd[1] = {6};
    int x = bt_input(g, "x", 4, xd), b = bt_const(g, "b", k ? 1 : 0, k ? wd : NULL, 3, 0.5f, 1.5f), y;
    int in[2] = {k ? x : b, k ? b : x};
    bt_node(g, k ? ZN_OP_MUL : ZN_OP_SUB, "op", 2, in, "y", &y);
    zn_graph_mark_output(g, y);
    CHECK_OK(zn_graph_infer_shapes(g));
    char why[256] = "";
    CHECK(!xnn->supports_node(g, &g->nodes[0], why, sizeof why));
    CHECK(strstr(why, "one value per channel") != NULL);
    zn_graph_destroy(g);
  }
  /* Conv -> Flatten (NHWC -> plain order) -> Gemm, both trans_b, alpha/beta, act */
  for (int tb = 0; tb < 2; tb++)
    for (int s = 1; s <= 7; s += 6) {
      zn_graph *g = bt_graph();
      int64_t xd[4] = {1, 3, s, s}, wd[4] = {17, 3, 3, 3}, bd[2] = {tb ? 10 : 17 * s * s, tb ? 17 * s * s : 10},
              cd[1] = {10};
      int cin[2] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 3, -0.5f, 0.5f)}, c, f, y;
      bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, cin, "c", &c), 3, 1, 1, 1, 1);
      bt_node(g, ZN_OP_FLATTEN, "flatten", 1, &c, "f", &f)->attrs.axis.axis = 1;
      int gin[3] = {f, bt_const(g, "B", 2, bd, 4, -0.5f, 0.5f), bt_const(g, "C", 1, cd, 5, -1, 1)};
      zn_node *n = bt_node(g, ZN_OP_GEMM, "gemm", 3, gin, "y", &y);
      n->attrs.gemm = (zn_gemm_attrs){false, tb == 1, tb ? 1.0f : 0.5f, tb ? 1.0f : 2.0f,
                                      {tb ? ZN_ACT_RELU : ZN_ACT_NONE, 0, 0}};
      zn_graph_mark_output(g, y);
      char what[64];
      snprintf(what, sizeof what, "conv+flatten+gemm trans_b%d s%d", tb, s);
      finish(what, g, 3, 1);
    }
}

/* Gather of one index: torchvision's Inception-V3 input transform (channel
 * of an NHWC input -> plain [N,H,W] -> unsqueezed back to NHWC), and one row
 * or one channel of a conv's output kept 4-D (a 1-element index: NHWC to NHWC). */
static void test_gather(void) {
  for (int threads = 1; threads <= 2; threads++) {
    zn_graph *g = bt_transform_input_graph();
    CHECK_OK(zn_graph_infer_shapes(g));
    char why[256] = "";
    for (int i = 0; i < g->num_nodes; i++) CHECK(xnn->supports_node(g, &g->nodes[i], why, sizeof why));
    finish("Inception-V3 transform_input (Gather)", g, threads == 1 ? 1 : 3, threads);
  }
  finish("gather of one row of a conv's output", bt_gather_graph(17, 2), 3, 1);
  finish("gather of one channel of a conv's output, kept 4-D", bt_gather_graph(17, 1), 3, 1);
}

/* Number of zero-copy slices the backend reports in describe(). */
static int described_slices(const zn_graph *g, int *copies) {
  void *compiled = NULL;
  char text[4096] = "";
  int slices = -1;
  *copies = -1;
  if (xnn->compile(g, NULL, &compiled) == ZN_OK) {
    xnn->describe(compiled, text, sizeof text);
    const char *p = strstr(text, "concat: ");
    if (p && sscanf(p, "concat: %d zero-copy channel slices, %d copies", &slices, copies) != 2) slices = -1;
    xnn->compiled_destroy(compiled);
  }
  return slices;
}

/* Concat: producers write into channel slices of the output; a value used by
 * two concats (DenseNet) is placed in one and copied into the other; nested
 * concats; a concat of a graph input. */
static void test_concat(void) {
  const int64_t sizes[] = {1, 7, 13};
  for (size_t s = 0; s < 3; s++) {
    /* Inception-like: four branches into one concat, then a conv reading it. */
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 17, sizes[s], sizes[s]};
    const int64_t outs[4] = {1, 3, 17, 64};
    int x = bt_input(g, "x", 4, xd), br[4];
    for (int b = 0; b < 4; b++) {
      char nm[16], wn[16];
      snprintf(nm, sizeof nm, "b%d", b);
      snprintf(wn, sizeof wn, "w%d", b);
      int64_t wd[4] = {outs[b], 17, b % 2 ? 3 : 1, b % 2 ? 3 : 1};
      int in[2] = {x, bt_const(g, wn, 4, wd, (uint64_t)b + 10, -0.5f, 0.5f)};
      bt_conv_attrs(bt_node(g, ZN_OP_CONV, nm, 2, in, nm, &br[b]), b % 2 ? 3 : 1, 1, b % 2, 1, 1);
    }
    int m;
    bt_pool_attrs(bt_node(g, ZN_OP_MAX_POOL, "mp", 1, &x, "mp", &m), 3, 1, 1, false, false);
    int cat_in[5] = {br[0], br[1], m, br[2], br[3]}, cat, y;
    bt_node(g, ZN_OP_CONCAT, "cat", 5, cat_in, "cat", &cat)->attrs.axis.axis = 1;
    int64_t wd[4] = {5, 1 + 3 + 17 + 17 + 64, 3, 3};
    int cin[2] = {cat, bt_const(g, "wy", 4, wd, 99, -0.2f, 0.2f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "convy", 2, cin, "y", &y), 3, 1, 1, 1, 1);
    zn_graph_mark_output(g, y);
    zn_graph_mark_output(g, cat);
    CHECK(zn_graph_infer_shapes(g) == ZN_OK);
    int copies, slices = described_slices(g, &copies);
    CHECK_EQ_INT(slices, 5);
    CHECK_EQ_INT(copies, 0);
    finish("inception-like concat", g, s == 1 ? 3 : 1, s == 2 ? 2 : 1);
  }
  {
    /* DenseNet-like: c1 = [x, a], c2 = [x, a, b], c3 = [x, a, b, d], with BN/ReLU readers. */
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 8, 7, 7};
    int x = bt_input(g, "x", 4, xd), prev = x, feats[4] = {x}, nf = 1;
    for (int l = 0; l < 3; l++) {
      char nm[32];
      int64_t C = 8 + 5 * l, cd[1] = {C}, wd[4] = {5, C, 3, 3};
      snprintf(nm, sizeof nm, "bn%d", l);
      int bin[5] = {prev, bt_const(g, "s", 1, cd, 1, 0.5f, 1.5f), bt_const(g, "b", 1, cd, 2, -1, 1),
                    bt_const(g, "m", 1, cd, 3, -0.5f, 0.5f), bt_const(g, "v", 1, cd, 4, 0.5f, 2)};
      int bo, ro, co;
      bt_node(g, ZN_OP_BATCH_NORM, nm, 5, bin, nm, &bo)->attrs.batch_norm.epsilon = 1e-5f;
      snprintf(nm, sizeof nm, "relu%d", l);
      bt_node(g, ZN_OP_RELU, nm, 1, &bo, nm, &ro);
      snprintf(nm, sizeof nm, "conv%d", l);
      int cin[2] = {ro, bt_const(g, "w", 4, wd, (uint64_t)l + 20, -0.3f, 0.3f)};
      bt_conv_attrs(bt_node(g, ZN_OP_CONV, nm, 2, cin, nm, &co), 3, 1, 1, 1, 1);
      feats[nf++] = co;
      snprintf(nm, sizeof nm, "cat%d", l);
      bt_node(g, ZN_OP_CONCAT, nm, nf, feats, nm, &prev)->attrs.axis.axis = 1;
    }
    int y;
    bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "gap", 1, &prev, "y", &y);
    zn_graph_mark_output(g, y);
    CHECK(zn_graph_infer_shapes(g) == ZN_OK);
    int copies, slices = described_slices(g, &copies);
    CHECK(slices >= 4);
    CHECK_EQ_INT(copies, 0);
    finish("densenet-like concats", g, 3, 1);
  }
  {
    /* A value in two unrelated concats (one slice, one copy), a concat of a
     * concat, and the same value twice in one concat. */
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 3, 7, 7}, wd[4] = {4, 3, 1, 1};
    int x = bt_input(g, "x", 4, xd), a, b, c1, c2, c3;
    int ain[2] = {x, bt_const(g, "wa", 4, wd, 1, -1, 1)}, bin[2] = {x, bt_const(g, "wb", 4, wd, 2, -1, 1)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "a", 2, ain, "a", &a), 1, 1, 0, 1, 1);
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "b", 2, bin, "b", &b), 1, 1, 0, 1, 1);
    int i1[2] = {a, b}, i2[3] = {b, a, a};
    bt_node(g, ZN_OP_CONCAT, "c1", 2, i1, "c1", &c1)->attrs.axis.axis = 1;
    bt_node(g, ZN_OP_CONCAT, "c2", 3, i2, "c2", &c2)->attrs.axis.axis = -3;
    int i3[3] = {c1, x, c2};
    bt_node(g, ZN_OP_CONCAT, "c3", 3, i3, "c3", &c3)->attrs.axis.axis = 1;
    zn_graph_mark_output(g, c3);
    zn_graph_mark_output(g, c1);
    CHECK(zn_graph_infer_shapes(g) == ZN_OK);
    int copies, slices = described_slices(g, &copies);
    CHECK(slices >= 4);
    CHECK(copies >= 2);
    finish("mixed concats", g, 3, 1);
  }
}

/* Dense convs split by output channels (ZN_XNNPACK_SLICE_KB forces it on
 * small weights): uneven last slice, bias + clamp, fused residual, 2 threads,
 * batch 3, and slices writing into a concat's channel slice. */
static int described_conv_split(const zn_graph *g, int *ops) {
  void *compiled = NULL;
  char text[4096] = "";
  int convs = -1;
  *ops = -1;
  if (xnn->compile(g, NULL, &compiled) == ZN_OK) {
    xnn->describe(compiled, text, sizeof text);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
      if (sscanf(p, "xnnpack: %d dense convs split by output channels into %d operators", &convs, ops) == 2) break;
    xnn->compiled_destroy(compiled);
  }
  return convs;
}

static void test_sliced_conv(void) {
  setenv("ZN_XNNPACK_SLICE_KB", "4", 1);
  const zn_act relu = {ZN_ACT_RELU, 0, 0}, relu6 = {ZN_ACT_CLIP, 0, 6}, none = {ZN_ACT_NONE, 0, 0};
  conv_case(17, 40, 7, 3, 1, 1, 1, 1, true, relu, false, 1, 1);   /* 24 KiB: slices of 16, 16, 8 */
  conv_case(64, 64, 13, 1, 1, 0, 1, 1, false, none, false, 3, 1); /* 16 KiB: 4 x 16 */
  conv_case(17, 64, 13, 3, 1, 1, 1, 1, true, relu, true, 3, 2);   /* residual, 2 threads */
  conv_case(64, 48, 7, 3, 2, 1, 1, 1, true, relu6, false, 1, 2);  /* stride 2 */
  conv_case(64, 48, 7, 3, 2, 1, 1, 1, true, relu6, false, 1, 3);  /* 3 slices, one task each on 3 threads */
  setenv("ZN_XNNPACK_OP_TASKS", "0", 1);                           /* slices split over the pool instead */
  conv_case(17, 64, 13, 3, 1, 1, 1, 1, true, relu, true, 3, 2);
  unsetenv("ZN_XNNPACK_OP_TASKS");
  conv_case(64, 64, 7, 3, 1, 1, 1, 64, true, relu6, false, 1, 1); /* depthwise: never split */
  {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 17, 7, 7}, wd[4] = {40, 17, 3, 3}, md[4] = {3, 17, 1, 1};
    int x = bt_input(g, "x", 4, xd), a, b, cat;
    int ain[2] = {x, bt_const(g, "wa", 4, wd, 5, -0.5f, 0.5f)}, bin[2] = {x, bt_const(g, "wb", 4, md, 6, -1, 1)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "a", 2, ain, "a", &a), 3, 1, 1, 1, 1);
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "b", 2, bin, "b", &b), 1, 1, 0, 1, 1);
    int ci[2] = {b, a};
    bt_node(g, ZN_OP_CONCAT, "cat", 2, ci, "cat", &cat)->attrs.axis.axis = 1;
    zn_graph_mark_output(g, cat);
    CHECK_OK(zn_graph_infer_shapes(g));
    int ops, convs = described_conv_split(g, &ops), copies;
    CHECK_EQ_INT(convs, 1);
    CHECK_EQ_INT(ops, 3);
    CHECK_EQ_INT(described_slices(g, &copies), 2);
    CHECK_EQ_INT(copies, 0);
    finish("sliced conv into a concat slice", g, 3, 2);
  }
  unsetenv("ZN_XNNPACK_SLICE_KB");
  /* Default bound: small convs stay whole. */
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 17, 7, 7}, wd[4] = {40, 17, 3, 3};
  int x = bt_input(g, "x", 4, xd), y, in[2] = {x, bt_const(g, "w", 4, wd, 5, -0.5f, 0.5f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c", 2, in, "y", &y), 3, 1, 1, 1, 1);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  int ops, convs = described_conv_split(g, &ops);
  CHECK_EQ_INT(convs, 0);
  CHECK_EQ_INT(ops, 0);
  zn_graph_destroy(g);
}

/* Winograd F(2x2,3x3) (ZN_XNNPACK_WINOGRAD=all takes every 3x3 stride-1
 * dense conv whatever its size): odd and even H and W from 1 to 14 (tiles
 * hanging over the bottom/right edge), pads 0 and 1 on each side, channels
 * that are not multiples of the transforms' 16-channel block, batch 3, bias,
 * ReLU / Clip, fused residual, 2 threads, and an output that is a concat's
 * channel slice. describe() must report the conv as Winograd, so a case
 * cannot pass on the direct path. */
static int described_winograd(const zn_graph *g) {
  void *compiled = NULL;
  char text[4096] = "";
  int convs = -1;
  if (xnn->compile(g, NULL, &compiled) == ZN_OK) {
    xnn->describe(compiled, text, sizeof text);
    char method[16];
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
      if (sscanf(p, "xnnpack: %d 3x3 stride-1 convs run as %15s", &convs, method) == 2 && !strcmp(method, "Winograd"))
        break;
      else convs = -1;
    xnn->compiled_destroy(compiled);
  }
  return convs;
}

/* How many convs describe() says run as F(4x4,3x3). */
static int described_winograd43(const zn_graph *g) {
  void *compiled = NULL;
  char text[4096] = "";
  int convs = -1;
  if (xnn->compile(g, NULL, &compiled) == ZN_OK) {
    xnn->describe(compiled, text, sizeof text);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
      int end = 0; /* the whole phrase matched, not just the leading number */
      if (sscanf(p, "xnnpack: %d of them as F(4x4,3x3)%n", &convs, &end) == 1 && end > 0) break;
      convs = -1;
    }
    xnn->compiled_destroy(compiled);
  }
  return convs;
}

static int wino_expect43; /* 1 while the cases run with ZN_XNNPACK_WINOGRAD=all4 */

static void wino_case(int64_t cin, int64_t cout, int64_t h, int64_t w, const int64_t pads[4], bool bias, zn_act act,
                      bool residual, int64_t batch, int threads) {
  zn_graph *g = bt_graph();
  const int64_t oh = h + pads[0] + pads[2] - 2, ow = w + pads[1] + pads[3] - 2;
  int64_t xd[4] = {1, cin, h, w}, wd[4] = {cout, cin, 3, 3}, bd[1] = {cout}, rd[4] = {1, cout, oh, ow};
  int in[4] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 11, -0.5f, 0.5f),
               bias ? bt_const(g, "b", 1, bd, 12, -1, 1) : ZN_NO_VALUE, ZN_NO_VALUE};
  if (residual) in[3] = bt_input(g, "r", 4, rd);
  int y;
  zn_node *n = bt_node(g, ZN_OP_CONV, "conv", residual ? 4 : 3, in, "y", &y);
  bt_conv_attrs(n, 3, 1, 0, 1, 1);
  n->attrs.conv.pad_begin[0] = pads[0], n->attrs.conv.pad_begin[1] = pads[1];
  n->attrs.conv.pad_end[0] = pads[2], n->attrs.conv.pad_end[1] = pads[3];
  n->attrs.conv.act = act;
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  char what[200];
  snprintf(what, sizeof what, "winograd c%lld->%lld %lldx%lld pads %lld,%lld,%lld,%lld bias%d act%d res%d b%lld t%d",
           (long long)cin, (long long)cout, (long long)h, (long long)w, (long long)pads[0], (long long)pads[1],
           (long long)pads[2], (long long)pads[3], bias, act.kind, residual, (long long)batch, threads);
  if (described_winograd(g) != 1 || described_winograd43(g) != wino_expect43) {
    CHECK_EQ_INT(described_winograd(g), 1);
    CHECK_EQ_INT(described_winograd43(g), wino_expect43);
    fprintf(stderr, "  in %s\n", what);
  }
  finish(what, g, batch, threads);
}

/* The cases for one transform: F(2x2,3x3) (mode "all") or F(4x4,3x3)
 * ("all4"); tile edges differ (2 or 4 output pixels per tile). */
static void winograd_cases(const char *mode, int expect43) {
  setenv("ZN_XNNPACK_WINOGRAD", mode, 1);
  wino_expect43 = expect43;
  const zn_act none = {ZN_ACT_NONE, 0, 0}, relu = {ZN_ACT_RELU, 0, 0}, clip = {ZN_ACT_CLIP, -0.25f, 0.25f};
  const int64_t chans[] = {1, 3, 16, 33}, sizes[] = {1, 2, 3, 4, 5, 6, 7, 13, 14};
  const int64_t same[4] = {1, 1, 1, 1}, valid[4] = {0, 0, 0, 0}, top_left[4] = {1, 1, 0, 0}, bottom[4] = {0, 1, 1, 0};
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 4; b++)
      for (size_t s = 0; s < 9; s++) {
        const int64_t hh = sizes[s], ww = sizes[(s + a + 1) % 9]; /* H != W mostly, odd and even */
        wino_case(chans[a], chans[b], hh, ww, same, (a + b) % 2 == 0, (s % 3) ? relu : none, false,
                  (s + b) % 2 ? 3 : 1, 1);
        if (hh >= 3 && ww >= 3)
          wino_case(chans[a], chans[b], hh, ww, valid, true, none, s % 2 == 1, (a + s) % 2 ? 1 : 3, 1);
      }
  for (size_t s = 0; s < 9; s++) {
    const int64_t hh = sizes[s];
    if (hh >= 2) wino_case(16, 33, hh, hh + 1, top_left, true, clip, true, 3, 2);
    if (hh >= 2) wino_case(33, 16, hh + 1, hh, bottom, false, relu, false, 1, 2);
    wino_case(33, 33, hh, 14, same, true, relu, true, 3, 2);
  }
  wino_case(64, 64, 56, 56, same, true, relu, true, 1, 2); /* a ResNet-18 stage-1 conv */
  wino_case(64, 64, 56, 56, same, true, relu, true, 1, 1); /* the same in 7 tile blocks (1 thread) */
  wino_case(33, 33, 14, 14, same, true, relu, true, 3, 4); /* 16 GEMM tasks on 4 threads */
  wino_case(33, 33, 14, 14, same, true, relu, true, 3, 3); /* 3 threads: GEMMs split over the pool */
  setenv("ZN_XNNPACK_OP_TASKS", "0", 1);
  wino_case(33, 33, 14, 14, same, true, relu, true, 3, 2);
  unsetenv("ZN_XNNPACK_OP_TASKS");
  /* Tile blocks of 13..16 tiles (16 KiB budget; 64 KiB for F(4,3)'s 36
   * kernels): blocks that cross image rows and images, a last block shorter
   * than the others. */
  setenv("ZN_XNNPACK_WINOGRAD_BLOCK_KB", expect43 ? "64" : "16", 1);
  wino_case(16, 8, 13, 14, same, true, relu, true, 3, 1);
  wino_case(3, 33, 14, 13, top_left, false, clip, false, 3, 1);
  wino_case(33, 3, 9, 30, valid, true, none, true, 1, 1);
  unsetenv("ZN_XNNPACK_WINOGRAD_BLOCK_KB");
  {
    /* Winograd conv writing into a concat slice next to a 1x1 conv, read by
     * a second Winograd conv (its input is the concat root, 2 threads). */
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 17, 9, 6}, wd[4] = {33, 17, 3, 3}, md[4] = {5, 17, 1, 1}, w2d[4] = {3, 38, 3, 3};
    int x = bt_input(g, "x", 4, xd), a, b, cat, y;
    int ain[2] = {x, bt_const(g, "wa", 4, wd, 5, -0.5f, 0.5f)}, bin[2] = {x, bt_const(g, "wb", 4, md, 6, -1, 1)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "a", 2, ain, "a", &a), 3, 1, 1, 1, 1);
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "b", 2, bin, "b", &b), 1, 1, 0, 1, 1);
    int ci[2] = {b, a};
    bt_node(g, ZN_OP_CONCAT, "cat", 2, ci, "cat", &cat)->attrs.axis.axis = 1;
    int yin[2] = {cat, bt_const(g, "wy", 4, w2d, 7, -0.3f, 0.3f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "convy", 2, yin, "y", &y), 3, 1, 1, 1, 1);
    zn_graph_mark_output(g, y);
    zn_graph_mark_output(g, cat);
    CHECK_OK(zn_graph_infer_shapes(g));
    int copies;
    CHECK_EQ_INT(described_winograd(g), 2);
    CHECK_EQ_INT(described_winograd43(g), 2 * expect43);
    CHECK_EQ_INT(described_slices(g, &copies), 2);
    CHECK_EQ_INT(copies, 0);
    finish("winograd conv into a concat slice", g, 3, 2);
  }
  wino_expect43 = 0;
}

static void test_winograd(void) {
  winograd_cases("all", 0);
  winograd_cases("all4", 1);
  /* Not eligible: stride 2, dilation 2, grouped, 5x5, pads of 2. */
  const int64_t big[4] = {2, 2, 2, 2};
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 16, 14, 14}, wd[4] = {16, 16, 3, 3}, gd[4] = {16, 4, 3, 3}, fd[4] = {16, 16, 5, 5};
  int x = bt_input(g, "x", 4, xd), y[5];
  int i0[2] = {x, bt_const(g, "w0", 4, wd, 1, -1, 1)}, i1[2] = {x, bt_const(g, "w1", 4, wd, 2, -1, 1)},
      i2[2] = {x, bt_const(g, "w2", 4, gd, 3, -1, 1)}, i3[2] = {x, bt_const(g, "w3", 4, fd, 4, -1, 1)},
      i4[2] = {x, bt_const(g, "w4", 4, wd, 5, -1, 1)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "s2", 2, i0, "y0", &y[0]), 3, 2, 1, 1, 1);
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "d2", 2, i1, "y1", &y[1]), 3, 1, 2, 2, 1);
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "g4", 2, i2, "y2", &y[2]), 3, 1, 1, 1, 4);
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "k5", 2, i3, "y3", &y[3]), 5, 1, 2, 1, 1);
  zn_node *p2 = bt_node(g, ZN_OP_CONV, "p2", 2, i4, "y4", &y[4]);
  bt_conv_attrs(p2, 3, 1, 0, 1, 1);
  memcpy(p2->attrs.conv.pad_begin, big, 2 * sizeof *big), memcpy(p2->attrs.conv.pad_end, big + 2, 2 * sizeof *big);
  for (int k = 0; k < 5; k++) zn_graph_mark_output(g, y[k]);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(described_winograd(g), 0);
  finish("convs Winograd does not take", g, 1, 1);
  /* Off, and the default rule: small convs stay direct. */
  setenv("ZN_XNNPACK_WINOGRAD", "0", 1);
  g = bt_graph();
  int64_t sd[4] = {1, 64, 56, 56}, swd[4] = {64, 64, 3, 3}, td[4] = {1, 16, 7, 7}, twd[4] = {16, 16, 3, 3};
  int xs = bt_input(g, "x", 4, sd), ys, is[2] = {xs, bt_const(g, "w", 4, swd, 1, -1, 1)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c", 2, is, "y", &ys), 3, 1, 1, 1, 1);
  zn_graph_mark_output(g, ys);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(described_winograd(g), 0);
  unsetenv("ZN_XNNPACK_WINOGRAD");
  CHECK_EQ_INT(described_winograd(g), 1);
  CHECK_EQ_INT(described_winograd43(g), 1); /* 56x56: F(4x4,3x3) */
  setenv("ZN_XNNPACK_WINOGRAD", "f2", 1);
  CHECK_EQ_INT(described_winograd(g), 1);
  CHECK_EQ_INT(described_winograd43(g), 0);
  unsetenv("ZN_XNNPACK_WINOGRAD");
  zn_graph_destroy(g);
  /* 14x14 and 64 channels: Winograd, F(2x2,3x3) (16-row GEMMs with F(4,3)). */
  g = bt_graph();
  int64_t md[4] = {1, 64, 14, 14};
  int xm = bt_input(g, "x", 4, md), ym, im[2] = {xm, bt_const(g, "w", 4, swd, 1, -1, 1)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c", 2, im, "y", &ym), 3, 1, 1, 1, 1);
  zn_graph_mark_output(g, ym);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(described_winograd(g), 1);
  CHECK_EQ_INT(described_winograd43(g), 0);
  zn_graph_destroy(g);
  g = bt_graph();
  int xt = bt_input(g, "x", 4, td), yt, it[2] = {xt, bt_const(g, "w", 4, twd, 1, -1, 1)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c", 2, it, "y", &yt), 3, 1, 1, 1, 1);
  zn_graph_mark_output(g, yt);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(described_winograd(g), 0);
  zn_graph_destroy(g);
}

/* Tiles per block (backend/winograd.c): balanced blocks that fit the
 * budget, none when the 16 or 36 kernels are large beside it or the budget is 0. */
static void test_winograd_blocks(void) {
  CHECK_EQ_INT(zn_winograd_block(784, 16, 64, 64, 1024 * 1024), 112); /* 128 fit: 7 blocks of 112 */
  CHECK_EQ_INT(zn_winograd_block(784, 16, 64, 64, 0), 784);
  CHECK_EQ_INT(zn_winograd_block(100, 16, 64, 64, 1024 * 1024), 100); /* all fit */
  CHECK_EQ_INT(zn_winograd_block(196, 16, 128, 128, 1024 * 1024), 196); /* 1 MiB of kernels */
  CHECK_EQ_INT(zn_winograd_block(49, 16, 3, 33, 16 * 1024), 13); /* 16 at least, then 4 balanced blocks */
  CHECK_EQ_INT(zn_winograd_block(16, 16, 3, 33, 16 * 1024), 16);
  /* F(4x4,3x3): 36 kernels */
  CHECK_EQ_INT(zn_winograd_block(784, 36, 64, 64, 1024 * 1024), 784);  /* 576 KiB of kernels */
  CHECK_EQ_INT(zn_winograd_block(196, 36, 32, 32, 1024 * 1024), 98);   /* 113 fit: 2 blocks of 98 */
  size_t m_off;
  CHECK_EQ_INT(zn_winograd_scratch_floats(112, 16, 64, 64, &m_off), 2 * 16 * 112 * 64);
  CHECK_EQ_INT(m_off, 16 * 112 * 64);
}

static void test_errors(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 7, 7};
  int x = bt_input(g, "x", 4, xd), y;
  bt_node(g, ZN_OP_RELU, "relu", 1, &x, "y", &y);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  void *compiled = NULL, *inst = NULL;
  CHECK_OK(xnn->compile(g, NULL, &compiled));
  zn_backend_instance_options o = {2, NULL, 0, NULL};
  CHECK_OK(xnn->instance_create(compiled, &o, &inst));
  float in[147] = {0}, out[147];
  const void *ins[1] = {in};
  void *outs[1] = {out};
  CHECK_STATUS(xnn->instance_run(inst, ins, outs), ZN_ERR_INVALID_STATE);
  CHECK_STATUS(xnn->instance_reshape(inst, 0), ZN_ERR_INVALID_ARGUMENT);
  CHECK_OK(xnn->instance_reshape(inst, 1));
  CHECK(xnn->instance_arena_bytes(inst) >= 2 * 147 * sizeof(float));
  void *null_out[1] = {NULL};
  CHECK_STATUS(xnn->instance_run(inst, ins, null_out), ZN_ERR_INVALID_ARGUMENT);
  for (int i = 0; i < 147; i++) in[i] = (float)i - 70.0f;
  CHECK_OK(xnn->instance_run(inst, ins, outs));
  for (int i = 0; i < 147; i++) CHECK_EQ_INT(out[i], in[i] > 0 ? in[i] : 0);
  xnn->instance_destroy(inst);
  xnn->instance_destroy(NULL);
  xnn->compiled_destroy(compiled);
  xnn->compiled_destroy(NULL);
  /* Ops it does not take: Sum, MaxPool 1x1, a pool too large, bf16. */
  int t;
  bt_node(g, ZN_OP_SUM, "sum", 1, &x, "t", &t);
  CHECK_OK(zn_graph_infer_shapes(g));
  char why[256];
  CHECK(!xnn->supports_node(g, &g->nodes[g->num_nodes - 1], why, sizeof why));
  CHECK(strstr(why, "Sum is not implemented") != NULL);
  CHECK_STATUS(xnn->compile(g, NULL, &compiled), ZN_ERR_UNSUPPORTED_OP);
  CHECK(compiled == NULL);
  CHECK_ERROR_HAS("'sum' (Sum)");
  CHECK_ERROR_HAS("Sum is not implemented");
  zn_graph_destroy(g);
  g = bt_graph();
  x = bt_input(g, "x", 4, xd);
  bt_pool_attrs(bt_node(g, ZN_OP_MAX_POOL, "mp", 1, &x, "y", &y), 1, 1, 0, false, false);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!xnn->supports_node(g, &g->nodes[0], why, sizeof why));
  CHECK(strstr(why, "a window of 2 or more elements") != NULL);
  zn_graph_destroy(g);
  /* a pool whose end pad makes 2^27 output columns: XNNPACK's indirection
   * buffer would need 2^27 * 3 * 9 pointers (a fuzzed model; it allocated 45 GB) */
  g = bt_graph();
  x = bt_input(g, "x", 4, xd);
  zn_node *mp = bt_node(g, ZN_OP_MAX_POOL, "mp", 1, &x, "y", &y);
  bt_pool_attrs(mp, 3, 1, 0, false, false);
  mp->attrs.pool.pad_end[1] = (int64_t)1 << 27;
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!xnn->supports_node(g, &g->nodes[0], why, sizeof why));
  CHECK(strstr(why, "at most 2^26 output pixels x window elements") != NULL);
  zn_graph_destroy(g);
  g = bt_graph();
  x = bt_input(g, "x", 4, xd);
  bt_node(g, ZN_OP_RELU, "relu", 1, &x, "y", &y);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  zn_backend_compile_options bf16 = {.precision = ZN_PRECISION_BF16};
  CHECK_STATUS(xnn->compile(g, &bf16, &compiled), ZN_ERR_UNSUPPORTED_OP);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  xnn = zn_backend_find("xnnpack");
  if (!xnn || (xnn->available && !xnn->available())) {
    fprintf(stderr, "xnnpack backend not built or not usable here: nothing to test\n");
    return 0;
  }
  test_conv();
  test_pool();
  test_unary();
  test_batch_norm();
  test_binary_and_reshape();
  test_gather();
  test_concat();
  test_sliced_conv();
  test_winograd();
  test_im2col();
  test_winograd_blocks();
  test_errors();
  return 0;
}
