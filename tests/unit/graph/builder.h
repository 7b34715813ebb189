/* Small helpers for building IR graphs in the graph unit tests; the backend
 * tests build on them too (unit/backend/backend_test.h). */
#ifndef ZN_TEST_GRAPH_BUILDER_H
#define ZN_TEST_GRAPH_BUILDER_H
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "graph/graph.h"
#include "graph/passes.h"
#include "harness.h"

/* A graph input; batch_axis 0 makes dims[0] a coefficient of N (-1: none). */
static inline int b_input(zn_graph *g, const char *name, int rank, const int64_t *dims, int batch_axis) {
  int id = -1;
  if (zn_graph_add_value(g, name, ZN_DTYPE_FLOAT32, &id) != ZN_OK) return -1;
  zn_value *v = &g->values[id];
  v->num_dims = rank;
  memcpy(v->dims, dims, (size_t)rank * sizeof(int64_t));
  v->batch_axis = batch_axis;
  zn_graph_mark_input(g, id);
  return id;
}

static inline int b_const_f32(zn_graph *g, const char *name, int rank, const int64_t *dims, const float *data) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  int id = -1;
  zn_graph_add_const(g, name, ZN_DTYPE_FLOAT32, rank, dims, data, (size_t)n * 4, &id);
  return id;
}

/* A constant filled with a deterministic pattern. */
static inline int b_const_fill(zn_graph *g, const char *name, int rank, const int64_t *dims, uint64_t seed,
                               float lo, float hi) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  float *buf = malloc((size_t)n * 4 + 4);
  if (!buf) return -1;
  for (int64_t i = 0; i < n; i++) buf[i] = zn_test_rand_uniform(&seed, lo, hi);
  int id = b_const_f32(g, name, rank, dims, buf);
  free(buf);
  return id;
}

static inline int b_const_i64(zn_graph *g, const char *name, int count, const int64_t *data) {
  int64_t dims[1] = {count};
  int id = -1;
  zn_graph_add_const(g, name, ZN_DTYPE_INT64, 1, dims, data, (size_t)count * 8, &id);
  return id;
}

/* A node with one new output value named out; returns the node index (-1 on failure). */
static inline int b_node(zn_graph *g, zn_op op, const char *name, int num_inputs, const int *inputs,
                         const char *out) {
  int o = -1, idx = -1;
  if (zn_graph_add_value(g, out, ZN_DTYPE_UNDEFINED, &o) != ZN_OK ||
      zn_graph_add_node(g, op, name, num_inputs, inputs, 1, &o, &idx) != ZN_OK)
    return -1;
  return idx;
}

static inline int b_out(const zn_graph *g, int node) { return g->nodes[node].outputs[0]; }

static inline void b_conv_attrs(zn_node *n, int64_t k, int64_t stride, int64_t pad, int64_t group) {
  zn_conv_attrs *a = &n->attrs.conv;
  a->num_spatial = 2;
  for (int i = 0; i < 2; i++) {
    a->kernel[i] = k;
    a->stride[i] = stride;
    a->dilation[i] = 1;
    a->pad_begin[i] = a->pad_end[i] = pad;
  }
  a->group = group;
}

static inline void b_pool_attrs(zn_node *n, int64_t k, int64_t stride, int64_t pad) {
  zn_pool_attrs *a = &n->attrs.pool;
  a->num_spatial = 2;
  for (int i = 0; i < 2; i++) {
    a->kernel[i] = k;
    a->stride[i] = stride;
    a->dilation[i] = 1;
    a->pad_begin[i] = a->pad_end[i] = pad;
  }
}

static inline int b_find_node(const zn_graph *g, const char *name) {
  for (int i = 0; i < g->num_nodes; i++)
    if (strcmp(g->nodes[i].name, name) == 0) return i;
  return -1;
}

static inline int b_count_op(const zn_graph *g, zn_op op) {
  int c = 0;
  for (int i = 0; i < g->num_nodes; i++) c += g->nodes[i].op == op;
  return c;
}

/* Shape text of a value by name ("[N,64,56,56]"); "" when absent. */
static inline const char *b_shape(const zn_graph *g, const char *name) {
  static char buf[8][128];
  static int slot;
  char *b = buf[slot++ & 7];
  int v = zn_graph_find_value(g, name);
  if (v < 0) { b[0] = 0; return b; }
  return zn_value_shape_str(&g->values[v], b, 128);
}
#define CHECK_SHAPE(g, name, text) do { const char *s_ = b_shape((g), (name)); zn_test_checks++; \
  if (strcmp(s_, (text)) != 0) { zn_test_failures++; fprintf(stderr, "%s:%d: shape of %s is %s, expected %s\n", \
  __FILE__, __LINE__, (name), s_, (text)); } } while (0)

#endif
