/* onednn backend, own 1x1 conv step (fp32, NHWC, x86-64 AVX-512F at run time):
 * weights packed once as [OC/64][IC][64], a 6-row x 64-channel register tile
 * (inline asm for full tiles, intrinsics for the rest), bias + residual +
 * ReLU/Clip in the epilogue, and prefetcht1 of the next 64-channel block's
 * weights (at a step's end: the next own 1x1 step's first block) spread over
 * the current block's k loop, so the 1-4 MiB of a layer's weights stop arriving
 * cold from L3 (docs/internals/onednn.md, "Own 1x1 conv with weight prefetch"). */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/onednn/onednn.h"
#include "core/alloc.h"
#include "core/common.h"
#include "core/status.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_KERNEL 1
#include <immintrin.h>
#else
#define HAVE_KERNEL 0
#endif

#define BLOCK 64    /* output channels per weight block (4 zmm) */
#define ROWS 6      /* pixels per register tile */

/* Epilogue parameters the asm reads through one pointer (offsets fixed below). */
typedef struct epilogue {
  float lo, hi;                /* clamp: -inf/+inf (none), 0/+inf (ReLU), Clip's min/max */
  const float *res;            /* residual rows of this tile (NULL: none) */
  int64_t res_stride_bytes;
} epilogue;

typedef struct odn_1x1_run odn_1x1_run;
struct odn_1x1_run {
  const float *x, *w, *bias, *res;
  float *y;
  int64_t x_stride, y_stride, r_stride;  /* floats between pixels */
  int64_t rows, ic, blocks;    /* rows = N*H*W, blocks = OC/64 */
  float lo, hi;
  int threads;
  bool oc_split;               /* N threads: contiguous ranges of weight blocks (else of 6-row tiles) */
  int pf_lines, pf_skip;       /* prefetch: lines per 8-k step, on every pf_skip-th tile */
  const float *next_w;         /* the next own 1x1 step's weights (its first block is prefetched at the end), or NULL */
  int64_t next_ic, next_blocks;
  bool next_oc_split;
};

bool zn_onednn_own1x1_ok(const odn_compiled *c, const zn_node *n) {
#if HAVE_KERNEL
  if (!__builtin_cpu_supports("avx512f")) return false;
#else
  return false;
#endif
  const zn_graph *g = c->g;
  float lo, hi;
  if (c->compute_dt != dnnl_f32 || n->op != ZN_OP_CONV || n->num_inputs < 2 || !zn_onednn_act_clamp(n->attrs.conv.act, &lo, &hi))
    return false;
  const zn_conv_attrs *a = &n->attrs.conv;
  if (a->num_spatial != 2 || a->group != 1) return false;
  for (int i = 0; i < 2; i++)
    if (a->kernel[i] != 1 || a->stride[i] > 1 || a->dilation[i] > 1 || a->pad_begin[i] || a->pad_end[i]) return false;
  int xi = zn_node_input(n, 0), wi = zn_node_input(n, 1);
  if (xi < 0 || wi < 0 || n->outputs[0] < 0) return false;
  const zn_value *x = &g->values[xi], *w = &g->values[wi], *y = &g->values[n->outputs[0]];
  if (!w->data || w->dtype != ZN_DTYPE_FLOAT32 || w->num_dims != 4 || x->num_dims != 4 || x->batch_axis != 0 ||
      y->num_dims != 4 || x->dtype != ZN_DTYPE_FLOAT32)
    return false;
  for (int i = 1; i < 4; i++)
    if (x->dims[i] <= 0 || y->dims[i] <= 0) return false;
  return w->dims[1] == x->dims[1] && w->dims[0] == y->dims[1] && y->dims[1] % BLOCK == 0 &&
         y->dims[2] == x->dims[2] && y->dims[3] == x->dims[3];
}

bool zn_onednn_own1x1_rule(const odn_compiled *c, const zn_node *n) {
  const zn_value *x = &c->g->values[zn_node_input(n, 0)], *y = &c->g->values[n->outputs[0]];
  const int64_t rows = c->tune_batch * y->dims[2] * y->dims[3];
  const size_t wbytes = (size_t)x->dims[1] * (size_t)y->dims[1] * sizeof(float);
  return wbytes >= ODN_OWN_1X1_MIN_WEIGHT_BYTES && rows <= ODN_OWN_1X1_MAX_ROWS;
}

