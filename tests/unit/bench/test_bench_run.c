/* End-to-end bench runs on a tiny ONNX model (ref backend): the CSV and JSON
 * agree with each other and with eq. 3.1 (throughput x window = inferences =
 * instances x batch x batches), repetitions are counted, the sweep reports
 * its stop reason, images flow through the data loader, a memory cap the
 * first instance exceeds and an unknown model fail before any window, and a
 * SIGINT from a timer thread still leaves results. Never asserts a time. */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench/runner.h"
#include "harness.h"
#include "unit/bench/tiny_model.h"

static char model_path[256], out_dir[256], ini_path[256];

static zn_status config_from(zn_bench_config *c, const char *body) {
  FILE *f = fopen(ini_path, "w");
  if (!f) return ZN_ERR_IO;
  fprintf(f, "[model]\nmodels = %s\nbackend = ref\n[output]\nfolder = %s\n%s", model_path, out_dir, body);
  fclose(f);
  zn_bench_config_init(c);
  return zn_bench_config_load(c, ini_path);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  if (buf) buf[n] = '\0';
  fclose(f);
  return buf;
}

/* CSV column index by name in the header line. */
static int column(const char *header, const char *name) {
  int idx = 0;
  const char *p = header;
  size_t n = strlen(name);
  for (;;) {
    if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\n' || p[n] == '\0')) return idx;
    p = strchr(p, ',');
    if (!p) return -1;
    p++;
    idx++;
  }
}

static double field(const char *line, int idx) {
  const char *p = line;
  for (int i = 0; i < idx && p; i++) {
    p = strchr(p, ',');
    if (p) p++;
  }
  return p && *p != ',' && *p != '\n' ? strtod(p, NULL) : NAN;
}

