/* Structural checks on the IR and the topological sort (Kahn). The verifier
 * runs before shape inference, so it only checks what needs no shapes:
 * defined inputs, single producers, arity per op and attribute ranges;
 * shape-dependent checks (group divides channels, ...) live in shape.c. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "graph/graph.h"

/* ---- topological sort ---- */

/* Follow producers backwards among the still-unsorted nodes until a node
 * repeats: that node lies on a cycle (a node merely downstream of a cycle
 * never repeats). */
static int node_on_cycle(const zn_graph *g, const int *indeg, int start) {
  int *seen = zn_calloc((size_t)g->num_nodes, sizeof(int));
  if (!seen) return start;
  int cur = start;
  while (!seen[cur]) {
    seen[cur] = 1;
    const zn_node *n = &g->nodes[cur];
    int next = -1;
    for (int k = 0; k < n->num_inputs && next < 0; k++) {
      int v = zn_node_input(n, k);
      if (v < 0 || v >= g->num_values) continue;
      int p = g->values[v].producer;
      if (p >= 0 && p < g->num_nodes && indeg[p] > 0) next = p;
    }
    if (next < 0) break;
    cur = next;
  }
  zn_free(seen);
  return cur;
}

zn_status zn_graph_toposort(zn_graph *g) {
  int nn = g->num_nodes;
  if (nn == 0) return ZN_OK;
  zn_status st = ZN_OK;
  int *indeg = zn_calloc((size_t)nn, sizeof(int));
  int *order = zn_malloc((size_t)nn * sizeof(int));
  int *cons_start = zn_calloc((size_t)g->num_values + 1, sizeof(int));
  int *cons = NULL;
  zn_node *sorted = NULL;
  if (!indeg || !order || !cons_start) goto oom;
  /* Consumer lists (one entry per input occurrence), CSR style. */
  int total = 0;
  for (int i = 0; i < nn; i++) {
    const zn_node *n = &g->nodes[i];
    for (int k = 0; k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      if (v < 0 || v >= g->num_values) continue;
      int p = g->values[v].producer;
      if (p < 0 || p >= nn) continue;
      indeg[i]++;
      cons_start[v + 1]++;
      total++;
    }
  }
  for (int v = 0; v < g->num_values; v++) cons_start[v + 1] += cons_start[v];
  cons = zn_malloc((size_t)(total ? total : 1) * sizeof(int));
  int *fill = zn_calloc((size_t)g->num_values + 1, sizeof(int));
  if (!cons || !fill) { zn_free(fill); goto oom; }
  for (int i = 0; i < nn; i++) {
    const zn_node *n = &g->nodes[i];
    for (int k = 0; k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      if (v < 0 || v >= g->num_values) continue;
      int p = g->values[v].producer;
      if (p < 0 || p >= nn) continue;
      cons[cons_start[v] + fill[v]++] = i;
    }
  }
  zn_free(fill);
  /* Kahn with a FIFO seeded in the original order: keeps the order stable
   * for graphs that are already sorted. */
  int head = 0, tail = 0;
  for (int i = 0; i < nn; i++)
    if (indeg[i] == 0) order[tail++] = i;
  while (head < tail) {
    int i = order[head++];
    const zn_node *n = &g->nodes[i];
    for (int o = 0; o < n->num_outputs; o++) {
      int v = n->outputs[o];
      if (v < 0 || v >= g->num_values || g->values[v].producer != i) continue;
      for (int c = cons_start[v]; c < cons_start[v + 1]; c++)
        if (--indeg[cons[c]] == 0) order[tail++] = cons[c];
    }
  }
  if (tail < nn) {
    int start = -1;
    for (int i = 0; i < nn && start < 0; i++)
      if (indeg[i] > 0) start = i;
    int on = node_on_cycle(g, indeg, start);
    st = zn_error(ZN_ERR_INVALID_MODEL, "failed to sort graph: node '%s' (%s) is on a cycle", g->nodes[on].name,
                  zn_op_name(g->nodes[on].op));
    goto done;
  }
  sorted = zn_malloc((size_t)g->cap_nodes * sizeof(zn_node));
  if (!sorted) goto oom;
  for (int i = 0; i < nn; i++) sorted[i] = g->nodes[order[i]];
  if (g->cap_nodes > nn) memset(sorted + nn, 0, (size_t)(g->cap_nodes - nn) * sizeof(zn_node));
  zn_free(g->nodes);
  g->nodes = sorted;
  for (int v = 0; v < g->num_values; v++) g->values[v].producer = -1;
  for (int i = 0; i < nn; i++)
    for (int o = 0; o < g->nodes[i].num_outputs; o++) {
      int v = g->nodes[i].outputs[o];
      if (v >= 0 && v < g->num_values) g->values[v].producer = i;
    }
  goto done;
oom:
  st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to sort graph: out of memory");
done:
  zn_free(indeg);
  zn_free(order);
  zn_free(cons_start);
  zn_free(cons);
  return st;
}

