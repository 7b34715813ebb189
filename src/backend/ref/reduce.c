/* ReduceMean, float32, over any set of axes (attribute, or input 1 from
 * opset 18; none = all axes), keepdims on or off. One pass over the input adds
 * each element into its output cell, in input order (deterministic). */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_reduce_mean_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                 void *scratch) {
  const zn_ref_tensor *X = in[0];
  const zn_reduce_attrs *at = &node->attrs.reduce;
  const int R = X->num_dims;
  bool reduced[ZN_MAX_DIMS] = {false};
  int num_axes = at->num_axes;
  const zn_ref_tensor *axes_t = node->num_inputs > 1 ? in[1] : NULL;
  if (axes_t) num_axes = (int)axes_t->count;
  for (int k = 0; k < num_axes; k++) {
    int64_t a = axes_t ? zn_ref_read_index(axes_t, k) : at->axes[k];
    if (a < 0) a += R;
    if (a < 0 || a >= R)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run ReduceMean '%s': axis out of range for rank %d",
                      node->name, R);
    reduced[a] = true;
  }
  if (num_axes == 0)
    for (int i = 0; i < R; i++) reduced[i] = true;
  /* Output strides seen from the input's axes (0 on reduced axes). */
  int64_t os[ZN_MAX_DIMS], s = 1, kept = 1, group = 1;
  for (int i = R - 1; i >= 0; i--) {
    if (reduced[i]) { os[i] = 0; group *= X->dims[i]; }
    else { os[i] = s; s *= X->dims[i]; kept *= X->dims[i]; }
  }
  if (out->count != kept)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run ReduceMean '%s': output has %lld elements, expected %lld",
                    node->name, (long long)out->count, (long long)kept);
  float *y = out->data;
  const float *x = X->data;
  memset(y, 0, (size_t)kept * sizeof(float));
  int64_t idx[ZN_MAX_DIMS] = {0}, off = 0;
  for (int64_t i = 0; i < X->count; i++) {
    y[off] += x[i];
    for (int d = R - 1; d >= 0; d--) {
      off += os[d];
      if (++idx[d] < X->dims[d]) break;
      off -= os[d] * X->dims[d];
      idx[d] = 0;
    }
  }
  if (group > 0)
    for (int64_t i = 0; i < kept; i++) y[i] /= (float)group;
  return ZN_OK;
}
