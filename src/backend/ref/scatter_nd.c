/* ScatterND: the output is data with update slices written at the index tuples
 * (indices [.., k] address data's first k axes; each update is a slice of
 * data[k:]). reduction none replaces (a repeated tuple: the last update wins, in
 * order), add / mul combine (float32, int32, int64). Negative indices count from
 * the end; an index outside [-dim, dim) is an error naming it. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

bool zn_ref_scatter_nd_supported(zn_dtype t, zn_scatter_reduction red) {
  if (red == ZN_SCATTER_NONE) return zn_dtype_size(t) > 0;
  return t == ZN_DTYPE_FLOAT32 || t == ZN_DTYPE_INT32 || t == ZN_DTYPE_INT64;
}

static void combine(zn_dtype t, zn_scatter_reduction red, char *dst, const char *src, int64_t n) {
  for (int64_t e = 0; e < n; e++) {
    switch (t) {
    case ZN_DTYPE_FLOAT32: {
      float *o = (float *)dst + e;
      const float u = ((const float *)src)[e];
      *o = red == ZN_SCATTER_ADD ? *o + u : *o * u;
      break;
    }
    case ZN_DTYPE_INT32: {
      int32_t *o = (int32_t *)dst + e;
      const uint32_t u = (uint32_t)((const int32_t *)src)[e], v = (uint32_t)*o;  /* wraps, no UB */
      *o = (int32_t)(red == ZN_SCATTER_ADD ? v + u : v * u);
      break;
    }
    default: {
      int64_t *o = (int64_t *)dst + e;
      const uint64_t u = (uint64_t)((const int64_t *)src)[e], v = (uint64_t)*o;
      *o = (int64_t)(red == ZN_SCATTER_ADD ? v + u : v * u);
      break;
    }
    }
  }
}

zn_status zn_ref_scatter_nd(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0], *I = in[1], *U = in[2];
  const zn_scatter_reduction red = node->attrs.scatter.reduction;
  const int r = X->num_dims, q = I->num_dims;
  const int64_t k = q >= 1 ? I->dims[q - 1] : 0;
  bool ok = X->dtype == out->dtype && U->dtype == out->dtype && I->dtype == ZN_DTYPE_INT64 && X->count == out->count &&
            zn_ref_scatter_nd_supported(out->dtype, red) && k >= 1 && k <= r && U->num_dims == q - 1 + r - (int)k;
  for (int i = 0; ok && i < U->num_dims; i++) ok = U->dims[i] == (i < q - 1 ? I->dims[i] : X->dims[k + i - (q - 1)]);
  if (!ok)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run ScatterND '%s': data, int64 indices and updates do not fit "
                    "(updates must be indices[:-1] + data[k:])", node->name);
  const size_t es = out->elem_bytes;
  int64_t slice = 1;
  for (int i = (int)k; i < r; i++) slice *= X->dims[i];
  const int64_t num = slice ? U->count / slice : 0;
  if (out->data != X->data) memcpy(out->data, X->data, (size_t)X->count * es);
  const int64_t *ix = I->data;
  for (int64_t j = 0; j < num; j++) {
    int64_t off = 0;
    for (int64_t t = 0; t < k; t++) {
      const int64_t v = ix[j * k + t], d = X->dims[t];
      if (v < -d || v >= d)
        return zn_error(ZN_ERR_INVALID_INPUT, "failed to run ScatterND '%s': indices[%lld][%lld] = %lld is out of "
                        "range for dim %lld", node->name, (long long)j, (long long)t, (long long)v, (long long)d);
      off = off * d + (v < 0 ? v + d : v);
    }
    char *dst = (char *)out->data + (size_t)(off * slice) * es;
    const char *src = (const char *)U->data + (size_t)(j * slice) * es;
    if (red == ZN_SCATTER_NONE) memcpy(dst, src, (size_t)slice * es);
    else combine(out->dtype, red, dst, src, slice);
  }
  return ZN_OK;
}