zn_status zn_onednn_own1x1_pack(odn_compiled *c, odn_op *op) {
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[op->node];
  const int64_t ic = g->values[zn_node_input(n, 0)].dims[1], oc = g->values[n->outputs[0]].dims[1];
  const float *w = g->values[zn_node_input(n, 1)].data;  /* OIHW with H = W = 1: [oc][ic] */
  snprintf(op->impl, sizeof op->impl, "zenith:1x1+prefetch");
  if (!op->bias) {  /* the epilogue always adds one */
    op->bias = zn_calloc_aligned((size_t)oc * sizeof(float));
    if (!op->bias) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to pack the bias of conv %s: out of memory", n->name);
    op->bias_len = oc;
    c->weight_bytes += (size_t)oc * sizeof(float);
  }
  op->wbytes = (size_t)ic * (size_t)oc * sizeof(float);
  float *p = zn_alloc_aligned(op->wbytes);
  if (!p) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to pack weights of conv %s: out of memory", n->name);
  for (int64_t b = 0; b < oc / BLOCK; b++)
    for (int64_t k = 0; k < ic; k++)
      for (int64_t j = 0; j < BLOCK; j++) p[(b * ic + k) * BLOCK + j] = w[(b * BLOCK + j) * ic + k];
  op->wdata = p;
  c->weight_bytes += op->wbytes;
  return ZN_OK;
}

/* N threads split weight blocks (each reads only its share of the weights)
 * below ODN_OWN_1X1_PIXEL_SPLIT_ROWS rows, else 6-row tiles (every thread
 * reads all weights, but each has more rows per block read). */
static bool oc_split_of(int64_t rows, int64_t blocks, int threads) {
  if (threads < 2) return false;
  if (blocks < threads) return false;
  return rows < ODN_OWN_1X1_PIXEL_SPLIT_ROWS || rows < ROWS * threads;
}

/* Lines per 8-k step (1..16, a power of two) and tile skip so that the next
 * block's 4 * ic lines are requested within the first half of the current
 * block's tiles (rows of one thread). */
static void prefetch_rate(int64_t rows, int64_t ic, int64_t next_ic, int *lines_out, int *skip_out) {
  const int64_t tiles = rows / ROWS > 0 ? rows / ROWS : 1;
  const double steps = (double)tiles * (double)(ic / 8 > 0 ? ic / 8 : 1);
  const double lines = 4.0 * (double)(next_ic > ic ? next_ic : ic);
  const double need = lines / (steps * 0.5);
  int pfr = 1, skip = 1;
  if (need < 1) {
    while (skip * 2 * need <= 1.0001) skip *= 2;
  } else {
    while (pfr < need && pfr < 16) pfr *= 2;
  }
  *lines_out = pfr;
  *skip_out = skip;
}

/* Rows one thread runs (the prefetch rate's basis). */
static int64_t thread_rows(int64_t rows, int threads, bool oc_split) {
  if (threads < 2 || oc_split) return rows;
  return (rows + threads - 1) / threads;
}

static zn_status run_create(const odn_compiled *c, int op_index, int64_t batch, void *arena, const size_t *offset,
                            int threads, void **out) {
  *out = NULL;
  const odn_op *op = &c->ops[op_index];
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[op->node];
  const zn_value *y = &g->values[n->outputs[0]];
  odn_1x1_run *r = zn_calloc(1, sizeof *r);
  if (!r) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape onednn instance: out of memory");
  r->ic = g->values[zn_node_input(n, 0)].dims[1];
  r->blocks = y->dims[1] / BLOCK;
  r->rows = batch * y->dims[2] * y->dims[3];
  r->x = (const float *)((char *)arena + odn_value_offset(c, offset, op->ins[0]));
  r->x_stride = odn_value_pixel_stride(c, op->ins[0], r->ic);
  r->y = (float *)((char *)arena + odn_value_offset(c, offset, op->out));
  r->y_stride = odn_value_pixel_stride(c, op->out, y->dims[1]);
  if (op->residual >= 0) {
    r->res = (const float *)((char *)arena + odn_value_offset(c, offset, op->residual));
    r->r_stride = odn_value_pixel_stride(c, op->residual, y->dims[1]);
  }
  r->w = op->wdata;
  r->bias = op->bias;
  zn_onednn_act_clamp(n->attrs.conv.act, &r->lo, &r->hi);
  r->threads = threads > 1 ? threads : 1;
  r->oc_split = oc_split_of(r->rows, r->blocks, r->threads);
  /* the next own 1x1 step, if it comes within three steps (MobileNet: pw, dw, pw) */
  for (int j = op_index + 1; j < c->num_ops && j <= op_index + 3; j++) {
    const odn_op *nx = &c->ops[j];
    if (nx->kind != ODN_CONV || !nx->own_1x1) continue;
    const zn_node *nn = &g->nodes[nx->node];
    const zn_value *ny = &g->values[nn->outputs[0]];
    r->next_w = nx->wdata;
    r->next_ic = g->values[zn_node_input(nn, 0)].dims[1];
    r->next_blocks = ny->dims[1] / BLOCK;
    r->next_oc_split = oc_split_of(batch * ny->dims[2] * ny->dims[3], r->next_blocks, r->threads);
    break;
  }
  prefetch_rate(thread_rows(r->rows, r->threads, r->oc_split), r->ic, r->next_w ? r->next_ic : r->ic, &r->pf_lines,
                &r->pf_skip);
  *out = r;
  return ZN_OK;
}

