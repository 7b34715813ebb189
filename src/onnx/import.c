/* ONNX ModelProto -> zn_graph. Accepts what real exporters write (PyTorch,
 * tf2onnx/Keras, opsets 7..18): Constant nodes, initializers also listed as
 * inputs, the attribute and input forms of Clip/Pad/Squeeze/Unsqueeze/
 * ReduceMean/Slice across opsets (constant inputs are folded into typed
 * attributes), external data. Values are created for every node output first
 * so node order in the file does not matter; the graph is then toposorted and
 * verified (a cycle or an undefined input gets a clear error). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/status.h"
#include "onnx/onnx_internal.h"

typedef struct name_map {
  int *slots; /* value id + 1; 0 = empty */
  size_t cap; /* power of two */
} name_map;

typedef struct ctx {
  zn_graph *g;
  const Onnx__GraphProto *gp;
  int64_t opset;
  const char *base_dir;
  size_t max_bytes;
  name_map map;
} ctx;

/* ---- name -> value id ---- */

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ull;
  while (*s) h = (h ^ (uint8_t)*s++) * 1099511628211ull;
  return h;
}

static int map_find(const ctx *c, const char *name) {
  if (!c->map.cap) return -1;
  size_t mask = c->map.cap - 1;
  for (size_t i = hash_str(name) & mask;; i = (i + 1) & mask) {
    int s = c->map.slots[i];
    if (!s) return -1;
    if (strcmp(c->g->values[s - 1].name, name) == 0) return s - 1;
  }
}

static zn_status map_put(ctx *c, int id) {
  size_t need = (size_t)c->g->num_values * 2 + 16;
  if (c->map.cap < need) {
    size_t ncap = 64;
    while (ncap < need * 2) ncap *= 2;
    int *slots = zn_calloc(ncap, sizeof(int));
    if (!slots) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to import model: out of memory");
    for (size_t i = 0; i < c->map.cap; i++) {
      int s = c->map.slots[i];
      if (!s) continue;
      size_t j = hash_str(c->g->values[s - 1].name) & (ncap - 1);
      while (slots[j]) j = (j + 1) & (ncap - 1);
      slots[j] = s;
    }
    zn_free(c->map.slots);
    c->map.slots = slots;
    c->map.cap = ncap;
  }
  size_t mask = c->map.cap - 1;
  size_t j = hash_str(c->g->values[id].name) & mask;
  while (c->map.slots[j]) j = (j + 1) & mask;
  c->map.slots[j] = id + 1;
  return ZN_OK;
}

static const char *node_label(const Onnx__NodeProto *n) {
  if (n->name && *n->name) return n->name;
  if (n->n_output && n->output[0] && *n->output[0]) return n->output[0];
  return "?";
}

/* A name is consumed by some node or is a graph output. */
static bool name_is_used(const ctx *c, const char *name) {
  for (size_t i = 0; i < c->gp->n_node; i++) {
    const Onnx__NodeProto *n = c->gp->node[i];
    for (size_t k = 0; k < n->n_input; k++)
      if (n->input[k] && strcmp(n->input[k], name) == 0) return true;
  }
  for (size_t i = 0; i < c->gp->n_output; i++)
    if (c->gp->output[i]->name && strcmp(c->gp->output[i]->name, name) == 0) return true;
  return false;
}

static zn_status add_const_tensor(ctx *c, const char *name, zn_onnx_tensor *t, int *id_out) {
  if (!*name) {
    zn_free(t->name);
    zn_free_aligned(t->data);
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: a constant has no name");
  }
  if (map_find(c, name) >= 0) {
    zn_free(t->name);
    zn_free_aligned(t->data);
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: value '%s' is defined twice", name);
  }
  zn_free(t->name);
  int id;
  ZN_TRY(zn_graph_add_const_owned(c->g, name, t->dtype, t->num_dims, t->dims, t->data, t->data_bytes, &id));
  ZN_TRY(map_put(c, id));
  if (id_out) *id_out = id;
  return ZN_OK;
}

/* A constant made up by the importer (Slice/Reshape attribute forms). */
static zn_status add_made_const(ctx *c, const char *base, const char *suffix, zn_dtype dtype, int num_dims,
                                const int64_t *dims, const void *data, size_t bytes, int *id_out) {
  char name[512];
  snprintf(name, sizeof name, "%.400s__%s", base, suffix);
  for (int k = 1; map_find(c, name) >= 0; k++) snprintf(name, sizeof name, "%.400s__%s%d", base, suffix, k);
  ZN_TRY(zn_graph_add_const(c->g, name, dtype, num_dims, dims, data, bytes, id_out));
  return map_put(c, *id_out);
}

/* ---- attributes ---- */

static const Onnx__AttributeProto *find_attr(const Onnx__NodeProto *n, const char *name) {
  for (size_t i = 0; i < n->n_attribute; i++)
    if (n->attribute[i]->name && strcmp(n->attribute[i]->name, name) == 0) return n->attribute[i];
  return NULL;
}

static zn_status attr_type_error(const Onnx__NodeProto *n, const char *name, const char *want) {
  return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): attribute '%s' is not %s", node_label(n),
                  n->op_type, name, want);
}

/* Attribute type as written, tolerating files that omit the type field. */
static bool attr_is(const Onnx__AttributeProto *a, Onnx__AttributeProto__AttributeType t) {
  if (a->type == t) return true;
  if (a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED) return false;
  switch (t) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS: return a->n_ints > 0;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS: return a->n_floats > 0;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: return a->has_s;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: return a->has_i;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: return a->has_f;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR: return a->t != NULL;
  default: return false;
  }
}

static zn_status get_int(const Onnx__NodeProto *n, const char *name, int64_t def, int64_t *out) {
  const Onnx__AttributeProto *a = find_attr(n, name);
  *out = def;
  if (!a) return ZN_OK;
  if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT)) return attr_type_error(n, name, "an int");
  *out = a->i;
  return ZN_OK;
}

static zn_status get_float(const Onnx__NodeProto *n, const char *name, float def, float *out) {
  const Onnx__AttributeProto *a = find_attr(n, name);
  *out = def;
  if (!a) return ZN_OK;
  if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT)) return attr_type_error(n, name, "a float");
  *out = a->f;
  return ZN_OK;
}

