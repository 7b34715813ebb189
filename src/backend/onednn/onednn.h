/* Internal structures of the onednn backend, shared by compile.c (graph ->
 * op list + packed weights, read-only after compile) and instance.c
 * (primitives, arena and stream per instance). docs/internals/onednn.md
 * explains the plan. */
#ifndef ZN_BACKEND_ONEDNN_ONEDNN_H
#define ZN_BACKEND_ONEDNN_ONEDNN_H

#include <dnnl.h>
#include <pthread.h>

#include "backend/backend.h"

/* ODN_BLOCKED16: nChw16c, only for values around Winograd convolutions
 * (oneDNN 2.6 has Winograd only for that layout). */
typedef enum odn_layout { ODN_PLAIN = 0, ODN_NHWC, ODN_BLOCKED16 } odn_layout;

/* What stays f32 in bf16 mode (bit flags; docs/internals/onednn.md, "Precision"). */
enum {
  ODN_F32_RESIDUAL = 1,    /* the residual stream: convs with a fused residual add, and the residuals they add */
  ODN_F32_FIRST = 2,       /* convs reading a graph input: f32 src/weights */
  ODN_F32_LAST = 4,        /* the classifier (an inner product whose output is the graph's, maybe through a
                            * Softmax or reshape): f32 src/weights; a transformer's Linear layers stay bf16 */
  ODN_F32_CONV_DST = 8,    /* every conv writes f32 (consumers convert to bf16 where they need it) */
};
#define ODN_BF16_DEFAULT_F32 (ODN_F32_FIRST | ODN_F32_LAST)

/* Compile-time timings run at most at this batch (zn_model_options.tune_batch). */
#define ODN_TUNE_BATCH_MAX 8

/* Compile-time choices the environment (or a benchmark) can override. */
typedef struct odn_tuning {
  unsigned bf16_f32;       /* ODN_F32_* flags, bf16 mode only */
  int winograd;            /* 0: never; 1: per 3x3 stride-1 conv, where timed faster (fp32); 2: wherever oneDNN has it */
  int own_winograd;        /* own NHWC Winograd (winograd.c), fp32: 0 never; 1 where timed fastest (F(2,3) or
                            * F(4,3)); 2 every eligible conv as F(2x2,3x3); 3 every eligible conv as F(4x4,3x3) */
  size_t own_winograd_block_bytes;  /* own Winograd: V+M scratch budget per tile block (0: one block) */
  int own_winograd_split;  /* own Winograd on N threads: 0 team-shared blocks; 1 per-thread blocks where there are
                            * ODN_OWN_WINOGRAD_SPLIT_MIN_TILES tiles per thread; 2 wherever each thread has a tile */
  bool zero_copy_concat;   /* fp32: a concat whose producers can all write their channel slice has no step
                            * (ZN_ONEDNN_ZERO_COPY_CONCAT, default 1) */
  bool plain_fc;           /* fp32, model loaded for one source row (a CNN's FC at batch 1): 2-D inner-product
                            * weights plain (oc x ic) at one row, streamed by gemm:jit (ZN_ONEDNN_PLAIN_FC, default 1) */
  bool ip_matmul;          /* a Gemm / Linear whose 2-D source has more than ODN_IP_MATMUL_MIN_ROWS rows at the
                            * tuning batch (a transformer's tokens) runs as a matmul with blocked weights
                            * (ZN_ONEDNN_IP_MATMUL, default 1) */
  int own_1x1;             /* own 1x1 conv with weight prefetch (conv1x1.c), fp32, AVX-512F: 0 never; 1 by the
                            * size rule (ODN_OWN_1X1_*); 2 every eligible conv (ZN_ONEDNN_OWN_1X1=0|1|force) */
  bool own_se;             /* squeeze-excitation's steps on own loops whose threads split pixels, as the convs
                            * around them do: an NHWC binary whose second operand broadcasts over pixels (the
                            * scale) and the global average pool (ZN_ONEDNN_OWN_SE, default 1) */
} odn_tuning;

/* Rows above which a Gemm runs as a matmul (odn_tuning.ip_matmul): oneDNN 2.6's
 * brgemm inner product ran M 1576 x K 768 x N 3072 at 83 GFLOP/s on one thread,
 * gemm:jit (plain weights) at 174, the matmul (brg, 16a64b weights) at 170, and
 * M 197 on two threads at 347 against 328 and 269 (docs/internals/onednn.md). */
