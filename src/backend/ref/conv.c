/* Conv, NCHW float32, 1 to 3 spatial dims, groups (depthwise included),
 * strides, dilations, explicit pads, bias, a fused residual (added after the
 * bias) and a fused activation. im2col per group on tiles of output positions
 * (so the scratch stays small: K x TILE floats), then the shared GEMM loop.
 * A 1x1 stride-1 unpadded conv reads the input directly (no im2col). */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

enum { TILE = 256 };

typedef struct geom {
  int64_t N, C, M, G, Cg, Mg;
  int64_t in[3], k[3], out[3], stride[3], dil[3], pad[3];
  int64_t K, P, in_plane;
  bool direct;
} geom;

/* Spatial dims padded in front to three (size 1, stride 1, no pad). */
static zn_status make_geom(const zn_node *node, const zn_ref_tensor *x, const zn_ref_tensor *w,
                           const zn_ref_tensor *y, geom *g) {
  const zn_conv_attrs *at = &node->attrs.conv;
  const int ns = at->num_spatial;
  if (ns < 1 || ns > 3 || x->num_dims != ns + 2 || w->num_dims != ns + 2 || (y && y->num_dims != ns + 2))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Conv '%s': rank mismatch (%d spatial dims)", node->name, ns);
  g->N = x->dims[0], g->C = x->dims[1], g->M = w->dims[0], g->G = at->group;
  if (g->G < 1 || g->C % g->G || g->M % g->G || w->dims[1] != g->C / g->G)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Conv '%s': %lld channels, weight [%lld,%lld,...], group %lld",
                    node->name, (long long)g->C, (long long)w->dims[0], (long long)w->dims[1], (long long)g->G);
  g->Cg = g->C / g->G, g->Mg = g->M / g->G;
  g->K = g->Cg, g->P = 1, g->in_plane = 1;
  g->direct = true;
  for (int i = 0; i < 3; i++) {
    const int s = i - (3 - ns); /* attribute index, < 0 for the padded front dims */
    g->in[i] = s < 0 ? 1 : x->dims[2 + s];
    g->k[i] = s < 0 ? 1 : w->dims[2 + s];
    g->stride[i] = s < 0 ? 1 : at->stride[s];
    g->dil[i] = s < 0 ? 1 : at->dilation[s];
    g->pad[i] = s < 0 ? 0 : at->pad_begin[s];
    const int64_t pad_end = s < 0 ? 0 : at->pad_end[s];
    if (g->stride[i] < 1 || g->dil[i] < 1 || g->pad[i] < 0 || pad_end < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Conv '%s': bad stride/dilation/pad", node->name);
    const int64_t span = g->dil[i] * (g->k[i] - 1) + 1, padded = g->in[i] + g->pad[i] + pad_end;
    g->out[i] = padded < span ? 0 : (padded - span) / g->stride[i] + 1;
    if (y && s >= 0 && y->dims[2 + s] != g->out[i])
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Conv '%s': output dim %d is %lld, expected %lld",
                      node->name, 2 + s, (long long)y->dims[2 + s], (long long)g->out[i]);
    g->K *= g->k[i], g->P *= g->out[i], g->in_plane *= g->in[i];
    if (g->k[i] != 1 || g->stride[i] != 1 || g->pad[i] != 0 || pad_end != 0) g->direct = false;
  }
  if (y && (y->dims[0] != g->N || y->dims[1] != g->M))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Conv '%s': output is not [%lld,%lld,...]", node->name,
                    (long long)g->N, (long long)g->M);
  return ZN_OK;
}

size_t zn_ref_conv_scratch_bytes(const zn_node *node, const zn_ref_tensor *x, const zn_ref_tensor *w) {
  geom g = {0};
  if (make_geom(node, x, w, NULL, &g) != ZN_OK || g.direct) return 0;
  return (size_t)g.K * (size_t)ZN_MIN(g.P, TILE) * sizeof(float);
}

