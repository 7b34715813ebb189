/* Shape and dtype inference per op, the batch symbol (batch_axis) through
 * shape arithmetic, the static-batch fallback and overflow handling. */
#include "builder.h"

static zn_graph *new_graph(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  g->opset = 13;
  return g;
}

static int conv(zn_graph *g, const char *name, int x, int64_t cout, int64_t cin_g, int64_t k, int64_t stride,
                int64_t pad, int64_t group, const char *out) {
  char wn[64];
  snprintf(wn, sizeof wn, "%s.w", name);
  int64_t wd[4] = {cout, cin_g, k, k};
  int w = b_const_fill(g, wn, 4, wd, 7, -1, 1);
  int ins[2] = {x, w};
  int n = b_node(g, ZN_OP_CONV, name, 2, ins, out);
  b_conv_attrs(&g->nodes[n], k, stride, pad, group);
  return n;
}

static void test_conv_pool(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 3, 224, 224};
  int x = b_input(g, "x", 4, d, 0);
  int c1 = conv(g, "conv1", x, 64, 3, 7, 2, 3, 1, "c1");
  int p1 = b_node(g, ZN_OP_MAX_POOL, "pool1", 1, (int[]){b_out(g, c1)}, "p1");
  b_pool_attrs(&g->nodes[p1], 3, 2, 1);
  int dw = conv(g, "dw", b_out(g, p1), 64, 1, 3, 1, 1, 64, "dwo");
  int gap = b_node(g, ZN_OP_GLOBAL_AVERAGE_POOL, "gap", 1, (int[]){b_out(g, dw)}, "gapo");
  int fl = b_node(g, ZN_OP_FLATTEN, "flat", 1, (int[]){b_out(g, gap)}, "flato");
  g->nodes[fl].attrs.axis.axis = 1;
  int64_t wd[2] = {10, 64}, bd[1] = {10};
  int w = b_const_fill(g, "fc.w", 2, wd, 3, -1, 1), bb = b_const_fill(g, "fc.b", 1, bd, 4, -1, 1);
  int fc = b_node(g, ZN_OP_GEMM, "fc", 3, (int[]){b_out(g, fl), w, bb}, "logits");
  g->nodes[fc].attrs.gemm = (zn_gemm_attrs){.trans_b = true, .alpha = 1, .beta = 1};
  int sm = b_node(g, ZN_OP_SOFTMAX, "sm", 1, (int[]){b_out(g, fc)}, "prob");
  g->nodes[sm].attrs.softmax.axis = -1;
  zn_graph_mark_output(g, b_out(g, sm));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!g->static_batch);
  CHECK_SHAPE(g, "c1", "[N,64,112,112]");
  CHECK_SHAPE(g, "p1", "[N,64,56,56]");
  CHECK_SHAPE(g, "dwo", "[N,64,56,56]");
  CHECK_SHAPE(g, "gapo", "[N,64,1,1]");
  CHECK_SHAPE(g, "flato", "[N,64]");
  CHECK_SHAPE(g, "logits", "[N,10]");
  CHECK_SHAPE(g, "prob", "[N,10]");
  CHECK_EQ_INT(g->values[zn_graph_find_value(g, "prob")].dtype, ZN_DTYPE_FLOAT32);
  CHECK_EQ_INT(g->values[zn_graph_find_value(g, "prob")].batch_axis, 0);
  /* Inference is repeatable. */
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "p1", "[N,64,56,56]");
  zn_graph_destroy(g);
}

