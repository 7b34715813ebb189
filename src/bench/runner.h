/* The benchmark runner: for each configuration (workload x threads x batch x
 * concurrency level) it runs repetitions of one common measurement window on
 * a zn_group while the monitor samples in the background, and collects one
 * row per repetition plus a summary per configuration and per concurrency
 * sweep. report.c writes them (CSV, JSON, table); analyze.c reads them back. */
#ifndef ZN_BENCH_RUNNER_H
#define ZN_BENCH_RUNNER_H

#include <signal.h>
#include <stdio.h>

#include "bench/accuracy.h"
#include "bench/config.h"
#include "bench/stats.h"
#include "core/time.h"

/* One repetition: one CSV row. NaN marks a metric the machine lacks. */
typedef struct zn_bench_rep {
  int point;                   /* index of its configuration */
  int rep;                     /* 0-based within the configuration */
  double window_s;
  int64_t batches;             /* all instances */
  int64_t inferences;          /* eq. 3.1: instances x batch x batches */
  double throughput;           /* inferences / window_s */
  double part_throughput[ZN_BENCH_MAX_PARTS];
  double latency_p50_ms, latency_p90_ms, latency_p99_ms, latency_mean_ms;
  double cpu_pct;              /* mean total CPU %, all cores */
  double self_cpu_cores;       /* this process, mean cores busy */
  double rss_bytes, rss_peak_bytes, mem_used_bytes;
  double power_w, energy_j, energy_per_inference_j;
  double io_Bps;               /* disk read + write */
  double other_cpu_s;          /* CPU-seconds of other processes in the window */
  bool disturbed;
  uint32_t num_samples;        /* monitor samples inside the window */
  zn_time_ns open_ns, close_ns;
} zn_bench_rep;

/* One configuration. */
typedef struct zn_bench_point {
  int workload;                /* index into the config's workloads */
  int64_t batch;
  int level;                   /* concurrency level (multiplies the mix counts) */
  int instances;
  int threads;
  int first_rep, num_reps;
  bool stable;                 /* stopped early by the stability rule */
  zn_stats_summary throughput;
  double part_throughput_median[ZN_BENCH_MAX_PARTS];
  double latency_p50_ms, latency_p90_ms, latency_p99_ms;  /* over every batch of every repetition */
  double cpu_pct_mean, rss_peak_bytes, power_w_mean, energy_per_inference_j;
  int num_disturbed;
  size_t instance_bytes;       /* arenas + I/O of the group */
  size_t weight_bytes;         /* packed weights of the workload's models (shared) */
} zn_bench_point;

/* One concurrency sweep (thesis 4.2.1 questions 2 and 3). */
typedef struct zn_bench_sweep {
  int workload;
  int64_t batch;
  int threads;
  int best_level;
  double best_throughput;      /* median */
  int max_level;               /* highest level that ran */
  char stop_reason[512];
} zn_bench_sweep;

typedef struct zn_bench_machine {
  char cpu_model[128];
  int cores;                   /* online CPUs */
  uint64_t mem_total_bytes, mem_available_bytes;
  char kernel[128];
  char governor[64];           /* "absent" when cpufreq is not exposed */
  char huge_pages[16];         /* transparent huge pages mode: "always", "madvise", "never"; "absent" */
  char hostname[64];
} zn_bench_machine;

/* bf16 workloads: one model's accuracy against its fp32 model, checked once
 * per distinct model before its first window (accuracy_images > 0). */
typedef struct zn_bench_accuracy_row {
  int workload;                /* first workload that ran the model */
  char model[ZN_BENCH_TEXT_MAX];
  bool real_images;            /* images from the data loader; false: seeded N(0,1) inputs */
  zn_bench_accuracy acc;
} zn_bench_accuracy_row;