static void run_destroy(void *run) { zn_free(run); }

static void kernel_text(const odn_compiled *c, int op_index, const void *run, char *text, size_t size) {
  (void)c, (void)op_index;
  const odn_1x1_run *r = run;
  snprintf(text, size, "own 1x1 (avx512 6x64 + weight prefetch%s)",
           r->threads < 2 ? "" : r->oc_split ? ", output-channel split" : ", pixel split");
}

#if HAVE_KERNEL
#define KERNEL __attribute__((target("avx512f")))

/* ------------------------------------------------------------ 6 x 64 tile, asm
 * zmm0-23 accumulators (row r in zmm4r..4r+3), zmm24-27 weights, zmm28-31
 * broadcasts. n1 8-k steps with prefetch (PFR lines per step, spread over
 * the step), then n2 without. Needs ic % 8 == 0. Epilogue: + bias, + residual
 * (ep->res non-NULL), clamp to [lo, hi], store with the output's pixel stride. */
#define KBODY(PF)                                                                    \
  ".irp kk,0,1,2,3,4,5,6,7\n\t"                                                      \
  "vmovaps \\kk*256(%[w]), %%zmm24\n\t"                                              \
  "vmovaps \\kk*256+64(%[w]), %%zmm25\n\t"                                           \
  "vmovaps \\kk*256+128(%[w]), %%zmm26\n\t"                                          \
  "vmovaps \\kk*256+192(%[w]), %%zmm27\n\t"                                          \
  "vbroadcastss \\kk*4(%[a]), %%zmm28\n\t"                                           \
  "vfmadd231ps %%zmm24, %%zmm28, %%zmm0\n\t"                                         \
  "vfmadd231ps %%zmm25, %%zmm28, %%zmm1\n\t"                                         \
  "vfmadd231ps %%zmm26, %%zmm28, %%zmm2\n\t"                                         \
  "vfmadd231ps %%zmm27, %%zmm28, %%zmm3\n\t"                                         \
  "vbroadcastss \\kk*4(%[a],%[ld],1), %%zmm29\n\t"                                   \
  "vfmadd231ps %%zmm24, %%zmm29, %%zmm4\n\t"                                         \
  "vfmadd231ps %%zmm25, %%zmm29, %%zmm5\n\t"                                         \
  "vfmadd231ps %%zmm26, %%zmm29, %%zmm6\n\t"                                         \
  "vfmadd231ps %%zmm27, %%zmm29, %%zmm7\n\t"                                         \
  PF                                                                                 \
  "vbroadcastss \\kk*4(%[a],%[ld],2), %%zmm30\n\t"                                   \
  "vfmadd231ps %%zmm24, %%zmm30, %%zmm8\n\t"                                         \
  "vfmadd231ps %%zmm25, %%zmm30, %%zmm9\n\t"                                         \
  "vfmadd231ps %%zmm26, %%zmm30, %%zmm10\n\t"                                        \
  "vfmadd231ps %%zmm27, %%zmm30, %%zmm11\n\t"                                        \
  "vbroadcastss \\kk*4(%[a3]), %%zmm31\n\t"                                          \
  "vfmadd231ps %%zmm24, %%zmm31, %%zmm12\n\t"                                        \
  "vfmadd231ps %%zmm25, %%zmm31, %%zmm13\n\t"                                        \
  "vfmadd231ps %%zmm26, %%zmm31, %%zmm14\n\t"                                        \
  "vfmadd231ps %%zmm27, %%zmm31, %%zmm15\n\t"                                        \
  "vbroadcastss \\kk*4(%[a3],%[ld],1), %%zmm28\n\t"                                  \
  "vfmadd231ps %%zmm24, %%zmm28, %%zmm16\n\t"                                        \
  "vfmadd231ps %%zmm25, %%zmm28, %%zmm17\n\t"                                        \
  "vfmadd231ps %%zmm26, %%zmm28, %%zmm18\n\t"                                        \
  "vfmadd231ps %%zmm27, %%zmm28, %%zmm19\n\t"                                        \
  "vbroadcastss \\kk*4(%[a3],%[ld],2), %%zmm29\n\t"                                  \
  "vfmadd231ps %%zmm24, %%zmm29, %%zmm20\n\t"                                        \
  "vfmadd231ps %%zmm25, %%zmm29, %%zmm21\n\t"                                        \
  "vfmadd231ps %%zmm26, %%zmm29, %%zmm22\n\t"                                        \
  "vfmadd231ps %%zmm27, %%zmm29, %%zmm23\n\t"                                        \
  ".endr\n\t"

