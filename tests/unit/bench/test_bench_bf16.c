/* `zenith bench` with precision = bf16 end to end on a small zoo model
 * (squeezenet1_1, onednn): before its windows each model is checked against
 * the fp32 model of the same name and backend, the line is printed and the
 * JSON carries images, classes, max_rel_err and top-1/top-5 agreement, fed
 * from the data loader's images or from seeded noise; fp32 and
 * accuracy_images = 0 check nothing; bf16 on ref stays refused. Skips (and
 * says why) where onednn is not built or the CPU has no bf16. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/runner.h"
#include "core/status.h"
#include "harness.h"

static char out_dir[256];

static void config(zn_bench_config *c, const char *backend, const char *precision, const char *images) {
  zn_bench_config_init(c);
  CHECK_OK(zn_bench_config_set(c, "model", "models", "squeezenet1_1", "test"));
  CHECK_OK(zn_bench_config_set(c, "model", "backend", backend, "test"));
  CHECK_OK(zn_bench_config_set(c, "model", "precision", precision, "test"));
  CHECK_OK(zn_bench_config_set(c, "model", "accuracy_images", images, "test"));
  CHECK_OK(zn_bench_config_set(c, "run", "repetitions", "1", "test"));
  CHECK_OK(zn_bench_config_set(c, "run", "batches", "1", "test"));
  CHECK_OK(zn_bench_config_set(c, "run", "warmup_batches", "0", "test"));
  CHECK_OK(zn_bench_config_set(c, "monitor", "enabled", "off", "test"));
  CHECK_OK(zn_bench_config_set(c, "output", "folder", out_dir, "test"));
}

/* The whole of an open stream from its start; the caller frees it. */
static char *read_all(FILE *f) {
  if (fseek(f, 0, SEEK_END) != 0) return NULL;
  long n = ftell(f);
  if (n < 0) return NULL;
  rewind(f);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  if (buf) buf[n] = '\0';
  return buf;
}

static cJSON *results_json(const zn_bench_results *r) {
  char csv[1024], json[1024];
  CHECK_OK(zn_bench_write_results(r, csv, json, sizeof csv));
  FILE *f = fopen(json, "rb");
  CHECK(f != NULL);
  if (!f) return NULL;
  char *text = read_all(f);
  fclose(f);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(root != NULL);
  free(text);
  remove(csv);
  remove(json);
  return root;
}

static double num(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItem(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Run c; one accuracy record of `inputs` ("images" / "synthetic") over
 * `images` images, in the results, the JSON and the printed line. */
static void run_bf16(const zn_bench_config *c, const char *inputs, int images) {
  FILE *lines = tmpfile();
  CHECK(lines != NULL);
  if (!lines) return;
  zn_bench_run_options ro = {NULL, NULL, lines};
  zn_bench_results *r = NULL;
  CHECK_OK(zn_bench_run(c, &ro, &r));
  char *printed = read_all(lines);
  fclose(lines);
  CHECK(printed != NULL);
  if (!r || !printed) { free(printed); zn_bench_results_destroy(r); return; }
  fprintf(stderr, "%s", printed);
  char want[128];
  snprintf(want, sizeof want, "bf16 vs fp32 (squeezenet1_1, %d %s): max rel err ", images,
           strcmp(inputs, "images") == 0 ? "images" : "seeded N(0,1) inputs");
  CHECK(strncmp(printed, want, strlen(want)) == 0);
  CHECK(strstr(printed, "top-1 ") && strstr(printed, "top-5 "));
  CHECK_EQ_INT(r->num_accuracy, 1);
  CHECK(r->num_points == 1 && r->num_reps == 1);  /* the timed windows still ran */
  cJSON *root = results_json(r);
  const cJSON *acc = cJSON_GetObjectItem(root, "accuracy");
  CHECK_EQ_INT(cJSON_GetArraySize(acc), 1);
  const cJSON *a = cJSON_GetArrayItem(acc, 0);
  if (a) {
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "model")), "squeezenet1_1") == 0);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "workload")), "squeezenet1_1") == 0);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "precision")), "bf16") == 0);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "reference")), "fp32") == 0);
    CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(a, "inputs")), inputs) == 0);
    CHECK_EQ_INT(num(a, "images"), images);
    CHECK_EQ_INT(num(a, "classes"), 1000);
    /* bf16 keeps 8 bits of mantissa: an error, but a small one (bench_bf16
     * measures about 1e-2 on the zoo models); 0 would mean fp32 ran twice */
    double e = num(a, "max_rel_err"), t1 = num(a, "top1_agreement"), t5 = num(a, "top5_agreement");
    CHECK(e > 0 && e < 0.25);
    CHECK(t1 >= 0 && t1 <= 1 && t5 >= t1 && t5 <= 1);
    CHECK_NEAR(t1 * images, (double)r->accuracy[0].acc.top1_agree, 1e-9);
    CHECK_NEAR(e, r->accuracy[0].acc.max_rel_err, 0);
  }
  cJSON_Delete(root);
  free(printed);
  zn_bench_results_destroy(r);
}

