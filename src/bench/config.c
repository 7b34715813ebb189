/* Benchmark configuration: one table of keys (section, name, kind), one
 * checked setter, the INI reader (inih with a line-counting reader so every
 * error names its line) and the pre-flight checks that refuse impossible
 * configurations before a model is loaded. docs/bench-config.md documents
 * every key; keep the two in step. */
#include "bench/config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <ini.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

typedef enum key_id {
  K_MODELS, K_MIX, K_BACKEND, K_PRECISION, K_SEED, K_ACCURACY_IMAGES,
  K_CPUS, K_PIN, K_THREADS,
  K_SCENARIO, K_BATCH, K_CONCURRENCY, K_MAX_CONCURRENCY, K_WARMUP, K_BATCHES, K_DURATION,
  K_REPETITIONS, K_STABILITY, K_STABILITY_WINDOWS, K_DISTURBED, K_MEMORY_CAP,
  K_SOURCE, K_PATH, K_LABELS, K_PREPROCESS, K_BAD_IMAGE, K_MAX_IMAGES, K_LOADER_THREADS,
  K_FOLDER, K_NAME, K_JSON_SAMPLES,
  K_MONITOR, K_INTERVAL,
  K_COUNT
} key_id;

static const struct { const char *section, *name; } keys[K_COUNT] = {
  [K_MODELS] = {"model", "models"}, [K_MIX] = {"model", "mix"}, [K_BACKEND] = {"model", "backend"},
  [K_PRECISION] = {"model", "precision"}, [K_SEED] = {"model", "seed"},
  [K_ACCURACY_IMAGES] = {"model", "accuracy_images"},
  [K_CPUS] = {"device", "cpus"}, [K_PIN] = {"device", "pin"}, [K_THREADS] = {"device", "threads"},
  [K_SCENARIO] = {"run", "scenario"}, [K_BATCH] = {"run", "batch"}, [K_CONCURRENCY] = {"run", "concurrency"},
  [K_MAX_CONCURRENCY] = {"run", "max_concurrency"}, [K_WARMUP] = {"run", "warmup_batches"},
  [K_BATCHES] = {"run", "batches"}, [K_DURATION] = {"run", "duration_ms"},
  [K_REPETITIONS] = {"run", "repetitions"}, [K_STABILITY] = {"run", "stability_pct"},
  [K_STABILITY_WINDOWS] = {"run", "stability_windows"}, [K_DISTURBED] = {"run", "disturbed_cpu_pct"},
  [K_MEMORY_CAP] = {"run", "memory_cap"},
  [K_SOURCE] = {"data", "source"}, [K_PATH] = {"data", "path"}, [K_LABELS] = {"data", "labels"},
  [K_PREPROCESS] = {"data", "preprocess_in_timing"}, [K_BAD_IMAGE] = {"data", "bad_image"},
  [K_MAX_IMAGES] = {"data", "max_images"}, [K_LOADER_THREADS] = {"data", "loader_threads"},
  [K_FOLDER] = {"output", "folder"}, [K_NAME] = {"output", "name"}, [K_JSON_SAMPLES] = {"output", "json_samples"},
  [K_MONITOR] = {"monitor", "enabled"}, [K_INTERVAL] = {"monitor", "interval_ms"},
};

_Static_assert(K_COUNT <= 64, "zn_bench_config.origin holds 64 keys");

void zn_bench_config_init(zn_bench_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  snprintf(cfg->source, sizeof cfg->source, "(defaults)");
  snprintf(cfg->backend, sizeof cfg->backend, "auto");
  cfg->precision = ZN_PRECISION_FP32;
  cfg->seed = 42;
  cfg->accuracy_images = 32;
  cfg->pin = false;
  cfg->num_threads_list = 1;
  cfg->threads[0] = 1;
  cfg->scenario = ZN_BENCH_OFFLINE;
  cfg->num_batches_list = 1;
  cfg->batch_sizes[0] = 1;
  cfg->num_levels = 1;
  cfg->levels[0] = 1;
  cfg->max_concurrency = 64;
  cfg->warmup_batches = 2;
  cfg->batches = 20;
  cfg->duration_ms = 0;
  cfg->repetitions = 30;
  cfg->stability_pct = 0;
  cfg->stability_windows = 3;
  cfg->disturbed_cpu_pct = 10.0;
  cfg->memory_cap_fraction = 0.9;
  cfg->data_source = ZN_BENCH_DATA_SYNTHETIC;
  cfg->preprocess_in_timing = false;
  cfg->bad_image_skip = true;
  cfg->max_images = 64;
  cfg->loader_threads = 2;
  snprintf(cfg->output_folder, sizeof cfg->output_folder, "results");
  snprintf(cfg->output_name, sizeof cfg->output_name, "bench");
  cfg->json_samples = true;
  cfg->monitor = true;
  cfg->monitor_interval_ms = 100;
  for (int k = 0; k < K_COUNT; k++) snprintf(cfg->origin[k], ZN_BENCH_ORIGIN_MAX, "default");
}

