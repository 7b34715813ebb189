/* Optimisation passes: BN folding (numerics against conv + BN by hand),
 * activation and residual fusion (structure and the conditions that block
 * them), Identity, zero Pad and 1x1 pool removal, zero Pad folded into
 * AveragePool/Conv (structure and what blocks it; the numerics are in
 * tests/unit/backend/test_passes_numeric.c), dead code elimination, MAC and
 * parameter counts. */
#include "builder.h"

static const zn_value *val(const zn_graph *g, const char *name) {
  int v = zn_graph_find_value(g, name);
  return v >= 0 ? &g->values[v] : NULL;
}

/* Plain NCHW conv, batch 1, square kernel, stride 1, symmetric pad. */
static void conv_ref(const float *x, int cin, int h, int w, const float *wt, const float *b, int cout, int k, int pad,
                     float *y) {
  for (int o = 0; o < cout; o++)
    for (int i = 0; i < h; i++)
      for (int j = 0; j < w; j++) {
        double acc = b ? b[o] : 0;
        for (int c = 0; c < cin; c++)
          for (int u = 0; u < k; u++)
            for (int v = 0; v < k; v++) {
              int ii = i + u - pad, jj = j + v - pad;
              if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
              acc += (double)x[(c * h + ii) * w + jj] * wt[((o * cin + c) * k + u) * k + v];
            }
        y[(o * h + i) * w + j] = (float)acc;
      }
}

static void test_bn_fold_numerics(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  enum { CIN = 2, COUT = 3, H = 4, W = 4, K = 3 };
  int64_t xd[4] = {1, CIN, H, W}, wd[4] = {COUT, CIN, K, K}, cd[1] = {COUT};
  int x = b_input(g, "x", 4, xd, 0);
  int w = b_const_fill(g, "w", 4, wd, 11, -1, 1), b = b_const_fill(g, "b", 1, cd, 12, -1, 1);
  int c = b_node(g, ZN_OP_CONV, "conv", 3, (int[]){x, w, b}, "c");
  b_conv_attrs(&g->nodes[c], K, 1, 1, 1);
  int s = b_const_fill(g, "bn.s", 1, cd, 13, 0.5f, 2), sh = b_const_fill(g, "bn.b", 1, cd, 14, -1, 1);
  int m = b_const_fill(g, "bn.m", 1, cd, 15, -1, 1), v = b_const_fill(g, "bn.v", 1, cd, 16, 0.1f, 3);
  int bn = b_node(g, ZN_OP_BATCH_NORM, "bn", 5, (int[]){b_out(g, c), s, sh, m, v}, "y");
  g->nodes[bn].attrs.batch_norm.epsilon = 1e-3f;
  zn_graph_mark_output(g, b_out(g, bn));
  /* Reference: conv then BN, by hand. */
  float xs[CIN * H * W], yref[COUT * H * W], yfold[COUT * H * W];
  uint64_t seed = 99;
  for (int i = 0; i < CIN * H * W; i++) xs[i] = zn_test_rand_uniform(&seed, -1, 1);
  const float *wp = g->values[w].data, *bp = g->values[b].data, *sp = g->values[s].data, *shp = g->values[sh].data;
  const float *mp = g->values[m].data, *vp = g->values[v].data;
  conv_ref(xs, CIN, H, W, wp, bp, COUT, K, 1, yref);
  for (int o = 0; o < COUT; o++)
    for (int i = 0; i < H * W; i++)
      yref[o * H * W + i] = (yref[o * H * W + i] - mp[o]) / sqrtf(vp[o] + 1e-3f) * sp[o] + shp[o];

  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_OK(zn_graph_verify(g));
  CHECK_EQ_INT(g->num_nodes, 1);
  CHECK_EQ_INT(g->nodes[0].op, ZN_OP_CONV);
  CHECK(strcmp(g->values[g->nodes[0].outputs[0]].name, "y") == 0);
  CHECK(val(g, "w") == NULL && val(g, "bn.m") == NULL && val(g, "c") == NULL);  /* dropped */
  CHECK_SHAPE(g, "y", "[N,3,4,4]");
  const zn_value *nw = &g->values[g->nodes[0].inputs[1]], *nb = &g->values[g->nodes[0].inputs[2]];
  CHECK(nw->data && nb->data && nw->num_dims == 4 && nw->dims[0] == COUT);
  conv_ref(xs, CIN, H, W, nw->data, nb->data, COUT, K, 1, yfold);
  for (int i = 0; i < COUT * H * W; i++) CHECK_NEAR(yfold[i], yref[i], 1e-4);
  zn_graph_destroy(g);
}

