/* ConstantOfShape, Equal, Where and Expand: ref kernels against hand-computed
 * values, shape inference (the batch symbol included), folding of ViT's
 * class-token chain (Shape -> ConstantOfShape -> Mul -> Equal -> Where ->
 * Expand) to a constant [N,1,1] shape run at batch 1 and 3, an ONNX export
 * round trip of ConstantOfShape's value, and bad input with its message. */
#include "test_ref_util.h"

#include "graph/passes.h"
#include "onnx/onnx.h"

static int64_t one_i64 = 1;

static int i64_const(zn_graph *g, const char *name, int count, const int64_t *v) {
  int64_t d = count;
  return rt_const(g, name, ZN_DTYPE_INT64, 1, &d, v);
}

static void test_expand_values(void) {
  /* [3,1] -> shape [2,1,6] -> [2,3,6]: out[a][i][j] = x[i] */
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){3, 1}, -1);
  int s = i64_const(g, "s", 3, (int64_t[]){2, 1, 6});
  int y = rt_value(g, "y");
  rt_node(g, ZN_OP_EXPAND, "expand", 2, (int[]){x, s}, y);
  zn_graph_mark_output(g, y);
  float xin[3] = {1.5f, -2.0f, 7.25f}, out[36], want[36];
  for (int a = 0; a < 2; a++)
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 6; j++) want[(a * 3 + i) * 6 + j] = xin[i];
  CHECK_OK(rt_run(g, 1, (const void *[]){xin}, (void *[]){out}));
  CHECK_EQ_INT(g->values[y].num_dims, 3);
  CHECK_EQ_INT(g->values[y].dims[0], 2);
  CHECK_EQ_INT(g->values[y].dims[2], 6);
  rt_check_close("expand [3,1] to [2,3,6]", out, want, 36, 0.0f);
  zn_graph_destroy(g);

  /* Both ways: [2,3] with shape [1,1] stays [2,3]; [2,1] with [3] is [2,3]. */
  CHECK_OK(zn_graph_create(&g));
  x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){2, 1}, -1);
  s = i64_const(g, "s", 1, (int64_t[]){3});
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_EXPAND, "expand", 2, (int[]){x, s}, y);
  zn_graph_mark_output(g, y);
  float x2[2] = {4.0f, -1.0f}, o2[6], w2[6] = {4, 4, 4, -1, -1, -1};
  CHECK_OK(rt_run(g, 1, (const void *[]){x2}, (void *[]){o2}));
  rt_check_close("expand [2,1] with [3]", o2, w2, 6, 0.0f);
  zn_graph_destroy(g);
}

static void test_equal_where_values(void) {
  /* int64 Equal with broadcasting: x [2,3] == y [3] */
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_INT64, 2, (int64_t[]){2, 3}, -1);
  int y = i64_const(g, "y", 3, (int64_t[]){5, -1, 0});
  int e = rt_value(g, "e");
  rt_node(g, ZN_OP_EQUAL, "eq", 2, (int[]){x, y}, e);
  zn_graph_mark_output(g, e);
  int64_t xin[6] = {5, 5, 0, 1, -1, 0};
  uint8_t got[6], want[6] = {1, 0, 1, 0, 1, 1};
  memset(got, 0xAA, sizeof got);
  CHECK_OK(rt_run(g, 1, (const void *[]){xin}, (void *[]){got}));
  CHECK_EQ_INT(g->values[e].dtype, ZN_DTYPE_BOOL);
  for (int i = 0; i < 6; i++) CHECK_EQ_INT(got[i], want[i]);
  zn_graph_destroy(g);

  /* float32 Equal: NaN equals nothing, -0 equals +0 */
  CHECK_OK(zn_graph_create(&g));
  x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){4}, -1);
  int yf = rt_const(g, "y", ZN_DTYPE_FLOAT32, 1, (int64_t[]){4}, (float[]){NAN, 0.0f, 1.0f, 2.0f});
  e = rt_value(g, "e");
  rt_node(g, ZN_OP_EQUAL, "eq", 2, (int[]){x, yf}, e);
  zn_graph_mark_output(g, e);
  float xf[4] = {NAN, -0.0f, 1.0f, 2.5f};
  uint8_t gf[4], wf[4] = {0, 1, 1, 0};
  CHECK_OK(rt_run(g, 1, (const void *[]){xf}, (void *[]){gf}));
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(gf[i], wf[i]);
  zn_graph_destroy(g);

  /* Where: cond [2,2] (input), X [2,2], Y [2] broadcast over rows */
  CHECK_OK(zn_graph_create(&g));
  int c = rt_input(g, "c", ZN_DTYPE_BOOL, 2, (int64_t[]){2, 2}, -1);
  x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){2, 2}, -1);
  int yy = rt_const(g, "y", ZN_DTYPE_FLOAT32, 1, (int64_t[]){2}, (float[]){10.0f, 20.0f});
  int w = rt_value(g, "w");
  rt_node(g, ZN_OP_WHERE, "where", 3, (int[]){c, x, yy}, w);
  zn_graph_mark_output(g, w);
  uint8_t cin[4] = {1, 0, 0, 1};
  float xw[4] = {1, 2, 3, 4}, ow[4], ww[4] = {1, 20, 10, 4};
  CHECK_OK(rt_run(g, 1, (const void *[]){cin, xw}, (void *[]){ow}));
  rt_check_close("where", ow, ww, 4, 0.0f);
  zn_graph_destroy(g);
}

