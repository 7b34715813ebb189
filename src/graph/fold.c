/* Constant folding: an evaluator for data-movement ops (Expand included), Shape, Cast, the
 * four arithmetic ops, Mod, Pow/Sqrt/Erf (float32), ConstantOfShape, Equal, Not, Where,
 * Range and ScatterND on constants,
 * and the pass that turns nodes with constant inputs into constants. int64 elements carry the
 * batch symbol (batch_elems bit = "times N") as long as the result stays c * N; c * N + d,
 * (c * N) * (d * N) or c * N == d with c and d of one sign is not representable and the node
 * is left alone. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "graph/graph.h"
#include "graph/passes.h"

static void unravel(int64_t idx, int rank, const int64_t *dims, int64_t *out) {
  for (int i = rank - 1; i >= 0; i--) {
    int64_t d = dims[i] > 0 ? dims[i] : 1;
    out[i] = idx % d;
    idx /= d;
  }
}

static int64_t ravel(int rank, const int64_t *dims, const int64_t *idx) {
  int64_t r = 0;
  for (int i = 0; i < rank; i++) r = r * dims[i] + idx[i];
  return r;
}

/* Element of v that output index oi (rank r) reads under numpy broadcasting. */
static int64_t bcast_src(const zn_value *v, int r, const int64_t *oi) {
  int64_t vi[ZN_MAX_DIMS];
  for (int i = 0; i < v->num_dims; i++) vi[i] = v->dims[i] == 1 ? 0 : oi[r - v->num_dims + i];
  return ravel(v->num_dims, v->dims, vi);
}

static bool elems_of(const zn_value *v, int64_t *out) { return v->batch_axis < 0 && zn_value_num_elements(v, 1, out); }

static bool flag_of(const zn_value *v, int64_t i) {
  return v->dtype == ZN_DTYPE_INT64 && i < 64 && (v->batch_elems >> i & 1);
}

static bool read_int(const zn_value *v, int64_t i, int64_t *out) {
  if (v->dtype == ZN_DTYPE_INT64) { memcpy(out, (const char *)v->data + i * 8, 8); return true; }
  if (v->dtype == ZN_DTYPE_INT32) { int32_t x; memcpy(&x, (const char *)v->data + i * 4, 4); *out = x; return true; }
  return false;
}

/* Source (input, element) of output element o for pure data movement; false = cannot. */
typedef struct move_plan {
  const zn_node *n;
  const zn_value *const *in;
  const zn_value *out;
  int64_t axis;
  int64_t first[ZN_MAX_DIMS], step[ZN_MAX_DIMS];
} move_plan;

static bool move_src(const move_plan *p, int64_t o, int *k_out, int64_t *src_out) {
  const zn_node *n = p->n;
  const zn_value *out = p->out, *x = p->in[0];
  int64_t oi[2 * ZN_MAX_DIMS], si[2 * ZN_MAX_DIMS];
  *k_out = 0;
  switch (n->op) {
  case ZN_OP_RESHAPE: case ZN_OP_FLATTEN: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: case ZN_OP_IDENTITY:
    *src_out = o;
    return true;
  case ZN_OP_TRANSPOSE: {
    unravel(o, out->num_dims, out->dims, oi);
    const zn_transpose_attrs *a = &n->attrs.transpose;
    for (int i = 0; i < out->num_dims; i++) si[a->num_perm ? a->perm[i] : out->num_dims - 1 - i] = oi[i];
    *src_out = ravel(x->num_dims, x->dims, si);
    return true;
  }
  case ZN_OP_CONCAT: {
    unravel(o, out->num_dims, out->dims, oi);
    int64_t pos = oi[p->axis];
    for (int k = 0; k < n->num_inputs; k++) {
      const zn_value *v = p->in[k];
      if (pos < v->dims[p->axis]) {
        oi[p->axis] = pos;
        *k_out = k;
        *src_out = ravel(v->num_dims, v->dims, oi);
        return true;
      }
      pos -= v->dims[p->axis];
    }
    return false;
  }
  case ZN_OP_GATHER: {
    const zn_value *ix = p->in[1];
    unravel(o, out->num_dims, out->dims, oi);
    int q = ix->num_dims, ax = (int)p->axis;
    int64_t ii = ravel(q, ix->dims, oi + ax), idx;
    if (flag_of(ix, ii) || !read_int(ix, ii, &idx)) return false;
    int64_t d = x->dims[ax];
    if (idx < 0) idx += d;
    if (idx < 0 || idx >= d) return false;
    for (int i = 0; i < ax; i++) si[i] = oi[i];
    si[ax] = idx;
    for (int i = ax + 1; i < x->num_dims; i++) si[i] = oi[i - 1 + q];
    *src_out = ravel(x->num_dims, x->dims, si);
    return true;
  }
  case ZN_OP_SLICE: {
    unravel(o, out->num_dims, out->dims, oi);
    for (int i = 0; i < x->num_dims; i++) si[i] = p->first[i] + oi[i] * p->step[i];
    *src_out = ravel(x->num_dims, x->dims, si);
    return true;
  }
  case ZN_OP_EXPAND:
    if (x->num_dims > out->num_dims) return false;
    unravel(o, out->num_dims, out->dims, oi);
    *src_out = bcast_src(x, out->num_dims, oi);
    return true;
  default: return false;
  }
}