static void test_bn_not_folded(void) {
  /* Conv output read twice: no fold. Standalone BN on an input: stays. */
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 2, 4, 4}, wd[4] = {2, 2, 1, 1}, cd[1] = {2};
  int x = b_input(g, "x", 4, xd, 0);
  int c = b_node(g, ZN_OP_CONV, "conv", 2, (int[]){x, b_const_fill(g, "w", 4, wd, 1, -1, 1)}, "c");
  b_conv_attrs(&g->nodes[c], 1, 1, 0, 1);
  int p[4];
  for (int i = 0; i < 4; i++) {
    char name[16];
    snprintf(name, sizeof name, "p%d", i);
    p[i] = b_const_fill(g, name, 1, cd, (uint64_t)i + 5, 0.5f, 1.5f);
  }
  int bn = b_node(g, ZN_OP_BATCH_NORM, "bn", 5, (int[]){b_out(g, c), p[0], p[1], p[2], p[3]}, "y");
  int bn2 = b_node(g, ZN_OP_BATCH_NORM, "bn2", 5, (int[]){x, p[0], p[1], p[2], p[3]}, "y2");
  int ad = b_node(g, ZN_OP_ADD, "add", 2, (int[]){b_out(g, bn), b_out(g, c)}, "z");
  zn_graph_mark_output(g, b_out(g, ad));
  zn_graph_mark_output(g, b_out(g, bn2));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_EQ_INT(b_count_op(g, ZN_OP_BATCH_NORM), 2);
  CHECK_EQ_INT(b_count_op(g, ZN_OP_ADD), 1);
  CHECK_EQ_INT(zn_graph_num_params(g), 4 + 2 * 2);  /* w + BN scale/bias (shared) */
  zn_graph_destroy(g);
}

/* ResNet block tail: conv -> BN -> Add(., skip) -> Relu => one Conv. */
static void test_residual_and_act(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 4, 8, 8}, wd[4] = {4, 4, 3, 3}, cd[1] = {4};
  int x = b_input(g, "x", 4, xd, 0);
  int c = b_node(g, ZN_OP_CONV, "conv", 2, (int[]){x, b_const_fill(g, "w", 4, wd, 1, -1, 1)}, "c");
  b_conv_attrs(&g->nodes[c], 3, 1, 1, 1);
  int bn = b_node(g, ZN_OP_BATCH_NORM, "bn", 5,
                  (int[]){b_out(g, c), b_const_fill(g, "s", 1, cd, 1, 1, 2), b_const_fill(g, "sb", 1, cd, 2, 0, 1),
                          b_const_fill(g, "m", 1, cd, 3, 0, 1), b_const_fill(g, "v", 1, cd, 4, 1, 2)},
                  "bno");
  g->nodes[bn].attrs.batch_norm.epsilon = 1e-5f;
  int ad = b_node(g, ZN_OP_ADD, "add", 2, (int[]){x, b_out(g, bn)}, "sum");
  int r = b_node(g, ZN_OP_RELU, "relu", 1, (int[]){b_out(g, ad)}, "out");
  int id = b_node(g, ZN_OP_IDENTITY, "id", 1, (int[]){b_out(g, r)}, "final");
  zn_graph_mark_output(g, b_out(g, id));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_OK(zn_graph_verify(g));
  CHECK_EQ_INT(g->num_nodes, 1);
  const zn_node *n = &g->nodes[0];
  CHECK_EQ_INT(n->op, ZN_OP_CONV);
  CHECK_EQ_INT(n->num_inputs, 4);
  CHECK(strcmp(g->values[n->inputs[3]].name, "x") == 0);
  CHECK(n->inputs[2] >= 0 && g->values[n->inputs[2]].data != NULL);  /* folded bias */
  CHECK_EQ_INT(n->attrs.conv.act.kind, ZN_ACT_RELU);
  CHECK(strcmp(g->values[n->outputs[0]].name, "final") == 0);
  CHECK_EQ_INT(g->num_outputs, 1);
  CHECK(strcmp(g->values[g->outputs[0]].name, "final") == 0);
  CHECK_SHAPE(g, "final", "[N,4,8,8]");
  /* Every value left is used: x, W', B', final. */
  CHECK_EQ_INT(g->num_values, 4);
  zn_graph_destroy(g);
}