void zn_bench_config_init_default(zn_bench_config *cfg, const char *images_folder) {
  zn_bench_config_init(cfg);
  snprintf(cfg->source, sizeof cfg->source, "(built-in)");
  cfg->num_workloads = 1;
  zn_bench_workload *w = &cfg->workloads[0];
  snprintf(w->label, sizeof w->label, "mobilenet_v2");
  w->num_parts = 1;
  snprintf(w->parts[0].model, sizeof w->parts[0].model, "mobilenet_v2");
  w->parts[0].count = 1;
  cfg->num_batches_list = 2;
  cfg->batch_sizes[0] = 1;
  cfg->batch_sizes[1] = 8;
  cfg->num_levels = 2;
  cfg->levels[0] = 1;
  cfg->levels[1] = 2;
  cfg->warmup_batches = 1;
  cfg->batches = 0;
  cfg->duration_ms = 1000;
  cfg->repetitions = 3;
  cfg->data_source = ZN_BENCH_DATA_FOLDER;
  snprintf(cfg->data_path, sizeof cfg->data_path, "%s", images_folder);
  cfg->max_images = 16;
}

/* ---- value parsers: each returns false and records "why" via zn_error ---- */

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  size_t n = strlen(s);
  while (n > 0 && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
  return s;
}

static bool parse_i64(const char *text, int64_t lo, int64_t hi, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  while (isspace((unsigned char)*end)) end++;
  if (end == text || *end != '\0' || errno != 0) {
    zn_error(ZN_ERR_INVALID_CONFIG, "'%s' is not an integer", text);
    return false;
  }
  if (v < lo || v > hi) {
    zn_error(ZN_ERR_INVALID_CONFIG, "%lld is out of range [%lld, %lld]", v, (long long)lo, (long long)hi);
    return false;
  }
  *out = v;
  return true;
}

static bool parse_double(const char *text, double lo, double hi, double *out) {
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  while (isspace((unsigned char)*end)) end++;
  if (end == text || *end != '\0' || errno != 0 || !isfinite(v)) {
    zn_error(ZN_ERR_INVALID_CONFIG, "'%s' is not a number", text);
    return false;
  }
  if (v < lo || v > hi) {
    zn_error(ZN_ERR_INVALID_CONFIG, "%g is out of range [%g, %g]", v, lo, hi);
    return false;
  }
  *out = v;
  return true;
}

static bool parse_bool(const char *text, bool *out) {
  static const char *yes[] = {"1", "on", "true", "yes"}, *no[] = {"0", "off", "false", "no"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(text, yes[i]) == 0) { *out = true; return true; }
    if (strcasecmp(text, no[i]) == 0) { *out = false; return true; }
  }
  zn_error(ZN_ERR_INVALID_CONFIG, "'%s' is not a boolean (on/off, true/false, yes/no, 1/0)", text);
  return false;
}

