/* Result files of a bench run: a CSV with one row per configuration x
 * repetition, a JSON (cJSON) with the configuration, machine, summaries,
 * sweeps and monitor samples, the effective configuration as INI (enough to
 * rerun it), and a readable table. Absent metrics are empty CSV fields and
 * JSON nulls, never zeros; every number is written as the shortest text that
 * reads back as the same double, identically in the CSV and the JSON. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench/runner.h"
#include "core/alloc.h"
#include "core/status.h"
#include "monitor/monitor.h"

static const char *csv_columns =
    "workload,models,backend,scenario,batch,concurrency,instances,threads,rep,window_s,batches,inferences,"
    "throughput,per_model_throughput,latency_p50_ms,latency_p90_ms,latency_p99_ms,latency_mean_ms,cpu_pct,"
    "self_cpu_cores,rss_bytes,rss_peak_bytes,mem_used_bytes,power_w,energy_j,energy_per_inference_j,io_Bps,"
    "other_cpu_s,disturbed,monitor_samples";

const char *zn_bench_csv_header(void) { return csv_columns; }

static const char *scenario_name(zn_bench_scenario s) { return s == ZN_BENCH_OFFLINE ? "offline" : "single-stream"; }

/* Shortest of %.15g..%.17g that strtod reads back as exactly v. Both files
 * use it, so `zenith analyze` sees the same doubles in either. (cJSON's own
 * printer keeps 15 digits whenever they read back within one DBL_EPSILON of
 * v, i.e. it moves values by an ulp or two: a saturated cpu_pct of
 * 99.999999999999986 became 100 in the JSON only, and Pearson's r of such a
 * near-constant factor then differed between the CSV and the JSON.) */
void zn_bench_format_double(char *buf, size_t size, double v) {
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, size, "%.*g", prec, v);
    if (strtod(buf, NULL) == v) return;
  }
}

static void csv_num(FILE *f, double v) {
  char buf[ZN_BENCH_NUM_TEXT];
  if (!isfinite(v)) { fputs(",", f); return; }
  zn_bench_format_double(buf, sizeof buf, v);
  fprintf(f, ",%s", buf);
}

/* Model names may contain commas (paths): quote them CSV-style. */
static void csv_text(FILE *f, const char *s) {
  if (!strpbrk(s, ",\"\n")) { fputs(s, f); return; }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"') fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

zn_status zn_bench_write_csv(const zn_bench_results *r, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return zn_error(ZN_ERR_IO, "failed to write %s: %s", path, strerror(errno));
  fprintf(f, "%s\n", csv_columns);
  const zn_bench_config *c = &r->config;
  for (size_t i = 0; i < r->num_reps; i++) {
    const zn_bench_rep *row = &r->reps[i];
    const zn_bench_point *pt = &r->points[row->point];
    const zn_bench_workload *wl = &c->workloads[pt->workload];
    csv_text(f, wl->label);
    fputc(',', f);
    char models[2048] = "";
    size_t used = 0;
    for (int p = 0; p < wl->num_parts && used < sizeof models; p++)
      used += (size_t)snprintf(models + used, sizeof models - used, "%s%s*%d", p ? ";" : "", wl->parts[p].model,
                               wl->parts[p].count * pt->level);
    csv_text(f, models);
    fprintf(f, ",%s,%s,%lld,%d,%d,%d,%d", r->backend, scenario_name(c->scenario), (long long)pt->batch, pt->level,
            pt->instances, pt->threads, row->rep);
    csv_num(f, row->window_s);
    fprintf(f, ",%lld,%lld", (long long)row->batches, (long long)row->inferences);
    csv_num(f, row->throughput);
    fputc(',', f);
    char parts[2048] = "";
    used = 0;
    for (int p = 0; p < wl->num_parts && used < sizeof parts; p++) {
      char num[ZN_BENCH_NUM_TEXT] = "";
      if (isfinite(row->part_throughput[p])) zn_bench_format_double(num, sizeof num, row->part_throughput[p]);
      used += (size_t)snprintf(parts + used, sizeof parts - used, "%s%s=%s", p ? ";" : "", wl->parts[p].model, num);
    }
    csv_text(f, parts);
    csv_num(f, row->latency_p50_ms);
    csv_num(f, row->latency_p90_ms);
    csv_num(f, row->latency_p99_ms);
    csv_num(f, row->latency_mean_ms);
    csv_num(f, row->cpu_pct);
    csv_num(f, row->self_cpu_cores);
    csv_num(f, row->rss_bytes);
    csv_num(f, row->rss_peak_bytes);
    csv_num(f, row->mem_used_bytes);
    csv_num(f, row->power_w);
    csv_num(f, row->energy_j);
    csv_num(f, row->energy_per_inference_j);
    csv_num(f, row->io_Bps);
    csv_num(f, row->other_cpu_s);
    fprintf(f, ",%d,%u\n", row->disturbed ? 1 : 0, row->num_samples);
  }
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) return zn_error(ZN_ERR_IO, "failed to write %s: %s", path, strerror(errno));
  return ZN_OK;
}