static bool plan_slice(move_plan *p) {
  const zn_node *n = p->n;
  const zn_value *x = p->in[0];
  for (int i = 0; i < x->num_dims; i++) { p->first[i] = 0; p->step[i] = 1; }
  const zn_value *vs = p->in[1], *ve = p->in[2];
  const zn_value *va = n->num_inputs > 3 ? p->in[3] : NULL, *vt = n->num_inputs > 4 ? p->in[4] : NULL;
  int64_t cnt;
  if (!elems_of(vs, &cnt) || cnt > ZN_MAX_DIMS) return false;
  for (int64_t i = 0; i < cnt; i++) {
    int64_t s, e, ax = i, st = 1;
    if (!read_int(vs, i, &s) || !read_int(ve, i, &e) || flag_of(vs, i) || flag_of(ve, i)) return false;
    if (va && (!read_int(va, i, &ax) || flag_of(va, i))) return false;
    if (vt && (!read_int(vt, i, &st) || flag_of(vt, i))) return false;
    if (ax < 0) ax += x->num_dims;
    if (ax < 0 || ax >= x->num_dims || st == 0) return false;
    int64_t first, len;
    zn_slice_resolve(x->dims[ax], s, e, st, &first, &len);
    p->first[ax] = first;
    p->step[ax] = st;
  }
  return true;
}

/* int64 arithmetic on (value, flag) pairs: flag = value * N. false = not representable. */
static bool arith_i64(zn_op op, int64_t a, bool fa, int64_t b, bool fb, int64_t *r, bool *fr) {
  switch (op) {
  case ZN_OP_ADD: case ZN_OP_SUB:
    if (fa != fb) {
      /* c * N + 0 stays c * N */
      if ((fa ? b : a) != 0) return false;
    }
    if (op == ZN_OP_ADD ? __builtin_add_overflow(a, b, r) : __builtin_sub_overflow(a, b, r)) return false;
    *fr = (fa || fb) && *r != 0;
    return true;
  case ZN_OP_MUL:
    if (fa && fb) return false;
    if (__builtin_mul_overflow(a, b, r)) return false;
    *fr = (fa || fb) && *r != 0;
    return true;
  case ZN_OP_DIV:
    if (fb || b == 0 || (a == INT64_MIN && b == -1)) return false;
    if (fa && a % b != 0) return false;
    *r = a / b;
    *fr = fa && *r != 0;
    return true;
  default: return false;
  }
}

