/* Graph rewrites run once per model before backends compile it: Identity,
 * zero Pad and 1x1 pool removal, zero Pads folded into AveragePool/Conv
 * padding, exporters' decomposed LayerNorm and Erf GELU recognised, MatMul by
 * a constant matrix as Gemm, BatchNormalization folded into Conv,
 * Mul(x, HardSigmoid(x)) as HardSwish and Mul(x, Sigmoid(x)) as Swish, residual Add and activations fused into
 * Conv/Gemm, dead code elimination; plus the MAC and parameter counts that
 * reports quote. Every rewrite keeps graph output names: the fused producer
 * writes the original output value. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/status.h"
#include "graph/graph.h"
#include "graph/passes.h"

/* ---- helpers ---- */

zn_status zn_graph_remove_nodes(zn_graph *g, const bool *remove) {
  int w = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    if (remove[i]) {
      zn_free(g->nodes[i].name);
      zn_free(g->nodes[i].inputs_ext);
      continue;
    }
    g->nodes[w++] = g->nodes[i];
  }
  if (w < g->num_nodes) memset(&g->nodes[w], 0, (size_t)(g->num_nodes - w) * sizeof(zn_node));
  g->num_nodes = w;
  for (int v = 0; v < g->num_values; v++) g->values[v].producer = -1;
  for (int i = 0; i < g->num_nodes; i++)
    for (int o = 0; o < g->nodes[i].num_outputs; o++) {
      int v = g->nodes[i].outputs[o];
      if (v >= 0 && v < g->num_values) g->values[v].producer = i;
    }
  return ZN_OK;
}

static void set_input(zn_node *n, int k, int v) {
  if (n->inputs_ext) n->inputs_ext[k] = v;
  else n->inputs[k] = v;
}

/* Input occurrences of each value among live nodes. NULL on OOM. */
static int *count_uses(const zn_graph *g, const bool *dead) {
  int *uses = zn_calloc((size_t)g->num_values + 1, sizeof(int));
  if (!uses) return NULL;
  for (int i = 0; i < g->num_nodes; i++) {
    if (dead && dead[i]) continue;
    for (int k = 0; k < g->nodes[i].num_inputs; k++) {
      int v = zn_node_input(&g->nodes[i], k);
      if (v >= 0) uses[v]++;
    }
  }
  return uses;
}

static void replace_uses(zn_graph *g, int from, int to) {
  for (int i = 0; i < g->num_nodes; i++)
    for (int k = 0; k < g->nodes[i].num_inputs; k++)
      if (zn_node_input(&g->nodes[i], k) == from) set_input(&g->nodes[i], k, to);
}

