/* Winograd F(4x4, 3x3) for the xnnpack backend's large-spatial 3x3 stride-1
 * convs: 36 multiplies per 4x4 output tile instead of F(2x2, 3x3)'s 64 (4x
 * fewer than direct, 1.78x fewer than F(2,3)) and 2.25 transformed floats per
 * output pixel instead of 4. Same scheme as winograd.c (36 XNNPACK GEMMs in
 * place of 16, NHWC transforms in portable C vectorized over channels, with
 * AVX-512 / AVX2 clones on x86-64); points 0, +-1, +-2 and infinity. */
#include <string.h>

#include "backend/xnnpack/xnnpack_internal.h"

#define CB 16 /* channels per inner block (see winograd.c) */
#define P 36  /* transformed positions: 6x6 */

#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

/* Where F(4,3) replaces F(2,3) under the measured rule: outputs of at least
 * 28x28 pixels (ResNet's 56x56 and 28x28 stages; docs/internals/xnnpack.md).
 * At 14x14 a 4x4 tile grid wastes 31% and gives 16-row GEMMs against 4x the
 * conv's weights. */
#define F43_MIN_OUT_PIXELS (28 * 28)

int zn_xnnpack_winograd_out_tile(const zn_graph *g, const zn_node *n, xp_winograd_mode mode) {
  if (mode == XP_WINOGRAD_ALL4) return 4;
  if (mode != XP_WINOGRAD_AUTO) return 2;
  const zn_value *y = &g->values[n->outputs[0]];
  return y->dims[2] * y->dims[3] >= F43_MIN_OUT_PIXELS ? 4 : 2;
}

/* G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. */
static void g_col(const float g[3], float t[6]) {
  t[0] = 0.25f * g[0];
  t[1] = -(g[0] + g[1] + g[2]) / 6.0f;
  t[2] = -(g[0] - g[1] + g[2]) / 6.0f;
  t[3] = g[0] / 24.0f + g[1] / 12.0f + g[2] / 6.0f;
  t[4] = g[0] / 24.0f - g[1] / 12.0f + g[2] / 6.0f;
  t[5] = g[2];
}

void zn_xnnpack_winograd43_weights(const float *w, int64_t oc, int64_t ic, float *u) {
  const size_t plane = (size_t)(oc * ic);
  for (int64_t o = 0; o < oc; o++)
    for (int64_t i = 0; i < ic; i++) {
      const float *g = w + (o * ic + i) * 9;
      float t[3][6]; /* (G g)^T: column c of g transformed */
      for (int c = 0; c < 3; c++) {
        const float col[3] = {g[c], g[3 + c], g[6 + c]};
        g_col(col, t[c]);
      }
      float *dst = u + o * ic + i;
      for (int r = 0; r < 6; r++) { /* row r of G g, times G^T */
        const float row[3] = {t[0][r], t[1][r], t[2][r]};
        float v[6];
        g_col(row, v);
        for (int c = 0; c < 6; c++) dst[(size_t)(r * 6 + c) * plane] = v[c];
      }
    }
}

typedef struct block_ctx {
  const xp_winograd_args *a;
  int64_t t0, bt;
} block_ctx;

/* B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
 * on 6 values; written once as a macro so that both passes below are plain
 * fixed-length loops over CB channels that GCC vectorizes (a helper taking
 * pointers or strides stayed scalar). */
#define BT6(d0, d1, d2, d3, d4, d5, o0, o1, o2, o3, o4, o5) \
  do {                                                     \
    o0 = 4.0f * d0 - 5.0f * d2 + d4;                       \
    o1 = -4.0f * (d1 + d2) + d3 + d4;                      \
    o2 = 4.0f * (d1 - d2) - d3 + d4;                       \
    o3 = 2.0f * (d3 - d1) - d2 + d4;                       \
    o4 = 2.0f * (d1 - d3) - d2 + d4;                       \
    o5 = 4.0f * d1 - 5.0f * d3 + d5;                       \
  } while (0)