static void test_act_fusion_rules(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[2] = {1, 6}, wd[2] = {5, 6}, w2d[2] = {5, 5};
  int x = b_input(g, "x", 2, xd, 0);
  int g1 = b_node(g, ZN_OP_GEMM, "fc1", 2, (int[]){x, b_const_fill(g, "w1", 2, wd, 1, -1, 1)}, "h1");
  g->nodes[g1].attrs.gemm = (zn_gemm_attrs){.trans_b = true, .alpha = 1, .beta = 1};
  int cl = b_node(g, ZN_OP_CLIP, "clip", 1, (int[]){b_out(g, g1)}, "a1");
  g->nodes[cl].attrs.act = (zn_act){ZN_ACT_CLIP, 0.0f, 6.0f};
  /* fc2's output is also a graph output: its activation must stay separate. */
  int g2 = b_node(g, ZN_OP_GEMM, "fc2", 2, (int[]){b_out(g, cl), b_const_fill(g, "w2", 2, w2d, 2, -1, 1)}, "h2");
  g->nodes[g2].attrs.gemm = (zn_gemm_attrs){.trans_b = true, .alpha = 1, .beta = 1};
  int sg = b_node(g, ZN_OP_SIGMOID, "sig", 1, (int[]){b_out(g, g2)}, "a2");
  /* fc3's output feeds two nodes: no fusion either. */
  int g3 = b_node(g, ZN_OP_GEMM, "fc3", 2, (int[]){b_out(g, sg), b_const_fill(g, "w3", 2, w2d, 3, -1, 1)}, "h3");
  g->nodes[g3].attrs.gemm = (zn_gemm_attrs){.trans_b = true, .alpha = 1, .beta = 1};
  int lr = b_node(g, ZN_OP_LEAKY_RELU, "lrelu", 1, (int[]){b_out(g, g3)}, "a3");
  g->nodes[lr].attrs.act = (zn_act){ZN_ACT_LEAKY_RELU, 0.1f, 0};
  int tn = b_node(g, ZN_OP_TANH, "tanh", 1, (int[]){b_out(g, g3)}, "a4");
  /* A dead branch: consumes a1 but reaches no output. */
  b_node(g, ZN_OP_HARD_SWISH, "dead", 1, (int[]){b_out(g, cl)}, "unused");
  zn_graph_mark_output(g, b_out(g, g2));
  zn_graph_mark_output(g, b_out(g, lr));
  zn_graph_mark_output(g, b_out(g, tn));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_OK(zn_graph_verify(g));
  int f1 = b_find_node(g, "fc1"), f2 = b_find_node(g, "fc2"), f3 = b_find_node(g, "fc3");
  CHECK(f1 >= 0 && f2 >= 0 && f3 >= 0);
  CHECK_EQ_INT(g->nodes[f1].attrs.gemm.act.kind, ZN_ACT_CLIP);
  CHECK_NEAR(g->nodes[f1].attrs.gemm.act.beta, 6.0, 0);
  CHECK(strcmp(g->values[g->nodes[f1].outputs[0]].name, "a1") == 0);
  CHECK_EQ_INT(g->nodes[f2].attrs.gemm.act.kind, ZN_ACT_NONE);
  CHECK_EQ_INT(g->nodes[f3].attrs.gemm.act.kind, ZN_ACT_NONE);
  CHECK(b_find_node(g, "sig") >= 0 && b_find_node(g, "lrelu") >= 0 && b_find_node(g, "tanh") >= 0);
  CHECK(b_find_node(g, "clip") < 0);
  CHECK(b_find_node(g, "dead") < 0 && val(g, "unused") == NULL);
  CHECK_EQ_INT(g->num_nodes, 6);
  /* ids stay consistent after compaction */
  for (int i = 0; i < g->num_nodes; i++)
    for (int o = 0; o < g->nodes[i].num_outputs; o++) CHECK_EQ_INT(g->values[g->nodes[i].outputs[o]].producer, i);
  CHECK_SHAPE(g, "a4", "[N,5]");
  zn_graph_destroy(g);
}

