/* The xnnpack backend, compile side: which nodes XNNPACK's operator API (the
 * Debian 2022-02 snapshot) can run, the step list, and where every value
 * lives. 4-D activations are NHWC; Concat is zero-copy where it can be:
 * producers write straight into channel slices of the concat output (XNNPACK
 * output pixel/channel strides). Read-only after compile, shared by instances. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/xnnpack/xnnpack_internal.h"
#include "core/alloc.h"
#include "core/env.h"
#include "core/log.h"
#include "core/status.h"
#include "graph/passes.h"

static const char *const kind_names[XP_KIND_COUNT] = {
    [XP_IMPORT] = "import NCHW->NHWC (C loop)",
    [XP_EXPORT] = "export NHWC->NCHW (C loop)",
    [XP_CONV] = "xnn_convolution2d_nhwc_f32 (+ xnn_add_nd_f32 for a fused residual)",
    [XP_WINOGRAD] = "3x3 conv as Winograd F(2x2,3x3) or F(4x4,3x3): C transforms + 16 or 36 xnn_fully_connected_nc_f32",
    [XP_IM2COL] = "few-channel conv as C im2col blocks + xnn_fully_connected_nc_f32 (one per thread)",
    [XP_FC] = "xnn_fully_connected_nc_f32",
    [XP_MAX_POOL] = "xnn_max_pooling2d_nhwc_f32",
    [XP_AVG_POOL] = "xnn_average_pooling2d_nhwc_f32 (+ border divisor fix for count_include_pad)",
    [XP_GAP] = "xnn_global_average_pooling_nwc_f32",
    [XP_GMP] = "global max pool (C loop)",
    [XP_CLAMP] = "xnn_clamp_nc_f32",
    [XP_UNARY] = "xnn_{leaky_relu,sigmoid,hardswish}_nc_f32; Swish (xnn sigmoid, C multiply); HardSigmoid, Tanh, Gelu (C loop)",
    [XP_SOFTMAX] = "xnn_softmax_nc_f32",
    [XP_BATCH_NORM] = "batch norm multiply-add (C loop)",
    [XP_LRN] = "LRN (C loop)",
    [XP_BINARY] = "Add/Sub/Mul/Div of same shapes, by a constant scalar / per channel, or per image and channel (C loop)",
    [XP_CONCAT] = "concat: producers write channel slices, xnn_copy_nc_x32 for the others",
    [XP_VIEW] = "concat: all inputs in place (no work)",
    [XP_RESHAPE] = "reshape/flatten copy in logical order (C loop)",
    [XP_GATHER] = "Gather of one index, copied in logical order (C loop)",
    [XP_STRIDED_COPY] = "Transpose / Slice as a strided copy in logical order (C loop)",
    [XP_SHUFFLE] = "channel shuffle (Reshape, Transpose, Reshape) as one NHWC channel-permutation copy (C loop)",
    [XP_SLICE_VIEW] = "channel Slice as a view of its input (no work)",
    [XP_LAYER_NORM] = "LayerNormalization over the last axis (C loop)",
};

const char *zn_xnnpack_kind_name(xp_kind kind) { return kind < XP_KIND_COUNT ? kind_names[kind] : "?"; }

bool zn_xnnpack_init(void) { return xnn_initialize(NULL) == xnn_status_success; }

static bool xp_available(void) { return zn_xnnpack_init(); }

/* ---- what is supported ---- */

static const zn_value *val(const zn_graph *g, int id) {
  return id >= 0 && id < g->num_values ? &g->values[id] : NULL;
}

static const zn_value *node_in(const zn_graph *g, const zn_node *n, int k) {
  return k < n->num_inputs ? val(g, zn_node_input(n, k)) : NULL;
}

/* A 4-D float activation the backend can keep NHWC: C, H, W static, N on axis 0. */
static bool nhwc_ok(const zn_value *v) {
  if (!v || v->data || v->dtype != ZN_DTYPE_FLOAT32 || v->num_dims != 4 || (v->batch_axis != 0 && v->batch_axis != -1))
    return false;
  for (int i = 0; i < 4; i++)
    if (v->dims[i] < 1 || v->dims[i] > INT32_MAX) return false;
  return true;
}

static bool f32_activation(const zn_value *v) {
  return v && !v->data && v->dtype == ZN_DTYPE_FLOAT32 && v->num_dims >= 1 && (v->num_dims != 4 || nhwc_ok(v));
}

static bool f32_const(const zn_value *v, int64_t count) {
  if (!v || !v->data || v->dtype != ZN_DTYPE_FLOAT32 || v->batch_axis >= 0) return false;
  int64_t n = 1;
  for (int i = 0; i < v->num_dims; i++) n *= v->dims[i];
  return n == count && v->data_bytes >= (size_t)count * sizeof(float);
}

