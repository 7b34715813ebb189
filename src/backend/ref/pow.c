/* Pow, float32 base: the exponent is float32, int32 or int64 and broadcasts
 * with numpy rules. powf throughout, except a scalar exponent of exactly 2
 * (the square in exporters' LayerNorm), which is x * x: the correctly rounded
 * square, as powf gives it, without the call. */
#include <math.h>

#include "backend/ref/ref.h"
#include "core/status.h"

static float exponent_at(const zn_ref_tensor *t, int64_t i) {
  switch (t->dtype) {
  case ZN_DTYPE_FLOAT32: return ((const float *)t->data)[i];
  case ZN_DTYPE_INT32: return (float)((const int32_t *)t->data)[i];
  default: return (float)((const int64_t *)t->data)[i];
  }
}

zn_status zn_ref_pow_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0], *Y = in[1];
  int64_t sx[ZN_MAX_DIMS], sy[ZN_MAX_DIMS];
  const bool y_ok = Y->dtype == ZN_DTYPE_FLOAT32 || Y->dtype == ZN_DTYPE_INT32 || Y->dtype == ZN_DTYPE_INT64;
  if (X->dtype != ZN_DTYPE_FLOAT32 || out->dtype != ZN_DTYPE_FLOAT32 || !y_ok)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Pow '%s': base must be float32 and the exponent float32, "
                    "int32 or int64", node->name);
  if (!zn_ref_broadcast_strides(X, out, sx) || !zn_ref_broadcast_strides(Y, out, sy))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Pow '%s': operands do not broadcast to the output",
                    node->name);
  float *o = out->data;
  const float *x = X->data;
  if (Y->count == 1 && X->count == out->count) {
    const float e = exponent_at(Y, 0);
    if (e == 2.0f)
      for (int64_t i = 0; i < out->count; i++) o[i] = x[i] * x[i];
    else
      for (int64_t i = 0; i < out->count; i++) o[i] = powf(x[i], e);
    return ZN_OK;
  }
  const int R = out->num_dims;
  int64_t idx[ZN_MAX_DIMS] = {0}, ox = 0, oy = 0;
  for (int64_t i = 0; i < out->count; i++) {
    o[i] = powf(x[ox], exponent_at(Y, oy));
    for (int d = R - 1; d >= 0; d--) {
      ox += sx[d], oy += sy[d];
      if (++idx[d] < out->dims[d]) break;
      ox -= sx[d] * out->dims[d], oy -= sy[d] * out->dims[d];
      idx[d] = 0;
    }
  }
  return ZN_OK;
}
