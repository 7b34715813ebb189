/* The xnnpack backend, instance side. instance_create makes the XNNPACK
 * operators (XNNPACK packs the weights inside each operator: this snapshot has
 * no weights cache) and the instance's pthreadpool; instance_reshape resolves
 * shapes for a batch size, plans one arena (core/arena.h) and sets every
 * operator up on its fixed arena pointers; run converts the caller's NCHW
 * inputs into the arena, runs the steps and converts outputs back. run never
 * allocates and never creates an operator; it sets one up again only per
 * block (Winograd tile blocks, im2col row blocks: setup stores a batch size
 * and two arena pointers). */
#include <math.h>
#include <pthreadpool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/vmath.h"
#include "backend/xnnpack/xnnpack_internal.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/common.h"
#include "core/status.h"
#include "core/time.h"

typedef struct xp_tensor {
  float *data;
  int num_dims;
  int64_t dims[ZN_MAX_DIMS];
  int64_t count;
  int64_t n, c, h, w, stride;  /* NHWC values: pixel (n, h, w) channel c at data[((n*h+y)*w+x)*stride + c] */
} xp_tensor;

/* An im2col conv's run-time arguments, fixed at reshape: NHWC input and
 * output with pixel strides; col: `tasks` scratch blocks of block x k floats
 * (one per task, each task owning ops[task]). */
typedef struct xp_im2col_args {
  const float *x;
  int64_t x_stride, n, h, w, ic, kh, kw, stride_h, stride_w, pad_top, pad_left;
  float *y;
  int64_t y_stride, oh, ow;
  int64_t k, pixels, block; /* k = kh * kw * ic floats per row; rows per block */
  float *col;
  int tasks;
} xp_im2col_args;

/* Rows of an im2col block: about 256 KiB of scratch (L2-resident with the
 * block's output), at least 16 rows. */
#define IM2COL_BLOCK_BYTES ((size_t)256 * 1024)

typedef struct xp_instance {
  const xp_compiled *c;
  pthreadpool_t pool;            /* NULL: one thread (the caller) */
  xnn_operator_t *ops;           /* flat; op_start[s] .. op_start[s+1] belong to step s */
  int *op_start;
  xp_tensor *t;                  /* per value, valid after reshape */
  zn_arena_request *req;         /* per value, then per step (Winograd scratch) */
  zn_winograd_args *wino;        /* per step; filled at reshape for XP_WINOGRAD steps */
  bool *op_tasks;                /* per step: its operators run one per pool task, each on one thread */
  xp_im2col_args *im2col;        /* per step; filled at reshape for XP_IM2COL steps */
  int threads;
  const zn_backend_arena_source *arena_src;  /* NULL: the heap */
  void *arena;
  size_t arena_bytes;
  int64_t batch;                 /* 0 until reshaped */
} xp_instance;

static const zn_node *step_node(const xp_compiled *c, const xp_step *st) {
  return st->node >= 0 ? &c->g->nodes[st->node] : NULL;
}

static const zn_value *gval(const xp_compiled *c, int v) { return &c->g->values[v]; }

static int wino_positions(const xp_step *st) {
  return st->wino_out_tile == 4 ? ZN_WINOGRAD_F43_POSITIONS : ZN_WINOGRAD_F23_POSITIONS;
}

/* Does a conv / FC step run an activation after itself (st->act, which
 * XNNPACK cannot fuse)? Its operator is the step's last. */
static bool has_post_act(const xp_step *st) { return st->kind != XP_UNARY && st->act.kind != ZN_ACT_NONE; }

static int ops_for(const xp_compiled *c, const xp_step *st, int threads) {
  const int post = has_post_act(st) ? 1 : 0;
  switch (st->kind) {
  case XP_IMPORT: case XP_EXPORT: case XP_VIEW: case XP_RESHAPE: case XP_GATHER: case XP_BATCH_NORM: case XP_LRN:
  case XP_BINARY: case XP_STRIDED_COPY: case XP_SHUFFLE: case XP_SLICE_VIEW: case XP_LAYER_NORM:
  case XP_GMP:
    return 0;
  case XP_CONV: return st->conv_slices + 1 + post; /* the slices, then the residual add */
  case XP_WINOGRAD: return wino_positions(st) + post; /* one GEMM per transformed position */
  case XP_IM2COL: return threads + post;               /* one GEMM per thread, each on its own blocks */
  case XP_FC: return 1 + post;
  case XP_CONCAT: return step_node(c, st)->num_inputs;
  default: return 1;
  }
}

static zn_status xnn_fail(const zn_node *n, const char *what, enum xnn_status s) {
  if (s == xnn_status_out_of_memory)
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to %s for node '%s' (%s): XNNPACK is out of memory", what,
                    n ? n->name : "?", n ? zn_op_name(n->op) : "?");
  return zn_error(ZN_ERR_INTERNAL, "failed to %s for node '%s' (%s): XNNPACK status %d", what, n ? n->name : "?",
                  n ? zn_op_name(n->op) : "?", (int)s);
}

static bool has_residual(const zn_node *n) { return n->num_inputs > 3 && zn_node_input(n, 3) != ZN_NO_VALUE; }

/* Static (batch-independent) channel count of a plain value's rows. */
static size_t row_channels(const zn_value *v, const zn_node *n) {
  if (n && n->op == ZN_OP_SOFTMAX && v->num_dims != 4) {
    int64_t axis = n->attrs.softmax.axis < 0 ? n->attrs.softmax.axis + v->num_dims : n->attrs.softmax.axis;
    if (n->attrs.softmax.legacy_2d) {
      int64_t ch = 1;
      for (int i = (int)axis; i < v->num_dims; i++) ch *= v->dims[i];
      return (size_t)ch;
    }
  }
  return (size_t)(v->num_dims == 4 ? v->dims[1] : v->dims[v->num_dims - 1]);
}

/* Swish with alpha 1 runs XNNPACK's sigmoid into the step's scratch (rows x
 * ch floats, contiguous), then multiplies in a C loop; other alphas are one C
 * loop. */
static bool swish_gate(const zn_act *a) { return a->kind == ZN_ACT_SWISH && a->alpha == 1.0f; }

/* XNNPACK's operator for activation a on rows of ch channels (strides in
 * floats between rows); *op stays NULL where this XNNPACK has no f32 one
 * (HardSigmoid, Tanh, Swish with alpha != 1: a C loop at run). */
static enum xnn_status create_act(const zn_act *a, size_t ch, size_t is, size_t os, xnn_operator_t *op) {
  if (swish_gate(a)) return xnn_create_sigmoid_nc_f32(ch, is, ch, 0, op);
  switch (a->kind) {
  case ZN_ACT_SIGMOID: return xnn_create_sigmoid_nc_f32(ch, is, os, 0, op);
  case ZN_ACT_HARD_SWISH: return xnn_create_hardswish_nc_f32(ch, is, os, 0, op);
  case ZN_ACT_LEAKY_RELU: return xnn_create_leaky_relu_nc_f32(ch, is, os, a->alpha, 0, op);
  default: return xnn_status_success;
  }
}

/* y: the output, or for Swish the step's scratch (the gate). */
static enum xnn_status setup_act(const zn_act *a, xnn_operator_t op, size_t rows, const float *x, float *y,
                                 pthreadpool_t pool) {
  switch (a->kind) {
  case ZN_ACT_SIGMOID: case ZN_ACT_SWISH: return xnn_setup_sigmoid_nc_f32(op, rows, x, y, pool);
  case ZN_ACT_HARD_SWISH: return xnn_setup_hardswish_nc_f32(op, rows, x, y, pool);
  case ZN_ACT_LEAKY_RELU: return xnn_setup_leaky_relu_nc_f32(op, rows, x, y, pool);
  default: return xnn_status_success;
  }
}

/* Rows, channels per row and row strides of an activation's operand: pixels
 * of an NHWC value, else rows of its last axis (Softmax: its rows). */
static void act_rows(const xp_compiled *c, int v, const zn_node *n, const xp_tensor *t, size_t *rows, size_t *ch,
                     size_t *stride) {
  *ch = row_channels(gval(c, v), n);
  *rows = c->values[v].nhwc ? (size_t)(t->n * t->h * t->w) : (size_t)t->count / *ch;
  *stride = c->values[v].nhwc ? (size_t)c->values[v].pixel_stride : *ch;
}

