/* Pad, any dtype: constant (value converted to the dtype), reflect (mirror
 * without repeating the edge) and edge (repeat the edge). Negative pads crop.
 * Pads come from the attributes, or from input 1 (opset 11+) if those are
 * empty; the constant from input 2 when present. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

/* The fill value as bytes of dtype t; false for dtypes we cannot express. */
static bool fill_bytes(zn_dtype t, double v, unsigned char buf[8]) {
  memset(buf, 0, 8);
  switch (t) {
  case ZN_DTYPE_FLOAT32: { float f = (float)v; memcpy(buf, &f, 4); return true; }
  case ZN_DTYPE_FLOAT64: memcpy(buf, &v, 8); return true;
  case ZN_DTYPE_INT64: { int64_t i = (int64_t)v; memcpy(buf, &i, 8); return true; }
  case ZN_DTYPE_INT32: { int32_t i = (int32_t)v; memcpy(buf, &i, 4); return true; }
  case ZN_DTYPE_INT8: buf[0] = (unsigned char)(int8_t)v; return true;
  case ZN_DTYPE_UINT8: case ZN_DTYPE_BOOL: buf[0] = (unsigned char)v; return true;
  default: return v == 0.0; /* zero bits are zero in float16/bfloat16 too */
  }
}

zn_status zn_ref_pad(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0];
  const zn_pad_attrs *at = &node->attrs.pad;
  const int R = X->num_dims;
  int64_t pb[ZN_MAX_DIMS];
  const zn_ref_tensor *P = node->num_inputs > 1 ? in[1] : NULL;
  const zn_ref_tensor *V = node->num_inputs > 2 ? in[2] : NULL;
  bool ok = out->num_dims == R && out->elem_bytes == X->elem_bytes;
  for (int i = 0; ok && i < R; i++) {
    int64_t b, e;
    if (at->num_pads == 2 * R) b = at->pads[i], e = at->pads[R + i];
    else if (P && P->count == 2 * R) b = zn_ref_read_index(P, i), e = zn_ref_read_index(P, R + i);
    else if (at->num_pads == 0 && !P) b = e = 0;
    else { ok = false; break; }
    pb[i] = b;
    ok = X->dims[i] + b + e == out->dims[i] && (at->mode == ZN_PAD_CONSTANT || X->dims[i] > 0 || out->dims[i] == 0);
    if (ok && at->mode == ZN_PAD_REFLECT && X->dims[i] > 1) ok = b < X->dims[i] && e < X->dims[i];
  }
  if (!ok)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Pad '%s': pads do not match the input and output shapes",
                    node->name);
  double value = at->value;
  if (V && V->count == 1) {
    if (V->dtype == ZN_DTYPE_FLOAT32) value = *(const float *)V->data;
    else if (V->dtype == ZN_DTYPE_FLOAT64) value = *(const double *)V->data;
    else if (V->dtype == ZN_DTYPE_INT64 || V->dtype == ZN_DTYPE_INT32) value = (double)zn_ref_read_index(V, 0);
  }
  unsigned char fill[8];
  if (at->mode == ZN_PAD_CONSTANT && !fill_bytes(out->dtype, value, fill))
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to run Pad '%s': constant %g in %s", node->name, value,
                    zn_dtype_name(out->dtype));
  int64_t in_strides[ZN_MAX_DIMS], st = 1;
  for (int i = R - 1; i >= 0; i--) in_strides[i] = st, st *= X->dims[i];
  const size_t eb = X->elem_bytes;
  int64_t idx[ZN_MAX_DIMS] = {0};
  for (int64_t o = 0; o < out->count; o++) {
    int64_t off = 0;
    bool inside = true;
    for (int d = 0; d < R; d++) {
      const int64_t n = X->dims[d];
      int64_t i = idx[d] - pb[d];
      if (i < 0 || i >= n) {
        if (at->mode == ZN_PAD_CONSTANT) { inside = false; break; }
        if (at->mode == ZN_PAD_EDGE || n == 1) i = i < 0 ? 0 : n - 1;
        else i = i < 0 ? -i : 2 * (n - 1) - i; /* reflect; pads < n checked above */
      }
      off += i * in_strides[d];
    }
    char *dst = (char *)out->data + (size_t)o * eb;
    if (inside) memcpy(dst, (const char *)X->data + (size_t)off * eb, eb);
    else memcpy(dst, fill, eb);
    for (int d = R - 1; d >= 0; d--) {
      if (++idx[d] < out->dims[d]) break;
      idx[d] = 0;
    }
  }
  return ZN_OK;
}
