/* Slice (opset 10+: starts, ends, optional axes and steps as inputs), any
 * dtype, negative steps included. Starts and ends are clamped as ONNX says;
 * the resulting extent must equal the output shape from inference. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_slice(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0], *S = in[1], *E = in[2];
  const zn_ref_tensor *A = node->num_inputs > 3 ? in[3] : NULL, *T = node->num_inputs > 4 ? in[4] : NULL;
  const int R = X->num_dims;
  int64_t start[ZN_MAX_DIMS], step[ZN_MAX_DIMS];
  bool set[ZN_MAX_DIMS] = {false};
  for (int i = 0; i < R; i++) start[i] = 0, step[i] = 1;
  if (S->count != E->count || (A && A->count != S->count) || (T && T->count != S->count) || S->count > R ||
      out->num_dims != R || out->elem_bytes != X->elem_bytes)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Slice '%s': starts/ends/axes/steps lengths differ",
                    node->name);
  for (int64_t k = 0; k < S->count; k++) {
    int64_t a = A ? zn_ref_read_index(A, k) : k;
    if (a < 0) a += R;
    if (a < 0 || a >= R || set[a])
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Slice '%s': bad axis", node->name);
    set[a] = true;
    const int64_t d = X->dims[a], st = T ? zn_ref_read_index(T, k) : 1;
    int64_t s = zn_ref_read_index(S, k), e = zn_ref_read_index(E, k);
    if (st == 0) return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Slice '%s': step 0", node->name);
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t len;
    if (st > 0) {
      s = ZN_MIN(ZN_MAX(s, 0), d), e = ZN_MIN(ZN_MAX(e, 0), d);
      len = e > s ? (e - s + st - 1) / st : 0;
    } else {
      s = ZN_MIN(ZN_MAX(s, 0), d - 1), e = ZN_MIN(ZN_MAX(e, -1), d - 1);
      len = s > e ? (s - e + (-st) - 1) / (-st) : 0;
    }
    if (len != out->dims[a])
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Slice '%s': axis %lld gives %lld elements, output has %lld",
                      node->name, (long long)a, (long long)len, (long long)out->dims[a]);
    start[a] = s, step[a] = st;
  }
  for (int i = 0; i < R; i++)
    if (!set[i] && out->dims[i] != X->dims[i])
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Slice '%s': unsliced axis %d changed size", node->name, i);
  if (out->count == 0) return ZN_OK;
  int64_t in_strides[ZN_MAX_DIMS], s[ZN_MAX_DIMS], base = 0, st = 1;
  for (int i = R - 1; i >= 0; i--) in_strides[i] = st, st *= X->dims[i];
  for (int i = 0; i < R; i++) s[i] = step[i] * in_strides[i], base += start[i] * in_strides[i];
  const size_t eb = X->elem_bytes;
  int64_t idx[ZN_MAX_DIMS] = {0}, off = base;
  for (int64_t i = 0; i < out->count; i++) {
    memcpy((char *)out->data + (size_t)i * eb, (const char *)X->data + (size_t)off * eb, eb);
    for (int d = R - 1; d >= 0; d--) {
      off += s[d];
      if (++idx[d] < out->dims[d]) break;
      off -= s[d] * out->dims[d];
      idx[d] = 0;
    }
  }
  return ZN_OK;
}
