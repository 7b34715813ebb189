/* onednn backend, own Winograd F(2x2,3x3) or F(4x4,3x3) conv step, NHWC in
 * and out: the shared C transforms (backend/winograd.c) split over the
 * instance's OpenMP team, and the P = 16 or 36 GEMMs as one batched oneDNN
 * matmul [P][bt][ic] x [P][ic][oc] per block of bt tiles (blocks sized so V and M stay in L2),
 * whose weights U = G g G^T are packed once per compiled model. oneDNN 2.6's
 * own Winograd needs nChw16c (two reorders); this one needs none
 * (docs/internals/onednn.md, "Own Winograd"). */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/onednn/onednn.h"
#include "backend/winograd.h"
#include "core/alloc.h"
#include "core/common.h"
#include "core/status.h"
#include "core/time.h"

/* Below this many tiles x channels (F(2x2,3x3) tiles: an F(4x4,3x3) tile
 * counts 36/16 of one) a transform runs on the calling thread only. */
#define PARALLEL_MIN_WORK 4096

struct odn_wino_run {
  zn_winograd_args a;          /* part 0's V and M */
  int threads;
  int parts;                   /* > 1: per-thread blocks (part p's scratch at p * part_stride) */
  size_t part_stride;
};

typedef struct geometry {
  int out_tile, positions; /* 2 and 16: F(2x2,3x3); 4 and 36: F(4x4,3x3) */
  int64_t ic, oc, h, w, oh, ow, tiles_h, tiles_w;
  int64_t tiles, block; /* at the batch given: all tiles, tiles per block (the matmul's rows) */
} geometry;

/* Tiles per block: as many as V+M of budget_bytes hold, but at least
 * ODN_OWN_WINOGRAD_BLOCK_MIN_TILES (every block's matmul reads all of U
 * again), balanced so the last block is not short. Unlike the shared rule
 * xnnpack uses (zn_winograd_block) large kernels are blocked too: one oneDNN matmul per
 * block costs little, and unblocked V+M of Inception-V3's 73x73 80->192 conv
 * took 22 MiB. */
static int64_t block_tiles(int64_t tiles, int positions, int64_t ic, int64_t oc, size_t budget_bytes, int parts) {
  int64_t blocks = 1;
  if (budget_bytes) {
    const size_t per_tile = (size_t)positions * sizeof(float) * (size_t)(ic + oc);
    const int64_t fit = ZN_MAX((int64_t)(budget_bytes / per_tile), ODN_OWN_WINOGRAD_BLOCK_MIN_TILES);
    blocks = (tiles + fit - 1) / fit;
  }
  /* per-thread blocks: a multiple of the parts, each part the same number */
  if (parts > 1) blocks = ZN_MIN((blocks + parts - 1) / parts * parts, tiles);
  return (tiles + blocks - 1) / blocks;
}

static void geometry_of(const odn_compiled *c, const zn_node *n, int out_tile, int64_t batch, int parts,
                        geometry *gm) {
  const zn_graph *g = c->g;
  gm->out_tile = out_tile == 4 ? 4 : 2;
  gm->positions = gm->out_tile == 4 ? ZN_WINOGRAD_F43_POSITIONS : ZN_WINOGRAD_F23_POSITIONS;
  const zn_value *x = &g->values[zn_node_input(n, 0)], *y = &g->values[n->outputs[0]];
  gm->ic = x->dims[1];
  gm->h = x->dims[2];
  gm->w = x->dims[3];
  gm->oc = y->dims[1];
  gm->oh = y->dims[2];
  gm->ow = y->dims[3];
  gm->tiles_h = (gm->oh + gm->out_tile - 1) / gm->out_tile;
  gm->tiles_w = (gm->ow + gm->out_tile - 1) / gm->out_tile;
  gm->tiles = batch * gm->tiles_h * gm->tiles_w;
  gm->block = block_tiles(gm->tiles, gm->positions, gm->ic, gm->oc, c->tune.own_winograd_block_bytes, parts);
}

