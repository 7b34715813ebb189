/* Ops that only change the shape, not the bytes (Reshape, Flatten, Squeeze,
 * Unsqueeze, Identity: a copy, the output shape comes from shape inference),
 * and Shape (the input's dims at this batch size as int64). */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_copy(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const size_t bytes = (size_t)out->count * out->elem_bytes;
  if (in[0]->count != out->count || in[0]->elem_bytes != out->elem_bytes)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': %lld elements in, %lld out", zn_op_name(node->op),
                    node->name, (long long)in[0]->count, (long long)out->count);
  if (bytes && out->data != in[0]->data) memcpy(out->data, in[0]->data, bytes);
  return ZN_OK;
}

zn_status zn_ref_shape(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_shape_attrs *at = &node->attrs.shape;
  const int64_t R = in[0]->num_dims;
  int64_t start = at->start, end = at->has_end ? at->end : R;
  if (start < 0) start += R;
  if (end < 0) end += R;
  start = ZN_MIN(ZN_MAX(start, 0), R);
  end = ZN_MIN(ZN_MAX(end, 0), R);
  const int64_t n = end > start ? end - start : 0;
  if (out->dtype != ZN_DTYPE_INT64 || out->count != n)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Shape '%s': output must be int64[%lld]", node->name,
                    (long long)n);
  int64_t *o = out->data;
  for (int64_t i = 0; i < n; i++) o[i] = in[0]->dims[start + i];
  return ZN_OK;
}
