/* xnnpack backend on the forms mobile classifiers export (EfficientNet,
 * RegNet-Y, MobileNet-V3, ShuffleNet-V2), each against the ref oracle at
 * batch 1 and 2 on 1 and 2 threads: activations XNNPACK cannot fuse into a
 * Conv/Gemm (run after it, in place), standalone HardSigmoid and Tanh,
 * squeeze-excitation's [N,C,H,W] x [N,C,1,1], Transpose and Slice, the
 * channel shuffle as one copy and channel Slices as views, and ConvNeXt's
 * LayerNormalization over the last axis and Gelu (standalone, or after a
 * Gemm/Conv). Each case
 * also checks the kernel the step reports, so it cannot pass on another path. */
#include "backend_test.h"

#define TOL 1e-4

static const zn_backend_ops *xnn;

/* The kernel text of the step that runs node `name` (alone or with others,
 * as a channel shuffle runs three) on a 1-thread instance at batch 1 (""
 * when it cannot be built). */
static void kernel_of(zn_graph *g, const char *name, char *out, size_t out_size) {
  snprintf(out, out_size, "%s", "");
  void *compiled = NULL, *inst = NULL;
  zn_backend_instance_options o = {1, NULL, 0, NULL};
  if (zn_graph_infer_shapes(g) == ZN_OK && xnn->compile(g, NULL, &compiled) == ZN_OK &&
      xnn->instance_create(compiled, &o, &inst) == ZN_OK && xnn->instance_reshape(inst, 1) == ZN_OK) {
    for (int i = 0; i < xnn->instance_num_steps(inst); i++) {
      zn_backend_step st = {0};
      xnn->instance_step(inst, i, &st);
      for (int k = 0; k < st.num_nodes; k++)
        if (!strcmp(g->nodes[st.nodes[k]].name, name)) snprintf(out, out_size, "%s", st.kernel);
    }
  }
  if (inst) xnn->instance_destroy(inst);
  if (compiled) xnn->compiled_destroy(compiled);
}

/* Node `name` runs on a kernel whose text holds `kernel`; then the graph
 * against ref at batch 1 and 2, threads 1 and 2. Destroys g. */
static void check(const char *what, zn_graph *g, const char *name, const char *kernel) {
  char k[160];
  kernel_of(g, name, k, sizeof k);
  zn_test_checks++;
  if (!strstr(k, kernel)) {
    zn_test_failures++;
    fprintf(stderr, "%s: node %s runs on '%s', expected '%s'\n", what, name, k, kernel);
  }
  for (int64_t batch = 1; batch <= 2; batch++)
    for (int threads = 1; threads <= 2; threads++) {
      char w[200];
      snprintf(w, sizeof w, "%s t%d", what, threads);
      bt_compare(xnn, w, g, batch, ZN_PRECISION_FP32, threads, TOL);
    }
  zn_graph_destroy(g);
}

static const char *post_kernel(zn_act act) {
  switch (act.kind) {
  case ZN_ACT_SWISH: return act.alpha == 1.0f ? "+ xnn_sigmoid_nc_f32 + multiply (C loop)" : "+ Swish (C loop)";
  case ZN_ACT_SIGMOID: return "+ xnn_sigmoid_nc_f32";
  case ZN_ACT_HARD_SWISH: return "+ xnn_hardswish_nc_f32";
  case ZN_ACT_LEAKY_RELU: return "+ xnn_leaky_relu_nc_f32";
  case ZN_ACT_HARD_SIGMOID: return "+ HardSigmoid (C loop)";
  case ZN_ACT_GELU: return "+ Gelu (C loop)";
  default: return "+ Tanh (C loop)";
  }
}

static const zn_act post_acts[] = {{ZN_ACT_SIGMOID, 0, 0},
                                   {ZN_ACT_HARD_SIGMOID, 1.0f / 6.0f, 0.5f},
                                   {ZN_ACT_HARD_SWISH, 0, 0},
                                   {ZN_ACT_TANH, 0, 0},
                                   {ZN_ACT_LEAKY_RELU, 0.1f, 0},
                                   {ZN_ACT_SWISH, 1.0f, 0},
                                   {ZN_ACT_SWISH, 0.5f, 0},
                                   {ZN_ACT_GELU, 0, 0}};
#define NUM_POST_ACTS (sizeof post_acts / sizeof post_acts[0])

/* [N,cin,s,s] -> Conv(k, pad k/2, stride, group) with act [+ residual]; the
 * output, or (into_concat) its channel slice of a Concat with the input. */
