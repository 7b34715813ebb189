/* Bench configuration: every error names its file and line (or flag),
 * values are checked as they are read, lists/pow2/mixes/sweep parse, flags
 * override the file, impossible configurations are refused by the check
 * before any work, and the effective configuration reads back the same. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench/config.h"
#include "harness.h"

static char path[256];

static void write_ini(const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static zn_status load_text(zn_bench_config *c, const char *text) {
  write_ini(text);
  zn_bench_config_init(c);
  return zn_bench_config_load(c, path);
}

static char name[64]; /* path without folders, as errors show it */

static void check_error_at(int line, const char *what) {
  char where[128];
  snprintf(where, sizeof where, "%s:%d: ", name, line);
  CHECK_ERROR_HAS(where);
  CHECK_ERROR_HAS(what);
}

static void test_errors_name_the_line(void) {
  static zn_bench_config c;
  CHECK_STATUS(load_text(&c, "; a comment\n[model]\nmodels = mobilenet_v2\n\n[run]\n"
                             "batch = 1\nconcurrency = 1\n# another\nrepetitions = 3\n\nwarmup_batches = 1\nbatchsize = 4\n"),
               ZN_ERR_INVALID_CONFIG);
  check_error_at(12, "unknown key 'batchsize' in [run]");
  CHECK_STATUS(load_text(&c, "[model]\nmodels = a.onnx\n[run]\nbatch = 8, 0\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(4, "bad value for 'batch' in [run]: 0 is out of range");
  CHECK_STATUS(load_text(&c, "[run]\nrepetitions = many\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "'many' is not an integer");
  CHECK_STATUS(load_text(&c, "[model]\n[runn]\nbatch = 1\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(3, "unknown section [runn]");
  CHECK_STATUS(load_text(&c, "[run]\nbatch = 1\nthis line has no equals sign\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(3, "syntax error");
  CHECK_STATUS(load_text(&c, "batch = 1\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(1, "outside any [section]");
  CHECK_STATUS(load_text(&c, "[run]\n\n\nconcurrency = 1, 100000\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(4, "concurrency 100000 exceeds the maximum of 1024 instances");
  CHECK_STATUS(load_text(&c, "[run]\nscenario = server\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "unknown scenario 'server'");
  CHECK_STATUS(load_text(&c, "[device]\ncpus = 3-1\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "not a CPU list");
  CHECK_STATUS(load_text(&c, "[model]\nmodels = resnet50*2\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "counts belong in 'mix'");
  CHECK_STATUS(load_text(&c, "[run]\nmemory_cap = 150%\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "percentage");
  CHECK_STATUS(load_text(&c, "[data]\nbad_image = ignore\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "skip or fail");
  CHECK_STATUS(load_text(&c, "[model]\nbackend = tpu\n"), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "unknown backend 'tpu'");
  zn_bench_config_init(&c);
  CHECK_STATUS(zn_bench_config_load(&c, "/nonexistent/bench.ini"), ZN_ERR_IO);
  CHECK_ERROR_HAS("/nonexistent/bench.ini");
}

static void test_values(void) {
  static zn_bench_config c;
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2, resnet50\nmix = mobilenet_v2*3, inception_v3*1\n"
                         "[device]\ncpus = 0-1\npin = on\nthreads = 1, 2\n"
                         "[run]\nbatch = pow2:32\nconcurrency = sweep\nmax_concurrency = 8\nduration_ms = 250\n"
                         "repetitions = 10\nstability_pct = 5\nmemory_cap = 512M\nscenario = offline\n"
                         "[data]\nsource = synthetic\npreprocess_in_timing = yes\n"
                         "[output]\nfolder = out\nname = run1\n[monitor]\ninterval_ms = 50\nenabled = off\n"));
  CHECK_EQ_INT(c.num_workloads, 3);
  CHECK(strcmp(c.workloads[0].parts[0].model, "mobilenet_v2") == 0);
  CHECK(strcmp(c.workloads[1].parts[0].model, "resnet50") == 0);
  CHECK_EQ_INT(c.workloads[2].num_parts, 2);
  CHECK_EQ_INT(c.workloads[2].parts[0].count, 3);
  CHECK(strcmp(c.workloads[2].parts[1].model, "inception_v3") == 0);
  CHECK_EQ_INT(c.workloads[2].parts[1].count, 1);
  CHECK(strcmp(c.workloads[2].label, "mobilenet_v2*3+inception_v3*1") == 0);
  CHECK_EQ_INT(c.num_cpus, 2);
  CHECK(c.pin);
  CHECK_EQ_INT(c.num_threads_list, 2);
  CHECK_EQ_INT(c.num_batches_list, 6);
  const int64_t pow2[6] = {1, 2, 4, 8, 16, 32};
  for (int i = 0; i < 6; i++) CHECK_EQ_INT(c.batch_sizes[i], pow2[i]);
  CHECK(c.concurrency_sweep);
  CHECK_EQ_INT(c.max_concurrency, 8);
  CHECK_EQ_INT(c.duration_ms, 250);
  CHECK_EQ_INT(c.batches, 0); /* duration replaces batches */
  CHECK_EQ_INT(c.repetitions, 10);
  CHECK_NEAR(c.stability_pct, 5, 0);
  CHECK_EQ_INT(c.memory_cap_bytes, 512ull << 20);
  CHECK(zn_bench_config_memory_cap(&c) == 512ull << 20);
  CHECK(c.preprocess_in_timing);
  CHECK(!c.monitor);
  CHECK_EQ_INT(c.monitor_interval_ms, 50);
  char where[80];
  snprintf(where, sizeof where, "%s:10", name);
  CHECK(strcmp(zn_bench_config_origin(&c, "run", "concurrency"), where) == 0);

  /* flags override the file and are named in errors */
  CHECK_OK(zn_bench_config_set_arg(&c, "run.batch=2,4", "--set"));
  CHECK_EQ_INT(c.num_batches_list, 2);
  CHECK_EQ_INT(c.batch_sizes[1], 4);
  CHECK_OK(zn_bench_config_set(&c, "run", "concurrency", "1,2,3", "--concurrency"));
  CHECK(!c.concurrency_sweep);
  CHECK_EQ_INT(c.num_levels, 3);
  CHECK_OK(zn_bench_config_set(&c, "run", "batches", "7", "--batches"));
  CHECK_EQ_INT(c.batches, 7);
  CHECK_EQ_INT(c.duration_ms, 0);
  CHECK_STATUS(zn_bench_config_set_arg(&c, "run.batch=0", "--set"), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("--set run.batch=0: bad value for 'batch' in [run]");
  CHECK_STATUS(zn_bench_config_set_arg(&c, "batch=3", "--set"), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("not section.key=value");
  CHECK_STATUS(zn_bench_config_set_arg(&c, "run.batchsize=3", "--set"), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("unknown key 'batchsize' in [run]");
  /* `models` replaces the single models and keeps the mix */
  CHECK_OK(zn_bench_config_set(&c, "model", "models", "squeezenet1_1", "--models"));
  CHECK_EQ_INT(c.num_workloads, 2);
  CHECK(strcmp(c.workloads[1].parts[0].model, "squeezenet1_1") == 0);

  /* the effective configuration reads back to the same values */
  char text[8192];
  size_t n = zn_bench_config_format(&c, text, sizeof text);
  CHECK(n > 0 && n < sizeof text);
  CHECK(zn_bench_config_format(&c, NULL, 0) == n);
  static zn_bench_config back;
  CHECK_OK(load_text(&back, text));
  CHECK_EQ_INT(back.num_workloads, c.num_workloads);
  CHECK_EQ_INT(back.num_batches_list, 2);
  CHECK_EQ_INT(back.batch_sizes[1], 4);
  CHECK_EQ_INT(back.num_levels, 3);
  CHECK_EQ_INT(back.batches, 7);
  CHECK_EQ_INT(back.memory_cap_bytes, c.memory_cap_bytes);
  CHECK_EQ_INT(back.num_cpus, 2);
  CHECK(back.pin && back.preprocess_in_timing && !back.monitor);
  for (int w = 0; w < c.num_workloads; w++) { /* same workloads (singles are written before mixes) */
    bool found = false;
    for (int v = 0; v < back.num_workloads; v++) found |= strcmp(back.workloads[v].label, c.workloads[w].label) == 0;
    CHECK(found);
  }
}

static void test_impossible_configs(void) {
  static zn_bench_config c;
  /* unknown model: named, with the line that set it */
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2, no_such_net\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  check_error_at(2, "unknown model 'no_such_net'");
  CHECK_OK(load_text(&c, "[model]\n\nmodels = /nonexistent/model.onnx\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  check_error_at(3, "/nonexistent/model.onnx");
  /* missing image folder */
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2\n[data]\nsource = folder\npath = /nonexistent/images\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  check_error_at(5, "image folder '/nonexistent/images' does not exist");
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2\n[data]\nsource = folder\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("needs [data] path");
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2\n[data]\nsource = imagenet\npath = .\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("needs [data] labels");
  /* a mix times the level over the instance limit */
  CHECK_OK(load_text(&c, "[model]\nmix = mobilenet_v2*3, resnet50*1\n[run]\nconcurrency = 300\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  check_error_at(4, "concurrency 300 x 4 instances");
  /* single-stream runs one instance */
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2\n[run]\nscenario = single-stream\nconcurrency = 2\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("single-stream");
  /* no models at all */
  CHECK_OK(load_text(&c, "[run]\nbatch = 1\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  CHECK_ERROR_HAS("no models");
  /* a CPU this process cannot use */
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2\n[device]\ncpus = 1000\n"));
  CHECK_STATUS(zn_bench_config_check(&c), ZN_ERR_INVALID_CONFIG);
  check_error_at(4, "CPU 1000 is not available");
  /* and a good one passes */
  CHECK_OK(load_text(&c, "[model]\nmodels = mobilenet_v2\nmix = mobilenet_v2*2, squeezenet1_1\n[run]\nconcurrency = sweep\n"));
  CHECK_OK(zn_bench_config_check(&c));
  /* the built-in default is valid where the bundled images are */
  zn_bench_config_init_default(&c, zn_test_source_path("data/images"));
  CHECK_OK(zn_bench_config_check(&c));
}

int zn_test_main(void) {
  snprintf(name, sizeof name, "zn_test_bench_%d.ini", (int)getpid());
  snprintf(path, sizeof path, "%s", name);
  test_errors_name_the_line();
  test_values();
  test_impossible_configs();
  remove(path);
  return 0;
}
