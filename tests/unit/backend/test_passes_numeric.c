/* The Pad, pooling, spatial-mean and hardswish passes of graph/passes.c
 * checked by running graphs: each one runs on ref as built (Pad, 1x1 pool,
 * ReduceMean, HardSigmoid and Mul nodes included) and again after
 * zn_graph_optimize, where the outputs must agree to rounding (the passes only
 * drop additions of zero, turn a mean into the same mean, or x * HardSigmoid(x)
 * into the same HardSwish). The optimised graph must then be taken whole by every
 * other backend built here (onednn, xnnpack: neither runs Pad or ReduceMean,
 * xnnpack rejects 1x1 pools) and match the unoptimised ref output. */
#include <stdlib.h>

#include "backend_test.h"
#include "test_ref_util.h"

typedef struct op_count {
  zn_op op;
  int after;  /* nodes of op left after the passes */
} op_count;

/* Runs g (one input, one output; takes ownership) before and after the passes,
 * and checks that the graph as built has nodes of some op of counts and the
 * optimised graph counts[k].after of each. negative: inputs all below zero
 * (where a zero pad and a -inf pad differ under MaxPool). other_backends: also
 * run the optimised graph on every other backend built. */
static void all_negative(float *x, int64_t n) {
  for (int64_t i = 0; i < n; i++) x[i] = -1.0f - fabsf(x[i]);
}

static void check_graph(const char *what, zn_graph *g, int64_t batch, const op_count *counts, int num_counts,
                        bool negative, bool other_backends) {
  bt_passed p;
  if (!bt_passes_run(&p, g, batch, 1234, negative ? all_negative : NULL)) goto done;
  int before = 0;
  for (int k = 0; k < num_counts; k++) before += b_count_op(g, counts[k].op);
  CHECK(before > 0);
  for (int k = 0; k < num_counts; k++) CHECK_EQ_INT(b_count_op(p.opt, counts[k].op), counts[k].after);
  char label[160];
  snprintf(label, sizeof label, "%s: ref optimised vs as built", what);
  rt_check_close(label, p.got, p.want, p.yn, 1e-6f);

  for (size_t i = 0; other_backends && zn_backend_at(i); i++) {
    const zn_backend_ops *b = zn_backend_at(i);
    if (b == &zn_backend_ref || (b->available && !b->available())) continue;
    memset(p.got, 0, (size_t)p.yn * 4);
    zn_status st = bt_run_buffers(b, p.opt, batch, ZN_PRECISION_FP32, 1, (const void *[]){p.x}, (void *[]){p.got});
    zn_test_checks++;
    if (st != ZN_OK) {
      zn_test_failures++;
      fprintf(stderr, "%s: backend %s failed on the optimised graph: %s\n", what, b->name, zn_last_error());
      continue;
    }
    snprintf(label, sizeof label, "%s: %s optimised vs ref as built", what, b->name);
    rt_check_close(label, p.got, p.want, p.yn, 1e-4f);
  }
done:
  bt_passed_free(&p);
  zn_graph_destroy(g);
}

/* ---- graph builders ---- */

static int add_input(zn_graph *g, int64_t c, int64_t h, int64_t w) {
  return bt_input(g, "x", 4, (int64_t[]){1, c, h, w});
}

/* Weights and bias seeded uniform [-1, 1) from seed and seed + 1. */
static int add_conv(zn_graph *g, const char *name, int x, int64_t cin, int64_t cout, int64_t k, int64_t stride,
                    int64_t pad, uint64_t seed) {
  int64_t wd[4] = {cout, cin, k, k};
  char wn[64], bn[64], yn[64];
  snprintf(wn, sizeof wn, "%s.w", name);
  snprintf(bn, sizeof bn, "%s.b", name);
  snprintf(yn, sizeof yn, "%s.y", name);
  int wv = bt_const(g, wn, 4, wd, seed, -1.0f, 1.0f), bv = bt_const(g, bn, 1, &cout, seed + 1, -1.0f, 1.0f), y;
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, name, 3, (int[]){x, wv, bv}, yn, &y), k, stride, pad, 1, 1);
  return y;
}

