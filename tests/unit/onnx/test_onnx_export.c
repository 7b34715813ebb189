/* ONNX exporter: a graph using every IR op exports and re-imports bit-exactly
 * (values, constants, nodes, typed attributes); fused Conv/Gemm activations
 * and the Conv residual come out as standard nodes; legacy Softmax keeps its
 * meaning at opset 13; TensorProto files round-trip and bad ones are refused. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/alloc.h"
#include "harness.h"
#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"

static char tmpdir[512];
static uint64_t seed = 7;

static int val(zn_graph *g, const char *name) {
  int id = -1;
  CHECK_OK(zn_graph_add_value(g, name, ZN_DTYPE_UNDEFINED, &id));
  return id;
}

static int cst_f(zn_graph *g, const char *name, int num_dims, const int64_t *dims) {
  int64_t n = 1;
  for (int i = 0; i < num_dims; i++) n *= dims[i];
  float *d = zn_alloc_aligned((size_t)n * 4);
  for (int64_t i = 0; i < n; i++) d[i] = zn_test_rand_uniform(&seed, -1, 1);
  int id = -1;
  CHECK_OK(zn_graph_add_const_owned(g, name, ZN_DTYPE_FLOAT32, num_dims, dims, d, (size_t)n * 4, &id));
  return id;
}

static int cst_i(zn_graph *g, const char *name, int count, const int64_t *v) {
  int64_t d = count;
  int id = -1;
  CHECK_OK(zn_graph_add_const(g, name, ZN_DTYPE_INT64, 1, &d, v, (size_t)count * 8, &id));
  return id;
}

static zn_node *node(zn_graph *g, zn_op op, const char *name, int num_in, const int *ins, int out) {
  int idx = -1;
  CHECK_OK(zn_graph_add_node(g, op, name, num_in, ins, 1, &out, &idx));
  return idx >= 0 ? &g->nodes[idx] : NULL;
}

static zn_node *node1(zn_graph *g, zn_op op, const char *name, int in, const char *out_name, int *out) {
  *out = val(g, out_name);
  return node(g, op, name, 1, &in, *out);
}

static void window(int64_t *kernel, int64_t *stride, int64_t *dil, int64_t k, int64_t s) {
  for (int i = 0; i < 2; i++) kernel[i] = k, stride[i] = s, dil[i] = 1;
}

/* x[N,3,8,8] through every op kind; structurally valid (verify), shapes not inferred. */
static zn_graph *build_all_ops(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  g->opset = 13;
  g->name = zn_strdup("all_ops");
  int x;
  CHECK_OK(zn_graph_add_value(g, "x", ZN_DTYPE_FLOAT32, &x));
  zn_value *xv = &g->values[x];
  xv->num_dims = 4, xv->dims[0] = 1, xv->dims[1] = 3, xv->dims[2] = 8, xv->dims[3] = 8, xv->batch_axis = 0;
  CHECK_OK(zn_graph_mark_input(g, x));
  int64_t wd[4] = {4, 3, 3, 3}, bd[1] = {4};
  int w = cst_f(g, "w", 4, wd), b = cst_f(g, "b", 1, bd);
  int c = val(g, "c");
  int ins[8] = {x, w, b};
  zn_node *n = node(g, ZN_OP_CONV, "conv", 3, ins, c);
  zn_conv_attrs *ca = &n->attrs.conv;
  ca->num_spatial = 2;
  window(ca->kernel, ca->stride, ca->dilation, 3, 1);
  ca->pad_begin[0] = ca->pad_begin[1] = ca->pad_end[0] = ca->pad_end[1] = 1;
  ca->group = 1;
  int s = cst_f(g, "bn_s", 1, bd), bb = cst_f(g, "bn_b", 1, bd), m = cst_f(g, "bn_m", 1, bd);
  float *var = g->values[cst_f(g, "bn_v", 1, bd)].data;
  for (int i = 0; i < 4; i++) var[i] = fabsf(var[i]) + 0.5f;
  int bn = val(g, "bn");
  int bins[5] = {c, s, bb, m, zn_graph_find_value(g, "bn_v")};
  node(g, ZN_OP_BATCH_NORM, "bn", 5, bins, bn)->attrs.batch_norm.epsilon = 1e-3f;
  int r, mp, ap, cl, lr, hs, sw, sg, th, lrn;
  node1(g, ZN_OP_RELU, "relu", bn, "r", &r)->attrs.act.kind = ZN_ACT_RELU;
  n = node1(g, ZN_OP_MAX_POOL, "mp", r, "mp", &mp);
  n->attrs.pool.num_spatial = 2;
  window(n->attrs.pool.kernel, n->attrs.pool.stride, n->attrs.pool.dilation, 2, 2);
  n->attrs.pool.ceil_mode = true;
  n = node1(g, ZN_OP_AVERAGE_POOL, "ap", r, "ap", &ap);
  n->attrs.pool.num_spatial = 2;
  window(n->attrs.pool.kernel, n->attrs.pool.stride, n->attrs.pool.dilation, 3, 1);
  n->attrs.pool.auto_pad = ZN_AUTO_PAD_SAME_UPPER;
  n->attrs.pool.count_include_pad = true;
  n = node1(g, ZN_OP_CLIP, "clip", ap, "cl", &cl);
  n->attrs.act = (zn_act){ZN_ACT_CLIP, 0.0f, 6.0f};
  n = node1(g, ZN_OP_LEAKY_RELU, "lrelu", cl, "lr", &lr);
  n->attrs.act = (zn_act){ZN_ACT_LEAKY_RELU, 0.125f, 0};
  n = node1(g, ZN_OP_HARD_SIGMOID, "hsig", lr, "hs", &hs);
  n->attrs.act = (zn_act){ZN_ACT_HARD_SIGMOID, 0.25f, 0.5f};
  node1(g, ZN_OP_HARD_SWISH, "hswish", hs, "sw", &sw)->attrs.act.kind = ZN_ACT_HARD_SWISH;
  node1(g, ZN_OP_SIGMOID, "sig", sw, "sg", &sg)->attrs.act.kind = ZN_ACT_SIGMOID;
  node1(g, ZN_OP_TANH, "tanh", sg, "th", &th)->attrs.act.kind = ZN_ACT_TANH;
  n = node1(g, ZN_OP_LRN, "lrn", th, "lrn", &lrn);
  n->attrs.lrn = (zn_lrn_attrs){5, 1e-4f, 0.75f, 2.0f};
  int cat = val(g, "cat");
  int cins[2] = {mp, lrn};
  node(g, ZN_OP_CONCAT, "cat", 2, cins, cat)->attrs.axis.axis = 1;
  int pd, tr, sq, us, rm, gp, gm, fl, id, sh, ga, cs, rs, sl, gm2, mm, sm, sub, mul, dv, sum, add;
  n = node1(g, ZN_OP_PAD, "pad", cat, "pd", &pd);
  n->attrs.pad.mode = ZN_PAD_REFLECT;
  n->attrs.pad.num_pads = 8;
  n->attrs.pad.pads[2] = n->attrs.pad.pads[7] = 1;
  n = node1(g, ZN_OP_TRANSPOSE, "tr", pd, "tr", &tr);
  n->attrs.transpose.num_perm = 4;
  int64_t perm[4] = {0, 2, 3, 1};
  memcpy(n->attrs.transpose.perm, perm, sizeof perm);
  n = node1(g, ZN_OP_UNSQUEEZE, "us", tr, "us", &us);
  n->attrs.axes.num_axes = 1;
  n->attrs.axes.axes[0] = -1;
  n = node1(g, ZN_OP_SQUEEZE, "sq", us, "sq", &sq);
  n->attrs.axes.num_axes = 1;
  n->attrs.axes.axes[0] = 4;
  n = node1(g, ZN_OP_REDUCE_MEAN, "rm", sq, "rm", &rm);
  n->attrs.reduce.num_axes = 2;
  n->attrs.reduce.axes[0] = 1, n->attrs.reduce.axes[1] = 2;
  n->attrs.reduce.keepdims = true;
  node1(g, ZN_OP_GLOBAL_AVERAGE_POOL, "gap", pd, "gp", &gp);
  node1(g, ZN_OP_GLOBAL_MAX_POOL, "gmp", pd, "gm", &gm);
  node1(g, ZN_OP_FLATTEN, "fl", gp, "fl", &fl)->attrs.axis.axis = 1;
  node1(g, ZN_OP_IDENTITY, "id", fl, "id", &id);
  n = node1(g, ZN_OP_SHAPE, "shape", id, "sh", &sh);
  n->attrs.shape.start = 0;
  int64_t zero = 0;
  int gidx = cst_i(g, "gidx", 1, &zero);
  ga = val(g, "ga");
  int gins[2] = {sh, gidx};
  node(g, ZN_OP_GATHER, "gather", 2, gins, ga)->attrs.axis.axis = 0;
  node1(g, ZN_OP_CAST, "cast", ga, "cs", &cs)->attrs.cast.to = ZN_DTYPE_INT64;
  int64_t shp[2] = {1, -1};
  int shape_c = cst_i(g, "shape_c", 2, shp);
  rs = val(g, "rs");
  int rins[2] = {gm, shape_c};
  node(g, ZN_OP_RESHAPE, "reshape", 2, rins, rs);
  int64_t st0 = 0, en0 = 8, ax1 = 1, one = 1;
  int sins[5] = {rs, cst_i(g, "sl_s", 1, &st0), cst_i(g, "sl_e", 1, &en0), cst_i(g, "sl_a", 1, &ax1),
                 cst_i(g, "sl_t", 1, &one)};
  sl = val(g, "sl");
  node(g, ZN_OP_SLICE, "slice", 5, sins, sl);
  int64_t fcd[2] = {10, 8}, fbd[1] = {10};
  int fw = cst_f(g, "fc_w", 2, fcd), fb = cst_f(g, "fc_b", 1, fbd);
  gm2 = val(g, "gemm");
  int gemm_in[3] = {sl, fw, fb};
  n = node(g, ZN_OP_GEMM, "gemm", 3, gemm_in, gm2);
  n->attrs.gemm = (zn_gemm_attrs){false, true, 0.5f, 2.0f, {ZN_ACT_NONE, 0, 0}};
  int64_t mmd[2] = {10, 10};
  int mw = cst_f(g, "mm_w", 2, mmd);
  mm = val(g, "mm");
  int mins[2] = {gm2, mw};
  node(g, ZN_OP_MATMUL, "matmul", 2, mins, mm);
  n = node1(g, ZN_OP_SOFTMAX, "softmax", mm, "sm", &sm);
  n->attrs.softmax.axis = -1;
  int bin2[2];
  bin2[0] = sm, bin2[1] = mm;
  sub = val(g, "sub"); node(g, ZN_OP_SUB, "sub", 2, bin2, sub);
  bin2[0] = sub;
  mul = val(g, "mul"); node(g, ZN_OP_MUL, "mul", 2, bin2, mul);
  bin2[0] = mul;
  dv = val(g, "div"); node(g, ZN_OP_DIV, "div", 2, bin2, dv);
  int sum_in[3] = {dv, sm, mm};
  sum = val(g, "sum"); node(g, ZN_OP_SUM, "sum", 3, sum_in, sum);
  bin2[0] = sum, bin2[1] = rm;
  add = val(g, "add"); node(g, ZN_OP_ADD, "add", 2, bin2, add);
  CHECK_OK(zn_graph_mark_output(g, add));
  CHECK_OK(zn_graph_mark_output(g, cs));
  CHECK_OK(zn_graph_toposort(g));
  CHECK_OK(zn_graph_verify(g));
  return g;
}

