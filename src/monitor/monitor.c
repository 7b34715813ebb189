/* The monitor object: opens the probes, owns the sample buffer, runs the
 * sampler thread and summarises time windows of samples.
 *
 * DESIGN (redis bio.c style)
 * - Ownership. The monitor owns everything: the channel table and sources
 *   (filled by the probes during create, read-only afterwards), one staging
 *   row, and the sample buffer of `capacity` rows allocated in create. The
 *   sampler never allocates: probes read into the monitor's scratch buffer
 *   and write the staging row, which is copied into the buffer under `lock`.
 *   (libsensors, when used, does its own stdio per read; see monitor.md.)
 * - Threads. One sampler thread, started by zn_monitor_start. Only it (or,
 *   while it is not running, the caller of zn_monitor_sample_now) touches the
 *   probes, the scratch buffer and the staging row. Readers (num_samples,
 *   sample_get, summarize, marks, overhead) take `lock`, which the sampler
 *   holds only to commit one row, so it never blocks the measured threads
 *   beyond a memcpy and never waits on a reader for long.
 * - Ordering. Samples are kept in time order (strictly increasing
 *   timestamps, CLOCK_MONOTONIC as zn_now_ns). Deadlines are absolute
 *   (start + k * interval); a late sample skips the ticks it missed rather
 *   than bunching up. When the buffer is full, new samples are dropped (or,
 *   with overwrite_oldest, the oldest) and num_dropped says how many.
 * - Shutdown. zn_monitor_stop sets stop_requested under `lock` and signals
 *   `wake`; the thread wakes from its timed wait at once, finishes no further
 *   sample and exits; stop joins it. destroy stops first, then closes the
 *   probes in reverse order and frees. */
#include "monitor/monitor.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/status.h"
#include "monitor/probe.h"

#define MAX_CHANNELS 1024
#define MAX_SOURCES 64
#define MAX_MARKS 1024
#define MARK_LABEL_BYTES 64

static const char *const probe_names[] = {
#define ZN_PROBE(ENUM, name) #name,
#include "monitor/probes.def"
#undef ZN_PROBE
};

/* Probes are chosen at build time: the Linux files define these tables;
 * elsewhere a probe reports itself absent. */
#if defined(__linux__)
static const zn_probe_ops *const probe_ops[] = {
#define ZN_PROBE(ENUM, name) &zn_probe_##name##_ops,
#include "monitor/probes.def"
#undef ZN_PROBE
};
#else
static const zn_probe_ops *const probe_ops[ZN_MONITOR_PROBE_COUNT] = {0};
#endif

struct zn_monitor {
  char root[256];
  char nvml_library[256];
  zn_monitor_options options; /* root and nvml_library point at the copies above */

  zn_monitor_channel *channels; /* MAX_CHANNELS slots, num_channels used */
  size_t num_channels;
  size_t channels_skipped;
  zn_monitor_source_info sources[MAX_SOURCES];
  size_t num_sources;
  void *probe_state[ZN_MONITOR_PROBE_COUNT];
  bool probe_opened[ZN_MONITOR_PROBE_COUNT];
  zn_probe_env env;
  char *scratch;
  double *staging;
  int idx_self, idx_other, idx_power;

  pthread_mutex_t lock;
  bool lock_ready;
  /* --- guarded by lock --- */
  zn_time_ns *times;
  double *values; /* capacity x num_channels */
  size_t capacity, head, count;
  uint64_t dropped;
  bool warned_full;
  zn_time_ns last_t;
  zn_time_ns mark_t[MAX_MARKS];
  char mark_label[MAX_MARKS][MARK_LABEL_BYTES];
  size_t num_marks;
  zn_monitor_overhead overhead;
  zn_time_ns start_ns;
  bool stop_requested;
  /* --- */
  pthread_cond_t wake;
  bool wake_ready;
  pthread_t thread;
  bool running; /* written by start/stop under lock; they run on the owner's thread */
};

const char *zn_monitor_probe_name(zn_monitor_probe probe) {
  if ((unsigned)probe >= ZN_MONITOR_PROBE_COUNT) return "unknown";
  return probe_names[probe];
}

