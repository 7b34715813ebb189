/* Internal structures of the xnnpack backend, shared by compile.c (graph ->
 * step list + buffer placement, read-only after compile) and instance.c
 * (XNNPACK operators, pthreadpool and arena per instance).
 * docs/internals/xnnpack.md explains the plan. */
#ifndef ZN_BACKEND_XNNPACK_INTERNAL_H
#define ZN_BACKEND_XNNPACK_INTERNAL_H

#include <pthreadpool.h>
#include <xnnpack.h>

#include "backend/backend.h"
#include "backend/winograd.h"

/* How a graph value is stored. 4-D activations are NHWC; a value may be a
 * view: a channel slice [chan_offset, chan_offset + C) of its root's buffer
 * (zero-copy Concat, or a channel Slice), read and written with the root's
 * pixel stride. Every other value is plain (the IR's row-major order). */
typedef struct xp_value {
  bool used;             /* touched by some step */
  bool nhwc;             /* 4-D activation stored NHWC */
  int root;              /* value owning the buffer (itself unless a view) */
  int64_t chan_offset;   /* channels before this view inside the root */
  int64_t pixel_stride;  /* floats between pixels: the root's C (NHWC only) */
} xp_value;

typedef enum xp_kind {
  XP_IMPORT,      /* user NCHW -> internal NHWC (or plain copy) */
  XP_EXPORT,      /* internal -> user NCHW */
  XP_CONV,        /* xnn convolution2d_nhwc (+ xnn add / C loop for a fused residual) */
  XP_WINOGRAD,    /* 3x3 stride-1 conv as Winograd F(2x2,3x3) or F(4x4,3x3): C transforms + 16 or 36 GEMMs */
  XP_IM2COL,      /* few-input-channel conv (a stem): C im2col in blocks + xnn fully_connected_nc per thread */
  XP_FC,          /* xnn fully_connected_nc (Gemm) */
  XP_MAX_POOL,    /* xnn max_pooling2d_nhwc (ceil_mode: extra bottom/right padding) */
  XP_AVG_POOL,    /* xnn average_pooling2d_nhwc (+ border divisor fix for count_include_pad) */
  XP_GAP,         /* xnn global_average_pooling_nwc */
  XP_GMP,         /* C loop */
  XP_CLAMP,       /* xnn clamp_nc (Relu, Clip) */
  XP_UNARY,       /* xnn leaky_relu / sigmoid / hardswish _nc; C loop for HardSigmoid, Tanh, Gelu */
  XP_SOFTMAX,     /* xnn softmax_nc */
  XP_BATCH_NORM,  /* C loop: per-channel multiply-add, tables folded at compile */
  XP_LRN,         /* C loop */
  XP_BINARY,      /* C loop: same-shape Add/Sub/Mul/Div, or by a scalar / per channel / per image and channel */
  XP_CONCAT,      /* xnn copy_nc_x32 for inputs not already in place */
  XP_VIEW,        /* Concat whose inputs all sit in place: nothing to do */
  XP_RESHAPE,     /* C loop: Flatten/Reshape/Squeeze/Unsqueeze/Identity copy in logical order */
  XP_GATHER,      /* C loop: Gather of one constant index, copied in logical order */
  XP_STRIDED_COPY, /* C loop: Transpose, or Slice of constant ranges, as a copy through per-axis strides */
  XP_SHUFFLE,     /* C loop: a channel shuffle (Reshape to 5-D, Transpose, Reshape back) as one NHWC->NHWC copy */
  XP_SLICE_VIEW,  /* a channel range (step 1) of an NHWC value: a view of its input, no work */
  XP_LAYER_NORM,  /* C loop: LayerNormalization over the last axis, rows split over the pool */
  XP_KIND_COUNT
} xp_kind;

