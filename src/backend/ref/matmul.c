/* MatMul with numpy semantics: [..., M, K] x [..., K, N], batch axes
 * broadcast, 1-D operands promoted (and the promoted axis dropped). Each
 * matrix product goes through the shared GEMM loop. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

/* The batch part (all but the last two axes, or none for 1-D) as a tensor view. */
static zn_ref_tensor batch_view(const zn_ref_tensor *t, int keep) {
  zn_ref_tensor v = {0};
  v.num_dims = t->num_dims > keep ? t->num_dims - keep : 0;
  v.count = 1;
  for (int i = 0; i < v.num_dims; i++) v.dims[i] = t->dims[i], v.count *= t->dims[i];
  return v;
}

zn_status zn_ref_matmul_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                            void *scratch) {
  const zn_ref_tensor *A = in[0], *B = in[1];
  if (A->num_dims < 1 || B->num_dims < 1)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run MatMul '%s': scalar operand", node->name);
  const bool a1 = A->num_dims == 1, b1 = B->num_dims == 1;
  const int64_t M = a1 ? 1 : A->dims[A->num_dims - 2], K = A->dims[A->num_dims - 1];
  const int64_t KB = b1 ? B->dims[0] : B->dims[B->num_dims - 2], N = b1 ? 1 : B->dims[B->num_dims - 1];
  zn_ref_tensor ab = batch_view(A, a1 ? 1 : 2), bb = batch_view(B, b1 ? 1 : 2);
  const int tail = (a1 ? 0 : 1) + (b1 ? 0 : 1);
  zn_ref_tensor ob = batch_view(out, tail);
  int64_t sa[ZN_MAX_DIMS], sb[ZN_MAX_DIMS];
  bool ok = K == KB && out->num_dims == ob.num_dims + tail && zn_ref_broadcast_strides(&ab, &ob, sa) &&
            zn_ref_broadcast_strides(&bb, &ob, sb) && out->count == ob.count * M * N;
  if (ok && !a1) ok = out->dims[ob.num_dims] == M;
  if (ok && !b1) ok = out->dims[out->num_dims - 1] == N;
  if (!ok)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run MatMul '%s': operand shapes do not match the output",
                    node->name);
  float *o = out->data;
  memset(o, 0, (size_t)out->count * sizeof(float));
  int64_t idx[ZN_MAX_DIMS] = {0}, ia = 0, ib = 0;
  for (int64_t bi = 0; bi < ob.count; bi++) {
    zn_ref_sgemm_f32(M, N, K, (const float *)A->data + ia * M * K, K, 1, (const float *)B->data + ib * K * N, N, 1,
                     o + bi * M * N, N);
    for (int d = ob.num_dims - 1; d >= 0; d--) {
      ia += sa[d], ib += sb[d];
      if (++idx[d] < ob.dims[d]) break;
      ia -= sa[d] * ob.dims[d], ib -= sb[d] * ob.dims[d];
      idx[d] = 0;
    }
  }
  return ZN_OK;
}