/* Returns the number of ints (-1 when absent); at most max are copied. */
static zn_status get_ints(const Onnx__NodeProto *n, const char *name, int max, int64_t *vals, int *count) {
  const Onnx__AttributeProto *a = find_attr(n, name);
  *count = -1;
  if (!a) return ZN_OK;
  if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS) &&
      !(a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED && a->n_ints == 0))
    return attr_type_error(n, name, "a list of ints");
  if (a->n_ints > (size_t)max)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): attribute '%s' has %zu values (max %d)",
                    node_label(n), n->op_type, name, a->n_ints, max);
  for (size_t i = 0; i < a->n_ints; i++) vals[i] = a->ints[i];
  *count = (int)a->n_ints;
  return ZN_OK;
}

/* String attribute into buf ("" when absent). */
static zn_status get_string(const Onnx__NodeProto *n, const char *name, char *buf, size_t size) {
  const Onnx__AttributeProto *a = find_attr(n, name);
  buf[0] = '\0';
  if (!a) return ZN_OK;
  if (!attr_is(a, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING)) return attr_type_error(n, name, "a string");
  size_t len = a->s.len < size - 1 ? a->s.len : size - 1;
  if (len) memcpy(buf, a->s.data, len);
  buf[len] = '\0';
  return ZN_OK;
}

static zn_status unsupported_attr(const ctx *c, const Onnx__NodeProto *n, const char *what) {
  return zn_error(ZN_ERR_UNSUPPORTED_OP, "unsupported op '%s' (node '%s', opset %lld): %s", n->op_type,
                  node_label(n), (long long)c->opset, what);
}

/* ---- constant inputs ---- */

static const zn_value *input_value(const ctx *c, const Onnx__NodeProto *n, size_t k) {
  if (k >= n->n_input || !n->input[k] || !*n->input[k]) return NULL;
  int id = map_find(c, n->input[k]);
  return id >= 0 ? &c->g->values[id] : NULL;
}

static bool input_present(const Onnx__NodeProto *n, size_t k) {
  return k < n->n_input && n->input[k] && *n->input[k];
}

/* Input k as a constant list of ints (int64 or int32), at most max. */
static zn_status const_ints(const ctx *c, const Onnx__NodeProto *n, size_t k, const char *what, int max,
                            int64_t *vals, int *count) {
  const zn_value *v = input_value(c, n, k);
  if (!v || !v->data || v->batch_elems)
    return unsupported_attr(c, n, what);
  size_t es = v->dtype == ZN_DTYPE_INT64 ? 8 : v->dtype == ZN_DTYPE_INT32 ? 4 : 0;
  if (!es || v->num_dims > 1)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): input '%s' must be a 1-D int64 tensor",
                    node_label(n), n->op_type, v->name);
  size_t cnt = v->data_bytes / es;
  if (cnt > (size_t)max)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): input '%s' has %zu values (max %d)",
                    node_label(n), n->op_type, v->name, cnt, max);
  for (size_t i = 0; i < cnt; i++)
    vals[i] = es == 8 ? ((const int64_t *)v->data)[i] : ((const int32_t *)v->data)[i];
  *count = (int)cnt;
  return ZN_OK;
}

/* Input k as a constant scalar float (Clip min/max, Pad value). */
static zn_status const_float(const ctx *c, const Onnx__NodeProto *n, size_t k, const char *what, float *out) {
  const zn_value *v = input_value(c, n, k);
  if (!v || !v->data) return unsupported_attr(c, n, what);
  size_t es = v->dtype == ZN_DTYPE_FLOAT32 ? 4 : v->dtype == ZN_DTYPE_FLOAT64 ? 8 : v->dtype == ZN_DTYPE_INT64 ? 8
            : v->dtype == ZN_DTYPE_INT32 ? 4
            : (v->dtype == ZN_DTYPE_UINT8 || v->dtype == ZN_DTYPE_INT8 || v->dtype == ZN_DTYPE_BOOL) ? 1 : 0;
  if (!es || v->data_bytes != es)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): input '%s' must be a scalar",
                    node_label(n), n->op_type, v->name);
  switch (v->dtype) {
  case ZN_DTYPE_FLOAT32: *out = *(const float *)v->data; break;
  case ZN_DTYPE_FLOAT64: *out = (float)*(const double *)v->data; break;
  case ZN_DTYPE_INT64: *out = (float)*(const int64_t *)v->data; break;
  case ZN_DTYPE_INT32: *out = (float)*(const int32_t *)v->data; break;
  case ZN_DTYPE_UINT8: case ZN_DTYPE_BOOL: *out = (float)*(const uint8_t *)v->data; break;
  default: *out = (float)*(const int8_t *)v->data; break;
  }
  return ZN_OK;
}

/* ---- per-op attribute translation ---- */

static zn_status parse_auto_pad(const Onnx__NodeProto *n, zn_auto_pad *out) {
  char s[32];
  ZN_TRY(get_string(n, "auto_pad", s, sizeof s));
  if (!*s || strcmp(s, "NOTSET") == 0) *out = ZN_AUTO_PAD_NOTSET;
  else if (strcmp(s, "SAME_UPPER") == 0) *out = ZN_AUTO_PAD_SAME_UPPER;
  else if (strcmp(s, "SAME_LOWER") == 0) *out = ZN_AUTO_PAD_SAME_LOWER;
  else if (strcmp(s, "VALID") == 0) *out = ZN_AUTO_PAD_VALID;
  else
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): unknown auto_pad '%s'", node_label(n),
                    n->op_type, s);
  return ZN_OK;
}

/* kernel (given), strides, dilations, pads shared by Conv and pools. */
static zn_status parse_window(const Onnx__NodeProto *n, int ns, int64_t *stride, int64_t *dilation, int64_t *pb,
                              int64_t *pe, zn_auto_pad *auto_pad) {
  int64_t tmp[2 * ZN_MAX_SPATIAL];
  int cnt;
  for (int i = 0; i < ns; i++) stride[i] = dilation[i] = 1, pb[i] = pe[i] = 0;
  ZN_TRY(get_ints(n, "strides", ZN_MAX_SPATIAL, tmp, &cnt));
  if (cnt >= 0) {
    if (cnt != ns) goto bad;
    for (int i = 0; i < ns; i++) stride[i] = tmp[i];
  }
  ZN_TRY(get_ints(n, "dilations", ZN_MAX_SPATIAL, tmp, &cnt));
  if (cnt >= 0) {
    if (cnt != ns) goto bad;
    for (int i = 0; i < ns; i++) dilation[i] = tmp[i];
  }
  ZN_TRY(get_ints(n, "pads", 2 * ZN_MAX_SPATIAL, tmp, &cnt));
  if (cnt >= 0) {
    if (cnt != 2 * ns) goto bad;
    for (int i = 0; i < ns; i++) pb[i] = tmp[i], pe[i] = tmp[ns + i];
  }
  ZN_TRY(parse_auto_pad(n, auto_pad));
  return ZN_OK;
bad:
  return zn_error(ZN_ERR_INVALID_MODEL,
                  "failed to import node '%s' (%s): strides/dilations/pads do not match %d spatial dims",
                  node_label(n), n->op_type, ns);
}