static void conv_act_case(zn_act act, int64_t cin, int64_t cout, int64_t s, int64_t k, int64_t stride,
                          int64_t group, bool residual, bool into_concat, const char *kernel) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, cin, s, s}, wd[4] = {cout, cin / group, k, k}, bd[1] = {cout};
  const int64_t os = (s + 2 * (k / 2) - k) / stride + 1;
  int64_t rd[4] = {1, cout, os, os};
  int x = bt_input(g, "x", 4, xd), y;
  int in[4] = {x, bt_const(g, "w", 4, wd, 7, -0.5f, 0.5f), bt_const(g, "b", 1, bd, 8, -1, 1),
               residual ? bt_input(g, "r", 4, rd) : ZN_NO_VALUE};
  zn_node *n = bt_node(g, ZN_OP_CONV, "conv", residual ? 4 : 3, in, "y", &y);
  bt_conv_attrs(n, k, stride, k / 2, 1, group);
  n->attrs.conv.act = act;
  if (into_concat) {
    int cat, ci[2] = {x, y};
    bt_node(g, ZN_OP_CONCAT, "cat", 2, ci, "cat", &cat)->attrs.axis.axis = 1;
    zn_graph_mark_output(g, cat);
  } else {
    zn_graph_mark_output(g, y);
  }
  char what[160];
  snprintf(what, sizeof what, "conv %lld->%lld s%lld k%lld st%lld g%lld act%d res%d cat%d", (long long)cin,
           (long long)cout, (long long)s, (long long)k, (long long)stride, (long long)group, act.kind, residual,
           into_concat);
  check(what, g, "conv", kernel);
}

static void test_fused_act(void) {
  for (size_t a = 0; a < NUM_POST_ACTS; a++) {
    const zn_act act = post_acts[a];
    char k1[160];
    snprintf(k1, sizeof k1, "xnn_convolution2d_nhwc_f32 %s", post_kernel(act));
    conv_act_case(act, 8, 32, 1, 1, 1, 1, false, false, k1);  /* SE fc2: [N,8,1,1] -> [N,32,1,1] */
    conv_act_case(act, 17, 24, 7, 1, 1, 1, false, true, k1);  /* output a concat slice: pixel stride 41 */
    conv_act_case(act, 16, 16, 9, 3, 2, 16, false, false, k1); /* depthwise stride 2 */
    snprintf(k1, sizeof k1, "xnn_convolution2d_nhwc_f32 + xnn_add_nd_f32 %s", post_kernel(act));
    conv_act_case(act, 16, 16, 7, 1, 1, 1, true, false, k1); /* residual, then the activation */
    snprintf(k1, sizeof k1, "im2col (C) + xnn_fully_connected_nc_f32, one per thread %s", post_kernel(act));
    conv_act_case(act, 3, 16, 13, 7, 2, 1, false, false, k1); /* stem */
    setenv("ZN_XNNPACK_WINOGRAD", "all", 1);
    snprintf(k1, sizeof k1, "16 xnn_fully_connected_nc_f32 %s", post_kernel(act)); /* F(2x2,3x3) */
    conv_act_case(act, 16, 24, 9, 3, 1, 1, false, false, k1);
    unsetenv("ZN_XNNPACK_WINOGRAD");
    setenv("ZN_XNNPACK_SLICE_KB", "4", 1); /* 32x48x3x3 floats = 54 KiB: 3 slices of 16 channels */
    snprintf(k1, sizeof k1, "(sliced) %s", post_kernel(act));
    conv_act_case(act, 32, 48, 7, 3, 1, 1, false, false, k1);
    unsetenv("ZN_XNNPACK_SLICE_KB");
    /* Gemm [N,20] x [20,10] + bias, then the activation */
    zn_graph *g = bt_graph();
    int64_t xd[2] = {1, 20}, wd[2] = {10, 20}, bd[1] = {10};
    int y, in[3] = {bt_input(g, "x", 2, xd), bt_const(g, "B", 2, wd, 3, -0.5f, 0.5f), bt_const(g, "C", 1, bd, 4, -1, 1)};
    bt_node(g, ZN_OP_GEMM, "gemm", 3, in, "y", &y)->attrs.gemm = (zn_gemm_attrs){false, true, 1.0f, 1.0f, act};
    zn_graph_mark_output(g, y);
    char what[64];
    snprintf(what, sizeof what, "gemm act%d", act.kind);
    snprintf(k1, sizeof k1, "xnn_fully_connected_nc_f32 %s", post_kernel(act));
    check(what, g, "gemm", k1);
  }
}

/* A standalone activation over an NHWC [N,c,s,s] or a plain [N,c]; the
 * 4-D input is a concat slice (pixel stride 2c) when `view`. */
