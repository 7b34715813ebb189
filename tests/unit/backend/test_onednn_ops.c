/* onednn backend, op by op against the ref oracle on small shapes that cross
 * tile edges (channels 1, 3, 17, 64; spatial 1, 7, 13; batch 1 and 3):
 * max relative error <= 1e-4 in fp32. */
#include "backend_test.h"

#define TOL 1e-4

/* input [N,c,s,s] -> Conv(k, stride, pad, dilation, group, act) -> output */
static void conv_case(int64_t cin, int64_t cout, int64_t s, int64_t k, int64_t stride, int64_t pad, int64_t dil,
                      int64_t group, bool bias, zn_act act, int64_t batch) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, cin, s, s}, wd[4] = {cout, cin / group, k, k}, bd[1] = {cout};
  int in[3] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 7, -0.5f, 0.5f), bias ? bt_const(g, "b", 1, bd, 8, -1, 1) : -1};
  int y;
  zn_node *n = bt_node(g, ZN_OP_CONV, "conv", bias ? 3 : 2, in, "y", &y);
  bt_conv_attrs(n, k, stride, pad, dil, group);
  n->attrs.conv.act = act;
  zn_graph_mark_output(g, y);
  char what[160];
  snprintf(what, sizeof what, "conv c%lld->%lld s%lld k%lld st%lld p%lld d%lld g%lld bias%d act%d", (long long)cin,
           (long long)cout, (long long)s, (long long)k, (long long)stride, (long long)pad, (long long)dil,
           (long long)group, bias, act.kind);
  bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

static void test_conv(void) {
  const int64_t chans[] = {1, 3, 17, 64}, sizes[] = {1, 7, 13};
  zn_act none = bt_act(ZN_ACT_NONE, 0, 0);
  for (size_t a = 0; a < 4; a++)
    for (size_t b = 0; b < 4; b++)
      for (size_t s = 0; s < 3; s++) {
        conv_case(chans[a], chans[b], sizes[s], 3, 1, 1, 1, 1, true, none, 1);
        conv_case(chans[a], chans[b], sizes[s], 1, 1, 0, 1, 1, a == b, none, 3);
      }
  for (size_t s = 0; s < 3; s++) {
    conv_case(17, 33, sizes[s], 3, 2, 1, 1, 1, true, bt_act(ZN_ACT_RELU, 0, 0), 3);
    conv_case(64, 64, sizes[s], 3, 1, 1, 1, 64, true, bt_act(ZN_ACT_CLIP, 0, 6), 1);   /* depthwise + ReLU6 */
    conv_case(17, 17, sizes[s], 3, 2, 1, 1, 17, true, bt_act(ZN_ACT_CLIP, 0, 6), 3);   /* depthwise stride 2 */
    conv_case(16, 32, sizes[s], 3, 1, 1, 1, 4, false, bt_act(ZN_ACT_NONE, 0, 0), 1);   /* grouped */
  }
  conv_case(3, 64, 13, 7, 2, 3, 1, 1, true, bt_act(ZN_ACT_RELU, 0, 0), 1);           /* ResNet stem shape */
  conv_case(8, 16, 13, 3, 1, 2, 2, 1, true, bt_act(ZN_ACT_LEAKY_RELU, 0.1f, 0), 1);   /* dilated */
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, bt_act(ZN_ACT_SIGMOID, 0, 0), 3);
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, bt_act(ZN_ACT_TANH, 0, 0), 1);
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, bt_act(ZN_ACT_HARD_SWISH, 0, 0), 1);
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, bt_act(ZN_ACT_SWISH, 1, 0), 1);
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, bt_act(ZN_ACT_HARD_SIGMOID, 0.2f, 0.5f), 1);
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, bt_act(ZN_ACT_CLIP, -0.25f, 0.25f), 1);
  conv_case(8, 16, 7, 3, 1, 1, 1, 1, true, bt_act(ZN_ACT_CLIP, -INFINITY, 0.1f), 1);
}

static void pool_case(zn_op op, int64_t c, int64_t s, int64_t k, int64_t stride, int64_t pad, bool ceil_mode,
                      bool include_pad, int64_t batch) {
  char what[160];
  zn_graph *g = bt_pool_graph(op, c, s, k, stride, pad, ceil_mode, include_pad, what, sizeof what);
  bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

static void test_pool(void) {
  const int64_t chans[] = {1, 3, 17, 64}, sizes[] = {7, 13};
  for (size_t a = 0; a < 4; a++)
    for (size_t s = 0; s < 2; s++) {
      pool_case(ZN_OP_MAX_POOL, chans[a], sizes[s], 3, 2, 1, false, false, 1);
      pool_case(ZN_OP_MAX_POOL, chans[a], sizes[s], 3, 2, 0, true, false, 3);   /* SqueezeNet ceil_mode */
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 3, 1, 1, false, true, 1);
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 3, 1, 1, false, false, 3);
      pool_case(ZN_OP_AVERAGE_POOL, chans[a], sizes[s], 2, 2, 0, true, false, 1);
      pool_case(ZN_OP_GLOBAL_AVERAGE_POOL, chans[a], sizes[s], 0, 0, 0, false, false, 3);
      pool_case(ZN_OP_GLOBAL_MAX_POOL, chans[a], sizes[s], 0, 0, 0, false, false, 1);
    }
  pool_case(ZN_OP_GLOBAL_AVERAGE_POOL, 17, 1, 0, 0, 0, false, false, 1);
}

/* x [N,c,s,s] -> (GAP when gap) -> Flatten -> Gemm -> y [N,m] */
static void gemm_case(int64_t c, int64_t s, int64_t m, bool gap, bool trans_b, float alpha, float beta, int bias_kind,
                      zn_act act, int64_t batch) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, s, s};
  int x = bt_input(g, "x", 4, xd), p = x, f;
  if (gap) bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "gap", 1, &x, "p", &p);
  zn_node *fl = bt_node(g, ZN_OP_FLATTEN, "flatten", 1, &p, "f", &f);
  fl->attrs.axis.axis = 1;
  int64_t k = gap ? c : c * s * s;
  int64_t bd[2] = {trans_b ? m : k, trans_b ? k : m}, cd1[1] = {m}, cd2[2] = {1, m}, cd0[1] = {1};
  int in[3] = {f, bt_const(g, "B", 2, bd, 11, -0.2f, 0.2f), -1};
  if (bias_kind == 1) in[2] = bt_const(g, "C", 1, cd1, 12, -1, 1);
  if (bias_kind == 2) in[2] = bt_const(g, "C", 2, cd2, 12, -1, 1);
  if (bias_kind == 3) in[2] = bt_const(g, "C", 1, cd0, 12, -1, 1);
  int y;
  zn_node *n = bt_node(g, ZN_OP_GEMM, "gemm", bias_kind ? 3 : 2, in, "y", &y);
  n->attrs.gemm.trans_b = trans_b;
  n->attrs.gemm.alpha = alpha;
  n->attrs.gemm.beta = beta;
  n->attrs.gemm.act = act;
  zn_graph_mark_output(g, y);
  char what[160];
  snprintf(what, sizeof what, "gemm c%lld s%lld m%lld gap%d transB%d alpha%g beta%g bias%d act%d", (long long)c,
           (long long)s, (long long)m, gap, trans_b, alpha, beta, bias_kind, act.kind);
  bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