#define PFSTMT                                                                       \
  ".if (\\kk %% %c[pfdiv]) == 0\n\t"                                                 \
  "prefetcht1 ((\\kk/%c[pfdiv])*%c[pfper])*64(%[pf])\n\t"                            \
  ".if %c[pfper] > 1\n\t"                                                            \
  "prefetcht1 ((\\kk/%c[pfdiv])*%c[pfper]+1)*64(%[pf])\n\t"                          \
  ".endif\n\t"                                                                       \
  ".endif\n\t"

#define ROW_BIAS(r0, r1, r2, r3)                                                     \
  "vaddps %%zmm24, %%zmm" #r0 ", %%zmm" #r0 "\n\t"                                 \
  "vaddps %%zmm25, %%zmm" #r1 ", %%zmm" #r1 "\n\t"                                 \
  "vaddps %%zmm26, %%zmm" #r2 ", %%zmm" #r2 "\n\t"                                 \
  "vaddps %%zmm27, %%zmm" #r3 ", %%zmm" #r3 "\n\t"
#define ROWS_BIAS                                                                    \
  ROW_BIAS(0, 1, 2, 3) ROW_BIAS(4, 5, 6, 7) ROW_BIAS(8, 9, 10, 11)                   \
  ROW_BIAS(12, 13, 14, 15) ROW_BIAS(16, 17, 18, 19) ROW_BIAS(20, 21, 22, 23)
#define ADDMEM(r0, r1, r2, r3, ADDR)                                                 \
  "vaddps 0" ADDR ", %%zmm" #r0 ", %%zmm" #r0 "\n\t"                                 \
  "vaddps 64" ADDR ", %%zmm" #r1 ", %%zmm" #r1 "\n\t"                                \
  "vaddps 128" ADDR ", %%zmm" #r2 ", %%zmm" #r2 "\n\t"                               \
  "vaddps 192" ADDR ", %%zmm" #r3 ", %%zmm" #r3 "\n\t"
#define STROW(r0, r1, r2, r3, ADDR)                                                  \
  "vmaxps %%zmm28, %%zmm" #r0 ", %%zmm" #r0 "\n\t"                                   \
  "vmaxps %%zmm28, %%zmm" #r1 ", %%zmm" #r1 "\n\t"                                   \
  "vmaxps %%zmm28, %%zmm" #r2 ", %%zmm" #r2 "\n\t"                                   \
  "vmaxps %%zmm28, %%zmm" #r3 ", %%zmm" #r3 "\n\t"                                   \
  "vminps %%zmm29, %%zmm" #r0 ", %%zmm" #r0 "\n\t"                                   \
  "vminps %%zmm29, %%zmm" #r1 ", %%zmm" #r1 "\n\t"                                   \
  "vminps %%zmm29, %%zmm" #r2 ", %%zmm" #r2 "\n\t"                                   \
  "vminps %%zmm29, %%zmm" #r3 ", %%zmm" #r3 "\n\t"                                   \
  "vmovups %%zmm" #r0 ", 0" ADDR "\n\t"                                              \
  "vmovups %%zmm" #r1 ", 64" ADDR "\n\t"                                             \
  "vmovups %%zmm" #r2 ", 128" ADDR "\n\t"                                            \
  "vmovups %%zmm" #r3 ", 192" ADDR "\n\t"