zn_monitor_options zn_monitor_options_default(void) {
  zn_monitor_options o;
  memset(&o, 0, sizeof o);
  o.interval_ms = 100;
  o.capacity = 36000;
  return o;
}

/* ---- registration (called by probes during create) ---- */

int zn_probe_add_channel(zn_probe_env *env, const char *name, const char *unit, zn_monitor_kind kind,
                         const char *source) {
  zn_monitor *m = env->monitor;
  if (m->num_channels >= MAX_CHANNELS) {
    if (m->channels_skipped++ == 0)
      zn_log_warn("monitor: more than %d channels; %s and later ones are not recorded", MAX_CHANNELS, name);
    return -1;
  }
  zn_monitor_channel *c = &m->channels[m->num_channels];
  memset(c, 0, sizeof *c);
  snprintf(c->name, sizeof c->name, "%s", name);
  snprintf(c->unit, sizeof c->unit, "%s", unit);
  snprintf(c->source, sizeof c->source, "%s", source ? source : "");
  c->probe = env->probe;
  c->kind = kind;
  return (int)m->num_channels++;
}

void zn_probe_add_source(zn_probe_env *env, const char *name, bool present, const char *fmt, ...) {
  zn_monitor *m = env->monitor;
  if (m->num_sources >= MAX_SOURCES) return;
  zn_monitor_source_info *s = &m->sources[m->num_sources++];
  memset(s, 0, sizeof *s);
  s->probe = env->probe;
  snprintf(s->name, sizeof s->name, "%s", name);
  s->present = present;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->detail, sizeof s->detail, fmt, ap);
  va_end(ap);
}

/* ---- create / destroy ---- */

void zn_monitor_destroy(zn_monitor *m) {
  if (!m) return;
  zn_monitor_stop(m);
  for (int p = ZN_MONITOR_PROBE_COUNT - 1; p >= 0; p--)
    if (m->probe_opened[p] && m->probe_state[p] && probe_ops[p]) probe_ops[p]->close(m->probe_state[p]);
  if (m->wake_ready) pthread_cond_destroy(&m->wake);
  if (m->lock_ready) pthread_mutex_destroy(&m->lock);
  zn_free(m->channels);
  zn_free(m->scratch);
  zn_free(m->staging);
  zn_free(m->times);
  zn_free(m->values);
  zn_free(m);
}

