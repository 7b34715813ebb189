/* onednn backend, own broadcast binary step: Add/Sub/Mul/Div of plain f32
 * tensors where oneDNN 2.6 offers only its reference kernel (ref:any), and
 * Expand (the same loop with no first operand: ViT's class token), as for
 * Swin's shifted-window mask, [N,64,3,49,49] + [1,64,1,49,49]: 13 ms there
 * against well under 1 ms here. Axes are merged where both operands stay
 * contiguous (or the second stays broadcast), so the inner loop runs over
 * whole 49x49 blocks (docs/internals/onednn.md, "Transformers"). */
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "backend/onednn/onednn.h"
#include "core/alloc.h"
#include "core/common.h"
#include "core/status.h"

/* Below this many output floats the step runs on the calling thread only. */
#define PARALLEL_MIN_FLOATS 16384

typedef struct odn_binary_run odn_binary_run;
struct odn_binary_run {
  zn_op op;
  const float *a, *b;            /* a: NULL for Expand */
  float *y;
  int outer_rank;                 /* merged axes around the inner run, outermost first */
  int64_t outer_dims[ZN_MAX_DIMS], outer_bstride[ZN_MAX_DIMS];
  int64_t outer;                  /* rows: the product of outer_dims */
  int64_t inner;                  /* floats per row, contiguous in a and y */
  int64_t b_inner;                /* 1: b runs along the row; 0: one b value per row */
  int threads;
};

/* The graph value behind compiled value v (a converted copy's original). */
static const zn_value *cval(const odn_compiled *c, int v) { return &c->g->values[c->values[v].gid]; }

/* Where the loop can read b in a's memory order: a and y plain, or a and y
 * NHWC (4-D) with b plain and 1 on H and W (its memory is then NHWC too) or
 * NHWC itself. */
static bool operands_ok(const odn_compiled *c, const odn_op *op, bool *nhwc) {
  const int vals[3] = {op->ins[0], op->ins[1], op->out};
  const odn_layout la = c->values[op->ins[0]].layout;
  *nhwc = la == ODN_NHWC;
  if (la != ODN_PLAIN && la != ODN_NHWC) return false;
  for (int k = 0; k < 3; k++) {
    const int v = vals[k];
    const zn_value *zv = cval(c, v);
    if (zv->dtype != ZN_DTYPE_FLOAT32 || zv->num_dims > ZN_MAX_DIMS) return false;
    if (*nhwc && k != 1 && zv->num_dims != 4) return false;
    const bool konst = odn_const_data(c, v) != NULL;
    if (konst && k != 1) return false;
    if (!konst && (c->values[v].dt != dnnl_f32 || c->values[v].view_ctot > 0)) return false;
    const odn_layout l = konst ? ODN_PLAIN : c->values[v].layout;
    if (k != 1 || !*nhwc) {
      if (l != la) return false;
      continue;
    }
    if (l == ODN_NHWC && zv->num_dims == 4) continue;
    if (l != ODN_PLAIN) return false;
    for (int i = zv->num_dims - 2; i < zv->num_dims; i++)  /* H and W, right-aligned */
      if (i >= 0 && zv->dims[i] != 1) return false;
  }
  return true;
}

static bool kind_ok(const odn_compiled *c, const odn_op *op) {
  if (op->kind != ODN_BINARY || op->num_ins != 2 || op->node < 0) return false;
  const zn_op kind = c->g->nodes[op->node].op;
  return kind == ZN_OP_ADD || kind == ZN_OP_SUB || kind == ZN_OP_MUL || kind == ZN_OP_DIV;
}

bool zn_onednn_binary_own_ok(const odn_compiled *c, const odn_op *op) {
  bool nhwc;
  return kind_ok(c, op) && operands_ok(c, op, &nhwc);
}

/* An NHWC binary whose b broadcasts over pixels (squeeze-excitation's
 * x * scale[N,C,1,1]). oneDNN's jit kernel runs it, but splits the threads
 * its own way; the own loop splits pixels, as the convs before it do. */
bool zn_onednn_binary_own_preferred(const odn_compiled *c, const odn_op *op) {
  bool nhwc;
  if (!kind_ok(c, op) || !operands_ok(c, op, &nhwc) || !nhwc) return false;
  const zn_value *b = cval(c, op->ins[1]);
  return b->num_dims < 2 || (b->dims[b->num_dims - 1] == 1 && b->dims[b->num_dims - 2] == 1);
}

static const float *value_ptr(const odn_compiled *c, void *arena, const size_t *offset, int v) {
  const void *k = odn_const_data(c, v);
  return k ? k : (const float *)((char *)arena + odn_value_offset(c, offset, v));
}