#define ODN_IP_MATMUL_MIN_ROWS 64

/* Own 1x1 conv size rule (decided at compile, at the tuning batch): packed
 * weights of at least this many bytes (they arrive cold from L3; smaller ones
 * tie with oneDNN) and at most this many rows N*H*W. */
#define ODN_OWN_1X1_MIN_WEIGHT_BYTES ((size_t)1 << 20)
#define ODN_OWN_1X1_MAX_ROWS 784
/* N-thread instances split the weight blocks below this many rows, the 6-row tiles from it on. */
#define ODN_OWN_1X1_PIXEL_SPLIT_ROWS 392

/* Own Winograd tile blocking: tiles run in blocks whose V and M fit this many
 * bytes, so they stay in L2 between the transforms and the matmul
 * (ZN_ONEDNN_OWN_WINOGRAD_BLOCK_KB; 0 = one block). */
#define ODN_OWN_WINOGRAD_BLOCK_BYTES_DEFAULT ((size_t)512 * 1024)
/* ... but blocks of at least this many tiles (matmul rows), whatever the budget. */
#define ODN_OWN_WINOGRAD_BLOCK_MIN_TILES 64
/* Per-thread blocks (ZN_ONEDNN_OWN_WINOGRAD_SPLIT) need this many tiles per
 * thread, and weights U of at most this many bytes unless team-shared blocks
 * would be several anyway (winograd.c, zn_onednn_wino_parts). */
#define ODN_OWN_WINOGRAD_SPLIT_MIN_TILES 16
#define ODN_OWN_WINOGRAD_SPLIT_MAX_U_BYTES ((size_t)1 << 20)

/* Which channel concats run the own kernel (concat.c, fp32 only): environment
 * ZN_ONEDNN_CONCAT = onednn, bn (default) or all, read at compile. */
enum {
  ODN_CONCAT_ONEDNN = 1,   /* every concat is oneDNN's concat primitive */
  ODN_CONCAT_BN,           /* own kernel for a concat whose only reader is a batch norm (folded into it) */
  ODN_CONCAT_ALL,          /* and for every other 4-D channel concat too */
};

/* One graph value as the backend stores it (fixed at compile). Aliases
 * (Reshape/Flatten/Identity/Squeeze/Unsqueeze whose bytes do not move, and
 * a convolution output written in place over its residual) name the value
 * owning the buffer in root. */
typedef struct odn_value {
  bool used;               /* touched by the op list (needs a buffer through its root) */
  int root;                /* value whose arena buffer holds this one */
  int gid;                 /* graph value giving the shape (itself, or the one a converted copy was made from) */
  int copy_of;             /* converted copy (other layout/dtype) of this value made by an ODN_CONVERT step; -1: none */
  odn_layout layout;
  dnnl_data_type_t dt;
  /* zero-copy concat: this value is channels [view_c0, view_c0 + C) of its
   * root's NHWC f32 buffer of view_ctot channels (0: dense, the usual case) */
  int view_c0, view_ctot;
} odn_value;

typedef enum odn_kind {
  ODN_IMPORT, ODN_EXPORT,  /* user NCHW f32 <-> internal layout/dtype (reorders) */
  ODN_CONV, ODN_IP, ODN_POOL, ODN_ELTWISE, ODN_BINARY, ODN_SUM, ODN_BNORM, ODN_LRN,
  ODN_SOFTMAX, ODN_CONCAT,
  ODN_TO_PLAIN,            /* reorder a value into plain (NCHW) order for a reshape */
  ODN_COPY,                /* copy the residual into a conv's dst before an in-place sum */
  ODN_CONVERT,             /* reorder a value into another layout / dtype for a consumer that needs it */
  ODN_CONCAT_OWN,          /* own channel concat (concat.c), with the batch norm reading it folded in */
  ODN_VIEW,                /* Transpose, Gather of one index, Slice: a reorder from a permuted / sub-memory view of the input */
  ODN_LNORM,               /* LayerNormalization over the last axis of a plain f32 tensor */
  ODN_MATMUL,              /* MatMul of two plain f32 tensors (attention's Q K^T, A V), batch dims broadcast */
  ODN_KIND_COUNT
} odn_kind;

