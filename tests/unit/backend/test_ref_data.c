/* ref data-movement ops on small hand-checked tensors: Concat, Flatten,
 * Reshape, Transpose, Pad (constant / reflect / edge), Gather (negative and
 * out-of-range indices), Cast, Slice (negative step), Shape. */
#include "test_ref_util.h"

static zn_graph *one_node(zn_op op, int rank, const int64_t *xd, int batch_axis, zn_dtype dt, int num_extra,
                          const int *extra_ids, zn_node **node_out, zn_graph *g) {
  int ins[5] = {rt_input(g, "x", dt, rank, xd, batch_axis)};
  for (int k = 0; k < num_extra; k++) ins[1 + k] = extra_ids[k];
  int out = rt_value(g, "y");
  *node_out = rt_node(g, op, "op", 1 + num_extra, ins, out);
  zn_graph_mark_output(g, out);
  return g;
}

static void test_concat(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  const int64_t ad[3] = {1, 2, 2}, bd[3] = {1, 1, 2};
  int ins[2] = {rt_input(g, "a", ZN_DTYPE_FLOAT32, 3, ad, 0), rt_input(g, "b", ZN_DTYPE_FLOAT32, 3, bd, 0)};
  int out = rt_value(g, "y");
  zn_node *n = rt_node(g, ZN_OP_CONCAT, "cat", 2, ins, out);
  n->attrs.axis.axis = 1;
  zn_graph_mark_output(g, out);
  float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, b[4] = {-1, -2, -3, -4}, y[12];
  const float want[12] = {1, 2, 3, 4, -1, -2, 5, 6, 7, 8, -3, -4};
  const void *inputs[2] = {a, b};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 2, inputs, outputs));
  rt_check_close("concat axis 1", y, want, 12, 0);
  zn_graph_destroy(g);
}

static void test_flatten_reshape(void) {
  zn_graph *g;
  zn_node *n;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[4] = {1, 2, 3, 2}, sd = 2, shape[2] = {0, -1};
  float x[24], y[24];
  for (int i = 0; i < 24; i++) x[i] = (float)i;
  int s = rt_const(g, "shape", ZN_DTYPE_INT64, 1, &sd, shape);
  one_node(ZN_OP_RESHAPE, 4, xd, 0, ZN_DTYPE_FLOAT32, 1, &s, &n, g);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 2, inputs, outputs));
  CHECK_EQ_INT(g->values[g->outputs[0]].num_dims, 2);
  CHECK_EQ_INT(g->values[g->outputs[0]].dims[1], 12);
  rt_check_close("reshape", y, x, 24, 0);
  zn_graph_destroy(g);
  CHECK_OK(zn_graph_create(&g));
  one_node(ZN_OP_FLATTEN, 4, xd, 0, ZN_DTYPE_FLOAT32, 0, NULL, &n, g);
  n->attrs.axis.axis = 1;
  memset(y, 0, sizeof y);
  CHECK_OK(rt_run(g, 2, inputs, outputs));
  rt_check_close("flatten", y, x, 24, 0);
  zn_graph_destroy(g);
}

static void test_transpose(void) {
  zn_graph *g;
  zn_node *n;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[3] = {2, 3, 4};
  int64_t x[24], y[24];
  for (int i = 0; i < 24; i++) x[i] = i;
  one_node(ZN_OP_TRANSPOSE, 3, xd, -1, ZN_DTYPE_INT64, 0, NULL, &n, g);
  n->attrs.transpose = (zn_transpose_attrs){3, {2, 0, 1}};
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  /* y[k][i][j] = x[i][j][k] */
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 3; j++) {
        zn_test_checks++;
        if (y[(k * 2 + i) * 3 + j] != x[(i * 3 + j) * 4 + k]) {
          zn_test_failures++;
          fprintf(stderr, "transpose: element %d wrong\n", (k * 2 + i) * 3 + j);
        }
      }
  zn_graph_destroy(g);
}

static void test_pad(zn_pad_mode mode, const float *want, const char *what) {
  zn_graph *g;
  zn_node *n;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[2] = {2, 3};
  const float x[6] = {1, 2, 3, 4, 5, 6};
  float y[4 * 6];
  one_node(ZN_OP_PAD, 2, xd, -1, ZN_DTYPE_FLOAT32, 0, NULL, &n, g);
  n->attrs.pad = (zn_pad_attrs){mode, 4, {1, 2, 1, 1}, 9.0f}; /* rows +1/+1, cols +2/+1 */
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  rt_check_close(what, y, want, 24, 0);
  zn_graph_destroy(g);
}