/* v = B^T d B on CB channels (d and v: 6x6 positions, row-major). */
INLINE void input_block(float d[P][CB], float v[P][CB]) {
  float t[P][CB];
  for (int c = 0; c < 6; c++)
    for (int j = 0; j < CB; j++)
      BT6(d[c][j], d[6 + c][j], d[12 + c][j], d[18 + c][j], d[24 + c][j], d[30 + c][j], t[c][j], t[6 + c][j],
          t[12 + c][j], t[18 + c][j], t[24 + c][j], t[30 + c][j]);
  for (int r = 0; r < 6; r++)
    for (int j = 0; j < CB; j++)
      BT6(t[6 * r][j], t[6 * r + 1][j], t[6 * r + 2][j], t[6 * r + 3][j], t[6 * r + 4][j], t[6 * r + 5][j],
          v[6 * r][j], v[6 * r + 1][j], v[6 * r + 2][j], v[6 * r + 3][j], v[6 * r + 4][j], v[6 * r + 5][j]);
}

INLINE void tile_coords(const xp_winograd_args *a, int64_t t, int64_t *n, int64_t *ty, int64_t *tx) {
  const int64_t per_image = a->tiles_h * a->tiles_w;
  *n = t / per_image;
  *ty = t % per_image / a->tiles_w;
  *tx = t % a->tiles_w;
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void input_tiles(void *context, size_t b0, size_t count) {
  const block_ctx *bc = context;
  const xp_winograd_args *a = bc->a;
  for (int64_t b = (int64_t)b0; b < (int64_t)(b0 + count); b++) {
    int64_t n, ty, tx;
    tile_coords(a, bc->t0 + b, &n, &ty, &tx);
    const float *px[P]; /* the tile's 6x6 input pixels, NULL in the padding */
    for (int i = 0; i < 6; i++)
      for (int j = 0; j < 6; j++) {
        const int64_t r = 4 * ty - a->pad_top + i, c = 4 * tx - a->pad_left + j;
        px[6 * i + j] = r >= 0 && r < a->h && c >= 0 && c < a->w ? a->x + ((n * a->h + r) * a->w + c) * a->x_stride
                                                                   : NULL;
      }
    for (int64_t c0 = 0; c0 < a->ic; c0 += CB) {
      const size_t cb = (size_t)ZN_MIN(CB, a->ic - c0);
      float d[P][CB], t[P][CB];
      for (int k = 0; k < P; k++) {
        if (px[k] && cb == CB) {
          memcpy(d[k], px[k] + c0, sizeof d[k]);
        } else {
          memset(d[k], 0, sizeof d[k]);
          if (px[k]) memcpy(d[k], px[k] + c0, cb * sizeof(float));
        }
      }
      input_block(d, t);
      for (int k = 0; k < P; k++) {
        float *dst = a->v + (k * bc->bt + b) * a->ic + c0;
        if (cb == CB) memcpy(dst, t[k], sizeof t[k]);
        else memcpy(dst, t[k], cb * sizeof(float));
      }
    }
  }
}

/* A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] on 6 values. */
#define AT6(m0, m1, m2, m3, m4, m5, o0, o1, o2, o3)                               \
  do {                                                                           \
    const float s12_ = m1 + m2, d12_ = m1 - m2, s34_ = m3 + m4, d34_ = m3 - m4; \
    o0 = m0 + s12_ + s34_;                                                       \
    o1 = d12_ + 2.0f * d34_;                                                     \
    o2 = s12_ + 4.0f * s34_;                                                     \
    o3 = d12_ + 8.0f * d34_ + m5;                                                \
  } while (0)

/* y = A^T m A (4x4) + bias on CB channels. */
INLINE void output_block(float m[P][CB], const float bias[CB], float y[16][CB]) {
  float s[24][CB];
  for (int c = 0; c < 6; c++)
    for (int j = 0; j < CB; j++)
      AT6(m[c][j], m[6 + c][j], m[12 + c][j], m[18 + c][j], m[24 + c][j], m[30 + c][j], s[c][j], s[6 + c][j],
          s[12 + c][j], s[18 + c][j]);
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < CB; j++) {
      const float b = bias[j];
      AT6(s[6 * r][j] + b, s[6 * r + 1][j], s[6 * r + 2][j], s[6 * r + 3][j], s[6 * r + 4][j], s[6 * r + 5][j],
          y[4 * r][j], y[4 * r + 1][j], y[4 * r + 2][j], y[4 * r + 3][j]);
      y[4 * r + 1][j] += b, y[4 * r + 2][j] += b, y[4 * r + 3][j] += b;
    }
}

