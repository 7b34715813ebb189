/* Mod with numpy broadcasting: integers (int8, uint8, int32, int64) with
 * fmod = 0 take the divisor's sign (Python's %), with fmod = 1 the dividend's
 * (C's %); float32 is C's fmodf (ONNX requires fmod = 1 for floats). An integer
 * division by zero is an error, not a trap. */
#include <math.h>
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

bool zn_ref_mod_supported(zn_dtype t, bool fmod) {
  if (t == ZN_DTYPE_FLOAT32) return fmod;
  return t == ZN_DTYPE_INT64 || t == ZN_DTYPE_INT32 || t == ZN_DTYPE_INT8 || t == ZN_DTYPE_UINT8;
}

static int64_t read_int(const zn_ref_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ZN_DTYPE_INT64: return ((const int64_t *)t->data)[i];
  case ZN_DTYPE_INT32: return ((const int32_t *)t->data)[i];
  case ZN_DTYPE_INT8: return ((const int8_t *)t->data)[i];
  default: return ((const uint8_t *)t->data)[i];
  }
}

static void write_int(zn_ref_tensor *t, int64_t i, int64_t v) {
  switch (t->dtype) {
  case ZN_DTYPE_INT64: ((int64_t *)t->data)[i] = v; break;
  case ZN_DTYPE_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
  case ZN_DTYPE_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
  default: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
  }
}

zn_status zn_ref_mod(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *A = in[0], *B = in[1];
  const bool fmod = node->attrs.mod.fmod;
  int64_t sa[ZN_MAX_DIMS], sb[ZN_MAX_DIMS], idx[ZN_MAX_DIMS] = {0}, oa = 0, ob = 0;
  if (A->dtype != out->dtype || B->dtype != out->dtype || !zn_ref_mod_supported(out->dtype, fmod) ||
      !zn_ref_broadcast_strides(A, out, sa) || !zn_ref_broadcast_strides(B, out, sb))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Mod '%s': operands differ in dtype, the dtype is not "
                    "supported or they do not broadcast to the output", node->name);
  const int R = out->num_dims;
  for (int64_t i = 0; i < out->count; i++) {
    if (out->dtype == ZN_DTYPE_FLOAT32) {
      ((float *)out->data)[i] = fmodf(((const float *)A->data)[oa], ((const float *)B->data)[ob]);
    } else {
      const int64_t x = read_int(A, oa), y = read_int(B, ob);
      if (y == 0)
        return zn_error(ZN_ERR_INVALID_INPUT, "failed to run Mod '%s': integer division by zero at element %lld",
                        node->name, (long long)i);
      int64_t r = y == -1 ? 0 : x % y;  /* INT64_MIN % -1 is undefined in C */
      if (!fmod && r != 0 && (r < 0) != (y < 0)) r += y;
      write_int(out, i, r);
    }
    for (int d = R - 1; d >= 0; d--) { /* odometer */
      oa += sa[d], ob += sb[d];
      if (++idx[d] < out->dims[d]) break;
      oa -= sa[d] * out->dims[d], ob -= sb[d] * out->dims[d];
      idx[d] = 0;
    }
  }
  return ZN_OK;
}
