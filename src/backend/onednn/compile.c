/* onednn backend, compile side: turns an optimised IR graph into a list of
 * oneDNN steps (NHWC activations, user NCHW converted at the edges), packs
 * convolution and inner-product weights ONCE into the layout the primitive
 * prefers at a reference batch of 1, and answers supports_node/describe.
 * The compiled model is read-only afterwards and shared by every instance. */
#include "backend/onednn/onednn.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/alloc.h"
#include "core/env.h"
#include "core/log.h"
#include "core/status.h"
#include "core/time.h"
#include "graph/passes.h"

/* The reference primitive descs that choose the shared weights layouts: batch 1
 * on 1 thread (the concurrent-instances case), whatever the caller's OpenMP
 * setting, so the packed layout does not depend on who compiled the model. */
#define REFERENCE_THREADS 1

/* ---------------------------------------------------------------- helpers */

static bool is_const(const zn_graph *g, int v) { return v >= 0 && v < g->num_values && g->values[v].data != NULL; }
static const zn_value *val(const zn_graph *g, int v) { return &g->values[v]; }
/* The graph value giving v's shape (v may be a converted copy). */
static const zn_value *cval(const odn_compiled *c, int v) { return &c->g->values[c->values[v].gid]; }
static int input_or_none(const zn_node *n, int k) { return k < n->num_inputs ? zn_node_input(n, k) : ZN_NO_VALUE; }

/* The batch symbol may sit on any axis: sequence-first transformer layouts
 * ([L, N, E] in PyTorch's MultiheadAttention) keep it second. Ops whose
 * meaning ties the batch to axis 0 (convs, BN, the own kernels) check it. */
static bool is_f32_activation(const zn_graph *g, int v) {
  return v >= 0 && v < g->num_values && !is_const(g, v) && val(g, v)->dtype == ZN_DTYPE_FLOAT32 &&
         val(g, v)->num_dims >= 1 && val(g, v)->num_dims <= 6;
}

static bool is_f32_const(const zn_graph *g, int v) {
  return is_const(g, v) && val(g, v)->dtype == ZN_DTYPE_FLOAT32 && val(g, v)->batch_axis < 0;
}

static int64_t num_elems_static(const zn_value *v) {
  int64_t n = 1;
  for (int i = 0; i < v->num_dims; i++) n *= v->dims[i];
  return n;
}

static bool bf16_supported(void) {
  unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
  return (isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) == (unsigned)dnnl_cpu_isa_avx512_core_bf16;
}

void zn_onednn_threads_push(int n, int *saved) {
#ifdef _OPENMP
  *saved = omp_get_max_threads();
  omp_set_num_threads(n);
#else
  (void)n;
  *saved = 1;
#endif
}

void zn_onednn_threads_pop(int saved) {
#ifdef _OPENMP
  omp_set_num_threads(saved);
#else
  (void)saved;
#endif
}

const char *zn_onednn_kind_name(odn_kind k) {
  static const char *names[ODN_KIND_COUNT] = {"import", "export", "conv", "inner_product", "pooling", "eltwise",
                                              "binary", "sum", "batch_norm", "lrn", "softmax", "concat",
                                              "to_plain", "copy", "convert", "concat_own", "view", "layer_norm", "matmul"};
  return (unsigned)k < ODN_KIND_COUNT ? names[k] : "?";
}

static void md_plain(dnnl_memory_desc_t *md, int rank, const int64_t *dims, dnnl_data_type_t dt) {
  static const dnnl_format_tag_t tags[] = {dnnl_a, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde, dnnl_abcdef};
  dnnl_dims_t d;
  int r = rank < 1 ? 1 : rank;
  for (int i = 0; i < r; i++) d[i] = rank < 1 ? 1 : dims[i];
  dnnl_memory_desc_init_by_tag(md, r, d, dt, tags[r]);
}

zn_status zn_onednn_value_md(const odn_compiled *c, int v, int64_t batch, dnnl_memory_desc_t *md) {
  const zn_value *x = cval(c, v);
  int64_t dims[ZN_MAX_DIMS];
  if (!zn_value_resolve_dims(x, batch, dims) || x->num_dims > 6)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to describe value %s for onednn: shape unknown or rank > 6", x->name);
  if (c->values[v].view_ctot > 0) {  /* a channel slice of a zero-copy concat's NHWC output */
    dnnl_dims_t d = {dims[0], dims[1], dims[2], dims[3]};
    int64_t ct = c->values[v].view_ctot;
    dnnl_dims_t st = {dims[2] * dims[3] * ct, 1, dims[3] * ct, ct};
    ODN_TRY_DNNL(dnnl_memory_desc_init_by_strides(md, 4, d, c->values[v].dt, st), "describe a channel slice");
  } else if (c->values[v].layout != ODN_PLAIN) {
    dnnl_dims_t d = {dims[0], dims[1], dims[2], dims[3]};
    bool nhwc = c->values[v].layout == ODN_NHWC;
    ODN_TRY_DNNL(dnnl_memory_desc_init_by_tag(md, 4, d, c->values[v].dt, nhwc ? dnnl_nhwc : dnnl_nChw16c),
                 "describe an NHWC / nChw16c tensor");
  } else {
    md_plain(md, x->num_dims, dims, c->values[v].dt);
  }
  return ZN_OK;
}

/* On one thread, always: a team formed here would stay in libgomp's count
 * of managed threads, and once that count exceeds the CPUs every team in the
 * process throttles its spin-wait and sleeps between primitives (a futex wake
 * per primitive: 2-thread MobileNet-V1 at batch 1 ran 1.6x slower). Reshape
 * may run on another thread than the runs (docs/internals/onednn.md). */
zn_status zn_onednn_reorder_now(dnnl_engine_t engine, const dnnl_memory_desc_t *src_md, const void *src,
                                const dnnl_memory_desc_t *dst_md, void *dst) {
  int saved_threads;
  zn_onednn_threads_push(1, &saved_threads);
  dnnl_primitive_desc_t pd = NULL;
  dnnl_primitive_t prim = NULL;
  dnnl_memory_t ms = NULL, md = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_status_t st = dnnl_reorder_primitive_desc_create(&pd, src_md, engine, dst_md, engine, NULL);
  if (st == dnnl_success) st = dnnl_primitive_create(&prim, pd);
  if (st == dnnl_success) st = dnnl_memory_create(&ms, src_md, engine, (void *)src);
  if (st == dnnl_success) st = dnnl_memory_create(&md, dst_md, engine, dst);
  if (st == dnnl_success) st = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
  if (st == dnnl_success) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
    st = dnnl_primitive_execute(prim, stream, 2, args);
  }
  if (st == dnnl_success) st = dnnl_stream_wait(stream);
  if (stream) dnnl_stream_destroy(stream);
  if (md) dnnl_memory_destroy(md);
  if (ms) dnnl_memory_destroy(ms);
  if (prim) dnnl_primitive_destroy(prim);
  if (pd) dnnl_primitive_desc_destroy(pd);
  zn_onednn_threads_pop(saved_threads);
  if (st != dnnl_success) return zn_error(ZN_ERR_INTERNAL, "failed to reorder a tensor: oneDNN status %d", (int)st);
  return ZN_OK;
}

/* ------------------------------------------------------ activations */

static float finite_or(float x, float inf_value) { return isinf(x) ? inf_value : x; }

/* A standalone activation as one eltwise algorithm. */
static bool act_as_eltwise(zn_act a, dnnl_alg_kind_t *alg, float *alpha, float *beta) {
  *alpha = 0.f;
  *beta = 0.f;
  switch (a.kind) {
    case ZN_ACT_RELU: *alg = dnnl_eltwise_relu; return true;
    case ZN_ACT_LEAKY_RELU: *alg = dnnl_eltwise_relu; *alpha = a.alpha; return true;
    case ZN_ACT_SIGMOID: *alg = dnnl_eltwise_logistic; return true;
    case ZN_ACT_TANH: *alg = dnnl_eltwise_tanh; return true;
    case ZN_ACT_GELU: *alg = dnnl_eltwise_gelu_erf; return true;
    case ZN_ACT_SWISH: *alg = dnnl_eltwise_swish; *alpha = a.alpha; return true;
    case ZN_ACT_HARD_SWISH: *alg = dnnl_eltwise_hardswish; return true;
    case ZN_ACT_CLIP:
      if (a.alpha == 0.f && isinf(a.beta) && a.beta > 0) { *alg = dnnl_eltwise_relu; return true; }
      *alg = dnnl_eltwise_clip_v2;
      *alpha = finite_or(a.alpha, -FLT_MAX);
      *beta = finite_or(a.beta, FLT_MAX);
      return true;
    case ZN_ACT_NONE: case ZN_ACT_HARD_SIGMOID: break;
  }
  return false;
}

static bool act_supported_fused(zn_act a) {
  dnnl_alg_kind_t alg;
  float x, y;
  return a.kind == ZN_ACT_NONE || a.kind == ZN_ACT_HARD_SIGMOID || act_as_eltwise(a, &alg, &x, &y);
}

static dnnl_status_t append_act(dnnl_post_ops_t po, zn_act a) {
  if (a.kind == ZN_ACT_NONE) return dnnl_success;
  if (a.kind == ZN_ACT_HARD_SIGMOID) {  /* clip(alpha * x + beta, 0, 1) */
    dnnl_status_t st = dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_linear, a.alpha, a.beta);
    return st != dnnl_success ? st : dnnl_post_ops_append_eltwise(po, 1.f, dnnl_eltwise_clip_v2, 0.f, 1.f);
  }
  dnnl_alg_kind_t alg;
  float alpha, beta;
  if (!act_as_eltwise(a, &alg, &alpha, &beta)) return dnnl_unimplemented;
  return dnnl_post_ops_append_eltwise(po, 1.f, alg, alpha, beta);
}

/* The activation a standalone activation node computes. */
static bool node_act(const zn_graph *g, const zn_node *n, zn_act *out) {
  zn_act a = n->attrs.act;
  switch (n->op) {
    case ZN_OP_RELU: a.kind = ZN_ACT_RELU; break;
    case ZN_OP_LEAKY_RELU: a.kind = ZN_ACT_LEAKY_RELU; break;
    case ZN_OP_SIGMOID: a.kind = ZN_ACT_SIGMOID; break;
    case ZN_OP_HARD_SWISH: a.kind = ZN_ACT_HARD_SWISH; break;
    case ZN_OP_TANH: a.kind = ZN_ACT_TANH; break;
    case ZN_OP_GELU: a.kind = ZN_ACT_GELU; break;
    case ZN_OP_SWISH: a.kind = ZN_ACT_SWISH; break;
    case ZN_OP_HARD_SIGMOID: a.kind = ZN_ACT_HARD_SIGMOID; break;
    case ZN_OP_CLIP: {
      a.kind = ZN_ACT_CLIP;
      /* opset >= 11 form: min / max as (constant) inputs override the attributes */
      for (int k = 1; k <= 2; k++) {
        int v = input_or_none(n, k);
        if (v == ZN_NO_VALUE) continue;
        if (!is_f32_const(g, v) || num_elems_static(val(g, v)) != 1) return false;
        float x = *(const float *)val(g, v)->data;
        if (k == 1) a.alpha = x; else a.beta = x;
      }
      break;
    }
    default: return false;
  }
  *out = a;
  return true;
}

/* Pow by a constant scalar exponent (float32, int32 or int64; GeM pooling
 * writes x^p and x^(1/p)) into *p. */
static bool pow_exponent(const zn_graph *g, const zn_node *n, float *p) {
  const int e = n->num_inputs == 2 ? zn_node_input(n, 1) : ZN_NO_VALUE;
  if (e < 0 || !val(g, e)->data || num_elems_static(val(g, e)) != 1) return false;
  switch (val(g, e)->dtype) {
    case ZN_DTYPE_FLOAT32: *p = *(const float *)val(g, e)->data; return true;
    case ZN_DTYPE_INT32: *p = (float)*(const int32_t *)val(g, e)->data; return true;
    case ZN_DTYPE_INT64: *p = (float)*(const int64_t *)val(g, e)->data; return true;
    default: return false;
  }
}

/* A standalone elementwise node as one eltwise algorithm: the activations,
 * Pow by a constant scalar (alpha * x^beta with alpha 1) and Sqrt. */
static bool node_eltwise(const zn_graph *g, const zn_node *n, dnnl_alg_kind_t *alg, float *alpha, float *beta) {
  zn_act a;
  if (n->op == ZN_OP_POW) {
    *alg = dnnl_eltwise_pow;
    *alpha = 1.f;
    return pow_exponent(g, n, beta);
  }
  if (n->op == ZN_OP_SQRT) {
    *alg = dnnl_eltwise_sqrt;
    *alpha = *beta = 0.f;
    return true;
  }
  return node_act(g, n, &a) && act_as_eltwise(a, alg, alpha, beta);
}

/* ------------------------------------------------------- geometry */

/* Right padding that makes oneDNN's floor formula produce the graph's output
 * size (ceil_mode gives extra right padding). */
static bool right_pad(int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int64_t pl, int64_t pr,
                      int64_t *pr_out) {
  int64_t keff = (k - 1) * d + 1;
  if (s < 1 || out < 1) return false;
  if (in + pl + pr - keff >= 0 && (in + pl + pr - keff) / s + 1 == out) { *pr_out = pr; return true; }
  int64_t need = (out - 1) * s + keff - in - pl;
  if (need < 0) return false;
  *pr_out = need;
  return true;
}

/* Does every window along one axis touch the input: the first (pad_begin
 * shorter than the dilated window) and the last (it starts inside the
 * input)? Other outputs see nothing but padding (no CNN has one; a Pad folded
 * into a conv keeps them touching), and oneDNN's primitive creation grows
 * with the output: a 593-byte model padding a 5-wide input to 2^21 columns
 * took 8 GB and 35 s to compile (found by fuzz_model_run). */
static bool windows_touch_input(int64_t in, int64_t out, int64_t kernel, int64_t dilation, int64_t stride,
                                int64_t pad_begin) {
  const int64_t window = (kernel - 1) * dilation + 1;
  return kernel >= 1 && out >= 1 && pad_begin < window && (out - 1) * stride - pad_begin <= in - 1;
}

static bool pool_geometry(const zn_graph *g, const zn_node *n, odn_op *op) {
  const zn_value *x = val(g, zn_node_input(n, 0)), *y = val(g, n->outputs[0]);
  if (x->num_dims != 4 || y->num_dims != 4) return false;
  if (n->op == ZN_OP_GLOBAL_AVERAGE_POOL || n->op == ZN_OP_GLOBAL_MAX_POOL) {
    op->alg = n->op == ZN_OP_GLOBAL_MAX_POOL ? dnnl_pooling_max : dnnl_pooling_avg_exclude_padding;
    for (int i = 0; i < 2; i++) {
      op->kernel[i] = x->dims[2 + i];
      op->stride[i] = 1;
      op->dilation[i] = 0;
      op->pad_l[i] = op->pad_r[i] = 0;
    }
    return y->dims[2] == 1 && y->dims[3] == 1;
  }
  const zn_pool_attrs *p = &n->attrs.pool;
  if (p->num_spatial != 2) return false;
  if (n->op == ZN_OP_MAX_POOL) op->alg = dnnl_pooling_max;
  else op->alg = p->count_include_pad ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding;
  for (int i = 0; i < 2; i++) {
    int64_t d = p->dilation[i] > 0 ? p->dilation[i] : 1, s = p->stride[i] > 0 ? p->stride[i] : 1, pr;
    if (!right_pad(x->dims[2 + i], y->dims[2 + i], p->kernel[i], s, d, p->pad_begin[i], p->pad_end[i], &pr))
      return false;
    if (!windows_touch_input(x->dims[2 + i], y->dims[2 + i], p->kernel[i], d, s, p->pad_begin[i])) return false;
    /* averaging over padding that ceil_mode invented would change the divisor */
    if (op->alg == dnnl_pooling_avg_include_padding && pr > p->pad_end[i]) return false;
    op->kernel[i] = p->kernel[i];
    op->stride[i] = s;
    op->dilation[i] = d - 1;
    op->pad_l[i] = p->pad_begin[i];
    op->pad_r[i] = pr;
  }
  return true;
}

/* Binary broadcast: src0 must have the output's dims; src1 dims (right-aligned)
 * must each equal the output's or be 1. Commutative ops may swap. */
static bool broadcastable(const zn_value *out, const zn_value *b) {
  if (b->num_dims > out->num_dims) return false;
  int off = out->num_dims - b->num_dims;
  for (int i = 0; i < b->num_dims; i++) {
    int j = i + off;
    bool bb = b->batch_axis == i, ob = out->batch_axis == j;
    if (b->dims[i] == 1 && !bb) continue;
    if (b->dims[i] != out->dims[j] || bb != ob) return false;
  }
  return true;
}

static bool same_shape(const zn_value *a, const zn_value *b) {
  if (a->num_dims != b->num_dims || a->batch_axis != b->batch_axis) return false;
  for (int i = 0; i < a->num_dims; i++)
    if (a->dims[i] != b->dims[i]) return false;
  return true;
}