bool zn_onednn_wino_own_ok(const odn_compiled *c, const zn_node *n) {
  const zn_graph *g = c->g;
  float lo, hi;
  if (c->compute_dt != dnnl_f32 || !zn_winograd_conv_ok(g, n) || !zn_onednn_act_clamp(n->attrs.conv.act, &lo, &hi)) return false;
  const zn_value *x = &g->values[zn_node_input(n, 0)], *w = &g->values[zn_node_input(n, 1)];
  if (!w->data || w->dtype != ZN_DTYPE_FLOAT32 || x->num_dims != 4 || x->batch_axis != 0) return false;
  for (int i = 1; i < 4; i++)
    if (x->dims[i] <= 0) return false;
  return w->dims[1] == x->dims[1];
}

static size_t round64(size_t bytes) { return (bytes + 63) / 64 * 64; }

/* Per-thread parts read all of U each (team-shared blocks split it): they
 * pay where U stays in a core's L2 or the team already reads U once per block
 * of several; not where one shared block would read a large U once. */
int zn_onednn_wino_parts(const odn_compiled *c, const odn_op *op, int64_t batch, int threads) {
  if (threads < 2 || c->tune.own_winograd_split == 0) return 1;
  geometry gm;
  geometry_of(c, &c->g->nodes[op->node], op->wino_tile, batch, 1, &gm);
  if (c->tune.own_winograd_split == 2) return gm.tiles >= threads ? threads : 1;
  const size_t u_bytes = (size_t)gm.positions * (size_t)gm.ic * (size_t)gm.oc * sizeof(float);
  const int64_t shared_blocks = (gm.tiles + gm.block - 1) / gm.block;
  const bool u_cheap = u_bytes <= ODN_OWN_WINOGRAD_SPLIT_MAX_U_BYTES || shared_blocks >= threads;
  return u_cheap && gm.tiles >= threads * ODN_OWN_WINOGRAD_SPLIT_MIN_TILES ? threads : 1;
}

zn_status zn_onednn_wino_matmul_pd(const odn_compiled *c, const zn_node *n, int out_tile, int64_t batch, int parts,
                                   const dnnl_memory_desc_t *wmd, dnnl_primitive_desc_t *pd_out) {
  geometry gm;
  geometry_of(c, n, out_tile, batch, parts, &gm);
  *pd_out = NULL;
  /* every block, the last one too, has gm.block rows: the last block's rows
   * past its tiles are left over from the block before and never read back */
  const int64_t t = gm.block;
  dnnl_dims_t sd = {gm.positions, t, gm.ic}, wd = {gm.positions, gm.ic, gm.oc}, dd = {gm.positions, t, gm.oc};
  dnnl_memory_desc_t src, wany, dst;
  dnnl_memory_desc_init_by_tag(&src, 3, sd, dnnl_f32, dnnl_abc);
  dnnl_memory_desc_init_by_tag(&wany, 3, wd, dnnl_f32, dnnl_format_tag_any);
  dnnl_memory_desc_init_by_tag(&dst, 3, dd, dnnl_f32, dnnl_abc);
  dnnl_primitive_attr_t attr = NULL;
  ODN_TRY_DNNL(dnnl_primitive_attr_create(&attr), "create a oneDNN attribute");
  dnnl_status_t st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
  dnnl_matmul_desc_t md;
  /* the packed layout first (no private copy when the kernel takes it at this batch) */
  if (st == dnnl_success && wmd && dnnl_matmul_desc_init(&md, &src, wmd, NULL, &dst) == dnnl_success &&
      dnnl_primitive_desc_create(pd_out, &md, attr, c->engine, NULL) == dnnl_success) {
    dnnl_primitive_attr_destroy(attr);
    return ZN_OK;
  }
  *pd_out = NULL;
  if (st == dnnl_success) st = dnnl_matmul_desc_init(&md, &src, &wany, NULL, &dst);
  if (st == dnnl_success) st = dnnl_primitive_desc_create(pd_out, &md, attr, c->engine, NULL);
  dnnl_primitive_attr_destroy(attr);
  if (st != dnnl_success) {
    *pd_out = NULL;
    return zn_error(ZN_ERR_INTERNAL, "failed to create the Winograd matmul of conv %s at batch %lld: oneDNN status %d",
                    n->name, (long long)batch, (int)st);
  }
  return ZN_OK;
}

