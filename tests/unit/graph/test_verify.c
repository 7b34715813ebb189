/* Topological sort (order, cycle detection naming a node on the cycle) and
 * the verifier's structural and attribute checks. */
#include "builder.h"

static void test_toposort_reorders(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t d[4] = {1, 3, 8, 8};
  int x = b_input(g, "x", 4, d, 0);
  /* Add nodes out of order: c consumes b's output, b consumes a's. */
  int vb = -1, va = -1, vc = -1;
  zn_graph_add_value(g, "vb", ZN_DTYPE_FLOAT32, &vb);
  zn_graph_add_value(g, "va", ZN_DTYPE_FLOAT32, &va);
  zn_graph_add_value(g, "vc", ZN_DTYPE_FLOAT32, &vc);
  int in_c[1] = {vb}, in_b[1] = {va}, in_a[1] = {x};
  CHECK_OK(zn_graph_add_node(g, ZN_OP_RELU, "c", 1, in_c, 1, &vc, NULL));
  CHECK_OK(zn_graph_add_node(g, ZN_OP_RELU, "b", 1, in_b, 1, &vb, NULL));
  CHECK_OK(zn_graph_add_node(g, ZN_OP_RELU, "a", 1, in_a, 1, &va, NULL));
  zn_graph_mark_output(g, vc);
  CHECK_OK(zn_graph_verify(g));
  CHECK_OK(zn_graph_toposort(g));
  CHECK(strcmp(g->nodes[0].name, "a") == 0);
  CHECK(strcmp(g->nodes[1].name, "b") == 0);
  CHECK(strcmp(g->nodes[2].name, "c") == 0);
  CHECK_EQ_INT(g->values[vc].producer, 2);
  CHECK_EQ_INT(g->values[va].producer, 0);
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_SHAPE(g, "vc", "[N,3,8,8]");
  zn_graph_destroy(g);
}

