/* Shape and dtype inference for every op in ops.def, ONNX opset 7-17 rules.
 * Dims are handled as "c or c*N" (sdim) so the batch symbol survives through
 * the graph; where it cannot (a product of two batch-scaled dims, c*N + d, a
 * reshape that only fits when N = 1, ...) inference starts over with the batch
 * fixed to 1 (zn_graph.static_batch). Small int (and bool) shape tensors are
 * evaluated on the way (the same evaluator as folding) so Reshape/Slice/Expand
 * can read them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/status.h"
#include "graph/graph.h"
#include "graph/passes.h"

typedef struct sdim { int64_t v; bool n; } sdim;  /* v, or v * N when n */

/* blocked: not evaluable only because the batch symbol is involved (c * N + d):
 * a Reshape/Slice/Pad reading it then falls back to the static batch. */
typedef struct known { void *data; size_t bytes; uint64_t batch_elems; bool blocked; } known;

typedef struct ctx {
  zn_graph *g;
  known *known;          /* contents of small int tensors produced by nodes */
  bool need_static;
  char why[512];
} ctx;

#define MAX_KNOWN_ELEMS 1024

/* ---- messages ---- */

static zn_status fail_st(zn_status st, const zn_node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static zn_status fail_st(zn_status st, const zn_node *n, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  return zn_error(st, "failed to infer shape of node '%s' (%s): %s", n->name, zn_op_name(n->op), why);
}
#define fail(n, ...) fail_st(ZN_ERR_INVALID_MODEL, n, __VA_ARGS__)

/* The batch symbol cannot be carried: remember why; the driver retries static. */
static zn_status fallback(ctx *c, const zn_node *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static zn_status fallback(ctx *c, const zn_node *n, const char *fmt, ...) {
  char why[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  c->need_static = true;
  snprintf(c->why, sizeof c->why, "node '%s' (%s): %s", n->name, zn_op_name(n->op), why);
  return ZN_ERR_INVALID_MODEL;
}

static const char *sdims_str(char *buf, size_t size, int rank, const sdim *d) {
  size_t used = 0;
  int w = snprintf(buf, size, "[");
  used = w > 0 ? (size_t)w : 0;
  for (int i = 0; i < rank && used < size; i++) {
    const char *sep = i ? "," : "";
    if (d[i].n)
      w = d[i].v == 1 ? snprintf(buf + used, size - used, "%sN", sep)
                      : snprintf(buf + used, size - used, "%s%lldN", sep, (long long)d[i].v);
    else
      w = snprintf(buf + used, size - used, "%s%lld", sep, (long long)d[i].v);
    if (w > 0) used += (size_t)w;
  }
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

/* ---- sdim arithmetic ---- */

static bool sd_eq(sdim a, sdim b) { return a.v == b.v && a.n == b.n; }

/* 0 ok, 1 needs static batch (N * N), 2 overflow. */
static int sd_mul(sdim a, sdim b, sdim *out) {
  if (a.n && b.n) return 1;
  if (__builtin_mul_overflow(a.v, b.v, &out->v)) return 2;
  out->n = a.n || b.n;
  return 0;
}

static int sd_prod(const sdim *d, int from, int to, sdim *out) {
  sdim p = {1, false};
  for (int i = from; i < to; i++) {
    int r = sd_mul(p, d[i], &p);
    if (r) return r;
  }
  *out = p;
  return 0;
}

/* ---- value access ---- */

static const zn_value *in_val(const ctx *c, const zn_node *n, int k) {
  if (k >= n->num_inputs) return NULL;
  int v = zn_node_input(n, k);
  return v >= 0 ? &c->g->values[v] : NULL;
}

static int load(const zn_value *v, sdim *d) {
  for (int i = 0; i < v->num_dims; i++) d[i] = (sdim){v->dims[i], i == v->batch_axis};
  return v->num_dims;
}

static zn_status store(ctx *c, const zn_node *n, int out, zn_dtype dtype, int rank, const sdim *d) {
  char buf[160];
  if (rank > ZN_MAX_DIMS) return fail(n, "output rank %d exceeds %d", rank, ZN_MAX_DIMS);
  int batch_axis = -1;
  int64_t elems = 1;
  for (int i = 0; i < rank; i++) {
    if (d[i].v < 0) return fail(n, "negative output dim in %s", sdims_str(buf, sizeof buf, rank, d));
    if (d[i].n) {
      if (batch_axis >= 0)
        return fallback(c, n, "two batch-scaled dims in %s", sdims_str(buf, sizeof buf, rank, d));
      batch_axis = i;
    }
    if (__builtin_mul_overflow(elems, d[i].v, &elems))
      return fail(n, "output shape %s overflows", sdims_str(buf, sizeof buf, rank, d));
  }
  size_t bytes;
  if (!zn_size_mul((size_t)elems, 16, &bytes))
    return fail(n, "output shape %s overflows", sdims_str(buf, sizeof buf, rank, d));
  zn_value *v = &c->g->values[n->outputs[out]];
  v->dtype = dtype;
  v->num_dims = rank;
  for (int i = 0; i < rank; i++) v->dims[i] = d[i].v;
  v->batch_axis = batch_axis;
  return ZN_OK;
}

static const void *value_data(const ctx *c, const zn_value *v, size_t *bytes, uint64_t *batch_elems) {
  if (v->data) { *bytes = v->data_bytes; *batch_elems = v->batch_elems; return v->data; }
  const known *k = &c->known[v - c->g->values];
  *bytes = k->bytes;
  *batch_elems = k->batch_elems;
  return k->data;
}

/* Read an int32/int64 tensor known at this point (constant or evaluated).
 * flags_out: bit i = element i is c * N. false when not known. */
static bool get_ints(const ctx *c, const zn_value *v, int64_t *out, uint64_t *flags_out, int max, int *count) {
  if (!v || v->num_dims < 0 || v->batch_axis >= 0) return false;
  int64_t elems = 1;
  for (int i = 0; i < v->num_dims; i++)
    if (__builtin_mul_overflow(elems, v->dims[i], &elems)) return false;
  if (elems > max) return false;
  size_t bytes;
  uint64_t be;
  const void *data = value_data(c, v, &bytes, &be);
  if (!data) return false;
  if (v->dtype == ZN_DTYPE_INT64 && bytes == (size_t)elems * 8) {
    memcpy(out, data, bytes);
  } else if (v->dtype == ZN_DTYPE_INT32 && bytes == (size_t)elems * 4) {
    const int32_t *p = data;
    for (int64_t i = 0; i < elems; i++) out[i] = p[i];
    be = 0;
  } else {
    return false;
  }
  *count = (int)elems;
  *flags_out = elems >= 64 ? be : be & ((UINT64_C(1) << elems) - 1);
  return true;
}

/* A shape-like input that is not known: fall back when the symbol is why. */
static zn_status not_known(ctx *c, const zn_node *n, const zn_value *v, const char *what) {
  if (c->known[v - c->g->values].blocked)
    return fallback(c, n, "%s '%s' depends on the batch size in a way c * N cannot express", what, v->name);
  return fail_st(ZN_ERR_UNSUPPORTED_OP, n, "%s '%s' is not a constant int tensor", what, v->name);
}

static bool norm_axis(int64_t axis, int rank, int64_t *out) {
  if (axis < -rank || axis >= rank) return false;
  *out = axis < 0 ? axis + rank : axis;
  return true;
}

/* ---- op families ---- */

static zn_status infer_same(ctx *c, const zn_node *n, zn_dtype dtype) {
  sdim d[ZN_MAX_DIMS];
  const zn_value *x = in_val(c, n, 0);
  int r = load(x, d);
  return store(c, n, 0, dtype, r, d);
}

static zn_status broadcast(ctx *c, const zn_node *n, int ra, const sdim *a, int rb, const sdim *b, int *r_out,
                           sdim *out) {
  char ba[160], bb[160];
  int r = ZN_MAX(ra, rb);
  for (int i = 0; i < r; i++) {
    int ia = ra - r + i, ib = rb - r + i;
    sdim x = ia >= 0 ? a[ia] : (sdim){1, false};
    sdim y = ib >= 0 ? b[ib] : (sdim){1, false};
    if (sd_eq(x, y)) out[i] = x;
    else if (!x.n && x.v == 1) out[i] = y;
    else if (!y.n && y.v == 1) out[i] = x;
    else if (x.n || y.n)
      return fallback(c, n, "shapes %s and %s broadcast only when N = 1", sdims_str(ba, sizeof ba, ra, a),
                      sdims_str(bb, sizeof bb, rb, b));
    else
      return fail(n, "shapes %s and %s do not broadcast", sdims_str(ba, sizeof ba, ra, a),
                  sdims_str(bb, sizeof bb, rb, b));
  }
  *r_out = r;
  return ZN_OK;
}

static zn_status infer_elementwise(ctx *c, const zn_node *n) {
  sdim acc[ZN_MAX_DIMS], d[ZN_MAX_DIMS], t[ZN_MAX_DIMS];
  const zn_value *x0 = in_val(c, n, 0);
  int r = load(x0, acc);
  for (int k = 1; k < n->num_inputs; k++) {
    const zn_value *x = in_val(c, n, k);
    if (!x) return fail(n, "input %d is missing", k);
    if (x->dtype != x0->dtype)
      return fail(n, "input %d dtype %d differs from input 0 dtype %d", k, (int)x->dtype, (int)x0->dtype);
    int rx = load(x, d), rr;
    ZN_TRY(broadcast(c, n, r, acc, rx, d, &rr, t));
    r = rr;
    memcpy(acc, t, sizeof(sdim) * (size_t)r);
  }
  return store(c, n, 0, x0->dtype, r, acc);
}

static zn_status infer_matmul(ctx *c, const zn_node *n) {
  sdim a[ZN_MAX_DIMS + 1], b[ZN_MAX_DIMS + 1], out[ZN_MAX_DIMS + 1];
  char ba[160], bb[160];
  const zn_value *va = in_val(c, n, 0), *vb = in_val(c, n, 1);
  int ra = load(va, a), rb = load(vb, b);
  if (ra < 1 || rb < 1) return fail(n, "scalar operand (ranks %d and %d)", ra, rb);
  bool a1 = ra == 1, b1 = rb == 1;
  if (a1) { a[1] = a[0]; a[0] = (sdim){1, false}; ra = 2; }
  if (b1) { b[1] = (sdim){1, false}; rb = 2; }
  sdim ka = a[ra - 1], kb = b[rb - 2];
  if (!sd_eq(ka, kb)) {
    if (ka.n || kb.n) return fallback(c, n, "inner dims of %s and %s match only when N = 1", sdims_str(ba, 160, ra, a), sdims_str(bb, 160, rb, b));
    return fail(n, "inner dims differ: %s x %s", sdims_str(ba, sizeof ba, ra, a), sdims_str(bb, sizeof bb, rb, b));
  }
  int rbatch;
  ZN_TRY(broadcast(c, n, ra - 2, a, rb - 2, b, &rbatch, out));
  int r = rbatch;
  if (!a1) out[r++] = a[ra - 2];
  if (!b1) out[r++] = b[rb - 1];
  return store(c, n, 0, va->dtype, r, out);
}

static zn_status infer_gemm(ctx *c, const zn_node *n) {
  sdim a[ZN_MAX_DIMS], b[ZN_MAX_DIMS], cc[ZN_MAX_DIMS];
  char ba[160], bb[160];
  const zn_value *va = in_val(c, n, 0), *vb = in_val(c, n, 1), *vc = in_val(c, n, 2);
  int ra = load(va, a), rb = load(vb, b);
  if (ra != 2 || rb != 2)
    return fail(n, "A %s and B %s must be 2-D", zn_value_shape_str(va, ba, sizeof ba), zn_value_shape_str(vb, bb, sizeof bb));
  const zn_gemm_attrs *at = &n->attrs.gemm;
  sdim m = at->trans_a ? a[1] : a[0], k = at->trans_a ? a[0] : a[1];
  sdim kb = at->trans_b ? b[1] : b[0], nn = at->trans_b ? b[0] : b[1];
  if (!sd_eq(k, kb)) {
    if (k.n || kb.n) return fallback(c, n, "K of A and B match only when N = 1");
    return fail(n, "A %s (trans %d) and B %s (trans %d): K %lld != %lld", zn_value_shape_str(va, ba, sizeof ba),
                at->trans_a, zn_value_shape_str(vb, bb, sizeof bb), at->trans_b, (long long)k.v, (long long)kb.v);
  }
  sdim out[2] = {m, nn};
  if (vc) {
    int rc = load(vc, cc);
    if (rc > 2) return fail(n, "C %s has rank > 2", zn_value_shape_str(vc, ba, sizeof ba));
    for (int i = 0; i < rc; i++) {
      sdim want = out[2 - rc + i];
      if (!(cc[i].v == 1 && !cc[i].n) && !sd_eq(cc[i], want)) {
        if (cc[i].n || want.n) return fallback(c, n, "C broadcasts to [M,N] only when N = 1");
        return fail(n, "C %s does not broadcast to %s", zn_value_shape_str(vc, ba, sizeof ba),
                    sdims_str(bb, sizeof bb, 2, out));
      }
    }
  }
  return store(c, n, 0, va->dtype, 2, out);
}

/* One spatial axis of Conv/Pool: resolves auto_pad into explicit pads. */
static zn_status window_axis(const zn_node *n, int axis, int64_t in, int64_t k, int64_t s, int64_t dil,
                             int64_t *pb, int64_t *pe, zn_auto_pad auto_pad, bool ceil_mode, int64_t *out) {
  int64_t ek;
  if (__builtin_mul_overflow(k - 1, dil, &ek) || __builtin_add_overflow(ek, 1, &ek))
    return fail(n, "effective kernel of axis %d overflows", axis);
  if (auto_pad == ZN_AUTO_PAD_SAME_UPPER || auto_pad == ZN_AUTO_PAD_SAME_LOWER) {
    int64_t o = in / s + (in % s != 0), total;
    if (__builtin_mul_overflow(o > 0 ? o - 1 : 0, s, &total) || __builtin_add_overflow(total, ek, &total))
      return fail(n, "padding of axis %d overflows", axis);
    total = ZN_MAX(total - in, 0);
    int64_t small = total / 2, big = total - small;
    *pb = auto_pad == ZN_AUTO_PAD_SAME_UPPER ? small : big;
    *pe = auto_pad == ZN_AUTO_PAD_SAME_UPPER ? big : small;
    *out = o;
    return ZN_OK;
  }
  if (auto_pad == ZN_AUTO_PAD_VALID) *pb = *pe = 0;
  int64_t padded;
  if (__builtin_add_overflow(in, *pb, &padded) || __builtin_add_overflow(padded, *pe, &padded))
    return fail(n, "padded size of axis %d overflows", axis);
  if (padded < ek)
    return fail(n, "spatial axis %d: input %lld + pads %lld + %lld is smaller than the kernel extent %lld", axis,
                (long long)in, (long long)*pb, (long long)*pe, (long long)ek);
  int64_t span = padded - ek;
  int64_t o = ceil_mode ? span / s + (span % s != 0) + 1 : span / s + 1;
  /* The last window must start inside the input or the left padding. */
  if (ceil_mode && (o - 1) * s >= in + *pb) o--;
  *out = o;
  return ZN_OK;
}

static zn_status infer_conv(ctx *c, zn_node *n) {
  sdim x[ZN_MAX_DIMS], w[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  char bx[160], bw[160];
  zn_conv_attrs *a = &n->attrs.conv;
  const zn_value *vx = in_val(c, n, 0), *vw = in_val(c, n, 1), *vb = in_val(c, n, 2), *vr = in_val(c, n, 3);
  int rx = load(vx, x), rw = load(vw, w);
  int ns = a->num_spatial;
  if (rx != ns + 2 || rw != ns + 2)
    return fail(n, "X %s and W %s must have rank %d", zn_value_shape_str(vx, bx, sizeof bx),
                zn_value_shape_str(vw, bw, sizeof bw), ns + 2);
  for (int i = 1; i < rx; i++)
    if (x[i].n) return fallback(c, n, "batch symbol on non-batch axis %d of X", i);
  for (int i = 0; i < rw; i++)
    if (w[i].n) return fallback(c, n, "batch symbol in W");
  int64_t cin = x[1].v, m = w[0].v;
  int64_t wc_g;
  if (__builtin_mul_overflow(w[1].v, a->group, &wc_g) || cin != wc_g)
    return fail(n, "input channels %lld != weight channels %lld * group %lld", (long long)cin, (long long)w[1].v,
                (long long)a->group);
  if (m % a->group != 0)
    return fail(n, "output channels %lld not divisible by group %lld", (long long)m, (long long)a->group);
  for (int i = 0; i < ns; i++) {
    if (a->kernel[i] == 0) a->kernel[i] = w[2 + i].v;
    if (a->kernel[i] != w[2 + i].v)
      return fail(n, "kernel_shape[%d] = %lld but W is %s", i, (long long)a->kernel[i], zn_value_shape_str(vw, bw, sizeof bw));
    if (a->kernel[i] <= 0) return fail(n, "kernel dim %d is %lld", i, (long long)a->kernel[i]);
  }
  if (vb) {
    if (vb->num_dims != 1 || vb->dims[0] != m || vb->batch_axis >= 0)
      return fail(n, "bias %s must be [%lld]", zn_value_shape_str(vb, bx, sizeof bx), (long long)m);
  }
  out[0] = x[0];
  out[1] = (sdim){m, false};
  for (int i = 0; i < ns; i++) {
    int64_t o = 0;
    ZN_TRY(window_axis(n, i, x[2 + i].v, a->kernel[i], a->stride[i], a->dilation[i], &a->pad_begin[i], &a->pad_end[i],
                       a->auto_pad, false, &o));
    out[2 + i] = (sdim){o, false};
  }
  a->auto_pad = ZN_AUTO_PAD_NOTSET;
  if (vr) {
    sdim r[ZN_MAX_DIMS];
    int rr = load(vr, r);
    bool same = rr == rx;
    for (int i = 0; same && i < rr; i++) same = sd_eq(r[i], out[i]);
    if (!same)
      return fail(n, "residual %s differs from output %s", zn_value_shape_str(vr, bx, sizeof bx),
                  sdims_str(bw, sizeof bw, rx, out));
  }
  return store(c, n, 0, vx->dtype, rx, out);
}

static zn_status infer_pool(ctx *c, zn_node *n) {
  sdim x[ZN_MAX_DIMS] = {{0}}, out[ZN_MAX_DIMS];  /* zeroed: GCC 12 cannot see that rank >= 2 here */
  char bx[160];
  zn_pool_attrs *a = &n->attrs.pool;
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x), ns = a->num_spatial;
  if (rx != ns + 2) return fail(n, "X %s must have rank %d", zn_value_shape_str(vx, bx, sizeof bx), ns + 2);
  for (int i = 2; i < rx; i++)
    if (x[i].n) return fallback(c, n, "batch symbol on spatial axis %d", i);
  out[0] = x[0];
  out[1] = x[1];
  for (int i = 0; i < ns; i++) {
    int64_t o = 0;
    ZN_TRY(window_axis(n, i, x[2 + i].v, a->kernel[i], a->stride[i], a->dilation[i], &a->pad_begin[i], &a->pad_end[i],
                       a->auto_pad, a->ceil_mode, &o));
    out[2 + i] = (sdim){o, false};
  }
  a->auto_pad = ZN_AUTO_PAD_NOTSET;
  ZN_TRY(store(c, n, 0, vx->dtype, rx, out));
  if (n->num_outputs > 1) ZN_TRY(store(c, n, 1, ZN_DTYPE_INT64, rx, out));
  return ZN_OK;
}

static zn_status infer_global_pool(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS];
  char bx[160];
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x);
  if (rx < 3) return fail(n, "X %s must have rank >= 3", zn_value_shape_str(vx, bx, sizeof bx));
  for (int i = 2; i < rx; i++) x[i] = (sdim){1, false};
  return store(c, n, 0, vx->dtype, rx, x);
}

static zn_status infer_reduce(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x);
  const zn_reduce_attrs *a = &n->attrs.reduce;
  bool red[ZN_MAX_DIMS] = {false};
  if (a->num_axes == 0)
    for (int i = 0; i < rx; i++) red[i] = true;
  for (int i = 0; i < a->num_axes; i++) {
    int64_t ax;
    if (!norm_axis(a->axes[i], rx, &ax)) return fail(n, "axis %lld out of range for rank %d", (long long)a->axes[i], rx);
    if (red[ax]) return fail(n, "axis %lld repeated", (long long)a->axes[i]);
    red[ax] = true;
  }
  int r = 0;
  for (int i = 0; i < rx; i++) {
    if (!red[i]) out[r++] = x[i];
    else if (a->keepdims) out[r++] = (sdim){1, false};
  }
  return store(c, n, 0, vx->dtype, r, out);
}

static zn_status infer_batch_norm(ctx *c, const zn_node *n) {
  char bx[160], bp[160];
  const zn_value *vx = in_val(c, n, 0);
  if (vx->num_dims < 2) return fail(n, "X %s must have rank >= 2", zn_value_shape_str(vx, bx, sizeof bx));
  for (int k = 1; k < 5; k++) {
    const zn_value *p = in_val(c, n, k);
    if (!p || p->num_dims != 1 || p->dims[0] != vx->dims[1] || p->batch_axis >= 0 || vx->batch_axis == 1)
      return fail(n, "input %d %s must be [C] for X %s", k, p ? zn_value_shape_str(p, bp, sizeof bp) : "(missing)",
                  zn_value_shape_str(vx, bx, sizeof bx));
  }
  return infer_same(c, n, vx->dtype);
}

static zn_status infer_concat(ctx *c, const zn_node *n) {
  sdim out[ZN_MAX_DIMS], d[ZN_MAX_DIMS];
  char b0[160], b1[160];
  const zn_value *v0 = in_val(c, n, 0);
  int r = load(v0, out);
  int64_t axis;
  if (!norm_axis(n->attrs.axis.axis, r, &axis))
    return fail(n, "axis %lld out of range for rank %d", (long long)n->attrs.axis.axis, r);
  for (int k = 1; k < n->num_inputs; k++) {
    const zn_value *v = in_val(c, n, k);
    if (!v) return fail(n, "input %d is missing", k);
    if (v->dtype != v0->dtype) return fail(n, "input %d dtype differs from input 0", k);
    int rk = load(v, d);
    if (rk != r)
      return fail(n, "input %d %s has a different rank than %s", k, zn_value_shape_str(v, b0, sizeof b0),
                  zn_value_shape_str(v0, b1, sizeof b1));
    for (int i = 0; i < r; i++) {
      if (i == axis) {
        if (out[i].n != d[i].n) return fallback(c, n, "concatenating a batch-scaled and a plain axis");
        if (__builtin_add_overflow(out[i].v, d[i].v, &out[i].v)) return fail(n, "concatenated axis overflows");
      } else if (!sd_eq(out[i], d[i])) {
        if (out[i].n || d[i].n) return fallback(c, n, "input %d matches input 0 only when N = 1", k);
        return fail(n, "input %d %s does not match %s outside axis %lld", k, zn_value_shape_str(v, b0, sizeof b0),
                    zn_value_shape_str(v0, b1, sizeof b1), (long long)axis);
      }
    }
  }
  return store(c, n, 0, v0->dtype, r, out);
}

static zn_status prod_or_fail(ctx *c, const zn_node *n, const sdim *d, int from, int to, sdim *out) {
  int r = sd_prod(d, from, to, out);
  if (r == 1) return fallback(c, n, "a product of two batch-scaled dims");
  if (r == 2) return fail(n, "element count overflows");
  return ZN_OK;
}

static zn_status infer_flatten(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], out[2];
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x);
  int64_t axis = n->attrs.axis.axis;
  if (axis < -rx || axis > rx) return fail(n, "axis %lld out of range for rank %d", (long long)axis, rx);
  if (axis < 0) axis += rx;
  ZN_TRY(prod_or_fail(c, n, x, 0, (int)axis, &out[0]));
  ZN_TRY(prod_or_fail(c, n, x, (int)axis, rx, &out[1]));
  return store(c, n, 0, vx->dtype, 2, out);
}

