/* The system monitor: a background sampler thread that records time-stamped
 * samples of CPU, memory, power, thermal, I/O and GPU metrics into a buffer
 * preallocated at create time, and summarises any time window of them (the
 * bench asks for one summary per repetition). Threading, ownership and
 * shutdown are described in the DESIGN comment at the top of monitor.c.
 *
 * Metrics are "channels": one named scalar each ("cpu.total_pct",
 * "power.rapl.package-0_w"), fixed when the monitor is created. A source the
 * machine lacks gets NO channel (it is absent, never zero) and is listed by
 * zn_monitor_source() with the reason. A value that could not be read in one
 * sample, and the first sample of a rate channel, is NaN. */
#ifndef ZN_MONITOR_MONITOR_H
#define ZN_MONITOR_MONITOR_H

#include "core/common.h"
#include "core/time.h"

typedef enum zn_monitor_probe {
#define ZN_PROBE(ENUM, name) ZN_MONITOR_PROBE_##ENUM,
#include "monitor/probes.def"
#undef ZN_PROBE
  ZN_MONITOR_PROBE_COUNT
} zn_monitor_probe;

ZN_INTERNAL const char *zn_monitor_probe_name(zn_monitor_probe probe);

/* Channel names the bench looks up (zn_monitor_channel_find). */
#define ZN_MONITOR_CPU_TOTAL_PCT "cpu.total_pct"     /* all cores, 0..100 */
#define ZN_MONITOR_CPU_SELF_CORES "cpu.self_cores"   /* this process, CPU-seconds per second */
#define ZN_MONITOR_CPU_OTHER_CORES "cpu.other_cores" /* everything else (incl. steal) */
#define ZN_MONITOR_MEM_RSS "memory.rss_bytes"
#define ZN_MONITOR_MEM_RSS_PEAK "memory.rss_peak_bytes"
#define ZN_MONITOR_MEM_SYSTEM_USED "memory.system_used_bytes" /* MemTotal - MemAvailable */
#define ZN_MONITOR_POWER_TOTAL "power.total_w"                /* see docs/internals/monitor.md */
#define ZN_MONITOR_IO_DISK_READ "io.disk_read_Bps"
#define ZN_MONITOR_IO_DISK_WRITE "io.disk_write_Bps"

typedef struct zn_monitor_options {
  uint32_t interval_ms;     /* 0: 100 */
  uint32_t capacity;        /* samples kept; 0: 36000 (one hour at 100 ms) */
  const char *root;         /* prefix for /proc and /sys (tests point it at a fake
                             * tree); NULL or "": the real system. Copied, not kept. */
  uint32_t probes;          /* bit mask of 1u << ZN_MONITOR_PROBE_*; 0: all */
  bool overwrite_oldest;    /* when full: false (default) stops recording, true
                             * drops the oldest sample; both count num_dropped */
  int use_libsensors;       /* 0: auto (when built with it and root is the real
                             * system), 1: required if built with it, -1: never
                             * (read /sys/class/hwmon directly) */
  const char *nvml_library; /* NULL: "libnvidia-ml.so.1". Copied, not kept. */
} zn_monitor_options;

ZN_INTERNAL zn_monitor_options zn_monitor_options_default(void);

typedef enum zn_monitor_kind {
  ZN_MONITOR_GAUGE = 0, /* an instantaneous reading at the sample's time */
  ZN_MONITOR_RATE = 1   /* the mean over (previous sample, this sample] */
} zn_monitor_kind;

typedef struct zn_monitor_channel {
  char name[64];    /* "power.rapl.package-0_w" */
  char unit[8];     /* "%", "W", "A", "V", "C", "MHz", "B/s", "bytes", "cores" */
  char source[112]; /* where it comes from: "/sys/class/powercap/intel-rapl:0" */
  zn_monitor_probe probe;
  zn_monitor_kind kind;
} zn_monitor_channel;

/* One source a probe looked for, present or not, for the JSON report. */
typedef struct zn_monitor_source_info {
  zn_monitor_probe probe;
  char name[48]; /* "powercap/RAPL", "hwmon (libsensors)", "NVML" */
  bool present;
  char detail[160]; /* what was found, or why it is absent */
} zn_monitor_source_info;

typedef struct zn_monitor zn_monitor;

/** Open the probes, register the channels and allocate the sample buffer
 *  (capacity x channels). Starts no thread. *out = NULL on failure.
 *  ZN_ERR_INVALID_ARGUMENT: bad options; ZN_ERR_OUT_OF_MEMORY. */
ZN_INTERNAL zn_status zn_monitor_create(const zn_monitor_options *options, zn_monitor **out);
/** Stops the sampler if running, closes the probes. NULL is a no-op. */
ZN_INTERNAL void zn_monitor_destroy(zn_monitor *m);

/** Start the sampler thread: it takes one sample at once, then one every
 *  interval. ZN_ERR_INVALID_STATE if already running. */