zn_status zn_monitor_create(const zn_monitor_options *options, zn_monitor **out) {
  if (!out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create monitor: out is NULL");
  *out = NULL;
  zn_monitor_options o = options ? *options : zn_monitor_options_default();
  if (o.interval_ms == 0) o.interval_ms = 100;
  if (o.capacity == 0) o.capacity = 36000;
  if (o.interval_ms > 3600 * 1000)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create monitor: interval %u ms is over an hour", o.interval_ms);
  if (o.probes != 0 && (o.probes >> ZN_MONITOR_PROBE_COUNT) != 0)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create monitor: unknown probe bits 0x%x", o.probes);
  const char *root = o.root ? o.root : "";
  if (strlen(root) >= 256)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create monitor: root path longer than 255 bytes");
  const char *nvml = o.nvml_library ? o.nvml_library : "libnvidia-ml.so.1";
  if (strlen(nvml) >= 256)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create monitor: nvml_library longer than 255 bytes");

  zn_monitor *m = zn_calloc(1, sizeof *m);
  if (!m) return zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create monitor: out of memory");
  zn_status st = ZN_OK;
  snprintf(m->root, sizeof m->root, "%s", root);
  /* "/" means the real system too; strip trailing slashes so paths join. */
  size_t rl = strlen(m->root);
  while (rl > 0 && m->root[rl - 1] == '/') m->root[--rl] = '\0';
  snprintf(m->nvml_library, sizeof m->nvml_library, "%s", nvml);
  m->options = o;
  m->options.root = m->root;
  m->options.nvml_library = m->nvml_library;
  m->idx_self = m->idx_other = m->idx_power = -1;

  if (pthread_mutex_init(&m->lock, NULL) != 0) {
    st = zn_error(ZN_ERR_INTERNAL, "failed to create monitor: pthread_mutex_init failed");
    goto fail;
  }
  m->lock_ready = true;
  pthread_condattr_t ca;
  if (pthread_condattr_init(&ca) != 0) {
    st = zn_error(ZN_ERR_INTERNAL, "failed to create monitor: pthread_condattr_init failed");
    goto fail;
  }
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  int rc = pthread_cond_init(&m->wake, &ca);
  pthread_condattr_destroy(&ca);
  if (rc != 0) {
    st = zn_error(ZN_ERR_INTERNAL, "failed to create monitor: pthread_cond_init failed");
    goto fail;
  }
  m->wake_ready = true;

  m->channels = zn_calloc(MAX_CHANNELS, sizeof *m->channels);
  m->scratch = zn_malloc(ZN_PROBE_SCRATCH_BYTES);
  if (!m->channels || !m->scratch) goto oom;
  m->env.root = m->root;
  m->env.scratch = m->scratch;
  m->env.scratch_bytes = ZN_PROBE_SCRATCH_BYTES;
  m->env.options = &m->options;
  m->env.monitor = m;

  for (int p = 0; p < ZN_MONITOR_PROBE_COUNT; p++) {
    if (o.probes != 0 && !(o.probes & (1u << p))) continue;
    m->env.probe = (zn_monitor_probe)p;
    if (!probe_ops[p]) {
      zn_probe_add_source(&m->env, probe_names[p], false, "not supported on this operating system");
      continue;
    }
    st = probe_ops[p]->open(&m->env, &m->probe_state[p]);
    if (st != ZN_OK) {
      zn_error_prefix(st, "failed to open monitor probe %s: ", probe_names[p]);
      goto fail;
    }
    m->probe_opened[p] = true;
  }
  m->idx_self = zn_monitor_channel_find(m, ZN_MONITOR_CPU_SELF_CORES);
  m->idx_other = zn_monitor_channel_find(m, ZN_MONITOR_CPU_OTHER_CORES);
  m->idx_power = zn_monitor_channel_find(m, ZN_MONITOR_POWER_TOTAL);

  size_t row = m->num_channels ? m->num_channels : 1, cells, bytes;
  m->capacity = o.capacity;
  if (!zn_size_mul(m->capacity, row, &cells) || !zn_size_mul(cells, sizeof(double), &bytes)) {
    st = zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to create monitor: capacity %u x %zu channels overflows", o.capacity,
                  m->num_channels);
    goto fail;
  }
  m->values = zn_malloc(bytes);
  m->times = zn_calloc(m->capacity, sizeof *m->times);
  m->staging = zn_calloc(row, sizeof *m->staging);
  if (!m->values || !m->times || !m->staging) goto oom;
  *out = m;
  return ZN_OK;
oom:
  st = zn_error(ZN_ERR_OUT_OF_MEMORY, "failed to create monitor: out of memory (capacity %u samples)", o.capacity);
fail:
  zn_monitor_destroy(m);
  return st;
}

/* ---- sampling ---- */

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read every probe into the staging row, then commit it. Caller holds no lock. */
static void take_sample(zn_monitor *m, zn_time_ns t) {
  int64_t c0 = thread_cpu_ns();
  for (size_t c = 0; c < m->num_channels; c++) m->staging[c] = NAN;
  for (int p = 0; p < ZN_MONITOR_PROBE_COUNT; p++)
    if (m->probe_opened[p] && m->probe_state[p]) probe_ops[p]->sample(m->probe_state[p], &m->env, t, m->staging);
  int64_t cost = thread_cpu_ns() - c0;

  pthread_mutex_lock(&m->lock);
  size_t slot = SIZE_MAX;
  if (m->count < m->capacity) {
    slot = (m->head + m->count) % m->capacity;
    m->count++;
  } else if (m->options.overwrite_oldest) {
    slot = m->head;
    m->head = (m->head + 1) % m->capacity;
    m->dropped++;
  } else {
    m->dropped++;
    if (!m->warned_full) {
      m->warned_full = true;
      zn_log_warn("monitor: sample buffer full (%zu samples); later samples are dropped", m->capacity);
    }
  }
  if (slot != SIZE_MAX) {
    m->times[slot] = t;
    if (m->num_channels) memcpy(m->values + slot * m->num_channels, m->staging, m->num_channels * sizeof(double));
  }
  m->last_t = t;
  m->overhead.num_samples++;
  m->overhead.sample_cpu_ns_total += cost;
  if (cost > m->overhead.sample_cpu_ns_max) m->overhead.sample_cpu_ns_max = cost;
  pthread_mutex_unlock(&m->lock);
}