static bool same_dims(const zn_value *a, const zn_value *b) {
  if (a->num_dims != b->num_dims || a->batch_axis != b->batch_axis) return false;
  for (int i = 0; i < a->num_dims; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static bool fusable_act(const zn_act *a) {
  return a->kind == ZN_ACT_NONE || a->kind == ZN_ACT_RELU || (a->kind == ZN_ACT_CLIP && !(a->alpha >= a->beta));
}

/* Activations XNNPACK's operators cannot fuse into Conv/Gemm: the op runs
 * unclamped, then the activation runs in place on its output (XNNPACK's
 * sigmoid / hardswish / leaky_relu operators; Swish as XNNPACK's sigmoid into
 * step scratch, then a C multiply; a C loop for HardSigmoid, Tanh and Gelu,
 * which this XNNPACK lacks in f32, and for Swish with alpha other than 1). */
static bool post_act_ok(const zn_act *a) {
  return a->kind == ZN_ACT_SIGMOID || a->kind == ZN_ACT_HARD_SIGMOID || a->kind == ZN_ACT_HARD_SWISH ||
         a->kind == ZN_ACT_TANH || a->kind == ZN_ACT_GELU || ((a->kind == ZN_ACT_LEAKY_RELU || a->kind == ZN_ACT_SWISH) && isfinite(a->alpha));
}

static void act_range(const zn_act *a, float *lo, float *hi) {
  *lo = -INFINITY, *hi = INFINITY;
  if (a->kind == ZN_ACT_RELU) *lo = 0.0f;
  if (a->kind == ZN_ACT_CLIP) *lo = isnan(a->alpha) ? -INFINITY : a->alpha, *hi = isnan(a->beta) ? INFINITY : a->beta;
}

/* XNNPACK's output size for a window of span ek over a padded extent. */
static int64_t window_out(int64_t padded, int64_t ek, int64_t s) { return padded < ek ? 0 : (padded - ek) / s + 1; }

/* Bottom/right padding to add so that XNNPACK's floor rule yields the IR's
 * output size (ceil_mode); -1 when no padding can. */
static int64_t extra_pad(int64_t in, int64_t pb, int64_t pe, int64_t k, int64_t d, int64_t s, int64_t out) {
  const int64_t ek = d * (k - 1) + 1, padded = in + pb + pe;
  const int64_t extra = ZN_MAX(0, (out - 1) * s + ek - padded);
  return window_out(padded + extra, ek, s) == out ? extra : -1;
}

/* XNNPACK's pools and convs build an indirection buffer of one pointer per
 * output pixel and kernel element: an output of H x W pixels under a kh x kw
 * window needs H * W * kh * kw of them per image. Real CNNs need at most a few
 * million; a malformed model can ask for billions, which XNNPACK would try to
 * allocate. */
#define XP_MAX_WINDOW_ENTRIES ((int64_t)1 << 26)

static bool window_entries_ok(const zn_value *y, int64_t kh, int64_t kw) {
  int64_t e;
  return !__builtin_mul_overflow(y->dims[2], y->dims[3], &e) && !__builtin_mul_overflow(e, kh, &e) &&
         !__builtin_mul_overflow(e, kw, &e) && e <= XP_MAX_WINDOW_ENTRIES;
}

static bool pool_ok(const zn_graph *g, const zn_node *n) {
  const zn_pool_attrs *a = &n->attrs.pool;
  const zn_value *x = node_in(g, n, 0), *y = val(g, n->outputs[0]);
  if (n->num_inputs != 1 || !nhwc_ok(x) || !nhwc_ok(y) || a->num_spatial != 2 || a->auto_pad != ZN_AUTO_PAD_NOTSET)
    return false;
  if (a->kernel[0] * a->kernel[1] < 2) return false; /* XNNPACK rejects 1x1 pooling */
  if (!window_entries_ok(y, a->kernel[0], a->kernel[1])) return false;
  if (n->op == ZN_OP_AVERAGE_POOL && (a->dilation[0] != 1 || a->dilation[1] != 1)) return false;
  for (int i = 0; i < 2; i++) {
    if (a->kernel[i] < 1 || a->stride[i] < 1 || a->dilation[i] < 1 || a->pad_begin[i] < 0 || a->pad_end[i] < 0 ||
        a->kernel[i] > UINT32_MAX / 2 || a->pad_begin[i] > UINT32_MAX / 4 || a->pad_end[i] > UINT32_MAX / 4)
      return false;
    if (extra_pad(x->dims[2 + i], a->pad_begin[i], a->pad_end[i], a->kernel[i], a->dilation[i], a->stride[i],
                  y->dims[2 + i]) < 0)
      return false;
  }
  return x->dims[0] == y->dims[0] && x->dims[1] == y->dims[1] && x->batch_axis == y->batch_axis;
}

static bool conv_ok(const zn_graph *g, const zn_node *n) {
  const zn_conv_attrs *a = &n->attrs.conv;
  const zn_value *x = node_in(g, n, 0), *w = node_in(g, n, 1), *y = val(g, n->outputs[0]);
  if (n->num_inputs < 2 || n->num_inputs > 4 || !nhwc_ok(x) || !nhwc_ok(y) || !w || w->num_dims != 4 ||
      a->num_spatial != 2 || a->auto_pad != ZN_AUTO_PAD_NOTSET || !(fusable_act(&a->act) || post_act_ok(&a->act)) ||
      a->group < 1)
    return false;
  const int64_t cout = w->dims[0], cig = w->dims[1], G = a->group;
  if (!f32_const(w, w->dims[0] * w->dims[1] * w->dims[2] * w->dims[3]) || cig * G != x->dims[1] || cout % G ||
      cout != y->dims[1] || x->dims[0] != y->dims[0] || x->batch_axis != y->batch_axis ||
      !window_entries_ok(y, w->dims[2], w->dims[3]))
    return false;
  const zn_value *b = node_in(g, n, 2);
  if (n->num_inputs > 2 && zn_node_input(n, 2) != ZN_NO_VALUE && !f32_const(b, cout)) return false;
  const zn_value *r = node_in(g, n, 3);
  if (n->num_inputs > 3 && zn_node_input(n, 3) != ZN_NO_VALUE && (!nhwc_ok(r) || !same_dims(r, y))) return false;
  for (int i = 0; i < 2; i++) {
    if (a->stride[i] < 1 || a->dilation[i] < 1 || a->pad_begin[i] < 0 || a->pad_end[i] < 0 ||
        a->pad_begin[i] > UINT32_MAX / 4 || a->pad_end[i] > UINT32_MAX / 4 || a->stride[i] > UINT32_MAX ||
        a->dilation[i] > UINT32_MAX)
      return false;
    const int64_t ek = a->dilation[i] * (w->dims[2 + i] - 1) + 1;
    if (window_out(x->dims[2 + i] + a->pad_begin[i] + a->pad_end[i], ek, a->stride[i]) != y->dims[2 + i]) return false;
  }
  return true;
}

static bool gemm_ok(const zn_graph *g, const zn_node *n) {
  const zn_gemm_attrs *a = &n->attrs.gemm;
  const zn_value *A = node_in(g, n, 0), *B = node_in(g, n, 1), *Y = val(g, n->outputs[0]);
  if (n->num_inputs < 2 || n->num_inputs > 3 || !A || A->data || A->dtype != ZN_DTYPE_FLOAT32 || A->num_dims != 2 ||
      a->trans_a || !B || B->num_dims != 2 || !Y || Y->num_dims != 2 || !(fusable_act(&a->act) || post_act_ok(&a->act)) ||
      !isfinite(a->alpha) ||
      !isfinite(a->beta) || A->batch_axis > 0)
    return false;
  const int64_t K = a->trans_b ? B->dims[1] : B->dims[0], M = a->trans_b ? B->dims[0] : B->dims[1];
  if (!f32_const(B, K * M) || A->dims[1] != K || Y->dims[1] != M) return false;
  return n->num_inputs < 3 || zn_node_input(n, 2) == ZN_NO_VALUE || f32_const(node_in(g, n, 2), M);
}

static bool softmax_ok(const zn_graph *g, const zn_node *n) {
  const zn_value *x = node_in(g, n, 0);
  if (n->num_inputs != 1 || !f32_activation(x)) return false;
  int64_t axis = n->attrs.softmax.axis;
  if (axis < 0) axis += x->num_dims;
  if (axis < 0 || axis >= x->num_dims) return false;
  if (x->num_dims == 4) return axis == 1 && (!n->attrs.softmax.legacy_2d || x->dims[2] * x->dims[3] == 1);
  if (n->attrs.softmax.legacy_2d) return x->batch_axis < axis; /* batch rows, static channels */
  return axis == x->num_dims - 1 && x->batch_axis != axis;
}

static bool clip_ok(const zn_graph *g, const zn_node *n) {
  for (int k = 1; k < n->num_inputs; k++)
    if (zn_node_input(n, k) != ZN_NO_VALUE && !f32_const(node_in(g, n, k), 1)) return false;
  return true;
}

static bool reshape_ok(const zn_graph *g, const zn_node *n) {
  const zn_value *x = node_in(g, n, 0), *y = val(g, n->outputs[0]);
  if (!f32_activation(x) || !y || y->dtype != ZN_DTYPE_FLOAT32 || (y->num_dims == 4 && !nhwc_ok(y))) return false;
  int64_t a1, b1, a2, b2; /* same element count whatever N is */
  return zn_value_num_elements(x, 1, &a1) && zn_value_num_elements(y, 1, &b1) && zn_value_num_elements(x, 2, &a2) &&
         zn_value_num_elements(y, 2, &b2) && a1 == b1 && a2 == b2;
}

static int64_t concat_axis(const zn_graph *g, const zn_node *n) {
  const zn_value *y = val(g, n->outputs[0]);
  int64_t axis = n->attrs.axis.axis;
  return axis < 0 && y ? axis + y->num_dims : axis;
}

static bool concat_ok(const zn_graph *g, const zn_node *n) {
  const zn_value *y = val(g, n->outputs[0]);
  if (!nhwc_ok(y) || concat_axis(g, n) != 1 || n->num_inputs < 1) return false;
  int64_t c = 0;
  for (int k = 0; k < n->num_inputs; k++) {
    const zn_value *x = node_in(g, n, k);
    if (!nhwc_ok(x) || x->dims[0] != y->dims[0] || x->batch_axis != y->batch_axis || x->dims[2] != y->dims[2] ||
        x->dims[3] != y->dims[3])
      return false;
    c += x->dims[1];
  }
  return c == y->dims[1];
}

/* Add/Sub/Mul/Div: which input is the float32 activation of the output's
 * shape (*act_k) and what the other one is; -1: not run here. The smaller
 * operand first only for Add and Mul (they commute). */
static int binary_form(const zn_graph *g, const zn_node *n, int *act_k) {
  if (n->num_inputs != 2) return -1;
  const zn_value *y = val(g, n->outputs[0]);
  for (int k = 0; k < 2; k++) {
    const zn_value *a = node_in(g, n, k), *b = node_in(g, n, 1 - k);
    if (!f32_activation(a) || !same_dims(a, y) || !b) continue;
    if (k == 1 && (n->op == ZN_OP_SUB || n->op == ZN_OP_DIV)) continue;
    if (act_k) *act_k = k;
    if (f32_activation(b)) {
      if (same_dims(a, b)) return XP_BIN_SAME;
      /* [N,C,H,W] by [N,C,1,1]: squeeze-excitation's x * scale */
      const bool image_channel = nhwc_ok(a) && nhwc_ok(b) && b->batch_axis == a->batch_axis &&
                                 b->dims[0] == a->dims[0] && b->dims[1] == a->dims[1] && b->dims[2] == 1 &&
                                 b->dims[3] == 1;
      return image_channel ? XP_BIN_IMAGE_CHANNEL : -1;
    }
    int64_t count;
    if (!b->data || b->dtype != ZN_DTYPE_FLOAT32 || b->batch_axis >= 0 || !zn_value_num_elements(b, 1, &count) ||
        b->num_dims > y->num_dims || b->data_bytes < (size_t)count * sizeof(float))
      return -1;
    if (count == 1) return XP_BIN_SCALAR;
    /* right-aligned to y: one axis of y's channel size (4-D: axis 1; else the
     * last, never the batch axis), the rest 1 */
    const int ax = y->num_dims == 4 ? 1 : y->num_dims - 1, off = y->num_dims - b->num_dims;
    if (ax == y->batch_axis) return -1;
    for (int i = 0; i < b->num_dims; i++)
      if (b->dims[i] != (i + off == ax ? y->dims[ax] : 1)) return -1;
    return ax - off >= 0 ? XP_BIN_CHANNEL : -1;
  }
  return -1;
}

/* A float32 activation of x's rank that a strided copy can write: 4-D ones
 * are NHWC. */
static bool copy_out_ok(const zn_value *x, const zn_value *y) {
  return f32_activation(x) && y && !y->data && y->dtype == ZN_DTYPE_FLOAT32 && y->num_dims == x->num_dims &&
         (y->num_dims != 4 || nhwc_ok(y));
}

/* Transpose: output axis i reads input axis axis_out[i] (perm; none given:
 * the axes reversed), y's dims and batch axis x's permuted. */
static bool transpose_axes(const zn_graph *g, const zn_node *n, int axis_out[ZN_MAX_DIMS]) {
  const zn_value *x = node_in(g, n, 0), *y = val(g, n->outputs[0]);
  const zn_transpose_attrs *a = &n->attrs.transpose;
  if (n->num_inputs != 1 || !copy_out_ok(x, y) || (a->num_perm != 0 && a->num_perm != x->num_dims)) return false;
  bool seen[ZN_MAX_DIMS] = {false};
  for (int i = 0; i < x->num_dims; i++) {
    const int64_t p = a->num_perm ? a->perm[i] : x->num_dims - 1 - i;
    if (p < 0 || p >= x->num_dims || seen[p] || y->dims[i] != x->dims[p] || (y->batch_axis == i) != (x->batch_axis == p))
      return false;
    seen[p] = true;
    axis_out[i] = (int)p;
  }
  return true;
}

/* The int32/int64 elements of a constant with no batch-dependent entry. */
static bool const_ints(const zn_value *v, int64_t *out, int max, int *count_out) {
  int64_t count;
  if (!v || !v->data || v->batch_axis >= 0 || v->batch_elems || !zn_value_num_elements(v, 1, &count) || count > max)
    return false;
  const size_t eb = v->dtype == ZN_DTYPE_INT64 ? 8 : v->dtype == ZN_DTYPE_INT32 ? 4 : 0;
  if (!eb || v->data_bytes < (size_t)count * eb) return false;
  for (int64_t i = 0; i < count; i++)
    out[i] = eb == 8 ? ((const int64_t *)v->data)[i] : ((const int32_t *)v->data)[i];
  *count_out = (int)count;
  return true;
}

/* Slice (opset 10+) with constant starts, ends, axes and steps, none on the
 * batch axis: the first element and step along each axis (0 and 1 where not
 * sliced), y's dims the ranges' lengths. */
static bool slice_ranges(const zn_graph *g, const zn_node *n, int64_t start[ZN_MAX_DIMS], int64_t step[ZN_MAX_DIMS]) {
  const zn_value *x = node_in(g, n, 0), *y = val(g, n->outputs[0]);
  if (n->num_inputs < 3 || n->num_inputs > 5 || !copy_out_ok(x, y) || y->batch_axis != x->batch_axis) return false;
  int64_t p[4][ZN_MAX_DIMS];
  int cnt[4] = {0, 0, 0, 0};
  for (int k = 0; k < 4; k++) {
    const bool given = k + 1 < n->num_inputs && zn_node_input(n, k + 1) != ZN_NO_VALUE;
    if (k < 2 && !given) return false;
    if (given && !const_ints(node_in(g, n, k + 1), p[k], ZN_MAX_DIMS, &cnt[k])) return false;
    if (given && cnt[k] != cnt[0]) return false;
    if (!given) cnt[k] = -1;
  }
  bool seen[ZN_MAX_DIMS] = {false};
  for (int i = 0; i < x->num_dims; i++) start[i] = 0, step[i] = 1;
  for (int i = 0; i < cnt[0]; i++) {
    int64_t ax = cnt[2] >= 0 ? p[2][i] : i;
    if (ax < 0) ax += x->num_dims;
    if (ax < 0 || ax >= x->num_dims || seen[ax] || ax == x->batch_axis) return false;
    seen[ax] = true;
    step[ax] = cnt[3] >= 0 ? p[3][i] : 1;
    if (step[ax] == 0) return false;
    int64_t len;
    zn_slice_resolve(x->dims[ax], p[0][i], p[1][i], step[ax], &start[ax], &len);
    if (len != y->dims[ax]) return false;
    if (len <= 1) step[ax] = 1; /* never taken: keeps step x stride from overflowing */
  }
  for (int i = 0; i < x->num_dims; i++)
    if (!seen[i] && y->dims[i] != x->dims[i]) return false;
  return true;
}

/* A channel shuffle starting at Reshape node i (ShuffleNet): x [N,C,H,W]
 * (NHWC) -> [N,g,C/g,H,W], read only by a Transpose of perm (0,2,1,3,4), read
 * only by a Reshape back to x's dims (NHWC). Returns g and the other two
 * nodes; 0 when node i does not start one. */
static int64_t channel_shuffle(const zn_graph *g, int i, int *t_node, int *r_node) {
  const int64_t groups = zn_graph_channel_shuffle(g, i, t_node, r_node);
  if (groups < 1 || !reshape_ok(g, &g->nodes[i]) || !reshape_ok(g, &g->nodes[*r_node]) ||
      !nhwc_ok(node_in(g, &g->nodes[i], 0)) || !nhwc_ok(val(g, g->nodes[*r_node].outputs[0])))
    return 0;
  return groups;
}

/* A Slice of a channel range (step 1, every other axis whole) of an NHWC
 * value: its output can be a view of the input (offset start[1]). */
static bool channel_slice_view(const zn_graph *g, const zn_node *n, const int64_t *start, const int64_t *step) {
  const zn_value *x = node_in(g, n, 0), *y = val(g, n->outputs[0]);
  if (n->op != ZN_OP_SLICE || !nhwc_ok(x) || !nhwc_ok(y) || step[1] != 1) return false;
  for (int a = 0; a < 4; a++)
    if (a != 1 && (start[a] != 0 || y->dims[a] != x->dims[a])) return false;
  return start[1] >= 0 && start[1] + y->dims[1] <= x->dims[1];
}

static bool xp_runs(const zn_graph *g, const zn_node *n) {
  const zn_value *x = node_in(g, n, 0), *y = val(g, n->outputs[0]);
  switch (n->op) {
  case ZN_OP_CONV: return conv_ok(g, n);
  case ZN_OP_GEMM: return gemm_ok(g, n);
  case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL: return pool_ok(g, n);
  case ZN_OP_GLOBAL_AVERAGE_POOL: case ZN_OP_GLOBAL_MAX_POOL:
    return n->num_inputs == 1 && nhwc_ok(x) && nhwc_ok(y) && y->dims[1] == x->dims[1] && y->dims[2] == 1 &&
           y->dims[3] == 1 && y->dims[0] == x->dims[0];
  case ZN_OP_CLIP:
    if (!clip_ok(g, n)) return false;
    /* fall through */
  case ZN_OP_LEAKY_RELU: case ZN_OP_SWISH:
    if (!isfinite(n->attrs.act.alpha)) return false;
    /* fall through */
  case ZN_OP_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SWISH: case ZN_OP_HARD_SIGMOID: case ZN_OP_TANH:
  case ZN_OP_GELU:
    return f32_activation(x) && same_dims(x, y) && x->dims[x->num_dims - 1] >= 1 &&
           (x->num_dims == 4 || x->batch_axis != x->num_dims - 1) && (n->op == ZN_OP_CLIP || n->num_inputs == 1);
  case ZN_OP_SOFTMAX: return softmax_ok(g, n) && same_dims(x, y);
  case ZN_OP_BATCH_NORM:
    if (n->num_inputs != 5 || !nhwc_ok(x) || !same_dims(x, y)) return false;
    for (int k = 1; k < 5; k++)
      if (!f32_const(node_in(g, n, k), x->dims[1])) return false;
    return true;
  case ZN_OP_LRN: return n->num_inputs == 1 && nhwc_ok(x) && same_dims(x, y) && n->attrs.lrn.size >= 1;
  case ZN_OP_LAYER_NORM: {
    if (n->num_inputs < 2 || n->num_inputs > 3 || !f32_activation(x) || !same_dims(x, y) ||
        n->attrs.layer_norm.axis != x->num_dims - 1 || x->batch_axis == x->num_dims - 1)
      return false;
    const int64_t C = x->dims[x->num_dims - 1];
    return f32_const(node_in(g, n, 1), C) &&
           (n->num_inputs < 3 || zn_node_input(n, 2) == ZN_NO_VALUE || f32_const(node_in(g, n, 2), C));
  }
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: return binary_form(g, n, NULL) >= 0;
  case ZN_OP_CONCAT: return concat_ok(g, n);
  case ZN_OP_FLATTEN: case ZN_OP_RESHAPE: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: case ZN_OP_IDENTITY:
    return reshape_ok(g, n);
  case ZN_OP_GATHER: {
    int axis;
    int64_t index;
    return f32_activation(x) && (y->num_dims != 4 || nhwc_ok(y)) && zn_gather_one_index(g, n, &axis, &index);
  }
  case ZN_OP_TRANSPOSE: {
    int axes[ZN_MAX_DIMS];
    return transpose_axes(g, n, axes);
  }
  case ZN_OP_SLICE: {
    int64_t start[ZN_MAX_DIMS], step[ZN_MAX_DIMS];
    return slice_ranges(g, n, start, step);
  }
  default: return false;
  }
}

/* What a refused op needs here, for the refusal's reason; NULL: not implemented. */
static const char *xp_needs(zn_op op) {
  switch (op) {
  case ZN_OP_CONV:
    return "a 2-D convolution of float32 NHWC activations by constant float32 weights, explicit pads whose output "
           "size XNNPACK's window rule gives, a fused activation other than a reversed Clip (LeakyRelu: finite "
           "alpha), at most 2^26 output pixels x window elements";
  case ZN_OP_GEMM:
    return "a 2-D float32 activation A (no transA), a constant float32 B and bias, finite alpha/beta, a fused "
           "activation other than a reversed Clip (LeakyRelu: finite alpha)";
  case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL:
    return "2-D pooling of float32 activations, explicit pads, a window of 2 or more elements (AveragePool: no "
           "dilation), at most 2^26 output pixels x window elements";
  case ZN_OP_GLOBAL_AVERAGE_POOL: case ZN_OP_GLOBAL_MAX_POOL: return "a 4-D float32 activation";
  case ZN_OP_SOFTMAX: return "a float32 activation, softmax over the channels (4-D) or the last axis";
  case ZN_OP_BATCH_NORM: return "a 4-D float32 activation and constant float32 per-channel parameters";
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV:
    return "a float32 activation of the output's shape and another of it, a constant scalar or one value per "
           "channel ([C,1,1]), or a 4-D activation [N,C,1,1] (one value per image and channel); Sub and Div with "
           "the smaller operand second";
  case ZN_OP_CONCAT: return "4-D float32 activations joined along the channels";
  case ZN_OP_FLATTEN: case ZN_OP_RESHAPE: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: case ZN_OP_IDENTITY:
    return "a float32 activation whose element count per image does not change";
  case ZN_OP_CLIP: case ZN_OP_RELU: case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SWISH:
  case ZN_OP_HARD_SIGMOID: case ZN_OP_TANH: case ZN_OP_SWISH: case ZN_OP_GELU:
    return "a float32 activation and an output of its shape (Clip: constant bounds; LeakyRelu, Swish: finite alpha)";
  case ZN_OP_LRN: return "a 4-D float32 activation";
  case ZN_OP_LAYER_NORM:
    return "a float32 activation normalised over its last axis (not the batch axis), with constant float32 scale "
           "and bias of that axis's size";
  case ZN_OP_GATHER: return "one constant index of a float32 activation, on an axis other than the batch";
  case ZN_OP_TRANSPOSE: return "a float32 activation whose batch axis the permutation carries along";
  case ZN_OP_SLICE:
    return "a float32 activation sliced by constant int32/int64 starts, ends, axes and steps, not on the batch axis";
  default: return NULL;
  }
}

static bool xp_supports_node(const zn_graph *g, const zn_node *n, char *why, size_t why_size) {
  if (n->op == ZN_OP_LAYER_NORM && n->num_outputs > 1)
    return zn_backend_refuse(why, why_size, "LayerNormalization: the Mean and InvStdDev outputs are not implemented "
                             "(only Y)");
  if (n->num_outputs != 1 || !val(g, n->outputs[0]) || n->num_inputs < 1 || !node_in(g, n, 0))
    return zn_backend_refuse(why, why_size, "%s: only nodes with an input and one output", zn_op_name(n->op));
  if (val(g, n->outputs[0])->dtype != ZN_DTYPE_FLOAT32)
    return zn_backend_refuse(why, why_size, "%s: the output is %s; xnnpack runs float32", zn_op_name(n->op),
                             zn_dtype_name(val(g, n->outputs[0])->dtype));
  if (xp_runs(g, n)) return true;
  const char *needs = xp_needs(n->op);
  return needs ? zn_backend_refuse(why, why_size, "%s: only %s", zn_op_name(n->op), needs)
               : zn_backend_refuse(why, why_size, "%s is not implemented", zn_op_name(n->op));
}

/* ---- compile ---- */

static xp_kind kind_of(zn_op op) {
  switch (op) {
  case ZN_OP_CONV: return XP_CONV;
  case ZN_OP_GEMM: return XP_FC;
  case ZN_OP_MAX_POOL: return XP_MAX_POOL;
  case ZN_OP_AVERAGE_POOL: return XP_AVG_POOL;
  case ZN_OP_GLOBAL_AVERAGE_POOL: return XP_GAP;
  case ZN_OP_GLOBAL_MAX_POOL: return XP_GMP;
  case ZN_OP_RELU: case ZN_OP_CLIP: return XP_CLAMP;
  case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SWISH: case ZN_OP_HARD_SIGMOID: case ZN_OP_TANH:
  case ZN_OP_SWISH: case ZN_OP_GELU:
    return XP_UNARY;
  case ZN_OP_LAYER_NORM: return XP_LAYER_NORM;
  case ZN_OP_SOFTMAX: return XP_SOFTMAX;
  case ZN_OP_BATCH_NORM: return XP_BATCH_NORM;
  case ZN_OP_LRN: return XP_LRN;
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: return XP_BINARY;
  case ZN_OP_CONCAT: return XP_CONCAT;
  case ZN_OP_GATHER: return XP_GATHER;
  case ZN_OP_TRANSPOSE: case ZN_OP_SLICE: return XP_STRIDED_COPY;
  default: return XP_RESHAPE;
  }
}

static void xp_compiled_destroy(void *compiled) {
  xp_compiled *c = compiled;
  if (!c) return;
  for (int s = 0; c->steps && s < c->num_steps; s++) {
    zn_free(c->steps[s].bn_scale);
    zn_free(c->steps[s].bn_shift);
  }
  zn_free(c->steps);
  zn_free(c->values);
  zn_free(c);
}

/* Zero-copy concatenation. Concats are visited last to first, so a concat's
 * output already has its final place (perhaps itself a slice of a later
 * concat) when its inputs are placed: each input not yet placed elsewhere
 * becomes a channel slice of the output. A concat whose inputs all already
 * sit, in order, in one buffer (DenseNet's growing concats are prefixes of
 * the block's last one) becomes a view itself and does nothing at run time. */
static void plan_concats(const zn_graph *g, xp_compiled *c) {
  for (int i = g->num_nodes - 1; i >= 0; i--) {
    const zn_node *n = &g->nodes[i];
    if (n->op != ZN_OP_CONCAT) continue;
    xp_step *st = NULL;
    for (int s = 0; s < c->num_steps; s++)
      if (c->steps[s].node == i) st = &c->steps[s];
    const int o = n->outputs[0];
    xp_value *ov = &c->values[o];
    /* All inputs already consecutive in one root? Then the output is a view. */
    const int r0 = c->values[zn_node_input(n, 0)].root;
    bool in_place = ov->root == o && r0 != zn_node_input(n, 0) && !g->values[o].is_input;
    int64_t off = c->values[zn_node_input(n, 0)].chan_offset;
    for (int k = 0; in_place && k < n->num_inputs; k++) {
      const int x = zn_node_input(n, k);
      in_place = c->values[x].root == r0 && c->values[x].chan_offset == off;
      off += g->values[x].dims[1];
    }
    if (in_place) {
      ov->root = r0;
      ov->chan_offset = c->values[zn_node_input(n, 0)].chan_offset;
      st->kind = XP_VIEW;
      c->num_kind[XP_CONCAT]--, c->num_kind[XP_VIEW]++;
      continue;
    }
    off = ov->chan_offset;
    for (int k = 0; k < n->num_inputs; k++) {
      const int x = zn_node_input(n, k);
      xp_value *xv = &c->values[x];
      bool placed_elsewhere = xv->root != x;
      /* A value that already owns slices cannot move (it is their root). */
      for (int v = 0; !placed_elsewhere && v < g->num_values; v++)
        placed_elsewhere = v != x && c->values[v].root == x;
      if (!placed_elsewhere && x != o) {
        xv->root = ov->root;
        xv->chan_offset = off;
        c->num_views++;
      } else if (!(xv->root == ov->root && xv->chan_offset == off)) {
        c->num_concat_copies++;
      }
      off += g->values[x].dims[1];
    }
  }
}

static zn_status add_step(xp_compiled *c, int *cap, xp_step st) {
  if (c->num_steps == *cap) {
    const int ncap = *cap ? 2 * *cap : 64;
    xp_step *ns = zn_realloc(c->steps, (size_t)ncap * sizeof *ns);
    if (!ns) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to compile graph for xnnpack: out of memory");
    c->steps = ns, *cap = ncap;
  }
  c->steps[c->num_steps++] = st;
  return ZN_OK;
}

/* Output-channel slices of a dense convolution (see ZN_XNNPACK_SLICE_BYTES_DEFAULT):
 * at batch 1 XNNPACK streams the whole packed weight panel once per tile of
 * output pixels, so a 3x3 512->512 conv (9.4 MB) runs from L3 at ~70% of the
 * speed of one whose panel fits L2. Slices are multiples of 16 channels (a
 * multiple of every f32 GEMM tile width of XNNPACK on x86 and ARM). */
static void plan_conv_slices(xp_compiled *c, const zn_value *w, int64_t group, xp_step *st) {
  const int64_t cout = w->dims[0];
  st->conv_slices = 1;
  st->slice_channels = cout;
  const size_t bytes = w->data_bytes;
  if (group != 1 || c->slice_bytes == 0 || bytes <= c->slice_bytes || cout < 32) return;
  const int64_t want = (int64_t)((bytes + c->slice_bytes - 1) / c->slice_bytes);
  int64_t ch = (cout + want - 1) / want;
  ch = (ch + 15) / 16 * 16;
  if (ch >= cout) return;
  st->slice_channels = ch;
  st->conv_slices = (int)((cout + ch - 1) / ch);
  c->num_sliced_convs++;
  c->num_conv_slices += st->conv_slices;
}

/* A stem conv (at most 4 input channels, a kernel of 5x5 or more, group 1,
 * dilation 1, no fused residual): XNNPACK's IGEMM walks its kh * kw
 * indirection entries with only ic floats each, far from its GEMM speed, so
 * the backend writes im2col rows (K = kh * kw * ic contiguous floats per
 * output pixel) in L2-sized blocks and runs a fully-connected GEMM on them
 * (docs/internals/xnnpack.md). */
static bool im2col_eligible(const zn_graph *g, const zn_node *n) {
  const zn_conv_attrs *a = &n->attrs.conv;
  const zn_value *w = node_in(g, n, 1);
  if (!w || w->num_dims != 4 || a->group != 1 || w->dims[1] > 4 || w->dims[2] * w->dims[3] < 25) return false;
  if (a->dilation[0] != 1 || a->dilation[1] != 1) return false;
  return !(n->num_inputs > 3 && zn_node_input(n, 3) != ZN_NO_VALUE);
}

/* Channel Slice views follow their input's place: set before the concats
 * are planned (so that a concat does not claim them, and does not move an
 * input they view), and again after (their input may have become a slice of
 * a concat). Steps run in graph order, so a view of a view resolves. */
static void place_slice_views(xp_compiled *c) {
  for (int s = 0; s < c->num_steps; s++) {
    const xp_step *st = &c->steps[s];
    if (st->kind != XP_SLICE_VIEW) continue;
    c->values[st->out].root = c->values[st->in].root;
    c->values[st->out].chan_offset = c->values[st->in].chan_offset + st->copy_start[1];
  }
}

static zn_status build(const zn_graph *g, xp_compiled *c, bool *folded) {
  int cap = 0;
  for (int v = 0; v < g->num_values; v++) {
    c->values[v].root = v;
    c->values[v].nhwc = nhwc_ok(&g->values[v]);
  }
  for (int i = 0; i < g->num_inputs; i++) {
    const int v = g->inputs[i];
    if (!val(g, v) || (g->values[v].dtype != ZN_DTYPE_FLOAT32))
      return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile graph for xnnpack: input %d is not float32", i);
    ZN_TRY(add_step(c, &cap, (xp_step){.kind = XP_IMPORT, .node = -1, .io = i, .in = -1, .out = v}));
  }
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if (folded[i]) continue; /* run by an earlier step (a channel shuffle's Transpose and Reshape) */
    xp_step st = {.kind = kind_of(n->op), .node = i, .io = -1, .in = zn_node_input(n, 0), .out = n->outputs[0]};
    st.out_min = -INFINITY, st.out_max = INFINITY;
    int t_node, r_node;
    if (c->shuffle && (st.shuffle_groups = channel_shuffle(g, i, &t_node, &r_node)) > 0) {
      st.kind = XP_SHUFFLE;
      st.out = g->nodes[r_node].outputs[0]; /* the 5-D values in between are never stored */
      st.num_folded = 2, st.folded[0] = t_node, st.folded[1] = r_node;
      folded[t_node] = folded[r_node] = true;
    }
    if (n->op == ZN_OP_CONV) {
      act_range(&n->attrs.conv.act, &st.out_min, &st.out_max);
      if (zn_xnnpack_winograd_eligible(g, n, c->winograd)) {
        st.kind = XP_WINOGRAD; /* 16 or 36 GEMMs of [oc][ic] each: never sliced */
        st.wino_out_tile = zn_xnnpack_winograd_out_tile(g, n, c->winograd);
        if (st.wino_out_tile == 4) c->num_winograd43++;
        st.conv_slices = 1;
        st.slice_channels = node_in(g, n, 1)->dims[0];
      } else if (c->im2col && im2col_eligible(g, n)) {
        st.kind = XP_IM2COL;
        st.conv_slices = 1;
        st.slice_channels = node_in(g, n, 1)->dims[0];
      } else {
        plan_conv_slices(c, node_in(g, n, 1), n->attrs.conv.group, &st);
      }
    }
    if (n->op == ZN_OP_GEMM) act_range(&n->attrs.gemm.act, &st.out_min, &st.out_max);
    const zn_act *fused = n->op == ZN_OP_CONV ? &n->attrs.conv.act : n->op == ZN_OP_GEMM ? &n->attrs.gemm.act : NULL;
    if (fused && post_act_ok(fused)) st.act = *fused; /* after the op, in place; act_range left it unclamped */
    if (st.kind == XP_UNARY) {
      static const zn_act_kind unary_act[ZN_OP_COUNT] = {
          [ZN_OP_LEAKY_RELU] = ZN_ACT_LEAKY_RELU, [ZN_OP_SIGMOID] = ZN_ACT_SIGMOID,
          [ZN_OP_HARD_SWISH] = ZN_ACT_HARD_SWISH, [ZN_OP_HARD_SIGMOID] = ZN_ACT_HARD_SIGMOID,
          [ZN_OP_TANH] = ZN_ACT_TANH, [ZN_OP_SWISH] = ZN_ACT_SWISH, [ZN_OP_GELU] = ZN_ACT_GELU};
      st.act = n->attrs.act; /* the op decides the function; attrs carry its parameters */
      st.act.kind = unary_act[n->op];
    }
    if (n->op == ZN_OP_TRANSPOSE) {
      transpose_axes(g, n, st.copy_axis);
      for (int d = 0; d < ZN_MAX_DIMS; d++) st.copy_start[d] = 0, st.copy_step[d] = 1;
    }
    if (n->op == ZN_OP_SLICE) {
      slice_ranges(g, n, st.copy_start, st.copy_step);
      for (int d = 0; d < ZN_MAX_DIMS; d++) st.copy_axis[d] = d;
      if (c->slice_views && channel_slice_view(g, n, st.copy_start, st.copy_step)) st.kind = XP_SLICE_VIEW;
    }
    if (st.kind == XP_GATHER) zn_gather_one_index(g, n, &st.gather_axis, &st.gather_index);
    if (st.kind == XP_BINARY) {
      int k = 0;
      st.bin_form = (xp_binary_form)binary_form(g, n, &k);
      st.in = zn_node_input(n, k);
      st.bin_other = zn_node_input(n, 1 - k);
    }
    if (n->op == ZN_OP_RELU) st.out_min = 0.0f;
    if (n->op == ZN_OP_CLIP) {
      zn_act a = n->attrs.act;
      if (n->num_inputs > 1 && zn_node_input(n, 1) != ZN_NO_VALUE) a.alpha = *(const float *)node_in(g, n, 1)->data;
      if (n->num_inputs > 2 && zn_node_input(n, 2) != ZN_NO_VALUE) a.beta = *(const float *)node_in(g, n, 2)->data;
      a.kind = ZN_ACT_CLIP;
      act_range(&a, &st.out_min, &st.out_max);
      if (!(st.out_min < st.out_max))
        return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile node '%s' (Clip) for xnnpack: min %g >= max %g",
                        n->name, st.out_min, st.out_max);
    }
    if (n->op == ZN_OP_MAX_POOL || n->op == ZN_OP_AVERAGE_POOL) {
      const zn_pool_attrs *a = &n->attrs.pool;
      const zn_value *x = node_in(g, n, 0), *y = val(g, n->outputs[0]);
      st.extra_h = (uint32_t)extra_pad(x->dims[2], a->pad_begin[0], a->pad_end[0], a->kernel[0], a->dilation[0],
                                       a->stride[0], y->dims[2]);
      st.extra_w = (uint32_t)extra_pad(x->dims[3], a->pad_begin[1], a->pad_end[1], a->kernel[1], a->dilation[1],
                                       a->stride[1], y->dims[3]);
    }
    if (n->op == ZN_OP_BATCH_NORM) {
      const int64_t C = node_in(g, n, 0)->dims[1];
      st.bn_scale = zn_malloc((size_t)C * sizeof(float));
      st.bn_shift = zn_malloc((size_t)C * sizeof(float));
      if (!st.bn_scale || !st.bn_shift) {
        zn_free(st.bn_scale), zn_free(st.bn_shift);
        return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to compile node '%s' for xnnpack: out of memory", n->name);
      }
      const float *gam = node_in(g, n, 1)->data, *bet = node_in(g, n, 2)->data, *mean = node_in(g, n, 3)->data,
                  *var = node_in(g, n, 4)->data;
      for (int64_t k = 0; k < C; k++) {
        st.bn_scale[k] = gam[k] / sqrtf(var[k] + n->attrs.batch_norm.epsilon);
        st.bn_shift[k] = bet[k] - mean[k] * st.bn_scale[k];
      }
      c->weight_bytes += 2 * (size_t)C * sizeof(float);
    }
    zn_status s = add_step(c, &cap, st);
    if (s != ZN_OK) {
      zn_free(st.bn_scale), zn_free(st.bn_shift);
      return s;
    }
    c->num_kind[st.kind]++;
    /* Constants XNNPACK packs into every instance's operators. */
    if (n->op == ZN_OP_CONV || n->op == ZN_OP_GEMM)
      for (int k = 1; k < ZN_MIN(n->num_inputs, 3); k++) {
        const zn_value *w = node_in(g, n, k);
        if (!w || !w->data) continue;
        c->weight_bytes += w->data_bytes;
        /* Winograd packs 16 (36) [oc][ic] matrices for the 9 taps of each filter. */
        c->packed_estimate_bytes += st.kind == XP_WINOGRAD && k == 1
                                        ? w->data_bytes / 9 * (st.wino_out_tile == 4 ? 36 : 16)
                                        : w->data_bytes;
      }
  }
  for (int i = 0; i < g->num_outputs; i++)
    ZN_TRY(add_step(c, &cap, (xp_step){.kind = XP_EXPORT, .node = -1, .io = i, .in = g->outputs[i], .out = -1}));
  place_slice_views(c);
  plan_concats(g, c);
  place_slice_views(c);
  for (int s = 0; s < c->num_steps; s++) {
    const xp_step *st = &c->steps[s];
    if (st->in >= 0) c->values[st->in].used = true;
    if (st->out >= 0) c->values[st->out].used = true;
    const zn_node *n = st->node >= 0 ? &g->nodes[st->node] : NULL;
    for (int k = 0; n && k < n->num_inputs; k++)
      if (zn_node_input(n, k) >= 0) c->values[zn_node_input(n, k)].used = true;
  }
  for (int v = 0; v < g->num_values; v++) {
    xp_value *xv = &c->values[v];
    if (xv->nhwc) xv->pixel_stride = g->values[xv->root].dims[1];
    if (xv->used && !g->values[v].data && g->values[v].num_dims < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to compile graph for xnnpack: value '%s' has no shape",
                      g->values[v].name);
  }
  return ZN_OK;
}

