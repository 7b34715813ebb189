/* Graph construction and bookkeeping: values, nodes, name lookup, clone,
 * shape helpers. Analyses and rewrites live in shape.c, verify.c, passes.c. */
#include "graph/graph.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"

static const char *const op_names[] = {
#define ZN_OP(e, onnx, attrs) onnx,
#include "graph/ops.def"
#undef ZN_OP
};

const char *zn_op_name(zn_op op) { return (unsigned)op < ZN_OP_COUNT ? op_names[op] : "?"; }

bool zn_op_from_onnx(const char *op_type, zn_op *op_out) {
  for (int i = 0; i < ZN_OP_COUNT; i++)
    if (strcmp(op_names[i], op_type) == 0) { *op_out = (zn_op)i; return true; }
  return false;
}

zn_status zn_graph_create(zn_graph **out) {
  *out = zn_calloc(1, sizeof(zn_graph));
  if (!*out) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create graph: out of memory");
  return ZN_OK;
}

void zn_graph_destroy(zn_graph *g) {
  if (!g) return;
  for (int i = 0; i < g->num_values; i++) {
    zn_free(g->values[i].name);
    zn_free_aligned(g->values[i].data);
  }
  for (int i = 0; i < g->num_nodes; i++) {
    zn_free(g->nodes[i].name);
    zn_free(g->nodes[i].inputs_ext);
  }
  zn_free(g->values);
  zn_free(g->nodes);
  zn_free(g->inputs);
  zn_free(g->outputs);
  zn_free(g->name);
  zn_free(g);
}

static zn_status grow(void **arr, int *cap, int need, size_t elem) {
  if (need <= *cap) return ZN_OK;
  int ncap = *cap ? *cap * 2 : 64;
  while (ncap < need) ncap *= 2;
  void *p = zn_realloc(*arr, (size_t)ncap * elem);
  if (!p) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to grow graph: out of memory");
  memset((char *)p + (size_t)*cap * elem, 0, (size_t)(ncap - *cap) * elem);
  *arr = p;
  *cap = ncap;
  return ZN_OK;
}

zn_status zn_graph_add_value(zn_graph *g, const char *name, zn_dtype dtype, int *id_out) {
  ZN_TRY(grow((void **)&g->values, &g->cap_values, g->num_values + 1, sizeof(zn_value)));
  zn_value *v = &g->values[g->num_values];
  memset(v, 0, sizeof *v);
  v->name = zn_strdup(name ? name : "");
  if (!v->name) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add value: out of memory");
  v->dtype = dtype;
  v->num_dims = -1;
  v->batch_axis = -1;
  v->producer = -1;
  *id_out = g->num_values++;
  return ZN_OK;
}

zn_status zn_graph_add_const_owned(zn_graph *g, const char *name, zn_dtype dtype, int num_dims,
                                   const int64_t *dims, void *data, size_t data_bytes, int *id_out) {
  if (num_dims < 0 || num_dims > ZN_MAX_DIMS) {
    zn_free_aligned(data);
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to add constant '%s': rank %d out of range", name, num_dims);
  }
  int id;
  zn_status st = zn_graph_add_value(g, name, dtype, &id);
  if (st != ZN_OK) { zn_free_aligned(data); return st; }
  zn_value *v = &g->values[id];
  v->num_dims = num_dims;
  for (int i = 0; i < num_dims; i++) v->dims[i] = dims[i];
  v->data = data;
  v->data_bytes = data_bytes;
  *id_out = id;
  return ZN_OK;
}

zn_status zn_graph_add_const(zn_graph *g, const char *name, zn_dtype dtype, int num_dims, const int64_t *dims,
                             const void *data, size_t data_bytes, int *id_out) {
  void *copy = zn_alloc_aligned(data_bytes);
  if (!copy) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add constant '%s': %zu bytes", name, data_bytes);
  if (data_bytes) memcpy(copy, data, data_bytes);
  return zn_graph_add_const_owned(g, name, dtype, num_dims, dims, copy, data_bytes, id_out);
}

zn_status zn_graph_add_node(zn_graph *g, zn_op op, const char *name, int num_inputs, const int *inputs,
                            int num_outputs, const int *outputs, int *index_out) {
  if (num_outputs < 1 || num_outputs > ZN_MAX_NODE_OUTPUTS || num_inputs < 0)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to add node '%s' (%s): %d outputs", name ? name : "",
                    zn_op_name(op), num_outputs);
  ZN_TRY(grow((void **)&g->nodes, &g->cap_nodes, g->num_nodes + 1, sizeof(zn_node)));
  zn_node *n = &g->nodes[g->num_nodes];
  memset(n, 0, sizeof *n);
  n->op = op;
  n->name = zn_strdup(name ? name : "");
  if (!n->name) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add node: out of memory");
  n->num_inputs = num_inputs;
  if (num_inputs > ZN_MAX_NODE_INPUTS) {
    n->inputs_ext = zn_malloc((size_t)num_inputs * sizeof(int));
    if (!n->inputs_ext) { zn_free(n->name); return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to add node: out of memory"); }
    memcpy(n->inputs_ext, inputs, (size_t)num_inputs * sizeof(int));
  } else if (num_inputs) {
    memcpy(n->inputs, inputs, (size_t)num_inputs * sizeof(int));
  }
  n->num_outputs = num_outputs;
  memcpy(n->outputs, outputs, (size_t)num_outputs * sizeof(int));
  int idx = g->num_nodes++;
  for (int k = 0; k < num_outputs; k++)
    if (outputs[k] >= 0 && outputs[k] < g->num_values) g->values[outputs[k]].producer = idx;
  if (index_out) *index_out = idx;
  return ZN_OK;
}

