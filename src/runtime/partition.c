/* The per-node backend choice of "auto" (partition.h): segments of
 * consecutive nodes on one backend, each compiled from its own sub-graph,
 * run in order by one partition instance that owns the buffers of the values
 * crossing from one segment to a later one. */
#include "runtime/partition.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/status.h"

/* Where a segment reads an input or writes an output at run time. */
typedef enum io_kind { IO_GRAPH_INPUT, IO_GRAPH_OUTPUT, IO_SLOT } io_kind;
typedef struct io_ref {
  io_kind kind;
  int index;                     /* graph input index, graph output index, or slot */
} io_ref;

typedef struct segment {
  const zn_backend_ops *backend;
  zn_graph *graph;               /* owned sub-graph: nodes first .. first + count - 1 of the full graph */
  void *compiled;
  int first, count;
  int num_in, num_out;
  io_ref *in, *out;              /* sub-graph input k / output k */
  size_t retained_bytes;         /* sub-graph constants the backend did not take over */
  bool fp32_only;                /* a ref segment of a bf16 partition */
  char why[160];                 /* why order[0] refused the segment's first node (fallback segments) */
} segment;

typedef struct partition {
  const zn_graph *graph;
  zn_precision precision;
  int num_segments;
  segment *segs;
  int num_slots;
  int *slot_value;               /* full-graph value of each slot */
  int max_in, max_out;
  char name[64];
  const char *preferred;         /* order[0]'s name: the backend the fallback segments' nodes were refused by */
} partition;

/* The segments' arenas: one block for all of them. Segments run one at a
 * time, and an arena holds only what lives within one run
 * (zn_backend_arena_source), so each segment may use the whole block. Reshape
 * sizes it in a first pass (every segment gets an arena of its own, and the
 * largest request is kept), then binds every segment to one block of that size
 * in a second. */
typedef struct shared_arena {
  zn_backend_arena_source src;   /* ctx: this */
  bool sizing;                   /* first pass: heap arenas, largest request kept */
  size_t largest;
  void *block;                   /* second pass and after: every segment's arena */
  size_t block_bytes;
  size_t sum_bytes;              /* what the segments' own arenas took together (zn_partition_instance_memory) */
} shared_arena;

static void *shared_get(void *ctx, size_t bytes) {
  shared_arena *a = ctx;
  if (!a->sizing && a->block && bytes <= a->block_bytes) return a->block;
  if (bytes > a->largest) a->largest = bytes;
  return zn_alloc_aligned(bytes);
}

static void shared_put(void *ctx, void *ptr) {
  shared_arena *a = ctx;
  if (ptr != a->block) zn_free_aligned(ptr);
}

typedef struct part_instance {
  const partition *p;
  void **inst;                   /* per segment */
  shared_arena arena;            /* the segments' arenas */
  void *slot_block;              /* every slot, planned by lifetime at reshape */
  void **slot;                   /* per slot, into slot_block */
  size_t slot_bytes;             /* slot_block's size */
  const void **ins;              /* one segment's inputs and outputs while it runs */
  void **outs;
  int *step_start;               /* per segment, after reshape; [num_segments]: the total */
} part_instance;

void zn_partition_assign(const zn_graph *g, const zn_backend_ops *const *order, size_t count, int *assign,
                         void (*warn)(const zn_graph *g, int node, const zn_backend_ops *b, const char *why)) {
  for (int i = 0; i < g->num_nodes; i++) {
    assign[i] = -1;
    for (size_t k = 0; k < count && assign[i] < 0; k++) {
      char why[256] = "";
      if (order[k]->supports_node(g, &g->nodes[i], why, sizeof why))
        assign[i] = (int)k;
      else if (k == 0 && warn)
        warn(g, i, order[k], why);
    }
  }
}

static void segment_free(segment *s) {
  if (s->compiled) s->backend->compiled_destroy(s->compiled);
  zn_graph_destroy(s->graph);
  zn_free(s->in);
  zn_free(s->out);
}

static void partition_destroy(void *compiled) {
  partition *p = compiled;
  if (!p) return;
  for (int s = 0; s < p->num_segments; s++) segment_free(&p->segs[s]);
  zn_free(p->segs);
  zn_free(p->slot_value);
  zn_free(p);
}