static void test_identity_paths(void) {
  /* Identity at an input that is also the output: must stay (a copy). */
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[2] = {1, 3};
  int x = b_input(g, "x", 2, xd, 0);
  int id = b_node(g, ZN_OP_IDENTITY, "id", 1, &x, "y");
  int id2 = b_node(g, ZN_OP_IDENTITY, "id2", 1, &x, "t");
  int r = b_node(g, ZN_OP_RELU, "relu", 1, (int[]){b_out(g, id2)}, "z");
  zn_graph_mark_output(g, b_out(g, id));
  zn_graph_mark_output(g, b_out(g, r));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_EQ_INT(g->num_nodes, 2);
  int rn = b_find_node(g, "relu");
  CHECK(rn >= 0 && g->nodes[rn].inputs[0] == zn_graph_find_value(g, "x"));
  CHECK(b_find_node(g, "id") >= 0);
  zn_graph_destroy(g);
}

/* A Pad node with ONNX pads (begins then ends) in its attributes, as shape
 * inference leaves it. */
static int b_pad(zn_graph *g, const char *name, int x, int rank, const int64_t *pads, zn_pad_mode mode, float value,
                 const char *out) {
  int p = b_node(g, ZN_OP_PAD, name, 1, &x, out);
  zn_pad_attrs *a = &g->nodes[p].attrs.pad;
  a->mode = mode;
  a->num_pads = 2 * rank;
  memcpy(a->pads, pads, (size_t)(2 * rank) * sizeof(int64_t));
  a->value = value;
  return p;
}

static void test_zero_pad_removed(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 2, 5, 5}, wd[4] = {2, 2, 1, 1}, zero[8] = {0};
  int x = b_input(g, "x", 4, xd, 0);
  /* DenseNet's transition: Pad [0]*8 then AveragePool k2 s2. */
  int p1 = b_pad(g, "pad1", x, 4, zero, ZN_PAD_CONSTANT, 0, "p1");
  int ap = b_node(g, ZN_OP_AVERAGE_POOL, "pool", 1, (int[]){b_out(g, p1)}, "a");
  b_pool_attrs(&g->nodes[ap], 2, 2, 0);
  zn_graph_mark_output(g, b_out(g, ap));
  /* A zero reflect Pad writing a graph output: the conv writes "y" instead. */
  int c = b_node(g, ZN_OP_CONV, "conv", 2, (int[]){x, b_const_fill(g, "w", 4, wd, 1, -1, 1)}, "c");
  b_conv_attrs(&g->nodes[c], 1, 1, 0, 1);
  int p2 = b_pad(g, "pad2", b_out(g, c), 4, zero, ZN_PAD_REFLECT, 0, "y");
  zn_graph_mark_output(g, b_out(g, p2));
  /* A zero Pad of a graph input straight to a graph output must stay (a copy). */
  int p3 = b_pad(g, "pad3", x, 4, zero, ZN_PAD_EDGE, 0, "z");
  zn_graph_mark_output(g, b_out(g, p3));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_OK(zn_graph_verify(g));
  CHECK_EQ_INT(g->num_nodes, 3);
  CHECK(b_find_node(g, "pad1") < 0 && b_find_node(g, "pad2") < 0 && b_find_node(g, "pad3") >= 0);
  CHECK(val(g, "p1") == NULL && val(g, "c") == NULL);
  int pn = b_find_node(g, "pool"), cn = b_find_node(g, "conv");
  CHECK(pn >= 0 && cn >= 0);
  if (pn >= 0) {
    CHECK(g->nodes[pn].inputs[0] == zn_graph_find_value(g, "x"));
    CHECK_EQ_INT(g->nodes[pn].attrs.pool.pad_begin[0], 0);  /* nothing to fold */
  }
  if (cn >= 0) CHECK(strcmp(g->values[g->nodes[cn].outputs[0]].name, "y") == 0);
  CHECK_EQ_INT(g->num_outputs, 3);
  CHECK(strcmp(g->values[g->outputs[1]].name, "y") == 0);
  CHECK_SHAPE(g, "a", "[N,2,2,2]");
  CHECK_SHAPE(g, "y", "[N,2,5,5]");
  /* The pass on its own: a non-zero Pad is kept. */
  zn_graph_destroy(g);
  CHECK_OK(zn_graph_create(&g));
  int64_t one[8] = {0, 0, 0, 1, 0, 0, 0, 0};
  x = b_input(g, "x", 4, xd, 0);
  int p4 = b_pad(g, "pad4", x, 4, one, ZN_PAD_CONSTANT, 0, "p4");
  int r = b_node(g, ZN_OP_RELU, "relu", 1, (int[]){b_out(g, p4)}, "r");
  zn_graph_mark_output(g, b_out(g, r));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_OK(zn_graph_remove_zero_pads(g));
  CHECK_EQ_INT(g->num_nodes, 2);
  CHECK_SHAPE(g, "r", "[N,2,5,6]");
  zn_graph_destroy(g);
}

