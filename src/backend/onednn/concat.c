/* onednn backend, own channel-concat step (ODN_CONCAT_OWN): one pass that reads
 * each input (NHWC or nChw16c, f32) once and writes the NHWC output at the
 * input's channel offset, optionally applying the BatchNormalization that is
 * the concat's only reader (y = x * scale[c] + shift[c], then ReLU when fused):
 * DenseNet's cat -> norm1 -> relu1 becomes one step, with no reorder for inputs
 * that Winograd convs left in nChw16c (docs/internals/onednn.md, "Own concat"). */
#include <math.h>
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

/* Pixels handled per input before moving to the next one: each input stream
 * (and each 16-channel block of an nChw16c input) is read in runs of this many
 * pixels instead of one pixel at a time. */
#define TILE_PIXELS 8
/* Below this many output floats the step runs on the calling thread only. */
#define PARALLEL_MIN_FLOATS 16384

typedef struct own_input {
  const float *src;
  int64_t channels, offset;    /* channels of this input, first output channel */
  bool blocked;                /* nChw16c (else NHWC) */
} own_input;

typedef struct odn_concat_run odn_concat_run;
struct odn_concat_run {
  int num_ins;
  own_input *ins;              /* owned */
  float *dst;                  /* NHWC, in the instance's arena */
  int64_t images, pixels, channels;  /* N, H*W, total C */
  const float *scale, *shift;  /* per output channel (the compiled model's), NULL: plain concat */
  bool relu;
  int threads;
};

int zn_onednn_concat_mode_from_env(void) {
  const char *e = getenv("ZN_ONEDNN_CONCAT");
  if (!e || !*e) return ODN_CONCAT_BN;
  return strcmp(e, "onednn") == 0 ? ODN_CONCAT_ONEDNN : strcmp(e, "all") == 0 ? ODN_CONCAT_ALL : ODN_CONCAT_BN;
}

static const zn_node *bn_reader(const zn_graph *g, int y) {
  const zn_node *found = NULL;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *m = &g->nodes[i];
    for (int k = 0; k < m->num_inputs; k++) {
      if (zn_node_input(m, k) != y) continue;
      if (found || k != 0 || m->op != ZN_OP_BATCH_NORM) return NULL;
      found = m;
    }
  }
  return found;
}

static bool bn_params_ok(const zn_graph *g, const zn_node *bn, int64_t channels) {
  if (bn->num_inputs != 5 || bn->num_outputs < 1 || bn->outputs[0] < 0) return false;
  for (int k = 1; k < 5; k++) {
    int v = zn_node_input(bn, k);
    if (v < 0 || v >= g->num_values) return false;
    const zn_value *p = &g->values[v];
    int64_t n = 1;
    for (int i = 0; i < p->num_dims; i++) n *= p->dims[i];
    if (!p->data || p->dtype != ZN_DTYPE_FLOAT32 || n != channels) return false;
  }
  return true;
}

int zn_onednn_concat_own_plan(const odn_compiled *c, int node, int *bn_node_out) {
  const zn_graph *g = c->g;
  const zn_node *n = &g->nodes[node];
  *bn_node_out = -1;
  if (n->op != ZN_OP_CONCAT || c->compute_dt != dnnl_f32 || c->concat_mode == ODN_CONCAT_ONEDNN) return 0;
  int y = n->outputs[0];
  const zn_value *yv = &g->values[y];
  int64_t axis = n->attrs.axis.axis < 0 ? n->attrs.axis.axis + yv->num_dims : n->attrs.axis.axis;
  if (yv->num_dims != 4 || axis != 1 || yv->batch_axis != 0) return 0;
  for (int k = 0; k < n->num_inputs; k++) {
    int v = zn_node_input(n, k);
    if (v < 0 || v >= g->num_values || g->values[v].data || g->values[v].num_dims != 4 ||
        g->values[v].batch_axis != 0 || c->values[v].dt != dnnl_f32 ||
        (c->values[v].layout != ODN_NHWC && c->values[v].layout != ODN_BLOCKED16))
      return 0;
  }
  const zn_node *bn = yv->is_output ? NULL : bn_reader(g, y);
  if (bn && bn_params_ok(g, bn, yv->dims[1])) {
    *bn_node_out = (int)(bn - g->nodes);
    return 1;
  }
  return c->concat_mode == ODN_CONCAT_ALL;
}

zn_status zn_onednn_concat_own_init(const odn_compiled *c, odn_op *op, int bn_node) {
  const zn_graph *g = c->g;
  snprintf(op->impl, sizeof op->impl, "zenith:concat%s", bn_node >= 0 ? "+batch_norm" : "");
  if (bn_node < 0) return ZN_OK;
  const zn_node *bn = &g->nodes[bn_node];
  int64_t ch = g->values[g->nodes[op->node].outputs[0]].dims[1];
  const float *gamma = g->values[zn_node_input(bn, 1)].data, *beta = g->values[zn_node_input(bn, 2)].data;
  const float *mean = g->values[zn_node_input(bn, 3)].data, *var = g->values[zn_node_input(bn, 4)].data;
  op->scale_shift = zn_alloc_aligned(2 * (size_t)ch * sizeof(float));
  if (!op->scale_shift)
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to fold batch norm %s into its concat: out of memory", bn->name);
  double eps = bn->attrs.batch_norm.epsilon;
  for (int64_t i = 0; i < ch; i++) {
    double s = (double)gamma[i] / sqrt((double)var[i] + eps);
    op->scale_shift[i] = (float)s;
    op->scale_shift[ch + i] = (float)((double)beta[i] - (double)mean[i] * s);
  }
  return ZN_OK;
}