static int index_of(const int *ids, int count, int v) {
  for (int i = 0; i < count; i++)
    if (ids[i] == v) return i;
  return -1;
}

static zn_status oom(const char *what) { return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to partition graph: out of memory (%s)", what); }

static zn_status push_io(io_ref **list, int *count, io_kind kind, int index) {
  io_ref *grown = zn_realloc(*list, (size_t)(*count + 1) * sizeof **list);
  if (!grown) return oom("segment inputs");
  grown[*count] = (io_ref){kind, index};
  (*count)++;
  *list = grown;
  return ZN_OK;
}

/* The sub-graph's copy of full-graph value v (added on first use). */
static zn_status map_value(const zn_graph *g, zn_graph *sub, int *map, int v) {
  if (map[v] >= 0) return ZN_OK;
  const zn_value *src = &g->values[v];
  int id;
  if (src->data) {
    ZN_TRY(zn_graph_add_const(sub, src->name, src->dtype, src->num_dims, src->dims, src->data, src->data_bytes, &id));
  } else {
    ZN_TRY(zn_graph_add_value(sub, src->name, src->dtype, &id));
    zn_value *dst = &sub->values[id];
    dst->num_dims = src->num_dims;
    memcpy(dst->dims, src->dims, sizeof dst->dims);
  }
  sub->values[id].batch_axis = src->batch_axis;
  sub->values[id].batch_elems = src->batch_elems;
  map[v] = id;
  return ZN_OK;
}

/* A value crossing from its segment to a later one: the graph output it is,
 * or its slot (allocated on first use). */
static zn_status cross_ref(const zn_graph *g, partition *p, int *slot_of, int v, io_ref *out) {
  int o = index_of(g->outputs, g->num_outputs, v);
  if (o >= 0) {
    *out = (io_ref){IO_GRAPH_OUTPUT, o};
    return ZN_OK;
  }
  if (slot_of[v] < 0) {
    int *grown = zn_realloc(p->slot_value, (size_t)(p->num_slots + 1) * sizeof *grown);
    if (!grown) return oom("slots");
    p->slot_value = grown;
    p->slot_value[p->num_slots] = v;
    slot_of[v] = p->num_slots++;
  }
  *out = (io_ref){IO_SLOT, slot_of[v]};
  return ZN_OK;
}

/* Segment seg's sub-graph: its nodes with the values they touch; inputs are
 * the non-constant values produced elsewhere, outputs those read by a later
 * segment or by the caller. last_seg[v]: the last segment reading v. */
static zn_status build_segment(const zn_graph *g, partition *p, segment *seg, int index, const int *seg_of,
                               const int *last_seg, int *map, int *slot_of) {
  for (int v = 0; v < g->num_values; v++) map[v] = -1;
  zn_graph *sub = NULL;
  ZN_TRY(zn_graph_create(&sub));
  seg->graph = sub;
  sub->name = zn_strdup(g->name ? g->name : "");
  if (!sub->name) return oom("name");
  sub->opset = g->opset;
  sub->static_batch = g->static_batch;
  for (int j = seg->first; j < seg->first + seg->count; j++) {
    const zn_node *n = &g->nodes[j];
    int *ins = zn_calloc((size_t)n->num_inputs + 1, sizeof *ins);
    if (!ins) return oom("node inputs");
    zn_status st = ZN_OK;
    for (int k = 0; k < n->num_inputs && st == ZN_OK; k++) {
      const int v = zn_node_input(n, k);
      ins[k] = ZN_NO_VALUE;
      if (v < 0) continue;
      const bool fresh = map[v] < 0;
      st = map_value(g, sub, map, v);
      ins[k] = map[v];
      if (st != ZN_OK || !fresh || g->values[v].data) continue;
      const int producer = g->values[v].producer;
      if (producer >= 0 && seg_of[producer] == index) continue;
      /* made before this segment: a graph input or a crossing value */
      io_ref from;
      const int gi = index_of(g->inputs, g->num_inputs, v);
      if (gi >= 0) from = (io_ref){IO_GRAPH_INPUT, gi};
      else if (producer < 0) st = zn_error(ZN_ERR_INTERNAL, "failed to partition graph: value '%s' has no producer",
                                          g->values[v].name);
      else st = cross_ref(g, p, slot_of, v, &from);
      if (st == ZN_OK) st = zn_graph_mark_input(sub, map[v]);
      if (st == ZN_OK) st = push_io(&seg->in, &seg->num_in, from.kind, from.index);
    }
    int outs[ZN_MAX_NODE_OUTPUTS];
    for (int k = 0; k < n->num_outputs && st == ZN_OK; k++) {
      outs[k] = ZN_NO_VALUE;
      if (n->outputs[k] < 0) continue;
      st = map_value(g, sub, map, n->outputs[k]);
      outs[k] = map[n->outputs[k]];
    }
    int idx = -1;
    if (st == ZN_OK) st = zn_graph_add_node(sub, n->op, n->name, n->num_inputs, ins, n->num_outputs, outs, &idx);
    zn_free(ins);
    ZN_TRY(st);
    sub->nodes[idx].attrs = n->attrs;
    for (int k = 0; k < n->num_outputs; k++) {
      const int v = n->outputs[k];
      if (v < 0 || (!g->values[v].is_output && last_seg[v] <= index)) continue;
      io_ref to;
      ZN_TRY(cross_ref(g, p, slot_of, v, &to));
      ZN_TRY(zn_graph_mark_output(sub, map[v]));
      ZN_TRY(push_io(&seg->out, &seg->num_out, to.kind, to.index));
    }
  }
  if (seg->num_in > p->max_in) p->max_in = seg->num_in;
  if (seg->num_out > p->max_out) p->max_out = seg->num_out;
  return zn_graph_verify(sub);
}

/* Compile one segment and free the sub-graph constants its backend packed. */
static zn_status compile_segment(segment *seg, const zn_backend_compile_options *opts) {
  zn_backend_compile_options co = *opts;
  if (strcmp(seg->backend->name, "ref") == 0 && co.precision != ZN_PRECISION_FP32) {
    co.precision = ZN_PRECISION_FP32;
    seg->fp32_only = true;
  }
  ZN_TRY(seg->backend->compile(seg->graph, &co, &seg->compiled));
  zn_graph *sub = seg->graph;
  for (int v = 0; v < sub->num_values; v++) {
    zn_value *val = &sub->values[v];
    if (!val->data || !seg->backend->constant_releasable) continue;
    if (!seg->backend->constant_releasable(seg->compiled, v)) {
      seg->retained_bytes += val->data_bytes;
      continue;
    }
    zn_free_aligned(val->data);
    val->data = NULL;
  }
  return ZN_OK;
}

static void make_name(partition *p) {
  size_t used = 0;
  p->name[0] = '\0';
  for (int s = 0; s < p->num_segments; s++) {
    const char *b = p->segs[s].backend->name;
    bool seen = false;
    for (int t = 0; t < s && !seen; t++) seen = p->segs[t].backend == p->segs[s].backend;
    if (seen) continue;
    int w = snprintf(p->name + used, sizeof p->name - used, "%s%s", used ? "+" : "", b);
    if (w < 0 || (size_t)w >= sizeof p->name - used) break;
    used += (size_t)w;
  }
}

zn_status zn_partition_compile(const zn_graph *g, const zn_backend_ops *const *order, const int *assign,
                               const zn_backend_compile_options *opts, void **compiled_out) {
  *compiled_out = NULL;
  for (int i = 0; i < g->num_outputs; i++)
    if (g->values[g->outputs[i]].producer < 0)
      return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to partition graph: output '%s' is not computed by a node",
                      g->values[g->outputs[i]].name);
  partition *p = zn_calloc(1, sizeof *p);
  int *seg_of = zn_calloc((size_t)g->num_nodes + 1, sizeof *seg_of);
  int *last_seg = zn_calloc((size_t)g->num_values + 1, sizeof *last_seg);
  int *map = zn_calloc((size_t)g->num_values + 1, sizeof *map);
  int *slot_of = zn_calloc((size_t)g->num_values + 1, sizeof *slot_of);
  zn_status st = ZN_OK;
  if (!p || !seg_of || !last_seg || !map || !slot_of) {
    st = oom("tables");
    goto done;
  }
  p->graph = g;
  p->precision = opts->precision;
  p->preferred = order[0]->name;
  /* segments: runs of one backend in node order */
  int nseg = 0;
  for (int i = 0; i < g->num_nodes; i++) {
    if (assign[i] < 0) {
      st = zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to partition graph: no backend runs node '%s' (%s)",
                    g->nodes[i].name, zn_op_name(g->nodes[i].op));
      goto done;
    }
    if (i == 0 || assign[i] != assign[i - 1]) nseg++;
    seg_of[i] = nseg - 1;
  }
  p->segs = zn_calloc((size_t)nseg + 1, sizeof *p->segs);
  if (!p->segs) {
    st = oom("segments");
    goto done;
  }
  p->num_segments = nseg;
  for (int i = 0; i < g->num_nodes; i++) {
    segment *seg = &p->segs[seg_of[i]];
    if (seg->count++ == 0) {
      seg->first = i;
      seg->backend = order[assign[i]];
    }
  }
  for (int v = 0; v < g->num_values; v++) {
    last_seg[v] = -1;
    slot_of[v] = -1;
  }
  for (int i = 0; i < g->num_nodes; i++)
    for (int k = 0; k < g->nodes[i].num_inputs; k++) {
      const int v = zn_node_input(&g->nodes[i], k);
      if (v >= 0 && seg_of[i] > last_seg[v]) last_seg[v] = seg_of[i];
    }
  for (int s = 0; s < nseg && st == ZN_OK; s++) {
    segment *seg = &p->segs[s];
    if (seg->backend != order[0])
      order[0]->supports_node(g, &g->nodes[seg->first], seg->why, sizeof seg->why);
    st = build_segment(g, p, seg, s, seg_of, last_seg, map, slot_of);
    if (st == ZN_OK) st = compile_segment(seg, opts);
    if (st != ZN_OK)
      zn_error_prefix(st, "segment %d of %d (%s, nodes '%s'..'%s'): ", s + 1, nseg, seg->backend->name,
                      g->nodes[seg->first].name, g->nodes[seg->first + seg->count - 1].name);
  }
  if (st == ZN_OK) {
    make_name(p);
    *compiled_out = p;
    p = NULL;
  }