static void test_gemm(void) {
  zn_act none = bt_act(ZN_ACT_NONE, 0, 0), relu = bt_act(ZN_ACT_RELU, 0, 0);
  gemm_case(64, 7, 10, true, true, 1, 1, 1, none, 1);      /* ResNet head */
  gemm_case(17, 7, 33, true, true, 1, 1, 2, relu, 3);
  gemm_case(17, 7, 33, false, true, 1, 1, 1, relu, 3);     /* VGG/AlexNet: flatten of a 4-D map */
  gemm_case(3, 13, 5, false, false, 0.5f, 2, 1, none, 1);  /* transB 0, alpha, beta */
  gemm_case(3, 1, 5, false, true, 1, 0.5f, 3, none, 3);    /* scalar C */
  gemm_case(1, 7, 1, false, true, 1, 1, 0, none, 1);
}

static void test_matmul(void) {
  zn_graph *g = bt_graph();
  int64_t xd[2] = {1, 19}, bd[2] = {19, 7};
  int in[2] = {bt_input(g, "x", 2, xd), bt_const(g, "B", 2, bd, 3, -1, 1)}, y;
  bt_node(g, ZN_OP_MATMUL, "mm", 2, in, "y", &y);
  zn_graph_mark_output(g, y);
  bt_compare(&zn_backend_onednn, "matmul", g, 3, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

static void eltwise_case(zn_op op, zn_act act, int rank, int64_t batch) {
  zn_graph *g = bt_graph();
  int64_t xd4[4] = {1, 17, 7, 7}, xd2[2] = {1, 33};
  int x = bt_input(g, "x", rank, rank == 4 ? xd4 : xd2), y;
  zn_node *n = bt_node(g, op, "act", 1, &x, "y", &y);
  n->attrs.act = act;
  zn_graph_mark_output(g, y);
  char what[96];
  snprintf(what, sizeof what, "%s rank %d", zn_op_name(op), rank);
  bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

static void test_eltwise(void) {
  for (int rank = 2; rank <= 4; rank += 2) {
    eltwise_case(ZN_OP_RELU, bt_act(ZN_ACT_RELU, 0, 0), rank, 3);
    eltwise_case(ZN_OP_LEAKY_RELU, bt_act(ZN_ACT_LEAKY_RELU, 0.01f, 0), rank, 1);
    eltwise_case(ZN_OP_SIGMOID, bt_act(ZN_ACT_SIGMOID, 0, 0), rank, 1);
    eltwise_case(ZN_OP_TANH, bt_act(ZN_ACT_TANH, 0, 0), rank, 3);
    eltwise_case(ZN_OP_HARD_SWISH, bt_act(ZN_ACT_HARD_SWISH, 0, 0), rank, 1);
    eltwise_case(ZN_OP_SWISH, bt_act(ZN_ACT_SWISH, 0.5f, 0), rank, 3);
    eltwise_case(ZN_OP_CLIP, bt_act(ZN_ACT_CLIP, 0, 6), rank, 1);
    eltwise_case(ZN_OP_CLIP, bt_act(ZN_ACT_CLIP, -0.5f, 0.25f), rank, 3);
  }
}

/* y = op(conv(x), other): other is a second conv, a broadcast constant, or swapped. */
static void binary_case(zn_op op, int other_kind, int64_t batch) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 17, 7, 7}, wd[4] = {17, 17, 1, 1};
  int x = bt_input(g, "x", 4, xd), a, b;
  int ci[2] = {x, bt_const(g, "w1", 4, wd, 1, -0.5f, 0.5f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c1", 2, ci, "a", &a), 1, 1, 0, 1, 1);
  if (other_kind == 0) {
    int cj[2] = {x, bt_const(g, "w2", 4, wd, 2, -0.5f, 0.5f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "c2", 2, cj, "b", &b), 1, 1, 0, 1, 1);
  } else if (other_kind == 1) {
    int64_t cd[4] = {1, 17, 1, 1};
    b = bt_const(g, "k", 4, cd, 3, 0.5f, 1.5f);
  } else {
    int64_t cd[3] = {17, 1, 1};
    b = bt_const(g, "k", 3, cd, 3, 0.5f, 1.5f);
  }
  int in[2] = {a, b}, swapped[2] = {b, a}, y;
  bt_node(g, op, "bin", 2, other_kind == 2 ? swapped : in, "y", &y);
  zn_graph_mark_output(g, y);
  char what[96];
  snprintf(what, sizeof what, "%s other %d", zn_op_name(op), other_kind);
  bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

static void test_binary(void) {
  binary_case(ZN_OP_ADD, 0, 3);
  binary_case(ZN_OP_SUB, 0, 1);
  binary_case(ZN_OP_MUL, 1, 3);
  binary_case(ZN_OP_DIV, 1, 1);
  binary_case(ZN_OP_ADD, 2, 1);
  binary_case(ZN_OP_MUL, 2, 3);
  /* Sum of three */
  zn_graph *g = bt_graph();
  int64_t xd[2] = {1, 33};
  int in[3] = {bt_input(g, "a", 2, xd), bt_input(g, "b", 2, xd), bt_input(g, "c", 2, xd)}, y;
  bt_node(g, ZN_OP_SUM, "sum", 3, in, "y", &y);
  zn_graph_mark_output(g, y);
  bt_compare(&zn_backend_onednn, "sum", g, 3, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

static void test_batch_norm_lrn_softmax(void) {
  const int64_t chans[] = {1, 3, 17, 64};
  for (size_t i = 0; i < 4; i++) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, chans[i], 7, 7}, cd[1] = {chans[i]};
    int in[5] = {bt_input(g, "x", 4, xd), bt_const(g, "s", 1, cd, 1, 0.5f, 1.5f), bt_const(g, "b", 1, cd, 2, -1, 1),
                 bt_const(g, "m", 1, cd, 3, -0.5f, 0.5f), bt_const(g, "v", 1, cd, 4, 0.5f, 2)};
    int y;
    zn_node *n = bt_node(g, ZN_OP_BATCH_NORM, "bn", 5, in, "y", &y);
    n->attrs.batch_norm.epsilon = 1e-5f;
    zn_graph_mark_output(g, y);
    bt_compare(&zn_backend_onednn, "batch_norm", g, i % 2 ? 3 : 1, ZN_PRECISION_FP32, 1, TOL);
    zn_graph_destroy(g);

    g = bt_graph();
    int x = bt_input(g, "x", 4, xd);
    n = bt_node(g, ZN_OP_LRN, "lrn", 1, &x, "y", &y);
    n->attrs.lrn.size = 5;
    n->attrs.lrn.alpha = 1e-4f;
    n->attrs.lrn.beta = 0.75f;
    n->attrs.lrn.bias = 2.f;
    zn_graph_mark_output(g, y);
    bt_compare(&zn_backend_onednn, "lrn", g, i % 2 ? 1 : 3, ZN_PRECISION_FP32, 1, TOL);
    zn_graph_destroy(g);

    g = bt_graph();
    x = bt_input(g, "x", 4, xd);
    n = bt_node(g, ZN_OP_SOFTMAX, "sm", 1, &x, "y", &y);
    n->attrs.softmax.axis = 1;
    zn_graph_mark_output(g, y);
    bt_compare(&zn_backend_onednn, "softmax 4-D axis 1", g, 3, ZN_PRECISION_FP32, 1, TOL);
    zn_graph_destroy(g);
  }
  zn_graph *g = bt_graph();
  int64_t xd[2] = {1, 1000};
  int x = bt_input(g, "x", 2, xd), y;
  zn_node *n = bt_node(g, ZN_OP_SOFTMAX, "sm", 1, &x, "y", &y);
  n->attrs.softmax.axis = -1;
  zn_graph_mark_output(g, y);
  bt_compare(&zn_backend_onednn, "softmax 2-D", g, 3, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

/* Three convs of different widths concatenated on channels, then a conv. */
static void test_concat(void) {
  const int64_t widths[3] = {1, 17, 64};
  for (int64_t batch = 1; batch <= 3; batch += 2) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 3, 13, 13};
    int x = bt_input(g, "x", 4, xd), parts[3];
    for (int i = 0; i < 3; i++) {
      int64_t wd[4] = {widths[i], 3, 3, 3};
      char wn[8], cn[8], on[8];
      snprintf(wn, sizeof wn, "w%d", i);
      snprintf(cn, sizeof cn, "c%d", i);
      snprintf(on, sizeof on, "o%d", i);
      int ci[2] = {x, bt_const(g, wn, 4, wd, (uint64_t)i + 5, -0.5f, 0.5f)};
      zn_node *n = bt_node(g, ZN_OP_CONV, cn, 2, ci, on, &parts[i]);
      bt_conv_attrs(n, 3, 1, 1, 1, 1);
      n->attrs.conv.act = bt_act(ZN_ACT_RELU, 0, 0);
    }
    int cat, y;
    zn_node *n = bt_node(g, ZN_OP_CONCAT, "cat", 3, parts, "cat", &cat);
    n->attrs.axis.axis = 1;
    int64_t wd[4] = {8, 82, 1, 1};
    int ci[2] = {cat, bt_const(g, "wf", 4, wd, 9, -0.3f, 0.3f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "cf", 2, ci, "y", &y), 1, 1, 0, 1, 1);
    zn_graph_mark_output(g, y);
    zn_graph_mark_output(g, cat);
    bt_compare(&zn_backend_onednn, "concat of convs", g, batch, ZN_PRECISION_FP32, 1, TOL);
    zn_graph_destroy(g);
  }
  zn_graph *g = bt_graph();
  int64_t ad[2] = {1, 3}, bd[2] = {1, 17};
  int in[2] = {bt_input(g, "a", 2, ad), bt_input(g, "b", 2, bd)}, y;
  zn_node *n = bt_node(g, ZN_OP_CONCAT, "cat", 2, in, "y", &y);
  n->attrs.axis.axis = -1;
  zn_graph_mark_output(g, y);
  bt_compare(&zn_backend_onednn, "concat 2-D", g, 3, ZN_PRECISION_FP32, 1, TOL);
  zn_graph_destroy(g);
}

/* Reshape-like ops: aliases when the bytes agree, a reorder to NCHW otherwise. */
static void test_reshape(void) {
  for (int s = 1; s <= 7; s += 6) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 3, s, s}, wd[4] = {17, 3, 1, 1};
    int ci[2] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 1, -1, 1)}, c, f, r, id, y;
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "c", &c), 1, 1, 0, 1, 1);
    zn_node *n = bt_node(g, ZN_OP_FLATTEN, "flat", 1, &c, "f", &f);
    n->attrs.axis.axis = 1;
    int64_t shape[3] = {0, 17, -1};
    int ri[2] = {c, b_const_i64(g, "shape", 3, shape)};
    bt_node(g, ZN_OP_RESHAPE, "reshape", 2, ri, "r", &r);
    bt_node(g, ZN_OP_IDENTITY, "id", 1, &f, "id", &id);
    bt_node(g, ZN_OP_RELU, "relu", 1, &id, "y", &y);
    zn_graph_mark_output(g, y);
    zn_graph_mark_output(g, r);
    bt_compare(&zn_backend_onednn, s == 1 ? "flatten/reshape (alias)" : "flatten/reshape (reorder)", g, 3,
               ZN_PRECISION_FP32, 1, TOL);
    zn_graph_destroy(g);
  }
}