static zn_status eval_arith(const zn_node *n, const zn_value *const *in, const zn_value *out, void *data,
                            uint64_t *be, bool *done) {
  const zn_value *a = in[0], *b = in[1];
  if (a->dtype != out->dtype || b->dtype != out->dtype) return ZN_OK;
  int64_t elems;
  if (!elems_of(out, &elems)) return ZN_OK;
  int r = out->num_dims;
  int64_t oi[ZN_MAX_DIMS], ai[ZN_MAX_DIMS], bi[ZN_MAX_DIMS];
  for (int64_t o = 0; o < elems; o++) {
    unravel(o, r, out->dims, oi);
    for (int i = 0; i < a->num_dims; i++) { int64_t d = a->dims[i]; ai[i] = d == 1 ? 0 : oi[r - a->num_dims + i]; }
    for (int i = 0; i < b->num_dims; i++) { int64_t d = b->dims[i]; bi[i] = d == 1 ? 0 : oi[r - b->num_dims + i]; }
    int64_t ia = ravel(a->num_dims, a->dims, ai), ib = ravel(b->num_dims, b->dims, bi);
    if (out->dtype == ZN_DTYPE_FLOAT32) {
      float x, y, z;
      memcpy(&x, (const char *)a->data + ia * 4, 4);
      memcpy(&y, (const char *)b->data + ib * 4, 4);
      switch (n->op) {
      case ZN_OP_ADD: z = x + y; break;
      case ZN_OP_SUB: z = x - y; break;
      case ZN_OP_MUL: z = x * y; break;
      default: z = x / y; break;
      }
      memcpy((char *)data + o * 4, &z, 4);
    } else if (out->dtype == ZN_DTYPE_INT64 || out->dtype == ZN_DTYPE_INT32) {
      int64_t x = 0, y = 0, z;
      bool fz;
      if (!read_int(a, ia, &x) || !read_int(b, ib, &y)) return ZN_OK;
      if (!arith_i64(n->op, x, flag_of(a, ia), y, flag_of(b, ib), &z, &fz)) return ZN_OK;
      if (out->dtype == ZN_DTYPE_INT32) {
        if (fz || z < INT32_MIN || z > INT32_MAX) return ZN_OK;
        int32_t z32 = (int32_t)z;
        memcpy((char *)data + o * 4, &z32, 4);
      } else {
        if (fz) {
          if (o >= 64) return ZN_OK;
          *be |= UINT64_C(1) << o;
        }
        memcpy((char *)data + o * 8, &z, 8);
      }
    } else {
      return ZN_OK;
    }
  }
  *done = true;
  return ZN_OK;
}

/* Pow, Sqrt, Erf on float32 constants (Pow's exponent float32 or int). */
static bool eval_float_math(const zn_node *n, const zn_value *const *in, const zn_value *out, float *data) {
  const zn_value *a = in[0], *b = n->op == ZN_OP_POW ? in[1] : NULL;
  int64_t elems;
  if (a->dtype != ZN_DTYPE_FLOAT32 || out->dtype != ZN_DTYPE_FLOAT32 || !elems_of(out, &elems)) return false;
  if (b && b->dtype != ZN_DTYPE_FLOAT32 && b->dtype != ZN_DTYPE_INT64 && b->dtype != ZN_DTYPE_INT32) return false;
  int r = out->num_dims;
  int64_t oi[ZN_MAX_DIMS], ai[ZN_MAX_DIMS], bi[ZN_MAX_DIMS];
  for (int64_t o = 0; o < elems; o++) {
    unravel(o, r, out->dims, oi);
    for (int i = 0; i < a->num_dims; i++) ai[i] = a->dims[i] == 1 ? 0 : oi[r - a->num_dims + i];
    float x, y = 0.0f;
    memcpy(&x, (const char *)a->data + ravel(a->num_dims, a->dims, ai) * 4, 4);
    if (b) {
      for (int i = 0; i < b->num_dims; i++) bi[i] = b->dims[i] == 1 ? 0 : oi[r - b->num_dims + i];
      const int64_t ib = ravel(b->num_dims, b->dims, bi);
      int64_t iv;
      if (b->dtype == ZN_DTYPE_FLOAT32) memcpy(&y, (const char *)b->data + ib * 4, 4);
      else if (read_int(b, ib, &iv) && !flag_of(b, ib)) y = (float)iv;
      else return false;
    }
    data[o] = n->op == ZN_OP_SQRT ? sqrtf(x) : n->op == ZN_OP_ERF ? erff(x) : y == 2.0f ? x * x : powf(x, y);
  }
  return true;
}