static bool binary_plan(const zn_graph *g, const zn_node *n, bool *swap) {
  int a = zn_node_input(n, 0), b = zn_node_input(n, 1);
  const zn_value *y = val(g, n->outputs[0]);
  bool commutative = n->op == ZN_OP_ADD || n->op == ZN_OP_MUL;
  if (is_f32_activation(g, a) && same_shape(val(g, a), y) &&
      (is_f32_activation(g, b) || is_f32_const(g, b)) && broadcastable(y, val(g, b))) {
    *swap = false;
    return true;
  }
  if (commutative && is_f32_activation(g, b) && same_shape(val(g, b), y) &&
      (is_f32_activation(g, a) || is_f32_const(g, a)) && broadcastable(y, val(g, a))) {
    *swap = true;
    return true;
  }
  return false;
}

/* ---------------------------------------------------------- supports_node */

static bool gemm_supported(const zn_graph *g, const zn_node *n) {
  int a = zn_node_input(n, 0), b = zn_node_input(n, 1), cc = input_or_none(n, 2);
  if (!is_f32_activation(g, a) || val(g, a)->num_dims != 2 || !is_f32_const(g, b) || val(g, b)->num_dims != 2)
    return false;
  const zn_value *y = val(g, n->outputs[0]);
  if (y->num_dims != 2) return false;
  int64_t m = y->dims[1], k = val(g, a)->dims[1];
  bool trans_b = n->op == ZN_OP_GEMM && n->attrs.gemm.trans_b;
  if (n->op == ZN_OP_GEMM && n->attrs.gemm.trans_a) return false;
  const int64_t *bd = val(g, b)->dims;
  if (trans_b ? (bd[0] != m || bd[1] != k) : (bd[0] != k || bd[1] != m)) return false;
  if (n->op == ZN_OP_GEMM) {
    if (!act_supported_fused(n->attrs.gemm.act)) return false;
    if (cc != ZN_NO_VALUE) {
      if (!is_f32_const(g, cc)) return false;
      int64_t ne = num_elems_static(val(g, cc));
      const zn_value *cv = val(g, cc);
      bool row = ne == m && (cv->num_dims == 1 || (cv->num_dims == 2 && cv->dims[0] == 1));
      if (ne != 1 && !row) return false;
    }
  } else if (n->num_inputs != 2) {
    return false;
  }
  return true;
}

/* MatMul that is not a Linear layer (gemm_supported): A [..., M, K] times
 * B [..., K, N], both float32, at least one an activation (attention's
 * Q K^T and A V), ranks 2..6; the leading (batch) dims, aligned from the
 * right, are equal or 1 in one of them, and the batch symbol sits only in
 * those leading dims. */
static bool bmm_supported(const zn_graph *g, const zn_node *n) {
  if (n->op != ZN_OP_MATMUL || n->num_inputs != 2) return false;
  const int a = zn_node_input(n, 0), b = zn_node_input(n, 1);
  if (a < 0 || b < 0 || (!is_f32_activation(g, a) && !is_f32_const(g, a)) ||
      (!is_f32_activation(g, b) && !is_f32_const(g, b)) || (is_const(g, a) && is_const(g, b)))
    return false;
  const zn_value *av = val(g, a), *bv = val(g, b), *yv = val(g, n->outputs[0]);
  const int ra = av->num_dims, rb = bv->num_dims, r = ra > rb ? ra : rb;
  if (ra < 2 || rb < 2 || r > 6 || yv->num_dims != r || yv->dtype != ZN_DTYPE_FLOAT32) return false;
  if (av->batch_axis >= ra - 2 || bv->batch_axis >= rb - 2) return false;
  if (av->dims[ra - 1] != bv->dims[rb - 2]) return false;
  for (int i = 0; i < r - 2; i++) {
    const int ia = i - (r - ra), ib = i - (r - rb);
    const int64_t da = ia >= 0 ? av->dims[ia] : 1, db = ib >= 0 ? bv->dims[ib] : 1;
    const bool sa = ia >= 0 && av->batch_axis == ia, sb = ib >= 0 && bv->batch_axis == ib;
    if (da == db && sa == sb) continue;
    if ((da == 1 && !sa) || (db == 1 && !sb)) continue;
    return false;
  }
  return true;
}

/* Transpose: any permutation of up to 6 axes (a reorder; axis_out,
 * first_out unused). Gather: one constant index (zn_gather_one_index: where,
 * which). */
static bool view_of(const zn_graph *g, const zn_node *n, int *axis_out, int64_t *first_out) {
  const zn_value *x = val(g, zn_node_input(n, 0));
  const int r = x->num_dims;
  if (r < 1 || r > 6) return false;
  if (n->op == ZN_OP_TRANSPOSE) {
    const zn_transpose_attrs *t = &n->attrs.transpose;
    if (t->num_perm != 0 && t->num_perm != r) return false;
    return true;
  }
  return zn_gather_one_index(g, n, axis_out, first_out);
}

/* ---- Slice as a view (ODN_VIEW) ---- */

/* The contents of a constant int32/int64 vector of at most ZN_MAX_DIMS
 * elements that does not carry the batch symbol; false otherwise. */
static bool const_ints(const zn_graph *g, int v, int64_t *out, int *count_out) {
  if (v < 0 || v >= g->num_values) return false;
  const zn_value *k = val(g, v);
  const size_t eb = k->dtype == ZN_DTYPE_INT64 ? 8 : k->dtype == ZN_DTYPE_INT32 ? 4 : 0;
  int64_t count;
  if (!k->data || !eb || k->batch_axis >= 0 || k->batch_elems || k->num_dims > 1 ||
      !zn_value_num_elements(k, 1, &count) || count > ZN_MAX_DIMS || k->data_bytes < (size_t)count * eb)
    return false;
  for (int64_t i = 0; i < count; i++)
    out[i] = eb == 8 ? ((const int64_t *)k->data)[i] : ((const int32_t *)k->data)[i];
  *count_out = (int)count;
  return true;
}

/* A Slice that is a strided window of its input: constant starts and ends
 * (axes and steps constant or absent), positive steps (Swin's patch merging
 * takes every second row and column), a non-empty range, the batch axis
 * whole. Per input axis: the first index, the length (-1 for an axis left
 * whole: the batch axis keeps its symbolic size) and the step. */
static bool slice_window(const zn_graph *g, const zn_node *n, int64_t *first_out, int64_t *len_out,
                         int64_t *step_out) {
  const zn_value *x = val(g, zn_node_input(n, 0)), *y = val(g, n->outputs[0]);
  const int r = x->num_dims, va = input_or_none(n, 3), vt = input_or_none(n, 4);
  int64_t starts[ZN_MAX_DIMS], ends[ZN_MAX_DIMS], axes[ZN_MAX_DIMS], steps[ZN_MAX_DIMS];
  int ns, ne, na, nt;
  if (n->num_inputs < 3 || n->num_inputs > 5 || r < 1 || r > 6 || y->num_dims != r) return false;
  if (!const_ints(g, zn_node_input(n, 1), starts, &ns) || !const_ints(g, zn_node_input(n, 2), ends, &ne) || ns != ne)
    return false;
  if (va != ZN_NO_VALUE && (!const_ints(g, va, axes, &na) || na != ns)) return false;
  if (vt != ZN_NO_VALUE && (!const_ints(g, vt, steps, &nt) || nt != ns)) return false;
  for (int i = 0; i < r; i++) first_out[i] = 0, len_out[i] = -1, step_out[i] = 1;
  for (int k = 0; k < ns; k++) {
    int64_t a = va != ZN_NO_VALUE ? axes[k] : k, first, len;
    const int64_t step = vt != ZN_NO_VALUE ? steps[k] : 1;
    if (a < 0) a += r;
    if (a < 0 || a >= r || len_out[a] >= 0 || first_out[a] < 0 || step < 1) return false;
    if (a == x->batch_axis) {  /* only whole (shape inference keeps the symbol for nothing else) */
      if (starts[k] != 0 || ends[k] < INT32_MAX || step != 1) return false;
      first_out[a] = -1;  /* seen */
      continue;
    }
    zn_slice_resolve(x->dims[a], starts[k], ends[k], step, &first, &len);
    if (len < 1 || len != y->dims[a]) return false;
    first_out[a] = first;
    len_out[a] = len;
    step_out[a] = step;
  }
  for (int i = 0; i < r; i++) first_out[i] = first_out[i] < 0 ? 0 : first_out[i];
  return true;
}

/* ODN_VIEW of a Slice: src (the input's md) becomes its window; a stepped
 * axis takes every step-th element of the window's span (its stride times
 * step). The input is plain or NHWC, never blocked (plan_slice). */
static zn_status slice_view_md(const odn_compiled *c, const zn_node *n, dnnl_memory_desc_t *src) {
  int64_t first[ZN_MAX_DIMS], len[ZN_MAX_DIMS], step[ZN_MAX_DIMS];
  if (!slice_window(c->g, n, first, len, step)) return zn_error(ZN_ERR_INTERNAL, "onednn: Slice %s is not a view", n->name);
  dnnl_dims_t d, off;
  for (int i = 0; i < src->ndims; i++) {
    d[i] = len[i] >= 0 ? (len[i] - 1) * step[i] + 1 : src->dims[i];
    off[i] = first[i];
  }
  dnnl_memory_desc_t v;
  ODN_TRY_DNNL(dnnl_memory_desc_init_submemory(&v, src, d, off), "view the window of a Slice's input");
  for (int i = 0; i < src->ndims; i++) {
    if (step[i] == 1) continue;
    if (v.format_kind != dnnl_blocked || v.format_desc.blocking.inner_nblks != 0)
      return zn_error(ZN_ERR_INTERNAL, "onednn: Slice %s: a stepped view of a blocked layout", n->name);
    v.dims[i] = v.padded_dims[i] = len[i];
    v.format_desc.blocking.strides[i] *= step[i];
  }
  *src = v;
  return ZN_OK;
}

/* ---- channel shuffle as one view (ODN_VIEW) ---- */

/* ShuffleNet's channel shuffle as PyTorch writes it: Reshape [N,C,H,W] ->
 * [N,G,C/G,H,W], Transpose (0,2,1,3,4), Reshape back to [N,C,H,W], as three
 * consecutive nodes (so no other node runs between them), each intermediate
 * read only by the next. Given the last Reshape (node ni): the 4-D source,
 * and G in *groups_out; -1 when ni ends no such chain. */
static int shuffle_source(const zn_graph *g, int ni, int64_t *groups_out) {
  int t, r;
  if (ni < 2) return -1;
  const int64_t groups = zn_graph_channel_shuffle(g, ni - 2, &t, &r);
  const int x = zn_node_input(&g->nodes[ni - 2], 0);
  if (groups < 1 || t != ni - 1 || r != ni || !is_f32_activation(g, x)) return -1;
  *groups_out = groups;
  return x;
}

/* ODN_VIEW of a channel shuffle: output channel j * G + k is input channel
 * k * (C/G) + j. Both 4-D mds (any dense or strided layout without blocks)
 * are read as 5-D [N, C/G, G, H, W]: the source with its channel stride
 * split as (s, (C/G) * s), the destination as (G * d, d). */
static zn_status shuffle_view_md(const odn_compiled *c, const zn_node *n, dnnl_memory_desc_t *src,
                                 dnnl_memory_desc_t *dst) {
  int64_t groups = 0;
  if (shuffle_source(c->g, (int)(n - c->g->nodes), &groups) < 0 || src->ndims != 4 || dst->ndims != 4 ||
      src->format_kind != dnnl_blocked || dst->format_kind != dnnl_blocked ||
      src->format_desc.blocking.inner_nblks || dst->format_desc.blocking.inner_nblks)
    return zn_error(ZN_ERR_INTERNAL, "onednn: Reshape %s ends no channel shuffle", n->name);
  const dnnl_dim_t *ss = src->format_desc.blocking.strides, *ds = dst->format_desc.blocking.strides;
  const dnnl_dim_t per = src->dims[1] / groups;
  dnnl_dims_t d = {src->dims[0], per, groups, src->dims[2], src->dims[3]};
  dnnl_dims_t s5 = {ss[0], ss[1], per * ss[1], ss[2], ss[3]}, d5 = {ds[0], groups * ds[1], ds[1], ds[2], ds[3]};
  dnnl_memory_desc_t a, b;
  ODN_TRY_DNNL(dnnl_memory_desc_init_by_strides(&a, 5, d, src->data_type, s5), "view a channel shuffle's input");
  ODN_TRY_DNNL(dnnl_memory_desc_init_by_strides(&b, 5, d, dst->data_type, d5), "view a channel shuffle's output");
  a.offset0 = src->offset0;
  b.offset0 = dst->offset0;
  *src = a;
  *dst = b;
  return ZN_OK;
}

#define REFUSE(...) return zn_backend_refuse(why, why_size, __VA_ARGS__)

/* The first input is a float32 activation (not a constant, rank 1-6, batch
 * first or none), or the reason why not. */
static bool f32_input(const zn_graph *g, const zn_node *n, int x, char *why, size_t why_size) {
  if (is_f32_activation(g, x)) return true;
  if (is_const(g, x)) REFUSE("%s of a constant input is not implemented (constant folding leaves it)", zn_op_name(n->op));
  if (val(g, x)->dtype != ZN_DTYPE_FLOAT32) REFUSE("%s: the input is %s; onednn runs float32", zn_op_name(n->op), zn_dtype_name(val(g, x)->dtype));
  REFUSE("%s: only inputs of rank 1 to 6 with the batch first", zn_op_name(n->op));
}

static bool slice_supported(const zn_graph *g, const zn_node *n, int x, char *why, size_t why_size) {
  int64_t first[ZN_MAX_DIMS], len[ZN_MAX_DIMS], step[ZN_MAX_DIMS];
  if (!f32_input(g, n, x, why, why_size)) return false;
  if (!slice_window(g, n, first, len, step))
    REFUSE("Slice: only constant starts/ends/axes, positive steps, a non-empty range, the batch axis whole");
  return true;
}

static bool hard_sigmoid_supported(const zn_graph *g, const zn_node *n, int x, char *why, size_t why_size) {
  if (!f32_input(g, n, x, why, why_size)) return false;
  if (n->num_inputs != 1) REFUSE("HardSigmoid: only one input");
  return true;
}