/* ---- JSON ---- */

/* A raw item carrying zn_bench_format_double's text (see there why not cJSON_CreateNumber). */
static cJSON *num_or_null(double v) {
  if (!isfinite(v)) return cJSON_CreateNull();
  char buf[ZN_BENCH_NUM_TEXT];
  zn_bench_format_double(buf, sizeof buf, v);
  return cJSON_CreateRaw(buf);
}
static void add_num(cJSON *o, const char *k, double v) { cJSON_AddItemToObject(o, k, num_or_null(v)); }

static cJSON *summary_json(const zn_stats_summary *s) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  add_num(o, "count", (double)s->count);
  add_num(o, "median", s->median);
  add_num(o, "mean", s->mean);
  add_num(o, "stddev", s->stddev);
  add_num(o, "ci95_half", s->ci95_half);
  add_num(o, "cv", s->cv);
  add_num(o, "min", s->min);
  add_num(o, "max", s->max);
  return o;
}

static cJSON *rep_json(const zn_bench_results *r, const zn_bench_rep *row) {
  const zn_bench_point *pt = &r->points[row->point];
  const zn_bench_workload *wl = &r->config.workloads[pt->workload];
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  add_num(o, "rep", row->rep);
  add_num(o, "window_s", row->window_s);
  add_num(o, "batches", (double)row->batches);
  add_num(o, "inferences", (double)row->inferences);
  add_num(o, "throughput", row->throughput);
  cJSON *parts = cJSON_AddObjectToObject(o, "per_model_throughput");
  for (int p = 0; parts && p < wl->num_parts; p++) add_num(parts, wl->parts[p].model, row->part_throughput[p]);
  add_num(o, "latency_p50_ms", row->latency_p50_ms);
  add_num(o, "latency_p90_ms", row->latency_p90_ms);
  add_num(o, "latency_p99_ms", row->latency_p99_ms);
  add_num(o, "latency_mean_ms", row->latency_mean_ms);
  add_num(o, "cpu_pct", row->cpu_pct);
  add_num(o, "self_cpu_cores", row->self_cpu_cores);
  add_num(o, "rss_bytes", row->rss_bytes);
  add_num(o, "rss_peak_bytes", row->rss_peak_bytes);
  add_num(o, "mem_used_bytes", row->mem_used_bytes);
  add_num(o, "power_w", row->power_w);
  add_num(o, "energy_j", row->energy_j);
  add_num(o, "energy_per_inference_j", row->energy_per_inference_j);
  add_num(o, "io_Bps", row->io_Bps);
  add_num(o, "other_cpu_s", row->other_cpu_s);
  cJSON_AddBoolToObject(o, "disturbed", row->disturbed);
  add_num(o, "monitor_samples", row->num_samples);
  add_num(o, "open_s", (double)(row->open_ns - r->start_ns) * 1e-9);
  add_num(o, "close_s", (double)(row->close_ns - r->start_ns) * 1e-9);
  return o;
}

