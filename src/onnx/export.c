/* zn_graph -> ONNX ModelProto that ONNX Runtime can run: opset 13 or the
 * graph's (raised to 14/15/16/19 when an attribute needs a newer op version),
 * constants as raw_data initializers, typed attributes back to ONNX
 * attributes/inputs, and IR-only fusions (Conv/Gemm activation, Conv residual
 * input) written out as separate standard nodes. The protobuf structures
 * borrow names and tensor bytes from the graph; everything the exporter makes
 * up is tracked in one list and freed at the end. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "onnx/onnx_internal.h"

#define MAX_ATTRS 8

typedef struct ex {
  const zn_graph *g;
  int64_t opset;
  void **allocs;
  size_t num_allocs, cap_allocs;
  Onnx__NodeProto **nodes;
  size_t num_nodes, cap_nodes;
  Onnx__TensorProto **inits;
  size_t num_inits, cap_inits;
  int counter;
  bool oom;
} ex;

static void *ex_alloc(ex *e, size_t size) {
  if (e->oom) return NULL;
  if (e->num_allocs == e->cap_allocs) {
    size_t ncap = e->cap_allocs ? e->cap_allocs * 2 : 256;
    void **p = zn_realloc(e->allocs, ncap * sizeof *p);
    if (!p) { e->oom = true; return NULL; }
    e->allocs = p;
    e->cap_allocs = ncap;
  }
  void *p = zn_calloc(1, size ? size : 1);
  if (!p) { e->oom = true; return NULL; }
  e->allocs[e->num_allocs++] = p;
  return p;
}

static char *ex_printf(ex *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *ex_printf(ex *e, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0) { e->oom = true; return NULL; }
  char *s = ex_alloc(e, (size_t)n + 1);
  if (!s) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

static bool push(ex *e, void ***arr, size_t *num, size_t *cap, void *item) {
  if (!item || e->oom) return false;
  if (*num == *cap) {
    size_t ncap = *cap ? *cap * 2 : 64;
    void **p = zn_realloc(*arr, ncap * sizeof *p);
    if (!p) { e->oom = true; return false; }
    *arr = p;
    *cap = ncap;
  }
  (*arr)[(*num)++] = item;
  return true;
}

/* A fresh value name that no graph value uses. */
static char *fresh_name(ex *e, const char *base, const char *what) {
  for (;;) {
    char *s = ex_printf(e, "%s__%s%d", base, what, e->counter++);
    if (!s || zn_graph_find_value(e->g, s) < 0) return s;
  }
}

static Onnx__NodeProto *add_node(ex *e, const char *op, const char *name, int num_in, const char *const *ins,
                                 const char *out) {
  Onnx__NodeProto *n = ex_alloc(e, sizeof *n);
  char **in = ex_alloc(e, sizeof(char *) * (size_t)(num_in ? num_in : 1));
  char **outs = ex_alloc(e, sizeof(char *) * ZN_MAX_NODE_OUTPUTS);
  Onnx__AttributeProto **attrs = ex_alloc(e, sizeof(*attrs) * MAX_ATTRS);
  if (!n || !in || !outs || !attrs) return NULL;
  onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)(name ? name : "");
  for (int k = 0; k < num_in; k++) in[k] = (char *)(ins[k] ? ins[k] : "");
  n->n_input = (size_t)num_in;
  n->input = in;
  outs[0] = (char *)out;
  n->n_output = 1;
  n->output = outs;
  n->attribute = attrs;
  if (!push(e, (void ***)&e->nodes, &e->num_nodes, &e->cap_nodes, n)) return NULL;
  return n;
}

static Onnx__AttributeProto *add_attr(ex *e, Onnx__NodeProto *n, const char *name,
                                      Onnx__AttributeProto__AttributeType type) {
  if (!n || n->n_attribute >= MAX_ATTRS) { e->oom = true; return NULL; }
  Onnx__AttributeProto *a = ex_alloc(e, sizeof *a);
  if (!a) return NULL;
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  a->has_type = 1;
  a->type = type;
  n->attribute[n->n_attribute++] = a;
  return a;
}