static bool supports(const zn_graph *g, const zn_node *n, char *why, size_t why_size) {
  const char *op = zn_op_name(n->op);
  if (n->num_inputs < 1 || n->num_outputs < 1) REFUSE("%s: only nodes with an input and an output", op);
  for (int k = 1; k < n->num_outputs; k++) {
    if (n->outputs[k] == ZN_NO_VALUE) continue;
    if (n->op == ZN_OP_LAYER_NORM) REFUSE("LayerNormalization: the Mean and InvStdDev outputs are not implemented (only Y)");
    REFUSE("%s: a second output (such as MaxPool's indices) is not implemented", op);
  }
  int x = zn_node_input(n, 0), y = n->outputs[0];
  if (x < 0 || x >= g->num_values || y < 0 || y >= g->num_values || val(g, y)->num_dims < 0 || val(g, y)->num_dims > 6)
    REFUSE("%s: only outputs of rank 0 to 6", op);
  switch (n->op) {
    case ZN_OP_CONV: {
      const zn_conv_attrs *a = &n->attrs.conv;
      int w = input_or_none(n, 1), b = input_or_none(n, 2), r = input_or_none(n, 3);
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (a->num_spatial != 2 || val(g, x)->num_dims != 4 || val(g, y)->num_dims != 4)
        REFUSE("Conv: only 2-D convolutions (4-D tensors)");
      if (!is_f32_const(g, w) || val(g, w)->num_dims != 4 || a->group < 1)
        REFUSE("Conv: only constant float32 4-D weights");
      if (b != ZN_NO_VALUE && (!is_f32_const(g, b) || num_elems_static(val(g, b)) != val(g, y)->dims[1]))
        REFUSE("Conv: only a constant float32 bias with one value per output channel");
      if (r != ZN_NO_VALUE && (!is_f32_activation(g, r) || !same_shape(val(g, r), val(g, y))))
        REFUSE("Conv: the fused residual must be a float32 activation of the output's shape");
      if (n->num_inputs > 4 || !act_supported_fused(a->act)) REFUSE("Conv: this fused activation is not implemented");
      for (int i = 0; i < 2; i++) {
        const int64_t in = val(g, x)->dims[2 + i], out = val(g, y)->dims[2 + i];
        int64_t pr, d = a->dilation[i] > 0 ? a->dilation[i] : 1, s = a->stride[i] > 0 ? a->stride[i] : 1;
        if (!right_pad(in, out, a->kernel[i], s, d, a->pad_begin[i], a->pad_end[i], &pr) || pr > a->pad_end[i])
          REFUSE("Conv: the output size needs more end padding than the pads give");  /* no ceil mode for Conv */
        if (!windows_touch_input(in, out, a->kernel[i], d, s, a->pad_begin[i]))
          REFUSE("Conv: pads so large that some output windows see only padding");
      }
      return true;
    }
    case ZN_OP_GEMM: case ZN_OP_MATMUL:
      if (gemm_supported(g, n) || bmm_supported(g, n)) return true;
      if (n->op == ZN_OP_MATMUL)
        REFUSE("MatMul: only float32 A [..., M, K] times B [..., K, N], ranks 2 to 6, broadcastable leading dims");
      REFUSE("Gemm: only a 2-D float32 activation (no transA) times a constant 2-D float32 matrix, a constant bias of "
             "one or N values, ReLU/Clip at most");
    case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: {
      bool swap;
      if (n->num_inputs != 2 || !binary_plan(g, n, &swap))
        REFUSE("%s: only a float32 activation of the output's shape and an activation or constant broadcast to it", op);
      return true;
    }
    case ZN_OP_SUM:
      for (int k = 0; k < n->num_inputs; k++)
        if (!is_f32_activation(g, zn_node_input(n, k)) || !same_shape(val(g, zn_node_input(n, k)), val(g, y)))
          REFUSE("Sum: only float32 activations of the output's shape");
      return true;
    case ZN_OP_RELU: case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SWISH: case ZN_OP_CLIP:
    case ZN_OP_TANH: case ZN_OP_GELU: case ZN_OP_SWISH: {
      zn_act a;
      dnnl_alg_kind_t alg;
      float p, q;
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (!node_act(g, n, &a) || !act_as_eltwise(a, &alg, &p, &q)) REFUSE("%s: only constant parameters (Clip: constant bounds)", op);
      return true;
    }
    case ZN_OP_POW: case ZN_OP_SQRT: {
      dnnl_alg_kind_t alg;
      float p, q;
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (!node_eltwise(g, n, &alg, &p, &q)) REFUSE("Pow: only a constant scalar exponent");
      return true;
    }
    case ZN_OP_SOFTMAX: {
      int r = val(g, x)->num_dims;
      int64_t axis = n->attrs.softmax.axis < 0 ? n->attrs.softmax.axis + r : n->attrs.softmax.axis;
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (axis < 0 || axis >= r || (n->attrs.softmax.legacy_2d && axis != r - 1))
        REFUSE("Softmax: only over one axis (opset < 13: the last)");
      return true;
    }
    case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL: case ZN_OP_GLOBAL_AVERAGE_POOL: case ZN_OP_GLOBAL_MAX_POOL: {
      odn_op tmp;
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (!pool_geometry(g, n, &tmp))
        REFUSE("%s: only 2-D pooling (4-D tensors) whose windows all reach the input, with pads that give the output size", op);
      return true;
    }
    case ZN_OP_BATCH_NORM: {
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (val(g, x)->num_dims < 2 || n->num_inputs != 5) REFUSE("BatchNormalization: only inputs of rank 2 or more, 5 inputs");
      int64_t ch = val(g, x)->dims[1];
      for (int k = 1; k < 5; k++)
        if (!is_f32_const(g, zn_node_input(n, k)) || num_elems_static(val(g, zn_node_input(n, k))) != ch)
          REFUSE("BatchNormalization: only constant float32 parameters with one value per channel");
      return true;
    }
    case ZN_OP_LAYER_NORM: {
      if (!f32_input(g, n, x, why, why_size)) return false;
      const zn_value *xv = val(g, x);
      const int b = input_or_none(n, 2);
      if (xv->num_dims < 2 || n->attrs.layer_norm.axis != xv->num_dims - 1 || xv->batch_axis == xv->num_dims - 1)
        REFUSE("LayerNormalization: only over the last axis (not the batch) of a tensor of rank 2 or more");
      const int64_t ch = xv->dims[xv->num_dims - 1];
      if (!is_f32_const(g, zn_node_input(n, 1)) || num_elems_static(val(g, zn_node_input(n, 1))) != ch ||
          (b != ZN_NO_VALUE && (!is_f32_const(g, b) || num_elems_static(val(g, b)) != ch)))
        REFUSE("LayerNormalization: only constant float32 scale and bias with one value per normalised element");
      return true;
    }
    case ZN_OP_LRN:
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (val(g, x)->num_dims != 4 || n->attrs.lrn.size % 2 != 1) REFUSE("LRN: only 4-D inputs and an odd size");
      return true;
    case ZN_OP_CONCAT: {
      int r = val(g, y)->num_dims;
      int64_t axis = n->attrs.axis.axis < 0 ? n->attrs.axis.axis + r : n->attrs.axis.axis;
      if (axis < 0 || axis >= r) REFUSE("Concat: the axis is outside the output's rank");
      for (int k = 0; k < n->num_inputs; k++)
        if (!is_f32_activation(g, zn_node_input(n, k)) || val(g, zn_node_input(n, k))->num_dims != r)
          REFUSE("Concat: only float32 activations of the output's rank");
      return true;
    }
    case ZN_OP_FLATTEN: case ZN_OP_RESHAPE: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: case ZN_OP_IDENTITY:
      if (!f32_input(g, n, x, why, why_size)) return false;
      if (val(g, y)->num_dims < 1 || val(g, y)->num_dims > 6) REFUSE("%s: only outputs of rank 1 to 6", op);
      return true;
    case ZN_OP_TRANSPOSE: case ZN_OP_GATHER: {
      if (!f32_input(g, n, x, why, why_size)) return false;
      int64_t first;
      int axis;
      if (!view_of(g, n, &axis, &first))
        REFUSE(n->op == ZN_OP_TRANSPOSE ? "Transpose: only tensors of rank 1 to 6"
                                        : "Gather: only one constant index, on an axis other than the batch");
      if (val(g, y)->num_dims < 1) REFUSE("%s: only outputs of rank 1 or more", op);
      return true;
    }
    case ZN_OP_SLICE: return slice_supported(g, n, x, why, why_size);
    case ZN_OP_HARD_SIGMOID: return hard_sigmoid_supported(g, n, x, why, why_size);
    case ZN_OP_EXPAND:
      if ((!is_f32_activation(g, x) && !is_f32_const(g, x)) || val(g, y)->dtype != ZN_DTYPE_FLOAT32 ||
          val(g, y)->num_dims < 1 || val(g, y)->num_dims > 6 || val(g, x)->num_dims > val(g, y)->num_dims)
        REFUSE("Expand: only float32 of rank up to 6, to a shape known at load");
      return true;
    default: REFUSE("%s is not implemented", op);
  }
}

#undef REFUSE

/* Rows of an inner product's source at a batch: N for a folded 4-D source,
 * else the 2-D source's first dim (N, or L*N for a transformer's Linear). */
static int64_t ip_rows(const odn_compiled *c, const odn_op *op, int64_t batch) {
  int64_t d[ZN_MAX_DIMS];
  return zn_value_resolve_dims(cval(c, op->ins[0]), batch, d) ? d[0] : 0;
}

/* ------------------------------------------------------------- op list */

static zn_status add_op(odn_compiled *c, odn_kind kind, int node, int num_ins, const int *ins, int out, odn_op **op_out) {
  if (c->num_ops == c->cap_ops) {
    int cap = c->cap_ops ? 2 * c->cap_ops : 64;
    odn_op *ops = zn_realloc(c->ops, (size_t)cap * sizeof *ops);
    if (!ops) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan onednn steps: out of memory");
    c->ops = ops;
    c->cap_ops = cap;
  }
  odn_op *op = &c->ops[c->num_ops];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->node = node;
  op->out = out;
  op->residual = -1;
  op->io_index = -1;
  if (num_ins > 0) {
    op->ins = zn_malloc((size_t)num_ins * sizeof *op->ins);
    if (!op->ins) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan onednn steps: out of memory");
    memcpy(op->ins, ins, (size_t)num_ins * sizeof *ins);
  }
  op->num_ins = num_ins;
  c->num_ops++;
  *op_out = op;
  return ZN_OK;
}

typedef struct plan_ctx {
  int *last_use;      /* per value: last node index reading it (INT_MAX for graph outputs) */
  bool *is_output;
  bool *fold_flatten; /* per node */
  bool *residual_src; /* per value: added as a residual by some conv */
  bool *relu_fused;   /* per node: a ReLU folded into the batch norm before it (dnnl_fuse_norm_relu) */
} plan_ctx;

static int root_of(const odn_compiled *c, int v) { return c->values[v].root; }

/* Is v the classifier's output: a graph output, or read only by a chain of
 * Softmax / reshapes (at most 3) that ends in one? bf16 keeps that inner
 * product in f32 (ODN_F32_LAST); a transformer's other Linear layers are not it. */
static bool classifier_output(const zn_graph *g, const plan_ctx *p, int v) {
  for (int hop = 0; hop <= 3; hop++) {
    if (p->is_output[v]) return true;
    const int r = zn_graph_sole_reader(g, v);
    if (r < 0) return false;
    const zn_op op = g->nodes[r].op;
    if (op != ZN_OP_SOFTMAX && op != ZN_OP_FLATTEN && op != ZN_OP_RESHAPE && op != ZN_OP_SQUEEZE &&
        op != ZN_OP_IDENTITY)
      return false;
    v = g->nodes[r].outputs[0];
  }
  return false;
}

/* Can a conv write its output over the residual's buffer? Only when nothing
 * reads that buffer after this node, the conv does not read it itself, and
 * the bytes already have the output's layout and data type. */
static bool residual_inplace_ok(const odn_compiled *c, const plan_ctx *p, int node, int x, int r, int out) {
  int rr = root_of(c, r);
  if (root_of(c, x) == rr || c->values[r].layout != c->values[out].layout || c->values[r].dt != c->values[out].dt)
    return false;
  for (int u = 0; u < c->g->num_values; u++) {
    if (!c->values[u].used || root_of(c, u) != rr) continue;
    if (p->is_output[u] || p->last_use[u] > node) return false;
  }
  return true;
}

static void set_value(odn_compiled *c, int v, odn_layout layout, dnnl_data_type_t dt) {
  c->values[v].used = true;
  c->values[v].root = v;
  c->values[v].layout = layout;
  c->values[v].dt = dt;
}

static void set_alias(odn_compiled *c, int v, int of, odn_layout layout) {
  c->values[v].used = true;
  c->values[v].root = root_of(c, of);
  c->values[v].layout = layout;
  c->values[v].dt = c->values[of].dt;
}

/* v in the given layout and data type: v itself, or a converted copy made by
 * an ODN_CONVERT step the first time a consumer asks (later consumers reuse
 * it; values are never written after they are computed, and a copy is never
 * the target of an in-place residual, so it stays valid). */
static zn_status want(odn_compiled *c, int v, odn_layout layout, dnnl_data_type_t dt, int *out) {
  *out = v;
  if (is_const(c->g, v) || (c->values[v].layout == layout && c->values[v].dt == dt)) return ZN_OK;
  for (int u = c->g->num_values; u < c->num_values; u++)
    if (c->values[u].copy_of == v && c->values[u].layout == layout && c->values[u].dt == dt) {
      *out = u;
      return ZN_OK;
    }
  if (c->num_values == c->cap_values) {
    int cap = 2 * c->cap_values;
    odn_value *nv = zn_realloc(c->values, (size_t)cap * sizeof *nv);
    if (!nv) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan onednn steps: out of memory");
    c->values = nv;
    c->cap_values = cap;
  }
  int u = c->num_values++;
  odn_value *x = &c->values[u];
  memset(x, 0, sizeof *x);
  x->used = true;
  x->root = u;
  x->gid = c->values[v].gid;
  x->copy_of = v;
  x->layout = layout;
  x->dt = dt;
  odn_op *op;
  ZN_TRY(add_op(c, ODN_CONVERT, -1, 1, &v, u, &op));
  c->num_converts++;
  *out = u;
  return ZN_OK;
}

/* v converted to ref's data type, and to ref's layout when both are 4-D
 * non-plain (NHWC / nChw16c); plain (broadcast) operands keep their layout. */
static zn_status match_input(odn_compiled *c, int v, int ref, int *out) {
  odn_layout l = c->values[v].layout;
  if (l != ODN_PLAIN && c->values[ref].layout != ODN_PLAIN) l = c->values[ref].layout;
  return want(c, v, l, c->values[ref].dt, out);
}

/* ------------------------------------------------ Winograd: choose by timing */

static dnnl_status_t make_attr(dnnl_primitive_attr_t *attr, const zn_act *act, bool sum);

static bool wino_shape(const zn_graph *g, const zn_node *n) {
  if (n->op != ZN_OP_CONV) return false;
  const zn_conv_attrs *a = &n->attrs.conv;
  int w = input_or_none(n, 1);
  if (a->num_spatial != 2 || a->group != 1 || w == ZN_NO_VALUE || val(g, w)->num_dims != 4) return false;
  for (int i = 0; i < 2; i++)
    if (a->kernel[i] != 3 || (a->stride[i] > 1) || a->dilation[i] > 1) return false;
  return true;
}

/* Conv (direct NHWC or Winograd nChw16c) desc for node at the tuning batch. */
static dnnl_status_t conv_desc_for(const odn_compiled *c, const zn_node *n, bool wino, dnnl_primitive_desc_t *pd) {
  const zn_graph *g = c->g;
  const zn_conv_attrs *a = &n->attrs.conv;
  const zn_value *xv = val(g, zn_node_input(n, 0)), *yv = val(g, n->outputs[0]), *w = val(g, zn_node_input(n, 1));
  dnnl_format_tag_t tag = wino ? dnnl_nChw16c : dnnl_nhwc;
  dnnl_dims_t xd = {c->tune_batch, xv->dims[1], xv->dims[2], xv->dims[3]};
  dnnl_dims_t yd = {c->tune_batch, yv->dims[1], yv->dims[2], yv->dims[3]};
  dnnl_dims_t wd = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]}, bd = {yv->dims[1]};
  dnnl_dims_t strides = {1, 1}, dil = {0, 0}, pl = {a->pad_begin[0], a->pad_begin[1]}, pr;
  for (int i = 0; i < 2; i++) {
    int64_t r = a->pad_end[i];
    right_pad(xv->dims[2 + i], yv->dims[2 + i], 3, 1, 1, a->pad_begin[i], a->pad_end[i], &r);
    pr[i] = r;
  }
  dnnl_memory_desc_t src, dst, wmd, bmd;
  dnnl_memory_desc_init_by_tag(&src, 4, xd, dnnl_f32, tag);
  dnnl_memory_desc_init_by_tag(&dst, 4, yd, dnnl_f32, tag);
  dnnl_memory_desc_init_by_tag(&wmd, 4, wd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
  dnnl_convolution_desc_t cd;
  dnnl_primitive_attr_t attr = NULL;
  bool has_bias = input_or_none(n, 2) != ZN_NO_VALUE;
  dnnl_status_t st = dnnl_dilated_convolution_forward_desc_init(
      &cd, dnnl_forward_inference, wino ? dnnl_convolution_winograd : dnnl_convolution_direct, &src, &wmd,
      has_bias ? &bmd : NULL, &dst, strides, dil, pl, pr);
  if (st == dnnl_success) st = make_attr(&attr, &a->act, input_or_none(n, 3) != ZN_NO_VALUE);
  if (st == dnnl_success) st = dnnl_primitive_desc_create(pd, &cd, attr, c->engine, NULL);
  if (attr) dnnl_primitive_attr_destroy(attr);
  return st;
}

/* Nanoseconds of one execution of pd (zeroed buffers for every argument):
 * the fastest of 3 runs after a warm-up. < 0 on failure. */
static double time_pd(const odn_compiled *c, const_dnnl_primitive_desc_t pd) {
  static const int args[] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST, DNNL_ARG_SCRATCHPAD};
  enum { NARGS = sizeof args / sizeof args[0] };
  dnnl_exec_arg_t ex[NARGS];
  void *bufs[NARGS] = {0};
  int n = 0;
  double best = -1;
  dnnl_primitive_t prim = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_status_t st = dnnl_primitive_create(&prim, pd);
  if (st == dnnl_success) st = dnnl_stream_create(&stream, c->engine, dnnl_stream_default_flags);
  for (int k = 0; k < NARGS && st == dnnl_success; k++) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, args[k]);
    size_t bytes = md ? dnnl_memory_desc_get_size(md) : 0;
    if (!bytes) continue;
    if (!(bufs[n] = zn_alloc_aligned(bytes))) { st = dnnl_out_of_memory; break; }
    memset(bufs[n], 0, bytes);
    ex[n].arg = args[k];
    if ((st = dnnl_memory_create(&ex[n].memory, md, c->engine, bufs[n])) != dnnl_success) { zn_free_aligned(bufs[n]); break; }
    n++;
  }
  for (int r = 0; r < 4 && st == dnnl_success; r++) {
    zn_time_ns t0 = zn_now_ns();
    st = dnnl_primitive_execute(prim, stream, n, ex);
    if (st == dnnl_success) st = dnnl_stream_wait(stream);
    double t = (double)(zn_now_ns() - t0);
    if (r > 0 && (best < 0 || t < best)) best = t;
  }
  for (int k = 0; k < n; k++) {
    dnnl_memory_destroy(ex[k].memory);
    zn_free_aligned(bufs[k]);
  }
  if (stream) dnnl_stream_destroy(stream);
  if (prim) dnnl_primitive_destroy(prim);
  return st == dnnl_success ? best : -1;
}