done:
  partition_destroy(p);
  zn_free(seg_of);
  zn_free(last_seg);
  zn_free(map);
  zn_free(slot_of);
  return st;
}

const char *zn_partition_name(const void *compiled) { return ((const partition *)compiled)->name; }
int zn_partition_num_segments(const void *compiled) { return ((const partition *)compiled)->num_segments; }

static size_t partition_weight_bytes(const void *compiled) {
  const partition *p = compiled;
  size_t total = 0;
  for (int s = 0; s < p->num_segments; s++) {
    const segment *seg = &p->segs[s];
    total += seg->retained_bytes + (seg->backend->weight_bytes ? seg->backend->weight_bytes(seg->compiled) : 0);
  }
  return total;
}

/* The segments hold copies of every constant they read. */
static bool partition_constant_releasable(const void *compiled, int value) {
  (void)compiled;
  (void)value;
  return true;
}

/* ---- instances ---- */

static void free_slots(part_instance *in) {
  for (int k = 0; in->slot && k < in->p->num_slots; k++) in->slot[k] = NULL;
  zn_free_aligned(in->slot_block);
  in->slot_block = NULL;
  in->slot_bytes = 0;
}

static void partition_instance_destroy(void *instance) {
  part_instance *in = instance;
  if (!in) return;
  for (int s = 0; in->inst && s < in->p->num_segments; s++)
    if (in->inst[s]) in->p->segs[s].backend->instance_destroy(in->inst[s]);
  zn_free_aligned(in->arena.block);  /* after the segments: they put their arenas back */
  free_slots(in);
  zn_free(in->inst);
  zn_free(in->slot);
  zn_free(in->ins);
  zn_free(in->outs);
  zn_free(in->step_start);
  zn_free(in);
}