static void run_destroy(void *run);

static zn_status run_create(const odn_compiled *c, int op_index, int64_t batch, void *arena, const size_t *offset,
                            int threads, void **out) {
  *out = NULL;
  const odn_op *op = &c->ops[op_index];
  const zn_graph *g = c->g;
  odn_concat_run *r = zn_calloc(1, sizeof *r);
  if (r) r->ins = zn_calloc((size_t)op->num_ins, sizeof *r->ins);
  if (!r || !r->ins) {
    run_destroy(r);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape onednn instance: out of memory");
  }
  int64_t yd[ZN_MAX_DIMS];
  const zn_value *yv = &g->values[g->nodes[op->node].outputs[0]];
  if (!zn_value_resolve_dims(yv, batch, yd)) {
    run_destroy(r);
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to size concat %s at batch %lld", yv->name, (long long)batch);
  }
  r->images = yd[0];
  r->pixels = yd[2] * yd[3];
  r->channels = yd[1];
  r->dst = (float *)((char *)arena + offset[c->values[op->out].root]);
  r->scale = op->scale_shift;
  r->shift = op->scale_shift ? op->scale_shift + r->channels : NULL;
  r->relu = op->scale_shift && op->fuse_relu;
  r->threads = threads > 0 ? threads : 1;
  r->num_ins = op->num_ins;
  int64_t at = 0;
  for (int k = 0; k < op->num_ins; k++) {
    int v = op->ins[k];
    own_input *x = &r->ins[k];
    x->src = (const float *)((char *)arena + offset[c->values[v].root]);
    x->channels = g->values[c->values[v].gid].dims[1];
    x->offset = at;
    x->blocked = c->values[v].layout == ODN_BLOCKED16;
    at += x->channels;
  }
  *out = r;
  return ZN_OK;
}

static void run_destroy(void *run) {
  odn_concat_run *r = run;
  if (!r) return;
  zn_free(r->ins);
  zn_free(r);
}

/* One contiguous run of n channels. Inlined into each clone of copy_range;
 * vectorized by ZN_SIMD (-O2 alone leaves them scalar). */
static inline void row_bn_relu(float *restrict y, const float *restrict x, const float *restrict s,
                               const float *restrict b, int64_t n) {
ZN_SIMD
  for (int64_t i = 0; i < n; i++) {
    float v = x[i] * s[i] + b[i];
    y[i] = v > 0.f ? v : 0.f;
  }
}

static inline void row_bn(float *restrict y, const float *restrict x, const float *restrict s,
                          const float *restrict b, int64_t n) {
ZN_SIMD
  for (int64_t i = 0; i < n; i++) y[i] = x[i] * s[i] + b[i];
}

static inline void row(const odn_concat_run *r, float *restrict y, const float *restrict x, int64_t c0, int64_t n) {
  if (!r->scale) memcpy(y, x, (size_t)n * sizeof *x);
  else if (r->relu) row_bn_relu(y, x, r->scale + c0, r->shift + c0, n);
  else row_bn(y, x, r->scale + c0, r->shift + c0, n);
}

/* Output pixels [q0, q1) of the flattened N*H*W range. The build is portable
 * (no -march), so the loops get AVX-512 / AVX2 clones picked at load time. */
ZN_CLONES
static void copy_range(const odn_concat_run *r, int64_t q0, int64_t q1) {
  const int64_t hw = r->pixels, cout = r->channels;
  for (int64_t t0 = q0; t0 < q1; t0 += TILE_PIXELS) {
    int64_t t1 = t0 + TILE_PIXELS < q1 ? t0 + TILE_PIXELS : q1;
    for (int k = 0; k < r->num_ins; k++) {
      const own_input *in = &r->ins[k];
      const int64_t ck = in->channels, off = in->offset;
      if (!in->blocked) {
        for (int64_t q = t0; q < t1; q++) row(r, r->dst + q * cout + off, in->src + q * ck, off, ck);
        continue;
      }
      const int64_t blocks = (ck + 15) / 16;
      for (int64_t q = t0; q < t1; q++) {
        int64_t img = q / hw, p = q % hw;
        const float *base = in->src + (img * blocks * hw + p) * 16;
        for (int64_t cb = 0; cb < blocks; cb++) {
          int64_t n = ck - cb * 16 < 16 ? ck - cb * 16 : 16;
          row(r, r->dst + q * cout + off + cb * 16, base + cb * hw * 16, off + cb * 16, n);
        }
      }
    }
  }
}

static void run_exec(const void *run) {
  const odn_concat_run *r = run;
  const int64_t total = r->images * r->pixels;
#ifdef _OPENMP
  if (r->threads > 1 && total * r->channels >= PARALLEL_MIN_FLOATS) {
    /* the instance's team (same count as its oneDNN primitives): static, contiguous pixel ranges */
#pragma omp parallel num_threads(r->threads)
    {
      int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
      copy_range(r, total * t / nt, total * (t + 1) / nt);
    }
    return;
  }
#endif
  copy_range(r, 0, total);
}

static void kernel_text(const odn_compiled *c, int op_index, const void *run, char *text, size_t size) {
  (void)run;
  const odn_op *op = &c->ops[op_index];
  snprintf(text, size, "own %s (C loop)", op->scale_shift ? (op->fuse_relu ? "concat+BN+ReLU" : "concat+BN") : "concat");
}

const odn_own_step zn_onednn_concat_step = {run_create, run_exec, run_destroy, kernel_text};