static zn_status import_conv(ctx *c, const Onnx__NodeProto *n, zn_conv_attrs *a) {
  int64_t k[ZN_MAX_SPATIAL];
  int cnt;
  ZN_TRY(get_ints(n, "kernel_shape", ZN_MAX_SPATIAL, k, &cnt));
  if (cnt < 0) { /* from the weights' shape */
    const zn_value *w = input_value(c, n, 1);
    if (!w || w->num_dims < 3 || w->num_dims > 2 + ZN_MAX_SPATIAL)
      return unsupported_attr(c, n, "no kernel_shape and the weights' shape is unknown");
    cnt = w->num_dims - 2;
    for (int i = 0; i < cnt; i++) k[i] = w->dims[2 + i];
  }
  if (cnt < 1)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Conv): empty kernel_shape", node_label(n));
  a->num_spatial = cnt;
  for (int i = 0; i < cnt; i++) a->kernel[i] = k[i];
  ZN_TRY(parse_window(n, cnt, a->stride, a->dilation, a->pad_begin, a->pad_end, &a->auto_pad));
  ZN_TRY(get_int(n, "group", 1, &a->group));
  return ZN_OK;
}

static zn_status import_pool(ctx *c, const Onnx__NodeProto *n, bool is_max, zn_pool_attrs *a) {
  int64_t k[ZN_MAX_SPATIAL];
  int cnt;
  ZN_TRY(get_ints(n, "kernel_shape", ZN_MAX_SPATIAL, k, &cnt));
  if (cnt < 1)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): kernel_shape is required", node_label(n),
                    n->op_type);
  a->num_spatial = cnt;
  for (int i = 0; i < cnt; i++) a->kernel[i] = k[i];
  ZN_TRY(parse_window(n, cnt, a->stride, a->dilation, a->pad_begin, a->pad_end, &a->auto_pad));
  int64_t v;
  ZN_TRY(get_int(n, "ceil_mode", 0, &v));
  a->ceil_mode = v != 0;
  if (!is_max) {
    ZN_TRY(get_int(n, "count_include_pad", 0, &v));
    a->count_include_pad = v != 0;
  } else {
    ZN_TRY(get_int(n, "storage_order", 0, &v));
    if (v != 0 && n->n_output > 1 && n->output[1] && *n->output[1])
      return unsupported_attr(c, n, "storage_order=1 with an Indices output");
  }
  return ZN_OK;
}

static zn_status import_clip(ctx *c, const Onnx__NodeProto *n, zn_act *a) {
  a->kind = ZN_ACT_CLIP;
  a->alpha = -INFINITY;
  a->beta = INFINITY;
  if (c->opset < 11) {
    ZN_TRY(get_float(n, "min", -INFINITY, &a->alpha));
    ZN_TRY(get_float(n, "max", INFINITY, &a->beta));
    return ZN_OK;
  }
  if (input_present(n, 1)) ZN_TRY(const_float(c, n, 1, "Clip min must be a constant", &a->alpha));
  if (input_present(n, 2)) ZN_TRY(const_float(c, n, 2, "Clip max must be a constant", &a->beta));
  return ZN_OK;
}

/* *pads_from_input: the pads are not a constant yet; the node keeps its inputs. */
static zn_status import_pad(ctx *c, const Onnx__NodeProto *n, zn_pad_attrs *a, bool *pads_from_input) {
  char mode[32];
  ZN_TRY(get_string(n, "mode", mode, sizeof mode));
  if (!*mode || strcmp(mode, "constant") == 0) a->mode = ZN_PAD_CONSTANT;
  else if (strcmp(mode, "reflect") == 0) a->mode = ZN_PAD_REFLECT;
  else if (strcmp(mode, "edge") == 0) a->mode = ZN_PAD_EDGE;
  else return unsupported_attr(c, n, "Pad mode is not constant, reflect or edge");
  int64_t pads[2 * ZN_MAX_DIMS];
  int cnt;
  if (c->opset < 11) {
    ZN_TRY(get_ints(n, "pads", 2 * ZN_MAX_DIMS, pads, &cnt));
    if (cnt < 0) ZN_TRY(get_ints(n, "paddings", 2 * ZN_MAX_DIMS, pads, &cnt)); /* opset 1 */
    if (cnt < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Pad): pads missing", node_label(n));
    ZN_TRY(get_float(n, "value", 0.0f, &a->value));
  } else {
    const zn_value *vp = input_value(c, n, 1);
    if (vp && !vp->data && !input_present(n, 3)) {
      /* pads computed by nodes (Swin: from the input's shape via Mod): kept as
       * inputs; shape inference reads them once known and moves them here */
      a->num_pads = 0;
      *pads_from_input = true;
      return ZN_OK;
    }
    ZN_TRY(const_ints(c, n, 1, "Pad pads must be a constant", 2 * ZN_MAX_DIMS, pads, &cnt));
    if (input_present(n, 2)) ZN_TRY(const_float(c, n, 2, "Pad constant_value must be a constant", &a->value));
    if (input_present(n, 3)) { /* opset 18 axes: expand to all axes needs the rank, known from the data input */
      const zn_value *x = input_value(c, n, 0);
      int64_t axes[ZN_MAX_DIMS];
      int na;
      ZN_TRY(const_ints(c, n, 3, "Pad axes must be a constant", ZN_MAX_DIMS, axes, &na));
      if (!x || x->num_dims < 0) return unsupported_attr(c, n, "Pad axes on an input of unknown rank");
      int r = x->num_dims;
      if (cnt != 2 * na)
        return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Pad): %d pads for %d axes", node_label(n),
                        cnt, na);
      int64_t full[2 * ZN_MAX_DIMS] = {0};
      for (int i = 0; i < na; i++) {
        int64_t ax = axes[i] < 0 ? axes[i] + r : axes[i];
        if (ax < 0 || ax >= r)
          return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Pad): axis %lld out of range",
                          node_label(n), (long long)axes[i]);
        full[ax] = pads[i];
        full[r + ax] = pads[na + i];
      }
      memcpy(pads, full, sizeof full);
      cnt = 2 * r;
    }
  }
  if (cnt % 2)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Pad): odd number of pads (%d)", node_label(n),
                    cnt);
  a->num_pads = cnt;
  for (int i = 0; i < cnt; i++) a->pads[i] = pads[i];
  return ZN_OK;
}

