/* zn_model: the public face of a loaded model. Loading runs the pipeline
 * import -> shape inference -> passes -> backend compile, and keeps the
 * optimised graph (the compiled weights may point into it) for the model's
 * whole life. A model is immutable afterwards and shared by its instances. */
#include "runtime/model.h"

#include <stdarg.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdio.h>
#include <string.h>

#include "backend/ref/ref.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/status.h"
#include "onnx/onnx.h"
#include "runtime/partition.h"
#include "zoo/zoo.h"

ZN_PUBLIC zn_model_options zn_model_options_default(void) {
  zn_model_options o;
  memset(&o, 0, sizeof o);
  o.backend = "auto";
  return o;
}

ZN_INTERNAL void zn_runtime_trim_heap(void) {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

ZN_PUBLIC void zn_model_destroy(zn_model *m) {
  if (!m) return;
  bool big = m->compiled && m->backend && zn_model_weight_bytes(m) >= ZN_TRIM_MIN_BYTES;
  if (m->compiled && m->backend) m->backend->compiled_destroy(m->compiled);
  zn_graph_destroy(m->graph);
  zn_free(m->inputs);
  zn_free(m->outputs);
  zn_free(m);
  if (big) zn_runtime_trim_heap();
}

static void fill_info(const zn_graph *g, int value, zn_tensor_info *info) {
  const zn_value *v = &g->values[value];
  memset(info, 0, sizeof *info);
  info->name = v->name;
  info->dtype = v->dtype;
  info->num_dims = v->num_dims < 0 ? 0 : v->num_dims;
  info->batch_axis = v->batch_axis;
  for (int i = 0; i < info->num_dims; i++) info->dims[i] = i == v->batch_axis ? -1 : v->dims[i];
}

static zn_status list_backends(char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < zn_backend_count() && used < size; i++) {
    int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", zn_backend_name(i));
    if (w > 0) used += (size_t)w;
  }
  return ZN_OK;
}

/* "backend 'onednn' does not support node 'x' (ReduceMean, input float32 [N,8,4,4], output [N,1,4,4]): why";
 * the shapes show refusals by size too (a pad that makes outputs see only padding). */
static void refusal_text(const zn_backend_ops *b, const zn_graph *g, const zn_node *n, const char *why, char *buf,
                         size_t size) {
  char shape[128] = "", out[128] = "";
  const int x = n->num_inputs > 0 ? zn_node_input(n, 0) : ZN_NO_VALUE;
  if (x >= 0) zn_value_shape_str(&g->values[x], shape, sizeof shape);
  if (n->num_outputs > 0 && n->outputs[0] >= 0) zn_value_shape_str(&g->values[n->outputs[0]], out, sizeof out);
  snprintf(buf, size, "backend '%s' does not support node '%s' (%s, input %s %s, output %s): %s", b->name, n->name,
           zn_op_name(n->op), x >= 0 ? zn_dtype_name(g->values[x].dtype) : "", shape, out,
           why && why[0] ? why : "no reason given");
}

/* Every node must be one the backend runs: say which is not, and why. */
static zn_status check_support(const zn_backend_ops *b, const zn_graph *g) {
  for (int i = 0; i < g->num_nodes; i++) {
    char why[256] = "";
    if (!b->supports_node(g, &g->nodes[i], why, sizeof why)) {
      char text[768];
      refusal_text(b, g, &g->nodes[i], why, text, sizeof text);
      return zn_error(ZN_ERR_UNSUPPORTED_OP, "%s", text);
    }
  }
  return ZN_OK;
}

/* Check every node and compile for backend b. */
static zn_status compile_for(zn_model *m, const zn_backend_ops *b, const zn_model_options *opts) {
  if (b->available && !b->available())
    return zn_error(ZN_ERR_UNSUPPORTED_HARDWARE, "backend '%s' cannot run on this machine", b->name);
  ZN_TRY(check_support(b, m->graph));
  zn_backend_compile_options co = {.precision = opts->precision, .tune_batch = opts->tune_batch};
  return b->compile(m->graph, &co, &m->compiled);
}

static bool is_auto(const char *name) { return !name || !name[0] || strcmp(name, "auto") == 0; }

static void warn_refusal(const zn_graph *g, int node, const zn_backend_ops *b, const char *why) {
  char text[768];
  refusal_text(b, g, &g->nodes[node], why, text, sizeof text);
  zn_log_warn("auto: %s", text);
}

/* "auto" per node: each node on the first backend of the order that runs it
 * (runtime/partition.h). Returns ZN_ERR_UNSUPPORTED_OP, having compiled
 * nothing, when the graph does not split: every node on the same backend
 * (whole-model compile below), some node on none, or a segment failing to
 * compile (said in a warning); only running out of memory stops the load. */