static bool same_shape(const zn_value *a, const zn_value *b) {
  if (a->num_dims < 0 || a->num_dims != b->num_dims || a->batch_axis != b->batch_axis || a->dtype != b->dtype)
    return false;
  for (int i = 0; i < a->num_dims; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

/* The producing node of v when it is a live node of the given op, else NULL. */
static zn_node *producer_of(zn_graph *g, const bool *dead, int v, zn_op op) {
  if (v < 0) return NULL;
  int p = g->values[v].producer;
  if (p < 0 || dead[p] || g->nodes[p].op != op) return NULL;
  return &g->nodes[p];
}

/* Rewiring the producer p (output 0 = mid) to write out instead, where the
 * node reading mid is being removed. */
static void take_output(zn_graph *g, zn_node *p, int mid, int out) {
  p->outputs[0] = out;
  g->values[mid].producer = -1;
  g->values[out].producer = (int)(p - g->nodes);
}

static zn_status oom(const char *what) { return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to %s: out of memory", what); }

static zn_status finish(zn_graph *g, bool *dead, int *uses, int changed) {
  zn_status st = changed ? zn_graph_remove_nodes(g, dead) : ZN_OK;
  zn_free(dead);
  zn_free(uses);
  return st;
}

/* ---- Identity and other no-ops ---- */

/* Node i copies its input x to its only output y: consumers read x instead.
 * When y names a graph output, x's producer writes y directly (so the name
 * survives). False (node kept) when that cannot be done: x is a graph input, a
 * constant or another graph output, or the two values differ in shape. */
static bool bypass(zn_graph *g, bool *dead, int i, int x) {
  const zn_node *n = &g->nodes[i];
  int y = n->outputs[0];
  if (x < 0 || n->num_outputs != 1 || y < 0) return false;
  const zn_value *xv = &g->values[x], *yv = &g->values[y];
  if (xv->num_dims >= 0 && yv->num_dims >= 0 && !same_shape(xv, yv)) return false;
  if (!g->values[y].is_output) {
    replace_uses(g, y, x);
    dead[i] = true;
    return true;
  }
  int p = xv->producer;
  if (p < 0 || dead[p] || xv->is_output || xv->is_input || xv->data) return false;
  zn_node *pn = &g->nodes[p];
  for (int o = 0; o < pn->num_outputs; o++)
    if (pn->outputs[o] == x) pn->outputs[o] = y;
  g->values[y].producer = p;
  g->values[x].producer = -1;
  dead[i] = true;
  replace_uses(g, x, y);
  return true;
}

static bool is_zero_pad(const zn_graph *g, const zn_node *n) {
  /* num_inputs 1: shape inference has moved the pads into the attributes. */
  if (n->op != ZN_OP_PAD || n->num_inputs != 1 || n->num_outputs != 1) return false;
  if (n->inputs[0] < 0) return false;
  const zn_value *x = &g->values[n->inputs[0]];
  if (x->num_dims < 0 || n->attrs.pad.num_pads != 2 * x->num_dims) return false;
  for (int k = 0; k < n->attrs.pad.num_pads; k++)
    if (n->attrs.pad.pads[k] != 0) return false;
  return true;
}

static bool is_unit_pool(const zn_node *n) {
  if ((n->op != ZN_OP_MAX_POOL && n->op != ZN_OP_AVERAGE_POOL) || n->num_inputs != 1 || n->num_outputs != 1)
    return false;
  const zn_pool_attrs *a = &n->attrs.pool;
  if (a->auto_pad != ZN_AUTO_PAD_NOTSET || a->num_spatial < 1 || a->num_spatial > ZN_MAX_SPATIAL) return false;
  for (int s = 0; s < a->num_spatial; s++)
    if (a->kernel[s] != 1 || a->stride[s] != 1 || a->dilation[s] != 1 || a->pad_begin[s] || a->pad_end[s])
      return false;
  return true;
}

typedef bool (*noop_test)(const zn_graph *g, const zn_node *n);

static bool noop_identity(const zn_graph *g, const zn_node *n) {
  return n->op == ZN_OP_IDENTITY && n->num_inputs == 1 && n->num_outputs == 1;
}
static bool noop_zero_pad(const zn_graph *g, const zn_node *n) { return is_zero_pad(g, n); }
static bool noop_unit_pool(const zn_graph *g, const zn_node *n) { return is_unit_pool(n); }

static zn_status remove_noops(zn_graph *g, noop_test test, const char *what) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  if (!dead) return oom(what);
  int changed = 0;
  for (int i = 0; i < g->num_nodes; i++)
    if (test(g, &g->nodes[i]) && bypass(g, dead, i, g->nodes[i].inputs[0])) changed++;
  return finish(g, dead, NULL, changed);
}

zn_status zn_graph_remove_identity(zn_graph *g) { return remove_noops(g, noop_identity, "remove Identity nodes"); }
zn_status zn_graph_remove_zero_pads(zn_graph *g) { return remove_noops(g, noop_zero_pad, "remove zero Pad nodes"); }
zn_status zn_graph_remove_unit_pools(zn_graph *g) { return remove_noops(g, noop_unit_pool, "remove 1x1 pools"); }

/* ---- zero Pad into AveragePool / Conv ---- */

/* The one live node reading v, when v is read exactly once and as input 0. */
static zn_node *only_consumer(zn_graph *g, const bool *dead, const int *uses, int v) {
  if (uses[v] != 1 || g->values[v].is_output) return NULL;
  for (int i = 0; i < g->num_nodes; i++) {
    zn_node *n = &g->nodes[i];
    if (dead[i] || n->num_inputs < 1) continue;
    for (int k = 0; k < n->num_inputs; k++)
      if (zn_node_input(n, k) == v) return k == 0 ? n : NULL;
  }
  return NULL;
}

/* Spatial pads of a zero-valued constant Pad on an [N, C, spatial...] tensor;
 * false when the Pad is something else. */
static bool zero_spatial_pad(const zn_graph *g, const zn_node *n, int *num_spatial, int64_t *pb, int64_t *pe) {
  const zn_pad_attrs *a = &n->attrs.pad;
  if (n->op != ZN_OP_PAD || n->num_inputs != 1 || n->num_outputs != 1 || n->inputs[0] < 0) return false;
  if (a->mode != ZN_PAD_CONSTANT || a->value != 0.0f) return false;
  int r = g->values[n->inputs[0]].num_dims;
  if (r < 3 || r > 2 + ZN_MAX_SPATIAL || a->num_pads != 2 * r) return false;
  if (a->pads[0] || a->pads[1] || a->pads[r] || a->pads[r + 1]) return false;
  for (int s = 0; s < r - 2; s++) {
    pb[s] = a->pads[2 + s];
    pe[s] = a->pads[r + 2 + s];
    if (pb[s] < 0 || pe[s] < 0) return false;
  }
  *num_spatial = r - 2;
  return true;
}

static bool add_pads(int ns, int64_t *begin, int64_t *end, const int64_t *pb, const int64_t *pe) {
  int64_t nb[ZN_MAX_SPATIAL], ne[ZN_MAX_SPATIAL];
  for (int s = 0; s < ns; s++)
    if (__builtin_add_overflow(begin[s], pb[s], &nb[s]) || __builtin_add_overflow(end[s], pe[s], &ne[s])) return false;
  memcpy(begin, nb, (size_t)ns * sizeof(int64_t));
  memcpy(end, ne, (size_t)ns * sizeof(int64_t));
  return true;
}

/* Whether Pad(0) then this pool equals the pool with the pads added and
 * count_include_pad on: with ceil_mode off every window lies inside the padded
 * input, so the divisor is the whole window either way. */
static bool avg_pool_takes_pad(const zn_pool_attrs *a, int ns) {
  if (a->num_spatial != ns || a->ceil_mode || a->auto_pad != ZN_AUTO_PAD_NOTSET) return false;
  bool zero = true;
  for (int s = 0; s < ns; s++) {
    if (a->dilation[s] != 1) return false;
    zero = zero && !a->pad_begin[s] && !a->pad_end[s];
  }
  return zero || a->count_include_pad;
}

zn_status zn_graph_fold_pads(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  if (!dead || !uses) { zn_free(dead); zn_free(uses); return oom("fold Pad into its consumer"); }
  int changed = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *pad = &g->nodes[i];
    int ns;
    int64_t pb[ZN_MAX_SPATIAL], pe[ZN_MAX_SPATIAL];
    if (!zero_spatial_pad(g, pad, &ns, pb, pe)) continue;
    zn_node *c = only_consumer(g, dead, uses, pad->outputs[0]);
    if (!c) continue;
    if (c->op == ZN_OP_AVERAGE_POOL && c->num_inputs == 1 && avg_pool_takes_pad(&c->attrs.pool, ns)) {
      zn_pool_attrs *a = &c->attrs.pool;
      int64_t nb[ZN_MAX_SPATIAL], ne[ZN_MAX_SPATIAL];
      memcpy(nb, a->pad_begin, sizeof nb);
      memcpy(ne, a->pad_end, sizeof ne);
      if (!add_pads(ns, nb, ne, pb, pe)) continue;
      /* A window wholly inside the padding (pad >= kernel) is legal ONNX but
       * backends that count valid elements divide by zero there: keep the Pad. */
      bool narrow = true;
      for (int s = 0; s < ns; s++) narrow = narrow && nb[s] < a->kernel[s] && ne[s] < a->kernel[s];
      if (!narrow) continue;
      memcpy(a->pad_begin, nb, sizeof nb);
      memcpy(a->pad_end, ne, sizeof ne);
      a->count_include_pad = true;
    } else if (c->op == ZN_OP_CONV && c->attrs.conv.num_spatial == ns && c->attrs.conv.auto_pad == ZN_AUTO_PAD_NOTSET) {
      if (!add_pads(ns, c->attrs.conv.pad_begin, c->attrs.conv.pad_end, pb, pe)) continue;
    } else {
      continue;
    }
    set_input(c, 0, pad->inputs[0]);
    dead[i] = true;
    changed++;
  }
  return finish(g, dead, uses, changed);
}

/* ---- BatchNormalization into Conv ---- */

static const float *const_f32(const zn_graph *g, int v, int64_t elems) {
  if (v < 0) return NULL;
  const zn_value *val = &g->values[v];
  if (!val->data || val->dtype != ZN_DTYPE_FLOAT32 || val->data_bytes != (size_t)elems * 4) return NULL;
  return val->data;
}

static zn_status fold_one_bn(zn_graph *g, zn_node *conv, const zn_node *bn, bool *folded) {
  *folded = false;
  int wv = conv->inputs[1], bv = conv->num_inputs > 2 ? conv->inputs[2] : ZN_NO_VALUE;
  const zn_value *w = &g->values[wv];
  if (w->num_dims < 1) return ZN_OK;
  int64_t m = w->dims[0], welems;
  if (!zn_value_num_elements(w, 1, &welems) || m <= 0) return ZN_OK;
  int64_t per = welems / m;
  const float *wd = const_f32(g, wv, welems), *bd = bv >= 0 ? const_f32(g, bv, m) : NULL;
  const float *scale = const_f32(g, bn->inputs[1], m), *shift = const_f32(g, bn->inputs[2], m);
  const float *mean = const_f32(g, bn->inputs[3], m), *var = const_f32(g, bn->inputs[4], m);
  if (!wd || (bv >= 0 && !bd) || !scale || !shift || !mean || !var) return ZN_OK;
  float *nw = zn_alloc_aligned((size_t)welems * 4), *nb = zn_alloc_aligned((size_t)m * 4);
  if (!nw || !nb) {
    zn_free_aligned(nw);
    zn_free_aligned(nb);
    return oom("fold BatchNormalization");
  }
  float eps = bn->attrs.batch_norm.epsilon;
  for (int64_t o = 0; o < m; o++) {
    double a = (double)scale[o] / sqrt((double)var[o] + (double)eps);
    for (int64_t j = 0; j < per; j++) nw[o * per + j] = (float)(wd[o * per + j] * a);
    nb[o] = (float)(((bd ? (double)bd[o] : 0.0) - mean[o]) * a + shift[o]);
  }
  int64_t wdims[ZN_MAX_DIMS];
  int wrank = w->num_dims;
  memcpy(wdims, w->dims, sizeof wdims);
  char name[512];
  int nwv, nbv;
  snprintf(name, sizeof name, "%s.bn_folded_weight", conv->name);
  ZN_TRY(zn_graph_add_const_owned(g, name, ZN_DTYPE_FLOAT32, wrank, wdims, nw, (size_t)welems * 4, &nwv));
  snprintf(name, sizeof name, "%s.bn_folded_bias", conv->name);
  zn_status st = zn_graph_add_const_owned(g, name, ZN_DTYPE_FLOAT32, 1, &m, nb, (size_t)m * 4, &nbv);
  if (st != ZN_OK) return st;
  conv->inputs[1] = nwv;
  conv->inputs[2] = nbv;
  if (conv->num_inputs < 3) conv->num_inputs = 3;
  *folded = true;
  return ZN_OK;
}

zn_status zn_graph_fold_batch_norm(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  if (!dead || !uses) { zn_free(dead); zn_free(uses); return oom("fold BatchNormalization"); }
  int changed = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *bn = &g->nodes[i];
    if (bn->op != ZN_OP_BATCH_NORM || bn->num_inputs != 5 || bn->num_outputs != 1) continue;
    int x = bn->inputs[0];
    zn_node *conv = producer_of(g, dead, x, ZN_OP_CONV);
    if (!conv || conv->num_inputs > 3 || conv->attrs.conv.act.kind != ZN_ACT_NONE || uses[x] != 1 ||
        g->values[x].is_output)
      continue;
    int ci = (int)(conv - g->nodes);
    bool folded;
    zn_status st = fold_one_bn(g, conv, bn, &folded);
    if (st != ZN_OK) { finish(g, dead, uses, 0); return st; }
    if (!folded) continue;
    bn = &g->nodes[i];
    take_output(g, &g->nodes[ci], x, bn->outputs[0]);
    dead[i] = true;
    changed++;
  }
  return finish(g, dead, uses, changed);
}