/* Squeeze / Unsqueeze / ReduceMean axes: attribute before `input_opset`, input from then on. */
static zn_status import_axes(ctx *c, const Onnx__NodeProto *n, int64_t input_opset, int64_t *axes, int *num) {
  int cnt;
  if (c->opset < input_opset) {
    ZN_TRY(get_ints(n, "axes", ZN_MAX_DIMS, axes, &cnt));
  } else if (input_present(n, 1)) {
    char why[96];
    snprintf(why, sizeof why, "%s axes must be a constant", n->op_type);
    ZN_TRY(const_ints(c, n, 1, why, ZN_MAX_DIMS, axes, &cnt));
  } else {
    cnt = -1;
  }
  *num = cnt < 0 ? 0 : cnt;
  return ZN_OK;
}

static zn_status make_dtype(const ctx *c, const Onnx__NodeProto *n, int64_t t, zn_dtype *out) {
  if (!zn_onnx_dtype_size((int32_t)t)) {
    char why[96];
    snprintf(why, sizeof why, "Cast to dtype %s is not supported", zn_onnx_dtype_name((int32_t)t));
    return unsupported_attr(c, n, why);
  }
  *out = (zn_dtype)t;
  return ZN_OK;
}

/* ConstantOfShape's value: a one-element tensor of a dtype the IR holds; float32 0 when absent. */
static zn_status import_fill(ctx *c, const Onnx__NodeProto *n, zn_fill_attrs *a) {
  a->dtype = ZN_DTYPE_FLOAT32;
  memset(a->value, 0, sizeof a->value);
  const Onnx__AttributeProto *at = find_attr(n, "value");
  if (!at) return ZN_OK;
  if (!at->t) return attr_type_error(n, "value", "a tensor");
  zn_onnx_tensor t = {0};
  char what[600];
  snprintf(what, sizeof what, "ConstantOfShape '%.500s' value", node_label(n));
  ZN_TRY(zn_onnx_tensor_decode(at->t, c->base_dir, c->max_bytes, what, &t));
  const size_t es = zn_dtype_size(t.dtype);
  zn_status st = ZN_OK;
  if (es == 0 || es > sizeof a->value || t.data_bytes != es)
    st = zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (ConstantOfShape): value must hold one element "
                  "of a numeric dtype, has %zu bytes of %s", node_label(n), t.data_bytes, zn_dtype_name(t.dtype));
  else
    a->dtype = t.dtype, memcpy(a->value, t.data, es);
  zn_free(t.name);
  zn_free_aligned(t.data);
  return st;
}

/* Constant node -> constant value. */
static zn_status import_constant(ctx *c, const Onnx__NodeProto *n) {
  if (n->n_output != 1 || !n->output[0] || !*n->output[0])
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Constant): needs one output", node_label(n));
  const Onnx__AttributeProto *a = NULL;
  for (size_t i = 0; i < n->n_attribute; i++) {
    const char *nm = n->attribute[i]->name;
    if (nm && strncmp(nm, "value", 5) == 0) { a = n->attribute[i]; break; }
    if (nm && strcmp(nm, "sparse_value") == 0) { a = n->attribute[i]; break; }
  }
  if (!a) return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Constant): no value", node_label(n));
  zn_onnx_tensor t = {0};
  const char *out = n->output[0];
  char what[600];
  snprintf(what, sizeof what, "Constant '%.500s'", out);
  if (strcmp(a->name, "value") == 0) {
    if (!a->t) return attr_type_error(n, "value", "a tensor");
    ZN_TRY(zn_onnx_tensor_decode(a->t, c->base_dir, c->max_bytes, what, &t));
  } else if (strcmp(a->name, "value_float") == 0 || strcmp(a->name, "value_int") == 0) {
    bool is_f = a->name[6] == 'f';
    t.dtype = is_f ? ZN_DTYPE_FLOAT32 : ZN_DTYPE_INT64;
    t.num_dims = 0;
    t.data_bytes = is_f ? 4 : 8;
    if (!(t.data = zn_alloc_aligned(t.data_bytes))) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to import: out of memory");
    if (is_f) *(float *)t.data = a->f;
    else *(int64_t *)t.data = a->i;
  } else if (strcmp(a->name, "value_floats") == 0 || strcmp(a->name, "value_ints") == 0) {
    bool is_f = a->name[6] == 'f';
    size_t cnt = is_f ? a->n_floats : a->n_ints;
    t.dtype = is_f ? ZN_DTYPE_FLOAT32 : ZN_DTYPE_INT64;
    t.num_dims = 1;
    t.dims[0] = (int64_t)cnt;
    t.data_bytes = cnt * (is_f ? 4 : 8);
    if (!(t.data = zn_alloc_aligned(t.data_bytes))) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to import: out of memory");
    if (cnt) memcpy(t.data, is_f ? (const void *)a->floats : (const void *)a->ints, t.data_bytes);
  } else {
    char why[96];
    snprintf(why, sizeof why, "Constant attribute '%.40s' is not supported", a->name);
    return unsupported_attr(c, n, why);
  }
  return add_const_tensor(c, out, &t, NULL);
}

/* The value name of LayerNormalization output k (1: Mean, 2: InvStdDev); an unnamed
 * one that precedes a read one gets a made-up name, so the IR holds a real value. */
static const char *ln_stat_name(const Onnx__NodeProto *n, size_t k, char *buf, size_t buf_size) {
  if (n->output[k] && *n->output[k]) return n->output[k];
  snprintf(buf, buf_size, "%.200s:%s", n->output[0], k == 1 ? "Mean" : "InvStdDev");
  return buf;
}

/* Values for LayerNormalization's Mean and InvStdDev, up to the last one read. */
static zn_status add_ln_stat_values(ctx *c, const Onnx__NodeProto *n) {
  size_t last = 0;
  for (size_t k = 1; k < n->n_output && k < ZN_MAX_NODE_OUTPUTS; k++)
    if (n->output[k] && *n->output[k] && name_is_used(c, n->output[k])) last = k;
  for (size_t k = 1; k <= last; k++) {
    char buf[256];
    const char *o = ln_stat_name(n, k, buf, sizeof buf);
    if (map_find(c, o) >= 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): value '%s' is defined twice",
                      node_label(n), n->op_type, o);
    int id;
    ZN_TRY(zn_graph_add_value(c->g, o, ZN_DTYPE_UNDEFINED, &id));
    ZN_TRY(map_put(c, id));
  }
  return ZN_OK;
}

/* How many outputs of this op the IR keeps; extra outputs must be unused (or are refused),
 * except LayerNormalization's Mean and InvStdDev: kept up to the last one read. */