/* A JSON number, or NaN for null / missing (as an empty CSV field). */
static double json_field(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItem(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The CSV and the JSON must carry the very same double (both NaN = absent in both). */
static bool same_double(double a, double b) { return (isnan(a) && isnan(b)) || a == b; }

/* Columns compared between the CSV and the JSON, row by row and exactly. */
static const char *const exact_columns[] = {"window_s", "throughput", "latency_p50_ms", "cpu_pct", "rss_bytes",
                                            "power_w", "io_Bps", "other_cpu_s"};
#define NUM_EXACT (sizeof exact_columns / sizeof exact_columns[0])

/* Check the CSV and JSON against each other and eq. 3.1; returns rows. */
static int check_files(const zn_bench_results *r, int64_t batches_per_instance) {
  char csv[1024], json[1024];
  CHECK_OK(zn_bench_write_results(r, csv, json, sizeof csv));
  char *text = slurp(csv);
  CHECK(text != NULL);
  if (!text) return -1;
  char *save = NULL;
  char *header = strtok_r(text, "\n", &save);
  CHECK(header && strcmp(header, zn_bench_csv_header()) == 0);
  int c_tp = column(header, "throughput"), c_win = column(header, "window_s"), c_inf = column(header, "inferences");
  int c_b = column(header, "batch"), c_inst = column(header, "instances"), c_rep = column(header, "rep");
  CHECK(c_tp >= 0 && c_win >= 0 && c_inf >= 0 && c_b >= 0 && c_inst >= 0 && c_rep >= 0);
  int c_exact[NUM_EXACT];
  for (size_t e = 0; e < NUM_EXACT; e++) {
    c_exact[e] = column(header, exact_columns[e]);
    CHECK(c_exact[e] >= 0);
  }
  static double csv_vals[4096][NUM_EXACT];
  int rows = 0;
  for (char *line = strtok_r(NULL, "\n", &save); line && rows < 4096; line = strtok_r(NULL, "\n", &save), rows++) {
    double tp = field(line, c_tp), win = field(line, c_win), inf = field(line, c_inf);
    double b = field(line, c_b), inst = field(line, c_inst);
    CHECK_NEAR(tp * win, inf, 1e-6 * inf);                       /* throughput x window = inferences */
    if (batches_per_instance > 0) CHECK_NEAR(inf, inst * b * (double)batches_per_instance, 0); /* eq. 3.1 */
    for (size_t e = 0; e < NUM_EXACT; e++) csv_vals[rows][e] = c_exact[e] >= 0 ? field(line, c_exact[e]) : NAN;
  }
  CHECK_EQ_INT(rows, (int)r->num_reps);
  free(text);

  text = slurp(json);
  cJSON *root = text ? cJSON_Parse(text) : NULL;
  CHECK(root != NULL);
  free(text);
  if (!root) return rows;
  CHECK(cJSON_IsString(cJSON_GetObjectItem(root, "zenith_version")));
  CHECK(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "cpu_model")));
  CHECK(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "ini")));
  const cJSON *pts = cJSON_GetObjectItem(root, "configurations");
  CHECK_EQ_INT(cJSON_GetArraySize(pts), (int)r->num_points);
  int k = 0, total = 0;
  const cJSON *pt;
  cJSON_ArrayForEach(pt, pts) {
    const cJSON *reps = cJSON_GetObjectItem(pt, "reps");
    int nreps = cJSON_GetArraySize(reps);
    CHECK_EQ_INT(cJSON_GetObjectItem(pt, "repetitions")->valueint, nreps); /* repetitions counted */
    CHECK_EQ_INT(cJSON_GetObjectItem(cJSON_GetObjectItem(pt, "throughput"), "count")->valueint, nreps);
    double vals[4096];
    int n = 0;
    const cJSON *rep;
    cJSON_ArrayForEach(rep, reps) {
      double tp = cJSON_GetObjectItem(rep, "throughput")->valuedouble;
      double win = cJSON_GetObjectItem(rep, "window_s")->valuedouble;
      double inf = cJSON_GetObjectItem(rep, "inferences")->valuedouble;
      CHECK_NEAR(tp * win, inf, 1e-9 * inf);
      for (size_t e = 0; k < rows && e < NUM_EXACT; e++) { /* CSV and JSON agree, row by row, to the bit */
        double jv = json_field(rep, exact_columns[e]);
        zn_test_checks++;
        if (!same_double(csv_vals[k][e], jv)) {
          zn_test_failures++;
          fprintf(stderr, "%s:%d: row %d column '%s': CSV %.17g vs JSON %.17g\n", __FILE__, __LINE__, k,
                  exact_columns[e], csv_vals[k][e], jv);
        }
      }
      k++;
      if (n < 4096) vals[n++] = tp;
    }
    zn_stats_summary s = zn_stats_summarize(vals, (size_t)n);
    CHECK_NEAR(cJSON_GetObjectItem(cJSON_GetObjectItem(pt, "throughput"), "median")->valuedouble, s.median, 1e-9 * s.median);
    total += nreps;
  }
  CHECK_EQ_INT(total, rows);
  cJSON_Delete(root);

  /* analyze reads both back */
  zn_bench_correlation corr[ZN_ANALYZE_MAX_FACTORS];
  size_t nc = 0, nrows = 0;
  CHECK_OK(zn_bench_analyze_file(json, corr, &nc, &nrows));
  CHECK_EQ_INT(nrows, rows);
  for (size_t i = 0; i < nc; i++) {
    if (corr[i].note && strcmp(corr[i].note, "absent") == 0) CHECK_EQ_INT(corr[i].n, 0);
    if (strcmp(corr[i].factor, "batch") == 0) CHECK_EQ_INT(corr[i].n, rows);
  }
  size_t nrows_csv = 0;
  zn_bench_correlation corr_csv[ZN_ANALYZE_MAX_FACTORS];
  CHECK_OK(zn_bench_analyze_file(csv, corr_csv, &nc, &nrows_csv));
  CHECK_EQ_INT(nrows_csv, rows);
  for (size_t i = 0; i < nc; i++) { /* the same doubles in the same order: the same r, n and note */
    const char *note_csv = corr_csv[i].note ? corr_csv[i].note : "", *note = corr[i].note ? corr[i].note : "";
    zn_test_checks++;
    if (strcmp(corr_csv[i].factor, corr[i].factor) != 0 || corr_csv[i].n != corr[i].n ||
        !same_double(corr_csv[i].r, corr[i].r) || strcmp(note_csv, note) != 0) {
      zn_test_failures++;
      fprintf(stderr, "%s:%d: analyze factor '%s': CSV r %.17g n %zu '%s' vs JSON r %.17g n %zu '%s'\n", __FILE__,
              __LINE__, corr[i].factor, corr_csv[i].r, corr_csv[i].n, note_csv, corr[i].r, corr[i].n, note);
    }
  }
  char aj[1100];
  snprintf(aj, sizeof aj, "%s/analysis.json", out_dir);
  CHECK_OK(zn_bench_analyze_write_json(aj, json, corr, nc, nrows));
  return rows;
}

