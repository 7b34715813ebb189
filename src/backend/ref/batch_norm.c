/* BatchNormalization (inference), float32, channel axis 1:
 * y = scale * (x - mean) / sqrt(var + epsilon) + bias. */
#include <math.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_batch_norm_nchw_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                     void *scratch) {
  const zn_ref_tensor *X = in[0];
  const int64_t C = X->num_dims >= 2 ? X->dims[1] : 0;
  for (int k = 1; k < 5; k++)
    if (!in[k] || in[k]->count != C)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run BatchNormalization '%s': input %d must have %lld elements",
                      node->name, k, (long long)C);
  if (C == 0 || out->count != X->count)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run BatchNormalization '%s': input must be [N,C,...]", node->name);
  const float *scale = in[1]->data, *bias = in[2]->data, *mean = in[3]->data, *var = in[4]->data;
  const float eps = node->attrs.batch_norm.epsilon;
  const int64_t N = X->dims[0], plane = X->count / (N * C);
  const float *x = X->data;
  float *y = out->data;
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++) {
      const float a = scale[c] / sqrtf(var[c] + eps), b = bias[c] - mean[c] * a;
      const float *xc = x + (n * C + c) * plane;
      float *yc = y + (n * C + c) * plane;
      for (int64_t i = 0; i < plane; i++) yc[i] = xc[i] * a + b;
    }
  return ZN_OK;
}