/* One function per prefetch rate: the rate is an assembler immediate, and a
 * literal here keeps it one at every optimisation level. Returns where the
 * prefetch got to (pf unchanged when NULL). */
#define DEF_TILE6(PFR)                                                                                          \
  static KERNEL const char *tile6_pf##PFR(const float *a, int64_t lda, int64_t ic, const float *w,              \
                                          const float *bias, const epilogue *ep, float *o, int64_t ldo,        \
                                          const char *pf, const char *pfe) {                                     \
    long nsteps = (long)(ic / 8), n1 = 0;                                                                       \
    if (pf && pf < pfe) {                                                                                       \
      long lines = (long)((pfe - pf + 63) / 64);                                                                \
      n1 = (lines + PFR - 1) / PFR;                                                                             \
      if (n1 > nsteps) n1 = nsteps;                                                                             \
    }                                                                                                           \
    long n2 = nsteps - n1;                                                                                      \
    long ld = (long)lda * 4, ldb = (long)ldo * 4;                                                               \
    const float *a3 = a + 3 * lda;                                                                              \
    float *o3 = o + 3 * ldo;                                                                                    \
    const char *pfp = pf ? pf : (const char *)w;                                                                \
    __asm__ volatile(                                                                                           \
        ".irp i,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23\n\t"                              \
        "vpxord %%zmm\\i, %%zmm\\i, %%zmm\\i\n\t"                                                               \
        ".endr\n\t"                                                                                             \
        "test %[n1], %[n1]\n\t"                                                                                 \
        "jz 2f\n\t"                                                                                             \
        "1:\n\t" KBODY(PFSTMT)                                                                                  \
        "add $2048, %[w]\n\t"                                                                                   \
        "add $32, %[a]\n\t"                                                                                     \
        "add $32, %[a3]\n\t"                                                                                    \
        "add %[pfstep], %[pf]\n\t"                                                                              \
        "dec %[n1]\n\t"                                                                                         \
        "jnz 1b\n\t"                                                                                            \
        "2:\n\t"                                                                                                \
        "test %[n2], %[n2]\n\t"                                                                                 \
        "jz 4f\n\t"                                                                                             \
        "3:\n\t" KBODY("")                                                                                      \
        "add $2048, %[w]\n\t"                                                                                   \
        "add $32, %[a]\n\t"                                                                                     \
        "add $32, %[a3]\n\t"                                                                                    \
        "dec %[n2]\n\t"                                                                                         \
        "jnz 3b\n\t"                                                                                            \
        "4:\n\t"                                                                                                \
        "vmovups 0(%[bias]), %%zmm24\n\t"                                                                       \
        "vmovups 64(%[bias]), %%zmm25\n\t"                                                                      \
        "vmovups 128(%[bias]), %%zmm26\n\t"                                                                     \
        "vmovups 192(%[bias]), %%zmm27\n\t" ROWS_BIAS                                                           \
        "mov 8(%[ep]), %[w]\n\t"                                                                                \
        "test %[w], %[w]\n\t"                                                                                   \
        "jz 5f\n\t"                                                                                             \
        "mov 16(%[ep]), %[n1]\n\t"                                                                              \
        "lea (%[n1],%[n1],2), %[a]\n\t"                                                                         \
        "add %[w], %[a]\n\t" ADDMEM(0, 1, 2, 3, "(%[w])") ADDMEM(4, 5, 6, 7, "(%[w],%[n1],1)")                  \
        ADDMEM(8, 9, 10, 11, "(%[w],%[n1],2)") ADDMEM(12, 13, 14, 15, "(%[a])")                                 \
        ADDMEM(16, 17, 18, 19, "(%[a],%[n1],1)") ADDMEM(20, 21, 22, 23, "(%[a],%[n1],2)")                       \
        "5:\n\t"                                                                                                \
        "vbroadcastss 0(%[ep]), %%zmm28\n\t"                                                                    \
        "vbroadcastss 4(%[ep]), %%zmm29\n\t" STROW(0, 1, 2, 3, "(%[o])") STROW(4, 5, 6, 7, "(%[o],%[ldb],1)")    \
        STROW(8, 9, 10, 11, "(%[o],%[ldb],2)") STROW(12, 13, 14, 15, "(%[o3])")                                 \
        STROW(16, 17, 18, 19, "(%[o3],%[ldb],1)") STROW(20, 21, 22, 23, "(%[o3],%[ldb],2)")                     \
        : [w] "+r"(w), [a] "+r"(a), [a3] "+r"(a3), [pf] "+r"(pfp), [n1] "+r"(n1), [n2] "+r"(n2)                 \
        : [ld] "r"(ld), [o] "r"(o), [o3] "r"(o3), [ldb] "r"(ldb), [bias] "r"(bias), [ep] "r"(ep),               \
          [pfdiv] "i"(PFR >= 8 ? 1 : 8 / PFR), [pfper] "i"(PFR >= 16 ? PFR / 8 : 1), [pfstep] "i"(PFR * 64)     \
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",       \
          "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20",    \
          "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");  \
    return pf ? pfp : pf;                                                                                       \
  }
DEF_TILE6(1)
DEF_TILE6(2)
DEF_TILE6(4)
DEF_TILE6(8)
DEF_TILE6(16)

_Static_assert(offsetof(epilogue, lo) == 0 && offsetof(epilogue, hi) == 4 && offsetof(epilogue, res) == 8 &&
                   offsetof(epilogue, res_stride_bytes) == 16,
               "the asm epilogue reads these offsets");

static KERNEL const char *tile6_asm(int pfr, const float *a, int64_t lda, int64_t ic, const float *w,
                                    const float *bias, const epilogue *ep, float *o, int64_t ldo, const char *pf,
                                    const char *pfe) {
  switch (pfr) {
    case 1: return tile6_pf1(a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    case 2: return tile6_pf2(a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    case 4: return tile6_pf4(a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    case 8: return tile6_pf8(a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    default: return tile6_pf16(a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
  }
}

/* ------------------------------------------------ M x 64 tile, intrinsics
 * Any ic; the same operation order as the asm tile (k ascending, one FMA per
 * k, then + bias, + residual, clamp), so both give the same bits. */
static inline __attribute__((always_inline)) KERNEL const char *
tile_c(const int M, int pfr, const float *a, int64_t lda, int64_t ic, const float *w, const float *bias,
       const epilogue *ep, float *o, int64_t ldo, const char *pf, const char *pfe) {
  __m512 acc[ROWS][4];
  for (int m = 0; m < M; m++)
    for (int j = 0; j < 4; j++) acc[m][j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < ic; k++) {
    if ((k & 7) == 0 && pf && pf < pfe) {
      for (int r = 0; r < pfr; r++) _mm_prefetch(pf + 64 * r, _MM_HINT_T1);
      pf += 64 * pfr;
    }
    const float *wk = w + k * BLOCK;
    const __m512 w0 = _mm512_load_ps(wk), w1 = _mm512_load_ps(wk + 16);
    const __m512 w2 = _mm512_load_ps(wk + 32), w3 = _mm512_load_ps(wk + 48);
    for (int m = 0; m < M; m++) {
      const __m512 b = _mm512_set1_ps(a[m * lda + k]);
      acc[m][0] = _mm512_fmadd_ps(b, w0, acc[m][0]);
      acc[m][1] = _mm512_fmadd_ps(b, w1, acc[m][1]);
      acc[m][2] = _mm512_fmadd_ps(b, w2, acc[m][2]);
      acc[m][3] = _mm512_fmadd_ps(b, w3, acc[m][3]);
    }
  }
  const __m512 lo = _mm512_set1_ps(ep->lo), hi = _mm512_set1_ps(ep->hi);
  for (int m = 0; m < M; m++)
    for (int j = 0; j < 4; j++) {
      __m512 v = _mm512_add_ps(acc[m][j], _mm512_loadu_ps(bias + 16 * j));
      if (ep->res)
        v = _mm512_add_ps(v, _mm512_loadu_ps((const float *)((const char *)ep->res + m * ep->res_stride_bytes) + 16 * j));
      v = _mm512_min_ps(_mm512_max_ps(v, lo), hi);
      _mm512_storeu_ps(o + m * ldo + 16 * j, v);
    }
  return pf;
}

static KERNEL const char *tile_any(int M, int pfr, const float *a, int64_t lda, int64_t ic, const float *w,
                                   const float *bias, const epilogue *ep, float *o, int64_t ldo, const char *pf,
                                   const char *pfe) {
  switch (M) {
    case 1: return tile_c(1, pfr, a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    case 2: return tile_c(2, pfr, a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    case 3: return tile_c(3, pfr, a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    case 4: return tile_c(4, pfr, a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    case 5: return tile_c(5, pfr, a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
    default: return tile_c(6, pfr, a, lda, ic, w, bias, ep, o, ldo, pf, pfe);
  }
}

/* Rows [p0, p1) of weight block b, prefetching [pf, pf + pf_bytes) meanwhile. */
static KERNEL void block_run(const odn_1x1_run *r, int64_t p0, int64_t p1, int64_t b, const char *pf, size_t pf_bytes) {
  const float *w = r->w + b * r->ic * BLOCK, *bias = r->bias + b * BLOCK;
  const char *pfe = pf ? pf + pf_bytes : NULL;
  const bool use_asm = r->ic % 8 == 0 && r->ic > 0;
  epilogue ep = {r->lo, r->hi, NULL, r->r_stride * (int64_t)sizeof(float)};
  int64_t p = p0;
  for (int64_t t = 0; p + ROWS <= p1; p += ROWS, t++) {
    const bool fetch = r->pf_skip <= 1 || t % r->pf_skip == 0;
    const float *a = r->x + p * r->x_stride;
    float *o = r->y + p * r->y_stride + b * BLOCK;
    ep.res = r->res ? r->res + p * r->r_stride + b * BLOCK : NULL;
    const char *q = use_asm ? tile6_asm(r->pf_lines, a, r->x_stride, r->ic, w, bias, &ep, o, r->y_stride,
                                        fetch ? pf : NULL, pfe)
                            : tile_any(ROWS, r->pf_lines, a, r->x_stride, r->ic, w, bias, &ep, o, r->y_stride,
                                       fetch ? pf : NULL, pfe);
    if (fetch) pf = q;
  }
  if (p < p1) {
    ep.res = r->res ? r->res + p * r->r_stride + b * BLOCK : NULL;
    tile_any((int)(p1 - p), r->pf_lines, r->x + p * r->x_stride, r->x_stride, r->ic, w, bias, &ep,
             r->y + p * r->y_stride + b * BLOCK, r->y_stride, pf, pfe);
  }
}

/* Thread t of nt: its blocks (output-channel split) or its 6-row tiles (pixel
 * split); each block prefetches the thread's next block, the last one the
 * block this thread starts the next own 1x1 step with. */
static KERNEL void part_run(const odn_1x1_run *r, int t, int nt) {
  int64_t b0 = 0, b1 = r->blocks, p0 = 0, p1 = r->rows;
  if (nt > 1 && r->oc_split) {
    b0 = r->blocks * t / nt;
    b1 = r->blocks * (t + 1) / nt;
  } else if (nt > 1) {
    const int64_t tiles = (r->rows + ROWS - 1) / ROWS;
    p0 = ROWS * (tiles * t / nt);
    p1 = ZN_MIN(r->rows, ROWS * (tiles * (t + 1) / nt));
  }
  if (p0 >= p1) return;
  const size_t block_bytes = (size_t)r->ic * BLOCK * sizeof(float);
  for (int64_t b = b0; b < b1; b++) {
    const char *pf = NULL;
    size_t bytes = block_bytes;
    if (b + 1 < b1) {
      pf = (const char *)(r->w + (b + 1) * r->ic * BLOCK);
    } else if (r->next_w) {
      const int64_t nb0 = nt > 1 && r->next_oc_split ? r->next_blocks * t / nt : 0;
      if (nb0 < r->next_blocks) pf = (const char *)(r->next_w + nb0 * r->next_ic * BLOCK);
      bytes = (size_t)r->next_ic * BLOCK * sizeof(float);
    }
    block_run(r, p0, p1, b, pf, bytes);
  }
}
#endif

static void run_exec(const void *run) {
  const odn_1x1_run *r = run;
#if HAVE_KERNEL
#ifdef _OPENMP
  if (r->threads > 1) {
#pragma omp parallel num_threads(r->threads)
    part_run(r, omp_get_thread_num(), omp_get_num_threads());
    return;
  }
#endif
  part_run(r, 0, 1);
#else
  (void)r;  /* never planned: zn_onednn_own1x1_ok is false off x86-64 */
#endif
}

const odn_own_step zn_onednn_own1x1_step = {run_create, run_exec, run_destroy, kernel_text};