/* One planned step. Steps run in order; indexes are the liveness clock. */
typedef struct odn_op {
  odn_kind kind;
  int node;                /* graph node, -1 for import/export */
  int io_index;            /* import/export: position among graph inputs/outputs */
  int num_ins;
  int *ins;                /* value ids (owned) */
  int out;                 /* value id */
  /* conv / inner product: packed weights, shared read-only by instances */
  dnnl_memory_desc_t wmd;  /* the layout the primitive preferred at the reference batch */
  void *wdata;
  size_t wbytes;
  float *bias;             /* f32, owned; NULL: none */
  int64_t bias_len;
  int residual;            /* conv: value added before the activation, or -1 */
  dnnl_data_type_t cdt;    /* conv / inner product: src and weights data type */
  bool wino;               /* conv: oneDNN Winograd (nChw16c src/dst) */
  bool mm_1x1;             /* conv: a 1x1 conv run as matmul {N*H*W, IC} x {IC, OC} (its dst is a channel slice) */
  bool own_binary;         /* binary: own broadcast kernel (binary.c): oneDNN had only ref:any, or a per-channel
                            * scale of an NHWC value (odn_tuning.own_se) */
  bool own_gap;            /* pool: own global average pool (gap.c), threads splitting pixels */
  bool ip_mm;              /* inner product run as matmul {rows, IC} x {IC, OC} (odn_tuning.ip_matmul); its packed
                            * weights are the matmul's {IC, OC} layout */
  bool own_1x1;            /* conv: own 1x1 kernel (conv1x1.c): wdata is [OC/64][IC][64] f32, bias always set */
  bool own_wino;           /* conv: own NHWC Winograd (winograd.c): weights are U = G g G^T for one batched matmul */
  int wino_tile;           /* own Winograd: output tile, 2 (F(2x2,3x3)) or 4 (F(4x4,3x3)) */
  bool fuse_relu;          /* batch norm / own concat + BN: ReLU applied (the ReLU node after it is an alias) */
  float *scale_shift;      /* own concat: the folded batch norm, scale[C] then shift[C] (owned); NULL: plain concat */
  double time_direct_ns, time_wino_ns, time_own_ns;  /* conv: compile-time timings when tried (else 0) */
  bool ip_src_4d;          /* inner product reads the 4-D tensor before a folded Flatten */
  /* pooling (also global pools): resolved geometry */
  dnnl_alg_kind_t alg;
  dnnl_dims_t kernel, stride, dilation, pad_l, pad_r;
  /* binary: src1 broadcast, src order swapped for commutative ops */
  bool swap;
  int axis;                /* concat / softmax */
  char impl[64];           /* implementation at the reference batch (describe) */
  struct odn_wlayout *layouts;  /* conv / inner product: more packed layouts, made at reshape (weights.c) */
} odn_op;

/* Another packed layout of an op's weights, made at reshape when a primitive
 * for some batch / thread count prefers it, and shared read-only by every
 * instance until the compiled model is destroyed. */
typedef struct odn_wlayout {
  dnnl_memory_desc_t md;
  void *data;
  size_t bytes;
  struct odn_wlayout *next;
} odn_wlayout;

typedef struct odn_compiled {
  const zn_graph *g;       /* borrowed: outlives the compiled model */
  zn_precision precision;
  dnnl_data_type_t compute_dt;
  dnnl_engine_t engine;    /* thread-safe; shared by instances */
  odn_value *values;       /* num_values: the graph's values, then converted copies */
  int num_values, cap_values;
  odn_tuning tune;
  int64_t tune_batch;      /* batch the Winograd-or-direct timings run at (1..ODN_TUNE_BATCH_MAX) */
  int concat_mode;         /* ODN_CONCAT_*, from ZN_ONEDNN_CONCAT */
  odn_op *ops;
  int num_ops, cap_ops;
  size_t weight_bytes;
  int num_fused_residual_inplace, num_residual_copies, num_flatten_folded, num_converts, num_wino, num_bn_relu;
  int num_own_wino, num_own_wino4;  /* convs run as own NHWC Winograd F(2x2,3x3), F(4x4,3x3) */
  int num_own_1x1;         /* convs run by the own 1x1 kernel */
  int num_zero_copy_concats;        /* concats without a step: producers write their channel slices */
  int num_own_binary;               /* binaries on the own broadcast kernel (binary.c) */
  int num_own_gap;                  /* global average pools on the own kernel (gap.c) */
  int num_transpose_aliases;        /* Transposes (0,2,3,1) of NHWC / (0,3,1,2) of plain: same bytes, no step */
  /* lock guards what reshape adds to a compiled model shared by instances:
   * the ops' extra weight layouts, weight_bytes and num_extra_layouts */
  pthread_mutex_t lock;
  int num_extra_layouts;
} odn_compiled;