static void unary_case(zn_op op, zn_act act, int64_t c, int64_t s, int rank, bool view, const char *kernel) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, s, s};
  int x = bt_input(g, "x", rank, xd), y, src = x;
  if (view) {
    int a, b, cat, ci[2];
    bt_node(g, ZN_OP_RELU, "a", 1, &x, "a", &a);
    bt_node(g, ZN_OP_SIGMOID, "b", 1, &x, "b", &b);
    ci[0] = a, ci[1] = b;
    bt_node(g, ZN_OP_CONCAT, "cat", 2, ci, "cat", &cat)->attrs.axis.axis = 1;
    zn_graph_mark_output(g, cat);
    src = b;
  }
  bt_node(g, op, "op", 1, &src, "y", &y)->attrs.act = act;
  zn_graph_mark_output(g, y);
  char what[96];
  snprintf(what, sizeof what, "%s c%lld s%lld rank%d view%d", zn_op_name(op), (long long)c, (long long)s, rank, view);
  check(what, g, "op", kernel);
}

static void test_unary(void) {
  const int64_t chans[] = {1, 3, 17, 64};
  for (size_t a = 0; a < 4; a++) {
    unary_case(ZN_OP_HARD_SIGMOID, (zn_act){ZN_ACT_NONE, 0.2f, 0.5f}, chans[a], 7, 4, false, "HardSigmoid (C loop)");
    unary_case(ZN_OP_HARD_SIGMOID, (zn_act){ZN_ACT_NONE, 1.0f / 6, 0.5f}, chans[a], 5, 4, true, "HardSigmoid (C loop)");
    unary_case(ZN_OP_HARD_SIGMOID, (zn_act){ZN_ACT_NONE, 0.5f, 0.1f}, chans[a] * 7, 0, 2, false, "HardSigmoid (C loop)");
    unary_case(ZN_OP_TANH, (zn_act){0}, chans[a], 7, 4, a % 2 == 1, "Tanh (C loop)");
    unary_case(ZN_OP_TANH, (zn_act){0}, chans[a] * 7, 0, 2, false, "Tanh (C loop)");
    unary_case(ZN_OP_SIGMOID, (zn_act){0}, chans[a], 5, 4, true, "xnn_sigmoid_nc_f32");
    unary_case(ZN_OP_LEAKY_RELU, (zn_act){ZN_ACT_NONE, 0.01f, 0}, chans[a], 5, 4, true, "xnn_leaky_relu_nc_f32");
    unary_case(ZN_OP_SWISH, (zn_act){ZN_ACT_NONE, 1.0f, 0}, chans[a], 5, 4, a % 2 == 0,
               "xnn_sigmoid_nc_f32 + multiply (C loop)");
    unary_case(ZN_OP_SWISH, (zn_act){ZN_ACT_NONE, 0.5f, 0}, chans[a], 5, 4, a % 2 == 1, "Swish (C loop)");
  }
  for (size_t a = 0; a < 4; a++) {
    unary_case(ZN_OP_GELU, (zn_act){0}, chans[a], 5, 4, a % 2 == 0, "Gelu (C loop)");
    unary_case(ZN_OP_GELU, (zn_act){0}, chans[a] * 7, 0, 2, false, "Gelu (C loop)");
  }
  unary_case(ZN_OP_GELU, (zn_act){0}, 64, 23, 4, true, "Gelu (C loop)");
  /* large enough to split over the pool: 64 x 23 x 23 floats */
  unary_case(ZN_OP_HARD_SIGMOID, (zn_act){ZN_ACT_NONE, 0.2f, 0.5f}, 64, 23, 4, false, "HardSigmoid (C loop)");
  unary_case(ZN_OP_TANH, (zn_act){0}, 64, 23, 4, true, "Tanh (C loop)");
}

/* Squeeze-excitation: s = act(conv(relu(conv(GAP(x))))) [N,C,1,1]; y = x op s
 * (or s op x). x is a concat slice when `view`. */
static void se_case(zn_op op, zn_act act, int64_t c, int64_t hw, bool scale_first, bool view) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, hw, hw}, w1[4] = {c / 4 + 1, c, 1, 1}, w2[4] = {c, c / 4 + 1, 1, 1};
  int in = bt_input(g, "x", 4, xd), x = in, p, r, s, y;
  if (view) {
    int a, cat, ci[2];
    bt_node(g, ZN_OP_RELU, "a", 1, &in, "a", &a);
    bt_node(g, ZN_OP_SIGMOID, "b", 1, &in, "b", &x);
    ci[0] = a, ci[1] = x;
    bt_node(g, ZN_OP_CONCAT, "cat", 2, ci, "cat", &cat)->attrs.axis.axis = 1;
    zn_graph_mark_output(g, cat);
  }
  bt_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "gap", 1, &x, "p", &p);
  int c1[2] = {p, bt_const(g, "w1", 4, w1, 3, -1, 1)}, c2[2] = {-1, bt_const(g, "w2", 4, w2, 4, -1, 1)};
  bt_conv1x1(g, "fc1", 2, c1, "r", &r, bt_act(ZN_ACT_RELU, 0, 0));
  c2[0] = r;
  bt_conv1x1(g, "fc2", 2, c2, "s", &s, act);
  int mi[2] = {scale_first ? s : x, scale_first ? x : s};
  bt_node(g, op, "scale", 2, mi, "y", &y);
  zn_graph_mark_output(g, y);
  char what[128];
  snprintf(what, sizeof what, "SE %s c%lld hw%lld act%d scale_first%d view%d", zn_op_name(op), (long long)c,
           (long long)hw, act.kind, scale_first, view);
  check(what, g, "scale", "per image and channel");
}