/* Comma-separated integers in [lo, hi]; "pow2:N" gives 1, 2, 4, ... <= N. */
static bool parse_i64_list(const char *text, int64_t lo, int64_t hi, bool allow_pow2, int64_t *out, int *count) {
  char buf[1024];
  if (strlen(text) >= sizeof buf) { zn_error(ZN_ERR_INVALID_CONFIG, "list too long"); return false; }
  snprintf(buf, sizeof buf, "%s", text);
  char *t = trim(buf);
  int n = 0;
  if (allow_pow2 && strncmp(t, "pow2:", 5) == 0) {
    int64_t top;
    if (!parse_i64(trim(t + 5), lo, hi, &top)) return false;
    for (int64_t v = 1; v <= top; v *= 2) {
      if (v < lo) continue;
      if (n == ZN_BENCH_MAX_LIST) { zn_error(ZN_ERR_INVALID_CONFIG, "more than %d values", ZN_BENCH_MAX_LIST); return false; }
      out[n++] = v;
    }
    *count = n;
    return true;
  }
  char *save = NULL;
  for (char *tok = strtok_r(t, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (n == ZN_BENCH_MAX_LIST) { zn_error(ZN_ERR_INVALID_CONFIG, "more than %d values", ZN_BENCH_MAX_LIST); return false; }
    if (!parse_i64(trim(tok), lo, hi, &out[n])) return false;
    n++;
  }
  if (n == 0) { zn_error(ZN_ERR_INVALID_CONFIG, "empty list"); return false; }
  *count = n;
  return true;
}

int zn_bench_parse_cpus(const char *text, int *cpus, int max) {
  char buf[1024];
  if (strlen(text) >= sizeof buf) return -1;
  snprintf(buf, sizeof buf, "%s", text);
  int n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(trim(buf), ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    tok = trim(tok);
    char *dash = strchr(tok, '-');
    int64_t a, b;
    if (dash) {
      *dash = '\0';
      if (!parse_i64(trim(tok), 0, CPU_SETSIZE - 1, &a) || !parse_i64(trim(dash + 1), 0, CPU_SETSIZE - 1, &b) || b < a)
        return -1;
    } else {
      if (!parse_i64(tok, 0, CPU_SETSIZE - 1, &a)) return -1;
      b = a;
    }
    for (int64_t c = a; c <= b; c++) {
      for (int i = 0; i < n; i++)
        if (cpus[i] == c) return -1; /* listed twice */
      if (n == max) return -1;
      cpus[n++] = (int)c;
    }
  }
  return n > 0 ? n : -1;
}

/* "name" or "name*count". */
static bool parse_part(char *tok, zn_bench_part *part) {
  tok = trim(tok);
  int64_t count = 1;
  char *star = strrchr(tok, '*');
  if (star) {
    *star = '\0';
    if (!parse_i64(trim(star + 1), 1, ZN_BENCH_MAX_INSTANCES, &count)) return false;
    tok = trim(tok);
  }
  if (*tok == '\0') { zn_error(ZN_ERR_INVALID_CONFIG, "empty model name"); return false; }
  if (strlen(tok) >= sizeof part->model) { zn_error(ZN_ERR_INVALID_CONFIG, "model name too long"); return false; }
  snprintf(part->model, sizeof part->model, "%s", tok);
  part->count = (int)count;
  return true;
}

/* bounded copy (snprintf("%s") trips -Wrestrict on struct members) */
static void copy_str(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memmove(dst, src, n);
  dst[n] = '\0';
}

static bool parse_models(zn_bench_config *cfg, const char *text, bool mix) {
  char buf[4096];
  if (strlen(text) >= sizeof buf) { zn_error(ZN_ERR_INVALID_CONFIG, "list too long"); return false; }
  snprintf(buf, sizeof buf, "%s", text);
  char *save = NULL;
  if (mix) {
    if (cfg->num_workloads == ZN_BENCH_MAX_LIST) { zn_error(ZN_ERR_INVALID_CONFIG, "too many workloads"); return false; }
    zn_bench_workload w;
    memset(&w, 0, sizeof w);
    size_t used = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      if (w.num_parts == ZN_BENCH_MAX_PARTS) { zn_error(ZN_ERR_INVALID_CONFIG, "more than %d models in a mix", ZN_BENCH_MAX_PARTS); return false; }
      zn_bench_part *p = &w.parts[w.num_parts];
      if (!parse_part(tok, p)) return false;
      w.num_parts++;
      char piece[ZN_BENCH_TEXT_MAX + 32];
      snprintf(piece, sizeof piece, "%s%s*%d", used ? "+" : "", p->model, p->count);
      copy_str(w.label + used, sizeof w.label - used, piece);
      used = strlen(w.label);
    }
    if (w.num_parts == 0) { zn_error(ZN_ERR_INVALID_CONFIG, "empty mix"); return false; }
    cfg->workloads[cfg->num_workloads++] = w;
    return true;
  }
  /* models: replaces the single-model workloads, keeps mixes */
  int kept = 0;
  for (int i = 0; i < cfg->num_workloads; i++)
    if (cfg->workloads[i].num_parts > 1 || cfg->workloads[i].parts[0].count > 1) cfg->workloads[kept++] = cfg->workloads[i];
  cfg->num_workloads = kept;
  int added = 0;
  for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    if (cfg->num_workloads == ZN_BENCH_MAX_LIST) { zn_error(ZN_ERR_INVALID_CONFIG, "too many models"); return false; }
    zn_bench_workload *w = &cfg->workloads[cfg->num_workloads];
    memset(w, 0, sizeof *w);
    if (!parse_part(tok, &w->parts[0])) return false;
    if (w->parts[0].count != 1) {
      zn_error(ZN_ERR_INVALID_CONFIG, "'%s*%d': counts belong in 'mix'; 'models' lists models run one at a time",
               w->parts[0].model, w->parts[0].count);
      return false;
    }
    w->num_parts = 1;
    copy_str(w->label, sizeof w->label, w->parts[0].model);
    cfg->num_workloads++;
    added++;
  }
  if (added == 0) { zn_error(ZN_ERR_INVALID_CONFIG, "empty model list"); return false; }
  return true;
}

/* "90%" of MemAvailable, or bytes with an optional K/M/G suffix. */
static bool parse_memory(const char *text, double *fraction, uint64_t *bytes) {
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || errno != 0 || !isfinite(v) || v <= 0) {
    zn_error(ZN_ERR_INVALID_CONFIG, "'%s' is not a memory size (e.g. 90%%, 512M, 4G)", text);
    return false;
  }
  while (isspace((unsigned char)*end)) end++;
  if (*end == '%') {
    if (end[1] != '\0' || v > 100) { zn_error(ZN_ERR_INVALID_CONFIG, "'%s': a percentage must be in (0, 100]", text); return false; }
    *fraction = v / 100.0;
    *bytes = 0;
    return true;
  }
  double mult = 1;
  char c = (char)toupper((unsigned char)*end);
  if (c == 'K') mult = 1024.0;
  else if (c == 'M') mult = 1024.0 * 1024;
  else if (c == 'G') mult = 1024.0 * 1024 * 1024;
  else if (c == 'T') mult = 1024.0 * 1024 * 1024 * 1024;
  else if (c != '\0') { zn_error(ZN_ERR_INVALID_CONFIG, "'%s': unknown unit (use %%, K, M, G or T)", text); return false; }
  if (c != '\0') {
    end++;
    if (toupper((unsigned char)*end) == 'B' || toupper((unsigned char)*end) == 'I') end++;
    if (toupper((unsigned char)*end) == 'B') end++;
    if (*end != '\0') { zn_error(ZN_ERR_INVALID_CONFIG, "'%s': unknown unit", text); return false; }
  }
  double b = v * mult;
  if (b < 1024 * 1024 || b > 1e18) { zn_error(ZN_ERR_INVALID_CONFIG, "'%s' is not a sensible memory cap", text); return false; }
  *bytes = (uint64_t)b;
  *fraction = 0;
  return true;
}