static void attr_int(ex *e, Onnx__NodeProto *n, const char *name, int64_t v) {
  Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
  if (a) a->has_i = 1, a->i = v;
}

static void attr_float(ex *e, Onnx__NodeProto *n, const char *name, float v) {
  Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
  if (a) a->has_f = 1, a->f = v;
}

static void attr_ints(ex *e, Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
  Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  int64_t *copy = ex_alloc(e, sizeof(int64_t) * (size_t)(count ? count : 1));
  if (!a || !copy) return;
  if (count) memcpy(copy, v, sizeof(int64_t) * (size_t)count);
  a->n_ints = (size_t)count;
  a->ints = copy;
}

static void attr_string(ex *e, Onnx__NodeProto *n, const char *name, const char *s) {
  Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  if (a) a->has_s = 1, a->s.data = (uint8_t *)s, a->s.len = strlen(s);
}

/* A one-element tensor attribute (ConstantOfShape's value); bytes copied. */
static void attr_scalar_tensor(ex *e, Onnx__NodeProto *n, const char *name, zn_dtype dtype, const void *bytes,
                               size_t size) {
  Onnx__AttributeProto *a = add_attr(e, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
  Onnx__TensorProto *t = ex_alloc(e, sizeof *t);
  int64_t *dims = ex_alloc(e, sizeof *dims);
  uint8_t *copy = ex_alloc(e, size);
  if (!a || !t || !dims || !copy) return;
  onnx__tensor_proto__init(t);
  dims[0] = 1;
  memcpy(copy, bytes, size);
  t->has_data_type = 1;
  t->data_type = (int32_t)dtype;
  t->n_dims = 1;
  t->dims = dims;
  t->has_raw_data = 1;
  t->raw_data.len = size;
  t->raw_data.data = copy;
  a->t = t;
}

/* An initializer; data borrowed (must outlive packing). */
static bool add_init(ex *e, const char *name, zn_dtype dtype, int num_dims, const int64_t *dims, const void *data,
                     size_t bytes) {
  Onnx__TensorProto *t = ex_alloc(e, sizeof *t);
  if (!t) return false;
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = 1;
  t->data_type = (int32_t)dtype;
  t->n_dims = (size_t)num_dims;
  t->dims = (int64_t *)dims;
  t->has_raw_data = 1;
  t->raw_data.len = bytes;
  t->raw_data.data = (uint8_t *)data;
  return push(e, (void ***)&e->inits, &e->num_inits, &e->cap_inits, t);
}

/* A made-up constant (copied into the export's storage); returns its name. */
static const char *made_const(ex *e, const char *base, const char *what, zn_dtype dtype, int num_dims,
                              const int64_t *dims, const void *data, size_t bytes) {
  char *name = fresh_name(e, base, what);
  int64_t *d = ex_alloc(e, sizeof(int64_t) * (size_t)(num_dims ? num_dims : 1));
  void *copy = ex_alloc(e, bytes);
  if (!name || !d || !copy) return NULL;
  if (num_dims) memcpy(d, dims, sizeof(int64_t) * (size_t)num_dims);
  if (bytes) memcpy(copy, data, bytes);
  return add_init(e, name, dtype, num_dims, d, copy, bytes) ? name : NULL;
}

static const char *ints_const(ex *e, const char *base, const char *what, int count, const int64_t *v) {
  int64_t d = count;
  return made_const(e, base, what, ZN_DTYPE_INT64, 1, &d, v, sizeof(int64_t) * (size_t)count);
}

static const char *float_const(ex *e, const char *base, const char *what, float v) {
  return made_const(e, base, what, ZN_DTYPE_FLOAT32, 0, NULL, &v, sizeof v);
}

static const char *value_name(const ex *e, int id) { return id >= 0 ? e->g->values[id].name : ""; }

/* ---- activations ---- */

static void emit_act(ex *e, const zn_act *act, const char *name, const char *in, const char *out) {
  const char *ins[3] = {in, "", ""};
  Onnx__NodeProto *n;
  switch (act->kind) {
  case ZN_ACT_RELU: add_node(e, "Relu", name, 1, ins, out); break;
  case ZN_ACT_SIGMOID: add_node(e, "Sigmoid", name, 1, ins, out); break;
  case ZN_ACT_TANH: add_node(e, "Tanh", name, 1, ins, out); break;
  case ZN_ACT_HARD_SWISH: add_node(e, "HardSwish", name, 1, ins, out); break;
  case ZN_ACT_LEAKY_RELU:
    n = add_node(e, "LeakyRelu", name, 1, ins, out);
    attr_float(e, n, "alpha", act->alpha);
    break;
  case ZN_ACT_HARD_SIGMOID:
    n = add_node(e, "HardSigmoid", name, 1, ins, out);
    attr_float(e, n, "alpha", act->alpha);
    attr_float(e, n, "beta", act->beta);
    break;
  case ZN_ACT_CLIP: {
    int num = 1;
    if (!(isinf(act->alpha) && act->alpha < 0)) ins[1] = float_const(e, out, "min", act->alpha), num = 2;
    if (!(isinf(act->beta) && act->beta > 0)) ins[2] = float_const(e, out, "max", act->beta), num = 3;
    add_node(e, "Clip", name, num, ins, out);
    break;
  }
  case ZN_ACT_GELU: {
    /* Gelu is an ONNX op only from opset 20: write the Erf form exporters use,
     * x * (1 + Erf(x / sqrt(2))) * 0.5. */
    const char *t1 = fresh_name(e, out, "gelu_div"), *t2 = fresh_name(e, out, "gelu_erf");
    const char *t3 = fresh_name(e, out, "gelu_add"), *t4 = fresh_name(e, out, "gelu_mul");
    const char *div[2] = {in, float_const(e, out, "sqrt2", 1.41421353816986084f)};
    add_node(e, "Div", ex_printf(e, "%s_div", name), 2, div, t1);
    add_node(e, "Erf", ex_printf(e, "%s_erf", name), 1, (const char *[]){t1}, t2);
    add_node(e, "Add", ex_printf(e, "%s_add", name), 2, (const char *[]){t2, float_const(e, out, "one", 1.0f)}, t3);
    add_node(e, "Mul", ex_printf(e, "%s_mul", name), 2, (const char *[]){in, t3}, t4);
    add_node(e, "Mul", name, 2, (const char *[]){t4, float_const(e, out, "half", 0.5f)}, out);
    break;
  }
  case ZN_ACT_SWISH: {
    /* Swish is an ONNX op only from opset 24: write x * Sigmoid(alpha * x),
     * the form exporters use for SiLU (without the Mul when alpha is 1). */
    const char *gate_in = in, *gate = fresh_name(e, out, "swish_gate");
    if (act->alpha != 1.0f) {
      gate_in = fresh_name(e, out, "swish_scaled");
      add_node(e, "Mul", ex_printf(e, "%s_scale", name), 2,
               (const char *[]){in, float_const(e, out, "alpha", act->alpha)}, gate_in);
    }
    add_node(e, "Sigmoid", ex_printf(e, "%s_sigmoid", name), 1, (const char *[]){gate_in}, gate);
    add_node(e, "Mul", name, 2, (const char *[]){in, gate}, out);
    break;
  }
  default: add_node(e, "Identity", name, 1, ins, out); break;
  }
}

/* ---- per-op export ---- */

static void window_attrs(ex *e, Onnx__NodeProto *n, int ns, const int64_t *kernel, const int64_t *stride,
                         const int64_t *dilation, const int64_t *pb, const int64_t *pe, zn_auto_pad auto_pad,
                         bool write_dilation) {
  int64_t pads[2 * ZN_MAX_SPATIAL];
  attr_ints(e, n, "kernel_shape", ns, kernel);
  attr_ints(e, n, "strides", ns, stride);
  if (write_dilation) attr_ints(e, n, "dilations", ns, dilation);
  if (auto_pad == ZN_AUTO_PAD_NOTSET) {
    for (int i = 0; i < ns; i++) pads[i] = pb[i], pads[ns + i] = pe[i];
    attr_ints(e, n, "pads", 2 * ns, pads);
  } else {
    attr_string(e, n, "auto_pad", auto_pad == ZN_AUTO_PAD_SAME_UPPER ? "SAME_UPPER"
                                  : auto_pad == ZN_AUTO_PAD_SAME_LOWER ? "SAME_LOWER" : "VALID");
  }
}

static bool any_not_one(int n, const int64_t *v) {
  for (int i = 0; i < n; i++)
    if (v[i] != 1) return true;
  return false;
}

static zn_status export_node(ex *e, const zn_node *zn) {
  const zn_graph *g = e->g;
  const char *name = zn->name;
  const char *out = value_name(e, zn->outputs[0]);
  int num_in = zn->num_inputs;
  const char *small[ZN_MAX_NODE_INPUTS + 4];
  const char **ins = small;
  if (num_in > ZN_MAX_NODE_INPUTS) {
    ins = ex_alloc(e, sizeof(char *) * (size_t)num_in);
    if (!ins) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to export node '%s': out of memory", name);
  }
  for (int k = 0; k < num_in; k++) ins[k] = value_name(e, zn_node_input(zn, k));
  const char *op = zn_op_name(zn->op);
  Onnx__NodeProto *n = NULL;

  switch (zn->op) {
  case ZN_OP_CONV: {
    const zn_conv_attrs *a = &zn->attrs.conv;
    bool residual = num_in > 3 && zn_node_input(zn, 3) >= 0;
    bool act = a->act.kind != ZN_ACT_NONE;
    const char *conv_out = (residual || act) ? fresh_name(e, out, "conv") : out;
    n = add_node(e, "Conv", name, num_in > 3 ? 3 : num_in, ins, conv_out);
    window_attrs(e, n, a->num_spatial, a->kernel, a->stride, a->dilation, a->pad_begin, a->pad_end, a->auto_pad, true);
    attr_int(e, n, "group", a->group);
    const char *cur = conv_out;
    if (residual) {
      const char *add_out = act ? fresh_name(e, out, "add") : out;
      const char *add_in[2] = {cur, ins[3]};
      add_node(e, "Add", ex_printf(e, "%s_add", name), 2, add_in, add_out);
      cur = add_out;
    }
    if (act) emit_act(e, &a->act, ex_printf(e, "%s_act", name), cur, out);
    return ZN_OK;
  }
  case ZN_OP_GEMM: {
    const zn_gemm_attrs *a = &zn->attrs.gemm;
    bool act = a->act.kind != ZN_ACT_NONE;
    const char *gemm_out = act ? fresh_name(e, out, "gemm") : out;
    n = add_node(e, "Gemm", name, num_in, ins, gemm_out);
    attr_float(e, n, "alpha", a->alpha);
    attr_float(e, n, "beta", a->beta);
    attr_int(e, n, "transA", a->trans_a);
    attr_int(e, n, "transB", a->trans_b);
    if (act) emit_act(e, &a->act, ex_printf(e, "%s_act", name), gemm_out, out);
    return ZN_OK;
  }
  case ZN_OP_RELU: case ZN_OP_LEAKY_RELU: case ZN_OP_SIGMOID: case ZN_OP_HARD_SIGMOID: case ZN_OP_HARD_SWISH:
  case ZN_OP_CLIP: case ZN_OP_TANH: case ZN_OP_GELU: case ZN_OP_SWISH: {
    zn_act act = zn->attrs.act;
    static const zn_act_kind kinds[] = {
        [ZN_OP_RELU] = ZN_ACT_RELU, [ZN_OP_LEAKY_RELU] = ZN_ACT_LEAKY_RELU, [ZN_OP_SIGMOID] = ZN_ACT_SIGMOID,
        [ZN_OP_HARD_SIGMOID] = ZN_ACT_HARD_SIGMOID, [ZN_OP_HARD_SWISH] = ZN_ACT_HARD_SWISH,
        [ZN_OP_CLIP] = ZN_ACT_CLIP, [ZN_OP_TANH] = ZN_ACT_TANH, [ZN_OP_GELU] = ZN_ACT_GELU,
        [ZN_OP_SWISH] = ZN_ACT_SWISH};
    act.kind = kinds[zn->op];
    emit_act(e, &act, name, ins[0], out);
    return ZN_OK;
  }
  case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL: {
    const zn_pool_attrs *a = &zn->attrs.pool;
    bool max = zn->op == ZN_OP_MAX_POOL;
    n = add_node(e, op, name, num_in, ins, out);
    window_attrs(e, n, a->num_spatial, a->kernel, a->stride, a->dilation, a->pad_begin, a->pad_end, a->auto_pad,
                 any_not_one(a->num_spatial, a->dilation));
    if (a->ceil_mode) attr_int(e, n, "ceil_mode", 1);
    if (!max && a->count_include_pad) attr_int(e, n, "count_include_pad", 1);
    if (n && zn->num_outputs > 1) {
      n->output[1] = (char *)value_name(e, zn->outputs[1]);
      n->n_output = 2;
    }
    return ZN_OK;
  }
  case ZN_OP_SOFTMAX: {
    const zn_softmax_attrs *a = &zn->attrs.softmax;
    const zn_value *x = &g->values[zn_node_input(zn, 0)];
    bool same = !a->legacy_2d || a->axis == -1 || (x->num_dims >= 0 && a->axis == x->num_dims - 1);
    if (same) {
      n = add_node(e, "Softmax", name, 1, ins, out);
      attr_int(e, n, "axis", a->axis);
      return ZN_OK;
    }
    /* opset < 13 semantics: softmax over the 2-D coercion at axis. */
    const char *shape = fresh_name(e, out, "shape"), *flat = fresh_name(e, out, "flat"),
               *sm = fresh_name(e, out, "softmax");
    add_node(e, "Shape", ex_printf(e, "%s_shape", name), 1, ins, shape);
    n = add_node(e, "Flatten", ex_printf(e, "%s_flatten", name), 1, ins, flat);
    attr_int(e, n, "axis", a->axis);
    const char *sm_in[1] = {flat};
    n = add_node(e, "Softmax", name, 1, sm_in, sm);
    attr_int(e, n, "axis", 1);
    const char *rs_in[2] = {sm, shape};
    add_node(e, "Reshape", ex_printf(e, "%s_reshape", name), 2, rs_in, out);
    return ZN_OK;
  }
  case ZN_OP_REDUCE_MEAN: {
    const zn_reduce_attrs *a = &zn->attrs.reduce;
    if (e->opset >= 18 && a->num_axes > 0) {
      const char *rin[2] = {ins[0], ints_const(e, out, "axes", a->num_axes, a->axes)};
      n = add_node(e, op, name, 2, rin, out);
    } else {
      n = add_node(e, op, name, 1, ins, out);
      if (a->num_axes > 0) attr_ints(e, n, "axes", a->num_axes, a->axes);
    }
    attr_int(e, n, "keepdims", a->keepdims);
    return ZN_OK;
  }
  case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE: {
    const zn_axes_attrs *a = &zn->attrs.axes;
    const char *sin[2] = {ins[0], NULL};
    if (a->num_axes > 0 || zn->op == ZN_OP_UNSQUEEZE)
      sin[1] = ints_const(e, out, "axes", a->num_axes, a->axes);
    add_node(e, op, name, sin[1] ? 2 : 1, sin, out);
    return ZN_OK;
  }
  case ZN_OP_PAD: {
    const zn_pad_attrs *a = &zn->attrs.pad;
    const char *pin[3] = {ins[0], ints_const(e, out, "pads", a->num_pads, a->pads), NULL};
    int np = 2;
    if (a->mode == ZN_PAD_CONSTANT && (a->value != 0.0f || signbit(a->value))) {
      zn_dtype dt = g->values[zn_node_input(zn, 0)].dtype;
      union { float f; double d; int64_t i64; int32_t i32; uint8_t u8; int8_t i8; } v;
      size_t bytes;
      switch (dt) {
      case ZN_DTYPE_INT64: v.i64 = (int64_t)a->value; bytes = 8; break;
      case ZN_DTYPE_INT32: v.i32 = (int32_t)a->value; bytes = 4; break;
      case ZN_DTYPE_UINT8: v.u8 = (uint8_t)a->value; bytes = 1; break;
      case ZN_DTYPE_INT8: v.i8 = (int8_t)a->value; bytes = 1; break;
      case ZN_DTYPE_FLOAT64: v.d = a->value; bytes = 8; break;
      default: dt = ZN_DTYPE_FLOAT32; v.f = a->value; bytes = 4; break;
      }
      pin[2] = made_const(e, out, "value", dt, 0, NULL, &v, bytes);
      np = 3;
    }
    n = add_node(e, "Pad", name, np, pin, out);
    if (a->mode != ZN_PAD_CONSTANT) attr_string(e, n, "mode", a->mode == ZN_PAD_REFLECT ? "reflect" : "edge");
    return ZN_OK;
  }
  default: break;
  }

  n = add_node(e, op, name, num_in, ins, out);
  switch (zn->op) {
  case ZN_OP_BATCH_NORM: attr_float(e, n, "epsilon", zn->attrs.batch_norm.epsilon); break;
  case ZN_OP_LAYER_NORM:
    attr_int(e, n, "axis", zn->attrs.layer_norm.axis);
    attr_float(e, n, "epsilon", zn->attrs.layer_norm.epsilon);
    /* Mean and InvStdDev, when the node has them (an unread Mean is kept as a named value) */
    for (int k = 1; n && k < zn->num_outputs; k++) {
      n->output[k] = (char *)value_name(e, zn->outputs[k]);
      n->n_output = (size_t)k + 1;
    }
    break;
  case ZN_OP_LRN:
    attr_int(e, n, "size", zn->attrs.lrn.size);
    attr_float(e, n, "alpha", zn->attrs.lrn.alpha);
    attr_float(e, n, "beta", zn->attrs.lrn.beta);
    attr_float(e, n, "bias", zn->attrs.lrn.bias);
    break;
  case ZN_OP_CONCAT: case ZN_OP_FLATTEN: case ZN_OP_GATHER: attr_int(e, n, "axis", zn->attrs.axis.axis); break;
  case ZN_OP_RESHAPE: if (zn->attrs.reshape.allowzero) attr_int(e, n, "allowzero", 1); break;
  case ZN_OP_TRANSPOSE:
    if (zn->attrs.transpose.num_perm > 0) attr_ints(e, n, "perm", zn->attrs.transpose.num_perm, zn->attrs.transpose.perm);
    break;
  case ZN_OP_SHAPE:
    if (zn->attrs.shape.start != 0) attr_int(e, n, "start", zn->attrs.shape.start);
    if (zn->attrs.shape.has_end) attr_int(e, n, "end", zn->attrs.shape.end);
    break;
  case ZN_OP_CAST: attr_int(e, n, "to", (int64_t)zn->attrs.cast.to); break;
  case ZN_OP_CONSTANT_OF_SHAPE:
    attr_scalar_tensor(e, n, "value", zn->attrs.fill.dtype, zn->attrs.fill.value, zn_dtype_size(zn->attrs.fill.dtype));
    break;
  case ZN_OP_MOD: if (zn->attrs.mod.fmod) attr_int(e, n, "fmod", 1); break;
  case ZN_OP_SCATTER_ND:
    if (zn->attrs.scatter.reduction != ZN_SCATTER_NONE)
      attr_string(e, n, "reduction", zn->attrs.scatter.reduction == ZN_SCATTER_ADD ? "add" : "mul");
    break;
  default: break;
  }
  return ZN_OK;
}

/* The opset the file needs: 13, the graph's, or newer when an attribute form needs it. */
static int64_t needed_opset(const zn_graph *g) {
  int64_t v = g->opset > 13 ? g->opset : 13;
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    int64_t need = 13;
    if (n->op == ZN_OP_HARD_SWISH || (n->op == ZN_OP_CONV && n->attrs.conv.act.kind == ZN_ACT_HARD_SWISH) ||
        (n->op == ZN_OP_GEMM && n->attrs.gemm.act.kind == ZN_ACT_HARD_SWISH) ||
        (n->op == ZN_OP_RESHAPE && n->attrs.reshape.allowzero))
      need = 14;
    if (n->op == ZN_OP_SHAPE && (n->attrs.shape.start != 0 || n->attrs.shape.has_end)) need = 15;
    if (n->op == ZN_OP_SCATTER_ND && n->attrs.scatter.reduction != ZN_SCATTER_NONE) need = 16;
    if (n->op == ZN_OP_LAYER_NORM) need = 17;
    if (n->op == ZN_OP_AVERAGE_POOL && any_not_one(n->attrs.pool.num_spatial, n->attrs.pool.dilation)) need = 19;
    if (need > v) v = need;
  }
  return v;
}