int zn_graph_find_value(const zn_graph *g, const char *name) {
  for (int i = g->num_values - 1; i >= 0; i--)
    if (strcmp(g->values[i].name, name) == 0) return i;
  return -1;
}

static zn_status append_id(int **arr, int *count, int id) {
  int *p = zn_realloc(*arr, (size_t)(*count + 1) * sizeof(int));
  if (!p) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to mark graph input/output: out of memory");
  p[(*count)++] = id;
  *arr = p;
  return ZN_OK;
}

zn_status zn_graph_mark_input(zn_graph *g, int value) {
  g->values[value].is_input = true;
  return append_id(&g->inputs, &g->num_inputs, value);
}

zn_status zn_graph_mark_output(zn_graph *g, int value) {
  g->values[value].is_output = true;
  return append_id(&g->outputs, &g->num_outputs, value);
}

zn_status zn_graph_clone(const zn_graph *g, zn_graph **out) {
  *out = NULL;
  zn_graph *c;
  ZN_TRY(zn_graph_create(&c));
  c->opset = g->opset;
  c->static_batch = g->static_batch;
  if (g->name && !(c->name = zn_strdup(g->name))) goto oom;
  for (int i = 0; i < g->num_values; i++) {
    const zn_value *v = &g->values[i];
    int id;
    if (zn_graph_add_value(c, v->name, v->dtype, &id) != ZN_OK) goto oom;
    zn_value *w = &c->values[id];
    char *name = w->name;
    *w = *v;
    w->name = name;
    w->data = NULL;
    if (v->data) {
      if (!(w->data = zn_alloc_aligned(v->data_bytes))) goto oom;
      memcpy(w->data, v->data, v->data_bytes);
    }
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    int ins[ZN_MAX_NODE_INPUTS];
    const int *src = n->inputs_ext ? n->inputs_ext : n->inputs;
    if (!n->inputs_ext) memcpy(ins, n->inputs, sizeof ins), src = ins;
    int idx;
    if (zn_graph_add_node(c, n->op, n->name, n->num_inputs, src, n->num_outputs, n->outputs, &idx) != ZN_OK) goto oom;
    c->nodes[idx].attrs = n->attrs;
  }
  for (int i = 0; i < g->num_values; i++) c->values[i].producer = g->values[i].producer;
  for (int i = 0; i < g->num_inputs; i++)
    if (append_id(&c->inputs, &c->num_inputs, g->inputs[i]) != ZN_OK) goto oom;
  for (int i = 0; i < g->num_outputs; i++)
    if (append_id(&c->outputs, &c->num_outputs, g->outputs[i]) != ZN_OK) goto oom;
  *out = c;
  return ZN_OK;
oom:
  zn_graph_destroy(c);
  return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to clone graph: out of memory");
}

bool zn_value_resolve_dims(const zn_value *v, int64_t batch, int64_t dims_out[ZN_MAX_DIMS]) {
  if (v->num_dims < 0) return false;
  for (int i = 0; i < v->num_dims; i++) {
    int64_t d = v->dims[i];
    if (i == v->batch_axis && __builtin_mul_overflow(d, batch, &d)) return false;
    if (d < 0) return false;
    dims_out[i] = d;
  }
  return true;
}

bool zn_value_num_elements(const zn_value *v, int64_t batch, int64_t *count_out) {
  int64_t dims[ZN_MAX_DIMS];
  if (!zn_value_resolve_dims(v, batch, dims)) return false;
  int64_t n = 1;
  for (int i = 0; i < v->num_dims; i++)
    if (__builtin_mul_overflow(n, dims[i], &n)) return false;
  *count_out = n;
  return true;
}

const char *zn_value_shape_str(const zn_value *v, char *buf, size_t buf_size) {
  if (v->num_dims < 0) { snprintf(buf, buf_size, "[?]"); return buf; }
  size_t used = 0;
  int w = snprintf(buf, buf_size, "[");
  used = w > 0 ? (size_t)w : 0;
  for (int i = 0; i < v->num_dims && used < buf_size; i++) {
    const char *sep = i ? "," : "";
    if (i == v->batch_axis)
      w = v->dims[i] == 1 ? snprintf(buf + used, buf_size - used, "%sN", sep)
                          : snprintf(buf + used, buf_size - used, "%s%lldN", sep, (long long)v->dims[i]);
    else
      w = snprintf(buf + used, buf_size - used, "%s%lld", sep, (long long)v->dims[i]);
    if (w > 0) used += (size_t)w;
  }
  if (used < buf_size) snprintf(buf + used, buf_size - used, "]");
  return buf;
}