/* col[r][j] for rows r = (c, k0, k1, k2) and output positions p0 + j. */
static void im2col_tile(const geom *g, const float *x, int64_t p0, int64_t pb, float *col) {
  int64_t r = 0;
  for (int64_t c = 0; c < g->Cg; c++)
    for (int64_t a0 = 0; a0 < g->k[0]; a0++)
      for (int64_t a1 = 0; a1 < g->k[1]; a1++)
        for (int64_t a2 = 0; a2 < g->k[2]; a2++, r++) {
          const float *xc = x + c * g->in_plane;
          float *dst = col + r * pb;
          int64_t o2 = p0 % g->out[2], o1 = (p0 / g->out[2]) % g->out[1], o0 = p0 / (g->out[2] * g->out[1]);
          for (int64_t j = 0; j < pb;) {
            const int64_t seg = ZN_MIN(pb - j, g->out[2] - o2);
            const int64_t i0 = o0 * g->stride[0] - g->pad[0] + a0 * g->dil[0];
            const int64_t i1 = o1 * g->stride[1] - g->pad[1] + a1 * g->dil[1];
            if (i0 < 0 || i0 >= g->in[0] || i1 < 0 || i1 >= g->in[1]) {
              memset(dst + j, 0, (size_t)seg * sizeof(float));
            } else {
              const float *row = xc + (i0 * g->in[1] + i1) * g->in[2];
              const int64_t off = a2 * g->dil[2] - g->pad[2];
              for (int64_t t = 0; t < seg; t++) {
                const int64_t i2 = (o2 + t) * g->stride[2] + off;
                dst[j + t] = (i2 >= 0 && i2 < g->in[2]) ? row[i2] : 0.0f;
              }
            }
            j += seg;
            o2 += seg;
            if (o2 == g->out[2]) {
              o2 = 0;
              if (++o1 == g->out[1]) o1 = 0, o0++;
            }
          }
        }
}

zn_status zn_ref_conv_nchw_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out,
                               void *scratch) {
  const zn_ref_tensor *X = in[0], *W = in[1];
  const zn_ref_tensor *B = node->num_inputs > 2 ? in[2] : NULL, *R = node->num_inputs > 3 ? in[3] : NULL;
  geom g = {0};
  ZN_TRY(make_geom(node, X, W, out, &g));
  if (B && B->count != g.M)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Conv '%s': bias has %lld elements, expected %lld",
                    node->name, (long long)B->count, (long long)g.M);
  if (R && R->count != out->count)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Conv '%s': residual has %lld elements, expected %lld",
                    node->name, (long long)R->count, (long long)out->count);
  if (!g.direct && g.P > 0 && !scratch)
    return zn_error(ZN_ERR_INTERNAL, "failed to run Conv '%s': no im2col scratch planned", node->name);
  const float *x = X->data, *w = W->data, *b = B ? B->data : NULL, *res = R ? R->data : NULL;
  float *y = out->data, *col = scratch;
  for (int64_t n = 0; n < g.N; n++) {
    float *yn = y + n * g.M * g.P;
    for (int64_t m = 0; m < g.M; m++) {
      const float init = b ? b[m] : 0.0f;
      for (int64_t p = 0; p < g.P; p++) yn[m * g.P + p] = init;
    }
    for (int64_t gi = 0; gi < g.G; gi++) {
      const float *xg = x + (n * g.C + gi * g.Cg) * g.in_plane;
      const float *wg = w + gi * g.Mg * g.K;
      float *yg = yn + gi * g.Mg * g.P;
      for (int64_t p0 = 0; p0 < g.P; p0 += TILE) {
        const int64_t pb = ZN_MIN(TILE, g.P - p0);
        if (g.direct) {
          zn_ref_sgemm_f32(g.Mg, pb, g.K, wg, g.K, 1, xg + p0, g.in_plane, 1, yg + p0, g.P);
        } else {
          im2col_tile(&g, xg, p0, pb, col);
          zn_ref_sgemm_f32(g.Mg, pb, g.K, wg, g.K, 1, col, pb, 1, yg + p0, g.P);
        }
      }
    }
    if (res) {
      const float *rn = res + n * g.M * g.P;
      for (int64_t i = 0; i < g.M * g.P; i++) yn[i] += rn[i];
    }
  }
  zn_ref_act_apply_f32(&node->attrs.conv.act, y, out->count);
  return ZN_OK;
}
