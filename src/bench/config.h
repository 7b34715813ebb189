/* The benchmark configuration: an INI file (parsed with inih), overridden by
 * command-line settings, every key checked and documented in
 * docs/bench-config.md. Errors name where the bad value came from
 * ("bench.ini:12: unknown key 'batchsize' in [run]", "--set run.batch=0: ...").
 * zn_bench_config_check() then catches impossible combinations before any
 * model is loaded. */
#ifndef ZN_BENCH_CONFIG_H
#define ZN_BENCH_CONFIG_H

#include "core/common.h"

#define ZN_BENCH_MAX_LIST 32        /* entries in a list key (batch sizes, levels, threads, models) */
#define ZN_BENCH_MAX_PARTS 8        /* models in one mix */
#define ZN_BENCH_MAX_CPUS 1024
#define ZN_BENCH_MAX_INSTANCES 1024 /* concurrent instances in one configuration */
#define ZN_BENCH_MAX_BATCH 4096
#define ZN_BENCH_MAX_THREADS 256
#define ZN_BENCH_TEXT_MAX 512       /* model names, paths */
#define ZN_BENCH_ORIGIN_MAX 128
#define ZN_BENCH_MAX_ACCURACY_IMAGES 100000 /* accuracy_images */

typedef enum zn_bench_scenario { ZN_BENCH_OFFLINE = 0, ZN_BENCH_SINGLE_STREAM = 1 } zn_bench_scenario;
typedef enum zn_bench_data_source { ZN_BENCH_DATA_SYNTHETIC = 0, ZN_BENCH_DATA_FOLDER, ZN_BENCH_DATA_IMAGENET } zn_bench_data_source;

/* One model of a workload and how many instances of it one concurrency step adds. */
typedef struct zn_bench_part {
  char model[ZN_BENCH_TEXT_MAX];   /* zoo name or path to an .onnx file */
  int count;
} zn_bench_part;

/* What runs at concurrency level 1: one model (an entry of `models`) or a mix
 * (`mix = mobilenet_v2*3, inception_v3*1`). Level L runs L x every count. */
typedef struct zn_bench_workload {
  char label[ZN_BENCH_TEXT_MAX];
  int num_parts;
  zn_bench_part parts[ZN_BENCH_MAX_PARTS];
} zn_bench_workload;

typedef struct zn_bench_config {
  char source[ZN_BENCH_TEXT_MAX];  /* the config file, or "(built-in)" */

  /* [model] */
  int num_workloads;
  zn_bench_workload workloads[ZN_BENCH_MAX_LIST];
  char backend[32];                /* "auto", "ref", "onednn", "xnnpack" */
  zn_precision precision;
  uint64_t seed;                   /* zoo weights and synthetic data */
  int64_t accuracy_images;         /* bf16: images checked against the fp32 model before the windows; 0: off */

  /* [device] */
  int num_cpus;                    /* 0: all CPUs this process may use */
  int cpus[ZN_BENCH_MAX_CPUS];
  bool pin;
  int num_threads_list;
  int threads[ZN_BENCH_MAX_LIST];  /* compute threads per instance */

  /* [run] */
  zn_bench_scenario scenario;
  int num_batches_list;
  int64_t batch_sizes[ZN_BENCH_MAX_LIST];
  bool concurrency_sweep;
  int num_levels;
  int levels[ZN_BENCH_MAX_LIST];
  int max_concurrency;             /* sweep ceiling */
  int64_t warmup_batches;          /* per instance, before the first window of a configuration */
  int64_t batches;                 /* per instance per window; 0 when duration_ms is used */
  int64_t duration_ms;             /* window length; 0 when batches is used */
  int repetitions;                 /* windows per configuration (the maximum with a stability rule) */
  double stability_pct;            /* 0: off; else stop when the last stability_windows agree within +-pct */
  int stability_windows;
  double disturbed_cpu_pct;        /* flag a window when other processes used more than this % of one core */
  double memory_cap_fraction;      /* of MemAvailable at start; used when memory_cap_bytes == 0 */
  uint64_t memory_cap_bytes;

  /* [data] */
  zn_bench_data_source data_source;
  char data_path[ZN_BENCH_TEXT_MAX];
  char labels_path[ZN_BENCH_TEXT_MAX];
  bool preprocess_in_timing;
  bool bad_image_skip;
  int64_t max_images;
  int loader_threads;

  /* [output] */
  char output_folder[ZN_BENCH_TEXT_MAX];
  char output_name[128];           /* files are <folder>/<name>.csv and .json */
  bool json_samples;               /* monitor samples in the JSON */

  /* [monitor] */
  bool monitor;
  int64_t monitor_interval_ms;

  /* where each key was last set ("bench.ini:12", "--set", "default"), by key index */
  char origin[64][ZN_BENCH_ORIGIN_MAX];
} zn_bench_config;

/* Defaults for everything (no workloads yet). */
ZN_INTERNAL void zn_bench_config_init(zn_bench_config *cfg);

/* The built-in default: mobilenet_v2 on the bundled images (images_folder),
 * batch 1 and 8, concurrency 1 and 2, a few short windows. */
ZN_INTERNAL void zn_bench_config_init_default(zn_bench_config *cfg, const char *images_folder);

/* Read an INI file over the current values. ZN_ERR_IO when it cannot be read,
 * ZN_ERR_INVALID_CONFIG with "<file>:<line>: ..." otherwise. */
ZN_INTERNAL zn_status zn_bench_config_load(zn_bench_config *cfg, const char *path);

/* Set one key, checked as in a file. origin names the source in messages
 * ("--set", "bench.ini:12"). */
ZN_INTERNAL zn_status zn_bench_config_set(zn_bench_config *cfg, const char *section, const char *key,
                                          const char *value, const char *origin);

/* "section.key=value" from the command line. */
ZN_INTERNAL zn_status zn_bench_config_set_arg(zn_bench_config *cfg, const char *assignment, const char *origin);

/* Cross-key and environment checks before any work: models exist, data
 * folders exist, CPUs exist, level x mix <= ZN_BENCH_MAX_INSTANCES, scenario
 * rules. ZN_ERR_INVALID_CONFIG naming the key's origin. */
ZN_INTERNAL zn_status zn_bench_config_check(const zn_bench_config *cfg);

/* The memory cap in bytes for this machine now (fraction of MemAvailable, or
 * the fixed cap). 0 when /proc/meminfo cannot be read and no fixed cap. */
ZN_INTERNAL uint64_t zn_bench_config_memory_cap(const zn_bench_config *cfg);

/* Where section.key was last set ("bench.ini:12", "--set ...", "default"). */
ZN_INTERNAL const char *zn_bench_config_origin(const zn_bench_config *cfg, const char *section, const char *key);

/* Write the effective configuration back as INI text (reproducible). Returns
 * the full length like snprintf. */
ZN_INTERNAL size_t zn_bench_config_format(const zn_bench_config *cfg, char *buf, size_t buf_size);

/* Parse a CPU list "0-3,6" into cpus (max entries). Returns the count or -1. */
ZN_INTERNAL int zn_bench_parse_cpus(const char *text, int *cpus, int max);

#endif