static void test_se(void) {
  const zn_act sig = {ZN_ACT_SIGMOID, 0, 0}, hsig = {ZN_ACT_HARD_SIGMOID, 1.0f / 6.0f, 0.5f};
  const int64_t chans[] = {1, 8, 17, 64};
  for (size_t a = 0; a < 4; a++) {
    se_case(ZN_OP_MUL, sig, chans[a], 7, true, false);
    se_case(ZN_OP_MUL, hsig, chans[a], 5, false, a % 2 == 0);
    se_case(ZN_OP_ADD, sig, chans[a], 3, true, a % 2 == 1);
    se_case(ZN_OP_SUB, hsig, chans[a], 4, false, false);
    se_case(ZN_OP_DIV, sig, chans[a], 6, false, false);
  }
  se_case(ZN_OP_MUL, sig, 64, 23, true, true); /* split over the pool */
  /* refused: [N,C,1,1] first for Sub (not commutative), and [N,C,H,1] */
  for (int k = 0; k < 2; k++) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 4, 5, 6}, sd[4] = {1, 4, k ? 5 : 1, 1};
    int x = bt_input(g, "x", 4, xd), s = bt_input(g, "s", 4, sd), y;
    int in[2] = {k ? x : s, k ? s : x};
    bt_node(g, k ? ZN_OP_MUL : ZN_OP_SUB, "op", 2, in, "y", &y);
    zn_graph_mark_output(g, y);
    CHECK_OK(zn_graph_infer_shapes(g));
    char why[256] = "";
    CHECK(!xnn->supports_node(g, &g->nodes[0], why, sizeof why));
    CHECK(strstr(why, "one value per image and channel") != NULL);
    zn_graph_destroy(g);
  }
}

static zn_node *transpose_node(zn_graph *g, const char *name, int x, const char *out, int *out_id, int rank,
                               const int64_t *perm) {
  zn_node *n = bt_node(g, ZN_OP_TRANSPOSE, name, 1, &x, out, out_id);
  n->attrs.transpose.num_perm = rank;
  for (int i = 0; i < rank; i++) n->attrs.transpose.perm[i] = perm[i];
  return n;
}

/* ShuffleNet-V2's channel shuffle after a conv: [N,C,H,W] -> Reshape
 * [N,groups,C/groups,H,W] -> Transpose (0,2,1,3,4) -> Reshape [N,C,H,W] -> conv. */
static void shuffle_case(int64_t c, int64_t groups, int64_t hw, bool t_output, const char *kernel) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, hw, hw}, wd[4] = {c, c, 1, 1}, s5[5] = {0, groups, -1, hw, hw}, s4[4] = {0, -1, hw, hw};
  const int64_t perm[5] = {0, 2, 1, 3, 4};
  int x = bt_input(g, "x", 4, xd), a, r5, t, r4, y;
  int ci[2] = {x, bt_const(g, "w", 4, wd, 5, -0.5f, 0.5f)};
  bt_conv1x1(g, "conv", 2, ci, "a", &a, bt_act(ZN_ACT_RELU, 0, 0));
  int ri[2] = {a, b_const_i64(g, "s5", 5, s5)};
  bt_node(g, ZN_OP_RESHAPE, "r5", 2, ri, "r5", &r5);
  transpose_node(g, "shuffle", r5, "t", &t, 5, perm);
  if (t_output) zn_graph_mark_output(g, t); /* read twice: the 5-D value must be stored */
  int ri2[2] = {t, b_const_i64(g, "s4", 4, s4)};
  bt_node(g, ZN_OP_RESHAPE, "r4", 2, ri2, "r4", &r4);
  int c2[2] = {r4, bt_const(g, "w2", 4, wd, 6, -0.5f, 0.5f)};
  bt_conv1x1(g, "conv2", 2, c2, "y", &y, bt_act(ZN_ACT_NONE, 0, 0));
  zn_graph_mark_output(g, y);
  char what[96];
  snprintf(what, sizeof what, "channel shuffle c%lld groups%lld hw%lld t_output%d", (long long)c, (long long)groups,
           (long long)hw, t_output);
  check(what, g, "shuffle", kernel);
}