zn_status zn_onednn_wino_pack(const odn_compiled *c, const zn_node *n, int out_tile, const dnnl_memory_desc_t *md,
                              void *dst) {
  geometry gm;
  geometry_of(c, n, out_tile, 1, 1, &gm);
  size_t floats = (size_t)gm.positions * (size_t)gm.ic * (size_t)gm.oc;
  float *u = zn_alloc_aligned(floats * sizeof *u);
  if (!u) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to pack Winograd weights of conv %s: out of memory", n->name);
  zn_winograd_weights(c->g->values[zn_node_input(n, 1)].data, gm.oc, gm.ic, gm.out_tile, u);
  /* u is [P][oc][ic]: the matmul's [P][ic][oc] weights with strides (oc*ic, 1, ic) */
  dnnl_dims_t wd = {gm.positions, gm.ic, gm.oc}, strides = {gm.oc * gm.ic, 1, gm.ic};
  dnnl_memory_desc_t smd;
  zn_status st = dnnl_memory_desc_init_by_strides(&smd, 3, wd, dnnl_f32, strides) == dnnl_success
                     ? zn_onednn_reorder_now(c->engine, &smd, u, md, dst)
                     : zn_error(ZN_ERR_INTERNAL, "failed to describe Winograd weights of conv %s", n->name);
  zn_free_aligned(u);
  return st;
}

size_t zn_onednn_wino_scratch_bytes(const odn_compiled *c, const odn_op *op, int64_t batch, int parts) {
  geometry gm;
  geometry_of(c, &c->g->nodes[op->node], op->wino_tile, batch, parts, &gm);
  const size_t t = (size_t)gm.block, p = (size_t)gm.positions;
  return round64(p * t * (size_t)gm.ic * sizeof(float)) + round64(p * t * (size_t)gm.oc * sizeof(float));
}

/* Arguments for node at batch over the given buffers (v then m in scratch). */
static void args_init(const odn_compiled *c, const zn_node *n, int out_tile, int64_t batch, int parts, const float *x,
                      float *y, const float *residual, const float *bias, void *scratch, zn_winograd_args *a) {
  geometry gm;
  geometry_of(c, n, out_tile, batch, parts, &gm);
  const zn_conv_attrs *ca = &n->attrs.conv;
  *a = (zn_winograd_args){
      .x = x, .x_stride = gm.ic, .n = batch, .h = gm.h, .w = gm.w, .ic = gm.ic,
      .pad_top = ca->pad_begin[0], .pad_left = ca->pad_begin[1],
      .y = y, .y_stride = gm.oc, .oh = gm.oh, .ow = gm.ow, .oc = gm.oc,
      .out_tile = gm.out_tile, .positions = gm.positions,
      .tiles_h = gm.tiles_h, .tiles_w = gm.tiles_w, .tiles = gm.tiles, .block = gm.block,
      .bias = bias, .residual = residual, .r_stride = gm.oc};
  a->v = scratch;
  a->m = (float *)((char *)scratch +
                   round64((size_t)gm.positions * (size_t)a->block * (size_t)gm.ic * sizeof(float)));
  zn_onednn_act_clamp(ca->act, &a->lo, &a->hi);
}

/* One transform over the block's tiles [t0, t0 + bt) (V and M rows strided by
 * a->block), split in contiguous ranges over the team. */
static void transform(const zn_winograd_args *a, int64_t t0, int64_t bt, int threads, bool output) {
  const int64_t work = bt * (output ? a->oc : a->ic) * a->positions / ZN_WINOGRAD_F23_POSITIONS;
#ifdef _OPENMP
  if (threads > 1 && bt > 1 && work >= PARALLEL_MIN_WORK) {
#pragma omp parallel num_threads(threads)
    {
      const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      const int64_t b0 = bt * t / nt, b1 = bt * (t + 1) / nt;
      if (output) zn_winograd_output_tiles(a, t0, a->block, b0, b1);
      else zn_winograd_input_tiles(a, t0, a->block, b0, b1);
    }
    return;
  }
#else
  (void)threads;
  (void)work;
#endif
  if (output) zn_winograd_output_tiles(a, t0, a->block, 0, bt);
  else zn_winograd_input_tiles(a, t0, a->block, 0, bt);
}