static zn_status create_conv(xp_instance *in, const xp_step *st, xnn_operator_t *ops) {
  const xp_compiled *c = in->c;
  const zn_node *n = step_node(c, st);
  const zn_conv_attrs *a = &n->attrs.conv;
  const zn_value *w = gval(c, zn_node_input(n, 1));
  const int64_t cout = w->dims[0], cig = w->dims[1], kh = w->dims[2], kw = w->dims[3], G = a->group;
  size_t bytes;
  if (!zn_size_mul((size_t)(cout * cig), (size_t)(kh * kw) * sizeof(float), &bytes))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to create conv '%s': weights too large", n->name);
  float *k = zn_alloc_aligned(bytes);
  if (!k) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create conv '%s': %zu bytes", n->name, bytes);
  /* OIHW (ONNX) -> OHWI per group (XNNPACK). */
  const float *src = w->data;
  for (int64_t o = 0; o < cout; o++)
    for (int64_t i = 0; i < cig; i++)
      for (int64_t y = 0; y < kh; y++)
        for (int64_t x = 0; x < kw; x++) k[((o * kh + y) * kw + x) * cig + i] = src[((o * cig + i) * kh + y) * kw + x];
  const float *bias = n->num_inputs > 2 && zn_node_input(n, 2) != ZN_NO_VALUE ? gval(c, zn_node_input(n, 2))->data : NULL;
  const bool res = has_residual(n);
  const float lo = res ? -INFINITY : st->out_min, hi = res ? INFINITY : st->out_max;
  const xp_value *xv = &c->values[st->in], *yv = &c->values[st->out];
  enum xnn_status s = xnn_status_success;
  /* One operator per output-channel slice (one when not split); all write
   * into the same output with its pixel stride. */
  for (int sl = 0; sl < st->conv_slices && s == xnn_status_success; sl++) {
    const int64_t o0 = sl * st->slice_channels, oc = ZN_MIN(st->slice_channels, cout - o0);
    s = xnn_create_convolution2d_nhwc_f32(
        (uint32_t)a->pad_begin[0], (uint32_t)a->pad_end[1], (uint32_t)a->pad_end[0], (uint32_t)a->pad_begin[1],
        (uint32_t)kh, (uint32_t)kw, (uint32_t)a->stride[0], (uint32_t)a->stride[1], (uint32_t)a->dilation[0],
        (uint32_t)a->dilation[1], (uint32_t)G, (size_t)cig, (size_t)(st->conv_slices > 1 ? oc : cout / G),
        (size_t)xv->pixel_stride, (size_t)yv->pixel_stride, k + o0 * kh * kw * cig, bias ? bias + o0 : NULL, lo, hi,
        0, &ops[sl]);
  }
  zn_free_aligned(k); /* XNNPACK packed its own copy */
  if (s != xnn_status_success) return xnn_fail(n, "create XNNPACK convolution", s);
  if (res) {
    const int r = zn_node_input(n, 3);
    /* Dense output and residual: XNNPACK's add (with the activation as its
     * clamp); otherwise a strided C loop at run time. */
    if (yv->pixel_stride == gval(c, st->out)->dims[1] && c->values[r].pixel_stride == gval(c, r)->dims[1]) {
      s = xnn_create_add_nd_f32(st->out_min, st->out_max, 0, &ops[st->conv_slices]);
      if (s != xnn_status_success) return xnn_fail(n, "create XNNPACK add (residual)", s);
    }
  }
  return ZN_OK;
}

/* Does step st run its independent operators (a Winograd conv's 16 GEMMs, a
 * sliced conv's slices) as one pool task each, every operator on one thread
 * (set up with no pool), instead of splitting each operator over the pool?
 * One dispatch instead of one per operator, and each operator's packed
 * weights are read by one core only. Only when the operators divide evenly
 * over the threads (docs/internals/xnnpack.md). */
static bool use_op_tasks(const xp_instance *in, const xp_step *st) {
  if (!in->pool || !in->c->op_tasks) return false;
  const size_t threads = pthreadpool_get_threads_count(in->pool);
  if (st->kind == XP_WINOGRAD) return (size_t)wino_positions(st) % threads == 0;
  return st->kind == XP_CONV && st->conv_slices > 1 && (size_t)st->conv_slices % threads == 0;
}

/* Winograd tile blocking only on one thread: with a pool, each block's 18
 * dispatches cost more than L2 saves (docs/internals/xnnpack.md). */
static size_t winograd_block_bytes(const xp_instance *in) { return in->pool ? 0 : in->c->winograd_block_bytes; }

/* The 16 (F(2x2,3x3)) or 36 (F(4x4,3x3)) GEMMs of a Winograd conv: U[k] =
 * (G g G^T)[k] as [oc][ic] kernels, no bias and no clamp (the output
 * transform adds and clamps). */
static zn_status create_winograd(xp_instance *in, const xp_step *st, xnn_operator_t *ops) {
  const zn_node *n = step_node(in->c, st);
  const zn_value *w = gval(in->c, zn_node_input(n, 1));
  const int64_t oc = w->dims[0], ic = w->dims[1];
  size_t bytes;
  const int positions = wino_positions(st);
  if (!zn_size_mul((size_t)(oc * ic), (size_t)positions * sizeof(float), &bytes))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to create conv '%s': weights too large", n->name);
  float *u = zn_alloc_aligned(bytes);
  if (!u) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create Winograd conv '%s': %zu bytes", n->name, bytes);
  zn_winograd_weights(w->data, oc, ic, st->wino_out_tile, u);
  enum xnn_status s = xnn_status_success;
  for (int k = 0; k < positions && s == xnn_status_success; k++)
    s = xnn_create_fully_connected_nc_f32((size_t)ic, (size_t)oc, (size_t)ic, (size_t)oc, u + (size_t)k * oc * ic,
                                          NULL, -INFINITY, INFINITY, 0, &ops[k]);
  zn_free_aligned(u); /* XNNPACK packed its own copy */
  return s == xnn_status_success ? ZN_OK : xnn_fail(n, "create XNNPACK fully connected (Winograd)", s);
}

/* The GEMMs of an im2col conv: kernel [oc][kh][kw][ic] (OHWI, the order of an
 * im2col row), bias and clamp fused, output rows written with the output's
 * pixel stride. One per thread: each packs the (small: stem) weights again. */
static zn_status create_im2col(xp_instance *in, const xp_step *st, xnn_operator_t *ops) {
  const xp_compiled *c = in->c;
  const zn_node *n = step_node(c, st);
  const zn_value *w = gval(c, zn_node_input(n, 1));
  const int64_t oc = w->dims[0], ic = w->dims[1], kh = w->dims[2], kw = w->dims[3], K = kh * kw * ic;
  const float *src = w->data;
  float *k = zn_alloc_aligned((size_t)(oc * K) * sizeof(float));
  if (!k) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create im2col conv '%s': out of memory", n->name);
  for (int64_t o = 0; o < oc; o++)
    for (int64_t i = 0; i < ic; i++)
      for (int64_t y = 0; y < kh; y++)
        for (int64_t x = 0; x < kw; x++) k[o * K + (y * kw + x) * ic + i] = src[((o * ic + i) * kh + y) * kw + x];
  const int b = n->num_inputs > 2 ? zn_node_input(n, 2) : ZN_NO_VALUE;
  const float *bias = b != ZN_NO_VALUE ? gval(c, b)->data : NULL;
  enum xnn_status s = xnn_status_success;
  for (int t = 0; t < in->threads && s == xnn_status_success; t++)
    s = xnn_create_fully_connected_nc_f32((size_t)K, (size_t)oc, (size_t)K, (size_t)c->values[st->out].pixel_stride, k,
                                          bias, st->out_min, st->out_max, 0, &ops[t]);
  zn_free_aligned(k); /* XNNPACK packed its own copies */
  return s == xnn_status_success ? ZN_OK : xnn_fail(n, "create XNNPACK fully connected (im2col)", s);
}

static int64_t im2col_block_rows(int64_t k, int64_t pixels) {
  const int64_t rows = ZN_MAX((int64_t)(IM2COL_BLOCK_BYTES / ((size_t)k * sizeof(float))), 16);
  return ZN_MIN(rows, pixels);
}

static zn_status create_fc(xp_instance *in, const xp_step *st, xnn_operator_t *op) {
  const xp_compiled *c = in->c;
  const zn_node *n = step_node(c, st);
  const zn_gemm_attrs *a = &n->attrs.gemm;
  const zn_value *B = gval(c, zn_node_input(n, 1));
  const int64_t K = a->trans_b ? B->dims[1] : B->dims[0], M = a->trans_b ? B->dims[0] : B->dims[1];
  const float *kern = B->data, *bias = NULL;
  float *scaled = NULL, *sbias = NULL;
  if (a->alpha != 1.0f) {
    if (!(scaled = zn_alloc_aligned((size_t)(K * M) * sizeof(float))))
      return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create Gemm '%s': out of memory", n->name);
    for (int64_t i = 0; i < K * M; i++) scaled[i] = a->alpha * kern[i];
    kern = scaled;
  }
  if (n->num_inputs > 2 && zn_node_input(n, 2) != ZN_NO_VALUE && a->beta != 0.0f) {
    bias = gval(c, zn_node_input(n, 2))->data;
    if (a->beta != 1.0f) {
      if (!(sbias = zn_alloc_aligned((size_t)M * sizeof(float)))) {
        zn_free_aligned(scaled);
        return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create Gemm '%s': out of memory", n->name);
      }
      for (int64_t i = 0; i < M; i++) sbias[i] = a->beta * bias[i];
      bias = sbias;
    }
  }
  enum xnn_status s = xnn_create_fully_connected_nc_f32((size_t)K, (size_t)M, (size_t)K, (size_t)M, kern, bias,
                                                        st->out_min, st->out_max,
                                                        a->trans_b ? 0 : XNN_FLAG_TRANSPOSE_WEIGHTS, op);
  zn_free_aligned(scaled);
  zn_free_aligned(sbias);
  return s == xnn_status_success ? ZN_OK : xnn_fail(n, "create XNNPACK fully connected", s);
}

