/* Range: start, start + delta, ... below limit (above it for a negative delta),
 * int32, int64 or float32. The output's length was fixed by shape inference from
 * the scalars it read; the kernel recomputes it from the scalars it is given and
 * refuses a mismatch rather than write past the output. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

static double read_scalar(const zn_ref_tensor *t, int64_t *iv) {
  if (t->dtype == ZN_DTYPE_FLOAT32) { *iv = 0; return ((const float *)t->data)[0]; }
  *iv = zn_ref_read_index(t, 0);
  return 0.0;
}

zn_status zn_ref_range(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_dtype t = out->dtype;
  for (int k = 0; k < 3; k++)
    if (in[k]->dtype != t || in[k]->count != 1)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Range '%s': input %d must be a scalar of the output's dtype",
                      node->name, k);
  if (t != ZN_DTYPE_FLOAT32 && t != ZN_DTYPE_INT64 && t != ZN_DTYPE_INT32)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Range '%s': dtype %s", node->name, zn_dtype_name(t));
  int64_t s, l, d, len;
  const double fs = read_scalar(in[0], &s), fl = read_scalar(in[1], &l), fd = read_scalar(in[2], &d);
  if (!zn_range_length(t, s, l, d, fs, fl, fd, &len) || len != out->count)
    return zn_error(ZN_ERR_INVALID_INPUT, "failed to run Range '%s': its inputs give %lld elements, the output has %lld "
                    "(or delta is 0)", node->name, (long long)len, (long long)out->count);
  for (int64_t i = 0; i < len; i++) {
    if (t == ZN_DTYPE_FLOAT32) ((float *)out->data)[i] = (float)fs + (float)i * (float)fd;
    else if (t == ZN_DTYPE_INT64) ((int64_t *)out->data)[i] = s + i * d;  /* between start and limit */
    else ((int32_t *)out->data)[i] = (int32_t)(s + i * d);
  }
  return ZN_OK;
}