static void test_unit_pools_removed(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 3, 6, 6}, wd[4] = {4, 3, 3, 3};
  int x = b_input(g, "x", 4, xd, 0);
  int c = b_node(g, ZN_OP_CONV, "conv", 2, (int[]){x, b_const_fill(g, "w", 4, wd, 1, -1, 1)}, "c");
  b_conv_attrs(&g->nodes[c], 3, 1, 1, 1);
  /* AlexNet/VGG: AdaptiveAvgPool2d at its identity size -> AveragePool k1 s1. */
  int ap = b_node(g, ZN_OP_AVERAGE_POOL, "avgpool", 1, (int[]){b_out(g, c)}, "a");
  b_pool_attrs(&g->nodes[ap], 1, 1, 0);
  g->nodes[ap].attrs.pool.ceil_mode = true;  /* no effect at k1 s1 */
  int fl = b_node(g, ZN_OP_FLATTEN, "flatten", 1, (int[]){b_out(g, ap)}, "f");
  g->nodes[fl].attrs.axis.axis = 1;
  zn_graph_mark_output(g, b_out(g, fl));
  /* A 1x1 MaxPool writing a graph output: the Relu writes it. */
  int r = b_node(g, ZN_OP_RELU, "relu", 1, (int[]){b_out(g, c)}, "r");
  int mp = b_node(g, ZN_OP_MAX_POOL, "maxpool", 1, (int[]){b_out(g, r)}, "m");
  b_pool_attrs(&g->nodes[mp], 1, 1, 0);
  zn_graph_mark_output(g, b_out(g, mp));
  /* Not identities: stride 2, pads 1, dilation 2 (kernel 1 still). */
  int s2 = b_node(g, ZN_OP_AVERAGE_POOL, "stride2", 1, (int[]){b_out(g, r)}, "s2");
  b_pool_attrs(&g->nodes[s2], 1, 2, 0);
  int p1 = b_node(g, ZN_OP_MAX_POOL, "pad1", 1, (int[]){b_out(g, r)}, "p1");
  b_pool_attrs(&g->nodes[p1], 1, 1, 1);
  int d2 = b_node(g, ZN_OP_MAX_POOL, "dil2", 1, (int[]){b_out(g, r)}, "d2");
  b_pool_attrs(&g->nodes[d2], 1, 1, 0);
  g->nodes[d2].attrs.pool.dilation[1] = 2;
  zn_graph_mark_output(g, b_out(g, s2));
  zn_graph_mark_output(g, b_out(g, p1));
  zn_graph_mark_output(g, b_out(g, d2));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_OK(zn_graph_verify(g));
  CHECK(b_find_node(g, "avgpool") < 0 && b_find_node(g, "maxpool") < 0);
  CHECK(b_find_node(g, "stride2") >= 0 && b_find_node(g, "pad1") >= 0 && b_find_node(g, "dil2") >= 0);
  CHECK_EQ_INT(g->num_nodes, 6);
  int fn = b_find_node(g, "flatten"), rn = b_find_node(g, "relu");
  CHECK(fn >= 0 && rn >= 0);
  if (fn >= 0) CHECK(g->nodes[fn].inputs[0] == zn_graph_find_value(g, "c"));
  if (rn >= 0) CHECK(strcmp(g->values[g->nodes[rn].outputs[0]].name, "m") == 0);
  CHECK(val(g, "a") == NULL && val(g, "r") == NULL);
  CHECK_SHAPE(g, "f", "[N,144]");
  CHECK_SHAPE(g, "m", "[N,4,6,6]");
  CHECK_SHAPE(g, "s2", "[N,4,3,3]");
  CHECK_SHAPE(g, "p1", "[N,4,8,8]");
  zn_graph_destroy(g);
}