static void test_transpose(void) {
  static const char *const shuffle = "channel shuffle (Reshape, Transpose, Reshape) as one NHWC";
  shuffle_case(8, 2, 5, false, shuffle);
  shuffle_case(116, 2, 7, false, shuffle);
  shuffle_case(24, 3, 1, false, shuffle);
  shuffle_case(60, 4, 3, false, shuffle);
  shuffle_case(64, 2, 23, false, shuffle); /* split over the pool */
  shuffle_case(24, 3, 4, true, "strided copy");  /* the Transpose's output is also a graph output */
  setenv("ZN_XNNPACK_SHUFFLE", "0", 1);
  shuffle_case(116, 2, 7, false, "strided copy");
  unsetenv("ZN_XNNPACK_SHUFFLE");
  /* batch-first permutations of an NHWC value (the output NHWC too) and of a plain 3-D one */
  const int64_t perms[4][4] = {{0, 2, 3, 1}, {0, 1, 3, 2}, {0, 3, 1, 2}, {0, 2, 1, 3}};
  for (int p = 0; p < 4; p++) {
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 5, 6, 7};
    int x = bt_input(g, "x", 4, xd), r, t, y;
    bt_node(g, ZN_OP_RELU, "relu", 1, &x, "r", &r);
    transpose_node(g, "tr", r, "t", &t, 4, perms[p]);
    bt_node(g, ZN_OP_SIGMOID, "sig", 1, &t, "y", &y);
    zn_graph_mark_output(g, y);
    char what[64];
    snprintf(what, sizeof what, "transpose 4-D perm %lld%lld%lld%lld", (long long)perms[p][0], (long long)perms[p][1],
             (long long)perms[p][2], (long long)perms[p][3]);
    check(what, g, "tr", "strided copy");
  }
  {
    zn_graph *g = bt_graph();
    int64_t xd[3] = {1, 9, 33};
    const int64_t perm[3] = {0, 2, 1};
    int x = bt_input(g, "x", 3, xd), t;
    transpose_node(g, "tr", x, "t", &t, 3, perm);
    zn_graph_mark_output(g, t);
    check("transpose 3-D plain (0,2,1)", g, "tr", "strided copy");
  }
  /* refused: the batch axis moves */
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 5, 6, 7};
  const int64_t perm[4] = {1, 0, 2, 3};
  int x = bt_input(g, "x", 4, xd), t;
  transpose_node(g, "tr", x, "t", &t, 4, perm);
  zn_graph_mark_output(g, t);
  if (zn_graph_infer_shapes(g) == ZN_OK) { /* the IR may refuse the batch axis moving already */
    char why[256] = "";
    CHECK(!xnn->supports_node(g, &g->nodes[0], why, sizeof why));
    CHECK(strstr(why, "whose batch axis the permutation carries along") != NULL);
  }
  zn_graph_destroy(g);
}

/* Slice of x by constant starts/ends/axes/steps (axes/steps NULL: absent). */
static zn_node *slice_node(zn_graph *g, const char *name, int x, int count, const int64_t *starts, const int64_t *ends,
                           const int64_t *axes, const int64_t *steps, const char *out, int *out_id) {
  char nm[64];
  int in[5], k = 0;
  in[k++] = x;
  snprintf(nm, sizeof nm, "%s_starts", name);
  in[k++] = b_const_i64(g, nm, count, starts);
  snprintf(nm, sizeof nm, "%s_ends", name);
  in[k++] = b_const_i64(g, nm, count, ends);
  if (axes || steps) {
    snprintf(nm, sizeof nm, "%s_axes", name);
    in[k++] = axes ? b_const_i64(g, nm, count, axes) : ZN_NO_VALUE;
  }
  if (steps) {
    snprintf(nm, sizeof nm, "%s_steps", name);
    in[k++] = b_const_i64(g, nm, count, steps);
  }
  return bt_node(g, ZN_OP_SLICE, name, k, in, out, out_id);
}

/* ShuffleNet-V2's stride-1 unit: x1, x2 = x.chunk(2, dim=1) (two Slices of
 * the channels); out = Concat(x1, conv(x2)). */