static zn_status infer_reshape(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  char bx[160], bo[160];
  const zn_value *vx = in_val(c, n, 0), *vs = in_val(c, n, 1);
  int rx = load(vx, x);
  int64_t shape[ZN_MAX_DIMS];
  uint64_t flags;
  int count;
  if (vs->num_dims != 1)
    return fail(n, "shape input '%s' must be 1-D, is %s", vs->name, zn_value_shape_str(vs, bx, sizeof bx));
  if (vs->dims[0] > ZN_MAX_DIMS) return fail(n, "target rank %lld exceeds %d", (long long)vs->dims[0], ZN_MAX_DIMS);
  if (!get_ints(c, vs, shape, &flags, ZN_MAX_DIMS, &count)) return not_known(c, n, vs, "shape input");
  int neg = -1;
  for (int i = 0; i < count; i++) {
    int64_t s = shape[i];
    if (flags >> i & 1) {
      if (s < 0) return fail(n, "shape[%d] = %lld * N is negative", i, (long long)s);
      out[i] = (sdim){s, true};
    } else if (s == 0 && !n->attrs.reshape.allowzero) {
      if (i >= rx) return fail(n, "shape[%d] = 0 copies a dim the input %s lacks", i, zn_value_shape_str(vx, bx, sizeof bx));
      out[i] = x[i];
    } else if (s == -1) {
      if (neg >= 0) return fail(n, "more than one -1 in the shape");
      neg = i;
      out[i] = (sdim){1, false};
    } else if (s < 0) {
      return fail(n, "shape[%d] = %lld is invalid", i, (long long)s);
    } else {
      out[i] = (sdim){s, false};
    }
  }
  sdim total = {0, false}, known_p = {0, false};  /* set on success; -O3 cannot tell */
  ZN_TRY(prod_or_fail(c, n, x, 0, rx, &total));
  ZN_TRY(prod_or_fail(c, n, out, 0, count, &known_p));
  if (neg >= 0) {
    if (known_p.v == 0) return fail(n, "-1 with a zero-sized remainder in %s", sdims_str(bo, sizeof bo, count, out));
    if (total.n == known_p.n) {
      if (total.v % known_p.v) goto mismatch;
      out[neg] = (sdim){total.v / known_p.v, false};
    } else if (total.n) {
      if (total.v % known_p.v)
        return fallback(c, n, "input %s does not divide into %s for every N", zn_value_shape_str(vx, bx, sizeof bx),
                        sdims_str(bo, sizeof bo, count, out));
      out[neg] = (sdim){total.v / known_p.v, true};
    } else {
      return fallback(c, n, "plain input %s reshaped with a batch-scaled target", zn_value_shape_str(vx, bx, sizeof bx));
    }
  } else if (!sd_eq(total, known_p)) {
    if (total.n || known_p.n) {
      if (total.v == known_p.v)
        return fallback(c, n, "input %s and target %s match only when N = 1", zn_value_shape_str(vx, bx, sizeof bx),
                        sdims_str(bo, sizeof bo, count, out));
    }
    goto mismatch;
  }
  return store(c, n, 0, vx->dtype, count, out);
mismatch:
  return fail(n, "cannot reshape %s to %s", zn_value_shape_str(vx, bx, sizeof bx), sdims_str(bo, sizeof bo, count, out));
}

