/* Pooling, NCHW float32, 1 to 3 spatial dims: MaxPool (ceil_mode, dilation,
 * pads; padding never wins), AveragePool (count_include_pad on or off; with
 * ceil_mode the divisor counts the window clipped to the padded input, as
 * ONNX and PyTorch define it) and the global pools. */
#include <math.h>

#include "backend/ref/ref.h"
#include "core/status.h"

typedef struct pgeom {
  int64_t NC, in[3], k[3], out[3], stride[3], dil[3], pad[3], pad_end[3], in_plane, out_plane;
} pgeom;

static zn_status make_pgeom(const zn_node *node, const zn_ref_tensor *x, const zn_ref_tensor *y, pgeom *g) {
  const zn_pool_attrs *at = &node->attrs.pool;
  const int ns = at->num_spatial;
  if (ns < 1 || ns > 3 || x->num_dims != ns + 2 || y->num_dims != ns + 2 || x->dims[0] != y->dims[0] ||
      x->dims[1] != y->dims[1])
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': rank or channel mismatch", zn_op_name(node->op),
                    node->name);
  g->NC = x->dims[0] * x->dims[1];
  g->in_plane = g->out_plane = 1;
  for (int i = 0; i < 3; i++) {
    const int s = i - (3 - ns);
    g->in[i] = s < 0 ? 1 : x->dims[2 + s];
    g->k[i] = s < 0 ? 1 : at->kernel[s];
    g->stride[i] = s < 0 ? 1 : at->stride[s];
    g->dil[i] = s < 0 ? 1 : (at->dilation[s] ? at->dilation[s] : 1);
    g->pad[i] = s < 0 ? 0 : at->pad_begin[s];
    g->pad_end[i] = s < 0 ? 0 : at->pad_end[s];
    if (g->k[i] < 1 || g->stride[i] < 1 || g->dil[i] < 1 || g->pad[i] < 0 || g->pad_end[i] < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': bad kernel/stride/dilation/pad",
                      zn_op_name(node->op), node->name);
    const int64_t span = g->dil[i] * (g->k[i] - 1) + 1, padded = g->in[i] + g->pad[i] + g->pad_end[i];
    int64_t o = 0;
    if (padded >= span) {
      const int64_t num = padded - span;
      o = (at->ceil_mode ? (num + g->stride[i] - 1) / g->stride[i] : num / g->stride[i]) + 1;
      /* The last window must start inside the input or the begin padding. */
      if (at->ceil_mode && (o - 1) * g->stride[i] >= g->in[i] + g->pad[i]) o--;
    }
    g->out[i] = o;
    if (s >= 0 && y->dims[2 + s] != o)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': output dim %d is %lld, expected %lld",
                      zn_op_name(node->op), node->name, 2 + s, (long long)y->dims[2 + s], (long long)o);
    g->in_plane *= g->in[i], g->out_plane *= o;
  }
  return ZN_OK;
}

zn_status zn_ref_max_pool_nchw_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                   void *scratch) {
  pgeom g = {0};
  ZN_TRY(make_pgeom(node, in[0], out, &g));
  const float *x = in[0]->data;
  float *y = out->data;
  for (int64_t nc = 0; nc < g.NC; nc++) {
    const float *xc = x + nc * g.in_plane;
    float *yc = y + nc * g.out_plane;
    for (int64_t o0 = 0; o0 < g.out[0]; o0++)
      for (int64_t o1 = 0; o1 < g.out[1]; o1++)
        for (int64_t o2 = 0; o2 < g.out[2]; o2++) {
          float best = -INFINITY;
          for (int64_t a0 = 0; a0 < g.k[0]; a0++) {
            const int64_t i0 = o0 * g.stride[0] - g.pad[0] + a0 * g.dil[0];
            if (i0 < 0 || i0 >= g.in[0]) continue;
            for (int64_t a1 = 0; a1 < g.k[1]; a1++) {
              const int64_t i1 = o1 * g.stride[1] - g.pad[1] + a1 * g.dil[1];
              if (i1 < 0 || i1 >= g.in[1]) continue;
              for (int64_t a2 = 0; a2 < g.k[2]; a2++) {
                const int64_t i2 = o2 * g.stride[2] - g.pad[2] + a2 * g.dil[2];
                if (i2 < 0 || i2 >= g.in[2]) continue;
                const float v = xc[(i0 * g.in[1] + i1) * g.in[2] + i2];
                if (v > best || isnan(v)) best = v;
              }
            }
          }
          yc[(o0 * g.out[1] + o1) * g.out[2] + o2] = best;
        }
  }
  return ZN_OK;
}