static void test_pad_folds(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 4, 7, 7}, wd[4] = {2, 4, 3, 3};
  int x = b_input(g, "x", 4, xd, 0);
  /* Inception's Mixed_5b: Pad [0,0,1,1,0,0,1,1] then AveragePool k3 s1 pads 0. */
  int p1 = b_pad(g, "pad1", x, 4, (int64_t[]){0, 0, 1, 1, 0, 0, 1, 1}, ZN_PAD_CONSTANT, 0, "p1");
  int ap = b_node(g, ZN_OP_AVERAGE_POOL, "avg", 1, (int[]){b_out(g, p1)}, "a");
  b_pool_attrs(&g->nodes[ap], 3, 1, 0);
  zn_graph_mark_output(g, b_out(g, ap));
  /* Asymmetric pads into a Conv that already pads 1. */
  int p2 = b_pad(g, "pad2", x, 4, (int64_t[]){0, 0, 0, 2, 0, 0, 1, 0}, ZN_PAD_CONSTANT, 0, "p2");
  int c = b_node(g, ZN_OP_CONV, "conv", 2, (int[]){b_out(g, p2), b_const_fill(g, "w", 4, wd, 1, -1, 1)}, "c");
  b_conv_attrs(&g->nodes[c], 3, 2, 1, 1);
  zn_graph_mark_output(g, b_out(g, c));
  /* AveragePool that already counts its own pads: the pads add up. */
  int p3 = b_pad(g, "pad3", x, 4, (int64_t[]){0, 0, 1, 0, 0, 0, 0, 1}, ZN_PAD_CONSTANT, 0, "p3");
  int ap3 = b_node(g, ZN_OP_AVERAGE_POOL, "avg3", 1, (int[]){b_out(g, p3)}, "a3");
  b_pool_attrs(&g->nodes[ap3], 3, 2, 1);
  g->nodes[ap3].attrs.pool.count_include_pad = true;
  zn_graph_mark_output(g, b_out(g, ap3));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_infer_shapes(g));
  char before[3][128];
  snprintf(before[0], 128, "%s", b_shape(g, "a"));
  snprintf(before[1], 128, "%s", b_shape(g, "c"));
  snprintf(before[2], 128, "%s", b_shape(g, "a3"));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_OK(zn_graph_verify(g));
  CHECK_EQ_INT(b_count_op(g, ZN_OP_PAD), 0);
  CHECK_EQ_INT(g->num_nodes, 3);
  CHECK_SHAPE(g, "a", before[0]);
  CHECK_SHAPE(g, "c", before[1]);
  CHECK_SHAPE(g, "a3", before[2]);
  CHECK_SHAPE(g, "a", "[N,4,7,7]");
  int xi = zn_graph_find_value(g, "x");
  int an = b_find_node(g, "avg"), cn = b_find_node(g, "conv"), a3n = b_find_node(g, "avg3");
  CHECK(an >= 0 && cn >= 0 && a3n >= 0);
  if (an >= 0) {
    const zn_pool_attrs *a = &g->nodes[an].attrs.pool;
    CHECK(g->nodes[an].inputs[0] == xi);
    CHECK(a->count_include_pad && !a->ceil_mode);
    CHECK(a->pad_begin[0] == 1 && a->pad_begin[1] == 1 && a->pad_end[0] == 1 && a->pad_end[1] == 1);
  }
  if (cn >= 0) {
    const zn_conv_attrs *a = &g->nodes[cn].attrs.conv;
    CHECK(g->nodes[cn].inputs[0] == xi);
    CHECK(a->pad_begin[0] == 1 && a->pad_begin[1] == 3 && a->pad_end[0] == 2 && a->pad_end[1] == 1);
  }
  if (a3n >= 0) {
    const zn_pool_attrs *a = &g->nodes[a3n].attrs.pool;
    CHECK(a->count_include_pad);
    CHECK(a->pad_begin[0] == 2 && a->pad_begin[1] == 1 && a->pad_end[0] == 1 && a->pad_end[1] == 2);
  }
  CHECK(val(g, "p1") == NULL && val(g, "p2") == NULL && val(g, "p3") == NULL);
  zn_graph_destroy(g);
}