static zn_status partition_instance_create(const void *compiled, const zn_backend_instance_options *opts,
                                           void **instance_out) {
  const partition *p = compiled;
  *instance_out = NULL;
  part_instance *in = zn_calloc(1, sizeof *in);
  if (!in) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create partition instance: out of memory");
  in->p = p;
  in->inst = zn_calloc((size_t)p->num_segments + 1, sizeof *in->inst);
  in->slot = zn_calloc((size_t)p->num_slots + 1, sizeof *in->slot);
  in->ins = zn_calloc((size_t)p->max_in + 1, sizeof *in->ins);
  in->outs = zn_calloc((size_t)p->max_out + 1, sizeof *in->outs);
  in->step_start = zn_calloc((size_t)p->num_segments + 1, sizeof *in->step_start);
  if (!in->inst || !in->slot || !in->ins || !in->outs || !in->step_start) {
    partition_instance_destroy(in);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create partition instance: out of memory");
  }
  in->arena.src = (zn_backend_arena_source){shared_get, shared_put, &in->arena};
  zn_backend_instance_options seg_opts = *opts;
  seg_opts.arena = &in->arena.src;
  for (int s = 0; s < p->num_segments; s++) {
    zn_status st = p->segs[s].backend->instance_create(p->segs[s].compiled, &seg_opts, &in->inst[s]);
    if (st != ZN_OK) {
      partition_instance_destroy(in);
      return zn_error_prefix(st, "segment %d (%s): ", s + 1, p->segs[s].backend->name);
    }
  }
  *instance_out = in;
  return ZN_OK;
}