/* Element i of a numeric constant: an integer (int*, uint8, bool) or a float32. */
static bool read_num(const zn_value *v, int64_t i, int64_t *iv, float *fv, bool *is_float) {
  const char *p = (const char *)v->data;
  *is_float = false;
  switch (v->dtype) {
  case ZN_DTYPE_FLOAT32: memcpy(fv, p + i * 4, 4); *is_float = true; return true;
  case ZN_DTYPE_INT64: case ZN_DTYPE_INT32: return read_int(v, i, iv);
  case ZN_DTYPE_INT8: *iv = (int8_t)p[i]; return true;
  case ZN_DTYPE_UINT8: case ZN_DTYPE_BOOL: *iv = (uint8_t)p[i]; return true;
  default: return false;
  }
}

/* a == b where either may be c * N (N >= 1, c != 0): c * N == d * N iff c == d;
 * c * N == d is false when d is 0 or of the other sign, else it depends on N. */
static bool equal_i64(int64_t a, bool fa, int64_t b, bool fb, bool *r) {
  if (fa == fb) { *r = a == b; return true; }
  const int64_t c = fa ? a : b, d = fa ? b : a;
  if (d == 0 || (c > 0) != (d > 0)) { *r = false; return true; }
  return false;
}

static bool eval_equal(const zn_value *const *in, const zn_value *out, int64_t elems, uint8_t *data) {
  const zn_value *a = in[0], *b = in[1];
  int64_t oi[ZN_MAX_DIMS];
  if (out->dtype != ZN_DTYPE_BOOL || a->dtype != b->dtype) return false;
  for (int64_t o = 0; o < elems; o++) {
    unravel(o, out->num_dims, out->dims, oi);
    const int64_t ia = bcast_src(a, out->num_dims, oi), ib = bcast_src(b, out->num_dims, oi);
    int64_t x = 0, y = 0;
    float fx = 0.0f, fy = 0.0f;
    bool xf, yf, r;
    if (!read_num(a, ia, &x, &fx, &xf) || !read_num(b, ib, &y, &fy, &yf)) return false;
    if (xf) r = fx == fy;
    else if (!equal_i64(x, flag_of(a, ia), y, flag_of(b, ib), &r)) return false;
    data[o] = r;
  }
  return true;
}

/* Where: X's or Y's element (its batch flag too) by the condition. */
static bool eval_where(const zn_value *const *in, const zn_value *out, int64_t elems, size_t es, void *data,
                       uint64_t *be) {
  const zn_value *cond = in[0];
  int64_t oi[ZN_MAX_DIMS];
  if (cond->dtype != ZN_DTYPE_BOOL || in[1]->dtype != out->dtype || in[2]->dtype != out->dtype) return false;
  for (int64_t o = 0; o < elems; o++) {
    unravel(o, out->num_dims, out->dims, oi);
    const zn_value *v = ((const uint8_t *)cond->data)[bcast_src(cond, out->num_dims, oi)] ? in[1] : in[2];
    const int64_t src = bcast_src(v, out->num_dims, oi);
    memcpy((char *)data + (size_t)o * es, (const char *)v->data + (size_t)src * es, es);
    if (flag_of(v, src)) {
      if (o >= 64) return false;
      *be |= UINT64_C(1) << o;
    }
  }
  return true;
}

/* Integer Mod: C's remainder (fmod) or the divisor's sign (Python's %); b != 0. */
static int64_t mod_i64(int64_t a, int64_t b, bool fmod) {
  if (b == -1) return 0;  /* INT64_MIN % -1 is undefined in C */
  int64_t r = a % b;
  if (!fmod && r != 0 && (r < 0) != (b < 0)) r += b;
  return r;
}

/* Mod on float32 (fmod) or int32/int64 constants. c * N mod d is 0 when d divides c
 * (N an integer); any other result with the symbol is not representable. */