/* dst = clamp(y (+ r)), NaN passing as in ref; only cb floats stored (as
 * store_block in winograd.c, including why the clamp loop is not unrolled). */
INLINE void store_block(const float y[CB], const float *r, float lo, float hi, float *dst, size_t cb) {
  float o[CB];
  memcpy(o, y, sizeof o);
  if (r && cb == CB) {
    float rr[CB];
    memcpy(rr, r, sizeof rr);
    for (int j = 0; j < CB; j++) o[j] += rr[j];
  } else if (r) {
    for (size_t j = 0; j < cb; j++) o[j] += r[j];
  }
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 1
#endif
  for (int j = 0; j < CB; j++) {
    const float t = lo > o[j] ? lo : o[j];
    o[j] = hi < t ? hi : t;
  }
  if (cb == CB) memcpy(dst, o, sizeof o);
  else memcpy(dst, o, cb * sizeof(float));
}

#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
static void output_tiles(void *context, size_t b0, size_t count) {
  const block_ctx *bc = context;
  const xp_winograd_args *a = bc->a;
  for (int64_t b = (int64_t)b0; b < (int64_t)(b0 + count); b++) {
    int64_t n, ty, tx;
    tile_coords(a, bc->t0 + b, &n, &ty, &tx);
    for (int64_t c0 = 0; c0 < a->oc; c0 += CB) {
      const size_t cb = (size_t)ZN_MIN(CB, a->oc - c0);
      float m[P][CB], y[16][CB], bias[CB] = {0};
      for (int k = 0; k < P; k++) {
        const float *src = a->m + (k * bc->bt + b) * a->oc + c0;
        if (cb == CB) memcpy(m[k], src, sizeof m[k]);
        else memset(m[k], 0, sizeof m[k]), memcpy(m[k], src, cb * sizeof(float));
      }
      if (a->bias) memcpy(bias, a->bias + c0, cb * sizeof(float));
      output_block(m, bias, y);
      for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
          const int64_t oy = 4 * ty + i, ox = 4 * tx + j;
          if (oy >= a->oh || ox >= a->ow) continue;
          const int64_t pix = (n * a->oh + oy) * a->ow + ox;
          store_block(y[4 * i + j], a->residual ? a->residual + pix * a->r_stride + c0 : NULL, a->lo, a->hi,
                      a->y + pix * a->y_stride + c0, cb);
        }
    }
  }
}

static size_t task_tiles(int64_t bt, pthreadpool_t pool) {
  const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  const size_t per = (size_t)bt / (threads * 4);
  return per ? per : 1;
}

void zn_xnnpack_winograd43_input(const xp_winograd_args *a, int64_t t0, int64_t bt, pthreadpool_t pool) {
  block_ctx bc = {a, t0, bt};
  pthreadpool_parallelize_1d_tile_1d(pool, input_tiles, &bc, (size_t)bt, task_tiles(bt, pool), 0);
}

void zn_xnnpack_winograd43_output(const xp_winograd_args *a, int64_t t0, int64_t bt, pthreadpool_t pool) {
  block_ctx bc = {a, t0, bt};
  pthreadpool_parallelize_1d_tile_1d(pool, output_tiles, &bc, (size_t)bt, task_tiles(bt, pool), 0);
}