static bool copy_text(char *dst, size_t size, const char *value) {
  if (strlen(value) >= size) { zn_error(ZN_ERR_INVALID_CONFIG, "value too long (max %zu characters)", size - 1); return false; }
  snprintf(dst, size, "%s", value);
  return true;
}

static bool set_value(zn_bench_config *c, key_id k, const char *v) {
  int64_t i;
  switch (k) {
  case K_MODELS: return parse_models(c, v, false);
  case K_MIX: return parse_models(c, v, true);
  case K_BACKEND: {
    bool known = strcmp(v, "auto") == 0;
    for (size_t b = 0; !known && b < zn_backend_count(); b++) known = strcmp(v, zn_backend_name(b)) == 0;
    if (!known) {
      char list[256] = "auto";
      size_t used = strlen(list);
      for (size_t b = 0; b < zn_backend_count() && used < sizeof list; b++)
        used += (size_t)snprintf(list + used, sizeof list - used, ", %s", zn_backend_name(b));
      zn_error(ZN_ERR_INVALID_CONFIG, "unknown backend '%s' (built: %s)", v, list);
      return false;
    }
    return copy_text(c->backend, sizeof c->backend, v);
  }
  case K_PRECISION:
    if (strcasecmp(v, "fp32") == 0) c->precision = ZN_PRECISION_FP32;
    else if (strcasecmp(v, "bf16") == 0) c->precision = ZN_PRECISION_BF16;
    else { zn_error(ZN_ERR_INVALID_CONFIG, "unknown precision '%s' (fp32 or bf16)", v); return false; }
    return true;
  case K_SEED: if (!parse_i64(v, 0, INT64_MAX, &i)) return false; c->seed = (uint64_t)i; return true;
  case K_ACCURACY_IMAGES: return parse_i64(v, 0, ZN_BENCH_MAX_ACCURACY_IMAGES, &c->accuracy_images);
  case K_CPUS: {
    if (strcasecmp(v, "all") == 0) { c->num_cpus = 0; return true; }
    int n = zn_bench_parse_cpus(v, c->cpus, ZN_BENCH_MAX_CPUS);
    if (n < 0) { zn_error(ZN_ERR_INVALID_CONFIG, "'%s' is not a CPU list (e.g. 0-1,3 or all; no repeats)", v); return false; }
    c->num_cpus = n;
    return true;
  }
  case K_PIN: return parse_bool(v, &c->pin);
  case K_THREADS: {
    int64_t t[ZN_BENCH_MAX_LIST];
    int n;
    if (!parse_i64_list(v, 1, ZN_BENCH_MAX_THREADS, false, t, &n)) return false;
    for (int j = 0; j < n; j++) c->threads[j] = (int)t[j];
    c->num_threads_list = n;
    return true;
  }
  case K_SCENARIO:
    if (strcmp(v, "offline") == 0) c->scenario = ZN_BENCH_OFFLINE;
    else if (strcmp(v, "single-stream") == 0) c->scenario = ZN_BENCH_SINGLE_STREAM;
    else { zn_error(ZN_ERR_INVALID_CONFIG, "unknown scenario '%s' (offline or single-stream)", v); return false; }
    return true;
  case K_BATCH:
    return parse_i64_list(v, 1, ZN_BENCH_MAX_BATCH, true, c->batch_sizes, &c->num_batches_list);
  case K_CONCURRENCY: {
    if (strcmp(v, "sweep") == 0) { c->concurrency_sweep = true; return true; }
    int64_t t[ZN_BENCH_MAX_LIST];
    int n;
    if (!parse_i64_list(v, 1, INT32_MAX, true, t, &n)) return false;
    for (int j = 0; j < n; j++) {
      if (t[j] > ZN_BENCH_MAX_INSTANCES) {
        zn_error(ZN_ERR_INVALID_CONFIG, "concurrency %lld exceeds the maximum of %d instances",
                 (long long)t[j], ZN_BENCH_MAX_INSTANCES);
        return false;
      }
      c->levels[j] = (int)t[j];
    }
    c->num_levels = n;
    c->concurrency_sweep = false;
    return true;
  }
  case K_MAX_CONCURRENCY:
    if (!parse_i64(v, 1, ZN_BENCH_MAX_INSTANCES, &i)) return false;
    c->max_concurrency = (int)i;
    return true;
  case K_WARMUP: return parse_i64(v, 0, 1000000, &c->warmup_batches);
  case K_BATCHES:
    if (!parse_i64(v, 1, 100000000, &c->batches)) return false;
    c->duration_ms = 0;
    return true;
  case K_DURATION:
    if (!parse_i64(v, 1, 3600 * 1000, &c->duration_ms)) return false;
    c->batches = 0;
    return true;
  case K_REPETITIONS:
    if (!parse_i64(v, 1, 100000, &i)) return false;
    c->repetitions = (int)i;
    return true;
  case K_STABILITY: return parse_double(v, 0, 1000, &c->stability_pct);
  case K_STABILITY_WINDOWS:
    if (!parse_i64(v, 2, 100, &i)) return false;
    c->stability_windows = (int)i;
    return true;
  case K_DISTURBED: return parse_double(v, 0, 100000, &c->disturbed_cpu_pct);
  case K_MEMORY_CAP: return parse_memory(v, &c->memory_cap_fraction, &c->memory_cap_bytes);
  case K_SOURCE:
    if (strcmp(v, "synthetic") == 0) c->data_source = ZN_BENCH_DATA_SYNTHETIC;
    else if (strcmp(v, "folder") == 0) c->data_source = ZN_BENCH_DATA_FOLDER;
    else if (strcmp(v, "imagenet") == 0) c->data_source = ZN_BENCH_DATA_IMAGENET;
    else { zn_error(ZN_ERR_INVALID_CONFIG, "unknown data source '%s' (synthetic, folder or imagenet)", v); return false; }
    return true;
  case K_PATH: return copy_text(c->data_path, sizeof c->data_path, v);
  case K_LABELS: return copy_text(c->labels_path, sizeof c->labels_path, v);
  case K_PREPROCESS: return parse_bool(v, &c->preprocess_in_timing);
  case K_BAD_IMAGE:
    if (strcmp(v, "skip") == 0) c->bad_image_skip = true;
    else if (strcmp(v, "fail") == 0) c->bad_image_skip = false;
    else { zn_error(ZN_ERR_INVALID_CONFIG, "unknown bad_image policy '%s' (skip or fail)", v); return false; }
    return true;
  case K_MAX_IMAGES: return parse_i64(v, 1, 1000000, &c->max_images);
  case K_LOADER_THREADS:
    if (!parse_i64(v, 1, 256, &i)) return false;
    c->loader_threads = (int)i;
    return true;
  case K_FOLDER:
    if (*v == '\0') { zn_error(ZN_ERR_INVALID_CONFIG, "empty folder"); return false; }
    return copy_text(c->output_folder, sizeof c->output_folder, v);
  case K_NAME:
    if (*v == '\0' || strchr(v, '/')) { zn_error(ZN_ERR_INVALID_CONFIG, "'%s': a file name stem without '/'", v); return false; }
    return copy_text(c->output_name, sizeof c->output_name, v);
  case K_JSON_SAMPLES: return parse_bool(v, &c->json_samples);
  case K_MONITOR: return parse_bool(v, &c->monitor);
  case K_INTERVAL: return parse_i64(v, 10, 60000, &c->monitor_interval_ms);
  case K_COUNT: break;
  }
  ZN_UNREACHABLE();
}

