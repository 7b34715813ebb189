/* Concat along one axis, any dtype (bytes per element): for each outer index,
 * each input contributes one contiguous chunk of the output row. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_concat(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const int R = out->num_dims;
  int64_t axis = node->attrs.axis.axis;
  if (axis < 0) axis += R;
  if (axis < 0 || axis >= R)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Concat '%s': axis %lld out of range for rank %d", node->name,
                    (long long)node->attrs.axis.axis, R);
  int64_t outer = 1, inner = 1, total = 0;
  for (int i = 0; i < axis; i++) outer *= out->dims[i];
  for (int i = (int)axis + 1; i < R; i++) inner *= out->dims[i];
  for (int k = 0; k < node->num_inputs; k++) {
    const zn_ref_tensor *t = in[k];
    bool ok = t && t->num_dims == R && t->elem_bytes == out->elem_bytes;
    for (int i = 0; ok && i < R; i++) ok = i == axis || t->dims[i] == out->dims[i];
    if (!ok)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Concat '%s': input %d does not match the output shape",
                      node->name, k);
    total += t->dims[axis];
  }
  if (total != out->dims[axis])
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Concat '%s': inputs sum to %lld along axis %lld, output has %lld",
                    node->name, (long long)total, (long long)axis, (long long)out->dims[axis]);
  const size_t eb = out->elem_bytes, row = (size_t)(out->dims[axis] * inner) * eb;
  size_t at = 0;
  for (int k = 0; k < node->num_inputs; k++) {
    const size_t chunk = (size_t)(in[k]->dims[axis] * inner) * eb;
    if (chunk == 0) continue;  /* an empty input (its buffer may be NULL) adds nothing */
    for (int64_t o = 0; o < outer; o++)
      memcpy((char *)out->data + (size_t)o * row + at, (const char *)in[k]->data + (size_t)o * chunk, chunk);
    at += chunk;
  }
  return ZN_OK;
}