static int add_pad(zn_graph *g, const char *name, int x, const int64_t pads[8]) {
  int y;
  zn_node *n = bt_node(g, ZN_OP_PAD, name, 1, &x, name, &y);
  n->attrs.pad.mode = ZN_PAD_CONSTANT;
  n->attrs.pad.num_pads = 8;
  memcpy(n->attrs.pad.pads, pads, 8 * sizeof(int64_t));
  n->attrs.pad.value = 0;
  return y;
}

static int add_pool(zn_graph *g, zn_op op, const char *name, int x, int64_t k, int64_t stride, int64_t pad,
                    bool include_pad) {
  int y;
  bt_pool_attrs(bt_node(g, op, name, 1, &x, name, &y), k, stride, pad, false, include_pad);
  return y;
}

/* Pad, AveragePool and MaxPool nodes left after the passes. */
#define POOLS_LEFT(pads, avg, max) \
  (op_count[]){{ZN_OP_PAD, pads}, {ZN_OP_AVERAGE_POOL, avg}, {ZN_OP_MAX_POOL, max}}, 3

static zn_graph *new_graph(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  return g;
}

/* DenseNet-161's transition: conv, Pad [0]*8, AveragePool k2 s2. */
static void test_densenet_transition(void) {
  zn_graph *g = new_graph();
  if (!g) return;
  int x = add_input(g, 6, 10, 10);
  int c = add_conv(g, "conv", x, 6, 5, 1, 1, 0, 10);
  int p = add_pad(g, "pad", c, (int64_t[]){0, 0, 0, 0, 0, 0, 0, 0});
  zn_graph_mark_output(g, add_pool(g, ZN_OP_AVERAGE_POOL, "pool", p, 2, 2, 0, false));
  check_graph("densenet transition", g, 2, POOLS_LEFT(0, 1, 0), false, true);
}

/* Inception-V3's Mixed_5b branch: Pad [0,0,1,1,0,0,1,1], AveragePool k3 s1
 * pads 0 (count_include_pad written by PyTorch as a Pad), then a 1x1 conv. */
static void test_inception_branch(void) {
  zn_graph *g = new_graph();
  if (!g) return;
  int x = add_input(g, 4, 9, 9);
  int p = add_pad(g, "pad", x, (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1});
  int a = add_pool(g, ZN_OP_AVERAGE_POOL, "pool", p, 3, 1, 0, false);
  zn_graph_mark_output(g, add_conv(g, "conv", a, 4, 3, 1, 1, 0, 20));
  check_graph("inception branch", g, 2, POOLS_LEFT(0, 1, 0), false, true);
}

/* Asymmetric Pad into a strided AveragePool that already counts its own pad,
 * and an asymmetric Pad into a strided conv with its own pad. */
static void test_asymmetric_folds(void) {
  zn_graph *g = new_graph();
  if (!g) return;
  int x = add_input(g, 3, 11, 8);
  int p = add_pad(g, "pad1", x, (int64_t[]){0, 0, 1, 0, 0, 0, 0, 1});
  int a = add_pool(g, ZN_OP_AVERAGE_POOL, "pool", p, 3, 2, 1, true);
  int p2 = add_pad(g, "pad2", a, (int64_t[]){0, 0, 0, 1, 0, 0, 2, 0});
  zn_graph_mark_output(g, add_conv(g, "conv", p2, 3, 4, 3, 2, 1, 30));
  check_graph("asymmetric folds", g, 3, POOLS_LEFT(0, 1, 0), false, true);
}

/* Pad into MaxPool must stay: with every input below zero the zero padding
 * wins at the borders, which MaxPool's own (-inf) padding would not. onednn
 * and xnnpack refuse the Pad, so this graph runs on ref only. */
