/* `zenith profile MODEL`: where one inference's time goes, step by step, as
 * TFLite's benchmark_model --enable_op_profiling and ONNX Runtime's profiler
 * show it. Warm-up runs, then R profiled runs interleaved with R plain runs of
 * the same instance; per step the median time, its share, GFLOP/s and the
 * kernel; a summary by op type; and the sum of step medians beside the plain
 * runs' median so the profiling overhead shows. --json writes the same data
 * (format in docs/profile.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/accuracy.h"
#include "cli.h"

#define PROFILE_MAX_BATCH 4096
#define PROFILE_MAX_RUNS 100000
#define PROFILE_MAX_ACCURACY_IMAGES 100000

const char zn_cmd_profile_usage[] =
    "usage: zenith profile MODEL [options]\n"
    "\n"
    "Times every step of the backend's run (a step is one kernel: a oneDNN primitive,\n"
    "an own Winograd conv, an XNNPACK operator, a ref node) and prints, in execution\n"
    "order, the median time of each, its share, GFLOP/s and the kernel; then a summary\n"
    "by op type and the plain (unprofiled) run time of the same instance.\n"
    "\n"
    "  MODEL               a zoo model (see `zenith zoo list`) or an ONNX file\n"
    "  --backend B         auto (default), ref, onednn, xnnpack\n"
    "  --batch N           batch size, 1..4096 (default 1)\n"
    "  --threads T         compute threads of the instance, 1..1024 (default 1)\n"
    "  --runs R            profiled runs, 1..100000 (default 20); as many plain runs\n"
    "  --warmup W          plain runs before, 0..100000 (default 5)\n"
    "  --precision P       fp32 (default) or bf16\n"
    "  --seed S            seed of a zoo model's synthetic weights and of the input (default 1)\n"
    "  --accuracy-images N with bf16: N seeded inputs (default 8, 0 = off) also run through the\n"
    "                      fp32 model of the same file and backend; max relative error of\n"
    "                      the logits, top-1 and top-5 agreement printed after the table\n"
    "  --json FILE|-       also write the profile as JSON to FILE (-: stdout, instead of the table)\n"
    "\n"
    "Times are medians over the runs; a step's time is the monotonic clock around it.\n";

typedef struct profile_args {
  const char *model, *backend, *json;
  long long batch, threads, runs, warmup, accuracy_images;
  zn_precision precision;
  uint64_t seed;
} profile_args;

static int parse_args(int argc, char **argv, profile_args *a) {
  memset(a, 0, sizeof *a);
  a->backend = "auto";
  a->batch = a->threads = 1;
  a->runs = 20;
  a->warmup = 5;
  a->seed = 1;
  a->accuracy_images = 8;
  for (int i = 1; i < argc; i++) {
    const char *v = NULL;
    int r;
#define VALUE_FLAG(name) ((r = zn_cli_flag_value("profile", argc, argv, &i, name, &v)) != 0)
    if (VALUE_FLAG("--backend")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->backend = v;
    } else if (VALUE_FLAG("--json")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      a->json = v;
    } else if (VALUE_FLAG("--batch")) {
      if (r < 0 || zn_cli_parse_int("profile", "--batch", v, 1, PROFILE_MAX_BATCH, &a->batch) != 0)
        return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--threads")) {
      if (r < 0 || zn_cli_parse_int("profile", "--threads", v, 1, 1024, &a->threads) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--runs")) {
      if (r < 0 || zn_cli_parse_int("profile", "--runs", v, 1, PROFILE_MAX_RUNS, &a->runs) != 0)
        return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--warmup")) {
      if (r < 0 || zn_cli_parse_int("profile", "--warmup", v, 0, PROFILE_MAX_RUNS, &a->warmup) != 0)
        return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--precision")) {
      if (r < 0) return ZN_CLI_EXIT_USAGE;
      if (strcmp(v, "fp32") == 0) a->precision = ZN_PRECISION_FP32;
      else if (strcmp(v, "bf16") == 0) a->precision = ZN_PRECISION_BF16;
      else return zn_cli_usage_error("profile", "--precision must be fp32 or bf16 (got '%s')", v);
    } else if (VALUE_FLAG("--accuracy-images")) {
      if (r < 0 || zn_cli_parse_int("profile", "--accuracy-images", v, 0, PROFILE_MAX_ACCURACY_IMAGES,
                                    &a->accuracy_images) != 0)
        return ZN_CLI_EXIT_USAGE;
    } else if (VALUE_FLAG("--seed")) {
      if (r < 0 || zn_cli_parse_u64("profile", "--seed", v, &a->seed) != 0) return ZN_CLI_EXIT_USAGE;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      return zn_cli_usage_error("profile", "unknown option '%s'", argv[i]);
    } else if (a->model) {
      return zn_cli_usage_error("profile", "unexpected argument '%s' (one MODEL)", argv[i]);
    } else {
      a->model = argv[i];
    }
#undef VALUE_FLAG
  }
  if (!a->model) return zn_cli_usage_error("profile", "MODEL is required");
  if (zn_cli_check_backend("profile", a->backend) != 0) return ZN_CLI_EXIT_USAGE;
  return ZN_CLI_EXIT_OK;
}

static int compare_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

/* Median of n values (sorts them). */
static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, compare_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The state of one profile command; everything freed by state_free. */
typedef struct profile_state {
  zn_model *model;
  zn_instance *instance;
  void **inputs, **outputs;
  size_t num_inputs, num_outputs;
  zn_profile *last;             /* the last profiled run: kernels and nodes */
  size_t num_steps;
  double *step_s;               /* [runs][num_steps] */
  double *plain_s, *profiled_s; /* [runs] */
  double *median_s;             /* [num_steps] */
  double *scratch;              /* [runs] */
  FILE *json;                   /* --json FILE, opened before any run so a bad path fails fast */
  bool has_accuracy;            /* bf16 against fp32 (--accuracy-images) */
  zn_bench_accuracy accuracy;
} profile_state;

