/* Softmax, float32: opset >= 13 normalises along one axis; legacy_2d (opset
 * < 13) coerces the input to 2-D at axis and normalises each row of the
 * flattened inner block. The max is subtracted first, so large logits do not
 * overflow. */
#include <math.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_softmax_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                             void *scratch) {
  const zn_ref_tensor *X = in[0];
  const int R = X->num_dims;
  int64_t axis = node->attrs.softmax.axis;
  if (axis < 0) axis += R;
  if (out->count != X->count || (R > 0 && (axis < 0 || axis >= R)))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Softmax '%s': axis %lld out of range for rank %d",
                    node->name, (long long)node->attrs.softmax.axis, R);
  int64_t outer = 1, len = 1, inner = 1;
  for (int i = 0; i < R; i++) {
    if (i < axis) outer *= X->dims[i];
    else if (i == axis) len *= X->dims[i];
    else inner *= X->dims[i];
  }
  if (node->attrs.softmax.legacy_2d) len *= inner, inner = 1;
  const float *x = X->data;
  float *y = out->data;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      const float *xr = x + o * len * inner + i;
      float *yr = y + o * len * inner + i;
      float mx = -INFINITY;
      for (int64_t k = 0; k < len; k++) mx = fmaxf(mx, xr[k * inner]);
      float sum = 0.0f;
      for (int64_t k = 0; k < len; k++) {
        const float e = expf(xr[k * inner] - mx);
        yr[k * inner] = e;
        sum += e;
      }
      const float inv = 1.0f / sum;
      for (int64_t k = 0; k < len; k++) yr[k * inner] *= inv;
    }
  return ZN_OK;
}