static zn_status create_step_ops(xp_instance *in, int si) {
  const xp_compiled *c = in->c;
  const xp_step *st = &c->steps[si];
  const zn_node *n = step_node(c, st);
  xnn_operator_t *ops = in->ops + in->op_start[si];
  const xp_value *xv = st->in >= 0 ? &c->values[st->in] : NULL, *yv = st->out >= 0 ? &c->values[st->out] : NULL;
  enum xnn_status s = xnn_status_success;
  switch (st->kind) {
  case XP_CONV: return create_conv(in, st, ops);
  case XP_WINOGRAD: return create_winograd(in, st, ops);
  case XP_IM2COL: return create_im2col(in, st, ops);
  case XP_FC: return create_fc(in, st, ops);
  case XP_MAX_POOL: case XP_AVG_POOL: {
    const zn_pool_attrs *a = &n->attrs.pool;
    const uint32_t pt = (uint32_t)a->pad_begin[0], pl = (uint32_t)a->pad_begin[1];
    const uint32_t pb = (uint32_t)a->pad_end[0] + st->extra_h, pr = (uint32_t)a->pad_end[1] + st->extra_w;
    const size_t C = (size_t)gval(c, st->in)->dims[1];
    if (st->kind == XP_MAX_POOL)
      s = xnn_create_max_pooling2d_nhwc_f32(pt, pr, pb, pl, (uint32_t)a->kernel[0], (uint32_t)a->kernel[1],
                                            (uint32_t)a->stride[0], (uint32_t)a->stride[1], (uint32_t)a->dilation[0],
                                            (uint32_t)a->dilation[1], C, (size_t)xv->pixel_stride,
                                            (size_t)yv->pixel_stride, -INFINITY, INFINITY, 0, ops);
    else
      s = xnn_create_average_pooling2d_nhwc_f32(pt, pr, pb, pl, (uint32_t)a->kernel[0], (uint32_t)a->kernel[1],
                                                (uint32_t)a->stride[0], (uint32_t)a->stride[1], C,
                                                (size_t)xv->pixel_stride, (size_t)yv->pixel_stride, -INFINITY,
                                                INFINITY, 0, ops);
    return s == xnn_status_success ? ZN_OK : xnn_fail(n, "create XNNPACK pooling", s);
  }
  case XP_GAP:
    s = xnn_create_global_average_pooling_nwc_f32((size_t)gval(c, st->in)->dims[1], (size_t)xv->pixel_stride,
                                                  (size_t)yv->pixel_stride, -INFINITY, INFINITY, 0, ops);
    return s == xnn_status_success ? ZN_OK : xnn_fail(n, "create XNNPACK global average pooling", s);
  case XP_CLAMP: case XP_UNARY: case XP_SOFTMAX: {
    const size_t ch = row_channels(gval(c, st->in), n);
    const size_t is = xv->nhwc ? (size_t)xv->pixel_stride : ch, os = yv->nhwc ? (size_t)yv->pixel_stride : ch;
    if (st->kind == XP_CLAMP) s = xnn_create_clamp_nc_f32(ch, is, os, st->out_min, st->out_max, 0, ops);
    else if (st->kind == XP_SOFTMAX) s = xnn_create_softmax_nc_f32(ch, is, os, 0, ops);
    else s = create_act(&st->act, ch, is, os, ops);
    return s == xnn_status_success ? ZN_OK : xnn_fail(n, "create XNNPACK elementwise operator", s);
  }
  case XP_CONCAT: {
    int64_t off = yv->chan_offset;
    for (int k = 0; k < n->num_inputs; k++) {
      const int x = zn_node_input(n, k);
      const int64_t ck = gval(c, x)->dims[1];
      if (!(c->values[x].root == yv->root && c->values[x].chan_offset == off)) {
        s = xnn_create_copy_nc_x32((size_t)ck, (size_t)c->values[x].pixel_stride, (size_t)yv->pixel_stride, 0, &ops[k]);
        if (s != xnn_status_success) return xnn_fail(n, "create XNNPACK copy (concat)", s);
      }
      off += ck;
    }
    return ZN_OK;
  }
  default: return ZN_OK;
  }
}

/* The step's operators, then the one for an activation after a conv / FC
 * (in place on its output: same stride in and out). */
static zn_status create_ops(xp_instance *in, int si) {
  const xp_compiled *c = in->c;
  const xp_step *st = &c->steps[si];
  ZN_TRY(create_step_ops(in, si));
  if (!has_post_act(st)) return ZN_OK;
  const zn_node *n = step_node(c, st);
  const zn_value *y = gval(c, st->out);
  const size_t ch = row_channels(y, n); /* NHWC channels, or a Gemm output's columns */
  const size_t stride = c->values[st->out].nhwc ? (size_t)c->values[st->out].pixel_stride : ch;
  const enum xnn_status s = create_act(&st->act, ch, stride, stride, &in->ops[in->op_start[si + 1] - 1]);
  return s == xnn_status_success ? ZN_OK : xnn_fail(n, "create XNNPACK activation after the op", s);
}

void zn_xnnpack_instance_destroy(void *instance) {
  xp_instance *in = instance;
  if (!in) return;
  if (in->ops && in->op_start)
    for (int k = 0; k < in->op_start[in->c->num_steps]; k++)
      if (in->ops[k]) xnn_delete_operator(in->ops[k]);
  if (in->pool) pthreadpool_destroy(in->pool);
  zn_free(in->ops);
  zn_free(in->op_start);
  zn_free(in->t);
  zn_free(in->req);
  zn_free(in->wino);
  zn_free(in->op_tasks);
  zn_free(in->im2col);
  zn_backend_arena_put(in->arena_src, in->arena);
  zn_free(in);
}

zn_status zn_xnnpack_instance_create(const void *compiled, const zn_backend_instance_options *opts,
                                     void **instance_out) {
  const xp_compiled *c = compiled;
  *instance_out = NULL;
  const int threads = opts && opts->num_threads > 0 ? opts->num_threads : 1;
  xp_instance *in = zn_calloc(1, sizeof *in);
  if (!in) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create xnnpack instance: out of memory");
  in->c = c;
  in->arena_src = opts ? opts->arena : NULL;
  in->op_start = zn_calloc((size_t)c->num_steps + 1, sizeof *in->op_start);
  in->t = zn_calloc((size_t)c->g->num_values + 1, sizeof *in->t);
  in->req = zn_calloc((size_t)c->g->num_values + (size_t)c->num_steps + 1, sizeof *in->req);
  in->wino = zn_calloc((size_t)c->num_steps + 1, sizeof *in->wino);
  in->op_tasks = zn_calloc((size_t)c->num_steps + 1, sizeof *in->op_tasks);
  in->im2col = zn_calloc((size_t)c->num_steps + 1, sizeof *in->im2col);
  in->threads = threads;
  zn_status st = ZN_OK;
  if (!in->op_start || !in->t || !in->req || !in->wino || !in->op_tasks || !in->im2col)
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create xnnpack instance: out of memory");
  for (int s = 0; st == ZN_OK && s < c->num_steps; s++)
    in->op_start[s + 1] = in->op_start[s] + ops_for(c, &c->steps[s], threads);
  if (st == ZN_OK && !(in->ops = zn_calloc((size_t)in->op_start[c->num_steps] + 1, sizeof *in->ops)))
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create xnnpack instance: out of memory");
  /* The caller's thread is one of the pool's threads: n threads = n - 1 workers. */
  if (st == ZN_OK && threads > 1 && !(in->pool = pthreadpool_create((size_t)threads)))
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create xnnpack instance: pthreadpool of %d threads", threads);
  for (int s = 0; st == ZN_OK && s < c->num_steps; s++) st = create_ops(in, s);
  if (st != ZN_OK) {
    zn_xnnpack_instance_destroy(in);
    return st;
  }
  *instance_out = in;
  return ZN_OK;
}

/* ---- reshape: shapes, arena, operator setup ---- */

static void touch(xp_instance *in, int v, int step) {
  if (v < 0 || gval(in->c, v)->data) return;
  const int r = in->c->values[v].root;
  in->req[r].first = ZN_MIN(in->req[r].first, step);
  in->req[r].last = ZN_MAX(in->req[r].last, step);
}

/* The step's scratch in the arena (Winograd, im2col, a Swish gate). */
static float *step_scratch(const xp_instance *in, int si) {
  return (float *)((char *)in->arena + in->req[in->c->g->num_values + si].offset);
}