static int find_key(const char *section, const char *key) {
  for (int k = 0; k < K_COUNT; k++)
    if (strcmp(keys[k].section, section) == 0 && strcmp(keys[k].name, key) == 0) return k;
  return -1;
}

static bool known_section(const char *section) {
  for (int k = 0; k < K_COUNT; k++)
    if (strcmp(keys[k].section, section) == 0) return true;
  return false;
}

zn_status zn_bench_config_set(zn_bench_config *cfg, const char *section, const char *key, const char *value,
                              const char *origin) {
  if (!cfg || !section || !key || !value || !origin) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to set config key: NULL argument");
  if (!known_section(section))
    return zn_error(ZN_ERR_INVALID_CONFIG, "%s: unknown section [%s] (model, device, run, data, output, monitor)", origin, section);
  int k = find_key(section, key);
  if (k < 0) return zn_error(ZN_ERR_INVALID_CONFIG, "%s: unknown key '%s' in [%s]", origin, key, section);
  char buf[4096];
  if (strlen(value) >= sizeof buf) return zn_error(ZN_ERR_INVALID_CONFIG, "%s: value of %s.%s too long", origin, section, key);
  snprintf(buf, sizeof buf, "%s", value);
  char *v = trim(buf);
  if (*v == '\0' && k != K_LABELS && k != K_PATH)
    return zn_error(ZN_ERR_INVALID_CONFIG, "%s: empty value for '%s' in [%s]", origin, key, section);
  if (!set_value(cfg, (key_id)k, v))
    return zn_error_prefix(ZN_ERR_INVALID_CONFIG, "%s: bad value for '%s' in [%s]: ", origin, key, section);
  snprintf(cfg->origin[k], ZN_BENCH_ORIGIN_MAX, "%s", origin);
  if (k == K_BATCHES) snprintf(cfg->origin[K_DURATION], ZN_BENCH_ORIGIN_MAX, "%s", origin);
  if (k == K_DURATION) snprintf(cfg->origin[K_BATCHES], ZN_BENCH_ORIGIN_MAX, "%s", origin);
  return ZN_OK;
}

const char *zn_bench_config_origin(const zn_bench_config *cfg, const char *section, const char *key) {
  int k = find_key(section, key);
  return k < 0 ? "?" : cfg->origin[k];
}

