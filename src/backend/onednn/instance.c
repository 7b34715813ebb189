/* onednn backend, instance side: at reshape, one primitive per step for the
 * instance's batch (created with the instance's OpenMP thread count), every
 * activation and scratchpad planned into one arena, weights borrowed from the
 * compiled model (or a layout this batch prefers, made once and shared: weights.c).
 * run() only sets the user buffers and executes the steps on the instance's
 * stream: no primitive creation, no allocation by zenith.
 * Instances of more than one thread keep a second primitive set made for one
 * thread over the same arena and switch between them per run (and mid-run)
 * by measured latency: a pre-empted OpenMP worker stalls every statically
 * partitioned step (docs/internals/onednn.md, "Contention"). */
#include <stdio.h>
#include <string.h>

#include "backend/onednn/onednn.h"
#include "core/alloc.h"
#include "core/arena.h"
#include "core/log.h"
#include "core/status.h"
#include "core/time.h"

typedef struct step {
  dnnl_primitive_t prim;
  int nargs;
  dnnl_exec_arg_t *args;
  const odn_own_step *own_ops; /* an own step (no primitive): its kernel, bound to the arena in own */
  void *own;
  odn_wino_run *wino;          /* own Winograd conv: transforms around prim (its matmul) */
  int parts;                   /* own Winograd in per-thread parts: args holds parts x nargs */
} step;

/* The primitives of every step made for one OpenMP thread count. Both sets
 * of an instance read and write the same arena offsets, so a run may switch
 * sets between any two steps. */
typedef struct pset {
  int threads;
  step *steps;                 /* c->num_ops */
  dnnl_memory_t *in_mems;      /* per graph input: wraps the user's buffer at run */
  dnnl_memory_t *out_mems;     /* per graph output */
} pset;

enum { SET_ONE = 0, SET_MANY = 1 };

/* Adaptive choice between the 1-thread and the N-thread set (N > 1 only).
 * Runs use `mode`. A run on the N set gives up (finishes on the 1-thread
 * set) once it has taken bail_factor x the 1-thread estimate; an N-thread run
 * slower than that estimate switches the mode to 1 thread, and N threads are
 * probed again after `backoff` runs, doubling while the probes lose. */
#define ADAPT_BAIL_FACTOR 1.25
#define ADAPT_BACKOFF_MIN 8
#define ADAPT_BACKOFF_MAX 256
#define ADAPT_REFRESH_RUNS 64  /* in N mode: re-time one 1-thread run this often */
typedef struct adapt {
  int mode;                    /* SET_ONE or SET_MANY */
  double est_ns[2];            /* EWMA of a whole run on each set; 0: unknown */
  int countdown;               /* runs before the next probe of the other set */
  int backoff;
  int force_set, force_switch_step;  /* test hook (-1: off): see zn_onednn_instance_force */
  zn_onednn_run_stats stats;
} adapt;

typedef struct odn_instance {
  const odn_compiled *c;
  int num_threads;
  dnnl_stream_t stream;
  dnnl_stream_t *streams;      /* [num_threads]: [0] is stream; one per per-thread Winograd part */
  int64_t batch;               /* 0 until reshaped */
  const zn_backend_arena_source *arena_src;  /* NULL: the heap */
  void *arena;
  size_t arena_bytes;
  pset sets[2];                /* [SET_ONE] always; [SET_MANY] when num_threads > 1 */
  int num_sets;
  dnnl_memory_t *mems;         /* every memory object of the plan, to destroy */
  int num_mems, cap_mems;
  adapt ad;
  unsigned char *ran_set;      /* [c->num_ops]: the set each step ran on in the last profiled run (zeroed at reshape) */
} odn_instance;

static void release_set(const odn_compiled *c, pset *ps) {
  if (ps->steps) {
    for (int i = 0; i < c->num_ops; i++) {
      if (ps->steps[i].prim) dnnl_primitive_destroy(ps->steps[i].prim);
      zn_free(ps->steps[i].args);
      if (ps->steps[i].own) ps->steps[i].own_ops->destroy(ps->steps[i].own);
      zn_onednn_wino_run_destroy(ps->steps[i].wino);
    }
  }
  zn_free(ps->steps);
  zn_free(ps->in_mems);
  zn_free(ps->out_mems);
  int threads = ps->threads;
  memset(ps, 0, sizeof *ps);
  ps->threads = threads;
}