static void chunk_case(int64_t c, int64_t hw, const char *kernel) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, hw, hw}, wd[4] = {c / 2, c / 2, 1, 1};
  const int64_t ax[1] = {1}, s1[1] = {0}, e1[1] = {c / 2}, s2[1] = {c / 2}, e2[1] = {INT64_MAX};
  int x = bt_input(g, "x", 4, xd), r, x1, x2, b, cat;
  bt_node(g, ZN_OP_SIGMOID, "sig", 1, &x, "r", &r);
  slice_node(g, "chunk0", r, 1, s1, e1, ax, NULL, "x1", &x1);
  slice_node(g, "chunk1", r, 1, s2, e2, ax, NULL, "x2", &x2);
  int ci[2] = {x2, bt_const(g, "w", 4, wd, 5, -0.5f, 0.5f)};
  bt_conv1x1(g, "branch", 2, ci, "b", &b, bt_act(ZN_ACT_RELU, 0, 0));
  int cc[2] = {x1, b};
  bt_node(g, ZN_OP_CONCAT, "cat", 2, cc, "cat", &cat)->attrs.axis.axis = 1;
  zn_graph_mark_output(g, cat);
  char what[64];
  snprintf(what, sizeof what, "chunk c%lld hw%lld", (long long)c, (long long)hw);
  char k0[160];
  kernel_of(g, "chunk0", k0, sizeof k0);
  zn_test_checks++;
  if (!strstr(k0, kernel)) {
    zn_test_failures++;
    fprintf(stderr, "%s: chunk0 runs on '%s', expected '%s'\n", what, k0, kernel);
  }
  check(what, g, "chunk1", kernel);
}

/* ShuffleNet-V2 units in a row: a stride-2 unit (two branches from x into a
 * concat), channel shuffle, a stride-1 unit (chunk: x1 and conv(x2) into a
 * concat), channel shuffle, and a last chunk whose halves are a graph output
 * and the input of a depthwise conv: every copy but the shuffles gone. */
static void shuffle_units_case(int64_t c, int64_t hw) {
  zn_graph *g = bt_graph();
  const int64_t h = c / 2, perm[5] = {0, 2, 1, 3, 4};
  int64_t xd[4] = {1, h, hw, hw}, wd[4] = {h, h, 1, 1}, dd[4] = {h, 1, 3, 3}, s5[5] = {0, 2, -1, hw, hw},
          s4[4] = {0, -1, hw, hw};
  const int64_t ax[1] = {1}, s1[1] = {0}, e1[1] = {h}, s2[1] = {h}, e2[1] = {INT64_MAX};
  int x = bt_input(g, "x", 4, xd), a, b, cat = -1;
  int ai[2] = {x, bt_const(g, "wa", 4, wd, 11, -0.5f, 0.5f)}, bi[2] = {x, bt_const(g, "wb", 4, wd, 12, -0.5f, 0.5f)};
  bt_conv1x1(g, "branch1", 2, ai, "a", &a, bt_act(ZN_ACT_RELU, 0, 0));
  bt_conv1x1(g, "branch2", 2, bi, "b", &b, bt_act(ZN_ACT_RELU, 0, 0));
  int cc[2] = {a, b};
  bt_node(g, ZN_OP_CONCAT, "cat0", 2, cc, "cat0", &cat)->attrs.axis.axis = 1;
  for (int u = 0; u < 2; u++) {
    char nm[32], nm2[32];
    int r5, t, r4, x1, x2, br;
    snprintf(nm, sizeof nm, "r5_%d", u);
    int ri[2] = {cat, b_const_i64(g, nm, 5, s5)};
    bt_node(g, ZN_OP_RESHAPE, nm, 2, ri, nm, &r5);
    snprintf(nm, sizeof nm, "shuffle%d", u);
    transpose_node(g, nm, r5, nm, &t, 5, perm);
    snprintf(nm, sizeof nm, "r4_%d", u);
    int ri2[2] = {t, b_const_i64(g, nm, 4, s4)};
    bt_node(g, ZN_OP_RESHAPE, nm, 2, ri2, nm, &r4);
    snprintf(nm, sizeof nm, "chunk0_%d", u);
    slice_node(g, nm, r4, 1, s1, e1, ax, NULL, nm, &x1);
    snprintf(nm, sizeof nm, "chunk1_%d", u);
    slice_node(g, nm, r4, 1, s2, e2, ax, NULL, nm, &x2);
    snprintf(nm, sizeof nm, "dw%d", u);
    snprintf(nm2, sizeof nm2, "wdw%d", u);
    int di[2] = {x2, bt_const(g, nm2, 4, dd, 13 + (uint64_t)u, -0.5f, 0.5f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, nm, 2, di, nm, &br), 3, 1, 1, 1, h);
    if (u == 1) {
      zn_graph_mark_output(g, x1);
      zn_graph_mark_output(g, br);
      break;
    }
    snprintf(nm, sizeof nm, "cat%d", u + 1);
    int c2[2] = {x1, br};
    bt_node(g, ZN_OP_CONCAT, nm, 2, c2, nm, &cat)->attrs.axis.axis = 1;
  }
  char what[64];
  snprintf(what, sizeof what, "shuffle units c%lld hw%lld", (long long)c, (long long)hw);
  char k[160];
  const char *const names[3] = {"shuffle0", "chunk0_0", "chunk0_1"};
  const char *const want[3] = {"channel shuffle", "channel Slice as a view", "channel Slice as a view"};
  for (int i = 0; i < 3; i++) {
    kernel_of(g, names[i], k, sizeof k);
    zn_test_checks++;
    if (!strstr(k, want[i])) {
      zn_test_failures++;
      fprintf(stderr, "%s: %s runs on '%s', expected '%s'\n", what, names[i], k, want[i]);
    }
  }
  check(what, g, "chunk1_1", "channel Slice as a view");
}