static void *sampler_main(void *arg) {
  zn_monitor *m = arg;
  int64_t cpu0 = thread_cpu_ns();
  const zn_time_ns interval = (zn_time_ns)m->options.interval_ms * 1000000;
  zn_time_ns next = zn_now_ns();
  pthread_mutex_lock(&m->lock);
  while (!m->stop_requested) {
    pthread_mutex_unlock(&m->lock);
    zn_time_ns now = zn_now_ns();
    pthread_mutex_lock(&m->lock);
    bool later = now > m->last_t;
    pthread_mutex_unlock(&m->lock);
    if (later) take_sample(m, now);
    now = zn_now_ns();
    next += interval;
    if (next <= now) next += ((now - next) / interval + 1) * interval; /* skip missed ticks */
    struct timespec ts = {(time_t)(next / 1000000000), (long)(next % 1000000000)};
    pthread_mutex_lock(&m->lock);
    while (!m->stop_requested) {
      int rc = pthread_cond_timedwait(&m->wake, &m->lock, &ts);
      if (rc == ETIMEDOUT) break;
    }
  }
  m->overhead.thread_cpu_ns += thread_cpu_ns() - cpu0; /* summed over start/stop runs */
  pthread_mutex_unlock(&m->lock);
  return NULL;
}

zn_status zn_monitor_start(zn_monitor *m) {
  if (!m) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to start monitor: monitor is NULL");
  if (m->running) return zn_error(ZN_ERR_INVALID_STATE, "failed to start monitor: already running");
  pthread_mutex_lock(&m->lock);
  m->stop_requested = false;
  m->start_ns = zn_now_ns();
  pthread_mutex_unlock(&m->lock);
  int rc = pthread_create(&m->thread, NULL, sampler_main, m);
  if (rc != 0) return zn_error(ZN_ERR_INTERNAL, "failed to start monitor: pthread_create: %s", strerror(rc));
  pthread_mutex_lock(&m->lock);
  m->running = true;
  pthread_mutex_unlock(&m->lock);
  return ZN_OK;
}

zn_status zn_monitor_stop(zn_monitor *m) {
  if (!m || !m->running) return ZN_OK;
  pthread_mutex_lock(&m->lock);
  m->stop_requested = true;
  pthread_cond_signal(&m->wake);
  pthread_mutex_unlock(&m->lock);
  pthread_join(m->thread, NULL);
  pthread_mutex_lock(&m->lock);
  m->running = false;
  m->overhead.thread_wall_ns += zn_now_ns() - m->start_ns;
  pthread_mutex_unlock(&m->lock);
  return ZN_OK;
}

zn_status zn_monitor_sample_at(zn_monitor *m, zn_time_ns t_ns) {
  if (!m) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to sample monitor: monitor is NULL");
  if (m->running) return zn_error(ZN_ERR_INVALID_STATE, "failed to sample monitor: the sampler thread is running");
  pthread_mutex_lock(&m->lock);
  bool ok = m->overhead.num_samples == 0 || t_ns > m->last_t;
  pthread_mutex_unlock(&m->lock);
  if (!ok)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to sample monitor: time %lld ns is not after the last sample",
                    (long long)t_ns);
  take_sample(m, t_ns);
  return ZN_OK;
}

zn_status zn_monitor_sample_now(zn_monitor *m) { return zn_monitor_sample_at(m, zn_now_ns()); }