static void test_supports(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 7, 7};
  int x = bt_input(g, "x", 4, xd), y, t;
  zn_node *n = bt_node(g, ZN_OP_TRANSPOSE, "tr", 1, &x, "t", &t);
  n->attrs.transpose.num_perm = 4;
  int64_t perm[4] = {1, 0, 2, 3};  /* moves the batch axis */
  memcpy(n->attrs.transpose.perm, perm, sizeof perm);
  n = bt_node(g, ZN_OP_LRN, "lrn_even", 1, &x, "y", &y);
  n->attrs.lrn.size = 4;
  n->attrs.lrn.alpha = 1e-4f;
  n->attrs.lrn.beta = 0.75f;
  n->attrs.lrn.bias = 1;
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  char why[256];
  CHECK(zn_backend_onednn.supports_node(g, &g->nodes[0], why, sizeof why));  /* a Transpose may move the batch axis */
  CHECK(!zn_backend_onednn.supports_node(g, &g->nodes[1], why, sizeof why));  /* LRN with an even size */
  CHECK(strstr(why, "odd size") != NULL);
  void *compiled = NULL;
  CHECK_STATUS(zn_backend_onednn.compile(g, NULL, &compiled), ZN_ERR_UNSUPPORTED_OP);
  CHECK_ERROR_HAS("lrn_even");
  CHECK(compiled == NULL);
  zn_graph_destroy(g);
}

/* A graph input of another dtype than float32, passed straight to the output
 * (no node reads it, so no node's support check sees it): a clean error, not
 * a float32 import reading past the user's 1-byte-per-element buffer (found
 * by fuzz_model_run). */
static void test_non_f32_input(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 7, 39};
  int x = bt_input(g, "flags", 4, xd);
  g->values[x].dtype = ZN_DTYPE_BOOL;
  zn_graph_mark_output(g, x);
  CHECK_OK(zn_graph_infer_shapes(g));
  void *compiled = NULL;
  CHECK_STATUS(zn_backend_onednn.compile(g, NULL, &compiled), ZN_ERR_UNSUPPORTED_OP);
  CHECK_ERROR_HAS("flags");
  CHECK_ERROR_HAS("bool");
  CHECK(compiled == NULL);
  zn_graph_destroy(g);
}

/* A conv or pool with outputs whose window sees only padding (pads 3 around a
 * 3-wide window, stride 1): not taken; pads 2 are. A 593-byte model padding a
 * 5-wide input to 2^21 columns made oneDNN take 8 GB and 35 s to compile
 * (fuzz_model_run). A Pad folded into a strided conv (test_passes_numeric)
 * keeps every window touching the input and is still taken. */