/* One whole block on the calling thread: input transform, matmul, output transform. */
static dnnl_status_t block_run(const zn_winograd_args *a, int64_t t0, int threads, dnnl_primitive_t prim,
                               dnnl_stream_t stream, int nargs, const dnnl_exec_arg_t *args) {
  const int64_t bt = ZN_MIN(a->block, a->tiles - t0);
  transform(a, t0, bt, threads, false);
  dnnl_status_t st = dnnl_primitive_execute(prim, stream, nargs, args);
  if (st == dnnl_success) st = dnnl_stream_wait(stream);
  if (st == dnnl_success) transform(a, t0, bt, threads, true);
  return st;
}

/* Block by block, so that V and M stay in L2 from one phase to the next. Shared
 * (parts == 1): each phase split over the team, the matmul on the team too.
 * Per-thread (parts > 1): each thread takes whole blocks through its own V, M,
 * scratchpad, stream and a 1-thread matmul (args + p * nargs), with no barrier
 * between the phases; blocks are handed out dynamically, so a pre-empted
 * thread delays only the block it holds. */
static zn_status exec(const zn_winograd_args *a, int threads, int parts, size_t part_stride, dnnl_primitive_t prim,
                      const dnnl_stream_t *streams, int nargs, const dnnl_exec_arg_t *args) {
  dnnl_status_t st = dnnl_success;
#ifdef _OPENMP
  if (parts > 1) {
    const int64_t blocks = (a->tiles + a->block - 1) / a->block;
    int failed = 0;
#pragma omp parallel num_threads(parts)
    {
      const int p = omp_get_thread_num();
      zn_winograd_args at = *a;
      at.v = (float *)((char *)a->v + (size_t)p * part_stride);
      at.m = (float *)((char *)a->m + (size_t)p * part_stride);
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < blocks; b++) {
        dnnl_status_t bs = block_run(&at, b * a->block, 1, prim, streams[p], nargs, args + (size_t)p * (size_t)nargs);
        if (bs != dnnl_success) {
#pragma omp atomic write
          failed = (int)bs;
        }
      }
    }
    st = (dnnl_status_t)failed;
  } else
#else
  (void)parts;
  (void)part_stride;
#endif
  {
    for (int64_t t0 = 0; t0 < a->tiles && st == dnnl_success; t0 += a->block)
      st = block_run(a, t0, threads, prim, streams[0], nargs, args);
  }
  if (st != dnnl_success)
    return zn_error(ZN_ERR_INTERNAL, "failed to run a Winograd matmul: oneDNN status %d", (int)st);
  return ZN_OK;
}

zn_status zn_onednn_wino_run_create(const odn_compiled *c, const odn_op *op, int64_t batch, void *arena,
                                    const size_t *offset, void *scratch, int threads, int parts, size_t part_stride,
                                    odn_wino_run **out) {
  *out = NULL;
  odn_wino_run *r = zn_calloc(1, sizeof *r);
  if (!r) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape onednn instance: out of memory");
  const zn_node *n = &c->g->nodes[op->node];
  const float *x = (const float *)((char *)arena + offset[c->values[op->ins[0]].root]);
  float *y = (float *)((char *)arena + odn_value_offset(c, offset, op->out));  /* a concat's channel slice too */
  const float *res = op->residual >= 0 ? (const float *)((char *)arena + offset[c->values[op->residual].root]) : NULL;
  args_init(c, n, op->wino_tile, batch, parts, x, y, res, op->bias, scratch, &r->a);
  r->a.y_stride = odn_value_pixel_stride(c, op->out, r->a.y_stride);
  r->threads = threads > 0 ? threads : 1;
  r->parts = parts > 1 ? parts : 1;
  r->part_stride = part_stride;
  *out = r;
  return ZN_OK;
}

zn_status zn_onednn_wino_run_exec(const odn_wino_run *r, dnnl_primitive_t prim, const dnnl_stream_t *streams,
                                  int nargs, const dnnl_exec_arg_t *args) {
  return exec(&r->a, r->threads, r->parts, r->part_stride, prim, streams, nargs, args);
}

void zn_onednn_wino_run_destroy(odn_wino_run *r) { zn_free(r); }

/* ------------------------------------------------------------ timing */

