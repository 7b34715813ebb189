/* Element-wise float32 math with no parameters: Sqrt (sqrtf, so negative
 * inputs give NaN as ONNX says) and Erf (erff). In place when the arena
 * gives the output the input's buffer. */
#include <math.h>

#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_unary_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0];
  if (X->count != out->count || X->dtype != ZN_DTYPE_FLOAT32 || out->dtype != ZN_DTYPE_FLOAT32)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': %lld float32 elements in, %lld out",
                    zn_op_name(node->op), node->name, (long long)X->count, (long long)out->count);
  const float *x = X->data;
  float *y = out->data;
  switch (node->op) {
  case ZN_OP_SQRT: for (int64_t i = 0; i < out->count; i++) y[i] = sqrtf(x[i]); return ZN_OK;
  case ZN_OP_ERF: for (int64_t i = 0; i < out->count; i++) y[i] = erff(x[i]); return ZN_OK;
  default:
    return zn_error(ZN_ERR_INTERNAL, "failed to run '%s': %s is not a unary math op", node->name, zn_op_name(node->op));
  }
}
