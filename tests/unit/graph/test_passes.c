/* Optimisation passes: BN folding (numerics against conv + BN by hand),
 * activation and residual fusion (structure and the conditions that block
 * them), Identity removal, dead code elimination, MAC and parameter counts. */
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
  test_counts();
  return 0;
}