/* Each case: Pad -> consumer where the fold would change the result. */
static void test_pad_not_folded(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 4, 7, 7}, wd[4] = {2, 4, 3, 3}, sp[8] = {0, 0, 1, 1, 0, 0, 1, 1};
  int x = b_input(g, "x", 4, xd, 0);
  int w = b_const_fill(g, "w", 4, wd, 1, -1, 1);
  struct { const char *name; zn_op op; zn_pad_mode mode; float value; int64_t pads[8]; int pool_pad; bool ceil, incl; } cases[] = {
      {"maxpool", ZN_OP_MAX_POOL, ZN_PAD_CONSTANT, 0, {0, 0, 1, 1, 0, 0, 1, 1}, 0, false, false}, /* -inf pads */
      {"value1", ZN_OP_AVERAGE_POOL, ZN_PAD_CONSTANT, 1, {0, 0, 1, 1, 0, 0, 1, 1}, 0, false, false},
      {"reflect", ZN_OP_CONV, ZN_PAD_REFLECT, 0, {0, 0, 1, 1, 0, 0, 1, 1}, 0, false, false},
      {"channel", ZN_OP_CONV, ZN_PAD_CONSTANT, 0, {0, 1, 1, 1, 0, 0, 1, 1}, 0, false, false},
      {"ceil", ZN_OP_AVERAGE_POOL, ZN_PAD_CONSTANT, 0, {0, 0, 1, 1, 0, 0, 1, 1}, 0, true, false},
      {"excl", ZN_OP_AVERAGE_POOL, ZN_PAD_CONSTANT, 0, {0, 0, 1, 1, 0, 0, 1, 1}, 1, false, false},
      /* pad 3 >= kernel 3: windows wholly in the padding, kept as a Pad */
      {"wide", ZN_OP_AVERAGE_POOL, ZN_PAD_CONSTANT, 0, {0, 0, 3, 0, 0, 0, 0, 0}, 0, false, false},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char pn[32], pv[32], cn[32], cv[32];
    snprintf(pn, sizeof pn, "pad_%s", cases[i].name);
    snprintf(pv, sizeof pv, "p_%s", cases[i].name);
    snprintf(cn, sizeof cn, "use_%s", cases[i].name);
    snprintf(cv, sizeof cv, "u_%s", cases[i].name);
    int p = b_pad(g, pn, x, 4, cases[i].pads, cases[i].mode, cases[i].value, pv);
    int u;
    if (cases[i].op == ZN_OP_CONV) {
      int64_t cd[4] = {2, cases[i].pads[1] ? 5 : 4, 3, 3};
      int wv = cases[i].pads[1] ? b_const_fill(g, "w5", 4, cd, 2, -1, 1) : w;
      u = b_node(g, ZN_OP_CONV, cn, 2, (int[]){b_out(g, p), wv}, cv);
      b_conv_attrs(&g->nodes[u], 3, 1, 0, 1);
    } else {
      u = b_node(g, cases[i].op, cn, 1, (int[]){b_out(g, p)}, cv);
      b_pool_attrs(&g->nodes[u], 3, 2, cases[i].pool_pad);
      g->nodes[u].attrs.pool.ceil_mode = cases[i].ceil;
      g->nodes[u].attrs.pool.count_include_pad = cases[i].incl;
    }
    zn_graph_mark_output(g, b_out(g, u));
  }
  /* Two consumers; a Pad read as the Conv's weight-side input; a Pad that is a graph output. */
  int p2 = b_pad(g, "pad_two", x, 4, sp, ZN_PAD_CONSTANT, 0, "p_two");
  for (int k = 0; k < 2; k++) {
    int u = b_node(g, ZN_OP_AVERAGE_POOL, k ? "two_b" : "two_a", 1, (int[]){b_out(g, p2)}, k ? "tb" : "ta");
    b_pool_attrs(&g->nodes[u], 3, 1, 0);
    zn_graph_mark_output(g, b_out(g, u));
  }
  int p3 = b_pad(g, "pad_out", x, 4, sp, ZN_PAD_CONSTANT, 0, "p_out");
  int u3 = b_node(g, ZN_OP_AVERAGE_POOL, "use_out", 1, (int[]){b_out(g, p3)}, "u_out");
  b_pool_attrs(&g->nodes[u3], 3, 1, 0);
  zn_graph_mark_output(g, b_out(g, p3));
  zn_graph_mark_output(g, b_out(g, u3));
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_optimize(g));
  CHECK_OK(zn_graph_verify(g));
  CHECK_EQ_INT(b_count_op(g, ZN_OP_PAD), 9);
  for (int i = 0; i < g->num_nodes; i++) {
    const zn_node *n = &g->nodes[i];
    if (n->op == ZN_OP_PAD) continue;
    /* every consumer still reads its Pad, with its own pads unchanged */
    CHECK_EQ_INT(g->nodes[g->values[n->inputs[0]].producer].op, ZN_OP_PAD);
    if (n->op == ZN_OP_CONV) CHECK_EQ_INT(n->attrs.conv.pad_begin[0], 0);
    if (n->op == ZN_OP_AVERAGE_POOL) CHECK(!n->attrs.pool.count_include_pad);
  }
  zn_graph_destroy(g);
}

