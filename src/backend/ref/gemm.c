/* Gemm (Y = alpha * A' * B' + beta * C, then a fused activation) and the one
 * matrix-multiply loop every ref kernel shares (conv via im2col, MatMul).
 * The loop is i-k-j with a contiguous inner loop over n, four rows of C at a
 * time and N/K blocked so the working set stays in cache; -O3 vectorises it. */
#include <string.h>

#include "backend/ref/ref.h"
#include "core/status.h"

enum { NB = 256, KB = 256 };

static void sgemm_rows_contiguous_b(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, int64_t a_cs,
                                    const float *b, int64_t b_rs, float *c, int64_t ldc) {
  for (int64_t n0 = 0; n0 < N; n0 += NB) {
    const int64_t nb = ZN_MIN(NB, N - n0);
    for (int64_t k0 = 0; k0 < K; k0 += KB) {
      const int64_t k1 = ZN_MIN(K, k0 + KB);
      int64_t m = 0;
      for (; m + 4 <= M; m += 4) {
        float *restrict c0 = c + m * ldc + n0, *restrict c1 = c0 + ldc, *restrict c2 = c1 + ldc,
                        *restrict c3 = c2 + ldc;
        for (int64_t k = k0; k < k1; k++) {
          const float a0 = a[m * a_rs + k * a_cs], a1 = a[(m + 1) * a_rs + k * a_cs];
          const float a2 = a[(m + 2) * a_rs + k * a_cs], a3 = a[(m + 3) * a_rs + k * a_cs];
          const float *restrict bp = b + k * b_rs + n0;
          for (int64_t j = 0; j < nb; j++) {
            const float bv = bp[j];
            c0[j] += a0 * bv;
            c1[j] += a1 * bv;
            c2[j] += a2 * bv;
            c3[j] += a3 * bv;
          }
        }
      }
      for (; m < M; m++) {
        float *restrict c0 = c + m * ldc + n0;
        for (int64_t k = k0; k < k1; k++) {
          const float a0 = a[m * a_rs + k * a_cs];
          const float *restrict bp = b + k * b_rs + n0;
          for (int64_t j = 0; j < nb; j++) c0[j] += a0 * bp[j];
        }
      }
    }
  }
}

/* B(k, n) contiguous along k (a transposed weight): dot products with eight
 * fixed partial sums, combined in a fixed order. */
static void sgemm_dot(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, const float *b, int64_t b_cs,
                      float *c, int64_t ldc) {
  for (int64_t m = 0; m < M; m++) {
    const float *restrict ap = a + m * a_rs;
    for (int64_t n = 0; n < N; n++) {
      const float *restrict bp = b + n * b_cs;
      float acc[8] = {0};
      int64_t k = 0;
      for (; k + 8 <= K; k += 8)
        for (int l = 0; l < 8; l++) acc[l] += ap[k + l] * bp[k + l];
      float tail = 0.0f;
      for (; k < K; k++) tail += ap[k] * bp[k];
      c[m * ldc + n] += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
    }
  }
}

void zn_ref_sgemm_f32(int64_t M, int64_t N, int64_t K, const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                      int64_t b_rs, int64_t b_cs, float *c, int64_t ldc) {
  if (b_cs == 1) {
    sgemm_rows_contiguous_b(M, N, K, a, a_rs, a_cs, b, b_rs, c, ldc);
  } else if (a_cs == 1 && b_rs == 1) {
    sgemm_dot(M, N, K, a, a_rs, b, b_cs, c, ldc);
  } else {
    for (int64_t m = 0; m < M; m++)
      for (int64_t k = 0; k < K; k++) {
        const float av = a[m * a_rs + k * a_cs];
        for (int64_t n = 0; n < N; n++) c[m * ldc + n] += av * b[k * b_rs + n * b_cs];
      }
  }
}

zn_status zn_ref_gemm_f32(const zn_node *node, const zn_ref_tensor *const *in, zn_ref_tensor *out, void *scratch) {
  const zn_gemm_attrs *at = &node->attrs.gemm;
  const zn_ref_tensor *A = in[0], *B = in[1], *C = node->num_inputs > 2 ? in[2] : NULL;
  if (A->num_dims != 2 || B->num_dims != 2 || out->num_dims != 2)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Gemm '%s': operands must be 2-D", node->name);
  const int64_t M = at->trans_a ? A->dims[1] : A->dims[0], K = at->trans_a ? A->dims[0] : A->dims[1];
  const int64_t KB_ = at->trans_b ? B->dims[1] : B->dims[0], N = at->trans_b ? B->dims[0] : B->dims[1];
  if (K != KB_ || out->dims[0] != M || out->dims[1] != N)
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Gemm '%s': shapes [%lld,%lld]x[%lld,%lld] -> [%lld,%lld]",
                    node->name, (long long)A->dims[0], (long long)A->dims[1], (long long)B->dims[0],
                    (long long)B->dims[1], (long long)out->dims[0], (long long)out->dims[1]);
  int64_t cs[ZN_MAX_DIMS] = {0};
  if (C && !zn_ref_broadcast_strides(C, out, cs))
    return zn_error(ZN_ERR_INVALID_MODEL, "failed to run Gemm '%s': C does not broadcast to [%lld,%lld]", node->name,
                    (long long)M, (long long)N);
  float *y = out->data;
  memset(y, 0, (size_t)(M * N) * sizeof(float));
  const float *a = A->data, *b = B->data;
  zn_ref_sgemm_f32(M, N, K, a, at->trans_a ? 1 : K, at->trans_a ? M : 1, b, at->trans_b ? 1 : N, at->trans_b ? K : 1,
                   y, N);
  const float *c = C ? C->data : NULL;
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++) {
      float v = at->alpha * y[m * N + n];
      if (c) v += at->beta * c[m * cs[0] + n * cs[1]];
      y[m * N + n] = v;
    }
  zn_ref_act_apply_f32(&at->act, y, M * N);
  return ZN_OK;
}