/* Nanoseconds of reordering a 4-D f32 value of v's shape (batch 1) between NHWC and nChw16c. */
static double time_relayout(const odn_compiled *c, int v, bool to_blocked) {
  const zn_value *x = cval(c, v);
  dnnl_dims_t d = {c->tune_batch, x->dims[1], x->dims[2], x->dims[3]};
  dnnl_memory_desc_t a, b;
  dnnl_memory_desc_init_by_tag(&a, 4, d, dnnl_f32, to_blocked ? dnnl_nhwc : dnnl_nChw16c);
  dnnl_memory_desc_init_by_tag(&b, 4, d, dnnl_f32, to_blocked ? dnnl_nChw16c : dnnl_nhwc);
  dnnl_primitive_desc_t pd = NULL;
  if (dnnl_reorder_primitive_desc_create(&pd, &a, c->engine, &b, c->engine, NULL) != dnnl_success) return -1;
  /* a reorder takes FROM/TO: time it by hand */
  dnnl_primitive_t prim = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_memory_t ma = NULL, mb = NULL;
  size_t bytes = dnnl_memory_desc_get_size(&b) > dnnl_memory_desc_get_size(&a) ? dnnl_memory_desc_get_size(&b)
                                                                               : dnnl_memory_desc_get_size(&a);
  void *ba = zn_alloc_aligned(bytes), *bb = zn_alloc_aligned(bytes);
  double best = -1;
  dnnl_status_t st = ba && bb ? dnnl_primitive_create(&prim, pd) : dnnl_out_of_memory;
  if (st == dnnl_success) {
    memset(ba, 0, bytes);
    st = dnnl_stream_create(&stream, c->engine, dnnl_stream_default_flags);
  }
  if (st == dnnl_success) st = dnnl_memory_create(&ma, &a, c->engine, ba);
  if (st == dnnl_success) st = dnnl_memory_create(&mb, &b, c->engine, bb);
  for (int r = 0; r < 4 && st == dnnl_success; r++) {
    dnnl_exec_arg_t ex[2] = {{DNNL_ARG_FROM, ma}, {DNNL_ARG_TO, mb}};
    zn_time_ns t0 = zn_now_ns();
    st = dnnl_primitive_execute(prim, stream, 2, ex);
    if (st == dnnl_success) st = dnnl_stream_wait(stream);
    double t = (double)(zn_now_ns() - t0);
    if (r > 0 && (best < 0 || t < best)) best = t;
  }
  if (ma) dnnl_memory_destroy(ma);
  if (mb) dnnl_memory_destroy(mb);
  if (stream) dnnl_stream_destroy(stream);
  if (prim) dnnl_primitive_destroy(prim);
  dnnl_primitive_desc_destroy(pd);
  zn_free_aligned(ba);
  zn_free_aligned(bb);
  return st == dnnl_success ? best : -1;
}

/* Does every reader of y take nChw16c without a reorder (a Winograd-shaped
 * conv, which will likely choose Winograd too, or a max pool feeding one)? */
static bool readers_blocked_friendly(const zn_graph *g, int y, int depth) {
  bool any = false;
  for (int j = 0; j < g->num_nodes; j++) {
    const zn_node *m = &g->nodes[j];
    for (int k = 0; k < m->num_inputs; k++) {
      if (zn_node_input(m, k) != y) continue;
      any = true;
      if (k != 0) return false;
      if (wino_shape(g, m)) continue;
      if (m->op == ZN_OP_MAX_POOL && depth == 0 && m->outputs[0] >= 0 &&
          readers_blocked_friendly(g, m->outputs[0], depth + 1))
        continue;
      return false;
    }
  }
  return any;
}

/* How a conv runs. */
typedef enum conv_algo { CONV_DIRECT, CONV_WINO_ONEDNN, CONV_WINO_OWN, CONV_WINO_OWN4 } conv_algo;

/* Direct, oneDNN Winograd or own Winograd for conv node ni: direct NHWC
 * against oneDNN's Winograd nChw16c plus the reorders it brings (into
 * nChw16c unless x already is; back to NHWC unless y's readers take nChw16c)
 * and against the own NHWC Winograd (winograd.c; a reorder into NHWC when x
 * is nChw16c) F(2x2,3x3), and F(4x4,3x3) where the output is at least
 * OWN_WINO4_MIN_SIZE square (fewer GEMM FLOPs, 2.25x the weights: it pays
 * with many tiles; smaller outputs are not timed, to save compile time),
 * each timed on zeroed buffers at the tuning batch
 * (zn_model_options.tune_batch, at most ODN_TUNE_BATCH_MAX; 1 by default) on
 * the compile thread count. */
/* oneDNN's Winograd is chosen only when timed at most this fraction of the direct conv. */
#define WINO_MIN_GAIN 0.8
/* The own Winograd only when at most this fraction of the direct conv (and
 * faster than oneDNN's): it has no reorders, its risk is the timing noise. */
#define OWN_WINO_MIN_GAIN 0.9
/* Own F(4x4,3x3) is timed only on outputs at least this high and wide, and
 * taken over F(2x2,3x3) only when at most this fraction of it: its weights
 * are 2.25x larger, which the timing (weights hot in cache) does not see. */
#define OWN_WINO4_MIN_SIZE 14
#define OWN_WINO4_MIN_GAIN 0.9

static conv_algo choose_conv(odn_compiled *c, int ni, int x, double *t_direct, double *t_wino, double *t_own) {
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[ni];
  *t_direct = *t_wino = *t_own = 0;
  if (c->compute_dt != dnnl_f32 || !wino_shape(g, n) || c->values[x].layout == ODN_PLAIN) return CONV_DIRECT;
  bool own = c->tune.own_winograd && zn_onednn_wino_own_ok(c, n);
  if (own && c->tune.own_winograd == 2) return CONV_WINO_OWN;
  if (own && c->tune.own_winograd == 3) return CONV_WINO_OWN4;
  dnnl_primitive_desc_t pw = NULL, pdir = NULL;
  bool onednn = c->tune.winograd && conv_desc_for(c, n, true, &pw) == dnnl_success;  /* oneDNN has one for this shape */
  if (onednn && c->tune.winograd == 2) {
    dnnl_primitive_desc_destroy(pw);
    return CONV_WINO_ONEDNN;
  }
  if (!onednn && !own) {
    if (pw) dnnl_primitive_desc_destroy(pw);
    return CONV_DIRECT;
  }
  bool x_blocked = c->values[x].layout == ODN_BLOCKED16;
  double td = -1, tw = -1, to = -1, to4 = -1;
  double in_d = x_blocked ? time_relayout(c, x, false) : 0;
  if (conv_desc_for(c, n, false, &pdir) == dnnl_success) td = time_pd(c, pdir);
  if (onednn) {
    double in_w = x_blocked ? 0 : time_relayout(c, x, true);
    double out_w = readers_blocked_friendly(g, n->outputs[0], 0) ? 0 : time_relayout(c, n->outputs[0], false);
    double k = time_pd(c, pw);
    if (k >= 0 && in_w >= 0 && out_w >= 0) tw = k + in_w + out_w;
  }
  if (own) {
    double k = zn_onednn_wino_time(c, n, 2, c->tune_batch);
    if (k >= 0) to = k + in_d;  /* reads NHWC, like the direct conv */
    const zn_value *yv = val(g, n->outputs[0]);
    if (yv->dims[2] >= OWN_WINO4_MIN_SIZE && yv->dims[3] >= OWN_WINO4_MIN_SIZE) {
      k = zn_onednn_wino_time(c, n, 4, c->tune_batch);
      if (k >= 0) to4 = k + in_d;
    }
  }
  const double to2 = to;
  const bool four = to4 > 0 && (to <= 0 || to4 < OWN_WINO4_MIN_GAIN * to);
  if (four) to = to4;  /* the faster own tile competes */
  conv_algo algo = CONV_DIRECT;
  if (td >= 0 && in_d >= 0) {
    *t_direct = td + in_d;
    *t_wino = tw > 0 ? tw : 0;
    *t_own = to > 0 ? to : 0;
    /* oneDNN's Winograd must win clearly at the tuning batch: it also keeps
     * the graph's f32 weights for re-packs, and on small layers its nChw16c
     * reorders lose at other batch sizes (SqueezeNet at batch 2: 195 vs 357
     * img/s). */
    bool use_w = tw > 0 && tw < WINO_MIN_GAIN * *t_direct;
    bool use_o = to > 0 && to < OWN_WINO_MIN_GAIN * *t_direct && (!use_w || to < tw);
    algo = use_o ? (four ? CONV_WINO_OWN4 : CONV_WINO_OWN) : use_w ? CONV_WINO_ONEDNN : CONV_DIRECT;
  }
  zn_log_debug("onednn: conv %s: direct %.3f ms, winograd %.3f ms (with reorders), own winograd F(2,3) %.3f ms, "
               "F(4,3) %.3f ms -> %s", n->name, *t_direct * 1e-6, *t_wino * 1e-6, to2 > 0 ? to2 * 1e-6 : 0,
               to4 > 0 ? to4 * 1e-6 : 0,
               algo == CONV_WINO_OWN      ? "own winograd F(2,3)"
               : algo == CONV_WINO_OWN4   ? "own winograd F(4,3)"
               : algo == CONV_WINO_ONEDNN ? "winograd"
                                          : "direct");
  if (pdir) dnnl_primitive_desc_destroy(pdir);
  if (pw) dnnl_primitive_desc_destroy(pw);
  return algo;
}

/* Slice: a reorder from the window of its input (ODN_VIEW). A 4-D output is
 * NHWC whatever the input's layout (the reorder converts for free, and convs
 * and concats after it want NHWC: from a plain input, such as ShuffleNet's
 * channel shuffle, they fell to ref:any); nChw16c is read as NHWC, since a
 * channel window would cut its blocks. */
static zn_status plan_slice(odn_compiled *c, int ni, int x, int y) {
  int xs = x;
  odn_op *op;
  if (c->values[x].layout == ODN_BLOCKED16) ZN_TRY(want(c, x, ODN_NHWC, c->values[x].dt, &xs));
  set_value(c, y, cval(c, y)->num_dims == 4 ? ODN_NHWC : c->values[xs].layout, c->values[xs].dt);
  return add_op(c, ODN_VIEW, ni, 1, &xs, y, &op);
}

/* HardSigmoid alone: one binary step max(x, x) = x whose post-ops apply
 * linear(alpha, beta) then clip(0, 1) (hard_sigmoid_pd), in x's layout. */
static zn_status plan_hard_sigmoid(odn_compiled *c, int ni, int x, int y) {
  int ins[2] = {x, x};
  odn_op *op;
  set_value(c, y, c->values[x].layout, c->values[x].dt);
  return add_op(c, ODN_BINARY, ni, 2, ins, y, &op);
}

/* A node of a channel shuffle (shuffle_source): the first Reshape and the
 * Transpose plan nothing (their 5-D values are never stored); the last
 * Reshape is one reorder from the source (nChw16c read as NHWC) into NHWC.
 * *planned false: ni is no part of one. */
static zn_status plan_shuffle(odn_compiled *c, int ni, bool *planned) {
  const zn_graph *g = c->g;
  int64_t groups;
  *planned = false;
  for (int last = ni; last <= ni + 2 && last < g->num_nodes; last++) {
    int x = shuffle_source(g, last, &groups), xs = x;
    if (x < 0) continue;
    *planned = true;
    if (last != ni) return ZN_OK;
    odn_op *op;
    if (c->values[x].layout == ODN_BLOCKED16) ZN_TRY(want(c, x, ODN_NHWC, c->values[x].dt, &xs));
    set_value(c, g->nodes[ni].outputs[0], ODN_NHWC, c->values[xs].dt);
    return add_op(c, ODN_VIEW, ni, 1, &xs, g->nodes[ni].outputs[0], &op);
  }
  return ZN_OK;
}