static bool eval_mod(const zn_node *n, const zn_value *const *in, const zn_value *out, int64_t elems, void *data) {
  const zn_value *a = in[0], *b = in[1];
  int64_t oi[ZN_MAX_DIMS];
  if (a->dtype != out->dtype || b->dtype != out->dtype) return false;
  for (int64_t o = 0; o < elems; o++) {
    unravel(o, out->num_dims, out->dims, oi);
    const int64_t ia = bcast_src(a, out->num_dims, oi), ib = bcast_src(b, out->num_dims, oi);
    if (out->dtype == ZN_DTYPE_FLOAT32) {
      float x, y;
      memcpy(&x, (const char *)a->data + ia * 4, 4);
      memcpy(&y, (const char *)b->data + ib * 4, 4);
      const float z = fmodf(x, y);
      memcpy((char *)data + o * 4, &z, 4);
      continue;
    }
    int64_t x, y, z;
    if (!read_int(a, ia, &x) || !read_int(b, ib, &y) || y == 0 || flag_of(b, ib)) return false;
    z = mod_i64(x, y, n->attrs.mod.fmod);
    if (flag_of(a, ia) && z != 0) return false;
    if (out->dtype == ZN_DTYPE_INT64) memcpy((char *)data + o * 8, &z, 8);
    else { const int32_t z32 = (int32_t)z; memcpy((char *)data + o * 4, &z32, 4); }
  }
  return true;
}

/* Range: start + i * delta; the length is the output's (shape inference computed it). */
static bool eval_range(const zn_value *const *in, const zn_value *out, int64_t elems, void *data) {
  for (int k = 0; k < 3; k++)
    if (in[k]->dtype != out->dtype || in[k]->batch_elems) return false;
  if (out->dtype == ZN_DTYPE_FLOAT32) {
    float start, delta;
    memcpy(&start, in[0]->data, 4);
    memcpy(&delta, in[2]->data, 4);
    for (int64_t i = 0; i < elems; i++) ((float *)data)[i] = start + (float)i * delta;
    return true;
  }
  int64_t start, delta;
  if (!read_int(in[0], 0, &start) || !read_int(in[2], 0, &delta)) return false;
  for (int64_t i = 0; i < elems; i++) {
    const int64_t v = start + i * delta;  /* between start and limit: no overflow */
    if (out->dtype == ZN_DTYPE_INT64) ((int64_t *)data)[i] = v;
    else ((int32_t *)data)[i] = (int32_t)v;
  }
  return true;
}

/* ScatterND on constants: data copied, then each update slice written (or
 * added / multiplied in) at its index tuple; an out-of-range index is an error,
 * as it is when the kernel runs. */
static zn_status eval_scatter_nd(const zn_node *n, const zn_value *const *in, const zn_value *out, size_t es,
                                 void *data, uint64_t *be, bool *ok) {
  const zn_value *x = in[0], *ix = in[1], *up = in[2];
  *ok = false;
  if (x->dtype != out->dtype || up->dtype != out->dtype || ix->dtype != ZN_DTYPE_INT64 || ix->batch_elems) return ZN_OK;
  const zn_scatter_reduction red = n->attrs.scatter.reduction;
  if (red != ZN_SCATTER_NONE && (out->dtype != ZN_DTYPE_FLOAT32 || x->batch_elems || up->batch_elems)) return ZN_OK;
  const int q = ix->num_dims, r = x->num_dims;
  const int64_t k = ix->dims[q - 1];
  int64_t slice = 1, num = 1, elems;
  for (int i = (int)k; i < r; i++) slice *= x->dims[i];
  for (int i = 0; i < q - 1; i++) num *= ix->dims[i];
  if (!elems_of(x, &elems)) return ZN_OK;
  memcpy(data, x->data, (size_t)elems * es);
  *be = x->batch_elems;
  for (int64_t j = 0; j < num; j++) {
    int64_t off = 0;
    for (int64_t t = 0; t < k; t++) {
      int64_t v;
      memcpy(&v, (const char *)ix->data + (size_t)(j * k + t) * 8, 8);
      const int64_t d = x->dims[t];
      if (v < -d || v >= d)
        return zn_error(ZN_ERR_INVALID_MODEL, "failed to fold node '%s' (ScatterND): index %lld on axis %lld is out "
                        "of range for dim %lld", n->name, (long long)v, (long long)t, (long long)d);
      off = off * d + (v < 0 ? v + d : v);
    }
    off *= slice;
    for (int64_t e = 0; e < slice; e++) {
      const int64_t o = off + e, u = j * slice + e;
      if (red == ZN_SCATTER_NONE) {
        memcpy((char *)data + (size_t)o * es, (const char *)up->data + (size_t)u * es, es);
        const bool f = flag_of(up, u);
        if (o < 64) *be = (*be & ~(UINT64_C(1) << o)) | ((uint64_t)f << o);
        else if (f) return ZN_OK;
      } else {
        float *dst = (float *)data + o;
        const float uv = ((const float *)up->data)[u];
        *dst = red == ZN_SCATTER_ADD ? *dst + uv : *dst * uv;
      }
    }
  }
  *ok = true;
  return ZN_OK;
}