/* ---- residual Add into Conv ---- */

zn_status zn_graph_fuse_residual(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  if (!dead || !uses) { zn_free(dead); zn_free(uses); return oom("fuse residual Add"); }
  int changed = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *add = &g->nodes[i];
    if (add->op != ZN_OP_ADD || add->num_inputs != 2 || add->num_outputs != 1) continue;
    for (int s = 0; s < 2; s++) {
      int x = add->inputs[s], other = add->inputs[1 - s];
      zn_node *conv = producer_of(g, dead, x, ZN_OP_CONV);
      if (!conv || conv->num_inputs > 3 || conv->attrs.conv.act.kind != ZN_ACT_NONE || uses[x] != 1 ||
          g->values[x].is_output || other == x || other < 0)
        continue;
      const zn_value *xv = &g->values[x], *ov = &g->values[other], *yv = &g->values[add->outputs[0]];
      if (!same_shape(xv, ov) || !same_shape(xv, yv)) continue;
      if (conv->num_inputs < 3) conv->inputs[2] = ZN_NO_VALUE;
      conv->inputs[3] = other;
      conv->num_inputs = 4;
      take_output(g, conv, x, add->outputs[0]);
      dead[i] = true;
      changed++;
      break;
    }
  }
  return finish(g, dead, uses, changed);
}

/* ---- activations into Conv / Gemm ---- */