zn_status zn_bench_config_set_arg(zn_bench_config *cfg, const char *assignment, const char *origin) {
  char buf[4096];
  if (!assignment || strlen(assignment) >= sizeof buf)
    return zn_error(ZN_ERR_INVALID_CONFIG, "%s: setting too long or missing", origin);
  snprintf(buf, sizeof buf, "%s", assignment);
  char *eq = strchr(buf, '=');
  char *dot = strchr(buf, '.');
  if (!eq || !dot || dot > eq)
    return zn_error(ZN_ERR_INVALID_CONFIG, "%s: '%s' is not section.key=value", origin, assignment);
  *eq = '\0';
  *dot = '\0';
  char where[ZN_BENCH_ORIGIN_MAX];
  snprintf(where, sizeof where, "%s %.*s", origin, 80, assignment);
  return zn_bench_config_set(cfg, trim(buf), trim(dot + 1), eq + 1, where);
}

/* ---- the INI reader ---- */

typedef struct ini_state {
  zn_bench_config *cfg;
  FILE *file;
  const char *name;     /* file name used in messages */
  int line;             /* line number of the line inih is processing */
  zn_status status;     /* first error */
  char message[ZN_ERROR_MAX];
  bool overlong;
} ini_state;

/* inih reads one line per call; counting calls gives the current line.
 * A line longer than inih's buffer arrives in pieces: refuse it. */
static char *ini_read_line(char *str, int num, void *stream) {
  ini_state *s = stream;
  char *r = fgets(str, num, s->file);
  if (!r) return NULL;
  size_t n = strlen(r);
  if (n > 0 && r[n - 1] == '\n') {
    s->line++;
  } else if (!feof(s->file)) {
    if (s->status == ZN_OK) {
      s->status = ZN_ERR_INVALID_CONFIG;
      snprintf(s->message, sizeof s->message, "%s:%d: line longer than %d characters", s->name, s->line + 1, num - 3);
    }
    s->overlong = true;
    return NULL;
  } else {
    s->line++;
  }
  return r;
}

static int on_ini_key(void *user, const char *section, const char *name, const char *value) {
  ini_state *s = user;
  if (s->status != ZN_OK) return 1; /* keep only the first error */
  char origin[ZN_BENCH_ORIGIN_MAX];
  snprintf(origin, sizeof origin, "%.100s:%d", s->name, s->line);
  if (*section == '\0') {
    s->status = ZN_ERR_INVALID_CONFIG;
    snprintf(s->message, sizeof s->message, "%s: key '%s' outside any [section]", origin, name);
    return 0;
  }
  zn_status st = zn_bench_config_set(s->cfg, section, name, value, origin);
  if (st != ZN_OK) {
    s->status = st;
    snprintf(s->message, sizeof s->message, "%s", zn_last_error());
    return 0;
  }
  return 1;
}

zn_status zn_bench_config_load(zn_bench_config *cfg, const char *path) {
  if (!cfg || !path) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to load config: NULL argument");
  ini_state s;
  memset(&s, 0, sizeof s);
  s.cfg = cfg;
  const char *base = strrchr(path, '/');
  s.name = base ? base + 1 : path;
  s.file = fopen(path, "r");
  if (!s.file) return zn_error(ZN_ERR_IO, "failed to read config %s: %s", path, strerror(errno));
  /* A repeated `mix` adds workloads; a fresh file starts from none. */
  cfg->num_workloads = 0;
  snprintf(cfg->source, sizeof cfg->source, "%s", path);
  int rc = ini_parse_stream(ini_read_line, &s, on_ini_key, &s);
  fclose(s.file);
  if (s.status != ZN_OK) return zn_error(s.status, "%s", s.message);
  if (rc > 0) return zn_error(ZN_ERR_INVALID_CONFIG, "%s:%d: syntax error (expected [section], key = value or a ; comment)", s.name, rc);
  if (rc < 0) return zn_error(ZN_ERR_IO, "failed to read config %s", path);
  return ZN_OK;
}

/* ---- pre-flight checks ---- */

static bool is_onnx_path(const char *name) {
  size_t n = strlen(name);
  return strchr(name, '/') || (n > 5 && strcasecmp(name + n - 5, ".onnx") == 0);
}

static zn_status check_model(const zn_bench_config *cfg, const char *name, int key) {
  if (zn_zoo_find(name)) return ZN_OK;
  if (is_onnx_path(name)) {
    struct stat st;
    if (stat(name, &st) != 0)
      return zn_error(ZN_ERR_INVALID_CONFIG, "%s: model file '%s' cannot be read: %s", cfg->origin[key], name, strerror(errno));
    if (!S_ISREG(st.st_mode)) return zn_error(ZN_ERR_INVALID_CONFIG, "%s: model '%s' is not a file", cfg->origin[key], name);
    return ZN_OK;
  }
  char list[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < zn_zoo_count() && used < sizeof list; i++)
    used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", zn_zoo_get(i)->name);
  return zn_error(ZN_ERR_INVALID_CONFIG, "%s: unknown model '%s': not a zoo model (%s) and not an .onnx file",
                  cfg->origin[key], name, used ? list : "no zoo built");
}

