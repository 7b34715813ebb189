/* Mod, Not, Range and ScatterND: ref kernels against hand-computed values,
 * shape rules (the batch symbol included), folding of Swin-T's shapes (window
 * pads from Shape through Mod, the shifted-window attention mask built by
 * ScatterND with Range indices then Equal/Not/Where) at batch 1 and 3, an ONNX
 * export round trip of the attributes, and bad input with its message. */
#include "test_ref_util.h"

#include "graph/passes.h"
#include "onnx/onnx.h"

static int i64_const(zn_graph *g, const char *name, int count, const int64_t *v) {
  int64_t d = count;
  return rt_const(g, name, ZN_DTYPE_INT64, 1, &d, v);
}

static int i64_scalar(zn_graph *g, const char *name, int64_t v) {
  int id = -1;
  zn_graph_add_const(g, name, ZN_DTYPE_INT64, 0, NULL, &v, 8, &id);
  return id;
}

static int mod_graph(zn_graph **gp, zn_dtype t, bool fmod, int64_t n, const void *b_vals) {
  CHECK_OK(zn_graph_create(gp));
  zn_graph *g = *gp;
  int a = rt_input(g, "a", t, 1, (int64_t[]){n}, -1);
  int b = rt_const(g, "b", t, 1, (int64_t[]){n}, b_vals);
  int y = rt_value(g, "y");
  rt_node(g, ZN_OP_MOD, "mod", 2, (int[]){a, b}, y)->attrs.mod.fmod = fmod;
  zn_graph_mark_output(g, y);
  return y;
}

static void test_mod_values(void) {
  /* int64 with both sign rules: Python's % takes the divisor's sign, fmod the dividend's */
  const int64_t a[6] = {7, -7, 7, -7, INT64_MIN, 0}, b[6] = {3, 3, -3, -3, -1, 5};
  const int64_t want_py[6] = {1, 2, -2, -1, 0, 0}, want_c[6] = {1, -1, 1, -1, 0, 0};
  for (int fmod = 0; fmod < 2; fmod++) {
    zn_graph *g = NULL;
    mod_graph(&g, ZN_DTYPE_INT64, fmod, 6, b);
    int64_t out[6];
    CHECK_OK(rt_run(g, 1, (const void *[]){a}, (void *[]){out}));
    for (int i = 0; i < 6; i++) CHECK_EQ_INT(out[i], fmod ? want_c[i] : want_py[i]);
    zn_graph_destroy(g);
  }
  /* int32, int8, uint8 */
  zn_graph *g = NULL;
  const int32_t a32[4] = {-4, 13, 5, -9}, b32[4] = {3, -5, 5, 4}, w32[4] = {2, -2, 0, 3};
  int32_t o32[4];
  mod_graph(&g, ZN_DTYPE_INT32, false, 4, b32);
  CHECK_OK(rt_run(g, 1, (const void *[]){a32}, (void *[]){o32}));
  for (int i = 0; i < 4; i++) CHECK_EQ_INT(o32[i], w32[i]);
  zn_graph_destroy(g);
  const int8_t a8[3] = {-128, 100, -3}, b8[3] = {7, -7, 2}, w8[3] = {5, -5, 1};
  int8_t o8[3];
  mod_graph(&g, ZN_DTYPE_INT8, false, 3, b8);
  CHECK_OK(rt_run(g, 1, (const void *[]){a8}, (void *[]){o8}));
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(o8[i], w8[i]);
  zn_graph_destroy(g);
  const uint8_t au[3] = {255, 4, 9}, bu[3] = {16, 5, 3}, wu[3] = {15, 4, 0};
  uint8_t ou[3];
  mod_graph(&g, ZN_DTYPE_UINT8, false, 3, bu);
  CHECK_OK(rt_run(g, 1, (const void *[]){au}, (void *[]){ou}));
  for (int i = 0; i < 3; i++) CHECK_EQ_INT(ou[i], wu[i]);
  zn_graph_destroy(g);
  /* float32 (fmod = 1): C's fmodf */
  const float af[4] = {5.5f, -5.5f, 2.0f, 7.0f}, bf[4] = {2.0f, 2.0f, -0.75f, 7.0f};
  float of[4], wf[4];
  for (int i = 0; i < 4; i++) wf[i] = fmodf(af[i], bf[i]);
  mod_graph(&g, ZN_DTYPE_FLOAT32, true, 4, bf);
  CHECK_OK(rt_run(g, 1, (const void *[]){af}, (void *[]){of}));
  rt_check_close("fmod float32", of, wf, 4, 0.0f);
  CHECK_NEAR(of[1], -1.5f, 0.0);
  zn_graph_destroy(g);

  /* broadcast: [2,3] mod [3], with the batch on axis 0 at batch 2 */
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_INT64, 2, (int64_t[]){1, 3}, 0);
  int d = i64_const(g, "d", 3, (int64_t[]){2, 3, 4});
  int y = rt_value(g, "y");
  rt_node(g, ZN_OP_MOD, "mod", 2, (int[]){x, d}, y);
  zn_graph_mark_output(g, y);
  const int64_t xb[6] = {5, 5, 5, -1, -1, -1};
  int64_t ob[6];
  CHECK_OK(rt_run(g, 2, (const void *[]){xb}, (void *[]){ob}));
  const int64_t wb[6] = {1, 2, 1, 1, 2, 3};
  for (int i = 0; i < 6; i++) CHECK_EQ_INT(ob[i], wb[i]);
  CHECK_EQ_INT(g->values[y].batch_axis, 0);
  zn_graph_destroy(g);
}