static zn_status setup_step(xp_instance *in, int si) {
  const xp_compiled *c = in->c;
  const xp_step *st = &c->steps[si];
  const zn_node *n = step_node(c, st);
  xnn_operator_t *ops = in->ops + in->op_start[si];
  const xp_tensor *x = st->in >= 0 ? &in->t[st->in] : NULL, *y = st->out >= 0 ? &in->t[st->out] : NULL;
  enum xnn_status s = xnn_status_success;
  in->op_tasks[si] = use_op_tasks(in, st);
  /* Operators run as single-thread tasks are set up for one thread. */
  pthreadpool_t op_pool = in->op_tasks[si] ? NULL : in->pool;
  switch (st->kind) {
  case XP_CONV:
    for (int sl = 0; sl < st->conv_slices && s == xnn_status_success; sl++)
      s = xnn_setup_convolution2d_nhwc_f32(ops[sl], (size_t)x->n, (size_t)x->h, (size_t)x->w, x->data,
                                           y->data + sl * st->slice_channels, op_pool);
    if (s == xnn_status_success && ops[st->conv_slices]) {
      const size_t count = (size_t)y->count;
      s = xnn_setup_add_nd_f32(ops[st->conv_slices], 1, &count, 1, &count, y->data, in->t[zn_node_input(n, 3)].data, y->data,
                               in->pool);
    }
    break;
  case XP_WINOGRAD: {
    zn_winograd_args *a = &in->wino[si];
    const zn_conv_attrs *ca = &n->attrs.conv;
    const int r = has_residual(n) ? zn_node_input(n, 3) : -1;
    const int b = n->num_inputs > 2 ? zn_node_input(n, 2) : ZN_NO_VALUE;
    *a = (zn_winograd_args){
        .x = x->data, .x_stride = x->stride, .n = x->n, .h = x->h, .w = x->w, .ic = x->c,
        .pad_top = ca->pad_begin[0], .pad_left = ca->pad_begin[1],
        .y = y->data, .y_stride = y->stride, .oh = y->h, .ow = y->w, .oc = y->c,
        .out_tile = st->wino_out_tile, .positions = wino_positions(st),
        .tiles_h = (y->h + st->wino_out_tile - 1) / st->wino_out_tile,
        .tiles_w = (y->w + st->wino_out_tile - 1) / st->wino_out_tile,
        .v = (float *)((char *)in->arena + in->req[c->g->num_values + si].offset),
        .bias = b != ZN_NO_VALUE ? gval(c, b)->data : NULL,
        .residual = r >= 0 ? in->t[r].data : NULL, .r_stride = r >= 0 ? in->t[r].stride : 0,
        .lo = st->out_min, .hi = st->out_max};
    a->tiles = a->n * a->tiles_h * a->tiles_w;
    a->block = zn_winograd_block(a->tiles, a->positions, a->ic, a->oc, winograd_block_bytes(in));
    size_t m_off;
    zn_winograd_scratch_floats(a->block, a->positions, a->ic, a->oc, &m_off);
    a->m = a->v + m_off;
    /* One block: set up here once. Several: instance_run sets up per block. */
    for (int k = 0; k < a->positions && s == xnn_status_success; k++)
      s = xnn_setup_fully_connected_nc_f32(ops[k], (size_t)a->block, a->v + k * a->block * a->ic,
                                           a->m + k * a->block * a->oc, op_pool);
    break;
  }
  case XP_IM2COL: { /* the GEMMs are set up per block at run */
    const zn_conv_attrs *ca = &n->attrs.conv;
    const zn_value *w = gval(c, zn_node_input(n, 1));
    xp_im2col_args *a = &in->im2col[si];
    *a = (xp_im2col_args){
        .x = x->data, .x_stride = x->stride, .n = x->n, .h = x->h, .w = x->w, .ic = x->c,
        .kh = w->dims[2], .kw = w->dims[3], .stride_h = ca->stride[0], .stride_w = ca->stride[1],
        .pad_top = ca->pad_begin[0], .pad_left = ca->pad_begin[1],
        .y = y->data, .y_stride = y->stride, .oh = y->h, .ow = y->w,
        .k = w->dims[1] * w->dims[2] * w->dims[3], .pixels = y->n * y->h * y->w,
        .col = (float *)((char *)in->arena + in->req[c->g->num_values + si].offset), .tasks = in->threads};
    a->block = im2col_block_rows(a->k, a->pixels);
    break;
  }
  case XP_FC:
    s = xnn_setup_fully_connected_nc_f32(ops[0], (size_t)x->dims[0], x->data, y->data, in->pool);
    break;
  case XP_MAX_POOL:
    s = xnn_setup_max_pooling2d_nhwc_f32(ops[0], (size_t)x->n, (size_t)x->h, (size_t)x->w, x->data, y->data, in->pool);
    break;
  case XP_AVG_POOL:
    s = xnn_setup_average_pooling2d_nhwc_f32(ops[0], (size_t)x->n, (size_t)x->h, (size_t)x->w, x->data, y->data,
                                             in->pool);
    break;
  case XP_GAP:
    s = xnn_setup_global_average_pooling_nwc_f32(ops[0], (size_t)x->n, (size_t)(x->h * x->w), x->data, y->data,
                                                 in->pool);
    break;
  case XP_CLAMP: case XP_UNARY: case XP_SOFTMAX: {
    size_t rows, ch, stride;
    act_rows(c, st->in, n, x, &rows, &ch, &stride);
    if (st->kind == XP_CLAMP) s = xnn_setup_clamp_nc_f32(ops[0], rows, x->data, y->data, in->pool);
    else if (st->kind == XP_SOFTMAX) s = xnn_setup_softmax_nc_f32(ops[0], rows, x->data, y->data, in->pool);
    else if (ops[0]) s = setup_act(&st->act, ops[0], rows, x->data, swish_gate(&st->act) ? step_scratch(in, si) : y->data,
                                   in->pool);
    break;
  }
  case XP_CONCAT: {
    int64_t off = 0;
    for (int k = 0; k < n->num_inputs && s == xnn_status_success; k++) {
      const xp_tensor *xk = &in->t[zn_node_input(n, k)];
      if (ops[k]) s = xnn_setup_copy_nc_x32(ops[k], (size_t)(y->n * y->h * y->w), xk->data, y->data + off, in->pool);
      off += xk->c;
    }
    break;
  }
  default: break;
  }
  xnn_operator_t post = has_post_act(st) ? in->ops[in->op_start[si + 1] - 1] : NULL;
  if (s == xnn_status_success && post) {
    size_t rows, ch, stride;
    act_rows(c, st->out, n, y, &rows, &ch, &stride);
    s = setup_act(&st->act, post, rows, y->data, swish_gate(&st->act) ? step_scratch(in, si) : y->data, in->pool);
  }
  return s == xnn_status_success ? ZN_OK : xnn_fail(n, "set up XNNPACK operator", s);
}

zn_status zn_xnnpack_instance_reshape(void *instance, int64_t batch) {
  xp_instance *in = instance;
  const xp_compiled *c = in->c;
  const zn_graph *g = c->g;
  char shape[128];
  in->batch = 0;
  if (batch < 1) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to reshape xnnpack instance: batch %lld", (long long)batch);
  zn_backend_arena_put(in->arena_src, in->arena);
  in->arena = NULL;
  in->arena_bytes = 0;
  const size_t V = (size_t)g->num_values;
  for (size_t v = 0; v < V + (size_t)c->num_steps; v++) in->req[v] = (zn_arena_request){INT64_MAX, -1, 0, 0};
  for (int s = 0; s < c->num_steps; s++) {
    const xp_step *st = &c->steps[s];
    touch(in, st->in, s);
    touch(in, st->out, s);
    const zn_node *n = step_node(c, st);
    for (int k = 0; n && k < n->num_inputs; k++) touch(in, zn_node_input(n, k), s);
  }
  for (size_t v = 0; v < V; v++) {
    const zn_value *val = &g->values[v];
    xp_tensor *t = &in->t[v];
    memset(t, 0, sizeof *t);
    if (!c->values[v].used) continue;
    if (!zn_value_resolve_dims(val, batch, t->dims) || !zn_value_num_elements(val, batch, &t->count) ||
        (size_t)t->count > SIZE_MAX / 16)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to reshape xnnpack instance: value '%s' %s has no usable shape at batch %lld",
                      val->name, zn_value_shape_str(val, shape, sizeof shape), (long long)batch);
    t->num_dims = val->num_dims;
    if (val->data && val->data_bytes < (size_t)t->count * sizeof(float))
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to reshape xnnpack instance: constant '%s' is too small", val->name);
    if (c->values[v].nhwc) {
      t->n = t->dims[0], t->c = t->dims[1], t->h = t->dims[2], t->w = t->dims[3];
      t->stride = c->values[v].pixel_stride;
    }
  }
  for (size_t v = 0; v < V; v++) {
    if (in->req[v].last < 0) {
      in->req[v] = (zn_arena_request){0, 0, 0, 0};
      continue;
    }
    in->req[v].size_bytes = (size_t)in->t[v].count * sizeof(float);
  }
  /* Winograd scratch (transformed input and GEMM outputs): live during its step only. */
  for (int s = 0; s < c->num_steps; s++) {
    const xp_step *st = &c->steps[s];
    zn_arena_request *rq = &in->req[V + (size_t)s];
    *rq = (zn_arena_request){s, s, 0, 0};
    if (swish_gate(&st->act)) { /* the gate, after the op's own scratch is done with: the larger of the two */
      size_t rows, ch, stride;
      act_rows(c, st->out, step_node(c, st), &in->t[st->out], &rows, &ch, &stride);
      rq->size_bytes = rows * ch * sizeof(float);
    }
    if (st->kind == XP_IM2COL) { /* one block of im2col rows per task */
      const xp_tensor *y = &in->t[st->out];
      const zn_value *w = gval(c, zn_node_input(step_node(c, st), 1));
      const int64_t k = w->dims[1] * w->dims[2] * w->dims[3], pixels = y->n * y->h * y->w;
      rq->size_bytes = ZN_MAX(rq->size_bytes, (size_t)in->threads * (size_t)im2col_block_rows(k, pixels) * (size_t)k * sizeof(float));
      continue;
    }
    if (st->kind != XP_WINOGRAD) continue;
    const xp_tensor *x = &in->t[st->in], *y = &in->t[st->out];
    const int64_t ot = st->wino_out_tile, pos = wino_positions(st);
    const int64_t tiles = x->n * ((y->h + ot - 1) / ot) * ((y->w + ot - 1) / ot);
    size_t m_off;
    const size_t floats = zn_winograd_scratch_floats(
        zn_winograd_block(tiles, (int)pos, x->c, y->c, winograd_block_bytes(in)), (int)pos, x->c, y->c, &m_off);
    if (floats > SIZE_MAX / sizeof(float))
      return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape xnnpack instance: Winograd scratch too large");
    rq->size_bytes = ZN_MAX(rq->size_bytes, floats * sizeof(float));
  }
  ZN_TRY(zn_arena_plan(in->req, V + (size_t)c->num_steps, &in->arena_bytes));
  /* XNNPACK's kernels may read XNN_EXTRA_BYTES past a tensor (never write):
   * the last buffer in the arena needs that much readable memory after it
   * (a 3x3 max pool with pads 2 read into the next page: fuzz_model_run) */
  const size_t slack = (XNN_EXTRA_BYTES + 63) / 64 * 64;
  if (in->arena_bytes > SIZE_MAX - slack)
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape xnnpack instance: arena too large");
  in->arena_bytes += slack;
  if (!(in->arena = zn_backend_arena_get(in->arena_src, in->arena_bytes)))
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape xnnpack instance: arena of %zu bytes at batch %lld",
                    in->arena_bytes, (long long)batch);
  for (size_t v = 0; v < V; v++) {
    const zn_value *val = &g->values[v];
    const xp_value *xv = &c->values[v];
    if (!xv->used) continue;
    if (val->data) in->t[v].data = val->data;
    else in->t[v].data = (float *)((char *)in->arena + in->req[xv->root].offset) + xv->chan_offset;
  }
  for (int s = 0; s < c->num_steps; s++) ZN_TRY(setup_step(in, s));
  in->batch = batch;
  return ZN_OK;
}

