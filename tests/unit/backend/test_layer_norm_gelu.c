/* The ops ConvNeXt-style models need (Pow, Sqrt, Erf, Gelu,
 * LayerNormalization) on ref against hand-computed values, their bad-input
 * errors, and the passes that rebuild them from exporters' decompositions
 * (decomposed LayerNorm, Erf GELU, Linear MatMul -> Gemm): each pass checked
 * by running the graph on ref before and after zn_graph_optimize, on a
 * matching graph and on near-misses that must be left alone. The optimised
 * graph also runs on every other backend built and must match ref.
 * LayerNormalization's optional Mean and InvStdDev outputs: values and
 * shapes on ref, the other backends' refusal, and their ONNX import/export. */
#include <stdlib.h>

#include "backend_test.h"
#include "onnx/onnx.h"
#include "test_ref_util.h"
#include "unit/onnx/onnx_builder.h"

/* ---- ref ops against hand-computed values ---- */

/* One binary/unary node on ref: x (and y when given) -> out, batch 1, no batch axis. */
static zn_status run_one(zn_op op, int rank, const int64_t *xd, const float *x, zn_dtype ydt, int yrank,
                         const int64_t *yd, const void *y, float *out) {
  zn_graph *g = bt_graph();
  int xi = rt_input(g, "x", ZN_DTYPE_FLOAT32, rank, xd, -1), o = rt_value(g, "o");
  int ins[2] = {xi, y ? rt_const(g, "y", ydt, yrank, yd, y) : ZN_NO_VALUE};
  rt_node(g, op, "n", y ? 2 : 1, ins, o);
  zn_graph_mark_output(g, o);
  zn_status st = rt_run(g, 1, (const void *[]){x}, (void *[]){out});
  zn_graph_destroy(g);
  return st;
}

