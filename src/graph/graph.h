/* The IR: a graph of typed, shaped values and nodes with typed attributes,
 * NCHW like ONNX. One symbol, the batch size N, may appear in shapes: a value's
 * dims[batch_axis] holds a coefficient that is multiplied by N when an instance
 * is created (zn_value_resolve_dims). Small int64 constants produced by shape
 * arithmetic (Shape -> Gather -> Concat -> Reshape) carry the same symbol per
 * element in batch_elems, which is how exporters' flatten chains fold to static
 * shapes while the batch stays dynamic.
 *
 * Ownership: the graph owns every value name, node name and constant buffer. */
#ifndef ZN_GRAPH_GRAPH_H
#define ZN_GRAPH_GRAPH_H

#include "core/common.h"

typedef enum zn_op {
#define ZN_OP(e, onnx, attrs) ZN_OP_##e,
#include "graph/ops.def"
#undef ZN_OP
  ZN_OP_COUNT
} zn_op;

ZN_INTERNAL const char *zn_op_name(zn_op op);          /* the ONNX op type */
ZN_INTERNAL bool zn_op_from_onnx(const char *op_type, zn_op *op_out);

#define ZN_NO_VALUE (-1)       /* an absent optional input */
#define ZN_MAX_NODE_INPUTS 8   /* Sum / Concat may have more: see inputs_ext */
#define ZN_MAX_SPATIAL 3

/* ---- attributes, one small struct per kind of op ---- */
typedef enum zn_act_kind {
  ZN_ACT_NONE = 0, ZN_ACT_RELU, ZN_ACT_LEAKY_RELU, ZN_ACT_SIGMOID, ZN_ACT_HARD_SIGMOID,
  ZN_ACT_HARD_SWISH, ZN_ACT_CLIP, ZN_ACT_TANH,
  ZN_ACT_GELU,                           /* x * 0.5 * (1 + erf(x / sqrt(2))), exact (not tanh) */
  ZN_ACT_SWISH                           /* x * sigmoid(alpha * x); SiLU when alpha is 1 */
} zn_act_kind;
#define ZN_ACT_LAST ZN_ACT_SWISH

/* An activation: alone (Relu, Clip, ...) or fused into Conv/Gemm.
 * LeakyRelu, Swish: alpha; HardSigmoid: alpha, beta; Clip: alpha = min, beta = max
 * (-INFINITY / INFINITY when absent). */
typedef struct zn_act {
  zn_act_kind kind;
  float alpha, beta;
} zn_act;

typedef enum zn_auto_pad { ZN_AUTO_PAD_NOTSET = 0, ZN_AUTO_PAD_SAME_UPPER, ZN_AUTO_PAD_SAME_LOWER, ZN_AUTO_PAD_VALID } zn_auto_pad;

/* Conv inputs: 0 X, 1 W, 2 B (or ZN_NO_VALUE), 3 residual (or absent): the
 * residual is added after bias and before the activation (fused Add). */
typedef struct zn_conv_attrs {
  int num_spatial;                       /* 1..3 */
  int64_t kernel[ZN_MAX_SPATIAL];
  int64_t stride[ZN_MAX_SPATIAL];
  int64_t dilation[ZN_MAX_SPATIAL];
  int64_t pad_begin[ZN_MAX_SPATIAL];
  int64_t pad_end[ZN_MAX_SPATIAL];
  zn_auto_pad auto_pad;                  /* resolved to pads by shape inference */
  int64_t group;
  zn_act act;                            /* fused activation */
} zn_conv_attrs;

typedef struct zn_pool_attrs {
  int num_spatial;
  int64_t kernel[ZN_MAX_SPATIAL];
  int64_t stride[ZN_MAX_SPATIAL];
  int64_t dilation[ZN_MAX_SPATIAL];
  int64_t pad_begin[ZN_MAX_SPATIAL];
  int64_t pad_end[ZN_MAX_SPATIAL];
  zn_auto_pad auto_pad;
  bool ceil_mode;
  bool count_include_pad;                /* AveragePool only */
} zn_pool_attrs;

/* Gemm: Y = alpha * A' * B' + beta * C, then act. */
typedef struct zn_gemm_attrs {
  bool trans_a, trans_b;
  float alpha, beta;
  zn_act act;
} zn_gemm_attrs;

typedef struct zn_softmax_attrs {
  int64_t axis;
  bool legacy_2d;                        /* opset < 13: coerce to 2-D at axis */
} zn_softmax_attrs;

typedef struct zn_reduce_attrs {
  int num_axes;                          /* 0 = all axes (unless noop_with_empty_axes) */
  int64_t axes[ZN_MAX_DIMS];
  bool keepdims;
} zn_reduce_attrs;

typedef struct zn_batch_norm_attrs { float epsilon; } zn_batch_norm_attrs;
/* LayerNormalization (inputs X, scale, optional bias): normalise over axes
 * axis..rank-1 (axis may be negative until shape inference resolves it). */