zn_status zn_ref_average_pool_nchw_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                       void *scratch) {
  pgeom g = {0};
  ZN_TRY(make_pgeom(node, in[0], out, &g));
  const bool include_pad = node->attrs.pool.count_include_pad;
  const float *x = in[0]->data;
  float *y = out->data;
  for (int64_t nc = 0; nc < g.NC; nc++) {
    const float *xc = x + nc * g.in_plane;
    float *yc = y + nc * g.out_plane;
    for (int64_t o0 = 0; o0 < g.out[0]; o0++)
      for (int64_t o1 = 0; o1 < g.out[1]; o1++)
        for (int64_t o2 = 0; o2 < g.out[2]; o2++) {
          float sum = 0.0f;
          int64_t valid = 0, in_padded = 0;
          for (int64_t a0 = 0; a0 < g.k[0]; a0++) {
            const int64_t i0 = o0 * g.stride[0] - g.pad[0] + a0 * g.dil[0];
            if (i0 >= g.in[0] + g.pad_end[0]) continue; /* beyond the padded input (ceil_mode) */
            const bool v0 = i0 >= 0 && i0 < g.in[0];
            for (int64_t a1 = 0; a1 < g.k[1]; a1++) {
              const int64_t i1 = o1 * g.stride[1] - g.pad[1] + a1 * g.dil[1];
              if (i1 >= g.in[1] + g.pad_end[1]) continue;
              const bool v1 = v0 && i1 >= 0 && i1 < g.in[1];
              for (int64_t a2 = 0; a2 < g.k[2]; a2++) {
                const int64_t i2 = o2 * g.stride[2] - g.pad[2] + a2 * g.dil[2];
                if (i2 >= g.in[2] + g.pad_end[2]) continue;
                in_padded++;
                if (v1 && i2 >= 0 && i2 < g.in[2]) {
                  sum += xc[(i0 * g.in[1] + i1) * g.in[2] + i2];
                  valid++;
                }
              }
            }
          }
          const int64_t div = include_pad ? in_padded : valid;
          yc[(o0 * g.out[1] + o1) * g.out[2] + o2] = div ? sum / (float)div : 0.0f;
        }
  }
  return ZN_OK;
}

zn_status zn_ref_global_pool_nchw_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                                      void *scratch) {
  const zn_ref_tensor *X = in[0];
  if (X->num_dims < 2 || out->num_dims != X->num_dims || out->dims[0] != X->dims[0] || out->dims[1] != X->dims[1] ||
      out->count != X->dims[0] * X->dims[1])
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run %s '%s': output must be [N,C,1,...]", zn_op_name(node->op),
                    node->name);
  const int64_t NC = out->count, plane = NC ? X->count / NC : 0;
  const float *x = X->data;
  float *y = out->data;
  const bool is_max = node->op == ZN_OP_GLOBAL_MAX_POOL;
  for (int64_t c = 0; c < NC; c++) {
    const float *xc = x + c * plane;
    float acc = is_max ? -INFINITY : 0.0f;
    for (int64_t i = 0; i < plane; i++) {
      if (is_max) acc = (xc[i] > acc || isnan(xc[i])) ? xc[i] : acc;
      else acc += xc[i];
    }
    y[c] = is_max ? acc : (plane ? acc / (float)plane : 0.0f);
  }
  return ZN_OK;
}