static zn_status check_outputs(ctx *c, const Onnx__NodeProto *n, zn_op op, int *keep) {
  *keep = 1;
  if (n->n_output < 1 || !n->output[0] || !*n->output[0])
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): no output", node_label(n), n->op_type);
  for (size_t k = 1; k < n->n_output; k++) {
    const char *o = n->output[k];
    if (!o || !*o) continue;
    bool used = name_is_used(c, o);
    if (op == ZN_OP_BATCH_NORM && used) return unsupported_attr(c, n, "training outputs (mean/var) are not supported");
    if (op == ZN_OP_MAX_POOL && used) return unsupported_attr(c, n, "the Indices output is not supported");
    if (op == ZN_OP_IDENTITY && used) return unsupported_attr(c, n, "the Dropout mask output is not supported");
    if (op == ZN_OP_LAYER_NORM && k < ZN_MAX_NODE_OUTPUTS && used) *keep = (int)k + 1;
    if (op != ZN_OP_BATCH_NORM && op != ZN_OP_MAX_POOL && op != ZN_OP_IDENTITY && op != ZN_OP_LAYER_NORM)
      return unsupported_attr(c, n, "more than one output");
  }
  return ZN_OK;
}

/* Map an ONNX op name to the IR op; aliases (Dropout) included. */
static bool map_op(const char *op_type, zn_op *op) {
  if (strcmp(op_type, "Dropout") == 0) { *op = ZN_OP_IDENTITY; return true; }
  return zn_op_from_onnx(op_type, op);
}

static zn_status resolve_input(ctx *c, const Onnx__NodeProto *n, size_t k, int *id) {
  if (!input_present(n, k)) { *id = ZN_NO_VALUE; return ZN_OK; }
  *id = map_find(c, n->input[k]);
  if (*id < 0)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): input '%s' is not defined by any node, "
                    "initializer or graph input", node_label(n), n->op_type, n->input[k]);
  return ZN_OK;
}