static bool act_kind_of(zn_op op, zn_act_kind *kind) {
  switch (op) {
  case ZN_OP_RELU: *kind = ZN_ACT_RELU; return true;
  case ZN_OP_LEAKY_RELU: *kind = ZN_ACT_LEAKY_RELU; return true;
  case ZN_OP_SIGMOID: *kind = ZN_ACT_SIGMOID; return true;
  case ZN_OP_HARD_SIGMOID: *kind = ZN_ACT_HARD_SIGMOID; return true;
  case ZN_OP_HARD_SWISH: *kind = ZN_ACT_HARD_SWISH; return true;
  case ZN_OP_CLIP: *kind = ZN_ACT_CLIP; return true;
  case ZN_OP_TANH: *kind = ZN_ACT_TANH; return true;
  case ZN_OP_GELU: *kind = ZN_ACT_GELU; return true;
  case ZN_OP_SWISH: *kind = ZN_ACT_SWISH; return true;
  default: return false;
  }
}

zn_status zn_graph_fuse_activations(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  if (!dead || !uses) { zn_free(dead); zn_free(uses); return oom("fuse activations"); }
  int changed = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *t = &g->nodes[i];
    zn_act_kind kind;
    if (!act_kind_of(t->op, &kind) || t->num_inputs < 1 || t->num_outputs != 1) continue;
    if (t->op == ZN_OP_CLIP)
      for (int k = 1; k < t->num_inputs; k++)
        if (zn_node_input(t, k) >= 0 && !g->values[zn_node_input(t, k)].data) goto next;
    int x = zn_node_input(t, 0);
    if (x < 0 || uses[x] != 1 || g->values[x].is_output) continue;
    zn_node *p = producer_of(g, dead, x, ZN_OP_CONV);
    zn_act *act = p ? &p->attrs.conv.act : NULL;
    if (!p && (p = producer_of(g, dead, x, ZN_OP_GEMM))) act = &p->attrs.gemm.act;
    if (!p || act->kind != ZN_ACT_NONE) continue;
    act->kind = kind;
    act->alpha = t->attrs.act.alpha;
    act->beta = t->attrs.act.beta;
    if (kind == ZN_ACT_RELU || kind == ZN_ACT_SIGMOID || kind == ZN_ACT_TANH || kind == ZN_ACT_HARD_SWISH ||
        kind == ZN_ACT_GELU)
      act->alpha = act->beta = 0;
    take_output(g, p, x, t->outputs[0]);
    dead[i] = true;
    changed++;
  next:;
  }
  return finish(g, dead, uses, changed);
}

/* ---- Mul(x, HardSigmoid(x)) -> HardSwish, Mul(x, Sigmoid(x)) -> Swish ---- */

/* HardSigmoid with alpha 1/6 and beta 1/2, as ONNX stores them (alpha as the
 * float 0.16666667): then x * HardSigmoid(x) is exactly ONNX's HardSwish. */
static bool is_hard_swish_gate(const zn_node *n) {
  const float tol = 1e-7f;  /* ~7 float ulps at 1/6 */
  return n->op == ZN_OP_HARD_SIGMOID && n->num_inputs == 1 && n->num_outputs == 1 &&
         fabsf(n->attrs.act.alpha - 1.0f / 6.0f) <= tol && fabsf(n->attrs.act.beta - 0.5f) <= tol;
}

static bool is_swish_gate(const zn_node *n) {
  return n->op == ZN_OP_SIGMOID && n->num_inputs == 1 && n->num_outputs == 1;
}

zn_status zn_graph_swish_from_mul(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  if (!dead || !uses) { zn_free(dead); zn_free(uses); return oom("turn Mul(x, gate(x)) into a swish"); }
  int changed = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    zn_node *mul = &g->nodes[i];
    if (mul->op != ZN_OP_MUL || mul->num_inputs != 2 || mul->num_outputs != 1 || mul->inputs_ext) continue;
    for (int s = 0; s < 2; s++) {
      int h = mul->inputs[s], x = mul->inputs[1 - s];
      zn_node *hs = producer_of(g, dead, h, ZN_OP_HARD_SIGMOID);
      const bool hard = hs != NULL;
      if (!hs) hs = producer_of(g, dead, h, ZN_OP_SIGMOID);
      if (!hs || !(hard ? is_hard_swish_gate(hs) : is_swish_gate(hs)) || hs->inputs[0] != x || x < 0 ||
          uses[h] != 1 || g->values[h].is_output || g->values[x].dtype != ZN_DTYPE_FLOAT32)
        continue;
      dead[(int)(hs - g->nodes)] = true;
      mul->op = hard ? ZN_OP_HARD_SWISH : ZN_OP_SWISH;
      mul->num_inputs = 1;
      mul->inputs[0] = x;
      mul->inputs[1] = ZN_NO_VALUE;
      memset(&mul->attrs, 0, sizeof mul->attrs);
      mul->attrs.act.kind = hard ? ZN_ACT_HARD_SWISH : ZN_ACT_SWISH;
      mul->attrs.act.alpha = hard ? 0.0f : 1.0f;
      changed++;
      break;
    }
  }
  return finish(g, dead, uses, changed);
}

/* ---- dead code ---- */