static void test_auto_pad(void) {
  zn_auto_pad modes[3] = {ZN_AUTO_PAD_SAME_UPPER, ZN_AUTO_PAD_SAME_LOWER, ZN_AUTO_PAD_VALID};
  int64_t want_pb[3] = {0, 1, 0}, want_pe[3] = {1, 0, 0};
  const char *want_shape[3] = {"[N,4,4,4]", "[N,4,4,4]", "[N,4,3,3]"};
  for (int m = 0; m < 3; m++) {
    zn_graph *g = new_graph();
    int64_t d[4] = {1, 2, 8, 8};
    int x = b_input(g, "x", 4, d, 0);
    int c = conv(g, "c", x, 4, 2, 3, 2, 5, 1, "y");  /* explicit pads ignored under auto_pad */
    g->nodes[c].attrs.conv.auto_pad = modes[m];
    zn_graph_mark_output(g, b_out(g, c));
    CHECK_OK(zn_graph_infer_shapes(g));
    const zn_conv_attrs *a = &g->nodes[0].attrs.conv;
    CHECK_SHAPE(g, "y", want_shape[m]);
    CHECK_EQ_INT(a->auto_pad, ZN_AUTO_PAD_NOTSET);
    CHECK_EQ_INT(a->pad_begin[0], want_pb[m]);
    CHECK_EQ_INT(a->pad_end[0], want_pe[m]);
    CHECK_EQ_INT(a->pad_begin[1], want_pb[m]);
    CHECK_EQ_INT(a->pad_end[1], want_pe[m]);
    zn_graph_destroy(g);
  }
  /* SAME_UPPER on an odd total with dilation: 7x7, k 3, dilation 2, stride 1:
   * ek = 5, out 7, total 4 -> 2 / 2. */
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 1, 7, 7};
  int x = b_input(g, "x", 4, d, 0);
  int p = b_node(g, ZN_OP_MAX_POOL, "mp", 1, &x, "y");
  b_pool_attrs(&g->nodes[p], 3, 1, 0);
  g->nodes[p].attrs.pool.dilation[0] = g->nodes[p].attrs.pool.dilation[1] = 2;
  g->nodes[p].attrs.pool.auto_pad = ZN_AUTO_PAD_SAME_LOWER;
  zn_graph_mark_output(g, b_out(g, p));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "y", "[N,1,7,7]");
  CHECK_EQ_INT(g->nodes[0].attrs.pool.pad_begin[0], 2);
  CHECK_EQ_INT(g->nodes[0].attrs.pool.pad_end[0], 2);
  zn_graph_destroy(g);
}

static void test_ceil_mode(void) {
  struct { int64_t in, k, s, pad; bool ceil; const char *want; } cases[] = {
    {112, 3, 2, 0, false, "[N,8,55,55]"},
    {112, 3, 2, 0, true, "[N,8,56,56]"},
    /* The last window would start in the right padding: dropped (PyTorch rule). */
    {5, 2, 2, 1, true, "[N,8,3,3]"},
    {5, 2, 2, 1, false, "[N,8,3,3]"},
    {6, 3, 2, 0, true, "[N,8,3,3]"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    zn_graph *g = new_graph();
    int64_t d[4] = {1, 8, cases[i].in, cases[i].in};
    int x = b_input(g, "x", 4, d, 0);
    int p = b_node(g, ZN_OP_AVERAGE_POOL, "ap", 1, &x, "y");
    b_pool_attrs(&g->nodes[p], cases[i].k, cases[i].s, cases[i].pad);
    g->nodes[p].attrs.pool.ceil_mode = cases[i].ceil;
    zn_graph_mark_output(g, b_out(g, p));
    CHECK_OK(zn_graph_infer_shapes(g));
    CHECK_SHAPE(g, "y", cases[i].want);
    zn_graph_destroy(g);
  }
}

static void test_conv_errors(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 64, 8, 8};
  int x = b_input(g, "x", 4, d, 0);
  int c = conv(g, "conv1", x, 16, 32, 3, 1, 1, 1, "y");
  zn_graph_mark_output(g, b_out(g, c));
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("failed to infer shape of node 'conv1' (Conv): input channels 64 != weight channels 32 * group 1");
  g->nodes[0].attrs.conv.group = 2;
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "y", "[N,16,8,8]");
  g->nodes[0].attrs.conv.group = 3;
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  g->nodes[0].attrs.conv.group = 2;
  g->nodes[0].attrs.conv.pad_begin[0] = g->nodes[0].attrs.conv.pad_end[0] = 0;
  g->nodes[0].attrs.conv.kernel[0] = g->nodes[0].attrs.conv.kernel[1] = 0;  /* from W */
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "y", "[N,16,6,8]");
  CHECK_EQ_INT(g->nodes[0].attrs.conv.kernel[0], 3);
  /* Kernel larger than the padded input. */
  g->values[x].dims[2] = 1;
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("smaller than the kernel");
  zn_graph_destroy(g);
}