bool zn_gather_one_index(const zn_graph *g, const zn_node *n, int *axis_out, int64_t *index_out) {
  if (n->op != ZN_OP_GATHER || n->num_inputs != 2 || n->inputs[0] < 0 || n->inputs[1] < 0) return false;
  const zn_value *x = &g->values[n->inputs[0]], *iv = &g->values[n->inputs[1]];
  const int r = x->num_dims;
  int64_t count, idx;
  if (r < 1 || !iv->data || iv->batch_axis >= 0 || !zn_value_num_elements(iv, 1, &count) || count != 1) return false;
  if (iv->dtype == ZN_DTYPE_INT64 && iv->data_bytes >= sizeof(int64_t)) idx = *(const int64_t *)iv->data;
  else if (iv->dtype == ZN_DTYPE_INT32 && iv->data_bytes >= sizeof(int32_t)) idx = *(const int32_t *)iv->data;
  else return false;
  const int64_t a = n->attrs.axis.axis < 0 ? n->attrs.axis.axis + r : n->attrs.axis.axis;
  if (a < 0 || a >= r || a == x->batch_axis) return false;
  if (idx < 0) idx += x->dims[a];
  if (idx < 0 || idx >= x->dims[a]) return false;
  *axis_out = (int)a;
  *index_out = idx;
  return true;
}

int zn_graph_sole_reader(const zn_graph *g, int v) {
  if (v < 0 || v >= g->num_values || g->values[v].is_output) return -1;
  int reader = -1;
  for (int i = 0; i < g->num_nodes; i++)
    for (int k = 0; k < g->nodes[i].num_inputs; k++)
      if (zn_node_input(&g->nodes[i], k) == v) {
        if (reader >= 0) return -1;
        reader = i;
      }
  return reader;
}

static bool same_dims(const zn_value *a, const zn_value *b) {
  if (a->num_dims != b->num_dims || a->batch_axis != b->batch_axis) return false;
  for (int i = 0; i < a->num_dims; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

int64_t zn_graph_channel_shuffle(const zn_graph *g, int i, int *transpose_out, int *last_out) {
  static const int64_t perm[5] = {0, 2, 1, 3, 4};
  const zn_node *first = &g->nodes[i];
  if (first->op != ZN_OP_RESHAPE || first->num_inputs < 1 || zn_node_input(first, 0) < 0) return 0;
  const zn_value *x = &g->values[zn_node_input(first, 0)], *m = &g->values[first->outputs[0]];
  if (x->num_dims != 4 || x->batch_axis != 0 || m->num_dims != 5 || m->batch_axis != 0) return 0;
  const int64_t groups = m->dims[1];
  if (m->dims[0] != x->dims[0] || groups < 1 || groups * m->dims[2] != x->dims[1] || m->dims[3] != x->dims[2] ||
      m->dims[4] != x->dims[3])
    return 0;
  const int t = zn_graph_sole_reader(g, first->outputs[0]);
  if (t < 0 || g->nodes[t].op != ZN_OP_TRANSPOSE || zn_node_input(&g->nodes[t], 0) != first->outputs[0] ||
      g->nodes[t].attrs.transpose.num_perm != 5 || memcmp(g->nodes[t].attrs.transpose.perm, perm, sizeof perm) != 0)
    return 0;
  const int r = zn_graph_sole_reader(g, g->nodes[t].outputs[0]);
  if (r < 0 || g->nodes[r].op != ZN_OP_RESHAPE || zn_node_input(&g->nodes[r], 0) != g->nodes[t].outputs[0] ||
      !same_dims(x, &g->values[g->nodes[r].outputs[0]]))
    return 0;
  *transpose_out = t, *last_out = r;
  return groups;
}

bool zn_range_length(zn_dtype t, int64_t start, int64_t limit, int64_t delta, double fstart, double flimit,
                     double fdelta, int64_t *len_out) {
  *len_out = 0;
  if (t == ZN_DTYPE_FLOAT32) {
    if (fdelta == 0.0 || !isfinite(fstart) || !isfinite(flimit) || !isfinite(fdelta)) return false;
    const double q = ceil((flimit - fstart) / fdelta);
    if (!(q <= (double)ZN_MAX_MADE_BYTES)) return false;
    *len_out = q > 0 ? (int64_t)q : 0;
    return true;
  }
  int64_t diff;
  if (delta == 0 || __builtin_sub_overflow(limit, start, &diff) || (diff == INT64_MIN && delta == -1)) return false;
  if (diff != 0 && (diff > 0) == (delta > 0)) *len_out = diff / delta + (diff % delta != 0);
  return true;
}