zn_status zn_graph_eliminate_dead(zn_graph *g) {
  ZN_TRY(zn_graph_toposort(g));
  int nv = g->num_values;
  bool *live = zn_calloc((size_t)nv + 1, sizeof(bool));
  bool *dead = zn_calloc((size_t)g->num_nodes + 1, sizeof(bool));
  int *remap = zn_malloc(((size_t)nv + 1) * sizeof(int));
  if (!live || !dead || !remap) {
    zn_free(live); zn_free(dead); zn_free(remap);
    return oom("eliminate dead nodes");
  }
  for (int i = 0; i < g->num_outputs; i++) live[g->outputs[i]] = true;
  for (int i = g->num_nodes - 1; i >= 0; i--) {
    const zn_node *n = &g->nodes[i];
    bool any = false;
    for (int o = 0; o < n->num_outputs; o++) any = any || live[n->outputs[o]];
    dead[i] = !any;
    if (!any) continue;
    for (int k = 0; k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      if (v >= 0) live[v] = true;
    }
  }
  zn_status st = zn_graph_remove_nodes(g, dead);
  zn_free(dead);
  if (st != ZN_OK) { zn_free(live); zn_free(remap); return st; }
  /* Keep: live values, interface values, and every output of a kept node. */
  for (int v = 0; v < nv; v++)
    if (g->values[v].is_input || g->values[v].is_output || g->values[v].producer >= 0) live[v] = true;
  int w = 0;
  for (int v = 0; v < nv; v++) {
    if (!live[v]) {
      remap[v] = -1;
      zn_free(g->values[v].name);
      zn_free_aligned(g->values[v].data);
      continue;
    }
    remap[v] = w;
    g->values[w++] = g->values[v];
  }
  if (w < nv) memset(&g->values[w], 0, (size_t)(nv - w) * sizeof(zn_value));
  g->num_values = w;
  for (int i = 0; i < g->num_nodes; i++) {
    zn_node *n = &g->nodes[i];
    for (int k = 0; k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      if (v >= 0) set_input(n, k, remap[v]);
    }
    for (int o = 0; o < n->num_outputs; o++) n->outputs[o] = remap[n->outputs[o]];
  }
  for (int i = 0; i < g->num_inputs; i++) g->inputs[i] = remap[g->inputs[i]];
  for (int i = 0; i < g->num_outputs; i++) g->outputs[i] = remap[g->outputs[i]];
  zn_free(live);
  zn_free(remap);
  return ZN_OK;
}

/* ---- ReduceMean over H, W -> GlobalAveragePool ---- */

/* Node i is ReduceMean of a 4-D float32 tensor over axes {2, 3} exactly,
 * the axes as attributes. */
static bool is_spatial_mean(const zn_graph *g, const zn_node *n) {
  if (n->op != ZN_OP_REDUCE_MEAN || n->num_inputs != 1 || n->num_outputs != 1 || n->inputs[0] < 0) return false;
  const zn_value *x = &g->values[n->inputs[0]];
  const zn_reduce_attrs *a = &n->attrs.reduce;
  if (x->dtype != ZN_DTYPE_FLOAT32 || x->num_dims != 4 || x->batch_axis > 0 || a->num_axes != 2) return false;
  bool seen[4] = {false};
  for (int k = 0; k < 2; k++) {
    int64_t ax = a->axes[k] < 0 ? a->axes[k] + 4 : a->axes[k];
    if (ax < 2 || ax > 3 || seen[ax]) return false;
    seen[ax] = true;
  }
  return true;
}

zn_status zn_graph_spatial_mean_to_pool(zn_graph *g) {
  const int count = g->num_nodes;
  bool added = false;
  for (int i = 0; i < count; i++) {
    if (!is_spatial_mean(g, &g->nodes[i])) continue;
    const bool keepdims = g->nodes[i].attrs.reduce.keepdims;
    const int x = g->nodes[i].inputs[0], y = g->nodes[i].outputs[0];
    g->nodes[i].op = ZN_OP_GLOBAL_AVERAGE_POOL;
    memset(&g->nodes[i].attrs, 0, sizeof g->nodes[i].attrs);
    if (keepdims) continue;
    /* [N, C] = Flatten(axis 1) of the pool's [N, C, 1, 1] */
    char name[256];
    snprintf(name, sizeof name, "%s.pooled", g->values[y].name);
    int mid = -1, flat = -1;
    ZN_TRY(zn_graph_add_value(g, name, ZN_DTYPE_FLOAT32, &mid));
    zn_value *m = &g->values[mid];
    const zn_value *xv = &g->values[x];
    m->num_dims = 4;
    m->dims[0] = xv->dims[0], m->dims[1] = xv->dims[1], m->dims[2] = m->dims[3] = 1;
    m->batch_axis = xv->batch_axis;
    g->nodes[i].outputs[0] = mid;
    m->producer = i;
    snprintf(name, sizeof name, "%s.flatten", g->nodes[i].name);
    ZN_TRY(zn_graph_add_node(g, ZN_OP_FLATTEN, name, 1, &mid, 1, &y, &flat));
    g->nodes[flat].attrs.axis.axis = 1;
    added = true;
  }
  return added ? zn_graph_toposort(g) : ZN_OK;  /* the Flatten went last; its readers come earlier */
}

/* ---- decomposed LayerNorm -> LayerNormalization ---- */

/* The one float32 scalar (any rank, one element) constant v holds, if it does. */
static bool const_scalar_f32(const zn_graph *g, int v, float *out) {
  if (v < 0) return false;
  const zn_value *val = &g->values[v];
  if (!val->data || val->dtype != ZN_DTYPE_FLOAT32 || val->data_bytes != 4) return false;
  memcpy(out, val->data, 4);
  return true;
}

/* A live node of op reading a as one operand and a float32 scalar constant
 * equal to want (NaN: any) as the other, operands in either order when the op
 * commutes. Its index, or -1. */
static int scalar_partner(const zn_graph *g, const bool *dead, int v, zn_op op, float want, float *got) {
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if (dead[i] || n->op != op || n->num_inputs != 2 || n->num_outputs != 1) continue;
    const bool commutes = op == ZN_OP_ADD || op == ZN_OP_MUL;
    for (int s = 0; s < (commutes ? 2 : 1); s++) {
      float c;
      if (n->inputs[s] == v && const_scalar_f32(g, n->inputs[1 - s], &c) && (isnan(want) || c == want)) {
        if (got) *got = c;
        return i;
      }
    }
  }
  return -1;
}

/* The live node reading v (used once, not an output) as input k of op; -1 if none. */
static int sole_reader(const zn_graph *g, const bool *dead, const int *uses, int v, zn_op op, int *k_out) {
  if (v < 0 || uses[v] != 1 || g->values[v].is_output) return -1;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if (dead[i] || n->op != op) continue;
    for (int k = 0; k < n->num_inputs; k++)
      if (zn_node_input(n, k) == v) {
        if (k_out) *k_out = k;
        return i;
      }
  }
  return -1;
}

