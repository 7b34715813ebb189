/* LRN across channels, as ONNX defines it:
 * y = x / (bias + alpha / size * sum of x^2 over channels
 *          [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta. */
#include <math.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_lrn_nchw_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                              void *scratch) {
  const zn_ref_tensor *X = in[0];
  const zn_lrn_attrs *at = &node->attrs.lrn;
  if (X->num_dims < 2 || out->count != X->count || at->size < 1)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run LRN '%s': input must be [N,C,...] and size >= 1",
                    node->name);
  const int64_t N = X->dims[0], C = X->dims[1], plane = N * C != 0 ? X->count / (N * C) : 0;
  const int64_t lo = (at->size - 1) / 2, hi = at->size - 1 - lo;
  const float *x = X->data;
  float *y = out->data;
  const float k = at->alpha / (float)at->size;
  for (int64_t n = 0; n < N; n++)
    for (int64_t c = 0; c < C; c++) {
      const int64_t c0 = ZN_MAX(0, c - lo), c1 = ZN_MIN(C - 1, c + hi);
      for (int64_t i = 0; i < plane; i++) {
        float sq = 0.0f;
        for (int64_t cc = c0; cc <= c1; cc++) {
          const float v = x[(n * C + cc) * plane + i];
          sq += v * v;
        }
        y[(n * C + c) * plane + i] = x[(n * C + c) * plane + i] / powf(at->bias + k * sq, at->beta);
      }
    }
  return ZN_OK;
}