static void check_same(const zn_graph *a, const zn_graph *b) {
  CHECK_EQ_INT(a->num_nodes, b->num_nodes);
  CHECK_EQ_INT(a->num_inputs, b->num_inputs);
  CHECK_EQ_INT(a->num_outputs, b->num_outputs);
  for (int i = 0; i < a->num_values; i++) {
    const zn_value *va = &a->values[i];
    int j = zn_graph_find_value(b, va->name);
    CHECK(j >= 0);
    if (j < 0) { fprintf(stderr, "  value '%s' missing\n", va->name); continue; }
    const zn_value *vb = &b->values[j];
    if (va->data || va->is_input) {
      CHECK_EQ_INT(va->dtype, vb->dtype);
      CHECK_EQ_INT(va->num_dims, vb->num_dims);
      CHECK_EQ_INT(va->batch_axis, vb->batch_axis);
      CHECK(memcmp(va->dims, vb->dims, sizeof(int64_t) * (size_t)(va->num_dims > 0 ? va->num_dims : 0)) == 0);
      CHECK_EQ_INT(va->data_bytes, vb->data_bytes);
      CHECK(!va->data || (vb->data && memcmp(va->data, vb->data, va->data_bytes) == 0));
    }
    CHECK_EQ_INT(va->is_input, vb->is_input);
    CHECK_EQ_INT(va->is_output, vb->is_output);
  }
  for (int i = 0; i < a->num_nodes && i < b->num_nodes; i++) {
    const zn_node *na = &a->nodes[i], *nb = &b->nodes[i];
    CHECK_EQ_INT(na->op, nb->op);
    CHECK(strcmp(na->name, nb->name) == 0);
    CHECK_EQ_INT(na->num_inputs, nb->num_inputs);
    for (int k = 0; k < na->num_inputs && k < nb->num_inputs; k++) {
      int ia = zn_node_input(na, k), ib = zn_node_input(nb, k);
      CHECK((ia < 0 && ib < 0) || (ia >= 0 && ib >= 0 && strcmp(a->values[ia].name, b->values[ib].name) == 0));
    }
    CHECK(strcmp(a->values[na->outputs[0]].name, b->values[nb->outputs[0]].name) == 0);
    if (memcmp(&na->attrs, &nb->attrs, sizeof na->attrs) != 0) {
      CHECK(!"attributes differ");
      fprintf(stderr, "  node '%s' (%s): attributes differ\n", na->name, zn_op_name(na->op));
    }
  }
}

