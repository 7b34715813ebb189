/* The benchmark runner (thesis Figure 3.3): data decoded ahead, models loaded
 * once per workload and shared by every instance, warm-up, the monitor
 * sampling in the background, repetitions of one common window per
 * configuration, the concurrency sweep and its stop rules, and a SIGINT that
 * ends the run after the current window with the results kept. */
#include "bench/runner.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "core/status.h"
#include "data/data.h"
#include "monitor/monitor.h"
#include "runtime/group.h"

/* ---- SIGINT ---- */

static volatile sig_atomic_t interrupt_flag;
static struct sigaction previous_action;
static bool handler_installed;

static void on_sigint(int sig) {
  (void)sig;
  interrupt_flag = 1;
}

zn_status zn_bench_sigint_install(void) {
  if (handler_installed) return ZN_OK;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGINT, &sa, &previous_action) != 0)
    return zn_error(ZN_ERR_INTERNAL, "failed to install the SIGINT handler: %s", strerror(errno));
  handler_installed = true;
  return ZN_OK;
}

void zn_bench_sigint_restore(void) {
  if (!handler_installed) return;
  sigaction(SIGINT, &previous_action, NULL);
  handler_installed = false;
}

bool zn_bench_interrupt_requested(void) { return interrupt_flag != 0; }
void zn_bench_interrupt_clear(void) { interrupt_flag = 0; }

/* ---- machine ---- */

static void read_first_line(const char *path, char *buf, size_t size) {
  FILE *f = fopen(path, "r");
  buf[0] = '\0';
  if (!f) return;
  if (fgets(buf, (int)size, f)) buf[strcspn(buf, "\n")] = '\0';
  fclose(f);
}

void zn_bench_machine_probe(zn_bench_machine *m) {
  memset(m, 0, sizeof *m);
  snprintf(m->cpu_model, sizeof m->cpu_model, "unknown");
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (f) {
    char line[512];
    while (fgets(line, sizeof line, f)) {
      /* "model name" on x86, "Model" / "Hardware" on ARM boards */
      if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0 || strncmp(line, "Hardware", 8) == 0) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = '\0';
        snprintf(m->cpu_model, sizeof m->cpu_model, "%s", colon);
        if (line[0] == 'm') break;
      }
    }
    fclose(f);
  }
  m->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
  f = fopen("/proc/meminfo", "r");
  if (f) {
    char line[256];
    uint64_t kb;
    while (fgets(line, sizeof line, f)) {
      if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kb) == 1) m->mem_total_bytes = kb * 1024;
      if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1) m->mem_available_bytes = kb * 1024;
    }
    fclose(f);
  }
  struct utsname u;
  if (uname(&u) == 0) {
    snprintf(m->kernel, sizeof m->kernel, "%.60s %.60s", u.sysname, u.release);
    snprintf(m->hostname, sizeof m->hostname, "%.63s", u.nodename);
  }
  read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", m->governor, sizeof m->governor);
  if (m->governor[0] == '\0') snprintf(m->governor, sizeof m->governor, "absent");
  /* "always [madvise] never": the bracketed word is the mode. zenith asks for
   * huge pages on its large blocks (core/alloc.c), which "madvise" grants and
   * "never" refuses, so it changes what a run measures. */
  char thp[128];
  read_first_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof thp);
  const char *lb = strchr(thp, '['), *rb = lb ? strchr(lb, ']') : NULL;
  if (lb && rb)
    snprintf(m->huge_pages, sizeof m->huge_pages, "%.*s", (int)(rb - lb - 1), lb + 1);
  else
    snprintf(m->huge_pages, sizeof m->huge_pages, "absent");
}

/* ---- growable result arrays ---- */

static bool grow(void **items, size_t *cap, size_t need, size_t item_size) {
  if (need <= *cap) return true;
  size_t n = *cap ? *cap * 2 : 16;
  while (n < need) n *= 2;
  void *p = zn_realloc(*items, n * item_size);
  if (!p) return false;
  *items = p;
  *cap = n;
  return true;
}

void zn_bench_results_destroy(zn_bench_results *r) {
  if (!r) return;
  zn_monitor_destroy(r->monitor);
  zn_free(r->reps);
  zn_free(r->points);
  zn_free(r->sweeps);
  zn_free(r->accuracy);
  zn_free(r);
}

/* ---- inputs ---- */

/* Per-model input source: prebuilt batches (pointers rotate, nothing copied
 * inside the window) or, with preprocess_in_timing, decode + preprocess of
 * the data set's files inside the window. */
typedef struct input_source {
  int crop;                    /* 0: synthetic (group noise) */
  int64_t batch;
  const zn_loaded_set *loaded; /* borrowed; its paths are decoded again with preprocess_in_timing */
  bool in_timing;
  size_t num_batches;
  float **batches;             /* prebuilt */
  const void **ptrs;           /* one pointer per batch (one input) */
} input_source;

typedef struct input_ctx {
  input_source *parts;         /* per group part */
  int num_parts;
} input_ctx;

