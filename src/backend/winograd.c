/* Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3 stride-1 dense convs, shared
 * by the xnnpack and onednn backends: 2.25x (F(2,3)) or 4x (F(4,3)) fewer
 * multiplies than the direct conv. Here the weight transforms U = G g G^T
 * and the NHWC input (V = B^T d B) and output (Y = A^T M A + bias +
 * residual, clamped) transforms over a tile range, in portable C the compiler
 * vectorizes over channels (with AVX-512 / AVX2 clones on x86-64); each
 * backend runs the 16 or 36 GEMMs and the threads. */
#include "backend/winograd.h"

#include <string.h>

#include "core/common.h"

/* Channels handled per inner block: fixed-length loops over local arrays that
 * GCC vectorizes at -O2 (no aliasing, no remainder) on x86 and ARM alike. */
#define CB 16

/* The helpers below must inline into the target clones of the tile loops
 * (GCC does not inline across targets on its own). */
#if defined(__GNUC__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

/* ---- compile: which convs ---- */

bool zn_winograd_conv_ok(const zn_graph *g, const zn_node *n) {
  if (n->op != ZN_OP_CONV || n->num_inputs < 2) return false;
  const zn_conv_attrs *a = &n->attrs.conv;
  const zn_value *w = &g->values[zn_node_input(n, 1)], *y = &g->values[n->outputs[0]];
  if (a->group != 1 || w->num_dims != 4 || w->dims[2] != 3 || w->dims[3] != 3 || y->num_dims != 4) return false;
  for (int i = 0; i < 2; i++)
    if (a->stride[i] != 1 || a->dilation[i] != 1 || a->pad_begin[i] > 1 || a->pad_end[i] > 1) return false;
  return true;
}

/* ---- instance creation: weights ---- */

/* F(2,3): G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]. */
static void weights_f23(const float *w, int64_t oc, int64_t ic, float *u) {
  const size_t plane = (size_t)(oc * ic);
  for (int64_t o = 0; o < oc; o++)
    for (int64_t i = 0; i < ic; i++) {
      const float *g = w + (o * ic + i) * 9;
      float t[4][3]; /* G g */
      for (int c = 0; c < 3; c++) {
        t[0][c] = g[c];
        t[1][c] = 0.5f * (g[c] + g[3 + c] + g[6 + c]);
        t[2][c] = 0.5f * (g[c] - g[3 + c] + g[6 + c]);
        t[3][c] = g[6 + c];
      }
      float *dst = u + o * ic + i;
      for (int r = 0; r < 4; r++) { /* (G g) G^T */
        dst[(size_t)(r * 4 + 0) * plane] = t[r][0];
        dst[(size_t)(r * 4 + 1) * plane] = 0.5f * (t[r][0] + t[r][1] + t[r][2]);
        dst[(size_t)(r * 4 + 2) * plane] = 0.5f * (t[r][0] - t[r][1] + t[r][2]);
        dst[(size_t)(r * 4 + 3) * plane] = t[r][2];
      }
    }
}

/* F(4,3), points 0, +-1, +-2 and infinity:
 * G = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]. */
static void g_col(const float g[3], float t[6]) {
  t[0] = 0.25f * g[0];
  t[1] = -(g[0] + g[1] + g[2]) / 6.0f;
  t[2] = -(g[0] - g[1] + g[2]) / 6.0f;
  t[3] = g[0] / 24.0f + g[1] / 12.0f + g[2] / 6.0f;
  t[4] = g[0] / 24.0f - g[1] / 12.0f + g[2] / 6.0f;
  t[5] = g[2];
}