/* Every number goes out as the shortest text that reads back exactly (cJSON's
 * printer would have written "100" for the first one). */
static void test_number_text(void) {
  const double vals[] = {99.999999999999986, 100, 0.1, 1.0 / 3.0, 91825.989467417734, 123456789012.0, 5e-324, -2.5};
  for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    char buf[ZN_BENCH_NUM_TEXT];
    zn_bench_format_double(buf, sizeof buf, vals[i]);
    CHECK(strtod(buf, NULL) == vals[i]);
  }
  char buf[ZN_BENCH_NUM_TEXT];
  zn_bench_format_double(buf, sizeof buf, 100);
  CHECK(strcmp(buf, "100") == 0);
  zn_bench_format_double(buf, sizeof buf, 0.1);
  CHECK(strcmp(buf, "0.1") == 0);
  zn_bench_format_double(buf, sizeof buf, 99.999999999999986);
  CHECK(strcmp(buf, "99.99999999999999") == 0); /* 16 digits suffice, 15 would read back as 100 */
}

static void test_batch_and_levels(void) {
  static zn_bench_config c;
  CHECK_OK(config_from(&c, "[run]\nbatch = 1, 2\nconcurrency = 1, 2\nbatches = 3\nwarmup_batches = 1\nrepetitions = 3\n"
                           "[monitor]\ninterval_ms = 20\n"));
  zn_bench_results *r = NULL;
  CHECK_OK(zn_bench_run(&c, NULL, &r));
  CHECK(r != NULL);
  if (!r) return;
  CHECK(!r->interrupted);
  CHECK(r->failure[0] == '\0');
  CHECK_EQ_INT(r->num_points, 4);
  CHECK_EQ_INT(r->num_reps, 12);
  for (size_t i = 0; i < r->num_points; i++) {
    CHECK_EQ_INT(r->points[i].num_reps, 3);
    CHECK_EQ_INT(r->points[i].instances, r->points[i].level);
    CHECK(r->points[i].weight_bytes > 0);
  }
  CHECK(strcmp(r->backend, "ref") == 0);
  CHECK_EQ_INT(check_files(r, 3), 12);
  zn_bench_results_destroy(r);
}

static void test_sweep_and_stability(void) {
  static zn_bench_config c;
  CHECK_OK(config_from(&c, "[run]\nconcurrency = sweep\nmax_concurrency = 3\nbatches = 2\nrepetitions = 30\n"
                           "stability_pct = 300\nstability_windows = 3\n[monitor]\nenabled = off\n"));
  zn_bench_results *r = NULL;
  CHECK_OK(zn_bench_run(&c, NULL, &r));
  if (!r) return;
  CHECK_EQ_INT(r->num_sweeps, 1);
  const zn_bench_sweep *sw = &r->sweeps[0];
  CHECK(sw->max_level >= 1 && sw->max_level <= 3);
  CHECK(sw->best_level >= 1 && sw->best_level <= sw->max_level);
  CHECK(sw->stop_reason[0] != '\0');
  CHECK_EQ_INT(r->num_points, sw->max_level);
  /* within +-300% of their mean, any 3 positive figures agree: stops at 3 */
  for (size_t i = 0; i < r->num_points; i++) {
    CHECK(r->points[i].stable);
    CHECK_EQ_INT(r->points[i].num_reps, 3);
  }
  CHECK(r->monitor == NULL);
  CHECK(check_files(r, 2) > 0);
  zn_bench_results_destroy(r);
}

static void test_images(void) {
  static zn_bench_config c;
  char body[1024];
  snprintf(body, sizeof body, "[run]\nbatch = 2\nbatches = 2\nrepetitions = 2\n[data]\nsource = folder\npath = %s\n"
           "bad_image = skip\n[monitor]\nenabled = off\n", zn_test_source_path("tests/data/images"));
  CHECK_OK(config_from(&c, body));
  zn_bench_results *r = NULL;
  CHECK_OK(zn_bench_run(&c, NULL, &r)); /* truncated.jpg is skipped, not fatal */
  if (r) CHECK_EQ_INT(r->num_reps, 2);
  zn_bench_results_destroy(r);
  CHECK_OK(zn_bench_config_set(&c, "data", "preprocess_in_timing", "on", "test"));
  r = NULL;
  CHECK_OK(zn_bench_run(&c, NULL, &r)); /* decode inside the window; the bad file fails it? it is skipped ahead */
  zn_bench_results_destroy(r);
  CHECK_OK(zn_bench_config_set(&c, "data", "bad_image", "fail", "test"));
  CHECK_OK(zn_bench_config_set(&c, "data", "preprocess_in_timing", "off", "test"));
  r = (zn_bench_results *)1;
  CHECK_STATUS(zn_bench_run(&c, NULL, &r), ZN_ERR_INVALID_INPUT);
  CHECK_ERROR_HAS("truncated.jpg");
  CHECK(r == NULL);
}