static void release_plan(odn_instance *in) {
  for (int k = 0; k < 2; k++) release_set(in->c, &in->sets[k]);
  for (int i = 0; i < in->num_mems; i++) dnnl_memory_destroy(in->mems[i]);
  zn_free(in->mems);
  in->mems = NULL;
  in->num_mems = in->cap_mems = 0;
  zn_backend_arena_put(in->arena_src, in->arena);
  in->arena = NULL;
  in->arena_bytes = 0;
  in->batch = 0;
  zn_free(in->ran_set);
  in->ran_set = NULL;
}

static zn_status oom(void) { return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape onednn instance: out of memory"); }

static zn_status new_mem(odn_instance *in, const dnnl_memory_desc_t *md, void *ptr, dnnl_memory_t *out) {
  if (in->num_mems == in->cap_mems) {
    int cap = in->cap_mems ? 2 * in->cap_mems : 256;
    dnnl_memory_t *m = zn_realloc(in->mems, (size_t)cap * sizeof *m);
    if (!m) return oom();
    in->mems = m;
    in->cap_mems = cap;
  }
  ODN_TRY_DNNL(dnnl_memory_create(out, md, in->c->engine, ptr), "create a oneDNN memory object");
  in->mems[in->num_mems++] = *out;
  return ZN_OK;
}

static const dnnl_memory_desc_t *arg_md(const_dnnl_primitive_desc_t pd, int arg) {
  return dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arg);
}

typedef struct plan {
  const_dnnl_primitive_desc_t pd;
  step *s;
  size_t *offset;              /* per value (roots): arena offset */
} plan;

static void *value_ptr(const odn_instance *in, const size_t *offset, int v) {
  const void *k = odn_const_data(in->c, v);
  if (k) return (void *)k;
  return (char *)in->arena + odn_value_offset(in->c, offset, v);
}

static zn_status add_arg(odn_instance *in, step *s, int arg, const dnnl_memory_desc_t *md, void *ptr,
                         dnnl_memory_t *mem_out) {
  dnnl_memory_t m;
  ZN_TRY(new_mem(in, md, ptr, &m));
  s->args[s->nargs].arg = arg;
  s->args[s->nargs].memory = m;
  s->nargs++;
  if (mem_out) *mem_out = m;
  return ZN_OK;
}

static zn_status add_value_arg(odn_instance *in, step *s, const_dnnl_primitive_desc_t pd, int arg, const size_t *offset,
                               int v) {
  const dnnl_memory_desc_t *md = arg_md(pd, arg);
  if (!md) return zn_error(ZN_ERR_INTERNAL, "failed to query a oneDNN argument descriptor (arg %d)", arg);
  return add_arg(in, s, arg, md, value_ptr(in, offset, v), NULL);
}

/* Weights for a conv / inner product: the compiled model's packed copy, or
 * the shared copy in the layout this batch's primitive prefers (weights.c). */
static zn_status weights_arg(odn_instance *in, step *s, const_dnnl_primitive_desc_t pd, int op_index) {
  const dnnl_memory_desc_t *want = arg_md(pd, DNNL_ARG_WEIGHTS);
  if (!want) return zn_error(ZN_ERR_INTERNAL, "failed to query the weights layout of a oneDNN step");
  void *data = NULL;
  ZN_TRY(zn_onednn_weights_get(in->c, op_index, want, &data));
  return add_arg(in, s, DNNL_ARG_WEIGHTS, want, data, NULL);
}

/* Per-thread parts of step i on set ps (1: not an own Winograd conv, or blocks shared by the team). */
static int step_parts(const odn_instance *in, const pset *ps, int i) {
  const odn_op *op = &in->c->ops[i];
  return op->kind == ODN_CONV && op->own_wino ? zn_onednn_wino_parts(in->c, op, in->batch, ps->threads) : 1;
}

/* The own Winograd conv's V and M scratch of one part (before oneDNN's scratchpad in the part's region); 0 for other
 * steps. */