static void test_elementwise_and_matmul(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 3, 4, 5}, cd[2] = {4, 1};
  int x = b_input(g, "x", 4, d, 0);
  int c = b_const_fill(g, "c", 2, cd, 1, 0, 1);
  b_node(g, ZN_OP_ADD, "add", 2, (int[]){x, c}, "a");
  b_node(g, ZN_OP_SUM, "sum", 3, (int[]){x, c, zn_graph_find_value(g, "a")}, "s");
  int64_t wd[2] = {5, 6};
  int w = b_const_fill(g, "w", 2, wd, 2, 0, 1);
  b_node(g, ZN_OP_MATMUL, "mm", 2, (int[]){zn_graph_find_value(g, "s"), w}, "m");
  int64_t vd[1] = {5};
  int vec = b_const_fill(g, "vec", 1, vd, 2, 0, 1);
  b_node(g, ZN_OP_MATMUL, "mv", 2, (int[]){zn_graph_find_value(g, "s"), vec}, "mvo");
  int64_t bd[3] = {3, 6, 2};
  int bm = b_const_fill(g, "bm", 3, bd, 2, 0, 1);
  b_node(g, ZN_OP_MATMUL, "mb", 2, (int[]){zn_graph_find_value(g, "m"), bm}, "mbo");
  zn_graph_mark_output(g, zn_graph_find_value(g, "mvo"));
  zn_graph_mark_output(g, zn_graph_find_value(g, "mbo"));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "a", "[N,3,4,5]");
  CHECK_SHAPE(g, "s", "[N,3,4,5]");
  CHECK_SHAPE(g, "m", "[N,3,4,6]");
  CHECK_SHAPE(g, "mvo", "[N,3,4]");
  CHECK_SHAPE(g, "mbo", "[N,3,4,2]");
  CHECK(!g->static_batch);
  zn_graph_destroy(g);

  /* [N,3,4,6] x [7,3,6,2]: N broadcasts against 7 only if N = 1. */
  g = new_graph();
  int64_t d4[4] = {1, 3, 4, 6}, b4[4] = {7, 3, 6, 2};
  x = b_input(g, "x", 4, d4, 0);
  int n4 = b_node(g, ZN_OP_MATMUL, "mm", 2, (int[]){x, b_const_fill(g, "b4", 4, b4, 1, 0, 1)}, "y");
  zn_graph_mark_output(g, b_out(g, n4));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(g->static_batch);
  CHECK_SHAPE(g, "y", "[7,3,4,2]");
  zn_graph_destroy(g);

  g = new_graph();
  int64_t d2[2] = {1, 3}, c2[2] = {2, 4};
  x = b_input(g, "x", 2, d2, 0);
  c = b_const_fill(g, "c", 2, c2, 1, 0, 1);
  int n = b_node(g, ZN_OP_MUL, "mul", 2, (int[]){x, c}, "y");
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("'mul' (Mul): shapes [1,3] and [2,4] do not broadcast");
  zn_graph_destroy(g);

  g = new_graph();
  int64_t a1[1] = {4}, b1[2] = {4, 5};
  x = b_input(g, "x", 1, a1, -1);
  c = b_const_fill(g, "c", 2, b1, 1, 0, 1);
  n = b_node(g, ZN_OP_MATMUL, "mm", 2, (int[]){x, c}, "y");
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "y", "[5]");
  zn_graph_destroy(g);
}

/* Shape -> Gather -> Unsqueeze -> Concat -> Reshape, evaluated during inference. */
static void test_flatten_chain(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 8, 2, 2};
  int x = b_input(g, "x", 4, d, 0);
  int sh = b_node(g, ZN_OP_SHAPE, "shape", 1, &x, "shp");
  int64_t zero = 0, minus1 = -1;
  int64_t none[1];
  (void)none;
  int idx = -1;
  zn_graph_add_const(g, "idx0", ZN_DTYPE_INT64, 0, NULL, &zero, 8, &idx);
  int ga = b_node(g, ZN_OP_GATHER, "gather", 2, (int[]){b_out(g, sh), idx}, "n");
  int un = b_node(g, ZN_OP_UNSQUEEZE, "unsq", 1, (int[]){b_out(g, ga)}, "n1");
  g->nodes[un].attrs.axes.num_axes = 1;
  int m1 = b_const_i64(g, "m1", 1, &minus1);
  int cc = b_node(g, ZN_OP_CONCAT, "cat", 2, (int[]){b_out(g, un), m1}, "target");
  int rs = b_node(g, ZN_OP_RESHAPE, "reshape", 2, (int[]){x, b_out(g, cc)}, "flat");
  zn_graph_mark_output(g, b_out(g, rs));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!g->static_batch);
  CHECK_SHAPE(g, "shp", "[4]");
  CHECK_SHAPE(g, "n", "[]");
  CHECK_SHAPE(g, "target", "[2]");
  CHECK_SHAPE(g, "flat", "[N,32]");
  CHECK_EQ_INT(g->values[zn_graph_find_value(g, "shp")].dtype, ZN_DTYPE_INT64);
  zn_graph_destroy(g);
}