static zn_status plan_node(odn_compiled *c, const plan_ctx *p, int ni) {
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[ni];
  int x = zn_node_input(n, 0), y = n->outputs[0];
  bool shuffle = false;
  if (n->op == ZN_OP_RESHAPE || n->op == ZN_OP_TRANSPOSE) ZN_TRY(plan_shuffle(c, ni, &shuffle));
  if (shuffle) return ZN_OK;
  if (n->op == ZN_OP_BATCH_NORM && c->values[y].used) return ZN_OK;  /* folded into the own concat before it */
  for (int k = 0; k < n->num_inputs; k++) {
    int v = zn_node_input(n, k);
    if (v == ZN_NO_VALUE || is_const(g, v)) continue;
    if (val(g, v)->producer >= 0 && p->fold_flatten[val(g, v)->producer]) continue;
    if (!c->values[v].used)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to compile node %s (%s) for onednn: input %s is not computed "
                      "before it (graph not sorted?)", n->name, zn_op_name(n->op), val(g, v)->name);
  }
  bool bf16 = c->compute_dt == dnnl_bf16;
  unsigned f32_flags = bf16 ? c->tune.bf16_f32 : 0;
  dnnl_data_type_t dt = c->values[x].dt;
  odn_op *op = NULL;
  switch (n->op) {
    case ZN_OP_CONV: {
      int r = input_or_none(n, 3), xs;
      /* src/weights type, dst type (docs/internals/onednn.md, "Precision") */
      dnnl_data_type_t cdt = bf16 && !((f32_flags & ODN_F32_FIRST) && val(g, x)->producer < 0) ? dnnl_bf16 : dnnl_f32;
      bool f32_dst = !bf16 || cdt == dnnl_f32 || (f32_flags & ODN_F32_CONV_DST) ||
                     ((f32_flags & ODN_F32_RESIDUAL) && (r != ZN_NO_VALUE || p->residual_src[y]));
      double td = 0, tw = 0, to = 0;
      /* own 1x1 (conv1x1.c): by the size rule, not timed (compile timings run with hot weights, where it ties) */
      const bool own1 = c->tune.own_1x1 && zn_onednn_own1x1_ok(c, n) &&
                        (c->tune.own_1x1 == 2 || zn_onednn_own1x1_rule(c, n));
      conv_algo algo = own1 ? CONV_DIRECT : choose_conv(c, ni, x, &td, &tw, &to);
      bool wino = algo == CONV_WINO_ONEDNN;
      odn_layout lx = c->values[x].layout;
      if (own1 || algo == CONV_WINO_OWN || algo == CONV_WINO_OWN4) {
        /* NHWC f32 in and out; the output transform reads the residual itself
         * (in place over it when nothing reads it later), no copy step */
        ZN_TRY(want(c, x, ODN_NHWC, dnnl_f32, &xs));
        set_value(c, y, ODN_NHWC, dnnl_f32);
        int rs = -1;
        if (r != ZN_NO_VALUE && residual_inplace_ok(c, p, ni, x, r, y)) {
          c->values[y].root = root_of(c, r);
          c->num_fused_residual_inplace++;
          rs = r;
        } else if (r != ZN_NO_VALUE) {
          ZN_TRY(want(c, r, ODN_NHWC, dnnl_f32, &rs));
        }
        ZN_TRY(add_op(c, ODN_CONV, ni, 1, &xs, y, &op));
        op->residual = rs;
        op->cdt = dnnl_f32;
        if (own1) {
          op->own_1x1 = true;
          c->num_own_1x1++;
          return ZN_OK;
        }
        op->own_wino = true;
        op->wino_tile = algo == CONV_WINO_OWN4 ? 4 : 2;
        op->time_direct_ns = td;
        op->time_wino_ns = tw;
        op->time_own_ns = to;
        c->num_own_wino += algo == CONV_WINO_OWN;
        c->num_own_wino4 += algo == CONV_WINO_OWN4;
        return ZN_OK;
      }
      /* a plain (NCHW) input, as a Transpose or Reshape leaves it (ConvNeXt's depthwise and downsampling convs),
       * is reordered to NHWC: oneDNN has only its reference kernel (ref:any, ~1000x slower) for plain convs */
      odn_layout lay = wino ? ODN_BLOCKED16 : lx == ODN_BLOCKED16 || lx == ODN_PLAIN ? ODN_NHWC : lx;
      ZN_TRY(want(c, x, lay, cdt, &xs));
      set_value(c, y, wino ? ODN_BLOCKED16 : ODN_NHWC, f32_dst ? dnnl_f32 : dnnl_bf16);
      if (r != ZN_NO_VALUE) {
        if (residual_inplace_ok(c, p, ni, x, r, y)) {
          c->values[y].root = root_of(c, r);
          c->num_fused_residual_inplace++;
        } else {
          ZN_TRY(add_op(c, ODN_COPY, ni, 1, &r, y, &op));  /* a reorder: converts layout / type too */
          c->num_residual_copies++;
        }
      }
      ZN_TRY(add_op(c, ODN_CONV, ni, 1, &xs, y, &op));
      op->residual = r;
      op->cdt = cdt;
      op->wino = wino;
      op->time_direct_ns = td;
      op->time_wino_ns = tw;
      op->time_own_ns = to;
      c->num_wino += wino;
      return ZN_OK;
    }
    case ZN_OP_MATMUL:
      if (!gemm_supported(g, n)) {
        /* attention's MatMuls: plain f32 on both sides (bf16 would need both converted: not worth it) */
        int ins[2] = {x, zn_node_input(n, 1)};
        for (int k = 0; k < 2; k++)
          if (!is_const(g, ins[k])) ZN_TRY(want(c, ins[k], ODN_PLAIN, dnnl_f32, &ins[k]));
        set_value(c, y, ODN_PLAIN, dnnl_f32);
        return add_op(c, ODN_MATMUL, ni, 2, ins, y, &op);
      }
      __attribute__((fallthrough)); /* a Linear layer, as Gemm */
    case ZN_OP_GEMM: {
      int src = x, xs;
      bool fold = false;
      int pn = val(g, x)->producer;
      if (pn >= 0 && p->fold_flatten[pn]) {
        src = zn_node_input(&g->nodes[pn], 0);
        fold = true;
      }
      dnnl_data_type_t cdt = bf16 && !((f32_flags & ODN_F32_LAST) && classifier_output(g, p, y)) ? dnnl_bf16 : dnnl_f32;
      /* a folded flatten over H x W > 1 reads NHWC (a convert step if the
       * producer left nChw16c): batches > 1 then read it as {N, H*W*C} rows
       * (zn_onednn_ip_flat); nChw16c kept the 4-D gemm, 1.5x slower there */
      const zn_value *sv = val(g, src);
      const bool spatial = fold && sv->num_dims == 4 && sv->dims[2] * sv->dims[3] > 1;
      ZN_TRY(want(c, src, spatial ? ODN_NHWC : c->values[src].layout, cdt, &xs));
      set_value(c, y, ODN_PLAIN, dnnl_f32);  /* logits stay f32 even in bf16 */
      ZN_TRY(add_op(c, ODN_IP, ni, 1, &xs, y, &op));
      op->ip_src_4d = fold;
      op->cdt = cdt;
      op->ip_mm = !fold && c->tune.ip_matmul && cdt == dnnl_f32 && ip_rows(c, op, c->tune_batch) > ODN_IP_MATMUL_MIN_ROWS;
      return ZN_OK;
    }
    case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: {
      bool swap = false;
      binary_plan(g, n, &swap);
      int ins[2] = {zn_node_input(n, swap ? 1 : 0), zn_node_input(n, swap ? 0 : 1)};
      ZN_TRY(match_input(c, ins[1], ins[0], &ins[1]));
      set_value(c, y, c->values[ins[0]].layout, c->values[ins[0]].dt);
      ZN_TRY(add_op(c, ODN_BINARY, ni, 2, ins, y, &op));
      op->swap = swap;
      return ZN_OK;
    }
    case ZN_OP_SUM: case ZN_OP_CONCAT: {
      int r = val(g, y)->num_dims, bn;
      if (zn_onednn_concat_own_plan(c, ni, &bn)) {  /* concat.c: writes NHWC f32, reads NHWC / nChw16c */
        int out = bn >= 0 ? g->nodes[bn].outputs[0] : y;
        set_value(c, out, ODN_NHWC, dnnl_f32);
        ZN_TRY(add_op(c, ODN_CONCAT_OWN, ni, n->num_inputs, n->inputs_ext ? n->inputs_ext : n->inputs,
                      out, &op));
        return zn_onednn_concat_own_init(c, op, bn);
      }
      int *ins = zn_malloc((size_t)n->num_inputs * sizeof *ins);
      if (!ins) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan onednn steps: out of memory");
      zn_status st = ZN_OK;
      int first = x;
      if (n->op == ZN_OP_CONCAT && c->values[x].layout == ODN_BLOCKED16) st = want(c, x, ODN_NHWC, dt, &first);
      for (int k = 0; k < n->num_inputs && st == ZN_OK; k++)
        st = k == 0 ? (ins[0] = first, ZN_OK) : match_input(c, zn_node_input(n, k), first, &ins[k]);
      if (st == ZN_OK) {
        odn_layout l = n->op == ZN_OP_SUM ? c->values[first].layout : r == 4 ? ODN_NHWC : ODN_PLAIN;
        set_value(c, y, l, dt);
        st = add_op(c, n->op == ZN_OP_SUM ? ODN_SUM : ODN_CONCAT, ni, n->num_inputs, ins, y, &op);
      }
      zn_free(ins);
      if (st == ZN_OK && n->op == ZN_OP_CONCAT)
        op->axis = (int)(n->attrs.axis.axis < 0 ? n->attrs.axis.axis + r : n->attrs.axis.axis);
      return st;
    }
    case ZN_OP_RELU: case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SWISH: case ZN_OP_CLIP:
    case ZN_OP_TANH: case ZN_OP_GELU: case ZN_OP_SWISH:
      if (p->relu_fused[ni]) {
        /* the batch norm producing x applies the ReLU */
        int bn = c->num_ops - 1;
        while (bn >= 0 && !((c->ops[bn].kind == ODN_BNORM || c->ops[bn].kind == ODN_CONCAT_OWN) && c->ops[bn].out == x))
          bn--;
        if (bn >= 0) {  /* x's only reader is this ReLU: nothing saw x without it */
          c->ops[bn].fuse_relu = true;
          c->num_bn_relu++;
          set_alias(c, y, x, c->values[x].layout);
          return ZN_OK;
        }
      }
      set_value(c, y, c->values[x].layout, dt);
      return add_op(c, ODN_ELTWISE, ni, 1, &x, y, &op);
    case ZN_OP_POW: case ZN_OP_SQRT:
      set_value(c, y, c->values[x].layout, dt);
      return add_op(c, ODN_ELTWISE, ni, 1, &x, y, &op);
    case ZN_OP_SOFTMAX: {
      int xs = x;
      if (c->values[x].layout == ODN_BLOCKED16) ZN_TRY(want(c, x, ODN_NHWC, dt, &xs));
      set_value(c, y, c->values[xs].layout, dt);
      ZN_TRY(add_op(c, ODN_SOFTMAX, ni, 1, &xs, y, &op));
      int r = val(g, x)->num_dims;
      op->axis = (int)(n->attrs.softmax.axis < 0 ? n->attrs.softmax.axis + r : n->attrs.softmax.axis);
      return ZN_OK;
    }
    case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL: case ZN_OP_GLOBAL_AVERAGE_POOL: case ZN_OP_GLOBAL_MAX_POOL:
      set_value(c, y, c->values[x].layout == ODN_BLOCKED16 ? ODN_BLOCKED16 : ODN_NHWC, dt);
      ZN_TRY(add_op(c, ODN_POOL, ni, 1, &x, y, &op));
      pool_geometry(g, n, op);
      if (c->tune.own_se && zn_onednn_gap_own_ok(c, op)) {
        op->own_gap = true;
        snprintf(op->impl, sizeof op->impl, "zenith:gap");
        c->num_own_gap++;
      }
      return ZN_OK;
    case ZN_OP_BATCH_NORM:
      set_value(c, y, c->values[x].layout, dt);
      return add_op(c, ODN_BNORM, ni, 1, &x, y, &op);
    case ZN_OP_LAYER_NORM: {
      /* oneDNN normalises over the last logical axis, contiguous: plain f32 (bf16 lnorm is not worth a reorder) */
      int xs;
      ZN_TRY(want(c, x, ODN_PLAIN, dnnl_f32, &xs));
      set_value(c, y, ODN_PLAIN, dnnl_f32);
      return add_op(c, ODN_LNORM, ni, 1, &xs, y, &op);
    }
    case ZN_OP_LRN:
      set_value(c, y, c->values[x].layout == ODN_BLOCKED16 ? ODN_BLOCKED16 : ODN_NHWC, dt);
      return add_op(c, ODN_LRN, ni, 1, &x, y, &op);
    case ZN_OP_IDENTITY:
      set_alias(c, y, x, c->values[x].layout);
      return ZN_OK;
    case ZN_OP_FLATTEN: case ZN_OP_RESHAPE: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: {
      if (p->fold_flatten[ni]) return ZN_OK;  /* the inner product reads x directly */
      const zn_value *xv = val(g, x);
      bool same_bytes = c->values[x].layout == ODN_PLAIN ||
                        (c->values[x].layout == ODN_NHWC && xv->num_dims == 4 &&
                         (xv->dims[1] == 1 || xv->dims[2] * xv->dims[3] == 1));
      if (same_bytes) {
        set_alias(c, y, x, ODN_PLAIN);
        return ZN_OK;
      }
      set_value(c, y, ODN_PLAIN, dt);
      return add_op(c, ODN_TO_PLAIN, ni, 1, &x, y, &op);
    }
    case ZN_OP_TRANSPOSE: case ZN_OP_GATHER: {
      /* channels last and back (ConvNeXt around each LayerNorm): NHWC bytes
       * read as plain [N,H,W,C] are the same bytes, and so the other way */
      if (n->op == ZN_OP_TRANSPOSE && val(g, x)->num_dims == 4 && n->attrs.transpose.num_perm == 4) {
        const int64_t *pm = n->attrs.transpose.perm;
        const bool to_last = pm[0] == 0 && pm[1] == 2 && pm[2] == 3 && pm[3] == 1;
        const bool to_first = pm[0] == 0 && pm[1] == 3 && pm[2] == 1 && pm[3] == 2;
        if (to_last && c->values[x].layout == ODN_NHWC && c->values[x].view_ctot == 0) {
          set_alias(c, y, x, ODN_PLAIN);
          c->num_transpose_aliases++;
          return ZN_OK;
        }
        if (to_first && c->values[x].layout == ODN_PLAIN) {
          set_alias(c, y, x, ODN_NHWC);
          c->num_transpose_aliases++;
          return ZN_OK;
        }
      }
      /* views of nChw16c would cut blocks: read NHWC; the output is plain
       * (a Gather of one index may drop an axis, a Transpose reorders them) */
      int xs = x;
      if (c->values[x].layout == ODN_BLOCKED16) ZN_TRY(want(c, x, ODN_NHWC, dt, &xs));
      set_value(c, y, ODN_PLAIN, dt);
      return add_op(c, ODN_VIEW, ni, 1, &xs, y, &op);
    }
    case ZN_OP_SLICE: return plan_slice(c, ni, x, y);
    case ZN_OP_HARD_SIGMOID: return plan_hard_sigmoid(c, ni, x, y);
    case ZN_OP_EXPAND: {  /* the own broadcast loop (binary.c) copying x along the broadcast axes */
      int xs = x;
      if (!is_const(g, x)) ZN_TRY(want(c, x, ODN_PLAIN, dnnl_f32, &xs));
      set_value(c, y, ODN_PLAIN, dnnl_f32);
      ZN_TRY(add_op(c, ODN_BINARY, ni, 1, &xs, y, &op));
      op->own_binary = true;
      snprintf(op->impl, sizeof op->impl, "zenith:expand");
      c->num_own_binary++;
      return ZN_OK;
    }
    default: break;
  }
  return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile node %s for onednn: op %s is not supported", n->name,
                  zn_op_name(n->op));
}

/* ------------------------------------------------------ primitive descs */

static dnnl_status_t make_attr(dnnl_primitive_attr_t *attr, const zn_act *act, bool sum) {
  dnnl_status_t st = dnnl_primitive_attr_create(attr);
  if (st != dnnl_success) return st;
  st = dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user);
  if (st != dnnl_success || (!act && !sum)) return st;
  dnnl_post_ops_t po;
  if ((st = dnnl_post_ops_create(&po)) != dnnl_success) return st;
  if (sum) st = dnnl_post_ops_append_sum(po, 1.f);
  if (st == dnnl_success && act) st = append_act(po, *act);
  if (st == dnnl_success) st = dnnl_primitive_attr_set_post_ops(*attr, po);
  dnnl_post_ops_destroy(po);
  return st;
}

/* Logical weight dims of a conv ({O,I,KH,KW} or {G,O/G,I/G,KH,KW}) or an inner
 * product ({M,C,H,W} over the 4-D source, or {M,K}). */
static int weight_dims(const odn_compiled *c, const odn_op *op, dnnl_dims_t d) {
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[op->node];
  if (op->kind == ODN_CONV && op->mm_1x1) {  /* {IC, OC} */
    const zn_value *w = val(g, zn_node_input(n, 1));
    d[0] = w->dims[1];
    d[1] = w->dims[0];
    return 2;
  }
  if (op->kind == ODN_CONV) {
    const zn_value *w = val(g, zn_node_input(n, 1));
    int64_t grp = n->attrs.conv.group;
    if (grp == 1) {
      for (int i = 0; i < 4; i++) d[i] = w->dims[i];
      return 4;
    }
    d[0] = grp;
    d[1] = w->dims[0] / grp;
    d[2] = w->dims[1];
    d[3] = w->dims[2];
    d[4] = w->dims[3];
    return 5;
  }
  const zn_value *y = cval(c, op->out), *src = cval(c, op->ins[0]);
  d[0] = y->dims[1];
  if (op->ip_src_4d) {
    for (int i = 1; i < 4; i++) d[i] = src->dims[i];
    return 4;
  }
  d[1] = src->dims[1];
  return 2;
}

/* Does inner product op keep plain weights (oc x ic) at this batch? 2-D f32
 * weights (ZN_ONEDNN_PLAIN_FC) of a model loaded for one row (a CNN's FC at
 * batch 1), at one row: gemm:jit streams them faster than brgemm's blocked
 * layout. Not at other tuning batches: a batch-1 instance would then hold a
 * second, plain copy of the weights (VGG-16's first FC: 411 MB). Many rows
 * (a transformer's Linear layers) run as a matmul instead (op->ip_mm). */
static bool plain_fc(const odn_compiled *c, const odn_op *op, int64_t batch) {
  dnnl_dims_t wd;
  if (op->kind != ODN_IP || op->cdt != dnnl_f32 || !c->tune.plain_fc || op->ip_mm || weight_dims(c, op, wd) != 2)
    return false;
  return ip_rows(c, op, c->tune_batch) == 1 && ip_rows(c, op, batch) == 1;
}

bool zn_onednn_ip_flat(const odn_compiled *c, const odn_op *op, int64_t batch) {
  return op->kind == ODN_IP && op->ip_src_4d && batch > 1 && c->values[op->ins[0]].layout == ODN_NHWC;
}

void zn_onednn_ip_flat_mds(const odn_compiled *c, const odn_op *op, dnnl_memory_desc_t *md4, dnnl_memory_desc_t *md2) {
  dnnl_dims_t wd = {0}, w2 = {0};  /* zeroed: -O3 cannot see that a 4-D source gives 4 dims */
  weight_dims(c, op, wd);
  w2[0] = wd[0];
  w2[1] = wd[1] * wd[2] * wd[3];
  dnnl_memory_desc_init_by_tag(md4, 4, wd, op->cdt, dnnl_acdb);
  dnnl_memory_desc_init_by_tag(md2, 2, w2, op->cdt, dnnl_ab);
}

static zn_status pd_fail(const odn_compiled *c, const odn_op *op, dnnl_status_t st, int64_t batch) {
  const char *name = op->node >= 0 ? c->g->nodes[op->node].name : "(edge)";
  const char *opn = op->node >= 0 ? zn_op_name(c->g->nodes[op->node].op) : zn_onednn_kind_name(op->kind);
  return zn_error(st == dnnl_unimplemented ? ZN_ERR_UNSUPPORTED_OP : ZN_ERR_INTERNAL,
                  "failed to create oneDNN %s for node %s (%s) at batch %lld: oneDNN status %d%s",
                  zn_onednn_kind_name(op->kind), name, opn, (long long)batch, (int)st,
                  st == dnnl_unimplemented ? " (no implementation)" : "");
}

/* ODN_VIEW: src (the input's md) becomes the view of it in dst's element
 * order. Transpose permutes its axes; Gather takes the sub-memory of its one
 * index, and a scalar index's dst gets that axis back as size 1. */
static zn_status view_md(const odn_compiled *c, const zn_node *n, dnnl_memory_desc_t *src, dnnl_memory_desc_t *dst) {
  if (n->op == ZN_OP_SLICE) return slice_view_md(c, n, src);
  if (n->op == ZN_OP_RESHAPE) return shuffle_view_md(c, n, src, dst);
  const int r = src->ndims;
  dnnl_memory_desc_t v;
  if (n->op == ZN_OP_TRANSPOSE) {
    const zn_transpose_attrs *t = &n->attrs.transpose;
    int perm[DNNL_MAX_NDIMS];  /* oneDNN's: out.dims[perm[i]] = in.dims[i]; ONNX's: y.dims[i] = x.dims[t->perm[i]] */
    for (int i = 0; i < r; i++) perm[t->num_perm ? t->perm[i] : r - 1 - i] = i;
    ODN_TRY_DNNL(dnnl_memory_desc_permute_axes(&v, src, perm), "permute a Transpose's input");
    *src = v;
    return ZN_OK;
  }
  int axis = 0;
  int64_t first = 0;
  if (!view_of(c->g, n, &axis, &first)) return zn_error(ZN_ERR_INTERNAL, "onednn: Gather %s is not a view", n->name);
  dnnl_dims_t d, off;
  for (int i = 0; i < r; i++) d[i] = src->dims[i], off[i] = 0;
  d[axis] = 1;
  off[axis] = first;
  ODN_TRY_DNNL(dnnl_memory_desc_init_submemory(&v, src, d, off), "view one index of a Gather's input");
  *src = v;
  if (dst->ndims != r) {
    ODN_TRY_DNNL(dnnl_memory_desc_reshape(&v, dst, r, d), "give a Gather's output its axis back");
    *dst = v;
  }
  return ZN_OK;
}

/* HardSigmoid alone (plan_hard_sigmoid): oneDNN 2.6 has no hard-sigmoid
 * eltwise, and its eltwise primitive with eltwise post-ops falls to ref:any;
 * its binary primitive keeps a jit kernel (jit:uni) with them, so the step is
 * max(x, x) with src0 = src1 = x, then clip(alpha * x + beta, 0, 1). */