static zn_status choose_per_node(zn_model *m, const zn_backend_ops *const *order, size_t count,
                                 const zn_model_options *opts) {
  const zn_graph *g = m->graph;
  int *assign = zn_calloc((size_t)g->num_nodes + 1, sizeof *assign);
  if (!assign) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to choose backends: out of memory");
  zn_partition_assign(g, order, count, assign, NULL);
  bool split = false, runnable = true;
  for (int i = 0; i < g->num_nodes; i++) {
    if (assign[i] < 0) runnable = false;
    if (assign[i] != assign[0]) split = true;
  }
  zn_status st = ZN_ERR_UNSUPPORTED_OP;
  if (split && runnable) {
    zn_partition_assign(g, order, count, assign, warn_refusal);  /* now say why, once per node */
    zn_backend_compile_options co = {.precision = opts->precision, .tune_batch = opts->tune_batch};
    st = zn_partition_compile(g, order, assign, &co, &m->compiled);
    if (st == ZN_OK) {
      m->backend = &zn_partition_backend;
      m->backend_name = zn_partition_name(m->compiled);
      zn_log_warn("auto: runs on %s, in %d segments (zn_model_describe lists them)", m->backend_name,
                  zn_partition_num_segments(m->compiled));
    } else if (st != ZN_ERR_OUT_OF_MEMORY) {
      /* a segment a backend cannot compile: the whole-model order still runs the model, as before the split */
      zn_log_warn("auto: cannot split the graph per node (%s); trying whole-model backends", zn_last_error());
      st = ZN_ERR_UNSUPPORTED_OP;
    }
  }
  zn_free(assign);
  return st;
}

/* "auto": nodes the first backend of zn_backend_auto_order refuses run on the
 * next backend that supports them (choose_per_node), with a warning naming
 * each such node and why. When the graph does not split that way, the first
 * backend that runs every node and compiles takes the whole model; a refusal
 * (ZN_ERR_UNSUPPORTED_OP) moves on to the next, any other failure stops. A
 * named backend is the only one tried. */
static zn_status choose_backend(zn_model *m, const zn_model_options *opts) {
  const zn_backend_ops *order[8];
  size_t count = 0;
  if (is_auto(opts->backend)) {
    count = zn_backend_auto_order(order, ZN_ARRAY_SIZE(order));
  } else if ((order[0] = zn_backend_find(opts->backend)) != NULL) {
    count = 1;
  } else {
    char names[256];
    list_backends(names, sizeof names);
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "unknown backend '%s' (built: %s; or auto)", opts->backend, names);
  }
  if (count == 0) return zn_error(ZN_ERR_UNSUPPORTED_HARDWARE, "no backend can run on this machine");
  zn_status st = ZN_OK;
  if (count > 1) {
    st = choose_per_node(m, order, count, opts);
    if (st != ZN_ERR_UNSUPPORTED_OP) return st;
  }
  for (size_t k = 0; k < count; k++) {
    m->backend = order[k];
    m->backend_name = order[k]->name;
    st = compile_for(m, order[k], opts);
    if (st == ZN_OK) return ZN_OK;
    if (st != ZN_ERR_UNSUPPORTED_OP || k + 1 == count) break;
    zn_log_warn("auto: %s; trying %s", zn_last_error(), order[k + 1]->name);
  }
  m->backend = NULL;
  m->backend_name = NULL;
  return st;
}

/* Weights shared by N instances must exist once: free the graph's copy of
 * every constant the backend packed for itself (unless the caller keeps
 * them), and count what stays. */
static void release_packed_constants(zn_model *m, bool keep) {
  if (!m->backend->constant_releasable) return;
  zn_graph *g = m->graph;
  for (int v = 0; v < g->num_values; v++) {
    zn_value *val = &g->values[v];
    if (!val->data) continue;
    if (keep || !m->backend->constant_releasable(m->compiled, v)) {
      m->retained_bytes += val->data_bytes;
      continue;
    }
    m->released_bytes += val->data_bytes;
    zn_free_aligned(val->data);
    val->data = NULL;
  }
  if (m->released_bytes) {
    zn_log_info("released %zu bytes of graph weights packed by backend %s", m->released_bytes, m->backend_name);
    /* or RSS still counts the graph's weights */
    zn_runtime_trim_heap();
  }
}