/* ---- verification ---- */

typedef struct arity { int8_t min_in, max_in, min_out, max_out; } arity;
#define VARIADIC 127

static arity op_arity(zn_op op) {
  switch (op) {
  case ZN_OP_CONV: return (arity){2, 4, 1, 1};
  case ZN_OP_GEMM: return (arity){2, 3, 1, 1};
  case ZN_OP_MATMUL: case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV:
  case ZN_OP_RESHAPE: case ZN_OP_GATHER: case ZN_OP_POW: case ZN_OP_EQUAL: case ZN_OP_EXPAND: case ZN_OP_MOD:
    return (arity){2, 2, 1, 1};
  case ZN_OP_WHERE: case ZN_OP_RANGE: case ZN_OP_SCATTER_ND: return (arity){3, 3, 1, 1};
  case ZN_OP_LAYER_NORM: return (arity){2, 3, 1, 3};
  case ZN_OP_SUM: case ZN_OP_CONCAT: return (arity){1, VARIADIC, 1, 1};
  case ZN_OP_CLIP: return (arity){1, 3, 1, 1};  /* min/max already in attrs; inputs may remain */
  case ZN_OP_MAX_POOL: return (arity){1, 1, 1, 2};
  case ZN_OP_BATCH_NORM: return (arity){5, 5, 1, 1};
  case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: case ZN_OP_REDUCE_MEAN:
    return (arity){1, 2, 1, 1};  /* axes input (opset 13/18) already in attrs */
  case ZN_OP_PAD: return (arity){1, 3, 1, 1};
  case ZN_OP_SLICE: return (arity){3, 5, 1, 1};
  default: return (arity){1, 1, 1, 1};
  }
}

/* Positions below this must be present (not ZN_NO_VALUE). */
static int required_inputs(zn_op op) {
  switch (op) {
  case ZN_OP_CONV: case ZN_OP_GEMM: case ZN_OP_MATMUL: case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL:
  case ZN_OP_DIV: case ZN_OP_RESHAPE: case ZN_OP_GATHER: case ZN_OP_POW: case ZN_OP_LAYER_NORM: case ZN_OP_EQUAL:
  case ZN_OP_EXPAND: case ZN_OP_MOD:
    return 2;
  case ZN_OP_WHERE: case ZN_OP_RANGE: case ZN_OP_SCATTER_ND: return 3;
  case ZN_OP_BATCH_NORM: return 5;
  case ZN_OP_SLICE: return 3;
  case ZN_OP_SUM: case ZN_OP_CONCAT: return VARIADIC;
  default: return 1;
  }
}

static zn_status bad_node(const zn_node *n, const char *fmt, const char *detail, long long a, long long b) {
  char why[256];
  snprintf(why, sizeof why, fmt, detail, a, b);
  return zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): %s", n->name, zn_op_name(n->op), why);
}