/* Channel Slices of a concat output that turns into a view of a later
 * concat (DenseNet's growing concats: placed after the Slices were planned),
 * and a Slice of a Slice. */
static void slice_of_view_case(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 4, 5, 4}, wd[4] = {3, 3, 1, 1};
  const int64_t ax[1] = {1}, sa[1] = {2}, ea[1] = {7}, sb[1] = {1}, eb[1] = {4};
  int x = bt_input(g, "x", 4, xd), a, b, c, cat1, cat2, s1, s2, y;
  bt_node(g, ZN_OP_RELU, "a", 1, &x, "a", &a);
  bt_node(g, ZN_OP_SIGMOID, "b", 1, &x, "b", &b);
  int c1[2] = {a, b};
  bt_node(g, ZN_OP_CONCAT, "cat1", 2, c1, "cat1", &cat1)->attrs.axis.axis = 1;
  slice_node(g, "s1", cat1, 1, sa, ea, ax, NULL, "s1", &s1);
  slice_node(g, "s2", s1, 1, sb, eb, ax, NULL, "s2", &s2);
  int ci[2] = {s2, bt_const(g, "w", 4, wd, 9, -0.5f, 0.5f)};
  bt_conv1x1(g, "conv", 2, ci, "y", &y, bt_act(ZN_ACT_NONE, 0, 0));
  bt_node(g, ZN_OP_TANH, "c", 1, &x, "c", &c);
  int c2[3] = {a, b, c};
  bt_node(g, ZN_OP_CONCAT, "cat2", 3, c2, "cat2", &cat2)->attrs.axis.axis = 1;
  zn_graph_mark_output(g, cat2);
  zn_graph_mark_output(g, y);
  zn_graph_mark_output(g, s1);
  char k[160];
  kernel_of(g, "cat1", k, sizeof k);
  CHECK(strstr(k, "all inputs in place") != NULL);
  kernel_of(g, "s1", k, sizeof k);
  CHECK(strstr(k, "channel Slice as a view") != NULL);
  check("slice of a slice of a concat view", g, "s2", "channel Slice as a view");
}

static void test_slice(void) {
  static const char *const view = "channel Slice as a view of its input (no work)";
  chunk_case(8, 5, view);
  chunk_case(116, 7, view);
  chunk_case(64, 23, view);
  chunk_case(2, 1, view);
  setenv("ZN_XNNPACK_SLICE_VIEWS", "0", 1);
  chunk_case(116, 7, "strided copy");
  unsetenv("ZN_XNNPACK_SLICE_VIEWS");
  shuffle_units_case(8, 3);
  shuffle_units_case(116, 7);
  shuffle_units_case(48, 23);
  slice_of_view_case();
  /* NHWC: rows with a step, negative start and end; channels backwards; two axes at once */
  {
    const int64_t ax[2] = {2, 1}, st[2] = {-5, 1}, en[2] = {-1, 4}, sp[2] = {2, 1};
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 6, 9, 7};
    int x = bt_input(g, "x", 4, xd), s;
    slice_node(g, "sl", x, 2, st, en, ax, sp, "s", &s);
    zn_graph_mark_output(g, s);
    check("slice rows -5:-1:2, channels 1:4", g, "sl", "strided copy");
  }
  {
    const int64_t ax[1] = {1}, st[1] = {-1}, en[1] = {INT64_MIN}, sp[1] = {-1};
    zn_graph *g = bt_graph();
    int64_t xd[4] = {1, 6, 4, 3};
    int x = bt_input(g, "x", 4, xd), s, y;
    slice_node(g, "sl", x, 1, st, en, ax, sp, "s", &s);
    bt_node(g, ZN_OP_RELU, "relu", 1, &s, "y", &y);
    zn_graph_mark_output(g, y);
    check("slice channels reversed", g, "sl", "strided copy");
  }
  {
    /* plain 3-D, last axis, no axes input (starts for axes 0..1 would include the batch: use axes) */
    const int64_t ax[1] = {-1}, st[1] = {3}, en[1] = {30};
    zn_graph *g = bt_graph();
    int64_t xd[3] = {1, 5, 33};
    int x = bt_input(g, "x", 3, xd), s;
    slice_node(g, "sl", x, 1, st, en, ax, NULL, "s", &s);
    zn_graph_mark_output(g, s);
    check("slice plain last axis 3:30", g, "sl", "strided copy");
  }
  /* refused: the batch axis, even whole (no axes given: starts[0] is axis 0) */
  const int64_t st[2] = {0, 1}, en[2] = {INT64_MAX, 3};
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 6, 4, 3};
  int x = bt_input(g, "x", 4, xd), s;
  slice_node(g, "sl", x, 2, st, en, NULL, NULL, "s", &s);
  zn_graph_mark_output(g, s);
  CHECK_OK(zn_graph_infer_shapes(g));
  char why[256] = "";
  CHECK(!xnn->supports_node(g, &g->nodes[0], why, sizeof why));
  CHECK(strstr(why, "not on the batch axis") != NULL);
  zn_graph_destroy(g);
}