double zn_onednn_wino_time(const odn_compiled *c, const zn_node *n, int out_tile, int64_t batch) {
  geometry gm;
  geometry_of(c, n, out_tile, batch, 1, &gm);
  dnnl_primitive_desc_t pd = NULL;
  if (zn_onednn_wino_matmul_pd(c, n, out_tile, batch, 1, NULL, &pd) != ZN_OK) return -1;
  const dnnl_memory_desc_t *wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
  const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
  const dnnl_memory_desc_t *vmd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t *mmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  const size_t xb = (size_t)(batch * gm.h * gm.w * gm.ic) * sizeof(float);
  const size_t yb = (size_t)(batch * gm.oh * gm.ow * gm.oc) * sizeof(float);
  odn_op tmp = {.node = (int)(n - c->g->nodes), .wino_tile = gm.out_tile};
  const size_t vmb = zn_onednn_wino_scratch_bytes(c, &tmp, batch, 1);
  const size_t wb = dnnl_memory_desc_get_size(wmd), sb = smd ? dnnl_memory_desc_get_size(smd) : 0;
  const bool residual = n->num_inputs > 3 && zn_node_input(n, 3) != ZN_NO_VALUE;
  const bool bias = n->num_inputs > 2 && zn_node_input(n, 2) != ZN_NO_VALUE;
  float *x = zn_calloc_aligned(xb), *y = zn_calloc_aligned(yb), *res = residual ? zn_calloc_aligned(yb) : NULL;
  float *bv = zn_calloc_aligned((size_t)gm.oc * sizeof(float));
  void *vm = zn_calloc_aligned(vmb), *w = zn_calloc_aligned(wb ? wb : 64), *s = sb ? zn_calloc_aligned(sb) : NULL;
  dnnl_primitive_t prim = NULL;
  dnnl_stream_t stream = NULL;
  dnnl_memory_t mems[4] = {0};
  dnnl_exec_arg_t args[4];
  int nargs = 0;
  double best = -1;
  dnnl_status_t st = x && y && (res || !residual) && bv && vm && w && (s || !sb) ? dnnl_success : dnnl_out_of_memory;
  if (st == dnnl_success) st = dnnl_primitive_create(&prim, pd);
  if (st == dnnl_success) st = dnnl_stream_create(&stream, c->engine, dnnl_stream_default_flags);
  zn_winograd_args a;
  args_init(c, n, out_tile, batch, 1, x, y, res, bias ? bv : NULL, vm, &a);
  const struct { int arg; const dnnl_memory_desc_t *md; void *ptr; } bind[4] = {
      {DNNL_ARG_SRC, vmd, a.v}, {DNNL_ARG_WEIGHTS, wmd, w}, {DNNL_ARG_DST, mmd, a.m}, {DNNL_ARG_SCRATCHPAD, smd, s}};
  for (int k = 0; k < 4 && st == dnnl_success; k++) {
    if (!bind[k].ptr) continue;
    st = dnnl_memory_create(&mems[k], bind[k].md, c->engine, bind[k].ptr);
    args[nargs].arg = bind[k].arg;
    args[nargs++].memory = mems[k];
  }
  int threads = 1;
#ifdef _OPENMP
  threads = omp_get_max_threads();
#endif
  for (int r = 0; r < 4 && st == dnnl_success; r++) {
    zn_time_ns t0 = zn_now_ns();
    if (exec(&a, threads, 1, 0, prim, &stream, nargs, args) != ZN_OK) st = dnnl_runtime_error;
    double t = (double)(zn_now_ns() - t0);
    if (r > 0 && (best < 0 || t < best)) best = t;
  }
  for (int k = 0; k < 4; k++)
    if (mems[k]) dnnl_memory_destroy(mems[k]);
  if (stream) dnnl_stream_destroy(stream);
  if (prim) dnnl_primitive_destroy(prim);
  dnnl_primitive_desc_destroy(pd);
  zn_free_aligned(x);
  zn_free_aligned(y);
  zn_free_aligned(res);
  zn_free_aligned(bv);
  zn_free_aligned(vm);
  zn_free_aligned(w);
  zn_free_aligned(s);
  return st == dnnl_success ? best : -1;
}