typedef struct zn_layer_norm_attrs { int64_t axis; float epsilon; } zn_layer_norm_attrs;
typedef struct zn_lrn_attrs { int64_t size; float alpha, beta, bias; } zn_lrn_attrs;
typedef struct zn_axis_attrs { int64_t axis; } zn_axis_attrs;
typedef struct zn_reshape_attrs { bool allowzero; } zn_reshape_attrs;  /* shape: input 1 */
typedef struct zn_transpose_attrs { int num_perm; int64_t perm[ZN_MAX_DIMS]; } zn_transpose_attrs;
typedef struct zn_axes_attrs { int num_axes; int64_t axes[ZN_MAX_DIMS]; } zn_axes_attrs;

typedef enum zn_pad_mode { ZN_PAD_CONSTANT = 0, ZN_PAD_REFLECT, ZN_PAD_EDGE } zn_pad_mode;
typedef struct zn_pad_attrs {
  zn_pad_mode mode;
  int num_pads;                          /* 2 * rank: begins then ends, like ONNX */
  int64_t pads[2 * ZN_MAX_DIMS];
  float value;
} zn_pad_attrs;

typedef struct zn_shape_attrs { int64_t start, end; bool has_end; } zn_shape_attrs;
typedef struct zn_cast_attrs { zn_dtype to; } zn_cast_attrs;
/* ConstantOfShape: every output element is `value` (the first dtype-size bytes),
 * float32 0 when the file gives none. */
typedef struct zn_fill_attrs { zn_dtype dtype; uint8_t value[8]; } zn_fill_attrs;
/* Mod: fmod = C's remainder (the dividend's sign; required for floats); else
 * the divisor's sign, as Python's %. */
typedef struct zn_mod_attrs { bool fmod; } zn_mod_attrs;
/* ScatterND: how an update combines with the element it lands on. */
typedef enum zn_scatter_reduction { ZN_SCATTER_NONE = 0, ZN_SCATTER_ADD, ZN_SCATTER_MUL } zn_scatter_reduction;
typedef struct zn_scatter_attrs { zn_scatter_reduction reduction; } zn_scatter_attrs;

/* ---- values and nodes ---- */
#define ZN_MAX_NODE_OUTPUTS 3

typedef struct zn_value {
  char *name;
  zn_dtype dtype;
  int num_dims;                          /* -1: shape not yet known */
  int64_t dims[ZN_MAX_DIMS];
  int batch_axis;                        /* dims[batch_axis] is a coefficient of N; -1: none */
  void *data;                            /* constant contents (zn_alloc_aligned) or NULL */
  size_t data_bytes;
  uint64_t batch_elems;                  /* int64 constants: bit i set = element i is data[i] * N */
  int producer;                          /* node index, -1 for inputs and constants */
  bool is_input, is_output;
} zn_value;

typedef struct zn_node {
  zn_op op;
  char *name;
  int num_inputs;
  int inputs[ZN_MAX_NODE_INPUTS];        /* value ids; ZN_NO_VALUE for absent optionals */
  int *inputs_ext;                       /* non-NULL when num_inputs > ZN_MAX_NODE_INPUTS (owned) */
  int num_outputs;
  int outputs[ZN_MAX_NODE_OUTPUTS];       /* LayerNormalization: Y, Mean, InvStdDev */
  union {
    zn_conv_attrs conv;
    zn_pool_attrs pool;
    zn_gemm_attrs gemm;
    zn_act act;
    zn_softmax_attrs softmax;
    zn_reduce_attrs reduce;
    zn_batch_norm_attrs batch_norm;
    zn_layer_norm_attrs layer_norm;
    zn_lrn_attrs lrn;
    zn_axis_attrs axis;
    zn_reshape_attrs reshape;
    zn_transpose_attrs transpose;
    zn_axes_attrs axes;
    zn_pad_attrs pad;
    zn_shape_attrs shape;
    zn_cast_attrs cast;
    zn_fill_attrs fill;
    zn_mod_attrs mod;
    zn_scatter_attrs scatter;
  } attrs;
} zn_node;

typedef struct zn_graph {
  char *name;
  int64_t opset;                         /* default-domain opset the graph was written in */
  zn_value *values;
  int num_values, cap_values;
  zn_node *nodes;                        /* topological order once verified */
  int num_nodes, cap_nodes;
  int *inputs;                           /* graph inputs (value ids), not constants */
  int num_inputs;
  int *outputs;
  int num_outputs;
  /* Set by zn_graph_infer_shapes when the batch symbol could not be carried
   * through some node: the batch is then fixed to 1 (inputs' batch_axis
   * cleared, their dims kept as given). */
  bool static_batch;
} zn_graph;

/* Input k of a node (handles inputs_ext). */
static inline int zn_node_input(const zn_node *n, int k) {
  return n->inputs_ext ? n->inputs_ext[k] : n->inputs[k];
}

ZN_INTERNAL zn_status zn_graph_create(zn_graph **out);
ZN_INTERNAL void zn_graph_destroy(zn_graph *g);
ZN_INTERNAL zn_status zn_graph_clone(const zn_graph *g, zn_graph **out);