static zn_status infer_transpose(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x);
  const zn_transpose_attrs *a = &n->attrs.transpose;
  if (a->num_perm != 0 && a->num_perm != rx) return fail(n, "perm has %d entries for rank %d", a->num_perm, rx);
  for (int i = 0; i < rx; i++) {
    int64_t p = a->num_perm ? a->perm[i] : rx - 1 - i;
    if (p < 0 || p >= rx) return fail(n, "perm[%d] = %lld out of range", i, (long long)p);
    out[i] = x[p];
  }
  return store(c, n, 0, vx->dtype, rx, out);
}

static zn_status infer_squeeze(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  char bx[160];
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x);
  const zn_axes_attrs *a = &n->attrs.axes;
  bool drop[ZN_MAX_DIMS] = {false};
  if (a->num_axes == 0)
    for (int i = 0; i < rx; i++) drop[i] = !x[i].n && x[i].v == 1;
  for (int i = 0; i < a->num_axes; i++) {
    int64_t ax;
    if (!norm_axis(a->axes[i], rx, &ax)) return fail(n, "axis %lld out of range for rank %d", (long long)a->axes[i], rx);
    if (x[ax].n) return fallback(c, n, "squeezing the batch axis %lld", (long long)ax);
    if (x[ax].v != 1)
      return fail(n, "axis %lld of %s is not 1", (long long)ax, zn_value_shape_str(vx, bx, sizeof bx));
    drop[ax] = true;
  }
  int r = 0;
  for (int i = 0; i < rx; i++)
    if (!drop[i]) out[r++] = x[i];
  return store(c, n, 0, vx->dtype, r, out);
}