static cJSON *point_json(const zn_bench_results *r, const zn_bench_point *pt) {
  const zn_bench_workload *wl = &r->config.workloads[pt->workload];
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "workload", wl->label);
  cJSON *models = cJSON_AddArrayToObject(o, "models");
  for (int p = 0; models && p < wl->num_parts; p++) {
    cJSON *m = cJSON_CreateObject();
    if (!m) break;
    cJSON_AddStringToObject(m, "model", wl->parts[p].model);
    add_num(m, "instances", wl->parts[p].count * pt->level);
    add_num(m, "throughput_median", pt->part_throughput_median[p]);
    cJSON_AddItemToArray(models, m);
  }
  add_num(o, "batch", (double)pt->batch);
  add_num(o, "concurrency", pt->level);
  add_num(o, "instances", pt->instances);
  add_num(o, "threads", pt->threads);
  add_num(o, "repetitions", pt->num_reps);
  cJSON_AddBoolToObject(o, "stopped_by_stability_rule", pt->stable);
  cJSON_AddItemToObject(o, "throughput", summary_json(&pt->throughput));
  cJSON *lat = cJSON_AddObjectToObject(o, "latency_ms");
  if (lat) {
    add_num(lat, "p50", pt->latency_p50_ms);
    add_num(lat, "p90", pt->latency_p90_ms);
    add_num(lat, "p99", pt->latency_p99_ms);
  }
  add_num(o, "cpu_pct_mean", pt->cpu_pct_mean);
  add_num(o, "rss_peak_bytes", pt->rss_peak_bytes);
  add_num(o, "power_w_mean", pt->power_w_mean);
  add_num(o, "energy_per_inference_j", pt->energy_per_inference_j);
  add_num(o, "disturbed_repetitions", pt->num_disturbed);
  add_num(o, "instance_bytes", (double)pt->instance_bytes);
  add_num(o, "weight_bytes", (double)pt->weight_bytes);
  cJSON *reps = cJSON_AddArrayToObject(o, "reps");
  for (int i = 0; reps && i < pt->num_reps; i++) cJSON_AddItemToArray(reps, rep_json(r, &r->reps[pt->first_rep + i]));
  return o;
}

static cJSON *monitor_json(const zn_bench_results *r) {
  zn_monitor *m = r->monitor;
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  add_num(o, "interval_ms", (double)r->config.monitor_interval_ms);
  size_t nch = zn_monitor_num_channels(m);
  cJSON *chs = cJSON_AddArrayToObject(o, "channels");
  for (size_t i = 0; chs && i < nch; i++) {
    const zn_monitor_channel *ch = zn_monitor_channel_at(m, i);
    cJSON *c = cJSON_CreateObject();
    if (!c) break;
    cJSON_AddStringToObject(c, "name", ch->name);
    cJSON_AddStringToObject(c, "unit", ch->unit);
    cJSON_AddStringToObject(c, "source", ch->source);
    cJSON_AddStringToObject(c, "kind", ch->kind == ZN_MONITOR_RATE ? "rate" : "gauge");
    cJSON_AddItemToArray(chs, c);
  }
  cJSON *srcs = cJSON_AddArrayToObject(o, "sources");
  for (size_t i = 0; srcs && i < zn_monitor_num_sources(m); i++) {
    const zn_monitor_source_info *si = zn_monitor_source(m, i);
    cJSON *c = cJSON_CreateObject();
    if (!c) break;
    cJSON_AddStringToObject(c, "probe", zn_monitor_probe_name(si->probe));
    cJSON_AddStringToObject(c, "name", si->name);
    cJSON_AddBoolToObject(c, "present", si->present);
    cJSON_AddStringToObject(c, "detail", si->detail);
    cJSON_AddItemToArray(srcs, c);
  }
  zn_monitor_overhead ov;
  zn_monitor_get_overhead(m, &ov);
  cJSON *ovj = cJSON_AddObjectToObject(o, "overhead");
  if (ovj) {
    add_num(ovj, "samples", (double)ov.num_samples);
    add_num(ovj, "thread_cpu_s", (double)ov.thread_cpu_ns * 1e-9);
    add_num(ovj, "thread_wall_s", (double)ov.thread_wall_ns * 1e-9);
  }
  add_num(o, "dropped_samples", (double)zn_monitor_num_dropped(m));
  if (!r->config.json_samples) return o;
  /* samples as columns: t_s plus one array per channel (compact, plot-ready) */
  size_t ns = zn_monitor_num_samples(m);
  double *vals = zn_malloc((nch ? nch : 1) * sizeof *vals);
  cJSON *samples = cJSON_AddObjectToObject(o, "samples");
  cJSON *t = samples ? cJSON_AddArrayToObject(samples, "t_s") : NULL;
  cJSON **cols = zn_calloc(nch ? nch : 1, sizeof *cols);
  if (vals && t && cols) {
    for (size_t c = 0; c < nch; c++) cols[c] = cJSON_AddArrayToObject(samples, zn_monitor_channel_at(m, c)->name);
    for (size_t i = 0; i < ns; i++) {
      zn_time_ns ts;
      if (zn_monitor_sample_get(m, i, &ts, vals) != ZN_OK) break;
      cJSON_AddItemToArray(t, cJSON_CreateNumber((double)(ts - r->start_ns) * 1e-9));
      for (size_t c = 0; c < nch; c++)
        if (cols[c]) cJSON_AddItemToArray(cols[c], num_or_null(vals[c]));
    }
  }
  zn_free(vals);
  zn_free(cols);
  return o;
}

