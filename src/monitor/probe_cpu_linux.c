/* CPU probe for Linux: utilisation in % of all cores and of each core from
 * /proc/stat deltas, this process's CPU use from /proc/self/stat, and the CPU
 * time everyone else used (machine busy minus ours, steal included) so the
 * bench can flag repetitions disturbed by foreign load. */
#if defined(__linux__)
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/status.h"
#include "monitor/probe.h"

typedef struct cpu_state {
  zn_pfile stat, self;
  int num_cores; /* cpuN lines seen at open (N < num_cores) */
  int idx_total, idx_self, idx_other, idx_core0;
  double ticks_per_s;
  bool have_prev;
  zn_time_ns prev_t;
  zn_cpu_times prev_all;
  uint64_t prev_self;
  bool prev_self_ok;
  zn_cpu_times *prev_cores, *cur_cores;
  bool *prev_present, *cur_present;
} cpu_state;

static void cpu_close(void *p) {
  cpu_state *s = p;
  if (!s) return;
  zn_pfile_close(&s->stat);
  zn_pfile_close(&s->self);
  zn_free(s->prev_cores);
  zn_free(s->cur_cores);
  zn_free(s->prev_present);
  zn_free(s->cur_present);
  zn_free(s);
}

static zn_status cpu_open(zn_probe_env *env, void **state_out) {
  *state_out = NULL;
  cpu_state *s = zn_calloc(1, sizeof *s);
  if (!s) return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  s->stat = s->self = ZN_PFILE_CLOSED;
  s->idx_total = s->idx_self = s->idx_other = s->idx_core0 = -1;
  long hz = sysconf(_SC_CLK_TCK);
  s->ticks_per_s = hz > 0 ? (double)hz : 100.0;
  s->prev_cores = zn_calloc(ZN_CPU_MAX_CORES, sizeof *s->prev_cores);
  s->cur_cores = zn_calloc(ZN_CPU_MAX_CORES, sizeof *s->cur_cores);
  s->prev_present = zn_calloc(ZN_CPU_MAX_CORES, sizeof *s->prev_present);
  s->cur_present = zn_calloc(ZN_CPU_MAX_CORES, sizeof *s->cur_present);
  if (!s->prev_cores || !s->cur_cores || !s->prev_present || !s->cur_present) {
    cpu_close(s);
    return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  }

  zn_cpu_times all;
  long n = -1;
  if (zn_pfile_open(&s->stat, env->root, "/proc/stat")) n = zn_pfile_read(&s->stat, env->scratch, env->scratch_bytes);
  int cores = n > 0 ? zn_parse_proc_stat(env->scratch, &all, s->cur_cores, s->cur_present, ZN_CPU_MAX_CORES) : -1;
  if (cores < 0) {
    zn_probe_add_source(env, "/proc/stat", false, "%s", n < 0 ? "unreadable" : "no aggregate cpu line");
    cpu_close(s);
    return ZN_OK;
  }
  for (int i = 0; i < ZN_CPU_MAX_CORES; i++)
    if (s->cur_present[i]) s->num_cores = i + 1;
  zn_probe_add_source(env, "/proc/stat", true, "%d cores, %.0f ticks/s", s->num_cores, s->ticks_per_s);
  s->idx_total = zn_probe_add_channel(env, ZN_MONITOR_CPU_TOTAL_PCT, "%", ZN_MONITOR_RATE, "/proc/stat");
  for (int i = 0; i < s->num_cores; i++) {
    char name[64];
    snprintf(name, sizeof name, "cpu.core%d_pct", i);
    int idx = zn_probe_add_channel(env, name, "%", ZN_MONITOR_RATE, "/proc/stat");
    if (i == 0) s->idx_core0 = idx;
    if (idx < 0) { /* table full: keep the cores registered so far */
      s->num_cores = i;
      break;
    }
  }
  uint64_t ticks;
  if (zn_pfile_open(&s->self, env->root, "/proc/self/stat") &&
      zn_pfile_read(&s->self, env->scratch, env->scratch_bytes) > 0 && zn_parse_pid_stat_ticks(env->scratch, &ticks)) {
    zn_probe_add_source(env, "/proc/self/stat", true, "utime + stime of this process");
    s->idx_self = zn_probe_add_channel(env, ZN_MONITOR_CPU_SELF_CORES, "cores", ZN_MONITOR_RATE, "/proc/self/stat");
    s->idx_other = zn_probe_add_channel(env, ZN_MONITOR_CPU_OTHER_CORES, "cores", ZN_MONITOR_RATE,
                                        "/proc/stat busy - /proc/self/stat");
  } else {
    zn_pfile_close(&s->self);
    zn_probe_add_source(env, "/proc/self/stat", false, "unreadable: no per-process or foreign-load figures");
  }
  *state_out = s;
  return ZN_OK;
}

static void cpu_sample(void *p, zn_probe_env *env, zn_time_ns now, double *row) {
  cpu_state *s = p;
  zn_cpu_times all;
  uint64_t self = 0;
  bool self_ok = false, all_ok = false;
  /* Read both files back to back so the two counts cover the same span. */
  if (zn_pfile_read(&s->stat, env->scratch, env->scratch_bytes) > 0)
    all_ok = zn_parse_proc_stat(env->scratch, &all, s->cur_cores, s->cur_present, s->num_cores) >= 0;
  if (s->idx_self >= 0 && zn_pfile_read(&s->self, env->scratch, env->scratch_bytes) > 0)
    self_ok = zn_parse_pid_stat_ticks(env->scratch, &self);
  if (!all_ok) {
    s->have_prev = false; /* the next good read starts a new interval */
    return;
  }
  if (s->have_prev && now > s->prev_t) {
    double dt_s = (double)(now - s->prev_t) * 1e-9;
    if (s->idx_total >= 0) row[s->idx_total] = zn_cpu_busy_pct(s->prev_all, all);
    for (int i = 0; i < s->num_cores; i++)
      if (s->cur_present[i] && s->prev_present[i])
        row[s->idx_core0 + i] = zn_cpu_busy_pct(s->prev_cores[i], s->cur_cores[i]);
    if (self_ok && s->prev_self_ok && self >= s->prev_self && all.busy >= s->prev_all.busy) {
      double self_ticks = (double)(self - s->prev_self);
      double busy_ticks = (double)(all.busy - s->prev_all.busy);
      row[s->idx_self] = self_ticks / s->ticks_per_s / dt_s;
      /* Jiffy sampling makes the two counts disagree by a tick or so; other
       * processes cannot have used negative time, so clamp at 0. */
      double other = busy_ticks - self_ticks;
      row[s->idx_other] = (other > 0 ? other : 0) / s->ticks_per_s / dt_s;
    }
  }
  s->prev_all = all;
  s->prev_self = self;
  s->prev_self_ok = self_ok;
  s->prev_t = now;
  s->have_prev = true;
  zn_cpu_times *t = s->prev_cores;
  s->prev_cores = s->cur_cores;
  s->cur_cores = t;
  bool *b = s->prev_present;
  s->prev_present = s->cur_present;
  s->cur_present = b;
}

const zn_probe_ops zn_probe_cpu_ops = {cpu_open, cpu_sample, cpu_close};
#endif