static Onnx__ValueInfoProto *value_info(ex *e, const zn_value *v) {
  Onnx__ValueInfoProto *vi = ex_alloc(e, sizeof *vi);
  Onnx__TypeProto *tp = ex_alloc(e, sizeof *tp);
  Onnx__TypeProto__Tensor *tt = ex_alloc(e, sizeof *tt);
  if (!vi || !tp || !tt) return NULL;
  onnx__value_info_proto__init(vi);
  onnx__type_proto__init(tp);
  onnx__type_proto__tensor__init(tt);
  vi->name = v->name;
  vi->type = tp;
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  if (v->dtype != ZN_DTYPE_UNDEFINED) tt->has_elem_type = 1, tt->elem_type = (int32_t)v->dtype;
  if (v->num_dims >= 0) {
    Onnx__TensorShapeProto *sp = ex_alloc(e, sizeof *sp);
    Onnx__TensorShapeProto__Dimension **dp = ex_alloc(e, sizeof(*dp) * (size_t)(v->num_dims ? v->num_dims : 1));
    if (!sp || !dp) return NULL;
    onnx__tensor_shape_proto__init(sp);
    for (int i = 0; i < v->num_dims; i++) {
      Onnx__TensorShapeProto__Dimension *d = ex_alloc(e, sizeof *d);
      if (!d) return NULL;
      onnx__tensor_shape_proto__dimension__init(d);
      if (i == v->batch_axis) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = v->dims[i] == 1 ? (char *)"N" : ex_printf(e, "%lldN", (long long)v->dims[i]);
      } else {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = v->dims[i];
      }
      dp[i] = d;
    }
    sp->n_dim = (size_t)v->num_dims;
    sp->dim = dp;
    tt->shape = sp;
  }
  return vi;
}