static void test_gather(void) {
  zn_graph *g;
  zn_node *n;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[2] = {3, 4}, id = 3, idx[3] = {2, -3, 1};
  float x[12], y[9];
  for (int i = 0; i < 12; i++) x[i] = (float)i;
  int ind = rt_const(g, "i", ZN_DTYPE_INT64, 1, &id, idx);
  one_node(ZN_OP_GATHER, 2, xd, -1, ZN_DTYPE_FLOAT32, 1, &ind, &n, g);
  n->attrs.axis.axis = 1;
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  const float want[9] = {2, 1, 1, 6, 5, 5, 10, 9, 9};
  rt_check_close("gather axis 1", y, want, 9, 0);
  zn_graph_destroy(g);
  /* An index from the input data, out of range: an error, not a read. */
  CHECK_OK(zn_graph_create(&g));
  const int64_t d1 = 2;
  int ins[2] = {rt_input(g, "x", ZN_DTYPE_FLOAT32, 2, xd, -1), rt_input(g, "i", ZN_DTYPE_INT64, 1, &d1, -1)};
  int out = rt_value(g, "y");
  rt_node(g, ZN_OP_GATHER, "gather_bad", 2, ins, out)->attrs.axis.axis = 0;
  zn_graph_mark_output(g, out);
  int64_t bad[2] = {0, 3};
  const void *inputs2[2] = {x, bad};
  CHECK_STATUS(rt_run(g, 1, inputs2, outputs), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("gather_bad");
  zn_graph_destroy(g);
}

static void test_cast(void) {
  zn_graph *g;
  zn_node *n;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[1] = {5};
  const float x[5] = {1.9f, -1.9f, 0.0f, 3e20f, NAN};
  int64_t y[5];
  one_node(ZN_OP_CAST, 1, xd, -1, ZN_DTYPE_FLOAT32, 0, NULL, &n, g);
  n->attrs.cast.to = ZN_DTYPE_INT64;
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  CHECK_EQ_INT(y[0], 1);
  CHECK_EQ_INT(y[1], -1);
  CHECK_EQ_INT(y[2], 0);
  CHECK(y[3] > 0); /* saturates rather than overflowing */
  CHECK_EQ_INT(y[4], 0);
  zn_graph_destroy(g);
}

static void test_slice(void) {
  zn_graph *g;
  zn_node *n;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[2] = {3, 5}, two = 2;
  const int64_t starts[2] = {-1, 0}, ends[2] = {INT64_MIN, 5}, axes[2] = {1, 0}, steps[2] = {-2, 2};
  float x[15], y[6];
  for (int i = 0; i < 15; i++) x[i] = (float)i;
  int extra[4] = {rt_const(g, "s", ZN_DTYPE_INT64, 1, &two, starts), rt_const(g, "e", ZN_DTYPE_INT64, 1, &two, ends),
                  rt_const(g, "a", ZN_DTYPE_INT64, 1, &two, axes), rt_const(g, "t", ZN_DTYPE_INT64, 1, &two, steps)};
  one_node(ZN_OP_SLICE, 2, xd, -1, ZN_DTYPE_FLOAT32, 4, extra, &n, g);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  /* rows 0, 2; columns 4, 2, 0 */
  const float want[6] = {4, 2, 0, 14, 12, 10};
  rt_check_close("slice negative step", y, want, 6, 0);
  zn_graph_destroy(g);
}

static void test_shape(void) {
  zn_graph *g;
  zn_node *n;
  CHECK_OK(zn_graph_create(&g));
  const int64_t xd[4] = {1, 3, 7, 5};
  float x[3 * 3 * 7 * 5];
  int64_t y[4] = {0};
  one_node(ZN_OP_SHAPE, 4, xd, 0, ZN_DTYPE_FLOAT32, 0, NULL, &n, g);
  const void *inputs[1] = {x};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 3, inputs, outputs));
  CHECK_EQ_INT(y[0], 3); /* the batch resolved at run time */
  CHECK_EQ_INT(y[1], 3);
  CHECK_EQ_INT(y[2], 7);
  CHECK_EQ_INT(y[3], 5);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  test_concat();
  test_flatten_reshape();
  test_transpose();
  const float want_const[24] = {9, 9, 9, 9, 9, 9, 9, 9, 1, 2, 3, 9, 9, 9, 4, 5, 6, 9, 9, 9, 9, 9, 9, 9};
  const float want_reflect[24] = {6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2, 6, 5, 4, 5, 6, 5, 3, 2, 1, 2, 3, 2};
  const float want_edge[24] = {1, 1, 1, 2, 3, 3, 1, 1, 1, 2, 3, 3, 4, 4, 4, 5, 6, 6, 4, 4, 4, 5, 6, 6};
  test_pad(ZN_PAD_CONSTANT, want_const, "pad constant");
  test_pad(ZN_PAD_REFLECT, want_reflect, "pad reflect");
  test_pad(ZN_PAD_EDGE, want_edge, "pad edge");
  test_gather();
  test_cast();
  test_slice();
  test_shape();
  return 0;
}
