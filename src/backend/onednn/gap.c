/* onednn backend, own global average pool step: NHWC f32 in, one mean per
 * image and channel out. oneDNN's jit pooling splits its threads over
 * channel blocks, so on 2 threads each core reads every pixel, half of them
 * from the other core's L2 (the conv before it split pixels), and the step
 * ran slower than on one thread (EfficientNet-B0's squeeze-excitation
 * pools: 0.31 ms on 2 threads, 0.21 on 1). Here the threads split pixels,
 * as the convs do, each summing its pixels into its own row of partial sums;
 * then they split channels to add the rows and scale
 * (docs/internals/onednn.md, "Squeeze-excitation"). */
#include <stdio.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/onednn/onednn.h"
#include "core/alloc.h"
#include "core/common.h"
#include "core/status.h"

/* Below this many input floats per image the step runs on the calling thread only. */
#define PARALLEL_MIN_FLOATS 16384

typedef struct odn_gap_run odn_gap_run;
struct odn_gap_run {
  const float *x;
  float *y;
  int64_t n, hw, ch;  /* images, pixels per image, channels */
  int threads;
  int64_t stride;     /* floats per row of partial: ch rounded up to a 64-byte line */
  float *partial;     /* [threads][stride]: one thread's sums over its pixels */
};

bool zn_onednn_gap_own_ok(const odn_compiled *c, const odn_op *op) {
  if (op->kind != ODN_POOL || op->num_ins != 1 || op->node < 0) return false;
  if (c->g->nodes[op->node].op != ZN_OP_GLOBAL_AVERAGE_POOL) return false;
  const int x = op->ins[0], y = op->out;
  const zn_value *xv = &c->g->values[c->values[x].gid];
  if (xv->num_dims != 4 || xv->dims[1] < 1 || xv->dims[2] < 1 || xv->dims[3] < 1) return false;  /* C, H, W static */
  return c->values[x].layout == ODN_NHWC && c->values[x].dt == dnnl_f32 && c->values[x].view_ctot == 0 &&
         c->values[y].layout == ODN_NHWC && c->values[y].dt == dnnl_f32 && c->values[y].view_ctot == 0;
}

static zn_status run_create(const odn_compiled *c, int op_index, int64_t batch, void *arena, const size_t *offset,
                            int threads, void **out) {
  *out = NULL;
  const odn_op *op = &c->ops[op_index];
  const zn_value *xv = &c->g->values[c->values[op->ins[0]].gid];
  int64_t d[ZN_MAX_DIMS];
  if (!zn_value_resolve_dims(xv, batch, d))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to size global average pool %s at batch %lld", xv->name,
                    (long long)batch);
  odn_gap_run *r = zn_calloc(1, sizeof *r);
  if (!r) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape onednn instance: out of memory");
  r->x = (const float *)((char *)arena + odn_value_offset(c, offset, op->ins[0]));
  r->y = (float *)((char *)arena + odn_value_offset(c, offset, op->out));
  r->n = d[0];
  r->ch = d[1];
  r->hw = d[2] * d[3];
  r->threads = threads > 1 && r->hw > 1 && r->hw * r->ch >= PARALLEL_MIN_FLOATS ? threads : 1;
  r->stride = (r->ch + 15) / 16 * 16;
  if (r->threads > 1 && !(r->partial = zn_calloc((size_t)r->threads * (size_t)r->stride, sizeof *r->partial))) {
    zn_free(r);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape onednn instance: out of memory");
  }
  *out = r;
  return ZN_OK;
}

static void run_destroy(void *run) {
  odn_gap_run *r = run;
  if (!r) return;
  zn_free(r->partial);
  zn_free(r);
}

/* 16 floats, any alignment: GCC's vector extension, so each target clone
 * keeps its accumulators in registers (zmm, 2 ymm, 4 xmm). A macro, not a
 * function: a vector return value would change the ABI between clones. */
typedef float v16 __attribute__((vector_size(64), aligned(4)));
#define LOAD16(p) (*(const v16 *)(const void *)(p))

