/* The probe interface (redis ae_*.c style: one file per probe and OS, chosen at
 * build time), the file helpers every probe reads /proc and /sys with, and
 * the pure parsers of /proc and /sys text, exposed so tests can feed them
 * captured files. Nothing here allocates while sampling. */
#ifndef ZN_MONITOR_PROBE_H
#define ZN_MONITOR_PROBE_H

#include "monitor/monitor.h"

#define ZN_PROBE_PATH_MAX 512
#define ZN_PROBE_SCRATCH_BYTES (256 * 1024)

/* What a probe sees while it opens: the root prefix, a scratch buffer (the
 * probes run one after another on one thread, so they share it) and the
 * monitor to register channels and sources with. */
typedef struct zn_probe_env {
  const char *root; /* "" for the real system */
  char *scratch;
  size_t scratch_bytes;
  const zn_monitor_options *options;
  zn_monitor *monitor;
  zn_monitor_probe probe; /* the probe being opened */
} zn_probe_env;

typedef struct zn_probe_ops {
  /* Register channels/sources and return its state (NULL allowed when it
   * found nothing: it is then never sampled). Fails only on OOM. */
  zn_status (*open)(zn_probe_env *env, void **state_out);
  /* Write this probe's channels into row (indexed by channel number). */
  void (*sample)(void *state, zn_probe_env *env, zn_time_ns now_ns, double *row);
  void (*close)(void *state);
} zn_probe_ops;

#define ZN_PROBE(ENUM, name) ZN_INTERNAL extern const zn_probe_ops zn_probe_##name##_ops;
#include "monitor/probes.def"
#undef ZN_PROBE

/* Register a channel of env->probe: its index, or -1 when the monitor's
 * channel table is full (the channel is then skipped, and said so). */
ZN_INTERNAL int zn_probe_add_channel(zn_probe_env *env, const char *name, const char *unit, zn_monitor_kind kind,
                                     const char *source);
ZN_INTERNAL void zn_probe_add_source(zn_probe_env *env, const char *name, bool present, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- files ---- */
/* A file kept open and re-read from offset 0 (procfs and sysfs regenerate). */
typedef struct zn_pfile {
  int fd;
} zn_pfile;
#define ZN_PFILE_CLOSED ((zn_pfile){-1})

/* Join root and an absolute path ("/proc/stat") into buf; false if too long. */
ZN_INTERNAL bool zn_probe_path(char *buf, size_t cap, const char *root, const char *path);
ZN_INTERNAL bool zn_pfile_open(zn_pfile *f, const char *root, const char *path);
ZN_INTERNAL void zn_pfile_close(zn_pfile *f);
/* Read the whole file into buf (NUL-terminated, truncated at cap-1); the
 * length, or -1 on error. */
ZN_INTERNAL long zn_pfile_read(zn_pfile *f, char *buf, size_t cap);
/* Read a file holding one integer (sysfs attribute); false if unreadable. */
ZN_INTERNAL bool zn_pfile_read_i64(zn_pfile *f, int64_t *out);
/* One-shot read of root+path; -1 on error (errno kept). */
ZN_INTERNAL long zn_probe_read_file(const char *root, const char *path, char *buf, size_t cap);
/* Read a one-line text attribute, trailing newline stripped; false if unreadable. */
ZN_INTERNAL bool zn_probe_read_line(const char *root, const char *path, char *buf, size_t cap);

/* ---- parsers (pure; tests feed them captured text) ---- */
#define ZN_CPU_MAX_CORES 1024

typedef struct zn_cpu_times {
  uint64_t busy, total; /* jiffies (USER_HZ): total - idle - iowait, and all of them */
} zn_cpu_times;

/* /proc/stat: the aggregate "cpu" line into *all, and "cpuN" lines into
 * cores[N] for N < max_cores, marking present[N]. Returns the number of
 * cpuN lines parsed, or -1 if the aggregate line is missing or malformed. */
ZN_INTERNAL int zn_parse_proc_stat(const char *text, zn_cpu_times *all, zn_cpu_times *cores, bool *present,
                                   int max_cores);
/* Utilisation in % between two snapshots; NaN when total did not advance. */
ZN_INTERNAL double zn_cpu_busy_pct(zn_cpu_times prev, zn_cpu_times cur);
/* /proc/<pid>/stat: utime + stime in clock ticks; false if malformed. */
ZN_INTERNAL bool zn_parse_pid_stat_ticks(const char *text, uint64_t *ticks_out);
/* "Key:   1234 kB" lines (/proc/meminfo, /proc/self/status): the number times
 * 1024 if it says kB; false if the key is missing. */
ZN_INTERNAL bool zn_parse_kv_kb(const char *text, const char *key, uint64_t *bytes_out);

#define ZN_DISK_NAME_MAX 32
typedef struct zn_diskstat {
  char name[ZN_DISK_NAME_MAX];
  uint64_t sectors_read, sectors_written; /* 512-byte units whatever the device */
} zn_diskstat;
/* /proc/diskstats: every line (whole disks and partitions alike) up to max. */
ZN_INTERNAL int zn_parse_diskstats(const char *text, zn_diskstat *out, int max);
/* Names never counted as disks: loop*, ram*, zram*, dm-*, md* (layers over
 * disks that would count the same bytes twice, or memory). */
ZN_INTERNAL bool zn_disk_name_skipped(const char *name);
/* /proc/cpuinfo: "cpu MHz" values in order into mhz[], up to max; the count. */
ZN_INTERNAL int zn_parse_cpuinfo_mhz(const char *text, double *mhz, int max);
/* RAPL energy counter delta in microjoules across at most one wrap; false
 * when it cannot be known (went backwards with no usable range). */
ZN_INTERNAL bool zn_rapl_delta_uj(uint64_t prev, uint64_t cur, uint64_t max_range_uj, uint64_t *delta_out);

#endif
