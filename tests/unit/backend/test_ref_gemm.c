/* ref Gemm (all transpose combinations, alpha/beta, broadcast C, fused act)
 * and MatMul (batch broadcasting, 1-D operands) against triple loops. */
#include "test_ref_util.h"

static void test_gemm(bool ta, bool tb, int c_rank, zn_act act) {
  const int64_t M = 3, K = 37, N = 300; /* M = batch 3 x coefficient 1; N crosses a 256 block */
  static float a[3 * 37], b[37 * 300], c[300], y[3 * 300], want[3 * 300];
  rt_fill(a, M * K, 11), rt_fill(b, K * N, 12), rt_fill(c, N, 13);
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int64_t ad[2] = {ta ? K : 1, ta ? 1 : K}, bd[2] = {tb ? N : K, tb ? K : N}, cd[2] = {1, N};
  int ins[3] = {rt_input(g, "a", ZN_DTYPE_FLOAT32, 2, ad, ta ? 1 : 0), rt_const(g, "b", ZN_DTYPE_FLOAT32, 2, bd, b),
                c_rank ? rt_const(g, "c", ZN_DTYPE_FLOAT32, c_rank, c_rank == 1 ? cd + 1 : cd, c) : ZN_NO_VALUE};
  int out = rt_value(g, "y");
  zn_node *n = rt_node(g, ZN_OP_GEMM, "gemm", c_rank ? 3 : 2, ins, out);
  n->attrs.gemm = (zn_gemm_attrs){ta, tb, 0.5f, 2.0f, act};
  zn_graph_mark_output(g, out);
  /* a's memory is [M,K] or [K,M]; b's [K,N] or [N,K]. */
  for (int64_t m = 0; m < M; m++)
    for (int64_t j = 0; j < N; j++) {
      float s = 0;
      for (int64_t k = 0; k < K; k++) s += (ta ? a[k * M + m] : a[m * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
      float v = 0.5f * s + (c_rank ? 2.0f * c[j] : 0.0f);
      want[m * N + j] = act.kind == ZN_ACT_RELU ? (v > 0 ? v : 0) : v;
    }
  const void *inputs[1] = {a};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, M, inputs, outputs));
  char what[64];
  snprintf(what, sizeof what, "gemm ta=%d tb=%d c_rank=%d act=%d", ta, tb, c_rank, act.kind);
  rt_check_close(what, y, want, M * N, 1e-5f);
  zn_graph_destroy(g);
}

static void test_matmul(int ra, const int64_t *ad, int rb, const int64_t *bd, int64_t out_count) {
  float a[256], b[256], y[256], want[256];
  int64_t an = 1, bn = 1;
  for (int i = 0; i < ra; i++) an *= ad[i];
  for (int i = 0; i < rb; i++) bn *= bd[i];
  rt_fill(a, an, 21), rt_fill(b, bn, 22);
  zn_graph *g;
  CHECK_OK(zn_graph_create(&g));
  int ins[2] = {rt_input(g, "a", ZN_DTYPE_FLOAT32, ra, ad, -1), rt_input(g, "b", ZN_DTYPE_FLOAT32, rb, bd, -1)};
  int out = rt_value(g, "y");
  rt_node(g, ZN_OP_MATMUL, "mm", 2, ins, out);
  zn_graph_mark_output(g, out);
  /* Reference: promote to 4-D [B0,B1,M,K] x [B0,B1,K,N] with broadcast batch. */
  int64_t A4[4] = {1, 1, 1, 1}, B4[4] = {1, 1, 1, 1};
  const bool a1 = ra == 1, b1 = rb == 1;
  if (a1) A4[3] = ad[0];
  else for (int i = 0; i < ra; i++) A4[4 - ra + i] = ad[i];
  if (b1) B4[2] = bd[0];
  else for (int i = 0; i < rb; i++) B4[4 - rb + i] = bd[i];
  const int64_t M = A4[2], K = A4[3], N = B4[3];
  int64_t o = 0;
  for (int64_t i0 = 0; i0 < ZN_MAX(A4[0], B4[0]); i0++)
    for (int64_t i1 = 0; i1 < ZN_MAX(A4[1], B4[1]); i1++)
      for (int64_t m = 0; m < M; m++)
        for (int64_t j = 0; j < N; j++) {
          const int64_t pa = (A4[0] > 1 ? i0 : 0) * A4[1] + (A4[1] > 1 ? i1 : 0);
          const int64_t pb = (B4[0] > 1 ? i0 : 0) * B4[1] + (B4[1] > 1 ? i1 : 0);
          float s = 0;
          for (int64_t k = 0; k < K; k++) s += a[(pa * M + m) * K + k] * b[(pb * K + k) * N + j];
          want[o++] = s;
        }
  CHECK_EQ_INT(o, out_count);
  const void *inputs[2] = {a, b};
  void *outputs[1] = {y};
  CHECK_OK(rt_run(g, 1, inputs, outputs));
  rt_check_close("matmul", y, want, out_count, 1e-5f);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  const zn_act none = {ZN_ACT_NONE, 0, 0}, relu = {ZN_ACT_RELU, 0, 0};
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      test_gemm(ta, tb, 1, none);
      test_gemm(ta, tb, 2, relu);
      test_gemm(ta, tb, 0, relu);
    }
  const int64_t a4[4] = {2, 1, 3, 4}, b3[3] = {3, 4, 5}, a1[1] = {4}, b3b[3] = {2, 4, 5}, a3[3] = {2, 3, 4},
                a2[2] = {5, 7}, b2[2] = {7, 6};
  test_matmul(4, a4, 3, b3, 2 * 3 * 3 * 5);
  test_matmul(1, a1, 3, b3b, 2 * 5);
  test_matmul(3, a3, 1, a1, 2 * 3);
  test_matmul(2, a2, 2, b2, 5 * 6);
  return 0;
}