static size_t wino_scratch_bytes(const odn_instance *in, int i, int parts) {
  const odn_op *op = &in->c->ops[i];
  return op->kind == ODN_CONV && op->own_wino ? zn_onednn_wino_scratch_bytes(in->c, op, in->batch, parts) : 0;
}

static size_t round64(size_t bytes) { return (bytes + 63) / 64 * 64; }

/* Bytes of one part's region: V, M, then oneDNN's scratchpad (pad bytes). */
static size_t part_bytes(const odn_instance *in, int i, int parts, size_t pad) {
  return round64(wino_scratch_bytes(in, i, parts) + pad);
}

/* An own Winograd conv: per part, the matmul V x U -> M over the part's region of the step's scratch. */
static zn_status build_wino_step(odn_instance *in, pset *ps, int i, const_dnnl_primitive_desc_t pd,
                                 const size_t *offset, size_t scratch_offset, size_t scratch_bytes) {
  step *s = &ps->steps[i];
  const size_t wb = wino_scratch_bytes(in, i, s->parts), stride = part_bytes(in, i, s->parts, scratch_bytes);
  const size_t mb = round64(dnnl_memory_desc_get_size(arg_md(pd, DNNL_ARG_DST)));  /* M starts 64-aligned after V */
  void *v = (char *)in->arena + scratch_offset;
  ZN_TRY(zn_onednn_wino_run_create(in->c, &in->c->ops[i], in->batch, in->arena, offset, v, ps->threads, s->parts,
                                   stride, &s->wino));
  for (int p = 0; p < s->parts; p++) {
    char *base = (char *)v + (size_t)p * stride;
    ZN_TRY(add_arg(in, s, DNNL_ARG_SRC, arg_md(pd, DNNL_ARG_SRC), base, NULL));
    ZN_TRY(weights_arg(in, s, pd, i));
    ZN_TRY(add_arg(in, s, DNNL_ARG_DST, arg_md(pd, DNNL_ARG_DST), base + wb - mb, NULL));
    if (scratch_bytes) {
      const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
      ZN_TRY(add_arg(in, s, DNNL_ARG_SCRATCHPAD, md, base + wb, NULL));
    }
  }
  s->nargs /= s->parts;  /* per part */
  return ZN_OK;
}

const odn_own_step *zn_onednn_own_step_of(const odn_op *op) {
  if (op->kind == ODN_CONCAT_OWN) return &zn_onednn_concat_step;
  if (op->kind == ODN_CONV && op->own_1x1) return &zn_onednn_own1x1_step;
  if (op->kind == ODN_BINARY && op->own_binary) return &zn_onednn_binary_step;
  if (op->kind == ODN_POOL && op->own_gap) return &zn_onednn_gap_step;
  return NULL;
}

