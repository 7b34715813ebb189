/* The ref backend: portable C11 kernels run node by node in graph order, the
 * numerical oracle every other backend is compared with. compile keeps a
 * pointer to the graph (nothing is packed); instance_reshape resolves every
 * shape for the batch size and plans one arena (core/arena.h) for the
 * intermediate values and kernel scratch; run binds the caller's input and
 * output buffers and never allocates. Single-threaded by design. */
#include "backend/ref/ref.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/time.h"

typedef struct ref_compiled {
  const zn_graph *graph;
  size_t weight_bytes;
} ref_compiled;

typedef struct ref_instance {
  const zn_graph *graph;
  int64_t batch;                 /* 0 until reshaped successfully */
  zn_ref_tensor *tensors;        /* one per value */
  const zn_ref_tensor **args;    /* node inputs, flattened; NULL for absent optionals */
  int *arg_start;                /* per node, into args */
  size_t *scratch_offset;        /* per node, into the arena (SIZE_MAX: none) */
  zn_arena_request *requests;    /* values, then one scratch request per node */
  const zn_backend_arena_source *arena_src;  /* NULL: the heap */
  void *arena;
  size_t arena_bytes;
  void *batch_consts;            /* int64 constants with batch elements, resolved */
} ref_instance;

static zn_ref_kernel kernel_for(zn_op op) {
  switch (op) {
  case ZN_OP_CONV: return zn_ref_conv_nchw_f32;
  case ZN_OP_GEMM: return zn_ref_gemm_f32;
  case ZN_OP_MATMUL: return zn_ref_matmul_f32;
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: return zn_ref_binary;
  case ZN_OP_SUM: return zn_ref_sum_f32;
  case ZN_OP_RELU: case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SIGMOID:
  case ZN_OP_HARD_SWISH: case ZN_OP_CLIP: case ZN_OP_TANH: return zn_ref_activation_f32;
  case ZN_OP_SOFTMAX: return zn_ref_softmax_f32;
  case ZN_OP_MAX_POOL: return zn_ref_max_pool_nchw_f32;
  case ZN_OP_AVERAGE_POOL: return zn_ref_average_pool_nchw_f32;
  case ZN_OP_GLOBAL_AVERAGE_POOL: case ZN_OP_GLOBAL_MAX_POOL: return zn_ref_global_pool_nchw_f32;
  case ZN_OP_REDUCE_MEAN: return zn_ref_reduce_mean_f32;
  case ZN_OP_BATCH_NORM: return zn_ref_batch_norm_nchw_f32;
  case ZN_OP_LRN: return zn_ref_lrn_nchw_f32;
  case ZN_OP_CONCAT: return zn_ref_concat;
  case ZN_OP_FLATTEN: case ZN_OP_RESHAPE: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE:
  case ZN_OP_IDENTITY: return zn_ref_copy;
  case ZN_OP_TRANSPOSE: return zn_ref_transpose;
  case ZN_OP_PAD: return zn_ref_pad;
  case ZN_OP_SHAPE: return zn_ref_shape;
  case ZN_OP_GATHER: return zn_ref_gather;
  case ZN_OP_CAST: return zn_ref_cast;
  case ZN_OP_SLICE: return zn_ref_slice;
  case ZN_OP_POW: return zn_ref_pow_f32;
  case ZN_OP_SQRT: case ZN_OP_ERF: return zn_ref_unary_f32;
  case ZN_OP_GELU: case ZN_OP_SWISH: return zn_ref_activation_f32;
  case ZN_OP_LAYER_NORM: return zn_ref_layer_norm_f32;
  case ZN_OP_CONSTANT_OF_SHAPE: return zn_ref_constant_of_shape;
  case ZN_OP_EQUAL: return zn_ref_equal;
  case ZN_OP_WHERE: return zn_ref_where;
  case ZN_OP_EXPAND: return zn_ref_expand;
  case ZN_OP_MOD: return zn_ref_mod;
  case ZN_OP_NOT: return zn_ref_not;
  case ZN_OP_RANGE: return zn_ref_range;
  case ZN_OP_SCATTER_ND: return zn_ref_scatter_nd;
  case ZN_OP_COUNT: break;
  }
  return NULL;
}

