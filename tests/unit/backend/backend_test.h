/* Helpers for the backend tests that run a graph on a backend table and
 * compare it with the ref oracle: build small float graphs (on top of the
 * graph tests' builder, unit/graph/builder.h, whose b_const_i64, b_count_op and
 * b_find_node serve here as they are), run them through compile / create /
 * reshape / run / destroy, and compare outputs by max relative error
 * (max |a - b| / max |ref|). A failure to build the test graph is a bug in the
 * test, not in a backend, so the builders abort on it. */
#ifndef ZN_TEST_BACKEND_TEST_H
#define ZN_TEST_BACKEND_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "unit/graph/builder.h"

#include "backend/backend.h"
#include "core/alloc.h"
#include "core/status.h"
#include "graph/graph.h"

extern const zn_backend_ops zn_backend_ref;
extern const zn_backend_ops zn_backend_onednn; /* defined only when the onednn backend is built */

static inline void bt_setup_failed(const char *what, const char *name) {
  fprintf(stderr, "test graph: cannot add %s %s: %s\n", what, name, zn_last_error());
  abort(); /* a test-setup bug, not a backend failure */
}

static inline zn_graph *bt_graph(void) {
  zn_graph *g = NULL;
  if (zn_graph_create(&g) != ZN_OK) bt_setup_failed("graph", "");
  return g;
}

/* A float input [dims] whose axis 0 is the batch coefficient. */
static inline int bt_input(zn_graph *g, const char *name, int rank, const int64_t *dims) {
  int id = b_input(g, name, rank, dims, 0);
  if (id < 0) bt_setup_failed("input", name);
  return id;
}

/* A float constant filled from a seeded uniform [lo, hi). */
static inline int bt_const(zn_graph *g, const char *name, int rank, const int64_t *dims, uint64_t seed, float lo,
                           float hi) {
  int id = b_const_fill(g, name, rank, dims, seed, lo, hi);
  if (id < 0) bt_setup_failed("constant", name);
  return id;
}

/* A node with one new output named out (its id in *out_id, -1 until added);
 * returns the node (valid until the next add). */
static inline zn_node *bt_node(zn_graph *g, zn_op op, const char *name, int num_inputs, const int *inputs,
                               const char *out, int *out_id) {
  if (out_id) *out_id = -1;
  int idx = b_node(g, op, name, num_inputs, inputs, out);
  if (idx < 0) bt_setup_failed("node", name);
  if (out_id) *out_id = b_out(g, idx);
  return &g->nodes[idx];
}

/* 2-D square window; every other attribute zeroed. */
static inline void bt_conv_attrs(zn_node *n, int64_t k, int64_t stride, int64_t pad, int64_t dilation, int64_t group) {
  memset(&n->attrs.conv, 0, sizeof n->attrs.conv);
  b_conv_attrs(n, k, stride, pad, group);
  n->attrs.conv.dilation[0] = n->attrs.conv.dilation[1] = dilation;
}

/* [N,3,9,9] -> 3x3 conv to cout channels -> Gather of index -2 along axis
 * (1: a channel, 2: a row; a 1-element index: the output stays 4-D) -> Relu. */
static inline zn_graph *bt_gather_graph(int64_t cout, int axis) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 9, 9}, wd[4] = {cout, 3, 3, 3}, one[1] = {-2};
  int x = bt_input(g, "x", 4, xd), c, gy, y;
  int ci[2] = {x, bt_const(g, "w", 4, wd, 5, -0.5f, 0.5f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "c", &c), 3, 1, 1, 1, 1);
  int gi[2] = {c, b_const_i64(g, "idx", 1, one)};
  bt_node(g, ZN_OP_GATHER, "gather", 2, gi, "gy", &gy)->attrs.axis.axis = axis;
  bt_node(g, ZN_OP_RELU, "relu", 1, &gy, "y", &y);
  zn_graph_mark_output(g, y);
  return g;
}

/* Slice of one axis: [N,3,9,9] -> 3x3 conv to 32 channels (after_conv; else
 * the input is [N,32,9,9]) -> Slice(start, end on axis; a steps input only
 * when step != 0) -> Relu. */
