/* A tiny ONNX ModelProto builder for tests: fixed-size storage in one struct,
 * filled with the protobuf-c types and packed to bytes, so each test can make
 * exactly the (often malformed) model it needs at run time. Header-only; each
 * test binary includes it once. */
#ifndef ZN_TEST_ONNX_BUILDER_H
#define ZN_TEST_ONNX_BUILDER_H

#include <stdlib.h>
#include <string.h>

#include "onnx/onnx.pb-c.h"

#define MB_MAX 16

typedef struct mb {
  Onnx__ModelProto m;
  Onnx__GraphProto g;
  Onnx__OperatorSetIdProto os[2];
  Onnx__OperatorSetIdProto *osp[2];
  Onnx__NodeProto nodes[MB_MAX];
  Onnx__NodeProto *nodep[MB_MAX];
  char *node_in[MB_MAX][MB_MAX];
  char *node_out[MB_MAX][3];
  Onnx__AttributeProto attrs[MB_MAX][6];
  Onnx__AttributeProto *attrp[MB_MAX][6];
  int64_t attr_ints[MB_MAX][6][16];
  Onnx__TensorProto inits[MB_MAX];
  Onnx__TensorProto *initp[MB_MAX];
  int64_t init_dims[MB_MAX][10];
  Onnx__StringStringEntryProto ext[MB_MAX][3];
  Onnx__StringStringEntryProto *extp[MB_MAX][3];
  Onnx__ValueInfoProto vi[MB_MAX];
  Onnx__ValueInfoProto *inp[MB_MAX];
  Onnx__ValueInfoProto *outp[MB_MAX];
  Onnx__TypeProto types[MB_MAX];
  Onnx__TypeProto__Tensor ttypes[MB_MAX];
  Onnx__TensorShapeProto shapes[MB_MAX];
  Onnx__TensorShapeProto__Dimension dims[MB_MAX][8];
  Onnx__TensorShapeProto__Dimension *dimp[MB_MAX][8];
  int num_vi;
} mb;

static inline void mb_init(mb *b, int64_t opset) {
  memset(b, 0, sizeof *b);
  onnx__model_proto__init(&b->m);
  onnx__graph_proto__init(&b->g);
  onnx__operator_set_id_proto__init(&b->os[0]);
  b->os[0].domain = (char *)"";
  b->os[0].has_version = 1;
  b->os[0].version = opset;
  b->osp[0] = &b->os[0];
  b->m.n_opset_import = 1;
  b->m.opset_import = b->osp;
  b->m.has_ir_version = 1;
  b->m.ir_version = 8;
  b->m.graph = &b->g;
  b->g.name = (char *)"test";
  b->g.node = b->nodep;
  b->g.initializer = b->initp;
  b->g.input = b->inp;
  b->g.output = b->outp;
}

/* A value info; dims[i] < 0 writes dim_param "N", 0 leaves the dim unset. */
static inline Onnx__ValueInfoProto *mb_vi(mb *b, const char *name, int32_t elem_type, int num_dims,
                                          const int64_t *dims) {
  int i = b->num_vi++;
  Onnx__ValueInfoProto *v = &b->vi[i];
  onnx__value_info_proto__init(v);
  v->name = (char *)name;
  onnx__type_proto__init(&b->types[i]);
  onnx__type_proto__tensor__init(&b->ttypes[i]);
  b->types[i].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  b->types[i].tensor_type = &b->ttypes[i];
  b->ttypes[i].has_elem_type = 1;
  b->ttypes[i].elem_type = elem_type;
  if (num_dims >= 0) {
    onnx__tensor_shape_proto__init(&b->shapes[i]);
    b->ttypes[i].shape = &b->shapes[i];
    b->shapes[i].n_dim = (size_t)num_dims;
    b->shapes[i].dim = b->dimp[i];
    for (int k = 0; k < num_dims; k++) {
      Onnx__TensorShapeProto__Dimension *d = &b->dims[i][k];
      onnx__tensor_shape_proto__dimension__init(d);
      if (dims[k] < 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
        d->dim_param = (char *)"N";
      } else if (dims[k] > 0) {
        d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        d->dim_value = dims[k];
      }
      b->dimp[i][k] = d;
    }
  }
  v->type = &b->types[i];
  return v;
}

static inline void mb_input(mb *b, const char *name, int32_t elem_type, int num_dims, const int64_t *dims) {
  b->inp[b->g.n_input++] = mb_vi(b, name, elem_type, num_dims, dims);
}

static inline void mb_output(mb *b, const char *name) {
  b->outp[b->g.n_output++] = mb_vi(b, name, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, -1, NULL);
}