/* Add a value; returns its id through *id_out. name copied. */
ZN_INTERNAL zn_status zn_graph_add_value(zn_graph *g, const char *name, zn_dtype dtype, int *id_out);
/* Add a constant value; data copied (data_bytes must match dims * dtype size). */
ZN_INTERNAL zn_status zn_graph_add_const(zn_graph *g, const char *name, zn_dtype dtype, int num_dims,
                                         const int64_t *dims, const void *data, size_t data_bytes, int *id_out);
/* Same, but the graph takes ownership of data (allocated with zn_alloc_aligned). */
ZN_INTERNAL zn_status zn_graph_add_const_owned(zn_graph *g, const char *name, zn_dtype dtype, int num_dims,
                                               const int64_t *dims, void *data, size_t data_bytes, int *id_out);
/* Add a node; inputs/outputs copied; sets producers. Returns its index. */
ZN_INTERNAL zn_status zn_graph_add_node(zn_graph *g, zn_op op, const char *name, int num_inputs,
                                        const int *inputs, int num_outputs, const int *outputs, int *index_out);
ZN_INTERNAL int zn_graph_find_value(const zn_graph *g, const char *name); /* -1 if absent */
ZN_INTERNAL zn_status zn_graph_mark_input(zn_graph *g, int value);
ZN_INTERNAL zn_status zn_graph_mark_output(zn_graph *g, int value);

/* The most bytes per image a ConstantOfShape, Expand or Range output may take (a
 * cap against absurd shapes in a file: shape inference refuses larger ones). */
#define ZN_MAX_MADE_BYTES ((int64_t)1 << 30)

/* Range's length, max(ceil((limit - start) / delta), 0): from the int arguments,
 * or from the f* ones when t is float32. false when delta is 0, a float is not
 * finite, the difference overflows or a float length exceeds ZN_MAX_MADE_BYTES. */
ZN_INTERNAL bool zn_range_length(zn_dtype t, int64_t start, int64_t limit, int64_t delta, double fstart,
                                 double flimit, double fdelta, int64_t *len_out);

/* Elements of a value with N = batch; false on overflow or unknown shape. */
ZN_INTERNAL bool zn_value_resolve_dims(const zn_value *v, int64_t batch, int64_t dims_out[ZN_MAX_DIMS]);
ZN_INTERNAL bool zn_value_num_elements(const zn_value *v, int64_t batch, int64_t *count_out);
/* "[N,3,224,224]" style text into buf. */
ZN_INTERNAL const char *zn_value_shape_str(const zn_value *v, char *buf, size_t buf_size);
/* A Gather of one constant int32/int64 index (a scalar or one element), in
 * range, on an axis other than its input's batch axis: which axis (resolved)
 * and which index (negative ones counted from the end). False otherwise. */
ZN_INTERNAL bool zn_gather_one_index(const zn_graph *g, const zn_node *n, int *axis_out, int64_t *index_out);
/* The one node reading value v; -1 when none, several (or one reading it
 * twice), or v is a graph output. A scan of the nodes: for compile time. */
ZN_INTERNAL int zn_graph_sole_reader(const zn_graph *g, int v);
/* ShuffleNet's channel shuffle as PyTorch writes it, starting at node i:
 * Reshape of x [N,C,H,W] (batch axis 0) to [N,G,C/G,H,W], read only by a
 * Transpose of perm (0,2,1,3,4), read only by a Reshape back to x's shape.
 * Output channel j*G + k is input channel k*(C/G) + j. Returns G and the
 * Transpose's and last Reshape's node indices; 0 when node i starts none. */
ZN_INTERNAL int64_t zn_graph_channel_shuffle(const zn_graph *g, int i, int *transpose_out, int *last_out);

/* Sort nodes topologically; ZN_ERR_INVALID_MODEL naming a node on a cycle. */
ZN_INTERNAL zn_status zn_graph_toposort(zn_graph *g);
/* Structural checks: every input defined, one producer per value, no cycle,
 * outputs produced, attribute ranges sane. */
ZN_INTERNAL zn_status zn_graph_verify(const zn_graph *g);
/* Infer dtype and shape of every value (graph inputs must have shapes). */
ZN_INTERNAL zn_status zn_graph_infer_shapes(zn_graph *g);

/* Passes (graph/passes.h lists them): */
ZN_INTERNAL zn_status zn_graph_optimize(zn_graph *g);

/* MACs per image (Conv, Gemm, MatMul) and parameter count (constant float elements
 * feeding Conv/Gemm/MatMul/BN and the like). */
ZN_INTERNAL int64_t zn_graph_macs_per_image(const zn_graph *g);
/* MACs per image of one node (Conv, Gemm, MatMul; 0 for every other op); the graph's is their sum. */
ZN_INTERNAL int64_t zn_node_macs_per_image(const zn_graph *g, const zn_node *n);
ZN_INTERNAL int64_t zn_graph_num_params(const zn_graph *g);

#endif