static void input_source_deinit(input_source *s) {
  for (size_t i = 0; s->batches && i < s->num_batches; i++) zn_free_aligned(s->batches[i]);
  zn_free(s->batches);
  zn_free(s->ptrs);
  memset(s, 0, sizeof *s);
}

static zn_status input_fn(void *user, int part, int instance, int64_t seq, void *const *scratch,
                          const void *const **inputs_out) {
  input_ctx *ctx = user;
  input_source *s = &ctx->parts[part];
  if (s->crop == 0) {
    *inputs_out = (const void *const *)scratch;
    return ZN_OK;
  }
  if (!s->in_timing) {
    size_t k = ((size_t)instance + (size_t)seq) % s->num_batches;
    *inputs_out = &s->ptrs[k];
    return ZN_OK;
  }
  /* decode + preprocess inside the window */
  size_t per = (size_t)3 * (size_t)s->crop * (size_t)s->crop;
  zn_preprocess_options po = zn_preprocess_options_imagenet(s->crop);
  size_t n = s->loaded->num_images; /* the files that decoded ahead (bad ones skipped) */
  for (int64_t b = 0; b < s->batch; b++) {
    size_t item = ((size_t)instance * 7 + (size_t)seq * (size_t)s->batch + (size_t)b) % n;
    float *dst = (float *)scratch[0] + (size_t)b * per;
    if (s->loaded->paths[item] == NULL) {
      memcpy(dst, zn_loaded_set_image(s->loaded, item), per * sizeof(float));
      continue;
    }
    zn_image img;
    ZN_TRY(zn_image_load_file(s->loaded->paths[item], &img));
    zn_status st = zn_image_preprocess(&img, &po, dst);
    zn_image_deinit(&img);
    if (st != ZN_OK) return st;
  }
  *inputs_out = (const void *const *)scratch;
  return ZN_OK;
}

/* Image crop size of a model's input: N x 3 x S x S float32, else 0. */
static int model_crop(const zn_model *model) {
  zn_tensor_info info;
  if (zn_model_num_inputs(model) != 1 || zn_model_input_info(model, 0, &info) != ZN_OK) return 0;
  if (info.dtype != ZN_DTYPE_FLOAT32 || info.num_dims != 4 || info.dims[1] != 3 || info.dims[2] != info.dims[3] ||
      info.dims[2] <= 0)
    return 0;
  return (int)info.dims[2];
}

/* ---- the run ---- */

typedef struct run_state {
  const zn_bench_config *cfg;
  const zn_bench_run_options *opts;
  zn_bench_results *r;
  zn_dataset *dataset;
  zn_loaded_set *loaded[4];    /* by distinct crop size */
  int loaded_crop[4];
  int num_loaded;
  int ch_cpu, ch_self, ch_rss, ch_rss_peak, ch_mem_used, ch_power, ch_io_read, ch_io_write;
  zn_monitor_stat *stats;
  double *latencies;           /* pooled per point, ms */
  size_t num_latencies, cap_latencies;
  double *rep_lat;             /* one window's, ms */
  size_t cap_rep_lat;
  size_t total_windows;
} run_state;

static uint64_t process_rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) return 0;
  unsigned long long pages_total = 0, pages_rss = 0;
  int n = fscanf(f, "%llu %llu", &pages_total, &pages_rss);
  fclose(f);
  if (n != 2) return 0;
  return (uint64_t)pages_rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static zn_status get_loaded(run_state *s, int crop, const zn_loaded_set **out) {
  for (int i = 0; i < s->num_loaded; i++)
    if (s->loaded_crop[i] == crop) { *out = s->loaded[i]; return ZN_OK; }
  if (s->num_loaded == (int)ZN_ARRAY_SIZE(s->loaded))
    return zn_error(ZN_ERR_INVALID_CONFIG, "failed to load images: more than %d input sizes", (int)ZN_ARRAY_SIZE(s->loaded));
  zn_loader_options lo = zn_loader_options_default(crop);
  lo.num_threads = s->cfg->loader_threads;
  lo.policy = s->cfg->bad_image_skip ? ZN_BAD_IMAGE_SKIP : ZN_BAD_IMAGE_FAIL;
  lo.max_items = (size_t)s->cfg->max_images;
  zn_loaded_set *set = NULL;
  ZN_TRY(zn_dataset_load(s->dataset, &lo, &set));
  for (size_t i = 0; s->opts->log && i < set->num_bad; i++)
    fprintf(s->opts->log, "zenith bench: skipped %s: %s\n", set->bad[i].path, set->bad[i].message);
  s->loaded[s->num_loaded] = set;
  s->loaded_crop[s->num_loaded++] = crop;
  *out = set;
  return ZN_OK;
}