static zn_status xp_compile(const zn_graph *g, const zn_backend_compile_options *opts, void **compiled_out) {
  *compiled_out = NULL;
  if (!zn_xnnpack_init())
    return zn_error(ZN_ERR_UNSUPPORTED_HARDWARE, "failed to compile graph for xnnpack: xnn_initialize failed on this CPU");
  if (opts && opts->precision != ZN_PRECISION_FP32)
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile graph for xnnpack: only fp32 is supported");
  char why[256];
  for (int i = 0; i < g->num_nodes; i++)
    if (!xp_supports_node(g, &g->nodes[i], why, sizeof why))
      return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile node '%s' (%s) for xnnpack: %s", g->nodes[i].name,
                      zn_op_name(g->nodes[i].op), why);
  xp_compiled *c = zn_calloc(1, sizeof *c);
  if (c) c->values = zn_calloc((size_t)g->num_values + 1, sizeof *c->values);
  if (!c || !c->values) {
    xp_compiled_destroy(c);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to compile graph for xnnpack: out of memory");
  }
  c->g = g;
  c->slice_bytes = zn_env_kib("ZN_XNNPACK_SLICE_KB", ZN_XNNPACK_SLICE_BYTES_DEFAULT, "off");
  c->winograd = XP_WINOGRAD_AUTO;
  const char *e = getenv("ZN_XNNPACK_WINOGRAD");
  if (e && *e) {
    if (!strcmp(e, "0")) c->winograd = XP_WINOGRAD_OFF;
    else if (!strcmp(e, "all")) c->winograd = XP_WINOGRAD_ALL;
    else if (!strcmp(e, "all4")) c->winograd = XP_WINOGRAD_ALL4;
    else if (!strcmp(e, "f2")) c->winograd = XP_WINOGRAD_AUTO2;
    else if (strcmp(e, "1"))
      zn_log_warn("xnnpack: ignoring ZN_XNNPACK_WINOGRAD='%s' (want 0, 1, f2, all or all4)", e);
  }
  c->winograd_block_bytes =
      zn_env_kib("ZN_XNNPACK_WINOGRAD_BLOCK_KB", ZN_XNNPACK_WINOGRAD_BLOCK_BYTES_DEFAULT, "one block");
  c->im2col = zn_env_bool("ZN_XNNPACK_IM2COL", true);
  c->op_tasks = zn_env_bool("ZN_XNNPACK_OP_TASKS", true);
  c->shuffle = zn_env_bool("ZN_XNNPACK_SHUFFLE", true);
  c->slice_views = zn_env_bool("ZN_XNNPACK_SLICE_VIEWS", true);
  bool *folded = zn_calloc((size_t)g->num_nodes + 1, sizeof *folded);
  zn_status st = folded ? build(g, c, folded)
                        : zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to compile graph for xnnpack: out of memory");
  zn_free(folded);
  if (st != ZN_OK) {
    xp_compiled_destroy(c);
    return st;
  }
  zn_log_info("xnnpack: %d steps, %d zero-copy concat slices, %d concat copies; weights packed per instance "
              "(~%zu bytes each: this XNNPACK has no weights cache)",
              c->num_steps, c->num_views, c->num_concat_copies, c->packed_estimate_bytes);
  *compiled_out = c;
  return ZN_OK;
}