static zn_status check_window(const zn_node *n, int num_spatial, const int64_t *kernel, const int64_t *stride,
                              const int64_t *dilation, const int64_t *pad_begin, const int64_t *pad_end,
                              zn_auto_pad auto_pad, bool kernel_may_be_zero) {
  if (num_spatial < 1 || num_spatial > ZN_MAX_SPATIAL)
    return bad_node(n, "%s%lld spatial dims (1..%lld supported)", "", num_spatial, ZN_MAX_SPATIAL);
  for (int i = 0; i < num_spatial; i++) {
    if (kernel[i] < 0 || (kernel[i] == 0 && !kernel_may_be_zero))
      return bad_node(n, "%skernel[%lld] = %lld must be > 0", "", i, (long long)kernel[i]);
    if (stride[i] <= 0) return bad_node(n, "%sstride[%lld] = %lld must be > 0", "", i, (long long)stride[i]);
    if (dilation[i] <= 0) return bad_node(n, "%sdilation[%lld] = %lld must be > 0", "", i, (long long)dilation[i]);
    if (pad_begin[i] < 0 || pad_end[i] < 0)
      return bad_node(n, "%spads of axis %lld must be >= 0 (got %lld)", "", i,
                      (long long)ZN_MIN(pad_begin[i], pad_end[i]));
  }
  if ((unsigned)auto_pad > ZN_AUTO_PAD_VALID) return bad_node(n, "%sauto_pad %lld unknown%lld", "", auto_pad, 0);
  return ZN_OK;
}