static cJSON *results_json(const zn_bench_results *r) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  const zn_bench_config *c = &r->config;
  cJSON_AddStringToObject(root, "zenith_version", ZN_VERSION_STRING);
  cJSON_AddStringToObject(root, "started_at", r->started_at);
  add_num(root, "duration_s", (double)(r->end_ns - r->start_ns) * 1e-9);
  cJSON_AddBoolToObject(root, "interrupted", r->interrupted);
  if (r->failure[0]) cJSON_AddStringToObject(root, "failure", r->failure);
  else cJSON_AddNullToObject(root, "failure");
  cJSON *cfg = cJSON_AddObjectToObject(root, "config");
  if (cfg) {
    char *ini = NULL;
    size_t n = zn_bench_config_format(c, NULL, 0);
    ini = zn_malloc(n + 1);
    if (ini) {
      zn_bench_config_format(c, ini, n + 1);
      cJSON_AddStringToObject(cfg, "ini", ini);
      zn_free(ini);
    }
    cJSON_AddStringToObject(cfg, "source", c->source);
    cJSON_AddStringToObject(cfg, "backend", r->backend);
    cJSON_AddStringToObject(cfg, "scenario", scenario_name(c->scenario));
    add_num(cfg, "repetitions", c->repetitions);
    add_num(cfg, "batches", (double)c->batches);
    add_num(cfg, "duration_ms", (double)c->duration_ms);
    add_num(cfg, "warmup_batches", (double)c->warmup_batches);
    cJSON_AddBoolToObject(cfg, "preprocess_in_timing", c->preprocess_in_timing);
    add_num(cfg, "memory_cap_bytes", (double)r->memory_cap_bytes);
  }
  cJSON *mach = cJSON_AddObjectToObject(root, "machine");
  if (mach) {
    cJSON_AddStringToObject(mach, "cpu_model", r->machine.cpu_model);
    add_num(mach, "cores", r->machine.cores);
    add_num(mach, "mem_total_bytes", (double)r->machine.mem_total_bytes);
    add_num(mach, "mem_available_bytes", (double)r->machine.mem_available_bytes);
    cJSON_AddStringToObject(mach, "kernel", r->machine.kernel);
    cJSON_AddStringToObject(mach, "governor", r->machine.governor);
    cJSON_AddStringToObject(mach, "transparent_huge_pages", r->machine.huge_pages);
    cJSON_AddStringToObject(mach, "hostname", r->machine.hostname);
  }
  cJSON *pts = cJSON_AddArrayToObject(root, "configurations");
  for (size_t i = 0; pts && i < r->num_points; i++) cJSON_AddItemToArray(pts, point_json(r, &r->points[i]));
  cJSON *sws = cJSON_AddArrayToObject(root, "sweeps");
  for (size_t i = 0; sws && i < r->num_sweeps; i++) {
    const zn_bench_sweep *sw = &r->sweeps[i];
    cJSON *o = cJSON_CreateObject();
    if (!o) break;
    cJSON_AddStringToObject(o, "workload", c->workloads[sw->workload].label);
    add_num(o, "batch", (double)sw->batch);
    add_num(o, "threads", sw->threads);
    add_num(o, "best_level", sw->best_level);
    add_num(o, "best_throughput", sw->best_throughput);
    add_num(o, "max_level", sw->max_level);
    cJSON_AddStringToObject(o, "stop_reason", sw->stop_reason);
    cJSON_AddItemToArray(sws, o);
  }
  cJSON *accs = cJSON_AddArrayToObject(root, "accuracy");
  for (size_t i = 0; accs && i < r->num_accuracy; i++) {
    const zn_bench_accuracy_row *a = &r->accuracy[i];
    cJSON *o = cJSON_CreateObject();
    if (!o) break;
    cJSON_AddStringToObject(o, "workload", c->workloads[a->workload].label);
    cJSON_AddStringToObject(o, "model", a->model);
    cJSON_AddStringToObject(o, "precision", "bf16");
    cJSON_AddStringToObject(o, "reference", "fp32");
    cJSON_AddStringToObject(o, "inputs", a->real_images ? "images" : "synthetic");
    add_num(o, "images", (double)a->acc.num_images);
    add_num(o, "classes", (double)a->acc.num_classes);
    add_num(o, "max_rel_err", a->acc.max_rel_err);
    add_num(o, "top1_agreement", zn_bench_accuracy_top1(&a->acc));
    add_num(o, "top5_agreement", zn_bench_accuracy_top5(&a->acc));
    cJSON_AddItemToArray(accs, o);
  }
  if (r->monitor) cJSON_AddItemToObject(root, "monitor", monitor_json(r));
  else cJSON_AddNullToObject(root, "monitor");
  return root;
}