/* ReduceMean over exactly the last axis of a float32 tensor, keepdims on. */
static bool is_last_axis_mean(const zn_graph *g, const zn_node *n) {
  if (n->op != ZN_OP_REDUCE_MEAN || n->num_inputs != 1 || n->num_outputs != 1 || n->inputs[0] < 0) return false;
  const zn_value *x = &g->values[n->inputs[0]];
  const zn_reduce_attrs *a = &n->attrs.reduce;
  if (x->dtype != ZN_DTYPE_FLOAT32 || x->num_dims < 1 || a->num_axes != 1 || !a->keepdims) return false;
  return (a->axes[0] < 0 ? a->axes[0] + x->num_dims : a->axes[0]) == x->num_dims - 1 &&
         x->batch_axis != x->num_dims - 1;
}

/* A float32 constant with C elements laid along the last axis ([C], [1,C], ...). */
static bool is_channel_vector(const zn_graph *g, int v, int64_t c) {
  if (v < 0) return false;
  const zn_value *val = &g->values[v];
  if (!val->data || val->dtype != ZN_DTYPE_FLOAT32 || val->num_dims < 1 || val->data_bytes != (size_t)c * 4)
    return false;
  return val->dims[val->num_dims - 1] == c;
}

zn_status zn_graph_fuse_layer_norm(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  if (!dead || !uses) { zn_free(dead); zn_free(uses); return oom("fuse LayerNorm"); }
  int changed = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    if (dead[i] || !is_last_axis_mean(g, &g->nodes[i])) continue;
    const int x = g->nodes[i].inputs[0], m1 = g->nodes[i].outputs[0];
    const int64_t r = g->values[x].num_dims, C = g->values[x].dims[r - 1];
    int k, sub, pw, mean2, add_eps, sq, div, mul, add_b = -1;
    float two = 2.0f, eps;
    /* d = x - mean(x); var = mean(d^2); y = d / sqrt(var + eps) * gamma (+ beta) */
    if ((sub = sole_reader(g, dead, uses, m1, ZN_OP_SUB, &k)) < 0 || k != 1 || g->nodes[sub].inputs[0] != x) continue;
    const int d = g->nodes[sub].outputs[0];
    if (uses[d] != 2 || g->values[d].is_output) continue;
    if ((pw = scalar_partner(g, dead, d, ZN_OP_POW, two, NULL)) < 0) continue;
    const int d2 = g->nodes[pw].outputs[0];
    if ((mean2 = sole_reader(g, dead, uses, d2, ZN_OP_REDUCE_MEAN, NULL)) < 0 ||
        !is_last_axis_mean(g, &g->nodes[mean2]))
      continue;
    const int var = g->nodes[mean2].outputs[0];
    if (sole_reader(g, dead, uses, var, ZN_OP_ADD, NULL) < 0 ||
        (add_eps = scalar_partner(g, dead, var, ZN_OP_ADD, NAN, &eps)) < 0 || !(eps >= 0))
      continue;
    if ((sq = sole_reader(g, dead, uses, g->nodes[add_eps].outputs[0], ZN_OP_SQRT, NULL)) < 0) continue;
    if ((div = sole_reader(g, dead, uses, g->nodes[sq].outputs[0], ZN_OP_DIV, &k)) < 0 || k != 1 ||
        g->nodes[div].inputs[0] != d)
      continue;
    const int q = g->nodes[div].outputs[0];
    if ((mul = sole_reader(g, dead, uses, q, ZN_OP_MUL, &k)) < 0) continue;
    const int gamma = g->nodes[mul].inputs[1 - k];
    if (!is_channel_vector(g, gamma, C)) continue;
    int beta = ZN_NO_VALUE, last = mul;
    if ((add_b = sole_reader(g, dead, uses, g->nodes[mul].outputs[0], ZN_OP_ADD, &k)) >= 0) {
      beta = g->nodes[add_b].inputs[1 - k];
      if (is_channel_vector(g, beta, C)) last = add_b;
      else beta = ZN_NO_VALUE;
    }
    const int y = g->nodes[last].outputs[0];
    const int parts[] = {i, sub, pw, mean2, add_eps, sq, div, mul};
    for (size_t p = 0; p < ZN_ARRAY_SIZE(parts); p++) dead[parts[p]] = true;
    dead[last] = false;
    zn_node *ln = &g->nodes[last];
    ln->op = ZN_OP_LAYER_NORM;
    memset(&ln->attrs, 0, sizeof ln->attrs);
    ln->attrs.layer_norm.axis = r - 1;
    ln->attrs.layer_norm.epsilon = eps;
    ln->num_inputs = beta >= 0 ? 3 : 2;
    ln->inputs[0] = x, ln->inputs[1] = gamma, ln->inputs[2] = beta;
    ln->outputs[0] = y;
    changed++;
  }
  return finish(g, dead, uses, changed);
}

/* ---- Erf GELU -> Gelu ---- */

zn_status zn_graph_fuse_gelu(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  if (!dead || !uses) { zn_free(dead); zn_free(uses); return oom("fuse GELU"); }
  int changed = 0;
  /* x * (1 + erf(x / sqrt(2))) * 0.5, as PyTorch exports nn.GELU(). */
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *dv = &g->nodes[i];
    float c;
    if (dead[i] || dv->op != ZN_OP_DIV || dv->num_inputs != 2 || dv->num_outputs != 1 ||
        !const_scalar_f32(g, dv->inputs[1], &c) || !(fabsf(c - 1.41421356f) < 1e-6f))
      continue;
    const int x = dv->inputs[0];
    if (x < 0 || g->values[x].dtype != ZN_DTYPE_FLOAT32) continue;
    int erf, add1, mul, half, k;
    if ((erf = sole_reader(g, dead, uses, dv->outputs[0], ZN_OP_ERF, NULL)) < 0) continue;
    const int e = g->nodes[erf].outputs[0];
    if (sole_reader(g, dead, uses, e, ZN_OP_ADD, NULL) < 0 || (add1 = scalar_partner(g, dead, e, ZN_OP_ADD, 1.0f, NULL)) < 0)
      continue;
    if ((mul = sole_reader(g, dead, uses, g->nodes[add1].outputs[0], ZN_OP_MUL, &k)) < 0 ||
        g->nodes[mul].inputs[1 - k] != x)
      continue;
    const int xm = g->nodes[mul].outputs[0];
    if (sole_reader(g, dead, uses, xm, ZN_OP_MUL, NULL) < 0 || (half = scalar_partner(g, dead, xm, ZN_OP_MUL, 0.5f, NULL)) < 0)
      continue;
    dead[i] = dead[erf] = dead[add1] = dead[mul] = true;
    zn_node *gl = &g->nodes[half];
    gl->op = ZN_OP_GELU;
    memset(&gl->attrs, 0, sizeof gl->attrs);
    gl->attrs.act.kind = ZN_ACT_GELU;
    gl->num_inputs = 1;
    gl->inputs[0] = x;
    gl->inputs[1] = ZN_NO_VALUE;
    changed++;
  }
  return finish(g, dead, uses, changed);
}

