/* Cast between float32/float64 and the integer and bool types. Integers and
 * bools convert through int64, anything involving a float through double;
 * float -> integer truncates toward zero and saturates (NaN -> 0), so no input
 * makes the conversion undefined behaviour. */
#include <math.h>
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

static bool is_int(zn_dtype t) {
  return t == ZN_DTYPE_INT64 || t == ZN_DTYPE_INT32 || t == ZN_DTYPE_INT8 || t == ZN_DTYPE_UINT8 ||
         t == ZN_DTYPE_BOOL;
}
static bool is_float(zn_dtype t) { return t == ZN_DTYPE_FLOAT32 || t == ZN_DTYPE_FLOAT64; }

bool zn_ref_cast_supported(zn_dtype from, zn_dtype to) {
  return (is_int(from) || is_float(from)) && (is_int(to) || is_float(to));
}

static int64_t load_i64(zn_dtype t, const void *p, int64_t i) {
  switch (t) {
  case ZN_DTYPE_INT64: return ((const int64_t *)p)[i];
  case ZN_DTYPE_INT32: return ((const int32_t *)p)[i];
  case ZN_DTYPE_INT8: return ((const int8_t *)p)[i];
  case ZN_DTYPE_UINT8: return ((const uint8_t *)p)[i];
  case ZN_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
  default: return 0;
  }
}

static double load_f64(zn_dtype t, const void *p, int64_t i) {
  if (t == ZN_DTYPE_FLOAT32) return ((const float *)p)[i];
  if (t == ZN_DTYPE_FLOAT64) return ((const double *)p)[i];
  return (double)load_i64(t, p, i);
}

static int64_t saturate(double v, double lo, double hi) {
  if (isnan(v)) return 0;
  if (v <= lo) return (int64_t)lo;
  if (v >= hi) return (int64_t)hi;
  return (int64_t)v;
}

static void store_i64(zn_dtype t, void *p, int64_t i, int64_t v) {
  switch (t) {
  case ZN_DTYPE_INT64: ((int64_t *)p)[i] = v; break;
  case ZN_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)(uint32_t)(uint64_t)v; break; /* wraps, like numpy */
  case ZN_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)(uint8_t)(uint64_t)v; break;
  case ZN_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)(uint64_t)v; break;
  case ZN_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
  case ZN_DTYPE_FLOAT32: ((float *)p)[i] = (float)v; break;
  case ZN_DTYPE_FLOAT64: ((double *)p)[i] = (double)v; break;
  default: break;
  }
}

static void store_f64(zn_dtype t, void *p, int64_t i, double v) {
  switch (t) {
  case ZN_DTYPE_FLOAT32: ((float *)p)[i] = (float)v; break;
  case ZN_DTYPE_FLOAT64: ((double *)p)[i] = v; break;
  case ZN_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0.0; break; /* NaN -> true, as numpy */
  case ZN_DTYPE_INT64: ((int64_t *)p)[i] = saturate(v, -9223372036854775808.0, 9223372036854774784.0); break;
  case ZN_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)saturate(v, -2147483648.0, 2147483647.0); break;
  case ZN_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)saturate(v, -128.0, 127.0); break;
  case ZN_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)saturate(v, 0.0, 255.0); break;
  default: break;
  }
}

zn_status zn_ref_cast(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0];
  if (!zn_ref_cast_supported(X->dtype, out->dtype) || X->count != out->count)
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to run Cast '%s': %s -> %s not supported", node->name,
                    zn_dtype_name(X->dtype), zn_dtype_name(out->dtype));
  if (X->dtype == out->dtype) {
    if (out->data != X->data) memcpy(out->data, X->data, (size_t)X->count * X->elem_bytes);
  } else if (is_int(X->dtype)) {
    for (int64_t i = 0; i < X->count; i++) store_i64(out->dtype, out->data, i, load_i64(X->dtype, X->data, i));
  } else {
    for (int64_t i = 0; i < X->count; i++) store_f64(out->dtype, out->data, i, load_f64(X->dtype, X->data, i));
  }
  return ZN_OK;
}