static zn_dtype input_dtype(const zn_graph *g, const zn_node *n, int k) {
  const int v = k < n->num_inputs ? zn_node_input(n, k) : ZN_NO_VALUE;
  return v >= 0 && v < g->num_values ? g->values[v].dtype : ZN_DTYPE_UNDEFINED;
}

static bool all_inputs_are(const zn_graph *g, const zn_node *n, zn_dtype t) {
  for (int k = 0; k < n->num_inputs; k++)
    if (zn_node_input(n, k) != ZN_NO_VALUE && input_dtype(g, n, k) != t) return false;
  return true;
}

static bool is_index_dtype(zn_dtype t) { return t == ZN_DTYPE_INT64 || t == ZN_DTYPE_INT32; }

/* LayerNormalization's Mean and InvStdDev: float32 values, or none. */
static bool ln_stats_ok(const zn_graph *g, const zn_node *n) {
  for (int k = 1; k < n->num_outputs; k++) {
    const int v = n->outputs[k];
    if (v != ZN_NO_VALUE && (v < 0 || v >= g->num_values || g->values[v].dtype != ZN_DTYPE_FLOAT32)) return false;
  }
  return true;
}

static bool ref_runs(const zn_graph *g, const zn_node *n) {
  if (n->op == ZN_OP_LAYER_NORM && n->num_outputs > 1 && !ln_stats_ok(g, n)) return false;
  if (!kernel_for(n->op) || (n->num_outputs != 1 && n->op != ZN_OP_LAYER_NORM) || n->outputs[0] < 0 || n->outputs[0] >= g->num_values ||
      n->num_inputs < 1 || zn_node_input(n, 0) < 0)
    return n->op == ZN_OP_SUM && n->num_outputs == 1 && n->num_inputs >= 1 && zn_node_input(n, 0) >= 0 &&
           all_inputs_are(g, n, ZN_DTYPE_FLOAT32); /* Sum is n-ary: handled below too */
  const zn_dtype out = g->values[n->outputs[0]].dtype, in0 = input_dtype(g, n, 0);
  const bool f32 = out == ZN_DTYPE_FLOAT32 && in0 == ZN_DTYPE_FLOAT32;
  const bool movable = zn_dtype_size(out) > 0 && zn_dtype_size(in0) == zn_dtype_size(out);
  switch (n->op) {
  case ZN_OP_CONV:
    return f32 && n->num_inputs >= 2 && n->num_inputs <= 4 && all_inputs_are(g, n, ZN_DTYPE_FLOAT32) &&
           n->attrs.conv.num_spatial >= 1 && n->attrs.conv.num_spatial <= 3 && n->attrs.conv.group >= 1 &&
           zn_ref_act_supported(&n->attrs.conv.act);
  case ZN_OP_GEMM:
    return f32 && n->num_inputs >= 2 && n->num_inputs <= 3 && all_inputs_are(g, n, ZN_DTYPE_FLOAT32) &&
           zn_ref_act_supported(&n->attrs.gemm.act);
  case ZN_OP_MATMUL: return f32 && n->num_inputs == 2 && all_inputs_are(g, n, ZN_DTYPE_FLOAT32);
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV:
    return n->num_inputs == 2 && (out == ZN_DTYPE_FLOAT32 || out == ZN_DTYPE_INT64) && all_inputs_are(g, n, out);
  case ZN_OP_SUM: return f32 && all_inputs_are(g, n, ZN_DTYPE_FLOAT32);
  case ZN_OP_CLIP: return f32 && all_inputs_are(g, n, ZN_DTYPE_FLOAT32);
  case ZN_OP_RELU: case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SIGMOID: case ZN_OP_HARD_SWISH:
  case ZN_OP_TANH: case ZN_OP_SOFTMAX: case ZN_OP_GLOBAL_AVERAGE_POOL: case ZN_OP_GLOBAL_MAX_POOL:
  case ZN_OP_LRN:
    return f32 && n->num_inputs == 1;
  case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL:
    return f32 && n->num_inputs == 1 && n->attrs.pool.num_spatial >= 1 && n->attrs.pool.num_spatial <= 3;
  case ZN_OP_REDUCE_MEAN: return f32 && (n->num_inputs == 1 || is_index_dtype(input_dtype(g, n, 1)));
  case ZN_OP_BATCH_NORM: return f32 && n->num_inputs == 5 && all_inputs_are(g, n, ZN_DTYPE_FLOAT32);
  case ZN_OP_CONCAT: {
    for (int k = 0; k < n->num_inputs; k++)
      if (zn_node_input(n, k) < 0 || zn_dtype_size(input_dtype(g, n, k)) != zn_dtype_size(out)) return false;
    return zn_dtype_size(out) > 0;
  }
  case ZN_OP_FLATTEN: case ZN_OP_RESHAPE: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: case ZN_OP_IDENTITY:
  case ZN_OP_TRANSPOSE:
    return movable;
  case ZN_OP_PAD: return movable && n->attrs.pad.mode <= ZN_PAD_EDGE;
  case ZN_OP_GATHER: return movable && n->num_inputs == 2 && is_index_dtype(input_dtype(g, n, 1));
  case ZN_OP_SLICE:
    if (!movable || n->num_inputs < 3 || n->num_inputs > 5) return false;
    for (int k = 1; k < n->num_inputs; k++)
      if (zn_node_input(n, k) != ZN_NO_VALUE && !is_index_dtype(input_dtype(g, n, k))) return false;
    return zn_node_input(n, 1) >= 0 && zn_node_input(n, 2) >= 0;
  case ZN_OP_SHAPE: return out == ZN_DTYPE_INT64;
  case ZN_OP_CAST: return zn_ref_cast_supported(in0, out) && out == n->attrs.cast.to;
  case ZN_OP_POW: {
    const zn_dtype e = input_dtype(g, n, 1);
    return f32 && n->num_inputs == 2 && (e == ZN_DTYPE_FLOAT32 || is_index_dtype(e));
  }
  case ZN_OP_SQRT: case ZN_OP_ERF: case ZN_OP_GELU: case ZN_OP_SWISH: return f32 && n->num_inputs == 1;
  case ZN_OP_LAYER_NORM:
    return f32 && n->num_inputs >= 2 && n->num_inputs <= 3 && zn_node_input(n, 1) >= 0 &&
           all_inputs_are(g, n, ZN_DTYPE_FLOAT32);
  case ZN_OP_CONSTANT_OF_SHAPE:
    return n->num_inputs == 1 && in0 == ZN_DTYPE_INT64 && out == n->attrs.fill.dtype && zn_dtype_size(out) > 0 &&
           zn_dtype_size(out) <= sizeof n->attrs.fill.value;
  case ZN_OP_EQUAL:
    return n->num_inputs == 2 && out == ZN_DTYPE_BOOL && zn_ref_equal_supported(in0) && input_dtype(g, n, 1) == in0;
  case ZN_OP_WHERE:
    return n->num_inputs == 3 && in0 == ZN_DTYPE_BOOL && zn_dtype_size(out) > 0 && input_dtype(g, n, 1) == out &&
           input_dtype(g, n, 2) == out;
  case ZN_OP_EXPAND: return movable && n->num_inputs == 2 && input_dtype(g, n, 1) == ZN_DTYPE_INT64;
  case ZN_OP_MOD:
    return n->num_inputs == 2 && in0 == out && input_dtype(g, n, 1) == out && zn_ref_mod_supported(out, n->attrs.mod.fmod);
  case ZN_OP_NOT: return n->num_inputs == 1 && in0 == ZN_DTYPE_BOOL && out == ZN_DTYPE_BOOL;
  case ZN_OP_RANGE:
    return n->num_inputs == 3 && (out == ZN_DTYPE_FLOAT32 || is_index_dtype(out)) && all_inputs_are(g, n, out);
  case ZN_OP_SCATTER_ND:
    return n->num_inputs == 3 && in0 == out && input_dtype(g, n, 1) == ZN_DTYPE_INT64 && input_dtype(g, n, 2) == out &&
           zn_ref_scatter_nd_supported(out, n->attrs.scatter.reduction);
  case ZN_OP_COUNT: break;
  }
  return false;
}