static zn_status reshape_segments(part_instance *in, int64_t batch) {
  const partition *p = in->p;
  for (int s = 0; s < p->num_segments; s++) {
    zn_status st = p->segs[s].backend->instance_reshape(in->inst[s], batch);
    if (st != ZN_OK) return zn_error_prefix(st, "segment %d (%s): ", s + 1, p->segs[s].backend->name);
  }
  return ZN_OK;
}

/* The segments' arenas for a batch: sized on heap arenas, then one block. */
static zn_status reshape_arenas(part_instance *in, int64_t batch) {
  shared_arena *a = &in->arena;
  a->sizing = true;
  a->largest = 0;
  zn_status st = reshape_segments(in, batch);  /* each segment lets the old block go */
  a->sizing = false;
  zn_free_aligned(a->block);
  a->block = NULL;
  a->block_bytes = a->sum_bytes = 0;
  if (st != ZN_OK) return st;
  for (int s = 0; s < in->p->num_segments; s++) {
    const zn_backend_ops *b = in->p->segs[s].backend;
    if (b->instance_arena_bytes) a->sum_bytes += b->instance_arena_bytes(in->inst[s]);
  }
  if (!(a->block = zn_alloc_aligned(a->largest ? a->largest : 64)))
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape partition: out of memory for an arena of %zu bytes",
                    a->largest);
  a->block_bytes = a->largest ? a->largest : 64;
  return reshape_segments(in, batch);  /* same batch, same plans: every request fits the block */
}

/* The values crossing segments: one block, planned by the segments that
 * write and read each (live from its writer to its last reader). */