/* A node with inputs/outputs given as a NULL-terminated list of names: ins first, then NULL, then outs, NULL. */
static inline int mb_node(mb *b, const char *op, const char *name, const char *const *ins, int num_in,
                          const char *const *outs, int num_out) {
  int i = (int)b->g.n_node++;
  Onnx__NodeProto *n = &b->nodes[i];
  onnx__node_proto__init(n);
  n->op_type = (char *)op;
  n->name = (char *)name;
  for (int k = 0; k < num_in; k++) b->node_in[i][k] = (char *)ins[k];
  for (int k = 0; k < num_out; k++) b->node_out[i][k] = (char *)outs[k];
  n->n_input = (size_t)num_in;
  n->input = b->node_in[i];
  n->n_output = (size_t)num_out;
  n->output = b->node_out[i];
  n->attribute = b->attrp[i];
  b->nodep[i] = n;
  return i;
}

/* One-in one-out node. */
static inline int mb_node1(mb *b, const char *op, const char *name, const char *in, const char *out) {
  const char *ins[1] = {in}, *outs[1] = {out};
  return mb_node(b, op, name, ins, 1, outs, 1);
}

static inline Onnx__AttributeProto *mb_attr(mb *b, int node, const char *name) {
  Onnx__NodeProto *n = &b->nodes[node];
  int k = (int)n->n_attribute++;
  Onnx__AttributeProto *a = &b->attrs[node][k];
  onnx__attribute_proto__init(a);
  a->name = (char *)name;
  b->attrp[node][k] = a;
  return a;
}

static inline void mb_attr_int(mb *b, int node, const char *name, int64_t v) {
  Onnx__AttributeProto *a = mb_attr(b, node, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
  a->has_i = 1;
  a->i = v;
}

static inline void mb_attr_float(mb *b, int node, const char *name, float v) {
  Onnx__AttributeProto *a = mb_attr(b, node, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
  a->has_f = 1;
  a->f = v;
}

static inline void mb_attr_ints(mb *b, int node, const char *name, int count, const int64_t *vals) {
  Onnx__NodeProto *n = &b->nodes[node];
  int k = (int)n->n_attribute;
  Onnx__AttributeProto *a = mb_attr(b, node, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
  for (int i = 0; i < count; i++) b->attr_ints[node][k][i] = vals[i];
  a->n_ints = (size_t)count;
  a->ints = b->attr_ints[node][k];
}

static inline void mb_attr_string(mb *b, int node, const char *name, const char *s) {
  Onnx__AttributeProto *a = mb_attr(b, node, name);
  a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
  a->has_s = 1;
  a->s.data = (uint8_t *)s;
  a->s.len = strlen(s);
}

/* An initializer with raw data (borrowed: must outlive packing). */
static inline Onnx__TensorProto *mb_tensor_init(Onnx__TensorProto *t, int64_t *dim_store, const char *name,
                                                int32_t dtype, int num_dims, const int64_t *dims, const void *raw,
                                                size_t raw_bytes) {
  onnx__tensor_proto__init(t);
  t->name = (char *)name;
  t->has_data_type = 1;
  t->data_type = dtype;
  for (int k = 0; k < num_dims; k++) dim_store[k] = dims[k];
  t->n_dims = (size_t)num_dims;
  t->dims = dim_store;
  if (raw) {
    t->has_raw_data = 1;
    t->raw_data.data = (uint8_t *)raw;
    t->raw_data.len = raw_bytes;
  }
  return t;
}

static inline Onnx__TensorProto *mb_initializer(mb *b, const char *name, int32_t dtype, int num_dims,
                                                const int64_t *dims, const void *raw, size_t raw_bytes) {
  int i = (int)b->g.n_initializer++;
  b->initp[i] = &b->inits[i];
  return mb_tensor_init(&b->inits[i], b->init_dims[i], name, dtype, num_dims, dims, raw, raw_bytes);
}

/* Mark initializer i as external: location, offset and length (NULL: omitted). */
static inline void mb_external(mb *b, Onnx__TensorProto *t, const char *location, const char *offset,
                               const char *length) {
  int i = (int)(t - b->inits);
  const char *keys[3] = {"location", "offset", "length"};
  const char *vals[3] = {location, offset, length};
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  t->has_raw_data = 0;
  t->raw_data.len = 0;
  t->external_data = b->extp[i];
  for (int k = 0; k < 3; k++) {
    if (!vals[k]) continue;
    Onnx__StringStringEntryProto *e = &b->ext[i][t->n_external_data];
    onnx__string_string_entry_proto__init(e);
    e->key = (char *)keys[k];
    e->value = (char *)vals[k];
    b->extp[i][t->n_external_data++] = e;
  }
}

/* Pack into a malloc'd buffer (the caller frees). */
static inline uint8_t *mb_pack(const mb *b, size_t *size_out) {
  size_t size = onnx__model_proto__get_packed_size(&b->m);
  uint8_t *buf = malloc(size ? size : 1);
  if (buf) onnx__model_proto__pack(&b->m, buf);
  *size_out = size;
  return buf;
}

static inline int mb_write(const mb *b, const char *path) {
  size_t size;
  uint8_t *buf = mb_pack(b, &size);
  if (!buf) return -1;
  FILE *f = fopen(path, "wb");
  int rc = -1;
  if (f) {
    rc = fwrite(buf, 1, size, f) == size ? 0 : -1;
    if (fclose(f) != 0) rc = -1;
  }
  free(buf);
  return rc;
}

#endif