/* ConvNeXt's LayerNormalization over the last axis: of a plain [N,c] or
 * [N,r,c], or (nchw) of [N,c,s,s] transposed to [N,s,s,c], a 4-D value the
 * backend stores NHWC, so its last axis is strided; then transposed back. */
static void layer_norm_case(int64_t c, int64_t s, int rank, bool nchw, bool bias, float eps) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, nchw ? c : s, nchw ? s : c, s}, cd[1] = {c};
  if (!nchw) xd[rank - 1] = c;
  const int64_t to_last[4] = {0, 2, 3, 1}, back[4] = {0, 3, 1, 2};
  int x = bt_input(g, "x", rank, xd), t = x, y, out;
  if (nchw) transpose_node(g, "to_nhwc", x, "t", &t, 4, to_last);
  int in[3] = {t, bt_const(g, "scale", 1, cd, 21, 0.5f, 1.5f), bias ? bt_const(g, "bias", 1, cd, 22, -1, 1) : -1};
  zn_node *n = bt_node(g, ZN_OP_LAYER_NORM, "ln", bias ? 3 : 2, in, "y", &y);
  n->attrs.layer_norm.axis = rank - 1;
  n->attrs.layer_norm.epsilon = eps;
  if (nchw) transpose_node(g, "to_nchw", y, "out", &out, 4, back);
  else out = y;
  zn_graph_mark_output(g, out);
  char what[96];
  snprintf(what, sizeof what, "layer norm c%lld s%lld rank%d nchw%d bias%d", (long long)c, (long long)s, rank, nchw, bias);
  check(what, g, "ln", "LayerNormalization over the last axis (C loop)");
}

static void test_layer_norm(void) {
  const int64_t chans[] = {1, 7, 96, 200};
  for (size_t a = 0; a < 4; a++) {
    layer_norm_case(chans[a], 0, 2, false, true, 1e-6f);
    layer_norm_case(chans[a], 5, 3, false, a % 2 == 0, 1e-5f);
    layer_norm_case(chans[a], 6, 4, true, true, 1e-6f);
  }
  layer_norm_case(96, 23, 4, true, false, 1e-6f); /* split over the pool */
  /* refused: not the last axis */
  zn_graph *g = bt_graph();
  int64_t xd[3] = {1, 6, 5}, cd[1] = {6};
  int in[2] = {bt_input(g, "x", 3, xd), bt_const(g, "scale", 1, cd, 3, 0.5f, 1.5f)}, y;
  zn_node *n = bt_node(g, ZN_OP_LAYER_NORM, "ln", 2, in, "y", &y);
  n->attrs.layer_norm.axis = 1;
  n->attrs.layer_norm.epsilon = 1e-5f;
  zn_graph_mark_output(g, y);
  if (zn_graph_infer_shapes(g) == ZN_OK) { /* infer may refuse a scale that does not broadcast to [6,5] */
    char why[256] = "";
    CHECK(!xnn->supports_node(g, &g->nodes[0], why, sizeof why));
    CHECK(strstr(why, "normalised over its last axis") != NULL);
  }
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  xnn = zn_backend_find("xnnpack");
  if (!xnn || (xnn->available && !xnn->available())) {
    fprintf(stderr, "xnnpack backend not built or not usable here: nothing to test\n");
    return 0;
  }
  test_fused_act();
  test_unary();
  test_se();
  test_transpose();
  test_slice();
  test_layer_norm();
  return 0;
}
