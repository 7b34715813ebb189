/* Element-wise binary ops with numpy broadcasting (Add, Sub, Mul, Div on
 * float32 and int64) and n-ary Sum (float32), plus the broadcast and index
 * helpers other kernels share. The walk is an odometer over all but the last
 * output axis with a plain inner loop, so [N,C,H,W] + [C,1,1] is a scalar
 * broadcast per row and same-shape operands a flat loop. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

bool zn_ref_broadcast_strides(const zn_ref_tensor *in, const zn_ref_tensor *out, int64_t strides[ZN_MAX_DIMS]) {
  const int R = out->num_dims, r = in->num_dims;
  if (r > R) return false;
  int64_t s = 1;
  for (int i = R - 1; i >= 0; i--) {
    const int j = i - (R - r);
    if (j < 0) { strides[i] = 0; continue; }
    if (in->dims[j] == out->dims[i]) strides[i] = in->dims[j] == 1 ? 0 : s;
    else if (in->dims[j] == 1) strides[i] = 0;
    else return false;
    s *= in->dims[j];
  }
  return true;
}

void zn_ref_strided_copy(zn_ref_tensor *out, const void *src, const int64_t src_strides[ZN_MAX_DIMS]) {
  const size_t es = out->elem_bytes;
  const int R = out->num_dims;
  const char *x = src;
  char *y = out->data;
  int64_t idx[ZN_MAX_DIMS] = {0}, off = 0;
  for (int64_t i = 0; i < out->count; i++) {
    memcpy(y + (size_t)i * es, x + (size_t)off * es, es);
    for (int d = R - 1; d >= 0; d--) { /* odometer */
      off += src_strides[d];
      if (++idx[d] < out->dims[d]) break;
      off -= src_strides[d] * out->dims[d];
      idx[d] = 0;
    }
  }
}

int64_t zn_ref_read_index(const zn_ref_tensor *t, int64_t i) {
  return t->dtype == ZN_DTYPE_INT32 ? (int64_t)((const int32_t *)t->data)[i] : ((const int64_t *)t->data)[i];
}

typedef enum binop { ADD, SUB, MUL, DIV } binop;

static void row_f32(binop op, float *o, const float *a, const float *b, int64_t n, int64_t sa, int64_t sb) {
  switch (op) {
  case ADD: for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] + b[i * sb]; break;
  case SUB: for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] - b[i * sb]; break;
  case MUL: for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] * b[i * sb]; break;
  case DIV: for (int64_t i = 0; i < n; i++) o[i] = a[i * sa] / b[i * sb]; break;
  }
}

static bool row_i64(binop op, int64_t *o, const int64_t *a, const int64_t *b, int64_t n, int64_t sa, int64_t sb) {
  for (int64_t i = 0; i < n; i++) {
    const int64_t x = a[i * sa], y = b[i * sb];
    switch (op) {
    case ADD: o[i] = (int64_t)((uint64_t)x + (uint64_t)y); break; /* wraps, no UB */
    case SUB: o[i] = (int64_t)((uint64_t)x - (uint64_t)y); break;
    case MUL: o[i] = (int64_t)((uint64_t)x * (uint64_t)y); break;
    case DIV:
      if (y == 0 || (x == INT64_MIN && y == -1)) return false;
      o[i] = x / y;
      break;
    }
  }
  return true;
}

zn_status zn_ref_binary(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const binop op = node->op == ZN_OP_ADD ? ADD : node->op == ZN_OP_SUB ? SUB : node->op == ZN_OP_MUL ? MUL : DIV;
  const zn_ref_tensor *A = in[0], *B = in[1];
  int64_t sa[ZN_MAX_DIMS], sb[ZN_MAX_DIMS];
  if (!zn_ref_broadcast_strides(A, out, sa) || !zn_ref_broadcast_strides(B, out, sb) || A->dtype != out->dtype ||
      B->dtype != out->dtype)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': operands do not broadcast to the output",
                    zn_op_name(node->op), node->name);
  if (out->count == 0) return ZN_OK;
  const int R = out->num_dims;
  const int64_t inner = R ? out->dims[R - 1] : 1, isa = R ? sa[R - 1] : 0, isb = R ? sb[R - 1] : 0;
  const int64_t rows = out->count / inner;
  int64_t idx[ZN_MAX_DIMS] = {0}, oa = 0, ob = 0;
  for (int64_t r = 0; r < rows; r++) {
    if (out->dtype == ZN_DTYPE_FLOAT32) {
      row_f32(op, (float *)out->data + r * inner, (const float *)A->data + oa, (const float *)B->data + ob, inner,
              isa, isb);
    } else if (!row_i64(op, (int64_t *)out->data + r * inner, (const int64_t *)A->data + oa,
                        (const int64_t *)B->data + ob, inner, isa, isb)) {
      return zn_error(ZN_ERR_INVALID_INPUT, "failed to run Div '%s': integer division by zero or overflow", node->name);
    }
    for (int d = R - 2; d >= 0; d--) { /* odometer over the outer axes */
      oa += sa[d], ob += sb[d];
      if (++idx[d] < out->dims[d]) break;
      oa -= sa[d] * out->dims[d], ob -= sb[d] * out->dims[d];
      idx[d] = 0;
    }
  }
  return ZN_OK;
}

zn_status zn_ref_sum_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  float *o = out->data;
  for (int k = 0; k < node->num_inputs; k++) {
    int64_t s[ZN_MAX_DIMS];
    if (!in[k] || !zn_ref_broadcast_strides(in[k], out, s))
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Sum '%s': input %d does not broadcast to the output",
                      node->name, k);
    const float *a = in[k]->data;
    const int R = out->num_dims;
    int64_t idx[ZN_MAX_DIMS] = {0}, off = 0;
    for (int64_t i = 0; i < out->count; i++) {
      o[i] = k == 0 ? a[off] : o[i] + a[off];
      for (int d = R - 1; d >= 0; d--) {
        off += s[d];
        if (++idx[d] < out->dims[d]) break;
        off -= s[d] * out->dims[d];
        idx[d] = 0;
      }
    }
  }
  return ZN_OK;
}