static void test_constant_of_shape_values(void) {
  /* shape [2,3] (a constant), value int64 -7; and float32 0 when no value */
  for (int k = 0; k < 2; k++) {
    zn_graph *g = NULL;
    CHECK_OK(zn_graph_create(&g));
    int s = i64_const(g, "s", 2, (int64_t[]){2, 3});
    int y = rt_value(g, "y");
    zn_node *n = rt_node(g, ZN_OP_CONSTANT_OF_SHAPE, "cos", 1, &s, y);
    n->attrs.fill.dtype = ZN_DTYPE_FLOAT32;
    if (k == 0) {
      const int64_t v = -7;
      n->attrs.fill.dtype = ZN_DTYPE_INT64;
      memcpy(n->attrs.fill.value, &v, 8);
    }
    zn_graph_mark_output(g, y);
    int64_t out[6];
    memset(out, 0x55, sizeof out);
    CHECK_OK(zn_graph_verify(g));
    CHECK_OK(rt_run(g, 1, (const void *[]){NULL}, (void *[]){out}));
    CHECK_EQ_INT(g->values[y].dtype, k == 0 ? ZN_DTYPE_INT64 : ZN_DTYPE_FLOAT32);
    CHECK_EQ_INT(g->values[y].num_dims, 2);
    for (int i = 0; i < 6; i++) {
      if (k == 0) CHECK_EQ_INT(out[i], -7);
      else CHECK_NEAR(((float *)out)[i], 0.0f, 0.0);
    }
    zn_graph_destroy(g);
  }
}

/* ViT's class token: x [N,4,2,2] -> Reshape [N,4,4] -> Transpose [N,4,4]; its
 * shape -> Gather 0 -> Unsqueeze -> Concat(., [1], [-1]) = t -> Shape ->
 * ConstantOfShape(1) -> Mul(-1) -> Equal(t, .) -> Where(., ones, t) = [N,1,1]
 * -> Expand(class token [1,1,4]) -> Concat with the patches on axis 1. */