static zn_status build_step(odn_instance *in, pset *ps, int i, const_dnnl_primitive_desc_t pd, const size_t *offset,
                            size_t scratch_offset, size_t scratch_bytes) {
  const odn_compiled *c = in->c;
  const odn_op *op = &c->ops[i];
  const zn_graph *g = c->g;
  step *s = &ps->steps[i];
  s->parts = step_parts(in, ps, i);
  s->args = zn_calloc(((size_t)op->num_ins + 8) * (size_t)s->parts, sizeof *s->args);
  if (!s->args) return oom();
  if ((s->own_ops = zn_onednn_own_step_of(op)) != NULL)
    return s->own_ops->create(c, i, in->batch, in->arena, offset, ps->threads, &s->own);
  ODN_TRY_DNNL(dnnl_primitive_create(&s->prim, pd), "create a oneDNN primitive");
  switch (op->kind) {
    case ODN_IMPORT:
      ZN_TRY(add_arg(in, s, DNNL_ARG_FROM, arg_md(pd, DNNL_ARG_FROM), DNNL_MEMORY_NONE, &ps->in_mems[op->io_index]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_TO, offset, op->out));
      break;
    case ODN_EXPORT:
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_FROM, offset, op->ins[0]));
      ZN_TRY(add_arg(in, s, DNNL_ARG_TO, arg_md(pd, DNNL_ARG_TO), DNNL_MEMORY_NONE, &ps->out_mems[op->io_index]));
      break;
    case ODN_TO_PLAIN: case ODN_COPY: case ODN_CONVERT: case ODN_VIEW:
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_FROM, offset, op->ins[0]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_TO, offset, op->out));
      break;
    case ODN_CONV: case ODN_IP:
      if (op->kind == ODN_CONV && op->own_wino) return build_wino_step(in, ps, i, pd, offset, scratch_offset, scratch_bytes);
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SRC, offset, op->ins[0]));
      ZN_TRY(weights_arg(in, s, pd, i));
      if (op->bias) ZN_TRY(add_arg(in, s, DNNL_ARG_BIAS, arg_md(pd, DNNL_ARG_BIAS), op->bias, NULL));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_DST, offset, op->out));
      break;
    case ODN_POOL: case ODN_ELTWISE: case ODN_LRN: case ODN_SOFTMAX:
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SRC, offset, op->ins[0]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_DST, offset, op->out));
      break;
    case ODN_MATMUL:
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SRC, offset, op->ins[0]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_WEIGHTS, offset, op->ins[1]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_DST, offset, op->out));
      break;
    case ODN_BINARY:
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SRC_0, offset, op->ins[0]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SRC_1, offset, op->ins[1]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_DST, offset, op->out));
      break;
    case ODN_SUM: case ODN_CONCAT:
      for (int k = 0; k < op->num_ins; k++)
        ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_MULTIPLE_SRC + k, offset, op->ins[k]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_DST, offset, op->out));
      break;
    case ODN_BNORM: {
      const zn_node *n = &g->nodes[op->node];
      static const int args[4] = {DNNL_ARG_SCALE, DNNL_ARG_SHIFT, DNNL_ARG_MEAN, DNNL_ARG_VARIANCE};
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SRC, offset, op->ins[0]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_DST, offset, op->out));
      for (int k = 0; k < 4; k++) ZN_TRY(add_value_arg(in, s, pd, args[k], offset, zn_node_input(n, k + 1)));
      break;
    }
    case ODN_LNORM: {
      const zn_node *n = &g->nodes[op->node];
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SRC, offset, op->ins[0]));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_DST, offset, op->out));
      ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SCALE, offset, zn_node_input(n, 1)));
      if (n->num_inputs > 2 && zn_node_input(n, 2) != ZN_NO_VALUE)
        ZN_TRY(add_value_arg(in, s, pd, DNNL_ARG_SHIFT, offset, zn_node_input(n, 2)));
      break;
    }
    case ODN_CONCAT_OWN: case ODN_KIND_COUNT: break;
  }
  if (scratch_bytes) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    ZN_TRY(add_arg(in, s, DNNL_ARG_SCRATCHPAD, md, (char *)in->arena + scratch_offset, NULL));
  }
  return ZN_OK;
}

static void touch(int64_t *first, int64_t *last, int r, int64_t step) {
  if (first[r] < 0 || step < first[r]) first[r] = step;
  if (step > last[r]) last[r] = step;
}

static bool alloc_set(const odn_compiled *c, pset *ps) {
  ps->steps = zn_calloc((size_t)c->num_ops + 1, sizeof *ps->steps);
  ps->in_mems = zn_calloc((size_t)c->g->num_inputs + 1, sizeof *ps->in_mems);
  ps->out_mems = zn_calloc((size_t)c->g->num_outputs + 1, sizeof *ps->out_mems);
  return ps->steps && ps->in_mems && ps->out_mems;
}

/* Primitive descs of every step for one set, created under its thread count
 * (oneDNN fixes a primitive's parallel split when its desc is created). */
static zn_status set_pds(odn_instance *in, const pset *ps, int64_t batch, dnnl_primitive_desc_t *pds) {
  int saved;
  zn_status st = ZN_OK;
  zn_onednn_threads_push(ps->threads, &saved);
  for (int i = 0; i < in->c->num_ops && st == ZN_OK; i++) {
    const odn_op *op = &in->c->ops[i];
    int parts = step_parts(in, ps, i);
    if (parts > 1) {  /* each part runs the matmul on its own thread */
      int saved_one;
      zn_onednn_threads_push(1, &saved_one);
      st = zn_onednn_wino_matmul_pd(in->c, &in->c->g->nodes[op->node], op->wino_tile, batch, parts,
                                    op->wdata ? &op->wmd : NULL, &pds[i]);
      zn_onednn_threads_pop(saved_one);
    } else {
      st = zn_onednn_op_pd(in->c, op, batch, &pds[i]);
    }
  }
  zn_onednn_threads_pop(saved);
  return st;
}