zn_status zn_monitor_mark(zn_monitor *m, const char *label) {
  if (!m || !label) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to mark monitor: NULL argument");
  zn_time_ns t = zn_now_ns();
  zn_status st = ZN_OK;
  pthread_mutex_lock(&m->lock);
  if (m->num_marks >= MAX_MARKS) {
    st = zn_error(ZN_ERR_BUSY, "failed to mark monitor \"%s\": all %d marks used", label, MAX_MARKS);
  } else {
    m->mark_t[m->num_marks] = t;
    snprintf(m->mark_label[m->num_marks], MARK_LABEL_BYTES, "%s", label);
    m->num_marks++;
  }
  pthread_mutex_unlock(&m->lock);
  return st;
}

size_t zn_monitor_num_marks(zn_monitor *m) {
  pthread_mutex_lock(&m->lock);
  size_t n = m->num_marks;
  pthread_mutex_unlock(&m->lock);
  return n;
}

zn_status zn_monitor_get_mark(zn_monitor *m, size_t i, zn_time_ns *t_out, const char **label_out) {
  pthread_mutex_lock(&m->lock);
  size_t n = m->num_marks;
  if (i < n) {
    if (t_out) *t_out = m->mark_t[i];
    if (label_out) *label_out = m->mark_label[i];
  }
  pthread_mutex_unlock(&m->lock);
  if (i >= n) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to get monitor mark %zu: only %zu marks", i, n);
  return ZN_OK;
}

/* ---- channels and sources ---- */

size_t zn_monitor_num_channels(const zn_monitor *m) { return m->num_channels; }

const zn_monitor_channel *zn_monitor_channel_at(const zn_monitor *m, size_t i) {
  return i < m->num_channels ? &m->channels[i] : NULL;
}

int zn_monitor_channel_find(const zn_monitor *m, const char *name) {
  for (size_t i = 0; i < m->num_channels; i++)
    if (strcmp(m->channels[i].name, name) == 0) return (int)i;
  return -1;
}

size_t zn_monitor_num_sources(const zn_monitor *m) { return m->num_sources; }

const zn_monitor_source_info *zn_monitor_source(const zn_monitor *m, size_t i) {
  return i < m->num_sources ? &m->sources[i] : NULL;
}

bool zn_monitor_probe_present(const zn_monitor *m, zn_monitor_probe probe) {
  for (size_t i = 0; i < m->num_channels; i++)
    if (m->channels[i].probe == probe) return true;
  return false;
}

/* ---- samples ---- */

size_t zn_monitor_num_samples(zn_monitor *m) {
  pthread_mutex_lock(&m->lock);
  size_t n = m->count;
  pthread_mutex_unlock(&m->lock);
  return n;
}

uint64_t zn_monitor_num_dropped(zn_monitor *m) {
  pthread_mutex_lock(&m->lock);
  uint64_t n = m->dropped;
  pthread_mutex_unlock(&m->lock);
  return n;
}

zn_status zn_monitor_sample_get(zn_monitor *m, size_t i, zn_time_ns *t_out, double *values_out) {
  pthread_mutex_lock(&m->lock);
  size_t n = m->count;
  if (i < n) {
    size_t slot = (m->head + i) % m->capacity;
    if (t_out) *t_out = m->times[slot];
    if (values_out && m->num_channels)
      memcpy(values_out, m->values + slot * m->num_channels, m->num_channels * sizeof(double));
  }
  pthread_mutex_unlock(&m->lock);
  if (i >= n) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to get monitor sample %zu: only %zu samples", i, n);
  return ZN_OK;
}

typedef struct acc {
  double sum, min, max, integral, covered_s;
  uint32_t n;
} acc;

static void acc_value(acc *a, double v) {
  if (a->n == 0 || v < a->min) a->min = v;
  if (a->n == 0 || v > a->max) a->max = v;
  a->n++;
}