static zn_graph *vit_chain(void) {
  zn_graph *g = NULL;
  if (zn_graph_create(&g) != ZN_OK) return NULL;
  int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, (int64_t[]){1, 4, 2, 2}, 0);
  int ps = i64_const(g, "ps", 3, (int64_t[]){0, 4, -1});
  int p = rt_value(g, "p"), pt = rt_value(g, "pt");
  rt_node(g, ZN_OP_RESHAPE, "reshape", 2, (int[]){x, ps}, p);
  zn_node *tr = rt_node(g, ZN_OP_TRANSPOSE, "transpose", 1, &p, pt);
  tr->attrs.transpose = (zn_transpose_attrs){3, {0, 2, 1}};
  int sh = rt_value(g, "sh"), n0 = rt_value(g, "n0"), n1 = rt_value(g, "n1"), t = rt_value(g, "t");
  rt_node(g, ZN_OP_SHAPE, "shape", 1, &pt, sh);
  int64_t zero = 0;
  int idx = -1;
  zn_graph_add_const(g, "idx", ZN_DTYPE_INT64, 0, NULL, &zero, 8, &idx);
  rt_node(g, ZN_OP_GATHER, "gather", 2, (int[]){sh, idx}, n0);
  zn_node *un = rt_node(g, ZN_OP_UNSQUEEZE, "unsqueeze", 1, &n0, n1);
  un->attrs.axes.num_axes = 1;
  int c1 = i64_const(g, "c1", 1, &one_i64), cm1 = i64_const(g, "cm1", 1, (int64_t[]){-1});
  rt_node(g, ZN_OP_CONCAT, "concat", 3, (int[]){n1, c1, cm1}, t)->attrs.axis.axis = 0;
  int ts = rt_value(g, "ts"), ones = rt_value(g, "ones"), neg = rt_value(g, "neg"), eq = rt_value(g, "eq"),
      wh = rt_value(g, "wh"), cls = rt_value(g, "cls"), y = rt_value(g, "y");
  rt_node(g, ZN_OP_SHAPE, "shape_t", 1, &t, ts);
  zn_node *cos = rt_node(g, ZN_OP_CONSTANT_OF_SHAPE, "cos", 1, &ts, ones);
  cos->attrs.fill.dtype = ZN_DTYPE_INT64;
  memcpy(cos->attrs.fill.value, &one_i64, 8);
  int m1 = -1;
  int64_t minus1 = -1;
  zn_graph_add_const(g, "m1", ZN_DTYPE_INT64, 0, NULL, &minus1, 8, &m1);
  rt_node(g, ZN_OP_MUL, "mul", 2, (int[]){ones, m1}, neg);
  rt_node(g, ZN_OP_EQUAL, "equal", 2, (int[]){t, neg}, eq);
  rt_node(g, ZN_OP_WHERE, "where", 3, (int[]){eq, ones, t}, wh);
  int tok = rt_const(g, "class_token", ZN_DTYPE_FLOAT32, 3, (int64_t[]){1, 1, 4}, (float[]){0.5f, -1.5f, 2.0f, 3.0f});
  rt_node(g, ZN_OP_EXPAND, "expand", 2, (int[]){tok, wh}, cls);
  rt_node(g, ZN_OP_CONCAT, "concat_cls", 2, (int[]){cls, pt}, y)->attrs.axis.axis = 1;
  zn_graph_mark_output(g, y);
  return g;
}

static void test_vit_chain_folds_and_runs(void) {
  zn_graph *g = vit_chain();
  CHECK(g != NULL);
  if (!g) return;
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!g->static_batch);
  const zn_value *y = &g->values[zn_graph_find_value(g, "y")];
  CHECK_EQ_INT(y->num_dims, 3);
  CHECK_EQ_INT(y->batch_axis, 0);
  CHECK_EQ_INT(y->dims[1], 5);
  const zn_value *cls = &g->values[zn_graph_find_value(g, "cls")];
  CHECK_EQ_INT(cls->batch_axis, 0);  /* [N,1,4] */
  CHECK_EQ_INT(cls->dims[0], 1);
  CHECK_EQ_INT(cls->dims[2], 4);
  CHECK_OK(zn_graph_fold_constants(g));
  /* Reshape, Transpose, Expand, Concat are left; the shape chain is a constant */
  CHECK_EQ_INT(g->num_nodes, 4);
  const zn_value *wh = &g->values[zn_graph_find_value(g, "wh")];
  CHECK(wh->data != NULL && wh->producer == -1);
  if (wh->data) {
    const int64_t *w = wh->data;
    CHECK_EQ_INT(w[0], 1);  /* 1 * N */
    CHECK_EQ_INT(w[1], 1);
    CHECK_EQ_INT(w[2], 1);
    CHECK_EQ_INT(wh->batch_elems, 1);
  }
  for (int64_t batch = 1; batch <= 3; batch += 2) {
    float x[3 * 16], out[3 * 20], want[3 * 20];
    rt_fill(x, batch * 16, 7 + (uint64_t)batch);
    const float tok[4] = {0.5f, -1.5f, 2.0f, 3.0f};
    for (int64_t b = 0; b < batch; b++) {
      for (int j = 0; j < 4; j++) want[b * 20 + j] = tok[j];
      for (int i = 0; i < 4; i++)      /* patch i, channel j = x[b][j][i] */
        for (int j = 0; j < 4; j++) want[b * 20 + (1 + i) * 4 + j] = x[b * 16 + j * 4 + i];
    }
    CHECK_OK(rt_run(g, batch, (const void *[]){x}, (void *[]){out}));
    rt_check_close(batch == 1 ? "vit chain at batch 1" : "vit chain at batch 3", out, want, batch * 20, 0.0f);
  }
  zn_graph_destroy(g);
}

/* Equal on c * N: false against 0 or the other sign, true against the same
 * c * N, left alone (not folded) when it depends on N (2N == 4 holds at N = 2). */