static size_t xp_weight_bytes(const void *compiled) { return ((const xp_compiled *)compiled)->weight_bytes; }

static size_t xp_describe(const void *compiled, char *buf, size_t buf_size) {
  const xp_compiled *c = compiled;
  size_t used = 0;
  char line[1024];
  int k = snprintf(line, sizeof line,
                   "xnnpack: XNNPACK operator API (Debian snapshot 2022-02), NHWC fp32, pthreadpool per instance\n"
                   "xnnpack: weights: no weights cache in this XNNPACK: every instance packs its own copy (~%zu bytes "
                   "each); shared read-only: graph constants + BN tables (%zu bytes)\n"
                   "xnnpack: concat: %d zero-copy channel slices, %d copies\n"
                   "xnnpack: %d dense convs split by output channels into %d operators (<= %zu KiB of weights each, "
                   "so each panel stays in L2)\n"
                   "xnnpack: %d 3x3 stride-1 convs run as Winograd F(2x2,3x3) (%s)\n"
                   "xnnpack: %d of them as F(4x4,3x3) instead (36 GEMMs)\n",
                   c->packed_estimate_bytes, c->weight_bytes, c->num_views, c->num_concat_copies,
                   c->num_sliced_convs, c->num_conv_slices, c->slice_bytes / 1024, c->num_kind[XP_WINOGRAD],
                   c->winograd == XP_WINOGRAD_OFF   ? "off: ZN_XNNPACK_WINOGRAD=0"
                   : c->winograd == XP_WINOGRAD_ALL ? "every eligible conv: ZN_XNNPACK_WINOGRAD=all"
                   : c->winograd == XP_WINOGRAD_ALL4 ? "every eligible conv: ZN_XNNPACK_WINOGRAD=all4"
                   : c->winograd == XP_WINOGRAD_AUTO2 ? "where it pays, F(2x2,3x3) only: ZN_XNNPACK_WINOGRAD=f2"
                                                    : "where it pays; ZN_XNNPACK_WINOGRAD=0 turns it off",
                   c->num_winograd43);
  for (int pass = 0; pass <= XP_KIND_COUNT; pass++) {
    if (pass > 0) {
      const int kd = pass - 1;
      if (!c->num_kind[kd]) continue;
      k = snprintf(line, sizeof line, "xnnpack: %3d x %s\n", c->num_kind[kd], zn_xnnpack_kind_name((xp_kind)kd));
    }
    if (k > 0) {
      if (used < buf_size) snprintf(buf + used, buf_size - used, "%s", line);
      used += (size_t)k;
    }
  }
  return used;
}

const zn_backend_ops zn_backend_xnnpack = {
    .abi_version = ZN_BACKEND_ABI_VERSION,
    .name = "xnnpack",
    .available = xp_available,
    .supports_node = xp_supports_node,
    .compile = xp_compile,
    .compiled_destroy = xp_compiled_destroy,
    .weight_bytes = xp_weight_bytes,
    .instance_create = zn_xnnpack_instance_create,
    .instance_reshape = zn_xnnpack_instance_reshape,
    .instance_arena_bytes = zn_xnnpack_instance_arena_bytes,
    .instance_run = zn_xnnpack_instance_run,
    .instance_num_steps = zn_xnnpack_instance_num_steps,
    .instance_run_profiled = zn_xnnpack_instance_run_profiled,
    .instance_step = zn_xnnpack_instance_step,
    .instance_destroy = zn_xnnpack_instance_destroy,
    .describe = xp_describe,
};