static size_t scratch_bytes_of(const_dnnl_primitive_desc_t pd) {
  const dnnl_memory_desc_t *md = pd ? dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0) : NULL;
  return md ? dnnl_memory_desc_get_size(md) : 0;
}

static zn_status build_plan(odn_instance *in, int64_t batch) {
  const odn_compiled *c = in->c;
  int nv = c->num_values, no = c->num_ops, ns = in->num_sets;
  zn_status st = ZN_OK;
  dnnl_primitive_desc_t *pds = zn_calloc(2 * (size_t)no + 1, sizeof *pds);  /* [set * no + op] */
  zn_arena_request *req = zn_calloc((size_t)(nv + no) + 1, sizeof *req);
  int64_t *first = zn_malloc(((size_t)nv + 1) * sizeof *first), *last = zn_malloc(((size_t)nv + 1) * sizeof *last);
  size_t *offset = zn_calloc((size_t)nv + 1, sizeof *offset);
  if (!pds || !req || !first || !last || !offset) {
    st = oom();
    goto done;
  }
  for (int k = 0; k < ns; k++)
    if (!alloc_set(c, &in->sets[k])) { st = oom(); goto done; }
  if (!(in->ran_set = zn_calloc((size_t)no + 1, 1))) { st = oom(); goto done; }
  in->batch = batch;
  for (int k = 0; k < ns && st == ZN_OK; k++) st = set_pds(in, &in->sets[k], batch, pds + (size_t)k * no);
  if (st != ZN_OK) goto done;

  /* liveness of each buffer (root value): first to last step touching it or an alias */
  for (int v = 0; v < nv; v++) first[v] = last[v] = -1;
  for (int i = 0; i < no; i++) {
    const odn_op *op = &c->ops[i];
    for (int k = 0; k < op->num_ins; k++)
      if (!odn_const_data(c, op->ins[k])) touch(first, last, c->values[op->ins[k]].root, i);
    if (op->out >= 0) touch(first, last, c->values[op->out].root, i);
    if (op->residual >= 0) touch(first, last, c->values[op->residual].root, i);
  }
  for (int v = 0; v < nv; v++) {
    req[v].first = req[v].last = 0;
    if (first[v] < 0 || c->values[v].root != v || odn_const_data(c, v)) continue;
    dnnl_memory_desc_t md;
    if ((st = zn_onednn_value_md(c, v, batch, &md)) != ZN_OK) goto done;
    req[v].first = first[v];
    req[v].last = last[v];
    req[v].size_bytes = dnnl_memory_desc_get_size(&md);
  }
  /* one scratchpad per step, sized for the larger of the two sets (an own
   * Winograd conv's: V, M and oneDNN's scratchpad for each part) */
  for (int i = 0; i < no; i++) {
    req[nv + i].first = req[nv + i].last = i;
    for (int k = 0; k < ns; k++) {
      const int parts = step_parts(in, &in->sets[k], i);
      size_t b = (size_t)parts * part_bytes(in, i, parts, scratch_bytes_of(pds[(size_t)k * no + i]));
      if (b > req[nv + i].size_bytes) req[nv + i].size_bytes = b;
    }
  }
  if ((st = zn_arena_plan(req, (size_t)(nv + no), &in->arena_bytes)) != ZN_OK) goto done;
  in->arena = zn_backend_arena_get(in->arena_src, in->arena_bytes ? in->arena_bytes : 64);
  if (!in->arena) { st = oom(); goto done; }
  for (int v = 0; v < nv; v++) offset[v] = req[v].offset;
  for (int k = 0; k < ns && st == ZN_OK; k++) {
    int saved;
    zn_onednn_threads_push(in->sets[k].threads, &saved);  /* primitives are created under their thread count too */
    for (int i = 0; i < no && st == ZN_OK; i++) {
      const_dnnl_primitive_desc_t pd = pds[(size_t)k * no + i];
      st = build_step(in, &in->sets[k], i, pd, offset, req[nv + i].offset, scratch_bytes_of(pd));
    }
    zn_onednn_threads_pop(saved);
  }
done:
  if (pds)
    for (int i = 0; i < 2 * no; i++)
      if (pds[i]) dnnl_primitive_desc_destroy(pds[i]);
  zn_free(pds);
  zn_free(req);
  zn_free(first);
  zn_free(last);
  zn_free(offset);
  return st;
}

