/* ZN_TEST_SLOW: the nine zoo models on onednn against the ref oracle, fp32,
 * batch 1 and batch 2, BN statistics calibrated like zn_model_from_zoo does,
 * graph optimised (BN folded, residual/activations fused): max relative error
 * of the logits <= 1e-4 and the same top-1 for every image; then the models
 * with 3x3 stride-1 convs again with the own NHWC Winograd forced on every
 * eligible conv (ZN_ONEDNN_OWN_WINOGRAD=force: F(2x2,3x3)), and some with
 * F(4x4,3x3) forced (force4); then the models with 1x1 convs of 64k output
 * channels with the own 1x1 conv forced on every eligible conv
 * (ZN_ONEDNN_OWN_1X1=force; the first pass ran the default size rule). */
#include "backend_test.h"

#include "backend/ref/ref.h"
#include "zoo/zoo.h"

static int64_t argmax(const float *x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

static void zoo_case(const char *name, int64_t batch) {
  zn_graph *g = NULL;
  CHECK_OK(zn_zoo_build(name, 1, &g));
  if (!g) return;
  CHECK_OK(zn_graph_infer_shapes(g));
  CHECK_OK(zn_ref_calibrate_batch_norm(g, 1, 1 ^ 0x5EEDCA11B4A7E5ull));
  CHECK_OK(zn_graph_optimize(g));
  bt_io a = {0}, r = {0};  /* deinit-safe when an init before it fails */
  CHECK(bt_io_init(&a, g, batch, 5) && bt_io_init(&r, g, batch, 5));
  CHECK_OK(bt_run(&zn_backend_ref, g, batch, ZN_PRECISION_FP32, 1, &r));
  CHECK_OK(bt_run(&zn_backend_onednn, g, batch, ZN_PRECISION_FP32, 2, &a));
  double e = bt_rel_err(a.out[0], r.out[0], a.out_count[0]);
  fprintf(stderr, "%-12s batch %lld: max relative error of logits %.3g\n", name, (long long)batch, e);
  CHECK(e <= 1e-4);
  int64_t classes = a.out_count[0] / batch;
  for (int64_t i = 0; i < batch; i++) CHECK_EQ_INT(argmax(a.out[0] + i * classes, classes), argmax(r.out[0] + i * classes, classes));
  if (strcmp(name, "resnet50") == 0 && batch == 1) {
    void *compiled = NULL;
    char text[4096];
    if (zn_backend_onednn.compile(g, NULL, &compiled) == ZN_OK) {
      zn_backend_onednn.describe(compiled, text, sizeof text);
      fprintf(stderr, "%s", text);
      zn_backend_onednn.compiled_destroy(compiled);
    }
  }
  bt_io_deinit(&a);
  bt_io_deinit(&r);
  zn_graph_destroy(g);
}

int zn_test_main(void) {
  static const char *models[] = {"alexnet", "densenet161", "inception_v3", "mobilenet_v1", "mobilenet_v2",
                                 "resnet18", "resnet50", "squeezenet1_1", "vgg16"};
  for (size_t i = 0; i < ZN_ARRAY_SIZE(models); i++) zoo_case(models[i], i % 3 == 0 ? 2 : 1);
  static const char *wino_models[] = {"densenet161", "inception_v3", "resnet18", "resnet50", "squeezenet1_1", "vgg16"};
  setenv("ZN_ONEDNN_OWN_WINOGRAD", "force", 1);
  fprintf(stderr, "ZN_ONEDNN_OWN_WINOGRAD=force:\n");
  for (size_t i = 0; i < ZN_ARRAY_SIZE(wino_models); i++) zoo_case(wino_models[i], i % 2 == 0 ? 2 : 1);
  static const char *wino4_models[] = {"inception_v3", "resnet18", "resnet50", "vgg16"};
  setenv("ZN_ONEDNN_OWN_WINOGRAD", "force4", 1);
  fprintf(stderr, "ZN_ONEDNN_OWN_WINOGRAD=force4:\n");
  for (size_t i = 0; i < ZN_ARRAY_SIZE(wino4_models); i++) zoo_case(wino4_models[i], i % 2 == 0 ? 2 : 1);
  unsetenv("ZN_ONEDNN_OWN_WINOGRAD");
  static const char *own1x1_models[] = {"mobilenet_v1", "mobilenet_v2", "resnet50"};
  setenv("ZN_ONEDNN_OWN_1X1", "force", 1);
  fprintf(stderr, "ZN_ONEDNN_OWN_1X1=force:\n");
  for (size_t i = 0; i < ZN_ARRAY_SIZE(own1x1_models); i++) zoo_case(own1x1_models[i], i % 2 == 0 ? 1 : 2);
  unsetenv("ZN_ONEDNN_OWN_1X1");
  return 0;
}