static void weights_f43(const float *w, int64_t oc, int64_t ic, float *u) {
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

void zn_winograd_weights(const float *w, int64_t oc, int64_t ic, int out_tile, float *u) {
  if (out_tile == 4) weights_f43(w, oc, ic, u);
  else weights_f23(w, oc, ic, u);
}

static size_t round_floats(size_t n) { return (n + 15) / 16 * 16; }

int64_t zn_winograd_block(int64_t tiles, int positions, int64_t ic, int64_t oc, size_t budget_bytes) {
  if (budget_bytes == 0 || tiles <= 16) return tiles;
  /* Every block reads all the kernels again: block only where they are small
   * beside the budget (ResNet's 64-channel convs, F(2,3): 256 KiB). */
  if ((size_t)positions * sizeof(float) * (size_t)(ic * oc) > budget_bytes / 2) return tiles;
  const size_t per_tile = (size_t)positions * sizeof(float) * (size_t)(ic + oc);
  const int64_t fit = ZN_MAX((int64_t)(budget_bytes / per_tile), 16);
  if (fit >= tiles) return tiles;
  const int64_t blocks = (tiles + fit - 1) / fit;
  return (tiles + blocks - 1) / blocks; /* balanced: no short last block */
}

size_t zn_winograd_scratch_floats(int64_t block, int positions, int64_t ic, int64_t oc, size_t *m_offset_floats) {
  *m_offset_floats = round_floats((size_t)positions * (size_t)block * (size_t)ic);
  return *m_offset_floats + round_floats((size_t)positions * (size_t)block * (size_t)oc);
}

/* ---- run: helpers of both tile sizes ---- */

/* Image, tile row and tile column of tile t (tiles numbered image by image, row-major). */
INLINE void tile_coords(const zn_winograd_args *a, int64_t t, int64_t *n, int64_t *ty, int64_t *tx) {
  const int64_t per_image = a->tiles_h * a->tiles_w;
  *n = t / per_image;
  *ty = t % per_image / a->tiles_w;
  *tx = t % a->tiles_w;
}

/* dst = clamp(y (+ r)), NaN passing through as in ref. y holds CB valid
 * floats (zero-padded m, zero bias past cb); only cb are stored. */
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
  /* Branch-free selects (max then min, NaN kept), and no early full unroll
   * (which left GCC's SLP with scalar compares and a store-forwarding stall):
   * the loop vectorizer turns them into max/min. */
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

/* ---- run: the steps both tile sizes share (inlined with constant sizes) ---- */

/* The n x n input pixels of tile (img, ty, tx) at output stride ot, NULL in the padding. */
INLINE void tile_pixels(const zn_winograd_args *a, int64_t img, int64_t ty, int64_t tx, int n, int ot,
                        const float **px) {
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      const int64_t r = ot * ty - a->pad_top + i, c = ot * tx - a->pad_left + j;
      px[n * i + j] = r >= 0 && r < a->h && c >= 0 && c < a->w ? a->x + ((img * a->h + r) * a->w + c) * a->x_stride
                                                                 : NULL;
    }
}

/* d[k] = channels [c0, c0 + cb) of px[k], zero past cb and in the padding. */
INLINE void load_pixels(const float **px, int count, int64_t c0, size_t cb, float (*d)[CB]) {
  for (int k = 0; k < count; k++) {
    if (px[k] && cb == CB) {
      memcpy(d[k], px[k] + c0, sizeof d[k]);
    } else {
      memset(d[k], 0, sizeof d[k]);
      if (px[k]) memcpy(d[k], px[k] + c0, cb * sizeof(float));
    }
  }
}

/* Position k of tile b in a [positions][bt][ch] scratch (v or m), channel c0. */
INLINE float *scratch_at(float *base, int k, int64_t bt, int64_t b, int64_t ch, int64_t c0) {
  return base + (k * bt + b) * ch + c0;
}

/* m[k] = channels [c0, c0 + cb) of tile b's position k, zero past cb. */
INLINE void load_positions(const zn_winograd_args *a, int count, int64_t bt, int64_t b, int64_t c0, size_t cb,
                           float (*m)[CB]) {
  for (int k = 0; k < count; k++) {
    const float *src = scratch_at(a->m, k, bt, b, a->oc, c0);
    if (cb == CB) memcpy(m[k], src, sizeof m[k]);
    else memset(m[k], 0, sizeof m[k]), memcpy(m[k], src, cb * sizeof(float));
  }
}

/* The ot x ot outputs y of tile (img, ty, tx), clipped to the output, with
 * the residual and the clamp. */
INLINE void store_outputs(const zn_winograd_args *a, int64_t img, int64_t ty, int64_t tx, int ot, float (*y)[CB],
                          int64_t c0, size_t cb) {
  for (int i = 0; i < ot; i++)
    for (int j = 0; j < ot; j++) {
      const int64_t oy = ot * ty + i, ox = ot * tx + j;
      if (oy >= a->oh || ox >= a->ow) continue;
      const int64_t pix = (img * a->oh + oy) * a->ow + ox;
      store_block(y[ot * i + j], a->residual ? a->residual + pix * a->r_stride + c0 : NULL, a->lo, a->hi,
                  a->y + pix * a->y_stride + c0, cb);
    }
}

/* ---- run: F(2x2,3x3) transforms, 4x4 input tiles, 16 positions ---- */

/* B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]; v = B^T d B on CB channels. */
INLINE void input_block_f23(float d[16][CB], float v[16][CB]) {
  float t[16][CB];
  for (int c = 0; c < 4; c++)
    for (int j = 0; j < CB; j++) {
      const float d0 = d[0 + c][j], d1 = d[4 + c][j], d2 = d[8 + c][j], d3 = d[12 + c][j];
      t[0 + c][j] = d0 - d2;
      t[4 + c][j] = d1 + d2;
      t[8 + c][j] = d2 - d1;
      t[12 + c][j] = d1 - d3;
    }
  for (int r = 0; r < 4; r++)
    for (int j = 0; j < CB; j++) {
      const float t0 = t[4 * r + 0][j], t1 = t[4 * r + 1][j], t2 = t[4 * r + 2][j], t3 = t[4 * r + 3][j];
      v[4 * r + 0][j] = t0 - t2;
      v[4 * r + 1][j] = t1 + t2;
      v[4 * r + 2][j] = t2 - t1;
      v[4 * r + 3][j] = t1 - t3;
    }
}