static void test_roundtrip(void) {
  zn_graph *g = build_all_ops();
  void *buf = NULL;
  size_t size = 0;
  CHECK_OK(zn_onnx_export_memory(g, &buf, &size));
  zn_graph *h = NULL;
  CHECK_OK(zn_onnx_import_memory(buf, size, NULL, NULL, &h));
  if (h) {
    CHECK_EQ_INT(h->opset, 14); /* HardSwish needs 14 */
    check_same(g, h);
    /* and a second trip gives the same bytes */
    void *buf2 = NULL;
    size_t size2 = 0;
    CHECK_OK(zn_onnx_export_memory(h, &buf2, &size2));
    CHECK(size2 == size && memcmp(buf, buf2, size) == 0);
    zn_free(buf2);
  }
  /* the batch axis is dim_param "N" */
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, buf);
  CHECK(m != NULL);
  if (m) {
    /* ONNX's checker (and so ONNX Runtime) requires every attribute's type. */
    for (size_t i = 0; i < m->graph->n_node; i++)
      for (size_t k = 0; k < m->graph->node[i]->n_attribute; k++) {
        const Onnx__AttributeProto *a = m->graph->node[i]->attribute[k];
        if (!a->has_type || a->type == ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED)
          fprintf(stderr, "node %s attribute %s has no type\n", m->graph->node[i]->name, a->name);
        CHECK(a->has_type && a->type != ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__UNDEFINED);
      }
    const Onnx__TensorShapeProto__Dimension *d = m->graph->input[0]->type->tensor_type->shape->dim[0];
    CHECK(d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && strcmp(d->dim_param, "N") == 0);
    onnx__model_proto__free_unpacked(m, NULL);
  }
  char path[700];
  snprintf(path, sizeof path, "%s/all_ops.onnx", tmpdir);
  CHECK_OK(zn_onnx_export_file(g, path));
  zn_graph_destroy(h);
  h = NULL;
  CHECK_OK(zn_onnx_import_file(path, NULL, &h));
  if (h) check_same(g, h);
  unlink(path);
  CHECK_STATUS(zn_onnx_export_file(g, "/nonexistent/dir/x.onnx"), ZN_ERR_IO);
  zn_graph_destroy(h);
  zn_free(buf);
  zn_graph_destroy(g);
}