/* Channels [k0, k0 + 16 * nv) of pixels [p0, p1) summed into s, two pixels
 * at a time (2 * nv independent additions in flight). nv is a literal at
 * every call, so the arrays below are registers. */
static inline __attribute__((always_inline)) void sum_block(float *restrict s, const float *restrict x, int64_t ch,
                                                            int64_t k0, int nv, int64_t p0, int64_t p1) {
  v16 a[2][4] = {{{0}}};
  int64_t p = p0;
  for (; p + 1 < p1; p += 2) {
    const float *px = x + p * ch + k0;
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
      a[0][v] += LOAD16(px + 16 * v);
      a[1][v] += LOAD16(px + ch + 16 * v);
    }
  }
  if (p < p1)
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) a[0][v] += LOAD16(x + p * ch + k0 + 16 * v);
#pragma GCC unroll 4
  for (int v = 0; v < nv; v++) {
    *(v16 *)(void *)(s + k0 + 16 * v) = a[0][v] + a[1][v];
  }
}

/* s[0..ch) = the sum of pixels [p0, p1) of one image: 64 channels per pass
 * over the pixels, then the 16-channel remainder in one pass, then the
 * last ch % 16 channels. */
ZN_CLONES
static void sum_pixels(float *restrict s, const float *restrict x, int64_t ch, int64_t p0, int64_t p1) {
  int64_t k0 = 0;
  for (; k0 + 64 <= ch; k0 += 64) sum_block(s, x, ch, k0, 4, p0, p1);
  switch ((ch - k0) / 16) {
    case 3: sum_block(s, x, ch, k0, 3, p0, p1); k0 += 48; break;
    case 2: sum_block(s, x, ch, k0, 2, p0, p1); k0 += 32; break;
    case 1: sum_block(s, x, ch, k0, 1, p0, p1); k0 += 16; break;
    default: break;
  }
  for (; k0 < ch; k0++) {
    float acc = 0.0f;
    for (int64_t p = p0; p < p1; p++) acc += x[p * ch + k0];
    s[k0] = acc;
  }
}

ZN_CLONES
static void scale(float *restrict y, int64_t ch, float inv) {
  ZN_SIMD for (int64_t k = 0; k < ch; k++) y[k] *= inv;
}

static void run_exec(const void *run) {
  const odn_gap_run *r = run;
  const float inv = 1.0f / (float)r->hw;
#ifdef _OPENMP
  if (r->threads > 1) {
#pragma omp parallel num_threads(r->threads)
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      float *mine = r->partial + t * r->stride;
      const int64_t c0 = r->ch * t / nt, c1 = r->ch * (t + 1) / nt;
      for (int64_t b = 0; b < r->n; b++) {
        sum_pixels(mine, r->x + b * r->hw * r->ch, r->ch, r->hw * t / nt, r->hw * (t + 1) / nt);
#pragma omp barrier
        float *yb = r->y + b * r->ch;
        for (int64_t k = c0; k < c1; k++) {
          float s = 0.0f;
          for (int64_t u = 0; u < nt; u++) s += r->partial[u * r->stride + k];
          yb[k] = s * inv;
        }
        if (b + 1 < r->n) {  /* the next image reuses the rows; after the last, the region's end waits */
#pragma omp barrier
        }
      }
    }
    return;
  }
#endif
  for (int64_t b = 0; b < r->n; b++) {
    float *yb = r->y + b * r->ch;
    sum_pixels(yb, r->x + b * r->hw * r->ch, r->ch, 0, r->hw);
    scale(yb, r->ch, inv);
  }
}

static void kernel_text(const odn_compiled *c, int op_index, const void *run, char *text, size_t size) {
  (void)c, (void)op_index, (void)run;
  snprintf(text, size, "own global average pool (C loop, pixel split)");
}

const odn_own_step zn_onednn_gap_step = {run_create, run_exec, run_destroy, kernel_text};