static zn_status reshape_slots(part_instance *in, int64_t batch) {
  const partition *p = in->p;
  const zn_graph *g = p->graph;
  free_slots(in);
  if (p->num_slots == 0) return ZN_OK;
  zn_arena_request *req = zn_calloc((size_t)p->num_slots, sizeof *req);
  if (!req) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape partition: out of memory");
  zn_status st = ZN_OK;
  for (int k = 0; k < p->num_slots; k++) req[k] = (zn_arena_request){INT64_MAX, -1, 0, 0};
  for (int s = 0; s < p->num_segments; s++) {
    const segment *seg = &p->segs[s];
    for (int k = 0; k < seg->num_in + seg->num_out; k++) {
      const io_ref r = k < seg->num_in ? seg->in[k] : seg->out[k - seg->num_in];
      if (r.kind != IO_SLOT) continue;
      req[r.index].first = ZN_MIN(req[r.index].first, s);
      req[r.index].last = ZN_MAX(req[r.index].last, s);
    }
  }
  for (int k = 0; k < p->num_slots && st == ZN_OK; k++) {
    const zn_value *v = &g->values[p->slot_value[k]];
    int64_t count;
    if (!zn_value_num_elements(v, batch, &count) ||
        !zn_size_mul((size_t)count, zn_dtype_size(v->dtype), &req[k].size_bytes))
      st = zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to size value '%s' between segments at batch %lld: too large",
                    v->name, (long long)batch);
    if (req[k].last < 0) req[k].first = req[k].last = 0;
  }
  size_t total = 0;
  if (st == ZN_OK && (st = zn_arena_plan(req, (size_t)p->num_slots, &total)) != ZN_OK)  /* the memory limit too */
    st = zn_error_prefix(st, "values between segments: ");
  if (st == ZN_OK && !(in->slot_block = zn_alloc_aligned(total ? total : 64)))
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to reshape partition: out of memory for %zu bytes of values between "
                  "segments", total);
  if (st == ZN_OK) {
    for (int k = 0; k < p->num_slots; k++) in->slot[k] = (char *)in->slot_block + req[k].offset;
    in->slot_bytes = total;
  }
  zn_free(req);
  return st;
}

static zn_status partition_instance_reshape(void *instance, int64_t batch) {
  part_instance *in = instance;
  const partition *p = in->p;
  ZN_TRY(reshape_arenas(in, batch));
  ZN_TRY(reshape_slots(in, batch));
  int steps = 0;
  for (int s = 0; s < p->num_segments; s++) {
    in->step_start[s] = steps;
    const zn_backend_ops *b = p->segs[s].backend;
    steps += b->instance_num_steps ? b->instance_num_steps(in->inst[s]) : 0;
  }
  in->step_start[p->num_segments] = steps;
  return ZN_OK;
}

static size_t partition_instance_arena_bytes(const void *instance) {
  const part_instance *in = instance;
  return in->slot_bytes + in->arena.block_bytes;
}

void zn_partition_instance_memory(const void *instance, zn_partition_memory *out) {
  const part_instance *in = instance;
  *out = (zn_partition_memory){in->arena.block_bytes, in->arena.sum_bytes, in->slot_bytes};
}

/* Run every segment in order; step_ns (or NULL) takes each segment's steps. */
static zn_status run_segments(part_instance *in, const void *const *inputs, void *const *outputs, int64_t *step_ns) {
  const partition *p = in->p;
  for (int s = 0; s < p->num_segments; s++) {
    const segment *seg = &p->segs[s];
    for (int k = 0; k < seg->num_in; k++) {
      const io_ref r = seg->in[k];
      in->ins[k] = r.kind == IO_GRAPH_INPUT ? inputs[r.index] : r.kind == IO_GRAPH_OUTPUT ? outputs[r.index]
                                                                                           : in->slot[r.index];
    }
    for (int k = 0; k < seg->num_out; k++) {
      const io_ref r = seg->out[k];
      in->outs[k] = r.kind == IO_GRAPH_OUTPUT ? outputs[r.index] : in->slot[r.index];
    }
    const zn_backend_ops *b = seg->backend;
    zn_status st = step_ns ? b->instance_run_profiled(in->inst[s], in->ins, in->outs, step_ns + in->step_start[s])
                           : b->instance_run(in->inst[s], in->ins, in->outs);
    if (st != ZN_OK) return zn_error_prefix(st, "segment %d (%s): ", s + 1, b->name);
  }
  return ZN_OK;
}

static zn_status partition_instance_run(void *instance, const void *const *inputs, void *const *outputs) {
  return run_segments(instance, inputs, outputs, NULL);
}

static int partition_instance_num_steps(const void *instance) {
  const part_instance *in = instance;
  for (int s = 0; s < in->p->num_segments; s++) {
    const zn_backend_ops *b = in->p->segs[s].backend;
    if (!b->instance_num_steps || !b->instance_run_profiled || !b->instance_step) return -1;
  }
  return in->step_start[in->p->num_segments];
}

static zn_status partition_instance_run_profiled(void *instance, const void *const *inputs, void *const *outputs,
                                                 int64_t *step_ns) {
  return run_segments(instance, inputs, outputs, step_ns);
}