static bool cast_elem(const zn_value *x, int64_t i, zn_dtype to, void *dst) {
  double d = 0.0;
  int64_t iv = 0;
  float f = 0.0f;
  bool is_float;
  if (!read_num(x, i, &iv, &f, &is_float)) return false;
  const bool is_int = !is_float;
  d = f;
  switch (to) {
  case ZN_DTYPE_BOOL: {
    const uint8_t b = is_int ? iv != 0 : d != 0.0;  /* NaN is true, as C's (bool) */
    memcpy(dst, &b, 1);
    return true;
  }
  case ZN_DTYPE_FLOAT32: {
    float f = is_int ? (float)iv : (float)d;
    memcpy(dst, &f, 4);
    return true;
  }
  case ZN_DTYPE_INT64: case ZN_DTYPE_INT32: {
    if (!is_int) {
      if (!(d > -9.2e18 && d < 9.2e18)) return false;
      iv = (int64_t)d;
    }
    if (to == ZN_DTYPE_INT64) { memcpy(dst, &iv, 8); return true; }
    if (iv < INT32_MIN || iv > INT32_MAX) return false;
    int32_t v32 = (int32_t)iv;
    memcpy(dst, &v32, 4);
    return true;
  }
  default: return false;
  }
}

zn_status zn_node_eval(const zn_node *n, const zn_value *const *inputs, const zn_value *out, void **data_out,
                       size_t *bytes_out, uint64_t *batch_elems_out, bool *done) {
  *done = false;
  *data_out = NULL;
  *bytes_out = 0;
  *batch_elems_out = 0;
  int64_t elems;
  size_t es = zn_dtype_size(out->dtype);
  if (n->num_outputs != 1 || !es || !elems_of(out, &elems)) return ZN_OK;
  for (int k = 0; k < n->num_inputs; k++) {
    const zn_value *v = inputs[k];
    if (!v) continue;
    if (n->op == ZN_OP_SHAPE) break;
    int64_t ve;
    size_t ves = zn_dtype_size(v->dtype);
    if (!v->data || !ves || !elems_of(v, &ve) || (size_t)ve * ves != v->data_bytes) return ZN_OK;
  }
  if (n->num_inputs < 1 || !inputs[0]) return ZN_OK;
  size_t bytes;
  if (!zn_size_mul((size_t)elems, es, &bytes)) return ZN_OK;
  void *data = zn_alloc_aligned(bytes);
  if (!data) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to fold node '%s': %zu bytes", n->name, bytes);
  uint64_t be = 0;
  bool ok = false;
  const zn_value *x = inputs[0];
  switch (n->op) {
  case ZN_OP_SHAPE: {
    if (out->dtype != ZN_DTYPE_INT64 || x->num_dims < 0) break;
    int64_t r = x->num_dims, start = n->attrs.shape.start;
    if (start < 0) start += r;
    start = ZN_MIN(ZN_MAX(start, 0), r);
    for (int64_t i = 0; i < elems; i++) {
      int64_t d = x->dims[start + i];
      memcpy((char *)data + i * 8, &d, 8);
      if (start + i == x->batch_axis) be |= UINT64_C(1) << i;
    }
    ok = elems <= 64 || x->batch_axis < 0;
    break;
  }
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: {
    zn_status st = eval_arith(n, inputs, out, data, &be, &ok);
    if (st != ZN_OK) { zn_free_aligned(data); return st; }
    break;
  }
  case ZN_OP_POW: case ZN_OP_SQRT: case ZN_OP_ERF:
    ok = eval_float_math(n, inputs, out, data);
    break;
  case ZN_OP_CONSTANT_OF_SHAPE:
    /* the shape is the output's (inference read it); only the fill is left */
    ok = out->dtype == n->attrs.fill.dtype && es <= sizeof n->attrs.fill.value;
    for (int64_t i = 0; ok && i < elems; i++) memcpy((char *)data + (size_t)i * es, n->attrs.fill.value, es);
    break;
  case ZN_OP_EQUAL:
    ok = n->num_inputs == 2 && inputs[1] && eval_equal(inputs, out, elems, data);
    break;
  case ZN_OP_WHERE:
    ok = n->num_inputs == 3 && inputs[1] && inputs[2] && eval_where(inputs, out, elems, es, data, &be);
    break;
  case ZN_OP_MOD:
    ok = n->num_inputs == 2 && inputs[1] && eval_mod(n, inputs, out, elems, data);
    break;
  case ZN_OP_NOT:
    ok = x->dtype == ZN_DTYPE_BOOL && out->dtype == ZN_DTYPE_BOOL;
    for (int64_t i = 0; ok && i < elems; i++) ((uint8_t *)data)[i] = !((const uint8_t *)x->data)[i];
    break;
  case ZN_OP_RANGE:
    ok = n->num_inputs == 3 && inputs[1] && inputs[2] && eval_range(inputs, out, elems, data);
    break;
  case ZN_OP_SCATTER_ND: {
    if (n->num_inputs != 3 || !inputs[1] || !inputs[2]) break;
    zn_status st = eval_scatter_nd(n, inputs, out, es, data, &be, &ok);
    if (st != ZN_OK) { zn_free_aligned(data); return st; }
    break;
  }
  case ZN_OP_CAST: {
    ok = true;
    for (int64_t i = 0; i < elems && ok; i++) {
      if (flag_of(x, i)) {
        ok = out->dtype == ZN_DTYPE_INT64 && i < 64;
        be |= UINT64_C(1) << (i & 63);
      }
      ok = ok && cast_elem(x, i, out->dtype, (char *)data + (size_t)i * es);
    }
    break;
  }
  case ZN_OP_RESHAPE: case ZN_OP_FLATTEN: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: case ZN_OP_IDENTITY:
  case ZN_OP_TRANSPOSE: case ZN_OP_CONCAT: case ZN_OP_GATHER: case ZN_OP_SLICE: case ZN_OP_EXPAND: {
    move_plan p = {.n = n, .in = inputs, .out = out};
    if (n->op == ZN_OP_CONCAT) {
      p.axis = n->attrs.axis.axis < 0 ? n->attrs.axis.axis + out->num_dims : n->attrs.axis.axis;
      for (int k = 0; k < n->num_inputs; k++)
        if (!inputs[k] || inputs[k]->dtype != out->dtype) goto done;
    } else if (n->op == ZN_OP_GATHER) {
      p.axis = n->attrs.axis.axis < 0 ? n->attrs.axis.axis + x->num_dims : n->attrs.axis.axis;
    } else if (n->op == ZN_OP_SLICE && !plan_slice(&p)) {
      break;
    }
    if (x->dtype != out->dtype) break;
    ok = true;
    for (int64_t o = 0; o < elems && ok; o++) {
      int k;
      int64_t src;
      if (!move_src(&p, o, &k, &src)) { ok = false; break; }
      memcpy((char *)data + (size_t)o * es, (const char *)inputs[k]->data + (size_t)src * es, es);
      if (flag_of(inputs[k], src)) {
        if (o >= 64) ok = false;
        else be |= UINT64_C(1) << o;
      }
    }
    break;
  }
  default: break;
  }
done:
  if (!ok) {
    zn_free_aligned(data);
    return ZN_OK;
  }
  *data_out = data;
  *bytes_out = bytes;
  *batch_elems_out = out->dtype == ZN_DTYPE_INT64 ? be : 0;
  *done = true;
  return ZN_OK;
}