/* Memory descriptor of value v at batch size N (its layout and dtype). */
ZN_INTERNAL zn_status zn_onednn_value_md(const odn_compiled *c, int v, int64_t batch, dnnl_memory_desc_t *md);
/* Primitive descriptor of op at batch size N (attributes: user scratchpad, post-ops). */
ZN_INTERNAL zn_status zn_onednn_op_pd(const odn_compiled *c, const odn_op *op, int64_t batch,
                                      dnnl_primitive_desc_t *pd_out);
/* Run a one-off reorder now (compile time / reshape time only). */
ZN_INTERNAL zn_status zn_onednn_reorder_now(dnnl_engine_t engine, const dnnl_memory_desc_t *src_md, const void *src,
                                            const dnnl_memory_desc_t *dst_md, void *dst);
ZN_INTERNAL const char *zn_onednn_kind_name(odn_kind kind);
/* The tuning compile() uses: defaults, overridden by ZN_ONEDNN_BF16_F32 (comma list of residual, first, last,
 * dst; or none) and ZN_ONEDNN_WINOGRAD (0, 1, force). */
ZN_INTERNAL odn_tuning zn_onednn_tuning_from_env(void);
/* compile() with explicit tuning (benchmarks, tests). */
ZN_INTERNAL zn_status zn_onednn_compile_tuned(const zn_graph *g, const zn_backend_compile_options *opts,
                                              const odn_tuning *tune, void **compiled_out);
/* Pack the f32 graph weights of conv / inner product op into md (compile and private re-packs). */
/* Does inner product op read its folded 4-D NHWC source as {N, H*W*C} rows at
 * batch (then its weights are 2-D {M, H*W*C}: brgemm's blocked layouts, 2x
 * faster than the 4-D acdb gemm at batch 8+)? md4 / md2: the same dense
 * weights as 4-D {M, C, H, W} acdb and as 2-D {M, H*W*C} ab. */
ZN_INTERNAL bool zn_onednn_ip_flat(const odn_compiled *c, const odn_op *op, int64_t batch);
ZN_INTERNAL void zn_onednn_ip_flat_mds(const odn_compiled *c, const odn_op *op, dnnl_memory_desc_t *md4,
                                       dnnl_memory_desc_t *md2);
ZN_INTERNAL zn_status zn_onednn_pack_weights(const odn_compiled *c, const odn_op *op, const dnnl_memory_desc_t *md,
                                             void *dst);
/* The packed weights of conv / inner product op_index in layout md: the
 * compile-time pack, or another layout made once (under the lock) and shared. */
ZN_INTERNAL zn_status zn_onednn_weights_get(const odn_compiled *c, int op_index, const dnnl_memory_desc_t *md,
                                            void **data_out);
ZN_INTERNAL void zn_onednn_weights_release(odn_compiled *c);
ZN_INTERNAL size_t zn_onednn_weight_bytes_locked(const odn_compiled *c);
/* A value's graph constant data, NULL for activations and converted copies. */
static inline const void *odn_const_data(const odn_compiled *c, int v) {
  return v >= 0 && v < c->g->num_values ? c->g->values[v].data : NULL;
}
/* Byte offset of value v in the arena, given its root's offset (offset[] per
 * root): a zero-copy concat input starts view_c0 channels into its root. */
static inline size_t odn_value_offset(const odn_compiled *c, const size_t *offset, int v) {
  return offset[c->values[v].root] + (size_t)c->values[v].view_c0 * sizeof(float);
}
/* Elements between two pixels of value v (NHWC): its root's channels when a view. */
static inline int64_t odn_value_pixel_stride(const odn_compiled *c, int v, int64_t channels) {
  return c->values[v].view_ctot > 0 ? c->values[v].view_ctot : channels;
}
/* An own step: a kernel of this backend run without a oneDNN primitive
 * (zn_onednn_op_pd gives NULL): concat.c, conv1x1.c, binary.c, gap.c. Reshape
 * binds op_index to the instance's arena for a batch and thread count
 * (create), run calls exec, the profile prints kernel's text. The own
 * Winograd step, which runs a oneDNN matmul inside, has its own interface
 * (below). */