static dnnl_status_t hard_sigmoid_pd(const odn_compiled *c, const zn_node *n, const dnnl_memory_desc_t *src,
                                     const dnnl_memory_desc_t *dst, dnnl_primitive_desc_t *pd_out) {
  zn_act a = n->attrs.act;
  a.kind = ZN_ACT_HARD_SIGMOID;
  dnnl_binary_desc_t bd;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_status_t st = dnnl_binary_desc_init(&bd, dnnl_binary_max, src, src, dst);
  if (st == dnnl_success) st = make_attr(&attr, &a, false);
  if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &bd, attr, c->engine, NULL);
  if (attr) dnnl_primitive_attr_destroy(attr);
  return st;
}

zn_status zn_onednn_op_pd(const odn_compiled *c, const odn_op *op, int64_t batch, dnnl_primitive_desc_t *pd_out) {
  const zn_graph *g = c->g;
  const zn_node *n = op->node >= 0 ? &g->nodes[op->node] : NULL;
  dnnl_engine_t eng = c->engine;
  dnnl_memory_desc_t src, dst, tmp;
  dnnl_primitive_attr_t attr = NULL;
  dnnl_status_t st = dnnl_success;
  *pd_out = NULL;
  if (zn_onednn_own_step_of(op)) return ZN_OK;  /* own kernel: no primitive */

  if (op->kind == ODN_EXPORT && odn_const_data(c, op->ins[0])) {
    /* constant output: a byte copy (u8 -> u8 reorder) from the graph's buffer */
    dnnl_dims_t bytes = {(dnnl_dim_t)val(g, op->ins[0])->data_bytes};
    ODN_TRY_DNNL(dnnl_memory_desc_init_by_tag(&src, 1, bytes, dnnl_u8, dnnl_a), "describe a constant output");
    if ((st = make_attr(&attr, NULL, false)) == dnnl_success)
      st = dnnl_reorder_primitive_desc_create(pd_out, &src, eng, &src, eng, attr);
    if (attr) dnnl_primitive_attr_destroy(attr);
    return st == dnnl_success ? ZN_OK : pd_fail(c, op, st, batch);
  }
  if (op->kind == ODN_EXPORT) {
    ZN_TRY(zn_onednn_value_md(c, op->ins[0], batch, &src));
  } else if (op->kind != ODN_SUM && op->kind != ODN_CONCAT && op->kind != ODN_IMPORT) {
    ZN_TRY(zn_onednn_value_md(c, op->ins[0], batch, &src));
  }
  if (op->kind != ODN_EXPORT) ZN_TRY(zn_onednn_value_md(c, op->out, batch, &dst));

  switch (op->kind) {
    case ODN_IMPORT: case ODN_EXPORT: case ODN_TO_PLAIN: case ODN_COPY: case ODN_CONVERT: {
      const zn_value *v = cval(c, op->kind == ODN_IMPORT ? op->out : op->ins[0]);
      int64_t dims[ZN_MAX_DIMS];
      if (!zn_value_resolve_dims(v, batch, dims)) return zn_error(ZN_ERR_INVALID_MODEL, "failed to size %s", v->name);
      if (op->kind == ODN_IMPORT) md_plain(&src, v->num_dims, dims, dnnl_f32);
      if (op->kind == ODN_EXPORT) md_plain(&dst, v->num_dims, dims, dnnl_f32);
      if (op->kind == ODN_TO_PLAIN) md_plain(&dst, v->num_dims, dims, c->values[op->out].dt);
      if (op->kind == ODN_COPY || op->kind == ODN_CONVERT) ZN_TRY(zn_onednn_value_md(c, op->ins[0], batch, &src));
      if ((st = make_attr(&attr, NULL, false)) == dnnl_success)
        st = dnnl_reorder_primitive_desc_create(pd_out, &src, eng, &dst, eng, attr);
      break;
    }
    case ODN_VIEW: {
      ZN_TRY(view_md(c, n, &src, &dst));
      if ((st = make_attr(&attr, NULL, false)) == dnnl_success)
        st = dnnl_reorder_primitive_desc_create(pd_out, &src, eng, &dst, eng, attr);
      break;
    }
    case ODN_CONV: {
      if (op->own_wino)
        return zn_onednn_wino_matmul_pd(c, n, op->wino_tile, batch, 1, op->wdata ? &op->wmd : NULL, pd_out);
      if (op->mm_1x1) {
        /* {N*H*W, IC} x {IC, OC} -> rows of the dst's pixel stride (a
         * concat's channel slice): oneDNN's convs fall to ref:any on a
         * strided dst, its matmul keeps a jit kernel (gemm:jit) */
        int64_t yd[ZN_MAX_DIMS];
        const zn_value *yv = cval(c, op->out);
        if (!zn_value_resolve_dims(yv, batch, yd)) return zn_error(ZN_ERR_INVALID_MODEL, "failed to size %s", yv->name);
        dnnl_dims_t wd, sd = {yd[0] * yd[2] * yd[3], cval(c, op->ins[0])->dims[1]}, dd = {sd[0], yd[1]};
        dnnl_dims_t ds = {odn_value_pixel_stride(c, op->out, yd[1]), 1}, bd = {1, yd[1]};
        weight_dims(c, op, wd);
        dnnl_memory_desc_t smd, wmd, bmd, dmd;
        dnnl_memory_desc_init_by_tag(&smd, 2, sd, dnnl_f32, dnnl_ab);
        dnnl_memory_desc_init_by_tag(&wmd, 2, wd, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&bmd, 2, bd, dnnl_f32, dnnl_ab);
        dnnl_memory_desc_init_by_strides(&dmd, 2, dd, dnnl_f32, ds);
        dnnl_matmul_desc_t md;
        st = dnnl_matmul_desc_init(&md, &smd, &wmd, op->bias ? &bmd : NULL, &dmd);
        if (st == dnnl_success) st = make_attr(&attr, &n->attrs.conv.act, false);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &md, attr, eng, NULL);
        break;
      }
      const zn_conv_attrs *a = &n->attrs.conv;
      dnnl_dims_t wd, strides, dil, pl, pr;
      int wr = weight_dims(c, op, wd);
      dnnl_memory_desc_t wmd, bmd;
      dnnl_memory_desc_init_by_tag(&wmd, wr, wd, op->cdt, dnnl_format_tag_any);
      dnnl_dims_t bd = {cval(c, op->out)->dims[1]};
      dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
      const zn_value *xv = cval(c, op->ins[0]), *yv = cval(c, op->out);
      for (int i = 0; i < 2; i++) {
        int64_t d = a->dilation[i] > 0 ? a->dilation[i] : 1, s = a->stride[i] > 0 ? a->stride[i] : 1, r = 0;
        right_pad(xv->dims[2 + i], yv->dims[2 + i], a->kernel[i], s, d, a->pad_begin[i], a->pad_end[i], &r);
        strides[i] = s;
        dil[i] = d - 1;
        pl[i] = a->pad_begin[i];
        pr[i] = r;
      }
      dnnl_convolution_desc_t cd;
      bool has_bias = input_or_none(n, 2) != ZN_NO_VALUE;
      st = dnnl_dilated_convolution_forward_desc_init(&cd, dnnl_forward_inference,
                                                      op->wino ? dnnl_convolution_winograd : dnnl_convolution_direct, &src, &wmd,
                                                      has_bias ? &bmd : NULL, &dst, strides, dil, pl, pr);
      if (st == dnnl_success) st = make_attr(&attr, &a->act, op->residual >= 0);
      if (st == dnnl_success && op->wino && op->wdata) {
        /* Winograd weights formats depend on the batch: first ask for the
         * packed one (no private copy when the kernel accepts it) */
        dnnl_convolution_desc_t cd2 = cd;
        cd2.weights_desc = op->wmd;
        if (dnnl_primitive_desc_create(pd_out, &cd2, attr, eng, NULL) == dnnl_success) break;
        *pd_out = NULL;
      }
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &cd, attr, eng, NULL);
      break;
    }
    case ODN_IP: {
      dnnl_dims_t wd;
      int wr = weight_dims(c, op, wd);
      dnnl_memory_desc_t wmd, bmd;
      const zn_act *act = n->op == ZN_OP_GEMM && n->attrs.gemm.act.kind != ZN_ACT_NONE ? &n->attrs.gemm.act : NULL;
      if (op->ip_mm) {  /* {rows, IC} x {IC, OC}: weights in the layout the matmul prefers */
        dnnl_dims_t kn = {wd[1], wd[0]}, bd2 = {1, wd[0]};
        dnnl_memory_desc_init_by_tag(&wmd, 2, kn, dnnl_f32, dnnl_format_tag_any);
        dnnl_memory_desc_init_by_tag(&bmd, 2, bd2, dnnl_f32, dnnl_ab);
        dnnl_matmul_desc_t md;
        st = dnnl_matmul_desc_init(&md, &src, &wmd, op->bias ? &bmd : NULL, &dst);
        if (st == dnnl_success) st = make_attr(&attr, act, false);
        if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &md, attr, eng, NULL);
        break;
      }
      const bool plain = plain_fc(c, op, batch);
      if (zn_onednn_ip_flat(c, op, batch)) {  /* the NHWC source as {N, H*W*C} rows */
        dnnl_dims_t sd = {batch, wd[1] * wd[2] * wd[3]};
        dnnl_memory_desc_init_by_tag(&src, 2, sd, src.data_type, dnnl_ab);
        wd[1] = sd[1];
        wr = 2;
      }
      dnnl_memory_desc_init_by_tag(&wmd, wr, wd, op->cdt, plain ? dnnl_ab : dnnl_format_tag_any);
      dnnl_dims_t bd = {wd[0]};
      dnnl_memory_desc_init_by_tag(&bmd, 1, bd, dnnl_f32, dnnl_a);
      dnnl_inner_product_desc_t ipd;
      st = dnnl_inner_product_forward_desc_init(&ipd, dnnl_forward_inference, &src, &wmd, op->bias ? &bmd : NULL, &dst);
      if (st == dnnl_success) st = make_attr(&attr, act, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &ipd, attr, eng, NULL);
      break;
    }
    case ODN_POOL: {
      dnnl_pooling_v2_desc_t pd;
      st = dnnl_pooling_v2_forward_desc_init(&pd, dnnl_forward_inference, op->alg, &src, &dst, op->stride, op->kernel,
                                             op->dilation, op->pad_l, op->pad_r);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &pd, attr, eng, NULL);
      break;
    }
    case ODN_ELTWISE: {
      dnnl_alg_kind_t alg;
      float alpha, beta;
      if (!node_eltwise(g, n, &alg, &alpha, &beta)) { st = dnnl_unimplemented; break; }
      dnnl_eltwise_desc_t ed;
      st = dnnl_eltwise_forward_desc_init(&ed, dnnl_forward_inference, alg, &src, alpha, beta);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &ed, attr, eng, NULL);
      break;
    }
    case ODN_BINARY: {
      if (n->op == ZN_OP_HARD_SIGMOID) {
        st = hard_sigmoid_pd(c, n, &src, &dst, pd_out);
        break;
      }
      dnnl_alg_kind_t alg = n->op == ZN_OP_ADD ? dnnl_binary_add : n->op == ZN_OP_SUB ? dnnl_binary_sub
                          : n->op == ZN_OP_MUL ? dnnl_binary_mul : dnnl_binary_div;
      int b = op->ins[1];
      const zn_value *bv = cval(c, b), *yv = cval(c, op->out);
      if (odn_const_data(c, b) || c->values[b].layout == ODN_PLAIN) {
        int64_t dims[ZN_MAX_DIMS], bdims[ZN_MAX_DIMS];
        if (!zn_value_resolve_dims(bv, batch, bdims)) { st = dnnl_invalid_arguments; break; }
        int off = yv->num_dims - bv->num_dims;
        for (int i = 0; i < yv->num_dims; i++) dims[i] = i < off ? 1 : bdims[i - off];
        md_plain(&tmp, yv->num_dims, dims, odn_const_data(c, b) ? dnnl_f32 : c->values[b].dt);
      } else {
        ZN_TRY(zn_onednn_value_md(c, b, batch, &tmp));
      }
      dnnl_binary_desc_t bd;
      st = dnnl_binary_desc_init(&bd, alg, &src, &tmp, &dst);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &bd, attr, eng, NULL);
      break;
    }
    case ODN_SUM: case ODN_CONCAT: {
      dnnl_memory_desc_t *srcs = zn_malloc((size_t)op->num_ins * sizeof *srcs);
      float *scales = zn_malloc((size_t)op->num_ins * sizeof *scales);
      zn_status zs = srcs && scales ? ZN_OK : zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan onednn steps: out of memory");
      for (int k = 0; zs == ZN_OK && k < op->num_ins; k++) {
        zs = zn_onednn_value_md(c, op->ins[k], batch, &srcs[k]);
        scales[k] = 1.f;
      }
      if (zs == ZN_OK) {
        st = make_attr(&attr, NULL, false);
        if (st == dnnl_success && op->kind == ODN_SUM)
          st = dnnl_sum_primitive_desc_create(pd_out, &dst, op->num_ins, scales, srcs, attr, eng);
        else if (st == dnnl_success)
          st = dnnl_concat_primitive_desc_create(pd_out, &dst, op->num_ins, op->axis, srcs, attr, eng);
      }
      zn_free(srcs);
      zn_free(scales);
      if (zs != ZN_OK) {
        if (attr) dnnl_primitive_attr_destroy(attr);
        return zs;
      }
      break;
    }
    case ODN_BNORM: {
      dnnl_batch_normalization_desc_t bd;
      unsigned flags = dnnl_use_global_stats | dnnl_use_scale | dnnl_use_shift | (op->fuse_relu ? dnnl_fuse_norm_relu : 0u);
      st = dnnl_batch_normalization_forward_desc_init(&bd, dnnl_forward_inference, &src, n->attrs.batch_norm.epsilon,
                                                      flags);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &bd, attr, eng, NULL);
      break;
    }
    case ODN_MATMUL: {
      /* ranks aligned from the right, leading 1s where one side has fewer dims */
      const int r = cval(c, op->out)->num_dims;
      dnnl_memory_desc_t md3[3];
      const int vals[3] = {op->ins[0], op->ins[1], op->out};
      for (int k = 0; k < 3; k++) {
        const zn_value *v = cval(c, vals[k]);
        int64_t d[ZN_MAX_DIMS], padded[ZN_MAX_DIMS];
        if (!zn_value_resolve_dims(v, batch, d)) return zn_error(ZN_ERR_INVALID_MODEL, "failed to size %s", v->name);
        for (int i = 0; i < r; i++) padded[i] = i < r - v->num_dims ? 1 : d[i - (r - v->num_dims)];
        md_plain(&md3[k], r, padded, dnnl_f32);
      }
      dnnl_matmul_desc_t md;
      st = dnnl_matmul_desc_init(&md, &md3[0], &md3[1], NULL, &md3[2]);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &md, attr, eng, NULL);
      break;
    }
    case ODN_LNORM: {
      dnnl_layer_normalization_desc_t ld;
      unsigned flags = dnnl_use_scale | (input_or_none(n, 2) != ZN_NO_VALUE ? dnnl_use_shift : 0u);
      st = dnnl_layer_normalization_forward_desc_init(&ld, dnnl_forward_inference, &src, NULL,
                                                      n->attrs.layer_norm.epsilon, flags);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &ld, attr, eng, NULL);
      break;
    }
    case ODN_LRN: {
      const zn_lrn_attrs *l = &n->attrs.lrn;
      dnnl_lrn_desc_t ld;
      st = dnnl_lrn_forward_desc_init(&ld, dnnl_forward_inference, dnnl_lrn_across_channels, &src, l->size, l->alpha,
                                      l->beta, l->bias);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &ld, attr, eng, NULL);
      break;
    }
    case ODN_SOFTMAX: {
      dnnl_softmax_desc_t sd;
      st = dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &src, op->axis);
      if (st == dnnl_success) st = make_attr(&attr, NULL, false);
      if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &sd, attr, eng, NULL);
      break;
    }
    case ODN_CONCAT_OWN: case ODN_KIND_COUNT: st = dnnl_invalid_arguments; break;
  }
  if (attr) dnnl_primitive_attr_destroy(attr);
  if (st != dnnl_success) {
    if (*pd_out) dnnl_primitive_desc_destroy(*pd_out);
    *pd_out = NULL;
    return pd_fail(c, op, st, batch);
  }
  return ZN_OK;
}

bool zn_onednn_act_clamp(zn_act a, float *lo, float *hi) {
  *lo = -INFINITY;
  *hi = INFINITY;
  switch (a.kind) {
    case ZN_ACT_NONE: return true;
    case ZN_ACT_RELU: *lo = 0.f; return true;
    case ZN_ACT_CLIP: *lo = a.alpha; *hi = a.beta; return true;
    default: return false;
  }
}

/* ----------------------------------------------------------- packing */