static void test_maxpool_keeps_pad(void) {
  zn_graph *g = new_graph();
  if (!g) return;
  int x = add_input(g, 2, 6, 6);
  int p = add_pad(g, "pad", x, (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1});
  zn_graph_mark_output(g, add_pool(g, ZN_OP_MAX_POOL, "pool", p, 3, 2, 0, false));
  check_graph("maxpool keeps its pad", g, 2, POOLS_LEFT(1, 0, 1), true, false);
}

/* AlexNet / VGG-16 tail: AdaptiveAvgPool2d at its identity size written as
 * AveragePool k1 s1, then a flatten; plus a 1x1 MaxPool. */
static void test_unit_pools(void) {
  zn_graph *g = new_graph();
  if (!g) return;
  int x = add_input(g, 4, 6, 6);
  int c = add_conv(g, "conv", x, 4, 8, 3, 1, 1, 40);
  int m = add_pool(g, ZN_OP_MAX_POOL, "maxpool", c, 1, 1, 0, false);
  int a = add_pool(g, ZN_OP_AVERAGE_POOL, "avgpool", m, 1, 1, 0, false);
  int f;
  bt_node(g, ZN_OP_FLATTEN, "flatten", 1, &a, "flat", &f)->attrs.axis.axis = 1;
  zn_graph_mark_output(g, f);
  check_graph("unit pools", g, 2, POOLS_LEFT(0, 0, 0), false, true);
}

/* PyTorch's x.mean((2, 3)) after a conv, then an FC (keepdims 0), or kept as
 * [N, C, 1, 1] (keepdims 1, axes written negative): GlobalAveragePool, plus
 * a Flatten for keepdims 0. */
static void test_spatial_mean(void) {
  for (int keep = 0; keep <= 1; keep++) {
    zn_graph *g = new_graph();
    if (!g) return;
    int x = add_input(g, 3, 9, 7);
    int c = add_conv(g, "conv", x, 3, 6, 3, 1, 1, 50), m, y;
    zn_node *n = bt_node(g, ZN_OP_REDUCE_MEAN, "mean", 1, &c, "mean", &m);
    n->attrs.reduce.num_axes = 2;
    n->attrs.reduce.axes[0] = keep ? -1 : 3;
    n->attrs.reduce.axes[1] = keep ? -2 : 2;
    n->attrs.reduce.keepdims = keep;
    if (keep) {
      bt_node(g, ZN_OP_RELU, "relu", 1, &m, "y", &y);
    } else {
      int64_t wd[2] = {6, 4};
      int gi[2] = {m, bt_const(g, "fc.w", 2, wd, 60, -1.0f, 1.0f)};
      bt_node(g, ZN_OP_GEMM, "fc", 2, gi, "y", &y)->attrs.gemm = (zn_gemm_attrs){.alpha = 1, .beta = 1};
    }
    zn_graph_mark_output(g, y);
    const op_count counts[3] = {{ZN_OP_REDUCE_MEAN, 0}, {ZN_OP_GLOBAL_AVERAGE_POOL, 1}, {ZN_OP_FLATTEN, 1 - keep}};
    check_graph(keep ? "spatial mean, keepdims" : "spatial mean, then an FC", g, 3, counts, 3, false, true);
  }
}

/* MobileNet-V3's hardswish as PyTorch 1.13 writes it at opset 13: conv ->
 * Mul(x, HardSigmoid(x, alpha 1/6 as the float 0.16666667, beta 0.5)), the
 * Mul's operands in either order. The pair becomes HardSwish, which then fuses
 * into the conv: no HardSigmoid, Mul or HardSwish node is left. Left alone:
 * another alpha, and a HardSigmoid whose output has a second reader. The same
 * for EfficientNet's SiLU, Mul(x, Sigmoid(x)) -> Swish (gate Sigmoid; alpha
 * unused). */