static void adapt_reset(adapt *ad, int num_sets) {
  int fs = ad->force_set, fk = ad->force_switch_step;
  memset(ad, 0, sizeof *ad);
  ad->mode = num_sets > 1 ? SET_MANY : SET_ONE;
  ad->backoff = ADAPT_BACKOFF_MIN;
  ad->countdown = 0;
  ad->force_set = fs;
  ad->force_switch_step = fk;
}

zn_status zn_onednn_instance_reshape(void *p, int64_t batch) {
  odn_instance *in = p;
  if (batch < 1) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to reshape onednn instance: batch %lld < 1",
                                 (long long)batch);
  release_plan(in);
  zn_status st = build_plan(in, batch);
  if (st != ZN_OK) release_plan(in);
  adapt_reset(&in->ad, in->num_sets);
  return st;
}

zn_status zn_onednn_instance_create(const void *compiled, const zn_backend_instance_options *opts,
                                    void **instance_out) {
  *instance_out = NULL;
  odn_instance *in = zn_calloc(1, sizeof *in);
  if (!in) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create onednn instance: out of memory");
  in->c = compiled;
  in->num_threads = opts && opts->num_threads > 0 ? opts->num_threads : 1;
  in->arena_src = opts ? opts->arena : NULL;
  in->sets[SET_ONE].threads = 1;
  in->sets[SET_MANY].threads = in->num_threads;
  in->num_sets = in->num_threads > 1 ? 2 : 1;
  in->ad.force_set = in->ad.force_switch_step = -1;
  adapt_reset(&in->ad, in->num_sets);
  in->streams = zn_calloc((size_t)in->num_threads, sizeof *in->streams);
  if (!in->streams) {
    zn_free(in);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create onednn instance: out of memory");
  }
  for (int t = 0; t < in->num_threads; t++)
    if (dnnl_stream_create(&in->streams[t], in->c->engine, dnnl_stream_default_flags) != dnnl_success) {
      zn_onednn_instance_destroy(in);
      return zn_error(ZN_ERR_INTERNAL, "failed to create onednn instance: no oneDNN stream");
    }
  in->stream = in->streams[0];
  *instance_out = in;
  return ZN_OK;
}

size_t zn_onednn_instance_arena_bytes(const void *p) { return ((const odn_instance *)p)->arena_bytes; }

void zn_onednn_instance_force(void *p, int set, int switch_step) {
  odn_instance *in = p;
  in->ad.force_set = set;
  in->ad.force_switch_step = switch_step;
}

void zn_onednn_instance_stats(const void *p, zn_onednn_run_stats *out) { *out = ((const odn_instance *)p)->ad.stats; }

static void ewma(double *est, double x) { *est = *est > 0 ? 0.75 * *est + 0.25 * x : x; }

/* The set this run starts on. */
static int adapt_pick(const odn_instance *in) {
  const adapt *ad = &in->ad;
  if (in->num_sets == 1) return SET_ONE;
  if (ad->force_set >= 0) return ad->force_set;
  if (ad->countdown > 0) return ad->mode;
  return ad->mode == SET_MANY ? SET_ONE : SET_MANY;                         /* a probe of the other set */
}