static zn_status check_attrs(const zn_graph *g, const zn_node *n) {
  (void)g;
  switch (n->op) {
  case ZN_OP_CONV: {
    const zn_conv_attrs *a = &n->attrs.conv;
    ZN_TRY(check_window(n, a->num_spatial, a->kernel, a->stride, a->dilation, a->pad_begin, a->pad_end, a->auto_pad,
                        true));
    if (a->group <= 0) return bad_node(n, "%sgroup = %lld must be > 0%lld", "", (long long)a->group, 0);
    if ((unsigned)a->act.kind > ZN_ACT_LAST) return bad_node(n, "%sunknown fused activation %lld%lld", "", a->act.kind, 0);
    return ZN_OK;
  }
  case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL: {
    const zn_pool_attrs *a = &n->attrs.pool;
    return check_window(n, a->num_spatial, a->kernel, a->stride, a->dilation, a->pad_begin, a->pad_end, a->auto_pad,
                        false);
  }
  case ZN_OP_GEMM:
    if ((unsigned)n->attrs.gemm.act.kind > ZN_ACT_LAST)
      return bad_node(n, "%sunknown fused activation %lld%lld", "", n->attrs.gemm.act.kind, 0);
    return ZN_OK;
  case ZN_OP_LRN:
    if (n->attrs.lrn.size <= 0) return bad_node(n, "%ssize = %lld must be > 0%lld", "", (long long)n->attrs.lrn.size, 0);
    return ZN_OK;
  case ZN_OP_LAYER_NORM:
    if (!(n->attrs.layer_norm.epsilon >= 0))
      return bad_node(n, "%sepsilon must be >= 0%lld%lld", "", 0, 0);
    return ZN_OK;
  case ZN_OP_BATCH_NORM:
    if (!(n->attrs.batch_norm.epsilon >= 0))
      return bad_node(n, "%sepsilon must be >= 0%lld%lld", "", 0, 0);
    return ZN_OK;
  case ZN_OP_TRANSPOSE: {
    const zn_transpose_attrs *a = &n->attrs.transpose;
    if (a->num_perm < 0 || a->num_perm > ZN_MAX_DIMS)
      return bad_node(n, "%sperm has %lld entries (max %lld)", "", a->num_perm, ZN_MAX_DIMS);
    uint32_t seen = 0;
    for (int i = 0; i < a->num_perm; i++) {
      if (a->perm[i] < 0 || a->perm[i] >= a->num_perm || (seen >> a->perm[i] & 1))
        return bad_node(n, "%sperm[%lld] = %lld is not a permutation", "", i, (long long)a->perm[i]);
      seen |= 1u << a->perm[i];
    }
    return ZN_OK;
  }
  case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE:
    if (n->attrs.axes.num_axes < 0 || n->attrs.axes.num_axes > ZN_MAX_DIMS)
      return bad_node(n, "%s%lld axes (max %lld)", "", n->attrs.axes.num_axes, ZN_MAX_DIMS);
    return ZN_OK;
  case ZN_OP_REDUCE_MEAN:
    if (n->attrs.reduce.num_axes < 0 || n->attrs.reduce.num_axes > ZN_MAX_DIMS)
      return bad_node(n, "%s%lld axes (max %lld)", "", n->attrs.reduce.num_axes, ZN_MAX_DIMS);
    return ZN_OK;
  case ZN_OP_PAD: {
    const zn_pad_attrs *a = &n->attrs.pad;
    if ((unsigned)a->mode > ZN_PAD_EDGE) return bad_node(n, "%sunknown mode %lld%lld", "", a->mode, 0);
    if (a->num_pads < 0 || a->num_pads > 2 * ZN_MAX_DIMS || a->num_pads % 2)
      return bad_node(n, "%s%lld pads (want 2 * rank)%lld", "", a->num_pads, 0);
    for (int i = 0; i < a->num_pads; i++)
      if (a->pads[i] < 0)
        return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to verify node '%s' (Pad): negative pads[%d] = %lld", n->name,
                        i, (long long)a->pads[i]);
    return ZN_OK;
  }
  case ZN_OP_CAST: {
    zn_dtype to = n->attrs.cast.to;
    if (to != ZN_DTYPE_FLOAT32 && to != ZN_DTYPE_INT64 && to != ZN_DTYPE_INT32 && to != ZN_DTYPE_UINT8 &&
        to != ZN_DTYPE_INT8 && to != ZN_DTYPE_BOOL && to != ZN_DTYPE_FLOAT16 && to != ZN_DTYPE_FLOAT64 &&
        to != ZN_DTYPE_BFLOAT16)
      return bad_node(n, "%sunknown target dtype %lld%lld", "", to, 0);
    return ZN_OK;
  }
  case ZN_OP_CONSTANT_OF_SHAPE: {
    const size_t es = zn_dtype_size(n->attrs.fill.dtype);
    if (es == 0 || es > sizeof n->attrs.fill.value)
      return bad_node(n, "%sunknown value dtype %lld%lld", "", n->attrs.fill.dtype, 0);
    return ZN_OK;
  }
  case ZN_OP_SCATTER_ND:
    if ((unsigned)n->attrs.scatter.reduction > ZN_SCATTER_MUL)
      return bad_node(n, "%sunknown reduction %lld%lld", "", n->attrs.scatter.reduction, 0);
    return ZN_OK;
  default: return ZN_OK;
  }
}