/* Fused Conv (+residual, +relu) and Gemm (+clip) come out as standard nodes. */
/* g exported to *buf; its nodes' op types must be want[0..n); the unpacked
 * model for further checks (onnx__model_proto__free_unpacked), or NULL. */
static Onnx__ModelProto *export_expect(const zn_graph *g, const char *const *want, size_t n, void **buf, size_t *size) {
  CHECK_OK(zn_onnx_export_memory(g, buf, size));
  Onnx__ModelProto *m = *buf ? onnx__model_proto__unpack(NULL, *size, *buf) : NULL;
  CHECK(m != NULL);
  if (!m) return NULL;
  CHECK_EQ_INT(m->graph->n_node, n);
  for (size_t i = 0; i < n && i < m->graph->n_node; i++) CHECK(strcmp(m->graph->node[i]->op_type, want[i]) == 0);
  return m;
}

/* An opset-13 graph with one input x [1,4,4,4]. */
static zn_graph *graph_x4(int *x) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  g->opset = 13;
  CHECK_OK(zn_graph_add_value(g, "x", ZN_DTYPE_FLOAT32, x));
  g->values[*x].num_dims = 4, g->values[*x].batch_axis = 0;
  const int64_t xd[4] = {1, 4, 4, 4};
  memcpy(g->values[*x].dims, xd, sizeof xd);
  CHECK_OK(zn_graph_mark_input(g, *x));
  return g;
}