static bool ref_supports_node(const zn_graph *g, const zn_node *n, char *why, size_t why_size) {
  if (ref_runs(g, n)) return true;
  if (!kernel_for(n->op) && n->op != ZN_OP_SUM) return zn_backend_refuse(why, why_size, "%s is not implemented", zn_op_name(n->op));
  char types[128] = "";
  size_t used = 0;
  for (int k = 0; k < n->num_inputs && used < sizeof types; k++) {
    int w = snprintf(types + used, sizeof types - used, "%s%s", k ? ", " : "",
                     zn_node_input(n, k) == ZN_NO_VALUE ? "none" : zn_dtype_name(input_dtype(g, n, k)));
    if (w > 0) used += (size_t)w;
  }
  const int y = n->num_outputs > 0 ? n->outputs[0] : ZN_NO_VALUE;
  return zn_backend_refuse(why, why_size, "%s is not implemented for inputs (%s) -> %s, or for these attributes",
                           zn_op_name(n->op), types, y >= 0 && y < g->num_values ? zn_dtype_name(g->values[y].dtype) : "none");
}

/* ---- compiled model ---- */

static zn_status ref_compile(const zn_graph *g, const zn_backend_compile_options *opts, void **compiled_out) {
  *compiled_out = NULL;
  /* ref computes in float32 only: a bf16 request must not run (and be reported) as bf16 */
  if (opts && opts->precision != ZN_PRECISION_FP32)
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile graph for ref: only fp32 is supported");
  char why[160];
  for (int i = 0; i < g->num_nodes; i++)
    if (!ref_supports_node(g, &g->nodes[i], why, sizeof why))
      return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile node '%s' (%s) for ref: %s", g->nodes[i].name,
                      zn_op_name(g->nodes[i].op), why);
  ref_compiled *c = zn_calloc(1, sizeof *c);
  if (!c) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to compile graph for ref: out of memory");
  c->graph = g;
  for (int v = 0; v < g->num_values; v++) c->weight_bytes += g->values[v].data ? g->values[v].data_bytes : 0;
  zn_log_info("ref: %d nodes, %zu weight bytes; conv = im2col tiles + blocked GEMM, fp32, 1 thread", g->num_nodes,
              c->weight_bytes);
  *compiled_out = c;
  return ZN_OK;
}