static void adapt_update(odn_instance *in, int set, bool bailed, double ns) {
  adapt *ad = &in->ad;
  if (in->num_sets == 1 || ad->force_set >= 0) return;
  bool probe = set != ad->mode;
  if (bailed) ad->stats.bailouts++;
  if (bailed || (probe && set == SET_MANY)) ad->est_ns[SET_MANY] = ns;  /* a probe's verdict stands alone */
  else ewma(&ad->est_ns[set], ns);
  double one = ad->est_ns[SET_ONE];
  bool many_lost = bailed || (one > 0 && set == SET_MANY && ns > one);
  if (ad->mode == SET_MANY) {
    if (many_lost) {
      ad->mode = SET_ONE;
      ad->backoff = ADAPT_BACKOFF_MIN;
      ad->countdown = ad->backoff;
      ad->stats.switches++;
    } else if (probe || ad->countdown <= 0) {
      ad->countdown = ADAPT_REFRESH_RUNS;
    } else {
      ad->countdown--;
    }
  } else if (probe) {             /* N threads were probed from 1-thread mode */
    if (!many_lost) {
      ad->mode = SET_MANY;
      ad->countdown = ADAPT_REFRESH_RUNS;
      ad->stats.switches++;
    } else {
      ad->backoff = ad->backoff * 2 > ADAPT_BACKOFF_MAX ? ADAPT_BACKOFF_MAX : ad->backoff * 2;
      ad->countdown = ad->backoff;
    }
  } else {
    ad->countdown--;
  }
}

/* One run; step_ns: NULL (a normal run), or each step's wall time and the
 * set it ran on (in->ran_set) for the per-step profile. The stream is
 * synchronous on CPU (execute returns when the primitive is done), so the
 * clock around a step times exactly that step. */
static zn_status run_steps(odn_instance *in, const void *const *inputs, void *const *outputs, int64_t *step_ns) {
  const odn_compiled *c = in->c;
  if (!in->batch) return zn_error(ZN_ERR_INVALID_STATE, "failed to run onednn instance: not reshaped");
  int set = adapt_pick(in), cur = set;
  for (int k = 0; k < in->num_sets; k++) {
    const pset *ps = &in->sets[k];
    for (int i = 0; i < c->g->num_inputs; i++)
      if (ps->in_mems[i]) dnnl_memory_set_data_handle(ps->in_mems[i], (void *)inputs[i]);
    for (int i = 0; i < c->g->num_outputs; i++)
      if (ps->out_mems[i]) dnnl_memory_set_data_handle(ps->out_mems[i], outputs[i]);
  }
  /* An N-thread run gives up once it has cost bail_factor x a whole 1-thread
   * run (a worker is pre-empted): the remaining steps run on 1 thread. */
  bool timed = in->num_sets > 1;
  double one = in->ad.est_ns[SET_ONE];
  zn_time_ns t0 = timed ? zn_now_ns() : 0;
  zn_time_ns bail_at = set == SET_MANY && one > 0 && in->ad.force_set < 0 ? t0 + (zn_time_ns)(ADAPT_BAIL_FACTOR * one) : 0;
  bool bailed = false;
  int saved;
  zn_onednn_threads_push(in->sets[cur].threads, &saved);
  zn_status st = ZN_OK;
  for (int i = 0; i < c->num_ops; i++) {
    if (cur == SET_MANY && ((bail_at && zn_now_ns() > bail_at) || i == in->ad.force_switch_step)) {
      cur = SET_ONE;
      bailed = true;
      zn_onednn_threads_pop(saved);
      zn_onednn_threads_push(in->sets[cur].threads, &saved);
    }
    const step *s = &in->sets[cur].steps[i];
    const zn_time_ns ts = step_ns ? zn_now_ns() : 0;
    dnnl_status_t ds = dnnl_success;
    if (s->own) {  /* CPU primitives have finished when execute returns: the inputs are ready */
      s->own_ops->exec(s->own);
    } else if (s->wino) {
      if ((st = zn_onednn_wino_run_exec(s->wino, s->prim, in->streams, s->nargs, s->args)) != ZN_OK) break;
    } else {
      ds = dnnl_primitive_execute(s->prim, in->stream, s->nargs, s->args);
    }
    if (step_ns) {
      step_ns[i] = zn_now_ns() - ts;
      in->ran_set[i] = (unsigned char)cur;
    }
    if (ds != dnnl_success) {
      const odn_op *op = &c->ops[i];
      st = zn_error(ZN_ERR_INTERNAL, "failed to run onednn step %d (%s, node %s): oneDNN status %d", i,
                    zn_onednn_kind_name(op->kind), op->node >= 0 ? c->g->nodes[op->node].name : "-", (int)ds);
      break;
    }
  }
  if (dnnl_stream_wait(in->stream) != dnnl_success && st == ZN_OK)
    st = zn_error(ZN_ERR_INTERNAL, "failed to run onednn instance: stream wait failed");
  zn_onednn_threads_pop(saved);
  in->ad.stats.runs[set]++;
  if (timed && st == ZN_OK) adapt_update(in, set, bailed, (double)(zn_now_ns() - t0));
  return st;
}