/* A binary op's second operand: an activation of the first's shape, a
 * constant scalar, a constant with one value per channel ([C,1,1] or
 * [1,C,1,1] of a 4-D output; [K] or [1,K] for the last axis otherwise), or an
 * activation [N,C,1,1] of a 4-D [N,C,H,W] output: one value per image and
 * channel (squeeze-excitation's scale). */
typedef enum xp_binary_form { XP_BIN_SAME = 0, XP_BIN_SCALAR, XP_BIN_CHANNEL, XP_BIN_IMAGE_CHANNEL } xp_binary_form;

typedef struct xp_step {
  xp_kind kind;
  int node;              /* graph node, -1 for import/export */
  int io;                /* import/export: index among graph inputs/outputs */
  int in;                /* main input value */
  int out;               /* output value */
  float *bn_scale, *bn_shift;  /* batch norm: y = x * scale + shift (owned, shared) */
  uint32_t extra_h, extra_w;   /* pools: padding added bottom/right for ceil_mode */
  float out_min, out_max;      /* fused clamp */
  zn_act act;                  /* unary: the activation; conv/FC: one XNNPACK cannot fuse (Sigmoid, HardSigmoid,
                                  HardSwish, Tanh, LeakyRelu), applied in place to the output after it (NONE: none) */
  int conv_slices;             /* conv: operators it is split into by output channels (1: not split) */
  int64_t slice_channels;      /* conv: output channels per slice (the last may have fewer) */
  int wino_out_tile;           /* Winograd: 2 = F(2x2,3x3) (16 GEMMs), 4 = F(4x4,3x3) (36 GEMMs) */
  int bin_other;               /* binary: the operand besides `in` (in is the activation of the output's shape) */
  xp_binary_form bin_form;     /* binary: what bin_other is */
  int gather_axis;             /* gather: the axis and the index taken from it */
  int64_t gather_index;
  /* strided copy: output axis i reads input axis copy_axis[i] from element
   * copy_start[i] every copy_step[i] (Transpose: perm, 0, 1; Slice: i, start, step) */
  int copy_axis[ZN_MAX_DIMS];
  int64_t copy_start[ZN_MAX_DIMS], copy_step[ZN_MAX_DIMS];
  int64_t shuffle_groups;      /* shuffle: g; output channel j reads input channel (j % g) * (C / g) + j / g */
  int num_folded;              /* shuffle: the Transpose and second Reshape nodes it also runs */
  int folded[2];
} xp_step;

/* Dense convolutions whose weights exceed this many bytes are split by output
 * channels into several operators with at most this much weight each, so each
 * operator's packed panel stays in L2 while XNNPACK walks every row tile
 * (ZN_XNNPACK_SLICE_KB overrides it; 0 disables). */
#define ZN_XNNPACK_SLICE_BYTES_DEFAULT ((size_t)512 * 1024)

/* Winograd F(2x2, 3x3) / F(4x4, 3x3) (backend/winograd.c for the transforms,
 * winograd.c here for the rule; docs/internals/xnnpack.md). Which
 * eligible convs use it, from ZN_XNNPACK_WINOGRAD: "0" none, "all" every
 * eligible conv whatever its size (tests), unset or "1" the measured rule. */
typedef enum xp_winograd_mode {
  XP_WINOGRAD_OFF,
  XP_WINOGRAD_AUTO,  /* the measured rule, F(4x4,3x3) where it pays (zn_xnnpack_winograd_out_tile) */
  XP_WINOGRAD_AUTO2, /* the measured rule, F(2x2,3x3) only ("f2") */
  XP_WINOGRAD_ALL,   /* every eligible conv, F(2x2,3x3) ("all") */
  XP_WINOGRAD_ALL4   /* every eligible conv, F(4x4,3x3) ("all4") */
} xp_winograd_mode;

/* Tile blocking: the tiles run in blocks whose scratch (v and m of the block)
 * fits this many bytes, so that it stays in L2 between the transforms and the
 * GEMMs (docs/internals/xnnpack.md; ZN_XNNPACK_WINOGRAD_BLOCK_KB, 0 = one block). */