typedef struct odn_own_step {
  zn_status (*create)(const odn_compiled *c, int op_index, int64_t batch, void *arena, const size_t *offset,
                      int threads, void **run_out);
  void (*exec)(const void *run);
  void (*destroy)(void *run);
  void (*kernel)(const odn_compiled *c, int op_index, const void *run, char *text, size_t size);
} odn_own_step;
/* The own step op runs as, or NULL (a oneDNN primitive, or the own Winograd step). */
ZN_INTERNAL const odn_own_step *zn_onednn_own_step_of(const odn_op *op);

/* Own channel concat (concat.c; no oneDNN primitive, zn_onednn_op_pd gives NULL).
 * plan: 1 when node (a Concat) runs the own kernel; *bn_node_out is then the
 * BatchNormalization folded into it (its output is the step's output), or -1. */
ZN_INTERNAL int zn_onednn_concat_mode_from_env(void);
ZN_INTERNAL int zn_onednn_concat_own_plan(const odn_compiled *c, int node, int *bn_node_out);
/* Compile: the step's impl name and the folded batch norm's scale/shift. */
/* A fused activation the own steps apply as a clamp to [lo, hi] (none, ReLU,
 * Clip); false for any other (the own steps then do not take the conv). */
ZN_INTERNAL bool zn_onednn_act_clamp(zn_act a, float *lo, float *hi);
ZN_INTERNAL zn_status zn_onednn_concat_own_init(const odn_compiled *c, odn_op *op, int bn_node);
ZN_INTERNAL extern const odn_own_step zn_onednn_concat_step;

/* Own broadcast binary (binary.c; no oneDNN primitive, zn_onednn_op_pd gives
 * NULL): Add/Sub/Mul/Div of f32 tensors, plain or NHWC (the second may be a
 * constant). Compile takes it when the reference primitive is ref:any and
 * binary_own_ok holds (the broadcasts oneDNN 2.6 runs only with ref:any), or
 * with odn_tuning.own_se when binary_own_preferred holds (an NHWC value
 * scaled per channel: threads split pixels, as the convs do). */
ZN_INTERNAL bool zn_onednn_binary_own_ok(const odn_compiled *c, const odn_op *op);
ZN_INTERNAL bool zn_onednn_binary_own_preferred(const odn_compiled *c, const odn_op *op);
ZN_INTERNAL extern const odn_own_step zn_onednn_binary_step;

/* Own global average pool (gap.c; no oneDNN primitive): NHWC f32 in and
 * out, threads splitting pixels. Compile takes it where gap_own_ok holds and
 * odn_tuning.own_se is on. */
ZN_INTERNAL bool zn_onednn_gap_own_ok(const odn_compiled *c, const odn_op *op);
ZN_INTERNAL extern const odn_own_step zn_onednn_gap_step;

/* Own NHWC Winograd F(2x2,3x3) or F(4x4,3x3) conv step (winograd.c, fp32),
 * out_tile 2 or 4 (P = 16 or 36 positions): C input transform, one batched
 * matmul [P][T][ic] x [P][ic][oc] (weights U packed
 * once in the layout the matmul prefers), C output transform with bias,
 * residual and ReLU/Clip. ok: can node run it. */
ZN_INTERNAL bool zn_onednn_wino_own_ok(const odn_compiled *c, const zn_node *n);
/* The matmul of node at batch, over one tile block's rows (wmd: try this packed weights layout first; NULL: any);
 * parts > 1: blocks for that many per-thread parts (create it on 1 OpenMP thread). */
ZN_INTERNAL zn_status zn_onednn_wino_matmul_pd(const odn_compiled *c, const zn_node *n, int out_tile, int64_t batch,
                                               int parts, const dnnl_memory_desc_t *wmd, dnnl_primitive_desc_t *pd_out);
/* How many per-thread parts op runs in on an instance of threads (1: blocks shared by the team). */
ZN_INTERNAL int zn_onednn_wino_parts(const odn_compiled *c, const odn_op *op, int64_t batch, int threads);
/* U = G g G^T of node's weights, reordered into md. */
ZN_INTERNAL zn_status zn_onednn_wino_pack(const odn_compiled *c, const zn_node *n, int out_tile,
                                          const dnnl_memory_desc_t *md, void *dst);
/* Nanoseconds of one whole step (transforms + matmul, zeroed buffers) at batch on
 * the calling thread's OpenMP count, best of 3 after a warm-up; < 0 on failure. */
