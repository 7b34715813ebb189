/* ref activations, Softmax (axis and legacy 2-D), LRN, BatchNormalization and
 * ReduceMean against formulas written out per element. */
#include "test_ref_util.h"

/* One-node graph over a [N,C,H,W] input (batch 2); returns the output. */
static zn_status run_unary(zn_op op, const void *attrs, size_t attr_bytes, const int64_t *xd, const float *x, float *y) {
  zn_graph *g;
  zn_status st = zn_graph_create(&g);
  if (st != ZN_OK) return st;
  int ins[5] = {rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, xd, 0)};
  int out = rt_value(g, "y");
  zn_node *n = rt_node(g, op, "op", 1, ins, out);
  memcpy(&n->attrs, attrs, attr_bytes);
  zn_graph_mark_output(g, out);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  st = rt_run(g, 2, inputs, outputs);
  zn_graph_destroy(g);
  return st;
}

static float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

static void test_acts(void) {
  const int64_t xd[4] = {1, 3, 4, 5}, n = 120;
  float x[120], y[120], want[120];
  rt_fill(x, n, 51);
  for (int i = 0; i < n; i++) x[i] *= 5.0f;
  struct { zn_op op; zn_act act; } cases[] = {
      {ZN_OP_RELU, {ZN_ACT_RELU, 0, 0}},           {ZN_OP_LEAKY_RELU, {ZN_ACT_LEAKY_RELU, 0.1f, 0}},
      {ZN_OP_SIGMOID, {ZN_ACT_SIGMOID, 0, 0}},     {ZN_OP_HARD_SIGMOID, {ZN_ACT_HARD_SIGMOID, 0.2f, 0.5f}},
      {ZN_OP_HARD_SWISH, {ZN_ACT_HARD_SWISH, 0, 0}}, {ZN_OP_CLIP, {ZN_ACT_CLIP, -1.0f, 2.0f}},
      {ZN_OP_TANH, {ZN_ACT_TANH, 0, 0}},           {ZN_OP_SWISH, {ZN_ACT_SWISH, 0.5f, 0}},
  };
  for (size_t c = 0; c < ZN_ARRAY_SIZE(cases); c++) {
    const zn_act a = cases[c].act;
    for (int i = 0; i < n; i++) {
      const float v = x[i];
      switch (cases[c].op) {
      case ZN_OP_RELU: want[i] = v > 0 ? v : 0; break;
      case ZN_OP_LEAKY_RELU: want[i] = v >= 0 ? v : 0.1f * v; break;
      case ZN_OP_SIGMOID: want[i] = sigm(v); break;
      case ZN_OP_HARD_SIGMOID: want[i] = fmaxf(0, fminf(1, 0.2f * v + 0.5f)); break;
      case ZN_OP_HARD_SWISH: want[i] = v * fmaxf(0, fminf(1, v / 6 + 0.5f)); break;
      case ZN_OP_CLIP: want[i] = v < -1 ? -1 : v > 2 ? 2 : v; break;
      case ZN_OP_SWISH: want[i] = v * sigm(0.5f * v); break;
      default: want[i] = tanhf(v); break;
      }
    }
    CHECK_OK(run_unary(cases[c].op, &a, sizeof a, xd, x, y));
    rt_check_close(zn_op_name(cases[c].op), y, want, n, 1e-6f);
  }
}

static void test_softmax(void) {
  const int64_t xd[4] = {1, 3, 4, 5};
  float x[120], y[120], want[120];
  rt_fill(x, 120, 52);
  for (int i = 0; i < 120; i++) x[i] *= 30.0f; /* large logits: must not overflow */
  /* axis 1 (opset 13): normalise over C for each (n, h, w). */
  for (int nn = 0; nn < 2; nn++)
    for (int p = 0; p < 20; p++) {
      float mx = -INFINITY, s = 0;
      for (int c = 0; c < 3; c++) mx = fmaxf(mx, x[(nn * 3 + c) * 20 + p]);
      for (int c = 0; c < 3; c++) s += expf(x[(nn * 3 + c) * 20 + p] - mx);
      for (int c = 0; c < 3; c++) want[(nn * 3 + c) * 20 + p] = expf(x[(nn * 3 + c) * 20 + p] - mx) / s;
    }
  zn_softmax_attrs a = {1, false};
  CHECK_OK(run_unary(ZN_OP_SOFTMAX, &a, sizeof a, xd, x, y));
  rt_check_close("softmax axis 1", y, want, 120, 1e-5f);
  /* legacy, axis 1: normalise over the flattened C*H*W block. */
  for (int nn = 0; nn < 2; nn++) {
    float mx = -INFINITY, s = 0;
    for (int i = 0; i < 60; i++) mx = fmaxf(mx, x[nn * 60 + i]);
    for (int i = 0; i < 60; i++) s += expf(x[nn * 60 + i] - mx);
    for (int i = 0; i < 60; i++) want[nn * 60 + i] = expf(x[nn * 60 + i] - mx) / s;
  }
  a = (zn_softmax_attrs){1, true};
  CHECK_OK(run_unary(ZN_OP_SOFTMAX, &a, sizeof a, xd, x, y));
  rt_check_close("softmax legacy_2d axis 1", y, want, 120, 1e-5f);
  /* axis -1 */
  for (int r = 0; r < 24; r++) {
    float mx = -INFINITY, s = 0;
    for (int i = 0; i < 5; i++) mx = fmaxf(mx, x[r * 5 + i]);
    for (int i = 0; i < 5; i++) s += expf(x[r * 5 + i] - mx);
    for (int i = 0; i < 5; i++) want[r * 5 + i] = expf(x[r * 5 + i] - mx) / s;
  }
  a = (zn_softmax_attrs){-1, false};
  CHECK_OK(run_unary(ZN_OP_SOFTMAX, &a, sizeof a, xd, x, y));
  rt_check_close("softmax axis -1", y, want, 120, 1e-5f);
}