zn_status zn_monitor_summarize(zn_monitor *m, zn_time_ns t0, zn_time_ns t1, zn_monitor_summary *out,
                               zn_monitor_stat *stats, size_t num_stats) {
  if (!m || !out) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to summarize monitor: NULL argument");
  if (t1 < t0) return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to summarize monitor: window ends before it starts");
  if (stats && num_stats < m->num_channels)
    return zn_error(ZN_ERR_INVALID_ARGUMENT, "failed to summarize monitor: stats holds %zu entries, need %zu",
                    num_stats, m->num_channels);
  const size_t nc = m->num_channels;
  acc local[3];
  memset(local, 0, sizeof local);
  const int want[3] = {m->idx_self, m->idx_other, m->idx_power};
  memset(out, 0, sizeof *out);
  out->t0_ns = t0;
  out->t1_ns = t1;
  if (stats) memset(stats, 0, nc * sizeof *stats);

  pthread_mutex_lock(&m->lock);
  const size_t count = m->count, cap = m->capacity, head = m->head;
#define T(i) (m->times[(head + (i)) % cap])
#define V(i, c) (m->values[((head + (i)) % cap) * nc + (c)])
  /* First sample at or after t0 (binary search; times increase). */
  size_t lo = 0, hi = count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (T(mid) < t0)
      lo = mid + 1;
    else
      hi = mid;
  }
  size_t begin = lo > 0 ? lo - 1 : 0; /* the interval ending at lo starts before t0 */
  for (size_t i = lo; i < count && T(i) <= t1; i++) out->num_samples++;

  for (size_t c = 0; c < nc; c++) {
    acc a;
    memset(&a, 0, sizeof a);
    const bool rate = m->channels[c].kind == ZN_MONITOR_RATE;
    for (size_t i = begin; i < count; i++) {
      zn_time_ns ti = T(i);
      if (i > 0 && T(i - 1) > t1) break;
      double v = V(i, c);
      if (rate) {
        /* v is the mean over (t_{i-1}, t_i]; count the part inside the window. */
        if (i == 0 || isnan(v)) continue;
        zn_time_ns a0 = ZN_MAX(T(i - 1), t0), a1 = ZN_MIN(ti, t1);
        if (a1 <= a0) continue;
        double s = (double)(a1 - a0) * 1e-9;
        a.integral += v * s;
        a.covered_s += s;
        acc_value(&a, v);
      } else {
        if (ti >= t0 && ti <= t1 && !isnan(v)) {
          a.sum += v;
          acc_value(&a, v);
        }
        /* Piecewise-linear between consecutive readings, clipped to the window. */
        if (i > 0 && !isnan(v) && !isnan(V(i - 1, c))) {
          zn_time_ns ta = T(i - 1);
          double va = V(i - 1, c);
          zn_time_ns a0 = ZN_MAX(ta, t0), a1 = ZN_MIN(ti, t1);
          if (a1 > a0 && ti > ta) {
            double f0 = (double)(a0 - ta) / (double)(ti - ta), f1 = (double)(a1 - ta) / (double)(ti - ta);
            double v0 = va + (v - va) * f0, v1 = va + (v - va) * f1;
            a.integral += 0.5 * (v0 + v1) * (double)(a1 - a0) * 1e-9;
          }
        }
      }
    }
    double mean = NAN;
    if (a.n > 0) mean = rate ? (a.covered_s > 0 ? a.integral / a.covered_s : NAN) : a.sum / a.n;
    if (stats) {
      stats[c].mean = mean;
      stats[c].min = a.n ? a.min : NAN;
      stats[c].max = a.n ? a.max : NAN;
      stats[c].integral = a.n ? a.integral : NAN;
      stats[c].num_values = a.n;
    }
    for (int k = 0; k < 3; k++)
      if (want[k] == (int)c) {
        local[k] = a;
        local[k].sum = mean;
      }
  }
#undef T
#undef V
  pthread_mutex_unlock(&m->lock);
  out->self_cpu_s = (m->idx_self >= 0 && local[0].n) ? local[0].integral : NAN;
  out->other_cpu_s = (m->idx_other >= 0 && local[1].n) ? local[1].integral : NAN;
  out->energy_j = (m->idx_power >= 0 && local[2].n) ? local[2].integral : NAN;
  out->power_mean_w = (m->idx_power >= 0 && local[2].n) ? local[2].sum : NAN;
  return ZN_OK;
}

void zn_monitor_get_overhead(zn_monitor *m, zn_monitor_overhead *out) {
  pthread_mutex_lock(&m->lock);
  *out = m->overhead;
  if (m->running) out->thread_wall_ns += zn_now_ns() - m->start_ns; /* the run in progress */
  pthread_mutex_unlock(&m->lock);
}