static zn_status import_node(ctx *c, const Onnx__NodeProto *n) {
  zn_op op;
  if (!map_op(n->op_type, &op))
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "unsupported op '%s' (node '%s', opset %lld)", n->op_type, node_label(n),
                    (long long)c->opset);
  zn_node tmp;
  memset(&tmp, 0, sizeof tmp);
  /* Inputs the IR keeps: by default all of them. */
  size_t num_in = n->n_input;
  int ins_extra[3] = {0};
  int num_extra = 0;
  int64_t v;
  switch (op) {
  case ZN_OP_CONV:
    ZN_TRY(import_conv(c, n, &tmp.attrs.conv));
    if (num_in > 3) num_in = 3;
    break;
  case ZN_OP_MAX_POOL: case ZN_OP_AVERAGE_POOL:
    ZN_TRY(import_pool(c, n, op == ZN_OP_MAX_POOL, &tmp.attrs.pool));
    break;
  case ZN_OP_GEMM: {
    zn_gemm_attrs *a = &tmp.attrs.gemm;
    ZN_TRY(get_int(n, "transA", 0, &v)); a->trans_a = v != 0;
    ZN_TRY(get_int(n, "transB", 0, &v)); a->trans_b = v != 0;
    ZN_TRY(get_float(n, "alpha", 1.0f, &a->alpha));
    ZN_TRY(get_float(n, "beta", 1.0f, &a->beta));
    break;
  }
  case ZN_OP_ADD: case ZN_OP_SUB: case ZN_OP_MUL: case ZN_OP_DIV: case ZN_OP_EQUAL:
    if (c->opset < 7 && find_attr(n, "axis"))
      return unsupported_attr(c, n, "legacy broadcast with an axis attribute");
    break;
  case ZN_OP_RELU: tmp.attrs.act.kind = ZN_ACT_RELU; break;
  case ZN_OP_SIGMOID: tmp.attrs.act.kind = ZN_ACT_SIGMOID; break;
  case ZN_OP_TANH: tmp.attrs.act.kind = ZN_ACT_TANH; break;
  case ZN_OP_HARD_SWISH: tmp.attrs.act.kind = ZN_ACT_HARD_SWISH; break;
  case ZN_OP_LEAKY_RELU:
    tmp.attrs.act.kind = ZN_ACT_LEAKY_RELU;
    ZN_TRY(get_float(n, "alpha", 0.01f, &tmp.attrs.act.alpha));
    break;
  case ZN_OP_HARD_SIGMOID:
    tmp.attrs.act.kind = ZN_ACT_HARD_SIGMOID;
    ZN_TRY(get_float(n, "alpha", 0.2f, &tmp.attrs.act.alpha));
    ZN_TRY(get_float(n, "beta", 0.5f, &tmp.attrs.act.beta));
    break;
  case ZN_OP_CLIP:
    ZN_TRY(import_clip(c, n, &tmp.attrs.act));
    num_in = 1;
    break;
  case ZN_OP_SOFTMAX:
    ZN_TRY(get_int(n, "axis", c->opset < 13 ? 1 : -1, &tmp.attrs.softmax.axis));
    tmp.attrs.softmax.legacy_2d = c->opset < 13;
    break;
  case ZN_OP_REDUCE_MEAN: {
    zn_reduce_attrs *a = &tmp.attrs.reduce;
    ZN_TRY(import_axes(c, n, 18, a->axes, &a->num_axes));
    ZN_TRY(get_int(n, "keepdims", 1, &v)); a->keepdims = v != 0;
    ZN_TRY(get_int(n, "noop_with_empty_axes", 0, &v));
    num_in = 1;
    if (v && a->num_axes == 0) op = ZN_OP_IDENTITY; /* reduce nothing */
    break;
  }
  case ZN_OP_LAYER_NORM:
    ZN_TRY(get_int(n, "axis", -1, &tmp.attrs.layer_norm.axis));
    ZN_TRY(get_float(n, "epsilon", 1e-5f, &tmp.attrs.layer_norm.epsilon));
    ZN_TRY(get_int(n, "stash_type", 1, &v));
    if (v != 1) return unsupported_attr(c, n, "stash_type other than 1 (float32)");
    break;
  case ZN_OP_SWISH:
    tmp.attrs.act.kind = ZN_ACT_SWISH;
    ZN_TRY(get_float(n, "alpha", 1.0f, &tmp.attrs.act.alpha));
    break;
  case ZN_OP_GELU: {
    char approx[16];
    ZN_TRY(get_string(n, "approximate", approx, sizeof approx));
    if (*approx && strcmp(approx, "none") != 0) return unsupported_attr(c, n, "approximate other than 'none'");
    tmp.attrs.act.kind = ZN_ACT_GELU;
    break;
  }
  case ZN_OP_BATCH_NORM:
    ZN_TRY(get_float(n, "epsilon", 1e-5f, &tmp.attrs.batch_norm.epsilon));
    ZN_TRY(get_int(n, "training_mode", 0, &v));
    if (v) return unsupported_attr(c, n, "training_mode=1");
    ZN_TRY(get_int(n, "spatial", 1, &v));
    if (!v) return unsupported_attr(c, n, "spatial=0");
    break;
  case ZN_OP_LRN: {
    zn_lrn_attrs *a = &tmp.attrs.lrn;
    ZN_TRY(get_int(n, "size", 0, &a->size));
    ZN_TRY(get_float(n, "alpha", 1e-4f, &a->alpha));
    ZN_TRY(get_float(n, "beta", 0.75f, &a->beta));
    ZN_TRY(get_float(n, "bias", 1.0f, &a->bias));
    break;
  }
  case ZN_OP_CONCAT: {
    const Onnx__AttributeProto *a = find_attr(n, "axis");
    if (!a && c->opset >= 4)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Concat): axis is required", node_label(n));
    ZN_TRY(get_int(n, "axis", 1, &tmp.attrs.axis.axis));
    break;
  }
  case ZN_OP_FLATTEN: ZN_TRY(get_int(n, "axis", 1, &tmp.attrs.axis.axis)); break;
  case ZN_OP_GATHER: ZN_TRY(get_int(n, "axis", 0, &tmp.attrs.axis.axis)); break;
  case ZN_OP_RESHAPE:
    ZN_TRY(get_int(n, "allowzero", 0, &v));
    tmp.attrs.reshape.allowzero = v != 0;
    if (c->opset < 5) { /* shape attribute -> constant input */
      int64_t shape[ZN_MAX_DIMS];
      int cnt;
      ZN_TRY(get_ints(n, "shape", ZN_MAX_DIMS, shape, &cnt));
      if (cnt < 0)
        return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Reshape): shape missing", node_label(n));
      int64_t d = cnt;
      ZN_TRY(add_made_const(c, node_label(n), "shape", ZN_DTYPE_INT64, 1, &d, shape, (size_t)cnt * 8, &ins_extra[0]));
      num_in = 1;
      num_extra = 1;
    }
    break;
  case ZN_OP_TRANSPOSE: {
    int cnt;
    ZN_TRY(get_ints(n, "perm", ZN_MAX_DIMS, tmp.attrs.transpose.perm, &cnt));
    tmp.attrs.transpose.num_perm = cnt < 0 ? 0 : cnt; /* 0: reverse the axes */
    break;
  }
  case ZN_OP_SQUEEZE: case ZN_OP_UNSQUEEZE:
    ZN_TRY(import_axes(c, n, 13, tmp.attrs.axes.axes, &tmp.attrs.axes.num_axes));
    num_in = 1;
    break;
  case ZN_OP_PAD: {
    bool keep = false;
    ZN_TRY(import_pad(c, n, &tmp.attrs.pad, &keep));
    num_in = keep ? ZN_MIN(n->n_input, (size_t)3) : 1;
    break;
  }
  case ZN_OP_MOD:
    ZN_TRY(get_int(n, "fmod", 0, &v));
    if (v != 0 && v != 1)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Mod): fmod = %lld, must be 0 or 1",
                      node_label(n), (long long)v);
    tmp.attrs.mod.fmod = v != 0;
    break;
  case ZN_OP_SCATTER_ND: {
    char red[16];
    ZN_TRY(get_string(n, "reduction", red, sizeof red));
    if (!*red || strcmp(red, "none") == 0) tmp.attrs.scatter.reduction = ZN_SCATTER_NONE;
    else if (strcmp(red, "add") == 0) tmp.attrs.scatter.reduction = ZN_SCATTER_ADD;
    else if (strcmp(red, "mul") == 0) tmp.attrs.scatter.reduction = ZN_SCATTER_MUL;
    else return unsupported_attr(c, n, "ScatterND reduction other than none, add or mul");
    break;
  }
  case ZN_OP_IDENTITY:
    if (strcmp(n->op_type, "Dropout") == 0) {
      if (input_present(n, 2)) {
        float train = 1.0f;
        ZN_TRY(const_float(c, n, 2, "Dropout training_mode must be a constant", &train));
        /* torchvision 0.14's Swin calls F.dropout(p=0) in training mode: with ratio 0
         * nothing is dropped and the scale is 1, so it is the identity all the same */
        float ratio = 0.5f;
        if (train != 0.0f && input_present(n, 1))
          ZN_TRY(const_float(c, n, 1, "Dropout ratio must be a constant", &ratio));
        if (train != 0.0f && ratio != 0.0f) return unsupported_attr(c, n, "training_mode=true with a non-zero ratio");
      }
      ZN_TRY(get_int(n, "is_test", 1, &v));
      if (c->opset < 7 && !v) return unsupported_attr(c, n, "is_test=0");
    }
    num_in = 1;
    break;
  case ZN_OP_SHAPE: {
    zn_shape_attrs *a = &tmp.attrs.shape;
    ZN_TRY(get_int(n, "start", 0, &a->start));
    a->has_end = find_attr(n, "end") != NULL;
    ZN_TRY(get_int(n, "end", 0, &a->end));
    break;
  }
  case ZN_OP_CAST:
    if (!find_attr(n, "to"))
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Cast): 'to' is required", node_label(n));
    ZN_TRY(get_int(n, "to", 0, &v));
    ZN_TRY(make_dtype(c, n, v, &tmp.attrs.cast.to));
    break;
  case ZN_OP_CONSTANT_OF_SHAPE:
    ZN_TRY(import_fill(c, n, &tmp.attrs.fill));
    break;
  case ZN_OP_SLICE:
    if (c->opset < 10) { /* starts/ends/axes attributes -> constant inputs */
      static const char *const names[3] = {"starts", "ends", "axes"};
      for (int i = 0; i < 3; i++) {
        int64_t vals[ZN_MAX_DIMS];
        int cnt;
        ZN_TRY(get_ints(n, names[i], ZN_MAX_DIMS, vals, &cnt));
        if (cnt < 0) {
          if (i < 2)
            return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (Slice): '%s' is required",
                            node_label(n), names[i]);
          break;
        }
        int64_t d = cnt;
        ZN_TRY(add_made_const(c, node_label(n), names[i], ZN_DTYPE_INT64, 1, &d, vals, (size_t)cnt * 8,
                              &ins_extra[i]));
        num_extra++;
      }
      num_in = 1;
    }
    break;
  default: break;
  }

  int keep_out;
  ZN_TRY(check_outputs(c, n, op, &keep_out));
  size_t total_in = num_in + (size_t)num_extra;
  if (total_in > 65535)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): %zu inputs", node_label(n), n->op_type,
                    total_in);
  int small_ins[ZN_MAX_NODE_INPUTS];
  int *ins = total_in > ZN_MAX_NODE_INPUTS ? zn_malloc(total_in * sizeof(int)) : small_ins;
  if (!ins) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to import: out of memory");
  zn_status st = ZN_OK;
  for (size_t k = 0; k < num_in && st == ZN_OK; k++) st = resolve_input(c, n, k, &ins[k]);
  for (int k = 0; k < num_extra; k++) ins[num_in + (size_t)k] = ins_extra[k];
  int outs[ZN_MAX_NODE_OUTPUTS];
  int idx = -1;
  if (st == ZN_OK) {
    for (int k = 0; k < keep_out; k++) {
      char buf[256];
      outs[k] = map_find(c, k ? ln_stat_name(n, (size_t)k, buf, sizeof buf) : n->output[0]);
    }
    st = zn_graph_add_node(c->g, op, node_label(n), (int)total_in, ins, keep_out, outs, &idx);
  }
  if (ins != small_ins) zn_free(ins);
  ZN_TRY(st);
  c->g->nodes[idx].attrs = tmp.attrs;
  return ZN_OK;
}