static void ref_compiled_destroy(void *compiled) { zn_free(compiled); }

static size_t ref_weight_bytes(const void *compiled) { return ((const ref_compiled *)compiled)->weight_bytes; }

/* ---- instances ---- */

static void ref_instance_destroy(void *instance) {
  ref_instance *in = instance;
  if (!in) return;
  zn_free(in->tensors);
  zn_free(in->args);
  zn_free(in->arg_start);
  zn_free(in->scratch_offset);
  zn_free(in->requests);
  zn_backend_arena_put(in->arena_src, in->arena);
  zn_free_aligned(in->batch_consts);
  zn_free(in);
}

static zn_status instance_create_for(const zn_graph *g, const zn_backend_arena_source *arena_src,
                                     void **instance_out) {
  *instance_out = NULL;
  ref_instance *in = zn_calloc(1, sizeof *in);
  if (!in) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create ref instance: out of memory");
  in->graph = g;
  in->arena_src = arena_src;
  size_t num_args = 0;
  for (int i = 0; i < g->num_nodes; i++) num_args += (size_t)g->nodes[i].num_inputs;
  in->tensors = zn_calloc((size_t)g->num_values + 1, sizeof *in->tensors);
  in->args = zn_calloc(num_args + 1, sizeof *in->args);
  in->arg_start = zn_calloc((size_t)g->num_nodes + 1, sizeof *in->arg_start);
  in->scratch_offset = zn_calloc((size_t)g->num_nodes + 1, sizeof *in->scratch_offset);
  in->requests = zn_calloc((size_t)g->num_values + (size_t)g->num_nodes + 1, sizeof *in->requests);
  if (!in->tensors || !in->args || !in->arg_start || !in->scratch_offset || !in->requests) {
    ref_instance_destroy(in);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create ref instance: out of memory");
  }
  /* Input pointers never move: tensors[] is allocated once. */
  int at = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    in->arg_start[i] = at;
    for (int k = 0; k < n->num_inputs; k++) {
      const int v = zn_node_input(n, k);
      in->args[at++] = v >= 0 && v < g->num_values ? &in->tensors[v] : NULL;
    }
  }
  *instance_out = in;
  return ZN_OK;
}