static void test_reshape_forms(void) {
  struct { int64_t shape[4]; int count; bool allowzero; const char *want; bool fallback; } cases[] = {
    {{0, -1}, 2, false, "[N,24]", false},
    {{3, -1}, 2, false, "[3,8N]", false},
    {{-1, 4}, 2, false, "[6N,4]", false},
    {{0, 2, 0, 4}, 4, false, "[N,2,3,4]", false},
    {{1, 24}, 2, false, "[1,24]", true},
    {{5, -1}, 2, false, "", true},   /* 24 / 5: fails for N = 1 too */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    zn_graph *g = new_graph();
    int64_t d[4] = {1, 2, 3, 4};
    int x = b_input(g, "x", 4, d, 0);
    int s = b_const_i64(g, "s", cases[i].count, cases[i].shape);
    int n = b_node(g, ZN_OP_RESHAPE, "rs", 2, (int[]){x, s}, "y");
    g->nodes[n].attrs.reshape.allowzero = cases[i].allowzero;
    zn_graph_mark_output(g, b_out(g, n));
    zn_status st = zn_graph_infer_shapes(g);
    if (cases[i].want[0]) {
      CHECK_OK(st);
      CHECK_SHAPE(g, "y", cases[i].want);
    } else {
      CHECK_STATUS(st, ZN_ERR_INVALID_MODEL);
      CHECK_ERROR_HAS("cannot reshape [1,2,3,4] to [5,1]");
    }
    CHECK_EQ_INT(g->static_batch, cases[i].fallback);
    zn_graph_destroy(g);
  }
  /* allowzero: a 0 is a real zero-sized dim. */
  zn_graph *g = new_graph();
  int64_t d[2] = {0, 3}, sh[2] = {3, 0};
  int x = b_input(g, "x", 2, d, -1);
  int s = b_const_i64(g, "s", 2, sh);
  int n = b_node(g, ZN_OP_RESHAPE, "rs", 2, (int[]){x, s}, "y");
  g->nodes[n].attrs.reshape.allowzero = true;
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "y", "[3,0]");
  zn_graph_destroy(g);
}

/* The batch symbol cannot pass this Reshape: batch fixed to 1, all shapes plain. */
static void test_static_fallback(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 512, 1, 1};
  int x = b_input(g, "x", 4, d, 0);
  int64_t sh[2] = {1, 512};
  int s = b_const_i64(g, "s", 2, sh);
  int r = b_node(g, ZN_OP_RELU, "relu", 1, &x, "xr");
  int n = b_node(g, ZN_OP_RESHAPE, "rs", 2, (int[]){b_out(g, r), s}, "y");
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(g->static_batch);
  CHECK_EQ_INT(g->values[x].batch_axis, -1);
  CHECK_EQ_INT(g->values[x].dims[0], 1);
  CHECK_SHAPE(g, "xr", "[1,512,1,1]");
  CHECK_SHAPE(g, "y", "[1,512]");
  CHECK_EQ_INT(g->values[zn_graph_find_value(g, "y")].batch_axis, -1);
  zn_graph_destroy(g);

  /* Concat of a batched and a plain tensor along the batch axis: N + 1. */
  g = new_graph();
  int64_t d2[2] = {1, 4}, cd[2] = {1, 4};
  x = b_input(g, "x", 2, d2, 0);
  int c = b_const_fill(g, "c", 2, cd, 1, 0, 1);
  n = b_node(g, ZN_OP_CONCAT, "cat", 2, (int[]){x, c}, "y");
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(g->static_batch);
  CHECK_SHAPE(g, "y", "[2,4]");
  zn_graph_destroy(g);
}