#define ZN_XNNPACK_WINOGRAD_BLOCK_BYTES_DEFAULT ((size_t)1024 * 1024)

/* Is this Conv node one Winograd can run (zn_winograd_conv_ok,
 * backend/winograd.h), and does it pay under mode? */
ZN_INTERNAL bool zn_xnnpack_winograd_eligible(const zn_graph *g, const zn_node *n, xp_winograd_mode mode);
/* Output tile size of an eligible conv under mode: 4 for F(4x4,3x3) (36
 * GEMMs), 2 for F(2x2,3x3) (16 GEMMs). */
ZN_INTERNAL int zn_xnnpack_winograd_out_tile(const zn_graph *g, const zn_node *n, xp_winograd_mode mode);
/* Tiles [t0, t0 + bt) of x -> v, and m -> y (+ bias, + residual, clamp),
 * F(2x2,3x3) or F(4x4,3x3) as a->out_tile says; both split over the block's
 * tiles on pool (NULL: caller only). The weight transforms, blocking and
 * scratch sizing are backend/winograd.h's. */
ZN_INTERNAL void zn_xnnpack_winograd_input(const zn_winograd_args *a, int64_t t0, int64_t bt, pthreadpool_t pool);
ZN_INTERNAL void zn_xnnpack_winograd_output(const zn_winograd_args *a, int64_t t0, int64_t bt, pthreadpool_t pool);

typedef struct xp_compiled {
  const zn_graph *g;     /* borrowed: outlives the compiled model */
  xp_value *values;      /* g->num_values */
  xp_step *steps;
  int num_steps;
  size_t weight_bytes;   /* constants read at instance creation + BN tables */
  size_t packed_estimate_bytes; /* per instance: weights XNNPACK packs into each instance's operators */
  int num_views, num_concat_copies, num_kind[XP_KIND_COUNT];
  int num_sliced_convs, num_conv_slices; /* convs split by output channels, and their operators */
  size_t slice_bytes;    /* the weight bound per slice used (0: slicing off) */
  xp_winograd_mode winograd; /* which eligible convs run as Winograd */
  int num_winograd43;    /* of those, how many as F(4x4,3x3) */
  size_t winograd_block_bytes; /* scratch budget per tile block (0: one block) */
  bool im2col;           /* stem convs as im2col + GEMM (ZN_XNNPACK_IM2COL) */
  bool shuffle;          /* channel shuffles as one XP_SHUFFLE step (ZN_XNNPACK_SHUFFLE) */
  bool slice_views;      /* channel Slices as views (ZN_XNNPACK_SLICE_VIEWS) */
  bool op_tasks;         /* with a pool: run a step's independent operators one per thread task (ZN_XNNPACK_OP_TASKS) */
} xp_compiled;

ZN_INTERNAL const char *zn_xnnpack_kind_name(xp_kind kind);
ZN_INTERNAL bool zn_xnnpack_init(void);

ZN_INTERNAL zn_status zn_xnnpack_instance_create(const void *compiled, const zn_backend_instance_options *opts,
                                                 void **instance_out);
ZN_INTERNAL zn_status zn_xnnpack_instance_reshape(void *instance, int64_t batch);
ZN_INTERNAL size_t zn_xnnpack_instance_arena_bytes(const void *instance);
ZN_INTERNAL zn_status zn_xnnpack_instance_run(void *instance, const void *const *inputs, void *const *outputs);
/* Per-step profile (backend.h): one step per xp_step. */
ZN_INTERNAL int zn_xnnpack_instance_num_steps(const void *instance);
ZN_INTERNAL zn_status zn_xnnpack_instance_run_profiled(void *instance, const void *const *inputs, void *const *outputs,
                                                       int64_t *step_ns);
ZN_INTERNAL void zn_xnnpack_instance_step(const void *instance, int i, zn_backend_step *out);
ZN_INTERNAL void zn_xnnpack_instance_destroy(void *instance);

#endif