size_t zn_xnnpack_instance_arena_bytes(const void *instance) { return ((const xp_instance *)instance)->arena_bytes; }

/* ---- run: C loops for what XNNPACK lacks, then the operators ---- */

static void import_nchw(const float *src, const xp_tensor *t) {
  const int64_t hw = t->h * t->w;
  for (int64_t n = 0; n < t->n; n++)
    for (int64_t c = 0; c < t->c; c++) {
      const float *s = src + (n * t->c + c) * hw;
      float *d = t->data + n * hw * t->stride + c;
      for (int64_t p = 0; p < hw; p++) d[p * t->stride] = s[p];
    }
}

static void export_nchw(const xp_tensor *t, float *dst) {
  const int64_t hw = t->h * t->w;
  for (int64_t n = 0; n < t->n; n++)
    for (int64_t c = 0; c < t->c; c++) {
      const float *s = t->data + n * hw * t->stride + c;
      float *d = dst + (n * t->c + c) * hw;
      for (int64_t p = 0; p < hw; p++) d[p] = s[p * t->stride];
    }
}

/* Address of element e (row-major NCHW logical order) of a tensor. */
static float *logical_at(const xp_tensor *t, bool nhwc, int64_t e) {
  if (!nhwc) return t->data + e;
  const int64_t w = e % t->w, h = (e / t->w) % t->h, c = (e / (t->w * t->h)) % t->c, n = e / (t->w * t->h * t->c);
  return t->data + ((n * t->h + h) * t->w + w) * t->stride + c;
}

/* A tensor's stride in floats along each logical (IR, NCHW) axis: row-major
 * for plain values; for NHWC ones N = H*W*stride, C = 1, H = W*stride, W = stride. */
static void logical_strides(const xp_tensor *t, bool nhwc, int64_t *strides) {
  if (nhwc) {
    strides[0] = t->h * t->w * t->stride, strides[1] = 1, strides[2] = t->w * t->stride, strides[3] = t->stride;
    return;
  }
  int64_t st = 1;
  for (int i = t->num_dims - 1; i >= 0; i--) strides[i] = st, st *= t->dims[i];
}

/* A copy of a box of `dims` elements between two stride sets: the axes
 * ordered by destination stride and merged where contiguous in both, so the
 * last axis is the longest run; split over the pool by rows (every axis but
 * the last). */
typedef struct copy_ctx {
  int rank;
  int64_t dims[ZN_MAX_DIMS], ss[ZN_MAX_DIMS], ds[ZN_MAX_DIMS];
  const float *src;
  float *dst;
} copy_ctx;

static void copy_rows(void *context, size_t r0, size_t count) {
  const copy_ctx *k = context;
  const int R = k->rank;
  int64_t idx[ZN_MAX_DIMS], so = 0, dof = 0, r = (int64_t)r0;
  for (int a = R - 2; a >= 0; a--) {
    idx[a] = r % k->dims[a], r /= k->dims[a];
    so += idx[a] * k->ss[a], dof += idx[a] * k->ds[a];
  }
  const int64_t len = k->dims[R - 1], s1 = k->ss[R - 1], d1 = k->ds[R - 1];
  for (size_t i = 0; i < count; i++) {
    const float *src = k->src + so;
    float *dst = k->dst + dof;
    if (s1 == 1 && d1 == 1) memcpy(dst, src, (size_t)len * sizeof(float));
    else
      for (int64_t j = 0; j < len; j++) dst[j * d1] = src[j * s1];
    for (int a = R - 2; a >= 0; a--) {
      so += k->ss[a], dof += k->ds[a];
      if (++idx[a] < k->dims[a]) break;
      so -= k->ss[a] * k->dims[a], dof -= k->ds[a] * k->dims[a];
      idx[a] = 0;
    }
  }
}

#define COPY_TILE_FLOATS 16384
static void strided_copy(int rank, const int64_t *dims, const float *src, const int64_t *ss, float *dst,
                         const int64_t *ds, pthreadpool_t pool) {
  copy_ctx k = {.rank = 0, .src = src, .dst = dst};
  for (int i = 0; i < rank; i++) {
    if (dims[i] == 0) return;
    if (dims[i] == 1) continue;
    /* insert by destination stride, largest first (stable) */
    int j = k.rank++;
    for (; j > 0 && llabs(k.ds[j - 1]) < llabs(ds[i]); j--)
      k.dims[j] = k.dims[j - 1], k.ss[j] = k.ss[j - 1], k.ds[j] = k.ds[j - 1];
    k.dims[j] = dims[i], k.ss[j] = ss[i], k.ds[j] = ds[i];
  }
  if (k.rank == 0) k.rank = 1, k.dims[0] = 1, k.ss[0] = k.ds[0] = 1;
  int r = 0; /* merge axis a+1 into r when stepping over r is stepping over all of a+1 in both */
  for (int a = 1; a < k.rank; a++) {
    if (k.ss[r] == k.ss[a] * k.dims[a] && k.ds[r] == k.ds[a] * k.dims[a]) {
      k.dims[r] *= k.dims[a], k.ss[r] = k.ss[a], k.ds[r] = k.ds[a];
    } else {
      r++;
      k.dims[r] = k.dims[a], k.ss[r] = k.ss[a], k.ds[r] = k.ds[a];
    }
  }
  k.rank = r + 1;
  int64_t rows = 1;
  for (int a = 0; a < k.rank - 1; a++) rows *= k.dims[a];
  const size_t tile = (size_t)ZN_MAX(1, COPY_TILE_FLOATS / k.dims[k.rank - 1]);
  if (pool && (size_t)rows > tile) pthreadpool_parallelize_1d_tile_1d(pool, copy_rows, &k, (size_t)rows, tile, 0);
  else copy_rows(&k, 0, (size_t)rows);
}

/* Reshape keeps the logical (NCHW) element order: between an NHWC value and
 * a plain one it is a strided copy over the NHWC side's logical dims. */
static void reshape_copy(const xp_tensor *x, bool xn, const xp_tensor *y, bool yn, pthreadpool_t pool) {
  int64_t xs[ZN_MAX_DIMS], ys[ZN_MAX_DIMS];
  if (!xn && !yn) {
    memcpy(y->data, x->data, (size_t)x->count * sizeof(float));
  } else if (xn != yn) {
    const xp_tensor *t = xn ? x : y; /* the NHWC side: its dims, row-major on the other */
    logical_strides(t, true, xn ? xs : ys);
    logical_strides(t, false, xn ? ys : xs);
    strided_copy(t->num_dims, t->dims, x->data, xs, y->data, ys, pool);
  } else {
    for (int64_t e = 0; e < x->count; e++) *logical_at(y, true, e) = *logical_at(x, true, e);
  }
}

/* Transpose / Slice: output axis i walks input axis copy_axis[i] from
 * copy_start[i] in steps of copy_step[i]. */
static void step_strided_copy(const xp_step *st, const xp_tensor *x, bool xn, const xp_tensor *y, bool yn,
                              pthreadpool_t pool) {
  int64_t xs[ZN_MAX_DIMS], ys[ZN_MAX_DIMS], ss[ZN_MAX_DIMS];
  logical_strides(x, xn, xs);
  logical_strides(y, yn, ys);
  const float *src = x->data;
  for (int i = 0; i < y->num_dims; i++) {
    src += st->copy_start[i] * xs[st->copy_axis[i]];
    ss[i] = st->copy_step[i] * xs[st->copy_axis[i]];
  }
  strided_copy(y->num_dims, y->dims, src, ss, y->data, ys, pool);
}

/* LayerNormalization over the last axis, each row with its own mean and
 * population variance (two passes, summed in double as ref does), then
 * y = (x - mean) / sqrt(var + epsilon) * scale + bias. Rows walk the other
 * axes through the tensors' logical strides (a 4-D value is stored NHWC: its
 * last axis is strided), split over the pool. */
typedef struct layer_norm_ctx {
  const float *x, *scale, *bias;
  float *y;
  int rows_rank; /* axes before the last */
  int64_t dims[ZN_MAX_DIMS], xs[ZN_MAX_DIMS], ys[ZN_MAX_DIMS];
  int64_t inner, xe, ye; /* last axis: length and element strides */
  float eps;
} layer_norm_ctx;

static void layer_norm_rows(void *context, size_t r0, size_t count) {
  const layer_norm_ctx *k = context;
  const int64_t inner = k->inner, xe = k->xe, ye = k->ye;
  for (int64_t r = (int64_t)r0; r < (int64_t)(r0 + count); r++) {
    int64_t rem = r, xo = 0, yo = 0;
    for (int a = k->rows_rank - 1; a >= 0; a--) {
      const int64_t i = rem % k->dims[a];
      rem /= k->dims[a];
      xo += i * k->xs[a], yo += i * k->ys[a];
    }
    const float *x = k->x + xo;
    float *y = k->y + yo;
    double sum = 0.0, sq = 0.0;
    for (int64_t i = 0; i < inner; i++) sum += x[i * xe];
    const double mean = sum / (double)inner;
    for (int64_t i = 0; i < inner; i++) sq += (x[i * xe] - mean) * (x[i * xe] - mean);
    const float m = (float)mean, inv = (float)(1.0 / sqrt(sq / (double)inner + (double)k->eps));
    for (int64_t i = 0; i < inner; i++)
      y[i * ye] = (x[i * xe] - m) * inv * k->scale[i] + (k->bias ? k->bias[i] : 0.0f);
  }
}