static zn_status ref_instance_create(const void *compiled, const zn_backend_instance_options *opts,
                                     void **instance_out) {
  return instance_create_for(((const ref_compiled *)compiled)->graph, opts ? opts->arena : NULL, instance_out);
}

static zn_status ref_instance_reshape(void *instance, int64_t batch) {
  ref_instance *in = instance;
  const zn_graph *g = in->graph;
  char shape[128];
  in->batch = 0;
  if (batch < 1) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to reshape ref instance: batch %lld", (long long)batch);
  zn_backend_arena_put(in->arena_src, in->arena);
  zn_free_aligned(in->batch_consts);
  in->arena = in->batch_consts = NULL;
  in->arena_bytes = 0;

  /* Liveness: first and last node touching each value. */
  const size_t V = (size_t)g->num_values;
  zn_arena_request *req = in->requests;
  for (size_t v = 0; v < V; v++) req[v] = (zn_arena_request){INT64_MAX, -1, 0, 0};
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    for (int k = 0; k < n->num_inputs + n->num_outputs; k++) {
      const int v = k < n->num_inputs ? zn_node_input(n, k) : n->outputs[k - n->num_inputs];
      if (v < 0) continue;
      if (v >= g->num_values)
        return zn_error(ZN_ERR_INVALID_MODEL, "failed to reshape ref instance: node '%s' uses value %d of %d",
                        n->name, v, g->num_values);
      req[v].first = ZN_MIN(req[v].first, i);
      req[v].last = ZN_MAX(req[v].last, i);
    }
  }
  size_t batch_const_bytes = 0;
  for (size_t v = 0; v < V; v++) {
    const zn_value *val = &g->values[v];
    zn_ref_tensor *t = &in->tensors[v];
    const bool used = req[v].last >= 0 || val->is_input || val->is_output;
    memset(t, 0, sizeof *t);
    t->dtype = val->dtype;
    t->elem_bytes = zn_dtype_size(val->dtype);
    if (!used) { req[v] = (zn_arena_request){0, 0, 0, 0}; continue; }
    size_t bytes;
    if (!zn_value_resolve_dims(val, batch, t->dims) || !zn_value_num_elements(val, batch, &t->count) ||
        t->elem_bytes == 0 || !zn_size_mul((size_t)t->count, t->elem_bytes, &bytes))
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to reshape ref instance: value '%s' %s has no usable shape or dtype at batch %lld",
                      val->name, zn_value_shape_str(val, shape, sizeof shape), (long long)batch);
    t->num_dims = val->num_dims;
    const bool is_const = val->data != NULL;
    if (is_const && val->data_bytes < bytes)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to reshape ref instance: constant '%s' %s holds %zu bytes, needs %zu",
                      val->name, zn_value_shape_str(val, shape, sizeof shape), val->data_bytes, bytes);
    if (!is_const && !val->is_input && val->producer < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to reshape ref instance: value '%s' is never produced", val->name);
    if (is_const && val->batch_elems && val->dtype == ZN_DTYPE_INT64) batch_const_bytes += bytes;
    if (is_const || val->is_input || val->is_output) req[v] = (zn_arena_request){0, 0, 0, 0};
    else req[v].size_bytes = bytes;
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    size_t scratch = 0;
    if (n->op == ZN_OP_CONV && n->num_inputs >= 2)
      scratch = zn_ref_conv_scratch_bytes(n, &in->tensors[zn_node_input(n, 0)], &in->tensors[zn_node_input(n, 1)]);
    req[V + (size_t)i] = (zn_arena_request){i, i, scratch, 0};
  }
  ZN_TRY(zn_arena_plan(req, V + (size_t)g->num_nodes, &in->arena_bytes));
  in->arena = zn_backend_arena_get(in->arena_src, in->arena_bytes);
  in->batch_consts = zn_alloc_aligned(batch_const_bytes);
  if (!in->arena || !in->batch_consts) {
    zn_backend_arena_put(in->arena_src, in->arena), zn_free_aligned(in->batch_consts);
    in->arena = in->batch_consts = NULL;
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape ref instance: arena of %zu bytes at batch %lld",
                    in->arena_bytes, (long long)batch);
  }
  size_t bc = 0;
  for (size_t v = 0; v < V; v++) {
    const zn_value *val = &g->values[v];
    zn_ref_tensor *t = &in->tensors[v];
    if (val->data && val->batch_elems && val->dtype == ZN_DTYPE_INT64 && t->count > 0) {
      /* Shape constants whose elements scale with N: resolve them for this batch. */
      int64_t *dst = (int64_t *)((char *)in->batch_consts + bc);
      const int64_t *src = val->data;
      for (int64_t e = 0; e < t->count; e++)
        dst[e] = (e < 64 && (val->batch_elems >> e) & 1) ? src[e] * batch : src[e];
      t->data = dst;
      bc += (size_t)t->count * sizeof(int64_t);
    } else if (val->data) {
      t->data = val->data;
    } else if (req[v].size_bytes) {
      t->data = (char *)in->arena + req[v].offset;
    }
  }
  for (int i = 0; i < g->num_nodes; i++)
    in->scratch_offset[i] = req[V + (size_t)i].size_bytes ? req[V + (size_t)i].offset : SIZE_MAX;
  in->batch = batch;
  return ZN_OK;
}