static void test_not_values(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_BOOL, 2, (int64_t[]){1, 3}, 0);
  int y = rt_value(g, "y");
  rt_node(g, ZN_OP_NOT, "not", 1, &x, y);
  zn_graph_mark_output(g, y);
  const uint8_t in[6] = {1, 0, 0, 1, 1, 0};
  uint8_t out[6];
  CHECK_OK(rt_run(g, 2, (const void *[]){in}, (void *[]){out}));
  for (int i = 0; i < 6; i++) CHECK_EQ_INT(out[i], !in[i]);
  CHECK_EQ_INT(g->values[y].dtype, ZN_DTYPE_BOOL);
  zn_graph_destroy(g);
}

/* Range over constant scalars, run by the kernel (rt_run infers shapes but does not fold). */
static zn_graph *range_graph(zn_dtype t, const void *s, const void *l, const void *d, int *y_out) {
  zn_graph *g = NULL;
  if (zn_graph_create(&g) != ZN_OK) return NULL;
  const size_t es = zn_dtype_size(t);
  int a = -1, b = -1, c = -1;
  zn_graph_add_const(g, "start", t, 0, NULL, s, es, &a);
  zn_graph_add_const(g, "limit", t, 0, NULL, l, es, &b);
  zn_graph_add_const(g, "delta", t, 0, NULL, d, es, &c);
  *y_out = rt_value(g, "y");
  rt_node(g, ZN_OP_RANGE, "range", 3, (int[]){a, b, c}, *y_out);
  zn_graph_mark_output(g, *y_out);
  return g;
}

