/* Weights exist once: a backend that packs its own copy (onednn) lets the
 * runtime free the graph's. Outputs must not change — at the reference batch
 * and at a batch whose primitives prefer another weights layout, where the
 * instance re-packs from the shared packed copy — and export, which needs the
 * graph's weights, must say why it cannot run. Skipped without onednn. */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "zenith.h"

static bool have_backend(const char *name) {
  for (size_t i = 0; i < zn_backend_count(); i++)
    if (strcmp(zn_backend_name(i), name) == 0) return true;
  return false;
}

static float *run(const zn_model *m, int64_t batch, int threads, const float *x) {
  zn_instance_options io = zn_instance_options_default();
  io.batch = batch;
  io.num_threads = threads;
  zn_instance *inst = NULL;
  CHECK_OK(zn_instance_create(m, &io, &inst));
  if (!inst) return NULL;
  float *y = calloc(zn_instance_output_bytes(inst, 0), 1);
  const void *ins[1] = {x};
  void *outs[1] = {y};
  CHECK_OK(zn_instance_run(inst, ins, outs));
  zn_instance_destroy(inst);
  return y;
}

static void check(const char *name) {
  zn_model_options o = zn_model_options_default();
  o.backend = "onednn";
  zn_model *released = NULL, *kept = NULL;
  CHECK_OK(zn_model_from_zoo(name, 1, &o, &released));
  o.keep_graph_weights = 1;
  CHECK_OK(zn_model_from_zoo(name, 1, &o, &kept));
  if (!released || !kept) goto done;
  /* the kept model holds the graph's f32 weights (4 bytes per parameter) besides the packed ones */
  CHECK(zn_model_weight_bytes(kept) > 4 * (size_t)zn_model_num_params(kept));
  CHECK(zn_model_weight_bytes(released) > 0);

  const int64_t batches[] = {1, 8};
  const int threads[] = {1, 2};
  for (int t = 0; t < 2; t++) {
    int64_t b = batches[t];
    size_t n = (size_t)b * 3 * 224 * 224;
    float *x = malloc(n * sizeof(float));
    uint64_t seed = 5;
    for (size_t i = 0; i < n && x; i++) x[i] = zn_test_rand_uniform(&seed, -2, 2);
    float *ya = x ? run(released, b, threads[t], x) : NULL, *yb = x ? run(kept, b, threads[t], x) : NULL;
    /* Kernels may differ between the two compiles (Winograd is chosen by
     * timing), so allow the backend's stated tolerance, not bit equality. */
    if (ya && yb) CHECK_NEAR(zn_test_rel_err(ya, yb, b * 1000), 0, 1e-4);
    free(x);
    free(ya);
    free(yb);
  }

  /* A model compiled for batch 8 (tune_batch: kernels timed there) computes
   * the same thing at batch 8 and at batch 1; a nonsense hint means batch 1. */
  {
    zn_model_options t = zn_model_options_default();
    t.backend = "onednn";
    zn_model *tuned = NULL, *odd = NULL;
    t.tune_batch = 8;
    CHECK_OK(zn_model_from_zoo(name, 1, &t, &tuned));
    t.tune_batch = -3;
    CHECK_OK(zn_model_from_zoo(name, 1, &t, &odd));
    for (int64_t b = 1; tuned && odd && b <= 8; b += 7) {
      size_t n = (size_t)b * 3 * 224 * 224;
      float *x = malloc(n * sizeof(float));
      uint64_t seed = 9;
      for (size_t i = 0; i < n && x; i++) x[i] = zn_test_rand_uniform(&seed, -2, 2);
      float *ya = x ? run(tuned, b, 2, x) : NULL, *yb = x ? run(kept, b, 1, x) : NULL, *yc = x ? run(odd, b, 1, x) : NULL;
      if (ya && yb && yc) {
        CHECK_NEAR(zn_test_rel_err(ya, yb, b * 1000), 0, 1e-4);
        CHECK_NEAR(zn_test_rel_err(yc, yb, b * 1000), 0, 1e-4);
      }
      free(x);
      free(ya);
      free(yb);
      free(yc);
    }
    zn_model_destroy(tuned);
    zn_model_destroy(odd);
  }

  /* A layout another batch / thread count prefers is made once and shared:
   * a second identical instance adds no weight bytes. */
  {
    zn_instance_options io = zn_instance_options_default();
    io.batch = 8;
    io.num_threads = 2;
    zn_instance *a = NULL, *b = NULL;
    CHECK_OK(zn_instance_create(released, &io, &a));
    size_t w1 = zn_model_weight_bytes(released);
    CHECK_OK(zn_instance_create(released, &io, &b));
    CHECK_EQ_INT(zn_model_weight_bytes(released), w1);
    zn_instance_destroy(a);
    zn_instance_destroy(b);
  }

  char dir[] = "/tmp/zn_release_XXXXXX";
  if (mkdtemp(dir)) {
    char path[128];
    snprintf(path, sizeof path, "%s/m.onnx", dir);
    CHECK_STATUS(zn_model_export_onnx(released, path), ZN_ERR_INVALID_STATE);
    CHECK_ERROR_HAS("keep_graph_weights");
    CHECK_OK(zn_model_export_onnx(kept, path));
    unlink(path);
    rmdir(dir);
  }
done:
  zn_model_destroy(released);
  zn_model_destroy(kept);
}

int zn_test_main(void) {
  if (!have_backend("onednn")) {
    printf("skipped: the onednn backend is not built\n");
    return 0;
  }
  /* Winograd is chosen per conv by timing unless forced either way: force it,
   * so both compiles agree, once off (every weight released) and once on (its
   * convs keep the graph's weights for re-packs). */
  const char *modes[] = {"0", "force"};
  for (int i = 0; i < 2; i++) {
    setenv("ZN_ONEDNN_WINOGRAD", modes[i], 1);
    check("mobilenet_v2");
    check("resnet18");
  }
  unsetenv("ZN_ONEDNN_WINOGRAD");
  return 0;
}