static void test_fused(void) {
  int x;
  zn_graph *g = graph_x4(&x);
  int64_t wd[4] = {4, 4, 1, 1};
  int w = cst_f(g, "w", 4, wd);
  int c = val(g, "c");
  int ins[4] = {x, w, ZN_NO_VALUE, x};
  zn_node *n = node(g, ZN_OP_CONV, "conv", 4, ins, c);
  n->attrs.conv.num_spatial = 2;
  window(n->attrs.conv.kernel, n->attrs.conv.stride, n->attrs.conv.dilation, 1, 1);
  n->attrs.conv.group = 1;
  n->attrs.conv.act.kind = ZN_ACT_RELU;
  int f;
  node1(g, ZN_OP_FLATTEN, "fl", c, "f", &f)->attrs.axis.axis = 1;
  int64_t fd[2] = {64, 3};
  int fw = cst_f(g, "fw", 2, fd);
  int y = val(g, "y");
  int gin[2] = {f, fw};
  n = node(g, ZN_OP_GEMM, "gemm", 2, gin, y);
  n->attrs.gemm = (zn_gemm_attrs){false, false, 1.0f, 1.0f, {ZN_ACT_CLIP, 0.0f, 6.0f}};
  CHECK_OK(zn_graph_mark_output(g, y));
  CHECK_OK(zn_graph_verify(g));

  void *buf = NULL;
  size_t size = 0;
  static const char *const want[] = {"Conv", "Add", "Relu", "Flatten", "Gemm", "Clip"};
  Onnx__ModelProto *m = export_expect(g, want, 6, &buf, &size);
  if (m) {
    if (m->graph->n_node == 6) {
      CHECK_EQ_INT(m->graph->node[0]->n_input, 3);
      CHECK(strcmp(m->graph->node[0]->input[2], "") == 0);
      CHECK(strcmp(m->graph->node[1]->input[1], "x") == 0);
      CHECK(strcmp(m->graph->node[2]->output[0], "c") == 0);
      CHECK_EQ_INT(m->graph->node[5]->n_input, 3);
    }
    onnx__model_proto__free_unpacked(m, NULL);
  }
  zn_graph *h = NULL;
  CHECK_OK(zn_onnx_import_memory(buf, size, NULL, NULL, &h));
  if (h && h->num_nodes == 6) {
    CHECK_EQ_INT(h->nodes[0].attrs.conv.act.kind, ZN_ACT_NONE);
    CHECK_EQ_INT(h->nodes[5].op, ZN_OP_CLIP);
    CHECK(h->nodes[5].attrs.act.alpha == 0.0f && h->nodes[5].attrs.act.beta == 6.0f);
  }
  zn_graph_destroy(h);
  zn_free(buf);

  /* A constant whose values scale with the batch cannot be written. */
  int64_t two = 2;
  int k = cst_i(g, "k", 1, &two);
  g->values[k].batch_elems = 1;
  CHECK_STATUS(zn_onnx_export_memory(g, &buf, &size), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("batch size");
  zn_graph_destroy(g);
}

/* Swish is an ONNX op only from opset 24: a conv with Swish fused and a
 * standalone Swish are written as x * Sigmoid(alpha * x), which the importer
 * and the graph passes turn back into a conv with Swish fused (alpha 1; other
 * alphas stay three nodes, which compute the same). */
static void test_swish(void) {
  int x;
  zn_graph *g = graph_x4(&x);
  int64_t wd[4] = {4, 4, 1, 1};
  int w = cst_f(g, "w", 4, wd), c = val(g, "c"), y;
  int ins[2] = {x, w};
  zn_node *n = node(g, ZN_OP_CONV, "conv", 2, ins, c);
  n->attrs.conv.num_spatial = 2;
  window(n->attrs.conv.kernel, n->attrs.conv.stride, n->attrs.conv.dilation, 1, 1);
  n->attrs.conv.group = 1;
  n->attrs.conv.act = (zn_act){ZN_ACT_SWISH, 1.0f, 0};
  node1(g, ZN_OP_SWISH, "swish", c, "y", &y)->attrs.act = (zn_act){ZN_ACT_SWISH, 0.5f, 0};
  CHECK_OK(zn_graph_mark_output(g, y));
  CHECK_OK(zn_graph_verify(g));
  void *buf = NULL;
  size_t size = 0;
  static const char *const want[] = {"Conv", "Sigmoid", "Mul", "Mul", "Sigmoid", "Mul"};
  Onnx__ModelProto *m = export_expect(g, want, 6, &buf, &size);
  if (m) {
    CHECK_EQ_INT(m->opset_import[0]->version, 13);
    onnx__model_proto__free_unpacked(m, NULL);
  }
  zn_graph *h = NULL;
  CHECK_OK(zn_onnx_import_memory(buf, size, NULL, NULL, &h));
  if (h) CHECK_OK(zn_graph_optimize(h));
  if (h && h->num_nodes == 4) {
    CHECK_EQ_INT(h->nodes[0].op, ZN_OP_CONV);
    CHECK_EQ_INT(h->nodes[0].attrs.conv.act.kind, ZN_ACT_SWISH);
    CHECK(h->nodes[0].attrs.conv.act.alpha == 1.0f);
  } else {
    CHECK(!"conv + Mul, Sigmoid, Mul expected after import and passes");
  }
  zn_graph_destroy(h);
  zn_free(buf);
  zn_graph_destroy(g);
}

/* opset-11 Softmax (2-D coercion) on an axis that is not the last keeps its meaning. */
static void test_legacy_softmax(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  g->opset = 11;
  int x;
  CHECK_OK(zn_graph_add_value(g, "x", ZN_DTYPE_FLOAT32, &x));
  g->values[x].num_dims = 4, g->values[x].batch_axis = 0;
  int64_t xd[4] = {1, 4, 4, 4};
  memcpy(g->values[x].dims, xd, sizeof xd);
  CHECK_OK(zn_graph_mark_input(g, x));
  int y;
  zn_node *n = node1(g, ZN_OP_SOFTMAX, "sm", x, "y", &y);
  n->attrs.softmax.axis = 1;
  n->attrs.softmax.legacy_2d = true;
  CHECK_OK(zn_graph_mark_output(g, y));
  void *buf = NULL;
  size_t size = 0;
  CHECK_OK(zn_onnx_export_memory(g, &buf, &size));
  zn_graph *h = NULL;
  CHECK_OK(zn_onnx_import_memory(buf, size, NULL, NULL, &h));
  if (h) {
    CHECK_EQ_INT(h->opset, 13);
    CHECK_EQ_INT(h->num_nodes, 4); /* Shape, Flatten, Softmax(axis 1), Reshape */
    bool found = false;
    for (int i = 0; i < h->num_nodes; i++)
      if (h->nodes[i].op == ZN_OP_SOFTMAX) {
        found = true;
        CHECK(!h->nodes[i].attrs.softmax.legacy_2d);
        CHECK_EQ_INT(h->nodes[i].attrs.softmax.axis, 1);
      }
    CHECK(found);
  }
  zn_graph_destroy(h);
  zn_free(buf);
  zn_graph_destroy(g);
}

static void test_tensor_files(void) {
  char path[700];
  snprintf(path, sizeof path, "%s/t.pb", tmpdir);
  float data[2 * 3 * 4];
  for (int i = 0; i < 24; i++) data[i] = zn_test_rand_uniform(&seed, -5, 5);
  int64_t dims[3] = {2, 3, 4};
  CHECK_OK(zn_onnx_tensor_write_file(path, "input_0", ZN_DTYPE_FLOAT32, 3, dims, data, sizeof data));
  zn_onnx_tensor *t = NULL;
  CHECK_OK(zn_onnx_tensor_read_file(path, 0, &t));
  if (t) {
    CHECK(strcmp(t->name, "input_0") == 0);
    CHECK_EQ_INT(t->dtype, ZN_DTYPE_FLOAT32);
    CHECK_EQ_INT(t->num_dims, 3);
    CHECK_EQ_INT(t->dims[2], 4);
    CHECK(t->data_bytes == sizeof data && memcmp(t->data, data, sizeof data) == 0);
  }
  zn_onnx_tensor_destroy(t);
  zn_onnx_tensor_destroy(NULL);
  /* cap smaller than the file */
  CHECK_STATUS(zn_onnx_tensor_read_file(path, 16, &t), ZN_ERR_INVALID_MODEL);
  CHECK(t == NULL);
  CHECK_ERROR_HAS("cap");
  /* wrong byte count on write */
  CHECK_STATUS(zn_onnx_tensor_write_file(path, NULL, ZN_DTYPE_FLOAT32, 3, dims, data, 8), ZN_ERR_INVALID_ARGUMENT);

  /* int64 scalar, written then read */
  int64_t v = -5;
  CHECK_OK(zn_onnx_tensor_write_file(path, NULL, ZN_DTYPE_INT64, 0, NULL, &v, 8));
  CHECK_OK(zn_onnx_tensor_read_file(path, 0, &t));
  if (t) CHECK(t->num_dims == 0 && t->dtype == ZN_DTYPE_INT64 && *(int64_t *)t->data == -5);
  zn_onnx_tensor_destroy(t);

  /* typed-field form (as ONNX's own test data often is), and lies about the shape */
  Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
  int64_t d2[2] = {2, 2};
  int32_t i32[4] = {1, 0, 1, 1};
  tp.n_dims = 2, tp.dims = d2, tp.has_data_type = 1, tp.data_type = ONNX__TENSOR_PROTO__DATA_TYPE__BOOL;
  tp.n_int32_data = 4, tp.int32_data = i32;
  uint8_t pb[256];
  size_t n = onnx__tensor_proto__pack(&tp, pb);
  CHECK_OK(zn_onnx_tensor_read_memory(pb, n, 0, &t));
  if (t) CHECK(t->data_bytes == 4 && ((uint8_t *)t->data)[1] == 0 && ((uint8_t *)t->data)[3] == 1);
  zn_onnx_tensor_destroy(t);
  d2[0] = (int64_t)1 << 40;
  n = onnx__tensor_proto__pack(&tp, pb);
  CHECK_STATUS(zn_onnx_tensor_read_memory(pb, n, 0, &t), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("exceed the cap");
  d2[0] = -2;
  n = onnx__tensor_proto__pack(&tp, pb);
  CHECK_STATUS(zn_onnx_tensor_read_memory(pb, n, 0, &t), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("negative");
  d2[0] = 3;
  n = onnx__tensor_proto__pack(&tp, pb);
  CHECK_STATUS(zn_onnx_tensor_read_memory(pb, n, 0, &t), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("needs 6");
  /* truncated and random bytes */
  d2[0] = 2;
  n = onnx__tensor_proto__pack(&tp, pb);
  CHECK_STATUS(zn_onnx_tensor_read_memory(pb, n - 1, 0, &t), ZN_ERR_INVALID_MODEL);
  for (int iter = 0; iter < 200; iter++) {
    size_t len = (size_t)(zn_test_rand_u64(&seed) % sizeof pb);
    for (size_t i = 0; i < len; i++) pb[i] = (uint8_t)zn_test_rand_u64(&seed);
    zn_status st = zn_onnx_tensor_read_memory(pb, len, 0, &t);
    if (st == ZN_OK) zn_onnx_tensor_destroy(t);
    else CHECK(t == NULL && zn_last_error()[0]);
  }
  CHECK_STATUS(zn_onnx_tensor_read_file("/nonexistent.pb", 0, &t), ZN_ERR_IO);
  unlink(path);
}

int zn_test_main(void) {
  const char *base = getenv("TMPDIR");
  snprintf(tmpdir, sizeof tmpdir, "%s/zn_onnx_export_XXXXXX", base && *base ? base : "/tmp");
  if (!mkdtemp(tmpdir)) {
    fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
    return 1;
  }
  test_roundtrip();
  test_fused();
  test_swish();
  test_legacy_softmax();
  test_tensor_files();
  rmdir(tmpdir);
  return 0;
}