int zn_test_main(void) {
  snprintf(out_dir, sizeof out_dir, "%s/zn_test_bench_bf16_%d", getenv("PWD") ? getenv("PWD") : ".", (int)getpid());
  static zn_bench_config c;
  zn_bench_results *r = NULL;

  /* bf16 on ref is refused before anything runs, as before */
  config(&c, "ref", "bf16", "4");
  CHECK(zn_bench_run(&c, NULL, &r) != ZN_OK);
  CHECK(r == NULL);
  CHECK_ERROR_HAS("only fp32");

  bool onednn = false;
  for (size_t i = 0; i < zn_backend_count(); i++) onednn |= strcmp(zn_backend_name(i), "onednn") == 0;
  if (!onednn) {
    printf("skipped: the onednn backend is not built (bf16 needs it)\n");
    rmdir(out_dir);
    return 0;
  }
  zn_model_options mo = zn_model_options_default();
  mo.backend = "onednn";
  mo.precision = ZN_PRECISION_BF16;
  zn_model *probe = NULL;
  zn_status st = zn_model_from_zoo("squeezenet1_1", 42, &mo, &probe);
  zn_model_destroy(probe);
  if (st == ZN_ERR_UNSUPPORTED_HARDWARE) {
    printf("skipped: this CPU has no bf16 (%s)\n", zn_last_error());
    rmdir(out_dir);
    return 0;
  }
  CHECK_OK(st);

  /* synthetic inputs: seeded noise */
  config(&c, "onednn", "bf16", "3");
  CHECK_OK(zn_bench_config_set(&c, "data", "source", "synthetic", "test"));
  run_bf16(&c, "synthetic", 3);

  /* the data loader's images: 5 decode (truncated.jpg is skipped), so 5 of the 8 asked for */
  config(&c, "onednn", "bf16", "8");
  CHECK_OK(zn_bench_config_set(&c, "data", "source", "folder", "test"));
  CHECK_OK(zn_bench_config_set(&c, "data", "path", zn_test_source_path("tests/data/images"), "test"));
  CHECK_OK(zn_bench_config_set(&c, "data", "bad_image", "skip", "test"));
  run_bf16(&c, "images", 5);

  /* accuracy_images = 0 and fp32 check nothing: the JSON's list is empty */
  const char *off[2][2] = {{"bf16", "0"}, {"fp32", "32"}};
  for (int k = 0; k < 2; k++) {
    config(&c, "onednn", off[k][0], off[k][1]);
    CHECK_OK(zn_bench_config_set(&c, "data", "source", "synthetic", "test"));
    r = NULL;
    CHECK_OK(zn_bench_run(&c, NULL, &r));
    if (!r) continue;
    CHECK_EQ_INT(r->num_accuracy, 0);
    cJSON *root = results_json(r);
    const cJSON *acc = cJSON_GetObjectItem(root, "accuracy");
    CHECK(cJSON_IsArray(acc) && cJSON_GetArraySize(acc) == 0);
    cJSON_Delete(root);
    zn_bench_results_destroy(r);
  }

  /* bad values are refused with the key named */
  CHECK_STATUS(zn_bench_config_set(&c, "model", "accuracy_images", "-1", "test"), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("accuracy_images");
  CHECK_STATUS(zn_bench_config_set(&c, "model", "accuracy_images", "many", "test"), ZN_ERR_INVALID_CONFIG);
  char ini[4096];
  zn_bench_config_format(&c, ini, sizeof ini);
  CHECK(strstr(ini, "accuracy_images = 32\n") != NULL);  /* written back: reproducible */

  char path[600];
  snprintf(path, sizeof path, "%s/bench.ini", out_dir);
  remove(path);
  rmdir(out_dir);
  return 0;
}