/* The segment's step, its nodes renumbered into the full graph, its kernel
 * named with the segment's backend ("ref: ReduceMean"). */
static void partition_instance_step(const void *instance, int i, zn_backend_step *out) {
  const part_instance *in = instance;
  const partition *p = in->p;
  int s = 0;
  while (s + 1 < p->num_segments && i >= in->step_start[s + 1]) s++;
  const segment *seg = &p->segs[s];
  zn_backend_step step;
  memset(&step, 0, sizeof step);
  seg->backend->instance_step(in->inst[s], i - in->step_start[s], &step);
  *out = step;
  /* truncated at the kernel's size, like any long kernel text */
  size_t used = (size_t)snprintf(out->kernel, sizeof out->kernel, "%s: ", seg->backend->name);
  if (used < sizeof out->kernel) {
    const size_t room = sizeof out->kernel - used - 1, len = strnlen(step.kernel, sizeof step.kernel);
    memcpy(out->kernel + used, step.kernel, len < room ? len : room);
    out->kernel[used + (len < room ? len : room)] = '\0';
  }
  for (int k = 0; k < out->num_nodes; k++) out->nodes[k] = step.nodes[k] + seg->first;
}

static size_t partition_describe(const void *compiled, char *buf, size_t size) {
  const partition *p = compiled;
  const zn_graph *g = p->graph;
  size_t used = 0;
#define PUT(...)                                                                     \
  do {                                                                               \
    int w_ = snprintf(used < size ? buf + used : NULL, used < size ? size - used : 0, __VA_ARGS__); \
    if (w_ > 0) used += (size_t)w_;                                                  \
  } while (0)
  PUT("auto per node: %d segments on %s, %d values between them\n", p->num_segments, p->name, p->num_slots);
  for (int s = 0; s < p->num_segments; s++) {
    const segment *seg = &p->segs[s];
    const char *first = g->nodes[seg->first].name, *last = g->nodes[seg->first + seg->count - 1].name;
    PUT("  segment %d: %s, %d node%s ('%s%s%s')", s + 1, seg->backend->name, seg->count, seg->count == 1 ? "" : "s",
        first, seg->count == 1 ? "" : "'..'", seg->count == 1 ? "" : last);
    if (seg->why[0]) PUT("; %s refused '%s': %s", p->preferred, first, seg->why);
    PUT("%s\n", seg->fp32_only ? " (fp32: ref has no bf16)" : "");
  }
  for (int s = 0; s < p->num_segments; s++) {
    const segment *seg = &p->segs[s];
    if (!seg->backend->describe) continue;
    PUT("segment %d (%s):\n", s + 1, seg->backend->name);
    size_t n = seg->backend->describe(seg->compiled, used < size ? buf + used : NULL, used < size ? size - used : 0);
    used += n;
  }
#undef PUT
  return used;
}

static bool partition_supports_node(const zn_graph *g, const zn_node *n, char *why, size_t why_size) {
  (void)g;
  (void)n;
  return zn_backend_refuse(why, why_size, "a partition is compiled with zn_partition_compile");
}

static zn_status partition_compile_refused(const zn_graph *g, const zn_backend_compile_options *opts, void **out) {
  (void)g;
  (void)opts;
  *out = NULL;
  return zn_error(ZN_ERR_INTERNAL, "failed to compile partition: use zn_partition_compile");
}

const zn_backend_ops zn_partition_backend = {
    .abi_version = ZN_BACKEND_ABI_VERSION,
    .name = "partition",
    .supports_node = partition_supports_node,
    .compile = partition_compile_refused,
    .compiled_destroy = partition_destroy,
    .weight_bytes = partition_weight_bytes,
    .instance_create = partition_instance_create,
    .instance_reshape = partition_instance_reshape,
    .instance_arena_bytes = partition_instance_arena_bytes,
    .instance_run = partition_instance_run,
    .instance_destroy = partition_instance_destroy,
    .instance_num_steps = partition_instance_num_steps,
    .instance_run_profiled = partition_instance_run_profiled,
    .instance_step = partition_instance_step,
    .constant_releasable = partition_constant_releasable,
    .describe = partition_describe,
};