static inline zn_graph *bt_slice_graph(int64_t axis, int64_t start, int64_t end, int64_t step, bool after_conv) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, after_conv ? 3 : 32, 9, 9}, wd[4] = {32, 3, 3, 3};
  int x = bt_input(g, "x", 4, xd), s, y;
  if (after_conv) {
    int ci[2] = {x, bt_const(g, "w", 4, wd, 5, -0.5f, 0.5f)};
    bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "c", &x), 3, 1, 1, 1, 1);
  }
  int si[5] = {x, b_const_i64(g, "starts", 1, &start), b_const_i64(g, "ends", 1, &end), b_const_i64(g, "axes", 1, &axis),
               step ? b_const_i64(g, "steps", 1, &step) : ZN_NO_VALUE};
  bt_node(g, ZN_OP_SLICE, "slice", step ? 5 : 4, si, "s", &s);
  bt_node(g, ZN_OP_RELU, "relu", 1, &s, "y", &y);
  zn_graph_mark_output(g, y);
  return g;
}

/* A ShuffleNet-V2 unit (stride 1) at small size: [N,16,6,6] -> 1x1 conv ->
 * Slice channels [0,8) and [8,16) (x.chunk(2, dim=1)) -> 3x3 depthwise conv +
 * ReLU on the second half -> Concat -> channel shuffle as PyTorch writes it
 * (Reshape [N,2,8,6,6], Transpose (0,2,1,3,4), Reshape [N,16,6,6]) -> 1x1
 * conv. expose_mid: the Transpose's output is a graph output too. */