static zn_status infer_unsqueeze(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x);
  const zn_axes_attrs *a = &n->attrs.axes;
  int r = rx + a->num_axes;
  if (r > ZN_MAX_DIMS) return fail(n, "output rank %d exceeds %d", r, ZN_MAX_DIMS);
  bool ins[ZN_MAX_DIMS] = {false};
  for (int i = 0; i < a->num_axes; i++) {
    int64_t ax;
    if (!norm_axis(a->axes[i], r, &ax)) return fail(n, "axis %lld out of range for rank %d", (long long)a->axes[i], r);
    if (ins[ax]) return fail(n, "axis %lld repeated", (long long)a->axes[i]);
    ins[ax] = true;
  }
  for (int i = 0, j = 0; i < r; i++) out[i] = ins[i] ? (sdim){1, false} : x[j++];
  return store(c, n, 0, vx->dtype, r, out);
}

static zn_status infer_pad(ctx *c, zn_node *n) {
  sdim x[ZN_MAX_DIMS];
  const zn_value *vx = in_val(c, n, 0), *vp = in_val(c, n, 1), *vv = in_val(c, n, 2);
  int rx = load(vx, x);
  zn_pad_attrs *a = &n->attrs.pad;
  if (vp) {
    int64_t pads[2 * ZN_MAX_DIMS];
    uint64_t flags;
    int count;
    if (!get_ints(c, vp, pads, &flags, 2 * ZN_MAX_DIMS, &count)) return not_known(c, n, vp, "pads input");
    if (flags) return fail_st(ZN_ERR_UNSUPPORTED_OP, n, "pads depend on the batch size");
    a->num_pads = count;
    memcpy(a->pads, pads, (size_t)count * sizeof(int64_t));
  }
  if (vv) {
    size_t bytes;
    uint64_t be;
    const void *d = value_data(c, vv, &bytes, &be);
    if (!d || vv->dtype != ZN_DTYPE_FLOAT32 || bytes != 4)
      return fail_st(ZN_ERR_UNSUPPORTED_OP, n, "constant_value '%s' is not a constant float scalar", vv->name);
    memcpy(&a->value, d, 4);
  }
  /* Pads (and the value) now live in the attributes: drop the inputs. */
  n->num_inputs = 1;
  if (a->num_pads != 2 * rx) return fail(n, "%d pads for rank %d", a->num_pads, rx);
  for (int i = 0; i < rx; i++) {
    int64_t b = a->pads[i], e = a->pads[rx + i];
    if (b < 0 || e < 0) return fail_st(ZN_ERR_UNSUPPORTED_OP, n, "negative pads on axis %d", i);
    if (x[i].n && (b || e)) return fallback(c, n, "padding the batch axis");
    if (__builtin_add_overflow(x[i].v, b, &x[i].v) || __builtin_add_overflow(x[i].v, e, &x[i].v))
      return fail(n, "padded axis %d overflows", i);
    if (a->mode == ZN_PAD_REFLECT && (b >= vx->dims[i] || e >= vx->dims[i]))
      return fail(n, "reflect pads on axis %d must be smaller than the dim %lld", i, (long long)vx->dims[i]);
    if (a->mode == ZN_PAD_EDGE && vx->dims[i] == 0 && (b || e)) return fail(n, "edge padding of an empty axis %d", i);
  }
  return store(c, n, 0, vx->dtype, rx, x);
}

