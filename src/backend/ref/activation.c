/* Activations: standalone (Relu, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
 * Clip, Tanh, Gelu) and the same functions fused into Conv and Gemm, so a fused
 * and an unfused graph compute bit-identical results. */
#include <math.h>
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

static float sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

float zn_ref_act_f32(const zn_act *act, float x) {
  switch (act->kind) {
  case ZN_ACT_NONE: return x;
  case ZN_ACT_RELU: return x > 0.0f ? x : 0.0f;
  case ZN_ACT_LEAKY_RELU: return x >= 0.0f ? x : act->alpha * x;
  case ZN_ACT_SIGMOID: return sigmoid(x);
  case ZN_ACT_HARD_SIGMOID: return fmaxf(0.0f, fminf(1.0f, act->alpha * x + act->beta));
  case ZN_ACT_HARD_SWISH: return x * fmaxf(0.0f, fminf(1.0f, x * (1.0f / 6.0f) + 0.5f));
  case ZN_ACT_CLIP: return x < act->alpha ? act->alpha : (x > act->beta ? act->beta : x); /* NaN passes */
  case ZN_ACT_TANH: return tanhf(x);
  /* The order of PyTorch's exported Erf form, x / sqrt(2) with sqrt(2) rounded
   * to float, so a fused graph matches the unfused one closely. */
  case ZN_ACT_GELU: return x * (1.0f + erff(x / 1.41421353816986084f)) * 0.5f;
  case ZN_ACT_SWISH: return x * sigmoid(act->alpha * x);
  }
  return x;
}

bool zn_ref_act_supported(const zn_act *act) { return (unsigned)act->kind <= (unsigned)ZN_ACT_LAST; }

void zn_ref_act_apply_f32(const zn_act *act, float *data, int64_t count) {
  switch (act->kind) {
  case ZN_ACT_NONE: return;
  case ZN_ACT_RELU: /* the hot one: a plain loop the compiler vectorises */
    for (int64_t i = 0; i < count; i++) data[i] = data[i] > 0.0f ? data[i] : 0.0f;
    return;
  default:
    for (int64_t i = 0; i < count; i++) data[i] = zn_ref_act_f32(act, data[i]);
  }
}

zn_status zn_ref_activation_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                void *scratch) {
  zn_act act = node->attrs.act;
  switch (node->op) { /* the op decides the function; attrs carry its parameters */
  case ZN_OP_RELU: act.kind = ZN_ACT_RELU; break;
  case ZN_OP_LEAKY_RELU: act.kind = ZN_ACT_LEAKY_RELU; break;
  case ZN_OP_SIGMOID: act.kind = ZN_ACT_SIGMOID; break;
  case ZN_OP_HARD_SIGMOID: act.kind = ZN_ACT_HARD_SIGMOID; break;
  case ZN_OP_HARD_SWISH: act.kind = ZN_ACT_HARD_SWISH; break;
  case ZN_OP_CLIP: act.kind = ZN_ACT_CLIP; break;
  case ZN_OP_TANH: act.kind = ZN_ACT_TANH; break;
  case ZN_OP_GELU: act.kind = ZN_ACT_GELU; break;
  case ZN_OP_SWISH: act.kind = ZN_ACT_SWISH; break;
  default: return zn_error(ZN_ERR_INTERNAL, "failed to run '%s': %s is not an activation", node->name,
                           zn_op_name(node->op));
  }
  /* Clip from opset 11 takes min and max as optional inputs. */
  if (node->op == ZN_OP_CLIP && node->num_inputs > 1 && in[1] && in[1]->count == 1) act.alpha = *(const float *)in[1]->data;
  if (node->op == ZN_OP_CLIP && node->num_inputs > 2 && in[2] && in[2]->count == 1) act.beta = *(const float *)in[2]->data;
  if (in[0]->count != out->count)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': %lld elements in, %lld out", zn_op_name(node->op),
                    node->name, (long long)in[0]->count, (long long)out->count);
  if (out->data != in[0]->data) memcpy(out->data, in[0]->data, (size_t)out->count * sizeof(float));
  zn_ref_act_apply_f32(&act, out->data, out->count);
  return ZN_OK;
}