static void test_range_values(void) {
  int y;
  const int64_t s64 = -3, l64 = 8, d64 = 4;  /* -3, 1, 5 */
  zn_graph *g = range_graph(ZN_DTYPE_INT64, &s64, &l64, &d64, &y);
  int64_t o64[3];
  CHECK_OK(rt_run(g, 1, (const void *[]){NULL}, (void *[]){o64}));
  CHECK_EQ_INT(g->values[y].dims[0], 3);
  CHECK_EQ_INT(o64[0], -3);
  CHECK_EQ_INT(o64[1], 1);
  CHECK_EQ_INT(o64[2], 5);
  zn_graph_destroy(g);

  const int32_t s32 = 10, l32 = 4, d32 = -3;  /* 10, 7 */
  g = range_graph(ZN_DTYPE_INT32, &s32, &l32, &d32, &y);
  int32_t o32[2];
  CHECK_OK(rt_run(g, 1, (const void *[]){NULL}, (void *[]){o32}));
  CHECK_EQ_INT(g->values[y].dims[0], 2);
  CHECK_EQ_INT(o32[0], 10);
  CHECK_EQ_INT(o32[1], 7);
  zn_graph_destroy(g);

  const float sf = 1.0f, lf = 2.0f, df = 0.25f;  /* 1, 1.25, 1.5, 1.75 */
  g = range_graph(ZN_DTYPE_FLOAT32, &sf, &lf, &df, &y);
  float of[4];
  CHECK_OK(rt_run(g, 1, (const void *[]){NULL}, (void *[]){of}));
  CHECK_EQ_INT(g->values[y].dims[0], 4);
  rt_check_close("range float32", of, (const float[]){1.0f, 1.25f, 1.5f, 1.75f}, 4, 0.0f);
  zn_graph_destroy(g);

  /* an empty range has shape [0]; folding gives the int values too */
  const int64_t e_l = -3;
  g = range_graph(ZN_DTYPE_INT64, &s64, &e_l, &d64, &y);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(g->values[y].dims[0], 0);
  zn_graph_destroy(g);
}

static void test_scatter_nd_values(void) {
  /* data [4,3] (a graph input), rows 3 and 1 replaced by updates [2,3] */
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){4, 3}, -1);
  int64_t idx_rows[2] = {3, -3};  /* -3 is row 1 */
  int ix = rt_const(g, "ix", ZN_DTYPE_INT64, 2, (int64_t[]){2, 1}, idx_rows);
  int up = rt_const(g, "up", ZN_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, (float[]){10, 11, 12, 20, 21, 22});
  int y = rt_value(g, "y");
  rt_node(g, ZN_OP_SCATTER_ND, "scatter", 3, (int[]){x, ix, up}, y);
  zn_graph_mark_output(g, y);
  float in[12], out[12], want[12];
  for (int i = 0; i < 12; i++) in[i] = want[i] = (float)i;
  for (int j = 0; j < 3; j++) want[9 + j] = (float)(10 + j), want[3 + j] = (float)(20 + j);
  CHECK_OK(rt_run(g, 1, (const void *[]){in}, (void *[]){out}));
  rt_check_close("scatternd rows", out, want, 12, 0.0f);
  zn_graph_destroy(g);

  /* element tuples [2,2] into int64 data [2,3]; a repeated tuple: the last update wins */
  CHECK_OK(zn_graph_create(&g));
  x = rt_input(g, "x", ZN_DTYPE_INT64, 2, (int64_t[]){2, 3}, -1);
  ix = rt_const(g, "ix", ZN_DTYPE_INT64, 2, (int64_t[]){3, 2}, (int64_t[]){0, 2, 1, -1, 1, 2});
  up = i64_const(g, "up", 3, (int64_t[]){-5, 7, 9});
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_SCATTER_ND, "scatter", 3, (int[]){x, ix, up}, y);
  zn_graph_mark_output(g, y);
  const int64_t xi[6] = {1, 2, 3, 4, 5, 6};
  int64_t oi[6];
  CHECK_OK(rt_run(g, 1, (const void *[]){xi}, (void *[]){oi}));
  const int64_t wi[6] = {1, 2, -5, 4, 5, 9};
  for (int i = 0; i < 6; i++) CHECK_EQ_INT(oi[i], wi[i]);
  zn_graph_destroy(g);

  /* add and mul reductions, a repeated index combining twice */
  for (int red = ZN_SCATTER_ADD; red <= ZN_SCATTER_MUL; red++) {
    CHECK_OK(zn_graph_create(&g));
    x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){4}, -1);
    ix = rt_const(g, "ix", ZN_DTYPE_INT64, 2, (int64_t[]){3, 1}, (int64_t[]){1, 3, 1});
    up = rt_const(g, "up", ZN_DTYPE_FLOAT32, 1, (int64_t[]){3}, (float[]){2, 3, 4});
    y = rt_value(g, "y");
    rt_node(g, ZN_OP_SCATTER_ND, "scatter", 3, (int[]){x, ix, up}, y)->attrs.scatter.reduction =
        (zn_scatter_reduction)red;
    zn_graph_mark_output(g, y);
    const float xf[4] = {1, 2, 3, 4};
    float of[4];
    CHECK_OK(rt_run(g, 1, (const void *[]){xf}, (void *[]){of}));
    const float w_add[4] = {1, 8, 3, 7}, w_mul[4] = {1, 16, 3, 12};
    rt_check_close(red == ZN_SCATTER_ADD ? "scatternd add" : "scatternd mul", of,
                   red == ZN_SCATTER_ADD ? w_add : w_mul, 4, 0.0f);
    zn_graph_destroy(g);
  }
}