static size_t ref_instance_arena_bytes(const void *instance) { return ((const ref_instance *)instance)->arena_bytes; }

typedef zn_status (*before_node_fn)(void *ctx, zn_graph *mutable_graph, const ref_instance *in, int node);

/* step_ns: NULL, or each node's wall time (one step per node) for the per-step profile. */
static zn_status run_nodes(ref_instance *in, const void *const *inputs, void *const *outputs, before_node_fn hook,
                           void *hook_ctx, zn_graph *mutable_graph, int64_t *step_ns) {
  const zn_graph *g = in->graph;
  if (in->batch < 1) return zn_error(ZN_ERR_INVALID_STATE, "failed to run ref instance: not reshaped");
  if ((g->num_inputs && !inputs) || (g->num_outputs && !outputs))
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run ref instance: NULL input or output array");
  for (int i = 0; i < g->num_inputs; i++) {
    if (!inputs[i]) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run ref instance: input %d is NULL", i);
    in->tensors[g->inputs[i]].data = (void *)inputs[i]; /* read only by the kernels */
  }
  for (int i = 0; i < g->num_outputs; i++) {
    if (!outputs[i]) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run ref instance: output %d is NULL", i);
    const zn_value *val = &g->values[g->outputs[i]];
    if (!val->data && !val->is_input) in->tensors[g->outputs[i]].data = outputs[i];
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if (hook) ZN_TRY(hook(hook_ctx, mutable_graph, in, i));
    void *scratch = in->scratch_offset[i] == SIZE_MAX ? NULL : (char *)in->arena + in->scratch_offset[i];
    const zn_time_ns t0 = step_ns ? zn_now_ns() : 0;
    const zn_ref_tensor *const *args = in->args + in->arg_start[i];
    if (n->op == ZN_OP_LAYER_NORM && n->num_outputs > 1) {
      const int m = n->outputs[1], s = n->num_outputs > 2 ? n->outputs[2] : ZN_NO_VALUE;
      ZN_TRY(zn_ref_layer_norm_stats_f32(n, args, &in->tensors[n->outputs[0]], m >= 0 ? &in->tensors[m] : NULL,
                                         s >= 0 ? &in->tensors[s] : NULL));
    } else {
      ZN_TRY(kernel_for(n->op)(n, args, &in->tensors[n->outputs[0]], scratch));
    }
    if (step_ns) step_ns[i] = zn_now_ns() - t0;
  }
  /* Outputs that are constants or graph inputs were never written by a node. */
  for (int i = 0; i < g->num_outputs; i++) {
    const zn_ref_tensor *t = &in->tensors[g->outputs[i]];
    if (t->data != outputs[i] && t->count) memcpy(outputs[i], t->data, (size_t)t->count * t->elem_bytes);
  }
  return ZN_OK;
}