static void test_fails_before_work(void) {
  static zn_bench_config c;
  zn_bench_results *r = (zn_bench_results *)1;
  CHECK_OK(config_from(&c, "[run]\nmemory_cap = 2M\nbatches = 1\n"));
  CHECK(zn_bench_run(&c, NULL, &r) != ZN_OK);
  CHECK_ERROR_HAS("memory cap");
  CHECK(r == NULL);
  CHECK_OK(config_from(&c, "[run]\nmemory_cap = 2M\nconcurrency = sweep\n"));
  CHECK_STATUS(zn_bench_run(&c, NULL, &r), ZN_ERR_OUT_OF_MEMORY);
  CHECK_ERROR_HAS("first instance already exceeds the memory cap");
  CHECK_OK(config_from(&c, "[run]\nbatches = 1\n"));
  CHECK_OK(zn_bench_config_set(&c, "model", "models", "no_such_model", "--models"));
  CHECK_STATUS(zn_bench_run(&c, NULL, &r), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("--models: unknown model 'no_such_model'");
  CHECK(r == NULL);
}

static void *raise_later(void *arg) {
  (void)arg;
  struct timespec ts = {0, 300 * 1000 * 1000};
  nanosleep(&ts, NULL);
  raise(SIGINT);
  return NULL;
}

static void test_sigint(void) {
  static zn_bench_config c;
  /* 1000 windows of 20 ms: far longer than the 0.3 s before SIGINT */
  CHECK_OK(config_from(&c, "[run]\nconcurrency = 1, 2\nduration_ms = 20\nrepetitions = 1000\n[monitor]\ninterval_ms = 10\n"
                           "[output]\nname = interrupted\n"));
  zn_bench_interrupt_clear();
  CHECK_OK(zn_bench_sigint_install());
  pthread_t t;
  CHECK(pthread_create(&t, NULL, raise_later, NULL) == 0);
  zn_bench_results *r = NULL;
  CHECK_OK(zn_bench_run(&c, NULL, &r));
  pthread_join(t, NULL);
  zn_bench_sigint_restore();
  CHECK(r != NULL);
  if (!r) return;
  CHECK(r->interrupted);
  CHECK(r->num_reps >= 1 && r->num_reps < 1000);
  CHECK_EQ_INT(r->num_points, 1); /* level 2 never started */
  CHECK_EQ_INT(check_files(r, 0), (int)r->num_reps);
  char json[1024];
  snprintf(json, sizeof json, "%s/interrupted.json", out_dir);
  char *text = slurp(json);
  CHECK(text && strstr(text, "\"interrupted\":\ttrue"));
  free(text);
  zn_bench_results_destroy(r);
  zn_bench_interrupt_clear();
}

int zn_test_main(void) {
  int pid = (int)getpid();
  snprintf(model_path, sizeof model_path, "%s/zn_test_bench_tiny_%d.onnx", getenv("PWD") ? getenv("PWD") : ".", pid);
  snprintf(out_dir, sizeof out_dir, "zn_test_bench_out_%d", pid);
  snprintf(ini_path, sizeof ini_path, "zn_test_bench_run_%d.ini", pid);
  CHECK(tiny_model_write(model_path, 8) == 0);
  test_number_text();
  test_batch_and_levels();
  test_sweep_and_stability();
  test_images();
  test_fails_before_work();
  test_sigint();
  remove(model_path);
  remove(ini_path);
  const char *files[] = {"bench.csv", "bench.json", "bench.ini", "interrupted.csv", "interrupted.json",
                         "interrupted.ini", "analysis.json"};
  char p[512];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    snprintf(p, sizeof p, "%s/%s", out_dir, files[i]);
    remove(p);
  }
  rmdir(out_dir);
  return 0;
}