/* Swin's window padding: pads = (w - dim % w) % w from the input's shape, the
 * batch symbolic. Folds to a Pad with constant pads; runs at batch 1 and 3. */
static void test_swin_pads_fold_and_run(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 4, (int64_t[]){1, 5, 4, 2}, 0);  /* [N,5,4,2], window 3 */
  int sh = rt_value(g, "sh"), hw = rt_value(g, "hw"), m = rt_value(g, "m"), s = rt_value(g, "s"),
      p = rt_value(g, "p"), pads = rt_value(g, "pads"), y = rt_value(g, "y");
  rt_node(g, ZN_OP_SHAPE, "shape", 1, &x, sh);
  int i12 = i64_const(g, "i12", 2, (int64_t[]){1, 2});
  rt_node(g, ZN_OP_GATHER, "gather", 2, (int[]){sh, i12}, hw);  /* [5, 4] */
  int w = i64_scalar(g, "w", 3);
  rt_node(g, ZN_OP_MOD, "mod1", 2, (int[]){hw, w}, m);           /* [2, 1] */
  rt_node(g, ZN_OP_SUB, "sub", 2, (int[]){w, m}, s);             /* [1, 2] */
  rt_node(g, ZN_OP_MOD, "mod2", 2, (int[]){s, w}, p);            /* [1, 2] */
  int z4 = i64_const(g, "z4", 4, (int64_t[]){0, 0, 0, 0}), z1 = i64_const(g, "z1", 1, (int64_t[]){0});
  rt_node(g, ZN_OP_CONCAT, "concat", 4, (int[]){z4, z1, p, z1}, pads)->attrs.axis.axis = 0;
  rt_node(g, ZN_OP_PAD, "pad", 2, (int[]){x, pads}, y);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!g->static_batch);
  CHECK_EQ_INT(g->values[y].batch_axis, 0);
  CHECK_EQ_INT(g->values[y].dims[1], 6);
  CHECK_EQ_INT(g->values[y].dims[2], 6);
  CHECK_OK(zn_graph_fold_constants(g));
  CHECK_EQ_INT(g->num_nodes, 1);  /* the Pad alone */
  for (int64_t batch = 1; batch <= 3; batch += 2) {
    float in[3 * 40], out[3 * 72];
    rt_fill(in, batch * 40, 11 + (uint64_t)batch);
    CHECK_OK(rt_run(g, batch, (const void *[]){in}, (void *[]){out}));
    int bad = 0;
    for (int64_t b = 0; b < batch; b++)
      for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++)
          for (int c = 0; c < 2; c++) {
            const float want = i < 5 && j < 4 ? in[((b * 5 + i) * 4 + j) * 2 + c] : 0.0f;
            bad += out[((b * 6 + i) * 6 + j) * 2 + c] != want;
          }
    CHECK_EQ_INT(bad, 0);
  }
  zn_graph_destroy(g);
}