/* Prebuild up to 4 batches cycling through the decoded images. */
static zn_status input_source_init(run_state *s, input_source *src, const zn_model *model, int64_t batch) {
  memset(src, 0, sizeof *src);
  src->batch = batch;
  if (s->cfg->data_source == ZN_BENCH_DATA_SYNTHETIC) return ZN_OK;
  int crop = model_crop(model);
  if (crop == 0)
    return zn_error(ZN_ERR_INVALID_CONFIG, "failed to feed images to a model: its input is not N x 3 x S x S float32; "
                                           "use [data] source = synthetic");
  src->crop = crop;
  const zn_loaded_set *set = NULL;
  ZN_TRY(get_loaded(s, crop, &set)); /* also applies the bad-image policy ahead of time */
  src->loaded = set;
  if (s->cfg->preprocess_in_timing) {
    src->in_timing = true;
    return ZN_OK;
  }
  size_t per = (size_t)3 * (size_t)crop * (size_t)crop;
  size_t n = (size_t)(set->num_images / (size_t)batch);
  src->num_batches = n < 1 ? 1 : (n > 4 ? 4 : n);
  src->batches = zn_calloc(src->num_batches, sizeof *src->batches);
  src->ptrs = zn_calloc(src->num_batches, sizeof *src->ptrs);
  if (!src->batches || !src->ptrs) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to build input batches: out of memory");
  size_t img = 0;
  for (size_t k = 0; k < src->num_batches; k++) {
    src->batches[k] = zn_alloc_aligned(per * (size_t)batch * sizeof(float));
    if (!src->batches[k]) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to build input batches: out of memory");
    for (int64_t b = 0; b < batch; b++, img++)
      memcpy(src->batches[k] + (size_t)b * per, zn_loaded_set_image(set, img % set->num_images), per * sizeof(float));
    src->ptrs[k] = src->batches[k];
  }
  return ZN_OK;
}

/* Rate channels are attributed to the interval before each sample: wait
 * (outside the window) for the first sample after it closed. */
