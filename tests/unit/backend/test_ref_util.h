/* Helpers shared by the ref backend tests: build a small graph with the graph
 * builder API, infer shapes, and run it through the ref backend table. */
#ifndef ZN_TEST_REF_UTIL_H
#define ZN_TEST_REF_UTIL_H

#include "harness.h"

#include "backend/backend.h"
#include "core/alloc.h"
#include "graph/graph.h"
#include "onnx/onnx.h"

extern const zn_backend_ops zn_backend_ref;

/* A graph input of the given shape; batch_axis -1 for none (dims[batch_axis] is the coefficient of N). */
static inline int rt_input(zn_graph *g, const char *name, zn_dtype dt, int rank, const int64_t *dims, int batch_axis) {
  int id = -1;
  if (zn_graph_add_value(g, name, dt, &id) != ZN_OK) return -1;
  zn_value *v = &g->values[id];
  v->num_dims = rank;
  for (int i = 0; i < rank; i++) v->dims[i] = dims[i];
  v->batch_axis = batch_axis;
  zn_graph_mark_input(g, id);
  return id;
}

static inline int rt_const(zn_graph *g, const char *name, zn_dtype dt, int rank, const int64_t *dims, const void *data) {
  int64_t n = 1;
  for (int i = 0; i < rank; i++) n *= dims[i];
  int id = -1;
  zn_graph_add_const(g, name, dt, rank, dims, data, (size_t)n * zn_dtype_size(dt), &id);
  return id;
}

static inline int rt_value(zn_graph *g, const char *name) {
  int id = -1;
  zn_graph_add_value(g, name, ZN_DTYPE_UNDEFINED, &id);
  return id;
}

/* Adds a node with one output; returns the node (valid until the next add). */
static inline zn_node *rt_node(zn_graph *g, zn_op op, const char *name, int num_inputs, const int *inputs, int out) {
  int idx = -1;
  if (zn_graph_add_node(g, op, name, num_inputs, inputs, 1, &out, &idx) != ZN_OK) return NULL;
  return &g->nodes[idx];
}

/* Infer shapes, compile, create, reshape(batch), run, destroy. *arena_bytes_out optional. */
static inline zn_status rt_run_ex(zn_graph *g, int64_t batch, const void *const *inputs, void *const *outputs,
                                  size_t *arena_bytes_out) {
  const zn_backend_ops *b = &zn_backend_ref;
  zn_status st = zn_graph_infer_shapes(g);
  if (st != ZN_OK) return st;
  for (int i = 0; i < g->num_nodes; i++)
    if (!b->supports_node(g, &g->nodes[i], NULL, 0)) return ZN_ERR_UNSUPPORTED_OP;
  void *compiled = NULL, *inst = NULL;
  zn_backend_instance_options io = {1, NULL, 0, NULL};
  st = b->compile(g, NULL, &compiled);
  if (st == ZN_OK) st = b->instance_create(compiled, &io, &inst);
  if (st == ZN_OK) st = b->instance_reshape(inst, batch);
  if (st == ZN_OK) st = b->instance_run(inst, inputs, outputs);
  if (st == ZN_OK && arena_bytes_out) *arena_bytes_out = b->instance_arena_bytes(inst);
  b->instance_destroy(inst);
  if (compiled) b->compiled_destroy(compiled);
  return st;
}

static inline zn_status rt_run(zn_graph *g, int64_t batch, const void *const *inputs, void *const *outputs) {
  return rt_run_ex(g, batch, inputs, outputs, NULL);
}

/* Compare n floats; report the first few failing indices by name. */
static inline void rt_check_close(const char *what, const float *got, const float *want, int64_t n, float tol) {
  int reported = 0;
  for (int64_t i = 0; i < n; i++) {
    zn_test_checks++;
    const float d = fabsf(got[i] - want[i]);
    if (!(d <= tol * (1.0f + fabsf(want[i]))) && !(isnan(got[i]) && isnan(want[i]))) {
      zn_test_failures++;
      if (reported++ < 5)
        fprintf(stderr, "%s: element %lld: got %.9g, want %.9g\n", what, (long long)i, got[i], want[i]);
    }
  }
}

static inline void rt_fill(float *x, int64_t n, uint64_t seed) {
  for (int64_t i = 0; i < n; i++) x[i] = zn_test_rand_uniform(&seed, -1.0f, 1.0f);
}

/* g written as ONNX and read back (an export round trip); NULL, with a failed
 * check, when either step fails. The caller destroys the result. */
static inline zn_graph *rt_round_trip(const zn_graph *g) {
  void *buf = NULL;
  size_t size = 0;
  zn_graph *h = NULL;
  CHECK_OK(zn_onnx_export_memory(g, &buf, &size));
  if (buf) CHECK_OK(zn_onnx_import_memory(buf, size, NULL, NULL, &h));
  zn_free(buf);
  return h;
}

#endif