static void state_free(profile_state *s) {
  if (s->json) fclose(s->json);
  for (size_t i = 0; s->inputs && i < s->num_inputs; i++) free(s->inputs[i]);
  for (size_t i = 0; s->outputs && i < s->num_outputs; i++) free(s->outputs[i]);
  free(s->inputs);
  free(s->outputs);
  zn_profile_destroy(s->last);
  zn_instance_destroy(s->instance);
  zn_model_destroy(s->model);
  free(s->step_s);
  free(s->plain_s);
  free(s->profiled_s);
  free(s->median_s);
  free(s->scratch);
}

static int out_of_memory(void) {
  fprintf(stderr, "zenith profile: out of memory\n");
  return ZN_CLI_EXIT_ERROR;
}

/* The seeded input stream in [-1, 1) (xorshift64*). */
static float next_input(uint64_t *x) {
  *x ^= *x >> 12, *x ^= *x << 25, *x ^= *x >> 27;
  return (float)((double)((*x * 0x2545F4914F6CDD1Dull) >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

/* Seeded input in [-1, 1) for float inputs (xorshift64*), zeros otherwise. */
static int make_io(profile_state *s, uint64_t seed) {
  s->num_inputs = zn_model_num_inputs(s->model);
  s->num_outputs = zn_model_num_outputs(s->model);
  s->inputs = calloc(s->num_inputs + 1, sizeof *s->inputs);
  s->outputs = calloc(s->num_outputs + 1, sizeof *s->outputs);
  if (!s->inputs || !s->outputs) return out_of_memory();
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < s->num_inputs; i++) {
    size_t bytes = zn_instance_input_bytes(s->instance, i);
    zn_tensor_info info;
    zn_status st = zn_model_input_info(s->model, i, &info);
    if (st != ZN_OK) return zn_cli_fail(st);
    if (!(s->inputs[i] = calloc(bytes ? bytes : 1, 1))) return out_of_memory();
    if (info.dtype != ZN_DTYPE_FLOAT32) continue;
    float *f = s->inputs[i];
    for (size_t e = 0; e < bytes / sizeof(float); e++) f[e] = next_input(&x);
  }
  for (size_t i = 0; i < s->num_outputs; i++) {
    size_t bytes = zn_instance_output_bytes(s->instance, i);
    if (!(s->outputs[i] = calloc(bytes ? bytes : 1, 1))) return out_of_memory();
  }
  return ZN_CLI_EXIT_OK;
}

/* Warm-up, then profiled and plain runs alternately (so drift hits both alike). */
static int measure(profile_state *s, const profile_args *a) {
  const void *const *in = (const void *const *)s->inputs;
  void *const *out = s->outputs;
  const int progress = isatty(2);
  zn_status st;
  for (long long w = 0; w < a->warmup; w++)
    if ((st = zn_instance_run(s->instance, in, out)) != ZN_OK) return zn_cli_fail(st);
  size_t runs = (size_t)a->runs;
  s->plain_s = calloc(runs, sizeof *s->plain_s);
  s->profiled_s = calloc(runs, sizeof *s->profiled_s);
  s->scratch = calloc(runs, sizeof *s->scratch);
  if (!s->plain_s || !s->profiled_s || !s->scratch) return out_of_memory();
  for (size_t r = 0; r < runs; r++) {
    if (progress) fprintf(stderr, "\rzenith profile: run %zu/%zu", r + 1, runs);
    zn_profile *p = NULL;
    if ((st = zn_instance_profile(s->instance, in, out, &p)) != ZN_OK) {
      if (progress) fputc('\n', stderr);
      if (st == ZN_ERR_UNSUPPORTED_OP) {
        fprintf(stderr, "zenith profile: backend '%s' has no per-step profile (%s)\n", zn_model_backend(s->model),
                zn_last_error());
        return ZN_CLI_EXIT_ERROR;
      }
      return zn_cli_fail(st);
    }
    size_t n = zn_profile_num_steps(p);
    if (r == 0) {
      s->num_steps = n;
      if (!(s->step_s = calloc(runs * (n ? n : 1), sizeof *s->step_s))) {
        zn_profile_destroy(p);
        return out_of_memory();
      }
    } else if (n != s->num_steps) {
      zn_profile_destroy(p);
      fprintf(stderr, "zenith profile: the step count changed between runs (%zu, then %zu)\n", s->num_steps, n);
      return ZN_CLI_EXIT_ERROR;
    }
    for (size_t i = 0; i < n; i++) {
      zn_profile_step_info info;
      if ((st = zn_profile_step(p, i, &info)) != ZN_OK) {
        zn_profile_destroy(p);
        return zn_cli_fail(st);
      }
      s->step_s[r * n + i] = info.seconds;
    }
    s->profiled_s[r] = zn_profile_total_seconds(p);
    zn_profile_destroy(s->last);
    s->last = p;
    int64_t t0 = zn_cli_now_ns();
    if ((st = zn_instance_run(s->instance, in, out)) != ZN_OK) return zn_cli_fail(st);
    s->plain_s[r] = (double)(zn_cli_now_ns() - t0) * 1e-9;
  }
  if (progress) fprintf(stderr, "\r%*s\r", 40, "");
  if (!(s->median_s = calloc(s->num_steps + 1, sizeof *s->median_s))) return out_of_memory();
  for (size_t i = 0; i < s->num_steps; i++) {
    for (size_t r = 0; r < runs; r++) s->scratch[r] = s->step_s[r * s->num_steps + i];
    s->median_s[i] = median(s->scratch, runs);
  }
  return ZN_CLI_EXIT_OK;
}

/* "Conv+Relu" style list of a step's op types into buf ("-" for none). */
static const char *ops_text(const zn_profile_step_info *info, char *buf, size_t size) {
  if (info->num_nodes == 0) return "-";
  buf[0] = '\0';
  for (int k = 0; k < info->num_nodes; k++) {
    if (k) strncat(buf, "+", size - strlen(buf) - 1);
    strncat(buf, info->op_types[k], size - strlen(buf) - 1);
  }
  return buf;
}

/* The op type a step is summarised under: its main node's, or data movement. */
static const char *summary_key(const zn_profile_step_info *info) {
  return info->num_nodes ? info->op_types[0] : "(data movement)";
}

typedef struct op_row {
  const char *op;
  double seconds;
  int steps;
} op_row;

/* Per-op-type totals of the step medians, largest first; returns the row count. */
static size_t by_op(const profile_state *s, op_row *rows) {
  size_t n = 0;
  for (size_t i = 0; i < s->num_steps; i++) {
    zn_profile_step_info info;
    if (zn_profile_step(s->last, i, &info) != ZN_OK) continue;
    const char *key = summary_key(&info);
    size_t j = 0;
    while (j < n && strcmp(rows[j].op, key) != 0) j++;
    if (j == n) rows[n++] = (op_row){key, 0.0, 0};
    rows[j].seconds += s->median_s[i];
    rows[j].steps++;
  }
  for (size_t i = 1; i < n; i++)  /* insertion sort: a few dozen rows at most */
    for (size_t j = i; j > 0 && rows[j].seconds > rows[j - 1].seconds; j--) {
      op_row t = rows[j];
      rows[j] = rows[j - 1];
      rows[j - 1] = t;
    }
  return n;
}

static double sum_of(const double *v, size_t n) {
  double t = 0.0;
  for (size_t i = 0; i < n; i++) t += v[i];
  return t;
}

static void print_table(const profile_state *s, const profile_args *a, const op_row *rows, size_t num_rows,
                        double plain_med, double profiled_med) {
  const double total = sum_of(s->median_s, s->num_steps);
  printf("zenith profile: %s, backend %s, %s, batch %lld, %lld thread%s, median of %lld profiled runs after %lld "
         "warm-up\n",
         a->model, zn_model_backend(s->model), a->precision == ZN_PRECISION_BF16 ? "bf16" : "fp32", a->batch,
         a->threads, a->threads == 1 ? "" : "s", a->runs, a->warmup);
  printf("%4s %10s %6s %6s %8s  %-22s %-32s %s\n", "#", "median ms", "%", "cum %", "GFLOP/s", "op", "node (+fused)",
         "kernel");
  double cum = 0.0;
  for (size_t i = 0; i < s->num_steps; i++) {
    zn_profile_step_info info;
    if (zn_profile_step(s->last, i, &info) != ZN_OK) continue;
    const double pct = total > 0 ? 100.0 * s->median_s[i] / total : 0.0;
    cum += pct;
    char ops[128], name[160], gf[32] = "-";
    if (info.macs > 0 && s->median_s[i] > 0)
      snprintf(gf, sizeof gf, "%.1f", 2.0 * (double)info.macs / s->median_s[i] * 1e-9);
    if (info.num_nodes == 0) snprintf(name, sizeof name, "-");
    else if (info.num_nodes == 1) snprintf(name, sizeof name, "%.31s", info.node_names[0]);
    else snprintf(name, sizeof name, "%.26s (+%d)", info.node_names[0], info.num_nodes - 1);
    printf("%4zu %10.3f %6.1f %6.1f %8s  %-22.22s %-32s %s\n", i, s->median_s[i] * 1e3, pct, cum, gf,
           ops_text(&info, ops, sizeof ops), name, info.kernel);
  }
  printf("\nby op type:\n%-22s %10s %6s %6s\n", "op", "ms", "%", "steps");
  for (size_t j = 0; j < num_rows; j++)
    printf("%-22s %10.3f %6.1f %6d\n", rows[j].op, rows[j].seconds * 1e3,
           total > 0 ? 100.0 * rows[j].seconds / total : 0.0, rows[j].steps);
  size_t un = zn_profile_num_unstepped_nodes(s->last);
  if (un) {
    printf("\n%zu node%s without a step (folded away at compile, no run time):", un, un == 1 ? "" : "s");
    for (size_t j = 0; j < un && j < 8; j++)
      printf(" %s (%s)", zn_profile_unstepped_node_name(s->last, j), zn_profile_unstepped_op_type(s->last, j));
    printf("%s\n", un > 8 ? " ..." : "");
  }
  printf("\nsum of step medians   %10.3f ms\n", total * 1e3);
  printf("profiled run median   %10.3f ms (whole run, clock reads included)\n", profiled_med * 1e3);
  printf("plain run median      %10.3f ms (%lld unprofiled runs of the same instance, interleaved)\n",
         plain_med * 1e3, a->runs);
  if (plain_med > 0)
    printf("profiling overhead    %+9.1f %% (profiled vs plain run median)\n",
           100.0 * (profiled_med - plain_med) / plain_med);
  if (s->has_accuracy)
    printf("\nbf16 vs fp32 (%s, %lld seeded inputs): max rel err %.3g, top-1 %.1f%%, top-5 %.1f%%\n", a->model,
           (long long)s->accuracy.num_images, s->accuracy.max_rel_err, 100.0 * zn_bench_accuracy_top1(&s->accuracy),
           100.0 * zn_bench_accuracy_top5(&s->accuracy));
}

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c < 0x20) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

static void write_json(FILE *f, const profile_state *s, const profile_args *a, const op_row *rows, size_t num_rows,
                       double plain_med, double profiled_med) {
  const double total = sum_of(s->median_s, s->num_steps);
  fprintf(f, "{\n  \"model\": ");
  json_string(f, a->model);
  fprintf(f, ",\n  \"backend\": ");
  json_string(f, zn_model_backend(s->model));
  fprintf(f, ",\n  \"precision\": \"%s\",\n  \"batch\": %lld,\n  \"threads\": %lld,\n  \"runs\": %lld,\n"
             "  \"warmup\": %lld,\n  \"steps\": [",
          a->precision == ZN_PRECISION_BF16 ? "bf16" : "fp32", a->batch, a->threads, a->runs, a->warmup);
  double cum = 0.0;
  for (size_t i = 0; i < s->num_steps; i++) {
    zn_profile_step_info info;
    if (zn_profile_step(s->last, i, &info) != ZN_OK) continue;
    const double pct = total > 0 ? 100.0 * s->median_s[i] / total : 0.0;
    cum += pct;
    fprintf(f, "%s\n    {\"index\": %zu, \"kernel\": ", i ? "," : "", i);
    json_string(f, info.kernel);
    fprintf(f, ", \"nodes\": [");
    for (int k = 0; k < info.num_nodes; k++) {
      fprintf(f, "%s{\"name\": ", k ? ", " : "");
      json_string(f, info.node_names[k]);
      fprintf(f, ", \"op\": ");
      json_string(f, info.op_types[k]);
      fputc('}', f);
    }
    fprintf(f, "], \"macs\": %lld, \"median_ms\": %.6f, \"percent\": %.3f, \"cumulative_percent\": %.3f",
            (long long)info.macs, s->median_s[i] * 1e3, pct, cum);
    if (info.macs > 0 && s->median_s[i] > 0)
      fprintf(f, ", \"gflops\": %.3f", 2.0 * (double)info.macs / s->median_s[i] * 1e-9);
    fputc('}', f);
  }
  fprintf(f, "\n  ],\n  \"by_op\": [");
  for (size_t j = 0; j < num_rows; j++) {
    fprintf(f, "%s\n    {\"op\": ", j ? "," : "");
    json_string(f, rows[j].op);
    fprintf(f, ", \"ms\": %.6f, \"percent\": %.3f, \"steps\": %d}", rows[j].seconds * 1e3,
            total > 0 ? 100.0 * rows[j].seconds / total : 0.0, rows[j].steps);
  }
  fprintf(f, "\n  ],\n  \"unstepped_nodes\": [");
  for (size_t j = 0; j < zn_profile_num_unstepped_nodes(s->last); j++) {
    fprintf(f, "%s{\"name\": ", j ? ", " : "");
    json_string(f, zn_profile_unstepped_node_name(s->last, j));
    fprintf(f, ", \"op\": ");
    json_string(f, zn_profile_unstepped_op_type(s->last, j));
    fputc('}', f);
  }
  fprintf(f, "],\n  \"sum_of_step_medians_ms\": %.6f,\n  \"profiled_run_median_ms\": %.6f,\n"
             "  \"plain_run_median_ms\": %.6f,\n  \"accuracy\": ",
          total * 1e3, profiled_med * 1e3, plain_med * 1e3);
  const zn_bench_accuracy *acc = &s->accuracy;
  if (!s->has_accuracy) {
    fprintf(f, "null\n}\n");
  } else {
    fprintf(f, "{\"reference\": \"fp32\", \"inputs\": \"seeded\", \"images\": %lld, \"classes\": %lld, ",
            (long long)acc->num_images, (long long)acc->num_classes);
    if (isfinite(acc->max_rel_err)) fprintf(f, "\"max_rel_err\": %.9g, ", acc->max_rel_err);
    else fprintf(f, "\"max_rel_err\": null, ");
    fprintf(f, "\"top1_agreement\": %.6f, \"top5_agreement\": %.6f}\n}\n", zn_bench_accuracy_top1(acc),
            zn_bench_accuracy_top5(acc));
  }
}

static int report(profile_state *s, const profile_args *a) {
  op_row *rows = calloc(s->num_steps + 1, sizeof *rows);
  if (!rows) return out_of_memory();
  size_t num_rows = by_op(s, rows);
  const size_t runs = (size_t)a->runs;
  const double plain_med = median(s->plain_s, runs), profiled_med = median(s->profiled_s, runs);
  int rc = ZN_CLI_EXIT_OK;
  const int json_stdout = a->json && strcmp(a->json, "-") == 0;
  if (!json_stdout) print_table(s, a, rows, num_rows, plain_med, profiled_med);
  if (json_stdout) {
    write_json(stdout, s, a, rows, num_rows, plain_med, profiled_med);
  } else if (s->json) {
    write_json(s->json, s, a, rows, num_rows, plain_med, profiled_med);
    FILE *f = s->json;
    s->json = NULL;
    if (fclose(f) != 0) {
      fprintf(stderr, "zenith profile: failed to write '%s'\n", a->json);
      rc = ZN_CLI_EXIT_ERROR;
    } else {
      printf("json: %s\n", a->json);
    }
  }
  free(rows);
  return rc;
}

/* bf16: the same seeded stream (its first image is the profiled input's)
 * through the reduced model and the fp32 model of the same file, backend and
 * seed, so the profile never hides a loss of accuracy. */
static int check_accuracy(profile_state *s, const profile_args *a) {
  if (a->precision == ZN_PRECISION_FP32 || a->accuracy_images == 0) return ZN_CLI_EXIT_OK;
  int64_t per = zn_bench_accuracy_image_elements(s->model);
  if (per == 0) {
    fprintf(stderr, "zenith profile: failed to check bf16 accuracy: input 0 is not float32 with a fixed size per image "
                    "(--accuracy-images 0 skips the check)\n");
    return ZN_CLI_EXIT_ERROR;
  }
  zn_model_options mo = zn_model_options_default();
  mo.backend = a->backend;
  mo.precision = ZN_PRECISION_FP32;
  mo.tune_batch = a->batch;
  int is_zoo = 0;
  zn_model *fp32 = NULL;
  zn_status st = zn_cli_open_model_with(a->model, &mo, a->seed, &is_zoo, &fp32);
  if (st != ZN_OK) return zn_cli_fail(st);
  size_t n = (size_t)a->accuracy_images * (size_t)per;
  float *images = malloc(n * sizeof *images);
  if (!images) {
    zn_model_destroy(fp32);
    return out_of_memory();
  }
  uint64_t x = a->seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t e = 0; e < n; e++) images[e] = next_input(&x);
  st = zn_bench_accuracy_measure(s->model, fp32, images, a->accuracy_images, (int)a->threads, &s->accuracy);
  free(images);
  zn_model_destroy(fp32);
  if (st != ZN_OK) return zn_cli_fail(st);
  s->has_accuracy = true;
  return ZN_CLI_EXIT_OK;
}