static void test_equal_batch_symbol(void) {
  const int64_t other[4] = {-1, 0, 4, 0};
  const int want_folded[4] = {1, 1, 0, 1}, want_first[4] = {0, 0, -1, 1};
  for (int k = 0; k < 4; k++) {
    zn_graph *g = NULL;
    CHECK_OK(zn_graph_create(&g));
    int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, 0);
    int sh = rt_value(g, "sh"), eq = rt_value(g, "eq"), y = rt_value(g, "y");
    rt_node(g, ZN_OP_SHAPE, "shape", 1, &x, sh);          /* [2N, 3] */
    int o = k == 3 ? sh : i64_const(g, "o", 2, (int64_t[]){other[k], 3});  /* k = 3: [2N,3] itself */
    rt_node(g, ZN_OP_EQUAL, "equal", 2, (int[]){sh, o}, eq);
    int zero_f = rt_const(g, "z", ZN_DTYPE_FLOAT32, 1, (int64_t[]){1}, (float[]){0.0f});
    int one_f = rt_const(g, "one", ZN_DTYPE_FLOAT32, 1, (int64_t[]){1}, (float[]){1.0f});
    rt_node(g, ZN_OP_WHERE, "where", 3, (int[]){eq, one_f, zero_f}, y);
    zn_graph_mark_output(g, y);
    CHECK_OK(zn_graph_infer_shapes(g));
    CHECK_OK(zn_graph_fold_constants(g));
    const zn_value *e = &g->values[eq];
    CHECK_EQ_INT(e->data != NULL, want_folded[k]);
    if (e->data) {
      const uint8_t *b = e->data;
      CHECK_EQ_INT(b[0], want_first[k]);
      CHECK_EQ_INT(b[1], 1);
    }
    zn_graph_destroy(g);
  }
}

static void test_shape_rules_with_batch(void) {
  /* Where: cond [N,1] with X [1,5] and Y [] -> [N,5]; Equal [N,3] int64 -> bool [N,3] */
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int c = rt_input(g, "c", ZN_DTYPE_BOOL, 2, (int64_t[]){1, 1}, 0);
  int x = rt_const(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){1, 5}, (float[]){1, 2, 3, 4, 5});
  int yv = rt_const(g, "y", ZN_DTYPE_FLOAT32, 0, NULL, (float[]){0.0f});
  int w = rt_value(g, "w");
  rt_node(g, ZN_OP_WHERE, "where", 3, (int[]){c, x, yv}, w);
  int a = rt_input(g, "a", ZN_DTYPE_INT64, 2, (int64_t[]){1, 3}, 0);
  int e = rt_value(g, "e");
  rt_node(g, ZN_OP_EQUAL, "equal", 2, (int[]){a, a}, e);
  zn_graph_mark_output(g, w);
  zn_graph_mark_output(g, e);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(g->values[w].batch_axis, 0);
  CHECK_EQ_INT(g->values[w].dims[1], 5);
  CHECK_EQ_INT(g->values[w].dtype, ZN_DTYPE_FLOAT32);
  CHECK_EQ_INT(g->values[e].batch_axis, 0);
  CHECK_EQ_INT(g->values[e].dtype, ZN_DTYPE_BOOL);
  zn_graph_destroy(g);

  /* Expand's shape [2N,1,1] (a constant with a batch element) on [1,1,4] -> [2N,1,4];
   * ConstantOfShape of it -> [2N,1,1] */
  CHECK_OK(zn_graph_create(&g));
  int t = rt_const(g, "t", ZN_DTYPE_FLOAT32, 3, (int64_t[]){1, 1, 4}, (float[]){1, 2, 3, 4});
  int s = i64_const(g, "s", 3, (int64_t[]){2, 1, 1});
  g->values[s].batch_elems = 1;
  int o = rt_value(g, "o"), f = rt_value(g, "f");
  rt_node(g, ZN_OP_EXPAND, "expand", 2, (int[]){t, s}, o);
  rt_node(g, ZN_OP_CONSTANT_OF_SHAPE, "cos", 1, &s, f)->attrs.fill.dtype = ZN_DTYPE_FLOAT32;
  zn_graph_mark_output(g, o);
  zn_graph_mark_output(g, f);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(g->values[o].batch_axis, 0);
  CHECK_EQ_INT(g->values[o].dims[0], 2);
  CHECK_EQ_INT(g->values[o].dims[2], 4);
  CHECK_EQ_INT(g->values[f].batch_axis, 0);
  CHECK_EQ_INT(g->values[f].num_dims, 3);
  float out[2 * 3 * 4], fill[2 * 3];
  CHECK_OK(rt_run(g, 3, (const void *[]){NULL}, (void *[]){out, fill}));
  for (int i = 0; i < 24; i++) CHECK_NEAR(out[i], (float)(1 + i % 4), 0.0);
  zn_graph_destroy(g);
}

