/* ZN_TEST_SLOW: the nine zoo models on xnnpack against the ref oracle through
 * the public API (zn_model_from_zoo calibrates BN and optimises the graph):
 * max relative error of the logits <= 1e-4 and the same top-1 for every
 * image, at batch 1 or 2, with one or two threads; a second instance of the
 * same model gives bit-identical logits. */
#include <stdlib.h>

#include "harness.h"
#include "zenith.h"

static int64_t argmax(const float *x, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; i++)
    if (x[i] > x[best]) best = i;
  return best;
}

static float *run_model(zn_model *m, int64_t batch, int threads, const float *input, size_t *out_bytes) {
  zn_instance_options io = zn_instance_options_default();
  io.batch = batch;
  io.num_threads = threads;
  zn_instance *inst = NULL;
  CHECK_OK(zn_instance_create(m, &io, &inst));
  if (!inst) return NULL;
  *out_bytes = zn_instance_output_bytes(inst, 0);
  float *out = calloc(1, *out_bytes + 4);
  const void *ins[1] = {input};
  void *outs[1] = {out};
  CHECK_OK(zn_instance_run(inst, ins, outs));
  zn_instance_destroy(inst);
  return out;
}

static void zoo_case(const char *name, int64_t batch, int threads) {
  zn_model_options mo = zn_model_options_default();
  zn_model *ref = NULL, *xnn = NULL;
  mo.backend = "ref";
  CHECK_OK(zn_model_from_zoo(name, 1, &mo, &ref));
  mo.backend = "xnnpack";
  CHECK_OK(zn_model_from_zoo(name, 1, &mo, &xnn));
  if (!ref || !xnn) goto done;
  CHECK(strcmp(zn_model_backend(xnn), "xnnpack") == 0);
  zn_tensor_info info;
  CHECK_OK(zn_model_input_info(xnn, 0, &info));
  int64_t count = batch;
  for (int i = 1; i < info.num_dims; i++) count *= info.dims[i];
  float *input = malloc((size_t)count * sizeof(float));
  uint64_t seed = 5;
  for (int64_t i = 0; i < count; i++) input[i] = zn_test_rand_uniform(&seed, -1.f, 1.f);
  size_t rb = 0, xb = 0, xb2 = 0;
  float *r = run_model(ref, batch, 1, input, &rb);
  float *x = run_model(xnn, batch, threads, input, &xb);
  float *x2 = run_model(xnn, batch, threads, input, &xb2);
  CHECK_EQ_INT(rb, xb);
  if (r && x && x2 && rb == xb && xb == xb2) {
    const int64_t n = (int64_t)(rb / sizeof(float)), classes = n / batch;
    double maxd = 0, maxr = 0;
    for (int64_t i = 0; i < n; i++) {
      const double d = fabs((double)x[i] - (double)r[i]);
      maxd = d > maxd || isnan(x[i]) ? (isnan(x[i]) ? INFINITY : d) : maxd;
      maxr = fabs((double)r[i]) > maxr ? fabs((double)r[i]) : maxr;
    }
    const double e = maxr > 0 ? maxd / maxr : maxd;
    fprintf(stderr, "%-14s batch %lld threads %d: max relative error of logits %.3g (max |logit| %.3g)\n", name,
            (long long)batch, threads, e, maxr);
    CHECK(e <= 1e-4);
    for (int64_t b = 0; b < batch; b++)
      CHECK_EQ_INT(argmax(x + b * classes, classes), argmax(r + b * classes, classes));
    CHECK(memcmp(x, x2, xb) == 0);
  }
  free(r);
  free(x);
  free(x2);
  free(input);
done:
  zn_model_destroy(ref);
  zn_model_destroy(xnn);
}

int zn_test_main(void) {
  int have = 0;
  for (size_t i = 0; i < zn_backend_count(); i++) have |= strcmp(zn_backend_name(i), "xnnpack") == 0;
  if (!have) {
    fprintf(stderr, "xnnpack backend not built: nothing to test\n");
    return 0;
  }
  static const char *models[] = {"alexnet", "densenet161", "inception_v3", "mobilenet_v1", "mobilenet_v2",
                                 "resnet18", "resnet50", "squeezenet1_1", "vgg16"};
  /* ZN_XNNPACK_ZOO_MODELS="a b": only those (scripts/cross-arm64.sh under qemu). */
  const char *only = getenv("ZN_XNNPACK_ZOO_MODELS");
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++)
    if (!only || strstr(only, models[i])) zoo_case(models[i], i % 3 == 0 ? 2 : 1, i % 2 ? 2 : 1);
  return 0;
}