/* Mod of a batch-scaled shape element: 2N mod 2 = 0 folds, 2N mod 3 is left alone. */
static void test_mod_batch_symbol(void) {
  for (int k = 0; k < 2; k++) {
    zn_graph *g = NULL;
    CHECK_OK(zn_graph_create(&g));
    int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){2, 3}, 0);
    int sh = rt_value(g, "sh"), m = rt_value(g, "m");
    rt_node(g, ZN_OP_SHAPE, "shape", 1, &x, sh);
    int d = i64_const(g, "d", 2, (int64_t[]){k ? 3 : 2, 2});
    rt_node(g, ZN_OP_MOD, "mod", 2, (int[]){sh, d}, m);
    int y = rt_value(g, "y");
    rt_node(g, ZN_OP_CAST, "cast", 1, &m, y)->attrs.cast.to = ZN_DTYPE_FLOAT32;
    zn_graph_mark_output(g, y);
    CHECK_OK(zn_graph_infer_shapes(g));
    CHECK_OK(zn_graph_fold_constants(g));
    const zn_value *mv = &g->values[m];
    CHECK_EQ_INT(mv->data != NULL, k == 0);
    if (mv->data) {
      CHECK_EQ_INT(((const int64_t *)mv->data)[0], 0);
      CHECK_EQ_INT(((const int64_t *)mv->data)[1], 1);
      CHECK_EQ_INT(mv->batch_elems, 0);
    } else {
      float out[2];  /* at batch 2: [4, 3] mod [3, 2] = [1, 1] */
      CHECK_OK(rt_run(g, 2, (const void *[]){(float[12]){0}}, (void *[]){out}));
      CHECK_NEAR(out[0], 1.0f, 0.0);
      CHECK_NEAR(out[1], 1.0f, 0.0);
    }
    zn_graph_destroy(g);
  }
}

/* Swin's attention mask, small: zeros [4,4] (ConstantOfShape), rows from a Range
 * set by ScatterND, then mask = Where(Not(Equal(m, 0)), -100, 0) added to the
 * attention [N,4,4]. Everything but the Add folds. */
static void test_swin_mask_folds(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int attn = rt_input(g, "attn", ZN_DTYPE_FLOAT32, 3, (int64_t[]){1, 4, 4}, 0);
  int shp = i64_const(g, "shp", 2, (int64_t[]){4, 4});
  int zeros = rt_value(g, "zeros"), r = rt_value(g, "r"), ix = rt_value(g, "ix"), up = rt_value(g, "up"), m = rt_value(g, "m"), eq = rt_value(g, "eq"), ne = rt_value(g, "ne"),
      mask = rt_value(g, "mask"), y = rt_value(g, "y");
  rt_node(g, ZN_OP_CONSTANT_OF_SHAPE, "zeros", 1, &shp, zeros)->attrs.fill.dtype = ZN_DTYPE_FLOAT32;
  int s = i64_scalar(g, "s", 2), l = i64_scalar(g, "l", 4), d = i64_scalar(g, "d", 1);
  rt_node(g, ZN_OP_RANGE, "range", 3, (int[]){s, l, d}, r);  /* [2, 3] */
  zn_node *un = rt_node(g, ZN_OP_UNSQUEEZE, "unsq", 1, &r, ix);
  un->attrs.axes.num_axes = 1;
  un->attrs.axes.axes[0] = 1;                                  /* [[2], [3]] */
  int ups = i64_const(g, "ups", 2, (int64_t[]){2, 4});
  zn_node *fill = rt_node(g, ZN_OP_CONSTANT_OF_SHAPE, "fill", 1, &ups, up);
  fill->attrs.fill.dtype = ZN_DTYPE_FLOAT32;
  const float five = 5.0f;
  memcpy(fill->attrs.fill.value, &five, 4);
  rt_node(g, ZN_OP_SCATTER_ND, "scatter", 3, (int[]){zeros, ix, up}, m);
  int zf = rt_const(g, "zf", ZN_DTYPE_FLOAT32, 0, NULL, (float[]){0.0f});
  int big = rt_const(g, "big", ZN_DTYPE_FLOAT32, 0, NULL, (float[]){-100.0f});
  rt_node(g, ZN_OP_EQUAL, "equal", 2, (int[]){m, zf}, eq);
  rt_node(g, ZN_OP_NOT, "not", 1, &eq, ne);
  rt_node(g, ZN_OP_WHERE, "where", 3, (int[]){ne, big, zf}, mask);
  rt_node(g, ZN_OP_ADD, "add", 2, (int[]){attn, mask}, y);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(!g->static_batch);
  CHECK_OK(zn_graph_fold_constants(g));
  CHECK_EQ_INT(g->num_nodes, 1);
  const zn_value *mv = &g->values[mask];
  CHECK(mv->data != NULL);
  for (int64_t batch = 1; batch <= 3; batch += 2) {
    float in[3 * 16], out[3 * 16];
    rt_fill(in, batch * 16, 5);
    CHECK_OK(rt_run(g, batch, (const void *[]){in}, (void *[]){out}));
    int bad = 0;
    for (int64_t i = 0; i < batch * 16; i++) bad += out[i] != in[i] + ((i % 16) >= 8 ? -100.0f : 0.0f);
    CHECK_EQ_INT(bad, 0);
  }
  zn_graph_destroy(g);
}