/* One node over constants/inputs that must fail shape inference (or verify) with text. */
typedef enum bad_kind { BAD_EXPAND, BAD_COS, BAD_EQUAL, BAD_WHERE } bad_kind;

static void check_bad(const char *what, bad_kind kind, zn_dtype shape_dt, int shape_rank, const int64_t *shape_dims,
                      const int64_t *shape_vals, zn_status want, const char *text) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t n = 1;
  for (int i = 0; i < shape_rank; i++) n *= shape_dims[i];
  int32_t v32[8];
  for (int64_t i = 0; i < n && i < 8; i++) v32[i] = (int32_t)shape_vals[i];
  int s = rt_const(g, "s", shape_dt, shape_rank, shape_dims, shape_dt == ZN_DTYPE_INT32 ? (const void *)v32 : shape_vals);
  int x = rt_const(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6});
  int y = rt_value(g, "y");
  switch (kind) {
  case BAD_EXPAND: rt_node(g, ZN_OP_EXPAND, "bad", 2, (int[]){x, s}, y); break;
  case BAD_COS: rt_node(g, ZN_OP_CONSTANT_OF_SHAPE, "bad", 1, &s, y)->attrs.fill.dtype = ZN_DTYPE_FLOAT32; break;
  case BAD_EQUAL: rt_node(g, ZN_OP_EQUAL, "bad", 2, (int[]){x, s}, y); break;
  case BAD_WHERE: rt_node(g, ZN_OP_WHERE, "bad", 3, (int[]){s, x, x}, y); break;
  }
  zn_graph_mark_output(g, y);
  zn_status st = zn_graph_verify(g);
  if (st == ZN_OK) st = zn_graph_infer_shapes(g);
  zn_test_checks++;
  if (st != want) {
    zn_test_failures++;
    fprintf(stderr, "%s: status %d (%s), want %d; %s\n", what, (int)st, zn_status_string(st), (int)want, zn_last_error());
  }
  CHECK_ERROR_HAS(text);
  zn_graph_destroy(g);
}