static zn_status check_folder(const char *path, const char *what, const char *origin) {
  struct stat st;
  if (stat(path, &st) != 0) return zn_error(ZN_ERR_INVALID_CONFIG, "%s: %s '%s' does not exist: %s", origin, what, path, strerror(errno));
  if (!S_ISDIR(st.st_mode)) return zn_error(ZN_ERR_INVALID_CONFIG, "%s: %s '%s' is not a folder", origin, what, path);
  return ZN_OK;
}

zn_status zn_bench_config_check(const zn_bench_config *cfg) {
  if (!cfg) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to check config: NULL");
  if (cfg->num_workloads == 0)
    return zn_error(ZN_ERR_INVALID_CONFIG, "%s: no models: set 'models' or 'mix' in [model]", cfg->source);
  for (int w = 0; w < cfg->num_workloads; w++) {
    const zn_bench_workload *wl = &cfg->workloads[w];
    int key = (wl->num_parts > 1 || wl->parts[0].count > 1) ? K_MIX : K_MODELS;
    int per_level = 0;
    for (int p = 0; p < wl->num_parts; p++) {
      ZN_TRY(check_model(cfg, wl->parts[p].model, key));
      per_level += wl->parts[p].count;
    }
    int top = cfg->concurrency_sweep ? cfg->max_concurrency : 0;
    for (int l = 0; !cfg->concurrency_sweep && l < cfg->num_levels; l++) top = ZN_MAX(top, cfg->levels[l]);
    if (!cfg->concurrency_sweep && (int64_t)top * per_level > ZN_BENCH_MAX_INSTANCES)
      return zn_error(ZN_ERR_INVALID_CONFIG, "%s: concurrency %d x %d instances of '%s' exceeds the maximum of %d instances",
                      cfg->origin[K_CONCURRENCY], top, per_level, wl->label, ZN_BENCH_MAX_INSTANCES);
  }
  if (cfg->scenario == ZN_BENCH_SINGLE_STREAM) {
    if (cfg->concurrency_sweep || cfg->num_levels != 1 || cfg->levels[0] != 1)
      return zn_error(ZN_ERR_INVALID_CONFIG, "%s: scenario single-stream sends one request at a time: concurrency must be 1",
                      cfg->origin[K_CONCURRENCY]);
    for (int w = 0; w < cfg->num_workloads; w++)
      if (cfg->workloads[w].num_parts > 1 || cfg->workloads[w].parts[0].count > 1)
        return zn_error(ZN_ERR_INVALID_CONFIG, "%s: scenario single-stream runs one instance: a mix cannot run in it",
                        cfg->origin[K_MIX]);
  }
  if (cfg->data_source == ZN_BENCH_DATA_FOLDER || cfg->data_source == ZN_BENCH_DATA_IMAGENET) {
    if (cfg->data_path[0] == '\0')
      return zn_error(ZN_ERR_INVALID_CONFIG, "%s: data source '%s' needs [data] path", cfg->origin[K_SOURCE],
                      cfg->data_source == ZN_BENCH_DATA_FOLDER ? "folder" : "imagenet");
    ZN_TRY(check_folder(cfg->data_path, "image folder", cfg->origin[K_PATH]));
  }
  if (cfg->data_source == ZN_BENCH_DATA_IMAGENET) {
    struct stat st;
    if (cfg->labels_path[0] == '\0')
      return zn_error(ZN_ERR_INVALID_CONFIG, "%s: data source 'imagenet' needs [data] labels (a file of '<image> <class>' lines)",
                      cfg->origin[K_SOURCE]);
    if (stat(cfg->labels_path, &st) != 0 || !S_ISREG(st.st_mode))
      return zn_error(ZN_ERR_INVALID_CONFIG, "%s: labels file '%s' cannot be read", cfg->origin[K_LABELS], cfg->labels_path);
  }
  if (cfg->num_cpus > 0) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (sched_getaffinity(0, sizeof allowed, &allowed) == 0) {
      for (int i = 0; i < cfg->num_cpus; i++)
        if (!CPU_ISSET(cfg->cpus[i], &allowed))
          return zn_error(ZN_ERR_INVALID_CONFIG, "%s: CPU %d is not available to this process (%d CPUs online)",
                          cfg->origin[K_CPUS], cfg->cpus[i], (int)sysconf(_SC_NPROCESSORS_ONLN));
    }
  }
  if (cfg->pin) {
    int ncpu = cfg->num_cpus;
    if (ncpu == 0) {
      cpu_set_t allowed;
      CPU_ZERO(&allowed);
      ncpu = sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 1;
    }
    for (int t = 0; t < cfg->num_threads_list; t++)
      if (cfg->threads[t] > ncpu)
        return zn_error(ZN_ERR_INVALID_CONFIG, "%s: pinning %d threads per instance needs at least %d CPUs, the CPU set has %d",
                        cfg->origin[K_THREADS], cfg->threads[t], cfg->threads[t], ncpu);
  }
  if (cfg->memory_cap_bytes == 0 && zn_bench_config_memory_cap(cfg) == 0)
    return zn_error(ZN_ERR_INVALID_CONFIG, "%s: cannot read MemAvailable from /proc/meminfo for a %% memory cap: give bytes (e.g. 4G)",
                    cfg->origin[K_MEMORY_CAP]);
  return ZN_OK;
}