/* Mod's fmod and ScatterND's reduction survive export and import. */
static void test_export_round_trip(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){4}, -1);
  int two = rt_const(g, "two", ZN_DTYPE_FLOAT32, 1, (int64_t[]){1}, (float[]){2.0f});
  int ix = rt_const(g, "ix", ZN_DTYPE_INT64, 2, (int64_t[]){1, 1}, (int64_t[]){2});
  int m = rt_value(g, "m"), y = rt_value(g, "y"), bt = rt_value(g, "bt"), b = rt_value(g, "b");
  rt_node(g, ZN_OP_MOD, "mod", 2, (int[]){x, two}, m)->attrs.mod.fmod = true;
  rt_node(g, ZN_OP_SCATTER_ND, "scatter", 3, (int[]){m, ix, two}, y)->attrs.scatter.reduction = ZN_SCATTER_MUL;
  rt_node(g, ZN_OP_EQUAL, "eq", 2, (int[]){y, two}, bt);
  rt_node(g, ZN_OP_NOT, "not", 1, &bt, b);
  zn_graph_mark_output(g, y);
  zn_graph_mark_output(g, b);
  CHECK_OK(zn_graph_infer_shapes(g));
  zn_graph *h = rt_round_trip(g);
  if (h) {
    CHECK_EQ_INT(h->opset >= 16, 1);  /* ScatterND's reduction needs opset 16 */
    int seen = 0;
    for (int i = 0; i < h->num_nodes; i++) {
      const zn_node *n = &h->nodes[i];
      if (n->op == ZN_OP_MOD) {
        seen++;
        CHECK(n->attrs.mod.fmod);
      }
      if (n->op == ZN_OP_SCATTER_ND) {
        seen++;
        CHECK_EQ_INT(n->attrs.scatter.reduction, ZN_SCATTER_MUL);
      }
      seen += n->op == ZN_OP_NOT;
    }
    CHECK_EQ_INT(seen, 3);
    CHECK_OK(zn_graph_verify(h));
    const float in[4] = {3.0f, -3.0f, 5.5f, 4.0f};
    float out[4];
    uint8_t flags[4];
    CHECK_OK(rt_run(h, 1, (const void *[]){in}, (void *[]){out, flags}));
    rt_check_close("fmod then scatter mul", out, (const float[]){1.0f, -1.0f, 3.0f, 0.0f}, 4, 0.0f);
    CHECK_EQ_INT(flags[0], 1);
    CHECK_EQ_INT(flags[2], 1);  /* 3 != 2 */
  }
  zn_graph_destroy(h);
  zn_graph_destroy(g);
}

/* Shape inference (or verify) of one bad node fails with a status and message. */
static void expect_infer(zn_graph *g, zn_status want, const char *text) {
  zn_status st = zn_graph_verify(g);
  if (st == ZN_OK) st = zn_graph_infer_shapes(g);
  CHECK_STATUS(st, want);
  CHECK_ERROR_HAS(text);
  zn_graph_destroy(g);
}