static int profile_main(profile_state *s, const profile_args *a) {
  if (a->json && strcmp(a->json, "-") != 0 && !(s->json = fopen(a->json, "w"))) {
    fprintf(stderr, "zenith profile: failed to open '%s' for writing\n", a->json);
    return ZN_CLI_EXIT_ERROR;
  }
  zn_model_options mo = zn_model_options_default();
  mo.backend = a->backend;
  mo.precision = a->precision;
  mo.tune_batch = a->batch;  /* compiled for the batch it is profiled at, as bench_engine does */
  int is_zoo = 0;
  zn_status st = zn_cli_open_model_with(a->model, &mo, a->seed, &is_zoo, &s->model);
  if (st != ZN_OK) return zn_cli_fail(st);
  zn_instance_options io = zn_instance_options_default();
  io.batch = a->batch;
  io.num_threads = (int)a->threads;
  if ((st = zn_instance_create(s->model, &io, &s->instance)) != ZN_OK) return zn_cli_fail(st);
  int rc = make_io(s, a->seed);
  if (rc == ZN_CLI_EXIT_OK) rc = measure(s, a);
  if (rc == ZN_CLI_EXIT_OK) rc = check_accuracy(s, a);
  if (rc == ZN_CLI_EXIT_OK) rc = report(s, a);
  return rc;
}

int zn_cmd_profile(int argc, char **argv) {
  profile_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc != ZN_CLI_EXIT_OK) return rc;
  zn_cli_log_setup(0);
  profile_state s;
  memset(&s, 0, sizeof s);
  rc = profile_main(&s, &a);
  state_free(&s);
  return rc;
}
