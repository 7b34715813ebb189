/* Transpose, any dtype: walks the output in order and reads the input
 * through permuted strides (perm empty = reverse the axes, as ONNX says). */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_transpose(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                           void *scratch) {
  const zn_ref_tensor *X = in[0];
  const int R = X->num_dims;
  int64_t perm[ZN_MAX_DIMS], in_strides[ZN_MAX_DIMS], s[ZN_MAX_DIMS];
  bool seen[ZN_MAX_DIMS] = {false};
  const zn_transpose_attrs *at = &node->attrs.transpose;
  bool ok = out->num_dims == R && (at->num_perm == 0 || at->num_perm == R) && out->elem_bytes == X->elem_bytes;
  for (int i = 0; ok && i < R; i++) {
    perm[i] = at->num_perm ? at->perm[i] : R - 1 - i;
    ok = perm[i] >= 0 && perm[i] < R && !seen[perm[i]] && out->dims[i] == X->dims[perm[i]];
    if (ok) seen[perm[i]] = true;
  }
  if (!ok) return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Transpose '%s': bad perm or output shape", node->name);
  int64_t st = 1;
  for (int i = R - 1; i >= 0; i--) in_strides[i] = st, st *= X->dims[i];
  for (int i = 0; i < R; i++) s[i] = in_strides[perm[i]];
  zn_ref_strided_copy(out, X->data, s);
  return ZN_OK;
}