static void test_pads_beyond_window(void) {
  for (int op = 0; op < 3; op++)
    for (int pad = 2; pad <= 3; pad++) {
      zn_graph *g = bt_graph();
      int64_t xd[4] = {1, 3, 7, 7};
      int x = bt_input(g, "x", 4, xd), y;
      if (op == 2) {
        int64_t wd[4] = {4, 3, 3, 3};
        int w = bt_const(g, "w", 4, wd, 7, -0.5f, 0.5f);
        int ins[2] = {x, w};
        bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ins, "y", &y), 3, 1, pad, 1, 1);
      } else {
        bt_pool_attrs(bt_node(g, op ? ZN_OP_AVERAGE_POOL : ZN_OP_MAX_POOL, "pool", 1, &x, "y", &y), 3, 1, pad, false,
                      true);
      }
      zn_graph_mark_output(g, y);
      CHECK_OK(zn_graph_infer_shapes(g));
      char why[256] = "";
      CHECK(zn_backend_onednn.supports_node(g, &g->nodes[0], why, sizeof why) == (pad < 3));
      CHECK(pad < 3 || strstr(why, op == 2 ? "see only padding" : "windows all reach the input") != NULL);
      zn_graph_destroy(g);
    }
}

/* Transpose and Gather of one index: a reorder from a view of the input
 * (permuted axes, or the sub-memory of the index), whatever layout the input
 * has (NHWC or nChw16c after a conv, plain after a reshape). */
static void transpose_case(int rank, const int64_t *perm, bool after_conv, int64_t batch) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 5, 6};
  int x = bt_input(g, "x", rank, rank == 4 ? xd : xd + 1), t, y;
  if (after_conv) {
    int64_t wd[4] = {19, 3, 3, 3};
    int ci[2] = {x, bt_const(g, "w", 4, wd, 3, -0.5f, 0.5f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "c", &x), 3, 1, 1, 1, 1);
  }
  zn_node *n = bt_node(g, ZN_OP_TRANSPOSE, "tr", 1, &x, "t", &t);
  n->attrs.transpose.num_perm = rank;
  memcpy(n->attrs.transpose.perm, perm, (size_t)rank * sizeof *perm);
  bt_node(g, ZN_OP_RELU, "relu", 1, &t, "y", &y);
  zn_graph_mark_output(g, y);
  char what[96];
  snprintf(what, sizeof what, "transpose rank %d perm %lld%lld%lld%s", rank, (long long)perm[0], (long long)perm[1],
           (long long)perm[2], after_conv ? " after a conv" : "");
  bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, 1, after_conv ? TOL : 0);
  zn_graph_destroy(g);
}

/* torchvision's Inception-V3 input transform (backend_test.h), all on onednn. */
static void test_gather_transform_input(int64_t batch, int threads) {
  zn_graph *g = bt_transform_input_graph();
  char why[256] = "";
  CHECK_OK(zn_graph_infer_shapes(g));
  for (int i = 0; i < g->num_nodes; i++) CHECK(zn_backend_onednn.supports_node(g, &g->nodes[i], why, sizeof why));
  bt_compare(&zn_backend_onednn, "Inception-V3 transform_input (Gather)", g, batch, ZN_PRECISION_FP32, threads, TOL);
  zn_graph_destroy(g);
}

/* Gather of a 1-element index along C or H of a conv's output (nChw16c or
 * NHWC: read as NHWC), and the refusals: several indices, the batch axis. */
static void test_gather_views(void) {
  for (int64_t batch = 1; batch <= 3; batch += 2)
    for (int axis = 1; axis <= 2; axis++) {
      zn_graph *g = bt_gather_graph(32, axis);
      bt_compare(&zn_backend_onednn, axis == 1 ? "gather of one channel of a conv's output" : "gather of one row of a conv's output",
                 g, batch, ZN_PRECISION_FP32, 1, TOL);
      zn_graph_destroy(g);
    }
  const int64_t two[2] = {0, 1}, zero[1] = {0};
  const int64_t *idx[2] = {two, zero};
  const int counts[2] = {2, 1}, axes[2] = {1, 0};
  for (int k = 0; k < 2; k++) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 3, 5, 5};
    int x = bt_input(g, "x", 4, xd), y;
    int gi[2] = {x, b_const_i64(g, "idx", counts[k], idx[k])};
    bt_node(g, ZN_OP_GATHER, "gather", 2, gi, "y", &y)->attrs.axis.axis = axes[k];
    zn_graph_mark_output(g, y);
    CHECK_OK(zn_graph_infer_shapes(g));
    char why[256] = "";
    CHECK(!zn_backend_onednn.supports_node(g, &g->nodes[0], why, sizeof why));
    CHECK(strstr(why, "only one constant index, on an axis other than the batch") != NULL);
    zn_graph_destroy(g);
  }
}

/* Slice as a view: a window of channels or rows of a conv's output (NHWC or
 * nChw16c) or of the input, or the whole batch axis, at batch 1 and 2 on 1
 * and 2 threads, with steps of 1, 2 and 3; the refusals say why (a negative
 * step, an empty range, starts computed at run time). */
static void test_slices(void) {
  static const struct { int64_t axis, start, end, step; bool after_conv; const char *what; } cases[] = {
      {1, 5, 21, 1, true, "channels 5..21 of a conv's output"},
      {1, 16, 1000, 0, true, "channels 16.. of a conv's output (end clamped, no steps input)"},
      {2, 2, -1, 1, true, "rows 2..-1 of a conv's output"},
      {-1, 0, 4, 1, true, "columns 0..4 (axis -1)"},
      {1, -7, 32, 0, false, "the last 7 channels of the input"},
      {0, 0, INT64_MAX, 1, true, "the whole batch axis"},
      {2, 0, 9, 2, true, "every second row of a conv's output (Swin's patch merging)"},
      {3, 1, 9, 2, true, "every second column from 1"},
      {1, 1, 30, 3, true, "every third channel of a conv's output"},
      {2, 1, 9, 2, false, "every second row of the input"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
    for (int64_t batch = 1; batch <= 2; batch++)
      for (int threads = 1; threads <= 2; threads++) {
        zn_graph *g = bt_slice_graph(cases[k].axis, cases[k].start, cases[k].end, cases[k].step, cases[k].after_conv);
        char what[128];
        snprintf(what, sizeof what, "slice: %s, %d thread(s)", cases[k].what, threads);
        bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, threads, cases[k].after_conv ? TOL : 0);
        zn_graph_destroy(g);
      }
  static const struct { int64_t end, step; bool runtime_start; } refused[] = {{2, -1, false}, {0, 1, false}, {2, 1, true}};
  for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
    zn_graph *g = bt_slice_graph(1, 0, refused[k].end, refused[k].step, false);
    if (refused[k].runtime_start) {  /* starts computed by a node (no constant data) */
      int st, idx = b_find_node(g, "slice"), starts = g->nodes[idx].inputs[1];
      bt_node(g, ZN_OP_IDENTITY, "starts_id", 1, &starts, "starts_id", &st);
      g->nodes[idx].inputs[1] = st;
      CHECK_OK(zn_graph_toposort(g));
    }
    CHECK_OK(zn_graph_infer_shapes(g));
    int si = b_find_node(g, "slice");
    char why[256] = "";
    CHECK(si >= 0 && !zn_backend_onednn.supports_node(g, &g->nodes[si], why, sizeof why));
    CHECK(strstr(why, "Slice: only constant starts/ends/axes, positive steps") != NULL);
    zn_graph_destroy(g);
  }
}