static bool foldable_op(zn_op op) {
  switch (op) {
  case ZN_OP_RESHAPE: case ZN_OP_FLATTEN: case ZN_OP_TRANSPOSE: case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE:
  case ZN_OP_CONCAT: case ZN_OP_GATHER: case ZN_OP_SLICE: case ZN_OP_IDENTITY: case ZN_OP_CAST: case ZN_OP_SHAPE:
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: case ZN_OP_POW: case ZN_OP_SQRT: case ZN_OP_ERF:
  case ZN_OP_CONSTANT_OF_SHAPE: case ZN_OP_EQUAL: case ZN_OP_WHERE: case ZN_OP_EXPAND: case ZN_OP_MOD: case ZN_OP_NOT:
  case ZN_OP_RANGE: case ZN_OP_SCATTER_ND:
    return true;
  default: return false;
  }
}

/* ConstantOfShape, Expand and Range make big tensors from small inputs: folding one
 * larger than this would store the copy in the model (and in an exported file)
 * instead of filling it at run time. */
#define FOLD_MAX_MADE_BYTES ((int64_t)1 << 20)

static bool fold_too_big(const zn_node *n, const zn_value *out) {
  int64_t elems;
  if (n->op != ZN_OP_CONSTANT_OF_SHAPE && n->op != ZN_OP_EXPAND && n->op != ZN_OP_RANGE) return false;
  return !zn_value_num_elements(out, 1, &elems) || elems > FOLD_MAX_MADE_BYTES / (int64_t)ZN_MAX(zn_dtype_size(out->dtype), 1);
}