#define LAYER_NORM_TILE_FLOATS 16384
static void layer_norm(const xp_compiled *c, const zn_node *n, const xp_tensor *x, bool xn, const xp_tensor *y,
                       bool yn, pthreadpool_t pool) {
  layer_norm_ctx k = {.x = x->data, .y = y->data, .rows_rank = x->num_dims - 1, .eps = n->attrs.layer_norm.epsilon};
  k.scale = gval(c, zn_node_input(n, 1))->data;
  k.bias = n->num_inputs > 2 && zn_node_input(n, 2) != ZN_NO_VALUE ? gval(c, zn_node_input(n, 2))->data : NULL;
  int64_t xs[ZN_MAX_DIMS], ys[ZN_MAX_DIMS];
  logical_strides(x, xn, xs);
  logical_strides(y, yn, ys);
  size_t rows = 1;
  for (int a = 0; a < k.rows_rank; a++) k.dims[a] = x->dims[a], k.xs[a] = xs[a], k.ys[a] = ys[a], rows *= (size_t)x->dims[a];
  k.inner = x->dims[x->num_dims - 1], k.xe = xs[x->num_dims - 1], k.ye = ys[x->num_dims - 1];
  if (k.inner < 1) return;
  const size_t tile = (size_t)ZN_MAX(1, LAYER_NORM_TILE_FLOATS / k.inner);
  if (pool && rows > tile) pthreadpool_parallelize_1d_tile_1d(pool, layer_norm_rows, &k, rows, tile, 0);
  else layer_norm_rows(&k, 0, rows);
}

/* A channel shuffle of g groups, NHWC -> NHWC (each with its pixel stride):
 * output channel j * g + k is input channel k * (C / g) + j. Split over the
 * pool by pixels. */
typedef struct shuffle_ctx {
  const float *x;
  float *y;
  int64_t xs, ys, groups, per_group;
} shuffle_ctx;

static void shuffle_pixels(void *context, size_t p0, size_t count) {
  const shuffle_ctx *k = context;
  const int64_t G = k->groups, cpg = k->per_group;
  for (int64_t p = (int64_t)p0; p < (int64_t)(p0 + count); p++) {
    const float *restrict s = k->x + p * k->xs;
    float *restrict d = k->y + p * k->ys;
    if (G == 2) {
      for (int64_t j = 0; j < cpg; j++) d[2 * j] = s[j], d[2 * j + 1] = s[cpg + j];
    } else {
      for (int64_t j = 0; j < cpg; j++)
        for (int64_t q = 0; q < G; q++) d[j * G + q] = s[q * cpg + j];
    }
  }
}

#define SHUFFLE_TILE_FLOATS 16384
static void channel_shuffle(const xp_tensor *x, const xp_tensor *y, int64_t groups, pthreadpool_t pool) {
  shuffle_ctx k = {.x = x->data, .y = y->data, .xs = x->stride, .ys = y->stride, .groups = groups,
                   .per_group = x->c / groups};
  const size_t pixels = (size_t)(x->n * x->h * x->w), tile = (size_t)ZN_MAX(1, SHUFFLE_TILE_FLOATS / ZN_MAX(1, x->c));
  if (pool && pixels > tile) pthreadpool_parallelize_1d_tile_1d(pool, shuffle_pixels, &k, pixels, tile, 0);
  else shuffle_pixels(&k, 0, pixels);
}

/* y = x taken at one index of one axis; both walked in logical (NCHW) order,
 * except one channel of an NHWC tensor (Inception-V3's input transform),
 * which is one strided pass over the pixels. */
static void gather_one(const xp_tensor *x, bool xn, const xp_tensor *y, bool yn, int axis, int64_t index) {
  if (xn && axis == 1 && (!yn || y->c == 1)) {
    const int64_t pixels = x->n * x->h * x->w, ys = yn ? y->stride : 1;
    for (int64_t p = 0; p < pixels; p++) y->data[p * ys] = x->data[p * x->stride + index];
    return;
  }
  int64_t inner = 1;
  for (int i = axis + 1; i < x->num_dims; i++) inner *= x->dims[i];
  const int64_t d = x->dims[axis], outer = inner > 0 ? y->count / inner : 0;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) *logical_at(y, yn, o * inner + i) = *logical_at(x, xn, (o * d + index) * inner + i);
}

typedef struct bn_ctx {
  const xp_tensor *x, *y;
  const float *scale, *shift;
} bn_ctx;

/* Pixels [p0, p0 + count). */
ZN_CLONES
static void batch_norm_pixels(void *context, size_t p0, size_t count) {
  const bn_ctx *b = context;
  const float *restrict scale = b->scale, *restrict shift = b->shift;
  const int64_t ch = b->x->c;
  for (int64_t p = (int64_t)p0; p < (int64_t)(p0 + count); p++) {
    const float *restrict s = b->x->data + p * b->x->stride;
    float *restrict d = b->y->data + p * b->y->stride;
    ZN_SIMD
    for (int64_t c = 0; c < ch; c++) d[c] = s[c] * scale[c] + shift[c];
  }
}

/* On the instance's pool in runs of pixels of about BN_TILE_FLOATS floats. */
#define BN_TILE_FLOATS 16384
static void batch_norm(const xp_tensor *x, const xp_tensor *y, const float *scale, const float *shift,
                       pthreadpool_t pool) {
  bn_ctx b = {x, y, scale, shift};
  const size_t pixels = (size_t)(x->n * x->h * x->w), tile = (size_t)ZN_MAX(1, BN_TILE_FLOATS / ZN_MAX(1, x->c));
  if (pool && pixels > tile) pthreadpool_parallelize_1d_tile_1d(pool, batch_norm_pixels, &b, pixels, tile, 0);
  else batch_norm_pixels(&b, 0, pixels);
}

static void lrn(const zn_lrn_attrs *a, const xp_tensor *x, const xp_tensor *y) {
  const int64_t P = x->n * x->h * x->w, lo = (a->size - 1) / 2, hi = a->size - 1 - lo;
  const float k = a->alpha / (float)a->size;
  for (int64_t p = 0; p < P; p++) {
    const float *s = x->data + p * x->stride;
    float *d = y->data + p * y->stride;
    for (int64_t c = 0; c < x->c; c++) {
      float sq = 0.0f;
      for (int64_t cc = ZN_MAX(0, c - lo); cc <= ZN_MIN(x->c - 1, c + hi); cc++) sq += s[cc] * s[cc];
      d[c] = s[c] / powf(a->bias + k * sq, a->beta);
    }
  }
}

static void global_max(const xp_tensor *x, const xp_tensor *y) {
  const int64_t hw = x->h * x->w;
  for (int64_t n = 0; n < x->n; n++) {
    float *d = y->data + n * y->stride;
    const float *s = x->data + n * hw * x->stride;
    for (int64_t c = 0; c < x->c; c++) d[c] = s[c];
    for (int64_t p = 1; p < hw; p++) {
      const float *sp = s + p * x->stride;
      ZN_SIMD
      for (int64_t c = 0; c < x->c; c++) d[c] = fmaxf(d[c], sp[c]);
    }
  }
}

/* HardSigmoid, Tanh and Gelu (no f32 XNNPACK operator in this snapshot) on rows of
 * ch channels with their own strides; in place when x == y. The formulas are
 * ref's (backend/ref/activation.c), NaN included, except that erff and tanhf
 * are backend/vmath.h's vectorisable approximations (ref keeps libm's). */
typedef struct act_ctx {
  zn_act act;
  const float *x;
  float *y;
  const float *gate; /* Swish: sigmoid(x), rows x ch contiguous; NULL: compute the activation here */
  size_t ch, xs, ys;
} act_ctx;

ZN_CLONES
static void act_loop_rows(void *context, size_t r0, size_t count) {
  const act_ctx *k = context;
  const float alpha = k->act.alpha, beta = k->act.beta;
  for (size_t r = r0; r < r0 + count; r++) {
    const float *x = k->x + r * k->xs;
    float *y = k->y + r * k->ys;
    if (k->gate) {
      const float *gate = k->gate + r * k->ch;
      ZN_SIMD
      for (size_t c = 0; c < k->ch; c++) y[c] = x[c] * gate[c];
    } else if (k->act.kind == ZN_ACT_HARD_SIGMOID) {
      ZN_SIMD
      for (size_t c = 0; c < k->ch; c++) y[c] = fmaxf(0.0f, fminf(1.0f, alpha * x[c] + beta));
    } else if (k->act.kind == ZN_ACT_SWISH) {
      for (size_t c = 0; c < k->ch; c++) y[c] = x[c] / (1.0f + expf(-alpha * x[c]));
    } else if (k->act.kind == ZN_ACT_GELU) {
      ZN_SIMD
      for (size_t c = 0; c < k->ch; c++) y[c] = x[c] * (1.0f + zn_vmath_erf_f32(x[c] * 0.707106769f)) * 0.5f;
    } else {
      ZN_SIMD
      for (size_t c = 0; c < k->ch; c++) y[c] = zn_vmath_tanh_f32(x[c]);
    }
  }
}

#define ACT_TILE_FLOATS 16384
static void act_loop(const zn_act *a, const float *gate, size_t rows, size_t ch, const float *x, size_t xs, float *y,
                     size_t ys, pthreadpool_t pool) {
  act_ctx k = {*a, x, y, gate, ch, xs, ys};
  const size_t tile = ZN_MAX(1, ACT_TILE_FLOATS / ZN_MAX(1, ch));
  if (pool && rows > tile) pthreadpool_parallelize_1d_tile_1d(pool, act_loop_rows, &k, rows, tile, 0);
  else act_loop_rows(&k, 0, rows);
}

/* The activation of an XP_UNARY step (x -> y), or the one after a conv / FC
 * (in place on y): XNNPACK's operator if it has one, else act_loop. */
