/* Winograd F(2x2, 3x3) and F(4x4, 3x3) for the xnnpack backend's 3x3
 * stride-1 dense convs. XNNPACK (this snapshot has no Winograd) runs the 16
 * or 36 GEMMs as fully-connected operators; the transforms are shared with
 * the onednn backend (backend/winograd.c). This file holds the xnnpack side:
 * the measured rules (which convs, which tile size) and the transforms split
 * over pthreadpool. */
#include "backend/xnnpack/xnnpack_internal.h"

/* ---- compile: which convs, which tile ---- */

/* The measured rule (docs/internals/xnnpack.md): F(2,3) pays once the GEMMs
 * are large enough for the transforms and the 16 operator launches to be
 * small beside them. On x86, ResNet-18's and VGG-16's 64..512-channel convs
 * at 14x14 and above win, the 7x7 ones lose (16 GEMM rows per image), and
 * SqueezeNet's expand convs with 16..48 input channels lose (short GEMMs). */
#define WINO_MIN_CHANNELS 64
#define WINO_MIN_OUT_PIXELS (14 * 14)

bool zn_xnnpack_winograd_eligible(const zn_graph *g, const zn_node *n, xp_winograd_mode mode) {
  if (mode == XP_WINOGRAD_OFF || !zn_winograd_conv_ok(g, n)) return false;
  if (mode == XP_WINOGRAD_ALL || mode == XP_WINOGRAD_ALL4) return true;
  const zn_value *w = &g->values[zn_node_input(n, 1)], *y = &g->values[n->outputs[0]];
  return w->dims[0] >= WINO_MIN_CHANNELS && w->dims[1] >= WINO_MIN_CHANNELS &&
         y->dims[2] * y->dims[3] >= WINO_MIN_OUT_PIXELS;
}

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

/* ---- run: transforms, split over tiles ---- */

/* One block's tiles [t0, t0 + bt): the pthreadpool task context. */
typedef struct block_ctx {
  const zn_winograd_args *a;
  int64_t t0, bt;
} block_ctx;

static void input_tiles(void *context, size_t b0, size_t count) {
  const block_ctx *bc = context;
  zn_winograd_input_tiles(bc->a, bc->t0, bc->bt, (int64_t)b0, (int64_t)(b0 + count));
}

static void output_tiles(void *context, size_t b0, size_t count) {
  const block_ctx *bc = context;
  zn_winograd_output_tiles(bc->a, bc->t0, bc->bt, (int64_t)b0, (int64_t)(b0 + count));
}

/* Tiles per task: a few tasks per thread so uneven tiles balance. */
static size_t task_tiles(int64_t bt, pthreadpool_t pool) {
  const size_t threads = pool ? pthreadpool_get_threads_count(pool) : 1;
  const size_t per = (size_t)bt / (threads * 4);
  return per ? per : 1;
}

void zn_xnnpack_winograd_input(const zn_winograd_args *a, int64_t t0, int64_t bt, pthreadpool_t pool) {
  block_ctx bc = {a, t0, bt};
  pthreadpool_parallelize_1d_tile_1d(pool, input_tiles, &bc, (size_t)bt, task_tiles(bt, pool), 0);
}

void zn_xnnpack_winograd_output(const zn_winograd_args *a, int64_t t0, int64_t bt, pthreadpool_t pool) {
  block_ctx bc = {a, t0, bt};
  pthreadpool_parallelize_1d_tile_1d(pool, output_tiles, &bc, (size_t)bt, task_tiles(bt, pool), 0);
}