ZN_INTERNAL zn_status zn_monitor_start(zn_monitor *m);
/** Wake and join the sampler thread (returns within one sample's reading
 *  time). Samples stay readable. A no-op if not running. */
ZN_INTERNAL zn_status zn_monitor_stop(zn_monitor *m);
/** Take one sample now on the calling thread (monitor not running). */
ZN_INTERNAL zn_status zn_monitor_sample_now(zn_monitor *m);
/** As sample_now with a given timestamp (monotonic ns, later than the last
 *  sample's): lets tests drive rate channels with known time steps. */
ZN_INTERNAL zn_status zn_monitor_sample_at(zn_monitor *m, zn_time_ns t_ns);
/** Record a labelled instant (copied, up to 63 bytes) on zn_now_ns()'s clock;
 *  up to 1024 marks, ZN_ERR_BUSY after. Any thread. */
ZN_INTERNAL zn_status zn_monitor_mark(zn_monitor *m, const char *label);
ZN_INTERNAL size_t zn_monitor_num_marks(zn_monitor *m);
/** label_out borrowed from m, valid until destroy. */
ZN_INTERNAL zn_status zn_monitor_get_mark(zn_monitor *m, size_t i, zn_time_ns *t_out, const char **label_out);

/* ---- channels and sources (fixed after create; no lock needed) ---- */
ZN_INTERNAL size_t zn_monitor_num_channels(const zn_monitor *m);
/** Borrowed from m, valid until destroy. NULL if i is out of range. */
ZN_INTERNAL const zn_monitor_channel *zn_monitor_channel_at(const zn_monitor *m, size_t i);
/** Index of the channel with this name, or -1 when absent. */
ZN_INTERNAL int zn_monitor_channel_find(const zn_monitor *m, const char *name);
ZN_INTERNAL size_t zn_monitor_num_sources(const zn_monitor *m);
ZN_INTERNAL const zn_monitor_source_info *zn_monitor_source(const zn_monitor *m, size_t i);
/** Whether any channel of this probe is present. */
ZN_INTERNAL bool zn_monitor_probe_present(const zn_monitor *m, zn_monitor_probe probe);

/* ---- samples (safe while the sampler runs: each call takes the lock) ---- */
ZN_INTERNAL size_t zn_monitor_num_samples(zn_monitor *m);
/** Samples that could not be kept because the buffer was full. */
ZN_INTERNAL uint64_t zn_monitor_num_dropped(zn_monitor *m);
/** Copy sample i (0 = oldest kept): its time and num_channels values
 *  (values_out may be NULL; it must hold num_channels doubles). */
ZN_INTERNAL zn_status zn_monitor_sample_get(zn_monitor *m, size_t i, zn_time_ns *t_out, double *values_out);

typedef struct zn_monitor_stat {
  double mean;         /* gauge: mean of the readings in the window; rate:
                        * time-weighted mean over the covered part of it */
  double min, max;     /* the peak is max */
  double integral;     /* value x seconds over the window: J for W channels,
                        * CPU-seconds for "cores" channels */
  uint32_t num_values; /* values (not NaN) that contributed; 0: all NaN */
} zn_monitor_stat;

typedef struct zn_monitor_summary {
  zn_time_ns t0_ns, t1_ns;
  uint32_t num_samples; /* samples with t0 <= t <= t1 */
  double other_cpu_s;   /* CPU-seconds used by other processes; NaN if absent */
  double self_cpu_s;    /* CPU-seconds of this process; NaN if absent */
  double energy_j;      /* integral of power.total_w; NaN if absent */
  double power_mean_w;  /* mean of power.total_w; NaN if absent */
} zn_monitor_summary;

/** Summarise [t0_ns, t1_ns] (zn_now_ns() clock). stats (may be NULL) must
 *  hold num_stats >= num_channels entries, one per channel. A rate value
 *  counts for the part of its interval inside the window; gauges are
 *  integrated piecewise-linearly. ZN_ERR_INVALID_ARGUMENT if t1 < t0. */
ZN_INTERNAL zn_status zn_monitor_summarize(zn_monitor *m, zn_time_ns t0_ns, zn_time_ns t1_ns, zn_monitor_summary *out,
                                           zn_monitor_stat *stats, size_t num_stats);

/* ---- the sampler's own cost ---- */
typedef struct zn_monitor_overhead {
  uint64_t num_samples;        /* samples taken by the thread (kept or dropped) */
  int64_t sample_cpu_ns_total; /* CLOCK_THREAD_CPUTIME_ID spent reading probes */
  int64_t sample_cpu_ns_max;
  int64_t thread_cpu_ns;  /* the thread's whole CPU time (incl. waking) */
  int64_t thread_wall_ns; /* from start to stop (or now) */
} zn_monitor_overhead;

ZN_INTERNAL void zn_monitor_get_overhead(zn_monitor *m, zn_monitor_overhead *out);

#endif
