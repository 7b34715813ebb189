/* ref element-wise ops: numpy broadcasting ([N,C,H,W] + [C,1,1], [N,C,1,1] *
 * [N,C,H,W]-style, scalars), Sub/Div operand order, int64 arithmetic with
 * division by zero reported as an error, n-ary Sum. */
#include "test_ref_util.h"

static void run_binary(zn_op op, const int64_t *ad, int ra, int a_batch, const int64_t *bd, int rb, int b_batch,
                       int64_t batch, const char *what) {
  float a[512], b[512], y[512], want[512];
  int64_t A[4] = {1, 1, 1, 1}, B[4] = {1, 1, 1, 1}, O[4];
  for (int i = 0; i < ra; i++) A[4 - ra + i] = ad[i] * (i == a_batch ? batch : 1);
  for (int i = 0; i < rb; i++) B[4 - rb + i] = bd[i] * (i == b_batch ? batch : 1);
  int64_t an = A[0] * A[1] * A[2] * A[3], bn = B[0] * B[1] * B[2] * B[3], on = 1;
  for (int i = 0; i < 4; i++) O[i] = ZN_MAX(A[i], B[i]), on *= O[i];
  rt_fill(a, an, 31), rt_fill(b, bn, 32);
  for (int64_t i = 0; i < bn; i++) b[i] += b[i] >= 0 ? 0.5f : -0.5f; /* keep Div tame */
  int64_t o = 0;
  for (int64_t i0 = 0; i0 < O[0]; i0++)
    for (int64_t i1 = 0; i1 < O[1]; i1++)
      for (int64_t i2 = 0; i2 < O[2]; i2++)
        for (int64_t i3 = 0; i3 < O[3]; i3++, o++) {
          const int64_t ia = (((A[0] > 1 ? i0 : 0) * A[1] + (A[1] > 1 ? i1 : 0)) * A[2] + (A[2] > 1 ? i2 : 0)) * A[3] +
                             (A[3] > 1 ? i3 : 0);
          const int64_t ib = (((B[0] > 1 ? i0 : 0) * B[1] + (B[1] > 1 ? i1 : 0)) * B[2] + (B[2] > 1 ? i2 : 0)) * B[3] +
                             (B[3] > 1 ? i3 : 0);
          const float x = a[ia], z = b[ib];
          want[o] = op == ZN_OP_ADD ? x + z : op == ZN_OP_SUB ? x - z : op == ZN_OP_MUL ? x * z : x / z;
        }
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int ins[2] = {rt_input(g, "a", ZN_DTYPE_FLOAT32, ra, ad, a_batch), rt_input(g, "b", ZN_DTYPE_FLOAT32, rb, bd, b_batch)};
  int out = rt_value(g, "y");
  rt_node(g, op, "bin", 2, ins, out);
  zn_graph_mark_output(g, out);
  const void *inputs[2] = {a, b};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, batch, inputs, outputs));
  rt_check_close(what, y, want, on, 1e-6f);
  zn_graph_destroy(g);
}