/* Takes ownership of g in every case. */
static zn_status finish(zn_graph *g, const zn_model_options *opts, const char *what, zn_model **out) {
  zn_model_options defaults = zn_model_options_default();
  if (!opts) opts = &defaults;
  zn_model *m = zn_calloc(1, sizeof(zn_model));
  if (!m) {
    zn_graph_destroy(g);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load model %s: out of memory", what);
  }
  m->graph = g;
  m->precision = opts->precision;
  zn_status st = zn_graph_infer_shapes(g);
  if (st == ZN_OK && !opts->disable_passes) st = zn_graph_optimize(g);
  if (st != ZN_OK) goto fail;

  if ((st = choose_backend(m, opts)) != ZN_OK) goto fail;
  release_packed_constants(m, opts->keep_graph_weights != 0);

  m->inputs = zn_calloc((size_t)g->num_inputs + 1, sizeof(zn_tensor_info));
  m->outputs = zn_calloc((size_t)g->num_outputs + 1, sizeof(zn_tensor_info));
  if (!m->inputs || !m->outputs) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to load model %s: out of memory", what);
    goto fail;
  }
  for (int i = 0; i < g->num_inputs; i++) fill_info(g, g->inputs[i], &m->inputs[i]);
  for (int i = 0; i < g->num_outputs; i++) fill_info(g, g->outputs[i], &m->outputs[i]);
  m->macs_per_image = zn_graph_macs_per_image(g);
  zn_log_info("model %s compiled for backend %s", what, m->backend_name);
  *out = m;
  return ZN_OK;
fail:
  zn_error_prefix(st, "failed to load model %s: ", what);
  zn_model_destroy(m);
  return st;
}