/* A ShuffleNet-V2 unit (backend_test.h): the Slices and the channel shuffle
 * (Reshape, Transpose, Reshape) run on onednn. The shuffle is one reorder
 * NHWC to NHWC: no reorder to NCHW, and no step falls to ref:any. With the
 * Transpose's output also a graph output, the three nodes run one by one. */
static void test_shuffle(void) {
  for (int mid = 0; mid <= 1; mid++)
    for (int64_t batch = 1; batch <= 2; batch++)
      for (int threads = 1; threads <= 2; threads++) {
        zn_graph *g = bt_shuffle_graph(mid);
        bt_compare(&zn_backend_onednn, mid ? "shufflenet unit, shuffle exposed" : "shufflenet unit", g, batch,
                   ZN_PRECISION_FP32, threads, TOL);
        void *compiled = NULL;
        char desc[4096] = "";
        CHECK_OK(zn_backend_onednn.compile(g, NULL, &compiled));
        if (compiled) zn_backend_onednn.describe(compiled, desc, sizeof desc);
        CHECK((strstr(desc, "reorders to NCHW") == NULL) == !mid);
        CHECK(strstr(desc, "ref:any") == NULL || mid);
        zn_backend_onednn.compiled_destroy(compiled);
        zn_graph_destroy(g);
      }
}

/* HardSigmoid alone (not after a conv, or after one whose output has a
 * second reader): a binary max(x, x) step with linear + clip post-ops. */
static void test_hard_sigmoid(void) {
  for (int rank = 2; rank <= 4; rank += 2) {
    eltwise_case(ZN_OP_HARD_SIGMOID, bt_act(ZN_ACT_HARD_SIGMOID, 0.2f, 0.5f), rank, 1);
    eltwise_case(ZN_OP_HARD_SIGMOID, bt_act(ZN_ACT_HARD_SIGMOID, 1.0f / 6.0f, 0.5f), rank, 3);
  }
  for (int threads = 1; threads <= 2; threads++) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 3, 9, 9}, wd[4] = {17, 3, 3, 3};
    int ci[2] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 8, -1.0f, 1.0f)}, c, h, y;
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "c", &c), 3, 1, 1, 1, 1);
    bt_node(g, ZN_OP_HARD_SIGMOID, "hsig", 1, &c, "h", &h)->attrs.act = bt_act(ZN_ACT_HARD_SIGMOID, 0.3f, 0.4f);
    int ai[2] = {h, c};
    bt_node(g, ZN_OP_ADD, "add", 2, ai, "y", &y);
    zn_graph_mark_output(g, y);
    bt_compare(&zn_backend_onednn, "HardSigmoid of a conv's output read twice", g, 2, ZN_PRECISION_FP32, threads, TOL);
    zn_graph_destroy(g);
  }
}

/* After shape inference, onednn refuses g's first node, saying text. */
static bool refuses_first(zn_graph *g, const char *text) {
  char why[256] = "";
  CHECK_OK(zn_graph_infer_shapes(g));
  return !zn_backend_onednn.supports_node(g, &g->nodes[0], why, sizeof why) && strstr(why, text) != NULL;
}

/* GeM pooling (image retrieval): conv -> Clip(min 0.01) -> Pow(p) -> global
 * mean -> Pow(1/p), then Sqrt; exponents float32, int64 and int32 constants;
 * a Pow by a computed exponent is refused. */
static void test_pow_sqrt(void) {
  for (int k = 0; k < 3; k++)
    for (int threads = 1; threads <= 2; threads++) {
      zn_graph *g = bt_graph();
      int64_t xd[4] = {1, 3, 9, 9}, wd[4] = {17, 3, 3, 3}, one[1] = {1};
      int ci[2] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 4, wd, 8, -1.0f, 1.0f)}, c, cl, p1, m, p2, y;
      bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "c", &c), 3, 1, 1, 1, 1);
      bt_node(g, ZN_OP_CLIP, "clip", 1, &c, "cl", &cl)->attrs.act = bt_act(ZN_ACT_CLIP, 0.01f, INFINITY);
      int e;
      if (k == 0) {
        float p = 3.0f;
        e = b_const_f32(g, "p", 0, one, &p);
      } else if (k == 1) {
        int64_t p = 2;
        e = -1;
        zn_graph_add_const(g, "p", ZN_DTYPE_INT64, 0, one, &p, sizeof p, &e);
      } else {
        int32_t p = 4;
        e = -1;
        zn_graph_add_const(g, "p", ZN_DTYPE_INT32, 0, one, &p, sizeof p, &e);
      }
      float inv = k == 0 ? 1.0f / 3.0f : k == 1 ? 0.5f : 0.25f;
      int ei = b_const_f32(g, "inv_p", 0, one, &inv);
      bt_node(g, ZN_OP_POW, "pow", 2, (int[]){cl, e}, "p1", &p1);
      bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "mean", 1, &p1, "m", &m);
      bt_node(g, ZN_OP_POW, "pow_inv", 2, (int[]){m, ei}, "p2", &p2);
      bt_node(g, ZN_OP_SQRT, "sqrt", 1, &p2, "y", &y);
      zn_graph_mark_output(g, y);
      bt_compare(&zn_backend_onednn, "GeM pooling: Pow, Pow, Sqrt", g, threads == 1 ? 1 : 3, ZN_PRECISION_FP32, threads,
                 TOL);
      zn_graph_destroy(g);
    }
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 4, 4};
  int x = bt_input(g, "x", 4, xd), y;
  bt_node(g, ZN_OP_POW, "pow", 2, (int[]){x, x}, "y", &y);
  zn_graph_mark_output(g, y);
  CHECK(refuses_first(g, "only a constant scalar exponent"));
  zn_graph_destroy(g);
}

/* MatMul of two tensors (not a Linear layer): self-attention's
 * softmax(x x^T) x on [N,5,8]; a 4-D activation times a constant matrix; a
 * constant matrix times a 3-D activation; [N,2,5,8] x [N,1,8,3] (broadcast). */