static void test_data_movement(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {2, 3, 4, 5};
  int x = b_input(g, "x", 4, d, 0);
  int t = b_node(g, ZN_OP_TRANSPOSE, "tr", 1, &x, "t");
  zn_transpose_attrs *ta = &g->nodes[t].attrs.transpose;
  ta->num_perm = 4;
  ta->perm[0] = 2; ta->perm[1] = 0; ta->perm[2] = 3; ta->perm[3] = 1;
  int tr = b_node(g, ZN_OP_TRANSPOSE, "trd", 1, &x, "trd");  /* default: reversed */
  int un = b_node(g, ZN_OP_UNSQUEEZE, "un", 1, (int[]){b_out(g, t)}, "u");
  g->nodes[un].attrs.axes.num_axes = 2;
  g->nodes[un].attrs.axes.axes[0] = 0;
  g->nodes[un].attrs.axes.axes[1] = -1;
  int sq = b_node(g, ZN_OP_SQUEEZE, "sq", 1, (int[]){b_out(g, un)}, "sqo");
  g->nodes[sq].attrs.axes.num_axes = 1;
  g->nodes[sq].attrs.axes.axes[0] = 5;
  int sqa = b_node(g, ZN_OP_SQUEEZE, "sqa", 1, (int[]){b_out(g, un)}, "sqa");  /* all 1s */
  int fl0 = b_node(g, ZN_OP_FLATTEN, "fl0", 1, &x, "fl0");
  g->nodes[fl0].attrs.axis.axis = 0;
  int fl2 = b_node(g, ZN_OP_FLATTEN, "fl2", 1, &x, "fl2");
  g->nodes[fl2].attrs.axis.axis = -2;
  int rm = b_node(g, ZN_OP_REDUCE_MEAN, "rm", 1, &x, "rm");
  g->nodes[rm].attrs.reduce = (zn_reduce_attrs){.num_axes = 2, .axes = {2, -1}, .keepdims = true};
  int rm2 = b_node(g, ZN_OP_REDUCE_MEAN, "rm2", 1, &x, "rm2");
  g->nodes[rm2].attrs.reduce = (zn_reduce_attrs){.num_axes = 1, .axes = {0}, .keepdims = false};
  int cat = b_node(g, ZN_OP_CONCAT, "cat", 3, (int[]){x, x, x}, "cat");
  g->nodes[cat].attrs.axis.axis = 0;
  int cat1 = b_node(g, ZN_OP_CONCAT, "cat1", 2, (int[]){x, x}, "cat1");
  g->nodes[cat1].attrs.axis.axis = 1;
  int cast = b_node(g, ZN_OP_CAST, "cast", 1, &x, "cast");
  g->nodes[cast].attrs.cast.to = ZN_DTYPE_INT32;
  int idn = b_node(g, ZN_OP_IDENTITY, "id", 1, &x, "id");
  int lrn = b_node(g, ZN_OP_LRN, "lrn", 1, &x, "lrn");
  g->nodes[lrn].attrs.lrn.size = 3;
  int shp = b_node(g, ZN_OP_SHAPE, "shp", 1, &x, "shp");
  g->nodes[shp].attrs.shape = (zn_shape_attrs){.start = 1, .end = -1, .has_end = true};
  int64_t zero = 0;
  int i0 = -1;
  zn_graph_add_const(g, "i0", ZN_DTYPE_INT64, 0, NULL, &zero, 8, &i0);
  int gb = b_node(g, ZN_OP_GATHER, "gb", 2, (int[]){x, i0}, "gb");  /* picks image 0 */
  int64_t two[2] = {1, 0};
  int i2 = b_const_i64(g, "i2", 2, two);
  int gc = b_node(g, ZN_OP_GATHER, "gc", 2, (int[]){x, i2}, "gc");
  g->nodes[gc].attrs.axis.axis = 2;
  int outs[] = {tr, sq, sqa, fl0, fl2, rm, rm2, cat, cat1, cast, idn, lrn, shp, gb, gc};
  for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) zn_graph_mark_output(g, b_out(g, outs[i]));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!g->static_batch);
  CHECK_SHAPE(g, "t", "[4,2N,5,3]");
  CHECK_EQ_INT(g->values[zn_graph_find_value(g, "t")].batch_axis, 1);
  CHECK_SHAPE(g, "trd", "[5,4,3,2N]");
  CHECK_SHAPE(g, "u", "[1,4,2N,5,3,1]");
  CHECK_SHAPE(g, "sqo", "[1,4,2N,5,3]");
  CHECK_SHAPE(g, "sqa", "[4,2N,5,3]");
  CHECK_SHAPE(g, "fl0", "[1,120N]");
  CHECK_SHAPE(g, "fl2", "[6N,20]");
  CHECK_SHAPE(g, "rm", "[2N,3,1,1]");
  CHECK_SHAPE(g, "rm2", "[3,4,5]");
  CHECK_SHAPE(g, "cat", "[6N,3,4,5]");
  CHECK_SHAPE(g, "cat1", "[2N,6,4,5]");
  CHECK_SHAPE(g, "cast", "[2N,3,4,5]");
  CHECK_EQ_INT(g->values[zn_graph_find_value(g, "cast")].dtype, ZN_DTYPE_INT32);
  CHECK_SHAPE(g, "id", "[2N,3,4,5]");
  CHECK_SHAPE(g, "lrn", "[2N,3,4,5]");
  CHECK_SHAPE(g, "shp", "[2]");
  CHECK_SHAPE(g, "gb", "[3,4,5]");
  CHECK_SHAPE(g, "gc", "[2N,3,2,5]");
  zn_graph_destroy(g);

  /* Squeezing the batch axis forces the static batch. */
  g = new_graph();
  int64_t d1[3] = {1, 3, 4};
  x = b_input(g, "x", 3, d1, 0);
  sq = b_node(g, ZN_OP_SQUEEZE, "sq", 1, &x, "y");
  g->nodes[sq].attrs.axes.num_axes = 1;
  zn_graph_mark_output(g, b_out(g, sq));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(g->static_batch);
  CHECK_SHAPE(g, "y", "[3,4]");
  zn_graph_destroy(g);
}