typedef struct zn_bench_results {
  zn_bench_config config;
  zn_bench_machine machine;
  char backend[32];            /* resolved */
  uint64_t memory_cap_bytes;
  zn_bench_rep *reps;
  size_t num_reps, cap_reps;
  zn_bench_point *points;
  size_t num_points, cap_points;
  zn_bench_sweep *sweeps;
  size_t num_sweeps, cap_sweeps;
  zn_bench_accuracy_row *accuracy;
  size_t num_accuracy, cap_accuracy;
  bool interrupted;
  char failure[1024];          /* why the run ended early ("" when it did not) */
  struct zn_monitor *monitor;  /* owned; NULL when disabled */
  zn_time_ns start_ns, end_ns;
  char started_at[32];         /* ISO 8601 UTC */
} zn_bench_results;

typedef struct zn_bench_run_options {
  FILE *progress;              /* progress lines (NULL: none); the CLI passes stderr when isatty(2) */
  FILE *log;                   /* notes such as skipped images (NULL: none) */
  FILE *accuracy;              /* one line per model checked against fp32 (bf16; NULL: none); the CLI passes stdout */
} zn_bench_run_options;

/* Run every configuration. Configuration errors (checked first) and failures
 * before the first window return an error and no results. Once windows have
 * run, failures and SIGINT end the run early and still return ZN_OK with the
 * results gathered (results->failure / results->interrupted say why). */
ZN_INTERNAL zn_status zn_bench_run(const zn_bench_config *cfg, const zn_bench_run_options *opts,
                                   zn_bench_results **results_out);
ZN_INTERNAL void zn_bench_results_destroy(zn_bench_results *r);

/* SIGINT: the handler only sets a flag; the runner stops after the current
 * window. install() is idempotent; restore() puts the previous handler back. */
ZN_INTERNAL zn_status zn_bench_sigint_install(void);
ZN_INTERNAL void zn_bench_sigint_restore(void);
ZN_INTERNAL bool zn_bench_interrupt_requested(void);
ZN_INTERNAL void zn_bench_interrupt_clear(void);

ZN_INTERNAL void zn_bench_machine_probe(zn_bench_machine *m);

/* ---- report.c ---- */
/* <folder>/<name>.csv, .json and .ini (the effective configuration); creates the folder. */
ZN_INTERNAL zn_status zn_bench_write_results(const zn_bench_results *r, char *csv_path_out, char *json_path_out,
                                             size_t path_size);
ZN_INTERNAL zn_status zn_bench_write_csv(const zn_bench_results *r, const char *path);
ZN_INTERNAL zn_status zn_bench_write_json(const zn_bench_results *r, const char *path);
ZN_INTERNAL void zn_bench_print_table(const zn_bench_results *r, FILE *f);
/* Columns of the CSV, in order (documented in docs/bench-config.md). */
ZN_INTERNAL const char *zn_bench_csv_header(void);
/* The shortest text (%.15g..%.17g) that reads back as exactly v (finite):
 * how the CSV and the JSON write every number, so both carry the same doubles. */
#define ZN_BENCH_NUM_TEXT 32
ZN_INTERNAL void zn_bench_format_double(char *buf, size_t size, double v);

/* ---- analyze.c: thesis Figure 4.5 ---- */
#define ZN_ANALYZE_MAX_FACTORS 8
typedef struct zn_bench_correlation {
  const char *factor;          /* "batch", "cpu_pct", "memory", "power", "io" */
  double r;                    /* NaN when absent or undefined */
  size_t n;                    /* pairs behind r */
  const char *note;            /* "absent" / "constant" / "too few samples" / NULL */
} zn_bench_correlation;

/* Read a results CSV or JSON (by content) and correlate throughput with each
 * factor across its repetitions. */
ZN_INTERNAL zn_status zn_bench_analyze_file(const char *path, zn_bench_correlation *out, size_t *num_out,
                                            size_t *num_rows_out);
ZN_INTERNAL zn_status zn_bench_analyze_write_json(const char *path, const char *source, const zn_bench_correlation *c,
                                                  size_t n, size_t num_rows);

#endif