/* ---- graph inputs ---- */

static zn_status import_input(ctx *c, const Onnx__ValueInfoProto *vi) {
  const char *name = vi->name ? vi->name : "";
  if (!*name) return zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: a graph input has no name");
  if (map_find(c, name) >= 0) return ZN_OK; /* an initializer listed as an input: a constant */
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to import graph input '%s': only tensor inputs are supported", name);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (!zn_onnx_dtype_size(tt->elem_type))
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to import graph input '%s': dtype %s is not supported", name,
                    zn_onnx_dtype_name(tt->elem_type));
  if (!tt->shape)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import graph input '%s': it has no shape", name);
  const Onnx__TensorShapeProto *sp = tt->shape;
  if (sp->n_dim > ZN_MAX_DIMS)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import graph input '%s': rank %zu exceeds %d", name, sp->n_dim,
                    ZN_MAX_DIMS);
  int id;
  ZN_TRY(zn_graph_add_value(c->g, name, (zn_dtype)tt->elem_type, &id));
  zn_value *v = &c->g->values[id];
  v->num_dims = (int)sp->n_dim;
  int64_t numel = 1;
  for (size_t i = 0; i < sp->n_dim; i++) {
    const Onnx__TensorShapeProto__Dimension *d = sp->dim[i];
    bool fixed = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value > 0;
    if (i == 0 && (!fixed || d->dim_value == 1)) {
      if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && d->dim_value < 0)
        return zn_error(ZN_ERR_INVALID_MODEL, "failed to import graph input '%s': dim 0 = %lld is negative", name,
                        (long long)d->dim_value);
      v->batch_axis = 0;
      v->dims[0] = 1;
      continue;
    }
    if (!fixed) {
      if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
        return zn_error(ZN_ERR_INVALID_MODEL,
                        "failed to import graph input '%s': dim %zu is symbolic ('%s'); only dim 0 may be dynamic",
                        name, i, d->dim_param ? d->dim_param : "");
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import graph input '%s': dim %zu = %lld must be a fixed size > 0",
                      name, i, (long long)d->dim_value);
    }
    if (__builtin_mul_overflow(numel, d->dim_value, &numel))
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import graph input '%s': element count overflows", name);
    v->dims[i] = d->dim_value;
  }
  ZN_TRY(map_put(c, id));
  return zn_graph_mark_input(c->g, id);
}

/* Double constants: our kernels compute in float32, so a double constant that
 * only feeds float ops (weights, elementwise operands of float tensors) is
 * narrowed; anything else stays double and is refused. */
static bool op_is_float_typed(zn_op op) {
  switch (op) {
  case ZN_OP_CONV: case ZN_OP_GEMM: case ZN_OP_MATMUL: case ZN_OP_BATCH_NORM: case ZN_OP_ADD: case ZN_OP_SUB:
  case ZN_OP_MUL: case ZN_OP_DIV: case ZN_OP_SUM: case ZN_OP_POW: case ZN_OP_LAYER_NORM:
    return true;
  default: return false;
  }
}

static zn_status narrow_doubles(ctx *c) {
  zn_graph *g = c->g;
  bool graph_has_double = false;
  for (int i = 0; i < g->num_inputs; i++)
    if (g->values[g->inputs[i]].dtype == ZN_DTYPE_FLOAT64) graph_has_double = true;
  for (int vi = 0; vi < g->num_values; vi++) {
    zn_value *v = &g->values[vi];
    if (!v->data || v->dtype != ZN_DTYPE_FLOAT64) continue;
    bool ok = !graph_has_double && !v->is_output;
    const char *who = NULL;
    for (int i = 0; i < g->num_nodes && ok; i++) {
      const zn_node *n = &g->nodes[i];
      for (int k = 0; k < n->num_inputs; k++)
        if (zn_node_input(n, k) == vi && !op_is_float_typed(n->op)) { ok = false; who = n->name; break; }
    }
    if (!ok)
      return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to import constant '%s': dtype DOUBLE is not supported%s%s%s",
                      v->name, who ? " (read by node '" : "", who ? who : "", who ? "')" : "");
    size_t n = v->data_bytes / 8;
    float *f = zn_alloc_aligned(n * 4);
    if (!f) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to import: out of memory");
    for (size_t i = 0; i < n; i++) f[i] = (float)((const double *)v->data)[i];
    zn_free_aligned(v->data);
    v->data = f;
    v->data_bytes = n * 4;
    v->dtype = ZN_DTYPE_FLOAT32;
  }
  return ZN_OK;
}

/* Drop constants nothing reads: the axes/pads/min/max inputs folded into
 * attributes, and initializers the file never used. Value ids are renumbered. */