zn_status zn_graph_verify(const zn_graph *g) {
  zn_status st = ZN_OK;
  int *producer = zn_malloc(((size_t)g->num_values + 1) * sizeof(int));
  if (!producer) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to verify graph: out of memory");
  for (int v = 0; v < g->num_values; v++) producer[v] = -1;
  for (int i = 0; i < g->num_inputs; i++) {
    int v = g->inputs[i];
    if (v < 0 || v >= g->num_values) { st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify graph: input %d has bad id %d", i, v); goto done; }
    if (g->values[v].data) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify graph: input '%s' is also a constant", g->values[v].name);
      goto done;
    }
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if ((unsigned)n->op >= ZN_OP_COUNT) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s': unknown op %d", n->name, (int)n->op);
      goto done;
    }
    arity a = op_arity(n->op);
    if (n->num_inputs < a.min_in || n->num_inputs > a.max_in) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): %d inputs, expected %d..%d", n->name,
                    zn_op_name(n->op), n->num_inputs, a.min_in, a.max_in == VARIADIC ? 65535 : a.max_in);
      goto done;
    }
    if (n->num_outputs < a.min_out || n->num_outputs > a.max_out) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): %d outputs, expected %d..%d", n->name,
                    zn_op_name(n->op), n->num_outputs, a.min_out, a.max_out);
      goto done;
    }
    if (n->num_inputs > ZN_MAX_NODE_INPUTS && !n->inputs_ext) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): %d inputs without inputs_ext", n->name,
                    zn_op_name(n->op), n->num_inputs);
      goto done;
    }
    for (int o = 0; o < n->num_outputs; o++) {
      int v = n->outputs[o];
      if (v < 0 || v >= g->num_values) {
        st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): output %d has bad id %d", n->name,
                      zn_op_name(n->op), o, v);
        goto done;
      }
      const zn_value *val = &g->values[v];
      if (producer[v] >= 0) {
        st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify graph: value '%s' is produced by both '%s' and '%s'",
                      val->name, g->nodes[producer[v]].name, n->name);
        goto done;
      }
      if (val->is_input || val->data) {
        st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): it writes %s '%s'", n->name,
                      zn_op_name(n->op), val->is_input ? "graph input" : "constant", val->name);
        goto done;
      }
      producer[v] = i;
    }
    st = check_attrs(g, n);
    if (st != ZN_OK) goto done;
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    int req = required_inputs(n->op);
    for (int k = 0; k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      if (v == ZN_NO_VALUE) {
        if (k < req) {
          st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): required input %d is missing",
                        n->name, zn_op_name(n->op), k);
          goto done;
        }
        continue;
      }
      if (v < 0 || v >= g->num_values) {
        st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): input %d has bad id %d", n->name,
                      zn_op_name(n->op), k, v);
        goto done;
      }
      const zn_value *val = &g->values[v];
      if (!val->is_input && !val->data && producer[v] < 0) {
        st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify node '%s' (%s): input %d '%s' is not defined", n->name,
                      zn_op_name(n->op), k, val->name);
        goto done;
      }
    }
  }
  for (int i = 0; i < g->num_outputs; i++) {
    int v = g->outputs[i];
    if (v < 0 || v >= g->num_values) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify graph: output %d has bad id %d", i, v);
      goto done;
    }
    if (producer[v] < 0 && !g->values[v].is_input && !g->values[v].data) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify graph: output '%s' is not produced by any node",
                    g->values[v].name);
      goto done;
    }
  }
  if (g->num_outputs == 0) {
    st = zn_error(ZN_ERR_INVALID_MODEL, "failed to verify graph: it has no outputs");
    goto done;
  }
  /* A cycle: sort a copy of the order without touching the graph. */
  {
    zn_graph tmp = *g;
    zn_node *nodes = zn_malloc(((size_t)g->num_nodes + 1) * sizeof(zn_node));
    zn_value *vals = zn_malloc(((size_t)g->num_values + 1) * sizeof(zn_value));
    if (!nodes || !vals) {
      zn_free(nodes);
      zn_free(vals);
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to verify graph: out of memory");
      goto done;
    }
    if (g->num_nodes) memcpy(nodes, g->nodes, (size_t)g->num_nodes * sizeof(zn_node));
    if (g->num_values) memcpy(vals, g->values, (size_t)g->num_values * sizeof(zn_value));
    for (int v = 0; v < g->num_values; v++) vals[v].producer = producer[v];
    tmp.nodes = nodes;
    tmp.cap_nodes = g->num_nodes;
    tmp.values = vals;
    st = zn_graph_toposort(&tmp);
    zn_free(tmp.nodes);
    zn_free(vals);
  }
done:
  zn_free(producer);
  return st;
}