static zn_status run_create(const odn_compiled *c, int op_index, int64_t batch, void *arena, const size_t *offset,
                            int threads, void **out) {
  *out = NULL;
  const odn_op *op = &c->ops[op_index];
  const bool expand = op->num_ins == 1;  /* Expand: y is b broadcast, no a */
  const int bi = expand ? op->ins[0] : op->ins[1];
  const zn_value *yv = cval(c, op->out), *bv = cval(c, bi);
  int64_t yd[ZN_MAX_DIMS], bd[ZN_MAX_DIMS];
  if (!zn_value_resolve_dims(yv, batch, yd) || !zn_value_resolve_dims(bv, batch, bd))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to size binary %s at batch %lld", yv->name, (long long)batch);
  const int r = yv->num_dims, rb = bv->num_dims;
  if (rb > r) return zn_error(ZN_ERR_INTERNAL, "onednn: binary %s: operand of higher rank", yv->name);
  /* axes in memory order: NCHW, or N H W C for NHWC (a 4-D b the same) */
  const bool nhwc = c->values[op->out].layout == ODN_NHWC;
  static const int nhwc_order[4] = {0, 2, 3, 1};
  int order[ZN_MAX_DIMS];
  for (int i = 0; i < r; i++) order[i] = nhwc ? nhwc_order[i] : i;
  /* b's strides in output axes (0 where b broadcasts), right-aligned, dense
   * in memory order: 1 on H and W when b is plain under an NHWC a */
  int64_t dims[ZN_MAX_DIMS], bs[ZN_MAX_DIMS], dense = 1;
  for (int j = r - 1; j >= 0; j--) {
    const int i = order[j], ib = i - (r - rb);
    const int64_t d = ib >= 0 ? bd[ib] : 1;
    if (d != 1 && d != yd[i]) return zn_error(ZN_ERR_INTERNAL, "onednn: binary %s: shapes do not broadcast", yv->name);
    dims[j] = yd[i];
    bs[j] = d == 1 ? 0 : dense;
    dense *= d;
  }
  /* merge axes from the innermost out while b stays contiguous or broadcast */
  int64_t md[ZN_MAX_DIMS], ms[ZN_MAX_DIMS];
  int m = 0;
  for (int i = r - 1; i >= 0; i--) {
    if (dims[i] == 1) continue;
    if (m > 0 && ((ms[m - 1] == 0 && bs[i] == 0) || (ms[m - 1] != 0 && bs[i] == ms[m - 1] * md[m - 1]))) {
      md[m - 1] *= dims[i];
      continue;
    }
    md[m] = dims[i];
    ms[m] = bs[i];
    m++;
  }
  odn_binary_run *run = zn_calloc(1, sizeof *run);
  if (!run) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape onednn instance: out of memory");
  run->op = c->g->nodes[op->node].op;
  run->a = expand ? NULL : value_ptr(c, arena, offset, op->ins[0]);
  run->b = value_ptr(c, arena, offset, bi);
  run->y = (float *)value_ptr(c, arena, offset, op->out);
  run->inner = m > 0 ? md[0] : 1;
  run->b_inner = m > 0 && ms[0] != 0 ? 1 : 0;
  run->outer = 1;
  run->outer_rank = m > 1 ? m - 1 : 0;
  for (int k = 0; k < run->outer_rank; k++) {  /* outermost first */
    run->outer_dims[k] = md[m - 1 - k];
    run->outer_bstride[k] = ms[m - 1 - k];
    run->outer *= md[m - 1 - k];
  }
  run->threads = threads > 0 ? threads : 1;
  *out = run;
  return ZN_OK;
}

static void run_destroy(void *run) { zn_free(run); }

/* One row: y = a op b (b along the row, bstep 1) or y = a op b[0] (bstep 0). */
#define ROW_OP(name, expr)                                                                                   \
  static inline void name(float *restrict y, const float *restrict a, const float *restrict b, int64_t bstep, \
                          int64_t n) {                                                                       \
    if (bstep) {                                                                                             \
      ZN_SIMD for (int64_t i = 0; i < n; i++) { const float x = a[i], w = b[i]; y[i] = (expr); }            \
    } else {                                                                                                 \
      const float w = b[0];                                                                                  \
      ZN_SIMD for (int64_t i = 0; i < n; i++) { const float x = a[i]; y[i] = (expr); }                       \
    }                                                                                                        \
  }
ROW_OP(row_add, x + w)
ROW_OP(row_sub, x - w)
ROW_OP(row_mul, x * w)
ROW_OP(row_div, x / w)
#undef ROW_OP

static inline void row(zn_op op, float *y, const float *a, const float *b, int64_t bstep, int64_t n) {
  if (op == ZN_OP_EXPAND) {
    if (bstep) {
      memcpy(y, b, (size_t)n * sizeof *y);
    } else {
      const float w = b[0];
      ZN_SIMD for (int64_t i = 0; i < n; i++) y[i] = w;
    }
  } else if (op == ZN_OP_ADD) row_add(y, a, b, bstep, n);
  else if (op == ZN_OP_SUB) row_sub(y, a, b, bstep, n);
  else if (op == ZN_OP_MUL) row_mul(y, a, b, bstep, n);
  else row_div(y, a, b, bstep, n);
}

/* Rows [r0, r1). The build is portable (no -march): AVX-512 / AVX2 clones. */
ZN_CLONES
static void rows(const odn_binary_run *r, int64_t r0, int64_t r1) {
  for (int64_t o = r0; o < r1; o++) {
    int64_t boff = 0, rest = o;
    for (int k = r->outer_rank - 1; k >= 0; k--) {
      boff += (rest % r->outer_dims[k]) * r->outer_bstride[k];
      rest /= r->outer_dims[k];
    }
    row(r->op, r->y + o * r->inner, r->a ? r->a + o * r->inner : NULL, r->b + boff, r->b_inner, r->inner);
  }
}

static void run_exec(const void *run) {
  const odn_binary_run *r = run;
#ifdef _OPENMP
  if (r->threads > 1 && r->outer > 1 && r->outer * r->inner >= PARALLEL_MIN_FLOATS) {
    /* the instance's team (same count as its oneDNN primitives): contiguous row ranges */
#pragma omp parallel num_threads(r->threads)
    {
      int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      rows(r, r->outer * t / nt, r->outer * (t + 1) / nt);
    }
    return;
  }
#endif
  rows(r, 0, r->outer);
}

static void kernel_text(const odn_compiled *c, int op_index, const void *run, char *text, size_t size) {
  (void)c, (void)op_index, (void)run;
  snprintf(text, size, "own broadcast binary (C loop)");
}

const odn_own_step zn_onednn_binary_step = {run_create, run_exec, run_destroy, kernel_text};