/* ---- MatMul by a constant matrix -> Flatten + Gemm + Reshape ---- */

/* One Linear layer: x [..., K] (rank >= 3, float32) times a constant W [K, M],
 * then optionally + a constant bias [M] and a Gelu, read once each. */
typedef struct linear_match { int matmul, add, act, x, w, bias, y; } linear_match;

static bool match_linear(const zn_graph *g, const bool *dead, const int *uses, int i, linear_match *m) {
  const zn_node *mm = &g->nodes[i];
  if (dead[i] || mm->op != ZN_OP_MATMUL || mm->num_inputs != 2 || mm->num_outputs != 1) return false;
  const int x = mm->inputs[0], w = mm->inputs[1];
  if (x < 0 || w < 0) return false;
  const zn_value *xv = &g->values[x], *wv = &g->values[w];
  if (xv->dtype != ZN_DTYPE_FLOAT32 || xv->num_dims < 3 || xv->batch_axis == xv->num_dims - 1) return false;
  if (!wv->data || wv->dtype != ZN_DTYPE_FLOAT32 || wv->num_dims != 2 || wv->dims[0] != xv->dims[xv->num_dims - 1])
    return false;
  *m = (linear_match){i, -1, -1, x, w, ZN_NO_VALUE, mm->outputs[0]};
  int k, a;
  if ((a = sole_reader(g, dead, uses, m->y, ZN_OP_ADD, &k)) >= 0 && g->nodes[a].num_inputs == 2 &&
      is_channel_vector(g, g->nodes[a].inputs[1 - k], wv->dims[1]) &&
      g->values[g->nodes[a].inputs[1 - k]].num_dims == 1) {
    m->add = a;
    m->bias = g->nodes[a].inputs[1 - k];
    m->y = g->nodes[a].outputs[0];
  }
  if ((a = sole_reader(g, dead, uses, m->y, ZN_OP_GELU, NULL)) >= 0) {
    m->act = a;
    m->y = g->nodes[a].outputs[0];
  }
  return true;
}

/* A new float32 value [rows, cols] named after base; rows scale with N when batch. */
static zn_status add_matrix_value(zn_graph *g, const char *base, const char *what, int64_t rows, int64_t cols,
                                  bool batch, int *id) {
  char name[512];
  snprintf(name, sizeof name, "%s.%s", base, what);
  ZN_TRY(zn_graph_add_value(g, name, ZN_DTYPE_FLOAT32, id));
  zn_value *v = &g->values[*id];
  v->num_dims = 2;
  v->dims[0] = rows, v->dims[1] = cols;
  v->batch_axis = batch ? 0 : -1;
  return ZN_OK;
}

/* Flatten (unless x came out of a [rows, K] matrix through a Reshape: the
 * previous Linear layer; that matrix is read directly and the Reshape dies if
 * nothing else reads it), Gemm, Reshape back to [..., M] writing y. */
static zn_status rewrite_linear(zn_graph *g, const linear_match *m, const char *base) {
  char name[512];
  const zn_value *xv = &g->values[m->x];
  const int r = xv->num_dims;
  const bool batch = xv->batch_axis >= 0;
  const int64_t K = xv->dims[r - 1], M = g->values[m->w].dims[1];
  int64_t rows = 1, shape[ZN_MAX_DIMS];
  for (int i = 0; i < r - 1; i++) rows *= xv->dims[i], shape[i] = xv->dims[i];  /* batch dim: its coefficient */
  shape[r - 1] = M;
  const uint64_t shape_batch = batch ? UINT64_C(1) << xv->batch_axis : 0;
  int flat = -1, mid, shape_id, idx;
  const int p = xv->producer, x = m->x;
  if (p >= 0 && g->nodes[p].op == ZN_OP_RESHAPE) {
    const zn_value *pv = &g->values[g->nodes[p].inputs[0]];
    if (pv->num_dims == 2 && pv->dims[0] == rows && pv->dims[1] == K && (pv->batch_axis == 0) == batch &&
        pv->dtype == ZN_DTYPE_FLOAT32)
      flat = g->nodes[p].inputs[0];
  }
  if (flat < 0) {
    ZN_TRY(add_matrix_value(g, base, "rows", rows, K, batch, &flat));
    snprintf(name, sizeof name, "%s.flatten", base);
    ZN_TRY(zn_graph_add_node(g, ZN_OP_FLATTEN, name, 1, &x, 1, &flat, &idx));
    g->nodes[idx].attrs.axis.axis = r - 1;
  }
  ZN_TRY(add_matrix_value(g, base, "gemm", rows, M, batch, &mid));
  snprintf(name, sizeof name, "%s.shape", base);
  const int64_t rank = r;
  ZN_TRY(zn_graph_add_const(g, name, ZN_DTYPE_INT64, 1, &rank, shape, (size_t)r * sizeof(int64_t), &shape_id));
  g->values[shape_id].batch_elems = shape_batch;
  const int gemm_in[3] = {flat, m->w, m->bias};
  snprintf(name, sizeof name, "%s.gemm", base);
  ZN_TRY(zn_graph_add_node(g, ZN_OP_GEMM, name, m->bias >= 0 ? 3 : 2, gemm_in, 1, &mid, &idx));
  g->nodes[idx].attrs.gemm = (zn_gemm_attrs){false, false, 1.0f, 1.0f, {ZN_ACT_NONE, 0, 0}};
  if (m->act >= 0) g->nodes[idx].attrs.gemm.act.kind = ZN_ACT_GELU;
  const int reshape_in[2] = {mid, shape_id};
  snprintf(name, sizeof name, "%s.reshape", base);
  return zn_graph_add_node(g, ZN_OP_RESHAPE, name, 2, reshape_in, 1, &m->y, &idx);
}