uint64_t zn_bench_config_memory_cap(const zn_bench_config *cfg) {
  if (cfg->memory_cap_bytes) return cfg->memory_cap_bytes;
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  uint64_t kb = 0;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1) break;
  fclose(f);
  return (uint64_t)((double)kb * 1024.0 * cfg->memory_cap_fraction);
}

/* ---- writing the effective configuration back ---- */

typedef struct out_buf { char *p; size_t size, len; } out_buf;

static void out(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(out_buf *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->len < o->size ? o->p + o->len : NULL, o->len < o->size ? o->size - o->len : 0, fmt, ap);
  va_end(ap);
  if (n > 0) o->len += (size_t)n;
}

static void out_i64_list(out_buf *o, const char *key, const int64_t *v, int n) {
  out(o, "%s = ", key);
  for (int i = 0; i < n; i++) out(o, "%s%lld", i ? ", " : "", (long long)v[i]);
  out(o, "\n");
}

size_t zn_bench_config_format(const zn_bench_config *c, char *buf, size_t buf_size) {
  out_buf o = {buf, buf_size, 0};
  if (buf_size) buf[0] = '\0';
  out(&o, "; effective configuration (from %s)\n[model]\n", c->source);
  bool any_single = false;
  for (int w = 0; w < c->num_workloads; w++) {
    const zn_bench_workload *wl = &c->workloads[w];
    if (wl->num_parts == 1 && wl->parts[0].count == 1) {
      out(&o, "%s%s", any_single ? ", " : "models = ", wl->parts[0].model);
      any_single = true;
    }
  }
  if (any_single) out(&o, "\n");
  for (int w = 0; w < c->num_workloads; w++) {
    const zn_bench_workload *wl = &c->workloads[w];
    if (wl->num_parts == 1 && wl->parts[0].count == 1) continue;
    out(&o, "mix = ");
    for (int p = 0; p < wl->num_parts; p++) out(&o, "%s%s*%d", p ? ", " : "", wl->parts[p].model, wl->parts[p].count);
    out(&o, "\n");
  }
  out(&o, "backend = %s\nprecision = %s\nseed = %llu\naccuracy_images = %lld\n", c->backend,
      c->precision == ZN_PRECISION_BF16 ? "bf16" : "fp32", (unsigned long long)c->seed, (long long)c->accuracy_images);
  out(&o, "[device]\ncpus = ");
  if (c->num_cpus == 0) out(&o, "all");
  for (int i = 0; i < c->num_cpus; i++) out(&o, "%s%d", i ? "," : "", c->cpus[i]);
  out(&o, "\npin = %s\nthreads = ", c->pin ? "on" : "off");
  for (int i = 0; i < c->num_threads_list; i++) out(&o, "%s%d", i ? ", " : "", c->threads[i]);
  out(&o, "\n[run]\nscenario = %s\n", c->scenario == ZN_BENCH_OFFLINE ? "offline" : "single-stream");
  out_i64_list(&o, "batch", c->batch_sizes, c->num_batches_list);
  if (c->concurrency_sweep) out(&o, "concurrency = sweep\n");
  else {
    out(&o, "concurrency = ");
    for (int i = 0; i < c->num_levels; i++) out(&o, "%s%d", i ? ", " : "", c->levels[i]);
    out(&o, "\n");
  }
  out(&o, "max_concurrency = %d\nwarmup_batches = %lld\n", c->max_concurrency, (long long)c->warmup_batches);
  if (c->batches) out(&o, "batches = %lld\n", (long long)c->batches);
  else out(&o, "duration_ms = %lld\n", (long long)c->duration_ms);
  out(&o, "repetitions = %d\nstability_pct = %g\nstability_windows = %d\ndisturbed_cpu_pct = %g\n", c->repetitions,
      c->stability_pct, c->stability_windows, c->disturbed_cpu_pct);
  if (c->memory_cap_bytes) out(&o, "memory_cap = %lluK\n", (unsigned long long)(c->memory_cap_bytes / 1024));
  else out(&o, "memory_cap = %g%%\n", c->memory_cap_fraction * 100.0);
  static const char *sources[] = {"synthetic", "folder", "imagenet"};
  out(&o, "[data]\nsource = %s\n", sources[c->data_source]);
  if (c->data_path[0]) out(&o, "path = %s\n", c->data_path);
  if (c->labels_path[0]) out(&o, "labels = %s\n", c->labels_path);
  out(&o, "preprocess_in_timing = %s\nbad_image = %s\nmax_images = %lld\nloader_threads = %d\n",
      c->preprocess_in_timing ? "on" : "off", c->bad_image_skip ? "skip" : "fail", (long long)c->max_images,
      c->loader_threads);
  out(&o, "[output]\nfolder = %s\nname = %s\njson_samples = %s\n", c->output_folder, c->output_name,
      c->json_samples ? "on" : "off");
  out(&o, "[monitor]\nenabled = %s\ninterval_ms = %lld\n", c->monitor ? "on" : "off", (long long)c->monitor_interval_ms);
  return o.len;
}