static enum xnn_status run_act(const xp_instance *in, int si, xnn_operator_t op, int xv, const xp_tensor *x,
                               const xp_tensor *y) {
  const xp_compiled *c = in->c;
  const xp_step *st = &c->steps[si];
  const float *gate = NULL;
  if (op) {
    const enum xnn_status s = xnn_run_operator(op, in->pool);
    if (s != xnn_status_success || !swish_gate(&st->act)) return s;
    gate = step_scratch(in, si);
  }
  size_t rows, ch, xs, ys;
  act_rows(c, xv, step_node(c, st), x, &rows, &ch, &xs);
  act_rows(c, st->out, step_node(c, st), y, &rows, &ch, &ys);
  act_loop(&st->act, gate, rows, ch, x->data, xs, y->data, ys, in->pool);
  return xnn_status_success;
}

static float binary(zn_op op, float a, float b) {
  switch (op) {
  case ZN_OP_ADD: return a + b;
  case ZN_OP_SUB: return a - b;
  case ZN_OP_MUL: return a * b;
  default: return a / b;
  }
}

static inline float clamp(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* y = clamp(a op b) elementwise, b of a's shape or smaller (xp_binary_form:
 * a scalar, one value per channel, which is the last axis of plain tensors,
 * or one per image and channel, an NHWC [N,C,1,1]); NHWC tensors walk pixels
 * with their own strides. Split over the pool by rows of C. */
typedef struct binary_ctx {
  zn_op op;
  xp_binary_form form;
  const float *a, *b;
  float *y;
  int64_t C, sa, sb, sy, hw; /* hw: pixels per image, the rows that share b's row (XP_BIN_IMAGE_CHANNEL) */
  float lo, hi;
} binary_ctx;

static void binary_rows(void *context, size_t p0, size_t count) {
  const binary_ctx *k = context;
  const zn_op op = k->op;
  const int64_t C = k->C;
  const float lo = k->lo, hi = k->hi;
  for (int64_t p = (int64_t)p0; p < (int64_t)(p0 + count); p++) {
    const float *pa = k->a + p * k->sa, *pb = k->b + (k->form == XP_BIN_IMAGE_CHANNEL ? p / k->hw : p) * k->sb;
    float *py = k->y + p * k->sy;
    if (k->form == XP_BIN_SCALAR) /* NaN passes, as in ref */
      for (int64_t c = 0; c < C; c++) py[c] = clamp(binary(op, pa[c], pb[0]), lo, hi);
    else
      for (int64_t c = 0; c < C; c++) py[c] = clamp(binary(op, pa[c], pb[c]), lo, hi);
  }
}

#define BINARY_TILE_FLOATS 16384
static void binary_loop(zn_op op, const xp_tensor *a, const xp_tensor *b, xp_binary_form form, const xp_tensor *y,
                        bool nhwc, float lo, float hi, pthreadpool_t pool) {
  const int64_t last = a->num_dims > 0 ? a->dims[a->num_dims - 1] : 1;
  const int64_t C = nhwc ? a->c : (form == XP_BIN_CHANNEL ? last : a->count);
  const int64_t P = nhwc ? a->n * a->h * a->w : (C > 0 ? a->count / C : 0);
  binary_ctx k = {.op = op, .form = form, .a = a->data, .b = b->data, .y = y->data, .C = C,
                  .sa = nhwc ? a->stride : C, .sy = nhwc ? y->stride : C, .hw = nhwc ? a->h * a->w : 1,
                  .lo = lo, .hi = hi};
  k.sb = form == XP_BIN_SAME ? (nhwc ? b->stride : C) : form == XP_BIN_IMAGE_CHANNEL ? b->stride : 0;
  const size_t tile = (size_t)ZN_MAX(1, BINARY_TILE_FLOATS / ZN_MAX(1, C));
  if (pool && (size_t)P > tile) pthreadpool_parallelize_1d_tile_1d(pool, binary_rows, &k, (size_t)P, tile, 0);
  else binary_rows(&k, 0, (size_t)P);
}

/* XNNPACK's average pooling divides by the window clipped to the input;
 * count_include_pad divides by the window clipped to the padded input
 * (without ceil_mode's extra): rescale the border pixels. */
static void avg_pool_include_pad(const zn_pool_attrs *a, const xp_tensor *x, const xp_tensor *y) {
  for (int64_t oh = 0; oh < y->h; oh++) {
    const int64_t h0 = oh * a->stride[0] - a->pad_begin[0];
    const int64_t vh = ZN_MIN(h0 + a->kernel[0], x->h) - ZN_MAX(h0, 0);
    const int64_t ph = ZN_MIN(h0 + a->kernel[0], x->h + a->pad_end[0]) - h0;
    for (int64_t ow = 0; ow < y->w; ow++) {
      const int64_t w0 = ow * a->stride[1] - a->pad_begin[1];
      const int64_t vw = ZN_MIN(w0 + a->kernel[1], x->w) - ZN_MAX(w0, 0);
      const int64_t pw = ZN_MIN(w0 + a->kernel[1], x->w + a->pad_end[1]) - w0;
      if (vh * vw == ph * pw || ph * pw <= 0) continue;
      const float f = (float)(vh * vw) / (float)(ph * pw);
      for (int64_t n = 0; n < y->n; n++) {
        float *d = y->data + ((n * y->h + oh) * y->w + ow) * y->stride;
        for (int64_t c = 0; c < y->c; c++) d[c] *= f;
      }
    }
  }
}

/* ops[0..count), one pool task each, each run on its task's thread alone.
 * XNNPACK operators are independent objects: different ones may run at the
 * same time (never the same one twice at once, which never happens here). */
typedef struct op_tasks_ctx {
  xnn_operator_t *ops;
  _Atomic int failed; /* first failing enum xnn_status, 0 = none */
} op_tasks_ctx;

static void run_op_task(void *context, size_t k) {
  op_tasks_ctx *ctx = context;
  const enum xnn_status s = xnn_run_operator(ctx->ops[k], NULL);
  if (s != xnn_status_success) {
    int none = 0;
    atomic_compare_exchange_strong(&ctx->failed, &none, (int)s);
  }
}

static enum xnn_status run_ops(xnn_operator_t *ops, int count, bool as_tasks, pthreadpool_t pool) {
  if (!as_tasks) {
    enum xnn_status s = xnn_status_success;
    for (int k = 0; k < count && s == xnn_status_success; k++) s = xnn_run_operator(ops[k], pool);
    return s;
  }
  op_tasks_ctx ctx = {.ops = ops};
  atomic_init(&ctx.failed, 0);
  pthreadpool_parallelize_1d(pool, run_op_task, &ctx, (size_t)count, 0);
  const int f = atomic_load(&ctx.failed);
  return f ? (enum xnn_status)f : xnn_status_success;
}

/* Output pixels [p0, p0 + rows) of an im2col conv -> rows of col: for each
 * pixel, its kh x kw x ic window in (ky, kx, c) order, zeros in the padding;
 * one copy per kernel row when the input is dense. */
static void im2col_rows(const xp_im2col_args *a, int64_t p0, int64_t rows, float *col) {
  const int64_t ic = a->ic, row_floats = a->kw * ic;
  for (int64_t p = p0; p < p0 + rows; p++) {
    const int64_t n = p / (a->oh * a->ow), oy = p / a->ow % a->oh, ox = p % a->ow;
    const int64_t ix0 = ox * a->stride_w - a->pad_left;
    const int64_t kx_lo = ZN_MAX(0, -ix0), kx_hi = ZN_MIN(a->kw, a->w - ix0);
    float *dst = col + (p - p0) * a->k;
    for (int64_t ky = 0; ky < a->kh; ky++, dst += row_floats) {
      const int64_t iy = oy * a->stride_h - a->pad_top + ky;
      if (iy < 0 || iy >= a->h || kx_hi <= kx_lo) {
        memset(dst, 0, (size_t)row_floats * sizeof(float));
        continue;
      }
      if (kx_lo > 0) memset(dst, 0, (size_t)(kx_lo * ic) * sizeof(float));
      if (kx_hi < a->kw) memset(dst + kx_hi * ic, 0, (size_t)((a->kw - kx_hi) * ic) * sizeof(float));
      const float *src = a->x + ((n * a->h + iy) * a->w + ix0 + kx_lo) * a->x_stride;
      if (a->x_stride == ic) {
        memcpy(dst + kx_lo * ic, src, (size_t)((kx_hi - kx_lo) * ic) * sizeof(float));
      } else {
        for (int64_t kx = kx_lo; kx < kx_hi; kx++, src += a->x_stride)
          memcpy(dst + kx * ic, src, (size_t)ic * sizeof(float));
      }
    }
  }
}

typedef struct im2col_ctx {
  const xp_im2col_args *a;
  xnn_operator_t *ops;
  _Atomic int failed; /* first failing enum xnn_status, 0 = none */
} im2col_ctx;

/* Task t: its share of the output pixels, block by block, through its own
 * GEMM ops[t] and scratch block (set up per block: setup only stores the batch
 * size and two pointers, allocates nothing). */
static void im2col_task(void *context, size_t t) {
  im2col_ctx *ctx = context;
  const xp_im2col_args *a = ctx->a;
  const int64_t lo = a->pixels * (int64_t)t / a->tasks, hi = a->pixels * ((int64_t)t + 1) / a->tasks;
  float *col = a->col + (int64_t)t * a->block * a->k;
  for (int64_t p0 = lo; p0 < hi; p0 += a->block) {
    const int64_t rows = ZN_MIN(a->block, hi - p0);
    im2col_rows(a, p0, rows, col);
    enum xnn_status s = xnn_setup_fully_connected_nc_f32(ctx->ops[t], (size_t)rows, col, a->y + p0 * a->y_stride, NULL);
    if (s == xnn_status_success) s = xnn_run_operator(ctx->ops[t], NULL);
    if (s != xnn_status_success) {
      int none = 0;
      atomic_compare_exchange_strong(&ctx->failed, &none, (int)s);
      return;
    }
  }
}