static zn_status ref_instance_run(void *instance, const void *const *inputs, void *const *outputs) {
  return run_nodes(instance, inputs, outputs, NULL, NULL, NULL, NULL);
}

static int ref_instance_num_steps(const void *instance) { return ((const ref_instance *)instance)->graph->num_nodes; }

static zn_status ref_instance_run_profiled(void *instance, const void *const *inputs, void *const *outputs,
                                           int64_t *step_ns) {
  return run_nodes(instance, inputs, outputs, NULL, NULL, NULL, step_ns);
}

static void ref_instance_step(const void *instance, int i, zn_backend_step *out) {
  const zn_node *n = &((const ref_instance *)instance)->graph->nodes[i];
  const char *how = n->op == ZN_OP_CONV                               ? "im2col + blocked GEMM"
                    : n->op == ZN_OP_GEMM || n->op == ZN_OP_MATMUL     ? "blocked GEMM"
                                                                       : "loop";
  snprintf(out->kernel, sizeof out->kernel, "ref %s: %s (C, NCHW)", zn_op_name(n->op), how);
  out->num_nodes = 1;
  out->nodes[0] = i;
}

static size_t ref_describe(const void *compiled, char *buf, size_t buf_size) {
  const ref_compiled *c = compiled;
  int n = snprintf(buf, buf_size,
                   "ref: portable C11 kernels, NCHW fp32, one thread, %d nodes\n"
                   "ref: conv = im2col on %d-position tiles + i-k-j blocked GEMM; weights read in place (%zu bytes)\n",
                   c->graph->num_nodes, 256, c->weight_bytes);
  return n > 0 ? (size_t)n : 0;
}

const zn_backend_ops zn_backend_ref = {
    .abi_version = ZN_BACKEND_ABI_VERSION,
    .name = "ref",
    .available = NULL,
    .supports_node = ref_supports_node,
    .compile = ref_compile,
    .compiled_destroy = ref_compiled_destroy,
    .weight_bytes = ref_weight_bytes,
    .instance_create = ref_instance_create,
    .instance_reshape = ref_instance_reshape,
    .instance_arena_bytes = ref_instance_arena_bytes,
    .instance_run = ref_instance_run,
    .instance_destroy = ref_instance_destroy,
    .instance_num_steps = ref_instance_num_steps,
    .instance_run_profiled = ref_instance_run_profiled,
    .instance_step = ref_instance_step,
    .describe = ref_describe,
};

/* ---- BatchNormalization calibration ---- */

