/* Helpers for the xnnpack backend tests: build small graphs with the graph
 * builder API, run them on a backend table (xnnpack, or ref as the oracle)
 * and compare outputs by max relative error (max |a - b| / max |ref|). */
#ifndef ZN_TEST_XNNPACK_UTIL_H
#define ZN_TEST_XNNPACK_UTIL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include "backend/backend.h"
#include "core/alloc.h"
#include "core/status.h"
#include "graph/graph.h"

static inline zn_graph *xt_graph(void) {
  zn_graph *g = NULL;
  if (zn_graph_create(&g) != ZN_OK) abort(); /* test setup, not the backend */
  return g;
}

/* A float input [dims] whose axis 0 is the batch coefficient. */
static inline int xt_input(zn_graph *g, const char *name, int rank, const int64_t *dims) {
  int id = -1;
  if (zn_graph_add_value(g, name, ZN_DTYPE_FLOAT32, &id) != ZN_OK) abort();
  zn_value *v = &g->values[id];
  v->num_dims = rank;
  for (int i = 0; i < rank; i++) v->dims[i] = dims[i];
  v->batch_axis = 0;
  zn_graph_mark_input(g, id);
  return id;
}

/* A constant filled from a seeded uniform [lo, hi). */
static inline int xt_const(zn_graph *g, const char *name, int rank, const int64_t *dims, uint64_t seed, float lo,
                           float hi) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *buf = malloc((size_t)n * sizeof(float) + 4);
  if (!buf) abort();
  for (int64_t i = 0; i < n; i++) buf[i] = zn_test_rand_uniform(&seed, lo, hi);
  int id = -1;
  if (zn_graph_add_const(g, name, ZN_DTYPE_FLOAT32, rank, dims, buf, (size_t)n * sizeof(float), &id) != ZN_OK) abort();
  free(buf);
  return id;
}

/* A node with one new output named out; returns the node (valid until the next add). */
static inline zn_node *xt_node(zn_graph *g, zn_op op, const char *name, int num_inputs, const int *inputs,
                               const char *out, int *out_id) {
  int o = -1, idx = -1;
  if (zn_graph_add_value(g, out, ZN_DTYPE_UNDEFINED, &o) != ZN_OK ||
      zn_graph_add_node(g, op, name, num_inputs, inputs, 1, &o, &idx) != ZN_OK) {
    fprintf(stderr, "test graph: cannot add node %s: %s\n", name, zn_last_error());
    abort();
  }
  if (out_id) *out_id = o;
  return &g->nodes[idx];
}

static inline void xt_conv_attrs(zn_node *n, int64_t k, int64_t stride, int64_t pad, int64_t dilation, int64_t group) {
  zn_conv_attrs *a = &n->attrs.conv;
  memset(a, 0, sizeof *a);
  a->num_spatial = 2;
  for (int i = 0; i < 2; i++) {
    a->kernel[i] = k;
    a->stride[i] = stride;
    a->dilation[i] = dilation;
    a->pad_begin[i] = a->pad_end[i] = pad;
  }
  a->group = group;
}

static inline void xt_pool_attrs(zn_node *n, int64_t k, int64_t stride, int64_t pad, bool ceil_mode, bool include_pad) {
  zn_pool_attrs *a = &n->attrs.pool;
  memset(a, 0, sizeof *a);
  a->num_spatial = 2;
  for (int i = 0; i < 2; i++) {
    a->kernel[i] = k;
    a->stride[i] = stride;
    a->dilation[i] = 1;
    a->pad_begin[i] = a->pad_end[i] = pad;
  }
  a->ceil_mode = ceil_mode;
  a->count_include_pad = include_pad;
}

/* Buffers for every graph input and output at a batch size. */
typedef struct xt_io {
  int num_in, num_out;
  float *in[8], *out[8];
  int64_t in_count[8], out_count[8];
} xt_io;

static inline bool xt_io_init(xt_io *io, const zn_graph *g, int64_t batch, uint64_t seed) {
  memset(io, 0, sizeof *io);
  if (g->num_inputs > 8 || g->num_outputs > 8) return false;
  io->num_in = g->num_inputs;
  io->num_out = g->num_outputs;
  for (int i = 0; i < g->num_inputs; i++) {
    if (!zn_value_num_elements(&g->values[g->inputs[i]], batch, &io->in_count[i])) return false;
    io->in[i] = malloc((size_t)io->in_count[i] * sizeof(float) + 4);
    for (int64_t k = 0; k < io->in_count[i]; k++) io->in[i][k] = zn_test_rand_uniform(&seed, -1.f, 1.f);
  }
  for (int i = 0; i < g->num_outputs; i++) {
    if (!zn_value_num_elements(&g->values[g->outputs[i]], batch, &io->out_count[i])) return false;
    io->out[i] = calloc((size_t)io->out_count[i] + 1, sizeof(float));
  }
  return true;
}