static void wait_for_sample_after(zn_monitor *m, zn_time_ns t, int64_t interval_ms) {
  zn_time_ns give_up = zn_now_ns() + (interval_ms * 3 + 50) * 1000000;
  while (zn_now_ns() < give_up) {
    size_t n = zn_monitor_num_samples(m);
    zn_time_ns last = 0;
    if (n > 0 && zn_monitor_sample_get(m, n - 1, &last, NULL) == ZN_OK && last > t) return;
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
}

static double stat_mean(const run_state *s, int ch) { return ch >= 0 && s->stats[ch].num_values ? s->stats[ch].mean : NAN; }
static double stat_max(const run_state *s, int ch) { return ch >= 0 && s->stats[ch].num_values ? s->stats[ch].max : NAN; }

/* Fill one repetition row from the group's window and the monitor. */
static zn_status record_rep(run_state *s, const zn_group_result *gr, zn_bench_point *pt, int rep_index) {
  zn_bench_results *r = s->r;
  if (!grow((void **)&r->reps, &r->cap_reps, r->num_reps + 1, sizeof *r->reps))
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to record a repetition: out of memory");
  zn_bench_rep *row = &r->reps[r->num_reps];
  memset(row, 0, sizeof *row);
  row->point = (int)(r->num_points - 1);
  row->rep = rep_index;
  row->window_s = gr->window_s;
  row->batches = gr->total_batches;
  row->inferences = gr->total_inferences;
  row->throughput = gr->throughput;
  for (int p = 0; p < ZN_BENCH_MAX_PARTS; p++) row->part_throughput[p] = p < gr->num_parts ? gr->parts[p].throughput : NAN;
  row->open_ns = gr->open_ns;
  row->close_ns = gr->close_ns;
  /* latencies of every instance in this window, ms */
  size_t n = 0;
  for (int i = 0; i < gr->num_instances; i++) n += (size_t)gr->instances[i].num_latencies;
  if (!grow((void **)&s->rep_lat, &s->cap_rep_lat, n, sizeof(double)) ||
      !grow((void **)&s->latencies, &s->cap_latencies, s->num_latencies + n, sizeof(double)))
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to record latencies: out of memory");
  size_t k = 0;
  double sum = 0;
  for (int i = 0; i < gr->num_instances; i++)
    for (int64_t j = 0; j < gr->instances[i].num_latencies; j++) {
      double ms = (double)gr->instances[i].latencies_ns[j] * 1e-6;
      s->rep_lat[k++] = ms;
      s->latencies[s->num_latencies++] = ms;
      sum += ms;
    }
  zn_stats_sort(s->rep_lat, n);
  row->latency_p50_ms = zn_stats_percentile_sorted(s->rep_lat, n, 50);
  row->latency_p90_ms = zn_stats_percentile_sorted(s->rep_lat, n, 90);
  row->latency_p99_ms = zn_stats_percentile_sorted(s->rep_lat, n, 99);
  row->latency_mean_ms = n ? sum / (double)n : NAN;
  /* monitor */
  row->cpu_pct = row->self_cpu_cores = row->rss_bytes = row->rss_peak_bytes = row->mem_used_bytes = NAN;
  row->power_w = row->energy_j = row->energy_per_inference_j = row->io_Bps = row->other_cpu_s = NAN;
  if (r->monitor) {
    zn_monitor_summary sum_m;
    size_t nch = zn_monitor_num_channels(r->monitor);
    /* one sample right at the close so a short window still has one */
    ZN_TRY(zn_monitor_summarize(r->monitor, gr->open_ns, gr->close_ns, &sum_m, s->stats, nch));
    row->num_samples = sum_m.num_samples;
    row->cpu_pct = stat_mean(s, s->ch_cpu);
    row->self_cpu_cores = stat_mean(s, s->ch_self);
    row->rss_bytes = stat_mean(s, s->ch_rss);
    row->rss_peak_bytes = stat_max(s, s->ch_rss_peak);
    row->mem_used_bytes = stat_mean(s, s->ch_mem_used);
    row->power_w = sum_m.power_mean_w;
    row->energy_j = sum_m.energy_j;
    if (isfinite(row->energy_j) && row->inferences > 0) row->energy_per_inference_j = row->energy_j / (double)row->inferences;
    double rd = stat_mean(s, s->ch_io_read), wr = stat_mean(s, s->ch_io_write);
    if (isfinite(rd) || isfinite(wr)) row->io_Bps = (isfinite(rd) ? rd : 0) + (isfinite(wr) ? wr : 0);
    row->other_cpu_s = sum_m.other_cpu_s;
    if (isfinite(row->other_cpu_s) && row->window_s > 0)
      row->disturbed = row->other_cpu_s / row->window_s * 100.0 > s->cfg->disturbed_cpu_pct;
  }
  r->num_reps++;
  pt->num_reps++;
  if (row->disturbed) pt->num_disturbed++;
  return ZN_OK;
}

static void summarize_point(run_state *s, zn_bench_point *pt) {
  zn_bench_results *r = s->r;
  double *tp = zn_malloc((size_t)(pt->num_reps ? pt->num_reps : 1) * sizeof *tp);
  if (!tp) return;
  const zn_bench_workload *wl = &s->cfg->workloads[pt->workload];
  for (int p = 0; p < ZN_BENCH_MAX_PARTS; p++) pt->part_throughput_median[p] = NAN;
  for (int p = 0; p < wl->num_parts; p++) {
    for (int i = 0; i < pt->num_reps; i++) tp[i] = r->reps[pt->first_rep + i].part_throughput[p];
    pt->part_throughput_median[p] = zn_stats_summarize(tp, (size_t)pt->num_reps).median;
  }
  for (int i = 0; i < pt->num_reps; i++) tp[i] = r->reps[pt->first_rep + i].throughput;
  pt->throughput = zn_stats_summarize(tp, (size_t)pt->num_reps);
  double cpu = 0, power = 0, energy = 0;
  int ncpu = 0, npower = 0;
  int64_t inf = 0;
  pt->rss_peak_bytes = NAN;
  for (int i = 0; i < pt->num_reps; i++) {
    const zn_bench_rep *row = &r->reps[pt->first_rep + i];
    if (isfinite(row->cpu_pct)) { cpu += row->cpu_pct; ncpu++; }
    if (isfinite(row->power_w)) { power += row->power_w; npower++; }
    if (isfinite(row->energy_j)) { energy += row->energy_j; inf += row->inferences; }
    if (isfinite(row->rss_peak_bytes) && !(row->rss_peak_bytes <= pt->rss_peak_bytes)) pt->rss_peak_bytes = row->rss_peak_bytes;
  }
  pt->cpu_pct_mean = ncpu ? cpu / ncpu : NAN;
  pt->power_w_mean = npower ? power / npower : NAN;
  pt->energy_per_inference_j = inf > 0 ? energy / (double)inf : NAN;
  zn_stats_sort(s->latencies, s->num_latencies);
  pt->latency_p50_ms = zn_stats_percentile_sorted(s->latencies, s->num_latencies, 50);
  pt->latency_p90_ms = zn_stats_percentile_sorted(s->latencies, s->num_latencies, 90);
  pt->latency_p99_ms = zn_stats_percentile_sorted(s->latencies, s->num_latencies, 99);
  zn_free(tp);
}

/* Last `w` throughputs within +-pct of their mean. */
static bool is_stable(const zn_bench_results *r, const zn_bench_point *pt, int w, double pct) {
  if (pct <= 0 || pt->num_reps < w) return false;
  double mean = 0;
  for (int i = pt->num_reps - w; i < pt->num_reps; i++) mean += r->reps[pt->first_rep + i].throughput;
  mean /= w;
  if (mean <= 0) return false;
  for (int i = pt->num_reps - w; i < pt->num_reps; i++)
    if (fabs(r->reps[pt->first_rep + i].throughput - mean) > mean * pct / 100.0) return false;
  return true;
}

static void progress(run_state *s, const zn_bench_point *pt, int rep, double tp) {
  if (!s->opts->progress) return;
  fprintf(s->opts->progress, "\r%-28.28s batch %-4lld conc %-3d thr %-2d rep %3d/%-3d %10.2f inf/s ",
          s->cfg->workloads[pt->workload].label, (long long)pt->batch, pt->level, pt->threads, rep + 1,
          s->cfg->repetitions, tp);
  fflush(s->opts->progress);
}

typedef enum level_outcome { LEVEL_RAN, LEVEL_CREATE_FAILED, LEVEL_MEMORY, LEVEL_FAILED } level_outcome;

/* Run one configuration: build the group (checking the memory cap), its
 * inputs, then the repetitions. *reason gets why a level did not run. */
static zn_status run_level(run_state *s, int w, zn_model **models, int num_models_part, int64_t batch, int threads,
                           int level, size_t *per_instance_bytes, level_outcome *outcome, char *reason, size_t reason_size) {
  const zn_bench_config *cfg = s->cfg;
  const zn_bench_workload *wl = &cfg->workloads[w];
  zn_bench_results *r = s->r;
  *outcome = LEVEL_FAILED;
  zn_group_part parts[ZN_BENCH_MAX_PARTS];
  int total = 0;
  for (int p = 0; p < wl->num_parts; p++) {
    parts[p].model = models[p];
    parts[p].num_instances = wl->parts[p].count * level;
    total += parts[p].num_instances;
  }
  (void)num_models_part;
  uint64_t rss = process_rss_bytes();
  if (*per_instance_bytes > 0 && rss + (uint64_t)total * *per_instance_bytes > r->memory_cap_bytes) {
    snprintf(reason, reason_size, "memory cap would be crossed: %d instances need about %.1f MiB on top of %.1f MiB resident, cap %.1f MiB",
             total, (double)total * (double)*per_instance_bytes / 1048576.0, (double)rss / 1048576.0,
             (double)r->memory_cap_bytes / 1048576.0);
    *outcome = LEVEL_MEMORY;
    return ZN_OK;
  }
  input_source srcs[ZN_BENCH_MAX_PARTS];
  memset(srcs, 0, sizeof srcs);
  input_ctx ctx = {srcs, wl->num_parts};
  zn_group *g = NULL;
  zn_status st = ZN_OK;
  for (int p = 0; p < wl->num_parts && st == ZN_OK; p++) st = input_source_init(s, &srcs[p], models[p], batch);
  if (st != ZN_OK) goto done;
  zn_group_options go = zn_group_options_default();
  go.batch = batch;
  go.threads_per_instance = threads;
  go.cpus = cfg->num_cpus ? cfg->cpus : NULL;
  go.num_cpus = cfg->num_cpus;
  go.pin = cfg->pin;
  go.input_fn = input_fn;
  go.input_user = &ctx;
  go.seed = cfg->seed;
  int created = 0;
  st = zn_group_create(parts, wl->num_parts, &go, &g, &created);
  if (st != ZN_OK) {
    snprintf(reason, reason_size, "instance could not be created: %s", zn_last_error());
    *outcome = LEVEL_CREATE_FAILED;
    st = ZN_OK;
    goto done;
  }
  *per_instance_bytes = zn_group_instance_bytes(g) / (size_t)total;
  rss = process_rss_bytes();
  if (rss > r->memory_cap_bytes) {
    snprintf(reason, reason_size, "memory cap crossed: %.1f MiB resident with %d instances, cap %.1f MiB",
             (double)rss / 1048576.0, total, (double)r->memory_cap_bytes / 1048576.0);
    *outcome = LEVEL_MEMORY;
    goto done;
  }
  if (!grow((void **)&r->points, &r->cap_points, r->num_points + 1, sizeof *r->points)) {
    st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to record a configuration: out of memory");
    goto done;
  }
  zn_bench_point *pt = &r->points[r->num_points++];
  memset(pt, 0, sizeof *pt);
  pt->workload = w;
  pt->batch = batch;
  pt->level = level;
  pt->instances = total;
  pt->threads = threads;
  pt->first_rep = (int)r->num_reps;
  pt->instance_bytes = zn_group_instance_bytes(g);
  for (int p = 0; p < wl->num_parts; p++) {
    bool seen = false;
    for (int q = 0; q < p; q++) seen |= models[q] == models[p];
    if (!seen) pt->weight_bytes += zn_model_weight_bytes(models[p]);
  }
  s->num_latencies = 0;
  *outcome = LEVEL_RAN;
  for (int rep = 0; rep < cfg->repetitions; rep++) {
    zn_group_window win = {0};
    win.warmup_batches = rep == 0 ? cfg->warmup_batches : 0;
    win.batches = cfg->batches;
    win.duration_ns = cfg->duration_ms * 1000000;
    zn_group_result gr;
    st = zn_group_run(g, &win, &gr);
    if (st != ZN_OK) break;
    if (r->monitor) wait_for_sample_after(r->monitor, gr.close_ns, cfg->monitor_interval_ms);
    st = record_rep(s, &gr, pt, rep);
    if (st != ZN_OK) break;
    s->total_windows++;
    progress(s, pt, rep, gr.throughput);
    if (zn_bench_interrupt_requested()) { r->interrupted = true; break; }
    if (is_stable(r, pt, cfg->stability_windows, cfg->stability_pct)) { pt->stable = true; break; }
  }
  summarize_point(s, pt);
done:
  zn_group_destroy(g);
  for (int p = 0; p < wl->num_parts; p++) input_source_deinit(&srcs[p]);
  if (st != ZN_OK) *outcome = LEVEL_FAILED;
  return st;
}

static void add_sweep(run_state *s, int w, int64_t batch, int threads, int best_level, double best_tp, int max_level,
                      const char *reason) {
  zn_bench_results *r = s->r;
  if (!grow((void **)&r->sweeps, &r->cap_sweeps, r->num_sweeps + 1, sizeof *r->sweeps)) return;
  zn_bench_sweep *sw = &r->sweeps[r->num_sweeps++];
  sw->workload = w;
  sw->batch = batch;
  sw->threads = threads;
  sw->best_level = best_level;
  sw->best_throughput = best_tp;
  sw->max_level = max_level;
  snprintf(sw->stop_reason, sizeof sw->stop_reason, "%s", reason);
}

static void find_channels(run_state *s) {
  zn_monitor *m = s->r->monitor;
  s->ch_cpu = m ? zn_monitor_channel_find(m, ZN_MONITOR_CPU_TOTAL_PCT) : -1;
  s->ch_self = m ? zn_monitor_channel_find(m, ZN_MONITOR_CPU_SELF_CORES) : -1;
  s->ch_rss = m ? zn_monitor_channel_find(m, ZN_MONITOR_MEM_RSS) : -1;
  s->ch_rss_peak = m ? zn_monitor_channel_find(m, ZN_MONITOR_MEM_RSS_PEAK) : -1;
  s->ch_mem_used = m ? zn_monitor_channel_find(m, ZN_MONITOR_MEM_SYSTEM_USED) : -1;
  s->ch_power = m ? zn_monitor_channel_find(m, ZN_MONITOR_POWER_TOTAL) : -1;
  s->ch_io_read = m ? zn_monitor_channel_find(m, ZN_MONITOR_IO_DISK_READ) : -1;
  s->ch_io_write = m ? zn_monitor_channel_find(m, ZN_MONITOR_IO_DISK_WRITE) : -1;
}

static zn_status load_model(const zn_bench_config *cfg, const char *name, zn_precision precision, zn_model **out) {
  zn_model_options mo = zn_model_options_default();
  mo.backend = cfg->backend;
  mo.precision = precision;
  for (int i = 0; i < cfg->num_batches_list; i++)  /* kernels timed at the largest batch of the sweep */
    if (cfg->batch_sizes[i] > mo.tune_batch) mo.tune_batch = cfg->batch_sizes[i];
  zn_status st = zn_zoo_find(name) ? zn_model_from_zoo(name, cfg->seed, &mo, out) : zn_model_load_file(name, &mo, out);
  if (st != ZN_OK) return zn_error_prefix(st, "failed to load model '%s': ", name);
  return ZN_OK;
}

/* The images the accuracy check feeds part p's model: the first of the
 * decoded data set (the bench's own images) when a data source is set, else
 * seeded N(0,1) noise from the stream the group's synthetic inputs start
 * with (seed + part * 7919), so its first batch is the one the windows run. */
static zn_status accuracy_inputs(run_state *s, int part, const zn_model *model, float **images_out, int64_t *num_out,
                                 bool *real_out) {
  const zn_bench_config *cfg = s->cfg;
  *images_out = NULL;
  *num_out = 0;
  *real_out = false;
  int64_t per = zn_bench_accuracy_image_elements(model), n = cfg->accuracy_images;
  if (per == 0)
    return zn_error(ZN_ERR_INVALID_CONFIG, "failed to check bf16 accuracy: input 0 is not float32 with a fixed size per "
                                           "image; set [model] accuracy_images = 0 to skip the check");
  const zn_loaded_set *set = NULL;
  if (cfg->data_source != ZN_BENCH_DATA_SYNTHETIC) {
    int crop = model_crop(model);
    if (crop == 0)
      return zn_error(ZN_ERR_INVALID_CONFIG, "failed to feed images to a model: its input is not N x 3 x S x S float32; "
                                             "use [data] source = synthetic");
    ZN_TRY(get_loaded(s, crop, &set));
    if (set->num_images == 0) return zn_error(ZN_ERR_INVALID_CONFIG, "failed to check bf16 accuracy: no images decoded");
    if ((int64_t)set->num_images < n) n = (int64_t)set->num_images;
  }
  float *images = zn_alloc_aligned((size_t)n * (size_t)per * sizeof(float));
  if (!images)
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to allocate %lld accuracy-check images: out of memory", (long long)n);
  if (set) {
    for (int64_t i = 0; i < n; i++)
      memcpy(images + i * per, zn_loaded_set_image(set, (size_t)i), (size_t)per * sizeof(float));
  } else {
    zn_rng rng;
    zn_rng_init(&rng, cfg->seed + (uint64_t)part * 7919u);
    for (int64_t i = 0; i < n * per; i++) images[i] = zn_rng_normal(&rng);
  }
  *images_out = images;
  *num_out = n;
  *real_out = set != NULL;
  return ZN_OK;
}

/* bf16 workloads: each model not checked yet runs accuracy_images images
 * through itself and through the fp32 model of the same file, backend and
 * options, before any window, and the figures are printed and recorded. */
static zn_status check_accuracy(run_state *s, int w, zn_model *const *models) {
  const zn_bench_config *cfg = s->cfg;
  const zn_bench_workload *wl = &cfg->workloads[w];
  zn_bench_results *r = s->r;
  if (cfg->precision == ZN_PRECISION_FP32 || cfg->accuracy_images == 0) return ZN_OK;
  for (int p = 0; p < wl->num_parts; p++) {
    const char *name = wl->parts[p].model;
    bool done = false;
    for (size_t i = 0; i < r->num_accuracy && !done; i++) done = strcmp(r->accuracy[i].model, name) == 0;
    if (done) continue;
    if (!grow((void **)&r->accuracy, &r->cap_accuracy, r->num_accuracy + 1, sizeof *r->accuracy))
      return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to record an accuracy check: out of memory");
    zn_model *fp32 = NULL;
    float *images = NULL;
    int64_t n = 0;
    bool real = false;
    zn_bench_accuracy acc;
    zn_status st = load_model(cfg, name, ZN_PRECISION_FP32, &fp32);
    if (st == ZN_OK) st = accuracy_inputs(s, p, models[p], &images, &n, &real);
    if (st == ZN_OK) st = zn_bench_accuracy_measure(models[p], fp32, images, n, cfg->threads[0], &acc);
    zn_free_aligned(images);
    zn_model_destroy(fp32);
    if (st != ZN_OK) return zn_error_prefix(st, "failed to check the bf16 accuracy of '%s' against fp32: ", name);
    zn_bench_accuracy_row *row = &r->accuracy[r->num_accuracy++];
    memset(row, 0, sizeof *row);
    row->workload = w;
    snprintf(row->model, sizeof row->model, "%s", name);
    row->real_images = real;
    row->acc = acc;
    if (s->opts->accuracy) {
      if (s->opts->progress) fprintf(s->opts->progress, "\r");
      fprintf(s->opts->accuracy, "bf16 vs fp32 (%s, %lld %s): max rel err %.3g, top-1 %.1f%%, top-5 %.1f%%\n", name,
              (long long)acc.num_images, real ? "images" : "seeded N(0,1) inputs", acc.max_rel_err,
              100.0 * zn_bench_accuracy_top1(&acc), 100.0 * zn_bench_accuracy_top5(&acc));
      fflush(s->opts->accuracy);
    }
  }
  return ZN_OK;
}

/* One workload: load its models once (one zn_model per distinct name), then
 * every threads x batch x level. Returns non-OK only for errors that must end
 * the run; *first_error_fatal says whether nothing has run yet. */
static zn_status run_workload(run_state *s, int w) {
  const zn_bench_config *cfg = s->cfg;
  const zn_bench_workload *wl = &cfg->workloads[w];
  zn_model *models[ZN_BENCH_MAX_PARTS] = {0};
  zn_model *owned[ZN_BENCH_MAX_PARTS] = {0};
  zn_status st = ZN_OK;
  for (int p = 0; p < wl->num_parts && st == ZN_OK; p++) {
    for (int q = 0; q < p; q++)
      if (strcmp(wl->parts[q].model, wl->parts[p].model) == 0) models[p] = models[q];
    if (!models[p]) {
      st = load_model(cfg, wl->parts[p].model, cfg->precision, &owned[p]);
      models[p] = owned[p];
    }
  }
  if (st == ZN_OK) st = check_accuracy(s, w, models);
  if (st == ZN_OK && s->r->backend[0] == '\0')
    snprintf(s->r->backend, sizeof s->r->backend, "%s", zn_model_backend(models[0]));
  for (int t = 0; st == ZN_OK && t < cfg->num_threads_list; t++) {
    for (int b = 0; st == ZN_OK && b < cfg->num_batches_list; b++) {
      int64_t batch = cfg->batch_sizes[b];
      int threads = cfg->threads[t];
      size_t per_instance = 0;
      char reason[1024] = "";
      level_outcome outcome;
      if (!cfg->concurrency_sweep) {
        for (int l = 0; st == ZN_OK && l < cfg->num_levels && !s->r->interrupted; l++) {
          st = run_level(s, w, models, wl->num_parts, batch, threads, cfg->levels[l], &per_instance, &outcome, reason,
                         sizeof reason);
          if (st == ZN_OK && outcome != LEVEL_RAN)
            st = zn_error(outcome == LEVEL_MEMORY ? ZN_ERR_OUT_OF_MEMORY : ZN_ERR_INVALID_CONFIG,
                          "%s: %s at batch %lld, concurrency %d: %s", zn_bench_config_origin(cfg, "run", "concurrency"), wl->label, (long long)batch,
                          cfg->levels[l], reason);
        }
        continue;
      }
      /* the sweep: raise the level until throughput stops improving for two
       * steps in a row, an instance cannot be created or the cap is crossed */
      int best_level = 0, max_level = 0, no_gain = 0;
      double best = 0;
      int level = 1;
      for (;; level++) {
        if (s->r->interrupted) { snprintf(reason, sizeof reason, "interrupted"); break; }
        if (level > cfg->max_concurrency) {
          snprintf(reason, sizeof reason, "reached max_concurrency %d", cfg->max_concurrency);
          break;
        }
        int per_level = 0;
        for (int p = 0; p < wl->num_parts; p++) per_level += wl->parts[p].count;
        if ((int64_t)level * per_level > ZN_BENCH_MAX_INSTANCES) {
          snprintf(reason, sizeof reason, "reached the limit of %d instances", ZN_BENCH_MAX_INSTANCES);
          break;
        }
        st = run_level(s, w, models, wl->num_parts, batch, threads, level, &per_instance, &outcome, reason, sizeof reason);
        if (st != ZN_OK) break;
        if (outcome != LEVEL_RAN) {
          if (level == 1 && outcome == LEVEL_MEMORY) {
            st = zn_error(ZN_ERR_OUT_OF_MEMORY, "%s: %s at batch %lld: the first instance already exceeds the memory cap: %s",
                          zn_bench_config_origin(cfg, "run", "memory_cap"), wl->label, (long long)batch, reason);
          } else if (level == 1) {
            st = zn_error(ZN_ERR_INVALID_CONFIG, "%s at batch %lld: %s", wl->label, (long long)batch, reason);
          }
          break;
        }
        const zn_bench_point *pt = &s->r->points[s->r->num_points - 1];
        if (pt->num_reps == 0) break; /* interrupted before a window */
        max_level = level;
        double tp = pt->throughput.median;
        if (tp > best) {
          best = tp;
          best_level = level;
          no_gain = 0;
        } else if (++no_gain >= 2) {
          snprintf(reason, sizeof reason, "throughput did not improve for 2 steps after level %d", best_level);
          break;
        }
      }
      if (max_level > 0) add_sweep(s, w, batch, threads, best_level, best, max_level, reason);
    }
  }
  for (int p = 0; p < wl->num_parts; p++) zn_model_destroy(owned[p]);
  return st;
}

static zn_status open_data(run_state *s) {
  const zn_bench_config *cfg = s->cfg;
  switch (cfg->data_source) {
  case ZN_BENCH_DATA_SYNTHETIC: return ZN_OK;
  case ZN_BENCH_DATA_FOLDER: return zn_dataset_open_folder(cfg->data_path, &s->dataset);
  case ZN_BENCH_DATA_IMAGENET: return zn_dataset_open_imagenet_val(cfg->data_path, cfg->labels_path, &s->dataset);
  }
  ZN_UNREACHABLE();
}

zn_status zn_bench_run(const zn_bench_config *cfg, const zn_bench_run_options *opts, zn_bench_results **results_out) {
  if (!results_out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run bench: NULL results_out");
  *results_out = NULL;
  if (!cfg) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to run bench: NULL config");
  zn_bench_run_options no_opts = {NULL, NULL, NULL};
  if (!opts) opts = &no_opts;
  ZN_TRY(zn_bench_config_check(cfg));
  zn_bench_results *r = zn_calloc(1, sizeof *r);
  if (!r) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to run bench: out of memory");
  r->config = *cfg;
  run_state s;
  memset(&s, 0, sizeof s);
  s.cfg = &r->config;
  s.opts = opts;
  s.r = r;
  zn_status st = ZN_OK;
  zn_bench_machine_probe(&r->machine);
  r->memory_cap_bytes = zn_bench_config_memory_cap(cfg);
  r->start_ns = zn_now_ns();
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(r->started_at, sizeof r->started_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
  st = open_data(&s);
  if (st != ZN_OK) goto fail;
  if (cfg->monitor) {
    zn_monitor_options mo = zn_monitor_options_default();
    mo.interval_ms = (uint32_t)cfg->monitor_interval_ms;
    mo.overwrite_oldest = true;
    st = zn_monitor_create(&mo, &r->monitor);
    if (st != ZN_OK) goto fail;
    s.stats = zn_calloc(zn_monitor_num_channels(r->monitor) + 1, sizeof *s.stats);
    if (!s.stats) { st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to run bench: out of memory"); goto fail; }
    st = zn_monitor_start(r->monitor);
    if (st != ZN_OK) goto fail;
  }
  find_channels(&s);
  for (int w = 0; w < cfg->num_workloads && !r->interrupted; w++) {
    st = run_workload(&s, w);
    if (st != ZN_OK) {
      if (s.total_windows == 0) goto fail; /* nothing measured: a plain error */
      snprintf(r->failure, sizeof r->failure, "%s", zn_last_error());
      st = ZN_OK;
      break;
    }
  }
  if (opts->progress) fprintf(opts->progress, "\n");
  if (r->monitor) zn_monitor_stop(r->monitor);
  r->end_ns = zn_now_ns();
  goto out;
fail:
  if (r->monitor) zn_monitor_stop(r->monitor);
  {
    /* keep the message across the cleanup below */
    char msg[ZN_ERROR_MAX];
    snprintf(msg, sizeof msg, "%s", zn_last_error());
    zn_bench_results_destroy(r);
    r = NULL;
    zn_error(st, "%s", msg);
  }
out:
  for (int i = 0; i < s.num_loaded; i++) zn_loaded_set_destroy(s.loaded[i]);
  zn_dataset_destroy(s.dataset);
  zn_free(s.stats);
  zn_free(s.latencies);
  zn_free(s.rep_lat);
  *results_out = r;
  return st;
}