zn_status zn_graph_fold_constants(zn_graph *g) {
  if (g->num_nodes == 0) return ZN_OK;
  bool *dead = zn_calloc((size_t)g->num_nodes, sizeof(bool));
  const zn_value **ins = NULL;
  int cap_ins = 0;
  zn_status st = ZN_OK;
  int folded = 0;
  if (!dead) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to fold constants: out of memory");
  for (int i = 0; i < g->num_nodes; i++) {
    zn_node *n = &g->nodes[i];
    if (!foldable_op(n->op) || n->num_outputs != 1) continue;
    zn_value *out = &g->values[n->outputs[0]];
    if (out->num_dims < 0 || out->batch_axis >= 0 || out->is_output || fold_too_big(n, out)) continue;
    if (n->num_inputs > cap_ins) {
      const zn_value **p = zn_realloc(ins, (size_t)n->num_inputs * sizeof(*p));
      if (!p) { st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to fold constants: out of memory"); break; }
      ins = p;
      cap_ins = n->num_inputs;
    }
    bool all_const = true;
    for (int k = 0; k < n->num_inputs; k++) {
      int v = zn_node_input(n, k);
      ins[k] = v >= 0 ? &g->values[v] : NULL;
      if (v >= 0 && !g->values[v].data && !(n->op == ZN_OP_SHAPE && g->values[v].num_dims >= 0)) all_const = false;
    }
    if (!all_const) continue;
    void *data;
    size_t bytes;
    uint64_t be;
    bool done;
    st = zn_node_eval(n, (const zn_value *const *)ins, out, &data, &bytes, &be, &done);
    if (st != ZN_OK) break;
    if (!done) continue;
    out->data = data;
    out->data_bytes = bytes;
    out->batch_elems = be;
    out->producer = -1;
    dead[i] = true;
    folded++;
  }
  zn_free(ins);
  if (st == ZN_OK && folded) st = zn_graph_remove_nodes(g, dead);
  zn_free(dead);
  return st;
}
