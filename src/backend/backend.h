/* The backend interface: one table of functions per backend. The runtime
 * compiles an optimised IR graph once per model (weights packed, read-only,
 * shared by every instance), then creates instances (an arena + threads each).
 *
 * Contract:
 *   - compile() may keep pointers into the graph: the graph outlives the
 *     compiled model (the runtime owns both and destroys the compiled first).
 *   - instance_reshape() plans and allocates everything a run needs; run()
 *     never allocates and never creates primitives.
 *   - Inputs and outputs at the run() boundary are dense NCHW in the graph
 *     input/output dtype (float32 for the models we run); layout conversion
 *     is the backend's business.
 *   - A compiled model is used by many threads at once (read-only); an
 *     instance by one thread at a time. */
#ifndef ZN_BACKEND_BACKEND_H
#define ZN_BACKEND_BACKEND_H

#include "core/alloc.h"
#include "graph/graph.h"

#define ZN_BACKEND_ABI_VERSION 2  /* 2: the per-step profile entries */

typedef struct zn_backend_compile_options {
  zn_precision precision;
  int64_t tune_batch;     /* batch to time kernel choices at (zn_model_options.tune_batch); <= 1: batch 1 */
} zn_backend_compile_options;

/* Where an instance's arena comes from: get(ctx, bytes) at reshape for its one
 * arena (64-byte aligned, NULL when out of memory), put(ctx, ptr) when the
 * instance lets that arena go (reshape, destroy). The arena holds only what
 * lives within one run: nothing in it is read before the run wrote it. So
 * instances that never run at the same time may be given one block (the
 * partition's segments, runtime/partition.c). */
typedef struct zn_backend_arena_source {
  void *(*get)(void *ctx, size_t bytes);
  void (*put)(void *ctx, void *ptr);
  void *ctx;
} zn_backend_arena_source;

typedef struct zn_backend_instance_options {
  int num_threads;        /* >= 1 */
  const int *cpus;        /* CPUs to pin compute threads to; NULL: none (borrowed for the call) */
  int num_cpus;
  /* NULL: the backend allocates its arena itself (zn_alloc_aligned). Else
   * borrowed for the instance's life: the backend keeps the pointer. */
  const zn_backend_arena_source *arena;
} zn_backend_instance_options;

/* A backend's arena, from its source or the heap. */
static inline void *zn_backend_arena_get(const zn_backend_arena_source *s, size_t bytes) {
  return s ? s->get(s->ctx, bytes) : zn_alloc_aligned(bytes);
}

static inline void zn_backend_arena_put(const zn_backend_arena_source *s, void *ptr) {
  if (!ptr) return;
  if (s) s->put(s->ctx, ptr);
  else zn_free_aligned(ptr);
}

/* One step of a reshaped instance, as the per-step profile reports it. A step
 * computes the graph nodes it names (several when the backend fused them:
 * a batch norm and ReLU folded into a concat step); a step naming no node is
 * data movement the backend added (layout import/export, reorder, residual
 * copy). A graph node that no step names does no work at run time: the
 * backend folded it away at compile (an alias, a zero-copy concat). */
#define ZN_BACKEND_STEP_MAX_NODES 8
typedef struct zn_backend_step {
  char kernel[160];        /* implementation that ran ("brgconv_1x1:avx512_core", "own Winograd F(4x4,3x3)") */
  int num_nodes;
  int nodes[ZN_BACKEND_STEP_MAX_NODES];  /* graph node indexes, the step's main node first */
} zn_backend_step;

typedef struct zn_backend_ops {
  uint32_t abi_version;
  const char *name;
  /* true if this machine can run the backend at all (optional; default true). */
  bool (*available)(void);
  /* true if the backend runs this node (checked for every node before
   * compile); when false and why is non-NULL, why[why_size] says what it
   * cannot do, without the node's name ("Transpose is not implemented"). */
  bool (*supports_node)(const zn_graph *g, const zn_node *node, char *why, size_t why_size);
  zn_status (*compile)(const zn_graph *g, const zn_backend_compile_options *opts, void **compiled_out);
  void (*compiled_destroy)(void *compiled);
  /* Packed weight bytes held by the compiled model (optional; default 0). */
  size_t (*weight_bytes)(const void *compiled);
  zn_status (*instance_create)(const void *compiled, const zn_backend_instance_options *opts, void **instance_out);
  /* Plan and allocate for a batch size; called after create and on every change. */
  zn_status (*instance_reshape)(void *instance, int64_t batch);
  size_t (*instance_arena_bytes)(const void *instance);
  zn_status (*instance_run)(void *instance, const void *const *inputs, void *const *outputs);
  void (*instance_destroy)(void *instance);
  /* Per-step profile (optional, all three or none; default: no per-step
   * profile, zn_instance_profile answers ZN_ERR_UNSUPPORTED_OP). After reshape:
   * the number of steps a run executes, in order. */
  int (*instance_num_steps)(const void *instance);
  /* One run like instance_run that also writes each step's wall time
   * (monotonic clock around the step) to step_ns[instance_num_steps]. Kept
   * apart from instance_run so normal runs pay nothing for it. */
  zn_status (*instance_run_profiled)(void *instance, const void *const *inputs, void *const *outputs,
                                     int64_t *step_ns);
  /* Step i (< instance_num_steps): kernel text and covered nodes; after a
   * profiled run, of the primitives that run used (a backend switching
   * between variants mid-run reports the one that ran). */
  void (*instance_step)(const void *instance, int i, zn_backend_step *out);
  /* After compile: true if the backend holds its own packed copy of constant
   * `value` and never reads the graph's copy again, so the runtime may free it
   * (optional; default false: the graph keeps every constant). */
  bool (*constant_releasable)(const void *compiled, int value);
  /* One line per notable choice (kernels, layouts, precision) into buf (optional). */
  size_t (*describe)(const void *compiled, char *buf, size_t buf_size);
} zn_backend_ops;

/* The static registry: ref always, onednn / xnnpack / cuda when built. */
ZN_INTERNAL const zn_backend_ops *zn_backend_find(const char *name);
ZN_INTERNAL const zn_backend_ops *zn_backend_at(size_t i);
/* The backends "auto" tries, best first, that can run on this machine:
 * oneDNN on x86-64, XNNPACK elsewhere, ref last. Returns how many (<= cap). */
ZN_INTERNAL size_t zn_backend_auto_order(const zn_backend_ops **out, size_t cap);
/* supports_node's refusal: format the reason into why (when non-NULL); returns false. */
ZN_INTERNAL bool zn_backend_refuse(char *why, size_t why_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