static void test_counts(void) {
  zn_graph *g = NULL;
  CHECK_OK(zn_graph_create(&g));
  int64_t xd[4] = {1, 3, 8, 8}, wd[4] = {4, 3, 3, 3}, cd[1] = {4}, fd[2] = {10, 256}, bd[1] = {10};
  int x = b_input(g, "x", 4, xd, 0);
  int c = b_node(g, ZN_OP_CONV, "conv", 3,
                 (int[]){x, b_const_fill(g, "w", 4, wd, 1, -1, 1), b_const_fill(g, "b", 1, cd, 1, -1, 1)}, "c");
  b_conv_attrs(&g->nodes[c], 3, 1, 1, 1);
  int bn = b_node(g, ZN_OP_BATCH_NORM, "bn", 5,
                  (int[]){b_out(g, c), b_const_fill(g, "s", 1, cd, 1, 1, 2), b_const_fill(g, "sb", 1, cd, 2, 0, 1),
                          b_const_fill(g, "m", 1, cd, 3, 0, 1), b_const_fill(g, "v", 1, cd, 4, 1, 2)},
                  "bno");
  int fl = b_node(g, ZN_OP_FLATTEN, "fl", 1, (int[]){b_out(g, bn)}, "f");
  g->nodes[fl].attrs.axis.axis = 1;
  int fc = b_node(g, ZN_OP_GEMM, "fc", 3,
                  (int[]){b_out(g, fl), b_const_fill(g, "fw", 2, fd, 1, -1, 1), b_const_fill(g, "fb", 1, bd, 1, -1, 1)},
                  "y");
  g->nodes[fc].attrs.gemm = (zn_gemm_attrs){.trans_b = true, .alpha = 1, .beta = 1};
  zn_graph_mark_output(g, b_out(g, fc));
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(zn_graph_macs_per_image(g), 4 * 64 * 27 + 10 * 256);
  CHECK_EQ_INT(zn_graph_num_params(g), 108 + 4 + 8 + 2560 + 10);
  g->values[x].dims[0] = 3;  /* 3N images per batch element: MACs scale */
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_EQ_INT(zn_graph_macs_per_image(g), 3 * (4 * 64 * 27) + 3 * 10 * 256);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  test_bn_fold_numerics();
  test_bn_not_folded();
  test_residual_and_act();
  test_act_fusion_rules();
  test_identity_paths();
  test_zero_pad_removed();
  test_unit_pools_removed();
  test_pad_folds();
  test_pad_not_folded();
  test_counts();
  return 0;
}