static void test_pow(void) {
  /* [2,3] ^ [3] broadcast, float exponent */
  const float x[6] = {1, 2, 3, 4, 0.25f, 9}, e[3] = {2, 0.5f, -1};
  float out[6];
  CHECK_OK(run_one(ZN_OP_POW, 2, (int64_t[]){2, 3}, x, ZN_DTYPE_FLOAT32, 1, (int64_t[]){3}, e, out));
  const float want[6] = {1, 1.41421356f, 1.0f / 3, 16, 0.5f, 1.0f / 9};
  rt_check_close("pow broadcast", out, want, 6, 1e-6f);
  /* negative base, int64 exponents: odd keeps the sign, even drops it */
  const float nb[4] = {-2, -2, -3, -0.5f};
  const int64_t ie[4] = {3, 2, 0, -2};
  CHECK_OK(run_one(ZN_OP_POW, 1, (int64_t[]){4}, nb, ZN_DTYPE_INT64, 1, (int64_t[]){4}, ie, out));
  const float want_i[4] = {-8, 4, 1, 4};
  rt_check_close("pow int exponent", out, want_i, 4, 0);
  /* scalar exponent 2 (the x * x path) and a fractional power of a negative base (NaN) */
  const float two = 2.0f, half = 0.5f, sq[3] = {-3, 1.5f, 0};
  CHECK_OK(run_one(ZN_OP_POW, 1, (int64_t[]){3}, sq, ZN_DTYPE_FLOAT32, 0, NULL, &two, out));
  const float want_sq[3] = {9, 2.25f, 0};
  rt_check_close("pow 2", out, want_sq, 3, 0);
  CHECK_OK(run_one(ZN_OP_POW, 1, (int64_t[]){3}, sq, ZN_DTYPE_FLOAT32, 0, NULL, &half, out));
  CHECK(isnan(out[0]));
  CHECK_NEAR(out[1], 1.22474487f, 1e-6);
  /* int32 exponent tensor */
  const int32_t i32[3] = {3, 1, 5};
  CHECK_OK(run_one(ZN_OP_POW, 1, (int64_t[]){3}, sq, ZN_DTYPE_INT32, 1, (int64_t[]){3}, i32, out));
  const float want_32[3] = {-27, 1.5f, 0};
  rt_check_close("pow int32", out, want_32, 3, 0);
  /* exponents that do not broadcast: a shape error naming the node */
  CHECK_STATUS(run_one(ZN_OP_POW, 2, (int64_t[]){2, 3}, x, ZN_DTYPE_FLOAT32, 1, (int64_t[]){2}, e, out),
               ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("do not broadcast");
}

static void test_sqrt_erf_gelu(void) {
  const float x[5] = {0, 1, 4, -1, 2.5f};
  float out[5];
  CHECK_OK(run_one(ZN_OP_SQRT, 1, (int64_t[]){5}, x, 0, 0, NULL, NULL, out));
  CHECK_NEAR(out[2], 2, 0);
  CHECK(isnan(out[3]));
  CHECK_NEAR(out[4], 1.58113883, 1e-6);
  CHECK_OK(run_one(ZN_OP_ERF, 1, (int64_t[]){5}, x, 0, 0, NULL, NULL, out));
  CHECK_NEAR(out[0], 0, 0);
  CHECK_NEAR(out[1], 0.842700793, 1e-6);
  CHECK_NEAR(out[3], -0.842700793, 1e-6);
  CHECK_NEAR(out[4], 0.999593048, 1e-6);
  CHECK_OK(run_one(ZN_OP_GELU, 1, (int64_t[]){5}, x, 0, 0, NULL, NULL, out));
  CHECK_NEAR(out[1], 0.841344746, 1e-6);  /* x * Phi(x) */
  CHECK_NEAR(out[3], -0.158655254, 1e-6);
  CHECK_NEAR(out[4], 2.48447583, 1e-5);
}

/* LayerNormalization of x [rows, 4] on ref with scale/bias [4] (bias optional). */
static zn_status run_ln(int rank, const int64_t *xd, const float *x, int64_t axis, float eps, int srank,
                        const int64_t *sd, const float *scale, const float *bias, float *out) {
  zn_graph *g = bt_graph();
  int xi = rt_input(g, "x", ZN_DTYPE_FLOAT32, rank, xd, -1), o = rt_value(g, "o");
  int ins[3] = {xi, rt_const(g, "s", ZN_DTYPE_FLOAT32, srank, sd, scale),
                bias ? rt_const(g, "b", ZN_DTYPE_FLOAT32, srank, sd, bias) : ZN_NO_VALUE};
  zn_node *n = rt_node(g, ZN_OP_LAYER_NORM, "ln", bias ? 3 : 2, ins, o);
  n->attrs.layer_norm.axis = axis;
  n->attrs.layer_norm.epsilon = eps;
  zn_graph_mark_output(g, o);
  zn_status st = zn_graph_verify(g);
  if (st == ZN_OK) st = rt_run(g, 1, (const void *[]){x}, (void *[]){out});
  zn_graph_destroy(g);
  return st;
}

static void test_layer_norm(void) {
  /* row 0: mean 2.5, var 1.25; row 1 constant: var 0, so y = bias whatever eps */
  const float x[8] = {1, 2, 3, 4, 7, 7, 7, 7}, s[4] = {1, 2, 0.5f, -1}, b[4] = {0.5f, 0, 0, 1};
  float out[8], want[8];
  const float eps = 1e-5f;
  CHECK_OK(run_ln(2, (int64_t[]){2, 4}, x, -1, eps, 1, (int64_t[]){4}, s, b, out));
  for (int i = 0; i < 4; i++) {
    want[i] = (float)((x[i] - 2.5) / sqrt(1.25 + eps)) * s[i] + b[i];
    want[4 + i] = b[i];
  }
  rt_check_close("layer norm", out, want, 8, 1e-6f);
  /* a large epsilon shows: var 1.25 + 0.75 = 2 */
  CHECK_OK(run_ln(2, (int64_t[]){2, 4}, x, 1, 0.75f, 1, (int64_t[]){4}, s, NULL, out));
  for (int i = 0; i < 4; i++) want[i] = (float)((x[i] - 2.5) / sqrt(2.0)) * s[i];
  rt_check_close("layer norm eps, no bias", out, want, 4, 1e-6f);
  /* axis 0 over [2, 4] normalises all 8 with a [1, 4] scale broadcast down the rows */
  CHECK_OK(run_ln(2, (int64_t[]){2, 4}, x, 0, 0, 2, (int64_t[]){1, 4}, s, b, out));
  double m = 0, v = 0;
  for (int i = 0; i < 8; i++) m += x[i] / 8.0;
  for (int i = 0; i < 8; i++) v += (x[i] - m) * (x[i] - m) / 8.0;
  for (int i = 0; i < 8; i++) want[i] = (float)((x[i] - m) / sqrt(v)) * s[i % 4] + b[i % 4];
  rt_check_close("layer norm axis 0", out, want, 8, 1e-6f);
  /* bad input: axis out of range, a scale that does not fit, a negative epsilon */
  CHECK_STATUS(run_ln(2, (int64_t[]){2, 4}, x, 2, eps, 1, (int64_t[]){4}, s, b, out), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("axis 2 out of range for rank 2");
  CHECK_STATUS(run_ln(2, (int64_t[]){2, 4}, x, -1, eps, 1, (int64_t[]){3}, s, b, out), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("does not broadcast to the normalised axes");
  CHECK_STATUS(run_ln(2, (int64_t[]){2, 4}, x, -1, -1.0f, 1, (int64_t[]){4}, s, b, out), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("epsilon must be >= 0");
}

/* LayerNormalization with Mean and InvStdDev as graph outputs too: x [2, 2, 2]
 * over axis (rows of 4 for axis 1, of 2 for axis -1), no bias. */
static void check_ln_stats(int64_t axis, const int64_t *stat_dims, int rows, const float *want_mean,
                           const float *want_inv) {
  const float x[8] = {1, 2, 3, 4, 7, 7, 7, 7}, s[4] = {1, 2, 0.5f, -1}, eps = 0.25f;
  const int64_t xd[3] = {2, 2, 2};
  const int inner = 8 / rows;
  zn_graph *g = bt_graph();
  int xi = rt_input(g, "x", ZN_DTYPE_FLOAT32, 3, xd, -1);
  int ins[2] = {xi, rt_const(g, "s", ZN_DTYPE_FLOAT32, 3 - (int)(axis < 0 ? axis + 3 : axis), xd + 1 + (axis < 0), s)};
  int outs[3] = {rt_value(g, "y"), rt_value(g, "mean"), rt_value(g, "inv")};
  int idx = -1;
  CHECK_OK(zn_graph_add_node(g, ZN_OP_LAYER_NORM, "ln", 2, ins, 3, outs, &idx));
  g->nodes[idx].attrs.layer_norm.axis = axis;
  g->nodes[idx].attrs.layer_norm.epsilon = eps;
  for (int k = 0; k < 3; k++) zn_graph_mark_output(g, outs[k]);
  CHECK_OK(zn_graph_verify(g));
  float y[8], mean[4] = {0}, inv[4] = {0}, want_y[8];
  CHECK_OK(rt_run(g, 1, (const void *[]){x}, (void *[]){y, mean, inv}));
  for (int k = 1; k < 3; k++) {
    const zn_value *v = &g->values[outs[k]];
    CHECK_EQ_INT(v->dtype, ZN_DTYPE_FLOAT32);
    CHECK_EQ_INT(v->num_dims, 3);
    for (int d = 0; d < 3 && v->num_dims == 3; d++) CHECK_EQ_INT(v->dims[d], stat_dims[d]);
  }
  rt_check_close("layer norm Mean", mean, want_mean, rows, 1e-6f);
  rt_check_close("layer norm InvStdDev", inv, want_inv, rows, 1e-6f);
  for (int i = 0; i < 8; i++) want_y[i] = (x[i] - want_mean[i / inner]) * want_inv[i / inner] * s[i % inner];
  rt_check_close("layer norm Y with stats", y, want_y, 8, 1e-5f);
  /* the fast backends do not write the statistics: they refuse the node, saying why */
  for (size_t i = 0; zn_backend_at(i); i++) {
    const zn_backend_ops *b = zn_backend_at(i);
    if (b == &zn_backend_ref || (b->available && !b->available())) continue;
    char why[256] = "";
    CHECK(!b->supports_node(g, &g->nodes[idx], why, sizeof why));
    CHECK(strstr(why, "Mean and InvStdDev outputs are not implemented") != NULL);
  }
  zn_graph_destroy(g);
}

static void test_layer_norm_stats(void) {
  /* axis 1: rows {1,2,3,4} (mean 2.5, var 1.25) and {7,7,7,7} (var 0) */
  const float m1[2] = {2.5f, 7}, i1[2] = {(float)(1 / sqrt(1.5)), 2};
  check_ln_stats(1, (const int64_t[]){2, 1, 1}, 2, m1, i1);
  /* axis -1: rows {1,2} {3,4} (var 0.25 each) {7,7} {7,7} */
  const float m2[4] = {1.5f, 3.5f, 7, 7}, i2[4] = {(float)(1 / sqrt(0.5)), (float)(1 / sqrt(0.5)), 2, 2};
  check_ln_stats(-1, (const int64_t[]){2, 2, 1}, 4, m2, i2);
}

/* An ONNX model whose LayerNormalization has an unnamed Mean and reads only
 * InvStdDev: imported with a made-up Mean value, run on ref, exported with all
 * three outputs and imported again. */
static void test_layer_norm_stats_onnx(void) {
  /* row 0: var 1.25 + eps 0.75 = 2; row 1: var 0 + 0.75 */
  static const float s[4] = {1, 1, 1, 1}, x[8] = {1, 2, 3, 4, 7, 7, 7, 7};
  mb b;
  mb_init(&b, 17);
  mb_input(&b, "x", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 2, (const int64_t[]){2, 4});
  mb_initializer(&b, "s", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, 1, (const int64_t[]){4}, s, sizeof s);
  const char *ins[2] = {"x", "s"}, *outs[3] = {"y", "", "inv"};
  int ln = mb_node(&b, "LayerNormalization", "ln", ins, 2, outs, 3);
  mb_attr_float(&b, ln, "epsilon", 0.75f);
  mb_output(&b, "inv");
  size_t size;
  uint8_t *buf = mb_pack(&b, &size);
  zn_graph *g = NULL, *g2 = NULL;
  CHECK_OK(zn_onnx_import_memory(buf, size, NULL, NULL, &g));
  free(buf);
  if (!g) return;
  const zn_node *n = NULL;
  for (int i = 0; i < g->num_nodes; i++)
    if (g->nodes[i].op == ZN_OP_LAYER_NORM) n = &g->nodes[i];
  CHECK(n != NULL && n->num_outputs == 3);
  if (n && n->num_outputs == 3) {
    CHECK(strcmp(g->values[n->outputs[1]].name, "y:Mean") == 0);
    CHECK(strcmp(g->values[n->outputs[2]].name, "inv") == 0);
  }
  float inv[2] = {0};
  CHECK_OK(rt_run(g, 1, (const void *[]){x}, (void *[]){inv}));
  rt_check_close("InvStdDev only", inv, (const float[]){(float)(1 / sqrt(2.0)), (float)(1 / sqrt(0.75))}, 2, 1e-6f);
  void *out = NULL;
  size_t out_size = 0;
  CHECK_OK(zn_onnx_export_memory(g, &out, &out_size));
  if (out) CHECK_OK(zn_onnx_import_memory(out, out_size, NULL, NULL, &g2));
  zn_free(out);
  for (int i = 0; g2 && i < g2->num_nodes; i++)
    if (g2->nodes[i].op == ZN_OP_LAYER_NORM) {
      CHECK_EQ_INT(g2->nodes[i].num_outputs, 3);
      CHECK(strcmp(g2->values[g2->nodes[i].outputs[2]].name, "inv") == 0);
    }
  CHECK(g2 != NULL);
  zn_graph_destroy(g2);
  zn_graph_destroy(g);
  /* reading only Mean keeps two outputs */
  b.node_out[ln][1] = (char *)"mean";
  b.outp[0]->name = (char *)"mean";
  buf = mb_pack(&b, &size);
  g = NULL;
  CHECK_OK(zn_onnx_import_memory(buf, size, NULL, NULL, &g));
  free(buf);
  for (int i = 0; g && i < g->num_nodes; i++)
    if (g->nodes[i].op == ZN_OP_LAYER_NORM) CHECK_EQ_INT(g->nodes[i].num_outputs, 2);
  float mean[2] = {0};
  if (g) CHECK_OK(rt_run(g, 1, (const void *[]){x}, (void *[]){mean}));
  rt_check_close("Mean only", mean, (const float[]){2.5f, 7}, 2, 1e-6f);
  zn_graph_destroy(g);
}

/* ---- passes: run before and after zn_graph_optimize ---- */

/* g (input [N, ...], one output; taken) on ref as built and optimised; the
 * optimised graph must hold want_after nodes of op_after (-1: unchecked) and
 * none of op_gone (ZN_OP_COUNT: unchecked); other backends run it too. */
static void mean_off_zero(float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = 3.0f * x[i] + 0.5f; /* a mean far from 0, GELU's curved range */
}

static void check_pass(const char *what, zn_graph *g, int64_t batch, zn_op op_after, int want_after, zn_op op_gone,
                       bool other_backends) {
  bt_passed p;
  if (!bt_passes_run(&p, g, batch, 77, mean_off_zero)) goto done;
  if (want_after >= 0 && b_count_op(p.opt, op_after) != want_after)
    fprintf(stderr, "%s: %d %s nodes after the passes, want %d\n", what, b_count_op(p.opt, op_after),
            zn_op_name(op_after), want_after);
  if (want_after >= 0) CHECK_EQ_INT(b_count_op(p.opt, op_after), want_after);
  if (op_gone != ZN_OP_COUNT) CHECK_EQ_INT(b_count_op(p.opt, op_gone), 0);
  char label[200];
  snprintf(label, sizeof label, "%s: ref optimised vs as built", what);
  rt_check_close(label, p.got, p.want, p.yn, 2e-5f);
  for (size_t i = 0; other_backends && zn_backend_at(i); i++) {
    const zn_backend_ops *b = zn_backend_at(i);
    if (b == &zn_backend_ref || (b->available && !b->available())) continue;
    memset(p.got, 0, (size_t)p.yn * 4);
    CHECK_OK(bt_run_buffers(b, p.opt, batch, ZN_PRECISION_FP32, 1, (const void *[]){p.x}, (void *[]){p.got}));
    snprintf(label, sizeof label, "%s: %s optimised vs ref as built", what, b->name);
    rt_check_close(label, p.got, p.want, p.yn, 1e-4f);
  }
done:
  bt_passed_free(&p);
  zn_graph_destroy(g);
}

static int scalar(zn_graph *g, const char *name, float v) {
  int id = -1;
  if (zn_graph_add_const(g, name, ZN_DTYPE_FLOAT32, 0, NULL, &v, 4, &id) != ZN_OK) bt_setup_failed("scalar", name);
  return id;
}

static int bin(zn_graph *g, zn_op op, const char *name, int a, int b) {
  int y;
  bt_node(g, op, name, 2, (int[]){a, b}, name, &y);
  return y;
}

static int un(zn_graph *g, zn_op op, const char *name, int a) {
  int y;
  bt_node(g, op, name, 1, (int[]){a}, name, &y);
  return y;
}

static int mean_axis(zn_graph *g, const char *name, int x, int64_t axis) {
  int y;
  zn_node *n = bt_node(g, ZN_OP_REDUCE_MEAN, name, 1, (int[]){x}, name, &y);
  n->attrs.reduce.num_axes = 1;
  n->attrs.reduce.axes[0] = axis;
  n->attrs.reduce.keepdims = true;
  return y;
}

/* PyTorch's opset-13 LayerNorm over axis `axis` of x, C = the last dim. */
static int decomposed_ln(zn_graph *g, int x, int64_t axis, int64_t c, float sqrt_exp) {
  int m = mean_axis(g, "ln.mean", x, axis);
  int d = bin(g, ZN_OP_SUB, "ln.sub", x, m);
  int p = bin(g, ZN_OP_POW, "ln.pow", d, scalar(g, "two", sqrt_exp));
  int v = mean_axis(g, "ln.var", p, axis);
  int e = bin(g, ZN_OP_ADD, "ln.eps", v, scalar(g, "eps", 1e-6f));
  int s = un(g, ZN_OP_SQRT, "ln.sqrt", e);
  int q = bin(g, ZN_OP_DIV, "ln.div", d, s);
  int w = bin(g, ZN_OP_MUL, "ln.mul", q, bt_const(g, "gamma", 1, (int64_t[]){c}, 3, 0.5f, 1.5f));
  return bin(g, ZN_OP_ADD, "ln.add", bt_const(g, "beta", 1, (int64_t[]){c}, 4, -0.5f, 0.5f), w);
}

/* x * (1 + erf(x / s)) * 0.5 */
static int decomposed_gelu(zn_graph *g, const char *tag, int x, float s) {
  char n[5][32];
  for (int k = 0; k < 5; k++) snprintf(n[k], sizeof n[k], "%s.%d", tag, k);
  int d = bin(g, ZN_OP_DIV, n[0], x, scalar(g, "sqrt2", s));
  int e = un(g, ZN_OP_ERF, n[1], d);
  int a = bin(g, ZN_OP_ADD, n[2], e, scalar(g, "one", 1.0f));
  int m = bin(g, ZN_OP_MUL, n[3], x, a);
  return bin(g, ZN_OP_MUL, n[4], m, scalar(g, "half", 0.5f));
}

/* A ConvNeXt block's channel-last half: x [N, H, W, C] -> LayerNorm -> Linear
 * C->4C -> GELU -> Linear 4C->C. */
static zn_graph *block_graph(int64_t c, float sqrt2, int64_t ln_axis, bool const_weight) {
  zn_graph *g = bt_graph();
  int x = bt_input(g, "x", 4, (int64_t[]){1, 3, 5, c});
  int ln = decomposed_ln(g, x, ln_axis, c, 2.0f);
  int w1 = bt_const(g, "w1", 2, (int64_t[]){c, 4 * c}, 5, -0.3f, 0.3f);
  if (!const_weight) w1 = un(g, ZN_OP_RELU, "w1.relu", w1);  /* computed, not a constant */
  int h = bin(g, ZN_OP_ADD, "fc1.add", bt_const(g, "b1", 1, (int64_t[]){4 * c}, 6, -0.5f, 0.5f),
              bin(g, ZN_OP_MATMUL, "fc1", ln, w1));
  int a = decomposed_gelu(g, "gelu", h, sqrt2);
  int y = bin(g, ZN_OP_ADD, "fc2.add", bin(g, ZN_OP_MATMUL, "fc2", a, bt_const(g, "w2", 2, (int64_t[]){4 * c, c}, 7, -0.3f, 0.3f)),
              bt_const(g, "b2", 1, (int64_t[]){c}, 8, -0.5f, 0.5f));
  zn_graph_mark_output(g, y);
  return g;
}

static void test_passes(void) {
  /* the whole pattern: one LayerNormalization, the GELU inside the first Gemm, no MatMul left */
  check_pass("block", block_graph(8, 1.41421354f, -1, true), 2, ZN_OP_LAYER_NORM, 1, ZN_OP_MATMUL, true);
  check_pass("block gemm", block_graph(8, 1.41421354f, 3, true), 3, ZN_OP_GEMM, 2, ZN_OP_ERF, true);
  zn_graph *g = block_graph(16, 1.41421354f, -1, true);
  zn_graph *opt = NULL;
  CHECK_OK(zn_graph_clone(g, &opt));
  CHECK_OK(zn_graph_optimize(opt));
  int gi = -1;
  for (int i = 0; i < opt->num_nodes; i++)
    if (opt->nodes[i].op == ZN_OP_GEMM && gi < 0) gi = i;
  CHECK(gi >= 0);
  if (gi >= 0) CHECK_EQ_INT(opt->nodes[gi].attrs.gemm.act.kind, ZN_ACT_GELU);
  CHECK_EQ_INT(b_count_op(opt, ZN_OP_FLATTEN), 1);  /* the second Gemm reads the first's matrix */
  CHECK_EQ_INT(b_count_op(opt, ZN_OP_RESHAPE), 1);
  zn_graph_destroy(opt);
  zn_graph_destroy(g);

  /* near-misses, left alone (and still computing the same) */
  check_pass("LN over axis 2", block_graph(8, 1.41421354f, 2, true), 1, ZN_OP_LAYER_NORM, 0, ZN_OP_COUNT, false);
  check_pass("GELU with another divisor", block_graph(8, 1.5f, -1, true), 1, ZN_OP_ERF, 1, ZN_OP_GELU, false);
  check_pass("MatMul by a computed matrix", block_graph(8, 1.41421354f, -1, false), 1, ZN_OP_MATMUL, 1, ZN_OP_COUNT, false);
  /* Pow 3 is not a variance */
  g = bt_graph();
  int x = bt_input(g, "x", 3, (int64_t[]){1, 4, 6});
  int y = -1;
  {
    int m = mean_axis(g, "m", x, -1), d = bin(g, ZN_OP_SUB, "d", x, m);
    int p = bin(g, ZN_OP_POW, "p", d, scalar(g, "three", 3.0f)), v = mean_axis(g, "v", p, -1);
    int s = un(g, ZN_OP_SQRT, "s", bin(g, ZN_OP_ADD, "e", v, scalar(g, "eps", 1e-6f)));
    y = bin(g, ZN_OP_MUL, "w", bin(g, ZN_OP_DIV, "q", d, s), bt_const(g, "gamma", 1, (int64_t[]){6}, 3, 0.5f, 1.5f));
  }
  zn_graph_mark_output(g, y);
  check_pass("Pow 3", g, 1, ZN_OP_LAYER_NORM, 0, ZN_OP_COUNT, false);
  /* an intermediate that is also a graph output keeps the pattern apart */
  g = block_graph(8, 1.41421354f, -1, true);
  zn_graph_mark_output(g, zn_graph_find_value(g, "ln.sqrt"));
  zn_graph *o2 = NULL;
  CHECK_OK(zn_graph_clone(g, &o2));
  CHECK_OK(zn_graph_optimize(o2));
  CHECK_EQ_INT(b_count_op(o2, ZN_OP_LAYER_NORM), 0);
  zn_graph_destroy(o2);
  zn_graph_destroy(g);
}

/* Pow / Sqrt / Erf of constants fold. */
static void test_fold(void) {
  zn_graph *g = bt_graph();
  int x = bt_input(g, "x", 2, (int64_t[]){1, 3});
  const float base[3] = {4, 9, 0.5f};
  const int64_t ex[1] = {2};
  int c = rt_const(g, "c", ZN_DTYPE_FLOAT32, 1, (int64_t[]){3}, base);
  int p = bin(g, ZN_OP_POW, "p", c, rt_const(g, "e", ZN_DTYPE_INT64, 1, (int64_t[]){1}, ex));
  int s = un(g, ZN_OP_SQRT, "s", p), e = un(g, ZN_OP_ERF, "erf", c);
  int y = bin(g, ZN_OP_ADD, "y", bin(g, ZN_OP_MUL, "m", x, s), e);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_OK(zn_graph_fold_constants(g));
  CHECK_EQ_INT(b_count_op(g, ZN_OP_POW) + b_count_op(g, ZN_OP_SQRT) + b_count_op(g, ZN_OP_ERF), 0);
  const float *sv = g->values[zn_graph_find_value(g, "s")].data;
  CHECK(sv != NULL);
  if (sv) {
    CHECK_NEAR(sv[0], 4, 0);
    CHECK_NEAR(sv[1], 9, 0);
    CHECK_NEAR(sv[2], 0.5, 0);
  }
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  test_pow();
  test_sqrt_erf_gelu();
  test_layer_norm();
  test_layer_norm_stats();
  test_layer_norm_stats_onnx();
  test_passes();
  test_fold();
  return 0;
}