zn_status zn_onnx_export_memory(const zn_graph *g, void **data_out, size_t *size_out) {
  *data_out = NULL;
  *size_out = 0;
  ex e;
  memset(&e, 0, sizeof e);
  e.g = g;
  e.opset = needed_opset(g);
  zn_status st = ZN_OK;
  Onnx__ValueInfoProto **inputs = NULL, **outputs = NULL;

  for (int i = 0; i < g->num_values && st == ZN_OK; i++) {
    const zn_value *v = &g->values[i];
    if (!v->data) continue;
    if (v->batch_elems)
      st = zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to export constant '%s': its values depend on the batch size "
                    "(export the graph before constant folding)", v->name);
    else if (!zn_onnx_dtype_size((int32_t)v->dtype))
      st = zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to export constant '%s': dtype %d not supported", v->name,
                    (int)v->dtype);
    else if (!add_init(&e, v->name, v->dtype, v->num_dims, v->dims, v->data, v->data_bytes))
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to export graph: out of memory");
  }
  for (int i = 0; i < g->num_nodes && st == ZN_OK; i++) st = export_node(&e, &g->nodes[i]);
  if (st == ZN_OK) {
    inputs = ex_alloc(&e, sizeof(*inputs) * (size_t)(g->num_inputs + 1));
    outputs = ex_alloc(&e, sizeof(*outputs) * (size_t)(g->num_outputs + 1));
    for (int i = 0; inputs && i < g->num_inputs; i++) inputs[i] = value_info(&e, &g->values[g->inputs[i]]);
    for (int i = 0; outputs && i < g->num_outputs; i++) outputs[i] = value_info(&e, &g->values[g->outputs[i]]);
  }
  if (st == ZN_OK && e.oom) st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to export graph: out of memory");
  if (st == ZN_OK) {
    Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    Onnx__OperatorSetIdProto *osp[1] = {&os};
    os.domain = (char *)"";
    os.has_version = 1;
    os.version = e.opset;
    Onnx__GraphProto gp = ONNX__GRAPH_PROTO__INIT;
    gp.name = (char *)(g->name && *g->name ? g->name : "zenith");
    gp.n_node = e.num_nodes;
    gp.node = e.nodes;
    gp.n_initializer = e.num_inits;
    gp.initializer = e.inits;
    gp.n_input = (size_t)g->num_inputs;
    gp.input = inputs;
    gp.n_output = (size_t)g->num_outputs;
    gp.output = outputs;
    Onnx__ModelProto m = ONNX__MODEL_PROTO__INIT;
    m.has_ir_version = 1;
    m.ir_version = e.opset >= 19 ? 9 : 8;
    m.n_opset_import = 1;
    m.opset_import = osp;
    m.producer_name = (char *)"zenith";
    m.producer_version = (char *)ZN_VERSION_STRING;
    m.graph = &gp;
    size_t size = onnx__model_proto__get_packed_size(&m);
    uint8_t *buf = zn_malloc(size ? size : 1);
    if (!buf) {
      st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to export graph: out of memory for %zu bytes", size);
    } else {
      onnx__model_proto__pack(&m, buf);
      *data_out = buf;
      *size_out = size;
    }
  }
  for (size_t i = 0; i < e.num_allocs; i++) zn_free(e.allocs[i]);
  zn_free(e.allocs);
  zn_free(e.nodes);
  zn_free(e.inits);
  return st;
}

zn_status zn_onnx_export_file(const zn_graph *g, const char *path) {
  void *buf;
  size_t size;
  ZN_TRY(zn_onnx_export_memory(g, &buf, &size));
  zn_status st = ZN_OK;
  FILE *f = fopen(path, "wb");
  if (!f) {
    st = zn_error(ZN_ERR_IO, "failed to export model to '%s': %s", path, strerror(errno));
  } else {
    bool ok = fwrite(buf, 1, size, f) == size;
    if (fclose(f) != 0) ok = false;
    if (!ok) st = zn_error(ZN_ERR_IO, "failed to export model to '%s': write error", path);
  }
  zn_free(buf);
  return st;
}