static zn_status infer_shape(ctx *c, const zn_node *n) {
  const zn_value *vx = in_val(c, n, 0);
  int64_t r = vx->num_dims;
  int64_t start = n->attrs.shape.start, end = n->attrs.shape.has_end ? n->attrs.shape.end : r;
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = ZN_MIN(ZN_MAX(start, 0), r);
  end = ZN_MIN(ZN_MAX(end, 0), r);
  sdim out = {ZN_MAX(end - start, 0), false};
  return store(c, n, 0, ZN_DTYPE_INT64, 1, &out);
}

static zn_status infer_gather(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], idx[ZN_MAX_DIMS], out[2 * ZN_MAX_DIMS];
  const zn_value *vx = in_val(c, n, 0), *vi = in_val(c, n, 1);
  int rx = load(vx, x), ri = load(vi, idx);
  if (rx < 1) return fail(n, "data must have rank >= 1");
  if (vi->dtype != ZN_DTYPE_INT64 && vi->dtype != ZN_DTYPE_INT32) return fail(n, "indices must be int32 or int64");
  int64_t axis;
  if (!norm_axis(n->attrs.axis.axis, rx, &axis))
    return fail(n, "axis %lld out of range for rank %d", (long long)n->attrs.axis.axis, rx);
  int r = 0;
  for (int i = 0; i < axis; i++) out[r++] = x[i];
  for (int i = 0; i < ri; i++) out[r++] = idx[i];
  for (int i = (int)axis + 1; i < rx; i++) out[r++] = x[i];
  int64_t vals[MAX_KNOWN_ELEMS];
  uint64_t flags;
  int count;
  if (!x[axis].n && get_ints(c, vi, vals, &flags, MAX_KNOWN_ELEMS, &count))
    for (int i = 0; i < count; i++)
      if (vals[i] < -x[axis].v || vals[i] >= x[axis].v)
        return fail(n, "index %lld out of range for axis %lld of size %lld", (long long)vals[i], (long long)axis,
                    (long long)x[axis].v);
  return store(c, n, 0, vx->dtype, r, out);
}

void zn_slice_resolve(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t *first_out, int64_t *count_out) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  int64_t len;
  if (step > 0) {
    start = ZN_MIN(ZN_MAX(start, 0), dim);
    end = ZN_MIN(ZN_MAX(end, 0), dim);
    len = end > start ? 1 + (end - start - 1) / step : 0; /* no end + step: step may be near INT64_MAX */
  } else {
    start = ZN_MIN(ZN_MAX(start, 0), dim - 1);
    end = ZN_MIN(ZN_MAX(end, -1), dim - 1);
    const uint64_t stride = (uint64_t)(-(step + 1)) + 1; /* -step, also for INT64_MIN */
    len = start > end ? 1 + (int64_t)((uint64_t)(start - end - 1) / stride) : 0;
  }
  *first_out = start;
  *count_out = len;
}

static zn_status infer_slice(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS];
  const zn_value *vx = in_val(c, n, 0);
  int rx = load(vx, x);
  int64_t p[4][ZN_MAX_DIMS];
  uint64_t f[4] = {0, 0, 0, 0};
  int cnt[4] = {0, 0, 0, 0};
  for (int k = 0; k < 4; k++) {
    const zn_value *v = in_val(c, n, k + 1);
    if (!v) continue;
    if (!get_ints(c, v, p[k], &f[k], ZN_MAX_DIMS, &cnt[k])) return not_known(c, n, v, "parameter input");
  }
  int count = cnt[0];
  if (cnt[1] != count || (in_val(c, n, 3) && cnt[2] != count) || (in_val(c, n, 4) && cnt[3] != count))
    return fail(n, "starts, ends, axes and steps differ in length");
  bool seen[ZN_MAX_DIMS] = {false};
  for (int i = 0; i < count; i++) {
    int64_t ax = in_val(c, n, 3) ? p[2][i] : i;
    if (!norm_axis(ax, rx, &ax)) return fail(n, "axis %lld out of range for rank %d", (long long)ax, rx);
    if (seen[ax]) return fail(n, "axis %lld repeated", (long long)ax);
    seen[ax] = true;
    int64_t step = in_val(c, n, 4) ? p[3][i] : 1;
    if (step == 0) return fail(n, "step of axis %lld is 0", (long long)ax);
    if ((f[2] | f[3]) >> i & 1) return fail_st(ZN_ERR_UNSUPPORTED_OP, n, "batch-dependent axes or steps");
    bool sf = f[0] >> i & 1, ef = f[1] >> i & 1;
    int64_t s = p[0][i], e = p[1][i];
    if (x[ax].n) {
      /* A batch-scaled axis survives only a full slice. */
      bool full = step == 1 && !sf && s == 0 && ((ef && e == x[ax].v) || (!ef && e >= INT32_MAX));
      if (!full) return fallback(c, n, "slicing part of the batch axis %lld", (long long)ax);
      continue;
    }
    if (sf || ef) return fallback(c, n, "batch-dependent start or end on a plain axis");
    int64_t first, len;
    zn_slice_resolve(x[ax].v, s, e, step, &first, &len);
    x[ax].v = len;
  }
  return store(c, n, 0, vx->dtype, rx, x);
}