ZN_PUBLIC zn_status zn_model_load_file(const char *path, const zn_model_options *opts, zn_model **out) {
  if (!out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load model: model_out is NULL");
  *out = NULL;
  if (!path) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load model: path is NULL");
  zn_onnx_import_options io = {.max_bytes = opts ? opts->max_model_bytes : 0};
  zn_graph *g = NULL;
  zn_status st = zn_onnx_import_file(path, &io, &g);
  if (st != ZN_OK) return st;
  int64_t params = zn_graph_num_params(g);
  st = finish(g, opts, path, out);
  if (st == ZN_OK) (*out)->num_params = params;
  return st;
}

ZN_PUBLIC zn_status zn_model_load_memory(const void *data, size_t size, const char *base_dir,
                                         const zn_model_options *opts, zn_model **out) {
  if (!out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load model: model_out is NULL");
  *out = NULL;
  if (!data && size) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load model: data is NULL");
  zn_onnx_import_options io = {.max_bytes = opts ? opts->max_model_bytes : 0};
  zn_graph *g = NULL;
  zn_status st = zn_onnx_import_memory(data, size, base_dir, &io, &g);
  if (st != ZN_OK) return st;
  int64_t params = zn_graph_num_params(g);
  st = finish(g, opts, "(memory)", out);
  if (st == ZN_OK) (*out)->num_params = params;
  return st;
}

ZN_PUBLIC zn_status zn_model_from_zoo(const char *name, uint64_t seed, const zn_model_options *opts, zn_model **out) {
  if (!out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to build zoo model: model_out is NULL");
  *out = NULL;
  if (!name) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to build zoo model: name is NULL");
  zn_graph *g = NULL;
  ZN_TRY(zn_zoo_build(name, seed, &g));
  int64_t params = zn_graph_num_params(g);
  /* Random He-normal weights with default BN statistics blow up or vanish
   * (PITFALLS.md): calibrate the running statistics on one seeded batch. */
  zn_status st = zn_graph_infer_shapes(g);
  if (st == ZN_OK) st = zn_ref_calibrate_batch_norm(g, 1, seed ^ 0x5EEDCA11B4A7E5ull);
  if (st != ZN_OK) {
    zn_graph_destroy(g);
    return zn_error_prefix(st, "failed to build zoo model '%s': ", name);
  }
  st = finish(g, opts, name, out);
  if (st == ZN_OK) (*out)->num_params = params;
  return st;
}

ZN_PUBLIC size_t zn_model_num_inputs(const zn_model *m) { return m ? (size_t)m->graph->num_inputs : 0; }
ZN_PUBLIC size_t zn_model_num_outputs(const zn_model *m) { return m ? (size_t)m->graph->num_outputs : 0; }

ZN_PUBLIC zn_status zn_model_input_info(const zn_model *m, size_t i, zn_tensor_info *info) {
  if (!m || !info || i >= (size_t)m->graph->num_inputs)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to get input info: index %zu out of range", i);
  *info = m->inputs[i];
  return ZN_OK;
}

ZN_PUBLIC zn_status zn_model_output_info(const zn_model *m, size_t i, zn_tensor_info *info) {
  if (!m || !info || i >= (size_t)m->graph->num_outputs)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to get output info: index %zu out of range", i);
  *info = m->outputs[i];
  return ZN_OK;
}

ZN_PUBLIC const char *zn_model_backend(const zn_model *m) { return m ? m->backend_name : ""; }
ZN_PUBLIC int64_t zn_model_macs_per_image(const zn_model *m) { return m ? m->macs_per_image : 0; }
ZN_PUBLIC int64_t zn_model_num_params(const zn_model *m) { return m ? m->num_params : 0; }
/* What the backend packed plus the graph constants still held beside it, so
 * that the figure is every byte of weights the model keeps. */
ZN_PUBLIC size_t zn_model_weight_bytes(const zn_model *m) {
  if (!m) return 0;
  return (m->backend->weight_bytes ? m->backend->weight_bytes(m->compiled) : 0) + m->retained_bytes;
}

ZN_PUBLIC zn_status zn_model_export_onnx(const zn_model *m, const char *path) {
  if (!m || !path) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to export model: NULL argument");
  if (m->released_bytes)
    return zn_error(ZN_ERR_INVALID_STATE,
                    "failed to export model: backend '%s' took over its weights; load it with keep_graph_weights = 1 "
                    "or on the ref backend to export", m->backend_name);
  return zn_onnx_export_file(m->graph, path);
}

/* Appends printf-style text to buf at *used (NUL-terminated, truncated at
 * size); *used counts the full length, as snprintf does. */
static void put(char *buf, size_t size, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *used, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *dst = *used < size ? buf + *used : NULL;
  int n = vsnprintf(dst, dst ? size - *used : 0, fmt, ap);
  va_end(ap);
  if (n > 0) *used += (size_t)n;
}

ZN_PUBLIC size_t zn_model_describe(const zn_model *m, char *buf, size_t size) {
  size_t used = 0;
  if (size) buf[0] = '\0';
  if (!m) return 0;
  const zn_graph *g = m->graph;
  int counts[ZN_OP_COUNT] = {0};
  for (int i = 0; i < g->num_nodes; i++) counts[g->nodes[i].op]++;
  put(buf, size, &used, "graph: %s (opset %lld)%s\n", g->name ? g->name : "", (long long)g->opset,
      g->static_batch ? ", batch fixed to 1 (the graph's shapes do not carry a batch dimension)" : "");
  put(buf, size, &used, "nodes: %d, values: %d\n", g->num_nodes, g->num_values);
  put(buf, size, &used, "params: %lld, MACs/image: %lld (%.3f GMACs, %.3f GFLOPs)\n", (long long)m->num_params,
      (long long)m->macs_per_image, m->macs_per_image / 1e9, 2 * m->macs_per_image / 1e9);
  put(buf, size, &used, "ops:");
  for (int k = 0; k < ZN_OP_COUNT; k++)
    if (counts[k]) put(buf, size, &used, " %s=%d", zn_op_name((zn_op)k), counts[k]);
  put(buf, size, &used, "\n");
  char shape[128];
  for (int i = 0; i < g->num_inputs; i++) {
    const zn_value *v = &g->values[g->inputs[i]];
    put(buf, size, &used, "input  %s: %s %s\n", v->name, zn_dtype_name(v->dtype), zn_value_shape_str(v, shape, sizeof shape));
  }
  for (int i = 0; i < g->num_outputs; i++) {
    const zn_value *v = &g->values[g->outputs[i]];
    put(buf, size, &used, "output %s: %s %s\n", v->name, zn_dtype_name(v->dtype), zn_value_shape_str(v, shape, sizeof shape));
  }
  put(buf, size, &used, "layers:\n");
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    const zn_value *o = &g->values[n->outputs[0]];
    const char *act = "";
    if (n->op == ZN_OP_CONV && n->attrs.conv.act.kind != ZN_ACT_NONE) act = "+act";
    if (n->op == ZN_OP_GEMM && n->attrs.gemm.act.kind != ZN_ACT_NONE) act = "+act";
    const char *res = n->op == ZN_OP_CONV && n->num_inputs > 3 && zn_node_input(n, 3) >= 0 ? "+residual" : "";
    put(buf, size, &used, "  %-40s %-18s%s%s -> %s\n", n->name, zn_op_name(n->op), act, res,
        zn_value_shape_str(o, shape, sizeof shape));
  }
  put(buf, size, &used, "backend: %s, precision %s, packed weights %zu bytes\n", m->backend_name,
      m->precision == ZN_PRECISION_BF16 ? "bf16" : "fp32", zn_model_weight_bytes(m));
  if (m->backend->describe) {
    size_t n = m->backend->describe(m->compiled, used < size ? buf + used : NULL, used < size ? size - used : 0);
    used += n;
  }
  return used;
}
