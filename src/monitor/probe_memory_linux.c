/* Memory probe for Linux: this process's resident set and its peak (VmRSS,
 * VmHWM from /proc/self/status) and the system's memory in use (MemTotal -
 * MemAvailable from /proc/meminfo; MemAvailable exists since Linux 3.14 and
 * its channel is absent before that rather than guessed). */
#if defined(__linux__)
#include "core/alloc.h"
#include "core/status.h"
#include "monitor/probe.h"

typedef struct memory_state {
  zn_pfile status, meminfo;
  int idx_rss, idx_hwm, idx_used, idx_avail, idx_total;
} memory_state;

static void memory_close(void *p) {
  memory_state *s = p;
  if (!s) return;
  zn_pfile_close(&s->status);
  zn_pfile_close(&s->meminfo);
  zn_free(s);
}

static zn_status memory_open(zn_probe_env *env, void **state_out) {
  *state_out = NULL;
  memory_state *s = zn_calloc(1, sizeof *s);
  if (!s) return zn_error(ZN_ERR_OUT_OF_MEMORY, "out of memory");
  s->status = s->meminfo = ZN_PFILE_CLOSED;
  s->idx_rss = s->idx_hwm = s->idx_used = s->idx_avail = s->idx_total = -1;
  uint64_t v;
  if (zn_pfile_open(&s->status, env->root, "/proc/self/status") &&
      zn_pfile_read(&s->status, env->scratch, env->scratch_bytes) > 0) {
    bool rss = zn_parse_kv_kb(env->scratch, "VmRSS", &v), hwm = zn_parse_kv_kb(env->scratch, "VmHWM", &v);
    zn_probe_add_source(env, "/proc/self/status", rss, "%s%s", rss ? "VmRSS" : "no VmRSS line",
                        hwm ? ", VmHWM" : ", no VmHWM line");
    if (rss)
      s->idx_rss = zn_probe_add_channel(env, ZN_MONITOR_MEM_RSS, "bytes", ZN_MONITOR_GAUGE, "/proc/self/status VmRSS");
    if (hwm)
      s->idx_hwm =
          zn_probe_add_channel(env, ZN_MONITOR_MEM_RSS_PEAK, "bytes", ZN_MONITOR_GAUGE, "/proc/self/status VmHWM");
  } else {
    zn_probe_add_source(env, "/proc/self/status", false, "unreadable");
  }
  if (s->idx_rss < 0 && s->idx_hwm < 0) zn_pfile_close(&s->status);

  if (zn_pfile_open(&s->meminfo, env->root, "/proc/meminfo") &&
      zn_pfile_read(&s->meminfo, env->scratch, env->scratch_bytes) > 0) {
    bool total = zn_parse_kv_kb(env->scratch, "MemTotal", &v), avail = zn_parse_kv_kb(env->scratch, "MemAvailable", &v);
    zn_probe_add_source(env, "/proc/meminfo", total && avail, "%s",
                        total && avail ? "MemTotal, MemAvailable"
                        : total        ? "no MemAvailable (Linux < 3.14)"
                                       : "no MemTotal line");
    if (total)
      s->idx_total = zn_probe_add_channel(env, "memory.system_total_bytes", "bytes", ZN_MONITOR_GAUGE, "/proc/meminfo");
    if (total && avail) {
      s->idx_used = zn_probe_add_channel(env, ZN_MONITOR_MEM_SYSTEM_USED, "bytes", ZN_MONITOR_GAUGE,
                                         "/proc/meminfo MemTotal - MemAvailable");
      s->idx_avail = zn_probe_add_channel(env, "memory.system_available_bytes", "bytes", ZN_MONITOR_GAUGE,
                                          "/proc/meminfo MemAvailable");
    }
  } else {
    zn_probe_add_source(env, "/proc/meminfo", false, "unreadable");
  }
  if (s->idx_total < 0) zn_pfile_close(&s->meminfo);
  if (s->status.fd < 0 && s->meminfo.fd < 0) {
    memory_close(s);
    return ZN_OK;
  }
  *state_out = s;
  return ZN_OK;
}

static void memory_sample(void *p, zn_probe_env *env, zn_time_ns now, double *row) {
  memory_state *s = p;
  uint64_t v, total, avail;
  if (s->status.fd >= 0 && zn_pfile_read(&s->status, env->scratch, env->scratch_bytes) > 0) {
    if (s->idx_rss >= 0 && zn_parse_kv_kb(env->scratch, "VmRSS", &v)) row[s->idx_rss] = (double)v;
    if (s->idx_hwm >= 0 && zn_parse_kv_kb(env->scratch, "VmHWM", &v)) row[s->idx_hwm] = (double)v;
  }
  if (s->meminfo.fd >= 0 && zn_pfile_read(&s->meminfo, env->scratch, env->scratch_bytes) > 0 &&
      zn_parse_kv_kb(env->scratch, "MemTotal", &total)) {
    row[s->idx_total] = (double)total;
    if (s->idx_used >= 0 && zn_parse_kv_kb(env->scratch, "MemAvailable", &avail)) {
      row[s->idx_used] = (double)(total - (avail < total ? avail : total));
      row[s->idx_avail] = (double)avail;
    }
  }
}

const zn_probe_ops zn_probe_memory_ops = {memory_open, memory_sample, memory_close};
#endif