static void test_int64(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t d[1] = {4}, one = 1;
  int64_t a[4] = {7, -7, 100, INT64_MAX}, b[1] = {2}, y[4];
  int ins[2] = {rt_input(g, "a", ZN_DTYPE_INT64, 1, d, -1), rt_const(g, "b", ZN_DTYPE_INT64, 1, &one, b)};
  int out = rt_value(g, "y");
  rt_node(g, ZN_OP_DIV, "div", 2, ins, out);
  zn_graph_mark_output(g, out);
  const void *inputs[1] = {a};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  CHECK_EQ_INT(y[0], 3);
  CHECK_EQ_INT(y[1], -3); /* truncation, as ONNX integer Div */
  CHECK_EQ_INT(y[2], 50);
  CHECK_EQ_INT(y[3], INT64_MAX / 2);
  zn_graph_destroy(g);

  CHECK_OK(zn_graph_create(&g));
  int64_t zero[1] = {0};
  int ins2[2] = {rt_input(g, "a", ZN_DTYPE_INT64, 1, d, -1), rt_const(g, "b", ZN_DTYPE_INT64, 1, &one, zero)};
  out = rt_value(g, "y");
  rt_node(g, ZN_OP_DIV, "div0", 2, ins2, out);
  zn_graph_mark_output(g, out);
  CHECK_STATUS(rt_run(g, 1, inputs, outputs), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("div0");
  zn_graph_destroy(g);

  CHECK_OK(zn_graph_create(&g));
  int64_t c[4] = {1, 2, 3, 4};
  int ins3[2] = {rt_input(g, "a", ZN_DTYPE_INT64, 1, d, -1), rt_const(g, "c", ZN_DTYPE_INT64, 1, d, c)};
  out = rt_value(g, "y");
  rt_node(g, ZN_OP_MUL, "mul", 2, ins3, out);
  zn_graph_mark_output(g, out);
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  CHECK_EQ_INT(y[0], 7);
  CHECK_EQ_INT(y[1], -14);
  CHECK_EQ_INT(y[2], 300);
  zn_graph_destroy(g);
}

static void test_sum(void) {
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t d4[4] = {1, 3, 2, 2}, d3[3] = {3, 1, 1}, d1[1] = {2};
  float a[24], b[3], c[2], y[24], want[24];
  rt_fill(a, 24, 41), rt_fill(b, 3, 42), rt_fill(c, 2, 43);
  for (int n = 0; n < 2; n++)
    for (int ch = 0; ch < 3; ch++)
      for (int h = 0; h < 2; h++)
        for (int w = 0; w < 2; w++) {
          int i = ((n * 3 + ch) * 2 + h) * 2 + w;
          want[i] = a[i] + b[ch] + c[w];
        }
  int ins[3] = {rt_input(g, "a", ZN_DTYPE_FLOAT32, 4, d4, 0), rt_const(g, "b", ZN_DTYPE_FLOAT32, 3, d3, b),
                rt_const(g, "c", ZN_DTYPE_FLOAT32, 1, d1, c)};
  int out = rt_value(g, "y");
  rt_node(g, ZN_OP_SUM, "sum", 3, ins, out);
  zn_graph_mark_output(g, out);
  const void *inputs[1] = {a};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 2, inputs, outputs));
  rt_check_close("sum", y, want, 24, 1e-6f);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  const int64_t nchw[4] = {1, 3, 4, 5}, c11[3] = {3, 1, 1}, nc11[4] = {1, 3, 1, 1}, w[1] = {5}, s[1] = {1},
                h1[4] = {1, 1, 4, 1};
  const zn_op ops[4] = {ZN_OP_ADD, ZN_OP_SUB, ZN_OP_MUL, ZN_OP_DIV};
  for (int k = 0; k < 4; k++) {
    char what[64];
    snprintf(what, sizeof what, "%s same shape", zn_op_name(ops[k]));
    run_binary(ops[k], nchw, 4, 0, nchw, 4, 0, 2, what);
    snprintf(what, sizeof what, "%s [N,C,H,W] op [C,1,1]", zn_op_name(ops[k]));
    run_binary(ops[k], nchw, 4, 0, c11, 3, -1, 2, what);
    snprintf(what, sizeof what, "%s [C,1,1] op [N,C,H,W]", zn_op_name(ops[k]));
    run_binary(ops[k], c11, 3, -1, nchw, 4, 0, 2, what);
    snprintf(what, sizeof what, "%s [N,C,1,1] op [N,C,H,W]", zn_op_name(ops[k]));
    run_binary(ops[k], nc11, 4, 0, nchw, 4, 0, 2, what);
    snprintf(what, sizeof what, "%s [N,C,H,W] op [W]", zn_op_name(ops[k]));
    run_binary(ops[k], nchw, 4, 0, w, 1, -1, 3, what);
    snprintf(what, sizeof what, "%s [N,C,H,W] op scalar", zn_op_name(ops[k]));
    run_binary(ops[k], nchw, 4, 0, s, 1, -1, 1, what);
    snprintf(what, sizeof what, "%s [1,1,H,1] op [N,C,1,1]", zn_op_name(ops[k]));
    run_binary(ops[k], h1, 4, -1, nc11, 4, 0, 2, what);
  }
  test_int64();
  test_sum();
  return 0;
}