static void test_pad_slice(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 3, 10, 8};
  int x = b_input(g, "x", 4, d, 0);
  int64_t pads[8] = {0, 0, 1, 2, 0, 0, 3, 4};
  int pv = b_const_i64(g, "pads", 8, pads);
  float zero = 0.5f;
  int cv = -1;
  zn_graph_add_const(g, "pval", ZN_DTYPE_FLOAT32, 0, NULL, &zero, 4, &cv);
  int p = b_node(g, ZN_OP_PAD, "pad", 3, (int[]){x, pv, cv}, "p");
  int64_t st[2] = {2, -1}, en[2] = {-1, 0}, ax[2] = {2, 3}, sp[2] = {2, -3};
  int s = b_node(g, ZN_OP_SLICE, "slice", 5,
                 (int[]){x, b_const_i64(g, "st", 2, st), b_const_i64(g, "en", 2, en), b_const_i64(g, "ax", 2, ax),
                         b_const_i64(g, "sp", 2, sp)}, "s");
  int64_t st2[1] = {0}, en2[1] = {INT64_MAX};
  int s2 = b_node(g, ZN_OP_SLICE, "slice_all", 3,
                  (int[]){x, b_const_i64(g, "st2", 1, st2), b_const_i64(g, "en2", 1, en2)}, "s2");
  zn_graph_mark_output(g, b_out(g, p));
  zn_graph_mark_output(g, b_out(g, s));
  zn_graph_mark_output(g, b_out(g, s2));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!g->static_batch);
  CHECK_SHAPE(g, "p", "[N,3,14,14]");
  const zn_node *pn = &g->nodes[b_find_node(g, "pad")];
  CHECK_EQ_INT(pn->num_inputs, 1);
  CHECK_EQ_INT(pn->attrs.pad.num_pads, 8);
  CHECK_EQ_INT(pn->attrs.pad.pads[6], 3);
  CHECK_NEAR(pn->attrs.pad.value, 0.5, 0);
  /* axis 2: 2..8 step 2 -> 2,4,6,8 = 4; axis 3: 7 down to 1 step -3 -> 7,4,1 = 3 */
  CHECK_SHAPE(g, "s", "[N,3,4,3]");
  CHECK_SHAPE(g, "s2", "[N,3,10,8]");
  zn_graph_destroy(g);
}

