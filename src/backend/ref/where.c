/* Equal (bool output; float32, int32, int64, int8, uint8 and bool inputs) and
 * Where (a bool condition picks X's or Y's element, any dtype), both with
 * numpy broadcasting over an odometer of the output's axes. Float Equal is
 * IEEE equality: NaN equals nothing, -0 equals +0. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

/* Advance the output index and each operand's element offset by one. */
static void step(int R, const int64_t *dims, int64_t *idx, int num, int64_t (*st)[ZN_MAX_DIMS], int64_t *off) {
  for (int d = R - 1; d >= 0; d--) {
    for (int k = 0; k < num; k++) off[k] += st[k][d];
    if (++idx[d] < dims[d]) return;
    for (int k = 0; k < num; k++) off[k] -= st[k][d] * dims[d];
    idx[d] = 0;
  }
}

static bool elem_equal(const zn_ref_tensor *a, int64_t i, const zn_ref_tensor *b, int64_t j) {
  switch (a->dtype) {
  case ZN_DTYPE_FLOAT32: return ((const float *)a->data)[i] == ((const float *)b->data)[j];
  case ZN_DTYPE_INT64: return ((const int64_t *)a->data)[i] == ((const int64_t *)b->data)[j];
  case ZN_DTYPE_INT32: return ((const int32_t *)a->data)[i] == ((const int32_t *)b->data)[j];
  case ZN_DTYPE_BOOL: return (((const uint8_t *)a->data)[i] != 0) == (((const uint8_t *)b->data)[j] != 0);
  default: return ((const uint8_t *)a->data)[i] == ((const uint8_t *)b->data)[j]; /* int8, uint8 */
  }
}

bool zn_ref_equal_supported(zn_dtype t) {
  return t == ZN_DTYPE_FLOAT32 || t == ZN_DTYPE_INT64 || t == ZN_DTYPE_INT32 || t == ZN_DTYPE_BOOL ||
         t == ZN_DTYPE_INT8 || t == ZN_DTYPE_UINT8;
}

zn_status zn_ref_equal(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *A = in[0], *B = in[1];
  int64_t st[2][ZN_MAX_DIMS], off[2] = {0, 0}, idx[ZN_MAX_DIMS] = {0};
  if (A->dtype != B->dtype || !zn_ref_equal_supported(A->dtype) || out->dtype != ZN_DTYPE_BOOL ||
      !zn_ref_broadcast_strides(A, out, st[0]) || !zn_ref_broadcast_strides(B, out, st[1]))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Equal '%s': operands differ in dtype or do not broadcast "
                    "to the bool output", node->name);
  uint8_t *o = out->data;
  for (int64_t i = 0; i < out->count; i++) {
    o[i] = elem_equal(A, off[0], B, off[1]);
    step(out->num_dims, out->dims, idx, 2, st, off);
  }
  return ZN_OK;
}

zn_status zn_ref_where(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *C = in[0], *X = in[1], *Y = in[2];
  int64_t st[3][ZN_MAX_DIMS], off[3] = {0, 0, 0}, idx[ZN_MAX_DIMS] = {0};
  const size_t es = out->elem_bytes;
  if (C->dtype != ZN_DTYPE_BOOL || X->elem_bytes != es || Y->elem_bytes != es || !zn_ref_broadcast_strides(C, out, st[0]) ||
      !zn_ref_broadcast_strides(X, out, st[1]) || !zn_ref_broadcast_strides(Y, out, st[2]))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Where '%s': the condition is not bool or the operands do not "
                    "broadcast to the output", node->name);
  const uint8_t *c = C->data;
  const char *x = X->data, *y = Y->data;
  char *o = out->data;
  for (int64_t i = 0; i < out->count; i++) {
    const char *src = c[off[0]] ? x + (size_t)off[1] * es : y + (size_t)off[2] * es;
    memcpy(o + (size_t)i * es, src, es);
    step(out->num_dims, out->dims, idx, 3, st, off);
  }
  return ZN_OK;
}
