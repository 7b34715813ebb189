/* Winograd F(2x2, 3x3) and F(4x4, 3x3) for 3x3 stride-1 convs, the
 * backend-neutral part shared by the xnnpack and onednn backends
 * (winograd.c): the weight transform U = G g G^T, the NHWC input
 * (V = B^T d B) and output (Y = A^T M A + bias + residual, clamped) tile
 * transforms over a tile range, tile blocking and scratch sizing. Each
 * backend runs the 16 or 36 GEMMs V[k] x U[k] and splits the tile ranges
 * over its own threads. */
#ifndef ZN_BACKEND_WINOGRAD_H
#define ZN_BACKEND_WINOGRAD_H

#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

/* Transformed positions, one GEMM each: (out_tile + 2)^2. */
#define ZN_WINOGRAD_F23_POSITIONS 16 /* F(2x2,3x3): 4x4 */
#define ZN_WINOGRAD_F43_POSITIONS 36 /* F(4x4,3x3): 6x6 */

/* One Winograd conv's run-time arguments. Input and output are NHWC with
 * pixel strides (views of a concat root included); v and m are scratch for
 * one block of at most `block` tiles: v[positions][bt][ic] (transformed
 * input), m[positions][bt][oc] (the GEMMs' outputs), bt = the block's tiles.
 * The output transform adds the bias and the residual and clamps to [lo, hi]. */
typedef struct zn_winograd_args {
  const float *x;
  int64_t x_stride, n, h, w, ic, pad_top, pad_left;
  float *y;
  int64_t y_stride, oh, ow, oc;
  int out_tile, positions;         /* 2 and 16: F(2x2,3x3); 4 and 36: F(4x4,3x3) */
  int64_t tiles_h, tiles_w, tiles; /* tiles = n * tiles_h * tiles_w (out_tile x out_tile output pixels each) */
  int64_t block;                   /* tiles per block (the last may have fewer); == tiles: one block */
  float *v, *m;
  const float *bias;      /* [oc] or NULL */
  const float *residual;  /* same shape as y, or NULL (may be y itself: read before written) */
  int64_t r_stride;
  float lo, hi;
} zn_winograd_args;

/* Can Winograd compute this Conv node (3x3 weights, stride 1, dilation 1,
 * group 1, pads <= 1, 4-D output)? Whether it pays, and with which tile, is
 * each backend's rule. */
ZN_INTERNAL bool zn_winograd_conv_ok(const zn_graph *g, const zn_node *n);
/* OIHW 3x3 weights [oc][ic][3][3] -> u[positions][oc][ic] = G g G^T for
 * out_tile 2 (F(2x2,3x3), 16 positions) or 4 (F(4x4,3x3), 36 positions). */
ZN_INTERNAL void zn_winograd_weights(const float *w, int64_t oc, int64_t ic, int out_tile, float *u);
/* Tiles per block for `tiles` tiles whose block scratch should fit budget
 * bytes (0: no blocking, all tiles): as many as fit (16 at least), then
 * balanced so the last block is not short; all tiles when the kernels of
 * the `positions` GEMMs alone would take half the budget (every block reads
 * them again). */
ZN_INTERNAL int64_t zn_winograd_block(int64_t tiles, int positions, int64_t ic, int64_t oc, size_t budget_bytes);
/* Floats of scratch (v then m, each 64-byte aligned) for blocks of block tiles. */
ZN_INTERNAL size_t zn_winograd_scratch_floats(int64_t block, int positions, int64_t ic, int64_t oc,
                                              size_t *m_offset_floats);
/* Tiles [t0 + b0, t0 + b1) of the block [t0, t0 + bt): x -> v (input), and
 * m -> y with bias, residual and clamp (output), F(2x2,3x3) or F(4x4,3x3) as
 * a->out_tile says. Any thread may run any disjoint range of the same block
 * at once. */
ZN_INTERNAL void zn_winograd_input_tiles(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1);
ZN_INTERNAL void zn_winograd_output_tiles(const zn_winograd_args *a, int64_t t0, int64_t bt, int64_t b0, int64_t b1);

#endif