static void test_bad_inputs(void) {
  const zn_status inv = ZN_ERR_INVALID_MODEL;
  check_bad("expand 2-D shape", BAD_EXPAND, ZN_DTYPE_INT64, 2, (int64_t[]){1, 2}, (int64_t[]){3, 2}, inv, "must be 1-D");
  check_bad("expand int32 shape", BAD_EXPAND, ZN_DTYPE_INT32, 1, (int64_t[]){2}, (int64_t[]){3, 2}, inv, "not int64");
  check_bad("expand no broadcast", BAD_EXPAND, ZN_DTYPE_INT64, 1, (int64_t[]){1}, (int64_t[]){4}, inv,
            "do not broadcast");
  check_bad("expand negative", BAD_EXPAND, ZN_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){-3, 2}, inv, "negative");
  check_bad("expand rank 9", BAD_EXPAND, ZN_DTYPE_INT64, 1, (int64_t[]){9}, (int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1},
            inv, "rank exceeds");
  check_bad("expand absurd", BAD_EXPAND, ZN_DTYPE_INT64, 1, (int64_t[]){4}, (int64_t[]){1 << 20, 1 << 20, 3, 2}, inv,
            "bytes per image");
  check_bad("cos absurd", BAD_COS, ZN_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){1 << 20, 1 << 20}, inv,
            "would take more than 1073741824 bytes");
  check_bad("cos overflow", BAD_COS, ZN_DTYPE_INT64, 1, (int64_t[]){3}, (int64_t[]){INT64_MAX, 2, 3}, inv,
            "bytes per image");
  check_bad("equal dtypes", BAD_EQUAL, ZN_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){1, 2}, inv, "differ in dtype");
  check_bad("where int condition", BAD_WHERE, ZN_DTYPE_INT64, 1, (int64_t[]){2}, (int64_t[]){1, 0}, inv,
            "not bool");

  /* shapes that do not broadcast: Equal [3,2] vs [4]; Where cond [3] vs X [3,2] */
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int a = rt_const(g, "a", ZN_DTYPE_FLOAT32, 2, (int64_t[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6});
  int b = rt_const(g, "b", ZN_DTYPE_FLOAT32, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
  int e = rt_value(g, "e");
  rt_node(g, ZN_OP_EQUAL, "eq", 2, (int[]){a, b}, e);
  zn_graph_mark_output(g, e);
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("[3,2] and [4] do not broadcast");
  zn_graph_destroy(g);

  CHECK_OK(zn_graph_create(&g));
  uint8_t cv[3] = {1, 0, 1};
  int c = rt_const(g, "c", ZN_DTYPE_BOOL, 1, (int64_t[]){3}, cv);
  a = rt_const(g, "a", ZN_DTYPE_FLOAT32, 2, (int64_t[]){3, 2}, (float[]){1, 2, 3, 4, 5, 6});
  int w = rt_value(g, "w");
  rt_node(g, ZN_OP_WHERE, "where", 3, (int[]){c, a, a}, w);
  zn_graph_mark_output(g, w);
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("do not broadcast");
  zn_graph_destroy(g);

  /* Where with two inputs: the verifier */
  CHECK_OK(zn_graph_create(&g));
  c = rt_const(g, "c", ZN_DTYPE_BOOL, 1, (int64_t[]){3}, cv);
  a = rt_const(g, "a", ZN_DTYPE_FLOAT32, 1, (int64_t[]){3}, (float[]){1, 2, 3});
  w = rt_value(g, "w");
  rt_node(g, ZN_OP_WHERE, "where", 2, (int[]){c, a}, w);
  zn_graph_mark_output(g, w);
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("2 inputs, expected 3..3");
  zn_graph_destroy(g);

  /* Expand's shape computed at run time from an input: unsupported, named */
  CHECK_OK(zn_graph_create(&g));
  int s = rt_input(g, "s", ZN_DTYPE_INT64, 1, (int64_t[]){2}, -1);
  a = rt_const(g, "a", ZN_DTYPE_FLOAT32, 1, (int64_t[]){1}, (float[]){1});
  int o = rt_value(g, "o");
  rt_node(g, ZN_OP_EXPAND, "expand", 2, (int[]){a, s}, o);
  zn_graph_mark_output(g, o);
  CHECK_STATUS(zn_graph_infer_shapes(g), ZN_ERR_UNSUPPORTED_OP);
  CHECK_ERROR_HAS("shape input 's' is not a constant int tensor");
  zn_graph_destroy(g);
}

/* ConstantOfShape's value (uint8 3) survives export and import; Equal/Where/Expand too. */
static void test_export_round_trip(void) {
  zn_graph *g = vit_chain();
  CHECK(g != NULL);
  if (!g) return;
  zn_node *cos = NULL;
  for (int i = 0; i < g->num_nodes; i++)
    if (g->nodes[i].op == ZN_OP_CONSTANT_OF_SHAPE) cos = &g->nodes[i];
  CHECK(cos != NULL);
  zn_graph *h = rt_round_trip(g);
  if (h) {
    int seen = 0;
    for (int i = 0; i < h->num_nodes; i++) {
      const zn_node *n = &h->nodes[i];
      if (n->op == ZN_OP_CONSTANT_OF_SHAPE) {
        seen++;
        CHECK_EQ_INT(n->attrs.fill.dtype, ZN_DTYPE_INT64);
        int64_t v;
        memcpy(&v, n->attrs.fill.value, 8);
        CHECK_EQ_INT(v, 1);
      }
      seen += (n->op == ZN_OP_EQUAL) + (n->op == ZN_OP_WHERE) + (n->op == ZN_OP_EXPAND);
    }
    CHECK_EQ_INT(seen, 4);
    CHECK_OK(zn_graph_verify(h));
    CHECK_OK(zn_graph_infer_shapes(h));
    float x[3 * 16], out[3 * 20];
    rt_fill(x, 48, 3);
    CHECK_OK(rt_run(h, 3, (const void *[]){x}, (void *[]){out}));
    CHECK_NEAR(out[20], 0.5f, 0.0);  /* image 1's class token */
    CHECK_NEAR(out[43], 3.0f, 0.0);  /* image 2's */
  }
  zn_graph_destroy(h);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  test_expand_values();
  test_equal_where_values();
  test_constant_of_shape_values();
  test_vit_chain_folds_and_runs();
  test_equal_batch_symbol();
  test_shape_rules_with_batch();
  test_bad_inputs();
  test_export_round_trip();
  return 0;
}