zn_status zn_onednn_pack_weights(const odn_compiled *c, const odn_op *op, const dnnl_memory_desc_t *md, void *dst) {
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[op->node];
  if (op->kind == ODN_CONV && op->own_wino) return zn_onednn_wino_pack(c, n, op->wino_tile, md, dst);
  if (op->kind == ODN_IP && op->ip_src_4d && md->ndims == 2) {  /* {M, H*W*C}: via the dense {M, C, H, W} acdb */
    dnnl_memory_desc_t md4, md2;
    zn_onednn_ip_flat_mds(c, op, &md4, &md2);
    void *tmp = zn_alloc_aligned(dnnl_memory_desc_get_size(&md4));
    if (!tmp) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to pack weights of node %s: out of memory", n->name);
    zn_status st = zn_onednn_pack_weights(c, op, &md4, tmp);
    if (st == ZN_OK) st = zn_onednn_reorder_now(c->engine, &md2, tmp, md, dst);
    zn_free_aligned(tmp);
    return st;
  }
  int w = zn_node_input(n, 1);
  const float *wsrc = val(g, w)->data;
  float *scaled = NULL;
  dnnl_dims_t wd = {0}, strides = {0};
  int wr = weight_dims(c, op, wd);
  if (op->kind == ODN_CONV && op->mm_1x1) {
    strides[0] = 1;  /* OI11 read as {IC, OC} */
    strides[1] = wd[0];
  } else if (op->kind == ODN_CONV) {
    /* source is OIHW (G*O/G, I/G, KH, KW) dense */
    dnnl_dim_t s = 1;
    for (int i = wr - 1; i >= 0; i--) { strides[i] = s; s *= wd[i]; }
  } else {
    bool trans_b = n->op == ZN_OP_GEMM && n->attrs.gemm.trans_b;
    int64_t m = wd[0], k = 1;
    for (int i = 1; i < wr; i++) k *= wd[i];
    /* the K axis splits row-major into (C,H,W) when the flatten is folded */
    dnnl_dim_t s = trans_b ? 1 : m;
    for (int i = wr - 1; i >= 1; i--) { strides[i] = s; s *= wd[i]; }
    strides[0] = trans_b ? k : 1;
    float alpha = n->op == ZN_OP_GEMM ? n->attrs.gemm.alpha : 1.f;
    if (alpha != 1.f) {
      size_t count = (size_t)(m * k);
      scaled = zn_alloc_aligned(count * sizeof *scaled);
      if (!scaled) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to pack weights of node %s: out of memory", n->name);
      for (size_t i = 0; i < count; i++) scaled[i] = alpha * wsrc[i];
      wsrc = scaled;
    }
  }
  dnnl_memory_desc_t smd;
  dnnl_status_t dst_st = dnnl_memory_desc_init_by_strides(&smd, wr, wd, dnnl_f32, strides);
  if (dst_st == dnnl_success && op->kind == ODN_IP && op->ip_mm) {  /* {OC, IC} seen as the matmul's {IC, OC} */
    dnnl_memory_desc_t kn;
    const int perm[2] = {1, 0};
    dst_st = dnnl_memory_desc_permute_axes(&kn, &smd, perm);
    smd = kn;
  }
  zn_status st = dst_st == dnnl_success ? zn_onednn_reorder_now(c->engine, &smd, wsrc, md, dst)
                                        : zn_error(ZN_ERR_INTERNAL, "failed to describe weights of node %s", n->name);
  zn_free_aligned(scaled);
  return st;
}

/* Pack the weights of a conv / inner product into the layout its primitive
 * prefers at the reference batch; biases become owned f32 vectors. */
static zn_status pack(odn_compiled *c, odn_op *op, dnnl_primitive_desc_t pd) {
  const zn_node *n = &c->g->nodes[op->node];
  const dnnl_memory_desc_t *want_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  if (!want_md) return zn_error(ZN_ERR_INTERNAL, "failed to query the weights layout of node %s", n->name);
  op->wmd = *want_md;
  op->wbytes = dnnl_memory_desc_get_size(want_md);
  op->wdata = zn_alloc_aligned(op->wbytes);
  if (!op->wdata) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to pack weights of node %s: out of memory", n->name);
  ZN_TRY(zn_onednn_pack_weights(c, op, want_md, op->wdata));
  c->weight_bytes += op->wbytes;
  return ZN_OK;
}

static zn_status make_bias(odn_compiled *c, odn_op *op) {
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[op->node];
  int64_t m = cval(c, op->out)->dims[1];
  int b = op->kind == ODN_CONV ? input_or_none(n, 2) : n->op == ZN_OP_GEMM ? input_or_none(n, 2) : ZN_NO_VALUE;
  float beta = op->kind == ODN_IP && n->op == ZN_OP_GEMM ? n->attrs.gemm.beta : 1.f;
  if (b == ZN_NO_VALUE || beta == 0.f) return ZN_OK;
  op->bias = zn_alloc_aligned((size_t)m * sizeof(float));
  if (!op->bias) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to pack the bias of node %s: out of memory", n->name);
  const float *src = val(g, b)->data;
  bool scalar = num_elems_static(val(g, b)) == 1;
  for (int64_t i = 0; i < m; i++) op->bias[i] = beta * src[scalar ? 0 : i];
  op->bias_len = m;
  c->weight_bytes += (size_t)m * sizeof(float);
  return ZN_OK;
}

/* ------------------------------------------------------------ compile */

static void compiled_destroy(void *p) {
  odn_compiled *c = p;
  if (!c) return;
  zn_onednn_weights_release(c);
  pthread_mutex_destroy(&c->lock);
  for (int i = 0; i < c->num_ops; i++) {
    zn_free(c->ops[i].ins);
    zn_free_aligned(c->ops[i].wdata);
    zn_free_aligned(c->ops[i].bias);
    zn_free_aligned(c->ops[i].scale_shift);
  }
  zn_free(c->ops);
  zn_free(c->values);
  if (c->engine) dnnl_engine_destroy(c->engine);
  zn_free(c);
}

static zn_status plan_all(odn_compiled *c) {
  const zn_graph *g = c->g;
  plan_ctx p = {0};
  zn_status st = ZN_OK;
  p.last_use = zn_calloc((size_t)g->num_values + 1, sizeof *p.last_use);
  p.is_output = zn_calloc((size_t)g->num_values + 1, sizeof *p.is_output);
  p.fold_flatten = zn_calloc((size_t)g->num_nodes + 1, sizeof *p.fold_flatten);
  p.residual_src = zn_calloc((size_t)g->num_values + 1, sizeof *p.residual_src);
  p.relu_fused = zn_calloc((size_t)g->num_nodes + 1, sizeof *p.relu_fused);
  int *readers = zn_calloc((size_t)g->num_values + 1, sizeof *readers);
  if (!p.last_use || !p.is_output || !p.fold_flatten || !p.residual_src || !p.relu_fused || !readers) {
    zn_free(readers);
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to plan onednn steps: out of memory");
    goto done;
  }
  for (int v = 0; v < g->num_values; v++) p.last_use[v] = -1;
  for (int i = 0; i < g->num_nodes; i++)
    for (int k = 0; k < g->nodes[i].num_inputs; k++) {
      int v = zn_node_input(&g->nodes[i], k);
      if (v >= 0) p.last_use[v] = i;
    }
  for (int i = 0; i < g->num_outputs; i++) p.is_output[g->outputs[i]] = true;
  for (int i = 0; i < g->num_nodes; i++) {
    int r = g->nodes[i].op == ZN_OP_CONV ? input_or_none(&g->nodes[i], 3) : ZN_NO_VALUE;
    if (r >= 0 && r < g->num_values) p.residual_src[r] = true;
  }
  /* BatchNormalization -> ReLU (its only reader, not a graph output): one
   * batch-norm primitive with the fuse-ReLU flag; the ReLU's output aliases it. */
  for (int i = 0; i < g->num_nodes; i++)
    for (int k = 0; k < g->nodes[i].num_inputs; k++) {
      int v = zn_node_input(&g->nodes[i], k);
      if (v >= 0 && v < g->num_values) readers[v]++;
    }
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if (n->op != ZN_OP_RELU || n->num_inputs != 1) continue;
    int v = zn_node_input(n, 0), pn = v >= 0 ? val(g, v)->producer : -1;
    if (pn >= 0 && g->nodes[pn].op == ZN_OP_BATCH_NORM && readers[v] == 1 && !p.is_output[v] && supports(g, n, NULL, 0) &&
        val(g, v)->num_dims == 4)
      p.relu_fused[i] = true;
  }
  zn_free(readers);
  /* Flatten(axis 1) of a 4-D tensor read only by inner products: fold it
   * (the inner product takes the 4-D source, weights reshaped to {M,C,H,W}). */
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if (n->op != ZN_OP_FLATTEN && n->op != ZN_OP_RESHAPE) continue;
    int x = zn_node_input(n, 0), y = n->outputs[0];
    if (val(g, x)->num_dims != 4 || val(g, y)->num_dims != 2 || p.is_output[y] || val(g, x)->batch_axis != 0 ||
        val(g, y)->batch_axis != 0 || val(g, y)->dims[0] != val(g, x)->dims[0])
      continue;
    bool all_ip = true, any = false;
    for (int j = i + 1; j < g->num_nodes && all_ip; j++) {
      const zn_node *m = &g->nodes[j];
      for (int k = 0; k < m->num_inputs; k++) {
        if (zn_node_input(m, k) != y) continue;
        any = true;
        if (k != 0 || (m->op != ZN_OP_GEMM && m->op != ZN_OP_MATMUL)) all_ip = false;
      }
    }
    if (any && all_ip) {
      p.fold_flatten[i] = true;
      c->num_flatten_folded++;
    }
  }
  for (int i = 0; i < g->num_inputs && st == ZN_OK; i++) {
    int v = g->inputs[i];
    odn_op *op = NULL;
    /* the import reorder reads float32 from the user's buffer, which holds
     * input_bytes of the graph's dtype: a graph input no node reads (or one
     * passed straight to an output) must not be anything else */
    if (val(g, v)->dtype != ZN_DTYPE_FLOAT32) {
      st = zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile for onednn: graph input %s is %s (onednn takes float32 "
                    "inputs)", val(g, v)->name, zn_dtype_name(val(g, v)->dtype));
      break;
    }
    bool f32_first = c->compute_dt == dnnl_bf16 && (c->tune.bf16_f32 & ODN_F32_FIRST);
    set_value(c, v, val(g, v)->num_dims == 4 ? ODN_NHWC : ODN_PLAIN, f32_first ? dnnl_f32 : c->compute_dt);
    st = add_op(c, ODN_IMPORT, -1, 0, NULL, v, &op);
    if (st == ZN_OK) op->io_index = i;
  }
  for (int i = 0; i < g->num_nodes && st == ZN_OK; i++) {
    const zn_node *n = &g->nodes[i];
    char why[256];
    if (!supports(g, n, why, sizeof why)) {
      char shape[96];
      st = zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to compile node %s for onednn (output %s): %s", n->name,
                    n->num_outputs > 0 && n->outputs[0] >= 0 ? zn_value_shape_str(val(g, n->outputs[0]), shape, sizeof shape)
                                                            : "?",
                    why);
      break;
    }
    st = plan_node(c, &p, i);
  }
  for (int i = 0; i < g->num_outputs && st == ZN_OK; i++) {
    int v = g->outputs[i];
    odn_op *op;
    if (is_const(g, v)) {
      /* A constant output (no node computes it): the export step copies its
       * bytes into the user's buffer on every run, whatever its dtype. */
      c->values[v].used = true;
      if (val(g, v)->data_bytes == 0) continue;
    } else if (!c->values[v].used) {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to compile for onednn: graph output %s is never computed",
                    val(g, v)->name);
      break;
    }
    st = add_op(c, ODN_EXPORT, -1, 1, &v, -1, &op);
    if (st == ZN_OK) op->io_index = i;
  }
done:
  zn_free(p.last_use);
  zn_free(p.is_output);
  zn_free(p.fold_flatten);
  zn_free(p.residual_src);
  zn_free(p.relu_fused);
  return st;
}

/* ------------------------------------------------ zero-copy concat */

/* Index of the step writing value v, or -1. */
static int producer_op(const odn_compiled *c, int v) {
  for (int i = 0; i < c->num_ops; i++)
    if (c->ops[i].out == v) return i;
  return -1;
}

/* Can step pi write its output v as a channel slice of a wider NHWC buffer,
 * with the concat at step ci as v's only reader? Only kernels that keep
 * their speed with a strided dst qualify (docs/internals/onednn.md,
 * "Zero-copy concat"): the own Winograd step (y_stride) and a 1x1 conv,
 * which then runs as a matmul; oneDNN's convs and pools fall to ref:any. */
static bool slice_writer_ok(const odn_compiled *c, int pi, int ci, int v) {
  const odn_value *x = &c->values[v];
  if (pi < 0 || v >= c->g->num_values || x->root != v || x->view_ctot || x->layout != ODN_NHWC || x->dt != dnnl_f32)
    return false;
  for (int u = 0; u < c->num_values; u++)  /* no alias (reshape, fused ReLU) shares v's buffer */
    if (u != v && c->values[u].used && c->values[u].root == v) return false;
  for (int i = 0; i < c->num_ops; i++) {  /* the concat is v's only reader (an export or a residual is one too) */
    const odn_op *o = &c->ops[i];
    int reads = o->residual == v;
    for (int k = 0; k < o->num_ins; k++) reads += o->ins[k] == v;
    if (reads && (i != ci || reads != 1)) return false;
  }
  const odn_op *op = &c->ops[pi];
  if (op->kind != ODN_CONV) return false;
  if (op->own_wino) return true;
  if (op->own_1x1) return op->residual < 0;  /* y_stride; a residual would need the same stride */
  const zn_node *n = &c->g->nodes[op->node];
  const zn_conv_attrs *a = &n->attrs.conv;
  const odn_value *in = &c->values[op->ins[0]];
  bool one = a->kernel[0] == 1 && a->kernel[1] == 1 && a->group == 1;
  for (int i = 0; i < 2 && one; i++)
    one = (a->stride[i] <= 1) && (a->dilation[i] <= 1) && a->pad_begin[i] == 0 && a->pad_end[i] == 0;
  return one && !op->wino && op->cdt == dnnl_f32 && op->residual < 0 && in->layout == ODN_NHWC && !in->view_ctot &&
         in->dt == dnnl_f32 && val(c->g, zn_node_input(n, 1))->num_dims == 4;
}

/* After planning (fp32): every 4-D channel concat (oneDNN's, or the own
 * kernel without a batch norm) whose inputs can all be written in place
 * loses its step; each input becomes a view of the concat's output (its
 * root), which the arena then keeps alive from the first producer on. */
static zn_status plan_zero_copy_concats(odn_compiled *c) {
  for (int ci = 0; ci < c->num_ops; ci++) {
    odn_op *cat = &c->ops[ci];
    bool plain_own = cat->kind == ODN_CONCAT_OWN && !cat->scale_shift;
    if ((cat->kind != ODN_CONCAT && !plain_own) || cval(c, cat->out)->num_dims != 4) continue;
    int y = cat->out;
    if (c->values[y].root != y || c->values[y].layout != ODN_NHWC || c->values[y].dt != dnnl_f32) continue;
    if (cat->kind == ODN_CONCAT && cat->axis != 1) continue;
    bool ok = cat->num_ins > 0;
    for (int k = 0; k < cat->num_ins && ok; k++) {
      int v = cat->ins[k];
      ok = !odn_const_data(c, v) && slice_writer_ok(c, producer_op(c, v), ci, v);
      for (int j = 0; j < k && ok; j++) ok = cat->ins[j] != v;
    }
    if (!ok) continue;
    int64_t ctot = cval(c, y)->dims[1], c0 = 0;
    for (int k = 0; k < cat->num_ins; k++) {
      int v = cat->ins[k];
      odn_op *p = &c->ops[producer_op(c, v)];
      p->mm_1x1 = !p->own_wino && !p->own_1x1;
      c->values[v].root = y;
      c->values[v].view_c0 = (int)c0;
      c->values[v].view_ctot = (int)ctot;
      c0 += cval(c, v)->dims[1];
    }
    zn_log_debug("onednn: zero-copy concat %s: %d producers write their channel slices",
                 c->g->nodes[cat->node].name, cat->num_ins);
    zn_free(cat->ins);
    memmove(&c->ops[ci], &c->ops[ci + 1], (size_t)(c->num_ops - ci - 1) * sizeof *c->ops);
    c->num_ops--;
    c->num_zero_copy_concats++;
    ci--;
  }
  return ZN_OK;
}