static zn_status drop_unused_constants(zn_graph *g) {
  int *remap = zn_calloc((size_t)g->num_values + 1, sizeof(int));
  if (!remap) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to import: out of memory");
  for (int i = 0; i < g->num_nodes; i++)
    for (int k = 0; k < g->nodes[i].num_inputs; k++) {
      int v = zn_node_input(&g->nodes[i], k);
      if (v >= 0) remap[v] = 1;
    }
  int next = 0;
  for (int v = 0; v < g->num_values; v++) {
    zn_value *val = &g->values[v];
    bool keep = remap[v] || !val->data || val->is_output || val->is_input;
    if (!keep) {
      zn_free(val->name);
      zn_free_aligned(val->data);
      remap[v] = -1;
      continue;
    }
    remap[v] = next;
    if (next != v) g->values[next] = *val;
    next++;
  }
  g->num_values = next;
  for (int i = 0; i < g->num_nodes; i++) {
    zn_node *n = &g->nodes[i];
    int *ins = n->inputs_ext ? n->inputs_ext : n->inputs;
    for (int k = 0; k < n->num_inputs; k++)
      if (ins[k] >= 0) ins[k] = remap[ins[k]];
    for (int k = 0; k < n->num_outputs; k++) n->outputs[k] = remap[n->outputs[k]];
  }
  for (int i = 0; i < g->num_inputs; i++) g->inputs[i] = remap[g->inputs[i]];
  for (int i = 0; i < g->num_outputs; i++) g->outputs[i] = remap[g->outputs[i]];
  zn_free(remap);
  return ZN_OK;
}

static zn_status import_graph(ctx *c, const Onnx__ModelProto *m) {
  const Onnx__GraphProto *gp = m->graph;
  zn_graph *g = c->g;
  if (gp->name && !(g->name = zn_strdup(gp->name))) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to import: out of memory");
  g->opset = c->opset;
  if (gp->n_sparse_initializer)
    return zn_error(ZN_ERR_UNSUPPORTED_OP, "failed to import model: sparse initializers are not supported");

  for (size_t i = 0; i < gp->n_initializer; i++) {
    const Onnx__TensorProto *t = gp->initializer[i];
    char what[600];
    snprintf(what, sizeof what, "initializer '%.500s'", t->name ? t->name : "");
    zn_onnx_tensor tensor;
    ZN_TRY(zn_onnx_tensor_decode(t, c->base_dir, c->max_bytes, what, &tensor));
    ZN_TRY(add_const_tensor(c, t->name ? t->name : "", &tensor, NULL));
  }
  for (size_t i = 0; i < gp->n_input; i++) ZN_TRY(import_input(c, gp->input[i]));

  /* Pass 1: domains, Constant nodes, one value per kept node output. */
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *n = gp->node[i];
    if (!n->op_type) return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node %zu: no op_type", i);
    if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx") != 0)
      return zn_error(ZN_ERR_UNSUPPORTED_OP, "unsupported op '%s' (node '%s', domain '%s'): only the default ONNX "
                      "domain is supported", n->op_type, node_label(n), n->domain);
    if (strcmp(n->op_type, "Constant") == 0) {
      ZN_TRY(import_constant(c, n));
      continue;
    }
    if (n->n_output < 1 || !n->output[0] || !*n->output[0]) continue; /* import_node reports it */
    /* Only the first output becomes a value here (and LayerNormalization's read Mean/InvStdDev);
     * check_outputs refuses other extra used outputs. */
    const char *o = n->output[0];
    if (map_find(c, o) >= 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import node '%s' (%s): value '%s' is defined twice",
                      node_label(n), n->op_type, o);
    int id;
    ZN_TRY(zn_graph_add_value(g, o, ZN_DTYPE_UNDEFINED, &id));
    ZN_TRY(map_put(c, id));
    if (strcmp(n->op_type, "LayerNormalization") == 0) ZN_TRY(add_ln_stat_values(c, n));
  }
  /* Pass 2: nodes. */
  for (size_t i = 0; i < gp->n_node; i++) {
    const Onnx__NodeProto *n = gp->node[i];
    if (strcmp(n->op_type, "Constant") == 0) continue;
    ZN_TRY(import_node(c, n));
  }
  for (size_t i = 0; i < gp->n_output; i++) {
    const char *name = gp->output[i]->name ? gp->output[i]->name : "";
    int id = map_find(c, name);
    if (id < 0)
      return zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: graph output '%s' is not produced by any node",
                      name);
    ZN_TRY(zn_graph_mark_output(g, id));
  }
  if (gp->n_output == 0) return zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: the graph has no outputs");
  ZN_TRY(narrow_doubles(c));
  return drop_unused_constants(g);
}

zn_status zn_onnx_import_memory(const void *data, size_t size, const char *base_dir, const zn_onnx_import_options *o,
                                zn_graph **out) {
  *out = NULL;
  size_t max_bytes = o && o->max_bytes ? o->max_bytes : ZN_ONNX_DEFAULT_MAX_BYTES;
  if (!data && size) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to import model: no data");
  if (size > max_bytes)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: %zu bytes exceed the cap of %zu bytes", size,
                    max_bytes);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
  if (!m)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: not a valid ONNX ModelProto (%zu bytes; truncated "
                    "or not protobuf)", size);
  zn_status st = ZN_OK;
  ctx c;
  memset(&c, 0, sizeof c);
  c.base_dir = base_dir;
  c.max_bytes = max_bytes;
  c.opset = -1;
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const Onnx__OperatorSetIdProto *os = m->opset_import[i];
    if (!os->domain || !*os->domain || strcmp(os->domain, "ai.onnx") == 0) c.opset = os->version;
  }
  if (!m->graph) {
    st = zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: it has no graph");
    goto done;
  }
  if (c.opset < 0) {
    if (m->n_opset_import == 0 && m->ir_version > 0 && m->ir_version < 3) c.opset = 1; /* before opset_import */
    else {
      st = zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: no opset_import for the default ONNX domain");
      goto done;
    }
  }
  if (c.opset < 1 || c.opset > 1000) {
    st = zn_error(ZN_ERR_INVALID_MODEL, "failed to import model: default-domain opset %lld is not valid",
                  (long long)c.opset);
    goto done;
  }
  c.gp = m->graph;
  st = zn_graph_create(&c.g);
  if (st != ZN_OK) goto done;
  st = import_graph(&c, m);
  if (st == ZN_OK) st = zn_graph_toposort(c.g);
  if (st == ZN_OK) st = zn_graph_verify(c.g);
done:
  zn_free(c.map.slots);
  onnx__model_proto__free_unpacked(m, NULL);
  if (st != ZN_OK) {
    zn_graph_destroy(c.g);
    return st;
  }
  *out = c.g;
  return ZN_OK;
}

zn_status zn_onnx_import_file(const char *path, const zn_onnx_import_options *o, zn_graph **out) {
  *out = NULL;
  void *buf;
  size_t size;
  ZN_TRY(zn_onnx_read_whole_file(path, o ? o->max_bytes : 0, &buf, &size));
  /* The model's folder resolves external data. */
  char dir[4096];
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  zn_status st = zn_onnx_import_memory(buf, size, dir, o, out);
  zn_free(buf);
  if (st != ZN_OK) return zn_error_prefix(st, "%s: ", path);
  return ZN_OK;
}
