/* LayerNormalization (opset 17), float32: each row of the axes axis..rank-1
 * is normalised with its own mean and (population) variance, then scaled and
 * shifted: y = (x - mean) / sqrt(var + epsilon) * scale + bias. Mean and
 * variance are summed in double, two passes, so the oracle does not lose
 * digits on long rows. scale and bias broadcast to the normalised axes.
 * The optional Mean and InvStdDev outputs get each row's mean and
 * 1 / sqrt(var + epsilon), as used for Y. */
#include <math.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_layer_norm_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                void *scratch) {
  (void)scratch;
  return zn_ref_layer_norm_stats_f32(node, in, out, NULL, NULL);
}

zn_status zn_ref_layer_norm_stats_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                      zn_ref_tensor *mean_out, zn_ref_tensor *inv_out) {
  const zn_ref_tensor *X = in[0], *S = in[1], *B = node->num_inputs > 2 ? in[2] : NULL;
  const int64_t axis = node->attrs.layer_norm.axis;
  if (axis < 0 || axis >= X->num_dims || out->count != X->count)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run LayerNormalization '%s': axis %lld for rank %d",
                    node->name, (long long)axis, X->num_dims);
  /* The normalised part of X as its own tensor: scale/bias broadcast against it. */
  zn_ref_tensor tail = {.num_dims = X->num_dims - (int)axis, .count = 1};
  for (int i = 0; i < tail.num_dims; i++) tail.dims[i] = X->dims[axis + i], tail.count *= tail.dims[i];
  int64_t ss[ZN_MAX_DIMS] = {0}, sb[ZN_MAX_DIMS] = {0};
  if (!S || !zn_ref_broadcast_strides(S, &tail, ss) || (B && !zn_ref_broadcast_strides(B, &tail, sb)))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run LayerNormalization '%s': scale or bias does not broadcast "
                    "to the normalised axes", node->name);
  const int64_t inner = tail.count, rows = inner ? X->count / inner : 0;
  if ((mean_out && mean_out->count != rows) || (inv_out && inv_out->count != rows))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run LayerNormalization '%s': Mean/InvStdDev hold %lld/%lld "
                    "elements, expected %lld (one per normalised row)", node->name,
                    (long long)(mean_out ? mean_out->count : rows), (long long)(inv_out ? inv_out->count : rows),
                    (long long)rows);
  const bool dense = S->count == inner && (!B || B->count == inner);
  const float *s = S->data, *b = B ? B->data : NULL;
  const float eps = node->attrs.layer_norm.epsilon;
  for (int64_t r = 0; r < rows; r++) {
    const float *x = (const float *)X->data + r * inner;
    float *y = (float *)out->data + r * inner;
    double sum = 0.0, sq = 0.0;
    for (int64_t i = 0; i < inner; i++) sum += x[i];
    const double mean = sum / (double)inner;
    for (int64_t i = 0; i < inner; i++) sq += (x[i] - mean) * (x[i] - mean);
    const float m = (float)mean, inv = (float)(1.0 / sqrt(sq / (double)inner + (double)eps));
    if (mean_out) ((float *)mean_out->data)[r] = m;
    if (inv_out) ((float *)inv_out->data)[r] = inv;
    if (dense) {
      for (int64_t i = 0; i < inner; i++) y[i] = (x[i] - m) * inv * s[i] + (b ? b[i] : 0.0f);
      continue;
    }
    int64_t idx[ZN_MAX_DIMS] = {0}, os = 0, ob = 0;
    for (int64_t i = 0; i < inner; i++) {
      y[i] = (x[i] - m) * inv * s[os] + (b ? b[ob] : 0.0f);
      for (int d = tail.num_dims - 1; d >= 0; d--) {
        os += ss[d], ob += sb[d];
        if (++idx[d] < tail.dims[d]) break;
        os -= ss[d] * tail.dims[d], ob -= sb[d] * tail.dims[d];
        idx[d] = 0;
      }
    }
  }
  return ZN_OK;
}