odn_tuning zn_onednn_tuning_from_env(void) {
  odn_tuning t = {.bf16_f32 = ODN_BF16_DEFAULT_F32, .winograd = 1, .own_winograd = 1,
                  .own_winograd_block_bytes = ODN_OWN_WINOGRAD_BLOCK_BYTES_DEFAULT, .own_winograd_split = 1,
                  .zero_copy_concat = true, .plain_fc = true, .ip_matmul = true, .own_se = true, .own_1x1 = 1};
  const char *e = getenv("ZN_ONEDNN_BF16_F32");
  if (e && *e) {
    static const struct { const char *name; unsigned flag; } names[] = {
        {"residual", ODN_F32_RESIDUAL}, {"first", ODN_F32_FIRST}, {"last", ODN_F32_LAST}, {"dst", ODN_F32_CONV_DST}};
    t.bf16_f32 = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", e);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      bool known = strcmp(tok, "none") == 0;
      for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(tok, names[i].name) == 0) { t.bf16_f32 |= names[i].flag; known = true; }
      if (!known) zn_log_warn("onednn: ZN_ONEDNN_BF16_F32: unknown item '%s' ignored", tok);
    }
  }
  e = getenv("ZN_ONEDNN_WINOGRAD");
  if (e && *e) t.winograd = strcmp(e, "force") == 0 ? 2 : strcmp(e, "0") == 0 || strcmp(e, "off") == 0 ? 0 : 1;
  e = getenv("ZN_ONEDNN_OWN_WINOGRAD");
  if (e && *e) {
    t.own_winograd = strcmp(e, "force") == 0    ? 2
                     : strcmp(e, "force4") == 0 ? 3
                     : strcmp(e, "0") == 0 || strcmp(e, "off") == 0 ? 0
                                                                   : 1;
    if (strcmp(e, "force") && strcmp(e, "force4") && strcmp(e, "0") && strcmp(e, "off") && strcmp(e, "1"))
      zn_log_warn("onednn: ignoring ZN_ONEDNN_OWN_WINOGRAD='%s' (want 0, 1, force or force4)", e);
  }
  t.own_winograd_block_bytes =
      zn_env_kib("ZN_ONEDNN_OWN_WINOGRAD_BLOCK_KB", t.own_winograd_block_bytes, "one block");
  e = getenv("ZN_ONEDNN_OWN_WINOGRAD_SPLIT");
  if (e && *e) {
    if (strcmp(e, "force") == 0) t.own_winograd_split = 2;
    else t.own_winograd_split = zn_env_bool("ZN_ONEDNN_OWN_WINOGRAD_SPLIT", true) ? 1 : 0;
  }
  t.zero_copy_concat = zn_env_bool("ZN_ONEDNN_ZERO_COPY_CONCAT", true);
  t.plain_fc = zn_env_bool("ZN_ONEDNN_PLAIN_FC", true);
  t.ip_matmul = zn_env_bool("ZN_ONEDNN_IP_MATMUL", true);
  t.own_se = zn_env_bool("ZN_ONEDNN_OWN_SE", true);
  e = getenv("ZN_ONEDNN_OWN_1X1");
  if (e && *e) {
    if (strcmp(e, "force") == 0) t.own_1x1 = 2;
    else t.own_1x1 = zn_env_bool("ZN_ONEDNN_OWN_1X1", t.own_1x1 != 0) ? 1 : 0;
  }
  return t;
}

static zn_status compile(const zn_graph *g, const zn_backend_compile_options *opts, void **compiled_out) {
  odn_tuning t = zn_onednn_tuning_from_env();
  return zn_onednn_compile_tuned(g, opts, &t, compiled_out);
}

zn_status zn_onednn_compile_tuned(const zn_graph *g, const zn_backend_compile_options *opts, const odn_tuning *tune,
                                  void **compiled_out) {
  *compiled_out = NULL;
  zn_precision precision = opts ? opts->precision : ZN_PRECISION_FP32;
  if (precision == ZN_PRECISION_BF16 && !bf16_supported())
    return zn_error(ZN_ERR_UNSUPPORTED_HARDWARE, "failed to compile for onednn in bf16: this CPU lacks AVX512-BF16/AMX "
                    "(oneDNN ISA 0x%x)", (unsigned)dnnl_get_effective_cpu_isa());
  odn_compiled *c = zn_calloc(1, sizeof *c);
  if (!c) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to compile for onednn: out of memory");
  c->g = g;
  c->precision = precision;
  c->compute_dt = precision == ZN_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
  c->tune = *tune;
  c->tune_batch = opts && opts->tune_batch > 1 ? (opts->tune_batch < ODN_TUNE_BATCH_MAX ? opts->tune_batch : ODN_TUNE_BATCH_MAX) : 1;
  c->concat_mode = zn_onednn_concat_mode_from_env();
  pthread_mutex_init(&c->lock, NULL);
  zn_status st = ZN_OK;
  if (dnnl_engine_create(&c->engine, dnnl_cpu, 0) != dnnl_success) {
    st = zn_error(ZN_ERR_UNSUPPORTED_HARDWARE, "failed to create a oneDNN CPU engine");
    goto fail;
  }
  c->cap_values = g->num_values + 16;
  c->num_values = g->num_values;
  c->values = zn_calloc((size_t)c->cap_values, sizeof *c->values);
  if (!c->values) { st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to compile for onednn: out of memory"); goto fail; }
  for (int v = 0; v < g->num_values; v++) {
    c->values[v].root = v;
    c->values[v].gid = v;
    c->values[v].copy_of = -1;
    c->values[v].dt = c->compute_dt;
  }
  /* Planning times Winograd candidates; that and the reference primitive descs
   * run on the reference thread count. */
  int saved_threads;
  zn_onednn_threads_push(REFERENCE_THREADS, &saved_threads);
  st = plan_all(c);
  if (st == ZN_OK && c->tune.zero_copy_concat && c->compute_dt == dnnl_f32) st = plan_zero_copy_concats(c);

  /* Reference primitive descs at batch 1: pack weights, record implementations,
   * and fail now (not at the first reshape) if oneDNN cannot run a step. */
  for (int i = 0; i < c->num_ops && st == ZN_OK; i++) {
    odn_op *op = &c->ops[i];
    if (op->kind == ODN_IP && (st = make_bias(c, op)) != ZN_OK) break;
    if (op->kind == ODN_CONV && (st = make_bias(c, op)) != ZN_OK) break;
    if (op->kind == ODN_CONV && op->own_1x1) {  /* no primitive: its own packing */
      if ((st = zn_onednn_own1x1_pack(c, op)) != ZN_OK) break;
      continue;
    }
    dnnl_primitive_desc_t pd;
    if ((st = zn_onednn_op_pd(c, op, c->tune_batch, &pd)) != ZN_OK) break;
    if (!pd) continue;  /* own kernel */
    const char *impl = NULL;
    if (op->kind == ODN_BINARY && dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success &&
        impl && ((strncmp(impl, "ref", 3) == 0 && zn_onednn_binary_own_ok(c, op)) ||
                 (c->tune.own_se && zn_onednn_binary_own_preferred(c, op)))) {
      op->own_binary = true;  /* oneDNN's reference kernel, or a per-channel scale: the own broadcast loop instead */
      snprintf(op->impl, sizeof op->impl, "zenith:binary");
      c->num_own_binary++;
      dnnl_primitive_desc_destroy(pd);
      continue;
    }
    impl = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) == dnnl_success && impl)
      snprintf(op->impl, sizeof op->impl, "%s%s",
               op->mm_1x1 || op->ip_mm ? "matmul:"
               : !op->own_wino         ? ""
               : op->wino_tile == 4    ? "zenith:winograd_4x3+matmul:"
                                       : "zenith:winograd_2x3+matmul:",
               impl);
    if (op->kind == ODN_CONV || op->kind == ODN_IP) st = pack(c, op, pd);
    dnnl_primitive_desc_destroy(pd);
    if (st != ZN_OK) break;
  }
  zn_onednn_threads_pop(saved_threads);
  if (st != ZN_OK) goto fail;
  zn_log_info("onednn: compiled %s: %d steps, %zu weight bytes packed, precision %s", g->name ? g->name : "graph",
              c->num_ops, c->weight_bytes, precision == ZN_PRECISION_BF16 ? "bf16" : "fp32");
  *compiled_out = c;
  return ZN_OK;
fail:
  compiled_destroy(c);
  return st;
}

static size_t weight_bytes(const void *compiled) { return zn_onednn_weight_bytes_locked(compiled); }

static bool available(void) { return dnnl_engine_get_count(dnnl_cpu) > 0; }

/* ------------------------------------------------------------ describe */

typedef struct sbuf { char *buf; size_t size, len; } sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *at = s->len < s->size ? s->buf + s->len : NULL;
  int n = vsnprintf(at, at ? s->size - s->len : 0, fmt, ap);
  va_end(ap);
  if (n > 0) s->len += (size_t)n;
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
  switch (isa) {
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_sse41: return "sse41";
    default: return "other";
  }
}

/* "52 convs: 48 brg:avx512_core, 4 jit:avx512_core" for one kind of step. */
static void describe_kind(const odn_compiled *c, sbuf *s, odn_kind kind, const char *label) {
  int total = 0;
  for (int i = 0; i < c->num_ops; i++) total += c->ops[i].kind == kind;
  if (!total) return;
  sb_printf(s, "%d %s:", total, label);
  bool *done = zn_calloc((size_t)c->num_ops, sizeof *done);
  if (!done) { sb_printf(s, " (out of memory)\n"); return; }
  bool first = true;
  for (int i = 0; i < c->num_ops; i++) {
    if (c->ops[i].kind != kind || done[i]) continue;
    int count = 0;
    for (int j = i; j < c->num_ops; j++)
      if (c->ops[j].kind == kind && !done[j] && strcmp(c->ops[j].impl, c->ops[i].impl) == 0) { done[j] = true; count++; }
    sb_printf(s, "%s %d %s", first ? "" : ",", count, c->ops[i].impl[0] ? c->ops[i].impl : "?");
    first = false;
  }
  zn_free(done);
  sb_printf(s, "\n");
}

static size_t describe(const void *compiled, char *buf, size_t buf_size) {
  const odn_compiled *c = compiled;
  sbuf s = {buf, buf_size, 0};
  if (buf_size) buf[0] = '\0';
  const dnnl_version_t *v = dnnl_version();
  sb_printf(&s, "onednn %d.%d.%d (C API), ISA %s, precision %s%s\n", v->major, v->minor, v->patch,
            isa_name(dnnl_get_effective_cpu_isa()), c->precision == ZN_PRECISION_BF16 ? "bf16" : "fp32",
            c->precision == ZN_PRECISION_BF16 ? " (bf16 weights and activations, f32 accumulation, f32 logits)" : "");
  sb_printf(&s, "activations NHWC inside (inputs reordered from NCHW, outputs back), arena per instance, "
                "user scratchpads in the arena\n");
  sb_printf(&s, "weights packed once (reference: batch %d, %d thread) into the layouts the primitives prefer: %.2f MiB, "
                "shared read-only\n", (int)c->tune_batch, REFERENCE_THREADS, (double)zn_onednn_weight_bytes_locked(c) / (1024.0 * 1024.0));
  describe_kind(c, &s, ODN_CONV, "convs");
  describe_kind(c, &s, ODN_IP, "inner products");
  describe_kind(c, &s, ODN_POOL, "pools");
  describe_kind(c, &s, ODN_ELTWISE, "eltwise");
  describe_kind(c, &s, ODN_BINARY, "binary");
  describe_kind(c, &s, ODN_SUM, "sums");
  describe_kind(c, &s, ODN_BNORM, "batch norms");
  describe_kind(c, &s, ODN_LRN, "lrn");
  describe_kind(c, &s, ODN_SOFTMAX, "softmax");
  describe_kind(c, &s, ODN_MATMUL, "matmuls of two tensors");
  describe_kind(c, &s, ODN_CONCAT, "concats");
  describe_kind(c, &s, ODN_CONCAT_OWN, "own channel concats (+ batch norm read in one pass)");
  describe_kind(c, &s, ODN_TO_PLAIN, "reorders to NCHW (reshape)");
  describe_kind(c, &s, ODN_VIEW, "reorders from a view (Transpose, Gather of one index, Slice, channel shuffle)");
  if (c->precision != ZN_PRECISION_BF16)
    sb_printf(&s, "zero-copy concats (producers write their channel slices; 1x1 convs as matmul): %s, %d concats\n",
              c->tune.zero_copy_concat ? "on" : "off", c->num_zero_copy_concats);
  describe_kind(c, &s, ODN_CONVERT, "layout/type conversions");
  if (c->num_transpose_aliases)
    sb_printf(&s, "Transposes to channels last and back that are NHWC <-> plain aliases (no step): %d\n",
              c->num_transpose_aliases);
  if (c->num_own_binary)
    sb_printf(&s, "own broadcast binaries (C loop where oneDNN has only ref:any or splits threads otherwise than the "
                  "convs, and Expand): %d\n", c->num_own_binary);
  if (c->num_own_gap)
    sb_printf(&s, "own global average pools (C loop, threads split pixels): %d\n", c->num_own_gap);
  if (c->precision == ZN_PRECISION_BF16)
    sb_printf(&s, "bf16 scheme: f32 kept for%s%s%s%s%s\n", c->tune.bf16_f32 & ODN_F32_RESIDUAL ? " residual-stream" : "",
              c->tune.bf16_f32 & ODN_F32_FIRST ? " first-conv" : "", c->tune.bf16_f32 & ODN_F32_LAST ? " classifier" : "",
              c->tune.bf16_f32 & ODN_F32_CONV_DST ? " conv-outputs" : "", c->tune.bf16_f32 ? "" : " nothing");
  else if (c->tune.winograd == 0)
    sb_printf(&s, "winograd: off\n");
  else
    sb_printf(&s, "winograd (3x3 stride-1, nChw16c, %s): %d convs\n",
              c->tune.winograd == 2 ? "forced" : "chosen per conv by timing direct vs winograd+reorders at compile",
              c->num_wino);
  if (c->precision != ZN_PRECISION_BF16) {
    sb_printf(&s, "own winograd (NHWC, no reorders: C transforms + one batched matmul, %s): F(2x2,3x3) %d convs, "
              "F(4x4,3x3) %d convs",
              c->tune.own_winograd == 0   ? "off"
              : c->tune.own_winograd == 2 ? "forced F(2x2,3x3)"
              : c->tune.own_winograd == 3 ? "forced F(4x4,3x3)"
                                          : "chosen per conv by timing at compile",
              c->num_own_wino, c->num_own_wino4);
    if (c->tune.own_winograd_block_bytes)
      sb_printf(&s, ", tile blocks of <= %zu KiB V+M\n", c->tune.own_winograd_block_bytes / 1024);
    else
      sb_printf(&s, ", one block\n");
  }
  if (c->precision != ZN_PRECISION_BF16)
    sb_printf(&s, "own 1x1 (AVX-512 6x64 tile, next block's weights prefetched, %s): %d convs\n",
              c->tune.own_1x1 == 0   ? "off"
              : c->tune.own_1x1 == 2 ? "forced"
                                     : "weights >= 1 MiB and <= 784 rows at the tuning batch",
              c->num_own_1x1);
  if (c->num_fused_residual_inplace || c->num_residual_copies)
    sb_printf(&s, "residual adds as sum post-op: %d in place, %d after a copy\n", c->num_fused_residual_inplace,
              c->num_residual_copies);
  if (c->num_bn_relu) sb_printf(&s, "batch norm + ReLU fused (fuse_norm_relu): %d\n", c->num_bn_relu);
  if (c->num_flatten_folded) sb_printf(&s, "flatten folded into inner product (4-D source): %d\n", c->num_flatten_folded);
  int plain = 0;
  for (int i = 0; i < c->num_ops; i++) plain += plain_fc(c, &c->ops[i], c->tune_batch);
  if (plain) sb_printf(&s, "inner products with plain weights at batch 1 (gemm): %d\n", plain);
  pthread_mutex_lock(&((odn_compiled *)c)->lock);
  int extra = c->num_extra_layouts;
  pthread_mutex_unlock(&((odn_compiled *)c)->lock);
  if (extra)
    sb_printf(&s, "extra weight layouts: %d (a batch / thread count preferred another layout; shared by instances)\n",
              extra);
  sb_printf(&s, "threads: OpenMP, omp_set_num_threads(num_threads) per instance on the calling thread; "
                "run several instances with OMP_WAIT_POLICY=PASSIVE; instances of N > 1 threads also hold a "
                "1-thread primitive set and switch to it per run (and mid-run) when N threads measure slower "
                "(a busy core)\n");
  return s.len;
}

/* A constant may be freed by the runtime when every node reading it is a conv
 * or inner product whose weights (input 1) and bias (input 2) this backend
 * packed into its own buffers, and no Winograd conv needs it for a re-pack. */
static bool constant_releasable(const void *compiled, int v) {
  const odn_compiled *c = compiled;
  const zn_graph *g = c->g;
  if (v < 0 || v >= g->num_values || !g->values[v].data || g->values[v].is_output) return false;
  bool used = false;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    for (int k = 0; k < n->num_inputs; k++) {
      if (zn_node_input(n, k) != v) continue;
      const odn_op *packed = NULL;
      for (int j = 0; j < c->num_ops; j++)
        if (c->ops[j].node == i && (c->ops[j].kind == ODN_CONV || c->ops[j].kind == ODN_IP)) packed = &c->ops[j];
      if (!packed || packed->wino || !packed->wdata || (k != 1 && k != 2)) return false;
      if (k == 2 && !packed->bias) return false;
      used = true;
    }
  }
  return used;
}

const zn_backend_ops zn_backend_onednn = {
    .abi_version = ZN_BACKEND_ABI_VERSION,
    .name = "onednn",
    .available = available,
    .supports_node = supports,
    .compile = compile,
    .compiled_destroy = compiled_destroy,
    .weight_bytes = weight_bytes,
    .constant_releasable = constant_releasable,
    .instance_create = zn_onednn_instance_create,
    .instance_reshape = zn_onednn_instance_reshape,
    .instance_arena_bytes = zn_onednn_instance_arena_bytes,
    .instance_run = zn_onednn_instance_run,
    .instance_destroy = zn_onednn_instance_destroy,
    .instance_num_steps = zn_onednn_instance_num_steps,
    .instance_run_profiled = zn_onednn_instance_run_profiled,
    .instance_step = zn_onednn_instance_step,
    .describe = describe,
};