/* Pow: the base's dtype, the exponent (float or int) broadcast against it. */
static zn_status infer_pow(ctx *c, const zn_node *n) {
  sdim a[ZN_MAX_DIMS], b[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  const zn_value *va = in_val(c, n, 0), *vb = in_val(c, n, 1);
  if (!vb) return fail(n, "the exponent (input 1) is missing");
  int ra = load(va, a), rb = load(vb, b), r;
  ZN_TRY(broadcast(c, n, ra, a, rb, b, &r, out));
  return store(c, n, 0, va->dtype, r, out);
}

/* Equal: two inputs of one dtype, broadcast; the output is bool. */
static zn_status infer_equal(ctx *c, const zn_node *n) {
  sdim a[ZN_MAX_DIMS], b[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  const zn_value *va = in_val(c, n, 0), *vb = in_val(c, n, 1);
  if (va->dtype != vb->dtype)
    return fail(n, "inputs differ in dtype (%s, %s)", zn_dtype_name(va->dtype), zn_dtype_name(vb->dtype));
  int ra = load(va, a), rb = load(vb, b), r;
  ZN_TRY(broadcast(c, n, ra, a, rb, b, &r, out));
  return store(c, n, 0, ZN_DTYPE_BOOL, r, out);
}

/* Where: a bool condition and X, Y of one dtype, the three broadcast together. */
static zn_status infer_where(ctx *c, const zn_node *n) {
  sdim acc[ZN_MAX_DIMS], d[ZN_MAX_DIMS], t[ZN_MAX_DIMS];
  const zn_value *vc = in_val(c, n, 0), *vx = in_val(c, n, 1), *vy = in_val(c, n, 2);
  if (vc->dtype != ZN_DTYPE_BOOL) return fail(n, "condition '%s' is %s, not bool", vc->name, zn_dtype_name(vc->dtype));
  if (vx->dtype != vy->dtype)
    return fail(n, "X and Y differ in dtype (%s, %s)", zn_dtype_name(vx->dtype), zn_dtype_name(vy->dtype));
  int r = load(vc, acc);
  for (int k = 1; k < 3; k++) {
    int rk = load(in_val(c, n, k), d), rr;
    ZN_TRY(broadcast(c, n, r, acc, rk, d, &rr, t));
    r = rr;
    memcpy(acc, t, sizeof(sdim) * (size_t)r);
  }
  return store(c, n, 0, vx->dtype, r, acc);
}

/* A shape given as data (Expand's shape, ConstantOfShape's input): a known 1-D
 * int64 tensor of at most ZN_MAX_DIMS non-negative elements; an element that is
 * c * N becomes a batch-scaled dim. */
static zn_status shape_operand(ctx *c, const zn_node *n, const zn_value *vs, int *rank_out, sdim *d) {
  char bs[160];
  if (vs->dtype != ZN_DTYPE_INT64) return fail(n, "shape input '%s' is %s, not int64", vs->name, zn_dtype_name(vs->dtype));
  if (vs->num_dims != 1 || vs->batch_axis >= 0)
    return fail(n, "shape input '%s' must be 1-D, is %s", vs->name, zn_value_shape_str(vs, bs, sizeof bs));
  if (vs->dims[0] > ZN_MAX_DIMS) return fail(n, "shape input '%s' has %lld elements: rank exceeds %d", vs->name,
                                              (long long)vs->dims[0], ZN_MAX_DIMS);
  *rank_out = 0;
  if (vs->dims[0] == 0) return ZN_OK;  /* a scalar */
  int64_t vals[ZN_MAX_DIMS];
  uint64_t flags;
  int count;
  if (!get_ints(c, vs, vals, &flags, ZN_MAX_DIMS, &count)) return not_known(c, n, vs, "shape input");
  for (int i = 0; i < count; i++) {
    if (vals[i] < 0) return fail(n, "shape[%d] = %lld is negative", i, (long long)vals[i]);
    d[i] = (sdim){vals[i], (flags >> i & 1) != 0};
  }
  *rank_out = count;
  return ZN_OK;
}

/* Outputs made from a shape in the file (ConstantOfShape, Expand) are capped at
 * ZN_MAX_MADE_BYTES per image, so an absurd shape is an error, not an allocation. */
static zn_status check_made_bytes(const zn_node *n, zn_dtype dtype, int r, const sdim *d) {
  char bd[160];
  int64_t bytes = (int64_t)zn_dtype_size(dtype);
  for (int i = 0; i < r; i++)
    if (__builtin_mul_overflow(bytes, d[i].v, &bytes) || bytes > ZN_MAX_MADE_BYTES) goto too_big;
  return ZN_OK;
too_big:
  return fail(n, "output %s %s would take more than %lld bytes per image", sdims_str(bd, sizeof bd, r, d),
              zn_dtype_name(dtype), (long long)ZN_MAX_MADE_BYTES);
}

static zn_status infer_constant_of_shape(ctx *c, const zn_node *n) {
  sdim d[ZN_MAX_DIMS];
  int r = 0;  /* set by shape_operand; zeroed for -O3's maybe-uninitialized */
  ZN_TRY(shape_operand(c, n, in_val(c, n, 0), &r, d));
  ZN_TRY(check_made_bytes(n, n->attrs.fill.dtype, r, d));
  return store(c, n, 0, n->attrs.fill.dtype, r, d);
}

/* Expand: the input broadcast with the shape (both ways, as numpy). */
static zn_status infer_expand(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], s[ZN_MAX_DIMS], out[ZN_MAX_DIMS];
  const zn_value *vx = in_val(c, n, 0);
  int rs = 0, r = 0, rx = load(vx, x);  /* rs, r: set below; zeroed for -O3's maybe-uninitialized */
  ZN_TRY(shape_operand(c, n, in_val(c, n, 1), &rs, s));
  ZN_TRY(broadcast(c, n, rx, x, rs, s, &r, out));
  ZN_TRY(check_made_bytes(n, vx->dtype, r, out));
  return store(c, n, 0, vx->dtype, r, out);
}

/* Mod: Add's broadcasting; fmod = 0 is defined for integers only. */
static zn_status infer_mod(ctx *c, const zn_node *n) {
  const zn_value *va = in_val(c, n, 0);
  const bool is_float = va->dtype == ZN_DTYPE_FLOAT32 || va->dtype == ZN_DTYPE_FLOAT64 || va->dtype == ZN_DTYPE_FLOAT16 ||
                        va->dtype == ZN_DTYPE_BFLOAT16;
  if (is_float && !n->attrs.mod.fmod) return fail(n, "fmod = 0 on %s inputs (floats need fmod = 1)", zn_dtype_name(va->dtype));
  if (va->dtype == ZN_DTYPE_BOOL) return fail(n, "bool inputs");
  return infer_elementwise(c, n);
}

static zn_status infer_not(ctx *c, const zn_node *n) {
  const zn_value *vx = in_val(c, n, 0);
  if (vx->dtype != ZN_DTYPE_BOOL) return fail(n, "input '%s' is %s, not bool", vx->name, zn_dtype_name(vx->dtype));
  return infer_same(c, n, ZN_DTYPE_BOOL);
}

/* One of Range's scalar inputs, known at this point (a constant, or an int
 * evaluated on the way). *flag: the value is c * N. false when not known. */
static bool range_scalar(const ctx *c, const zn_value *v, double *f, int64_t *i, bool *flag) {
  int64_t vals[1];
  uint64_t flags = 0;
  int count;
  *flag = false;
  if (v->dtype == ZN_DTYPE_FLOAT32) {
    size_t bytes;
    uint64_t be;
    const void *d = value_data(c, v, &bytes, &be);
    float x;
    if (!d || bytes != 4) return false;
    memcpy(&x, d, 4);
    *f = x;
    return true;
  }
  if (!get_ints(c, v, vals, &flags, 1, &count) || count != 1) return false;
  *i = vals[0];
  *flag = flags & 1;
  return true;
}

/* Range: [start, limit) by delta, max(ceil((limit - start) / delta), 0) elements;
 * the three scalars must be known here (the length is the output's shape) and the
 * length is capped (ZN_MAX_MADE_BYTES), so an absurd range is an error. */
static zn_status infer_range(ctx *c, const zn_node *n) {
  const zn_value *v[3] = {in_val(c, n, 0), in_val(c, n, 1), in_val(c, n, 2)};
  static const char *const names[3] = {"start", "limit", "delta"};
  const zn_dtype t = v[0]->dtype;
  if (t != ZN_DTYPE_INT64 && t != ZN_DTYPE_INT32 && t != ZN_DTYPE_FLOAT32)
    return fail_st(ZN_ERR_UNSUPPORTED_OP, n, "%s inputs (int32, int64 and float32 are supported)", zn_dtype_name(t));
  double f[3] = {0, 0, 0};
  int64_t iv[3] = {0, 0, 0};
  for (int k = 0; k < 3; k++) {
    bool flag;
    if (v[k]->dtype != t)
      return fail(n, "%s '%s' is %s, start is %s", names[k], v[k]->name, zn_dtype_name(v[k]->dtype), zn_dtype_name(t));
    if (v[k]->num_dims > 1 || (v[k]->num_dims == 1 && v[k]->dims[0] != 1) || v[k]->batch_axis >= 0)
      return fail(n, "%s '%s' is not a scalar", names[k], v[k]->name);
    if (!range_scalar(c, v[k], &f[k], &iv[k], &flag)) return not_known(c, n, v[k], names[k]);
    if (flag) return fallback(c, n, "%s '%s' is a multiple of the batch size", names[k], v[k]->name);
  }
  int64_t len;
  if (!zn_range_length(t, iv[0], iv[1], iv[2], f[0], f[1], f[2], &len)) {
    if (t == ZN_DTYPE_FLOAT32)
      return fail(n, "start %g, limit %g, delta %g: delta must be non-zero, all finite and the length at most %lld",
                  f[0], f[1], f[2], (long long)ZN_MAX_MADE_BYTES);
    return fail(n, "start %lld, limit %lld, delta %lld: delta is 0 or the length overflows", (long long)iv[0],
                (long long)iv[1], (long long)iv[2]);
  }
  sdim out = {len, false};
  ZN_TRY(check_made_bytes(n, t, 1, &out));
  return store(c, n, 0, t, 1, &out);
}

/* ScatterND: data [r], int64 indices [.., k] (k <= r), updates of shape
 * indices[:-1] + data[k:]; the output is data's. Index values are checked
 * where they are read (folding, the kernel). */
static zn_status infer_scatter_nd(ctx *c, const zn_node *n) {
  sdim x[ZN_MAX_DIMS], ix[ZN_MAX_DIMS], up[ZN_MAX_DIMS];
  char bx[160], bi[160], bu[160];
  const zn_value *vx = in_val(c, n, 0), *vi = in_val(c, n, 1), *vu = in_val(c, n, 2);
  if (vi->dtype != ZN_DTYPE_INT64) return fail(n, "indices '%s' are %s, not int64", vi->name, zn_dtype_name(vi->dtype));
  if (vu->dtype != vx->dtype)
    return fail(n, "updates '%s' are %s, data is %s", vu->name, zn_dtype_name(vu->dtype), zn_dtype_name(vx->dtype));
  const int r = load(vx, x), q = load(vi, ix), ru = load(vu, up);
  if (r < 1 || q < 1) return fail(n, "data %s and indices %s must have rank >= 1", zn_value_shape_str(vx, bx, sizeof bx),
                                  zn_value_shape_str(vi, bi, sizeof bi));
  if (ix[q - 1].n) return fallback(c, n, "the last dim of indices %s is batch-scaled", zn_value_shape_str(vi, bi, sizeof bi));
  const int64_t k = ix[q - 1].v;
  if (k < 1 || k > r)
    return fail(n, "indices %s index %lld axes of data %s (1..%d)", zn_value_shape_str(vi, bi, sizeof bi), (long long)k,
                zn_value_shape_str(vx, bx, sizeof bx), r);
  bool same = ru == q - 1 + r - (int)k;
  for (int i = 0; same && i < ru; i++) {
    const sdim want = i < q - 1 ? ix[i] : x[k + i - (q - 1)];
    if (!sd_eq(up[i], want)) {
      if (up[i].n || want.n) return fallback(c, n, "updates %s match indices and data only when N = 1",
                                              zn_value_shape_str(vu, bu, sizeof bu));
      same = false;
    }
  }
  if (!same)
    return fail(n, "updates %s must be indices[:-1] + data[%lld:] (indices %s, data %s)",
                zn_value_shape_str(vu, bu, sizeof bu), (long long)k, zn_value_shape_str(vi, bi, sizeof bi),
                zn_value_shape_str(vx, bx, sizeof bx));
  return store(c, n, 0, vx->dtype, r, x);
}

/* LayerNormalization: Y has X's shape; scale and bias broadcast to X's
 * normalised part X[axis:]. The axis is resolved to a non-negative one here. */
static zn_status infer_layer_norm(ctx *c, zn_node *n) {
  char bx[160], bs[160];
  const zn_value *vx = in_val(c, n, 0);
  int64_t ax;
  if (!norm_axis(n->attrs.layer_norm.axis, vx->num_dims, &ax))
    return fail(n, "axis %lld out of range for rank %d", (long long)n->attrs.layer_norm.axis, vx->num_dims);
  n->attrs.layer_norm.axis = ax;
  for (int k = 1; k < 3; k++) {
    const zn_value *vs = in_val(c, n, k);
    if (!vs) {
      if (k == 1) return fail(n, "scale (input 1) is missing");
      continue;
    }
    if (vs->dtype != vx->dtype) return fail(n, "input %d dtype differs from X", k);
    const int tail = vx->num_dims - (int)ax;
    bool ok = vs->num_dims <= tail && vs->batch_axis < 0;
    for (int i = 0; ok && i < vs->num_dims; i++) {
      const int xi = vx->num_dims - vs->num_dims + i;
      ok = vs->dims[i] == 1 || (vs->dims[i] == vx->dims[xi] && xi != vx->batch_axis);
    }
    if (!ok)
      return fail(n, "%s %s does not broadcast to the normalised axes %lld.. of X %s", k == 1 ? "scale" : "bias",
                  zn_value_shape_str(vs, bs, sizeof bs), (long long)ax, zn_value_shape_str(vx, bx, sizeof bx));
  }
  ZN_TRY(infer_same(c, n, vx->dtype));
  /* Mean and InvStdDev (stash_type 1: float32): X's dims before axis, 1 for the normalised ones. */
  sdim d[ZN_MAX_DIMS];
  const int r = load(vx, d);
  for (int i = (int)ax; i < r; i++) d[i] = (sdim){1, false};
  for (int k = 1; k < n->num_outputs; k++) ZN_TRY(store(c, n, k, ZN_DTYPE_FLOAT32, r, d));
  return ZN_OK;
}

static zn_status infer_node(ctx *c, zn_node *n) {
  const zn_value *x0 = in_val(c, n, 0);
  switch (n->op) {
  case ZN_OP_CONV: return infer_conv(c, n);
  case ZN_OP_GEMM: return infer_gemm(c, n);
  case ZN_OP_MATMUL: return infer_matmul(c, n);
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: case ZN_OP_SUM: return infer_elementwise(c, n);
  case ZN_OP_RELU: case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SIGMOID: case ZN_OP_HARD_SWISH:
  case ZN_OP_CLIP: case ZN_OP_TANH: case ZN_OP_LRN: case ZN_OP_IDENTITY: case ZN_OP_SQRT: case ZN_OP_ERF:
  case ZN_OP_GELU: case ZN_OP_SWISH:
    return infer_same(c, n, x0->dtype);
  case ZN_OP_POW: return infer_pow(c, n);
  case ZN_OP_LAYER_NORM: return infer_layer_norm(c, n);
  case ZN_OP_SOFTMAX: {
    int64_t ax;
    if (!norm_axis(n->attrs.softmax.axis, x0->num_dims, &ax))
      return fail(n, "axis %lld out of range for rank %d", (long long)n->attrs.softmax.axis, x0->num_dims);
    return infer_same(c, n, x0->dtype);
  }
  case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL: return infer_pool(c, n);
  case ZN_OP_GLOBAL_AVERAGE_POOL: case ZN_OP_GLOBAL_MAX_POOL: return infer_global_pool(c, n);
  case ZN_OP_REDUCE_MEAN: return infer_reduce(c, n);
  case ZN_OP_BATCH_NORM: return infer_batch_norm(c, n);
  case ZN_OP_CONCAT: return infer_concat(c, n);
  case ZN_OP_FLATTEN: return infer_flatten(c, n);
  case ZN_OP_RESHAPE: return infer_reshape(c, n);
  case ZN_OP_TRANSPOSE: return infer_transpose(c, n);
  case ZN_OP_SQUEEZE: return infer_squeeze(c, n);
  case ZN_OP_UNSQUEEZE: return infer_unsqueeze(c, n);
  case ZN_OP_PAD: return infer_pad(c, n);
  case ZN_OP_SHAPE: return infer_shape(c, n);
  case ZN_OP_GATHER: return infer_gather(c, n);
  case ZN_OP_CAST: return infer_same(c, n, n->attrs.cast.to);
  case ZN_OP_SLICE: return infer_slice(c, n);
  case ZN_OP_CONSTANT_OF_SHAPE: return infer_constant_of_shape(c, n);
  case ZN_OP_EQUAL: return infer_equal(c, n);
  case ZN_OP_WHERE: return infer_where(c, n);
  case ZN_OP_EXPAND: return infer_expand(c, n);
  case ZN_OP_MOD: return infer_mod(c, n);
  case ZN_OP_NOT: return infer_not(c, n);
  case ZN_OP_RANGE: return infer_range(c, n);
  case ZN_OP_SCATTER_ND: return infer_scatter_nd(c, n);
  case ZN_OP_COUNT: break;
  }
  return fail_st(ZN_ERR_UNSUPPORTED_OP, n, "no shape rule");
}

/* Evaluate small int (and bool: Equal -> Where) outputs so later
 * Reshape/Slice/Pad/Expand can read them. */
static zn_status eval_known(ctx *c, const zn_node *n) {
  zn_graph *g = c->g;
  const zn_value *out = &g->values[n->outputs[0]];
  if (n->num_outputs != 1 || (out->dtype != ZN_DTYPE_INT64 && out->dtype != ZN_DTYPE_INT32 && out->dtype != ZN_DTYPE_BOOL) ||
      out->batch_axis >= 0)
    return ZN_OK;
  int64_t elems;
  if (!zn_value_num_elements(out, 1, &elems) || elems > MAX_KNOWN_ELEMS) return ZN_OK;
  zn_value views[ZN_MAX_NODE_INPUTS];
  const zn_value *ptrs[ZN_MAX_NODE_INPUTS];
  if (n->num_inputs > ZN_MAX_NODE_INPUTS) return ZN_OK;
  bool symbol = false;
  for (int k = 0; k < n->num_inputs; k++) {
    int v = zn_node_input(n, k);
    ptrs[k] = NULL;
    if (v < 0) continue;
    views[k] = g->values[v];
    symbol = symbol || c->known[v].blocked || c->known[v].batch_elems || views[k].batch_elems ||
             (n->op == ZN_OP_SHAPE && views[k].batch_axis >= 0);
    if (!views[k].data) {
      known *kn = &c->known[v];
      if (kn->blocked) {
        c->known[n->outputs[0]].blocked = true;
        return ZN_OK;
      }
      if (kn->data) {
        views[k].data = kn->data;
        views[k].data_bytes = kn->bytes;
        views[k].batch_elems = kn->batch_elems;
      } else if (!(n->op == ZN_OP_SHAPE && k == 0)) {
        return ZN_OK;
      }
    }
    ptrs[k] = &views[k];
  }
  void *data;
  size_t bytes;
  uint64_t be;
  bool done;
  ZN_TRY(zn_node_eval(n, ptrs, out, &data, &bytes, &be, &done));
  if (!done) {
    c->known[n->outputs[0]].blocked = symbol;
    return ZN_OK;
  }
  known *kn = &c->known[n->outputs[0]];
  zn_free_aligned(kn->data);
  kn->data = data;
  kn->bytes = bytes;
  kn->batch_elems = be;
  return ZN_OK;
}

static zn_status infer_once(ctx *c) {
  zn_graph *g = c->g;
  char buf[160];
  for (int v = 0; v < g->num_values; v++) {
    zn_value *val = &g->values[v];
    if (val->producer >= 0 && !val->data) { val->num_dims = -1; val->batch_axis = -1; }
    if (val->data) {
      size_t es = zn_dtype_size(val->dtype);
      int64_t elems;
      if (!zn_value_num_elements(val, 1, &elems) || (es && (size_t)elems * es != val->data_bytes) ||
          (uint64_t)elems > SIZE_MAX / 16)
        return zn_error(ZN_ERR_INVALID_MODEL, "failed to infer shapes: constant '%s' %s holds %zu bytes", val->name,
                        zn_value_shape_str(val, buf, sizeof buf), val->data_bytes);
    }
  }
  for (int i = 0; i < g->num_nodes; i++) {
    zn_node *n = &g->nodes[i];
    for (int k = 0; k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      if (v == ZN_NO_VALUE) continue;
      if (v < 0 || v >= g->num_values) return fail(n, "input %d has bad id %d", k, v);
      const zn_value *val = &g->values[v];
      if (val->num_dims < 0 || val->num_dims > ZN_MAX_DIMS)
        return fail(n, "input %d '%s' has no shape", k, val->name);
      for (int d = 0; d < val->num_dims; d++)
        if (val->dims[d] < 0) return fail(n, "input %d '%s' has a negative dim", k, val->name);
    }
    if (n->num_inputs < 1 || zn_node_input(n, 0) < 0) return fail(n, "input 0 is missing");
    zn_status st = infer_node(c, n);
    if (st != ZN_OK) return st;
    ZN_TRY(eval_known(c, n));
  }
  for (int i = 0; i < g->num_outputs; i++)
    if (g->values[g->outputs[i]].num_dims < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to infer shapes: output '%s' has no shape",
                      g->values[g->outputs[i]].name);
  return ZN_OK;
}

static void make_static(zn_graph *g) {
  g->static_batch = true;
  for (int v = 0; v < g->num_values; v++) {
    g->values[v].batch_axis = -1;
    g->values[v].batch_elems = 0;  /* c * N with N = 1 is c */
  }
}

static zn_status run_infer(zn_graph *g, bool *need_static, char *why, size_t why_size) {
  ctx c = {.g = g};
  c.known = zn_calloc((size_t)g->num_values + 1, sizeof(known));
  if (!c.known) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to infer shapes: out of memory");
  zn_status st = infer_once(&c);
  for (int v = 0; v < g->num_values; v++) zn_free_aligned(c.known[v].data);
  zn_free(c.known);
  *need_static = c.need_static;
  snprintf(why, why_size, "%s", c.why);
  return st;
}

zn_status zn_graph_infer_shapes(zn_graph *g) {
  for (int i = 0; i < g->num_inputs; i++) {
    const zn_value *v = &g->values[g->inputs[i]];
    if (v->num_dims < 0) return zn_error(ZN_ERR_INVALID_MODEL, "failed to infer shapes: graph input '%s' has no shape", v->name);
    if (v->batch_axis >= v->num_dims)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to infer shapes: graph input '%s' has batch axis %d of rank %d",
                      v->name, v->batch_axis, v->num_dims);
  }
  ZN_TRY(zn_graph_toposort(g));
  if (g->static_batch) make_static(g);
  bool need_static;
  char why[512];
  zn_status st = run_infer(g, &need_static, why, sizeof why);
  if (st == ZN_OK || !need_static) return st;
  zn_log_info("graph '%s': batch fixed to 1: %s", g->name ? g->name : "", why);
  make_static(g);
  st = run_infer(g, &need_static, why, sizeof why);
  if (st != ZN_OK && need_static)
    return zn_error(ZN_ERR_INTERNAL, "failed to infer shapes: static batch still needs the symbol: %s", why);
  return st;
}