static void test_lrn(void) {
  const int64_t xd[4] = {1, 7, 2, 3};
  float x[84], y[84], want[84];
  rt_fill(x, 84, 53);
  const zn_lrn_attrs a = {4, 1e-2f, 0.75f, 2.0f}; /* even size: window [c-1, c+2] */
  for (int nn = 0; nn < 2; nn++)
    for (int c = 0; c < 7; c++)
      for (int p = 0; p < 6; p++) {
        float sq = 0;
        for (int cc = c - 1; cc <= c + 2; cc++)
          if (cc >= 0 && cc < 7) sq += x[(nn * 7 + cc) * 6 + p] * x[(nn * 7 + cc) * 6 + p];
        want[(nn * 7 + c) * 6 + p] = x[(nn * 7 + c) * 6 + p] / powf(2.0f + 1e-2f / 4 * sq, 0.75f);
      }
  CHECK_OK(run_unary(ZN_OP_LRN, &a, sizeof a, xd, x, y));
  rt_check_close("lrn", y, want, 84, 1e-6f);
}

static void test_batch_norm(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[4] = {1, 3, 2, 2}, c3 = 3;
  float x[24], y[24], want[24], scale[3] = {1, 2, -1}, bias[3] = {0, 1, 2}, mean[3] = {0.5f, -1, 0}, var[3] = {1, 4, 0.25f};
  rt_fill(x, 24, 54);
  for (int i = 0; i < 24; i++) {
    int c = (i / 4) % 3;
    want[i] = scale[c] * (x[i] - mean[c]) / sqrtf(var[c] + 1e-5f) + bias[c];
  }
  int ins[5] = {rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, xd, 0), rt_const(g, "s", ZN_DTYPE_FLOAT32, 1, &c3, scale),
                rt_const(g, "b", ZN_DTYPE_FLOAT32, 1, &c3, bias), rt_const(g, "m", ZN_DTYPE_FLOAT32, 1, &c3, mean),
                rt_const(g, "v", ZN_DTYPE_FLOAT32, 1, &c3, var)};
  int out = rt_value(g, "y");
  zn_node *n = rt_node(g, ZN_OP_BATCH_NORM, "bn", 5, ins, out);
  n->attrs.batch_norm.epsilon = 1e-5f;
  zn_graph_mark_output(g, out);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 2, inputs, outputs));
  rt_check_close("batch_norm", y, want, 24, 1e-5f);
  zn_graph_destroy(g);
}

static void test_reduce_mean(void) {
  const int64_t xd[4] = {1, 3, 4, 5};
  float x[120], y[120], want[120];
  rt_fill(x, 120, 55);
  /* axes {2,3} keepdims: per (n, c) mean over 20 elements. */
  for (int i = 0; i < 6; i++) {
    float s = 0;
    for (int p = 0; p < 20; p++) s += x[i * 20 + p];
    want[i] = s / 20;
  }
  zn_reduce_attrs a = {2, {2, 3}, true};
  CHECK_OK(run_unary(ZN_OP_REDUCE_MEAN, &a, sizeof a, xd, x, y));
  rt_check_close("reduce_mean axes 2,3", y, want, 6, 1e-6f);
  /* axis 1 (negative: -3), no keepdims. */
  for (int nn = 0; nn < 2; nn++)
    for (int p = 0; p < 20; p++) {
      float s = 0;
      for (int c = 0; c < 3; c++) s += x[(nn * 3 + c) * 20 + p];
      want[nn * 20 + p] = s / 3;
    }
  a = (zn_reduce_attrs){1, {-3}, false};
  CHECK_OK(run_unary(ZN_OP_REDUCE_MEAN, &a, sizeof a, xd, x, y));
  rt_check_close("reduce_mean axis -3", y, want, 40, 1e-6f);
}

int zn_test_main(void) {
  test_acts();
  test_softmax();
  test_lrn();
  test_batch_norm();
  test_reduce_mean();
  return 0;
}