static void test_batched_matmul(void) {
  for (int k = 0; k < 4; k++)
    for (int threads = 1; threads <= 2; threads++) {
      zn_graph *g = bt_graph();
      int y = -1;
      const char *what = "";
      if (k == 0) {
        int64_t xd[3] = {1, 5, 8};
        int x = bt_input(g, "x", 3, xd), xt, sc, a;
        zn_node *t = bt_node(g, ZN_OP_TRANSPOSE, "t", 1, &x, "xt", &xt);
        t->attrs.transpose.num_perm = 3;
        memcpy(t->attrs.transpose.perm, (int64_t[]){0, 2, 1}, 3 * sizeof(int64_t));
        bt_node(g, ZN_OP_MATMUL, "qk", 2, (int[]){x, xt}, "s", &sc);
        bt_node(g, ZN_OP_SOFTMAX, "softmax", 1, &sc, "a", &a)->attrs.softmax.axis = -1;
        bt_node(g, ZN_OP_MATMUL, "av", 2, (int[]){a, x}, "y", &y);
        what = "attention softmax(x x^T) x";
      } else if (k == 1) {
        int64_t xd[4] = {1, 2, 5, 8}, wd[2] = {8, 3};
        int in[2] = {bt_input(g, "x", 4, xd), bt_const(g, "w", 2, wd, 3, -1, 1)};
        bt_node(g, ZN_OP_MATMUL, "mm", 2, in, "y", &y);
        what = "[N,2,5,8] x constant [8,3]";
      } else if (k == 2) {
        int64_t xd[3] = {1, 4, 6}, wd[2] = {3, 4};
        int in[2] = {bt_const(g, "w", 2, wd, 3, -1, 1), bt_input(g, "x", 3, xd)};
        bt_node(g, ZN_OP_MATMUL, "mm", 2, in, "y", &y);
        what = "constant [3,4] x [N,4,6]";
      } else {
        int64_t xd[4] = {1, 2, 5, 8}, zd[3] = {1, 8, 3};
        int x = bt_input(g, "x", 4, xd), z = bt_input(g, "z", 3, zd), zu;
        zn_node *u = bt_node(g, ZN_OP_UNSQUEEZE, "u", 1, &z, "zu", &zu);
        u->attrs.axes.num_axes = 1;
        u->attrs.axes.axes[0] = 1;
        bt_node(g, ZN_OP_MATMUL, "mm", 2, (int[]){x, zu}, "y", &y);
        what = "[N,2,5,8] x [N,1,8,3]";
      }
      zn_graph_mark_output(g, y);
      bt_compare(&zn_backend_onednn, what, g, threads == 1 ? 1 : 3, ZN_PRECISION_FP32, threads, TOL);
      zn_graph_destroy(g);
    }
  /* a vector operand (valid ONNX: [N,5,8] x [8] -> [N,5]) is refused, not run */
  zn_graph *g = bt_graph();
  int64_t ad[3] = {1, 5, 8}, bd[1] = {8};
  int in[2] = {bt_input(g, "a", 3, ad), bt_const(g, "b", 1, bd, 5, -1, 1)}, y;
  bt_node(g, ZN_OP_MATMUL, "mm", 2, in, "y", &y);
  zn_graph_mark_output(g, y);
  CHECK(refuses_first(g, "broadcastable leading dims"));
  zn_graph_destroy(g);
}

/* PyTorch's MultiheadAttention, sequence first: x [N,5,8] -> Transpose to
 * [5,N,8] (the batch now second) -> Flatten to [5N,8] -> Gemm (q, k and v in
 * one [8,24] projection) -> Reshape [5,2N,12] (two heads) -> Transpose to
 * [2N,5,12] -> Slice q, k, v (4 each) -> softmax(q k^T) v -> Transpose
 * [5,2N,4] -> Reshape [5N,8] -> Gemm -> Reshape [5,N,8] -> Transpose back. */
static void test_attention_sequence_first(void) {
  for (int threads = 1; threads <= 2; threads++)
    for (int64_t batch = 1; batch <= 3; batch += 2) {
      zn_graph *g = bt_graph();
      int64_t xd[3] = {1, 5, 8}, wd[2] = {24, 8}, bd[1] = {24}, od[2] = {8, 8};
      int x = bt_input(g, "x", 3, xd), t0, f, qkv, r, t1, q, k, v, kt, sc, a, o, t2, r2, p, r3, y;
      zn_node *n = bt_node(g, ZN_OP_TRANSPOSE, "t0", 1, &x, "t0", &t0);
      n->attrs.transpose.num_perm = 3;
      memcpy(n->attrs.transpose.perm, (int64_t[]){1, 0, 2}, 3 * sizeof(int64_t));
      bt_node(g, ZN_OP_FLATTEN, "flatten", 1, &t0, "f", &f)->attrs.axis.axis = 2;
      n = bt_node(g, ZN_OP_GEMM, "in_proj", 3, (int[]){f, bt_const(g, "w", 2, wd, 3, -1, 1), bt_const(g, "b", 1, bd, 4, -1, 1)},
                  "qkv", &qkv);
      n->attrs.gemm.trans_b = true;
      n->attrs.gemm.alpha = n->attrs.gemm.beta = 1;
      int s1 = b_const_i64(g, "s1", 3, (int64_t[]){5, 2, 12});
      g->values[s1].batch_elems = 2;  /* element 1 is 2N */
      bt_node(g, ZN_OP_RESHAPE, "heads", 2, (int[]){qkv, s1}, "r", &r);
      n = bt_node(g, ZN_OP_TRANSPOSE, "t1", 1, &r, "t1", &t1);
      n->attrs.transpose.num_perm = 3;
      memcpy(n->attrs.transpose.perm, (int64_t[]){1, 0, 2}, 3 * sizeof(int64_t));
      int outs[3] = {0};
      const char *names[3] = {"q", "k", "v"};
      for (int i = 0; i < 3; i++) {
        int st = b_const_i64(g, "", 1, (int64_t[]){4 * i}), en = b_const_i64(g, "", 1, (int64_t[]){4 * i + 4}),
            ax = b_const_i64(g, "", 1, (int64_t[]){2});
        bt_node(g, ZN_OP_SLICE, names[i], 4, (int[]){t1, st, en, ax}, names[i], &outs[i]);
      }
      q = outs[0], k = outs[1], v = outs[2];
      n = bt_node(g, ZN_OP_TRANSPOSE, "kt", 1, &k, "kt", &kt);
      n->attrs.transpose.num_perm = 3;
      memcpy(n->attrs.transpose.perm, (int64_t[]){0, 2, 1}, 3 * sizeof(int64_t));
      bt_node(g, ZN_OP_MATMUL, "qk", 2, (int[]){q, kt}, "sc", &sc);
      bt_node(g, ZN_OP_SOFTMAX, "softmax", 1, &sc, "a", &a)->attrs.softmax.axis = -1;
      bt_node(g, ZN_OP_MATMUL, "av", 2, (int[]){a, v}, "o", &o);
      n = bt_node(g, ZN_OP_TRANSPOSE, "t2", 1, &o, "t2", &t2);
      n->attrs.transpose.num_perm = 3;
      memcpy(n->attrs.transpose.perm, (int64_t[]){1, 0, 2}, 3 * sizeof(int64_t));
      int s2 = b_const_i64(g, "s2", 2, (int64_t[]){5, 8});
      g->values[s2].batch_elems = 1;  /* 5N rows */
      bt_node(g, ZN_OP_RESHAPE, "merge", 2, (int[]){t2, s2}, "r2", &r2);
      n = bt_node(g, ZN_OP_GEMM, "out_proj", 2, (int[]){r2, bt_const(g, "wo", 2, od, 5, -1, 1)}, "p", &p);
      n->attrs.gemm.trans_b = true;
      n->attrs.gemm.alpha = n->attrs.gemm.beta = 1;
      int s3 = b_const_i64(g, "s3", 3, (int64_t[]){5, 1, 8});
      g->values[s3].batch_elems = 2;
      bt_node(g, ZN_OP_RESHAPE, "unflatten", 2, (int[]){p, s3}, "r3", &r3);
      n = bt_node(g, ZN_OP_TRANSPOSE, "t3", 1, &r3, "y", &y);
      n->attrs.transpose.num_perm = 3;
      memcpy(n->attrs.transpose.perm, (int64_t[]){1, 0, 2}, 3 * sizeof(int64_t));
      zn_graph_mark_output(g, y);
      bt_compare(&zn_backend_onednn, "attention, sequence first", g, batch, ZN_PRECISION_FP32, threads, TOL);
      zn_graph_destroy(g);
    }
}