/* The build is portable (no -march): AVX-512 / AVX2 clones picked at load time. */
ZN_CLONES
static void input_f23(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; b++) {
    int64_t n, ty, tx;
    tile_coords(a, t0 + b, &n, &ty, &tx);
    const float *px[16];
    tile_pixels(a, n, ty, tx, 4, 2, px);
    for (int64_t c0 = 0; c0 < a->ic; c0 += CB) {
      const size_t cb = (size_t)ZN_MIN(CB, a->ic - c0);
      float d[16][CB], v[16][CB];
      load_pixels(px, 16, c0, cb, d);
      input_block_f23(d, v);
      for (int k = 0; k < 16; k++) {
        float *dst = scratch_at(a->v, k, bt, b, a->ic, c0);
        if (cb == CB) memcpy(dst, v[k], sizeof v[k]);
        else memcpy(dst, v[k], cb * sizeof(float));
      }
    }
  }
}

/* A^T = [1 1 1 0; 0 1 -1 -1]; y = A^T m A (2x2) + bias on CB channels. */
INLINE void output_block_f23(float m[16][CB], const float bias[CB], float y[4][CB]) {
  float s[8][CB];
  for (int c = 0; c < 4; c++)
    for (int j = 0; j < CB; j++) {
      const float m0 = m[0 + c][j], m1 = m[4 + c][j], m2 = m[8 + c][j], m3 = m[12 + c][j];
      s[0 + c][j] = m0 + m1 + m2;
      s[4 + c][j] = m1 - m2 - m3;
    }
  for (int r = 0; r < 2; r++)
    for (int j = 0; j < CB; j++) {
      const float s0 = s[4 * r + 0][j], s1 = s[4 * r + 1][j], s2 = s[4 * r + 2][j], s3 = s[4 * r + 3][j];
      y[2 * r + 0][j] = s0 + s1 + s2 + bias[j];
      y[2 * r + 1][j] = s1 - s2 - s3 + bias[j];
    }
}

/* The build is portable (no -march): AVX-512 / AVX2 clones picked at load time. */
ZN_CLONES
static void output_f23(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; b++) {
    int64_t n, ty, tx;
    tile_coords(a, t0 + b, &n, &ty, &tx);
    for (int64_t c0 = 0; c0 < a->oc; c0 += CB) {
      const size_t cb = (size_t)ZN_MIN(CB, a->oc - c0);
      float m[16][CB], bias[CB] = {0}, y[4][CB];
      load_positions(a, 16, bt, b, c0, cb, m);
      if (a->bias) memcpy(bias, a->bias + c0, cb * sizeof(float));
      output_block_f23(m, bias, y);
      store_outputs(a, n, ty, tx, 2, y, c0, cb);
    }
  }
}

/* ---- run: F(4x4,3x3) transforms, 6x6 input tiles, 36 positions ---- */

#define P ZN_WINOGRAD_F43_POSITIONS

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
INLINE void input_block_f43(float d[P][CB], float v[P][CB]) {
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

/* The build is portable (no -march): AVX-512 / AVX2 clones picked at load time. */
ZN_CLONES
static void input_f43(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; b++) {
    int64_t n, ty, tx;
    tile_coords(a, t0 + b, &n, &ty, &tx);
    const float *px[P];
    tile_pixels(a, n, ty, tx, 6, 4, px);
    for (int64_t c0 = 0; c0 < a->ic; c0 += CB) {
      const size_t cb = (size_t)ZN_MIN(CB, a->ic - c0);
      float d[P][CB], t[P][CB];
      load_pixels(px, P, c0, cb, d);
      input_block_f43(d, t);
      for (int k = 0; k < P; k++) {
        float *dst = scratch_at(a->v, k, bt, b, a->ic, c0);
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
INLINE void output_block_f43(float m[P][CB], const float bias[CB], float y[16][CB]) {
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

/* The build is portable (no -march): AVX-512 / AVX2 clones picked at load time. */
ZN_CLONES
static void output_f43(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1) {
  for (int64_t b = b0; b < b1; b++) {
    int64_t n, ty, tx;
    tile_coords(a, t0 + b, &n, &ty, &tx);
    for (int64_t c0 = 0; c0 < a->oc; c0 += CB) {
      const size_t cb = (size_t)ZN_MIN(CB, a->oc - c0);
      float m[P][CB], y[16][CB], bias[CB] = {0};
      load_positions(a, P, bt, b, c0, cb, m);
      if (a->bias) memcpy(bias, a->bias + c0, cb * sizeof(float));
      output_block_f43(m, bias, y);
      store_outputs(a, n, ty, tx, 4, y, c0, cb);
    }
  }
}

/* ---- run: the entry points, one tile size or the other ---- */

void zn_winograd_input_tiles(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1) {
  if (a->out_tile == 4) input_f43(a, t0, bt, b0, b1);
  else input_f23(a, t0, bt, b0, b1);
}

void zn_winograd_output_tiles(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1) {
  if (a->out_tile == 4) output_f43(a, t0, bt, b0, b1);
  else output_f23(a, t0, bt, b0, b1);
}
