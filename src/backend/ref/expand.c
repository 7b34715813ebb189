/* Expand (the input broadcast to the output's shape, any dtype) and
 * ConstantOfShape (the output filled with one value). Both outputs' shapes come
 * from shape inference, which read the shape input; the kernels check that
 * input against the output, since at run time it is the batch-resolved copy. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

/* The shape tensor's values equal out's dims (Expand: broadcast against x). */
static bool shape_matches(const zn_ref_tensor *s, const zn_ref_tensor *x, const zn_ref_tensor *out) {
  if (s->dtype != ZN_DTYPE_INT64 || s->num_dims != 1 || s->count > out->num_dims) return false;
  if (!x && s->count != out->num_dims) return false;
  for (int64_t i = 0; i < s->count; i++) {
    const int64_t want = zn_ref_read_index(s, i), o = out->dims[out->num_dims - s->count + i];
    if (want != o && !(x && want == 1)) return false;
  }
  return true;
}

zn_status zn_ref_expand(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_ref_tensor *X = in[0];
  int64_t st[ZN_MAX_DIMS];
  if (X->elem_bytes != out->elem_bytes || !zn_ref_broadcast_strides(X, out, st) || !shape_matches(in[1], X, out))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Expand '%s': input and shape do not broadcast to the output",
                    node->name);
  zn_ref_strided_copy(out, X->data, st);
  return ZN_OK;
}

zn_status zn_ref_constant_of_shape(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch) {
  const zn_fill_attrs *a = &node->attrs.fill;
  const size_t es = out->elem_bytes;
  if (out->dtype != a->dtype || es == 0 || es > sizeof a->value || !shape_matches(in[0], NULL, out))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run ConstantOfShape '%s': output does not match the shape input "
                    "or the value's dtype", node->name);
  char *dst = out->data;
  for (int64_t i = 0; i < out->count; i++) memcpy(dst + (size_t)i * es, a->value, es);
  return ZN_OK;
}