static zn_status calibrate_before(void *ctx, zn_graph *g, const ref_instance *in, int node) {
  const zn_node *n = &g->nodes[node];
  if (n->op != ZN_OP_BATCH_NORM) return ZN_OK;
  const zn_ref_tensor *x = &in->tensors[zn_node_input(n, 0)];
  const int64_t C = x->num_dims >= 2 ? x->dims[1] : 0;
  zn_value *mean_v = &g->values[zn_node_input(n, 3)], *var_v = &g->values[zn_node_input(n, 4)];
  if (C < 1 || !mean_v->data || !var_v->data || mean_v->data_bytes < (size_t)C * sizeof(float) ||
      var_v->data_bytes < (size_t)C * sizeof(float) || mean_v == var_v)
    return zn_error(ZN_ERR_INVALID_MODEL,
                    "failed to calibrate BatchNormalization '%s': mean and variance must be distinct float constants of %lld elements",
                    n->name, (long long)C);
  const int64_t N = x->dims[0], plane = N * C != 0 ? x->count / (N * C) : 0, per_channel = N * plane;
  const float *xd = x->data;
  float *mean = mean_v->data, *var = var_v->data;
  for (int64_t c = 0; c < C; c++) {
    double s = 0.0, ss = 0.0;
    for (int64_t b = 0; b < N; b++)
      for (int64_t i = 0; i < plane; i++) s += xd[(b * C + c) * plane + i];
    const double m = per_channel ? s / (double)per_channel : 0.0;
    for (int64_t b = 0; b < N; b++)
      for (int64_t i = 0; i < plane; i++) {
        const double d = xd[(b * C + c) * plane + i] - m;
        ss += d * d;
      }
    mean[c] = (float)m;
    var[c] = (float)(per_channel ? ss / (double)per_channel : 1.0);
  }
  return ZN_OK;
}

zn_status zn_ref_calibrate_batch_norm(zn_graph *g, int64_t batch, uint64_t seed) {
  /* Statistics shared by several BatchNormalization nodes cannot be set per node. */
  for (int i = 0; i < g->num_nodes; i++) {
    if (g->nodes[i].op != ZN_OP_BATCH_NORM || g->nodes[i].num_inputs != 5) continue;
    for (int j = 0; j < g->num_nodes; j++)
      for (int k = 0; j != i && k < g->nodes[j].num_inputs; k++) {
        const int v = zn_node_input(&g->nodes[j], k);
        if (v == zn_node_input(&g->nodes[i], 3) || v == zn_node_input(&g->nodes[i], 4))
          return zn_error(ZN_ERR_INVALID_MODEL,
                          "failed to calibrate BatchNormalization '%s': its statistics are shared with node '%s'",
                          g->nodes[i].name, g->nodes[j].name);
      }
  }
  void *compiled = NULL, *instance = NULL;
  void **bufs = zn_calloc((size_t)g->num_inputs + (size_t)g->num_outputs + 1, sizeof *bufs);
  zn_status st = bufs ? ZN_OK : zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to calibrate: out of memory");
  if (st == ZN_OK) st = ref_compile(g, NULL, &compiled);
  if (st == ZN_OK) st = instance_create_for(g, NULL, &instance);
  if (st == ZN_OK) st = ref_instance_reshape(instance, batch);
  zn_rng rng;
  zn_rng_init(&rng, seed);
  for (int i = 0; st == ZN_OK && i < g->num_inputs + g->num_outputs; i++) {
    const bool is_in = i < g->num_inputs;
    const zn_ref_tensor *t = &((ref_instance *)instance)->tensors[is_in ? g->inputs[i] : g->outputs[i - g->num_inputs]];
    const size_t bytes = (size_t)t->count * t->elem_bytes;
    if (!(bufs[i] = zn_calloc_aligned(bytes))) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to calibrate: %zu bytes for input/output %d", bytes, i);
      break;
    }
    if (is_in && t->dtype == ZN_DTYPE_FLOAT32)
      for (int64_t e = 0; e < t->count; e++) ((float *)bufs[i])[e] = zn_rng_normal(&rng);
  }
  if (st == ZN_OK)
    st = run_nodes(instance, (const void *const *)bufs, bufs + g->num_inputs, calibrate_before, NULL, g, NULL);
  for (int i = 0; bufs && i < g->num_inputs + g->num_outputs; i++) zn_free_aligned(bufs[i]);
  zn_free(bufs);
  ref_instance_destroy(instance);
  ref_compiled_destroy(compiled);
  return st;
}