/* Compile g for onednn (fp32) and say whether its description holds text. */
static bool describes(const zn_graph *g, const char *text) {
  void *compiled = NULL;
  zn_backend_compile_options co = {.precision = ZN_PRECISION_FP32};
  CHECK_OK(zn_backend_onednn.compile(g, &co, &compiled));
  char buf[4096] = "";
  if (compiled) zn_backend_onednn.describe(compiled, buf, sizeof buf);
  if (compiled) zn_backend_onednn.compiled_destroy(compiled);
  return strstr(buf, text) != NULL;
}

/* A transformer's Linear layer: a Gemm on [80N, 16] rows (more than
 * ODN_IP_MATMUL_MIN_ROWS) runs as a matmul with blocked weights; transB on
 * and off, alpha and beta, bias, a fused activation, batch 1 and 2. */
static void test_linear_as_matmul(void) {
  for (int tb = 0; tb < 2; tb++)
    for (int threads = 1; threads <= 2; threads++) {
      zn_graph *g = bt_graph();
      int64_t xd[3] = {1, 80, 16}, wd[2] = {tb ? 24 : 16, tb ? 16 : 24}, bd[1] = {24};
      int x = bt_input(g, "x", 3, xd), f, y;
      bt_node(g, ZN_OP_FLATTEN, "flatten", 1, &x, "f", &f)->attrs.axis.axis = 2;
      zn_node *n = bt_node(g, ZN_OP_GEMM, "linear", 3,
                           (int[]){f, bt_const(g, "w", 2, wd, 3, -1, 1), bt_const(g, "b", 1, bd, 4, -1, 1)}, "y", &y);
      n->attrs.gemm.trans_b = tb;
      n->attrs.gemm.alpha = 0.5f;
      n->attrs.gemm.beta = 2.0f;
      n->attrs.gemm.act = bt_act(tb ? ZN_ACT_RELU : ZN_ACT_GELU, 0, 0);
      zn_graph_mark_output(g, y);
      bt_compare(&zn_backend_onednn, tb ? "Linear as matmul, transB, ReLU" : "Linear as matmul, Gelu", g,
                 threads == 1 ? 1 : 2, ZN_PRECISION_FP32, threads, TOL);
      CHECK(describes(g, "inner products: 1 matmul:"));
      zn_graph_destroy(g);
    }
}

/* Broadcasts oneDNN 2.6 runs only with ref:any take the own C loop: Swin's
 * shifted-window mask [N,4,3,7,7] + [1,4,1,7,7] (a constant and an
 * activation), and Sub/Mul/Div by [N,1,3,1,7] and by a [1] scalar row. */
static void test_own_binary(void) {
  const zn_op ops[4] = {ZN_OP_ADD, ZN_OP_SUB, ZN_OP_MUL, ZN_OP_DIV};
  for (int k = 0; k < 4; k++)
    for (int form = 0; form < 3; form++)
      for (int threads = 1; threads <= 2; threads++) {
        zn_graph *g = bt_graph();
        int64_t xd[5] = {1, 4, 3, 7, 7}, md[5] = {1, 4, 1, 7, 7}, rd[5] = {1, 1, 3, 1, 7}, sd[1] = {1};
        int x = bt_input(g, "x", 5, xd), b, y;
        if (form == 0) {
          b = bt_const(g, "mask", 5, md, 9, 0.5f, 1.5f);
        } else if (form == 1) {
          int z = bt_input(g, "z", 5, rd);
          bt_node(g, ZN_OP_SIGMOID, "gate", 1, &z, "zg", &b)->attrs.act = bt_act(ZN_ACT_SIGMOID, 0, 0);
        } else {
          b = bt_const(g, "s", 1, sd, 10, 0.5f, 1.5f);
        }
        bt_node(g, ops[k], "op", 2, (int[]){x, b}, "y", &y);
        zn_graph_mark_output(g, y);
        char what[96];
        snprintf(what, sizeof what, "own broadcast %s, form %d", zn_op_name(ops[k]), form);
        bt_compare(&zn_backend_onednn, what, g, threads == 1 ? 1 : 3, ZN_PRECISION_FP32, threads, TOL);
        if (form == 0) CHECK(describes(g, "own broadcast binaries (C loop where oneDNN has only ref:any or splits "
                                          "threads otherwise than the convs, and Expand): 1"));
        zn_graph_destroy(g);
      }
}

/* Squeeze-excitation (EfficientNet, MobileNet-V3, RegNet-Y) on the own
 * steps whose threads split pixels: a = conv(x) in NHWC, s = sigmoid(conv1x1(
 * GlobalAveragePool(a))), y = a op s (s first when swapped). Channels cover
 * the 64-channel passes and the 16-channel and scalar remainders; sizes
 * 1x1 to 23x23 put some shapes over the 2-thread threshold (16384 floats
 * per image) and some under it. */
static void se_case(zn_op op, int64_t ch, int64_t s, bool swapped, int64_t batch, int threads) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 5, s, s}, wd[4] = {ch, 5, 3, 3}, ed[4] = {ch, ch, 1, 1}, bd[1] = {ch};
  int x = bt_input(g, "x", 4, xd), a, p, e, sc, y;
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, (int[]){x, bt_const(g, "w", 4, wd, 11, -0.5f, 0.5f)}, "a", &a), 3, 1,
                1, 1, 1);
  bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "squeeze", 1, &a, "p", &p);
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "excite", 3,
                        (int[]){p, bt_const(g, "we", 4, ed, 12, -0.5f, 0.5f), bt_const(g, "be", 1, bd, 13, 0.5f, 1.5f)},
                        "e", &e),
                1, 1, 0, 1, 1);
  bt_node(g, ZN_OP_SIGMOID, "gate", 1, &e, "sc", &sc)->attrs.act = bt_act(ZN_ACT_SIGMOID, 0, 0);
  bt_node(g, op, "scale", 2, swapped ? (int[]){sc, a} : (int[]){a, sc}, "y", &y);
  zn_graph_mark_output(g, y);
  char what[128];
  snprintf(what, sizeof what, "squeeze-excitation %s%s, %lld channels, %lldx%lld", zn_op_name(op),
           swapped ? " swapped" : "", (long long)ch, (long long)s, (long long)s);
  bt_compare(&zn_backend_onednn, what, g, batch, ZN_PRECISION_FP32, threads, TOL);
  CHECK(describes(g, "own global average pools (C loop, threads split pixels): 1"));
  CHECK(describes(g, "own broadcast binaries (C loop where oneDNN has only ref:any or splits threads otherwise than "
                     "the convs, and Expand): 1"));
  zn_graph_destroy(g);
}