zn_status zn_onednn_instance_run(void *p, const void *const *inputs, void *const *outputs) {
  return run_steps(p, inputs, outputs, NULL);
}

zn_status zn_onednn_instance_run_profiled(void *p, const void *const *inputs, void *const *outputs, int64_t *step_ns) {
  return run_steps(p, inputs, outputs, step_ns);
}

int zn_onednn_instance_num_steps(const void *p) {
  const odn_instance *in = p;
  return in->batch ? in->c->num_ops : 0;
}

static const char *prim_impl(const_dnnl_primitive_t prim) {
  const_dnnl_primitive_desc_t pd = NULL;
  const char *impl = NULL;
  if (!prim || dnnl_primitive_get_primitive_desc(prim, &pd) != dnnl_success || !pd ||
      dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl) != dnnl_success || !impl)
    return "?";
  return impl;
}

static void add_node(zn_backend_step *out, int node) {
  if (out->num_nodes < ZN_BACKEND_STEP_MAX_NODES) out->nodes[out->num_nodes++] = node;
}

/* Graph nodes step i computes: its node, the batch norm folded into an own
 * concat (the step's output is the batch norm's), the ReLU folded into a
 * batch norm or own concat (its output aliases the step's). Import, export,
 * convert and the residual copy before a conv compute no node. Nodes with
 * no step (aliases, folded Flatten, zero-copy concats) move no bytes. */
static void step_nodes(const odn_compiled *c, const odn_op *op, zn_backend_step *out) {
  const zn_graph *g = c->g;
  out->num_nodes = 0;
  if (op->node < 0 || op->kind == ODN_COPY || op->kind == ODN_CONVERT) return;
  add_node(out, op->node);
  const int y = op->out;
  if (y < 0 || y >= g->num_values) return;
  const int producer = g->values[y].producer;
  if (producer >= 0 && producer != op->node) add_node(out, producer);
  if (!op->fuse_relu) return;
  for (int j = 0; j < g->num_nodes; j++) {
    const zn_node *n = &g->nodes[j];
    if (n->num_inputs >= 1 && zn_node_input(n, 0) == y && n->outputs[0] < c->num_values &&
        c->values[n->outputs[0]].root == c->values[y].root && n->outputs[0] != y)
      add_node(out, j);
  }
}

void zn_onednn_instance_step(const void *p, int i, zn_backend_step *out) {
  const odn_instance *in = p;
  const odn_compiled *c = in->c;
  const odn_op *op = &c->ops[i];
  const int set = in->ran_set ? in->ran_set[i] : SET_ONE;
  const step *s = &in->sets[set].steps[i];
  const char *threads = in->num_sets > 1 && set == SET_ONE ? " [1-thread set]" : "";
  if (s->own) {
    char text[128];
    s->own_ops->kernel(c, i, s->own, text, sizeof text);
    snprintf(out->kernel, sizeof out->kernel, "%s%s", text, threads);
  }
  else if (s->wino)
    snprintf(out->kernel, sizeof out->kernel, "own Winograd F(%dx%d,3x3), matmul %s%s%s", op->wino_tile,
             op->wino_tile, prim_impl(s->prim), s->parts > 1 ? " per thread" : "", threads);
  else if (op->node < 0 || op->kind == ODN_COPY || op->kind == ODN_CONVERT)
    snprintf(out->kernel, sizeof out->kernel, "%s reorder %s%s",
             op->kind == ODN_COPY ? "residual copy" : zn_onednn_kind_name(op->kind), prim_impl(s->prim), threads);
  else
    snprintf(out->kernel, sizeof out->kernel, "%s%s", prim_impl(s->prim), threads);
  step_nodes(c, op, out);
}

void zn_onednn_instance_destroy(void *p) {
  odn_instance *in = p;
  if (!in) return;
  release_plan(in);
  for (int t = 0; in->streams && t < in->num_threads; t++)
    if (in->streams[t]) dnnl_stream_destroy(in->streams[t]);
  zn_free(in->streams);
  zn_free(in);
}