ZN_INTERNAL double zn_onednn_wino_time(const odn_compiled *c, const zn_node *n, int out_tile, int64_t batch);
/* Bytes of the step's (op->wino_tile) V and M scratch at batch: one tile block's (64-byte multiples), of one part. */
ZN_INTERNAL size_t zn_onednn_wino_scratch_bytes(const odn_compiled *c, const odn_op *op, int64_t batch, int parts);
typedef struct odn_wino_run odn_wino_run;
/* Reshape: the step bound to the arena (values at offset[], V/M at scratch, part p's at p * part_stride). */
ZN_INTERNAL zn_status zn_onednn_wino_run_create(const odn_compiled *c, const odn_op *op, int64_t batch, void *arena,
                                                const size_t *offset, void *scratch, int threads, int parts,
                                                size_t part_stride, odn_wino_run **out);
/* Run, block by block: input transform, the matmul prim (args bound to V, U, M), output transform. With parts,
 * part p uses streams[p] and args[p * nargs ...]; else streams[0] and args. */
ZN_INTERNAL zn_status zn_onednn_wino_run_exec(const odn_wino_run *r, dnnl_primitive_t prim,
                                              const dnnl_stream_t *streams, int nargs, const dnnl_exec_arg_t *args);
ZN_INTERNAL void zn_onednn_wino_run_destroy(odn_wino_run *r);

/* Own 1x1 conv (conv1x1.c, fp32, NHWC, x86-64 with AVX-512F at run time):
 * ok: node can run it (1x1, stride 1, pad 0, group 1, OC % 64 == 0, bias,
 * residual, ReLU/Clip/none); rule: the size rule (ODN_OWN_1X1_*) says it should. */
ZN_INTERNAL bool zn_onednn_own1x1_ok(const odn_compiled *c, const zn_node *n);
ZN_INTERNAL bool zn_onednn_own1x1_rule(const odn_compiled *c, const zn_node *n);
/* Compile: op's weights packed into [OC/64][IC][64] (op->wdata, wbytes), a zero bias when it has none, impl. */
ZN_INTERNAL zn_status zn_onednn_own1x1_pack(odn_compiled *c, odn_op *op);
/* Reshape binds the step to the arena (the next own 1x1 step within three
 * steps gets its first block prefetched). */
ZN_INTERNAL extern const odn_own_step zn_onednn_own1x1_step;

ZN_INTERNAL void zn_onednn_threads_push(int n, int *saved);
ZN_INTERNAL void zn_onednn_threads_pop(int saved);

ZN_INTERNAL zn_status zn_onednn_instance_create(const void *compiled, const zn_backend_instance_options *opts,
                                                void **instance_out);
ZN_INTERNAL zn_status zn_onednn_instance_reshape(void *instance, int64_t batch);
ZN_INTERNAL size_t zn_onednn_instance_arena_bytes(const void *instance);
ZN_INTERNAL zn_status zn_onednn_instance_run(void *instance, const void *const *inputs, void *const *outputs);
ZN_INTERNAL void zn_onednn_instance_destroy(void *instance);
/* Per-step profile (backend.h): steps = the op list; a profiled run records the set each step ran on. */
ZN_INTERNAL int zn_onednn_instance_num_steps(const void *instance);
ZN_INTERNAL zn_status zn_onednn_instance_run_profiled(void *instance, const void *const *inputs, void *const *outputs,
                                                      int64_t *step_ns);
ZN_INTERNAL void zn_onednn_instance_step(const void *instance, int i, zn_backend_step *out);

/* Adaptive thread count (instances of N > 1 threads): counters since the last reshape. */
typedef struct zn_onednn_run_stats {
  long runs[2];            /* runs started on the 1-thread / N-thread primitive set */
  long switches;           /* mode changes between 1 and N threads */
  long bailouts;           /* N-thread runs finished on 1 thread */
} zn_onednn_run_stats;
ZN_INTERNAL void zn_onednn_instance_stats(const void *instance, zn_onednn_run_stats *out);
/* Tests only: start every run on set (0: 1 thread, 1: N threads; -1: adaptive)
 * and, on the N set, switch to the 1-thread set before step switch_step (-1: never). */
ZN_INTERNAL void zn_onednn_instance_force(void *instance, int set, int switch_step);

#define ODN_TRY_DNNL(call, what) do { dnnl_status_t odn_st_ = (call); if (odn_st_ != dnnl_success) \
  return zn_error(ZN_ERR_INTERNAL, "failed to %s: oneDNN status %d", (what), (int)odn_st_); } while (0)

#endif