/* One run; step_ns: NULL (a normal run) or each step's wall time for the
 * per-step profile (pthreadpool's parallel calls return when every task is
 * done, so the clock around a step times exactly that step). */
static zn_status run_steps(xp_instance *in, const void *const *inputs, void *const *outputs, int64_t *step_ns) {
  const xp_compiled *c = in->c;
  const zn_graph *g = c->g;
  if (in->batch < 1) return zn_error(ZN_ERR_INVALID_STATE, "failed to run xnnpack instance: not reshaped");
  if ((g->num_inputs && !inputs) || (g->num_outputs && !outputs))
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run xnnpack instance: NULL input or output array");
  for (int i = 0; i < g->num_inputs; i++)
    if (!inputs[i]) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run xnnpack instance: input %d is NULL", i);
  for (int i = 0; i < g->num_outputs; i++)
    if (!outputs[i]) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run xnnpack instance: output %d is NULL", i);
  for (int si = 0; si < c->num_steps; si++) {
    const xp_step *st = &c->steps[si];
    const zn_node *n = step_node(c, st);
    xnn_operator_t *ops = in->ops + in->op_start[si];
    const xp_tensor *x = st->in >= 0 ? &in->t[st->in] : NULL, *y = st->out >= 0 ? &in->t[st->out] : NULL;
    const bool xn = st->in >= 0 && c->values[st->in].nhwc, yn = st->out >= 0 && c->values[st->out].nhwc;
    enum xnn_status s = xnn_status_success;
    const zn_time_ns t0 = step_ns ? zn_now_ns() : 0;
    switch (st->kind) {
    case XP_IMPORT:
      if (yn) import_nchw(inputs[st->io], y);
      else memcpy(y->data, inputs[st->io], (size_t)y->count * sizeof(float));
      break;
    case XP_EXPORT:
      if (xn) export_nchw(x, outputs[st->io]);
      else memcpy(outputs[st->io], x->data, (size_t)x->count * sizeof(float));
      break;
    case XP_CONV:
      s = run_ops(ops, st->conv_slices, in->op_tasks[si], in->pool);
      if (s == xnn_status_success && has_residual(n)) {
        if (ops[st->conv_slices]) s = xnn_run_operator(ops[st->conv_slices], in->pool);
        else
          binary_loop(ZN_OP_ADD, y, &in->t[zn_node_input(n, 3)], XP_BIN_SAME, y, true, st->out_min, st->out_max,
                      in->pool);
      }
      break;
    case XP_WINOGRAD: {
      /* Block by block, so that the block's v and m stay in L2. With several
       * blocks the GEMMs are set up again per block: setup only stores the
       * batch size and pointers in the operator (allocates nothing). */
      const zn_winograd_args *a = &in->wino[si];
      for (int64_t t0 = 0; t0 < a->tiles && s == xnn_status_success; t0 += a->block) {
        const int64_t bt = ZN_MIN(a->block, a->tiles - t0);
        zn_xnnpack_winograd_input(a, t0, bt, in->pool);
        for (int k = 0; a->block < a->tiles && k < a->positions && s == xnn_status_success; k++)
          s = xnn_setup_fully_connected_nc_f32(ops[k], (size_t)bt, a->v + k * bt * a->ic, a->m + k * bt * a->oc,
                                               in->op_tasks[si] ? NULL : in->pool);
        if (s == xnn_status_success) s = run_ops(ops, a->positions, in->op_tasks[si], in->pool);
        if (s == xnn_status_success) zn_xnnpack_winograd_output(a, t0, bt, in->pool);
      }
      break;
    }
    case XP_IM2COL: {
      im2col_ctx ctx = {.a = &in->im2col[si], .ops = ops};
      atomic_init(&ctx.failed, 0);
      pthreadpool_parallelize_1d(in->pool, im2col_task, &ctx, (size_t)in->im2col[si].tasks, 0);
      const int f = atomic_load(&ctx.failed);
      if (f) s = (enum xnn_status)f;
      break;
    }
    case XP_AVG_POOL:
      s = xnn_run_operator(ops[0], in->pool);
      if (n->attrs.pool.count_include_pad) avg_pool_include_pad(&n->attrs.pool, x, y);
      break;
    case XP_FC: case XP_MAX_POOL: case XP_GAP: case XP_CLAMP: case XP_SOFTMAX:
      s = xnn_run_operator(ops[0], in->pool);
      break;
    case XP_UNARY: s = run_act(in, si, ops[0], st->in, x, y); break;
    case XP_CONCAT:
      for (int k = 0; k < n->num_inputs && s == xnn_status_success; k++)
        if (ops[k]) s = xnn_run_operator(ops[k], in->pool);
      break;
    case XP_GMP: global_max(x, y); break;
    case XP_BATCH_NORM: batch_norm(x, y, st->bn_scale, st->bn_shift, in->pool); break;
    case XP_LRN: lrn(&n->attrs.lrn, x, y); break;
    case XP_BINARY:
      binary_loop(n->op, x, &in->t[st->bin_other], st->bin_form, y, xn, -INFINITY, INFINITY, in->pool);
      break;
    case XP_RESHAPE: reshape_copy(x, xn, y, yn, in->pool); break;
    case XP_STRIDED_COPY: step_strided_copy(st, x, xn, y, yn, in->pool); break;
    case XP_SHUFFLE: channel_shuffle(x, y, st->shuffle_groups, in->pool); break;
    case XP_LAYER_NORM: layer_norm(c, n, x, xn, y, yn, in->pool); break;
    case XP_GATHER: gather_one(x, xn, y, yn, st->gather_axis, st->gather_index); break;
    case XP_VIEW: case XP_SLICE_VIEW: case XP_KIND_COUNT: break;
    }
    /* An activation XNNPACK could not fuse, in place on the output. */
    if (s == xnn_status_success && has_post_act(st)) s = run_act(in, si, in->ops[in->op_start[si + 1] - 1], st->out, y, y);
    if (step_ns) step_ns[si] = zn_now_ns() - t0;
    if (s != xnn_status_success) return xnn_fail(n, "run XNNPACK operator", s);
  }
  return ZN_OK;
}

zn_status zn_xnnpack_instance_run(void *instance, const void *const *inputs, void *const *outputs) {
  return run_steps(instance, inputs, outputs, NULL);
}

zn_status zn_xnnpack_instance_run_profiled(void *instance, const void *const *inputs, void *const *outputs,
                                           int64_t *step_ns) {
  return run_steps(instance, inputs, outputs, step_ns);
}

int zn_xnnpack_instance_num_steps(const void *instance) {
  const xp_instance *in = instance;
  return in->batch ? in->c->num_steps : 0;
}

static const char *act_kernel(const zn_act *a, bool xnn) {
  if (!xnn)
    return a->kind == ZN_ACT_HARD_SIGMOID ? "HardSigmoid (C loop)"
           : a->kind == ZN_ACT_SWISH      ? "Swish (C loop)"
           : a->kind == ZN_ACT_GELU       ? "Gelu (C loop)"
                                          : "Tanh (C loop)";
  return a->kind == ZN_ACT_SWISH        ? "xnn_sigmoid_nc_f32 + multiply (C loop)"
         : a->kind == ZN_ACT_SIGMOID    ? "xnn_sigmoid_nc_f32"
         : a->kind == ZN_ACT_HARD_SWISH ? "xnn_hardswish_nc_f32"
                                        : "xnn_leaky_relu_nc_f32";
}

/* One step per graph node (every node has one; a concat whose inputs all
 * write in place is a step with no work), plus an import per graph input
 * and an export per output. */
void zn_xnnpack_instance_step(const void *instance, int i, zn_backend_step *out) {
  const xp_instance *in = instance;
  const xp_step *st = &in->c->steps[i];
  const zn_node *n = step_node(in->c, st);
  const char *pool = in->op_tasks[i] ? ", one operator per thread" : "";
  switch (st->kind) {
  case XP_CONV:
    snprintf(out->kernel, sizeof out->kernel, "xnn_convolution2d_nhwc_f32%s%s", st->conv_slices > 1 ? " (sliced)" : "",
             !has_residual(n)                                ? ""
             : in->ops[in->op_start[i] + st->conv_slices]    ? " + xnn_add_nd_f32"
                                                             : " + add (C loop)");
    break;
  case XP_WINOGRAD:
    snprintf(out->kernel, sizeof out->kernel, "Winograd F(%dx%d,3x3): C transforms + %d xnn_fully_connected_nc_f32%s",
             st->wino_out_tile, st->wino_out_tile, wino_positions(st), pool);
    break;
  case XP_IM2COL:
    snprintf(out->kernel, sizeof out->kernel, "im2col (C) + xnn_fully_connected_nc_f32, one per thread");
    break;
  case XP_UNARY:
    snprintf(out->kernel, sizeof out->kernel, "%s", act_kernel(&st->act, in->ops[in->op_start[i]] != NULL));
    break;
  default:
    snprintf(out->kernel, sizeof out->kernel, "%s", zn_xnnpack_kind_name(st->kind));
    break;
  }
  if (has_post_act(st)) {
    const size_t used = strlen(out->kernel);
    snprintf(out->kernel + used, sizeof out->kernel - used, " + %s",
             act_kernel(&st->act, in->ops[in->op_start[i + 1] - 1] != NULL));
  }
  out->num_nodes = 0;
  if (st->node >= 0) out->nodes[out->num_nodes++] = st->node;
  for (int k = 0; k < st->num_folded; k++) out->nodes[out->num_nodes++] = st->folded[k];
}