static inline zn_graph *bt_shuffle_graph(bool expose_mid) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 16, 6, 6}, w1[4] = {16, 16, 1, 1}, wd[4] = {8, 1, 3, 3}, w2[4] = {16, 16, 1, 1};
  int64_t zero = 0, half = 8, all = 16, one = 1, s5[5] = {0, 2, 8, 6, 6}, s4[4] = {0, 16, 6, 6};
  int x = bt_input(g, "x", 4, xd), c, a, b, d, cat, r5, t5, r4, y;
  int ci[2] = {x, bt_const(g, "w1", 4, w1, 31, -0.5f, 0.5f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv1", 2, ci, "c", &c), 1, 1, 0, 1, 1);
  int ax = b_const_i64(g, "axes", 1, &one);
  int sa[4] = {c, b_const_i64(g, "s0", 1, &zero), b_const_i64(g, "e0", 1, &half), ax};
  int sb[4] = {c, b_const_i64(g, "s1", 1, &half), b_const_i64(g, "e1", 1, &all), ax};
  bt_node(g, ZN_OP_SLICE, "slice_a", 4, sa, "a", &a);
  bt_node(g, ZN_OP_SLICE, "slice_b", 4, sb, "b", &b);
  int di[2] = {b, bt_const(g, "wd", 4, wd, 32, -0.5f, 0.5f)};
  zn_node *n = bt_node(g, ZN_OP_CONV, "dw", 2, di, "d", &d);
  bt_conv_attrs(n, 3, 1, 1, 1, 8);
  n->attrs.conv.act = (zn_act){ZN_ACT_RELU, 0, 0};
  int parts[2] = {a, d};
  bt_node(g, ZN_OP_CONCAT, "cat", 2, parts, "cat", &cat)->attrs.axis.axis = 1;
  int ri[2] = {cat, b_const_i64(g, "shape5", 5, s5)};
  bt_node(g, ZN_OP_RESHAPE, "reshape5", 2, ri, "r5", &r5);
  n = bt_node(g, ZN_OP_TRANSPOSE, "shuffle", 1, &r5, "t5", &t5);
  n->attrs.transpose.num_perm = 5;
  memcpy(n->attrs.transpose.perm, (int64_t[]){0, 2, 1, 3, 4}, 5 * sizeof(int64_t));
  int ti[2] = {t5, b_const_i64(g, "shape4", 4, s4)};
  bt_node(g, ZN_OP_RESHAPE, "reshape4", 2, ti, "r4", &r4);
  int oi[2] = {r4, bt_const(g, "w2", 4, w2, 33, -0.5f, 0.5f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv2", 2, oi, "y", &y), 1, 1, 0, 1, 1);
  zn_graph_mark_output(g, y);
  if (expose_mid) zn_graph_mark_output(g, t5);
  return g;
}

/* torchvision's Inception-V3 with transform_input (the pretrained default):
 * x[:, c] (Gather, scalar index; the last one as -1), unsqueezed, scaled and
 * shifted by scalar constants, the three channels concatenated, then a 3x3
 * stride-2 conv: [N,3,11,11] -> [N,8,5,5]. */
static inline zn_graph *bt_transform_input_graph(void) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, 3, 11, 11}, wd[4] = {8, 3, 3, 3};
  int x = bt_input(g, "x", 4, xd), parts[3];
  for (int c = 0; c < 3; c++) {
    char name[16];
    int64_t idx = c - (c == 2 ? 3 : 0);
    snprintf(name, sizeof name, "i%d", c);
    int ii = -1;
    if (zn_graph_add_const(g, name, ZN_DTYPE_INT64, 0, NULL, &idx, sizeof idx, &ii) != ZN_OK) bt_setup_failed("constant", name);
    int gi[2] = {x, ii}, gc, uc, mc;
    snprintf(name, sizeof name, "g%d", c);
    bt_node(g, ZN_OP_GATHER, name, 2, gi, name, &gc)->attrs.axis.axis = 1;
    snprintf(name, sizeof name, "u%d", c);
    zn_node *n = bt_node(g, ZN_OP_UNSQUEEZE, name, 1, &gc, name, &uc);
    n->attrs.axes.num_axes = 1;
    n->attrs.axes.axes[0] = 1;
    snprintf(name, sizeof name, "s%d", c);
    int mi[2] = {uc, bt_const(g, name, 0, NULL, 11 + (uint64_t)c, 0.4f, 0.5f)};
    snprintf(name, sizeof name, "m%d", c);
    bt_node(g, ZN_OP_MUL, name, 2, mi, name, &mc);
    snprintf(name, sizeof name, "b%d", c);
    int ai[2] = {mc, bt_const(g, name, 0, NULL, 21 + (uint64_t)c, -0.1f, 0.1f)};
    snprintf(name, sizeof name, "a%d", c);
    bt_node(g, ZN_OP_ADD, name, 2, ai, name, &parts[c]);
  }
  int cat, y;
  bt_node(g, ZN_OP_CONCAT, "cat", 3, parts, "cat", &cat)->attrs.axis.axis = 1;
  int ci[2] = {cat, bt_const(g, "w", 4, wd, 7, -0.5f, 0.5f)};
  bt_conv_attrs(bt_node(g, ZN_OP_CONV, "conv", 2, ci, "y", &y), 3, 2, 0, 1, 1);
  zn_graph_mark_output(g, y);
  return g;
}

/* A 1x1 stride-1 unpadded conv node with activation act (the 1x1 chains of the onednn tests). */
static inline zn_node *bt_conv1x1(zn_graph *g, const char *name, int num_inputs, const int *inputs, const char *out_name,
                                  int *out_id, zn_act act) {
  zn_node *n = bt_node(g, ZN_OP_CONV, name, num_inputs, inputs, out_name, out_id);
  bt_conv_attrs(n, 1, 1, 0, 1, 1);
  n->attrs.conv.act = act;
  return n;
}

static inline void bt_pool_attrs(zn_node *n, int64_t k, int64_t stride, int64_t pad, bool ceil_mode, bool include_pad) {
  memset(&n->attrs.pool, 0, sizeof n->attrs.pool);
  b_pool_attrs(n, k, stride, pad);
  n->attrs.pool.ceil_mode = ceil_mode;
  n->attrs.pool.count_include_pad = include_pad;
}

static inline zn_act bt_act(zn_act_kind kind, float alpha, float beta) {
  zn_act a = {kind, alpha, beta};
  return a;
}

/* One pooling node on a [N, c, s, s] input (square window), the shared case of
 * the backends' pool tests; `what` receives a description for messages. */
static inline zn_graph *bt_pool_graph(zn_op op, int64_t c, int64_t s, int64_t k, int64_t stride, int64_t pad,
                                      bool ceil_mode, bool include_pad, char *what, size_t what_size) {
  zn_graph *g = bt_graph();
  int64_t xd[4] = {1, c, s, s};
  int x = bt_input(g, "x", 4, xd), y;
  zn_node *n = bt_node(g, op, "pool", 1, &x, "y", &y);
  if (op == ZN_OP_MAX_POOL || op == ZN_OP_AVERAGE_POOL) bt_pool_attrs(n, k, stride, pad, ceil_mode, include_pad);
  zn_graph_mark_output(g, y);
  snprintf(what, what_size, "%s c%lld s%lld k%lld st%lld p%lld ceil%d incl%d", zn_op_name(op), (long long)c,
           (long long)s, (long long)k, (long long)stride, (long long)pad, ceil_mode, include_pad);
  return g;
}

/* Buffers for every graph input and output at a batch size: inputs seeded
 * uniform [-1, 1), outputs zeroed. */
#define BT_IO_MAX 8
typedef struct bt_io {
  int num_in, num_out;
  float *in[BT_IO_MAX], *out[BT_IO_MAX];
  int64_t in_count[BT_IO_MAX], out_count[BT_IO_MAX];
} bt_io;

static inline bool bt_io_init(bt_io *io, const zn_graph *g, int64_t batch, uint64_t seed) {
  memset(io, 0, sizeof *io);
  if (g->num_inputs > BT_IO_MAX || g->num_outputs > BT_IO_MAX) return false;
  io->num_in = g->num_inputs;
  io->num_out = g->num_outputs;
  for (int i = 0; i < g->num_inputs; i++) {
    if (!zn_value_num_elements(&g->values[g->inputs[i]], batch, &io->in_count[i])) return false;
    io->in[i] = malloc((size_t)io->in_count[i] * sizeof(float) + 4);
    if (!io->in[i]) return false;
    for (int64_t k = 0; k < io->in_count[i]; k++) io->in[i][k] = zn_test_rand_uniform(&seed, -1.f, 1.f);
  }
  for (int i = 0; i < g->num_outputs; i++) {
    if (!zn_value_num_elements(&g->values[g->outputs[i]], batch, &io->out_count[i])) return false;
    io->out[i] = calloc((size_t)io->out_count[i] + 1, sizeof(float));
    if (!io->out[i]) return false;
  }
  return true;
}

static inline void bt_io_deinit(bt_io *io) {
  for (int i = 0; i < io->num_in; i++) free(io->in[i]);
  for (int i = 0; i < io->num_out; i++) free(io->out[i]);
}

/* supports_node on every node, then compile, create, reshape(batch), run,
 * destroy on backend b (shapes already inferred). Says on stderr what failed. */
static inline zn_status bt_run_buffers(const zn_backend_ops *b, const zn_graph *g, int64_t batch,
                                       zn_precision precision, int threads, const void *const *inputs,
                                       void *const *outputs) {
  char why[256];
  for (int i = 0; i < g->num_nodes; i++)
    if (!b->supports_node(g, &g->nodes[i], why, sizeof why)) {
      fprintf(stderr, "%s does not support node %s (%s): %s\n", b->name, g->nodes[i].name, zn_op_name(g->nodes[i].op), why);
      return ZN_ERR_UNSUPPORTED_OP;
    }
  void *compiled = NULL, *inst = NULL;
  zn_backend_compile_options co = {.precision = precision};
  zn_backend_instance_options iopt = {threads, NULL, 0, NULL};
  zn_status st = b->compile(g, &co, &compiled);
  if (st == ZN_OK) st = b->instance_create(compiled, &iopt, &inst);
  if (st == ZN_OK) st = b->instance_reshape(inst, batch);
  if (st == ZN_OK) st = b->instance_run(inst, inputs, outputs);
  if (st != ZN_OK) fprintf(stderr, "%s: %s\n", b->name, zn_last_error());
  if (inst) b->instance_destroy(inst);
  if (compiled) b->compiled_destroy(compiled);
  return st;
}

static inline zn_status bt_run(const zn_backend_ops *b, const zn_graph *g, int64_t batch, zn_precision precision,
                               int threads, bt_io *io) {
  return bt_run_buffers(b, g, batch, precision, threads, (const void *const *)io->in, (void *const *)io->out);
}

/* max |a - b| / max |ref| (ref all zero: max |a - b|); a NaN mismatch is infinite. */
static inline double bt_rel_err(const float *got, const float *ref, int64_t n) { return zn_test_rel_err(got, ref, n); }

/* One check: infer shapes, run on ref (fp32, 1 thread) and on backend b at
 * batch, every output's max relative error <= tol. Returns the worst error
 * (INFINITY on failure). */
static inline double bt_compare(const zn_backend_ops *b, const char *what, zn_graph *g, int64_t batch,
                                zn_precision precision, int threads, double tol) {
  zn_test_checks++;
  if (zn_graph_infer_shapes(g) != ZN_OK) {
    zn_test_failures++;
    fprintf(stderr, "%s: shape inference failed: %s\n", what, zn_last_error());
    return INFINITY;
  }
  bt_io a = {0}, r = {0};  /* deinit-safe when an init before it fails */
  if (!bt_io_init(&a, g, batch, 42) || !bt_io_init(&r, g, batch, 42)) {
    zn_test_failures++;
    fprintf(stderr, "%s: bad shapes\n", what);
    bt_io_deinit(&a);
    bt_io_deinit(&r);
    return INFINITY;
  }
  double worst = INFINITY;
  zn_status s1 = bt_run(&zn_backend_ref, g, batch, ZN_PRECISION_FP32, 1, &r);
  zn_status s2 = bt_run(b, g, batch, precision, threads, &a);
  if (s1 != ZN_OK || s2 != ZN_OK) {
    zn_test_failures++;
    fprintf(stderr, "%s (batch %lld): run failed (ref %d, %s %d)\n", what, (long long)batch, s1, b->name, s2);
  } else {
    worst = 0;
    for (int i = 0; i < a.num_out; i++) {
      double e = bt_rel_err(a.out[i], r.out[i], a.out_count[i]);
      if (e > worst) worst = e;
    }
    if (!(worst <= tol)) {
      zn_test_failures++;
      fprintf(stderr, "%s (batch %lld): max relative error %.3g > %.3g\n", what, (long long)batch, worst, tol);
    }
  }
  bt_io_deinit(&a);
  bt_io_deinit(&r);
  return worst;
}

/* ---- graph passes: one graph before and after zn_graph_optimize ---- */

typedef struct bt_passed {
  zn_graph *opt;         /* the optimised clone */
  float *x, *want, *got; /* the input; ref's outputs as built and optimised */
  int64_t xn, yn;
} bt_passed;

/* Clones g (one input, one output) and optimises the clone into p->opt; fills
 * x from seed in [-1, 1], then lets fix reshape it (NULL: as is); runs g as
 * built into want and p->opt into got, both on ref. false if a step failed
 * (each is a check). bt_passed_free releases p, whatever the result. */
static inline bool bt_passes_run(bt_passed *p, zn_graph *g, int64_t batch, uint64_t seed,
                                 void (*fix)(float *x, int64_t n)) {
  memset(p, 0, sizeof *p);
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_clone(g, &p->opt));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(zn_value_num_elements(&g->values[g->inputs[0]], batch, &p->xn));
  CHECK(zn_value_num_elements(&g->values[g->outputs[0]], batch, &p->yn));
  p->x = malloc((size_t)p->xn * 4), p->want = calloc((size_t)p->yn, 4), p->got = calloc((size_t)p->yn, 4);
  CHECK(p->x && p->want && p->got && p->opt);
  if (!p->x || !p->want || !p->got || !p->opt) return false;
  for (int64_t i = 0; i < p->xn; i++) p->x[i] = zn_test_rand_uniform(&seed, -1.0f, 1.0f);
  if (fix) fix(p->x, p->xn);
  const void *in[1] = {p->x};
  void *want[1] = {p->want}, *got[1] = {p->got};
  CHECK_OK(bt_run_buffers(&zn_backend_ref, g, batch, ZN_PRECISION_FP32, 1, in, want));
  CHECK_OK(zn_graph_optimize(p->opt));
  CHECK_OK(zn_graph_verify(p->opt));
  CHECK_OK(bt_run_buffers(&zn_backend_ref, p->opt, batch, ZN_PRECISION_FP32, 1, in, got));
  return true;
}

static inline void bt_passed_free(bt_passed *p) {
  free(p->x);
  free(p->want);
  free(p->got);
  zn_graph_destroy(p->opt);
  memset(p, 0, sizeof *p);
}

#endif
