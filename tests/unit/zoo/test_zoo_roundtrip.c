/* Every zoo model, through the public API on the ref backend:
 *   - the same seed builds the same model: two builds give bit-identical logits;
 *   - export -> import gives bit-identical logits (the file `zenith zoo export`
 *     writes: torchvision's structure, BN unfolded, then the same passes);
 *   - the logits match golden values recorded from this code (relative 1e-4 of
 *     max |logit|), so a change in weight generation, calibration or numerics
 *     shows up here;
 *   - another seed gives other logits.
 * ZN_TEST_SLOW: runs all nine models several times on ref. */
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "zenith.h"

/* Logits 0..3 of image 0 for seed 1 on the seeded input below (ref backend). */
typedef struct golden { const char *name; float logits[4]; } golden;
static const golden goldens[] = {
#include "zoo_golden.inc"
    {NULL, {0}},
};

static float *make_input(int size, uint64_t seed) {
  size_t n = (size_t)3 * size * size;
  float *x = malloc(n * sizeof(float));
  if (!x) return NULL;
  for (size_t i = 0; i < n; i++) x[i] = zn_test_rand_uniform(&seed, -2.0f, 2.0f);
  return x;
}

/* Runs model on x at batch 1 into a new buffer of 1000 logits (NULL on failure). */
static float *run(const zn_model *m, const float *x) {
  zn_instance *inst = NULL;
  CHECK_OK(zn_instance_create(m, NULL, &inst));
  if (!inst) return NULL;
  float *y = calloc(1000, sizeof(float));
  CHECK_EQ_INT(zn_instance_output_bytes(inst, 0), 1000 * sizeof(float));
  const void *ins[1] = {x};
  void *outs[1] = {y};
  CHECK_OK(zn_instance_run(inst, ins, outs));
  zn_instance_destroy(inst);
  return y;
}

static zn_model *from_zoo(const char *name, uint64_t seed, int disable_passes) {
  zn_model_options o = zn_model_options_default();
  o.backend = "ref";
  o.disable_passes = disable_passes;
  zn_model *m = NULL;
  CHECK_OK(zn_model_from_zoo(name, seed, &o, &m));
  return m;
}

static void check_model(const zn_zoo_entry *e, const char *tmpdir) {
  fprintf(stderr, "zoo roundtrip: %s\n", e->name);
  float *x = make_input(e->input_size, 99);
  zn_model *a = from_zoo(e->name, 1, 0);
  zn_model *b = from_zoo(e->name, 1, 0);
  if (!x || !a || !b) goto done;
  float *ya = run(a, x), *yb = run(b, x);
  if (ya && yb) {
    if (memcmp(ya, yb, 1000 * sizeof(float)) != 0) fprintf(stderr, "%s: same seed, different logits\n", e->name);
    CHECK(memcmp(ya, yb, 1000 * sizeof(float)) == 0);
  }

  /* export the unoptimised graph (what `zenith zoo export` writes), import it */
  char path[600];
  snprintf(path, sizeof path, "%s/%s.onnx", tmpdir, e->name);
  zn_model *src = from_zoo(e->name, 1, 1);
  if (src) CHECK_OK(zn_model_export_onnx(src, path));
  zn_model_destroy(src);
  zn_model_options o = zn_model_options_default();
  o.backend = "ref";
  zn_model *c = NULL;
  CHECK_OK(zn_model_load_file(path, &o, &c));
  unlink(path);
  float *yc = c ? run(c, x) : NULL;
  if (ya && yc) {
    if (memcmp(ya, yc, 1000 * sizeof(float)) != 0) fprintf(stderr, "%s: export -> import changed the logits\n", e->name);
    CHECK(memcmp(ya, yc, 1000 * sizeof(float)) == 0);
    CHECK_EQ_INT(zn_model_num_params(c), e->num_params);
  }

  /* golden logits */
  if (ya) {
    float maxabs = 0;
    for (int k = 0; k < 1000; k++) maxabs = fabsf(ya[k]) > maxabs ? fabsf(ya[k]) : maxabs;
    const golden *g = NULL;
    for (const golden *it = goldens; it->name; it++)
      if (strcmp(it->name, e->name) == 0) g = it;
    if (getenv("ZN_PRINT_GOLDEN"))
      printf("{\"%s\", {%.9g, %.9g, %.9g, %.9g}},\n", e->name, ya[0], ya[1], ya[2], ya[3]);
    CHECK(g != NULL);
    if (g)
      for (int k = 0; k < 4; k++) CHECK_NEAR(ya[k], g->logits[k], 1e-4 * maxabs);
  }

  /* another seed, other weights */
  zn_model *d = from_zoo(e->name, 2, 0);
  float *yd = d ? run(d, x) : NULL;
  if (ya && yd) CHECK(memcmp(ya, yd, 1000 * sizeof(float)) != 0);
  free(ya);
  free(yb);
  free(yc);
  free(yd);
  zn_model_destroy(c);
  zn_model_destroy(d);
done:
  zn_model_destroy(a);
  zn_model_destroy(b);
  free(x);
}

int zn_test_main(void) {
  char tmpdir[] = "/tmp/zn_zoo_rt_XXXXXX";
  if (!mkdtemp(tmpdir)) return 1;
  const char *only = getenv("ZN_ZOO_MODELS"); /* e.g. "resnet18 mobilenet_v2" to run a subset */
  for (size_t i = 0; i < zn_zoo_count(); i++) {
    const zn_zoo_entry *e = zn_zoo_get(i);
    if (only && !strstr(only, e->name)) continue;
    check_model(e, tmpdir);
  }
  rmdir(tmpdir);
  return 0;
}