static void test_cycle(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t d[2] = {1, 4};
  int x = b_input(g, "x", 2, d, 0);
  /* pre -> (loop1 <-> loop2): pre is upstream, the error must name loop1 or loop2. */
  int vp = -1, v1 = -1, v2 = -1, vo = -1;
  zn_graph_add_value(g, "vp", ZN_DTYPE_FLOAT32, &vp);
  zn_graph_add_value(g, "v1", ZN_DTYPE_FLOAT32, &v1);
  zn_graph_add_value(g, "v2", ZN_DTYPE_FLOAT32, &v2);
  zn_graph_add_value(g, "vo", ZN_DTYPE_FLOAT32, &vo);
  int i_p[1] = {x}, i_1[2] = {vp, v2}, i_2[1] = {v1}, i_o[1] = {v2};
  CHECK_OK(zn_graph_add_node(g, ZN_OP_RELU, "down", 1, i_o, 1, &vo, NULL));
  CHECK_OK(zn_graph_add_node(g, ZN_OP_RELU, "pre", 1, i_p, 1, &vp, NULL));
  CHECK_OK(zn_graph_add_node(g, ZN_OP_ADD, "loop1", 2, i_1, 1, &v1, NULL));
  CHECK_OK(zn_graph_add_node(g, ZN_OP_RELU, "loop2", 1, i_2, 1, &v2, NULL));
  zn_graph_mark_output(g, vo);
  CHECK_STATUS(zn_graph_toposort(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("cycle");
  CHECK(strstr(zn_last_error(), "'loop1'") || strstr(zn_last_error(), "'loop2'"));
  CHECK(!strstr(zn_last_error(), "'down'") && !strstr(zn_last_error(), "'pre'"));
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("cycle");
  /* The failed sort leaves the graph as it was. */
  CHECK(strcmp(g->nodes[0].name, "down") == 0);
  zn_graph_destroy(g);
}

static void test_undefined_input(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t d[2] = {1, 4};
  int x = b_input(g, "x", 2, d, 0);
  int ghost = -1;
  zn_graph_add_value(g, "ghost_tensor", ZN_DTYPE_FLOAT32, &ghost);
  int ins[2] = {x, ghost};
  int n = b_node(g, ZN_OP_ADD, "add1", 2, ins, "y");
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("ghost_tensor");
  CHECK_ERROR_HAS("'add1'");
  zn_graph_destroy(g);
}

static void test_produced_twice_and_outputs(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t d[2] = {1, 4};
  int x = b_input(g, "x", 2, d, 0);
  int y = -1;
  zn_graph_add_value(g, "dup", ZN_DTYPE_FLOAT32, &y);
  CHECK_OK(zn_graph_add_node(g, ZN_OP_RELU, "r1", 1, &x, 1, &y, NULL));
  CHECK_OK(zn_graph_add_node(g, ZN_OP_SIGMOID, "r2", 1, &x, 1, &y, NULL));
  zn_graph_mark_output(g, y);
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("'dup' is produced by both");
  zn_graph_destroy(g);

  CHECK_OK(zn_graph_create(&g));
  x = b_input(g, "x", 2, d, 0);
  int orphan = -1;
  zn_graph_add_value(g, "orphan", ZN_DTYPE_FLOAT32, &orphan);
  b_node(g, ZN_OP_RELU, "r", 1, &x, "y");
  zn_graph_mark_output(g, orphan);
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("output 'orphan' is not produced");
  zn_graph_destroy(g);
}

static void test_arity_and_attrs(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t d[4] = {1, 3, 8, 8}, wd[4] = {4, 3, 3, 3};
  int x = b_input(g, "x", 4, d, 0);
  int w = b_const_fill(g, "w", 4, wd, 1, -1, 1);
  int n = b_node(g, ZN_OP_ADD, "add3", 1, &x, "y");
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("'add3' (Add): 1 inputs, expected 2..2");
  zn_graph_destroy(g);

  struct { int which; const char *msg; } cases[] = {
    {0, "stride[1] = 0 must be > 0"}, {1, "group = 0 must be > 0"}, {2, "pads of axis 0 must be >= 0"},
    {3, "dilation[0] = -1 must be > 0"}, {4, "kernel[0] = -2 must be > 0"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    CHECK_OK(zn_graph_create(&g));
    x = b_input(g, "x", 4, d, 0);
    w = b_const_fill(g, "w", 4, wd, 1, -1, 1);
    int ins[2] = {x, w};
    n = b_node(g, ZN_OP_CONV, "conv", 2, ins, "y");
    zn_graph_mark_output(g, b_out(g, n));
    b_conv_attrs(&g->nodes[n], 3, 1, 1, 1);
    zn_conv_attrs *a = &g->nodes[n].attrs.conv;
    CHECK_OK(zn_graph_verify(g));
    switch (cases[c].which) {
    case 0: a->stride[1] = 0; break;
    case 1: a->group = 0; break;
    case 2: a->pad_begin[0] = -1; break;
    case 3: a->dilation[0] = -1; break;
    default: a->kernel[0] = -2; break;
    }
    CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
    CHECK_ERROR_HAS(cases[c].msg);
    CHECK_ERROR_HAS("'conv' (Conv)");
    zn_graph_destroy(g);
  }

  /* A missing required input. */
  CHECK_OK(zn_graph_create(&g));
  x = b_input(g, "x", 4, d, 0);
  int ins[2] = {x, ZN_NO_VALUE};
  n = b_node(g, ZN_OP_CONV, "conv", 2, ins, "y");
  b_conv_attrs(&g->nodes[n], 3, 1, 1, 1);
  zn_graph_mark_output(g, b_out(g, n));
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("required input 1 is missing");
  zn_graph_destroy(g);

  /* Transpose perm must be a permutation. */
  CHECK_OK(zn_graph_create(&g));
  x = b_input(g, "x", 4, d, 0);
  n = b_node(g, ZN_OP_TRANSPOSE, "tr", 1, &x, "y");
  zn_graph_mark_output(g, b_out(g, n));
  zn_transpose_attrs *t = &g->nodes[n].attrs.transpose;
  t->num_perm = 4;
  t->perm[0] = 0; t->perm[1] = 2; t->perm[2] = 2; t->perm[3] = 1;
  CHECK_STATUS(zn_graph_verify(g), ZN_ERR_INVALID_MODEL);
  CHECK_ERROR_HAS("not a permutation");
  zn_graph_destroy(g);
  zn_graph_destroy(NULL);
}

int zn_test_main(void) {
  test_toposort_reorders();
  test_cycle();
  test_undefined_input();
  test_produced_twice_and_outputs();
  test_arity_and_attrs();
  return 0;
}