static void test_overflow(void) {
  zn_graph *g = new_graph();
  int64_t d[3] = {1, INT64_C(1) << 32, INT64_C(1) << 32};
  int x = b_input(g, "x", 3, d, 0);
  int f = b_node(g, ZN_OP_FLATTEN, "flat", 1, &x, "y");
  g->nodes[f].attrs.axis.axis = 1;
  zn_graph_mark_output(g, b_out(g, f));
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("'flat' (Flatten)");
  CHECK_ERROR_HAS("overflows");
  zn_graph_destroy(g);

  g = new_graph();
  int64_t d2[4] = {1, INT64_C(1) << 31, INT64_C(1) << 31, 4};
  x = b_input(g, "x", 4, d2, 0);
  int r = b_node(g, ZN_OP_RELU, "relu", 1, &x, "y");
  zn_graph_mark_output(g, b_out(g, r));
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("overflows");
  zn_graph_destroy(g);

  /* A huge padded pool window. */
  g = new_graph();
  int64_t d3[4] = {1, 1, 4, 4};
  x = b_input(g, "x", 4, d3, 0);
  int p = b_node(g, ZN_OP_MAX_POOL, "mp", 1, &x, "y");
  b_pool_attrs(&g->nodes[p], 2, 1, 0);
  g->nodes[p].attrs.pool.pad_end[0] = INT64_MAX;
  zn_graph_mark_output(g, b_out(g, p));
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("overflows");
  zn_graph_destroy(g);
}

static void test_batch_norm_and_gemm(void) {
  zn_graph *g = new_graph();
  int64_t d[4] = {1, 4, 3, 3}, cd[1] = {4}, bad[1] = {5};
  int x = b_input(g, "x", 4, d, 0);
  int ins[5] = {x, b_const_fill(g, "s", 1, cd, 1, 1, 2), b_const_fill(g, "b", 1, cd, 2, 0, 1),
                b_const_fill(g, "m", 1, cd, 3, 0, 1), b_const_fill(g, "v", 1, bad, 4, 1, 2)};
  int n = b_node(g, ZN_OP_BATCH_NORM, "bn", 5, ins, "y");
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("'bn' (BatchNormalization): input 4 [5] must be [C]");
  zn_graph_destroy(g);

  g = new_graph();
  int64_t ad[2] = {1, 6}, bd[2] = {6, 7}, ccd[2] = {1, 7};
  x = b_input(g, "x", 2, ad, 0);
  n = b_node(g, ZN_OP_GEMM, "gemm", 3,
             (int[]){x, b_const_fill(g, "B", 2, bd, 1, 0, 1), b_const_fill(g, "C", 2, ccd, 1, 0, 1)}, "y");
  g->nodes[n].attrs.gemm.trans_a = true;  /* A' = [6,N]: K = N vs 6 */
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("K 1 != 6");
  CHECK(g->static_batch);
  g->static_batch = false;
  g->values[x].batch_axis = 0;
  g->nodes[0].attrs.gemm.trans_a = false;
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "y", "[N,7]");
  zn_graph_destroy(g);
}

/* ONNX Slice's clamping on one axis, and steps at the int64 extremes (a
 * malformed model's step near INT64_MAX must not overflow end + step). */
static void test_slice_resolve(void) {
  static const struct { int64_t dim, start, end, step, first, count; } cases[] = {
      {10, 0, 10, 1, 0, 10},        {10, 2, 8, 3, 2, 2},           {10, -3, INT64_MAX, 1, 7, 3},
      {10, 0, 10, INT64_MAX, 0, 1}, {10, 9, -11, -1, 9, 10},       {10, 9, INT64_MIN, INT64_MIN, 9, 1},
      {10, INT64_MIN, 5, 2, 0, 3},  {10, -1, -11, -4, 9, 3},       {10, 5, 5, 1, 5, 0},
      {0, 0, 1, 1, 0, 0},           {10, INT64_MAX, 0, INT64_MIN + 1, 9, 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int64_t first = -1, count = -1;
    zn_slice_resolve(cases[i].dim, cases[i].start, cases[i].end, cases[i].step, &first, &count);
    CHECK_EQ_INT(count, cases[i].count);
    if (count > 0) CHECK_EQ_INT(first, cases[i].first);
  }
}

int zn_test_main(void) {
  test_conv_pool();
  test_auto_pad();
  test_ceil_mode();
  test_conv_errors();
  test_elementwise_and_matmul();
  test_flatten_chain();
  test_reshape_forms();
  test_static_fallback();
  test_data_movement();
  test_pad_slice();
  test_slice_resolve();
  test_overflow();
  test_batch_norm_and_gemm();
  return 0;
}
