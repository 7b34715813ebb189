/* Which backend compiles a model: "auto" takes the first of its order
 * (onednn, xnnpack, ref on x86-64) that runs every node, warning with the
 * node and the reason for each one it passes over; a named backend that
 * refuses a node fails with the node, its shapes and the reason; ref refuses
 * bf16 instead of running fp32 under that name. Models: ONNX's node tests
 * ($ZN_ONNX_TESTDATA, Debian libonnx-testdata). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "zenith.h"

static char warnings[4096];

static void capture(zn_log_level level, const char *message, void *user) {
  (void)user;
  if (level != ZN_LOG_WARN) return;
  size_t used = strlen(warnings);
  snprintf(warnings + used, sizeof warnings - used, "%s\n", message);
}

static bool have_backend(const char *name) {
  for (size_t i = 0; i < zn_backend_count(); i++)
    if (strcmp(zn_backend_name(i), name) == 0) return true;
  return false;
}

static void case_path(const char *name, char *buf, size_t size) {
  const char *root = getenv("ZN_ONNX_TESTDATA");
  snprintf(buf, size, "%s/node/%s/model.onnx", root && *root ? root : "/usr/share/libonnx-testdata/data", name);
}

static zn_status load(const char *case_name, const char *backend, zn_precision precision, zn_model **out) {
  char path[512];
  case_path(case_name, path, sizeof path);
  zn_model_options o = zn_model_options_default();
  o.backend = backend;
  o.precision = precision;
  warnings[0] = '\0';
  return zn_model_load_file(path, &o, out);
}

/* ReduceMean: no fast backend runs it, so auto ends on ref, saying why twice. */
static void test_auto_falls_back(void) {
  zn_model *m = NULL;
  CHECK_OK(load("test_reduce_mean_default_axes_keepdims_example", "auto", ZN_PRECISION_FP32, &m));
  CHECK(m && strcmp(zn_model_backend(m), "ref") == 0);
  const char *fast[] = {"onednn", "xnnpack"};
  for (int k = 0; k < 2; k++) {
    if (!have_backend(fast[k])) continue;
    char want[64];
    snprintf(want, sizeof want, "backend '%s' does not support node 'reduced'", fast[k]);
    CHECK(strstr(warnings, want) != NULL);
  }
  if (have_backend("onednn") || have_backend("xnnpack")) {
    CHECK(strstr(warnings, "ReduceMean is not implemented") != NULL);
    CHECK(strstr(warnings, "trying ref") != NULL);
  }
  if (m) {
    /* and it runs: the mean of a [3,2,2] tensor, kept as [1,1,1] */
    zn_instance *inst = NULL;
    CHECK_OK(zn_instance_create(m, NULL, &inst));
    float x[12], y[1] = {0};
    for (int i = 0; i < 12; i++) x[i] = (float)i;
    const void *ins[1] = {x};
    void *outs[1] = {y};
    CHECK_OK(zn_instance_run(inst, ins, outs));
    CHECK(y[0] == 5.5f);
    zn_instance_destroy(inst);
  }
  zn_model_destroy(m);
}

/* A model every backend runs: auto takes the machine's first choice, silently. */
static void test_auto_first_choice(void) {
  zn_model *m = NULL;
  CHECK_OK(load("test_relu", "auto", ZN_PRECISION_FP32, &m));
  CHECK(m && strcmp(zn_model_backend(m), zn_backend_resolve("auto")) == 0);
  CHECK(warnings[0] == '\0');
  zn_model_destroy(m);
}

/* A named backend is the only one tried: the error names node, shapes and reason. */
static void test_named_backend_refuses(void) {
  const char *fast[] = {"onednn", "xnnpack"};
  for (int k = 0; k < 2; k++) {
    if (!have_backend(fast[k])) continue;
    zn_model *m = (zn_model *)1;
    CHECK_STATUS(load("test_reduce_mean_default_axes_keepdims_example", fast[k], ZN_PRECISION_FP32, &m), ZN_ERR_UNSUPPORTED_OP);
    CHECK(m == NULL);
    CHECK_ERROR_HAS("node 'reduced' (ReduceMean, input float32 [3,2,2], output [1,1,1]): ReduceMean is not implemented");
    CHECK(warnings[0] == '\0');
  }
}

/* ref computes in fp32 only: bf16 is refused, not run as fp32 under the bf16 name. */
static void test_ref_refuses_bf16(void) {
  zn_model *m = (zn_model *)1;
  CHECK_STATUS(load("test_relu", "ref", ZN_PRECISION_BF16, &m), ZN_ERR_UNSUPPORTED_OP);
  CHECK(m == NULL);
  CHECK_ERROR_HAS("only fp32");
  /* auto in bf16 on a model only ref runs: every refusal is said, then ref's */
  m = (zn_model *)1;
  CHECK_STATUS(load("test_reduce_mean_default_axes_keepdims_example", "auto", ZN_PRECISION_BF16, &m), ZN_ERR_UNSUPPORTED_OP);
  CHECK(m == NULL);
  CHECK_ERROR_HAS("for ref: only fp32");
}

int zn_test_main(void) {
  char path[512];
  case_path("test_reduce_mean_default_axes_keepdims_example", path, sizeof path);
  FILE *f = fopen(path, "rb");
  if (!f) {
    printf("ONNX test data not found (%s): install libonnx-testdata (scripts/setup.sh does)\n", path);
    return 1;
  }
  fclose(f);
  zn_log_set(capture, NULL, ZN_LOG_WARN);
  test_auto_falls_back();
  test_auto_first_choice();
  test_named_backend_refuses();
  test_ref_refuses_bf16();
  return 0;
}
