/* The bf16-vs-fp32 comparison (bench/accuracy.c): hand-made logits with known
 * max relative error and top-1 / top-5 agreement (a top-1 flip that stays in
 * the top 5 and one that leaves it, negative and all-zero logits), bad input
 * (class counts that change, no images, NULLs), and the model path on a tiny
 * ONNX model (ref backend) against itself and against a model of another
 * input size. */
#include <stdlib.h>
#include <unistd.h>

#include "bench/accuracy.h"
#include "core/alloc.h"
#include "core/status.h"
#include "harness.h"
#include "unit/bench/tiny_model.h"

enum { C = 6 };

static void logits(void) {
  /* fp32 (reference) and reduced logits, 6 classes per image */
  static const float f[5][C] = {
      {1, 2, 3, 4, 5, 10},        /* identical */
      {0, 0, 0, 0, 0, 8},         /* top value 8 -> 7: err 1/8, agree */
      {9, 8, 1, 1, 1, 1},         /* top-1 flips 0 -> 1, class 0 still 2nd: top-5 agrees, err 1/9 */
      {-4, -2, -8, -1, -3, -5},   /* negative: err 0.5/8, agree */
      {0, 0, 0, 0, 0, 0},         /* all zero: absolute error 0.5; ties rank the lower index first */
  };
  static const float h[5][C] = {
      {1, 2, 3, 4, 5, 10},
      {0, 0, 0, 0, 0, 7},
      {8, 9, 1, 1, 1, 1},
      {-4, -2, -8, -1.5f, -3, -5},
      {0.5f, 0, 0, 0, 0, 0},
  };
  zn_bench_accuracy acc;
  memset(&acc, 0, sizeof acc);
  CHECK(isnan(zn_bench_accuracy_top1(&acc)) && isnan(zn_bench_accuracy_top5(&acc)));
  CHECK_OK(zn_bench_accuracy_add(&acc, &h[0][0], &f[0][0], 4, C));
  CHECK_EQ_INT(acc.num_images, 4);
  CHECK_EQ_INT(acc.num_classes, C);
  CHECK_NEAR(acc.max_rel_err, 1.0 / 8, 1e-15);
  CHECK_EQ_INT(acc.top1_agree, 3);
  CHECK_EQ_INT(acc.top5_agree, 4);
  CHECK_NEAR(zn_bench_accuracy_top1(&acc), 0.75, 0);
  CHECK_NEAR(zn_bench_accuracy_top5(&acc), 1.0, 0);

  /* a second call accumulates: the all-zero image's absolute error 0.5 is the new worst */
  CHECK_OK(zn_bench_accuracy_add(&acc, &h[4][0], &f[4][0], 1, C));
  CHECK_EQ_INT(acc.num_images, 5);
  CHECK_NEAR(acc.max_rel_err, 0.5, 0);
  CHECK_EQ_INT(acc.top1_agree, 4);
  CHECK_EQ_INT(acc.top5_agree, 5);

  /* a top-1 flip that leaves the top 5: fp32's class 0 is the reduced model's last */
  static const float f_out[C] = {10, 5, 4, 3, 2, 1}, h_out[C] = {0, 5, 4, 3, 2, 1};
  CHECK_OK(zn_bench_accuracy_add(&acc, h_out, f_out, 1, C));
  CHECK_EQ_INT(acc.num_images, 6);
  CHECK_NEAR(acc.max_rel_err, 1.0, 0);  /* |0 - 10| / 10 */
  CHECK_EQ_INT(acc.top1_agree, 4);
  CHECK_EQ_INT(acc.top5_agree, 5);
  CHECK_NEAR(zn_bench_accuracy_top1(&acc), 4.0 / 6, 1e-15);
  CHECK_NEAR(zn_bench_accuracy_top5(&acc), 5.0 / 6, 1e-15);

  /* a non-finite reduced logit is never hidden */
  zn_bench_accuracy nan_acc;
  memset(&nan_acc, 0, sizeof nan_acc);
  float h_nan[C] = {1, 2, 3, 4, 5, NAN};
  CHECK_OK(zn_bench_accuracy_add(&nan_acc, h_nan, &f[0][0], 1, C));
  CHECK(isnan(nan_acc.max_rel_err));
  CHECK_EQ_INT(nan_acc.top1_agree, 0);
  CHECK_EQ_INT(nan_acc.top5_agree, 0);

  /* fewer classes than 5: top-5 is every class */
  static const float f2[2] = {1, 2}, h2[2] = {2, 1};
  zn_bench_accuracy two;
  memset(&two, 0, sizeof two);
  CHECK_OK(zn_bench_accuracy_add(&two, h2, f2, 1, 2));
  CHECK_EQ_INT(two.top1_agree, 0);
  CHECK_EQ_INT(two.top5_agree, 1);
  CHECK_NEAR(two.max_rel_err, 0.5, 0);

  /* bad input: class count changes, no images, no classes, NULLs; acc unchanged */
  CHECK_STATUS(zn_bench_accuracy_add(&acc, &h[0][0], &f[0][0], 1, C - 1), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("5 classes per image, earlier images had 6");
  CHECK_STATUS(zn_bench_accuracy_add(&acc, &h[0][0], &f[0][0], 0, C), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("no images");
  CHECK_STATUS(zn_bench_accuracy_add(&acc, &h[0][0], &f[0][0], 1, 0), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("0 classes per image");
  CHECK_STATUS(zn_bench_accuracy_add(&acc, NULL, &f[0][0], 1, C), ZN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zn_bench_accuracy_add(NULL, &h[0][0], &f[0][0], 1, C), ZN_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(acc.num_images, 6);
}

static void models(void) {
  char p8[512], p10[512];
  const char *dir = getenv("PWD") ? getenv("PWD") : ".";
  snprintf(p8, sizeof p8, "%s/zn_test_accuracy_8_%d.onnx", dir, (int)getpid());
  snprintf(p10, sizeof p10, "%s/zn_test_accuracy_10_%d.onnx", dir, (int)getpid());
  CHECK(tiny_model_write(p8, 8) == 0);
  CHECK(tiny_model_write(p10, 10) == 0);
  zn_model_options mo = zn_model_options_default();
  mo.backend = "ref";
  zn_model *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(zn_model_load_file(p8, &mo, &a));
  CHECK_OK(zn_model_load_file(p8, &mo, &b));
  CHECK_OK(zn_model_load_file(p10, &mo, &c));
  remove(p8);
  remove(p10);
  if (!a || !b || !c) goto out;
  CHECK_EQ_INT(zn_bench_accuracy_image_elements(a), 3 * 8 * 8);
  enum { N = 5, PER = 3 * 8 * 8 };
  float *img = zn_alloc_aligned(N * PER * sizeof(float));
  CHECK(img != NULL);
  if (!img) goto out;
  uint64_t seed = 7;
  for (int i = 0; i < N * PER; i++) img[i] = zn_test_rand_uniform(&seed, -1, 1);
  zn_bench_accuracy acc;
  CHECK_OK(zn_bench_accuracy_measure(a, b, img, N, 1, &acc));  /* the same fp32 model twice: exact */
  CHECK_EQ_INT(acc.num_images, N);
  CHECK_EQ_INT(acc.num_classes, 4);
  CHECK_NEAR(acc.max_rel_err, 0, 0);
  CHECK_EQ_INT(acc.top1_agree, N);
  CHECK_EQ_INT(acc.top5_agree, N);

  CHECK_STATUS(zn_bench_accuracy_measure(a, c, img, N, 1, &acc), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("input 0 holds 192 and 300 float32 elements per image");
  CHECK_EQ_INT(acc.num_images, 0);
  CHECK_STATUS(zn_bench_accuracy_measure(a, b, img, 0, 1, &acc), ZN_ERR_INVALID_ARGUMENT);
  CHECK_ERROR_HAS("no images");
  CHECK_STATUS(zn_bench_accuracy_measure(a, b, NULL, N, 1, &acc), ZN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zn_bench_accuracy_measure(NULL, b, img, N, 1, &acc), ZN_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(zn_bench_accuracy_measure(a, b, img, N, 1, NULL), ZN_ERR_INVALID_ARGUMENT);
  zn_free_aligned(img);
out:
  zn_model_destroy(a);
  zn_model_destroy(b);
  zn_model_destroy(c);
}

int zn_test_main(void) {
  logits();
  models();
  return 0;
}