zn_status zn_bench_write_json(const zn_bench_results *r, const char *path) {
  cJSON *root = results_json(r);
  char *text = root ? cJSON_Print(root) : NULL;
  cJSON_Delete(root);
  if (!text) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to write %s: out of memory building JSON", path);
  FILE *f = fopen(path, "w");
  if (!f) {
    cJSON_free(text);
    return zn_error(ZN_ERR_IO, "failed to write %s: %s", path, strerror(errno));
  }
  size_t len = strlen(text);
  size_t w = fwrite(text, 1, len, f);
  fputc('\n', f);
  cJSON_free(text);
  if (fclose(f) != 0 || w != len) return zn_error(ZN_ERR_IO, "failed to write %s: %s", path, strerror(errno));
  return ZN_OK;
}

static zn_status make_dirs(const char *path) {
  char buf[ZN_BENCH_TEXT_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; ; p++) {
    char c = *p;
    if (c == '/' || c == '\0') {
      *p = '\0';
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return zn_error(ZN_ERR_IO, "failed to create output folder %s: %s", buf, strerror(errno));
      *p = c;
      if (c == '\0') break;
    }
  }
  return ZN_OK;
}

zn_status zn_bench_write_results(const zn_bench_results *r, char *csv_path_out, char *json_path_out, size_t path_size) {
  const zn_bench_config *c = &r->config;
  ZN_TRY(make_dirs(c->output_folder));
  char csv[1024], json[1024], ini[1024];
  snprintf(csv, sizeof csv, "%s/%s.csv", c->output_folder, c->output_name);
  snprintf(json, sizeof json, "%s/%s.json", c->output_folder, c->output_name);
  snprintf(ini, sizeof ini, "%s/%s.ini", c->output_folder, c->output_name);
  ZN_TRY(zn_bench_write_csv(r, csv));
  ZN_TRY(zn_bench_write_json(r, json));
  size_t n = zn_bench_config_format(c, NULL, 0);
  char *text = zn_malloc(n + 1);
  if (!text) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to write %s: out of memory", ini);
  zn_bench_config_format(c, text, n + 1);
  FILE *f = fopen(ini, "w");
  zn_status st = ZN_OK;
  if (!f || fputs(text, f) < 0) st = zn_error(ZN_ERR_IO, "failed to write %s: %s", ini, strerror(errno));
  if (f && fclose(f) != 0 && st == ZN_OK) st = zn_error(ZN_ERR_IO, "failed to write %s: %s", ini, strerror(errno));
  zn_free(text);
  if (csv_path_out) snprintf(csv_path_out, path_size, "%s", csv);
  if (json_path_out) snprintf(json_path_out, path_size, "%s", json);
  return st;
}

