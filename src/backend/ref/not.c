/* Not: element-wise logical negation of a bool tensor (any non-zero byte is
 * true; the output holds 0 or 1). */
#include "backend/ref/ref.h"
#include "core/status.h"

zn_status zn_ref_not(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0];
  if (X->dtype != ZN_DTYPE_BOOL || out->dtype != ZN_DTYPE_BOOL || X->count != out->count)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Not '%s': input and output must be bool of one shape",
                    node->name);
  const uint8_t *x = X->data;
  uint8_t *o = out->data;
  for (int64_t i = 0; i < out->count; i++) o[i] = !x[i];
  return ZN_OK;
}
