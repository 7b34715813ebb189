/* Gather along one axis, any data dtype, int32/int64 indices (negative ones
 * count from the end). An index out of range is bad input data, reported as
 * ZN_ERR_INVALID_INPUT, never read. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_gather(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0], *I = in[1];
  const int R = X->num_dims;
  int64_t axis = node->attrs.axis.axis;
  if (axis < 0) axis += R;
  if (axis < 0 || axis >= R)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Gather '%s': axis out of range for rank %d", node->name, R);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < axis; i++) outer *= X->dims[i];
  for (int i = (int)axis + 1; i < R; i++) inner *= X->dims[i];
  const int64_t n = X->dims[axis];
  if (out->count != outer * I->count * inner || out->elem_bytes != X->elem_bytes)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Gather '%s': output has %lld elements, expected %lld",
                    node->name, (long long)out->count, (long long)(outer * I->count * inner));
  const size_t chunk = (size_t)inner * X->elem_bytes;
  for (int64_t k = 0; k < I->count; k++) {
    const int64_t raw = zn_ref_read_index(I, k), j = raw < 0 ? raw + n : raw;
    if (j < 0 || j >= n)
      return zn_error(ZN_ERR_INVALID_INPUT, "failed to run Gather '%s': index %lld out of range [-%lld, %lld)",
                      node->name, (long long)raw, (long long)n, (long long)n);
  }
  for (int64_t o = 0; o < outer; o++)
    for (int64_t k = 0; k < I->count; k++) {
      const int64_t raw = zn_ref_read_index(I, k), j = raw < 0 ? raw + n : raw;
      memcpy((char *)out->data + (size_t)(o * I->count + k) * chunk, (const char *)X->data + (size_t)(o * n + j) * chunk,
             chunk);
    }
  return ZN_OK;
}