static void test_bad_inputs(void) {
  const zn_status inv = ZN_ERR_INVALID_MODEL;
  int y;
  /* Range: delta 0, a length beyond the cap, an overflowing difference, NaN, mixed dtypes */
  const int64_t z = 0, big = INT64_MAX, lo = INT64_MIN, one = 1, ten = 10;
  expect_infer(range_graph(ZN_DTYPE_INT64, &z, &ten, &z, &y), inv, "delta is 0");
  expect_infer(range_graph(ZN_DTYPE_INT64, &z, &big, &one, &y), inv, "would take more than 1073741824 bytes");
  expect_infer(range_graph(ZN_DTYPE_INT64, &lo, &big, &one, &y), inv, "the length overflows");
  const float fz = 0.0f, fnan = NAN, fbig = 1e30f, fone = 1.0f;
  expect_infer(range_graph(ZN_DTYPE_FLOAT32, &fz, &fnan, &fone, &y), inv, "all finite");
  expect_infer(range_graph(ZN_DTYPE_FLOAT32, &fz, &fbig, &fone, &y), inv, "length at most");
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int s = i64_scalar(g, "s", 0), l = rt_const(g, "l", ZN_DTYPE_FLOAT32, 0, NULL, (float[]){3.0f}),
      d = i64_scalar(g, "d", 1);
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_RANGE, "range", 3, (int[]){s, l, d}, y);
  zn_graph_mark_output(g, y);
  expect_infer(g, inv, "limit 'l' is float32, start is int64");
  /* Range bounds from a runtime input: unsupported, named */
  CHECK_OK(zn_graph_create(&g));
  s = i64_scalar(g, "s", 0);
  l = rt_input(g, "l", ZN_DTYPE_INT64, 0, NULL, -1);
  d = i64_scalar(g, "d", 1);
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_RANGE, "range", 3, (int[]){s, l, d}, y);
  zn_graph_mark_output(g, y);
  expect_infer(g, ZN_ERR_UNSUPPORTED_OP, "limit 'l' is not a constant int tensor");
  /* a bound of c * N: the batch is fixed to 1 rather than failing */
  CHECK_OK(zn_graph_create(&g));
  int x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){2}, 0);
  int sh = rt_value(g, "sh"), n0 = rt_value(g, "n0");
  rt_node(g, ZN_OP_SHAPE, "shape", 1, &x, sh);
  rt_node(g, ZN_OP_GATHER, "gather", 2, (int[]){sh, i64_scalar(g, "i0", 0)}, n0);
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_RANGE, "range", 3, (int[]){i64_scalar(g, "s", 0), n0, i64_scalar(g, "d", 1)}, y);
  zn_graph_mark_output(g, y);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK(g->static_batch);
  CHECK_EQ_INT(g->values[y].dims[0], 2);
  zn_graph_destroy(g);

  /* Mod: float with fmod = 0, bool inputs, mixed dtypes; integer division by zero at run time */
  CHECK_OK(zn_graph_create(&g));
  x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){2}, -1);
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_MOD, "mod", 2, (int[]){x, x}, y);
  zn_graph_mark_output(g, y);
  expect_infer(g, inv, "fmod = 0 on float32 inputs");
  CHECK_OK(zn_graph_create(&g));
  x = rt_input(g, "x", ZN_DTYPE_INT64, 1, (int64_t[]){2}, -1);
  int f = rt_const(g, "f", ZN_DTYPE_INT32, 1, (int64_t[]){1}, (int32_t[]){3});
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_MOD, "mod", 2, (int[]){x, f}, y);
  zn_graph_mark_output(g, y);
  expect_infer(g, inv, "dtype");
  zn_graph *gz = NULL;
  y = mod_graph(&gz, ZN_DTYPE_INT64, false, 2, (int64_t[]){3, 0});
  int64_t out2[2];
  CHECK_STATUS(rt_run(gz, 1, (const void *[]){(int64_t[]){4, 5}}, (void *[]){out2}), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("integer division by zero at element 1");
  zn_graph_destroy(gz);
  /* ... and of constants: left unfolded, so the run reports it */
  CHECK_OK(zn_graph_create(&g));
  int a = i64_const(g, "a", 1, (int64_t[]){4}), b0 = i64_const(g, "b0", 1, (int64_t[]){0});
  int mz = rt_value(g, "mz");
  rt_node(g, ZN_OP_MOD, "mod", 2, (int[]){a, b0}, mz);
  zn_graph_mark_output(g, mz);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_OK(zn_graph_fold_constants(g));
  CHECK_EQ_INT(g->num_nodes, 1);
  zn_graph_destroy(g);

  /* Not of a float */
  CHECK_OK(zn_graph_create(&g));
  x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){2}, -1);
  y = rt_value(g, "y");
  rt_node(g, ZN_OP_NOT, "not", 1, &x, y);
  zn_graph_mark_output(g, y);
  expect_infer(g, inv, "is float32, not bool");

  /* ScatterND: int32 indices, a tuple longer than the rank, updates of the wrong shape */
  static const struct { zn_dtype it; int64_t idims[2]; int64_t udim; const char *text; } cases[3] = {
    {ZN_DTYPE_INT32, {2, 1}, 2, "are int32, not int64"},
    {ZN_DTYPE_INT64, {1, 3}, 1, "index 3 axes of data [4,3] (1..2)"},
    {ZN_DTYPE_INT64, {2, 1}, 2, "updates [2] must be indices[:-1] + data[1:]"},
  };
  for (int k = 0; k < 3; k++) {
    CHECK_OK(zn_graph_create(&g));
    x = rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, (int64_t[]){4, 3}, -1);
    const int64_t iv[6] = {0, 0, 0, 0, 0, 0};
    int ix = rt_const(g, "ix", cases[k].it, 2, cases[k].idims, cases[k].it == ZN_DTYPE_INT32 ? (const void *)iv : iv);
    int up = rt_const(g, "up", ZN_DTYPE_FLOAT32, 1, &cases[k].udim, (float[]){1, 2});
    y = rt_value(g, "y");
    rt_node(g, ZN_OP_SCATTER_ND, "scatter", 3, (int[]){x, ix, up}, y);
    zn_graph_mark_output(g, y);
    expect_infer(g, inv, cases[k].text);
  }
  /* an index out of range: at run time (data an input) and when folding (all constant) */
  for (int folded = 0; folded < 2; folded++) {
    CHECK_OK(zn_graph_create(&g));
    x = folded ? rt_const(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){3}, (float[]){1, 2, 3})
               : rt_input(g, "x", ZN_DTYPE_FLOAT32, 1, (int64_t[]){3}, -1);
    int ix = rt_const(g, "ix", ZN_DTYPE_INT64, 2, (int64_t[]){2, 1}, (int64_t[]){1, -4});
    int up = rt_const(g, "up", ZN_DTYPE_FLOAT32, 1, (int64_t[]){2}, (float[]){7, 8});
    int sy = rt_value(g, "sy");
    y = rt_value(g, "y");
    rt_node(g, ZN_OP_SCATTER_ND, "scatter", 3, (int[]){x, ix, up}, sy);
    rt_node(g, ZN_OP_RELU, "relu", 1, &sy, y)->attrs.act.kind = ZN_ACT_RELU;
    zn_graph_mark_output(g, y);
    CHECK_OK(zn_graph_infer_shapes(g));
    if (folded) {
      CHECK_STATUS(zn_graph_fold_constants(g), ZN_ERR_INVALID_MODEL);
      CHECK_ERROR_HAS("index -4 on axis 0 is out of range for dim 3");
    } else {
      float o3[3];
      CHECK_STATUS(rt_run(g, 1, (const void *[]){(float[]){1, 2, 3}}, (void *[]){o3}), ZN_ERR_INVALID_INPUT);
      CHECK_ERROR_HAS("indices[1][0] = -4 is out of range for dim 3");
    }
    zn_graph_destroy(g);
  }
}

int zn_test_main(void) {
  test_mod_values();
  test_not_values();
  test_range_values();
  test_scatter_nd_values();
  test_swin_pads_fold_and_run();
  test_mod_batch_symbol();
  test_swin_mask_folds();
  test_export_round_trip();
  test_bad_inputs();
  return 0;
}