static inline void xt_io_deinit(xt_io *io) {
  for (int i = 0; i < io->num_in; i++) free(io->in[i]);
  for (int i = 0; i < io->num_out; i++) free(io->out[i]);
}

/* compile, create, reshape(batch), run, destroy on backend b. */
static inline zn_status xt_run(const zn_backend_ops *b, const zn_graph *g, int64_t batch, int threads, xt_io *io) {
  for (int i = 0; i < g->num_nodes; i++)
    if (!b->supports_node(g, &g->nodes[i])) {
      fprintf(stderr, "%s does not support node %s (%s)\n", b->name, g->nodes[i].name, zn_op_name(g->nodes[i].op));
      return ZN_ERR_UNSUPPORTED_OP;
    }
  void *compiled = NULL, *inst = NULL;
  zn_backend_compile_options co = {ZN_PRECISION_FP32};
  zn_backend_instance_options iopt = {threads, NULL, 0};
  zn_status st = b->compile(g, &co, &compiled);
  if (st == ZN_OK) st = b->instance_create(compiled, &iopt, &inst);
  if (st == ZN_OK) st = b->instance_reshape(inst, batch);
  if (st == ZN_OK) st = b->instance_run(inst, (const void *const *)io->in, (void *const *)io->out);
  if (st != ZN_OK) fprintf(stderr, "%s: %s\n", b->name, zn_last_error());
  if (inst) b->instance_destroy(inst);
  if (compiled) b->compiled_destroy(compiled);
  return st;
}

/* max |a - b| / max |ref| (ref all zero: max |a - b|); NaN mismatch is infinite. */
static inline double xt_rel_err(const float *got, const float *ref, int64_t n) {
  double maxd = 0, maxr = 0;
  for (int64_t i = 0; i < n; i++) {
    double d = fabs((double)got[i] - (double)ref[i]);
    if (isnan(got[i]) != isnan(ref[i])) d = INFINITY;
    if (d > maxd) maxd = d;
    if (fabs((double)ref[i]) > maxr) maxr = fabs((double)ref[i]);
  }
  return maxr > 0 ? maxd / maxr : maxd;
}

/* Infer shapes, run on ref and on backend b at batch, check every output's
 * max relative error <= tol. Returns the worst error (INFINITY on failure). */
static inline double xt_compare(const zn_backend_ops *b, const char *what, zn_graph *g, int64_t batch, int threads,
                                double tol) {
  const zn_backend_ops *ref = zn_backend_find("ref");
  zn_test_checks++;
  if (!ref || zn_graph_infer_shapes(g) != ZN_OK) {
    zn_test_failures++;
    fprintf(stderr, "%s: shape inference failed: %s\n", what, zn_last_error());
    return INFINITY;
  }
  xt_io a, r;
  if (!xt_io_init(&a, g, batch, 42) || !xt_io_init(&r, g, batch, 42)) {
    zn_test_failures++;
    fprintf(stderr, "%s: bad shapes\n", what);
    xt_io_deinit(&a);
    xt_io_deinit(&r);
    return INFINITY;
  }
  double worst = INFINITY;
  zn_status s1 = xt_run(ref, g, batch, 1, &r);
  zn_status s2 = xt_run(b, g, batch, threads, &a);
  if (s1 != ZN_OK || s2 != ZN_OK) {
    zn_test_failures++;
    fprintf(stderr, "%s (batch %lld): run failed (ref %d, %s %d)\n", what, (long long)batch, s1, b->name, s2);
  } else {
    worst = 0;
    for (int i = 0; i < a.num_out; i++) {
      double e = xt_rel_err(a.out[i], r.out[i], a.out_count[i]);
      if (e > worst) worst = e;
    }
    if (!(worst <= tol)) {
      zn_test_failures++;
      fprintf(stderr, "%s (batch %lld): max relative error %.3g > %.3g\n", what, (long long)batch, worst, tol);
    }
  }
  xt_io_deinit(&a);
  xt_io_deinit(&r);
  return worst;
}

#endif