/* ---- the table ---- */

static void fmt_num(char *buf, size_t n, const char *fmt, double v) {
  if (isfinite(v)) snprintf(buf, n, fmt, v);
  else snprintf(buf, n, "-");
}

void zn_bench_print_table(const zn_bench_results *r, FILE *f) {
  const zn_bench_config *c = &r->config;
  fprintf(f, "zenith %s bench: %s, backend %s, scenario %s, %s (%d cores), governor %s, THP %s\n", ZN_VERSION_STRING,
          c->source, r->backend, scenario_name(c->scenario), r->machine.cpu_model, r->machine.cores, r->machine.governor,
          r->machine.huge_pages);
  fprintf(f, "%-26s %5s %4s %4s %4s %12s %9s %6s %9s %9s %9s %6s %5s\n", "workload", "batch", "conc", "thr", "reps",
          "inf/s(med)", "+-95%CI", "CV%", "p50 ms", "p90 ms", "p99 ms", "CPU%", "dist");
  for (size_t i = 0; i < r->num_points; i++) {
    const zn_bench_point *pt = &r->points[i];
    char med[32], ci[32], cv[32], p50[32], p90[32], p99[32], cpu[32];
    fmt_num(med, sizeof med, "%.2f", pt->throughput.median);
    fmt_num(ci, sizeof ci, "%.2f", pt->throughput.ci95_half);
    fmt_num(cv, sizeof cv, "%.1f", pt->throughput.cv * 100);
    fmt_num(p50, sizeof p50, "%.2f", pt->latency_p50_ms);
    fmt_num(p90, sizeof p90, "%.2f", pt->latency_p90_ms);
    fmt_num(p99, sizeof p99, "%.2f", pt->latency_p99_ms);
    fmt_num(cpu, sizeof cpu, "%.0f", pt->cpu_pct_mean);
    fprintf(f, "%-26.26s %5lld %4d %4d %4d %12s %9s %6s %9s %9s %9s %6s %2d/%-2d\n", c->workloads[pt->workload].label,
            (long long)pt->batch, pt->level, pt->threads, pt->num_reps, med, ci, cv, p50, p90, p99, cpu,
            pt->num_disturbed, pt->num_reps);
    const zn_bench_workload *wl = &c->workloads[pt->workload];
    if (wl->num_parts > 1)
      for (int p = 0; p < wl->num_parts; p++)
        fprintf(f, "    %-22.22s x%-4d %12.2f inf/s\n", wl->parts[p].model, wl->parts[p].count * pt->level,
                pt->part_throughput_median[p]);
    if (isfinite(pt->power_w_mean))
      fprintf(f, "    power %.2f W, %.4f J per inference\n", pt->power_w_mean, pt->energy_per_inference_j);
  }
  if (c->scenario == ZN_BENCH_SINGLE_STREAM)
    fprintf(f, "single-stream: the figure of merit is the p90 latency (MLPerf); inf/s = 1 / mean latency x batch\n");
  for (size_t i = 0; i < r->num_sweeps; i++) {
    const zn_bench_sweep *sw = &r->sweeps[i];
    fprintf(f, "sweep %s batch %lld threads %d: best concurrency %d (%.2f inf/s), maximum %d; stopped: %s\n",
            c->workloads[sw->workload].label, (long long)sw->batch, sw->threads, sw->best_level, sw->best_throughput,
            sw->max_level, sw->stop_reason);
  }
  if (r->interrupted) fprintf(f, "interrupted: results so far (%zu repetitions)\n", r->num_reps);
  if (r->failure[0]) fprintf(f, "stopped early: %s\n", r->failure);
  if (r->monitor)
    fprintf(f, "dist = repetitions where other processes used more than %g%% of a core (disturbed)\n", c->disturbed_cpu_pct);
}