static void test_squeeze_excitation(void) {
  const int64_t chans[] = {3, 16, 20, 32, 100, 130}, sizes[] = {1, 7, 13, 23};
  for (size_t k = 0; k < sizeof chans / sizeof *chans; k++)
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
      for (int threads = 1; threads <= 2; threads++)
        se_case(ZN_OP_MUL, chans[k], sizes[s], false, threads == 1 ? 1 : 3, threads);
  se_case(ZN_OP_MUL, 32, 23, true, 3, 2);
  se_case(ZN_OP_ADD, 130, 13, false, 1, 2);
  se_case(ZN_OP_SUB, 32, 23, false, 3, 2);
  se_case(ZN_OP_DIV, 100, 7, false, 2, 2);
}

/* Expand on the own broadcast loop: ViT's class token, a constant [1,1,8]
 * expanded to [N,1,8] and concatenated with the patches [N,4,8]; and an
 * activation [N,1,8] expanded to [N,3,8]. */
static void test_expand(void) {
  for (int k = 0; k < 2; k++)
    for (int threads = 1; threads <= 2; threads++) {
      zn_graph *g = bt_graph();
      int64_t xd[3] = {1, 4, 8}, td[3] = {1, 1, 8};
      int x = bt_input(g, "x", 3, xd), e, y;
      if (k == 0) {
        int shape = b_const_i64(g, "shape", 3, (int64_t[]){1, 1, 8});
        g->values[shape].batch_elems = 1;  /* [N,1,8] */
        bt_node(g, ZN_OP_EXPAND, "expand", 2, (int[]){bt_const(g, "cls", 3, td, 5, -1, 1), shape}, "e", &e);
        bt_node(g, ZN_OP_CONCAT, "cat", 2, (int[]){e, x}, "y", &y)->attrs.axis.axis = 1;
      } else {
        int t = bt_input(g, "t", 3, td), shape = b_const_i64(g, "shape", 3, (int64_t[]){1, 3, 8});
        g->values[shape].batch_elems = 1;
        bt_node(g, ZN_OP_EXPAND, "expand", 2, (int[]){t, shape}, "e", &e);
        bt_node(g, ZN_OP_RELU, "relu", 1, &e, "y", &y)->attrs.act = bt_act(ZN_ACT_RELU, 0, 0);
        (void)x;
      }
      zn_graph_mark_output(g, y);
      bt_compare(&zn_backend_onednn, k == 0 ? "Expand: class token" : "Expand: an activation", g, threads == 1 ? 1 : 3,
                 ZN_PRECISION_FP32, threads, 0);
      zn_graph_destroy(g);
    }
}

/* ConvNeXt's channels-last round trip: depthwise conv (NHWC) -> Transpose
 * (0,2,3,1) -> LayerNorm over C -> Transpose (0,3,1,2) -> 1x1 conv. Both
 * Transposes are aliases of the same bytes (no step); with the channels-last
 * value also a graph output, the result must not change. */
static void test_channels_last_aliases(void) {
  for (int expose = 0; expose < 2; expose++)
    for (int threads = 1; threads <= 2; threads++) {
      zn_graph *g = bt_graph();
      int64_t xd[4] = {1, 8, 5, 5}, wd[4] = {8, 1, 3, 3}, cd[1] = {8}, w2d[4] = {4, 8, 1, 1};
      int x = bt_input(g, "x", 4, xd), d, t, l, b, y;
      bt_conv_attrs(bt_node(g, ZN_OP_CONV, "dw", 2, (int[]){x, bt_const(g, "w", 4, wd, 3, -1, 1)}, "d", &d), 3, 1, 1, 1,
                    8);
      zn_node *n = bt_node(g, ZN_OP_TRANSPOSE, "to_last", 1, &d, "t", &t);
      n->attrs.transpose.num_perm = 4;
      memcpy(n->attrs.transpose.perm, (int64_t[]){0, 2, 3, 1}, 4 * sizeof(int64_t));
      n = bt_node(g, ZN_OP_LAYER_NORM, "ln", 3,
                  (int[]){t, bt_const(g, "gamma", 1, cd, 4, 0.5f, 1.5f), bt_const(g, "beta", 1, cd, 5, -1, 1)}, "l", &l);
      n->attrs.layer_norm.axis = -1;
      n->attrs.layer_norm.epsilon = 1e-6f;
      n = bt_node(g, ZN_OP_TRANSPOSE, "to_first", 1, &l, "b", &b);
      n->attrs.transpose.num_perm = 4;
      memcpy(n->attrs.transpose.perm, (int64_t[]){0, 3, 1, 2}, 4 * sizeof(int64_t));
      bt_conv1x1(g, "pw", 2, (int[]){b, bt_const(g, "w2", 4, w2d, 6, -1, 1)}, "y", &y, bt_act(ZN_ACT_NONE, 0, 0));
      zn_graph_mark_output(g, y);
      if (expose) zn_graph_mark_output(g, t);
      bt_compare(&zn_backend_onednn, expose ? "channels last and back, the middle an output" : "channels last and back",
                 g, threads == 1 ? 1 : 3, ZN_PRECISION_FP32, threads, TOL);
      if (!expose) CHECK(describes(g, "NHWC <-> plain aliases (no step): 2"));
      zn_graph_destroy(g);
    }
}

static void test_views(void) {
  const int64_t p4[3][4] = {{0, 2, 3, 1}, {0, 3, 1, 2}, {0, 1, 3, 2}}, p3[3] = {0, 2, 1};
  for (int k = 0; k < 3; k++) {
    transpose_case(4, p4[k], true, 1);
    transpose_case(4, p4[k], false, 3);
  }
  transpose_case(3, p3, false, 2);
  test_gather_transform_input(1, 1);
  test_gather_transform_input(2, 2);
  test_gather_views();
}

int zn_test_main(void) {
  test_conv();
  test_pool();
  test_gemm();
  test_matmul();
  test_eltwise();
  test_binary();
  test_batch_norm_lrn_softmax();
  test_concat();
  test_reshape();
  test_supports();
  test_non_f32_input();
  test_pads_beyond_window();
  test_views();
  test_slices();
  test_shuffle();
  test_hard_sigmoid();
  test_pow_sqrt();
  test_batched_matmul();
  test_attention_sequence_first();
  test_linear_as_matmul();
  test_own_binary();
  test_squeeze_excitation();
  test_expand();
  test_channels_last_aliases();
  return 0;
}