static zn_graph *hard_swish_graph(zn_op gate, int order, float alpha, bool second_reader) {
  zn_graph *g = bt_graph();
  int x = add_input(g, 5, 8, 8);
  int c = add_conv(g, "conv", x, 5, 7, 3, 1, 1, 70), h, m, y;
  zn_node *n = bt_node(g, gate, "gate", 1, &c, "h", &h);
  if (gate == ZN_OP_HARD_SIGMOID) n->attrs.act = (zn_act){ZN_ACT_HARD_SIGMOID, alpha, 0.5f};
  int mi[2] = {order ? h : c, order ? c : h};
  bt_node(g, ZN_OP_MUL, "mul", 2, mi, "m", &m);
  if (second_reader) {
    int ai[2] = {m, h};
    bt_node(g, ZN_OP_ADD, "add", 2, ai, "y", &y);
  } else {
    y = add_conv(g, "conv2", m, 7, 4, 1, 1, 0, 80);
  }
  zn_graph_mark_output(g, y);
  return g;
}

/* The optimised graph on each fast backend built here, against ref as built. */
static void hard_swish_case(const char *what, zn_op gate, int order, float alpha, bool second_reader, bool fused) {
  const op_count counts[4] = {{gate, fused ? 0 : 1}, {ZN_OP_MUL, fused ? 0 : 1}, {ZN_OP_HARD_SWISH, 0}, {ZN_OP_SWISH, 0}};
  check_graph(what, hard_swish_graph(gate, order, alpha, second_reader), 2, counts, 4, false, false);
  for (size_t i = 0; zn_backend_at(i); i++) {
    const zn_backend_ops *b = zn_backend_at(i);
    if (strcmp(b->name, "ref") == 0 || (b->available && !b->available())) continue;
    zn_graph *g = hard_swish_graph(gate, order, alpha, second_reader);
    bt_io io = {0}, ref = {0};
    CHECK_OK(zn_graph_infer_shapes(g));
    CHECK(bt_io_init(&io, g, 2, 7) && bt_io_init(&ref, g, 2, 7));
    CHECK_OK(bt_run(&zn_backend_ref, g, 2, ZN_PRECISION_FP32, 1, &ref));
    CHECK_OK(zn_graph_optimize(g));
    CHECK_OK(bt_run(b, g, 2, ZN_PRECISION_FP32, 1, &io));
    char label[160];
    snprintf(label, sizeof label, "%s: %s optimised vs ref as built", what, b->name);
    rt_check_close(label, io.out[0], ref.out[0], io.out_count[0], 1e-4f);
    bt_io_deinit(&io);
    bt_io_deinit(&ref);
    zn_graph_destroy(g);
  }
}

static void test_hard_swish(void) {
  const zn_op hs = ZN_OP_HARD_SIGMOID, sg = ZN_OP_SIGMOID;
  hard_swish_case("Mul(x, HardSigmoid(x)) -> HardSwish", hs, 0, 0.16666667f, false, true);
  hard_swish_case("Mul(HardSigmoid(x), x) -> HardSwish", hs, 1, 1.0f / 6.0f, false, true);
  hard_swish_case("Mul(x, HardSigmoid(x)) with alpha 0.2 kept", hs, 0, 0.2f, false, false);
  hard_swish_case("Mul(x, HardSigmoid(x)) with alpha 1/6 + 1e-5 kept", hs, 1, 1.0f / 6.0f + 1e-5f, false, false);
  hard_swish_case("HardSigmoid read twice kept", hs, 0, 1.0f / 6.0f, true, false);
  hard_swish_case("Mul(x, Sigmoid(x)) -> Swish", sg, 0, 0, false, true);
  hard_swish_case("Mul(Sigmoid(x), x) -> Swish", sg, 1, 0, false, true);
  hard_swish_case("Sigmoid read twice kept", sg, 1, 0, true, false);
}

int zn_test_main(void) {
  test_hard_swish();
  test_spatial_mean();
  test_densenet_transition();
  test_inception_branch();
  test_asymmetric_folds();
  test_maxpool_keeps_pad();
  test_unit_pools();
  return 0;
}