zn_status zn_graph_linear_to_gemm(zn_graph *g) {
  if (!g->num_nodes) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  int *uses = count_uses(g, NULL);
  linear_match *found = zn_calloc((size_t)g->num_nodes, sizeof *found);
  char **names = zn_calloc((size_t)g->num_nodes, sizeof *names);
  if (!dead || !uses || !found || !names) {
    zn_free(dead); zn_free(uses); zn_free(found); zn_free(names);
    return oom("turn MatMul into Gemm");
  }
  int count = 0;
  zn_status st = ZN_OK;
  for (int i = 0; i < g->num_nodes && st == ZN_OK; i++) {
    linear_match m;
    if (!match_linear(g, dead, uses, i, &m)) continue;
    /* the node names go with the removed nodes: keep the MatMul's */
    if (!(names[count] = zn_strdup(g->nodes[i].name))) { st = oom("turn MatMul into Gemm"); break; }
    dead[m.matmul] = true;
    if (m.add >= 0) dead[m.add] = true;
    if (m.act >= 0) dead[m.act] = true;
    found[count++] = m;
  }
  if (st == ZN_OK && count) st = zn_graph_remove_nodes(g, dead);
  for (int k = 0; k < count && st == ZN_OK; k++) st = rewrite_linear(g, &found[k], names[k]);
  if (st == ZN_OK && count) st = zn_graph_toposort(g);
  for (int k = 0; k < count; k++) zn_free(names[k]);
  zn_free(dead); zn_free(uses); zn_free(found); zn_free(names);
  return st;
}

/* ---- the pipeline ---- */

zn_status zn_graph_optimize(zn_graph *g) {
  ZN_TRY(zn_graph_infer_shapes(g));
  ZN_TRY(zn_graph_fold_constants(g));
  ZN_TRY(zn_graph_remove_identity(g));
  ZN_TRY(zn_graph_remove_zero_pads(g));
  ZN_TRY(zn_graph_remove_unit_pools(g));
  ZN_TRY(zn_graph_spatial_mean_to_pool(g));
  ZN_TRY(zn_graph_fuse_layer_norm(g));
  ZN_TRY(zn_graph_fuse_gelu(g));
  ZN_TRY(zn_graph_linear_to_gemm(g));
  ZN_TRY(zn_graph_fold_pads(g));
  ZN_TRY(zn_graph_fold_batch_norm(g));
  ZN_TRY(zn_graph_fuse_residual(g));
  ZN_TRY(zn_graph_swish_from_mul(g));
  ZN_TRY(zn_graph_fuse_activations(g));
  ZN_TRY(zn_graph_eliminate_dead(g));
  ZN_TRY(zn_graph_toposort(g));
  return zn_graph_infer_shapes(g);
}

/* ---- counts ---- */

static int64_t per_image(const zn_value *v) {
  int64_t e;
  return zn_value_num_elements(v, 1, &e) ? e : 0;
}

static int64_t dim_n1(const zn_value *v, int i) {
  if (i < 0) i += v->num_dims;
  return i >= 0 && i < v->num_dims ? v->dims[i] : 0;
}

int64_t zn_node_macs_per_image(const zn_graph *g, const zn_node *n) {
  const zn_value *out = &g->values[n->outputs[0]];
  if (n->op == ZN_OP_CONV && n->num_inputs >= 2) {
    const zn_value *x = &g->values[zn_node_input(n, 0)];
    if (x->num_dims < 2 || n->attrs.conv.group <= 0) return 0;
    int64_t k = dim_n1(x, 1) / n->attrs.conv.group;
    for (int s = 0; s < n->attrs.conv.num_spatial; s++) k *= n->attrs.conv.kernel[s];
    return per_image(out) * k;
  }
  if (n->op == ZN_OP_GEMM) {
    const zn_value *a = &g->values[zn_node_input(n, 0)];
    return per_image(out) * dim_n1(a, n->attrs.gemm.trans_a ? 0 : 1);
  }
  if (n->op == ZN_OP_MATMUL) {
    const zn_value *a = &g->values[zn_node_input(n, 0)];
    return per_image(out) * dim_n1(a, -1);
  }
  return 0;
}

int64_t zn_graph_macs_per_image(const zn_graph *g) {
  int64_t total = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const int64_t macs = zn_node_macs_per_image(g, &g->nodes[i]);
    if (macs > 0 && __builtin_add_overflow(total, macs, &total)) return INT64_MAX;
  }
  return total;
}

static bool is_float(zn_dtype t) {
  return t == ZN_DTYPE_FLOAT32 || t == ZN_DTYPE_FLOAT16 || t == ZN_DTYPE_BFLOAT16 || t == ZN_DTYPE_FLOAT64;
}

int64_t zn_graph_num_params(const zn_graph *g) {
  bool *counted = zn_calloc((size_t)g->num_values + 1, sizeof(bool));
  if (!counted) return -1;
  int64_t total = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    int first = 1, last = 2;
    switch (n->op) {
    case ZN_OP_CONV: case ZN_OP_GEMM: case ZN_OP_BATCH_NORM: break;
    case ZN_OP_MATMUL: first = 0; last = 1; break;
    case ZN_OP_ADD: {
      /* MatMul + Add is a Linear layer: its constant addend is the bias. */
      bool after_matmul = false;
      for (int k = 0; k < 2 && k < n->num_inputs; k++) {
        int v = zn_node_input(n, k);
        int p = v >= 0 ? g->values[v].producer : -1;
        if (p >= 0 && g->nodes[p].op == ZN_OP_MATMUL) after_matmul = true;
      }
      if (!after_matmul) continue;
      first = 0; last = 1;
      break;
    }
    default: continue;
    }
    for (int k = first; k <= last && k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      if (v < 0 || counted[v] || !g->values[v].data || !is_float(g->values[v].dtype)) continue;
      counted[v] = true;
      total += per_image(&g->values[v]);
    }
  }
  zn_free(counted);
  return total;
}
